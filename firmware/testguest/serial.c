// SPDX-License-Identifier: MIT
/* COM1 (16550) output, polled from ring 3, and the serial check. */
#include "testguest.h"

#define COM1		0x3f8
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_SCR	7
#define LSR_THRE	0x20
#define THRE_SPINS	100000	/* each poll is a VM exit: ~1 s worst case */

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03);	/* 8N1 */
	outb(COM1 + UART_MCR, 0x03);	/* DTR, RTS */
}

static int thre_stuck;	/* THRE never came: stop waiting for it */

void serial_putc(char c)
{
	int spins = THRE_SPINS;

	if (c == '\n')
		serial_putc('\r');
	while (!thre_stuck && !(inb(COM1 + UART_LSR) & LSR_THRE))
		if (!--spins)
			thre_stuck = 1;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_puts(buf);
	return n;
}

static int scratch_roundtrip(uint8_t v)
{
	outb(COM1 + UART_SCR, v);
	return inb(COM1 + UART_SCR) == v;
}

int check_serial(char *why)
{
	uint8_t lsr = inb(COM1 + UART_LSR);
	uint8_t lcr = inb(COM1 + UART_LCR);
	int spins;

	if (thre_stuck) {
		snprintf(why, WHY_LEN, "THRE never set: output was not paced");
		return -1;
	}
	if (lsr == 0xff) {
		snprintf(why, WHY_LEN, "no UART at 0x3f8 (LSR reads 0xff)");
		return -1;
	}
	if (!scratch_roundtrip(0x5a) || !scratch_roundtrip(0xa5)) {
		snprintf(why, WHY_LEN, "scratch register does not read back");
		return -1;
	}
	if ((lcr & 0x7f) != 0x03) {
		snprintf(why, WHY_LEN, "LCR reads %#x, wrote 0x03", lcr);
		return -1;
	}
	printf("serial: lsr %#x\n", lsr);
	/* a whole line went out: THRE must come back */
	for (spins = THRE_SPINS; spins; spins--) {
		lsr = inb(COM1 + UART_LSR);
		if (lsr & LSR_THRE)
			break;
	}
	if (!spins) {
		snprintf(why, WHY_LEN, "THRE clear after output (LSR %#x)", lsr);
		return -1;
	}
	return 0;
}
