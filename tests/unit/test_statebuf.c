// SPDX-License-Identifier: MIT
/* The saved-state encoding (core/statebuf.c) and the UART's save/load, its first user. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/statebuf.h"
#include "devices/devices.h"
#include "unit_helpers.h"

static void test_round_trip(void **state)
{
	struct state_writer w;
	struct state_reader r;
	uint8_t raw[3] = { 1, 2, 3 }, back[3];

	(void)state;
	sw_init(&w);
	sw_u8(&w, 0xab);
	sw_u16(&w, 0x1234);
	sw_u32(&w, 0xdeadbeef);
	sw_u64(&w, 0x0102030405060708ull);
	sw_bool(&w, true);
	sw_bytes(&w, raw, sizeof(raw));
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 1 + 2 + 4 + 8 + 1 + 3);
	/* little-endian on the wire, whatever the host */
	assert_int_equal(w.buf[1], 0x34);
	assert_int_equal(w.buf[2], 0x12);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(sr_u8(&r), 0xab);
	assert_int_equal(sr_u16(&r), 0x1234);
	assert_int_equal(sr_u32(&r), 0xdeadbeef);
	assert_true(sr_u64(&r) == 0x0102030405060708ull);
	assert_true(sr_bool(&r));
	sr_bytes(&r, back, sizeof(back));
	assert_memory_equal(back, raw, sizeof(raw));
	assert_int_equal(sr_done(&r), 0);
	sw_release(&w);
	assert_null(w.buf);
}

static void test_truncated_is_sticky(void **state)
{
	static const uint8_t two[2] = { 0xff, 0xff };
	struct state_reader r;

	(void)state;
	sr_init(&r, two, sizeof(two));
	assert_int_equal(sr_u32(&r), 0);	/* short: zero, failed */
	assert_int_equal(r.err, -EINVAL);
	assert_non_null(strstr(r.why, "truncated"));
	assert_int_equal(sr_u8(&r), 0);		/* sticky: no read after a failure */
	assert_int_equal(r.off, 0);
	assert_int_equal(sr_done(&r), -EINVAL);
}

static void test_bool_and_leftover(void **state)
{
	static const uint8_t b[3] = { 2, 0, 0 };
	struct state_reader r;

	(void)state;
	sr_init(&r, b, sizeof(b));
	sr_bool(&r);
	assert_int_equal(r.err, -EINVAL);
	assert_non_null(strstr(r.why, "not a boolean"));
	sr_init(&r, b + 1, 2);
	assert_false(sr_bool(&r));
	assert_int_equal(sr_done(&r), -EINVAL);	/* one byte left over */
	assert_non_null(strstr(r.why, "left over"));
}

static void test_sub_reader_is_bounded(void **state)
{
	static const uint8_t b[6] = { 4, 0, 0, 0, 9, 9 };
	struct state_reader r, sub;

	(void)state;
	sr_init(&r, b, sizeof(b));
	sub = sr_sub(&r, 2);
	assert_int_equal(sr_u16(&sub), 4);
	assert_int_equal(sr_u8(&sub), 0);	/* past the sub-reader's end */
	assert_int_equal(sub.err, -EINVAL);
	assert_int_equal(r.err, 0);		/* the parent is fine */
	sub = sr_sub(&r, 100);			/* longer than what is left */
	assert_int_equal(sub.err, -EINVAL);
	assert_int_equal(r.err, -EINVAL);
	/* a length near SIZE_MAX never wraps the bounds check */
	sr_init(&r, b, sizeof(b));
	sr_u8(&r);
	sub = sr_sub(&r, SIZE_MAX);
	assert_int_equal(r.err, -EINVAL);
}

/* A UART with some state, saved, loaded into a fresh one, saved again: equal bytes. */
static void test_serial_round_trip(void **state)
{
	struct console con = { .kind = CONSOLE_NONE, .in_fd = -1, .out_fd = -1,
			       .pty_slave_fd = -1 };
	struct irq_line irq1 = { .vm_fd = -1, .gsi = 4 }, irq2 = irq1;
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct serial *s1 = serial_create(b1, 0x3f8, &irq1, &con, -1);
	struct serial *s2 = serial_create(b2, 0x3f8, &irq2, &con, -1);
	struct state_writer w1, w2;
	struct state_reader r;

	(void)state;
	assert_non_null(s1);
	assert_non_null(s2);
	pio_out(b1, 0x3f8 + 3, 0x83, 1);	/* DLAB */
	pio_out(b1, 0x3f8 + 0, 0x01, 1);	/* 115200 */
	pio_out(b1, 0x3f8 + 3, 0x03, 1);	/* 8N1 */
	pio_out(b1, 0x3f8 + 2, 0xc7, 1);	/* FIFO on, trigger 14 */
	pio_out(b1, 0x3f8 + 1, 0x01, 1);	/* RX interrupt */
	pio_out(b1, 0x3f8 + 7, 0x5a, 1);	/* scratch */
	assert_int_equal(serial_rx_push(s1, (const uint8_t *)"hello", 5), 5);
	sw_init(&w1);
	assert_int_equal(serial_save(s1, &w1), 0);
	sr_init(&r, w1.buf, w1.len);
	assert_int_equal(serial_load(s2, &r), 0);
	assert_int_equal(irq2.level, irq1.level);
	sw_init(&w2);
	assert_int_equal(serial_save(s2, &w2), 0);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.buf, w2.buf, w1.len);
	/* the loaded UART behaves as the saved one: scratch and the FIFO's bytes */
	assert_int_equal(pio_in(b2, 0x3f8 + 7, 1), 0x5a);
	assert_int_equal(pio_in(b2, 0x3f8 + 0, 1), 'h');
	sw_release(&w2);
	sw_init(&w2);
	assert_int_equal(serial_save(s2, &w2), 0);

	/* every truncation fails and leaves the device as it was */
	for (size_t n = 0; n < w1.len; n++) {
		struct state_writer w3;

		sr_init(&r, w1.buf, n);
		assert_int_equal(serial_load(s2, &r), -EINVAL);
		sw_init(&w3);
		serial_save(s2, &w3);
		assert_memory_equal(w3.buf, w2.buf, w2.len);
		sw_release(&w3);
	}
	/* a FIFO head out of range is refused */
	w1.buf[12] = 64;
	sr_init(&r, w1.buf, w1.len);
	assert_int_equal(serial_load(s2, &r), -EINVAL);
	assert_non_null(strstr(r.why, "FIFO"));
	sw_release(&w1);
	sw_release(&w2);
	serial_destroy(s1);
	serial_destroy(s2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_is_sticky),
		cmocka_unit_test(test_bool_and_leftover),
		cmocka_unit_test(test_sub_reader_is_bounded),
		cmocka_unit_test(test_serial_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
