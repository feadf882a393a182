/* SPDX-License-Identifier: MIT */
#ifndef HUSK_DEVICES_H
#define HUSK_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "core/event_hook.h"
#include "core/stop.h"
#include "core/statebuf.h"
#include "devices/console.h"
#include "devices/iobus.h"
#include "devices/irq.h"

/* 16550A UART (one device per file: serial.c). */
struct serial;
/*
 * @rx_wake_fd: an eventfd husk's event loop watches; the UART writes to it
 * when its receive FIFO goes from full to having room, so the loop can
 * resume reading the console (no busy loop, no lost input).
 */
struct serial *serial_create(struct io_bus *pio, uint16_t base, struct irq_line *irq,
			     struct console *con, int rx_wake_fd);
void serial_destroy(struct serial *s);
/* Room left in the receive FIFO. */
size_t serial_rx_space(struct serial *s);
/* Queue console input for the guest; returns bytes accepted (<= rx_space). */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len);
/* Saved state (core/statebuf.h): the registers, the pending causes, the RX FIFO. */
#define SERIAL_STATE_VERSION 1
int serial_save(struct serial *s, struct state_writer *w);
int serial_load(struct serial *s, struct state_reader *r);

/* i8042: enough for Linux's probe and reboot=k (0xfe to port 0x64 resets). */
struct i8042;
struct i8042 *i8042_create(struct io_bus *pio, const struct stop_hook *stop);
void i8042_destroy(struct i8042 *k);
/* Saved state (core/statebuf.h): status, command byte, output port, buffer, pending command. */
#define I8042_STATE_VERSION 1
int i8042_save(struct i8042 *k, struct state_writer *w);
int i8042_load(struct i8042 *k, struct state_reader *r);

/* MC146818 CMOS RTC at 0x70/0x71 reporting the host's real time. */
struct rtc;
struct rtc *rtc_create(struct io_bus *pio);
void rtc_destroy(struct rtc *r);
/* Saved state: the index latch and the CMOS RAM (the clock itself is the host's). */
#define RTC_STATE_VERSION 1
int rtc_save(struct rtc *r, struct state_writer *w);
int rtc_load(struct rtc *r, struct state_reader *rd);

/*
 * husk's debug ports: the boot marker at PORT_BOOT_MARKER (husk logs ms
 * since @start_ns, CLOCK_MONOTONIC) always; with DEBUG_PORTS_TEST in @flags
 * (--test-devices) also debug-exit at PORT_DEBUG_EXIT (guest writes v, husk
 * exits with v & 0xff) and test MSI at PORT_TEST_MSI (husk sends the MSI
 * through @vm_fd with KVM_SIGNAL_MSI). Those two let a guest choose husk's
 * exit status and send arbitrary MSIs: test devices, never on by default.
 */
#define DEBUG_PORTS_TEST	0x1u
struct debug_ports;
struct debug_ports *debug_ports_create(struct io_bus *pio, const struct stop_hook *stop,
				       int vm_fd, uint64_t start_ns, unsigned flags);
void debug_ports_destroy(struct debug_ports *d);
/* Saved state: boot marker seen, the test MSI count and last message. */
#define DEBUG_PORTS_STATE_VERSION 1
int debug_ports_save(struct debug_ports *d, struct state_writer *w);
int debug_ports_load(struct debug_ports *d, struct state_reader *r);

/*
 * ACPI hardware-reduced sleep control, sleep status and reset registers
 * (PORT_ACPI_SLEEP_CTL, PORT_ACPI_SLEEP_STS, PORT_ACPI_RESET): the guest's
 * ACPI power off (SLP_EN with the \_S5_ sleep type) stops the VM with
 * STOP_SYSTEM_SHUTDOWN, its ACPI reset (ACPI_RESET_VALUE to the reset
 * register) with STOP_SYSTEM_RESET.
 */
struct acpi_pm;
struct acpi_pm *acpi_pm_create(struct io_bus *pio, const struct stop_hook *stop);
void acpi_pm_destroy(struct acpi_pm *pm);
/* Saved state: none (the registers hold nothing); an empty payload, kept for one shape. */
#define ACPI_PM_STATE_VERSION 1
int acpi_pm_save(struct acpi_pm *pm, struct state_writer *w);
int acpi_pm_load(struct acpi_pm *pm, struct state_reader *r);

/*
 * ACPI Generic Event Device: the event byte at PORT_ACPI_GED (cleared when
 * the guest reads it) and @irq (GSI ACPI_GED_GSI, level-triggered, high
 * while an event is pending). The DSDT's GED _EVT turns bit
 * ACPI_GED_EVT_PWRBTN into a power button press.
 */
struct acpi_ged;
struct acpi_ged *acpi_ged_create(struct io_bus *pio, struct irq_line *irq);
void acpi_ged_destroy(struct acpi_ged *g);
/*
 * Press the guest's ACPI power button: a guest that handles it (systemd,
 * acpid) shuts down and powers off through the sleep control register;
 * one that does not (no ACPI, acpi=off, a bare busybox) ignores it, so the
 * caller must also bound the wait and then stop the VM hard. Meant for the
 * event loop on SIGTERM; safe from any thread. Returns 0 or -errno from
 * KVM_IRQ_LINE.
 */
