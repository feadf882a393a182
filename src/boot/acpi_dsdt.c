// SPDX-License-Identifier: MIT
/*
 * The DSDT's AML, emitted with the builder in aml.c rather than compiled
 * from ASL with iasl: no build-time tool, and the table can follow the VM.
 * In ASL it reads:
 *
 *   Name (_S5, Package () { 5, 5, 0, 0 })	// SLP_TYP for soft off
 *   Scope (\_SB) {
 *     Device (COM1) { _HID PNP0501, _UID 1, _CRS IO 0x3f8/8, IRQNoFlags {4} }
 *     Device (RTC)  { _HID PNP0B00, _CRS IO 0x70/2 }	// no alarm: no IRQ 8
 *     Device (KBD)  { _HID PNP0303, _CRS IO 0x60/1, IO 0x64/1, IRQNoFlags {1} }
 *     Device (PWRB) { _HID PNP0C0C, _UID 0 }		// power button
 *     Device (PCI0) {					// PCI segment 0's host bridge
 *       _HID PNP0A08, _CID PNP0A03, _SEG 0, _BBN 0, _UID 0
 *       _CRS WordBusNumber 0-255, IO 0xcf8/8,
 *            WordIO 0xc000-0xffff, DWordMemory 0xc0000000-0xdfffffff,
 *            QWordMemory pci_mmio64_base(RAM)-+64 GiB
 *       _PRT Package { Package { 0xSSSSFFFF, pin, Zero, GSI }, ... }
 *     }
 *     Device (MBRD) { _HID PNP0C02, _UID 0, _CRS Memory32Fixed ECAM }
 *     Device (PEVT) { _HID "QEMU0001", _CRS IO 0x505/1, _STA 0x0f }	// pvpanic
 *     Device (VGEN) { _HID "VMGENCTR", _CID "VM_GEN_COUNTER", ADDR Package { lo, hi } }
 *     Device (GED)  {					// Generic Event Device
 *       _HID "ACPI0013", _UID 0,
 *       _CRS ExtendedInterrupt (Consumer, Level, ActiveHigh, Exclusive) { 9 }
 *       OperationRegion (GDRG, SystemIO, 0x608, 1)
 *       Field (GDRG, ByteAcc, NoLock, Preserve) { GDAT, 8 }
 *       Method (_EVT, 1, Serialized) {		// Arg0: the GSI that fired
 *         Local0 = GDAT				// reading clears the bits
 *         If (Local0 & 1) { Notify (\_SB.PWRB, 0x80) }
 *         If (Local0 & 2) { Notify (\_SB.VGEN, 0x80) }	// a new VM generation
 *       }
 *     }
 *   }
 *
 * Linux's GED driver (drivers/acpi/evged.c) requests every interrupt in
 * the GED's _CRS and runs _EVT from a threaded handler while the (level)
 * line is masked; the read of GDAT lowers the line (devices/acpi_ged.c).
 * Notify 0x80 on the PNP0C0C device is a power button press for Linux's
 * ACPI button driver (KEY_POWER to userspace).
 *
 * PCI0's windows, bus range and INTx routing are the ones in
 * devices/pci_layout.h: the _PRT gives device (slot) 1-31's pins INTA-INTD
 * the GSIs pci_intx_gsi() returns (a Source of Zero: global GSIs, which
 * Linux treats as level-triggered, active-low). The 0xcf8 config ports
 * are listed as a consumed I/O range (Linux drops them from the windows).
 * MBRD reserves the ECAM window, which Linux requires before it uses the
 * MCFG ("MMCONFIG at ... reserved as ACPI motherboard resource").
 *
 * PEVT is the pvpanic port (devices/pvpanic.c) as QEMU describes it;
 * Linux's pvpanic-mmio driver binds QEMU0001 and takes its I/O resource.
 *
 * The legacy devices sit directly under \_SB, not behind an ISA bridge;
 * their _HIDs are what Linux's PNP layer binds the 8250, rtc-cmos and i8042
 * drivers to. In hardware-reduced mode Linux has no legacy PIC and maps
 * ISA IRQs dynamically, so drivers need these _CRS IRQs to find theirs.
 */
#include "boot/acpi.h"
#include "boot/aml.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "memory/layout.h"
#include "virtio/virtio_mmio.h"

#include <stdio.h>

