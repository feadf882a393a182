// SPDX-License-Identifier: MIT
/*
 * tests=blk-bench: 4 KiB random reads at queue depth 1 and 32 (IOPS), then
 * 128 KiB sequential reads and writes at depth 4 (MiB/s), each for
 * bench_ms= milliseconds (default 2000) on queue 0 of the first writable
 * disk, polling the used ring, timed with the TSC. Prints
 * "BENCH name value unit". The sequential writes overwrite the area.
 */
#include "blk.h"

#define RAND_BS		4096
#define SEQ_BS		(128 * 1024)
#define SEQ_DEPTH	4

struct bench {
	struct blk *b;
	uint64_t area;			/* bytes */
	uint64_t rng;
	uint64_t seq_next;
	uint64_t ms;
};

static uint64_t next_rand(struct bench *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static uint64_t next_sector(struct bench *t, uint32_t bs)
{
	uint64_t s;

	if (bs == RAND_BS)
		return (next_rand(t) % (t->area / RAND_BS)) * (RAND_BS / 512);
	if (t->seq_next + bs > t->area)
		t->seq_next = 0;
	s = t->seq_next / 512;
	t->seq_next += bs;
	return s;
}

/* Keep @depth requests of @bs bytes in flight for t->ms; returns completions or -1. */
static int64_t run(struct bench *t, uint32_t type, uint32_t bs, int depth,
		   uint64_t *us, char *why)
{
	uint64_t done = 0, t0 = rdtsc(), end = deadline_us(t->ms * 1000);
	int slot, inflight = 0, st, fits = t->b->vq[0].size / 3;

	if (depth > fits) {		/* 3 descriptors a request */
		printf("blk-bench: a queue of %u entries holds %d requests, not %d\n",
		       t->b->vq[0].size, fits, depth);
		depth = fits;
	}

	for (slot = 0; slot < depth; slot++, inflight++)
		if (blk_start(t->b, 0, slot, type, next_sector(t, bs), blk_buf(slot), bs))
			goto full;
	while (inflight) {
		st = blk_reap(t->b, 0, &slot);
		inflight--;
		if (st != BLK_S_OK) {
			snprintf(why, WHY_LEN, "benchmark request failed: status %d", st);
			return -1;
		}
		done++;
		if (deadline_passed(end))
			continue;
		if (blk_start(t->b, 0, slot, type, next_sector(t, bs), blk_buf(slot), bs))
			goto full;
		inflight++;
	}
	*us = tsc_to_us(rdtsc() - t0);
	return done;
full:
	snprintf(why, WHY_LEN, "queue of %u entries too small for depth %d",
		 t->b->vq[0].size, depth);
	return -1;
}

static int bench_iops(struct bench *t, const char *name, int depth, char *why)
{
	uint64_t us = 1;
	int64_t n = run(t, BLK_T_IN, RAND_BS, depth, &us, why);

	if (n < 0)
		return -1;
	printf("BENCH %s %llu IOPS\n", name, (unsigned long long)(n * 1000000 / (us ? us : 1)));
	return 0;
}

static int bench_mibs(struct bench *t, const char *name, uint32_t type, char *why)
{
	uint64_t us = 1;
	int64_t n = run(t, type, SEQ_BS, SEQ_DEPTH, &us, why);

	if (n < 0)
		return -1;
	printf("BENCH %s %llu MiB/s\n", name,
	       (unsigned long long)(n * SEQ_BS / (us ? us : 1) * 1000000 / (1024 * 1024)));
	return 0;
}

int check_blk_bench(char *why)
{
	static struct blk b;
	struct bench t = { .b = &b, .rng = 0x9e3779b97f4a7c15ULL, .ms = 2000 };
	char val[32];
	int rc;

	if (!cmdline_get("bench_ms", val, sizeof(val)))
		parse_uint(val, &t.ms);
	if (blk_open(&b, 0, 0, 0, 1, why))
		return -1;
	t.area = blk_area(&b);
	if (t.area < SEQ_BS * SEQ_DEPTH) {
		snprintf(why, WHY_LEN, "disk too small for the benchmark");
		blk_close(&b);
		return -1;
	}
	printf("blk-bench: %s, %llu bytes, %llu ms per test\n", b.dev.where,
	       (unsigned long long)t.area, (unsigned long long)t.ms);
	rc = bench_iops(&t, "randread-4k-qd1", 1, why) ||
	     bench_iops(&t, "randread-4k-qd32", 32, why) ||
	     bench_mibs(&t, "seqread-128k", BLK_T_IN, why) ||
	     bench_mibs(&t, "seqwrite-128k", BLK_T_OUT, why) ? -1 : 0;
	blk_close(&b);
	return rc;
}
