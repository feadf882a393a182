// SPDX-License-Identifier: MIT
/*
 * PCI config space, BAR sizing and MSI-X (devices/pci*.c, msix.c) on a
 * synthetic function whose layout comes from the input: a 32-bit, a 64-bit
 * prefetchable and an I/O BAR, MSI-X with 1..2048 vectors whose table and
 * PBA lie in the BARs. Its bar_read/bar_write hooks trap on an access
 * outside the BAR or inside the MSI-X structures (the PCI layer must keep
 * those). The input:
 *   byte 0   vectors (u16 % 2048 + 1), byte 2 bit 0 table in BAR 2,
 *            bit 1 PBA in BAR 2, bit 2 PCIe config space
 *   then ops:
 *     0-3  config access (pci_bus_cfg_*): slot, offset u16 % 4096 (often
 *          a BAR or the MSI-X capability), width 1/2/4, value
 *     4-5  BAR access at the BAR's current address + offset, width 1-8
 *     6    msix_notify(vector); 7 pci_intx_set(level)
 *     8    BAR sizing: write all-ones to a BAR register, read it back
 */
#include "fuzz_helpers.h"
#include "fuzz_fake_kvm.h"
#include "devices/msix.h"
#include "devices/pci.h"

struct fdev {
	struct pci_device pci;
	uint32_t table_off, pba_off, tsize, psize;
	unsigned tbar, pbar;
};

static const uint64_t bar_size[PCI_STD_NUM_BARS] = { 0x1000, 0, 0x10000, 0, 0x40, 0 };

static void check(struct pci_device *dev, unsigned bar, uint64_t off, uint32_t len)
{
	struct fdev *f = dev->priv;

	if (bar >= PCI_STD_NUM_BARS || !bar_size[bar] || off > bar_size[bar] ||
	    len > bar_size[bar] - off || len == 0 || len > 8)
		__builtin_trap();
	if ((bar == f->tbar && off < f->table_off + f->tsize && off + len > f->table_off) ||
	    (bar == f->pbar && off < f->pba_off + f->psize && off + len > f->pba_off))
		__builtin_trap();
}

static void fbar_read(struct pci_device *dev, unsigned bar, uint64_t off, uint8_t *data,
		      uint32_t len)
{
	check(dev, bar, off, len);
	memset(data, 0x11, len);
}

static void fbar_write(struct pci_device *dev, unsigned bar, uint64_t off, const uint8_t *data,
		       uint32_t len)
{
	(void)data;
	check(dev, bar, off, len);
}

static void fcfg(struct pci_device *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	(void)data;
	if (len < 1 || len > 4 || (off & 3) + len > 4 || off + len > dev->cfg_size)
		__builtin_trap();
}

static void fcfg_w(struct pci_device *dev, uint32_t off, const uint8_t *data, uint32_t len)
{
	fcfg(dev, off, (uint8_t *)(uintptr_t)data, len);
}

