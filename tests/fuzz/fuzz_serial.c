// SPDX-License-Identifier: MIT
/*
 * The 16550A UART (devices/serial.c) through the PIO bus, as a guest and the
 * console drive it: the input is a sequence of operations
 *   op 0-3  write: register offset (byte, 0-7 and beyond the range), width
 *           (1, 2 or 4), value
 *   op 4-5  read: offset, width
 *   op 6    console input: a length byte, then that many bytes pushed into
 *           the receive FIFO (at most serial_rx_space() may be taken)
 *   op 7    rx_space/rx_push consistency check with a full FIFO
 * KVM_IRQ_LINE goes to a fake VM fd; output is discarded.
 */
#include <linux/kvm.h>
#include <sys/eventfd.h>

#include "devices/devices.h"
#include "fuzz_helpers.h"
#include "fake_vm_ioctl.h"

#define COM1	0x3f8

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	const struct kvm_irq_level *l = arg;

	if (request == KVM_IRQ_LINE && l->level > 1)
		__builtin_trap();
	return 0;
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
	static const uint32_t widths[] = { 1, 2, 4, 1 };
	struct fuzz_in in = fuzz_in_init(data, size);
	struct irq_line irq = { .vm_fd = FAKE_VM_FD, .gsi = 4 };
	struct console con = { .kind = CONSOLE_NONE, .in_fd = -1, .out_fd = -1 };
	struct io_bus *bus = iobus_create("pio");
	int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct serial *s;
	uint8_t buf[8];

	if (!bus || wake < 0)
		fuzz_die("serial fixture");
	s = serial_create(bus, COM1, &irq, &con, wake);
	if (!s)
		fuzz_die("serial_create");
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in) & 7;
		uint64_t port = COM1 + fuzz_range(&in, 0, 9);
		uint32_t len = fuzz_pick(&in, widths);
		size_t n, room, took;
		const uint8_t *p;
		uint8_t *copy;

		switch (op) {
		case 0: case 1: case 2: case 3:
			for (uint32_t i = 0; i < len; i++)
				buf[i] = fuzz_u8(&in);
			iobus_write(bus, port, buf, len);
			break;
		case 4: case 5:
			iobus_read(bus, port, buf, len);
			break;
		case 6:
			p = fuzz_bytes(&in, fuzz_u8(&in), &n);
			copy = fuzz_dup(p, n);
			room = serial_rx_space(s);
			took = serial_rx_push(s, copy, n);
			if (took > room || took > n)
				__builtin_trap();
			free(copy);
			break;
		case 7:
			room = serial_rx_space(s);
			memset(buf, 'x', sizeof(buf));
			while (room) {
				took = serial_rx_push(s, buf, room < sizeof(buf) ? room : sizeof(buf));
				if (!took)
					__builtin_trap();	/* room was promised */
				room -= took;
			}
			if (serial_rx_space(s) != 0 || serial_rx_push(s, buf, 1) != 0)
				__builtin_trap();
			break;
		}
	}
	serial_destroy(s);
	iobus_destroy(bus);
	close(wake);
	return 0;
}
