// SPDX-License-Identifier: MIT
/*
 * virtio-net's data path driven through virtio-pci the way a guest driver
 * would (config space through 0xcf8/0xcfc, the BAR through MMIO, rings in
 * guest RAM), on a real tap in a network namespace of its own: the "guest"
 * sends ARP requests through its TX queue and gets the kernel's replies
 * through its RX queue; big frames sent into the tap with an AF_PACKET
 * socket (one a GSO TCP segment) exercise mergeable RX buffers.
 * Needs root and /dev/net/tun, skipped otherwise.
 */
#include "test_virtio_net_helpers.h"
#include "core/statebuf.h"

/* ---- tests ---------------------------------------------------------------------- */

/* test_NAME on io_uring and test_NAME_sync on the thread engine, from NAME(state, engine). */
#define ON_BOTH_ENGINES(name)								\
	static void test_##name(void **state) { name(state, HUSK_NET_ENGINE_URING); }	\
	static void test_##name##_sync(void **state) { name(state, HUSK_NET_ENGINE_SYNC); }

static void test_config_and_features(void **state)
{
	struct fixture *f;
	uint8_t mac[6];
	uint64_t df;

	if (!netns_ready)
		skip();
	f = *state = make(2, 9000);
	df = device_features(f);
	assert_true(df & F(VIRTIO_F_VERSION_1));
	assert_true(df & F(VIRTIO_NET_F_MQ));
	assert_true(df & F(VIRTIO_NET_F_CTRL_VQ));
	assert_true(df & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(df & F(VIRTIO_NET_F_MTU));
	assert_true(df & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_true(df & F(VIRTIO_NET_F_CSUM));
	assert_false(df & F(VIRTIO_NET_F_GUEST_UFO));
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_NUMQ, 2), 5);
	assert_int_equal(net_default_mac(SEED, 0, mac), 0);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(mmio_read(f->mmio, f->devcfg + i, 1), mac[i]);
	assert_int_equal(mmio_read(f->mmio, f->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(mmio_read(f->mmio, f->devcfg + 8, 2), 2);
	assert_int_equal(mmio_read(f->mmio, f->devcfg + 10, 2), 9000);
	/* the offloads follow what the guest takes, and go at reset */
	bring_up(f, F_BASE | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
		 F(VIRTIO_NET_F_GUEST_ECN), 2);
	assert_int_equal(virtio_net_tap_offload(f->net), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(virtio_net_tap_offload(f->net), 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_GUEST_TSO6), 2);	/* TSO without CSUM: none */
	assert_int_equal(virtio_net_tap_offload(f->net), 0);
}

static void arp_round_trip(void **state, enum husk_net_engine engine)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make_engine(1, 0, engine);
	bring_up(f, F_BASE, 2);
	assert_false(virtio_net_dev(f->net)->device_features & F(VIRTIO_NET_F_MTU));
	for (unsigned i = 0; i < 8; i++)
		post_rx(f, 0, i, 1526);
	tx_arp(f, 1, 0);
	assert_int_equal(wait_used(f, 1, 1), 1);
	next_used(f, 1, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	expect_arp_reply(f, 0, 1);
	/* again, after the device took the buffer back */
	tx_arp(f, 1, 1);
	expect_arp_reply(f, 0, 1);
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.tx_packets, 2);
	assert_int_equal(st.tx_bytes, 2 * 42);
	assert_int_equal(st.rx_packets, 2);
	assert_int_equal(st.rx_bytes, 2 * 42);
	assert_int_equal(st.rx_errors + st.tx_errors, 0);
	assert_true(st.engine_submits > 0 && st.engine_completions >= 4);
	assert_true(st.interrupts >= 4);
	assert_false(needs_reset(f));
}

ON_BOTH_ENGINES(arp_round_trip)

/* Mergeable buffers: a 9000-byte frame spans three 4 KiB chains. */
static void mergeable_multi_chain(void **state, enum husk_net_engine engine)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id[4], len[4];
	uint8_t *h;

	if (!netns_ready)
		skip();
	f = *state = make_engine(1, 9000, engine);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
		 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_MTU), 2);
	post_rx_batch(f, 0, 0, 40, BUF_LEN);
	nap(20);
	inject(9014, 0x3c);
	assert_int_equal(wait_used(f, 0, 3), 3);
	for (unsigned i = 0; i < 3; i++)
		next_used(f, 0, &id[i], &len[i]);
	assert_int_equal(len[0], BUF_LEN);
	assert_int_equal(len[1], BUF_LEN);
	assert_int_equal(len[2], HDR + 9014 - 2 * BUF_LEN);
	h = ptr(f, rx_buf_gpa(0, id[0]), BUF_LEN);
	assert_int_equal(le16_at(h + 10), 3);			/* num_buffers */
	assert_memory_equal(h + HDR, guest_mac, 6);
	assert_int_equal(ptr(f, rx_buf_gpa(0, id[1]), 1)[0], 0x3c);
	assert_int_equal(ptr(f, rx_buf_gpa(0, id[2]), len[2])[len[2] - 1], 0x3c);
	/* the read's unused chains serve the next frame: a small one in one buffer */
	inject(100, 0x11);
	assert_int_equal(wait_used(f, 0, 4), 4);
	next_used(f, 0, &id[3], &len[3]);
	assert_int_equal(len[3], HDR + 100);
	h = ptr(f, rx_buf_gpa(0, id[3]), BUF_LEN);
	assert_int_equal(le16_at(h + 10), 1);
	assert_int_equal(h[HDR + 20], 0x11);
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.rx_packets, 2);
	assert_int_equal(st.rx_bytes, 9014 + 100);
	assert_false(needs_reset(f));
}

