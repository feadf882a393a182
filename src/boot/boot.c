// SPDX-License-Identifier: MIT
/*
 * boot_load(): find out what the kernel is (bzImage or ELF), check the
 * kernel, command line, initrd and CPU count against the guest's memory,
 * and only then write everything into guest RAM and describe the entry.
 *
 * Guest physical memory after a load (see memory/layout.h):
 *   0x500    GDT             0x6000  hvm_start_info (PVH)
 *   0x7000   zero page       0x8ff0  boot stack (grows down)
 *   0x9000   page tables     0x20000 command line
 *   0xf0000  MP table        1 MiB+  kernel, then the initrd at the top of
 *   0xf8000  ACPI tables             low RAM (below the kernel's limit)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot_internal.h"
#include "memory/layout.h"

#define BOOT_HEAD_SIZE 4096	/* covers the ELF header and the setup header */

/* Opens @path read-only; it must be a regular file. */
static int open_input(struct boot_ctx *ctx, const char *flag, const char *path,
		      int *fd, uint64_t *size)
{
	struct stat st;
	int ret;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return boot_fail(ctx, -errno, "%s %s: %s", flag, path, strerror(errno));
	if (fstat(*fd, &st) < 0) {
		ret = -errno;
		return boot_fail(ctx, ret, "%s %s: %s", flag, path, strerror(-ret));
	}
	if (!S_ISREG(st.st_mode))
		return boot_fail(ctx, -EINVAL, "%s %s: not a regular file", flag, path);
	*size = (uint64_t)st.st_size;
	return 0;
}

static int probe_kernel(struct boot_ctx *ctx)
{
	uint8_t head[BOOT_HEAD_SIZE];
	size_t len;
	int ret;

	ret = open_input(ctx, "--kernel", ctx->req->kernel, &ctx->kernel_fd, &ctx->kernel_size);
	if (ret)
		return ret;
	len = ctx->kernel_size < sizeof(head) ? (size_t)ctx->kernel_size : sizeof(head);
	memset(head, 0, sizeof(head));
	ret = boot_pread(ctx->kernel_fd, head, len, 0);
	if (ret)
		return boot_fail(ctx, ret, "--kernel %s: %s", ctx->req->kernel, strerror(-ret));
	if (elf_detect(head, len))
		return elf_probe(ctx, head, len);
	if (bzimage_detect(head, len))
		return bzimage_probe(ctx, head, len);
	return boot_fail(ctx, -ENOEXEC, "--kernel %s: not a bzImage or ELF kernel (bad magic)",
			 ctx->req->kernel);
}

static int check_cmdline(struct boot_ctx *ctx)
{
	size_t len = strlen(ctx->req->cmdline);

	if (len > ctx->cmdline_max)
		return boot_fail(ctx, -E2BIG,
				 "--cmdline: %zu bytes, the kernel accepts at most %llu", len,
				 (unsigned long long)ctx->cmdline_max);
	return 0;
}

static int check_cpus(struct boot_ctx *ctx)
{
	unsigned n = ctx->req->ncpus;

	if (n == 0 || n > MPTABLE_MAX_CPUS)
		return boot_fail(ctx, -EINVAL, "--cpus %u: husk boots 1 to %u CPUs", n,
				 MPTABLE_MAX_CPUS);
	return 0;
}

/*
 * The initrd goes as high as it can: page-aligned, ending at or below the
 * kernel's limit (initrd_addr_max for a bzImage) and the end of low RAM,
 * and starting above the kernel. An empty initrd is no initrd.
 */
static int place_initrd(struct boot_ctx *ctx)
{
	uint64_t low_end = guest_mem_low_end(ctx->mem);
	uint64_t limit = ctx->initrd_limit < low_end ? ctx->initrd_limit : low_end;
	uint64_t addr = 0;
	char size[32], mem[32];
	int ret;

	ret = open_input(ctx, "--initrd", ctx->req->initrd, &ctx->initrd_fd, &ctx->initrd_size);
	if (ret || ctx->initrd_size == 0)
		return ret;
	if (ctx->initrd_size <= limit)
		addr = (limit - ctx->initrd_size) & ~(BOOT_PAGE_SIZE - 1);
	if (ctx->initrd_size > limit || addr < ctx->kernel_end)
		return boot_fail(ctx, -ENOMEM,
				 "--initrd %s: %s does not fit below 0x%llx in %s of memory "
				 "(the kernel ends at 0x%llx)", ctx->req->initrd,
				 boot_size_str(ctx->initrd_size, size, sizeof(size)),
				 (unsigned long long)(ctx->initrd_limit - 1),
				 boot_size_str(ctx->mem->size, mem, sizeof(mem)),
				 (unsigned long long)ctx->kernel_end);
	ctx->initrd_addr = addr;
	return 0;
}

