// SPDX-License-Identifier: MIT
/*
 * Host tool: write the test guest's final virtio-blk pattern (blk.h) for
 * the first SIZE bytes to stdout, so a host can compare a disk image with
 * it: tg-blkpattern 4194304 | cmp - disk.img  (cmp -n SIZE for larger images).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK_PATTERN	0x7467626c6b303031ULL	/* keep in step with blk.h */

int main(int argc, char **argv)
{
	unsigned char buf[65536];
	unsigned long long size, off = 0;
	char *end;

	if (argc != 2) {
		fprintf(stderr, "usage: tg-blkpattern SIZE\n");
		return 1;
	}
	errno = 0;
	size = strtoull(argv[1], &end, 0);
	if (argv[1][0] < '0' || argv[1][0] > '9' || errno || *end || size % 8) {
		fprintf(stderr, "tg-blkpattern: %s: not a size in bytes (a multiple of 8)\n", argv[1]);
		return 1;
	}
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf), i;

		for (i = 0; i < n; i += 8) {
			uint64_t v = (off + i) ^ BLK_PATTERN;
			int b;

			for (b = 0; b < 8; b++)
				buf[i + b] = v >> (8 * b);
		}
		if (fwrite(buf, 1, n, stdout) != n) {
			fprintf(stderr, "tg-blkpattern: write: %s\n", strerror(errno));
			return 1;
		}
		off += n;
	}
	return fflush(stdout) ? 1 : 0;
}