ON_BOTH_ENGINES(mergeable_multi_chain)

/* GUEST_TSO4: a 20 KB TCP segment arrives whole, over five 4 KiB chains. */
static void gso_frame_over_chains(void **state, enum husk_net_engine engine)
{
	struct fixture *f;
	uint32_t id[5], len[5], total = 0;
	uint8_t *h;

	if (!netns_ready)
		skip();
	f = *state = make_engine(1, 0, engine);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
		 F(VIRTIO_NET_F_GUEST_TSO4), 2);
	assert_int_equal(virtio_net_tap_offload(f->net), TUN_F_CSUM | TUN_F_TSO4);
	post_rx_batch(f, 0, 0, 40, BUF_LEN);
	nap(20);
	inject_gso(20000);
	assert_int_equal(wait_used(f, 0, 5), 5);
	for (unsigned i = 0; i < 5; i++) {
		next_used(f, 0, &id[i], &len[i]);
		total += len[i];
		assert_int_equal(len[i], i < 4 ? BUF_LEN : HDR + 54 + 20000 - 4 * BUF_LEN);
	}
	assert_int_equal(total, HDR + 54 + 20000);
	h = ptr(f, rx_buf_gpa(0, id[0]), BUF_LEN);
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16_at(h + 4), 1448);		/* gso_size */
	assert_int_equal(le16_at(h + 10), 5);		/* num_buffers */
	assert_int_equal(ptr(f, rx_buf_gpa(0, id[4]), 1)[0], 0x5a);
	assert_false(needs_reset(f));
}

ON_BOTH_ENGINES(gso_frame_over_chains)

/* Without mergeable buffers a frame bigger than the chain is cut (the tap's rule). */
static void test_small_rx_buffers_counted(void **state)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE, 2);
	/* garbage first: readable RX chain, then one smaller than the header */
	desc(f, 0, 0, rx_buf_gpa(0, 0), 512, 0, 0);
	publish(f, 0, 0);
	desc(f, 0, 1, rx_buf_gpa(0, 1), 8, VIRTQ_DESC_F_WRITE, 0);
	publish(f, 0, 1);
	assert_int_equal(wait_used(f, 0, 2), 2);
	next_used(f, 0, &id, &len);
	assert_int_equal(len, 0);
	next_used(f, 0, &id, &len);
	assert_int_equal(len, 0);
	/* a legal but short chain: a 1000-byte frame lands cut to 512 */
	post_rx(f, 0, 2, 512);
	inject(1000, 0x22);
	assert_int_equal(wait_used(f, 0, 3), 3);
	next_used(f, 0, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 512);
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.rx_errors, 2);
	assert_int_equal(st.rx_short, 1);
	assert_false(needs_reset(f));
}

/*
 * Flow control: with no RX buffers posted the device reads nothing and does
 * not spin (no submits while idle); the frames wait in the tap and arrive
 * once the guest posts buffers.
 */
static void test_rx_waits_for_buffers(void **state)
{
	struct virtio_net_stats a, b;
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE, 2);
	for (uint8_t i = 0; i < 3; i++)
		inject(200, (uint8_t)(0x40 + i));
	nap(50);
	virtio_net_stats(f->net, &a);
	nap(200);
	virtio_net_stats(f->net, &b);
	assert_int_equal(b.rx_packets, 0);
	assert_int_equal(b.engine_submits, a.engine_submits);
	assert_int_equal(b.engine_sqes, a.engine_sqes);
	assert_int_equal(used_idx(f, 0), 0);
	for (unsigned i = 0; i < 3; i++)
		post_rx(f, 0, i, 1526);
	assert_int_equal(wait_used(f, 0, 3), 3);
	for (unsigned i = 0; i < 3; i++) {
		next_used(f, 0, &id, &len);
		assert_int_equal(len, HDR + 200);
	}
	virtio_net_stats(f->net, &b);
	assert_int_equal(b.rx_packets, 3);
}

