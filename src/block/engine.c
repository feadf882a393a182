// SPDX-License-Identifier: MIT
/* The engine API: request checks, dispatch to io_uring or the thread engine, AUTO fallback. */
#include "block/engine_internal.h"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

int blk_engine_base_init(struct blk_engine *e, const struct blk_engine_ops *ops,
			 struct blk_image *img, unsigned depth)
{
	void *z;

	e->ops = ops;
	e->img = img;
	e->depth = depth;
	e->inflight = 0;
	e->submit_calls = e->completed = e->errors = 0;
	atomic_init(&e->submitted, 0);
	atomic_init(&e->flushes, 0);
	/* Never written: every page stays the shared zero page, so it costs no RAM. */
	z = mmap(NULL, BLK_ZERO_CHUNK, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z == MAP_FAILED)
		return -errno;
	e->zeroes = z;
	e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->efd < 0) {
		int ret = -errno;

		munmap(z, BLK_ZERO_CHUNK);
		return ret;
	}
	return 0;
}

void blk_engine_base_fini(struct blk_engine *e)
{
	close(e->efd);
	munmap((void *)e->zeroes, BLK_ZERO_CHUNK);
}

void blk_engine_signal(const struct blk_engine *e)
{
	uint64_t one = 1;

	/* Only fails (EAGAIN) when the counter is already huge: readable anyway. */
	if (write(e->efd, &one, sizeof(one)) < 0)
		return;
}

void blk_engine_drain_signal(const struct blk_engine *e)
{
	uint64_t v;

	if (read(e->efd, &v, sizeof(v)) < 0)
		return;	/* EAGAIN: nothing was pending */
}

void blk_req_start(struct blk_req *r, struct blk_io *io, const struct blk_image *img)
{
	r->io = io;
	r->done = 0;
	r->retries = 0;
	blk_cursor_init(&r->cur, io->iov, io->iov ? io->iovcnt : 0);
	if (io->op == BLK_OP_WRITE_ZEROES && !img->write_zeroes)
		r->stage = BLK_ZERO_WRITE;
	else if (io->op == BLK_OP_WRITE_ZEROES && io->unmap && img->discard)
		r->stage = BLK_ZERO_PUNCH;
	else
		r->stage = BLK_ZERO_RANGE;
}

int blk_req_falloc_mode(const struct blk_req *r)
{
	if (r->io->op == BLK_OP_DISCARD || r->stage == BLK_ZERO_PUNCH)
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

size_t blk_req_zero_len(const struct blk_req *r)
{
	uint64_t left = r->io->len - r->done;

	return left < BLK_ZERO_CHUNK ? (size_t)left : BLK_ZERO_CHUNK;
}

static bool iov_sum(const struct blk_io *io, uint64_t *sum)
{
	uint64_t s = 0;

	if (io->iovcnt && !io->iov)
		return false;
	for (unsigned i = 0; i < io->iovcnt; i++) {
		if (io->iov[i].iov_len > UINT64_MAX - s)
			return false;
		s += io->iov[i].iov_len;
	}
	*sum = s;
	return true;
}

/* O_DIRECT needs aligned offsets, lengths and buffers; refuse rather than corrupt. */
static bool direct_aligned(const struct blk_image *img, const struct blk_io *io)
{
	uint64_t lb = img->logical_block ? img->logical_block : BLK_SECTOR_SIZE;
	uint64_t ma = img->mem_align ? img->mem_align : 1;

	if (io->offset % lb || io->len % lb)
		return false;
	if (io->op != BLK_OP_READ && io->op != BLK_OP_WRITE)
		return true;
	for (unsigned i = 0; i < io->iovcnt; i++) {
		if ((uintptr_t)io->iov[i].iov_base % ma || io->iov[i].iov_len % ma)
			return false;
	}
	return true;
}

static int check_io(const struct blk_image *img, const struct blk_io *io)
{
	uint64_t sum;

	switch (io->op) {
	case BLK_OP_FLUSH:
		return 0;
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (!iov_sum(io, &sum) || sum != io->len)
			return -EINVAL;
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		break;
	default:
		return -EINVAL;
	}
	if (io->op != BLK_OP_READ && img->readonly)
		return -EROFS;
	if (io->op == BLK_OP_DISCARD && !img->discard)
		return -EOPNOTSUPP;
	if (io->offset > img->size || io->len > img->size - io->offset)
		return -EINVAL;
	if (img->direct && !direct_aligned(img, io))
		return -EINVAL;
	return 0;
}

int blk_engine_queue(struct blk_engine *e, struct blk_io *io)
{
	int ret;

	if (e->inflight >= e->depth)
		return -EBUSY;
	ret = check_io(e->img, io);
	if (ret)
		return ret;
	io->result = 0;
	ret = e->ops->queue(e, io);
	if (ret)
		return ret;
	e->inflight++;
	return 0;
}

int blk_engine_submit(struct blk_engine *e)
{
	return e->ops->submit(e);
}

unsigned blk_engine_reap(struct blk_engine *e, struct blk_io **done, unsigned max)
{
	unsigned n = e->ops->reap(e, done, max);

	for (unsigned i = 0; i < n; i++) {
		if (done[i]->result < 0)
			e->errors++;
	}
	e->completed += n;
	e->inflight -= n;
	return n;
}

unsigned blk_engine_inflight(const struct blk_engine *e)
{
	return e->inflight;
}

const char *blk_engine_name(const struct blk_engine *e)
{
	return e->ops->name;
}

int blk_engine_completion_fd(const struct blk_engine *e)
{
	return e->efd;
}

void blk_engine_stats(const struct blk_engine *e, struct blk_engine_stats *out)
{
	out->submit_calls = e->submit_calls;
	out->submitted = atomic_load_explicit(&e->submitted, memory_order_relaxed);
	out->completed = e->completed;
	out->errors = e->errors;
	out->flushes = atomic_load_explicit(&e->flushes, memory_order_relaxed);
}

void blk_engine_destroy(struct blk_engine *e)
{
	if (e)
		e->ops->destroy(e);
}

/*
 * Say once per process that io_uring is missing, not once per queue of
 * every disk. This flag is process-wide state on purpose: the message is.
 */
static void warn_fallback_once(const char *why)
{
	static atomic_flag warned = ATOMIC_FLAG_INIT;

	if (!atomic_flag_test_and_set(&warned))
		pr_warn("io_uring unavailable (%s): using the thread engine", why);
}

int blk_engine_create(struct blk_image *img, enum husk_blk_engine kind, unsigned depth,
		      struct blk_engine **out, char *err, size_t errlen)
{
	char why[128] = "";
	int ret;

	*out = NULL;
	if (depth < 1 || depth > BLK_MAX_DEPTH) {
		snprintf(err, errlen, "--disk path=%s: queue depth %u is out of range (1 to %u)",
			 img->path, depth, BLK_MAX_DEPTH);
		return -EINVAL;
	}
	if (kind != HUSK_BLK_ENGINE_SYNC) {
		ret = blk_uring_create(img, depth, out, why, sizeof(why));
		if (ret == 0)
			return 0;
		if (kind == HUSK_BLK_ENGINE_URING) {
			snprintf(err, errlen, "--disk path=%s: io_uring unavailable (%s)",
				 img->path, why);
			return ret;
		}
		warn_fallback_once(why);
	}
	ret = blk_sync_create(img, depth, out);
	if (ret)
		snprintf(err, errlen, "--disk path=%s: cannot start the I/O threads: %s",
			 img->path, strerror(-ret));
	return ret;
}
