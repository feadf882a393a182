// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "unit_helpers.h"

#define DATA	0x60
#define CMD	0x64
#define STATUS	0x64

struct fixture {
	struct io_bus *bus;
	struct stop_rec rec;
	struct stop_hook hook;
	struct i8042 *kbc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bus = iobus_create("pio");
	f->hook = (struct stop_hook){ .request = record_stop, .ctx = &f->rec };
	f->kbc = i8042_create(f->bus, &f->hook);
	assert_non_null(f->kbc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8042_destroy(f->kbc);
	iobus_destroy(f->bus);
	free(f);
	return 0;
}

/* i8042_command() as Linux does it: wait for IBF clear, then OBF set. */
static int kbc_command(struct fixture *f, uint8_t cmd, const uint8_t *param, int nparam,
		       uint8_t *reply)
{
	assert_int_equal(inb(f->bus, STATUS) & 0x02, 0);	/* IBF never set */
	outb(f->bus, CMD, cmd);
	for (int i = 0; i < nparam; i++)
		outb(f->bus, DATA, param[i]);
	if (!reply)
		return 0;
	if (!(inb(f->bus, STATUS) & 0x01))
		return -1;					/* would time out */
	*reply = inb(f->bus, DATA);
	return 0;
}

static void test_status_sane(void **state)
{
	struct fixture *f = *state;
	uint8_t st = inb(f->bus, STATUS);

	assert_int_not_equal(st, 0xff);
	assert_int_equal(st & 0x01, 0);		/* nothing to flush */
	assert_int_equal(st & 0x02, 0);
	assert_int_equal(st & 0x10, 0x10);	/* not keylocked */
	/* reading data with nothing there leaves OBF clear */
	inb(f->bus, DATA);
	assert_int_equal(inb(f->bus, STATUS) & 0x01, 0);
	/* port 0x61 belongs to KVM's PIT, not to us */
	assert_false(iobus_read(f->bus, 0x61, (uint8_t[1]){ 0 }, 1));
}

static void test_self_test(void **state)
{
	struct fixture *f = *state;
	uint8_t r = 0;

	assert_int_equal(kbc_command(f, 0xaa, NULL, 0, &r), 0);
	assert_int_equal(r, 0x55);
	assert_int_equal(inb(f->bus, STATUS) & 0x01, 0);
	assert_int_equal(inb(f->bus, STATUS) & 0x04, 0x04);	/* system flag */
	assert_int_equal(kbc_command(f, 0xab, NULL, 0, &r), 0);
	assert_int_equal(r, 0x00);				/* kbd port OK */
	assert_int_equal(f->rec.calls, 0);
}

static void test_command_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t ctr = 0, r = 0, v;

	assert_int_equal(kbc_command(f, 0x20, NULL, 0, &ctr), 0);
	assert_int_equal(ctr & 0x04, 0x04);
	/* Linux reads it twice and wants the same value */
	assert_int_equal(kbc_command(f, 0x20, NULL, 0, &r), 0);
	assert_int_equal(r, ctr);
	v = 0x56;
	assert_int_equal(kbc_command(f, 0x60, &v, 1, NULL), 0);
	assert_int_equal(inb(f->bus, STATUS) & 0x01, 0);
	assert_int_equal(kbc_command(f, 0x20, NULL, 0, &r), 0);
	assert_int_equal(r, 0x56);
	/* disable/enable commands flip their CTR bits */
	kbc_command(f, 0xad, NULL, 0, NULL);
	kbc_command(f, 0xa8, NULL, 0, NULL);
	assert_int_equal(kbc_command(f, 0x20, NULL, 0, &r), 0);
	assert_int_equal(r, (0x56 | 0x10) & ~0x20);
	kbc_command(f, 0xae, NULL, 0, NULL);
	kbc_command(f, 0xa7, NULL, 0, NULL);
	assert_int_equal(kbc_command(f, 0x20, NULL, 0, &r), 0);
	assert_int_equal(r, (0x56 & ~0x10) | 0x20);
	/* the command/data bit follows the last write */
	outb(f->bus, CMD, 0xad);
	assert_int_equal(inb(f->bus, STATUS) & 0x08, 0x08);
	outb(f->bus, DATA, 0xf4);		/* a keyboard command: no keyboard */
	assert_int_equal(inb(f->bus, STATUS) & 0x09, 0);
}

/* Linux's i8042_check_aux(): there is no AUX port, and it says so at once. */
static void test_no_aux_fast(void **state)
{
	struct fixture *f = *state;
	uint8_t p = 0x5a, r = 0;

	assert_int_equal(inb(f->bus, STATUS) & 0x02, 0);
	outb(f->bus, CMD, 0xd3);
	outb(f->bus, DATA, p);
	/* a reply is there (no timeout), but not flagged as AUX data */
	assert_int_equal(inb(f->bus, STATUS) & 0x21, 0x01);
	assert_int_equal(kbc_command(f, 0xa9, NULL, 0, &r), 0);
	assert_true(r != 0x00 && r != 0xfa && r != 0xff);
	assert_int_equal(inb(f->bus, STATUS) & 0x01, 0);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;

	outb(f->bus, CMD, 0xff);		/* pulse nothing */
	assert_int_equal(f->rec.calls, 0);
	outb(f->bus, CMD, 0xfe);		/* reboot=k */
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.why, STOP_RESET_I8042);
	assert_int_equal(f->rec.status, 0);
}

static void test_output_port(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 0xdf, r = 0;

	assert_int_equal(kbc_command(f, 0xd0, NULL, 0, &r), 0);
	assert_int_equal(r & 0x01, 0x01);	/* not in reset */
	/* enabling A20 the old way is not a reset */
	assert_int_equal(kbc_command(f, 0xd1, &v, 1, NULL), 0);
	assert_int_equal(f->rec.calls, 0);
	assert_int_equal(kbc_command(f, 0xd0, NULL, 0, &r), 0);
	assert_int_equal(r, 0xdf);
	/* but driving the reset line low is */
	v = 0xde;
	assert_int_equal(kbc_command(f, 0xd1, &v, 1, NULL), 0);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.why, STOP_RESET_I8042);
}

static void test_hostile(void **state)
{
	struct fixture *f = *state;

	/* every command and data value, in any order: nothing breaks */
	for (unsigned c = 0; c < 256; c++) {
		if ((c & 0xf1) == 0xf0 || c == 0xd1)
			continue;			/* the reset commands */
		outb(f->bus, CMD, (uint8_t)c);
		outb(f->bus, DATA, (uint8_t)(c ^ 0x5a) | 0x01);
		inb(f->bus, DATA);
	}
	assert_int_equal(f->rec.calls, 0);
	assert_int_equal(inb(f->bus, STATUS) & 0x01, 0);
	/* wide accesses straddle the 1-byte ports: the bus answers all-ones */
	assert_int_equal(pio_in(f->bus, DATA, 2), 0xffff);
	/* a second controller cannot be registered on the same ports */
	assert_null(i8042_create(f->bus, &f->hook));
	assert_int_equal(errno, EEXIST);
	assert_true(iobus_read(f->bus, DATA, (uint8_t[1]){ 0 }, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_sane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_aux_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
