// SPDX-License-Identifier: MIT
/*
 * The I/O bus: a sorted, immutable array of ranges published through an
 * atomic pointer. Lookups (every PIO/MMIO exit, any vCPU thread) load the
 * pointer and binary-search it without a lock. Registration and removal
 * take the bus mutex, build a new array, publish it and retire the old one.
 *
 * Retired tables must be freed: the guest remaps a BAR (and so replaces a
 * table) on every COMMAND or BAR write, as often as it likes. A retired
 * table is freed once no lookup can still be reading it, found without
 * making lookups wait or allocate:
 *
 * - A lookup is a short read section: it counts itself in readers[epoch & 1]
 *   (seq_cst), loads the table, searches it, copies the range's ops, opaque
 *   and base out, and uncounts itself. The handler runs after the section,
 *   so a handler that remaps BARs (a config write) is never inside one, and
 *   no section ever blocks.
 * - An update stores the new table (seq_cst), then reads both counters. A
 *   lookup that got the old table counted itself before that store, so a
 *   counter seen at zero after the store means every lookup it counted that
 *   could hold the old table has finished (and, its decrement being a
 *   seq_cst RMW, its reads happen before our free). A retired table is
 *   freed once each counter has been seen at zero after it was retired.
 * - Each update then flips the epoch, so new lookups count themselves in
 *   the other counter and the old one drains; a later update (the next
 *   guest remap) sees it at zero. Should tables still pile up past
 *   IO_RETIRED_MAX (lookups always in flight on both counters), the update
 *   waits for both counters to drain in turn, which takes as long as the
 *   lookups in flight: nothing in a section waits for anything.
 *
 * Freeing a table says nothing about the devices it named: as before, a
 * lookup that found a range just before it was unregistered may still call
 * its handler; device lifetime is the owner's business (devices go away
 * only once the vCPUs have stopped).
 */
#include "devices/iobus.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define IO_NAME_MAX		32
/* Unclaimed addresses remembered so each is logged only once. */
#define IO_UNCLAIMED_SLOTS	64
/* Retired tables left after an update before it waits for lookups to drain. */
#define IO_RETIRED_MAX		16
#define IO_SEEN_BOTH		3u

struct io_range {
	uint64_t base;
	uint64_t len;
	const struct io_region_ops *ops;
	void *opaque;
	char name[IO_NAME_MAX];
};

struct io_table {
	struct io_table *retired_next;	/* retired list, under the bus mutex */
	unsigned seen;			/* bit i: readers[i] seen at zero since retired */
	size_t n;
	struct io_range r[];
};

struct io_bus {
	char name[IO_NAME_MAX];
	_Atomic(struct io_table *) table;	/* NULL when empty */
	pthread_mutex_t lock;			/* serialises writers */
	_Atomic unsigned epoch;			/* low bit: the counter lookups use */
	_Atomic long readers[2];		/* lookups in flight, by epoch parity */
	struct io_table *retired;		/* under lock */
	size_t nretired;
	/* addr + 1 of each unclaimed address already logged; 0 = free slot */
	_Atomic uint64_t logged[IO_UNCLAIMED_SLOTS];
	atomic_bool logged_full;
};

struct io_bus *iobus_create(const char *name)
{
	struct io_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	snprintf(bus->name, sizeof(bus->name), "%s", name ? name : "bus");
	if (pthread_mutex_init(&bus->lock, NULL)) {
		free(bus);
		return NULL;
	}
	atomic_init(&bus->table, NULL);
	return bus;
}

void iobus_destroy(struct io_bus *bus)
{
	struct io_table *t, *next;

	if (!bus)
		return;
	free(atomic_load(&bus->table));
	for (t = bus->retired; t; t = next) {
		next = t->retired_next;
		free(t);
	}
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

/* Last range whose base is <= addr, or NULL. */
static const struct io_range *iobus_floor(const struct io_table *t, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!t || !t->n)
		return NULL;
	hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->r[lo - 1] : NULL;
}

