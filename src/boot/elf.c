// SPDX-License-Identifier: MIT
/*
 * ELF kernels (vmlinux, the test guest): PT_LOAD segments are loaded at their
 * physical address (p_paddr). A Xen PHYS32_ENTRY note makes it a PVH boot
 * (32-bit entry, hvm_start_info in EBX); without one, a 64-bit ELF is
 * entered at e_entry in long mode with a zero page in RSI, as Firecracker
 * boots vmlinux. ELF32 and ELF64 are both read into one normalized form.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot_internal.h"
#include "core/bytes.h"
#include "memory/layout.h"

#define ELF_MAX_PHDRS		256
#define ELF_MAX_NOTES_SIZE	MIB(1)
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Header fields husk uses, whatever the class. */
struct elf_header {
	bool is64;
	uint16_t type;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	uint16_t phentsize;
	uint16_t phnum;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

bool elf_detect(const uint8_t *head, size_t headlen)
{
	return headlen >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
}

static void read_ehdr64(struct elf_header *h, const uint8_t *head)
{
	Elf64_Ehdr e;

	memcpy(&e, head, sizeof(e));
	*h = (struct elf_header){
		.is64 = true, .type = e.e_type, .machine = e.e_machine, .entry = e.e_entry,
		.phoff = e.e_phoff, .phentsize = e.e_phentsize, .phnum = e.e_phnum,
	};
}

static void read_ehdr32(struct elf_header *h, const uint8_t *head)
{
	Elf32_Ehdr e;

	memcpy(&e, head, sizeof(e));
	*h = (struct elf_header){
		.is64 = false, .type = e.e_type, .machine = e.e_machine, .entry = e.e_entry,
		.phoff = e.e_phoff, .phentsize = e.e_phentsize, .phnum = e.e_phnum,
	};
}

static int check_ident(struct boot_ctx *ctx, const uint8_t *head, size_t headlen)
{
	const char *k = ctx->req->kernel;
	unsigned cls = headlen > EI_CLASS ? head[EI_CLASS] : 0;
	size_t need = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);

	if (cls != ELFCLASS32 && cls != ELFCLASS64)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: ELF class %u is neither 32 nor 64-bit", k, cls);
	if (headlen < need)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: truncated (%zu bytes, shorter than an ELF header)",
				 k, headlen);
	if (head[EI_DATA] != ELFDATA2LSB)
		return boot_fail(ctx, -ENOEXEC, "--kernel %s: ELF is not little-endian", k);
	if (head[EI_VERSION] != EV_CURRENT)
		return boot_fail(ctx, -ENOEXEC, "--kernel %s: ELF version %u is unknown",
				 k, head[EI_VERSION]);
	return 0;
}

static int check_ehdr(struct boot_ctx *ctx, const struct elf_header *h)
{
	const char *k = ctx->req->kernel;
	size_t phsize = h->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	if (h->type != ET_EXEC && h->type != ET_DYN)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: ELF type %u is not an executable", k, h->type);
	if (h->machine != EM_X86_64 && !(h->machine == EM_386 && !h->is64))
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: ELF machine %u is not x86", k, h->machine);
	if (h->phentsize != phsize)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: ELF program header size %u, expected %zu",
				 k, h->phentsize, phsize);
	if (h->phnum == 0 || h->phnum > ELF_MAX_PHDRS)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: %u program headers (husk accepts 1 to %u)",
				 k, h->phnum, ELF_MAX_PHDRS);
	if (h->phoff > ctx->kernel_size ||
	    (uint64_t)h->phnum * phsize > ctx->kernel_size - h->phoff)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: truncated (program headers at 0x%llx run past the end)",
				 k, (unsigned long long)h->phoff);
	return 0;
}

static void normalize_phdr(const struct elf_header *h, const uint8_t *raw, struct elf_phdr *p)
{
	if (h->is64) {
		Elf64_Phdr e;

		memcpy(&e, raw, sizeof(e));
		*p = (struct elf_phdr){ e.p_type, e.p_offset, e.p_vaddr, e.p_paddr,
					e.p_filesz, e.p_memsz, e.p_align };
	} else {
		Elf32_Phdr e;

		memcpy(&e, raw, sizeof(e));
		*p = (struct elf_phdr){ e.p_type, e.p_offset, e.p_vaddr, e.p_paddr,
					e.p_filesz, e.p_memsz, e.p_align };
	}
}

