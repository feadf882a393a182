// SPDX-License-Identifier: MIT
/* Snapshot and restore of a whole VM: the device table and the assembly (snapshot.h). */
#include "state/snapshot.h"
#include "cpu/vcpu_state.h"
#include "devices/kvm_chips.h"
#include "state/snapconfig.h"
#include "state/snapfile.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_transport.h"
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include "core/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned one(const struct husk_config *cfg) { (void)cfg; return 1; }
static unsigned ncpus(const struct husk_config *cfg) { return cfg->cpus; }
static unsigned ndisks(const struct husk_config *cfg) { return cfg->ndisks; }
static unsigned nnets(const struct husk_config *cfg) { return cfg->nnets; }
static unsigned has_rng(const struct husk_config *cfg) { return cfg->rng ? 1 : 0; }

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
SNAP_ONE(watchdog, watchdog)
SNAP_ONE(debug_ports, debug)
SNAP_ONE(pci_bus, pci)
SNAP_ONE(virtio_rng, rng)

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
	{ "vcpu%u", VCPU_STATE_VERSION, "vCPU state", ncpus, vcpu_snap_save, vcpu_snap_load },
};
const unsigned snap_ndevices = sizeof(snap_devices) / sizeof(snap_devices[0]);
const struct snap_table snap_default_table = {
	snap_devices, sizeof(snap_devices) / sizeof(snap_devices[0]),
};

static void dev_tag(const struct snap_device *d, unsigned i, char tag[SNAP_TAG_MAX + 1])
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(tag, SNAP_TAG_MAX + 1, d->tag, i);
#pragma GCC diagnostic pop
}

/* Every device of @cfg must have save (or load): else "not supported yet". */
static int snap_check_supported(const struct snap_table *t, const struct husk_config *cfg,
				int loading, char *err, size_t errlen)
{
	char tag[SNAP_TAG_MAX + 1];

	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		if (!d->count(cfg) || (loading ? d->load != NULL : d->save != NULL))
			continue;
		dev_tag(d, 0, tag);
		snprintf(err, errlen, "not supported yet: %s (section \"%s\") has no %s", d->what,
			 tag, loading ? "restore" : "snapshot");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int snap_build(const struct snap_table *t, struct husk_vm *vm, struct snap_builder *b,
		      char *err, size_t errlen)
{
	struct state_writer w;
	struct snap_host host;
	char tag[SNAP_TAG_MAX + 1];
	int ret;

	ret = snap_host_get(vm->kvm.supported, &host, err, errlen);
	if (ret)
		return ret;
	sw_init(&w);
	ret = snap_config_save(&vm->cfg, &w, err, errlen);
	if (!ret)
		snap_builder_add(b, "config", SNAP_CONFIG_VERSION, w.buf, w.len);
	sw_release(&w);
	if (ret)
		return ret;
	snap_host_save(&host, &w);
	snap_builder_add(b, "host", SNAP_HOST_VERSION, w.buf, w.len);
	sw_release(&w);
	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		for (unsigned i = 0, n = d->count(&vm->cfg); i < n; i++) {
			dev_tag(d, i, tag);
			ret = d->save(vm, i, &w);
			if (!ret)
				snap_builder_add(b, tag, d->version, w.buf, w.len);
			sw_release(&w);
			if (ret) {
				snprintf(err, errlen, "section \"%s\": saving: %s", tag,
					 strerror(-ret));
				return ret;
			}
		}
	}
	if (b->err)
		snprintf(err, errlen, "building the state file: %s", strerror(-b->err));
	return b->err;
}

