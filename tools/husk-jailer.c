// SPDX-License-Identifier: MIT
/*
 * husk-jailer: run husk in a jail, with Firecracker's jailer's flags and in
 * its order (docs/jailer.md): check the flags, close inherited fds, empty
 * the environment, build the jail and copy husk in, set rlimits, put the
 * process in its cgroups, join the network namespace, pivot into the jail,
 * make the device nodes, daemonize, maybe a new PID namespace, drop to
 * uid:gid and exec husk --id ID [what follows --].
 *
 * Every step that fails before the exec says so on one line, takes away
 * what the earlier ones made (directories, cgroups) and exits 1.
 */
#include "sandbox/jail.h"
#include "sandbox/jail_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

struct jailer {
	struct jail_opts o;
	struct jail_fs fs;
	struct jail_cgroup_state cg;
	bool cg_made;
	int netns_fd, null_fd;
	dev_t uffd;
	char root[1100];
	char err[1024];
};

static int fail(struct jailer *j)
{
	fprintf(stderr, "husk-jailer: %s\n", j->err);
	if (j->cg_made)
		jail_cgroups_undo(&j->cg, getpid());
	jail_fs_undo(&j->fs);
	return 1;
}

static int set_limits(struct jailer *j)
{
	struct rlimit nofile = { (rlim_t)j->o.nofile, (rlim_t)j->o.nofile };
	struct rlimit fsize = { (rlim_t)j->o.fsize, (rlim_t)j->o.fsize };

	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0) {
		snprintf(j->err, sizeof(j->err), "--resource-limit no-file=%lld: %s", j->o.nofile,
			 strerror(errno));
		return -1;
	}
	if (j->o.fsize >= 0 && setrlimit(RLIMIT_FSIZE, &fsize) < 0) {
		snprintf(j->err, sizeof(j->err), "--resource-limit fsize=%lld: %s", j->o.fsize,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int enter_cgroups(struct jailer *j)
{
	char *mounts = malloc(1 << 16);
	int fd = open("/proc/mounts", O_RDONLY | O_CLOEXEC), ret = -1;
	ssize_t n = 0, r;

	if (!mounts || fd < 0) {
		snprintf(j->err, sizeof(j->err), "/proc/mounts: %s", strerror(errno));
		goto out;
	}
	while (n < (1 << 16) - 1 && (r = read(fd, mounts + n, (size_t)((1 << 16) - 1 - n))) > 0)
		n += r;
	mounts[n] = '\0';
	ret = jail_cgroups(&j->o, mounts, getpid(), &j->cg, j->err, sizeof(j->err));
	j->cg_made = !ret;
out:
	if (fd >= 0)
		close(fd);
	free(mounts);
	return ret;
}

/* --new-pid-ns: the child goes on as PID 1 there; the parent notes its PID and leaves. */
static int new_pid_ns(struct jailer *j)
{
	char path[300], buf[24];
	pid_t pid;
	int fd;

	if (unshare(CLONE_NEWPID) < 0) {
		snprintf(j->err, sizeof(j->err), "--new-pid-ns: unshare: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(j->err, sizeof(j->err), "--new-pid-ns: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		return 0;
	snprintf(path, sizeof(path), "/%s.pid", j->o.exec_name);
	snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
		fprintf(stderr, "husk-jailer: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	_exit(0);
}

static int drop_and_exec(struct jailer *j)
{
	char **argv = calloc((size_t)j->o.exec_argc + 6, sizeof(*argv));
	int k = 3;
	char *const envp[] = { NULL };
	char path[300];

	if (!argv) {
		snprintf(j->err, sizeof(j->err), "%s", strerror(ENOMEM));
		return -1;
	}
	snprintf(path, sizeof(path), "/%s", j->o.exec_name);
	argv[0] = (char *)j->o.exec_name;
	argv[1] = "--id";
	argv[2] = (char *)j->o.id;
	if (j->cg.nmounts) {
		/* husk's own cgroup, under the jailer's limits: PATCH /vm/limits */
		argv[k++] = "--cgroup-dir";
		argv[k++] = "/cgroup";
	}
	for (int i = 0; i < j->o.exec_argc; i++)
		argv[k + i] = j->o.exec_argv[i];
	if (setgroups(0, NULL) < 0 || setresgid(j->o.gid, j->o.gid, j->o.gid) < 0 ||
	    setresuid(j->o.uid, j->o.uid, j->o.uid) < 0) {
		snprintf(j->err, sizeof(j->err), "dropping to uid %u gid %u: %s",
			 (unsigned)j->o.uid, (unsigned)j->o.gid, strerror(errno));
		free(argv);
		return -1;
	}
	jail_fs_forget(&j->fs);
	execve(path, argv, envp);
	/* past the drop nothing can be undone: the jail stays for the user to remove */
	fprintf(stderr, "husk-jailer: exec %s in the jail: %s\n", path, strerror(errno));
	free(argv);
	exit(1);
}

int main(int argc, char **argv)
{
	static struct jailer jail = { .netns_fd = -1, .null_fd = -1 };
	struct jailer *j = &jail;
	char dir[1024];
	struct stat st;
	int ret;

	ret = jail_parse(argc, argv, &j->o, j->err, sizeof(j->err));
	if (ret > 0) {
		jail_usage(stdout);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "husk-jailer: %s\n", j->err);
		return 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "husk-jailer: must run as root (it mounts, makes device nodes and "
			"changes uid)\n");
		return 1;
	}
	close_range(3, ~0U, 0);
	clearenv();
	if (j->o.netns && (j->netns_fd = open(j->o.netns, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "husk-jailer: --netns %s: %s\n", j->o.netns, strerror(errno));
		return 1;
	}
	if (j->o.daemonize && (j->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		fprintf(stderr, "husk-jailer: /dev/null: %s\n", strerror(errno));
		return 1;
	}
	if (stat("/dev/userfaultfd", &st) == 0 && S_ISCHR(st.st_mode))
		j->uffd = st.st_rdev;
	jail_paths(&j->o, dir, sizeof(dir), j->root, sizeof(j->root));
	if (jail_make_root(&j->o, &j->fs, j->err, sizeof(j->err)) < 0) {
		fprintf(stderr, "husk-jailer: %s\n", j->err);
		return 1;
	}
	if (set_limits(j) < 0 || enter_cgroups(j) < 0)
		return fail(j);
	if (j->netns_fd >= 0 && setns(j->netns_fd, CLONE_NEWNET) < 0) {
		snprintf(j->err, sizeof(j->err), "--netns %s: not a network namespace (%s)",
			 j->o.netns, strerror(errno));
		return fail(j);
	}
	if (j->o.daemonize && setsid() < 0) {
		snprintf(j->err, sizeof(j->err), "--daemonize: setsid: %s (started as a process "
			 "group leader?)", strerror(errno));
		return fail(j);
	}
	if (jail_new_mount_ns(j->err, sizeof(j->err)) < 0 ||
	    (j->cg.nmounts && jail_cgroups_mount(&j->o, &j->cg, j->root, j->err,
						  sizeof(j->err)) < 0) ||
	    jail_pivot(j->root, j->err, sizeof(j->err)) < 0 ||
	    jail_make_devices(&j->o, j->uffd, j->err, sizeof(j->err)) < 0)
		return fail(j);
	if (j->o.new_pid_ns && new_pid_ns(j) < 0)
		return fail(j);
	if (j->null_fd >= 0) {
		dup2(j->null_fd, STDIN_FILENO);
		dup2(j->null_fd, STDOUT_FILENO);
		dup2(j->null_fd, STDERR_FILENO);
	}
	return drop_and_exec(j) < 0 ? fail(j) : 1;
}