static int read_phdrs(struct boot_ctx *ctx, const struct elf_header *h, struct elf_phdr **out)
{
	size_t len = (size_t)h->phnum * h->phentsize;
	uint8_t *raw = malloc(len);
	struct elf_phdr *ph = calloc(h->phnum, sizeof(*ph));
	int ret = -ENOMEM;

	if (raw && ph)
		ret = boot_pread(ctx->kernel_fd, raw, len, h->phoff);
	if (ret) {
		free(raw);
		free(ph);
		return boot_fail(ctx, ret, "--kernel %s: reading program headers: %s",
				 ctx->req->kernel, strerror(-ret));
	}
	for (unsigned i = 0; i < h->phnum; i++)
		normalize_phdr(h, raw + (size_t)i * h->phentsize, &ph[i]);
	free(raw);
	*out = ph;
	return 0;
}

/* A PT_LOAD must come from inside the file and land in RAM above 1 MiB. */
static int check_segment(struct boot_ctx *ctx, const struct elf_phdr *p, unsigned i)
{
	const char *k = ctx->req->kernel;
	uint64_t end = p->paddr + p->memsz;
	char have[32];

	if (p->filesz > p->memsz)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: PT_LOAD %u: file size 0x%llx exceeds memory size 0x%llx",
				 k, i, (unsigned long long)p->filesz, (unsigned long long)p->memsz);
	if (p->offset > ctx->kernel_size || p->filesz > ctx->kernel_size - p->offset)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: truncated (PT_LOAD %u needs bytes 0x%llx-0x%llx, file is %s)",
				 k, i, (unsigned long long)p->offset,
				 (unsigned long long)(p->offset + p->filesz),
				 boot_size_str(ctx->kernel_size, have, sizeof(have)));
	if (p->paddr < LAYOUT_HIGH_RAM_START)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: PT_LOAD %u at 0x%llx is below 1 MiB, where husk keeps "
				 "its boot structures", k, i, (unsigned long long)p->paddr);
	if (end < p->paddr)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: PT_LOAD %u: 0x%llx + 0x%llx overflows",
				 k, i, (unsigned long long)p->paddr, (unsigned long long)p->memsz);
	if (gpa_to_hva(ctx->mem, p->paddr, p->memsz))
		return 0;
	if (end <= LAYOUT_LOW_RAM_MAX)
		return boot_fail_memory(ctx, p->paddr, end);
	return boot_fail(ctx, -ENOEXEC,
			 "--kernel %s: PT_LOAD %u at 0x%llx-0x%llx is outside guest RAM",
			 k, i, (unsigned long long)p->paddr, (unsigned long long)end);
}

static int check_overlaps(struct boot_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nsegs; i++) {
		const struct elf_segment *a = &ctx->segs[i];

		for (unsigned j = i + 1; j < ctx->nsegs; j++) {
			const struct elf_segment *b = &ctx->segs[j];

			if (a->gpa < b->gpa + b->memsz && b->gpa < a->gpa + a->memsz)
				return boot_fail(ctx, -ENOEXEC,
						 "--kernel %s: PT_LOAD %u (0x%llx-0x%llx) overlaps "
						 "PT_LOAD %u (0x%llx-0x%llx)", ctx->req->kernel,
						 a->index, (unsigned long long)a->gpa,
						 (unsigned long long)(a->gpa + a->memsz), b->index,
						 (unsigned long long)b->gpa,
						 (unsigned long long)(b->gpa + b->memsz));
		}
	}
	return 0;
}

