// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "memory/guest_mem.h"
#include "memory/layout.h"

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("2g", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(parse_size("512MiB", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size("12Q", &v), -EINVAL);
	assert_int_equal(parse_size("1MX", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("99999999999999G", &v), -ERANGE);
}

static void test_plan_small(void **state)
{
	struct guest_mem m;

	(void)state;
	guest_mem_plan(&m, MIB(256));
	assert_int_equal(m.nregions, 1);
	assert_int_equal(m.regions[0].gpa, 0);
	assert_int_equal(m.regions[0].size, MIB(256));
	assert_int_equal(guest_mem_low_end(&m), MIB(256));
}

static void test_plan_hole(void **state)
{
	struct guest_mem m;

	(void)state;
	guest_mem_plan(&m, GIB(5));
	assert_int_equal(m.nregions, 2);
	assert_int_equal(m.regions[0].size, LAYOUT_LOW_RAM_MAX);
	assert_int_equal(m.regions[1].gpa, GIB(4));
	assert_int_equal(m.regions[1].size, GIB(2));
	assert_int_equal(m.regions[1].offset, LAYOUT_LOW_RAM_MAX);
	guest_mem_plan(&m, LAYOUT_LOW_RAM_MAX);
	assert_int_equal(m.nregions, 1);
}

static void test_gpa_to_hva_bounds(void **state)
{
	struct guest_mem m;
	char err[256];
	uint8_t *low, *high;

	(void)state;
	assert_int_equal(guest_mem_init(&m, GIB(4), false, err, sizeof(err)), 0);
	low = gpa_to_hva(&m, 0, 1);
	assert_non_null(low);
	assert_ptr_equal(gpa_to_hva(&m, 0x1000, 16), low + 0x1000);
	assert_non_null(gpa_to_hva(&m, LAYOUT_LOW_RAM_MAX - 8, 8));
	assert_null(gpa_to_hva(&m, LAYOUT_LOW_RAM_MAX - 8, 9));	/* runs into the hole */
	assert_null(gpa_to_hva(&m, LAYOUT_LOW_RAM_MAX, 1));		/* MMIO hole */
	assert_null(gpa_to_hva(&m, LAYOUT_LAPIC_BASE, 4));
	high = gpa_to_hva(&m, GIB(4), 4096);
	assert_ptr_equal(high, low + LAYOUT_LOW_RAM_MAX);
	assert_non_null(gpa_to_hva(&m, GIB(5) - 1, 1));
	assert_null(gpa_to_hva(&m, GIB(5), 1));			/* past the end */
	assert_null(gpa_to_hva(&m, GIB(5) - 1, 2));
	assert_null(gpa_to_hva(&m, 0x1000, UINT64_MAX));		/* length overflow */
	assert_null(gpa_to_hva(&m, UINT64_MAX, 2));
	/* the two regions are one memfd: a write through one view is visible */
	high[0] = 0x5a;
	assert_int_equal(low[LAYOUT_LOW_RAM_MAX], 0x5a);
	guest_mem_destroy(&m);
}

/* Bytes of host memory the memfd holds. */
static uint64_t memfd_bytes(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* Zeroing a large range drops its pages instead of writing them; edges are written. */
static void test_zero(void **state)
{
	struct guest_mem m;
	char err[256];
	uint8_t *p;

	(void)state;
	assert_int_equal(guest_mem_init(&m, MIB(64), false, err, sizeof(err)), 0);
	p = gpa_to_hva(&m, 0, MIB(64));
	memset(p, 0xa5, MIB(32));
	assert_true(memfd_bytes(m.fd) >= MIB(32));
	/* unaligned at both ends: the partial pages are memset, the bytes around kept */
	assert_int_equal(guest_mem_zero(&m, 100, MIB(32) - 200), 0);
	/* the whole pages between were dropped, not written: the memfd holds 2 pages */
	assert_true(memfd_bytes(m.fd) <= 2 * 4096);
	assert_int_equal(p[99], 0xa5);
	assert_int_equal(p[MIB(32) - 100], 0xa5);
	for (uint64_t off = 100; off < MIB(32) - 100; off += 509)
		assert_int_equal(p[off], 0);
	assert_int_equal(p[MIB(32) - 101], 0);
	/* small ranges, empty ranges, and ranges that are not RAM */
	p[5000] = 1;
	assert_int_equal(guest_mem_zero(&m, 5000, 1), 0);
	assert_int_equal(p[5000], 0);
	assert_int_equal(guest_mem_zero(&m, 0, 0), 0);
	assert_int_equal(guest_mem_zero(&m, MIB(64) - 1, 2), -EFAULT);
	assert_int_equal(guest_mem_zero(&m, MIB(64), 1), -EFAULT);
	guest_mem_destroy(&m);
}

static void test_hugepages_refused_without_reservation(void **state)
{
	struct guest_mem m;
	char err[256] = "";

	(void)state;
	/* a size no test machine has reserved */
	assert_int_not_equal(guest_mem_init(&m, GIB(512), true, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--hugepages"));
	assert_int_not_equal(guest_mem_init(&m, MIB(3), true, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "multiple of 2M"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_plan_small),
		cmocka_unit_test(test_plan_hole),
		cmocka_unit_test(test_gpa_to_hva_bounds),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_hugepages_refused_without_reservation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
