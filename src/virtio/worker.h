/* SPDX-License-Identifier: MIT */
#ifndef HUSK_WORKER_H
#define HUSK_WORKER_H

#include <pthread.h>
#include <stdbool.h>

/*
 * A device I/O thread: one epoll set, a handful of watched fds (a queue's
 * kick eventfd, an io_uring completion eventfd, a timerfd), each with a
 * callback run on the worker thread. Virtio devices do all their queue work
 * here, never on a vCPU thread (DESIGN.md).
 *
 * Lifecycle: worker_init(), worker_watch() for each fd, worker_start();
 * worker_pause()/worker_resume() park and release the thread (VM pause:
 * when pause returns, no callback runs until resume); worker_stop() ends
 * and joins it (it may be started again after watching fds anew);
 * worker_destroy() frees it. Control calls come from one thread at a time
 * (a vCPU thread holding the device lock, the API thread, the main thread)
 * and never from the worker itself.
 */
#define WORKER_MAX_WATCH 8

struct husk_sandbox;

typedef void (*worker_fn)(void *ctx);

/*
 * Idle polling: before the thread sleeps it may spin for a while, asking the
 * device to look at its rings itself. BEGIN: may it poll now (it then
 * suppresses notifications)? CHECK: work found and done? END: the window is
 * over: re-enable notifications; true when that found work (and did it).
 */
enum worker_poll_step { WORKER_POLL_BEGIN, WORKER_POLL_CHECK, WORKER_POLL_END };
typedef bool (*worker_poll_fn)(void *ctx, enum worker_poll_step step);

struct worker_watch {
	int fd;
	worker_fn fn;
	void *ctx;
};

struct worker {
	char name[16];
	int epfd;
	int ctl_fd;			/* eventfd: stop or pause requested */
	pthread_t thread;
	bool running;
	unsigned nwatch;
	struct worker_watch watch[WORKER_MAX_WATCH];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop_req;
	bool pause_req;
	bool parked;
	worker_poll_fn poll_fn;		/* NULL: never polls */
	void *poll_ctx;
	unsigned long poll_ns;
	const struct husk_sandbox *sandbox;	/* its seccomp filter; NULL: none */
};

/* @sb: the filter the thread enters as it starts (NULL: none). */
int worker_init(struct worker *w, const char *name, const struct husk_sandbox *sb);
/* Watch @fd for input; @fn runs on the worker (it must drain @fd). Before start. */
int worker_watch(struct worker *w, int fd, worker_fn fn, void *ctx);
/* Forget every watch (the worker is stopped). */
void worker_unwatch_all(struct worker *w);
/* Poll for up to @ns before sleeping (see worker_poll_fn); NULL or 0: never. Before start. */
void worker_set_poll(struct worker *w, worker_poll_fn fn, void *ctx, unsigned long ns);
int worker_start(struct worker *w);
void worker_pause(struct worker *w);
void worker_resume(struct worker *w);
void worker_stop(struct worker *w);
void worker_destroy(struct worker *w);

/* Drain an eventfd (kick or completion); returns the count read, 0 if none. */
unsigned long long eventfd_drain(int fd);
/* Add 1 to an eventfd. */
void eventfd_kick(int fd);

#endif
