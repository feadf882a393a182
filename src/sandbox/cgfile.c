// SPDX-License-Identifier: MIT
/* cgroup control files: see sandbox/cgfile.h. */
#include "sandbox/cgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cgfile_open(const char *dir, const char *sub, const char *name, int flags)
{
	char path[1400];
	int n = snprintf(path, sizeof(path), "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", name);
	int fd;

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgfile_write(const char *dir, const char *sub, const char *name, const char *value)
{
	int fd = cgfile_open(dir, sub, name, O_WRONLY), ret = 0;

	if (fd < 0)
		return fd;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int cgfile_read(const char *dir, const char *sub, const char *name, char *buf, size_t len)
{
	int fd = cgfile_open(dir, sub, name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}
