// SPDX-License-Identifier: MIT
/* The virtio 1.2 modern PCI transport: see virtio/virtio_pci.h. */
#include "virtio/virtio_pci.h"
#include "core/bytes.h"
#include "core/log.h"
#include "devices/msix.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <string.h>

#define F_VERSION_1	(1ull << VIRTIO_F_VERSION_1)
#ifndef VIRTIO_PCI_ISR_QUEUE
#define VIRTIO_PCI_ISR_QUEUE	0x1
#endif

/* ---- interrupts ------------------------------------------------------ */

static void raise_irq(struct virtio_pci_dev *vd, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vd->pci)) {
		if (vector != VIRTIO_MSI_NO_VECTOR && vector < msix_nr_vectors(&vd->pci))
			msix_notify(&vd->pci, vector);
		return;
	}
	vd->st.isr |= isr_bit;
	pci_intx_set(&vd->pci, 1);
}

void virtio_pci_queue_done(struct virtio_pci_dev *vd, unsigned q, uint16_t old_used_idx)
{
	if (q >= vd->nqueues || !virtqueue_should_interrupt(&vd->vq[q], old_used_idx))
		return;
	raise_irq(vd, vd->st.q[q].msix_vector, VIRTIO_PCI_ISR_QUEUE);
}

void virtio_pci_needs_reset(struct virtio_pci_dev *vd)
{
	if (vd->st.status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	vd->st.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vd->st.config_generation++;
	if (vd->st.status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(vd, vd->st.msix_config, VIRTIO_PCI_ISR_CONFIG);
}

/* ---- common configuration -------------------------------------------- */

static void device_reset(struct virtio_pci_dev *vd)
{
	memset(&vd->st, 0, sizeof(vd->st));
	vd->st.msix_config = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		vd->st.q[i].msix_vector = VIRTIO_MSI_NO_VECTOR;
		vd->st.q[i].size = i < vd->nqueues ? vd->queue_max : 0;
		virtqueue_reset(&vd->vq[i]);
	}
	pci_intx_set(&vd->pci, 0);
	if (vd->ops->reset)
		vd->ops->reset(vd);
}

static struct virtio_pci_queue_state *sel_queue(struct virtio_pci_dev *vd)
{
	return vd->st.queue_select < vd->nqueues ? &vd->st.q[vd->st.queue_select] : NULL;
}

/* A snapshot of the common config as the guest sees it. */
static void common_fill(struct virtio_pci_dev *vd, uint8_t *b)
{
	struct virtio_pci_queue_state *q = sel_queue(vd);
	uint32_t dsel = vd->st.device_feature_select;
	uint32_t gsel = vd->st.driver_feature_select;

	memset(b, 0, VIRTIO_PCI_COMMON_LEN);
	le_put(b + VIRTIO_PCI_COMMON_DFSELECT, dsel, 4);
	le_put(b + VIRTIO_PCI_COMMON_DF, dsel < 2 ? vd->device_features >> (32 * dsel) : 0, 4);
	le_put(b + VIRTIO_PCI_COMMON_GFSELECT, gsel, 4);
	le_put(b + VIRTIO_PCI_COMMON_GF, gsel < 2 ? vd->st.driver_features >> (32 * gsel) : 0, 4);
	le_put(b + VIRTIO_PCI_COMMON_MSIX, vd->st.msix_config, 2);
	le_put(b + VIRTIO_PCI_COMMON_NUMQ, vd->nqueues, 2);
	b[VIRTIO_PCI_COMMON_STATUS] = vd->st.status;
	b[VIRTIO_PCI_COMMON_CFGGENERATION] = vd->st.config_generation;
	le_put(b + VIRTIO_PCI_COMMON_Q_SELECT, vd->st.queue_select, 2);
	if (!q)
		return;
	le_put(b + VIRTIO_PCI_COMMON_Q_SIZE, q->size, 2);
	le_put(b + VIRTIO_PCI_COMMON_Q_MSIX, q->msix_vector, 2);
	le_put(b + VIRTIO_PCI_COMMON_Q_ENABLE, q->enabled, 2);
	le_put(b + VIRTIO_PCI_COMMON_Q_NOFF, vd->st.queue_select, 2);
	le_put(b + VIRTIO_PCI_COMMON_Q_DESCLO, q->desc, 8);
	le_put(b + VIRTIO_PCI_COMMON_Q_AVAILLO, q->driver, 8);
	le_put(b + VIRTIO_PCI_COMMON_Q_USEDLO, q->device, 8);
}

static void kick_all(struct virtio_pci_dev *vd)
{
	for (unsigned i = 0; i < vd->nqueues; i++)
		if (vd->st.q[i].enabled && vd->ops->queue_notify)
			vd->ops->queue_notify(vd, i);
}

static void write_status(struct virtio_pci_dev *vd, uint8_t val)
{
	uint8_t old = vd->st.status;

	if (val == 0) {
		device_reset(vd);
		return;
	}
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		uint64_t f = vd->st.driver_features;

		/* Refuse features we did not offer, and legacy drivers. */
		if ((f & ~vd->device_features) || !(f & F_VERSION_1))
			val &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	/* The driver cannot clear bits (but reset), nor set NEEDS_RESET. */
	val = (uint8_t)((val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | old);
	vd->st.status = val;
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK))
		kick_all(vd);	/* buffers may have been posted before DRIVER_OK */
}

