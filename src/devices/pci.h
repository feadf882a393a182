/* SPDX-License-Identifier: MIT */
#ifndef HUSK_PCI_H
#define HUSK_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/pci_regs.h>

#include "core/statebuf.h"
#include "devices/iobus.h"
#include "devices/irq.h"
#include "devices/irq_routing.h"

/*
 * PCI: one host bridge, bus 0, up to PCI_SLOTS devices (function 0 only),
 * configuration space through mechanism #1 (ports 0xcf8/0xcfc) and ECAM,
 * BARs allocated from the windows in devices/pci_layout.h, MSI-X
 * (devices/msix.h) and INTx. The register names are Linux's
 * <linux/pci_regs.h>.
 *
 * A device model (virtio-pci, VFIO passthrough, ...) embeds a struct
 * pci_device, describes itself, then registers:
 *
 *	pci_device_init(&d->pci, "virtio-blk", &id, &my_ops, d);
 *	pci_device_add_bar(&d->pci, 0, PCI_BAR_MEM64, 0x4000, true);
 *	off = pci_cap_add(&d->pci, PCI_CAP_ID_VNDR, 16);   (fill with pci_cfg_set*)
 *	msix_init(&d->pci, nvec, 0, 0x2000, 0, 0x3000);
 *	pci_register_device(bus, &d->pci);      (slot, BAR addresses, GSIs)
 *
 * Guest accesses reach the device through its ops:
 *  - bar_read/bar_write: an access inside a memory or I/O BAR the guest
 *    has mapped (decode enabled), at an offset from the BAR's start, any
 *    length the exit had (1, 2, 4, 8); accesses to the MSI-X table and PBA
 *    are handled by the PCI layer and never reach these. Called on vCPU
 *    threads, concurrently, without any PCI lock: the device serialises
 *    its own state.
 *  - bar_mapped: the BAR became decoded at @addr (mapped = true) or stopped
 *    being decoded there (false): moved by the guest, decode turned off,
 *    device unregistered. virtio-pci moves its notify ioeventfds here, VFIO
 *    its memory slots.
 *  - cfg_read: after the PCI layer filled @data from the emulated config
 *    space; may change it (VFIO: read from the device; virtio: the
 *    VIRTIO_PCI_CAP_PCI_CFG window).
 *  - cfg_write: after the write was applied to the emulated config space
 *    through the write masks; @data is what the guest wrote.
 *  Config hooks and bar_mapped run with the bus lock held (config accesses
 *  are serialised): they may use pci_cfg_get/pci_cfg_set on their own
 *  device, and must not call other pci_* functions that take the lock.
 *  Config hooks see accesses that lie within one dword (offset + len <= the
 *  next multiple of 4), 1 to 4 bytes.
 *
 * The guest-visible state of a device is its config space (struct
 * pci_device_state) plus its MSI-X state; BAR mappings and the INTx line
 * are derived from them.
 */
#define PCI_SLOTS		32
#define PCI_HOST_BRIDGE_SLOT	0
#define PCI_BAR_UNMAPPED	UINT64_MAX

/* The host bridge at 00:00.0 (the ID Cloud Hypervisor also uses). */
#define PCI_HOST_BRIDGE_VENDOR	0x8086
#define PCI_HOST_BRIDGE_DEVICE	0x0d57

struct pci_bus;
struct pci_device;
struct msix;

enum pci_bar_kind {
	PCI_BAR_UNUSED = 0,
	PCI_BAR_MEM32,		/* allocated in the 32-bit window */
	PCI_BAR_MEM64,		/* two BAR registers; allocated in the 64-bit window */
	PCI_BAR_IO,		/* allocated in the I/O port window */
	PCI_BAR_MEM64_HIGH,	/* (internal) upper half of the BAR below */
};

struct pci_device_ops {
	void (*bar_read)(struct pci_device *dev, unsigned bar, uint64_t offset,
			 uint8_t *data, uint32_t len);
	void (*bar_write)(struct pci_device *dev, unsigned bar, uint64_t offset,
			  const uint8_t *data, uint32_t len);
	void (*bar_mapped)(struct pci_device *dev, unsigned bar, uint64_t addr, bool mapped);
	void (*cfg_read)(struct pci_device *dev, uint32_t offset, uint8_t *data, uint32_t len);
	void (*cfg_write)(struct pci_device *dev, uint32_t offset, const uint8_t *data,
			  uint32_t len);
};

struct pci_device_id {
	uint16_t vendor;
	uint16_t device;
	uint16_t subsys_vendor;
	uint16_t subsys_id;
	uint32_t class_code;	/* base class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t intx_pin;	/* 0: none, 1 = INTA .. 4 = INTD */
	bool pcie_cfg;		/* 4096-byte config space (the rest reachable by ECAM) */
};

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetchable;
	uint64_t size;		/* a power of two */
	/* runtime */
	bool mapped;		/* registered on its io_bus at addr */
	uint64_t addr;
	struct pci_device *dev;
	uint8_t index;
};

/* Guest-visible state: plain data, saved and restored as a whole. */
struct pci_device_state {
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
};

struct pci_device {
	/* set by pci_device_init() and the device's own setup */
	const char *name;
	const struct pci_device_ops *ops;
	void *priv;
	struct pci_device_state st;
	uint8_t wmask[PCI_CFG_SPACE_EXP_SIZE];		/* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SPACE_EXP_SIZE];	/* bits the guest clears with a 1 */
	uint32_t cfg_size;		/* 256 or 4096 */
	uint32_t cap_next;		/* where the next capability goes */
	uint32_t cap_last;		/* offset of the last capability's "next" byte */
	struct pci_bar bar[PCI_STD_NUM_BARS];
	struct msix *msix;
	int slot;			/* requested slot, or -1 for any */
	/* set by pci_register_device() */
	struct pci_bus *bus;
	struct irq_line intx;
	bool intx_level;		/* the level the device asked for */
	bool intx_asserted;		/* the level on the line */
};

