// SPDX-License-Identifier: MIT
/* Seccomp filters per thread role: compiled once, entered by each thread. */
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_tables.h"
#include "core/log.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <ucontext.h>
#include <unistd.h>

#define SB_MAX_NR 512		/* x86-64 system call numbers end well below */

/*
 * The SIGSYS reporter runs in a signal handler, which cannot be handed
 * context: it reads the calling thread's role from a thread-local and the
 * system call names from a table filled once by sandbox_init() (resolving
 * a name there would allocate, and the call that trapped may have been
 * malloc's own). Both are written before any filter exists.
 */
static char *syscall_names[SB_MAX_NR];
static _Thread_local int thread_role = -1;

int sandbox_parse_mode(const char *s, enum sandbox_mode *out)
{
	if (!strcmp(s, "kill") || !strcmp(s, "on"))
		*out = SANDBOX_KILL;
	else if (!strcmp(s, "log"))
		*out = SANDBOX_LOG;
	else if (!strcmp(s, "off"))
		*out = SANDBOX_OFF;
	else
		return -EINVAL;
	return 0;
}

enum sandbox_mode sandbox_default_mode(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return SANDBOX_OFF;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	return SANDBOX_OFF;
#else
	return SANDBOX_KILL;
#endif
#else
	return SANDBOX_KILL;
#endif
}

const char *sandbox_role_name(enum sandbox_role role)
{
	const struct sandbox_role_table *t = sandbox_role_table(role);

	return t ? t->name : "unknown";
}

/* Async-signal-safe pieces of the report line. */
static void put_str(char *buf, size_t size, size_t *n, const char *s)
{
	while (*s && *n + 1 < size)
		buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t size, size_t *n, unsigned long v, unsigned base)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i < (int)sizeof(tmp));
	while (i > 0 && *n + 1 < size)
		buf[(*n)++] = tmp[--i];
}

static void sigsys_report(int sig, siginfo_t *si, void *ctx)
{
	const ucontext_t *uc = ctx;
	int nr = si->si_syscall;
	char line[256];
	size_t n = 0;

	(void)sig;
	put_str(line, sizeof(line), &n, "husk: seccomp: the ");
	put_str(line, sizeof(line), &n, thread_role >= 0 ?
		sandbox_role_name((enum sandbox_role)thread_role) : "(unnamed role)");
	put_str(line, sizeof(line), &n, " thread made a forbidden system call: ");
	if (nr >= 0 && nr < SB_MAX_NR && syscall_names[nr])
		put_str(line, sizeof(line), &n, syscall_names[nr]);
	else
		put_str(line, sizeof(line), &n, "syscall");
	put_str(line, sizeof(line), &n, " (");
	put_num(line, sizeof(line), &n, (unsigned long)nr, 10);
	put_str(line, sizeof(line), &n, ")");
	if (nr == SYS_ioctl) {
		put_str(line, sizeof(line), &n, " request 0x");
		put_num(line, sizeof(line), &n, (unsigned long)uc->uc_mcontext.gregs[REG_RSI], 16);
	}
	put_str(line, sizeof(line), &n, "; exiting with status 148\n");
	log_write_raw(line, n);
	_exit(HUSK_EXIT_SECCOMP);
}

/* SCMP_A0(SCMP_CMP_EQ, v) with every field named (clang warns on the macro's two) */
static struct scmp_arg_cmp arg0_eq(uint64_t v)
{
	return (struct scmp_arg_cmp){ .arg = 0, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0 };
}

static int add_rule(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	int ret;

	switch (r->arg) {
	case SB_ANY:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
		break;
	case SB_IOCTL:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, r->val));
		break;
	case SB_IOCTL_TYPE:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00UL, r->val << 8));
		break;
	case SB_NOEXEC:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		break;
	case SB_ARG0_EQ:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1, arg0_eq(r->val));
		break;
	case SB_ARG0_HAS:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, r->val, r->val));
		break;
	case SB_ERRNO:
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint16_t)r->val), r->nr, 0);
		break;
	default:
		ret = -EINVAL;
	}
	return ret == -EEXIST ? 0 : ret;
}

