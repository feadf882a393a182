// SPDX-License-Identifier: MIT
/*
 * virtio-net (virtio 1.2, 5.1) on a TAP.
 *
 * Features offered: VERSION_1, RING_EVENT_IDX, RING_INDIRECT_DESC, MAC,
 * STATUS (link always up), MTU (when mtu= was given or the tap's MTU is not
 * 1500), CSUM, GUEST_CSUM, HOST_TSO4/6, HOST_ECN, GUEST_TSO4/6, GUEST_ECN,
 * MRG_RXBUF, CTRL_VQ, MQ (queues > 1). The guest's receive offloads are
 * mirrored onto the tap with TUNSETOFFLOAD when the driver starts the device
 * (and cleared at reset), so the kernel never hands it a frame it cannot take.
 *
 * Queues: rx0, tx0, rx1, tx1, ..., then the control queue (at 2 when MQ was
 * not negotiated). Each pair has one I/O thread and one net engine on its
 * own tap queue fd; the thread watches both kick eventfds and the engine's
 * completion fd (virtio_net_queue.c), pair 0's also the control queue
 * (virtio_net_ctrl.c).
 */
#include "virtio/virtio_net_internal.h"
#include "core/log.h"
#include "core/statebuf.h"
#include "net/mac.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* ---- the worker's callbacks ------------------------------------------------------ */

static void on_rx_kick(void *ctx)
{
	struct net_pair *p = ctx;

	eventfd_drain(p->net->vd.kick_fd[net_rxq(p->index)]);
	net_pair_run(p);
}

static void on_tx_kick(void *ctx)
{
	struct net_pair *p = ctx;

	eventfd_drain(p->net->vd.kick_fd[net_txq(p->index)]);
	net_pair_run(p);
}

static void on_completion(void *ctx)
{
	net_pair_run(ctx);
}

static void on_timer(void *ctx)
{
	net_pair_timer(ctx);
}

static void on_rate_timer(void *ctx)
{
	net_pair_rate_timer(ctx);
}

static void on_ctrl_kick(void *ctx)
{
	struct virtio_net *net = ctx;

	eventfd_drain(net->vd.kick_fd[net->ctrl_q]);
	net_ctrl_run(net);
}

/* ---- start, stop, pause (transport lock held / API thread) --------------------- */

