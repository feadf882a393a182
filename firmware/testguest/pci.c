// SPDX-License-Identifier: MIT
/*
 * Ring-3 PCI: configuration space through ports 0xcf8/0xcfc (husk, q35)
 * or ECAM (microvm,pcie=on),
 * BAR sizing, BAR assignment when firmware left a BAR at 0 (QEMU without a
 * BIOS), capability lists.
 */
#include "virtio.h"

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define PCI_COMMAND	0x04
#define PCI_CMD_MEM	0x2
#define PCI_CMD_MASTER	0x4
#define PCI_STATUS	0x06
#define PCI_STATUS_CAP	0x10
#define PCI_BAR0	0x10
#define PCI_CAP_PTR	0x34

/* Where we place BARs firmware did not assign (inside husk's 32-bit window). */
#define ASSIGN_BASE	0xc0000000ULL
#define ASSIGN_END	0xe0000000ULL
static uint64_t assign_next = ASSIGN_BASE;

/*
 * ECAM, when the ports show no bus (microvm,pcie=on has no 0xcf8): the
 * base from pci_ecam= or husk's and microvm's 0xe0000000.
 */
#define ECAM_DEFAULT	0xe0000000ULL
static volatile uint8_t *ecam;
static int probed;

static void pci_select(int bus, int slot, int fn, int off)
{
	outl(PCI_ADDR, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)slot << 11 |
		       (uint32_t)fn << 8 | (off & 0xfc));
}

static volatile uint32_t *ecam_reg(int bus, int slot, int fn, int off)
{
	return (volatile uint32_t *)(ecam + ((uint64_t)bus << 20 | (uint64_t)slot << 15 |
					     (uint64_t)fn << 12 | (off & 0xffc)));
}

uint32_t pci_read32(int bus, int slot, int fn, int off)
{
	if (ecam)
		return *ecam_reg(bus, slot, fn, off);
	pci_select(bus, slot, fn, off);
	return inl(PCI_DATA);
}

uint16_t pci_read16(int bus, int slot, int fn, int off)
{
	return pci_read32(bus, slot, fn, off) >> ((off & 2) * 8);
}

uint8_t pci_read8(int bus, int slot, int fn, int off)
{
	return pci_read32(bus, slot, fn, off) >> ((off & 3) * 8);
}

void pci_write32(int bus, int slot, int fn, int off, uint32_t v)
{
	if (ecam) {
		*ecam_reg(bus, slot, fn, off) = v;
		return;
	}
	pci_select(bus, slot, fn, off);
	outl(PCI_DATA, v);
}

/* Read-modify-write of the dword: fine for the registers we touch. */
void pci_write16(int bus, int slot, int fn, int off, uint16_t v)
{
	uint32_t d = pci_read32(bus, slot, fn, off);
	int sh = (off & 2) * 8;

	d = (d & ~(0xffffu << sh)) | (uint32_t)v << sh;
	if ((off & ~3) == PCI_COMMAND)
		d &= 0xffff;		/* status bits are write-1-to-clear */
	pci_write32(bus, slot, fn, off, d);
}

static int bus_has_device(void)
{
	int s;

	for (s = 0; s < 32; s++) {
		uint16_t vendor = pci_read32(0, s, 0, 0) & 0xffff;

		if (vendor != 0xffff && vendor != 0)	/* 0: nothing decodes there */
			return 1;
	}
	return 0;
}

/* Is there a PCI bus at all (plain microvm has none)? Ports first, then ECAM. */
int pci_present(void)
{
	static int present;
	char val[24];
	uint64_t base = ECAM_DEFAULT;

	if (probed)
		return present;
	probed = 1;
	if (!cmdline_get("pci_ecam", val, sizeof(val)) && !parse_uint(val, &base) && base) {
		ecam = map_mmio(base, 1 << 20);
		return present = ecam && bus_has_device();
	}
	if ((present = bus_has_device()))
		return 1;
	ecam = map_mmio(base, 1 << 20);
	if (ecam && !(present = bus_has_device()))
		ecam = NULL;
	return present;
}

static uint64_t bar_assign(uint64_t size)
{
	uint64_t a = (assign_next + size - 1) & ~(size - 1);

	if (a + size > ASSIGN_END)
		return 0;
	assign_next = a + size;
	return a;
}

/* Size BAR @bar (decoding must be off), assigning it when it reads 0. */
int pci_bar(int bus, int slot, int fn, int bar, struct pci_bar *out)
{
	int off = PCI_BAR0 + 4 * bar;
	uint32_t lo = pci_read32(bus, slot, fn, off), hi = 0, mlo, mhi = 0xffffffff;
	uint16_t cmd = pci_read16(bus, slot, fn, PCI_COMMAND);
	uint64_t mask;

	memset(out, 0, sizeof(*out));
	out->io = lo & 1;
	out->is64 = !out->io && ((lo >> 1) & 3) == 2;
	pci_write16(bus, slot, fn, PCI_COMMAND, cmd & ~3);
	pci_write32(bus, slot, fn, off, 0xffffffff);
	mlo = pci_read32(bus, slot, fn, off);
	pci_write32(bus, slot, fn, off, lo);
	if (out->is64) {
		hi = pci_read32(bus, slot, fn, off + 4);
		pci_write32(bus, slot, fn, off + 4, 0xffffffff);
		mhi = pci_read32(bus, slot, fn, off + 4);
		pci_write32(bus, slot, fn, off + 4, hi);
	}
	pci_write16(bus, slot, fn, PCI_COMMAND, cmd);
	mask = ((uint64_t)mhi << 32 | (mlo & (out->io ? ~3u : ~15u)));
	if (!out->is64)
		mask |= 0xffffffff00000000ULL;
	if (!(mlo & ~15u))
		return -1;			/* not implemented */
	out->size = ~mask + 1;
	out->addr = ((uint64_t)hi << 32 | lo) & (out->io ? ~3ULL : ~15ULL);
	if (!out->addr && !out->io) {
		out->addr = bar_assign(out->size);
		if (!out->addr)
			return -1;
		printf("pci: %02x:%02x.%x BAR %d was unassigned: %#llx (%llu KiB)\n", bus, slot,
		       fn, bar, (unsigned long long)out->addr, (unsigned long long)out->size >> 10);
		pci_write32(bus, slot, fn, off, (lo & 15) | (uint32_t)out->addr);
		if (out->is64)
			pci_write32(bus, slot, fn, off + 4, out->addr >> 32);
	}
	return 0;
}

/* Next capability with ID @id after config offset @pos (0: from the start). */
int pci_next_cap(int bus, int slot, int fn, int pos, int id)
{
	int guard = 48;

	if (!(pci_read16(bus, slot, fn, PCI_STATUS) & PCI_STATUS_CAP))
		return 0;
	pos = pos ? pci_read8(bus, slot, fn, pos + 1) : pci_read8(bus, slot, fn, PCI_CAP_PTR);
	while (pos >= 0x40 && guard--) {
		pos &= 0xfc;
		if (pci_read8(bus, slot, fn, pos) == id)
			return pos;
		pos = pci_read8(bus, slot, fn, pos + 1);
	}
	return 0;
}

void pci_enable_mem(int bus, int slot, int fn)
{
	uint16_t cmd = pci_read16(bus, slot, fn, PCI_COMMAND);

	pci_write16(bus, slot, fn, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_MASTER);
}
