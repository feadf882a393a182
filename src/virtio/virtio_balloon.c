// SPDX-License-Identifier: MIT
/*
 * virtio-balloon (virtio 1.2, 5.5).
 *
 * Queues, numbered as Linux numbers them (an absent queue takes no index):
 * 0 inflateq, 1 deflateq, then statsq when VIRTIO_BALLOON_F_STATS_VQ was
 * negotiated, then reporting_vq when VIRTIO_BALLOON_F_REPORTING was. The
 * roles are fixed at DRIVER_OK from the negotiated features.
 *
 * - inflateq: device-readable arrays of le32 page frame numbers (4 KiB
 *   pages; at most BALLOON_CHAIN_PFNS a chain). Runs of consecutive frames
 *   are given back to the host at once
 *   (guest_mem_discard: a hole punched in the memfd), so husk's resident
 *   memory drops by what the guest gave. A frame outside guest RAM is
 *   counted and ignored. VIRTIO_BALLOON_F_MUST_TELL_HOST is not offered:
 *   a deflate needs no work, the page faults back in (zeroed) on first use.
 * - deflateq: counted, returned.
 * - statsq: the driver posts one buffer of (le16 tag, le64 value) pairs.
 *   The device reads it and keeps it; every stats interval it returns the
 *   buffer, which asks the driver for a fresh one.
 * - reporting_vq: each descriptor is a range of free guest memory (Linux
 *   posts them device-writable, the spec does not say; either is taken);
 *   it is given back to the host and the chain returned.
 *
 * Config space (le32 each): num_pages (the target, set by the host),
 * actual (written by the driver), free_page_hint_cmd_id and poison_val
 * (neither feature is offered: read as 0).
 *
 * Threading: one I/O thread serves every queue and the statistics timer;
 * the API thread changes the target (a config interrupt) and the interval
 * (the timerfd) and reads the statistics under the lock.
 */
#include "virtio/virtio_balloon.h"
#include "core/bytes.h"
#include "core/statebuf.h"
#include "memory/guest_mem.h"
#include "virtio/worker.h"

#include <errno.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define BALLOON_QUEUE_MAX	256
#define BALLOON_CFG_LEN		16
#define BALLOON_STAT_LEN	10	/* le16 tag + le64 value */
#define BALLOON_STATS_READ_MAX	(64 * BALLOON_STAT_LEN)	/* more is ignored */
#define PAGE_SHIFT_4K		12
/*
 * Frame numbers read from one inflate chain; the rest are counted as bad.
 * Linux sends 256 a chain; a hostile guest's 1 GiB array would keep the
 * device thread (and a VM pause waiting for it) busy for minutes.
 */
#define BALLOON_CHAIN_PFNS	4096

struct virtio_balloon {
	struct virtio_dev vd;
	struct virtio_transport *tr;
	struct worker worker;
	const struct guest_mem *mem;
	struct husk_balloon_config cfg;
	int timer_fd;
	int q_stats;			/* -1: none (set at start) */
	int q_report;
	struct vq_seg *segs;
	struct vq_chain chain;		/* the worker's scratch chain */
	struct vq_chain stats_chain;	/* the statistics buffer held */
	struct vq_seg *stats_segs;
	bool holding;			/* stats_chain is the driver's buffer */
	bool paused;
	uint32_t target;		/* pages (atomic) */
	uint32_t actual;		/* pages, as the driver wrote it (atomic) */
	pthread_mutex_t lock;		/* interval and the statistics */
	uint32_t interval_s;
	uint32_t stats_has;
	uint64_t stats[HUSK_BALLOON_NTAGS];
	struct virtio_balloon_counts n;	/* atomic adds */
};

