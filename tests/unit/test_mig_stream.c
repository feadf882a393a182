// SPDX-License-Identifier: MIT
/*
 * The live-migration stream (migration/mig_stream.c, mig_url.c): the
 * hello, record headers and their per-type limits, PAGES/ZERO ranges
 * against guest RAM, GO, the order the destination takes records in,
 * I/O over a socketpair (a peer that goes away, a write deadline), and
 * URL parsing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "migration/mig_stream.h"
#include "migration/mig_url.h"
#include "state/snapfile.h"

#define MEM (16u << 20)

static void test_hello(void **state)
{
	uint8_t b[MIG_HELLO_LEN];
	uint32_t flags = 7;
	char why[128];

	(void)state;
	mig_hello_encode(b, 0);
	assert_int_equal(mig_hello_check(b, &flags, why, sizeof(why)), 0);
	assert_int_equal(flags, 0);
	mig_hello_encode(b, MIG_HELLO_REPLICATION);
	assert_int_equal(mig_hello_check(b, &flags, why, sizeof(why)), 0);
	assert_int_equal(flags, MIG_HELLO_REPLICATION);
	b[8] = 2;
	assert_int_equal(mig_hello_check(b, &flags, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "stream version 2, this husk speaks version 1"));
	mig_hello_encode(b, 0);
	b[12] = 4;
	assert_int_equal(mig_hello_check(b, &flags, why, sizeof(why)), -EINVAL);
	mig_hello_encode(b, 0);
	b[0] = 'X';
	assert_int_equal(mig_hello_check(b, &flags, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a husk migration stream");
}

static int decode(uint32_t type, uint64_t len, uint64_t mem)
{
	uint8_t b[MIG_REC_LEN];
	struct mig_rec r;
	char why[128];
	int ret;

	mig_rec_encode(b, type, 0x1234, len);
	ret = mig_rec_decode(b, mem, &r, why, sizeof(why));
	if (!ret) {
		assert_int_equal(r.type, type);
		assert_int_equal(r.crc, 0x1234);
		assert_int_equal(r.len, len);
	}
	return ret;
}

static void test_record_limits(void **state)
{
	(void)state;
	assert_int_equal(decode(MIG_REC_STATE_PRE, SNAP_MIN_LEN, 0), 0);
	assert_int_equal(decode(MIG_REC_STATE, SNAP_MAX_FILE, MEM), 0);
	assert_int_equal(decode(MIG_REC_STATE, SNAP_MAX_FILE + 1ull, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_STATE, 3, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_PAGES, MIG_PAGES_HDR + MIG_PAGE, MEM), 0);
	assert_int_equal(decode(MIG_REC_PAGES, MIG_PAGES_HDR + MIG_MAX_RUN * MIG_PAGE, MEM), 0);
	assert_int_equal(decode(MIG_REC_PAGES, MIG_PAGES_HDR + (MIG_MAX_RUN + 1) * MIG_PAGE, MEM),
			 -EINVAL);
	assert_int_equal(decode(MIG_REC_PAGES, UINT64_MAX, MEM), -EINVAL);
	/* pages before the VM's size is known */
	assert_int_equal(decode(MIG_REC_PAGES, MIG_PAGES_HDR + MIG_PAGE, 0), -EINVAL);
	assert_int_equal(decode(MIG_REC_ZERO, MIG_PAGES_HDR, MEM), 0);
	assert_int_equal(decode(MIG_REC_ZERO, MIG_PAGES_HDR + 1, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_END, 0, MEM), 0);
	assert_int_equal(decode(MIG_REC_END, 1, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_READY, 0, 0), 0);
	assert_int_equal(decode(MIG_REC_ERROR, MIG_MAX_MSG, 0), 0);
	assert_int_equal(decode(MIG_REC_ERROR, MIG_MAX_MSG + 1, 0), -EINVAL);
	assert_int_equal(decode(MIG_REC_GO, MIG_GO_LEN, 0), 0);
	assert_int_equal(decode(MIG_REC_GO, MIG_GO_LEN - 1, 0), -EINVAL);
	assert_int_equal(decode(MIG_REC_DISK, MIG_DISK_HDR, MEM), 0);
	assert_int_equal(decode(MIG_REC_DISK, MIG_DISK_HDR + MIG_MAX_DISK_DATA, MEM), 0);
	assert_int_equal(decode(MIG_REC_DISK, MIG_DISK_HDR + MIG_MAX_DISK_DATA + 1, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_DISK, MIG_DISK_HDR - 1, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_CKPT, 8, MEM), 0);
	assert_int_equal(decode(MIG_REC_ACK, 9, 0), -EINVAL);
	assert_int_equal(decode(MIG_REC_HEARTBEAT, 0, MEM), 0);
	assert_int_equal(decode(MIG_REC_BYE, 1, MEM), -EINVAL);
	/* DISCARD: exactly one bit a page of guest RAM, and only once RAM is known */
	assert_int_equal(decode(MIG_REC_DISCARD, MEM / MIG_PAGE / 8, MEM), 0);
	assert_int_equal(decode(MIG_REC_DISCARD, MEM / MIG_PAGE / 8 + 8, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_DISCARD, 8, 0), -EINVAL);
	assert_int_equal(decode(MIG_REC_REQ, 8, 0), 0);
	assert_int_equal(decode(MIG_REC_REQ, 16, 0), -EINVAL);
	assert_int_equal(decode(MIG_REC_AUTH, 32, 0), 0);
	assert_int_equal(decode(MIG_REC_AUTH, 65, 0), -EINVAL);
	assert_int_equal(decode(0, 0, MEM), -EINVAL);
	assert_int_equal(decode(MIG_REC_MAX + 1, 0, MEM), -EINVAL);
}

