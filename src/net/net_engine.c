// SPDX-License-Identifier: MIT
/*
 * The net engine's front end: argument checks, slots (the copied iovecs and
 * cookies), flow control, the completion backlog and stats. The back ends
 * (net_uring.c, net_sync.c) move the bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "net/net_engine_internal.h"
#include "net/tap.h"

static const char *const kind_names[] = {
	[NET_ENGINE_AUTO] = "auto",
	[NET_ENGINE_URING] = "uring",
	[NET_ENGINE_SYNC] = "sync",
};

const char *net_engine_kind_name(enum net_engine_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[kind];
}

int net_engine_parse_kind(const char *s, enum net_engine_kind *out)
{
	for (unsigned i = 0; s && i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (enum net_engine_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum net_engine_kind net_engine_kind(const struct net_engine *e)
{
	return e->kind;
}

int net_engine_completion_fd(const struct net_engine *e)
{
	return e->kind == NET_ENGINE_URING ? e->event_fd : e->epoll_fd;
}

unsigned net_engine_rx_inflight(const struct net_engine *e)
{
	return e->rx_depth - e->nfree_rx;
}

unsigned net_engine_tx_inflight(const struct net_engine *e)
{
	return e->tx_depth - e->nfree_tx;
}

void net_engine_get_stats(const struct net_engine *e, struct net_engine_stats *out)
{
	const uint64_t *from = (const uint64_t *)&e->st;
	uint64_t *to = (uint64_t *)out;

	_Static_assert(sizeof(e->st) % sizeof(uint64_t) == 0, "counters only");
	/* any thread: the engine's thread updates them meanwhile (ENGINE_STAT_ADD) */
	for (size_t i = 0; i < sizeof(e->st) / sizeof(uint64_t); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

void net_event_signal(struct net_engine *e)
{
	uint64_t one = 1;

	/* an eventfd write only fails when the counter is saturated: still readable */
	if (write(e->event_fd, &one, sizeof(one)) < 0)
		return;
}

void net_event_drain(struct net_engine *e)
{
	uint64_t v;

	if (read(e->event_fd, &v, sizeof(v)) < 0)
		return;		/* EAGAIN: nothing signalled */
}

/* The kernel is done with @slot's memory. */
static void slot_stop(struct net_engine *e, unsigned slot)
{
	struct net_slot *s = &e->slots[slot];

	if (!s->running)
		return;
	s->running = false;
	if (net_slot_is_rx(e, slot))
		e->rx_running--;
	else
		e->tx_running--;
}

void net_done_push(struct net_engine *e, unsigned slot, int result)
{
	unsigned cap = e->rx_depth + e->tx_depth;

	slot_stop(e, slot);
	/* cannot overflow: one entry per busy slot at most */
	e->done[(e->done_head + e->done_count) % cap] = (struct net_done){ slot, result };
	e->done_count++;
}

static void count_completion(struct net_engine *e, bool rx, int result)
{
	ENGINE_STAT_ADD(e->st.completions, 1);
	if (rx && result == -ECANCELED) {
		ENGINE_STAT_ADD(e->st.rx_cancelled, 1);
	} else if (result < 0) {
		if (rx)
			ENGINE_STAT_ADD(e->st.rx_errors, 1);
		else
			ENGINE_STAT_ADD(e->st.tx_errors, 1);
	} else if (rx) {
		ENGINE_STAT_ADD(e->st.rx_packets, 1);
		ENGINE_STAT_ADD(e->st.rx_bytes, (unsigned)result);
	} else {
		ENGINE_STAT_ADD(e->st.tx_packets, 1);
		ENGINE_STAT_ADD(e->st.tx_bytes, (unsigned)result);
	}
}

static void slot_release(struct net_engine *e, unsigned slot)
{
	slot_stop(e, slot);
	e->slots[slot].busy = false;
	if (net_slot_is_rx(e, slot))
		e->free_rx[e->nfree_rx++] = slot;
	else
		e->free_tx[e->nfree_tx++] = slot;
}

void net_slot_finish(struct net_engine *e, unsigned slot, int result, struct net_completion *c)
{
	bool rx = net_slot_is_rx(e, slot);

	c->cookie = e->slots[slot].cookie;
	c->is_rx = rx;
	c->result = result;
	count_completion(e, rx, result);
	slot_release(e, slot);
}

static unsigned reap_backlog(struct net_engine *e, struct net_completion *out, unsigned max)
{
	unsigned cap = e->rx_depth + e->tx_depth, n = 0;

	while (n < max && e->done_count) {
		struct net_done d = e->done[e->done_head];

		e->done_head = (e->done_head + 1) % cap;
		e->done_count--;
		net_slot_finish(e, d.slot, d.result, &out[n++]);
	}
	return n;
}

int net_engine_reap(struct net_engine *e, struct net_completion *out, unsigned max)
{
	unsigned n;
	int ret = 0;

	if (!out && max)
		return -EINVAL;
	net_event_drain(e);
	n = reap_backlog(e, out, max);
	if (n < max)
		ret = e->kind == NET_ENGINE_URING ? uring_reap(e, out + n, max - n)
						  : sync_reap(e, out + n, max - n);
	if (e->done_count)
		net_event_signal(e);
	if (ret < 0)
		return n ? (int)n : ret;
	return (int)n + ret;
}

/* Total length of a frame's iovecs, or -EINVAL. */
static long iov_total(const struct iovec *iov, unsigned iovcnt)
{
	size_t total = 0;

	if (!iov || iovcnt == 0 || iovcnt > NET_ENGINE_MAX_IOV)
		return -EINVAL;
	for (unsigned i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EINVAL;
		if (iov[i].iov_len > INT_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	return (long)total;
}

static int slot_start(struct net_engine *e, unsigned slot, const struct iovec *iov,
		      unsigned iovcnt, uint64_t cookie)
{
	struct net_slot *s = &e->slots[slot];
	int ret;

	s->cookie = cookie;
	s->iovcnt = iovcnt;
	memcpy(s->iov, iov, iovcnt * sizeof(*iov));
	s->busy = true;
	s->running = true;
	if (net_slot_is_rx(e, slot))
		e->rx_running++;
	else
		e->tx_running++;
	ret = e->kind == NET_ENGINE_URING ? uring_prep(e, slot) : sync_prep(e, slot);
	if (ret < 0)
		slot_release(e, slot);
	return ret;
}

int net_engine_rx_post(struct net_engine *e, const struct iovec *iov, unsigned iovcnt,
		       uint64_t cookie)
{
	long len = iov_total(iov, iovcnt);

	if (len < 0 || len < NET_VNET_HDR_LEN)
		return -EINVAL;
	if (!e->nfree_rx)
		return -EBUSY;
	return slot_start(e, e->free_rx[--e->nfree_rx], iov, iovcnt, cookie);
}

int net_engine_tx_queue(struct net_engine *e, const struct iovec *iov, unsigned iovcnt,
			uint64_t cookie)
{
	long len = iov_total(iov, iovcnt);

	if (len < 0 || len <= NET_VNET_HDR_LEN)
		return -EINVAL;
	if (!e->nfree_tx)
		return -EBUSY;
	return slot_start(e, e->free_tx[--e->nfree_tx], iov, iovcnt, cookie);
}

int net_engine_submit(struct net_engine *e)
{
	return e->kind == NET_ENGINE_URING ? uring_submit(e) : sync_submit(e);
}

int net_engine_cancel_rx(struct net_engine *e)
{
	int ret = e->kind == NET_ENGINE_URING ? uring_cancel_rx(e) : sync_cancel_rx(e);

	if (e->done_count)
		net_event_signal(e);
	return ret;
}

static int engine_alloc(struct net_engine *e)
{
	unsigned n = e->rx_depth + e->tx_depth;

	e->slots = calloc(n, sizeof(*e->slots));
	e->free_rx = calloc(e->rx_depth, sizeof(unsigned));
	e->free_tx = calloc(e->tx_depth, sizeof(unsigned));
	e->done = calloc(n, sizeof(*e->done));
	e->rx_fifo = calloc(e->rx_depth, sizeof(unsigned));
	e->tx_queued = calloc(e->tx_depth, sizeof(unsigned));
	if (!e->slots || !e->free_rx || !e->free_tx || !e->done || !e->rx_fifo || !e->tx_queued)
		return -ENOMEM;
	/* pop order 0, 1, 2...: slots are handed out from the end of the stack */
	for (unsigned i = 0; i < e->rx_depth; i++)
		e->free_rx[i] = e->rx_depth - 1 - i;
	for (unsigned i = 0; i < e->tx_depth; i++)
		e->free_tx[i] = e->rx_depth + e->tx_depth - 1 - i;
	e->nfree_rx = e->rx_depth;
	e->nfree_tx = e->tx_depth;
	return 0;
}

static void engine_free(struct net_engine *e)
{
	free(e->slots);
	free(e->free_rx);
	free(e->free_tx);
	free(e->done);
	free(e->rx_fifo);
	free(e->tx_queued);
	free(e);
}

static int engine_setup(struct net_engine *e, enum net_engine_kind kind)
{
	int ret;

	if (kind != NET_ENGINE_SYNC) {
		e->kind = NET_ENGINE_URING;
		ret = uring_setup(e);
		if (ret == 0 || kind == NET_ENGINE_URING)
			return ret;
		pr_warn("net: io_uring unavailable (%s), using the sync engine", strerror(-ret));
	}
	e->kind = NET_ENGINE_SYNC;
	return sync_setup(e);
}

int net_engine_create(const struct net_engine_params *p, struct net_engine **out)
{
	struct net_engine *e;
	int ret;

	if (!p || !out)
		return -EINVAL;
	if (p->rx_depth < 1 || p->rx_depth > NET_ENGINE_MAX_DEPTH ||
	    p->tx_depth < 1 || p->tx_depth > NET_ENGINE_MAX_DEPTH)
		return -EINVAL;
	if ((unsigned)p->kind > NET_ENGINE_SYNC)
		return -EINVAL;
	if (p->tap_fd < 0 || fcntl(p->tap_fd, F_GETFD) < 0)
		return -EBADF;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->tap_fd = p->tap_fd;
	e->rx_depth = p->rx_depth;
	e->tx_depth = p->tx_depth;
	e->event_fd = -1;
	e->epoll_fd = -1;
	ret = engine_alloc(e);
	if (ret == 0)
		ret = engine_setup(e, p->kind);
	if (ret < 0) {
		engine_free(e);
		return ret;
	}
	*out = e;
	return 0;
}

void net_engine_destroy(struct net_engine *e)
{
	if (!e)
		return;
	if (e->kind == NET_ENGINE_URING) {
		if (uring_quiesce(e) < 0)
			pr_warn("net: %u reads and %u writes still in flight at teardown",
				e->rx_running, e->tx_running);
		uring_teardown(e);
	} else {
		sync_teardown(e);
	}
	engine_free(e);
}
