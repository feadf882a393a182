/* SPDX-License-Identifier: MIT */
#ifndef TESTGUEST_DEFS_H
#define TESTGUEST_DEFS_H

/* Constants shared by the C code and the assembly (no C syntax here). */

#define LOAD_ADDR	0x100000	/* image, code32_start, pref_address */
#define ENTRY64_OFFSET	0x200		/* 64-bit boot protocol entry */
#define ENTRY_RM32_OFF	0x10		/* 32-bit entry used by setup.S */
#define ENTRY_PVH_OFF	0x20		/* PVH (XEN_ELFNOTE_PHYS32_ENTRY) */

#define KIND_PVH	1
#define KIND_LINUX64	2
#define KIND_LINUX32	3
#define KIND_REALMODE	4

/* sys_call() from ring 3 (intr.S) */
#define SYS_HALT	0	/* cli; hlt forever */
#define SYS_STI		1	/* set IF */
#define SYS_CLI		2	/* clear IF */

/* GDT selectors */
#define SEL_KCODE64	0x08
#define SEL_KDATA	0x10
#define SEL_KCODE32	0x18
#define SEL_UDATA	0x23	/* 0x20 | RPL 3 */
#define SEL_UCODE64	0x2b	/* 0x28 | RPL 3 */
#define SEL_TSS		0x30
#define TSS_LIMIT	(104 + 8192)	/* header + I/O bitmap + 0xff */

#define RFLAGS_USER	0x3002	/* IOPL 3, IF clear (sys_call(SYS_STI)) */

#define VEC_TIMER	0x30
#define VEC_SELF_IPI	0x31
#define VEC_MSI		0x32
#define VEC_SPURIOUS	0xff

#define LAPIC_PHYS	0xfee00000
#define AP_TRAMPOLINE	0x8000	/* SIPI vector 0x08; free once booted */

#define USER_STACK_SIZE	0x8000
#define INTR_STACK_SIZE	0x2000
#define FAULT_STACK_SIZE 0x1000


#endif
