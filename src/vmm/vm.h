/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VM_H
#define HUSK_VM_H

#include <stdatomic.h>
#include <stdint.h>

#include "husk/husk.h"
#include "boot/boot.h"
#include "core/stop.h"
#include "cpu/vcpu.h"
#include "devices/devices.h"
#include "devices/irq_routing.h"
#include "devices/pci.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_transport.h"
#include "memory/guest_mem.h"
#include "vmm/kvm.h"

/* Everything one VM owns. Passed explicitly; there is one per process. */
struct husk_vm {
	struct husk_config cfg;
	uint64_t start_ns;		/* CLOCK_MONOTONIC at creation */

	struct kvm kvm;
	struct guest_mem mem;
	struct io_bus *pio;
	struct io_bus *mmio;
	struct boot_entry entry;

	struct console console;
	struct irq_line serial_irq;
	struct serial *serial;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct debug_ports *debug;
	struct acpi_pm *acpi_pm;
	struct irq_line ged_irq;
	struct acpi_ged *acpi_ged;	/* acpi_power_button() presses the power button */
	struct irq_routing *routing;	/* the GSI routing table: legacy routes, MSI-X */
	struct pci_bus *pci;		/* the host bridge and bus 0 (devices/pci.h) */
	struct virtio_mmio_bus vmmio;	/* --virtio-transport mmio slots */
	struct virtio_env venv;		/* where virtio devices attach */
	struct virtio_rng *rng;		/* --rng (virtio/virtio_rng.h) */
	struct blk_image disk_img[HUSK_MAX_DISKS];	/* opened before KVM, then the device's */
	struct virtio_blk *disks[HUSK_MAX_DISKS];	/* --disk (virtio/virtio_blk.h) */
	char disk_ids[HUSK_MAX_DISKS][16];		/* default ids: disk0, disk1, ... */
	struct tap net_tap[HUSK_MAX_NETS];		/* opened before KVM, then the device's */
	struct virtio_net *nets[HUSK_MAX_NETS];		/* --net (virtio/virtio_net.h) */
	char net_ids[HUSK_MAX_NETS][16];		/* default ids: net0, net1, ... */
	char *cmdline;			/* cfg.cmdline plus husk's additions */

	unsigned ncpus;
	struct vcpu *vcpus;

	struct stop_hook stop_hook;
	atomic_int stop_reason;		/* enum stop_reason; first request wins */
	int exit_status;
	int stop_fd;			/* eventfd: wakes the event loop on stop */
	int rx_wake_fd;			/* eventfd: the UART has room again */
	atomic_uint probe_gen;		/* halt-probe generation */
};

void vm_request_stop(struct husk_vm *vm, enum stop_reason why, int exit_status);
bool vm_stopping(const struct husk_vm *vm);
/* A vCPU answered a halt probe; stops the VM when every vCPU is dead-halted. */
void vm_halt_probe_answered(struct husk_vm *vm, unsigned gen);

/* vmm/eventloop.c: the main thread's loop; returns when the VM stops. */
int vm_event_loop(struct husk_vm *vm);

#endif
