// SPDX-License-Identifier: MIT
/*
 * virtio-net's pure parts: the mergeable-RX gather and split rules on
 * synthetic chains and completions, the vnet-header write across segments,
 * and the --net option parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio/virtio_net_rx.h"
#include "vmm/devargs.h"

#define GSO_MAX 65562u

static void test_gather_one_chain_without_merge(void **state)
{
	struct net_rx_buf b[3] = { { 1526, 1 }, { 1526, 1 }, { 1526, 1 } };
	bool full;

	(void)state;
	assert_int_equal(net_rx_gather(b, 3, GSO_MAX, 1, 64, &full), 1);
	assert_true(full);
	assert_int_equal(net_rx_gather(b, 0, GSO_MAX, 1, 64, &full), 0);
	assert_false(full);	/* nothing posted yet: wait for buffers */
}

static void test_gather_until_target(void **state)
{
	struct net_rx_buf b[64];
	bool full;

	(void)state;
	for (unsigned i = 0; i < 64; i++)
		b[i] = (struct net_rx_buf){ .len = 4096, .niov = 1 };
	/* 65562 bytes need 17 chains of 4 KiB */
	assert_int_equal(net_rx_gather(b, 64, GSO_MAX, 64, 64, &full), 17);
	assert_true(full);
	/* only 10 posted: take them all, the read could still grow */
	assert_int_equal(net_rx_gather(b, 10, GSO_MAX, 64, 64, &full), 10);
	assert_false(full);
	/* a frame that fits one buffer (no GSO): one chain */
	assert_int_equal(net_rx_gather(b, 64, 1530, 64, 64, &full), 1);
	assert_true(full);
}

static void test_gather_iov_limit(void **state)
{
	struct net_rx_buf b[8];
	bool full;

	(void)state;
	for (unsigned i = 0; i < 8; i++)
		b[i] = (struct net_rx_buf){ .len = 1000, .niov = 20 };
	/* 3 * 20 segments fit in 64, a fourth chain does not */
	assert_int_equal(net_rx_gather(b, 8, GSO_MAX, 64, 64, &full), 3);
	assert_true(full);
	b[0].niov = 65;
	assert_int_equal(net_rx_gather(b, 8, GSO_MAX, 64, 64, &full), 0);
	/* exactly max_iov segments used: full even with nothing left */
	b[0] = (struct net_rx_buf){ .len = 100, .niov = 64 };
	assert_int_equal(net_rx_gather(b, 1, GSO_MAX, 64, 64, &full), 1);
	assert_true(full);
}

static void test_split(void **state)
{
	uint32_t lens[5] = { 4096, 4096, 4096, 4096, 4096 }, used[5];

	(void)state;
	/* a small frame: one chain, partly filled */
	assert_int_equal(net_rx_split(lens, 5, 60, used), 1);
	assert_int_equal(used[0], 60);
	/* exactly two chains */
	assert_int_equal(net_rx_split(lens, 5, 8192, used), 2);
	assert_int_equal(used[0], 4096);
	assert_int_equal(used[1], 4096);
	/* two and a bit: the rest of the read's chains stay unused */
	assert_int_equal(net_rx_split(lens, 5, 9000, used), 3);
	assert_int_equal(used[2], 9000 - 8192);
	/* more bytes than chains (cannot happen): never past n */
	assert_int_equal(net_rx_split(lens, 2, 100000, used), 2);
	assert_int_equal(used[1], 4096);
	/* uneven chains */
	lens[0] = 12;
	lens[1] = 1;
	assert_int_equal(net_rx_split(lens, 5, 14, used), 3);
	assert_int_equal(used[0], 12);
	assert_int_equal(used[1], 1);
	assert_int_equal(used[2], 1);
	assert_int_equal(net_rx_split(lens, 0, 14, used), 0);
}

