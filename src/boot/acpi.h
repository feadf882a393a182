/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BOOT_ACPI_H
#define HUSK_BOOT_ACPI_H

/*
 * ACPI 6.5 table layouts husk writes (acpi.c): RSDP (5.2.5), the common
 * header (5.2.6), XSDT (5.2.8), FADT (5.2.9), MADT (5.2.12), the Generic
 * Address Structure (5.2.3.2), and MCFG (PCI Firmware Specification 3.3,
 * 4.1.2). Shared with the unit tests.
 */
#include <stdint.h>

#include "devices/pci_layout.h"

#define ACPI_OEM_ID		"HUSK  "
#define ACPI_OEM_TABLE_ID	"HUSKVM  "
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"HUSK"
#define ACPI_CREATOR_REVISION	1

#define ACPI_RSDP_REVISION	2	/* ACPI 2.0+: XSDT address and extended checksum */
#define ACPI_XSDT_REVISION	1
#define ACPI_FADT_REVISION	6
#define ACPI_FADT_MINOR		5	/* ACPI 6.5 */
#define ACPI_MADT_REVISION	5
#define ACPI_DSDT_REVISION	2	/* 64-bit AML integers */
#define ACPI_MCFG_REVISION	1
#define ACPI_XSDT_MAX_ENTRIES	8	/* FADT, MADT, MCFG, WDAT; room for more */
#define ACPI_MAX_CPUS		254	/* 8-bit APIC IDs; the IOAPIC takes ID ncpus */

struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;		/* 0: husk has no RSDT */
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;		/* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

/* FADT flags and IA-PC boot architecture flags used by husk. */
#define ACPI_FADT_WBINVD		(1u << 0)
#define ACPI_FADT_PWR_BUTTON		(1u << 4)	/* power button: control method */
#define ACPI_FADT_SLP_BUTTON		(1u << 5)	/* no sleep button */
#define ACPI_FADT_RESET_REG_SUP		(1u << 10)
#define ACPI_FADT_HW_REDUCED		(1u << 20)
#define ACPI_IAPC_LEGACY_DEVICES	(1u << 0)
#define ACPI_IAPC_8042			(1u << 1)
#define ACPI_IAPC_VGA_NOT_PRESENT	(1u << 2)
#define ACPI_IAPC_MSI_NOT_SUPPORTED	(1u << 3)
#define ACPI_IAPC_CMOS_RTC_NOT_PRESENT	(1u << 5)
#define ACPI_PM_PROFILE_ENTERPRISE_SERVER 4
#define ACPI_RTC_CENTURY_INDEX		0x32	/* CMOS register devices/rtc.c keeps */

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

