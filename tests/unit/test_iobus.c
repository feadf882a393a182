// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log.h"
#include "devices/iobus.h"
#include "unit_helpers.h"

/* A fake device: reads return its id in every byte, writes are recorded. */
struct fake_dev {
	uint8_t id;
	atomic_int reads;
	atomic_int writes;
	uint64_t last_offset;
	uint32_t last_len;
	uint8_t last_data[8];
};

static void fake_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct fake_dev *d = opaque;

	atomic_fetch_add(&d->reads, 1);
	d->last_offset = offset;
	d->last_len = len;
	memset(data, d->id, len);
}

static void fake_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct fake_dev *d = opaque;

	atomic_fetch_add(&d->writes, 1);
	d->last_offset = offset;
	d->last_len = len;
	memcpy(d->last_data, data, len < 8 ? len : 8);
}

static const struct io_region_ops fake_ops = { .read = fake_read, .write = fake_write };

static void test_register_and_dispatch(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct fake_dev a = { .id = 0xa1 }, b = { .id = 0xb2 };
	uint8_t buf[4], wr[2] = { 0x12, 0x34 };

	(void)state;
	assert_non_null(bus);
	assert_int_equal(iobus_register(bus, 0x3f8, 8, &fake_ops, &a, "a"), 0);
	assert_int_equal(iobus_register(bus, 0x70, 2, &fake_ops, &b, "b"), 0);

	assert_true(iobus_read(bus, 0x3fc, buf, 2));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.last_offset, 4);
	assert_int_equal(a.last_len, 2);
	assert_int_equal(buf[0], 0xa1);
	assert_int_equal(buf[1], 0xa1);

	assert_true(iobus_write(bus, 0x70, wr, 2));
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.last_offset, 0);
	assert_int_equal(b.last_len, 2);
	assert_memory_equal(b.last_data, wr, 2);
	assert_int_equal(a.writes, 0);

	/* first and last byte of a range */
	assert_true(iobus_read(bus, 0x3f8, buf, 1));
	assert_int_equal(a.last_offset, 0);
	assert_true(iobus_read(bus, 0x3ff, buf, 1));
	assert_int_equal(a.last_offset, 7);
	iobus_destroy(bus);
}

