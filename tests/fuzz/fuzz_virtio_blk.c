// SPDX-License-Identifier: MIT
/*
 * virtio-blk requests (virtio/virtio_blk_req.c) in chains popped from
 * hostile rings in exactly sized guest RAM, run the way the device's queue
 * thread runs them, with a synchronous engine (preadv/pwritev/fallocate/
 * fdatasync) on a 64 KiB image in a memfd. The input:
 *   byte 0  disk: bit 0 read-only, bit 1 discard, bit 2 write-zeroes,
 *           bit 3 a 20-byte serial (else a short one)
 *   byte 1  queue size 2^(b % 9); byte 2 iovec room 1 + b % 8
 *   then ops: 0-5 a ring edit (fz_guest_op), 6-7 the device serves the queue
 * Checked: every iovec lies in guest RAM, BLK_REQ_IO ranges lie inside the
 * disk, the used length never exceeds the writable bytes.
 */
#include "fuzz_virtio_helpers.h"
#include "virtio/virtio_blk_req.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/virtio_blk.h>
#include <sys/mman.h>

#define RAM		0x10000ull
#define DISK_BYTES	0x10000ull
#define DESC		0x1000ull
#define AVAIL		0x2000ull
#define USED		0x3000ull

static int disk_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	disk_fd = memfd_create("husk-fuzz-disk", MFD_CLOEXEC);
	if (disk_fd < 0 || ftruncate(disk_fd, DISK_BYTES))
		fuzz_die("disk memfd");
	return 0;
}

static void in_ram(const struct fz_guest *g, const void *p, uint64_t len)
{
	const uint8_t *b = p;

	if (b < g->ram.base || b > g->ram.base + g->ram.size ||
	    len > (uint64_t)(g->ram.base + g->ram.size - b))
		__builtin_trap();
}

static int64_t run_io(const struct blk_req *r, const struct iovec *iov)
{
	ssize_t n = 0;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		n = preadv(disk_fd, iov, (int)r->iovcnt, (off_t)r->offset);
		break;
	case VIRTIO_BLK_T_OUT:
		n = pwritev(disk_fd, iov, (int)r->iovcnt, (off_t)r->offset);
		break;
	case VIRTIO_BLK_T_FLUSH:
		n = fdatasync(disk_fd);
		break;
	default:	/* discard, write zeroes */
		n = fallocate(disk_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)r->offset, (off_t)r->len);
		break;
	}
	return n < 0 ? -errno : n;
}

static void serve(struct fz_guest *g, struct virtqueue *vq, struct vq_chain *c,
		  const struct blk_disk_info *d, struct iovec *iov, unsigned max_iov)
{
	uint16_t old = vq->st.used_idx;
	struct blk_req r;
	int ret;

	while ((ret = virtqueue_pop(vq, c)) > 0) {
		enum blk_req_kind k = blk_req_parse(c, d, &r, iov, max_iov);

		if (k == BLK_REQ_IO) {
			uint64_t sum = 0;

			if (r.iovcnt > max_iov)
				__builtin_trap();
			for (unsigned i = 0; i < r.iovcnt; i++) {
				in_ram(g, iov[i].iov_base, iov[i].iov_len);
				sum += iov[i].iov_len;
			}
			if ((r.type == VIRTIO_BLK_T_IN || r.type == VIRTIO_BLK_T_OUT) &&
			    sum != r.len)
				__builtin_trap();
			if (r.type != VIRTIO_BLK_T_FLUSH &&
			    (r.offset > DISK_BYTES || r.len > DISK_BYTES - r.offset))
				__builtin_trap();
			blk_req_complete(&r, run_io(&r, iov));
		}
		if (r.status)
			in_ram(g, r.status, 1);
		if (r.written > c->writable_len)
			__builtin_trap();
		if (virtqueue_push(vq, c->head, r.written))
			__builtin_trap();
	}
	virtqueue_should_interrupt(vq, old);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in_init(data, size);
	uint8_t db = fuzz_u8(&in);
	unsigned qsize = 1u << (fuzz_u8(&in) % 9);
	unsigned max_iov = 1 + fuzz_u8(&in) % 8;
	struct blk_disk_info d = {
		.sectors = DISK_BYTES / 512, .readonly = db & 1, .discard = db & 2,
		.write_zeroes = db & 4, .max_discard_sectors = 64, .max_write_zeroes_sectors = 32,
		.serial = db & 8 ? "0123456789abcdefghij" : "husk",
	};
	struct fz_guest g;
	struct virtqueue vq;
	struct vq_chain c;
	struct vq_seg *segs = malloc(16 * sizeof(*segs));
	struct iovec *iov = malloc(max_iov * sizeof(*iov));

	if (!segs || !iov)
		fuzz_die("malloc");
	fz_guest_init(&g, RAM);
	fz_guest_queue(&g, qsize, DESC, AVAIL, USED);
	virtqueue_init(&vq);
	if (virtqueue_configure(&vq, &g.mem, qsize, DESC, AVAIL, USED,
				1ull << VIRTIO_RING_F_INDIRECT_DESC))
		fuzz_die("virtqueue_configure");
	vq_chain_init(&c, segs, 16);
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in) % 8;

		if (op >= 6)
			serve(&g, &vq, &c, &d, iov, max_iov);
		else
			fz_guest_op(&in, &g, op);
	}
	serve(&g, &vq, &c, &d, iov, max_iov);
	free(iov);
	free(segs);
	fz_guest_free(&g);
	return 0;
}
