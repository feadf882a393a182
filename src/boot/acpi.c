// SPDX-License-Identifier: MIT
/*
 * ACPI tables for a hardware-reduced ACPI 6.5 platform, written into the
 * reserved BIOS area after the MP table (the e820 map is unchanged):
 *
 *   LAYOUT_ACPI_RSDP (0xf8000)  RSDP, revision 2 (XSDT address only)
 *   then, 16-byte aligned:      XSDT -> FADT, MADT, MCFG, WDAT (room for 8 entries)
 *                               DSDT (AML from acpi_dsdt.c)
 *                               FADT -> DSDT (X_DSDT)
 *                               MADT (one local APIC per vCPU, IOAPIC, ...)
 *                               MCFG (PCI segment 0's ECAM window)
 *                               WDAT (the guest watchdog, acpi_wdat.c; 308 bytes)
 *
 * The DSDT is about 2 KiB (the PCI root's _PRT is most of it), the MADT
 * 98 bytes for 2 vCPUs and 2114 for 254, so everything ends below
 * 0xf9800, far below the reset stub at 0xffff0. The MP table before
 * 0xf8000 is at most 5.2 KiB (checked at build time).
 *
 * MCFG lists the ECAM window of devices/pci_layout.h for buses 0-255
 * (all of it decodes; only bus 0 has devices). Linux uses MMCONFIG only
 * when the window is also reserved, which the DSDT does with a PNP0C02
 * motherboard resource device (acpi_dsdt.c).
 *
 * Linux finds the RSDP by scanning 0xe0000-0xfffff, and husk also passes
 * its address in the zero page (acpi_rsdp_addr) and the PVH start info.
 *
 * The FADT sets HW_REDUCED_ACPI: no PM1/GPE blocks, no SCI, no FACS. Power
 * off and reset use the sleep control and reset registers (ports in
 * memory/layout.h, emulated by devices/acpi_pm.c); the power button is a
 * Generic Event Device (devices/acpi_ged.c) on ISA IRQ 9. SCI_INT is 9 as
 * well: hardware-reduced Linux installs no SCI handler, but it treats the
 * interrupt source override whose source is SCI_INT as the SCI's, so a
 * zero SCI_INT would turn the IRQ 0 (timer) override into the SCI's.
 *
 * Interrupt routing matches the MP table: IOAPIC ID = ncpus, ISA IRQ n on
 * IOAPIC pin n except IRQ 0 (the PIT) on pin 2, NMI on LINT1 of every CPU.
 * IRQ 9 is overridden to level-triggered, active high (the GED's line, as
 * QEMU describes its SCI); the other ISA IRQs stay edge, active high.
 *
 * The BIOS reset vector (F000:FFF0, LAYOUT_RESET_VECTOR) holds a real-mode
 * stub that writes the ACPI reset register. Linux on a hardware-reduced
 * platform prefers an EFI reboot; without EFI it falls back to jumping to
 * the BIOS reset vector in real mode (reboot.c, BOOT_EFI -> BOOT_BIOS) and
 * never reaches the ACPI or keyboard-controller resets, so with nothing
 * there `reboot` (and panic=-1) would hang.
 */
#include <errno.h>
#include <string.h>

#include "boot/acpi.h"
#include "boot/aml.h"
#include "boot/boot_internal.h"
#include "boot/mptable.h"
#include "memory/layout.h"

#define ACPI_AREA_SIZE		(LAYOUT_RESET_VECTOR - LAYOUT_ACPI_START)
#define ACPI_ALIGN		16
#define ISA_IRQ_PIT		0
#define IOAPIC_PIN_PIT		2
#define LINT_NMI		1

_Static_assert(ACPI_MAX_CPUS == MPTABLE_MAX_CPUS, "ACPI and MP tables describe the same CPUs");
_Static_assert(ACPI_PCI_BUS_LAST == 255, "MCFG: the ECAM window decodes buses 0-255");
_Static_assert(LAYOUT_BIOS_START + sizeof(struct mp_floating_pointer) +
	       sizeof(struct mp_config_header) +
	       MPTABLE_MAX_CPUS * sizeof(struct mp_processor) + sizeof(struct mp_bus) +
	       sizeof(struct mp_ioapic) + (MP_ISA_IRQS + 1) * sizeof(struct mp_interrupt)
	       <= LAYOUT_ACPI_START, "the largest MP table ends below the ACPI tables");

/* The reserved BIOS area the tables go into, as a bump allocator. */
struct acpi_area {
	uint8_t *base;
	size_t used;
};

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return (uint8_t)-sum;
}

static void *area_alloc(struct acpi_area *ar, size_t size, uint64_t *gpa)
{
	size_t off = (ar->used + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);

	if (off > ACPI_AREA_SIZE || size > ACPI_AREA_SIZE - off)
		return NULL;
	ar->used = off + size;
	*gpa = LAYOUT_ACPI_START + off;
	return ar->base + off;
}

