// SPDX-License-Identifier: MIT
/*
 * The virtio-balloon check (virtio 1.2 section 5.5), by polling: inflate to
 * the device's target (num_pages) with pages of free RAM, wait for the
 * host to lower the target (balloon_wait=S seconds, default 30; 0: skip),
 * deflate and check that the returned pages read as zero (balloon_zero=0:
 * only report), then, with VIRTIO_BALLOON_F_REPORTING, report 4 MiB of free
 * RAM (a chain of device-writable descriptors, one per range, as Linux
 * posts them) and check that it reads as zero too. With VIRTIO_BALLOON_F_STATS_VQ a
 * statistics buffer is posted at the start and refilled and posted again
 * whenever the device returns it.
 *
 * Queues are numbered as Linux does, without gaps: inflateq 0, deflateq 1,
 * then statsq and the reporting queue, each only when negotiated.
 */
#include "virtio.h"

#define BALLOON_F_STATS_VQ	1
#define BALLOON_F_DEFLATE_ON_OOM 2
#define BALLOON_F_REPORTING	5
#define BALLOON_F_MASK		0xffffffULL	/* device-specific bits 0-23 */

#define CFG_NUM_PAGES		0
#define CFG_ACTUAL		4

#define BALLOON_PAGE		4096ULL
#define PFNS_PER_BUF		256
#define USED_TIMEOUT_US		10000000
#define POLL_US			10000
#define WAIT_MAX_S		3600

#define REPORT_BYTES		(4ULL << 20)
#define REPORT_CHUNKS		4
#define ALIGN_2M		(2ULL << 20)

#define PATTERN			0x6b5a4d3c2e1f0a99ULL

enum {
	S_SWAP_IN, S_SWAP_OUT, S_MAJFLT, S_MINFLT, S_MEMFREE, S_MEMTOT,
	S_AVAIL, S_CACHES, S_HTLB_PGALLOC, S_HTLB_PGFAIL, S_NR
};

struct balloon_stat {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

enum { Q_INFLATE, Q_DEFLATE, Q_STATS, Q_REPORT, Q_NR };

struct balloon {
	struct virtio_dev *d;
	struct virtq vq[Q_NR];
	int has[Q_NR];
	uint64_t feat;
	struct balloon_stat *stats;
	uint32_t *pfns;
	uint64_t base;			/* balloon pages: base + i * 4096 */
	uint64_t report;		/* the 4 MiB reported free */
	uint64_t memtot;
	uint32_t held;			/* pages in the balloon */
	uint64_t refills, returned;
};

static struct balloon bl;

static uint64_t ram_bytes(void)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < boot.nr_map; i++)
		if (boot.map[i].type == 1)
			n += boot.map[i].size;
	return n;
}

static uint32_t cfg_read(struct balloon *b, uint32_t off)
{
	return b->d->ops->config_read(b->d, off, 4);
}

static void cfg_write(struct balloon *b, uint32_t off, uint32_t v)
{
	b->d->ops->config_write(b->d, off, v, 4);
}

/* Fresh statistics: free memory moves with the balloon and each refill. */
static void stats_fill(struct balloon *b)
{
	uint64_t own = pt_pool_end - (uintptr_t)_image_start;
	uint64_t used = own + (uint64_t)b->held * BALLOON_PAGE +
			(b->refills % 16) * (64ULL << 10);
	uint64_t free = b->memtot > used ? b->memtot - used : 0;
	uint64_t caches = 1ULL << 20;
	int i;

	for (i = 0; i < S_NR; i++) {
		b->stats[i].tag = i;
		b->stats[i].val = 0;
	}
	b->stats[S_MINFLT].val = b->refills;
	b->stats[S_MEMFREE].val = free;
	b->stats[S_MEMTOT].val = b->memtot;
	b->stats[S_AVAIL].val = free + caches;
	b->stats[S_CACHES].val = caches;
	b->refills++;
}

