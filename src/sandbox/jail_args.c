// SPDX-License-Identifier: MIT
/* husk-jailer's flags: Firecracker's jailer's, each checked before anything is made. */
#include "sandbox/jail.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	OPT_ID = 0x100, OPT_EXEC, OPT_UID, OPT_GID, OPT_BASE, OPT_NETNS, OPT_CGV, OPT_CGROUP,
	OPT_PARENT, OPT_RLIMIT, OPT_DAEMON, OPT_PIDNS, OPT_HELP,
};

static const struct option long_options[] = {
	{ "id", required_argument, NULL, OPT_ID },
	{ "exec-file", required_argument, NULL, OPT_EXEC },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "chroot-base-dir", required_argument, NULL, OPT_BASE },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "cgroup-version", required_argument, NULL, OPT_CGV },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "parent-cgroup", required_argument, NULL, OPT_PARENT },
	{ "resource-limit", required_argument, NULL, OPT_RLIMIT },
	{ "daemonize", no_argument, NULL, OPT_DAEMON },
	{ "new-pid-ns", no_argument, NULL, OPT_PIDNS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void jail_usage(FILE *out)
{
	fprintf(out,
		"usage: husk-jailer --id ID --exec-file HUSK --uid UID --gid GID\n"
		"                   [--chroot-base-dir DIR] [--netns PATH] [--cgroup-version 1|2]\n"
		"                   [--cgroup FILE=VALUE]... [--parent-cgroup PATH]\n"
		"                   [--resource-limit fsize=N|no-file=N]... [--daemonize]\n"
		"                   [--new-pid-ns] [-- HUSK-ARGS...]\n"
		"Builds DIR/<exec name>/ID/root (default DIR %s), copies HUSK and the\n"
		"libraries it loads there, puts the process in the cgroups, pivots into the\n"
		"jail, makes /dev/kvm, /dev/net/tun and /dev/userfaultfd, joins the network\n"
		"namespace, drops to UID:GID and runs HUSK --id ID HUSK-ARGS (docs/jailer.md).\n",
		JAIL_DEFAULT_BASE);
}

static int parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

/* alphanumerics and '-', 1..64 characters (Firecracker's rule) */
static bool valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JAIL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
			return false;
	return true;
}

/* A relative path of plain names: no "..", no "//", no leading "/". */
static bool valid_relative(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/')
		return false;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
		if (*s == '/' && !*++s)
			return false;
	}
	return true;
}

static int add_cgroup(struct jail_opts *o, char *arg, char *err, size_t errlen)
{
	char *eq = strchr(arg, '=');
	struct jail_cgroup *c;
	size_t clen;
	char *dot;

	if (!eq || eq == arg || !eq[1]) {
		snprintf(err, errlen, "--cgroup %s: expected FILE=VALUE (e.g. cpu.shares=512)", arg);
		return -EINVAL;
	}
	*eq = '\0';
	dot = strchr(arg, '.');
	clen = dot ? (size_t)(dot - arg) : 0;
	if (!dot || clen == 0 || !dot[1] || strchr(arg, '/') || clen >= sizeof(c->controller) ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyz_.0123456789") != strlen(arg)) {
		*eq = '=';
		snprintf(err, errlen, "--cgroup %s: FILE must be CONTROLLER.NAME (e.g. cpu.shares)",
			 arg);
		return -EINVAL;
	}
	if (o->ncgroups >= JAIL_MAX_CGROUPS) {
		*eq = '=';
		snprintf(err, errlen, "--cgroup %s: at most %d", arg, JAIL_MAX_CGROUPS);
		return -EINVAL;
	}
	if (strchr(eq + 1, '\n')) {
		*eq = '=';
		snprintf(err, errlen, "--cgroup %s: the value has a newline", arg);
		return -EINVAL;
	}
	c = &o->cgroups[o->ncgroups++];
	c->file = arg;
	c->value = eq + 1;
	memcpy(c->controller, arg, clen);
	c->controller[clen] = '\0';
	return 0;
}

