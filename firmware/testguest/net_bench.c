// SPDX-License-Identifier: MIT
/*
 * net-bench: UDP throughput through queue pair 0, polling, against
 * tg-netpeer at net_host:net_port (its sink and source, driven by "TGNC"
 * commands). For 64- and 1400-byte payloads, bench_ms= ms (default 2000)
 * each: guest->host (the guest keeps its TX ring full; the rate is what
 * the peer counted) and host->guest (the peer floods; the rate is what
 * the guest received, from the first datagram to the last). Prints
 * "BENCH net-{tx,rx}-SIZE-pps N pps" and "... -gbps G Gbit/s" (UDP
 * payload bits).
 */
#include "net.h"

#define BENCH_SPORT	41000
#define CMD_TRIES	5
#define KICK_BATCH	16

static const uint32_t sizes[] = { 64, 1400 };

static const char *skip_word(const char *p)
{
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	return p;
}

static uint64_t number(const char *p)
{
	uint64_t v = 0;

	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	return v;
}

/* "TGNC @c" to the peer; its answer (after "TGNC ") into @ans. */
static int peer_cmd(struct net *n, uint16_t port, const char *c, char *ans, size_t al, char *why)
{
	char msg[64];
	struct net_pkt p;
	uint64_t end;
	int i, rc, len = snprintf(msg, sizeof(msg), "TGNC %s", c);

	for (i = 0; i < CMD_TRIES; i++) {
		if (net_send_udp(n, 0, BENCH_SPORT, port, (const uint8_t *)msg, len, why))
			return -1;
		end = deadline_us(1000000);
		while (!deadline_passed(end)) {
			rc = net_wait_kind(n, PKT_UDP, &p, 100000, why);
			if (rc < 0)
				return -1;
			if (rc && p.sport == port && p.dport == BENCH_SPORT && p.len > 5 &&
			    p.len < al + 5 && !memcmp(p.data, "TGNC ", 5)) {
				memcpy(ans, p.data + 5, p.len - 5);
				ans[p.len - 5] = '\0';
				return 0;
			}
		}
	}
	snprintf(why, WHY_LEN, "tg-netpeer did not answer \"%s\" (%d tries)", msg, CMD_TRIES);
	return -1;
}

static void print_rate(const char *dir, uint32_t size, uint64_t pkts, uint64_t bytes, uint64_t us)
{
	uint64_t mbps = us ? bytes * 8 / us : 0;

	printf("BENCH net-%s-%u-pps %llu pps\n", dir, size,
	       (unsigned long long)(us ? pkts * 1000000 / us : 0));
	printf("BENCH net-%s-%u-gbps %llu.%03llu Gbit/s\n", dir, size,
	       (unsigned long long)(mbps / 1000), (unsigned long long)(mbps % 1000));
}

static void drain(struct net *n)
{
	char scratch[WHY_LEN];
	struct net_pkt p;

	while (net_recv(n, 0, scratch) > 0)
		net_classify(n, &p, scratch);	/* answers ARP; the rest is dropped */
}

static int tx_bench(struct net *n, uint16_t port, uint32_t size, uint64_t ms, char *why)
{
	static uint8_t payload[1400];
	int offload = net_has(n, NET_F_CSUM);
	uint64_t end, t0, us, sent = 0;
	char ans[64];
	uint8_t *f;
	uint32_t flen;
	const char *p;

	memset(payload, 0x5a, size);
	memcpy(payload, "TGNS", 4);
	if (peer_cmd(n, port, "RESET", ans, sizeof(ans), why))
		return -1;
	t0 = rdtsc();
	end = deadline_us(ms * 1000);
	while (!deadline_passed(end)) {
		if (!(f = net_tx_slot(n, 0, why)))
			return -1;
		flen = net_build_udp(n, f, BENCH_SPORT, port, payload, size, offload);
		if (net_tx_commit(n, 0, flen, offload ? UDP_OFF : 0, offload ? 6 : 0,
				  sent % KICK_BATCH == KICK_BATCH - 1, why))
			return -1;
		if (++sent % 256 == 0)
			drain(n);
	}
	net_tx_kick(n, 0);
	us = tsc_to_us(rdtsc() - t0);
	delay_us(200000);		/* let the peer read the tail */
	drain(n);
	if (peer_cmd(n, port, "COUNT", ans, sizeof(ans), why))
		return -1;
	p = skip_word(ans);
	printf("net-bench: tx %u: sent %llu in %llu ms, the peer counted %s\n", size,
	       (unsigned long long)sent, (unsigned long long)us / 1000, p);
	print_rate("tx", size, number(p), number(skip_word(p)), us);
	return 0;
}

static int rx_bench(struct net *n, uint16_t port, uint32_t size, uint64_t ms, char *why)
{
	uint64_t got = 0, bytes = 0, first = 0, last = 0, end;
	struct net_pkt p;
	char cmd[48], ans[64];
	int rc;

	snprintf(cmd, sizeof(cmd), "SEND %u %llu", size, (unsigned long long)ms);
	if (peer_cmd(n, port, cmd, ans, sizeof(ans), why))
		return -1;
	end = deadline_us(ms * 1000 + 3000000);
	while (!deadline_passed(end)) {
		rc = net_recv(n, 100000, why);
		if (rc < 0 || (rc && net_classify(n, &p, why)))
			return -1;
		if (!rc || p.kind != PKT_UDP || p.sport != port || p.dport != BENCH_SPORT)
			continue;
		if (p.len >= 4 && !memcmp(p.data, "TGNS", 4)) {
			last = rdtsc();
			first = first ? first : last;
			got++;
			bytes += p.len;
		} else if (p.len > 10 && !memcmp(p.data, "TGNC DONE ", 10)) {
			memcpy(ans, p.data + 10, p.len - 10 < 40 ? p.len - 10 : 40);
			ans[p.len - 10 < 40 ? p.len - 10 : 40] = '\0';
			break;
		}
	}
	if (!got) {
		snprintf(why, WHY_LEN, "rx %u: no datagram from the peer's source", size);
		return -1;
	}
	printf("net-bench: rx %u: received %llu, the peer sent %s\n", size,
	       (unsigned long long)got, deadline_passed(end) ? "(no DONE)" : ans);
	print_rate("rx", size, got, bytes, tsc_to_us(last - first));
	delay_us(100000);
	drain(n);
	return 0;
}

int check_net_bench(char *why)
{
	static struct net n;
	char val[16];
	uint64_t ms = 2000;
	uint16_t port;
	size_t i;
	int rc = -1;

	if (!cmdline_get("bench_ms", val, sizeof(val)) && (parse_uint(val, &ms) || !ms)) {
		snprintf(why, WHY_LEN, "bench_ms=%s: want a number of ms", val);
		return -1;
	}
	if (net_open(&n, 1, 0, 0, why) || net_addrs(&n, &port, why) || net_resolve_host(&n, why))
		goto out;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (tx_bench(&n, port, sizes[i], ms, why))
			goto out;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (rx_bench(&n, port, sizes[i], ms, why))
			goto out;
	rc = 0;
out:
	net_close(&n);
	return rc;
}
