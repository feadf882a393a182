// SPDX-License-Identifier: MIT
/* MSRs a vCPU starts with, and the LAPIC's LINT pins. */
#include "cpu/vcpu.h"
#include "core/log.h"
#include "vmm/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_TSC		0x10

#define MISC_ENABLE_FAST_STRING	1ULL
#define MTRR_ENABLE_WB		((1ULL << 11) | 6)	/* MTRRs on, default write-back */

struct boot_msr {
	uint32_t index;
	uint64_t value;
};

static const struct boot_msr boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },
	{ MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },
	{ MSR_STAR, 0 },
	{ MSR_CSTAR, 0 },
	{ MSR_KERNEL_GS_BASE, 0 },
	{ MSR_SYSCALL_MASK, 0 },
	{ MSR_LSTAR, 0 },
	{ MSR_IA32_TSC, 0 },
	{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
	{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
};

#define NBOOT_MSRS (sizeof(boot_msrs) / sizeof(boot_msrs[0]))

int msrs_set_boot(int fd, const struct husk_vm *vm)
{
	/* struct kvm_msrs ends in a flexible array: room for its entries after it */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + NBOOT_MSRS * sizeof(struct kvm_msr_entry)];
	} m;
	struct kvm_msr_entry *e = m.hdr.entries;
	int n = 0, ret;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < NBOOT_MSRS; i++) {
		if (!kvm_msr_supported(&vm->kvm, boot_msrs[i].index))
			continue;
		e[n].index = boot_msrs[i].index;
		e[n].data = boot_msrs[i].value;
		n++;
	}
	m.hdr.nmsrs = n;
	ret = ioctl(fd, KVM_SET_MSRS, &m);
	if (ret < 0)
		return -errno;
	if (ret != n)	/* KVM stops at the first MSR it refuses */
		pr_debug("KVM accepted %d of %d boot MSRs (refused 0x%x)", ret, n,
			 e[ret].index);
	return 0;
}

#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI	0x4

static void lapic_set_delivery(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(l->regs + reg, &v, sizeof(v));
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI, as firmware leaves them on a PC. */
int lapic_set_lint(int fd)
{
	struct kvm_lapic_state l;

	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lapic_set_delivery(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_delivery(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}
