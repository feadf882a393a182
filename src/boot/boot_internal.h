/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BOOT_INTERNAL_H
#define HUSK_BOOT_INTERNAL_H

/*
 * Shared between the files of src/boot. boot_load() works in two phases:
 * every kernel parser first *probes* (reads and validates headers, decides
 * where everything goes, writes nothing), then, once the command line and
 * the initrd have been checked too, *loads* (copies into guest RAM).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h>

#include "boot/boot.h"

#define BOOT_PAGE_SIZE	0x1000ULL

/* One PT_LOAD segment, validated: file [offset, offset + filesz) -> gpa. */
struct elf_segment {
	uint64_t offset;
	uint64_t filesz;
	uint64_t gpa;
	uint64_t memsz;
	uint64_t vaddr;
	unsigned index;			/* in the program header table */
};

struct boot_ctx {
	struct guest_mem *mem;
	const struct boot_request *req;
	char *err;
	size_t errlen;

	int kernel_fd;
	uint64_t kernel_size;		/* file size */

	/* Filled by the kernel probe. */
	enum boot_entry_mode mode;
	uint64_t entry;			/* rip */
	uint64_t kernel_end;		/* first byte above the kernel's memory */
	uint64_t initrd_limit;		/* the initrd must end at or below */
	uint64_t cmdline_max;		/* longest command line (without NUL) */
	bool is_bzimage;

	/* bzImage */
	struct setup_header hdr;	/* as read from the image */
	size_t hdr_len;			/* bytes of it the image defines */
	uint64_t bz_load_addr;		/* where the protected-mode kernel goes */
	uint64_t bz_offset;		/* its offset in the file */
	uint64_t bz_size;		/* its size (syssize * 16) */

	/* ELF */
	struct elf_segment *segs;
	unsigned nsegs;

	/* initrd */
	int initrd_fd;
	uint64_t initrd_size;
	uint64_t initrd_addr;		/* 0 when there is none */
};

/* Formats the one-line error message into ctx->err; returns @ret. */
int boot_fail(struct boot_ctx *ctx, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "300 MiB", "1.5 MiB", "12 KiB", "100 bytes" into @buf. */
const char *boot_size_str(uint64_t bytes, char *buf, size_t len);

/* Reads exactly @len bytes at @off; -EIO on a short read. */
int boot_pread(int fd, void *buf, size_t len, uint64_t off);

/* Copies @len bytes at file offset @off into guest RAM at @gpa; -errno. */
int boot_copy_to_guest(struct guest_mem *mem, int fd, uint64_t off, uint64_t len, uint64_t gpa);

/* The "--memory: too small" error for a kernel that needs [start, end). */
int boot_fail_memory(struct boot_ctx *ctx, uint64_t start, uint64_t end);

/* Page-aligned helpers that saturate instead of wrapping. */
static inline uint64_t boot_align_up(uint64_t v, uint64_t align)
{
	if (v > UINT64_MAX - (align - 1))
		return UINT64_MAX & ~(align - 1);
	return (v + align - 1) & ~(align - 1);
}

#define MPTABLE_MAX_CPUS 254	/* APIC IDs 0..253, the IOAPIC takes 254 */

/* bzimage.c: @head holds the first @headlen bytes of the file. */
bool bzimage_detect(const uint8_t *head, size_t headlen);
int bzimage_probe(struct boot_ctx *ctx, const uint8_t *head, size_t headlen);
int bzimage_load(struct boot_ctx *ctx);

/* elf.c */
bool elf_detect(const uint8_t *head, size_t headlen);
int elf_probe(struct boot_ctx *ctx, const uint8_t *head, size_t headlen);
int elf_load(struct boot_ctx *ctx);

/* zeropage.c: struct boot_params at LAYOUT_ZERO_PAGE. */
int zeropage_write(struct boot_ctx *ctx);

/* pvh.c: hvm_start_info at LAYOUT_PVH_START_INFO. */
int pvh_write_start_info(struct boot_ctx *ctx);

/* cpu_tables.c: boot GDT and (LINUX64) identity page tables. */
int boot_write_gdt(struct guest_mem *mem, enum boot_entry_mode mode);
int boot_write_page_tables(struct guest_mem *mem);

/* Boot GDT selectors and size (6 entries: the TSS takes two in long mode). */
#define BOOT_GDT_CS	0x10
#define BOOT_GDT_DS	0x18
#define BOOT_GDT_TR	0x20
#define BOOT_GDT_ENTRIES 6

#endif
