// SPDX-License-Identifier: MIT
/* boot_load() with synthetic bzImages: valid ones and hostile ones. */
#include <errno.h>
#include <asm/bootparam.h>

#include "test_boot_helpers.h"

#define HDRS_MAGIC	0x53726448
#define HDR_END_FULL	(0x1f1 + sizeof(struct setup_header))	/* 0x26c */

struct bz_spec {
	uint8_t setup_sects;		/* as written in the header (0 = 4) */
	uint16_t boot_flag;
	uint32_t magic;
	uint16_t version;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint32_t code32_start;
	uint32_t handover_offset;
	size_t hdr_end;			/* 0x202 + the jump byte */
	size_t payload;			/* protected-mode kernel bytes, multiple of 16 */
	uint32_t syssize_extra;		/* paragraphs claimed beyond the payload */
	size_t file_cut;		/* bytes dropped from the end of the file */
};

static struct bz_spec bz_default(void)
{
	return (struct bz_spec){
		.setup_sects = 4, .boot_flag = 0xaa55, .magic = HDRS_MAGIC, .version = 0x020f,
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, .relocatable = 1,
		.kernel_alignment = 0x200000, .pref_address = 0x1000000,
		.init_size = 0x400000, .cmdline_size = 2047, .initrd_addr_max = 0x37ffffff,
		.code32_start = 0x100000, .hdr_end = HDR_END_FULL, .payload = 0x10000,
	};
}

static size_t bz_setup_len(const struct bz_spec *s)
{
	return ((size_t)(s->setup_sects ? s->setup_sects : 4) + 1) * 512;
}

/* The image: setup sectors with the header, then the payload pattern. */
static uint8_t *bz_build(const struct bz_spec *s, size_t *len)
{
	size_t setup = bz_setup_len(s);
	uint8_t *img = calloc(1, setup + s->payload);
	struct setup_header h = {0};

	assert_non_null(img);
	memset(img, 0x11, setup);
	tb_pattern(img + setup, s->payload, 3);
	h.setup_sects = s->setup_sects;
	h.syssize = (uint32_t)(s->payload / 16) + s->syssize_extra;
	h.boot_flag = s->boot_flag;
	h.jump = (uint16_t)(0xeb | (s->hdr_end - 0x202) << 8);
	h.header = s->magic;
	h.version = s->version;
	h.loadflags = LOADED_HIGH;
	h.code32_start = s->code32_start;
	h.heap_end_ptr = 0x1234;
	h.initrd_addr_max = s->initrd_addr_max;
	h.kernel_alignment = s->kernel_alignment;
	h.relocatable_kernel = s->relocatable;
	h.xloadflags = s->xloadflags;
	h.cmdline_size = s->cmdline_size;
	h.pref_address = s->pref_address;
	h.init_size = s->init_size;
	h.handover_offset = s->handover_offset;
	memcpy(img + 0x1f1, &h, sizeof(h));
	*len = setup + s->payload - s->file_cut;
	return img;
}

static const char *bz_file(struct tb *t, const struct bz_spec *s)
{
	size_t len;
	uint8_t *img = bz_build(s, &len);
	const char *path = tb_file(t, img, len);

	free(img);
	return path;
}

static struct boot_params *zero_page(struct tb *t)
{
	return tb_gpa(t, LAYOUT_ZERO_PAGE, sizeof(struct boot_params));
}

static void assert_payload_at(struct tb *t, const struct bz_spec *s, uint64_t gpa)
{
	uint8_t *want = malloc(s->payload);

	assert_non_null(want);
	tb_pattern(want, s->payload, 3);
	assert_memory_equal(tb_gpa(t, gpa, s->payload), want, s->payload);
	free(want);
}

/* ---- valid images ------------------------------------------------------ */

