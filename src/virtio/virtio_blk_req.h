/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_BLK_REQ_H
#define HUSK_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtqueue.h"

/*
 * Parsing one virtio-blk request (virtio 1.2, 5.2.6) out of a popped
 * chain: the 16-byte header (type, reserved, sector) at the start of the
 * device-readable part, the data, and the status byte, which is the last
 * byte of the device-writable part. Pure logic, no I/O: the caller runs
 * what comes back as BLK_REQ_IO through its engine.
 *
 * Everything is checked: a header shorter than 16 bytes, data that is not
 * a whole number of 512-byte sectors, a range beyond the disk, a write to a
 * read-only disk, a discard/write-zeroes segment list that is not exactly
 * what the config allows: all get VIRTIO_BLK_S_IOERR (or UNSUPP for unknown
 * types); a chain without a writable byte for the status cannot be answered
 * and comes back as BLK_REQ_NO_STATUS (push it with length 0).
 */
#define BLK_REQ_HDR_LEN		16
#define BLK_REQ_DWZ_LEN		16	/* struct virtio_blk_discard_write_zeroes */
#define BLK_REQ_SERIAL_LEN	20	/* VIRTIO_BLK_ID_BYTES */

enum blk_req_kind {
	BLK_REQ_IO,		/* read, write, flush, discard or write-zeroes for the engine */
	BLK_REQ_DONE,		/* answered already (status set, GET_ID data written) */
	BLK_REQ_NO_STATUS,	/* malformed beyond answering */
};

struct blk_disk_info {
	uint64_t sectors;		/* capacity in 512-byte sectors */
	bool readonly;
	bool discard;			/* VIRTIO_BLK_F_DISCARD offered */
	bool write_zeroes;		/* VIRTIO_BLK_F_WRITE_ZEROES offered */
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
	const char *serial;		/* GET_ID answer (<= 20 bytes used) */
};

struct blk_req {
	uint32_t type;			/* VIRTIO_BLK_T_* */
	uint64_t sector;
	uint8_t *status;		/* where the status byte goes (NULL: none) */
	uint8_t status_val;		/* BLK_REQ_DONE: what was written there */
	uint32_t written;		/* bytes the device writes: the used element's len */
	/* BLK_REQ_IO */
	uint64_t offset;		/* bytes */
	uint64_t len;			/* data bytes, or the discard/write-zeroes range */
	bool unmap;			/* write-zeroes may deallocate */
	unsigned iovcnt;
};

/*
 * Parse @c. @iov (room for @max_iov entries) receives the data segments of
 * a read or write. Returns the kind; @r is filled for every kind.
 */
enum blk_req_kind blk_req_parse(const struct vq_chain *c, const struct blk_disk_info *disk,
				struct blk_req *r, struct iovec *iov, unsigned max_iov);

/* Complete a BLK_REQ_IO request: write its status (@result: bytes or -errno). */
void blk_req_complete(struct blk_req *r, int64_t result);

#endif
