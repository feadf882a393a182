// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "pci_test_helpers.h"

#define TEST_VENDOR	0x1af4
#define TEST_DEVICE	0x1042
#define TEST_CLASS	0x018000	/* mass storage, other */
#define VNDR_CAP_LEN	8

/* A device with a 4 KiB 32-bit BAR0, a 16 KiB 64-bit prefetchable BAR2/3 and a 32-port BAR4. */
struct test_dev {
	struct pci_device pci;
	int reads, writes;
	unsigned last_bar;
	uint64_t last_offset;
	uint32_t last_len;
	uint64_t last_value;
	int maps, unmaps;
	uint64_t last_map_addr;
	int cfg_writes;
	uint32_t last_cfg_off;
	int vndr_cap;
};

static void td_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			uint32_t len)
{
	struct test_dev *t = dev->priv;

	t->reads++;
	t->last_bar = bar;
	t->last_offset = offset;
	t->last_len = len;
	memset(data, 0xa0 + (int)bar, len);
}

static void td_bar_write(struct pci_device *dev, unsigned bar, uint64_t offset,
			 const uint8_t *data, uint32_t len)
{
	struct test_dev *t = dev->priv;

	t->writes++;
	t->last_bar = bar;
	t->last_offset = offset;
	t->last_len = len;
	t->last_value = 0;
	memcpy(&t->last_value, data, len);
}

static void td_bar_mapped(struct pci_device *dev, unsigned bar, uint64_t addr, bool mapped)
{
	struct test_dev *t = dev->priv;

	(void)bar;
	if (mapped) {
		t->maps++;
		t->last_map_addr = addr;
	} else {
		t->unmaps++;
	}
}

/* The vendor capability's byte 4 reads as a counter of reads (a live register). */
static void td_cfg_read(struct pci_device *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct test_dev *t = dev->priv;
	uint32_t live = (uint32_t)t->vndr_cap + 4;

	if (offset <= live && live < offset + len)
		data[live - offset] = 0x5a;
}

static void td_cfg_write(struct pci_device *dev, uint32_t offset, const uint8_t *data,
			 uint32_t len)
{
	struct test_dev *t = dev->priv;

	(void)data;
	(void)len;
	t->cfg_writes++;
	t->last_cfg_off = offset;
}

static const struct pci_device_ops td_ops = {
	.bar_read = td_bar_read,
	.bar_write = td_bar_write,
	.bar_mapped = td_bar_mapped,
	.cfg_read = td_cfg_read,
	.cfg_write = td_cfg_write,
};