static void test_valid_entry_and_cpu_state(void **state)
{
	struct tb *t = tb_new(MIB(256));
	struct bz_spec s = bz_default();
	const char *k = bz_file(t, &s);
	uint64_t *pml4, *pdpt, *pd;

	(void)state;
	assert_int_equal(tb_boot(t, k, NULL, "console=ttyS0 quiet", 2), 0);
	assert_int_equal(t->entry.mode, BOOT_ENTRY_LINUX64);
	/* relocatable: loaded at align_up(pref_address, kernel_alignment) */
	assert_int_equal(t->entry.rip, 0x1000000 + 0x200);
	assert_int_equal(t->entry.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(t->entry.cr3, LAYOUT_PML4);
	assert_payload_at(t, &s, 0x1000000);
	tb_assert_gdt(t, BOOT_ENTRY_LINUX64);
	pml4 = tb_gpa(t, LAYOUT_PML4, 4096);
	pdpt = tb_gpa(t, LAYOUT_PDPT, 4096);
	pd = tb_gpa(t, LAYOUT_PD, 4 * 4096);
	assert_int_equal(pml4[0], LAYOUT_PDPT | 3);
	assert_int_equal(pml4[1], 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (LAYOUT_PD + i * 4096) | 3);
	assert_int_equal(pdpt[4], 0);
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[1], MIB(2) | 0x83);
	assert_int_equal(pd[2047], (2047ULL << 21) | 0x83);
	assert_string_equal(tb_gpa(t, LAYOUT_CMDLINE, 20), "console=ttyS0 quiet");
	tb_free(t);
}

static void test_valid_zero_page(void **state)
{
	struct tb *t = tb_new(MIB(256));
	struct bz_spec s = bz_default();
	struct boot_params *bp;

	(void)state;
	s.handover_offset = 0x190;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "root=/dev/vda", 1), 0);
	bp = zero_page(t);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, HDRS_MAGIC);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.syssize, s.payload / 16);
	assert_int_equal(bp->hdr.init_size, s.init_size);
	assert_int_equal(bp->hdr.handover_offset, 0x190);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags & (LOADED_HIGH | CAN_USE_HEAP),
			 LOADED_HIGH | CAN_USE_HEAP);
	assert_int_equal(bp->hdr.heap_end_ptr, 0xfe00);
	assert_int_equal(bp->hdr.code32_start, 0x1000000);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->sentinel, 0);
	assert_int_equal(bp->e820_entries, 4);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].size, 0x9fc00);
	assert_int_equal(bp->e820_table[0].type, E820_RAM);
	assert_int_equal(bp->e820_table[1].addr, 0x9fc00);
	assert_int_equal(bp->e820_table[1].type, E820_RESERVED);
	assert_int_equal(bp->e820_table[2].addr, 0xf0000);
	assert_int_equal(bp->e820_table[2].size, 0x10000);
	assert_int_equal(bp->e820_table[3].addr, 0x100000);
	assert_int_equal(bp->e820_table[3].size, MIB(256) - MIB(1));
	assert_int_equal(bp->e820_table[3].type, E820_RAM);
	/* the MP table and the ACPI tables are part of a load */
	assert_memory_equal(tb_gpa(t, LAYOUT_BIOS_START, 4), "_MP_", 4);
	assert_int_equal(bp->acpi_rsdp_addr, LAYOUT_ACPI_RSDP);
	assert_memory_equal(tb_gpa(t, bp->acpi_rsdp_addr, 8), "RSD PTR ", 8);
	tb_free(t);
}

/* Only the bytes the image says are header (0x202 + jump byte) are copied. */
static void test_header_copy_length(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();

	(void)state;
	s.handover_offset = 0x12345678;
	s.hdr_end = 0x264;		/* ends after init_size: a 2.12-era header */
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
	assert_int_equal(zero_page(t)->hdr.init_size, s.init_size);
	assert_int_equal(zero_page(t)->hdr.handover_offset, 0);
	assert_int_equal(zero_page(t)->hdr.kernel_info_offset, 0);
	tb_free(t);
}

