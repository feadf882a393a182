// SPDX-License-Identifier: MIT
/*
 * The frames the net checks speak, to and from one host (net_host=) from
 * one address (net_ip=): ARP (asking for the host, answering for us), IPv4
 * with no options, ICMP echo, UDP. Every received checksum is verified
 * here unless the device said DATA_VALID; a NEEDS_CSUM frame (GUEST_CSUM)
 * has its checksum completed, as a driver must.
 */
#include "net.h"

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define IPPROTO_ICMP	1
#define IPPROTO_UDP	17
#define ARP_LEN		28
#define ICMP_HLEN	8

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* One's-complement sum of big-endian 16-bit words, not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

int net_parse_ip(const char *s, uint32_t *ip)
{
	uint32_t v = 0, part;
	int i;

	for (i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		for (part = 0; *s >= '0' && *s <= '9'; s++)
			if ((part = part * 10 + (*s - '0')) > 255)
				return -1;
		v = v << 8 | part;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*ip = v;
	return 0;
}

void net_fmt_ip(char *buf, size_t len, uint32_t ip)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void eth_header(struct net *n, uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, n->mac, 6);
	put16(f + 12, type);
}

static uint32_t arp_frame(struct net *n, uint8_t *f, uint16_t op, const uint8_t *tha,
			  uint32_t tip)
{
	uint8_t *a = f + ETH_HLEN;

	eth_header(n, f, op == 1 ? bcast : tha, ETH_P_ARP);
	put16(a, 1);
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, n->mac, 6);
	put32(a + 14, n->ip);
	memcpy(a + 18, op == 1 ? (const uint8_t *)"\0\0\0\0\0\0" : tha, 6);
	put32(a + 24, tip);
	memset(a + ARP_LEN, 0, 60 - ETH_HLEN - ARP_LEN);	/* pad to the minimum */
	return 60;
}

int net_send_arp_request(struct net *n, char *why)
{
	uint8_t f[64];

	return net_send(n, 0, f, arp_frame(n, f, 1, bcast, n->host_ip), 0, 0, why);
}

static void ip_header(struct net *n, uint8_t *f, uint8_t proto, uint32_t plen)
{
	static uint16_t ip_id;
	uint8_t *ip = f + ETH_HLEN;

	eth_header(n, f, n->host_mac, ETH_P_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, IP_HLEN + plen);
	put16(ip + 4, ip_id++);
	put16(ip + 6, 0x4000);			/* DF */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, n->ip);
	put32(ip + 16, n->host_ip);
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, IP_HLEN)));
}

int net_send_ping(struct net *n, uint16_t id, uint16_t seq, uint32_t len, char *why)
{
	uint8_t f[NET_FRAME_MAX];
	uint8_t *ic = f + ETH_HLEN + IP_HLEN;
	uint32_t i;

	if (len > NET_FRAME_MAX - ETH_HLEN - IP_HLEN - ICMP_HLEN)
		len = NET_FRAME_MAX - ETH_HLEN - IP_HLEN - ICMP_HLEN;
	ip_header(n, f, IPPROTO_ICMP, ICMP_HLEN + len);
	ic[0] = 8;
	ic[1] = 0;
	put16(ic + 2, 0);
	put16(ic + 4, id);
	put16(ic + 6, seq);
	for (i = 0; i < len; i++)
		ic[ICMP_HLEN + i] = (uint8_t)(seq + i);
	put16(ic + 2, (uint16_t)~csum_fold(csum_add(0, ic, ICMP_HLEN + len)));
	return net_send(n, 0, f, ETH_HLEN + IP_HLEN + ICMP_HLEN + len, 0, 0, why);
}

