// SPDX-License-Identifier: MIT
/*
 * bzImage (Linux x86 boot protocol, Documentation/arch/x86/boot.rst),
 * entered at its 64-bit entry point: load address + 0x200, long mode,
 * RSI = zero page. The real-mode setup code is never run, so only the
 * protected-mode kernel is loaded; the setup header goes to the zero page.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "boot/boot_internal.h"
#include "core/bytes.h"
#include "memory/layout.h"

#define BZ_HDR_OFFSET		0x1f1	/* struct setup_header in the image */
#define BZ_HDR_END_BYTE		0x201	/* 0x202 + this byte = end of the header */
#define BZ_BOOT_FLAG_OFFSET	0x1fe
#define BZ_MAGIC_OFFSET		0x202
#define BZ_BOOT_FLAG		0xaa55
#define BZ_MAGIC		0x53726448	/* "HdrS" */
#define BZ_MIN_VERSION		0x020c	/* 2.12: xloadflags says XLF_KERNEL_64 */
#define BZ_ENTRY64_OFFSET	0x200
#define BZ_SECTOR		512
#define BZ_DEFAULT_SETUP_SECTS	4
#define BZ_HDR_FILE_END		(BZ_HDR_OFFSET + sizeof(struct setup_header))

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

bool bzimage_detect(const uint8_t *head, size_t headlen)
{
	return headlen >= BZ_MAGIC_OFFSET + 4 &&
	       le_get(head + BZ_BOOT_FLAG_OFFSET, 2) == BZ_BOOT_FLAG &&
	       le_get(head + BZ_MAGIC_OFFSET, 4) == BZ_MAGIC;
}

/* Reads the header and the number of its bytes the image defines. */
static int read_setup_header(struct boot_ctx *ctx, const uint8_t *head, size_t headlen)
{
	size_t defined = BZ_MAGIC_OFFSET + head[BZ_HDR_END_BYTE] - BZ_HDR_OFFSET;
	char have[32];

	if (headlen < BZ_HDR_FILE_END)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: truncated (file is %s, shorter than a setup header)",
				 ctx->req->kernel, boot_size_str(headlen, have, sizeof(have)));
	memcpy(&ctx->hdr, head + BZ_HDR_OFFSET, sizeof(ctx->hdr));
	ctx->hdr_len = defined < sizeof(ctx->hdr) ? defined : sizeof(ctx->hdr);
	return 0;
}

static int check_protocol(struct boot_ctx *ctx)
{
	const struct setup_header *h = &ctx->hdr;

	if (h->version < BZ_MIN_VERSION)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: boot protocol %u.%02u is too old "
				 "(husk needs 2.12 or later, Linux 3.8+, for the 64-bit entry)",
				 ctx->req->kernel, h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: not a 64-bit kernel (xloadflags 0x%x lacks XLF_KERNEL_64)",
				 ctx->req->kernel, h->xloadflags);
	return 0;
}

/* The protected-mode kernel: after the setup sectors, syssize paragraphs. */
static int locate_kernel(struct boot_ctx *ctx)
{
	const struct setup_header *h = &ctx->hdr;
	unsigned sects = h->setup_sects ? h->setup_sects : BZ_DEFAULT_SETUP_SECTS;
	char want[32], have[32];
	uint64_t need;

	ctx->bz_offset = (uint64_t)(sects + 1) * BZ_SECTOR;
	ctx->bz_size = (uint64_t)h->syssize * 16;
	if (ctx->bz_size == 0)
		return boot_fail(ctx, -ENOEXEC, "--kernel %s: empty kernel (syssize is 0)",
				 ctx->req->kernel);
	need = ctx->bz_offset + ctx->bz_size;
	if (ctx->kernel_size < need)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: truncated (setup header says %s, file is %s)",
				 ctx->req->kernel, boot_size_str(need, want, sizeof(want)),
				 boot_size_str(ctx->kernel_size, have, sizeof(have)));
	return 0;
}