static void count(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

/* Arm the statistics timer for the interval (0: disarm). */
static void arm_timer(struct virtio_balloon *b, uint32_t s)
{
	struct itimerspec its = { .it_interval.tv_sec = s, .it_value.tv_sec = s };

	timerfd_settime(b->timer_fd, 0, &its, NULL);
}

/* ---- inflate, deflate, reporting ------------------------------------------ */

/* Give @n pages from frame @pfn back to the host; frames outside RAM are counted. */
static void discard_run(struct virtio_balloon *b, uint64_t pfn, uint64_t n)
{
	uint64_t len = n << PAGE_SHIFT_4K;
	void *hva = gpa_to_hva(b->mem, pfn << PAGE_SHIFT_4K, len);
	int64_t got;

	if (!hva) {
		/* straddles a hole or lies outside RAM: page by page */
		if (n > 1) {
			for (uint64_t i = 0; i < n; i++)
				discard_run(b, pfn + i, 1);
		} else {
			count(&b->n.bad_pfns, 1);
		}
		return;
	}
	got = guest_mem_discard(b->mem, hva, len);
	if (got > 0)
		count(&b->n.discarded_bytes, (uint64_t)got);
}

/* An inflate chain: every whole le32 in its readable part is a frame number. */
static void inflate_chain(struct virtio_balloon *b, const struct vq_chain *c)
{
	uint64_t start = 0, n = 0, pages = 0;

	if (c->readable_len / 4 > BALLOON_CHAIN_PFNS)
		count(&b->n.bad_pfns, c->readable_len / 4 - BALLOON_CHAIN_PFNS);
	for (uint32_t i = 0; i < c->nreadable && pages < BALLOON_CHAIN_PFNS; i++) {
		const struct vq_seg *s = &c->segs[i];

		for (uint32_t off = 0; off + 4 <= s->len && pages < BALLOON_CHAIN_PFNS; off += 4) {
			uint64_t pfn = le_get(s->hva + off, 4);

			pages++;
			if (n && pfn == start + n) {
				n++;
				continue;
			}
			if (n)
				discard_run(b, start, n);
			start = pfn;
			n = 1;
		}
	}
	if (n)
		discard_run(b, start, n);
	count(&b->n.inflated_pages, pages);
}

static void deflate_chain(struct virtio_balloon *b, const struct vq_chain *c)
{
	count(&b->n.deflated_pages, c->readable_len / 4);
}

static void report_chain(struct virtio_balloon *b, const struct vq_chain *c)
{
	for (uint32_t i = 0; i < c->nsegs; i++) {
		int64_t got = guest_mem_discard(b->mem, c->segs[i].hva, c->segs[i].len);

		count(&b->n.reported_bytes, c->segs[i].len);
		if (got > 0)
			count(&b->n.discarded_bytes, (uint64_t)got);
	}
}

/* Pop every chain of queue @q, hand it to @fn, return it with 0 bytes written. */
static void serve_queue(struct virtio_balloon *b, unsigned q,
			void (*fn)(struct virtio_balloon *, const struct vq_chain *))
{
	struct virtio_dev *vd = &b->vd;
	struct virtqueue *vq = &vd->vq[q];
	uint16_t old = vq->st.used_idx;
	int ret;

	if (!vq->st.ready)
		return;
	do {
		virtqueue_set_notify(vq, false);
		while ((ret = virtqueue_pop(vq, &b->chain)) > 0) {
			fn(b, &b->chain);
			virtqueue_push(vq, b->chain.head, 0);
		}
	} while (ret == 0 && virtqueue_enable_notify(vq));
	if (ret < 0)
		virtio_dev_needs_reset(vd);
	virtio_dev_queue_done(vd, q, old);
}

/* ---- statistics -------------------------------------------------------------- */

/* Read the held buffer's (tag, value) pairs; tags past the known ones are ignored. */
static void stats_read(struct virtio_balloon *b)
{
	const struct vq_chain *c = &b->stats_chain;
	uint8_t buf[BALLOON_STATS_READ_MAX];
	uint32_t len = 0;

	for (uint32_t i = 0; i < c->nreadable && len < sizeof(buf); i++) {
		uint32_t k = c->segs[i].len < sizeof(buf) - len ? c->segs[i].len :
			     (uint32_t)sizeof(buf) - len;

		memcpy(buf + len, c->segs[i].hva, k);
		len += k;
	}
	pthread_mutex_lock(&b->lock);
	for (uint32_t off = 0; off + BALLOON_STAT_LEN <= len; off += BALLOON_STAT_LEN) {
		uint16_t tag = le_get(buf + off, 2);

		if (tag >= HUSK_BALLOON_NTAGS)
			continue;
		b->stats[tag] = le_get(buf + off + 2, 8);
		b->stats_has |= 1u << tag;
	}
	pthread_mutex_unlock(&b->lock);
	count(&b->n.stats_updates, 1);
}

/* Take the driver's buffer when none is held. */
static void stats_kick(void *ctx)
{
	struct virtio_balloon *b = ctx;
	struct virtqueue *vq = &b->vd.vq[b->q_stats];
	int ret;

	eventfd_drain(b->vd.kick_fd[b->q_stats]);
	if (b->holding || !vq->st.ready)
		return;
	ret = virtqueue_pop(vq, &b->stats_chain);
	if (ret < 0) {
		virtio_dev_needs_reset(&b->vd);
		return;
	}
	if (ret > 0) {
		b->holding = true;
		stats_read(b);
	}
}

/* The interval is up: give the buffer back, which asks for a new one. */
static void stats_timer(void *ctx)
{
	struct virtio_balloon *b = ctx;
	struct virtqueue *vq;
	uint16_t old;

	eventfd_drain(b->timer_fd);
	if (!b->holding)
		return;
	vq = &b->vd.vq[b->q_stats];
	old = vq->st.used_idx;
	virtqueue_push(vq, b->stats_chain.head, 0);
	b->holding = false;
	virtio_dev_queue_done(&b->vd, (unsigned)b->q_stats, old);
}

/* ---- queue callbacks and lifecycle -------------------------------------------- */

static void inflate_kick(void *ctx)
{
	struct virtio_balloon *b = ctx;

	eventfd_drain(b->vd.kick_fd[0]);
	serve_queue(b, 0, inflate_chain);
}

static void deflate_kick(void *ctx)
{
	struct virtio_balloon *b = ctx;

	eventfd_drain(b->vd.kick_fd[1]);
	serve_queue(b, 1, deflate_chain);
}

static void report_kick(void *ctx)
{
	struct virtio_balloon *b = ctx;

	eventfd_drain(b->vd.kick_fd[b->q_report]);
	serve_queue(b, (unsigned)b->q_report, report_chain);
}

static int balloon_start(struct virtio_dev *vd)
{
	struct virtio_balloon *b = vd->priv;
	int q = 2, ret;

	b->q_stats = virtio_dev_has(vd, VIRTIO_BALLOON_F_STATS_VQ) ? q++ : -1;
	b->q_report = virtio_dev_has(vd, VIRTIO_BALLOON_F_REPORTING) ? q++ : -1;
	if ((unsigned)q > vd->nqueues)	/* features are offered only with their queue */
		return -EINVAL;
	b->holding = false;
	worker_unwatch_all(&b->worker);
	ret = worker_watch(&b->worker, vd->kick_fd[0], inflate_kick, b);
	if (!ret)
		ret = worker_watch(&b->worker, vd->kick_fd[1], deflate_kick, b);
	if (!ret && b->q_stats >= 0)
		ret = worker_watch(&b->worker, vd->kick_fd[b->q_stats], stats_kick, b);
	if (!ret && b->q_stats >= 0)
		ret = worker_watch(&b->worker, b->timer_fd, stats_timer, b);
	if (!ret && b->q_report >= 0)
		ret = worker_watch(&b->worker, vd->kick_fd[b->q_report], report_kick, b);
	if (!ret)
		ret = worker_start(&b->worker);
	if (ret)
		return ret;
	if (b->q_stats >= 0) {
		pthread_mutex_lock(&b->lock);
		arm_timer(b, b->interval_s);
		pthread_mutex_unlock(&b->lock);
	}
	/* buffers may be there already */
	for (int i = 0; i < q; i++)
		eventfd_kick(vd->kick_fd[i]);
	return 0;
}

static void balloon_stop(struct virtio_dev *vd)
{
	struct virtio_balloon *b = vd->priv;

	worker_stop(&b->worker);
	arm_timer(b, 0);
	eventfd_drain(b->timer_fd);
	b->holding = false;
	b->q_stats = b->q_report = -1;
}

static void balloon_cfg_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_balloon *b = vd->priv;
	uint8_t cfg[BALLOON_CFG_LEN] = { 0 };

	le_put(cfg, __atomic_load_n(&b->target, __ATOMIC_ACQUIRE), 4);
	le_put(cfg + 4, __atomic_load_n(&b->actual, __ATOMIC_ACQUIRE), 4);
	if (off < sizeof(cfg) && len <= sizeof(cfg) - off)
		memcpy(data, cfg + off, len);
}

