// SPDX-License-Identifier: MIT
/*
 * MP table (MultiProcessor Specification 1.4): how a guest without ACPI
 * finds its CPUs, its I/O APIC and the ISA interrupt routing. Written at
 * LAYOUT_BIOS_START (in the BIOS area the kernel scans): the floating
 * pointer, then the configuration table right after it.
 */
#include <errno.h>
#include <string.h>

#include "boot/boot_internal.h"
#include "boot/mptable.h"
#include "memory/layout.h"

#define MP_CPU_SIGNATURE	0x600		/* family 6 */
#define MP_CPU_FEATURES		0x201		/* CPUID.1:EDX FPU | APIC */
#define MP_CONFIG_GPA		(LAYOUT_BIOS_START + sizeof(struct mp_floating_pointer))
#define MP_LOCAL_INTERRUPTS	2
#define MP_IO_INTERRUPTS	(MP_ISA_IRQS - 1)	/* IRQ 2 is the cascade */

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return (uint8_t)-sum;
}

static size_t config_size(unsigned ncpus)
{
	return sizeof(struct mp_config_header) + ncpus * sizeof(struct mp_processor) +
	       sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +
	       (MP_IO_INTERRUPTS + MP_LOCAL_INTERRUPTS) * sizeof(struct mp_interrupt);
}

static uint8_t *put_processors(uint8_t *p, unsigned ncpus)
{
	for (unsigned i = 0; i < ncpus; i++) {
		struct mp_processor cpu = {
			.type = MP_ENTRY_PROCESSOR, .apic_id = (uint8_t)i,
			.apic_version = MP_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = MP_CPU_SIGNATURE, .features = MP_CPU_FEATURES,
		};

		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	return p;
}

static uint8_t *put_bus_and_ioapic(uint8_t *p, uint8_t ioapic_id)
{
	struct mp_bus bus = { .type = MP_ENTRY_BUS, .bus_id = MP_ISA_BUS_ID };
	struct mp_ioapic ioapic = {
		.type = MP_ENTRY_IOAPIC, .apic_id = ioapic_id, .version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED, .addr = (uint32_t)LAYOUT_IOAPIC_BASE,
	};

	memcpy(bus.bus_type, "ISA   ", sizeof(bus.bus_type));
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	memcpy(p, &ioapic, sizeof(ioapic));
	return p + sizeof(ioapic);
}

/* ISA IRQ n -> IOAPIC pin n, except IRQ 0 (the PIT) -> pin 2, as on PCs. */
static uint8_t *put_io_interrupts(uint8_t *p, uint8_t ioapic_id)
{
	for (unsigned irq = 0; irq < MP_ISA_IRQS; irq++) {
		struct mp_interrupt e = {
			.type = MP_ENTRY_IO_INTERRUPT, .irq_type = MP_INT,
			.src_bus = MP_ISA_BUS_ID, .src_irq = (uint8_t)irq,
			.dst_apic = ioapic_id, .dst_pin = (uint8_t)(irq == 0 ? 2 : irq),
		};

		if (irq == 2)
			continue;
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	return p;
}

/* The PIC's output on LINT0 (virtual wire), NMI on LINT1, for all CPUs. */
static uint8_t *put_local_interrupts(uint8_t *p)
{
	static const uint8_t types[MP_LOCAL_INTERRUPTS] = { MP_EXTINT, MP_NMI };

	for (unsigned lint = 0; lint < MP_LOCAL_INTERRUPTS; lint++) {
		struct mp_interrupt e = {
			.type = MP_ENTRY_LOCAL_INTERRUPT, .irq_type = types[lint],
			.src_bus = MP_ISA_BUS_ID, .dst_apic = MP_ALL_LAPICS,
			.dst_pin = (uint8_t)lint,
		};

		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	return p;
}

static void put_config_header(uint8_t *table, unsigned ncpus, size_t size)
{
	struct mp_config_header h = {
		.base_length = (uint16_t)size, .spec_rev = MP_SPEC_REV_1_4,
		.entry_count = (uint16_t)(ncpus + 2 + MP_IO_INTERRUPTS + MP_LOCAL_INTERRUPTS),
		.lapic_addr = (uint32_t)LAYOUT_LAPIC_BASE,
	};

	memcpy(h.signature, MP_CONFIG_SIGNATURE, 4);
	memcpy(h.oem_id, "HUSK    ", sizeof(h.oem_id));
	memcpy(h.product_id, "HUSK VM     ", sizeof(h.product_id));
	memcpy(table, &h, sizeof(h));
	table[offsetof(struct mp_config_header, checksum)] = checksum(table, size);
}

static void put_floating_pointer(uint8_t *p)
{
	struct mp_floating_pointer f = {
		.config_table = (uint32_t)MP_CONFIG_GPA, .length = 1,
		.spec_rev = MP_SPEC_REV_1_4,
	};

	memcpy(f.signature, MP_FLOATING_SIGNATURE, 4);
	f.checksum = checksum(&f, sizeof(f));
	memcpy(p, &f, sizeof(f));
}

int mptable_write(struct guest_mem *mem, unsigned ncpus)
{
	size_t size = config_size(ncpus);
	uint8_t *base, *p;

	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	if (sizeof(struct mp_floating_pointer) + size > LAYOUT_BIOS_END - LAYOUT_BIOS_START)
		return -E2BIG;
	base = gpa_to_hva(mem, LAYOUT_BIOS_START, sizeof(struct mp_floating_pointer) + size);
	if (!base)
		return -ENOMEM;
	memset(base, 0, sizeof(struct mp_floating_pointer) + size);
	p = base + sizeof(struct mp_floating_pointer) + sizeof(struct mp_config_header);
	p = put_processors(p, ncpus);
	p = put_bus_and_ioapic(p, (uint8_t)ncpus);
	p = put_io_interrupts(p, (uint8_t)ncpus);
	put_local_interrupts(p);
	put_config_header(base + sizeof(struct mp_floating_pointer), ncpus, size);
	put_floating_pointer(base);
	return 0;
}
