// SPDX-License-Identifier: MIT
/* The destination side of a live migration: husk --incoming URL (migrate.h). */
#include "migration/migrate.h"
#include "core/log.h"
#include "migration/mig_auth.h"
#include "migration/mig_internal.h"
#include "migration/mig_stream.h"
#include "migration/mig_url.h"
#include "state/snapfile.h"
#include "vmm/vm.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#define MIG_DEST_TIMEOUT_S	30	/* the source sent nothing this long: it is gone */


/* Wait for one connection on @lfd, or for @stop_fd: the connection, 1 (stopped), -errno. */
static int accept_one(int lfd, int stop_fd, char *err, size_t errlen)
{
	struct pollfd pfd[2] = { { .fd = lfd, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };

	for (;;) {
		int n = poll(pfd, stop_fd >= 0 ? 2 : 1, -1), fd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "--incoming: poll: %s", strerror(errno));
			return -errno;
		}
		if (stop_fd >= 0 && pfd[1].revents)
			return 1;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != ECONNABORTED) {
			snprintf(err, errlen, "--incoming: accept: %s", strerror(errno));
			return -errno;
		}
	}
}

/* A payload of @r into a new buffer (at most SNAP_MAX_FILE: checked by the decoder). */
int mig_dest_payload(struct mig_dest *d, const struct mig_rec *r, uint8_t **out, char *err,
		     size_t errlen)
{
	uint8_t *buf = malloc(r->len ? r->len : 1);
	int ret;

	*out = NULL;
	if (!buf) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = mig_read_all(d->fd, buf, r->len);
	if (ret) {
		free(buf);
		snprintf(err, errlen, "record %s: %s", mig_rec_name(r->type), mig_io_error(ret));
		return ret;
	}
	if ((uint32_t)crc32(0, buf, (uInt)r->len) != r->crc) {
		free(buf);
		snprintf(err, errlen, "record %s: checksum mismatch (a corrupt stream)",
			 mig_rec_name(r->type));
		return -EINVAL;
	}
	d->bytes += r->len;
	*out = buf;
	return 0;
}

static int build_vm(struct mig_dest *d, const struct mig_rec *r,
		    const struct snap_restore_opts *opts, struct str_arena *arena,
		    struct husk_config *cfg, char *err, size_t errlen)
{
	char what[200];
	uint8_t *buf;
	int ret = mig_dest_payload(d, r, &buf, err, errlen);

	if (ret)
		return ret;
	snprintf(what, sizeof(what), "migration stream from %s", d->url);
	ret = snap_state_decode(buf, r->len, what, false, &d->pre, arena, cfg, err, errlen);
	d->have_pre = true;	/* d->pre is ours to free either way */
	if (ret)
		return ret;
	if (opts && (ret = snap_apply_overrides(opts, cfg, err, errlen)))
		return ret;
	cfg->restore = true;
	/* a migration's source writes its disks until it pauses; a standby has its own */
	cfg->defer_disk_locks = !d->standby;
	ret = husk_vm_create(cfg, &d->vm, err, errlen);
	cfg->defer_disk_locks = false;
	d->locked = !ret && d->standby;
	if (!ret)
		d->vm->restore_clock_realtime = true;	/* the guest's clock runs through the switch */
	return ret;
}