static void test_dev_init(struct test_dev *t)
{
	static const struct pci_device_id id = {
		.vendor = TEST_VENDOR, .device = TEST_DEVICE, .class_code = TEST_CLASS,
		.revision = 1, .subsys_vendor = TEST_VENDOR, .subsys_id = 2, .intx_pin = 1,
	};

	memset(t, 0, sizeof(*t));
	pci_device_init(&t->pci, "test", &id, &td_ops, t);
	assert_int_equal(pci_device_add_bar(&t->pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	assert_int_equal(pci_device_add_bar(&t->pci, 2, PCI_BAR_MEM64, 0x4000, true), 0);
	assert_int_equal(pci_device_add_bar(&t->pci, 4, PCI_BAR_IO, 32, false), 0);
	t->vndr_cap = pci_cap_add(&t->pci, PCI_CAP_ID_VNDR, VNDR_CAP_LEN);
	assert_true(t->vndr_cap >= 0x40);
	pci_cfg_set_wmask(&t->pci, (uint32_t)t->vndr_cap + 4, 4, 0x0000ff00);
}

struct fixture {
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct test_dev dev;
	unsigned slot;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pci_bus_params p;

	assert_non_null(f);
	f->pio = iobus_create("pio");
	f->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(-1, &f->rt), 0);
	p = (struct pci_bus_params){
		.pio = f->pio, .mmio = f->mmio, .routing = f->rt, .vm_fd = -1,
		.ram_size = GIB(2),
	};
	assert_int_equal(pci_bus_create(&p, &f->bus), 0);
	test_dev_init(&f->dev);
	assert_int_equal(pci_register_device(f->bus, &f->dev.pci), 0);
	f->slot = (unsigned)f->dev.pci.slot;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_bus_destroy(f->bus);
	pci_device_release(&f->dev.pci);
	irq_routing_destroy(f->rt);
	iobus_destroy(f->pio);
	iobus_destroy(f->mmio);
	free(f);
	return 0;
}

/* ---- enumeration ------------------------------------------------------- */

static void test_enumerate_like_linux(void **state)
{
	struct fixture *f = *state;
	int present = 0;

	assert_int_equal(f->slot, 1);	/* the host bridge has slot 0 */
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		uint32_t id = cf8_read(f->pio, slot, PCI_VENDOR_ID, 4);

		assert_int_equal((uint32_t)ecam_read(f->mmio, slot, PCI_VENDOR_ID, 4), id);
		if (id == 0xffffffff)
			continue;
		present++;
		/* a single-function type 0 header */
		assert_int_equal(cf8_read(f->pio, slot, PCI_HEADER_TYPE, 1), 0);
		/* function 1 does not exist */
		assert_int_equal(ecam_read(f->mmio, 0, 0, 4), cf8_read(f->pio, 0, 0, 4));
		pio_out(f->pio, 0xcf8, cf8_addr(0, slot, 1, 0), 4);
		assert_int_equal(pio_in(f->pio, 0xcfc, 4), 0xffffffff);
		assert_int_equal(mmio_read(f->mmio, ecam_addr(0, slot, 1, 0), 4), 0xffffffff);
	}
	assert_int_equal(present, 2);
	assert_int_equal(cf8_read(f->pio, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_BRIDGE_DEVICE << 16 | PCI_HOST_BRIDGE_VENDOR);
	assert_int_equal(cf8_read(f->pio, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_VENDOR_ID, 4),
			 TEST_DEVICE << 16 | TEST_VENDOR);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_CLASS_REVISION, 4), TEST_CLASS << 8 | 1);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_SUBSYSTEM_VENDOR_ID, 4),
			 2u << 16 | TEST_VENDOR);
	/* other buses are empty */
	pio_out(f->pio, 0xcf8, cf8_addr(1, 0, 0, 0), 4);
	assert_int_equal(pio_in(f->pio, 0xcfc, 4), 0xffffffff);
	assert_int_equal(mmio_read(f->mmio, ecam_addr(1, 1, 0, 0), 4), 0xffffffff);
	assert_int_equal(mmio_read(f->mmio, ecam_addr(255, 31, 7, 0xffc), 4), 0xffffffff);
}

static void test_cf8_register(void **state)
{
	struct fixture *f = *state;

	/* Linux's pci_check_type1(): a byte at 0xcfb, then the dword round trip */
	outb(f->pio, 0xcfb, 0x01);
	pio_out(f->pio, 0xcf8, 0x80000000, 4);
	assert_int_equal(pio_in(f->pio, 0xcf8, 4), 0x80000000);
	/* reserved bits 30:28 and 1:0 read 0; byte/word writes do not change it */
	pio_out(f->pio, 0xcf8, 0xffffffff, 4);
	assert_int_equal(pio_in(f->pio, 0xcf8, 4), 0x8ffffffc);
	pio_out(f->pio, 0xcf8, 0x1234, 2);
	outb(f->pio, 0xcf9, 0x06);
	assert_int_equal(pio_in(f->pio, 0xcf8, 4), 0x8ffffffc);
	assert_int_equal(pio_in(f->pio, 0xcfa, 2), 0x8fff);
	/* AMD extended register bits 27:24: register 0x100 of a conventional device */
	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, 0) | 1u << 24, 4);
	assert_int_equal(pio_in(f->pio, 0xcfc, 4), 0xffffffff);
	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, 0), 4);
	assert_int_equal(pio_in(f->pio, 0xcfc, 2), TEST_VENDOR);
}

static void test_cf8_disable_bit(void **state)
{
	struct fixture *f = *state;

	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, 0) & ~0x80000000u, 4);
	assert_int_equal(pio_in(f->pio, 0xcfc, 4), 0xffffffff);
	assert_int_equal(pio_in(f->pio, 0xcfe, 2), 0xffff);
	/* a write with the enable bit clear goes nowhere */
	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, PCI_COMMAND) & ~0x80000000u, 4);
	pio_out(f->pio, 0xcfc, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_COMMAND, 2), 0);
}

