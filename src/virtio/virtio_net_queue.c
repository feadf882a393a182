// SPDX-License-Identifier: MIT
/*
 * virtio-net data path, run on each queue pair's I/O thread.
 *
 * TX: pop every available chain (readable only), hand its segments (vnet
 * header first) to the engine, one submit per batch; reaped frames are
 * pushed with length 0. RX: guest receive chains are popped only while the
 * engine has room and turned into posted reads (one chain each, or with
 * MRG_RXBUF as many as a frame may need, virtio_net_rx.c); a completed read
 * pushes the chains the frame filled and keeps the rest for the next read.
 * One interrupt per queue per batch. Nothing here allocates.
 */
#include "virtio/virtio_net_internal.h"
#include "core/log.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static struct virtqueue *rx_vq(struct net_pair *p)
{
	return &p->net->vd.vq[net_rxq(p->index)];
}

static struct virtqueue *tx_vq(struct net_pair *p)
{
	return &p->net->vd.vq[net_txq(p->index)];
}

static bool pair_active(const struct net_pair *p)
{
	return p->index < atomic_load(&p->net->active_pairs);
}

static void broken(struct net_pair *p, unsigned q, int ret)
{
	pr_debug("%s: queue %u: bad chain: %s", p->net->name, q, strerror(-ret));
	virtio_dev_needs_reset(&p->net->vd);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Come back in @ns (a rate limit's wait); the thread sleeps meanwhile. */
static void rate_wait(struct net_pair *p, uint64_t ns)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ns / 1000000000ULL),
						.tv_nsec = (long)(ns % 1000000000ULL) } };

	timerfd_settime(p->rate_fd, 0, &its, NULL);
	p->rate_armed = true;
}

void net_pair_rate_timer(struct net_pair *p)
{
	uint64_t n;

	if (read(p->rate_fd, &n, sizeof(n)) != sizeof(n))
		return;
	p->rate_armed = false;
	net_pair_run(p);
}

/* ---- TX ------------------------------------------------------------------------ */

static void tx_send(struct net_pair *p, const struct iovec *iov, unsigned n, uint16_t head,
		    uint32_t len)
{
	int ret;

	if (net_hold_frame(p->net, iov, n)) {
		/* replication: sent when the checkpoint that covers it is safe */
		NET_STAT_ADD(p->stats.tx_packets, 1);
		NET_STAT_ADD(p->stats.tx_bytes, len);
		virtqueue_push(tx_vq(p), head, 0);
		return;
	}
	ret = net_engine_tx_queue(p->engine, iov, n, head);
	if (ret) {
		NET_STAT_ADD(p->stats.tx_errors, 1);
		virtqueue_push(tx_vq(p), head, 0);
	}
}

/* tx_rate_limiter: may a frame of @len go now? Else it waits in p->txh. */
static bool tx_rate_allows(struct net_pair *p, uint32_t len)
{
	uint64_t wait;

	if (!rl_active(&p->net->tx_rl))
		return true;
	wait = rl_consume(&p->net->tx_rl, len, 1, mono_ns());
	if (!wait)
		return true;
	rate_wait(p, wait);
	NET_STAT_ADD(p->stats.tx_throttled, 1);
	return false;
}

static void tx_chain(struct net_pair *p)
{
	struct vq_chain *c = &p->chain;
	struct iovec iov[NET_ENGINE_MAX_IOV];
	uint32_t len;

	if (c->nsegs != c->nreadable || c->nreadable > NET_ENGINE_MAX_IOV) {
		NET_STAT_ADD(p->stats.tx_errors, 1);	/* writable segments, or too many */
		virtqueue_push(tx_vq(p), c->head, 0);
		return;
	}
	if (c->readable_len <= NET_VNET_HDR_LEN) {
		NET_STAT_ADD(p->stats.tx_dropped, 1);
		virtqueue_push(tx_vq(p), c->head, 0);
		return;
	}
	for (unsigned i = 0; i < c->nreadable; i++)
		iov[i] = (struct iovec){ .iov_base = c->segs[i].hva, .iov_len = c->segs[i].len };
	len = (uint32_t)(c->readable_len - NET_VNET_HDR_LEN);
	if (!tx_rate_allows(p, len)) {
		p->txh.held = true;
		p->txh.head = c->head;
		p->txh.n = c->nreadable;
		p->txh.len = len;
		memcpy(p->txh.iov, iov, c->nreadable * sizeof(*iov));
		return;
	}
	tx_send(p, iov, c->nreadable, c->head, len);
}

