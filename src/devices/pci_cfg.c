// SPDX-License-Identifier: MIT
/*
 * PCI configuration space: its guest-facing semantics and the two ways the
 * guest reaches it.
 *
 * Semantics. Every device has 4096 bytes of config space (the first 256
 * for a conventional device; beyond cfg_size reads are all-ones and writes
 * are dropped) and two masks per byte: wmask (bits a write replaces) and
 * w1cmask (bits a written 1 clears, e.g. status error bits). Everything
 * else is read-only. An access must lie within one dword (1-4 bytes, any
 * byte lanes, as PCI byte enables allow); an aligned 8-byte ECAM access is
 * split into two dwords; anything else (unaligned across a dword, odd
 * sizes) reads all-ones and writes nothing. Absent devices, functions 1-7
 * and buses other than 0 read all-ones.
 *
 * Mechanism #1 (PCI 3.0 section 3.2.2.3.2): CONFIG_ADDRESS at 0xcf8 is a
 * dword register (enable bit 31, bus 23:16, device 15:11, function 10:8,
 * register 7:2, and AMD's extended register bits 11:8 in 27:24 so that
 * the extended space of a PCIe device is reachable without ECAM too);
 * only dword writes change it (byte/word writes there are ignored, reads
 * return its bytes). CONFIG_DATA at 0xcfc-0xcff accesses
 * the selected dword, the port's low two bits selecting the byte lane.
 * With the enable bit clear, data reads are all-ones and writes ignored.
 *
 * ECAM (PCIe 3.0 section 7.2.2): PCI_ECAM_BASE + (bus << 20 | device << 15 |
 * function << 12 | register).
 */
#include "devices/pci_internal.h"
#include "core/bytes.h"

#include <errno.h>
#include <string.h>

#include "devices/pci_layout.h"

#define CF8_ENABLE		0x80000000u
#define CF8_BUS(a)		(((a) >> 16) & 0xff)
#define CF8_DEV(a)		(((a) >> 11) & 0x1f)
#define CF8_FN(a)		(((a) >> 8) & 0x7)
#define CF8_REG(a)		(((a) & 0xfc) | (((a) >> 16) & 0xf00))
#define CAP_FIRST		0x40

/* ---- raw access for the device itself --------------------------------- */

static bool raw_range_ok(uint32_t offset, uint32_t len)
{
	return len >= 1 && len <= 4 && offset < PCI_CFG_SPACE_EXP_SIZE &&
	       len <= PCI_CFG_SPACE_EXP_SIZE - offset;
}

uint32_t pci_cfg_get(const struct pci_device *dev, uint32_t offset, uint32_t len)
{
	return raw_range_ok(offset, len) ? (uint32_t)le_get(&dev->st.cfg[offset], len) : 0;
}

void pci_cfg_set(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value)
{
	if (raw_range_ok(offset, len))
		le_put(&dev->st.cfg[offset], value, len);
}

void pci_cfg_set_wmask(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t mask)
{
	if (raw_range_ok(offset, len))
		le_put(&dev->wmask[offset], mask, len);
}

void pci_cfg_set_w1cmask(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t mask)
{
	if (raw_range_ok(offset, len))
		le_put(&dev->w1cmask[offset], mask, len);
}

int pci_cap_add(struct pci_device *dev, uint8_t cap_id, uint8_t len)
{
	uint32_t off = (dev->cap_next < CAP_FIRST ? CAP_FIRST : dev->cap_next + 3) & ~3u;

	if (len < 2)
		return -EINVAL;
	if (off + len > PCI_CFG_SPACE_SIZE)
		return -ENOSPC;
	dev->st.cfg[off + PCI_CAP_LIST_ID] = cap_id;
	dev->st.cfg[off + PCI_CAP_LIST_NEXT] = 0;
	if (dev->cap_last)
		dev->st.cfg[dev->cap_last] = (uint8_t)off;
	else
		dev->st.cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	dev->st.cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->cap_last = off + PCI_CAP_LIST_NEXT;
	dev->cap_next = off + len;
	return (int)off;
}

/* ---- guest accesses to one device (bus lock held) ---------------------- */

static bool cfg_access_ok(uint32_t offset, uint32_t len)
{
	return len >= 1 && len <= 4 && (offset & 3) + len <= 4;
}

static void dev_cfg_read(struct pci_device *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
	if (offset >= dev->cfg_size) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(data, &dev->st.cfg[offset], len);
	if (dev->ops && dev->ops->cfg_read)
		dev->ops->cfg_read(dev, offset, data, len);
}

static void dev_cfg_write(struct pci_device *dev, uint32_t offset, const uint8_t *data,
			  uint32_t len)
{
	if (offset >= dev->cfg_size)
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t *b = &dev->st.cfg[offset + i];
		uint8_t wm = dev->wmask[offset + i];

		*b = (uint8_t)((*b & ~wm) | (data[i] & wm));
		*b &= (uint8_t)~(data[i] & dev->w1cmask[offset + i]);
	}
	pci_cfg_side_effects(dev, offset, len);
	if (dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev, offset, data, len);
}

static struct pci_device *bus_lookup(struct pci_bus *bus, unsigned bus_nr, unsigned slot,
				     unsigned fn)
{
	if (bus_nr != 0 || fn != 0 || slot >= PCI_SLOTS)
		return NULL;
	return bus->slots[slot];
}

