// SPDX-License-Identifier: MIT
/*
 * Seccomp per thread role (sandbox/seccomp.c): every role's table compiles;
 * in a child process under a role's filter the calls the role needs work
 * and the others end the process with status 148 and one line naming the
 * role and the call; log mode lets them through; clone3 answers ENOSYS so
 * threads still start; fork, executable mappings and other roles' ioctls
 * are refused. Children, because a filter cannot be taken off again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "sandbox/seccomp.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1	/* the runtimes make calls no role allows: nothing to test */
#else
#define SANITIZED 0
#endif

typedef int (*child_fn)(void);

/* A pipe the child opens before its filter (pipe2 is only the main role's). */
static int child_pipe[2];

struct outcome {
	int status;		/* exit status, or 128 + signal */
	char err[512];		/* what it wrote on stderr */
};

/* Run @fn in a child under @role's filter in @mode; its exit status and stderr. */
static void run_child(enum sandbox_mode mode, enum sandbox_role role, child_fn fn,
		      struct outcome *out)
{
	int pipefd[2], st;
	ssize_t n;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct husk_sandbox sb;
		char err[256];

		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (pipe(child_pipe))
			_exit(89);
		if (sandbox_init(&sb, mode, err, sizeof(err)) < 0) {
			fprintf(stderr, "init: %s\n", err);
			_exit(90);
		}
		if (sandbox_enter(&sb, role) < 0)
			_exit(91);
		_exit(fn());
	}
	close(pipefd[1]);
	n = read(pipefd[0], out->err, sizeof(out->err) - 1);
	out->err[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	out->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int call_uname(void)
{
	struct utsname u;

	return uname(&u) == 0 ? 0 : 1;
}

static int allowed_calls(void)
{
	/* memory, time, reads and writes, the log's isatty: every role has them */
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec ts;
	char buf[8];

	if (p == MAP_FAILED || munmap(p, 4096) || clock_gettime(CLOCK_MONOTONIC, &ts))
		return 10;
	if (write(child_pipe[1], "x", 1) != 1 || read(child_pipe[0], buf, 1) != 1)
		return 11;
	(void)isatty(STDERR_FILENO);
	return 0;
}

static int exec_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? 1 : 0;
}

static int fork_process(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);	/* fork's clone */

	if (pid == 0)
		_exit(0);
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int start_thread(void)
{
	pthread_t t;
	void *res = NULL;

	/* clone3 answers ENOSYS, glibc falls back to clone with CLONE_THREAD */
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 20;
	if (pthread_create(&t, NULL, thread_fn, (void *)7))
		return 21;
	pthread_join(t, &res);
	return res == (void *)7 ? 0 : 22;
}

static int kvm_ioctl(void)
{
	/* on a pipe: where it is allowed, ENOTTY; it is not the device role's */
	return ioctl(child_pipe[0], KVM_CREATE_VM, 0) < 0 && errno == ENOTTY ? 0 : 31;
}

static int open_file(void)
{
	/* roles that open nothing: EACCES, not a kill (glibc's malloc may try) */
	return open("/proc/sys/vm/overcommit_memory", O_RDONLY) < 0 && errno == EACCES ? 0 : 40;
}

static void test_parse(void **state)
{
	enum sandbox_mode m;

	(void)state;
	assert_int_equal(sandbox_parse_mode("kill", &m), 0);
	assert_int_equal(m, SANDBOX_KILL);
	assert_int_equal(sandbox_parse_mode("log", &m), 0);
	assert_int_equal(m, SANDBOX_LOG);
	assert_int_equal(sandbox_parse_mode("off", &m), 0);
	assert_int_equal(m, SANDBOX_OFF);
	assert_int_equal(sandbox_parse_mode("Kill", &m), -EINVAL);
	assert_int_equal(sandbox_parse_mode("", &m), -EINVAL);
	assert_string_equal(sandbox_role_name(SANDBOX_VCPU), "vcpu");
	assert_string_equal(sandbox_role_name(SANDBOX_WORKER), "device");
}

