/* SPDX-License-Identifier: MIT */
#ifndef HUSK_H
#define HUSK_H

/*
 * libhusk: build and run one KVM virtual machine.
 *
 *   struct husk_config cfg;
 *   husk_config_init(&cfg);
 *   cfg.kernel = "bzImage";
 *   if (husk_vm_create(&cfg, &vm, err, sizeof(err)) == 0) {
 *           status = husk_vm_run(vm);
 *           husk_vm_destroy(vm);
 *   }
 *
 * husk_vm_create() validates the whole configuration and builds the VM;
 * on error it leaves nothing behind and explains in @err (one line).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HUSK_EXIT_OK		0	/* guest reset, powered off, halted; stopped by signal */
#define HUSK_EXIT_CONFIG	1	/* usage, configuration or bad input */
#define HUSK_EXIT_VMM_ERROR	2	/* KVM or VMM failure at run time */

struct husk_config {
	const char *kernel;	/* bzImage or ELF, required */
	const char *initrd;	/* optional */
	const char *cmdline;	/* "" when absent */
	unsigned cpus;		/* 1 .. husk_max_cpus() */
	uint64_t memory;	/* bytes */
	bool hugepages;		/* back guest RAM with 2 MiB huge pages */
	const char *serial;	/* stdio | none | file:PATH | pty */
	unsigned shutdown_timeout; /* seconds SIGTERM waits for an ACPI power-off; 0: stop at once */
	bool rng;		/* a virtio-rng PCI device (default on) */
};

#define HUSK_DEFAULT_CPUS	1
#define HUSK_DEFAULT_MEMORY	(256ULL << 20)
#define HUSK_MAX_CPUS		254	/* xAPIC IDs and the MP table */
#define HUSK_DEFAULT_SHUTDOWN_TIMEOUT 10	/* seconds */
#define HUSK_MAX_SHUTDOWN_TIMEOUT 3600

struct husk_vm;

void husk_config_init(struct husk_config *cfg);
int husk_vm_create(const struct husk_config *cfg, struct husk_vm **out, char *err, size_t errlen);
/* Run until the guest or a signal stops it; returns the process exit status. */
int husk_vm_run(struct husk_vm *vm);
void husk_vm_destroy(struct husk_vm *vm);
/* Restore the terminal (safe from a fatal-signal handler). */
void husk_vm_restore_terminal(struct husk_vm *vm);

#endif
