// SPDX-License-Identifier: MIT
/* boot_load() with synthetic ELF kernels: vmlinux-style, PVH, and hostile. */
#include <elf.h>
#include <errno.h>
#include <asm/bootparam.h>

#include "test_boot_helpers.h"
#include "boot/pvh.h"

#define MAX_SEGS 8

struct seg_spec {
	uint32_t type;			/* 0 = PT_LOAD */
	uint64_t paddr, vaddr;		/* vaddr 0 = same as paddr */
	uint64_t filesz, memsz;
	uint64_t offset;		/* 0 = placed by the builder */
	uint64_t align;
};

struct elf_spec {
	bool is32;
	uint16_t machine;		/* 0 = EM_X86_64 (ELF64) / EM_386 (ELF32) */
	uint16_t type;			/* 0 = ET_EXEC */
	uint8_t data;			/* 0 = ELFDATA2LSB */
	uint64_t entry;
	unsigned nsegs;
	struct seg_spec segs[MAX_SEGS];
	unsigned pvh_descsz;		/* 0: no PVH note */
	uint64_t pvh_entry;
	uint32_t note_namesz_override;	/* hostile note */
	uint16_t phnum_override;
	uint64_t phoff_override;
	uint64_t note_align;		/* p_align of the PT_NOTE: 0 = 4 */
	size_t file_cut;
};

struct buf {
	uint8_t *p;
	size_t len;
};

static void buf_put(struct buf *b, size_t off, const void *data, size_t len)
{
	if (off + len > b->len) {
		b->p = realloc(b->p, off + len);
		assert_non_null(b->p);
		memset(b->p + b->len, 0, off + len - b->len);
		b->len = off + len;
	}
	memcpy(b->p + off, data, len);
}

static struct elf_spec vmlinux_like(void)
{
	struct elf_spec s = { .entry = 0x1000000, .nsegs = 3 };

	s.segs[0] = (struct seg_spec){ .paddr = 0x1000000, .vaddr = 0xffffffff81000000ULL,
				       .filesz = 0x3000, .memsz = 0x3000 };
	s.segs[1] = (struct seg_spec){ .paddr = 0x1200000, .vaddr = 0xffffffff81200000ULL,
				       .filesz = 0x1800, .memsz = 0x1800 };
	s.segs[2] = (struct seg_spec){ .paddr = 0x1400000, .vaddr = 0xffffffff81400000ULL,
				       .filesz = 0x1000, .memsz = 0x5000 };	/* bss */
	return s;
}

static struct elf_spec pvh_guest(bool is32)
{
	struct elf_spec s = { .is32 = is32, .entry = 0x100000, .nsegs = 2,
			      .pvh_descsz = is32 ? 4 : 8, .pvh_entry = 0x100040 };

	s.segs[0] = (struct seg_spec){ .paddr = 0x100000, .filesz = 0x2000, .memsz = 0x2000 };
	s.segs[1] = (struct seg_spec){ .paddr = 0x102000, .filesz = 0x100, .memsz = 0x8000 };
	return s;
}

/* Two notes: a GNU build-id first, so the walker has to step over one. */
static size_t put_notes(struct buf *b, size_t off, const struct elf_spec *s)
{
	uint32_t gnu[3] = { 4, 20, 3 }, xen[3] = { 4, s->pvh_descsz, 18 };
	size_t a = s->note_align ? s->note_align : 4, start = off;
	uint8_t id[20];

	memset(id, 0xab, sizeof(id));
	buf_put(b, off, gnu, 12);
	buf_put(b, off + 12, "GNU", 4);
	buf_put(b, off + 16, id, 20);
	off += (36 + a - 1) & ~(a - 1);
	if (s->note_namesz_override)
		xen[0] = s->note_namesz_override;
	buf_put(b, off, xen, 12);
	buf_put(b, off + 12, "Xen", 4);
	buf_put(b, off + 16, &s->pvh_entry, s->pvh_descsz);
	off += 16 + ((s->pvh_descsz + a - 1) & ~(a - 1));
	return off - start;
}

