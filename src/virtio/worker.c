// SPDX-License-Identifier: MIT
/* Device I/O threads: see virtio/worker.h. */
#include "virtio/worker.h"
#include "core/log.h"
#include "sandbox/seccomp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define CTL_TAG UINT32_MAX

unsigned long long eventfd_drain(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

void eventfd_kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		pr_debug("eventfd %d: %s", fd, strerror(errno));
}

int worker_init(struct worker *w, const char *name, const struct husk_sandbox *sb)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = CTL_TAG };

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->sandbox = sb;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (w->epfd < 0 || w->ctl_fd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->ctl_fd, &ev) < 0) {
		int ret = -errno;

		worker_destroy(w);
		return ret;
	}
	return 0;
}

int worker_watch(struct worker *w, int fd, worker_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = w->nwatch };

	if (w->running || w->nwatch >= WORKER_MAX_WATCH || fd < 0)
		return -EINVAL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w->watch[w->nwatch++] = (struct worker_watch){ .fd = fd, .fn = fn, .ctx = ctx };
	return 0;
}

void worker_unwatch_all(struct worker *w)
{
	for (unsigned i = 0; i < w->nwatch; i++)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->watch[i].fd, NULL);
	w->nwatch = 0;
}

void worker_set_poll(struct worker *w, worker_poll_fn fn, void *ctx, unsigned long ns)
{
	w->poll_fn = ns ? fn : NULL;
	w->poll_ctx = ctx;
	w->poll_ns = ns;
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/*
 * Nothing is pending: spin up to poll_ns letting the device look at its
 * rings (its notifications suppressed meanwhile). True when it found work;
 * control requests wait at most poll_ns.
 */
static bool worker_idle_poll(struct worker *w)
{
	unsigned long long end;

	if (!w->poll_fn || !w->poll_fn(w->poll_ctx, WORKER_POLL_BEGIN))
		return false;
	end = mono_ns() + w->poll_ns;
	do {
		if (w->poll_fn(w->poll_ctx, WORKER_POLL_CHECK))
			return true;
		__builtin_ia32_pause();
	} while (mono_ns() < end);
	return w->poll_fn(w->poll_ctx, WORKER_POLL_END);
}

static void ctl_kick(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->ctl_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: control eventfd: %s", w->name, strerror(errno));
}

/* Handle stop/pause requests; returns false when the thread must end. */
static bool worker_control(struct worker *w)
{
	bool keep_going;

	eventfd_drain(w->ctl_fd);
	pthread_mutex_lock(&w->lock);
	while (w->pause_req && !w->stop_req) {
		w->parked = true;
		pthread_cond_broadcast(&w->cond);
		pthread_cond_wait(&w->cond, &w->lock);
	}
	w->parked = false;
	keep_going = !w->stop_req;
	pthread_mutex_unlock(&w->lock);
	return keep_going;
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[WORKER_MAX_WATCH + 1];

	pthread_setname_np(pthread_self(), w->name);
	if (sandbox_enter(w->sandbox, SANDBOX_WORKER) < 0) {
		pr_err("%s: cannot enter its seccomp filter; the device stops", w->name);
		return NULL;
	}
	for (;;) {
		int n = epoll_wait(w->epfd, evs, WORKER_MAX_WATCH + 1, w->poll_fn ? 0 : -1);

		if (n == 0) {
			if (worker_idle_poll(w))
				continue;
			n = epoll_wait(w->epfd, evs, WORKER_MAX_WATCH + 1, -1);
		}

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("%s: epoll_wait: %s", w->name, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = evs[i].data.u32;

			if (tag == CTL_TAG) {
				if (!worker_control(w))
					return NULL;
			} else if (tag < w->nwatch) {
				w->watch[tag].fn(w->watch[tag].ctx);
			}
		}
	}
	return NULL;
}

int worker_start(struct worker *w)
{
	int ret;

	if (w->running)
		return 0;
	w->stop_req = w->pause_req = w->parked = false;
	ret = pthread_create(&w->thread, NULL, worker_thread, w);
	if (ret)
		return -ret;
	w->running = true;
	return 0;
}

void worker_pause(struct worker *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->pause_req = true;
	ctl_kick(w);
	while (!w->parked && !w->stop_req)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void worker_resume(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->pause_req = false;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void worker_stop(struct worker *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop_req = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	ctl_kick(w);
	pthread_join(w->thread, NULL);
	w->running = false;
	eventfd_drain(w->ctl_fd);
}

void worker_destroy(struct worker *w)
{
	worker_stop(w);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->ctl_fd >= 0)
		close(w->ctl_fd);
	w->epfd = w->ctl_fd = -1;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}
