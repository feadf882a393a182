// SPDX-License-Identifier: MIT
/* PATCH /vm/limits: see sandbox/limits.h. */
#include "sandbox/limits.h"
#include "sandbox/cgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V1_PERIOD_US	100000

static bool is_v2(const char *dir)
{
	char buf[256];

	return cgfile_read(dir, NULL, "cgroup.controllers", buf, sizeof(buf)) == 0;
}

static int get_cpu(const char *dir, uint32_t *pct)
{
	char buf[64], max[32];
	long long quota, period = V1_PERIOD_US;
	int ret;

	*pct = 0;
	if (is_v2(dir)) {
		ret = cgfile_read(dir, NULL, "cpu.max", buf, sizeof(buf));
		if (ret)
			return ret;
		if (sscanf(buf, "%31s %lld", max, &period) != 2 || period <= 0)
			return -EIO;
		if (!strcmp(max, "max"))
			return 0;
		quota = strtoll(max, NULL, 10);
	} else {
		ret = cgfile_read(dir, "cpu", "cpu.cfs_quota_us", buf, sizeof(buf));
		if (ret)
			return ret;
		quota = strtoll(buf, NULL, 10);
		if (!cgfile_read(dir, "cpu", "cpu.cfs_period_us", buf, sizeof(buf)))
			period = strtoll(buf, NULL, 10);
		if (quota < 0 || period <= 0)
			return 0;
	}
	*pct = (uint32_t)(quota * 100 / period);
	return 0;
}

static int get_mem(const char *dir, uint64_t *mib)
{
	char buf[64];
	int ret;

	*mib = 0;
	ret = is_v2(dir) ? cgfile_read(dir, NULL, "memory.max", buf, sizeof(buf)) :
			   cgfile_read(dir, "memory", "memory.limit_in_bytes", buf, sizeof(buf));
	if (ret)
		return ret;
	if (strncmp(buf, "max", 3)) {
		unsigned long long b = strtoull(buf, NULL, 10);

		/* v1 says "no limit" with a huge number near LLONG_MAX */
		if (b < (1ULL << 60))
			*mib = b >> 20;
	}
	return 0;
}

int limits_get(const char *dir, struct husk_limits *out, char *err, size_t errlen)
{
	int rc = get_cpu(dir, &out->cpu_percent), rm = get_mem(dir, &out->memory_mib);

	if (rc && rm) {
		snprintf(err, errlen, "%s: no cpu or memory cgroup here (%s)", dir, strerror(-rc));
		return rc;
	}
	return 0;
}

static int set_cpu(const char *dir, uint32_t pct, char *err, size_t errlen)
{
	char val[64];
	int ret;

	if (is_v2(dir)) {
		if (pct)
			snprintf(val, sizeof(val), "%" PRIu64 " %d",
				 (uint64_t)pct * V1_PERIOD_US / 100, V1_PERIOD_US);
		else
			snprintf(val, sizeof(val), "max %d", V1_PERIOD_US);
		ret = cgfile_write(dir, NULL, "cpu.max", val);
	} else {
		ret = cgfile_write(dir, "cpu", "cpu.cfs_period_us", "100000");
		snprintf(val, sizeof(val), "%lld",
			 pct ? (long long)pct * V1_PERIOD_US / 100 : -1LL);
		if (!ret)
			ret = cgfile_write(dir, "cpu", "cpu.cfs_quota_us", val);
	}
	if (ret)
		snprintf(err, errlen, "cpu_percent: %s%s", strerror(-ret), ret == -ENOENT ?
			 " (no cpu cgroup: give husk-jailer a --cgroup cpu.* value)" : "");
	return ret;
}

static int set_mem(const char *dir, uint64_t mib, char *err, size_t errlen)
{
	char val[32];
	int ret;

	if (mib)
		snprintf(val, sizeof(val), "%" PRIu64, mib << 20);
	else
		snprintf(val, sizeof(val), "%s", is_v2(dir) ? "max" : "-1");
	ret = is_v2(dir) ? cgfile_write(dir, NULL, "memory.max", val) :
			   cgfile_write(dir, "memory", "memory.limit_in_bytes", val);
	if (ret)
		snprintf(err, errlen, "memory_mib: %s%s", strerror(-ret), ret == -ENOENT ?
			 " (no memory cgroup: give husk-jailer a --cgroup memory.* value)" :
			 ret == -EBUSY ? " (the VM uses more already)" : "");
	return ret;
}

int limits_set(const char *dir, const struct husk_limits *l, int do_cpu, int do_mem,
	       char *err, size_t errlen)
{
	int ret = 0;

	if (do_cpu)
		ret = set_cpu(dir, l->cpu_percent, err, errlen);
	if (!ret && do_mem)
		ret = set_mem(dir, l->memory_mib, err, errlen);
	return ret;
}
