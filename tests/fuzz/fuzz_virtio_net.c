// SPDX-License-Identifier: MIT
/*
 * The pure parts of virtio-net RX with mergeable buffers
 * (virtio/virtio_net_rx.c): which receive chains a tap read spans
 * (net_rx_gather), how a completed read splits over them (net_rx_split),
 * and the header write into the iovecs (net_iov_write), on exactly sized
 * arrays. The input:
 *   byte 0  chains n (b % 65); then n (len u32, niov u8) pairs
 *   then    target u32, max_chains u8, max_iov u8, bytes u32, header
 *           offset u16 and length u8 (a virtio_net_hdr_v1 is 12 bytes)
 * Checked: gather takes no more than its limits allow and stops only for
 * a reason *full names; split hands out exactly min(bytes, sum) bytes,
 * each chain at most its length; iov_write is all or nothing.
 */
#include "fuzz_helpers.h"
#include "virtio/virtio_net_rx.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in_init(data, size);
	unsigned n = fuzz_u8(&in) % 65, k, max_chains, max_iov;
	struct net_rx_buf *bufs = malloc((n ? n : 1) * sizeof(*bufs));
	uint32_t *lens = malloc((n ? n : 1) * sizeof(*lens));
	uint32_t *used = malloc((n ? n : 1) * sizeof(*used));
	uint64_t target, bytes, sum = 0, took = 0, total = 0;
	struct iovec iov[8];
	uint8_t *mem[8], hdr[64];
	size_t off, hlen, cap = 0;
	unsigned niov;
	bool full;

	if (!bufs || !lens || !used)
		fuzz_die("malloc");
	for (unsigned i = 0; i < n; i++) {
		bufs[i].len = fuzz_bool(&in) ? fuzz_u32(&in) : fuzz_u16(&in);
		bufs[i].niov = fuzz_u8(&in) % 70;
		lens[i] = bufs[i].len;
	}
	target = fuzz_u32(&in);
	max_chains = fuzz_u8(&in);
	max_iov = fuzz_u8(&in);
	k = net_rx_gather(bufs, n, target, max_chains, max_iov, &full);
	if (k > n || k > max_chains)
		__builtin_trap();
	niov = 0;
	for (unsigned i = 0; i < k; i++) {
		sum += bufs[i].len;
		niov += bufs[i].niov;
	}
	if (niov > max_iov || (!full && (sum >= target || k < n || k == max_chains)))
		__builtin_trap();
	bytes = fuzz_u32(&in);
	k = net_rx_split(lens, n, bytes, used);
	if (k > n || (n && !k))
		__builtin_trap();
	for (unsigned i = 0; i < n; i++)
		total += lens[i];
	for (unsigned i = 0; i < k; i++) {
		if (used[i] > lens[i])
			__builtin_trap();
		took += used[i];
	}
	if (took != (bytes < total ? bytes : total))
		__builtin_trap();
	/* the header into up to 8 exactly sized buffers */
	niov = 1 + fuzz_u8(&in) % 8;
	for (unsigned i = 0; i < niov; i++) {
		size_t l = fuzz_u8(&in) % 20;

		mem[i] = malloc(l ? l : 1);
		if (!mem[i])
			fuzz_die("malloc");
		iov[i] = (struct iovec){ .iov_base = mem[i], .iov_len = l };
		cap += l;
	}
	off = fuzz_u16(&in) % 200;
	hlen = fuzz_u8(&in) % sizeof(hdr);
	memset(hdr, 0x3c, sizeof(hdr));
	if ((net_iov_write(iov, niov, off, hdr, hlen) == 0) != (off + hlen <= cap || hlen == 0))
		__builtin_trap();
	for (unsigned i = 0; i < niov; i++)
		free(mem[i]);
	free(used);
	free(lens);
	free(bufs);
	return 0;
}
