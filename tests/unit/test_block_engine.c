// SPDX-License-Identifier: MIT
/* The block engines, each test run on io_uring and on the thread engine, on a temp file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>

#include "block/engine_internal.h"
#include "block_test_helpers.h"

#define IMG_SIZE	(8u << 20)
#define DEPTH		64

struct fixture {
	enum husk_blk_engine kind;
	char dir[64], path[160];
	struct blk_image img;
	struct blk_engine *e;
};

static int open_engine(struct fixture *f, bool direct, unsigned depth)
{
	struct husk_disk_config cfg = { .path = f->path, .direct = direct };
	char err[256];
	int ret;

	ret = blk_image_open(&cfg, &f->img, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return ret;
	}
	ret = blk_engine_create(&f->img, f->kind, depth, &f->e, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		blk_image_close(&f->img);
	}
	return ret;
}

static void close_engine(struct fixture *f)
{
	blk_engine_destroy(f->e);
	f->e = NULL;
	blk_image_close(&f->img);
}

static int setup(void **state, enum husk_blk_engine kind)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->kind = kind;
	if (bt_mkdir(f->dir, sizeof(f->dir)) ||
	    bt_mkfile(f->dir, "disk.img", IMG_SIZE, 0600, f->path, sizeof(f->path)))
		return -1;
	*state = f;
	if (open_engine(f, false, DEPTH))
		return -1;
	return 0;
}

static int setup_uring(void **state)
{
	return setup(state, HUSK_BLK_ENGINE_URING);
}

static int setup_sync(void **state)
{
	return setup(state, HUSK_BLK_ENGINE_SYNC);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->e)
		close_engine(f);
	bt_rmdir(f->dir);
	free(f);
	return 0;
}

static void file_read(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void test_name(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(blk_engine_name(f->e),
			    f->kind == HUSK_BLK_ENGINE_SYNC ? "sync" : "io_uring");
	assert_true(blk_engine_completion_fd(f->e) >= 0);
	assert_int_equal(blk_engine_inflight(f->e), 0);
}

/* Multi-iovec write with odd sizes, read back split differently. */
static void test_write_read_pattern(void **state)
{
	static const size_t wsplit[] = { 1, 511, 4096, 3000, 57928 };	/* 65536 */
	static const size_t rsplit[] = { 7, 9000, 13, 100, 56416 };
	struct fixture *f = *state;
	uint8_t *src = malloc(65536), *dst = calloc(1, 65536), *chk = malloc(65536);
	struct iovec wv[5], rv[5];
	size_t at = 0;

	bt_fill(src, 65536, 4096, 1);
	for (unsigned i = 0; i < 5; at += wsplit[i], i++)
		wv[i] = (struct iovec){ src + at, wsplit[i] };
	at = 0;
	for (unsigned i = 0; i < 5; at += rsplit[i], i++)
		rv[i] = (struct iovec){ dst + at, rsplit[i] };
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, 4096, wv, 5), 65536);
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 4096, rv, 5), 65536);
	assert_memory_equal(src, dst, 65536);
	file_read(f->path, chk, 65536, 4096);
	assert_memory_equal(src, chk, 65536);
	free(src);
	free(dst);
	free(chk);
}

/* More iovecs than one preadv takes: the engine goes on where the kernel stopped. */
static void test_more_than_iov_max(void **state)
{
	enum { N = 1500 };
	struct fixture *f = *state;
	struct iovec *v = calloc(N, sizeof(*v));
	uint8_t *src = malloc(N * 512), *dst = calloc(N, 512);

	bt_fill(src, N * 512, 0, 2);
	for (unsigned i = 0; i < N; i++)
		v[i] = (struct iovec){ src + i * 512, 512 };
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, 0, v, N), N * 512);
	for (unsigned i = 0; i < N; i++)
		v[i].iov_base = dst + i * 512;
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 0, v, N), N * 512);
	assert_memory_equal(src, dst, N * 512);
	free(v);
	free(src);
	free(dst);
}

static void test_zero_length(void **state)
{
	struct fixture *f = *state;
	struct iovec v = { NULL, 0 };

	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 512, &v, 1), 0);
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, 512, NULL, 0), 0);
	assert_int_equal(bt_range(f->e, BLK_OP_DISCARD, 0, 0, false), 0);
}

