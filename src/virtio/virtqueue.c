// SPDX-License-Identifier: MIT
/*
 * Split virtqueue walker (virtio 1.2, 2.7). See virtqueue.h for the rules
 * and the error model.
 */
#include "virtio/virtqueue.h"

#include "core/log.h"
#include "memory/guest_mem.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* Byte offsets inside the rings */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (size_t)(i))
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (size_t)(i))

/* ---- guest memory accessors ------------------------------------------- */

static inline uint16_t *ring16(uint8_t *ring, size_t off)
{
	return (uint16_t *)(void *)(ring + off);
}

static inline uint16_t load16(uint8_t *ring, size_t off)
{
	return le16toh(__atomic_load_n(ring16(ring, off), __ATOMIC_RELAXED));
}

static inline uint16_t load16_acquire(uint8_t *ring, size_t off)
{
	return le16toh(__atomic_load_n(ring16(ring, off), __ATOMIC_ACQUIRE));
}

static inline void store16(uint8_t *ring, size_t off, uint16_t v)
{
	__atomic_store_n(ring16(ring, off), htole16(v), __ATOMIC_RELAXED);
}

static inline void store16_release(uint8_t *ring, size_t off, uint16_t v)
{
	__atomic_store_n(ring16(ring, off), htole16(v), __ATOMIC_RELEASE);
}

static inline void store32(uint8_t *ring, size_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)(ring + off), htole32(v), __ATOMIC_RELAXED);
}

/*
 * Read one descriptor exactly once. The table may be unaligned (indirect
 * tables have no alignment rule), hence memcpy; the compiler barrier stops
 * the compiler from re-reading guest memory in place of the local copy, so
 * the guest cannot change a descriptor between our check and our use.
 */
