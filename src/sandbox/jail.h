/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SANDBOX_JAIL_H
#define HUSK_SANDBOX_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * husk-jailer (tools/husk-jailer.c, docs/jailer.md): Firecracker's jailer
 * flags and steps around husk. This is the part that can be tested without
 * privileges: the flags, checked.
 */
#define JAIL_ID_MAX		64
#define JAIL_MAX_CGROUPS	32
#define JAIL_DEFAULT_BASE	"/srv/jailer"
#define JAIL_DEFAULT_NOFILE	2048

struct jail_cgroup {
	const char *file;	/* cpu.shares, memory.max, ... (the controller: before the dot) */
	const char *value;
	char controller[32];
};

struct jail_opts {
	const char *id;
	const char *exec_file;
	const char *exec_name;	/* its last path component */
	uid_t uid;
	gid_t gid;
	const char *chroot_base;
	const char *netns;
	int cgroup_version;	/* 1 or 2 */
	const char *parent_cgroup;	/* relative; default: exec_name */
	unsigned ncgroups;
	struct jail_cgroup cgroups[JAIL_MAX_CGROUPS];
	long long fsize;	/* -1: unchanged */
	long long nofile;
	bool daemonize;
	bool new_pid_ns;
	int exec_argc;		/* what follows --, for husk */
	char **exec_argv;
};

/*
 * Parse and check the flags (nothing on the system is touched, except that
 * --exec-file must be a regular executable file). 0, or -EINVAL with one
 * line in @err naming the flag.
 */
int jail_parse(int argc, char **argv, struct jail_opts *o, char *err, size_t errlen);
void jail_usage(FILE *out);

/* The jail's directories: <base>/<exec_name>/<id>, and its root below. */
int jail_paths(const struct jail_opts *o, char *dir, size_t dirlen, char *root, size_t rootlen);

/* ---- cgroups (cgroup.c) ------------------------------------------------ */
#define JAIL_MAX_MOUNTS	16
#define JAIL_MAX_DEPTH	16

/* What jail_cgroups() made, so a failed setup can take it away again. */
struct jail_cgroup_state {
	unsigned nmounts;
	struct jail_cgroup_mount {
		char root[256];			/* the hierarchy's mount point */
		char leaf[1024];		/* <root>/<parent>/<id>: the jailer's limits */
		char vm[1100];			/* <leaf>/vm: husk's own, under them */
		unsigned ncreated;		/* directories made, outermost first */
		char created[JAIL_MAX_DEPTH][1024];
	} m[JAIL_MAX_MOUNTS];
};

/*
 * Create <mount>/<parent>/<id> in every hierarchy --cgroup names (v1: one
 * per controller mount, found in @mounts, /proc/mounts' format; v2: the
 * cgroup2 mount), write the values, move @pid in. 0 or -errno with one
 * line in @err; on failure everything made is gone again.
 */
int jail_cgroups(const struct jail_opts *o, const char *mounts, pid_t pid,
		 struct jail_cgroup_state *st, char *err, size_t errlen);
/* Move @pid back to each hierarchy's root and remove what was made. */
void jail_cgroups_undo(struct jail_cgroup_state *st, pid_t pid);
/*
 * In the new mount namespace, before the pivot: each hierarchy's <leaf>/vm
 * bind-mounted at <root>/cgroup/<hierarchy name> (v1) or <root>/cgroup
 * (v2), for husk's PATCH /vm/limits. 0 or -errno with @err.
 */
int jail_cgroups_mount(const struct jail_opts *o, const struct jail_cgroup_state *st,
		       const char *root, char *err, size_t errlen);

#endif
