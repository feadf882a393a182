/* SPDX-License-Identifier: MIT */
/*
 * The fixture of fuzz_pci_bus and fuzz_virtio_pci (header only): a PCI bus
 * (0xcf8/0xcfc, ECAM, BARs) with a virtio-pci function, optionally a
 * virtio-mmio device, both fz_vdev devices on one exactly sized guest RAM,
 * KVM faked (fuzz_fake_kvm.h). Guest accesses are dispatched as the vCPU
 * thread does (iobus_read/iobus_write), after KVM's own ioeventfds had
 * their say. The input is a header, then operations:
 *   header  byte 0: bit 0 KVM_CAP_IOEVENTFD_ANY_LENGTH, bit 1 KVM_IOEVENTFD
 *           fails, bit 2 the virtio-mmio device, bits 3-4 queues - 1
 *   op % 16
 *     0-4   an access: byte (bit 0 write, bits 1-2 width index: 1,2,4,8),
 *           an address (fz_bus_addr: cf8/cfc, ECAM, a BAR where the guest
 *           put it, virtio-pci BAR 0, virtio-mmio, anywhere), a value
 *     5-7   a ring edit (fz_guest_op, its op byte next)
 *     8     config write through 0xcf8/0xcfc: slot, register, width, value
 *     9     virtio-pci: set up a queue through the common config
 *     10    virtio-pci: negotiate features and DRIVER_OK
 *     11    virtio-pci: program and unmask an MSI-X vector, enable MSI-X
 *     12    both devices serve their queues
 *     13    the devices: needs reset / config changed
 *     14    virtio-mmio: set up a queue, negotiate, DRIVER_OK
 *     15    move virtio-pci BAR 0 (decode off, new address, decode on)
 */
#ifndef HUSK_FUZZ_VIRTIO_BUS_H
#define HUSK_FUZZ_VIRTIO_BUS_H

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>

#include "fuzz_virtio_helpers.h"
#include "fuzz_fake_kvm.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_pci.h"

#define FZ_BUS_RAM	0x10000ull

struct fz_bus {
	struct fz_guest g;
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct fz_vdev *pdev, *mdev;
	struct virtio_pci *vp;
	struct virtio_mmio_bus mbus;
	struct virtio_mmio *vm;
	unsigned slot;
};

static inline void fz_bus_access(struct fz_bus *b, bool pio, bool write, uint64_t addr,
				 uint32_t len, uint64_t *v)
{
	struct io_bus *bus = pio ? b->pio : b->mmio;

	if (write) {
		if (!fz_kvm_ioeventfd(pio, addr, len, *v & (len == 8 ? ~0ull : (1ull << 8 * len) - 1)))
			iobus_write(bus, addr, (const uint8_t *)v, len);
	} else {
		*v = 0;
		iobus_read(bus, addr, (uint8_t *)v, len);
	}
}

static inline void fz_bus_w(struct fz_bus *b, bool pio, uint64_t addr, uint32_t len, uint64_t v)
{
	fz_bus_access(b, pio, true, addr, len, &v);
}

static inline uint64_t fz_bus_r(struct fz_bus *b, bool pio, uint64_t addr, uint32_t len)
{
	uint64_t v;

	fz_bus_access(b, pio, false, addr, len, &v);
	return v;
}

static inline void fz_cfg_w(struct fz_bus *b, unsigned slot, unsigned reg, uint32_t len,
			    uint32_t v)
{
	fz_bus_w(b, true, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	fz_bus_w(b, true, PCI_CONFIG_DATA_PORT + (reg & 3), len, v);
}

static inline uint64_t fz_bar0(struct fz_bus *b)
{
	return pci_bar_addr(virtio_pci_device(b->vp), 0);
}

/* An address: *pio says which bus. */
static inline uint64_t fz_bus_addr(struct fuzz_in *in, struct fz_bus *b, bool *pio)
{
	uint8_t sel = fuzz_u8(in);
	struct pci_device *dev;
	uint64_t a;

	*pio = false;
	switch (sel % 8) {
	case 0:
		*pio = true;
		return PCI_CONFIG_ADDRESS_PORT + fuzz_u8(in) % 8;
	case 1:
		return PCI_ECAM_BASE + ((uint64_t)(fuzz_u8(in) % 32) << 15 | fuzz_u16(in) % 4096);
	case 2:		/* a BAR of any device, wherever the guest moved it */
		dev = pci_bus_device(b->bus, fuzz_u8(in) % PCI_SLOTS);
		if (!dev)
			return fuzz_u64(in);
		sel = fuzz_u8(in) % PCI_STD_NUM_BARS;
		a = pci_bar_addr(dev, sel);
		*pio = dev->bar[sel].kind == PCI_BAR_IO;
		return a + fuzz_u16(in) % 0x8010 - 8;
	case 3:
	case 4:
		return fz_bar0(b) + fuzz_u16(in) % (VIRTIO_PCI_BAR_SIZE + 8);
	case 5:
		return VIRTIO_MMIO_BASE + fuzz_u16(in) % 0x1010;
	case 6:
		*pio = true;
		return fuzz_u16(in);
	default:
		return fuzz_u64(in);
	}
}

static inline void fz_cmn_w(struct fz_bus *b, unsigned off, uint32_t len, uint64_t v)
{
	fz_bus_w(b, false, fz_bar0(b) + VIRTIO_PCI_COMMON_OFF + off, len, v);
}

static inline void fz_pci_queue(struct fuzz_in *in, struct fz_bus *b)
{
	unsigned q = fuzz_u8(in) % (b->pdev->vd.nqueues + 1);
	unsigned size = 1u << (fuzz_u8(in) % 10);
	uint64_t desc = fz_addr(in, &b->g), avail = fz_addr(in, &b->g), used = fz_addr(in, &b->g);

	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_MSIX, 2, fuzz_u8(in) % 8);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_DESCLO, 8, desc);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)avail);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, avail >> 32);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)used);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_USEDHI, 4, used >> 32);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	fz_guest_queue(&b->g, size, desc, avail, used);
}

