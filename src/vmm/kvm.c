// SPDX-License-Identifier: MIT
#include "vmm/kvm.h"
#include "core/log.h"
#include "memory/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct kvm_cap_need {
	int cap;
	const char *name;
	const char *why;
};

/* Every capability husk relies on; a missing one is named on failure. */
static const struct kvm_cap_need needed_caps[] = {
	{ KVM_CAP_USER_MEMORY,     "KVM_CAP_USER_MEMORY",     "guest RAM" },
	{ KVM_CAP_IRQCHIP,         "KVM_CAP_IRQCHIP",         "in-kernel PIC/IOAPIC/LAPIC" },
	{ KVM_CAP_PIT2,            "KVM_CAP_PIT2",            "in-kernel PIT" },
	{ KVM_CAP_SET_TSS_ADDR,    "KVM_CAP_SET_TSS_ADDR",    "VM setup" },
	{ KVM_CAP_EXT_CPUID,       "KVM_CAP_EXT_CPUID",       "CPUID setup" },
	{ KVM_CAP_MP_STATE,        "KVM_CAP_MP_STATE",        "halt detection" },
	{ KVM_CAP_IMMEDIATE_EXIT,  "KVM_CAP_IMMEDIATE_EXIT",  "stopping vCPUs without races" },
	{ KVM_CAP_SIGNAL_MSI,      "KVM_CAP_SIGNAL_MSI",      "MSI delivery" },
	{ KVM_CAP_IRQFD,           "KVM_CAP_IRQFD",           "device interrupts" },
	{ KVM_CAP_IOEVENTFD,       "KVM_CAP_IOEVENTFD",       "device notifications" },
	{ KVM_CAP_NR_VCPUS,        "KVM_CAP_NR_VCPUS",        "vCPU limits" },
};

static int check_caps(struct kvm *kvm, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, needed_caps[i].cap) <= 0) {
			snprintf(err, errlen, "/dev/kvm lacks %s (needed for %s)",
				 needed_caps[i].name, needed_caps[i].why);
			return -ENOTSUP;
		}
	}
	kvm->max_vcpus = (unsigned)ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus == 0)
		kvm->max_vcpus = (unsigned)ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	kvm->nr_slots = (unsigned)ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	kvm->tsc_deadline = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	return 0;
}

static int load_supported_cpuid(struct kvm *kvm, char *err, size_t errlen)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->supported = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	snprintf(err, errlen, "/dev/kvm: KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	return -errno;
}

static int load_msr_list(struct kvm *kvm, char *err, size_t errlen)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;

	if (ioctl(kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG) {
		snprintf(err, errlen, "/dev/kvm: KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
		return -errno;
	}
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		snprintf(err, errlen, "/dev/kvm: KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
		free(list);
		return -errno;
	}
	kvm->msr_list = list;
	return 0;
}

int kvm_msr_supported(const struct kvm *kvm, uint32_t index)
{
	if (!kvm->msr_list)
		return 0;
	for (uint32_t i = 0; i < kvm->msr_list->nmsrs; i++)
		if (kvm->msr_list->indices[i] == index)
			return 1;
	return 0;
}

int kvm_open(struct kvm *kvm, char *err, size_t errlen)
{
	int version, ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "/dev/kvm: %s%s", strerror(errno),
			 errno == ENOENT ? " (is KVM enabled on this host?)" :
			 errno == EACCES ? " (add yourself to the kvm group)" : "");
		return ret;
	}
	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm: API version %d, husk needs %d", version,
			 KVM_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	ret = check_caps(kvm, err, errlen);
	if (!ret)
		ret = load_supported_cpuid(kvm, err, errlen);
	if (!ret)
		ret = load_msr_list(kvm, err, errlen);
	kvm->vcpu_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (!ret && kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "/dev/kvm: KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		ret = -EINVAL;
	}
	if (ret)
		goto fail;
	return 0;
fail:
	kvm_close(kvm);
	return ret;
}

static int vm_ioctl_err(char *err, size_t errlen, const char *what)
{
	int ret = -errno;

	snprintf(err, errlen, "/dev/kvm: %s: %s", what, strerror(errno));
	return ret;
}

int kvm_create_vm(struct kvm *kvm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = LAYOUT_KVM_IDENTITY_MAP;

	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return vm_ioctl_err(err, errlen, "KVM_CREATE_VM");
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS_ADDR) < 0)
		return vm_ioctl_err(err, errlen, "KVM_SET_TSS_ADDR");
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		return vm_ioctl_err(err, errlen, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vm_ioctl_err(err, errlen, "KVM_CREATE_IRQCHIP");
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return vm_ioctl_err(err, errlen, "KVM_CREATE_PIT2");
	return 0;
}

int kvm_map_memory(struct kvm *kvm, const struct guest_mem *mem, bool log_dirty, char *err,
		   size_t errlen)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)(mem->hva + r->offset),
		};

		if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return vm_ioctl_err(err, errlen, "KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

int kvm_dirty_log_take(struct kvm *kvm, const struct guest_mem *mem, uint64_t *out)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		uint64_t pages = r->size / 4096, base = r->offset / 4096;
		uint64_t *bm = calloc((pages + 63) / 64, sizeof(uint64_t));
		struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = bm };

		if (!bm)
			return -ENOMEM;
		if (ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
			int ret = -errno;

			free(bm);
			return ret;
		}
		for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
			uint64_t bits = bm[w];

			if (!bits)
				continue;
			if (base % 64 == 0) {
				out[base / 64 + w] |= bits;
				continue;
			}
			for (unsigned b = 0; b < 64; b++)
				if (bits & (1ull << b))
					out[(base + w * 64 + b) / 64] |= 1ull << ((base + w * 64 + b) % 64);
		}
		free(bm);
	}
	return 0;
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	free(kvm->supported);
	free(kvm->msr_list);
	kvm->supported = NULL;
	kvm->msr_list = NULL;
	kvm->vm_fd = kvm->sys_fd = -1;
}
