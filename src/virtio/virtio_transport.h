/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_TRANSPORT_H
#define HUSK_VIRTIO_TRANSPORT_H

#include "husk/husk.h"
#include "virtio/virtio_dev.h"

struct guest_mem;
struct pci_bus;
struct virtio_mmio_bus;

/*
 * Where a VM's virtio devices go: the transport the config chose
 * (--virtio-transport pci|mmio) and what it needs. Device models create
 * their struct virtio_dev, then virtio_transport_attach() it.
 */
struct virtio_env {
	const struct guest_mem *mem;
	enum husk_virtio_transport kind;
	struct pci_bus *pci;			/* HUSK_VIRTIO_PCI */
	struct virtio_mmio_bus *mmio;		/* HUSK_VIRTIO_MMIO */
	int vm_fd;				/* ioeventfds, irqfds; < 0 in unit tests */
	const struct husk_sandbox *sandbox;	/* device threads' seccomp filter; NULL: none */
};

struct virtio_transport;

int virtio_transport_attach(struct virtio_dev *vd, const struct virtio_env *env,
			    struct virtio_transport **out);
/* After the device was stopped (virtio_dev_stop); NULL is ignored. */
void virtio_transport_detach(struct virtio_transport *t);

/*
 * Saved state of the transport itself: for virtio-pci the device's PCI
 * config space, BARs and MSI-X (devices/pci.h); virtio-mmio has none of
 * its own (an empty payload). Load it before the virtio device's own
 * state: mapping the BARs moves the notify ioeventfds.
 */
#define VIRTIO_TRANSPORT_STATE_VERSION 1
int virtio_transport_save(struct virtio_transport *t, struct state_writer *w);
int virtio_transport_load(struct virtio_transport *t, struct state_reader *r);

#endif
