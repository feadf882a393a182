/* SPDX-License-Identifier: MIT */
/*
 * Entry points and the little ring-0 setup the test guest does.
 *
 * Ring 0 is emulated (~1 us per instruction) on husk's development
 * machines, so everything here is straight-line code over static tables:
 * GDT, TSS, page tables (built by the assembler) and an IDT that ring 3
 * fills in. Ring 0 ends with an iretq to user_main() in ring 3.
 *
 *   LOAD_ADDR + 0x000  32-bit boot protocol entry (code32_start), ESI = zero page
 *   LOAD_ADDR + 0x010  32-bit entry used by our real-mode setup code
 *   LOAD_ADDR + 0x020  PVH entry (32-bit, paging off), EBX = hvm_start_info
 *   LOAD_ADDR + 0x200  64-bit boot protocol entry, RSI = zero page
 */
#include "defs.h"

	.section .head.text, "ax"
	.code32
	.globl entry32
entry32:
	cli
	movl $KIND_LINUX32, %edi
	jmp common32

	.org ENTRY_RM32_OFF
entry_rm32:
	cli
	movl $KIND_REALMODE, %edi
	jmp common32

	.org ENTRY_PVH_OFF
	.globl entry_pvh
entry_pvh:
	cli
	movl %ebx, %esi
	movl $KIND_PVH, %edi
	/* fall through */

/* 32-bit protected mode, paging off: enable long mode on our tables. */
common32:
	movl $intr_stack_top, %esp
	lgdt gdt_desc
	movl $0x20, %eax		/* CR4.PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl $0x80000011, %eax		/* PG | ET | PE */
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $common64_from32

	.code64
common64_from32:
	movl %esi, %esi			/* upper halves are undefined */
	movl %edi, %edi
	jmp common64

	.org ENTRY64_OFFSET
	.globl entry64
entry64:
	cli
	movl $KIND_LINUX64, %edi

/* Long mode, any identity map, RDI = boot kind, RSI = boot info. */
common64:
	movq $intr_stack_top, %rsp
	lgdt gdt_desc(%rip)
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	pushq $SEL_KCODE64
	pushq $1f
	lretq
1:
	/* TSS descriptor: limit TSS_LIMIT, type 0x89 (available 64-bit TSS) */
	movl $tss, %edx
	movl %edx, %eax
	shll $16, %eax
	orl $TSS_LIMIT, %eax
	movl %eax, gdt + SEL_TSS(%rip)
	movl %edx, %eax
	shrl $16, %eax
	andl $0xff, %eax
	andl $0xff000000, %edx
	orl %edx, %eax
	orl $0x8900, %eax
	movl %eax, gdt + SEL_TSS + 4(%rip)
	movl $SEL_TSS, %eax
	ltr %ax
	lidt idt_desc(%rip)
	movq $pml4, %rax
	movq %rax, %cr3
	/* to ring 3: user_main(kind, info) with IOPL 3 */
	pushq $SEL_UDATA
	pushq $user_stack_top
	pushq $RFLAGS_USER
	pushq $SEL_UCODE64
	pushq $user_main
	iretq

/* APs arrive here from the trampoline (trampoline.S), in long mode. */
	.globl ap_long_mode
ap_long_mode:
	lock incl ap_count(%rip)
2:	cli
	hlt
	jmp 2b

/* PVH ELF note: XEN_ELFNOTE_PHYS32_ENTRY (18), owner "Xen" */
	.section .note.xen, "a", @note
	.balign 4
	.long 4
	.long 8
	.long 18
	.asciz "Xen"
	.balign 4
	.quad LOAD_ADDR + ENTRY_PVH_OFF

/*
 * Identity map of the first 4 GiB with user-accessible 2 MiB pages; the
 * MMIO hole [3 GiB, 4 GiB) is uncached. RAM above 4 GiB is added by ring 3
 * (paging.c) into pdpt_low and, past 512 GiB, new PML4 slots.
 */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl pml4, pdpt_low
pml4:
	.quad pdpt_low + 7
	.fill 511, 8, 0
pdpt_low:
	.quad pd_low + 0x0000 + 7
	.quad pd_low + 0x1000 + 7
	.quad pd_low + 0x2000 + 7
	.quad pd_low + 0x3000 + 7
	.fill 508, 8, 0
pd_low:
	.set addr, 0
	.rept 1536
	.quad addr + 0x87		/* P RW US PS */
	.set addr, addr + 0x200000
	.endr
	.rept 512
	.quad addr + 0x9f		/* P RW US PWT PCD PS */
	.set addr, addr + 0x200000
	.endr

	.data
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9a000000ffff	/* 0x18 kernel code, 32-bit (APs) */
	.quad 0x00cff2000000ffff	/* 0x20 user data */
	.quad 0x00affa000000ffff	/* 0x28 user code, 64-bit */
	.quad 0, 0			/* 0x30 TSS, filled in at boot */
gdt_end:

	.balign 8
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.balign 8
idt_desc:
	.word 256 * 16 - 1
	.quad idt

/*
 * The TSS has an I/O permission bitmap allowing every port: a host may
 * not let ring 3 keep IOPL 3 (kvm_pvm clears it on iretq), and the bitmap
 * is what grants port access to ring 3 then.
 */
	.balign 16
tss:
	.long 0
	.quad intr_stack_top		/* RSP0 */
	.fill 90, 1, 0
	.word 104			/* I/O bitmap base */
	.fill 8192, 1, 0		/* all 65536 ports allowed */
	.byte 0xff

	.section .stack, "aw", @nobits
	.balign 4096
	.space INTR_STACK_SIZE
	.globl intr_stack_top
intr_stack_top:
	.space USER_STACK_SIZE
	.globl user_stack_top
user_stack_top:
	.space FAULT_STACK_SIZE
	.globl fault_stack_top
fault_stack_top:
