// SPDX-License-Identifier: MIT
/* acpi_write_tables(): the tables parsed back as a guest would, from the RSDP down. */
#include <errno.h>

#include "test_boot_helpers.h"
#include "boot/acpi.h"
#include "boot/mptable.h"

struct tables {
	struct acpi_rsdp *rsdp;
	struct acpi_header *xsdt;
	struct acpi_fadt *fadt;
	struct acpi_madt *madt;
	struct acpi_header *dsdt;
	struct acpi_mcfg *mcfg;
	struct acpi_wdat *wdat;		/* checked in test_watchdog_acpi.c */
	uint64_t gpa[6];		/* XSDT, FADT, MADT, DSDT, MCFG, WDAT */
	uint32_t len[6];
};
#define NTABLES 6

/* Finds the RSDP as Linux does: 16-byte steps through 0xe0000-0xfffff. */
static struct acpi_rsdp *find_rsdp(struct tb *t)
{
	uint8_t *area = tb_gpa(t, 0xe0000, 0x20000);

	for (size_t off = 0; off < 0x20000; off += 16)
		if (memcmp(area + off, "RSD PTR ", 8) == 0 && tb_sum8(area + off, 20) == 0)
			return (struct acpi_rsdp *)(area + off);
	return NULL;
}

/* A table at @gpa inside the ACPI area, with signature, checksum and revision. */
static struct acpi_header *table_at(struct tb *t, uint64_t gpa, const char *sig, uint8_t rev)
{
	struct acpi_header *h;

	assert_true(gpa >= LAYOUT_ACPI_START && gpa + sizeof(*h) <= LAYOUT_BIOS_END);
	assert_int_equal(gpa % 4, 0);
	h = tb_gpa(t, gpa, sizeof(*h));
	assert_memory_equal(h->signature, sig, 4);
	assert_true(h->length >= sizeof(*h));
	assert_true(gpa + h->length <= LAYOUT_BIOS_END);
	assert_int_equal(tb_sum8(h, h->length), 0);
	assert_int_equal(h->revision, rev);
	assert_memory_equal(h->oem_id, "HUSK  ", 6);
	assert_memory_equal(h->oem_table_id, "HUSKVM  ", 8);
	assert_memory_equal(h->creator_id, "HUSK", 4);
	return h;
}

static void assert_no_overlap(const struct tables *p)
{
	for (int i = 0; i < NTABLES; i++)
		for (int j = i + 1; j < NTABLES; j++)
			assert_true(p->gpa[i] + p->len[i] <= p->gpa[j] ||
				    p->gpa[j] + p->len[j] <= p->gpa[i]);
}

static void parse(struct tb *t, struct tables *p)
{
	uint64_t e[4];

	memset(p, 0, sizeof(*p));
	p->rsdp = find_rsdp(t);
	assert_non_null(p->rsdp);
	assert_ptr_equal(p->rsdp, tb_gpa(t, LAYOUT_ACPI_RSDP, 36));
	assert_int_equal(p->rsdp->revision, 2);
	assert_int_equal(p->rsdp->length, 36);
	assert_int_equal(tb_sum8(p->rsdp, 36), 0);		/* extended checksum */
	assert_memory_equal(p->rsdp->oem_id, "HUSK  ", 6);
	assert_int_equal(p->rsdp->rsdt_address, 0);
	p->xsdt = table_at(t, p->rsdp->xsdt_address, "XSDT", 1);
	assert_int_equal(p->xsdt->length, 36 + 4 * 8);	/* FADT, MADT, MCFG, WDAT */
	memcpy(e, p->xsdt + 1, sizeof(e));
	p->fadt = (struct acpi_fadt *)table_at(t, e[0], "FACP", 6);
	p->madt = (struct acpi_madt *)table_at(t, e[1], "APIC", 5);
	p->mcfg = (struct acpi_mcfg *)table_at(t, e[2], "MCFG", 1);
	p->wdat = (struct acpi_wdat *)table_at(t, e[3], "WDAT", 1);
	p->dsdt = table_at(t, p->fadt->x_dsdt, "DSDT", 2);
	p->gpa[0] = p->rsdp->xsdt_address;
	p->gpa[1] = e[0];
	p->gpa[2] = e[1];
	p->gpa[3] = p->fadt->x_dsdt;
	p->gpa[4] = e[2];
	p->gpa[5] = e[3];
	p->len[0] = p->xsdt->length;
	p->len[1] = p->fadt->h.length;
	p->len[2] = p->madt->h.length;
	p->len[3] = p->dsdt->length;
	p->len[4] = p->mcfg->h.length;
	p->len[5] = p->wdat->h.length;
	assert_true(p->rsdp->xsdt_address >= LAYOUT_ACPI_RSDP + 36);
	assert_no_overlap(p);
}

