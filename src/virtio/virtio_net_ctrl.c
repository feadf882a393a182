// SPDX-License-Identifier: MIT
/*
 * The virtio-net control queue (virtio 1.2, 5.1.6.5), served on pair 0's
 * thread. A command is {class, cmd, data...} readable, then one writable ack
 * byte. Understood: MQ VQ_PAIRS_SET (1 .. max pairs: the other pairs stop
 * receiving), the RX mode commands (acked: the tap passes everything
 * anyway), MAC TABLE_SET (acked). Anything else, and anything malformed,
 * gets VIRTIO_NET_ERR; a chain with no room for the ack is given back empty.
 */
#include "virtio/virtio_net_internal.h"
#include "core/log.h"

#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A MAC table: le32 entries, then entries * 6 bytes. Returns its size, 0 if bad. */
static uint64_t mac_table_len(const struct vq_chain *c, uint64_t off)
{
	uint8_t n[4];

	if (vq_chain_read(c, off, n, sizeof(n)))
		return 0;
	if (le32(n) > NET_QUEUE_MAX * 16u)	/* far more than any filter */
		return 0;
	return 4 + 6ull * le32(n);
}

static uint8_t ctrl_mac(const struct vq_chain *c, uint8_t cmd)
{
	uint64_t a, b;

	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET)
		return VIRTIO_NET_ERR;
	a = mac_table_len(c, 2);
	b = a ? mac_table_len(c, 2 + a) : 0;
	if (!b || 2 + a + b != c->readable_len)
		return VIRTIO_NET_ERR;
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_rx(const struct vq_chain *c, uint8_t cmd)
{
	if (cmd > VIRTIO_NET_CTRL_RX_NOBCAST || c->readable_len != 3)
		return VIRTIO_NET_ERR;
	return VIRTIO_NET_OK;
}

void net_set_pairs(struct virtio_net *net, unsigned n)
{
	atomic_store(&net->active_pairs, n);
	/* every pair looks again: the dropped ones cancel RX, new ones start */
	for (unsigned i = 1; i < net->npairs; i++)
		if (net->pair[i].started)
			eventfd_kick(net->vd.kick_fd[net_rxq(i)]);
}

static uint8_t ctrl_mq(struct virtio_net *net, const struct vq_chain *c, uint8_t cmd)
{
	uint8_t v[2];
	unsigned n;

	if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || c->readable_len != 4 ||
	    !virtio_dev_has(&net->vd, VIRTIO_NET_F_MQ) || vq_chain_read(c, 2, v, sizeof(v)))
		return VIRTIO_NET_ERR;
	n = v[0] | (unsigned)v[1] << 8;
	if (n < 1 || n > net->npairs)
		return VIRTIO_NET_ERR;
	net_set_pairs(net, n);
	pr_debug("%s: the driver uses %u of %u queue pairs", net->name, n, net->npairs);
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_command(struct virtio_net *net, const struct vq_chain *c)
{
	uint8_t hdr[2];

	if (vq_chain_read(c, 0, hdr, sizeof(hdr)))
		return VIRTIO_NET_ERR;
	switch (hdr[0]) {
	case VIRTIO_NET_CTRL_RX:	return ctrl_rx(c, hdr[1]);
	case VIRTIO_NET_CTRL_MAC:	return ctrl_mac(c, hdr[1]);
	case VIRTIO_NET_CTRL_MQ:	return ctrl_mq(net, c, hdr[1]);
	default:			return VIRTIO_NET_ERR;
	}
}

static void ctrl_chain(struct virtio_net *net, struct vq_chain *c)
{
	struct net_pair *p0 = &net->pair[0];
	struct virtqueue *vq = &net->vd.vq[net->ctrl_q];
	uint8_t ack;

	NET_STAT_ADD(p0->stats.ctrl_commands, 1);
	if (c->writable_len < 1) {
		NET_STAT_ADD(p0->stats.ctrl_errors, 1);
		virtqueue_push(vq, c->head, 0);
		return;
	}
	ack = ctrl_command(net, c);
	if (ack != VIRTIO_NET_OK)
		NET_STAT_ADD(p0->stats.ctrl_errors, 1);
	vq_chain_write(c, 0, &ack, 1);
	virtqueue_push(vq, c->head, 1);
}

void net_ctrl_run(struct virtio_net *net)
{
	struct net_pair *p0 = &net->pair[0];
	struct virtqueue *vq = &net->vd.vq[net->ctrl_q];
	uint16_t old = vq->st.used_idx;
	int ret = 0;

	do {
		virtqueue_set_notify(vq, false);
		while ((ret = virtqueue_pop(vq, &p0->chain)) > 0)
			ctrl_chain(net, &p0->chain);
	} while (ret == 0 && virtqueue_enable_notify(vq));
	if (ret < 0) {
		pr_debug("%s: control queue: bad chain", net->name);
		virtio_dev_needs_reset(&net->vd);
	}
	if (vq->st.used_idx != old) {
		NET_STAT_ADD(p0->stats.interrupts, 1);
		virtio_dev_queue_done(&net->vd, net->ctrl_q, old);
	}
}
