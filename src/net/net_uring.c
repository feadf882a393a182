// SPDX-License-Identifier: MIT
/*
 * The io_uring back end: READV for the posted RX buffers, one WRITEV per TX
 * frame, on the tap fd registered as fixed file 0; the ring signals an
 * eventfd on every completion. SQE user_data is the slot index.
 *
 * RX order. A virtio-net driver has nothing but the used ring's order to
 * order frames by, so the reads must complete in the order they took the
 * frames. Several independent reads on one tap do not: each poll wake-up
 * wakes every armed read, the ones that find nothing count a spurious
 * retry, and past the kernel's retry limit (6.1: the first) a read is
 * punted to an io-wq worker, which then races the ring's own task work for
 * the next frame and posts its CQE in whichever order the scheduler picks
 * (seen as "echo 179 came when 174 was due" in the test guest's UDP check,
 * about once in 150 runs on a loaded host). So the posted buffers go to the
 * kernel as one chain of hard-linked reads (IOSQE_IO_HARDLINK: a short read
 * does not end the chain): only the chain's current head is armed, the next
 * is issued when it completes, and the CQEs come in frame order. Buffers
 * posted while a chain runs wait in rx_fifo and form the next chain once the
 * current one is done (rx_armed: reads of the live chain).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "net/net_engine_internal.h"

#define CANCEL_TAG	UINT64_MAX	/* user_data of IORING_OP_ASYNC_CANCEL */
#define WAIT_STEP_NS	(100 * 1000 * 1000)
#define WAIT_LIMIT_MS	5000

static int uring_probe(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	int ret = 0;

	if (!probe)
		return -EOPNOTSUPP;
	if (!io_uring_opcode_supported(probe, IORING_OP_READV) ||
	    !io_uring_opcode_supported(probe, IORING_OP_WRITEV) ||
	    !io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL))
		ret = -EOPNOTSUPP;
	io_uring_free_probe(probe);
	return ret;
}

/*
 * The tap fd must be non-blocking. On a blocking tap frames went missing:
 * the test guest's UDP echoes came back with 2-7 in a row lost although the
 * peer had sent them all (Debian 12's 6.1 kernel in the nested harness; the
 * sync engine and this engine on a non-blocking fd pass, and the stats show
 * no -EAGAIN re-arm loop there). Most likely the blocking reads ran in
 * io-wq workers blocked in the tap's read; non-blocking, a read with no frame
 * waiting is parked on the fd's poll queue and retried when one comes.
 */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int uring_setup(struct net_engine *e)
{
	/* room for every slot plus cancels; the CQ is twice that */
	int ret = set_nonblock(e->tap_fd);

	if (ret < 0)
		return ret;
	ret = io_uring_queue_init(e->rx_depth + e->tx_depth + 1, &e->ring, 0);
	if (ret < 0)
		return ret;
	e->ring_ready = true;
	ret = uring_probe(&e->ring);
	if (ret == 0)
		ret = io_uring_register_files(&e->ring, &e->tap_fd, 1);
	if (ret == 0) {
		e->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ret = e->event_fd < 0 ? -errno : io_uring_register_eventfd(&e->ring, e->event_fd);
	}
	if (ret < 0)
		uring_teardown(e);
	return ret;
}

void uring_teardown(struct net_engine *e)
{
	if (e->ring_ready) {
		/*
		 * The ring's own teardown is asynchronous in the kernel: drop
		 * its reference to the tap now, so that closing the tap right
		 * after this really closes it (and a reopen is not -EBUSY).
		 */
		io_uring_unregister_files(&e->ring);
		io_uring_queue_exit(&e->ring);
	}
	e->ring_ready = false;
	if (e->event_fd >= 0)
		close(e->event_fd);
	e->event_fd = -1;
}

static int uring_flush(struct net_engine *e)
{
	int ret;

	if (!e->prepared)
		return 0;
	ret = io_uring_submit(&e->ring);
	if (ret < 0)
		return ret;
	ENGINE_STAT_ADD(e->st.submit_calls, 1);
	ENGINE_STAT_ADD(e->st.sqes, (unsigned)ret);
	e->prepared -= (unsigned)ret > e->prepared ? e->prepared : (unsigned)ret;
	return ret;
}

static struct io_uring_sqe *uring_sqe(struct net_engine *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (!sqe && uring_flush(e) >= 0)
		sqe = io_uring_get_sqe(&e->ring);
	return sqe;
}

static int uring_prep_io(struct net_engine *e, unsigned slot, unsigned flags)
{
	struct net_slot *s = &e->slots[slot];
	struct io_uring_sqe *sqe = uring_sqe(e);

	if (!sqe)
		return -EBUSY;
	if (net_slot_is_rx(e, slot))
		io_uring_prep_readv(sqe, 0, s->iov, s->iovcnt, 0);
	else
		io_uring_prep_writev(sqe, 0, s->iov, s->iovcnt, 0);
	sqe->flags |= IOSQE_FIXED_FILE | flags;
	io_uring_sqe_set_data64(sqe, slot);
	e->prepared++;
	return 0;
}

/* TX goes to the ring at once; an RX buffer waits for the next chain. */
int uring_prep(struct net_engine *e, unsigned slot)
{
	e->posted++;
	if (!net_slot_is_rx(e, slot))
		return uring_prep_io(e, slot, 0);
	e->rx_fifo[(e->rx_head + e->rx_count++) % e->rx_depth] = slot;
	return 0;
}

