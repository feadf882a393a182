// SPDX-License-Identifier: MIT
/*
 * tg-netpeer ADDR PORT [SECONDS]: the host side of the test guest's net
 * checks, one UDP socket bound to ADDR:PORT (a host tool, built static so
 * the nested harness's busybox-only outer VM can run it). It exits after
 * SECONDS (default 600) so it can never linger. Datagrams:
 *   "TGNC RESET"           zero the sink counters; answers "TGNC OK"
 *   "TGNC COUNT"           answers "TGNC COUNT <datagrams> <bytes>" (sink)
 *   "TGNC SEND <len> <ms>" answers "TGNC OK", sends <len>-byte datagrams
 *                          "TGNS<seq>..." to the asker for <ms> ms, then
 *                          "TGNC DONE <sent>" three times
 *   "TGNS..."              counted (the sink), not answered
 *   anything else          echoed to its sender
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_DGRAM 65536

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

struct peer {
	int fd;
	unsigned long long sink_pkts, sink_bytes, echoed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void reply(struct peer *p, const struct sockaddr_in *to, const char *msg)
{
	if (sendto(p->fd, msg, strlen(msg), 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		fprintf(stderr, "tg-netpeer: sendto: %s\n", strerror(errno));
}

static void source(struct peer *p, const struct sockaddr_in *to, unsigned len, unsigned ms)
{
	static unsigned char buf[MAX_DGRAM];
	unsigned long long sent = 0;
	double end = now_s() + ms / 1000.0;
	char msg[64];
	int i;

	memset(buf, 0x5a, len);
	memcpy(buf, "TGNS", 4);
	while (now_s() < end) {
		memcpy(buf + 4, &sent, sizeof(sent) < len - 4 ? sizeof(sent) : len - 4);
		if (sendto(p->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) == (ssize_t)len)
			sent++;
		else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			break;
	}
	snprintf(msg, sizeof(msg), "TGNC DONE %llu", sent);
	for (i = 0; i < 3; i++) {
		usleep(20000);
		reply(p, to, msg);
	}
	fprintf(stderr, "tg-netpeer: sent %llu datagrams of %u bytes\n", sent, len);
}

static void command(struct peer *p, const struct sockaddr_in *from, const char *cmd)
{
	unsigned len, ms;
	char msg[80];

	if (!strcmp(cmd, "RESET")) {
		p->sink_pkts = p->sink_bytes = 0;
		reply(p, from, "TGNC OK");
	} else if (!strcmp(cmd, "COUNT")) {
		snprintf(msg, sizeof(msg), "TGNC COUNT %llu %llu", p->sink_pkts, p->sink_bytes);
		reply(p, from, msg);
	} else if (sscanf(cmd, "SEND %u %u", &len, &ms) == 2 && len >= 12 && len <= 1472 &&
		   ms <= 60000) {
		reply(p, from, "TGNC OK");
		source(p, from, len, ms);
	} else {
		reply(p, from, "TGNC ERR");
	}
}

static int serve(struct peer *p, double until)
{
	static unsigned char buf[MAX_DGRAM + 1];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;

	while (now_s() < until && !stop) {
		fl = sizeof(from);
		n = recvfrom(p->fd, buf, MAX_DGRAM, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "tg-netpeer: recvfrom: %s\n", strerror(errno));
			return 1;
		}
		if (n >= 5 && !memcmp(buf, "TGNC ", 5)) {
			buf[n] = '\0';
			command(p, &from, (char *)buf + 5);
		} else if (n >= 4 && !memcmp(buf, "TGNS", 4)) {
			p->sink_pkts++;
			p->sink_bytes += n;
		} else if (sendto(p->fd, buf, n, 0, (struct sockaddr *)&from, fl) == n) {
			p->echoed++;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 1 };
	struct sigaction sa = { .sa_handler = on_term };	/* no SA_RESTART */
	struct peer p = { 0 };
	char *end;
	long port, secs = 600;
	int big = 4 << 20, rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: tg-netpeer ADDR PORT [SECONDS]\n");
		return 1;
	}
	port = strtol(argv[2], &end, 10);
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || *end || port < 1 || port > 65535 ||
	    (argc == 4 && ((secs = strtol(argv[3], &end, 10)) < 1 || *end))) {
		fprintf(stderr, "tg-netpeer: bad address, port or time: %s %s%s%s\n", argv[1],
			argv[2], argc == 4 ? " " : "", argc == 4 ? argv[3] : "");
		return 1;
	}
	a.sin_port = htons(port);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	p.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (p.fd < 0 || bind(p.fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "tg-netpeer: %s:%ld: %s\n", argv[1], port, strerror(errno));
		return 1;
	}
	setsockopt(p.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(p.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(p.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fprintf(stderr, "tg-netpeer: listening on %s:%ld for %ld s\n", argv[1], port, secs);
	rc = serve(&p, now_s() + secs);
	fprintf(stderr, "tg-netpeer: echoed %llu, sink %llu datagrams\n", p.echoed, p.sink_pkts);
	return rc;
}
