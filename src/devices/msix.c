// SPDX-License-Identifier: MIT
/*
 * MSI-X (see msix.h). Lock order: bus lock -> MSI-X lock -> routing lock.
 * The MSI-X lock guards the table, the PBA and the enable / function mask
 * bits mirrored from Message Control; the device's I/O threads take only
 * it (msix_notify), vCPU threads take it for table / PBA accesses, and the
 * config write path (bus lock held) for Message Control.
 */
#include "devices/msix.h"
#include "core/bytes.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/pci_internal.h"

struct msix_vector {
	int gsi;		/* -1 until connected */
	int efd;		/* eventfd, bound to gsi by KVM_IRQFD */
	bool route_dirty;	/* address/data changed since the last commit */
};

struct msix {
	pthread_mutex_t lock;
	struct msix_state st;
	uint16_t nr;
	uint32_t cap;			/* capability offset in config space */
	unsigned table_bar, pba_bar;
	uint64_t table_off, pba_off;
	bool enabled;			/* Message Control, mirrored */
	bool func_masked;
	struct irq_routing *rt;		/* set by msix_connect */
	struct msix_vector *vec;
};

static uint64_t table_len(const struct msix *m)
{
	return (uint64_t)m->nr * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t pba_len(const struct msix *m)
{
	return ((uint64_t)m->nr + 63) / 64 * 8;
}

/* ---- setup ------------------------------------------------------------ */

static int msix_check(struct pci_device *dev, uint16_t nr, unsigned tbar, uint32_t toff,
		      unsigned pbar, uint32_t poff)
{
	uint64_t tlen = (uint64_t)nr * PCI_MSIX_ENTRY_SIZE, plen = ((uint64_t)nr + 63) / 64 * 8;

	if (dev->msix)
		return -EBUSY;
	if (!nr || nr > MSIX_MAX_VECTORS || (toff | poff) & 7)
		return -EINVAL;
	if (!pci_bar_is_memory(dev, tbar) || !pci_bar_is_memory(dev, pbar))
		return -EINVAL;
	if (toff + tlen > dev->bar[tbar].size || poff + plen > dev->bar[pbar].size)
		return -EINVAL;
	if (tbar == pbar && ranges_overlap(toff, tlen, poff, plen))
		return -EINVAL;
	return 0;
}

static void msix_free(struct msix *m)
{
	if (m->vec)
		for (unsigned i = 0; i < m->nr; i++)
			if (m->vec[i].efd >= 0)
				close(m->vec[i].efd);
	pthread_mutex_destroy(&m->lock);
	free(m->vec);
	free(m);
}

static struct msix *msix_alloc(uint16_t nr)
{
	struct msix *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nr = nr;
	m->vec = calloc(nr, sizeof(*m->vec));
	if (pthread_mutex_init(&m->lock, NULL)) {
		free(m->vec);
		free(m);
		return NULL;
	}
	if (!m->vec) {
		msix_free(m);
		return NULL;
	}
	for (unsigned i = 0; i < nr; i++) {
		m->vec[i].gsi = -1;
		m->vec[i].efd = -1;
	}
	for (unsigned i = 0; i < nr; i++) {
		m->vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->vec[i].efd < 0) {
			msix_free(m);
			return NULL;
		}
		m->st.table[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
	return m;
}

int msix_init(struct pci_device *dev, uint16_t nr_vectors, unsigned table_bar,
	      uint32_t table_off, unsigned pba_bar, uint32_t pba_off)
{
	struct msix *m;
	int ret = msix_check(dev, nr_vectors, table_bar, table_off, pba_bar, pba_off);
	int cap;

	if (ret)
		return ret;
	m = msix_alloc(nr_vectors);
	if (!m)
		return -ENOMEM;
	cap = pci_cap_add(dev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0) {
		msix_free(m);
		return cap;
	}
	m->cap = (uint32_t)cap;
	m->table_bar = table_bar;
	m->table_off = table_off;
	m->pba_bar = pba_bar;
	m->pba_off = pba_off;
	pci_cfg_set(dev, m->cap + PCI_MSIX_FLAGS, 2, nr_vectors - 1u);
	pci_cfg_set_wmask(dev, m->cap + PCI_MSIX_FLAGS, 2,
			  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_cfg_set(dev, m->cap + PCI_MSIX_TABLE, 4, table_off | table_bar);
	pci_cfg_set(dev, m->cap + PCI_MSIX_PBA, 4, pba_off | pba_bar);
	dev->msix = m;
	return cap;
}

int msix_connect(struct pci_device *dev, struct irq_routing *rt)
{
	struct msix *m = dev->msix;
	int ret = 0;

	if (!m)
		return 0;
	if (!rt)
		return -EINVAL;
	for (unsigned i = 0; i < m->nr && !ret; i++) {
		int gsi = irq_routing_alloc_gsi(rt);

		if (gsi < 0) {
			ret = gsi;
			break;
		}
		m->vec[i].gsi = gsi;
		m->vec[i].route_dirty = true;
		ret = irq_routing_irqfd_assign(rt, (uint32_t)gsi, m->vec[i].efd);
	}
	m->rt = rt;
	if (ret)
		msix_disconnect(dev);
	return ret;
}

void msix_disconnect(struct pci_device *dev)
{
	struct msix *m = dev->msix;

	if (!m || !m->rt)
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nr; i++) {
		if (m->vec[i].gsi < 0)
			continue;
		irq_routing_free_gsi(m->rt, (uint32_t)m->vec[i].gsi);	/* drops the irqfd */
		m->vec[i].gsi = -1;
	}
	irq_routing_commit(m->rt);
	m->rt = NULL;
	pthread_mutex_unlock(&m->lock);
}

void pci_device_release(struct pci_device *dev)
{
	if (!dev || !dev->msix)
		return;
	msix_free(dev->msix);
	dev->msix = NULL;
}

/* ---- delivery (MSI-X lock held) ---------------------------------------- */

static bool vector_deliverable(const struct msix *m, unsigned v)
{
	return m->enabled && !m->func_masked &&
	       !(m->st.table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static bool pending(const struct msix *m, unsigned v)
{
	return (m->st.pba[v / 64] >> (v % 64)) & 1;
}

static void set_pending(struct msix *m, unsigned v, bool on)
{
	if (on)
		m->st.pba[v / 64] |= 1ull << (v % 64);
	else
		m->st.pba[v / 64] &= ~(1ull << (v % 64));
}

/* Stage the route of @v if it changed; true if a commit is needed. */
static bool stage_route(struct msix *m, unsigned v)
{
	const struct msix_entry *e = &m->st.table[v];
	int ret;

	if (!m->rt || m->vec[v].gsi < 0 || !m->vec[v].route_dirty)
		return false;
	ret = irq_routing_set_msi(m->rt, (uint32_t)m->vec[v].gsi,
				  (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);
	if (ret)
		return false;
	m->vec[v].route_dirty = false;
	return true;
}

static void commit_routes(struct msix *m)
{
	int ret = irq_routing_commit(m->rt);

	if (ret)
		pr_warn("msi-x: KVM_SET_GSI_ROUTING: %s", strerror(-ret));
}

static void fire(struct msix *m, unsigned v)
{
	uint64_t one = 1;

	if (write(m->vec[v].efd, &one, sizeof(one)) != sizeof(one))
		pr_debug("msi-x: vector %u: eventfd write failed", v);
}

/* After a change that may have made vectors deliverable: routes, then pending. */
static void deliver_pending(struct msix *m, unsigned first, unsigned count)
{
	bool commit = false;

	for (unsigned v = first; v < first + count; v++)
		if (vector_deliverable(m, v))
			commit |= stage_route(m, v);
	if (commit)
		commit_routes(m);
	for (unsigned v = first; v < first + count; v++) {
		if (vector_deliverable(m, v) && pending(m, v)) {
			set_pending(m, v, false);
			fire(m, v);
		}
	}
}

int msix_notify(struct pci_device *dev, uint16_t vector)
{
	struct msix *m = dev ? dev->msix : NULL;
	int ret = 0;

	if (!m || vector >= m->nr)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled) {
		ret = -ENOTCONN;
	} else if (!vector_deliverable(m, vector)) {
		set_pending(m, vector, true);
		ret = 1;
	} else {
		if (stage_route(m, vector))
			commit_routes(m);
		fire(m, vector);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* ---- Message Control (bus lock held) ------------------------------------- */

void msix_cfg_written(struct pci_device *dev, uint32_t offset, uint32_t len)
{
	struct msix *m = dev->msix;
	uint16_t ctrl;

	if (!m || !ranges_overlap(offset, len, m->cap + PCI_MSIX_FLAGS, 2))
		return;
	ctrl = (uint16_t)pci_cfg_get(dev, m->cap + PCI_MSIX_FLAGS, 2);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	m->func_masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	deliver_pending(m, 0, m->nr);
	pthread_mutex_unlock(&m->lock);
}

/* ---- table and PBA (vCPU threads) ------------------------------------------ */

static uint32_t table_read32(struct msix *m, uint64_t off)
{
	const struct msix_entry *e = &m->st.table[off / PCI_MSIX_ENTRY_SIZE];

	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return e->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return e->addr_hi;
	case PCI_MSIX_ENTRY_DATA:
		return e->data;
	default:
		return e->ctrl;
	}
}

static void update_field(uint32_t *field, uint32_t val, bool *dirty)
{
	if (*field != val)
		*dirty = true;
	*field = val;
}

static void table_write32(struct msix *m, uint64_t off, uint32_t val)
{
	unsigned v = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
	struct msix_entry *e = &m->st.table[v];
	bool *dirty = &m->vec[v].route_dirty;

	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		update_field(&e->addr_lo, val & ~3u, dirty);
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		update_field(&e->addr_hi, val, dirty);
		break;
	case PCI_MSIX_ENTRY_DATA:
		update_field(&e->data, val, dirty);
		break;
	default:
		e->ctrl = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		break;
	}
	deliver_pending(m, v, 1);
}

static bool size_ok(uint64_t off, uint32_t len)
{
	return (len == 4 || len == 8) && !(off & (len - 1));
}

/* Which structure [offset, offset + len) of @bar touches: 1 table, 2 PBA, 0 none. */
static int msix_region(const struct msix *m, unsigned bar, uint64_t offset, uint32_t len)
{
	if (bar == m->table_bar && ranges_overlap(offset, len, m->table_off, table_len(m)))
		return 1;
	if (bar == m->pba_bar && ranges_overlap(offset, len, m->pba_off, pba_len(m)))
		return 2;
	return 0;
}

static bool inside(uint64_t off, uint32_t len, uint64_t base, uint64_t size)
{
	return off >= base && off - base <= size && len <= size - (off - base);
}

bool msix_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
		   uint32_t len)
{
	struct msix *m = dev->msix;
	int which = m ? msix_region(m, bar, offset, len) : 0;

	if (!which)
		return false;
	memset(data, 0xff, len);
	pthread_mutex_lock(&m->lock);
	if (which == 1 && size_ok(offset, len) && inside(offset, len, m->table_off, table_len(m))) {
		for (uint32_t i = 0; i < len; i += 4)
			le_put(data + i, table_read32(m, offset - m->table_off + i), 4);
	} else if (which == 2 && size_ok(offset, len) &&
		   inside(offset, len, m->pba_off, pba_len(m))) {
		memcpy(data, (const uint8_t *)m->st.pba + (offset - m->pba_off), len);
	}
	pthread_mutex_unlock(&m->lock);
	return true;
}

bool msix_bar_write(struct pci_device *dev, unsigned bar, uint64_t offset,
		    const uint8_t *data, uint32_t len)
{
	struct msix *m = dev->msix;
	int which = m ? msix_region(m, bar, offset, len) : 0;

	if (!which)
		return false;
	if (which != 1 || !size_ok(offset, len) || !inside(offset, len, m->table_off, table_len(m)))
		return true;	/* PBA is read-only; bad sizes are ignored */
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < len; i += 4)
		table_write32(m, offset - m->table_off + i, (uint32_t)le_get(data + i, 4));
	pthread_mutex_unlock(&m->lock);
	return true;
}

/* ---- inspection ------------------------------------------------------------ */

bool msix_enabled(struct pci_device *dev)
{
	bool on;

	if (!dev || !dev->msix)
		return false;
	pthread_mutex_lock(&dev->msix->lock);
	on = dev->msix->enabled;
	pthread_mutex_unlock(&dev->msix->lock);
	return on;
}

uint16_t msix_nr_vectors(struct pci_device *dev)
{
	return dev && dev->msix ? dev->msix->nr : 0;
}

static bool vector_bit(struct pci_device *dev, uint16_t v, bool want_pending)
{
	struct msix *m = dev ? dev->msix : NULL;
	bool r;

	if (!m || v >= m->nr)
		return false;
	pthread_mutex_lock(&m->lock);
	r = want_pending ? pending(m, v) : (m->st.table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
	pthread_mutex_unlock(&m->lock);
	return r;
}

bool msix_vector_masked(struct pci_device *dev, uint16_t vector)
{
	return vector_bit(dev, vector, false);
}

bool msix_vector_pending(struct pci_device *dev, uint16_t vector)
{
	return vector_bit(dev, vector, true);
}

int msix_vector_gsi(struct pci_device *dev, uint16_t vector)
{
	if (!dev || !dev->msix || vector >= dev->msix->nr)
		return -1;
	return dev->msix->vec[vector].gsi;
}

int msix_vector_eventfd(struct pci_device *dev, uint16_t vector)
{
	if (!dev || !dev->msix || vector >= dev->msix->nr)
		return -1;
	return dev->msix->vec[vector].efd;
}

/* ---- saved state (inside the device's, see pci_state.c) --------------------- */

static unsigned pba_words(uint16_t nr)
{
	return ((unsigned)nr + 63) / 64;
}

/* Bus lock held. The vector count, each entry field by field, the PBA words. */
void msix_state_save(struct pci_device *dev, struct state_writer *w)
{
	struct msix *m = dev->msix;

	pthread_mutex_lock(&m->lock);
	sw_u16(w, m->nr);
	for (unsigned v = 0; v < m->nr; v++) {
		const struct msix_entry *e = &m->st.table[v];

		sw_u32(w, e->addr_lo);
		sw_u32(w, e->addr_hi);
		sw_u32(w, e->data);
		sw_u32(w, e->ctrl);
	}
	for (unsigned i = 0; i < pba_words(m->nr); i++)
		sw_u64(w, m->st.pba[i]);
	pthread_mutex_unlock(&m->lock);
}

/*
 * Every value a guest can put in the table is a valid one (the address is
 * the guest's business, KVM routes it); what the table never holds is
 * refused: address bits 1:0, reserved Vector Control bits, pending bits
 * past the last vector, another table size.
 */
int msix_state_read(struct pci_device *dev, struct state_reader *r, struct msix_state *out)
{
	struct msix *m = dev->msix;
	uint16_t nr = sr_u16(r);
	uint64_t last;

	memset(out, 0, sizeof(*out));
	if (!r->err && nr != m->nr)
		return sr_fail(r, "MSI-X: %u vectors saved, this device has %u", nr, m->nr);
	for (unsigned v = 0; v < nr && !r->err; v++) {
		struct msix_entry *e = &out->table[v];

		e->addr_lo = sr_u32(r);
		e->addr_hi = sr_u32(r);
		e->data = sr_u32(r);
		e->ctrl = sr_u32(r);
		if (r->err)
			break;
		if (e->addr_lo & 3)
			return sr_fail(r, "MSI-X vector %u: message address 0x%08x has bits 1:0 set",
				       v, e->addr_lo);
		if (e->ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT)
			return sr_fail(r, "MSI-X vector %u: reserved vector control bits 0x%x", v,
				       e->ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	for (unsigned i = 0; i < pba_words(nr) && !r->err; i++)
		out->pba[i] = sr_u64(r);
	if (r->err)
		return r->err;
	last = out->pba[pba_words(nr) - 1];
	if (nr % 64 && last >> (nr % 64))
		return sr_fail(r, "MSI-X: pending bits 0x%llx past vector %u",
			       (unsigned long long)(last >> (nr % 64)), nr - 1);
	return 0;
}

/*
 * Bus lock held. Every route is marked changed: the config side effects
 * that follow (msix_cfg_written) then stage and commit the routes of the
 * vectors that can fire, as a guest's write of Message Control does, and
 * the rest are committed when the guest unmasks them.
 */
void msix_state_apply(struct pci_device *dev, const struct msix_state *st)
{
	struct msix *m = dev->msix;

	pthread_mutex_lock(&m->lock);
	memcpy(m->st.table, st->table, sizeof(m->st.table));
	memcpy(m->st.pba, st->pba, sizeof(m->st.pba));
	for (unsigned v = 0; v < m->nr; v++)
		m->vec[v].route_dirty = true;
	pthread_mutex_unlock(&m->lock);
}