static int stats_post(struct balloon *b, char *why)
{
	uint64_t addr = (uintptr_t)b->stats;
	uint32_t len = S_NR * sizeof(struct balloon_stat);

	stats_fill(b);
	mb();
	if (virtq_add(&b->vq[Q_STATS], &addr, &len, 1, 0) < 0) {
		snprintf(why, WHY_LEN, "statsq: no room for the stats buffer");
		return -1;
	}
	virtq_kick(&b->vq[Q_STATS]);
	return 0;
}

/* Refill and post again each stats buffer the device has returned. */
static int stats_serve(struct balloon *b, char *why)
{
	uint32_t id, len;

	if (!b->has[Q_STATS])
		return 0;
	while (virtq_get(&b->vq[Q_STATS], &id, &len)) {
		if (id == 0xffffffff) {
			snprintf(why, WHY_LEN, "statsq: the device used an unknown buffer");
			return -1;
		}
		b->returned++;
		if (stats_post(b, why))
			return -1;
	}
	return 0;
}

/* Post @n buffers (the last @nw device-writable) as one chain, kick, wait until used. */
static int send(struct balloon *b, int q, const uint64_t *addr,
		const uint32_t *len, int n, int nw, const char *name, char *why)
{
	struct virtq *vq = &b->vq[q];
	uint64_t end = deadline_us(USED_TIMEOUT_US);
	uint32_t id, ulen;

	if (virtq_add(vq, addr, len, n, nw) < 0) {
		snprintf(why, WHY_LEN, "%s: no room for a %d-descriptor chain (size %u)",
			 name, n, vq->size);
		return -1;
	}
	virtq_kick(vq);
	for (;;) {
		if (stats_serve(b, why))
			return -1;
		if (virtq_get(vq, &id, &ulen))
			break;
		if (deadline_passed(end)) {
			snprintf(why, WHY_LEN, "%s: buffer not used in %d s", name,
				 USED_TIMEOUT_US / 1000000);
			return -1;
		}
		cpu_relax();
	}
	if (id == 0xffffffff) {
		snprintf(why, WHY_LEN, "%s: the device used an unknown buffer", name);
		return -1;
	}
	return 0;
}

/* Give pages [first, first + n) to the device on @q, PFNS_PER_BUF at a time. */
static int send_pfns(struct balloon *b, int q, uint32_t first, uint32_t n,
		     char *why)
{
	const char *name = q == Q_INFLATE ? "inflateq" : "deflateq";
	uint32_t done = 0, k, i;

	while (done < n) {
		uint64_t addr = (uintptr_t)b->pfns;
		uint32_t len;

		k = n - done < PFNS_PER_BUF ? n - done : PFNS_PER_BUF;
		for (i = 0; i < k; i++)
			b->pfns[i] = (b->base + (uint64_t)(first + done + i) * BALLOON_PAGE) >> 12;
		len = k * sizeof(uint32_t);
		mb();
		if (send(b, q, &addr, &len, 1, 0, name, why))
			return -1;
		done += k;
	}
	return 0;
}

static void fill_range(uint64_t start, uint64_t bytes)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)start;
	volatile uint64_t *e = (volatile uint64_t *)(uintptr_t)(start + bytes);

	for (; p < e; p++)
		*p = ((uintptr_t)p ^ PATTERN) | 1;
}

static int page_is_zero(uint64_t addr)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	int i;

	for (i = 0; i < (int)(BALLOON_PAGE / 8); i++)
		if (p[i])
			return 0;
	return 1;
}

static int zero_wanted(void)
{
	char val[8];

	return cmdline_get("balloon_zero", val, sizeof(val)) || strncmp(val, "0", 2);
}

static int get_wait_s(uint64_t *s, char *why)
{
	char val[24];

	*s = 30;
	if (cmdline_get("balloon_wait", val, sizeof(val)))
		return 0;
	if (parse_uint(val, s) || *s > WAIT_MAX_S) {
		snprintf(why, WHY_LEN, "balloon_wait=%s: want 0 to %d", val, WAIT_MAX_S);
		return -1;
	}
	return 0;
}

