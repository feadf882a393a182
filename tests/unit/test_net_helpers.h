/* SPDX-License-Identifier: MIT */
/*
 * Shared by the tests that need a real tap (test_net_tap.c, test_net_tapopen.c):
 * the test process moves into a network namespace of its own once
 * (unshare(CLONE_NEWNET)), so every tap, address and neighbour it creates is
 * visible only there and goes away with the process, whatever happens.
 * Needs root, /dev/net/tun and ip(8); the tests skip otherwise.
 */
#ifndef HUSK_TEST_NET_HELPERS_H
#define HUSK_TEST_NET_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static bool netns_ready;

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static inline int netns_group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0 || system("ip -V >/dev/null 2>&1") != 0) {
		print_message("needs root, /dev/net/tun and ip(8): skipping\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		print_message("unshare(CLONE_NEWNET): %s: skipping\n", strerror(errno));
		return 0;
	}
	/* no IPv6 chatter (router solicitations, MLD) on the tap */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	netns_ready = true;
	return 0;
}

static inline void require_netns(void)
{
	if (!netns_ready)
		skip();
}

static inline int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	if (s < 0 || ioctl(s, req, ifr) < 0)
		ret = -errno;
	if (s >= 0)
		close(s);
	return ret;
}

#endif