static void put_ehdr(struct buf *b, const struct elf_spec *s, unsigned phnum, size_t phoff)
{
	uint8_t ident[EI_NIDENT] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
				     s->is32 ? ELFCLASS32 : ELFCLASS64,
				     s->data ? s->data : ELFDATA2LSB, EV_CURRENT };
	uint16_t type = s->type ? s->type : ET_EXEC;

	if (s->is32) {
		Elf32_Ehdr e = { .e_type = type, .e_machine = s->machine ? s->machine : EM_386,
				 .e_version = EV_CURRENT, .e_entry = (uint32_t)s->entry,
				 .e_phoff = (uint32_t)phoff, .e_ehsize = sizeof(e),
				 .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = (uint16_t)phnum };

		memcpy(e.e_ident, ident, EI_NIDENT);
		buf_put(b, 0, &e, sizeof(e));
	} else {
		Elf64_Ehdr e = { .e_type = type, .e_machine = s->machine ? s->machine : EM_X86_64,
				 .e_version = EV_CURRENT, .e_entry = s->entry, .e_phoff = phoff,
				 .e_ehsize = sizeof(e), .e_phentsize = sizeof(Elf64_Phdr),
				 .e_phnum = (uint16_t)phnum };

		memcpy(e.e_ident, ident, EI_NIDENT);
		buf_put(b, 0, &e, sizeof(e));
	}
}

static void put_phdr(struct buf *b, const struct elf_spec *s, size_t off, const struct seg_spec *g)
{
	uint32_t type = g->type ? g->type : PT_LOAD;
	uint64_t vaddr = g->vaddr ? g->vaddr : g->paddr;

	if (s->is32) {
		Elf32_Phdr p = { type, (uint32_t)g->offset, (uint32_t)vaddr, (uint32_t)g->paddr,
				 (uint32_t)g->filesz, (uint32_t)g->memsz, PF_R | PF_X,
				 (uint32_t)g->align };

		buf_put(b, off, &p, sizeof(p));
	} else {
		Elf64_Phdr p = { type, PF_R | PF_X, g->offset, vaddr, g->paddr, g->filesz,
				 g->memsz, g->align };

		buf_put(b, off, &p, sizeof(p));
	}
}

static struct buf elf_build(const struct elf_spec *in)
{
	struct elf_spec s = *in;
	struct buf b = {0};
	size_t phoff = s.is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	size_t phsize = s.is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	unsigned n = s.nsegs;
	size_t data = 0x1000;

	if (s.pvh_descsz) {
		size_t len = put_notes(&b, 0x800, &s);

		s.segs[n++] = (struct seg_spec){ .type = PT_NOTE, .offset = 0x800, .filesz = len,
						 .align = s.note_align ? s.note_align : 4 };
	}
	for (unsigned i = 0; i < s.nsegs; i++) {
		struct seg_spec *g = &s.segs[i];
		uint8_t *content = malloc(g->filesz + 1);

		if (!g->offset) {
			g->offset = data;
			data += (g->filesz + 0xfff) & ~0xfffULL;
		}
		tb_pattern(content, g->filesz, (uint8_t)(i + 1));
		if (g->filesz && g->offset + g->filesz < MIB(64))
			buf_put(&b, g->offset, content, g->filesz);
		free(content);
	}
	put_ehdr(&b, &s, s.phnum_override ? s.phnum_override : n,
		 s.phoff_override ? s.phoff_override : phoff);
	for (unsigned i = 0; i < n; i++)
		put_phdr(&b, &s, phoff + i * phsize, &s.segs[i]);
	b.len -= s.file_cut;
	return b;
}

static const char *elf_file(struct tb *t, const struct elf_spec *s)
{
	struct buf b = elf_build(s);
	const char *path = tb_file(t, b.p, b.len);

	free(b.p);
	return path;
}

