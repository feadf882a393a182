// SPDX-License-Identifier: MIT
/*
 * The virtio-net control queue (virtio/virtio_net_ctrl.c): commands in
 * hostile chains, served by net_ctrl_run() on a struct virtio_net set up
 * by hand (no tap, no threads; the transport is a stub). The input:
 *   byte 0  pairs 1 + b % 4, bit 7: VIRTIO_NET_F_MQ negotiated
 *   byte 1  control queue size 2^(b % 9)
 *   then ops: 0-5 a ring edit (fz_guest_op), 6-7 net_ctrl_run()
 * Checked: active_pairs stays within 1..npairs, acks lie in guest RAM.
 */
#include "fuzz_virtio_helpers.h"
#include "virtio/virtio_net_internal.h"

#define RAM		0x10000ull
#define DESC		0x1000ull
#define AVAIL		0x2000ull
#define USED		0x3000ull

static void stub_notify(struct virtio_dev *vd, unsigned q)
{
	(void)vd;
	(void)q;
}

static void stub_config(struct virtio_dev *vd)
{
	(void)vd;
}

static const struct virtio_transport_ops stub_tr = {
	.notify_queue = stub_notify, .notify_config = stub_config,
};

static const struct virtio_dev_ops no_ops = { 0 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in_init(data, size);
	uint8_t b0 = fuzz_u8(&in);
	unsigned npairs = 1 + b0 % 4, qsize = 1u << (fuzz_u8(&in) % 9);
	struct virtio_net *net = calloc(1, sizeof(*net));
	struct virtio_dev_params p = {
		.name = "fuzz-net", .device_id = 1, .nqueues = 2 * npairs + 1, .queue_max = 256,
		.ops = &no_ops,
	};
	struct fz_guest g;

	if (!net)
		fuzz_die("calloc");
	fz_guest_init(&g, RAM);
	if (virtio_dev_init(&net->vd, &p, &g.mem))
		fuzz_die("virtio_dev_init");
	net->vd.tr = &stub_tr;
	net->npairs = npairs;
	net->ctrl_q = 2 * npairs;
	atomic_store(&net->active_pairs, 1);
	snprintf(net->name, sizeof(net->name), "fuzz-net");
	for (unsigned i = 0; i < npairs; i++) {
		net->pair[i].net = net;
		net->pair[i].index = i;
		net->pair[i].started = i & 1;
	}
	vq_chain_init(&net->pair[0].chain, net->pair[0].segs, NET_CHAIN_SEGS);
	if (b0 & 0x80)
		net->vd.st.driver_features |= 1ull << VIRTIO_NET_F_MQ;
	net->vd.st.status = 0x0f;	/* DRIVER_OK */
	fz_guest_queue(&g, qsize, DESC, AVAIL, USED);
	if (virtqueue_configure(&net->vd.vq[net->ctrl_q], &g.mem, qsize, DESC, AVAIL, USED,
				1ull << VIRTIO_RING_F_INDIRECT_DESC))
		fuzz_die("virtqueue_configure");
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in) % 8;
		unsigned ap;

		if (op < 6) {
			fz_guest_op(&in, &g, op);
			continue;
		}
		net_ctrl_run(net);
		ap = atomic_load(&net->active_pairs);
		if (ap < 1 || ap > npairs)
			__builtin_trap();
	}
	net->vd.ops = &no_ops;
	virtio_dev_uninit(&net->vd);
	free(net);
	fz_guest_free(&g);
	return 0;
}
