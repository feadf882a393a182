// SPDX-License-Identifier: MIT
/*
 * ACPI hardware-reduced power management registers (ACPI 6.5 4.8.3.7 and
 * 4.8.3.6), the ones the FADT describes (boot/acpi.c), one byte each:
 *
 *  PORT_ACPI_SLEEP_CTL  write: SLP_EN (bit 5) | SLP_TYP << 2. SLP_EN with
 *                       the \_S5_ SLP_TYP powers the VM off
 *                       (STOP_SYSTEM_SHUTDOWN); other values are ignored
 *                       (husk offers no other sleep state). Reads 0.
 *  PORT_ACPI_SLEEP_STS  reads 0 (never woken); writes (WAK_STS clears) are
 *                       ignored.
 *  PORT_ACPI_RESET      writing ACPI_RESET_VALUE resets the VM
 *                       (STOP_SYSTEM_RESET); other values are ignored.
 *                       Reads 0.
 *
 * Linux's poweroff writes 0x80 to the status register, then the sleep
 * control value; its reboot writes the FADT's RESET_VALUE to RESET_REG
 * (then falls back to the i8042).
 */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "memory/layout.h"

#define ACPI_PM_BASE	PORT_ACPI_SLEEP_CTL
#define ACPI_PM_LEN	3
#define OFF_SLEEP_CTL	(PORT_ACPI_SLEEP_CTL - ACPI_PM_BASE)
#define OFF_SLEEP_STS	(PORT_ACPI_SLEEP_STS - ACPI_PM_BASE)
#define OFF_RESET	(PORT_ACPI_RESET - ACPI_PM_BASE)

_Static_assert(PORT_ACPI_SLEEP_STS == ACPI_PM_BASE + 1 && PORT_ACPI_RESET == ACPI_PM_BASE + 2,
	       "the PM registers are three consecutive ports");

struct acpi_pm {
	struct io_bus *pio;
	struct stop_hook stop;
};

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void sleep_ctl_write(struct acpi_pm *pm, uint8_t v)
{
	unsigned typ = (v & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT;

	if (!(v & ACPI_SLP_EN))
		return;
	if (typ == ACPI_S5_SLP_TYP) {
		stop_hook_request(&pm->stop, STOP_SYSTEM_SHUTDOWN, 0);
		return;
	}
	pr_debug("acpi: sleep type %u requested; only S5 (%u) is offered", typ,
		 ACPI_S5_SLP_TYP);
}

/* Each port is one byte: a wider access only writes its first byte here. */
static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;

	if (!len)
		return;
	if (offset == OFF_SLEEP_CTL)
		sleep_ctl_write(pm, data[0]);
	else if (offset == OFF_RESET && data[0] == ACPI_RESET_VALUE)
		stop_hook_request(&pm->stop, STOP_SYSTEM_RESET, 0);
}

static const struct io_region_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

struct acpi_pm *acpi_pm_create(struct io_bus *pio, const struct stop_hook *stop)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm)
		return NULL;
	pm->pio = pio;
	if (stop)
		pm->stop = *stop;
	ret = iobus_register(pio, ACPI_PM_BASE, ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm");
	if (ret) {
		free(pm);
		errno = -ret;
		return NULL;
	}
	return pm;
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	iobus_unregister(pm->pio, ACPI_PM_BASE);
	free(pm);
}

/*
 * Saved state: the PM registers keep nothing (each write acts at once and
 * reads are 0), so the payload is empty; the section exists so that every
 * device has the same shape and a later version can add fields.
 */
int acpi_pm_save(struct acpi_pm *pm, struct state_writer *w)
{
	(void)pm;
	return w->err;
}

int acpi_pm_load(struct acpi_pm *pm, struct state_reader *r)
{
	(void)pm;
	return sr_done(r);
}