static void assert_segment_loaded(struct tb *t, const struct seg_spec *g, unsigned i)
{
	uint8_t *want = malloc(g->filesz + 1), *got = tb_gpa(t, g->paddr, g->memsz);

	tb_pattern(want, g->filesz, (uint8_t)(i + 1));
	assert_memory_equal(got, want, g->filesz);
	for (uint64_t j = g->filesz; j < g->memsz; j++)
		if (got[j] != 0)
			fail_msg("PT_LOAD %u: bss byte 0x%llx is 0x%x", i, (unsigned long long)j,
				 got[j]);
	free(want);
}

/* Guest RAM full of 0xcc, so zeroing and untouched bytes both show. */
static void dirty_ram(struct tb *t, uint64_t from, uint64_t len)
{
	memset(tb_gpa(t, from, len), 0xcc, len);
}

/* ---- vmlinux (64-bit entry) ------------------------------------------- */

static void test_vmlinux_linux64(void **state)
{
	struct tb *t = tb_new(MIB(128));
	struct elf_spec s = vmlinux_like();
	struct boot_params *bp;

	(void)state;
	dirty_ram(t, MIB(16), MIB(8));
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "console=hvc0", 1), 0);
	assert_int_equal(t->entry.mode, BOOT_ENTRY_LINUX64);
	assert_int_equal(t->entry.rip, 0x1000000);
	assert_int_equal(t->entry.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(t->entry.cr3, LAYOUT_PML4);
	tb_assert_gdt(t, BOOT_ENTRY_LINUX64);
	for (unsigned i = 0; i < s.nsegs; i++)
		assert_segment_loaded(t, &s.segs[i], i);
	/* nothing written between segments */
	assert_int_equal(*(uint8_t *)tb_gpa(t, 0x1003000, 1), 0xcc);
	bp = tb_gpa(t, LAYOUT_ZERO_PAGE, sizeof(*bp));
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_int_equal(bp->e820_entries, 4);
	assert_string_equal(tb_gpa(t, LAYOUT_CMDLINE, 13), "console=hvc0");
	tb_free(t);
}

static void test_vmlinux_virtual_entry_translated(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.entry = 0xffffffff81200100ULL;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), 0);
	assert_int_equal(t->entry.rip, 0x1200100);
	tb_free(t);
}

static void test_vmlinux_initrd(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();
	uint8_t rd[5000];
	struct boot_params *bp;

	(void)state;
	tb_pattern(rd, sizeof(rd), 77);
	assert_int_equal(tb_boot(t, elf_file(t, &s), tb_file(t, rd, sizeof(rd)), "", 1), 0);
	bp = tb_gpa(t, LAYOUT_ZERO_PAGE, sizeof(*bp));
	assert_int_equal(bp->hdr.ramdisk_image, MIB(64) - 8192);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(rd));
	assert_memory_equal(tb_gpa(t, bp->hdr.ramdisk_image, sizeof(rd)), rd, sizeof(rd));
	tb_free(t);
}

static void test_elf_cmdline_limit(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();
	size_t n = LAYOUT_CMDLINE_MAX;
	char *cmd = malloc(n + 1);

	(void)state;
	memset(cmd, 'c', n);
	cmd[n] = '\0';
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, cmd, 1), -E2BIG);
	tb_assert_msg(t->err, "--cmdline: 65536 bytes, the kernel accepts at most 65535");
	cmd[n - 1] = '\0';
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, cmd, 1), 0);
	free(cmd);
	tb_free(t);
}

/* ---- PVH ---------------------------------------------------------------- */

