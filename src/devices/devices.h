/* SPDX-License-Identifier: MIT */
#ifndef HUSK_DEVICES_H
#define HUSK_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "core/stop.h"
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

/* i8042: enough for Linux's probe and reboot=k (0xfe to port 0x64 resets). */
struct i8042;
struct i8042 *i8042_create(struct io_bus *pio, const struct stop_hook *stop);
void i8042_destroy(struct i8042 *k);

/* MC146818 CMOS RTC at 0x70/0x71 reporting the host's real time. */
struct rtc;
struct rtc *rtc_create(struct io_bus *pio);
void rtc_destroy(struct rtc *r);

/*
 * husk's debug ports: debug-exit at PORT_DEBUG_EXIT (guest writes v, husk
 * exits with v & 0xff), boot marker at PORT_BOOT_MARKER (husk logs ms since
 * @start_ns, CLOCK_MONOTONIC), test MSI at PORT_TEST_MSI (husk sends the MSI
 * through @vm_fd with KVM_SIGNAL_MSI).
 */
struct debug_ports;
struct debug_ports *debug_ports_create(struct io_bus *pio, const struct stop_hook *stop,
				       int vm_fd, uint64_t start_ns);
void debug_ports_destroy(struct debug_ports *d);

#endif