int vm_snapshot_save_table(const struct snap_table *t, struct husk_vm *vm, const char *path,
			   const char *mem_path, char *err, size_t errlen)
{
	struct snap_builder b;
	char *mem_tmp = NULL, *tmp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (!path || !*path || !mem_path || !*mem_path) {
		snprintf(err, errlen, "snapshot_path and mem_file_path are both required");
		return -EINVAL;
	}
	if (!strcmp(path, mem_path)) {
		snprintf(err, errlen, "snapshot %s: the state and memory files must differ", path);
		return -EINVAL;
	}
	if (!husk_vm_is_paused(vm)) {
		snprintf(err, errlen, "snapshot %s: the microVM must be paused first "
			 "(PATCH /vm {\"state\":\"Paused\"})", path);
		return -EBUSY;
	}
	ret = snap_check_supported(t, &vm->cfg, 0, err, errlen);
	if (ret)
		return ret;
	snap_builder_init(&b);
	ret = snap_build(t, vm, &b, err, errlen);
	if (!ret && (ret = snap_builder_finish(&b, &buf, &len)))
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(-ret));
	snap_builder_release(&b);
	if (!ret)
		ret = snap_write_temp(mem_path, "mem_file_path", vm->mem.hva, vm->mem.size, 1,
				      &mem_tmp, err, errlen);
	if (!ret)
		ret = snap_write_temp(path, "snapshot", buf, len, 0, &tmp, err, errlen);
	if (!ret)
		ret = snap_commit(mem_tmp, mem_path, "mem_file_path", err, errlen);
	else if (mem_tmp)
		unlink(mem_tmp);
	if (ret && tmp)
		unlink(tmp);
	else if (!ret && (ret = snap_commit(tmp, path, "snapshot", err, errlen)))
		unlink(mem_path);	/* a memory file without its state is of no use */
	free(mem_tmp);
	free(tmp);
	free(buf);
	return ret;
}

static bool snap_tag_expected(const struct snap_table *t, const struct husk_config *cfg,
			      const char *tg)
{
	char tag[SNAP_TAG_MAX + 1];

	if (!strcmp(tg, "config") || !strcmp(tg, "host"))
		return true;
	for (unsigned k = 0; k < t->n; k++)
		for (unsigned i = 0, n = t->dev[k].count(cfg); i < n; i++) {
			dev_tag(&t->dev[k], i, tag);
			if (!strcmp(tag, tg))
				return true;
		}
	return false;
}

