// SPDX-License-Identifier: MIT
/*
 * The virtio-blk checks. "virtio-blk" runs two rounds on the first writable
 * disk: polling without EVENT_IDX, then interrupts with EVENT_IDX (when
 * offered and not virtio_event_idx=0). Each round writes a pattern over the
 * area (blk_bytes=, default the whole disk) with one request stream per
 * queue, reads it back, FLUSHes, DISCARDs and WRITE_ZEROES a range (zeros
 * must read back), GET_ID (= blk_serial= when given), reads past the end
 * (must be IOERR) and restores the pattern. The last round leaves the
 * final pattern (blk.h: BLK_PATTERN) for the host to verify.
 * "virtio-blk-ro" checks that a read-only disk refuses writes.
 */
#include "blk.h"

#define CHUNK		(64 * 1024)
#define RANGE		(64 * 1024)	/* discard / write-zeroes range */

static void fill(uint8_t *buf, uint64_t off, uint32_t len, uint64_t seed)
{
	uint64_t *w = (uint64_t *)buf;
	uint32_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = (off + 8 * i) ^ seed;
}

static int verify(const uint8_t *buf, uint64_t off, uint32_t len, uint64_t seed, char *why)
{
	const uint64_t *w = (const uint64_t *)buf;
	uint32_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != ((off + 8 * i) ^ seed)) {
			snprintf(why, WHY_LEN, "byte %#llx reads %#llx, wrote %#llx",
				 (unsigned long long)(off + 8 * i), (unsigned long long)w[i],
				 (unsigned long long)((off + 8 * i) ^ seed));
			return -1;
		}
	return 0;
}

static int bad_status(int st, const char *what, uint64_t off, char *why)
{
	snprintf(why, WHY_LEN, "%s at byte %#llx: %s", what, (unsigned long long)off,
		 st == BLK_S_TIMEOUT ? "no completion (timeout)" :
		 st == BLK_S_IOERR ? "IOERR" : st == BLK_S_UNSUPP ? "UNSUPP" : "bad status");
	return -1;
}

struct stream {
	uint64_t off[BLK_SLOTS];
	uint32_t len[BLK_SLOTS];
};

/* Write (or read and verify) [0, bytes) in CHUNKs, queue q taking chunk i when i % nq == q. */
static int pass(struct blk *b, uint64_t bytes, int write, uint64_t seed, char *why)
{
	static struct stream s;
	int depth = BLK_SLOTS / b->nq, inflight[VQ_MAX] = { 0 }, q, j, slot, st, busy;
	uint64_t next = 0;
	uint32_t t = write ? BLK_T_OUT : BLK_T_IN;

	if (depth > 4)
		depth = 4;
	do {
		busy = 0;
		for (q = 0; q < b->nq; q++) {
			for (j = 0; j < depth && inflight[q] < depth && next < bytes; j++) {
				slot = q * depth + j;
				if (b->busy[slot])
					continue;
				s.off[slot] = next;
				s.len[slot] = bytes - next < CHUNK ? bytes - next : CHUNK;
				if (write)
					fill(blk_buf(slot), next, s.len[slot], seed);
				if (blk_start(b, q, slot, t, next / 512, blk_buf(slot), s.len[slot]))
					return bad_status(BLK_S_TIMEOUT, "queue full", next, why);
				inflight[q]++;
				next += s.len[slot];
			}
		}
		for (q = 0; q < b->nq; q++) {
			if (!inflight[q])
				continue;
			busy = 1;
			st = blk_reap(b, q, &slot);
			if (st != BLK_S_OK)
				return bad_status(st, write ? "write" : "read", s.off[slot], why);
			inflight[q]--;
			if (!write && verify(blk_buf(slot), s.off[slot], s.len[slot], seed, why))
				return -1;
		}
	} while (busy || next < bytes);
	return 0;
}

