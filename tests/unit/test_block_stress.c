// SPDX-License-Identifier: MIT
/*
 * Many mixed requests in flight against a shadow copy of the disk, on both
 * engines: random reads, writes (random iovec splits), write-zeroes,
 * discards and flushes, never two at once on the same sector, reaped a few
 * at a time. Every read must match the shadow, and so must the file at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "block_test_helpers.h"

#define SECTORS		4096		/* a 2 MiB disk */
#define MAX_SECTORS	32		/* per request */
#define DEPTH		32
#define OPS		3000

struct slot {
	struct blk_io io;
	struct iovec v[8];
	uint8_t buf[MAX_SECTORS * 512];
	bool used;
};

struct stress {
	struct blk_engine *e;
	struct blk_image img;
	uint8_t *shadow;
	bool busy[SECTORS];
	struct slot slots[DEPTH];
	unsigned seed, issued, reads_checked;
};

static unsigned rnd(struct stress *s, unsigned n)
{
	return (unsigned)rand_r(&s->seed) % n;
}

static bool reserve(struct stress *s, unsigned first, unsigned n, bool take)
{
	for (unsigned i = first; i < first + n; i++) {
		if (take && s->busy[i])
			return false;
	}
	for (unsigned i = first; i < first + n; i++)
		s->busy[i] = take;
	return true;
}

/* Split @len bytes of @buf into up to 8 iovecs of random sizes. */
static unsigned split(struct stress *s, struct slot *sl, size_t len)
{
	unsigned n = 1 + rnd(s, 8);
	size_t at = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t part = i == n - 1 ? len - at : rnd(s, (unsigned)(len - at) + 1);

		sl->v[i] = (struct iovec){ sl->buf + at, part };
		at += part;
	}
	return n;
}

/* Fill @sl with a random request on free sectors; false when they were busy. */
static bool make_request(struct stress *s, struct slot *sl)
{
	unsigned first = rnd(s, SECTORS), n = 1 + rnd(s, MAX_SECTORS), kind = rnd(s, 20);
	struct blk_io *io = &sl->io;

	if (first + n > SECTORS)
		n = SECTORS - first;
	*io = (struct blk_io){ .offset = first * 512ull, .len = n * 512ull, .cookie = sl };
	if (kind == 0) {
		*io = (struct blk_io){ .op = BLK_OP_FLUSH, .cookie = sl };
		return true;
	}
	if (!reserve(s, first, n, true))
		return false;
	if (kind < 9) {
		io->op = BLK_OP_READ;
		io->iov = sl->v;
		io->iovcnt = split(s, sl, n * 512);
	} else if (kind < 17) {
		io->op = BLK_OP_WRITE;
		for (unsigned i = 0; i < n * 512; i++)
			sl->buf[i] = (uint8_t)rand_r(&s->seed);
		io->iov = sl->v;
		io->iovcnt = split(s, sl, n * 512);
		memcpy(s->shadow + io->offset, sl->buf, n * 512);
	} else {
		io->op = kind == 19 && s->img.discard ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
		io->unmap = kind == 18;
		memset(s->shadow + io->offset, 0, n * 512);
	}
	return true;
}

static void finish(struct stress *s, struct blk_io *io)
{
	struct slot *sl = io->cookie;

	assert_true(sl->used);
	assert_int_equal(io->result, io->op == BLK_OP_READ || io->op == BLK_OP_WRITE ?
			 (int64_t)io->len : 0);
	if (io->op == BLK_OP_READ) {
		assert_memory_equal(sl->buf, s->shadow + io->offset, io->len);
		s->reads_checked++;
	}
	if (io->op != BLK_OP_FLUSH)
		reserve(s, (unsigned)(io->offset / 512), (unsigned)(io->len / 512), false);
	sl->used = false;
}

static void fill_queue(struct stress *s)
{
	for (unsigned i = 0; i < DEPTH && s->issued < OPS; i++) {
		struct slot *sl = &s->slots[i];

		if (sl->used || rnd(s, 4) == 0 || !make_request(s, sl))
			continue;
		assert_int_equal(blk_engine_queue(s->e, &sl->io), 0);
		sl->used = true;
		s->issued++;
	}
	assert_int_equal(blk_engine_submit(s->e), 0);
}

static void run_stress(enum husk_blk_engine kind)
{
	struct stress *s = calloc(1, sizeof(*s));
	char dir[64], path[160], err[256];
	struct husk_disk_config cfg = { .path = path };
	struct blk_io *done[8];
	uint8_t *file = malloc(SECTORS * 512);
	int fd;

	s->seed = 12345;
	s->shadow = calloc(SECTORS, 512);
	assert_int_equal(bt_mkdir(dir, sizeof(dir)), 0);
	assert_int_equal(bt_mkfile(dir, "s.img", SECTORS * 512, 0600, path, sizeof(path)), 0);
	assert_int_equal(blk_image_open(&cfg, &s->img, err, sizeof(err)), 0);
	assert_int_equal(blk_engine_create(&s->img, kind, DEPTH, &s->e, err, sizeof(err)), 0);
	while (s->issued < OPS || blk_engine_inflight(s->e)) {
		unsigned want, got;

		fill_queue(s);
		if (!blk_engine_inflight(s->e))
			continue;
		want = 1 + rnd(s, 8);
		if (want > blk_engine_inflight(s->e))
			want = blk_engine_inflight(s->e);
		got = bt_reap_n(s->e, done, want, want);
		assert_int_equal(got, want);
		for (unsigned i = 0; i < got; i++)
			finish(s, done[i]);
	}
	assert_true(s->reads_checked > OPS / 4);
	blk_engine_destroy(s->e);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, file, SECTORS * 512, 0), SECTORS * 512);
	close(fd);
	assert_memory_equal(file, s->shadow, SECTORS * 512);
	blk_image_close(&s->img);
	bt_rmdir(dir);
	free(file);
	free(s->shadow);
	free(s);
}

static void test_stress_uring(void **state)
{
	(void)state;
	if (!bt_uring_available())
		skip();
	run_stress(HUSK_BLK_ENGINE_URING);
}

static void test_stress_sync(void **state)
{
	(void)state;
	run_stress(HUSK_BLK_ENGINE_SYNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_uring),
		cmocka_unit_test(test_stress_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
