// SPDX-License-Identifier: MIT
/*
 * virtio-net through virtio-pci on a real tap (see test_virtio_net_helpers.h):
 * hostile TX chains, the control queue, pause/resume, and --net fd=N.
 * Needs root and /dev/net/tun, skipped otherwise.
 */
#include "test_virtio_net_helpers.h"

static void test_hostile_tx(void **state)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint64_t table = BUF_GPA - 0x20000;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE, 2);
	for (unsigned i = 0; i < 8; i++)
		post_rx(f, 0, i, 1526);
	/* a writable descriptor in a TX chain */
	desc(f, 1, 10, BUF_GPA - 0x8000, 100, VIRTQ_DESC_F_WRITE, 0);
	publish(f, 1, 10);
	/* only a header */
	desc(f, 1, 11, BUF_GPA - 0x8000, HDR, 0, 0);
	publish(f, 1, 11);
	/* 70 segments through an indirect table: more than the engine takes */
	for (unsigned i = 0; i < 70; i++)
		desc_at(f, table, i, BUF_GPA - 0x8000 + i, 1, i < 69 ? VIRTQ_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	desc(f, 1, 12, table, 70 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(f, 1, 12);
	assert_int_equal(wait_used(f, 1, 3), 3);
	for (unsigned i = 0; i < 3; i++) {
		next_used(f, 1, &id, &len);
		assert_int_equal(id, 10 + i);
		assert_int_equal(len, 0);
	}
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.tx_errors, 2);
	assert_int_equal(st.tx_dropped, 1);
	assert_int_equal(st.tx_packets, 0);
	assert_false(needs_reset(f));
	/* and the device still works */
	tx_arp(f, 1, 0);
	expect_arp_reply(f, 0, 1);
	/* a descriptor outside guest RAM breaks the queue: NEEDS_RESET, no crash */
	desc(f, 1, 20, RAM + 0x1000, 64, 0, 0);
	publish(f, 1, 20);
	for (int i = 0; i < 2000 && !needs_reset(f); i++)
		nap(1);
	assert_true(needs_reset(f));
}

/*
 * HOST_TSO4: the guest hands over a 10000-byte TCP segment with a GSO header;
 * the tap takes it whole, and refuses a malformed one (counted in tx_errors).
 */
static void test_tx_gso_frame(void **state)
{
	const size_t payload = 10000, flen = 14 + 20 + 20 + payload;
	uint64_t gpa = BUF_GPA - 0x40000;
	struct virtio_net_hdr_v1 h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16,
	};
	struct virtio_net_stats st;
	struct fixture *f;
	uint8_t *e, *ip, *tcp;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), 2);
	memcpy(ptr(f, gpa, HDR), &h, HDR);
	e = ptr(f, gpa + HDR, flen);
	memset(e, 0, 54);
	memcpy(e, "\x02\x00\x00\x00\x00\x99", 6);
	memcpy(e + 6, guest_mac, 6);
	e[12] = 0x08;
	ip = e + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((40 + payload) >> 8);
	ip[3] = (uint8_t)(40 + payload);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	put_ip(ip + 12, GUEST_IP);
	put_ip(ip + 16, HOST_IP);
	tcp = ip + 20;
	tcp[1] = 99;
	tcp[3] = 99;
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;
	tcp[15] = 0xff;
	memset(tcp + 20, 0x77, payload);
	desc(f, 1, 0, gpa, HDR, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 1, gpa + HDR, (uint32_t)flen, 0, 0);
	publish(f, 1, 0);
	assert_int_equal(wait_used(f, 1, 1), 1);
	next_used(f, 1, &id, &len);
	assert_int_equal(id, 0);
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.tx_errors, 0);
	assert_int_equal(st.tx_packets, 1);
	assert_int_equal(st.tx_bytes, flen);
	/* a checksum offset past the frame: the tap refuses the write */
	h.csum_start = 60000;
	memcpy(ptr(f, gpa, HDR), &h, HDR);
	publish(f, 1, 0);
	assert_int_equal(wait_used(f, 1, 2), 2);
	next_used(f, 1, &id, &len);
	assert_int_equal(len, 0);
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.tx_errors, 1);
	assert_int_equal(st.tx_packets, 1);
	assert_false(needs_reset(f));
}