/* Every section is "config", "host" or a device of @cfg; every device has one. */
static int snap_check_sections(const struct snap_table *t, const struct snap_file *f,
			       const struct husk_config *cfg, char *why, size_t whylen)
{
	char tag[SNAP_TAG_MAX + 1];

	for (unsigned j = 0; j < f->nsections; j++) {
		if (!snap_tag_expected(t, cfg, f->sections[j].tag)) {
			snprintf(why, whylen, "section \"%s\": unknown (not a device of this VM)",
				 f->sections[j].tag);
			return -EINVAL;
		}
	}
	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		for (unsigned i = 0, n = d->count(cfg); i < n; i++) {
			const struct snap_section *s;

			dev_tag(d, i, tag);
			s = snap_find(f, tag);
			if (!s) {
				snprintf(why, whylen, "section \"%s\" (%s) is missing", tag, d->what);
				return -EINVAL;
			}
			if (s->version != d->version) {
				snprintf(why, whylen, "section \"%s\": version %u, this husk reads "
					 "version %u", tag, s->version, d->version);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The file's "config" and "host", checked against this host: nothing built yet. */
static int snap_open(const struct snap_table *t, const char *path, struct snap_file *f,
		     struct str_arena *arena, struct husk_config *cfg, char *err, size_t errlen)
{
	const struct snap_section *cs, *hs;
	struct snap_host saved, here;
	struct state_reader r;
	char why[SNAP_WHY_LEN];
	int ret;

	ret = snap_read_file(path, f, err, errlen);
	if (ret)
		return ret;
	cs = snap_find(f, "config");
	hs = snap_find(f, "host");
	if (!cs || !hs || cs->version != SNAP_CONFIG_VERSION || hs->version != SNAP_HOST_VERSION) {
		snprintf(err, errlen, "snapshot %s: section \"%s\": %s", path,
			 !cs || cs->version != SNAP_CONFIG_VERSION ? "config" : "host",
			 !cs || !hs ? "missing" : "unknown version");
		return -EINVAL;
	}
	r = snap_section_reader(f, cs);
	if (snap_config_load(&r, cfg, arena)) {
		snprintf(err, errlen, "snapshot %s: section \"config\": %s", path, r.why);
		return -EINVAL;
	}
	r = snap_section_reader(f, hs);
	if (snap_host_load(&r, &saved)) {
		snprintf(err, errlen, "snapshot %s: section \"host\": %s", path, r.why);
		return -EINVAL;
	}
	ret = snap_check_sections(t, f, cfg, why, sizeof(why));
	if (!ret && (ret = snap_check_supported(t, cfg, 1, why, sizeof(why))) == 0 &&
	    (ret = snap_host_get(NULL, &here, why, sizeof(why))) == 0)
		ret = snap_host_check(&saved, &here, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "snapshot %s: %s", path, why);
	return ret;
}

static int snap_mem_check(const char *mem_path, uint64_t size, int *fdp, char *err,
			  size_t errlen)
{
	struct stat st;
	int fd = open(mem_path, O_RDONLY | O_CLOEXEC), ret;

	*fdp = -1;
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "memory file %s: %s", mem_path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		snprintf(err, errlen, "memory file %s: %s%llu bytes, the snapshot's VM has %llu",
			 mem_path, S_ISREG(st.st_mode) ? "" : "not a regular file, ",
			 (unsigned long long)st.st_size, (unsigned long long)size);
		close(fd);
		return -EINVAL;
	}
	*fdp = fd;
	return 0;
}

int snap_mem_load(struct guest_mem *m, const char *mem_path, char *err, size_t errlen)
{
	int fd, ret = snap_mem_check(mem_path, m->size, &fd, err, errlen);

	if (ret)
		return ret;
	/* lazy: pages come from the page cache when first touched, writes stay private */
	if (!m->hugepages && mmap(m->hva, m->size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0) == m->hva) {
		m->file_private = true;
		close(fd);
		return 0;
	}
	for (uint64_t off = 0; off < m->size;) {
		ssize_t n = pread(fd, m->hva + off, m->size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "memory file %s: reading at byte %llu: %s", mem_path,
				 (unsigned long long)off, n < 0 ? strerror(-ret) : "it shrank");
			close(fd);
			return ret;
		}
		off += (uint64_t)n;
	}
	close(fd);
	return 0;
}

static int snap_load_devices(const struct snap_table *t, struct husk_vm *vm,
			     const struct snap_file *f, const char *path, char *err, size_t errlen)
{
	char tag[SNAP_TAG_MAX + 1];

	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		for (unsigned i = 0, n = d->count(&vm->cfg); i < n; i++) {
			struct state_reader r;

			dev_tag(d, i, tag);
			r = snap_section_reader(f, snap_find(f, tag));
			if (d->load(vm, i, &r)) {
				snprintf(err, errlen, "snapshot %s: section \"%s\": %s", path, tag,
					 r.why[0] ? r.why : "invalid");
				return -EINVAL;
			}
		}
	}
	return 0;
}

int vm_snapshot_restore_table(const struct snap_table *t, const char *path, const char *mem_path,
			      struct str_arena *arena, struct husk_config *cfg,
			      struct husk_vm **out, char *err, size_t errlen)
{
	struct husk_config c;
	struct snap_file f;
	struct husk_vm *vm = NULL;
	int fd, ret;

	*out = NULL;
	ret = snap_open(t, path, &f, arena, &c, err, errlen);
	if (!ret)
		ret = snap_mem_check(mem_path, c.memory, &fd, err, errlen);
	if (!ret)
		close(fd);
	if (!ret) {
		c.restore = true;
		ret = husk_vm_create(&c, &vm, err, errlen);
	}
	if (!ret)
		ret = snap_mem_load(&vm->mem, mem_path, err, errlen);
	if (!ret)
		ret = snap_load_devices(t, vm, &f, path, err, errlen);
	snap_file_free(&f);
	if (ret) {
		husk_vm_destroy(vm);
		return ret;
	}
	*cfg = c;
	*out = vm;
	return 0;
}

int vm_snapshot_save(struct husk_vm *vm, const char *path, const char *mem_path, char *err,
		     size_t errlen)
{
	return vm_snapshot_save_table(&snap_default_table, vm, path, mem_path, err, errlen);
}

int vm_snapshot_restore(const char *path, const char *mem_path, struct str_arena *arena,
			struct husk_config *cfg, struct husk_vm **out, char *err, size_t errlen)
{
	return vm_snapshot_restore_table(&snap_default_table, path, mem_path, arena, cfg, out,
					 err, errlen);
}
