// SPDX-License-Identifier: MIT
/*
 * pvpanic: the one-byte ISA port (PORT_PVPANIC, 0x505) through which a
 * guest tells the host it has panicked, as QEMU's pvpanic device defines
 * it. The DSDT describes it as QEMU0001 with IO 0x505/1 (boot/acpi_dsdt.c),
 * which Linux's pvpanic-mmio driver binds (it takes an I/O or a memory
 * resource); the driver reads the port once to learn the supported events
 * and writes PVPANIC_PANICKED from its panic notifier (PVPANIC_CRASH_LOADED
 * when a kdump kernel is loaded).
 *
 *   read   PVPANIC_PANICKED | PVPANIC_CRASH_LOADED (what husk reports)
 *   write  each set bit is one event: PANICKED logs "guest panicked
 *          (pvpanic)" and emits "guest-panic"; CRASH_LOADED logs and emits
 *          "guest-crash-loaded". Other bits are ignored.
 *
 * husk keeps the VM running after a panic: what happens next is the
 * guest's choice (Linux reboots after panic=N seconds, or at once with
 * panic=-1, which ends husk with "guest reboot"; with panic=0 it stays
 * halted and the halt detector or a signal ends husk). A guest that writes
 * the port in a loop is reported PVPANIC_MAX_REPORTS times, then once more
 * to say that the rest are not, so it cannot flood the log or events.
 */
#include "devices/devices.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "memory/layout.h"

#define PVPANIC_SUPPORTED	(PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

struct pvpanic {
	struct io_bus *pio;
	struct event_hook events;
	atomic_uint reports;		/* events reported so far */
};

static void pvpanic_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
	if (len)
		data[0] = PVPANIC_SUPPORTED;
}

static void pvpanic_report(struct pvpanic *p, const char *event, const char *what)
{
	unsigned n;

	if (atomic_load(&p->reports) > PVPANIC_MAX_REPORTS)
		return;			/* checked first: the count never wraps */
	n = atomic_fetch_add(&p->reports, 1);
	if (n > PVPANIC_MAX_REPORTS)
		return;
	if (n == PVPANIC_MAX_REPORTS) {
		pr_warn("pvpanic: %u events reported; further ones are not", n);
		return;
	}
	pr_warn("%s (pvpanic)", what);
	event_hook_emit(&p->events, event, "pvpanic");
}

static void pvpanic_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pvpanic *p = opaque;

	(void)offset;
	if (!len)
		return;
	if (data[0] & PVPANIC_PANICKED)
		pvpanic_report(p, "guest-panic", "guest panicked");
	if (data[0] & PVPANIC_CRASH_LOADED)
		pvpanic_report(p, "guest-crash-loaded", "guest loaded a crash kernel");
	if (data[0] & ~PVPANIC_SUPPORTED)
		pr_debug("pvpanic: ignoring event bits 0x%02x", data[0] & ~PVPANIC_SUPPORTED);
}

static const struct io_region_ops pvpanic_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

struct pvpanic *pvpanic_create(struct io_bus *pio, const struct event_hook *events)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return NULL;
	p->pio = pio;
	if (events)
		p->events = *events;
	atomic_init(&p->reports, 0);
	ret = iobus_register(pio, PORT_PVPANIC, 1, &pvpanic_ops, p, "pvpanic");
	if (ret) {
		free(p);
		errno = -ret;
		return NULL;
	}
	return p;
}

unsigned pvpanic_reports(struct pvpanic *p)
{
	return atomic_load(&p->reports);
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void pvpanic_destroy(struct pvpanic *p)
{
	if (!p)
		return;
	iobus_unregister(p->pio, PORT_PVPANIC);
	free(p);
}

/* Saved state: the report count (at most the cap plus its one note). */
int pvpanic_save(struct pvpanic *p, struct state_writer *w)
{
	sw_u32(w, atomic_load(&p->reports));
	return w->err;
}

int pvpanic_load(struct pvpanic *p, struct state_reader *r)
{
	uint32_t n = sr_u32(r);

	if (sr_done(r))
		return r->err;
	if (n > PVPANIC_MAX_REPORTS + 1)
		return sr_fail(r, "pvpanic: %u reports (at most %u)", n, PVPANIC_MAX_REPORTS + 1);
	atomic_store(&p->reports, n);
	return 0;
}
