// SPDX-License-Identifier: MIT
/* blk_image_open(): what is accepted, what is refused and how it is said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "block_test_helpers.h"

struct fixture {
	char dir[64], path[160], err[512], want[512];
	struct blk_image img;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (bt_mkdir(f->dir, sizeof(f->dir)) || chmod(f->dir, 0755))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bt_rmdir(f->dir);
	free(f);
	return 0;
}

static int open_path(struct fixture *f, const char *path, bool ro, bool direct)
{
	struct husk_disk_config cfg = { .path = path, .readonly = ro, .direct = direct };

	f->err[0] = 0;
	return blk_image_open(&cfg, &f->img, f->err, sizeof(f->err));
}

static void expect_err(struct fixture *f, const char *path, const char *why)
{
	snprintf(f->want, sizeof(f->want), "--disk path=%s: %s", path, why);
	assert_string_equal(f->err, f->want);
}

static void test_good_file(void **state)
{
	struct fixture *f = *state;
	struct stat before, after;

	assert_int_equal(bt_mkfile(f->dir, "a.img", 1 << 20, 0600, f->path, sizeof(f->path)), 0);
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(open_path(f, f->path, false, false), 0);
	assert_true(f->img.fd >= 0);
	assert_int_equal(f->img.size, 1 << 20);
	assert_int_equal(f->img.logical_block, 512);
	assert_false(f->img.readonly);
	assert_false(f->img.blockdev);
	assert_string_equal(f->img.path, f->path);
	if (f->img.discard)
		assert_true(f->img.write_zeroes);
	/* the fallocate probes changed nothing: same size, same blocks */
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_blocks, before.st_blocks);
	blk_image_close(&f->img);
	assert_int_equal(f->img.fd, -1);
}

static void test_missing(void **state)
{
	struct fixture *f = *state;

	snprintf(f->path, sizeof(f->path), "%s/nope.img", f->dir);
	assert_int_equal(open_path(f, f->path, false, false), -ENOENT);
	expect_err(f, f->path, "No such file or directory");
	assert_int_equal(open_path(f, f->path, true, false), -ENOENT);
	assert_int_equal(f->img.fd, -1);
}

static void test_directory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_path(f, f->dir, false, false), -EISDIR);
	expect_err(f, f->dir, "is a directory");
	assert_int_equal(open_path(f, f->dir, true, false), -EISDIR);
	expect_err(f, f->dir, "is a directory");
}

static void test_not_a_disk(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_path(f, "/dev/null", false, false), -EINVAL);
	expect_err(f, "/dev/null", "not a regular file or a block device");
}

static void test_no_path(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_path(f, NULL, false, false), -EINVAL);
	assert_string_equal(f->err, "--disk: path= is required");
}

static void test_size_not_sector_multiple(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bt_mkfile(f->dir, "odd.img", 1000, 0600, f->path, sizeof(f->path)), 0);
	assert_int_equal(open_path(f, f->path, false, false), -EINVAL);
	expect_err(f, f->path, "size 1000 bytes is not a multiple of 512");
	assert_int_equal(open_path(f, f->path, true, false), -EINVAL);
}

/*
 * Root opens anything, so permission cases run in a child that becomes
 * nobody first. The child exits with the failing line, 0 when all held.
 */
#define CHILD_CHECK(c) do { if (!(c)) _exit(__LINE__ & 0xff ? __LINE__ & 0xff : 1); } while (0)

static int run_as_nobody(void (*fn)(struct fixture *), struct fixture *f)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(200);
		fn(f);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void child_unreadable(struct fixture *f)
{
	CHILD_CHECK(open_path(f, f->path, false, false) == -EACCES);
	snprintf(f->want, sizeof(f->want), "--disk path=%s: Permission denied", f->path);
	CHILD_CHECK(strcmp(f->err, f->want) == 0);
	CHILD_CHECK(open_path(f, f->path, true, false) == -EACCES);
	CHILD_CHECK(strcmp(f->err, f->want) == 0);
}

static void test_unreadable(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bt_mkfile(f->dir, "secret.img", 4096, 0000, f->path, sizeof(f->path)), 0);
	assert_int_equal(run_as_nobody(child_unreadable, f), 0);
}

