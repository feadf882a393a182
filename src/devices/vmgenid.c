// SPDX-License-Identifier: MIT
/*
 * The VM Generation ID (devices.h): 16 random bytes in reserved guest
 * memory, described by the DSDT's VGEN device (boot/acpi_dsdt.c), renewed
 * and signalled through the GED when the VM becomes a copy (a restore).
 */
#include "devices/devices.h"
#include "memory/guest_mem.h"
#include "memory/layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct vmgenid {
	struct guest_mem *mem;
	struct acpi_ged *ged;
	uint8_t id[LAYOUT_VMGENID_SIZE];	/* guest-visible state: the current ID */
};

/* Put @v->id where the guest reads it (and mark it for Diff snapshots). */
static int vmgenid_publish(struct vmgenid *v)
{
	uint8_t *p = gpa_to_hva(v->mem, LAYOUT_VMGENID, LAYOUT_VMGENID_SIZE);

	if (!p)
		return -EFAULT;
	memcpy(p, v->id, sizeof(v->id));
	guest_mem_mark_dirty(v->mem, p, sizeof(v->id));
	return 0;
}

static int vmgenid_roll(struct vmgenid *v)
{
	uint8_t id[LAYOUT_VMGENID_SIZE];

	do {
		if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
			return -EIO;
	} while (!memcmp(id, v->id, sizeof(id)));	/* never the same twice */
	memcpy(v->id, id, sizeof(id));
	return vmgenid_publish(v);
}

struct vmgenid *vmgenid_create(struct guest_mem *mem, struct acpi_ged *ged)
{
	struct vmgenid *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return NULL;
	v->mem = mem;
	v->ged = ged;
	ret = vmgenid_roll(v);
	if (ret) {
		free(v);
		errno = -ret;
		return NULL;
	}
	return v;
}

void vmgenid_destroy(struct vmgenid *v)
{
	free(v);
}

int vmgenid_new(struct vmgenid *v)
{
	int ret = vmgenid_roll(v);

	return ret ? ret : acpi_ged_raise(v->ged, ACPI_GED_EVT_VMGENID);
}

void vmgenid_get(struct vmgenid *v, uint8_t id[16])
{
	memcpy(id, v->id, sizeof(v->id));
}

int vmgenid_save(struct vmgenid *v, struct state_writer *w)
{
	sw_bytes(w, v->id, sizeof(v->id));
	return w->err;
}

/* The saved ID must be the one in the memory file: they were saved together. */
int vmgenid_load(struct vmgenid *v, struct state_reader *r)
{
	uint8_t id[LAYOUT_VMGENID_SIZE];
	const uint8_t *p;

	sr_bytes(r, id, sizeof(id));
	if (sr_done(r))
		return r->err;
	p = gpa_to_hva(v->mem, LAYOUT_VMGENID, LAYOUT_VMGENID_SIZE);
	if (!p || memcmp(p, id, sizeof(id)))
		return sr_fail(r, "vmgenid: the memory file holds another generation ID than "
			       "the state file (not this snapshot's memory file?)");
	memcpy(v->id, id, sizeof(id));
	return 0;
}