static bool tx_engine_full(const struct net_pair *p)
{
	return net_engine_tx_inflight(p->engine) >= NET_QUEUE_MAX;
}

/*
 * Pop and queue every available frame. On a full engine it stops with
 * notifications off: the completions that make room bring the thread back
 * (net_pair_run).
 */
static void tx_pop_all(struct net_pair *p)
{
	struct virtqueue *vq = tx_vq(p);
	int ret = 0;

	if (p->txh.held) {
		if (tx_engine_full(p) || !tx_rate_allows(p, p->txh.len))
			return;		/* notifications stay off: the timer brings us back */
		p->txh.held = false;
		tx_send(p, p->txh.iov, p->txh.n, p->txh.head, p->txh.len);
	}
	do {
		virtqueue_set_notify(vq, false);
		while (!tx_engine_full(p) && !p->txh.held &&
		       (ret = virtqueue_pop(vq, &p->chain)) > 0)
			tx_chain(p);
		if (tx_engine_full(p) || p->txh.held)
			return;
	} while (ret == 0 && virtqueue_enable_notify(vq));
	if (ret < 0)
		broken(p, net_txq(p->index), ret);
}

static void tx_done(struct net_pair *p, const struct net_completion *c)
{
	if (c->result > NET_VNET_HDR_LEN) {
		NET_STAT_ADD(p->stats.tx_packets, 1);
		NET_STAT_ADD(p->stats.tx_bytes, (unsigned)c->result - NET_VNET_HDR_LEN);
	} else {
		NET_STAT_ADD(p->stats.tx_errors, 1);
	}
	virtqueue_push(tx_vq(p), (uint16_t)c->cookie, 0);
}

/* ---- RX ------------------------------------------------------------------------ */

static bool rx_mergeable(const struct net_pair *p)
{
	return virtio_dev_has(&p->net->vd, VIRTIO_NET_F_MRG_RXBUF);
}

static bool rx_gso(const struct net_pair *p)
{
	const struct virtio_dev *vd = &p->net->vd;

	return virtio_dev_has(vd, VIRTIO_NET_F_GUEST_TSO4) ||
	       virtio_dev_has(vd, VIRTIO_NET_F_GUEST_TSO6) ||
	       virtio_dev_has(vd, VIRTIO_NET_F_GUEST_UFO);
}

/* The most a frame from the tap can take: header + Ethernet + VLAN + MTU, or GSO. */
static uint64_t rx_frame_max(const struct net_pair *p)
{
	return rx_gso(p) ? NET_MAX_GSO_FRAME : NET_VNET_HDR_LEN + 18u + p->net->mtu;
}

/* Can p->chain be a receive buffer (device-writable only, in bounds)? */
static bool rx_chain_usable(const struct net_pair *p)
{
	const struct vq_chain *c = &p->chain;

	return !c->nreadable && c->nsegs - c->nreadable <= NET_ENGINE_MAX_IOV &&
	       c->writable_len >= NET_VNET_HDR_LEN && c->writable_len <= UINT32_MAX;
}

/* A popped chain into a slot, or back to the guest with 0 bytes when it is garbage. */
static void rx_take_chain(struct net_pair *p)
{
	struct vq_chain *c = &p->chain;
	struct net_rx_chain *s;
	unsigned nw = c->nsegs - c->nreadable;

	if (!rx_chain_usable(p)) {
		NET_STAT_ADD(p->stats.rx_errors, 1);
		virtqueue_push(rx_vq(p), c->head, 0);
		return;
	}
	if (!rx_mergeable(p) && c->writable_len < rx_frame_max(p))
		NET_STAT_ADD(p->stats.rx_short, 1);	/* legal, but a big frame will be cut */
	s = &p->rxc[p->rxc_free[--p->rxc_nfree]];
	s->head = c->head;
	s->niov = (uint16_t)nw;
	s->len = (uint32_t)c->writable_len;
	for (unsigned i = 0; i < nw; i++)
		s->iov[i] = (struct iovec){ .iov_base = c->segs[c->nreadable + i].hva,
					    .iov_len = c->segs[c->nreadable + i].len };
	p->pend[p->npend++] = (uint16_t)(s - p->rxc);
}

