// SPDX-License-Identifier: MIT
/*
 * A real tap, in a network namespace of its own: tap_open's variants, then
 * frames through the engine (both kinds) to the kernel's network stack and
 * back. Needs root and /dev/net/tun, skipped otherwise.
 *
 * The test process unshares its network namespace once (CLONE_NEWNET), so
 * everything it creates (taps, addresses, neighbours) is only ever visible
 * there and disappears with the process, whatever happens. Addresses:
 * the tap ("the host") is 10.77.0.1/24, "the guest" behind it 10.77.0.2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "net/mac.h"
#include "net/net_engine.h"
#include "net/tap.h"
#include "test_net_helpers.h"

#define TAP_NAME	"husk-t0"
#define HOST_IP		"10.77.0.1"
#define GUEST_IP	"10.77.0.2"
#define RX_BUFS		16
#define RX_BUF_LEN	2048
#define ETH_HLEN_	14
#define FILL		0xa5

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x77, 0x00, 0x02 };

struct fixture {
	enum net_engine_kind kind;
	struct tap tap;
	struct net_engine *e;
	uint8_t tap_mac[6];
	uint8_t rx[RX_BUFS][RX_BUF_LEN];
	/* completions reaped but not looked at yet */
	struct net_completion pending[RX_BUFS + 16];
	unsigned npending;
};

static enum net_engine_kind kind_uring = NET_ENGINE_URING;
static enum net_engine_kind kind_sync = NET_ENGINE_SYNC;


static void post_rx(struct fixture *f, unsigned i)
{
	struct iovec iov[2] = {
		/* the header and the first bytes in one iovec, the rest in another */
		{ f->rx[i], 64 }, { f->rx[i] + 64, RX_BUF_LEN - 64 },
	};

	memset(f->rx[i], FILL, RX_BUF_LEN);
	assert_int_equal(net_engine_rx_post(f->e, iov, 2, i), 0);
}

static int setup(void **state)
{
	struct husk_net_config cfg = { .tap = TAP_NAME, .fd = -1 };
	struct net_engine_params p;
	struct fixture *f;
	struct ifreq ifr;
	char err[256], mac[NET_MAC_STRLEN];
	int ret;

	if (!netns_ready) {
		*state = NULL;		/* the test skips (cmocka counts a skip here as a failure) */
		return 0;
	}
	f = calloc(1, sizeof(*f));
	f->kind = *(enum net_engine_kind *)*state;
	ret = tap_open(&cfg, 1, &f->tap, err, sizeof(err));
	if (ret < 0)
		fail_msg("tap_open: %s", err);
	assert_int_equal(if_ioctl(TAP_NAME, SIOCGIFHWADDR, &ifr), 0);
	memcpy(f->tap_mac, ifr.ifr_hwaddr.sa_data, 6);
	assert_int_equal(sh("ip addr add %s/24 dev %s", HOST_IP, TAP_NAME), 0);
	assert_int_equal(sh("ip neigh replace %s lladdr %s dev %s nud permanent", GUEST_IP,
			    net_format_mac(guest_mac, mac), TAP_NAME), 0);
	p = (struct net_engine_params){ .tap_fd = f->tap.fds[0], .rx_depth = RX_BUFS,
					.tx_depth = 8, .kind = f->kind };
	ret = net_engine_create(&p, &f->e);
	if (ret < 0) {
		tap_close(&f->tap);
		free(f);
		print_message("net_engine_create(%s): %s\n", net_engine_kind_name(p.kind),
			      strerror(-ret));
		*state = NULL;
		return 0;
	}
	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(f, i);
	assert_int_equal(net_engine_submit(f->e), RX_BUFS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	net_engine_destroy(f->e);
	tap_close(&f->tap);
	free(f);
	return 0;
}

/* The test's fixture, or skip when setup could not make one. */
static struct fixture *fixture_of(void **state)
{
	if (!*state)
		skip();
	return *state;
}

/* ---- frames --------------------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_ip(uint8_t *p, const char *ip)
{
	assert_int_equal(inet_pton(AF_INET, ip, p), 1);
}

/* The L4 checksum over the pseudo header; 0 when @l4 (with its checksum) is right. */
static uint16_t l4_check(const uint8_t *ip, const uint8_t *l4, size_t len, uint8_t proto)
{
	uint32_t sum = sum16(ip + 12, 8, 0) + proto + (uint32_t)len;

	return fold(sum16(l4, len, sum));
}

static size_t build_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memset(f, 0, NET_VNET_HDR_LEN);		/* no offload asked for */
	f += NET_VNET_HDR_LEN;
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put_be16(f + 12, type);
	return NET_VNET_HDR_LEN + ETH_HLEN_;
}

