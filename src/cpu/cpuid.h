/* SPDX-License-Identifier: MIT */
#ifndef HUSK_CPUID_H
#define HUSK_CPUID_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

/*
 * Per-vCPU CPUID, derived from KVM_GET_SUPPORTED_CPUID. The topology husk
 * presents: one socket, one core per vCPU, one thread per core; APIC ID =
 * vCPU index.
 */
struct cpuid_topology {
	unsigned cpu_index;	/* this vCPU, = its APIC ID */
	unsigned ncpus;
	bool tsc_deadline;	/* KVM emulates the TSC-deadline timer */
	uint32_t tsc_khz;	/* the guest's TSC rate (KVM_GET_TSC_KHZ); 0: unknown */
};

#define CPUID_BRAND_DEFAULT "husk virtual CPU"
#define CPUID_KVM_SIGNATURE "KVMKVMKVM\0\0\0"

/*
 * Copy @supported into a new table normalised for one vCPU. Returns NULL on
 * allocation failure. The caller frees it.
 */
struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *supported,
			       const struct cpuid_topology *topo);

/* Find an entry (NULL if absent). */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

#endif
