// SPDX-License-Identifier: MIT
/* The source side of a live migration: pre-copy on its own thread (migrate.h). */
#include "migration/migrate.h"
#include "migration/mig_auth.h"
#include "migration/mig_internal.h"
#include "core/bytes.h"
#include "core/log.h"
#include "migration/mig_stream.h"
#include "migration/mig_url.h"
#include "sandbox/seccomp.h"
#include "vmm/vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MIG_IO_TIMEOUT_S	30	/* the destination took or sent nothing this long */
#define THROTTLE_SLICE_MS	10
#define THROTTLE_STEP		20	/* auto-converge: first step, then +10 a pass */
#define THROTTLE_MAX		99
#define MIG_MAX_SHRINK_PASSES	30	/* passes to shrink a pause that already fits */


const char *mig_state_name(enum mig_state s)
{
	switch (s) {
	case MIG_ACTIVE:	return "active";
	case MIG_COMPLETED:	return "completed";
	case MIG_FAILED:	return "failed";
	case MIG_CANCELLED:	return "cancelled";
	default:		return "none";
	}
}

uint64_t mig_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned i = 0; i < MIG_PAGE / 8; i += 8)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] |
		    q[i + 7])
			return false;
	return true;
}

/* ---- auto-converge ----------------------------------------------------- */

static void *throttler_thread(void *arg)
{
	struct mig_source *m = arg;
	struct timespec slice = { .tv_nsec = THROTTLE_SLICE_MS * 1000000L };

	pthread_setname_np(pthread_self(), "mig-throttle");
	/* inherited from the migration thread already: this only names the role */
	sandbox_note_role(SANDBOX_MIGRATION);
	while (!atomic_load(&m->throttler_stop)) {
		nanosleep(&slice, NULL);
		/* each kick makes the vCPU sleep its share of the slice (vm_pause_point) */
		for (unsigned i = 0; i < m->vm->ncpus; i++)
			vcpu_kick(&m->vm->vcpus[i]);
	}
	return NULL;
}

void mig_throttle_set(struct mig_source *m, unsigned pct)
{
	atomic_store(&m->vm->pause.throttle_pct, pct);
	pthread_mutex_lock(&m->lock);
	m->st.throttle_pct = pct;
	pthread_mutex_unlock(&m->lock);
	if (pct && !m->throttler_started) {
		atomic_store(&m->throttler_stop, false);
		m->throttler_started = !pthread_create(&m->throttler, NULL, throttler_thread, m);
	}
	if (!pct && m->throttler_started) {
		atomic_store(&m->throttler_stop, true);
		pthread_join(m->throttler, NULL);
		m->throttler_started = false;
	}
}

/* ---- sending pages ----------------------------------------------------- */