/*
 * No chain in the kernel: every waiting RX buffer becomes the next one, in
 * posted order. The whole chain goes into one submission (a link cut by a
 * full SQ would leave two chains running side by side).
 */
static void uring_arm_rx(struct net_engine *e)
{
	unsigned k = e->rx_count;

	if (e->rx_armed || !k)
		return;
	if (io_uring_sq_space_left(&e->ring) < k && uring_flush(e) < 0)
		return;
	if (io_uring_sq_space_left(&e->ring) < k)
		return;		/* cannot happen: the SQ holds every slot */
	for (unsigned i = 0; i < k; i++) {
		unsigned slot = e->rx_fifo[(e->rx_head + i) % e->rx_depth];

		uring_prep_io(e, slot, i + 1 < k ? IOSQE_IO_HARDLINK : 0);
	}
	e->rx_head = (e->rx_head + k) % e->rx_depth;
	e->rx_count = 0;
	e->rx_armed = k;
}

/* Returns the TX frames and RX buffers posted since the last call, or -errno. */
int uring_submit(struct net_engine *e)
{
	int ret;

	uring_arm_rx(e);
	ret = uring_flush(e);
	if (ret < 0)
		return ret;
	ret = (int)e->posted;
	e->posted = 0;
	return ret;
}

/*
 * The slot a CQE is for, or -1 (a cancel, or a read put back). A read the
 * kernel answered -EAGAIN (a tap fd with O_NONBLOCK on a kernel that does
 * not poll for it) is still posted: it waits for the next chain.
 */
static int uring_cqe_slot(struct net_engine *e, const struct io_uring_cqe *cqe, bool rearm)
{
	uint64_t d = cqe->user_data;

	if (d == CANCEL_TAG || d >= e->rx_depth + e->tx_depth || !e->slots[d].running)
		return -1;
	if (net_slot_is_rx(e, (unsigned)d)) {
		if (e->rx_armed)
			e->rx_armed--;
		if (rearm && cqe->res == -EAGAIN) {
			e->rx_fifo[(e->rx_head + e->rx_count++) % e->rx_depth] = (unsigned)d;
			return -1;
		}
	}
	return (int)d;
}

int uring_reap(struct net_engine *e, struct net_completion *out, unsigned max)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (n < max && io_uring_peek_cqe(&e->ring, &cqe) == 0) {
		int res = cqe->res, slot = uring_cqe_slot(e, cqe, true);

		io_uring_cqe_seen(&e->ring, cqe);
		if (slot >= 0)
			net_slot_finish(e, (unsigned)slot, res, &out[n++]);
	}
	uring_arm_rx(e);
	uring_flush(e);
	if (io_uring_cq_ready(&e->ring))
		net_event_signal(e);
	return (int)n;
}

static unsigned uring_running(const struct net_engine *e, bool rx_only)
{
	return rx_only ? e->rx_running : e->rx_running + e->tx_running;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask the kernel to cancel every RX read of the live chain. */
static int uring_cancel_reads(struct net_engine *e)
{
	for (unsigned slot = 0; slot < e->rx_depth; slot++) {
		struct io_uring_sqe *sqe;

		if (!e->slots[slot].running)
			continue;
		sqe = uring_sqe(e);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_cancel64(sqe, slot, 0);
		io_uring_sqe_set_data64(sqe, CANCEL_TAG);
		e->prepared++;
	}
	return 0;
}

/*
 * Wait (bounded) until no read (@rx_only) or no request at all is running;
 * what completes meanwhile goes to the backlog for the next reap. With
 * @rx_only the reads are cancelled, and again on every round while one
 * runs: the kernel issues a hard-linked read only when the one before it is
 * over, a cancel cannot find a read that is not issued yet, and one sent
 * just before the kernel issued it finds nothing (-ENOENT) although the
 * read then waits for a frame.
 */
static int uring_wait_idle(struct net_engine *e, bool rx_only)
{
	long deadline = now_ms() + WAIT_LIMIT_MS;
	struct io_uring_cqe *cqe;
	int ret = 0;

	while (uring_running(e, rx_only)) {
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = WAIT_STEP_NS };

		if (rx_only && e->rx_running)
			ret = uring_cancel_reads(e);
		if (ret >= 0)
			ret = uring_flush(e);
		if (ret >= 0)
			ret = io_uring_wait_cqe_timeout(&e->ring, &cqe, &ts);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			return ret;
		while (io_uring_peek_cqe(&e->ring, &cqe) == 0) {
			int res = cqe->res, slot = uring_cqe_slot(e, cqe, false);

			io_uring_cqe_seen(&e->ring, cqe);
			if (slot >= 0)
				net_done_push(e, (unsigned)slot, res == -EAGAIN ? -ECANCELED : res);
		}
		ret = 0;
		if (uring_running(e, rx_only) && now_ms() > deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Give back the RX buffers waiting for the next chain (never in the kernel). */
static void uring_drop_waiting_rx(struct net_engine *e)
{
	while (e->rx_count) {
		net_done_push(e, e->rx_fifo[e->rx_head], -ECANCELED);
		e->rx_head = (e->rx_head + 1) % e->rx_depth;
		e->rx_count--;
	}
}

int uring_cancel_rx(struct net_engine *e)
{
	int ret = uring_flush(e);

	if (ret < 0)
		return ret;
	uring_drop_waiting_rx(e);
	return uring_wait_idle(e, true);
}

int uring_quiesce(struct net_engine *e)
{
	int ret = uring_cancel_rx(e);

	return ret < 0 ? ret : uring_wait_idle(e, false);
}
