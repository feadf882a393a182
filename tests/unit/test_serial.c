// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "unit_helpers.h"
#include "fake_vm_ioctl.h"

#define COM1	0x3f8
#define THR	(COM1 + 0)
#define RBR	(COM1 + 0)
#define DLL	(COM1 + 0)
#define IER	(COM1 + 1)
#define DLM	(COM1 + 1)
#define IIR	(COM1 + 2)
#define FCR	(COM1 + 2)
#define LCR	(COM1 + 3)
#define MCR	(COM1 + 4)
#define LSR	(COM1 + 5)
#define MSR	(COM1 + 6)
#define SCR	(COM1 + 7)

/*
 * KVM_IRQ_LINE calls on a fake VM fd are recorded here (this definition of
 * ioctl() takes the place of libc's for husk_core), so the tests can see
 * every edge, not only the last level.
 */
static int line_log[256];
static int line_log_n;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	const struct kvm_irq_level *l = arg;

	if (request == KVM_IRQ_LINE && l->irq == 4 && line_log_n < 256)
		line_log[line_log_n++] = (int)l->level;
	return 0;
}

struct fixture {
	struct io_bus *bus;
	struct irq_line irq;
	struct console con;
	int pipe_rd;		/* what the guest sent */
	int wake_fd;
	struct serial *s;
};

static int setup_with_fd(void **state, int vm_fd)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int p[2];

	assert_non_null(f);
	f->bus = iobus_create("pio");
	f->irq = (struct irq_line){ .vm_fd = vm_fd, .gsi = 4 };
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	f->pipe_rd = p[0];
	f->con = (struct console){ .kind = CONSOLE_FILE, .in_fd = -1, .out_fd = p[1] };
	f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->wake_fd >= 0);
	f->s = serial_create(f->bus, COM1, &f->irq, &f->con, f->wake_fd);
	assert_non_null(f->s);
	line_log_n = 0;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with_fd(state, -1);
}

static int setup_fake_kvm(void **state)
{
	return setup_with_fd(state, FAKE_VM_FD);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial_destroy(f->s);
	iobus_destroy(f->bus);
	close(f->pipe_rd);
	close(f->con.out_fd);
	close(f->wake_fd);
	free(f);
	return 0;
}

