// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio v2 transport (virtio/virtio_mmio.c) driven by a hostile
 * guest: register accesses of any offset and width, the device config, the
 * status state machine, queues set up on hostile rings, and the device
 * (fz_vdev, no threads) serving them. KVM is faked (fuzz_fake_kvm.h): a
 * QueueNotify that an ioeventfd claims never reaches the transport, as on
 * a vCPU. The input:
 *   byte 0  queues 1 + b % 4; byte 1 queue max 2^(b % 9); byte 2 bit 0:
 *           KVM_IOEVENTFD fails, bit 1: the device's start fails
 *   then operations:
 *     0-5  a ring edit of the queue set up last (fz_guest_op)
 *     6    register write: offset (u16 % 0x200), width {1,2,4,8}, value
 *     7    register read
 *     8    set up queue q: select, size, ring addresses, ready
 *     9    negotiate and DRIVER_OK (features as offered, or fuzzed)
 *     10   the device serves its queues
 *     11   the device: needs reset / config changed
 *     12   status write
 */
#include "fuzz_virtio_helpers.h"
#include "fuzz_fake_kvm.h"
#include "virtio/virtio_mmio.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#define RAM		0x10000ull

struct fx {
	struct fz_guest g;
	struct io_bus *mmio;
	struct fz_vdev *dev;
	struct virtio_mmio *m;
	uint64_t base;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void wr(struct fx *f, uint64_t off, uint32_t len, uint64_t v)
{
	uint8_t b[8];

	/* the vCPU: KVM takes the writes an ioeventfd claims */
	if (fz_kvm_ioeventfd(false, f->base + off, len, v))
		return;
	memcpy(b, &v, sizeof(b));	/* little-endian host */
	iobus_write(f->mmio, f->base + off, b, len);
}

static uint64_t rd(struct fx *f, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	iobus_read(f->mmio, f->base + off, (uint8_t *)&v, len);
	return v;
}

static void queue_setup(struct fuzz_in *in, struct fx *f)
{
	unsigned q = fuzz_u8(in) % (f->dev->vd.nqueues + 1);
	unsigned size = 1u << (fuzz_u8(in) % 10);
	uint64_t desc = fz_addr(in, &f->g), avail = fz_addr(in, &f->g), used = fz_addr(in, &f->g);

	wr(f, VIRTIO_MMIO_QUEUE_SEL, 4, q);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 4, size);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)desc);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, desc >> 32);
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, (uint32_t)avail);
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 4, avail >> 32);
	wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, 4, (uint32_t)used);
	wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, 4, used >> 32);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 4, 1);
	fz_guest_queue(&f->g, size, desc, avail, used);
}

static void negotiate(struct fuzz_in *in, struct fx *f)
{
	uint64_t feat = fuzz_bool(in) ? fuzz_u64(in) : f->dev->vd.device_features;

	wr(f, VIRTIO_MMIO_STATUS, 4, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (unsigned w = 0; w < 2; w++) {
		wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, w);
		wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)(feat >> (32 * w)));
	}
	wr(f, VIRTIO_MMIO_STATUS, 4, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	if (fuzz_bool(in))
		queue_setup(in, f);
	wr(f, VIRTIO_MMIO_STATUS, 4, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t widths[] = { 1, 2, 4, 8 };
	struct fuzz_in in = fuzz_in_init(data, size);
	struct virtio_mmio_bus bus;
	unsigned nq = 1 + fuzz_u8(&in) % 4;
	uint16_t qmax = (uint16_t)(1u << (fuzz_u8(&in) % 9));
	uint8_t flags = fuzz_u8(&in);
	struct fx f = { 0 };

	fz_kvm_reset(false, flags & 1);
	fz_guest_init(&f.g, RAM);
	fz_guest_queue(&f.g, 1, 0, 0, 0);
	f.mmio = iobus_create("mmio");
	if (!f.mmio)
		fuzz_die("iobus_create");
	bus = (struct virtio_mmio_bus){ .mmio = f.mmio, .vm_fd = FAKE_VM_FD };
	f.dev = fz_vdev_new(&f.g.mem, 0x30000000ull | 1ull << 33, nq, qmax);
	f.dev->fail_start = flags & 2;
	if (virtio_mmio_attach(&f.dev->vd, &bus, &f.m))
		fuzz_die("virtio_mmio_attach");
	f.base = virtio_mmio_base(f.m);
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in) % 13;
		uint64_t off;
		uint32_t len;

		switch (op) {
		case 6:
			off = fuzz_u16(&in) % 0x200;
			len = fuzz_pick(&in, widths);
			wr(&f, off, len, fuzz_u64(&in));
			break;
		case 7:
			off = fuzz_u16(&in) % 0x200;
			rd(&f, off, fuzz_pick(&in, widths));
			break;
		case 8:
			queue_setup(&in, &f);
			break;
		case 9:
			negotiate(&in, &f);
			break;
		case 10:
			fz_vdev_service(f.dev);
			break;
		case 11:
			if (fuzz_bool(&in))
				virtio_dev_needs_reset(&f.dev->vd);
			else
				virtio_dev_config_changed(&f.dev->vd);
			break;
		case 12:
			wr(&f, VIRTIO_MMIO_STATUS, 4, fuzz_u8(&in));
			break;
		default:
			fz_guest_op(&in, &f.g, op);
			break;
		}
	}
	virtio_mmio_detach(f.m);
	fz_vdev_free(f.dev);
	iobus_destroy(f.mmio);
	fz_kvm_check_empty();
	fz_guest_free(&f.g);
	return 0;
}
