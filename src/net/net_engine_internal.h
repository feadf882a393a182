/* SPDX-License-Identifier: MIT */
/* Shared by the engine front end (net_engine.c) and its two back ends. */
#ifndef HUSK_NET_ENGINE_INTERNAL_H
#define HUSK_NET_ENGINE_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>

#include "net/net_engine.h"

/*
 * The counters in st: the engine's thread is the only writer, any thread
 * may read them (net_engine_get_stats), so both sides use relaxed atomics.
 */
#define ENGINE_STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

/* One RX buffer or TX frame, from post/queue until its completion is reaped. */
struct net_slot {
	uint64_t cookie;
	unsigned iovcnt;
	bool busy;			/* owned by the engine */
	bool running;			/* the kernel may still touch the memory */
	struct iovec iov[NET_ENGINE_MAX_IOV];
};

/* Completions that are known but not reaped yet: slot index and result. */
struct net_done {
	unsigned slot;
	int result;
};

struct net_engine {
	enum net_engine_kind kind;
	int tap_fd;
	unsigned rx_depth, tx_depth;
	struct net_slot *slots;		/* [0, rx_depth): RX, then tx_depth TX */
	unsigned *free_rx, nfree_rx;	/* stacks of free slot indices */
	unsigned *free_tx, nfree_tx;
	unsigned rx_running, tx_running;
	struct net_done *done;		/* FIFO, rx_depth + tx_depth entries */
	unsigned done_head, done_count;
	struct net_engine_stats st;
	int event_fd;			/* uring: registered with the ring; sync: TX results */

	/* uring */
	struct io_uring ring;
	bool ring_ready;
	unsigned prepared;		/* SQEs prepared since the last submit */
	unsigned posted;		/* RX posted + TX queued since the last submit */

	/*
	 * both: posted RX not in the kernel yet, in order; rx_armed: sync,
	 * buffers submitted; uring, reads of the live chain (net_uring.c)
	 */
	unsigned *rx_fifo, rx_head, rx_count, rx_armed;

	/* sync */
	int epoll_fd;
	bool tap_watched;
	unsigned *tx_queued, tx_count;			/* TX not submitted yet */
};

static inline bool net_slot_is_rx(const struct net_engine *e, unsigned slot)
{
	return slot < e->rx_depth;
}

/* front end helpers for the back ends */
void net_done_push(struct net_engine *e, unsigned slot, int result);
void net_slot_finish(struct net_engine *e, unsigned slot, int result, struct net_completion *c);
void net_event_signal(struct net_engine *e);
void net_event_drain(struct net_engine *e);

/* uring back end (net_uring.c) */
int uring_setup(struct net_engine *e);
void uring_teardown(struct net_engine *e);
int uring_prep(struct net_engine *e, unsigned slot);
int uring_submit(struct net_engine *e);
int uring_reap(struct net_engine *e, struct net_completion *out, unsigned max);
int uring_cancel_rx(struct net_engine *e);
int uring_quiesce(struct net_engine *e);

/* sync back end (net_sync.c) */
int sync_setup(struct net_engine *e);
void sync_teardown(struct net_engine *e);
int sync_prep(struct net_engine *e, unsigned slot);
int sync_submit(struct net_engine *e);
int sync_reap(struct net_engine *e, struct net_completion *out, unsigned max);
int sync_cancel_rx(struct net_engine *e);

#endif