static int all_zero(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* DISCARD or WRITE_ZEROES [off, off + RANGE), then read it. 1: zeros read back. */
static int zero_range(struct blk *b, uint32_t type, uint64_t off, char *why)
{
	const char *what = type == BLK_T_WZ ? "write-zeroes" : "discard";
	int st;

	blk_reqs[0].seg_sector = off / 512;
	blk_reqs[0].seg_num = RANGE / 512;
	blk_reqs[0].seg_flags = 0;
	st = blk_io(b, type, 0, NULL, 0);
	if (st != BLK_S_OK)
		return bad_status(st, what, off, why);
	memset(blk_buf(0), 0xee, RANGE);
	st = blk_io(b, BLK_T_IN, off / 512, blk_buf(0), RANGE);
	if (st != BLK_S_OK)
		return bad_status(st, "read after discard", off, why);
	return all_zero(blk_buf(0), RANGE);
}

static int check_id(struct blk *b, char *why)
{
	char serial[24], want[24];
	int st;

	memset(blk_buf(0), 0, 20);
	st = blk_io(b, BLK_T_GET_ID, 0, blk_buf(0), 20);
	if (st != BLK_S_OK)
		return bad_status(st, "GET_ID", 0, why);
	memcpy(serial, blk_buf(0), 20);
	serial[20] = '\0';
	printf("virtio-blk: serial '%s'\n", serial);
	if (!cmdline_get("blk_serial", want, sizeof(want)) && strncmp(serial, want, 21)) {
		snprintf(why, WHY_LEN, "GET_ID says '%s', blk_serial= says '%s'", serial, want);
		return -1;
	}
	return 0;
}

static int check_ranges(struct blk *b, uint64_t bytes, char *why)
{
	char val[8];
	int z, strict = !cmdline_get("blk_discard_zeroes", val, sizeof(val)) && val[0] == '1';

	if (blk_has(b, BLK_F_FLUSH) && blk_io(b, BLK_T_FLUSH, 0, NULL, 0) != BLK_S_OK)
		return bad_status(blk_reqs[0].status, "flush", 0, why);
	if (blk_has(b, BLK_F_WZ) && b->max_wz >= RANGE / 512) {
		z = zero_range(b, BLK_T_WZ, bytes / 2, why);
		if (z < 0)
			return -1;
		if (!z) {
			snprintf(why, WHY_LEN, "write-zeroes range does not read back zeros");
			return -1;
		}
	}
	if (blk_has(b, BLK_F_DISCARD) && b->max_discard >= RANGE / 512) {
		z = zero_range(b, BLK_T_DISCARD, bytes / 4, why);
		if (z < 0)
			return -1;
		printf("virtio-blk: discarded range reads back %s\n", z ? "zeros" : "old data");
		if (!z && strict) {
			snprintf(why, WHY_LEN, "discarded range does not read back zeros");
			return -1;
		}
	}
	return 0;
}

static int check_beyond(struct blk *b, char *why)
{
	int st = blk_io(b, BLK_T_IN, b->capacity, blk_buf(0), 512);

	if (st != BLK_S_IOERR) {
		snprintf(why, WHY_LEN, "read of sector %llu (= capacity): status %d, want IOERR",
			 (unsigned long long)b->capacity, st);
		return -1;
	}
	return 0;
}

static int irqs_seen(struct blk *b, const uint64_t *before, char *why)
{
	int q;

	for (q = 0; q < b->nq; q++)
		if (irq_count[b->vq[q].vec] == before[q]) {
			snprintf(why, WHY_LEN, "interrupt mode: no interrupt for queue %d (vector %#x)",
				 q, b->vq[q].vec);
			return -1;
		}
	return 0;
}

static int round_checks(struct blk *b, uint64_t bytes, uint64_t seed, char *why)
{
	if (pass(b, bytes, 1, seed, why) || pass(b, bytes, 0, seed, why) ||
	    check_ranges(b, bytes, why) || check_id(b, why) || check_beyond(b, why))
		return -1;
	/* put the pattern back where the ranges were zeroed, and check it all */
	return pass(b, bytes, 1, seed, why) || pass(b, bytes, 0, seed, why) ? -1 : 0;
}

static int blk_round(struct blk *b, int irq, int event_idx, uint64_t seed, char *why)
{
	uint64_t before[VQ_MAX] = { 0 }, bytes, t0;
	char val[16];
	uint64_t want = 0;
	int q, rc;

	if (blk_open(b, 0, irq, event_idx, 0, why))
		return -1;
	bytes = blk_area(b);
	if (bytes < 4 * RANGE) {
		snprintf(why, WHY_LEN, "disk of %llu bytes: want at least %d",
			 (unsigned long long)bytes, 4 * RANGE);
		return -1;
	}
	if (!cmdline_get("blk_queues", val, sizeof(val)) && !parse_uint(val, &want) &&
	    want != (uint64_t)b->nq) {
		snprintf(why, WHY_LEN, "%d queues in use, blk_queues= says %llu (device offers %u)",
			 b->nq, (unsigned long long)want, b->num_queues);
		return -1;
	}
	for (q = 0; q < b->nq; q++)
		before[q] = b->vq[q].vec >= 0 ? irq_count[b->vq[q].vec] : 0;
	t0 = rdtsc();
	rc = round_checks(b, bytes, seed, why);
	if (!rc && irq)
		rc = irqs_seen(b, before, why);
	if (!rc)
		printf("virtio-blk: %s, %s%s, %d queue(s) of %u, %llu sectors, %llu bytes checked in %llu ms\n",
		       b->dev.where, irq ? "interrupt" : "polling",
		       b->vq[0].event_idx ? " event-idx" : "", b->nq, b->vq[0].size,
		       (unsigned long long)b->capacity, (unsigned long long)bytes,
		       (unsigned long long)tsc_to_us(rdtsc() - t0) / 1000);
	return rc;
}

int check_virtio_blk(char *why)
{
	static struct blk b;
	char val[8];
	int ev = cmdline_get("virtio_event_idx", val, sizeof(val)) || val[0] != '0';
	int rc;

	rc = blk_round(&b, 0, 0, ~BLK_PATTERN, why);
	if (!rc) {
		blk_close(&b);
		rc = blk_round(&b, 1, ev, BLK_PATTERN, why);
	}
	blk_close(&b);
	return rc;
}

static int ro_refuses(struct blk *b, uint32_t type, const char *what, char *why)
{
	int st;

	blk_reqs[0].seg_sector = 0;
	blk_reqs[0].seg_num = 8;
	blk_reqs[0].seg_flags = 0;
	st = blk_io(b, type, 0, type == BLK_T_OUT ? blk_buf(1) : NULL,
		    type == BLK_T_OUT ? 4096 : 0);
	if (st != BLK_S_IOERR && st != BLK_S_UNSUPP) {
		snprintf(why, WHY_LEN, "%s on a read-only disk: status %d, want IOERR or UNSUPP",
			 what, st);
		return -1;
	}
	return 0;
}

static int ro_checks(struct blk *b, char *why)
{
	int st;

	if (!blk_has(b, BLK_F_RO)) {
		snprintf(why, WHY_LEN, "VIRTIO_BLK_F_RO offered but not negotiated");
		return -1;
	}
	st = blk_io(b, BLK_T_IN, 0, blk_buf(0), 4096);
	if (st != BLK_S_OK)
		return bad_status(st, "read", 0, why);
	memcpy(blk_buf(1), blk_buf(0), 4096);
	for (st = 0; st < 4096; st++)
		blk_buf(1)[st] ^= 0x5a;
	if (ro_refuses(b, BLK_T_OUT, "write", why) ||
	    (blk_has(b, BLK_F_WZ) && ro_refuses(b, BLK_T_WZ, "write-zeroes", why)))
		return -1;
	/* discard is advisory (QEMU may ignore it and say OK): only reported */
	if (blk_has(b, BLK_F_DISCARD))
		printf("virtio-blk-ro: discard %s\n",
		       ro_refuses(b, BLK_T_DISCARD, "discard", why) ? "accepted" : "refused");
	why[0] = '\0';
	st = blk_io(b, BLK_T_IN, 0, blk_buf(2), 4096);
	if (st != BLK_S_OK)
		return bad_status(st, "read", 0, why);
	if (memcmp(blk_buf(0), blk_buf(2), 4096)) {
		snprintf(why, WHY_LEN, "a refused write changed the disk");
		return -1;
	}
	printf("virtio-blk-ro: %s, %llu sectors, writes refused\n", b->dev.where,
	       (unsigned long long)b->capacity);
	return 0;
}

int check_virtio_blk_ro(char *why)
{
	static struct blk b;
	int rc;

	if (blk_open(&b, 1, 0, 0, 1, why))
		return -1;
	rc = ro_checks(&b, why);
	blk_close(&b);
	return rc;
}
