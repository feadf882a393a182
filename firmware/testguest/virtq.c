// SPDX-License-Identifier: MIT
/*
 * Device initialisation (status sequence, feature negotiation, reset) and
 * split virtqueues (virtio 1.2 section 2.7) with and without
 * VIRTIO_F_EVENT_IDX, completed by polling the used ring or by interrupt.
 */
#include "virtio.h"

#define RING_BYTES	(3 * 4096)	/* desc, avail, used for VQ_MAX_SIZE */
#define RESET_US	1000000

static uint8_t *ring_mem[VQ_INDEX_MAX];

void virtio_reset(struct virtio_dev *d)
{
	uint64_t end = deadline_us(RESET_US);

	d->ops->set_status(d, 0);
	while (d->ops->get_status(d) && !deadline_passed(end))
		cpu_relax();
}

/* Reset and interrupts off, at the end of a check. */
void virtio_stop(struct virtio_dev *d)
{
	char scratch[WHY_LEN];

	virtio_reset(d);
	d->ops->irq_setup(d, -1, scratch);
}

/* Reset, ACKNOWLEDGE, DRIVER, negotiate @want (VERSION_1 required), FEATURES_OK. */
int virtio_start(struct virtio_dev *d, uint64_t want, uint64_t *got, char *why)
{
	uint64_t f;

	virtio_reset(d);
	if (d->ops->get_status(d)) {
		snprintf(why, WHY_LEN, "%s: reset did not complete", d->where);
		return -1;
	}
	d->ops->set_status(d, VIRTIO_S_ACK);
	d->ops->set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
	f = d->ops->get_features(d);
	if (!(f & (1ULL << VIRTIO_F_VERSION_1))) {
		snprintf(why, WHY_LEN, "%s: no VIRTIO_F_VERSION_1 (features %#llx)",
			 d->where, (unsigned long long)f);
		return -1;
	}
	f &= want | (1ULL << VIRTIO_F_VERSION_1);
	d->ops->set_features(d, f);
	d->ops->set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	if (!(d->ops->get_status(d) & VIRTIO_S_FEATURES_OK)) {
		snprintf(why, WHY_LEN, "%s: device refused features %#llx",
			 d->where, (unsigned long long)f);
		d->ops->set_status(d, VIRTIO_S_FAILED);
		return -1;
	}
	*got = f;
	return 0;
}

void virtio_driver_ok(struct virtio_dev *d)
{
	d->ops->set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER |
				 VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
}

static volatile uint16_t *used_event(struct virtq *vq)
{
	return &vq->avail[2 + vq->size];
}

static volatile uint16_t *avail_event(struct virtq *vq)
{
	return &vq->used[2 + 4 * vq->size];
}

int virtq_init(struct virtq *vq, struct virtio_dev *d, int index,
	       uint16_t max, int vec, int event_idx, char *why)
{
	uint8_t *mem;
	uint16_t i;

	if (index >= VQ_INDEX_MAX) {
		snprintf(why, WHY_LEN, "queue %d: queue indexes stop at %d", index,
			 VQ_INDEX_MAX - 1);
		return -1;
	}
	if (!ring_mem[index] && !(ring_mem[index] = dma_alloc(RING_BYTES))) {
		snprintf(why, WHY_LEN, "out of memory for queue %d", index);
		return -1;
	}
	mem = ring_mem[index];
	memset(mem, 0, RING_BYTES);
	memset(vq, 0, sizeof(*vq));
	vq->dev = d;
	vq->index = index;
	vq->vec = vec;
	vq->event_idx = event_idx;
	vq->size = max > VQ_MAX_SIZE ? VQ_MAX_SIZE : max;
	vq->desc = (struct vring_desc *)mem;
	vq->avail = (volatile uint16_t *)(mem + 4096);
	vq->used = (volatile uint16_t *)(mem + 8192);
	if (d->ops->setup_queue(d, index, &vq->size, (uintptr_t)vq->desc,
				(uintptr_t)vq->avail, (uintptr_t)vq->used, vec, why))
		return -1;
	if (!vq->size || (vq->size & (vq->size - 1))) {
		snprintf(why, WHY_LEN, "%s: queue %d size %u", d->where, index, vq->size);
		return -1;
	}
	for (i = 0; i < vq->size; i++)
		vq->next[i] = i + 1;
	vq->num_free = vq->size;
	if (vec < 0 && !event_idx)
		vq->avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
	return 0;
}

int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len,
	      int n, int nw)
{
	uint16_t head = vq->free_head, d = head;
	int i;

	if (n < 1 || n > vq->num_free)
		return -1;
	for (i = 0; i < n; i++) {
		struct vring_desc *e = &vq->desc[d];

		e->addr = addr[i];
		e->len = len[i];
		e->flags = (i >= n - nw ? VRING_DESC_F_WRITE : 0) |
			   (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		e->next = i + 1 < n ? vq->next[d] : 0;
		if (i + 1 < n)
			d = vq->next[d];
	}
	vq->free_head = vq->next[d];
	vq->num_free -= n;
	vq->chain_len[head] = n;
	vq->avail[2 + (vq->shadow_avail & (vq->size - 1))] = head;
	vq->shadow_avail++;
	return head;
}

/* Publish what virtq_add queued and notify unless the device said not to. */
void virtq_kick(struct virtq *vq)
{
	uint16_t old = vq->avail[1], new = vq->shadow_avail;
	int need;

	mb();
	vq->avail[1] = new;
	mb();
	if (vq->event_idx) {
		uint16_t ev = *avail_event(vq);

		need = (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		need = !(vq->used[0] & VRING_USED_F_NO_NOTIFY);
	}
	if (need) {
		vq->notifies++;
		vq->dev->ops->notify(vq->dev, vq->index);
	} else {
		vq->kicks_skipped++;
	}
}

static void free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t d = head, n = vq->chain_len[head];

	while (--n)
		d = vq->next[d];
	vq->next[d] = vq->free_head;
	vq->free_head = head;
	vq->num_free += vq->chain_len[head];
	vq->chain_len[head] = 0;
}

int virtq_get(struct virtq *vq, uint32_t *id, uint32_t *len)
{
	volatile uint32_t *e;

	if (vq->used[1] == vq->last_used)
		return 0;
	__asm__ volatile("" ::: "memory");
	e = (volatile uint32_t *)&vq->used[2 + 4 * (vq->last_used & (vq->size - 1))];
	*id = e[0];
	*len = e[1];
	vq->last_used++;
	if (*id >= vq->size || !vq->chain_len[*id]) {
		*id = 0xffffffff;	/* a device bug: reported by the caller */
		return 1;
	}
	free_chain(vq, *id);
	return 1;
}

int virtq_wait(struct virtq *vq, uint32_t *id, uint32_t *len, uint64_t timeout_us)
{
	uint64_t end = deadline_us(timeout_us);

	for (;;) {
		uint64_t seen = vq->vec >= 0 ? irq_count[vq->vec] : 0;

		if (vq->event_idx)
			*used_event(vq) = vq->last_used;
		mb();
		if (virtq_get(vq, id, len))
			return 0;
		if (vq->vec < 0) {
			while (vq->used[1] == vq->last_used)
				if (deadline_passed(end))
					return -1;
			continue;
		}
		while (irq_count[vq->vec] == seen)
			if (deadline_passed(end))
				return -1;
	}
}
