/* SPDX-License-Identifier: MIT */
/*
 * bzImage setup sectors: the Linux boot protocol header and a small
 * real-mode entry for loaders that start the kernel in real mode (QEMU's
 * linuxboot option ROM, qboot, old boot loaders).
 *
 * The real-mode code builds a struct boot_params at setup + 0x1000 (header
 * copied from what the loader filled in, memory map from int 0x15 E820,
 * else E801), switches to 32-bit protected mode and jumps to the image's
 * real-mode 32-bit entry with ESI = boot_params. mkbzimage patches
 * setup_sects, syssize and init_size.
 */
#include "defs.h"

#define BP		0x1000		/* boot_params, relative to the setup */
#define STACK_TOP	0x3000
#define BP_E820_ENTRIES	0x1e8
#define BP_E820_TABLE	0x2d0
#define HDR_START	0x1f1
#define HDR_END		0x26c
#define SMAP		0x534d4150

	.section .setup, "ax"
	.code16
	.globl setup_start
setup_start:
	.org HDR_START
setup_sects:	.byte 0			/* patched */
root_flags:	.word 0
syssize:	.long 0			/* patched */
ram_size:	.word 0
vid_mode:	.word 0xffff
root_dev:	.word 0
boot_flag:	.word 0xaa55

	.org 0x200
	.byte 0xeb, start_of_setup - 0x202	/* jmp short */
	.ascii "HdrS"
version:	.word 0x020c
realmode_swtch:	.long 0
start_sys_seg:	.word 0x1000
kernel_version:	.word kver - 0x200
type_of_loader:	.byte 0
loadflags:	.byte 0x01		/* LOADED_HIGH */
setup_move_size: .word 0x8000
code32_start:	.long LOAD_ADDR
ramdisk_image:	.long 0
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0
initrd_addr_max: .long 0x7fffffff
kernel_alignment: .long 0x100000
relocatable:	.byte 0
min_alignment:	.byte 12
xloadflags:	.word 0x0001		/* XLF_KERNEL_64 */
cmdline_size:	.long 0xffff
hw_subarch:	.long 0
hw_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
pref_address:	.quad LOAD_ADDR
init_size:	.long 0			/* patched */
handover_offset: .long 0

	.org HDR_END
start_of_setup:
	cli
	cld
	movw %cs, %ax			/* CS = setup segment + 0x20 */
	subw $0x20, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $STACK_TOP, %sp
	pushw %ax			/* normalise CS to the setup segment */
	pushw $1f
	lretw
1:
	call clear_bp
	call copy_header
	call get_e820
	cmpb $0, BP + BP_E820_ENTRIES
	jne 2f
	call get_e801
2:
	jmp to_protected

clear_bp:
	movw $BP, %di
	movw $1024, %cx
	xorl %eax, %eax
	rep stosl
	ret

copy_header:
	movw $HDR_START, %si
	movw $BP + HDR_START, %di
	movw $HDR_END - HDR_START, %cx
	rep movsb
	ret

/* int 0x15 EAX=0xe820 into the zero page's e820_table. */
get_e820:
	xorl %ebx, %ebx
	movw $BP + BP_E820_TABLE, %di
3:
	movl $0xe820, %eax
	movl $SMAP, %edx
	movl $20, %ecx
	int $0x15
	jc 4f
	cmpl $SMAP, %eax
	jne 4f
	movl 8(%di), %eax		/* drop empty entries */
	orl 12(%di), %eax
	jz 7f
	incb BP + BP_E820_ENTRIES
	addw $20, %di
7:
	cmpb $128, BP + BP_E820_ENTRIES
	jae 4f
	testl %ebx, %ebx
	jnz 3b
4:
	ret

/* Fallback: int 0x12 (base memory) and int 0x15 AX=0xe801. */
get_e801:
	movw $BP + BP_E820_TABLE, %di
	int $0x12			/* AX = KiB below the EBDA */
	movzwl %ax, %eax
	shll $10, %eax
	xorl %edx, %edx
	call add_entry
	movw $0xe801, %ax
	xorw %bx, %bx
	xorw %dx, %dx
	int $0x15
	jc 5f
	pushw %bx			/* 64 KiB blocks above 16 MiB */
	movzwl %ax, %eax		/* KiB between 1 and 16 MiB */
	shll $10, %eax
	movl $0x100000, %edx
	call add_entry
	popw %ax
	movzwl %ax, %eax
	shll $16, %eax
	movl $0x1000000, %edx
	call add_entry
5:
	ret

/* Append RAM entry [EDX, EDX + EAX) at DI unless it is empty. */
add_entry:
	testl %eax, %eax
	jz 6f
	movl %edx, 0(%di)
	movl $0, 4(%di)
	movl %eax, 8(%di)
	movl $0, 12(%di)
	movl $1, 16(%di)
	addw $20, %di
	incb BP + BP_E820_ENTRIES
6:
	ret

to_protected:
	inb $0x92, %al			/* fast A20 */
	orb $2, %al
	andb $0xfe, %al
	outb %al, $0x92
	xorl %eax, %eax			/* linear address of the setup */
	movw %ds, %ax
	shll $4, %eax
	movl %eax, %esi
	addl $BP, %esi
	addl $gdt, %eax
	movl %eax, gdtr + 2
	lgdtl gdtr
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	ljmpl $0x08, $LOAD_ADDR + ENTRY_RM32_OFF

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08 code, 32-bit flat */
	.quad 0x00cf92000000ffff	/* 0x10 data, flat */
gdt_end:
gdtr:
	.word gdt_end - gdt - 1
	.long 0

kver:
	.asciz "husk-testguest"