#define COM1_BASE	0x3f8
#define COM1_IRQ	4
#define RTC_BASE	0x70
#define I8042_DATA	0x60
#define I8042_CMD	0x64
#define I8042_KBD_IRQ	1
#define ACPI_STA_PRESENT 0x0f	/* present, enabled, shown in the UI, functioning */
#define NOTIFY_STATUS	0x80	/* power button: "button pressed" */
#define PCI_PRT_FIRST_SLOT 1	/* 00:00.0 is the host bridge: no INTx */
#define PCI_PRT_PINS	4	/* INTA-INTD */
#define PCI_CONFIG_PORTS 8	/* 0xcf8-0xcff */

static void dsdt_sleep_states(struct aml *a)
{
	aml_name(a, "_S5");
	aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
}

static void dsdt_com1(struct aml *a)
{
	struct aml_res r = { .len = 0 };

	aml_device_begin(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_integer(a, "_UID", 1);
	aml_res_io(&r, COM1_BASE, 8);
	aml_res_irq(&r, COM1_IRQ);
	aml_name_resources(a, "_CRS", &r);
	aml_end(a);
}

static void dsdt_rtc(struct aml *a)
{
	struct aml_res r = { .len = 0 };

	aml_device_begin(a, "RTC");
	aml_name_eisaid(a, "_HID", "PNP0B00");
	aml_res_io(&r, RTC_BASE, 2);
	aml_name_resources(a, "_CRS", &r);
	aml_end(a);
}

static void dsdt_i8042(struct aml *a)
{
	struct aml_res r = { .len = 0 };

	aml_device_begin(a, "KBD");
	aml_name_eisaid(a, "_HID", "PNP0303");
	aml_res_io(&r, I8042_DATA, 1);
	aml_res_io(&r, I8042_CMD, 1);
	aml_res_irq(&r, I8042_KBD_IRQ);
	aml_name_resources(a, "_CRS", &r);
	aml_end(a);
}

static void dsdt_power_button(struct aml *a)
{
	aml_device_begin(a, "PWRB");
	aml_name_eisaid(a, "_HID", "PNP0C0C");
	aml_name_integer(a, "_UID", 0);
	aml_end(a);
}

static void dsdt_pvpanic(struct aml *a)
{
	struct aml_res r = { .len = 0 };

	aml_device_begin(a, "PEVT");
	aml_name_string(a, "_HID", "QEMU0001");
	aml_res_io(&r, PORT_PVPANIC, 1);
	aml_name_resources(a, "_CRS", &r);
	aml_name_integer(a, "_STA", ACPI_STA_PRESENT);
	aml_end(a);
}

/* If (Local0 & @bit) { Notify (@device, 0x80) } */
static void dsdt_ged_notify_if(struct aml *a, unsigned bit, const char *device)
{
	aml_if_begin(a);
	aml_byte(a, AML_AND);
	aml_local(a, 0);
	aml_integer(a, bit);
	aml_namestring(a, "");			/* no target */
	aml_byte(a, AML_NOTIFY);
	aml_namestring(a, device);
	aml_integer(a, NOTIFY_STATUS);
	aml_end(a);
}

/*
 * Method (_EVT, 1) { Local0 = GDAT; If (Local0 & 1) { Notify (PWRB, 0x80) }
 *                    If (Local0 & 2) { Notify (VGEN, 0x80) } }
 */
static void dsdt_ged_evt(struct aml *a)
{
	aml_method_begin(a, "_EVT", 1, 1);
	aml_byte(a, AML_STORE);
	aml_namestring(a, "GDAT");
	aml_local(a, 0);
	dsdt_ged_notify_if(a, ACPI_GED_EVT_PWRBTN, "\\_SB.PWRB");
	dsdt_ged_notify_if(a, ACPI_GED_EVT_VMGENID, "\\_SB.VGEN");
	aml_end(a);
}

/*
 * The VM Generation ID (devices/vmgenid.c), as Linux's vmgenid driver
 * finds it: _HID "VMGENCTR", and ADDR, a package of the ID's address,
 * low 32 bits then high.
 */
static void dsdt_vmgenid(struct aml *a)
{
	aml_device_begin(a, "VGEN");
	aml_name_string(a, "_HID", "VMGENCTR");
	aml_name_string(a, "_CID", "VM_GEN_COUNTER");
	aml_name_string(a, "_DDN", "VM_Gen_Counter");
	aml_name(a, "ADDR");
	aml_package_begin(a, 2);
	aml_integer(a, LAYOUT_VMGENID & 0xffffffffu);
	aml_integer(a, LAYOUT_VMGENID >> 32);
	aml_end(a);
	aml_end(a);
}

static void dsdt_ged(struct aml *a)
{
	struct aml_res r = { .len = 0 };

	aml_device_begin(a, "GED");
	aml_name_string(a, "_HID", "ACPI0013");
	aml_name_integer(a, "_UID", 0);
	aml_res_ext_irq(&r, ACPI_GED_GSI, 0);	/* level, active high, exclusive */
	aml_name_resources(a, "_CRS", &r);
	aml_opregion(a, "GDRG", AML_SPACE_SYSTEM_IO, PORT_ACPI_GED, 1);
	aml_field_begin(a, "GDRG", AML_FIELD_BYTE_ACC | AML_FIELD_NO_LOCK | AML_FIELD_PRESERVE);
	aml_field_unit(a, "GDAT", 8);
	aml_end(a);
	dsdt_ged_evt(a);
	aml_end(a);
}

static void dsdt_pci_crs(struct aml *a, uint64_t ram_size)
{
	uint64_t mmio64 = pci_mmio64_base(ram_size);
	struct aml_res r = { .len = 0 };

	aml_res_word_bus(&r, ACPI_PCI_BUS_FIRST, ACPI_PCI_BUS_LAST);
	aml_res_io(&r, PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_PORTS);
	aml_res_word_io(&r, PCI_IOPORT_BASE, PCI_IOPORT_BASE + PCI_IOPORT_SIZE - 1);
	aml_res_dword_mem(&r, PCI_MMIO32_BASE, PCI_MMIO32_BASE + PCI_MMIO32_SIZE - 1, 0);
	aml_res_qword_mem(&r, mmio64, mmio64 + PCI_MMIO64_SIZE - 1, 0);
	aml_name_resources(a, "_CRS", &r);
}

/* Name (_PRT, Package { Package (4) { 0xSSSSFFFF, pin (0 = INTA), Zero, GSI }, ... }) */
static void dsdt_pci_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package_begin(a, (PCI_SLOTS - PCI_PRT_FIRST_SLOT) * PCI_PRT_PINS);
	for (unsigned slot = PCI_PRT_FIRST_SLOT; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_PRT_PINS; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);	/* any function */
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, pci_intx_gsi(slot, pin + 1));
			aml_end(a);
		}
	}
	aml_end(a);
}