/*
 * Where the kernel runs (boot.rst, "kernel runtime start address"): a
 * relocatable kernel decompresses itself to align_up(max(load address,
 * pref_address), kernel_alignment), a fixed one to pref_address; in both
 * cases it then needs init_size bytes from there.
 *
 * Load address policy: a relocatable kernel is loaded exactly at that
 * runtime address, align_up(max(1 MiB, pref_address), kernel_alignment).
 * Loading it lower (say at 1 MiB) would not let it run with less memory,
 * since a 64-bit kernel never runs below pref_address anyway; it would
 * only spread its footprint over two ranges. This way the kernel occupies
 * one range [load, load + init_size) (as GRUB does), and the initrd goes
 * above it. A fixed kernel is loaded at code32_start (1 MiB) and
 * decompresses itself to pref_address.
 */
static int place_kernel(struct boot_ctx *ctx)
{
	const struct setup_header *h = &ctx->hdr;
	uint64_t low_end = guest_mem_low_end(ctx->mem);
	uint64_t runtime, end, pref = h->pref_address, align = h->kernel_alignment;

	if (h->relocatable_kernel) {
		if (align == 0 || (align & (align - 1)))
			return boot_fail(ctx, -ENOEXEC,
					 "--kernel %s: kernel_alignment 0x%llx is not a power of two",
					 ctx->req->kernel, (unsigned long long)align);
		if (pref < LAYOUT_HIGH_RAM_START)
			pref = LAYOUT_HIGH_RAM_START;
		ctx->bz_load_addr = boot_align_up(pref, align);
		runtime = ctx->bz_load_addr;
	} else {
		ctx->bz_load_addr = h->code32_start;
		runtime = pref;
		if (ctx->bz_load_addr < LAYOUT_HIGH_RAM_START || runtime < LAYOUT_HIGH_RAM_START)
			return boot_fail(ctx, -ENOEXEC,
					 "--kernel %s: fixed-address kernel wants 0x%llx/0x%llx, "
					 "below 1 MiB",
					 ctx->req->kernel, (unsigned long long)ctx->bz_load_addr,
					 (unsigned long long)runtime);
	}
	end = sat_add(runtime, h->init_size);
	if (sat_add(ctx->bz_load_addr, ctx->bz_size) > end)
		end = sat_add(ctx->bz_load_addr, ctx->bz_size);
	if (end > low_end)
		return boot_fail_memory(ctx, ctx->bz_load_addr < runtime ? ctx->bz_load_addr
									  : runtime, end);
	ctx->kernel_end = end;
	return 0;
}

int bzimage_probe(struct boot_ctx *ctx, const uint8_t *head, size_t headlen)
{
	uint64_t cmdline_size;
	int ret;

	ret = read_setup_header(ctx, head, headlen);
	if (!ret)
		ret = check_protocol(ctx);
	if (!ret)
		ret = locate_kernel(ctx);
	if (!ret)
		ret = place_kernel(ctx);
	if (ret)
		return ret;
	cmdline_size = ctx->hdr.cmdline_size;
	ctx->is_bzimage = true;
	ctx->mode = BOOT_ENTRY_LINUX64;
	ctx->entry = ctx->bz_load_addr + BZ_ENTRY64_OFFSET;
	ctx->cmdline_max = cmdline_size < LAYOUT_CMDLINE_MAX - 1 ? cmdline_size
								  : LAYOUT_CMDLINE_MAX - 1;
	ctx->initrd_limit = (uint64_t)ctx->hdr.initrd_addr_max + 1;
	return 0;
}

int bzimage_load(struct boot_ctx *ctx)
{
	int ret = boot_copy_to_guest(ctx->mem, ctx->kernel_fd, ctx->bz_offset, ctx->bz_size,
				     ctx->bz_load_addr);

	if (ret)
		return boot_fail(ctx, ret, "--kernel %s: reading the kernel: %s", ctx->req->kernel,
				 strerror(-ret));
	return 0;
}
