// SPDX-License-Identifier: MIT
/*
 * Base Address Registers (PCI 3.0 section 6.2.5.1).
 *
 * Sizing falls out of the write masks: the address bits below the BAR's
 * size and the type bits are read-only, so writing all-ones and reading
 * back gives ~(size - 1) | type bits, for the low and (64-bit BARs) high
 * dword alike. The expansion ROM BAR is read-only zero (no ROM).
 *
 * Allocation (pci_register_device): natural alignment (at least a page for
 * memory BARs) in the bus's windows, bump-allocated in declaration order:
 * PCI_BAR_MEM32 in the 32-bit window, PCI_BAR_MEM64 (prefetchable or not)
 * in the 64-bit window above RAM, PCI_BAR_IO in the I/O window. Addresses
 * are written into the BARs as firmware would; the guest may move them.
 *
 * Mapping: a BAR is registered on the MMIO bus (I/O bus for I/O BARs)
 * while its decode bit in the command register is set and it holds a
 * usable address: not 0 (unassigned), not all address bits set (being
 * sized), the whole BAR inside the address space (64 KiB of ports for
 * I/O). Each config write to the command register or a BAR re-evaluates
 * every BAR of the device: a BAR that moved is unregistered at the old
 * address and registered at the new one. A placement that overlaps another
 * region on the bus (a guest error) leaves the BAR unmapped.
 */
#include "devices/pci_internal.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "devices/msix.h"
#include "devices/pci_layout.h"

#define BAR_MEM_MIN		16
#define BAR_MEM_ALIGN_MIN	4096
#define BAR_IO_MIN		4
#define BAR_IO_MAX		256
#define IO_SPACE_END		0x10000ULL
#define MEM64_ADDR_END		(1ULL << 52)	/* architectural physical address limit */

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint32_t bar_reg(unsigned bar)
{
	return PCI_BASE_ADDRESS_0 + 4 * bar;
}

bool pci_bar_is_memory(const struct pci_device *dev, unsigned bar)
{
	return bar < PCI_STD_NUM_BARS &&
	       (dev->bar[bar].kind == PCI_BAR_MEM32 || dev->bar[bar].kind == PCI_BAR_MEM64);
}

