/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SNAPSHOT_H
#define HUSK_SNAPSHOT_H

/*
 * Snapshot and restore of a whole VM (docs/snapshot.md): the state file
 * (state/snapfile.h: "config", "host", then one section per device, in
 * the order of the device table in snapshot.c) and a memory file (guest
 * RAM, byte for byte, all-zero pages left as holes).
 *
 * Each device type is one entry of the table: {tag or "tag%u" pattern,
 * section version, how many the config has, save, load}. A device type
 * whose save/load is not written yet has NULL functions: saving a VM that
 * has it fails with "not supported yet: ..." before any file is touched,
 * and a state file cannot name it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "husk/husk.h"
#include "core/statebuf.h"
#include "memory/guest_mem.h"
#include "vmm/config_file.h"

struct husk_vm;

struct snap_device {
	const char *tag;	/* "serial0", or a pattern with one %u ("vcpu%u") */
	uint32_t version;	/* the section version its save writes */
	const char *what;	/* for messages: "the 8250 UART" */
	unsigned (*count)(const struct husk_config *cfg);
	int (*save)(struct husk_vm *vm, unsigned i, struct state_writer *w);
	int (*load)(struct husk_vm *vm, unsigned i, struct state_reader *r);
};

/* The device table (snapshot.c), in save and load order. */
extern const struct snap_device snap_devices[];
extern const unsigned snap_ndevices;

struct snap_table {
	const struct snap_device *dev;
	unsigned n;
};

extern const struct snap_table snap_default_table;	/* snap_devices[] */

/*
 * Write @path (state) and @mem_path (guest RAM) of a paused VM, each
 * atomically (temp file, fsync, rename; the state file last). On error
 * (-errno, one line in @err) no temp file is left and no state file is
 * created or replaced; the memory file only when the state file's final
 * rename failed (the new memory file is removed then).
 * @diff: the memory file holds only the pages written since the VM's last
 * snapshot (taken, or restored from), the rest are holes: merge it onto
 * that snapshot's memory file (husk-snapshot merge) before restoring. It
 * needs a VM that tracks dirty pages (cfg.track_dirty) and such a last
 * snapshot. Every snapshot of a tracking VM starts the dirty state over.
 */
int vm_snapshot_save(struct husk_vm *vm, const char *path, const char *mem_path, bool diff,
		     char *err, size_t errlen);

/*
 * What a restore may change of the saved VM: where its console goes, its
 * clock, and, for clones, the host side of its NICs and disks (Firecracker's
 * network_overrides; drive_overrides are husk's). The guest sees the same
 * devices: a NIC keeps its MAC, a disk must have the saved size.
 */
struct snap_net_override {
	const char *iface_id;		/* the NIC's id ("net0" when it had none) */
	const char *host_dev_name;	/* the tap to open instead */
};

struct snap_drive_override {
	const char *drive_id;		/* the disk's id ("disk0" when it had none) */
	const char *path;		/* the image to open instead; NULL: the saved one */
	int readonly;			/* 0, 1, or -1: as saved */
};

struct snap_restore_opts {
	const char *serial;		/* --serial spec; NULL: the snapshot's */
	const char *uffd_sock;		/* mem_backend Uffd: the handler's socket (mem_path unused) */
	bool clock_realtime;		/* advance kvm-clock by the time since the save */
	bool track_dirty;		/* track dirty pages from here on (Diff snapshots) */
	const struct husk_sandbox *sandbox;	/* this process's seccomp filters (NULL: none) */
	unsigned nnets, ndrives;
	struct snap_net_override nets[HUSK_MAX_NETS];
	struct snap_drive_override drives[HUSK_MAX_DISKS];
};

/*
 * Restore: read and check @path (format, host CPU, sections against the
 * device table) and @mem_path (its size), apply @opts (NULL: none) to the
 * saved config, build the VM from it with the VM builder, load guest RAM
 * and every device's section before any vCPU runs. *cfg gets the config it
 * was built with (strings in @arena). On error nothing is left: no VM,
 * -errno and one line in @err (an override naming no device of the
 * snapshot is one).
 */
int vm_snapshot_restore(const char *path, const char *mem_path,
			const struct snap_restore_opts *opts, struct str_arena *arena,
			struct husk_config *cfg, struct husk_vm **out, char *err, size_t errlen);

/* The same with another device table (the tests: a VM of only what has save/load). */
int vm_snapshot_save_table(const struct snap_table *t, struct husk_vm *vm, const char *path,
			   const char *mem_path, bool diff, char *err, size_t errlen);
int vm_snapshot_restore_table(const struct snap_table *t, const char *path, const char *mem_path,
			      const struct snap_restore_opts *opts, struct str_arena *arena,
			      struct husk_config *cfg, struct husk_vm **out, char *err,
			      size_t errlen);

/*
 * Guest RAM from the memory file: its size must be @m's exactly. Without
 * huge pages the file is mapped MAP_PRIVATE over @m's mapping (lazy, the
 * page cache shared between clones, writes private); else it is read in.
 */
int snap_mem_load(struct guest_mem *m, const char *mem_path, char *err, size_t errlen);

/* The restore options' overrides applied to a saved config (-EINVAL: one names nothing). */
int snap_apply_overrides(const struct snap_restore_opts *o, struct husk_config *c, char *err,
			 size_t errlen);

/*
 * The state format on a stream (migration/): snap_state_encode() builds a
 * state file of @vm in memory (the caller frees *buf), with every device's
 * section (@devices: the VM must be paused) or only "config" and "host".
 * snap_state_decode() parses one (@buf taken over, freed by
 * snap_file_free()), reads its config into *cfg and checks it against this
 * host (and, with @devices, that its sections are this config's devices);
 * snap_state_load() loads every device section into a VM built from it.
 */
struct snap_file;
int snap_state_encode(struct husk_vm *vm, bool devices, uint8_t **buf, size_t *len, char *err,
		      size_t errlen);
int snap_state_decode(uint8_t *buf, size_t len, const char *what, bool devices,
		      struct snap_file *f, struct str_arena *arena, struct husk_config *cfg,
		      char *err, size_t errlen);
int snap_state_load(struct husk_vm *vm, const struct snap_file *f, const char *what, char *err,
		    size_t errlen);

#endif
