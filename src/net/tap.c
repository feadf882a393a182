// SPDX-License-Identifier: MIT
/* TAP: open or take over a tap, vnet headers, offloads, link up, MTU. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tap.h"
#include "net/mac.h"

#define TUN_DEV		"/dev/net/tun"
#define TAP_IFF		(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
#define MTU_MIN		68
#define MTU_MAX		65535

/* "--net tap=NAME" or "--net fd=N": how the user named this tap */
static void tap_flag(const struct husk_net_config *cfg, char *buf, size_t len)
{
	if (cfg->fd >= 0)
		snprintf(buf, len, "--net fd=%d", cfg->fd);
	else
		snprintf(buf, len, "--net tap=%s", cfg->tap ? cfg->tap : "");
}

static int fail(char *err, size_t errlen, int ret, const char *flag, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, int ret, const char *flag, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", flag, why);
	return ret;
}

static void tap_reset(struct tap *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < HUSK_MAX_QUEUES; i++)
		t->fds[i] = -1;
}

void tap_close(struct tap *t)
{
	for (unsigned i = 0; i < HUSK_MAX_QUEUES; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	tap_reset(t);
}

static const char *setiff_hint(int e, unsigned queues)
{
	switch (e) {
	case EPERM:
		return " (needs CAP_NET_ADMIN, or a persistent tap owned by this user)";
	case EBUSY:
		return " (the tap is open elsewhere and is not multi-queue)";
	case EINVAL:
		return queues > 1 ? " (an existing tap must have been created multi_queue"
				    " with vnet_hdr and no_pi)"
				  : " (an existing tap must have been created single-queue"
				    " with vnet_hdr and no_pi)";
	default:
		return "";
	}
}

/* One queue fd of tap @name (TUNSETIFF creates it or attaches to it). */
static int tap_open_queue(const char *name, unsigned queues, char ifname[IFNAMSIZ],
			  const char *flag, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, e;

	fd = open(TUN_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return fail(err, errlen, -e, flag, "%s: %s", TUN_DEV, strerror(e));
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = TAP_IFF | (queues > 1 ? IFF_MULTI_QUEUE : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		return fail(err, errlen, -e, flag, "cannot create or attach: %s%s",
			    strerror(e), setiff_hint(e, queues));
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* Check that a handed-over fd is a tap husk can use; fills @ifname. */
static int tap_check_fd(int fd, const char *want_name, char ifname[IFNAMSIZ],
			const char *flag, char *err, size_t errlen)
{
	struct ifreq ifr;
	int e;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		e = errno;
		if (e == EBADF)
			return fail(err, errlen, -e, flag, "not an open file descriptor");
		return fail(err, errlen, -EINVAL, flag, "not an attached tap device (TUNGETIFF: %s)",
			    strerror(e));
	}
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP)
		return fail(err, errlen, -EINVAL, flag, "%.16s is a tun (layer 3) device, not a tap",
			    ifr.ifr_name);
	if (!(ifr.ifr_flags & IFF_VNET_HDR))
		return fail(err, errlen, -EINVAL, flag, "tap %.16s was opened without IFF_VNET_HDR",
			    ifr.ifr_name);
	if (!(ifr.ifr_flags & IFF_NO_PI))
		return fail(err, errlen, -EINVAL, flag, "tap %.16s was opened without IFF_NO_PI",
			    ifr.ifr_name);
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	if (want_name && strcmp(want_name, ifname) != 0)
		return fail(err, errlen, -EINVAL, flag, "the fd is tap %s, not %s", ifname, want_name);
	return 0;
}

static int tap_set_vnet_hdr(int fd, const char *flag, char *err, size_t errlen)
{
	int sz = NET_VNET_HDR_LEN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		int e = errno;

		return fail(err, errlen, -e, flag, "TUNSETVNETHDRSZ %d: %s", sz, strerror(e));
	}
	return 0;
}

int tap_set_offload(struct tap *t, unsigned tun_flags)
{
	const unsigned known = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO;

	if (tun_flags & ~known)
		return -EINVAL;
	if (t->nqueues == 0)
		return -EBADF;
	for (unsigned i = 0; i < t->nqueues; i++)
		if (ioctl(t->fds[i], TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
			return -errno;
	return 0;
}

/* Link up and the MTU, through an AF_INET socket on the interface name. */
static int tap_config_link(const char *ifname, unsigned mtu, const char *flag,
			   char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, e, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		return fail(err, errlen, -e, flag, "socket: %s", strerror(e));
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
			e = errno;
			ret = fail(err, errlen, -e, flag, "mtu=%u: %s", mtu, strerror(e));
			goto out;
		}
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		e = errno;
		ret = fail(err, errlen, -e, flag, "SIOCGIFFLAGS: %s", strerror(e));
		goto out;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
			e = errno;
			ret = fail(err, errlen, -e, flag, "cannot bring the link up: %s",
				   strerror(e));
		}
	}
out:
	close(s);
	return ret;
}

