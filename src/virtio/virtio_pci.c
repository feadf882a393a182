// SPDX-License-Identifier: MIT
/* The virtio 1.2 modern PCI transport: see virtio/virtio_pci.h. */
#include "virtio/virtio_pci.h"
#include "core/bytes.h"
#include "core/log.h"
#include "devices/msix.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct virtio_pci {
	struct pci_device pci;
	struct virtio_dev *vd;
	int vm_fd;
	uint32_t notify_len;		/* ioeventfd length: 0 (any) or 2 */
	uint64_t notify_base;		/* where the ioeventfds are, or PCI_BAR_UNMAPPED */
	bool registered;
};

static uint32_t class_for(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:   return 0x020000;	/* network controller, ethernet */
	case VIRTIO_ID_BLOCK: return 0x018000;	/* mass storage, other */
	default:              return 0xff0000;	/* unclassified */
	}
}

/* ---- interrupts (any thread) --------------------------------------------- */

static void raise_irq(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vp->pci)) {
		if (vector != VIRTIO_MSI_NO_VECTOR && vector < msix_nr_vectors(&vp->pci))
			msix_notify(&vp->pci, vector);
		return;
	}
	__atomic_fetch_or(&vp->vd->st.isr, isr_bit, __ATOMIC_SEQ_CST);
	pci_intx_set(&vp->pci, 1);
}

static void vp_notify_queue(struct virtio_dev *vd, unsigned q)
{
	raise_irq(vd->tr_priv, __atomic_load_n(&vd->st.q[q].msix_vector, __ATOMIC_RELAXED),
		  VIRTIO_ISR_QUEUE);
}

static void vp_notify_config(struct virtio_dev *vd)
{
	raise_irq(vd->tr_priv, __atomic_load_n(&vd->st.msix_config, __ATOMIC_RELAXED),
		  VIRTIO_ISR_CONFIG);
}

static void vp_reset(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->tr_priv;

	pci_intx_set(&vp->pci, 0);
}

static const struct virtio_transport_ops vp_transport = {
	.notify_queue = vp_notify_queue,
	.notify_config = vp_notify_config,
	.reset = vp_reset,
};

/* ---- common configuration ---------------------------------------------------- */

/* A snapshot of the common config as the guest sees it. */
static void common_fill(struct virtio_dev *vd, uint8_t *b)
{
	struct virtio_queue_regs *q = virtio_dev_sel_queue(vd);

	memset(b, 0, VIRTIO_PCI_COMMON_LEN);
	le_put(b + VIRTIO_PCI_COMMON_DFSELECT, vd->st.device_feature_select, 4);
	le_put(b + VIRTIO_PCI_COMMON_DF, virtio_dev_device_features_word(vd), 4);
	le_put(b + VIRTIO_PCI_COMMON_GFSELECT, vd->st.driver_feature_select, 4);
	le_put(b + VIRTIO_PCI_COMMON_GF, virtio_dev_driver_features_word(vd), 4);
	le_put(b + VIRTIO_PCI_COMMON_MSIX, vd->st.msix_config, 2);
	le_put(b + VIRTIO_PCI_COMMON_NUMQ, vd->nqueues, 2);
	b[VIRTIO_PCI_COMMON_STATUS] = virtio_dev_status(vd);
	b[VIRTIO_PCI_COMMON_CFGGENERATION] = __atomic_load_n(&vd->st.config_generation,
							      __ATOMIC_ACQUIRE);
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

static void set_half(uint64_t *field, uint32_t off_in_field, uint64_t v, uint32_t len)
{
	if (len == 8 && off_in_field == 0)
		*field = v;
	else if (len == 4 && off_in_field == 0)
		*field = (*field & ~0xffffffffull) | (uint32_t)v;
	else if (len == 4 && off_in_field == 4)
		*field = (*field & 0xffffffffull) | (uint64_t)(uint32_t)v << 32;
}

/* Writes to the selected queue's ring addresses (only while it is disabled). */
static void queue_addr_write(struct virtio_queue_regs *q, uint64_t off, uint64_t v, uint32_t len)
{
	if (q->enabled)
		return;
	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_Q_AVAILLO)
		set_half(&q->desc, (uint32_t)(off - VIRTIO_PCI_COMMON_Q_DESCLO), v, len);
	else if (off >= VIRTIO_PCI_COMMON_Q_AVAILLO && off < VIRTIO_PCI_COMMON_Q_USEDLO)
		set_half(&q->driver, (uint32_t)(off - VIRTIO_PCI_COMMON_Q_AVAILLO), v, len);
	else if (off >= VIRTIO_PCI_COMMON_Q_USEDLO && off < VIRTIO_PCI_COMMON_LEN)
		set_half(&q->device, (uint32_t)(off - VIRTIO_PCI_COMMON_Q_USEDLO), v, len);
}

