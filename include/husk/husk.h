/* SPDX-License-Identifier: MIT */
#ifndef HUSK_H
#define HUSK_H

/*
 * libhusk: build and run one KVM virtual machine.
 *
 *   struct husk_config cfg;
 *   husk_config_init(&cfg);
 *   cfg.kernel = "bzImage";
 *   if (husk_vm_create(&cfg, &vm, err, sizeof(err)) == 0) {
 *           status = husk_vm_run(vm);
 *           husk_vm_destroy(vm);
 *   }
 *
 * husk_vm_create() validates the whole configuration and builds the VM;
 * on error it leaves nothing behind and explains in @err (one line).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HUSK_EXIT_OK		0	/* guest reset, powered off, halted; stopped by signal */
#define HUSK_EXIT_CONFIG	1	/* usage, configuration or bad input */
#define HUSK_EXIT_VMM_ERROR	2	/* KVM or VMM failure at run time */

/*
 * The Firecracker API version whose schema husk's config file, launch flags
 * and API follow (../shared/reference/firecracker.yaml; what husk leaves out
 * is listed in docs/firecracker.md). GET /version and --version's first line.
 */
#define HUSK_FC_API_VERSION	"1.17.0"

#define HUSK_MAX_DISKS		16
#define HUSK_MAX_NETS		8
#define HUSK_MAX_QUEUES		16	/* per device (blk queues, net queue pairs) */

/* What the guest watchdog does when it fires (--watchdog-action). */
enum husk_watchdog_action {
	HUSK_WATCHDOG_RESET = 0,	/* stop as a guest reset (the default) */
	HUSK_WATCHDOG_POWEROFF,		/* stop as a guest power off */
	HUSK_WATCHDOG_NONE,		/* log and emit the event only */
};

enum husk_virtio_transport { HUSK_VIRTIO_PCI = 0, HUSK_VIRTIO_MMIO };
enum husk_blk_engine { HUSK_BLK_ENGINE_AUTO = 0, HUSK_BLK_ENGINE_URING, HUSK_BLK_ENGINE_SYNC };
enum husk_net_engine { HUSK_NET_ENGINE_AUTO = 0, HUSK_NET_ENGINE_URING, HUSK_NET_ENGINE_SYNC };

/* One --disk (or Firecracker "drives" entry). Strings are not owned. */
/*
 * A token bucket (Firecracker's TokenBucket): @size tokens, refilled from
 * empty to full in @refill_ms; @one_time_burst extra tokens spent first and
 * never refilled. size 0 or refill_ms 0: no limit.
 */
struct husk_token_bucket {
	uint64_t size;
	uint64_t one_time_burst;
	uint64_t refill_ms;
};

/* Firecracker's RateLimiter: bytes and operations, each its own bucket. */
struct husk_rate_limit {
	struct husk_token_bucket bandwidth;
	struct husk_token_bucket ops;
};

struct husk_disk_config {
	const char *path;		/* raw image, required */
	const char *id;			/* NULL: "diskN" */
	const char *serial;		/* GET_ID string (<= 20 bytes); NULL: the id */
	bool readonly;
	bool direct;			/* O_DIRECT */
	unsigned queues;		/* 0: one per vCPU (capped at HUSK_MAX_QUEUES) */
	enum husk_blk_engine engine;
	unsigned poll_us;		/* idle queue polling, 0: off (with poll_set) */
	bool poll_set;			/* false: HUSK_DISK_POLL_US_DEFAULT */
	struct husk_rate_limit rate;	/* rate_limiter; zero: none */
	bool root;			/* is_root_device: kept first (/dev/vda), and the
					 * guest gets root=/dev/vda rw|ro */
};

#define HUSK_DISK_POLL_US_DEFAULT	32
#define HUSK_DISK_POLL_US_MAX		1000

/* One --net (or Firecracker "network-interfaces" entry). */
struct husk_net_config {
	const char *tap;		/* tap name, or NULL with fd >= 0 */
	int fd;				/* an open tap fd handed over; -1: open @tap */
	const char *id;			/* NULL: "netN" */
	uint8_t mac[6];
	bool mac_set;			/* false: derived from the VM and the index */
	unsigned queues;		/* queue pairs, 0: 1 */
	unsigned mtu;			/* 0: the tap's */
	enum husk_net_engine engine;	/* packet engine: io_uring, or readv/writev */
	struct husk_rate_limit rx_rate;	/* rx_rate_limiter (to the guest); zero: none */
	struct husk_rate_limit tx_rate;	/* tx_rate_limiter (from the guest) */
};

/* A virtio-balloon (--balloon, the "balloon" section, PUT /balloon). */
struct husk_balloon_config {
	bool enabled;
	uint32_t amount_mib;		/* target size */
	bool deflate_on_oom;		/* VIRTIO_BALLOON_F_DEFLATE_ON_OOM offered */
	uint32_t stats_interval_s;	/* statistics every N s; 0: no statistics queue */
	bool free_page_reporting;	/* VIRTIO_BALLOON_F_REPORTING offered */
};

#define HUSK_BALLOON_STATS_MAX_INTERVAL	3600	/* seconds */

/* GET /balloon/statistics: the guest's last report (tags it never sent: has bit clear). */
#define HUSK_BALLOON_NTAGS	16	/* VIRTIO_BALLOON_S_* 0 .. 15 */
struct husk_balloon_info {
	uint32_t target_pages;
	uint32_t actual_pages;
	uint32_t stats_interval_s;
	uint32_t stats_has;		/* bit per tag */
	uint64_t stats[HUSK_BALLOON_NTAGS];
};

