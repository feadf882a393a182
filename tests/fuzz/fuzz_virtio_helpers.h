/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the virtio and PCI fuzz targets (header only, on top of
 * fuzz_helpers.h):
 *
 *   struct fz_guest  a pretend driver: exactly sized guest RAM and the ring
 *                    addresses of one queue; fz_guest_op() decodes one ring
 *                    edit (descriptor, avail entry, index, raw poke) from
 *                    the input, so any target can build hostile rings
 *   struct fz_vdev   a virtio device without threads: no-op start/stop, a
 *                    config area checked for exact bounds, and
 *                    fz_vdev_service() doing what a device thread would
 *                    (pop every chain, touch each byte, push, interrupt)
 */
#ifndef HUSK_FUZZ_VIRTIO_HELPERS_H
#define HUSK_FUZZ_VIRTIO_HELPERS_H

#include <endian.h>
#include <errno.h>
#include <sys/eventfd.h>

#include "fuzz_helpers.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtqueue.h"
#include "virtio/worker.h"

/* ---- a pretend driver ---------------------------------------------------- */

struct fz_guest {
	struct guest_mem mem;
	struct fuzz_ram ram;
	uint64_t desc, avail, used;	/* the queue being edited */
	unsigned size;			/* its size (a power of two) */
	uint16_t avail_idx;
};

static inline void fz_guest_init(struct fz_guest *g, uint64_t ram_size)
{
	memset(g, 0, sizeof(*g));
	fuzz_guest_mem(&g->mem, &g->ram, ram_size);
}

static inline void fz_guest_free(struct fz_guest *g)
{
	fuzz_ram_free(&g->ram);
}

/* Write @len bytes at @gpa, clipped to RAM (the guest can only write RAM). */
static inline void fz_poke(struct fz_guest *g, uint64_t gpa, const void *p, size_t len)
{
	if (gpa >= g->ram.size)
		return;
	if (len > g->ram.size - gpa)
		len = g->ram.size - gpa;
	memcpy(g->ram.base + gpa, p, len);
}

static inline void fz_poke16(struct fz_guest *g, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	fz_poke(g, gpa, &v, 2);
}

/*
 * A guest address: mostly inside RAM (near its end, often), sometimes
 * anything at all.
 */
static inline uint64_t fz_addr(struct fuzz_in *in, const struct fz_guest *g)
{
	switch (fuzz_u8(in) & 7) {
	case 0:
		return fuzz_u64(in);
	case 1:		/* within 256 bytes of the end of RAM, or past it */
		return g->ram.size - 256 + fuzz_u16(in) % 512;
	case 2:
		return fuzz_u32(in);
	default:
		return fuzz_u32(in) % g->ram.size;
	}
}

static inline void fz_guest_queue(struct fz_guest *g, unsigned size, uint64_t desc,
				  uint64_t avail, uint64_t used)
{
	g->size = size ? size : 1;
	g->desc = desc;
	g->avail = avail;
	g->used = used;
	g->avail_idx = 0;
}

/*
 * One edit of the guest's rings, @op % 6, the rest decoded from the input:
 *   0 descriptor i = {addr, len, flags, next}     3 avail->idx = v
 *   1 descriptor in an indirect table at addr     4 avail->flags / used_event
 *   2 publish a head (avail ring + idx)           5 raw bytes at an address
 */
static inline void fz_guest_op(struct fuzz_in *in, struct fz_guest *g, uint8_t op)
{
	struct virtq_desc d;
	uint64_t table = g->desc;
	size_t n;
	const uint8_t *p;

	switch (op % 6) {
	case 1:
		table = fz_addr(in, g);
		/* fall through */
	case 0: {
		uint16_t i = fuzz_u16(in);

		if (op == 0)
			i %= g->size;
		d.addr = htole64(fz_addr(in, g));
		d.len = htole32(fuzz_u8(in) & 1 ? fuzz_u32(in) : fuzz_u16(in) % 4097);
		d.flags = htole16(fuzz_u8(in));
		d.next = htole16(fuzz_u8(in) & 1 ? fuzz_u16(in) : fuzz_u8(in) % g->size);
		fz_poke(g, table + 16ull * i, &d, sizeof(d));
		return;
	}
	case 2:
		fz_poke16(g, g->avail + 4 + 2ull * (g->avail_idx & (g->size - 1)),
			  fuzz_u8(in) & 1 ? fuzz_u16(in) : fuzz_u8(in) % g->size);
		g->avail_idx++;
		fz_poke16(g, g->avail + 2, g->avail_idx);
		return;
	case 3:
		g->avail_idx = fuzz_u16(in);
		fz_poke16(g, g->avail + 2, g->avail_idx);
		return;
	case 4:
		if (fuzz_bool(in))
			fz_poke16(g, g->avail, fuzz_u16(in));
		else
			fz_poke16(g, g->avail + 4 + 2ull * g->size, fuzz_u16(in));
		return;
	default:
		table = fz_addr(in, g);
		p = fuzz_bytes(in, fuzz_u8(in) % 64, &n);
		fz_poke(g, table, p, n);
		return;
	}
}

