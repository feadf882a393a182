// SPDX-License-Identifier: MIT
/*
 * Packets per second through the net engine and a real tap, in a private
 * network namespace (root): TX (the engine writes UDP frames to a socket
 * bound in the namespace) and RX (a socket floods the address behind the
 * tap, the engine reads). Built and run by scripts/bench-net.sh; prints
 * "BENCH name value unit" lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net_engine.h"
#include "net/tap.h"

#define TAP	"husk-bench"
#define HOST	"10.78.0.1"
#define GUEST	"10.78.0.2"
#define GMAC	"52:54:00:78:00:02"
#define DEPTH	64
#define PAYLOAD	64
#define FRAME	(NET_VNET_HDR_LEN + 14 + 20 + 8 + PAYLOAD)
#define SECONDS	2.0

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One UDP frame guest -> host:7777 (vnet header zero). */
static void build_frame(uint8_t *f, const uint8_t *tap_mac)
{
	static const uint8_t gmac[6] = { 0x52, 0x54, 0x00, 0x78, 0x00, 0x02 };
	uint8_t *eth = f + NET_VNET_HDR_LEN, *ip = eth + 14, *udp = ip + 20;
	uint32_t s;

	memset(f, 0, FRAME);
	memcpy(eth, tap_mac, 6);
	memcpy(eth + 6, gmac, 6);
	be16(eth + 12, 0x0800);
	ip[0] = 0x45;
	be16(ip + 2, 20 + 8 + PAYLOAD);
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, GUEST, ip + 12);
	inet_pton(AF_INET, HOST, ip + 16);
	be16(ip + 10, csum(ip, 20, 0));
	be16(udp, 5555);
	be16(udp + 2, 7777);
	be16(udp + 4, 8 + PAYLOAD);
	memset(udp + 8, 'x', PAYLOAD);
	s = 17 + 8 + PAYLOAD;
	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	be16(udp + 6, csum(udp, 8 + PAYLOAD, s));
}

static int udp_sock(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;

	inet_pton(AF_INET, ip, &a.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("bind");
		exit(1);
	}
	return s;
}

static atomic_int stop;
static atomic_long sink_count;

static void *sink(void *arg)
{
	int s = *(int *)arg;
	char buf[256];

	while (!atomic_load(&stop)) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (poll(&p, 1, 50) == 1)
			while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				atomic_fetch_add(&sink_count, 1);
	}
	return NULL;
}

static void *flood(void *arg)
{
	int s = *(int *)arg;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	char buf[PAYLOAD] = { 0 };

	inet_pton(AF_INET, GUEST, &to.sin_addr);
	while (!atomic_load(&stop))
		sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to));
	return NULL;
}

static void bench_tx(struct net_engine *e, const uint8_t *tap_mac, const char *kind)
{
	static uint8_t frame[FRAME];
	struct iovec iov = { frame, FRAME };
	struct net_completion c[DEPTH];
	struct net_engine_stats st;
	int s = udp_sock(HOST, 7777);
	pthread_t t;
	long sent = 0;
	double t0, dt;

	build_frame(frame, tap_mac);
	atomic_store(&stop, 0);
	atomic_store(&sink_count, 0);
	pthread_create(&t, NULL, sink, &s);
	t0 = now();
	while ((dt = now() - t0) < SECONDS) {
		while (net_engine_tx_queue(e, &iov, 1, 0) == 0)
			;
		net_engine_submit(e);
		struct pollfd p = { .fd = net_engine_completion_fd(e), .events = POLLIN };

		poll(&p, 1, 100);
		int n = net_engine_reap(e, c, DEPTH);

		for (int i = 0; i < n; i++)
			sent += c[i].result > 0;
	}
	usleep(200000);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	net_engine_get_stats(e, &st);
	printf("BENCH net_tx_%s_pps %.0f pps\n", kind, sent / dt);
	printf("BENCH net_tx_%s_delivered_pct %.1f %%\n", kind,
	       sent ? 100.0 * atomic_load(&sink_count) / sent : 0.0);
	printf("BENCH net_tx_%s_frames_per_submit %.1f frames\n", kind,
	       st.submit_calls ? (double)st.tx_packets / st.submit_calls : 0.0);
	close(s);
}

static void bench_rx(struct net_engine *e, const char *kind)
{
	static uint8_t bufs[DEPTH][2048];
	struct net_completion c[DEPTH];
	int s = udp_sock(HOST, 4444);
	pthread_t t;
	long got = 0;
	double t0, dt;

	for (unsigned i = 0; i < DEPTH; i++) {
		struct iovec iov = { bufs[i], sizeof(bufs[i]) };

		net_engine_rx_post(e, &iov, 1, i);
	}
	net_engine_submit(e);
	atomic_store(&stop, 0);
	pthread_create(&t, NULL, flood, &s);
	t0 = now();
	while ((dt = now() - t0) < SECONDS) {
		struct pollfd p = { .fd = net_engine_completion_fd(e), .events = POLLIN };

		poll(&p, 1, 100);
		int n = net_engine_reap(e, c, DEPTH);

		for (int i = 0; i < n; i++) {
			struct iovec iov = { bufs[c[i].cookie], 2048 };

			got += c[i].result > 0;
			net_engine_rx_post(e, &iov, 1, c[i].cookie);
		}
		if (n)
			net_engine_submit(e);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	net_engine_cancel_rx(e);
	while (net_engine_reap(e, c, DEPTH) > 0)
		;
	printf("BENCH net_rx_%s_pps %.0f pps\n", kind, got / dt);
	close(s);
}

int main(void)
{
	struct husk_net_config cfg = { .tap = TAP, .fd = -1 };
	const enum net_engine_kind kinds[] = { NET_ENGINE_URING, NET_ENGINE_SYNC };
	char err[256];

	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET) (needs root)");
		return 1;
	}
	for (unsigned k = 0; k < 2; k++) {
		struct tap tap;
		struct net_engine *e;
		struct net_engine_params p = { .rx_depth = DEPTH, .tx_depth = DEPTH,
					       .kind = kinds[k] };
		struct ifreq ifr = { 0 };
		int sk = socket(AF_INET, SOCK_DGRAM, 0);

		if (tap_open(&cfg, 1, &tap, err, sizeof(err)) < 0) {
			fprintf(stderr, "husk: %s\n", err);
			return 1;
		}
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TAP);
		ioctl(sk, SIOCGIFHWADDR, &ifr);
		close(sk);
		if (system("ip addr add " HOST "/24 dev " TAP " && ip neigh replace " GUEST
			   " lladdr " GMAC " dev " TAP " nud permanent") != 0)
			return 1;
		p.tap_fd = tap.fds[0];
		if (net_engine_create(&p, &e) < 0) {
			fprintf(stderr, "husk: no %s engine\n", net_engine_kind_name(kinds[k]));
			tap_close(&tap);
			continue;
		}
		bench_tx(e, (const uint8_t *)ifr.ifr_hwaddr.sa_data, net_engine_kind_name(kinds[k]));
		bench_rx(e, net_engine_kind_name(kinds[k]));
		net_engine_destroy(e);
		tap_close(&tap);
	}
	return 0;
}
