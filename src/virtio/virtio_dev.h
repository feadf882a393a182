/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_DEV_H
#define HUSK_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

struct guest_mem;

/*
 * A virtio device as both transports see it (virtio 1.2, 2 and 3): feature
 * negotiation, the status state machine, the queues' registers, the device
 * config. virtio_pci.c and virtio_mmio.c only decode their registers into
 * the calls below; device models (rng, blk, net) see only this.
 *
 * Notifications: every queue has a kick eventfd. The transport binds it to
 * a KVM ioeventfd on the queue's notify address, so a guest notify wakes
 * the device's I/O thread without any exit to userspace; a notify that did
 * exit (another access width, no ioeventfd) is forwarded to the same
 * eventfd. Device models watch kick_fd[q] from their worker threads
 * (virtio/worker.h) and never run queue work on a vCPU thread.
 *
 * Interrupts: after pushing, a device calls virtio_dev_queue_done() (any
 * thread, no lock); the transport fires the queue's MSI-X vector or sets
 * the interrupt status bit and raises its line.
 *
 * Lifecycle: when the driver sets DRIVER_OK, ops->start() runs (the device
 * starts its workers for the enabled queues, which must then look at their
 * rings at once: buffers may have been posted before). A reset (status 0)
 * or virtio_dev_uninit() calls ops->stop(), which must return only when the
 * workers have stopped touching the queues; then the queues are reset.
 * start/stop/cfg_* run with the transport lock held (on a vCPU thread); the
 * workers never take that lock.
 *
 * The guest is hostile: transports ignore unknown offsets and widths,
 * queue fields for a queue beyond nqueues read 0 and ignore writes, queue
 * sizes must be powers of two no larger than the maximum, and rings that
 * are misaligned or not guest RAM set DEVICE_NEEDS_RESET instead of
 * enabling the queue. A device that meets a malformed chain calls
 * virtio_dev_needs_reset() (any thread).
 */
#define VIRTIO_MAX_QUEUES	64
#define VIRTIO_DEVCFG_MAX	0x1000

struct virtio_dev;

struct virtio_queue_regs {
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
	uint16_t size;
	uint16_t msix_vector;		/* virtio-pci only */
	bool enabled;
};

/* Guest-visible transport state: plain data (snapshots save it as is). */
struct virtio_dev_state {
	uint64_t driver_features;
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t msix_config;		/* virtio-pci only */
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;			/* interrupt status (atomic accesses) */
	uint8_t needs_reset;		/* set by any thread (atomic) */
	struct virtio_queue_regs q[VIRTIO_MAX_QUEUES];
};

struct virtio_dev_ops {
	int (*start)(struct virtio_dev *vd);
	void (*stop)(struct virtio_dev *vd);
	void (*cfg_read)(struct virtio_dev *vd, uint32_t off, uint8_t *data, uint32_t len);
	void (*cfg_write)(struct virtio_dev *vd, uint32_t off, const uint8_t *data, uint32_t len);
};

/* What a transport provides to the core. */
struct virtio_transport_ops {
	void (*notify_queue)(struct virtio_dev *vd, unsigned q);	/* any thread */
	void (*notify_config)(struct virtio_dev *vd);			/* any thread */
	void (*reset)(struct virtio_dev *vd);				/* lock held */
};

struct virtio_dev_params {
	const char *name;
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint64_t features;		/* offered; VIRTIO_F_VERSION_1 is added */
	unsigned nqueues;		/* 1 .. VIRTIO_MAX_QUEUES */
	uint16_t queue_max;		/* power of two <= VQ_MAX_SIZE */
	uint32_t cfg_len;		/* device config bytes, <= VIRTIO_DEVCFG_MAX */
	const struct virtio_dev_ops *ops;
	void *priv;
};

struct virtio_dev {
	const char *name;
	uint16_t device_id;
	struct virtio_dev_state st;
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];
	pthread_mutex_t lock;		/* the transport's register accesses */
	const struct guest_mem *mem;
	uint64_t device_features;
	unsigned nqueues;
	uint16_t queue_max;
	uint32_t cfg_len;
	bool started;
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct virtio_transport_ops *tr;
	void *tr_priv;
};

int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_params *p,
		    const struct guest_mem *mem);
/*
 * Stops the device (ops->stop); then virtio_transport_detach() can unbind
 * the notify ioeventfds while their eventfds are still open, and
 * virtio_dev_uninit() closes them. Destroy in that order.
 */
void virtio_dev_stop(struct virtio_dev *vd);
/* Stops the device (ops->stop) and closes the kick eventfds. */
void virtio_dev_uninit(struct virtio_dev *vd);

/* Negotiated features (valid once FEATURES_OK is set). */
static inline uint64_t virtio_dev_features(const struct virtio_dev *vd)
{
	return vd->st.driver_features;
}

static inline bool virtio_dev_has(const struct virtio_dev *vd, unsigned bit)
{
	return vd->st.driver_features & (1ull << bit);
}

