/* SPDX-License-Identifier: MIT */
#ifndef TESTGUEST_H
#define TESTGUEST_H

/*
 * husk test guest: a freestanding program that boots through PVH or the
 * Linux boot protocol, drops to ring 3 (IOPL 3, user mappings) and runs
 * checks there, reporting on COM1 and exiting through port 0xf4.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "defs.h"		/* shared with the assembly */
#include "layout.h"	/* husk's guest memory map (src/memory) */

/* How ring 0 was entered (RDI on entry to user_main). */
enum boot_kind {
	BOOT_PVH = KIND_PVH,		/* RSI = hvm_start_info */
	BOOT_LINUX64 = KIND_LINUX64,	/* RSI = boot_params, 64-bit entry */
	BOOT_LINUX32 = KIND_LINUX32,	/* RSI = boot_params, 32-bit entry */
	BOOT_REALMODE = KIND_REALMODE,	/* RSI = boot_params from setup.S */
};

#define E820_MAX	128
struct mem_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* What the boot path gave us, copied out of the loader's memory. */
struct boot_info {
	enum boot_kind kind;
	uint64_t info_addr;		/* hvm_start_info or boot_params */
	uint64_t rsdp;			/* PVH: rsdp_paddr, else 0 */
	uint64_t cmdline_addr;
	int cmdline_truncated;
	int nr_map;
	struct mem_range map[E820_MAX];
};

extern struct boot_info boot;
extern char cmdline[];

/* ---- lib.c */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- serial.c */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- io */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* ---- time.c: TSC-based deadlines (bounds only, not precise) */
void time_init(void);
uint64_t deadline_us(uint64_t us);
int deadline_passed(uint64_t deadline);
void delay_us(uint64_t us);
uint64_t tsc_to_us(uint64_t cycles);

/* ---- cmdline.c */
int cmdline_get(const char *key, char *val, size_t len);
int parse_size(const char *s, uint64_t *out);
int parse_uint(const char *s, uint64_t *out);

/* ---- boot.c */
void boot_collect(enum boot_kind kind, uint64_t info);
const char *boot_kind_name(enum boot_kind kind);

/* ---- paging.c */
void paging_map_high(void);
extern uint64_t pt_pool_end;		/* end of the guest's own memory */

/* ---- apic.c / interrupts */
#define LAPIC_ID	0x020
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TMR_INIT	0x380
#define LAPIC_TMR_CUR	0x390
#define LAPIC_TMR_DIV	0x3e0

extern volatile uint64_t irq_count[256];
void idt_init(void);
void lapic_init(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
int lapic_send_ipi(uint32_t dest, uint32_t icr_lo);
int wait_irq(int vec, uint64_t target, uint64_t timeout_us);

/*
 * ---- checks: each returns 0 (ok), or -1 (failed) or CHECK_SKIP (it cannot
 * run here, e.g. a test device husk was not given) and fills @why
 */
#define WHY_LEN 160
#define CHECK_SKIP 1
int check_serial(char *why);
int check_bootparams(char *why);
int check_e820(char *why);
int check_smp(char *why);
int check_irq(char *why);
int check_msi(char *why);
int check_memory(char *why);
int check_ticker(char *why);
/* The start of @bytes of usable RAM outside the guest's image, or 0 (memtest.c). */
uint64_t mem_scratch(uint64_t bytes);

/* ---- head.S / intr.S */
extern char _image_start[], _image_end[], _bss_start[], _bss_end[];
extern uint64_t pml4[], pdpt_low[];
extern volatile uint32_t ap_count;
extern char ap_trampoline_start[], ap_trampoline_end[];
struct jmp_ctx {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
int ctx_save(struct jmp_ctx *ctx) __attribute__((returns_twice));
void ctx_restore(struct jmp_ctx *ctx, int ret) __attribute__((noreturn));
void sys_call(unsigned nr);
extern volatile uint64_t fault_vec, fault_err, fault_rip, fault_cr2;

#endif