static void test_load_address_policy(void **state)
{
	static const struct {
		uint64_t pref;
		uint32_t align;
		uint64_t load;
	} cases[] = {
		{ 0x1000000, 0x200000, 0x1000000 },
		{ 0x1100000, 0x200000, 0x1200000 },	/* pref rounded up to the alignment */
		{ 0, 0x200000, 0x200000 },		/* no pref: lowest aligned >= 1 MiB */
		{ 0x80000, 0x1000, 0x100000 },		/* below 1 MiB: raised to 1 MiB */
		{ 0x3000000, 0x1000000, 0x3000000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tb *t = tb_new(MIB(128));
		struct bz_spec s = bz_default();

		s.pref_address = cases[i].pref;
		s.kernel_alignment = cases[i].align;
		assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
		assert_int_equal(t->entry.rip, cases[i].load + 0x200);
		assert_int_equal(zero_page(t)->hdr.code32_start, cases[i].load);
		assert_payload_at(t, &s, cases[i].load);
		tb_free(t);
	}
}

static void test_non_relocatable_loads_at_code32_start(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();

	(void)state;
	s.relocatable = 0;
	s.kernel_alignment = 0;		/* ignored when not relocatable */
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
	assert_int_equal(t->entry.rip, 0x100200);
	assert_payload_at(t, &s, 0x100000);
	tb_free(t);
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();

	(void)state;
	s.setup_sects = 0;
	assert_int_equal(bz_setup_len(&s), 5 * 512);
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
	assert_payload_at(t, &s, 0x1000000);
	tb_free(t);
}

static void test_many_setup_sects(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();

	(void)state;
	s.setup_sects = 39;		/* as a Debian 6.1 kernel */
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
	assert_payload_at(t, &s, 0x1000000);
	tb_free(t);
}

/* Trailing bytes (e.g. an appended signature) are not loaded. */
static void test_trailing_data_ignored(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	size_t len;
	uint8_t *img = bz_build(&s, &len), *bigger = malloc(len + 4096);
	uint8_t *after;

	(void)state;
	assert_non_null(bigger);
	memcpy(bigger, img, len);
	memset(bigger + len, 0xee, 4096);
	assert_int_equal(tb_boot(t, tb_file(t, bigger, len + 4096), NULL, "", 1), 0);
	after = tb_gpa(t, 0x1000000 + s.payload, 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(after[i], 0);
	free(img);
	free(bigger);
	tb_free(t);
}

static void test_cmdline_limits(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	const char *k = bz_file(t, &s);
	char *cmd = malloc(3001);

	(void)state;
	memset(cmd, 'a', 3000);
	cmd[3000] = '\0';
	assert_int_equal(tb_boot(t, k, NULL, cmd, 1), -E2BIG);
	assert_string_equal(t->err, "--cmdline: 3000 bytes, the kernel accepts at most 2047");
	cmd[2047] = '\0';
	assert_int_equal(tb_boot(t, k, NULL, cmd, 1), 0);
	assert_int_equal(strlen(tb_gpa(t, LAYOUT_CMDLINE, 2048)), 2047);
	free(cmd);
	tb_free(t);
}

static void test_cmdline_size_capped_by_layout(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	size_t n = LAYOUT_CMDLINE_MAX;
	char *cmd = malloc(n + 1);

	(void)state;
	s.cmdline_size = 0xffffffff;	/* hostile: would run over 64 KiB */
	memset(cmd, 'b', n);
	cmd[n] = '\0';
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, cmd, 1), -E2BIG);
	tb_assert_msg(t->err, "--cmdline: %zu bytes, the kernel accepts at most %llu", n,
		      LAYOUT_CMDLINE_MAX - 1);
	free(cmd);
	tb_free(t);
}

static void test_initrd_placed_high(void **state)
{
	struct tb *t = tb_new(MIB(256));
	struct bz_spec s = bz_default();
	size_t n = 10000;		/* not a multiple of a page */
	uint8_t *rd = malloc(n);
	struct boot_params *bp;

	(void)state;
	tb_pattern(rd, n, 9);
	assert_int_equal(tb_boot(t, bz_file(t, &s), tb_file(t, rd, n), "", 1), 0);
	bp = zero_page(t);
	assert_int_equal(bp->hdr.ramdisk_size, n);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_image % 4096, 0);
	assert_true(bp->hdr.ramdisk_image + n <= MIB(256));
	assert_true(bp->hdr.ramdisk_image + n > MIB(256) - 4096);
	assert_memory_equal(tb_gpa(t, bp->hdr.ramdisk_image, n), rd, n);
	free(rd);
	tb_free(t);
}

