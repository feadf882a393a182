// SPDX-License-Identifier: MIT
/*
 * The net engine's mechanics, both kinds, on an AF_UNIX datagram socketpair
 * (like a tap, one message per read or write; no privileges needed): argument
 * checks, depths, cookies, scatter/gather, the completion fd, cancel, stats.
 * The real-tap tests are in test_net_tap.c.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/net_engine.h"
#include "net/tap.h"

struct fixture {
	int sp[2];		/* sp[0]: the engine's "tap", sp[1]: the other end */
	struct net_engine *e;
	enum net_engine_kind kind;
};

static enum net_engine_kind kind_uring = NET_ENGINE_URING;
static enum net_engine_kind kind_sync = NET_ENGINE_SYNC;

static int setup_depths(void **state, unsigned rx, unsigned tx)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct net_engine_params p;
	int ret;

	f->kind = *(enum net_engine_kind *)*state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, f->sp), 0);
	p = (struct net_engine_params){ .tap_fd = f->sp[0], .rx_depth = rx, .tx_depth = tx,
					.kind = f->kind };
	ret = net_engine_create(&p, &f->e);
	if (ret < 0 && f->kind == NET_ENGINE_URING) {
		close(f->sp[0]);
		close(f->sp[1]);
		free(f);
		print_message("io_uring unavailable: %s\n", strerror(-ret));
		skip();
	}
	assert_int_equal(ret, 0);
	assert_int_equal(net_engine_kind(f->e), f->kind);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_depths(state, 4, 4);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	net_engine_destroy(f->e);
	close(f->sp[0]);
	close(f->sp[1]);
	free(f);
	return 0;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* Reap until @want completions came back, waiting on the completion fd. */
static void reap_n(struct net_engine *e, struct net_completion *out, unsigned want)
{
	unsigned got = 0;

	for (int tries = 0; got < want && tries < 200; tries++) {
		int n;

		if (!readable(net_engine_completion_fd(e), 10))
			continue;
		n = net_engine_reap(e, out + got, want - got);
		assert_true(n >= 0);
		got += (unsigned)n;
	}
	assert_int_equal(got, want);
}

static void create_checks_arguments(void **state)
{
	struct net_engine_params p = { .tap_fd = 0, .rx_depth = 4, .tx_depth = 4 };
	struct net_engine *e = NULL;
	int fds[2];

	(void)state;
	assert_int_equal(net_engine_create(NULL, &e), -EINVAL);
	assert_int_equal(net_engine_create(&p, NULL), -EINVAL);
	p.rx_depth = 0;
	assert_int_equal(net_engine_create(&p, &e), -EINVAL);
	p.rx_depth = NET_ENGINE_MAX_DEPTH + 1;
	assert_int_equal(net_engine_create(&p, &e), -EINVAL);
	p.rx_depth = 4;
	p.tx_depth = 0;
	assert_int_equal(net_engine_create(&p, &e), -EINVAL);
	p.tx_depth = 4;
	p.kind = (enum net_engine_kind)7;
	assert_int_equal(net_engine_create(&p, &e), -EINVAL);
	p.kind = NET_ENGINE_SYNC;
	p.tap_fd = -1;
	assert_int_equal(net_engine_create(&p, &e), -EBADF);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	close(fds[1]);
	p.tap_fd = fds[0];	/* closed just now */
	assert_int_equal(net_engine_create(&p, &e), -EBADF);
	assert_null(e);
	net_engine_destroy(NULL);
}

static void parse_kind_names(void **state)
{
	enum net_engine_kind k;

	(void)state;
	assert_int_equal(net_engine_parse_kind("uring", &k), 0);
	assert_int_equal(k, NET_ENGINE_URING);
	assert_int_equal(net_engine_parse_kind("sync", &k), 0);
	assert_int_equal(k, NET_ENGINE_SYNC);
	assert_int_equal(net_engine_parse_kind("auto", &k), 0);
	assert_int_equal(k, NET_ENGINE_AUTO);
	assert_int_equal(net_engine_parse_kind("io_uring", &k), -EINVAL);
	assert_int_equal(net_engine_parse_kind(NULL, &k), -EINVAL);
	assert_string_equal(net_engine_kind_name(NET_ENGINE_SYNC), "sync");
}

