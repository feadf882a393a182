// SPDX-License-Identifier: MIT
/*
 * The thread engine: min(depth, 4) workers doing preadv/pwritev, fdatasync
 * and fallocate. The caller's thread batches requests and hands a batch over
 * under one lock; workers put finished requests on a done list and write the
 * eventfd. Slots are preallocated for the whole depth.
 */
#include "block/engine_internal.h"
#include "core/log.h"
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYNC_MAX_WORKERS	4

/* A fixed-size FIFO of slot indices. */
struct slot_fifo {
	unsigned *v;
	unsigned cap, head, count;
};

struct sync_engine {
	struct blk_engine base;
	struct blk_req *reqs;
	unsigned *free;			/* caller thread only */
	unsigned nfree;
	unsigned *batch;		/* queued, not yet submitted: caller thread only */
	unsigned nbatch;
	pthread_mutex_t lock;		/* protects pending, done, stop */
	pthread_cond_t work;
	struct slot_fifo pending, done;
	bool stop;
	unsigned nworkers;
	pthread_t workers[SYNC_MAX_WORKERS];
};

static void fifo_push(struct slot_fifo *f, unsigned slot)
{
	f->v[(f->head + f->count++) % f->cap] = slot;
}

static unsigned fifo_pop(struct slot_fifo *f)
{
	unsigned slot = f->v[f->head];

	f->head = (f->head + 1) % f->cap;
	f->count--;
	return slot;
}

/* preadv/pwritev until the whole request moved, an error, or end of file. */
static int64_t do_transfer(struct sync_engine *se, struct blk_req *r)
{
	struct blk_io *io = r->io;
	int fd = se->base.img->fd;

	while (r->done < io->len) {
		const struct iovec *v;
		unsigned n = blk_cursor_next(&r->cur, &v);
		ssize_t got;

		if (n == 0)
			return -EIO;
		atomic_fetch_add_explicit(&se->base.submitted, 1, memory_order_relaxed);
		if (io->op == BLK_OP_READ)
			got = preadv(fd, v, (int)n, (off_t)(io->offset + r->done));
		else
			got = pwritev(fd, v, (int)n, (off_t)(io->offset + r->done));
		if (got < 0 && (errno == EINTR || errno == EAGAIN) && blk_req_retry(r))
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;	/* end of file inside the image: it shrank */
		r->done += (uint64_t)got;
		blk_cursor_advance(&r->cur, (size_t)got);
	}
	return (int64_t)io->len;
}

static int64_t write_zeroes_out(struct sync_engine *se, struct blk_req *r)
{
	struct blk_io *io = r->io;

	while (r->done < io->len) {
		ssize_t got;

		atomic_fetch_add_explicit(&se->base.submitted, 1, memory_order_relaxed);
		got = pwrite(se->base.img->fd, se->base.zeroes, blk_req_zero_len(r),
			     (off_t)(io->offset + r->done));
		if (got < 0 && (errno == EINTR || errno == EAGAIN) && blk_req_retry(r))
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;
		r->done += (uint64_t)got;
	}
	return 0;
}

static int64_t do_fallocate(struct sync_engine *se, struct blk_req *r)
{
	struct blk_io *io = r->io;

	for (;;) {
		int ret;

		if (io->len == 0)
			return 0;
		if (io->op == BLK_OP_WRITE_ZEROES && r->stage == BLK_ZERO_WRITE)
			return write_zeroes_out(se, r);
		atomic_fetch_add_explicit(&se->base.submitted, 1, memory_order_relaxed);
		ret = fallocate(se->base.img->fd, blk_req_falloc_mode(r), (off_t)io->offset,
				(off_t)io->len);
		if (ret == 0)
			return 0;
		if ((errno == EINTR || errno == EAGAIN) && blk_req_retry(r))
			continue;
		if (errno == EOPNOTSUPP && io->op == BLK_OP_WRITE_ZEROES) {
			r->stage++;
			continue;
		}
		return -errno;
	}
}

static int64_t run_req(struct sync_engine *se, struct blk_req *r)
{
	switch (r->io->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		return do_transfer(se, r);
	case BLK_OP_FLUSH:
		atomic_fetch_add_explicit(&se->base.submitted, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&se->base.flushes, 1, memory_order_relaxed);
		return fdatasync(se->base.img->fd) ? -errno : 0;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		return do_fallocate(se, r);
	}
	return -EINVAL;
}

static void *worker_main(void *arg)
{
	struct sync_engine *se = arg;

	/* a worker that cannot take its filter answers nothing: the queue stalls, logged */
	if (sandbox_enter(se->base.img->sandbox, SANDBOX_WORKER) < 0) {
		pr_err("%s: sync engine: cannot enter its seccomp filter", se->base.img->path);
		return NULL;
	}
	pthread_mutex_lock(&se->lock);
	for (;;) {
		struct blk_req *r;

		while (!se->stop && se->pending.count == 0)
			pthread_cond_wait(&se->work, &se->lock);
		if (se->pending.count == 0)
			break;	/* stopping, and nothing left to do */
		r = &se->reqs[fifo_pop(&se->pending)];
		pthread_mutex_unlock(&se->lock);
		r->io->result = run_req(se, r);
		pthread_mutex_lock(&se->lock);
		fifo_push(&se->done, (unsigned)(r - se->reqs));
		blk_engine_signal(&se->base);
	}
	pthread_mutex_unlock(&se->lock);
	return NULL;
}

