/* SPDX-License-Identifier: MIT */
#ifndef HUSK_PCI_LAYOUT_H
#define HUSK_PCI_LAYOUT_H

#include <stdint.h>

#include "memory/layout.h"

/*
 * Where PCI lives in the guest's address spaces (one PCI segment, bus 0).
 * The ACPI tables describe the same numbers: MCFG for the ECAM window, the
 * PCI root's _CRS for the bus range and the three BAR windows, and _PRT for
 * the INTx lines (pci_intx_gsi()).
 *
 * Inside the MMIO hole [0xc0000000, 4 GiB):
 *
 *   0xc0000000 - 0xdfffffff  32-bit BAR window (512 MiB), non-prefetchable
 *                            and 32-bit BARs
 *   0xe0000000 - 0xefffffff  ECAM (256 MiB: buses 0-255, 1 MiB each;
 *                            only bus 0 is populated, other buses read
 *                            all-ones). Must also be reserved for Linux to
 *                            use it (E820 reserved or a PNP0C02 _CRS).
 *   0xf0000000 - 0xfebfffff  free for platform MMIO (virtio-mmio, ...)
 *   0xfec00000               IOAPIC, 0xfee00000 LAPIC, KVM's private pages
 *
 * Above RAM: the 64-bit BAR window (64-bit BARs, prefetchable or not),
 * PCI_MMIO64_SIZE long, at pci_mmio64_base(): the first 1 GiB boundary at
 * or after the end of guest RAM, but never below 64 GiB, so guests with
 * less than 61 GiB of RAM all see it at 64 GiB. The builder must check
 * that its end fits the guest's physical address width (CPUID 0x80000008).
 *
 * Port I/O: the configuration mechanism #1 registers at 0xcf8 (address,
 * 4 ports) and 0xcfc (data, 4 ports), and an I/O BAR window at
 * 0xc000-0xffff.
 *
 * INTx: bus 0 device @slot's pin @pin (1 = INTA .. 4 = INTD) raises IOAPIC
 * pin / GSI 16 + ((slot + pin - 1) % 8), level-triggered, active-low in ACPI
 * terms (KVM_IRQ_LINE level 1 = asserted). GSIs 16-23 are used by nothing
 * else.
 */
#define PCI_CONFIG_ADDRESS_PORT	0xcf8
#define PCI_CONFIG_DATA_PORT	0xcfc

#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_ECAM_SIZE		MIB(256)
#define PCI_ECAM_BUS_SHIFT	20
#define PCI_ECAM_DEV_SHIFT	15
#define PCI_ECAM_FN_SHIFT	12
#define PCI_BUS_FIRST		0
#define PCI_BUS_LAST		0	/* the only bus with devices */

#define PCI_MMIO32_BASE		0xc0000000ULL
#define PCI_MMIO32_SIZE		MIB(512)

#define PCI_MMIO64_MIN_BASE	GIB(64)
#define PCI_MMIO64_ALIGN	GIB(1)
#define PCI_MMIO64_SIZE		GIB(64)

#define PCI_IOPORT_BASE		0xc000ULL
#define PCI_IOPORT_SIZE		0x4000ULL

#define PCI_INTX_GSI_BASE	16
#define PCI_INTX_GSI_COUNT	8

/* Start of the 64-bit BAR window for a guest with @ram_size bytes of RAM. */
static inline uint64_t pci_mmio64_base(uint64_t ram_size)
{
	uint64_t ram_end = LAYOUT_HIGH_RAM_BASE;
	uint64_t base;

	if (ram_size > LAYOUT_LOW_RAM_MAX)
		ram_end += ram_size - LAYOUT_LOW_RAM_MAX;
	base = (ram_end + PCI_MMIO64_ALIGN - 1) & ~(PCI_MMIO64_ALIGN - 1);
	return base < PCI_MMIO64_MIN_BASE ? PCI_MMIO64_MIN_BASE : base;
}

/* The GSI of bus 0 device @slot's INTx pin @pin (1 = INTA .. 4 = INTD). */
static inline uint32_t pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_GSI_COUNT;
}

#endif