uint32_t net_build_udp(struct net *n, uint8_t *f, uint16_t sport, uint16_t dport,
		       const uint8_t *data, uint32_t len, int offload)
{
	uint8_t *u = f + UDP_OFF;
	uint16_t ulen = UDP_HLEN + len, c;
	uint32_t sum = pseudo_sum(n->ip, n->host_ip, IPPROTO_UDP, ulen);

	ip_header(n, f, IPPROTO_UDP, ulen);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, ulen);
	put16(u + 6, 0);
	if (data)
		memcpy(u + UDP_HLEN, data, len);
	if (offload) {		/* the device completes it from csum_start */
		put16(u + 6, csum_fold(sum));
	} else {
		c = ~csum_fold(csum_add(sum, u, ulen));
		put16(u + 6, c ? c : 0xffff);
	}
	return UDP_DATA + len;
}

int net_send_udp(struct net *n, int q, uint16_t sport, uint16_t dport,
		 const uint8_t *data, uint32_t len, char *why)
{
	int offload = net_has(n, NET_F_CSUM) && (n->tx[q].pkts & 1);
	uint8_t *f = net_tx_slot(n, q, why);
	uint32_t flen;

	if (!f)
		return -1;
	if (len > UDP_MAX_DATA) {
		snprintf(why, WHY_LEN, "UDP payload of %u bytes", len);
		return -1;
	}
	flen = net_build_udp(n, f, sport, dport, data, len, offload);
	return net_tx_commit(n, q, flen, offload ? UDP_OFF : 0, offload ? 6 : 0, 1, why);
}

