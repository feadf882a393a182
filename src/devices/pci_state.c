// SPDX-License-Identifier: MIT
/*
 * Saved state of PCI devices and the bus (see pci.h, core/statebuf.h).
 *
 * A device's payload: u16 config space size, the config space bytes, a
 * bool "has MSI-X", then the MSI-X part (msix.c). The config space is
 * guest-written data and is checked against the device it is loaded into:
 * every bit the guest cannot write (wmask, w1cmask) must be what this
 * device has (IDs, BAR type and size bits, the capability list, MSI-X
 * table size and location), except Interrupt Status, which shows the
 * device's INTx level and is taken from the file. What derives from config
 * space is then rebuilt by pci_cfg_side_effects(), the path every guest
 * config write takes: BAR mappings (and the device's bar_mapped hooks),
 * MSI-X enable and function mask, routes and pending vectors, the INTx
 * line.
 */
#include "devices/pci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pci_device_save(struct pci_device *dev, struct state_writer *w)
{
	if (!dev->bus)
		return -EINVAL;
	pthread_mutex_lock(&dev->bus->lock);
	sw_u16(w, (uint16_t)dev->cfg_size);
	sw_bytes(w, dev->st.cfg, dev->cfg_size);
	sw_bool(w, dev->msix != NULL);
	if (dev->msix)
		msix_state_save(dev, w);
	pthread_mutex_unlock(&dev->bus->lock);
	return w->err;
}

/* Bus lock held: @cfg differs from the device only where the guest can write. */
static int cfg_check(struct pci_device *dev, const uint8_t *cfg, struct state_reader *r)
{
	for (uint32_t i = 0; i < dev->cfg_size; i++) {
		uint8_t free_bits = dev->wmask[i] | dev->w1cmask[i];
		uint8_t diff = cfg[i] ^ dev->st.cfg[i];

		if (i == PCI_STATUS)
			free_bits |= PCI_STATUS_INTERRUPT;
		if (diff & ~free_bits)
			return sr_fail(r, "pci 00:%02x.0 %s: config byte 0x%03x is 0x%02x; "
				       "this device has 0x%02x there (read-only bits 0x%02x)",
				       dev->slot, dev->name, i, cfg[i], dev->st.cfg[i],
				       (uint8_t)(diff & ~free_bits));
	}
	return 0;
}

int pci_device_load(struct pci_device *dev, struct state_reader *r)
{
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
	struct msix_state *ms = NULL;
	uint16_t size;
	bool has_msix;
	int ret;

	if (!dev->bus)
		return sr_fail(r, "pci %s: not on a bus", dev->name);
	size = sr_u16(r);
	if (!r->err && size != dev->cfg_size)
		return sr_fail(r, "pci %s: %u bytes of config space saved, this device has %u",
			       dev->name, size, dev->cfg_size);
	sr_bytes(r, cfg, dev->cfg_size);
	has_msix = sr_bool(r);
	if (!r->err && has_msix != (dev->msix != NULL))
		return sr_fail(r, "pci %s: MSI-X state %s, the device has %s", dev->name,
			       has_msix ? "saved" : "not saved", dev->msix ? "MSI-X" : "none");
	if (has_msix && !r->err) {
		ms = malloc(sizeof(*ms));
		if (!ms)
			return -ENOMEM;
		msix_state_read(dev, r, ms);
	}
	if (sr_done(r)) {
		free(ms);
		return r->err;
	}
	pthread_mutex_lock(&dev->bus->lock);
	ret = cfg_check(dev, cfg, r);
	if (!ret) {
		memcpy(dev->st.cfg, cfg, dev->cfg_size);
		dev->intx_level = pci_cfg_get(dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
		if (ms)
			msix_state_apply(dev, ms);
		pci_cfg_side_effects(dev, 0, dev->cfg_size);
	}
	pthread_mutex_unlock(&dev->bus->lock);
	free(ms);
	return ret;
}

int pci_bus_save(struct pci_bus *bus, struct state_writer *w)
{
	pthread_mutex_lock(&bus->lock);
	sw_u32(w, bus->st.config_address);
	pthread_mutex_unlock(&bus->lock);
	return pci_device_save(&bus->host_bridge, w);
}

int pci_bus_load(struct pci_bus *bus, struct state_reader *r)
{
	uint32_t addr = sr_u32(r);
	int ret;

	if (!r->err && (addr & ~CF8_WRITABLE))
		return sr_fail(r, "pci: CONFIG_ADDRESS 0x%08x has reserved bits 0x%08x set", addr,
			       addr & ~CF8_WRITABLE);
	if (r->err)
		return r->err;
	ret = pci_device_load(&bus->host_bridge, r);
	if (ret)
		return ret;
	pthread_mutex_lock(&bus->lock);
	bus->st.config_address = addr;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}
