// SPDX-License-Identifier: MIT
/*
 * The guest watchdog: a small register block husk invents, described to
 * the guest by the ACPI Watchdog Action Table (boot/acpi_wdat.c), whose
 * actions are plain SystemIO register accesses, so Linux's generic
 * wdat_wdt driver runs it as /dev/watchdog. Every register is 32 bits
 * wide, at PORT_WDT_BASE + offset (memory/layout.h):
 *
 *   WDT_REG_KICK   write bit 0 = 1: reload the countdown (WDAT RESET)
 *   WDT_REG_COUNT  countdown in WDT_PERIOD_MS periods, clamped to
 *                  [WDT_MIN_COUNT, WDT_MAX_COUNT]; loaded on start and on
 *                  each kick, and at once when written while running
 *                  (GET/SET_COUNTDOWN)
 *   WDT_REG_LEFT   read: periods left, rounded up; the countdown when
 *                  stopped (GET_CURRENT_COUNTDOWN)
 *   WDT_REG_CTL    bit 0: running (GET/SET_RUNNING_STATE, _STOPPED_STATE)
 *   WDT_REG_STS    bit 0: fired since last cleared; writing 0 to bit 0
 *                  clears it (GET/SET_STATUS)
 *
 * Narrower accesses read or update the addressed bytes of a register;
 * accesses that cross a register are ignored (reads: zero). Reserved bits
 * read 0 and ignore writes.
 *
 * When the countdown runs out the watchdog stops, sets the fired bit,
 * logs, emits "watchdog-fired" and takes its action: stop the VM as a
 * reset or a power off (exit status 0, like the guest doing it), or
 * nothing more. It fires once; the guest may start it again.
 *
 * The time is kept on the host: a thread (role: device timer) sleeps on a
 * condition variable until the deadline or a register change. Tests pass
 * their own clock instead, get no thread, and call watchdog_poll().
 */
#include "devices/devices.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bytes.h"
#include "core/log.h"
#include "sandbox/seccomp.h"
#include "memory/layout.h"

#define NS_PER_MS	1000000ULL
#define PERIOD_NS	(WDT_PERIOD_MS * NS_PER_MS)

_Static_assert(WDT_REGS_LEN == WDT_REG_STS + 4, "the last register ends the block");

struct watchdog {
	struct io_bus *pio;
	enum watchdog_action action;
	struct stop_hook stop;
	struct event_hook events;
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	const struct husk_sandbox *sandbox;

	pthread_mutex_t lock;		/* guards st, quit */
	pthread_cond_t wake;		/* st changed, or quit */
	struct watchdog_state st;
	bool quit;
	bool has_thread;
	pthread_t thread;
};

static uint64_t monotonic_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const char *watchdog_action_str(enum watchdog_action a)
{
	switch (a) {
	case WATCHDOG_ACTION_RESET:    return "reset";
	case WATCHDOG_ACTION_POWEROFF: return "poweroff";
	case WATCHDOG_ACTION_NONE:     return "none";
	}
	return "unknown";
}

static uint32_t clamp_count(uint32_t v)
{
	if (v < WDT_MIN_COUNT)
		return WDT_MIN_COUNT;
	return v > WDT_MAX_COUNT ? WDT_MAX_COUNT : v;
}

/* Locked: restart the countdown from now. */
static void reload(struct watchdog *w, uint64_t now)
{
	w->st.deadline_ns = now + (uint64_t)w->st.count * PERIOD_NS;
	pthread_cond_signal(&w->wake);
}

static uint32_t periods_left(const struct watchdog *w, uint64_t now)
{
	if (!w->st.running)
		return w->st.count;
	if (now >= w->st.deadline_ns)
		return 0;
	return (uint32_t)((w->st.deadline_ns - now + PERIOD_NS - 1) / PERIOD_NS);
}

/* Locked: the value of the register at @reg. */
static uint32_t reg_read(struct watchdog *w, uint64_t reg)
{
	switch (reg) {
	case WDT_REG_COUNT: return w->st.count;
	case WDT_REG_LEFT:  return periods_left(w, w->clock(w->clock_ctx));
	case WDT_REG_CTL:   return w->st.running ? WDT_CTL_RUNNING : 0;
	case WDT_REG_STS:   return w->st.fired ? WDT_STS_FIRED : 0;
	}
	return 0;			/* KICK reads 0 */
}

static void set_running(struct watchdog *w, bool on, uint64_t now)
{
	if (on == (bool)w->st.running)
		return;
	w->st.running = on;
	if (on) {
		reload(w, now);
		pr_debug("watchdog: started, %u ms", w->st.count * WDT_PERIOD_MS);
	} else {
		pthread_cond_signal(&w->wake);
		pr_debug("watchdog: stopped");
	}
}

