/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SANDBOX_SECCOMP_H
#define HUSK_SANDBOX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Seccomp per thread role (docs/security.md). Every husk thread says its
 * role as it starts, before it touches anything a guest controls, and gets
 * that role's filter (the tables in seccomp_tables.c, compiled to BPF once
 * at startup, so entering costs two system calls and allocates nothing).
 *
 * A thread inherits its creator's filter and stacks its own on top; the
 * kernel applies the strictest answer. So a role that starts threads allows
 * what those threads need too: vCPU threads start the device workers (a
 * driver's DRIVER_OK), the main and API threads build VMs.
 */
enum sandbox_mode {
	SANDBOX_KILL = 0,	/* the default: a forbidden call ends the process */
	SANDBOX_LOG,		/* --seccomp log: allowed, logged by the kernel (audit) */
	SANDBOX_OFF,		/* --no-seccomp, --seccomp off */
};

enum sandbox_role {
	SANDBOX_MAIN = 0,	/* the event loop, building and restarting the VM */
	SANDBOX_API,		/* the HTTP API thread (builds the VM on InstanceStart) */
	SANDBOX_VCPU,		/* KVM_RUN and the exits it returns */
	SANDBOX_WORKER,		/* a device's I/O thread: queues, io_uring, taps */
	SANDBOX_MIGRATION,	/* migration, replication, post-copy pages, throttling */
	SANDBOX_WATCHDOG,	/* the guest watchdog's timer */
	SANDBOX_ROLES
};

/* The exit status of a process that made a forbidden system call (Firecracker's). */
#define HUSK_EXIT_SECCOMP	148

struct sock_filter;

struct husk_sandbox {
	enum sandbox_mode mode;
	int selftest;			/* HUSK_SECCOMP_SELFTEST: a role to misbehave, -1: none */
	struct sock_filter *prog[SANDBOX_ROLES];
	unsigned short len[SANDBOX_ROLES];
};

int sandbox_parse_mode(const char *s, enum sandbox_mode *out);
/* SANDBOX_KILL, but off in sanitizer builds (their runtimes call what no table lists). */
enum sandbox_mode sandbox_default_mode(void);
const char *sandbox_role_name(enum sandbox_role role);

/*
 * Compile every role's filter and install the SIGSYS reporter; from the
 * main thread before any other starts. Nothing to do for SANDBOX_OFF.
 * 0, or -errno with one line in @err.
 */
int sandbox_init(struct husk_sandbox *sb, enum sandbox_mode mode, char *err, size_t errlen);
void sandbox_free(struct husk_sandbox *sb);

/*
 * Put the calling thread under @role's filter (NULL or off: nothing).
 * 0 or -errno; a thread that cannot enter its role must not go on.
 */
int sandbox_enter(const struct husk_sandbox *sb, enum sandbox_role role);
/* Name the role of a thread that inherited its filter (the API's HTTP thread). */
void sandbox_note_role(enum sandbox_role role);

#endif
