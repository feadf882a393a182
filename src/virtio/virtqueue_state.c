// SPDX-License-Identifier: MIT
/* A virtqueue's saved state: see virtio/virtqueue.h and core/statebuf.h. */
#include "virtio/virtqueue.h"

#include "core/statebuf.h"
#include "memory/guest_mem.h"

#include <errno.h>
#include <string.h>

void virtqueue_state_write(const struct virtqueue_state *st, struct state_writer *w)
{
	sw_u64(w, st->desc_gpa);
	sw_u64(w, st->avail_gpa);
	sw_u64(w, st->used_gpa);
	sw_u16(w, st->size);
	sw_u16(w, st->last_avail_idx);
	sw_u16(w, st->used_idx);
	sw_bool(w, st->ready);
	sw_bool(w, st->broken);
	sw_bool(w, st->event_idx);
	sw_bool(w, st->indirect);
	sw_bool(w, st->notify_enabled);
}

static int check_state(struct state_reader *r, const struct guest_mem *mem,
		       const struct virtqueue_state *st)
{
	struct virtqueue scratch;
	uint16_t inflight = (uint16_t)(st->last_avail_idx - st->used_idx);
	int ret;

	if (!st->ready) {
		/* only virtqueue_init()/reset() make one: everything else is zero */
		if (st->desc_gpa || st->avail_gpa || st->used_gpa || st->size ||
		    st->last_avail_idx || st->used_idx || st->broken || st->event_idx ||
		    st->indirect || !st->notify_enabled)
			return sr_fail(r, "virtqueue: a queue that is not ready has state");
		return 0;
	}
	virtqueue_init(&scratch);
	ret = virtqueue_configure(&scratch, mem, st->size, st->desc_gpa, st->avail_gpa,
				  st->used_gpa, 0);
	if (ret == -EFAULT)
		return sr_fail(r, "virtqueue: rings (desc 0x%llx, avail 0x%llx, used 0x%llx, "
			       "size %u) are not guest RAM",
			       (unsigned long long)st->desc_gpa, (unsigned long long)st->avail_gpa,
			       (unsigned long long)st->used_gpa, st->size);
	if (ret)
		return sr_fail(r, "virtqueue: size %u or ring alignment (desc 0x%llx, avail "
			       "0x%llx, used 0x%llx) invalid", st->size,
			       (unsigned long long)st->desc_gpa, (unsigned long long)st->avail_gpa,
			       (unsigned long long)st->used_gpa);
	if (inflight > st->size)
		return sr_fail(r, "virtqueue: %u chains in flight (avail %u, used %u) on a queue "
			       "of %u", inflight, st->last_avail_idx, st->used_idx, st->size);
	return 0;
}

int virtqueue_state_read(struct state_reader *r, const struct guest_mem *mem,
			 struct virtqueue_state *st)
{
	memset(st, 0, sizeof(*st));
	st->desc_gpa = sr_u64(r);
	st->avail_gpa = sr_u64(r);
	st->used_gpa = sr_u64(r);
	st->size = sr_u16(r);
	st->last_avail_idx = sr_u16(r);
	st->used_idx = sr_u16(r);
	st->ready = sr_bool(r);
	st->broken = sr_bool(r);
	st->event_idx = sr_bool(r);
	st->indirect = sr_bool(r);
	st->notify_enabled = sr_bool(r);
	if (r->err)
		return r->err;
	return check_state(r, mem, st);
}

int virtqueue_save(struct virtqueue *vq, struct state_writer *w)
{
	virtqueue_state_write(&vq->st, w);
	return w->err;
}

int virtqueue_load(struct virtqueue *vq, const struct guest_mem *mem, struct state_reader *r)
{
	struct virtqueue_state st;

	if (virtqueue_state_read(r, mem, &st))
		return r->err;
	if (sr_done(r))
		return r->err;
	/* validated above with the same memory: cannot fail */
	return virtqueue_restore(vq, mem, &st) ? sr_fail(r, "virtqueue: rings not guest RAM") : 0;
}
