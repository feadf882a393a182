/* SPDX-License-Identifier: MIT */
/*
 * Interrupt entry (ring 0) and the ring-3 context switch helpers.
 *
 * Every vector has a 16-byte stub at intr_stubs + vector * 16 (idt_init()
 * in ring 3 points the IDT at them). Interrupts only count and EOI.
 * Exceptions record what happened and "return" to fault_resume in ring 3,
 * which unwinds to the running check (see main.c).
 */
#include "defs.h"

	.text
	.balign 16
	.globl intr_stubs
intr_stubs:
	.set vector, 0
	.rept 256
	.balign 16
	.if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
	.else
	pushq $0			/* no error code: keep the frame uniform */
	.endif
	pushq $vector
	jmp intr_common
	.set vector, vector + 1
	.endr

/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
intr_common:
	cmpq $32, (%rsp)
	jb exception
	pushq %rax
	pushq %rdx
	movq 16(%rsp), %rax
	lock incq irq_count(,%rax,8)
	movq mmio_ack(,%rax,8), %rdx	/* level-triggered virtio-mmio: */
	testq %rdx, %rdx
	jz 2f
	movl 0x60(%rdx), %edx		/* InterruptStatus */
	pushq %rcx
	movq mmio_ack(,%rax,8), %rcx
	movl %edx, 0x64(%rcx)		/* InterruptACK, line low before EOI */
	popq %rcx
2:	cmpl $VEC_SPURIOUS, %eax
	je 1f
	movl $LAPIC_PHYS + 0xb0, %eax	/* EOI */
	movl $0, (%rax)
1:	popq %rdx
	popq %rax
	addq $16, %rsp
	iretq

exception:
	cmpq $sys_trap, 16(%rsp)
	je sys_dispatch
	pushq %rax
	movq 8(%rsp), %rax
	movq %rax, fault_vec(%rip)
	movq 16(%rsp), %rax
	movq %rax, fault_err(%rip)
	movq 24(%rsp), %rax
	movq %rax, fault_rip(%rip)
	movq %cr2, %rax
	movq %rax, fault_cr2(%rip)
	popq %rax
	addq $16, %rsp
	movq $fault_resume, 0(%rsp)
	movq $SEL_UCODE64, 8(%rsp)
	movq $RFLAGS_USER, 16(%rsp)
	movq $fault_stack_top, 24(%rsp)
	movq $SEL_UDATA, 32(%rsp)
	iretq

/* int ctx_save(struct jmp_ctx *ctx): 0 now, ctx_restore's value later. */
	.globl ctx_save
ctx_save:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	xorl %eax, %eax
	ret

/* void ctx_restore(struct jmp_ctx *ctx, int ret) */
	.globl ctx_restore
ctx_restore:
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	movl %esi, %eax
	jmp *56(%rdi)

	.bss
	.balign 4096
	.globl idt
idt:
	.space 256 * 16
	.globl irq_count
irq_count:
	.space 256 * 8
	.globl mmio_ack
mmio_ack:			/* per vector: virtio-mmio base to ack, or 0 */
	.space 256 * 8
	.globl fault_vec, fault_err, fault_rip, fault_cr2, ap_count
fault_vec:	.quad 0
fault_err:	.quad 0
fault_rip:	.quad 0
fault_cr2:	.quad 0
ap_count:	.long 0

/*
 * Ring 3 enters ring 0 on purpose with a ud2 at sys_trap (int n from ring
 * 3 raises #UD under kvm_pvm, but exceptions are delivered as usual).
 * EAX = SYS_*: set or clear IF in the interrupted RFLAGS, or stop for good.
 * Ring 3 cannot rely on IOPL 3 for sti/cli: kvm_pvm drops IOPL.
 *
 * void sys_call(unsigned nr)
 */
	.text
	.globl sys_call
sys_call:
	movl %edi, %eax
sys_trap:
	ud2
	ret

/* #UD at sys_trap; stack: vector, error code, RIP, CS, RFLAGS, RSP, SS */
sys_dispatch:
	addq $16, %rsp
	addq $2, (%rsp)			/* past the ud2 */
	cmpl $SYS_STI, %eax
	je 1f
	cmpl $SYS_CLI, %eax
	je 2f
	cli
3:	hlt
	jmp 3b
1:	orq $0x200, 16(%rsp)
	iretq
2:	andq $~0x200, 16(%rsp)
	iretq