/* What the guest can receive, as TUN_F_* flags for TUNSETOFFLOAD. */
static unsigned guest_tun_offload(const struct virtio_dev *vd)
{
	unsigned f = 0;

	if (!virtio_dev_has(vd, VIRTIO_NET_F_GUEST_CSUM))
		return 0;	/* no segmentation offload without checksum offload */
	f |= TUN_F_CSUM;
	if (virtio_dev_has(vd, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (virtio_dev_has(vd, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if ((f & (TUN_F_TSO4 | TUN_F_TSO6)) && virtio_dev_has(vd, VIRTIO_NET_F_GUEST_ECN))
		f |= TUN_F_TSO_ECN;
	return f;
}

static int pair_start(struct net_pair *p, bool with_ctrl)
{
	struct virtio_dev *vd = &p->net->vd;
	int ret;

	worker_unwatch_all(&p->worker);
	ret = worker_watch(&p->worker, vd->kick_fd[net_rxq(p->index)], on_rx_kick, p);
	if (!ret)
		ret = worker_watch(&p->worker, vd->kick_fd[net_txq(p->index)], on_tx_kick, p);
	if (!ret)
		ret = worker_watch(&p->worker, net_engine_completion_fd(p->engine),
				   on_completion, p);
	if (!ret)
		ret = worker_watch(&p->worker, p->timer_fd, on_timer, p);
	if (!ret)
		ret = worker_watch(&p->worker, p->rate_fd, on_rate_timer, p);
	if (!ret && with_ctrl)
		ret = worker_watch(&p->worker, vd->kick_fd[p->net->ctrl_q], on_ctrl_kick, p->net);
	if (!ret)
		ret = worker_start(&p->worker);
	if (ret)
		return ret;
	p->started = true;
	eventfd_kick(vd->kick_fd[net_rxq(p->index)]);	/* buffers may be there already */
	if (with_ctrl)
		eventfd_kick(vd->kick_fd[p->net->ctrl_q]);
	return 0;
}

static void net_stop(struct virtio_dev *vd)
{
	struct virtio_net *net = vd->priv;

	for (unsigned i = 0; i < net->npairs; i++) {
		struct net_pair *p = &net->pair[i];

		if (!p->started)
			continue;
		worker_stop(&p->worker);
		net_pair_drain(p);
		p->started = false;
	}
	for (unsigned i = 1; i < net->npairs; i++)
		net_pair_set_attached(&net->pair[i], true);
	if (net->tun_offload && tap_set_offload(&net->tap, 0) == 0)
		net->tun_offload = 0;
	atomic_store(&net->active_pairs, 1);
}

static int net_start(struct virtio_dev *vd)
{
	struct virtio_net *net = vd->priv;
	bool mq = virtio_dev_has(vd, VIRTIO_NET_F_MQ);
	unsigned npairs = mq ? net->npairs : 1;
	unsigned off = guest_tun_offload(vd);
	int ret;

	net->ctrl_q = 2 * npairs;
	atomic_store(&net->active_pairs, 1);	/* until VQ_PAIRS_SET (5.1.6.5.5) */
	ret = tap_set_offload(&net->tap, off);
	if (ret) {
		pr_warn("%s: TUNSETOFFLOAD 0x%x: %s", net->name, off, strerror(-ret));
		return ret;
	}
	net->tun_offload = off;
	for (unsigned i = 1; i < net->npairs; i++)
		net_pair_set_attached(&net->pair[i], false);	/* until VQ_PAIRS_SET */
	for (unsigned i = 0; i < npairs; i++) {
		bool ctrl = i == 0 && virtio_dev_has(vd, VIRTIO_NET_F_CTRL_VQ);

		if (i && !vd->st.q[net_rxq(i)].enabled && !vd->st.q[net_txq(i)].enabled)
			continue;	/* the driver uses fewer pairs than offered */
		ret = pair_start(&net->pair[i], ctrl);
		if (ret) {
			net_stop(vd);
			return ret;
		}
	}
	return 0;
}

/* Park the pair threads, then quiesce each pair (virtio_net_queue.c). */
void virtio_net_pause(struct virtio_net *net)
{
	for (unsigned i = 0; i < net->npairs; i++) {
		if (!net->pair[i].started)
			continue;
		worker_pause(&net->pair[i].worker);
		net_pair_quiesce(&net->pair[i]);
	}
	net->paused = true;
}

void virtio_net_resume(struct virtio_net *net)
{
	net->paused = false;
	for (unsigned i = 0; i < net->npairs; i++) {
		worker_resume(&net->pair[i].worker);
		/* the RX chains the pause gave back are popped again */
		if (net->pair[i].started)
			eventfd_kick(net->vd.kick_fd[net_rxq(i)]);
	}
}

/*
 * Saved state: the virtio core, the pair count, the pairs the driver
 * enabled (VQ_PAIRS_SET), the MAC the guest was shown, and per pair the
 * heads of the receive buffers it held unused (version 2). A started device
 * is saved only while paused (virtio_net_pause: no read or write in flight).
 * The tap itself is the restoring VM's, opened from its configuration:
 * frames that were in the tap's queue are not saved.
 */
int virtio_net_save(struct virtio_net *net, struct state_writer *w)
{
	uint16_t heads[NET_QUEUE_MAX];

	if (net->vd.started && !net->paused)
		return -EBUSY;
	virtio_dev_save(&net->vd, w);
	sw_u32(w, net->npairs);
	sw_u32(w, atomic_load(&net->active_pairs));
	sw_bytes(w, net->mac, sizeof(net->mac));
	for (unsigned i = 0; i < net->npairs; i++) {
		unsigned n = net->vd.started ? net_pair_pending_heads(&net->pair[i], heads) : 0;

		sw_u32(w, n);
		for (unsigned k = 0; k < n; k++)
			sw_u16(w, heads[k]);
	}
	return w->err;
}

/* Is the saved queue's chain at @head a receive buffer a pair can hold? */
static bool pending_usable(struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	return !virtqueue_chain_at(vq, head, c) && !c->nreadable &&
	       c->nsegs <= NET_ENGINE_MAX_IOV && c->writable_len >= NET_VNET_HDR_LEN &&
	       c->writable_len <= UINT32_MAX;
}

/*
 * Read the pending heads of every pair into @heads/@nheads, before anything
 * changes; refuse counts beyond a queue, heads beyond the queue's size, a
 * head twice, buffers for a queue the driver did not enable, and chains in
 * the saved rings that are not receive buffers.
 */
static int read_pending(struct virtio_net *net, struct state_reader *r,
			const struct virtio_dev_saved *s, uint16_t (*heads)[NET_QUEUE_MAX],
			unsigned *nheads)
{
	struct vq_seg *segs = NULL;
	struct virtqueue vq;
	struct vq_chain c;
	int ret = 0;

	for (unsigned i = 0; i < net->npairs && !ret; i++) {
		const struct virtio_queue_regs *q = &s->st.q[net_rxq(i)];
		uint8_t seen[NET_QUEUE_MAX / 8] = { 0 };

		nheads[i] = sr_u32(r);
		if (r->err)
			return r->err;
		if (nheads[i] > NET_QUEUE_MAX || (nheads[i] && (!q->enabled || !s->started)) ||
		    nheads[i] > q->size)
			return sr_fail(r, "virtio-net %s: pair %u: %u receive buffers held", net->name,
				       i, nheads[i]);
		for (unsigned k = 0; k < nheads[i]; k++) {
			uint16_t h = sr_u16(r);

			if (r->err)
				return r->err;
			if (h >= q->size || (seen[h / 8] & (1u << (h % 8))))
				return sr_fail(r, "virtio-net %s: pair %u: receive buffer %u", net->name,
					       i, h);
			seen[h / 8] |= (uint8_t)(1u << (h % 8));
			heads[i][k] = h;
		}
		if (!nheads[i])
			continue;
		if (!segs && !(segs = calloc(NET_CHAIN_SEGS, sizeof(*segs))))
			return sr_fail(r, "virtio-net %s: %s", net->name, strerror(ENOMEM));
		vq_chain_init(&c, segs, NET_CHAIN_SEGS);
		virtqueue_init(&vq);
		if (virtqueue_restore(&vq, net->vd.mem, &s->vq[net_rxq(i)]))
			ret = sr_fail(r, "virtio-net %s: pair %u: its receive queue", net->name, i);
		for (unsigned k = 0; k < nheads[i] && !ret; k++)
			if (!pending_usable(&vq, heads[i][k], &c))
				ret = sr_fail(r, "virtio-net %s: pair %u: receive buffer %u is not one",
					      net->name, i, heads[i][k]);
	}
	free(segs);
	return ret;
}

static void fmt_mac(char *b, size_t n, const uint8_t *m)
{
	snprintf(b, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int virtio_net_load(struct virtio_net *net, struct state_reader *r)
{
	struct virtio_dev_saved s;
	uint16_t heads[HUSK_MAX_QUEUES][NET_QUEUE_MAX];		/* 8 KiB */
	unsigned nheads[HUSK_MAX_QUEUES];
	uint32_t npairs, active;
	uint8_t mac[6];
	char a[18], b[18];
	int ret;

	if (virtio_dev_read(&net->vd, r, &s))
		return r->err;
	npairs = sr_u32(r);
	active = sr_u32(r);
	sr_bytes(r, mac, sizeof(mac));
	if (r->err)
		return r->err;
	if (npairs != net->npairs)
		return sr_fail(r, "virtio-net %s: %u queue pairs saved, this NIC has %u", net->name,
			       npairs, net->npairs);
	if (read_pending(net, r, &s, heads, nheads) || sr_done(r))
		return r->err;
	if (active < 1 || active > npairs ||
	    (active > 1 && !(s.st.driver_features & (1ull << VIRTIO_NET_F_MQ))))
		return sr_fail(r, "virtio-net %s: %u active queue pairs", net->name, active);
	if (memcmp(mac, net->mac, sizeof(mac))) {
		fmt_mac(a, sizeof(a), mac);
		fmt_mac(b, sizeof(b), net->mac);
		return sr_fail(r, "virtio-net %s: the guest knows MAC %s, this NIC has %s",
			       net->name, a, b);
	}
	virtio_dev_apply(&net->vd, &s);
	/* the buffers the saved pairs held, before their threads pop more */
	for (unsigned i = 0; i < net->npairs; i++) {
		for (unsigned k = 0; k < nheads[i]; k++) {
			/* checked by read_pending: a slot each, a usable chain */
			ret = net_pair_restore_pending(&net->pair[i], heads[i][k]);
			if (ret)
				pr_warn("virtio-net %s: pair %u: receive buffer %u: %s", net->name, i,
					heads[i][k], strerror(-ret));
		}
	}
	virtio_dev_start_loaded(&net->vd, &s);
	if (net->vd.started && active > 1)
		net_set_pairs(net, active);
	if (net->paused && net->vd.started)
		virtio_net_pause(net);	/* loaded into a paused VM */
	return 0;
}

static void net_cfg_read(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net *net = vd->priv;

	memcpy(data, net->cfg + off, len);
}

static const struct virtio_dev_ops net_ops = {
	.start = net_start,
	.stop = net_stop,
	.cfg_read = net_cfg_read,
};

/* ---- setup ----------------------------------------------------------------------- */

static void fill_config(struct virtio_net *net)
{
	uint8_t *c = net->cfg;

	memset(c, 0, sizeof(net->cfg));
	memcpy(c + offsetof(struct virtio_net_config, mac), net->mac, 6);
	c[offsetof(struct virtio_net_config, status)] = VIRTIO_NET_S_LINK_UP;
	c[offsetof(struct virtio_net_config, max_virtqueue_pairs)] = (uint8_t)net->npairs;
	c[offsetof(struct virtio_net_config, mtu)] = (uint8_t)net->mtu;
	c[offsetof(struct virtio_net_config, mtu) + 1] = (uint8_t)(net->mtu >> 8);
}

static uint64_t offered_features(const struct virtio_net *net)
{
	static const unsigned bits[] = {
		VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_NET_F_MAC,
		VIRTIO_NET_F_STATUS, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM,
		VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN,
		VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,
		VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CTRL_VQ,
	};
	uint64_t f = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		f |= 1ull << bits[i];
	if (net->offer_mtu)
		f |= 1ull << VIRTIO_NET_F_MTU;
	if (net->npairs > 1)
		f |= 1ull << VIRTIO_NET_F_MQ;
	return f;
}

/* The tap's MTU (SIOCGIFMTU by name); 0 when it cannot be read (another netns). */
static unsigned tap_mtu(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (s < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(s, SIOCGIFMTU, &ifr);
	close(s);
	return ret < 0 || ifr.ifr_mtu <= 0 || ifr.ifr_mtu > 65535 ? 0 : (unsigned)ifr.ifr_mtu;
}

static int describe(struct virtio_net *net, const struct husk_net_config *cfg, const char *seed,
		    unsigned index)
{
	/*
	 * A handed-over fd's tap may live in another network namespace, where
	 * its name means nothing here: only a tap husk opened by name is asked.
	 */
	unsigned mtu = cfg->mtu ? cfg->mtu : cfg->fd < 0 ? tap_mtu(net->tap.ifname) : 0;

	snprintf(net->name, sizeof(net->name), "%s", cfg->id ? cfg->id : net->tap.ifname);
	net->npairs = net->tap.nqueues;
	net->mtu = mtu ? mtu : 1500;
	net->offer_mtu = cfg->mtu || net->mtu != 1500;
	if (cfg->mac_set) {
		memcpy(net->mac, cfg->mac, 6);
		return 0;
	}
	return net_default_mac(seed ? seed : "husk", index, net->mac);
}

static enum net_engine_kind engine_kind(enum husk_net_engine e)
{
	return e == HUSK_NET_ENGINE_URING ? NET_ENGINE_URING :
	       e == HUSK_NET_ENGINE_SYNC ? NET_ENGINE_SYNC : NET_ENGINE_AUTO;
}

static int pair_init(struct virtio_net *net, unsigned i, enum husk_net_engine kind,
		     const struct husk_sandbox *sb, char *err, size_t errlen)
{
	struct net_pair *p = &net->pair[i];
	struct net_engine_params ep = {
		.tap_fd = net->tap.fds[i], .rx_depth = NET_QUEUE_MAX, .tx_depth = NET_QUEUE_MAX,
		.kind = engine_kind(kind),
	};
	char name[24];	/* worker_init() keeps the first 15 bytes */
	int ret;

	p->net = net;
	p->index = i;
	p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	p->rate_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->timer_fd < 0 || p->rate_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "--net tap=%s: timerfd: %s", net->tap.ifname, strerror(-ret));
		return ret;
	}
	p->rxc = calloc(NET_QUEUE_MAX, sizeof(*p->rxc));
	p->reads = calloc(NET_QUEUE_MAX, sizeof(*p->reads));
	p->rxc_free = calloc(NET_QUEUE_MAX, sizeof(*p->rxc_free));
	p->read_free = calloc(NET_QUEUE_MAX, sizeof(*p->read_free));
	p->pend = calloc(NET_QUEUE_MAX, sizeof(*p->pend));
	if (!p->rxc || !p->reads || !p->rxc_free || !p->read_free || !p->pend) {
		snprintf(err, errlen, "--net tap=%s: %s", net->tap.ifname, strerror(ENOMEM));
		return -ENOMEM;
	}
	vq_chain_init(&p->chain, p->segs, NET_CHAIN_SEGS);
	net_pair_reset_slots(p);
	snprintf(name, sizeof(name), "net%.6s-q%u", net->tap.ifname, i);
	ret = worker_init(&p->worker, name, sb);
	if (ret) {
		snprintf(err, errlen, "--net tap=%s: I/O thread: %s", net->tap.ifname,
			 strerror(-ret));
		return ret;
	}
	ret = net_engine_create(&ep, &p->engine);
	if (ret)
		snprintf(err, errlen, "--net tap=%s: packet engine: %s", net->tap.ifname,
			 strerror(-ret));
	return ret;
}

static void pair_uninit(struct net_pair *p)
{
	if (p->net && p->timer_fd >= 0)
		close(p->timer_fd);
	if (p->net && p->rate_fd > 0)
		close(p->rate_fd);
	net_engine_destroy(p->engine);
	if (p->net)
		worker_destroy(&p->worker);
	free(p->rxc);
	free(p->reads);
	free(p->rxc_free);
	free(p->read_free);
	free(p->pend);
	memset(p, 0, sizeof(*p));
}

static void net_free(struct virtio_net *net)
{
	for (unsigned i = 0; i < HUSK_MAX_QUEUES; i++)
		pair_uninit(&net->pair[i]);
	tap_close(&net->tap);
	rl_destroy(&net->rx_rl);
	rl_destroy(&net->tx_rl);
	free(net);
}

int virtio_net_create(const struct virtio_env *env, const struct husk_net_config *cfg,
		      struct tap *tap, const char *seed, unsigned index,
		      struct virtio_net **out, char *err, size_t errlen)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	struct virtio_dev_params p = {
		.device_id = VIRTIO_ID_NET, .queue_max = NET_QUEUE_MAX, .cfg_len = NET_CFG_LEN,
		.ops = &net_ops,
	};
	int ret;

	*out = NULL;
	if (!net) {
		tap_close(tap);
		snprintf(err, errlen, "--net tap=%s: %s", tap->ifname, strerror(ENOMEM));
		return -ENOMEM;
	}
	net->tap = *tap;
	for (unsigned i = 0; i < HUSK_MAX_QUEUES; i++)
		tap->fds[i] = -1;
	tap->nqueues = 0;
	ret = describe(net, cfg, seed, index);
	if (ret)
		snprintf(err, errlen, "--net tap=%s: default MAC: %s", net->tap.ifname,
			 strerror(-ret));
	atomic_init(&net->active_pairs, 1);
	virtio_net_init_rates(net, cfg);
	fill_config(net);
	for (unsigned i = 0; i < net->npairs && !ret; i++)
		ret = pair_init(net, i, cfg->engine, env->sandbox, err, errlen);
	if (ret) {
		net_free(net);
		return ret;
	}
	p.name = net->name;
	p.features = offered_features(net);
	p.nqueues = 2 * net->npairs + 1;
	p.priv = net;
	ret = virtio_dev_init(&net->vd, &p, env->mem);
	if (!ret)
		ret = virtio_transport_attach(&net->vd, env, &net->tr);
	if (ret) {
		snprintf(err, errlen, "--net tap=%s: cannot add the device: %s", net->tap.ifname,
			 strerror(-ret));
		virtio_dev_uninit(&net->vd);
		net_free(net);
		return ret;
	}
	pr_debug("%s: tap %s, %u queue pairs, mtu %u, %s engine", net->name, net->tap.ifname,
		 net->npairs, net->mtu, virtio_net_engine_name(net));
	*out = net;
	return 0;
}

void virtio_net_destroy(struct virtio_net *net)
{
	if (!net)
		return;
	/* stop, unbind the ioeventfds while their fds are open, then close them */
	virtio_dev_stop(&net->vd);
	virtio_transport_detach(net->tr);
	virtio_dev_uninit(&net->vd);
	net_hold_free(net);
	net_free(net);
}

struct virtio_transport *virtio_net_transport(struct virtio_net *net)
{
	return net->tr;
}

struct virtio_dev *virtio_net_dev(struct virtio_net *net)
{
	return &net->vd;
}

unsigned virtio_net_pairs(const struct virtio_net *net)
{
	return net->npairs;
}

unsigned virtio_net_active_pairs(const struct virtio_net *net)
{
	return atomic_load(&((struct virtio_net *)net)->active_pairs);
}

void virtio_net_mac(const struct virtio_net *net, uint8_t mac[6])
{
	memcpy(mac, net->mac, 6);
}

unsigned virtio_net_tap_offload(const struct virtio_net *net)
{
	return net->tun_offload;
}

const char *virtio_net_engine_name(const struct virtio_net *net)
{
	return net->pair[0].engine ? net_engine_kind_name(net_engine_kind(net->pair[0].engine))
				   : "none";
}

void virtio_net_stats(const struct virtio_net *net, struct virtio_net_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < net->npairs; i++) {
		const struct virtio_net_stats *s = &net->pair[i].stats;
		struct net_engine_stats es;

		out->rx_packets += NET_STAT_GET(s->rx_packets);
		out->rx_bytes += NET_STAT_GET(s->rx_bytes);
		out->tx_packets += NET_STAT_GET(s->tx_packets);
		out->tx_bytes += NET_STAT_GET(s->tx_bytes);
		out->rx_errors += NET_STAT_GET(s->rx_errors);
		out->tx_errors += NET_STAT_GET(s->tx_errors);
		out->rx_short += NET_STAT_GET(s->rx_short);
		out->tx_dropped += NET_STAT_GET(s->tx_dropped);
		out->ctrl_commands += NET_STAT_GET(s->ctrl_commands);
		out->ctrl_errors += NET_STAT_GET(s->ctrl_errors);
		out->interrupts += NET_STAT_GET(s->interrupts);
		out->rx_throttled += NET_STAT_GET(s->rx_throttled);
		out->tx_throttled += NET_STAT_GET(s->tx_throttled);
		net_engine_get_stats(net->pair[i].engine, &es);
		out->engine_submits += es.submit_calls;
		out->engine_sqes += es.sqes;
		out->engine_completions += es.completions;
	}
}

void virtio_net_announce(struct virtio_net *net)
{
	uint8_t mac[6];
	int ret;

	virtio_net_mac(net, mac);
	ret = tap_announce(&net->tap, mac);
	if (ret)
		pr_warn("virtio-net %s: announcing its MAC: %s", net->tap.ifname, strerror(-ret));
}