static int collect_segments(struct boot_ctx *ctx, const struct elf_phdr *ph, unsigned n)
{
	int ret;

	ctx->segs = calloc(n, sizeof(*ctx->segs));
	if (!ctx->segs)
		return boot_fail(ctx, -ENOMEM, "--kernel %s: out of memory", ctx->req->kernel);
	for (unsigned i = 0; i < n; i++) {
		if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
			continue;
		ret = check_segment(ctx, &ph[i], i);
		if (ret)
			return ret;
		ctx->segs[ctx->nsegs++] = (struct elf_segment){
			.offset = ph[i].offset, .filesz = ph[i].filesz, .gpa = ph[i].paddr,
			.memsz = ph[i].memsz, .vaddr = ph[i].vaddr, .index = i,
		};
	}
	if (ctx->nsegs == 0)
		return boot_fail(ctx, -ENOEXEC, "--kernel %s: no PT_LOAD segment to load",
				 ctx->req->kernel);
	return check_overlaps(ctx);
}

/* The Xen note's descriptor: a 32-bit physical entry (Linux writes 8 bytes). */
static int pvh_entry_from_desc(struct boot_ctx *ctx, const uint8_t *desc, uint32_t descsz,
			       uint64_t *entry)
{
	uint64_t v;

	if (descsz != 4 && descsz != 8)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: Xen PHYS32_ENTRY note has %u bytes, not 4 or 8",
				 ctx->req->kernel, descsz);
	v = le_get(desc, descsz);
	if (v > UINT32_MAX)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: PVH entry 0x%llx is above 4 GiB",
				 ctx->req->kernel, (unsigned long long)v);
	*entry = v;
	return 0;
}

