// SPDX-License-Identifier: MIT
/*
 * virtio-net over either transport: negotiation (MAC, STATUS, MTU, and
 * unless switched off on the command line MRG_RXBUF, CSUM/GUEST_CSUM, MQ
 * with CTRL_VQ, EVENT_IDX), RX buffers posted one descriptor each, TX one
 * descriptor each, VQ_PAIRS_SET through the control queue, and completions
 * by polling the used rings or by interrupt (a vector per queue on PCI, the
 * device's one pin on virtio-mmio).
 */
#include "net.h"

#define CFG_MAC			0
#define CFG_STATUS		6
#define CFG_MAX_PAIRS		8
#define CFG_MTU			10
#define CTRL_MQ			4
#define CTRL_MQ_PAIRS_SET	0
#define CTRL_TIMEOUT_US		2000000
#define TX_TIMEOUT_US		2000000
#define MERGE_TIMEOUT_US	1000000
#define MERGE_MAX		64

static uint8_t *slot_mem[VQ_INDEX_MAX];

static uint8_t *slot_buf(struct net_q *q, uint16_t id)
{
	return q->bufs + (uint64_t)id * NET_BUF;
}

static int flag_off(const char *key)
{
	char val[8];

	return !cmdline_get(key, val, sizeof(val)) && val[0] == '0';
}

static uint64_t wanted(int pairs, int event_idx)
{
	uint64_t f = 1ULL << NET_F_MAC | 1ULL << NET_F_STATUS | 1ULL << NET_F_MTU;

	if (!flag_off("net_mrg"))
		f |= 1ULL << NET_F_MRG_RXBUF;
	if (!flag_off("net_csum"))
		f |= 1ULL << NET_F_CSUM | 1ULL << NET_F_GUEST_CSUM;
	if (pairs > 1)
		f |= 1ULL << NET_F_CTRL_VQ | 1ULL << NET_F_MQ;
	if (event_idx)
		f |= 1ULL << VIRTIO_F_EVENT_IDX;
	return f;
}

static int read_config(struct net *n, int pairs, char *why)
{
	struct virtio_dev *d = &n->dev;
	static const uint8_t local_mac[6] = { 0x02, 0x74, 0x67, 0x00, 0x00, 0x02 };
	int i;

	for (i = 0; i < 6; i++)
		n->mac[i] = net_has(n, NET_F_MAC) ? d->ops->config_read(d, CFG_MAC + i, 1)
						  : local_mac[i];
	n->status = net_has(n, NET_F_STATUS) ? d->ops->config_read(d, CFG_STATUS, 2)
					     : NET_S_LINK_UP;
	n->max_pairs = net_has(n, NET_F_MQ) ? d->ops->config_read(d, CFG_MAX_PAIRS, 2) : 1;
	n->mtu = net_has(n, NET_F_MTU) ? d->ops->config_read(d, CFG_MTU, 2) : 0;
	if (!(n->status & NET_S_LINK_UP)) {
		snprintf(why, WHY_LEN, "%s: link down (status %#x)", d->where, n->status);
		return -1;
	}
	if (pairs > 1 && (!net_has(n, NET_F_MQ) || !net_has(n, NET_F_CTRL_VQ) ||
			  n->max_pairs < pairs)) {
		snprintf(why, WHY_LEN, "%s: %d queue pairs wanted: MQ %s, CTRL_VQ %s, max %u",
			 d->where, pairs, net_has(n, NET_F_MQ) ? "yes" : "no",
			 net_has(n, NET_F_CTRL_VQ) ? "yes" : "no", n->max_pairs);
		return -1;
	}
	if (n->max_pairs < 1 || 2 * n->max_pairs >= VQ_INDEX_MAX) {
		snprintf(why, WHY_LEN, "%s: max_virtqueue_pairs %u", d->where, n->max_pairs);
		return -1;
	}
	return 0;
}

