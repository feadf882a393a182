// SPDX-License-Identifier: MIT
/*
 * A 16550A UART, as Linux's 8250 driver probes and drives it.
 *
 * Transmit is instantaneous: a THR write goes straight to the console, so
 * THR and the transmitter are always empty (LSR THRE | TEMT) and a "THR
 * empty" interrupt follows every write (and the enabling of ETBEI).
 * Receive goes through a FIFO fed by the event loop (serial_rx_push); the
 * loop stops reading the console while the FIFO is full and the UART kicks
 * rx_wake_fd when the guest makes room again.
 *
 * The interrupt line (ISA IRQ 4) is edge-triggered: its level follows "an
 * interrupt is pending", and a cause that appears while the line is already
 * high is signalled by pulsing the line low and high again.
 *
 * Every register is one byte wide; a wider access is split into byte
 * accesses at consecutive offsets, as the ISA bus does.
 */
#include "devices/devices.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#define SERIAL_NR_REGS		8
#define SERIAL_FIFO_SIZE	64

/* register offsets */
#define UART_RX		0	/* RBR (read), THR (write); DLL with DLAB */
#define UART_IER	1	/* DLM with DLAB */
#define UART_IIR	2	/* IIR (read), FCR (write) */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI		0x01	/* received data available */
#define UART_IER_THRI		0x02	/* THR empty */
#define UART_IER_RLSI		0x04	/* receiver line status */
#define UART_IER_MSI		0x08	/* modem status */
#define UART_IER_MASK		0x0f

#define UART_IIR_NO_INT		0x01
#define UART_IIR_MSI		0x00
#define UART_IIR_THRI		0x02
#define UART_IIR_RDI		0x04
#define UART_IIR_RLSI		0x06
#define UART_IIR_TIMEOUT	0x0c
#define UART_IIR_FIFO_ON	0xc0

#define UART_FCR_ENABLE		0x01
#define UART_FCR_CLEAR_RX	0x02
#define UART_FCR_CLEAR_TX	0x04
#define UART_FCR_KEEP		0xc9	/* enable, DMA mode, trigger level */
#define UART_FCR_TRIGGER(f)	(((f) >> 6) & 3)

#define UART_LCR_DLAB		0x80

#define UART_MCR_DTR		0x01
#define UART_MCR_RTS		0x02
#define UART_MCR_OUT1		0x04
#define UART_MCR_OUT2		0x08
#define UART_MCR_LOOP		0x10
#define UART_MCR_MASK		0x1f

#define UART_LSR_DR		0x01
#define UART_LSR_OE		0x02
#define UART_LSR_ERRORS		0x1e	/* OE, PE, FE, BI */
#define UART_LSR_THRE		0x20
#define UART_LSR_TEMT		0x40

#define UART_MSR_DCTS		0x01
#define UART_MSR_DDSR		0x02
#define UART_MSR_TERI		0x04
#define UART_MSR_DDCD		0x08
#define UART_MSR_DELTAS		0x0f
#define UART_MSR_CTS		0x10
#define UART_MSR_DSR		0x20
#define UART_MSR_RI		0x40
#define UART_MSR_DCD		0x80
/* lines seen when not in loopback: the host end is always connected */
#define UART_MSR_CONNECTED	(UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

/* interrupt causes, one bit each, for edge detection */
#define CAUSE_RLS	0x01
#define CAUSE_RDA	0x02
#define CAUSE_THRE	0x04
#define CAUSE_MSI	0x08

/* Guest-visible state: plain data, saved and restored as a whole. */
struct serial_state {
	uint8_t ier;
	uint8_t fcr;
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_errors;	/* OE...BI, cleared by reading LSR */
	uint8_t msr;
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	uint8_t thr_ipending;	/* THR empty interrupt not yet acknowledged */
	uint8_t signalled;	/* causes pending at the last line update */
	uint8_t irq_level;	/* level last driven on the line */
	uint8_t rx_head;
	uint8_t rx_count;
	uint8_t rx_fifo[SERIAL_FIFO_SIZE];
};

struct serial {
	pthread_mutex_t lock;
	struct serial_state st;
	struct io_bus *pio;
	uint16_t base;
	struct irq_line *irq;
	struct console *con;
	int rx_wake_fd;
};

static const uint8_t fifo_trigger_level[4] = { 1, 4, 8, 14 };

static bool serial_loop(const struct serial_state *st)
{
	return st->mcr & UART_MCR_LOOP;
}

