// SPDX-License-Identifier: MIT
/*
 * virtio-rng (virtio 1.2, 5.4): one queue, "requestq"; the device fills
 * each chain's device-writable part with bytes from getrandom() and
 * returns it with the number of bytes written.
 *
 * Rate limit: a token bucket of RNG_RATE bytes per second (1 MiB/s) with
 * a burst of RNG_BURST bytes, and at most RNG_CHAIN_MAX bytes per chain
 * (a larger buffer is filled partly; the driver asks again). When the
 * bucket holds less than a chain needs, the handler sleeps until it does
 * (at most RNG_CHAIN_MAX / RNG_RATE, 62.5 ms per chain): the notifying
 * vCPU pays for its own guest's appetite.
 *
 * Threading: the device's own I/O thread (virtio/worker.h) serves the
 * queue: a guest notify reaches it through the queue's kick eventfd (a KVM
 * ioeventfd, no exit to husk). When the bucket is empty the thread arms a
 * timerfd for the time the next chain needs instead of sleeping, so a
 * pause or reset never waits for the rate limit.
 */
#include "virtio/virtio_rng.h"
#include "core/log.h"
#include "core/statebuf.h"
#include "virtio/worker.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <time.h>

#define RNG_QUEUE_MAX	256
#define RNG_RATE	(1ull << 20)		/* bytes per second */
#define RNG_BURST	(256ull << 10)		/* bucket capacity */
#define RNG_CHAIN_MAX	(64u << 10)		/* bytes per chain */

