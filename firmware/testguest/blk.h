/* SPDX-License-Identifier: MIT */
#ifndef TESTGUEST_BLK_H
#define TESTGUEST_BLK_H

/* The virtio-blk driver shared by the blk checks and the benchmark. */
#include "virtio.h"

#define BLK_F_SEG_MAX	2
#define BLK_F_RO	5
#define BLK_F_BLK_SIZE	6
#define BLK_F_FLUSH	9
#define BLK_F_MQ	12
#define BLK_F_DISCARD	13
#define BLK_F_WZ	14

#define BLK_T_IN	0
#define BLK_T_OUT	1
#define BLK_T_FLUSH	4
#define BLK_T_GET_ID	8
#define BLK_T_DISCARD	11
#define BLK_T_WZ	13

#define BLK_S_OK	0
#define BLK_S_IOERR	1
#define BLK_S_UNSUPP	2
#define BLK_S_TIMEOUT	(-1)

#define BLK_SLOTS	32		/* requests in flight, all queues together */
#define BLK_SLOT_BYTES	(128 * 1024)	/* data buffer per slot */
#define BLK_TIMEOUT_US	10000000

/* The final pattern: the 8-byte little-endian word at byte offset o holds o ^ BLK_PATTERN. */
#define BLK_PATTERN	0x7467626c6b303031ULL	/* "100klbgt" */

struct blk_req {			/* one per slot, in guest memory */
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	uint64_t seg_sector;		/* discard / write-zeroes segment */
	uint32_t seg_num;
	uint32_t seg_flags;
	uint8_t status;
	uint8_t pad[31];
};

struct blk {
	struct virtio_dev dev;
	struct virtq vq[VQ_MAX];
	int nq, irq;
	uint64_t feat, capacity;	/* capacity in 512-byte sectors */
	uint32_t blk_size, seg_max, num_queues;
	uint32_t max_discard, max_wz;	/* sectors */
	uint16_t slot_of[VQ_MAX][VQ_MAX_SIZE];	/* head -> slot */
	uint8_t busy[BLK_SLOTS];
};

extern struct blk_req *blk_reqs;
extern uint8_t *blk_bufs;		/* BLK_SLOTS * BLK_SLOT_BYTES */

static inline uint8_t *blk_buf(int slot)
{
	return blk_bufs + (uint64_t)slot * BLK_SLOT_BYTES;
}

static inline int blk_has(const struct blk *b, int bit)
{
	return !!(b->feat & (1ULL << bit));
}

/* @ro: want a read-only (1) or writable (0) disk; @nq_want 0: all queues */
int blk_open(struct blk *b, int ro, int irq, int event_idx, int nq_want, char *why);
void blk_close(struct blk *b);
int blk_start(struct blk *b, int q, int slot, uint32_t type, uint64_t sector,
	      void *data, uint32_t len);
/* one completion on queue @q: its slot and status; BLK_S_TIMEOUT on timeout */
int blk_reap(struct blk *b, int q, int *slot);
/* synchronous request on queue 0, slot 0: the status */
int blk_io(struct blk *b, uint32_t type, uint64_t sector, void *data, uint32_t len);
uint64_t blk_area(struct blk *b);	/* bytes the checks use (blk_bytes=) */

#endif
