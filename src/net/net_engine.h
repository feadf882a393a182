/* SPDX-License-Identifier: MIT */
#ifndef HUSK_NET_ENGINE_H
#define HUSK_NET_ENGINE_H

#include <stdint.h>
#include <sys/uio.h>

/*
 * The packet engine of one virtio-net queue pair: frames between a tap queue
 * fd and caller-provided buffers (guest memory: no copy). One engine per
 * queue pair, used by one thread; nothing in it is locked.
 *
 *   RX   net_engine_rx_post(e, iov, n, cookie) hands the engine one receive
 *        buffer (a whole descriptor chain); the next frame from the tap lands
 *        in it, vnet header first (NET_VNET_HDR_LEN bytes at the start of the
 *        first iovec). Post only buffers you have: an empty guest RX queue
 *        means nothing posted, and then the engine does not wake anyone.
 *        A frame longer than its buffer is cut to the buffer's size without
 *        notice (the tap's behaviour): result == buffer size may mean that.
 *   TX   net_engine_tx_queue(e, iov, n, cookie) queues one frame (vnet header
 *        first); every frame is written whole, in its own writev.
 *   Both are sent to the kernel by net_engine_submit() (one io_uring_submit
 *   for everything posted or queued since the last one).
 *   Done net_engine_completion_fd() becomes readable when net_engine_reap()
 *        has something; reap returns {cookie, is_rx, bytes or -errno} per
 *        buffer, and clears the fd only when nothing is left.
 *
 * Flow control: at most rx_depth buffers posted and tx_depth frames in
 * flight; beyond that rx_post / tx_queue return -EBUSY and the caller stops
 * popping its queue until reap gives buffers back.
 *
 * The iovecs are copied: the arrays may be reused at once, the memory they
 * point to belongs to the engine until its completion is reaped.
 *
 * Engines:
 *   uring  IORING_OP_READV / IORING_OP_WRITEV on the tap fd registered with
 *          the ring (IORING_REGISTER_FILES), completions signalled through an
 *          eventfd registered with the ring.
 *   sync   readv / writev on the tap fd made non-blocking: TX is written
 *          during net_engine_submit(), RX read during net_engine_reap();
 *          completion_fd is an epoll fd watching the tap (only while RX
 *          buffers are posted) and an eventfd (TX results ready).
 *   auto   uring, or sync with one warning when io_uring cannot be set up.
 * RX buffers are filled in the order they were posted, one frame each, and
 * their completions are reaped in that order, which is the order the frames
 * arrived: a device may push them to its used ring as they come. (The uring
 * engine sends the posted reads as one chain of hard-linked READVs for this:
 * independent reads on one tap complete in no defined order.) TX frames are
 * not linked; they complete in any order.
 */

#define NET_ENGINE_MAX_IOV	64	/* iovecs per frame */
#define NET_ENGINE_MAX_DEPTH	4096	/* rx_depth, tx_depth */

enum net_engine_kind { NET_ENGINE_AUTO = 0, NET_ENGINE_URING, NET_ENGINE_SYNC };

struct net_engine_params {
	int tap_fd;			/* one queue fd of a tap (not owned) */
	unsigned rx_depth;		/* 1 .. NET_ENGINE_MAX_DEPTH */
	unsigned tx_depth;		/* 1 .. NET_ENGINE_MAX_DEPTH */
	enum net_engine_kind kind;
};

struct net_completion {
	uint64_t cookie;		/* as given to rx_post / tx_queue */
	int is_rx;			/* 1: an RX buffer, 0: a TX frame */
	int result;			/* bytes read (vnet header included) or written; -errno */
};

struct net_engine_stats {
	uint64_t submit_calls;		/* net_engine_submit() calls that submitted something */
	uint64_t sqes;			/* requests handed to the kernel (incl. cancels) */
	uint64_t completions;		/* RX + TX completions returned by reap */
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_errors, tx_errors;	/* completions with result < 0 (cancels excluded) */
	uint64_t rx_cancelled;		/* RX buffers given back by net_engine_cancel_rx() */
};

struct net_engine;

/*
 * Create an engine. Returns 0 and *out, or -errno: -EINVAL for a depth out
 * of range or an unknown kind, -EBADF for a bad tap fd, the io_uring error
 * when NET_ENGINE_URING was asked for and cannot be had. Both engines set
 * O_NONBLOCK on the tap fd (io_uring reads on a blocking tap lost frames).
 */
int net_engine_create(const struct net_engine_params *p, struct net_engine **out);

/*
 * Wait for everything in flight (RX is cancelled first, at most a few
 * seconds), then free the engine. The tap fd stays open. NULL is fine.
 */
void net_engine_destroy(struct net_engine *e);

enum net_engine_kind net_engine_kind(const struct net_engine *e);	/* never AUTO */
const char *net_engine_kind_name(enum net_engine_kind kind);		/* "auto", "uring", "sync" */
/* "auto" / "uring" / "sync" -> kind; 0 or -EINVAL */
int net_engine_parse_kind(const char *s, enum net_engine_kind *out);

/*
 * Post one RX buffer / queue one TX frame. 0, -EBUSY (depth reached),
 * -EINVAL (iovcnt 0 or more than NET_ENGINE_MAX_IOV, a NULL iov, an RX buffer
 * shorter than NET_VNET_HDR_LEN, a TX frame not longer than it).
 */
int net_engine_rx_post(struct net_engine *e, const struct iovec *iov, unsigned iovcnt,
		       uint64_t cookie);
int net_engine_tx_queue(struct net_engine *e, const struct iovec *iov, unsigned iovcnt,
			uint64_t cookie);

/* Send what was posted / queued to the kernel. Returns how many, or -errno. */
int net_engine_submit(struct net_engine *e);

/*
 * Up to @max completions into @out, without waiting. Returns how many (0:
 * none now), or -errno.
 */
int net_engine_reap(struct net_engine *e, struct net_completion *out, unsigned max);

/* Poll it for POLLIN (epoll, level-triggered); reap clears it. */
int net_engine_completion_fd(const struct net_engine *e);

/*
 * Device reset: give back every posted RX buffer. Whatever was posted or
 * queued and not yet submitted is submitted first; posted reads are cancelled
 * (IORING_OP_ASYNC_CANCEL) and waited for; when this returns the engine
 * writes to no RX buffer any more. Their completions (-ECANCELED, or the
 * bytes of a frame that won the race) come out of the next reaps, with any
 * TX completions. Returns 0 or -errno (-ETIMEDOUT if the kernel did not let
 * go of a read within a few seconds: do not free those buffers then).
 */
int net_engine_cancel_rx(struct net_engine *e);

/* RX buffers posted / TX frames queued and not yet reaped (what counts against the depths). */
unsigned net_engine_rx_inflight(const struct net_engine *e);
unsigned net_engine_tx_inflight(const struct net_engine *e);

void net_engine_get_stats(const struct net_engine *e, struct net_engine_stats *out);

#endif
