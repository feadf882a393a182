/* SPDX-License-Identifier: MIT */
#ifndef TESTGUEST_VIRTIO_H
#define TESTGUEST_VIRTIO_H

/*
 * Ring-3 virtio drivers of the test guest: a PCI layer (pci.c), the modern
 * virtio-pci transport (virtio_pci.c), the virtio-mmio v2 transport
 * (virtio_mmio.c) behind one struct virtio_ops, and split virtqueues
 * (virtq.c). Devices are found by virtio device ID on either transport.
 */
#include "testguest.h"

#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLK		2
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_BALLOON	5

#define VIRTIO_S_ACK		1
#define VIRTIO_S_DRIVER		2
#define VIRTIO_S_DRIVER_OK	4
#define VIRTIO_S_FEATURES_OK	8
#define VIRTIO_S_FAILED		128

#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32

#define VQ_MAX_SIZE		256
#define VQ_MAX			8
#define VQ_INDEX_MAX		33	/* rings kept: virtio-net's ctrl queue sits at 2 * pairs */
#define VQ_NO_VECTOR		0xffff

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY	1

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtio_dev;

struct virtio_ops {
	uint8_t (*get_status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t s);
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t f);
	uint32_t (*config_read)(struct virtio_dev *d, uint32_t off, int width);
	void (*config_write)(struct virtio_dev *d, uint32_t off, uint32_t v,
			     int width);
	int (*num_queues)(struct virtio_dev *d);	/* 0: unknown */
	/* program queue @q (size in/out); @vec: interrupt vector or -1 */
	int (*setup_queue)(struct virtio_dev *d, int q, uint16_t *size,
			   uint64_t desc, uint64_t avail, uint64_t used, int vec,
			   char *why);
	void (*notify)(struct virtio_dev *d, int q);
	/* interrupts: prepare the transport's irq for vector @vec or off (-1) */
	int (*irq_setup)(struct virtio_dev *d, int vec, char *why);
	const char *name;
};

struct virtio_dev {
	const struct virtio_ops *ops;
	uint16_t device_id;
	char where[40];			/* "pci 00:01.0" or "mmio 0xd0000000" */
	/* virtio-pci */
	volatile uint8_t *common, *isr, *devcfg, *notify;
	uint32_t notify_mul;
	uint16_t notify_off[VQ_INDEX_MAX];	/* queue_notify_off, read once at setup */
	volatile uint32_t *msix;	/* MSI-X table, or NULL */
	uint16_t msix_size;
	uint8_t bus, slot, fn, msix_cap;
	/* virtio-mmio */
	volatile uint8_t *mmio;
	uint64_t mmio_phys;
	int gsi;
	int level;			/* IOAPIC pin programmed level-triggered */
};

struct virtq {
	struct virtio_dev *dev;
	int index;
	uint16_t size;
	int vec;			/* -1: polling */
	int event_idx;
	struct vring_desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint16_t *used;	/* flags, idx, then elems; avail_event */
	uint16_t free_head, num_free, last_used, shadow_avail;
	uint64_t irq_seen;
	uint64_t notifies, kicks_skipped;
	uint16_t next[VQ_MAX_SIZE];	/* free list */
	uint16_t chain_len[VQ_MAX_SIZE];
};

/* ---- pci.c */
struct pci_bar {
	uint64_t addr, size;
	int is64, io;
};
int pci_present(void);
uint32_t pci_read32(int bus, int slot, int fn, int off);
uint16_t pci_read16(int bus, int slot, int fn, int off);
uint8_t pci_read8(int bus, int slot, int fn, int off);
void pci_write32(int bus, int slot, int fn, int off, uint32_t v);
void pci_write16(int bus, int slot, int fn, int off, uint16_t v);
int pci_bar(int bus, int slot, int fn, int bar, struct pci_bar *out);
int pci_next_cap(int bus, int slot, int fn, int pos, int id);
void pci_enable_mem(int bus, int slot, int fn);

/* ---- paging.c: mappings and memory the drivers need */
void *map_mmio(uint64_t phys, uint64_t size);
void *dma_alloc(uint64_t size);	/* page aligned, zeroed, identity mapped */

/* ---- virtio_pci.c / virtio_mmio.c: the nth (from 0) device with @id */
int virtio_pci_find(uint16_t id, int nth, struct virtio_dev *d);
int virtio_pci_count(uint16_t id);
int virtio_mmio_find(uint16_t id, int nth, struct virtio_dev *d);
int virtio_find(uint16_t id, int nth, struct virtio_dev *d);

/* ---- ioapic (virtio_mmio.c) */
void ioapic_route(int gsi, int vec, int level);
void ioapic_mask(int gsi);

/* ---- virtq.c */
int virtio_start(struct virtio_dev *d, uint64_t want, uint64_t *got,
		 char *why);
void virtio_driver_ok(struct virtio_dev *d);
void virtio_reset(struct virtio_dev *d);
void virtio_stop(struct virtio_dev *d);
int virtq_init(struct virtq *vq, struct virtio_dev *d, int index,
	       uint16_t max, int vec, int event_idx, char *why);
/* chain of @n buffers; the last @nw are device-writable; head or -1 */
int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len,
	      int n, int nw);
void virtq_kick(struct virtq *vq);
/* one completion: 1 and fills id/len, 0 when none yet */
int virtq_get(struct virtq *vq, uint32_t *id, uint32_t *len);
/* wait for one completion (poll or interrupt); 0 or -1 on timeout */
int virtq_wait(struct virtq *vq, uint32_t *id, uint32_t *len,
	       uint64_t timeout_us);

extern volatile uint64_t mmio_ack[256];	/* intr.S: level ack per vector */

#define VEC_VIRTIO_BASE	0x40		/* 0x40 + queue (config: 0x4f) */
#define VEC_VIRTIO_CFG	0x4f

/* ---- checks */
int check_virtio_rng(char *why);
int check_virtio_blk(char *why);
int check_virtio_blk_ro(char *why);
int check_blk_bench(char *why);
int check_virtio_balloon(char *why);

static inline void mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}


#endif
