/* SPDX-License-Identifier: MIT */
#ifndef HUSK_MIGRATE_H
#define HUSK_MIGRATE_H

/*
 * Live migration (docs/migration.md): the source sends a running VM over
 * a stream (mig_stream.h) and stops once the destination runs it; the
 * destination (husk --incoming URL) builds the VM from the stream.
 *
 * Pre-copy: a pass over all of guest RAM while the guest runs, then
 * passes over the pages written meanwhile (KVM's dirty log and husk's
 * own writes: guest_mem's bitmap) until what is left would go within
 * the downtime limit; then the VM is paused, the last pages and every
 * device's state go, and the destination answers READY before the source
 * lets it run (GO) and exits 0. A guest that writes faster than the
 * stream carries is throttled (auto-converge: its vCPUs sleep a growing
 * share of every 10 ms). Any failure before GO (the destination gone or
 * refusing, a cancel, the timeout) leaves the source running as before.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/snapshot.h"

struct husk_vm;
struct str_arena;

enum mig_state {
	MIG_NONE = 0,
	MIG_ACTIVE,
	MIG_COMPLETED,
	MIG_FAILED,
	MIG_CANCELLED,
};

struct mig_params {
	const char *url;		/* unix:PATH or tcp:HOST:PORT */
	unsigned downtime_ms;		/* the pause allowed for the last pass (1..60000) */
	unsigned timeout_s;		/* give up (and run on) after this long */
	bool replicate;			/* to a husk --standby: checkpoints, no hand-over */
	bool postcopy;			/* switch after one pass; pages follow on demand */
	const char *secret_path;	/* --migration-secret: authenticate the peer (NULL: no) */
	unsigned interval_ms;		/* replicating: a checkpoint this often */
};

struct mig_status {
	enum mig_state state;
	char url[128];
	unsigned rounds;		/* passes over guest RAM so far */
	unsigned throttle_pct;		/* auto-converge: share of vCPU time taken */
	uint64_t bytes;			/* sent so far */
	uint64_t total_ms;
	uint64_t downtime_ms;		/* completed: from the pause to GO */
	uint64_t dirty_pages_rate;	/* pages written per second in the last pass */
	uint64_t remaining_bytes;	/* dirty at the end of the last pass */
	uint64_t expected_downtime_ms;	/* remaining_bytes at the last pass's rate */
	char error[256];		/* failed, cancelled: why */
	/* replicating */
	uint64_t epoch;			/* the last checkpoint the standby acknowledged */
	uint64_t ckpt_pause_ms;		/* the last checkpoint: how long the guest stopped */
	uint64_t ckpt_ms;		/* ... from the pause to the standby's ACK */
	uint64_t ckpt_bytes;		/* ... bytes sent */
	uint64_t disk_bytes;		/* disk writes mirrored so far */
	uint64_t frames_held;		/* frames released after their checkpoint */
};

struct mig_source;

/*
 * Connect to @p->url and start migrating @vm on a thread of its own:
 * 0 with *out, or -errno with one line in @err (nothing started).
 */
int mig_source_start(struct husk_vm *vm, const struct mig_params *p, struct mig_source **out,
		     char *err, size_t errlen);
/*
 * Ask it to stop; the VM runs on. A no-op once it is over. Replication
 * past its first sync tells the standby (BYE: it exits, no failover).
 */
void mig_source_cancel(struct mig_source *m);
void mig_source_status(struct mig_source *m, struct mig_status *st);
bool mig_source_active(struct mig_source *m);
bool mig_source_replicating(struct mig_source *m);
/* Cancel if still running, wait for the thread, free. NULL is fine. */
void mig_source_destroy(struct mig_source *m);

const char *mig_state_name(enum mig_state s);

/* What the destination learned from GO (or a standby at its failover), for its event and log. */
struct mig_result {
	bool resume;
	unsigned rounds;
	uint64_t downtime_ms, total_ms, bytes;
	bool failover;			/* a standby took over */
	struct mig_postcopy *postcopy;	/* post-copy: pages still coming (postcopy_dest_free) */
	uint64_t epoch;			/* ... from this checkpoint */
	uint64_t since_ms;		/* ... this long after it came */
};

/* husk --incoming URL [--standby] [--migration-secret FILE] */
struct mig_incoming_opts {
	bool standby;			/* a replica until the primary goes */
	unsigned failover_ms;		/* the primary silent this long is gone (default 1000) */
	const char *secret_path;	/* the peer must authenticate (NULL: no) */
};

/*
 * The destination: listen on @url, take one migration stream, build the
 * VM from it (with @opts' overrides: serial, taps, disks) and load it.
 * @stop_fd (a signalfd, or -1) ends the wait. 0 with *out (not running,
 * paused when the source was), 1 when @stop_fd fired before any stream
 * came, or -errno with one line in @err: nothing is left (no VM, no
 * socket file). A standby (@in->standby) returns only at a failover (0,
 * res->failover: the VM at the last checkpoint, ready to run), a signal
 * (1), or the primary ending replication on purpose (2: exit 0).
 */
int mig_incoming(const char *url, const struct snap_restore_opts *opts,
		 const struct mig_incoming_opts *in, int stop_fd, struct str_arena *arena,
		 struct husk_config *cfg, struct husk_vm **out, struct mig_result *res, char *err,
		 size_t errlen);

/*
 * Post-copy, the destination (postcopy.c): the VM built and loaded, the
 * pages of @discard (one bit a page, u64 words) dropped and registered with
 * a userfaultfd, a thread asking the source for each page faulted on and
 * placing every page that comes. wait_go: until the source's GO (0, *g) or
 * a failure (-errno, @err). free: after the VM has stopped (the VM must
 * still exist): ends the thread, lets go of the userfaultfd.
 */
struct mig_postcopy;
struct mig_go;
int postcopy_dest_start(struct husk_vm *vm, int fd, const uint8_t *discard, size_t len,
			struct mig_postcopy **out, char *err, size_t errlen);
int postcopy_dest_wait_go(struct mig_postcopy *pc, struct mig_go *g, char *err, size_t errlen);
/* A record to the source (the page thread writes REQs meanwhile). */
int postcopy_dest_send(struct mig_postcopy *pc, uint32_t type, const void *p, size_t len);
void postcopy_dest_free(struct mig_postcopy *pc);

#endif
