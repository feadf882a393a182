/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BLOCK_ENGINE_INTERNAL_H
#define HUSK_BLOCK_ENGINE_INTERNAL_H

/* What the engines share: the base struct, per-request progress, the iovec cursor. */
#include "block/block.h"

#include <limits.h>
#include <stdatomic.h>

#define BLK_ZERO_CHUNK		(1u << 20)	/* bytes per write when zeroes are written out */
#define BLK_IOV_BATCH		IOV_MAX		/* iovecs per preadv/pwritev (the kernel's limit) */
#define BLK_MAX_RETRIES		16		/* EINTR / EAGAIN in a row before giving up */

struct blk_engine;

struct blk_engine_ops {
	const char *name;
	int (*queue)(struct blk_engine *e, struct blk_io *io);
	int (*submit)(struct blk_engine *e);
	unsigned (*reap)(struct blk_engine *e, struct blk_io **done, unsigned max);
	void (*destroy)(struct blk_engine *e);	/* drain, then free everything */
};

struct blk_engine {
	const struct blk_engine_ops *ops;
	struct blk_image *img;
	unsigned depth;
	unsigned inflight;		/* queued and not yet reaped (caller thread only) */
	int efd;			/* completion eventfd */
	const void *zeroes;		/* BLK_ZERO_CHUNK bytes of zeroes, read-only */
	uint64_t submit_calls;		/* caller thread only */
	uint64_t completed, errors;	/* caller thread only */
	_Atomic uint64_t submitted, flushes;	/* also bumped by sync workers */
};

/*
 * Walks a caller's iovec array as a transfer progresses. When a transfer
 * stops inside an element, the rest of that element goes alone (in @part);
 * otherwise the caller's array is used from the current element on, at most
 * BLK_IOV_BATCH at a time. Nothing is copied or allocated.
 */
struct blk_cursor {
	const struct iovec *iov;
	unsigned cnt, idx;
	size_t skip;			/* bytes of iov[idx] already done */
	struct iovec part;
};

static inline void blk_cursor_skip_empty(struct blk_cursor *c)
{
	while (c->idx < c->cnt && c->skip == c->iov[c->idx].iov_len) {
		c->idx++;
		c->skip = 0;
	}
}

static inline void blk_cursor_init(struct blk_cursor *c, const struct iovec *iov, unsigned cnt)
{
	c->iov = iov;
	c->cnt = cnt;
	c->idx = 0;
	c->skip = 0;
	blk_cursor_skip_empty(c);
}

static inline void blk_cursor_advance(struct blk_cursor *c, size_t n)
{
	while (n && c->idx < c->cnt) {
		size_t left = c->iov[c->idx].iov_len - c->skip;
		size_t take = n < left ? n : left;

		c->skip += take;
		n -= take;
		blk_cursor_skip_empty(c);
	}
}

/* The iovecs for the next transfer; returns their count (0: nothing left). */
static inline unsigned blk_cursor_next(struct blk_cursor *c, const struct iovec **v)
{
	unsigned n;

	if (c->idx >= c->cnt)
		return 0;
	if (c->skip) {
		c->part.iov_base = (char *)c->iov[c->idx].iov_base + c->skip;
		c->part.iov_len = c->iov[c->idx].iov_len - c->skip;
		*v = &c->part;
		return 1;
	}
	n = c->cnt - c->idx;
	*v = &c->iov[c->idx];
	return n < BLK_IOV_BATCH ? n : BLK_IOV_BATCH;
}

/* Where a WRITE_ZEROES is: each step falls back to the next on EOPNOTSUPP. */
enum blk_zero_stage { BLK_ZERO_PUNCH, BLK_ZERO_RANGE, BLK_ZERO_WRITE };

/* One request in flight: the caller's io and how far it got. */
struct blk_req {
	struct blk_io *io;
	uint64_t done;			/* bytes transferred so far */
	struct blk_cursor cur;
	enum blk_zero_stage stage;
	unsigned retries;		/* EINTR / EAGAIN seen, bounded by BLK_MAX_RETRIES */
};

void blk_req_start(struct blk_req *r, struct blk_io *io, const struct blk_image *img);
/* After EINTR / EAGAIN: true to try again, false when it keeps failing. */
static inline bool blk_req_retry(struct blk_req *r)
{
	return ++r->retries <= BLK_MAX_RETRIES;
}
/* The fallocate mode for the request's current step (DISCARD / WRITE_ZEROES). */
int blk_req_falloc_mode(const struct blk_req *r);
/* The next write of zeroes: bytes from e->zeroes at io->offset + r->done. */
size_t blk_req_zero_len(const struct blk_req *r);

int blk_engine_base_init(struct blk_engine *e, const struct blk_engine_ops *ops,
			 struct blk_image *img, unsigned depth);
void blk_engine_base_fini(struct blk_engine *e);
void blk_engine_signal(const struct blk_engine *e);	/* make the eventfd readable */
void blk_engine_drain_signal(const struct blk_engine *e);

/* The engines' constructors: -errno, and for io_uring a reason in @why. */
int blk_uring_create(struct blk_image *img, unsigned depth, struct blk_engine **out,
		     char *why, size_t whylen);
int blk_sync_create(struct blk_image *img, unsigned depth, struct blk_engine **out);

#endif