/* IPv4 header at @ip for @l4len bytes of protocol @proto, guest to host. */
static void build_ip(uint8_t *ip, uint8_t proto, size_t l4len, uint16_t id)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(20 + l4len));
	put_be16(ip + 4, id);
	put_be16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = proto;
	put_ip(ip + 12, GUEST_IP);
	put_ip(ip + 16, HOST_IP);
	put_be16(ip + 10, fold(sum16(ip, 20, 0)));
}

static void tx_one(struct fixture *f, uint8_t *frame, size_t len, uint64_t cookie)
{
	/* the vnet header in its own iovec, like a guest's descriptor chain may */
	struct iovec iov[2] = { { frame, NET_VNET_HDR_LEN },
				{ frame + NET_VNET_HDR_LEN, len - NET_VNET_HDR_LEN } };
	struct net_completion c;
	int ret;

	while ((ret = net_engine_tx_queue(f->e, iov, 2, cookie)) == -EBUSY) {
		assert_true(net_engine_submit(f->e) >= 0);
		/* RX completions that come meanwhile are kept for later */
		struct pollfd p = { .fd = net_engine_completion_fd(f->e), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 2000), 1);
		while (net_engine_reap(f->e, &c, 1) == 1) {
			if (c.is_rx)
				f->pending[f->npending++] = c;
			else
				assert_int_equal(c.result, (int)len);
		}
	}
	assert_int_equal(ret, 0);
}

/*
 * The next IPv4 or ARP frame from the tap, within @timeout_ms: returns its
 * buffer index (re-post it with post_rx) and length. Other frames are
 * dropped (and their buffers re-posted at once).
 */
static int rx_next(struct fixture *f, int timeout_ms, unsigned *len)
{
	for (int waited = 0; waited <= timeout_ms; ) {
		while (f->npending) {
			struct net_completion c = f->pending[0];
			const uint8_t *eth = f->rx[c.cookie] + NET_VNET_HDR_LEN;
			uint16_t type;

			memmove(f->pending, f->pending + 1, --f->npending * sizeof(c));
			assert_true(c.is_rx);
			assert_true(c.result > NET_VNET_HDR_LEN + ETH_HLEN_);
			type = be16(eth + 12);
			if (type == 0x0800 || type == 0x0806) {
				*len = (unsigned)c.result;
				return (int)c.cookie;
			}
			post_rx(f, (unsigned)c.cookie);
			assert_true(net_engine_submit(f->e) >= 0);
		}
		struct pollfd p = { .fd = net_engine_completion_fd(f->e), .events = POLLIN };
		int n = poll(&p, 1, 20);

		waited += 20;
		if (n == 1) {
			int got = net_engine_reap(f->e, f->pending, RX_BUFS);

			assert_true(got >= 0);
			for (int i = 0, k = 0; i < got; i++) {
				if (f->pending[i].is_rx)
					f->pending[k++] = f->pending[i];
				f->npending = (unsigned)k;
			}
		}
	}
	return -1;
}

static void repost(struct fixture *f, int idx)
{
	post_rx(f, (unsigned)idx);
	assert_int_equal(net_engine_submit(f->e), 1);
}

/* The vnet header the kernel put first: no GSO, and num_buffers left to the device. */
static void check_rx_vnet_hdr(const uint8_t *h, bool csum_offload)
{
	if (!csum_offload)
		assert_int_equal(h[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM, 0);
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_NONE);
	/* num_buffers is the device's to write: older kernels leave it, newer zero it */
	assert_true(h[10] == FILL || h[10] == 0);
	assert_int_equal(h[11], h[10]);
}