static void put_header(struct acpi_header *h, const char *sig, size_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/* Call last, once the whole table is written. */
static void seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static int write_dsdt(struct acpi_area *ar, unsigned ncpus, uint64_t ram_size, unsigned nmmio,
		      uint64_t *gpa)
{
	struct acpi_header *h;
	struct aml a;
	int ret;

	aml_init(&a);
	ret = acpi_dsdt_build(&a, ncpus, ram_size, nmmio);
	if (!ret) {
		h = area_alloc(ar, sizeof(*h) + a.len, gpa);
		if (!h)
			ret = -E2BIG;
	}
	if (!ret) {
		put_header(h, "DSDT", sizeof(*h) + a.len, ACPI_DSDT_REVISION);
		memcpy(h + 1, a.buf, a.len);
		seal(h);
	}
	aml_free(&a);
	return ret;
}

static struct acpi_gas io_reg(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO, .bit_width = 8,
		.access_size = ACPI_GAS_ACCESS_BYTE, .address = port,
	};
}

static int write_fadt(struct acpi_area *ar, uint64_t dsdt, uint64_t *gpa)
{
	struct acpi_fadt *f = area_alloc(ar, sizeof(*f), gpa);

	if (!f)
		return -E2BIG;
	put_header(&f->h, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->minor_version = ACPI_FADT_MINOR;
	f->preferred_pm_profile = ACPI_PM_PROFILE_ENTERPRISE_SERVER;
	f->sci_int = ACPI_GED_GSI;
	f->century = ACPI_RTC_CENTURY_INDEX;
	/* An i8042 and a CMOS RTC are there; VGA is not; MSI works. */
	f->iapc_boot_arch = ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_8042 |
			    ACPI_IAPC_VGA_NOT_PRESENT;
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PWR_BUTTON | ACPI_FADT_SLP_BUTTON |
		   ACPI_FADT_RESET_REG_SUP | ACPI_FADT_HW_REDUCED;
	f->reset_reg = io_reg(PORT_ACPI_RESET);
	f->reset_value = ACPI_RESET_VALUE;
	f->x_dsdt = dsdt;		/* DSDT (32-bit) stays 0, as the spec asks */
	f->sleep_control_reg = io_reg(PORT_ACPI_SLEEP_CTL);
	f->sleep_status_reg = io_reg(PORT_ACPI_SLEEP_STS);
	seal(&f->h);
	return 0;
}

static uint8_t *put_madt_cpus(uint8_t *p, unsigned ncpus)
{
	for (unsigned i = 0; i < ncpus; i++) {
		struct acpi_madt_lapic e = {
			.type = ACPI_MADT_LAPIC, .length = sizeof(e),
			.processor_uid = (uint8_t)i, .apic_id = (uint8_t)i,
			.flags = ACPI_MADT_ENABLED,
		};

		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	return p;
}

static uint8_t *put_madt_override(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	struct acpi_madt_int_override e = {
		.type = ACPI_MADT_INT_OVERRIDE, .length = sizeof(e),
		.source_irq = irq, .gsi = gsi, .flags = flags,
	};

	memcpy(p, &e, sizeof(e));
	return p + sizeof(e);
}

static uint8_t *put_madt_ioapic(uint8_t *p, unsigned ncpus)
{
	struct acpi_madt_ioapic io = {
		.type = ACPI_MADT_IOAPIC, .length = sizeof(io),
		.ioapic_id = (uint8_t)ncpus, .address = (uint32_t)LAYOUT_IOAPIC_BASE,
	};
	struct acpi_madt_lapic_nmi nmi = {
		.type = ACPI_MADT_LAPIC_NMI, .length = sizeof(nmi),
		.processor_uid = ACPI_MADT_ALL_CPUS, .lint = LINT_NMI,
	};

	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	p = put_madt_override(p, ISA_IRQ_PIT, IOAPIC_PIN_PIT, ACPI_MPS_CONFORMS);
	p = put_madt_override(p, ACPI_GED_GSI, ACPI_GED_GSI,
			      ACPI_MPS_LEVEL | ACPI_MPS_ACTIVE_HIGH);
	memcpy(p, &nmi, sizeof(nmi));
	return p + sizeof(nmi);
}

static int write_madt(struct acpi_area *ar, unsigned ncpus, uint64_t *gpa)
{
	size_t size = ACPI_MADT_SIZE(ncpus);
	struct acpi_madt *m = area_alloc(ar, size, gpa);
	uint8_t *p;

	if (!m)
		return -E2BIG;
	put_header(&m->h, "APIC", size, ACPI_MADT_REVISION);
	m->lapic_address = (uint32_t)LAYOUT_LAPIC_BASE;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	p = put_madt_cpus((uint8_t *)(m + 1), ncpus);
	p = put_madt_ioapic(p, ncpus);
	if ((size_t)(p - (uint8_t *)m) != size)
		return -EINVAL;
	seal(&m->h);
	return 0;
}

static int write_mcfg(struct acpi_area *ar, uint64_t *gpa)
{
	struct acpi_mcfg *m = area_alloc(ar, ACPI_MCFG_SIZE, gpa);
	struct acpi_mcfg_alloc e = {
		.base = PCI_ECAM_BASE, .segment = 0,
		.start_bus = ACPI_PCI_BUS_FIRST, .end_bus = ACPI_PCI_BUS_LAST,
	};

	if (!m)
		return -E2BIG;
	put_header(&m->h, "MCFG", ACPI_MCFG_SIZE, ACPI_MCFG_REVISION);
	memcpy(m + 1, &e, sizeof(e));
	seal(&m->h);
	return 0;
}

/* The watchdog's action table (acpi_wdat.c, devices/watchdog.c). */
static int write_wdat(struct acpi_area *ar, uint64_t *gpa)
{
	struct acpi_wdat *t = area_alloc(ar, ACPI_WDAT_SIZE, gpa);

	if (!t)
		return -E2BIG;
	put_header(&t->h, "WDAT", ACPI_WDAT_SIZE, ACPI_WDAT_REVISION);
	acpi_wdat_fill(t);
	seal(&t->h);
	return 0;
}

static void write_xsdt(struct acpi_header *h, const uint64_t *tables, unsigned n)
{
	size_t size = sizeof(*h) + n * sizeof(uint64_t);

	put_header(h, "XSDT", size, ACPI_XSDT_REVISION);
	memcpy(h + 1, tables, n * sizeof(uint64_t));	/* little-endian, unaligned */
	seal(h);
}

static void write_rsdp(struct acpi_rsdp *r, uint64_t xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = ACPI_RSDP_REVISION;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = acpi_checksum(r, 20);
	r->ext_checksum = acpi_checksum(r, sizeof(*r));
}

static int write_tables(struct acpi_area *ar, unsigned ncpus, uint64_t ram_size, unsigned nmmio)
{
	uint64_t rsdp_gpa, xsdt_gpa, dsdt, tables[ACPI_XSDT_MAX_ENTRIES];
	struct acpi_header *xsdt;
	struct acpi_rsdp *rsdp;
	unsigned n = 0;
	int ret;

	rsdp = area_alloc(ar, sizeof(*rsdp), &rsdp_gpa);
	xsdt = area_alloc(ar, sizeof(*xsdt) + ACPI_XSDT_MAX_ENTRIES * sizeof(uint64_t),
			  &xsdt_gpa);
	if (!rsdp || !xsdt || rsdp_gpa != LAYOUT_ACPI_RSDP)
		return -E2BIG;
	ret = write_dsdt(ar, ncpus, ram_size, nmmio, &dsdt);
	if (!ret)
		ret = write_fadt(ar, dsdt, &tables[n++]);
	if (!ret)
		ret = write_madt(ar, ncpus, &tables[n++]);
	if (!ret)
		ret = write_mcfg(ar, &tables[n++]);
	if (!ret)
		ret = write_wdat(ar, &tables[n++]);
	if (ret)
		return ret;
	write_xsdt(xsdt, tables, n);
	write_rsdp(rsdp, xsdt_gpa);
	return 0;
}

/* mov al, ACPI_RESET_VALUE; mov dx, PORT_ACPI_RESET; out dx, al; cli; 1: hlt; jmp 1b */
static int write_reset_stub(struct guest_mem *mem)
{
	static const uint8_t stub[] = {
		0xb0, ACPI_RESET_VALUE,
		0xba, PORT_ACPI_RESET & 0xff, PORT_ACPI_RESET >> 8,
		0xee, 0xfa, 0xf4, 0xeb, 0xfd,
	};
	uint8_t *p = gpa_to_hva(mem, LAYOUT_RESET_VECTOR, LAYOUT_BIOS_END - LAYOUT_RESET_VECTOR);

	if (!p)
		return -ENOMEM;
	memset(p, 0, LAYOUT_BIOS_END - LAYOUT_RESET_VECTOR);
	memcpy(p, stub, sizeof(stub));
	return 0;
}

int acpi_write_tables(struct guest_mem *mem, unsigned ncpus, unsigned nmmio)
{
	struct acpi_area ar = { .base = gpa_to_hva(mem, LAYOUT_ACPI_START, ACPI_AREA_SIZE) };
	int ret;

	if (ncpus == 0 || ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (!ar.base)
		return -ENOMEM;
	memset(ar.base, 0, ACPI_AREA_SIZE);
	ret = write_tables(&ar, ncpus, mem->size, nmmio);
	if (!ret)
		ret = write_reset_stub(mem);
	if (ret)
		memset(ar.base, 0, ACPI_AREA_SIZE);	/* no half-written RSDP */
	return ret;
}