/* Number of wakes signalled since the last call (0 if none). */
static uint64_t wakes(struct fixture *f)
{
	uint64_t v = 0;

	if (read(f->wake_fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void enable_fifo(struct fixture *f, uint8_t trigger_bits)
{
	outb(f->bus, FCR, 0x01 | trigger_bits);
}

/* Linux's autoconfig(): IER test, loopback test, FIFO type. */
static void test_linux_probe(void **state)
{
	struct fixture *f = *state;
	uint8_t save_mcr, save_lcr;

	outb(f->bus, IER, 0);
	assert_int_equal(inb(f->bus, IER) & 0x0f, 0);
	outb(f->bus, IER, 0x0f);
	assert_int_equal(inb(f->bus, IER) & 0x0f, 0x0f);
	outb(f->bus, IER, 0);

	save_mcr = inb(f->bus, MCR);
	save_lcr = inb(f->bus, LCR);
	outb(f->bus, MCR, 0x10 | 0x0a);		/* LOOP | RTS | OUT2 */
	assert_int_equal(inb(f->bus, MSR) & 0xf0, 0x90);
	outb(f->bus, MCR, save_mcr);

	outb(f->bus, LCR, 0xbf);
	outb(f->bus, FCR, 0);			/* EFR in the 0xbf view */
	outb(f->bus, LCR, 0);
	outb(f->bus, FCR, 0x01);
	assert_int_equal(inb(f->bus, IIR) >> 6, 3);	/* 16550A */

	/* not a 16650 (EFR) and not a 16750 (64-byte FIFO bit) */
	outb(f->bus, LCR, 0x80);
	assert_int_not_equal(inb(f->bus, IIR), 0);
	outb(f->bus, LCR, 0);
	outb(f->bus, FCR, 0x01 | 0x20);
	assert_int_equal(inb(f->bus, IIR) & 0x20, 0);
	/* not an XScale: IER bit 6 does not stick */
	outb(f->bus, IER, 0x40);
	assert_int_equal(inb(f->bus, IER), 0);
	/* not an NS SuperIO: IIR never mirrors MCR LOOP */
	outb(f->bus, MCR, 0x10);
	outb(f->bus, LCR, 0xe0);
	assert_int_equal(inb(f->bus, IIR) & 0x10, 0);
	outb(f->bus, LCR, save_lcr);
	outb(f->bus, MCR, save_mcr);

	/* after the probe, "LSR safety check": never 0xff */
	assert_int_not_equal(inb(f->bus, LSR), 0xff);
	assert_int_equal(inb(f->bus, LSR) & 0x60, 0x60);
}

static void test_scratch_and_dlab(void **state)
{
	struct fixture *f = *state;

	outb(f->bus, SCR, 0x55);
	assert_int_equal(inb(f->bus, SCR), 0x55);
	outb(f->bus, SCR, 0xaa);
	assert_int_equal(inb(f->bus, SCR), 0xaa);

	outb(f->bus, IER, 0x05);
	outb(f->bus, LCR, 0x83);		/* DLAB, 8n1 */
	outb(f->bus, DLL, 0x01);		/* 115200 baud */
	outb(f->bus, DLM, 0x02);
	assert_int_equal(inb(f->bus, DLL), 0x01);
	assert_int_equal(inb(f->bus, DLM), 0x02);
	outb(f->bus, LCR, 0x03);
	/* with DLAB clear, offsets 0/1 are RBR/THR and IER again */
	assert_int_equal(inb(f->bus, IER), 0x05);
	assert_int_equal(inb(f->bus, LCR), 0x03);
	/* and the divisor writes did not reach THR */
	assert_int_equal(read(f->pipe_rd, (char[4]){ 0 }, 4), -1);
	outb(f->bus, LCR, 0x80);
	assert_int_equal(inb(f->bus, DLL), 0x01);
	assert_int_equal(inb(f->bus, DLM), 0x02);
}

static void test_transmit(void **state)
{
	struct fixture *f = *state;
	char buf[16] = { 0 };

	outb(f->bus, THR, 'h');
	outb(f->bus, THR, 'i');
	assert_int_equal(read(f->pipe_rd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_int_equal(inb(f->bus, LSR) & 0x60, 0x60);

	/* in loopback THR goes to RBR, not to the console */
	outb(f->bus, MCR, 0x10);
	outb(f->bus, THR, 'L');
	assert_int_equal(read(f->pipe_rd, buf, sizeof(buf)), -1);
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0x01);
	assert_int_equal(inb(f->bus, RBR), 'L');
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0);
	/* a second byte without a FIFO overruns */
	outb(f->bus, THR, '1');
	outb(f->bus, THR, '2');
	assert_int_equal(inb(f->bus, LSR) & 0x03, 0x03);	/* DR | OE */
	assert_int_equal(inb(f->bus, LSR) & 0x02, 0);		/* OE cleared by reading */
	assert_int_equal(inb(f->bus, RBR), '1');
}

static void test_thre_interrupt(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->irq.level, 0);
	assert_int_equal(inb(f->bus, IIR), 0x01);
	/* enabling ETBEI with THR empty raises THRE */
	outb(f->bus, IER, 0x02);
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(inb(f->bus, IIR), 0x02);	/* reading acknowledges it */
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(inb(f->bus, IIR), 0x01);
	/* each THR write raises it again */
	outb(f->bus, THR, 'x');
	assert_int_equal(f->irq.level, 1);
	outb(f->bus, THR, 'y');
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(inb(f->bus, IIR), 0x02);
	assert_int_equal(f->irq.level, 0);
	/* Linux's THRE test: off and on again re-asserts THRE */
	outb(f->bus, THR, 'z');
	outb(f->bus, IER, 0);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(inb(f->bus, IIR), 0x01);
	outb(f->bus, IER, 0x02);
	assert_int_equal(inb(f->bus, IIR), 0x02);
	outb(f->bus, IER, 0);
	outb(f->bus, IER, 0x02);
	assert_int_equal(inb(f->bus, IIR), 0x02);
	/* rewriting IER with ETBEI already set does not re-raise */
	outb(f->bus, IER, 0x02);
	assert_int_equal(inb(f->bus, IIR), 0x01);
	/* with FIFOs enabled IIR carries 0xc0 */
	enable_fifo(f, 0);
	outb(f->bus, THR, 'w');
	assert_int_equal(inb(f->bus, IIR), 0xc2);
	assert_int_equal(inb(f->bus, IIR), 0xc1);
}

static void test_rx_fifo(void **state)
{
	struct fixture *f = *state;
	uint8_t in[100], b;

	for (int i = 0; i < 100; i++)
		in[i] = (uint8_t)(i + 1);
	/* without FIFOs there is a single holding register */
	assert_int_equal(serial_rx_space(f->s), 1);
	enable_fifo(f, 0xc0);			/* trigger level 14 */
	assert_int_equal(serial_rx_space(f->s), 64);
	outb(f->bus, IER, 0x01);
	assert_int_equal(f->irq.level, 0);

	assert_int_equal(serial_rx_push(f->s, in, 100), 64);
	assert_int_equal(serial_rx_space(f->s), 0);
	assert_int_equal(serial_rx_push(f->s, in, 1), 0);
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(inb(f->bus, IIR), 0xc4);	/* above the trigger level */
	assert_int_equal(wakes(f), 0);

	/* the first read from full wakes the event loop, once */
	assert_int_equal(inb(f->bus, RBR), 1);
	assert_int_equal(wakes(f), 1);
	assert_int_equal(serial_rx_space(f->s), 1);
	for (int i = 2; i <= 60; i++)
		assert_int_equal(inb(f->bus, RBR), i);
	assert_int_equal(wakes(f), 0);
	/* below the trigger level: character timeout */
	assert_int_equal(inb(f->bus, IIR), 0xcc);
	for (int i = 61; i <= 64; i++) {
		assert_int_equal(inb(f->bus, LSR) & 0x01, 0x01);
		assert_int_equal(inb(f->bus, RBR), i);
	}
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(inb(f->bus, IIR), 0xc1);
	assert_int_equal(serial_rx_space(f->s), 64);

	/* the ring keeps order across its wrap-around */
	assert_int_equal(serial_rx_push(f->s, in, 50), 50);
	for (int i = 1; i <= 40; i++)
		assert_int_equal(inb(f->bus, RBR), i);
	assert_int_equal(serial_rx_push(f->s, in + 50, 50), 50);
	assert_int_equal(serial_rx_space(f->s), 4);
	for (int i = 41; i <= 100; i++) {
		b = inb(f->bus, RBR);
		assert_int_equal(b, i);
	}
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0);
	assert_int_equal(wakes(f), 0);
}

static void test_rx_clear_and_mode_switch(void **state)
{
	struct fixture *f = *state;
	uint8_t in[64];

	memset(in, 'a', sizeof(in));
	enable_fifo(f, 0);
	assert_int_equal(serial_rx_push(f->s, in, 64), 64);
	/* clearing the RX FIFO from full makes room: wake */
	outb(f->bus, FCR, 0x03);
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0);
	assert_int_equal(wakes(f), 1);

	/* loopback disconnects the line: no room, and a wake on leaving it */
	outb(f->bus, MCR, 0x10);
	assert_int_equal(serial_rx_space(f->s), 0);
	assert_int_equal(serial_rx_push(f->s, in, 4), 0);
	outb(f->bus, MCR, 0x00);
	assert_int_equal(wakes(f), 1);
	assert_int_equal(serial_rx_space(f->s), 64);

	/* turning the FIFO off resets it to one byte */
	assert_int_equal(serial_rx_push(f->s, in, 10), 10);
	outb(f->bus, FCR, 0x00);
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0);
	assert_int_equal(serial_rx_space(f->s), 1);
	assert_int_equal(serial_rx_push(f->s, in, 10), 1);
	assert_int_equal(wakes(f), 0);
	assert_int_equal(inb(f->bus, RBR), 'a');
	assert_int_equal(wakes(f), 1);
	/* reading an empty RBR is harmless */
	assert_int_equal(inb(f->bus, RBR), 0);
}

