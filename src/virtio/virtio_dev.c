// SPDX-License-Identifier: MIT
/* The transport-neutral virtio device: see virtio/virtio_dev.h. */
#include "virtio/virtio_dev.h"
#include "core/log.h"
#include "virtio/worker.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define F_VERSION_1	(1ull << VIRTIO_F_VERSION_1)
#define NO_VECTOR	0xffff

/* ---- interrupts (any thread) -------------------------------------------- */

bool virtio_dev_queue_done(struct virtio_dev *vd, unsigned q, uint16_t old_used_idx)
{
	if (q >= vd->nqueues || !virtqueue_should_interrupt(&vd->vq[q], old_used_idx))
		return false;
	vd->tr->notify_queue(vd, q);
	return true;
}

void virtio_dev_needs_reset(struct virtio_dev *vd)
{
	if (__atomic_exchange_n(&vd->st.needs_reset, 1, __ATOMIC_SEQ_CST))
		return;
	pr_debug("%s: the driver handed over a malformed request: NEEDS_RESET", vd->name);
	__atomic_fetch_add(&vd->st.config_generation, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vd->st.status, __ATOMIC_ACQUIRE) & VIRTIO_CONFIG_S_DRIVER_OK)
		vd->tr->notify_config(vd);
}

void virtio_dev_config_changed(struct virtio_dev *vd)
{
	__atomic_fetch_add(&vd->st.config_generation, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vd->st.status, __ATOMIC_ACQUIRE) & VIRTIO_CONFIG_S_DRIVER_OK)
		vd->tr->notify_config(vd);
}

uint8_t virtio_dev_take_isr(struct virtio_dev *vd)
{
	return __atomic_exchange_n(&vd->st.isr, 0, __ATOMIC_SEQ_CST);
}

/* ---- status and reset ----------------------------------------------------- */

static void device_stop(struct virtio_dev *vd)
{
	if (vd->started && vd->ops->stop)
		vd->ops->stop(vd);
	vd->started = false;
}

static void device_reset(struct virtio_dev *vd)
{
	device_stop(vd);
	memset(&vd->st, 0, sizeof(vd->st));
	vd->st.msix_config = NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vd->st.q[i].msix_vector = NO_VECTOR;
		vd->st.q[i].size = i < vd->nqueues ? vd->queue_max : 0;
		virtqueue_reset(&vd->vq[i]);
		if (i < vd->nqueues)
			eventfd_drain(vd->kick_fd[i]);
	}
	if (vd->tr && vd->tr->reset)
		vd->tr->reset(vd);
}

uint8_t virtio_dev_status(struct virtio_dev *vd)
{
	uint8_t s = __atomic_load_n(&vd->st.status, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&vd->st.needs_reset, __ATOMIC_ACQUIRE))
		s |= VIRTIO_CONFIG_S_NEEDS_RESET;
	return s;
}