static int recv_pages(struct mig_dest *d, const struct mig_rec *r, char *err, size_t errlen)
{
	struct guest_mem *mem = &d->vm->mem;
	uint8_t ph[MIG_PAGES_HDR];
	uint64_t off, n;
	uint32_t crc;
	int ret = mig_read_all(d->fd, ph, sizeof(ph));

	if (ret) {
		snprintf(err, errlen, "record %s: %s", mig_rec_name(r->type), mig_io_error(ret));
		return ret;
	}
	ret = mig_pages_decode(r->type, ph, r->len, mem->size, &off, &n, err, errlen);
	if (ret)
		return ret;
	crc = (uint32_t)crc32(0, ph, sizeof(ph));
	if (r->type == MIG_REC_ZERO) {
		memset(mem->hva + off, 0, n * MIG_PAGE);
	} else {
		ret = mig_read_all(d->fd, mem->hva + off, n * MIG_PAGE);
		if (ret) {
			snprintf(err, errlen, "record PAGES: %s", mig_io_error(ret));
			return ret;
		}
		crc = (uint32_t)crc32(crc, mem->hva + off, (uInt)(n * MIG_PAGE));
	}
	if (crc != r->crc) {
		snprintf(err, errlen, "record %s at offset 0x%llx: checksum mismatch (a corrupt "
			 "stream)", mig_rec_name(r->type), (unsigned long long)off);
		return -EINVAL;
	}
	d->bytes += r->len;
	return 0;
}

int mig_dest_state(struct mig_dest *d, uint8_t *buf, uint64_t len, struct snap_file *f,
		   char *err, size_t errlen)
{
	const struct snap_section *a, *b;
	struct str_arena scratch = { 0 };	/* the config is only compared */
	struct husk_config c;
	char what[200];
	int ret;

	snprintf(what, sizeof(what), "migration stream from %s: the VM's state", d->url);
	ret = snap_state_decode(buf, len, what, true, f, &scratch, &c, err, errlen);
	arena_free(&scratch);
	if (!ret) {
		a = snap_find(&d->pre, "config");
		b = snap_find(f, "config");
		if (a->len != b->len || memcmp(d->pre.buf + a->off, f->buf + b->off, a->len)) {
			snprintf(err, errlen, "%s: another configuration than the stream began with",
				 what);
			ret = -EINVAL;
		}
	}
	if (ret)
		snap_file_free(f);
	return ret;
}

/* STATE: same config as STATE_PRE, every device's section; a standby keeps it for a failover. */
static int recv_state(struct mig_dest *d, const struct mig_rec *r, char *err, size_t errlen)
{
	char what[200];
	uint8_t *buf;
	int ret;

	ret = mig_dest_payload(d, r, &buf, err, errlen);
	if (ret)
		return ret;
	ret = mig_dest_state(d, buf, r->len, &d->state, err, errlen);
	if (ret)
		return ret;
	d->have_state = true;
	(void)what;
	return 0;	/* loaded at END (or DISCARD); a standby's at its failover */
}

/* Load the state, take the disks, answer READY: the VM waits for GO. */
static int load_and_ready(struct mig_dest *d, char *err, size_t errlen)
{
	char what[200];
	int ret;

	snprintf(what, sizeof(what), "migration stream from %s: the VM's state", d->url);
	ret = snap_state_load(d->vm, &d->state, what, err, errlen);
	/* the source has let go of the disks */
	if (!ret && (ret = vm_lock_disks(d->vm, true, err, errlen)) == 0) {
		d->vm->cfg.defer_disk_locks = false;
		d->locked = true;
		ret = d->pc ? postcopy_dest_send(d->pc, MIG_REC_READY, NULL, 0) :
			      mig_send(d->fd, MIG_REC_READY, NULL, 0, 0);
		if (ret)
			snprintf(err, errlen, "answering READY: %s", mig_io_error(ret));
	}
	return ret;
}

