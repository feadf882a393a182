// SPDX-License-Identifier: MIT
/*
 * The main thread's event loop (epoll): termination signals, the stop
 * eventfd, console input for the UART, and the periodic halt probe.
 */
#include "vmm/vm.h"
#include "core/log.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define HALT_PROBE_INTERVAL_MS 500
#define METRICS_INTERVAL_S 60	/* Firecracker's period */

enum loop_source {
	SRC_SIGNAL, SRC_STOP, SRC_CONSOLE, SRC_RX_WAKE, SRC_PROBE, SRC_GRACE,
	SRC_SHUTDOWN, SRC_METRICS,
};

struct event_loop {
	struct husk_vm *vm;
	int epfd;
	int sigfd;
	int probefd;
	int gracefd;		/* armed when SIGTERM asked the guest to power off */
	int metricsfd;		/* --metrics: flush every METRICS_INTERVAL_S */
	bool stop_seen;		/* the stop eventfd fired: every kick is done */
	bool console_watched;	/* console input is in the epoll set */
	bool console_eof;
	bool backlog_warned;
	size_t backlog_len;
	uint8_t backlog[4096];	/* console input the UART has no room for yet */
};

static int loop_add(struct event_loop *l, int fd, enum loop_source src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = src };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void console_watch(struct event_loop *l)
{
	int ret, fd = l->vm->console.in_fd;

	if (fd < 0 || l->console_eof || l->console_watched)
		return;
	ret = loop_add(l, fd, SRC_CONSOLE);
	if (ret == -EPERM) {	/* a regular file or /dev/null: nothing to wait on */
		pr_debug("console input is not pollable; ignoring it");
		l->console_eof = true;
		return;
	}
	if (ret) {
		pr_warn("console input: epoll: %s", strerror(-ret));
		return;
	}
	l->console_watched = true;
}

static void console_unwatch(struct event_loop *l)
{
	if (l->console_watched)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->vm->console.in_fd, NULL);
	l->console_watched = false;
	l->console_eof = true;
}

/* Move what the UART has room for from the backlog into its receive FIFO. */
static void backlog_flush(struct event_loop *l)
{
	size_t n = serial_rx_push(l->vm->serial, l->backlog, l->backlog_len);

	memmove(l->backlog, l->backlog + n, l->backlog_len - n);
	l->backlog_len -= n;
}

static void backlog_add(struct event_loop *l, const uint8_t *buf, size_t n)
{
	size_t room = sizeof(l->backlog) - l->backlog_len;

	if (n > room) {
		if (!l->backlog_warned)
			pr_warn("the guest is not reading its console; dropping input");
		l->backlog_warned = true;
		n = room;
	}
	memcpy(l->backlog + l->backlog_len, buf, n);
	l->backlog_len += n;
}

/*
 * Console input is always read, even while the guest does not drain its
 * UART, so that Ctrl-A x works on a wedged guest; what the UART cannot take
 * yet waits in a bounded backlog.
 */
static void handle_console(struct event_loop *l)
{
	struct husk_vm *vm = l->vm;
	uint8_t in[256], out[256];
	size_t outn = 0;
	ssize_t n;

	n = read(vm->console.in_fd, in, sizeof(in));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		console_unwatch(l);	/* EOF or error: no more input */
		return;
	}
	if (console_filter_input(&vm->console, in, (size_t)n, out, &outn)) {
		vm_request_stop(vm, STOP_CONSOLE_ESCAPE, HUSK_EXIT_OK);
		return;
	}
	backlog_add(l, out, outn);
	backlog_flush(l);
}

static void handle_rx_wake(struct event_loop *l)
{
	uint64_t v;

	if (read(l->vm->rx_wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("rx wake: %s", strerror(errno));
	backlog_flush(l);
}

/*
 * SIGTERM asks the guest to shut down: press its ACPI power button and give
 * it cfg.shutdown_timeout seconds to power off. Returns false when there is
 * no graceful path (timeout 0, no power button, already asked).
 */
static bool request_graceful_shutdown(struct event_loop *l, const char *who)
{
	struct husk_vm *vm = l->vm;
	struct itimerspec its = { .it_value = { .tv_sec = vm->cfg.shutdown_timeout } };

	if (l->gracefd >= 0 || vm->cfg.shutdown_timeout == 0 || !vm->acpi_ged)
		return false;
	l->gracefd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->gracefd < 0 || timerfd_settime(l->gracefd, 0, &its, NULL) < 0 ||
	    loop_add(l, l->gracefd, SRC_GRACE) < 0 || acpi_power_button(vm->acpi_ged) < 0) {
		pr_warn("cannot press the ACPI power button: %s", strerror(errno));
		return false;
	}
	pr_info("%s: pressed the guest's power button, waiting up to %u s for it to power off",
		who, vm->cfg.shutdown_timeout);
	vm->shutdown_asked = true;	/* a reboot now ends husk, --on-reboot or not */
	return true;
}

static void handle_signal(struct event_loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM && request_graceful_shutdown(l, "received SIGTERM"))
		return;
	pr_info("received %s, stopping", strsignal((int)si.ssi_signo));
	vm_request_stop(l->vm, STOP_SIGNAL, HUSK_EXIT_OK);
}

