// SPDX-License-Identifier: MIT
/* husk-snapshot merge (state/snapmerge.c): a Diff's data extents onto its base. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "state/snapmerge.h"

#define PAGE 4096
#define PAGES 64

static void write_pages(const char *path, uint8_t fill, const unsigned *pages, unsigned n)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	uint8_t buf[PAGE];

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PAGES * PAGE), 0);
	for (unsigned i = 0; i < n; i++) {
		memset(buf, fill + i, sizeof(buf));
		if (fill == 0)
			memset(buf, 0, sizeof(buf));	/* a page that became zero */
		assert_int_equal(pwrite(fd, buf, PAGE, (off_t)pages[i] * PAGE), PAGE);
	}
	close(fd);
}

static void test_merge(void **state)
{
	char dir[] = "/tmp/husk-merge-XXXXXX", base[64], diff[64], other[64], err[256];
	static const unsigned changed[] = { 1, 2, 3, 40, 63 };
	unsigned every[PAGES];
	uint8_t page[PAGE];
	uint64_t copied;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base", dir);
	snprintf(diff, sizeof(diff), "%s/diff", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	for (unsigned i = 0; i < PAGES; i++)
		every[i] = i;
	write_pages(base, 0x10, every, PAGES);		/* page i holds 0x10 + i */
	write_pages(diff, 0x80, changed, 5);		/* holes elsewhere */
	assert_int_equal(snap_mem_merge(base, diff, &copied, err, sizeof(err)), 0);
	assert_int_equal(copied, 5 * PAGE);
	fd = open(base, O_RDONLY);
	for (unsigned i = 0; i < PAGES; i++) {
		unsigned k;
		uint8_t want = (uint8_t)(0x10 + i);

		for (k = 0; k < 5 && changed[k] != i; k++)
			;
		if (k < 5)
			want = (uint8_t)(0x80 + k);
		assert_int_equal(pread(fd, page, PAGE, (off_t)i * PAGE), PAGE);
		assert_int_equal(page[0], want);
		assert_int_equal(page[PAGE - 1], want);
	}
	close(fd);
	/* a changed page that is zero is written, not a hole */
	write_pages(diff, 0, changed, 1);
	assert_int_equal(snap_mem_merge(base, diff, &copied, err, sizeof(err)), 0);
	assert_int_equal(copied, PAGE);
	fd = open(base, O_RDONLY);
	assert_int_equal(pread(fd, page, PAGE, PAGE), PAGE);
	assert_int_equal(page[7], 0);
	close(fd);
	/* refusals: another size, the same file, missing files */
	fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(ftruncate(fd, PAGES * PAGE + PAGE), 0);
	close(fd);
	assert_int_equal(snap_mem_merge(base, other, &copied, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not its base"));
	assert_int_equal(snap_mem_merge(base, base, &copied, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the same file"));
	assert_int_equal(snap_mem_merge(base, "/nonexistent/diff", &copied, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "diff /nonexistent/diff"));
	assert_int_equal(snap_mem_merge(dir, diff, &copied, err, sizeof(err)), -EISDIR);
	unlink(base);
	unlink(diff);
	unlink(other);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
