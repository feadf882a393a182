// SPDX-License-Identifier: MIT
/*
 * The WDAT watchdog's registers and timer: arming, kicking, the countdown,
 * expiry and its action, stopping, with a fake clock (no thread); and one
 * run of the real timer thread with the shortest countdown (1 s).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "core/log.h"
#include "devices/devices.h"
#include "memory/layout.h"
#include "unit_helpers.h"

#define MS		1000000ULL
#define PERIOD		(WDT_PERIOD_MS * MS)

struct event_rec {
	int n;
	char event[32], detail[32];
};

static void record_event(void *ctx, const char *event, const char *detail)
{
	struct event_rec *r = ctx;

	r->n++;
	snprintf(r->event, sizeof(r->event), "%s", event);
	snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
}

struct fixture {
	struct io_bus *bus;
	uint64_t now;			/* the fake clock, ns */
	struct stop_rec stops;
	struct event_rec events;
	struct stop_hook stop;
	struct event_hook hook;
	struct watchdog *w;
};

static uint64_t fake_clock(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

static struct fixture *make(enum watchdog_action action)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct watchdog_params p = { .action = action, .clock = fake_clock, .clock_ctx = f };

	f->bus = iobus_create("pio");
	f->now = 1000 * MS;
	f->stop = (struct stop_hook){ .request = record_stop, .ctx = &f->stops };
	f->hook = (struct event_hook){ .emit = record_event, .ctx = &f->events };
	p.stop = &f->stop;
	p.events = &f->hook;
	assert_int_equal(watchdog_create(f->bus, &p, &f->w), 0);
	return f;
}

static void destroy(struct fixture *f)
{
	watchdog_destroy(f->w);
	iobus_destroy(f->bus);
	free(f);
}

static void wr(struct fixture *f, unsigned reg, uint32_t v)
{
	pio_out(f->bus, PORT_WDT_BASE + reg, v, 4);
}

static uint32_t rd(struct fixture *f, unsigned reg)
{
	return pio_in(f->bus, PORT_WDT_BASE + reg, 4);
}

/* What wdat_wdt does on open: SET_COUNTDOWN, then SET_RUNNING_STATE. */
static void arm(struct fixture *f, uint32_t count)
{
	wr(f, WDT_REG_COUNT, count);
	wr(f, WDT_REG_CTL, rd(f, WDT_REG_CTL) | WDT_CTL_RUNNING);
}

static void test_reset_state(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_RESET);
	struct watchdog_state st;

	(void)state;
	assert_int_equal(rd(f, WDT_REG_CTL), 0);		/* stopped at boot */
	assert_int_equal(rd(f, WDT_REG_STS), 0);
	assert_int_equal(rd(f, WDT_REG_COUNT), WDT_MAX_COUNT);
	assert_int_equal(rd(f, WDT_REG_LEFT), WDT_MAX_COUNT);
	assert_int_equal(rd(f, WDT_REG_KICK), 0);
	/* a stopped watchdog never fires, however long it waits */
	f->now += 10ULL * WDT_MAX_COUNT * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);
	watchdog_get_state(f->w, &st);
	assert_int_equal(st.running, 0);
	assert_int_equal(f->events.n, 0);
	/* outside the block: not the watchdog's */
	assert_int_equal(pio_in(f->bus, PORT_WDT_BASE + WDT_REGS_LEN, 4), 0xffffffff);
	destroy(f);
}

static void test_countdown_clamped(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_RESET);

	(void)state;
	wr(f, WDT_REG_COUNT, 50);
	assert_int_equal(rd(f, WDT_REG_COUNT), 50);
	wr(f, WDT_REG_COUNT, 0);
	assert_int_equal(rd(f, WDT_REG_COUNT), WDT_MIN_COUNT);
	wr(f, WDT_REG_COUNT, 0xffffffff);
	assert_int_equal(rd(f, WDT_REG_COUNT), WDT_MAX_COUNT);
	/* narrow writes update the addressed bytes: 0x0000_0134 -> 0x0000_0234 */
	wr(f, WDT_REG_COUNT, 0x134);
	pio_out(f->bus, PORT_WDT_BASE + WDT_REG_COUNT + 1, 0x02, 1);
	assert_int_equal(rd(f, WDT_REG_COUNT), 0x234);
	assert_int_equal(pio_in(f->bus, PORT_WDT_BASE + WDT_REG_COUNT, 2), 0x234);
	assert_int_equal(pio_in(f->bus, PORT_WDT_BASE + WDT_REG_COUNT + 1, 1), 0x02);
	/* an access that crosses two registers is ignored */
	pio_out(f->bus, PORT_WDT_BASE + WDT_REG_COUNT + 2, 0xffffffff, 4);
	assert_int_equal(rd(f, WDT_REG_COUNT), 0x234);
	assert_int_equal(pio_in(f->bus, PORT_WDT_BASE + WDT_REG_COUNT + 2, 4), 0);
	destroy(f);
}

