/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SANDBOX_SECCOMP_TABLES_H
#define HUSK_SANDBOX_SECCOMP_TABLES_H

#include "sandbox/seccomp.h"

/* How a rule looks at the call's arguments. */
enum sandbox_arg {
	SB_ANY,			/* any arguments */
	SB_IOCTL,		/* ioctl: request == val */
	SB_IOCTL_TYPE,		/* ioctl: the request's type byte == val (_IOC_TYPE) */
	SB_NOEXEC,		/* mmap, mprotect: prot without PROT_EXEC */
	SB_ARG0_EQ,		/* the first argument == val */
	SB_ARG0_HAS,		/* the first argument has every bit of val */
	SB_ERRNO,		/* not allowed, but answered -val (never kills) */
};

struct sandbox_rule {
	int nr;			/* SCMP_SYS(name) */
	enum sandbox_arg arg;
	unsigned long val;
};

struct sandbox_group {
	const char *name;
	const struct sandbox_rule *rules;
	unsigned n;
};

struct sandbox_role_table {
	const char *name;
	const struct sandbox_group *const *groups;
	unsigned ngroups;
};

const struct sandbox_role_table *sandbox_role_table(enum sandbox_role role);

#endif