static void read_desc(const uint8_t *table, uint32_t i, struct virtq_desc *d)
{
	memcpy(d, table + 16 * (size_t)i, sizeof(*d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static size_t used_event_off(const struct virtqueue *vq)
{
	return AVAIL_RING(vq->st.size);
}

static size_t avail_event_off(const struct virtqueue *vq)
{
	return USED_RING(vq->st.size);
}

/*
 * The VMM writes the used ring (and the device-writable buffers): guest
 * RAM changes that KVM's dirty log does not see, so they are marked for
 * Diff snapshots and migration (a no-op unless guest RAM is tracked).
 */
static void used_dirty(const struct virtqueue *vq)
{
	guest_mem_mark_dirty(vq->mem, vq->used, avail_event_off(vq) + 2);
}

/* ---- lifecycle ------------------------------------------------------- */

void virtqueue_init(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->st.notify_enabled = true;
}

void virtqueue_reset(struct virtqueue *vq)
{
	virtqueue_init(vq);
}

static bool is_power_of_two(unsigned int v)
{
	return v && !(v & (v - 1));
}

static int check_geometry(unsigned int size, uint64_t desc, uint64_t avail, uint64_t used)
{
	if (!is_power_of_two(size) || size > VQ_MAX_SIZE)
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	return 0;
}

static int map_rings(struct virtqueue *vq, const struct guest_mem *mem, unsigned int size,
		     uint64_t desc, uint64_t avail, uint64_t used)
{
	vq->desc = gpa_to_hva(mem, desc, VQ_DESC_BYTES(size));
	vq->avail = gpa_to_hva(mem, avail, VQ_AVAIL_BYTES(size));
	vq->used = gpa_to_hva(mem, used, VQ_USED_BYTES(size));
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	return 0;
}

int virtqueue_configure(struct virtqueue *vq, const struct guest_mem *mem, unsigned int size,
			uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	int ret;

	virtqueue_reset(vq);
	ret = check_geometry(size, desc_gpa, avail_gpa, used_gpa);
	if (!ret)
		ret = map_rings(vq, mem, size, desc_gpa, avail_gpa, used_gpa);
	if (ret) {
		virtqueue_reset(vq);
		return ret;
	}
	vq->mem = mem;
	vq->st.size = (uint16_t)size;
	vq->st.desc_gpa = desc_gpa;
	vq->st.avail_gpa = avail_gpa;
	vq->st.used_gpa = used_gpa;
	vq->st.event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->st.indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->st.ready = true;
	return 0;
}

int virtqueue_restore(struct virtqueue *vq, const struct guest_mem *mem,
		      const struct virtqueue_state *st)
{
	uint64_t features = 0;
	int ret;

	if (!st->ready) {
		virtqueue_reset(vq);
		vq->st = *st;
		return 0;
	}
	if (st->event_idx)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (st->indirect)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	ret = virtqueue_configure(vq, mem, st->size, st->desc_gpa, st->avail_gpa, st->used_gpa,
				  features);
	if (ret)
		return ret;
	vq->st.last_avail_idx = st->last_avail_idx;
	vq->st.used_idx = st->used_idx;
	vq->st.broken = st->broken;
	vq->st.notify_enabled = st->notify_enabled;
	return 0;
}

/* ---- chains ---------------------------------------------------------- */

void vq_chain_init(struct vq_chain *chain, struct vq_seg *segs, uint32_t max_segs)
{
	memset(chain, 0, sizeof(*chain));
	chain->segs = segs;
	chain->max_segs = max_segs;
}

static void chain_start(struct vq_chain *chain, uint16_t head)
{
	chain->nsegs = 0;
	chain->nreadable = 0;
	chain->head = head;
	chain->readable_len = 0;
	chain->writable_len = 0;
}

/* State of one chain walk */
struct walk {
	struct virtqueue *vq;
	struct vq_chain *chain;		/* NULL: only mark the writable buffers dirty */
	bool seen_writable;
};

static int add_segment(struct walk *w, const struct virtq_desc *d)
{
	struct vq_chain *c = w->chain;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint8_t *hva;

	if (!writable && w->seen_writable)
		return -EINVAL;		/* 2.7.4.2: readable after writable */
	w->seen_writable |= writable;
	if (!d->len)
		return 0;		/* empty: no segment, address unused */
	hva = gpa_to_hva(w->vq->mem, d->addr, d->len);
	if (!hva)
		return -EFAULT;
	if (!c) {
		if (writable)
			guest_mem_mark_dirty(w->vq->mem, hva, d->len);
		return 0;
	}
	if (c->nsegs >= c->max_segs)
		return -ENOBUFS;
	c->segs[c->nsegs++] = (struct vq_seg){ .hva = hva, .len = d->len, .writable = writable };
	if (writable) {
		guest_mem_mark_dirty(w->vq->mem, hva, d->len);	/* the device will fill it */
		c->writable_len += d->len;
	} else {
		c->nreadable++;
		c->readable_len += d->len;
	}
	return 0;
}

static int walk_table(struct walk *w, const uint8_t *table, uint32_t n, uint32_t first,
		      bool indirect);

static int walk_indirect(struct walk *w, const struct virtq_desc *d)
{
	const uint8_t *table;
	uint32_t n;

	if (!w->vq->st.indirect)
		return -EINVAL;
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return -EINVAL;		/* 2.7.5.3.1: must not set both */
	if (!d->len || d->len % 16)
		return -EINVAL;
	n = d->len / 16;
	if (n > VQ_MAX_INDIRECT)
		return -EINVAL;
	table = gpa_to_hva(w->vq->mem, d->addr, d->len);
	if (!table)
		return -EFAULT;
	return walk_table(w, table, n, 0, true);
}

/*
 * Follow a chain through one descriptor table of @n entries starting at
 * @first. A chain that visits more than @n descriptors must revisit one, so
 * the visit count bounds every walk (loops and over-long chains alike).
 */
static int walk_table(struct walk *w, const uint8_t *table, uint32_t n, uint32_t first,
		      bool indirect)
{
	struct virtq_desc d;
	uint32_t i = first;
	int ret;

	for (uint32_t visited = 0;; visited++) {
		if (i >= n)
			return -EINVAL;
		if (visited >= n)
			return -ELOOP;
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect)
				return -EINVAL;	/* no nested tables */
			return walk_indirect(w, &d);
		}
		ret = add_segment(w, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

/* ---- pop --------------------------------------------------------------- */

static int mark_broken(struct virtqueue *vq, int err, const char *why)
{
	if (!vq->st.broken)
		pr_warn("virtqueue (size %u, desc 0x%llx): %s (%s); queue needs reset",
			vq->st.size, (unsigned long long)vq->st.desc_gpa, why, strerror(-err));
	vq->st.broken = true;
	return err;
}

static const char *pop_error_name(int err)
{
	switch (err) {
	case -EFAULT:	return "descriptor outside guest RAM";
	case -ELOOP:	return "descriptor chain loops or is too long";
	case -ENOBUFS:	return "descriptor chain has too many segments";
	default:	return "malformed descriptor chain";
	}
}

bool virtqueue_has_avail(struct virtqueue *vq)
{
	if (!vq->st.ready || vq->st.broken)
		return false;
	return load16_acquire(vq->avail, AVAIL_IDX) != vq->st.last_avail_idx;
}

int virtqueue_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	struct walk w = { .vq = vq, .chain = chain };
	uint16_t avail_idx, pending, head;
	int ret;

	if (!vq->st.ready)
		return 0;
	if (vq->st.broken)
		return -EIO;
	/* acquire: the ring entry and descriptors are read after the index */
	avail_idx = load16_acquire(vq->avail, AVAIL_IDX);
	pending = (uint16_t)(avail_idx - vq->st.last_avail_idx);
	if (!pending)
		return 0;
	if (pending > vq->st.size)
		return mark_broken(vq, -EOVERFLOW, "avail idx more than a queue size ahead");
	head = load16(vq->avail, AVAIL_RING(vq->st.last_avail_idx & (vq->st.size - 1)));
	if (head >= vq->st.size)
		return mark_broken(vq, -EINVAL, "avail ring head out of range");
	chain_start(chain, head);
	ret = walk_table(&w, vq->desc, vq->st.size, head, false);
	if (ret)
		return mark_broken(vq, ret, pop_error_name(ret));
	vq->st.last_avail_idx++;
	if (vq->st.event_idx && vq->st.notify_enabled) {
		store16(vq->used, avail_event_off(vq), vq->st.last_avail_idx);
		used_dirty(vq);
	}
	return 1;
}

int virtqueue_chain_at(struct virtqueue *vq, uint16_t head, struct vq_chain *chain)
{
	struct walk w = { .vq = vq, .chain = chain };

	if (!vq->st.ready || head >= vq->st.size)
		return -EINVAL;
	chain_start(chain, head);
	return walk_table(&w, vq->desc, vq->st.size, head, false);
}

/* ---- push -------------------------------------------------------------- */

static void write_used_elem(struct virtqueue *vq, uint16_t slot_idx, uint32_t id, uint32_t len)
{
	size_t off = USED_RING(slot_idx & (vq->st.size - 1));

	store32(vq->used, off, id);
	store32(vq->used, off + 4, len);
}

/*
 * Tracking guest RAM (a live migration): the buffers of the chain at @head
 * were marked when popped, but filled since; a pass of the migration may
 * have taken the mark in between, so they are marked again now that they
 * are written. The chain is walked as pop did (bounded; a guest that
 * changed it meanwhile only loses its own data).
 */
static void chain_dirty(struct virtqueue *vq, uint16_t head)
{
	struct walk w = { .vq = vq };

	if (guest_mem_tracking(vq->mem))
		walk_table(&w, vq->desc, vq->st.size, head, false);
}

int virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t written_len)
{
	if (!vq->used || head >= vq->st.size)
		return -EINVAL;
	chain_dirty(vq, head);
	write_used_elem(vq, vq->st.used_idx, head, written_len);
	vq->st.used_idx++;
	/* release: the element is visible before the index that covers it */
	store16_release(vq->used, USED_IDX, vq->st.used_idx);
	used_dirty(vq);
	return 0;
}

int virtqueue_push_batch(struct virtqueue *vq, const struct virtq_used_elem *elems,
			 unsigned int n)
{
	uint16_t idx = vq->st.used_idx;

	if (!vq->used || n > vq->st.size)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if (elems[i].id >= vq->st.size)
			return -EINVAL;
	if (!n)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		chain_dirty(vq, (uint16_t)elems[i].id);
		write_used_elem(vq, idx++, elems[i].id, elems[i].len);
	}
	vq->st.used_idx = idx;
	store16_release(vq->used, USED_IDX, idx);
	used_dirty(vq);
	return 0;
}

/* ---- notification suppression -------------------------------------------- */

bool virtqueue_should_interrupt(struct virtqueue *vq, uint16_t old_used_idx)
{
	uint16_t new_idx = vq->st.used_idx;

	if (!vq->avail || new_idx == old_used_idx)
		return false;
	/* our used->idx store must be visible before we read the driver's wish */
	atomic_thread_fence(memory_order_seq_cst);
	if (vq->st.event_idx)
		return vq_need_event(load16(vq->avail, used_event_off(vq)), new_idx, old_used_idx);
	return !(load16(vq->avail, AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtqueue_set_notify(struct virtqueue *vq, bool enable)
{
	vq->st.notify_enabled = enable;
	if (!vq->used)
		return;
	if (vq->st.event_idx) {
		if (enable)
			store16(vq->used, avail_event_off(vq), vq->st.last_avail_idx);
	} else {
		store16(vq->used, USED_FLAGS, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	}
	used_dirty(vq);
}

void virtqueue_suppress_notify(struct virtqueue *vq)
{
	vq->st.notify_enabled = false;
	if (!vq->used)
		return;
	if (vq->st.event_idx)
		/* one behind: the driver's next additions never cross it */
		store16(vq->used, avail_event_off(vq), (uint16_t)(vq->st.last_avail_idx - 1));
	else
		store16(vq->used, USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
	used_dirty(vq);
}

bool virtqueue_enable_notify(struct virtqueue *vq)
{
	virtqueue_set_notify(vq, true);
	if (!vq->st.ready)
		return false;
	/* the enable must be visible before we look at avail->idx again */
	atomic_thread_fence(memory_order_seq_cst);
	return virtqueue_has_avail(vq);
}

/* ---- chain helpers --------------------------------------------------------- */

/* Find the segment in [i, end) holding byte @*off; make *off relative to it. */
static uint32_t chain_seek(const struct vq_chain *c, uint32_t i, uint32_t end, uint64_t *off)
{
	while (i < end && *off >= c->segs[i].len)
		*off -= c->segs[i++].len;
	return i;
}

static size_t seg_chunk(const struct vq_seg *s, uint64_t off, size_t len)
{
	return s->len - off < len ? (size_t)(s->len - off) : len;
}

static bool range_fits(uint64_t total, uint64_t off, size_t len)
{
	return off <= total && len <= total - off;
}

int vq_chain_read(const struct vq_chain *chain, uint64_t off, void *buf, size_t len)
{
	uint8_t *to = buf;
	uint32_t end = chain->nreadable;
	uint32_t i;

	if (!range_fits(chain->readable_len, off, len))
		return -ERANGE;
	for (i = chain_seek(chain, 0, end, &off); i < end && len; i++, off = 0) {
		size_t n = seg_chunk(&chain->segs[i], off, len);

		memcpy(to, chain->segs[i].hva + off, n);
		to += n;
		len -= n;
	}
	return 0;
}

int vq_chain_write(const struct vq_chain *chain, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *from = buf;
	uint32_t end = chain->nsegs;
	uint32_t i;

	if (!range_fits(chain->writable_len, off, len))
		return -ERANGE;
	for (i = chain_seek(chain, chain->nreadable, end, &off); i < end && len; i++, off = 0) {
		size_t n = seg_chunk(&chain->segs[i], off, len);

		memcpy(chain->segs[i].hva + off, from, n);
		from += n;
		len -= n;
	}
	return 0;
}