static size_t serial_rx_capacity(const struct serial_state *st)
{
	return (st->fcr & UART_FCR_ENABLE) ? SERIAL_FIFO_SIZE : 1;
}

/* Room for console input: none in loopback, where the line is disconnected. */
static size_t serial_rx_room(const struct serial_state *st)
{
	size_t cap = serial_rx_capacity(st);

	if (serial_loop(st) || st->rx_count >= cap)
		return 0;
	return cap - st->rx_count;
}

/* Append one byte; false (overrun) when the FIFO is full. */
static bool serial_rx_put(struct serial_state *st, uint8_t b)
{
	if (st->rx_count >= serial_rx_capacity(st))
		return false;
	st->rx_fifo[(st->rx_head + st->rx_count) % SERIAL_FIFO_SIZE] = b;
	st->rx_count++;
	return true;
}

static uint8_t serial_rx_get(struct serial_state *st)
{
	uint8_t b;

	if (!st->rx_count)
		return 0;
	b = st->rx_fifo[st->rx_head];
	st->rx_head = (st->rx_head + 1) % SERIAL_FIFO_SIZE;
	st->rx_count--;
	return b;
}

static void serial_rx_clear(struct serial_state *st)
{
	st->rx_head = 0;
	st->rx_count = 0;
}

/* Modem status lines (MSR bits 7:4) as the MCR drives them. */
static uint8_t serial_modem_lines(uint8_t mcr)
{
	uint8_t lines = 0;

	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_CONNECTED;
	if (mcr & UART_MCR_RTS)
		lines |= UART_MSR_CTS;
	if (mcr & UART_MCR_DTR)
		lines |= UART_MSR_DSR;
	if (mcr & UART_MCR_OUT1)
		lines |= UART_MSR_RI;
	if (mcr & UART_MCR_OUT2)
		lines |= UART_MSR_DCD;
	return lines;
}

static uint8_t serial_causes(const struct serial_state *st)
{
	uint8_t causes = 0;

	if ((st->ier & UART_IER_RLSI) && (st->lsr_errors & UART_LSR_ERRORS))
		causes |= CAUSE_RLS;
	if ((st->ier & UART_IER_RDI) && st->rx_count)
		causes |= CAUSE_RDA;
	if ((st->ier & UART_IER_THRI) && st->thr_ipending)
		causes |= CAUSE_THRE;
	if ((st->ier & UART_IER_MSI) && (st->msr & UART_MSR_DELTAS))
		causes |= CAUSE_MSI;
	return causes;
}

static void serial_set_line(struct serial *s, int level)
{
	int ret = irq_line_set(s->irq, level);

	s->st.irq_level = level;
	if (ret)
		pr_debug("serial 0x%x: setting irq %u to %d: %s", s->base,
			 s->irq->gsi, level, strerror(-ret));
}

/* Drive the line from the pending causes, pulsing it for a new cause. */
static void serial_update_irq(struct serial *s)
{
	uint8_t causes = serial_causes(&s->st);
	uint8_t fresh = causes & ~s->st.signalled;

	s->st.signalled = causes;
	if (!s->irq)
		return;
	if (!causes) {
		if (s->st.irq_level)
			serial_set_line(s, 0);
	} else if (!s->st.irq_level) {
		serial_set_line(s, 1);
	} else if (fresh) {
		serial_set_line(s, 0);
		serial_set_line(s, 1);
	}
}

