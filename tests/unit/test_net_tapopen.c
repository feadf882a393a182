// SPDX-License-Identifier: MIT
/*
 * tap_open on real taps, in a network namespace of its own (see
 * test_net_helpers.h): flags, vnet header size, link, MTU, multi-queue,
 * attaching to persistent taps made with ip(8), handed-over fds. Needs root
 * and /dev/net/tun, skipped otherwise.
 */
#include <linux/if_tun.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/tap.h"
#include "test_net_helpers.h"

static unsigned tun_flags_of(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
	return (unsigned short)ifr.ifr_flags;
}

static void tap_open_sets_flags_link_and_mtu(void **state)
{
	struct husk_net_config cfg = { .tap = "husk-t1", .fd = -1, .mtu = 1400 };
	struct tap t;
	struct ifreq ifr;
	char err[256];
	int sz = 0;

	(void)state;
	require_netns();
	assert_int_equal(tap_open(&cfg, 1, &t, err, sizeof(err)), 0);
	assert_string_equal(t.ifname, "husk-t1");
	assert_int_equal(t.nqueues, 1);
	assert_int_equal(tun_flags_of(t.fds[0]) & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE),
			 IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	assert_int_equal(ioctl(t.fds[0], TUNGETVNETHDRSZ, &sz), 0);
	assert_int_equal(sz, NET_VNET_HDR_LEN);
	assert_int_equal(if_ioctl("husk-t1", SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(if_ioctl("husk-t1", SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	/* a second single-queue open of the same tap is refused, with the reason */
	assert_int_equal(tap_open(&cfg, 1, &(struct tap){ 0 }, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "--net tap=husk-t1: cannot create or attach: Device or resource busy"
				 " (the tap is open elsewhere and is not multi-queue)");
	tap_close(&t);
	assert_int_equal(t.nqueues, 0);
	/* not persistent: closing it removed it */
	assert_int_equal(if_ioctl("husk-t1", SIOCGIFFLAGS, &ifr), -ENODEV);
}

static void tap_open_multi_queue(void **state)
{
	struct husk_net_config cfg = { .tap = "husk-mq", .fd = -1, .queues = 4 };
	struct tap t, t2;
	char err[256];

	(void)state;
	require_netns();
	assert_int_equal(tap_open(&cfg, 0, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nqueues, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_true(t.fds[i] >= 0);
		assert_true(tun_flags_of(t.fds[i]) & IFF_MULTI_QUEUE);
	}
	assert_int_equal(t.fds[4], -1);
	assert_int_equal(tap_set_offload(&t, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), 0);
	/* more queues attach to it; a single-queue open does not */
	assert_int_equal(tap_open(&cfg, 2, &t2, err, sizeof(err)), 0);
	tap_close(&t2);
	assert_int_equal(tap_open(&cfg, 1, &t2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--net tap=husk-mq: cannot create or attach: Invalid argument"));
	tap_close(&t);
}

/* A persistent tap made by hand with ip(8), as README.md says to. */
static void tap_open_attaches_to_a_persistent_tap(void **state)
{
	struct husk_net_config cfg = { .tap = "husk-p0", .fd = -1 };
	struct tap t;
	char err[256];

	(void)state;
	require_netns();
	assert_int_equal(sh("ip tuntap add dev husk-p0 mode tap"), 0);
	assert_int_equal(tap_open(&cfg, 1, &t, err, sizeof(err)), 0);
	assert_true(tun_flags_of(t.fds[0]) & IFF_VNET_HDR);
	/* TSO without checksum offload is refused by the kernel */
	assert_int_equal(tap_set_offload(&t, TUN_F_TSO4), -EINVAL);
	assert_int_equal(tap_set_offload(&t, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN), 0);
	tap_close(&t);
	/* single-queue, so a multi-queue open is refused */
	cfg.queues = 2;
	assert_int_equal(tap_open(&cfg, 0, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(sh("ip tuntap del dev husk-p0 mode tap"), 0);
	assert_int_equal(sh("ip tuntap add dev husk-p1 mode tap multi_queue"), 0);
	cfg.tap = "husk-p1";
	assert_int_equal(tap_open(&cfg, 0, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nqueues, 2);
	tap_close(&t);
	assert_int_equal(sh("ip tuntap del dev husk-p1 mode tap multi_queue"), 0);
}

static int raw_tun(const char *name, short flags)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	return fd;
}

static void expect_handover(int fd, const char *name, int want, const char *why)
{
	struct husk_net_config cfg = { .tap = name, .fd = fd };
	struct tap t;
	char err[256], msg[256];

	err[0] = '\0';
	if (tap_open(&cfg, 1, &t, err, sizeof(err)) != want)
		fail_msg("fd %d (%s, %s): wanted %d, got \"%s\"", fd, name ? name : "-", why ? why : "-", want, err);
	if (want == 0) {
		assert_int_equal(t.fds[0], fd);
		tap_close(&t);
	} else {
		snprintf(msg, sizeof(msg), "--net fd=%d: %s", fd, why);
		assert_string_equal(err, msg);
	}
	assert_int_equal(fcntl(fd, F_GETFD), -1);	/* husk owned it: closed */
}

static void tap_open_takes_a_handed_over_fd(void **state)
{
	(void)state;
	require_netns();
	expect_handover(raw_tun("husk-h0", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), NULL, 0, NULL);
	expect_handover(raw_tun("husk-h1", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), "husk-h1", 0, NULL);
	expect_handover(raw_tun("husk-h2", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), "husk-zz",
			-EINVAL, "the fd is tap husk-h2, not husk-zz");
	expect_handover(raw_tun("husk-h3", IFF_TAP | IFF_NO_PI), NULL, -EINVAL,
			"tap husk-h3 was opened without IFF_VNET_HDR");
	/*
	 * (Not tested: a tap without IFF_NO_PI. The kernel this was written
	 * on reports IFF_NO_PI in TUNGETIFF even when it was not asked for.)
	 */
	expect_handover(raw_tun("husk-h5", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR), NULL, -EINVAL,
			"husk-h5 is a tun (layer 3) device, not a tap");
	/* an fd of /dev/net/tun never attached to any interface */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	char why[128];

	snprintf(why, sizeof(why), "not an attached tap device (TUNGETIFF: %s)", strerror(EBADFD));
	expect_handover(fd, NULL, -EINVAL, why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tap_open_sets_flags_link_and_mtu),
		cmocka_unit_test(tap_open_multi_queue),
		cmocka_unit_test(tap_open_takes_a_handed_over_fd),
		cmocka_unit_test(tap_open_attaches_to_a_persistent_tap),
	};

	return cmocka_run_group_tests(tests, netns_group_setup, NULL);
}