static void test_cf8_sub_dword(void **state)
{
	struct fixture *f = *state;

	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, 0), 4);
	assert_int_equal(pio_in(f->pio, 0xcfc, 1), TEST_VENDOR & 0xff);
	assert_int_equal(pio_in(f->pio, 0xcfd, 1), TEST_VENDOR >> 8);
	assert_int_equal(pio_in(f->pio, 0xcfe, 2), TEST_DEVICE);
	assert_int_equal(pio_in(f->pio, 0xcfd, 2), (TEST_DEVICE & 0xff) << 8 | TEST_VENDOR >> 8);
	assert_int_equal(pio_in(f->pio, 0xcff, 1), TEST_DEVICE >> 8);
	/* an access running past 0xcff is not config space */
	assert_int_equal(pio_in(f->pio, 0xcfe, 4), 0xffffffff);
	/* header type byte: register 0x0c, lane 2 */
	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, PCI_CACHE_LINE_SIZE), 4);
	assert_int_equal(pio_in(f->pio, 0xcfe, 1), 0);
	/* byte writes land in their lane only */
	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, PCI_INTERRUPT_LINE), 4);
	outb(f->pio, 0xcfc, 0x0b);
	assert_int_equal(pio_in(f->pio, 0xcfc, 4) & 0xffff, 0x0100 | 0x0b);
	outb(f->pio, 0xcfd, 0x04);	/* interrupt pin is read-only */
	assert_int_equal(pio_in(f->pio, 0xcfd, 1), 1);
	/* a word write at 0xcfe: command (reg 4) untouched, status is read-only/W1C */
	pio_out(f->pio, 0xcf8, cf8_addr(0, f->slot, 0, PCI_COMMAND), 4);
	pio_out(f->pio, 0xcfe, 0xffff, 2);
	assert_int_equal(pio_in(f->pio, 0xcfc, 2), 0);
	assert_int_equal(pio_in(f->pio, 0xcfe, 2), PCI_STATUS_CAP_LIST);
}

static void test_ecam_access_rules(void **state)
{
	struct fixture *f = *state;
	unsigned s = f->slot;

	assert_int_equal(ecam_read(f->mmio, s, 0, 2), TEST_VENDOR);
	assert_int_equal(ecam_read(f->mmio, s, 1, 1), TEST_VENDOR >> 8);
	assert_int_equal(ecam_read(f->mmio, s, 1, 2), (TEST_DEVICE & 0xff) << 8 | TEST_VENDOR >> 8);
	/* aligned qword: two dwords */
	assert_int_equal(ecam_read(f->mmio, s, 0, 8),
			 (uint64_t)PCI_STATUS_CAP_LIST << 48 | (uint64_t)TEST_DEVICE << 16 |
			 TEST_VENDOR);
	/* across a dword, or an unaligned qword: nothing */
	assert_int_equal(ecam_read(f->mmio, s, 2, 4), 0xffffffff);
	assert_int_equal(ecam_read(f->mmio, s, 3, 2), 0xffff);
	assert_int_equal(ecam_read(f->mmio, s, 4, 8), UINT64_MAX);
	ecam_write(f->mmio, s, PCI_COMMAND + 2, 0xffffffff, 4);	/* crosses into 0x08 */
	assert_int_equal(ecam_read(f->mmio, s, PCI_COMMAND, 2), 0);
	/* a conventional device has no extended space */
	assert_int_equal(ecam_read(f->mmio, s, 0x100, 4), 0xffffffff);
	assert_int_equal(ecam_read(f->mmio, s, 0xffc, 4), 0xffffffff);
	/* the last qword of a function stays inside it */
	assert_int_equal(ecam_read(f->mmio, s, 0xff8, 8), UINT64_MAX);
	/* an aligned qword write: the read-only dword stays, cache line size takes 0x78 */
	ecam_write(f->mmio, s, PCI_CLASS_REVISION, 0x12345678ffffffffULL, 8);
	assert_int_equal(ecam_read(f->mmio, s, PCI_CLASS_REVISION, 4), TEST_CLASS << 8 | 1);
	assert_int_equal(ecam_read(f->mmio, s, PCI_CACHE_LINE_SIZE, 1), 0x78);
	/* a qword write at a dword offset is dropped */
	ecam_write(f->mmio, s, PCI_CACHE_LINE_SIZE, 0x11, 8);
	assert_int_equal(ecam_read(f->mmio, s, PCI_CACHE_LINE_SIZE, 1), 0x78);
	assert_int_equal(ecam_read(f->mmio, s, PCI_HEADER_TYPE, 1), 0);
}

