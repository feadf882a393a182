/* SPDX-License-Identifier: MIT */
#ifndef TESTGUEST_NET_H
#define TESTGUEST_NET_H

/*
 * The test guest's virtio-net driver (net_drv.c), the frames it speaks
 * (net_proto.c: Ethernet, ARP, IPv4, ICMP echo, UDP) and the checks built on
 * them (net_check.c: virtio-net, virtio-net-mq; net_bench.c: net-bench).
 * Every RX buffer is one device-writable descriptor (12-byte header and
 * frame together); every TX frame is one readable descriptor.
 */
#include "virtio.h"


#define NET_F_CSUM		0
#define NET_F_GUEST_CSUM	1
#define NET_F_MTU		3
#define NET_F_MAC		5
#define NET_F_MRG_RXBUF		15
#define NET_F_STATUS		16
#define NET_F_CTRL_VQ		17
#define NET_F_MQ		22

#define NET_S_LINK_UP		1

#define VNET_F_NEEDS_CSUM	1
#define VNET_F_DATA_VALID	2

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
#define NET_HDR_LEN		12

#define NET_MAX_PAIRS		3	/* 2 * 3 + ctrl fits VQ_MAX */
#define NET_BUF			2048	/* bytes per RX/TX slot */
#define NET_FRAME_MAX		1514	/* no GSO: Ethernet header + 1500 */
#define NET_RX_MIN_UNMERGED	(NET_HDR_LEN + NET_FRAME_MAX)

struct net_q {
	struct virtq vq;
	uint8_t *bufs;			/* vq.size slots of NET_BUF */
	uint64_t pkts, bytes;
};

struct net_stats {
	uint64_t rx_merged;		/* frames in more than one buffer */
	uint64_t rx_partial;		/* NEEDS_CSUM: checksum completed here */
	uint64_t rx_valid;		/* DATA_VALID: device vouched */
	uint64_t rx_verified;		/* checksums verified here */
	uint64_t rx_ignored;		/* not for us (IPv6, other hosts) */
	uint64_t tx_offload;		/* sent with NEEDS_CSUM */
	uint64_t arp_answered;
};

struct net {
	struct virtio_dev dev;
	uint64_t feat;
	uint8_t mac[6], host_mac[6];
	uint16_t status, max_pairs, mtu;
	int pairs;			/* queue pairs in use */
	int irq;			/* MSI-X / IOAPIC mode, else polling */
	uint32_t rxbuf;			/* bytes posted per RX buffer */
	uint32_t ip, host_ip;		/* host byte order */
	struct net_q rx[NET_MAX_PAIRS], tx[NET_MAX_PAIRS];
	struct virtq ctrl;
	uint8_t *ctrl_buf;
	uint8_t frame[NET_BUF];		/* the last frame received */
	uint32_t frame_len;
	struct vnet_hdr hdr;		/* its header */
	int frame_q;			/* the RX queue it came on */
	struct net_stats st;
};

static inline int net_has(const struct net *n, int bit)
{
	return !!(n->feat & (1ULL << bit));
}

/* ---- net_drv.c */
/* @pairs: queue pairs wanted (1: no MQ / CTRL_VQ); @irq: interrupts */
int net_open(struct net *n, int pairs, int irq, int event_idx, char *why);
void net_close(struct net *n);
/* one frame: 1 (in n->frame), 0 when none in @timeout_us, -1 device error */
int net_recv(struct net *n, uint64_t timeout_us, char *why);
/* queue a frame on TX queue @q; @csum_start > 0: NEEDS_CSUM at that offset */
int net_send(struct net *n, int q, const uint8_t *frame, uint32_t len,
	     uint16_t csum_start, uint16_t csum_offset, char *why);
/* a TX slot of queue @q to build a frame in place (after the header) */
uint8_t *net_tx_slot(struct net *n, int q, char *why);
int net_tx_commit(struct net *n, int q, uint32_t len, uint16_t csum_start,
		  uint16_t csum_offset, int kick, char *why);
void net_tx_kick(struct net *n, int q);
void net_tx_reclaim(struct net *n, int q);
uint64_t net_irqs(const struct net *n);

/* ---- net_proto.c */
#define ETH_HLEN		14
#define IP_HLEN			20
#define UDP_HLEN		8
#define UDP_OFF			(ETH_HLEN + IP_HLEN)
#define UDP_DATA		(UDP_OFF + UDP_HLEN)
#define UDP_MAX_DATA		(NET_FRAME_MAX - UDP_DATA)

enum net_kind {
	PKT_OTHER, PKT_ARP_REPLY, PKT_ICMP_REPLY, PKT_UDP,
};

struct net_pkt {
	enum net_kind kind;
	uint16_t sport, dport;		/* UDP */
	uint16_t icmp_id, icmp_seq;	/* ICMP echo reply */
	const uint8_t *data;		/* UDP / ICMP payload */
	uint32_t len;
};

int net_parse_ip(const char *s, uint32_t *ip);
void net_fmt_ip(char *buf, size_t len, uint32_t ip);
int net_send_arp_request(struct net *n, char *why);
int net_send_ping(struct net *n, uint16_t id, uint16_t seq, uint32_t len, char *why);
/* build a UDP datagram to the host in place; returns the frame length */
uint32_t net_build_udp(struct net *n, uint8_t *f, uint16_t sport, uint16_t dport,
		       const uint8_t *data, uint32_t len, int offload);
int net_send_udp(struct net *n, int q, uint16_t sport, uint16_t dport,
		 const uint8_t *data, uint32_t len, char *why);
/* classify n->frame (answering ARP requests for us); -1: bad checksum */
int net_classify(struct net *n, struct net_pkt *p, char *why);
/* receive until a frame of @kind (others are classified and dropped) */
int net_wait_kind(struct net *n, enum net_kind kind, struct net_pkt *p,
		  uint64_t timeout_us, char *why);
int net_resolve_host(struct net *n, char *why);
int net_addrs(struct net *n, uint16_t *port, char *why);

/* ---- checks */
int check_virtio_net(char *why);
int check_virtio_net_mq(char *why);
int check_net_bench(char *why);

#endif