struct husk_config {
	const char *kernel;	/* bzImage or ELF, required */
	const char *initrd;	/* optional */
	const char *cmdline;	/* "" when absent */
	unsigned cpus;		/* 1 .. husk_max_cpus() */
	uint64_t memory;	/* bytes */
	bool hugepages;		/* back guest RAM with 2 MiB huge pages */
	bool track_dirty;	/* track dirtied pages (Diff snapshots): KVM's log and husk's */
	const char *serial;	/* stdio | none | file:PATH | pty */
	unsigned shutdown_timeout; /* seconds SIGTERM waits for an ACPI power-off; 0: stop at once */
	bool rng;		/* a virtio-rng PCI device (default on) */
	bool test_devices;	/* --test-devices: debug-exit (0xf4) and test-MSI (0x448) ports */
	enum husk_virtio_transport transport;	/* --virtio-transport pci|mmio */
	unsigned ndisks;
	struct husk_disk_config disks[HUSK_MAX_DISKS];
	unsigned nnets;
	struct husk_net_config nets[HUSK_MAX_NETS];
	struct husk_balloon_config balloon;
	enum husk_watchdog_action watchdog_action;	/* --watchdog-action */
	const char *metrics_path;	/* --metrics: JSON lines appended on flush; NULL: none */
	struct husk_events *events;	/* --events sink, not owned; NULL: none */
	const struct husk_sandbox *sandbox; /* seccomp filters per thread role, not owned;
					     * NULL: none (sandbox/seccomp.h) */
	bool restore;		/* built by a snapshot restore: no kernel is loaded, guest
				 * RAM and device state come from the snapshot */
	bool defer_disk_locks;	/* a migration's destination: disk images are opened
				 * unlocked, locked by vm_lock_disks() at the hand-over */
};

#define HUSK_DEFAULT_CPUS	1
#define HUSK_DEFAULT_MEMORY	(256ULL << 20)
#define HUSK_MAX_CPUS		254	/* xAPIC IDs and the MP table */
#define HUSK_DEFAULT_SHUTDOWN_TIMEOUT 10	/* seconds */
#define HUSK_MAX_SHUTDOWN_TIMEOUT 3600

struct husk_vm;
struct husk_events;	/* core/events.h */
struct husk_sandbox;	/* sandbox/seccomp.h */

void husk_config_init(struct husk_config *cfg);
int husk_vm_create(const struct husk_config *cfg, struct husk_vm **out, char *err, size_t errlen);
/* Run until the guest or a signal stops it; returns the process exit status. */
int husk_vm_run(struct husk_vm *vm);
void husk_vm_destroy(struct husk_vm *vm);
/*
 * After husk_vm_run() returned for a guest reboot: destroy *@vm and build it
 * again from its configuration on the same console (the kernel reloaded,
 * everything else at power-on); *@vm is the new VM, or NULL on failure
 * (-errno, one line in @err).
 */
int husk_vm_restart(struct husk_vm **vm, char *err, size_t errlen);
/* Restore the terminal (safe from a fatal-signal handler). */
void husk_vm_restore_terminal(struct husk_vm *vm);

/*
 * Orchestration (the API thread calls these while husk_vm_run() runs on
 * the main thread; all are thread-safe). 0 or -errno.
 * Pause parks every vCPU outside KVM_RUN (KVM_KVMCLOCK_CTRL on each) and
 * runs the devices' pause hooks; resume undoes both. -EBUSY once stopping.
 */
int husk_vm_pause(struct husk_vm *vm);
int husk_vm_resume(struct husk_vm *vm);
bool husk_vm_is_paused(struct husk_vm *vm);
bool husk_vm_is_running(struct husk_vm *vm);	/* started and not yet stopped */
/* Graceful stop: the ACPI power button, bounded by cfg.shutdown_timeout (as SIGTERM). */
int husk_vm_request_shutdown(struct husk_vm *vm);
/* Current counters as one line of JSON (malloc'd, NULL on ENOMEM). */
char *husk_vm_metrics_json(struct husk_vm *vm);
/* Append husk_vm_metrics_json() to cfg.metrics_path (-ENOENT: no path). */
int husk_vm_flush_metrics(struct husk_vm *vm);
/* A running disk's new rate limit (PATCH /drives/{id}); -ENODEV: no such disk. */
int husk_vm_set_disk_rate(struct husk_vm *vm, unsigned disk, const struct husk_rate_limit *rate);
/* A running NIC's new rate limits (PATCH /network-interfaces/{id}). */
int husk_vm_set_net_rates(struct husk_vm *vm, unsigned nic, const struct husk_rate_limit *rx,
			  const struct husk_rate_limit *tx);
/*
 * The balloon of a running VM (-ENODEV: none). set_target: the new size
 * (PATCH /balloon; more than guest RAM is -EINVAL). set_stats_interval:
 * PATCH /balloon/statistics, 1 .. HUSK_BALLOON_STATS_MAX_INTERVAL, and only
 * when statistics were enabled at boot (-EPERM: the queue's existence was
 * negotiated with the guest). info: target, actual and the statistics.
 */
int husk_vm_balloon_set_target(struct husk_vm *vm, uint32_t amount_mib);
int husk_vm_balloon_set_stats_interval(struct husk_vm *vm, uint32_t seconds);
int husk_vm_balloon_info(struct husk_vm *vm, struct husk_balloon_info *out);

#endif
