// SPDX-License-Identifier: MIT
/*
 * virtio-blk over either transport: open (find, negotiate, read the
 * configuration, set up every queue), and requests as descriptor chains
 * header -> [data] -> status, one slot (header, status, data buffer) each.
 */
#include "blk.h"

struct blk_req *blk_reqs;
uint8_t *blk_bufs;

#define CFG_CAPACITY	0
#define CFG_SEG_MAX	12
#define CFG_BLK_SIZE	20
#define CFG_NUM_QUEUES	34
#define CFG_MAX_DISCARD	36
#define CFG_MAX_WZ	48

static int alloc_slots(char *why)
{
	if (!blk_reqs)
		blk_reqs = dma_alloc(BLK_SLOTS * sizeof(struct blk_req));
	if (!blk_bufs)
		blk_bufs = dma_alloc((uint64_t)BLK_SLOTS * BLK_SLOT_BYTES);
	if (!blk_reqs || !blk_bufs) {
		snprintf(why, WHY_LEN, "out of memory for %d request buffers", BLK_SLOTS);
		return -1;
	}
	return 0;
}

/* The first block device whose RO feature is @ro. */
static int find_disk(struct blk *b, int ro, char *why)
{
	int n;

	for (n = 0; virtio_find(VIRTIO_ID_BLK, n, &b->dev) == 0; n++) {
		uint64_t f = b->dev.ops->get_features(&b->dev);

		if (!!(f & (1ULL << BLK_F_RO)) == ro)
			return 0;
	}
	b->dev.ops = NULL;
	snprintf(why, WHY_LEN, "no %s virtio block device (PCI 1af4:1042 or virtio-mmio; %d seen)",
		 ro ? "read-only" : "writable", n);
	return -1;
}

static void read_config(struct blk *b)
{
	struct virtio_dev *d = &b->dev;

	b->capacity = d->ops->config_read(d, CFG_CAPACITY, 4) |
		      (uint64_t)d->ops->config_read(d, CFG_CAPACITY + 4, 4) << 32;
	b->seg_max = blk_has(b, BLK_F_SEG_MAX) ? d->ops->config_read(d, CFG_SEG_MAX, 4) : 0;
	b->blk_size = blk_has(b, BLK_F_BLK_SIZE) ? d->ops->config_read(d, CFG_BLK_SIZE, 4) : 512;
	b->num_queues = blk_has(b, BLK_F_MQ) ? d->ops->config_read(d, CFG_NUM_QUEUES, 2) : 1;
	b->max_discard = blk_has(b, BLK_F_DISCARD) ? d->ops->config_read(d, CFG_MAX_DISCARD, 4) : 0;
	b->max_wz = blk_has(b, BLK_F_WZ) ? d->ops->config_read(d, CFG_MAX_WZ, 4) : 0;
}

int blk_open(struct blk *b, int ro, int irq, int event_idx, int nq_want, char *why)
{
	uint64_t want = 1ULL << BLK_F_SEG_MAX | 1ULL << BLK_F_RO | 1ULL << BLK_F_BLK_SIZE |
			1ULL << BLK_F_FLUSH | 1ULL << BLK_F_MQ | 1ULL << BLK_F_DISCARD |
			1ULL << BLK_F_WZ;
	int q, shared, vec;

	memset(b, 0, sizeof(*b));
	if (alloc_slots(why) || find_disk(b, ro, why))
		return -1;
	if (event_idx)
		want |= 1ULL << VIRTIO_F_EVENT_IDX;
	if (virtio_start(&b->dev, want, &b->feat, why))
		return -1;
	read_config(b);
	b->nq = b->num_queues ? b->num_queues : 1;
	if (b->nq > VQ_MAX)
		b->nq = VQ_MAX;
	if (nq_want > 0 && nq_want < b->nq)
		b->nq = nq_want;
	b->irq = irq;
	shared = b->dev.mmio != NULL;	/* virtio-mmio: one interrupt per device */
	if (b->dev.ops->irq_setup(&b->dev, irq ? VEC_VIRTIO_BASE : -1, why))
		return -1;
	for (q = 0; q < b->nq; q++) {
		vec = !irq ? -1 : shared ? VEC_VIRTIO_BASE : VEC_VIRTIO_BASE + q;
		if (virtq_init(&b->vq[q], &b->dev, q, VQ_MAX_SIZE, vec,
			       blk_has(b, VIRTIO_F_EVENT_IDX), why))
			return -1;
	}
	virtio_driver_ok(&b->dev);
	return 0;
}

void blk_close(struct blk *b)
{
	if (b->dev.ops)
		virtio_stop(&b->dev);
}

int blk_start(struct blk *b, int q, int slot, uint32_t type, uint64_t sector,
	      void *data, uint32_t len)
{
	struct blk_req *r = &blk_reqs[slot];
	uint64_t addr[3];
	uint32_t lens[3];
	int n = 0, nw, head;

	r->type = type;
	r->reserved = 0;
	r->sector = sector;
	r->status = 0xff;
	addr[n] = (uintptr_t)r;
	lens[n++] = 16;
	if (type == BLK_T_DISCARD || type == BLK_T_WZ) {
		addr[n] = (uintptr_t)&r->seg_sector;	/* read by the device */
		lens[n++] = 16;
	} else if (len) {
		addr[n] = (uintptr_t)data;
		lens[n++] = len;
	}
	addr[n] = (uintptr_t)&r->status;
	lens[n++] = 1;
	nw = (type == BLK_T_IN || type == BLK_T_GET_ID) && len ? 2 : 1;
	head = virtq_add(&b->vq[q], addr, lens, n, nw);
	if (head < 0)
		return -1;
	b->slot_of[q][head] = slot;
	b->busy[slot] = 1;
	virtq_kick(&b->vq[q]);
	return 0;
}

int blk_reap(struct blk *b, int q, int *slot)
{
	uint32_t id, len;

	if (virtq_wait(&b->vq[q], &id, &len, BLK_TIMEOUT_US))
		return BLK_S_TIMEOUT;
	if (id == 0xffffffff)
		return BLK_S_TIMEOUT;	/* bad id from the device */
	*slot = b->slot_of[q][id];
	b->busy[*slot] = 0;
	return blk_reqs[*slot].status;
}

int blk_io(struct blk *b, uint32_t type, uint64_t sector, void *data, uint32_t len)
{
	int slot;

	if (blk_start(b, 0, 0, type, sector, data, len))
		return BLK_S_TIMEOUT;
	return blk_reap(b, 0, &slot);
}

uint64_t blk_area(struct blk *b)
{
	char val[32];
	uint64_t bytes = b->capacity * 512;
	uint64_t want;

	if (!cmdline_get("blk_bytes", val, sizeof(val)) && !parse_size(val, &want) &&
	    want < bytes)
		bytes = want;
	return bytes & ~(64 * 1024ULL - 1);
}
