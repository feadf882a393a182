// SPDX-License-Identifier: MIT
/*
 * AUTO falls back to the thread engine when io_uring is missing. Each case
 * runs in a child that blocks io_uring_setup with a seccomp filter (as a
 * sandbox or kernel.io_uring_disabled would) and captures its stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <seccomp.h>
#include <sys/wait.h>

#include "block_test_helpers.h"

struct fixture {
	char dir[64], path[160], log[160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (bt_mkdir(f->dir, sizeof(f->dir)) ||
	    bt_mkfile(f->dir, "disk.img", 1 << 20, 0600, f->path, sizeof(f->path)))
		return -1;
	snprintf(f->log, sizeof(f->log), "%s/stderr", f->dir);
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

static int block_syscall(int nr, int err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return -ENOMEM;
	/* TSYNC: also for threads already running (the thread engine's workers) */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

#define CHILD_CHECK(c) do { if (!(c)) _exit(__LINE__ % 250 + 1); } while (0)

/* In the child: two AUTO engines (one warning), I/O on one, URING refused. */
static void child_fallback(struct fixture *f, int errnum)
{
	struct husk_disk_config cfg = { .path = f->path };
	struct blk_engine *a, *b, *u = (void *)1;
	struct blk_image img;
	char err[256], want[256];
	uint8_t buf[4096], back[4096];
	struct iovec v = { buf, sizeof(buf) };

	CHILD_CHECK(block_syscall(SCMP_SYS(io_uring_setup), errnum) == 0);
	CHILD_CHECK(blk_image_open(&cfg, &img, err, sizeof(err)) == 0);
	CHILD_CHECK(blk_engine_create(&img, HUSK_BLK_ENGINE_AUTO, 16, &a, err, sizeof(err)) == 0);
	CHILD_CHECK(strcmp(blk_engine_name(a), "sync") == 0);
	CHILD_CHECK(blk_engine_create(&img, HUSK_BLK_ENGINE_AUTO, 16, &b, err, sizeof(err)) == 0);
	CHILD_CHECK(strcmp(blk_engine_name(b), "sync") == 0);
	bt_fill(buf, sizeof(buf), 0, 9);
	CHILD_CHECK(bt_rw(a, BLK_OP_WRITE, 8192, &v, 1) == 4096);
	v.iov_base = back;
	CHILD_CHECK(bt_rw(b, BLK_OP_READ, 8192, &v, 1) == 4096);
	CHILD_CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	CHILD_CHECK(bt_range(a, BLK_OP_FLUSH, 0, 0, false) == 0);
	CHILD_CHECK(blk_engine_create(&img, HUSK_BLK_ENGINE_URING, 16, &u, err, sizeof(err)) ==
		    -errnum);
	CHILD_CHECK(u == NULL);
	snprintf(want, sizeof(want), "--disk path=%s: io_uring unavailable (%s)", f->path,
		 strerror(errnum));
	CHILD_CHECK(strcmp(err, want) == 0);
	blk_engine_destroy(a);
	blk_engine_destroy(b);
	blk_image_close(&img);
}