static inline void fz_pci_negotiate(struct fuzz_in *in, struct fz_bus *b)
{
	uint64_t feat = fuzz_bool(in) ? fuzz_u64(in) : b->pdev->vd.device_features;
	const uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	fz_cmn_w(b, VIRTIO_PCI_COMMON_STATUS, 1, s);
	for (unsigned w = 0; w < 2; w++) {
		fz_cmn_w(b, VIRTIO_PCI_COMMON_GFSELECT, 4, w);
		fz_cmn_w(b, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(feat >> (32 * w)));
	}
	fz_cmn_w(b, VIRTIO_PCI_COMMON_STATUS, 1, s | VIRTIO_CONFIG_S_FEATURES_OK);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_MSIX, 2, fuzz_u8(in) % 8);
	if (fuzz_bool(in))
		fz_pci_queue(in, b);
	fz_cmn_w(b, VIRTIO_PCI_COMMON_STATUS, 1,
		 s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static inline void fz_pci_msix(struct fuzz_in *in, struct fz_bus *b)
{
	struct pci_device *dev = virtio_pci_device(b->vp);
	uint64_t t = fz_bar0(b) + VIRTIO_PCI_MSIX_TABLE_OFF + 16ull * (fuzz_u8(in) % 8);
	unsigned cap = pci_cfg_get(dev, PCI_CAPABILITY_LIST, 1), hops = 0;

	while (cap && pci_cfg_get(dev, cap, 1) != PCI_CAP_ID_MSIX && hops++ < 48)
		cap = pci_cfg_get(dev, cap + 1, 1);
	fz_bus_w(b, false, t + PCI_MSIX_ENTRY_LOWER_ADDR, 4, 0xfee00000u | fuzz_u8(in) << 12);
	fz_bus_w(b, false, t + PCI_MSIX_ENTRY_UPPER_ADDR, 4, 0);
	fz_bus_w(b, false, t + PCI_MSIX_ENTRY_DATA, 4, fuzz_u8(in));
	fz_bus_w(b, false, t + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, fuzz_u8(in) & 1);
	if (cap)
		fz_cfg_w(b, b->slot, cap + PCI_MSIX_FLAGS, 2, fuzz_u8(in) & 1 ?
			 PCI_MSIX_FLAGS_ENABLE : PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
}

static inline void fz_mmio_bringup(struct fuzz_in *in, struct fz_bus *b)
{
	uint64_t base = virtio_mmio_base(b->vm);
	unsigned size = 1u << (fuzz_u8(in) % 10);
	uint64_t desc = fz_addr(in, &b->g), avail = fz_addr(in, &b->g), used = fz_addr(in, &b->g);
	uint64_t feat = b->mdev->vd.device_features;
	const uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	fz_bus_w(b, false, base + VIRTIO_MMIO_STATUS, 4, s);
	for (unsigned w = 0; w < 2; w++) {
		fz_bus_w(b, false, base + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, w);
		fz_bus_w(b, false, base + VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)(feat >> 32 * w));
	}
	fz_bus_w(b, false, base + VIRTIO_MMIO_STATUS, 4, s | VIRTIO_CONFIG_S_FEATURES_OK);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_SEL, 4, fuzz_u8(in) % 2);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_NUM, 4, size);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)desc);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, desc >> 32);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, (uint32_t)avail);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 4, avail >> 32);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_USED_LOW, 4, (uint32_t)used);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_USED_HIGH, 4, used >> 32);
	fz_bus_w(b, false, base + VIRTIO_MMIO_QUEUE_READY, 4, 1);
	fz_bus_w(b, false, base + VIRTIO_MMIO_STATUS, 4,
		 s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	fz_guest_queue(&b->g, size, desc, avail, used);
}

