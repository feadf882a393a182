/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VCPU_STATE_H
#define HUSK_VCPU_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

/*
 * A vCPU's architectural state as KVM holds it, for snapshots and
 * migration: one plain struct, filled from a vCPU fd (vcpu_state_get) and
 * put back into one (vcpu_state_set), and its byte encoding
 * (vcpu_state_write / vcpu_state_read, core/statebuf.h: every field written
 * on its own, never a struct's memory; the XSAVE area and the LAPIC page are
 * architectural byte layouts and go as bytes).
 *
 * CPUID is not in it: the restoring VMM builds the same table from the same
 * host (the snapshot's "host" section proves that), as it does at boot.
 *
 * MSRs: every MSR in KVM_GET_MSR_INDEX_LIST that KVM lets us read, with
 * MSR_IA32_TSC first and MSR_IA32_TSC_DEADLINE last: KVM arms the deadline
 * timer against the guest TSC, so the TSC must be in place before it (a
 * deadline loaded first was compared with a stale TSC and the guest lost
 * its timer). A zero deadline read at save time (the timer fired, its
 * interrupt may not be delivered yet) is saved as the TSC itself, so the
 * restored vCPU gets a timer interrupt at once and the guest re-arms it.
 */
#define VCPU_STATE_VERSION	1
#define VCPU_STATE_MAX_MSRS	512
#define VCPU_STATE_MAX_XSAVE	65536	/* bytes; KVM_CAP_XSAVE2 sizes are ~11 KiB today */

#define MSR_IA32_TSC_INDEX	0x10
#define MSR_IA32_TSC_DEADLINE_INDEX 0x6e0

/* Which optional parts the saving KVM had (each needs the same cap on load). */
enum vcpu_state_part {
	VCPU_PART_XSAVE = 1u << 0,	/* else struct kvm_fpu */
	VCPU_PART_XCRS = 1u << 1,
	VCPU_PART_DEBUGREGS = 1u << 2,
	VCPU_PART_EVENTS = 1u << 3,
	VCPU_PART_TSC_KHZ = 1u << 4,
	VCPU_PART_ALL = (1u << 5) - 1,
};

struct vcpu_state {
	uint32_t parts;			/* enum vcpu_state_part */
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;		/* without VCPU_PART_XSAVE */
	uint32_t xsave_len;		/* with VCPU_PART_XSAVE: 4096 .. VCPU_STATE_MAX_XSAVE */
	uint8_t xsave[VCPU_STATE_MAX_XSAVE];
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	uint32_t tsc_khz;		/* with VCPU_PART_TSC_KHZ */
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
};

/* What the host's KVM offers for vCPU state (KVM_CHECK_EXTENSION on the VM fd). */
struct vcpu_state_caps {
	uint32_t parts;			/* the parts this KVM can get and set */
	uint32_t xsave_len;		/* KVM_CAP_XSAVE2's size, or 4096 */
	bool tsc_control;		/* KVM_CAP_TSC_CONTROL: KVM_SET_TSC_KHZ works */
};

void vcpu_state_caps_probe(int vm_fd, struct vcpu_state_caps *caps);

struct kvm_msr_list;
/*
 * Read the whole state of a stopped vCPU (not in KVM_RUN, pending I/O
 * completed). Returns 0 or -errno; @what names the ioctl that failed.
 */
int vcpu_state_get(int vcpu_fd, const struct vcpu_state_caps *caps,
		   const struct kvm_msr_list *msrs, struct vcpu_state *st, const char **what);
/*
 * Put @st into a vCPU that has its CPUID set and does not run, in the order
 * KVM needs (TSC rate, MP state, registers, FPU, XCRs, debug registers,
 * LAPIC, MSRs with the TSC first and its deadline last, events). A part the
 * state has and @caps lacks is -EOPNOTSUPP.
 */
int vcpu_state_set(int vcpu_fd, const struct vcpu_state_caps *caps, const struct vcpu_state *st,
		   const char **what);

struct state_writer;
struct state_reader;
void vcpu_state_write(const struct vcpu_state *st, struct state_writer *w);
/* Read and check one encoded state (a whole section: sr_done included). */
int vcpu_state_read(struct state_reader *r, struct vcpu_state *st);

#endif
