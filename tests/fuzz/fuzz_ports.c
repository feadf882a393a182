// SPDX-License-Identifier: MIT
/*
 * Every legacy port device on one PIO bus, as a guest drives them: i8042
 * (0x60, 0x64), the CMOS RTC (0x70-0x71), the debug ports (0xf4, 0x440,
 * 0x448), the ACPI sleep/reset registers (0x600-0x602) and GED (0x608),
 * pvpanic (0x505), the watchdog (0x620-0x633) and COM1 (0x3f8-0x3ff).
 * The input is a sequence of operations, each an op byte:
 *   bits 0-1: 0-1 write, 2 read, 3 host side (bits 2-3: 0 watchdog clock
 *             tick + poll, 1 power button, 2 console input, 3 state reads)
 *   bits 2-3 (port access): width 1, 2, 4 or 3 (odd)
 * then a device byte (which base), an offset byte (-2..+5 around it) and,
 * for a write, the value. KVM calls go to a fake VM fd, stops are counted.
 */
#include <linux/kvm.h>
#include <sys/eventfd.h>

#include "devices/devices.h"
#include "memory/layout.h"
#include "fuzz_helpers.h"
#include "fake_vm_ioctl.h"

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	const struct kvm_irq_level *l = arg;

	if (request == KVM_IRQ_LINE && l->level > 1)
		__builtin_trap();
	return 0;
}

struct fixture {
	uint64_t now_ns;
	int stops;
	unsigned pvpanic_events;
};

static void on_stop(void *ctx, enum stop_reason why, int status)
{
	struct fixture *f = ctx;

	(void)why;
	(void)status;
	f->stops++;
}

static void on_event(void *ctx, const char *event, const char *detail)
{
	struct fixture *f = ctx;

	if (!event || !*event || !detail)
		__builtin_trap();
	if (strcmp(detail, "pvpanic") == 0 && ++f->pvpanic_events > PVPANIC_MAX_REPORTS)
		__builtin_trap();	/* a guest cannot flood the events */
}

static uint64_t clock_ns(void *ctx)
{
	return ((struct fixture *)ctx)->now_ns;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t bases[] = {
		0x60, 0x64, 0x70, PORT_DEBUG_EXIT, PORT_BOOT_MARKER, PORT_TEST_MSI,
		PORT_ACPI_SLEEP_CTL, PORT_ACPI_GED, PORT_PVPANIC, PORT_WDT_BASE,
		PORT_WDT_BASE + 8, PORT_WDT_BASE + 16, 0x3f8,
	};
	static const uint32_t widths[] = { 1, 2, 4, 3 };
	struct fuzz_in in = fuzz_in_init(data, size);
	struct fixture f = { .now_ns = 1000000000ull };
	struct stop_hook stop = { .request = on_stop, .ctx = &f };
	struct event_hook events = { .emit = on_event, .ctx = &f };
	struct watchdog_params wp = {
		.action = WATCHDOG_ACTION_RESET, .stop = &stop, .events = &events,
		.clock = clock_ns, .clock_ctx = &f,
	};
	struct irq_line ged_irq = { .vm_fd = FAKE_VM_FD, .gsi = ACPI_GED_GSI };
	struct irq_line com_irq = { .vm_fd = FAKE_VM_FD, .gsi = 4 };
	struct console con = { .kind = CONSOLE_NONE, .in_fd = -1, .out_fd = -1 };
	struct io_bus *bus = iobus_create("pio");
	int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct i8042 *kbd;
	struct rtc *rtc;
	struct debug_ports *dbg;
	struct acpi_pm *pm;
	struct acpi_ged *ged;
	struct pvpanic *pv;
	struct watchdog *wdt = NULL;
	struct watchdog_state ws;
	struct serial *com;
	uint8_t buf[8], cin[16];

	if (!bus || wake < 0)
		fuzz_die("ports fixture");
	kbd = i8042_create(bus, &stop);
	rtc = rtc_create(bus);
	/* the test ports (--test-devices) on for odd-sized inputs: both layouts get fuzzed */
	dbg = debug_ports_create(bus, &stop, FAKE_VM_FD, 0, size & 1 ? DEBUG_PORTS_TEST : 0);
	pm = acpi_pm_create(bus, &stop);
	ged = acpi_ged_create(bus, &ged_irq);
	pv = pvpanic_create(bus, &events);
	com = serial_create(bus, 0x3f8, &com_irq, &con, wake);
	if (!kbd || !rtc || !dbg || !pm || !ged || !pv || !com ||
	    watchdog_create(bus, &wp, &wdt))
		fuzz_die("port device create");

	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in);
		uint64_t port;
		uint32_t len;
		size_t n;

		if ((op & 3) == 3) {
			switch ((op >> 2) & 3) {
			case 0:
				f.now_ns += (uint64_t)fuzz_u32(&in) * 1000;
				watchdog_poll(wdt);
				break;
			case 1:
				acpi_power_button(ged);
				break;
			case 2:
				n = fuzz_range(&in, 0, sizeof(cin));
				for (size_t i = 0; i < n; i++)
					cin[i] = fuzz_u8(&in);
				if (serial_rx_push(com, cin, n) > n)
					__builtin_trap();
				break;
			case 3:
				watchdog_get_state(wdt, &ws);
				if (ws.running > 1 || ws.fired > 1 ||
				    (ws.running && (ws.count < WDT_MIN_COUNT || ws.count > WDT_MAX_COUNT)))
					__builtin_trap();
				/* the cap, and the one "further ones are not" note */
				if (pvpanic_reports(pv) > PVPANIC_MAX_REPORTS + 1)
					__builtin_trap();
				(void)acpi_ged_pending(ged);
				break;
			}
			continue;
		}
		port = fuzz_pick(&in, bases) + fuzz_range(&in, 0, 7) - 2;
		len = widths[(op >> 2) & 3];
		if ((op & 3) == 2) {
			memset(buf, 0xcc, sizeof(buf));
			iobus_read(bus, port, buf, len);
		} else {
			for (uint32_t i = 0; i < len; i++)
				buf[i] = fuzz_u8(&in);
			iobus_write(bus, port, buf, len);
		}
	}

	watchdog_destroy(wdt);
	serial_destroy(com);
	pvpanic_destroy(pv);
	acpi_ged_destroy(ged);
	acpi_pm_destroy(pm);
	debug_ports_destroy(dbg);
	rtc_destroy(rtc);
	i8042_destroy(kbd);
	iobus_destroy(bus);
	close(wake);
	return 0;
}
