// SPDX-License-Identifier: MIT
/*
 * Post-copy live migration (migrate.h, docs/migration.md "Post-copy"):
 * after one pre-copy pass the source stops the guest and sends only the
 * device state and the list of pages the destination lacks (DISCARD);
 * the destination runs the guest at once, those pages registered with a
 * userfaultfd, and a thread of its own asks for each page a vCPU or a
 * device faults on (REQ) while the source sends every missing page, the
 * asked ones first. The switch costs one state's worth of pause, whatever
 * the guest's dirty rate; the price: from GO until the last page, the VM
 * lives on both hosts at once and dies if either does.
 */
#include "core/bytes.h"
#include "core/log.h"
#include "migration/mig_internal.h"
#include "sandbox/seccomp.h"
#include "state/snapuffd.h"
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <zlib.h>

/* ---- the source ------------------------------------------------------ */

static bool test_and_clear(uint64_t *bm, uint64_t pg)
{
	uint64_t bit = 1ull << (pg % 64);
	bool was = bm[pg / 64] & bit;

	bm[pg / 64] &= ~bit;
	return was;
}

static int serve_page(struct mig_source *m, uint64_t pg)
{
	const uint8_t *p = m->vm->mem.hva + pg * MIG_PAGE;
	bool zero = true;

	for (unsigned i = 0; zero && i < MIG_PAGE; i += 8)
		zero = !*(const uint64_t *)(p + i);
	return mig_send_run(m, pg, 1, zero, zero ? NULL : p);
}

/* A REQ on the stream (or READY, or the peer's ERROR): 1 served, 0 READY, -errno. */
static int serve_request(struct mig_source *m, bool want_ready)
{
	char why[256], msg[MIG_MAX_MSG + 1];
	uint8_t b[8];
	struct mig_rec r;
	uint64_t off, pages = m->vm->mem.size / MIG_PAGE;
	int ret = mig_recv_rec(m->fd, 0, &r, why, sizeof(why));

	if (ret == -EINVAL)
		return mig_fail(m, ret, "the destination: %s", why);
	if (ret)
		return mig_io_fail(m, ret, "serving pages");
	if (r.type == MIG_REC_READY && want_ready)
		return 0;
	if (r.type == MIG_REC_ERROR) {
		ret = mig_read_all(m->fd, msg, r.len);
		msg[ret ? 0 : r.len] = 0;
		for (char *c = msg; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		return mig_fail(m, -EPROTO, "the destination refused the VM: %s", msg);
	}
	if (r.type != MIG_REC_REQ)
		return mig_fail(m, -EPROTO, "the destination sent %s", mig_rec_name(r.type));
	ret = mig_read_all(m->fd, b, sizeof(b));
	if (ret)
		return mig_io_fail(m, ret, "serving pages");
	off = le_get(b, 8);
	if ((uint32_t)crc32(0, b, sizeof(b)) != r.crc || off % MIG_PAGE || off / MIG_PAGE >= pages)
		return mig_fail(m, -EPROTO, "the destination asked for page 0x%llx",
				(unsigned long long)off);
	if (test_and_clear(m->dirty, off / MIG_PAGE) && (ret = serve_page(m, off / MIG_PAGE)))
		return ret;
	return 1;	/* served, or sent already and on its way */
}

/* Until READY (the destination has loaded the state), answering its REQs. */
int postcopy_wait_ready(struct mig_source *m)
{
	for (;;) {
		int ret = serve_request(m, true);

		if (ret <= 0)
			return ret;
	}
}

/* After GO: every page still in m->dirty, the asked ones first; then END. */
int postcopy_serve(struct mig_source *m)
{
	uint64_t pages = m->vm->mem.size / MIG_PAGE, next = 0, left = 0;
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	int ret;

	for (size_t i = 0; i < guest_mem_dirty_words(&m->vm->mem); i++)
		left += (uint64_t)__builtin_popcountll(m->dirty[i]);
	pr_info("postcopy: %llu pages to send after the switch", (unsigned long long)left);
	for (;;) {
		/* the destination's vCPUs wait on what it asks for: that first */
		while (poll(&p, 1, 0) > 0)
			if ((ret = serve_request(m, false)) < 0)
				return ret;
		while (next < pages && !(m->dirty[next / 64] >> (next % 64) & 1))
			next = m->dirty[next / 64] ? next + 1 : (next | 63) + 1;
		if (next >= pages)
			break;
		test_and_clear(m->dirty, next);
		ret = serve_page(m, next);
		if (ret)
			return ret;
	}
	ret = mig_send(m->fd, MIG_REC_END, NULL, 0, 0);
	if (ret)
		return mig_io_fail(m, ret, "ending post-copy");
	/* the destination closes once every page is in place (late REQs are dropped) */
	for (;;) {
		uint8_t sink[256];
		ssize_t n = read(m->fd, sink, sizeof(sink));

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n == 0 || errno == ECONNRESET)
			return 0;
		return mig_io_fail(m, -errno, "ending post-copy");
	}
}