static void test_register_rejects(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct fake_dev a = { .id = 1 };

	(void)state;
	assert_int_equal(iobus_register(bus, 0x100, 8, &fake_ops, &a, "a"), 0);
	/* overlaps: same, inside, enclosing, touching either end by one byte */
	assert_int_equal(iobus_register(bus, 0x100, 8, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(iobus_register(bus, 0x102, 2, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(iobus_register(bus, 0x80, 0x200, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(iobus_register(bus, 0x107, 1, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(iobus_register(bus, 0xf8, 9, &fake_ops, &a, "x"), -EEXIST);
	/* adjacent ranges are fine */
	assert_int_equal(iobus_register(bus, 0xf8, 8, &fake_ops, &a, "below"), 0);
	assert_int_equal(iobus_register(bus, 0x108, 8, &fake_ops, &a, "above"), 0);
	/* empty and wrapping ranges, missing ops */
	assert_int_equal(iobus_register(bus, 0x200, 0, &fake_ops, &a, "x"), -EINVAL);
	assert_int_equal(iobus_register(bus, UINT64_MAX, 2, &fake_ops, &a, "x"), -EINVAL);
	assert_int_equal(iobus_register(bus, 2, UINT64_MAX, &fake_ops, &a, "x"), -EINVAL);
	assert_int_equal(iobus_register(bus, 0x300, 1, NULL, &a, "x"), -EINVAL);
	/* the very top of the address space is a valid range */
	assert_int_equal(iobus_register(bus, UINT64_MAX, 1, &fake_ops, &a, "top"), 0);
	assert_int_equal(iobus_register(bus, UINT64_MAX - 0xf, 0xf, &fake_ops, &a, "top2"), 0);
	assert_true(iobus_read(bus, UINT64_MAX, (uint8_t[1]){ 0 }, 1));
	iobus_destroy(bus);
}

static void test_many_ranges_sorted(void **state)
{
	enum { N = 200 };
	struct io_bus *bus = iobus_create("mmio");
	static struct fake_dev devs[N];
	uint8_t buf[8];

	(void)state;
	/* register in a scrambled order; every range must route to its owner */
	for (unsigned i = 0; i < N; i++) {
		unsigned k = (i * 73) % N;

		devs[k].id = (uint8_t)k;
		assert_int_equal(iobus_register(bus, 0x10000 + k * 0x100, 0x80,
						&fake_ops, &devs[k], "dev"), 0);
	}
	for (unsigned k = 0; k < N; k++) {
		assert_true(iobus_read(bus, 0x10000 + k * 0x100 + 0x7c, buf, 4));
		assert_int_equal(buf[0], (uint8_t)k);
		assert_int_equal(devs[k].last_offset, 0x7c);
		/* the gap after each range is unclaimed */
		assert_false(iobus_read(bus, 0x10000 + k * 0x100 + 0x80, buf, 1));
		assert_int_equal(buf[0], 0xff);
	}
	assert_false(iobus_read(bus, 0xffff, buf, 1));
	iobus_destroy(bus);
}

static void test_unregister(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct fake_dev a = { .id = 1 }, b = { .id = 2 };
	uint8_t buf[1];

	(void)state;
	assert_int_equal(iobus_register(bus, 0x60, 1, &fake_ops, &a, "a"), 0);
	assert_int_equal(iobus_register(bus, 0x64, 1, &fake_ops, &b, "b"), 0);
	assert_int_equal(iobus_unregister(bus, 0x61), -ENOENT);
	assert_int_equal(iobus_unregister(bus, 0x60), 0);
	assert_int_equal(iobus_unregister(bus, 0x60), -ENOENT);
	assert_false(iobus_read(bus, 0x60, buf, 1));
	assert_int_equal(a.reads, 0);
	assert_true(iobus_read(bus, 0x64, buf, 1));
	assert_int_equal(buf[0], 2);
	/* the freed slot can be taken again */
	assert_int_equal(iobus_register(bus, 0x60, 1, &fake_ops, &b, "b2"), 0);
	assert_true(iobus_read(bus, 0x60, buf, 1));
	assert_int_equal(buf[0], 2);
	assert_int_equal(iobus_unregister(bus, 0x60), 0);
	assert_int_equal(iobus_unregister(bus, 0x64), 0);
	assert_false(iobus_read(bus, 0x64, buf, 1));
	assert_int_equal(iobus_unregister(bus, 0x64), -ENOENT);
	iobus_destroy(bus);
}

static void test_unclaimed_and_straddling(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct fake_dev a = { .id = 0x11 };
	uint8_t buf[8], wr[4] = { 1, 2, 3, 4 };

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_false(iobus_read(bus, 0x80, buf, 4));
	assert_int_equal(pio_in(bus, 0x80, 4), 0xffffffff);
	assert_false(iobus_write(bus, 0x80, wr, 4));

	assert_int_equal(iobus_register(bus, 0x100, 8, &fake_ops, &a, "a"), 0);
	/* straddling the end or the start of a range is unclaimed */
	memset(buf, 0, sizeof(buf));
	assert_false(iobus_read(bus, 0x106, buf, 4));
	for (int i = 0; i < 4; i++)
		assert_int_equal(buf[i], 0xff);
	assert_false(iobus_write(bus, 0x107, wr, 2));
	assert_false(iobus_read(bus, 0xfe, buf, 4));
	assert_int_equal(a.reads, 0);
	assert_int_equal(a.writes, 0);
	/* exactly the whole range is claimed */
	assert_true(iobus_read(bus, 0x100, buf, 8));
	assert_int_equal(a.last_len, 8);
	/* an access wrapping the address space is unclaimed, not a crash */
	assert_false(iobus_read(bus, UINT64_MAX - 1, buf, 4));
	/* a zero-length access claims nothing */
	assert_false(iobus_read(bus, 0x100, buf, 0));
	iobus_destroy(bus);
}

static void test_null_handlers(void **state)
{
	static const struct io_region_ops no_ops = { 0 };
	struct io_bus *bus = iobus_create("pio");
	uint8_t wr = 5;

	(void)state;
	assert_int_equal(iobus_register(bus, 0x500, 4, &no_ops, NULL, "sink"), 0);
	assert_int_equal(pio_in(bus, 0x500, 4), 0xffffffff);
	assert_true(iobus_write(bus, 0x500, &wr, 1));
	iobus_destroy(bus);
}

static void test_unclaimed_logged_once(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct stderr_capture cap;
	enum log_level saved = log_get_level();
	uint8_t buf[4];
	char *text;

	(void)state;
	log_set_level(LOG_DEBUG);
	stderr_capture_begin(&cap);
	for (int i = 0; i < 5; i++) {
		iobus_read(bus, 0x80, buf, 1);
		iobus_write(bus, 0x80, buf, 1);
	}
	iobus_read(bus, 0x81, buf, 2);
	/* far more distinct addresses than the bounded set remembers */
	for (int i = 0; i < 500; i++)
		iobus_read(bus, 0x1000 + (uint64_t)i, buf, 1);
	for (int i = 0; i < 500; i++)
		iobus_read(bus, 0x1000 + (uint64_t)i, buf, 1);
	text = stderr_capture_end(&cap);
	log_set_level(saved);

	assert_int_equal(count_substr(text, "at 0x80\n"), 1);
	assert_int_equal(count_substr(text, "at 0x81\n"), 1);
	assert_non_null(strstr(text, "husk: pio: unclaimed 1-byte read at 0x80"));
	/* bounded: at most the set size plus one "no longer logging" line */
	assert_true(count_substr(text, "husk: ") <= 65);
	assert_int_equal(count_substr(text, "no longer logging"), 1);
	free(text);

	/* at info level nothing is logged at all */
	stderr_capture_begin(&cap);
	iobus_read(bus, 0x9999, buf, 1);
	text = stderr_capture_end(&cap);
	assert_string_equal(text, "");
	free(text);
	iobus_destroy(bus);
}

/* Thread-safe variant: only counts, fills with the id. */
static void count_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct fake_dev *d = opaque;

	(void)offset;
	atomic_fetch_add(&d->reads, 1);
	memset(data, d->id, len);
}

static const struct io_region_ops count_ops = { .read = count_read };

/* Readers dispatch to a stable range while a writer churns the table. */
struct churn {
	struct io_bus *bus;
	struct fake_dev *stable;
	atomic_bool stop;
	atomic_int misses;
	atomic_long lookups;
};

static void *reader_thread(void *arg)
{
	struct churn *c = arg;
	uint8_t buf[4];

	while (!atomic_load(&c->stop)) {
		if (!iobus_read(c->bus, 0x8004, buf, 4) || buf[0] != c->stable->id)
			atomic_fetch_add(&c->misses, 1);
		/* churned addresses: either claimed or all-ones, never garbage */
		iobus_read(c->bus, 0x100 + (uint64_t)(atomic_load(&c->lookups) % 64) * 16, buf, 1);
		if (buf[0] != 0x77 && buf[0] != 0xff)
			atomic_fetch_add(&c->misses, 1);
		atomic_fetch_add(&c->lookups, 1);
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	enum { READERS = 4, ROUNDS = 300 };
	struct io_bus *bus = iobus_create("mmio");
	struct fake_dev stable = { .id = 0x5a }, churned = { .id = 0x77 };
	struct churn c = { .bus = bus, .stable = &stable };
	pthread_t th[READERS];

	(void)state;
	assert_int_equal(iobus_register(bus, 0x8000, 0x10, &count_ops, &stable, "stable"), 0);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader_thread, &c), 0);
	for (int r = 0; r < ROUNDS; r++) {
		for (uint64_t k = 0; k < 64; k++)
			assert_int_equal(iobus_register(bus, 0x100 + k * 16, 8, &count_ops,
							&churned, "churn"), 0);
		for (uint64_t k = 0; k < 64; k++)
			assert_int_equal(iobus_unregister(bus, 0x100 + k * 16), 0);
	}
	atomic_store(&c.stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&c.misses), 0);
	assert_true(atomic_load(&c.lookups) > 0);
	assert_true(atomic_load(&stable.reads) > 0);
	/* 38400 replaced tables, but only a few wait to be freed (IO_RETIRED_MAX) */
	assert_true(iobus_retired_tables(bus) <= 16);
	iobus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_dispatch),
		cmocka_unit_test(test_register_rejects),
		cmocka_unit_test(test_many_ranges_sorted),
		cmocka_unit_test(test_unregister),
		cmocka_unit_test(test_unclaimed_and_straddling),
		cmocka_unit_test(test_null_handlers),
		cmocka_unit_test(test_unclaimed_logged_once),
		cmocka_unit_test(test_concurrent_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
