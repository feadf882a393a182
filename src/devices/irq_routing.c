// SPDX-License-Identifier: MIT
/*
 * The VM-wide GSI routing table (see irq_routing.h). Staged state lives in
 * per-GSI arrays; irq_routing_commit() builds a struct kvm_irq_routing from
 * it (legacy routes first, then MSI routes in GSI order) and hands it to
 * KVM_SET_GSI_ROUTING. On success that buffer becomes the committed table
 * (kept for inspection); on failure the previous one stays.
 */
#include "devices/irq_routing.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define PIC_CASCADE_GSI		2
#define GSI_WORDS		(IRQ_ROUTING_MAX_GSI / 64)

struct msi_route {
	bool valid;
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
};

struct irq_routing {
	pthread_mutex_t lock;
	int vm_fd;
	uint64_t allocated[GSI_WORDS];		/* bit per GSI */
	unsigned nr_allocated;
	struct msi_route msi[IRQ_ROUTING_MAX_GSI];
	int irqfd[IRQ_ROUTING_MAX_GSI];		/* -1: none */
	struct kvm_irq_routing *committed;	/* last table KVM accepted */
	struct kvm_irq_routing *scratch;	/* the table being built */
	unsigned commits;
};

static size_t routing_table_bytes(void)
{
	return sizeof(struct kvm_irq_routing) +
	       IRQ_ROUTING_MAX_ENTRIES * sizeof(struct kvm_irq_routing_entry);
}

static bool gsi_allocated(const struct irq_routing *rt, uint32_t gsi)
{
	return gsi < IRQ_ROUTING_MAX_GSI && (rt->allocated[gsi / 64] >> (gsi % 64)) & 1;
}

static unsigned legacy_route_count(void)
{
	return IRQ_ROUTING_IOAPIC_PINS + IRQ_ROUTING_PIC_PINS - 1;
}

int irq_routing_create(int vm_fd, struct irq_routing **out)
{
	struct irq_routing *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return -ENOMEM;
	rt->committed = calloc(1, routing_table_bytes());
	rt->scratch = calloc(1, routing_table_bytes());
	if (!rt->committed || !rt->scratch || pthread_mutex_init(&rt->lock, NULL)) {
		free(rt->committed);
		free(rt->scratch);
		free(rt);
		return -ENOMEM;
	}
	rt->vm_fd = vm_fd;
	for (unsigned i = 0; i < IRQ_ROUTING_MAX_GSI; i++)
		rt->irqfd[i] = -1;
	/* GSIs below the first dynamic one belong to the IOAPIC pins */
	rt->allocated[0] = (1ull << IRQ_ROUTING_FIRST_DYNAMIC_GSI) - 1;
	*out = rt;
	return 0;
}

