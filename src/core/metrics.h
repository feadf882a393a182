/* SPDX-License-Identifier: MIT */
#ifndef HUSK_METRICS_H
#define HUSK_METRICS_H

/*
 * Counters for GET /metrics and --metrics. Counters are cumulative
 * uint64 atomics, bumped with relaxed ordering by the thread that owns
 * them (no shared cache line on the hot path); readers sum them.
 *
 * Devices register a source while the VM is built (before husk_vm_run;
 * the registry is not locked): either a struct dev_counters, shown as
 * "name": {"requests":..,"read_bytes":..,"write_bytes":..,"errors":..},
 * or a callback that adds its own members to a JSON object.
 */
#include <stdatomic.h>
#include <stdint.h>

struct json_object;

#define METRICS_MAX_SOURCES 32

struct dev_counters {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t read_bytes;
	atomic_uint_fast64_t write_bytes;
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t interrupts;
	atomic_uint_fast64_t uring_submissions;
	atomic_uint_fast64_t uring_completions;
};

static inline void counter_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t counter_get(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct metrics_source {
	const char *name;		/* not owned */
	struct dev_counters *counters;	/* or: */
	void (*append)(void *ctx, struct json_object *obj);
	void *ctx;
};

struct metrics_registry {
	unsigned n;
	struct metrics_source src[METRICS_MAX_SOURCES];
};

/* 0, or -ENOSPC when full. */
int metrics_add_counters(struct metrics_registry *r, const char *name, struct dev_counters *c);
int metrics_add_callback(struct metrics_registry *r, const char *name,
			 void (*append)(void *ctx, struct json_object *obj), void *ctx);
/* Adds one member per source to @obj. */
void metrics_append_sources(const struct metrics_registry *r, struct json_object *obj);
struct json_object *dev_counters_json(struct dev_counters *c);

/*
 * The metrics sink: a FIFO is opened read-write (never blocks, never
 * ENXIO), a file appended to (created 0600). A VM keeps its fd open for its
 * lifetime, so a reader of a FIFO (Firecracker's clients) sees every flush
 * and no EOF between them. Returns the fd or -1 (errno).
 */
int metrics_open(const char *path);
/* Append @line and a newline to the sink @fd in one write. 0 or -errno. */
int metrics_write_fd(int fd, const char *line);
/* Open @path, write @line, close it (a flush before there is a VM). 0 or -errno. */
int metrics_write_line(const char *path, const char *line);
/* Check that @path can be written, creating it (mode 0600) if missing. */
int metrics_check_path(const char *path);

#endif