static int rx_size(struct net *n, char *why)
{
	char val[16];
	uint64_t v;

	n->rxbuf = NET_BUF;
	if (!cmdline_get("net_rxbuf", val, sizeof(val))) {
		if (parse_uint(val, &v) || v < 64 || v > NET_BUF) {
			snprintf(why, WHY_LEN, "net_rxbuf=%s: want 64 to %d", val, NET_BUF);
			return -1;
		}
		n->rxbuf = v;
	}
	if (!net_has(n, NET_F_MRG_RXBUF) && n->rxbuf < NET_RX_MIN_UNMERGED) {
		snprintf(why, WHY_LEN, "net_rxbuf=%u without MRG_RXBUF: want at least %d",
			 n->rxbuf, NET_RX_MIN_UNMERGED);
		return -1;
	}
	return 0;
}

static int queue_init(struct net *n, struct net_q *q, int index, char *why)
{
	int shared = n->dev.mmio != NULL;
	int vec = !n->irq ? -1 : shared ? VEC_VIRTIO_BASE : VEC_VIRTIO_BASE + index;

	if (!slot_mem[index] && !(slot_mem[index] = dma_alloc(VQ_MAX_SIZE * NET_BUF))) {
		snprintf(why, WHY_LEN, "out of memory for queue %d's buffers", index);
		return -1;
	}
	q->bufs = slot_mem[index];
	q->pkts = q->bytes = 0;
	return virtq_init(&q->vq, &n->dev, index, VQ_MAX_SIZE, vec,
			  net_has(n, VIRTIO_F_EVENT_IDX), why);
}

static void rx_post(struct net_q *q, uint32_t len)
{
	uint64_t a;

	while (q->vq.num_free) {
		a = (uintptr_t)slot_buf(q, q->vq.free_head);
		virtq_add(&q->vq, &a, &len, 1, 1);
	}
	virtq_kick(&q->vq);
}

static int ctrl_cmd(struct net *n, uint8_t class, uint8_t cmd, const void *data,
		    uint32_t len, char *why)
{
	uint8_t *b = n->ctrl_buf;
	uint64_t addr[2] = { (uintptr_t)b, (uintptr_t)b + 64 };
	uint32_t lens[2] = { 2 + len, 1 }, id, used;

	b[0] = class;
	b[1] = cmd;
	memcpy(b + 2, data, len);
	b[64] = 0xff;
	if (virtq_add(&n->ctrl, addr, lens, 2, 1) < 0) {
		snprintf(why, WHY_LEN, "control queue full");
		return -1;
	}
	virtq_kick(&n->ctrl);
	if (virtq_wait(&n->ctrl, &id, &used, CTRL_TIMEOUT_US)) {
		snprintf(why, WHY_LEN, "control command %u.%u: no answer", class, cmd);
		return -1;
	}
	if (b[64] != 0) {
		snprintf(why, WHY_LEN, "control command %u.%u: ack %u, want 0 (OK)",
			 class, cmd, b[64]);
		return -1;
	}
	return 0;
}

static int ctrl_init(struct net *n, char *why)
{
	if (!n->ctrl_buf && !(n->ctrl_buf = dma_alloc(4096))) {
		snprintf(why, WHY_LEN, "out of memory for the control queue");
		return -1;
	}
	/* polled: the control queue gets no vector */
	return virtq_init(&n->ctrl, &n->dev, 2 * n->max_pairs, 64, -1, 0, why);
}

static int find_nic(struct net *n, char *why)
{
	if (virtio_find(VIRTIO_ID_NET, 0, &n->dev)) {
		n->dev.ops = NULL;
		snprintf(why, WHY_LEN, "no virtio network device (PCI 1af4:1041 or virtio-mmio)");
		return -1;
	}
	return 0;
}

