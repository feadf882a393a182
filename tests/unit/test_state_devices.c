// SPDX-License-Identifier: MIT
/*
 * Save/load of the legacy devices (i8042, RTC, ACPI PM and GED, pvpanic,
 * watchdog, debug ports): each put into a non-trivial state through its
 * ports, saved, loaded into a fresh one, saved again (equal bytes), the
 * loaded one answering the same reads; every truncation refused with the
 * device unchanged; out-of-range values refused with a reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <cmocka.h>

#include "fake_vm_ioctl.h"
#include "core/log.h"
#include "devices/devices.h"
#include "memory/layout.h"
#include "state_test_helpers.h"
#include "unit_helpers.h"

#define MS		1000000ULL
#define PERIOD		(WDT_PERIOD_MS * MS)

/* The last KVM_IRQ_LINE the fake KVM saw. */
static struct kvm_irq_level last_irq = { .irq = 0xffff };

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	if (request == KVM_IRQ_LINE)
		last_irq = *(const struct kvm_irq_level *)arg;
	return 0;
}

STATE_OPS(i8042, struct i8042);
STATE_OPS(rtc, struct rtc);
STATE_OPS(acpi_pm, struct acpi_pm);
STATE_OPS(acpi_ged, struct acpi_ged);
STATE_OPS(pvpanic, struct pvpanic);
STATE_OPS(watchdog, struct watchdog);
STATE_OPS(debug_ports, struct debug_ports);