static void assert_pvh_start_info(struct tb *t, uint64_t initrd_addr, uint64_t initrd_size)
{
	struct hvm_start_info *si = tb_gpa(t, LAYOUT_PVH_START_INFO, sizeof(*si));
	struct hvm_memmap_table_entry *mm;
	struct e820_entry map[8];
	int n = e820_build(&t->mem, map, 8);

	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->cmdline_paddr, LAYOUT_CMDLINE);
	assert_int_equal(si->rsdp_paddr, LAYOUT_ACPI_RSDP);
	assert_memory_equal(tb_gpa(t, si->rsdp_paddr, 8), "RSD PTR ", 8);
	assert_int_equal(si->memmap_entries, n);
	mm = tb_gpa(t, si->memmap_paddr, n * sizeof(*mm));
	for (int i = 0; i < n; i++) {
		assert_int_equal(mm[i].addr, map[i].addr);
		assert_int_equal(mm[i].size, map[i].size);
		assert_int_equal(mm[i].type, map[i].type);
		assert_int_equal(mm[i].reserved, 0);
	}
	if (!initrd_size) {
		assert_int_equal(si->nr_modules, 0);
		return;
	}
	assert_int_equal(si->nr_modules, 1);
	{
		struct hvm_modlist_entry *mod = tb_gpa(t, si->modlist_paddr, sizeof(*mod));

		assert_int_equal(mod->paddr, initrd_addr);
		assert_int_equal(mod->size, initrd_size);
		assert_int_equal(mod->cmdline_paddr, 0);
	}
}

static void test_pvh_elf64(void **state)
{
	struct tb *t = tb_new(MIB(32));
	struct elf_spec s = pvh_guest(false);

	(void)state;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "pvh", 1), 0);
	assert_int_equal(t->entry.mode, BOOT_ENTRY_PVH32);
	assert_int_equal(t->entry.rip, 0x100040);
	assert_int_equal(t->entry.rbx, LAYOUT_PVH_START_INFO);
	assert_int_equal(t->entry.cr3, 0);
	tb_assert_gdt(t, BOOT_ENTRY_PVH32);
	assert_pvh_start_info(t, 0, 0);
	assert_string_equal(tb_gpa(t, LAYOUT_CMDLINE, 4), "pvh");
	for (unsigned i = 0; i < s.nsegs; i++)
		assert_segment_loaded(t, &s.segs[i], i);
	tb_free(t);
}

static void test_pvh_elf32_with_initrd(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct elf_spec s = pvh_guest(true);
	uint8_t rd[3 * 4096];

	(void)state;
	dirty_ram(t, 0x102000, 0x8000);
	tb_pattern(rd, sizeof(rd), 5);
	assert_int_equal(tb_boot(t, elf_file(t, &s), tb_file(t, rd, sizeof(rd)), "", 3), 0);
	assert_int_equal(t->entry.mode, BOOT_ENTRY_PVH32);
	assert_int_equal(t->entry.rip, 0x100040);
	assert_pvh_start_info(t, MIB(16) - sizeof(rd), sizeof(rd));
	assert_memory_equal(tb_gpa(t, MIB(16) - sizeof(rd), sizeof(rd)), rd, sizeof(rd));
	for (unsigned i = 0; i < s.nsegs; i++)
		assert_segment_loaded(t, &s.segs[i], i);
	tb_free(t);
}

static void test_pvh_above_4g_memmap(void **state)
{
	struct tb *t = tb_new(GIB(5));
	struct elf_spec s = pvh_guest(true);
	struct hvm_start_info *si;

	(void)state;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), 0);
	assert_pvh_start_info(t, 0, 0);
	si = tb_gpa(t, LAYOUT_PVH_START_INFO, sizeof(*si));
	assert_int_equal(si->memmap_entries, 5);
	tb_free(t);
}

/* A PT_NOTE with p_align 8 pads names and descriptors to 8 bytes. */
static void test_pvh_note_8_byte_alignment(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct elf_spec s = pvh_guest(false);

	(void)state;
	s.note_align = 8;	/* GNU note: 36 bytes -> the Xen note starts at 40 */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), 0);
	assert_int_equal(t->entry.mode, BOOT_ENTRY_PVH32);
	assert_int_equal(t->entry.rip, 0x100040);
	tb_free(t);
}

