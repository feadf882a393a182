// SPDX-License-Identifier: MIT
/*
 * virtio-net driven through virtio-pci the way a guest driver would (config
 * space through 0xcf8/0xcfc, the BAR through MMIO, rings in guest RAM), on a
 * real tap in a network namespace of its own: the "guest" sends ARP requests
 * through its TX queue and gets the kernel's replies through its RX queue;
 * big frames sent into the tap with an AF_PACKET socket exercise mergeable
 * RX buffers; hostile chains and control commands are checked and counted.
 * Needs root and /dev/net/tun, skipped otherwise.
 *
 * The process unshares its network namespace once (CLONE_NEWNET): the taps
 * and addresses it makes exist only there and go with it. The tap ("the
 * host") is 10.78.0.1/24, "the guest" 10.78.0.2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "memory/guest_mem.h"
#include "memory/layout.h"
#include "net/mac.h"
#include "pci_test_helpers.h"
#include "virtio/virtio_net.h"
#include "virtio/virtqueue.h"

#define TAP_NAME	"husk-vn0"
#define HOST_IP		"10.78.0.1"
#define GUEST_IP	"10.78.0.2"
#define QSIZE		64
#define RAM		MIB(32)
#define RING_GPA(q)	(0x100000ull + 0x10000ull * (q))
#define BUF_GPA		0x800000ull
#define BUF_LEN		4096u
#define HDR		12
#define SEED		"husk-" TAP_NAME

#define F(bit)		(1ull << (bit))
#define F_BASE		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | \
			 F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_NET_F_MAC) | \
			 F(VIRTIO_NET_F_STATUS))

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x78, 0x00, 0x02 };
static bool netns_ready;

struct tq {
	uint64_t desc, avail, used;
	uint16_t aidx, seen;
};

struct fixture {
	struct guest_mem mem;
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct virtio_net *net;
	unsigned slot;
	uint64_t common, notify, devcfg;
	uint32_t notify_mult;
	struct tq q[8];
	unsigned nq;
};

/* ---- the namespace, the tap -------------------------------------------------------- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0 ||
	    system("ip -V >/dev/null 2>&1") != 0) {
		print_message("needs root, /dev/net/tun and ip(8): skipping\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		print_message("unshare(CLONE_NEWNET): %s: skipping\n", strerror(errno));
		return 0;
	}
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	netns_ready = true;
	return 0;
}

/* ---- a pretend guest driver ------------------------------------------------------- */