static int pages(uint32_t type, uint64_t off, uint64_t n, uint64_t len)
{
	uint8_t b[MIG_PAGES_HDR];
	uint64_t o, c;
	char why[160];
	int ret;

	mig_pages_encode(b, type, off, n);
	ret = mig_pages_decode(type, b, len, MEM, &o, &c, why, sizeof(why));
	if (!ret) {
		assert_int_equal(o, off);
		assert_int_equal(c, n);
	}
	return ret;
}

static void test_page_ranges(void **state)
{
	uint64_t last = MEM - MIG_PAGE;

	(void)state;
	assert_int_equal(pages(MIG_REC_PAGES, 0, 1, MIG_PAGES_HDR + MIG_PAGE), 0);
	assert_int_equal(pages(MIG_REC_PAGES, last, 1, MIG_PAGES_HDR + MIG_PAGE), 0);
	assert_int_equal(pages(MIG_REC_PAGES, last, 2, MIG_PAGES_HDR + 2 * MIG_PAGE), -EINVAL);
	assert_int_equal(pages(MIG_REC_PAGES, MEM, 1, MIG_PAGES_HDR + MIG_PAGE), -EINVAL);
	assert_int_equal(pages(MIG_REC_PAGES, 100, 1, MIG_PAGES_HDR + MIG_PAGE), -EINVAL);
	/* the count must match the record's length */
	assert_int_equal(pages(MIG_REC_PAGES, 0, 2, MIG_PAGES_HDR + MIG_PAGE), -EINVAL);
	assert_int_equal(pages(MIG_REC_PAGES, 0, 0, MIG_PAGES_HDR), -EINVAL);
	assert_int_equal(pages(MIG_REC_ZERO, 0, MEM / MIG_PAGE, MIG_PAGES_HDR), 0);
	assert_int_equal(pages(MIG_REC_ZERO, MIG_PAGE, MEM / MIG_PAGE, MIG_PAGES_HDR), -EINVAL);
	assert_int_equal(pages(MIG_REC_ZERO, 0, 0, MIG_PAGES_HDR), -EINVAL);
	/* an offset and count whose product wraps */
	assert_int_equal(pages(MIG_REC_ZERO, MIG_PAGE, UINT64_MAX / MIG_PAGE + 2, MIG_PAGES_HDR),
			 -EINVAL);
	assert_int_equal(pages(MIG_REC_ZERO, UINT64_MAX & ~(uint64_t)4095, 1, MIG_PAGES_HDR),
			 -EINVAL);
}