/* ---- the destination ------------------------------------------------- */

struct mig_postcopy {
	struct husk_vm *vm;
	int fd, uffd;
	uint64_t *missing;		/* pages not placed yet */
	uint64_t *asked;		/* pages asked for (REQ sent) */
	uint64_t left;
	uint8_t *buf;			/* one PAGES payload */
	pthread_t thread;
	bool started;
	pthread_mutex_t wlock;		/* writes on the stream: REQs and READY */
	pthread_mutex_t lock;		/* go, failed, done, err */
	pthread_cond_t cond;
	bool go, failed, done;
	struct mig_go g;
	char err[512];
	uint64_t faults, requests;
};

static void pc_fail(struct mig_postcopy *pc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pc_fail(struct mig_postcopy *pc, const char *fmt, ...)
{
	va_list ap;
	bool after_go;

	pthread_mutex_lock(&pc->lock);
	if (!pc->failed) {
		va_start(ap, fmt);
		vsnprintf(pc->err, sizeof(pc->err), fmt, ap);
		va_end(ap);
	}
	pc->failed = true;
	after_go = pc->go;
	pthread_cond_broadcast(&pc->cond);
	pthread_mutex_unlock(&pc->lock);
	if (after_go) {
		/* the guest's pages are gone with the source: it cannot go on */
		pr_err("postcopy: %s: the VM cannot go on (pages it lacks are lost)", pc->err);
		vm_request_stop(pc->vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
	}
}

static int place(struct mig_postcopy *pc, uint64_t off, uint64_t n, const uint8_t *data)
{
	struct guest_mem *mem = &pc->vm->mem;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t pg = off / MIG_PAGE + i;
		int ret;

		if (!(pc->missing[pg / 64] >> (pg % 64) & 1))
			continue;	/* placed already */
		if (data) {
			struct uffdio_copy c = {
				.dst = (uintptr_t)(mem->hva + pg * MIG_PAGE),
				.src = (uintptr_t)(data + i * MIG_PAGE), .len = MIG_PAGE,
			};

			ret = ioctl(pc->uffd, UFFDIO_COPY, &c);
		} else {
			struct uffdio_zeropage z = {
				.range = { .start = (uintptr_t)(mem->hva + pg * MIG_PAGE),
					   .len = MIG_PAGE },
			};

			ret = ioctl(pc->uffd, UFFDIO_ZEROPAGE, &z);
		}
		if (ret < 0 && errno != EEXIST)
			return -errno;
		pc->missing[pg / 64] &= ~(1ull << (pg % 64));
		pc->left--;
	}
	return 0;
}

static int pc_ask(struct mig_postcopy *pc, uint64_t pg)
{
	uint8_t b[8];

	if (pc->asked[pg / 64] >> (pg % 64) & 1 || !(pc->missing[pg / 64] >> (pg % 64) & 1))
		return 0;
	pc->asked[pg / 64] |= 1ull << (pg % 64);
	pc->requests++;
	le_put(b, pg * MIG_PAGE, 8);
	return postcopy_dest_send(pc, MIG_REC_REQ, b, sizeof(b));
}

int postcopy_dest_send(struct mig_postcopy *pc, uint32_t type, const void *p, size_t len)
{
	int ret;

	pthread_mutex_lock(&pc->wlock);
	ret = mig_send(pc->fd, type, p, len, 0);
	pthread_mutex_unlock(&pc->wlock);
	return ret;
}

/* The faults waiting on the userfaultfd: ask for their pages. */
static int pc_faults(struct mig_postcopy *pc)
{
	struct guest_mem *mem = &pc->vm->mem;
	struct uffd_msg msg[16];

	for (;;) {
		ssize_t n = read(pc->uffd, msg, sizeof(msg));

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msg[0]); i++) {
			uint64_t a = msg[i].arg.pagefault.address;
			int ret;

			if (msg[i].event != UFFD_EVENT_PAGEFAULT || a < (uintptr_t)mem->hva ||
			    a >= (uintptr_t)mem->hva + mem->size)
				continue;
			pc->faults++;
			ret = pc_ask(pc, (a - (uintptr_t)mem->hva) / MIG_PAGE);
			if (ret)
				return ret;
		}
	}
}