static void check_ipv4(const uint8_t *ip, unsigned len, uint8_t proto)
{
	uint8_t src[4], dst[4];

	put_ip(src, HOST_IP);
	put_ip(dst, GUEST_IP);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(be16(ip + 2), len);
	assert_int_equal(ip[9], proto);
	assert_int_equal(fold(sum16(ip, 20, 0)), 0);
	assert_memory_equal(ip + 12, src, 4);
	assert_memory_equal(ip + 16, dst, 4);
}

/* ---- tests ----------------------------------------------------------------- */

static void arp_request_gets_a_reply(void **state)
{
	struct fixture *f = fixture_of(state);
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t frame[128], *arp, want_spa[4], want_tpa[4];
	size_t off = build_eth(frame, bcast, guest_mac, 0x0806);
	unsigned len;
	int idx;

	arp = frame + off;
	put_be16(arp, 1);		/* Ethernet */
	put_be16(arp + 2, 0x0800);	/* IPv4 */
	arp[4] = 6;
	arp[5] = 4;
	put_be16(arp + 6, 1);		/* request */
	memcpy(arp + 8, guest_mac, 6);
	put_ip(arp + 14, GUEST_IP);
	memset(arp + 18, 0, 6);
	put_ip(arp + 24, HOST_IP);
	tx_one(f, frame, off + 28, 1);
	assert_int_equal(net_engine_submit(f->e), 1);

	idx = rx_next(f, 3000, &len);
	assert_true(idx >= 0);
	check_rx_vnet_hdr(f->rx[idx], false);
	const uint8_t *eth = f->rx[idx] + NET_VNET_HDR_LEN, *r = eth + ETH_HLEN_;

	assert_true(len >= NET_VNET_HDR_LEN + ETH_HLEN_ + 28);
	assert_memory_equal(eth, guest_mac, 6);
	assert_memory_equal(eth + 6, f->tap_mac, 6);
	assert_int_equal(be16(eth + 12), 0x0806);
	assert_int_equal(be16(r), 1);
	assert_int_equal(be16(r + 2), 0x0800);
	assert_int_equal(r[4], 6);
	assert_int_equal(r[5], 4);
	assert_int_equal(be16(r + 6), 2);	/* reply */
	put_ip(want_spa, HOST_IP);
	put_ip(want_tpa, GUEST_IP);
	assert_memory_equal(r + 8, f->tap_mac, 6);
	assert_memory_equal(r + 14, want_spa, 4);
	assert_memory_equal(r + 18, guest_mac, 6);
	assert_memory_equal(r + 24, want_tpa, 4);
	repost(f, idx);
}

static void icmp_echo_gets_a_reply(void **state)
{
	struct fixture *f = fixture_of(state);
	uint8_t frame[256], *ip, *icmp;
	size_t off = build_eth(frame, f->tap_mac, guest_mac, 0x0800);
	const size_t icmp_len = 8 + 56;
	unsigned len;
	int idx;

	ip = frame + off;
	icmp = ip + 20;
	icmp[0] = 8;			/* echo request */
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	put_be16(icmp + 4, 0x4855);	/* id */
	put_be16(icmp + 6, 7);		/* sequence */
	for (size_t i = 8; i < icmp_len; i++)
		icmp[i] = (uint8_t)(i * 3);
	put_be16(icmp + 2, fold(sum16(icmp, icmp_len, 0)));
	build_ip(ip, 1, icmp_len, 0x1234);
	tx_one(f, frame, off + 20 + icmp_len, 2);
	assert_int_equal(net_engine_submit(f->e), 1);

	idx = rx_next(f, 3000, &len);
	assert_true(idx >= 0);
	check_rx_vnet_hdr(f->rx[idx], false);
	const uint8_t *eth = f->rx[idx] + NET_VNET_HDR_LEN, *rip = eth + ETH_HLEN_, *r = rip + 20;

	assert_int_equal(len, NET_VNET_HDR_LEN + ETH_HLEN_ + 20 + icmp_len);
	assert_memory_equal(eth, guest_mac, 6);
	assert_memory_equal(eth + 6, f->tap_mac, 6);
	assert_int_equal(be16(eth + 12), 0x0800);
	check_ipv4(rip, 20 + icmp_len, 1);
	assert_int_equal(r[0], 0);		/* echo reply */
	assert_int_equal(r[1], 0);
	assert_int_equal(fold(sum16(r, icmp_len, 0)), 0);
	assert_int_equal(be16(r + 4), 0x4855);
	assert_int_equal(be16(r + 6), 7);
	assert_memory_equal(r + 8, icmp + 8, icmp_len - 8);
	repost(f, idx);
}

