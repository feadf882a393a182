// SPDX-License-Identifier: MIT
/* Merging a Diff memory file onto its base (snapmerge.h). */
#include "state/snapmerge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK	(1u << 20)

/* Copy [off, off + len) of @in to the same place in @out. */
static int copy_range(int in, int out, off_t off, off_t len)
{
	static char buf[COPY_CHUNK];

	while (len > 0) {
		size_t n = len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t r = pread(in, buf, n, off), w;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;	/* the diff shrank under us */
		for (ssize_t done = 0; done < r; done += w) {
			w = pwrite(out, buf + done, (size_t)(r - done), off + done);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
		}
		off += r;
		len -= r;
	}
	return 0;
}

static int merge_fds(int b, int d, off_t size, uint64_t *copied)
{
	off_t off = 0;

	while (off < size) {
		off_t data = lseek(d, off, SEEK_DATA), hole;
		int ret;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;	/* ENXIO: no data after @off */
		hole = lseek(d, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if (hole > size)
			hole = size;
		ret = copy_range(d, b, data, hole - data);
		if (ret)
			return ret;
		*copied += (uint64_t)(hole - data);
		off = hole;
	}
	return 0;
}

int snap_mem_merge(const char *base, const char *diff, uint64_t *copied, char *err,
		   size_t errlen)
{
	struct stat sb, sd;
	int b, d, ret;

	*copied = 0;
	d = open(diff, O_RDONLY | O_CLOEXEC);
	if (d < 0) {
		ret = -errno;
		snprintf(err, errlen, "diff %s: %s", diff, strerror(-ret));
		return ret;
	}
	b = open(base, O_RDWR | O_CLOEXEC);
	if (b < 0) {
		ret = -errno;
		snprintf(err, errlen, "base %s: %s", base, strerror(-ret));
		close(d);
		return ret;
	}
	ret = -EINVAL;
	if (fstat(b, &sb) < 0 || fstat(d, &sd) < 0 || !S_ISREG(sb.st_mode) || !S_ISREG(sd.st_mode))
		snprintf(err, errlen, "%s, %s: both must be regular files", base, diff);
	else if (sb.st_dev == sd.st_dev && sb.st_ino == sd.st_ino)
		snprintf(err, errlen, "%s and %s are the same file", base, diff);
	else if (sb.st_size != sd.st_size)
		snprintf(err, errlen, "diff %s has %lld bytes, base %s %lld: not its base", diff,
			 (long long)sd.st_size, base, (long long)sb.st_size);
	else
		ret = 0;
	if (!ret && (ret = merge_fds(b, d, sd.st_size, copied)))
		snprintf(err, errlen, "merging %s onto %s: %s", diff, base, strerror(-ret));
	if (!ret && fsync(b) < 0) {
		ret = -errno;
		snprintf(err, errlen, "base %s: fsync: %s", base, strerror(-ret));
	}
	close(b);
	close(d);
	return ret;
}
