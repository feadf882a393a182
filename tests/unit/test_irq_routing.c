// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/irq_routing.h"
#include "fake_vm_ioctl.h"

/*
 * KVM_SET_GSI_ROUTING and KVM_IRQFD on a fake VM fd are recorded here (this
 * ioctl() takes the place of libc's for husk_core), and can be made to fail.
 */
static unsigned set_routing_calls;
static unsigned last_nr;
static int irqfd_calls, irqfd_deassigns;
static int fail_errno;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	if (fail_errno) {
		errno = fail_errno;
		return -1;
	}
	if (request == KVM_SET_GSI_ROUTING) {
		set_routing_calls++;
		last_nr = ((const struct kvm_irq_routing *)arg)->nr;
	} else if (request == KVM_IRQFD) {
		const struct kvm_irqfd *f = arg;

		if (f->flags & KVM_IRQFD_FLAG_DEASSIGN)
			irqfd_deassigns++;
		else
			irqfd_calls++;
	}
	return 0;
}

static struct kvm_irq_routing_entry table[IRQ_ROUTING_MAX_ENTRIES];

/* How many committed entries route @gsi to (@type, @chip, @pin); chip/pin ignored for MSI. */
static int count_routes(unsigned n, uint32_t gsi, uint32_t type, uint32_t chip, uint32_t pin)
{
	int found = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct kvm_irq_routing_entry *e = &table[i];

		if (e->gsi != gsi || e->type != type)
			continue;
		if (type == KVM_IRQ_ROUTING_IRQCHIP &&
		    (e->u.irqchip.irqchip != chip || e->u.irqchip.pin != pin))
			continue;
		found++;
	}
	return found;
}

static void test_default_routes(void **state)
{
	struct irq_routing *rt;
	unsigned n;

	(void)state;
	assert_int_equal(irq_routing_create(-1, &rt), 0);
	assert_int_equal(irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES), 0);
	assert_int_equal(irq_routing_commit(rt), 0);
	assert_int_equal(irq_routing_commit_count(rt), 1);
	n = irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES);
	assert_int_equal(n, 24 + 15);
	for (uint32_t gsi = 0; gsi < 24; gsi++)
		assert_int_equal(count_routes(n, gsi, KVM_IRQ_ROUTING_IRQCHIP,
					      KVM_IRQCHIP_IOAPIC, gsi), 1);
	for (uint32_t gsi = 0; gsi < 8; gsi++)
		assert_int_equal(count_routes(n, gsi, KVM_IRQ_ROUTING_IRQCHIP,
					      KVM_IRQCHIP_PIC_MASTER, gsi), gsi == 2 ? 0 : 1);
	for (uint32_t gsi = 8; gsi < 16; gsi++)
		assert_int_equal(count_routes(n, gsi, KVM_IRQ_ROUTING_IRQCHIP,
					      KVM_IRQCHIP_PIC_SLAVE, gsi - 8), 1);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(table[i].type, KVM_IRQ_ROUTING_IRQCHIP);
		assert_true(table[i].gsi < 24);
		if (table[i].u.irqchip.irqchip != KVM_IRQCHIP_IOAPIC)
			assert_true(table[i].gsi < 16 && table[i].u.irqchip.pin < 8);
	}
	irq_routing_destroy(rt);
}

static void test_gsi_alloc_free(void **state)
{
	struct irq_routing *rt;
	int a, b, c;

	(void)state;
	assert_int_equal(irq_routing_create(-1, &rt), 0);
	a = irq_routing_alloc_gsi(rt);
	b = irq_routing_alloc_gsi(rt);
	c = irq_routing_alloc_gsi(rt);
	assert_int_equal(a, IRQ_ROUTING_FIRST_DYNAMIC_GSI);
	assert_int_equal(b, a + 1);
	assert_int_equal(c, a + 2);
	assert_int_equal(irq_routing_free_gsi(rt, (uint32_t)b), 0);
	assert_int_equal(irq_routing_free_gsi(rt, (uint32_t)b), -EINVAL);	/* double free */
	assert_int_equal(irq_routing_alloc_gsi(rt), b);			/* reused */
	/* legacy and out-of-range GSIs are not the allocator's */
	assert_int_equal(irq_routing_free_gsi(rt, 5), -EINVAL);
	assert_int_equal(irq_routing_free_gsi(rt, 23), -EINVAL);
	assert_int_equal(irq_routing_free_gsi(rt, IRQ_ROUTING_MAX_GSI), -EINVAL);
	assert_int_equal(irq_routing_free_gsi(rt, UINT32_MAX), -EINVAL);
	assert_int_equal(irq_routing_set_msi(rt, 4, 0xfee00000, 0x30), -EINVAL);
	assert_int_equal(irq_routing_set_msi(rt, (uint32_t)c + 1, 0xfee00000, 0x30), -EINVAL);
	irq_routing_destroy(rt);
}

static void test_gsi_exhaustion(void **state)
{
	struct irq_routing *rt;
	int gsi, last = -1;
	unsigned count = 0, n;

	(void)state;
	assert_int_equal(irq_routing_create(-1, &rt), 0);
	while ((gsi = irq_routing_alloc_gsi(rt)) >= 0) {
		assert_true(gsi > last && gsi < IRQ_ROUTING_MAX_GSI);
		assert_int_equal(irq_routing_set_msi(rt, (uint32_t)gsi, 0xfee00000, (uint32_t)gsi), 0);
		last = gsi;
		count++;
	}
	assert_int_equal(gsi, -ENOSPC);
	/* a full table still fits KVM's limit, legacy routes included */
	assert_int_equal(count, IRQ_ROUTING_MAX_ENTRIES - 39);
	assert_int_equal(irq_routing_commit(rt), 0);
	n = irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES);
	assert_int_equal(n, IRQ_ROUTING_MAX_ENTRIES);
	assert_int_equal(irq_routing_free_gsi(rt, 100), 0);
	assert_int_equal(irq_routing_alloc_gsi(rt), 100);
	irq_routing_destroy(rt);
}

