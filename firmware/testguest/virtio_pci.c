// SPDX-License-Identifier: MIT
/*
 * The modern virtio-pci transport (virtio 1.2 section 4.1): structures found
 * through the vendor capabilities, MSI-X with one table entry per queue
 * (entry q + 1; entry 0 would be the configuration vector, left unused).
 */
#include "virtio.h"

#define CAP_VENDOR	0x09
#define CAP_MSIX	0x11
#define CFG_COMMON	1
#define CFG_NOTIFY	2
#define CFG_ISR		3
#define CFG_DEVICE	4

/* common configuration registers */
#define C_DFSELECT	0x00
#define C_DF		0x04
#define C_GFSELECT	0x08
#define C_GF		0x0c
#define C_MSIX		0x10
#define C_NUMQ		0x12
#define C_STATUS	0x14
#define C_Q_SELECT	0x16
#define C_Q_SIZE	0x18
#define C_Q_MSIX	0x1a
#define C_Q_ENABLE	0x1c
#define C_Q_NOFF	0x1e
#define C_Q_DESC	0x20
#define C_Q_DRIVER	0x28
#define C_Q_DEVICE	0x30

#define R8(b, o)	(*(volatile uint8_t *)((b) + (o)))
#define R16(b, o)	(*(volatile uint16_t *)((b) + (o)))
#define R32(b, o)	(*(volatile uint32_t *)((b) + (o)))

static uint8_t pci_get_status(struct virtio_dev *d)
{
	return R8(d->common, C_STATUS);
}

static void pci_set_status(struct virtio_dev *d, uint8_t s)
{
	R8(d->common, C_STATUS) = s;
}

static uint64_t pci_get_features(struct virtio_dev *d)
{
	uint64_t f;

	R32(d->common, C_DFSELECT) = 0;
	f = R32(d->common, C_DF);
	R32(d->common, C_DFSELECT) = 1;
	return f | (uint64_t)R32(d->common, C_DF) << 32;
}

static void pci_set_features(struct virtio_dev *d, uint64_t f)
{
	R32(d->common, C_GFSELECT) = 0;
	R32(d->common, C_GF) = (uint32_t)f;
	R32(d->common, C_GFSELECT) = 1;
	R32(d->common, C_GF) = f >> 32;
}

static uint32_t pci_config_read(struct virtio_dev *d, uint32_t off, int width)
{
	if (width == 1)
		return R8(d->devcfg, off);
	if (width == 2)
		return R16(d->devcfg, off);
	return R32(d->devcfg, off);
}

static void pci_config_write(struct virtio_dev *d, uint32_t off, uint32_t v,
			     int width)
{
	if (width == 1)
		R8(d->devcfg, off) = v;
	else if (width == 2)
		R16(d->devcfg, off) = v;
	else
		R32(d->devcfg, off) = v;
}

static int pci_num_queues(struct virtio_dev *d)
{
	return R16(d->common, C_NUMQ);
}

static void msix_entry(struct virtio_dev *d, int entry, int vec)
{
	volatile uint32_t *e = d->msix + 4 * entry;

	e[0] = LAPIC_PHYS | lapic_id() << 12;
	e[1] = 0;
	e[2] = vec;
	e[3] = 0;			/* unmasked */
}

static int pci_setup_queue(struct virtio_dev *d, int q, uint16_t *size,
			   uint64_t desc, uint64_t avail, uint64_t used, int vec,
			   char *why)
{
	volatile uint8_t *c = d->common;
	uint16_t max, msix = VQ_NO_VECTOR;

	R16(c, C_Q_SELECT) = q;
	max = R16(c, C_Q_SIZE);
	if (!max) {
		snprintf(why, WHY_LEN, "%s: queue %d does not exist", d->where, q);
		return -1;
	}
	if (*size > max)
		*size = max;
	while (*size & (*size - 1))	/* split rings: a power of 2 */
		*size &= *size - 1;
	R16(c, C_Q_SIZE) = *size;
	if (vec >= 0) {
		if (!d->msix || q + 1 >= d->msix_size) {
			snprintf(why, WHY_LEN, "%s: no MSI-X entry for queue %d", d->where, q);
			return -1;
		}
		msix_entry(d, q + 1, vec);
		msix = q + 1;
	}
	R16(c, C_Q_MSIX) = msix;
	if (R16(c, C_Q_MSIX) != msix) {
		snprintf(why, WHY_LEN, "%s: queue %d refused MSI-X vector %u",
			 d->where, q, msix);
		return -1;
	}
	R32(c, C_Q_DESC) = (uint32_t)desc;
	R32(c, C_Q_DESC + 4) = desc >> 32;
	R32(c, C_Q_DRIVER) = (uint32_t)avail;
	R32(c, C_Q_DRIVER + 4) = avail >> 32;
	R32(c, C_Q_DEVICE) = (uint32_t)used;
	R32(c, C_Q_DEVICE + 4) = used >> 32;
	if (q < VQ_INDEX_MAX)
		d->notify_off[q] = R16(c, C_Q_NOFF);
	R16(c, C_Q_ENABLE) = 1;
	return 0;
}

/*
 * One write to the queue's notify address (a KVM ioeventfd under husk):
 * the offset was read at setup, as Linux does, so a notify costs no
 * common-config accesses (each would exit to the VMM).
 */