static void assert_gas_io(const struct acpi_gas *g, uint16_t port)
{
	assert_int_equal(g->space_id, 1);	/* SystemIO */
	assert_int_equal(g->bit_width, 8);
	assert_int_equal(g->bit_offset, 0);
	assert_int_equal(g->access_size, 1);	/* byte */
	assert_int_equal(g->address, port);
}

static void test_fadt(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct tables p;
	struct acpi_fadt *f;

	(void)state;
	assert_int_equal(acpi_write_tables(&t->mem, 2, 0), 0);
	parse(t, &p);
	f = p.fadt;
	assert_int_equal(f->h.length, 276);
	assert_int_equal(f->minor_version, 5);
	assert_true(f->flags & (1u << 20));		/* HW_REDUCED_ACPI */
	assert_true(f->flags & (1u << 10));		/* RESET_REG_SUP */
	assert_true(f->flags & (1u << 4));		/* power button: control method */
	assert_true(f->iapc_boot_arch & (1u << 1));	/* 8042 present */
	assert_false(f->iapc_boot_arch & (1u << 5));	/* CMOS RTC *is* present */
	assert_true(f->iapc_boot_arch & (1u << 2));	/* no VGA */
	assert_false(f->iapc_boot_arch & (1u << 3));	/* MSI works */
	assert_int_equal(f->preferred_pm_profile, 4);
	assert_int_equal(f->sci_int, ACPI_GED_GSI);
	assert_int_equal(f->century, 0x32);
	assert_int_equal(f->dsdt, 0);			/* X_DSDT only */
	assert_int_equal(f->firmware_ctrl, 0);		/* no FACS when hardware-reduced */
	assert_int_equal(f->x_firmware_ctrl, 0);
	assert_int_equal(f->pm1a_evt_blk, 0);
	assert_int_equal(f->x_pm1a_cnt_blk.address, 0);
	assert_int_equal(f->smi_cmd, 0);
	assert_gas_io(&f->sleep_control_reg, PORT_ACPI_SLEEP_CTL);
	assert_gas_io(&f->sleep_status_reg, PORT_ACPI_SLEEP_STS);
	assert_gas_io(&f->reset_reg, PORT_ACPI_RESET);
	assert_int_equal(f->reset_value, ACPI_RESET_VALUE);
	assert_int_equal(PORT_ACPI_SLEEP_CTL, 0x600);
	assert_int_equal(PORT_ACPI_SLEEP_STS, 0x601);
	assert_int_equal(PORT_ACPI_RESET, 0x602);
	tb_free(t);
}

static void check_madt(unsigned ncpus)
{
	struct tb *t = tb_new(MIB(16));
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	const uint8_t *e, *end;
	struct tables p;

	assert_int_equal(acpi_write_tables(&t->mem, ncpus, 0), 0);
	parse(t, &p);
	assert_int_equal(p.madt->lapic_address, 0xfee00000);
	assert_int_equal(p.madt->flags, 1);		/* PCAT_COMPAT */
	e = (const uint8_t *)(p.madt + 1);
	end = (const uint8_t *)p.madt + p.madt->h.length;
	while (e < end) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0: {
			const struct acpi_madt_lapic *l = (const void *)e;

			assert_int_equal(l->length, 8);
			assert_int_equal(l->processor_uid, lapics);
			assert_int_equal(l->apic_id, lapics);
			assert_int_equal(l->flags, 1);	/* enabled */
			lapics++;
			break;
		}
		case 1: {
			const struct acpi_madt_ioapic *io = (const void *)e;

			assert_int_equal(io->length, 12);
			assert_int_equal(io->ioapic_id, ncpus);	/* as in the MP table */
			assert_int_equal(io->address, 0xfec00000);
			assert_int_equal(io->gsi_base, 0);
			ioapics++;
			break;
		}
		case 2: {
			const struct acpi_madt_int_override *o = (const void *)e;

			assert_int_equal(o->length, 10);
			assert_int_equal(o->bus, 0);
			if (isos == 0) {
				assert_int_equal(o->source_irq, 0);	/* the PIT */
				assert_int_equal(o->gsi, 2);
				assert_int_equal(o->flags, 0);
			} else {
				assert_int_equal(o->source_irq, 9);	/* the GED */
				assert_int_equal(o->gsi, 9);
				assert_int_equal(o->flags, 0xd);	/* level, active high */
			}
			isos++;
			break;
		}
		case 4: {
			const struct acpi_madt_lapic_nmi *n = (const void *)e;

			assert_int_equal(n->length, 6);
			assert_int_equal(n->processor_uid, 0xff);
			assert_int_equal(n->lint, 1);
			nmis++;
			break;
		}
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		e += e[1];
	}
	assert_ptr_equal(e, end);
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);
	tb_free(t);
}