static void test_go(void **state)
{
	struct mig_go g = { .flags = MIG_GO_RESUME, .rounds = 4, .downtime_ms = 12,
			    .total_ms = 345, .bytes = 1ull << 33 }, h;
	uint8_t b[MIG_GO_LEN];
	char why[64];

	(void)state;
	mig_go_encode(b, &g);
	assert_int_equal(mig_go_decode(b, sizeof(b), &h, why, sizeof(why)), 0);
	assert_memory_equal(&g, &h, sizeof(g));
	assert_int_equal(mig_go_decode(b, sizeof(b) - 1, &h, why, sizeof(why)), -EINVAL);
	b[0] = MIG_GO_RESUME | MIG_GO_POSTCOPY;
	assert_int_equal(mig_go_decode(b, sizeof(b), &h, why, sizeof(why)), 0);
	b[0] = 4;
	assert_int_equal(mig_go_decode(b, sizeof(b), &h, why, sizeof(why)), -EINVAL);
}

static int disk(uint32_t flags, uint64_t off, uint64_t len, uint64_t reclen)
{
	struct mig_disk d = { .disk = 1, .flags = flags, .offset = off, .len = len }, e;
	uint8_t b[MIG_DISK_HDR];
	char why[160];
	int ret;

	mig_disk_encode(b, &d);
	ret = mig_disk_decode(b, reclen, &e, why, sizeof(why));
	if (!ret)
		assert_memory_equal(&d, &e, sizeof(d));
	return ret;
}

static void test_disk(void **state)
{
	(void)state;
	assert_int_equal(disk(0, 512, 4096, MIG_DISK_HDR + 4096), 0);
	assert_int_equal(disk(MIG_DISK_ZERO, 0, 1ull << 40, MIG_DISK_HDR), 0);
	/* data length must match; zero ranges carry none */
	assert_int_equal(disk(0, 0, 4096, MIG_DISK_HDR + 512), -EINVAL);
	assert_int_equal(disk(MIG_DISK_ZERO, 0, 4096, MIG_DISK_HDR + 4096), -EINVAL);
	/* sector-aligned, not empty, no wrap, known flags */
	assert_int_equal(disk(0, 100, 512, MIG_DISK_HDR + 512), -EINVAL);
	assert_int_equal(disk(0, 0, 100, MIG_DISK_HDR + 100), -EINVAL);
	assert_int_equal(disk(MIG_DISK_ZERO, 0, 0, MIG_DISK_HDR), -EINVAL);
	assert_int_equal(disk(MIG_DISK_ZERO, UINT64_MAX - 511, 1024, MIG_DISK_HDR), -EINVAL);
	assert_int_equal(disk(2, 0, 512, MIG_DISK_HDR + 512), -EINVAL);
}

static void test_order_replication(void **state)
{
	static const uint32_t good[] = {
		MIG_REC_STATE_PRE, MIG_REC_DISK, MIG_REC_PAGES, MIG_REC_STATE, MIG_REC_END,
		MIG_REC_HEARTBEAT, MIG_REC_CKPT, MIG_REC_PAGES, MIG_REC_DISK, MIG_REC_ZERO,
		MIG_REC_STATE, MIG_REC_END, MIG_REC_CKPT, MIG_REC_STATE, MIG_REC_END,
		MIG_REC_HEARTBEAT, MIG_REC_BYE,
	};
	struct mig_order o = { .replication = true };
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(mig_order_check(&o, good[i], why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_HEARTBEAT, why, sizeof(why)), -EPROTO);

	o = (struct mig_order){ .replication = true };
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE_PRE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_CKPT, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_END, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "record PAGES outside a checkpoint");
	assert_int_equal(mig_order_check(&o, MIG_REC_ACK, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_CKPT, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_HEARTBEAT, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_BYE, why, sizeof(why)), -EPROTO);

	/* post-copy: DISCARD after the state, instead of END; nothing after it */
	o = (struct mig_order){ 0 };
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE_PRE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_DISCARD, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_DISCARD, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_END, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_REQ, why, sizeof(why)), -EPROTO);

	/* a migration takes none of replication's records */
	o = (struct mig_order){ 0 };
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE_PRE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_DISK, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "record DISK in a migration");
	assert_int_equal(mig_order_check(&o, MIG_REC_HEARTBEAT, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_BYE, why, sizeof(why)), -EPROTO);
}

