/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BYTES_H
#define HUSK_BYTES_H

#include <stdint.h>

/*
 * Little-endian loads and stores of 1 to 8 bytes: guest-visible registers
 * (PCI config space, virtio common config) are little-endian and accessed
 * with any width.
 */
static inline uint64_t le_get(const uint8_t *p, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void le_put(uint8_t *p, uint64_t v, uint32_t len)
{
	for (uint32_t i = 0; i < len && i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