struct virtio_rng {
	struct virtio_dev vd;
	struct virtio_transport *tr;
	struct worker worker;
	int timer_fd;				/* armed while the bucket refills */
	bool waiting;				/* a chain waits for tokens */
	struct vq_seg *segs;
	struct vq_chain chain;
	uint64_t tokens;			/* bytes */
	uint64_t last_ns;			/* last refill */
	bool paused;				/* pause .. resume (API thread) */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void bucket_refill(struct virtio_rng *r)
{
	uint64_t now = mono_ns();
	uint64_t add = (now - r->last_ns) * RNG_RATE / 1000000000ull;

	if (!add)
		return;
	/* Advance the clock by exactly what the added tokens cost. */
	r->last_ns += add * 1000000000ull / RNG_RATE;
	r->tokens = r->tokens + add > RNG_BURST ? RNG_BURST : r->tokens + add;
	if (r->tokens == RNG_BURST)
		r->last_ns = now;
}

/* Take @want tokens (want <= RNG_BURST) or arm the timer for when they are there. */
static bool bucket_take(struct virtio_rng *r, uint64_t want)
{
	uint64_t ns;
	struct itimerspec its = { 0 };

	bucket_refill(r);
	if (r->tokens >= want) {
		r->tokens -= want;
		return true;
	}
	ns = (want - r->tokens) * 1000000000ull / RNG_RATE + 1;
	its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(ns % 1000000000ull);
	if (timerfd_settime(r->timer_fd, 0, &its, NULL) < 0)
		pr_warn("virtio-rng: timerfd: %s", strerror(errno));
	return false;
}

/* Fill up to @want bytes of the chain's writable part; returns bytes written. */
static uint32_t fill_chain(const struct vq_chain *c, uint32_t want)
{
	uint32_t done = 0;

	for (uint32_t i = c->nreadable; i < c->nsegs && done < want; i++) {
		const struct vq_seg *s = &c->segs[i];
		uint32_t n = s->len < want - done ? s->len : want - done;
		uint32_t got = 0;

		while (got < n) {
			ssize_t k = getrandom(s->hva + got, n - got, 0);

			if (k < 0) {
				if (errno == EINTR)
					continue;
				pr_warn("virtio-rng: getrandom: %s", strerror(errno));
				return done + got;
			}
			got += (uint32_t)k;
		}
		done += got;
	}
	return done;
}

/*
 * Serve the queue until it is empty or the bucket is. A chain that must
 * wait for tokens stays popped (r->chain) until the timer fires.
 */
static void rng_serve(struct virtio_rng *r)
{
	struct virtio_dev *vd = &r->vd;
	struct virtqueue *vq = &vd->vq[0];
	uint16_t old = vq->st.used_idx;
	int ret = 0;

	do {
		virtqueue_set_notify(vq, false);
		for (;;) {
			uint64_t wl;
			uint32_t want;

			if (!r->waiting) {
				ret = virtqueue_pop(vq, &r->chain);
				if (ret <= 0)
					break;
			}
			wl = vq_chain_writable_len(&r->chain);
			want = wl < RNG_CHAIN_MAX ? (uint32_t)wl : RNG_CHAIN_MAX;
			r->waiting = !bucket_take(r, want);
			if (r->waiting)
				goto out;
			virtqueue_push(vq, r->chain.head, fill_chain(&r->chain, want));
		}
	} while (ret == 0 && virtqueue_enable_notify(vq));
	if (ret < 0)
		virtio_dev_needs_reset(vd);
out:
	virtio_dev_queue_done(vd, 0, old);
}

static void rng_kick(void *ctx)
{
	struct virtio_rng *r = ctx;

	eventfd_drain(r->vd.kick_fd[0]);
	if (!r->waiting)
		rng_serve(r);
}

static void rng_timer(void *ctx)
{
	struct virtio_rng *r = ctx;

	eventfd_drain(r->timer_fd);	/* a timerfd reads like an eventfd: 8 bytes */
	rng_serve(r);
}

static int rng_start(struct virtio_dev *vd)
{
	struct virtio_rng *r = vd->priv;
	int ret;

	worker_unwatch_all(&r->worker);
	ret = worker_watch(&r->worker, vd->kick_fd[0], rng_kick, r);
	if (!ret)
		ret = worker_watch(&r->worker, r->timer_fd, rng_timer, r);
	if (!ret)
		ret = worker_start(&r->worker);
	if (!ret)
		eventfd_kick(vd->kick_fd[0]);	/* buffers may be there already */
	return ret;
}

static void rng_stop(struct virtio_dev *vd)
{
	struct virtio_rng *r = vd->priv;
	struct itimerspec off = { 0 };

	worker_stop(&r->worker);
	timerfd_settime(r->timer_fd, 0, &off, NULL);
	eventfd_drain(r->timer_fd);
	r->waiting = false;
}

static const struct virtio_dev_ops rng_ops = {
	.start = rng_start,
	.stop = rng_stop,
};

static void rng_free(struct virtio_rng *r)
{
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	free(r->segs);
	free(r);
}

int virtio_rng_create(const struct virtio_env *env, struct virtio_rng **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	struct virtio_dev_params p = {
		.name = "virtio-rng", .device_id = VIRTIO_ID_RNG,
		.features = (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC),
		.nqueues = 1, .queue_max = RNG_QUEUE_MAX, .cfg_len = 0, .ops = &rng_ops,
	};
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	/* Room for any legal chain: a full direct chain plus an indirect table. */
	r->segs = calloc(RNG_QUEUE_MAX + VQ_MAX_INDIRECT, sizeof(*r->segs));
	if (r->timer_fd < 0 || !r->segs) {
		rng_free(r);
		return -ENOMEM;
	}
	vq_chain_init(&r->chain, r->segs, RNG_QUEUE_MAX + VQ_MAX_INDIRECT);
	r->tokens = RNG_BURST;
	r->last_ns = mono_ns();
	p.priv = r;
	ret = worker_init(&r->worker, "virtio-rng", env->sandbox);
	if (ret) {
		rng_free(r);
		return ret;
	}
	ret = virtio_dev_init(&r->vd, &p, env->mem);
	if (!ret)
		ret = virtio_transport_attach(&r->vd, env, &r->tr);
	if (ret) {
		virtio_dev_uninit(&r->vd);
		worker_destroy(&r->worker);
		rng_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (!r)
		return;
	/* stop, unbind the ioeventfds while their fds are open, then close them */
	virtio_dev_stop(&r->vd);
	virtio_transport_detach(r->tr);
	virtio_dev_uninit(&r->vd);
	worker_destroy(&r->worker);
	rng_free(r);
}

struct virtio_transport *virtio_rng_transport(struct virtio_rng *r)
{
	return r->tr;
}

struct virtio_dev *virtio_rng_dev(struct virtio_rng *r)
{
	return &r->vd;
}

/*
 * Quiesce (thread parked): a chain waiting for tokens was popped but not
 * used. It is always the last one popped (chains are served in order, one
 * at a time), so it goes back to the guest's avail ring by stepping
 * last_avail_idx back one: nothing of it was written, and the resumed (or
 * restored) device pops it again. A snapshot thus never holds a chain.
 */
static void rng_quiesce(struct virtio_rng *r)
{
	struct itimerspec off = { 0 };

	if (!r->waiting)
		return;
	timerfd_settime(r->timer_fd, 0, &off, NULL);
	eventfd_drain(r->timer_fd);
	r->vd.vq[0].st.last_avail_idx--;
	r->waiting = false;
}

void virtio_rng_pause(struct virtio_rng *r)
{
	if (r->vd.started) {
		worker_pause(&r->worker);
		rng_quiesce(r);
	}
	r->paused = true;
}

void virtio_rng_resume(struct virtio_rng *r)
{
	r->paused = false;
	worker_resume(&r->worker);
	if (r->vd.started)
		eventfd_kick(r->vd.kick_fd[0]);	/* the chain put back, if any */
}

int virtio_rng_save(struct virtio_rng *r, struct state_writer *w)
{
	if (r->vd.started && !r->paused)
		return -EBUSY;
	virtio_dev_save(&r->vd, w);
	sw_u64(w, r->tokens);
	return w->err;
}

int virtio_rng_load(struct virtio_rng *r, struct state_reader *rd)
{
	struct virtio_dev_saved s;
	uint64_t tokens;

	if (virtio_dev_read(&r->vd, rd, &s))
		return rd->err;
	tokens = sr_u64(rd);
	if (sr_done(rd))
		return rd->err;
	if (tokens > RNG_BURST)
		return sr_fail(rd, "virtio-rng: %llu tokens in a bucket of %u",
			       (unsigned long long)tokens, (unsigned)RNG_BURST);
	virtio_dev_apply(&r->vd, &s);
	r->tokens = tokens;
	r->last_ns = mono_ns();
	virtio_dev_start_loaded(&r->vd, &s);
	if (r->paused && r->vd.started)
		worker_pause(&r->worker);	/* loaded into a paused VM */
	return 0;
}