/* A control command: @out readable bytes, one ack byte; returns the ack (or 0xee: none). */
static uint8_t ctrl(struct fixture *f, unsigned cq, const void *cmd, size_t n, bool with_ack)
{
	static unsigned slot;
	uint64_t gpa = BUF_GPA - 0x30000 + 0x100 * (slot % 32);
	unsigned d = 2 * (slot++ % 32);
	uint8_t *ack = ptr(f, gpa + 0x80, 1);
	uint32_t id, len;

	memcpy(ptr(f, gpa, n), cmd, n);
	*ack = 0xee;
	desc(f, cq, d, gpa, (uint32_t)n, with_ack ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(d + 1));
	desc(f, cq, d + 1, gpa + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(f, cq, (uint16_t)d);
	assert_int_equal(wait_used(f, cq, (uint16_t)(f->q[cq].seen + 1)),
			 (uint16_t)(f->q[cq].seen + 1));
	next_used(f, cq, &id, &len);
	assert_int_equal(id, d);
	assert_int_equal(len, with_ack ? 1 : 0);
	return *ack;
}

static void test_control_queue(void **state)
{
	const uint8_t pairs2[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0 };
	const uint8_t pairs1[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0 };
	const uint8_t pairs3[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0 };
	const uint8_t pairs0[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0 };
	const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	const uint8_t rx_bad[] = { VIRTIO_NET_CTRL_RX, 9, 1 };
	uint8_t table[2 + 4 + 4 + 6] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET };
	const uint8_t unknown[] = { 99, 0 };
	const uint8_t vlan[] = { VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 1, 0 };
	struct virtio_net_stats st;
	struct fixture *f;

	if (!netns_ready)
		skip();
	f = *state = make(2, 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ), 5);
	assert_int_equal(virtio_net_active_pairs(f->net), 1);
	assert_int_equal(ctrl(f, 4, pairs2, sizeof(pairs2), true), VIRTIO_NET_OK);
	assert_int_equal(virtio_net_active_pairs(f->net), 2);
	assert_int_equal(ctrl(f, 4, pairs3, sizeof(pairs3), true), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, pairs0, sizeof(pairs0), true), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, pairs2, 3, true), VIRTIO_NET_ERR);	/* short */
	assert_int_equal(virtio_net_active_pairs(f->net), 2);
	/* pair 1 receives now: post buffers there, then drop back to one pair */
	for (unsigned i = 0; i < 4; i++)
		post_rx(f, 2, i, 1526);
	nap(20);
	assert_int_equal(ctrl(f, 4, pairs1, sizeof(pairs1), true), VIRTIO_NET_OK);
	assert_int_equal(virtio_net_active_pairs(f->net), 1);
	nap(20);
	assert_int_equal(used_idx(f, 2), 0);	/* cancelled, not handed back */
	assert_int_equal(ctrl(f, 4, promisc, sizeof(promisc), true), VIRTIO_NET_OK);
	assert_int_equal(ctrl(f, 4, rx_bad, sizeof(rx_bad), true), VIRTIO_NET_ERR);
	/* MAC table: 0 unicast, 1 multicast entry */
	table[2 + 4] = 1;
	assert_int_equal(ctrl(f, 4, table, sizeof(table), true), VIRTIO_NET_OK);
	assert_int_equal(ctrl(f, 4, table, sizeof(table) - 1, true), VIRTIO_NET_ERR);
	table[2] = 0xff;	/* 255 entries that are not there */
	assert_int_equal(ctrl(f, 4, table, sizeof(table), true), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, unknown, sizeof(unknown), true), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, vlan, sizeof(vlan), true), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, unknown, 1, true), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, promisc, sizeof(promisc), false), 0xee);	/* no ack room */
	virtio_net_stats(f->net, &st);
	assert_int_equal(st.ctrl_commands, 14);
	assert_int_equal(st.ctrl_errors, 10);
	assert_false(needs_reset(f));
	/* the data path of pair 0 is unaffected */
	for (unsigned i = 0; i < 4; i++)
		post_rx(f, 0, i, 1526);
	tx_arp(f, 1, 0);
	expect_arp_reply(f, 0, 1);
}