static void test_initrd_below_initrd_addr_max(void **state)
{
	struct tb *t = tb_new(GIB(2));
	struct bz_spec s = bz_default();
	uint8_t rd[8192];
	struct boot_params *bp;

	(void)state;
	tb_pattern(rd, sizeof(rd), 1);
	assert_int_equal(tb_boot(t, bz_file(t, &s), tb_file(t, rd, sizeof(rd)), "", 1), 0);
	bp = zero_page(t);
	assert_int_equal(bp->hdr.ramdisk_image, 0x38000000 - sizeof(rd));
	assert_memory_equal(tb_gpa(t, bp->hdr.ramdisk_image, sizeof(rd)), rd, sizeof(rd));
	tb_free(t);
}

static void test_initrd_too_big(void **state)
{
	struct tb *t = tb_new(MIB(256));
	struct bz_spec s = bz_default();
	const char *rd = tb_file_ext(t, "x", 1, MIB(300) - 1);	/* sparse, cheap */
	char want[512];

	(void)state;
	assert_int_equal(tb_boot(t, bz_file(t, &s), rd, "", 1), -ENOMEM);
	snprintf(want, sizeof(want),
		 "--initrd %s: 300 MiB does not fit below 0x37ffffff in 256 MiB of memory "
		 "(the kernel ends at 0x1400000)", rd);
	assert_string_equal(t->err, want);
	tb_free(t);
}

/* Fits in memory, but not between the kernel's end and the top of RAM. */
static void test_initrd_collides_with_kernel(void **state)
{
	struct tb *t = tb_new(MIB(32));
	struct bz_spec s = bz_default();
	const char *rd = tb_file_ext(t, NULL, 0, MIB(13));

	(void)state;
	assert_int_equal(tb_boot(t, bz_file(t, &s), rd, "", 1), -ENOMEM);
	tb_assert_contains(t->err, "13 MiB does not fit below 0x37ffffff in 32 MiB of memory");
	tb_assert_contains(t->err, "(the kernel ends at 0x1400000)");
	tb_free(t);
}

static void test_initrd_empty_and_missing(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	const char *k = bz_file(t, &s);

	(void)state;
	assert_int_equal(tb_boot(t, k, tb_file(t, NULL, 0), "", 1), 0);
	assert_int_equal(zero_page(t)->hdr.ramdisk_image, 0);
	assert_int_equal(zero_page(t)->hdr.ramdisk_size, 0);
	assert_int_equal(tb_boot(t, k, "/nonexistent/initrd", "", 1), -ENOENT);
	assert_string_equal(t->err, "--initrd /nonexistent/initrd: No such file or directory");
	assert_int_equal(tb_boot(t, k, "/tmp", "", 1), -EINVAL);
	assert_string_equal(t->err, "--initrd /tmp: not a regular file");
	tb_free(t);
}

/* ---- malformed images --------------------------------------------------- */

static void test_bad_magic(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	uint8_t junk[4096];
	char want[256];
	const char *k;

	(void)state;
	memset(junk, 0x90, sizeof(junk));
	k = tb_file(t, junk, sizeof(junk));
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	snprintf(want, sizeof(want), "--kernel %s: not a bzImage or ELF kernel (bad magic)", k);
	assert_string_equal(t->err, want);

	s.magic = 0x53726449;		/* "IdrS" */
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "bad magic");
	s = bz_default();
	s.boot_flag = 0x55aa;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "bad magic");
	tb_free(t);
}

static void test_empty_and_tiny_files(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	size_t len;
	uint8_t *img = bz_build(&s, &len);
	const char *k;

	(void)state;
	assert_int_equal(tb_boot(t, tb_file(t, NULL, 0), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "bad magic");
	/* boot flag and HdrS present, but the file ends inside the header */
	k = tb_file(t, img, 0x210);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: truncated (file is 528 bytes, shorter than a setup header)",
		      k);
	free(img);
	tb_free(t);
}

