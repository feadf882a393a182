// SPDX-License-Identifier: MIT
/*
 * Continuous replication, the primary's side (migrate.h, docs/migration.md,
 * "Replication"): after a first sync like a migration's (with the disks'
 * contents), a checkpoint every interval: the VM paused just long enough
 * to copy the pages written since the last one, take the disk writes
 * logged since then and the devices' state; resumed; all of it sent; the
 * standby's ACK releases the network frames the guest sent in that epoch
 * (output commit: nothing leaves the host from a state the standby lacks).
 */
#include "core/bytes.h"
#include "core/log.h"
#include "migration/mig_internal.h"
#include "migration/mig_stream.h"
#include "vmm/vm.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define REPL_HEARTBEAT_MS	200
#define REPL_ACK_MIN_MS		2000	/* the standby's ACK: at least this long, or 10 intervals */
#define REPL_LOG_MAX		(512ull << 20)	/* disk writes logged in one epoch */

struct repl_write {
	uint32_t disk;
	uint64_t offset, len;
	uint8_t *data;			/* NULL: the range reads back zeros */
};

struct repl {
	unsigned interval_ms;
	atomic_bool synced;
	bool leak;			/* a queue thread may still log: keep the log */

	pthread_mutex_t lock;		/* the log: queue threads append, the loop drains */
	struct repl_write *log;
	size_t nlog, caplog;
	uint64_t logged;		/* bytes in the log */
	bool overflow;

	struct blk_write_hook hooks[HUSK_MAX_DISKS];
	bool hooked, holding;

	/* a checkpoint's pages, copied while the VM is paused */
	uint64_t *pages;
	uint8_t *data;
	size_t npages, cap;
	uint64_t disk_bytes, frames;
};

struct repl *repl_new(unsigned interval_ms)
{
	struct repl *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->interval_ms = interval_ms;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

static void free_writes(struct repl_write *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].data);
	free(w);
}

void repl_free(struct repl *r)
{
	if (!r || r->leak)
		return;
	free_writes(r->log, r->nlog);
	pthread_mutex_destroy(&r->lock);
	free(r->pages);
	free(r->data);
	free(r);
}

bool repl_synced(struct repl *r)
{
	return atomic_load(&r->synced);
}

