// SPDX-License-Identifier: MIT
/*
 * virtio-blk (virtio 1.2, 5.2) on a raw image.
 *
 * Features offered: VERSION_1, RING_EVENT_IDX, RING_INDIRECT_DESC, SEG_MAX
 * (BLK_SEG_MAX data segments a request), BLK_SIZE (the image's logical
 * block), FLUSH (a real fdatasync), MQ (more than one queue), DISCARD and
 * WRITE_ZEROES (when the image supports fallocate, one segment a request),
 * RO (ro=on).
 *
 * Request path: a guest notify lands on the queue's kick eventfd (a KVM
 * ioeventfd); the queue's I/O thread pops every available chain, parses it
 * (virtio_blk_req.c: every length and range is checked), queues the reads,
 * writes, flushes, discards and write-zeroes on the queue's block engine
 * and submits the batch with one call (io_uring_submit). Completions come
 * back on the engine's eventfd, which the same thread watches: it writes
 * each status byte, pushes the used elements and interrupts the guest once
 * for the batch (MSI-X irqfd, or EVENT_IDX says not to). Nothing on this
 * path runs on a vCPU thread or allocates.
 *
 * A request slot per descriptor of the queue: a guest can never have more
 * chains in flight than the queue has descriptors, so slots never run out.
 */
#include "virtio/virtio_blk.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/statebuf.h"
#include "virtio/virtio_blk_req.h"
#include "virtio/worker.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define BLK_QUEUE_MAX		256
#define BLK_SEG_MAX		126		/* data segments a request */
#define BLK_CHAIN_SEGS		(BLK_SEG_MAX + 2)	/* + header and status */
#define BLK_MAX_DWZ_SECTORS	(1u << 22)	/* 2 GiB per discard / write-zeroes */
#define BLK_REAP_BATCH		64
#define BLK_RUN_PASSES		16	/* queue_run rounds before it yields */
#define BLK_CFG_LEN		offsetof(struct virtio_blk_config, max_secure_erase_sectors)

struct blk_slot {
	struct blk_io io;
	struct blk_req req;
	uint16_t head;
	struct iovec iov[BLK_SEG_MAX];
};

struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	bool started;
	struct worker worker;
	struct blk_engine *engine;
	struct vq_seg segs[BLK_CHAIN_SEGS];
	struct vq_chain chain;
	struct blk_slot *slots;
	uint16_t *free;			/* stack of free slot indices */
	unsigned nfree;
	struct virtio_blk_stats stats;	/* written by this queue's thread only */
	int timer_fd;			/* a held request's wait (rate limit) */
	struct blk_slot *held;		/* popped, waiting for the rate limit */
};

struct virtio_blk {
	struct virtio_dev vd;
	struct virtio_transport *tr;
	struct blk_image img;
	struct blk_disk_info info;
	char name[32];
	char serial[BLK_REQ_SERIAL_LEN + 1];
	unsigned nqueues;
	unsigned long poll_ns;		/* idle polling per queue thread, 0: none */
	struct blk_queue q[HUSK_MAX_QUEUES];
	uint8_t cfg[BLK_CFG_LEN];
	bool paused;			/* virtio_blk_pause() .. resume() (API thread) */
	const struct blk_write_hook *write_hook;	/* replication: every completed write */
	struct rate_limiter rl;		/* rate_limiter: shared by the queues */
};

/* ---- the request path (queue thread) ------------------------------------------ */

/*
 * Counters: each queue's are written by its own thread only, and read by
 * the API thread (metrics), hence relaxed atomic stores and loads.
 */
#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static void count_req(struct virtio_blk_stats *s, const struct blk_req *r)
{
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		STAT_ADD(s->reads, 1);
		STAT_ADD(s->read_bytes, r->len);
		break;
	case VIRTIO_BLK_T_OUT:
		STAT_ADD(s->writes, 1);
		STAT_ADD(s->write_bytes, r->len);
		break;
	case VIRTIO_BLK_T_FLUSH:	STAT_ADD(s->flushes, 1); break;
	case VIRTIO_BLK_T_DISCARD:	STAT_ADD(s->discards, 1); break;
	case VIRTIO_BLK_T_WRITE_ZEROES:	STAT_ADD(s->write_zeroes, 1); break;
	case VIRTIO_BLK_T_GET_ID:	STAT_ADD(s->get_ids, 1); break;
	}
	if (r->status_val != VIRTIO_BLK_S_OK)
		STAT_ADD(s->errors, 1);
}