static void queue_enable(struct virtio_pci_dev *vd, unsigned qi)
{
	struct virtio_pci_queue_state *q = &vd->st.q[qi];
	int ret;

	if (q->enabled)
		return;
	ret = virtqueue_configure(&vd->vq[qi], vd->mem, q->size, q->desc, q->driver, q->device,
				  vd->st.driver_features);
	if (ret) {
		pr_debug("%s: queue %u: bad rings (%s)", vd->pci.name, qi, strerror(-ret));
		virtio_pci_needs_reset(vd);
		return;
	}
	q->enabled = true;
}

static void set_half(uint64_t *field, uint32_t off_in_field, uint64_t v, uint32_t len)
{
	if (len == 8 && off_in_field == 0) {
		*field = v;
	} else if (len == 4 && off_in_field == 0) {
		*field = (*field & ~0xffffffffull) | (uint32_t)v;
	} else if (len == 4 && off_in_field == 4) {
		*field = (*field & 0xffffffffull) | (uint64_t)(uint32_t)v << 32;
	}
}

static void common_write(struct virtio_pci_dev *vd, uint64_t off, const uint8_t *data,
			 uint32_t len)
{
	struct virtio_pci_queue_state *q = sel_queue(vd);
	uint64_t v = le_get(data, len);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (len == 4)
			vd->st.device_feature_select = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (len == 4)
			vd->st.driver_feature_select = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (len != 4 || vd->st.driver_feature_select >= 2 ||
		    (vd->st.status & VIRTIO_CONFIG_S_FEATURES_OK))
			return;
		{
			unsigned sh = 32 * vd->st.driver_feature_select;

			vd->st.driver_features &= ~(0xffffffffull << sh);
			vd->st.driver_features |= v << sh;
		}
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len == 2)
			vd->st.msix_config = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len == 1)
			write_status(vd, (uint8_t)v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len == 2)
			vd->st.queue_select = (uint16_t)v;
		return;
	}
	/* The selected queue's registers: ignored for a queue that does not exist. */
	if (!q)
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (len == 2)
			q->msix_vector = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (len == 2 && v == 1)
			queue_enable(vd, vd->st.queue_select);
		return;
	}
	if (q->enabled)
		return;		/* the rings and size are fixed while enabled */
	if (off == VIRTIO_PCI_COMMON_Q_SIZE) {
		/* A power of two, 1 .. the device's maximum; anything else is refused. */
		if (len == 2 && v && v <= vd->queue_max && !(v & (v - 1)))
			q->size = (uint16_t)v;
		return;
	}
	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_Q_AVAILLO)
		set_half(&q->desc, (uint32_t)(off - VIRTIO_PCI_COMMON_Q_DESCLO), v, len);
	else if (off >= VIRTIO_PCI_COMMON_Q_AVAILLO && off < VIRTIO_PCI_COMMON_Q_USEDLO)
		set_half(&q->driver, (uint32_t)(off - VIRTIO_PCI_COMMON_Q_AVAILLO), v, len);
	else if (off >= VIRTIO_PCI_COMMON_Q_USEDLO && off < VIRTIO_PCI_COMMON_LEN)
		set_half(&q->device, (uint32_t)(off - VIRTIO_PCI_COMMON_Q_USEDLO), v, len);
}