/* Only actual (bytes 4..7) is the driver's to write; any part of it. */
static void balloon_cfg_write(struct virtio_dev *vd, uint32_t off, const uint8_t *data,
			      uint32_t len)
{
	struct virtio_balloon *b = vd->priv;
	uint8_t v[4];

	if (off < 4 || off >= 8 || len > 8 - off)
		return;
	le_put(v, __atomic_load_n(&b->actual, __ATOMIC_ACQUIRE), 4);
	memcpy(v + (off - 4), data, len);
	__atomic_store_n(&b->actual, le_get(v, 4), __ATOMIC_RELEASE);
}

static const struct virtio_dev_ops balloon_ops = {
	.start = balloon_start,
	.stop = balloon_stop,
	.cfg_read = balloon_cfg_read,
	.cfg_write = balloon_cfg_write,
};

static void balloon_free(struct virtio_balloon *b)
{
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	pthread_mutex_destroy(&b->lock);
	free(b->segs);
	free(b->stats_segs);
	free(b);
}

static uint32_t mib_pages(uint32_t mib)
{
	return mib << (20 - PAGE_SHIFT_4K);
}

int virtio_balloon_create(const struct virtio_env *env, const struct husk_balloon_config *cfg,
			  struct virtio_balloon **out)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));
	struct virtio_dev_params p = {
		.name = "virtio-balloon", .device_id = VIRTIO_ID_BALLOON,
		.features = (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC),
		.nqueues = 2, .queue_max = BALLOON_QUEUE_MAX, .cfg_len = BALLOON_CFG_LEN,
		.ops = &balloon_ops,
	};
	const uint32_t nsegs = BALLOON_QUEUE_MAX + VQ_MAX_INDIRECT;
	int ret;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	if ((uint64_t)cfg->amount_mib << 20 > env->mem->size ||
	    cfg->stats_interval_s > HUSK_BALLOON_STATS_MAX_INTERVAL) {
		free(b);
		return -EINVAL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->cfg = *cfg;
	b->mem = env->mem;
	b->q_stats = b->q_report = -1;
	b->target = mib_pages(cfg->amount_mib);
	b->interval_s = cfg->stats_interval_s;
	if (cfg->deflate_on_oom)
		p.features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (cfg->stats_interval_s) {
		p.features |= 1ull << VIRTIO_BALLOON_F_STATS_VQ;
		p.nqueues++;
	}
	if (cfg->free_page_reporting) {
		p.features |= 1ull << VIRTIO_BALLOON_F_REPORTING;
		p.nqueues++;
	}
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	b->segs = calloc(nsegs, sizeof(*b->segs));
	b->stats_segs = calloc(nsegs, sizeof(*b->stats_segs));
	if (b->timer_fd < 0 || !b->segs || !b->stats_segs) {
		balloon_free(b);
		return -ENOMEM;
	}
	vq_chain_init(&b->chain, b->segs, nsegs);
	vq_chain_init(&b->stats_chain, b->stats_segs, nsegs);
	p.priv = b;
	ret = worker_init(&b->worker, "virtio-balloon", env->sandbox);
	if (ret) {
		balloon_free(b);
		return ret;
	}
	ret = virtio_dev_init(&b->vd, &p, env->mem);
	if (!ret)
		ret = virtio_transport_attach(&b->vd, env, &b->tr);
	if (ret) {
		virtio_dev_uninit(&b->vd);
		worker_destroy(&b->worker);
		balloon_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

void virtio_balloon_destroy(struct virtio_balloon *b)
{
	if (!b)
		return;
	virtio_dev_stop(&b->vd);
	virtio_transport_detach(b->tr);
	virtio_dev_uninit(&b->vd);
	worker_destroy(&b->worker);
	balloon_free(b);
}

struct virtio_dev *virtio_balloon_dev(struct virtio_balloon *b)
{
	return &b->vd;
}

struct virtio_transport *virtio_balloon_transport(struct virtio_balloon *b)
{
	return b->tr;
}

/* ---- the API's side ------------------------------------------------------------ */

int virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages)
{
	if ((uint64_t)pages << PAGE_SHIFT_4K > b->mem->size)
		return -EINVAL;
	__atomic_store_n(&b->target, pages, __ATOMIC_RELEASE);
	virtio_dev_config_changed(&b->vd);
	return 0;
}

int virtio_balloon_set_stats_interval(struct virtio_balloon *b, uint32_t seconds)
{
	if (!b->cfg.stats_interval_s)
		return -EPERM;
	if (!seconds || seconds > HUSK_BALLOON_STATS_MAX_INTERVAL)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->interval_s = seconds;
	if (b->vd.started && !b->paused)
		arm_timer(b, seconds);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void virtio_balloon_info(struct virtio_balloon *b, struct husk_balloon_info *out)
{
	memset(out, 0, sizeof(*out));
	out->target_pages = __atomic_load_n(&b->target, __ATOMIC_ACQUIRE);
	out->actual_pages = __atomic_load_n(&b->actual, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&b->lock);
	out->stats_interval_s = b->interval_s;
	out->stats_has = b->stats_has;
	memcpy(out->stats, b->stats, sizeof(out->stats));
	pthread_mutex_unlock(&b->lock);
}

void virtio_balloon_counts(struct virtio_balloon *b, struct virtio_balloon_counts *out)
{
	out->inflated_pages = __atomic_load_n(&b->n.inflated_pages, __ATOMIC_RELAXED);
	out->deflated_pages = __atomic_load_n(&b->n.deflated_pages, __ATOMIC_RELAXED);
	out->discarded_bytes = __atomic_load_n(&b->n.discarded_bytes, __ATOMIC_RELAXED);
	out->reported_bytes = __atomic_load_n(&b->n.reported_bytes, __ATOMIC_RELAXED);
	out->stats_updates = __atomic_load_n(&b->n.stats_updates, __ATOMIC_RELAXED);
	out->bad_pfns = __atomic_load_n(&b->n.bad_pfns, __ATOMIC_RELAXED);
}

/* ---- pause, save, load ------------------------------------------------------------ */

/*
 * The statistics buffer held goes back to the guest's avail ring (it is
 * the last chain popped from that queue: only one is taken at a time), so
 * the resumed or restored device takes it again.
 */
static void balloon_quiesce(struct virtio_balloon *b)
{
	worker_pause(&b->worker);
	pthread_mutex_lock(&b->lock);
	arm_timer(b, 0);
	pthread_mutex_unlock(&b->lock);
	eventfd_drain(b->timer_fd);
	if (b->holding) {
		b->vd.vq[b->q_stats].st.last_avail_idx--;
		b->holding = false;
	}
}

void virtio_balloon_pause(struct virtio_balloon *b)
{
	if (b->vd.started)
		balloon_quiesce(b);
	b->paused = true;
}

void virtio_balloon_resume(struct virtio_balloon *b)
{
	b->paused = false;
	if (b->vd.started && b->q_stats >= 0) {
		pthread_mutex_lock(&b->lock);
		arm_timer(b, b->interval_s);
		pthread_mutex_unlock(&b->lock);
	}
	worker_resume(&b->worker);
	if (b->vd.started && b->q_stats >= 0)
		eventfd_kick(b->vd.kick_fd[b->q_stats]);	/* the buffer put back */
}

int virtio_balloon_save(struct virtio_balloon *b, struct state_writer *w)
{
	if (b->vd.started && !b->paused)
		return -EBUSY;
	virtio_dev_save(&b->vd, w);
	sw_u32(w, __atomic_load_n(&b->target, __ATOMIC_ACQUIRE));
	sw_u32(w, __atomic_load_n(&b->actual, __ATOMIC_ACQUIRE));
	pthread_mutex_lock(&b->lock);
	sw_u32(w, b->interval_s);
	sw_u32(w, b->stats_has);
	for (unsigned i = 0; i < HUSK_BALLOON_NTAGS; i++)
		sw_u64(w, b->stats[i]);
	pthread_mutex_unlock(&b->lock);
	return w->err;
}

int virtio_balloon_load(struct virtio_balloon *b, struct state_reader *r)
{
	struct virtio_dev_saved s;
	uint32_t target, actual, interval, has;
	uint64_t stats[HUSK_BALLOON_NTAGS];

	if (virtio_dev_read(&b->vd, r, &s))
		return r->err;
	target = sr_u32(r);
	actual = sr_u32(r);
	interval = sr_u32(r);
	has = sr_u32(r);
	for (unsigned i = 0; i < HUSK_BALLOON_NTAGS; i++)
		stats[i] = sr_u64(r);
	if (sr_done(r))
		return r->err;
	if ((uint64_t)target << PAGE_SHIFT_4K > b->mem->size)
		return sr_fail(r, "virtio-balloon: a target of %u pages in %llu bytes of RAM",
			       target, (unsigned long long)b->mem->size);
	if (interval > HUSK_BALLOON_STATS_MAX_INTERVAL || !interval != !b->cfg.stats_interval_s)
		return sr_fail(r, "virtio-balloon: a statistics interval of %u s", interval);
	if (has >> HUSK_BALLOON_NTAGS)
		return sr_fail(r, "virtio-balloon: statistics tags %#x", has);
	virtio_dev_apply(&b->vd, &s);
	__atomic_store_n(&b->target, target, __ATOMIC_RELEASE);
	__atomic_store_n(&b->actual, actual, __ATOMIC_RELEASE);
	pthread_mutex_lock(&b->lock);
	b->interval_s = interval;
	b->stats_has = has;
	memcpy(b->stats, stats, sizeof(stats));
	pthread_mutex_unlock(&b->lock);
	virtio_dev_start_loaded(&b->vd, &s);
	/* loaded into a paused VM: the start may have taken the statistics buffer */
	if (b->paused && b->vd.started)
		balloon_quiesce(b);
	return 0;
}