static void test_elf32_without_pvh_note(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct elf_spec s = pvh_guest(true);
	const char *k;

	(void)state;
	s.pvh_descsz = 0;
	k = elf_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: 32-bit ELF without a PVH entry note (Xen PHYS32_ENTRY); "
		      "husk enters 32-bit kernels only through PVH", k);
	tb_free(t);
}

static void test_pvh_note_bad(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct elf_spec s = pvh_guest(false);

	(void)state;
	s.pvh_descsz = 2;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "Xen PHYS32_ENTRY note has 2 bytes, not 4 or 8");

	s = pvh_guest(false);
	s.pvh_entry = 0x100000000ULL;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "PVH entry 0x100000000 is above 4 GiB");

	s = pvh_guest(false);
	s.pvh_entry = 0x200000;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "PVH entry 0x200000 is in no PT_LOAD segment");

	s = pvh_guest(false);
	s.note_namesz_override = 0xfffffff0;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "malformed ELF note");
	tb_free(t);
}

/* ---- malformed ELF ------------------------------------------------------ */

static void test_elf_header_checks(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();
	struct buf b;
	const char *k;

	(void)state;
	s.machine = EM_AARCH64;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "ELF machine 183 is not x86");
	s = vmlinux_like();
	s.data = ELFDATA2MSB;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "ELF is not little-endian");
	s = vmlinux_like();
	s.type = ET_REL;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "ELF type 1 is not an executable");

	b = elf_build(&s);
	b.p[EI_CLASS] = 7;
	assert_int_equal(tb_boot(t, tb_file(t, b.p, b.len), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "ELF class 7 is neither 32 nor 64-bit");
	b.p[EI_CLASS] = ELFCLASS64;	/* cut inside the ELF64 header: */
	k = tb_file(t, b.p, 40);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: truncated (40 bytes, shorter than an ELF header)", k);
	free(b.p);
	tb_free(t);
}

static void test_elf_phdr_table_checks(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.phnum_override = 0xffff;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "65535 program headers (husk accepts 1 to 256)");
	s = vmlinux_like();
	s.phoff_override = 0xfffffffffffffff0ULL;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "truncated (program headers at 0xfffffffffffffff0 run past the end)");
	s = vmlinux_like();
	s.phoff_override = 0x7000 - 100;	/* table crosses the end of the file */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "run past the end");
	s = vmlinux_like();
	s.segs[0] = (struct seg_spec){ .type = PT_GNU_STACK };
	s.nsegs = 1;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "no PT_LOAD segment to load");
	tb_free(t);
}

static void test_segment_filesz_over_memsz(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();
	const char *k;

	(void)state;
	s.segs[1].memsz = 0x1000;
	k = elf_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOEXEC);
	tb_assert_msg(t->err, "--kernel %s: PT_LOAD 1: file size 0x1800 exceeds memory size 0x1000",
		      k);
	tb_free(t);
}

static void test_segment_outside_file(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.file_cut = 0x800;		/* the last segment's data is cut short */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "truncated (PT_LOAD 2 needs bytes 0x6000-0x7000, file is 26 KiB)");
	s = vmlinux_like();
	s.segs[0].offset = 0xffffffffffff0000ULL;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "truncated (PT_LOAD 0 needs bytes");
	tb_free(t);
}

static void test_segment_overlap(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.segs[2].paddr = 0x1001000;		/* inside segment 0 */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "PT_LOAD 0 (0x1000000-0x1003000) overlaps PT_LOAD 2 "
			   "(0x1001000-0x1006000)");
	tb_free(t);
}

static void test_segment_below_1m(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.segs[1].paddr = 0x7000;		/* would hit the zero page */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "PT_LOAD 1 at 0x7000 is below 1 MiB, where husk keeps its boot "
			   "structures");
	tb_free(t);
}