/* A queue thread: a write the guest is about to see complete. */
static void log_write(void *ctx, unsigned disk, uint64_t offset, uint64_t len,
		      const struct iovec *iov, unsigned iovcnt)
{
	struct repl *r = ctx;
	struct repl_write w = { .disk = disk, .offset = offset, .len = len };
	size_t off = 0;

	if (iov) {
		w.data = malloc(len ? len : 1);
		for (unsigned i = 0; w.data && i < iovcnt && off < len; i++) {
			size_t n = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;

			memcpy(w.data + off, iov[i].iov_base, n);
			off += n;
		}
	}
	pthread_mutex_lock(&r->lock);
	if ((iov && !w.data) || r->logged + len > REPL_LOG_MAX) {
		r->overflow = true;
	} else if (r->nlog == r->caplog) {
		size_t cap = r->caplog ? 2 * r->caplog : 256;
		struct repl_write *n = realloc(r->log, cap * sizeof(*n));

		if (n) {
			r->log = n;
			r->caplog = cap;
		} else {
			r->overflow = true;
		}
	}
	if (!r->overflow) {
		r->log[r->nlog++] = w;
		r->logged += iov ? len : 0;
		w.data = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	free(w.data);
}

static int send_disk(struct mig_source *m, uint32_t disk, uint64_t off, uint64_t len,
		     const uint8_t *data)
{
	struct mig_disk d = { .disk = disk, .flags = data ? 0 : MIG_DISK_ZERO, .offset = off,
			      .len = len };
	uint8_t h[MIG_REC_LEN], dh[MIG_DISK_HDR];
	struct iovec iov[3] = {
		{ .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = dh, .iov_len = sizeof(dh) },
		{ .iov_base = (void *)data, .iov_len = data ? len : 0 },
	};
	uint32_t crc;
	int ret;

	mig_disk_encode(dh, &d);
	crc = (uint32_t)crc32(0, dh, sizeof(dh));
	if (data)
		crc = (uint32_t)crc32(crc, data, (uInt)len);
	mig_rec_encode(h, MIG_REC_DISK, crc, sizeof(dh) + (data ? len : 0));
	ret = mig_write_all(m->fd, iov, data ? 3 : 2, 0);
	if (ret)
		return mig_io_fail(m, ret, "sending a disk's data");
	mig_add_bytes(m, sizeof(h) + sizeof(dh) + (data ? len : 0));
	return 0;
}

/* One logged write, in records of at most MIG_MAX_DISK_DATA bytes. */
static int send_write(struct mig_source *m, const struct repl_write *w)
{
	for (uint64_t done = 0; done < w->len;) {
		uint64_t n = w->len - done;
		int ret;

		if (w->data && n > MIG_MAX_DISK_DATA)
			n = MIG_MAX_DISK_DATA;
		ret = send_disk(m, w->disk, w->offset + done, n, w->data ? w->data + done : NULL);
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

/* The whole image, while the guest runs (its writes meanwhile are in the log). */
static int copy_disk(struct mig_source *m, unsigned i, uint8_t *buf)
{
	const struct blk_image *img = virtio_blk_image(m->vm->disks[i]);

	for (uint64_t off = 0; off < img->size;) {
		uint64_t n = img->size - off < MIG_MAX_DISK_DATA ? img->size - off :
								  MIG_MAX_DISK_DATA;
		ssize_t got = pread(img->fd, buf, n, (off_t)off);
		bool zero = true;
		int ret;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || (uint64_t)got % 512)
			return mig_fail(m, got < 0 ? -errno : -EIO, "reading disk %u at %llu: %s",
					i, (unsigned long long)off,
					got < 0 ? strerror(errno) : "short read");
		for (ssize_t k = 0; zero && k < got; k += 8)
			zero = !*(uint64_t *)(buf + k);
		ret = send_disk(m, i, off, (uint64_t)got, zero ? NULL : buf);
		if (ret)
			return ret;
		off += (uint64_t)got;
		if (atomic_load(&m->cancel))
			return mig_fail(m, -ECANCELED, "cancelled");
	}
	return 0;
}

int repl_start(struct mig_source *m)
{
	struct husk_vm *vm = m->vm;
	struct repl *r = m->repl;
	uint8_t *buf = NULL;
	int ret = 0;

	for (unsigned i = 0; i < HUSK_MAX_NETS; i++) {
		if (vm->nets[i] && (ret = virtio_net_hold_start(vm->nets[i], 0)))
			return mig_fail(m, ret, "holding the NICs' output: %s", strerror(-ret));
		r->holding |= vm->nets[i] != NULL;
	}
	for (unsigned i = 0; i < HUSK_MAX_DISKS; i++) {
		if (!vm->disks[i])
			continue;
		r->hooks[i] = (struct blk_write_hook){ .write = log_write, .ctx = r, .disk = i };
		virtio_blk_set_write_hook(vm->disks[i], &r->hooks[i]);
		r->hooked = true;
	}
	if (r->hooked && posix_memalign((void **)&buf, 4096, MIG_MAX_DISK_DATA))
		return mig_fail(m, -ENOMEM, "%s", strerror(ENOMEM));
	for (unsigned i = 0; !ret && i < HUSK_MAX_DISKS; i++)
		if (vm->disks[i])
			ret = copy_disk(m, i, buf);
	free(buf);
	return ret;
}

/* The log so far, taken (the VM paused: no queue thread adds to it meanwhile). */
static int take_log(struct mig_source *m, struct repl_write **w, size_t *n)
{
	struct repl *r = m->repl;
	bool overflow;

	pthread_mutex_lock(&r->lock);
	*w = r->log;
	*n = r->nlog;
	overflow = r->overflow;
	r->log = NULL;
	r->nlog = r->caplog = 0;
	r->logged = 0;
	r->overflow = false;
	pthread_mutex_unlock(&r->lock);
	if (overflow) {
		free_writes(*w, *n);
		*w = NULL;
		*n = 0;
		return mig_fail(m, -ENOBUFS, "the disks took more than %llu MiB of writes in one "
				"checkpoint interval", (unsigned long long)(REPL_LOG_MAX >> 20));
	}
	return 0;
}

static int send_log(struct mig_source *m, struct repl_write *w, size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		ret = send_write(m, &w[i]);
		m->repl->disk_bytes += w[i].data ? w[i].len : 0;
	}
	free_writes(w, n);
	return ret;
}

static void hold_epoch(struct mig_source *m, uint64_t epoch)
{
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++)
		if (m->vm->nets[i])
			virtio_net_hold_epoch(m->vm->nets[i], epoch);
}