int mig_fail(struct mig_source *m, int ret, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&m->lock);
	if (!m->st.error[0]) {
		va_start(ap, fmt);
		vsnprintf(m->st.error, sizeof(m->st.error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* The peer closed on us: did it say why first (an ERROR record waiting)? */
static bool peer_error(struct mig_source *m, char *msg, size_t len)
{
	uint8_t h[MIG_REC_LEN];
	struct mig_rec r;
	char why[64];
	ssize_t n = recv(m->fd, h, sizeof(h), MSG_DONTWAIT | MSG_PEEK);

	if (n != (ssize_t)sizeof(h) || mig_rec_decode(h, 0, &r, why, sizeof(why)) ||
	    r.type != MIG_REC_ERROR || r.len >= len)
		return false;
	if (recv(m->fd, h, sizeof(h), MSG_DONTWAIT) != (ssize_t)sizeof(h) ||
	    recv(m->fd, msg, r.len, MSG_DONTWAIT) != (ssize_t)r.len)
		return false;
	msg[r.len] = 0;
	for (char *c = msg; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	return true;
}

int mig_io_fail(struct mig_source *m, int ret, const char *doing)
{
	char msg[MIG_MAX_MSG + 1];

	if (atomic_load(&m->cancel))
		return mig_fail(m, -ECANCELED, "cancelled");
	if (ret == -ETIMEDOUT)
		return mig_fail(m, ret, "not done after timeout_s %u s (%s)", m->p.timeout_s, doing);
	if ((ret == -EPIPE || ret == -ECONNRESET) && peer_error(m, msg, sizeof(msg)))
		return mig_fail(m, -EPROTO, "the destination refused the VM: %s", msg);
	return mig_fail(m, ret, "%s: %s", doing, mig_io_error(ret));
}

void mig_add_bytes(struct mig_source *m, uint64_t n)
{
	pthread_mutex_lock(&m->lock);
	m->st.bytes += n;
	pthread_mutex_unlock(&m->lock);
}

int mig_send_run(struct mig_source *m, uint64_t first, uint64_t n, bool zero,
		 const uint8_t *data)
{
	uint8_t h[MIG_REC_LEN], ph[MIG_PAGES_HDR];
	struct iovec iov[3] = {
		{ .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = ph, .iov_len = sizeof(ph) },
		{ .iov_base = (void *)(data ? data : m->bounce), .iov_len = n * MIG_PAGE },
	};
	uint32_t type = zero ? MIG_REC_ZERO : MIG_REC_PAGES;
	uint64_t len = MIG_PAGES_HDR + (zero ? 0 : n * MIG_PAGE);
	uint32_t crc;
	int ret;

	mig_pages_encode(ph, type, first * MIG_PAGE, n);
	crc = (uint32_t)crc32(0, ph, sizeof(ph));
	if (!zero)
		crc = (uint32_t)crc32(crc, iov[2].iov_base, (uInt)(n * MIG_PAGE));
	mig_rec_encode(h, type, crc, len);
	ret = mig_write_all(m->fd, iov, zero ? 2 : 3, m->deadline_ms);
	if (ret)
		return mig_io_fail(m, ret, "sending guest RAM");
	mig_add_bytes(m, MIG_REC_LEN + len);
	return 0;
}

/* Cancelled, or past timeout_s (checked during a pass too: a slow link). */
static int check_stop(struct mig_source *m)
{
	if (atomic_load(&m->cancel))
		return mig_fail(m, -ECANCELED, "cancelled");
	if (mig_now_ms() >= m->deadline_ms)
		return mig_fail(m, -ETIMEDOUT, "not done after timeout_s %u s", m->p.timeout_s);
	return 0;
}

/*
 * Send the pages whose bit is set in @bm (all of them when NULL, the first
 * pass: then zero pages are skipped, the destination's RAM starts zeroed).
 * Each page is copied before it is checked and sent: the guest may be
 * writing it meanwhile, and what is sent must match its checksum (a
 * page written after the copy is dirty again and goes in the next pass).
 */
static int send_pages(struct mig_source *m, const uint64_t *bm)
{
	struct guest_mem *mem = &m->vm->mem;
	uint64_t pages = mem->size / MIG_PAGE, run = 0, run_first = 0, zrun = 0, zfirst = 0;
	int ret = 0;

	for (uint64_t pg = 0; pg < pages && !ret; pg++) {
		uint8_t *slot = m->bounce + run * MIG_PAGE;	/* run < MIG_MAX_RUN here */

		if (bm && !(bm[pg / 64] >> (pg % 64) & 1)) {
			if (run)
				ret = mig_send_run(m, run_first, run, false, NULL);
			if (!ret && zrun)
				ret = mig_send_run(m, zfirst, zrun, true, NULL);
			run = zrun = 0;
			if (!bm[pg / 64])
				pg |= 63;	/* a clean word: on to the next */
			continue;
		}
		memcpy(slot, mem->hva + pg * MIG_PAGE, MIG_PAGE);
		if (page_is_zero(slot)) {
			if (run)
				ret = mig_send_run(m, run_first, run, false, NULL);
			run = 0;
			if (!zrun++)
				zfirst = pg;
			continue;
		}
		/* the first pass skips zero pages: the destination's RAM starts zeroed */
		if (zrun && bm)
			ret = mig_send_run(m, zfirst, zrun, true, NULL);
		zrun = 0;
		if (!run++)
			run_first = pg;
		if (!ret && run == MIG_MAX_RUN) {
			ret = mig_send_run(m, run_first, run, false, NULL);
			run = 0;
		}
		if (!ret && pg % 256 == 0)
			ret = check_stop(m);
	}
	if (!ret && run)
		ret = mig_send_run(m, run_first, run, false, NULL);
	if (!ret && zrun && bm)
		ret = mig_send_run(m, zfirst, zrun, true, NULL);
	return ret;
}

/* ---- passes ------------------------------------------------------------ */

/*
 * The pages written since the last take (the guest's and husk's) into
 * m->dirty (@add: on top of what it holds); *count: how many it holds.
 */
int mig_take_dirty(struct mig_source *m, bool add, uint64_t *count)
{
	size_t words = guest_mem_dirty_words(&m->vm->mem);
	int ret;

	if (!add)
		memset(m->dirty, 0, words * sizeof(uint64_t));
	ret = kvm_dirty_log_take(&m->vm->kvm, &m->vm->mem, m->dirty);
	if (ret)
		return mig_fail(m, ret, "KVM_GET_DIRTY_LOG: %s", strerror(-ret));
	guest_mem_dirty_take(&m->vm->mem, m->dirty);
	*count = 0;
	for (size_t i = 0; i < words; i++)
		*count += (uint64_t)__builtin_popcountll(m->dirty[i]);
	return 0;
}

static int start_tracking(struct mig_source *m)
{
	struct husk_vm *vm = m->vm;
	char err[256];
	uint64_t n;

	if (guest_mem_dirty_start(&vm->mem))
		return mig_fail(m, -ENOMEM, "dirty page bitmap: %s", strerror(ENOMEM));
	if (!vm->cfg.track_dirty) {
		if (kvm_map_memory(&vm->kvm, &vm->mem, true, err, sizeof(err)))
			return mig_fail(m, -EIO, "turning on KVM's dirty log: %s", err);
		m->started_log = true;
	}
	/*
	 * What was dirty before counts for nothing: the first pass sends all.
	 * A Diff snapshot after this (a failed migration) must not be
	 * relative to the last snapshot: its pages were taken here.
	 */
	vm->dirty_base = false;
	return mig_take_dirty(m, false, &n);
}

static void stop_tracking(struct mig_source *m)
{
	char err[256];

	if (m->started_log && kvm_map_memory(&m->vm->kvm, &m->vm->mem, false, err, sizeof(err)))
		pr_warn("migration: turning KVM's dirty log off: %s", err);
	m->started_log = false;
}

static void set_pass(struct mig_source *m, unsigned rounds, uint64_t dirty, uint64_t pass_ms,
		     uint64_t rate_bpms)
{
	pthread_mutex_lock(&m->lock);
	m->st.rounds = rounds;
	m->st.remaining_bytes = dirty * MIG_PAGE;
	m->st.dirty_pages_rate = pass_ms ? dirty * 1000 / pass_ms : dirty * 1000;
	m->st.expected_downtime_ms = rate_bpms ? dirty * MIG_PAGE / rate_bpms : 0;
	m->st.total_ms = mig_now_ms() - m->start_ms;
	pthread_mutex_unlock(&m->lock);
}

int mig_send_state(struct mig_source *m, bool devices)
{
	char err[512];
	uint8_t *buf;
	size_t len;
	int ret = snap_state_encode(m->vm, devices, &buf, &len, err, sizeof(err));

	if (ret)
		return mig_fail(m, ret, "the VM's state: %s", err);
	ret = mig_send(m->fd, devices ? MIG_REC_STATE : MIG_REC_STATE_PRE, buf, len,
		       m->deadline_ms);
	free(buf);
	if (ret)
		return mig_io_fail(m, ret, "sending the VM's state");
	mig_add_bytes(m, MIG_REC_LEN + len);
	return 0;
}

/* The destination's answer to END: READY, or ERROR with its reason. */
static int wait_ready(struct mig_source *m)
{
	char why[256], msg[MIG_MAX_MSG + 1];
	struct mig_rec r;
	int ret = mig_recv_rec(m->fd, 0, &r, why, sizeof(why));

	if (ret == -EINVAL)
		return mig_fail(m, ret, "the destination's answer: %s", why);
	if (ret)
		return mig_io_fail(m, ret, "waiting for the destination to load the VM");
	if (r.type == MIG_REC_READY)
		return 0;
	if (r.type != MIG_REC_ERROR)
		return mig_fail(m, -EPROTO, "the destination answered %s", mig_rec_name(r.type));
	ret = mig_read_all(m->fd, msg, r.len);
	msg[ret ? 0 : r.len] = 0;
	for (char *c = msg; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	return mig_fail(m, -EPROTO, "the destination refused the VM: %s", msg[0] ? msg : "(cut)");
}

/*
 * Post-copy's switch, the VM paused: the state, the pages the destination
 * lacks (DISCARD), its READY (answering its REQs meanwhile), GO; then every
 * page left. Past GO the VM is the destination's: a failure loses it.
 */
static int switch_postcopy(struct mig_source *m, bool was_paused, uint64_t paused_at,
			   unsigned rounds, bool *handed_over)
{
	size_t words = guest_mem_dirty_words(&m->vm->mem);
	uint8_t go[MIG_GO_LEN], *bm = malloc(words * 8);
	struct mig_go g = { 0 };
	int ret = bm ? mig_send_state(m, true) : mig_fail(m, -ENOMEM, "%s", strerror(ENOMEM));

	for (size_t i = 0; bm && i < words; i++)
		le_put(bm + i * 8, m->dirty[i], 8);
	if (!ret && (ret = mig_send(m->fd, MIG_REC_DISCARD, bm, words * 8, m->deadline_ms)))
		ret = mig_io_fail(m, ret, "sending the missing pages' list");
	free(bm);
	if (!ret)
		ret = postcopy_wait_ready(m);
	if (ret)
		return ret;
	g.flags = (was_paused ? 0 : MIG_GO_RESUME) | MIG_GO_POSTCOPY;
	g.rounds = rounds + 1;
	g.downtime_ms = mig_now_ms() - paused_at;
	g.total_ms = mig_now_ms() - m->start_ms;
	g.bytes = m->st.bytes + MIG_REC_LEN + MIG_GO_LEN;
	mig_go_encode(go, &g);
	ret = mig_send(m->fd, MIG_REC_GO, go, sizeof(go), 0);
	if (ret)
		return mig_io_fail(m, ret, "handing the VM over");
	*handed_over = true;
	pthread_mutex_lock(&m->lock);
	m->st.downtime_ms = g.downtime_ms;
	pthread_mutex_unlock(&m->lock);
	pr_info("postcopy: the destination runs the VM (switch %llu ms)",
		(unsigned long long)g.downtime_ms);
	ret = postcopy_serve(m);
	pthread_mutex_lock(&m->lock);
	m->st.rounds = g.rounds;
	m->st.total_ms = mig_now_ms() - m->start_ms;
	m->st.remaining_bytes = 0;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int precopy(struct mig_source *m, bool *handed_over)
{
	struct husk_vm *vm = m->vm;
	uint64_t dirty = 0, t0, pass_ms, rate = 0, bytes0;
	uint8_t hello[MIG_HELLO_LEN], go[MIG_GO_LEN];
	struct iovec iov = { .iov_base = hello, .iov_len = sizeof(hello) };
	unsigned rounds = 0, throttle = 0;
	uint64_t prev_sent = 0, paused_at;
	struct mig_go g = { 0 };
	bool was_paused = husk_vm_is_paused(vm);
	int ret;

	*handed_over = false;
	mig_hello_encode(hello, (m->repl ? MIG_HELLO_REPLICATION : 0) |
			 (m->secret ? MIG_HELLO_AUTH : 0));
	ret = mig_write_all(m->fd, &iov, 1, m->deadline_ms);
	if (ret)
		return mig_io_fail(m, ret, "sending the stream header");
	if (m->secret) {
		char err[256];

		ret = mig_auth_client(m->fd, m->secret, err, sizeof(err));
		if (ret)
			return mig_fail(m, ret, "%s", err);
	}
	mig_add_bytes(m, sizeof(hello));
	if ((ret = start_tracking(m)) || (ret = mig_send_state(m, false)))
		return ret;
	if (m->repl && (ret = repl_start(m)))
		return ret;
	for (;;) {
		t0 = mig_now_ms();
		bytes0 = m->st.bytes;
		ret = send_pages(m, rounds ? m->dirty : NULL);
		if (ret)
			return ret;
		rounds++;
		pass_ms = mig_now_ms() - t0;
		/* bytes per ms over the pass just sent (at least 1) */
		rate = (m->st.bytes - bytes0) / (pass_ms ? pass_ms : 1) + 1;
		ret = mig_take_dirty(m, false, &dirty);
		if (ret)
			return ret;
		set_pass(m, rounds, dirty, pass_ms, rate);
		if (m->p.postcopy)
			break;	/* one pass; the rest comes after the switch */
		/*
		 * The rest fits the limit: stop the guest, unless one more pass
		 * is cheap and shrinks the pause (the dirty set halved over the
		 * last pass and still takes a millisecond or more): the limit is
		 * what may be spent, not a target.
		 */
		if (dirty * MIG_PAGE / rate <= m->p.downtime_ms &&
		    (dirty * MIG_PAGE < rate || dirty * MIG_PAGE * 2 > m->st.bytes - bytes0 ||
		     rounds >= MIG_MAX_SHRINK_PASSES))
			break;
		if (mig_now_ms() >= m->deadline_ms)
			return mig_fail(m, -ETIMEDOUT, "not done after timeout_s %u s (%u passes, "
				    "%llu MiB still dirty)", m->p.timeout_s, rounds,
				    (unsigned long long)(dirty * MIG_PAGE >> 20));
		if ((ret = check_stop(m)))
			return ret;
		/* the guest wrote more than half of what the pass carried: slow it down */
		if (rounds >= 2 && dirty * MIG_PAGE * 2 > prev_sent && throttle < THROTTLE_MAX) {
			throttle = throttle ? throttle + 10 : THROTTLE_STEP;
			if (throttle > THROTTLE_MAX)
				throttle = THROTTLE_MAX;
			pr_info("migration: pass %u left %llu MiB dirty: throttling the vCPUs by %u%%",
				rounds, (unsigned long long)(dirty * MIG_PAGE >> 20), throttle);
			mig_throttle_set(m, throttle);
		}
		prev_sent = m->st.bytes - bytes0;
	}
	/* the last pass: the VM stopped, devices quiesced */
	paused_at = mig_now_ms();
	if (!was_paused) {
		ret = husk_vm_pause(vm);
		if (ret)
			return mig_fail(m, ret, "pausing the VM: %s", strerror(-ret));
		m->paused_vm = true;
	}
	mig_throttle_set(m, 0);
	if (!m->repl) {
		/* the disks' last writes are done (pause quiesced them): the destination may lock them */
		vm_lock_disks(vm, false, NULL, 0);
		m->unlocked_disks = true;
	}
	/* what the last pass left plus what was written before the vCPUs parked */
	ret = mig_take_dirty(m, true, &dirty);
	if (!ret && m->p.postcopy)
		return switch_postcopy(m, was_paused, paused_at, rounds, handed_over);
	if (!ret)
		ret = send_pages(m, m->dirty);
	if (!ret && m->repl)
		ret = repl_send_disk_log(m);
	if (!ret)
		ret = mig_send_state(m, true);
	if (!ret && (ret = mig_send(m->fd, MIG_REC_END, NULL, 0, m->deadline_ms)))
		ret = mig_io_fail(m, ret, "ending the stream");
	if (!ret && m->repl) {
		/* the standby has the first state: from here on, checkpoints */
		pthread_mutex_lock(&m->lock);
		m->st.downtime_ms = mig_now_ms() - paused_at;
		m->st.rounds = rounds + 1;
		pthread_mutex_unlock(&m->lock);
		if (m->paused_vm && (ret = husk_vm_resume(vm)) == 0)
			m->paused_vm = false;
		return ret ? mig_fail(m, ret, "resuming the VM: %s", strerror(-ret)) : repl_run(m);
	}
	if (!ret)
		ret = wait_ready(m);
	if (ret)
		return ret;
	rounds++;
	g.flags = was_paused ? 0 : MIG_GO_RESUME;
	g.rounds = rounds;
	g.downtime_ms = mig_now_ms() - paused_at;
	g.total_ms = mig_now_ms() - m->start_ms;
	g.bytes = m->st.bytes + MIG_REC_LEN + MIG_GO_LEN;
	mig_go_encode(go, &g);
	ret = mig_send(m->fd, MIG_REC_GO, go, sizeof(go), m->deadline_ms);
	if (ret)
		return mig_io_fail(m, ret, "handing the VM over");
	*handed_over = true;
	pthread_mutex_lock(&m->lock);
	m->st.rounds = rounds;
	m->st.bytes = g.bytes;
	m->st.downtime_ms = g.downtime_ms;
	m->st.total_ms = g.total_ms;
	m->st.remaining_bytes = 0;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* A failed hand-over: the disks are this VM's again (the destination may still be exiting). */
static void relock_disks(struct mig_source *m)
{
	struct timespec t = { .tv_nsec = 50 * 1000000L };
	char err[256];
	int ret = 0;

	if (!m->unlocked_disks)
		return;
	for (unsigned i = 0; i < 40; i++) {
		ret = vm_lock_disks(m->vm, true, err, sizeof(err));
		if (ret != -EBUSY)
			break;
		nanosleep(&t, NULL);
	}
	if (ret)
		pr_warn("migration: the disks' locks: %s; the VM runs on without them", err);
	m->unlocked_disks = false;
}

static void *mig_thread(void *arg)
{
	struct mig_source *m = arg;
	static const char *const keys[] = { "downtime_ms", "total_ms", "bytes", "rounds" };
	struct mig_status st;
	bool handed_over = false;
	int ret;

	pthread_setname_np(pthread_self(), m->repl ? "replication" : "migration");
	ret = sandbox_enter(m->vm->cfg.sandbox, SANDBOX_MIGRATION);
	if (ret)
		ret = mig_fail(m, ret, "cannot enter the migration thread's seccomp filter");
	else
		ret = precopy(m, &handed_over);
	mig_throttle_set(m, 0);
	if (handed_over && ret) {
		/* post-copy past GO: neither side has the whole VM any more */
		mig_source_status(m, &st);
		pr_err("postcopy to %s failed after the switch: %s; the VM is lost", m->url,
		       st.error);
		vm_event(m->vm, "migration-failed", "post-copy after the switch: %s", st.error);
		pthread_mutex_lock(&m->lock);
		m->st.state = MIG_FAILED;
		pthread_mutex_unlock(&m->lock);
		vm_request_stop(m->vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
		return NULL;
	}
	if (m->repl) {
		stop_tracking(m);
		if (m->paused_vm && husk_vm_resume(m->vm) == 0)
			m->paused_vm = false;
		repl_end(m, ret);
		return NULL;
	}
	if (handed_over) {
		int64_t vals[4];

		mig_source_status(m, &st);
		vals[0] = (int64_t)st.downtime_ms;
		vals[1] = (int64_t)st.total_ms;
		vals[2] = (int64_t)st.bytes;
		vals[3] = (int64_t)st.rounds;
		pr_info("migrated to %s in %llu ms (downtime %llu ms, %u passes, %llu MiB)", m->url,
			(unsigned long long)st.total_ms, (unsigned long long)st.downtime_ms,
			st.rounds, (unsigned long long)(st.bytes >> 20));
		events_emit_numbers(m->vm->cfg.events, "migration-completed", keys, vals, 4);
		pthread_mutex_lock(&m->lock);
		m->st.state = MIG_COMPLETED;
		pthread_mutex_unlock(&m->lock);
		shutdown(m->fd, SHUT_RDWR);
		/* the destination runs the VM now: this one must never run it again */
		vm_request_stop(m->vm, STOP_MIGRATED, HUSK_EXIT_OK);
		return NULL;
	}
	/* not handed over: the VM goes on here as before */
	stop_tracking(m);
	relock_disks(m);
	if (m->paused_vm && husk_vm_resume(m->vm) == 0)
		m->paused_vm = false;
	shutdown(m->fd, SHUT_RDWR);
	pthread_mutex_lock(&m->lock);
	m->st.state = ret == -ECANCELED ? MIG_CANCELLED : MIG_FAILED;
	m->st.total_ms = mig_now_ms() - m->start_ms;
	pthread_mutex_unlock(&m->lock);
	mig_source_status(m, &st);
	pr_warn("migration to %s %s: %s; the VM runs on here", m->url,
		st.state == MIG_CANCELLED ? "cancelled" : "failed", st.error);
	vm_event(m->vm, "migration-failed", "%s", st.error);
	return NULL;
}

/* ---- control ----------------------------------------------------------- */

int mig_source_start(struct husk_vm *vm, const struct mig_params *p, struct mig_source **out,
		     char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = MIG_IO_TIMEOUT_S };
	struct mig_source *m;
	struct mig_url u;
	size_t words;
	int ret;

	*out = NULL;
	ret = mig_url_parse(p->url, &u, err, errlen);
	if (ret)
		return ret;
	if (strlen(p->url) >= sizeof(m->url)) {
		snprintf(err, errlen, "destination_url: at most %zu bytes", sizeof(m->url) - 1);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	words = guest_mem_dirty_words(&vm->mem);
	if (!m || !(m->dirty = calloc(words, sizeof(uint64_t))) ||
	    !(m->bounce = malloc((size_t)MIG_MAX_RUN * MIG_PAGE))) {
		if (m)
			free(m->dirty);
		free(m);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	m->vm = vm;
	m->p = *p;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	if (p->secret_path) {
		m->secret = malloc(sizeof(*m->secret));
		if (!m->secret || (ret = mig_secret_load(p->secret_path, m->secret, err, errlen))) {
			free(m->secret);
			m->secret = NULL;
			mig_source_destroy(m);
			if (!ret)
				snprintf(err, errlen, "%s", strerror(ENOMEM));
			return ret ? ret : -ENOMEM;
		}
	}
	if (p->replicate && !(m->repl = repl_new(p->interval_ms))) {
		mig_source_destroy(m);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	m->p.url = m->url;
	strcpy(m->url, p->url);
	m->start_ms = mig_now_ms();
	m->deadline_ms = m->start_ms + (uint64_t)p->timeout_s * 1000;
	m->st.state = MIG_ACTIVE;
	snprintf(m->st.url, sizeof(m->st.url), "%s", m->url);
	m->fd = mig_url_connect(&u, 5, err, errlen);
	if (m->fd < 0) {
		ret = m->fd;
		m->fd = -1;
		mig_source_destroy(m);
		return ret;
	}
	setsockopt(m->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ret = pthread_create(&m->thread, NULL, mig_thread, m);
	if (ret) {
		snprintf(err, errlen, "migration thread: %s", strerror(ret));
		mig_source_destroy(m);
		return -ret;
	}
	m->thread_started = true;
	if (m->repl)
		pr_info("replication to %s started (a checkpoint every %u ms)", m->url,
			p->interval_ms);
	else
		pr_info("migration to %s started (downtime limit %u ms, timeout %u s)", m->url,
			p->downtime_ms, p->timeout_s);
	*out = m;
	return 0;
}

void mig_source_cancel(struct mig_source *m)
{
	if (!m || atomic_exchange(&m->cancel, true))
		return;
	/* checkpointing: the loop says BYE within a heartbeat */
	if (m->repl && repl_synced(m->repl))
		return;
	/* a pass blocked on the socket gives up at once */
	pthread_mutex_lock(&m->lock);
	if (m->st.state == MIG_ACTIVE && m->fd >= 0)
		shutdown(m->fd, SHUT_RDWR);
	pthread_mutex_unlock(&m->lock);
}

void mig_source_status(struct mig_source *m, struct mig_status *st)
{
	pthread_mutex_lock(&m->lock);
	*st = m->st;
	if (st->state == MIG_ACTIVE)
		st->total_ms = mig_now_ms() - m->start_ms;
	pthread_mutex_unlock(&m->lock);
}

bool mig_source_replicating(struct mig_source *m)
{
	return m && m->repl;
}

bool mig_source_active(struct mig_source *m)
{
	bool active;

	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	active = m->st.state == MIG_ACTIVE;
	pthread_mutex_unlock(&m->lock);
	return active;
}

void mig_source_destroy(struct mig_source *m)
{
	if (!m)
		return;
	if (m->thread_started) {
		mig_source_cancel(m);
		pthread_join(m->thread, NULL);
	}
	if (m->fd >= 0)
		close(m->fd);
	pthread_mutex_destroy(&m->lock);
	repl_free(m->repl);
	if (m->secret) {
		mig_secret_wipe(m->secret);
		free(m->secret);
	}
	free(m->dirty);
	free(m->bounce);
	free(m);
}