static void handle_grace_expired(struct event_loop *l)
{
	pr_info("the guest did not power off within %u s, stopping it", l->vm->cfg.shutdown_timeout);
	vm_request_stop(l->vm, STOP_SIGNAL, HUSK_EXIT_OK);
}

/* PUT /actions Shutdown: as SIGTERM, with the same bounded wait. */
static void handle_api_shutdown(struct event_loop *l)
{
	uint64_t v;

	if (read(l->vm->shutdown_fd, &v, sizeof(v)) < 0)
		return;
	if (request_graceful_shutdown(l, "Shutdown requested through the API"))
		return;
	if (l->gracefd >= 0)
		return;		/* already waiting for the guest */
	pr_info("Shutdown requested through the API, stopping");
	vm_request_stop(l->vm, STOP_SIGNAL, HUSK_EXIT_OK);
}

static void handle_metrics(struct event_loop *l)
{
	uint64_t ticks;
	int ret;

	if (read(l->metricsfd, &ticks, sizeof(ticks)) < 0)
		return;
	ret = husk_vm_flush_metrics(l->vm);
	if (ret)
		pr_warn("--metrics %s: %s", l->vm->cfg.metrics_path, strerror(-ret));
}

static int loop_setup_metrics(struct event_loop *l)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = METRICS_INTERVAL_S },
		.it_value = { .tv_sec = METRICS_INTERVAL_S },
	};

	if (!l->vm->cfg.metrics_path)
		return 0;
	l->metricsfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->metricsfd < 0 || timerfd_settime(l->metricsfd, 0, &its, NULL) < 0)
		return -errno;
	return loop_add(l, l->metricsfd, SRC_METRICS);
}

static void handle_probe(struct event_loop *l)
{
	struct husk_vm *vm = l->vm;
	uint64_t ticks;
	unsigned gen;

	if (read(l->probefd, &ticks, sizeof(ticks)) < 0)
		return;
	gen = atomic_fetch_add(&vm->probe_gen, 1) + 1;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		atomic_store(&vm->vcpus[i].probe_gen, gen);
		vcpu_kick(&vm->vcpus[i]);
	}
}

static int loop_setup_signals(struct event_loop *l)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return l->sigfd < 0 ? -errno : loop_add(l, l->sigfd, SRC_SIGNAL);
}

static int loop_setup_probe(struct event_loop *l)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = HALT_PROBE_INTERVAL_MS * 1000000L },
		.it_value = { .tv_nsec = HALT_PROBE_INTERVAL_MS * 1000000L },
	};

	l->probefd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->probefd < 0 || timerfd_settime(l->probefd, 0, &its, NULL) < 0)
		return -errno;
	return loop_add(l, l->probefd, SRC_PROBE);
}

static int loop_setup(struct event_loop *l, struct husk_vm *vm)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->vm = vm;
	l->sigfd = l->probefd = l->gracefd = l->metricsfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	ret = loop_setup_signals(l);
	if (!ret)
		ret = loop_add(l, vm->stop_fd, SRC_STOP);
	if (!ret)
		ret = loop_add(l, vm->rx_wake_fd, SRC_RX_WAKE);
	if (!ret)
		ret = loop_setup_probe(l);
	if (!ret)
		ret = loop_add(l, vm->shutdown_fd, SRC_SHUTDOWN);
	if (!ret)
		ret = loop_setup_metrics(l);
	console_watch(l);
	return ret;
}

static void loop_teardown(struct event_loop *l)
{
	if (l->metricsfd >= 0)
		close(l->metricsfd);
	if (l->gracefd >= 0)
		close(l->gracefd);
	if (l->probefd >= 0)
		close(l->probefd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->epfd >= 0)
		close(l->epfd);
}

static void loop_dispatch(struct event_loop *l, uint32_t src)
{
	switch (src) {
	case SRC_SIGNAL:  handle_signal(l); break;
	case SRC_CONSOLE: handle_console(l); break;
	case SRC_RX_WAKE: handle_rx_wake(l); break;
	case SRC_PROBE:   handle_probe(l); break;
	case SRC_GRACE:   handle_grace_expired(l); break;
	case SRC_STOP:    l->stop_seen = true; break;
	case SRC_SHUTDOWN: handle_api_shutdown(l); break;
	case SRC_METRICS: handle_metrics(l); break;
	}
}

int vm_event_loop(struct husk_vm *vm)
{
	struct event_loop l;
	struct epoll_event evs[8];
	int ret = loop_setup(&l, vm);

	if (ret) {
		pr_err("event loop: %s", strerror(-ret));
		vm_request_stop(vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
		l.stop_seen = true;	/* the loop may lack the stop fd */
	}
	/* ends on the stop eventfd, which vm_request_stop() writes after its kicks */
	while (!l.stop_seen) {
		int n = epoll_wait(l.epfd, evs, 8, -1);

		if (n < 0 && errno != EINTR) {
			pr_err("event loop: epoll_wait: %s", strerror(errno));
			vm_request_stop(vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
			break;
		}
		for (int i = 0; i < n; i++)
			loop_dispatch(&l, evs[i].data.u32);
	}
	loop_teardown(&l);
	return 0;
}
