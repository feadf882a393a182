// SPDX-License-Identifier: MIT
/*
 * Token buckets (core/ratelimit.c) on a made-up clock: no limit never
 * waits; a full bucket lets its size through at once, then the refill rate
 * holds over time (simulated seconds, counted); the wait asked for is the
 * time the missing tokens take; a request bigger than the bucket passes on
 * a full bucket and its debt is paid before the next; one_time_burst is
 * spent first and never comes back; an update starts full buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ratelimit.h"

#define MS 1000000ULL

static void test_no_limit(void **state)
{
	struct husk_rate_limit cfg = { 0 };
	struct rate_limiter rl;

	(void)state;
	rl_init(&rl, &cfg, 0);
	assert_false(rl_active(&rl));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rl_consume(&rl, 1 << 20, 1, 0), 0);
	/* a size without a refill time is no limit either (Firecracker's rule) */
	cfg.ops.size = 10;
	rl_update(&rl, &cfg, 0);
	assert_false(rl_active(&rl));
	rl_destroy(&rl);
}

static void test_ops_rate(void **state)
{
	struct husk_rate_limit cfg = { .ops = { .size = 100, .refill_ms = 1000 } };
	struct rate_limiter rl;
	uint64_t now = 0, w, done = 0;

	(void)state;
	rl_init(&rl, &cfg, 0);
	assert_true(rl_active(&rl));
	for (int i = 0; i < 100; i++)
		assert_int_equal(rl_consume(&rl, 4096, 1, 0), 0);
	w = rl_consume(&rl, 4096, 1, 0);
	assert_in_range(w, 10 * MS, 10 * MS + 1000);	/* one op takes 10 ms to come back */
	assert_true(rl_consume(&rl, 4096, 1, 5 * MS) > 0);
	assert_int_equal(rl_consume(&rl, 4096, 1, 10 * MS), 0);
	/* ten simulated seconds, asking again exactly when told: 100 ops a second */
	now = 10 * MS;
	while (now < 10010 * MS) {
		w = rl_consume(&rl, 4096, 1, now);
		if (w)
			now += w;
		else
			done++;
	}
	assert_in_range(done, 999, 1001);
	rl_destroy(&rl);
}

static void test_bandwidth_and_big_requests(void **state)
{
	struct husk_rate_limit cfg = { .bandwidth = { .size = 1 << 20, .refill_ms = 100 } };
	struct rate_limiter rl;
	uint64_t now = 0, w, bytes = 0;

	(void)state;
	rl_init(&rl, &cfg, 0);
	/* 4 MiB in one request: through on the full bucket, leaving 3 MiB of debt */
	assert_int_equal(rl_consume(&rl, 4 << 20, 1, 0), 0);
	w = rl_consume(&rl, 4096, 1, 0);
	assert_in_range(w, 300 * MS, 301 * MS);		/* the debt and 4 KiB: 300.4 ms */
	assert_int_equal(rl_consume(&rl, 4096, 1, w), 0);
	/* one simulated second of 64 KiB requests: 10 MiB/s */
	now = w;
	while (now < w + 1000 * MS) {
		uint64_t d = rl_consume(&rl, 65536, 1, now);

		if (d)
			now += d;
		else
			bytes += 65536;
	}
	assert_in_range(bytes, (10 << 20) - 65536 * 2, (11 << 20));
	rl_destroy(&rl);
}

static void test_burst_and_update(void **state)
{
	struct husk_rate_limit cfg = { .ops = { .size = 10, .one_time_burst = 50,
						.refill_ms = 1000 } };
	struct rate_limiter rl;
	int n = 0;

	(void)state;
	rl_init(&rl, &cfg, 0);
	while (rl_consume(&rl, 0, 1, 0) == 0)
		n++;
	assert_int_equal(n, 60);	/* the burst, then the bucket */
	/* a second later only the bucket came back */
	n = 0;
	while (rl_consume(&rl, 0, 1, 1000 * MS) == 0)
		n++;
	assert_int_equal(n, 10);
	/* an update: full buckets of the new size at once, the old debt forgotten */
	cfg.ops = (struct husk_token_bucket){ .size = 3, .refill_ms = 1000 };
	rl_update(&rl, &cfg, 1000 * MS);
	n = 0;
	while (rl_consume(&rl, 0, 1, 1000 * MS) == 0)
		n++;
	assert_int_equal(n, 3);
	assert_true(rl.throttled >= 3);
	rl_destroy(&rl);
}

/* Charged afterwards (received frames): peek waits out the debt, the rate holds. */
static void test_peek_and_charge(void **state)
{
	struct husk_rate_limit cfg = { .bandwidth = { .size = 10000, .refill_ms = 10 } };
	struct rate_limiter rl;
	uint64_t now = 0, w, bytes = 0;

	(void)state;
	rl_init(&rl, &cfg, 0);
	assert_int_equal(rl_peek(&rl, 1, 1, 0), 0);
	rl_charge(&rl, 30000, 1, 0);		/* 20000 in debt */
	w = rl_peek(&rl, 1, 1, 0);
	assert_in_range(w, 20 * MS, 21 * MS);
	assert_true(rl_peek(&rl, 1, 1, 19 * MS) > 0);
	assert_int_equal(rl_peek(&rl, 1, 1, 21 * MS), 0);
	/* a simulated second of 1500-byte frames, each charged once peek says go: 1 MB/s */
	now = 21 * MS;
	while (now < 1021 * MS) {
		w = rl_peek(&rl, 1, 1, now);
		if (w) {
			now += w;
		} else {
			rl_charge(&rl, 1500, 1, now);
			bytes += 1500;
		}
	}
	assert_in_range(bytes, 1000000 - 1500, 1000000 + 10000 + 1500);
	rl_destroy(&rl);
}

/* A guest's enormous request on the slowest bucket: a capped wait, asked again, no overflow. */
static void test_huge_debt(void **state)
{
	struct husk_rate_limit cfg = { .bandwidth = { .size = 1, .refill_ms = 3600ULL * 1000 } };
	struct rate_limiter rl;
	uint64_t w;

	(void)state;
	rl_init(&rl, &cfg, 0);
	assert_int_equal(rl_consume(&rl, 1ULL << 45, 1, 0), 0);	/* a full bucket lets it by */
	w = rl_consume(&rl, 1, 1, 0);
	assert_in_range(w, 3600ULL * 1000000000ULL, 3600ULL * 1000000000ULL + 1);
	assert_true(rl_consume(&rl, 1, 1, w) > 0);	/* still in debt an hour later */
	rl_destroy(&rl);
}

static void test_valid(void **state)
{
	struct husk_rate_limit cfg = { .bandwidth = { .size = 1ULL << 40, .refill_ms = 1 } };

	(void)state;
	assert_true(rl_valid(&cfg));
	cfg.bandwidth.size = 1ULL << 60;
	assert_false(rl_valid(&cfg));
	cfg.bandwidth.size = 1;
	cfg.ops.refill_ms = 1ULL << 40;
	assert_false(rl_valid(&cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_limit),
		cmocka_unit_test(test_ops_rate),
		cmocka_unit_test(test_bandwidth_and_big_requests),
		cmocka_unit_test(test_burst_and_update),
		cmocka_unit_test(test_peek_and_charge),
		cmocka_unit_test(test_huge_debt),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