static void test_i8042(void **state)
{
	struct stop_rec stops = { 0 };
	struct stop_hook stop = { .request = record_stop, .ctx = &stops };
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct i8042 *k1 = i8042_create(b1, &stop), *k2 = i8042_create(b2, &stop);
	struct state_writer saved;

	(void)state;
	assert_non_null(k1);
	assert_non_null(k2);
	outb(b1, 0x64, 0x60);		/* write the command byte ... */
	outb(b1, 0x60, 0x45);		/* ... KBDINT | SYS | XLATE, keyboard enabled */
	outb(b1, 0x64, 0xaa);		/* self test: 0x55 in the output buffer */
	outb(b1, 0x64, 0xd1);		/* write output port: waits for its data byte */
	state_check_round_trip(&i8042_state_ops, k1, k2, &saved);
	assert_int_equal(inb(b2, 0x64), inb(b1, 0x64));
	assert_int_equal(inb(b2, 0x60), 0x55);
	outb(b2, 0x60, 0x03);		/* completes the pending output port write */
	outb(b2, 0x64, 0xd0);
	assert_int_equal(inb(b2, 0x60), 0x03);
	outb(b2, 0x64, 0x20);
	assert_int_equal(inb(b2, 0x60), 0x45);
	assert_int_equal(stops.calls, 0);
	state_check_refused(&i8042_state_ops, k2, &saved, 0, 1, 0x80, "never sets");
	state_check_refused(&i8042_state_ops, k2, &saved, 0, 1, 0x20, "AUX data");
	state_check_refused(&i8042_state_ops, k2, &saved, 4, 1, 0xaa, "takes no data");
	sw_release(&saved);
	i8042_destroy(k1);
	i8042_destroy(k2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

static void test_rtc(void **state)
{
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct rtc *r1 = rtc_create(b1), *r2 = rtc_create(b2);
	struct state_writer saved;

	(void)state;
	assert_non_null(r1);
	assert_non_null(r2);
	outb(b1, 0x70, 0x0b);
	outb(b1, 0x71, 0x06);		/* binary, 24-hour */
	outb(b1, 0x70, 0x20);
	outb(b1, 0x71, 0x42);		/* CMOS RAM */
	outb(b1, 0x70, 0x8f);		/* NMI off, index 0x0f */
	outb(b1, 0x71, 0x0a);		/* shutdown status byte */
	state_check_round_trip(&rtc_state_ops, r1, r2, &saved);
	assert_int_equal(inb(b2, 0x70), 0x8f);
	assert_int_equal(inb(b2, 0x71), 0x0a);
	outb(b2, 0x70, 0x20);
	assert_int_equal(inb(b2, 0x71), 0x42);
	outb(b2, 0x70, 0x0b);
	assert_int_equal(inb(b2, 0x71), 0x06);
	outb(b2, 0x70, 0x04);		/* hours, binary: below 24 */
	assert_true(inb(b2, 0x71) < 24);
	assert_int_equal(saved.len, 1 + 128);
	state_check_refused(&rtc_state_ops, r2, &saved, 1 + 0x00, 1, 0x30, "clock register");
	state_check_refused(&rtc_state_ops, r2, &saved, 1 + 0x0a, 1, 0xa6, "update-in-progress");
	state_check_refused(&rtc_state_ops, r2, &saved, 1 + 0x0d, 1, 0x00, "read-only");
	sw_release(&saved);
	rtc_destroy(r1);
	rtc_destroy(r2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

static void test_acpi_pm(void **state)
{
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct acpi_pm *p1 = acpi_pm_create(b1, NULL), *p2 = acpi_pm_create(b2, NULL);
	struct state_writer saved;

	(void)state;
	assert_non_null(p1);
	assert_non_null(p2);
	state_check_round_trip(&acpi_pm_state_ops, p1, p2, &saved);
	assert_int_equal(saved.len, 0);		/* nothing to keep */
	sw_release(&saved);
	acpi_pm_destroy(p1);
	acpi_pm_destroy(p2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

static void test_acpi_ged(void **state)
{
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct irq_line l1 = { .vm_fd = -1, .gsi = 9 }, l2 = { .vm_fd = FAKE_VM_FD, .gsi = 9 };
	struct acpi_ged *g1 = acpi_ged_create(b1, &l1), *g2 = acpi_ged_create(b2, &l2);
	struct state_writer saved;

	(void)state;
	assert_non_null(g1);
	assert_non_null(g2);
	assert_int_equal(acpi_power_button(g1), 0);
	state_check_round_trip(&acpi_ged_state_ops, g1, g2, &saved);
	assert_int_equal(acpi_ged_pending(g2), ACPI_GED_EVT_PWRBTN);
	assert_int_equal(l2.level, 1);
	/* the level-triggered line is driven again (KVM's line state is not in the irqchip's) */
	assert_int_equal(last_irq.irq, 9);
	assert_int_equal(last_irq.level, 1);
	assert_int_equal(inb(b2, PORT_ACPI_GED), ACPI_GED_EVT_PWRBTN);	/* read clears */
	assert_int_equal(l2.level, 0);
	assert_int_equal(inb(b2, PORT_ACPI_GED), 0);
	state_check_refused(&acpi_ged_state_ops, g2, &saved, 0, 1, 0x81, "pending events");
	sw_release(&saved);
	acpi_ged_destroy(g1);
	acpi_ged_destroy(g2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

static void test_pvpanic(void **state)
{
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct pvpanic *p1 = pvpanic_create(b1, NULL), *p2 = pvpanic_create(b2, NULL);
	struct stderr_capture cap;
	struct state_writer saved;

	(void)state;
	assert_non_null(p1);
	assert_non_null(p2);
	stderr_capture_begin(&cap);
	for (int i = 0; i < 3; i++)
		outb(b1, PORT_PVPANIC, PVPANIC_PANICKED);
	free(stderr_capture_end(&cap));
	assert_int_equal(pvpanic_reports(p1), 3);
	state_check_round_trip(&pvpanic_state_ops, p1, p2, &saved);
	assert_int_equal(pvpanic_reports(p2), 3);
	state_check_refused(&pvpanic_state_ops, p2, &saved, 0, 4, PVPANIC_MAX_REPORTS + 2,
			    "reports");
	sw_release(&saved);
	pvpanic_destroy(p1);
	pvpanic_destroy(p2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

struct wdt {
	struct io_bus *bus;
	uint64_t now;
	struct stop_rec stops;
	struct stop_hook stop;
	struct watchdog *w;
};

static uint64_t wdt_clock(void *ctx)
{
	return ((struct wdt *)ctx)->now;
}

static void wdt_make(struct wdt *f, uint64_t now)
{
	struct watchdog_params p = { .action = WATCHDOG_ACTION_RESET, .clock = wdt_clock,
				     .clock_ctx = f };

	memset(f, 0, sizeof(*f));
	f->bus = iobus_create("pio");
	f->now = now;
	f->stop = (struct stop_hook){ .request = record_stop, .ctx = &f->stops };
	p.stop = &f->stop;
	assert_int_equal(watchdog_create(f->bus, &p, &f->w), 0);
}

static void wdt_free(struct wdt *f)
{
	watchdog_destroy(f->w);
	iobus_destroy(f->bus);
}

/*
 * Started with 5 s, saved 2 s in, loaded in a process whose clock reads
 * something else entirely: 3 s left there, firing after those 3 s.
 */
static void test_watchdog(void **state)
{
	struct wdt a, b;
	struct state_writer saved, stopped;
	struct watchdog_state st;
	struct stderr_capture cap;

	(void)state;
	wdt_make(&a, 1000 * MS);
	wdt_make(&b, 7 * 1000000 * MS);
	pio_out(a.bus, PORT_WDT_BASE + WDT_REG_COUNT, 50, 4);
	pio_out(a.bus, PORT_WDT_BASE + WDT_REG_CTL, WDT_CTL_RUNNING, 4);
	a.now += 2000 * MS;
	state_check_round_trip(&watchdog_state_ops, a.w, b.w, &saved);
	assert_int_equal(saved.len, 4 + 1 + 1 + 8);
	assert_true(le_get(saved.buf + 6, 8) == 3000 * MS);
	watchdog_get_state(b.w, &st);
	assert_true(st.running);
	assert_true(st.deadline_ns == b.now + 3000 * MS);
	assert_int_equal(pio_in(b.bus, PORT_WDT_BASE + WDT_REG_LEFT, 4), 30);
	assert_int_equal(pio_in(b.bus, PORT_WDT_BASE + WDT_REG_COUNT, 4), 50);
	b.now += 2900 * MS;
	assert_int_equal(watchdog_poll(b.w), 0);
	b.now += 200 * MS;
	stderr_capture_begin(&cap);
	assert_int_equal(watchdog_poll(b.w), 1);
	free(stderr_capture_end(&cap));
	assert_int_equal(b.stops.why, STOP_WATCHDOG_RESET);
	assert_int_equal(pio_in(b.bus, PORT_WDT_BASE + WDT_REG_STS, 4), WDT_STS_FIRED);
	/* fired and stopped: saved as such, nothing left */
	state_snap(&watchdog_state_ops, b.w, &stopped);
	assert_int_equal(stopped.buf[4], 0);
	assert_int_equal(stopped.buf[5], 1);
	assert_true(le_get(stopped.buf + 6, 8) == 0);
	sw_release(&stopped);

	state_check_refused(&watchdog_state_ops, b.w, &saved, 0, 4, WDT_MIN_COUNT - 1,
			    "countdown");
	state_check_refused(&watchdog_state_ops, b.w, &saved, 0, 4, WDT_MAX_COUNT + 1,
			    "countdown");
	state_check_refused(&watchdog_state_ops, b.w, &saved, 4, 1, 2, "not a boolean");
	state_check_refused(&watchdog_state_ops, b.w, &saved, 6, 8, 5000 * MS + 1, "left");
	state_check_refused(&watchdog_state_ops, b.w, &saved, 4, 1, 0, "not running");
	sw_release(&saved);
	wdt_free(&a);
	wdt_free(&b);
}

static void test_debug_ports(void **state)
{
	struct io_bus *b1 = iobus_create("pio"), *b2 = iobus_create("pio");
	struct debug_ports *d1 = debug_ports_create(b1, NULL, -1, 0, DEBUG_PORTS_TEST);
	struct debug_ports *d2 = debug_ports_create(b2, NULL, -1, 0, DEBUG_PORTS_TEST);
	struct stderr_capture cap;
	struct state_writer saved;
	char *text;

	(void)state;
	assert_non_null(d1);
	assert_non_null(d2);
	log_set_level(LOG_INFO);
	stderr_capture_begin(&cap);
	outb(b1, PORT_BOOT_MARKER, 123);
	free(stderr_capture_end(&cap));
	pio_out(b1, PORT_TEST_MSI, 0x0132, 4);		/* vector 0x32 to APIC 1 */
	pio_out(b1, PORT_TEST_MSI, 0x0241, 4);		/* vector 0x41 to APIC 2 */
	state_check_round_trip(&debug_ports_state_ops, d1, d2, &saved);
	assert_int_equal(saved.len, 1 + 4 + 4 + 4);
	assert_int_equal(saved.buf[0], 1);
	assert_int_equal(le_get(saved.buf + 1, 4), 2);
	assert_int_equal(le_get(saved.buf + 5, 4), 0xfee02000u);
	assert_int_equal(le_get(saved.buf + 9, 4), 0x41);
	/* the loaded ports have seen the marker: a second one logs nothing */
	stderr_capture_begin(&cap);
	outb(b2, PORT_BOOT_MARKER, 123);
	text = stderr_capture_end(&cap);
	assert_null(strstr(text, "boot marker"));
	free(text);
	state_check_refused(&debug_ports_state_ops, d2, &saved, 0, 1, 2, "not a boolean");
	state_check_refused(&debug_ports_state_ops, d2, &saved, 9, 4, 0x100, "not a vector");
	state_check_refused(&debug_ports_state_ops, d2, &saved, 5, 4, 0xfee00004u, "address");
	state_check_refused(&debug_ports_state_ops, d2, &saved, 5, 4, 0, "address");
	sw_release(&saved);
	debug_ports_destroy(d1);
	debug_ports_destroy(d2);
	iobus_destroy(b1);
	iobus_destroy(b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i8042),
		cmocka_unit_test(test_rtc),
		cmocka_unit_test(test_acpi_pm),
		cmocka_unit_test(test_acpi_ged),
		cmocka_unit_test(test_pvpanic),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_debug_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
