// SPDX-License-Identifier: MIT
/* The virtio-mmio v2 transport: see virtio/virtio_mmio.h. */
#include "virtio/virtio_mmio.h"
#include "core/bytes.h"
#include "core/log.h"
#include "virtio/worker.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MMIO_MAGIC		0x74726976	/* "virt" */
#define MMIO_VERSION		2

/* ISA lines no other husk device uses (4 COM1, 9 GED, 8 RTC, 1/12 i8042, 0/2 timer). */
const uint8_t virtio_mmio_gsis[VIRTIO_MMIO_MAX_DEVICES] = { 5, 6, 7, 10, 11, 13, 14, 15 };

struct virtio_mmio {
	struct virtio_dev *vd;
	struct virtio_mmio_bus *bus;
	uint64_t base;
	uint32_t gsi;
	int irqfd;
	unsigned nbound;		/* queues with an ioeventfd */
	bool registered;
	bool irqfd_bound;
};

int virtio_mmio_cmdline(unsigned ndevices, char *buf, size_t len)
{
	size_t used = strnlen(buf, len);

	if (ndevices > VIRTIO_MMIO_MAX_DEVICES)
		return -E2BIG;
	for (unsigned i = 0; i < ndevices; i++) {
		int n = snprintf(buf + used, len - used, "%svirtio_mmio.device=4K@0x%llx:%u",
				 used ? " " : "",
				 (unsigned long long)(VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE),
				 virtio_mmio_gsis[i]);

		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

/* ---- interrupts (any thread) ------------------------------------------------- */

static void vm_raise(struct virtio_dev *vd, uint8_t bit)
{
	struct virtio_mmio *m = vd->tr_priv;

	__atomic_fetch_or(&vd->st.isr, bit, __ATOMIC_SEQ_CST);
	eventfd_kick(m->irqfd);		/* an edge on the GSI */
}

static void vm_notify_queue(struct virtio_dev *vd, unsigned q)
{
	(void)q;
	vm_raise(vd, VIRTIO_ISR_QUEUE);
}

static void vm_notify_config(struct virtio_dev *vd)
{
	vm_raise(vd, VIRTIO_ISR_CONFIG);
}

static const struct virtio_transport_ops mmio_transport = {
	.notify_queue = vm_notify_queue,
	.notify_config = vm_notify_config,
};

/* ---- registers ------------------------------------------------------------------ */

static uint32_t queue_reg_read(struct virtio_dev *vd, uint64_t off)
{
	struct virtio_queue_regs *q = virtio_dev_sel_queue(vd);

	if (!q)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:		return vd->queue_max;
	case VIRTIO_MMIO_QUEUE_READY:		return q->enabled;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:	return (uint32_t)q->desc;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:	return (uint32_t)(q->desc >> 32);
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:	return (uint32_t)q->driver;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:	return (uint32_t)(q->driver >> 32);
	case VIRTIO_MMIO_QUEUE_USED_LOW:	return (uint32_t)q->device;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:	return (uint32_t)(q->device >> 32);
	}
	return 0;
}

static uint32_t reg_read(struct virtio_mmio *m, uint64_t off)
{
	struct virtio_dev *vd = m->vd;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:		return vd->device_id;
	case VIRTIO_MMIO_VENDOR_ID:		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:	return virtio_dev_device_features_word(vd);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vd->st.isr, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_STATUS:		return virtio_dev_status(vd);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&vd->st.config_generation, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:		return 0xffffffff;	/* no shared memory regions */
	}
	return queue_reg_read(vd, off);
}

static void set_lo(uint64_t *f, uint32_t v) { *f = (*f & ~0xffffffffull) | v; }
static void set_hi(uint64_t *f, uint32_t v) { *f = (*f & 0xffffffffull) | (uint64_t)v << 32; }

