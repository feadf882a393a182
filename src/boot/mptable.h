/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BOOT_MPTABLE_H
#define HUSK_BOOT_MPTABLE_H

/*
 * Intel MultiProcessor Specification 1.4 structures, as husk writes them at
 * LAYOUT_BIOS_START: the floating pointer, then the configuration table
 * header followed by its entries (processors, bus, I/O APIC, I/O interrupt
 * assignments, local interrupt assignments).
 */
#include <stdint.h>

#define MP_FLOATING_SIGNATURE	"_MP_"
#define MP_CONFIG_SIGNATURE	"PCMP"
#define MP_SPEC_REV_1_4		4

enum mp_entry_type {
	MP_ENTRY_PROCESSOR = 0,
	MP_ENTRY_BUS = 1,
	MP_ENTRY_IOAPIC = 2,
	MP_ENTRY_IO_INTERRUPT = 3,
	MP_ENTRY_LOCAL_INTERRUPT = 4,
};

enum mp_interrupt_type {
	MP_INT = 0,
	MP_NMI = 1,
	MP_SMI = 2,
	MP_EXTINT = 3,
};

#define MP_CPU_ENABLED		0x01
#define MP_CPU_BSP		0x02
#define MP_IOAPIC_ENABLED	0x01
#define MP_IOAPIC_VERSION	0x11
#define MP_LAPIC_VERSION	0x14
#define MP_ALL_LAPICS		0xff

struct mp_floating_pointer {
	char signature[4];
	uint32_t config_table;		/* physical address */
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];		/* 0: a configuration table is present */
} __attribute__((packed));

struct mp_config_header {
	char signature[4];
	uint16_t base_length;		/* header + entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;
	uint32_t signature;		/* CPUID family/model/stepping */
	uint32_t features;		/* CPUID.1:EDX */
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t apic_id;
	uint8_t version;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

/* Both I/O (type 3) and local (type 4) interrupt assignment entries. */
struct mp_interrupt {
	uint8_t type;
	uint8_t irq_type;
	uint16_t flags;			/* 0: polarity and trigger conform to the bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;		/* IOAPIC INTIN# or LAPIC LINTIN# */
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating_pointer) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mp_config_header) == 44, "MP configuration table header");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry");
_Static_assert(sizeof(struct mp_bus) == 8, "MP bus entry");
_Static_assert(sizeof(struct mp_ioapic) == 8, "MP I/O APIC entry");
_Static_assert(sizeof(struct mp_interrupt) == 8, "MP interrupt entry");

#define MP_ISA_IRQS		16
#define MP_ISA_BUS_ID		0

#endif