/* After pushing to queue @q: interrupt the driver if the ring says so (returns whether it did). Any thread. */
bool virtio_dev_queue_done(struct virtio_dev *vd, unsigned q, uint16_t old_used_idx);
/* The guest handed garbage: set DEVICE_NEEDS_RESET and notify. Any thread. */
void virtio_dev_needs_reset(struct virtio_dev *vd);
/* The device changed its config: bump the generation and notify. */
void virtio_dev_config_changed(struct virtio_dev *vd);

/* ---- for transports (lock held) ---------------------------------------- */

uint8_t virtio_dev_status(struct virtio_dev *vd);
void virtio_dev_write_status(struct virtio_dev *vd, uint8_t val);
uint32_t virtio_dev_device_features_word(struct virtio_dev *vd);
uint32_t virtio_dev_driver_features_word(struct virtio_dev *vd);
void virtio_dev_set_driver_features_word(struct virtio_dev *vd, uint32_t v);
/* The selected queue's registers, or NULL when queue_select >= nqueues. */
struct virtio_queue_regs *virtio_dev_sel_queue(struct virtio_dev *vd);
/* QueueSize write: a power of two 1..queue_max, while the queue is disabled. */
void virtio_dev_set_queue_size(struct virtio_dev *vd, uint64_t v);
/* QueueEnable/QueueReady write of 1: validate the rings and enable. */
void virtio_dev_enable_queue(struct virtio_dev *vd);
/* A notify that reached userspace: forward it to the queue's kick eventfd. */
void virtio_dev_kick(struct virtio_dev *vd, unsigned q);
/* Is the device live (DRIVER_OK, not NEEDS_RESET)? */
bool virtio_dev_live(struct virtio_dev *vd);
/* Take and clear the interrupt status bits. */
uint8_t virtio_dev_take_isr(struct virtio_dev *vd);
/* Device config access within cfg_len (others read 0 / are ignored). */
void virtio_dev_cfg_read(struct virtio_dev *vd, uint64_t off, uint8_t *data, uint32_t len);
void virtio_dev_cfg_write(struct virtio_dev *vd, uint64_t off, const uint8_t *data,
			  uint32_t len);

/* ---- saved state (core/statebuf.h) ------------------------------------------ */

/*
 * The core's part of a virtio device's section: struct virtio_dev_state
 * field by field, whether the device was started, and every queue's
 * registers and struct virtqueue_state. The device models (blk, net, rng)
 * write it first in their own sections and load it in three steps so that
 * their own fields are validated before anything changes:
 *   virtio_dev_read()   read and validate into @out; @vd untouched
 *   virtio_dev_apply()  reset @vd (stopping it) and install @s, not started
 *   virtio_dev_start_loaded()  start it (ops->start, as at DRIVER_OK) when
 *                       it was started when saved
 * virtio_dev_read() refuses: another queue count, status bits the device
 * never holds, FEATURES_OK with features not offered (or without
 * VERSION_1), DRIVER_OK without FEATURES_OK unless NEEDS_RESET, started
 * without DRIVER_OK and FEATURES_OK, unknown ISR bits, a queue size that is
 * not a power of two up to the maximum, an enabled queue whose virtqueue is
 * not ready or disagrees with its registers or the negotiated ring
 * features, and every virtqueue_state_read() failure (rings outside RAM).
 * The transports keep no guest-visible state of their own beyond this (and
 * the PCI config space and MSI-X table, saved with the PCI function):
 * virtio-mmio's ioeventfds and irqfd are bound at attach, virtio-pci's
 * ioeventfds whenever BAR 0 is mapped.
 */
#define VIRTIO_DEV_STATE_VERSION	1

struct state_reader;
struct state_writer;

struct virtio_dev_saved {
	struct virtio_dev_state st;
	struct virtqueue_state vq[VIRTIO_MAX_QUEUES];
	bool started;
};

int virtio_dev_save(struct virtio_dev *vd, struct state_writer *w);
int virtio_dev_read(struct virtio_dev *vd, struct state_reader *r, struct virtio_dev_saved *out);
void virtio_dev_apply(struct virtio_dev *vd, const struct virtio_dev_saved *s);
void virtio_dev_start_loaded(struct virtio_dev *vd, const struct virtio_dev_saved *s);
/*
 * After every section of a restored VM is loaded: one interrupt per ready
 * queue. A completion pushed while the saved VM was pausing may have had
 * its interrupt still on its way into KVM when the vCPUs' state was read
 * (irqfd injection can be deferred); the driver would then wait forever for
 * a request that is done. A spurious one costs the driver a look at the ring.
 */
void virtio_dev_resignal(struct virtio_dev *vd);
/* All three for a device with no state of its own (sr_done() included). */
int virtio_dev_load(struct virtio_dev *vd, struct state_reader *r);

#define VIRTIO_ISR_QUEUE	0x1
#define VIRTIO_ISR_CONFIG	0x2

#endif
