// SPDX-License-Identifier: MIT
/*
 * husk-jailer's file system work: the jail's directories, husk and the
 * libraries it loads copied in, pivot_root, the device nodes; and taking
 * it all away again when a later step fails.
 */
#include "sandbox/jail.h"
#include "sandbox/jail_fs.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* mkdir -p @path, each directory made noted (its parent's fd and its name). */
static int make_path(struct jail_fs *fs, const char *path)
{
	char buf[1024];
	size_t len = strlen(path);

	if (len >= sizeof(buf) || path[0] != '/')
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == 0) {
			char *slash = strrchr(buf, '/');
			struct jail_made *m;

			if (fs->nmade >= JAIL_MAX_MADE)
				return -E2BIG;
			m = &fs->made[fs->nmade];
			*slash = '\0';
			m->parent_fd = open(slash == buf ? "/" : buf, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
			*slash = '/';
			if (m->parent_fd < 0)
				return -errno;
			m->file = false;
			snprintf(m->name, sizeof(m->name), "%s", slash + 1);
			fs->nmade++;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (last)
			break;
		*p = '/';
	}
	return 0;
}

/* rm -r @name under @dirfd (no symlink is followed). */
static void remove_tree_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				remove_tree_at(fd, e->d_name);
		if (d)
			closedir(d);
		else
			close(fd);
		unlinkat(dirfd, name, AT_REMOVEDIR);
	} else {
		unlinkat(dirfd, name, 0);
	}
}

void jail_fs_undo(struct jail_fs *fs)
{
	/* the jail's directory and below whole; above it only what is empty again */
	while (fs->nmade > 0) {
		struct jail_made *m = &fs->made[--fs->nmade];

		if (m->file)
			unlinkat(m->parent_fd, m->name, 0);
		else if (fs->nmade >= fs->tree_from)
			remove_tree_at(m->parent_fd, m->name);
		else
			unlinkat(m->parent_fd, m->name, AT_REMOVEDIR);
		close(m->parent_fd);
	}
}

void jail_fs_forget(struct jail_fs *fs)
{
	while (fs->nmade > 0)
		close(fs->made[--fs->nmade].parent_fd);
}

/* Note @path (just made) for jail_fs_undo(). */
static int note_file(struct jail_fs *fs, const char *path)
{
	char dir[1024];
	struct jail_made *m;
	char *slash;

	if (fs->nmade >= JAIL_MAX_MADE || strlen(path) >= sizeof(dir))
		return -E2BIG;
	m = &fs->made[fs->nmade];
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	m->parent_fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (m->parent_fd < 0)
		return -errno;
	m->file = true;
	snprintf(m->name, sizeof(m->name), "%s", slash + 1);
	fs->nmade++;
	return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out;
	ssize_t n = 0;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		n = -errno;
		close(in);
		return (int)n;
	}
	do {
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
	} while (n > 0);
	if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
		char buf[65536];

		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
	}
	n = n < 0 ? -errno : 0;
	close(in);
	if (close(out) < 0 && !n)
		n = -errno;
	return (int)n;
}

/* The ELF's program interpreter (PT_INTERP), "" for a static executable. */
static int elf_interp(const char *path, char *out, size_t outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -ENOEXEC;
	Elf64_Ehdr eh;

	out[0] = '\0';
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > 256)
		goto out;
	ret = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph)) {
			ret = -ENOEXEC;
			break;
		}
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz < 2 || ph.p_filesz > outlen ||
		    pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
		    out[ph.p_filesz - 1] != '\0' || out[0] != '/')
			ret = -ENOEXEC;
		break;
	}
out:
	close(fd);
	return ret;
}

