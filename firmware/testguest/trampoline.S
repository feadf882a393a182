/* SPDX-License-Identifier: MIT */
/*
 * AP start-up code. smp.c copies [ap_trampoline_start, ap_trampoline_end)
 * to AP_TRAMPOLINE (below 1 MiB) and sends INIT-SIPI-SIPI with vector
 * AP_TRAMPOLINE >> 12. The AP loads the BSP's GDT and page tables, enters
 * long mode and jumps to ap_long_mode (head.S), which counts it and halts.
 */
#include "defs.h"

#define TRAMP(sym)	(AP_TRAMPOLINE + (sym) - ap_trampoline_start)

	.section .rodata
	.code16
	.globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_gdtr - ap_trampoline_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $TRAMP(ap_pm32)

	.code32
ap_pm32:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
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
	ljmp $SEL_KCODE64, $ap_long_mode

	.balign 8
ap_gdtr:
	.word 0x37			/* gdt_end - gdt - 1 in head.S */
	.long gdt
ap_trampoline_end:
	.code64
