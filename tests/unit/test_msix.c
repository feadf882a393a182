// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "pci_test_helpers.h"

#define NVEC		70		/* two PBA qwords */
#define TABLE_OFF	0x0
#define PBA_OFF		0x2000
#define DEV_REGS	0x3000		/* the device's own registers in BAR0 */
#define BAR0_SIZE	0x4000
#define MSI_ADDR	0xfee00000u

struct fixture {
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct pci_device dev;
	int dev_reads, dev_writes;
	unsigned slot;
	int cap;
	uint64_t bar0;
};

static void dev_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	struct fixture *f = dev->priv;

	(void)bar;
	(void)offset;
	f->dev_reads++;
	memset(data, 0x77, len);
}

static void dev_bar_write(struct pci_device *dev, unsigned bar, uint64_t offset,
			  const uint8_t *data, uint32_t len)
{
	struct fixture *f = dev->priv;

	(void)bar;
	(void)offset;
	(void)data;
	(void)len;
	f->dev_writes++;
}

static const struct pci_device_ops dev_ops = {
	.bar_read = dev_bar_read,
	.bar_write = dev_bar_write,
};

static int setup(void **state)
{
	static const struct pci_device_id id = {
		.vendor = 0x1af4, .device = 0x1041, .class_code = 0x020000, .intx_pin = 1,
	};
	struct fixture *f = calloc(1, sizeof(*f));
	struct pci_bus_params p;

	assert_non_null(f);
	f->pio = iobus_create("pio");
	f->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(-1, &f->rt), 0);
	p = (struct pci_bus_params){
		.pio = f->pio, .mmio = f->mmio, .routing = f->rt, .vm_fd = -1, .ram_size = GIB(1),
	};
	assert_int_equal(pci_bus_create(&p, &f->bus), 0);
	pci_device_init(&f->dev, "msix-test", &id, &dev_ops, f);
	assert_int_equal(pci_device_add_bar(&f->dev, 0, PCI_BAR_MEM32, BAR0_SIZE, false), 0);
	assert_true(pci_cap_add(&f->dev, PCI_CAP_ID_VNDR, 16) >= 0x40);
	f->cap = msix_init(&f->dev, NVEC, 0, TABLE_OFF, 0, PBA_OFF);
	assert_true(f->cap > 0x40);
	assert_int_equal(pci_register_device(f->bus, &f->dev), 0);
	f->slot = (unsigned)f->dev.slot;
	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	f->bar0 = pci_bar_addr(&f->dev, 0);
	assert_int_equal(f->bar0, PCI_MMIO32_BASE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_bus_destroy(f->bus);
	pci_device_release(&f->dev);
	irq_routing_destroy(f->rt);
	iobus_destroy(f->pio);
	iobus_destroy(f->mmio);
	free(f);
	return 0;
}

static uint64_t entry_addr(struct fixture *f, unsigned v, unsigned reg)
{
	return f->bar0 + TABLE_OFF + v * PCI_MSIX_ENTRY_SIZE + reg;
}

static void entry_write(struct fixture *f, unsigned v, unsigned reg, uint32_t val)
{
	mmio_write(f->mmio, entry_addr(f, v, reg), val, 4);
}

static uint32_t entry_read(struct fixture *f, unsigned v, unsigned reg)
{
	return (uint32_t)mmio_read(f->mmio, entry_addr(f, v, reg), 4);
}

static void msg_ctrl_write(struct fixture *f, uint16_t v)
{
	cf8_write(f->pio, f->slot, (unsigned)f->cap + PCI_MSIX_FLAGS, v, 2);
}

static uint64_t pba_read(struct fixture *f, unsigned qword)
{
	return mmio_read(f->mmio, f->bar0 + PBA_OFF + 8 * qword, 8);
}