static void run_child(struct fixture *f, int errnum)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(255);
		child_fallback(f, errnum);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void expect_one_warning(struct fixture *f, int errnum)
{
	char log[4096] = "", want[256];
	int fd = open(f->log, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	assert_true(n > 0);
	snprintf(want, sizeof(want),
		 "husk: warning: io_uring unavailable (%s): using the thread engine\n",
		 strerror(errnum));
	assert_string_equal(log, want);	/* exactly once, nothing else */
}

static void test_fallback_enosys(void **state)
{
	struct fixture *f = *state;

	run_child(f, ENOSYS);
	expect_one_warning(f, ENOSYS);
}

static void test_fallback_eperm(void **state)
{
	struct fixture *f = *state;

	run_child(f, EPERM);
	expect_one_warning(f, EPERM);
}

/* A ring can be made but not registered to: that is no io_uring either. */
static void test_fallback_register_blocked(void **state)
{
	struct fixture *f = *state;
	struct husk_disk_config cfg = { .path = f->path };
	int status;
	pid_t pid;

	if (!bt_uring_available())
		skip();	/* it would fail earlier, at io_uring_setup */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct blk_engine *e;
		struct blk_image img;
		char err[256];
		uint8_t buf[512] = { 0 };
		struct iovec v = { buf, sizeof(buf) };
		int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		CHILD_CHECK(fd >= 0 && dup2(fd, STDERR_FILENO) >= 0);
		CHILD_CHECK(block_syscall(SCMP_SYS(io_uring_register), EPERM) == 0);
		CHILD_CHECK(blk_image_open(&cfg, &img, err, sizeof(err)) == 0);
		CHILD_CHECK(blk_engine_create(&img, HUSK_BLK_ENGINE_AUTO, 4, &e, err,
					      sizeof(err)) == 0);
		CHILD_CHECK(strcmp(blk_engine_name(e), "sync") == 0);
		CHILD_CHECK(bt_rw(e, BLK_OP_WRITE, 0, &v, 1) == 512);
		blk_engine_destroy(e);
		blk_image_close(&img);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		char log[1024] = "";
		int fd = open(f->log, O_RDONLY);

		assert_true(fd >= 0);
		assert_true(read(fd, log, sizeof(log) - 1) > 0);
		close(fd);
		assert_string_equal(log, "husk: warning: io_uring unavailable (registering the "
				    "image: Operation not permitted): using the thread engine\n");
	}
}

/*
 * The thread engine's FLUSH is a real fdatasync and its errors reach the
 * device: a filter makes fdatasync and pwritev fail with EIO, as a failing
 * disk would, and the requests complete with -EIO.
 */
static void test_sync_engine_syscall_errors(void **state)
{
	struct fixture *f = *state;
	struct husk_disk_config cfg = { .path = f->path };
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct blk_engine *e;
		struct blk_engine_stats st;
		struct blk_image img;
		char err[256];
		uint8_t buf[512] = { 0 };
		struct iovec v = { buf, sizeof(buf) };

		CHILD_CHECK(blk_image_open(&cfg, &img, err, sizeof(err)) == 0);
		CHILD_CHECK(blk_engine_create(&img, HUSK_BLK_ENGINE_SYNC, 4, &e, err,
					      sizeof(err)) == 0);
		CHILD_CHECK(bt_range(e, BLK_OP_FLUSH, 0, 0, false) == 0);
		CHILD_CHECK(block_syscall(SCMP_SYS(fdatasync), EIO) == 0);
		CHILD_CHECK(block_syscall(SCMP_SYS(pwritev), EIO) == 0);
		CHILD_CHECK(bt_range(e, BLK_OP_FLUSH, 0, 0, false) == -EIO);
		CHILD_CHECK(bt_rw(e, BLK_OP_WRITE, 0, &v, 1) == -EIO);
		CHILD_CHECK(bt_rw(e, BLK_OP_READ, 0, &v, 1) == 512);
		blk_engine_stats(e, &st);
		CHILD_CHECK(st.flushes == 2 && st.errors == 2 && st.completed == 4);
		blk_engine_destroy(e);
		blk_image_close(&img);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Where io_uring works, AUTO picks it and says nothing. */
static void test_auto_prefers_uring(void **state)
{
	struct fixture *f = *state;
	struct husk_disk_config cfg = { .path = f->path };
	struct blk_engine *e;
	struct blk_image img;
	char err[256];

	assert_int_equal(blk_image_open(&cfg, &img, err, sizeof(err)), 0);
	if (blk_engine_create(&img, HUSK_BLK_ENGINE_URING, 8, &e, err, sizeof(err))) {
		blk_image_close(&img);
		skip();	/* no io_uring on this host */
	}
	blk_engine_destroy(e);
	assert_int_equal(blk_engine_create(&img, HUSK_BLK_ENGINE_AUTO, 8, &e, err, sizeof(err)), 0);
	assert_string_equal(blk_engine_name(e), "io_uring");
	blk_engine_destroy(e);
	assert_int_equal(blk_engine_create(&img, HUSK_BLK_ENGINE_SYNC, 8, &e, err, sizeof(err)), 0);
	assert_string_equal(blk_engine_name(e), "sync");
	blk_engine_destroy(e);
	blk_image_close(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fallback_enosys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_eperm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_register_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_engine_syscall_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_prefers_uring, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