static void test_read_only_bits(void **state)
{
	struct fixture *f = *state;
	unsigned s = f->slot;
	uint8_t before[64], after[64];

	for (unsigned i = 0; i < 64; i += 4)
		put_le32(before + i, cf8_read(f->pio, s, i, 4));
	for (unsigned i = 0; i < 64; i += 4)
		if (i < PCI_BASE_ADDRESS_0 || i > PCI_BASE_ADDRESS_5)
			cf8_write(f->pio, s, i, 0xffffffff, 4);
	for (unsigned i = 0; i < 64; i += 4)
		put_le32(after + i, cf8_read(f->pio, s, i, 4));
	/* IDs, class, header type, subsystem, capability pointer, pin: unchanged */
	assert_memory_equal(before, after, 4);
	assert_memory_equal(before + 8, after + 8, 4);
	assert_int_equal(after[PCI_HEADER_TYPE], 0);
	assert_memory_equal(before + 0x28, after + 0x28, 8);
	assert_int_equal(after[PCI_CAPABILITY_LIST], before[PCI_CAPABILITY_LIST]);
	assert_int_equal(after[PCI_INTERRUPT_PIN], 1);
	/* writable: command bits, cache line size, interrupt line */
	assert_int_equal(after[PCI_COMMAND] | after[PCI_COMMAND + 1] << 8,
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	/* status: write-1-to-clear bits cannot be set, capability bit stays */
	assert_int_equal(after[PCI_STATUS] | after[PCI_STATUS + 1] << 8, PCI_STATUS_CAP_LIST);
	assert_int_equal(after[PCI_CACHE_LINE_SIZE], 0xff);
	assert_int_equal(after[PCI_INTERRUPT_LINE], 0xff);
	/* no expansion ROM: its BAR sizes to 0 */
	assert_int_equal(cf8_read(f->pio, s, PCI_ROM_ADDRESS, 4), 0);
	/* the host bridge is read-only too */
	cf8_write(f->pio, 0, PCI_VENDOR_ID, 0, 4);
	assert_int_equal(cf8_read(f->pio, 0, PCI_VENDOR_ID, 2), PCI_HOST_BRIDGE_VENDOR);
	/* writes to absent slots are dropped */
	cf8_write(f->pio, 7, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(cf8_read(f->pio, 7, PCI_COMMAND, 2), 0xffff);
}

/* ---- BARs ---------------------------------------------------------------- */

static uint32_t bar_size_probe(struct fixture *f, unsigned reg)
{
	uint32_t orig = cf8_read(f->pio, f->slot, reg, 4), mask;

	cf8_write(f->pio, f->slot, reg, 0xffffffff, 4);
	mask = cf8_read(f->pio, f->slot, reg, 4);
	cf8_write(f->pio, f->slot, reg, orig, 4);
	assert_int_equal(cf8_read(f->pio, f->slot, reg, 4), orig);
	return mask;
}

static void test_bar_initial_addresses(void **state)
{
	struct fixture *f = *state;
	uint64_t base64, size64;

	pci_bus_mmio64_window(f->bus, &base64, &size64);
	assert_int_equal(base64, GIB(64));
	assert_int_equal(size64, PCI_MMIO64_SIZE);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_0, 4), PCI_MMIO32_BASE);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_1, 4), 0);	/* unused */
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_2, 4),
			 (uint32_t)GIB(64) | PCI_BASE_ADDRESS_MEM_TYPE_64 |
			 PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_3, 4), GIB(64) >> 32);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_4, 4),
			 PCI_IOPORT_BASE | PCI_BASE_ADDRESS_SPACE_IO);
	/* decoding is off after reset: nothing on the buses yet */
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_BAR_UNMAPPED);
	assert_false(iobus_read(f->mmio, PCI_MMIO32_BASE, (uint8_t[4]){ 0 }, 4));
	assert_int_equal(f->dev.maps, 0);
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bar_size_probe(f, PCI_BASE_ADDRESS_0), 0xfffff000);
	assert_int_equal(bar_size_probe(f, PCI_BASE_ADDRESS_1), 0);
	/* 64-bit: low dword carries the type bits, high dword all address bits */
	assert_int_equal(bar_size_probe(f, PCI_BASE_ADDRESS_2),
			 0xffffc000 | PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(bar_size_probe(f, PCI_BASE_ADDRESS_3), 0xffffffff);
	assert_int_equal(bar_size_probe(f, PCI_BASE_ADDRESS_4), 0xffffffe0 | PCI_BASE_ADDRESS_SPACE_IO);
	assert_int_equal(bar_size_probe(f, PCI_BASE_ADDRESS_5), 0);
	/* sizing with decode on never maps the BAR at the all-ones address */
	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_BAR_UNMAPPED);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, PCI_MMIO32_BASE, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_MMIO32_BASE);
}

