// SPDX-License-Identifier: MIT
/*
 * boot_load() on hostile bzImages (boot/bzimage.c, zeropage.c): the kernel
 * gets the boot sector signature and "HdrS" stamped in, so the fuzzer
 * spends its time on the setup header's fields. Input: fuzz_boot.h.
 */
#include "fuzz_boot.h"

static void stamp_bzimage(uint8_t *k, size_t len)
{
	if (len >= 0x1fe + 2) {
		k[0x1fe] = 0x55;
		k[0x1ff] = 0xaa;
	}
	if (len >= 0x202 + 4)
		memcpy(k + 0x202, "HdrS", 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_boot_run(data, size, stamp_bzimage);
	return 0;
}
