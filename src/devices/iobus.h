/* SPDX-License-Identifier: MIT */
#ifndef HUSK_IOBUS_H
#define HUSK_IOBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An I/O bus maps address ranges (port I/O or MMIO) to device handlers.
 * Lookups happen on every PIO/MMIO exit, from any vCPU thread at once, and
 * take no lock and allocate nothing: the range table is an immutable sorted
 * array published through an atomic pointer; registration builds a new
 * array under a mutex and frees the old one once no lookup can hold it
 * (iobus.c says how), so a guest that remaps BARs forever uses no memory.
 *
 * Handlers get the offset inside their range; a device serialises its own
 * state with its own lock.
 */
struct io_region_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct io_bus;

struct io_bus *iobus_create(const char *name);
void iobus_destroy(struct io_bus *bus);

/* Returns 0, -EINVAL (empty/wrapping range), -EEXIST (overlap) or -ENOMEM. */
int iobus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		   const struct io_region_ops *ops, void *opaque, const char *name);
/* Returns 0 or -ENOENT. */
int iobus_unregister(struct io_bus *bus, uint64_t base);

/* Replaced tables not freed yet (a few at most): for tests. */
size_t iobus_retired_tables(struct io_bus *bus);

/*
 * Dispatch an access. An access that no range claims reads as all-ones, is
 * ignored on write, is logged once per address at debug level, and returns
 * false. An access that straddles the end of a range is unclaimed.
 */
bool iobus_read(struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
bool iobus_write(struct io_bus *bus, uint64_t addr, const uint8_t *data, uint32_t len);

#endif