/* One record from the source: PAGES/ZERO placed, GO, END. 1: END (all placed). */
static int pc_record(struct mig_postcopy *pc)
{
	char why[256];
	struct mig_rec r;
	uint64_t off, n;
	uint8_t ph[MIG_PAGES_HDR];
	int ret = mig_recv_rec(pc->fd, pc->vm->mem.size, &r, why, sizeof(why));

	if (ret) {
		pc_fail(pc, "%s", why);
		return ret;
	}
	if (r.type == MIG_REC_GO && !pc->go) {
		uint8_t b[MIG_GO_LEN];

		ret = r.len == sizeof(b) ? mig_read_all(pc->fd, b, sizeof(b)) : -EPROTO;
		if (!ret && ((uint32_t)crc32(0, b, sizeof(b)) != r.crc ||
			     mig_go_decode(b, sizeof(b), &pc->g, why, sizeof(why))))
			ret = -EPROTO;
		if (ret) {
			pc_fail(pc, "record GO: %s", ret == -EPROTO ? "corrupt" : mig_io_error(ret));
			return ret;
		}
		pthread_mutex_lock(&pc->lock);
		pc->go = true;
		pthread_cond_broadcast(&pc->cond);
		pthread_mutex_unlock(&pc->lock);
		return 0;
	}
	if (r.type == MIG_REC_END && pc->go) {
		if (pc->left) {
			pc_fail(pc, "END with %llu pages still missing", (unsigned long long)pc->left);
			return -EPROTO;
		}
		return 1;
	}
	if (r.type != MIG_REC_PAGES && r.type != MIG_REC_ZERO) {
		pc_fail(pc, "record %s during post-copy", mig_rec_name(r.type));
		return -EPROTO;
	}
	ret = mig_read_all(pc->fd, ph, sizeof(ph));
	if (!ret && (ret = mig_pages_decode(r.type, ph, r.len, pc->vm->mem.size, &off, &n, why,
					    sizeof(why)))) {
		pc_fail(pc, "%s", why);
		return ret;
	}
	if (!ret && r.type == MIG_REC_PAGES)
		ret = mig_read_all(pc->fd, pc->buf, n * MIG_PAGE);
	if (ret) {
		pc_fail(pc, "record %s: %s", mig_rec_name(r.type), mig_io_error(ret));
		return ret;
	}
	if (((uint32_t)crc32(crc32(0, ph, sizeof(ph)), pc->buf,
			     (uInt)(r.type == MIG_REC_PAGES ? n * MIG_PAGE : 0))) != r.crc) {
		pc_fail(pc, "record %s at 0x%llx: checksum mismatch (a corrupt stream)",
			mig_rec_name(r.type), (unsigned long long)off);
		return -EINVAL;
	}
	ret = place(pc, off, n, r.type == MIG_REC_PAGES ? pc->buf : NULL);
	if (ret)
		pc_fail(pc, "placing pages at 0x%llx: %s", (unsigned long long)off, strerror(-ret));
	return ret;
}

