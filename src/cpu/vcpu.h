/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VCPU_H
#define HUSK_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/kvm.h>

#include "boot/boot.h"

struct husk_vm;

/* KVM exits by kind, per vCPU (GET /metrics sums them). */
enum vcpu_exit_kind {
	VCPU_EXIT_IO_IN, VCPU_EXIT_IO_OUT, VCPU_EXIT_MMIO_READ, VCPU_EXIT_MMIO_WRITE,
	VCPU_EXIT_HLT, VCPU_EXIT_INTR, VCPU_EXIT_IRQ_WINDOW, VCPU_EXIT_SHUTDOWN,
	VCPU_EXIT_SYSTEM_EVENT, VCPU_EXIT_FAILURE, VCPU_EXIT_OTHER, VCPU_EXIT_KINDS,
};
extern const char *const vcpu_exit_names[VCPU_EXIT_KINDS];

/* Written only by its vCPU thread: on its own cache lines (64-byte aligned). */
struct vcpu_exit_stats {
	atomic_uint_fast64_t n[VCPU_EXIT_KINDS];
};

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
	struct vcpu_exit_stats *exits;	/* aligned_alloc'd by vcpu_create */
	const struct husk_sandbox *sandbox;	/* its seccomp role's filter; NULL: none */
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