static void post_and_queue_check_iovecs(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[128];
	struct iovec iov[NET_ENGINE_MAX_IOV + 1];

	for (unsigned i = 0; i < NET_ENGINE_MAX_IOV + 1; i++)
		iov[i] = (struct iovec){ buf + i, 1 };
	assert_int_equal(net_engine_rx_post(f->e, iov, 0, 1), -EINVAL);
	assert_int_equal(net_engine_rx_post(f->e, NULL, 1, 1), -EINVAL);
	assert_int_equal(net_engine_rx_post(f->e, iov, NET_ENGINE_MAX_IOV + 1, 1), -EINVAL);
	assert_int_equal(net_engine_tx_queue(f->e, iov, NET_ENGINE_MAX_IOV + 1, 1), -EINVAL);
	/* RX: room for at least the vnet header; TX: a header and some frame */
	assert_int_equal(net_engine_rx_post(f->e, iov, NET_VNET_HDR_LEN - 1, 1), -EINVAL);
	assert_int_equal(net_engine_tx_queue(f->e, iov, NET_VNET_HDR_LEN, 1), -EINVAL);
	iov[0] = (struct iovec){ NULL, 64 };
	assert_int_equal(net_engine_rx_post(f->e, iov, 1, 1), -EINVAL);
	iov[0] = (struct iovec){ buf, SIZE_MAX / 2 };
	iov[1] = (struct iovec){ buf, SIZE_MAX / 2 };
	assert_int_equal(net_engine_rx_post(f->e, iov, 2, 1), -EINVAL);
	assert_int_equal(net_engine_rx_inflight(f->e), 0);
	assert_int_equal(net_engine_tx_inflight(f->e), 0);
	/* the maximum is fine */
	for (unsigned i = 0; i < NET_ENGINE_MAX_IOV; i++)
		iov[i] = (struct iovec){ buf + i, 1 };
	assert_int_equal(net_engine_rx_post(f->e, iov, NET_ENGINE_MAX_IOV, 1), 0);
	assert_int_equal(net_engine_rx_inflight(f->e), 1);
}

static void depths_give_ebusy(void **state)
{
	struct fixture *f = *state;
	static uint8_t rx[5][64], tx[64];
	struct iovec iov;
	struct net_completion c[8];

	for (int i = 0; i < 4; i++) {
		iov = (struct iovec){ rx[i], sizeof(rx[i]) };
		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, 100 + i), 0);
	}
	iov = (struct iovec){ rx[4], sizeof(rx[4]) };
	assert_int_equal(net_engine_rx_post(f->e, &iov, 1, 104), -EBUSY);
	memset(tx, 0x5a, sizeof(tx));
	iov = (struct iovec){ tx, sizeof(tx) };
	for (int i = 0; i < 4; i++)
		assert_int_equal(net_engine_tx_queue(f->e, &iov, 1, 200 + i), 0);
	assert_int_equal(net_engine_tx_queue(f->e, &iov, 1, 204), -EBUSY);
	assert_int_equal(net_engine_submit(f->e), 8);
	reap_n(f->e, c, 4);
	for (int i = 0; i < 4; i++) {
		assert_false(c[i].is_rx);
		assert_int_equal(c[i].result, 64);
	}
	/* TX slots are free again, RX ones are still posted */
	assert_int_equal(net_engine_tx_inflight(f->e), 0);
	assert_int_equal(net_engine_rx_inflight(f->e), 4);
	assert_int_equal(net_engine_tx_queue(f->e, &iov, 1, 205), 0);
	assert_int_equal(net_engine_rx_post(f->e, &iov, 1, 104), -EBUSY);
}