static void test_iir_priorities(void **state)
{
	struct fixture *f = *state;
	uint8_t c = 'q';

	enable_fifo(f, 0);			/* trigger level 1 */
	outb(f->bus, IER, 0x0f);
	assert_int_equal(inb(f->bus, IIR), 0xc2);	/* THRE from enabling */
	outb(f->bus, THR, 'x');			/* THRE pending again */
	assert_int_equal(serial_rx_push(f->s, &c, 1), 1);
	/* received data outranks THRE */
	assert_int_equal(inb(f->bus, IIR), 0xc4);
	assert_int_equal(inb(f->bus, IIR), 0xc4);	/* not acknowledged by IIR */
	assert_int_equal(inb(f->bus, RBR), 'q');
	assert_int_equal(inb(f->bus, IIR), 0xc2);
	assert_int_equal(inb(f->bus, IIR), 0xc1);

	/* line status (overrun in loopback) outranks received data */
	outb(f->bus, FCR, 0x00);		/* one-byte holding register */
	outb(f->bus, MCR, 0x10);
	inb(f->bus, MSR);			/* drop the deltas of entering loopback */
	outb(f->bus, THR, '1');
	outb(f->bus, THR, '2');			/* overrun */
	assert_int_equal(inb(f->bus, IIR), 0x06);
	assert_int_equal(inb(f->bus, LSR) & 0x03, 0x03);
	assert_int_equal(inb(f->bus, IIR), 0x04);
	assert_int_equal(inb(f->bus, RBR), '1');
	assert_int_equal(inb(f->bus, IIR), 0x02);
	assert_int_equal(inb(f->bus, IIR), 0x01);

	/* modem status is the lowest, cleared by reading MSR */
	outb(f->bus, MCR, 0x10 | 0x02);		/* RTS -> CTS in loopback */
	assert_int_equal(inb(f->bus, IIR), 0x00);
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(inb(f->bus, MSR), 0x10 | 0x01);	/* CTS, DCTS */
	assert_int_equal(inb(f->bus, IIR), 0x01);
	assert_int_equal(f->irq.level, 0);
	/* RI trailing edge sets TERI */
	outb(f->bus, MCR, 0x10 | 0x04);
	outb(f->bus, MCR, 0x10);
	assert_int_equal(inb(f->bus, MSR) & 0x0f, 0x04 | 0x01);
	outb(f->bus, MCR, 0x00);
	assert_int_equal(inb(f->bus, MSR), 0xb0 | 0x08 | 0x02 | 0x01);
	assert_int_equal(inb(f->bus, MSR), 0xb0);
}