static int add_rlimit(struct jail_opts *o, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	unsigned long long v;

	if (!eq || parse_num(eq + 1, (unsigned long long)LLONG_MAX, &v)) {
		snprintf(err, errlen, "--resource-limit %s: expected fsize=N or no-file=N", arg);
		return -EINVAL;
	}
	if (!strncmp(arg, "fsize=", 6))
		o->fsize = (long long)v;
	else if (!strncmp(arg, "no-file=", 8) && v > 0 && v <= 1048576)
		o->nofile = (long long)v;
	else {
		snprintf(err, errlen, "--resource-limit %s: expected fsize=N or no-file=1..1048576",
			 arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_one(int opt, char *arg, struct jail_opts *o, char *err, size_t errlen)
{
	unsigned long long v;

	switch (opt) {
	case OPT_ID: o->id = arg; return 0;
	case OPT_EXEC: o->exec_file = arg; return 0;
	case OPT_UID:
	case OPT_GID:
		/* (uid_t)-1 means "unchanged" to setuid's family: refused */
		if (parse_num(arg, 0xfffffffeULL, &v)) {
			snprintf(err, errlen, "--%s %s: expected a number 0..4294967294",
				 opt == OPT_UID ? "uid" : "gid", arg);
			return -EINVAL;
		}
		if (opt == OPT_UID)
			o->uid = (uid_t)v;
		else
			o->gid = (gid_t)v;
		return 0;
	case OPT_BASE: o->chroot_base = arg; return 0;
	case OPT_NETNS: o->netns = arg; return 0;
	case OPT_CGV:
		if (strcmp(arg, "1") && strcmp(arg, "2")) {
			snprintf(err, errlen, "--cgroup-version %s: expected 1 or 2", arg);
			return -EINVAL;
		}
		o->cgroup_version = arg[0] - '0';
		return 0;
	case OPT_CGROUP: return add_cgroup(o, arg, err, errlen);
	case OPT_PARENT: o->parent_cgroup = arg; return 0;
	case OPT_RLIMIT: return add_rlimit(o, arg, err, errlen);
	case OPT_DAEMON: o->daemonize = true; return 0;
	case OPT_PIDNS: o->new_pid_ns = true; return 0;
	}
	return -EINVAL;
}

static int check(struct jail_opts *o, bool have_uid, bool have_gid, char *err, size_t errlen)
{
	struct stat st;

	if (!o->id || !o->exec_file || !have_uid || !have_gid) {
		snprintf(err, errlen, "missing %s (husk-jailer --help)",
			 !o->id ? "--id" : !o->exec_file ? "--exec-file" : !have_uid ? "--uid" :
			 "--gid");
		return -EINVAL;
	}
	if (!valid_id(o->id)) {
		snprintf(err, errlen, "--id %s: 1 to %d letters, digits and '-'", o->id,
			 JAIL_ID_MAX);
		return -EINVAL;
	}
	if (stat(o->exec_file, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		snprintf(err, errlen, "--exec-file %s: %s", o->exec_file,
			 errno == ENOENT ? strerror(ENOENT) : "not an executable regular file");
		return -EINVAL;
	}
	o->exec_name = strrchr(o->exec_file, '/') ? strrchr(o->exec_file, '/') + 1 : o->exec_file;
	if (!o->parent_cgroup)
		o->parent_cgroup = o->exec_name;
	if (!valid_relative(o->parent_cgroup)) {
		snprintf(err, errlen, "--parent-cgroup %s: a relative path without '.' or '..'",
			 o->parent_cgroup);
		return -EINVAL;
	}
	if (o->chroot_base[0] != '/' || strlen(o->chroot_base) > 512) {
		snprintf(err, errlen, "--chroot-base-dir %s: an absolute path expected",
			 o->chroot_base);
		return -EINVAL;
	}
	if (o->netns && (stat(o->netns, &st) < 0)) {
		snprintf(err, errlen, "--netns %s: %s", o->netns, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

int jail_parse(int argc, char **argv, struct jail_opts *o, char *err, size_t errlen)
{
	bool have_uid = false, have_gid = false;
	int opt, ret, dashes = -1;

	memset(o, 0, sizeof(*o));
	o->chroot_base = JAIL_DEFAULT_BASE;
	o->cgroup_version = 1;
	o->fsize = -1;
	o->nofile = JAIL_DEFAULT_NOFILE;
	/* what follows "--" is husk's: getopt must not see it */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dashes = i;
			break;
		}
	if (dashes >= 0) {
		o->exec_argc = argc - dashes - 1;
		o->exec_argv = argv + dashes + 1;
		argc = dashes;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (opt == OPT_HELP)
			return 1;
		if (opt == '?' || opt == ':') {
			snprintf(err, errlen, "%s: %s (husk-jailer --help)", argv[optind - 1],
				 opt == ':' ? "needs a value" : "unknown flag");
			return -EINVAL;
		}
		have_uid |= opt == OPT_UID;
		have_gid |= opt == OPT_GID;
		ret = parse_one(opt, optarg, o, err, errlen);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		snprintf(err, errlen, "%s: unexpected (husk's own flags go after --)", argv[optind]);
		return -EINVAL;
	}
	return check(o, have_uid, have_gid, err, errlen);
}

int jail_paths(const struct jail_opts *o, char *dir, size_t dirlen, char *root, size_t rootlen)
{
	int n = snprintf(dir, dirlen, "%s/%s/%s", o->chroot_base, o->exec_name, o->id);
	int m = snprintf(root, rootlen, "%s/root", dir);

	return n < 0 || (size_t)n >= dirlen || m < 0 || (size_t)m >= rootlen ? -ENAMETOOLONG : 0;
}