/* Armed and left alone: fires exactly when the countdown runs out, once. */
static void test_expiry_resets(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_RESET);
	struct stderr_capture cap;
	char *log;

	(void)state;
	arm(f, 50);					/* 5 s */
	assert_int_equal(rd(f, WDT_REG_CTL), WDT_CTL_RUNNING);
	assert_int_equal(rd(f, WDT_REG_LEFT), 50);
	f->now += 20 * PERIOD + PERIOD / 2;
	assert_int_equal(rd(f, WDT_REG_LEFT), 30);	/* 29.5 periods, rounded up */
	f->now += 29 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);	/* half a period to go */
	assert_int_equal(f->stops.calls, 0);
	f->now += PERIOD / 2;
	stderr_capture_begin(&cap);
	assert_int_equal(watchdog_poll(f->w), 1);
	log = stderr_capture_end(&cap);
	assert_int_equal(count_substr(log, "guest watchdog fired: not kicked for 5000 ms; "
				      "resetting the guest"), 1);
	free(log);
	assert_int_equal(f->stops.calls, 1);
	assert_int_equal(f->stops.why, STOP_WATCHDOG_RESET);
	assert_int_equal(f->stops.status, 0);
	assert_int_equal(f->events.n, 1);
	assert_string_equal(f->events.event, "watchdog-fired");
	assert_string_equal(f->events.detail, "reset");
	/* it fired once: stopped, status bit set */
	assert_int_equal(rd(f, WDT_REG_CTL), 0);
	assert_int_equal(rd(f, WDT_REG_STS), WDT_STS_FIRED);
	f->now += 1000 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);
	assert_int_equal(f->stops.calls, 1);
	assert_int_equal(f->events.n, 1);
	destroy(f);
}

/* Kicks reload the countdown; a kicked watchdog does not fire. */
static void test_kick(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_RESET);

	(void)state;
	arm(f, 20);					/* 2 s */
	for (int i = 0; i < 100; i++) {
		f->now += 19 * PERIOD;
		assert_int_equal(watchdog_poll(f->w), 0);
		wr(f, WDT_REG_KICK, 1);
		assert_int_equal(rd(f, WDT_REG_LEFT), 20);
	}
	assert_int_equal(f->events.n, 0);
	/* a kick with bit 0 clear is no kick */
	f->now += 19 * PERIOD;
	wr(f, WDT_REG_KICK, 0);
	f->now += PERIOD;
	assert_int_equal(watchdog_poll(f->w), 1);
	assert_int_equal(f->events.n, 1);
	destroy(f);
}

/* A kick while stopped does not start it; a new countdown while running reloads. */
static void test_kick_stopped_and_set_countdown(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_RESET);

	(void)state;
	wr(f, WDT_REG_COUNT, 10);
	wr(f, WDT_REG_KICK, 1);
	assert_int_equal(rd(f, WDT_REG_CTL), 0);
	f->now += 100 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);
	arm(f, 10);
	f->now += 9 * PERIOD;
	wr(f, WDT_REG_COUNT, 30);			/* WDIOC_SETTIMEOUT */
	assert_int_equal(rd(f, WDT_REG_LEFT), 30);
	f->now += 29 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);
	f->now += PERIOD;
	assert_int_equal(watchdog_poll(f->w), 1);
	destroy(f);
}

/* Stopping (SET_STOPPED_STATE, as the magic close does) disarms it. */
static void test_stop(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_RESET);

	(void)state;
	arm(f, 10);
	f->now += 9 * PERIOD;
	wr(f, WDT_REG_CTL, rd(f, WDT_REG_CTL) & ~WDT_CTL_RUNNING);
	assert_int_equal(rd(f, WDT_REG_CTL), 0);
	f->now += 100 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);
	assert_int_equal(f->events.n, 0);
	/* started again: a full countdown from now, not the old deadline */
	wr(f, WDT_REG_CTL, WDT_CTL_RUNNING);
	f->now += 9 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 0);
	f->now += PERIOD;
	assert_int_equal(watchdog_poll(f->w), 1);
	destroy(f);
}

static void test_action_poweroff(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_POWEROFF);

	(void)state;
	arm(f, 10);
	f->now += 10 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 1);
	assert_int_equal(f->stops.calls, 1);
	assert_int_equal(f->stops.why, STOP_WATCHDOG_POWEROFF);
	assert_int_equal(f->stops.status, 0);
	assert_string_equal(f->events.detail, "poweroff");
	destroy(f);
}

