// SPDX-License-Identifier: MIT
/*
 * The plain back end, for hosts without io_uring: readv / writev on the tap
 * fd made non-blocking. TX frames are written during submit, RX buffers are
 * filled during reap. The completion fd is an epoll fd over an eventfd (TX
 * results waiting) and the tap fd (watched only while RX buffers are armed,
 * so a full guest RX queue never makes it spin).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/net_engine_internal.h"

static int watch_tap(struct net_engine *e, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = e->tap_fd };

	if (on == e->tap_watched)
		return 0;
	if (epoll_ctl(e->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, e->tap_fd, &ev) < 0)
		return -errno;
	e->tap_watched = on;
	return 0;
}

int sync_setup(struct net_engine *e)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fl = fcntl(e->tap_fd, F_GETFL);

	if (fl < 0 || fcntl(e->tap_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	e->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (e->event_fd < 0 || e->epoll_fd < 0)
		goto fail;
	ev.data.fd = e->event_fd;
	if (epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, e->event_fd, &ev) < 0)
		goto fail;
	return 0;
fail:
	fl = -errno;
	sync_teardown(e);
	return fl;
}

void sync_teardown(struct net_engine *e)
{
	if (e->epoll_fd >= 0)
		close(e->epoll_fd);
	if (e->event_fd >= 0)
		close(e->event_fd);
	e->epoll_fd = e->event_fd = -1;
	e->tap_watched = false;
}

int sync_prep(struct net_engine *e, unsigned slot)
{
	if (net_slot_is_rx(e, slot))
		e->rx_fifo[(e->rx_head + e->rx_count++) % e->rx_depth] = slot;
	else
		e->tx_queued[e->tx_count++] = slot;
	return 0;
}

static int sync_io(struct net_engine *e, unsigned slot)
{
	struct net_slot *s = &e->slots[slot];
	ssize_t n;

	do {
		if (net_slot_is_rx(e, slot))
			n = readv(e->tap_fd, s->iov, (int)s->iovcnt);
		else
			n = writev(e->tap_fd, s->iov, (int)s->iovcnt);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

int sync_submit(struct net_engine *e)
{
	unsigned n = e->tx_count + (e->rx_count - e->rx_armed);
	int ret;

	for (unsigned i = 0; i < e->tx_count; i++)
		net_done_push(e, e->tx_queued[i], sync_io(e, e->tx_queued[i]));
	if (e->tx_count)
		net_event_signal(e);
	ENGINE_STAT_ADD(e->st.sqes, e->tx_count);
	e->tx_count = 0;
	e->rx_armed = e->rx_count;
	ret = watch_tap(e, e->rx_armed > 0);
	if (ret < 0)
		return ret;
	if (n)
		ENGINE_STAT_ADD(e->st.submit_calls, 1);
	return (int)n;
}

/* Fill armed RX buffers, oldest first, until the tap has nothing more. */
int sync_reap(struct net_engine *e, struct net_completion *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && e->rx_armed) {
		unsigned slot = e->rx_fifo[e->rx_head];
		int res = sync_io(e, slot);

		if (res == -EAGAIN)
			break;
		e->rx_head = (e->rx_head + 1) % e->rx_depth;
		e->rx_count--;
		e->rx_armed--;
		net_slot_finish(e, slot, res, &out[n++]);
		if (res < 0)
			break;	/* one error per reap: a broken tap must not eat every buffer */
	}
	watch_tap(e, e->rx_armed > 0);
	return (int)n;
}

int sync_cancel_rx(struct net_engine *e)
{
	sync_submit(e);		/* queued TX goes out, as with io_uring */
	while (e->rx_count) {
		net_done_push(e, e->rx_fifo[e->rx_head], -ECANCELED);
		e->rx_head = (e->rx_head + 1) % e->rx_depth;
		e->rx_count--;
	}
	e->rx_armed = 0;
	return watch_tap(e, false);
}