static void test_missing_kernel(void **state)
{
	struct tb *t = tb_new(MIB(64));

	(void)state;
	assert_int_equal(tb_boot(t, "/nonexistent/bzImage", NULL, "", 1), -ENOENT);
	assert_string_equal(t->err, "--kernel /nonexistent/bzImage: No such file or directory");
	assert_int_equal(tb_boot(t, "/tmp", NULL, "", 1), -EINVAL);
	assert_string_equal(t->err, "--kernel /tmp: not a regular file");
	tb_free(t);
}

static void test_old_protocol(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	const char *k;

	(void)state;
	s.version = 0x020a;
	k = bz_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: boot protocol 2.10 is too old "
		      "(husk needs 2.12 or later, Linux 3.8+, for the 64-bit entry)", k);
	s.version = 0x0200;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "boot protocol 2.00 is too old");
	s.version = 0x020c;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
	tb_free(t);
}

static void test_not_64bit(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	const char *k;

	(void)state;
	s.xloadflags = XLF_EFI_HANDOVER_32;
	k = bz_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: not a 64-bit kernel (xloadflags 0x4 lacks XLF_KERNEL_64)",
		      k);
	tb_free(t);
}

static void test_truncated(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	const char *k;

	(void)state;
	s.payload = MIB(1);
	s.syssize_extra = (uint32_t)(MIB(4) / 16);	/* header claims 5 MiB of kernel */
	s.setup_sects = 0;
	s.init_size = MIB(8);
	/* file: 2.5 KiB setup + 1 MiB; header: 2.5 KiB + 5 MiB */
	k = bz_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: truncated (setup header says 5.0 MiB, file is 1.0 MiB)",
		      k);

	s = bz_default();
	s.file_cut = 16;		/* one paragraph short */
	k = bz_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: truncated (setup header says 68096 bytes, file is 68080 bytes)",
		      k);

	s = bz_default();
	s.setup_sects = 255;		/* the payload would start past the end */
	s.file_cut = 255 * 512 - 4 * 512;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "truncated (setup header says");
	tb_free(t);
}

static void test_empty_kernel(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();

	(void)state;
	s.payload = 0;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "empty kernel (syssize is 0)");
	tb_free(t);
}

static void test_memory_too_small(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct bz_spec s = bz_default();
	const char *k;

	(void)state;
	s.pref_address = 0x100000;
	s.kernel_alignment = 0x100000;
	s.init_size = MIB(39);
	k = bz_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOMEM);
	tb_assert_msg(t->err, "--memory: 16 MiB is too small for %s (needs RAM up to 0x2800000 "
		      "(40 MiB); the kernel occupies 0x100000-0x2800000)", k);
	tb_free(t);
}

/* The kernel needs pref_address + init_size, even if it would fit lower. */
static void test_memory_counts_from_pref_address(void **state)
{
	struct tb *t = tb_new(MIB(20));
	struct bz_spec s = bz_default();

	(void)state;
	s.init_size = MIB(8);		/* 16 MiB + 8 MiB > 20 MiB */
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOMEM);
	tb_assert_starts(t->err, "--memory: 20 MiB is too small for ");
	tb_assert_contains(t->err, "0x1000000-0x1800000");
	tb_free(t);
}

static void test_hostile_header_fields(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();

	(void)state;
	s.kernel_alignment = 0x300000;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "kernel_alignment 0x300000 is not a power of two");
	s.kernel_alignment = 0;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);

	s = bz_default();
	s.pref_address = 0xfffffffffff00000ULL;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOMEM);
	tb_assert_starts(t->err, "--memory: 64 MiB is too small");

	s = bz_default();
	s.init_size = 0xffffffff;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOMEM);

	s = bz_default();
	s.relocatable = 0;
	s.code32_start = 0x7c00;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "below 1 MiB");

	s = bz_default();
	s.initrd_addr_max = 0;		/* nowhere to put an initrd */
	assert_int_equal(tb_boot(t, bz_file(t, &s), tb_file(t, "rd", 2), "", 1), -ENOMEM);
	tb_assert_contains(t->err, "2 bytes does not fit below 0x0 in 64 MiB of memory");
	tb_free(t);
}

