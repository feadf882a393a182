// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "unit_helpers.h"

struct fixture {
	struct io_bus *bus;
	struct rtc *rtc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bus = iobus_create("pio");
	f->rtc = rtc_create(f->bus);
	assert_non_null(f->rtc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rtc_destroy(f->rtc);
	iobus_destroy(f->bus);
	free(f);
	return 0;
}

static uint8_t cmos_read(struct fixture *f, uint8_t reg)
{
	outb(f->bus, 0x70, reg);
	return inb(f->bus, 0x71);
}

static void cmos_write(struct fixture *f, uint8_t reg, uint8_t v)
{
	outb(f->bus, 0x70, reg);
	outb(f->bus, 0x71, v);
}

static unsigned from_bcd(uint8_t v)
{
	assert_true((v & 0x0f) <= 9);
	assert_true((v >> 4) <= 9);
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Read the clock as Linux does: until the seconds are stable. */
static time_t read_rtc_time(struct fixture *f, bool bcd, struct tm *out)
{
	unsigned (*dec)(uint8_t) = bcd ? from_bcd : NULL;
	uint8_t raw[8], sec2;
	struct tm tm = { 0 };

	do {
		raw[0] = cmos_read(f, 0x00);
		raw[1] = cmos_read(f, 0x02);
		raw[2] = cmos_read(f, 0x04);
		raw[3] = cmos_read(f, 0x06);
		raw[4] = cmos_read(f, 0x07);
		raw[5] = cmos_read(f, 0x08);
		raw[6] = cmos_read(f, 0x09);
		raw[7] = cmos_read(f, 0x32);
		sec2 = cmos_read(f, 0x00);
	} while (sec2 != raw[0]);
	for (int i = 0; i < 8; i++)
		raw[i] = dec ? (uint8_t)dec(raw[i]) : raw[i];
	tm.tm_sec = raw[0];
	tm.tm_min = raw[1];
	tm.tm_hour = raw[2];
	tm.tm_wday = raw[3] - 1;
	tm.tm_mday = raw[4];
	tm.tm_mon = raw[5] - 1;
	tm.tm_year = raw[7] * 100 + raw[6] - 1900;
	if (out)
		*out = tm;
	return timegm(&tm);
}

static void assert_close_to_now(time_t t)
{
	time_t now = time(NULL);

	assert_true(t <= now + 1);
	assert_true(t >= now - 2);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cmos_read(f, 0x0a), 0x26);	/* UIP clear, sane divider */
	assert_int_equal(cmos_read(f, 0x0b), 0x02);	/* 24-hour, BCD */
	assert_int_equal(cmos_read(f, 0x0c), 0x00);
	assert_int_equal(cmos_read(f, 0x0d), 0x80);	/* VRT: valid */
}

static void test_bcd_time_matches_host(void **state)
{
	struct fixture *f = *state;
	struct tm tm, host;
	time_t t = read_rtc_time(f, true, &tm);

	assert_close_to_now(t);
	/* the weekday agrees with the date */
	gmtime_r(&t, &host);
	assert_int_equal(tm.tm_wday, host.tm_wday);
	assert_true(tm.tm_year + 1900 >= 2024);
}

static void test_binary_mode(void **state)
{
	struct fixture *f = *state;
	struct tm tm;
	time_t t;

	cmos_write(f, 0x0b, 0x02 | 0x04);	/* DM: binary */
	assert_int_equal(cmos_read(f, 0x0b), 0x06);
	t = read_rtc_time(f, false, &tm);
	assert_close_to_now(t);
	assert_true(cmos_read(f, 0x09) < 100);
	assert_int_equal(cmos_read(f, 0x32), 20);
	/* back to BCD: century 0x20 */
	cmos_write(f, 0x0b, 0x02);
	assert_int_equal(cmos_read(f, 0x32), 0x20);
}

static void test_12_hour_mode(void **state)
{
	struct fixture *f = *state;
	time_t now;
	struct tm host;
	uint8_t h;
	unsigned h12;

	cmos_write(f, 0x0b, 0x00);		/* 12-hour, BCD */
	do {
		now = time(NULL);
		h = cmos_read(f, 0x04);
	} while (time(NULL) != now);
	gmtime_r(&now, &host);
	h12 = host.tm_hour % 12 ? (unsigned)host.tm_hour % 12 : 12;
	assert_int_equal(from_bcd(h & 0x7f), h12);
	assert_int_equal(!!(h & 0x80), host.tm_hour >= 12);
}

static void test_clock_writes_ignored(void **state)
{
	struct fixture *f = *state;

	cmos_write(f, 0x00, 0x99);
	cmos_write(f, 0x09, 0x00);
	cmos_write(f, 0x32, 0x19);
	assert_close_to_now(read_rtc_time(f, true, NULL));
	/* read-only status registers stay */
	cmos_write(f, 0x0c, 0xff);
	cmos_write(f, 0x0d, 0x00);
	assert_int_equal(cmos_read(f, 0x0c), 0x00);
	assert_int_equal(cmos_read(f, 0x0d), 0x80);
	/* status A keeps its writable bits, never UIP */
	cmos_write(f, 0x0a, 0xff);
	assert_int_equal(cmos_read(f, 0x0a), 0x7f);
}

static void test_nmi_bit_and_index(void **state)
{
	struct fixture *f = *state;

	/* bit 7 of the index disables NMIs: kept, and not part of the index */
	outb(f->bus, 0x70, 0x80 | 0x0e);
	assert_int_equal(inb(f->bus, 0x70), 0x8e);
	outb(f->bus, 0x71, 0x5a);
	outb(f->bus, 0x70, 0x0e);
	assert_int_equal(inb(f->bus, 0x70), 0x0e);
	assert_int_equal(inb(f->bus, 0x71), 0x5a);
	outb(f->bus, 0x70, 0x8d);
	assert_int_equal(inb(f->bus, 0x71), 0x80);
	/* a 16-bit write is index then data */
	pio_out(f->bus, 0x70, 0xa540, 2);
	assert_int_equal(cmos_read(f, 0x40), 0xa5);
	/* and a 16-bit read is index then data */
	outb(f->bus, 0x70, 0x40);
	assert_int_equal(pio_in(f->bus, 0x70, 2), 0xa540);
}

static void test_scratch_ram(void **state)
{
	struct fixture *f = *state;

	for (unsigned r = 0x0e; r < 0x80; r++)
		if (r != 0x32)
			cmos_write(f, (uint8_t)r, (uint8_t)(r * 7 + 3));
	/* alarm registers are RAM too */
	cmos_write(f, 0x01, 0x11);
	cmos_write(f, 0x03, 0x22);
	cmos_write(f, 0x05, 0x33);
	for (unsigned r = 0x0e; r < 0x80; r++)
		if (r != 0x32)
			assert_int_equal(cmos_read(f, (uint8_t)r), (uint8_t)(r * 7 + 3));
	assert_int_equal(cmos_read(f, 0x01), 0x11);
	assert_int_equal(cmos_read(f, 0x03), 0x22);
	assert_int_equal(cmos_read(f, 0x05), 0x33);
	/* indices wrap at 128: 0xff is 0x7f with NMIs off */
	cmos_write(f, 0xff, 0x42);
	assert_int_equal(cmos_read(f, 0x7f), 0x42);
}

static void test_only_0x70_0x71(void **state)
{
	struct fixture *f = *state;
	uint8_t b[4];

	assert_false(iobus_read(f->bus, 0x72, b, 1));
	assert_false(iobus_read(f->bus, 0x70, b, 4));
	assert_null(rtc_create(f->bus));		/* ports taken */
	assert_int_equal(errno, EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bcd_time_matches_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_12_hour_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_writes_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nmi_bit_and_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_0x70_0x71, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
