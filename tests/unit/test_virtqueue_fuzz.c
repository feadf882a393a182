// SPDX-License-Identifier: MIT
/*
 * Randomized virtqueue test: thousands of rings of random descriptors
 * (random addresses, lengths, flags, next indices, indirect tables and avail
 * indices). Every pop must terminate, every returned segment must lie in
 * guest RAM, and an error must leave the queue broken.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "vq_driver.h"

#define FUZZ_SEGS	48	/* small enough to see ENOBUFS now and then */
#define INDIR_ENTRIES	512

static struct vq_seg fuzz_segs[FUZZ_SEGS];

struct outcome {
	unsigned long chains, segs, empty;
	unsigned long efault, einval, eloop, eoverflow, enobufs;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

static uint64_t region_end(const struct guest_mem *m, unsigned int i)
{
	return m->regions[i].gpa + m->regions[i].size;
}

static uint64_t fuzz_addr(struct drv *d, uint64_t *s)
{
	const struct guest_mem *m = &d->mem;
	unsigned int r = (unsigned int)rnd_below(s, m->nregions);

	switch (rnd_below(s, 10)) {
	case 0:
		return rnd(s);
	case 1:
		return 0;
	case 2:		/* near (and past) a region's end */
		return region_end(m, r) - 8192 + rnd_below(s, 16384);
	case 3:		/* an indirect table */
		return INDIR_GPA + 16 * rnd_below(s, INDIR_ENTRIES);
	case 4:
		return UINT64_MAX - rnd_below(s, 65536);
	default:
		return m->regions[r].gpa + rnd_below(s, m->regions[r].size);
	}
}

static uint32_t fuzz_len(uint64_t *s)
{
	switch (rnd_below(s, 8)) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)rnd(s);
	case 2:
	case 3:		/* plausible indirect table sizes */
		return 16 * (uint32_t)rnd_below(s, 40);
	default:
		return 1 + (uint32_t)rnd_below(s, 8192);
	}
}

static uint16_t fuzz_flags(uint64_t *s)
{
	uint16_t f = 0;

	if (rnd_below(s, 4))
		f |= VIRTQ_DESC_F_NEXT;
	if (!rnd_below(s, 4))
		f |= VIRTQ_DESC_F_WRITE;
	if (!rnd_below(s, 6))
		f |= VIRTQ_DESC_F_INDIRECT;
	if (!rnd_below(s, 16))
		f |= (uint16_t)rnd(s);
	return f;
}

static void fuzz_table(struct drv *d, uint64_t *s, uint64_t table, unsigned int n,
		       unsigned int next_range)
{
	for (unsigned int i = 0; i < n; i++) {
		/* next_range itself is the first index out of range */
		uint16_t next = (uint16_t)(rnd_below(s, 8) ? rnd_below(s, next_range + 1) : rnd(s));

		drv_desc_at(d, table, i, fuzz_addr(d, s), fuzz_len(s), fuzz_flags(s), next);
	}
}

/* The segment [hva, hva + len) must be inside one RAM region's host view. */
static bool seg_in_ram(const struct guest_mem *m, const struct vq_seg *seg)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		const uint8_t *lo = m->hva + m->regions[i].offset;
		const uint8_t *hi = lo + m->regions[i].size;

		if (seg->hva >= lo && seg->hva < hi && seg->len <= (size_t)(hi - seg->hva))
			return true;
	}
	return false;
}

static void check_chain(struct drv *d, uint64_t *s, bool touch)
{
	const struct vq_chain *c = &d->chain;
	uint64_t rlen = 0, wlen = 0;
	uint8_t buf[64];

	assert_true(c->nsegs <= c->max_segs);
	assert_true(c->nreadable <= c->nsegs);
	assert_true(c->head < d->size);
	for (uint32_t i = 0; i < c->nsegs; i++) {
		const struct vq_seg *seg = &c->segs[i];

		assert_true(seg->len > 0);
		assert_true(seg_in_ram(&d->mem, seg));
		assert_int_equal(seg->writable, i >= c->nreadable);
		*(seg->writable ? &wlen : &rlen) += seg->len;
	}
	assert_int_equal(rlen, vq_chain_readable_len(c));
	assert_int_equal(wlen, vq_chain_writable_len(c));
	if (!touch)
		return;
	if (rlen >= sizeof(buf))
		assert_int_equal(vq_chain_read(c, rnd_below(s, rlen - sizeof(buf) + 1), buf,
					       sizeof(buf)), 0);
	assert_int_equal(vq_chain_read(c, rlen, buf, 1), -ERANGE);
	if (wlen >= sizeof(buf))
		assert_int_equal(vq_chain_write(c, rnd_below(s, wlen - sizeof(buf) + 1), buf,
						sizeof(buf)), 0);
	assert_int_equal(vq_chain_write(c, wlen, buf, 1), -ERANGE);
}