/* Action none: the event and the status bit; the guest clears it and re-arms. */
static void test_action_none(void **state)
{
	struct fixture *f = make(WATCHDOG_ACTION_NONE);
	struct stderr_capture cap;
	char *log;

	(void)state;
	arm(f, 10);
	f->now += 10 * PERIOD;
	stderr_capture_begin(&cap);
	assert_int_equal(watchdog_poll(f->w), 1);
	log = stderr_capture_end(&cap);
	assert_int_equal(count_substr(log, "action none, the guest keeps running"), 1);
	free(log);
	assert_int_equal(f->stops.calls, 0);
	assert_int_equal(f->events.n, 1);
	assert_string_equal(f->events.detail, "none");
	assert_int_equal(rd(f, WDT_REG_STS), WDT_STS_FIRED);
	wr(f, WDT_REG_STS, WDT_STS_FIRED);		/* writing 1 keeps it */
	assert_int_equal(rd(f, WDT_REG_STS), WDT_STS_FIRED);
	wr(f, WDT_REG_STS, 0);				/* SET_STATUS clears it */
	assert_int_equal(rd(f, WDT_REG_STS), 0);
	arm(f, 10);
	f->now += 10 * PERIOD;
	assert_int_equal(watchdog_poll(f->w), 1);
	assert_int_equal(f->events.n, 2);
	assert_int_equal(f->stops.calls, 0);
	destroy(f);
}

static void test_bad_action(void **state)
{
	struct io_bus *bus = iobus_create("pio");
	struct watchdog_params p = { .action = (enum watchdog_action)7, .clock = fake_clock };
	struct watchdog *w = (struct watchdog *)1;

	(void)state;
	assert_int_equal(watchdog_create(bus, &p, &w), -EINVAL);
	assert_null(w);
	assert_string_equal(watchdog_action_str(WATCHDOG_ACTION_RESET), "reset");
	assert_string_equal(watchdog_action_str(WATCHDOG_ACTION_POWEROFF), "poweroff");
	assert_string_equal(watchdog_action_str(WATCHDOG_ACTION_NONE), "none");
	iobus_destroy(bus);
}

/* record_stop for a request made on the timer thread: publishes with release. */
static void record_stop_mt(void *ctx, enum stop_reason why, int status)
{
	struct stop_rec *r = ctx;

	r->why = why;
	r->status = status;
	__atomic_store_n(&r->calls, r->calls + 1, __ATOMIC_RELEASE);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The real timer thread: kicked, it holds; left alone, it fires in ~1 s. */
static void test_thread_fires(void **state)
{
	struct fixture f = { 0 };
	struct watchdog_params p = { .action = WATCHDOG_ACTION_RESET };
	uint64_t t0, fired_at = 0;

	(void)state;
	f.bus = iobus_create("pio");
	f.stop = (struct stop_hook){ .request = record_stop_mt, .ctx = &f.stops };
	f.hook = (struct event_hook){ .emit = record_event, .ctx = &f.events };
	p.stop = &f.stop;
	p.events = &f.hook;
	assert_int_equal(watchdog_create(f.bus, &p, &f.w), 0);
	arm(&f, WDT_MIN_COUNT);				/* 1 s */
	for (int i = 0; i < 6; i++) {			/* 1.5 s of kicks every 250 ms */
		usleep(250 * 1000);
		wr(&f, WDT_REG_KICK, 1);
	}
	assert_int_equal(__atomic_load_n(&f.stops.calls, __ATOMIC_ACQUIRE), 0);
	t0 = mono_ms();
	while (mono_ms() - t0 < 5000) {
		if (__atomic_load_n(&f.stops.calls, __ATOMIC_ACQUIRE)) {
			fired_at = mono_ms();
			break;
		}
		usleep(10 * 1000);
	}
	assert_int_not_equal(fired_at, 0);
	assert_true(fired_at - t0 >= 950);		/* not before the countdown */
	assert_true(fired_at - t0 <= 2500);		/* and not long after it */
	assert_int_equal(f.stops.why, STOP_WATCHDOG_RESET);
	watchdog_destroy(f.w);				/* joins the thread */
	assert_int_equal(f.events.n, 1);
	iobus_destroy(f.bus);
}

/* Destroying a running watchdog stops its thread without firing. */
static void test_thread_destroy_running(void **state)
{
	struct fixture f = { 0 };
	struct watchdog_params p = { .action = WATCHDOG_ACTION_RESET };

	(void)state;
	f.bus = iobus_create("pio");
	f.stop = (struct stop_hook){ .request = record_stop_mt, .ctx = &f.stops };
	p.stop = &f.stop;
	assert_int_equal(watchdog_create(f.bus, &p, &f.w), 0);
	arm(&f, WDT_MAX_COUNT);
	watchdog_destroy(f.w);
	assert_int_equal(f.stops.calls, 0);
	iobus_destroy(f.bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_countdown_clamped),
		cmocka_unit_test(test_expiry_resets),
		cmocka_unit_test(test_kick),
		cmocka_unit_test(test_kick_stopped_and_set_countdown),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_action_poweroff),
		cmocka_unit_test(test_action_none),
		cmocka_unit_test(test_bad_action),
		cmocka_unit_test(test_thread_fires),
		cmocka_unit_test(test_thread_destroy_running),
	};

	log_set_level(LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
