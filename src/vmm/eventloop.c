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

enum loop_source { SRC_SIGNAL, SRC_STOP, SRC_CONSOLE, SRC_RX_WAKE, SRC_PROBE };

struct event_loop {
	struct husk_vm *vm;
	int epfd;
	int sigfd;
	int probefd;
	bool console_watched;	/* console input is in the epoll set */
	bool console_eof;
};

static int loop_add(struct event_loop *l, int fd, enum loop_source src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = src };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void console_watch(struct event_loop *l, bool on)
{
	int fd = l->vm->console.in_fd;

	if (fd < 0 || l->console_eof || on == l->console_watched)
		return;
	if (on) {
		int ret = loop_add(l, fd, SRC_CONSOLE);

		if (ret == -EPERM) {	/* a regular file or /dev/null: nothing to wait on */
			pr_debug("console input is not pollable; ignoring it");
			l->console_eof = true;
			return;
		}
		if (ret) {
			pr_warn("console input: epoll: %s", strerror(-ret));
			return;
		}
	} else {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	}
	l->console_watched = on;
}

static void handle_console(struct event_loop *l)
{
	struct husk_vm *vm = l->vm;
	uint8_t in[256], out[256];
	size_t room = serial_rx_space(vm->serial), outn = 0;
	ssize_t n;

	if (room == 0) {	/* resume when the guest drains its FIFO */
		console_watch(l, false);
		return;
	}
	n = read(vm->console.in_fd, in, room < sizeof(in) ? room : sizeof(in));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		console_watch(l, false);
		l->console_eof = true;	/* EOF or error: no more input */
		return;
	}
	if (console_filter_input(&vm->console, in, (size_t)n, out, &outn)) {
		vm_request_stop(vm, STOP_CONSOLE_ESCAPE, HUSK_EXIT_OK);
		return;
	}
	serial_rx_push(vm->serial, out, outn);
}

static void handle_rx_wake(struct event_loop *l)
{
	uint64_t v;

	if (read(l->vm->rx_wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("rx wake: %s", strerror(errno));
	console_watch(l, true);
}

static void handle_signal(struct event_loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("received %s, stopping", strsignal((int)si.ssi_signo));
	vm_request_stop(l->vm, STOP_SIGNAL, HUSK_EXIT_OK);
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
	l->sigfd = l->probefd = -1;
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
	console_watch(l, true);
	return ret;
}

static void loop_teardown(struct event_loop *l)
{
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
	case SRC_STOP:    break;	/* vm_stopping() ends the loop */
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
	}
	while (!vm_stopping(vm)) {
		int n = epoll_wait(l.epfd, evs, 8, -1);

		if (n < 0 && errno != EINTR) {
			pr_err("event loop: epoll_wait: %s", strerror(errno));
			vm_request_stop(vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
		}
		for (int i = 0; i < n; i++)
			loop_dispatch(&l, evs[i].data.u32);
	}
	loop_teardown(&l);
	return 0;
}
