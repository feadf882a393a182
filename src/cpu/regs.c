// SPDX-License-Identifier: MIT
/* Boot-time register state (Linux 64-bit boot protocol, PVH) and dumps. */
#include "cpu/vcpu.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code64 ? 0 : 1,
		.s = 1,
		.l = code64 ? 1 : 0,
		.g = 1,
	};
}

static void set_boot_segments(struct kvm_sregs *s, const struct boot_entry *e)
{
	bool lm = e->mode == BOOT_ENTRY_LINUX64;
	struct kvm_segment data = flat_segment(e->ds, 0x3, false);

	s->cs = flat_segment(e->cs, 0xb, lm);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct kvm_segment){
		.base = 0, .limit = 0x67, .selector = e->tr, .type = 0xb, .present = 1,
	};
	s->gdt.base = e->gdt_base;
	s->gdt.limit = e->gdt_limit;
	s->idt.base = 0;
	s->idt.limit = 0;
}

static void set_boot_control(struct kvm_sregs *s, const struct boot_entry *e)
{
	if (e->mode == BOOT_ENTRY_LINUX64) {
		s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		s->cr3 = e->cr3;
		s->cr4 = CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
	} else {
		s->cr0 = CR0_PE | CR0_ET;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
	}
}

int regs_set_boot(int fd, const struct boot_entry *e)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	set_boot_segments(&sregs, e);
	set_boot_control(&sregs, e);
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = e->rip;
	regs.rsp = e->rsp;
	regs.rbp = e->rsp;
	regs.rsi = e->rsi;
	regs.rbx = e->rbx;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return -errno;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	pr_err("  %-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u db=%u l=%u g=%u",
	       name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl,
	       s->present, s->db, s->l, s->g);
}

void regs_dump(int fd, unsigned index)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vCPU %u: cannot read registers: %s", index, strerror(errno));
		return;
	}
	pr_err("vCPU %u registers:", index);
	pr_err("  rip=%016llx rflags=%016llx", r.rip, r.rflags);
	pr_err("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx", r.rax, r.rbx, r.rcx, r.rdx);
	pr_err("  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx", r.rsi, r.rdi, r.rbp, r.rsp);
	pr_err("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx", r.r8, r.r9, r.r10, r.r11);
	pr_err("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx", r.r12, r.r13, r.r14, r.r15);
	pr_err("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx",
	       s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	dump_segment("cs", &s.cs);
	dump_segment("ss", &s.ss);
	dump_segment("ds", &s.ds);
	dump_segment("tr", &s.tr);
	pr_err("  gdt=%016llx/%04x idt=%016llx/%04x", s.gdt.base, s.gdt.limit, s.idt.base,
	       s.idt.limit);
}