static int arp_in(struct net *n, const uint8_t *a, uint32_t len, struct net_pkt *p, char *why)
{
	uint8_t f[64];
	uint16_t op;

	if (len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return 0;
	op = get16(a + 6);
	if (op == 2 && get32(a + 14) == n->host_ip && get32(a + 24) == n->ip) {
		memcpy(n->host_mac, a + 8, 6);
		p->kind = PKT_ARP_REPLY;
	} else if (op == 1 && get32(a + 24) == n->ip) {
		n->st.arp_answered++;
		if (net_send(n, 0, f, arp_frame(n, f, 2, a + 8, get32(a + 14)), 0, 0, why))
			return -1;
	}
	return 0;
}

static int bad_csum(const char *what, uint16_t sum, char *why)
{
	snprintf(why, WHY_LEN, "received %s with a bad checksum (sum %#x)", what, sum);
	return -1;
}

/* UDP checksum: verified, or (NEEDS_CSUM) completed as the header says. */
static int udp_csum(struct net *n, uint8_t *ip, uint8_t *u, uint16_t ulen, char *why)
{
	uint32_t sum = pseudo_sum(get32(ip + 12), get32(ip + 16), IPPROTO_UDP, ulen);
	uint16_t s;

	if (n->hdr.flags & VNET_F_NEEDS_CSUM) {
		if (n->hdr.csum_start != UDP_OFF || n->hdr.csum_offset != 6) {
			snprintf(why, WHY_LEN, "NEEDS_CSUM at %u+%u, want the UDP header's (%d+6)",
				 n->hdr.csum_start, n->hdr.csum_offset, UDP_OFF);
			return -1;
		}
		/* the field holds the pseudo-header sum: add the rest, store */
		s = ~csum_fold(csum_add(0, u, ulen));
		put16(u + 6, s);
		n->st.rx_partial++;
		return 0;
	}
	if (n->hdr.flags & VNET_F_DATA_VALID) {
		n->st.rx_valid++;
		return 0;
	}
	if (get16(u + 6) == 0)	/* sender used no checksum */
		return 0;
	s = csum_fold(csum_add(sum, u, ulen));
	if (s != 0xffff)
		return bad_csum("UDP", s, why);
	n->st.rx_verified++;
	return 0;
}

static int ip_in(struct net *n, uint8_t *ip, uint32_t len, struct net_pkt *p, char *why)
{
	uint16_t tot, s;
	uint8_t *l4;
	uint32_t l4len;

	if (len < IP_HLEN || ip[0] != 0x45 || get32(ip + 16) != n->ip ||
	    get32(ip + 12) != n->host_ip)
		return 0;
	tot = get16(ip + 2);
	if (tot < IP_HLEN || tot > len || (get16(ip + 6) & 0x3fff))	/* fragments: not ours */
		return 0;
	if ((s = csum_fold(csum_add(0, ip, IP_HLEN))) != 0xffff)
		return bad_csum("IPv4 header", s, why);
	l4 = ip + IP_HLEN;
	l4len = tot - IP_HLEN;
	if (ip[9] == IPPROTO_ICMP && l4len >= ICMP_HLEN && l4[0] == 0) {
		if ((s = csum_fold(csum_add(0, l4, l4len))) != 0xffff)
			return bad_csum("ICMP echo reply", s, why);
		n->st.rx_verified++;
		p->kind = PKT_ICMP_REPLY;
		p->icmp_id = get16(l4 + 4);
		p->icmp_seq = get16(l4 + 6);
		p->data = l4 + ICMP_HLEN;
		p->len = l4len - ICMP_HLEN;
	} else if (ip[9] == IPPROTO_UDP && l4len >= UDP_HLEN && get16(l4 + 4) == l4len) {
		if (udp_csum(n, ip, l4, l4len, why))
			return -1;
		p->kind = PKT_UDP;
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		p->data = l4 + UDP_HLEN;
		p->len = l4len - UDP_HLEN;
	}
	return 0;
}

int net_classify(struct net *n, struct net_pkt *p, char *why)
{
	uint8_t *f = n->frame;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (n->frame_len >= ETH_HLEN && (!memcmp(f, n->mac, 6) || !memcmp(f, bcast, 6))) {
		if (get16(f + 12) == ETH_P_ARP)
			rc = arp_in(n, f + ETH_HLEN, n->frame_len - ETH_HLEN, p, why);
		else if (get16(f + 12) == ETH_P_IP)
			rc = ip_in(n, f + ETH_HLEN, n->frame_len - ETH_HLEN, p, why);
	}
	if (!rc && p->kind == PKT_OTHER)
		n->st.rx_ignored++;
	return rc;
}

int net_wait_kind(struct net *n, enum net_kind kind, struct net_pkt *p,
		  uint64_t timeout_us, char *why)
{
	uint64_t end = deadline_us(timeout_us);
	int rc;

	while (!deadline_passed(end)) {
		rc = net_recv(n, 100000, why);
		if (rc < 0)
			return -1;
		if (!rc)
			continue;
		if (net_classify(n, p, why))
			return -1;
		if (p->kind == kind)
			return 1;
	}
	return 0;
}

int net_resolve_host(struct net *n, char *why)
{
	struct net_pkt p;
	int i, rc;

	for (i = 0; i < 5; i++) {
		if (net_send_arp_request(n, why))
			return -1;
		rc = net_wait_kind(n, PKT_ARP_REPLY, &p, 1000000, why);
		if (rc)
			return rc < 0 ? -1 : 0;
	}
	snprintf(why, WHY_LEN, "no ARP reply from the host in 5 tries");
	return -1;
}

/* net_ip=, net_host= (defaults 10.77.0.2, 10.77.0.1), net_port= (7777). */
int net_addrs(struct net *n, uint16_t *port, char *why)
{
	char val[32];
	uint64_t v = 7777;

	n->ip = 0x0a4d0002;
	n->host_ip = 0x0a4d0001;
	if (!cmdline_get("net_ip", val, sizeof(val)) && net_parse_ip(val, &n->ip)) {
		snprintf(why, WHY_LEN, "net_ip=%s: not an IPv4 address", val);
		return -1;
	}
	if (!cmdline_get("net_host", val, sizeof(val)) && net_parse_ip(val, &n->host_ip)) {
		snprintf(why, WHY_LEN, "net_host=%s: not an IPv4 address", val);
		return -1;
	}
	if (!cmdline_get("net_port", val, sizeof(val)) &&
	    (parse_uint(val, &v) || !v || v > 65535)) {
		snprintf(why, WHY_LEN, "net_port=%s: want 1 to 65535", val);
		return -1;
	}
	*port = v;
	return 0;
}