/* How many pending chains the next read takes; *full: it cannot grow. */
static unsigned rx_plan(struct net_pair *p, bool *full)
{
	struct net_rx_buf bufs[NET_ENGINE_MAX_IOV];
	unsigned n = p->npend < NET_ENGINE_MAX_IOV ? p->npend : NET_ENGINE_MAX_IOV;

	for (unsigned i = 0; i < n; i++) {
		const struct net_rx_chain *s = &p->rxc[p->pend[i]];

		bufs[i] = (struct net_rx_buf){ .len = s->len, .niov = s->niov };
	}
	return net_rx_gather(bufs, n, rx_frame_max(p), rx_mergeable(p) ? NET_ENGINE_MAX_IOV : 1,
			     NET_ENGINE_MAX_IOV, full);
}

/* Post the first @k pending chains as one read. */
static int rx_post(struct net_pair *p, unsigned k)
{
	struct iovec iov[NET_ENGINE_MAX_IOV];
	unsigned niov = 0, slot;
	struct net_rx_read *r;
	int ret;

	slot = p->read_free[p->read_nfree - 1];
	r = &p->reads[slot];
	for (unsigned i = 0; i < k; i++) {
		const struct net_rx_chain *s = &p->rxc[p->pend[i]];

		memcpy(iov + niov, s->iov, s->niov * sizeof(*iov));
		niov += s->niov;
		r->chain[i] = p->pend[i];
	}
	ret = net_engine_rx_post(p->engine, iov, niov, slot);
	if (ret)
		return ret;
	r->n = k;
	p->read_nfree--;
	p->npend -= k;
	memmove(p->pend, p->pend + k, p->npend * sizeof(*p->pend));
	return 0;
}

/*
 * Does the guest need to notify us of new receive buffers? Not while reads
 * are posted or the partial-read timer runs: their completions bring this
 * thread back and it pops whatever the guest added meanwhile. Left on, every
 * buffer the guest gives back after a frame costs it a notify (an exit),
 * since the device takes buffers as soon as they come.
 */
static bool rx_wants_notify(const struct net_pair *p)
{
	return net_engine_rx_inflight(p->engine) == 0 && !p->timer_armed && !p->rate_armed;
}

/*
 * rx_rate_limiter: a frame's size is known only once read, so it is charged
 * then (rx_deliver), and no read is posted while the budget is in debt. The
 * reads already posted may take the budget that far below zero (at most
 * NET_RX_POSTED frames: a burst of a few ms at any useful limit); the debt
 * is paid before the next read, so the long-run rate holds. One read at a
 * time would make the rate the read's round trip, which a loaded host
 * stretches below the limit.
 */
static unsigned rx_reads_allowed(struct net_pair *p)
{
	uint64_t wait;

	if (!rl_active(&p->net->rx_rl))
		return NET_RX_POSTED;
	if (p->rate_armed)
		return 0;
	wait = rl_peek(&p->net->rx_rl, 1, 1, mono_ns());
	if (!wait)
		return NET_RX_POSTED;
	rate_wait(p, wait);
	NET_STAT_ADD(p->stats.rx_throttled, 1);
	return 0;
}

/*
 * Pop one chain into pending; 1 popped, 0 empty (notifications on when
 * rx_wants_notify), <0 broken.
 */
static int rx_pop_one(struct net_pair *p)
{
	struct virtqueue *vq = rx_vq(p);
	int ret;

	for (;;) {
		ret = virtqueue_pop(vq, &p->chain);
		if (ret > 0) {
			rx_take_chain(p);
			return 1;
		}
		if (ret < 0 || !rx_wants_notify(p) || !virtqueue_enable_notify(vq))
			return ret;
		virtqueue_set_notify(vq, false);
	}
}

static void timer_set(struct net_pair *p, bool arm)
{
	struct itimerspec its = { .it_value.tv_nsec = arm ? NET_PARTIAL_WAIT_NS : 0 };

	if (p->timer_armed == arm)
		return;
	timerfd_settime(p->timer_fd, 0, &its, NULL);
	p->timer_armed = arm;
}

