/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for the VM fd of the PCI and virtio fuzz targets (include once;
 * on fake_vm_ioctl.h). It keeps what KVM would: the ioeventfds and irqfds
 * assigned, with KVM's answers (-EEXIST for a second ioeventfd on the same
 * address, length and datamatch, -ENOENT for deassigning one that is not
 * there, -EBUSY for an eventfd already an irqfd, -EINVAL for bad lengths,
 * flags, GSIs and levels), so that a device which loses track of its own
 * bindings shows: fz_kvm_check_empty() traps when anything is still bound
 * after every device was torn down.
 *
 * fz_kvm_ioeventfd() is the vCPU's view: an MMIO/PIO write that an
 * ioeventfd claims signals it and never reaches userspace.
 */
#ifndef HUSK_FUZZ_FAKE_KVM_H
#define HUSK_FUZZ_FAKE_KVM_H

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fake_vm_ioctl.h"

#define FZ_KVM_MAX_IOEVENTFDS	512
#define FZ_KVM_MAX_IRQFDS	4096
#define FZ_KVM_MAX_GSI		4096

struct fz_kvm {
	struct kvm_ioeventfd io[FZ_KVM_MAX_IOEVENTFDS];
	unsigned nio;
	struct kvm_irqfd irqfd[FZ_KVM_MAX_IRQFDS];
	unsigned nirqfd;
	bool any_length;		/* KVM_CAP_IOEVENTFD_ANY_LENGTH */
	bool fail_ioeventfd;		/* KVM_IOEVENTFD fails (-ENOSPC) */
	unsigned long calls;
};

/* The fake's only state: a KVM VM is process-wide state too. */
static struct fz_kvm fz_kvm;

static inline void fz_kvm_reset(bool any_length, bool fail_ioeventfd)
{
	memset(&fz_kvm, 0, sizeof(fz_kvm));
	fz_kvm.any_length = any_length;
	fz_kvm.fail_ioeventfd = fail_ioeventfd;
}

static bool io_same(const struct kvm_ioeventfd *a, const struct kvm_ioeventfd *b)
{
	bool pio = a->flags & KVM_IOEVENTFD_FLAG_PIO, dm = a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH;

	return a->addr == b->addr && a->len == b->len &&
	       pio == !!(b->flags & KVM_IOEVENTFD_FLAG_PIO) &&
	       dm == !!(b->flags & KVM_IOEVENTFD_FLAG_DATAMATCH) &&
	       (!dm || a->datamatch == b->datamatch);
}

static int fz_kvm_io(const struct kvm_ioeventfd *io)
{
	const uint32_t known = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO |
			       KVM_IOEVENTFD_FLAG_DEASSIGN;

	if ((io->flags & ~known) || (io->len != 0 && io->len != 1 && io->len != 2 &&
				     io->len != 4 && io->len != 8))
		return -EINVAL;
	if (io->addr + io->len < io->addr)
		return -EINVAL;
	if (io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN) {
		for (unsigned i = 0; i < fz_kvm.nio; i++) {
			if (io_same(&fz_kvm.io[i], io) && fz_kvm.io[i].fd == io->fd) {
				fz_kvm.io[i] = fz_kvm.io[--fz_kvm.nio];
				return 0;
			}
		}
		return -ENOENT;
	}
	if (fz_kvm.fail_ioeventfd)
		return -ENOSPC;
	if (fcntl(io->fd, F_GETFD) < 0)
		return -EBADF;
	for (unsigned i = 0; i < fz_kvm.nio; i++)
		if (io_same(&fz_kvm.io[i], io))
			return -EEXIST;
	if (fz_kvm.nio == FZ_KVM_MAX_IOEVENTFDS)
		return -ENOSPC;
	fz_kvm.io[fz_kvm.nio++] = *io;
	return 0;
}

static int fz_kvm_irqfd(const struct kvm_irqfd *f)
{
	if (f->flags & ~(uint32_t)(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (f->flags & KVM_IRQFD_FLAG_DEASSIGN) {
		for (unsigned i = 0; i < fz_kvm.nirqfd; i++) {
			if (fz_kvm.irqfd[i].fd == f->fd && fz_kvm.irqfd[i].gsi == f->gsi) {
				fz_kvm.irqfd[i] = fz_kvm.irqfd[--fz_kvm.nirqfd];
				return 0;
			}
		}
		return 0;	/* KVM ignores a deassign it has nothing for */
	}
	if (f->gsi >= FZ_KVM_MAX_GSI || fcntl((int)f->fd, F_GETFD) < 0)
		return f->gsi >= FZ_KVM_MAX_GSI ? -EINVAL : -EBADF;
	for (unsigned i = 0; i < fz_kvm.nirqfd; i++)
		if (fz_kvm.irqfd[i].fd == f->fd)
			return -EBUSY;
	if (fz_kvm.nirqfd == FZ_KVM_MAX_IRQFDS)
		return -ENOSPC;
	fz_kvm.irqfd[fz_kvm.nirqfd++] = *f;
	return 0;
}

static int fz_kvm_routing(const struct kvm_irq_routing *r)
{
	if (r->nr > FZ_KVM_MAX_GSI || r->flags)
		return -EINVAL;
	for (uint32_t i = 0; i < r->nr; i++)
		if (r->entries[i].gsi >= FZ_KVM_MAX_GSI)
			return -EINVAL;
	return 0;
}

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	int ret = 0;

	fz_kvm.calls++;
	switch (request) {
	case KVM_CHECK_EXTENSION:
		return (unsigned long)arg == KVM_CAP_IOEVENTFD_ANY_LENGTH && fz_kvm.any_length;
	case KVM_IOEVENTFD:
		ret = fz_kvm_io(arg);
		break;
	case KVM_IRQFD:
		ret = fz_kvm_irqfd(arg);
		break;
	case KVM_SET_GSI_ROUTING:
		ret = fz_kvm_routing(arg);
		break;
	case KVM_IRQ_LINE: {
		const struct kvm_irq_level *l = arg;

		ret = l->irq >= 24 || l->level > 1 ? -EINVAL : 0;
		break;
	}
	case KVM_SIGNAL_MSI:
		return 1;
	default:
		ret = -ENOTTY;
	}
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/*
 * A guest write of @len bytes (@v) at @addr: true when an ioeventfd claims
 * it (KVM signals the eventfd, userspace never sees the exit).
 */
static inline bool fz_kvm_ioeventfd(bool pio, uint64_t addr, uint32_t len, uint64_t v)
{
	for (unsigned i = 0; i < fz_kvm.nio; i++) {
		const struct kvm_ioeventfd *io = &fz_kvm.io[i];
		uint64_t one = 1;

		if (!!(io->flags & KVM_IOEVENTFD_FLAG_PIO) != pio || io->addr != addr)
			continue;
		if (io->len && io->len != len)
			continue;
		if ((io->flags & KVM_IOEVENTFD_FLAG_DATAMATCH) && io->datamatch != v)
			continue;
		if (write(io->fd, &one, sizeof(one)) != sizeof(one))
			__builtin_trap();	/* the fd is gone: a stale binding */
		return true;
	}
	return false;
}

/* After every device was torn down nothing may still be bound. */
static inline void fz_kvm_check_empty(void)
{
	if (fz_kvm.nio || fz_kvm.nirqfd) {
		fprintf(stderr, "fake KVM: %u ioeventfds and %u irqfds still bound\n",
			fz_kvm.nio, fz_kvm.nirqfd);
		__builtin_trap();
	}
}

#endif
