/* SPDX-License-Identifier: MIT */
/*
 * What fuzz_bzimage.c and fuzz_elf.c share: boot_load() on a hostile kernel
 * file, in guest RAM of exactly the chosen size. The input:
 *   byte 0      memory: 8 MiB, 9 MiB + 4 KiB, 32 MiB or 3 GiB + 8 MiB (two regions)
 *   byte 1      CPUs (0-255: 0 and too many are errors to report)
 *   byte 2      virtio-mmio devices in the DSDT (0-8)
 *   byte 3      command line length (its bytes follow)
 *   bytes 4-5   initrd: none, or a file of (value - 1) * 4 KiB + 1 zero bytes
 *   the rest    the kernel file (fix() may stamp its magic first)
 */
#ifndef HUSK_FUZZ_BOOT_H
#define HUSK_FUZZ_BOOT_H

#include "boot/boot.h"
#include "memory/layout.h"
#include "fuzz_helpers.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

/* An error is one non-empty line; success leaves "". */
static inline void fuzz_boot_check_err(int ret, const char *err, size_t errlen)
{
	size_t n = strnlen(err, errlen);

	if (n == errlen || (ret == 0 && n) || (ret && (!n || strchr(err, '\n'))) || ret > 0)
		__builtin_trap();
}

static inline void fuzz_boot_run(const uint8_t *data, size_t size,
				 void (*fix)(uint8_t *kernel, size_t len))
{
	static const uint64_t mems[] = { MIB(8), MIB(9) + KIB(4), MIB(32), GIB(3) + MIB(8) };
	struct fuzz_in in = fuzz_in_init(data, size);
	uint64_t mem_size = fuzz_pick(&in, mems);
	unsigned ncpus = fuzz_u8(&in), nmmio = (unsigned)fuzz_range(&in, 0, 8);
	size_t cmdlen, klen;
	const uint8_t *cmd = fuzz_bytes(&in, fuzz_u8(&in), &cmdlen);
	uint16_t initrd_pages = fuzz_u16(&in);
	const uint8_t *kernel = fuzz_rest(&in, &klen);
	char *cmdline = fuzz_strndup(cmd, cmdlen);
	char kpath[64], ipath[64], err[256];
	uint8_t *kcopy = fuzz_dup(kernel, klen);
	struct boot_request req = {
		.kernel = kpath, .cmdline = cmdline, .ncpus = ncpus, .virtio_mmio = nmmio,
	};
	struct boot_entry entry;
	struct guest_mem mem;
	struct fuzz_ram ram;
	int kfd, ifd = -1, ret;

	if (fix)
		fix(kcopy, klen);
	kfd = fuzz_memfd(kcopy, klen, kpath, sizeof(kpath));
	if (initrd_pages) {
		ifd = fuzz_memfd(NULL, 0, ipath, sizeof(ipath));
		if (ftruncate(ifd, (off_t)(initrd_pages - 1) * 4096 + 1))
			fuzz_die("ftruncate initrd");
		req.initrd = ipath;
	}
	fuzz_guest_mem(&mem, &ram, mem_size);
	memset(err, 0x5a, sizeof(err));
	ret = boot_load(&mem, &req, &entry, err, sizeof(err));
	fuzz_boot_check_err(ret, err, sizeof(err));
	if (getenv("HUSK_FUZZ_LOG"))
		fprintf(stderr, "boot_load: %d %s\n", ret, err);
	if (ret == 0 && !gpa_to_hva(&mem, entry.gdt_base, entry.gdt_limit + 1ull))
		__builtin_trap();
	fuzz_ram_free(&ram);
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	free(kcopy);
	free(cmdline);
}

#endif
