// SPDX-License-Identifier: MIT
/*
 * The WDAT (Watchdog Action Table) for husk's guest watchdog
 * (devices/watchdog.c, registers in memory/layout.h). Each action the
 * specification defines is one register access that Linux's wdat_wdt
 * driver (and Windows) runs as written:
 *
 *   action                  instruction              register  value mask
 *   RESET (kick)            WRITE_VALUE              KICK      1     1
 *   GET_CURRENT_COUNTDOWN   READ_COUNTDOWN           LEFT      -     ~0
 *   GET_COUNTDOWN           READ_COUNTDOWN           COUNT     -     ~0
 *   SET_COUNTDOWN           WRITE_COUNTDOWN          COUNT     -     ~0
 *   GET_RUNNING_STATE       READ_VALUE               CTL       1     1
 *   SET_RUNNING_STATE       WRITE_VALUE | PRESERVE   CTL       1     1
 *   GET_STOPPED_STATE       READ_VALUE               CTL       0     1
 *   SET_STOPPED_STATE       WRITE_VALUE | PRESERVE   CTL       0     1
 *   GET_STATUS              READ_VALUE               STS       1     1
 *   SET_STATUS              WRITE_VALUE | PRESERVE   STS       0     1
 *
 * All are 32-bit SystemIO accesses. There is no GET/SET_REBOOT or
 * _SHUTDOWN: what the watchdog does is the host's choice
 * (--watchdog-action), and Linux treats a missing SET_REBOOT as "always
 * reboots". The PCI fields are 0xff (not a PCI device): Linux ignores a
 * WDAT that names a PCI function. Flags: ENABLED.
 */
#include <string.h>

#include "boot/acpi.h"
#include "memory/layout.h"

#define MASK_ALL	0xffffffffu

static struct acpi_wdat_entry entry(uint8_t action, uint8_t instruction, uint16_t reg,
				    uint32_t value, uint32_t mask)
{
	return (struct acpi_wdat_entry){
		.action = action, .instruction = instruction,
		.reg = { .space_id = ACPI_GAS_SYSTEM_IO, .bit_width = 32,
			 .access_size = ACPI_GAS_ACCESS_DWORD,
			 .address = PORT_WDT_BASE + reg },
		.value = value, .mask = mask,
	};
}

void acpi_wdat_fill(struct acpi_wdat *t)
{
	const uint8_t write_keep = ACPI_WDAT_WRITE_VALUE | ACPI_WDAT_PRESERVE_REGISTER;
	const struct acpi_wdat_entry e[ACPI_WDAT_ENTRIES] = {
		entry(ACPI_WDAT_RESET, ACPI_WDAT_WRITE_VALUE, WDT_REG_KICK, 1, 1),
		entry(ACPI_WDAT_GET_CURRENT_COUNTDOWN, ACPI_WDAT_READ_COUNTDOWN, WDT_REG_LEFT,
		      0, MASK_ALL),
		entry(ACPI_WDAT_GET_COUNTDOWN, ACPI_WDAT_READ_COUNTDOWN, WDT_REG_COUNT, 0, MASK_ALL),
		entry(ACPI_WDAT_SET_COUNTDOWN, ACPI_WDAT_WRITE_COUNTDOWN, WDT_REG_COUNT, 0, MASK_ALL),
		entry(ACPI_WDAT_GET_RUNNING_STATE, ACPI_WDAT_READ_VALUE, WDT_REG_CTL,
		      WDT_CTL_RUNNING, WDT_CTL_RUNNING),
		entry(ACPI_WDAT_SET_RUNNING_STATE, write_keep, WDT_REG_CTL,
		      WDT_CTL_RUNNING, WDT_CTL_RUNNING),
		entry(ACPI_WDAT_GET_STOPPED_STATE, ACPI_WDAT_READ_VALUE, WDT_REG_CTL,
		      0, WDT_CTL_RUNNING),
		entry(ACPI_WDAT_SET_STOPPED_STATE, write_keep, WDT_REG_CTL, 0, WDT_CTL_RUNNING),
		entry(ACPI_WDAT_GET_STATUS, ACPI_WDAT_READ_VALUE, WDT_REG_STS,
		      WDT_STS_FIRED, WDT_STS_FIRED),
		entry(ACPI_WDAT_SET_STATUS, write_keep, WDT_REG_STS, 0, WDT_STS_FIRED),
	};

	t->header_length = sizeof(*t) - sizeof(t->h);
	t->pci_segment = ACPI_WDAT_NOT_PCI;
	t->pci_bus = t->pci_device = t->pci_function = ACPI_WDAT_NOT_PCI;
	t->timer_period = WDT_PERIOD_MS;
	t->max_count = WDT_MAX_COUNT;
	t->min_count = WDT_MIN_COUNT;
	t->flags = ACPI_WDAT_ENABLED;
	t->entries = ACPI_WDAT_ENTRIES;
	memcpy(t + 1, e, sizeof(e));
}
