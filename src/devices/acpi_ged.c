// SPDX-License-Identifier: MIT
/*
 * The ACPI Generic Event Device's hardware (ACPI 6.5 5.6.9): one byte at
 * PORT_ACPI_GED holding pending event bits, and a level-triggered,
 * active-high interrupt line (ISA IRQ 9 through the in-kernel IOAPIC; the
 * MADT overrides IRQ 9 to level, active high, and the DSDT's GED _CRS
 * says the same).
 *
 * husk sets a bit and raises the line (acpi_power_button()); the guest's
 * GED _EVT method (boot/acpi_dsdt.c) reads the byte, which returns the
 * pending bits, clears them and lowers the line, then notifies the device
 * each bit stands for. Writes are ignored.
 *
 *   bit 0  ACPI_GED_EVT_PWRBTN: Notify (\_SB.PWRB, 0x80), a power button press
 *   bit 1  ACPI_GED_EVT_VMGENID: Notify (\_SB.VGEN, 0x80), a new VM generation
 *
 * The event loop (acpi_power_button) and vCPU threads (the read) meet
 * here, so the state and the line change under the device's lock.
 */
#include "devices/devices.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "memory/layout.h"

#define ACPI_GED_LEN	1

/* Guest-visible state: plain data, saved and restored as a whole. */
struct acpi_ged_state {
	uint8_t pending;	/* event bits not yet read by the guest */
};

struct acpi_ged {
	pthread_mutex_t lock;
	struct acpi_ged_state st;
	struct io_bus *pio;
	struct irq_line *irq;
};

/* Called with the lock held: the line is high while events are pending. */
static void ged_update_irq(struct acpi_ged *g)
{
	int ret = irq_line_set(g->irq, g->st.pending != 0);

	if (ret)
		pr_warn("acpi ged: IRQ %u: %s", g->irq->gsi, strerror(-ret));
}

static void ged_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct acpi_ged *g = opaque;

	(void)offset;
	memset(data, 0, len);
	if (!len)
		return;
	pthread_mutex_lock(&g->lock);
	data[0] = g->st.pending;
	if (g->st.pending) {
		g->st.pending = 0;
		ged_update_irq(g);
	}
	pthread_mutex_unlock(&g->lock);
}

static void ged_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)len;
}

static const struct io_region_ops ged_ops = {
	.read = ged_read,
	.write = ged_write,
};

static int ged_raise(struct acpi_ged *g, uint8_t event)
{
	int ret;

	if (!g)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	g->st.pending |= event;
	ret = irq_line_set(g->irq, 1);
	pthread_mutex_unlock(&g->lock);
	return ret;
}

int acpi_power_button(struct acpi_ged *g)
{
	return ged_raise(g, ACPI_GED_EVT_PWRBTN);
}

int acpi_ged_raise(struct acpi_ged *g, uint8_t events)
{
	return ged_raise(g, events);
}

uint8_t acpi_ged_pending(struct acpi_ged *g)
{
	uint8_t v;

	pthread_mutex_lock(&g->lock);
	v = g->st.pending;
	pthread_mutex_unlock(&g->lock);
	return v;
}

struct acpi_ged *acpi_ged_create(struct io_bus *pio, struct irq_line *irq)
{
	struct acpi_ged *g;
	int ret;

	if (!irq) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->pio = pio;
	g->irq = irq;
	ret = pthread_mutex_init(&g->lock, NULL);
	if (!ret) {
		ret = -iobus_register(pio, PORT_ACPI_GED, ACPI_GED_LEN, &ged_ops, g, "acpi-ged");
		if (ret)
			pthread_mutex_destroy(&g->lock);
	}
	if (ret) {
		free(g);
		errno = ret;
		return NULL;
	}
	return g;
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void acpi_ged_destroy(struct acpi_ged *g)
{
	if (!g)
		return;
	iobus_unregister(g->pio, PORT_ACPI_GED);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

#define ACPI_GED_EVT_KNOWN	(ACPI_GED_EVT_PWRBTN | ACPI_GED_EVT_VMGENID)

/*
 * Saved state (core/statebuf.h): the pending bits. The line is high exactly
 * while bits are pending, so the load drives it to that level. Unlike the
 * UART's edge-triggered ISA line, this one is level-triggered: driving it
 * again is idempotent whether KVM_SET_IRQCHIP restored the IOAPIC before
 * or after, and it restores KVM's per-source line state, which
 * KVM_SET_IRQCHIP does not carry.
 */
int acpi_ged_save(struct acpi_ged *g, struct state_writer *w)
{
	sw_u8(w, acpi_ged_pending(g));
	return w->err;
}

int acpi_ged_load(struct acpi_ged *g, struct state_reader *r)
{
	uint8_t pending = sr_u8(r);

	if (sr_done(r))
		return r->err;
	if (pending & ~ACPI_GED_EVT_KNOWN)
		return sr_fail(r, "acpi ged: pending events 0x%02x (known: 0x%02x)", pending,
			       ACPI_GED_EVT_KNOWN);
	pthread_mutex_lock(&g->lock);
	g->st.pending = pending;
	ged_update_irq(g);
	pthread_mutex_unlock(&g->lock);
	return 0;
}