static void test_cpu_count(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct bz_spec s = bz_default();
	const char *k = bz_file(t, &s);

	(void)state;
	assert_int_equal(tb_boot(t, k, NULL, "", 0), -EINVAL);
	assert_string_equal(t->err, "--cpus 0: husk boots 1 to 254 CPUs");
	assert_int_equal(tb_boot(t, k, NULL, "", 255), -EINVAL);
	assert_string_equal(t->err, "--cpus 255: husk boots 1 to 254 CPUs");
	assert_int_equal(tb_boot(t, k, NULL, "", 254), 0);
	tb_free(t);
}

static void test_above_4g_e820(void **state)
{
	struct tb *t = tb_new(GIB(6));
	struct bz_spec s = bz_default();
	struct boot_params *bp;

	(void)state;
	assert_int_equal(tb_boot(t, bz_file(t, &s), NULL, "", 1), 0);
	bp = zero_page(t);
	assert_int_equal(bp->e820_entries, 5);
	assert_int_equal(bp->e820_table[3].addr + bp->e820_table[3].size, GIB(3));
	assert_int_equal(bp->e820_table[4].addr, GIB(4));
	assert_int_equal(bp->e820_table[4].size, GIB(3));
	assert_int_equal(bp->e820_table[4].type, E820_RAM);
	tb_free(t);
}

/* Random header bytes: every outcome is 0 or an error with a message. */
static void test_random_headers_never_crash(void **state)
{
	struct tb *t = tb_new(MIB(32));
	struct bz_spec s = bz_default();
	size_t len;
	uint8_t *img = bz_build(&s, &len);
	unsigned ok = 0;

	(void)state;
	srand(1234);
	for (unsigned iter = 0; iter < 300; iter++) {
		uint8_t *copy = malloc(len);
		const char *k;

		memcpy(copy, img, len);
		for (unsigned j = 0; j < 8; j++) {
			size_t off = 0x1f1 + (size_t)rand() % sizeof(struct setup_header);

			if (off != 0x1fe && off != 0x1ff && (off < 0x202 || off > 0x205))
				copy[off] = (uint8_t)rand();
		}
		k = tb_file(t, copy, len);
		if (tb_boot(t, k, NULL, "x", 1) == 0)
			ok++;
		tb_drop_last_file(t);
		free(copy);
	}
	assert_true(ok < 300);		/* the mutations did reach the checks */
	free(img);
	tb_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_entry_and_cpu_state),
		cmocka_unit_test(test_valid_zero_page),
		cmocka_unit_test(test_header_copy_length),
		cmocka_unit_test(test_load_address_policy),
		cmocka_unit_test(test_non_relocatable_loads_at_code32_start),
		cmocka_unit_test(test_setup_sects_zero_means_four),
		cmocka_unit_test(test_many_setup_sects),
		cmocka_unit_test(test_trailing_data_ignored),
		cmocka_unit_test(test_cmdline_limits),
		cmocka_unit_test(test_cmdline_size_capped_by_layout),
		cmocka_unit_test(test_initrd_placed_high),
		cmocka_unit_test(test_initrd_below_initrd_addr_max),
		cmocka_unit_test(test_initrd_too_big),
		cmocka_unit_test(test_initrd_collides_with_kernel),
		cmocka_unit_test(test_initrd_empty_and_missing),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_empty_and_tiny_files),
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_old_protocol),
		cmocka_unit_test(test_not_64bit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_empty_kernel),
		cmocka_unit_test(test_memory_too_small),
		cmocka_unit_test(test_memory_counts_from_pref_address),
		cmocka_unit_test(test_hostile_header_fields),
		cmocka_unit_test(test_cpu_count),
		cmocka_unit_test(test_above_4g_e820),
		cmocka_unit_test(test_random_headers_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
