// SPDX-License-Identifier: MIT
/* virtio-blk request parsing (virtio/virtio_blk_req.c) on hand-built chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/virtio_blk.h>

#include "core/bytes.h"
#include "virtio/virtio_blk_req.h"

#define DISK_SECTORS	2048	/* 1 MiB */

struct chain_builder {
	struct vq_seg segs[8];
	struct vq_chain c;
	uint8_t hdr[32];
	uint8_t data[4][4096];
	uint8_t status[4];
	struct iovec iov[8];
};

static const struct blk_disk_info disk = {
	.sectors = DISK_SECTORS, .discard = true, .write_zeroes = true,
	.max_discard_sectors = 1024, .max_write_zeroes_sectors = 1024, .serial = "husk-serial-0123",
};

static void seg(struct chain_builder *b, void *p, uint32_t len, bool writable)
{
	struct vq_chain *c = &b->c;

	c->segs[c->nsegs] = (struct vq_seg){ .hva = p, .len = len, .writable = writable };
	c->nsegs++;
	if (writable) {
		c->writable_len += len;
	} else {
		c->nreadable++;
		c->readable_len += len;
	}
}

static void start(struct chain_builder *b, uint32_t type, uint64_t sector)
{
	memset(b, 0, sizeof(*b));
	vq_chain_init(&b->c, b->segs, 8);
	le_put(b->hdr, type, 4);
	le_put(b->hdr + 8, sector, 8);
	b->status[0] = 0xee;
}

static enum blk_req_kind parse(struct chain_builder *b, struct blk_req *r,
			       const struct blk_disk_info *d)
{
	return blk_req_parse(&b->c, d, r, b->iov, 8);
}

static void test_read(void **state)
{
	struct chain_builder b;
	struct blk_req r;

	(void)state;
	start(&b, VIRTIO_BLK_T_IN, 10);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 1024, true);
	seg(&b, b.data[1], 512, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);
	assert_int_equal(r.offset, 10 * 512);
	assert_int_equal(r.len, 1536);
	assert_int_equal(r.iovcnt, 2);
	assert_ptr_equal(b.iov[0].iov_base, b.data[0]);
	assert_int_equal(b.iov[1].iov_len, 512);
	assert_ptr_equal(r.status, b.status);
	assert_int_equal(r.written, 1537);
	blk_req_complete(&r, 1536);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_OK);
	blk_req_complete(&r, -5);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	assert_int_equal(r.written, 1);
}

/* The header, the data and the status byte may share descriptors. */
static void test_write_packed_segments(void **state)
{
	struct chain_builder b;
	struct blk_req r;
	uint8_t one[16 + 1024];
	uint8_t tail[512 + 1];

	(void)state;
	start(&b, VIRTIO_BLK_T_OUT, 0);
	memcpy(one, b.hdr, 16);
	seg(&b, one, sizeof(one), false);		/* header + 1024 data bytes */
	seg(&b, tail, 512, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);
	assert_int_equal(r.len, 1536);
	assert_int_equal(r.iovcnt, 2);
	assert_ptr_equal(b.iov[0].iov_base, one + 16);
	assert_int_equal(b.iov[0].iov_len, 1024);
	assert_int_equal(r.written, 1);

	/* a read whose status byte ends the last data descriptor */
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, tail, sizeof(tail), true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);
	assert_int_equal(r.len, 512);
	assert_ptr_equal(r.status, tail + 512);
}

static void test_bad_requests(void **state)
{
	struct chain_builder b;
	struct blk_req r;
	struct blk_disk_info ro = disk;

	(void)state;
	/* no status byte at all: cannot be answered */
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 16, false);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_NO_STATUS);
	assert_int_equal(r.written, 0);

	/* short header */
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 8, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);

	/* not whole sectors */
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 100, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);

	/* past the end, and a sector number that would wrap */
	start(&b, VIRTIO_BLK_T_IN, DISK_SECTORS - 1);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 1024, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	start(&b, VIRTIO_BLK_T_OUT, UINT64_MAX);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 512, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);

	/* the last sector is fine */
	start(&b, VIRTIO_BLK_T_IN, DISK_SECTORS - 1);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 512, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);

	/* writes to a read-only disk */
	ro.readonly = true;
	start(&b, VIRTIO_BLK_T_OUT, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 512, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &ro), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);

	/* unknown type */
	start(&b, 0x77, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_UNSUPP);
}

static void test_too_many_segments(void **state)
{
	struct chain_builder b;
	struct blk_req r;

	(void)state;
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 16, false);
	for (int i = 0; i < 4; i++)
		seg(&b, b.data[i], 512, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(blk_req_parse(&b.c, &disk, &r, b.iov, 3), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req_parse(&b.c, &disk, &r, b.iov, 4), BLK_REQ_IO);
	assert_int_equal(r.iovcnt, 4);
}