static void count_error(struct outcome *o, int err)
{
	switch (err) {
	case -EFAULT:		o->efault++; break;
	case -EINVAL:		o->einval++; break;
	case -ELOOP:		o->eloop++; break;
	case -EOVERFLOW:	o->eoverflow++; break;
	case -ENOBUFS:		o->enobufs++; break;
	default:		fail_msg("unexpected pop error %d", err);
	}
}

static uint16_t fuzz_pending(uint64_t *s, unsigned int size)
{
	switch (rnd_below(s, 4)) {
	case 0:
		return (uint16_t)rnd(s);
	case 1:
		return (uint16_t)(size + 1 + rnd_below(s, 4));
	default:
		return (uint16_t)rnd_below(s, size + 1);
	}
}

/* ---- well-formed rings, then a few corruptions ---------------------------- */

struct fuzz {
	struct drv *d;
	uint64_t s;
	unsigned int size;
	bool indirect;
	uint32_t indir_used;		/* entries handed out in the indirect area */
	uint16_t heads[VQ_MAX_SIZE];
	unsigned int nheads;
};

static void shuffle(uint64_t *s, uint16_t *v, unsigned int n)
{
	for (unsigned int i = n; i > 1; i--) {
		unsigned int j = (unsigned int)rnd_below(s, i);
		uint16_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static uint32_t seg_len(uint64_t *s)
{
	return rnd_below(s, 10) ? 1 + (uint32_t)rnd_below(s, 4096) : 0;
}

/* A buffer in RAM that stays clear of the rings (BUF_GPA up in region 0). */
static uint64_t buf_addr(struct fuzz *f, uint32_t len)
{
	const struct guest_mem *m = &f->d->mem;
	unsigned int r = (unsigned int)rnd_below(&f->s, m->nregions);
	uint64_t lo = r ? m->regions[r].gpa : BUF_GPA;

	return lo + rnd_below(&f->s, region_end(m, r) - lo - len + 1);
}

static void good_desc(struct fuzz *f, uint64_t table, uint16_t i, bool writable, bool more,
		      uint16_t next)
{
	uint32_t len = seg_len(&f->s);
	uint16_t flags = (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) |
				    (more ? VIRTQ_DESC_F_NEXT : 0));

	drv_desc_at(f->d, table, i, buf_addr(f, len), len, flags, next);
}

/* A well-formed indirect table; returns its entry count (0: no room). */
static uint32_t good_table(struct fuzz *f, uint64_t *gpa, bool all_writable)
{
	uint16_t order[48];
	uint32_t n = 1 + (uint32_t)rnd_below(&f->s, 48), nread;

	if (f->indir_used + n > VQ_MAX_INDIRECT)
		return 0;
	*gpa = INDIR_GPA + 16ull * f->indir_used;
	f->indir_used += n;
	nread = all_writable ? 0 : (uint32_t)rnd_below(&f->s, n + 1);
	for (uint16_t k = 0; k < n; k++)
		order[k] = k;
	shuffle(&f->s, order + 1, n - 1);		/* entry 0 starts the chain */
	for (uint32_t k = 0; k < n; k++)
		good_desc(f, *gpa, order[k], k >= nread, k + 1 < n,
			  k + 1 < n ? order[k + 1] : 0);
	return n;
}

/* A well-formed chain over the direct descriptors @idx[0 .. n). */
static void good_chain(struct fuzz *f, const uint16_t *idx, unsigned int n)
{
	unsigned int nread = (unsigned int)rnd_below(&f->s, n + 1);
	uint64_t table;
	uint32_t entries;

	for (unsigned int j = 0; j + 1 < n; j++)
		good_desc(f, DESC_GPA, idx[j], j >= nread, true, idx[j + 1]);
	if (f->indirect && !rnd_below(&f->s, 3)) {
		entries = good_table(f, &table, nread < n - 1);
		if (entries) {
			drv_desc(f->d, idx[n - 1], table, 16 * entries, VIRTQ_DESC_F_INDIRECT, 0);
			goto out;
		}
	}
	good_desc(f, DESC_GPA, idx[n - 1], n - 1 >= nread, false, 0);
out:
	f->heads[f->nheads++] = idx[0];
}

static void good_ring(struct fuzz *f)
{
	uint16_t perm[256];
	unsigned int k = 0, n;

	for (uint16_t i = 0; i < f->size; i++)
		perm[i] = i;
	shuffle(&f->s, perm, f->size);
	while (k < f->size) {
		n = 1 + (unsigned int)rnd_below(&f->s, 8);
		if (n > f->size - k)
			n = f->size - k;
		good_chain(f, perm + k, n);
		k += n;
	}
	shuffle(&f->s, f->heads, f->nheads);
}

/* Overwrite one field of a descriptor (direct or indirect) with junk. */
static void corrupt_desc(struct fuzz *f)
{
	uint64_t *s = &f->s;
	uint64_t table = DESC_GPA;
	uint32_t i = (uint32_t)rnd_below(s, f->size);
	struct virtq_desc v;

	if (f->indir_used && rnd_below(s, 3) == 0) {
		table = INDIR_GPA;
		i = (uint32_t)rnd_below(s, f->indir_used);
	}
	memcpy(&v, drv_ptr(f->d, table + 16ull * i, 16), 16);
	switch (rnd_below(s, 7)) {
	case 0: v.addr = htole64(fuzz_addr(f->d, s)); break;
	case 1: v.len = htole32(fuzz_len(s)); break;
	case 2: v.flags = htole16(fuzz_flags(s)); break;
	case 3: v.flags ^= htole16((uint16_t)(1u << rnd_below(s, 3))); break;
	case 4: v.next = htole16((uint16_t)rnd_below(s, 64)); break;
	case 5: v.next = htole16((uint16_t)f->size); break;
	default: v.next = htole16((uint16_t)rnd(s)); break;
	}
	memcpy(drv_ptr(f->d, table + 16ull * i, 16), &v, 16);
}

static unsigned int corruptions(uint64_t *s)
{
	uint64_t r = rnd_below(s, 10);

	return r < 4 ? 0 : r < 7 ? 1 : 2 + (unsigned int)rnd_below(s, 3);
}

/* Fill the avail ring from @first with our heads (or junk) and publish. */
static void fill_avail(struct fuzz *f, uint16_t first, bool junk)
{
	uint16_t pending = (uint16_t)f->nheads;

	for (unsigned int i = 0; i < f->size; i++) {
		uint16_t head = i < f->nheads ? f->heads[i] : (uint16_t)rnd(&f->s);

		if (junk && !rnd_below(&f->s, 10))
			head = (uint16_t)(rnd_below(&f->s, 2) ? rnd(&f->s)
							      : rnd_below(&f->s, f->size));
		drv_w16(f->d, AVAIL_GPA + 4 + 2ull * ((uint16_t)(first + i) & (f->size - 1)), head);
	}
	if (junk && !rnd_below(&f->s, 5))
		pending = fuzz_pending(&f->s, f->size);
	drv_set_avail_idx(f->d, (uint16_t)(first + pending));
}

static void random_ring(struct fuzz *f)
{
	fuzz_table(f->d, &f->s, DESC_GPA, f->size, f->size);
	fuzz_table(f->d, &f->s, INDIR_GPA, INDIR_ENTRIES, 48);
	f->indir_used = INDIR_ENTRIES;
	for (uint16_t i = 0; i < f->size; i++)
		f->heads[f->nheads++] = (uint16_t)rnd_below(&f->s, f->size);
}

/* ---- reference walker: the spec's rules, written independently ---------- */

struct ref {
	struct drv *d;
	bool seen_writable;
	unsigned int nsegs;		/* counted even past FUZZ_SEGS */
	struct vq_seg segs[FUZZ_SEGS];
	bool seen_outer[VQ_MAX_SIZE];	/* visited marks instead of a count */
	bool seen_inner[VQ_MAX_INDIRECT];
};

static struct ref ref;

static uint8_t *ref_translate(const struct guest_mem *m, uint64_t addr, uint64_t len)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct guest_mem_region *r = &m->regions[i];

		if (addr >= r->gpa && addr - r->gpa < r->size && len <= r->size - (addr - r->gpa))
			return m->hva + r->offset + (addr - r->gpa);
	}
	return NULL;
}