#define ACPI_MADT_PCAT_COMPAT		1u
#define ACPI_MADT_LAPIC			0
#define ACPI_MADT_IOAPIC		1
#define ACPI_MADT_INT_OVERRIDE		2
#define ACPI_MADT_LAPIC_NMI		4
#define ACPI_MADT_ENABLED		1u
#define ACPI_MADT_ALL_CPUS		0xff
/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define ACPI_MPS_CONFORMS		0x0
#define ACPI_MPS_ACTIVE_HIGH		0x1
#define ACPI_MPS_LEVEL			0xc

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_lapic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_ioapic {
	uint8_t type, length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_int_override {
	uint8_t type, length;
	uint8_t bus;			/* 0: ISA */
	uint8_t source_irq;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct acpi_madt_lapic_nmi {
	uint8_t type, length;
	uint8_t processor_uid;		/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

/* MCFG: one allocation for segment 0, covering the whole ECAM window. */
struct acpi_mcfg {
	struct acpi_header h;
	uint8_t reserved[8];
} __attribute__((packed));

struct acpi_mcfg_alloc {
	uint64_t base;			/* ECAM address of bus 0 (even if start_bus > 0) */
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} __attribute__((packed));

#define ACPI_MCFG_SIZE	(sizeof(struct acpi_mcfg) + sizeof(struct acpi_mcfg_alloc))

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG");
_Static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation");
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT (ACPI 6.5)");
_Static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(__builtin_offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC");
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT I/O APIC");
_Static_assert(sizeof(struct acpi_madt_int_override) == 10, "MADT interrupt source override");
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT local APIC NMI");

/* MADT size for @ncpus: what acpi.c writes. */
#define ACPI_MADT_SIZE(ncpus) \
	(sizeof(struct acpi_madt) + (ncpus) * sizeof(struct acpi_madt_lapic) + \
	 sizeof(struct acpi_madt_ioapic) + 2 * sizeof(struct acpi_madt_int_override) + \
	 sizeof(struct acpi_madt_lapic_nmi))


/*
 * PCI segment 0 as the tables describe it (devices/pci_layout.h): MCFG and
 * the root bridge's bus range cover every bus the ECAM window decodes.
 */
#define ACPI_PCI_BUS_FIRST	0
#define ACPI_PCI_BUS_LAST	((PCI_ECAM_SIZE >> PCI_ECAM_BUS_SHIFT) - 1)

/*
 * acpi_dsdt.c: appends the DSDT's AML (after the header) to @a for a guest
 * with @ncpus vCPUs and @ram_size bytes of RAM (which places the 64-bit PCI
 * window); returns 0 or -errno.
 */
struct aml;
int acpi_dsdt_build(struct aml *a, unsigned ncpus, uint64_t ram_size, unsigned nmmio);

/*
 * WDAT, the Watchdog Action Table (Microsoft "Hardware Watchdog Timers
 * Design Specification" 1.00): the watchdog's timing and, per action, the
 * register accesses that perform it. acpi_wdat.c describes the register
 * block of devices/watchdog.c.
 */
#define ACPI_WDAT_REVISION	1
#define ACPI_WDAT_ENABLED	0x01	/* flags: the OS may use the watchdog */
#define ACPI_WDAT_NOT_PCI	0xff	/* PCI segment/bus/device/function: none */

/* Actions. */
#define ACPI_WDAT_RESET			1
#define ACPI_WDAT_GET_CURRENT_COUNTDOWN	4
#define ACPI_WDAT_GET_COUNTDOWN		5
#define ACPI_WDAT_SET_COUNTDOWN		6
#define ACPI_WDAT_GET_RUNNING_STATE	8
#define ACPI_WDAT_SET_RUNNING_STATE	9
#define ACPI_WDAT_GET_STOPPED_STATE	10
#define ACPI_WDAT_SET_STOPPED_STATE	11
#define ACPI_WDAT_GET_STATUS		32
#define ACPI_WDAT_SET_STATUS		33
/* Instructions. */
#define ACPI_WDAT_READ_VALUE		0
#define ACPI_WDAT_READ_COUNTDOWN	1
#define ACPI_WDAT_WRITE_VALUE		2
#define ACPI_WDAT_WRITE_COUNTDOWN	3
#define ACPI_WDAT_PRESERVE_REGISTER	0x80
#define ACPI_GAS_ACCESS_DWORD		3

struct acpi_wdat {
	struct acpi_header h;
	uint32_t header_length;		/* from here to the entries: 32 */
	uint16_t pci_segment;
	uint8_t pci_bus, pci_device, pci_function;
	uint8_t reserved0[3];
	uint32_t timer_period;		/* ms per count */
	uint32_t max_count, min_count;
	uint8_t flags;
	uint8_t reserved1[3];
	uint32_t entries;
} __attribute__((packed));

struct acpi_wdat_entry {
	uint8_t action;
	uint8_t instruction;
	uint16_t reserved;
	struct acpi_gas reg;
	uint32_t value;
	uint32_t mask;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_wdat) == 68, "WDAT header");
_Static_assert(sizeof(struct acpi_wdat_entry) == 24, "WDAT instruction entry");

#define ACPI_WDAT_ENTRIES	10
#define ACPI_WDAT_SIZE \
	(sizeof(struct acpi_wdat) + ACPI_WDAT_ENTRIES * sizeof(struct acpi_wdat_entry))

/*
 * acpi_wdat.c: fills @t (ACPI_WDAT_SIZE bytes, zeroed) after its common
 * header: the timing and instruction entries for devices/watchdog.c.
 */
void acpi_wdat_fill(struct acpi_wdat *t);

#endif
