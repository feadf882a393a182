// SPDX-License-Identifier: MIT
/*
 * The io_uring engine: one ring per engine, the image registered as fixed
 * file 0, completions announced on the engine's eventfd. Requests live in
 * slots preallocated for the whole depth; a short transfer is resubmitted
 * from where it stopped, so the caller sees the full length or an error.
 */
#include "block/engine_internal.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uring_engine {
	struct blk_engine base;
	struct io_uring ring;
	struct blk_req *reqs;		/* depth slots */
	unsigned *free;			/* indices of free slots (a stack) */
	unsigned nfree;
	unsigned busy;			/* slots with an SQE prepared or in the kernel */
};

static struct uring_engine *to_uring(struct blk_engine *e)
{
	return (struct uring_engine *)e;
}

/* Prepare the SQE for the next step of @r. */
static int prep_req(struct uring_engine *ue, struct blk_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ue->ring);
	const struct blk_io *io = r->io;
	const struct iovec *v;
	unsigned n;

	if (!sqe)
		return -EBUSY;	/* cannot happen: the SQ holds depth entries */
	switch (io->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		n = blk_cursor_next(&r->cur, &v);
		if (n == 0)
			io_uring_prep_nop(sqe);
		else if (io->op == BLK_OP_READ)
			io_uring_prep_readv(sqe, 0, v, n, io->offset + r->done);
		else
			io_uring_prep_writev(sqe, 0, v, n, io->offset + r->done);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		atomic_fetch_add_explicit(&ue->base.flushes, 1, memory_order_relaxed);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		if (io->len == 0) {
			io_uring_prep_nop(sqe);
		} else if (io->op == BLK_OP_WRITE_ZEROES && r->stage == BLK_ZERO_WRITE) {
			r->cur.part.iov_base = (void *)ue->base.zeroes;
			r->cur.part.iov_len = blk_req_zero_len(r);
			io_uring_prep_writev(sqe, 0, &r->cur.part, 1, io->offset + r->done);
		} else {
			io_uring_prep_fallocate(sqe, 0, blk_req_falloc_mode(r), io->offset,
						io->len);
		}
		break;
	}
	if (sqe->opcode != IORING_OP_NOP)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, r);
	atomic_fetch_add_explicit(&ue->base.submitted, 1, memory_order_relaxed);
	return 0;
}

static int uring_queue(struct blk_engine *e, struct blk_io *io)
{
	struct uring_engine *ue = to_uring(e);
	struct blk_req *r;
	int ret;

	if (ue->nfree == 0)
		return -EBUSY;
	r = &ue->reqs[ue->free[ue->nfree - 1]];
	blk_req_start(r, io, e->img);
	ret = prep_req(ue, r);
	if (ret)
		return ret;
	ue->nfree--;
	ue->busy++;
	return 0;
}

static int uring_submit(struct blk_engine *e)
{
	struct uring_engine *ue = to_uring(e);
	int ret;

	if (io_uring_sq_ready(&ue->ring) == 0)
		return 0;
	e->submit_calls++;
	ret = io_uring_submit(&ue->ring);
	return ret < 0 ? ret : 0;
}

/*
 * One completion for @r with result @res: true when the request is finished
 * (io->result set), false when its next step was prepared.
 */
static bool advance_req(struct uring_engine *ue, struct blk_req *r, int res)
{
	struct blk_io *io = r->io;
	bool transfer = io->op == BLK_OP_READ || io->op == BLK_OP_WRITE ||
			(io->op == BLK_OP_WRITE_ZEROES && r->stage == BLK_ZERO_WRITE);

	if (io->len == 0 && io->op != BLK_OP_FLUSH) {
		io->result = 0;
		return true;
	}
	if ((res == -EINTR || res == -EAGAIN) && blk_req_retry(r))
		goto again;
	if (res == -EOPNOTSUPP && io->op == BLK_OP_WRITE_ZEROES && r->stage != BLK_ZERO_WRITE) {
		r->stage++;
		goto again;
	}
	if (res < 0) {
		io->result = res;
		return true;
	}
	if (!transfer) {
		io->result = 0;
		return true;
	}
	if (res == 0) {		/* end of file inside the image: it shrank under us */
		io->result = -EIO;
		return true;
	}
	r->done += (unsigned)res;
	if (io->op != BLK_OP_WRITE_ZEROES)
		blk_cursor_advance(&r->cur, (unsigned)res);
	if (r->done >= io->len) {
		io->result = io->op == BLK_OP_WRITE_ZEROES ? 0 : (int64_t)io->len;
		return true;
	}
again:
	if (prep_req(ue, r) == 0)
		return false;
	io->result = -EIO;
	return true;
}

static void release_req(struct uring_engine *ue, struct blk_req *r)
{
	ue->free[ue->nfree++] = (unsigned)(r - ue->reqs);
	ue->busy--;
}