int acpi_power_button(struct acpi_ged *g);
/* Signal other events (ACPI_GED_EVT_* bits) the same way. */
int acpi_ged_raise(struct acpi_ged *g, uint8_t events);
/* The event bits the guest has not read yet (tests, state saving). */
uint8_t acpi_ged_pending(struct acpi_ged *g);
/* Saved state: the pending event bits; a load drives the line to match them. */
#define ACPI_GED_STATE_VERSION 1

/*
 * The VM Generation ID (Microsoft's "Virtual Machine Generation ID", which
 * Linux's vmgenid driver reads): 16 random bytes at LAYOUT_VMGENID, in
 * reserved memory the DSDT's VGEN device (_HID "VMGENCTR") points at. A
 * new ID, written there and signalled through the GED (Notify (VGEN,
 * 0x80)), tells the guest it runs as a copy: Linux then reseeds its RNG
 * (add_vmfork_randomness), so clones of one snapshot do not share random
 * streams. husk gives the VM a new ID at every restore.
 */
struct guest_mem;
struct vmgenid;
/* Write a random ID into guest RAM (at boot). NULL with errno on failure. */
struct vmgenid *vmgenid_create(struct guest_mem *mem, struct acpi_ged *ged);
void vmgenid_destroy(struct vmgenid *v);
/* A new generation: a new random ID in guest RAM, then the GED event. */
int vmgenid_new(struct vmgenid *v);
void vmgenid_get(struct vmgenid *v, uint8_t id[16]);
/* Saved state: the ID (the memory file holds it too; a load checks they agree). */
#define VMGENID_STATE_VERSION 1
int vmgenid_save(struct vmgenid *v, struct state_writer *w);
int vmgenid_load(struct vmgenid *v, struct state_reader *r);
int acpi_ged_save(struct acpi_ged *g, struct state_writer *w);
int acpi_ged_load(struct acpi_ged *g, struct state_reader *r);

/*
 * pvpanic at PORT_PVPANIC (QEMU0001 in the DSDT): a guest write of
 * PVPANIC_PANICKED logs "guest panicked (pvpanic)" and emits "guest-panic"
 * through @events (NULL: log only); the VM keeps running. At most
 * PVPANIC_MAX_REPORTS events are reported.
 */
#define PVPANIC_MAX_REPORTS	64
struct pvpanic;
struct pvpanic *pvpanic_create(struct io_bus *pio, const struct event_hook *events);
void pvpanic_destroy(struct pvpanic *p);
/* Events reported so far (tests, state saving); stops counting past the cap. */
unsigned pvpanic_reports(struct pvpanic *p);
/* Saved state: the report count, so the cap holds across a restore. */
#define PVPANIC_STATE_VERSION 1
int pvpanic_save(struct pvpanic *p, struct state_writer *w);
int pvpanic_load(struct pvpanic *p, struct state_reader *r);

/*
 * The guest watchdog: a register block at PORT_WDT_BASE that the ACPI
 * WDAT table (boot/acpi_wdat.c) describes, so Linux's wdat_wdt driver
 * drives it (/dev/watchdog). Once the guest starts it, it must kick it
 * within the countdown (in WDT_PERIOD_MS periods) or the watchdog fires:
 * husk logs it, emits "watchdog-fired" and takes @action. A host thread
 * keeps the time; tests pass a clock and no thread and call
 * watchdog_poll().
 */
enum watchdog_action {
	WATCHDOG_ACTION_RESET = 0,	/* stop the VM as a reset: STOP_WATCHDOG_RESET */
	WATCHDOG_ACTION_POWEROFF,	/* stop it as a power off: STOP_WATCHDOG_POWEROFF */
	WATCHDOG_ACTION_NONE,		/* only the log line and the event */
};

struct watchdog_params {
	enum watchdog_action action;
	const struct stop_hook *stop;
	const struct event_hook *events;	/* NULL: log only */
	/* NULL: CLOCK_MONOTONIC in ns, and a timer thread; else no thread. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	const struct husk_sandbox *sandbox;	/* the timer thread's seccomp filter */
};

/* The guest-visible state, in one plain struct (pause, snapshot). */
struct watchdog_state {
	uint32_t count;		/* countdown loaded on start and on each kick */
	uint8_t running;
	uint8_t fired;		/* status bit: fired since the guest last cleared it */
	uint64_t deadline_ns;	/* when it fires, while running (the clock's time) */
};

struct watchdog;
/* Returns 0 or -errno (iobus_register, thread creation, -ENOMEM). */
int watchdog_create(struct io_bus *pio, const struct watchdog_params *p, struct watchdog **out);
void watchdog_destroy(struct watchdog *w);
/* Fires the watchdog if its deadline has passed; returns 1 if it fired. */
int watchdog_poll(struct watchdog *w);
void watchdog_get_state(struct watchdog *w, struct watchdog_state *out);
/* "reset", "poweroff", "none" (the --watchdog-action spellings). */
const char *watchdog_action_str(enum watchdog_action a);
/*
 * Saved state: count, running, fired and, while running, the time left
 * until the deadline (not the deadline: the clock is this process's). A
 * load re-arms the deadline at now + that time: the time the VM spent
 * saved is not the guest's time, it could not kick the watchdog then.
 */
#define WATCHDOG_STATE_VERSION 1
int watchdog_save(struct watchdog *w, struct state_writer *sw);
int watchdog_load(struct watchdog *w, struct state_reader *r);

#endif