/* Rounds of 16 ARP requests in one batch, buffers reposted: slots are reused. */
static void test_arp_batches(void **state)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id, len;
	unsigned got = 0;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF), 2);
	for (unsigned i = 0; i < 32; i++)
		post_rx(f, 0, i, 2048);
	for (unsigned round = 0; round < 8; round++) {
		for (unsigned i = 0; i < 16; i++)
			tx_arp(f, 1, i);
		assert_int_equal(wait_used(f, 1, (uint16_t)(16 * (round + 1))),
				 (uint16_t)(16 * (round + 1)));
		for (unsigned i = 0; i < 16; i++)
			next_used(f, 1, &id, &len);
		assert_int_equal(wait_used(f, 0, (uint16_t)(got + 16)), (uint16_t)(got + 16));
		for (unsigned i = 0; i < 16; i++, got++) {
			next_used(f, 0, &id, &len);
			assert_int_equal(len, HDR + 42);
			assert_true(is_arp_reply(ptr(f, rx_buf_gpa(0, id), len) + HDR));
			post_rx(f, 0, id, 2048);	/* give it back */
		}
	}
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.tx_packets, 128);
	assert_int_equal(st.rx_packets, 128);
	assert_false(needs_reset(f));
}

/*
 * A pause keeps the receive buffers no read used, whichever they are. With
 * 512-byte mergeable buffers a read spans three; an ARP reply uses one and
 * the other two go back ahead of newer reads, so after two replies the
 * unused buffers are not the last ones popped (stepping the avail index
 * back, as pauses did, offered a used buffer again and lost an unused one).
 * Resumed, the device uses each remaining buffer once: none twice, none lost.
 * With @reload, the paused device is saved and loaded back first: the saved
 * state carries the buffers it held (and a hostile count or head is refused).
 */
static void pause_keeps_unused_buffers(void **state, bool reload)
{
	bool seen[QSIZE] = { false };
	struct state_writer w;
	struct state_reader rd;
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF), 2);
	post_rx_batch(f, 0, 0, 24, 512);
	nap(20);
	for (unsigned r = 0; r < 24; r++) {
		if (r == 2) {
			virtio_net_pause(f->net);
			if (reload) {
				sw_init(&w);
				assert_int_equal(virtio_net_save(f->net, &w), 0);
				/* the count of held buffers (22) made 300: refused, nothing changed */
				w.buf[w.len - 2 * 22 - 4] = 0x2c;
				w.buf[w.len - 2 * 22 - 3] = 0x01;
				sr_init(&rd, w.buf, w.len);
				assert_int_not_equal(virtio_net_load(f->net, &rd), 0);
				w.buf[w.len - 2 * 22 - 4] = 22;
				w.buf[w.len - 2 * 22 - 3] = 0;
				sr_init(&rd, w.buf, w.len);
				assert_int_equal(virtio_net_load(f->net, &rd), 0);
				sw_release(&w);
			}
			virtio_net_resume(f->net);
		}
		tx_arp(f, 1, r);
		assert_int_equal(wait_used(f, 0, (uint16_t)(r + 1)), (uint16_t)(r + 1));
		next_used(f, 0, &id, &len);
		assert_true(id < 24);
		if (seen[id])
			fail_msg("frame %u: buffer %u used a second time", r, id);
		seen[id] = true;
		assert_int_equal(len, HDR + 42);
		assert_true(is_arp_reply(ptr(f, rx_buf_gpa(0, id), len) + HDR));
	}
	assert_false(needs_reset(f));
}

static void test_pause_keeps_unused_buffers(void **state)
{
	pause_keeps_unused_buffers(state, false);
}

static void test_saved_state_keeps_unused_buffers(void **state)
{
	pause_keeps_unused_buffers(state, true);
}

/*
 * GUEST_TSO4 with fewer buffers than a GSO frame needs: the device waits a
 * moment for more, then posts the read as it is, so the guest still receives.
 */
static void test_few_buffers_still_receive(void **state)
{
	struct fixture *f;
	uint32_t id, len;
	uint8_t *h;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
		 F(VIRTIO_NET_F_GUEST_TSO4), 2);
	post_rx_batch(f, 0, 0, 4, BUF_LEN);	/* 16 KiB: less than 65562 */
	nap(20);
	inject(100, 0x33);
	assert_int_equal(wait_used(f, 0, 1), 1);
	next_used(f, 0, &id, &len);
	assert_int_equal(len, HDR + 100);
	h = ptr(f, rx_buf_gpa(0, id), BUF_LEN);
	assert_int_equal(le16_at(h + 10), 1);
	assert_int_equal(h[HDR + 50], 0x33);
}

