/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BLOCK_H
#define HUSK_BLOCK_H

/*
 * The block backend: a raw disk image (regular file or block device) and the
 * engines that do I/O on it for one virtqueue each (io_uring, or a small pool
 * of threads doing preadv/pwritev). It knows nothing of virtio or guest
 * memory: callers hand it iovecs that are already translated and checked.
 *
 *   blk_image_open(&cfg, &img, err, sizeof(err));
 *   blk_engine_create(&img, cfg.engine, 128, &e, err, sizeof(err));
 *   io->op = BLK_OP_READ; io->offset = ...; io->iov = ...; io->len = sum;
 *   blk_engine_queue(e, io);  ...  blk_engine_submit(e);
 *   (poll blk_engine_completion_fd(e))
 *   n = blk_engine_reap(e, done, 32);   done[i]->result: bytes or -errno
 *
 * All functions return 0 or a positive count on success and -errno on error.
 */
#include "husk/husk.h"	/* struct husk_disk_config, enum husk_blk_engine */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_SECTOR_SIZE		512
#define BLK_MAX_DEPTH		1024	/* requests in flight per engine */
#define BLK_PATH_MAX		4096

struct husk_sandbox;

struct blk_image {
	int fd;
	uint64_t size;			/* bytes, a multiple of 512 */
	uint32_t logical_block;		/* 512, or the block device's logical block size;
					   with O_DIRECT: the file offset alignment it needs */
	uint32_t mem_align;		/* O_DIRECT buffer alignment (1 without O_DIRECT) */
	bool readonly, direct;
	bool blockdev;			/* a block device, not a regular file */
	bool discard;			/* fallocate(PUNCH_HOLE) works here (probed on open) */
	bool write_zeroes;		/* fallocate(ZERO_RANGE) or PUNCH_HOLE works */
	char path[BLK_PATH_MAX];
	const struct husk_sandbox *sandbox;	/* the sync engine's threads' seccomp filter */
};

/*
 * Open and check a disk per @cfg. On error, one line in @err naming the
 * disk ("--disk path=/x.img: No such file or directory"). Regular files and
 * block devices are accepted. The image is locked (flock: exclusive when
 * writable, shared when read-only) so two VMs cannot write one image.
 */
int blk_image_open(const struct husk_disk_config *cfg, struct blk_image *img,
		   char *err, size_t errlen);
void blk_image_close(struct blk_image *img);
/*
 * A live migration hands an image from one husk to another: the
 * destination opens it without the lock (blk_image_open_unlocked), the
 * source lets go (blk_image_unlock) once its last write is done, and the
 * destination takes the lock (blk_image_lock: -EBUSY with @err when
 * another process holds it) before it runs the guest.
 */
int blk_image_open_unlocked(const struct husk_disk_config *cfg, struct blk_image *img,
			    char *err, size_t errlen);
int blk_image_lock(struct blk_image *img, char *err, size_t errlen);
void blk_image_unlock(struct blk_image *img);

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_DISCARD, BLK_OP_WRITE_ZEROES };

struct blk_io {
	enum blk_op op;
	uint64_t offset;		/* bytes */
	uint64_t len;			/* DISCARD / WRITE_ZEROES: bytes; READ/WRITE: sum of iov */
	const struct iovec *iov;	/* READ / WRITE, caller-owned, valid until completion */
	unsigned iovcnt;
	bool unmap;			/* WRITE_ZEROES: may deallocate */
	void *cookie;			/* caller's */
	int64_t result;			/* on completion: bytes transferred (READ/WRITE: the
					   full len), 0 for the others, or -errno */
};

/* One per virtqueue; used by ONE thread at a time. */
struct blk_engine;

/*
 * @depth: most requests in flight (queued, submitted or completed but not yet
 * reaped), 1 .. BLK_MAX_DEPTH. AUTO tries io_uring and falls back to the
 * thread engine, saying why once per process; URING fails when io_uring is
 * unavailable; SYNC forces the thread engine.
 */
int blk_engine_create(struct blk_image *img, enum husk_blk_engine kind, unsigned depth,
		      struct blk_engine **out, char *err, size_t errlen);
const char *blk_engine_name(const struct blk_engine *e);	/* "io_uring" or "sync" */
/* An eventfd (non-blocking): readable when blk_engine_reap() has work. */
int blk_engine_completion_fd(const struct blk_engine *e);
/*
 * Check @io and add it to the batch. -EBUSY: depth reached; -EINVAL: bad op,
 * out of the image, len not the sum of the iovecs, or misaligned for O_DIRECT;
 * -EROFS: a write to a read-only image; -EOPNOTSUPP: discard not supported.
 * A refused request is not queued and never completes.
 */
int blk_engine_queue(struct blk_engine *e, struct blk_io *io);
/* Start the batch (io_uring: one io_uring_submit). On -errno the batch stays
 * queued: call again later. */
int blk_engine_submit(struct blk_engine *e);
/* Non-blocking: up to @max finished requests into @done; drains the eventfd
 * (and re-arms it when more remain). Each queued request comes back once. */
unsigned blk_engine_reap(struct blk_engine *e, struct blk_io **done, unsigned max);
unsigned blk_engine_inflight(const struct blk_engine *e);
/* Submits what is queued and waits for everything in flight, then frees. */
void blk_engine_destroy(struct blk_engine *e);

/* Counters for metrics. */
struct blk_engine_stats {
	uint64_t submit_calls;		/* submission syscalls (io_uring_submit / batch hand-offs) */
	uint64_t submitted;		/* SQEs / syscalls issued, resubmissions included */
	uint64_t completed;		/* requests completed (as reaped) */
	uint64_t errors;		/* of which with result < 0 */
	uint64_t flushes;		/* fdatasync / IORING_OP_FSYNC(DATASYNC) issued */
};
void blk_engine_stats(const struct blk_engine *e, struct blk_engine_stats *out);

#endif