static void *pc_thread(void *arg)
{
	struct mig_postcopy *pc = arg;
	struct pollfd p[2] = { { .fd = pc->uffd, .events = POLLIN },
			       { .fd = pc->fd, .events = POLLIN } };

	pthread_setname_np(pthread_self(), "postcopy");
	if (sandbox_enter(pc->vm->cfg.sandbox, SANDBOX_MIGRATION) < 0) {
		pr_err("post-copy: cannot enter the pages thread's seccomp filter; the VM is lost");
		vm_request_stop(pc->vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
		return NULL;
	}
	for (;;) {
		int n = poll(p, 2, -1), ret = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pc_fail(pc, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents && (ret = pc_faults(pc))) {
			pc_fail(pc, "asking for pages: %s", mig_io_error(ret));
			break;
		}
		if (p[1].revents && (ret = pc_record(pc)) != 0)
			break;
	}
	pthread_mutex_lock(&pc->lock);
	pc->done = !pc->failed;
	pthread_cond_broadcast(&pc->cond);
	pthread_mutex_unlock(&pc->lock);
	if (pc->done) {
		pr_info("postcopy: every page in place (%llu faults, %llu asked for)",
			(unsigned long long)pc->faults, (unsigned long long)pc->requests);
		/* nothing is missing any more: the guest's RAM is plain memory again */
		guest_mem_uffd_release(&pc->vm->mem);
		shutdown(pc->fd, SHUT_RDWR);
	}
	return NULL;
}

int postcopy_dest_start(struct husk_vm *vm, int fd, const uint8_t *discard, size_t len,
			struct mig_postcopy **out, char *err, size_t errlen)
{
	struct guest_mem *mem = &vm->mem;
	size_t words = guest_mem_dirty_words(mem);
	struct mig_postcopy *pc;
	int ret;

	*out = NULL;
	if (len != words * 8) {
		snprintf(err, errlen, "record DISCARD: %zu bytes for %zu pages", len,
			 (size_t)(mem->size / MIG_PAGE));
		return -EINVAL;
	}
	if (mem->hugepages || mem->fd < 0) {
		snprintf(err, errlen, "post-copy needs guest RAM in 4 KiB pages (no --hugepages)");
		return -EOPNOTSUPP;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc || !(pc->missing = calloc(words, 8)) || !(pc->asked = calloc(words, 8)) ||
	    !(pc->buf = malloc((size_t)MIG_MAX_RUN * MIG_PAGE))) {
		if (pc) {
			free(pc->missing);
			free(pc->asked);
		}
		free(pc);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pc->vm = vm;
	pc->fd = -1;		/* the caller's until the thread starts */
	pc->uffd = -1;
	pthread_mutex_init(&pc->lock, NULL);
	pthread_mutex_init(&pc->wlock, NULL);
	pthread_cond_init(&pc->cond, NULL);
	for (size_t i = 0; i < words; i++) {
		pc->missing[i] = le_get(discard + i * 8, 8);
		pc->left += (uint64_t)__builtin_popcountll(pc->missing[i]);
	}
	/* the pages the source still has: dropped here, so touching one faults */
	for (uint64_t pg = 0; pg < mem->size / MIG_PAGE; pg++) {
		uint64_t n = 0;

		while (pg + n < mem->size / MIG_PAGE && pc->missing[(pg + n) / 64] >> ((pg + n) % 64) & 1)
			n++;
		if (n && fallocate(mem->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   (off_t)(pg * MIG_PAGE), (off_t)(n * MIG_PAGE)) < 0) {
			ret = -errno;
			snprintf(err, errlen, "post-copy: dropping stale pages: %s", strerror(-ret));
			postcopy_dest_free(pc);
			return ret;
		}
		pg += n;
	}
	ret = snap_uffd_register(mem, &pc->uffd, err, errlen);
	if (ret) {
		postcopy_dest_free(pc);
		return ret;
	}
	mem->uffd = pc->uffd;	/* the VM's stop lets go of it (guest_mem_uffd_release) */
	pc->fd = fd;
	ret = pthread_create(&pc->thread, NULL, pc_thread, pc);
	if (ret) {
		snprintf(err, errlen, "post-copy thread: %s", strerror(ret));
		pc->fd = -1;
		postcopy_dest_free(pc);
		return -ret;
	}
	pc->started = true;
	*out = pc;
	return 0;
}

int postcopy_dest_wait_go(struct mig_postcopy *pc, struct mig_go *g, char *err, size_t errlen)
{
	int ret = 0;

	pthread_mutex_lock(&pc->lock);
	while (!pc->go && !pc->failed)
		pthread_cond_wait(&pc->cond, &pc->lock);
	if (pc->go && !pc->failed) {
		*g = pc->g;
	} else {
		snprintf(err, errlen, "%s", pc->err);
		ret = -EPROTO;
	}
	pthread_mutex_unlock(&pc->lock);
	return ret;
}

void postcopy_dest_free(struct mig_postcopy *pc)
{
	if (!pc)
		return;
	if (pc->started) {
		shutdown(pc->fd, SHUT_RDWR);	/* ends the thread's wait */
		pthread_join(pc->thread, NULL);
	}
	if (pc->vm && pc->vm->mem.uffd == pc->uffd) {
		guest_mem_uffd_release(&pc->vm->mem);
		pc->vm->mem.uffd = -1;
	}
	if (pc->uffd >= 0)
		close(pc->uffd);
	if (pc->fd >= 0)
		close(pc->fd);
	pthread_mutex_destroy(&pc->lock);
	pthread_mutex_destroy(&pc->wlock);
	pthread_cond_destroy(&pc->cond);
	free(pc->missing);
	free(pc->asked);
	free(pc->buf);
	free(pc);
}