static void test_madt(void **state)
{
	(void)state;
	check_madt(1);
	check_madt(2);
	check_madt(4);
	check_madt(254);
}

static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

#define AML_HAS(aml, n, ...) \
	find_bytes(aml, n, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_dsdt(void **state)
{
	struct tb *t = tb_new(MIB(16));
	const uint8_t *aml;
	struct tables p;
	size_t n;

	(void)state;
	assert_int_equal(acpi_write_tables(&t->mem, 2, 0), 0);
	parse(t, &p);
	aml = (const uint8_t *)(p.dsdt + 1);
	n = p.dsdt->length - sizeof(*p.dsdt);
	/* Name (_S5_, Package (4) { 5, 5, ... }) */
	assert_non_null(AML_HAS(aml, n, 0x08, '_', 'S', '5', '_', 0x12));
	assert_non_null(AML_HAS(aml, n, 0x04, 0x0a, ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP));
	/* Scope (\_SB) */
	assert_non_null(AML_HAS(aml, n, '\\', '_', 'S', 'B', '_'));
	/* COM1: _HID EisaId ("PNP0501"), IO 0x3f8/8, IRQ 4 */
	assert_non_null(AML_HAS(aml, n, 'C', 'O', 'M', '1', 0x08, '_', 'H', 'I', 'D',
				0x0c, 0x41, 0xd0, 0x05, 0x01));
	assert_non_null(AML_HAS(aml, n, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
				0x22, 0x10, 0x00));
	/* RTC: PNP0B00 at 0x70; KBD: PNP0303 */
	assert_non_null(AML_HAS(aml, n, 'R', 'T', 'C', '_', 0x08, '_', 'H', 'I', 'D',
				0x0c, 0x41, 0xd0, 0x0b, 0x00));
	assert_non_null(AML_HAS(aml, n, 'K', 'B', 'D', '_', 0x08, '_', 'H', 'I', 'D',
				0x0c, 0x41, 0xd0, 0x03, 0x03));
	/* the power button and the GED */
	assert_non_null(AML_HAS(aml, n, 'P', 'W', 'R', 'B', 0x08, '_', 'H', 'I', 'D',
				0x0c, 0x41, 0xd0, 0x0c, 0x0c));
	assert_non_null(AML_HAS(aml, n, 0x08, '_', 'H', 'I', 'D', 0x0d,
				'A', 'C', 'P', 'I', '0', '0', '1', '3', 0x00));
	/* GED _CRS: Interrupt (Consumer, Level, ActiveHigh, Exclusive) { 9 } */
	assert_non_null(AML_HAS(aml, n, 0x89, 0x06, 0x00, 0x01, 0x01, ACPI_GED_GSI, 0, 0, 0));
	/* OperationRegion (GDRG, SystemIO, PORT_ACPI_GED, 1) */
	assert_non_null(AML_HAS(aml, n, 0x5b, 0x80, 'G', 'D', 'R', 'G', 0x01, 0x0b,
				PORT_ACPI_GED & 0xff, PORT_ACPI_GED >> 8, 0x01));
	/* Method (_EVT, 1, Serialized) ... Notify (\_SB.PWRB, 0x80) */
	assert_non_null(AML_HAS(aml, n, '_', 'E', 'V', 'T', 0x09));
	assert_non_null(AML_HAS(aml, n, 0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B',
				0x0a, 0x80));
	/* the VM generation ID: _HID "VMGENCTR", ADDR Package (2) { 0xf7000, Zero } */
	assert_non_null(AML_HAS(aml, n, 'V', 'G', 'E', 'N', 0x08, '_', 'H', 'I', 'D', 0x0d,
				'V', 'M', 'G', 'E', 'N', 'C', 'T', 'R', 0x00));
	assert_non_null(AML_HAS(aml, n, 0x08, 'A', 'D', 'D', 'R', 0x12, 0x08, 0x02,
				0x0c, 0x00, 0x70, 0x0f, 0x00, 0x00));
	assert_int_equal(LAYOUT_VMGENID, 0xf7000);
	/* ... and the GED's notification of a new one: Notify (\_SB.VGEN, 0x80) */
	assert_non_null(AML_HAS(aml, n, 0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N',
				0x0a, 0x80));
	tb_free(t);
}

/* MCFG: one allocation, segment 0, the ECAM window for buses 0-255. */
static void test_mcfg(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct acpi_mcfg_alloc e;
	struct tables p;

	(void)state;
	assert_int_equal(acpi_write_tables(&t->mem, 2, 0), 0);
	parse(t, &p);
	assert_int_equal(p.mcfg->h.length, 44 + 16);
	assert_int_equal(tb_sum8(p.mcfg, p.mcfg->h.length), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(p.mcfg->reserved[i], 0);
	memcpy(&e, p.mcfg + 1, sizeof(e));
	assert_int_equal(e.base, 0xe0000000);
	assert_int_equal(e.base, PCI_ECAM_BASE);
	assert_int_equal(e.segment, 0);
	assert_int_equal(e.start_bus, 0);
	assert_int_equal(e.end_bus, 255);
	/* 1 MiB of ECAM per bus: the buses listed are exactly the window */
	assert_int_equal((uint64_t)(e.end_bus - e.start_bus + 1) << 20, PCI_ECAM_SIZE);
	assert_int_equal(e.reserved, 0);
	tb_free(t);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A QWordMemory producer window [min, max], as in the PCI root's _CRS. */
static const uint8_t *find_qword_window(const uint8_t *aml, size_t n, uint64_t min, uint64_t max)
{
	uint8_t d[46] = { 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01 };

	put_le(d + 14, min, 8);
	put_le(d + 22, max, 8);
	put_le(d + 38, max - min + 1, 8);
	return find_bytes(aml, n, d, sizeof(d));
}

/* Package (4) { 0xSSSSFFFF, pin, Zero, gsi }, integers as the builder encodes them. */
static const uint8_t *find_prt_entry(const uint8_t *aml, size_t n, unsigned slot, unsigned pin,
				     unsigned gsi)
{
	uint8_t d[16] = { 0x12, 0, 0x04, 0x0c, 0xff, 0xff, (uint8_t)slot, 0x00 };
	size_t len = 8;

	if (pin > 1)
		d[len++] = 0x0a;	/* BytePrefix; 0 and 1 are Zero and One */
	d[len++] = (uint8_t)pin;
	d[len++] = 0x00;		/* Source: Zero (a global GSI) */
	d[len++] = 0x0a;
	d[len++] = (uint8_t)gsi;
	d[1] = (uint8_t)(len - 1);	/* PkgLength: everything after the opcode */
	return find_bytes(aml, n, d, len);
}

static void check_dsdt_pci(uint64_t ram, uint64_t want_mmio64)
{
	struct tb *t = tb_new(MIB(16));
	const uint8_t *aml, *prt;
	uint64_t real_size = t->mem.size;
	struct tables p;
	size_t n;

	t->mem.size = ram;		/* only the tables' view of the RAM size */
	assert_int_equal(acpi_write_tables(&t->mem, 2, 0), 0);
	t->mem.size = real_size;	/* guest_mem_destroy() unmaps this much */
	parse(t, &p);
	aml = (const uint8_t *)(p.dsdt + 1);
	n = p.dsdt->length - sizeof(*p.dsdt);
	/* Device (PCI0) { _HID PNP0A08, _CID PNP0A03, _SEG 0, _BBN 0, _UID 0 } */
	assert_non_null(AML_HAS(aml, n, 'P', 'C', 'I', '0', 0x08, '_', 'H', 'I', 'D',
				0x0c, 0x41, 0xd0, 0x0a, 0x08,
				0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
				0x08, '_', 'S', 'E', 'G', 0x00,
				0x08, '_', 'B', 'B', 'N', 0x00,
				0x08, '_', 'U', 'I', 'D', 0x00));
	/* _CRS: WordBusNumber 0-255, IO 0xcf8/8, WordIO 0xc000-0xffff */
	assert_non_null(AML_HAS(aml, n, 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0,
				0x00, 0x00, 0xff, 0x00, 0, 0, 0x00, 0x01,
				0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
				0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0,
				0x00, 0xc0, 0xff, 0xff, 0, 0, 0x00, 0x40));
	/* DWordMemory 0xc0000000-0xdfffffff */
	assert_non_null(AML_HAS(aml, n, 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
				0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf,
				0, 0, 0, 0, 0x00, 0x00, 0x00, 0x20));
	/* QWordMemory: the 64-bit window, 64 GiB at pci_mmio64_base() */
	assert_int_equal(pci_mmio64_base(ram), want_mmio64);
	assert_non_null(find_qword_window(aml, n, want_mmio64, want_mmio64 + GIB(64) - 1));
	/* Name (_PRT, Package (124) { ... }) */
	prt = AML_HAS(aml, n, 0x08, '_', 'P', 'R', 'T', 0x12);
	assert_non_null(prt);
	/* every slot 1-31, pin INTA-INTD: Package (4) { 0xSSSSFFFF, pin, Zero, GSI } */
	for (unsigned slot = 1; slot < 32; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			assert_non_null(find_prt_entry(prt, n - (size_t)(prt - aml), slot, pin,
						       16 + (slot + pin) % 8));
	/* MBRD: PNP0C02 reserving the ECAM window (Memory32Fixed, read/write) */
	assert_non_null(AML_HAS(aml, n, 'M', 'B', 'R', 'D', 0x08, '_', 'H', 'I', 'D',
				0x0c, 0x41, 0xd0, 0x0c, 0x02));
	assert_non_null(AML_HAS(aml, n, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0,
				0x00, 0x00, 0x00, 0x10, 0x79, 0x00));
	tb_free(t);
}

static void test_dsdt_pci(void **state)
{
	(void)state;
	check_dsdt_pci(MIB(256), GIB(64));
	check_dsdt_pci(GIB(4), GIB(64));
	/* 100 GiB: 3 GiB below 4 GiB, the rest from 4 GiB to 101 GiB */
	check_dsdt_pci(GIB(100), GIB(101));
}

/* The largest MP table and the ACPI tables share the BIOS area without overlapping. */
static void test_fits_with_mptable(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct mp_floating_pointer *f;
	struct mp_config_header *h;
	struct tables p;

	(void)state;
	assert_int_equal(mptable_write(&t->mem, 254), 0);
	assert_int_equal(acpi_write_tables(&t->mem, 254, 0), 0);
	parse(t, &p);
	f = tb_gpa(t, LAYOUT_BIOS_START, sizeof(*f));
	assert_memory_equal(f->signature, "_MP_", 4);
	assert_int_equal(tb_sum8(f, sizeof(*f)), 0);
	h = tb_gpa(t, f->config_table, sizeof(*h));
	assert_int_equal(tb_sum8(h, h->base_length), 0);
	assert_true(f->config_table + h->base_length <= LAYOUT_ACPI_START);
	tb_free(t);
}

static void test_bad_cpu_counts(void **state)
{
	struct tb *t = tb_new(MIB(16));

	(void)state;
	assert_int_equal(acpi_write_tables(&t->mem, 0, 0), -EINVAL);
	assert_int_equal(acpi_write_tables(&t->mem, 255, 0), -EINVAL);
	assert_null(find_rsdp(t));
	tb_free(t);
}

/* A rewrite for fewer CPUs leaves no stale bytes behind (the area is cleared). */
static void test_rewrite(void **state)
{
	struct tb *t = tb_new(MIB(16));
	uint64_t end = 0;
	const uint8_t *rest;
	struct tables p;

	(void)state;
	assert_int_equal(acpi_write_tables(&t->mem, 254, 0), 0);
	assert_int_equal(acpi_write_tables(&t->mem, 1, 0), 0);
	parse(t, &p);
	assert_int_equal(p.madt->h.length, ACPI_MADT_SIZE(1));
	for (int i = 0; i < NTABLES; i++)
		if (p.gpa[i] + p.len[i] > end)
			end = p.gpa[i] + p.len[i];
	rest = tb_gpa(t, end, LAYOUT_RESET_VECTOR - end);
	for (uint64_t i = 0; i < LAYOUT_RESET_VECTOR - end; i++)
		assert_int_equal(rest[i], 0);
	tb_free(t);
}

/*
 * The BIOS reset vector resets through the ACPI reset register (Linux on a
 * hardware-reduced platform without EFI reboots by jumping there).
 */
static void test_reset_vector_stub(void **state)
{
	static const uint8_t want[16] = {
		0xb0, ACPI_RESET_VALUE,				/* mov al, 1 */
		0xba, PORT_ACPI_RESET & 0xff, PORT_ACPI_RESET >> 8,	/* mov dx, 0x602 */
		0xee,						/* out dx, al */
		0xfa, 0xf4, 0xeb, 0xfd,				/* cli; 1: hlt; jmp 1b */
	};
	struct tb *t = tb_new(MIB(16));

	(void)state;
	assert_int_equal(LAYOUT_RESET_VECTOR, 0xffff0);
	assert_int_equal(acpi_write_tables(&t->mem, 1, 0), 0);
	assert_memory_equal(tb_gpa(t, LAYOUT_RESET_VECTOR, 16), want, 16);
	tb_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_mcfg),
		cmocka_unit_test(test_dsdt_pci),
		cmocka_unit_test(test_fits_with_mptable),
		cmocka_unit_test(test_bad_cpu_counts),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_reset_vector_stub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
