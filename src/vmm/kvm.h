/* SPDX-License-Identifier: MIT */
#ifndef HUSK_KVM_H
#define HUSK_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "memory/guest_mem.h"

/* The /dev/kvm system fd and the VM fd, with what husk learned of them. */
struct kvm {
	int sys_fd;
	int vm_fd;
	int vcpu_mmap_size;
	unsigned max_vcpus;
	unsigned nr_slots;
	int tsc_deadline;		/* KVM_CAP_TSC_DEADLINE_TIMER */
	struct kvm_cpuid2 *supported;	/* KVM_GET_SUPPORTED_CPUID */
	struct kvm_msr_list *msr_list;	/* KVM_GET_MSR_INDEX_LIST */
};

/* Open /dev/kvm, check the API version and every capability husk needs. */
int kvm_open(struct kvm *kvm, char *err, size_t errlen);
/* Create the VM, in-kernel irqchip and PIT, KVM's private areas. */
int kvm_create_vm(struct kvm *kvm, char *err, size_t errlen);
/* Register guest RAM regions as memory slots (@log_dirty: KVM_MEM_LOG_DIRTY_PAGES). */
int kvm_map_memory(struct kvm *kvm, const struct guest_mem *mem, bool log_dirty, char *err,
		   size_t errlen);
/*
 * OR the pages the guest wrote since the last call into @out (one bit per
 * 4 KiB page of guest RAM, guest_mem_dirty_words() words) and start over
 * (KVM_GET_DIRTY_LOG re-protects them). Slots mapped with @log_dirty only.
 */
int kvm_dirty_log_take(struct kvm *kvm, const struct guest_mem *mem, uint64_t *out);
void kvm_close(struct kvm *kvm);

int kvm_msr_supported(const struct kvm *kvm, uint32_t index);

#endif