/* What the dynamic loader would map for @exec: its --list output. */
static int list_libraries(const char *interp, const char *exec, char *out, size_t outlen)
{
	char *const argv[] = { (char *)interp, "--list", (char *)exec, NULL };
	char *const envp[] = { NULL };
	size_t len = 0;
	int pfd[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execve(interp, argv, envp);
		_exit(127);
	}
	close(pfd[1]);
	while (len + 1 < outlen && (n = read(pfd[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOEXEC;
}

/* Copy each library path in the loader's list into @root at the same path. */
static int copy_libraries(struct jail_fs *fs, const char *root, char *list, char *err,
			  size_t errlen)
{
	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
		char *arrow = strstr(line, "=> "), *path = arrow ? arrow + 3 : line, dst[1024];
		int ret;

		path += strspn(path, " \t");
		if (path[0] != '/')
			continue;	/* the vDSO, or "not found" */
		path[strcspn(path, " \t(")] = '\0';
		if ((size_t)snprintf(dst, sizeof(dst), "%s%s", root, path) >= sizeof(dst))
			return -ENAMETOOLONG;
		*strrchr(dst, '/') = '\0';
		ret = make_path(fs, dst);
		dst[strlen(dst)] = '/';
		if (!ret)
			ret = copy_file(path, dst, 0755);
		if (!ret)
			ret = note_file(fs, dst);
		if (ret && ret != -EEXIST) {
			snprintf(err, errlen, "jail: copying %s into the jail: %s", path,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int jail_make_root(const struct jail_opts *o, struct jail_fs *fs, char *err, size_t errlen)
{
	char dir[1024], root[1100], dst[1200], interp[256], *list;
	int ret;

	memset(fs, 0, sizeof(*fs));
	if (jail_paths(o, dir, sizeof(dir), root, sizeof(root))) {
		snprintf(err, errlen, "--chroot-base-dir %s: the jail's path is too long",
			 o->chroot_base);
		return -ENAMETOOLONG;
	}
	/* a jail made beforehand (the kernel and disks put in) is used as it is */
	fs->tree_from = access(dir, F_OK) == 0 ? JAIL_MAX_MADE : 0;
	ret = make_path(fs, dir);
	if (fs->tree_from == 0)
		fs->tree_from = fs->nmade ? fs->nmade - 1 : 0;
	if (!ret)
		ret = make_path(fs, root);
	if (ret) {
		snprintf(err, errlen, "jail %s: %s", root, strerror(-ret));
		goto fail;
	}
	snprintf(dst, sizeof(dst), "%s/%s", root, o->exec_name);
	ret = copy_file(o->exec_file, dst, 0755);
	if (!ret)
		ret = note_file(fs, dst);
	if (ret) {
		snprintf(err, errlen, "--exec-file %s: copying it into the jail: %s%s", o->exec_file,
			 strerror(-ret), ret == -EEXIST ? " (is --id in use?)" : "");
		goto fail;
	}
	ret = elf_interp(o->exec_file, interp, sizeof(interp));
	if (ret || !interp[0]) {
		if (ret)
			snprintf(err, errlen, "--exec-file %s: not a 64-bit ELF executable",
				 o->exec_file);
		if (ret)
			goto fail;
		return 0;	/* static: nothing else to bring */
	}
	list = malloc(65536);
	ret = list ? list_libraries(interp, o->exec_file, list, 65536) : -ENOMEM;
	if (ret)
		snprintf(err, errlen, "--exec-file %s: its loader %s cannot list its libraries",
			 o->exec_file, interp);
	else
		ret = copy_libraries(fs, root, list, err, errlen);
	free(list);
	if (!ret)
		return 0;
fail:
	jail_fs_undo(fs);
	return ret;
}

int jail_new_mount_ns(char *err, size_t errlen)
{
	const char *step = "unshare(CLONE_NEWNS)";

	if (unshare(CLONE_NEWNS) == 0) {
		step = "making / a slave mount";
		if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) == 0)
			return 0;
	}
	snprintf(err, errlen, "jail: %s: %s", step, strerror(errno));
	return -errno;
}

int jail_pivot(const char *root, char *err, size_t errlen)
{
	const char *step;

	step = "bind-mounting the jail onto itself";
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		goto fail;
	step = "chdir into the jail";
	if (chdir(root) < 0)
		goto fail;
	step = "mkdir old_root";
	if (mkdir("old_root", 0700) < 0)
		goto fail;
	step = "pivot_root";
	if (syscall(SYS_pivot_root, ".", "old_root") < 0)
		goto fail;
	step = "unmounting the old root";
	if (umount2("old_root", MNT_DETACH) < 0 || rmdir("old_root") < 0)
		goto fail;
	step = "chroot";
	if (chroot(".") < 0 || chdir("/") < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "jail %s: %s: %s", root, step, strerror(errno));
	return -errno;
}

static int node(const char *path, dev_t dev, uid_t uid, gid_t gid)
{
	if (mknod(path, S_IFCHR | 0600, dev) < 0 && errno != EEXIST)
		return -errno;
	return chown(path, uid, gid) < 0 ? -errno : 0;
}

int jail_make_devices(const struct jail_opts *o, dev_t uffd, char *err, size_t errlen)
{
	const char *what = "/dev";
	int ret = 0;

	if ((mkdir("/dev", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("/dev/net", 0755) < 0 && errno != EEXIST))
		ret = -errno;
	if (!ret && (ret = node(what = "/dev/kvm", makedev(10, 232), o->uid, o->gid)) == 0 &&
	    (ret = node(what = "/dev/net/tun", makedev(10, 200), o->uid, o->gid)) == 0 && uffd)
		ret = node(what = "/dev/userfaultfd", uffd, o->uid, o->gid);
	/* the jail's root is the VM's: husk makes its API socket there */
	if (!ret && chown("/", o->uid, o->gid) < 0)
		ret = -errno, what = "the jail's root";
	if (ret)
		snprintf(err, errlen, "jail: %s: %s", what, strerror(-ret));
	return ret;
}