void net_pair_timer(struct net_pair *p)
{
	uint64_t n;

	if (read(p->timer_fd, &n, sizeof(n)) != sizeof(n))
		return;
	p->timer_armed = false;
	p->partial_ok = true;
	net_pair_run(p);
}

/*
 * May a read that could still grow go as it is? Only when nothing else is
 * posted (completions would bring more buffers) and the guest added none for
 * NET_PARTIAL_WAIT_NS: a guest that posts its buffers one by one gets full
 * reads, one that posts fewer than a GSO frame needs still receives (a frame
 * too big for what it posted is cut).
 */
static bool rx_partial_ok(struct net_pair *p)
{
	if (net_engine_rx_inflight(p->engine) > 0)
		return false;
	if (p->partial_ok) {
		p->partial_ok = false;
		return true;
	}
	timer_set(p, true);
	return false;
}

/* Post reads while the engine has room and the guest has buffers. */
static void rx_refill(struct net_pair *p)
{
	bool full, empty = false;
	unsigned k;
	int ret;

	virtqueue_set_notify(rx_vq(p), false);
	while (p->read_nfree && net_engine_rx_inflight(p->engine) < rx_reads_allowed(p)) {
		k = rx_plan(p, &full);
		while (!full && !empty && p->rxc_nfree) {
			ret = rx_pop_one(p);
			if (ret < 0) {
				broken(p, net_rxq(p->index), ret);
				return;
			}
			empty = ret == 0;
			k = rx_plan(p, &full);
		}
		if (k == 0 || (!full && !rx_partial_ok(p)))
			break;
		if (rx_post(p, k))
			break;
		if (full)
			timer_set(p, false);
	}
	/* stopped with buffers left: a kick also means "more buffers" */
	if (rx_wants_notify(p) && (!empty || !rx_vq(p)->st.notify_enabled))
		virtqueue_enable_notify(rx_vq(p));
}

static void rx_keep_front(struct net_pair *p, const uint16_t *chains, unsigned n)
{
	memmove(p->pend + n, p->pend, p->npend * sizeof(*p->pend));
	memcpy(p->pend, chains, n * sizeof(*p->pend));
	p->npend += n;
}

static void rx_release(struct net_pair *p, uint16_t slot)
{
	p->rxc_free[p->rxc_nfree++] = slot;
}

static void rx_deliver(struct net_pair *p, struct net_rx_read *r, int bytes)
{
	uint32_t lens[NET_ENGINE_MAX_IOV], used[NET_ENGINE_MAX_IOV];
	struct virtq_used_elem elems[NET_ENGINE_MAX_IOV];
	struct net_rx_chain *first = &p->rxc[r->chain[0]];
	unsigned k;
	uint8_t nb[2];

	for (unsigned i = 0; i < r->n; i++)
		lens[i] = p->rxc[r->chain[i]].len;
	k = net_rx_split(lens, r->n, (uint64_t)bytes, used);
	nb[0] = (uint8_t)k;
	nb[1] = (uint8_t)(k >> 8);
	net_iov_write(first->iov, first->niov, 10, nb, sizeof(nb));	/* num_buffers */
	for (unsigned i = 0; i < k; i++) {
		elems[i] = (struct virtq_used_elem){ .id = p->rxc[r->chain[i]].head, .len = used[i] };
		rx_release(p, r->chain[i]);
	}
	/* all of a frame's buffers at once: the driver reads them as one */
	virtqueue_push_batch(rx_vq(p), elems, k);
	rx_keep_front(p, r->chain + k, r->n - k);
	NET_STAT_ADD(p->stats.rx_packets, 1);
	NET_STAT_ADD(p->stats.rx_bytes, (unsigned)bytes - NET_VNET_HDR_LEN);
	if (rl_active(&p->net->rx_rl))
		rl_charge(&p->net->rx_rl, (uint64_t)bytes - NET_VNET_HDR_LEN, 1, mono_ns());
}

