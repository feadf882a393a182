// SPDX-License-Identifier: MIT
/*
 * The virtio-pci transport (virtio/virtio_pci.c) alone on its bus: the same
 * fixture as fuzz_pci_bus (fuzz_virtio_bus.h) without the virtio-mmio
 * device, most operations being accesses to BAR 0's structures (common
 * config, ISR, device config, notify, MSI-X table and PBA). The input:
 *   byte 0    the fuzz_virtio_bus.h header (bit 2 ignored)
 *   then ops  byte b: b % 3 == 0: one fz_bus_op(); else a BAR 0 access:
 *             byte (bit 0 write, bits 1-2 width), region (common, ISR,
 *             device config, notify, MSI-X table, PBA, anywhere), offset
 *             byte, value
 */
#include "fuzz_virtio_bus.h"

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
	static const uint32_t regions[] = {
		VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_DEVCFG_OFF,
		VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_MSIX_PBA_OFF,
	};
	struct fuzz_in in = fuzz_in_init(data, size);
	struct fz_bus b;

	fz_bus_setup(&b, fuzz_u8(&in) & ~4);
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in), a;
		uint64_t off, v;

		if (op % 3 == 0) {
			fz_bus_op(&in, &b);
			continue;
		}
		a = fuzz_u8(&in);
		off = fuzz_u8(&in) % 7;
		off = off < 6 ? regions[off] + fuzz_u8(&in) : fuzz_u16(&in);
		v = fuzz_u64(&in);
		fz_bus_access(&b, false, a & 1, fz_bar0(&b) + off, widths[(a >> 1) & 3], &v);
	}
	fz_bus_teardown(&b);
	return 0;
}