/* The range that holds all of [addr, addr + len), or NULL. */
static const struct io_range *iobus_find(const struct io_table *t, uint64_t addr,
					 uint64_t len)
{
	const struct io_range *r = iobus_floor(t, addr);
	uint64_t off;

	if (!r || !len)
		return NULL;
	off = addr - r->base;
	if (off >= r->len || len > r->len - off)
		return NULL;
	return r;
}

/* Mark the retired tables with the counters now at zero; free those seen at zero on both. */
static void iobus_reclaim_seen(struct io_bus *bus, unsigned seen)
{
	struct io_table **pp = &bus->retired, *t;

	while ((t = *pp)) {
		t->seen |= seen;
		if (t->seen == IO_SEEN_BOTH) {
			*pp = t->retired_next;
			bus->nretired--;
			free(t);
		} else {
			pp = &t->retired_next;
		}
	}
}

static unsigned iobus_readers_idle(struct io_bus *bus)
{
	unsigned seen = 0;

	for (unsigned i = 0; i < 2; i++)
		if (!atomic_load_explicit(&bus->readers[i], memory_order_seq_cst))
			seen |= 1u << i;
	return seen;
}

/* Flip the epoch and wait until the lookups on the old counter are done. */
static unsigned iobus_drain_one(struct io_bus *bus)
{
	unsigned old = atomic_fetch_add_explicit(&bus->epoch, 1, memory_order_relaxed) & 1;

	while (atomic_load_explicit(&bus->readers[old], memory_order_seq_cst))
		sched_yield();
	return 1u << old;
}

/*
 * Called with the lock held, after the new table was published (seq_cst):
 * retire @old and free what no lookup can hold any more.
 */
static void iobus_retire(struct io_bus *bus, struct io_table *old)
{
	if (old) {
		old->retired_next = bus->retired;
		old->seen = 0;
		bus->retired = old;
		bus->nretired++;
	}
	iobus_reclaim_seen(bus, iobus_readers_idle(bus));
	if (bus->nretired > IO_RETIRED_MAX) {
		iobus_reclaim_seen(bus, iobus_drain_one(bus));
		iobus_reclaim_seen(bus, iobus_drain_one(bus));
	} else {
		atomic_fetch_add_explicit(&bus->epoch, 1, memory_order_relaxed);
	}
}

size_t iobus_retired_tables(struct io_bus *bus)
{
	size_t n;

	pthread_mutex_lock(&bus->lock);
	n = bus->nretired;
	pthread_mutex_unlock(&bus->lock);
	return n;
}

static struct io_table *iobus_table_alloc(size_t n)
{
	struct io_table *t = calloc(1, sizeof(*t) + n * sizeof(struct io_range));

	if (t)
		t->n = n;
	return t;
}

int iobus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		   const struct io_region_ops *ops, void *opaque, const char *name)
{
	struct io_table *old, *new;
	size_t n, pos, i;
	const struct io_range *prev;

	if (!bus || !ops || !len || len - 1 > UINT64_MAX - base)
		return -EINVAL;

	pthread_mutex_lock(&bus->lock);
	old = atomic_load_explicit(&bus->table, memory_order_relaxed);
	n = old ? old->n : 0;
	prev = iobus_floor(old, base + len - 1);
	/* the only possible overlap is the last range starting at or below our end */
	if (prev && prev->base + (prev->len - 1) >= base) {
		pthread_mutex_unlock(&bus->lock);
		return -EEXIST;
	}
	new = iobus_table_alloc(n + 1);
	if (!new) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOMEM;
	}
	pos = prev ? (size_t)(prev - old->r) + 1 : 0;
	for (i = 0; i < pos; i++)
		new->r[i] = old->r[i];
	new->r[pos] = (struct io_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque,
	};
	snprintf(new->r[pos].name, IO_NAME_MAX, "%s", name ? name : "?");
	for (i = pos; i < n; i++)
		new->r[i + 1] = old->r[i];

	atomic_store_explicit(&bus->table, new, memory_order_seq_cst);
	iobus_retire(bus, old);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

