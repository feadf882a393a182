// SPDX-License-Identifier: MIT
/*
 * MC146818 CMOS RTC at 0x70 (index; bit 7 = NMI disable) and 0x71 (data).
 *
 * The clock registers report the host's real time (UTC), read afresh at
 * each access, in BCD unless the guest sets status B DM (binary), and in
 * 24-hour mode unless it clears status B 24/12. Writes to the clock
 * registers are ignored: the guest cannot move the host's clock (hwclock
 * --systohc is a no-op). The update cycle is never in progress (status A
 * UIP reads 0). Alarm, periodic and update-ended interrupts are not
 * emulated: no guest husk runs needs them (Linux reads the RTC once at
 * boot), so the alarm registers are plain RAM and status C reads 0.
 * Everything else is 128 bytes of CMOS RAM the guest may use as it likes.
 */
#include "devices/devices.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RTC_INDEX_PORT		0x70
#define RTC_NR_PORTS		2
#define RTC_CMOS_SIZE		128

#define RTC_INDEX_MASK		0x7f
#define RTC_NMI_DISABLE		0x80

#define RTC_SECONDS		0x00
#define RTC_MINUTES		0x02
#define RTC_HOURS		0x04
#define RTC_WEEKDAY		0x06
#define RTC_DAY			0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
#define RTC_CENTURY		0x32

#define RTC_A_UIP		0x80
#define RTC_A_DEFAULT		0x26	/* 32.768 kHz time base, 1024 Hz rate */
#define RTC_B_DM_BINARY		0x04
#define RTC_B_24H		0x02
#define RTC_D_VRT		0x80	/* RAM and time valid */
#define RTC_HOUR_PM		0x80	/* 12-hour mode */

/* Guest-visible state: plain data, saved and restored as a whole. */
struct rtc_state {
	uint8_t index;		/* last value written to 0x70, NMI bit included */
	uint8_t cmos[RTC_CMOS_SIZE];
};

struct rtc {
	pthread_mutex_t lock;
	struct rtc_state st;
	struct io_bus *pio;
};

static uint8_t rtc_encode(const struct rtc_state *st, unsigned v)
{
	if (st->cmos[RTC_REG_B] & RTC_B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static uint8_t rtc_hours(const struct rtc_state *st, unsigned h)
{
	unsigned h12;

	if (st->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(st, h);
	h12 = h % 12 ? h % 12 : 12;
	return rtc_encode(st, h12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

static bool rtc_is_clock(uint8_t reg)
{
	switch (reg) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_WEEKDAY:
	case RTC_DAY: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
		return true;
	}
	return false;
}

static uint8_t rtc_read_clock(const struct rtc_state *st, uint8_t reg)
{
	struct timespec ts;
	struct tm tm;
	unsigned year;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm))
		return 0;
	year = (unsigned)(tm.tm_year + 1900);
	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(st, (unsigned)tm.tm_sec);
	case RTC_MINUTES:
		return rtc_encode(st, (unsigned)tm.tm_min);
	case RTC_HOURS:
		return rtc_hours(st, (unsigned)tm.tm_hour);
	case RTC_WEEKDAY:
		return rtc_encode(st, (unsigned)tm.tm_wday + 1);	/* Sunday = 1 */
	case RTC_DAY:
		return rtc_encode(st, (unsigned)tm.tm_mday);
	case RTC_MONTH:
		return rtc_encode(st, (unsigned)tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(st, year % 100);
	case RTC_CENTURY:
		return rtc_encode(st, year / 100);
	}
	return 0;
}

static uint8_t rtc_read_reg(const struct rtc_state *st, uint8_t reg)
{
	if (rtc_is_clock(reg))
		return rtc_read_clock(st, reg);
	switch (reg) {
	case RTC_REG_A:
		return st->cmos[RTC_REG_A] & ~RTC_A_UIP;
	case RTC_REG_C:
		return 0;	/* no interrupt flags: nothing is emulated */
	case RTC_REG_D:
		return RTC_D_VRT;
	}
	return st->cmos[reg];
}

static void rtc_write_reg(struct rtc_state *st, uint8_t reg, uint8_t v)
{
	if (rtc_is_clock(reg))
		return;		/* the clock follows the host */
	switch (reg) {
	case RTC_REG_A:
		st->cmos[reg] = v & ~RTC_A_UIP;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;		/* read-only */
	default:
		st->cmos[reg] = v;
		break;
	}
}

/* One byte at @port (0: index, 1: data). */
static uint8_t rtc_read_port(struct rtc_state *st, uint64_t port)
{
	if (port == 0)
		return st->index;
	return rtc_read_reg(st, st->index & RTC_INDEX_MASK);
}

static void rtc_write_port(struct rtc_state *st, uint64_t port, uint8_t v)
{
	if (port == 0)
		st->index = v;
	else
		rtc_write_reg(st, st->index & RTC_INDEX_MASK, v);
}

/* Wider accesses split into byte accesses at consecutive ports. */
static void rtc_io_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++)
		data[i] = offset + i < RTC_NR_PORTS ? rtc_read_port(&r->st, offset + i) : 0xff;
	pthread_mutex_unlock(&r->lock);
}

