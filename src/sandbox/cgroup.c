// SPDX-License-Identifier: MIT
/* husk-jailer's cgroups: v1 (a hierarchy per controller mount) and v2. */
#include "sandbox/jail.h"
#include "sandbox/cgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Is @ctrl one of the comma-separated options in @opts? */
static bool has_option(const char *opts, const char *ctrl)
{
	size_t n = strlen(ctrl);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, ctrl, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* The mount point holding @ctrl (v1), or the cgroup2 mount (@ctrl NULL). */
static int find_mount(const char *mounts, const char *ctrl, char *out, size_t outlen)
{
	const char *line = mounts;

	while (line && *line) {
		char dev[64], dir[256], type[32], opts[512];
		const char *next = strchr(line, '\n');

		if (sscanf(line, "%63s %255s %31s %511s", dev, dir, type, opts) == 4) {
			if ((!ctrl && !strcmp(type, "cgroup2")) ||
			    (ctrl && !strcmp(type, "cgroup") && has_option(opts, ctrl))) {
				snprintf(out, outlen, "%s", dir);
				return 0;
			}
		}
		line = next ? next + 1 : NULL;
	}
	return -ENOENT;
}

/* A new v1 cpuset is empty, and a task cannot join it so: take the parent's. */
static void cpuset_inherit(const char *dir)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	char parent[1024], val[512], cur[512];

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < 2; i++)
		if (!cgfile_read(dir, NULL, files[i], cur, sizeof(cur)) && (cur[0] == '\n' || !cur[0]) &&
		    !cgfile_read(parent, NULL, files[i], val, sizeof(val)))
			cgfile_write(dir, NULL, files[i], val);
}

/* mkdir -p <root>/<parent>/<id>, noting each directory made. */
static int make_dirs(struct jail_cgroup_mount *m, const char *rel, bool v2, bool cpuset,
		     const struct jail_opts *o)
{
	char path[1024];
	const char *s = rel;
	size_t len;

	len = (size_t)snprintf(path, sizeof(path), "%s", m->root);
	while (*s) {
		size_t n = strcspn(s, "/");

		if (len + 1 + n >= sizeof(path))
			return -ENAMETOOLONG;
		path[len++] = '/';
		memcpy(path + len, s, n);
		len += n;
		path[len] = '\0';
		s += n + (s[n] == '/');
		if (v2) {
			/* the controllers asked for, enabled for the level below */
			char parent[1024];

			snprintf(parent, sizeof(parent), "%s", path);
			*strrchr(parent, '/') = '\0';
			for (unsigned i = 0; i < o->ncgroups; i++) {
				char plus[40];

				snprintf(plus, sizeof(plus), "+%s", o->cgroups[i].controller);
				cgfile_write(parent, NULL, "cgroup.subtree_control", plus);
			}
		}
		if (mkdir(path, 0755) == 0) {
			if (m->ncreated >= JAIL_MAX_DEPTH)
				return -ENAMETOOLONG;
			snprintf(m->created[m->ncreated++], sizeof(m->created[0]), "%s", path);
			if (cpuset)
				cpuset_inherit(path);
		} else if (errno != EEXIST) {
			return -errno;
		}
	}
	snprintf(m->leaf, sizeof(m->leaf), "%s", path);
	return 0;
}

static struct jail_cgroup_mount *mount_for(struct jail_cgroup_state *st, const char *root)
{
	for (unsigned i = 0; i < st->nmounts; i++)
		if (!strcmp(st->m[i].root, root))
			return &st->m[i];
	if (st->nmounts >= JAIL_MAX_MOUNTS)
		return NULL;
	memset(&st->m[st->nmounts], 0, sizeof(st->m[0]));
	snprintf(st->m[st->nmounts].root, sizeof(st->m[0].root), "%s", root);
	return &st->m[st->nmounts++];
}

/*
 * <leaf>/vm, where husk runs: its limit files belong to the jail's uid, so
 * husk can set its own CPU and memory limits (PATCH /vm/limits), always
 * under the jailer's in <leaf>, which stay root's (cgroup delegation).
 */
static const char *const delegated[] = {
	"cpu.cfs_quota_us", "cpu.cfs_period_us", "memory.limit_in_bytes",	/* v1 */
	"cpu.max", "memory.max", "memory.high",					/* v2 */
};