/* avail_event (EVENT_IDX): where the device asks to be notified next. */
static uint16_t avail_event(struct fixture *f, unsigned q)
{
	const struct tq *t = &f->q[q];

	return __atomic_load_n((uint16_t *)(void *)ptr(f, t->used + 4 + 8ull * t->size, 2),
			       __ATOMIC_ACQUIRE);
}

/*
 * A TX ring as deep as the engine, filled before one kick: the device stops
 * popping on a full engine, the frames complete (inside submit with the sync
 * engine), and it must then ask for the next notification. It once returned
 * with notifications off, so a guest that honours EVENT_IDX never kicked
 * again and its TX stalled (the test guest's net-bench, nested).
 */
static void tx_full_ring_rearms(void **state, enum husk_net_engine engine)
{
	const uint16_t n = 256;
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make_engine(1, 0, engine);
	f->want_size[1] = n;
	bring_up(f, F_BASE, 2);
	for (uint16_t i = 0; i < n; i++) {
		uint64_t gpa = BUF_GPA - 0x10000 + 0x100ull * i;

		desc(f, 1, i, gpa, (uint32_t)arp_request(f, gpa), 0, 0);
		w16(f, f->q[1].avail + 4 + 2ull * i, i);
	}
	f->q[1].aidx = n;
	__atomic_store_n((uint16_t *)(void *)ptr(f, f->q[1].avail + 2, 2), n, __ATOMIC_RELEASE);
	kick(f, 1);
	assert_int_equal(wait_used(f, 1, n), n);
	for (int i = 0; i < 1000 && avail_event(f, 1) != n; i++)
		nap(1);
	assert_int_equal(avail_event(f, 1), n);
	for (uint16_t i = 0; i < n; i++)
		next_used(f, 1, &id, &len);
	tx_arp(f, 1, 0);	/* descriptors 0 and 1, free again */
	assert_int_equal(wait_used(f, 1, n + 1), n + 1);
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.tx_packets, n + 1);
	assert_false(needs_reset(f));
}

ON_BOTH_ENGINES(tx_full_ring_rearms)

/*
 * RX notifications: off while reads are posted (their completions bring the
 * device back to the guest's new buffers, so a buffer given back costs no
 * notify), on again once the device has no buffer left.
 */
static void test_rx_notify_only_when_starved(void **state)
{
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE, 2);
	assert_int_equal(avail_event(f, 0), 0);		/* nothing posted: asks */
	for (unsigned i = 0; i < 8; i++)
		post_rx(f, 0, i, 1526);
	nap(50);
	assert_int_equal(avail_event(f, 0), 0);		/* 8 reads posted: does not */
	for (uint8_t i = 0; i < 8; i++)
		inject(200, (uint8_t)(0x50 + i));
	assert_int_equal(wait_used(f, 0, 8), 8);
	for (unsigned i = 0; i < 8; i++) {
		next_used(f, 0, &id, &len);
		assert_int_equal(len, HDR + 200);
	}
	for (int i = 0; i < 1000 && avail_event(f, 0) != 8; i++)
		nap(1);
	assert_int_equal(avail_event(f, 0), 8);		/* starved: asks again */
	/* a frame already waiting: the read completes inside the submit */
	inject(300, 0x60);
	nap(20);
	post_rx(f, 0, 0, 1526);
	assert_int_equal(wait_used(f, 0, 9), 9);
	next_used(f, 0, &id, &len);
	assert_int_equal(len, HDR + 300);
	for (int i = 0; i < 1000 && avail_event(f, 0) != 9; i++)
		nap(1);
	assert_int_equal(avail_event(f, 0), 9);		/* and asks again */
	assert_false(needs_reset(f));
}

static int setup_null(void **state)
{
	*state = NULL;
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_null, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_and_features),
		T(test_arp_round_trip),
		T(test_arp_round_trip_sync),
		T(test_mergeable_multi_chain),
		T(test_mergeable_multi_chain_sync),
		T(test_gso_frame_over_chains),
		T(test_gso_frame_over_chains_sync),
		T(test_small_rx_buffers_counted),
		T(test_rx_waits_for_buffers),
		T(test_few_buffers_still_receive),
		T(test_arp_batches),
		T(test_pause_keeps_unused_buffers),
		T(test_saved_state_keeps_unused_buffers),
		T(test_tx_full_ring_rearms),
		T(test_tx_full_ring_rearms_sync),
		T(test_rx_notify_only_when_starved),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