static void test_segment_memory_too_small(void **state)
{
	struct tb *t = tb_new(MIB(24));
	struct elf_spec s = vmlinux_like();
	const char *k;

	(void)state;
	s.segs[2].memsz = MIB(20);		/* bss to 0x2800000 */
	k = elf_file(t, &s);
	assert_int_equal(tb_boot(t, k, NULL, "", 1), -ENOMEM);
	tb_assert_msg(t->err, "--memory: 24 MiB is too small for %s (needs RAM up to 0x2800000 "
		      "(40 MiB); the kernel occupies 0x1400000-0x2800000)", k);
	tb_free(t);
}

static void test_segment_outside_ram(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.segs[1].paddr = 0xd0000000;		/* the MMIO hole */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "PT_LOAD 1 at 0xd0000000-0xd0001800 is outside guest RAM");
	s = vmlinux_like();
	s.segs[2].paddr = 0xfffffffffffff000ULL;	/* paddr + memsz wraps */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "PT_LOAD 2: 0xfffffffffffff000 + 0x5000 overflows");
	tb_free(t);
}

static void test_segment_in_high_ram(void **state)
{
	struct tb *t = tb_new(GIB(4));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.segs[2].paddr = GIB(4) + MIB(2);	/* in the RAM above 4 GiB */
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), 0);
	assert_segment_loaded(t, &s.segs[2], 2);
	tb_free(t);
}

static void test_entry_outside_segments(void **state)
{
	struct tb *t = tb_new(MIB(64));
	struct elf_spec s = vmlinux_like();

	(void)state;
	s.entry = 0x5000000;
	assert_int_equal(tb_boot(t, elf_file(t, &s), NULL, "", 1), -ENOEXEC);
	tb_assert_contains(t->err, "entry point 0x5000000 is in no PT_LOAD segment");
	tb_free(t);
}

/* Random bytes in the ELF and program headers: 0 or an error, never a crash. */
static void test_random_elf_headers_never_crash(void **state)
{
	struct tb *t = tb_new(MIB(32));
	struct elf_spec specs[2] = { vmlinux_like(), pvh_guest(true) };
	unsigned failed = 0;

	(void)state;
	srand(4321);
	for (unsigned iter = 0; iter < 400; iter++) {
		struct buf b = elf_build(&specs[iter & 1]);
		const char *k;

		for (unsigned j = 0; j < 6; j++) {
			size_t off = 4 + (size_t)rand() % (0x800 + 64 - 4);

			b.p[off] = (uint8_t)rand();
		}
		k = tb_file(t, b.p, b.len);
		if (tb_boot(t, k, NULL, "", 1) != 0)
			failed++;
		tb_drop_last_file(t);
		free(b.p);
	}
	assert_true(failed > 0);
	tb_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmlinux_linux64),
		cmocka_unit_test(test_vmlinux_virtual_entry_translated),
		cmocka_unit_test(test_vmlinux_initrd),
		cmocka_unit_test(test_elf_cmdline_limit),
		cmocka_unit_test(test_pvh_elf64),
		cmocka_unit_test(test_pvh_elf32_with_initrd),
		cmocka_unit_test(test_pvh_above_4g_memmap),
		cmocka_unit_test(test_pvh_note_8_byte_alignment),
		cmocka_unit_test(test_elf32_without_pvh_note),
		cmocka_unit_test(test_pvh_note_bad),
		cmocka_unit_test(test_elf_header_checks),
		cmocka_unit_test(test_elf_phdr_table_checks),
		cmocka_unit_test(test_segment_filesz_over_memsz),
		cmocka_unit_test(test_segment_outside_file),
		cmocka_unit_test(test_segment_overlap),
		cmocka_unit_test(test_segment_below_1m),
		cmocka_unit_test(test_segment_memory_too_small),
		cmocka_unit_test(test_segment_outside_ram),
		cmocka_unit_test(test_segment_in_high_ram),
		cmocka_unit_test(test_entry_outside_segments),
		cmocka_unit_test(test_random_elf_headers_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
