// SPDX-License-Identifier: MIT
/*
 * The smp check: find the CPUs (MP table, else ACPI MADT), start every AP
 * with INIT-SIPI-SIPI through trampoline.S and count the ones that reach
 * long mode.
 */
#include "testguest.h"

#define MAX_CPUS	256
#define ICR_INIT	0x4500	/* INIT, level assert */
#define ICR_SIPI	0x4600	/* start-up, level assert */
#define TABLE_LIMIT	LAYOUT_LOW_RAM_MAX

struct cpu_list {
	int n;
	const char *source;
	uint8_t apic_id[MAX_CPUS];
};

static int sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const uint8_t *scan(uint64_t start, uint64_t len, const char *sig,
			   size_t siglen, size_t sumlen)
{
	uint64_t a;

	for (a = start; a + sumlen <= start + len; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;

		if (!memcmp(p, sig, siglen) && !sum8(p, sumlen))
			return p;
	}
	return NULL;
}

/* Where BIOS tables may hide: EBDA, last KiB of base memory, BIOS ROM. */
static const uint8_t *scan_bios(const char *sig, size_t siglen, size_t sumlen,
				uint64_t rom_start)
{
	uint64_t ebda = (uint64_t)*(volatile uint16_t *)0x40e << 4;
	const uint8_t *p = NULL;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		p = scan(ebda, 1024, sig, siglen, sumlen);
	if (!p)
		p = scan(LAYOUT_EBDA_START, 1024, sig, siglen, sumlen);
	if (!p)
		p = scan(rom_start, 0x100000 - rom_start, sig, siglen, sumlen);
	return p;
}

static void add_cpu(struct cpu_list *cpus, uint32_t apic_id)
{
	if (cpus->n < MAX_CPUS && apic_id < 0xff)
		cpus->apic_id[cpus->n++] = apic_id;
}

static int from_mptable(struct cpu_list *cpus)
{
	const uint8_t *fp = scan_bios("_MP_", 4, 16, LAYOUT_BIOS_START);
	const uint8_t *ct, *e, *end;
	uint32_t phys;

	if (!fp)
		return -1;
	phys = *(const uint32_t *)(fp + 4);
	if (!phys || phys >= TABLE_LIMIT)
		return -1;
	ct = (const uint8_t *)(uintptr_t)phys;
	if (memcmp(ct, "PCMP", 4))
		return -1;
	e = ct + 0x2c;
	end = ct + *(const uint16_t *)(ct + 4);
	while (e < end) {
		if (e[0] == 0) {		/* processor */
			if (e[3] & 1)
				add_cpu(cpus, e[1]);
			e += 20;
		} else if (e[0] <= 4) {
			e += 8;
		} else {
			break;
		}
	}
	cpus->source = "mptable";
	return cpus->n ? 0 : -1;
}

static const uint8_t *find_rsdp(void)
{
	const uint8_t *p;

	if (boot.rsdp && boot.rsdp < TABLE_LIMIT) {
		p = (const uint8_t *)(uintptr_t)boot.rsdp;
		if (!memcmp(p, "RSD PTR ", 8) && !sum8(p, 20))
			return p;
	}
	return scan_bios("RSD PTR ", 8, 20, 0xe0000);
}

static void parse_madt(const uint8_t *madt, struct cpu_list *cpus)
{
	const uint8_t *e = madt + 44;
	const uint8_t *end = madt + *(const uint32_t *)(madt + 4);

	while (e + 2 <= end && e[1] >= 2) {
		if (e[0] == 0 && (*(const uint32_t *)(e + 4) & 1))
			add_cpu(cpus, e[3]);
		else if (e[0] == 9 && (*(const uint32_t *)(e + 8) & 1))
			add_cpu(cpus, *(const uint32_t *)(e + 4));
		e += e[1];
	}
}

static int from_acpi(struct cpu_list *cpus)
{
	const uint8_t *rsdp = find_rsdp();
	const uint8_t *sdt;
	uint64_t addr;
	int xsdt, i, n;

	if (!rsdp)
		return -1;
	xsdt = rsdp[15] >= 2 && *(const uint64_t *)(rsdp + 24);
	addr = xsdt ? *(const uint64_t *)(rsdp + 24) : *(const uint32_t *)(rsdp + 16);
	if (!addr || addr >= TABLE_LIMIT)
		return -1;
	sdt = (const uint8_t *)(uintptr_t)addr;
	n = (*(const uint32_t *)(sdt + 4) - 36) / (xsdt ? 8 : 4);
	for (i = 0; i < n; i++) {
		const uint8_t *ent = sdt + 36 + i * (xsdt ? 8 : 4);
		uint64_t t = xsdt ? *(const uint64_t *)ent : *(const uint32_t *)ent;

		if (t && t < TABLE_LIMIT &&
		    !memcmp((const void *)(uintptr_t)t, "APIC", 4)) {
			parse_madt((const uint8_t *)(uintptr_t)t, cpus);
			cpus->source = xsdt ? "acpi xsdt" : "acpi rsdt";
			return cpus->n ? 0 : -1;
		}
	}
	return -1;
}

static int wait_ap(uint32_t before, uint64_t us)
{
	uint64_t end = deadline_us(us);

	while (ap_count == before)
		if (deadline_passed(end))
			return -1;
	return 0;
}

static int start_ap(uint32_t apic_id)
{
	uint32_t before = ap_count;
	uint32_t sipi = ICR_SIPI | (AP_TRAMPOLINE >> 12);

	if (lapic_send_ipi(apic_id, ICR_INIT))
		return -1;
	delay_us(1000);
	if (lapic_send_ipi(apic_id, sipi))
		return -1;
	if (!wait_ap(before, 10000))
		return 0;
	if (lapic_send_ipi(apic_id, sipi))
		return -1;
	return wait_ap(before, 1000000);
}

int check_smp(char *why)
{
	static struct cpu_list cpus;
	uint32_t bsp = lapic_id();
	uint32_t base = ap_count;	/* a second run re-INITs the APs */
	uint64_t expect = 0;
	char val[16];
	int i, started = 1;

	memset(&cpus, 0, sizeof(cpus));
	if (from_mptable(&cpus)) {
		memset(&cpus, 0, sizeof(cpus));
		if (from_acpi(&cpus)) {
			snprintf(why, WHY_LEN, "no MP table and no ACPI MADT");
			return -1;
		}
	}
	if (!cmdline_get("expect_cpus", val, sizeof(val)) && parse_uint(val, &expect)) {
		snprintf(why, WHY_LEN, "bad expect_cpus=%s", val);
		return -1;
	}
	memcpy((void *)AP_TRAMPOLINE, ap_trampoline_start,
	       ap_trampoline_end - ap_trampoline_start);
	for (i = 0; i < cpus.n; i++) {
		if (cpus.apic_id[i] == bsp)
			continue;
		if (start_ap(cpus.apic_id[i]))
			printf("smp: APIC %u did not start\n", cpus.apic_id[i]);
	}
	started += ap_count - base;
	printf("smp: %d cpus in the %s, %d running, bsp apic %u\n", cpus.n,
	       cpus.source, started, bsp);
	if (started != cpus.n) {
		snprintf(why, WHY_LEN, "%d of %d cpus started", started, cpus.n);
		return -1;
	}
	if (expect && (uint64_t)cpus.n != expect) {
		snprintf(why, WHY_LEN, "%d cpus, expect_cpus=%llu", cpus.n,
			 (unsigned long long)expect);
		return -1;
	}
	return 0;
}