/* Pause parks the threads: a kick is served only after resume. */
static void test_pause_resume(void **state)
{
	struct fixture *f;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE, 2);
	for (unsigned i = 0; i < 4; i++)
		post_rx(f, 0, i, 1526);
	nap(20);
	virtio_net_pause(f->net);
	tx_arp(f, 1, 0);
	nap(100);
	assert_int_equal(used_idx(f, 1), 0);
	virtio_net_resume(f->net);
	expect_arp_reply(f, 0, 1);
	assert_int_equal(used_idx(f, 1), 1);
}

/* A tap fd opened elsewhere: --net fd=N. Without IFF_VNET_HDR it is refused. */
static int open_tap_fd(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	return fd;
}

static void test_fd_handover(void **state)
{
	struct husk_net_config cfg = { .fd = -1 };
	struct guest_mem mem;
	struct io_bus *pio = iobus_create("pio"), *mmio = iobus_create("mmio");
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct pci_bus_params p;
	struct virtio_net *net;
	struct tap tap;
	uint8_t mac[6], want[6];
	char err[256];

	(void)state;
	if (!netns_ready)
		skip();
	cfg.fd = open_tap_fd("husk-fd0", IFF_TAP | IFF_NO_PI);
	assert_int_equal(tap_open(&cfg, 0, &tap, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "without IFF_VNET_HDR"));
	assert_true(fcntl(cfg.fd, F_GETFD) < 0);	/* husk owned it: closed */

	cfg.fd = open_tap_fd("husk-fd1", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	assert_int_equal(tap_open(&cfg, 0, &tap, err, sizeof(err)), 0);
	assert_string_equal(tap.ifname, "husk-fd1");
	assert_int_equal(guest_mem_init(&mem, RAM, false, err, sizeof(err)), 0);
	assert_int_equal(irq_routing_create(-1, &rt), 0);
	p = (struct pci_bus_params){ .pio = pio, .mmio = mmio, .routing = rt, .vm_fd = -1,
				     .ram_size = RAM };
	assert_int_equal(pci_bus_create(&p, &bus), 0);
	assert_int_equal(virtio_net_create(&(struct virtio_env){ .mem = &mem,
			 .kind = HUSK_VIRTIO_PCI, .pci = bus, .vm_fd = -1 }, &cfg, &tap,
			 "husk-husk-fd1", 3, &net, err, sizeof(err)), 0);
	assert_int_equal(virtio_net_pairs(net), 1);
	virtio_net_mac(net, mac);
	assert_int_equal(net_default_mac("husk-husk-fd1", 3, want), 0);
	assert_memory_equal(mac, want, 6);
	assert_false(virtio_net_dev(net)->device_features & F(VIRTIO_NET_F_MQ));
	virtio_net_destroy(net);
	assert_true(fcntl(cfg.fd, F_GETFD) < 0);
	pci_bus_destroy(bus);
	irq_routing_destroy(rt);
	iobus_destroy(pio);
	iobus_destroy(mmio);
	guest_mem_destroy(&mem);
}

static int setup_null(void **state)
{
	*state = NULL;
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_null, teardown)

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_null, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hostile_tx),
		T(test_tx_gso_frame),
		T(test_control_queue),
		T(test_pause_resume),
		cmocka_unit_test(test_fd_handover),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