/* The eventfd's count (and reset it). */
static uint64_t fired(struct fixture *f, unsigned v)
{
	uint64_t n = 0;

	if (read(msix_vector_eventfd(&f->dev, (uint16_t)v), &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* The committed route for @gsi; false if it has none. */
static bool route_of(struct fixture *f, int gsi, struct kvm_irq_routing_entry *out)
{
	static struct kvm_irq_routing_entry t[IRQ_ROUTING_MAX_ENTRIES];
	unsigned n = irq_routing_committed(f->rt, t, IRQ_ROUTING_MAX_ENTRIES);

	for (unsigned i = 0; i < n; i++) {
		if (t[i].gsi == (uint32_t)gsi) {
			*out = t[i];
			return true;
		}
	}
	return false;
}

static void program(struct fixture *f, unsigned v, uint32_t data)
{
	entry_write(f, v, PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR);
	entry_write(f, v, PCI_MSIX_ENTRY_UPPER_ADDR, 0);
	entry_write(f, v, PCI_MSIX_ENTRY_DATA, data);
}

/* ---- the capability ------------------------------------------------------- */

static void test_capability_walk(void **state)
{
	struct fixture *f = *state;
	unsigned pos, found = 0, hops = 0;
	uint32_t table, pba;

	assert_true(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	pos = cf8_read(f->pio, f->slot, PCI_CAPABILITY_LIST, 1);
	while (pos && hops++ < 48) {
		assert_true(pos >= 0x40 && pos < 0x100 && !(pos & 3));
		if (cf8_read(f->pio, f->slot, pos + PCI_CAP_LIST_ID, 1) == PCI_CAP_ID_MSIX)
			found = pos;
		pos = cf8_read(f->pio, f->slot, pos + PCI_CAP_LIST_NEXT, 1);
	}
	assert_int_equal(hops, 2);	/* vendor capability, then MSI-X */
	assert_int_equal(found, (unsigned)f->cap);
	assert_int_equal(cf8_read(f->pio, f->slot, found + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE,
			 NVEC - 1);
	table = cf8_read(f->pio, f->slot, found + PCI_MSIX_TABLE, 4);
	pba = cf8_read(f->pio, f->slot, found + PCI_MSIX_PBA, 4);
	assert_int_equal(table & PCI_MSIX_TABLE_BIR, 0);
	assert_int_equal(table & PCI_MSIX_TABLE_OFFSET, TABLE_OFF);
	assert_int_equal(pba & PCI_MSIX_PBA_BIR, 0);
	assert_int_equal(pba & PCI_MSIX_PBA_OFFSET, PBA_OFF);
	/* everything but enable and function mask is read-only */
	cf8_write(f->pio, f->slot, found, 0xffffffff, 4);
	cf8_write(f->pio, f->slot, found + 4, 0, 4);
	cf8_write(f->pio, f->slot, found + 8, 0x12345678, 4);
	assert_int_equal(cf8_read(f->pio, f->slot, found, 4),
			 (uint32_t)(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (NVEC - 1)) << 16 |
			 (uint32_t)cf8_read(f->pio, f->slot, found + 1, 1) << 8 | PCI_CAP_ID_MSIX);
	assert_int_equal(cf8_read(f->pio, f->slot, found + 4, 4), table);
	assert_int_equal(cf8_read(f->pio, f->slot, found + 8, 4), pba);
	assert_true(msix_enabled(&f->dev));
}

static void test_init_errors(void **state)
{
	static const struct pci_device_id id = { .vendor = 1, .device = 1 };
	struct pci_device d;

	(void)state;
	pci_device_init(&d, "bad", &id, NULL, NULL);
	assert_int_equal(pci_device_add_bar(&d, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	assert_int_equal(pci_device_add_bar(&d, 1, PCI_BAR_IO, 0x100, false), 0);
	assert_int_equal(msix_init(&d, 0, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(msix_init(&d, MSIX_MAX_VECTORS + 1, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(msix_init(&d, 8, 1, 0, 0, 0x800), -EINVAL);	/* I/O BAR */
	assert_int_equal(msix_init(&d, 8, 2, 0, 0, 0x800), -EINVAL);	/* no BAR */
	assert_int_equal(msix_init(&d, 8, 0, 4, 0, 0x800), -EINVAL);	/* unaligned */
	assert_int_equal(msix_init(&d, 8, 0, 0, 0, 0x40), -EINVAL);	/* overlap */
	assert_int_equal(msix_init(&d, 256, 0, 0, 0, 0x800), -EINVAL);	/* table too big */
	assert_int_equal(msix_init(&d, 8, 0, 0, 0, 0xffc), -EINVAL);	/* PBA past the end */
	assert_true(msix_init(&d, 8, 0, 0, 0, 0x800) > 0);
	assert_int_equal(msix_init(&d, 8, 0, 0, 0, 0x800), -EBUSY);
	assert_int_equal(msix_vector_gsi(&d, 0), -1);			/* not registered */
	assert_true(msix_vector_eventfd(&d, 7) >= 0);
	assert_int_equal(msix_vector_eventfd(&d, 8), -1);
	pci_device_release(&d);
}

/* ---- the table and PBA -------------------------------------------------- */

static void test_table_reset_and_rw(void **state)
{
	struct fixture *f = *state;

	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(entry_read(f, v, PCI_MSIX_ENTRY_LOWER_ADDR), 0);
		assert_int_equal(entry_read(f, v, PCI_MSIX_ENTRY_DATA), 0);
		assert_int_equal(entry_read(f, v, PCI_MSIX_ENTRY_VECTOR_CTRL),
				 PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	entry_write(f, 3, PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee0100f);	/* bits 1:0 read 0 */
	entry_write(f, 3, PCI_MSIX_ENTRY_UPPER_ADDR, 0x1);
	entry_write(f, 3, PCI_MSIX_ENTRY_DATA, 0x4023);
	entry_write(f, 3, PCI_MSIX_ENTRY_VECTOR_CTRL, 0xfffffffe);	/* reserved bits read 0 */
	assert_int_equal(entry_read(f, 3, PCI_MSIX_ENTRY_LOWER_ADDR), 0xfee0100c);
	assert_int_equal(entry_read(f, 3, PCI_MSIX_ENTRY_UPPER_ADDR), 1);
	assert_int_equal(entry_read(f, 3, PCI_MSIX_ENTRY_DATA), 0x4023);
	assert_int_equal(entry_read(f, 3, PCI_MSIX_ENTRY_VECTOR_CTRL), 0);
	assert_false(msix_vector_masked(&f->dev, 3));
	/* qword accesses: address as one, data + control as one */
	mmio_write(f->mmio, entry_addr(f, NVEC - 1, 0), 0x00000002fee02000ULL, 8);
	mmio_write(f->mmio, entry_addr(f, NVEC - 1, 8), 0x0000000100000055ULL, 8);
	assert_int_equal(mmio_read(f->mmio, entry_addr(f, NVEC - 1, 0), 8), 0x00000002fee02000ULL);
	assert_int_equal(mmio_read(f->mmio, entry_addr(f, NVEC - 1, 8), 8), 0x0000000100000055ULL);
	assert_true(msix_vector_masked(&f->dev, NVEC - 1));
	/* neighbours untouched */
	assert_int_equal(entry_read(f, 2, PCI_MSIX_ENTRY_DATA), 0);
	assert_int_equal(entry_read(f, 4, PCI_MSIX_ENTRY_DATA), 0);
	/* the rest of the BAR is the device's */
	assert_int_equal(f->dev_reads, 0);
	assert_int_equal(mmio_read(f->mmio, f->bar0 + DEV_REGS, 4), 0x77777777);
	mmio_write(f->mmio, f->bar0 + DEV_REGS, 1, 4);
	assert_int_equal(f->dev_reads, 1);
	assert_int_equal(f->dev_writes, 1);
}

static void test_table_bad_accesses(void **state)
{
	struct fixture *f = *state;

	entry_write(f, 1, PCI_MSIX_ENTRY_DATA, 0x11223344);
	/* byte, word, unaligned dword, unaligned qword: ignored, read all-ones */
	mmio_write(f->mmio, entry_addr(f, 1, PCI_MSIX_ENTRY_DATA), 0xaa, 1);
	mmio_write(f->mmio, entry_addr(f, 1, PCI_MSIX_ENTRY_DATA), 0xaaaa, 2);
	mmio_write(f->mmio, entry_addr(f, 1, PCI_MSIX_ENTRY_DATA + 2), 0xaaaaaaaa, 4);
	mmio_write(f->mmio, entry_addr(f, 1, 4), 0, 8);
	mmio_write(f->mmio, entry_addr(f, 1, PCI_MSIX_ENTRY_VECTOR_CTRL), 0, 1);
	assert_int_equal(entry_read(f, 1, PCI_MSIX_ENTRY_DATA), 0x11223344);
	assert_true(msix_vector_masked(&f->dev, 1));
	assert_int_equal(mmio_read(f->mmio, entry_addr(f, 1, PCI_MSIX_ENTRY_DATA), 1), 0xff);
	assert_int_equal(mmio_read(f->mmio, entry_addr(f, 1, PCI_MSIX_ENTRY_DATA), 2), 0xffff);
	assert_int_equal(mmio_read(f->mmio, entry_addr(f, 1, 2), 4), 0xffffffff);
	/* past the last vector, inside the BAR: the device's, not the table's */
	assert_int_equal(mmio_read(f->mmio, entry_addr(f, NVEC, 0), 4), 0x77777777);
	/* an access straddling the table's end touches no vector */
	mmio_write(f->mmio, entry_addr(f, NVEC - 1, 12), 0, 8);
	assert_true(msix_vector_masked(&f->dev, NVEC - 1));
	/* the PBA is read-only, and reads 4 or 8 bytes aligned */
	assert_int_equal(msix_notify(&f->dev, 0), -ENOTCONN);
	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(msix_notify(&f->dev, 0), 1);
	mmio_write(f->mmio, f->bar0 + PBA_OFF, 0, 8);
	mmio_write(f->mmio, f->bar0 + PBA_OFF, 0, 4);
	assert_int_equal(pba_read(f, 0), 1);
	assert_int_equal(mmio_read(f->mmio, f->bar0 + PBA_OFF, 4), 1);
	assert_int_equal(mmio_read(f->mmio, f->bar0 + PBA_OFF, 2), 0xffff);
	assert_int_equal(mmio_read(f->mmio, f->bar0 + PBA_OFF + 4, 8), UINT64_MAX);
	/* vector indexes out of range */
	assert_int_equal(msix_notify(&f->dev, NVEC), -EINVAL);
	assert_int_equal(msix_notify(&f->dev, UINT16_MAX), -EINVAL);
	assert_false(msix_vector_pending(&f->dev, NVEC));
}

/* ---- delivery --------------------------------------------------------------- */

static void test_gsis_and_irqfds(void **state)
{
	struct fixture *f = *state;

	for (unsigned v = 0; v < NVEC; v++) {
		int gsi = msix_vector_gsi(&f->dev, (uint16_t)v);

		assert_int_equal(gsi, IRQ_ROUTING_FIRST_DYNAMIC_GSI + (int)v);
		assert_int_equal(irq_routing_irqfd(f->rt, (uint32_t)gsi),
				 msix_vector_eventfd(&f->dev, (uint16_t)v));
	}
	/* unregistering gives the GSIs back */
	pci_unregister_device(&f->dev);
	assert_int_equal(msix_vector_gsi(&f->dev, 0), -1);
	assert_int_equal(irq_routing_irqfd(f->rt, IRQ_ROUTING_FIRST_DYNAMIC_GSI), -1);
	assert_int_equal(irq_routing_alloc_gsi(f->rt), IRQ_ROUTING_FIRST_DYNAMIC_GSI);
	assert_false(iobus_read(f->mmio, f->bar0, (uint8_t[4]){ 0 }, 4));
}

static void test_masked_vector_pends_then_fires(void **state)
{
	struct fixture *f = *state;
	struct kvm_irq_routing_entry e;
	int gsi = msix_vector_gsi(&f->dev, 5);
	unsigned commits;

	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	assert_true(msix_enabled(&f->dev));
	commits = irq_routing_commit_count(f->rt);
	program(f, 5, 0x45);		/* while masked, as Linux does */
	assert_int_equal(irq_routing_commit_count(f->rt), commits);
	assert_false(route_of(f, gsi, &e));

	assert_int_equal(msix_notify(&f->dev, 5), 1);
	assert_int_equal(fired(f, 5), 0);
	assert_true(msix_vector_pending(&f->dev, 5));
	assert_int_equal(pba_read(f, 0), 1ull << 5);

	/* unmask: the route is committed, then the pending vector fires */
	entry_write(f, 5, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_int_equal(irq_routing_commit_count(f->rt), commits + 1);
	assert_true(route_of(f, gsi, &e));
	assert_int_equal(e.type, KVM_IRQ_ROUTING_MSI);
	assert_int_equal(e.u.msi.address_lo, MSI_ADDR);
	assert_int_equal(e.u.msi.address_hi, 0);
	assert_int_equal(e.u.msi.data, 0x45);
	assert_int_equal(fired(f, 5), 1);
	assert_false(msix_vector_pending(&f->dev, 5));
	assert_int_equal(pba_read(f, 0), 0);

	/* unmasked: straight through, no further commit */
	assert_int_equal(msix_notify(&f->dev, 5), 0);
	assert_int_equal(msix_notify(&f->dev, 5), 0);
	assert_int_equal(fired(f, 5), 2);
	assert_int_equal(irq_routing_commit_count(f->rt), commits + 1);
	/* masking again without a trigger leaves nothing pending */
	entry_write(f, 5, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	entry_write(f, 5, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_int_equal(fired(f, 5), 0);
}

static void test_function_mask(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 0x30);
	program(f, 65, 0x31);
	entry_write(f, 0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	entry_write(f, 65, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(msix_notify(&f->dev, 0), 1);
	assert_int_equal(msix_notify(&f->dev, 65), 1);
	assert_int_equal(pba_read(f, 0), 1);
	assert_int_equal(pba_read(f, 1), 1ull << 1);	/* vector 65: second qword, bit 1 */
	assert_int_equal(fired(f, 0) + fired(f, 65), 0);
	/* vector mask bits are untouched by the function mask */
	assert_false(msix_vector_masked(&f->dev, 0));

	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(fired(f, 0), 1);
	assert_int_equal(fired(f, 65), 1);
	assert_int_equal(pba_read(f, 0) | pba_read(f, 1), 0);

	/* a pending vector that is still masked on its own stays pending */
	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	entry_write(f, 0, PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
	assert_int_equal(msix_notify(&f->dev, 0), 1);
	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(fired(f, 0), 0);
	assert_true(msix_vector_pending(&f->dev, 0));
	entry_write(f, 0, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_int_equal(fired(f, 0), 1);

	/* disabling MSI-X: notify refuses, the device falls back to INTx */
	msg_ctrl_write(f, 0);
	assert_int_equal(msix_notify(&f->dev, 0), -ENOTCONN);
	assert_int_equal(fired(f, 0), 0);
}

static void test_route_updates(void **state)
{
	struct fixture *f = *state;
	struct kvm_irq_routing_entry e;
	int gsi = msix_vector_gsi(&f->dev, 9);
	unsigned commits;

	program(f, 9, 0x50);
	entry_write(f, 9, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	/* MSI-X still disabled: nothing is committed yet */
	assert_false(route_of(f, gsi, &e));
	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	assert_true(route_of(f, gsi, &e));
	assert_int_equal(e.u.msi.data, 0x50);
	commits = irq_routing_commit_count(f->rt);

	/* the guest retargets an unmasked vector: the route follows each write */
	entry_write(f, 9, PCI_MSIX_ENTRY_DATA, 0x51);
	assert_true(route_of(f, gsi, &e));
	assert_int_equal(e.u.msi.data, 0x51);
	entry_write(f, 9, PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR | 0x3000);
	entry_write(f, 9, PCI_MSIX_ENTRY_UPPER_ADDR, 0x7);
	assert_true(route_of(f, gsi, &e));
	assert_int_equal(e.u.msi.address_lo, MSI_ADDR | 0x3000);
	assert_int_equal(e.u.msi.address_hi, 0x7);
	assert_int_equal(irq_routing_commit_count(f->rt), commits + 3);
	/* rewriting the same value commits nothing */
	entry_write(f, 9, PCI_MSIX_ENTRY_DATA, 0x51);
	assert_int_equal(irq_routing_commit_count(f->rt), commits + 3);
	/* Linux-style: mask, rewrite, unmask costs one commit */
	entry_write(f, 9, PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
	program(f, 9, 0x52);
	assert_int_equal(irq_routing_commit_count(f->rt), commits + 3);
	entry_write(f, 9, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_int_equal(irq_routing_commit_count(f->rt), commits + 4);
	assert_true(route_of(f, gsi, &e));
	assert_int_equal(e.u.msi.data, 0x52);
	assert_int_equal(e.u.msi.address_hi, 0);
	/* the legacy routes are always there beside the MSI ones */
	assert_true(route_of(f, 23, &e));
	assert_int_equal(e.type, KVM_IRQ_ROUTING_IRQCHIP);
}

static void test_intx_off_while_msix_enabled(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pci_intx_set(&f->dev, 1), 0);
	assert_int_equal(f->dev.intx.level, 1);
	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->dev.intx.level, 0);
	msg_ctrl_write(f, 0);
	assert_int_equal(f->dev.intx.level, 1);
	assert_int_equal(pci_intx_set(&f->dev, 0), 0);
}

static void test_table_moves_with_bar(void **state)
{
	struct fixture *f = *state;
	uint64_t new = PCI_MMIO32_BASE + 0x40000;

	entry_write(f, 2, PCI_MSIX_ENTRY_DATA, 0x99);
	cf8_write(f->pio, f->slot, PCI_BASE_ADDRESS_0, (uint32_t)new, 4);
	f->bar0 = new;
	assert_int_equal(entry_read(f, 2, PCI_MSIX_ENTRY_DATA), 0x99);
	assert_false(iobus_read(f->mmio, PCI_MMIO32_BASE, (uint8_t[4]){ 0 }, 4));
}

static void test_hostile_table_traffic(void **state)
{
	struct fixture *f = *state;
	static const uint32_t sizes[] = { 1, 2, 4, 8 };
	uint64_t s = 12345;

	msg_ctrl_write(f, PCI_MSIX_FLAGS_ENABLE);
	for (int i = 0; i < 100000; i++) {
		uint64_t off, val;
		uint32_t len;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		off = s % BAR0_SIZE;
		len = sizes[(s >> 20) & 3];
		val = s * 0x9e3779b97f4a7c15ULL;
		if (s & (1ull << 33))
			mmio_write(f->mmio, f->bar0 + off, val, len);
		else
			mmio_read(f->mmio, f->bar0 + off, len);
		if ((s & 0xff) == 0)
			msix_notify(&f->dev, (uint16_t)(s >> 40));
		if ((s & 0xfff) == 1)
			msg_ctrl_write(f, (uint16_t)(s >> 8));
	}
	/* every pending bit belongs to a real vector; bits past NVEC stay 0 */
	assert_int_equal(pba_read(f, 1) >> (NVEC - 64), 0);
	for (unsigned v = 0; v < NVEC; v++)
		assert_int_equal(entry_read(f, v, PCI_MSIX_ENTRY_VECTOR_CTRL) & ~1u, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capability_walk, setup, teardown),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test_setup_teardown(test_table_reset_and_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_bad_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gsis_and_irqfds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked_vector_pends_then_fires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_off_while_msix_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_moves_with_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_table_traffic, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