/* FLUSH is a real fdatasync / IORING_OP_FSYNC, and the data survives a reopen. */
static void test_flush_durable(void **state)
{
	struct fixture *f = *state;
	struct blk_engine_stats st;
	uint8_t buf[8192], back[8192];
	struct iovec v = { buf, sizeof(buf) };

	bt_fill(buf, sizeof(buf), 1 << 20, 3);
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, 1 << 20, &v, 1), 8192);
	blk_engine_stats(f->e, &st);
	assert_int_equal(st.flushes, 0);
	assert_int_equal(bt_range(f->e, BLK_OP_FLUSH, 0, 0, false), 0);
	blk_engine_stats(f->e, &st);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(st.completed, 2);
	assert_int_equal(st.errors, 0);
	close_engine(f);
	assert_int_equal(open_engine(f, false, DEPTH), 0);
	v.iov_base = back;
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 1 << 20, &v, 1), 8192);
	assert_memory_equal(buf, back, sizeof(buf));
}

static void fill_region(struct fixture *f, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	struct iovec v = { buf, len };

	bt_fill(buf, len, off, 4);
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, off, &v, 1), (int64_t)len);
	free(buf);
}

/* [off, off+len) reads as zeroes; the bytes just around it kept the pattern. */
static void check_zeroed(struct fixture *f, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len + 8192), *want = malloc(4096);
	struct stat st;

	file_read(f->path, buf, len + 8192, (off_t)off - 4096);
	assert_true(bt_all_zero(buf + 4096, len));
	bt_fill(want, 4096, off - 4096, 4);
	assert_memory_equal(buf, want, 4096);
	bt_fill(want, 4096, off + len, 4);
	assert_memory_equal(buf + 4096 + len, want, 4096);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, IMG_SIZE);
	free(buf);
	free(want);
}

static void test_discard(void **state)
{
	struct fixture *f = *state;

	if (!f->img.discard)
		skip();
	fill_region(f, 1 << 20, 1 << 20);
	assert_int_equal(bt_range(f->e, BLK_OP_DISCARD, (1 << 20) + 65536, 262144, false), 0);
	check_zeroed(f, (1 << 20) + 65536, 262144);
}

static void test_write_zeroes(void **state)
{
	struct fixture *f = *state;

	fill_region(f, 2 << 20, 1 << 20);
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, (2 << 20) + 8192, 65536, false), 0);
	check_zeroed(f, (2 << 20) + 8192, 65536);
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, (2 << 20) + 131072, 4608, true), 0);
	check_zeroed(f, (2 << 20) + 131072, 4608);
}

/* Where fallocate cannot zero, zeroes are written out, 1 MiB per write. */
static void test_write_zeroes_by_writing(void **state)
{
	struct fixture *f = *state;
	struct blk_engine_stats a, b;
	uint64_t len = (3u << 20) + 512;

	f->img.write_zeroes = false;
	fill_region(f, 4096, 4 << 20);
	blk_engine_stats(f->e, &a);
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, 8192, len, false), 0);
	blk_engine_stats(f->e, &b);
	assert_true(b.submitted - a.submitted >= 4);
	check_zeroed(f, 8192, len);
}

/*
 * tmpfs punches holes but has no ZERO_RANGE: the EOPNOTSUPP the kernel gives
 * at run time moves the request on to writing zeroes.
 */
static void test_write_zeroes_tmpfs(void **state)
{
	struct fixture *f = *state;
	struct blk_engine_stats a, b;
	char path[] = "/dev/shm/husk-blk-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *buf = malloc(65536);

	if (fd < 0)
		skip();
	bt_fill(buf, 65536, 0, 8);
	assert_int_equal(pwrite(fd, buf, 65536, 0), 65536);
	close(fd);
	close_engine(f);
	strcpy(f->path, path);
	assert_int_equal(open_engine(f, false, 8), 0);
	unlink(path);	/* the open image keeps it */
	blk_engine_stats(f->e, &a);
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, 4096, 8192, false), 0);
	blk_engine_stats(f->e, &b);
	assert_int_equal(b.submitted - a.submitted, 2);	/* ZERO_RANGE refused, one write */
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, 16384, 8192, true), 0);
	assert_int_equal(pread(f->img.fd, buf, 65536, 0), 65536);
	assert_true(bt_all_zero(buf + 4096, 8192));
	assert_true(bt_all_zero(buf + 16384, 8192));
	assert_false(bt_all_zero(buf, 4096));
	assert_false(bt_all_zero(buf + 12288, 4096));
	free(buf);
}

