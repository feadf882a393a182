/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SANDBOX_LIMITS_H
#define HUSK_SANDBOX_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The VM process's own CPU and memory limits (PATCH /vm/limits), in the
 * cgroup husk-jailer delegated to it and mounted at --cgroup-dir: v2, the
 * files right there (cpu.max, memory.max); v1, one directory per
 * hierarchy (cpu/cpu.cfs_quota_us, memory/memory.limit_in_bytes). They
 * apply under the jailer's own limits, one level up, which husk cannot
 * touch (docs/jailer.md).
 */
#define LIMITS_CPU_PCT_MAX	100000u		/* percent of one CPU */
#define LIMITS_MEM_MIB_MAX	(1u << 30)

struct husk_limits {
	uint32_t cpu_percent;	/* 0: none; 100: one whole CPU */
	uint64_t memory_mib;	/* 0: none */
};

/* What is set now; -errno with @err when neither controller is there. */
int limits_get(const char *dir, struct husk_limits *out, char *err, size_t errlen);
/* @set_cpu / @set_mem say which to write. 0 or -errno with @err. */
int limits_set(const char *dir, const struct husk_limits *l, int set_cpu, int set_mem,
	       char *err, size_t errlen);

#endif
