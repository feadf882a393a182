// SPDX-License-Identifier: MIT
/*
 * The device I/O thread's idle polling (worker_set_poll): work that shows up
 * during the polling window is found by the poll callback with no fd being
 * signalled; the window ends with WORKER_POLL_END when nothing came; a device
 * that says it may not poll (BEGIN false) sleeps in epoll at once; pause and
 * stop still work while the thread polls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "virtio/worker.h"

struct dev {
	atomic_bool work_ready;		/* "the guest added a buffer" */
	atomic_bool may_poll;
	atomic_uint begins, checks_found, ends, kicks;
	int kick_fd;
};

static void nap_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool dev_poll(void *ctx, enum worker_poll_step step)
{
	struct dev *d = ctx;

	switch (step) {
	case WORKER_POLL_BEGIN:
		if (!atomic_load(&d->may_poll))
			return false;
		atomic_fetch_add(&d->begins, 1);
		return true;
	case WORKER_POLL_CHECK:
		if (!atomic_exchange(&d->work_ready, false))
			return false;
		atomic_fetch_add(&d->checks_found, 1);
		return true;
	default:
		atomic_fetch_add(&d->ends, 1);
		return false;
	}
}

static void on_kick(void *ctx)
{
	struct dev *d = ctx;

	eventfd_drain(d->kick_fd);
	atomic_fetch_add(&d->kicks, 1);
}

static void start(struct worker *w, struct dev *d, unsigned long poll_ns)
{
	d->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(d->kick_fd >= 0);
	assert_int_equal(worker_init(w, "test-poll", NULL), 0);
	assert_int_equal(worker_watch(w, d->kick_fd, on_kick, d), 0);
	worker_set_poll(w, dev_poll, d, poll_ns);
	assert_int_equal(worker_start(w), 0);
}

static void finish(struct worker *w, struct dev *d)
{
	worker_stop(w);
	worker_destroy(w);
	close(d->kick_fd);
}

static void test_poll_finds_work_without_a_kick(void **state)
{
	struct worker w;
	struct dev d = { .may_poll = true };

	(void)state;
	start(&w, &d, 2000ul * 1000 * 1000);	/* a 2 s window: the test is not racing it */
	nap_ms(20);
	assert_true(atomic_load(&d.begins) >= 1);
	atomic_store(&d.work_ready, true);
	for (int i = 0; i < 1000 && !atomic_load(&d.checks_found); i++)
		nap_ms(1);
	assert_int_equal(atomic_load(&d.checks_found), 1);
	assert_int_equal(atomic_load(&d.kicks), 0);
	/* a kick during the window is still served (after it) */
	eventfd_kick(d.kick_fd);
	nap_ms(2500);
	assert_int_equal(atomic_load(&d.kicks), 1);
	assert_true(atomic_load(&d.ends) >= 1);
	/* pause and stop are not stuck behind a polling thread */
	worker_pause(&w);
	worker_resume(&w);
	finish(&w, &d);
}

static void test_window_ends_then_sleeps(void **state)
{
	struct worker w;
	struct dev d = { .may_poll = true };
	unsigned begins;

	(void)state;
	start(&w, &d, 1000ul * 1000);		/* 1 ms */
	nap_ms(50);
	begins = atomic_load(&d.begins);
	assert_int_equal(begins, 1);		/* one window, then epoll_wait */
	assert_int_equal(atomic_load(&d.ends), 1);
	eventfd_kick(d.kick_fd);		/* wakes it: one more window after the kick */
	nap_ms(50);
	assert_int_equal(atomic_load(&d.kicks), 1);
	assert_int_equal(atomic_load(&d.begins), 2);
	finish(&w, &d);
}

static void test_device_declines(void **state)
{
	struct worker w;
	struct dev d = { .may_poll = false };

	(void)state;
	start(&w, &d, 1000ul * 1000 * 1000);
	nap_ms(20);
	eventfd_kick(d.kick_fd);
	nap_ms(20);
	assert_int_equal(atomic_load(&d.kicks), 1);
	assert_int_equal(atomic_load(&d.begins), 0);
	assert_int_equal(atomic_load(&d.ends), 0);
	finish(&w, &d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_finds_work_without_a_kick),
		cmocka_unit_test(test_window_ends_then_sleeps),
		cmocka_unit_test(test_device_declines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
