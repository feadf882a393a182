// SPDX-License-Identifier: MIT
/* pvpanic at port 0x505: supported events, one report per write, the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log.h"
#include "devices/devices.h"
#include "memory/layout.h"
#include "unit_helpers.h"

#define MAX_EVENTS 128

struct event_rec {
	int n;
	char event[MAX_EVENTS][32];
	char detail[MAX_EVENTS][32];
};

static void record_event(void *ctx, const char *event, const char *detail)
{
	struct event_rec *r = ctx;

	if (r->n < MAX_EVENTS) {
		snprintf(r->event[r->n], sizeof(r->event[0]), "%s", event);
		snprintf(r->detail[r->n], sizeof(r->detail[0]), "%s", detail ? detail : "");
	}
	r->n++;
}

struct fixture {
	struct io_bus *bus;
	struct event_rec rec;
	struct event_hook hook;
	struct pvpanic *p;
};

static struct fixture *make(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bus = iobus_create("pio");
	f->hook = (struct event_hook){ .emit = record_event, .ctx = &f->rec };
	f->p = pvpanic_create(f->bus, &f->hook);
	assert_non_null(f->p);
	return f;
}

static void destroy(struct fixture *f)
{
	pvpanic_destroy(f->p);
	iobus_destroy(f->bus);
	free(f);
}

/* The driver reads the port once: PANICKED | CRASH_LOADED, nothing else. */
static void test_read_supported(void **state)
{
	struct fixture *f = make();

	(void)state;
	assert_int_equal(inb(f->bus, PORT_PVPANIC), PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	assert_int_equal(inb(f->bus, PORT_PVPANIC), 0x03);
	/* one byte wide: the ports around it are not the device's */
	assert_int_equal(inb(f->bus, PORT_PVPANIC + 1), 0xff);
	assert_int_equal(inb(f->bus, PORT_PVPANIC - 1), 0xff);
	assert_int_equal(f->rec.n, 0);			/* reading reports nothing */
	destroy(f);
}

static void test_panic_once_per_write(void **state)
{
	struct fixture *f = make();
	struct stderr_capture cap;
	char *log;

	(void)state;
	stderr_capture_begin(&cap);
	outb(f->bus, PORT_PVPANIC, PVPANIC_PANICKED);
	log = stderr_capture_end(&cap);
	assert_int_equal(f->rec.n, 1);
	assert_string_equal(f->rec.event[0], "guest-panic");
	assert_string_equal(f->rec.detail[0], "pvpanic");
	assert_int_equal(count_substr(log, "guest panicked (pvpanic)"), 1);
	free(log);
	outb(f->bus, PORT_PVPANIC, PVPANIC_PANICKED);
	outb(f->bus, PORT_PVPANIC, PVPANIC_PANICKED);
	assert_int_equal(f->rec.n, 3);
	assert_string_equal(f->rec.event[2], "guest-panic");
	assert_int_equal(pvpanic_reports(f->p), 3);
	destroy(f);
}

static void test_crash_loaded_and_both(void **state)
{
	struct fixture *f = make();
	struct stderr_capture cap;
	char *log;

	(void)state;
	stderr_capture_begin(&cap);
	outb(f->bus, PORT_PVPANIC, PVPANIC_CRASH_LOADED);
	log = stderr_capture_end(&cap);
	assert_int_equal(f->rec.n, 1);
	assert_string_equal(f->rec.event[0], "guest-crash-loaded");
	assert_int_equal(count_substr(log, "crash kernel (pvpanic)"), 1);
	free(log);
	outb(f->bus, PORT_PVPANIC, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	assert_int_equal(f->rec.n, 3);
	assert_string_equal(f->rec.event[1], "guest-panic");
	assert_string_equal(f->rec.event[2], "guest-crash-loaded");
	destroy(f);
}

/* Zero and unknown bits report nothing; a known bit among them still does. */
static void test_other_bits_ignored(void **state)
{
	struct fixture *f = make();

	(void)state;
	outb(f->bus, PORT_PVPANIC, 0);
	outb(f->bus, PORT_PVPANIC, 0xfc);
	assert_int_equal(f->rec.n, 0);
	outb(f->bus, PORT_PVPANIC, 0xfc | PVPANIC_PANICKED);
	assert_int_equal(f->rec.n, 1);
	assert_string_equal(f->rec.event[0], "guest-panic");
	/* wider accesses are not the device's (it is one byte), so ignored */
	pio_out(f->bus, PORT_PVPANIC, PVPANIC_PANICKED, 2);
	pio_out(f->bus, PORT_PVPANIC, PVPANIC_PANICKED, 4);
	assert_int_equal(f->rec.n, 1);
	destroy(f);
}

/* A guest writing in a loop: PVPANIC_MAX_REPORTS events, one notice, then quiet. */
static void test_report_cap(void **state)
{
	struct fixture *f = make();
	struct stderr_capture cap;
	char *log;

	(void)state;
	stderr_capture_begin(&cap);
	for (int i = 0; i < 10 * PVPANIC_MAX_REPORTS; i++)
		outb(f->bus, PORT_PVPANIC, PVPANIC_PANICKED);
	log = stderr_capture_end(&cap);
	assert_int_equal(f->rec.n, PVPANIC_MAX_REPORTS);
	assert_int_equal(count_substr(log, "guest panicked (pvpanic)"), PVPANIC_MAX_REPORTS);
	assert_int_equal(count_substr(log, "further ones are not"), 1);
	assert_int_equal(pvpanic_reports(f->p), PVPANIC_MAX_REPORTS + 1);
	free(log);
	destroy(f);
}

/* No hook: the log line only, no crash. */
static void test_no_hook(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct pvpanic *p = pvpanic_create(bus, NULL);
	struct stderr_capture cap;
	char *log;

	(void)state;
	assert_non_null(p);
	stderr_capture_begin(&cap);
	outb(bus, PORT_PVPANIC, PVPANIC_PANICKED);
	log = stderr_capture_end(&cap);
	assert_int_equal(count_substr(log, "guest panicked (pvpanic)"), 1);
	free(log);
	/* a second device on the same port is refused */
	assert_null(pvpanic_create(bus, NULL));
	pvpanic_destroy(p);
	iobus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_supported),
		cmocka_unit_test(test_panic_once_per_write),
		cmocka_unit_test(test_crash_loaded_and_both),
		cmocka_unit_test(test_other_bits_ignored),
		cmocka_unit_test(test_report_cap),
		cmocka_unit_test(test_no_hook),
	};

	log_set_level(LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