/* Walks one note segment; 1 and *entry set when the PVH note is found. */
static int scan_notes(struct boot_ctx *ctx, const uint8_t *buf, uint64_t len, uint64_t align,
		      uint64_t *entry)
{
	uint64_t pos = 0;

	while (len - pos >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name, desc;
		int ret;

		memcpy(&namesz, buf + pos, 4);
		memcpy(&descsz, buf + pos + 4, 4);
		memcpy(&type, buf + pos + 8, 4);
		name = pos + 12;
		desc = boot_align_up(name + namesz, align);
		if (desc > len || descsz > len - desc)
			return boot_fail(ctx, -ENOEXEC,
					 "--kernel %s: malformed ELF note at segment offset 0x%llx",
					 ctx->req->kernel, (unsigned long long)pos);
		if (namesz == 4 && memcmp(buf + name, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			ret = pvh_entry_from_desc(ctx, buf + desc, descsz, entry);
			return ret ? ret : 1;
		}
		pos = boot_align_up(desc + descsz, align);
		if (pos > len)
			break;
	}
	return 0;
}

static int read_note_segment(struct boot_ctx *ctx, const struct elf_phdr *p, unsigned i,
			     uint64_t *entry)
{
	const char *k = ctx->req->kernel;
	uint8_t *buf;
	int ret;

	if (p->filesz == 0)
		return 0;
	if (p->offset > ctx->kernel_size || p->filesz > ctx->kernel_size - p->offset)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: truncated (PT_NOTE %u runs past the end)", k, i);
	if (p->filesz > ELF_MAX_NOTES_SIZE)
		return boot_fail(ctx, -ENOEXEC, "--kernel %s: PT_NOTE %u is larger than 1 MiB",
				 k, i);
	buf = malloc(p->filesz);
	if (!buf)
		return boot_fail(ctx, -ENOMEM, "--kernel %s: out of memory", k);
	ret = boot_pread(ctx->kernel_fd, buf, p->filesz, p->offset);
	if (ret)
		ret = boot_fail(ctx, ret, "--kernel %s: reading PT_NOTE %u: %s", k, i,
				strerror(-ret));
	else
		ret = scan_notes(ctx, buf, p->filesz, p->align == 8 ? 8 : 4, entry);
	free(buf);
	return ret;
}

/* 1 and *entry set when a PT_NOTE holds the PVH entry, 0 when none does. */
static int find_pvh_entry(struct boot_ctx *ctx, const struct elf_phdr *ph, unsigned n,
			  uint64_t *entry)
{
	for (unsigned i = 0; i < n; i++) {
		int ret;

		if (ph[i].type != PT_NOTE)
			continue;
		ret = read_note_segment(ctx, &ph[i], i, entry);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct elf_segment *segment_at(const struct boot_ctx *ctx, uint64_t gpa)
{
	for (unsigned i = 0; i < ctx->nsegs; i++)
		if (gpa >= ctx->segs[i].gpa && gpa - ctx->segs[i].gpa < ctx->segs[i].memsz)
			return &ctx->segs[i];
	return NULL;
}

/* e_entry of vmlinux is physical; accept a virtual one and translate it. */
static int linux64_entry(struct boot_ctx *ctx, uint64_t e_entry)
{
	if (segment_at(ctx, e_entry)) {
		ctx->entry = e_entry;
		return 0;
	}
	for (unsigned i = 0; i < ctx->nsegs; i++) {
		const struct elf_segment *s = &ctx->segs[i];

		if (e_entry >= s->vaddr && e_entry - s->vaddr < s->memsz) {
			ctx->entry = s->gpa + (e_entry - s->vaddr);
			return 0;
		}
	}
	return boot_fail(ctx, -ENOEXEC, "--kernel %s: entry point 0x%llx is in no PT_LOAD segment",
			 ctx->req->kernel, (unsigned long long)e_entry);
}

static int choose_entry(struct boot_ctx *ctx, const struct elf_header *h,
			const struct elf_phdr *ph)
{
	uint64_t pvh = 0;
	int ret = find_pvh_entry(ctx, ph, h->phnum, &pvh);

	if (ret < 0)
		return ret;
	if (ret == 1) {
		if (!segment_at(ctx, pvh))
			return boot_fail(ctx, -ENOEXEC,
					 "--kernel %s: PVH entry 0x%llx is in no PT_LOAD segment",
					 ctx->req->kernel, (unsigned long long)pvh);
		ctx->mode = BOOT_ENTRY_PVH32;
		ctx->entry = pvh;
		return 0;
	}
	if (!h->is64)
		return boot_fail(ctx, -ENOEXEC,
				 "--kernel %s: 32-bit ELF without a PVH entry note "
				 "(Xen PHYS32_ENTRY); husk enters 32-bit kernels only through PVH",
				 ctx->req->kernel);
	ctx->mode = BOOT_ENTRY_LINUX64;
	return linux64_entry(ctx, h->entry);
}

/* The initrd goes above every segment that lies below 4 GiB. */
static void set_limits(struct boot_ctx *ctx)
{
	ctx->kernel_end = LAYOUT_HIGH_RAM_START;
	for (unsigned i = 0; i < ctx->nsegs; i++) {
		uint64_t end = ctx->segs[i].gpa + ctx->segs[i].memsz;

		if (ctx->segs[i].gpa < LAYOUT_LOW_RAM_MAX && end > ctx->kernel_end)
			ctx->kernel_end = end;
	}
	ctx->initrd_limit = guest_mem_low_end(ctx->mem);
	ctx->cmdline_max = LAYOUT_CMDLINE_MAX - 1;
}

int elf_probe(struct boot_ctx *ctx, const uint8_t *head, size_t headlen)
{
	struct elf_header h;
	struct elf_phdr *ph = NULL;
	int ret;

	ret = check_ident(ctx, head, headlen);
	if (ret)
		return ret;
	if (head[EI_CLASS] == ELFCLASS64)
		read_ehdr64(&h, head);
	else
		read_ehdr32(&h, head);
	ret = check_ehdr(ctx, &h);
	if (!ret)
		ret = read_phdrs(ctx, &h, &ph);
	if (!ret)
		ret = collect_segments(ctx, ph, h.phnum);
	if (!ret)
		ret = choose_entry(ctx, &h, ph);
	free(ph);
	if (!ret)
		set_limits(ctx);
	return ret;
}

int elf_load(struct boot_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nsegs; i++) {
		const struct elf_segment *s = &ctx->segs[i];
		uint8_t *hva = gpa_to_hva(ctx->mem, s->gpa, s->memsz);
		int ret = hva ? 0 : -EFAULT;

		if (!ret)
			ret = boot_copy_to_guest(ctx->mem, ctx->kernel_fd, s->offset, s->filesz,
						 s->gpa);
		if (ret)
			return boot_fail(ctx, ret, "--kernel %s: loading PT_LOAD %u: %s",
					 ctx->req->kernel, s->index, strerror(-ret));
		guest_mem_zero(ctx->mem, s->gpa + s->filesz, s->memsz - s->filesz);
	}
	return 0;
}
