/* SPDX-License-Identifier: MIT */
/*
 * A pretend guest driver for the virtqueue unit tests (header only): it
 * builds rings in a real guest_mem the way a driver would, little-endian.
 */
#ifndef HUSK_VQ_DRIVER_H
#define HUSK_VQ_DRIVER_H

#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory/guest_mem.h"
#include "memory/layout.h"
#include "virtio/virtqueue.h"

#define DRV_RAM		MIB(16)
#define DESC_GPA	0x100000ull	/* room for 32768 descriptors */
#define AVAIL_GPA	0x200000ull
#define USED_GPA	0x300000ull
#define INDIR_GPA	0x500000ull	/* indirect tables */
#define BUF_GPA		0x800000ull	/* data buffers */
#define DRV_MAX_SEGS	64

#define F_INDIRECT	(1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_ALL		(F_INDIRECT | F_EVENT_IDX)

struct drv {
	struct guest_mem mem;
	struct virtqueue vq;
	unsigned int size;
	uint64_t features;
	uint16_t avail_idx;		/* the driver's own avail->idx */
	struct vq_seg segs[DRV_MAX_SEGS];
	struct vq_chain chain;
};

static inline uint8_t *drv_ptr(struct drv *d, uint64_t gpa, uint64_t len)
{
	return gpa_to_hva(&d->mem, gpa, len);
}

static inline void drv_w16(struct drv *d, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(drv_ptr(d, gpa, 2), &v, 2);
}

static inline uint16_t drv_r16(struct drv *d, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, drv_ptr(d, gpa, 2), 2);
	return le16toh(v);
}

static inline uint32_t drv_r32(struct drv *d, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, drv_ptr(d, gpa, 4), 4);
	return le32toh(v);
}

/* Write descriptor @i of the table at @table (the queue's or an indirect one). */
static inline void drv_desc_at(struct drv *d, uint64_t table, unsigned int i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc desc = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(drv_ptr(d, table + 16ull * i, 16), &desc, 16);
}

static inline void drv_desc(struct drv *d, unsigned int i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	drv_desc_at(d, DESC_GPA, i, addr, len, flags, next);
}

static inline void drv_set_avail_idx(struct drv *d, uint16_t idx)
{
	d->avail_idx = idx;
	__atomic_store_n((uint16_t *)(void *)drv_ptr(d, AVAIL_GPA + 2, 2), htole16(idx),
			 __ATOMIC_RELEASE);
}

/* Put @head in the next avail slot and publish it. */
static inline void drv_publish(struct drv *d, uint16_t head)
{
	drv_w16(d, AVAIL_GPA + 4 + 2ull * (d->avail_idx & (d->size - 1)), head);
	drv_set_avail_idx(d, (uint16_t)(d->avail_idx + 1));
}

static inline uint64_t drv_used_event_gpa(struct drv *d)
{
	return AVAIL_GPA + 4 + 2ull * d->size;
}

static inline uint64_t drv_avail_event_gpa(struct drv *d)
{
	return USED_GPA + 4 + 8ull * d->size;
}

/* Acquire: the device publishes used->idx from its own thread. */
static inline uint16_t drv_used_idx(struct drv *d)
{
	uint16_t *p = (uint16_t *)drv_ptr(d, USED_GPA + 2, 2);

	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void drv_used_elem(struct drv *d, uint16_t idx, uint32_t *id, uint32_t *len)
{
	uint64_t gpa = USED_GPA + 4 + 8ull * (idx & (d->size - 1));

	*id = drv_r32(d, gpa);
	*len = drv_r32(d, gpa + 4);
}

/* (Re)configure the queue with clean rings; the driver index restarts at 0. */
static inline int drv_configure(struct drv *d, unsigned int size, uint64_t features)
{
	memset(drv_ptr(d, AVAIL_GPA, 0x100000), 0, 0x100000);
	memset(drv_ptr(d, USED_GPA, 0x100000), 0, 0x100000);
	d->size = size;
	d->features = features;
	d->avail_idx = 0;
	vq_chain_init(&d->chain, d->segs, DRV_MAX_SEGS);
	return virtqueue_configure(&d->vq, &d->mem, size, DESC_GPA, AVAIL_GPA, USED_GPA,
				   features);
}

static inline struct drv *drv_new_ram(uint64_t ram, unsigned int size, uint64_t features)
{
	struct drv *d = calloc(1, sizeof(*d));
	char err[256];

	if (!d || guest_mem_init(&d->mem, ram, false, err, sizeof(err))) {
		free(d);
		return NULL;
	}
	virtqueue_init(&d->vq);
	if (drv_configure(d, size, features)) {
		guest_mem_destroy(&d->mem);
		free(d);
		return NULL;
	}
	return d;
}

static inline struct drv *drv_new(unsigned int size, uint64_t features)
{
	return drv_new_ram(DRV_RAM, size, features);
}

static inline void drv_free(struct drv *d)
{
	guest_mem_destroy(&d->mem);
	free(d);
}

static inline int drv_pop(struct drv *d)
{
	return virtqueue_pop(&d->vq, &d->chain);
}

#endif
