/* SPDX-License-Identifier: MIT */
/*
 * Tiny kernels for husk's lifecycle tests: a flat 64-bit ELF (no PVH note),
 * entered by husk in long mode at _start (0x100000) with interrupts off, on
 * husk's identity map. Each prints "tiny: <name>" on COM1, writes the
 * boot-marker port, then does one thing, chosen at build time:
 *   TINY_LOOP       spin forever (a guest that never stops by itself)
 *   TINY_HALT       cli; hlt forever (every vCPU halted, interrupts off)
 *   TINY_EXIT=v     write v (32 bits) to the debug-exit port 0xf4
 *   TINY_I8042      pulse reset through the i8042 (0xfe to port 0x64)
 *   TINY_TRIPLE     load an empty IDT and raise #UD: triple fault
 *   TINY_BADFETCH   jump into the MMIO hole (0xd0000000, no RAM there): KVM
 *                   cannot fetch the instruction, an internal/emulation error
 * Plain integer instructions only (guest ring 0 is emulated on the dev
 * machines, see shared/ENVIRONMENT.md).
 */
#define COM1		0x3f8
#define PORT_MARKER	0x440
#define PORT_EXIT	0xf4

	.text
	.code64
	.globl _start
_start:
	cli
	leaq	msg(%rip), %rsi
	movw	$COM1, %dx
1:	movb	(%rsi), %al
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	incq	%rsi
	jmp	1b
2:	movw	$PORT_MARKER, %dx
	movb	$123, %al
	outb	%al, %dx

#if defined(TINY_LOOP)
3:	jmp	3b
#elif defined(TINY_HALT)
3:	hlt
	jmp	3b
#elif defined(TINY_EXIT)
	movl	$(TINY_EXIT), %eax
	outl	%eax, $PORT_EXIT
3:	jmp	3b
#elif defined(TINY_I8042)
	movb	$0xfe, %al
	outb	%al, $0x64
3:	jmp	3b
#elif defined(TINY_TRIPLE)
	pushq	$0
	pushq	$0
	lidt	(%rsp)
	ud2
3:	jmp	3b
#elif defined(TINY_BADFETCH)
	movl	$0xd0000000, %eax
	jmp	*%rax
#else
#error "pick one of TINY_LOOP TINY_HALT TINY_EXIT TINY_I8042 TINY_TRIPLE TINY_BADFETCH"
#endif

	.section .rodata
msg:	.ascii	"tiny: "
	.ascii	TINY_NAME
	.asciz	"\r\n"