static int sync_queue(struct blk_engine *e, struct blk_io *io)
{
	struct sync_engine *se = (struct sync_engine *)e;
	unsigned slot;

	if (se->nfree == 0)
		return -EBUSY;
	slot = se->free[--se->nfree];
	blk_req_start(&se->reqs[slot], io, e->img);
	se->batch[se->nbatch++] = slot;
	return 0;
}

static int sync_submit(struct blk_engine *e)
{
	struct sync_engine *se = (struct sync_engine *)e;

	if (se->nbatch == 0)
		return 0;
	e->submit_calls++;
	pthread_mutex_lock(&se->lock);
	for (unsigned i = 0; i < se->nbatch; i++)
		fifo_push(&se->pending, se->batch[i]);
	if (se->nbatch == 1)
		pthread_cond_signal(&se->work);
	else
		pthread_cond_broadcast(&se->work);
	pthread_mutex_unlock(&se->lock);
	se->nbatch = 0;
	return 0;
}

static unsigned sync_reap(struct blk_engine *e, struct blk_io **done, unsigned max)
{
	struct sync_engine *se = (struct sync_engine *)e;
	unsigned n = 0;

	blk_engine_drain_signal(e);
	pthread_mutex_lock(&se->lock);
	while (n < max && se->done.count) {
		unsigned slot = fifo_pop(&se->done);

		done[n++] = se->reqs[slot].io;
		se->free[se->nfree++] = slot;
	}
	if (se->done.count)
		blk_engine_signal(e);	/* left for the next call */
	pthread_mutex_unlock(&se->lock);
	return n;
}

static void stop_workers(struct sync_engine *se)
{
	pthread_mutex_lock(&se->lock);
	se->stop = true;
	pthread_cond_broadcast(&se->work);
	pthread_mutex_unlock(&se->lock);
	for (unsigned i = 0; i < se->nworkers; i++)
		pthread_join(se->workers[i], NULL);
	se->nworkers = 0;
}

static void free_sync(struct sync_engine *se)
{
	pthread_cond_destroy(&se->work);
	pthread_mutex_destroy(&se->lock);
	free(se->reqs);
	free(se->free);
	free(se->batch);
	free(se->pending.v);
	free(se->done.v);
	free(se);
}

/* Workers drain the pending list before they exit, so this waits for all I/O. */
static void sync_destroy(struct blk_engine *e)
{
	struct sync_engine *se = (struct sync_engine *)e;

	sync_submit(e);
	stop_workers(se);
	blk_engine_base_fini(e);
	free_sync(se);
}

static const struct blk_engine_ops sync_ops = {
	.name = "sync",
	.queue = sync_queue,
	.submit = sync_submit,
	.reap = sync_reap,
	.destroy = sync_destroy,
};

/* Workers take no signals: those are for the vCPU and event-loop threads. */
static int start_workers(struct sync_engine *se, unsigned n)
{
	sigset_t all, old;
	int ret = 0;

	sigfillset(&all);
	sigdelset(&all, SIGSYS);	/* seccomp's report (sandbox/seccomp.c) */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (se->nworkers = 0; se->nworkers < n; se->nworkers++) {
		ret = -pthread_create(&se->workers[se->nworkers], NULL, worker_main, se);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return se->nworkers ? 0 : ret;
}

static int alloc_sync(struct sync_engine *se, unsigned depth)
{
	se->reqs = calloc(depth, sizeof(*se->reqs));
	se->free = calloc(depth, sizeof(*se->free));
	se->batch = calloc(depth, sizeof(*se->batch));
	se->pending.v = calloc(depth, sizeof(unsigned));
	se->done.v = calloc(depth, sizeof(unsigned));
	if (!se->reqs || !se->free || !se->batch || !se->pending.v || !se->done.v)
		return -ENOMEM;
	se->pending.cap = se->done.cap = depth;
	for (unsigned i = 0; i < depth; i++)
		se->free[i] = depth - 1 - i;
	se->nfree = depth;
	return 0;
}

int blk_sync_create(struct blk_image *img, unsigned depth, struct blk_engine **out)
{
	struct sync_engine *se = calloc(1, sizeof(*se));
	int ret;

	if (!se)
		return -ENOMEM;
	pthread_mutex_init(&se->lock, NULL);
	pthread_cond_init(&se->work, NULL);
	ret = alloc_sync(se, depth);
	if (ret)
		goto fail;
	ret = blk_engine_base_init(&se->base, &sync_ops, img, depth);
	if (ret)
		goto fail;
	ret = start_workers(se, depth < SYNC_MAX_WORKERS ? depth : SYNC_MAX_WORKERS);
	if (ret) {
		blk_engine_base_fini(&se->base);
		goto fail;
	}
	*out = &se->base;
	return 0;
fail:
	free_sync(se);
	return ret;
}