/* Tell the event loop it may read console input again. */
static void serial_wake_rx(struct serial *s)
{
	uint64_t one = 1;

	if (s->rx_wake_fd < 0)
		return;
	if (write(s->rx_wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_debug("serial 0x%x: rx wake: %s", s->base, strerror(errno));
}

static uint8_t serial_read_iir(struct serial_state *st)
{
	uint8_t causes = serial_causes(st);
	uint8_t iir = (st->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ON : 0;

	if (causes & CAUSE_RLS) {
		iir |= UART_IIR_RLSI;
	} else if (causes & CAUSE_RDA) {
		/* below the trigger level a FIFO reports a character timeout */
		if ((st->fcr & UART_FCR_ENABLE) &&
		    st->rx_count < fifo_trigger_level[UART_FCR_TRIGGER(st->fcr)])
			iir |= UART_IIR_TIMEOUT;
		else
			iir |= UART_IIR_RDI;
	} else if (causes & CAUSE_THRE) {
		iir |= UART_IIR_THRI;
		st->thr_ipending = 0;	/* reading IIR acknowledges THRE */
	} else if (causes & CAUSE_MSI) {
		iir |= UART_IIR_MSI;
	} else {
		iir |= UART_IIR_NO_INT;
	}
	return iir;
}

static uint8_t serial_read_lsr(struct serial_state *st)
{
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | st->lsr_errors;

	if (st->rx_count)
		lsr |= UART_LSR_DR;
	st->lsr_errors = 0;
	return lsr;
}

static uint8_t serial_read_msr(struct serial_state *st)
{
	uint8_t msr = st->msr;

	st->msr &= ~UART_MSR_DELTAS;
	return msr;
}

static uint8_t serial_read_reg(struct serial_state *st, unsigned reg)
{
	bool dlab = st->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RX:
		return dlab ? st->dll : serial_rx_get(st);
	case UART_IER:
		return dlab ? st->dlm : st->ier;
	case UART_IIR:
		return serial_read_iir(st);
	case UART_LCR:
		return st->lcr;
	case UART_MCR:
		return st->mcr;
	case UART_LSR:
		return serial_read_lsr(st);
	case UART_MSR:
		return serial_read_msr(st);
	case UART_SCR:
		return st->scr;
	}
	return 0xff;
}

/* Returns true when @v must go out to the console. */
static bool serial_write_thr(struct serial_state *st, uint8_t v)
{
	st->thr_ipending = 1;	/* sent at once: THR is empty again */
	if (!serial_loop(st))
		return true;
	if (!serial_rx_put(st, v))
		st->lsr_errors |= UART_LSR_OE;
	return false;
}

static void serial_write_ier(struct serial_state *st, uint8_t v)
{
	uint8_t changed = (st->ier ^ v) & UART_IER_MASK;

	st->ier = v & UART_IER_MASK;
	/* enabling ETBEI with THR empty raises THRE, as real 16550s do */
	if (changed & UART_IER_THRI)
		st->thr_ipending = !!(st->ier & UART_IER_THRI);
}

static void serial_write_fcr(struct serial_state *st, uint8_t v)
{
	/* toggling the FIFO enable resets both FIFOs */
	if ((v ^ st->fcr) & UART_FCR_ENABLE)
		serial_rx_clear(st);
	if (!(v & UART_FCR_ENABLE)) {
		st->fcr = 0;
		return;
	}
	if (v & UART_FCR_CLEAR_RX)
		serial_rx_clear(st);
	st->fcr = v & UART_FCR_KEEP;
}

static void serial_write_mcr(struct serial_state *st, uint8_t v)
{
	uint8_t old = serial_modem_lines(st->mcr);
	uint8_t new = serial_modem_lines(v & UART_MCR_MASK);
	uint8_t diff = old ^ new;
	uint8_t deltas = 0;

	st->mcr = v & UART_MCR_MASK;
	if (diff & UART_MSR_CTS)
		deltas |= UART_MSR_DCTS;
	if (diff & UART_MSR_DSR)
		deltas |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(new & UART_MSR_RI))
		deltas |= UART_MSR_TERI;
	if (diff & UART_MSR_DCD)
		deltas |= UART_MSR_DDCD;
	st->msr = new | (st->msr & UART_MSR_DELTAS) | deltas;
}

static bool serial_write_reg(struct serial_state *st, unsigned reg, uint8_t v)
{
	bool dlab = st->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RX:
		if (!dlab)
			return serial_write_thr(st, v);
		st->dll = v;
		break;
	case UART_IER:
		if (dlab)
			st->dlm = v;
		else
			serial_write_ier(st, v);
		break;
	case UART_IIR:
		serial_write_fcr(st, v);
		break;
	case UART_LCR:
		st->lcr = v;
		break;
	case UART_MCR:
		serial_write_mcr(st, v);
		break;
	case UART_SCR:
		st->scr = v;
		break;
	default:		/* LSR and MSR are read-only */
		break;
	}
	return false;
}

/* After an access: update the line, and wake the reader if room appeared. */
static void serial_after_access(struct serial *s, size_t room_before)
{
	serial_update_irq(s);
	if (!room_before && serial_rx_room(&s->st))
		serial_wake_rx(s);
}

static void serial_io_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = serial_rx_room(&s->st);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t reg = offset + i;

		data[i] = reg < SERIAL_NR_REGS ? serial_read_reg(&s->st, reg) : 0xff;
	}
	serial_after_access(s, room);
	pthread_mutex_unlock(&s->lock);
}