static void queue_reg_write(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	struct virtio_queue_regs *q = virtio_dev_sel_queue(vd);

	if (!q)
		return;
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		if (v == 1)
			virtio_dev_enable_queue(vd);
		return;
	}
	if (q->enabled)
		return;		/* the rings and size are fixed while enabled */
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:		virtio_dev_set_queue_size(vd, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:	set_lo(&q->desc, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:	set_hi(&q->desc, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:	set_lo(&q->driver, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:	set_hi(&q->driver, v); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:	set_lo(&q->device, v); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:	set_hi(&q->device, v); break;
	}
}

static void reg_write(struct virtio_mmio *m, uint64_t off, uint32_t v)
{
	struct virtio_dev *vd = m->vd;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:	vd->st.device_feature_select = v; return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:	vd->st.driver_feature_select = v; return;
	case VIRTIO_MMIO_DRIVER_FEATURES:	virtio_dev_set_driver_features_word(vd, v); return;
	case VIRTIO_MMIO_QUEUE_SEL:		vd->st.queue_select = (uint16_t)(v > 0xffff ? 0xffff : v); return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:		virtio_dev_kick(vd, v); return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&vd->st.isr, (uint8_t)~v, __ATOMIC_SEQ_CST);
		return;
	case VIRTIO_MMIO_STATUS:		virtio_dev_write_status(vd, (uint8_t)v); return;
	}
	queue_reg_write(vd, off, v);
}

static void mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_mmio *m = opaque;
	struct virtio_dev *vd = m->vd;

	memset(data, 0, len);
	pthread_mutex_lock(&vd->lock);
	if (off >= VIRTIO_MMIO_CONFIG_OFF)
		virtio_dev_cfg_read(vd, off - VIRTIO_MMIO_CONFIG_OFF, data, len);
	else if (len == 4 && !(off & 3))
		le_put(data, reg_read(m, off), 4);
	pthread_mutex_unlock(&vd->lock);
}

static void mmio_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_mmio *m = opaque;
	struct virtio_dev *vd = m->vd;

	pthread_mutex_lock(&vd->lock);
	if (off >= VIRTIO_MMIO_CONFIG_OFF)
		virtio_dev_cfg_write(vd, off - VIRTIO_MMIO_CONFIG_OFF, data, len);
	else if (len == 4 && !(off & 3))
		reg_write(m, off, (uint32_t)le_get(data, 4));
	pthread_mutex_unlock(&vd->lock);
}

static const struct io_region_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* ---- KVM wiring ------------------------------------------------------------------ */

static int notify_ioeventfd(struct virtio_mmio *m, unsigned q, bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = q,
		.addr = m->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = m->vd->kick_fd[q],
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(m->bus->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int bind_irqfd(struct virtio_mmio *m, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)m->irqfd, .gsi = m->gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(m->bus->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

static int kvm_wire(struct virtio_mmio *m)
{
	int ret;

	if (m->bus->vm_fd < 0)
		return 0;
	ret = bind_irqfd(m, true);
	if (ret)
		return ret;
	m->irqfd_bound = true;
	for (; m->nbound < m->vd->nqueues; m->nbound++) {
		ret = notify_ioeventfd(m, m->nbound, true);
		if (ret) {
			pr_warn("%s: KVM_IOEVENTFD: %s (notifies will exit)", m->vd->name,
				strerror(-ret));
			break;
		}
	}
	return 0;
}

static void kvm_unwire(struct virtio_mmio *m)
{
	while (m->nbound)
		notify_ioeventfd(m, --m->nbound, false);
	if (m->irqfd_bound)
		bind_irqfd(m, false);
	m->irqfd_bound = false;
}

int virtio_mmio_attach(struct virtio_dev *vd, struct virtio_mmio_bus *bus,
		       struct virtio_mmio **out)
{
	struct virtio_mmio *m;
	int ret;

	*out = NULL;
	if (bus->used >= VIRTIO_MMIO_MAX_DEVICES)
		return -ENOSPC;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->vd = vd;
	m->bus = bus;
	m->base = VIRTIO_MMIO_BASE + bus->used * VIRTIO_MMIO_SIZE;
	m->gsi = virtio_mmio_gsis[bus->used];
	m->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vd->tr = &mmio_transport;
	vd->tr_priv = m;
	ret = m->irqfd < 0 ? -errno : kvm_wire(m);
	if (!ret)
		ret = iobus_register(bus->mmio, m->base, VIRTIO_MMIO_SIZE, &mmio_ops, m, vd->name);
	if (ret) {
		virtio_mmio_detach(m);
		vd->tr = NULL;
		return ret;
	}
	m->registered = true;
	bus->used++;
	*out = m;
	return 0;
}

void virtio_mmio_detach(struct virtio_mmio *m)
{
	if (!m)
		return;
	if (m->registered)
		iobus_unregister(m->bus->mmio, m->base);
	kvm_unwire(m);
	if (m->irqfd >= 0)
		close(m->irqfd);
	free(m);
}

uint64_t virtio_mmio_base(const struct virtio_mmio *m)
{
	return m->base;
}

int virtio_mmio_irqfd(const struct virtio_mmio *m)
{
	return m->irqfd;
}
