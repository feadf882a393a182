// SPDX-License-Identifier: MIT
/* PATCH /vm/limits: see sandbox/limits.h. */
#include "sandbox/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V1_PERIOD_US	100000

static int path_of(char *buf, size_t len, const char *dir, const char *sub, const char *file)
{
	int n = snprintf(buf, len, "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int read_str(const char *dir, const char *sub, const char *file, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	if (path_of(path, sizeof(path), dir, sub, file))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int write_str(const char *dir, const char *sub, const char *file, const char *val)
{
	char path[512];
	ssize_t n;
	int fd;

	if (path_of(path, sizeof(path), dir, sub, file))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return 0;
}

static bool exists(const char *dir, const char *sub, const char *file)
{
	char path[512];

	return !path_of(path, sizeof(path), dir, sub, file) && access(path, F_OK) == 0;
}

static bool is_v2(const char *dir)
{
	return exists(dir, NULL, "cgroup.controllers");
}

static int get_cpu(const char *dir, uint32_t *pct)
{
	char buf[64], max[32];
	long long quota, period = V1_PERIOD_US;
	int ret;

	*pct = 0;
	if (is_v2(dir)) {
		ret = read_str(dir, NULL, "cpu.max", buf, sizeof(buf));
		if (ret)
			return ret;
		if (sscanf(buf, "%31s %lld", max, &period) != 2 || period <= 0)
			return -EIO;
		if (!strcmp(max, "max"))
			return 0;
		quota = strtoll(max, NULL, 10);
	} else {
		ret = read_str(dir, "cpu", "cpu.cfs_quota_us", buf, sizeof(buf));
		if (ret)
			return ret;
		quota = strtoll(buf, NULL, 10);
		if (!read_str(dir, "cpu", "cpu.cfs_period_us", buf, sizeof(buf)))
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
	ret = is_v2(dir) ? read_str(dir, NULL, "memory.max", buf, sizeof(buf)) :
			   read_str(dir, "memory", "memory.limit_in_bytes", buf, sizeof(buf));
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
		ret = write_str(dir, NULL, "cpu.max", val);
	} else {
		ret = write_str(dir, "cpu", "cpu.cfs_period_us", "100000");
		snprintf(val, sizeof(val), "%lld",
			 pct ? (long long)pct * V1_PERIOD_US / 100 : -1LL);
		if (!ret)
			ret = write_str(dir, "cpu", "cpu.cfs_quota_us", val);
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
	ret = is_v2(dir) ? write_str(dir, NULL, "memory.max", val) :
			   write_str(dir, "memory", "memory.limit_in_bytes", val);
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