static void test_large_64bit_bar(void **state)
{
	struct fixture *f = *state;
	struct pci_device big;
	static const struct pci_device_id id = { .vendor = 0x10de, .device = 1 };
	uint32_t lo, hi;

	pci_device_init(&big, "big", &id, NULL, NULL);
	assert_int_equal(pci_device_add_bar(&big, 0, PCI_BAR_MEM64, GIB(8), true), 0);
	assert_int_equal(pci_register_device(f->bus, &big), 0);
	/* aligned to its size in the 64-bit window, after the 16 KiB BAR at 64 GiB */
	lo = cf8_read(f->pio, (unsigned)big.slot, PCI_BASE_ADDRESS_0, 4);
	hi = cf8_read(f->pio, (unsigned)big.slot, PCI_BASE_ADDRESS_1, 4);
	assert_int_equal(((uint64_t)hi << 32 | (lo & ~0xfu)), GIB(72));
	cf8_write(f->pio, (unsigned)big.slot, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	cf8_write(f->pio, (unsigned)big.slot, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(cf8_read(f->pio, (unsigned)big.slot, PCI_BASE_ADDRESS_0, 4), 0xc);
	assert_int_equal(cf8_read(f->pio, (unsigned)big.slot, PCI_BASE_ADDRESS_1, 4), 0xfffffffe);
	pci_unregister_device(&big);
	assert_int_equal(cf8_read(f->pio, 2, PCI_VENDOR_ID, 4), 0xffffffff);
}

static void test_decode_and_relocation(void **state)
{
	struct fixture *f = *state;
	uint64_t old = PCI_MMIO32_BASE, new = PCI_MMIO32_BASE + 0x100000;

	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(f->dev.maps, 2);	/* both memory BARs, not the I/O one */
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), old);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 2), GIB(64));
	assert_int_equal(pci_bar_addr(&f->dev.pci, 4), PCI_BAR_UNMAPPED);
	assert_int_equal(mmio_read(f->mmio, old + 0x10, 4), 0xa0a0a0a0);
	assert_int_equal(f->dev.last_bar, 0);
	assert_int_equal(f->dev.last_offset, 0x10);
	mmio_write(f->mmio, GIB(64) + 0x3ff8, 0x1122334455667788ULL, 8);
	assert_int_equal(f->dev.last_bar, 2);
	assert_int_equal(f->dev.last_offset, 0x3ff8);
	assert_int_equal(f->dev.last_value, 0x1122334455667788ULL);
	/* past the BAR's end: not the device */
	assert_false(iobus_read(f->mmio, old + 0x1000, (uint8_t[4]){ 0 }, 4));

	/* the guest moves BAR0 */
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, (uint32_t)new, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), new);
	assert_int_equal(f->dev.last_map_addr, new);
	f->dev.reads = 0;
	assert_false(iobus_read(f->mmio, old + 0x10, (uint8_t[4]){ 0 }, 4));
	assert_int_equal(f->dev.reads, 0);
	assert_int_equal(mmio_read(f->mmio, new + 0x20, 2), 0xa0a0);
	assert_int_equal(f->dev.reads, 1);
	assert_int_equal(f->dev.last_offset, 0x20);

	/* and the 64-bit BAR, one dword at a time */
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_2, 0x40000000, 4);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_3, 0x11, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 2), 0x1140000000ULL);
	assert_int_equal(mmio_read(f->mmio, 0x1140000000ULL + 8, 8), 0xa2a2a2a2a2a2a2a2ULL);
	assert_false(iobus_read(f->mmio, GIB(64), (uint8_t[4]){ 0 }, 4));

	/* memory decode off: both gone */
	cf8_write(f->pio, f->slot, PCI_COMMAND, 0, 2);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_BAR_UNMAPPED);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 2), PCI_BAR_UNMAPPED);
	assert_false(iobus_read(f->mmio, new, (uint8_t[4]){ 0 }, 4));
	assert_int_equal(f->dev.unmaps, 5);	/* BAR0 once, BAR2 per dword, both */
	/* moving a BAR while decode is off maps nothing */
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, (uint32_t)old, 4);
	assert_false(iobus_read(f->mmio, old, (uint8_t[4]){ 0 }, 4));
	assert_int_equal(f->dev.maps, 5);
}