/* Every thread may stack a stricter filter of its own on an inherited one. */
static int add_entering(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1,
				arg0_eq(SECCOMP_SET_MODE_FILTER));
}

/* One role's table as BPF, through a memfd (libseccomp 2.5 exports only to an fd). */
static int compile_role(struct husk_sandbox *sb, enum sandbox_role role, uint32_t deny)
{
	const struct sandbox_role_table *t = sandbox_role_table(role);
	scmp_filter_ctx ctx = seccomp_init(deny);
	int fd = -1, ret = -ENOMEM;
	off_t size;

	if (!ctx)
		return -ENOMEM;
	/* NO_NEW_PRIVS is set once for the whole process by sandbox_init() */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/*
	 * A binary tree over the syscall numbers instead of a chain: the few
	 * calls the kernel cannot cache as always-allowed (ioctl, mmap, ...)
	 * cost a handful of BPF steps, not one per rule.
	 */
	if (!ret)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (unsigned g = 0; !ret && g < t->ngroups; g++)
		for (unsigned i = 0; !ret && i < t->groups[g]->n; i++)
			ret = add_rule(ctx, &t->groups[g]->rules[i]);
	if (!ret)
		ret = add_entering(ctx);
	if (ret)
		goto out;
	fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = seccomp_export_bpf(ctx, fd);
	if (ret)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		ret = -E2BIG;
		goto out;
	}
	sb->prog[role] = malloc((size_t)size);
	if (!sb->prog[role]) {
		ret = -ENOMEM;
		goto out;
	}
	if (pread(fd, sb->prog[role], (size_t)size, 0) != size) {
		ret = -EIO;
		goto out;
	}
	sb->len[role] = (unsigned short)(size / sizeof(struct sock_filter));
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return ret;
}

static int fill_names(void)
{
	for (int nr = 0; nr < SB_MAX_NR; nr++) {
		if (syscall_names[nr])
			continue;
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	}
	return 0;
}

static int selftest_role(void)
{
	const char *s = getenv("HUSK_SECCOMP_SELFTEST");

	for (int r = 0; s && r < SANDBOX_ROLES; r++)
		if (!strcmp(s, sandbox_role_name((enum sandbox_role)r)))
			return r;
	return -1;
}

int sandbox_init(struct husk_sandbox *sb, enum sandbox_mode mode, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_sigaction = sigsys_report, .sa_flags = SA_SIGINFO };
	uint32_t deny = mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	int ret = 0;

	memset(sb, 0, sizeof(*sb));
	sb->mode = mode;
	sb->selftest = -1;
	if (mode == SANDBOX_OFF)
		return 0;
	sb->selftest = selftest_role();
	for (int r = 0; !ret && r < SANDBOX_ROLES; r++) {
		ret = compile_role(sb, (enum sandbox_role)r, deny);
		if (ret)
			snprintf(err, errlen, "seccomp: cannot build the %s filter: %s",
				 sandbox_role_name((enum sandbox_role)r), strerror(-ret));
	}
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ret = -errno;
		snprintf(err, errlen, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	}
	if (ret) {
		sandbox_free(sb);
		return ret;
	}
	fill_names();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	return 0;
}

void sandbox_free(struct husk_sandbox *sb)
{
	if (!sb)
		return;
	for (int r = 0; r < SANDBOX_ROLES; r++) {
		free(sb->prog[r]);
		sb->prog[r] = NULL;
	}
}

/* HUSK_SECCOMP_SELFTEST=ROLE: that role's thread calls what no role allows (tests). */
static void misbehave(void)
{
	struct utsname u;

	uname(&u);
}

int sandbox_enter(const struct husk_sandbox *sb, enum sandbox_role role)
{
	struct sock_fprog prog;

	if (!sb || sb->mode == SANDBOX_OFF || (unsigned)role >= SANDBOX_ROLES)
		return 0;
	if (!sb->prog[role])
		return -EINVAL;
	prog.len = sb->len[role];
	prog.filter = sb->prog[role];
	thread_role = (int)role;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	if (sb->selftest == (int)role)
		misbehave();
	return 0;
}

void sandbox_note_role(enum sandbox_role role)
{
	thread_role = (int)role;
}
