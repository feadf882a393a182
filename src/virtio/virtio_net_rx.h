/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_NET_RX_H
#define HUSK_VIRTIO_NET_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * The pure parts of virtio-net RX with mergeable buffers (VIRTIO_NET_F_MRG_RXBUF):
 * which receive chains one tap read spans, and which of them a completed
 * read filled. No guest memory, no engine: unit-tested on synthetic input.
 */

/* One guest receive chain as the gather sees it. */
struct net_rx_buf {
	uint32_t len;			/* writable bytes */
	uint16_t niov;			/* writable segments */
};

/*
 * How many of @bufs[0 .. n) (in order) one read takes: chains are added
 * while the read holds fewer than @target bytes, at most @max_chains chains
 * and @max_iov segments in all. *full says whether the read is as big as it
 * may get (target reached, or a limit hit): when it is not, more chains
 * could still be added. Returns 0 only when n is 0 or the first chain alone
 * has more than @max_iov segments.
 */
unsigned net_rx_gather(const struct net_rx_buf *bufs, unsigned n, uint64_t target,
		       unsigned max_chains, unsigned max_iov, bool *full);

/*
 * A read over chains of @lens[0 .. n) completed with @bytes: the first k
 * chains hold them (each filled up to its length, the last one partly).
 * Writes each used chain's byte count to @used[0 .. k) and returns k (at
 * least 1 when n > 0; bytes beyond the chains' sum are not counted).
 */
unsigned net_rx_split(const uint32_t *lens, unsigned n, uint64_t bytes, uint32_t *used);

/* Write @len bytes of @buf at byte offset @off of an iovec array; 0 or -ERANGE. */
int net_iov_write(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

#endif