static void test_flush_and_get_id(void **state)
{
	struct chain_builder b;
	struct blk_req r;

	(void)state;
	start(&b, VIRTIO_BLK_T_FLUSH, 12345);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);
	assert_int_equal(r.type, VIRTIO_BLK_T_FLUSH);

	start(&b, VIRTIO_BLK_T_GET_ID, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], 20, true);
	seg(&b, b.status, 1, true);
	memset(b.data[0], 0xaa, 20);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_OK);
	assert_memory_equal(b.data[0], "husk-serial-0123\0\0\0\0", 20);
	assert_int_equal(r.written, 21);
}

static void dwz(struct chain_builder *b, uint32_t type, uint64_t sector, uint32_t n,
		uint32_t flags)
{
	start(b, type, 0);
	le_put(b->hdr + 16, sector, 8);
	le_put(b->hdr + 24, n, 4);
	le_put(b->hdr + 28, flags, 4);
	seg(b, b->hdr, 32, false);
	seg(b, b->status, 1, true);
}

static void test_discard_write_zeroes(void **state)
{
	struct chain_builder b;
	struct blk_req r;
	struct blk_disk_info none = disk;

	(void)state;
	dwz(&b, VIRTIO_BLK_T_DISCARD, 8, 16, 0);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);
	assert_int_equal(r.offset, 8 * 512);
	assert_int_equal(r.len, 16 * 512);
	dwz(&b, VIRTIO_BLK_T_WRITE_ZEROES, 0, 4, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_IO);
	assert_true(r.unmap);
	/* unmap on a discard, unknown flags: unsupported */
	dwz(&b, VIRTIO_BLK_T_DISCARD, 0, 4, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_UNSUPP);
	dwz(&b, VIRTIO_BLK_T_WRITE_ZEROES, 0, 4, 0x80);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_UNSUPP);
	/* beyond the limit, beyond the disk, zero sectors */
	dwz(&b, VIRTIO_BLK_T_DISCARD, 0, 1025, 0);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	dwz(&b, VIRTIO_BLK_T_DISCARD, DISK_SECTORS - 2, 4, 0);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	dwz(&b, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 0);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	/* two segments (max_*_seg is 1), or a truncated one */
	start(&b, VIRTIO_BLK_T_DISCARD, 0);
	seg(&b, b.hdr, 32, false);
	seg(&b, b.data[0], 16, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	start(&b, VIRTIO_BLK_T_DISCARD, 0);
	seg(&b, b.hdr, 24, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &disk), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	/* not offered */
	none.discard = none.write_zeroes = false;
	dwz(&b, VIRTIO_BLK_T_DISCARD, 0, 4, 0);
	assert_int_equal(parse(&b, &r, &none), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_UNSUPP);
}

/*
 * The used element's len is a u32: an IN request whose data segments add up
 * to 4 GiB or more cannot be answered with a correct length, and is refused
 * (the segments may all cover the same guest pages; they are never touched).
 */
static void test_read_over_4g_refused(void **state)
{
	const struct blk_disk_info big = { .sectors = 64ull << 21 };	/* 64 GiB */
	const uint32_t seg_max = 0xfffffe00;	/* the largest sector multiple in a u32 */
	struct chain_builder b;
	struct blk_req r;

	(void)state;
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], seg_max, true);
	seg(&b, b.data[0], seg_max, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &big), BLK_REQ_DONE);
	assert_int_equal(b.status[0], VIRTIO_BLK_S_IOERR);
	assert_int_equal(r.written, 1);
	/* the largest that fits: data + status byte still a u32 */
	start(&b, VIRTIO_BLK_T_IN, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], seg_max, true);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &big), BLK_REQ_IO);
	assert_int_equal(r.len, seg_max);
	assert_int_equal(r.written, (uint64_t)seg_max + 1);
	/* a short read reports what arrived, never more than was asked */
	blk_req_complete(&r, 4096);
	assert_int_equal(r.written, 4097);
	blk_req_complete(&r, -5);
	assert_int_equal(r.written, 1);
	/* a write that big has nothing to report back: the used length stays 1 */
	start(&b, VIRTIO_BLK_T_OUT, 0);
	seg(&b, b.hdr, 16, false);
	seg(&b, b.data[0], seg_max, false);
	seg(&b, b.data[0], seg_max, false);
	seg(&b, b.status, 1, true);
	assert_int_equal(parse(&b, &r, &big), BLK_REQ_IO);
	assert_int_equal(r.len, 2ull * seg_max);
	assert_int_equal(r.written, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_write_packed_segments),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_flush_and_get_id),
		cmocka_unit_test(test_discard_write_zeroes),
		cmocka_unit_test(test_read_over_4g_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
