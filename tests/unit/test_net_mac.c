// SPDX-License-Identifier: MIT
/* MAC derivation and parsing, and tap_open's checks of its arguments (no privileges needed). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/mac.h"
#include "net/tap.h"

static void assert_unicast_local(const uint8_t mac[6])
{
	assert_int_equal(mac[0] & 0x01, 0);	/* not multicast */
	assert_int_equal(mac[0] & 0x02, 0x02);	/* locally administered */
}

static void default_mac_is_stable_and_local(void **state)
{
	uint8_t a[6], b[6];

	(void)state;
	for (unsigned i = 0; i < 1000; i++) {
		char seed[32];

		snprintf(seed, sizeof(seed), "vm-%u", i * 7919u);
		assert_int_equal(net_default_mac(seed, i % 8, a), 0);
		assert_int_equal(net_default_mac(seed, i % 8, b), 0);
		assert_memory_equal(a, b, 6);
		assert_unicast_local(a);
	}
}

static void default_mac_differs_by_seed_and_index(void **state)
{
	uint8_t m[4][6];

	(void)state;
	assert_int_equal(net_default_mac("vm-a", 0, m[0]), 0);
	assert_int_equal(net_default_mac("vm-a", 1, m[1]), 0);
	assert_int_equal(net_default_mac("vm-b", 0, m[2]), 0);
	assert_int_equal(net_default_mac("", 0, m[3]), 0);
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			assert_memory_not_equal(m[i], m[j], 6);
	assert_int_equal(net_default_mac(NULL, 0, m[0]), -EINVAL);
}

/* FNV-1a, written out again here, so that the derivation cannot drift silently */
static void default_mac_is_fnv1a_of_seed_and_index(void **state)
{
	const char *seed = "husk-test";
	uint8_t bytes[64], mac[6];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n = strlen(seed);

	(void)state;
	memcpy(bytes, seed, n);
	bytes[n] = 0;
	bytes[n + 1] = 3;	/* index 3, little endian */
	bytes[n + 2] = bytes[n + 3] = bytes[n + 4] = 0;
	for (size_t i = 0; i < n + 5; i++) {
		h ^= bytes[i];
		h *= 0x100000001b3ULL;
	}
	assert_int_equal(net_default_mac(seed, 3, mac), 0);
	assert_int_equal(mac[0], (uint8_t)((h & 0xfc) | 0x02));
	for (int i = 1; i < 6; i++)
		assert_int_equal(mac[i], (uint8_t)(h >> (8 * i)));
}

static void parse_mac_accepts_unicast(void **state)
{
	uint8_t mac[6];
	char buf[NET_MAC_STRLEN];

	(void)state;
	assert_int_equal(net_parse_mac("52:54:00:12:34:56", mac), 0);
	assert_memory_equal(mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }), 6);
	assert_string_equal(net_format_mac(mac, buf), "52:54:00:12:34:56");
	assert_int_equal(net_parse_mac("AA:bb:Cc:dD:0e:F0", mac), 0);
	assert_memory_equal(mac, ((uint8_t[]){ 0xaa, 0xbb, 0xcc, 0xdd, 0x0e, 0xf0 }), 6);
	assert_string_equal(net_format_mac(mac, buf), "aa:bb:cc:dd:0e:f0");
	/* a universally administered unicast address is fine too */
	assert_int_equal(net_parse_mac("00:16:3e:00:00:01", mac), 0);
}

static void parse_mac_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "52:54:00:12:34", "52:54:00:12:34:56:", "52:54:00:12:34:567",
		"52-54-00-12-34-56", "5:254:00:12:34:56", "52:54:00:12:34:5g",
		" 52:54:00:12:34:5", "52:54:00:12:34:5 ", "525400123456", "52:54:00:12:34:+6",
		"52::54:00:12:34:5", "0x:54:00:12:34:56",
	};
	uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (net_parse_mac(bad[i], mac) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(net_parse_mac(NULL, mac), -EINVAL);
	assert_memory_equal(mac, ((uint8_t[]){ 1, 2, 3, 4, 5, 6 }), 6);
}

