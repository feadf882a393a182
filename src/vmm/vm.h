/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VM_H
#define HUSK_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "husk/husk.h"
#include "boot/boot.h"
#include "core/events.h"
#include "core/metrics.h"
#include "core/stop.h"
#include "cpu/vcpu.h"
#include "devices/devices.h"
#include "devices/irq_routing.h"
#include "devices/pci.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_transport.h"
#include "memory/guest_mem.h"
#include "vmm/kvm.h"

/*
 * Pause hooks: a device stops processing its queues in pause() and
 * starts again in resume(). Called on the API thread with every vCPU
 * parked; registered while the VM is built. The hook must outlive the VM.
 */
struct vm_pause_hook {
	void (*pause)(void *ctx);
	void (*resume)(void *ctx);
	void *ctx;
};

#define VM_MAX_PAUSE_HOOKS 32

struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* parked count changed, or resume */
	atomic_bool requested;		/* vCPUs park at their next exit */
	bool paused;			/* all parked, hooks run */
	unsigned parked;
	atomic_uint throttle_pct;	/* a migration's auto-converge: sleep this share of 10 ms */
	unsigned nhooks;
	struct vm_pause_hook *hooks[VM_MAX_PAUSE_HOOKS];
};

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
	struct vmgenid *vmgenid;	/* the VM generation ID, new at every restore */
	struct irq_routing *routing;	/* the GSI routing table: legacy routes, MSI-X */
	struct pci_bus *pci;		/* the host bridge and bus 0 (devices/pci.h) */
	struct virtio_mmio_bus vmmio;	/* --virtio-transport mmio slots */
	struct virtio_env venv;		/* where virtio devices attach */
	struct virtio_rng *rng;		/* --rng (virtio/virtio_rng.h) */
	struct virtio_balloon *balloon;	/* --balloon (virtio/virtio_balloon.h) */
	struct blk_image disk_img[HUSK_MAX_DISKS];	/* opened before KVM, then the device's */
	struct virtio_blk *disks[HUSK_MAX_DISKS];	/* --disk (virtio/virtio_blk.h) */
	char disk_ids[HUSK_MAX_DISKS][16];		/* default ids: disk0, disk1, ... */
	struct vm_pause_hook disk_pause[HUSK_MAX_DISKS];
	struct vm_pause_hook net_pause[HUSK_MAX_NETS];
	struct vm_pause_hook rng_pause;
	struct vm_pause_hook balloon_pause;
	struct tap net_tap[HUSK_MAX_NETS];		/* opened before KVM, then the device's */
	struct virtio_net *nets[HUSK_MAX_NETS];		/* --net (virtio/virtio_net.h) */
	char net_ids[HUSK_MAX_NETS][16];		/* default ids: net0, net1, ... */
	char *cmdline;			/* cfg.cmdline plus husk's additions */
	struct pvpanic *pvpanic;	/* guest panic notifications (port 0x505) */
	struct watchdog *watchdog;	/* the WDAT guest watchdog */

	unsigned ncpus;
	struct vcpu *vcpus;
	bool restore_clock_realtime;	/* a restore advances kvm-clock by the time saved */
	bool dirty_base;		/* a snapshot was taken or restored: Diffs may follow */
	bool console_kept;		/* the console of the VM before a reboot restart */
	bool shutdown_asked;		/* SIGTERM or Shutdown pressed the power button */

	struct stop_hook stop_hook;
	atomic_int stop_reason;		/* enum stop_reason; first request wins */
	int exit_status;
	int stop_fd;			/* eventfd: wakes the event loop on stop */
	int metrics_fd;			/* cfg.metrics_path, open while the VM lives; -1: none */
	int rx_wake_fd;			/* eventfd: the UART has room again */
	atomic_uint probe_gen;		/* halt-probe generation */

	/* orchestration (vmm/orchestrate.c, vmm/pause.c) */
	struct vm_pause pause;
	atomic_bool running;		/* husk_vm_run() started the vCPUs, not stopped yet */
	int shutdown_fd;		/* eventfd: husk_vm_request_shutdown() */
	struct event_hook event_hook;	/* --events; for pvpanic, watchdog, ... */
	struct metrics_registry metrics;	/* device counters for GET /metrics */
};

/*
 * husk_vm_create() on @adopt's console (a reboot restart goes on where the
 * last boot wrote): @adopt is the new VM's, or closed on failure, and reset.
 */
int vm_create_adopting(const struct husk_config *cfg, struct console *adopt,
		       struct husk_vm **out, char *err, size_t errlen);

/* vmm/restart.c: --on-reboot restart */
#define VM_RESTART_BURST	10	/* reboots ... */
#define VM_RESTART_WINDOW_S	60	/* ... within this many seconds: a boot loop */
struct vm_restarts {
	unsigned count;			/* restarts so far */
	unsigned in_window;
	double window_start;
};
/*
 * Did the guest reboot (ACPI or i8042 reset, triple fault, watchdog reset)
 * while nobody had asked it to shut down?
 */
bool vm_stop_is_reboot(const struct husk_vm *vm);
/* May it restart once more? false (with @why) in a boot loop. */
bool vm_restart_allowed(struct vm_restarts *r, char *why, size_t whylen);

void vm_request_stop(struct husk_vm *vm, enum stop_reason why, int exit_status);
/*
 * Take (@lock) or let go of every disk image's lock: a live migration's
 * hand-over. Taking fails (-EBUSY, @err names the image) when another
 * process holds one; then none is held.
 */
int vm_lock_disks(struct husk_vm *vm, bool lock, char *err, size_t errlen);
bool vm_stopping(const struct husk_vm *vm);
/* A vCPU answered a halt probe; stops the VM when every vCPU is dead-halted. */
void vm_halt_probe_answered(struct husk_vm *vm, unsigned gen);

/* vmm/orchestrate.c: set up / tear down the fields above. */
int vm_orch_init(struct husk_vm *vm);
void vm_orch_destroy(struct husk_vm *vm);
/* An event with a printf-style detail (NULL @fmt: none). */
void vm_event(struct husk_vm *vm, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Device counters for GET /metrics: 0 or -ENOSPC. Before husk_vm_run(). */
int vm_add_metrics(struct husk_vm *vm, const char *name, struct dev_counters *c);
int vm_add_metrics_callback(struct husk_vm *vm, const char *name,
			    void (*append)(void *ctx, struct json_object *obj), void *ctx);

/* vmm/pause.c */
int vm_add_pause_hook(struct husk_vm *vm, struct vm_pause_hook *hook);
/* vmm/vm_hooks.c: the virtio devices' pause hooks and metrics. */
int vm_register_device_hooks(struct husk_vm *vm);
/* A restored VM, every section loaded: each virtio queue signalled once (virtio_dev.h). */
void vm_resignal_virtio(struct husk_vm *vm);
/*
 * A vCPU thread after KVM_RUN returned EINTR: park while a pause is asked;
 * while a migration throttles the guest, sleep throttle_pct% of 10 ms.
 */
void vm_pause_point(struct husk_vm *vm, struct vcpu *v);
/*
 * Before husk_vm_run(): the vCPUs park before their first instruction and
 * the VM is Paused until husk_vm_resume() (a snapshot loaded without
 * resume_vm). -EBUSY once running.
 */
int vm_start_paused(struct husk_vm *vm);
/* Wake parked vCPUs (the VM is stopping). */
void vm_pause_wake(struct husk_vm *vm);

/* vmm/eventloop.c: the main thread's loop; returns when the VM stops. */
int vm_event_loop(struct husk_vm *vm);

#endif
