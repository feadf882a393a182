/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VCPU_H
#define HUSK_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/kvm.h>

#include "boot/boot.h"

struct husk_vm;

/* One vCPU: its fd, its shared kvm_run page and the thread that runs it. */
struct vcpu {
	struct husk_vm *vm;
	unsigned index;		/* = APIC ID */
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	atomic_uint probe_gen;	/* halt probe asked (generation) */
	atomic_uint probe_done;	/* generation last answered */
	atomic_bool probe_dead;	/* halted with interrupts off at that probe */
};

int vcpu_create(struct vcpu *v, struct husk_vm *vm, unsigned index, char *err, size_t errlen);
/* CPUID, MSRs, LAPIC LINT pins; for the boot vCPU also the entry registers. */
int vcpu_configure(struct vcpu *v, const struct boot_entry *entry, char *err, size_t errlen);
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

/* cpu/regs.c */
int regs_set_boot(int vcpu_fd, const struct boot_entry *entry);
void regs_dump(int vcpu_fd, unsigned index);
/* cpu/msr.c */
int msrs_set_boot(int vcpu_fd, const struct husk_vm *vm);
int lapic_set_lint(int vcpu_fd);

#endif
