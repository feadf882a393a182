// SPDX-License-Identifier: MIT
/*
 * What each thread role may ask of the kernel, as data. A role is a list of
 * groups; a group is a list of rules; a rule allows one system call, with
 * at most one condition on its arguments. docs/security.md says why each
 * group holds what it holds and how the tables were checked.
 */
#include "sandbox/seccomp_tables.h"

#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/userfaultfd.h>
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ioctl.h>

#define ANY(name)		{ SCMP_SYS(name), SB_ANY, 0 }
#define IOCTL(req)		{ SCMP_SYS(ioctl), SB_IOCTL, (unsigned long)(req) }
#define IOCTL_TYPE(t)		{ SCMP_SYS(ioctl), SB_IOCTL_TYPE, (unsigned long)(t) }
#define NOEXEC(name)		{ SCMP_SYS(name), SB_NOEXEC, 0 }
#define ARG0(name, v)		{ SCMP_SYS(name), SB_ARG0_EQ, (unsigned long)(v) }
#define GROUP(rules)		{ #rules, rules, sizeof(rules) / sizeof(rules[0]) }

/* Every thread: memory, locks, signals, time, logging (isatty is TCGETS). */
static const struct sandbox_rule base[] = {
	ANY(read), ANY(write), ANY(close), ANY(futex), ANY(exit), ANY(exit_group),
	ANY(rt_sigreturn), ANY(rt_sigprocmask), ANY(sigaltstack), ANY(restart_syscall),
	ANY(getpid), ANY(gettid), ANY(tgkill), ANY(clock_gettime), ANY(clock_nanosleep),
	ANY(nanosleep), ANY(sched_yield), ANY(getrandom), ANY(brk), ANY(munmap), ANY(mremap),
	ANY(madvise), NOEXEC(mmap), NOEXEC(mprotect), ANY(fstat), ANY(newfstatat),
	IOCTL(TCGETS),
};

/* Starting threads: clone only as a thread (never a process); clone3's flags hide in memory. */
static const struct sandbox_rule thread[] = {
	{ SCMP_SYS(clone), SB_ARG0_HAS, CLONE_THREAD },
	{ SCMP_SYS(clone3), SB_ERRNO, ENOSYS },	/* glibc then falls back to clone */
	ANY(set_robust_list), ANY(rseq), ARG0(prctl, PR_SET_NAME),
	ANY(rt_sigaction),	/* glibc sets its cancellation handler at the first thread */
};

/*
 * Roles that open no files: an open fails (EACCES) rather than killing,
 * because glibc's malloc reads /proc/sys/vm/overcommit_memory once, lazily,
 * on whichever thread first shrinks an arena; it copes with the failure.
 */
static const struct sandbox_rule no_open[] = {
	{ SCMP_SYS(openat), SB_ERRNO, EACCES },
	{ SCMP_SYS(open), SB_ERRNO, EACCES },
};

/* A device's I/O thread: its epoll set, eventfds, io_uring, the tap, the image. */
static const struct sandbox_rule worker[] = {
	ANY(epoll_wait), ANY(epoll_pwait), ANY(epoll_ctl), ANY(poll), ANY(ppoll),
	ANY(readv), ANY(writev), ANY(pread64), ANY(pwrite64), ANY(preadv), ANY(pwritev),
	ANY(preadv2), ANY(pwritev2), ANY(fsync), ANY(fdatasync), ANY(fallocate),
	ANY(io_uring_enter), ANY(timerfd_settime), ANY(timerfd_gettime),
	/* the control queue: the guest's offloads and its number of queue pairs */
	IOCTL(TUNSETOFFLOAD), IOCTL(TUNSETQUEUE),
};

/* A vCPU: KVM_RUN, its own state (pause, snapshot), interrupts, device setup on its exits. */
static const struct sandbox_rule vcpu[] = {
	IOCTL(KVM_RUN), IOCTL(KVM_CHECK_EXTENSION),
	IOCTL(KVM_GET_REGS), IOCTL(KVM_SET_REGS), IOCTL(KVM_GET_SREGS), IOCTL(KVM_SET_SREGS),
	IOCTL(KVM_GET_FPU), IOCTL(KVM_SET_FPU), IOCTL(KVM_GET_XSAVE), IOCTL(KVM_SET_XSAVE),
	IOCTL(KVM_GET_XSAVE2), IOCTL(KVM_GET_XCRS), IOCTL(KVM_SET_XCRS),
	IOCTL(KVM_GET_MSRS), IOCTL(KVM_SET_MSRS), IOCTL(KVM_GET_LAPIC), IOCTL(KVM_SET_LAPIC),
	IOCTL(KVM_GET_VCPU_EVENTS), IOCTL(KVM_SET_VCPU_EVENTS), IOCTL(KVM_GET_MP_STATE),
	IOCTL(KVM_SET_MP_STATE), IOCTL(KVM_GET_DEBUGREGS), IOCTL(KVM_SET_DEBUGREGS),
	IOCTL(KVM_GET_TSC_KHZ), IOCTL(KVM_KVMCLOCK_CTRL),
	IOCTL(KVM_IRQ_LINE), IOCTL(KVM_IRQ_LINE_STATUS), IOCTL(KVM_SIGNAL_MSI),
	IOCTL(KVM_SET_GSI_ROUTING), IOCTL(KVM_IOEVENTFD), IOCTL(KVM_IRQFD),
	IOCTL(KVM_GET_CLOCK),
	/* a net driver's DRIVER_OK: offloads and the header size go to the tap */
	IOCTL(TUNSETOFFLOAD), IOCTL(TUNSETVNETHDRSZ), IOCTL(TUNSETQUEUE),
	ANY(eventfd2),
};

