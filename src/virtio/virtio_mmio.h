/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_MMIO_H
#define HUSK_VIRTIO_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include "devices/iobus.h"
#include "virtio/virtio_dev.h"

/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2), for minimal
 * kernels without PCI.
 *
 * Placement: device slot n (in creation order) has its registers at
 * VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SIZE and interrupts on the n-th GSI of
 * virtio_mmio_gsis[] (ISA lines, edge-triggered through an irqfd). The
 * guest learns of them from the kernel command line, which husk extends
 * with one `virtio_mmio.device=4K@0xADDR:GSI` per device (Linux's
 * virtio_mmio module parameter, as Firecracker and QEMU microvm do); they
 * are not in the ACPI tables (a kernel would then probe them twice).
 *
 * Notifications: QueueNotify (offset 0x50) is a KVM ioeventfd per queue,
 * 4 bytes, matching the queue index; any other access exits and is
 * forwarded to the same kick eventfd. All registers are 32-bit (other
 * widths are ignored / read 0); the device config at 0x100 takes any width.
 */
#define VIRTIO_MMIO_BASE	0xf0000000ull	/* free MMIO-hole space below the IOAPIC */
#define VIRTIO_MMIO_SIZE	0x1000ull
#define VIRTIO_MMIO_MAX_DEVICES	8
#define VIRTIO_MMIO_VENDOR	0x4b535548	/* "HUSK" */
#define VIRTIO_MMIO_CONFIG_OFF	0x100

extern const uint8_t virtio_mmio_gsis[VIRTIO_MMIO_MAX_DEVICES];

/* The VM's virtio-mmio slots. */
struct virtio_mmio_bus {
	struct io_bus *mmio;
	int vm_fd;
	unsigned used;
};

/*
 * Append the command-line announcements of @ndevices devices to @buf
 * (NUL-terminated, @len bytes in all). Returns 0, -E2BIG (too many
 * devices) or -ENOSPC.
 */
int virtio_mmio_cmdline(unsigned ndevices, char *buf, size_t len);

struct virtio_mmio;
/* Take the next slot for @vd. Returns 0, -ENOSPC (all slots taken) or -errno. */
int virtio_mmio_attach(struct virtio_dev *vd, struct virtio_mmio_bus *bus,
		       struct virtio_mmio **out);
void virtio_mmio_detach(struct virtio_mmio *vm);
uint64_t virtio_mmio_base(const struct virtio_mmio *vm);
/* The irqfd that raises the device's GSI (tests read it when vm_fd < 0). */
int virtio_mmio_irqfd(const struct virtio_mmio *vm);

#endif