static unsigned uring_reap(struct blk_engine *e, struct blk_io **done, unsigned max)
{
	struct uring_engine *ue = to_uring(e);
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	blk_engine_drain_signal(e);
	while (n < max && io_uring_peek_cqe(&ue->ring, &cqe) == 0) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&ue->ring, cqe);
		if (advance_req(ue, r, res)) {
			done[n++] = r->io;
			release_req(ue, r);
		}
	}
	/* Resubmissions (short transfers, fallbacks) go now, not at the next submit. */
	if (io_uring_sq_ready(&ue->ring) && uring_submit(e) < 0)
		blk_engine_signal(e);	/* retry on the next wakeup */
	if (io_uring_cq_ready(&ue->ring))
		blk_engine_signal(e);	/* left for the next call */
	return n;
}

/* Finish everything in flight, delivering nothing (the caller is going away). */
static void uring_drain(struct uring_engine *ue)
{
	struct io_uring_cqe *cqe;

	while (ue->busy) {
		int ret = io_uring_submit_and_wait(&ue->ring, 1);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return;	/* the ring is broken; closing it cancels the rest */
		while (io_uring_peek_cqe(&ue->ring, &cqe) == 0) {
			struct blk_req *r = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&ue->ring, cqe);
			if (advance_req(ue, r, res))
				release_req(ue, r);
		}
	}
}

static void uring_destroy(struct blk_engine *e)
{
	struct uring_engine *ue = to_uring(e);

	uring_drain(ue);
	/*
	 * Drop the ring's reference to the image now: the ring itself is torn
	 * down asynchronously, and until then the image stayed open (and locked).
	 */
	io_uring_unregister_files(&ue->ring);
	io_uring_queue_exit(&ue->ring);
	blk_engine_base_fini(e);
	free(ue->reqs);
	free(ue->free);
	free(ue);
}

static const struct blk_engine_ops uring_ops = {
	.name = "io_uring",
	.queue = uring_queue,
	.submit = uring_submit,
	.reap = uring_reap,
	.destroy = uring_destroy,
};

/* The kernel must know every opcode we use (IORING_OP_FALLOCATE came in 5.6). */
static int check_opcodes(struct io_uring *ring, char *why, size_t whylen)
{
	static const struct { int op; const char *name; } need[] = {
		{ IORING_OP_NOP, "NOP" }, { IORING_OP_READV, "READV" },
		{ IORING_OP_WRITEV, "WRITEV" }, { IORING_OP_FSYNC, "FSYNC" },
		{ IORING_OP_FALLOCATE, "FALLOCATE" },
	};
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	int ret = 0;

	if (!p) {
		snprintf(why, whylen, "cannot probe its opcodes");
		return -EOPNOTSUPP;
	}
	for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!io_uring_opcode_supported(p, need[i].op)) {
			snprintf(why, whylen, "no IORING_OP_%s", need[i].name);
			ret = -EOPNOTSUPP;
			break;
		}
	}
	io_uring_free_probe(p);
	return ret;
}

static int setup_ring(struct uring_engine *ue, unsigned depth, char *why, size_t whylen)
{
	int ret = io_uring_queue_init(depth, &ue->ring, 0);

	if (ret < 0) {
		snprintf(why, whylen, "%s", strerror(-ret));
		return ret;
	}
	ret = io_uring_register_files(&ue->ring, &ue->base.img->fd, 1);
	if (ret < 0)
		snprintf(why, whylen, "registering the image: %s", strerror(-ret));
	if (ret == 0) {
		ret = io_uring_register_eventfd(&ue->ring, ue->base.efd);
		if (ret < 0)
			snprintf(why, whylen, "registering an eventfd: %s", strerror(-ret));
	}
	if (ret == 0)
		ret = check_opcodes(&ue->ring, why, whylen);
	if (ret < 0)
		io_uring_queue_exit(&ue->ring);
	return ret;
}

int blk_uring_create(struct blk_image *img, unsigned depth, struct blk_engine **out,
		     char *why, size_t whylen)
{
	struct uring_engine *ue = calloc(1, sizeof(*ue));
	int ret = -ENOMEM;

	if (!ue)
		goto fail;
	ue->reqs = calloc(depth, sizeof(*ue->reqs));
	ue->free = calloc(depth, sizeof(*ue->free));
	if (!ue->reqs || !ue->free)
		goto fail;
	for (unsigned i = 0; i < depth; i++)
		ue->free[i] = depth - 1 - i;
	ue->nfree = depth;
	ret = blk_engine_base_init(&ue->base, &uring_ops, img, depth);
	if (ret)
		goto fail;
	ret = setup_ring(ue, depth, why, whylen);
	if (ret) {
		blk_engine_base_fini(&ue->base);
		goto fail_quiet;
	}
	*out = &ue->base;
	return 0;
fail:
	snprintf(why, whylen, "%s", strerror(-ret));
fail_quiet:
	if (ue) {
		free(ue->reqs);
		free(ue->free);
	}
	free(ue);
	return ret;
}