static void slot_finish(struct blk_queue *q, struct blk_slot *s)
{
	struct virtqueue *vq = &q->blk->vd.vq[q->index];

	count_req(&q->stats, &s->req);
	virtqueue_push(vq, s->head, s->req.written);
	q->free[q->nfree++] = (uint16_t)(s - q->slots);
}

static enum blk_op op_for(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:		return BLK_OP_READ;
	case VIRTIO_BLK_T_OUT:		return BLK_OP_WRITE;
	case VIRTIO_BLK_T_DISCARD:	return BLK_OP_DISCARD;
	case VIRTIO_BLK_T_WRITE_ZEROES:	return BLK_OP_WRITE_ZEROES;
	default:			return BLK_OP_FLUSH;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The rate limit (Firecracker's: a request is one op and its data bytes):
 * may @s start now? Else it is held, with no guest notifications wanted,
 * until the timer says the tokens are there; the thread never spins.
 */
static bool rate_allows(struct blk_queue *q, struct blk_slot *s)
{
	uint32_t t = s->req.type;
	struct itimerspec its = { 0 };
	uint64_t wait;

	if (!rl_active(&q->blk->rl))
		return true;
	wait = rl_consume(&q->blk->rl, t == VIRTIO_BLK_T_IN || t == VIRTIO_BLK_T_OUT ?
			  s->req.len : 0, 1, mono_ns());
	if (!wait)
		return true;
	q->held = s;
	its.it_value.tv_sec = (time_t)(wait / 1000000000ULL);
	its.it_value.tv_nsec = (long)(wait % 1000000000ULL);
	timerfd_settime(q->timer_fd, 0, &its, NULL);
	STAT_ADD(q->stats.throttled, 1);
	return false;
}

static void start_io(struct blk_queue *q, struct blk_slot *s)
{
	int ret;

	s->io = (struct blk_io){
		.op = op_for(s->req.type), .offset = s->req.offset, .len = s->req.len,
		.iov = s->iov, .iovcnt = s->req.iovcnt, .unmap = s->req.unmap, .cookie = s,
	};
	if (s->io.op == BLK_OP_FLUSH)
		s->io.offset = s->io.len = 0;
	ret = blk_engine_queue(q->engine, &s->io);
	if (ret) {
		pr_debug("%s: queue %u: request refused by the engine: %s", q->blk->name,
			 q->index, strerror(-ret));
		blk_req_complete(&s->req, ret);
		slot_finish(q, s);
	}
}

static void handle_chain(struct blk_queue *q)
{
	struct blk_slot *s = &q->slots[q->free[--q->nfree]];

	s->head = q->chain.head;
	if (blk_req_parse(&q->chain, &q->blk->info, &s->req, s->iov, BLK_SEG_MAX) != BLK_REQ_IO)
		slot_finish(q, s);
	else if (rate_allows(q, s))
		start_io(q, s);
}

/* Pop and start everything available; the caller interrupts. */
static void queue_pop_all(struct blk_queue *q)
{
	struct virtqueue *vq = &q->blk->vd.vq[q->index];
	struct blk_slot *held = q->held;
	int ret = 0;

	if (held) {
		q->held = NULL;
		if (!rate_allows(q, held))
			return;		/* its timer brings us back */
		start_io(q, held);
	}
	do {
		virtqueue_set_notify(vq, false);
		while (q->nfree && !q->held && (ret = virtqueue_pop(vq, &q->chain)) > 0)
			handle_chain(q);
	} while (q->nfree && !q->held && ret == 0 && virtqueue_enable_notify(vq));
	if (ret < 0)
		virtio_dev_needs_reset(&q->blk->vd);
	ret = blk_engine_submit(q->engine);
	if (ret) {
		/*
		 * The batch stays queued (io_uring short of memory: -EAGAIN,
		 * -EBUSY). Come back in a millisecond through our own kick fd,
		 * so requests never wait for a guest notify that may not come.
		 */
		struct timespec ms = { .tv_nsec = 1000000 };

		pr_debug("%s: queue %u: submit: %s (retrying)", q->blk->name, q->index,
			 strerror(-ret));
		nanosleep(&ms, NULL);
		eventfd_kick(q->blk->vd.kick_fd[q->index]);
	}
}

/* A write, write-zeroes or discard the guest is about to see complete: replication's log. */
static void observe_write(struct blk_queue *q, const struct blk_slot *s)
{
	const struct blk_write_hook *h = __atomic_load_n(&q->blk->write_hook, __ATOMIC_ACQUIRE);
	uint32_t t = s->req.type;

	if (!h || s->req.status_val != VIRTIO_BLK_S_OK ||
	    (t != VIRTIO_BLK_T_OUT && t != VIRTIO_BLK_T_WRITE_ZEROES && t != VIRTIO_BLK_T_DISCARD))
		return;
	h->write(h->ctx, h->disk, s->req.offset, s->req.len,
		 t == VIRTIO_BLK_T_OUT ? s->iov : NULL, s->req.iovcnt);
}

static unsigned reap_completions(struct blk_queue *q)
{
	struct blk_io *done[BLK_REAP_BATCH];
	unsigned n, total = 0;

	while ((n = blk_engine_reap(q->engine, done, BLK_REAP_BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct blk_slot *s = done[i]->cookie;

			blk_req_complete(&s->req, done[i]->result);
			observe_write(q, s);
			slot_finish(q, s);
		}
		total += n;
	}
	return total;
}

static void interrupt(struct blk_queue *q, uint16_t old)
{
	struct virtqueue *vq = &q->blk->vd.vq[q->index];

	if (vq->st.used_idx != old && virtio_dev_queue_done(&q->blk->vd, q->index, old))
		STAT_ADD(q->stats.interrupts, 1);
}

/*
 * Reap, pop and submit, then reap again at once: io_uring completes a read
 * from the page cache inside the submit, and taking it now saves a wakeup
 * and gets the used entry to a polling guest sooner. Go round while that
 * reap finds something (slots came back: chains may be waiting), at most
 * BLK_RUN_PASSES times, then kick itself so that it comes back for the rest.
 * One interrupt for all of it.
 */
static void queue_run(struct blk_queue *q)
{
	uint16_t old = q->blk->vd.vq[q->index].st.used_idx;
	unsigned passes = 0, late;

	reap_completions(q);
	do {
		queue_pop_all(q);
		late = reap_completions(q);
	} while (late && ++passes < BLK_RUN_PASSES);
	if (late)	/* slots came back after the last pop: come back for them */
		eventfd_kick(q->blk->vd.kick_fd[q->index]);
	interrupt(q, old);
}

/*
 * Idle polling (worker_poll_fn): when nothing is in flight, the queue's
 * thread watches the avail ring for a while with notifications suppressed,
 * so a guest that sends its next request soon (a polling driver refilling
 * its queue depth) costs neither an exit nor a wakeup.
 */
static bool queue_poll(void *ctx, enum worker_poll_step step)
{
	struct blk_queue *q = ctx;
	struct virtqueue *vq = &q->blk->vd.vq[q->index];

	switch (step) {
	case WORKER_POLL_BEGIN:
		if (!vq->st.ready || blk_engine_inflight(q->engine) || q->held)
			return false;
		virtqueue_suppress_notify(vq);
		return true;
	case WORKER_POLL_CHECK:
		if (!virtqueue_has_avail(vq))
			return false;
		break;
	default:
		if (!virtqueue_enable_notify(vq))
			return false;
		break;
	}
	STAT_ADD(q->stats.polled, 1);
	queue_run(q);
	return true;
}

static void on_kick(void *ctx)
{
	struct blk_queue *q = ctx;

	eventfd_drain(q->blk->vd.kick_fd[q->index]);
	queue_run(q);
}

static void on_completion(void *ctx)
{
	queue_run(ctx);
}

static void on_rate_timer(void *ctx)
{
	struct blk_queue *q = ctx;

	eventfd_drain(q->timer_fd);	/* a timerfd reads as 8 bytes, as an eventfd */
	queue_run(q);
}

/* ---- start, stop, pause (transport lock held / API thread) --------------------- */

static void queue_reset_slots(struct blk_queue *q)
{
	q->nfree = BLK_QUEUE_MAX;
	for (unsigned i = 0; i < BLK_QUEUE_MAX; i++)
		q->free[i] = (uint16_t)(BLK_QUEUE_MAX - 1 - i);
}

/* Wait for the engine's in-flight I/O (it writes guest memory) and drop it. */
static void queue_drain(struct blk_queue *q)
{
	struct blk_io *done[BLK_REAP_BATCH];
	struct pollfd p = { .fd = blk_engine_completion_fd(q->engine), .events = POLLIN };

	blk_engine_submit(q->engine);
	while (blk_engine_inflight(q->engine)) {
		if (poll(&p, 1, 1000) == 0)
			pr_warn("%s: queue %u: waiting for %u requests", q->blk->name, q->index,
				blk_engine_inflight(q->engine));
		while (blk_engine_reap(q->engine, done, BLK_REAP_BATCH) > 0)
			;
	}
	q->held = NULL;		/* a reset: the guest forgets it too */
	timerfd_settime(q->timer_fd, 0, &(struct itimerspec){ 0 }, NULL);
	queue_reset_slots(q);
}

static int queue_start(struct blk_queue *q)
{
	struct virtio_dev *vd = &q->blk->vd;
	int ret;

	worker_unwatch_all(&q->worker);
	ret = worker_watch(&q->worker, vd->kick_fd[q->index], on_kick, q);
	if (!ret)
		ret = worker_watch(&q->worker, blk_engine_completion_fd(q->engine), on_completion, q);
	if (!ret)
		ret = worker_watch(&q->worker, q->timer_fd, on_rate_timer, q);
	if (!ret)
		ret = worker_start(&q->worker);
	if (ret)
		return ret;
	q->started = true;
	eventfd_kick(vd->kick_fd[q->index]);	/* buffers may be there already */
	return 0;
}

static void blk_stop(struct virtio_dev *vd)
{
	struct virtio_blk *blk = vd->priv;

	for (unsigned i = 0; i < blk->nqueues; i++) {
		struct blk_queue *q = &blk->q[i];

		if (!q->started)
			continue;
		worker_stop(&q->worker);
		queue_drain(q);
		q->started = false;
	}
}

static int blk_start(struct virtio_dev *vd)
{
	struct virtio_blk *blk = vd->priv;

	for (unsigned i = 0; i < blk->nqueues; i++) {
		int ret;

		if (!vd->st.q[i].enabled)
			continue;	/* the driver uses fewer queues than offered */
		ret = queue_start(&blk->q[i]);
		if (ret) {
			blk_stop(vd);
			return ret;
		}
	}
	return 0;
}

/*
 * The quiesce step of a pause: with the queue's thread parked (it touches
 * neither the queue nor the engine until resume), finish on this thread
 * what the engine still holds: submit what is queued, wait for every
 * request, write its status, push it and interrupt. Afterwards nothing is
 * in flight: every chain popped has been pushed (last_avail_idx ==
 * used_idx), so a snapshot holds no request the guest would never see
 * answered. Chains the guest posted but we did not pop stay in its avail
 * ring and are served after resume (or after a restore).
 */
static void queue_quiesce(struct blk_queue *q)
{
	struct pollfd p = { .fd = blk_engine_completion_fd(q->engine), .events = POLLIN };
	uint16_t old = q->blk->vd.vq[q->index].st.used_idx;

	if (q->held) {
		/* popped already: it must be answered before a snapshot, limit or not */
		start_io(q, q->held);
		q->held = NULL;
	}
	blk_engine_submit(q->engine);
	reap_completions(q);
	while (blk_engine_inflight(q->engine)) {
		if (poll(&p, 1, 1000) == 0)
			pr_warn("%s: queue %u: pause waits for %u requests", q->blk->name,
				q->index, blk_engine_inflight(q->engine));
		reap_completions(q);
	}
	interrupt(q, old);
}

static void pause_started(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < blk->nqueues; i++) {
		if (!blk->q[i].started)
			continue;
		worker_pause(&blk->q[i].worker);
		queue_quiesce(&blk->q[i]);
	}
}

void virtio_blk_pause(struct virtio_blk *blk)
{
	pause_started(blk);
	blk->paused = true;
}

void virtio_blk_resume(struct virtio_blk *blk)
{
	blk->paused = false;
	for (unsigned i = 0; i < blk->nqueues; i++)
		worker_resume(&blk->q[i].worker);
}

/* ---- saved state ------------------------------------------------------------------ */

int virtio_blk_save(struct virtio_blk *blk, struct state_writer *w)
{
	for (unsigned i = 0; i < blk->nqueues; i++) {
		struct blk_queue *q = &blk->q[i];
		const struct virtqueue_state *vs = &blk->vd.vq[i].st;

		if (!q->started)
			continue;
		if (!blk->paused)
			return -EBUSY;	/* its thread may be mid-request: pause first */
		if (blk_engine_inflight(q->engine) || vs->last_avail_idx != vs->used_idx) {
			pr_warn("%s: queue %u: %u requests in flight after the pause", blk->name,
				i, (uint16_t)(vs->last_avail_idx - vs->used_idx));
			return -EBUSY;
		}
	}
	virtio_dev_save(&blk->vd, w);
	sw_u32(w, blk->nqueues);
	sw_bytes(w, blk->cfg, sizeof(blk->cfg));
	return w->err;
}

int virtio_blk_load(struct virtio_blk *blk, struct state_reader *r)
{
	struct virtio_dev_saved s;
	uint8_t cfg[BLK_CFG_LEN];
	uint32_t nqueues;

	if (virtio_dev_read(&blk->vd, r, &s))
		return r->err;
	nqueues = sr_u32(r);
	sr_bytes(r, cfg, sizeof(cfg));
	if (sr_done(r))
		return r->err;
	if (nqueues != blk->nqueues)
		return sr_fail(r, "%s: %u queues saved, the disk has %u", blk->name, nqueues,
			       blk->nqueues);
	if (memcmp(cfg, blk->cfg, sizeof(cfg)))
		return sr_fail(r, "%s: the disk's geometry or features differ from the saved "
			       "ones", blk->name);
	for (unsigned i = 0; i < nqueues; i++)
		if (s.vq[i].last_avail_idx != s.vq[i].used_idx)
			return sr_fail(r, "%s: queue %u: %u requests in flight (a save pauses "
				       "and completes them)", blk->name, i,
				       (uint16_t)(s.vq[i].last_avail_idx - s.vq[i].used_idx));
	virtio_dev_apply(&blk->vd, &s);
	virtio_dev_start_loaded(&blk->vd, &s);
	if (blk->paused)
		pause_started(blk);	/* loaded into a paused VM: stay parked */
	return 0;
}

static void blk_cfg_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_blk *blk = vd->priv;

	memcpy(data, blk->cfg + off, len);
}

static const struct virtio_dev_ops blk_ops = {
	.start = blk_start,
	.stop = blk_stop,
	.cfg_read = blk_cfg_read,
};

/* ---- setup ----------------------------------------------------------------------- */

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#define CFG_PUT(blk, field, v) \
	put((blk)->cfg + offsetof(struct virtio_blk_config, field), (v), \
	    sizeof(((struct virtio_blk_config *)0)->field))

static void fill_config(struct virtio_blk *blk)
{
	uint32_t align = blk->img.logical_block / 512;

	memset(blk->cfg, 0, sizeof(blk->cfg));
	CFG_PUT(blk, capacity, blk->info.sectors);
	CFG_PUT(blk, seg_max, BLK_SEG_MAX);
	CFG_PUT(blk, blk_size, blk->img.logical_block);
	CFG_PUT(blk, num_queues, blk->nqueues);
	CFG_PUT(blk, max_discard_sectors, BLK_MAX_DWZ_SECTORS);
	CFG_PUT(blk, max_discard_seg, 1);
	CFG_PUT(blk, discard_sector_alignment, align ? align : 1);
	CFG_PUT(blk, max_write_zeroes_sectors, BLK_MAX_DWZ_SECTORS);
	CFG_PUT(blk, max_write_zeroes_seg, 1);
	CFG_PUT(blk, write_zeroes_may_unmap, blk->img.discard ? 1 : 0);
}

static uint64_t offered_features(const struct virtio_blk *blk)
{
	uint64_t f = (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ull << VIRTIO_BLK_F_FLUSH);

	if (blk->nqueues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	if (blk->info.readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	if (blk->info.discard)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (blk->info.write_zeroes)
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

static int queue_init(struct virtio_blk *blk, unsigned i, enum husk_blk_engine kind,
		      const struct husk_sandbox *sb, char *err, size_t errlen)
{
	struct blk_queue *q = &blk->q[i];
	char name[24];	/* worker_init() keeps the first 15 bytes */
	int ret;

	q->blk = blk;
	q->index = i;
	q->slots = calloc(BLK_QUEUE_MAX, sizeof(*q->slots));
	q->free = calloc(BLK_QUEUE_MAX, sizeof(*q->free));
	if (!q->slots || !q->free) {
		snprintf(err, errlen, "--disk path=%s: %s", blk->img.path, strerror(ENOMEM));
		return -ENOMEM;
	}
	vq_chain_init(&q->chain, q->segs, BLK_CHAIN_SEGS);
	queue_reset_slots(q);
	q->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (q->timer_fd < 0) {
		snprintf(err, errlen, "--disk path=%s: timerfd: %s", blk->img.path, strerror(errno));
		return -errno;
	}
	snprintf(name, sizeof(name), "blk%.6s-q%u", blk->name, i);
	ret = worker_init(&q->worker, name, sb);
	if (ret) {
		snprintf(err, errlen, "--disk path=%s: I/O thread: %s", blk->img.path,
			 strerror(-ret));
		return ret;
	}
	worker_set_poll(&q->worker, queue_poll, q, blk->poll_ns);
	return blk_engine_create(&blk->img, kind, BLK_QUEUE_MAX, &q->engine, err, errlen);
}

static void queue_uninit(struct blk_queue *q)
{
	if (q->engine)
		blk_engine_destroy(q->engine);
	if (q->blk)
		worker_destroy(&q->worker);
	free(q->slots);
	free(q->free);
	if (q->timer_fd > 0)
		close(q->timer_fd);
	memset(q, 0, sizeof(*q));
}

static void blk_free(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < blk->nqueues; i++)
		queue_uninit(&blk->q[i]);
	blk_image_close(&blk->img);
	rl_destroy(&blk->rl);
	free(blk);
}

static unsigned queue_count(const struct husk_disk_config *cfg, unsigned ncpus)
{
	unsigned n = cfg->queues ? cfg->queues : ncpus;

	return n < 1 ? 1 : n > HUSK_MAX_QUEUES ? HUSK_MAX_QUEUES : n;
}

static void describe(struct virtio_blk *blk, const struct husk_disk_config *cfg)
{
	snprintf(blk->name, sizeof(blk->name), "%s", cfg->id ? cfg->id : "disk");
	blk->poll_ns = 1000ul * (cfg->poll_set ? cfg->poll_us : HUSK_DISK_POLL_US_DEFAULT);
	snprintf(blk->serial, sizeof(blk->serial), "%.20s", cfg->serial ? cfg->serial : blk->name);
	blk->info = (struct blk_disk_info){
		.sectors = blk->img.size / 512,
		.readonly = blk->img.readonly,
		.discard = blk->img.discard && !blk->img.readonly,
		.write_zeroes = blk->img.write_zeroes && !blk->img.readonly,
		.max_discard_sectors = BLK_MAX_DWZ_SECTORS,
		.max_write_zeroes_sectors = BLK_MAX_DWZ_SECTORS,
		.serial = blk->serial,
	};
}

int virtio_blk_create(const struct virtio_env *env, const struct husk_disk_config *cfg,
		      struct blk_image *img, unsigned ncpus, struct virtio_blk **out,
		      char *err, size_t errlen)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	struct virtio_dev_params p = {
		.device_id = VIRTIO_ID_BLOCK, .queue_max = BLK_QUEUE_MAX, .cfg_len = BLK_CFG_LEN,
		.ops = &blk_ops,
	};
	int ret = 0;

	*out = NULL;
	if (!blk) {
		blk_image_close(img);
		snprintf(err, errlen, "--disk path=%s: %s", img->path, strerror(ENOMEM));
		return -ENOMEM;
	}
	blk->img = *img;
	blk->img.sandbox = env->sandbox;
	img->fd = -1;
	blk->nqueues = queue_count(cfg, ncpus);
	rl_init(&blk->rl, &cfg->rate, mono_ns());
	describe(blk, cfg);
	fill_config(blk);
	for (unsigned i = 0; i < blk->nqueues && !ret; i++)
		ret = queue_init(blk, i, cfg->engine, env->sandbox, err, errlen);
	if (ret) {
		blk_free(blk);
		return ret;
	}
	p.name = blk->name;
	p.features = offered_features(blk);
	p.nqueues = blk->nqueues;
	p.priv = blk;
	ret = virtio_dev_init(&blk->vd, &p, env->mem);
	if (!ret)
		ret = virtio_transport_attach(&blk->vd, env, &blk->tr);
	if (ret) {
		snprintf(err, errlen, "--disk path=%s: cannot add the device: %s", blk->img.path,
			 strerror(-ret));
		virtio_dev_uninit(&blk->vd);
		blk_free(blk);
		return ret;
	}
	pr_debug("%s: %s, %llu sectors, %u queues, %s engine", blk->name, blk->img.path,
		 (unsigned long long)blk->info.sectors, blk->nqueues, virtio_blk_engine_name(blk));
	*out = blk;
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (!blk)
		return;
	/* stop, unbind the ioeventfds while their fds are open, then close them */
	virtio_dev_stop(&blk->vd);
	virtio_transport_detach(blk->tr);
	virtio_dev_uninit(&blk->vd);
	blk_free(blk);
}

struct virtio_transport *virtio_blk_transport(struct virtio_blk *blk)
{
	return blk->tr;
}

struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk)
{
	return &blk->vd;
}

unsigned virtio_blk_queues(const struct virtio_blk *blk)
{
	return blk->nqueues;
}

const char *virtio_blk_engine_name(const struct virtio_blk *blk)
{
	return blk->q[0].engine ? blk_engine_name(blk->q[0].engine) : "none";
}

void virtio_blk_stats(const struct virtio_blk *blk, struct virtio_blk_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < blk->nqueues; i++) {
		const struct virtio_blk_stats *s = &blk->q[i].stats;
		struct blk_engine_stats es;

		out->reads += STAT_GET(s->reads);
		out->writes += STAT_GET(s->writes);
		out->flushes += STAT_GET(s->flushes);
		out->discards += STAT_GET(s->discards);
		out->write_zeroes += STAT_GET(s->write_zeroes);
		out->get_ids += STAT_GET(s->get_ids);
		out->read_bytes += STAT_GET(s->read_bytes);
		out->write_bytes += STAT_GET(s->write_bytes);
		out->errors += STAT_GET(s->errors);
		out->interrupts += STAT_GET(s->interrupts);
		out->polled += STAT_GET(s->polled);
		out->throttled += STAT_GET(s->throttled);
		blk_engine_stats(blk->q[i].engine, &es);
		out->engine_submits += es.submit_calls;
		out->engine_sqes += es.submitted;
		out->engine_completions += es.completed;
	}
}

int virtio_blk_lock(struct virtio_blk *blk, bool lock, char *err, size_t errlen)
{
	if (!lock) {
		blk_image_unlock(&blk->img);
		return 0;
	}
	return blk_image_lock(&blk->img, err, errlen);
}

void virtio_blk_set_write_hook(struct virtio_blk *blk, const struct blk_write_hook *hook)
{
	__atomic_store_n(&blk->write_hook, hook, __ATOMIC_RELEASE);
}

const struct blk_image *virtio_blk_image(const struct virtio_blk *blk)
{
	return &blk->img;
}

void virtio_blk_set_rate_limit(struct virtio_blk *blk, const struct husk_rate_limit *rate)
{
	rl_update(&blk->rl, rate, mono_ns());
	/* a held request asks again now, under the new limits */
	for (unsigned i = 0; i < blk->nqueues; i++)
		if (blk->q[i].started)
			eventfd_kick(blk->vd.kick_fd[i]);
}
