// SPDX-License-Identifier: MIT
/*
 * The zero page (struct boot_params) for the 64-bit Linux entry: a clean
 * page, the image's setup header (bzImage) or a minimal one (vmlinux), and
 * the fields a boot loader must fill in: loader type, command line,
 * initrd, e820 map, and the RSDP's address (boot protocol 2.14+; older
 * kernels find it by scanning the BIOS area).
 */
#include <errno.h>
#include <string.h>

#include "boot/boot_internal.h"
#include "memory/layout.h"

#define ZP_BOOT_FLAG	0xaa55
#define ZP_MAGIC	0x53726448	/* "HdrS" */
#define ZP_LOADER_UNDEFINED 0xff	/* type_of_loader: no assigned ID */
#define ZP_HEAP_END	0xfe00		/* heap_end_ptr: 64 KiB setup segment - 0x200 */
#define ZP_VID_NORMAL	0xffff

_Static_assert(sizeof(struct boot_params) == 4096, "zero page is one page");
_Static_assert(sizeof(struct boot_e820_entry) == sizeof(struct e820_entry),
	       "boot_e820_entry and e820_entry have the same layout");

static void fill_bzimage_header(struct boot_params *bp, const struct boot_ctx *ctx)
{
	memcpy(&bp->hdr, &ctx->hdr, ctx->hdr_len);
	bp->hdr.code32_start = (uint32_t)ctx->bz_load_addr;
	bp->hdr.setup_data = 0;		/* husk passes no setup_data list */
}

/* vmlinux carries no setup header: give the kernel the fields it looks at. */
static void fill_vmlinux_header(struct boot_params *bp)
{
	bp->hdr.boot_flag = ZP_BOOT_FLAG;
	bp->hdr.header = ZP_MAGIC;
	bp->hdr.cmdline_size = LAYOUT_CMDLINE_MAX - 1;
}

static void fill_loader_fields(struct boot_params *bp, const struct boot_ctx *ctx)
{
	bp->hdr.type_of_loader = ZP_LOADER_UNDEFINED;
	bp->hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = ZP_HEAP_END;
	bp->hdr.vid_mode = ZP_VID_NORMAL;
	bp->hdr.hardware_subarch = X86_SUBARCH_PC;
	bp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp->ext_cmd_line_ptr = (uint32_t)(LAYOUT_CMDLINE >> 32);
	bp->acpi_rsdp_addr = LAYOUT_ACPI_RSDP;
	if (ctx->initrd_addr) {
		bp->hdr.ramdisk_image = (uint32_t)ctx->initrd_addr;
		bp->ext_ramdisk_image = (uint32_t)(ctx->initrd_addr >> 32);
		bp->hdr.ramdisk_size = (uint32_t)ctx->initrd_size;
		bp->ext_ramdisk_size = (uint32_t)(ctx->initrd_size >> 32);
	}
}

static int fill_e820(struct boot_params *bp, const struct guest_mem *mem)
{
	struct e820_entry map[E820_MAX_ENTRIES_ZEROPAGE];
	int n = e820_build(mem, map, E820_MAX_ENTRIES_ZEROPAGE);

	if (n < 0)
		return n;
	memcpy(bp->e820_table, map, (size_t)n * sizeof(map[0]));
	bp->e820_entries = (uint8_t)n;
	return 0;
}

int zeropage_write(struct boot_ctx *ctx)
{
	struct boot_params *bp = gpa_to_hva(ctx->mem, LAYOUT_ZERO_PAGE, sizeof(*bp));
	int ret;

	if (!bp)
		return boot_fail(ctx, -ENOMEM, "--memory: no RAM for the zero page at 0x%llx",
				 LAYOUT_ZERO_PAGE);
	memset(bp, 0, sizeof(*bp));
	if (ctx->is_bzimage)
		fill_bzimage_header(bp, ctx);
	else
		fill_vmlinux_header(bp);
	fill_loader_fields(bp, ctx);
	ret = fill_e820(bp, ctx->mem);
	if (ret)
		return boot_fail(ctx, ret, "e820: the memory map does not fit the zero page");
	return 0;
}
