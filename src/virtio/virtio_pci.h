/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_PCI_H
#define HUSK_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "virtio/virtio_dev.h"

/*
 * The virtio 1.2 modern PCI transport (virtio 1.2, 4.1) for a struct
 * virtio_dev (virtio/virtio_dev.h).
 *
 * Identity: vendor 0x1af4, device 0x1040 + virtio device id, revision 1,
 * subsystem 0x1af4:0x1100. No legacy (transitional) interface.
 *
 * One 64-bit memory BAR (BAR 0, VIRTIO_PCI_BAR_SIZE) holds everything,
 * each structure described by a vendor-specific capability:
 *
 *   0x0000  COMMON_CFG   struct virtio_pci_common_cfg (56 bytes used)
 *   0x1000  ISR_CFG      1 byte; reading returns and clears it, lowers INTx
 *   0x2000  DEVICE_CFG   the device's own config (capability only when the
 *                        device has one)
 *   0x3000  NOTIFY_CFG   queue q's notify address is 0x3000 + 4 * q
 *                        (queue_notify_off = q, notify_off_multiplier = 4)
 *   0x4000  MSI-X table  (nqueues + 1 vectors; handled by the PCI layer)
 *   0x6000  MSI-X PBA
 *
 * The VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9) is not implemented.
 *
 * Notifications: while BAR 0 is decoded, each queue's notify address is a
 * KVM ioeventfd (any access width where KVM offers
 * KVM_CAP_IOEVENTFD_ANY_LENGTH, else 2 bytes, the width Linux uses) bound
 * to the queue's kick eventfd; other accesses exit and are forwarded to the
 * same eventfd. Interrupts: the queue's MSI-X vector, or (MSI-X disabled)
 * ISR bit 0 and INTx.
 */
#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040
#define VIRTIO_PCI_SUBSYS_ID		0x1100
#define VIRTIO_PCI_REVISION		1

#define VIRTIO_PCI_BAR			0
#define VIRTIO_PCI_BAR_SIZE		0x8000
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_COMMON_LEN		0x0038
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_ISR_LEN		0x0001
#define VIRTIO_PCI_DEVCFG_OFF		0x2000
#define VIRTIO_PCI_DEVCFG_MAX		0x1000
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4
#define VIRTIO_PCI_MSIX_TABLE_OFF	0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF		0x6000

struct virtio_pci;

/*
 * Put @vd on @bus behind a virtio-pci function (@vm_fd: KVM ioeventfds;
 * < 0 in unit tests: every notify exits). Returns 0 or -errno.
 */
int virtio_pci_attach(struct virtio_dev *vd, struct pci_bus *bus, int vm_fd,
		      struct virtio_pci **out);
/* Unregister and free (vCPUs stopped); the device itself is untouched. */
void virtio_pci_detach(struct virtio_pci *vp);
/* The PCI function (tests). */
struct pci_device *virtio_pci_device(struct virtio_pci *vp);

#endif