int net_open(struct net *n, int pairs, int irq, int event_idx, char *why)
{
	uint16_t p16;
	int p;

	memset(n, 0, offsetof(struct net, ctrl_buf));
	memset(&n->st, 0, sizeof(n->st));
	if (find_nic(n, why) ||
	    virtio_start(&n->dev, wanted(pairs, event_idx), &n->feat, why) ||
	    read_config(n, pairs, why) || rx_size(n, why))
		return -1;
	n->pairs = pairs;
	n->irq = irq;
	if (n->dev.ops->irq_setup(&n->dev, irq ? VEC_VIRTIO_BASE : -1, why))
		return -1;
	for (p = 0; p < pairs; p++)
		if (queue_init(n, &n->rx[p], 2 * p, why) ||
		    queue_init(n, &n->tx[p], 2 * p + 1, why))
			return -1;
	if (net_has(n, NET_F_CTRL_VQ) && ctrl_init(n, why))
		return -1;
	virtio_driver_ok(&n->dev);
	for (p = 0; p < pairs; p++)
		rx_post(&n->rx[p], n->rxbuf);
	p16 = pairs;
	if (pairs > 1 && ctrl_cmd(n, CTRL_MQ, CTRL_MQ_PAIRS_SET, &p16, 2, why))
		return -1;
	return 0;
}

void net_close(struct net *n)
{
	if (n->dev.ops)
		virtio_stop(&n->dev);
	n->dev.ops = NULL;
}

uint64_t net_irqs(const struct net *n)
{
	uint64_t sum = 0;
	int p;

	if (!n->irq)
		return 0;
	if (n->dev.mmio)
		return irq_count[VEC_VIRTIO_BASE];
	for (p = 0; p < n->pairs; p++)
		sum += irq_count[n->rx[p].vq.vec] + irq_count[n->tx[p].vq.vec];
	return sum;
}

/* EVENT_IDX: ask for an interrupt at the next used entry. */
static void rx_arm(struct net *n)
{
	int p;

	for (p = 0; p < n->pairs; p++)
		if (n->rx[p].vq.event_idx)
			n->rx[p].vq.avail[2 + n->rx[p].vq.size] = n->rx[p].vq.last_used;
	mb();
}

static int rx_ready(struct net *n)
{
	int p;

	for (p = 0; p < n->pairs; p++)
		if (n->rx[p].vq.used[1] != n->rx[p].vq.last_used)
			return p;
	return -1;
}

static uint64_t rx_irqs(const struct net *n)
{
	uint64_t sum = 0;
	int p;

	if (n->dev.mmio)
		return irq_count[VEC_VIRTIO_BASE];
	for (p = 0; p < n->pairs; p++)
		sum += irq_count[n->rx[p].vq.vec];
	return sum;
}

/* The next used buffer of RX queue @q, copied to the frame at @at. */
static int rx_take(struct net *n, struct net_q *q, uint32_t at, uint32_t *got, char *why)
{
	uint32_t id, len, skip = at ? 0 : NET_HDR_LEN;
	uint8_t *b;

	if (!virtq_get(&q->vq, &id, &len))
		return 0;
	if (id == 0xffffffff || len > n->rxbuf || len < skip) {
		snprintf(why, WHY_LEN, "%s: RX queue %d: used id %#x len %u (buffers of %u)",
			 n->dev.where, q->vq.index, id, len, n->rxbuf);
		return -1;
	}
	b = slot_buf(q, id);
	if (!at)
		memcpy(&n->hdr, b, NET_HDR_LEN);
	if (at + len - skip > NET_FRAME_MAX) {
		snprintf(why, WHY_LEN, "%s: RX frame over %d bytes (no GSO negotiated)",
			 n->dev.where, NET_FRAME_MAX);
		return -1;
	}
	memcpy(n->frame + at, b + skip, len - skip);
	*got = len - skip;
	return 1;
}