static int udp_socket(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 4 << 20;

	assert_true(s >= 0);
	/* room for every datagram of a test even if nobody reads meanwhile */
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
	put_ip((uint8_t *)&a.sin_addr, ip);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

#define UDP_N		200
#define UDP_PAYLOAD	120

static void udp_payload(uint8_t *p, unsigned seq)
{
	memset(p, 0, UDP_PAYLOAD);
	snprintf((char *)p, UDP_PAYLOAD, "datagram %05u", seq);
	for (unsigned i = 16; i < UDP_PAYLOAD; i++)
		p[i] = (uint8_t)(seq + i);
}

/* Complete a CHECKSUM_PARTIAL frame as the guest's NIC would have to. */
static void finish_partial_csum(uint8_t *eth, unsigned frame_len, const uint8_t *vh)
{
	unsigned start = le_get(vh + 6, 2), off = le_get(vh + 8, 2);
	uint16_t c;

	assert_int_equal(start, ETH_HLEN_ + 20);
	assert_int_equal(off, 6);		/* the UDP checksum field */
	c = fold(sum16(eth + start, frame_len - start, 0));
	put_be16(eth + start + off, c ? c : 0xffff);
}

/* The kernel sends to GUEST_IP; every datagram arrives through RX, in order. */
static void udp_datagrams_arrive_in_order(struct fixture *f, bool csum_offload)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	int s = udp_socket(HOST_IP, 4444);
	uint8_t payload[UDP_PAYLOAD];
	unsigned next = 0, len;

	put_ip((uint8_t *)&to.sin_addr, GUEST_IP);
	for (unsigned i = 0; i < UDP_N; i++) {
		udp_payload(payload, i);
		assert_int_equal(sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to,
					sizeof(to)), sizeof(payload));
	}
	while (next < UDP_N) {
		int idx = rx_next(f, 3000, &len);

		if (idx < 0)
			fail_msg("datagram %u of %u did not arrive", next, UDP_N);
		uint8_t *vh = f->rx[idx], *eth = vh + NET_VNET_HDR_LEN, *ip = eth + ETH_HLEN_;
		uint8_t *udp = ip + 20;

		check_rx_vnet_hdr(vh, csum_offload);
		assert_memory_equal(eth, guest_mac, 6);
		assert_memory_equal(eth + 6, f->tap_mac, 6);
		assert_int_equal(be16(eth + 12), 0x0800);
		assert_int_equal(len, NET_VNET_HDR_LEN + ETH_HLEN_ + 20 + 8 + UDP_PAYLOAD);
		check_ipv4(ip, 20 + 8 + UDP_PAYLOAD, 17);
		assert_int_equal(be16(udp), 4444);
		assert_int_equal(be16(udp + 2), 9999);
		assert_int_equal(be16(udp + 4), 8 + UDP_PAYLOAD);
		if (csum_offload) {
			/* partial: the device (and the guest) finish it */
			assert_int_equal(vh[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM,
					 VIRTIO_NET_HDR_F_NEEDS_CSUM);
			finish_partial_csum(eth, len - NET_VNET_HDR_LEN, vh);
		}
		assert_int_not_equal(be16(udp + 6), 0);
		assert_int_equal(l4_check(ip, udp, 8 + UDP_PAYLOAD, 17), 0);
		udp_payload(payload, next);
		assert_memory_equal(udp + 8, payload, UDP_PAYLOAD);
		next++;
		repost(f, idx);
	}
	close(s);
}

static void udp_rx_all_in_order(void **state)
{
	udp_datagrams_arrive_in_order(fixture_of(state), false);
}

/* With TUN_F_CSUM the kernel leaves the checksum to the guest (VIRTIO_NET_HDR_F_NEEDS_CSUM). */
static void udp_rx_with_csum_offload(void **state)
{
	struct fixture *f = fixture_of(state);

	assert_int_equal(tap_set_offload(&f->tap, TUN_F_CSUM), 0);
	udp_datagrams_arrive_in_order(f, true);
}