static const struct pci_device_ops fops = {
	.bar_read = fbar_read, .bar_write = fbar_write, .cfg_read = fcfg, .cfg_write = fcfg_w,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t widths[] = { 1, 2, 4, 8 };
	struct fuzz_in in = fuzz_in_init(data, size);
	uint16_t nvec = (uint16_t)(fuzz_u16(&in) % MSIX_MAX_VECTORS + 1);
	uint8_t lay = fuzz_u8(&in);
	struct pci_device_id id = { .vendor = 0x1234, .device = 0x5678, .class_code = 0xff0000,
				    .intx_pin = 1, .pcie_cfg = lay & 4 };
	struct io_bus *pio = iobus_create("pio"), *mmio = iobus_create("mmio");
	struct irq_routing *rt = NULL;
	struct pci_bus *bus;
	struct pci_bus_params p;
	struct fdev *f = calloc(1, sizeof(*f));
	int cap;

	fz_kvm_reset(false, false);
	if (!pio || !mmio || !f || irq_routing_create(FAKE_VM_FD, &rt))
		fuzz_die("fuzz_pci setup");
	p = (struct pci_bus_params){ .pio = pio, .mmio = mmio, .routing = rt, .vm_fd = FAKE_VM_FD,
				     .ram_size = 0x10000 };
	if (pci_bus_create(&p, &bus))
		fuzz_die("pci_bus_create");
	f->tsize = 16u * nvec;
	f->psize = (nvec + 63) / 64 * 8;
	f->tbar = lay & 1 ? 2 : 0;
	f->pbar = lay & 2 ? 2 : 0;
	f->table_off = 0;
	f->pba_off = f->tbar == f->pbar ? (f->tsize + 7) & ~7u : 0;
	pci_device_init(&f->pci, "fuzz-pci", &id, &fops, f);
	if (pci_device_add_bar(&f->pci, 0, PCI_BAR_MEM32, 0x1000, false) ||
	    pci_device_add_bar(&f->pci, 2, PCI_BAR_MEM64, 0x10000, true) ||
	    pci_device_add_bar(&f->pci, 4, PCI_BAR_IO, 0x40, false))
		fuzz_die("pci_device_add_bar");
	cap = msix_init(&f->pci, nvec, f->tbar, f->table_off, f->pbar, f->pba_off);
	if (cap < 0) {		/* did not fit: no MSI-X then */
		f->tbar = f->pbar = PCI_STD_NUM_BARS;
		cap = 0x40;
	}
	if (pci_register_device(bus, &f->pci))
		fuzz_die("pci_register_device");
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in) % 9, b;
		uint32_t off, len;
		uint64_t v, a;

		switch (op) {
		case 0: case 1: case 2: case 3:
			b = fuzz_u8(&in);
			off = b & 0x80 ? fuzz_u16(&in) % 4096 :
			      (b & 0x40 ? (uint32_t)cap : PCI_BASE_ADDRESS_0) + fuzz_u8(&in) % 32;
			len = widths[b % 3];
			v = fuzz_u32(&in);
			if (op & 1)
				pci_bus_cfg_write(bus, b & 0x20 ? (unsigned)f->pci.slot : b % PCI_SLOTS,
						  off, (const uint8_t *)&v, len);
			else
				pci_bus_cfg_read(bus, b & 0x20 ? (unsigned)f->pci.slot : b % PCI_SLOTS,
						 off, (uint8_t *)&v, len);
			break;
		case 4: case 5:
			b = fuzz_u8(&in);
			a = pci_bar_addr(&f->pci, (b % 3) * 2);
			if (a == PCI_BAR_UNMAPPED)
				break;
			a += fuzz_u16(&in) % 0x10010;
			len = widths[(b >> 2) & 3];
			v = fuzz_u64(&in);
			if (b % 3 == 2)
				len = len > 4 ? 4 : len;
			if (op & 1)
				iobus_write(b % 3 == 2 ? pio : mmio, a, (const uint8_t *)&v, len);
			else
				iobus_read(b % 3 == 2 ? pio : mmio, a, (uint8_t *)&v, len);
			break;
		case 6:
			msix_notify(&f->pci, fuzz_u16(&in) % (nvec + 2));
			break;
		case 7:
			pci_intx_set(&f->pci, fuzz_u8(&in) & 1);
			break;
		default:
			off = PCI_BASE_ADDRESS_0 + 4 * (fuzz_u8(&in) % 6);
			v = 0xffffffff;
			pci_bus_cfg_write(bus, (unsigned)f->pci.slot, off, (const uint8_t *)&v, 4);
			pci_bus_cfg_read(bus, (unsigned)f->pci.slot, off, (uint8_t *)&v, 4);
			break;
		}
	}
	pci_unregister_device(&f->pci);
	pci_device_release(&f->pci);
	pci_bus_destroy(bus);
	irq_routing_destroy(rt);
	iobus_destroy(pio);
	iobus_destroy(mmio);
	fz_kvm_check_empty();
	free(f);
	return 0;
}