static int tap_validate(const struct husk_net_config *cfg, unsigned queues, const char *flag,
			char *err, size_t errlen)
{
	if (!cfg->tap && cfg->fd < 0)
		return fail(err, errlen, -EINVAL, "--net", "needs tap=NAME or fd=N");
	if (cfg->tap && cfg->tap[0] == '\0')
		return fail(err, errlen, -EINVAL, flag, "empty tap name");
	if (cfg->tap && strlen(cfg->tap) >= IFNAMSIZ)
		return fail(err, errlen, -ENAMETOOLONG, flag, "name longer than %d bytes",
			    IFNAMSIZ - 1);
	if (cfg->tap && (strchr(cfg->tap, '/') || strchr(cfg->tap, ' ') ||
			 strchr(cfg->tap, '%')))
		return fail(err, errlen, -EINVAL, flag, "not a valid interface name");
	if (queues < 1 || queues > HUSK_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, flag, "queues=%u: 1 to %d", queues,
			    HUSK_MAX_QUEUES);
	if (cfg->fd >= 0 && queues > 1)
		return fail(err, errlen, -EINVAL, flag,
			    "a handed-over fd serves one queue pair, not %u", queues);
	if (cfg->mtu && (cfg->mtu < MTU_MIN || cfg->mtu > MTU_MAX))
		return fail(err, errlen, -EINVAL, flag, "mtu=%u: %d to %d", cfg->mtu, MTU_MIN,
			    MTU_MAX);
	return 0;
}

/*
 * A tap husk created gets a MAC of its own derived from its name, not the
 * kernel's random one: a VM restored (or migrated) onto a tap husk makes
 * anew under the same name then finds the host side where its ARP cache
 * says it is. With a random MAC the guest's frames go to the old address
 * and are dropped until its neighbour entry expires, which a TCP stream in
 * exponential backoff can take minutes to get over.
 */
static int tap_set_own_mac(int fd, const char *ifname, const char *flag, char *err,
			   size_t errlen)
{
	char seed[IFNAMSIZ + 16];
	struct ifreq ifr;
	int e;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(seed, sizeof(seed), "husk-host-%s", ifname);
	net_default_mac(seed, 0, (uint8_t *)ifr.ifr_hwaddr.sa_data);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	if (ioctl(fd, SIOCSIFHWADDR, &ifr) < 0) {
		e = errno;
		return fail(err, errlen, -e, flag, "setting the new tap's MAC: %s", strerror(e));
	}
	return 0;
}

static int tap_open_fds(const struct husk_net_config *cfg, unsigned queues, struct tap *t,
			const char *flag, char *err, size_t errlen)
{
	bool fresh;
	int ret;

	if (cfg->fd >= 0) {
		t->fds[0] = cfg->fd;
		t->nqueues = 1;
		return tap_check_fd(cfg->fd, cfg->tap, t->ifname, flag, err, errlen);
	}
	fresh = if_nametoindex(cfg->tap) == 0;
	for (unsigned i = 0; i < queues; i++) {
		/* queues after the first attach to the name the kernel gave the first */
		ret = tap_open_queue(i ? t->ifname : cfg->tap, queues, t->ifname, flag, err,
				     errlen);
		if (ret < 0)
			return ret;
		t->fds[i] = ret;
		t->nqueues = i + 1;
	}
	return fresh ? tap_set_own_mac(t->fds[0], t->ifname, flag, err, errlen) : 0;
}

int tap_open(const struct husk_net_config *cfg, unsigned queues, struct tap *t,
	     char *err, size_t errlen)
{
	char flag[64];
	int ret;

	tap_reset(t);
	tap_flag(cfg, flag, sizeof(flag));
	if (!queues)
		queues = cfg->queues ? cfg->queues : 1;
	ret = tap_validate(cfg, queues, flag, err, errlen);
	if (ret == 0)
		ret = tap_open_fds(cfg, queues, t, flag, err, errlen);
	for (unsigned i = 0; ret == 0 && i < t->nqueues; i++)
		ret = tap_set_vnet_hdr(t->fds[i], flag, err, errlen);
	if (ret == 0) {
		ret = tap_set_offload(t, 0);
		if (ret < 0)
			fail(err, errlen, ret, flag, "TUNSETOFFLOAD: %s", strerror(-ret));
	}
	if (ret == 0)
		ret = tap_config_link(t->ifname, cfg->mtu, flag, err, errlen);
	if (ret < 0) {
		if (cfg->fd >= 0 && t->nqueues == 0)
			close(cfg->fd);
		tap_close(t);
	}
	return ret;
}

int tap_announce(const struct tap *t, const uint8_t mac[6])
{
	uint8_t f[NET_VNET_HDR_LEN + 60] = { 0 };	/* the header (no offloads), a minimal frame */
	uint8_t *e = f + NET_VNET_HDR_LEN, *a = e + 14;

	if (t->nqueues < 1 || t->fds[0] < 0)
		return -EBADF;
	memset(e, 0xff, 6);			/* broadcast */
	memcpy(e + 6, mac, 6);
	e[12] = 0x80;				/* RARP */
	e[13] = 0x35;
	a[1] = 1;				/* Ethernet */
	a[2] = 0x08;				/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 3;				/* reverse request */
	memcpy(a + 8, mac, 6);
	memcpy(a + 18, mac, 6);
	return write(t->fds[0], f, sizeof(f)) == (ssize_t)sizeof(f) ? 0 : -errno;
}
