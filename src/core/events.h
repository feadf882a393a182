/* SPDX-License-Identifier: MIT */
#ifndef HUSK_EVENTS_H
#define HUSK_EVENTS_H

/*
 * Lifecycle events (--events PATH): one JSON object per line,
 *   {"timestamp_us":..., "event":"paused"}
 *   {"timestamp_us":..., "event":"shutdown", "reason":"guest powered off", "exit_status":0}
 *   {"timestamp_us":..., "event":"guest-panic", "detail":"..."}
 * Events: started, paused, resumed, guest-panic, watchdog-fired, shutdown,
 * error, migration-completed, migration-failed. PATH may be a regular
 * file (appended to) or a FIFO (opened without waiting for a reader; a reader that falls behind by more than
 * the pipe buffer loses events, counted in "dropped", never blocking husk).
 * /dev/stdout and /dev/stderr mean husk's own (shared, not reopened).
 * Thread-safe.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/event_hook.h"	/* how devices report without knowing the VM */

struct husk_events;

int events_open(const char *path, struct husk_events **out, char *err, size_t errlen);
void events_close(struct husk_events *ev);
/* @detail may be NULL. A NULL @ev does nothing. */
void events_emit(struct husk_events *ev, const char *event, const char *detail);
/* {"event":EVENT, KEYS[0]:VALS[0], ...}: e.g. migration-completed's figures. */
void events_emit_numbers(struct husk_events *ev, const char *event, const char *const *keys,
			 const int64_t *vals, unsigned n);
void events_emit_shutdown(struct husk_events *ev, const char *reason, int exit_status);
/* An event_hook that writes to @ev. */
struct event_hook events_hook(struct husk_events *ev);

#endif
