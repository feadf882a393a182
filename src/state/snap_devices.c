// SPDX-License-Identifier: MIT
/* The snapshot device table: one entry and two small adapters per device type (snapshot.h). */
#include "state/snapshot.h"
#include "core/log.h"
#include "cpu/vcpu_state.h"
#include "devices/kvm_chips.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_transport.h"
#include "vmm/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static unsigned one(const struct husk_config *cfg) { (void)cfg; return 1; }
static unsigned ncpus(const struct husk_config *cfg) { return cfg->cpus; }
static unsigned ndisks(const struct husk_config *cfg) { return cfg->ndisks; }
static unsigned nnets(const struct husk_config *cfg) { return cfg->nnets; }
static unsigned has_rng(const struct husk_config *cfg) { return cfg->rng ? 1 : 0; }
static unsigned has_balloon(const struct husk_config *cfg) { return cfg->balloon.enabled ? 1 : 0; }

/* Adapters from the table's (vm, index) to each device's save/load. */
#define SNAP_ONE(name, field)								\
static int name##_snap_save(struct husk_vm *vm, unsigned i, struct state_writer *w)	\
{											\
	(void)i;									\
	return name##_save(vm->field, w);						\
}											\
static int name##_snap_load(struct husk_vm *vm, unsigned i, struct state_reader *r)	\
{											\
	(void)i;									\
	return name##_load(vm->field, r);						\
}
SNAP_ONE(serial, serial)
SNAP_ONE(i8042, i8042)
SNAP_ONE(rtc, rtc)
SNAP_ONE(acpi_pm, acpi_pm)
SNAP_ONE(acpi_ged, acpi_ged)
SNAP_ONE(pvpanic, pvpanic)
SNAP_ONE(vmgenid, vmgenid)
SNAP_ONE(watchdog, watchdog)
SNAP_ONE(debug_ports, debug)
SNAP_ONE(pci_bus, pci)
SNAP_ONE(virtio_rng, rng)
SNAP_ONE(virtio_balloon, balloon)

static int balloon_tr_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	(void)i;
	return virtio_transport_save(virtio_balloon_transport(vm->balloon), w);
}

static int balloon_tr_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	(void)i;
	return virtio_transport_load(virtio_balloon_transport(vm->balloon), r);
}

static int rng_tr_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	(void)i;
	return virtio_transport_save(virtio_rng_transport(vm->rng), w);
}

static int rng_tr_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	(void)i;
	return virtio_transport_load(virtio_rng_transport(vm->rng), r);
}

static int disk_tr_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	return virtio_transport_save(virtio_blk_transport(vm->disks[i]), w);
}

static int disk_tr_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	return virtio_transport_load(virtio_blk_transport(vm->disks[i]), r);
}

static int disk_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	return virtio_blk_save(vm->disks[i], w);
}

static int disk_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	return virtio_blk_load(vm->disks[i], r);
}

static int net_tr_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	return virtio_transport_save(virtio_net_transport(vm->nets[i]), w);
}

static int net_tr_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	return virtio_transport_load(virtio_net_transport(vm->nets[i]), r);
}

static int net_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	return virtio_net_save(vm->nets[i], w);
}

static int net_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	return virtio_net_load(vm->nets[i], r);
}

/* The VM-wide KVM devices (PICs, IOAPIC, PIT, clock): section "vm". */
static int vm_chips_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	struct kvm_chips_state st;
	const char *what;
	int ret = kvm_chips_get(vm->kvm.vm_fd, &st, &what);

	(void)i;
	if (ret) {
		pr_err("snapshot: %s: %s", what, strerror(-ret));
		return ret;
	}
	kvm_chips_write(&st, w);
	return w->err;
}

static int vm_chips_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	struct kvm_chips_state st;
	const char *what;
	int ret;

	(void)i;
	if (kvm_chips_read(r, &st))
		return r->err;
	ret = kvm_chips_set(vm->kvm.vm_fd, &st, vm->restore_clock_realtime, &what);
	if (ret)
		return sr_fail(r, "%s: %s", what, strerror(-ret));
	return 0;
}

/* One vCPU's registers, LAPIC, MSRs, events: section "vcpuN". */
static int vcpu_snap_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	struct vcpu_state *st = malloc(sizeof(*st));
	struct vcpu_state_caps caps;
	const char *what;
	int ret;

	if (!st)
		return -ENOMEM;
	vcpu_state_caps_probe(vm->kvm.vm_fd, &caps);
	ret = vcpu_state_get(vm->vcpus[i].fd, &caps, vm->kvm.msr_list, st, &what);
	if (ret)
		pr_err("snapshot: vCPU %u: %s: %s", i, what, strerror(-ret));
	else
		vcpu_state_write(st, w);
	free(st);
	return ret ? ret : w->err;
}