static void test_io_bar(void **state)
{
	struct fixture *f = *state;

	assert_false(iobus_read(f->pio, PCI_IOPORT_BASE, (uint8_t[1]){ 0 }, 1));
	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_IO, 2);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 4), PCI_IOPORT_BASE);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_BAR_UNMAPPED);
	assert_int_equal(pio_in(f->pio, PCI_IOPORT_BASE + 0x1f, 1), 0xa4);
	assert_int_equal(f->dev.last_bar, 4);
	assert_int_equal(f->dev.last_offset, 0x1f);
	/* beyond 64 KiB of ports, or over the config ports: left unmapped */
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_4, 0x10000, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 4), PCI_BAR_UNMAPPED);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_4, 0xce0, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 4), PCI_BAR_UNMAPPED);
	assert_int_equal(cf8_read(f->pio, 0, PCI_VENDOR_ID, 2), PCI_HOST_BRIDGE_VENDOR);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_4, 0xd000, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 4), 0xd000);
}

static void test_bar_over_ecam_left_unmapped(void **state)
{
	struct fixture *f = *state;

	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, (uint32_t)PCI_ECAM_BASE + 0x8000, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_BAR_UNMAPPED);
	/* ECAM keeps working, and the BAR maps again once moved somewhere free */
	assert_int_equal(ecam_read(f->mmio, f->slot, PCI_VENDOR_ID, 2), TEST_VENDOR);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, PCI_MMIO32_BASE + 0x5000, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 0), PCI_MMIO32_BASE + 0x5000);
	/* two BARs of one device on the same address: the second stays off */
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_2, PCI_MMIO32_BASE + 0x4000, 4);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_3, 0, 4);
	assert_int_equal(pci_bar_addr(&f->dev.pci, 2), PCI_BAR_UNMAPPED);
}

/* ---- config hooks, INTx, registration -------------------------------------- */

static void test_cfg_hooks(void **state)
{
	struct fixture *f = *state;
	unsigned cap = (unsigned)f->dev.vndr_cap;

	assert_int_equal(cf8_read(f->pio, f->slot, PCI_CAPABILITY_LIST, 1), cap);
	assert_int_equal(cf8_read(f->pio, f->slot, cap, 1), PCI_CAP_ID_VNDR);
	assert_int_equal(cf8_read(f->pio, f->slot, cap + 1, 1), 0);	/* end of list */
	/* the hook's live byte, and the device-set write mask on byte 5 */
	assert_int_equal(cf8_read(f->pio, f->slot, cap + 4, 4), 0x5a);
	cf8_write(f->pio, f->slot, cap + 4, 0xffffffff, 4);
	assert_int_equal(cf8_read(f->pio, f->slot, cap + 4, 4), 0xff5a);
	assert_int_equal(f->dev.last_cfg_off, cap + 4);
	assert_int_equal(ecam_read(f->mmio, f->slot, cap + 5, 1), 0xff);
	assert_int_equal(ecam_read(f->mmio, f->slot, cap + 4, 1), 0x5a);
	f->dev.cfg_writes = 0;
	ecam_write(f->mmio, f->slot, cap + 6, 0, 2);
	assert_int_equal(f->dev.cfg_writes, 1);
	assert_int_equal(f->dev.last_cfg_off, cap + 6);
}

static void test_extended_config_space(void **state)
{
	struct fixture *f = *state;
	static const struct pci_device_id id = { .vendor = 0x8086, .device = 0x10d3, .pcie_cfg = true };
	struct pci_device d;
	unsigned s;

	pci_device_init(&d, "pcie", &id, NULL, NULL);
	pci_cfg_set(&d, 0x100, 4, 0x00010001);		/* an extended capability header */
	pci_cfg_set_wmask(&d, 0x104, 4, 0xffff0000);
	assert_int_equal(pci_register_device(f->bus, &d), 0);
	s = (unsigned)d.slot;
	assert_int_equal(ecam_read(f->mmio, s, 0x100, 4), 0x00010001);
	assert_int_equal(ecam_read(f->mmio, s, 0xffc, 4), 0);
	ecam_write(f->mmio, s, 0x104, 0xffffffff, 4);
	assert_int_equal(ecam_read(f->mmio, s, 0x104, 4), 0xffff0000);
	assert_int_equal(ecam_read(f->mmio, s, 0x100, 8), 0xffff000000010001ULL);
	/* the same registers through 0xcf8 with AMD's extended register bits */
	pio_out(f->pio, 0xcf8, cf8_addr(0, s, 0, 0x04) | 1u << 24, 4);
	assert_int_equal(pio_in(f->pio, 0xcfe, 2), 0xffff);
	assert_int_equal(pio_in(f->pio, 0xcfc, 2), 0);
	pci_unregister_device(&d);
}

