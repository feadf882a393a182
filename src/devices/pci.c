// SPDX-License-Identifier: MIT
/*
 * The PCI host bridge and bus 0: bus creation (config access regions,
 * windows, the host bridge at 00:00.0), the standard type 0 header every
 * device starts from, device registration, config write side effects and
 * INTx.
 *
 * Header defaults (pci_device_init), per PCI 3.0 section 6.2: vendor,
 * device, revision, class, header type, subsystem IDs, capability pointer,
 * interrupt pin are read-only; the command register's I/O, memory, bus
 * master, parity, SERR and INTx Disable bits are writable (reset 0); the
 * status register's error bits are write-1-to-clear; cache line size and
 * interrupt line are plain read/write; everything else is read-only 0
 * until the device declares BARs and capabilities.
 */
#include "devices/pci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "devices/msix.h"
#include "devices/pci_layout.h"

#define COMMAND_WRITABLE	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
				 PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C		(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
				 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | \
				 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define CLASS_BRIDGE_HOST	0x060000
#define INTX_LINE_NONE		0xff
#define INTX_PIN_MAX		4

void pci_device_init(struct pci_device *dev, const char *name, const struct pci_device_id *id,
		     const struct pci_device_ops *ops, void *priv)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name ? name : "pci";
	dev->ops = ops;
	dev->priv = priv;
	dev->slot = -1;
	dev->cfg_size = id->pcie_cfg ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
	dev->intx.vm_fd = -1;
	for (unsigned i = 0; i < PCI_STD_NUM_BARS; i++) {
		dev->bar[i].addr = PCI_BAR_UNMAPPED;
		dev->bar[i].dev = dev;
		dev->bar[i].index = (uint8_t)i;
	}
	pci_cfg_set(dev, PCI_VENDOR_ID, 2, id->vendor);
	pci_cfg_set(dev, PCI_DEVICE_ID, 2, id->device);
	pci_cfg_set(dev, PCI_CLASS_REVISION, 4, id->class_code << 8 | id->revision);
	pci_cfg_set(dev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
	pci_cfg_set(dev, PCI_SUBSYSTEM_VENDOR_ID, 2, id->subsys_vendor);
	pci_cfg_set(dev, PCI_SUBSYSTEM_ID, 2, id->subsys_id);
	pci_cfg_set(dev, PCI_INTERRUPT_PIN, 1, id->intx_pin <= INTX_PIN_MAX ? id->intx_pin : 0);
	pci_cfg_set(dev, PCI_INTERRUPT_LINE, 1, INTX_LINE_NONE);
	pci_cfg_set_wmask(dev, PCI_COMMAND, 2, COMMAND_WRITABLE);
	pci_cfg_set_w1cmask(dev, PCI_STATUS, 2, STATUS_W1C);
	pci_cfg_set_wmask(dev, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_cfg_set_wmask(dev, PCI_INTERRUPT_LINE, 1, 0xff);
}

/* ---- INTx (bus lock held) -------------------------------------------------- */

static void intx_update(struct pci_device *dev)
{
	uint16_t cmd = (uint16_t)pci_cfg_get(dev, PCI_COMMAND, 2);
	uint16_t status = (uint16_t)pci_cfg_get(dev, PCI_STATUS, 2);
	bool assert = dev->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) && !msix_enabled(dev);
	int ret;

	if (dev->intx_level)
		status |= PCI_STATUS_INTERRUPT;
	else
		status &= (uint16_t)~PCI_STATUS_INTERRUPT;
	pci_cfg_set(dev, PCI_STATUS, 2, status);
	if (!pci_cfg_get(dev, PCI_INTERRUPT_PIN, 1) || assert == dev->intx_asserted)
		return;
	dev->intx_asserted = assert;
	ret = irq_line_set(&dev->intx, assert);
	if (ret)
		pr_warn("pci %02x: %s: INTx GSI %u: %s", dev->slot, dev->name, dev->intx.gsi,
			strerror(-ret));
}

int pci_intx_set(struct pci_device *dev, int level)
{
	if (!dev || !dev->bus)
		return -EINVAL;
	pthread_mutex_lock(&dev->bus->lock);
	dev->intx_level = level != 0;
	intx_update(dev);
	pthread_mutex_unlock(&dev->bus->lock);
	return 0;
}

/* ---- config write side effects (bus lock held) ----------------------------- */

void pci_cfg_side_effects(struct pci_device *dev, uint32_t offset, uint32_t len)
{
	bool cmd = ranges_overlap(offset, len, PCI_COMMAND, 2);

	if (cmd || ranges_overlap(offset, len, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS))
		pci_bars_update(dev);
	msix_cfg_written(dev, offset, len);
	if (cmd || dev->msix)
		intx_update(dev);
}

/* ---- the bus --------------------------------------------------------------- */

static void host_bridge_init(struct pci_bus *bus)
{
	static const struct pci_device_id id = {
		.vendor = PCI_HOST_BRIDGE_VENDOR, .device = PCI_HOST_BRIDGE_DEVICE,
		.class_code = CLASS_BRIDGE_HOST,
	};
	struct pci_device *hb = &bus->host_bridge;

	pci_device_init(hb, "host-bridge", &id, NULL, NULL);
	hb->slot = PCI_HOST_BRIDGE_SLOT;
	hb->bus = bus;
	bus->slots[PCI_HOST_BRIDGE_SLOT] = hb;
}

static void windows_init(struct pci_bus *bus, uint64_t ram_size)
{
	uint64_t base64 = pci_mmio64_base(ram_size);

	bus->mmio32 = (struct pci_window){ PCI_MMIO32_BASE, PCI_MMIO32_SIZE, PCI_MMIO32_BASE };
	bus->mmio64 = (struct pci_window){ base64, PCI_MMIO64_SIZE, base64 };
	bus->io = (struct pci_window){ PCI_IOPORT_BASE, PCI_IOPORT_SIZE, PCI_IOPORT_BASE };
}

int pci_bus_create(const struct pci_bus_params *p, struct pci_bus **out)
{
	struct pci_bus *bus;
	int ret;

	if (!p || !p->pio || !p->mmio || !out)
		return -EINVAL;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	if (pthread_mutex_init(&bus->lock, NULL)) {
		free(bus);
		return -ENOMEM;
	}
	bus->pio = p->pio;
	bus->mmio = p->mmio;
	bus->routing = p->routing;
	bus->vm_fd = p->vm_fd;
	windows_init(bus, p->ram_size);
	host_bridge_init(bus);
	ret = pci_cfg_register(bus);
	if (ret) {
		pci_cfg_unregister(bus);
		pthread_mutex_destroy(&bus->lock);
		free(bus);
		return ret;
	}
	*out = bus;
	return 0;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	for (unsigned i = 0; i < PCI_SLOTS; i++)
		if (bus->slots[i] && i != PCI_HOST_BRIDGE_SLOT)
			pci_unregister_device(bus->slots[i]);
	pci_cfg_unregister(bus);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

void pci_bus_mmio64_window(struct pci_bus *bus, uint64_t *base, uint64_t *size)
{
	*base = bus->mmio64.base;
	*size = bus->mmio64.size;
}

struct pci_device *pci_bus_device(struct pci_bus *bus, unsigned slot)
{
	struct pci_device *dev;

	if (!bus || slot >= PCI_SLOTS)
		return NULL;
	pthread_mutex_lock(&bus->lock);
	dev = bus->slots[slot];
	pthread_mutex_unlock(&bus->lock);
	return dev;
}

/* ---- registration ---------------------------------------------------------- */

static int slot_pick(struct pci_bus *bus, int want)
{
	if (want >= 0) {
		if (want >= PCI_SLOTS)
			return -EINVAL;
		return bus->slots[want] ? -EBUSY : want;
	}
	for (int s = 0; s < PCI_SLOTS; s++)
		if (!bus->slots[s])
			return s;
	return -ENOSPC;
}

static void intx_connect(struct pci_bus *bus, struct pci_device *dev)
{
	unsigned pin = pci_cfg_get(dev, PCI_INTERRUPT_PIN, 1);

	if (!pin)
		return;
	dev->intx = (struct irq_line){
		.vm_fd = bus->vm_fd, .gsi = pci_intx_gsi((unsigned)dev->slot, pin),
	};
	pci_cfg_set(dev, PCI_INTERRUPT_LINE, 1, dev->intx.gsi);
}

int pci_register_device(struct pci_bus *bus, struct pci_device *dev)
{
	int slot, ret;

	if (!bus || !dev || dev->bus)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	slot = slot_pick(bus, dev->slot);
	ret = slot < 0 ? slot : pci_bars_allocate(bus, dev);
	if (ret)
		goto out;
	dev->slot = slot;
	dev->bus = bus;
	ret = msix_connect(dev, bus->routing);
	if (ret) {
		dev->bus = NULL;
		goto out;
	}
	intx_connect(bus, dev);
	bus->slots[slot] = dev;
	pr_debug("pci 00:%02x.0: %s %04x:%04x", slot, dev->name,
		 pci_cfg_get(dev, PCI_VENDOR_ID, 2), pci_cfg_get(dev, PCI_DEVICE_ID, 2));
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void pci_unregister_device(struct pci_device *dev)
{
	struct pci_bus *bus = dev ? dev->bus : NULL;

	if (!bus || dev == &bus->host_bridge)
		return;
	pthread_mutex_lock(&bus->lock);
	pci_bars_unmap(dev);
	if (dev->intx_asserted)
		irq_line_set(&dev->intx, 0);
	dev->intx_asserted = false;
	msix_disconnect(dev);
	if (dev->slot >= 0 && dev->slot < PCI_SLOTS && bus->slots[dev->slot] == dev)
		bus->slots[dev->slot] = NULL;
	dev->bus = NULL;
	pthread_mutex_unlock(&bus->lock);
}
