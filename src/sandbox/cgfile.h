/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SANDBOX_CGFILE_H
#define HUSK_SANDBOX_CGFILE_H

#include <stddef.h>

/*
 * A cgroup control file, written or read whole in one call:
 * <dir>[/<sub>]/<name>. 0 or -errno (-ENAMETOOLONG for a path too long).
 */
int cgfile_write(const char *dir, const char *sub, const char *name, const char *value);
/* @buf gets the contents, NUL-terminated (at most @len - 1 bytes). */
int cgfile_read(const char *dir, const char *sub, const char *name, char *buf, size_t len);

#endif
