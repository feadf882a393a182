/* SPDX-License-Identifier: MIT */
#ifndef HUSK_MSIX_H
#define HUSK_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"

/*
 * MSI-X for a PCI device (PCI Local Bus 3.0 section 6.8.2): the capability
 * in config space, the vector table and the Pending Bit Array emulated
 * inside the device's memory BARs, and delivery through KVM.
 *
 * Each vector has an eventfd bound with KVM_IRQFD to its own GSI, whose
 * route (KVM_IRQ_ROUTING_MSI with the guest's address and data) lives in
 * the VM's irq_routing table; a route is (re)committed when the guest's
 * address/data for a vector have changed and the vector can fire (MSI-X
 * enabled, function and vector unmasked), so a guest that programs a
 * vector while it is masked (as Linux does) costs one commit at unmask.
 *
 * msix_notify() fires a vector: a masked one (vector or function mask)
 * gets its pending bit set instead, and fires when unmasked.
 *
 * The Bus Master Enable bit does not gate delivery (a guest that turns it
 * off gets no DMA from a device model anyway).
 *
 * Guest rules enforced: table accesses must be 4 or 8 bytes, naturally
 * aligned (others are ignored and read all-ones); the PBA is read-only;
 * Message Address bits 1:0 and the reserved Vector Control bits read 0.
 */
#define MSIX_MAX_VECTORS	2048
#define MSIX_CAP_LEN		PCI_CAP_MSIX_SIZEOF

struct msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;		/* PCI_MSIX_ENTRY_CTRL_MASKBIT */
};

/* Guest-visible state besides Message Control (which is in config space). */
struct msix_state {
	struct msix_entry table[MSIX_MAX_VECTORS];
	uint64_t pba[MSIX_MAX_VECTORS / 64];
};

/*
 * Add the MSI-X capability to @dev with @nr_vectors vectors (1-2048), the
 * table at @table_off in memory BAR @table_bar and the PBA at @pba_off in
 * @pba_bar (offsets 8-byte aligned, both inside their already declared
 * BARs, not overlapping). Call before pci_register_device(), which binds
 * the vectors to GSIs. Returns the capability's offset or -errno.
 */
int msix_init(struct pci_device *dev, uint16_t nr_vectors, unsigned table_bar,
	      uint32_t table_off, unsigned pba_bar, uint32_t pba_off);

/*
 * Fire @vector: 0 if delivered, 1 if left pending (masked), -EINVAL for
 * a vector out of range, -ENOTCONN while MSI-X is disabled (use INTx).
 * Any thread; takes only this device's MSI-X lock.
 */
int msix_notify(struct pci_device *dev, uint16_t vector);

bool msix_enabled(struct pci_device *dev);
uint16_t msix_nr_vectors(struct pci_device *dev);

/* Inspection (tests, state saving). */
bool msix_vector_masked(struct pci_device *dev, uint16_t vector);
bool msix_vector_pending(struct pci_device *dev, uint16_t vector);
/* The vector's GSI (-1 before registration) and eventfd. */
int msix_vector_gsi(struct pci_device *dev, uint16_t vector);
int msix_vector_eventfd(struct pci_device *dev, uint16_t vector);

#endif
