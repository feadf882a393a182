// SPDX-License-Identifier: MIT
/*
 * Save/load of the PCI layer: a device whose BARs the guest moved (32-bit,
 * 64-bit and I/O) and whose MSI-X vectors it programmed, one with INTx
 * asserted, and the bus's 0xcf8 latch. Loaded into a freshly built bus:
 * the same bytes again, dispatch at the moved addresses (none at the
 * addresses the fresh bus had allocated), the same KVM_SET_GSI_ROUTING
 * table, the pending vector still pending, the INTx line raised again.
 * Then truncations and bad values, each refused with the device unchanged.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_vm_ioctl.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "pci_test_helpers.h"
#include "state_test_helpers.h"

#define NVEC		70		/* two PBA words */
#define PBA_OFF		0x2000
#define DEV_REGS	0x3000		/* the device's own registers in BAR0 */
#define BAR0_SIZE	0x4000
#define BAR2_SIZE	0x100000
#define BAR4_SIZE	0x20
#define MSI_ADDR	0xfee00000u
#define NEW_BAR0	0xc8000000u
#define NEW_BAR2	0x8000000000ull
#define NEW_BAR4	0xd000u

/* What the fake KVM saw last: the routing table, the INTx levels. */
static struct {
	unsigned routing_sets;
	uint32_t nr;
	struct kvm_irq_routing_entry entries[IRQ_ROUTING_MAX_ENTRIES];
	int level[32];
} kvm;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	if (request == KVM_SET_GSI_ROUTING) {
		const struct kvm_irq_routing *t = arg;

		kvm.routing_sets++;
		kvm.nr = t->nr;
		memcpy(kvm.entries, t->entries, t->nr * sizeof(t->entries[0]));
	} else if (request == KVM_IRQ_LINE) {
		const struct kvm_irq_level *l = arg;

		if (l->irq < 32)
			kvm.level[l->irq] = (int)l->level;
	}
	return 0;
}

struct machine {
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct pci_device a, b;		/* a: BARs 0, 2, 4 and MSI-X; b: INTx */
	unsigned mapped_calls;
	uint64_t last_mapped[PCI_STD_NUM_BARS];
	unsigned last_bar;
	uint64_t last_off;
};

static void dev_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	struct machine *m = dev->priv;

	m->last_bar = bar;
	m->last_off = offset;
	memset(data, 0x70 + (int)bar, len);
}

static void dev_bar_mapped(struct pci_device *dev, unsigned bar, uint64_t addr, bool mapped)
{
	struct machine *m = dev->priv;

	m->mapped_calls++;
	m->last_mapped[bar] = mapped ? addr : PCI_BAR_UNMAPPED;
}

static const struct pci_device_ops dev_ops = {
	.bar_read = dev_bar_read,
	.bar_mapped = dev_bar_mapped,
};

