/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BOOT_H
#define HUSK_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "memory/guest_mem.h"

/*
 * Kernel loading: bzImage (Linux x86 boot protocol, 64-bit entry) and ELF
 * (PT_LOAD segments; entered through its PVH note when it has one, else at
 * e_entry in 64-bit mode with a zero page in RSI).
 */
struct boot_request {
	const char *kernel;	/* path */
	const char *initrd;	/* path or NULL */
	const char *cmdline;	/* never NULL ("" for none) */
	unsigned ncpus;		/* for the MP and ACPI tables */
	unsigned virtio_mmio;	/* virtio-mmio devices the DSDT describes */
};

enum boot_entry_mode {
	BOOT_ENTRY_LINUX64,	/* long mode, paging on (identity map), RSI = zero page */
	BOOT_ENTRY_PVH32,	/* 32-bit protected mode, paging off, EBX = hvm_start_info */
};

/* What the boot vCPU's registers must be (cpu/regs.c applies it). */
struct boot_entry {
	enum boot_entry_mode mode;
	uint64_t rip;
	uint64_t rsi;		/* LINUX64: zero page GPA */
	uint64_t rbx;		/* PVH32: hvm_start_info GPA */
	uint64_t rsp;
	uint64_t cr3;		/* LINUX64: PML4 GPA; 0 for PVH32 */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs, ds, tr;	/* selectors into that GDT */
};

/*
 * Validate and load everything into guest RAM: kernel, initrd, command line,
 * zero page (with the e820 map and the RSDP address) or hvm_start_info, MP
 * and ACPI tables, boot GDT and
 * (LINUX64) page tables. Nothing else in guest RAM is touched.
 * On error fills @err with one line naming the file or flag, e.g.
 * "--kernel /tmp/x: not a bzImage or ELF kernel", and returns -errno.
 */
int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *entry, char *err, size_t errlen);

/* e820 map of @mem per memory/layout.h. Returns the entry count. */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
#define E820_RAM	1
#define E820_RESERVED	2
#define E820_ACPI	3
int e820_build(const struct guest_mem *mem, struct e820_entry *out, int max);

/* MP table (spec 1.4) at LAYOUT_BIOS_START for @ncpus CPUs + IOAPIC + ISA IRQs. */
int mptable_write(struct guest_mem *mem, unsigned ncpus);

/*
 * ACPI tables (RSDP at LAYOUT_ACPI_RSDP, XSDT, FADT, MADT, DSDT) for
 * @ncpus CPUs and @nmmio virtio-mmio devices (virtio/virtio_mmio.h slots) in the reserved BIOS area after the MP table, and the reset
 * stub at the BIOS reset vector (LAYOUT_RESET_VECTOR); see acpi.c.
 * Returns 0, -EINVAL (CPU count), -ENOMEM (no RAM there) or -E2BIG.
 */
int acpi_write_tables(struct guest_mem *mem, unsigned ncpus, unsigned nmmio);

#endif
