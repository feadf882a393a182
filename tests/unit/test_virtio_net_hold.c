// SPDX-License-Identifier: MIT
/*
 * Replication's output commit on virtio-net (virtio/virtio_net_hold.c):
 * frames sent while holding go nowhere until their epoch is released, then
 * to the tap in order; a later epoch's frames wait for theirs; hold_stop
 * writes the rest and lets frames through again; beyond the cap frames are
 * dropped and counted. The "tap" is a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio/virtio_net_internal.h"

static struct virtio_net *new_net(int fds[2])
{
	struct virtio_net *net = calloc(1, sizeof(*net));

	assert_non_null(net);
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	net->tap.nqueues = 1;
	net->tap.fds[0] = fds[1];
	strcpy(net->name, "net-test");
	return net;
}

static void frame(struct virtio_net *net, uint8_t tag, size_t len, bool want_held)
{
	uint8_t a[NET_VNET_HDR_LEN] = { 0 }, b[2048];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, len } };

	memset(b, tag, len);
	assert_int_equal(net_hold_frame(net, iov, 2), want_held);
}

/* Read everything in the pipe; return how many bytes, tags in @tags (one per frame of @len). */
static size_t drain(int fd, uint8_t *tags, size_t len)
{
	static uint8_t buf[1 << 20];
	ssize_t n = read(fd, buf, sizeof(buf));
	size_t frames;

	if (n < 0) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	frames = (size_t)n / (NET_VNET_HDR_LEN + len);
	for (size_t i = 0; i < frames; i++)
		tags[i] = buf[i * (NET_VNET_HDR_LEN + len) + NET_VNET_HDR_LEN];
	return frames;
}

static void test_epochs(void **state)
{
	struct virtio_net *net;
	uint8_t tags[16];
	int fds[2];

	(void)state;
	net = new_net(fds);
	frame(net, 9, 100, false);	/* not holding: the caller sends it */
	assert_int_equal(virtio_net_hold_start(net, 0), 0);
	frame(net, 1, 100, true);
	frame(net, 2, 100, true);
	virtio_net_hold_epoch(net, 1);
	frame(net, 3, 100, true);
	assert_int_equal(drain(fds[0], tags, 100), 0);		/* nothing out yet */
	virtio_net_hold_release(net, 0);
	assert_int_equal(drain(fds[0], tags, 100), 2);
	assert_int_equal(tags[0], 1);
	assert_int_equal(tags[1], 2);
	virtio_net_hold_epoch(net, 2);
	frame(net, 4, 100, true);
	virtio_net_hold_release(net, 1);
	assert_int_equal(drain(fds[0], tags, 100), 1);
	assert_int_equal(tags[0], 3);
	assert_int_equal(virtio_net_hold_stop(net), 0);		/* the rest goes out */
	assert_int_equal(drain(fds[0], tags, 100), 1);
	assert_int_equal(tags[0], 4);
	frame(net, 5, 100, false);				/* through again */
	/* and it can start over */
	assert_int_equal(virtio_net_hold_start(net, 7), 0);
	frame(net, 6, 100, true);
	virtio_net_hold_release(net, 6);
	assert_int_equal(drain(fds[0], tags, 100), 0);
	virtio_net_hold_release(net, 7);
	assert_int_equal(drain(fds[0], tags, 100), 1);
	assert_int_equal(virtio_net_hold_stop(net), 0);
	net_hold_free(net);
	close(fds[0]);
	close(fds[1]);
	free(net);
}

static void test_cap(void **state)
{
	struct virtio_net *net;
	unsigned n = (16u << 20) / (NET_VNET_HDR_LEN + 2000) + 10;
	int fds[2];

	(void)state;
	net = new_net(fds);
	assert_int_equal(virtio_net_hold_start(net, 0), 0);
	for (unsigned i = 0; i < n; i++)
		frame(net, (uint8_t)i, 2000, true);
	/* over 16 MiB held: the last ones were dropped, as a full link would */
	assert_true(virtio_net_hold_stop(net) >= 9);
	net_hold_free(net);
	close(fds[0]);
	close(fds[1]);
	free(net);
}

static void test_free_with_frames(void **state)
{
	struct virtio_net *net;
	int fds[2];

	(void)state;
	net = new_net(fds);
	assert_int_equal(virtio_net_hold_start(net, 0), 0);
	frame(net, 1, 64, true);
	net_hold_free(net);	/* the device goes with frames held: freed, not sent */
	close(fds[0]);
	close(fds[1]);
	free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_free_with_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
