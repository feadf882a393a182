// SPDX-License-Identifier: MIT
/* The virtio device core's saved state: see virtio/virtio_dev.h. */
#include "virtio/virtio_dev.h"

#include "core/statebuf.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <string.h>

#define STATUS_BITS	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK | \
			 VIRTIO_CONFIG_S_FAILED)
#define ISR_BITS	(VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG)

int virtio_dev_save(struct virtio_dev *vd, struct state_writer *w)
{
	const struct virtio_dev_state *st = &vd->st;

	pthread_mutex_lock(&vd->lock);
	sw_u32(w, vd->nqueues);
	sw_u64(w, st->driver_features);
	sw_u32(w, st->device_feature_select);
	sw_u32(w, st->driver_feature_select);
	sw_u16(w, __atomic_load_n(&st->msix_config, __ATOMIC_RELAXED));
	sw_u16(w, st->queue_select);
	sw_u8(w, __atomic_load_n(&st->status, __ATOMIC_ACQUIRE));
	sw_u8(w, __atomic_load_n(&st->config_generation, __ATOMIC_ACQUIRE));
	sw_u8(w, __atomic_load_n(&st->isr, __ATOMIC_ACQUIRE));
	sw_bool(w, __atomic_load_n(&st->needs_reset, __ATOMIC_ACQUIRE));
	sw_bool(w, vd->started);
	for (unsigned i = 0; i < vd->nqueues; i++) {
		const struct virtio_queue_regs *q = &st->q[i];

		sw_u64(w, q->desc);
		sw_u64(w, q->driver);
		sw_u64(w, q->device);
		sw_u16(w, q->size);
		sw_u16(w, __atomic_load_n(&q->msix_vector, __ATOMIC_RELAXED));
		sw_bool(w, q->enabled);
		virtqueue_state_write(&vd->vq[i].st, w);
	}
	pthread_mutex_unlock(&vd->lock);
	return w->err;
}

static int check_queue(struct virtio_dev *vd, struct state_reader *r, unsigned i,
		       const struct virtio_dev_saved *s)
{
	const struct virtio_queue_regs *q = &s->st.q[i];
	const struct virtqueue_state *vs = &s->vq[i];
	uint64_t f = s->st.driver_features;

	if (!q->size || q->size > vd->queue_max || (q->size & (q->size - 1)))
		return sr_fail(r, "%s: queue %u: size %u (a power of two up to %u)", vd->name, i,
			       q->size, vd->queue_max);
	if (q->enabled != vs->ready)
		return sr_fail(r, "%s: queue %u: enabled %u but its ring %s", vd->name, i,
			       q->enabled, vs->ready ? "is ready" : "is not");
	if (!q->enabled)
		return 0;
	if (vs->size != q->size || vs->desc_gpa != q->desc || vs->avail_gpa != q->driver ||
	    vs->used_gpa != q->device)
		return sr_fail(r, "%s: queue %u: ring state disagrees with its registers",
			       vd->name, i);
	if (vs->event_idx != !!(f & (1ull << VIRTIO_RING_F_EVENT_IDX)) ||
	    vs->indirect != !!(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC)))
		return sr_fail(r, "%s: queue %u: ring features disagree with the negotiated ones",
			       vd->name, i);
	return 0;
}

static int check_status(struct virtio_dev *vd, struct state_reader *r,
			const struct virtio_dev_saved *s)
{
	uint8_t st = s->st.status;
	uint64_t f = s->st.driver_features;

	if (st & ~STATUS_BITS)
		return sr_fail(r, "%s: status 0x%x", vd->name, st);
	if ((st & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((f & ~vd->device_features) || !(f & (1ull << VIRTIO_F_VERSION_1))))
		return sr_fail(r, "%s: features 0x%llx accepted, 0x%llx offered", vd->name,
			       (unsigned long long)f, (unsigned long long)vd->device_features);
	if ((st & VIRTIO_CONFIG_S_DRIVER_OK) && !(st & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !s->st.needs_reset)
		return sr_fail(r, "%s: DRIVER_OK without FEATURES_OK", vd->name);
	if (s->started && (st & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK)) !=
			  (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK))
		return sr_fail(r, "%s: started with status 0x%x", vd->name, st);
	if (s->st.isr & ~ISR_BITS)
		return sr_fail(r, "%s: interrupt status 0x%x", vd->name, s->st.isr);
	return 0;
}

int virtio_dev_read(struct virtio_dev *vd, struct state_reader *r, struct virtio_dev_saved *s)
{
	struct virtio_dev_state *st = &s->st;
	uint32_t nqueues;

	memset(s, 0, sizeof(*s));
	nqueues = sr_u32(r);
	if (!r->err && nqueues != vd->nqueues)
		return sr_fail(r, "%s: %u queues saved, the device has %u", vd->name, nqueues,
			       vd->nqueues);
	st->driver_features = sr_u64(r);
	st->device_feature_select = sr_u32(r);
	st->driver_feature_select = sr_u32(r);
	st->msix_config = sr_u16(r);
	st->queue_select = sr_u16(r);
	st->status = sr_u8(r);
	st->config_generation = sr_u8(r);
	st->isr = sr_u8(r);
	st->needs_reset = sr_bool(r);
	s->started = sr_bool(r);
	if (r->err || check_status(vd, r, s))
		return r->err;
	/* the queues past nqueues stay as reset leaves them */
	for (unsigned i = nqueues; i < VIRTIO_MAX_QUEUES; i++) {
		st->q[i].msix_vector = 0xffff;		/* VIRTIO_MSI_NO_VECTOR */
		s->vq[i].notify_enabled = true;		/* virtqueue_init() */
	}
	for (unsigned i = 0; i < nqueues; i++) {
		struct virtio_queue_regs *q = &st->q[i];

		q->desc = sr_u64(r);
		q->driver = sr_u64(r);
		q->device = sr_u64(r);
		q->size = sr_u16(r);
		q->msix_vector = sr_u16(r);
		q->enabled = sr_bool(r);
		if (r->err || virtqueue_state_read(r, vd->mem, &s->vq[i]) ||
		    check_queue(vd, r, i, s))
			return r->err;
	}
	return 0;
}

int virtio_dev_load(struct virtio_dev *vd, struct state_reader *r)
{
	struct virtio_dev_saved s;

	if (virtio_dev_read(vd, r, &s) || sr_done(r))
		return r->err;
	virtio_dev_apply(vd, &s);
	virtio_dev_start_loaded(vd, &s);
	return 0;
}
