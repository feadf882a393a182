// SPDX-License-Identifier: MIT
/*
 * The virtio-net checks. Each round: open the first network device, ARP
 * for net_host=, ICMP echo to it (replies checked byte for byte), then
 * net_count= numbered UDP datagrams per queue pair to net_host:net_port,
 * where an echo server sends them back; every one must come back intact
 * and in order on its stream (zero lost). "virtio-net" runs a polling round
 * and an interrupt round (EVENT_IDX when offered) on one queue pair;
 * "virtio-net-mq" does the same on net_pairs= (default 2) queue pairs at
 * once, set through the control queue (VQ_PAIRS_SET), one stream each.
 */
#include "net.h"

#define DG_MAGIC	0x55474e54	/* "TNGU" */
#define DG_HDR		20
#define DG_MAX		1400
#define SPORT_BASE	40000
#define WINDOW		8
#define PROGRESS_US	3000000
#define PING_ID		0x7467

struct dg_hdr {
	uint32_t magic, stream, seq, len, sum;
};

struct stream {
	uint32_t sent, next;
};

static uint32_t dg_size(uint32_t seq)
{
	return seq % 4 == 3 ? DG_MAX : DG_HDR + (seq * 131) % (DG_MAX - DG_HDR + 1);
}

static uint32_t fnv1a(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t dg_fill(uint8_t *d, uint32_t stream, uint32_t seq)
{
	struct dg_hdr h = { DG_MAGIC, stream, seq, dg_size(seq), 0 };
	uint32_t i;

	for (i = DG_HDR; i < h.len; i++)
		d[i] = (uint8_t)(seq * 7 + i * 13 + stream);
	h.sum = fnv1a(d + DG_HDR, h.len - DG_HDR);
	memcpy(d, &h, sizeof(h));
	return h.len;
}

static int dg_check(const struct net_pkt *p, uint32_t stream, struct stream *s, char *why)
{
	struct dg_hdr h;
	uint32_t i;

	if (p->len < DG_HDR) {
		snprintf(why, WHY_LEN, "stream %u: echo of %u bytes", stream, p->len);
		return -1;
	}
	memcpy(&h, p->data, sizeof(h));
	if (h.magic != DG_MAGIC || h.stream != stream || h.len != p->len ||
	    h.len != dg_size(h.seq) || fnv1a(p->data + DG_HDR, h.len - DG_HDR) != h.sum) {
		snprintf(why, WHY_LEN, "stream %u: echo %u (%u bytes) corrupt", stream, h.seq, p->len);
		return -1;
	}
	for (i = DG_HDR; i < h.len; i++)
		if (p->data[i] != (uint8_t)(h.seq * 7 + i * 13 + stream)) {
			snprintf(why, WHY_LEN, "stream %u: echo %u: byte %u differs", stream, h.seq, i);
			return -1;
		}
	if (h.seq != s->next) {
		snprintf(why, WHY_LEN, "stream %u: echo %u came when %u was due (%s)", stream,
			 h.seq, s->next, h.seq < s->next ? "duplicate" : "lost or reordered");
		return -1;
	}
	s->next++;
	return 0;
}

static int udp_send_more(struct net *n, struct stream *s, uint16_t port, uint32_t count,
			 char *why)
{
	static uint8_t d[DG_MAX];
	uint32_t len;
	int q;

	for (q = 0; q < n->pairs; q++)
		while (s[q].sent < count && s[q].sent - s[q].next < WINDOW) {
			len = dg_fill(d, q, s[q].sent);
			if (net_send_udp(n, q, SPORT_BASE + q, port, d, len, why))
				return -1;
			s[q].sent++;
		}
	return 0;
}

static int udp_exchange(struct net *n, uint16_t port, uint32_t count, char *why)
{
	struct stream s[NET_MAX_PAIRS];
	struct net_pkt p;
	uint64_t idle = deadline_us(PROGRESS_US);
	int q, done = 0, rc;

	memset(s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	while (done < n->pairs) {
		if (udp_send_more(n, s, port, count, why))
			return -1;
		rc = net_recv(n, 100000, why);
		if (rc < 0 || (rc && net_classify(n, &p, why)))
			return -1;
		q = p.dport - SPORT_BASE;
		if (rc && p.kind == PKT_UDP && p.sport == port && q >= 0 && q < n->pairs) {
			if (dg_check(&p, q, &s[q], why))
				return -1;
			idle = deadline_us(PROGRESS_US);
			done += s[q].next == count;
		} else if (deadline_passed(idle)) {
			for (q = 0; q < n->pairs && s[q].next == count; q++)
				;
			snprintf(why, WHY_LEN, "stream %d: %u of %u echoes back, %u lost (none for %d s)",
				 q, s[q].next, count, s[q].sent - s[q].next, PROGRESS_US / 1000000);
			return -1;
		}
	}
	return 0;
}

static int ping(struct net *n, uint16_t seq, uint32_t len, char *why)
{
	struct net_pkt p;
	uint32_t i;
	int rc;

	if (net_send_ping(n, PING_ID, seq, len, why))
		return -1;
	do {
		rc = net_wait_kind(n, PKT_ICMP_REPLY, &p, 2000000, why);
		if (rc <= 0) {
			if (!rc)
				snprintf(why, WHY_LEN, "no echo reply to ping %u in 2 s", seq);
			return -1;
		}
	} while (p.icmp_id != PING_ID || p.icmp_seq != seq);
	for (i = 0; i < len && i < p.len; i++)
		if (p.data[i] != (uint8_t)(seq + i))
			break;
	if (p.len != len || i != len) {
		snprintf(why, WHY_LEN, "echo reply %u: %u bytes, want %u; byte %u differs",
			 seq, p.len, len, i);
		return -1;
	}
	return 0;
}

static void fmt_mac(char *b, size_t l, const uint8_t *m)
{
	snprintf(b, l, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void report(struct net *n, uint32_t count, uint64_t irqs, uint64_t t0)
{
	char mac[20], host[20], hip[16];
	int q;

	fmt_mac(mac, sizeof(mac), n->mac);
	fmt_mac(host, sizeof(host), n->host_mac);
	net_fmt_ip(hip, sizeof(hip), n->host_ip);
	printf("virtio-net: %s, %s%s, %d pair(s) of %u (max %u), mac %s, mtu %u, features %#llx\n",
	       n->dev.where, n->irq ? "interrupt" : "polling",
	       n->rx[0].vq.event_idx ? " event-idx" : "", n->pairs, n->rx[0].vq.size,
	       n->max_pairs, mac, n->mtu, (unsigned long long)n->feat);
	printf("virtio-net: host %s at %s, 4 pings, %d x %u datagrams echoed in order, 0 lost, %llu ms, %llu interrupts\n",
	       hip, host, n->pairs, count, (unsigned long long)tsc_to_us(rdtsc() - t0) / 1000,
	       (unsigned long long)irqs);
	for (q = 0; q < n->pairs; q++)
		printf("virtio-net: pair %d: rx %llu frames, tx %llu frames\n", q,
		       (unsigned long long)n->rx[q].pkts, (unsigned long long)n->tx[q].pkts);
	printf("virtio-net: rx merged %llu, csum verified %llu, completed %llu, data-valid %llu; tx offloaded %llu; arp answered %llu; ignored %llu\n",
	       (unsigned long long)n->st.rx_merged, (unsigned long long)n->st.rx_verified,
	       (unsigned long long)n->st.rx_partial, (unsigned long long)n->st.rx_valid,
	       (unsigned long long)n->st.tx_offload, (unsigned long long)n->st.arp_answered,
	       (unsigned long long)n->st.rx_ignored);
}

static int exchange(struct net *n, uint32_t count, char *why)
{
	uint16_t port;

	if (net_addrs(n, &port, why) || net_resolve_host(n, why) || ping(n, 1, 56, why) ||
	    ping(n, 2, 0, why) || ping(n, 3, 1000, why) || ping(n, 4, 1472, why))
		return -1;
	return udp_exchange(n, port, count, why);
}

static int net_round(struct net *n, int pairs, int irq, int ev, char *why)
{
	char val[16];
	uint64_t count = 200, before, t0 = rdtsc();

	if (!cmdline_get("net_count", val, sizeof(val)) &&
	    (parse_uint(val, &count) || !count || count > 1000000)) {
		snprintf(why, WHY_LEN, "net_count=%s: want 1 to 1000000", val);
		return -1;
	}
	if (net_open(n, pairs, irq, ev, why))
		return -1;
	before = net_irqs(n);
	if (exchange(n, count, why))
		return -1;
	if (irq && net_irqs(n) == before) {
		snprintf(why, WHY_LEN, "interrupt mode: no interrupt arrived");
		return -1;
	}
	report(n, count, net_irqs(n) - before, t0);
	return 0;
}

static int two_rounds(int pairs, char *why)
{
	static struct net n;
	char val[8];
	int ev = cmdline_get("virtio_event_idx", val, sizeof(val)) || val[0] != '0';
	int rc;

	rc = net_round(&n, pairs, 0, 0, why);
	net_close(&n);
	if (!rc)
		rc = net_round(&n, pairs, 1, ev, why);
	net_close(&n);
	return rc;
}

int check_virtio_net(char *why)
{
	return two_rounds(1, why);
}

int check_virtio_net_mq(char *why)
{
	char val[8];
	uint64_t pairs = 2;

	if (!cmdline_get("net_pairs", val, sizeof(val)) &&
	    (parse_uint(val, &pairs) || pairs < 2 || pairs > NET_MAX_PAIRS)) {
		snprintf(why, WHY_LEN, "net_pairs=%s: want 2 to %d", val, NET_MAX_PAIRS);
		return -1;
	}
	return two_rounds(pairs, why);
}