static uint8_t *ptr(struct fixture *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = gpa_to_hva(&f->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static void w16(struct fixture *f, uint64_t gpa, uint16_t v)
{
	uint8_t *p = ptr(f, gpa, 2);

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t r32(struct fixture *f, uint64_t gpa)
{
	uint8_t *p = ptr(f, gpa, 4);

	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void desc_at(struct fixture *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(ptr(f, table + 16ull * i, 16), &d, 16);	/* x86: little-endian */
}

static void desc(struct fixture *f, unsigned q, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	desc_at(f, f->q[q].desc, i, addr, len, flags, next);
}

static void cmn_write(struct fixture *f, unsigned off, uint64_t v, uint32_t len)
{
	mmio_write(f->mmio, f->common + off, v, len);
}

static uint64_t cmn_read(struct fixture *f, unsigned off, uint32_t len)
{
	return mmio_read(f->mmio, f->common + off, len);
}

static void kick(struct fixture *f, unsigned q)
{
	mmio_write(f->mmio, f->notify + (uint64_t)q * f->notify_mult, q, 2);
}

static void publish(struct fixture *f, unsigned q, uint16_t head)
{
	struct tq *t = &f->q[q];

	w16(f, t->avail + 4 + 2ull * (t->aidx % QSIZE), head);
	t->aidx++;
	__atomic_store_n((uint16_t *)(void *)ptr(f, t->avail + 2, 2), t->aidx, __ATOMIC_RELEASE);
	kick(f, q);
}

static uint16_t used_idx(struct fixture *f, unsigned q)
{
	return __atomic_load_n((uint16_t *)(void *)ptr(f, f->q[q].used + 2, 2), __ATOMIC_ACQUIRE);
}

static void nap(int ms)
{
	struct timespec ts = { .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait up to 3 s for used->idx to reach @want; returns what it is. */
static uint16_t wait_used(struct fixture *f, unsigned q, uint16_t want)
{
	for (int i = 0; i < 3000 && (uint16_t)(used_idx(f, q) - want) > 0x8000; i++)
		nap(1);
	return used_idx(f, q);
}

/* The next used element of @q (it must be there). */
static void next_used(struct fixture *f, unsigned q, uint32_t *id, uint32_t *len)
{
	struct tq *t = &f->q[q];
	uint64_t e = t->used + 4 + 8ull * (t->seen % QSIZE);

	assert_true(used_idx(f, q) != t->seen);
	*id = r32(f, e);
	*len = r32(f, e + 4);
	t->seen++;
}

static void find_caps(struct fixture *f)
{
	unsigned pos = cf8_read(f->pio, f->slot, PCI_CAPABILITY_LIST, 1), hops = 0;
	uint64_t base = cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_0, 4);

	base = (base & PCI_BASE_ADDRESS_MEM_MASK) |
	       (uint64_t)cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_1, 4) << 32;
	while (pos && hops++ < 48) {
		if (cf8_read(f->pio, f->slot, pos + PCI_CAP_LIST_ID, 1) == PCI_CAP_ID_VNDR) {
			unsigned type = cf8_read(f->pio, f->slot, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
			uint64_t off = cf8_read(f->pio, f->slot, pos + VIRTIO_PCI_CAP_OFFSET, 4);

			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				f->common = base + off;
			else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				f->devcfg = base + off;
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				f->notify = base + off;
				f->notify_mult = cf8_read(f->pio, f->slot, pos + 16, 4);
			}
		}
		pos = cf8_read(f->pio, f->slot, pos + PCI_CAP_LIST_NEXT, 1);
	}
	assert_true(f->common && f->notify && f->devcfg);
}

/* A fresh tap and device with @queues pairs. */
static struct fixture *make(unsigned queues, unsigned mtu)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct husk_net_config cfg = { .tap = TAP_NAME, .fd = -1, .queues = queues, .mtu = mtu };
	struct pci_bus_params p;
	struct virtio_env env;
	struct tap tap;
	char err[256];

	assert_non_null(f);
	assert_int_equal(guest_mem_init(&f->mem, RAM, false, err, sizeof(err)), 0);
	f->pio = iobus_create("pio");
	f->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(-1, &f->rt), 0);
	p = (struct pci_bus_params){
		.pio = f->pio, .mmio = f->mmio, .routing = f->rt, .vm_fd = -1, .ram_size = RAM,
	};
	assert_int_equal(pci_bus_create(&p, &f->bus), 0);
	env = (struct virtio_env){ .mem = &f->mem, .kind = HUSK_VIRTIO_PCI, .pci = f->bus,
				   .vm_fd = -1 };
	if (tap_open(&cfg, 0, &tap, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(sh("ip addr add %s/24 dev %s", HOST_IP, TAP_NAME), 0);
	assert_int_equal(virtio_net_create(&env, &cfg, &tap, SEED, 0, &f->net, err, sizeof(err)),
			 0);
	for (f->slot = 1; f->slot < PCI_SLOTS; f->slot++)
		if (cf8_read(f->pio, f->slot, PCI_VENDOR_ID, 4) == (0x1041u << 16 | 0x1af4))
			break;
	assert_true(f->slot < PCI_SLOTS);
	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	find_caps(f);
	return f;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	virtio_net_destroy(f->net);
	pci_bus_destroy(f->bus);
	irq_routing_destroy(f->rt);
	iobus_destroy(f->pio);
	iobus_destroy(f->mmio);
	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

static uint64_t device_features(struct fixture *f)
{
	uint64_t v;

	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	v = cmn_read(f, VIRTIO_PCI_COMMON_DF, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return v | cmn_read(f, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static void queue_setup(struct fixture *f, unsigned q)
{
	struct tq *t = &f->q[q];

	t->desc = RING_GPA(q);
	t->avail = t->desc + 0x4000;
	t->used = t->desc + 0x8000;
	t->aidx = t->seen = 0;
	memset(ptr(f, t->desc, 0x10000), 0, 0x10000);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)t->desc, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)t->avail, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)t->used, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
}

/* Reset, accept @features, set up @nq queues, DRIVER_OK. */
static void bring_up(struct fixture *f, uint64_t features, unsigned nq)
{
	const uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, s, 1);
	assert_int_equal(device_features(f) & features, features);
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, features >> 32, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	assert_true(cmn_read(f, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++)
		queue_setup(f, q);
	f->nq = nq;
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK |
		  VIRTIO_CONFIG_S_DRIVER_OK, 1);
	nap(20);
}

static bool needs_reset(struct fixture *f)
{
	return cmn_read(f, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* RX buffer @i of queue @q: one writable descriptor of @len at its own address. */
static uint64_t rx_buf_gpa(unsigned q, unsigned i)
{
	return BUF_GPA + (uint64_t)q * QSIZE * BUF_LEN * 4 + (uint64_t)i * BUF_LEN;
}

static void post_rx(struct fixture *f, unsigned q, unsigned i, uint32_t len)
{
	memset(ptr(f, rx_buf_gpa(q, i), len), 0xa5, len);
	desc(f, q, i, rx_buf_gpa(q, i), len, VIRTQ_DESC_F_WRITE, 0);
	publish(f, q, (uint16_t)i);
}

/* ---- frames ------------------------------------------------------------------------ */

static void put_ip(uint8_t *p, const char *ip)
{
	assert_int_equal(inet_pton(AF_INET, ip, p), 1);
}

/* An ARP request for HOST_IP from the guest: header + 42 bytes at @gpa. */
static size_t arp_request(struct fixture *f, uint64_t gpa)
{
	uint8_t *h = ptr(f, gpa, HDR + 42), *e = h + HDR, *a = e + 14;

	memset(h, 0, HDR + 42);
	memset(e, 0xff, 6);
	memcpy(e + 6, guest_mac, 6);
	e[12] = 0x08;
	e[13] = 0x06;
	a[1] = 1;		/* Ethernet */
	a[2] = 0x08;		/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;		/* request */
	memcpy(a + 8, guest_mac, 6);
	put_ip(a + 14, GUEST_IP);
	put_ip(a + 24, HOST_IP);
	return HDR + 42;
}

/* Send an ARP request as a two-descriptor chain (header, frame) at TX slot @i. */
static void tx_arp(struct fixture *f, unsigned txq, unsigned i)
{
	uint64_t gpa = BUF_GPA - 0x10000 + 0x100 * i;

	arp_request(f, gpa);
	desc(f, txq, 2 * i, gpa, HDR, VIRTQ_DESC_F_NEXT, (uint16_t)(2 * i + 1));
	desc(f, txq, 2 * i + 1, gpa + HDR, 42, 0, 0);
	publish(f, txq, (uint16_t)(2 * i));
}

static bool is_arp_reply(const uint8_t *e)
{
	uint8_t ip[4];

	put_ip(ip, HOST_IP);
	return e[12] == 0x08 && e[13] == 0x06 && e[14 + 7] == 2 &&
	       !memcmp(e, guest_mac, 6) && !memcmp(e + 14 + 14, ip, 4);
}

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Wait for RX used element and check it is an ARP reply in buffer @id. */
static void expect_arp_reply(struct fixture *f, unsigned rxq, uint16_t num_buffers)
{
	uint32_t id, len;
	uint8_t *h;

	assert_int_equal(wait_used(f, rxq, (uint16_t)(f->q[rxq].seen + 1)),
			 (uint16_t)(f->q[rxq].seen + 1));
	next_used(f, rxq, &id, &len);
	assert_true(id < QSIZE);
	assert_int_equal(len, HDR + 42);
	h = ptr(f, rx_buf_gpa(rxq, id), len);
	assert_int_equal(h[0], 0);			/* flags: nothing partial */
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(le16_at(h + 10), num_buffers);
	assert_true(is_arp_reply(h + HDR));
}

/* A frame of @len bytes (Ethernet header included) into the tap, to the guest. */
static void inject(size_t len, uint8_t fill)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex =
				   (int)if_nametoindex(TAP_NAME), .sll_halen = 6 };
	uint8_t *frame = malloc(len);

	assert_true(s >= 0);
	assert_non_null(frame);
	memset(frame, fill, len);
	memcpy(frame, guest_mac, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x99", 6);
	frame[12] = 0x88;	/* a local experimental ethertype */
	frame[13] = 0xb5;
	memcpy(sll.sll_addr, guest_mac, 6);
	assert_int_equal(sendto(s, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)),
			 (ssize_t)len);
	free(frame);
	close(s);
}

/*
 * A 20000-byte TCP segment with a GSO header into the tap (PACKET_VNET_HDR):
 * the kernel hands it over unsegmented when the tap has TSO4 (the guest
 * negotiated GUEST_TSO4), so the guest gets one big frame.
 */
static void inject_gso(size_t payload)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP)), one = 1;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = (int)if_nametoindex(TAP_NAME), .sll_halen = 6 };
	size_t len = 10 + 14 + 20 + 20 + payload;
	uint8_t *b = calloc(1, len), *e = b + 10, *ip = e + 14, *tcp = ip + 20;
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16,
	};

	assert_true(s >= 0);
	assert_non_null(b);
	assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	memcpy(b, &h, 10);
	memcpy(e, guest_mac, 6);
	memcpy(e + 6, "\x02\x00\x00\x00\x00\x99", 6);
	e[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 20 + payload) >> 8);
	ip[3] = (uint8_t)(20 + 20 + payload);
	ip[6] = 0x40;	/* DF */
	ip[8] = 64;
	ip[9] = 6;	/* TCP */
	put_ip(ip + 12, HOST_IP);
	put_ip(ip + 16, GUEST_IP);
	tcp[1] = 80;
	tcp[3] = 80;
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;	/* PSH ACK */
	tcp[15] = 0xff;
	memset(tcp + 20, 0x5a, payload);
	memcpy(sll.sll_addr, guest_mac, 6);
	assert_int_equal(sendto(s, b, len, 0, (struct sockaddr *)&sll, sizeof(sll)),
			 (ssize_t)len);
	free(b);
	close(s);
}