static size_t build_udp(uint8_t *frame, const uint8_t *dst_mac, unsigned seq, bool bad_csum)
{
	size_t off = build_eth(frame, dst_mac, guest_mac, 0x0800);
	uint8_t *ip = frame + off, *udp = ip + 20;

	put_be16(udp, 5555);
	put_be16(udp + 2, 7777);
	put_be16(udp + 4, 8 + UDP_PAYLOAD);
	put_be16(udp + 6, 0);
	udp_payload(udp + 8, seq);
	build_ip(ip, 17, 8 + UDP_PAYLOAD, (uint16_t)seq);
	put_be16(udp + 6, l4_check(ip, udp, 8 + UDP_PAYLOAD, 17));
	if (!be16(udp + 6))
		put_be16(udp + 6, 0xffff);
	if (bad_csum)
		udp[6] ^= 0x5a;
	return off + 20 + 8 + UDP_PAYLOAD;
}

/* Frames written through TX reach a bound UDP socket, in order, once each. */
static void udp_tx_reaches_a_socket(void **state)
{
	struct fixture *f = fixture_of(state);
	static uint8_t frames[UDP_N + 1][256];
	int s = udp_socket(HOST_IP, 7777);
	struct net_engine_stats st;
	unsigned got = 0;

	/* first a frame with a broken checksum: the kernel must drop it */
	tx_one(f, frames[UDP_N], build_udp(frames[UDP_N], f->tap_mac, 99999, true), UDP_N);
	for (unsigned i = 0; i < UDP_N; i++)
		tx_one(f, frames[i], build_udp(frames[i], f->tap_mac, i, false), i);
	assert_true(net_engine_submit(f->e) >= 0);
	while (got < UDP_N) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		uint8_t buf[512], want[UDP_PAYLOAD];
		ssize_t n;

		if (poll(&p, 1, 3000) != 1)
			fail_msg("datagram %u of %u did not arrive", got, UDP_N);
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		assert_int_equal(n, UDP_PAYLOAD);
		udp_payload(want, got);
		assert_memory_equal(buf, want, UDP_PAYLOAD);
		assert_int_equal(ntohs(from.sin_port), 5555);
		assert_int_equal(ntohl(from.sin_addr.s_addr), 0x0a4d0002);
		got++;
	}
	/* all TX completions come back; the stats saw every frame */
	for (int tries = 0; net_engine_tx_inflight(f->e) && tries < 100; tries++) {
		struct net_completion c[8];
		int n;

		usleep(10000);
		n = net_engine_reap(f->e, c, 8);
		for (int i = 0; i < n; i++)
			if (!c[i].is_rx)
				assert_true(c[i].result > 0);
	}
	assert_int_equal(net_engine_tx_inflight(f->e), 0);
	net_engine_get_stats(f->e, &st);
	assert_int_equal(st.tx_packets, UDP_N + 1);
	assert_int_equal(st.tx_errors, 0);
	assert_int_equal(st.tx_bytes, (UDP_N + 1) * (NET_VNET_HDR_LEN + ETH_HLEN_ + 20 + 8 + UDP_PAYLOAD));
	close(s);
}