/* ---- a virtio device without threads ---------------------------------------- */

#define FZ_VDEV_CFG_LEN		24
#define FZ_VDEV_SEGS		64

struct fz_vdev {
	struct virtio_dev vd;
	uint8_t *cfg;			/* exactly FZ_VDEV_CFG_LEN bytes */
	struct vq_seg *segs;		/* exactly FZ_VDEV_SEGS */
	struct vq_chain chain;
	bool fail_start;
	unsigned starts, stops;
};

static inline int fz_vdev_start(struct virtio_dev *vd)
{
	struct fz_vdev *f = vd->priv;

	f->starts++;
	return f->fail_start ? -EIO : 0;
}

static inline void fz_vdev_stop(struct virtio_dev *vd)
{
	struct fz_vdev *f = vd->priv;

	f->stops++;
}

/* The core must keep config accesses inside cfg_len: check it exactly. */
static inline void fz_vdev_cfg_read(struct virtio_dev *vd, uint32_t off, uint8_t *data,
				    uint32_t len)
{
	struct fz_vdev *f = vd->priv;

	if (off > FZ_VDEV_CFG_LEN || len > FZ_VDEV_CFG_LEN - off)
		__builtin_trap();
	memcpy(data, f->cfg + off, len);
}

static inline void fz_vdev_cfg_write(struct virtio_dev *vd, uint32_t off, const uint8_t *data,
				     uint32_t len)
{
	struct fz_vdev *f = vd->priv;

	if (off > FZ_VDEV_CFG_LEN || len > FZ_VDEV_CFG_LEN - off)
		__builtin_trap();
	memcpy(f->cfg + off, data, len);
}

static const struct virtio_dev_ops fz_vdev_ops = {
	.start = fz_vdev_start,
	.stop = fz_vdev_stop,
	.cfg_read = fz_vdev_cfg_read,
	.cfg_write = fz_vdev_cfg_write,
};

/* @features offered (VERSION_1 is added), @nqueues queues of at most @qmax. */
static inline struct fz_vdev *fz_vdev_new(const struct guest_mem *mem, uint64_t features,
					  unsigned nqueues, uint16_t qmax)
{
	struct fz_vdev *f = calloc(1, sizeof(*f));
	struct virtio_dev_params p = {
		.name = "fuzz-vdev", .device_id = 4, .features = features, .nqueues = nqueues,
		.queue_max = qmax, .cfg_len = FZ_VDEV_CFG_LEN, .ops = &fz_vdev_ops,
	};

	if (!f)
		fuzz_die("calloc");
	p.priv = f;
	f->cfg = fuzz_dup("fuzz device config bytes", FZ_VDEV_CFG_LEN);
	f->segs = malloc(FZ_VDEV_SEGS * sizeof(*f->segs));
	if (!f->segs || virtio_dev_init(&f->vd, &p, mem))
		fuzz_die("virtio_dev_init");
	vq_chain_init(&f->chain, f->segs, FZ_VDEV_SEGS);
	return f;
}

static inline void fz_vdev_free(struct fz_vdev *f)
{
	virtio_dev_uninit(&f->vd);
	free(f->segs);
	free(f->cfg);
	free(f);
}

/*
 * What the device's I/O thread does on a kick, synchronously: for every
 * enabled queue of a live device, pop every chain, read each readable
 * byte, write each writable one, push, and interrupt as the ring says. A
 * malformed chain sets NEEDS_RESET. Returns the chains served.
 */
static inline unsigned fz_vdev_service(struct fz_vdev *f)
{
	struct virtio_dev *vd = &f->vd;
	unsigned served = 0;
	uint8_t buf[256];

	for (unsigned q = 0; q < vd->nqueues; q++) {
		struct virtqueue *vq = &vd->vq[q];
		uint16_t old = vq->st.used_idx;
		int r = 0;

		eventfd_drain(vd->kick_fd[q]);
		if (!virtio_dev_live(vd) || !vd->st.q[q].enabled)
			continue;
		do {
			virtqueue_set_notify(vq, false);
			while ((r = virtqueue_pop(vq, &f->chain)) > 0) {
				uint64_t rl = vq_chain_readable_len(&f->chain);
				uint64_t wl = vq_chain_writable_len(&f->chain);

				for (uint32_t i = 0; i < f->chain.nsegs; i++) {
					const struct vq_seg *s = &f->chain.segs[i];

					if (s->writable)
						memset(s->hva, 0xa5, s->len);
					else
						memcpy(buf, s->hva + s->len - 1, 1);
				}
				if (rl && vq_chain_read(&f->chain, rl - 1, buf, 1))
					__builtin_trap();
				if (wl && vq_chain_write(&f->chain, wl - 1, buf, 1))
					__builtin_trap();
				if (virtqueue_push(vq, f->chain.head, (uint32_t)wl))
					__builtin_trap();
				served++;
			}
		} while (r == 0 && virtqueue_enable_notify(vq));
		if (r < 0)
			virtio_dev_needs_reset(vd);
		virtio_dev_queue_done(vd, q, old);
	}
	return served;
}

#endif