/* Up to depth in flight, -EBUSY beyond; every cookie comes back exactly once. */
static void test_depth_and_reap(void **state)
{
	struct fixture *f = *state;
	static struct blk_io io[DEPTH + 1];
	static uint8_t bufs[DEPTH][4096];
	static struct iovec v[DEPTH];
	struct blk_io *done[DEPTH];
	unsigned seen[DEPTH] = { 0 };
	struct blk_engine_stats st;

	for (unsigned i = 0; i < DEPTH; i++) {
		bt_fill(bufs[i], 4096, i * 4096, 5);
		v[i] = (struct iovec){ bufs[i], 4096 };
		io[i] = (struct blk_io){ .op = BLK_OP_WRITE, .offset = i * 4096ull, .len = 4096,
					 .iov = &v[i], .iovcnt = 1, .cookie = &seen[i] };
		assert_int_equal(blk_engine_queue(f->e, &io[i]), 0);
	}
	io[DEPTH] = io[0];
	assert_int_equal(blk_engine_queue(f->e, &io[DEPTH]), -EBUSY);
	assert_int_equal(blk_engine_inflight(f->e), DEPTH);
	assert_int_equal(blk_engine_submit(f->e), 0);
	/* reap a few at a time: the eventfd must stay readable while any are left */
	assert_int_equal(bt_reap_n(f->e, done, DEPTH, 5), DEPTH);
	for (unsigned i = 0; i < DEPTH; i++) {
		assert_int_equal(done[i]->result, 4096);
		(*(unsigned *)done[i]->cookie)++;
	}
	for (unsigned i = 0; i < DEPTH; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(blk_engine_inflight(f->e), 0);
	assert_int_equal(blk_engine_reap(f->e, done, DEPTH), 0);
	blk_engine_stats(f->e, &st);
	assert_int_equal(st.submit_calls, 1);
	assert_int_equal(st.completed, DEPTH);
	for (unsigned i = 0; i < DEPTH; i++) {
		uint8_t back[4096];

		file_read(f->path, back, 4096, i * 4096);
		assert_memory_equal(back, bufs[i], 4096);
	}
	/* slots came back: the whole depth can be queued again */
	assert_int_equal(blk_engine_queue(f->e, &io[0]), 0);
	assert_int_equal(blk_engine_submit(f->e), 0);
	assert_int_equal(bt_reap_n(f->e, done, 1, 1), 1);
}

static void test_refused_requests(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024];
	struct iovec v = { buf, 1024 };
	struct blk_io io = { .op = BLK_OP_READ, .offset = 0, .len = 512, .iov = &v, .iovcnt = 1 };

	assert_int_equal(blk_engine_queue(f->e, &io), -EINVAL);	/* len != sum of iov */
	io.len = 1024;
	io.offset = IMG_SIZE - 512;
	assert_int_equal(blk_engine_queue(f->e, &io), -EINVAL);	/* past the end */
	io.offset = UINT64_MAX - 100;
	assert_int_equal(blk_engine_queue(f->e, &io), -EINVAL);
	io.offset = 0;
	io.op = (enum blk_op)42;
	assert_int_equal(blk_engine_queue(f->e, &io), -EINVAL);
	io = (struct blk_io){ .op = BLK_OP_DISCARD, .offset = IMG_SIZE, .len = 512 };
	assert_int_equal(blk_engine_queue(f->e, &io), f->img.discard ? -EINVAL : -EOPNOTSUPP);
	f->img.readonly = true;
	io = (struct blk_io){ .op = BLK_OP_WRITE, .len = 1024, .iov = &v, .iovcnt = 1 };
	assert_int_equal(blk_engine_queue(f->e, &io), -EROFS);
	io.op = BLK_OP_WRITE_ZEROES;
	io.iov = NULL;
	io.iovcnt = 0;
	assert_int_equal(blk_engine_queue(f->e, &io), -EROFS);
	f->img.readonly = false;
	assert_int_equal(blk_engine_inflight(f->e), 0);
}

