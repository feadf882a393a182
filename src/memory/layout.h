/* SPDX-License-Identifier: MIT */
#ifndef HUSK_LAYOUT_H
#define HUSK_LAYOUT_H

/*
 * The guest physical address map husk builds (documented in README.md,
 * checked by the test guest's "e820" check). All guest RAM comes from one
 * memfd; RAM beyond LOW_RAM_MAX is placed above 4 GiB, leaving
 * [LOW_RAM_MAX, 4 GiB) for MMIO (PCI windows, IOAPIC, LAPIC).
 *
 *   0x00000000 - 0x0009fbff  RAM (usable)
 *   0x0009fc00 - 0x0009ffff  reserved (EBDA)
 *   0x000a0000 - 0x000effff  not described (legacy VGA / ROM hole)
 *   0x000f0000 - 0x000fffff  reserved (BIOS area: MP table at 0xf0000,
 *                            VM generation ID at 0xf7000, ACPI tables at
 *                            0xf8000, reset stub at 0xffff0)
 *   0x00100000 - low_end     RAM (usable), low_end = min(memory, 3 GiB)
 *   0xc0000000 - 0xffffffff  MMIO hole (no RAM)
 *   4 GiB      - 4 GiB + (memory - 3 GiB)   RAM (usable), if memory > 3 GiB
 *
 * Boot-time structures husk writes for the Linux 64-bit entry:
 */
#define GIB(x) ((unsigned long long)(x) << 30)
#define MIB(x) ((unsigned long long)(x) << 20)
#define KIB(x) ((unsigned long long)(x) << 10)

#define LAYOUT_BOOT_GDT		0x500ULL	/* GDT: 0x10 code, 0x18 data, 0x20 TSS */
#define LAYOUT_PVH_START_INFO	0x6000ULL	/* hvm_start_info + memmap + modlist */
#define LAYOUT_ZERO_PAGE	0x7000ULL	/* struct boot_params */
#define LAYOUT_BOOT_STACK	0x8ff0ULL	/* initial RSP of the boot vCPU */
#define LAYOUT_PML4		0x9000ULL	/* identity map of the first 4 GiB, */
#define LAYOUT_PDPT		0xa000ULL	/* 2 MiB pages, 4 page directories */
#define LAYOUT_PD		0xb000ULL	/* 0xb000 - 0xefff */
#define LAYOUT_CMDLINE		0x20000ULL	/* kernel command line */
#define LAYOUT_CMDLINE_MAX	0x10000ULL
#define LAYOUT_EBDA_START	0x9fc00ULL
#define LAYOUT_LEGACY_HOLE	0xa0000ULL
#define LAYOUT_BIOS_START	0xf0000ULL	/* MP floating pointer + MP config table */
#define LAYOUT_ACPI_START	0xf8000ULL	/* RSDP, then XSDT, FADT, MADT, DSDT */
#define LAYOUT_ACPI_RSDP	LAYOUT_ACPI_START
#define LAYOUT_RESET_VECTOR	0xffff0ULL	/* F000:FFF0: a stub that resets through ACPI */
#define LAYOUT_BIOS_END		0x100000ULL
#define LAYOUT_HIGH_RAM_START	0x100000ULL	/* kernels load here (1 MiB) */

#define LAYOUT_LOW_RAM_MAX	0xc0000000ULL	/* 3 GiB: RAM below the MMIO hole */
#define LAYOUT_MMIO_HOLE_START	LAYOUT_LOW_RAM_MAX
#define LAYOUT_HIGH_RAM_BASE	0x100000000ULL	/* 4 GiB */
#define LAYOUT_IOAPIC_BASE	0xfec00000ULL
#define LAYOUT_LAPIC_BASE	0xfee00000ULL

/* KVM private areas that must not overlap RAM: placed in the MMIO hole */
#define LAYOUT_KVM_TSS_ADDR	0xfffbd000ULL	/* 3 pages */
#define LAYOUT_KVM_IDENTITY_MAP	0xfffbc000ULL	/* 1 page */

