// SPDX-License-Identifier: MIT
/*
 * "ticker" (not in the default list; the snapshot benchmark uses it): print
 * "tick N" every tick_us microseconds (default 1000), ticks times (default
 * 100000). touch_kib=K: first write one byte in every 4 KiB page of K KiB of
 * RAM (the guest "has touched" it), then, at each tick, write the next page
 * of it again (tick_pages=N: the next N pages; default 1, round and round):
 * the pages a Diff snapshot finds dirty, a migration's dirtying workload. A restored copy goes on ticking from where it was.
 */
#include "testguest.h"

static int get_opt(const char *key, uint64_t *v, uint64_t max, char *why)
{
	char val[24];

	if (cmdline_get(key, val, sizeof(val)))
		return 0;
	if (parse_uint(val, v) || *v > max) {
		snprintf(why, WHY_LEN, "%s=%s: want 0 to %llu", key, val, (unsigned long long)max);
		return -1;
	}
	return 0;
}

int check_ticker(char *why)
{
	uint64_t ticks = 100000, us = 1000, kib = 0, pages, base = 0, per = 1, next = 0;

	if (get_opt("ticks", &ticks, 100000000, why) || get_opt("tick_us", &us, 10000000, why) ||
	    get_opt("touch_kib", &kib, 16ULL << 20, why) ||
	    get_opt("tick_pages", &per, 1ULL << 20, why))
		return -1;
	pages = kib / 4;
	if (pages) {
		base = mem_scratch(pages * 4096);
		if (!base) {
			snprintf(why, WHY_LEN, "touch_kib=%llu: no usable RAM that large",
				 (unsigned long long)kib);
			return -1;
		}
		for (uint64_t p = 0; p < pages; p++)
			*(volatile uint8_t *)(uintptr_t)(base + p * 4096) = (uint8_t)p;
		printf("ticker: touched %llu KiB at %#llx\n", (unsigned long long)kib,
		       (unsigned long long)base);
	}
	for (uint64_t n = 1; n <= ticks; n++) {
		for (uint64_t i = 0; pages && i < per; i++, next++)
			(*(volatile uint8_t *)(uintptr_t)(base + (next % pages) * 4096))++;
		printf("tick %llu\n", (unsigned long long)n);
		delay_us(us);
	}
	return 0;
}