static void serial_io_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;
	uint8_t out[8];
	size_t nout = 0, room;

	pthread_mutex_lock(&s->lock);
	room = serial_rx_room(&s->st);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t reg = offset + i;

		if (reg < SERIAL_NR_REGS && serial_write_reg(&s->st, reg, data[i]) &&
		    nout < sizeof(out))
			out[nout++] = data[i];
	}
	serial_after_access(s, room);
	pthread_mutex_unlock(&s->lock);
	/* outside the lock: a slow console must not stall the event loop */
	if (nout)
		console_write(s->con, out, nout);
}

static const struct io_region_ops serial_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
};

static void serial_reset(struct serial_state *st)
{
	memset(st, 0, sizeof(*st));
	st->msr = UART_MSR_CONNECTED;
	st->dll = 12;		/* 9600 baud from the 1.8432 MHz clock */
}

struct serial *serial_create(struct io_bus *pio, uint16_t base, struct irq_line *irq,
			     struct console *con, int rx_wake_fd)
{
	struct serial *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	serial_reset(&s->st);
	s->pio = pio;
	s->base = base;
	s->irq = irq;
	s->con = con;
	s->rx_wake_fd = rx_wake_fd;
	if (irq)
		s->st.irq_level = irq->level ? 1 : 0;
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		free(s);
		errno = ret;
		return NULL;
	}
	ret = iobus_register(pio, base, SERIAL_NR_REGS, &serial_ops, s, "serial");
	if (ret) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		errno = -ret;
		return NULL;
	}
	return s;
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	iobus_unregister(s->pio, s->base);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

size_t serial_rx_space(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = serial_rx_room(&s->st);
	pthread_mutex_unlock(&s->lock);
	return room;
}

size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && serial_rx_room(&s->st) && serial_rx_put(&s->st, buf[n]))
		n++;
	if (n)
		serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/*
 * Saved state, field by field (core/statebuf.h). The line's level goes with
 * it: the irqchip's own state is restored by KVM_SET_IRQCHIP, this keeps
 * the UART's idea of what it last drove in step with it.
 */
int serial_save(struct serial *s, struct state_writer *w)
{
	struct serial_state st;

	pthread_mutex_lock(&s->lock);
	st = s->st;
	pthread_mutex_unlock(&s->lock);
	sw_u8(w, st.ier);
	sw_u8(w, st.fcr);
	sw_u8(w, st.lcr);
	sw_u8(w, st.mcr);
	sw_u8(w, st.lsr_errors);
	sw_u8(w, st.msr);
	sw_u8(w, st.scr);
	sw_u8(w, st.dll);
	sw_u8(w, st.dlm);
	sw_u8(w, st.thr_ipending);
	sw_u8(w, st.signalled);
	sw_u8(w, st.irq_level);
	sw_u8(w, st.rx_head);
	sw_u8(w, st.rx_count);
	sw_bytes(w, st.rx_fifo, sizeof(st.rx_fifo));
	return w->err;
}

int serial_load(struct serial *s, struct state_reader *r)
{
	struct serial_state st;

	st.ier = sr_u8(r);
	st.fcr = sr_u8(r);
	st.lcr = sr_u8(r);
	st.mcr = sr_u8(r);
	st.lsr_errors = sr_u8(r);
	st.msr = sr_u8(r);
	st.scr = sr_u8(r);
	st.dll = sr_u8(r);
	st.dlm = sr_u8(r);
	st.thr_ipending = sr_bool(r);
	st.signalled = sr_u8(r);
	st.irq_level = sr_bool(r);
	st.rx_head = sr_u8(r);
	st.rx_count = sr_u8(r);
	sr_bytes(r, st.rx_fifo, sizeof(st.rx_fifo));
	if (sr_done(r))
		return r->err;
	if (st.rx_head >= SERIAL_FIFO_SIZE || st.rx_count > SERIAL_FIFO_SIZE)
		return sr_fail(r, "serial: RX FIFO head %u, count %u (FIFO of %u)",
			       st.rx_head, st.rx_count, SERIAL_FIFO_SIZE);
	if (st.signalled & ~(CAUSE_RLS | CAUSE_RDA | CAUSE_THRE | CAUSE_MSI))
		return sr_fail(r, "serial: pending causes 0x%x", st.signalled);
	pthread_mutex_lock(&s->lock);
	s->st = st;
	if (s->irq)
		s->irq->level = st.irq_level;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
