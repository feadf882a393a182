/* SPDX-License-Identifier: MIT */
/* Guest-side config access helpers for the PCI unit tests (header only). */
#ifndef HUSK_PCI_TEST_HELPERS_H
#define HUSK_PCI_TEST_HELPERS_H

#include <stdint.h>
#include <string.h>

#include "devices/iobus.h"
#include "devices/pci_layout.h"
#include "unit_helpers.h"

static inline void put_le32(uint8_t *p, uint32_t v)
{
	le_put(p, v, 4);
}

static inline uint32_t cf8_addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* Mechanism #1 read of @len bytes at @reg (the port's low bits pick the lane). */
static inline uint32_t cf8_read(struct io_bus *pio, unsigned slot, unsigned reg, uint32_t len)
{
	pio_out(pio, PCI_CONFIG_ADDRESS_PORT, cf8_addr(0, slot, 0, reg), 4);
	return pio_in(pio, PCI_CONFIG_DATA_PORT + (reg & 3), len);
}

static inline void cf8_write(struct io_bus *pio, unsigned slot, unsigned reg, uint32_t v,
			     uint32_t len)
{
	pio_out(pio, PCI_CONFIG_ADDRESS_PORT, cf8_addr(0, slot, 0, reg), 4);
	pio_out(pio, PCI_CONFIG_DATA_PORT + (reg & 3), v, len);
}

static inline uint64_t ecam_addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return PCI_ECAM_BASE + ((uint64_t)bus << 20 | slot << 15 | fn << 12 | reg);
}

static inline uint64_t mmio_read(struct io_bus *mmio, uint64_t addr, uint32_t len)
{
	uint8_t b[8];

	memset(b, 0, sizeof(b));
	iobus_read(mmio, addr, b, len);
	return le_get(b, len);
}

static inline void mmio_write(struct io_bus *mmio, uint64_t addr, uint64_t v, uint32_t len)
{
	uint8_t b[8];

	le_put(b, v, len);
	iobus_write(mmio, addr, b, len);
}

static inline uint64_t ecam_read(struct io_bus *mmio, unsigned slot, unsigned reg, uint32_t len)
{
	return mmio_read(mmio, ecam_addr(0, slot, 0, reg), len);
}

static inline void ecam_write(struct io_bus *mmio, unsigned slot, unsigned reg, uint64_t v,
			      uint32_t len)
{
	mmio_write(mmio, ecam_addr(0, slot, 0, reg), v, len);
}

#endif
