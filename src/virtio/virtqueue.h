/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTQUEUE_H
#define HUSK_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct state_reader;
struct state_writer;

/*
 * Split virtqueues (virtio 1.2, 2.7): the one ring walker every virtio
 * device and transport uses.
 *
 * The guest is hostile. Everything read from its rings is checked before
 * use: every descriptor's [addr, addr + len) must lie inside one guest RAM
 * region (gpa_to_hva), chains are bounded (a chain may not visit more
 * descriptors than its table holds, which catches loops), indices are
 * range-checked, and each descriptor is read from guest memory exactly once.
 *
 * Error model: virtqueue_pop() returns -errno when the guest handed over
 * garbage. The queue is then marked broken (vq->st.broken); every later pop
 * returns -EIO until virtqueue_reset()/virtqueue_configure(). The device
 * should then set DEVICE_NEEDS_RESET in its status and notify a config
 * change; virtqueue_push() keeps working so requests already in flight may
 * still complete. Errors:
 *   -EFAULT     a descriptor (or indirect table) is not entirely guest RAM
 *   -EINVAL     head/next index >= table size, readable after writable,
 *               INDIRECT with NEXT, INDIRECT inside an indirect table,
 *               INDIRECT without VIRTIO_RING_F_INDIRECT_DESC, indirect
 *               table length 0, not a multiple of 16 or over 32768 entries
 *   -ELOOP      the chain visits more descriptors than its table holds
 *   -EOVERFLOW  avail->idx is more than the queue size ahead of us
 *   -ENOBUFS    more non-empty segments than the caller's chain storage
 *   -EIO        the queue was already broken
 *
 * Decisions:
 * - Zero-length descriptors are legal and skipped: they produce no segment
 *   and their address is never translated, but they still count towards
 *   the chain bound and obey the readable-before-writable rule.
 * - Chain storage is the caller's (struct vq_chain over a struct vq_seg
 *   array, set up once with vq_chain_init()); pop and push allocate nothing.
 *   Size it for what the device accepts (VQ_MAX_SEGS holds any legal chain).
 * - An indirect descriptor may end a direct chain (2.7.5.3.2: "zero or more
 *   normal chained descriptors followed by a single INDIRECT"); its WRITE
 *   flag is ignored. An indirect table may hold up to 32768 entries, more
 *   than the queue size.
 * - Unknown descriptor flag bits are ignored.
 *
 * Threading: one thread pops and pushes a given queue at a time (the
 * device's I/O thread or the event loop). The guest driver runs on other
 * CPUs: avail->idx is read with acquire semantics, used->idx is published
 * with release semantics, and the notification checks use full fences.
 * The guest_mem passed to configure must outlive the queue (ring pointers
 * are translated once and cached).
 */

#define VQ_MAX_SIZE		32768u		/* largest queue size (2^15) */
#define VQ_MAX_INDIRECT		32768u		/* largest indirect table (entries) */
#define VQ_MAX_SEGS		(VQ_MAX_SIZE + VQ_MAX_INDIRECT)

/* Descriptor flags (2.7.5) */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
/* avail->flags (2.7.6) and used->flags (2.7.8) */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

/* Feature bits the queue cares about (negotiated features, bit numbers) */
#ifndef VIRTIO_RING_F_INDIRECT_DESC
#define VIRTIO_RING_F_INDIRECT_DESC	28
#endif
#ifndef VIRTIO_RING_F_EVENT_IDX
#define VIRTIO_RING_F_EVENT_IDX		29
#endif

/* Guest-visible ring layouts (little-endian in guest memory) */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Bytes each ring occupies for @size entries, event-idx fields included. */
#define VQ_DESC_BYTES(size)	(16ull * (size))
#define VQ_AVAIL_BYTES(size)	(6ull + 2ull * (size))	/* flags idx ring[] used_event */
#define VQ_USED_BYTES(size)	(6ull + 8ull * (size))	/* flags idx ring[] avail_event */

/*
 * Everything a transport sets and everything the device must remember to
 * resume the queue: one plain struct, saved and loaded as is by snapshots.
 */
struct virtqueue_state {
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	uint16_t size;			/* power of two, 1..VQ_MAX_SIZE (0: unset) */
	uint16_t last_avail_idx;	/* next avail ring entry to pop */
	uint16_t used_idx;		/* shadow of used->idx (we are its only writer) */
	bool ready;
	bool broken;			/* the guest handed garbage: NEEDS_RESET */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool notify_enabled;		/* device wants guest->device notifications */
};

struct virtqueue {
	struct virtqueue_state st;
	const struct guest_mem *mem;
	/* host views of the rings, translated and bounds-checked once */
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
};

/* One translated, bounds-checked range of guest RAM. */
struct vq_seg {
	uint8_t *hva;
	uint32_t len;			/* never 0 */
	bool writable;			/* device-writable */
};

/*
 * A popped descriptor chain: segs[0 .. nreadable) are device-readable,
 * segs[nreadable .. nsegs) device-writable.
 */
struct vq_chain {
	struct vq_seg *segs;		/* caller's storage */
	uint32_t max_segs;
	uint32_t nsegs;
	uint32_t nreadable;
	uint16_t head;			/* give this back to virtqueue_push() */
	uint64_t readable_len;
	uint64_t writable_len;
};

