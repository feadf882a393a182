// SPDX-License-Identifier: MIT
/*
 * What the boot vCPU needs in memory before its first instruction: a GDT
 * with flat code/data segments and a TSS, and (64-bit entry) page tables
 * identity-mapping the first 4 GiB with 2 MiB pages.
 */
#include <errno.h>
#include <string.h>

#include "boot/boot_internal.h"
#include "memory/layout.h"

#define GDT_CODE64	0x00af9b000000ffffULL	/* L=1, P, DPL0, exec/read, accessed */
#define GDT_CODE32	0x00cf9b000000ffffULL	/* D=1, G=1, 4 GiB flat */
#define GDT_DATA	0x00cf93000000ffffULL	/* read/write, accessed, 4 GiB flat */
#define GDT_TSS32_BUSY	0x00008b0000000067ULL	/* base 0, limit 0x67, type 0xb, P */

#define PTE_PRESENT	(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PT_ENTRIES	512
#define IDENTITY_GIBS	4

_Static_assert(LAYOUT_PD + IDENTITY_GIBS * BOOT_PAGE_SIZE <= LAYOUT_CMDLINE,
	       "page directories stay below the command line");

int boot_write_gdt(struct guest_mem *mem, enum boot_entry_mode mode)
{
	uint64_t *gdt = gpa_to_hva(mem, LAYOUT_BOOT_GDT, BOOT_GDT_ENTRIES * sizeof(uint64_t));

	if (!gdt)
		return -ENOMEM;
	memset(gdt, 0, BOOT_GDT_ENTRIES * sizeof(uint64_t));
	gdt[BOOT_GDT_CS / 8] = mode == BOOT_ENTRY_LINUX64 ? GDT_CODE64 : GDT_CODE32;
	gdt[BOOT_GDT_DS / 8] = GDT_DATA;
	gdt[BOOT_GDT_TR / 8] = GDT_TSS32_BUSY;	/* entry 5 = 0: upper half in long mode */
	return 0;
}

int boot_write_page_tables(struct guest_mem *mem)
{
	uint64_t *pml4 = gpa_to_hva(mem, LAYOUT_PML4, BOOT_PAGE_SIZE);
	uint64_t *pdpt = gpa_to_hva(mem, LAYOUT_PDPT, BOOT_PAGE_SIZE);
	uint64_t *pd = gpa_to_hva(mem, LAYOUT_PD, IDENTITY_GIBS * BOOT_PAGE_SIZE);

	if (!pml4 || !pdpt || !pd)
		return -ENOMEM;
	memset(pml4, 0, BOOT_PAGE_SIZE);
	memset(pdpt, 0, BOOT_PAGE_SIZE);
	pml4[0] = LAYOUT_PDPT | PTE_PRESENT | PTE_RW;
	for (unsigned i = 0; i < IDENTITY_GIBS; i++)
		pdpt[i] = (LAYOUT_PD + i * BOOT_PAGE_SIZE) | PTE_PRESENT | PTE_RW;
	for (uint64_t i = 0; i < IDENTITY_GIBS * PT_ENTRIES; i++)
		pd[i] = (i * MIB(2)) | PTE_PRESENT | PTE_RW | PTE_PS;
	return 0;
}
