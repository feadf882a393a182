// SPDX-License-Identifier: MIT
/* Attach a virtio device to the VM's transport: see virtio/virtio_transport.h. */
#include "virtio/virtio_transport.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <stdlib.h>

struct virtio_transport {
	enum husk_virtio_transport kind;
	struct virtio_pci *pci;
	struct virtio_mmio *mmio;
};

int virtio_transport_attach(struct virtio_dev *vd, const struct virtio_env *env,
			    struct virtio_transport **out)
{
	struct virtio_transport *t = calloc(1, sizeof(*t));
	int ret = -EINVAL;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->kind = env->kind;
	if (env->kind == HUSK_VIRTIO_PCI && env->pci)
		ret = virtio_pci_attach(vd, env->pci, env->vm_fd, &t->pci);
	else if (env->kind == HUSK_VIRTIO_MMIO && env->mmio)
		ret = virtio_mmio_attach(vd, env->mmio, &t->mmio);
	if (ret) {
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int virtio_transport_save(struct virtio_transport *t, struct state_writer *w)
{
	if (t->kind == HUSK_VIRTIO_PCI && t->pci)
		return pci_device_save(virtio_pci_device(t->pci), w);
	return w->err;
}

int virtio_transport_load(struct virtio_transport *t, struct state_reader *r)
{
	if (t->kind == HUSK_VIRTIO_PCI && t->pci)
		return pci_device_load(virtio_pci_device(t->pci), r);
	return sr_done(r);
}

void virtio_transport_detach(struct virtio_transport *t)
{
	if (!t)
		return;
	virtio_pci_detach(t->pci);
	virtio_mmio_detach(t->mmio);
	free(t);
}