static void test_intx(void **state)
{
	struct fixture *f = *state;
	struct pci_device *d = &f->dev.pci;
	uint32_t gsi = pci_intx_gsi(f->slot, 1);

	assert_int_equal(gsi, 17);
	assert_int_equal(d->intx.gsi, gsi);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_INTERRUPT_LINE, 1), gsi);
	assert_int_equal(pci_intx_set(d, 1), 0);
	assert_int_equal(d->intx.level, 1);
	assert_true(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* INTx Disable drops the line, the status bit stays */
	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(d->intx.level, 0);
	assert_true(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cf8_write(f->pio, f->slot, PCI_COMMAND, 0, 2);
	assert_int_equal(d->intx.level, 1);
	assert_int_equal(pci_intx_set(d, 0), 0);
	assert_int_equal(d->intx.level, 0);
	assert_false(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Interrupt Status is read-only */
	cf8_write(f->pio, f->slot, PCI_STATUS, PCI_STATUS_INTERRUPT, 2);
	assert_false(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* swizzle over GSIs 16-23 */
	assert_int_equal(pci_intx_gsi(0, 1), 16);
	assert_int_equal(pci_intx_gsi(7, 1), 23);
	assert_int_equal(pci_intx_gsi(8, 1), 16);
	assert_int_equal(pci_intx_gsi(7, 2), 16);
	assert_int_equal(pci_intx_gsi(31, 4), 18);
}

static void test_bar_declaration_errors(void **state)
{
	struct pci_device d;
	static const struct pci_device_id id = { .vendor = 1, .device = 1 };

	(void)state;
	pci_device_init(&d, "bad", &id, NULL, NULL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM32, 0x3000, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM32, 0, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM32, 8, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM32, GIB(1), false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_IO, 512, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_IO, 2, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 5, PCI_BAR_MEM64, 0x1000, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 6, PCI_BAR_MEM32, 0x1000, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM64_HIGH, 0x1000, false), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 1, PCI_BAR_MEM32, 0x1000, false), 0);
	assert_int_equal(pci_device_add_bar(&d, 1, PCI_BAR_MEM32, 0x1000, false), -EBUSY);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM64, 0x1000, false), -EBUSY);
	assert_int_equal(pci_device_add_bar(&d, 2, PCI_BAR_MEM64, 0x1000, false), 0);
	assert_int_equal(pci_device_add_bar(&d, 3, PCI_BAR_MEM32, 0x1000, false), -EBUSY);
}

static void test_slots_and_windows(void **state)
{
	struct fixture *f = *state;
	static const struct pci_device_id id = { .vendor = 1, .device = 2 };
	struct pci_device *devs = calloc(PCI_SLOTS, sizeof(*devs));
	struct pci_device huge[2];
	unsigned n = 0;

	assert_non_null(devs);
	pci_device_init(&devs[0], "wants-1", &id, NULL, NULL);
	devs[0].slot = 1;
	assert_int_equal(pci_register_device(f->bus, &devs[0]), -EBUSY);
	devs[0].slot = PCI_SLOTS;
	assert_int_equal(pci_register_device(f->bus, &devs[0]), -EINVAL);
	devs[0].slot = 9;
	assert_int_equal(pci_register_device(f->bus, &devs[0]), 0);
	assert_int_equal(pci_register_device(f->bus, &devs[0]), -EINVAL);	/* twice */
	assert_ptr_equal(pci_bus_device(f->bus, 9), &devs[0]);
	for (n = 1; n < PCI_SLOTS; n++) {
		pci_device_init(&devs[n], "filler", &id, NULL, NULL);
		if (pci_register_device(f->bus, &devs[n]))
			break;
	}
	/* 29 more fit beside the host bridge, the test device and slot 9 */
	assert_int_equal(n, PCI_SLOTS - 2);
	assert_int_equal(pci_register_device(f->bus, &devs[n]), -ENOSPC);
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		assert_int_not_equal(cf8_read(f->pio, s, 0, 4), 0xffffffff);
	for (unsigned i = 0; i < n; i++)
		pci_unregister_device(&devs[i]);

	/* the 32-bit window holds 512 MiB: two 256 MiB BARs do not fit after BAR0 */
	for (int i = 0; i < 2; i++) {
		pci_device_init(&huge[i], "huge", &id, NULL, NULL);
		assert_int_equal(pci_device_add_bar(&huge[i], 0, PCI_BAR_MEM32, MIB(256), false), 0);
	}
	assert_int_equal(pci_register_device(f->bus, &huge[0]), 0);
	assert_int_equal(pci_register_device(f->bus, &huge[1]), -ENOSPC);
	assert_null(huge[1].bus);
	pci_unregister_device(&huge[0]);
	free(devs);
}