int iobus_unregister(struct io_bus *bus, uint64_t base)
{
	struct io_table *old, *new = NULL;
	const struct io_range *r;
	size_t pos, i;

	if (!bus)
		return -ENOENT;
	pthread_mutex_lock(&bus->lock);
	old = atomic_load_explicit(&bus->table, memory_order_relaxed);
	r = iobus_floor(old, base);
	if (!r || r->base != base) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOENT;
	}
	pos = (size_t)(r - old->r);
	if (old->n > 1) {
		new = iobus_table_alloc(old->n - 1);
		if (!new) {
			pthread_mutex_unlock(&bus->lock);
			return -ENOMEM;
		}
		for (i = 0; i < old->n; i++)
			if (i != pos)
				new->r[i < pos ? i : i - 1] = old->r[i];
	}
	atomic_store_explicit(&bus->table, new, memory_order_seq_cst);
	iobus_retire(bus, old);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

/* True the first time @addr is seen (and there is room to remember it). */
static bool iobus_first_unclaimed(struct io_bus *bus, uint64_t addr)
{
	uint64_t key = addr + 1;

	if (!key)
		return false;
	for (size_t i = 0; i < IO_UNCLAIMED_SLOTS; i++) {
		uint64_t cur = atomic_load_explicit(&bus->logged[i], memory_order_relaxed);

		while (!cur) {
			if (atomic_compare_exchange_weak(&bus->logged[i], &cur, key))
				return true;
		}
		if (cur == key)
			return false;
	}
	if (!atomic_exchange(&bus->logged_full, true))
		pr_debug("%s: more than %d unclaimed addresses, no longer logging them",
			 bus->name, IO_UNCLAIMED_SLOTS);
	return false;
}

static void iobus_unclaimed(struct io_bus *bus, const char *what, uint64_t addr,
			    uint32_t len)
{
	if (!log_enabled(LOG_DEBUG) || !iobus_first_unclaimed(bus, addr))
		return;
	pr_debug("%s: unclaimed %u-byte %s at 0x%llx", bus->name, len, what,
		 (unsigned long long)addr);
}

/* What a lookup takes out of the table before it leaves its read section. */
struct io_hit {
	uint64_t base;
	const struct io_region_ops *ops;
	void *opaque;
};

/* The read section (see the top of the file): no lock, no allocation, no call out. */
static bool iobus_lookup(struct io_bus *bus, uint64_t addr, uint32_t len, struct io_hit *hit)
{
	const struct io_table *t;
	const struct io_range *r;
	unsigned i;

	if (!bus)
		return false;
	i = atomic_load_explicit(&bus->epoch, memory_order_relaxed) & 1;
	atomic_fetch_add_explicit(&bus->readers[i], 1, memory_order_seq_cst);
	t = atomic_load_explicit(&bus->table, memory_order_seq_cst);
	r = iobus_find(t, addr, len);
	if (r)
		*hit = (struct io_hit){ .base = r->base, .ops = r->ops, .opaque = r->opaque };
	atomic_fetch_sub_explicit(&bus->readers[i], 1, memory_order_seq_cst);
	return r != NULL;
}

bool iobus_read(struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
	struct io_hit h;

	if (!iobus_lookup(bus, addr, len, &h)) {
		memset(data, 0xff, len);
		if (bus)
			iobus_unclaimed(bus, "read", addr, len);
		return false;
	}
	if (h.ops->read)
		h.ops->read(h.opaque, addr - h.base, data, len);
	else
		memset(data, 0xff, len);
	return true;
}

bool iobus_write(struct io_bus *bus, uint64_t addr, const uint8_t *data, uint32_t len)
{
	struct io_hit h;

	if (!iobus_lookup(bus, addr, len, &h)) {
		if (bus)
			iobus_unclaimed(bus, "write", addr, len);
		return false;
	}
	if (h.ops->write)
		h.ops->write(h.opaque, addr - h.base, data, len);
	return true;
}
