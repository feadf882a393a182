// SPDX-License-Identifier: MIT
#include "cpu/cpuid.h"

#include <stdlib.h>
#include <string.h>

#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_HTT		(1u << 28)
#define CPUID_80000001_ECX_SVM	(1u << 2)
#define KVM_CPUID_SIGNATURE_LEAF 0x40000000u
#define KVM_CPUID_FEATURES_LEAF	0x40000001u
/*
 * The hypervisor timing leaf (VMware's layout, which QEMU and Cloud
 * Hypervisor also give): EAX the TSC rate in kHz, EBX the local APIC timer's
 * bus rate in kHz (KVM's runs at 1 GHz). A guest reads both instead of
 * calibrating against the PIT (the test guest spent 50 ms on that).
 */
#define HV_TIMING_LEAF		0x40000010u
#define KVM_APIC_BUS_KHZ	1000000u
#define CPUID_EXTRA_ENTRIES	16	/* room for leaves husk may add */

/* Index flag: entries whose value depends on ECX (subleaf). */
#define SIGNIFICANT KVM_CPUID_FLAG_SIGNIFCANT_INDEX

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & SIGNIFICANT) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *cpuid_add(struct kvm_cpuid2 *c, uint32_t function,
					  uint32_t index, uint32_t flags)
{
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = flags;
	return e;
}

static unsigned order_base2(unsigned n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

static void fix_leaf1(struct kvm_cpuid_entry2 *e, const struct cpuid_topology *t)
{
	/* EBX: APIC ID [31:24], logical processors [23:16], CLFLUSH size 8 qwords */
	e->ebx = (t->cpu_index << 24) | ((t->ncpus & 0xff) << 16) | (8u << 8) | (e->ebx & 0xff);
	e->ecx |= CPUID_1_ECX_HYPERVISOR;
	e->ecx &= ~CPUID_1_ECX_VMX;
	if (t->tsc_deadline)
		e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
	if (t->ncpus > 1)
		e->edx |= CPUID_1_EDX_HTT;
	else
		e->edx &= ~CPUID_1_EDX_HTT;
}

/* Leaf 4 (Intel deterministic cache): cores per package, threads per cache. */
static void fix_leaf4(struct kvm_cpuid_entry2 *e, const struct cpuid_topology *t)
{
	unsigned cores = 1u << order_base2(t->ncpus);
	unsigned level = (e->eax >> 5) & 7;
	unsigned sharing = level >= 3 ? cores : 1;

	e->eax &= 0x3fff;
	e->eax |= ((cores - 1) & 0x3f) << 26;
	e->eax |= ((sharing - 1) & 0xfff) << 14;
}

/* Leaves 0xb / 0x1f (extended topology): SMT level then core level. */
static void fix_topology_leaf(struct kvm_cpuid_entry2 *e, const struct cpuid_topology *t)
{
	e->edx = t->cpu_index;
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1u << 8) | 0;
		break;
	case 1:
		e->eax = order_base2(t->ncpus);
		e->ebx = t->ncpus;
		e->ecx = (2u << 8) | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

static void add_topology_leaves(struct kvm_cpuid2 *c, uint32_t function,
				const struct cpuid_topology *t)
{
	for (uint32_t sub = 0; sub < 3; sub++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(c, function, sub);

		if (!e || !(e->flags & SIGNIFICANT) || e->index != sub)
			e = cpuid_add(c, function, sub, SIGNIFICANT);
		fix_topology_leaf(e, t);
	}
}

static void set_brand(struct kvm_cpuid2 *c)
{
	char brand[48] = { 0 };
	bool empty = true;

	for (uint32_t f = 0x80000002u; f <= 0x80000004u; f++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(c, f, 0);

		if (e && (e->eax | e->ebx | e->ecx | e->edx))
			empty = false;
	}
	if (!empty)
		return;		/* keep the host's brand string */
	strncpy(brand, CPUID_BRAND_DEFAULT, sizeof(brand) - 1);
	for (uint32_t f = 0x80000002u; f <= 0x80000004u; f++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(c, f, 0);
		const char *p = brand + (f - 0x80000002u) * 16;

		if (!e)
			e = cpuid_add(c, f, 0, 0);
		memcpy(&e->eax, p, 4);
		memcpy(&e->ebx, p + 4, 4);
		memcpy(&e->ecx, p + 8, 4);
		memcpy(&e->edx, p + 12, 4);
	}
	struct kvm_cpuid_entry2 *max = cpuid_find(c, 0x80000000u, 0);
	if (max && max->eax < 0x80000004u)
		max->eax = 0x80000004u;
}

static void set_kvm_leaves(struct kvm_cpuid2 *c, uint32_t tsc_khz)
{
	static const char sig[] = CPUID_KVM_SIGNATURE;
	struct kvm_cpuid_entry2 *e = cpuid_find(c, KVM_CPUID_SIGNATURE_LEAF, 0), *t;

	if (!e)
		e = cpuid_add(c, KVM_CPUID_SIGNATURE_LEAF, 0, 0);
	if (e->eax < KVM_CPUID_FEATURES_LEAF)
		e->eax = KVM_CPUID_FEATURES_LEAF;
	if (tsc_khz) {
		t = cpuid_find(c, HV_TIMING_LEAF, 0);
		if (!t)
			t = cpuid_add(c, HV_TIMING_LEAF, 0, 0);
		t->eax = tsc_khz;
		t->ebx = KVM_APIC_BUS_KHZ;
		t->ecx = t->edx = 0;
		e->eax = HV_TIMING_LEAF;
	}
	memcpy(&e->ebx, &sig[0], 4);
	memcpy(&e->ecx, &sig[4], 4);
	memcpy(&e->edx, &sig[8], 4);
	if (!cpuid_find(c, KVM_CPUID_FEATURES_LEAF, 0))
		cpuid_add(c, KVM_CPUID_FEATURES_LEAF, 0, 0);	/* no PV features offered */
}

static bool vendor_is_amd(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0, 0);

	return e && e->ebx == 0x68747541u;	/* "Auth"enticAMD */
}

static void normalise(struct kvm_cpuid2 *c, const struct cpuid_topology *t)
{
	struct kvm_cpuid_entry2 *leaf0 = cpuid_find(c, 0, 0);
	uint32_t max_basic = leaf0 ? leaf0->eax : 0;

	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			fix_leaf1(e, t);
		else if (e->function == 4)
			fix_leaf4(e, t);
		else if (e->function == 0xa)	/* no virtual PMU: avoids MSR noise */
			e->eax = e->ebx = e->ecx = e->edx = 0;
		else if (e->function == 0x80000001u)
			e->ecx &= ~CPUID_80000001_ECX_SVM;
		else if (e->function == 0x80000008u && vendor_is_amd(c))
			e->ecx = (e->ecx & ~0xf0ffu) | ((t->ncpus - 1) & 0xff) |
				 (order_base2(t->ncpus) << 12);
	}
	if (max_basic >= 0xb)
		add_topology_leaves(c, 0xb, t);
	if (max_basic >= 0x1f)
		add_topology_leaves(c, 0x1f, t);
	set_kvm_leaves(c, t->tsc_khz);
	set_brand(c);
}

struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *supported,
			       const struct cpuid_topology *topo)
{
	uint32_t cap = supported->nent + CPUID_EXTRA_ENTRIES;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = supported->nent;
	memcpy(c->entries, supported->entries, supported->nent * sizeof(c->entries[0]));
	normalise(c, topo);
	return c;
}