static void rx_done(struct net_pair *p, const struct net_completion *c)
{
	struct net_rx_read *r = &p->reads[c->cookie];

	if (c->result == -ECANCELED) {
		rx_keep_front(p, r->chain, r->n);	/* still the device's, unused */
	} else if (c->result <= NET_VNET_HDR_LEN) {
		NET_STAT_ADD(p->stats.rx_errors, 1);
		for (unsigned i = 0; i < r->n; i++) {
			virtqueue_push(rx_vq(p), p->rxc[r->chain[i]].head, 0);
			rx_release(p, r->chain[i]);
		}
	} else {
		rx_deliver(p, r, c->result);
	}
	p->read_free[p->read_nfree++] = (uint16_t)c->cookie;
}

/* ---- the pair's loop ------------------------------------------------------------ */

/* Returns how many completions it took. */
static unsigned reap_all(struct net_pair *p)
{
	struct net_completion done[NET_REAP_BATCH];
	unsigned total = 0;
	int n;

	while ((n = net_engine_reap(p->engine, done, NET_REAP_BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			if (done[i].is_rx)
				rx_done(p, &done[i]);
			else
				tx_done(p, &done[i]);
		}
		total += (unsigned)n;
	}
	return total;
}

static void interrupt(struct net_pair *p, unsigned q, uint16_t old)
{
	if (p->net->vd.vq[q].st.used_idx == old)
		return;
	NET_STAT_ADD(p->stats.interrupts, 1);
	virtio_dev_queue_done(&p->net->vd, q, old);
}

/*
 * A multi-queue tap spreads frames over all its attached queues: a pair the
 * driver does not use must be detached, or what the kernel steers to it
 * would wait there for good.
 */
void net_pair_set_attached(struct net_pair *p, bool attach)
{
	struct ifreq ifr;

	if (p->net->npairs < 2 || p->detached == !attach)
		return;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(p->net->tap.fds[p->index], TUNSETQUEUE, &ifr) < 0) {
		pr_warn("%s: pair %u: TUNSETQUEUE %s: %s", p->net->name, p->index,
			attach ? "attach" : "detach", strerror(errno));
		return;
	}
	p->detached = !attach;
}

/* An inactive pair (VQ_PAIRS_SET lowered the count) gives up its reads and its queue. */
static void rx_park(struct net_pair *p)
{
	if (net_engine_rx_inflight(p->engine)) {
		net_engine_cancel_rx(p->engine);
		reap_all(p);
	}
	net_pair_set_attached(p, false);
}

/*
 * One pass: reap, pop TX and refill RX, submit, reap again (the sync engine
 * completes TX inside submit; io_uring often completes both directions there
 * for a tap). When that last reap took anything, go round again: those
 * completions are not signalled again, and the pass may have left TX or RX
 * notifications off counting on them (a full TX engine; reads in flight), so
 * stopping there would leave the guest's next frames or buffers waiting for
 * good. After NET_RUN_PASSES the thread kicks itself and serves its other
 * descriptors first.
 */
void net_pair_run(struct net_pair *p)
{
	uint16_t old_rx = rx_vq(p)->st.used_idx, old_tx = tx_vq(p)->st.used_idx;
	unsigned passes = 0, late;
	int ret;

	do {
		reap_all(p);
		if (pair_active(p)) {
			net_pair_set_attached(p, true);
			tx_pop_all(p);
			rx_refill(p);
		} else {
			rx_park(p);
		}
		ret = net_engine_submit(p->engine);
		if (ret < 0)
			pr_debug("%s: pair %u: submit: %s", p->net->name, p->index,
				 strerror(-ret));
		late = reap_all(p);
	} while (late && ++passes < NET_RUN_PASSES);
	if (late)
		eventfd_kick(p->net->vd.kick_fd[net_rxq(p->index)]);
	interrupt(p, net_rxq(p->index), old_rx);
	interrupt(p, net_txq(p->index), old_tx);
}

void net_pair_reset_slots(struct net_pair *p)
{
	p->rxc_nfree = p->read_nfree = NET_QUEUE_MAX;
	for (unsigned i = 0; i < NET_QUEUE_MAX; i++) {
		p->rxc_free[i] = (uint16_t)(NET_QUEUE_MAX - 1 - i);
		p->read_free[i] = (uint16_t)(NET_QUEUE_MAX - 1 - i);
	}
	p->npend = 0;
}