/* One access within a dword, or an aligned qword split in two. */
static void bus_cfg_access(struct pci_bus *bus, unsigned bus_nr, unsigned slot, unsigned fn,
			   uint32_t offset, uint8_t *data, uint32_t len, bool write)
{
	struct pci_device *dev;

	if (len == 8 && !(offset & 7)) {
		bus_cfg_access(bus, bus_nr, slot, fn, offset, data, 4, write);
		bus_cfg_access(bus, bus_nr, slot, fn, offset + 4, data + 4, 4, write);
		return;
	}
	if (!cfg_access_ok(offset, len) || offset >= PCI_CFG_SPACE_EXP_SIZE) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	dev = bus_lookup(bus, bus_nr, slot, fn);
	if (!dev) {
		if (!write)
			memset(data, 0xff, len);
	} else if (write) {
		dev_cfg_write(dev, offset, data, len);
	} else {
		dev_cfg_read(dev, offset, data, len);
	}
	pthread_mutex_unlock(&bus->lock);
}

void pci_bus_cfg_read(struct pci_bus *bus, unsigned slot, uint32_t offset, uint8_t *data,
		      uint32_t len)
{
	bus_cfg_access(bus, 0, slot, 0, offset, data, len, false);
}

void pci_bus_cfg_write(struct pci_bus *bus, unsigned slot, uint32_t offset,
		       const uint8_t *data, uint32_t len)
{
	bus_cfg_access(bus, 0, slot, 0, offset, (uint8_t *)data, len, true);
}

/* ---- mechanism #1: 0xcf8 / 0xcfc --------------------------------------- */

static void cf8_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_bus *bus = opaque;
	uint8_t b[4];

	pthread_mutex_lock(&bus->lock);
	le_put(b, bus->st.config_address, 4);
	pthread_mutex_unlock(&bus->lock);
	memset(data, 0xff, len);
	if (offset < 4 && len <= 4 - offset)
		memcpy(data, b + offset, len);
}

static void cf8_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_bus *bus = opaque;

	if (offset != 0 || len != 4)
		return;
	pthread_mutex_lock(&bus->lock);
	bus->st.config_address = (uint32_t)le_get(data, 4) & CF8_WRITABLE;
	pthread_mutex_unlock(&bus->lock);
}

static void cfc_access(struct pci_bus *bus, uint64_t offset, uint8_t *data, uint32_t len,
		       bool write)
{
	uint32_t a;

	pthread_mutex_lock(&bus->lock);
	a = bus->st.config_address;
	pthread_mutex_unlock(&bus->lock);
	if (!(a & CF8_ENABLE) || offset >= 4 || len > 4 - offset) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	bus_cfg_access(bus, CF8_BUS(a), CF8_DEV(a), CF8_FN(a), CF8_REG(a) + (uint32_t)offset,
		       data, len, write);
}

static void cfc_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	cfc_access(opaque, offset, data, len, false);
}

static void cfc_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	cfc_access(opaque, offset, (uint8_t *)data, len, true);
}

static const struct io_region_ops cf8_ops = { .read = cf8_read, .write = cf8_write };
static const struct io_region_ops cfc_ops = { .read = cfc_read, .write = cfc_write };

/* ---- ECAM -------------------------------------------------------------- */

static void ecam_access(struct pci_bus *bus, uint64_t offset, uint8_t *data, uint32_t len,
			bool write)
{
	unsigned bus_nr = (unsigned)(offset >> PCI_ECAM_BUS_SHIFT) & 0xff;
	unsigned slot = (unsigned)(offset >> PCI_ECAM_DEV_SHIFT) & 0x1f;
	unsigned fn = (unsigned)(offset >> PCI_ECAM_FN_SHIFT) & 0x7;
	uint32_t reg = (uint32_t)offset & (PCI_CFG_SPACE_EXP_SIZE - 1);

	/* an 8-byte access must not run into the next function's space */
	if (reg + len > PCI_CFG_SPACE_EXP_SIZE) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	bus_cfg_access(bus, bus_nr, slot, fn, reg, data, len, write);
}

static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	ecam_access(opaque, offset, data, len, false);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	ecam_access(opaque, offset, (uint8_t *)data, len, true);
}

static const struct io_region_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

int pci_cfg_register(struct pci_bus *bus)
{
	int ret;

	ret = iobus_register(bus->pio, PCI_CONFIG_ADDRESS_PORT, 4, &cf8_ops, bus, "pci-cf8");
	if (ret)
		return ret;
	bus->nr_regions = 1;
	ret = iobus_register(bus->pio, PCI_CONFIG_DATA_PORT, 4, &cfc_ops, bus, "pci-cfc");
	if (ret)
		return ret;
	bus->nr_regions = 2;
	ret = iobus_register(bus->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam_ops, bus, "pci-ecam");
	if (ret)
		return ret;
	bus->nr_regions = 3;
	return 0;
}

void pci_cfg_unregister(struct pci_bus *bus)
{
	if (bus->nr_regions >= 3)
		iobus_unregister(bus->mmio, PCI_ECAM_BASE);
	if (bus->nr_regions >= 2)
		iobus_unregister(bus->pio, PCI_CONFIG_DATA_PORT);
	if (bus->nr_regions >= 1)
		iobus_unregister(bus->pio, PCI_CONFIG_ADDRESS_PORT);
	bus->nr_regions = 0;
}