/* Queue lifecycle */
void virtqueue_init(struct virtqueue *vq);
void virtqueue_reset(struct virtqueue *vq);
/*
 * Validate and enable a queue: @size a power of two <= VQ_MAX_SIZE, desc
 * 16-, avail 2-, used 4-byte aligned, each ring entirely in guest RAM.
 * @features are the negotiated feature bits. Returns 0, -EINVAL (size,
 * alignment) or -EFAULT (not RAM); on error the queue is left reset.
 */
int virtqueue_configure(struct virtqueue *vq, const struct guest_mem *mem, unsigned int size,
			uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
			uint64_t features);
/* Load a saved state (re-validating the rings when it is ready). */
int virtqueue_restore(struct virtqueue *vq, const struct guest_mem *mem,
		      const struct virtqueue_state *st);

/*
 * Saved state (core/statebuf.h). The encoding of one struct virtqueue_state,
 * every field in order; virtqueue_state_read() reads and validates one
 * against @mem without touching any queue: a ready queue must pass exactly
 * the checks of virtqueue_configure() (size a power of two, alignment, each
 * ring inside guest RAM) and have at most size chains in flight
 * (last_avail_idx - used_idx); a queue that is not ready must be in its
 * reset state. virtqueue_restore() of a state it accepted cannot fail.
 * virtqueue_save/load are the same as a whole section (sr_done() included).
 */
#define VIRTQUEUE_STATE_VERSION	1
void virtqueue_state_write(const struct virtqueue_state *st, struct state_writer *w);
int virtqueue_state_read(struct state_reader *r, const struct guest_mem *mem,
			 struct virtqueue_state *st);
int virtqueue_save(struct virtqueue *vq, struct state_writer *w);
int virtqueue_load(struct virtqueue *vq, const struct guest_mem *mem, struct state_reader *r);

/*
 * Pop the next available chain into @chain. Returns 1 with a chain, 0 when
 * the queue is empty or not ready, -errno (see above) when the guest handed
 * garbage; the queue is then broken.
 */
int virtqueue_pop(struct virtqueue *vq, struct vq_chain *chain);
/*
 * The chain at @head, walked and checked as virtqueue_pop() does, without
 * touching the avail ring or the queue's state (a restore re-reads the
 * chains a saved device held). 0, or -errno (the queue is not marked broken).
 */
int virtqueue_chain_at(struct virtqueue *vq, uint16_t head, struct vq_chain *chain);
/*
 * True when avail->idx is ahead of last_avail_idx (acquire read); never on a
 * broken queue (its garbage index must not keep a polling thread busy).
 */
bool virtqueue_has_avail(struct virtqueue *vq);

/*
 * Return a chain: write the used element, then publish used->idx (release).
 * -EINVAL if the queue is not configured or @head >= size.
 */
int virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t written_len);
/* Same for @n elements (n <= size) with one used->idx update. */
int virtqueue_push_batch(struct virtqueue *vq, const struct virtq_used_elem *elems,
			 unsigned int n);

/*
 * Device->driver: after pushing, should the driver be interrupted?
 * @old_used_idx is st.used_idx from before the pushes. With EVENT_IDX this
 * is vq_need_event(used_event, new, old), otherwise !NO_INTERRUPT.
 */
bool virtqueue_should_interrupt(struct virtqueue *vq, uint16_t old_used_idx);

/*
 * Driver->device: ask for (or stop asking for) notifications. With
 * EVENT_IDX, enabling writes avail_event = last_avail_idx (and pops keep it
 * current); disabling just stops updating it. Without EVENT_IDX, it clears
 * or sets VIRTQ_USED_F_NO_NOTIFY.
 */
void virtqueue_set_notify(struct virtqueue *vq, bool enable);
/*
 * Stop the driver's notifications outright, also under EVENT_IDX
 * (avail_event = last_avail_idx - 1, which its additions never cross until
 * notifications are enabled again): for a device thread that polls the ring.
 */
void virtqueue_suppress_notify(struct virtqueue *vq);
/*
 * Enable notifications, then look again: returns true when buffers arrived
 * in between (the guest may have skipped the notify), so the caller must
 * keep popping instead of going to sleep. Typical device loop:
 *
 *	do {
 *		virtqueue_set_notify(vq, false);
 *		while ((r = virtqueue_pop(vq, &chain)) > 0)
 *			handle(&chain);
 *	} while (r == 0 && virtqueue_enable_notify(vq));
 */
bool virtqueue_enable_notify(struct virtqueue *vq);

/* The event-index test (2.7.10): has @new_idx moved past @event since @old? */
static inline bool vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Chain helpers */
void vq_chain_init(struct vq_chain *chain, struct vq_seg *segs, uint32_t max_segs);
static inline uint64_t vq_chain_readable_len(const struct vq_chain *c)
{
	return c->readable_len;
}
static inline uint64_t vq_chain_writable_len(const struct vq_chain *c)
{
	return c->writable_len;
}
/*
 * Copy @len bytes at offset @off of the readable part into @buf / from
 * @buf into the writable part. All or nothing: 0, or -ERANGE when the part
 * is shorter than @off + @len.
 */
int vq_chain_read(const struct vq_chain *chain, uint64_t off, void *buf, size_t len);
int vq_chain_write(const struct vq_chain *chain, uint64_t off, const void *buf, size_t len);

#endif