static void test_every_role_compiles(void **state)
{
	struct husk_sandbox sb;
	char err[256];

	(void)state;
	assert_int_equal(sandbox_init(&sb, SANDBOX_LOG, err, sizeof(err)), 0);
	for (int r = 0; r < SANDBOX_ROLES; r++) {
		assert_non_null(sb.prog[r]);
		assert_true(sb.len[r] > 4);
	}
	sandbox_free(&sb);
	assert_int_equal(sandbox_init(&sb, SANDBOX_OFF, err, sizeof(err)), 0);
	assert_null(sb.prog[SANDBOX_VCPU]);
	assert_int_equal(sandbox_enter(&sb, SANDBOX_VCPU), 0);	/* off: nothing */
	assert_int_equal(sandbox_enter(NULL, SANDBOX_VCPU), 0);
}

static void test_forbidden_call_kills_with_report(void **state)
{
	struct outcome o;

	(void)state;
	if (SANITIZED)
		skip();
	run_child(SANDBOX_KILL, SANDBOX_VCPU, call_uname, &o);
	assert_int_equal(o.status, HUSK_EXIT_SECCOMP);
	assert_non_null(strstr(o.err, "seccomp: the vcpu thread made a forbidden system call: "
				      "uname (63)"));
	/* one line, and nothing after it */
	assert_non_null(strchr(o.err, '\n'));
	assert_int_equal(strchr(o.err, '\n')[1], '\0');
}

static void test_allowed_calls_pass(void **state)
{
	struct outcome o;

	(void)state;
	if (SANITIZED)
		skip();
	for (int r = 0; r < SANDBOX_ROLES; r++) {
		run_child(SANDBOX_KILL, (enum sandbox_role)r, allowed_calls, &o);
		if (o.status)
			print_error("role %s: %s", sandbox_role_name((enum sandbox_role)r), o.err);
		assert_int_equal(o.status, 0);
	}
	run_child(SANDBOX_KILL, SANDBOX_VCPU, start_thread, &o);
	if (o.status)
		print_error("start a thread: %s", o.err);
	assert_int_equal(o.status, 0);
	run_child(SANDBOX_KILL, SANDBOX_MAIN, kvm_ioctl, &o);
	assert_int_equal(o.status, 0);
	run_child(SANDBOX_KILL, SANDBOX_WORKER, open_file, &o);
	assert_int_equal(o.status, 0);
	run_child(SANDBOX_KILL, SANDBOX_MIGRATION, open_file, &o);
	assert_int_equal(o.status, 0);
}

static void test_refusals(void **state)
{
	struct outcome o;

	(void)state;
	if (SANITIZED)
		skip();
	run_child(SANDBOX_KILL, SANDBOX_MAIN, exec_mapping, &o);
	assert_int_equal(o.status, HUSK_EXIT_SECCOMP);
	assert_non_null(strstr(o.err, "mmap"));
	run_child(SANDBOX_KILL, SANDBOX_VCPU, fork_process, &o);
	assert_int_equal(o.status, HUSK_EXIT_SECCOMP);
	assert_non_null(strstr(o.err, "clone"));
	run_child(SANDBOX_KILL, SANDBOX_WORKER, kvm_ioctl, &o);
	assert_int_equal(o.status, HUSK_EXIT_SECCOMP);
	assert_non_null(strstr(o.err, "the device thread"));
	assert_non_null(strstr(o.err, "ioctl (16) request 0xae01"));
	run_child(SANDBOX_KILL, SANDBOX_WORKER, start_thread, &o);
	assert_int_equal(o.status, HUSK_EXIT_SECCOMP);	/* device threads start none */
}

static void test_log_mode_lets_through(void **state)
{
	struct outcome o;

	(void)state;
	if (SANITIZED)
		skip();
	run_child(SANDBOX_LOG, SANDBOX_WORKER, call_uname, &o);
	assert_int_equal(o.status, 0);
	assert_null(strstr(o.err, "seccomp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_every_role_compiles),
		cmocka_unit_test(test_forbidden_call_kills_with_report),
		cmocka_unit_test(test_allowed_calls_pass),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_log_mode_lets_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