/* A new cause while the line is high is a low-high pulse (a new edge). */
static void test_edge_pulses(void **state)
{
	struct fixture *f = *state;
	uint8_t c = 'k';

	enable_fifo(f, 0);
	outb(f->bus, IER, 0x01);
	assert_int_equal(serial_rx_push(f->s, &c, 1), 1);
	assert_int_equal(line_log_n, 1);
	assert_int_equal(line_log[0], 1);
	/* more data for the same cause: no new edge */
	assert_int_equal(serial_rx_push(f->s, &c, 1), 1);
	assert_int_equal(line_log_n, 1);
	/* THRE appears while RDA holds the line high: pulse */
	outb(f->bus, IER, 0x03);
	assert_int_equal(line_log_n, 3);
	assert_int_equal(line_log[1], 0);
	assert_int_equal(line_log[2], 1);
	/* draining everything lowers it once */
	inb(f->bus, RBR);
	inb(f->bus, RBR);
	assert_int_equal(line_log_n, 3);
	assert_int_equal(inb(f->bus, IIR), 0xc2);
	assert_int_equal(line_log_n, 4);
	assert_int_equal(line_log[3], 0);
	/* redundant accesses drive nothing */
	inb(f->bus, LSR);
	inb(f->bus, IIR);
	outb(f->bus, SCR, 1);
	assert_int_equal(line_log_n, 4);
	/* a THR write raises it (edge) */
	outb(f->bus, THR, 'o');
	assert_int_equal(line_log_n, 5);
	assert_int_equal(line_log[4], 1);
	assert_int_equal(f->irq.level, 1);
}