/* Errors the kernel returns reach the caller as -errno. */
static void test_enospc_from_kernel(void **state)
{
	struct fixture *f = *state;
	struct blk_image full = { .size = 1 << 20, .logical_block = 512, .mem_align = 1 };
	struct blk_engine *e;
	struct blk_engine_stats st;
	uint8_t buf[4096] = { 1 };
	struct iovec v = { buf, sizeof(buf) };
	char err[256];

	full.fd = open("/dev/full", O_RDWR | O_CLOEXEC);
	assert_true(full.fd >= 0);
	strcpy(full.path, "/dev/full");
	assert_int_equal(blk_engine_create(&full, f->kind, 4, &e, err, sizeof(err)), 0);
	assert_int_equal(bt_rw(e, BLK_OP_WRITE, 0, &v, 1), -ENOSPC);
	assert_int_equal(bt_rw(e, BLK_OP_READ, 0, &v, 1), 4096);	/* reads zeroes */
	assert_true(bt_all_zero(buf, sizeof(buf)));
	blk_engine_stats(e, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.completed, 2);
	blk_engine_destroy(e);
	close(full.fd);
}

/* The file shrank under the engine: the read hits the end and fails with EIO. */
static void test_eio_on_shrunk_file(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8192];
	struct iovec v = { buf, sizeof(buf) };

	assert_int_equal(truncate(f->path, 4096), 0);
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 0, &v, 1), -EIO);
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 65536, &v, 1), -EIO);
}

/* Destroy waits for submitted I/O: the data is in the file afterwards. */
static void test_destroy_waits(void **state)
{
	struct fixture *f = *state;
	static struct blk_io io[16];
	static uint8_t bufs[16][65536];
	static struct iovec v[16];
	uint8_t *back = malloc(65536);

	for (unsigned i = 0; i < 16; i++) {
		bt_fill(bufs[i], 65536, i * 65536ull, 6);
		v[i] = (struct iovec){ bufs[i], 65536 };
		io[i] = (struct blk_io){ .op = BLK_OP_WRITE, .offset = i * 65536ull,
					 .len = 65536, .iov = &v[i], .iovcnt = 1 };
		assert_int_equal(blk_engine_queue(f->e, &io[i]), 0);
		if (i == 7)
			assert_int_equal(blk_engine_submit(f->e), 0);
	}
	close_engine(f);	/* 8 submitted, 8 only queued */
	for (unsigned i = 0; i < 16; i++) {
		file_read(f->path, back, 65536, i * 65536);
		assert_memory_equal(back, bufs[i], 65536);
	}
	free(back);
}

/* O_DIRECT: aligned I/O works, misaligned I/O is refused, never half done. */
static void test_direct(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf;
	struct iovec v;
	uint32_t lb;

	close_engine(f);
	if (open_engine(f, true, 8))
		skip();	/* no O_DIRECT on this file system */
	lb = f->img.logical_block;
	assert_int_equal(posix_memalign((void **)&buf, 4096, 3 * 65536), 0);
	bt_fill(buf, 65536, 0, 7);
	v = (struct iovec){ buf, 65536 };
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, 65536, &v, 1), 65536);
	v.iov_base = buf + 65536;
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 65536, &v, 1), 65536);
	assert_memory_equal(buf, buf + 65536, 65536);
	v = (struct iovec){ buf + 1, 65536 };
	if (f->img.mem_align > 1)
		assert_int_equal(bt_rw(f->e, BLK_OP_READ, 0, &v, 1), -EINVAL);
	v = (struct iovec){ buf, lb };
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 256, &v, 1), -EINVAL);
	v = (struct iovec){ buf, lb + 256 };
	assert_int_equal(bt_rw(f->e, BLK_OP_WRITE, 0, &v, 1), -EINVAL);
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, 0, 256, false), -EINVAL);
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, 0, 65536, false), 0);
	/* zeroes written out through O_DIRECT, from the read-only zero mapping */
	f->img.write_zeroes = false;
	assert_int_equal(bt_range(f->e, BLK_OP_WRITE_ZEROES, 65536, (2 << 20) + lb, false), 0);
	v = (struct iovec){ buf, 65536 };
	assert_int_equal(bt_rw(f->e, BLK_OP_READ, 65536, &v, 1), 65536);
	assert_true(bt_all_zero(buf, 65536));
	assert_int_equal(bt_range(f->e, BLK_OP_FLUSH, 0, 0, false), 0);
	free(buf);
}