#define LAYOUT_MIN_MEMORY	MIB(8)
#define LAYOUT_MAX_MEMORY	GIB(1024)	/* 1 TiB */

/* husk-specific I/O ports (see README "Guest-visible devices") */
#define PORT_DEBUG_EXIT		0xf4	/* 4 bytes: write v, husk exits with v & 0xff */
#define PORT_BOOT_MARKER	0x440	/* write 123 (any byte value): husk logs ms since start */
#define PORT_TEST_MSI		0x448	/* 4 bytes: write (dest_apic << 8) | vector: husk sends that MSI */
#define BOOT_MARKER_MAGIC	123

/*
 * ACPI hardware-reduced registers, described by the FADT and the DSDT and
 * emulated by devices/acpi_pm.c and devices/acpi_ged.c (one byte each).
 */
#define PORT_ACPI_SLEEP_CTL	0x600	/* FADT SLEEP_CONTROL_REG: write SLP_EN | SLP_TYP << 2 */
#define PORT_ACPI_SLEEP_STS	0x601	/* FADT SLEEP_STATUS_REG: reads 0 */
#define PORT_ACPI_RESET		0x602	/* FADT RESET_REG: write ACPI_RESET_VALUE */
#define PORT_ACPI_GED		0x608	/* GED event bits, cleared by the read */
#define ACPI_SLP_EN		0x20	/* sleep control: SLP_EN */
#define ACPI_SLP_TYP_SHIFT	2	/* sleep control: SLP_TYP in bits 4:2 */
#define ACPI_SLP_TYP_MASK	0x1c
#define ACPI_S5_SLP_TYP		5	/* \_S5_: soft off */
#define ACPI_RESET_VALUE	0x01	/* FADT RESET_VALUE */
#define ACPI_GED_GSI		9	/* GED interrupt: ISA IRQ 9, level, active high */
#define ACPI_GED_EVT_PWRBTN	0x01	/* GED event bit: power button pressed */
#define ACPI_GED_EVT_VMGENID	0x02	/* GED event bit: a new VM generation ID */

/*
 * The VM Generation ID (devices/vmgenid.c): 16 bytes in the reserved BIOS
 * area, below the ACPI tables; the DSDT's VGEN device's ADDR names it.
 */
#define LAYOUT_VMGENID		0xf7000ULL
#define LAYOUT_VMGENID_SIZE	16

/*
 * HA devices (devices/pvpanic.c, devices/watchdog.c), described by the
 * DSDT (QEMU0001) and the WDAT (boot/acpi_wdat.c). The watchdog's
 * registers are 32 bits wide, one per dword from PORT_WDT_BASE.
 */
#define PORT_PVPANIC		0x505	/* read: supported events; write: events that happened */
#define PVPANIC_PANICKED	0x01	/* the guest panicked */
#define PVPANIC_CRASH_LOADED	0x02	/* the guest loaded a crash kernel (kdump) */
#define PORT_WDT_BASE		0x620	/* watchdog register block, WDT_REGS_LEN ports */
#define WDT_REG_KICK		0x00	/* write 1: reload the countdown (WDAT RESET) */
#define WDT_REG_COUNT		0x04	/* r/w: countdown in periods, used on each reload */
#define WDT_REG_LEFT		0x08	/* read: periods left before the watchdog fires */
#define WDT_REG_CTL		0x0c	/* r/w: bit 0 running */
#define WDT_REG_STS		0x10	/* read: bit 0 fired; write 0 to bit 0: clear */
#define WDT_REGS_LEN		0x14
#define WDT_CTL_RUNNING		0x01
#define WDT_STS_FIRED		0x01
#define WDT_PERIOD_MS		100	/* one count (WDAT Timer Period) */
#define WDT_MIN_COUNT		10	/* 1 s */
#define WDT_MAX_COUNT		36000	/* 1 hour */

#endif