/*
 * The event loop's side of the flow control, against a guest draining the
 * FIFO on another thread: every byte arrives once and in order, and the
 * loop never waits for a wake that does not come.
 */
#define STREAM_LEN 20000

struct stream {
	struct fixture *f;
	int stalls;
	int timeouts;
};

static void *event_loop_thread(void *arg)
{
	struct stream *st = arg;
	struct fixture *f = st->f;
	uint8_t buf[STREAM_LEN];
	size_t sent = 0;

	for (size_t i = 0; i < STREAM_LEN; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	while (sent < STREAM_LEN) {
		size_t n = serial_rx_push(f->s, buf + sent, STREAM_LEN - sent);
		struct pollfd pfd = { .fd = f->wake_fd, .events = POLLIN };

		sent += n;
		if (n || sent == STREAM_LEN)
			continue;
		st->stalls++;
		if (poll(&pfd, 1, 5000) != 1) {
			st->timeouts++;
			break;
		}
		wakes(f);
	}
	return NULL;
}

static void test_rx_flow_control_threads(void **state)
{
	struct fixture *f = *state;
	struct stream st = { .f = f };
	pthread_t th;
	size_t got = 0;
	int bad = 0;

	enable_fifo(f, 0x80);
	outb(f->bus, IER, 0x01);
	assert_int_equal(pthread_create(&th, NULL, event_loop_thread, &st), 0);
	while (got < STREAM_LEN) {
		if (!(inb(f->bus, LSR) & 0x01)) {
			if (st.timeouts)
				break;
			continue;
		}
		if (inb(f->bus, RBR) != (uint8_t)(got * 31 + 7))
			bad++;
		got++;
	}
	pthread_join(th, NULL);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(got, STREAM_LEN);
	assert_int_equal(bad, 0);
	assert_true(st.stalls > 0);
	assert_int_equal(inb(f->bus, LSR) & 0x01, 0);
	assert_int_equal(f->irq.level, 0);
}

/* Any offset, any width, any value: no crash, state stays sane. */
static void test_hostile_accesses(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8];
	char out[8];

	memset(buf, 0xff, sizeof(buf));
	assert_true(iobus_read(f->bus, COM1, buf, 8));
	assert_int_equal(buf[2], 0x01);		/* IIR */
	assert_int_equal(buf[5] & 0x60, 0x60);	/* LSR */
	memset(buf, 0xff, sizeof(buf));
	assert_true(iobus_write(f->bus, COM1 + 4, buf, 4));	/* MCR, LSR, MSR, SCR */
	assert_int_equal(inb(f->bus, MCR), 0x1f);
	assert_int_equal(inb(f->bus, SCR), 0xff);
	assert_int_equal(inb(f->bus, LSR) & 0x60, 0x60);	/* LSR is read-only */
	outb(f->bus, MCR, 0);
	/* a 2-byte write at 0 is THR then IER */
	pio_out(f->bus, COM1, 0xff41, 2);
	assert_int_equal(read(f->pipe_rd, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(inb(f->bus, IER), 0x0f);
	/* beyond the 8 registers is not the UART's */
	assert_false(iobus_read(f->bus, COM1 + 6, buf, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_and_dlab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_clear_and_mode_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_pulses, setup_fake_kvm, teardown),
		cmocka_unit_test_setup_teardown(test_rx_flow_control_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