static void dsdt_pci_root(struct aml *a, uint64_t ram_size)
{
	aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A08");
	aml_name_eisaid(a, "_CID", "PNP0A03");
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", ACPI_PCI_BUS_FIRST);
	aml_name_integer(a, "_UID", 0);
	dsdt_pci_crs(a, ram_size);
	dsdt_pci_prt(a);
	aml_end(a);
}

/* The ECAM window, reserved as a motherboard resource. */
static void dsdt_motherboard(struct aml *a)
{
	struct aml_res r = { .len = 0 };

	aml_device_begin(a, "MBRD");
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_name_integer(a, "_UID", 0);
	aml_res_mem32(&r, PCI_ECAM_BASE, PCI_ECAM_SIZE, 1);
	aml_name_resources(a, "_CRS", &r);
	aml_end(a);
}

/*
 * A virtio-mmio device (Linux binds LNRO0005): its register page and its
 * edge-triggered GSI, the same slots the command line announces.
 */
static void dsdt_virtio_mmio(struct aml *a, unsigned i)
{
	struct aml_res r = { .len = 0 };
	char name[5];

	snprintf(name, sizeof(name), "VR%02u", i);
	aml_device_begin(a, name);
	aml_name_string(a, "_HID", "LNRO0005");
	aml_name_integer(a, "_UID", i);
	aml_res_mem32(&r, (uint32_t)(VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE),
		      (uint32_t)VIRTIO_MMIO_SIZE, 1);
	aml_res_ext_irq(&r, virtio_mmio_gsis[i], AML_IRQ_EDGE);
	aml_name_resources(a, "_CRS", &r);
	aml_end(a);
}

int acpi_dsdt_build(struct aml *a, unsigned ncpus, uint64_t ram_size, unsigned nmmio)
{
	(void)ncpus;			/* no processor objects: the MADT lists the CPUs */
	dsdt_sleep_states(a);
	aml_scope_begin(a, "\\_SB");
	dsdt_com1(a);
	dsdt_rtc(a);
	dsdt_i8042(a);
	dsdt_power_button(a);
	dsdt_pci_root(a, ram_size);
	dsdt_motherboard(a);
	dsdt_pvpanic(a);
	dsdt_vmgenid(a);
	dsdt_ged(a);
	for (unsigned i = 0; i < nmmio && i < VIRTIO_MMIO_MAX_DEVICES; i++)
		dsdt_virtio_mmio(a, i);
	aml_end(a);
	return aml_finish(a);
}
