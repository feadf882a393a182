// SPDX-License-Identifier: MIT
/*
 * Deadlines and benchmark durations from the TSC. Its rate comes from the
 * hypervisor timing leaf or CPUID 0x15/0x16 when they say, else from 50 ms
 * of PIT channel 2 (what Linux does), else an assumed 3 GHz. Benchmarks
 * divide by it, so a guess would skew their absolute numbers.
 */
#include "testguest.h"

#define DEFAULT_TSC_KHZ	3000000ULL
#define PIT_HZ		1193182ULL
#define PIT_CAL_MS	50
#define PORT_PIT_CH2	0x42
#define PORT_PIT_CMD	0x43
#define PORT_SYS_CTRL	0x61		/* bit 0: channel 2 gate, bit 5: its OUT */

static uint64_t tsc_khz = DEFAULT_TSC_KHZ;

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static uint64_t tsc_khz_from_cpuid(void)
{
	uint32_t r[4];
	uint32_t max;

	cpuid(0x40000000, r);		/* hypervisor leaves */
	if (r[0] >= 0x40000010) {
		cpuid(0x40000010, r);
		if (r[0])
			return r[0];
	}
	cpuid(0, r);
	max = r[0];
	if (max >= 0x15) {
		cpuid(0x15, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0] / 1000;
	}
	if (max >= 0x16) {
		cpuid(0x16, r);
		if (r[0])
			return (uint64_t)r[0] * 1000;
	}
	return 0;
}

static int khz_plausible(uint64_t khz)
{
	return khz >= 100000 && khz <= 10000000;
}

/* TSC cycles while PIT channel 2 counts PIT_CAL_MS down in mode 0; 0: no PIT. */
static uint64_t tsc_khz_from_pit(void)
{
	uint32_t latch = PIT_HZ * PIT_CAL_MS / 1000;
	uint64_t t0, t1, give_up = 10000000000ULL;	/* > 1 s at 10 GHz */

	outb(PORT_SYS_CTRL, (inb(PORT_SYS_CTRL) & ~0x02) | 0x01);
	outb(PORT_PIT_CMD, 0xb0);	/* channel 2, lo/hi byte, mode 0, binary */
	outb(PORT_PIT_CH2, latch & 0xff);
	outb(PORT_PIT_CH2, latch >> 8);
	t0 = rdtsc();
	do {
		t1 = rdtsc();
		if (t1 - t0 > give_up)
			return 0;
	} while (!(inb(PORT_SYS_CTRL) & 0x20));
	return (t1 - t0) / PIT_CAL_MS;
}

void time_init(void)
{
	const char *src = "cpuid";
	uint64_t khz = tsc_khz_from_cpuid();

	if (!khz_plausible(khz)) {
		src = "pit";
		khz = tsc_khz_from_pit();
	}
	if (khz_plausible(khz))
		tsc_khz = khz;
	else
		src = "assumed";
	printf("tsc: %llu kHz (%s)\n", (unsigned long long)tsc_khz, src);
}

uint64_t deadline_us(uint64_t us)
{
	return rdtsc() + us * tsc_khz / 1000;
}

int deadline_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void delay_us(uint64_t us)
{
	uint64_t end = deadline_us(us);

	while (!deadline_passed(end))
		cpu_relax();
}

uint64_t tsc_to_us(uint64_t cycles)
{
	return cycles * 1000 / tsc_khz;
}