/* Device reset on a real tap, then a buffer too small for the frame that comes: truncated. */
static void cancel_then_short_buffer(void **state)
{
	struct fixture *f = fixture_of(state);
	struct net_completion c[RX_BUFS];
	uint8_t small[NET_VNET_HDR_LEN + 20], frame[128];
	struct iovec iov = { small, sizeof(small) };
	struct pollfd p;
	size_t len;
	int n = 0;

	assert_int_equal(net_engine_cancel_rx(f->e), 0);
	/* still counted until reaped */
	assert_int_equal(net_engine_rx_inflight(f->e), RX_BUFS);
	while (n < RX_BUFS) {
		int got = net_engine_reap(f->e, c, RX_BUFS);

		assert_true(got > 0);
		for (int i = 0; i < got; i++)
			assert_int_equal(c[i].result, -ECANCELED);
		n += got;
	}
	assert_int_equal(net_engine_rx_inflight(f->e), 0);
	/* an ARP request gets a 42-byte reply: it cannot fit in 20 bytes */
	len = build_eth(frame, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, guest_mac,
			0x0806);
	memcpy(frame + len, (const uint8_t[]){ 0, 1, 8, 0, 6, 4, 0, 1 }, 8);
	memcpy(frame + len + 8, guest_mac, 6);
	put_ip(frame + len + 14, GUEST_IP);
	memset(frame + len + 18, 0, 6);
	put_ip(frame + len + 24, HOST_IP);
	assert_int_equal(net_engine_rx_post(f->e, &iov, 1, 42), 0);
	tx_one(f, frame, len + 28, 43);
	assert_int_equal(net_engine_submit(f->e), 2);
	for (int tries = 0; tries < 100; tries++) {
		p = (struct pollfd){ .fd = net_engine_completion_fd(f->e), .events = POLLIN };
		assert_int_equal(poll(&p, 1, 3000), 1);
		assert_int_equal(net_engine_reap(f->e, c, 1), 1);
		if (c[0].is_rx)
			break;
	}
	/*
	 * The tap fills the buffer and drops the rest, and says nothing: the
	 * result is the buffer's size. (virtio-net without mergeable buffers
	 * requires the guest to post buffers big enough for any frame.)
	 */
	assert_int_equal(c[0].cookie, 42);
	assert_int_equal(c[0].result, (int)sizeof(small));
	assert_memory_equal(small + NET_VNET_HDR_LEN, guest_mac, 6);
	assert_memory_equal(small + NET_VNET_HDR_LEN + 6, f->tap_mac, 6);
	assert_int_equal(be16(small + NET_VNET_HDR_LEN + 12), 0x0806);
}

/* ---- a multi-queue tap: one engine per queue pair ----------------------- */

#define MQ_TAP		"husk-mq0"
#define MQ_FLOWS	16

struct mq_queue {
	struct net_engine *e;
	uint8_t rx[8][RX_BUF_LEN];
	unsigned got;
};

/* Reap queue @q; mark which flows (UDP source ports 6000+i) arrived. */
static void mq_reap(struct mq_queue *q, bool seen[MQ_FLOWS], unsigned *total)
{
	struct net_completion c[8];
	int n = net_engine_reap(q->e, c, 8);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		const uint8_t *eth = q->rx[c[i].cookie] + NET_VNET_HDR_LEN, *ip = eth + ETH_HLEN_;
		struct iovec iov = { q->rx[c[i].cookie], RX_BUF_LEN };

		assert_true(c[i].is_rx);
		assert_true(c[i].result > 0);
		if (be16(eth + 12) == 0x0800 && ip[9] == 17) {
			unsigned flow = be16(ip + 20) - 6000u;

			assert_true(flow < MQ_FLOWS);
			assert_false(seen[flow]);	/* once, on one queue */
			assert_int_equal(l4_check(ip, ip + 20, be16(ip + 24), 17), 0);
			seen[flow] = true;
			q->got++;
			(*total)++;
		}
		assert_int_equal(net_engine_rx_post(q->e, &iov, 1, c[i].cookie), 0);
	}
	if (n)
		assert_true(net_engine_submit(q->e) >= 0);
}

