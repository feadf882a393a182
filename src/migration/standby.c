// SPDX-License-Identifier: MIT
/*
 * husk --incoming URL --standby: the replica's side of continuous
 * replication (migrate.h). After the first sync (mig_dest.c) it takes
 * checkpoints: each one's records are staged whole (nothing applied while
 * it comes in), then at its END the pages go into guest RAM, the disk
 * writes onto the standby's images (fdatasync), its state becomes the
 * failover point, and ACK tells the primary. A primary silent for the
 * failover timeout, or a stream cut, leaves the last complete checkpoint:
 * the caller loads it and runs the VM. A BYE ends it without a failover.
 */
#include "core/bytes.h"
#include "core/log.h"
#include "migration/mig_internal.h"
#include "vmm/vm.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

struct staged {
	uint32_t type;
	uint64_t len;
	uint8_t *data;
};

struct stage {
	struct staged *rec;
	size_t n, cap;
	uint64_t bytes;
};

#define STAGE_MAX (8ull << 30)	/* a checkpoint larger than this is refused */

static void stage_clear(struct stage *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rec[i].data);
	s->n = 0;
	s->bytes = 0;
}

static int stage_add(struct stage *s, uint32_t type, uint8_t *data, uint64_t len)
{
	if (s->bytes + len > STAGE_MAX)
		return -ENOBUFS;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct staged *r = realloc(s->rec, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		s->rec = r;
		s->cap = cap;
	}
	s->rec[s->n++] = (struct staged){ .type = type, .len = len, .data = data };
	s->bytes += len;
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* END: apply the staged checkpoint, make it the failover point, ACK it. */
static int commit(struct mig_dest *d, struct stage *s, uint64_t epoch, char *err, size_t errlen)
{
	struct guest_mem *mem = &d->vm->mem;
	struct snap_file f;
	uint8_t e[8];
	int ret = 0;

	/* the state first: a bad one must leave the last checkpoint whole */
	for (size_t i = 0; i < s->n; i++) {
		if (s->rec[i].type != MIG_REC_STATE)
			continue;
		ret = mig_dest_state(d, s->rec[i].data, s->rec[i].len, &f, err, errlen);
		s->rec[i].data = NULL;	/* taken over */
		if (ret)
			return ret;
	}
	for (size_t i = 0; !ret && i < s->n; i++) {
		const struct staged *r = &s->rec[i];
		uint64_t off, n;

		if (r->type == MIG_REC_PAGES || r->type == MIG_REC_ZERO) {
			ret = mig_pages_decode(r->type, r->data, r->len, mem->size, &off, &n, err,
					       errlen);
			if (!ret && r->type == MIG_REC_PAGES)
				memcpy(mem->hva + off, r->data + MIG_PAGES_HDR, n * MIG_PAGE);
			else if (!ret)
				memset(mem->hva + off, 0, n * MIG_PAGE);
		} else if (r->type == MIG_REC_DISK) {
			ret = mig_dest_disk(d, r->data, r->len, err, errlen);
		}
	}
	if (!ret)
		ret = mig_dest_sync_disks(d, err, errlen);
	if (ret) {
		/* half applied: RAM or a disk no longer matches any checkpoint */
		snap_file_free(&f);
		return ret;
	}
	if (d->have_state)
		snap_file_free(&d->state);
	d->state = f;
	d->have_state = true;
	stage_clear(s);
	le_put(e, epoch, 8);
	ret = mig_send(d->fd, MIG_REC_ACK, e, sizeof(e), 0);
	if (ret)
		snprintf(err, errlen, "acknowledging checkpoint %llu: %s",
			 (unsigned long long)epoch, mig_io_error(ret));
	return ret;
}

int standby_run(struct mig_dest *d, int stop_fd, unsigned failover_ms, uint64_t *epoch,
		uint64_t *since_ms, char *err, size_t errlen)
{
	struct pollfd p[2] = { { .fd = d->fd, .events = POLLIN },
			       { .fd = stop_fd, .events = POLLIN } };
	uint64_t last = mono_ms(), committed = mono_ms(), cur = 0;
	struct stage s = { 0 };
	char why[256];
	int ret;

	struct timeval tv = { .tv_sec = failover_ms / 1000,
			      .tv_usec = (long)(failover_ms % 1000) * 1000 };

	/* a primary that stops in the middle of a record is as gone as a silent one */
	setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*epoch = 0;
	pr_info("standby: the VM is here (checkpoint 0); taking over when %s is silent for "
		"%u ms", d->url, failover_ms);
	for (;;) {
		struct mig_rec r;
		uint8_t *buf = NULL;
		uint64_t now = mono_ms();
		int n;

		n = poll(p, stop_fd >= 0 ? 2 : 1,
			 now - last >= failover_ms ? 0 : (int)(failover_ms - (now - last)));
		if (n < 0 && errno == EINTR)
			continue;
		if (stop_fd >= 0 && n > 0 && p[1].revents) {
			ret = 1;
			break;
		}
		if (n == 0) {
			pr_warn("standby: nothing from %s for %u ms: taking over", d->url,
				failover_ms);
			ret = 0;
			break;
		}
		ret = mig_recv_rec(d->fd, d->vm->mem.size, &r, why, sizeof(why));
		if (ret == -EPIPE || ret == -ECONNRESET || ret == -EAGAIN) {
			pr_warn("standby: %s: %s: taking over", d->url, why);
			ret = 0;
			break;
		}
		if (!ret && mig_order_check(&d->order, r.type, why, sizeof(why)))
			ret = -EPROTO;
		if (!ret && r.len) {
			ret = mig_dest_payload(d, &r, &buf, why, sizeof(why));
			if (ret == -EPIPE || ret == -ECONNRESET || ret == -EAGAIN) {
				pr_warn("standby: %s: %s: taking over", d->url, why);
				ret = 0;
				break;
			}
		}
		if (ret) {
			/* a live primary sending what cannot be taken: no failover */
			snprintf(err, errlen, "replication stream from %s: %s", d->url, why);
			break;
		}
		last = mono_ms();
		switch (r.type) {
		case MIG_REC_HEARTBEAT:
			break;
		case MIG_REC_BYE:
			ret = 2;
			break;
		case MIG_REC_CKPT:
			cur = le_get(buf, 8);
			if (cur != *epoch + 1) {
				snprintf(err, errlen, "replication stream from %s: checkpoint %llu "
					 "after %llu", d->url, (unsigned long long)cur,
					 (unsigned long long)*epoch);
				ret = -EPROTO;
			}
			break;
		case MIG_REC_END:
			ret = commit(d, &s, cur, why, sizeof(why));
			if (ret)
				snprintf(err, errlen, "replication stream from %s: checkpoint %llu: %s",
					 d->url, (unsigned long long)cur, why);
			else {
				*epoch = cur;
				committed = mono_ms();
			}
			break;
		default:	/* PAGES, ZERO, DISK, STATE: staged until END */
			ret = stage_add(&s, r.type, buf, r.len);
			if (ret)
				snprintf(err, errlen, "replication stream from %s: checkpoint %llu: "
					 "%s", d->url, (unsigned long long)cur, strerror(-ret));
			else
				buf = NULL;
			break;
		}
		free(buf);
		if (ret)
			break;
	}
	stage_clear(&s);
	free(s.rec);
	*since_ms = mono_ms() - committed;
	return ret;
}
