// SPDX-License-Identifier: MIT
/*
 * Deadlines from the TSC. They only bound waits, so the TSC rate need not
 * be exact: CPUID 0x15/0x16 or the hypervisor timing leaf when they say,
 * else an assumed 3 GHz.
 */
#include "testguest.h"

#define DEFAULT_TSC_KHZ	3000000ULL

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

void time_init(void)
{
	uint64_t khz = tsc_khz_from_cpuid();

	if (khz >= 100000 && khz <= 10000000)
		tsc_khz = khz;
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