static void multi_queue_flows_arrive_once(void **state)
{
	struct husk_net_config cfg = { .tap = MQ_TAP, .fd = -1 };
	static struct mq_queue q[2];
	bool seen[MQ_FLOWS] = { false };
	struct tap t;
	char err[256], mac[NET_MAC_STRLEN];
	unsigned total = 0;

	if (!netns_ready)
		skip();
	assert_int_equal(tap_open(&cfg, 2, &t, err, sizeof(err)), 0);
	assert_int_equal(sh("ip addr add 10.79.0.1/24 dev %s && ip neigh replace 10.79.0.2 "
			    "lladdr %s dev %s nud permanent", MQ_TAP,
			    net_format_mac(guest_mac, mac), MQ_TAP), 0);
	for (int i = 0; i < 2; i++) {
		struct net_engine_params p = { .tap_fd = t.fds[i], .rx_depth = 8, .tx_depth = 8,
					       .kind = *(enum net_engine_kind *)*state };

		q[i].got = 0;
		if (net_engine_create(&p, &q[i].e) < 0) {
			if (i)
				net_engine_destroy(q[0].e);
			tap_close(&t);
			skip();
		}
		for (uint64_t b = 0; b < 8; b++) {
			struct iovec iov = { q[i].rx[b], RX_BUF_LEN };

			assert_int_equal(net_engine_rx_post(q[i].e, &iov, 1, b), 0);
		}
		assert_int_equal(net_engine_submit(q[i].e), 8);
	}
	for (int i = 0; i < MQ_FLOWS; i++) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
		int s = udp_socket("10.79.0.1", (uint16_t)(6000 + i));

		put_ip((uint8_t *)&to.sin_addr, "10.79.0.2");
		assert_int_equal(sendto(s, "flow", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
		close(s);
	}
	for (int tries = 0; total < MQ_FLOWS && tries < 300; tries++) {
		struct pollfd p[2] = {
			{ .fd = net_engine_completion_fd(q[0].e), .events = POLLIN },
			{ .fd = net_engine_completion_fd(q[1].e), .events = POLLIN },
		};

		poll(p, 2, 10);
		mq_reap(&q[0], seen, &total);
		mq_reap(&q[1], seen, &total);
	}
	assert_int_equal(total, MQ_FLOWS);
	print_message("flows per queue: %u, %u\n", q[0].got, q[1].got);
	for (int i = 0; i < 2; i++)
		net_engine_destroy(q[i].e);
	tap_close(&t);
}

/*
 * A tap husk creates gets the MAC derived from its name, the same each time
 * (a restored VM's ARP cache stays right); a tap that exists keeps its own.
 */
static void created_tap_has_a_stable_mac(void **state)
{
	struct husk_net_config cfg = { .tap = "hk-mac0", .fd = -1 };
	uint8_t want[6], first[6];
	struct ifreq ifr;
	struct tap t;
	char err[256];

	(void)state;
	if (!netns_ready)
		skip();
	assert_int_equal(net_default_mac("husk-host-hk-mac0", 0, want), 0);
	for (int round = 0; round < 2; round++) {
		if (tap_open(&cfg, 1, &t, err, sizeof(err)) < 0)
			fail_msg("tap_open: %s", err);
		assert_int_equal(if_ioctl("hk-mac0", SIOCGIFHWADDR, &ifr), 0);
		assert_memory_equal(ifr.ifr_hwaddr.sa_data, want, 6);
		tap_close(&t);	/* not persistent: the interface goes with its last fd */
	}
	/* an existing tap (made and kept by someone else) keeps its MAC */
	assert_int_equal(sh("ip tuntap add dev hk-mac1 mode tap vnet_hdr && "
			    "ip link set hk-mac1 address 02:11:22:33:44:55"), 0);
	assert_int_equal(if_ioctl("hk-mac1", SIOCGIFHWADDR, &ifr), 0);
	memcpy(first, ifr.ifr_hwaddr.sa_data, 6);
	cfg.tap = "hk-mac1";
	if (tap_open(&cfg, 1, &t, err, sizeof(err)) < 0)
		fail_msg("tap_open: %s", err);
	assert_int_equal(if_ioctl("hk-mac1", SIOCGIFHWADDR, &ifr), 0);
	assert_memory_equal(ifr.ifr_hwaddr.sa_data, first, 6);
	tap_close(&t);
	assert_int_equal(sh("ip link del hk-mac1"), 0);
}

#define BOTH(fn)                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &kind_uring), \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &kind_sync)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(arp_request_gets_a_reply),
		BOTH(icmp_echo_gets_a_reply),
		BOTH(udp_rx_all_in_order),
		BOTH(udp_rx_with_csum_offload),
		BOTH(udp_tx_reaches_a_socket),
		BOTH(cancel_then_short_buffer),
		cmocka_unit_test_prestate(multi_queue_flows_arrive_once, &kind_uring),
		cmocka_unit_test_prestate(multi_queue_flows_arrive_once, &kind_sync),
		cmocka_unit_test(created_tap_has_a_stable_mac),
	};

	return cmocka_run_group_tests(tests, netns_group_setup, NULL);
}