/* The cursor that resumes short transfers, in isolation. */
static void test_cursor(void **state)
{
	char a[10], b[20], c[30];
	struct iovec v[] = { { a, 10 }, { NULL, 0 }, { b, 20 }, { c, 30 } };
	const struct iovec *out;
	struct blk_cursor cur;

	(void)state;
	blk_cursor_init(&cur, v, 4);
	assert_int_equal(blk_cursor_next(&cur, &out), 4);
	assert_ptr_equal(out, &v[0]);
	blk_cursor_advance(&cur, 10);		/* lands on b, skipping the empty one */
	assert_int_equal(blk_cursor_next(&cur, &out), 2);
	assert_ptr_equal(out, &v[2]);
	blk_cursor_advance(&cur, 25);		/* 5 bytes into c */
	assert_int_equal(blk_cursor_next(&cur, &out), 1);
	assert_ptr_equal(out->iov_base, c + 5);
	assert_int_equal(out->iov_len, 25);
	blk_cursor_advance(&cur, 25);
	assert_int_equal(blk_cursor_next(&cur, &out), 0);
	blk_cursor_init(&cur, v + 1, 1);	/* only an empty element */
	assert_int_equal(blk_cursor_next(&cur, &out), 0);
}

static void test_cursor_caps_at_iov_max(void **state)
{
	static struct iovec v[IOV_MAX + 5];
	static char buf[1];
	const struct iovec *out;
	struct blk_cursor cur;

	(void)state;
	for (unsigned i = 0; i < IOV_MAX + 5; i++)
		v[i] = (struct iovec){ buf, 1 };
	blk_cursor_init(&cur, v, IOV_MAX + 5);
	assert_int_equal(blk_cursor_next(&cur, &out), IOV_MAX);
	blk_cursor_advance(&cur, IOV_MAX);
	assert_int_equal(blk_cursor_next(&cur, &out), 5);
	assert_ptr_equal(out, &v[IOV_MAX]);
}

static void test_bad_depth(void **state)
{
	struct fixture *f = *state;
	struct blk_engine *e = (void *)1;
	char err[256];

	assert_int_equal(blk_engine_create(&f->img, f->kind, 0, &e, err, sizeof(err)), -EINVAL);
	assert_null(e);
	assert_non_null(strstr(err, "queue depth 0 is out of range"));
	assert_int_equal(blk_engine_create(&f->img, f->kind, BLK_MAX_DEPTH + 1, &e, err,
					   sizeof(err)), -EINVAL);
}

#define BOTH(fn) \
	cmocka_unit_test_setup_teardown(fn, setup_uring, teardown), \
	cmocka_unit_test_setup_teardown(fn, setup_sync, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_name),
		BOTH(test_write_read_pattern),
		BOTH(test_more_than_iov_max),
		BOTH(test_zero_length),
		BOTH(test_flush_durable),
		BOTH(test_discard),
		BOTH(test_write_zeroes),
		BOTH(test_write_zeroes_by_writing),
		BOTH(test_write_zeroes_tmpfs),
		BOTH(test_depth_and_reap),
		BOTH(test_refused_requests),
		BOTH(test_enospc_from_kernel),
		BOTH(test_eio_on_shrunk_file),
		BOTH(test_destroy_waits),
		BOTH(test_direct),
		BOTH(test_bad_depth),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_cursor_caps_at_iov_max),
	};
	struct CMUnitTest some[sizeof(tests) / sizeof(tests[0])];
	size_t n = 0;

	if (bt_uring_available())
		return cmocka_run_group_tests(tests, NULL, NULL);
	/* without io_uring: the thread engine's half only */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (tests[i].setup_func != setup_uring)
			some[n++] = tests[i];
	}
	return _cmocka_run_group_tests("test_block_engine", some, n, NULL, NULL);
}
