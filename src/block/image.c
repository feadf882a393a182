// SPDX-License-Identifier: MIT
/* Disk images: open, check, lock and probe a raw image (regular file or block device). */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int image_error(const struct blk_image *img, int ret, char *err, size_t errlen,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int image_error(const struct blk_image *img, int ret, char *err, size_t errlen,
		       const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "--disk path=%s: %s", img->path, why);
	return ret;
}

/* Read-write first; when only that is refused, tell the user about ro=on. */
static int open_image(const struct husk_disk_config *cfg, struct blk_image *img,
		      char *err, size_t errlen)
{
	int flags = O_CLOEXEC | (cfg->direct ? O_DIRECT : 0);
	int fd = open(cfg->path, flags | (cfg->readonly ? O_RDONLY : O_RDWR));
	int ret;

	if (fd >= 0)
		return fd;
	ret = -errno;
	if (ret == -EISDIR)
		return image_error(img, ret, err, errlen, "is a directory");
	if (ret == -EINVAL && cfg->direct)
		return image_error(img, ret, err, errlen, "O_DIRECT not supported here");
	if (!cfg->readonly && (ret == -EACCES || ret == -EPERM || ret == -EROFS ||
			       ret == -ETXTBSY)) {
		fd = open(cfg->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return image_error(img, -EROFS, err, errlen,
					   "the file is read-only; add ro=on");
		}
	}
	return image_error(img, ret, err, errlen, "%s", strerror(-ret));
}

static int blockdev_geometry(struct blk_image *img, char *err, size_t errlen)
{
	uint64_t bytes;
	int lbs;

	if (ioctl(img->fd, BLKGETSIZE64, &bytes) < 0 || ioctl(img->fd, BLKSSZGET, &lbs) < 0)
		return image_error(img, -errno, err, errlen, "cannot read the device's size: %s",
				   strerror(errno));
	img->size = bytes;
	img->logical_block = (uint32_t)lbs;
	img->mem_align = img->direct ? (uint32_t)lbs : 1;
	return 0;
}

/* O_DIRECT on a file: the alignment the file system asks for (statx, Linux 6.1+). */
static void file_direct_alignment(struct blk_image *img)
{
	struct statx stx;

	img->logical_block = BLK_SECTOR_SIZE;
	img->mem_align = img->direct ? BLK_SECTOR_SIZE : 1;
	if (!img->direct)
		return;
	if (statx(img->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) < 0 ||
	    !(stx.stx_mask & STATX_DIOALIGN) || stx.stx_dio_offset_align == 0)
		return;
	if (stx.stx_dio_offset_align > BLK_SECTOR_SIZE)
		img->logical_block = stx.stx_dio_offset_align;
	if (stx.stx_dio_mem_align)
		img->mem_align = stx.stx_dio_mem_align;
}

/*
 * Can we punch holes? Ask beyond the end of the file with KEEP_SIZE: the
 * file systems that support it do nothing there, and nothing changes.
 * ZERO_RANGE is only tried (the same way) where punching is refused.
 * Block devices: ZERO_RANGE always works (the kernel writes zeroes when
 * the device cannot); their PUNCH_HOLE is not a discard, so no discard.
 */
static void probe_fallocate(struct blk_image *img)
{
	int keep = FALLOC_FL_KEEP_SIZE;
	off_t end = (off_t)img->size;

	img->discard = img->write_zeroes = false;
	if (img->readonly)
		return;
	if (img->blockdev) {
		img->write_zeroes = true;
		return;
	}
	img->discard = fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | keep, end, BLK_SECTOR_SIZE) == 0;
	img->write_zeroes = img->discard ||
		fallocate(img->fd, FALLOC_FL_ZERO_RANGE | keep, end, BLK_SECTOR_SIZE) == 0;
}

static int check_image(struct blk_image *img, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(img->fd, &st) < 0)
		return image_error(img, -errno, err, errlen, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return image_error(img, -EISDIR, err, errlen, "is a directory");
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return image_error(img, -EINVAL, err, errlen,
				   "not a regular file or a block device");
	img->blockdev = S_ISBLK(st.st_mode);
	if (img->blockdev) {
		int ret = blockdev_geometry(img, err, errlen);

		if (ret)
			return ret;
	} else {
		img->size = (uint64_t)st.st_size;
		file_direct_alignment(img);
	}
	if (img->size % BLK_SECTOR_SIZE)
		return image_error(img, -EINVAL, err, errlen,
				   "size %llu bytes is not a multiple of 512",
				   (unsigned long long)img->size);
	if (img->direct && img->size % img->logical_block)
		return image_error(img, -EINVAL, err, errlen,
				   "size %llu bytes is not a multiple of %u (O_DIRECT)",
				   (unsigned long long)img->size, img->logical_block);
	return 0;
}

/* One writer per image, or any number of readers. */
static int lock_image(struct blk_image *img, char *err, size_t errlen)
{
	if (flock(img->fd, (img->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return image_error(img, -EBUSY, err, errlen,
				   img->readonly ? "in use read-write by another process" :
						   "in use by another process");
	return image_error(img, -errno, err, errlen, "cannot lock it: %s", strerror(errno));
}

int blk_image_lock(struct blk_image *img, char *err, size_t errlen)
{
	return lock_image(img, err, errlen);
}

void blk_image_unlock(struct blk_image *img)
{
	if (img->fd >= 0)
		flock(img->fd, LOCK_UN);
}

static int image_open(const struct husk_disk_config *cfg, struct blk_image *img, bool lock,
		      char *err, size_t errlen)
{
	int ret;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	if (!cfg->path || !cfg->path[0]) {
		snprintf(err, errlen, "--disk: path= is required");
		return -EINVAL;
	}
	if (strlen(cfg->path) >= sizeof(img->path)) {
		snprintf(err, errlen, "--disk path=%.64s...: the path is too long", cfg->path);
		return -ENAMETOOLONG;
	}
	strcpy(img->path, cfg->path);
	img->readonly = cfg->readonly;
	img->direct = cfg->direct;
	ret = open_image(cfg, img, err, errlen);
	if (ret < 0)
		return ret;
	img->fd = ret;
	ret = check_image(img, err, errlen);
	if (ret == 0 && lock)
		ret = lock_image(img, err, errlen);
	if (ret) {
		blk_image_close(img);
		return ret;
	}
	probe_fallocate(img);
	return 0;
}

int blk_image_open(const struct husk_disk_config *cfg, struct blk_image *img,
		   char *err, size_t errlen)
{
	return image_open(cfg, img, true, err, errlen);
}

int blk_image_open_unlocked(const struct husk_disk_config *cfg, struct blk_image *img,
			    char *err, size_t errlen)
{
	return image_open(cfg, img, false, err, errlen);
}

void blk_image_close(struct blk_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
}
