// SPDX-License-Identifier: MIT
/*
 * IDT, local APIC and the interrupt checks (irq, msi). All of it runs in
 * ring 3: the IDT and the LAPIC page are user-accessible; sti/cli go
 * through sys_call() (intr.S).
 */
#include "testguest.h"

#define GATE_INTR	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define ICR_BUSY	(1u << 12)
#define LVT_MASKED	(1u << 16)
#define LVT_PERIODIC	(1u << 17)
#define ICR_SELF	(1u << 18)
#define TIMER_COUNT	1000000	/* 1 ms at KVM's 1 GHz APIC bus, divide 1 */
#define TIMER_DIV1	0x0b
#define LAPIC_LVT_LINT0	0x350

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
};

extern struct idt_gate idt[256];
extern char intr_stubs[];

static void set_gate(int vec, uintptr_t handler, uint8_t type)
{
	struct idt_gate *g = &idt[vec];

	g->off_lo = handler & 0xffff;
	g->sel = SEL_KCODE64;
	g->ist = 0;
	g->type = type;
	g->off_mid = (handler >> 16) & 0xffff;
	g->off_hi = handler >> 32;
	g->zero = 0;
}

void idt_init(void)
{
	int v;

	for (v = 0; v < 256; v++)
		set_gate(v, (uintptr_t)intr_stubs + v * 16, GATE_INTR);
}

static volatile uint32_t *lapic_reg(uint32_t reg)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_PHYS + reg);
}

uint32_t lapic_read(uint32_t reg)
{
	return *lapic_reg(reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	*lapic_reg(reg) = v;
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

/*
 * A BIOS may leave the 8259 PICs on vectors 0x08-0x0f (q35 + SeaBIOS):
 * move them out of the exception range and mask every line.
 */
static void pic_disable(void)
{
	static const uint8_t seq[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x28 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0xff }, { 0xa1, 0xff },
	};
	size_t i;

	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		outb(seq[i][0], seq[i][1]);
}

void lapic_init(void)
{
	pic_disable();
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);	/* software enable */
	lapic_write(0x080, 0);				/* TPR: accept all */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
}

int lapic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
	uint64_t end = deadline_us(100000);

	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		if (deadline_passed(end))
			return -1;
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	return 0;
}

int wait_irq(int vec, uint64_t target, uint64_t timeout_us)
{
	uint64_t end = deadline_us(timeout_us);

	while (irq_count[vec] < target)
		if (deadline_passed(end))
			return -1;
	return 0;
}

static void timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TMR_INIT, 0);
}

static int check_timer(char *why)
{
	uint64_t start = irq_count[VEC_TIMER];
	uint64_t t0 = rdtsc();
	int rc;

	lapic_write(LAPIC_TMR_DIV, TIMER_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TMR_INIT, TIMER_COUNT);
	rc = wait_irq(VEC_TIMER, start + 10, 2000000);
	timer_stop();
	if (rc) {
		snprintf(why, WHY_LEN, "LAPIC timer: %llu ticks in 2 s, want 10",
			 (unsigned long long)(irq_count[VEC_TIMER] - start));
		return -1;
	}
	printf("irq: 10 timer ticks in %llu us\n",
	       (unsigned long long)tsc_to_us(rdtsc() - t0));
	return 0;
}

static int check_self_ipi(char *why)
{
	uint64_t start = irq_count[VEC_SELF_IPI];

	if (lapic_send_ipi(0, ICR_SELF | VEC_SELF_IPI)) {
		snprintf(why, WHY_LEN, "ICR stays busy");
		return -1;
	}
	if (wait_irq(VEC_SELF_IPI, start + 1, 1000000)) {
		snprintf(why, WHY_LEN, "self-IPI vector %#x did not arrive",
			 VEC_SELF_IPI);
		return -1;
	}
	return 0;
}

int check_irq(char *why)
{
	uint32_t svr = lapic_read(LAPIC_SVR);

	if (!(svr & 0x100)) {
		snprintf(why, WHY_LEN, "LAPIC not enabled (SVR %#x)", svr);
		return -1;
	}
	if (check_timer(why))
		return -1;
	return check_self_ipi(why);
}

int check_msi(char *why)
{
	uint32_t dest = lapic_id();
	uint64_t start = irq_count[VEC_MSI];

	/* an absent port reads all ones; husk's test-MSI port reads 0 */
	if (inl(PORT_TEST_MSI) == 0xffffffffu) {
		snprintf(why, WHY_LEN, "no test-MSI port at %#x (husk --test-devices)",
			 PORT_TEST_MSI);
		return CHECK_SKIP;
	}
	outl(PORT_TEST_MSI, dest << 8 | VEC_MSI);
	if (wait_irq(VEC_MSI, start + 1, 1000000)) {
		snprintf(why, WHY_LEN, "MSI vector %#x to APIC %u did not arrive",
			 VEC_MSI, dest);
		return -1;
	}
	if (irq_count[VEC_MSI] != start + 1) {
		snprintf(why, WHY_LEN, "MSI arrived %llu times",
			 (unsigned long long)(irq_count[VEC_MSI] - start));
		return -1;
	}
	return 0;
}