static int bar_check(const struct pci_device *dev, unsigned bar, enum pci_bar_kind kind,
		     uint64_t size)
{
	if (bar >= PCI_STD_NUM_BARS || !is_pow2(size))
		return -EINVAL;
	if (dev->bar[bar].kind != PCI_BAR_UNUSED)
		return -EBUSY;
	switch (kind) {
	case PCI_BAR_MEM32:
		return size >= BAR_MEM_MIN && size <= PCI_MMIO32_SIZE ? 0 : -EINVAL;
	case PCI_BAR_MEM64:
		if (bar + 1 >= PCI_STD_NUM_BARS)
			return -EINVAL;
		if (dev->bar[bar + 1].kind != PCI_BAR_UNUSED)
			return -EBUSY;
		return size >= BAR_MEM_MIN && size <= PCI_MMIO64_SIZE ? 0 : -EINVAL;
	case PCI_BAR_IO:
		return size >= BAR_IO_MIN && size <= BAR_IO_MAX ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

int pci_device_add_bar(struct pci_device *dev, unsigned bar, enum pci_bar_kind kind,
		       uint64_t size, bool prefetchable)
{
	uint32_t flags;
	uint64_t mask = ~(size - 1);
	int ret = bar_check(dev, bar, kind, size);

	if (ret)
		return ret;
	dev->bar[bar] = (struct pci_bar){
		.kind = kind, .prefetchable = prefetchable && kind != PCI_BAR_IO,
		.size = size, .dev = dev, .index = (uint8_t)bar,
	};
	if (kind == PCI_BAR_IO) {
		pci_cfg_set(dev, bar_reg(bar), 4, PCI_BASE_ADDRESS_SPACE_IO);
		pci_cfg_set_wmask(dev, bar_reg(bar), 4, (uint32_t)mask & ~3u);
		return 0;
	}
	flags = kind == PCI_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : PCI_BASE_ADDRESS_MEM_TYPE_32;
	if (dev->bar[bar].prefetchable)
		flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	pci_cfg_set(dev, bar_reg(bar), 4, flags);
	pci_cfg_set_wmask(dev, bar_reg(bar), 4, (uint32_t)mask & ~0xfu);
	if (kind == PCI_BAR_MEM64) {
		dev->bar[bar + 1] = (struct pci_bar){
			.kind = PCI_BAR_MEM64_HIGH, .dev = dev, .index = (uint8_t)(bar + 1),
		};
		pci_cfg_set(dev, bar_reg(bar + 1), 4, 0);
		pci_cfg_set_wmask(dev, bar_reg(bar + 1), 4, (uint32_t)(mask >> 32));
	}
	return 0;
}

/* ---- allocation --------------------------------------------------------- */

static struct pci_window *bar_window(struct pci_bus *bus, enum pci_bar_kind kind)
{
	switch (kind) {
	case PCI_BAR_MEM32:
		return &bus->mmio32;
	case PCI_BAR_MEM64:
		return &bus->mmio64;
	case PCI_BAR_IO:
		return &bus->io;
	default:
		return NULL;
	}
}

static int window_alloc(struct pci_window *w, uint64_t size, uint64_t align, uint64_t *addr)
{
	uint64_t a = (w->next + align - 1) & ~(align - 1);

	if (a < w->next || a - w->base > w->size || size > w->size - (a - w->base))
		return -ENOSPC;
	*addr = a;
	w->next = a + size;
	return 0;
}

static void bar_program(struct pci_device *dev, unsigned bar, uint64_t addr)
{
	uint32_t low = pci_cfg_get(dev, bar_reg(bar), 4);
	uint32_t keep = dev->bar[bar].kind == PCI_BAR_IO ? 0x3 : 0xf;

	pci_cfg_set(dev, bar_reg(bar), 4, (low & keep) | ((uint32_t)addr & ~keep));
	if (dev->bar[bar].kind == PCI_BAR_MEM64)
		pci_cfg_set(dev, bar_reg(bar + 1), 4, (uint32_t)(addr >> 32));
}

/* Allocate every BAR, or none: on failure the windows are left as they were. */
int pci_bars_allocate(struct pci_bus *bus, struct pci_device *dev)
{
	struct pci_window saved[3] = { bus->mmio32, bus->mmio64, bus->io };
	uint64_t addr[PCI_STD_NUM_BARS] = { 0 };

	for (unsigned i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bar[i];
		struct pci_window *w = bar_window(bus, b->kind);
		uint64_t align = b->size;

		if (!w)
			continue;
		if (b->kind != PCI_BAR_IO && align < BAR_MEM_ALIGN_MIN)
			align = BAR_MEM_ALIGN_MIN;
		if (window_alloc(w, b->size, align, &addr[i])) {
			bus->mmio32 = saved[0];
			bus->mmio64 = saved[1];
			bus->io = saved[2];
			return -ENOSPC;
		}
	}
	for (unsigned i = 0; i < PCI_STD_NUM_BARS; i++)
		if (bar_window(bus, dev->bar[i].kind))
			bar_program(dev, i, addr[i]);
	return 0;
}

/* ---- decoding ------------------------------------------------------------ */

/* The address the BAR registers hold now. */
static uint64_t bar_current(const struct pci_device *dev, unsigned bar)
{
	uint64_t low = pci_cfg_get(dev, bar_reg(bar), 4);

	switch (dev->bar[bar].kind) {
	case PCI_BAR_IO:
		return low & ~3ULL;
	case PCI_BAR_MEM32:
		return low & ~0xfULL;
	case PCI_BAR_MEM64:
		return (low & ~0xfULL) | (uint64_t)pci_cfg_get(dev, bar_reg(bar + 1), 4) << 32;
	default:
		return PCI_BAR_UNMAPPED;
	}
}

static uint64_t addr_space_end(enum pci_bar_kind kind)
{
	switch (kind) {
	case PCI_BAR_IO:
		return IO_SPACE_END;
	case PCI_BAR_MEM32:
		return 1ULL << 32;
	default:
		return MEM64_ADDR_END;
	}
}

/* Where the BAR should be decoded now, or PCI_BAR_UNMAPPED. */
static uint64_t bar_wanted(const struct pci_device *dev, unsigned bar)
{
	const struct pci_bar *b = &dev->bar[bar];
	uint16_t cmd = (uint16_t)pci_cfg_get(dev, PCI_COMMAND, 2);
	uint16_t decode = b->kind == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	uint64_t addr = bar_current(dev, bar);
	uint64_t end = addr_space_end(b->kind);

	if (!(cmd & decode) || addr == PCI_BAR_UNMAPPED || !addr)
		return PCI_BAR_UNMAPPED;
	if (addr == (~(b->size - 1) & (end - 1)))	/* all address bits set: sizing */
		return PCI_BAR_UNMAPPED;
	if (addr >= end || b->size > end - addr)
		return PCI_BAR_UNMAPPED;
	return addr;
}

static void bar_region_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_bar *b = opaque;
	struct pci_device *dev = b->dev;

	if (msix_bar_read(dev, b->index, offset, data, len))
		return;
	if (dev->ops && dev->ops->bar_read)
		dev->ops->bar_read(dev, b->index, offset, data, len);
	else
		memset(data, 0xff, len);
}

static void bar_region_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_bar *b = opaque;
	struct pci_device *dev = b->dev;

	if (msix_bar_write(dev, b->index, offset, data, len))
		return;
	if (dev->ops && dev->ops->bar_write)
		dev->ops->bar_write(dev, b->index, offset, data, len);
}