static int vcpu_snap_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	struct vcpu_state *st = malloc(sizeof(*st));
	struct vcpu_state_caps caps;
	const char *what;
	int ret;

	if (!st)
		return sr_fail(r, "%s", strerror(ENOMEM));
	if (vcpu_state_read(r, st)) {
		free(st);
		return r->err;
	}
	vcpu_state_caps_probe(vm->kvm.vm_fd, &caps);
	ret = vcpu_state_set(vm->vcpus[i].fd, &caps, st, &what);
	free(st);
	if (ret)
		return sr_fail(r, "%s: %s", what, ret == -EOPNOTSUPP ?
			       "not supported by this host's KVM" : strerror(-ret));
	return 0;
}

/*
 * Load order: the PCI bus and the transports (their BARs, MSI-X tables and
 * so the GSI routes) before the devices whose queues notify through them,
 * the vCPUs (LAPIC, MSRs, TSC) last. GSI routing has no section: the routes
 * follow from the MSI-X tables (pci_device_load commits them) and the
 * legacy routes are rebuilt by the VM builder. NOT YET: an entry with NULL
 * save/load is a device type whose save/load does not exist yet; a VM that
 * has one cannot be snapshotted ("not supported yet").
 */
const struct snap_device snap_devices[] = {
	{ "vm", KVM_CHIPS_STATE_VERSION, "the KVM VM state (PIT, PIC, IOAPIC, clock)", one,
	  vm_chips_save, vm_chips_load },
	{ "pci", PCI_BUS_STATE_VERSION, "the PCI bus", one, pci_bus_snap_save, pci_bus_snap_load },
	{ "serial0", SERIAL_STATE_VERSION, "the 8250 UART", one, serial_snap_save,
	  serial_snap_load },
	{ "i8042", I8042_STATE_VERSION, "the i8042 controller", one, i8042_snap_save,
	  i8042_snap_load },
	{ "rtc", RTC_STATE_VERSION, "the RTC", one, rtc_snap_save, rtc_snap_load },
	{ "acpi_pm", ACPI_PM_STATE_VERSION, "the ACPI PM registers", one, acpi_pm_snap_save,
	  acpi_pm_snap_load },
	{ "acpi_ged", ACPI_GED_STATE_VERSION, "the ACPI GED", one, acpi_ged_snap_save,
	  acpi_ged_snap_load },
	{ "pvpanic", PVPANIC_STATE_VERSION, "pvpanic", one, pvpanic_snap_save, pvpanic_snap_load },
	{ "vmgenid", VMGENID_STATE_VERSION, "the VM generation ID", one, vmgenid_snap_save,
	  vmgenid_snap_load },
	{ "watchdog", WATCHDOG_STATE_VERSION, "the WDAT watchdog", one, watchdog_snap_save,
	  watchdog_snap_load },
	{ "debug_ports", DEBUG_PORTS_STATE_VERSION, "the debug ports", one, debug_ports_snap_save,
	  debug_ports_snap_load },
	{ "rng.tr", VIRTIO_TRANSPORT_STATE_VERSION, "virtio-rng's transport", has_rng,
	  rng_tr_save, rng_tr_load },
	{ "disk%u.tr", VIRTIO_TRANSPORT_STATE_VERSION, "virtio-blk's transport", ndisks,
	  disk_tr_save, disk_tr_load },
	{ "rng", VIRTIO_RNG_STATE_VERSION, "virtio-rng", has_rng, virtio_rng_snap_save,
	  virtio_rng_snap_load },
	{ "disk%u", VIRTIO_BLK_STATE_VERSION, "virtio-blk", ndisks, disk_save, disk_load },
	{ "net%u.tr", VIRTIO_TRANSPORT_STATE_VERSION, "virtio-net's transport", nnets,
	  net_tr_save, net_tr_load },
	{ "net%u", VIRTIO_NET_STATE_VERSION, "virtio-net", nnets, net_save, net_load },
	{ "balloon.tr", VIRTIO_TRANSPORT_STATE_VERSION, "virtio-balloon's transport", has_balloon,
	  balloon_tr_save, balloon_tr_load },
	{ "balloon", VIRTIO_BALLOON_STATE_VERSION, "virtio-balloon", has_balloon,
	  virtio_balloon_snap_save, virtio_balloon_snap_load },
	{ "vcpu%u", VCPU_STATE_VERSION, "vCPU state", ncpus, vcpu_snap_save, vcpu_snap_load },
};
const unsigned snap_ndevices = sizeof(snap_devices) / sizeof(snap_devices[0]);
const struct snap_table snap_default_table = {
	snap_devices, sizeof(snap_devices) / sizeof(snap_devices[0]),
};
