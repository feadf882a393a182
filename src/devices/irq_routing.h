/* SPDX-License-Identifier: MIT */
#ifndef HUSK_IRQ_ROUTING_H
#define HUSK_IRQ_ROUTING_H

#include <stdint.h>
#include <linux/kvm.h>

/*
 * The VM's GSI routing table (one per VM). KVM_SET_GSI_ROUTING replaces the
 * whole table, and KVM's built-in defaults are gone once a table is set, so
 * this object owns every route:
 *
 *  - the legacy routes, as KVM's default table has them: GSI n -> IOAPIC
 *    pin n for n = 0..23, and GSI n -> PIC pin n % 8 (master for 0-7, slave
 *    for 8-15) for n = 0..15 except 2 (the master's cascade input, which no
 *    device raises). Devices using irq_line_set() see no difference once
 *    the table is committed.
 *  - MSI routes, one per allocated GSI (IRQ_ROUTING_FIRST_DYNAMIC_GSI and
 *    up), staged with irq_routing_set_msi() and sent to KVM as a whole by
 *    irq_routing_commit().
 *  - irqfds (KVM_IRQFD): an eventfd bound to a GSI.
 *
 * With vm_fd < 0 (unit tests) nothing reaches the kernel: the last committed
 * table and the irqfd bindings are only recorded, and can be inspected.
 * Thread-safe (one mutex); not for hot paths: commits happen when the guest
 * reprograms an MSI-X vector.
 */
#define IRQ_ROUTING_IOAPIC_PINS		24
#define IRQ_ROUTING_PIC_PINS		16
#define IRQ_ROUTING_FIRST_DYNAMIC_GSI	IRQ_ROUTING_IOAPIC_PINS
/* KVM_MAX_IRQ_ROUTES on x86: both the number of entries and GSIs < this. */
#define IRQ_ROUTING_MAX_ENTRIES		4096
#define IRQ_ROUTING_MAX_GSI		IRQ_ROUTING_MAX_ENTRIES

struct irq_routing;

int irq_routing_create(int vm_fd, struct irq_routing **out);
void irq_routing_destroy(struct irq_routing *rt);

/* A free GSI at or above IRQ_ROUTING_FIRST_DYNAMIC_GSI, or -ENOSPC. */
int irq_routing_alloc_gsi(struct irq_routing *rt);
/* Frees @gsi and drops its staged route (commit to make that visible). */
int irq_routing_free_gsi(struct irq_routing *rt, uint32_t gsi);

/* Stage an MSI route for an allocated GSI; -EINVAL if not allocated. */
int irq_routing_set_msi(struct irq_routing *rt, uint32_t gsi, uint64_t addr, uint32_t data);
/* Stage "no route" for an allocated GSI. */
int irq_routing_clear(struct irq_routing *rt, uint32_t gsi);
/* Send the legacy routes and every staged MSI route to KVM. */
int irq_routing_commit(struct irq_routing *rt);

/* Bind / unbind an eventfd to an allocated GSI (KVM_IRQFD). */
int irq_routing_irqfd_assign(struct irq_routing *rt, uint32_t gsi, int fd);
int irq_routing_irqfd_deassign(struct irq_routing *rt, uint32_t gsi);

/*
 * Inspection (tests, debugging): the last committed table. Copies up to
 * @max entries into @out and returns how many the table has.
 */
unsigned irq_routing_committed(struct irq_routing *rt, struct kvm_irq_routing_entry *out,
			       unsigned max);
/* How many times the table was committed. */
unsigned irq_routing_commit_count(struct irq_routing *rt);
/* The eventfd bound to @gsi, or -1. */
int irq_routing_irqfd(struct irq_routing *rt, uint32_t gsi);

#endif
