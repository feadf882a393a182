// SPDX-License-Identifier: MIT
/* hvm_start_info for the PVH entry: command line, memory map, initrd module. */
#include <errno.h>
#include <string.h>

#include "boot/boot_internal.h"
#include "boot/pvh.h"

static int write_memmap(struct boot_ctx *ctx, struct hvm_start_info *si)
{
	struct hvm_memmap_table_entry *mm;
	struct e820_entry map[PVH_MEMMAP_MAX];
	int n = e820_build(ctx->mem, map, PVH_MEMMAP_MAX);

	if (n < 0)
		return boot_fail(ctx, n, "e820: the memory map does not fit the PVH start info");
	mm = gpa_to_hva(ctx->mem, PVH_MEMMAP_GPA, (uint64_t)n * sizeof(*mm));
	if (!mm)
		return boot_fail(ctx, -ENOMEM, "--memory: no RAM for the PVH memory map");
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){
			.addr = map[i].addr, .size = map[i].size, .type = map[i].type,
		};
	si->memmap_paddr = PVH_MEMMAP_GPA;
	si->memmap_entries = (uint32_t)n;
	return 0;
}

static int write_modlist(struct boot_ctx *ctx, struct hvm_start_info *si)
{
	struct hvm_modlist_entry *mod;

	if (!ctx->initrd_addr)
		return 0;
	mod = gpa_to_hva(ctx->mem, PVH_MODLIST_GPA, sizeof(*mod));
	if (!mod)
		return boot_fail(ctx, -ENOMEM, "--memory: no RAM for the PVH module list");
	*mod = (struct hvm_modlist_entry){ .paddr = ctx->initrd_addr, .size = ctx->initrd_size };
	si->modlist_paddr = PVH_MODLIST_GPA;
	si->nr_modules = 1;
	return 0;
}

int pvh_write_start_info(struct boot_ctx *ctx)
{
	uint8_t *page = gpa_to_hva(ctx->mem, LAYOUT_PVH_START_INFO, PVH_INFO_SIZE);
	struct hvm_start_info *si = (struct hvm_start_info *)page;
	int ret;

	if (!page)
		return boot_fail(ctx, -ENOMEM, "--memory: no RAM for the PVH start info at 0x%llx",
				 LAYOUT_PVH_START_INFO);
	memset(page, 0, PVH_INFO_SIZE);
	si->magic = HVM_START_MAGIC;
	si->version = HVM_START_VERSION;
	si->cmdline_paddr = LAYOUT_CMDLINE;
	si->rsdp_paddr = LAYOUT_ACPI_RSDP;
	ret = write_memmap(ctx, si);
	if (!ret)
		ret = write_modlist(ctx, si);
	return ret;
}