static int irqfd_ioctl(int vm_fd, uint32_t gsi, int fd, uint32_t flags)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi, .flags = flags };

	if (vm_fd < 0)
		return 0;
	if (ioctl(vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return 0;
}

void irq_routing_destroy(struct irq_routing *rt)
{
	if (!rt)
		return;
	for (unsigned i = 0; i < IRQ_ROUTING_MAX_GSI; i++)
		if (rt->irqfd[i] >= 0)
			irqfd_ioctl(rt->vm_fd, i, rt->irqfd[i], KVM_IRQFD_FLAG_DEASSIGN);
	pthread_mutex_destroy(&rt->lock);
	free(rt->committed);
	free(rt->scratch);
	free(rt);
}

int irq_routing_alloc_gsi(struct irq_routing *rt)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&rt->lock);
	/* every allocated GSI may hold a route: keep the table within KVM's limit */
	if (rt->nr_allocated + legacy_route_count() >= IRQ_ROUTING_MAX_ENTRIES)
		goto out;
	for (uint32_t gsi = IRQ_ROUTING_FIRST_DYNAMIC_GSI; gsi < IRQ_ROUTING_MAX_GSI; gsi++) {
		if (gsi_allocated(rt, gsi))
			continue;
		rt->allocated[gsi / 64] |= 1ull << (gsi % 64);
		rt->msi[gsi] = (struct msi_route){ 0 };
		rt->nr_allocated++;
		ret = (int)gsi;
		break;
	}
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_routing_free_gsi(struct irq_routing *rt, uint32_t gsi)
{
	int ret = 0;

	pthread_mutex_lock(&rt->lock);
	if (gsi < IRQ_ROUTING_FIRST_DYNAMIC_GSI || !gsi_allocated(rt, gsi)) {
		ret = -EINVAL;
		goto out;
	}
	if (rt->irqfd[gsi] >= 0) {
		irqfd_ioctl(rt->vm_fd, gsi, rt->irqfd[gsi], KVM_IRQFD_FLAG_DEASSIGN);
		rt->irqfd[gsi] = -1;
	}
	rt->allocated[gsi / 64] &= ~(1ull << (gsi % 64));
	rt->msi[gsi] = (struct msi_route){ 0 };
	rt->nr_allocated--;
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

static int stage_msi(struct irq_routing *rt, uint32_t gsi, const struct msi_route *r)
{
	int ret = 0;

	pthread_mutex_lock(&rt->lock);
	if (gsi < IRQ_ROUTING_FIRST_DYNAMIC_GSI || !gsi_allocated(rt, gsi))
		ret = -EINVAL;
	else
		rt->msi[gsi] = *r;
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_routing_set_msi(struct irq_routing *rt, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct msi_route r = {
		.valid = true, .addr_lo = (uint32_t)addr, .addr_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	return stage_msi(rt, gsi, &r);
}

int irq_routing_clear(struct irq_routing *rt, uint32_t gsi)
{
	struct msi_route r = { 0 };

	return stage_msi(rt, gsi, &r);
}

static void put_irqchip(struct kvm_irq_routing *t, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &t->entries[t->nr++];

	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

static void put_legacy_routes(struct kvm_irq_routing *t)
{
	for (uint32_t gsi = 0; gsi < IRQ_ROUTING_IOAPIC_PINS; gsi++) {
		put_irqchip(t, gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi >= IRQ_ROUTING_PIC_PINS || gsi == PIC_CASCADE_GSI)
			continue;
		put_irqchip(t, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			    gsi % 8);
	}
}

static void put_msi_routes(struct irq_routing *rt, struct kvm_irq_routing *t)
{
	for (uint32_t gsi = IRQ_ROUTING_FIRST_DYNAMIC_GSI; gsi < IRQ_ROUTING_MAX_GSI; gsi++) {
		const struct msi_route *r = &rt->msi[gsi];
		struct kvm_irq_routing_entry *e;

		if (!r->valid || !gsi_allocated(rt, gsi))
			continue;
		e = &t->entries[t->nr++];
		*e = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = r->addr_lo, .address_hi = r->addr_hi,
				   .data = r->data },
		};
	}
}

int irq_routing_commit(struct irq_routing *rt)
{
	struct kvm_irq_routing *t;
	int ret = 0;

	pthread_mutex_lock(&rt->lock);
	t = rt->scratch;
	memset(t, 0, sizeof(*t));
	put_legacy_routes(t);
	put_msi_routes(rt, t);
	if (rt->vm_fd >= 0 && ioctl(rt->vm_fd, KVM_SET_GSI_ROUTING, t) < 0) {
		ret = -errno;
	} else {
		rt->scratch = rt->committed;
		rt->committed = t;
		rt->commits++;
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_routing_irqfd_assign(struct irq_routing *rt, uint32_t gsi, int fd)
{
	int ret;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&rt->lock);
	if (gsi < IRQ_ROUTING_FIRST_DYNAMIC_GSI || !gsi_allocated(rt, gsi)) {
		ret = -EINVAL;
	} else if (rt->irqfd[gsi] >= 0) {
		ret = -EBUSY;
	} else {
		ret = irqfd_ioctl(rt->vm_fd, gsi, fd, 0);
		if (!ret)
			rt->irqfd[gsi] = fd;
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_routing_irqfd_deassign(struct irq_routing *rt, uint32_t gsi)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&rt->lock);
	if (gsi < IRQ_ROUTING_MAX_GSI && rt->irqfd[gsi] >= 0) {
		ret = irqfd_ioctl(rt->vm_fd, gsi, rt->irqfd[gsi], KVM_IRQFD_FLAG_DEASSIGN);
		rt->irqfd[gsi] = -1;
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

unsigned irq_routing_committed(struct irq_routing *rt, struct kvm_irq_routing_entry *out,
			       unsigned max)
{
	unsigned n;

	pthread_mutex_lock(&rt->lock);
	n = rt->commits ? rt->committed->nr : 0;
	if (out)
		memcpy(out, rt->committed->entries, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&rt->lock);
	return n;
}

unsigned irq_routing_commit_count(struct irq_routing *rt)
{
	unsigned n;

	pthread_mutex_lock(&rt->lock);
	n = rt->commits;
	pthread_mutex_unlock(&rt->lock);
	return n;
}

int irq_routing_irqfd(struct irq_routing *rt, uint32_t gsi)
{
	int fd = -1;

	pthread_mutex_lock(&rt->lock);
	if (gsi < IRQ_ROUTING_MAX_GSI)
		fd = rt->irqfd[gsi];
	pthread_mutex_unlock(&rt->lock);
	return fd;
}