static void machine_make(struct machine *m)
{
	static const struct pci_device_id ida = {
		.vendor = 0x1af4, .device = 0x1041, .class_code = 0x020000, .intx_pin = 1,
		.pcie_cfg = true,
	};
	static const struct pci_device_id idb = {
		.vendor = 0x1af4, .device = 0x1042, .class_code = 0x010000, .intx_pin = 2,
	};
	struct pci_bus_params p;

	memset(m, 0, sizeof(*m));
	m->pio = iobus_create("pio");
	m->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(FAKE_VM_FD, &m->rt), 0);
	p = (struct pci_bus_params){ .pio = m->pio, .mmio = m->mmio, .routing = m->rt,
				     .vm_fd = FAKE_VM_FD, .ram_size = GIB(1) };
	assert_int_equal(pci_bus_create(&p, &m->bus), 0);
	pci_device_init(&m->a, "state-a", &ida, &dev_ops, m);
	assert_int_equal(pci_device_add_bar(&m->a, 0, PCI_BAR_MEM32, BAR0_SIZE, false), 0);
	assert_int_equal(pci_device_add_bar(&m->a, 2, PCI_BAR_MEM64, BAR2_SIZE, true), 0);
	assert_int_equal(pci_device_add_bar(&m->a, 4, PCI_BAR_IO, BAR4_SIZE, false), 0);
	assert_true(pci_cap_add(&m->a, PCI_CAP_ID_VNDR, 16) >= 0x40);
	assert_true(msix_init(&m->a, NVEC, 0, 0, 0, PBA_OFF) > 0x40);
	assert_int_equal(pci_register_device(m->bus, &m->a), 0);
	pci_device_init(&m->b, "state-b", &idb, &dev_ops, m);
	assert_int_equal(pci_device_add_bar(&m->b, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	assert_int_equal(pci_register_device(m->bus, &m->b), 0);
}

static void machine_free(struct machine *m)
{
	pci_bus_destroy(m->bus);
	pci_device_release(&m->a);
	pci_device_release(&m->b);
	irq_routing_destroy(m->rt);
	iobus_destroy(m->pio);
	iobus_destroy(m->mmio);
}

static unsigned msix_cap(struct machine *m)
{
	unsigned pos = (unsigned)pci_cfg_get(&m->a, PCI_CAPABILITY_LIST, 1);

	while (pos && pci_cfg_get(&m->a, pos, 1) != PCI_CAP_ID_MSIX)
		pos = (unsigned)pci_cfg_get(&m->a, pos + 1, 1);
	assert_true(pos);
	return pos;
}

static void entry_write(struct machine *m, unsigned v, unsigned reg, uint32_t val)
{
	mmio_write(m->mmio, NEW_BAR0 + v * PCI_MSIX_ENTRY_SIZE + reg, val, 4);
}

/* What a guest driver does: move the BARs, decode, program vectors, enable MSI-X. */
static void guest_program(struct machine *m)
{
	unsigned sa = (unsigned)m->a.slot, sb = (unsigned)m->b.slot;

	cf8_write(m->pio, sa, PCI_BASE_ADDRESS_0, NEW_BAR0, 4);
	cf8_write(m->pio, sa, PCI_BASE_ADDRESS_2, (uint32_t)NEW_BAR2, 4);
	cf8_write(m->pio, sa, PCI_BASE_ADDRESS_3, (uint32_t)(NEW_BAR2 >> 32), 4);
	cf8_write(m->pio, sa, PCI_BASE_ADDRESS_4, NEW_BAR4, 4);
	cf8_write(m->pio, sa, PCI_INTERRUPT_LINE, 0x0b, 1);
	cf8_write(m->pio, sa, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
		  PCI_COMMAND_MASTER, 2);
	for (unsigned v = 0; v < 4; v++) {
		entry_write(m, v, PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR | v << 12);
		entry_write(m, v, PCI_MSIX_ENTRY_UPPER_ADDR, 0);
		entry_write(m, v, PCI_MSIX_ENTRY_DATA, 0x40 + v);
		if (v < 3)
			entry_write(m, v, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	}
	cf8_write(m->pio, sa, msix_cap(m) + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(msix_notify(&m->a, 3), 1);		/* masked: pending */
	assert_int_equal(msix_notify(&m->a, 65), 1);
	cf8_write(m->pio, sb, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(pci_intx_set(&m->b, 1), 0);
	/* leave the 0xcf8 latch pointing at device b's vendor ID */
	cf8_read(m->pio, sb, PCI_VENDOR_ID, 2);
}

STATE_OPS(pci_device, struct pci_device);
STATE_OPS(pci_bus, struct pci_bus);

static uint64_t fired(struct pci_device *dev, unsigned v)
{
	uint64_t n = 0;

	if (read(msix_vector_eventfd(dev, (uint16_t)v), &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void test_pci_round_trip(void **state)
{
	struct machine *src = calloc(1, sizeof(*src)), *dst = calloc(1, sizeof(*dst));
	struct kvm_irq_routing_entry *routes = calloc(IRQ_ROUTING_MAX_ENTRIES, sizeof(*routes));
	struct state_writer sa, sb, sbus;
	uint32_t nr_routes, cfg = PCI_CFG_SPACE_EXP_SIZE;
	uint64_t fresh_bar0;
	unsigned sets;

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	assert_non_null(routes);
	machine_make(src);
	guest_program(src);
	assert_int_equal(pci_bar_addr(&src->a, 0), NEW_BAR0);
	nr_routes = kvm.nr;
	memcpy(routes, kvm.entries, nr_routes * sizeof(*routes));
	assert_int_equal(nr_routes, 39 + 3);		/* legacy, and vectors 0-2 */

	machine_make(dst);
	fresh_bar0 = PCI_MMIO32_BASE;
	assert_int_equal(dst->mapped_calls, 0);
	sets = kvm.routing_sets;
	state_check_round_trip(&pci_bus_state_ops, src->bus, dst->bus, &sbus);
	state_check_round_trip(&pci_device_state_ops, &src->b, &dst->b, &sb);
	state_check_round_trip(&pci_device_state_ops, &src->a, &dst->a, &sa);
	assert_int_equal(sa.len, 2 + cfg + 1 + 2 + NVEC * 16 + 2 * 8);

	/* the loaded BARs are where the guest put them, reached by dispatch */
	assert_int_equal(pci_bar_addr(&dst->a, 0), NEW_BAR0);
	assert_true(pci_bar_addr(&dst->a, 2) == NEW_BAR2);
	assert_int_equal(pci_bar_addr(&dst->a, 4), NEW_BAR4);
	assert_int_equal(dst->last_mapped[0], NEW_BAR0);
	assert_int_equal(mmio_read(dst->mmio, NEW_BAR0 + DEV_REGS + 8, 4), 0x70707070);
	assert_int_equal(dst->last_bar, 0);
	assert_int_equal(dst->last_off, DEV_REGS + 8);
	assert_int_equal(mmio_read(dst->mmio, NEW_BAR2 + 0x10, 4), 0x72727272);
	assert_int_equal(pio_in(dst->pio, NEW_BAR4 + 2, 1), 0x74);
	assert_int_equal(dst->last_off, 2);
	assert_int_equal(mmio_read(dst->mmio, fresh_bar0 + DEV_REGS, 4), 0xffffffff);
	/* the table through the moved BAR, the latch, INTx */
	assert_int_equal(mmio_read(dst->mmio, NEW_BAR0 + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_DATA,
				   4), 0x41);
	assert_int_equal(pio_in(dst->pio, PCI_CONFIG_DATA_PORT, 2), 0x1af4);
	assert_int_equal(pio_in(dst->pio, PCI_CONFIG_ADDRESS_PORT, 4),
			 cf8_addr(0, (unsigned)dst->b.slot, 0, 0));
	assert_int_equal(kvm.level[dst->b.intx.gsi], 1);
	assert_true(cf8_read(dst->pio, (unsigned)dst->b.slot, PCI_STATUS, 2) &
		    PCI_STATUS_INTERRUPT);
	assert_true(msix_enabled(&dst->a));

	/* the GSI routes KVM was given last (by the load) are the saved machine's */
	assert_true(kvm.routing_sets > sets);
	assert_int_equal(kvm.nr, nr_routes);
	assert_memory_equal(kvm.entries, routes, nr_routes * sizeof(*routes));
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(msix_vector_gsi(&dst->a, (uint16_t)v),
				 msix_vector_gsi(&src->a, (uint16_t)v));
	/* vector 3 is still pending; unmasking it commits its route and fires it */
	assert_true(msix_vector_pending(&dst->a, 3));
	assert_true(msix_vector_pending(&dst->a, 65));
	assert_int_equal(fired(&dst->a, 3), 0);
	entry_write(dst, 3, PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_int_equal(fired(&dst->a, 3), 1);
	assert_false(msix_vector_pending(&dst->a, 3));
	assert_int_equal(kvm.nr, nr_routes + 1);
	assert_int_equal(kvm.entries[nr_routes].u.msi.data, 0x43);
	assert_int_equal(kvm.entries[nr_routes].u.msi.address_lo, MSI_ADDR | 3 << 12);

	/* bad values: each refused with a reason, the device as it was */
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 2 + PCI_VENDOR_ID, 2, 0x8086,
			    "read-only");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 2 + PCI_BASE_ADDRESS_0, 1, 0x08,
			    "read-only");		/* BAR type bits */
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 0, 2, 256, "config space");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 2 + cfg, 1, 0, "MSI-X state");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 2 + cfg, 1, 7, "not a boolean");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 3 + cfg, 2, NVEC + 1,
			    "vectors saved");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 5 + cfg, 4, MSI_ADDR | 2,
			    "bits 1:0");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 5 + cfg + 12, 4, 3,
			    "reserved vector control");
	state_check_refused(&pci_device_state_ops, &dst->a, &sa, 5 + cfg + NVEC * 16 + 8, 8,
			    1ull << (NVEC - 64), "past vector");
	state_check_refused(&pci_bus_state_ops, dst->bus, &sbus, 0, 4, 0x80000001u,
			    "reserved bits");
	state_check_refused(&pci_bus_state_ops, dst->bus, &sbus, 4 + 2 + PCI_CLASS_DEVICE, 2,
			    0x0200, "read-only");

	sw_release(&sa);
	sw_release(&sb);
	sw_release(&sbus);
	machine_free(src);
	machine_free(dst);
	free(src);
	free(dst);
	free(routes);
}

/* A device loaded where it already has BARs mapped: moved, not doubled. */
static void test_pci_load_moves_mapped_bars(void **state)
{
	struct machine *src = calloc(1, sizeof(*src)), *dst = calloc(1, sizeof(*dst));
	struct state_writer sa;
	struct state_reader r;

	(void)state;
	machine_make(src);
	machine_make(dst);
	guest_program(src);
	cf8_write(dst->pio, (unsigned)dst->a.slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(pci_bar_addr(&dst->a, 0), PCI_MMIO32_BASE);
	state_snap(&pci_device_state_ops, &src->a, &sa);
	sr_init(&r, sa.buf, sa.len);
	assert_int_equal(pci_device_load(&dst->a, &r), 0);
	assert_int_equal(pci_bar_addr(&dst->a, 0), NEW_BAR0);
	assert_int_equal(mmio_read(dst->mmio, PCI_MMIO32_BASE + DEV_REGS, 4), 0xffffffff);
	assert_int_equal(mmio_read(dst->mmio, NEW_BAR0 + DEV_REGS, 4), 0x70707070);
	sw_release(&sa);
	machine_free(src);
	machine_free(dst);
	free(src);
	free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_round_trip),
		cmocka_unit_test(test_pci_load_moves_mapped_bars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
