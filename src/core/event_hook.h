/* SPDX-License-Identifier: MIT */
#ifndef HUSK_EVENT_HOOK_H
#define HUSK_EVENT_HOOK_H

/*
 * How a device reports something the user may want to act on (a guest
 * panic, a watchdog firing) without knowing where events go: the VMM wires
 * the hook to its events file (--events PATH, one JSON object per line),
 * tests to a recorder. @event is a short fixed name ("guest-panic",
 * "watchdog-fired"), @detail a short free-form string or NULL. emit may be
 * called from any thread (vCPU threads, device timer threads); it must not
 * block for long and must not call back into the device.
 */
struct event_hook {
	void (*emit)(void *ctx, const char *event, const char *detail);
	void *ctx;
};

static inline void event_hook_emit(const struct event_hook *h, const char *event,
				   const char *detail)
{
	if (h && h->emit)
		h->emit(h->ctx, event, detail);
}

#endif
