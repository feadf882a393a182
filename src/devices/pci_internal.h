/* SPDX-License-Identifier: MIT */
/* Shared between pci.c, pci_cfg.c, pci_bar.c and msix.c only. */
#ifndef HUSK_PCI_INTERNAL_H
#define HUSK_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/statebuf.h"
#include "devices/msix.h"
#include "devices/pci.h"

/* The bits of CONFIG_ADDRESS (0xcf8) a dword write sets. */
#define CF8_WRITABLE		0x8ffffffcu

/* Guest-visible state of the bus itself. */
struct pci_bus_state {
	uint32_t config_address;	/* the 0xcf8 latch */
};

/* A bump allocator over one window. */
struct pci_window {
	uint64_t base;
	uint64_t size;
	uint64_t next;
};

struct pci_bus {
	pthread_mutex_t lock;		/* config accesses, INTx, BAR mapping */
	struct pci_bus_state st;
	struct io_bus *pio;
	struct io_bus *mmio;
	struct irq_routing *routing;
	int vm_fd;
	struct pci_window mmio32;
	struct pci_window mmio64;
	struct pci_window io;
	struct pci_device *slots[PCI_SLOTS];
	struct pci_device host_bridge;
	int nr_regions;			/* how many of cf8/cfc/ECAM are registered */
};

/* pci_cfg.c */
int pci_cfg_register(struct pci_bus *bus);
void pci_cfg_unregister(struct pci_bus *bus);

/* pci.c (bus lock held) */
void pci_cfg_side_effects(struct pci_device *dev, uint32_t offset, uint32_t len);

/* pci_bar.c */
int pci_bars_allocate(struct pci_bus *bus, struct pci_device *dev);
void pci_bars_update(struct pci_device *dev);		/* bus lock held */
void pci_bars_unmap(struct pci_device *dev);		/* bus lock held */
bool pci_bar_is_memory(const struct pci_device *dev, unsigned bar);

/* msix.c */
int msix_connect(struct pci_device *dev, struct irq_routing *rt);
void msix_disconnect(struct pci_device *dev);
void msix_destroy(struct pci_device *dev);
void msix_cfg_written(struct pci_device *dev, uint32_t offset, uint32_t len);	/* bus lock */
/* A BAR access the MSI-X table or PBA claims: true if handled. */
bool msix_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
		   uint32_t len);
bool msix_bar_write(struct pci_device *dev, unsigned bar, uint64_t offset,
		    const uint8_t *data, uint32_t len);

/* msix.c, saved state (pci_state.c frames it inside the device's) */
void msix_state_save(struct pci_device *dev, struct state_writer *w);	/* bus lock */
/* Reads and checks the MSI-X part into @out; changes nothing. */
int msix_state_read(struct pci_device *dev, struct state_reader *r, struct msix_state *out);
/* Installs @st (bus lock held); the caller then runs the config side effects. */
void msix_state_apply(struct pci_device *dev, const struct msix_state *st);

static inline bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

#endif