static void hold_release(struct mig_source *m, uint64_t epoch)
{
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++)
		if (m->vm->nets[i])
			virtio_net_hold_release(m->vm->nets[i], epoch);
}

int repl_send_disk_log(struct mig_source *m)
{
	struct repl_write *w;
	size_t n;
	int ret = take_log(m, &w, &n);

	hold_epoch(m, 1);	/* what the guest sends after this pause is the next epoch's */
	return ret ? ret : send_log(m, w, n);
}

/* The standby's answer: ACK @epoch, within @ms. */
static int wait_ack(struct mig_source *m, uint64_t epoch, unsigned ms)
{
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	char why[256], msg[MIG_MAX_MSG + 1];
	uint8_t b[8];
	struct mig_rec r;
	int n, ret;

	n = poll(&p, 1, (int)ms);
	if (n == 0)
		return mig_fail(m, -ETIMEDOUT, "the standby did not acknowledge checkpoint %llu "
				"within %u ms", (unsigned long long)epoch, ms);
	ret = mig_recv_rec(m->fd, 0, &r, why, sizeof(why));
	if (ret == -EINVAL)
		return mig_fail(m, ret, "the standby's answer: %s", why);
	if (ret)
		return mig_io_fail(m, ret, "waiting for the standby");
	if (r.type == MIG_REC_ERROR) {
		ret = mig_read_all(m->fd, msg, r.len);
		msg[ret ? 0 : r.len] = 0;
		for (char *c = msg; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		return mig_fail(m, -EPROTO, "the standby refused: %s", msg[0] ? msg : "(cut)");
	}
	if (r.type != MIG_REC_ACK)
		return mig_fail(m, -EPROTO, "the standby answered %s", mig_rec_name(r.type));
	ret = mig_read_all(m->fd, b, sizeof(b));
	if (ret)
		return mig_io_fail(m, ret, "waiting for the standby");
	if ((uint32_t)crc32(0, b, sizeof(b)) != r.crc || le_get(b, 8) != epoch)
		return mig_fail(m, -EPROTO, "the standby acknowledged %llu, not checkpoint %llu",
				(unsigned long long)le_get(b, 8), (unsigned long long)epoch);
	return 0;
}

static unsigned ack_ms(const struct repl *r)
{
	return r->interval_ms * 10 > REPL_ACK_MIN_MS ? r->interval_ms * 10 : REPL_ACK_MIN_MS;
}

/* The pages in m->dirty, copied out (the VM paused): sent after it resumes. */
static int stage_pages(struct mig_source *m)
{
	struct repl *r = m->repl;
	struct guest_mem *mem = &m->vm->mem;
	size_t words = guest_mem_dirty_words(mem), n = 0;

	for (size_t i = 0; i < words; i++)
		n += (size_t)__builtin_popcountll(m->dirty[i]);
	if (n > r->cap) {
		uint64_t *p = realloc(r->pages, n * sizeof(*p));
		uint8_t *d = p ? realloc(r->data, n * MIG_PAGE) : NULL;

		if (p)
			r->pages = p;
		if (!d)
			return mig_fail(m, -ENOMEM, "copying %zu dirty pages: %s", n, strerror(ENOMEM));
		r->data = d;
		r->cap = n;
	}
	r->npages = 0;
	for (size_t i = 0; i < words; i++)
		for (uint64_t bits = m->dirty[i]; bits; bits &= bits - 1) {
			uint64_t pg = i * 64 + (uint64_t)__builtin_ctzll(bits);

			memcpy(r->data + r->npages * MIG_PAGE, mem->hva + pg * MIG_PAGE, MIG_PAGE);
			r->pages[r->npages++] = pg;
		}
	return 0;
}

static int send_staged(struct mig_source *m)
{
	struct repl *r = m->repl;

	for (size_t i = 0; i < r->npages;) {
		size_t n = 1;
		int ret;

		while (i + n < r->npages && n < MIG_MAX_RUN && r->pages[i + n] == r->pages[i] + n)
			n++;
		ret = mig_send_run(m, r->pages[i], n, false, r->data + i * MIG_PAGE);
		if (ret)
			return ret;
		i += n;
	}
	return 0;
}

/* One checkpoint: pause, copy, resume, send, ACK, release the epoch's frames. */
static int checkpoint(struct mig_source *m, uint64_t epoch)
{
	struct husk_vm *vm = m->vm;
	uint64_t t0 = mig_now_ms(), paused, bytes0 = m->st.bytes, dirty;
	struct repl_write *w = NULL;
	uint8_t *state = NULL, e[8];
	char err[512];
	size_t nw = 0, len = 0;
	int ret;

	ret = husk_vm_pause(vm);
	if (ret)
		return ret == -EBUSY ? -ESHUTDOWN : mig_fail(m, ret, "pausing the VM: %s",
							       strerror(-ret));
	hold_epoch(m, epoch + 1);
	ret = mig_take_dirty(m, false, &dirty);
	if (!ret)
		ret = stage_pages(m);
	if (!ret)
		ret = take_log(m, &w, &nw);
	if (!ret && (ret = snap_state_encode(vm, true, &state, &len, err, sizeof(err))))
		mig_fail(m, ret, "the VM's state: %s", err);
	if (husk_vm_resume(vm) && !ret)
		ret = mig_fail(m, -EIO, "resuming the VM");
	paused = mig_now_ms() - t0;
	le_put(e, epoch, 8);
	if (!ret && (ret = mig_send(m->fd, MIG_REC_CKPT, e, sizeof(e), 0)))
		mig_io_fail(m, ret, "sending a checkpoint");
	if (!ret)
		ret = send_staged(m);
	if (!ret) {
		ret = send_log(m, w, nw);
		w = NULL;
		nw = 0;
	}
	if (!ret && (ret = mig_send(m->fd, MIG_REC_STATE, state, len, 0)))
		mig_io_fail(m, ret, "sending the VM's state");
	if (!ret && (ret = mig_send(m->fd, MIG_REC_END, NULL, 0, 0)))
		mig_io_fail(m, ret, "ending a checkpoint");
	if (!ret)
		ret = wait_ack(m, epoch, ack_ms(m->repl));
	free_writes(w, nw);
	free(state);
	if (ret)
		return ret;
	mig_add_bytes(m, MIG_REC_LEN * 3 + sizeof(e) + len);
	hold_release(m, epoch);
	pthread_mutex_lock(&m->lock);
	m->st.epoch = epoch;
	m->st.ckpt_pause_ms = paused;
	m->st.ckpt_ms = mig_now_ms() - t0;
	m->st.ckpt_bytes = m->st.bytes - bytes0;
	m->st.disk_bytes = m->repl->disk_bytes;
	m->st.rounds++;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* Until the next checkpoint is due: heartbeats; a cancel or a stopped VM ends it. */
static int wait_interval(struct mig_source *m, uint64_t due)
{
	uint64_t last = mig_now_ms();

	for (;;) {
		uint64_t now = mig_now_ms();
		struct timespec t;
		int ret;

		if (atomic_load(&m->cancel))
			return -ECANCELED;
		if (vm_stopping(m->vm))
			return -ESHUTDOWN;
		if (now >= due)
			return 0;
		if (now - last >= REPL_HEARTBEAT_MS) {
			ret = mig_send(m->fd, MIG_REC_HEARTBEAT, NULL, 0, 0);
			if (ret)
				return mig_io_fail(m, ret, "sending a heartbeat");
			last = now;
		}
		t.tv_sec = 0;
		t.tv_nsec = (long)((due - now < 50 ? due - now : 50) * 1000000);
		nanosleep(&t, NULL);
	}
}

int repl_run(struct mig_source *m)
{
	struct repl *r = m->repl;
	uint64_t due;
	int ret = wait_ack(m, 0, ack_ms(r) * 5);

	if (ret)
		return ret;
	hold_release(m, 0);
	atomic_store(&r->synced, true);
	pthread_mutex_lock(&m->lock);
	m->st.epoch = 0;
	m->st.disk_bytes = r->disk_bytes;
	pthread_mutex_unlock(&m->lock);
	pr_info("replication to %s: the standby has the VM; a checkpoint every %u ms", m->url,
		r->interval_ms);
	vm_event(m->vm, "replication-started", NULL);
	due = mig_now_ms() + r->interval_ms;
	for (uint64_t epoch = 1;; epoch++) {
		ret = wait_interval(m, due);
		if (!ret) {
			due = mig_now_ms() + r->interval_ms;
			ret = checkpoint(m, epoch);
		}
		if (ret == -ECANCELED || ret == -ESHUTDOWN) {
			/* on purpose: the standby must not take over */
			if (mig_send(m->fd, MIG_REC_BYE, NULL, 0, 0) == 0)
				shutdown(m->fd, SHUT_WR);
			mig_fail(m, ret, "%s", ret == -ECANCELED ? "cancelled" : "the VM stopped");
			return ret;
		}
		if (ret)
			return ret;
	}
}

void repl_end(struct mig_source *m, int ret)
{
	struct repl *r = m->repl;
	struct husk_vm *vm = m->vm;
	uint64_t dropped = 0;
	struct mig_status st;

	if (r->hooked) {
		for (unsigned i = 0; i < HUSK_MAX_DISKS; i++)
			if (vm->disks[i])
				virtio_blk_set_write_hook(vm->disks[i], NULL);
		/* a pause waits for every queue thread: none is in log_write after it */
		if (husk_vm_is_paused(vm) || husk_vm_pause(vm) || husk_vm_resume(vm))
			r->leak = !husk_vm_is_paused(vm);
	}
	for (unsigned i = 0; r->holding && i < HUSK_MAX_NETS; i++)
		if (vm->nets[i])
			dropped += virtio_net_hold_stop(vm->nets[i]);
	if (m->fd >= 0 && ret != -ECANCELED && ret != -ESHUTDOWN)
		shutdown(m->fd, SHUT_RDWR);
	pthread_mutex_lock(&m->lock);
	m->st.state = ret == -ECANCELED ? MIG_CANCELLED : MIG_FAILED;
	m->st.total_ms = mig_now_ms() - m->start_ms;
	pthread_mutex_unlock(&m->lock);
	mig_source_status(m, &st);
	if (ret == -ESHUTDOWN)
		pr_info("replication to %s ended: the VM stopped (the standby was told)", m->url);
	else if (ret == -ECANCELED)
		pr_info("replication to %s cancelled (the standby was told)", m->url);
	else
		pr_warn("replication to %s failed: %s; the VM runs on unprotected", m->url,
			st.error);
	if (dropped)
		pr_warn("replication: %llu frames dropped while held", (unsigned long long)dropped);
	if (ret != -ESHUTDOWN)
		vm_event(vm, ret == -ECANCELED ? "replication-stopped" : "replication-failed", "%s",
			 st.error);
}