static inline void fz_bar_move(struct fuzz_in *in, struct fz_bus *b)
{
	uint64_t a = fuzz_bool(in) ? fuzz_u64(in) : fz_bar0(b) + (uint64_t)fuzz_u16(in) * 0x8000;

	fz_cfg_w(b, b->slot, PCI_COMMAND, 2, 0);
	fz_cfg_w(b, b->slot, PCI_BASE_ADDRESS_0, 4, (uint32_t)a);
	fz_cfg_w(b, b->slot, PCI_BASE_ADDRESS_1, 4, (uint32_t)(a >> 32));
	fz_cfg_w(b, b->slot, PCI_COMMAND, 2, fuzz_u8(in) & 7);
}

static inline void fz_bus_setup(struct fz_bus *b, uint8_t hdr)
{
	struct pci_bus_params p;
	unsigned nq = 1 + (hdr >> 3) % 4;

	memset(b, 0, sizeof(*b));
	fz_kvm_reset(hdr & 1, hdr & 2);
	fz_guest_init(&b->g, FZ_BUS_RAM);
	fz_guest_queue(&b->g, 1, 0, 0, 0);
	b->pio = iobus_create("pio");
	b->mmio = iobus_create("mmio");
	if (!b->pio || !b->mmio || irq_routing_create(FAKE_VM_FD, &b->rt))
		fuzz_die("fz_bus_setup");
	p = (struct pci_bus_params){ .pio = b->pio, .mmio = b->mmio, .routing = b->rt,
				     .vm_fd = FAKE_VM_FD, .ram_size = FZ_BUS_RAM };
	if (pci_bus_create(&p, &b->bus))
		fuzz_die("pci_bus_create");
	b->pdev = fz_vdev_new(&b->g.mem, 0x30000000ull, nq, 256);
	if (virtio_pci_attach(&b->pdev->vd, b->bus, FAKE_VM_FD, &b->vp))
		fuzz_die("virtio_pci_attach");
	b->slot = (unsigned)virtio_pci_device(b->vp)->slot;
	fz_cfg_w(b, b->slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (hdr & 4) {
		b->mbus = (struct virtio_mmio_bus){ .mmio = b->mmio, .vm_fd = FAKE_VM_FD };
		b->mdev = fz_vdev_new(&b->g.mem, 0x30000000ull, 2, 64);
		if (virtio_mmio_attach(&b->mdev->vd, &b->mbus, &b->vm))
			fuzz_die("virtio_mmio_attach");
	}
}

static inline void fz_bus_teardown(struct fz_bus *b)
{
	if (b->vm) {
		virtio_mmio_detach(b->vm);
		fz_vdev_free(b->mdev);
	}
	virtio_pci_detach(b->vp);
	fz_vdev_free(b->pdev);
	pci_bus_destroy(b->bus);
	irq_routing_destroy(b->rt);
	iobus_destroy(b->pio);
	iobus_destroy(b->mmio);
	fz_kvm_check_empty();
	fz_guest_free(&b->g);
}

static inline void fz_bus_op(struct fuzz_in *in, struct fz_bus *b)
{
	static const uint32_t widths[] = { 1, 2, 4, 8 };
	uint8_t op = fuzz_u8(in) % 16, a;
	uint64_t addr, v;
	bool pio;

	switch (op) {
	case 0: case 1: case 2: case 3: case 4:
		a = fuzz_u8(in);
		addr = fz_bus_addr(in, b, &pio);
		v = fuzz_u64(in);
		fz_bus_access(b, pio, a & 1, addr, pio && (a & 6) == 6 ? 4 : widths[(a >> 1) & 3],
			      &v);
		return;
	case 8:
		a = fuzz_u8(in);
		fz_cfg_w(b, a % PCI_SLOTS, fuzz_u8(in), widths[(a >> 5) % 3], fuzz_u32(in));
		return;
	case 9:
		fz_pci_queue(in, b);
		return;
	case 10:
		fz_pci_negotiate(in, b);
		return;
	case 11:
		fz_pci_msix(in, b);
		return;
	case 12:
		fz_vdev_service(b->pdev);
		if (b->mdev)
			fz_vdev_service(b->mdev);
		return;
	case 13:
		a = fuzz_u8(in);
		if (a & 1)
			virtio_dev_needs_reset(&((a & 2) && b->mdev ? b->mdev : b->pdev)->vd);
		else
			virtio_dev_config_changed(&((a & 2) && b->mdev ? b->mdev : b->pdev)->vd);
		return;
	case 14:
		if (b->vm)
			fz_mmio_bringup(in, b);
		return;
	case 15:
		fz_bar_move(in, b);
		return;
	default:
		fz_guest_op(in, &b->g, fuzz_u8(in));
		return;
	}
}

#endif