/* Locked: the guest wrote @v (all 32 bits) to the register at @reg. */
static void reg_write(struct watchdog *w, uint64_t reg, uint32_t v)
{
	uint64_t now = w->clock(w->clock_ctx);

	switch (reg) {
	case WDT_REG_KICK:
		if ((v & 1) && w->st.running)
			reload(w, now);
		break;
	case WDT_REG_COUNT:
		w->st.count = clamp_count(v);
		if (w->st.running)
			reload(w, now);
		break;
	case WDT_REG_CTL:
		set_running(w, v & WDT_CTL_RUNNING, now);
		break;
	case WDT_REG_STS:
		if (!(v & WDT_STS_FIRED))
			w->st.fired = 0;
		break;
	}
}

/* The register an access falls in, or -1 if it crosses one or is too wide. */
static int64_t access_reg(uint64_t offset, uint32_t len)
{
	uint64_t reg = offset & ~3ULL;

	if (len == 0 || len > 4 || offset + len > reg + 4)
		return -1;
	return (int64_t)reg;
}

static void watchdog_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct watchdog *w = opaque;
	int64_t reg = access_reg(offset, len);
	uint8_t b[4];

	memset(data, 0, len);
	if (reg < 0)
		return;
	pthread_mutex_lock(&w->lock);
	le_put(b, reg_read(w, (uint64_t)reg), 4);
	pthread_mutex_unlock(&w->lock);
	memcpy(data, b + (offset - (uint64_t)reg), len);
}

static void watchdog_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct watchdog *w = opaque;
	int64_t reg = access_reg(offset, len);
	uint8_t b[4];

	if (reg < 0)
		return;
	pthread_mutex_lock(&w->lock);
	le_put(b, reg_read(w, (uint64_t)reg), 4);
	if ((uint64_t)reg == WDT_REG_KICK || (uint64_t)reg == WDT_REG_LEFT)
		memset(b, 0, sizeof(b));	/* write-only / read-only: no merge */
	memcpy(b + (offset - (uint64_t)reg), data, len);
	reg_write(w, (uint64_t)reg, (uint32_t)le_get(b, 4));
	pthread_mutex_unlock(&w->lock);
}

static const struct io_region_ops watchdog_ops = {
	.read = watchdog_read,
	.write = watchdog_write,
};

/* After the state says it fired, outside the lock: tell the world, act. */
static void fire(struct watchdog *w, uint32_t count)
{
	static const char *const what[] = {
		[WATCHDOG_ACTION_RESET] = "resetting the guest",
		[WATCHDOG_ACTION_POWEROFF] = "powering the guest off",
		[WATCHDOG_ACTION_NONE] = "action none, the guest keeps running",
	};

	pr_warn("guest watchdog fired: not kicked for %u ms; %s", count * WDT_PERIOD_MS,
		what[w->action]);
	event_hook_emit(&w->events, "watchdog-fired", watchdog_action_str(w->action));
	if (w->action == WATCHDOG_ACTION_RESET)
		stop_hook_request(&w->stop, STOP_WATCHDOG_RESET, 0);
	else if (w->action == WATCHDOG_ACTION_POWEROFF)
		stop_hook_request(&w->stop, STOP_WATCHDOG_POWEROFF, 0);
}

/* Locked: if the deadline has passed, mark it fired; returns its countdown or 0. */
static uint32_t expire(struct watchdog *w, uint64_t now)
{
	if (!w->st.running || now < w->st.deadline_ns)
		return 0;
	w->st.running = 0;
	w->st.fired = 1;
	return w->st.count;
}

int watchdog_poll(struct watchdog *w)
{
	uint32_t count;

	pthread_mutex_lock(&w->lock);
	count = expire(w, w->clock(w->clock_ctx));
	pthread_mutex_unlock(&w->lock);
	if (!count)
		return 0;
	fire(w, count);
	return 1;
}

static struct timespec abs_time(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ULL),
				  .tv_nsec = (long)(ns % 1000000000ULL) };
}

