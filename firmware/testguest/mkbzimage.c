// SPDX-License-Identifier: MIT
/*
 * mkbzimage: host tool that turns the test guest into a bzImage.
 *
 *   mkbzimage SETUP.elf KERNEL.elf OUT.bzImage
 *
 * The setup sectors are the flattened PT_LOAD segments of SETUP.elf (linked
 * at 0); the protected-mode payload is KERNEL.elf flattened from its lowest
 * load address (0x100000). setup_sects, syssize and init_size are patched
 * into the header.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR		512
#define SETUP_MAX	0x1000	/* setup.S puts boot_params at +0x1000 */
#define MIN_SETUP_SECTS	4
#define OFF_SETUP_SECTS	0x1f1
#define OFF_SYSSIZE	0x1f4
#define OFF_HDRS	0x202
#define OFF_INIT_SIZE	0x260

struct flat {
	uint8_t *data;
	uint64_t base;		/* lowest p_paddr */
	uint64_t file_len;	/* bytes with file contents */
	uint64_t mem_len;	/* bytes including bss */
};

static void __attribute__((noreturn)) die(const char *what, const char *path)
{
	fprintf(stderr, "mkbzimage: %s: %s\n", path, what);
	exit(1);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		die("cannot open", path);
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("cannot size", path);
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		die("cannot read", path);
	fclose(f);
	*len = n;
	return buf;
}

static const Elf64_Phdr *phdr_at(const uint8_t *img, size_t len, int i,
				 const char *path)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	size_t off = eh->e_phoff + (size_t)i * eh->e_phentsize;

	if (off + sizeof(Elf64_Phdr) > len)
		die("truncated program headers", path);
	return (const Elf64_Phdr *)(img + off);
}

/* Flatten the PT_LOAD segments of an ELF64 file into one buffer. */
static void flatten(const char *path, struct flat *out)
{
	size_t len;
	uint8_t *img = read_file(path, &len);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	uint64_t lo = UINT64_MAX, file_hi = 0, mem_hi = 0;
	int i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		die("not an ELF64 file", path);
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = phdr_at(img, len, i, path);

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset + ph->p_filesz > len)
			die("segment past end of file", path);
		if (ph->p_paddr < lo)
			lo = ph->p_paddr;
		if (ph->p_paddr + ph->p_filesz > file_hi)
			file_hi = ph->p_paddr + ph->p_filesz;
		if (ph->p_paddr + ph->p_memsz > mem_hi)
			mem_hi = ph->p_paddr + ph->p_memsz;
	}
	if (lo == UINT64_MAX)
		die("no PT_LOAD segment", path);
	out->base = lo;
	out->file_len = file_hi - lo;
	out->mem_len = mem_hi - lo;
	out->data = calloc(1, out->file_len + SETUP_MAX);
	if (!out->data)
		die("out of memory", path);
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = phdr_at(img, len, i, path);

		if (ph->p_type == PT_LOAD)
			memcpy(out->data + (ph->p_paddr - lo),
			       img + ph->p_offset, ph->p_filesz);
	}
	free(img);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

int main(int argc, char **argv)
{
	struct flat setup, kernel;
	unsigned sects;
	size_t setup_len, payload_len;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: mkbzimage SETUP.elf KERNEL.elf OUT\n");
		return 2;
	}
	flatten(argv[1], &setup);
	flatten(argv[2], &kernel);
	if (setup.base != 0 || setup.file_len < OFF_INIT_SIZE + 4 ||
	    memcmp(setup.data + OFF_HDRS, "HdrS", 4))
		die("no setup header", argv[1]);
	sects = (setup.file_len + SECTOR - 1) / SECTOR - 1;
	if (sects < MIN_SETUP_SECTS)
		sects = MIN_SETUP_SECTS;
	setup_len = (size_t)(sects + 1) * SECTOR;
	if (setup_len > SETUP_MAX)
		die("setup code too large", argv[1]);

	/* syssize counts 16-byte paragraphs: pad the payload to match */
	payload_len = (kernel.file_len + 15) & ~(size_t)15;
	setup.data[OFF_SETUP_SECTS] = sects;
	put32(setup.data + OFF_SYSSIZE, payload_len / 16);
	put32(setup.data + OFF_INIT_SIZE, (kernel.mem_len + 4095) & ~4095ULL);

	f = fopen(argv[3], "wb");
	if (!f)
		die("cannot create", argv[3]);
	if (fwrite(setup.data, 1, setup_len, f) != setup_len ||
	    fwrite(kernel.data, 1, payload_len, f) != payload_len ||
	    fclose(f))
		die("write failed", argv[3]);
	return 0;
}
