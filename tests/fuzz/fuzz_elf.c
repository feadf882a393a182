// SPDX-License-Identifier: MIT
/*
 * boot_load() on hostile ELF kernels (boot/elf.c, pvh.c): program headers,
 * PT_LOAD segments, the PT_NOTE / XEN_ELFNOTE_PHYS32_ENTRY (PVH) note. The
 * kernel gets "\x7fELF", ELFCLASS64, little-endian stamped in. Input:
 * fuzz_boot.h.
 */
#include "fuzz_boot.h"

static void stamp_elf(uint8_t *k, size_t len)
{
	static const uint8_t ident[] = { 0x7f, 'E', 'L', 'F', 2, 1 };

	memcpy(k, ident, len < sizeof(ident) ? len : sizeof(ident));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_boot_run(data, size, stamp_elf);
	return 0;
}