static void test_iov_write(void **state)
{
	uint8_t a[11] = { 0 }, b[4] = { 0 };
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	const uint8_t nb[2] = { 3, 0 };

	(void)state;
	/* num_buffers at offset 10, split across two segments */
	assert_int_equal(net_iov_write(iov, 2, 10, nb, 2), 0);
	assert_int_equal(a[10], 3);
	assert_int_equal(b[0], 0);
	b[0] = 9;
	assert_int_equal(net_iov_write(iov, 2, 11, nb, 2), 0);
	assert_int_equal(b[0], 3);
	assert_int_equal(net_iov_write(iov, 2, 14, nb, 2), -ERANGE);
	assert_int_equal(net_iov_write(iov, 1, 10, nb, 2), -ERANGE);
}

static int parse(const char *s, struct husk_net_config *nc, char *err, size_t n)
{
	static char buf[256];

	strcpy(buf, s);
	return devargs_parse_net("--net", buf, nc, err, n);
}

static void test_parse_net(void **state)
{
	struct husk_net_config nc;
	char err[256];

	(void)state;
	assert_int_equal(parse("tap=tap0", &nc, err, sizeof(err)), 0);
	assert_string_equal(nc.tap, "tap0");
	assert_int_equal(nc.fd, -1);
	assert_false(nc.mac_set);
	assert_int_equal(nc.queues, 0);
	assert_int_equal(nc.mtu, 0);

	assert_int_equal(parse("tap=t1,mac=02:00:00:aa:bb:cc,queues=4,mtu=9000,id=lan", &nc, err,
			       sizeof(err)), 0);
	assert_true(nc.mac_set);
	assert_int_equal(nc.mac[0], 2);
	assert_int_equal(nc.mac[5], 0xcc);
	assert_int_equal(nc.queues, 4);
	assert_int_equal(nc.mtu, 9000);
	assert_string_equal(nc.id, "lan");

	assert_int_equal(nc.engine, HUSK_NET_ENGINE_AUTO);
	assert_int_equal(parse("tap=t1,engine=sync", &nc, err, sizeof(err)), 0);
	assert_int_equal(nc.engine, HUSK_NET_ENGINE_SYNC);
	assert_int_equal(parse("tap=t1,engine=uring", &nc, err, sizeof(err)), 0);
	assert_int_equal(nc.engine, HUSK_NET_ENGINE_URING);
	assert_int_equal(parse("tap=t1,engine=aio", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "engine=aio: expected auto, uring or sync"));
	assert_int_equal(parse("fd=7", &nc, err, sizeof(err)), 0);
	assert_int_equal(nc.fd, 7);
	assert_null(nc.tap);

	assert_int_equal(parse("mac=02:00:00:00:00:01", &nc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--net mac=02:00:00:00:00:01: tap=NAME or fd=N is required");
	assert_int_equal(parse("tap=a,mac=01:00:5e:00:00:01", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "multicast"));
	assert_int_equal(parse("tap=a,mac=02:00:00:00:00", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected xx:xx:xx:xx:xx:xx"));
	assert_int_equal(parse("tap=a,queues=0", &nc, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse("tap=a,queues=17", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "queues=17: expected 1 to 16"));
	assert_int_equal(parse("tap=a,mtu=67", &nc, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse("tap=a,mtu=65536", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mtu=65536: expected 68 to 65535"));
	assert_int_equal(parse("tap=a,mtu=65535", &nc, err, sizeof(err)), 0);
	assert_int_equal(parse("tap=0123456789abcdef", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1 to 15 bytes"));
	assert_int_equal(parse("fd=-1", &nc, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse("fd=3,queues=2", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "one queue pair"));
	assert_int_equal(parse("tap=a,colour=red", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown key 'colour'"));
	assert_int_equal(parse("tap0", &nc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected key=value"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gather_one_chain_without_merge),
		cmocka_unit_test(test_gather_until_target),
		cmocka_unit_test(test_gather_iov_limit),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_iov_write),
		cmocka_unit_test(test_parse_net),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