static void *watchdog_thread(void *arg)
{
	struct watchdog *w = arg;
	struct timespec ts;
	uint32_t count;

	pthread_setname_np(pthread_self(), "husk-watchdog");
	if (sandbox_enter(w->sandbox, SANDBOX_WATCHDOG) < 0) {
		pr_err("watchdog: cannot enter its seccomp filter; it will not fire");
		return NULL;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->quit) {
		if (!w->st.running) {
			pthread_cond_wait(&w->wake, &w->lock);
			continue;
		}
		count = expire(w, monotonic_ns(NULL));
		if (count) {
			pthread_mutex_unlock(&w->lock);
			fire(w, count);
			pthread_mutex_lock(&w->lock);
			continue;
		}
		ts = abs_time(w->st.deadline_ns);
		pthread_cond_timedwait(&w->wake, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The timer thread, with every signal blocked (the event loop takes them). */
static int start_thread(struct watchdog *w)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	sigdelset(&all, SIGSYS);	/* seccomp's report (sandbox/seccomp.c) */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&w->thread, NULL, watchdog_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	w->has_thread = true;
	return 0;
}

static int init_sync(struct watchdog *w)
{
	pthread_condattr_t ca;
	int ret;

	ret = pthread_condattr_init(&ca);
	if (ret)
		return -ret;
	ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&w->lock, NULL);
	if (ret) {
		pthread_cond_destroy(&w->wake);
		return -ret;
	}
	return 0;
}

static struct watchdog *watchdog_alloc(const struct watchdog_params *p)
{
	struct watchdog *w;

	if (p->action > WATCHDOG_ACTION_NONE) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->action = p->action;
	w->sandbox = p->sandbox;
	if (p->stop)
		w->stop = *p->stop;
	if (p->events)
		w->events = *p->events;
	w->clock = p->clock ? p->clock : monotonic_ns;
	w->clock_ctx = p->clock_ctx;
	w->st.count = WDT_MAX_COUNT;	/* until the guest sets it */
	return w;
}

int watchdog_create(struct io_bus *pio, const struct watchdog_params *p, struct watchdog **out)
{
	struct watchdog *w = watchdog_alloc(p);
	int ret;

	*out = NULL;
	if (!w)
		return -errno;
	ret = init_sync(w);
	if (ret) {
		free(w);
		return ret;
	}
	w->pio = pio;
	ret = p->clock ? 0 : start_thread(w);
	if (!ret)
		ret = iobus_register(pio, PORT_WDT_BASE, WDT_REGS_LEN, &watchdog_ops, w, "watchdog");
	if (ret) {
		watchdog_destroy(w);
		return ret;
	}
	*out = w;
	return 0;
}

void watchdog_get_state(struct watchdog *w, struct watchdog_state *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->st;
	pthread_mutex_unlock(&w->lock);
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void watchdog_destroy(struct watchdog *w)
{
	if (!w)
		return;
	if (w->pio)
		iobus_unregister(w->pio, PORT_WDT_BASE);
	if (w->has_thread) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

/*
 * Saved state (core/statebuf.h): count, running, fired and, while running,
 * the nanoseconds left until the deadline. The deadline itself is a time of
 * this process's clock (CLOCK_MONOTONIC: since the host booted), which means
 * nothing to the process that loads it, so it travels as the time left and
 * the load re-arms it at its own now + that time. The wall time the VM
 * spends saved is not counted: the guest could not kick the watchdog while
 * it was not running, and charging it would fire the watchdog of every VM
 * restored from an old snapshot at once. A deadline already passed when
 * saved (not yet noticed by the timer) travels as 0 left and fires as soon
 * as the loaded VM's timer looks.
 */
int watchdog_save(struct watchdog *w, struct state_writer *sw)
{
	struct watchdog_state st;
	uint64_t now, left = 0;

	pthread_mutex_lock(&w->lock);
	now = w->clock(w->clock_ctx);
	st = w->st;
	pthread_mutex_unlock(&w->lock);
	if (st.running && st.deadline_ns > now)
		left = st.deadline_ns - now;
	sw_u32(sw, st.count);
	sw_bool(sw, st.running);
	sw_bool(sw, st.fired);
	sw_u64(sw, left);
	return sw->err;
}

int watchdog_load(struct watchdog *w, struct state_reader *r)
{
	uint32_t count = sr_u32(r);
	bool running = sr_bool(r), fired = sr_bool(r);
	uint64_t left = sr_u64(r);

	if (sr_done(r))
		return r->err;
	if (count < WDT_MIN_COUNT || count > WDT_MAX_COUNT)
		return sr_fail(r, "watchdog: countdown %u periods (%u to %u)", count,
			       WDT_MIN_COUNT, WDT_MAX_COUNT);
	/* a countdown is loaded whole and only ever runs down */
	if (left > (uint64_t)count * PERIOD_NS || (!running && left))
		return sr_fail(r, "watchdog: %llu ns left of a %u ms countdown%s",
			       (unsigned long long)left, count * WDT_PERIOD_MS,
			       running ? "" : " that is not running");
	pthread_mutex_lock(&w->lock);
	w->st.count = count;
	w->st.running = running;
	w->st.fired = fired;
	w->st.deadline_ns = running ? w->clock(w->clock_ctx) + left : 0;
	pthread_cond_signal(&w->wake);		/* the timer thread re-reads the deadline */
	pthread_mutex_unlock(&w->lock);
	return 0;
}
