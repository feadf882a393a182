/* SPDX-License-Identifier: MIT */
#ifndef HUSK_NET_TAP_H
#define HUSK_NET_TAP_H

#include <net/if.h>
#include <stddef.h>

#include "husk/husk.h"

/*
 * The host side of a virtio-net device: a TAP interface opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one fd per queue pair (IFF_MULTI_QUEUE
 * when there is more than one). Every frame read from or written to a queue
 * fd starts with a NET_VNET_HDR_LEN-byte virtio 1.x net header (struct
 * virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, num_buffers). On RX the kernel fills the first 10 bytes and
 * leaves num_buffers alone: the device writes it.
 */
#define NET_VNET_HDR_LEN	12

struct tap {
	char ifname[IFNAMSIZ];
	unsigned nqueues;
	int fds[HUSK_MAX_QUEUES];	/* one per queue pair; -1 past nqueues */
};

/*
 * Open @cfg's tap for @queues queue pairs (0 means @cfg->queues, itself 0
 * meaning 1). With @cfg->tap: create the interface if it does not exist,
 * attach to it if it does (TUNSETIFF), set the vnet header size, clear every
 * offload (tap_set_offload(t, 0): the guest has negotiated none yet), bring
 * the link up and set @cfg->mtu when non-zero. With @cfg->fd >= 0: take over
 * that already-open fd (one queue pair only), after checking with TUNGETIFF
 * that it is a tap with IFF_NO_PI and IFF_VNET_HDR; husk owns and closes it
 * from then on, even when tap_open fails.
 *
 * Returns 0, or -errno with one line in @err naming the flag
 * ("--net tap=foo: ..."); on failure nothing stays open (but see above).
 */
int tap_open(const struct husk_net_config *cfg, unsigned queues, struct tap *t,
	     char *err, size_t errlen);

/*
 * TUNSETOFFLOAD on every queue: @tun_flags is a mask of TUN_F_CSUM,
 * TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO (linux/if_tun.h): what the
 * guest said it can receive (VIRTIO_NET_F_GUEST_*). Returns 0 or -errno.
 */
int tap_set_offload(struct tap *t, unsigned tun_flags);

/* Close every queue fd (a tap husk created is not persistent: it goes too). */
void tap_close(struct tap *t);

/*
 * Tell the network where @mac is now (after a migration): a RARP
 * broadcast from it on the first queue, as QEMU's announce does, so
 * switches learn the new port. 0 or -errno.
 */
int tap_announce(const struct tap *t, const uint8_t mac[6]);

#endif