static void test_mmio64_base_from_ram(void **state)
{
	(void)state;
	assert_int_equal(pci_mmio64_base(MIB(512)), GIB(64));
	assert_int_equal(pci_mmio64_base(GIB(3)), GIB(64));
	assert_int_equal(pci_mmio64_base(GIB(63)), GIB(64));
	assert_int_equal(pci_mmio64_base(GIB(64)), GIB(65));
	assert_int_equal(pci_mmio64_base(GIB(64) + 1), GIB(66));
	assert_int_equal(pci_mmio64_base(GIB(1024)), GIB(1025));
	/* the windows stay clear of each other and of the LAPIC/IOAPIC */
	assert_true(PCI_MMIO32_BASE + PCI_MMIO32_SIZE <= PCI_ECAM_BASE);
	assert_true(PCI_ECAM_BASE + PCI_ECAM_SIZE <= LAYOUT_IOAPIC_BASE);
	assert_true(PCI_MMIO32_BASE >= LAYOUT_MMIO_HOLE_START);
}

/* ---- hostile guests ---------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_hostile_accesses(void **state)
{
	struct fixture *f = *state;
	static const uint32_t sizes[] = { 1, 2, 3, 4, 5, 8 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	uint8_t buf[8];

	/* every offset and size, read, on a device, the bridge and an empty slot */
	for (unsigned slot = 0; slot < 3; slot++)
		for (unsigned off = 0; off < PCI_CFG_SPACE_EXP_SIZE + 8; off++)
			for (unsigned i = 0; i < 6; i++)
				iobus_read(f->mmio, ecam_addr(0, slot, 0, 0) + off, buf, sizes[i]);
	/* random writes anywhere in config space, through both mechanisms */
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rng_next(&seed);
		unsigned slot = r & 3, off = (r >> 8) & 0xfff;
		uint32_t len = sizes[(r >> 20) % 6];
		uint64_t val = rng_next(&seed);

		if (r & (1ull << 40)) {
			mmio_write(f->mmio, ecam_addr(0, slot, 0, 0) + off, val, len > 8 ? 8 : len);
		} else {
			pio_out(f->pio, 0xcf8, (uint32_t)rng_next(&seed) | 0x80000000u, 4);
			pio_out(f->pio, 0xcfc + (r >> 30) % 4, (uint32_t)val, len > 4 ? 4 : len);
		}
		/* hit whatever BARs are mapped now */
		mmio_write(f->mmio, PCI_MMIO32_BASE + (val & 0x1fff), val, 4);
	}
	/* identity survives */
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_VENDOR_ID, 4), TEST_DEVICE << 16 | TEST_VENDOR);
	assert_int_equal(cf8_read(f->pio, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_BRIDGE_DEVICE << 16 | PCI_HOST_BRIDGE_VENDOR);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_CLASS_REVISION, 4), TEST_CLASS << 8 | 1);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_HEADER_TYPE, 1), 0);
	/* whatever the guest did, a mapped BAR is where its registers say */
	if (pci_bar_addr(&f->dev.pci, 0) != PCI_BAR_UNMAPPED)
		assert_int_equal(pci_bar_addr(&f->dev.pci, 0),
				 cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_0, 4) & ~0xfu);
	/* the raw accessors refuse out-of-range offsets */
	pci_cfg_set(&f->dev.pci, PCI_CFG_SPACE_EXP_SIZE - 2, 4, 0xffffffff);
	assert_int_equal(pci_cfg_get(&f->dev.pci, PCI_CFG_SPACE_EXP_SIZE - 2, 4), 0);
	assert_int_equal(pci_cfg_get(&f->dev.pci, UINT32_MAX, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enumerate_like_linux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cf8_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cf8_disable_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cf8_sub_dword, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecam_access_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_initial_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_64bit_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_and_relocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_over_ecam_left_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cfg_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extended_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test(test_bar_declaration_errors),
		cmocka_unit_test_setup_teardown(test_slots_and_windows, setup, teardown),
		cmocka_unit_test(test_mmio64_base_from_ram),
		cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