int mig_dest_disk(struct mig_dest *d, const uint8_t *payload, uint64_t len, char *err,
		  size_t errlen)
{
	const struct blk_image *img;
	struct mig_disk k;
	int ret = mig_disk_decode(payload, len, &k, err, errlen);

	if (ret)
		return ret;
	if (k.disk >= d->vm->cfg.ndisks || !d->vm->disks[k.disk]) {
		snprintf(err, errlen, "record DISK: disk %u, the VM has %u", k.disk,
			 d->vm->cfg.ndisks);
		return -EINVAL;
	}
	img = virtio_blk_image(d->vm->disks[k.disk]);
	if (img->readonly || k.offset > img->size || k.len > img->size - k.offset) {
		snprintf(err, errlen, "record DISK: %llu bytes at %llu: %s", (unsigned long long)k.len,
			 (unsigned long long)k.offset, img->readonly ? "the standby's image is "
			 "read-only" : "past the end of the standby's image (another size?)");
		return -EINVAL;
	}
	for (uint64_t done = 0; done < k.len;) {
		static const uint8_t zeros[65536];
		uint64_t n = k.len - done;
		ssize_t w;

		if (k.flags & MIG_DISK_ZERO && n > sizeof(zeros))
			n = sizeof(zeros);
		w = pwrite(img->fd, k.flags & MIG_DISK_ZERO ? zeros : payload + MIG_DISK_HDR + done,
			   n, (off_t)(k.offset + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			snprintf(err, errlen, "disk %u: writing at %llu: %s", k.disk,
				 (unsigned long long)(k.offset + done), strerror(-ret));
			return ret;
		}
		done += (uint64_t)w;
	}
	return 0;
}

int mig_dest_sync_disks(struct mig_dest *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->vm->cfg.ndisks; i++) {
		const struct blk_image *img = d->vm->disks[i] ? virtio_blk_image(d->vm->disks[i]) :
							       NULL;

		if (img && !img->readonly && fdatasync(img->fd) < 0) {
			snprintf(err, errlen, "disk %u: fdatasync: %s", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int recv_go(struct mig_dest *d, struct mig_result *res, char *err, size_t errlen)
{
	char why[256];
	struct mig_rec r;
	struct mig_go g;
	uint8_t *buf;
	int ret = mig_recv_rec(d->fd, 0, &r, why, sizeof(why));

	if (!ret && r.type != MIG_REC_GO) {
		snprintf(why, sizeof(why), "record %s instead of GO", mig_rec_name(r.type));
		ret = -EPROTO;
	}
	if (ret) {
		snprintf(err, errlen, "migration stream from %s: the source did not hand the VM "
			 "over: %s", d->url, why);
		return ret;
	}
	ret = mig_dest_payload(d, &r, &buf, err, errlen);
	if (ret)
		return ret;
	ret = mig_go_decode(buf, r.len, &g, err, errlen);
	free(buf);
	if (ret)
		return ret;
	res->resume = g.flags & MIG_GO_RESUME;
	res->rounds = g.rounds;
	res->downtime_ms = g.downtime_ms;
	res->total_ms = g.total_ms;
	res->bytes = g.bytes;
	return 0;
}

/* Everything from the hello to END, then READY. */
static int receive(struct mig_dest *d, const struct snap_restore_opts *opts,
		   struct str_arena *arena, struct husk_config *cfg, char *err, size_t errlen)
{
	uint8_t hello[MIG_HELLO_LEN], *buf;
	uint32_t flags;
	char why[256];
	struct mig_rec r;
	int ret = mig_read_all(d->fd, hello, sizeof(hello));

	if (ret) {
		snprintf(err, errlen, "migration stream from %s: %s", d->url, mig_io_error(ret));
		return ret;
	}
	if (mig_hello_check(hello, &flags, why, sizeof(why))) {
		snprintf(err, errlen, "migration stream from %s: %s", d->url, why);
		return -EINVAL;
	}
	if (!(flags & MIG_HELLO_AUTH) != !d->secret) {
		snprintf(err, errlen, "migration stream from %s: %s", d->url, d->secret ?
			 "the source did not authenticate (give it --migration-secret too)" :
			 "the source authenticates, but this husk has no --migration-secret");
		return -EACCES;
	}
	if (d->secret && (ret = mig_auth_server(d->fd, d->secret, why, sizeof(why)))) {
		snprintf(err, errlen, "migration stream from %s: %s", d->url, why);
		return ret;
	}
	if (!(flags & MIG_HELLO_REPLICATION) != !d->standby) {
		snprintf(err, errlen, "migration stream from %s: %s", d->url, d->standby ?
			 "a migration, not replication (this husk is a --standby)" :
			 "replication (PUT /replication): give --standby to take it");
		return -EINVAL;
	}
	d->order.replication = d->standby;
	for (;;) {
		char msg[512] = "";

		ret = mig_recv_rec(d->fd, d->vm ? d->vm->mem.size : 0, &r, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "migration stream from %s: %s", d->url, why);
			return ret;
		}
		if (mig_order_check(&d->order, r.type, msg, sizeof(msg))) {
			snprintf(err, errlen, "migration stream from %s: %s", d->url, msg);
			return -EPROTO;
		}
		switch (r.type) {
		case MIG_REC_STATE_PRE:
			ret = build_vm(d, &r, opts, arena, cfg, msg, sizeof(msg));
			break;
		case MIG_REC_PAGES:
		case MIG_REC_ZERO:
			ret = recv_pages(d, &r, msg, sizeof(msg));
			break;
		case MIG_REC_STATE:
			ret = recv_state(d, &r, msg, sizeof(msg));
			break;
		case MIG_REC_DISCARD:
			/* post-copy: the page thread reads the stream from here on */
			ret = mig_dest_payload(d, &r, &buf, msg, sizeof(msg));
			if (!ret) {
				ret = postcopy_dest_start(d->vm, d->fd, buf, r.len, &d->pc, msg,
							  sizeof(msg));
				free(buf);
			}
			if (!ret)
				ret = load_and_ready(d, msg, sizeof(msg));
			break;
		case MIG_REC_DISK:
			ret = mig_dest_payload(d, &r, &buf, msg, sizeof(msg));
			if (!ret) {
				ret = mig_dest_disk(d, buf, r.len, msg, sizeof(msg));
				free(buf);
			}
			break;
		default:	/* END */
			if (d->standby) {
				/* the first state is complete: on disk, then ACK 0 */
				uint8_t e[8] = { 0 };

				ret = mig_dest_sync_disks(d, msg, sizeof(msg));
				if (!ret && (ret = mig_send(d->fd, MIG_REC_ACK, e, sizeof(e), 0)))
					snprintf(msg, sizeof(msg), "answering ACK: %s",
						 mig_io_error(ret));
				break;
			}
			ret = load_and_ready(d, msg, sizeof(msg));
			break;
		}
		if (ret) {
			if (!strncmp(msg, "migration stream", 16))
				snprintf(err, errlen, "%s", msg);
			else
				snprintf(err, errlen, "migration stream from %s: %s", d->url, msg);
			return ret;
		}
		if (r.type == MIG_REC_END || r.type == MIG_REC_DISCARD)
			return 0;
	}
}

static int incoming(struct mig_dest *dp, const struct mig_url *up,
		    const struct snap_restore_opts *opts, const struct mig_incoming_opts *in,
		    int stop_fd, struct str_arena *arena, struct husk_config *cfg,
		    struct husk_vm **out, struct mig_result *res, char *err, size_t errlen);

int mig_incoming(const char *url, const struct snap_restore_opts *opts,
		 const struct mig_incoming_opts *in, int stop_fd, struct str_arena *arena,
		 struct husk_config *cfg, struct husk_vm **out, struct mig_result *res, char *err,
		 size_t errlen)
{
	struct mig_dest d = { .fd = -1, .url = url, .standby = in && in->standby };
	struct mig_url u;
	int ret;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	ret = mig_url_parse(url, &u, err, errlen);
	if (ret)
		return ret;
	if (in && in->secret_path) {
		d.secret = malloc(sizeof(*d.secret));
		if (!d.secret) {
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		ret = mig_secret_load(in->secret_path, d.secret, err, errlen);
		if (ret) {
			free(d.secret);
			return ret;
		}
	}
	ret = incoming(&d, &u, opts, in, stop_fd, arena, cfg, out, res, err, errlen);
	if (d.secret) {
		mig_secret_wipe(d.secret);
		free(d.secret);
	}
	return ret;
}

static int incoming(struct mig_dest *dp, const struct mig_url *up,
		    const struct snap_restore_opts *opts, const struct mig_incoming_opts *in,
		    int stop_fd, struct str_arena *arena, struct husk_config *cfg,
		    struct husk_vm **out, struct mig_result *res, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = MIG_DEST_TIMEOUT_S };
	struct mig_dest d = *dp;
	const struct mig_url u = *up;
	const char *url = d.url;
	struct husk_config c;
	int lfd, ret;

	lfd = mig_url_listen(&u, err, errlen);
	if (lfd < 0)
		return lfd;
	pr_info("waiting for %s on %s", d.standby ? "a replication stream" : "a migration", url);
	ret = accept_one(lfd, stop_fd, err, errlen);
	close(lfd);
	if (!u.tcp)
		unlink(u.path);
	if (ret == 1)
		return 1;
	if (ret < 0)
		return ret;
	d.fd = ret;
	setsockopt(d.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(d.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ret = receive(&d, opts, arena, &c, err, errlen);
	if (ret) {
		/* tell the source why (it resumes its VM); it may be gone already */
		size_t n = strlen(err) < MIG_MAX_MSG ? strlen(err) : MIG_MAX_MSG;

		mig_send(d.fd, MIG_REC_ERROR, err, n, 0);
	}
	if (!ret && d.standby) {
		ret = standby_run(&d, stop_fd, in->failover_ms, &res->epoch, &res->since_ms,
				  err, errlen);
		if (ret < 0) {
			size_t n = strlen(err) < MIG_MAX_MSG ? strlen(err) : MIG_MAX_MSG;

			mig_send(d.fd, MIG_REC_ERROR, err, n, 0);
		} else if (ret == 0) {
			char what[200];

			/* the primary is gone: the VM goes on from the last checkpoint */
			snprintf(what, sizeof(what), "the failover state from %s", url);
			ret = snap_state_load(d.vm, &d.state, what, err, errlen);
			res->failover = true;
			res->resume = true;
		}
	} else if (!ret && d.pc) {
		struct mig_go g;

		ret = postcopy_dest_wait_go(d.pc, &g, err, errlen);
		if (!ret) {
			res->resume = g.flags & MIG_GO_RESUME;
			res->rounds = g.rounds;
			res->downtime_ms = g.downtime_ms;
			res->total_ms = g.total_ms;
			res->bytes = g.bytes;
			res->postcopy = d.pc;
		}
	} else if (!ret) {
		ret = recv_go(&d, res, err, errlen);
	}
	if (ret && d.pc) {
		postcopy_dest_free(d.pc);	/* joins its thread, closes the stream */
		d.fd = -1;
	}
	if (!res->postcopy && d.fd >= 0)
		close(d.fd);	/* post-copy: the page thread's until it is done */
	if (d.have_pre)
		snap_file_free(&d.pre);
	if (d.have_state)
		snap_file_free(&d.state);
	if (ret) {
		/* the source takes its disks back: let go of them before exiting */
		char none[8];

		if (d.locked)
			vm_lock_disks(d.vm, false, none, sizeof(none));
		husk_vm_destroy(d.vm);
		return ret;
	}
	if (res->failover)
		pr_info("standby: took over from %s at checkpoint %llu (%llu ms after it)", url,
			(unsigned long long)res->epoch, (unsigned long long)res->since_ms);
	else
		pr_info("migration from %s received: %llu MiB, %u passes, downtime %llu ms", url,
			(unsigned long long)(d.bytes >> 20), res->rounds,
			(unsigned long long)res->downtime_ms);
	/* the switches learn the NICs' new port */
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++)
		if (d.vm->nets[i])
			virtio_net_announce(d.vm->nets[i]);
	*cfg = c;
	*out = d.vm;
	return 0;
}
