// SPDX-License-Identifier: MIT
/* --log-file / PUT /logger: reopening the log leaks no fd and moves the output. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static size_t file_size(const char *path)
{
	FILE *f = fopen(path, "r");
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return (size_t)n;
}

static void test_reopen_leaks_nothing(void **state)
{
	char dir[] = "/tmp/husk-log.XXXXXX", a[64], b[64];
	int before;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.log", dir);
	snprintf(b, sizeof(b), "%s/b.log", dir);
	assert_int_equal(log_open_file(a), 0);
	before = count_fds();
	for (int i = 0; i < 200; i++)
		assert_int_equal(log_open_file(i % 2 ? b : a), 0);
	assert_int_equal(count_fds(), before);
	/* the last open was b: lines go there, not to a */
	{
		size_t a0 = file_size(a);

		pr_info("a line for b");
		assert_int_equal(file_size(a), a0);
		assert_true(file_size(b) > 0);
	}
	assert_int_equal(log_open_file("/nonexistent-dir/x.log") < 0, 1);
	assert_int_equal(count_fds(), before);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reopen_leaks_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
