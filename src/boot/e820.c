// SPDX-License-Identifier: MIT
/* The guest's e820 memory map, exactly as memory/layout.h documents it. */
#include <errno.h>
#include <string.h>

#include "boot/boot.h"
#include "memory/layout.h"

#define E820_MAX_BUILT	(3 + GUEST_MEM_MAX_REGIONS)

static void add(struct e820_entry *map, int *n, uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start)
		return;
	map[*n] = (struct e820_entry){ .addr = start, .size = end - start, .type = type };
	(*n)++;
}

/*
 * Low RAM is split around the EBDA and the legacy hole; the reserved EBDA
 * and BIOS ranges are always listed (the MP table lives in the latter),
 * even in a toy guest with less than 1 MiB, which simply gets less RAM.
 * Returns the entry count, or -ENOSPC when @max is too small.
 */
int e820_build(const struct guest_mem *mem, struct e820_entry *out, int max)
{
	struct e820_entry map[E820_MAX_BUILT];
	uint64_t low_end = mem->nregions ? guest_mem_low_end(mem) : 0;
	int n = 0;

	if (!out || max < 0)
		return -EINVAL;
	add(map, &n, 0, low_end < LAYOUT_EBDA_START ? low_end : LAYOUT_EBDA_START, E820_RAM);
	add(map, &n, LAYOUT_EBDA_START, LAYOUT_LEGACY_HOLE, E820_RESERVED);
	add(map, &n, LAYOUT_BIOS_START, LAYOUT_BIOS_END, E820_RESERVED);
	add(map, &n, LAYOUT_HIGH_RAM_START, low_end, E820_RAM);
	for (unsigned i = 1; i < mem->nregions && i < GUEST_MEM_MAX_REGIONS; i++)
		add(map, &n, mem->regions[i].gpa, mem->regions[i].gpa + mem->regions[i].size,
		    E820_RAM);
	if (n > max)
		return -ENOSPC;
	memcpy(out, map, (size_t)n * sizeof(map[0]));
	return n;
}