static void test_order(void **state)
{
	static const uint32_t good[] = { MIG_REC_STATE_PRE, MIG_REC_PAGES, MIG_REC_ZERO,
					 MIG_REC_PAGES, MIG_REC_STATE, MIG_REC_END };
	struct mig_order o = { 0 };
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(mig_order_check(&o, good[i], why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "record PAGES after END");
	assert_int_equal(mig_order_check(&o, MIG_REC_CKPT, why, sizeof(why)), -EPROTO);

	memset(&o, 0, sizeof(o));
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "record PAGES before the VM's configuration");
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE_PRE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE_PRE, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_END, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "record END before the VM's state");
	assert_int_equal(mig_order_check(&o, MIG_REC_GO, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_READY, why, sizeof(why)), -EPROTO);
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE, why, sizeof(why)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_ZERO, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "record ZERO after the VM's state");
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE, why, sizeof(why)), -EPROTO);
}


static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_io(void **state)
{
	uint8_t payload[100], h[MIG_REC_LEN], back[100];
	static uint8_t big[4 << 20];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	struct mig_rec r;
	char why[128];
	uint64_t t0;
	int sv[2];

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(mig_send(sv[0], MIG_REC_ERROR, payload, sizeof(payload), 0), 0);
	assert_int_equal(mig_recv_rec(sv[1], 0, &r, why, sizeof(why)), 0);
	assert_int_equal(r.type, MIG_REC_ERROR);
	assert_int_equal(r.len, sizeof(payload));
	assert_int_equal(mig_read_all(sv[1], back, sizeof(back)), 0);
	assert_memory_equal(back, payload, sizeof(back));
	/* a write nobody reads gives up at its deadline */
	t0 = mono_ms();
	assert_int_equal(mig_write_all(sv[0], &iov, 1, t0 + 200), -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 190);
	/* the peer goes away: reads and writes say so */
	close(sv[1]);
	assert_int_equal(mig_send(sv[0], MIG_REC_END, NULL, 0, 0), -EPIPE);
	close(sv[0]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], h, 5), 5);
	close(sv[0]);
	assert_int_equal(mig_recv_rec(sv[1], 0, &r, why, sizeof(why)), -EPIPE);
	assert_non_null(strstr(why, "the stream was cut"));
	close(sv[1]);
}

static void test_url(void **state)
{
	struct mig_url u;
	char err[256];

	(void)state;
	assert_int_equal(mig_url_parse("unix:/run/x.sock", &u, err, sizeof(err)), 0);
	assert_false(u.tcp);
	assert_string_equal(u.path, "/run/x.sock");
	assert_int_equal(mig_url_parse("tcp:127.0.0.1:4444", &u, err, sizeof(err)), 0);
	assert_true(u.tcp);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "4444");
	assert_int_equal(mig_url_parse("tcp:[::1]:80", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "80");
	assert_int_equal(mig_url_parse("tcp::80", &u, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a host is required"));
	assert_int_equal(mig_url_parse("tcp:host", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("tcp:host:0", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("tcp:host:65536", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("tcp:host:80x", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("tcp:[::1:80", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("unix:", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse(NULL, &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_url_parse("http://x", &u, err, sizeof(err)), -EINVAL);
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp));
		memcpy(longp, "unix:", 5);
		longp[sizeof(longp) - 1] = 0;
		assert_int_equal(mig_url_parse(longp, &u, err, sizeof(err)), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_record_limits),
		cmocka_unit_test(test_page_ranges),
		cmocka_unit_test(test_go),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_disk),
		cmocka_unit_test(test_order_replication),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