static void parse_mac_rejects_multicast_and_zero(void **state)
{
	static const char *const bad[] = {
		"01:00:5e:00:00:01", "33:33:00:00:00:01", "ff:ff:ff:ff:ff:ff",
		"03:00:00:00:00:01", "00:00:00:00:00:00",
	};
	uint8_t mac[6] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (net_parse_mac(bad[i], mac) != -EADDRNOTAVAIL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static struct husk_net_config net_cfg(const char *tap, int fd)
{
	return (struct husk_net_config){ .tap = tap, .fd = fd };
}

static void expect_tap_error(struct husk_net_config cfg, unsigned queues, int want,
			     const char *msg)
{
	struct tap t;
	char err[256] = "";

	assert_int_equal(tap_open(&cfg, queues, &t, err, sizeof(err)), want);
	assert_string_equal(err, msg);
	for (unsigned i = 0; i < HUSK_MAX_QUEUES; i++)
		assert_int_equal(t.fds[i], -1);
}

static void tap_open_checks_its_arguments(void **state)
{
	struct husk_net_config c;

	(void)state;
	expect_tap_error(net_cfg(NULL, -1), 1, -EINVAL, "--net: needs tap=NAME or fd=N");
	expect_tap_error(net_cfg("", -1), 1, -EINVAL, "--net tap=: empty tap name");
	expect_tap_error(net_cfg("abcdefghijklmnop", -1), 1, -ENAMETOOLONG,
			 "--net tap=abcdefghijklmnop: name longer than 15 bytes");
	expect_tap_error(net_cfg("a/b", -1), 1, -EINVAL,
			 "--net tap=a/b: not a valid interface name");
	expect_tap_error(net_cfg("tap%d", -1), 1, -EINVAL,
			 "--net tap=tap%d: not a valid interface name");
	expect_tap_error(net_cfg("tap0", -1), 17, -EINVAL, "--net tap=tap0: queues=17: 1 to 16");
	c = net_cfg("tap0", -1);
	c.queues = 40;
	expect_tap_error(c, 0, -EINVAL, "--net tap=tap0: queues=40: 1 to 16");
	c = net_cfg("tap0", -1);
	c.mtu = 67;
	expect_tap_error(c, 1, -EINVAL, "--net tap=tap0: mtu=67: 68 to 65535");
	c.mtu = 65536;
	expect_tap_error(c, 1, -EINVAL, "--net tap=tap0: mtu=65536: 68 to 65535");
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A handed-over fd must be a tap with a vnet header; husk owns it either way. */
static void tap_open_rejects_a_handed_fd_that_is_not_a_tap(void **state)
{
	char msg[128];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	snprintf(msg, sizeof(msg), "--net fd=%d: not an attached tap device (TUNGETIFF: %s)",
		 p[0], strerror(ENOTTY));
	expect_tap_error(net_cfg(NULL, p[0]), 1, -EINVAL, msg);
	assert_false(fd_is_open(p[0]));
	snprintf(msg, sizeof(msg), "--net fd=%d: a handed-over fd serves one queue pair, not 2",
		 p[1]);
	expect_tap_error(net_cfg(NULL, p[1]), 2, -EINVAL, msg);
	assert_false(fd_is_open(p[1]));
}

static void set_offload_checks_flags(void **state)
{
	struct tap t = { .nqueues = 0 };

	(void)state;
	assert_int_equal(tap_set_offload(&t, TUN_F_CSUM), -EBADF);
	t.nqueues = 1;
	t.fds[0] = -1;
	assert_int_equal(tap_set_offload(&t, 0x1000), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_mac_is_stable_and_local),
		cmocka_unit_test(default_mac_differs_by_seed_and_index),
		cmocka_unit_test(default_mac_is_fnv1a_of_seed_and_index),
		cmocka_unit_test(parse_mac_accepts_unicast),
		cmocka_unit_test(parse_mac_rejects_malformed),
		cmocka_unit_test(parse_mac_rejects_multicast_and_zero),
		cmocka_unit_test(tap_open_checks_its_arguments),
		cmocka_unit_test(tap_open_rejects_a_handed_fd_that_is_not_a_tap),
		cmocka_unit_test(set_offload_checks_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