static int validate(struct boot_ctx *ctx)
{
	int ret = probe_kernel(ctx);

	if (!ret)
		ret = check_cmdline(ctx);
	if (!ret)
		ret = check_cpus(ctx);
	if (!ret && ctx->req->initrd)
		ret = place_initrd(ctx);
	return ret;
}

static int write_cmdline(struct boot_ctx *ctx)
{
	size_t len = strlen(ctx->req->cmdline);
	char *dst = gpa_to_hva(ctx->mem, LAYOUT_CMDLINE, len + 1);

	if (!dst)
		return boot_fail(ctx, -ENOMEM, "--memory: no RAM for the command line at 0x%llx",
				 LAYOUT_CMDLINE);
	memcpy(dst, ctx->req->cmdline, len + 1);
	return 0;
}

static int load_initrd(struct boot_ctx *ctx)
{
	int ret = boot_copy_to_guest(ctx->mem, ctx->initrd_fd, 0, ctx->initrd_size,
				     ctx->initrd_addr);

	if (ret)
		return boot_fail(ctx, ret, "--initrd %s: %s", ctx->req->initrd, strerror(-ret));
	return 0;
}

static int write_cpu_state(struct boot_ctx *ctx)
{
	int ret = boot_write_gdt(ctx->mem, ctx->mode);

	if (!ret && ctx->mode == BOOT_ENTRY_LINUX64)
		ret = boot_write_page_tables(ctx->mem);
	if (ret)
		return boot_fail(ctx, ret, "--memory: no RAM for the boot GDT and page tables");
	ret = mptable_write(ctx->mem, ctx->req->ncpus);
	if (ret)
		return boot_fail(ctx, ret, "--cpus %u: cannot write the MP table: %s",
				 ctx->req->ncpus, strerror(-ret));
	ret = acpi_write_tables(ctx->mem, ctx->req->ncpus, ctx->req->virtio_mmio);
	if (ret)
		return boot_fail(ctx, ret, "--cpus %u: cannot write the ACPI tables: %s",
				 ctx->req->ncpus, strerror(-ret));
	return 0;
}

static int load(struct boot_ctx *ctx)
{
	int ret = ctx->is_bzimage ? bzimage_load(ctx) : elf_load(ctx);

	if (!ret && ctx->initrd_addr)
		ret = load_initrd(ctx);
	if (!ret)
		ret = write_cmdline(ctx);
	if (!ret)
		ret = ctx->mode == BOOT_ENTRY_PVH32 ? pvh_write_start_info(ctx)
						    : zeropage_write(ctx);
	if (!ret)
		ret = write_cpu_state(ctx);
	return ret;
}

static void describe_entry(const struct boot_ctx *ctx, struct boot_entry *e)
{
	bool linux64 = ctx->mode == BOOT_ENTRY_LINUX64;

	*e = (struct boot_entry){
		.mode = ctx->mode,
		.rip = ctx->entry,
		.rsi = linux64 ? LAYOUT_ZERO_PAGE : 0,
		.rbx = linux64 ? 0 : LAYOUT_PVH_START_INFO,
		.rsp = LAYOUT_BOOT_STACK,
		.cr3 = linux64 ? LAYOUT_PML4 : 0,
		.gdt_base = LAYOUT_BOOT_GDT,
		.gdt_limit = BOOT_GDT_ENTRIES * 8 - 1,
		.cs = BOOT_GDT_CS, .ds = BOOT_GDT_DS, .tr = BOOT_GDT_TR,
	};
}

int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *entry, char *err, size_t errlen)
{
	struct boot_ctx ctx = {
		.mem = mem, .req = req, .err = err, .errlen = errlen,
		.kernel_fd = -1, .initrd_fd = -1,
	};
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!req || !req->kernel || !req->cmdline || !mem || !entry)
		return boot_fail(&ctx, -EINVAL, "--kernel: no kernel given");
	ret = validate(&ctx);
	if (!ret)
		ret = load(&ctx);
	if (!ret)
		describe_entry(&ctx, entry);
	if (ctx.kernel_fd >= 0)
		close(ctx.kernel_fd);
	if (ctx.initrd_fd >= 0)
		close(ctx.initrd_fd);
	free(ctx.segs);
	return ret;
}