/* A whole frame from queue @qi: its buffers (num_buffers with MRG_RXBUF). */
static int rx_frame(struct net *n, int qi, char *why)
{
	struct net_q *q = &n->rx[qi];
	uint32_t got, nb, i;
	uint64_t end;
	int rc;

	if ((rc = rx_take(n, q, 0, &got, why)) <= 0)
		return rc;
	n->frame_len = got;
	nb = net_has(n, NET_F_MRG_RXBUF) ? n->hdr.num_buffers : 1;
	if (nb < 1 || nb > MERGE_MAX) {
		snprintf(why, WHY_LEN, "%s: RX num_buffers %u", n->dev.where, nb);
		return -1;
	}
	for (i = 1; i < nb; i++) {
		end = deadline_us(MERGE_TIMEOUT_US);
		while (!(rc = rx_take(n, q, n->frame_len, &got, why)))
			if (deadline_passed(end)) {
				snprintf(why, WHY_LEN, "%s: RX buffer %u of %u never came",
					 n->dev.where, i + 1, nb);
				return -1;
			}
		if (rc < 0)
			return -1;
		n->frame_len += got;
	}
	if (nb > 1)
		n->st.rx_merged++;
	rx_post(q, n->rxbuf);
	n->frame_q = qi;
	q->pkts++;
	q->bytes += n->frame_len;
	return 1;
}

int net_recv(struct net *n, uint64_t timeout_us, char *why)
{
	uint64_t end = deadline_us(timeout_us), seen;
	int qi;

	for (;;) {
		seen = rx_irqs(n);
		rx_arm(n);
		if ((qi = rx_ready(n)) >= 0)
			return rx_frame(n, qi, why);
		if (!n->irq) {
			while (rx_ready(n) < 0)
				if (deadline_passed(end))
					return 0;
			continue;
		}
		while (rx_irqs(n) == seen)
			if (deadline_passed(end))
				return rx_ready(n) >= 0 ? rx_frame(n, rx_ready(n), why) : 0;
	}
}

void net_tx_reclaim(struct net *n, int q)
{
	uint32_t id, len;

	while (virtq_get(&n->tx[q].vq, &id, &len))
		;
}

uint8_t *net_tx_slot(struct net *n, int q, char *why)
{
	struct virtq *vq = &n->tx[q].vq;
	uint64_t end = deadline_us(TX_TIMEOUT_US);

	net_tx_reclaim(n, q);
	while (!vq->num_free) {
		if (deadline_passed(end)) {
			snprintf(why, WHY_LEN, "%s: TX queue %d: no completion in %d s",
				 n->dev.where, vq->index, TX_TIMEOUT_US / 1000000);
			return NULL;
		}
		net_tx_reclaim(n, q);
	}
	return slot_buf(&n->tx[q], vq->free_head) + NET_HDR_LEN;
}

int net_tx_commit(struct net *n, int q, uint32_t len, uint16_t csum_start,
		  uint16_t csum_offset, int kick, char *why)
{
	struct net_q *t = &n->tx[q];
	uint8_t *b = slot_buf(t, t->vq.free_head);
	struct vnet_hdr *h = (struct vnet_hdr *)b;
	uint64_t a = (uintptr_t)b;
	uint32_t l = NET_HDR_LEN + len;

	memset(h, 0, NET_HDR_LEN);
	if (csum_start) {
		h->flags = VNET_F_NEEDS_CSUM;
		h->csum_start = csum_start;
		h->csum_offset = csum_offset;
		n->st.tx_offload++;
	}
	if (len > NET_FRAME_MAX || virtq_add(&t->vq, &a, &l, 1, 0) < 0) {
		snprintf(why, WHY_LEN, "TX queue %d: frame of %u bytes refused", q, len);
		return -1;
	}
	t->pkts++;
	t->bytes += len;
	if (kick)
		virtq_kick(&t->vq);
	return 0;
}

void net_tx_kick(struct net *n, int q)
{
	virtq_kick(&n->tx[q].vq);
}

int net_send(struct net *n, int q, const uint8_t *frame, uint32_t len,
	     uint16_t csum_start, uint16_t csum_offset, char *why)
{
	uint8_t *s = net_tx_slot(n, q, why);

	if (!s)
		return -1;
	if (len > NET_FRAME_MAX) {
		snprintf(why, WHY_LEN, "frame of %u bytes", len);
		return -1;
	}
	memcpy(s, frame, len);
	return net_tx_commit(n, q, len, csum_start, csum_offset, 1, why);
}
