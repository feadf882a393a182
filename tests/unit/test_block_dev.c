// SPDX-License-Identifier: MIT
/*
 * Block devices as images, on a loop device over a temp file (skipped where
 * loop devices cannot be set up: not root, no /dev/loop-control). The loop
 * device is set to clear itself when the last descriptor closes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/loop.h>
#include <sys/ioctl.h>

#include "block_test_helpers.h"

#define DEV_SIZE	(4u << 20)

struct fixture {
	char dir[64], file[160], dev[32];
	int loopfd;
	struct blk_image img;
};

/* A loop device over @f->file with @block_size; 0 or -errno. */
static int attach_loop(struct fixture *f, unsigned block_size)
{
	struct loop_config lc = { .block_size = block_size };
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int back = open(f->file, O_RDWR | O_CLOEXEC), ret = -ENODEV;

	lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	lc.fd = (uint32_t)back;
	for (int tries = 0; ctl >= 0 && back >= 0 && tries < 8; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0)
			break;
		snprintf(f->dev, sizeof(f->dev), "/dev/loop%d", n);
		f->loopfd = open(f->dev, O_RDWR | O_CLOEXEC);
		if (f->loopfd < 0)
			break;
		if (ioctl(f->loopfd, LOOP_CONFIGURE, &lc) == 0) {
			ret = 0;
			break;
		}
		ret = -errno;
		close(f->loopfd);
		f->loopfd = -1;
		if (ret != -EBUSY)	/* EBUSY: someone else took it first */
			break;
	}
	if (ctl >= 0)
		close(ctl);
	if (back >= 0)
		close(back);
	return ret;
}

static int setup(void **state, unsigned block_size)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->loopfd = -1;
	*state = f;
	if (bt_mkdir(f->dir, sizeof(f->dir)) ||
	    bt_mkfile(f->dir, "backing.img", DEV_SIZE, 0600, f->file, sizeof(f->file)))
		return -1;
	attach_loop(f, block_size);	/* the tests skip without it */
	return 0;
}

static int setup_512(void **state)
{
	return setup(state, 512);
}

static int setup_4k(void **state)
{
	return setup(state, 4096);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->loopfd >= 0) {
		ioctl(f->loopfd, LOOP_CLR_FD, 0);
		close(f->loopfd);
	}
	bt_rmdir(f->dir);
	free(f);
	return 0;
}

static void open_dev(struct fixture *f, bool direct)
{
	struct husk_disk_config cfg = { .path = f->dev, .direct = direct };
	char err[256];

	if (f->loopfd < 0)
		skip();
	assert_int_equal(blk_image_open(&cfg, &f->img, err, sizeof(err)), 0);
	assert_true(f->img.blockdev);
	assert_int_equal(f->img.size, DEV_SIZE);
}

/* Write through the device, zero part of it, and see both in the backing file. */
static void io_roundtrip(struct fixture *f, enum husk_blk_engine kind)
{
	struct blk_engine *e;
	uint8_t *buf, *back;
	struct iovec v;
	char err[256];
	int fd;

	assert_int_equal(blk_engine_create(&f->img, kind, 8, &e, err, sizeof(err)), 0);
	assert_int_equal(posix_memalign((void **)&buf, 4096, 65536), 0);
	assert_int_equal(posix_memalign((void **)&back, 4096, 65536), 0);
	bt_fill(buf, 65536, 0, (unsigned)kind);
	v = (struct iovec){ buf, 65536 };
	assert_int_equal(bt_rw(e, BLK_OP_WRITE, 65536, &v, 1), 65536);
	assert_int_equal(bt_range(e, BLK_OP_WRITE_ZEROES, 65536 + 8192, 8192, false), 0);
	assert_int_equal(bt_range(e, BLK_OP_FLUSH, 0, 0, false), 0);
	blk_engine_destroy(e);
	memset(buf + 8192, 0, 8192);
	fd = open(f->file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, 65536, 65536), 65536);
	close(fd);
	assert_memory_equal(buf, back, 65536);
	free(buf);
	free(back);
}

static void test_blockdev_512(void **state)
{
	struct fixture *f = *state;

	open_dev(f, false);
	assert_int_equal(f->img.logical_block, 512);
	assert_true(f->img.write_zeroes);
	assert_false(f->img.discard);
	io_roundtrip(f, HUSK_BLK_ENGINE_SYNC);
	io_roundtrip(f, HUSK_BLK_ENGINE_AUTO);
	blk_image_close(&f->img);
}

/* A 4 KiB-sector device with O_DIRECT: 512-byte I/O is refused, 4 KiB works. */
static void test_blockdev_4k_direct(void **state)
{
	struct fixture *f = *state;
	struct blk_engine *e;
	uint8_t *buf;
	struct iovec v;
	char err[256];

	open_dev(f, true);
	assert_int_equal(f->img.logical_block, 4096);
	assert_int_equal(blk_engine_create(&f->img, HUSK_BLK_ENGINE_AUTO, 8, &e, err,
					   sizeof(err)), 0);
	assert_int_equal(posix_memalign((void **)&buf, 4096, 8192), 0);
	v = (struct iovec){ buf, 512 };
	assert_int_equal(bt_rw(e, BLK_OP_READ, 0, &v, 1), -EINVAL);
	v = (struct iovec){ buf, 4096 };
	assert_int_equal(bt_rw(e, BLK_OP_READ, 512, &v, 1), -EINVAL);
	assert_int_equal(bt_rw(e, BLK_OP_READ, 4096, &v, 1), 4096);
	blk_engine_destroy(e);
	free(buf);
	io_roundtrip(f, HUSK_BLK_ENGINE_SYNC);
	blk_image_close(&f->img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blockdev_512, setup_512, teardown),
		cmocka_unit_test_setup_teardown(test_blockdev_4k_direct, setup_4k, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