bool virtio_dev_live(struct virtio_dev *vd)
{
	return (virtio_dev_status(vd) & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
	       VIRTIO_CONFIG_S_DRIVER_OK;
}

static void device_start(struct virtio_dev *vd)
{
	int ret = vd->ops->start ? vd->ops->start(vd) : 0;

	if (ret) {
		pr_warn("%s: cannot start the device: %s", vd->name, strerror(-ret));
		virtio_dev_needs_reset(vd);
		return;
	}
	vd->started = true;
}

void virtio_dev_write_status(struct virtio_dev *vd, uint8_t val)
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
	/* The driver cannot clear bits (but by reset), nor set NEEDS_RESET. */
	val = (uint8_t)((val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | old);
	__atomic_store_n(&vd->st.status, val, __ATOMIC_RELEASE);
	if (!(val & VIRTIO_CONFIG_S_DRIVER_OK) || (old & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (val & VIRTIO_CONFIG_S_FAILED))
		return;
	/*
	 * DRIVER_OK without FEATURES_OK skipped 3.1.1 step 5: the features were
	 * never checked (nor frozen), so the device does not start on them.
	 */
	if (!(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
		pr_debug("%s: DRIVER_OK without FEATURES_OK: not started", vd->name);
		virtio_dev_needs_reset(vd);
		return;
	}
	device_start(vd);
}

/* ---- features --------------------------------------------------------------- */

uint32_t virtio_dev_device_features_word(struct virtio_dev *vd)
{
	uint32_t sel = vd->st.device_feature_select;

	return sel < 2 ? (uint32_t)(vd->device_features >> (32 * sel)) : 0;
}

uint32_t virtio_dev_driver_features_word(struct virtio_dev *vd)
{
	uint32_t sel = vd->st.driver_feature_select;

	return sel < 2 ? (uint32_t)(vd->st.driver_features >> (32 * sel)) : 0;
}

void virtio_dev_set_driver_features_word(struct virtio_dev *vd, uint32_t v)
{
	uint32_t sel = vd->st.driver_feature_select;
	unsigned sh = 32 * sel;

	/* frozen from FEATURES_OK or DRIVER_OK on: the I/O threads read them */
	if (sel >= 2 || (vd->st.status & (VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)))
		return;
	vd->st.driver_features &= ~(0xffffffffull << sh);
	vd->st.driver_features |= (uint64_t)v << sh;
}

/* ---- queues --------------------------------------------------------------- */

struct virtio_queue_regs *virtio_dev_sel_queue(struct virtio_dev *vd)
{
	return vd->st.queue_select < vd->nqueues ? &vd->st.q[vd->st.queue_select] : NULL;
}

void virtio_dev_set_queue_size(struct virtio_dev *vd, uint64_t v)
{
	struct virtio_queue_regs *q = virtio_dev_sel_queue(vd);

	/* A power of two, 1 .. the device's maximum; anything else is refused. */
	if (q && !q->enabled && v && v <= vd->queue_max && !(v & (v - 1)))
		q->size = (uint16_t)v;
}

void virtio_dev_enable_queue(struct virtio_dev *vd)
{
	struct virtio_queue_regs *q = virtio_dev_sel_queue(vd);
	unsigned qi = vd->st.queue_select;
	int ret;

	if (!q || q->enabled)
		return;
	/*
	 * virtio 1.2, 3.1.1: the driver sets its queues up before DRIVER_OK;
	 * only VIRTIO_F_RING_RESET (not offered) lets it enable one later. From
	 * DRIVER_OK on the device's I/O threads read their queues without a lock
	 * (a queue the driver left disabled included), so configuring one under
	 * them would be a data race: the late enable is refused and queue_enable
	 * keeps reading 0.
	 */
	if (vd->st.status & VIRTIO_CONFIG_S_DRIVER_OK) {
		pr_debug("%s: queue %u enabled after DRIVER_OK: refused", vd->name, qi);
		return;
	}
	ret = virtqueue_configure(&vd->vq[qi], vd->mem, q->size, q->desc, q->driver, q->device,
				  vd->st.driver_features);
	if (ret) {
		pr_debug("%s: queue %u: bad rings (%s)", vd->name, qi, strerror(-ret));
		virtio_dev_needs_reset(vd);
		return;
	}
	q->enabled = true;
}

void virtio_dev_kick(struct virtio_dev *vd, unsigned q)
{
	uint64_t one = 1;

	if (q >= vd->nqueues || !vd->st.q[q].enabled || !virtio_dev_live(vd))
		return;		/* a queue that does not exist or is not live: ignored */
	if (write(vd->kick_fd[q], &one, sizeof(one)) < 0)
		pr_debug("%s: kick eventfd: %s", vd->name, strerror(errno));
}

/* ---- device config ---------------------------------------------------------- */

static bool cfg_in_range(struct virtio_dev *vd, uint64_t off, uint32_t len)
{
	return off < vd->cfg_len && len <= vd->cfg_len - off;
}

void virtio_dev_cfg_read(struct virtio_dev *vd, uint64_t off, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	if (cfg_in_range(vd, off, len) && vd->ops->cfg_read)
		vd->ops->cfg_read(vd, (uint32_t)off, data, len);
}

void virtio_dev_cfg_write(struct virtio_dev *vd, uint64_t off, const uint8_t *data,
			  uint32_t len)
{
	if (cfg_in_range(vd, off, len) && vd->ops->cfg_write)
		vd->ops->cfg_write(vd, (uint32_t)off, data, len);
}

/* ---- saved state: installing it (virtio_dev_state.c reads it) ---------------- */

void virtio_dev_apply(struct virtio_dev *vd, const struct virtio_dev_saved *s)
{
	pthread_mutex_lock(&vd->lock);
	device_reset(vd);
	vd->st = s->st;
	for (unsigned i = 0; i < vd->nqueues; i++) {
		/* validated by virtio_dev_read() against the same memory */
		if (virtqueue_restore(&vd->vq[i], vd->mem, &s->vq[i])) {
			pr_warn("%s: queue %u: saved rings no longer guest RAM", vd->name, i);
			vd->st.q[i].enabled = false;
			vd->st.needs_reset = 1;
		}
	}
	pthread_mutex_unlock(&vd->lock);
}

void virtio_dev_resignal(struct virtio_dev *vd)
{
	if (!vd->started ||
	    !(__atomic_load_n(&vd->st.status, __ATOMIC_ACQUIRE) & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	for (unsigned q = 0; q < vd->nqueues; q++)
		if (vd->vq[q].st.ready)
			vd->tr->notify_queue(vd, q);
}

void virtio_dev_start_loaded(struct virtio_dev *vd, const struct virtio_dev_saved *s)
{
	pthread_mutex_lock(&vd->lock);
	if (s->started && !vd->started)
		device_start(vd);
	pthread_mutex_unlock(&vd->lock);
}

/* ---- setup ------------------------------------------------------------------ */

int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_params *p,
		    const struct guest_mem *mem)
{
	memset(vd, 0, sizeof(*vd));
	pthread_mutex_init(&vd->lock, NULL);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vd->kick_fd[i] = -1;
	if (!p->ops || !p->nqueues || p->nqueues > VIRTIO_MAX_QUEUES || !p->queue_max ||
	    p->queue_max > VQ_MAX_SIZE || (p->queue_max & (p->queue_max - 1)) ||
	    p->cfg_len > VIRTIO_DEVCFG_MAX)
		return -EINVAL;
	vd->name = p->name;
	vd->device_id = p->device_id;
	vd->mem = mem;
	vd->device_features = p->features | F_VERSION_1;
	vd->nqueues = p->nqueues;
	vd->queue_max = p->queue_max;
	vd->cfg_len = p->cfg_len;
	vd->ops = p->ops;
	vd->priv = p->priv;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtqueue_init(&vd->vq[i]);
	for (unsigned i = 0; i < vd->nqueues; i++) {
		vd->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->kick_fd[i] < 0) {
			int ret = -errno;

			virtio_dev_uninit(vd);
			return ret;
		}
	}
	device_reset(vd);
	return 0;
}

void virtio_dev_stop(struct virtio_dev *vd)
{
	device_stop(vd);
}

void virtio_dev_uninit(struct virtio_dev *vd)
{
	device_stop(vd);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vd->kick_fd[i] >= 0)
			close(vd->kick_fd[i]);
		vd->kick_fd[i] = -1;
	}
	pthread_mutex_destroy(&vd->lock);
}
