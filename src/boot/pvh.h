/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BOOT_PVH_H
#define HUSK_BOOT_PVH_H

/*
 * The PVH boot ABI's start-of-day structure (Xen public header
 * arch-x86/hvm/start_info.h, version 1), written by husk in one page at
 * LAYOUT_PVH_START_INFO: the start info, then the memory map, then the
 * module list (the initrd as module 0).
 */
#include <stdint.h>

#include "memory/layout.h"

#define HVM_START_MAGIC		0x336ec578
#define HVM_START_VERSION	1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;			/* E820_RAM, E820_RESERVED, ... */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info ABI");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry ABI");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry ABI");

#define PVH_MEMMAP_GPA		(LAYOUT_PVH_START_INFO + 0x40)
#define PVH_MEMMAP_MAX		16
#define PVH_MODLIST_GPA		(LAYOUT_PVH_START_INFO + 0x200)
#define PVH_INFO_SIZE		0x1000ULL	/* everything above fits in this page */

_Static_assert(PVH_MEMMAP_GPA + PVH_MEMMAP_MAX * sizeof(struct hvm_memmap_table_entry) <=
	       PVH_MODLIST_GPA, "PVH memmap fits below the module list");

#endif
