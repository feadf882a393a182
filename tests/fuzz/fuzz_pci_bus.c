// SPDX-License-Identifier: MIT
/*
 * A whole PCI bus as the guest sees it: config space through 0xcf8/0xcfc and
 * ECAM, BARs wherever the guest moves them, a virtio-pci function with
 * MSI-X, a virtio-mmio device, accesses dispatched as on a vCPU (KVM's
 * ioeventfds first). See fuzz_virtio_bus.h for the input. At the end every
 * ioeventfd and irqfd must have been given back.
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
	struct fuzz_in in = fuzz_in_init(data, size);
	struct fz_bus b;

	fz_bus_setup(&b, fuzz_u8(&in));
	while (fuzz_left(&in))
		fz_bus_op(&in, &b);
	fz_bus_teardown(&b);
	return 0;
}
