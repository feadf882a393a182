// SPDX-License-Identifier: MIT
/*
 * The live-migration and replication stream as the destination (or the
 * standby) reads it (migration/mig_stream.c, mig_dest.c, standby.c): the
 * input is a whole stream. The hello is checked (its flags choose
 * migration or replication); then each record header is decoded against
 * its type's limits and the record order; PAGES and ZERO land in 1 MiB of
 * guest RAM whose every neighbour byte is poisoned (a range outside it is
 * an ASan report); DISK headers are decoded and their range checked
 * against a 1 MiB disk; STATE_PRE and STATE go through the state-file
 * decoder the destination uses; CKPT and GO are decoded.
 * A payload's CRC is checked as the destination does; a 1-in-2 input
 * (byte 0 odd) has every CRC fixed first so the fuzzer gets past them.
 */
#include <zlib.h>

#include "fuzz_helpers.h"
#include "migration/mig_stream.h"
#include "state/snapfile.h"
#include "state/snapshot.h"

#define RAM (1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void state(const uint8_t *p, uint64_t len, bool devices)
{
	struct str_arena arena = { 0 };
	struct husk_config cfg;
	struct snap_file f;
	uint8_t *buf = malloc(len ? len : 1);
	char err[512];

	if (!buf)
		return;
	memcpy(buf, p, len);
	snap_state_decode(buf, len, "fuzz", devices, &f, &arena, &cfg, err, sizeof(err));
	snap_file_free(&f);
	arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_order order = { 0 };
	uint32_t flags;
	struct fuzz_ram ram;
	struct guest_mem m;
	uint8_t *in;
	size_t off = MIG_HELLO_LEN;
	bool fix;
	char why[256];

	if (size < MIG_HELLO_LEN + 1)
		return 0;
	fix = data[0] & 1;
	in = fuzz_dup(data + 1, size - 1);
	size -= 1;
	if (mig_hello_check(in, &flags, why, sizeof(why))) {
		free(in);
		return 0;
	}
	order.replication = flags & MIG_HELLO_REPLICATION;
	fuzz_guest_mem(&m, &ram, RAM);
	while (size - off >= MIG_REC_LEN) {
		uint8_t *h = in + off, *p = h + MIG_REC_LEN;
		struct mig_rec r;
		uint64_t o, n;
		uint32_t crc;

		if (mig_rec_decode(h, order.phase != MIG_PH_START ? RAM : 0, &r, why, sizeof(why)))
			break;
		if (r.len > size - off - MIG_REC_LEN)
			break;	/* the stream is cut */
		crc = (uint32_t)crc32(0, p, (uInt)r.len);
		if (crc != r.crc && !fix)
			break;
		if (mig_order_check(&order, r.type, why, sizeof(why)))
			break;
		off += MIG_REC_LEN + r.len;
		switch (r.type) {
		case MIG_REC_STATE_PRE:
		case MIG_REC_STATE:
			state(p, r.len, r.type == MIG_REC_STATE);
			break;
		case MIG_REC_PAGES:
		case MIG_REC_ZERO:
			if (mig_pages_decode(r.type, p, r.len, RAM, &o, &n, why, sizeof(why)))
				goto out;
			if (r.type == MIG_REC_ZERO)
				memset(m.hva + o, 0, n * MIG_PAGE);
			else
				memcpy(m.hva + o, p + MIG_PAGES_HDR, n * MIG_PAGE);
			break;
		case MIG_REC_DISK: {
			struct mig_disk d;

			if (mig_disk_decode(p, r.len, &d, why, sizeof(why)))
				goto out;
			if (d.offset <= RAM && d.len <= RAM - d.offset && !(d.flags & MIG_DISK_ZERO))
				memcpy(m.hva + d.offset, p + MIG_DISK_HDR, d.len);
			break;
		}
		default:
			break;
		}
		if (r.type == MIG_REC_END) {
			struct mig_go g;

			mig_go_decode(in + off, size - off, &g, why, sizeof(why));
			break;
		}
	}
out:
	fuzz_ram_free(&ram);
	free(in);
	return 0;
}
