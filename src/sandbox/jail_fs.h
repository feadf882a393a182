/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SANDBOX_JAIL_FS_H
#define HUSK_SANDBOX_JAIL_FS_H

#include "sandbox/jail.h"

#include <sys/types.h>

#define JAIL_MAX_MADE 64

/*
 * The directories and files the jailer made, each by its parent's fd and
 * its name, so that they can be removed even after pivot_root has hidden
 * their paths.
 */
struct jail_fs {
	unsigned nmade;
	unsigned tree_from;	/* made[tree_from] is the jail's own directory (if made) */
	struct jail_made {
		int parent_fd;
		bool file;
		char name[256];
	} made[JAIL_MAX_MADE];
};

/* <base>/<exec>/<id>/root with husk (and its libraries) copied in. 0 or -errno, @err. */
int jail_make_root(const struct jail_opts *o, struct jail_fs *fs, char *err, size_t errlen);
/* Remove what jail_make_root() made (the jail's directory whole, the rest if empty). */
void jail_fs_undo(struct jail_fs *fs);
/* Keep it all, close the fds (before the exec). */
void jail_fs_forget(struct jail_fs *fs);
/* A mount namespace of its own, / a slave of the host's. */
int jail_new_mount_ns(char *err, size_t errlen);
/* In it: @root (and what is mounted below it) becomes /. */
int jail_pivot(const char *root, char *err, size_t errlen);
/* In the jail: /dev/kvm, /dev/net/tun, /dev/userfaultfd (@uffd 0: none) for uid:gid. */
int jail_make_devices(const struct jail_opts *o, dev_t uffd, char *err, size_t errlen);

#endif