/* ---- BAR accesses ------------------------------------------------------ */

static bool in_region(uint64_t off, uint32_t len, uint64_t base, uint64_t size)
{
	return off >= base && off - base < size && len <= size - (off - base);
}

static void vp_bar_read(struct pci_device *dev, unsigned bar, uint64_t off, uint8_t *data,
			uint32_t len)
{
	struct virtio_pci_dev *vd = dev->priv;
	uint8_t b[VIRTIO_PCI_COMMON_LEN];

	memset(data, 0, len);
	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vd->lock);
	if (in_region(off, len, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN)) {
		common_fill(vd, b);
		memcpy(data, b + (off - VIRTIO_PCI_COMMON_OFF), len);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		/* Reading the ISR returns and clears it, and lowers INTx. */
		data[0] = vd->st.isr;
		vd->st.isr = 0;
		pci_intx_set(&vd->pci, 0);
	} else if (in_region(off, len, VIRTIO_PCI_DEVCFG_OFF, vd->cfg_len)) {
		if (vd->ops->cfg_read)
			vd->ops->cfg_read(vd, (uint32_t)(off - VIRTIO_PCI_DEVCFG_OFF), data, len);
	}
	pthread_mutex_unlock(&vd->lock);
}

static void notify_write(struct virtio_pci_dev *vd, uint64_t off, uint32_t len)
{
	uint64_t rel = off - VIRTIO_PCI_NOTIFY_OFF;
	unsigned q;

	if (rel % VIRTIO_PCI_NOTIFY_MULT || (len != 2 && len != 4))
		return;
	q = (unsigned)(rel / VIRTIO_PCI_NOTIFY_MULT);
	if (q >= vd->nqueues || !vd->st.q[q].enabled ||
	    !(vd->st.status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (vd->st.status & VIRTIO_CONFIG_S_NEEDS_RESET))
		return;		/* a queue that does not exist or is not live: ignored */
	if (vd->ops->queue_notify)
		vd->ops->queue_notify(vd, q);
}

static void vp_bar_write(struct pci_device *dev, unsigned bar, uint64_t off, const uint8_t *data,
			 uint32_t len)
{
	struct virtio_pci_dev *vd = dev->priv;

	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vd->lock);
	if (in_region(off, len, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN))
		common_write(vd, off - VIRTIO_PCI_COMMON_OFF, data, len);
	else if (in_region(off, len, VIRTIO_PCI_NOTIFY_OFF,
			   (uint64_t)vd->nqueues * VIRTIO_PCI_NOTIFY_MULT))
		notify_write(vd, off, len);
	else if (in_region(off, len, VIRTIO_PCI_DEVCFG_OFF, vd->cfg_len) && vd->ops->cfg_write)
		vd->ops->cfg_write(vd, (uint32_t)(off - VIRTIO_PCI_DEVCFG_OFF), data, len);
	pthread_mutex_unlock(&vd->lock);
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
};

/* ---- setup --------------------------------------------------------------- */

