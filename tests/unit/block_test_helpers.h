/* SPDX-License-Identifier: MIT */
/* Helpers for the block backend tests: temp images and one-request round trips. */
#ifndef HUSK_BLOCK_TEST_HELPERS_H
#define HUSK_BLOCK_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"

/* A fresh directory under /tmp; @dir gets its path. */
static inline int bt_mkdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/husk-blk-XXXXXX");
	return mkdtemp(dir) ? 0 : -errno;
}

/* Create @dir/@name with @size bytes (sparse) and mode @mode; the path goes to @path. */
static inline int bt_mkfile(const char *dir, const char *name, off_t size, mode_t mode,
			    char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0 || fchmod(fd, mode) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static inline void bt_rmdir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Wait (up to 5 s) until @n requests came back; returns how many did. */
static inline unsigned bt_reap_n(struct blk_engine *e, struct blk_io **done, unsigned n,
				 unsigned max_per_call)
{
	unsigned got = 0;

	while (got < n) {
		struct pollfd p = { .fd = blk_engine_completion_fd(e), .events = POLLIN };
		unsigned want = n - got < max_per_call ? n - got : max_per_call;

		if (poll(&p, 1, 5000) <= 0)
			break;
		got += blk_engine_reap(e, done + got, want);
	}
	return got;
}

/* Queue, submit and wait for one request; returns its result or a queue error. */
static inline int64_t bt_run(struct blk_engine *e, struct blk_io *io)
{
	struct blk_io *done = NULL;
	int ret = blk_engine_queue(e, io);

	if (ret)
		return ret;
	ret = blk_engine_submit(e);
	if (ret)
		return ret;
	if (bt_reap_n(e, &done, 1, 1) != 1 || done != io)
		return -ETIMEDOUT;
	return io->result;
}

static inline int64_t bt_rw(struct blk_engine *e, enum blk_op op, uint64_t off,
			    const struct iovec *iov, unsigned cnt)
{
	struct blk_io io = { .op = op, .offset = off, .iov = iov, .iovcnt = cnt };

	for (unsigned i = 0; i < cnt; i++)
		io.len += iov[i].iov_len;
	return bt_run(e, &io);
}

static inline int64_t bt_range(struct blk_engine *e, enum blk_op op, uint64_t off,
			       uint64_t len, bool unmap)
{
	struct blk_io io = { .op = op, .offset = off, .len = len, .unmap = unmap };

	return bt_run(e, &io);
}

/* Can this host run the io_uring engine at all? (a throwaway image under /tmp) */
static inline bool bt_uring_available(void)
{
	char dir[64], path[160], err[256];
	struct husk_disk_config cfg = { .path = path };
	struct blk_engine *e = NULL;
	struct blk_image img;
	bool ok = false;

	if (bt_mkdir(dir, sizeof(dir)) ||
	    bt_mkfile(dir, "probe.img", 4096, 0600, path, sizeof(path)))
		return false;
	if (blk_image_open(&cfg, &img, err, sizeof(err)) == 0) {
		ok = blk_engine_create(&img, HUSK_BLK_ENGINE_URING, 1, &e, err, sizeof(err)) == 0;
		blk_engine_destroy(e);
		blk_image_close(&img);
	}
	bt_rmdir(dir);
	if (!ok)
		fprintf(stderr, "io_uring unavailable here: skipping the io_uring cases\n");
	return ok;
}

/* A byte pattern that differs by position and by @seed. */
static inline void bt_fill(uint8_t *buf, size_t len, uint64_t pos, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(((pos + i) * 131u + seed * 7u + ((pos + i) >> 9)) & 0xff);
}

static inline bool bt_all_zero(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i])
			return false;
	}
	return true;
}

#endif
