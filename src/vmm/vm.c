// SPDX-License-Identifier: MIT
/* The VM builder: validate a config, then create everything, or nothing. */
#include "vmm/vm.h"
#include "core/log.h"
#include "memory/layout.h"
#include "vmm/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ	 4

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int check_readable_file(const char *flag, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", flag, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", flag, path);
		close(fd);
		return -EINVAL;
	}
	close(fd);
	return 0;
}

/* Checks that need no KVM: done before anything is created. */
static int validate_config(const struct husk_config *cfg, char *err, size_t errlen)
{
	char a[CONFIG_ID_BUF], b[CONFIG_ID_BUF];
	enum console_kind kind;
	const char *id;
	const char *path;
	int ret;

	if (!cfg->kernel && !cfg->restore) {
		snprintf(err, errlen, "--kernel is required (see husk --help)");
		return -EINVAL;
	}
	/* a restore's RAM comes from the memory file: the kernel is not read */
	ret = cfg->restore ? 0 : check_readable_file("--kernel", cfg->kernel, err, errlen);
	if (!ret && cfg->initrd && !cfg->restore)
		ret = check_readable_file("--initrd", cfg->initrd, err, errlen);
	if (ret)
		return ret;
	if (cfg->cpus < 1 || cfg->cpus > HUSK_MAX_CPUS) {
		snprintf(err, errlen, "--cpus %u: must be between 1 and %u", cfg->cpus,
			 HUSK_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg->memory < LAYOUT_MIN_MEMORY || cfg->memory > LAYOUT_MAX_MEMORY) {
		snprintf(err, errlen, "--memory %llu bytes: must be between 8M and 1T",
			 (unsigned long long)cfg->memory);
		return -EINVAL;
	}
	if (cfg->memory % 4096) {
		snprintf(err, errlen, "--memory %llu bytes: must be a multiple of 4K",
			 (unsigned long long)cfg->memory);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->ndisks; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(id = config_disk_id(cfg, i, a), config_disk_id(cfg, j, b))) {
				snprintf(err, errlen, "--disk id=%s: two disks have that id", id);
				return -EINVAL;
			}
	for (unsigned i = 0; i < cfg->nnets; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(id = config_net_id(cfg, i, a), config_net_id(cfg, j, b))) {
				snprintf(err, errlen, "--net id=%s: two NICs have that id", id);
				return -EINVAL;
			}
	if ((unsigned)cfg->watchdog_action > HUSK_WATCHDOG_NONE) {
		snprintf(err, errlen, "--watchdog-action %u: expected reset, poweroff or none",
			 (unsigned)cfg->watchdog_action);
		return -EINVAL;
	}
	if (console_parse(cfg->serial, &kind, &path) < 0) {
		snprintf(err, errlen, "--serial %s: expected stdio, none, file:PATH or pty",
			 cfg->serial);
		return -EINVAL;
	}
	return 0;
}

static void vm_stop_hook(void *ctx, enum stop_reason why, int status)
{
	vm_request_stop(ctx, why, status);
}

/*
 * Every fd field of the VM and of what it embeds starts at -1, before
 * anything can fail: husk_vm_destroy() closes only fds >= 0, and a 0 left
 * by calloc() would close the process's fd 0 (after a failed InstanceStart,
 * the API's next connection).
 */
static void vm_init_fds(struct husk_vm *vm)
{
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
	vm->mem.fd = -1;
	vm->mem.uffd = -1;
	console_init(&vm->console);
	for (unsigned i = 0; i < HUSK_MAX_DISKS; i++)
		vm->disk_img[i].fd = -1;
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++)
		for (unsigned q = 0; q < HUSK_MAX_QUEUES; q++)
			vm->net_tap[i].fds[q] = -1;
	vm->stop_fd = vm->rx_wake_fd = vm->shutdown_fd = vm->metrics_fd = -1;
}

