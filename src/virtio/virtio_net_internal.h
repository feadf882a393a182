/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_NET_INTERNAL_H
#define HUSK_VIRTIO_NET_INTERNAL_H

/* Shared by virtio_net.c (setup), virtio_net_queue.c (data path), virtio_net_ctrl.c. */
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/virtio_net.h>

#include "core/ratelimit.h"
#include "net/net_engine.h"
#include "virtio/virtio_dev.h"

/* stats: the pair's thread is the only writer, virtio_net_stats() reads from any thread. */
#define NET_STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define NET_STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#include "virtio/virtio_net.h"
#include "virtio/virtio_net_rx.h"
#include "virtio/worker.h"

#define NET_QUEUE_MAX		256
#define NET_CHAIN_SEGS		1024	/* chain storage; longer chains break the queue */
#define NET_REAP_BATCH		64
/*
 * Reads posted on the tap at once. Each waits on the tap's poll queue, and a
 * frame's arrival wakes every one of them (io_uring's poll is not
 * exclusive): with 256 posted, one frame cost 256 wakeups and retries. The
 * tap queues what comes meanwhile; a read posted while frames wait completes
 * inside the submit.
 */
#define NET_RX_POSTED		16
#define NET_RUN_PASSES		16	/* net_pair_run rounds before it yields */
#define NET_MAX_GSO_FRAME	65562u	/* header + 64 KiB GSO frame + Ethernet, VLAN */
#define NET_CFG_LEN		12	/* mac, status, max_virtqueue_pairs, mtu */
#define NET_PARTIAL_WAIT_NS	2000000	/* 2 ms for more RX buffers before a short read */

/* One popped receive chain waiting for, or in, a read. */
struct net_rx_chain {
	uint16_t head;
	uint16_t niov;
	uint32_t len;
	struct iovec iov[NET_ENGINE_MAX_IOV];
};

/* One posted read: the chains it spans, in order. */
struct net_rx_read {
	unsigned n;
	uint16_t chain[NET_ENGINE_MAX_IOV];
};

struct net_pair {
	struct virtio_net *net;
	unsigned index;
	bool started;
	bool detached;			/* its tap queue is detached (TUNSETQUEUE) */
	struct worker worker;
	struct net_engine *engine;
	struct vq_seg segs[NET_CHAIN_SEGS];
	struct vq_chain chain;
	/* RX: chain slots, read slots, and the popped chains not in a read */
	struct net_rx_chain *rxc;
	uint16_t *rxc_free;
	unsigned rxc_nfree;
	struct net_rx_read *reads;
	uint16_t *read_free;
	unsigned read_nfree;
	uint16_t *pend;			/* chain slots, gather order */
	unsigned npend;
	int timer_fd;			/* a read that could grow waits this long */
	bool timer_armed, partial_ok;
	int rate_fd;			/* the rate limits' wait (timerfd) */
	bool rate_armed;
	struct net_tx_held {		/* a TX frame popped, waiting for the rate limit */
		bool held;
		uint16_t head;
		unsigned n;
		uint32_t len;
		struct iovec iov[NET_ENGINE_MAX_IOV];
	} txh;
	struct virtio_net_stats stats;	/* written by this pair's thread only */
};

struct virtio_net {
	struct virtio_dev vd;
	struct virtio_transport *tr;
	struct tap tap;
	char name[32];
	unsigned npairs;
	unsigned mtu;
	bool offer_mtu;
	uint8_t mac[6];
	uint8_t cfg[NET_CFG_LEN];
	atomic_uint active_pairs;
	bool paused;			/* VM pause .. resume (API thread) */
	unsigned tun_offload;
	unsigned ctrl_q;		/* index of the control queue (set at start) */
	struct net_pair pair[HUSK_MAX_QUEUES];
	struct net_hold *hold;		/* replication's output commit (virtio_net_hold.c) */
	struct rate_limiter rx_rl, tx_rl;	/* rx_rate_limiter, tx_rate_limiter */
};

static inline unsigned net_rxq(unsigned pair) { return 2 * pair; }
static inline unsigned net_txq(unsigned pair) { return 2 * pair + 1; }

/* virtio_net_queue.c: everything a pair's thread does */
void net_pair_run(struct net_pair *p);
/* The partial-read timer fired (on the pair's thread). */
void net_pair_timer(struct net_pair *p);
void net_pair_rate_timer(struct net_pair *p);
void virtio_net_init_rates(struct virtio_net *net, const struct husk_net_config *cfg);
void net_pair_drain(struct net_pair *p);
/*
 * The heads of the RX chains the pair holds unused (after net_pair_quiesce),
 * in their order; @heads has room for NET_QUEUE_MAX. Returns how many.
 */
unsigned net_pair_pending_heads(const struct net_pair *p, uint16_t *heads);
/*
 * A restore: hold the chain at @head again, unused (the device is applied,
 * not started). -EINVAL when it is not a receive buffer or no slot is left.
 */
int net_pair_restore_pending(struct net_pair *p, uint16_t head);
/* VM pause, the pair's thread parked: finish all I/O; unused RX chains stay held. */
void net_pair_quiesce(struct net_pair *p);
void net_pair_reset_slots(struct net_pair *p);
/* Attach or detach the pair's tap queue (multi-queue taps); not on a running pair's behalf. */
void net_pair_set_attached(struct net_pair *p, bool attach);

/*
 * virtio_net_hold.c: while replication holds the NIC's output, a frame the
 * guest sends is copied here (true) instead of going to the tap; the
 * caller completes the chain. false: not holding, send it.
 */
bool net_hold_frame(struct virtio_net *net, const struct iovec *iov, unsigned n);
/* virtio_net_destroy(): the hold and any frame left in it. */
void net_hold_free(struct virtio_net *net);

/* virtio_net_ctrl.c: the control queue (pair 0's thread) */
void net_ctrl_run(struct virtio_net *net);
/* VQ_PAIRS_SET: the driver uses @n pairs (1 .. npairs). */
void net_set_pairs(struct virtio_net *net, unsigned n);

#endif