/* ---- tests ------------------------------------------------------------------------ */

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

static void test_arp_round_trip(void **state)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id, len;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
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

/* Mergeable buffers: a 9000-byte frame spans three 4 KiB chains. */
static void test_mergeable_multi_chain(void **state)
{
	struct virtio_net_stats st;
	struct fixture *f;
	uint32_t id[4], len[4];
	uint8_t *h;

	if (!netns_ready)
		skip();
	f = *state = make(1, 9000);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
		 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_MTU), 2);
	for (unsigned i = 0; i < 40; i++)
		post_rx(f, 0, i, BUF_LEN);
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

/* GUEST_TSO4: a 20 KB TCP segment arrives whole, over five 4 KiB chains. */
static void test_gso_frame_over_chains(void **state)
{
	struct fixture *f;
	uint32_t id[5], len[5], total = 0;
	uint8_t *h;

	if (!netns_ready)
		skip();
	f = *state = make(1, 0);
	bring_up(f, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
		 F(VIRTIO_NET_F_GUEST_TSO4), 2);
	assert_int_equal(virtio_net_tap_offload(f->net), TUN_F_CSUM | TUN_F_TSO4);
	for (unsigned i = 0; i < 40; i++)
		post_rx(f, 0, i, BUF_LEN);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_and_features),
		T(test_arp_round_trip),
		T(test_mergeable_multi_chain),
		T(test_gso_frame_over_chains),
		T(test_small_rx_buffers_counted),
		T(test_hostile_tx),
		T(test_control_queue),
		T(test_pause_resume),
		cmocka_unit_test(test_fd_handover),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