/* The guest watchdog's timer thread. */
static const struct sandbox_rule watchdog[] = {
	ANY(timerfd_settime), ANY(timerfd_gettime), ANY(poll), ANY(ppoll),
	ANY(epoll_wait), ANY(epoll_pwait),
};

/* Migration and replication: the stream, dirty logs, vCPU state, post-copy's userfaultfd. */
static const struct sandbox_rule migration[] = {
	ARG0(socket, AF_UNIX), ARG0(socket, AF_INET), ARG0(socket, AF_INET6),
	ANY(connect), ANY(sendto), ANY(sendmsg), ANY(recvfrom), ANY(recvmsg), ANY(setsockopt),
	ANY(getsockopt), ANY(getsockname), ANY(getpeername), ANY(shutdown), ANY(fcntl),
	IOCTL_TYPE(KVMIO), IOCTL_TYPE(UFFDIO), IOCTL(TUNSETOFFLOAD),
	ANY(eventfd2), ANY(timerfd_create), ANY(sendfile), ANY(lseek),
	ANY(flock),	/* a migrated VM's disks: the source lets go after its last write */
};

/* Building a VM (main: at start and on a reboot restart; API: on InstanceStart, a restore). */
static const struct sandbox_rule build[] = {
	ANY(openat), ANY(memfd_create), ANY(ftruncate), ANY(epoll_create1), ANY(timerfd_create),
	ANY(signalfd4), ANY(io_uring_setup), ANY(io_uring_register), ANY(userfaultfd),
	IOCTL_TYPE(KVMIO), IOCTL_TYPE('T'), IOCTL_TYPE(0x89), IOCTL_TYPE(0x12),
	IOCTL_TYPE(UFFDIO), ANY(flock), ANY(statx), ANY(lseek), ANY(dup), ANY(dup2), ANY(dup3),
	ANY(fcntl), ANY(pipe2), ANY(unlink), ANY(unlinkat), ANY(rename), ANY(renameat),
	ANY(renameat2), ANY(bind), ANY(listen), ANY(accept), ANY(accept4), ANY(select),
	ANY(pselect6), ANY(rt_sigaction), ANY(rt_sigtimedwait), ANY(sysinfo),
	ANY(sched_getaffinity), ANY(getuid), ANY(geteuid), ANY(getgid), ANY(getegid),
	ANY(prlimit64), ANY(getrusage), ANY(times), ANY(statfs), ANY(fstatfs), ANY(readlink),
	ANY(readlinkat), ANY(access), ANY(faccessat), ANY(faccessat2), ANY(getcwd),
	ANY(getdents64), ANY(umask), ANY(fchmod), ANY(msync), ANY(fadvise64),
	ANY(copy_file_range), ANY(mincore), ANY(fsync), ANY(fdatasync), ANY(kill),
};

static const struct sandbox_group base_group = GROUP(base);
static const struct sandbox_group thread_group = GROUP(thread);
static const struct sandbox_group worker_group = GROUP(worker);
static const struct sandbox_group vcpu_group = GROUP(vcpu);
static const struct sandbox_group watchdog_group = GROUP(watchdog);
static const struct sandbox_group migration_group = GROUP(migration);
static const struct sandbox_group build_group = GROUP(build);
static const struct sandbox_group no_open_group = GROUP(no_open);

/* A role's groups: its own, and those of every thread it may start (see seccomp.h). */
static const struct sandbox_group *const main_groups[] = {
	&base_group, &thread_group, &worker_group, &vcpu_group, &watchdog_group,
	&migration_group, &build_group,
};
static const struct sandbox_group *const vcpu_groups[] = {
	&base_group, &thread_group, &worker_group, &vcpu_group, &no_open_group,
};
static const struct sandbox_group *const worker_groups[] = {
	&base_group, &worker_group, &no_open_group,
};
static const struct sandbox_group *const migration_groups[] = {
	&base_group, &thread_group, &worker_group, &migration_group, &no_open_group,
};
static const struct sandbox_group *const watchdog_groups[] = {
	&base_group, &watchdog_group, &no_open_group,
};

#define ROLE(name, groups) { name, groups, sizeof(groups) / sizeof(groups[0]) }

static const struct sandbox_role_table roles[] = {
	[SANDBOX_MAIN] = ROLE("main", main_groups),
	[SANDBOX_API] = ROLE("api", main_groups),
	[SANDBOX_VCPU] = ROLE("vcpu", vcpu_groups),
	[SANDBOX_WORKER] = ROLE("device", worker_groups),
	[SANDBOX_MIGRATION] = ROLE("migration", migration_groups),
	[SANDBOX_WATCHDOG] = ROLE("watchdog", watchdog_groups),
};

const struct sandbox_role_table *sandbox_role_table(enum sandbox_role role)
{
	return (unsigned)role < SANDBOX_ROLES ? &roles[role] : NULL;
}