/* NULL when out of memory or eventfds; nothing is left behind then. */
static struct husk_vm *vm_alloc(const struct husk_config *cfg)
{
	struct husk_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm_init_fds(vm);
	vm->cfg = *cfg;
	vm->start_ns = now_ns();
	vm->stop_hook = (struct stop_hook){ .request = vm_stop_hook, .ctx = vm };
	atomic_init(&vm->stop_reason, STOP_NONE);
	vm_orch_init(vm);	/* shutdown_fd stays -1 on failure */
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->rx_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* the sink stays open while the VM lives (a FIFO reader sees no EOF) */
	if (cfg->metrics_path)
		vm->metrics_fd = metrics_open(cfg->metrics_path);
	if (vm->stop_fd < 0 || vm->rx_wake_fd < 0 || vm->shutdown_fd < 0 ||
	    (cfg->metrics_path && vm->metrics_fd < 0)) {
		husk_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static int vm_check_cpus(struct husk_vm *vm, char *err, size_t errlen)
{
	if (vm->cfg.cpus > vm->kvm.max_vcpus) {
		snprintf(err, errlen, "--cpus %u: this host's KVM allows at most %u",
			 vm->cfg.cpus, vm->kvm.max_vcpus);
		return -EINVAL;
	}
	vm->ncpus = vm->cfg.cpus;
	return 0;
}

/* How many virtio devices the config asks for (each takes a transport slot). */
static unsigned vm_virtio_count(const struct husk_config *cfg)
{
	return (cfg->rng ? 1 : 0) + (cfg->balloon.enabled ? 1 : 0) + cfg->ndisks + cfg->nnets;
}

static int vm_load_kernel(struct husk_vm *vm, char *err, size_t errlen)
{
	struct boot_request req = {
		.kernel = vm->cfg.kernel,
		.initrd = vm->cfg.initrd,
		.cmdline = vm->cmdline,
		.virtio_mmio = vm->cfg.transport == HUSK_VIRTIO_MMIO ? vm_virtio_count(&vm->cfg) : 0,
		.ncpus = vm->ncpus,
	};

	return boot_load(&vm->mem, &req, &vm->entry, err, errlen);
}

/*
 * The GSI routing table and the PCI bus (host bridge at 00:00.0, config
 * ports, ECAM). PCI devices register after this and before
 * vm_commit_routing(); the ACPI tables (boot/acpi*.c) describe the same
 * windows and INTx lines.
 */
static int vm_create_pci(struct husk_vm *vm, char *err, size_t errlen)
{
	struct pci_bus_params p = {
		.pio = vm->pio, .mmio = vm->mmio, .vm_fd = vm->kvm.vm_fd,
		.ram_size = vm->mem.size,
	};
	int ret;

	ret = irq_routing_create(vm->kvm.vm_fd, &vm->routing);
	if (ret) {
		snprintf(err, errlen, "GSI routing: %s", strerror(-ret));
		return ret;
	}
	p.routing = vm->routing;
	ret = pci_bus_create(&p, &vm->pci);
	if (ret)
		snprintf(err, errlen, "PCI bus: %s", strerror(-ret));
	return ret;
}

/*
 * Replaces KVM's default GSI routing with the table's: the same legacy
 * routes (GSI n -> IOAPIC pin n, n < 16 also -> PIC) plus the MSI routes
 * of the devices registered so far. Once, before any vCPU runs; later
 * changes (MSI-X reprogramming) commit again from the PCI layer.
 */
static int vm_commit_routing(struct husk_vm *vm, char *err, size_t errlen)
{
	int ret = irq_routing_commit(vm->routing);

	if (ret)
		snprintf(err, errlen, "KVM_SET_GSI_ROUTING: %s", strerror(-ret));
	return ret;
}

/*
 * The kernel command line: the user's, then root=/dev/vda rw|ro for a root
 * drive (Firecracker's is_root_device; the config keeps it first), plus
 * (virtio-mmio) one virtio_mmio.device= per device, which is how the guest
 * finds them.
 */
static int vm_build_cmdline(struct husk_vm *vm, char *err, size_t errlen)
{
	const char *user = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	size_t len = strlen(user) + 32 + VIRTIO_MMIO_MAX_DEVICES * 64;
	unsigned n = vm_virtio_count(&vm->cfg);
	int ret;

	vm->cmdline = malloc(len);
	if (!vm->cmdline) {
		snprintf(err, errlen, "--cmdline: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	snprintf(vm->cmdline, len, "%s", user);
	if (vm->cfg.ndisks && vm->cfg.disks[0].root)
		snprintf(vm->cmdline + strlen(vm->cmdline), len - strlen(vm->cmdline), "%sroot=/dev/vda %s",
			 *user ? " " : "", vm->cfg.disks[0].readonly ? "ro" : "rw");
	if (vm->cfg.transport != HUSK_VIRTIO_MMIO)
		return 0;
	ret = virtio_mmio_cmdline(n, vm->cmdline, len);
	if (ret)
		snprintf(err, errlen, "--virtio-transport mmio: %u virtio devices, at most %u",
			 n, VIRTIO_MMIO_MAX_DEVICES);
	return ret;
}

_Static_assert((int)HUSK_WATCHDOG_RESET == (int)WATCHDOG_ACTION_RESET &&
	       (int)HUSK_WATCHDOG_POWEROFF == (int)WATCHDOG_ACTION_POWEROFF &&
	       (int)HUSK_WATCHDOG_NONE == (int)WATCHDOG_ACTION_NONE,
	       "--watchdog-action maps one to one onto the device's actions");

/* pvpanic and the watchdog; they report through vm->event_hook (--events). */
static int vm_create_ha_devices(struct husk_vm *vm, char *err, size_t errlen)
{
	struct watchdog_params wp = {
		.action = (enum watchdog_action)vm->cfg.watchdog_action,
		.stop = &vm->stop_hook, .events = &vm->event_hook, .sandbox = vm->cfg.sandbox,
	};
	int ret;

	vm->pvpanic = pvpanic_create(vm->pio, &vm->event_hook);
	if (!vm->pvpanic) {
		ret = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "pvpanic: %s", strerror(-ret));
		return ret;
	}
	ret = watchdog_create(vm->pio, &wp, &vm->watchdog);
	if (ret)
		snprintf(err, errlen, "watchdog: %s", strerror(-ret));
	return ret;
}

/* The virtio devices the config asks for; after the bus, before the routing commit. */
static int vm_create_virtio_devices(struct husk_vm *vm, char *err, size_t errlen)
{
	int ret;

	vm->vmmio = (struct virtio_mmio_bus){ .mmio = vm->mmio, .vm_fd = vm->kvm.vm_fd };
	vm->venv = (struct virtio_env){
		.mem = &vm->mem, .kind = vm->cfg.transport, .pci = vm->pci, .mmio = &vm->vmmio,
		.vm_fd = vm->kvm.vm_fd, .sandbox = vm->cfg.sandbox,
	};
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		ret = virtio_blk_create(&vm->venv, &vm->cfg.disks[i], &vm->disk_img[i], vm->ncpus,
					&vm->disks[i], err, errlen);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < vm->cfg.nnets; i++) {
		char seed[IFNAMSIZ + 8];

		/* the MAC's seed: the same tap name and index give the same MAC */
		snprintf(seed, sizeof(seed), "husk-%s", vm->net_tap[i].ifname);
		ret = virtio_net_create(&vm->venv, &vm->cfg.nets[i], &vm->net_tap[i], seed, i,
					&vm->nets[i], err, errlen);
		if (ret)
			return ret;
	}
	if (vm->cfg.rng) {
		ret = virtio_rng_create(&vm->venv, &vm->rng);
		if (ret) {
			snprintf(err, errlen, "virtio-rng: %s", strerror(-ret));
			return ret;
		}
	}
	if (!vm->cfg.balloon.enabled)
		return 0;
	ret = virtio_balloon_create(&vm->venv, &vm->cfg.balloon, &vm->balloon);
	if (ret == -EINVAL)
		snprintf(err, errlen, "balloon: amount_mib %u is more than the VM's %llu MiB of RAM",
			 vm->cfg.balloon.amount_mib, (unsigned long long)(vm->cfg.memory >> 20));
	else if (ret)
		snprintf(err, errlen, "virtio-balloon: %s", strerror(-ret));
	return ret;
}

/*
 * The same image as an earlier disk, either of them writable (the image
 * lock would say "in use by another process"); read-only twice is fine.
 */
static int vm_disk_given_twice(struct husk_vm *vm, unsigned i, char *err, size_t errlen)
{
	const char *path = vm->cfg.disks[i].path;
	struct stat st, prev;

	if (stat(path, &st) < 0)
		return 0;	/* blk_image_open() says why */
	for (unsigned j = 0; j < i; j++) {
		if (fstat(vm->disk_img[j].fd, &prev) < 0 || prev.st_dev != st.st_dev ||
		    prev.st_ino != st.st_ino ||
		    (vm->cfg.disks[i].readonly && vm->cfg.disks[j].readonly))
			continue;
		snprintf(err, errlen, "--disk path=%s: %s is given twice (also %s)", path, path,
			 vm->cfg.disks[j].id);
		return -EINVAL;
	}
	return 0;
}

/*
 * Open and check every disk image (before KVM: a missing or read-only image
 * is a configuration error on any host). Disks without an id get diskN.
 */
static int vm_open_disks(struct husk_vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		struct husk_disk_config *d = &vm->cfg.disks[i];
		int ret;

		if (!d->id)
			d->id = config_disk_id(&vm->cfg, i, vm->disk_ids[i]);
		ret = vm_disk_given_twice(vm, i, err, errlen);
		if (!ret)
			ret = vm->cfg.defer_disk_locks ?
				blk_image_open_unlocked(d, &vm->disk_img[i], err, errlen) :
				blk_image_open(d, &vm->disk_img[i], err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * tap_open() takes over an fd=N it is given, even when it fails; give it a
 * duplicate, so that the caller's fd stays valid for a later attempt (a
 * retried InstanceStart) instead of being closed under it.
 */
static int vm_open_tap(const struct husk_net_config *n, struct tap *t, char *err, size_t errlen)
{
	struct husk_net_config copy = *n;
	char prefix[32], msg[512];
	int ret;

	copy.fd = n->fd < 0 ? -1 : fcntl(n->fd, F_DUPFD_CLOEXEC, 3);
	if (copy.fd < 0)	/* no fd=, or not an open one: tap_open() says so */
		return tap_open(n, 0, t, err, errlen);
	ret = tap_open(&copy, 0, t, err, errlen);
	/* its messages name the duplicate: name the user's fd */
	snprintf(prefix, sizeof(prefix), "--net fd=%d", copy.fd);
	if (ret && !strncmp(err, prefix, strlen(prefix))) {
		snprintf(msg, sizeof(msg), "--net fd=%d%s", n->fd, err + strlen(prefix));
		snprintf(err, errlen, "%s", msg);
	}
	return ret;
}

/* Open every tap (before KVM, like the disks). NICs without an id get netN. */
static int vm_open_nets(struct husk_vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->cfg.nnets; i++) {
		struct husk_net_config *n = &vm->cfg.nets[i];
		int ret;

		if (!n->id)
			n->id = config_net_id(&vm->cfg, i, vm->net_ids[i]);
		for (unsigned j = 0; n->tap && j < i; j++) {
			if (vm->cfg.nets[j].tap && !strcmp(vm->cfg.nets[j].tap, n->tap)) {
				snprintf(err, errlen, "--net tap=%s: %s is given twice (also %s)",
					 n->tap, n->tap, vm->cfg.nets[j].id);
				return -EINVAL;
			}
		}
		ret = vm_open_tap(n, &vm->net_tap[i], err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int vm_open_console(struct husk_vm *vm, char *err, size_t errlen)
{
	int ret = console_open(&vm->console, vm->cfg.serial, err, errlen);

	if (!ret && vm->console.kind == CONSOLE_PTY)
		pr_info("serial console on %s", vm->console.path);
	return ret;
}

static int vm_create_devices(struct husk_vm *vm, char *err, size_t errlen)
{
	int ret;

	vm->pio = iobus_create("pio");
	vm->mmio = iobus_create("mmio");
	if (!vm->pio || !vm->mmio)
		goto nomem;
	vm->serial_irq = (struct irq_line){ .vm_fd = vm->kvm.vm_fd, .gsi = SERIAL_COM1_IRQ };
	vm->serial = serial_create(vm->pio, SERIAL_COM1_BASE, &vm->serial_irq, &vm->console,
				   vm->rx_wake_fd);
	vm->i8042 = i8042_create(vm->pio, &vm->stop_hook);
	vm->rtc = rtc_create(vm->pio);
	vm->debug = debug_ports_create(vm->pio, &vm->stop_hook, vm->kvm.vm_fd, vm->start_ns,
				       vm->cfg.test_devices ? DEBUG_PORTS_TEST : 0);
	vm->acpi_pm = acpi_pm_create(vm->pio, &vm->stop_hook);
	vm->ged_irq = (struct irq_line){ .vm_fd = vm->kvm.vm_fd, .gsi = ACPI_GED_GSI };
	vm->acpi_ged = acpi_ged_create(vm->pio, &vm->ged_irq);
	if (!vm->serial || !vm->i8042 || !vm->rtc || !vm->debug || !vm->acpi_pm || !vm->acpi_ged)
		goto nomem;
	vm->vmgenid = vmgenid_create(&vm->mem, vm->acpi_ged);
	if (!vm->vmgenid) {
		snprintf(err, errlen, "VM generation ID: %s", strerror(errno));
		return -errno;
	}
	ret = vm_create_ha_devices(vm, err, errlen);
	if (!ret)
		ret = vm_create_pci(vm, err, errlen);
	if (!ret)
		ret = vm_create_virtio_devices(vm, err, errlen);
	if (!ret && (ret = vm_register_device_hooks(vm)))
		snprintf(err, errlen, "devices: pause hooks and metrics: %s", strerror(-ret));
	if (!ret)
		ret = vm_commit_routing(vm, err, errlen);
	return ret;
nomem:
	snprintf(err, errlen, "creating devices: %s", strerror(ENOMEM));
	return -ENOMEM;
}

/* track_dirty_pages: husk's own bitmap beside KVM's dirty log (Diff snapshots). */
static int vm_track_dirty(struct husk_vm *vm, char *err, size_t errlen)
{
	if (!vm->cfg.track_dirty || guest_mem_dirty_start(&vm->mem) == 0)
		return 0;
	snprintf(err, errlen, "track_dirty_pages: %s", strerror(ENOMEM));
	return -ENOMEM;
}

static int vm_create_vcpus(struct husk_vm *vm, char *err, size_t errlen)
{
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		snprintf(err, errlen, "vCPUs: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int ret = vcpu_create(&vm->vcpus[i], vm, i, err, errlen);

		vm->vcpus[i].sandbox = vm->cfg.sandbox;
		if (!ret)
			ret = vcpu_configure(&vm->vcpus[i], &vm->entry, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* --serial file:PATH where nothing is yet: a failed create removes what it made. */
static bool vm_serial_file_is_new(const char *spec)
{
	enum console_kind kind;
	const char *path;
	struct stat st;

	return console_parse(spec, &kind, &path) == 0 && kind == CONSOLE_FILE &&
	       lstat(path, &st) < 0 && errno == ENOENT;
}

static void vm_fail_cleanup(struct husk_vm *vm, bool serial_new)
{
	char path[sizeof(vm->console.path)];
	bool unlink_it = serial_new && vm->console.kind == CONSOLE_FILE && vm->console.out_fd >= 0;

	snprintf(path, sizeof(path), "%s", vm->console.path);
	husk_vm_destroy(vm);
	if (unlink_it)
		unlink(path);
}

int husk_vm_create(const struct husk_config *cfg, struct husk_vm **out, char *err, size_t errlen)
{
	return vm_create_adopting(cfg, NULL, out, err, errlen);
}

int vm_create_adopting(const struct husk_config *cfg, struct console *adopt,
		       struct husk_vm **out, char *err, size_t errlen)
{
	bool serial_new = false;
	struct husk_vm *vm;
	int ret;

	*out = NULL;
	ret = validate_config(cfg, err, errlen);
	if (!ret && !(vm = vm_alloc(cfg))) {
		snprintf(err, errlen, "creating the VM: %s", strerror(ENOMEM));
		ret = -ENOMEM;
	}
	if (ret) {
		if (adopt)
			console_close(adopt);
		return ret;
	}
	if (adopt) {	/* ours now, whatever happens */
		vm->console = *adopt;
		vm->console_kept = true;
		console_init(adopt);
	}
	/*
	 * Everything that reads the user's files comes first, so that a bad
	 * kernel, initrd or console path is reported as such on any host,
	 * with or without KVM; guest RAM is reserved lazily (MAP_NORESERVE).
	 */
	vm->ncpus = cfg->cpus;
	ret = vm_build_cmdline(vm, err, errlen);
	if (!ret)
		ret = guest_mem_init(&vm->mem, cfg->memory, cfg->hugepages, err, errlen);
	if (!ret && !cfg->restore)
		ret = vm_load_kernel(vm, err, errlen);
	if (!ret)
		ret = vm_open_disks(vm, err, errlen);
	if (!ret)
		ret = vm_open_nets(vm, err, errlen);
	if (!ret && !adopt) {
		serial_new = vm_serial_file_is_new(cfg->serial);
		ret = vm_open_console(vm, err, errlen);
	}
	if (!ret)
		ret = kvm_open(&vm->kvm, err, errlen);
	if (!ret)
		ret = vm_check_cpus(vm, err, errlen);
	if (!ret)
		ret = kvm_create_vm(&vm->kvm, err, errlen);
	if (!ret)
		ret = vm_track_dirty(vm, err, errlen);
	if (!ret)
		ret = kvm_map_memory(&vm->kvm, &vm->mem, cfg->track_dirty, err, errlen);
	if (!ret)
		ret = vm_create_devices(vm, err, errlen);
	if (!ret)
		ret = vm_create_vcpus(vm, err, errlen);
	if (ret) {
		vm_fail_cleanup(vm, serial_new);
		return ret;
	}
	*out = vm;
	return 0;
}

int vm_lock_disks(struct husk_vm *vm, bool lock, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		char why[256];
		int ret;

		if (!vm->disks[i])
			continue;
		ret = virtio_blk_lock(vm->disks[i], lock, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "%s", why);
			while (i-- > 0)
				if (vm->disks[i])
					virtio_blk_lock(vm->disks[i], false, why, sizeof(why));
			return ret;
		}
	}
	return 0;
}

void vm_request_stop(struct husk_vm *vm, enum stop_reason why, int exit_status)
{
	int expected = STOP_NONE;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)why))
		return;
	vm->exit_status = exit_status;
	for (unsigned i = 0; i < vm->ncpus && vm->vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	/*
	 * Wake the main thread last: it joins the vCPU threads once it has
	 * read this, so no thread is joined while this one may still kick it.
	 */
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		pr_debug("stop eventfd: %s", strerror(errno));
	vm_pause_wake(vm);	/* parked vCPUs see the stop */
}

bool vm_stopping(const struct husk_vm *vm)
{
	return atomic_load(&((struct husk_vm *)vm)->stop_reason) != STOP_NONE;
}

void vm_halt_probe_answered(struct husk_vm *vm, unsigned gen)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (atomic_load(&v->probe_done) != gen || !atomic_load(&v->probe_dead))
			return;
	}
	vm_request_stop(vm, STOP_HALT, HUSK_EXIT_OK);
}

static void vm_log_stop(struct husk_vm *vm)
{
	enum stop_reason why = (enum stop_reason)atomic_load(&vm->stop_reason);

	if (why == STOP_DEBUG_EXIT)
		pr_info("guest exited through the debug-exit port with status %d",
			vm->exit_status);
	else if (why == STOP_ERROR)
		pr_err("stopped: VMM error (exit status %d)", vm->exit_status);
	else
		pr_info("%s", stop_reason_str(why));
	if (why == STOP_ERROR)
		vm_event(vm, "error", "VMM error");
	events_emit_shutdown(vm->cfg.events, stop_reason_str(why), vm->exit_status);
}

int husk_vm_run(struct husk_vm *vm)
{
	int ret = vm->console_kept ? console_resume(&vm->console) : console_begin(&vm->console);

	if (ret)
		pr_warn("--serial %s: cannot %s it: %s", vm->cfg.serial,
			vm->console_kept ? "take" : "empty", strerror(-ret));
	atomic_store(&vm->running, true);
	vm_event(vm, "started", NULL);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int ret = vcpu_start(&vm->vcpus[i]);

		if (ret) {
			pr_err("vCPU %u: cannot start thread: %s", i, strerror(-ret));
			vm_request_stop(vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
			break;
		}
	}
	vm_event_loop(vm);
	atomic_store(&vm->running, false);
	/* a vCPU waiting on a page-fault handler that died would never come back */
	guest_mem_uffd_release(&vm->mem);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(&vm->vcpus[i]);
	console_restore(&vm->console);
	vm_log_stop(vm);
	/* --metrics: a last line with the final counters */
	if (vm->cfg.metrics_path && husk_vm_flush_metrics(vm) < 0)
		pr_warn("--metrics %s: cannot write the final counters", vm->cfg.metrics_path);
	return vm->exit_status;
}

void husk_vm_restore_terminal(struct husk_vm *vm)
{
	if (vm)
		console_restore(&vm->console);
}

void husk_vm_destroy(struct husk_vm *vm)
{
	if (!vm)
		return;
	/* First: its timer thread may request a stop, which kicks the vCPUs. */
	watchdog_destroy(vm->watchdog);
	vm->watchdog = NULL;
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	/* PCI devices go before the bus, the bus before the routing table. */
	virtio_rng_destroy(vm->rng);
	virtio_balloon_destroy(vm->balloon);
	for (unsigned i = 0; i < HUSK_MAX_DISKS; i++) {
		virtio_blk_destroy(vm->disks[i]);
		if (!vm->disks[i])
			blk_image_close(&vm->disk_img[i]);
	}
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++) {
		virtio_net_destroy(vm->nets[i]);
		tap_close(&vm->net_tap[i]);	/* still ours if no device took it */
	}
	pci_bus_destroy(vm->pci);
	irq_routing_destroy(vm->routing);
	pvpanic_destroy(vm->pvpanic);
	vmgenid_destroy(vm->vmgenid);
	if (vm->acpi_ged)
		acpi_ged_destroy(vm->acpi_ged);
	if (vm->acpi_pm)
		acpi_pm_destroy(vm->acpi_pm);
	if (vm->debug)
		debug_ports_destroy(vm->debug);
	if (vm->rtc)
		rtc_destroy(vm->rtc);
	if (vm->i8042)
		i8042_destroy(vm->i8042);
	if (vm->serial)
		serial_destroy(vm->serial);
	console_restore(&vm->console);
	console_close(&vm->console);
	if (vm->pio)
		iobus_destroy(vm->pio);
	if (vm->mmio)
		iobus_destroy(vm->mmio);
	kvm_close(&vm->kvm);
	guest_mem_destroy(&vm->mem);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->rx_wake_fd >= 0)
		close(vm->rx_wake_fd);
	if (vm->metrics_fd >= 0)
		close(vm->metrics_fd);
	free(vm->cmdline);
	vm_orch_destroy(vm);
	free(vm);
}
