/* SPDX-License-Identifier: MIT */
/*
 * Shared by the virtio-net device tests (test_virtio_net.c, test_virtio_net_ctrl.c):
 * a private network namespace with a real tap, a pretend guest driver
 * talking virtio-pci to the device, and frames.
 *
 * The process unshares its network namespace once (CLONE_NEWNET): the taps
 * and addresses it makes exist only there and go with it. The tap ("the
 * host") is 10.78.0.1/24, "the guest" 10.78.0.2.
 */
#ifndef HUSK_TEST_VIRTIO_NET_HELPERS_H
#define HUSK_TEST_VIRTIO_NET_HELPERS_H

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
static bool netns_ready;	/* set by group_setup (one per test program) */

struct tq {
	uint64_t desc, avail, used;
	uint16_t aidx, seen;
	uint16_t size;		/* entries; set by queue_setup */
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
	uint16_t want_size[8];	/* queue sizes bring_up sets; 0: QSIZE */
};

/* ---- the namespace, the tap -------------------------------------------------------- */

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static inline int group_setup(void **state)
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

static inline uint8_t *ptr(struct fixture *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = gpa_to_hva(&f->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static inline void w16(struct fixture *f, uint64_t gpa, uint16_t v)
{
	uint8_t *p = ptr(f, gpa, 2);

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t r32(struct fixture *f, uint64_t gpa)
{
	uint8_t *p = ptr(f, gpa, 4);

	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void desc_at(struct fixture *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(ptr(f, table + 16ull * i, 16), &d, 16);	/* x86: little-endian */
}

static inline void desc(struct fixture *f, unsigned q, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	desc_at(f, f->q[q].desc, i, addr, len, flags, next);
}

static inline void cmn_write(struct fixture *f, unsigned off, uint64_t v, uint32_t len)
{
	mmio_write(f->mmio, f->common + off, v, len);
}

static inline uint64_t cmn_read(struct fixture *f, unsigned off, uint32_t len)
{
	return mmio_read(f->mmio, f->common + off, len);
}

static inline void kick(struct fixture *f, unsigned q)
{
	mmio_write(f->mmio, f->notify + (uint64_t)q * f->notify_mult, q, 2);
}

static inline void publish(struct fixture *f, unsigned q, uint16_t head)
{
	struct tq *t = &f->q[q];

	w16(f, t->avail + 4 + 2ull * (t->aidx % t->size), head);
	t->aidx++;
	__atomic_store_n((uint16_t *)(void *)ptr(f, t->avail + 2, 2), t->aidx, __ATOMIC_RELEASE);
	kick(f, q);
}

static inline uint16_t used_idx(struct fixture *f, unsigned q)
{
	return __atomic_load_n((uint16_t *)(void *)ptr(f, f->q[q].used + 2, 2), __ATOMIC_ACQUIRE);
}

static inline void nap(int ms)
{
	struct timespec ts = { .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait up to 3 s for used->idx to reach @want; returns what it is. */
static inline uint16_t wait_used(struct fixture *f, unsigned q, uint16_t want)
{
	for (int i = 0; i < 3000 && (uint16_t)(used_idx(f, q) - want) > 0x8000; i++)
		nap(1);
	return used_idx(f, q);
}

/* The next used element of @q (it must be there). */
static inline void next_used(struct fixture *f, unsigned q, uint32_t *id, uint32_t *len)
{
	struct tq *t = &f->q[q];
	uint64_t e = t->used + 4 + 8ull * (t->seen % t->size);

	assert_true(used_idx(f, q) != t->seen);
	*id = r32(f, e);
	*len = r32(f, e + 4);
	t->seen++;
}

static inline void find_caps(struct fixture *f)
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
static inline struct fixture *make_engine(unsigned queues, unsigned mtu,
					  enum husk_net_engine engine)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct husk_net_config cfg = { .tap = TAP_NAME, .fd = -1, .queues = queues, .mtu = mtu,
				       .engine = engine };
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

static inline struct fixture *make(unsigned queues, unsigned mtu)
{
	return make_engine(queues, mtu, HUSK_NET_ENGINE_AUTO);
}

static inline int teardown(void **state)
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

static inline uint64_t device_features(struct fixture *f)
{
	uint64_t v;

	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	v = cmn_read(f, VIRTIO_PCI_COMMON_DF, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return v | cmn_read(f, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static inline void queue_setup(struct fixture *f, unsigned q)
{
	struct tq *t = &f->q[q];

	t->desc = RING_GPA(q);
	t->avail = t->desc + 0x4000;
	t->used = t->desc + 0x8000;
	t->aidx = t->seen = 0;
	t->size = f->want_size[q] ? f->want_size[q] : QSIZE;
	memset(ptr(f, t->desc, 0x10000), 0, 0x10000);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, t->size, 2);
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
static inline void bring_up(struct fixture *f, uint64_t features, unsigned nq)
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

static inline bool needs_reset(struct fixture *f)
{
	return cmn_read(f, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* RX buffer @i of queue @q: one writable descriptor of @len at its own address. */
static inline uint64_t rx_buf_gpa(unsigned q, unsigned i)
{
	return BUF_GPA + (uint64_t)q * QSIZE * BUF_LEN * 4 + (uint64_t)i * BUF_LEN;
}

static inline void post_rx(struct fixture *f, unsigned q, unsigned i, uint32_t len)
{
	memset(ptr(f, rx_buf_gpa(q, i), len), 0xa5, len);
	desc(f, q, i, rx_buf_gpa(q, i), len, VIRTQ_DESC_F_WRITE, 0);
	publish(f, q, (uint16_t)i);
}

/* Buffers @first .. @first + n - 1 at once: one avail->idx update, one kick (as Linux does). */
static inline void post_rx_batch(struct fixture *f, unsigned q, unsigned first, unsigned n,
				 uint32_t len)
{
	struct tq *t = &f->q[q];

	for (unsigned i = first; i < first + n; i++) {
		memset(ptr(f, rx_buf_gpa(q, i), len), 0xa5, len);
		desc(f, q, i, rx_buf_gpa(q, i), len, VIRTQ_DESC_F_WRITE, 0);
		w16(f, t->avail + 4 + 2ull * (t->aidx++ % t->size), (uint16_t)i);
	}
	__atomic_store_n((uint16_t *)(void *)ptr(f, t->avail + 2, 2), t->aidx, __ATOMIC_RELEASE);
	kick(f, q);
}

/* ---- frames ------------------------------------------------------------------------ */

static inline void put_ip(uint8_t *p, const char *ip)
{
	assert_int_equal(inet_pton(AF_INET, ip, p), 1);
}

/* An ARP request for HOST_IP from the guest: header + 42 bytes at @gpa. */
static inline size_t arp_request(struct fixture *f, uint64_t gpa)
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
static inline void tx_arp(struct fixture *f, unsigned txq, unsigned i)
{
	uint64_t gpa = BUF_GPA - 0x10000 + 0x100 * i;

	arp_request(f, gpa);
	desc(f, txq, 2 * i, gpa, HDR, VIRTQ_DESC_F_NEXT, (uint16_t)(2 * i + 1));
	desc(f, txq, 2 * i + 1, gpa + HDR, 42, 0, 0);
	publish(f, txq, (uint16_t)(2 * i));
}

static inline bool is_arp_reply(const uint8_t *e)
{
	uint8_t ip[4];

	put_ip(ip, HOST_IP);
	return e[12] == 0x08 && e[13] == 0x06 && e[14 + 7] == 2 &&
	       !memcmp(e, guest_mac, 6) && !memcmp(e + 14 + 14, ip, 4);
}

static inline uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Wait for RX used element and check it is an ARP reply in buffer @id. */
static inline void expect_arp_reply(struct fixture *f, unsigned rxq, uint16_t num_buffers)
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
static inline void inject(size_t len, uint8_t fill)
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
static inline void inject_gso(size_t payload)
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

#endif