/* Readable but not writable: say so, and ro=on opens it. */
static void child_readonly(struct fixture *f)
{
	CHILD_CHECK(open_path(f, f->path, false, false) == -EROFS);
	snprintf(f->want, sizeof(f->want), "--disk path=%s: the file is read-only; add ro=on",
		 f->path);
	CHILD_CHECK(strcmp(f->err, f->want) == 0);
	CHILD_CHECK(open_path(f, f->path, true, false) == 0);
	CHILD_CHECK(f->img.readonly && f->img.size == 8192);
	CHILD_CHECK(!f->img.discard && !f->img.write_zeroes);
	blk_image_close(&f->img);
}

static void test_readonly_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bt_mkfile(f->dir, "ro.img", 8192, 0444, f->path, sizeof(f->path)), 0);
	assert_int_equal(run_as_nobody(child_readonly, f), 0);
}

/*
 * On a read-only mount (a read-only bind of the file, made in a private
 * mount namespace of a child) the open fails with EROFS, even for root.
 */
static void test_readonly_mount(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	assert_int_equal(bt_mkfile(f->dir, "rom.img", 4096, 0600, f->path, sizeof(f->path)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(f->path, f->path, NULL, MS_BIND, NULL) ||
		    mount(NULL, f->path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
			_exit(77);	/* no mount namespaces here */
		CHILD_CHECK(open_path(f, f->path, false, false) == -EROFS);
		snprintf(f->want, sizeof(f->want),
			 "--disk path=%s: the file is read-only; add ro=on", f->path);
		CHILD_CHECK(strcmp(f->err, f->want) == 0);
		CHILD_CHECK(open_path(f, f->path, true, false) == 0 && f->img.readonly);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* One writer per image; readers share. */
static void test_lock(void **state)
{
	struct fixture *f = *state;
	struct blk_image first;

	assert_int_equal(bt_mkfile(f->dir, "l.img", 4096, 0600, f->path, sizeof(f->path)), 0);
	assert_int_equal(open_path(f, f->path, false, false), 0);
	first = f->img;
	assert_int_equal(open_path(f, f->path, false, false), -EBUSY);
	expect_err(f, f->path, "in use by another process");
	assert_int_equal(open_path(f, f->path, true, false), -EBUSY);
	expect_err(f, f->path, "in use read-write by another process");
	blk_image_close(&first);
	assert_int_equal(open_path(f, f->path, true, false), 0);
	first = f->img;
	assert_int_equal(open_path(f, f->path, true, false), 0);
	blk_image_close(&f->img);
	assert_int_equal(open_path(f, f->path, false, false), -EBUSY);
	blk_image_close(&first);
}

static void test_direct(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bt_mkfile(f->dir, "d.img", 1 << 20, 0600, f->path, sizeof(f->path)), 0);
	if (open_path(f, f->path, false, true)) {
		expect_err(f, f->path, "O_DIRECT not supported here");
		return;
	}
	assert_true(f->img.direct);
	assert_true(f->img.logical_block >= 512);
	assert_int_equal(f->img.logical_block & (f->img.logical_block - 1), 0);
	assert_true(f->img.mem_align >= 1);
	blk_image_close(&f->img);
}

/* A file system without O_DIRECT (tmpfs before Linux 6.6) gives the clear error. */
static void test_direct_unsupported(void **state)
{
	struct fixture *f = *state;
	char path[] = "/dev/shm/husk-blk-XXXXXX";
	int fd = mkstemp(path), ret;

	if (fd < 0)
		skip();
	ret = ftruncate(fd, 4096);
	close(fd);
	assert_int_equal(ret, 0);
	ret = open_path(f, path, false, true);
	if (ret == 0) {
		blk_image_close(&f->img);
		unlink(path);
		skip();	/* this tmpfs takes O_DIRECT */
	}
	unlink(path);
	assert_int_equal(ret, -EINVAL);
	expect_err(f, path, "O_DIRECT not supported here");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_not_sector_multiple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_mount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_unsupported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