static void test_msi_routes(void **state)
{
	struct irq_routing *rt;
	int g1, g2;
	unsigned n;

	(void)state;
	assert_int_equal(irq_routing_create(-1, &rt), 0);
	g1 = irq_routing_alloc_gsi(rt);
	g2 = irq_routing_alloc_gsi(rt);
	assert_int_equal(irq_routing_set_msi(rt, (uint32_t)g1, 0x12fee01000ULL, 0x4041), 0);
	assert_int_equal(irq_routing_set_msi(rt, (uint32_t)g2, 0xfee00000, 0x31), 0);
	/* staged only: nothing committed yet */
	assert_int_equal(irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES), 0);
	assert_int_equal(irq_routing_commit(rt), 0);
	n = irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES);
	assert_int_equal(n, 39 + 2);
	assert_int_equal(table[39].gsi, (uint32_t)g1);
	assert_int_equal(table[39].type, KVM_IRQ_ROUTING_MSI);
	assert_int_equal(table[39].u.msi.address_lo, 0xfee01000);
	assert_int_equal(table[39].u.msi.address_hi, 0x12);
	assert_int_equal(table[39].u.msi.data, 0x4041);
	assert_int_equal(table[40].gsi, (uint32_t)g2);
	assert_int_equal(table[40].u.msi.data, 0x31);

	/* cleared and freed routes leave the table at the next commit */
	assert_int_equal(irq_routing_clear(rt, (uint32_t)g1), 0);
	assert_int_equal(irq_routing_commit(rt), 0);
	n = irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES);
	assert_int_equal(n, 40);
	assert_int_equal(count_routes(n, (uint32_t)g1, KVM_IRQ_ROUTING_MSI, 0, 0), 0);
	assert_int_equal(irq_routing_free_gsi(rt, (uint32_t)g2), 0);
	assert_int_equal(irq_routing_commit(rt), 0);
	assert_int_equal(irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES), 39);
	assert_int_equal(irq_routing_commit_count(rt), 3);
	irq_routing_destroy(rt);
}

static void test_irqfd_records(void **state)
{
	struct irq_routing *rt;
	int gsi;

	(void)state;
	assert_int_equal(irq_routing_create(-1, &rt), 0);
	gsi = irq_routing_alloc_gsi(rt);
	assert_int_equal(irq_routing_irqfd(rt, (uint32_t)gsi), -1);
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)gsi, 42), 0);
	assert_int_equal(irq_routing_irqfd(rt, (uint32_t)gsi), 42);
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)gsi, 43), -EBUSY);
	assert_int_equal(irq_routing_irqfd_assign(rt, 7, 43), -EINVAL);
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)gsi + 1, 43), -EINVAL);
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)gsi, -1), -EBADF);
	assert_int_equal(irq_routing_irqfd_deassign(rt, (uint32_t)gsi), 0);
	assert_int_equal(irq_routing_irqfd(rt, (uint32_t)gsi), -1);
	assert_int_equal(irq_routing_irqfd_deassign(rt, (uint32_t)gsi), -ENOENT);
	/* freeing a GSI drops its irqfd */
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)gsi, 44), 0);
	assert_int_equal(irq_routing_free_gsi(rt, (uint32_t)gsi), 0);
	assert_int_equal(irq_routing_irqfd(rt, (uint32_t)gsi), -1);
	irq_routing_destroy(rt);
}

static void test_kvm_calls(void **state)
{
	struct irq_routing *rt;
	int gsi;

	(void)state;
	set_routing_calls = 0;
	irqfd_calls = irqfd_deassigns = 0;
	fail_errno = 0;
	assert_int_equal(irq_routing_create(FAKE_VM_FD, &rt), 0);
	gsi = irq_routing_alloc_gsi(rt);
	assert_int_equal(irq_routing_set_msi(rt, (uint32_t)gsi, 0xfee00000, 0x41), 0);
	assert_int_equal(irq_routing_commit(rt), 0);
	assert_int_equal(set_routing_calls, 1);
	assert_int_equal(last_nr, 40);
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)gsi, 5), 0);
	assert_int_equal(irqfd_calls, 1);

	/* KVM refuses: the error comes back and the old table stays committed */
	fail_errno = EINVAL;
	assert_int_equal(irq_routing_clear(rt, (uint32_t)gsi), 0);
	assert_int_equal(irq_routing_commit(rt), -EINVAL);
	assert_int_equal(irq_routing_commit_count(rt), 1);
	assert_int_equal(irq_routing_committed(rt, table, IRQ_ROUTING_MAX_ENTRIES), 40);
	assert_int_equal(irq_routing_irqfd_assign(rt, (uint32_t)irq_routing_alloc_gsi(rt), 6),
			 -EINVAL);
	fail_errno = 0;
	irq_routing_destroy(rt);
	assert_int_equal(irqfd_deassigns, 1);	/* the assigned irqfd is released */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_routes),
		cmocka_unit_test(test_gsi_alloc_free),
		cmocka_unit_test(test_gsi_exhaustion),
		cmocka_unit_test(test_msi_routes),
		cmocka_unit_test(test_irqfd_records),
		cmocka_unit_test(test_kvm_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
