/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_BLK_H
#define HUSK_VIRTIO_BLK_H

#include <stdint.h>

#include "block/block.h"
#include "virtio/virtio_transport.h"

/*
 * virtio-blk (virtio 1.2, 5.2) on a raw image: one I/O thread and one
 * block engine (io_uring, or the thread engine) per queue. See
 * virtio_blk.c for the features offered and the request path.
 */
struct virtio_blk;
struct virtio_transport;

/* Per-disk counters (read without locks; each queue thread adds its own). */
struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t read_bytes, write_bytes;
	uint64_t errors;		/* requests answered with IOERR or UNSUPP */
	uint64_t engine_submits;	/* submission syscalls */
	uint64_t engine_sqes;
	uint64_t engine_completions;
	uint64_t interrupts;
	uint64_t polled;		/* batches found by idle polling, not by a notify */
	uint64_t throttled;		/* requests held back by the rate limit */
};

/*
 * Create the device for @cfg on the already opened @img (ownership passes
 * to the device, also on error). @ncpus sets the default queue count.
 */
int virtio_blk_create(const struct virtio_env *env, const struct husk_disk_config *cfg,
		      struct blk_image *img, unsigned ncpus, struct virtio_blk **out,
		      char *err, size_t errlen);
void virtio_blk_destroy(struct virtio_blk *blk);
struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk);
/* Its transport (snapshots save the transport's state apart). */
struct virtio_transport *virtio_blk_transport(struct virtio_blk *blk);
unsigned virtio_blk_queues(const struct virtio_blk *blk);
const char *virtio_blk_engine_name(const struct virtio_blk *blk);
void virtio_blk_stats(const struct virtio_blk *blk, struct virtio_blk_stats *out);
/* VM pause: park the queue threads (in-flight I/O completes first) / release them. */
void virtio_blk_pause(struct virtio_blk *blk);
/*
 * Replication: @hook->write is called on the queue's thread for every
 * write (@iov: its data), write-zeroes and discard (@iov NULL: the range
 * reads back zeros) that succeeded, before the guest sees it complete.
 * NULL: none. Set while the queues run; the hook must outlive its use
 * (set NULL, then pause and resume the VM, before freeing it).
 */
struct blk_write_hook {
	void (*write)(void *ctx, unsigned disk, uint64_t offset, uint64_t len,
		      const struct iovec *iov, unsigned iovcnt);
	void *ctx;
	unsigned disk;
};
void virtio_blk_set_write_hook(struct virtio_blk *blk, const struct blk_write_hook *hook);
/* The image the device serves (its fd and size: replication copies and mirrors it). */
const struct blk_image *virtio_blk_image(const struct virtio_blk *blk);
/* Take (or let go of) the image's lock: a live migration's hand-over (block.h). */
int virtio_blk_lock(struct virtio_blk *blk, bool lock, char *err, size_t errlen);
void virtio_blk_resume(struct virtio_blk *blk);

/*
 * Saved state (core/statebuf.h): the virtio core (virtio_dev_save: status,
 * features, queue registers, every virtqueue's indices), the queue count
 * and the config space. Quiesce: virtio_blk_pause() parks the queue
 * threads and completes every request they had in flight (status written,
 * used element pushed, interrupt sent); a save of a started device that
 * is not paused is refused with -EBUSY, so no request is ever lost in a
 * snapshot. Load (into the device built from the same configuration, its
 * guest memory already restored) also refuses a different disk geometry
 * or feature set and a queue with chains in flight, then restarts the
 * queue threads when the device was running (parked again if the device
 * is paused).
 */
#define VIRTIO_BLK_STATE_VERSION	1
struct state_reader;
struct state_writer;
int virtio_blk_save(struct virtio_blk *blk, struct state_writer *w);
int virtio_blk_load(struct virtio_blk *blk, struct state_reader *r);

/* PATCH /drives/{id}: new limits, at once (the buckets start full). */
void virtio_blk_set_rate_limit(struct virtio_blk *blk, const struct husk_rate_limit *rate);

#endif