/* Stop: cancel the reads, wait for the writes, forget every chain (the queues reset). */
void net_pair_drain(struct net_pair *p)
{
	struct net_completion done[NET_REAP_BATCH];
	struct pollfd pfd = { .fd = net_engine_completion_fd(p->engine), .events = POLLIN };

	net_engine_cancel_rx(p->engine);
	while (net_engine_rx_inflight(p->engine) || net_engine_tx_inflight(p->engine)) {
		if (net_engine_reap(p->engine, done, NET_REAP_BATCH) > 0)
			continue;
		if (poll(&pfd, 1, 1000) == 0)
			pr_warn("%s: pair %u: waiting for %u frames", p->net->name, p->index,
				net_engine_tx_inflight(p->engine));
	}
	net_pair_reset_slots(p);
	timer_set(p, false);
	p->partial_ok = false;
	p->txh.held = false;	/* a reset: the guest forgets it too */
	timerfd_settime(p->rate_fd, 0, &(struct itimerspec){ 0 }, NULL);
	p->rate_armed = false;
}

/*
 * VM pause, with the pair's thread parked: cancel the reads, let every write
 * finish, complete what came. The popped RX chains no read used stay the
 * pair's (pend): they are not in general the last ones popped (reads
 * complete out of order, and a frame's unused buffers go back to the front
 * of pend while later reads hold newer chains), so they cannot be offered
 * again by stepping last_avail_idx back. A snapshot saves their heads
 * (net_pair_pending_heads) and a restore takes them again
 * (net_pair_restore_pending). A held TX frame is the last chain popped from
 * its queue and is offered again that way.
 */
void net_pair_quiesce(struct net_pair *p)
{
	struct pollfd pfd = { .fd = net_engine_completion_fd(p->engine), .events = POLLIN };
	uint16_t old_rx = rx_vq(p)->st.used_idx, old_tx = tx_vq(p)->st.used_idx;

	net_engine_cancel_rx(p->engine);
	for (;;) {
		reap_all(p);
		if (!net_engine_rx_inflight(p->engine) && !net_engine_tx_inflight(p->engine))
			break;
		if (poll(&pfd, 1, 1000) == 0)
			pr_warn("%s: pair %u: waiting for %u frames", p->net->name, p->index,
				net_engine_tx_inflight(p->engine));
	}
	if (p->txh.held) {
		/* the held TX frame was the last one popped: offer it again the same way */
		tx_vq(p)->st.last_avail_idx = (uint16_t)(tx_vq(p)->st.last_avail_idx - 1);
		p->txh.held = false;
	}
	timer_set(p, false);
	p->partial_ok = false;
	interrupt(p, net_rxq(p->index), old_rx);
	interrupt(p, net_txq(p->index), old_tx);
}

unsigned net_pair_pending_heads(const struct net_pair *p, uint16_t *heads)
{
	for (unsigned i = 0; i < p->npend; i++)
		heads[i] = p->rxc[p->pend[i]].head;
	return p->npend;
}

int net_pair_restore_pending(struct net_pair *p, uint16_t head)
{
	int ret = virtqueue_chain_at(rx_vq(p), head, &p->chain);

	if (ret)
		return ret;
	if (!rx_chain_usable(p) || !p->rxc_nfree)
		return -EINVAL;
	rx_take_chain(p);
	return 0;
}

/* ---- rate limits (create: before any thread; set: the API thread) ------------- */

void virtio_net_init_rates(struct virtio_net *net, const struct husk_net_config *cfg)
{
	rl_init(&net->rx_rl, &cfg->rx_rate, mono_ns());
	rl_init(&net->tx_rl, &cfg->tx_rate, mono_ns());
}

void virtio_net_set_rate_limits(struct virtio_net *net, const struct husk_rate_limit *rx,
				const struct husk_rate_limit *tx)
{
	rl_update(&net->rx_rl, rx, mono_ns());
	rl_update(&net->tx_rl, tx, mono_ns());
	/* a held frame or a waiting refill asks again now, under the new limits */
	for (unsigned i = 0; i < net->npairs; i++)
		if (net->pair[i].started)
			eventfd_kick(net->vd.kick_fd[net_rxq(i)]);
}