/* 0 for a valid chain (segments in ref.segs), -1 for any rule broken. */
static int ref_walk(const uint8_t *table, uint32_t n, uint32_t i, bool inner)
{
	bool *seen = inner ? ref.seen_inner : ref.seen_outer;
	const struct guest_mem *m = &ref.d->mem;
	struct virtq_desc v;
	uint8_t *hva;

	memset(seen, 0, n);
	for (;;) {
		if (i >= n || seen[i])
			return -1;
		seen[i] = true;
		memcpy(&v, table + 16ull * i, 16);
		v.addr = le64toh(v.addr);
		v.len = le32toh(v.len);
		v.flags = le16toh(v.flags);
		if (v.flags & VIRTQ_DESC_F_INDIRECT) {
			if (inner || !ref.d->vq.st.indirect || (v.flags & VIRTQ_DESC_F_NEXT) ||
			    !v.len || v.len % 16 || v.len / 16 > VQ_MAX_INDIRECT)
				return -1;
			hva = ref_translate(m, v.addr, v.len);
			return hva ? ref_walk(hva, v.len / 16, 0, true) : -1;
		}
		if (!(v.flags & VIRTQ_DESC_F_WRITE) && ref.seen_writable)
			return -1;
		ref.seen_writable |= !!(v.flags & VIRTQ_DESC_F_WRITE);
		if (v.len) {
			hva = ref_translate(m, v.addr, v.len);
			if (!hva)
				return -1;
			if (ref.nsegs < FUZZ_SEGS)
				ref.segs[ref.nsegs] = (struct vq_seg){
					hva, v.len, v.flags & VIRTQ_DESC_F_WRITE };
			ref.nsegs++;
		}
		if (!(v.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = le16toh(v.next);
	}
}

/* Does the reference agree with what virtqueue_pop() said about @head? */
static void ref_check(struct drv *d, uint16_t head, int r)
{
	int want;

	ref.d = d;
	ref.seen_writable = false;
	ref.nsegs = 0;
	want = ref_walk(drv_ptr(d, DESC_GPA, 16ull * d->size), d->size, head, false);
	if (r == 1) {
		assert_int_equal(want, 0);
		assert_int_equal(ref.nsegs, d->chain.nsegs);
		for (uint32_t i = 0; i < d->chain.nsegs; i++) {
			assert_ptr_equal(ref.segs[i].hva, d->chain.segs[i].hva);
			assert_int_equal(ref.segs[i].len, d->chain.segs[i].len);
			assert_int_equal(ref.segs[i].writable, d->chain.segs[i].writable);
		}
	} else if (r == -ENOBUFS) {
		assert_true(want < 0 || ref.nsegs > FUZZ_SEGS);
	} else {
		assert_int_equal(want, -1);
	}
}

/*
 * Pop until empty or broken, checking every chain. A @clean ring (no
 * corruption) must drain, or stop only for lack of chain storage.
 */
static void drain(struct fuzz *f, struct outcome *o, bool touch, bool clean)
{
	struct drv *d = f->d;
	uint16_t old_used = d->vq.st.used_idx;
	unsigned int popped = 0;
	int r = 0;

	for (unsigned int n = 0; n <= f->size + 1; n++) {
		uint16_t last = d->vq.st.last_avail_idx;
		uint16_t pending = (uint16_t)(drv_r16(d, AVAIL_GPA + 2) - last);
		uint16_t head = drv_r16(d, AVAIL_GPA + 4 + 2ull * (last & (f->size - 1)));

		r = drv_pop(d);
		if (r == -EOVERFLOW)
			assert_true(pending > f->size);
		else if (r && head >= f->size)
			assert_int_equal(r, -EINVAL);
		else if (r)
			ref_check(d, head, r);
		if (r <= 0)
			break;
		popped++;
		o->chains++;
		o->segs += d->chain.nsegs;
		check_chain(d, &f->s, touch);
		assert_int_equal(virtqueue_push(&d->vq, d->chain.head, (uint32_t)rnd(&f->s)), 0);
		if (!rnd_below(&f->s, 4))
			virtqueue_set_notify(&d->vq, rnd_below(&f->s, 2));
	}
	(void)virtqueue_should_interrupt(&d->vq, old_used);
	assert_true(popped <= f->size);
	if (r == 0) {
		/* empty means we caught up with the driver's avail->idx */
		assert_int_equal(drv_r16(d, AVAIL_GPA + 2), d->vq.st.last_avail_idx);
		o->empty++;
		return;
	}
	count_error(o, r);
	if (clean)
		assert_int_equal(r, -ENOBUFS);
	assert_true(d->vq.st.broken);
	assert_int_equal(drv_pop(d), -EIO);
}

static void fuzz_one(struct fuzz *f, struct outcome *o, bool touch)
{
	struct virtqueue_state st = {
		.desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA,
		.ready = true, .notify_enabled = true,
	};
	bool random = !rnd_below(&f->s, 10);
	unsigned int bad;

	f->size = 1u << rnd_below(&f->s, 9);
	f->indirect = rnd_below(&f->s, 4);
	f->indir_used = 0;
	f->nheads = 0;
	st.size = (uint16_t)f->size;
	st.event_idx = rnd_below(&f->s, 2);
	st.indirect = f->indirect;
	st.last_avail_idx = (uint16_t)rnd(&f->s);
	st.used_idx = (uint16_t)rnd(&f->s);
	assert_int_equal(virtqueue_restore(&f->d->vq, &f->d->mem, &st), 0);
	f->d->size = f->size;
	if (random)
		random_ring(f);
	else
		good_ring(f);
	bad = random ? 0 : corruptions(&f->s);
	for (unsigned int i = 0; i < bad; i++)
		corrupt_desc(f);
	drv_w16(f->d, drv_used_event_gpa(f->d), (uint16_t)rnd(&f->s));
	drv_w16(f->d, AVAIL_GPA, (uint16_t)rnd(&f->s));
	fill_avail(f, st.last_avail_idx, random || bad);
	drain(f, o, touch, !random && !bad);
}

static void run_fuzz(uint64_t ram, unsigned int iterations, uint64_t seed, bool touch)
{
	static struct fuzz f;
	struct outcome o = { 0 };

	f.d = drv_new_ram(ram, 8, 0);
	f.s = seed;
	assert_non_null(f.d);
	vq_chain_init(&f.d->chain, fuzz_segs, FUZZ_SEGS);
	for (unsigned int i = 0; i < iterations; i++)
		fuzz_one(&f, &o, touch);
	print_message("%lu chains (%lu segments), %lu drained, errors: EFAULT %lu EINVAL %lu "
		      "ELOOP %lu EOVERFLOW %lu ENOBUFS %lu\n", o.chains, o.segs, o.empty,
		      o.efault, o.einval, o.eloop, o.eoverflow, o.enobufs);
	/* the fuzzer must reach both the happy path and each kind of rejection */
	assert_true(o.chains > 3ul * iterations);
	assert_true(o.segs > o.chains);
	assert_true(o.empty > iterations / 4);
	assert_true(o.efault && o.einval && o.eloop && o.eoverflow && o.enobufs);
	drv_free(f.d);
}

static void test_fuzz_small_ram(void **state)
{
	(void)state;
	run_fuzz(DRV_RAM, 20000, 0x9e3779b97f4a7c15ull, true);
}

/* 4 GiB: RAM below the hole and above 4 GiB; segments only bounds-checked */
static void test_fuzz_mmio_hole(void **state)
{
	(void)state;
	run_fuzz(GIB(4), 5000, 0xc0ffee1234567ull, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_small_ram),
		cmocka_unit_test(test_fuzz_mmio_hole),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