static void pci_notify(struct virtio_dev *d, int q)
{
	uint16_t off = q < VQ_INDEX_MAX ? d->notify_off[q] : 0;

	R16(d->notify, (uint32_t)off * d->notify_mul) = q;
}

static int pci_irq_setup(struct virtio_dev *d, int vec, char *why)
{
	uint16_t ctl;

	if (!d->msix_cap && vec < 0)
		return 0;
	if (!d->msix_cap) {
		snprintf(why, WHY_LEN, "%s: no MSI-X capability", d->where);
		return -1;
	}
	ctl = pci_read16(d->bus, d->slot, d->fn, d->msix_cap + 2);
	pci_write16(d->bus, d->slot, d->fn, d->msix_cap + 2, (ctl | 0x8000) & ~0x4000);
	R16(d->common, C_MSIX) = VQ_NO_VECTOR;
	return 0;
}

static const struct virtio_ops pci_ops = {
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.get_features = pci_get_features,
	.set_features = pci_set_features,
	.config_read = pci_config_read,
	.config_write = pci_config_write,
	.num_queues = pci_num_queues,
	.setup_queue = pci_setup_queue,
	.notify = pci_notify,
	.irq_setup = pci_irq_setup,
	.name = "virtio-pci",
};

/* Map [bar + off, + len) of the function's BAR @bar. */
static volatile uint8_t *map_bar_range(struct virtio_dev *d, int bar,
				       uint32_t off, uint32_t len)
{
	struct pci_bar b;

	if (bar > 5 || pci_bar(d->bus, d->slot, d->fn, bar, &b) || b.io ||
	    (uint64_t)off + len > b.size)
		return NULL;
	return map_mmio(b.addr + off, len ? len : 1);
}

static int map_caps(struct virtio_dev *d)
{
	int pos = 0;

	while ((pos = pci_next_cap(d->bus, d->slot, d->fn, pos, CAP_VENDOR))) {
		uint8_t type = pci_read8(d->bus, d->slot, d->fn, pos + 3);
		uint8_t bar = pci_read8(d->bus, d->slot, d->fn, pos + 4);
		uint32_t off = pci_read32(d->bus, d->slot, d->fn, pos + 8);
		uint32_t len = pci_read32(d->bus, d->slot, d->fn, pos + 12);
		volatile uint8_t *p;

		if (type < CFG_COMMON || type > CFG_DEVICE)
			continue;
		p = map_bar_range(d, bar, off, len);
		if (!p)
			return -1;
		if (type == CFG_COMMON && !d->common)
			d->common = p;
		else if (type == CFG_NOTIFY && !d->notify) {
			d->notify = p;
			d->notify_mul = pci_read32(d->bus, d->slot, d->fn, pos + 16);
		} else if (type == CFG_ISR && !d->isr)
			d->isr = p;
		else if (type == CFG_DEVICE && !d->devcfg)
			d->devcfg = p;
	}
	return d->common && d->notify && d->isr ? 0 : -1;
}

static void map_msix(struct virtio_dev *d)
{
	int pos = pci_next_cap(d->bus, d->slot, d->fn, 0, CAP_MSIX);
	uint32_t tbl;

	if (!pos)
		return;
	d->msix_cap = pos;
	d->msix_size = (pci_read16(d->bus, d->slot, d->fn, pos + 2) & 0x7ff) + 1;
	tbl = pci_read32(d->bus, d->slot, d->fn, pos + 4);
	d->msix = (volatile uint32_t *)map_bar_range(d, tbl & 7, tbl & ~7u,
						     d->msix_size * 16);
}

static int probe(int bus, int slot, int fn, struct virtio_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->slot = slot;
	d->fn = fn;
	d->ops = &pci_ops;
	snprintf(d->where, sizeof(d->where), "pci %02x:%02x.%x", bus, slot, fn);
	if (map_caps(d))
		return -1;
	map_msix(d);
	pci_enable_mem(bus, slot, fn);
	return 0;
}

static int is_virtio(int slot, int fn, uint16_t id)
{
	uint32_t vd = pci_read32(0, slot, fn, 0);

	return (vd & 0xffff) == 0x1af4 && (vd >> 16) == 0x1040u + id;
}

static int nr_functions(int slot)
{
	return (pci_read8(0, slot, 0, 0x0e) & 0x80) ? 8 : 1;
}

int virtio_pci_count(uint16_t id)
{
	int slot, fn, n = 0;

	if (!pci_present())
		return 0;
	for (slot = 0; slot < 32; slot++)
		for (fn = 0; fn < nr_functions(slot); fn++)
			n += is_virtio(slot, fn, id);
	return n;
}

int virtio_pci_find(uint16_t id, int nth, struct virtio_dev *d)
{
	int slot, fn;

	if (!pci_present())
		return -1;
	for (slot = 0; slot < 32; slot++) {
		for (fn = 0; fn < nr_functions(slot); fn++) {
			if (!is_virtio(slot, fn, id))
				continue;
			if (nth-- > 0)
				continue;
			if (probe(0, slot, fn, d))
				return -1;
			d->device_id = id;
			return 0;
		}
	}
	return -1;
}