static int make_vm_cgroup(struct jail_cgroup_mount *m, const struct jail_opts *o, bool v2)
{
	char path[1200];

	size_t n = strlen(m->leaf);

	if (n + 4 > sizeof(m->vm))
		return -ENAMETOOLONG;
	memcpy(m->vm, m->leaf, n);
	memcpy(m->vm + n, "/vm", 4);
	if (v2) {
		/* what the jailer was asked to limit, handed on to the level below */
		for (unsigned i = 0; i < o->ncgroups; i++) {
			char plus[40];

			snprintf(plus, sizeof(plus), "+%s", o->cgroups[i].controller);
			cgfile_write(m->leaf, NULL, "cgroup.subtree_control", plus);
		}
	}
	if (mkdir(m->vm, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (m->ncreated >= JAIL_MAX_DEPTH)
		return -ENAMETOOLONG;
	if (strlen(m->vm) >= sizeof(m->created[0]))
		return -ENAMETOOLONG;
	memcpy(m->created[m->ncreated++], m->vm, strlen(m->vm) + 1);
	if (!v2 && strstr(m->root, "cpuset"))
		cpuset_inherit(m->vm);
	if (chown(m->vm, o->uid, o->gid) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(delegated) / sizeof(delegated[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->vm, delegated[i]);
		if (chown(path, o->uid, o->gid) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int jail_cgroups_mount(const struct jail_opts *o, const struct jail_cgroup_state *st,
		       const char *root, char *err, size_t errlen)
{
	char dst[1200];

	for (unsigned i = 0; i < st->nmounts; i++) {
		const char *name = strrchr(st->m[i].root, '/') + 1;

		snprintf(dst, sizeof(dst), "%s/cgroup", root);
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			goto fail;
		if (o->cgroup_version == 1) {
			snprintf(dst, sizeof(dst), "%s/cgroup/%s", root, name);
			if (mkdir(dst, 0755) < 0 && errno != EEXIST)
				goto fail;
		}
		if (mount(st->m[i].vm, dst, NULL, MS_BIND, NULL) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "jail: cgroup %s at %s: %s", st->m[0].vm, dst, strerror(errno));
	return -errno;
}

int jail_cgroups(const struct jail_opts *o, const char *mounts, pid_t pid,
		 struct jail_cgroup_state *st, char *err, size_t errlen)
{
	bool v2 = o->cgroup_version == 2;
	char rel[1024], pidstr[24];
	int ret = 0;

	memset(st, 0, sizeof(*st));
	if (!o->ncgroups)
		return 0;
	snprintf(rel, sizeof(rel), "%s/%s", o->parent_cgroup, o->id);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	for (unsigned i = 0; i < o->ncgroups && !ret; i++) {
		const struct jail_cgroup *c = &o->cgroups[i];
		struct jail_cgroup_mount *m;
		char root[256];

		if (find_mount(mounts, v2 ? NULL : c->controller, root, sizeof(root))) {
			snprintf(err, errlen, "--cgroup %s: no cgroup v%d hierarchy %s%s is mounted",
				 c->file, o->cgroup_version, v2 ? "" : "with controller ",
				 v2 ? "" : c->controller);
			ret = -ENOENT;
			break;
		}
		m = mount_for(st, root);
		if (!m) {
			snprintf(err, errlen, "--cgroup: more than %d hierarchies", JAIL_MAX_MOUNTS);
			ret = -E2BIG;
			break;
		}
		if (!m->leaf[0]) {
			ret = make_dirs(m, rel, v2, !v2 && !strcmp(c->controller, "cpuset"), o);
			if (ret) {
				snprintf(err, errlen, "cgroup %s/%s: %s", root, rel, strerror(-ret));
				break;
			}
		}
		ret = cgfile_write(m->leaf, NULL, c->file, c->value);
		if (ret)
			snprintf(err, errlen, "--cgroup %s=%s: %s/%s: %s", c->file, c->value, m->leaf,
				 c->file, strerror(-ret));
	}
	for (unsigned i = 0; i < st->nmounts && !ret; i++) {
		ret = make_vm_cgroup(&st->m[i], o, v2);
		if (ret) {
			snprintf(err, errlen, "cgroup %s/vm: %s", st->m[i].leaf, strerror(-ret));
			break;
		}
		ret = cgfile_write(st->m[i].vm, NULL, v2 ? "cgroup.procs" : "tasks", pidstr);
		if (ret)
			snprintf(err, errlen, "cgroup %s: cannot move the process in: %s",
				 st->m[i].vm, strerror(-ret));
	}
	if (ret)
		jail_cgroups_undo(st, pid);
	return ret;
}

void jail_cgroups_undo(struct jail_cgroup_state *st, pid_t pid)
{
	char pidstr[24];

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	for (unsigned i = 0; i < st->nmounts; i++) {
		struct jail_cgroup_mount *m = &st->m[i];

		/* out of the leaf first: a cgroup with a task in it cannot go */
		if (cgfile_write(m->root, NULL, "cgroup.procs", pidstr))
			cgfile_write(m->root, NULL, "tasks", pidstr);
		while (m->ncreated > 0)
			rmdir(m->created[--m->ncreated]);
	}
	st->nmounts = 0;
}
