// SPDX-License-Identifier: MIT
/* e820_build(): the memory map of memory/layout.h for every memory size. */
#include <errno.h>

#include "test_boot_helpers.h"

static int build(uint64_t size, struct e820_entry *map, int max)
{
	struct guest_mem m;

	guest_mem_plan(&m, size);
	return e820_build(&m, map, max);
}

static void assert_entry(const struct e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void assert_low_layout(const struct e820_entry *map)
{
	assert_entry(&map[0], 0, 0x9fc00, E820_RAM);
	assert_entry(&map[1], 0x9fc00, 0x400, E820_RESERVED);
	assert_entry(&map[2], 0xf0000, 0x10000, E820_RESERVED);
}

static void test_256m(void **state)
{
	struct e820_entry map[8];

	(void)state;
	assert_int_equal(build(MIB(256), map, 8), 4);
	assert_low_layout(map);
	assert_entry(&map[3], 0x100000, MIB(255), E820_RAM);
}

static void test_minimum_8m(void **state)
{
	struct e820_entry map[8];

	(void)state;
	assert_int_equal(build(LAYOUT_MIN_MEMORY, map, 8), 4);
	assert_low_layout(map);
	assert_entry(&map[3], 0x100000, MIB(7), E820_RAM);
}

static void test_exactly_3g_has_no_high_region(void **state)
{
	struct e820_entry map[8];

	(void)state;
	assert_int_equal(build(GIB(3), map, 8), 4);
	assert_entry(&map[3], 0x100000, GIB(3) - MIB(1), E820_RAM);
}

static void test_above_3g_goes_above_4g(void **state)
{
	struct e820_entry map[8];

	(void)state;
	assert_int_equal(build(GIB(3) + MIB(2), map, 8), 5);
	assert_low_layout(map);
	assert_entry(&map[3], 0x100000, GIB(3) - MIB(1), E820_RAM);
	assert_entry(&map[4], GIB(4), MIB(2), E820_RAM);
}

/* A real (MAP_NORESERVE) 16 GiB guest, as boot_load() sees it. */
static void test_16g_real_memory(void **state)
{
	struct guest_mem m;
	struct e820_entry map[8];
	char err[256];

	(void)state;
	assert_int_equal(guest_mem_init(&m, GIB(16), false, err, sizeof(err)), 0);
	assert_int_equal(e820_build(&m, map, 8), 5);
	assert_low_layout(map);
	assert_entry(&map[4], GIB(4), GIB(13), E820_RAM);
	/* every RAM entry is really backed */
	for (int i = 0; i < 5; i++)
		if (map[i].type == E820_RAM)
			assert_non_null(gpa_to_hva(&m, map[i].addr, map[i].size));
	guest_mem_destroy(&m);
}

static void test_tiny_memory(void **state)
{
	struct e820_entry map[8];

	(void)state;
	/* below the EBDA: RAM shrinks, the reserved ranges stay, no high RAM */
	assert_int_equal(build(KIB(512), map, 8), 3);
	assert_entry(&map[0], 0, KIB(512), E820_RAM);
	assert_entry(&map[1], 0x9fc00, 0x400, E820_RESERVED);
	assert_entry(&map[2], 0xf0000, 0x10000, E820_RESERVED);
	/* exactly 1 MiB: no RAM above 1 MiB */
	assert_int_equal(build(MIB(1), map, 8), 3);
	assert_low_layout(map);
	/* 1 MiB + 4 KiB */
	assert_int_equal(build(MIB(1) + 4096, map, 8), 4);
	assert_entry(&map[3], MIB(1), 4096, E820_RAM);
	/* no memory at all */
	assert_int_equal(build(0, map, 8), 2);
	assert_int_equal(map[0].type, E820_RESERVED);
}

static void test_output_too_small(void **state)
{
	struct e820_entry map[8];

	(void)state;
	memset(map, 0x77, sizeof(map));
	assert_int_equal(build(GIB(8), map, 4), -ENOSPC);
	assert_int_equal(map[0].type, 0x77777777);	/* nothing written */
	assert_int_equal(build(GIB(8), map, 5), 5);
	assert_int_equal(build(MIB(64), map, 4), 4);
	assert_int_equal(build(MIB(64), map, -1), -EINVAL);
	assert_int_equal(build(MIB(64), NULL, 8), -EINVAL);
}

/* For many sizes: sorted, non-overlapping, and RAM adds up to the memory size. */
static void test_invariants(void **state)
{
	(void)state;
	for (uint64_t size = MIB(8); size <= GIB(64); size = size * 3 / 2 + MIB(1)) {
		struct e820_entry map[8];
		uint64_t ram = 0, end = 0;
		int n = build(size, map, 8);

		assert_true(n >= 4 && n <= 5);
		for (int i = 0; i < n; i++) {
			assert_true(map[i].addr >= end);
			assert_true(map[i].size > 0);
			end = map[i].addr + map[i].size;
			if (map[i].type == E820_RAM)
				ram += map[i].size;
			assert_false(map[i].addr < LAYOUT_HIGH_RAM_BASE &&
				     end > LAYOUT_MMIO_HOLE_START);
		}
		/* the EBDA and [640K, 1M) are the RAM husk does not describe as usable */
		assert_int_equal(ram, size - (MIB(1) - 0x9fc00));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_256m),
		cmocka_unit_test(test_minimum_8m),
		cmocka_unit_test(test_exactly_3g_has_no_high_region),
		cmocka_unit_test(test_above_3g_goes_above_4g),
		cmocka_unit_test(test_16g_real_memory),
		cmocka_unit_test(test_tiny_memory),
		cmocka_unit_test(test_output_too_small),
		cmocka_unit_test(test_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