static int setup(struct balloon *b, char *why)
{
	uint64_t want = 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << BALLOON_F_STATS_VQ |
			1ULL << BALLOON_F_DEFLATE_ON_OOM | 1ULL << BALLOON_F_REPORTING;
	int q, index = 0, ev;

	if (virtio_start(b->d, want, &b->feat, why) ||
	    b->d->ops->irq_setup(b->d, -1, why))
		return -1;
	ev = !!(b->feat & (1ULL << VIRTIO_F_EVENT_IDX));
	b->has[Q_INFLATE] = b->has[Q_DEFLATE] = 1;
	b->has[Q_STATS] = !!(b->feat & (1ULL << BALLOON_F_STATS_VQ));
	b->has[Q_REPORT] = !!(b->feat & (1ULL << BALLOON_F_REPORTING));
	for (q = 0; q < Q_NR; q++) {
		if (!b->has[q])
			continue;
		if (virtq_init(&b->vq[q], b->d, index++, VQ_MAX_SIZE, -1, ev, why))
			return -1;
	}
	virtio_driver_ok(b->d);
	printf("virtio-balloon: %s, features 0x%llx\n", b->d->where,
	       (unsigned long long)(b->feat & BALLOON_F_MASK));
	if (b->has[Q_STATS] && stats_post(b, why))
		return -1;
	return 0;
}

/* Free RAM for @pages balloon pages and the reported 4 MiB, 2 MiB aligned. */
static int find_memory(struct balloon *b, uint32_t pages, char *why)
{
	uint64_t bytes = (uint64_t)pages * BALLOON_PAGE;
	uint64_t start = mem_scratch(bytes + REPORT_BYTES + 2 * ALIGN_2M);

	if (!start) {
		snprintf(why, WHY_LEN, "no free RAM for %u balloon pages (%llu MiB) + 4 MiB",
			 pages, (unsigned long long)(bytes >> 20));
		return -1;
	}
	b->base = (start + ALIGN_2M - 1) & ~(ALIGN_2M - 1);
	b->report = (b->base + bytes + ALIGN_2M - 1) & ~(ALIGN_2M - 1);
	return 0;
}

/*
 * balloon_hold=MS: after filling the pages, say so and wait MS ms before
 * inflating, so a test can read the VMM's resident memory on both sides.
 */
static int inflate(struct balloon *b, uint32_t t, char *why)
{
	char val[24];
	uint64_t ms;

	fill_range(b->base, (uint64_t)t * BALLOON_PAGE);
	if (!cmdline_get("balloon_hold", val, sizeof(val)) && !parse_uint(val, &ms) && ms) {
		printf("virtio-balloon: filled %u pages, holding %llu ms\n", t,
		       (unsigned long long)ms);
		delay_us(ms * 1000);
	}
	if (send_pfns(b, Q_INFLATE, 0, t, why))
		return -1;
	b->held = t;
	cfg_write(b, CFG_ACTUAL, t);
	printf("virtio-balloon: inflated %u pages (%u MiB)\n", t, t / 256);
	return 0;
}

/* Wait up to @s seconds for num_pages below @t; its new value or -1. */
static int64_t wait_target(struct balloon *b, uint32_t t, uint64_t s, char *why)
{
	uint64_t end = deadline_us(s * 1000000);
	uint32_t now = t;

	for (;;) {
		if (stats_serve(b, why))
			return -1;
		now = cfg_read(b, CFG_NUM_PAGES);
		if (now < t)
			return now;
		if (deadline_passed(end))
			break;
		delay_us(POLL_US);
	}
	if (now == t)
		snprintf(why, WHY_LEN, "the balloon target stayed at %u pages for %llu s",
			 t, (unsigned long long)s);
	else
		snprintf(why, WHY_LEN, "the balloon target went from %u to %u pages, "
			 "not lower, in %llu s", t, now, (unsigned long long)s);
	return -1;
}