static void common_write(struct virtio_dev *vd, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_queue_regs *q = virtio_dev_sel_queue(vd);
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
		if (len == 4)
			virtio_dev_set_driver_features_word(vd, (uint32_t)v);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len == 2)
			__atomic_store_n(&vd->st.msix_config, (uint16_t)v, __ATOMIC_RELAXED);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len == 1)
			virtio_dev_write_status(vd, (uint8_t)v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len == 2)
			vd->st.queue_select = (uint16_t)v;
		return;
	}
	/* The selected queue's registers: ignored for a queue that does not exist. */
	if (!q)
		return;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX && len == 2)
		__atomic_store_n(&q->msix_vector, (uint16_t)v, __ATOMIC_RELAXED);
	else if (off == VIRTIO_PCI_COMMON_Q_ENABLE && len == 2 && v == 1)
		virtio_dev_enable_queue(vd);
	else if (off == VIRTIO_PCI_COMMON_Q_SIZE && len == 2)
		virtio_dev_set_queue_size(vd, v);
	else if (off >= VIRTIO_PCI_COMMON_Q_DESCLO)
		queue_addr_write(q, off, v, len);
}

/* ---- BAR accesses ------------------------------------------------------------ */

static bool in_region(uint64_t off, uint32_t len, uint64_t base, uint64_t size)
{
	return off >= base && off - base < size && len <= size - (off - base);
}

static void vp_bar_read(struct pci_device *dev, unsigned bar, uint64_t off, uint8_t *data,
			uint32_t len)
{
	struct virtio_pci *vp = dev->priv;
	struct virtio_dev *vd = vp->vd;
	uint8_t b[VIRTIO_PCI_COMMON_LEN];

	memset(data, 0, len);
	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vd->lock);
	if (in_region(off, len, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN)) {
		common_fill(vd, b);
		memcpy(data, b + (off - VIRTIO_PCI_COMMON_OFF), len);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		/*
		 * Reading the ISR returns and clears it, and lowers INTx. The
		 * line goes down first: an I/O thread that sets a bit after
		 * that raises the line again, so no interrupt is lost (at
		 * worst the guest sees one with nothing left in the ISR).
		 */
		pci_intx_set(&vp->pci, 0);
		data[0] = virtio_dev_take_isr(vd);
	} else if (in_region(off, len, VIRTIO_PCI_DEVCFG_OFF, vd->cfg_len)) {
		virtio_dev_cfg_read(vd, off - VIRTIO_PCI_DEVCFG_OFF, data, len);
	}
	pthread_mutex_unlock(&vd->lock);
}

static void notify_write(struct virtio_dev *vd, uint64_t off, uint32_t len)
{
	uint64_t rel = off - VIRTIO_PCI_NOTIFY_OFF;

	if (rel % VIRTIO_PCI_NOTIFY_MULT || (len != 2 && len != 4))
		return;
	virtio_dev_kick(vd, (unsigned)(rel / VIRTIO_PCI_NOTIFY_MULT));
}

static void vp_bar_write(struct pci_device *dev, unsigned bar, uint64_t off, const uint8_t *data,
			 uint32_t len)
{
	struct virtio_pci *vp = dev->priv;
	struct virtio_dev *vd = vp->vd;

	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vd->lock);
	if (in_region(off, len, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN))
		common_write(vd, off - VIRTIO_PCI_COMMON_OFF, data, len);
	else if (in_region(off, len, VIRTIO_PCI_NOTIFY_OFF,
			   (uint64_t)vd->nqueues * VIRTIO_PCI_NOTIFY_MULT))
		notify_write(vd, off, len);
	else if (in_region(off, len, VIRTIO_PCI_DEVCFG_OFF, vd->cfg_len))
		virtio_dev_cfg_write(vd, off - VIRTIO_PCI_DEVCFG_OFF, data, len);
	pthread_mutex_unlock(&vd->lock);
}

/* ---- ioeventfds ---------------------------------------------------------------- */

