// SPDX-License-Identifier: MIT
/*
 * The memory check: write an address-dependent pattern over all usable
 * RAM the guest does not occupy itself, then read it all back. Runs in
 * ring 3 (natively on husk's development machines). mem_passes=N repeats
 * it N times (1 .. 100000) with a new pattern each pass, printing
 * "memory: pass K of N" before each: the snapshot tests stop the guest in
 * the middle of a long check this way.
 */
#include "testguest.h"

#define PATTERN		0xa5c3f00d5a3c0ff0ULL

struct span {
	uint64_t start, end;
};

/* The usable part of map entry @i: 8-byte aligned, minus our own image. */
static int usable_spans(int i, struct span out[2])
{
	const struct mem_range *r = &boot.map[i];
	uint64_t start = (r->addr + 7) & ~7ULL;
	uint64_t end = (r->addr + r->size) & ~7ULL;
	uint64_t own_lo = (uintptr_t)_image_start, own_hi = pt_pool_end;
	int n = 0;

	if (r->type != 1 || end <= start)
		return 0;
	if (own_hi <= start || own_lo >= end) {
		out[n++] = (struct span){ start, end };
		return n;
	}
	if (start < own_lo)
		out[n++] = (struct span){ start, own_lo };
	if (own_hi < end)
		out[n++] = (struct span){ own_hi, end };
	return n;
}

static void fill(const struct span *s, uint64_t pattern)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)s->start;
	volatile uint64_t *e = (volatile uint64_t *)(uintptr_t)s->end;

	for (; p < e; p++)
		*p = (uintptr_t)p ^ pattern;
}

static uint64_t verify(const struct span *s, uint64_t pattern, uint64_t *first_bad)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)s->start;
	volatile uint64_t *e = (volatile uint64_t *)(uintptr_t)s->end;
	uint64_t bad = 0;

	for (; p < e; p++) {
		if (*p != ((uintptr_t)p ^ pattern)) {
			if (!bad++)
				*first_bad = (uintptr_t)p;
		}
	}
	return bad;
}

static int one_pass(uint64_t pattern, char *why)
{
	struct span sp[2];
	uint64_t bytes = 0, bad = 0, first_bad = 0, t0 = rdtsc(), t1;
	int i, j, n;

	for (i = 0; i < boot.nr_map; i++) {
		n = usable_spans(i, sp);
		for (j = 0; j < n; j++) {
			fill(&sp[j], pattern);
			bytes += sp[j].end - sp[j].start;
		}
	}
	t1 = rdtsc();
	for (i = 0; i < boot.nr_map; i++) {
		n = usable_spans(i, sp);
		for (j = 0; j < n; j++)
			bad += verify(&sp[j], pattern, bad ? &(uint64_t){ 0 } : &first_bad);
	}
	printf("memory: tested %llu MiB (%llu KiB), write %llu ms, verify %llu ms\n",
	       (unsigned long long)(bytes >> 20),
	       (unsigned long long)(bytes >> 10),
	       (unsigned long long)tsc_to_us(t1 - t0) / 1000,
	       (unsigned long long)tsc_to_us(rdtsc() - t1) / 1000);
	if (bad) {
		snprintf(why, WHY_LEN, "%llu bad words, first at %#llx",
			 (unsigned long long)bad, (unsigned long long)first_bad);
		return -1;
	}
	if (!bytes) {
		snprintf(why, WHY_LEN, "no usable RAM to test");
		return -1;
	}
	return 0;
}

uint64_t mem_scratch(uint64_t bytes)
{
	struct span sp[2];

	for (int i = 0; i < boot.nr_map; i++) {
		int n = usable_spans(i, sp);

		for (int j = 0; j < n; j++) {
			uint64_t start = (sp[j].start + 4095) & ~4095ULL;

			if (start < sp[j].end && sp[j].end - start >= bytes)
				return start;
		}
	}
	return 0;
}

int check_memory(char *why)
{
	char val[24];
	uint64_t passes = 1;

	if (!boot.nr_map) {
		snprintf(why, WHY_LEN, "no memory map");
		return -1;
	}
	if (!cmdline_get("mem_passes", val, sizeof(val)) &&
	    (parse_uint(val, &passes) || !passes || passes > 100000)) {
		snprintf(why, WHY_LEN, "mem_passes=%s: want 1 to 100000", val);
		return -1;
	}
	for (uint64_t k = 0; k < passes; k++) {
		if (passes > 1)
			printf("memory: pass %llu of %llu\n", (unsigned long long)k + 1,
			       (unsigned long long)passes);
		if (one_pass(PATTERN ^ (k * 0x9e3779b97f4a7c15ULL), why))
			return -1;
	}
	return 0;
}