static int add_cap(struct virtio_pci_dev *vd, uint8_t type, uint32_t off, uint32_t len,
		   uint8_t cap_len)
{
	int pos = pci_cap_add(&vd->pci, PCI_CAP_ID_VNDR, cap_len);

	if (pos < 0)
		return pos;
	pci_cfg_set(&vd->pci, pos + VIRTIO_PCI_CAP_LEN, 1, cap_len);
	pci_cfg_set(&vd->pci, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1, type);
	pci_cfg_set(&vd->pci, pos + VIRTIO_PCI_CAP_BAR, 1, VIRTIO_PCI_BAR);
	pci_cfg_set(&vd->pci, pos + VIRTIO_PCI_CAP_OFFSET, 4, off);
	pci_cfg_set(&vd->pci, pos + VIRTIO_PCI_CAP_LENGTH, 4, len);
	return pos;
}

int virtio_pci_init(struct virtio_pci_dev *vd, const struct virtio_pci_params *p,
		    const struct guest_mem *mem)
{
	struct pci_device_id id = {
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + p->device_id),
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		.subsys_id = VIRTIO_PCI_SUBSYS_ID,
		.class_code = p->class_code,
		.revision = VIRTIO_PCI_REVISION,
		.intx_pin = 1,
	};
	int ret, pos;

	if (!p->ops || !p->nqueues || p->nqueues > VIRTIO_PCI_MAX_QUEUES || !p->queue_max ||
	    p->queue_max > VQ_MAX_SIZE || (p->queue_max & (p->queue_max - 1)) ||
	    p->cfg_len > VIRTIO_PCI_DEVCFG_MAX)
		return -EINVAL;
	memset(vd, 0, sizeof(*vd));
	vd->mem = mem;
	vd->device_features = p->features | F_VERSION_1;
	vd->nqueues = p->nqueues;
	vd->queue_max = p->queue_max;
	vd->cfg_len = p->cfg_len;
	vd->ops = p->ops;
	vd->priv = p->priv;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		virtqueue_init(&vd->vq[i]);
	pci_device_init(&vd->pci, p->name, &id, &virtio_pci_ops, vd);
	ret = pci_device_add_bar(&vd->pci, VIRTIO_PCI_BAR, PCI_BAR_MEM64, VIRTIO_PCI_BAR_SIZE,
				 false);
	if (ret)
		return ret;
	pos = add_cap(vd, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
		      VIRTIO_PCI_COMMON_LEN, 16);
	if (pos >= 0)
		pos = add_cap(vd, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_ISR_LEN, 16);
	if (pos >= 0 && vd->cfg_len)
		pos = add_cap(vd, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG_OFF, vd->cfg_len,
			      16);
	if (pos >= 0) {
		pos = add_cap(vd, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			      vd->nqueues * VIRTIO_PCI_NOTIFY_MULT, 20);
		if (pos >= 0)
			pci_cfg_set(&vd->pci, pos + 16, 4, VIRTIO_PCI_NOTIFY_MULT);
	}
	if (pos < 0)
		return pos;
	ret = msix_init(&vd->pci, (uint16_t)(vd->nqueues + 1), VIRTIO_PCI_BAR,
			VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_PBA_OFF);
	if (ret < 0) {
		pci_device_release(&vd->pci);
		return ret;
	}
	pthread_mutex_init(&vd->lock, NULL);
	device_reset(vd);
	return 0;
}

int virtio_pci_register(struct virtio_pci_dev *vd, struct pci_bus *bus)
{
	int ret = pci_register_device(bus, &vd->pci);

	vd->registered = !ret;
	return ret;
}

void virtio_pci_uninit(struct virtio_pci_dev *vd)
{
	if (vd->registered)
		pci_unregister_device(&vd->pci);
	vd->registered = false;
	pci_device_release(&vd->pci);
	pthread_mutex_destroy(&vd->lock);
}