static int deflate(struct balloon *b, uint32_t t2, char *why)
{
	uint32_t t = b->held, d = t - t2, z = 0, i;

	if (send_pfns(b, Q_DEFLATE, t2, d, why))
		return -1;
	b->held = t2;
	cfg_write(b, CFG_ACTUAL, t2);
	for (i = t2; i < t; i++)
		z += page_is_zero(b->base + (uint64_t)i * BALLOON_PAGE);
	printf("virtio-balloon: deflated %u pages, %u read as zero\n", d, z);
	if (z != d && zero_wanted()) {
		snprintf(why, WHY_LEN, "%u of %u deflated pages kept their contents "
			 "(the host did not discard them)", d - z, d);
		return -1;
	}
	return 0;
}

static int report_free(struct balloon *b, char *why)
{
	uint64_t addr[REPORT_CHUNKS], chunk = REPORT_BYTES / REPORT_CHUNKS, z = 0, off;
	uint32_t len[REPORT_CHUNKS];
	int i;

	fill_range(b->report, REPORT_BYTES);
	for (i = 0; i < REPORT_CHUNKS; i++) {
		addr[i] = b->report + i * chunk;
		len[i] = chunk;
	}
	mb();
	/* device-writable, as Linux posts them (virtqueue_add_inbuf) and QEMU reads them */
	if (send(b, Q_REPORT, addr, len, REPORT_CHUNKS, REPORT_CHUNKS, "reporting_vq", why))
		return -1;
	for (off = 0; off < REPORT_BYTES; off += BALLOON_PAGE)
		z += page_is_zero(b->report + off) ? BALLOON_PAGE >> 10 : 0;
	printf("virtio-balloon: reported %llu KiB free, %llu KiB read as zero\n",
	       (unsigned long long)(REPORT_BYTES >> 10), (unsigned long long)z);
	if (z != REPORT_BYTES >> 10 && zero_wanted()) {
		snprintf(why, WHY_LEN, "%llu of %llu KiB reported free kept their contents",
			 (unsigned long long)((REPORT_BYTES >> 10) - z),
			 (unsigned long long)(REPORT_BYTES >> 10));
		return -1;
	}
	return 0;
}

static int balloon_run(struct balloon *b, uint64_t wait_s, char *why)
{
	uint32_t t;
	int64_t t2;

	/* every dma_alloc() before find_memory(): the pool grows into scratch RAM */
	if ((!b->stats && !(b->stats = dma_alloc(S_NR * sizeof(struct balloon_stat)))) ||
	    (!b->pfns && !(b->pfns = dma_alloc(PFNS_PER_BUF * sizeof(uint32_t))))) {
		snprintf(why, WHY_LEN, "out of memory");
		return -1;
	}
	if (setup(b, why))
		return -1;
	t = cfg_read(b, CFG_NUM_PAGES);
	if (!t) {
		snprintf(why, WHY_LEN, "balloon target is 0 (give the device an amount)");
		return -1;
	}
	if (find_memory(b, t, why) || inflate(b, t, why))
		return -1;
	if (wait_s) {
		t2 = wait_target(b, t, wait_s, why);
		if (t2 < 0 || deflate(b, (uint32_t)t2, why))
			return -1;
	}
	if (b->has[Q_REPORT] && report_free(b, why))
		return -1;
	if (stats_serve(b, why))
		return -1;
	if (b->has[Q_STATS])
		printf("virtio-balloon: stats returned %llu times\n",
		       (unsigned long long)b->returned);
	return 0;
}

int check_virtio_balloon(char *why)
{
	struct balloon *b = &bl;
	struct virtio_dev d;
	uint64_t wait_s;
	int rc;

	if (get_wait_s(&wait_s, why))
		return -1;
	if (virtio_find(VIRTIO_ID_BALLOON, 0, &d)) {
		snprintf(why, WHY_LEN, "no virtio balloon device (PCI 1af4:1045 or virtio-mmio)");
		return -1;
	}
	b->d = &d;
	b->memtot = ram_bytes();
	b->held = 0;
	b->refills = b->returned = 0;
	rc = balloon_run(b, wait_s, why);
	virtio_stop(&d);
	b->d = NULL;
	return rc;
}