static void tx_frames_reach_the_peer_whole(void **state)
{
	struct fixture *f = *state;
	uint8_t hdr[NET_VNET_HDR_LEN] = { 0 }, body[3][100], got[512];
	struct net_completion c[3];
	struct net_engine_stats st;
	unsigned seen = 0;

	for (int i = 0; i < 3; i++) {
		struct iovec iov[2] = { { hdr, sizeof(hdr) }, { body[i], 40 + 20 * i } };

		memset(body[i], 'a' + i, sizeof(body[i]));
		assert_int_equal(net_engine_tx_queue(f->e, iov, 2, 0xf00d0000u + i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 3);
	reap_n(f->e, c, 3);
	for (int i = 0; i < 3; i++) {
		unsigned k = (unsigned)(c[i].cookie - 0xf00d0000u);

		assert_true(k < 3);
		assert_false(c[i].is_rx);
		assert_int_equal(c[i].result, NET_VNET_HDR_LEN + 40 + 20 * (int)k);
		seen |= 1u << k;
	}
	assert_int_equal(seen, 7);
	for (int i = 0; i < 3; i++) {
		ssize_t n = recv(f->sp[1], got, sizeof(got), MSG_DONTWAIT);

		assert_int_equal(n, NET_VNET_HDR_LEN + 40 + 20 * i);
		assert_memory_equal(got, hdr, sizeof(hdr));
		assert_memory_equal(got + NET_VNET_HDR_LEN, body[i], 40 + 20 * i);
	}
	net_engine_get_stats(f->e, &st);
	assert_int_equal(st.tx_packets, 3);
	assert_int_equal(st.tx_bytes, 3 * NET_VNET_HDR_LEN + 40 + 60 + 80);
	assert_int_equal(st.completions, 3);
	assert_int_equal(st.submit_calls, 1);
	assert_int_equal(st.sqes, 3);
	assert_int_equal(st.tx_errors + st.rx_errors, 0);
}

/* Nothing posted: data waiting on the "tap" does not make the fd readable. */
static void rx_needs_posted_buffers(void **state)
{
	struct fixture *f = *state;
	uint8_t a[40], b[40];
	struct iovec iov[2] = { { a, 20 }, { b, 40 } };
	struct net_completion c[2];
	char msg[50];

	memset(a, 0xee, sizeof(a));
	memset(b, 0xee, sizeof(b));
	for (int i = 0; i < 50; i++)
		msg[i] = (char)i;
	assert_int_equal(send(f->sp[1], msg, 50, 0), 50);
	assert_int_equal(send(f->sp[1], msg, 7, 0), 7);
	assert_int_equal(net_engine_submit(f->e), 0);
	assert_false(readable(net_engine_completion_fd(f->e), 100));
	assert_int_equal(net_engine_reap(f->e, c, 2), 0);

	/* one buffer spread over two iovecs takes the first datagram */
	assert_int_equal(net_engine_rx_post(f->e, iov, 2, 77), 0);
	assert_int_equal(net_engine_submit(f->e), 1);
	reap_n(f->e, c, 1);
	assert_true(c[0].is_rx);
	assert_int_equal(c[0].cookie, 77);
	assert_int_equal(c[0].result, 50);
	assert_memory_equal(a, msg, 20);
	assert_memory_equal(b, msg + 20, 30);
	assert_int_equal(b[30], 0xee);

	/* the second waits for the next buffer, and stays where it is meanwhile */
	assert_false(readable(net_engine_completion_fd(f->e), 50));
	assert_int_equal(net_engine_rx_post(f->e, iov, 1, 78), 0);
	assert_int_equal(net_engine_submit(f->e), 1);
	reap_n(f->e, c, 1);
	assert_int_equal(c[0].cookie, 78);
	assert_int_equal(c[0].result, 7);
}

/* Reaping fewer than are ready leaves the fd readable. */
static void partial_reap_keeps_fd_readable(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[4][64];
	struct net_completion c[4];
	unsigned mask = 0;
	int got = 0;

	for (int i = 0; i < 4; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, (uint64_t)i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(send(f->sp[1], "0123456789abcdefXYZ", 16 + (size_t)i, 0),
				 16 + i);
	for (int tries = 0; got < 4 && tries < 100; tries++) {
		int n;

		assert_true(readable(net_engine_completion_fd(f->e), 1000));
		n = net_engine_reap(f->e, c + got, 1);
		assert_true(n == 0 || n == 1);
		got += n;
	}
	assert_int_equal(got, 4);
	for (int i = 0; i < 4; i++) {
		/*
		 * Completions come in arrival order; which posted buffer took
		 * which datagram is up to the kernel (io_uring filled the
		 * last posted first when this was written).
		 */
		unsigned cookie = (unsigned)c[i].cookie;

		assert_int_equal(c[i].result, 16 + i);
		assert_true(cookie < 4);
		assert_memory_equal(buf[cookie], "0123456789abcdefXYZ", 16 + (size_t)i);
		mask |= 1u << cookie;
	}
	assert_int_equal(mask, 0xf);
	assert_false(readable(net_engine_completion_fd(f->e), 50));
}

static void cancel_rx_gives_buffers_back(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[4][64], hdr[NET_VNET_HDR_LEN + 8] = { 0 };
	struct iovec txiov = { hdr, sizeof(hdr) };
	struct net_completion c[5];
	struct net_engine_stats st;
	unsigned mask = 0, tx = 0;

	memset(buf, 0xcc, sizeof(buf));
	for (int i = 0; i < 4; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, (uint64_t)i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 4);
	/* a TX frame queued but not submitted goes out during the cancel */
	assert_int_equal(net_engine_tx_queue(f->e, &txiov, 1, 99), 0);
	assert_int_equal(net_engine_cancel_rx(f->e), 0);
	assert_true(readable(net_engine_completion_fd(f->e), 0));
	reap_n(f->e, c, 5);
	for (int i = 0; i < 5; i++) {
		if (!c[i].is_rx) {
			assert_int_equal(c[i].cookie, 99);
			tx++;
			continue;
		}
		assert_int_equal(c[i].result, -ECANCELED);
		mask |= 1u << c[i].cookie;
	}
	assert_int_equal(mask, 0xf);
	assert_int_equal(tx, 1);
	assert_int_equal(net_engine_rx_inflight(f->e), 0);
	/* data that comes now lands nowhere */
	assert_int_equal(send(f->sp[1], "late", 4, 0), 4);
	assert_false(readable(net_engine_completion_fd(f->e), 50));
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 64; j++)
			assert_int_equal(buf[i][j], 0xcc);
	net_engine_get_stats(f->e, &st);
	assert_int_equal(st.rx_cancelled, 4);
	assert_int_equal(st.rx_errors, 0);
	assert_int_equal(st.rx_packets, 0);
}

/* Destroying an engine with reads posted returns (it cancels them). */
static void destroy_with_reads_posted(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[4][64];

	for (int i = 0; i < 4; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, (uint64_t)i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 4);
	net_engine_destroy(f->e);
	f->e = NULL;
}

/* io_uring_setup() fails with ENOSYS from here on (this process only). */
static int deny_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The child's checks; its exit status says which failed. */
static int fallback_child(int fd)
{
	struct net_engine_params p = { .tap_fd = fd, .rx_depth = 2, .tx_depth = 2,
				       .kind = NET_ENGINE_URING };
	struct net_engine *e;
	uint8_t buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct net_completion c;

	if (deny_io_uring() < 0)
		return 10;
	if (net_engine_create(&p, &e) != -ENOSYS)
		return 11;		/* forced: no fallback */
	p.kind = NET_ENGINE_AUTO;
	if (net_engine_create(&p, &e) != 0)
		return 12;
	if (net_engine_kind(e) != NET_ENGINE_SYNC)
		return 13;
	/* and it works */
	if (net_engine_rx_post(e, &iov, 1, 5) != 0 || net_engine_submit(e) != 1)
		return 14;
	for (int i = 0; i < 100 && net_engine_reap(e, &c, 1) == 0; i++)
		usleep(10000);
	if (c.cookie != 5 || c.result != 3 || memcmp(buf, "abc", 3) != 0)
		return 15;
	net_engine_destroy(e);
	return 0;
}

/* Without io_uring, "auto" falls back to the sync engine, with one warning. */
static void auto_falls_back_to_sync(void **state)
{
	int sp[2], err[2], status;
	char out[512] = "";
	ssize_t n, len = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	assert_int_equal(send(sp[1], "abc", 3, 0), 3);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(err[1], 2);
		_exit(fallback_child(sp[0]));
	}
	close(err[1]);
	while ((n = read(err[0], out + len, sizeof(out) - 1 - (size_t)len)) > 0)
		len += n;
	close(err[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(out, "husk: warning: net: io_uring unavailable (Function not implemented),"
				 " using the sync engine\n");
	close(sp[0]);
	close(sp[1]);
}

/* A tap fd left O_NONBLOCK (e.g. by an earlier sync engine) works with io_uring too. */
static void works_on_a_nonblocking_fd(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct net_completion c;

	assert_int_equal(fcntl(f->sp[0], F_SETFL, fcntl(f->sp[0], F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(net_engine_rx_post(f->e, &iov, 1, 9), 0);
	assert_int_equal(net_engine_submit(f->e), 1);
	usleep(50000);
	assert_int_equal(net_engine_reap(f->e, &c, 1), 0);
	assert_int_equal(send(f->sp[1], "0123456789abcdef", 16, 0), 16);
	reap_n(f->e, &c, 1);
	assert_int_equal(c.cookie, 9);
	assert_int_equal(c.result, 16);
}

/*
 * Both engines make the fd non-blocking: io_uring reads on a blocking tap
 * lost frames (the nested testguest-net cases), and the sync engine needs it.
 */
static void engine_makes_the_fd_nonblocking(void **state)
{
	struct fixture *f = *state;
	int fl = fcntl(f->sp[0], F_GETFL);

	assert_true(fl >= 0);
	assert_true(fl & O_NONBLOCK);
	assert_false(fcntl(f->sp[1], F_GETFL) & O_NONBLOCK);
}

static int setup8(void **state)
{
	return setup_depths(state, 8, 4);
}

/*
 * The buffers are filled in the order they were posted and complete in that
 * order: a device pushes completions to its used ring as they come, so
 * completion order must be arrival order. (Independent io_uring reads on
 * one fd filled the last posted first, and once punted to io-wq workers
 * posted their CQEs in any order: the guest saw frames lost or reordered.)
 * Reposts go behind the ones still posted.
 */
static void rx_fills_buffers_in_posted_order(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8][64], msg[40];
	struct net_completion c[8];
	unsigned next = 0;

	memset(buf, 0, sizeof(buf));
	for (unsigned i = 0; i < 8; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 8);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 8; i++) {
			memset(msg, (int)(round * 8 + i), sizeof(msg));
			assert_int_equal(send(f->sp[1], msg, 16 + i, 0), (ssize_t)(16 + i));
		}
		reap_n(f->e, c, 8);
		for (unsigned i = 0; i < 8; i++) {
			struct iovec iov = { buf[c[i].cookie], sizeof(buf[0]) };

			assert_true(c[i].is_rx);
			assert_int_equal(c[i].cookie, next);	/* posted order */
			assert_int_equal(c[i].result, 16 + (int)i);	/* arrival order */
			memset(msg, (int)(round * 8 + i), sizeof(msg));
			assert_memory_equal(buf[c[i].cookie], msg, 16 + i);
			/* repost at once, in completion order: the order stays */
			assert_int_equal(net_engine_rx_post(f->e, &iov, 1, c[i].cookie), 0);
			next = (next + 1) % 8;
		}
		assert_int_equal(net_engine_submit(f->e), 8);
	}
}

/*
 * Buffers posted while earlier ones wait for frames queue behind them, and a
 * cancel gives every one back at once (the uring engine's reads are one
 * chain whose later reads the kernel has not issued yet): the frames that
 * came in posted order, the rest -ECANCELED, within well under a second.
 */
static void rx_cancel_midway(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8][64];
	struct net_completion c[8];
	struct timespec t0, t1;

	for (unsigned i = 0; i < 4; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 4);
	for (unsigned i = 4; i < 8; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 4);
	assert_int_equal(send(f->sp[1], "first frame.", 12, 0), 12);
	assert_int_equal(send(f->sp[1], "second frame", 12, 0), 12);
	reap_n(f->e, c, 2);
	assert_int_equal(c[0].cookie, 0);
	assert_int_equal(c[1].cookie, 1);
	assert_memory_equal(buf[1], "second frame", 12);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(net_engine_cancel_rx(f->e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	assert_int_equal(net_engine_rx_inflight(f->e), 6);	/* until reaped */
	reap_n(f->e, c, 6);
	for (unsigned i = 0; i < 6; i++) {
		assert_true(c[i].is_rx);
		assert_int_equal(c[i].result, -ECANCELED);
	}
	assert_int_equal(net_engine_rx_inflight(f->e), 0);
	/* the engine still receives afterwards, in order */
	for (unsigned i = 0; i < 2; i++) {
		struct iovec iov = { buf[i], sizeof(buf[i]) };

		assert_int_equal(net_engine_rx_post(f->e, &iov, 1, 10 + i), 0);
	}
	assert_int_equal(net_engine_submit(f->e), 2);
	assert_int_equal(send(f->sp[1], "third frame.", 12, 0), 12);
	reap_n(f->e, c, 1);
	assert_int_equal(c[0].cookie, 10);
	assert_int_equal(c[0].result, 12);
}

#define BOTH(fn)                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &kind_uring), \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &kind_sync)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_checks_arguments),
		cmocka_unit_test(parse_kind_names),
		BOTH(post_and_queue_check_iovecs),
		BOTH(depths_give_ebusy),
		BOTH(tx_frames_reach_the_peer_whole),
		BOTH(rx_needs_posted_buffers),
		BOTH(partial_reap_keeps_fd_readable),
		BOTH(engine_makes_the_fd_nonblocking),
		BOTH(cancel_rx_gives_buffers_back),
		BOTH(destroy_with_reads_posted),
		BOTH(works_on_a_nonblocking_fd),
		cmocka_unit_test_prestate_setup_teardown(rx_fills_buffers_in_posted_order, setup8,
							 teardown, &kind_uring),
		cmocka_unit_test_prestate_setup_teardown(rx_fills_buffers_in_posted_order, setup8,
							 teardown, &kind_sync),
		cmocka_unit_test_prestate_setup_teardown(rx_cancel_midway, setup8, teardown,
							 &kind_uring),
		cmocka_unit_test_prestate_setup_teardown(rx_cancel_midway, setup8, teardown,
							 &kind_sync),
		cmocka_unit_test(auto_falls_back_to_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
