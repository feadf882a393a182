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
 * Threading: requests are processed on the vCPU thread that wrote the
 * notify register (virtio-pci's MMIO handler), with the transport lock
 * held. DESIGN.md wants device work on the event loop: the follow-up is a
 * KVM ioeventfd per queue handled there (and a timer instead of sleeping).
 */
#include "virtio/virtio_pci.h"
#include "core/log.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RNG_QUEUE_MAX	256
#define RNG_RATE	(1ull << 20)		/* bytes per second */
#define RNG_BURST	(256ull << 10)		/* bucket capacity */
#define RNG_CHAIN_MAX	(64u << 10)		/* bytes per chain */
#define RNG_CLASS	0xff0000		/* unclassified device */

struct virtio_rng {
	struct virtio_pci_dev vd;
	struct vq_seg *segs;
	struct vq_chain chain;
	uint64_t tokens;			/* bytes */
	uint64_t last_ns;			/* last refill */
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

/* Wait until @want bytes are available (want <= RNG_BURST), then take them. */
static void bucket_take(struct virtio_rng *r, uint64_t want)
{
	bucket_refill(r);
	while (r->tokens < want) {
		uint64_t ns = (want - r->tokens) * 1000000000ull / RNG_RATE + 1;
		struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
				       .tv_nsec = (long)(ns % 1000000000ull) };

		nanosleep(&ts, NULL);
		bucket_refill(r);
	}
	r->tokens -= want;
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

static void rng_queue_notify(struct virtio_pci_dev *vd, unsigned q)
{
	struct virtio_rng *r = vd->priv;
	struct virtqueue *vq = &vd->vq[q];
	uint16_t old = vq->st.used_idx;
	int ret;

	do {
		virtqueue_set_notify(vq, false);
		while ((ret = virtqueue_pop(vq, &r->chain)) > 0) {
			uint64_t wl = vq_chain_writable_len(&r->chain);
			uint32_t want = wl < RNG_CHAIN_MAX ? (uint32_t)wl : RNG_CHAIN_MAX;
			uint32_t len;

			bucket_take(r, want);
			len = fill_chain(&r->chain, want);
			virtqueue_push(vq, r->chain.head, len);
		}
	} while (ret == 0 && virtqueue_enable_notify(vq));
	if (ret < 0)
		virtio_pci_needs_reset(vd);
	virtio_pci_queue_done(vd, q, old);
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
};

int virtio_rng_create(struct pci_bus *bus, const struct guest_mem *mem, struct virtio_rng **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	struct virtio_pci_params p = {
		.name = "virtio-rng", .device_id = VIRTIO_ID_RNG, .class_code = RNG_CLASS,
		.features = 0, .nqueues = 1, .queue_max = RNG_QUEUE_MAX, .cfg_len = 0,
		.ops = &rng_ops,
	};
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	/* Room for any legal chain: a full direct chain plus an indirect table. */
	r->segs = calloc(RNG_QUEUE_MAX + VQ_MAX_INDIRECT, sizeof(*r->segs));
	if (!r->segs) {
		free(r);
		return -ENOMEM;
	}
	vq_chain_init(&r->chain, r->segs, RNG_QUEUE_MAX + VQ_MAX_INDIRECT);
	r->tokens = RNG_BURST;
	r->last_ns = mono_ns();
	p.priv = r;
	ret = virtio_pci_init(&r->vd, &p, mem);
	if (!ret) {
		ret = virtio_pci_register(&r->vd, bus);
		if (ret)
			virtio_pci_uninit(&r->vd);
	} else {
		free(r->segs);
		free(r);
		return ret;
	}
	if (ret) {
		free(r->segs);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (!r)
		return;
	virtio_pci_uninit(&r->vd);
	free(r->segs);
	free(r);
}