/* ---- the bus --------------------------------------------------------- */

struct pci_bus_params {
	struct io_bus *pio;		/* 0xcf8/0xcfc, I/O BARs */
	struct io_bus *mmio;		/* ECAM, memory BARs */
	struct irq_routing *routing;	/* GSIs for MSI-X vectors */
	int vm_fd;			/* INTx lines; < 0 in unit tests */
	uint64_t ram_size;		/* places the 64-bit window */
};

/* Creates the bus with its host bridge at 00:00.0 and claims the config ports and ECAM. */
int pci_bus_create(const struct pci_bus_params *p, struct pci_bus **out);
/* Call with vCPUs stopped; devices still registered are unregistered. */
void pci_bus_destroy(struct pci_bus *bus);
/* The 64-bit BAR window [*base, *base + *size) this bus allocates from. */
void pci_bus_mmio64_window(struct pci_bus *bus, uint64_t *base, uint64_t *size);
/* The device in @slot, or NULL. */
struct pci_device *pci_bus_device(struct pci_bus *bus, unsigned slot);

/* ---- describing a device (before pci_register_device) ---------------- */

void pci_device_init(struct pci_device *dev, const char *name, const struct pci_device_id *id,
		     const struct pci_device_ops *ops, void *priv);
/*
 * Declare BAR @bar (0-5; a PCI_BAR_MEM64 takes @bar and @bar + 1). @size is
 * a power of two: memory BARs at least 16 bytes (allocated with at least
 * page alignment), I/O BARs 4 to 256 bytes. Returns 0 or -EINVAL / -EBUSY.
 */
int pci_device_add_bar(struct pci_device *dev, unsigned bar, enum pci_bar_kind kind,
		       uint64_t size, bool prefetchable);
/*
 * Append a capability of @len bytes (>= 2) with ID @cap_id to the list in
 * the first 256 bytes; returns its offset (dword aligned, >= 0x40), or
 * -ENOSPC. The body is read-only until the device sets write masks.
 */
int pci_cap_add(struct pci_device *dev, uint8_t cap_id, uint8_t len);

/*
 * Raw config space access for the device itself (setup, hooks): no masks,
 * no side effects; out-of-range offsets are ignored / read 0.
 */
uint32_t pci_cfg_get(const struct pci_device *dev, uint32_t offset, uint32_t len);
void pci_cfg_set(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value);
/* Which bits of [offset, offset + len) the guest may write / clear with 1s. */
void pci_cfg_set_wmask(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t mask);
void pci_cfg_set_w1cmask(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t mask);

/* ---- registration and runtime ---------------------------------------- */

/*
 * Place @dev on @bus: a slot (dev->slot, or the first free one), addresses
 * for its BARs (written to the BAR registers as firmware would; decoding
 * stays off until the guest enables it in the command register), its INTx
 * GSI (in the Interrupt Line register) and, with MSI-X, a GSI and irqfd per
 * vector. Returns 0, -EBUSY (slot taken), -ENOSPC (no slot or window
 * space), -EINVAL, or an error from KVM.
 */
int pci_register_device(struct pci_bus *bus, struct pci_device *dev);
/* Unmaps the BARs and releases slot, GSIs and irqfds (vCPUs stopped). */
void pci_unregister_device(struct pci_device *dev);
/* Frees what msix_init() allocated; for a device not (or no longer) registered. */
void pci_device_release(struct pci_device *dev);

/*
 * Set the device's INTx level (1 = asserted). The line follows it unless
 * the command register's INTx Disable bit is set or MSI-X is enabled; the
 * status register's Interrupt Status bit always shows it. Any thread.
 */
int pci_intx_set(struct pci_device *dev, int level);

/* Where BAR @bar is decoded now, or PCI_BAR_UNMAPPED. */
uint64_t pci_bar_addr(struct pci_device *dev, unsigned bar);

/*
 * A configuration access as the guest makes it, to bus 0 device @slot
 * (function 0) at @offset: what the 0xcfc and ECAM handlers call. Exposed
 * for tests and for VMMs with another access path.
 */
void pci_bus_cfg_read(struct pci_bus *bus, unsigned slot, uint32_t offset, uint8_t *data,
		      uint32_t len);
void pci_bus_cfg_write(struct pci_bus *bus, unsigned slot, uint32_t offset,
		       const uint8_t *data, uint32_t len);

/*
 * Saved state (core/statebuf.h) of one registered device: its config space
 * (BARs, COMMAND, MSI-X Message Control, ...) and its MSI-X table and PBA.
 * The load wants the same device (its read-only config bytes, the size of
 * its config space and MSI-X table must match, which also catches another
 * configuration), then re-runs what a config write does: BARs mapped where
 * the guest put them (bar_mapped hooks included), MSI-X enable and masks,
 * the GSI routes of the vectors that can fire, pending vectors, INTx.
 * Device models save their own registers beside it.
 */
#define PCI_DEVICE_STATE_VERSION 1
int pci_device_save(struct pci_device *dev, struct state_writer *w);
int pci_device_load(struct pci_device *dev, struct state_reader *r);
/* The bus: the 0xcf8 latch and the host bridge's config space. */
#define PCI_BUS_STATE_VERSION 1
int pci_bus_save(struct pci_bus *bus, struct state_writer *w);
int pci_bus_load(struct pci_bus *bus, struct state_reader *r);

#endif
