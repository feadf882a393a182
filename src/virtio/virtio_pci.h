/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_PCI_H
#define HUSK_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "virtio/virtqueue.h"

struct guest_mem;

/*
 * The virtio 1.2 modern PCI transport (virtio 1.2, 4.1).
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
 * The VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9) is not implemented yet.
 *
 * Notifications: a guest write to the notify region is handled on the
 * vCPU thread that made it (an MMIO exit): the device's queue_notify op
 * runs there, with the transport lock held. Follow-up: KVM ioeventfds per
 * queue (moved in ops.bar_mapped) handled by the event loop or an I/O
 * thread, as DESIGN.md wants.
 *
 * Interrupts: after pushing, the device calls virtio_pci_queue_done(),
 * which asks virtqueue_should_interrupt() and then fires the queue's MSI-X
 * vector, or (MSI-X disabled) sets ISR bit 0 and raises INTx.
 *
 * Locking: one mutex per device serialises the common config, ISR and
 * notify handlers (vCPU threads call them concurrently). Device ops are
 * called with it held and must not take it again.
 *
 * Every guest value is hostile: unknown offsets and widths are ignored
 * (reads return 0), queue fields for a queue_select beyond num_queues read
 * 0 and ignore writes, queue_size must be a power of two no larger than the
 * device's maximum, and a queue_enable whose rings are misaligned or not
 * guest RAM sets DEVICE_NEEDS_RESET instead of enabling the queue.
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

#define VIRTIO_PCI_MAX_QUEUES		64

/* Guest-visible per-queue registers (the rest lives in struct virtqueue). */
struct virtio_pci_queue_state {
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
	uint16_t size;
	uint16_t msix_vector;
	bool enabled;
};

/* Guest-visible transport state: plain data. */
struct virtio_pci_state {
	uint64_t driver_features;
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t msix_config;
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	struct virtio_pci_queue_state q[VIRTIO_PCI_MAX_QUEUES];
};

struct virtio_pci_dev;

struct virtio_dev_ops {
	/* The guest notified queue @q (enabled, DRIVER_OK). Lock held. */
	void (*queue_notify)(struct virtio_pci_dev *vd, unsigned q);
	/* The guest reset the device (queues already reset). Lock held. */
	void (*reset)(struct virtio_pci_dev *vd);
	/* Device config access, @off + @len <= cfg_len. Lock held. */
	void (*cfg_read)(struct virtio_pci_dev *vd, uint32_t off, uint8_t *data, uint32_t len);
	void (*cfg_write)(struct virtio_pci_dev *vd, uint32_t off, const uint8_t *data,
			  uint32_t len);
};

struct virtio_pci_params {
	const char *name;
	uint16_t device_id;		/* virtio device id (VIRTIO_ID_*) */
	uint32_t class_code;
	uint64_t features;		/* offered; VIRTIO_F_VERSION_1 is added */
	unsigned nqueues;		/* 1 .. VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max;		/* power of two <= VQ_MAX_SIZE */
	uint32_t cfg_len;		/* device config bytes, <= VIRTIO_PCI_DEVCFG_MAX */
	const struct virtio_dev_ops *ops;
	void *priv;
};

struct virtio_pci_dev {
	struct pci_device pci;
	struct virtio_pci_state st;
	struct virtqueue vq[VIRTIO_PCI_MAX_QUEUES];
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	uint64_t device_features;
	unsigned nqueues;
	uint16_t queue_max;
	uint32_t cfg_len;
	const struct virtio_dev_ops *ops;
	void *priv;
	bool registered;
};

/* Describe the device (capabilities, BAR, MSI-X). Then virtio_pci_register(). */
int virtio_pci_init(struct virtio_pci_dev *vd, const struct virtio_pci_params *p,
		    const struct guest_mem *mem);
int virtio_pci_register(struct virtio_pci_dev *vd, struct pci_bus *bus);
/* Unregister (if registered) and release; vCPUs stopped. */
void virtio_pci_uninit(struct virtio_pci_dev *vd);

/* Negotiated features (valid once FEATURES_OK is set). Lock held. */
static inline uint64_t virtio_pci_features(const struct virtio_pci_dev *vd)
{
	return vd->st.driver_features;
}

/*
 * After pushing to queue @q: interrupt the driver if the ring says so.
 * @old_used_idx is vq->st.used_idx from before the pushes. Lock held.
 */
void virtio_pci_queue_done(struct virtio_pci_dev *vd, unsigned q, uint16_t old_used_idx);
/* The guest handed garbage: set DEVICE_NEEDS_RESET and notify. Lock held. */
void virtio_pci_needs_reset(struct virtio_pci_dev *vd);

/* virtio/virtio_rng.c */
struct virtio_rng;
int virtio_rng_create(struct pci_bus *bus, const struct guest_mem *mem,
		      struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