static int notify_ioeventfd(struct virtio_pci *vp, unsigned q, uint64_t base, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = base + VIRTIO_PCI_NOTIFY_OFF + (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT,
		.len = vp->notify_len,
		.fd = vp->vd->kick_fd[q],
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vp->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static void notify_unbind(struct virtio_pci *vp)
{
	if (vp->notify_base == PCI_BAR_UNMAPPED)
		return;
	for (unsigned q = 0; q < vp->vd->nqueues; q++)
		notify_ioeventfd(vp, q, vp->notify_base, false);
	vp->notify_base = PCI_BAR_UNMAPPED;
}

static void notify_bind(struct virtio_pci *vp, uint64_t base)
{
	for (unsigned q = 0; q < vp->vd->nqueues; q++) {
		int ret = notify_ioeventfd(vp, q, base, true);

		if (ret) {
			/* notifies still work, through MMIO exits */
			pr_warn("%s: KVM_IOEVENTFD at 0x%llx: %s", vp->pci.name,
				(unsigned long long)base, strerror(-ret));
			while (q--)
				notify_ioeventfd(vp, q, base, false);
			return;
		}
	}
	vp->notify_base = base;
}

static void vp_bar_mapped(struct pci_device *dev, unsigned bar, uint64_t addr, bool mapped)
{
	struct virtio_pci *vp = dev->priv;

	if (bar != VIRTIO_PCI_BAR || vp->vm_fd < 0)
		return;
	notify_unbind(vp);
	if (mapped)
		notify_bind(vp, addr);
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.bar_mapped = vp_bar_mapped,
};

/* ---- setup ------------------------------------------------------------------- */

static int add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
		   uint8_t cap_len)
{
	int pos = pci_cap_add(&vp->pci, PCI_CAP_ID_VNDR, cap_len);

	if (pos < 0)
		return pos;
	pci_cfg_set(&vp->pci, pos + VIRTIO_PCI_CAP_LEN, 1, cap_len);
	pci_cfg_set(&vp->pci, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1, type);
	pci_cfg_set(&vp->pci, pos + VIRTIO_PCI_CAP_BAR, 1, VIRTIO_PCI_BAR);
	pci_cfg_set(&vp->pci, pos + VIRTIO_PCI_CAP_OFFSET, 4, off);
	pci_cfg_set(&vp->pci, pos + VIRTIO_PCI_CAP_LENGTH, 4, len);
	return pos;
}

static int add_caps(struct virtio_pci *vp)
{
	struct virtio_dev *vd = vp->vd;
	int pos;

	pos = add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
		      VIRTIO_PCI_COMMON_LEN, 16);
	if (pos >= 0)
		pos = add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_ISR_LEN, 16);
	if (pos >= 0 && vd->cfg_len)
		pos = add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG_OFF, vd->cfg_len, 16);
	if (pos >= 0) {
		pos = add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			      vd->nqueues * VIRTIO_PCI_NOTIFY_MULT, 20);
		if (pos >= 0)
			pci_cfg_set(&vp->pci, pos + 16, 4, VIRTIO_PCI_NOTIFY_MULT);
	}
	return pos < 0 ? pos : 0;
}

static int vp_describe(struct virtio_pci *vp)
{
	struct virtio_dev *vd = vp->vd;
	struct pci_device_id id = {
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vd->device_id),
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		.subsys_id = VIRTIO_PCI_SUBSYS_ID,
		.class_code = class_for(vd->device_id),
		.revision = VIRTIO_PCI_REVISION,
		.intx_pin = 1,
	};
	int ret;

	if (vd->cfg_len > VIRTIO_PCI_DEVCFG_MAX || vd->nqueues > 256)
		return -EINVAL;
	pci_device_init(&vp->pci, vd->name, &id, &virtio_pci_ops, vp);
	ret = pci_device_add_bar(&vp->pci, VIRTIO_PCI_BAR, PCI_BAR_MEM64, VIRTIO_PCI_BAR_SIZE,
				 false);
	if (!ret)
		ret = add_caps(vp);
	if (ret)
		return ret;
	ret = msix_init(&vp->pci, (uint16_t)(vd->nqueues + 1), VIRTIO_PCI_BAR,
			VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_PBA_OFF);
	return ret < 0 ? ret : 0;
}

int virtio_pci_attach(struct virtio_dev *vd, struct pci_bus *bus, int vm_fd,
		      struct virtio_pci **out)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	int ret;

	*out = NULL;
	if (!vp)
		return -ENOMEM;
	vp->vd = vd;
	vp->vm_fd = vm_fd;
	vp->notify_base = PCI_BAR_UNMAPPED;
	vp->notify_len = 2;
	if (vm_fd >= 0 && ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0)
		vp->notify_len = 0;
	vd->tr = &vp_transport;
	vd->tr_priv = vp;
	ret = vp_describe(vp);
	if (!ret)
		ret = pci_register_device(bus, &vp->pci);
	if (ret) {
		pci_device_release(&vp->pci);
		vd->tr = NULL;
		free(vp);
		return ret;
	}
	vp->registered = true;
	*out = vp;
	return 0;
}

void virtio_pci_detach(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->registered)
		pci_unregister_device(&vp->pci);	/* unmaps BAR 0: drops the ioeventfds */
	notify_unbind(vp);
	pci_device_release(&vp->pci);
	free(vp);
}

struct pci_device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->pci;
}