static const struct io_region_ops bar_region_ops = {
	.read = bar_region_read,
	.write = bar_region_write,
};

static struct io_bus *bar_bus(const struct pci_device *dev, unsigned bar)
{
	return dev->bar[bar].kind == PCI_BAR_IO ? dev->bus->pio : dev->bus->mmio;
}

static void bar_unmap(struct pci_device *dev, unsigned bar)
{
	struct pci_bar *b = &dev->bar[bar];

	if (!b->mapped)
		return;
	iobus_unregister(bar_bus(dev, bar), b->addr);
	b->mapped = false;
	if (dev->ops && dev->ops->bar_mapped)
		dev->ops->bar_mapped(dev, bar, b->addr, false);
	b->addr = PCI_BAR_UNMAPPED;
}

static void bar_map(struct pci_device *dev, unsigned bar, uint64_t addr)
{
	struct pci_bar *b = &dev->bar[bar];
	int ret = iobus_register(bar_bus(dev, bar), addr, b->size, &bar_region_ops, b,
				 dev->name);

	if (ret) {
		pr_debug("pci %02x: %s BAR%u at 0x%llx: %s; left unmapped", dev->slot,
			 dev->name, bar, (unsigned long long)addr, strerror(-ret));
		return;
	}
	b->mapped = true;
	b->addr = addr;
	if (dev->ops && dev->ops->bar_mapped)
		dev->ops->bar_mapped(dev, bar, addr, true);
}

void pci_bars_update(struct pci_device *dev)
{
	/* unmap everything that moves first, so BARs can swap places */
	for (unsigned i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bar[i];

		if (b->mapped && bar_wanted(dev, i) != b->addr)
			bar_unmap(dev, i);
	}
	for (unsigned i = 0; i < PCI_STD_NUM_BARS; i++) {
		uint64_t want;

		if (dev->bar[i].mapped || !bar_window(dev->bus, dev->bar[i].kind))
			continue;
		want = bar_wanted(dev, i);
		if (want != PCI_BAR_UNMAPPED)
			bar_map(dev, i, want);
	}
}

void pci_bars_unmap(struct pci_device *dev)
{
	for (unsigned i = 0; i < PCI_STD_NUM_BARS; i++)
		bar_unmap(dev, i);
}

uint64_t pci_bar_addr(struct pci_device *dev, unsigned bar)
{
	uint64_t addr = PCI_BAR_UNMAPPED;

	if (bar >= PCI_STD_NUM_BARS || !dev->bus)
		return addr;
	pthread_mutex_lock(&dev->bus->lock);
	if (dev->bar[bar].mapped)
		addr = dev->bar[bar].addr;
	pthread_mutex_unlock(&dev->bus->lock);
	return addr;
}