static void rtc_io_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++)
		if (offset + i < RTC_NR_PORTS)
			rtc_write_port(&r->st, offset + i, data[i]);
	pthread_mutex_unlock(&r->lock);
}

static const struct io_region_ops rtc_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

static void rtc_reset(struct rtc_state *st)
{
	memset(st, 0, sizeof(*st));
	st->cmos[RTC_REG_A] = RTC_A_DEFAULT;
	st->cmos[RTC_REG_B] = RTC_B_24H;
	st->cmos[RTC_REG_D] = RTC_D_VRT;
}

struct rtc *rtc_create(struct io_bus *pio)
{
	struct rtc *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return NULL;
	rtc_reset(&r->st);
	r->pio = pio;
	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret) {
		free(r);
		errno = ret;
		return NULL;
	}
	ret = iobus_register(pio, RTC_INDEX_PORT, RTC_NR_PORTS, &rtc_ops, r, "rtc");
	if (ret) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		errno = -ret;
		return NULL;
	}
	return r;
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	iobus_unregister(r->pio, RTC_INDEX_PORT);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/*
 * Saved state (core/statebuf.h): the index latch and the 128 CMOS bytes.
 * The clock registers, status C and D are never stored (the clock is the
 * host's, C and D are read-only), so they must hold what a reset left.
 */
int rtc_save(struct rtc *r, struct state_writer *w)
{
	struct rtc_state st;

	pthread_mutex_lock(&r->lock);
	st = r->st;
	pthread_mutex_unlock(&r->lock);
	sw_u8(w, st.index);
	sw_bytes(w, st.cmos, sizeof(st.cmos));
	return w->err;
}

int rtc_load(struct rtc *r, struct state_reader *rd)
{
	struct rtc_state st;

	st.index = sr_u8(rd);
	sr_bytes(rd, st.cmos, sizeof(st.cmos));
	if (sr_done(rd))
		return rd->err;
	for (unsigned i = 0; i < RTC_CMOS_SIZE; i++)
		if (rtc_is_clock((uint8_t)i) && st.cmos[i])
			return sr_fail(rd, "rtc: clock register 0x%02x holds 0x%02x (never stored)",
				       i, st.cmos[i]);
	if (st.cmos[RTC_REG_A] & RTC_A_UIP)
		return sr_fail(rd, "rtc: status A 0x%02x has update-in-progress set",
			       st.cmos[RTC_REG_A]);
	if (st.cmos[RTC_REG_C] != 0 || st.cmos[RTC_REG_D] != RTC_D_VRT)
		return sr_fail(rd, "rtc: read-only status C 0x%02x / D 0x%02x changed",
			       st.cmos[RTC_REG_C], st.cmos[RTC_REG_D]);
	pthread_mutex_lock(&r->lock);
	r->st = st;
	pthread_mutex_unlock(&r->lock);
	return 0;
}
