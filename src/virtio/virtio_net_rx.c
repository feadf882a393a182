// SPDX-License-Identifier: MIT
/* Mergeable-buffer RX: the gather and split rules (see virtio_net_rx.h). */
#include "virtio/virtio_net_rx.h"

#include <errno.h>
#include <string.h>

unsigned net_rx_gather(const struct net_rx_buf *bufs, unsigned n, uint64_t target,
		       unsigned max_chains, unsigned max_iov, bool *full)
{
	uint64_t sum = 0;
	unsigned k = 0, iov = 0;

	while (k < n && k < max_chains && sum < target && iov + bufs[k].niov <= max_iov) {
		sum += bufs[k].len;
		iov += bufs[k].niov;
		k++;
	}
	*full = sum >= target || k == max_chains || k < n || iov == max_iov;
	return k;
}

unsigned net_rx_split(const uint32_t *lens, unsigned n, uint64_t bytes, uint32_t *used)
{
	unsigned k = 0;

	if (n == 0)
		return 0;
	do {
		uint32_t take = bytes < lens[k] ? (uint32_t)bytes : lens[k];

		used[k++] = take;
		bytes -= take;
	} while (bytes && k < n);
	return k;
}

int net_iov_write(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	const uint8_t *src = buf;

	for (unsigned i = 0; i < n && len; i++) {
		size_t seg = iov[i].iov_len, chunk;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		chunk = seg - off < len ? seg - off : len;
		memcpy((uint8_t *)iov[i].iov_base + off, src, chunk);
		src += chunk;
		len -= chunk;
		off = 0;
	}
	return len ? -ERANGE : 0;
}
