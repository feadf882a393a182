/* SPDX-License-Identifier: MIT */
#ifndef HUSK_MIG_INTERNAL_H
#define HUSK_MIG_INTERNAL_H

/* What the source's pre-copy (mig_source.c) and replication (replicate.c) share. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "migration/mig_stream.h"
#include "migration/migrate.h"
#include "state/snapfile.h"

struct repl;
struct mig_secret;

struct mig_source {
	struct husk_vm *vm;
	struct mig_params p;
	char url[128];
	int fd;
	pthread_t thread;
	bool thread_started;
	atomic_bool cancel;

	pthread_mutex_t lock;		/* st */
	struct mig_status st;

	/* the pass in progress (migration thread only) */
	uint64_t *dirty;		/* one bit per page, guest_mem_dirty_words() */
	uint8_t *bounce;		/* MIG_MAX_RUN pages: a stable copy to checksum and send */
	uint64_t start_ms;
	uint64_t deadline_ms;		/* start + timeout_s */
	bool paused_vm;			/* this migration paused the VM */
	bool unlocked_disks;		/* it let go of the disk images' locks */
	bool started_log;		/* it turned KVM's dirty log on */

	struct repl *repl;		/* replicating (replicate.c), else NULL */
	struct mig_secret *secret;	/* --migration-secret: authenticate to the peer */

	pthread_t throttler;
	bool throttler_started;
	atomic_bool throttler_stop;
};

uint64_t mig_now_ms(void);
/* Record why it failed (the first reason is kept); returns @ret. */
int mig_fail(struct mig_source *m, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A failed read or write: cancelled, timed out, or the peer gone. */
int mig_io_fail(struct mig_source *m, int ret, const char *doing);
void mig_add_bytes(struct mig_source *m, uint64_t n);
/* PAGES (or ZERO) of @n pages from @data (NULL: m->bounce) at page @first. */
int mig_send_run(struct mig_source *m, uint64_t first, uint64_t n, bool zero,
		 const uint8_t *data);
/* A state file of the VM (every device: @devices, the VM paused) as STATE(_PRE). */
int mig_send_state(struct mig_source *m, bool devices);
/* The pages written since the last take into m->dirty (@add: on top); *count of them. */
int mig_take_dirty(struct mig_source *m, bool add, uint64_t *count);
void mig_throttle_set(struct mig_source *m, unsigned pct);

/* replicate.c */
struct repl *repl_new(unsigned interval_ms);
void repl_free(struct repl *r);
/* Past the first sync: checkpoints run (a cancel then ends them with BYE). */
bool repl_synced(struct repl *r);
/* After STATE_PRE: mirror the disks' writes, copy the disks, hold the NICs' output. */
int repl_start(struct mig_source *m);
/* With the VM paused, at the end of the first sync: the disk writes logged so far. */
int repl_send_disk_log(struct mig_source *m);
/* After the first sync's END (the VM resumed): ACK 0, then checkpoints until it ends. */
int repl_run(struct mig_source *m);
/* Replication ended (@ret: why): stop mirroring and holding, tell the standby when asked. */
void repl_end(struct mig_source *m, int ret);
void repl_status(struct mig_source *m, struct mig_status *st);

/* postcopy.c, the source: REQs served until READY; after GO, every page left in m->dirty. */
int postcopy_wait_ready(struct mig_source *m);
int postcopy_serve(struct mig_source *m);

/* ---- the destination (mig_dest.c) and the standby (standby.c) ---- */
struct mig_dest {
	int fd;
	const char *url;
	bool standby;			/* husk --standby: replication, a failover at the end */
	struct mig_secret *secret;	/* --migration-secret: the source must authenticate */
	struct husk_vm *vm;
	struct snap_file pre;		/* STATE_PRE: the config the VM was built from */
	bool have_pre, have_state;
	bool locked;			/* the disk images are ours */
	struct mig_order order;
	struct snap_file state;		/* the last complete state (a standby's failover point) */
	struct mig_postcopy *pc;	/* post-copy: the page thread (it reads the stream) */
	uint64_t bytes;
};

/* A record's payload into a new buffer, its CRC checked. */
int mig_dest_payload(struct mig_dest *d, const struct mig_rec *r, uint8_t **out, char *err,
		     size_t errlen);
/* A full state file (@buf taken over) into *f: parsed, same config as STATE_PRE. */
int mig_dest_state(struct mig_dest *d, uint8_t *buf, uint64_t len, struct snap_file *f,
		   char *err, size_t errlen);
/* A DISK payload written to the standby's image. */
int mig_dest_disk(struct mig_dest *d, const uint8_t *payload, uint64_t len, char *err,
		  size_t errlen);
/* fdatasync every writable disk image. */
int mig_dest_sync_disks(struct mig_dest *d, char *err, size_t errlen);
/*
 * standby.c: after the first sync, take checkpoints until the primary goes:
 * 0 a failover is due (the primary is gone: cut, silent for @failover_ms),
 * 1 @stop_fd fired, 2 the primary said BYE, -errno (one line in @err) a
 * stream from a live primary that cannot be taken.
 */
int standby_run(struct mig_dest *d, int stop_fd, unsigned failover_ms, uint64_t *epoch,
		uint64_t *since_ms, char *err, size_t errlen);

#endif
