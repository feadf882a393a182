/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_NET_H
#define HUSK_VIRTIO_NET_H

#include <stdint.h>

#include "net/tap.h"
#include "virtio/virtio_transport.h"

/*
 * virtio-net (virtio 1.2, 5.1) on a TAP: one I/O thread and one net engine
 * (io_uring, or the sync engine) per queue pair, a control queue served on
 * pair 0's thread. See virtio_net.c for the features and docs/net-device.md.
 */
struct virtio_net;
struct virtio_transport;

/* Per-device counters (read without locks; each pair's thread adds its own). */
struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes;		/* frames handed to the guest (header excluded) */
	uint64_t tx_packets, tx_bytes;		/* frames written to the tap (header excluded) */
	uint64_t rx_errors;			/* bad RX chains, failed reads */
	uint64_t tx_errors;			/* bad TX chains, failed writes */
	uint64_t rx_short;			/* RX chains smaller than a full frame (may be cut) */
	uint64_t tx_dropped;			/* TX frames no longer than the header */
	uint64_t ctrl_commands, ctrl_errors;	/* control queue: all, answered ERR */
	uint64_t engine_submits, engine_sqes, engine_completions;
	uint64_t interrupts;
	uint64_t rx_throttled, tx_throttled;	/* waits for the rate limits */
};

/*
 * Create the device for @cfg on the already opened @tap (ownership passes
 * to the device, also on error). @seed names the VM for the default MAC
 * (net_default_mac(seed, index) when cfg->mac_set is false).
 */
int virtio_net_create(const struct virtio_env *env, const struct husk_net_config *cfg,
		      struct tap *tap, const char *seed, unsigned index,
		      struct virtio_net **out, char *err, size_t errlen);
void virtio_net_destroy(struct virtio_net *net);
struct virtio_dev *virtio_net_dev(struct virtio_net *net);
/* Its transport (snapshots save the transport's state apart). */
struct virtio_transport *virtio_net_transport(struct virtio_net *net);
unsigned virtio_net_pairs(const struct virtio_net *net);
/* The pairs the driver asked for with VQ_PAIRS_SET (1 until it does). */
unsigned virtio_net_active_pairs(const struct virtio_net *net);
void virtio_net_mac(const struct virtio_net *net, uint8_t mac[6]);
/*
 * Replication's output commit (virtio_net_hold.c): from hold_start on,
 * the frames the guest sends are held, tagged with the epoch last set
 * (hold_epoch, at a checkpoint, with the VM paused); hold_release writes
 * those of epochs <= @upto to the tap; hold_stop writes the rest, stops
 * holding and returns how many frames were dropped over NET_HOLD_MAX.
 * Called by one thread (replication's).
 */
int virtio_net_hold_start(struct virtio_net *net, uint64_t epoch);
void virtio_net_hold_epoch(struct virtio_net *net, uint64_t epoch);
void virtio_net_hold_release(struct virtio_net *net, uint64_t upto);
uint64_t virtio_net_hold_stop(struct virtio_net *net);
/* A RARP from the NIC's MAC on its tap (net/tap.h tap_announce): after a migration. */
void virtio_net_announce(struct virtio_net *net);
/* TUN_F_* flags last set on the tap (what the guest negotiated). */
unsigned virtio_net_tap_offload(const struct virtio_net *net);
const char *virtio_net_engine_name(const struct virtio_net *net);
void virtio_net_stats(const struct virtio_net *net, struct virtio_net_stats *out);
/*
 * VM pause: park the pair threads and quiesce the pairs (reads cancelled,
 * writes finished, held RX chains given back to the avail ring) / release
 * them.
 */
void virtio_net_pause(struct virtio_net *net);
void virtio_net_resume(struct virtio_net *net);

/* Saved state (core/statebuf.h): see virtio_net.c. Save: -EBUSY unless paused. */
#define VIRTIO_NET_STATE_VERSION	2	/* 2: the receive buffers each pair held */
struct state_writer;
struct state_reader;
int virtio_net_save(struct virtio_net *net, struct state_writer *w);
int virtio_net_load(struct virtio_net *net, struct state_reader *r);

/* PATCH /network-interfaces/{id}: new limits, at once (the buckets start full). */
void virtio_net_set_rate_limits(struct virtio_net *net, const struct husk_rate_limit *rx,
				const struct husk_rate_limit *tx);

#endif
