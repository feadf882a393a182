/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_BALLOON_H
#define HUSK_VIRTIO_BALLOON_H

#include "virtio/virtio_transport.h"

/*
 * virtio-balloon (virtio 1.2, 5.5): inflate/deflate queues, the statistics
 * queue and free page reporting; inflated and reported pages go back to
 * the host (memory/guest_mem.h guest_mem_discard). See virtio_balloon.c.
 */
struct virtio_balloon;
struct virtio_transport;
int virtio_balloon_create(const struct virtio_env *env, const struct husk_balloon_config *cfg,
			  struct virtio_balloon **out);
void virtio_balloon_destroy(struct virtio_balloon *b);
struct virtio_dev *virtio_balloon_dev(struct virtio_balloon *b);
struct virtio_transport *virtio_balloon_transport(struct virtio_balloon *b);
void virtio_balloon_pause(struct virtio_balloon *b);
void virtio_balloon_resume(struct virtio_balloon *b);

/* Any thread (the API's): see husk_vm_balloon_*() in husk/husk.h. */
int virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages);
int virtio_balloon_set_stats_interval(struct virtio_balloon *b, uint32_t seconds);
void virtio_balloon_info(struct virtio_balloon *b, struct husk_balloon_info *out);

/* What the device has done (metrics, tests). */
struct virtio_balloon_counts {
	uint64_t inflated_pages;	/* PFNs received on the inflate queue */
	uint64_t deflated_pages;
	uint64_t discarded_bytes;	/* given back to the host (inflate + reporting) */
	uint64_t reported_bytes;	/* free page reporting */
	uint64_t stats_updates;		/* statistics buffers read */
	uint64_t bad_pfns;		/* outside guest RAM: ignored */
};
void virtio_balloon_counts(struct virtio_balloon *b, struct virtio_balloon_counts *out);

/*
 * Saved state: the virtio core, the target and actual page counts, the
 * statistics interval and the last statistics. The statistics buffer the
 * device holds is put back in the guest's avail ring at the pause (it was
 * the last one popped), so a snapshot never holds a chain. Load refuses a
 * target beyond guest RAM or an interval out of range.
 */
#define VIRTIO_BALLOON_STATE_VERSION	1
struct state_reader;
struct state_writer;
int virtio_balloon_save(struct virtio_balloon *b, struct state_writer *w);
int virtio_balloon_load(struct virtio_balloon *b, struct state_reader *r);

#endif
