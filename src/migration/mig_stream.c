// SPDX-License-Identifier: MIT
/* The live-migration stream's framing and checks (mig_stream.h). */
#include "migration/mig_stream.h"
#include "core/bytes.h"
#include "state/snapfile.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

static uint32_t get_le32(const uint8_t *p) { return (uint32_t)le_get(p, 4); }
static uint64_t get_le64(const uint8_t *p) { return le_get(p, 8); }
static void put_le32(uint8_t *p, uint32_t v) { le_put(p, v, 4); }
static void put_le64(uint8_t *p, uint64_t v) { le_put(p, v, 8); }

const char *mig_rec_name(uint32_t type)
{
	static const char *const names[] = {
		[MIG_REC_STATE_PRE] = "STATE_PRE", [MIG_REC_PAGES] = "PAGES",
		[MIG_REC_ZERO] = "ZERO", [MIG_REC_STATE] = "STATE", [MIG_REC_END] = "END",
		[MIG_REC_READY] = "READY", [MIG_REC_ERROR] = "ERROR", [MIG_REC_GO] = "GO",
		[MIG_REC_DISK] = "DISK", [MIG_REC_CKPT] = "CKPT", [MIG_REC_ACK] = "ACK",
		[MIG_REC_HEARTBEAT] = "HEARTBEAT", [MIG_REC_BYE] = "BYE",
		[MIG_REC_AUTH] = "AUTH", [MIG_REC_DISCARD] = "DISCARD", [MIG_REC_REQ] = "REQ",
	};

	return type && type <= MIG_REC_MAX ? names[type] : "unknown";
}

void mig_hello_encode(uint8_t b[MIG_HELLO_LEN], uint32_t flags)
{
	memcpy(b, MIG_MAGIC, 8);
	put_le32(b + 8, MIG_VERSION);
	put_le32(b + 12, flags);
}

int mig_hello_check(const uint8_t b[MIG_HELLO_LEN], uint32_t *flags, char *why, size_t whylen)
{
	if (memcmp(b, MIG_MAGIC, 8)) {
		snprintf(why, whylen, "not a husk migration stream");
		return -EINVAL;
	}
	if (get_le32(b + 8) != MIG_VERSION) {
		snprintf(why, whylen, "stream version %u, this husk speaks version %u",
			 get_le32(b + 8), MIG_VERSION);
		return -EINVAL;
	}
	if (get_le32(b + 12) & ~(MIG_HELLO_REPLICATION | MIG_HELLO_AUTH)) {
		snprintf(why, whylen, "unknown stream flags 0x%x", get_le32(b + 12));
		return -EINVAL;
	}
	*flags = get_le32(b + 12);
	return 0;
}

void mig_rec_encode(uint8_t b[MIG_REC_LEN], uint32_t type, uint32_t crc, uint64_t len)
{
	put_le32(b, type);
	put_le32(b + 4, crc);
	put_le64(b + 8, len);
}

int mig_rec_decode(const uint8_t b[MIG_REC_LEN], uint64_t mem_size, struct mig_rec *r,
		   char *why, size_t whylen)
{
	uint64_t max, min = 0;

	r->type = get_le32(b);
	r->crc = get_le32(b + 4);
	r->len = get_le64(b + 8);
	switch (r->type) {
	case MIG_REC_STATE_PRE:
	case MIG_REC_STATE:
		min = SNAP_MIN_LEN;
		max = SNAP_MAX_FILE;
		break;
	case MIG_REC_PAGES:
		min = MIG_PAGES_HDR + MIG_PAGE;
		max = MIG_PAGES_HDR + (uint64_t)MIG_MAX_RUN * MIG_PAGE;
		break;
	case MIG_REC_ZERO:
		min = max = MIG_PAGES_HDR;
		break;
	case MIG_REC_END:
	case MIG_REC_READY:
		max = 0;
		break;
	case MIG_REC_ERROR:
		max = MIG_MAX_MSG;
		break;
	case MIG_REC_GO:
		min = max = MIG_GO_LEN;
		break;
	case MIG_REC_DISK:
		min = MIG_DISK_HDR;
		max = MIG_DISK_HDR + MIG_MAX_DISK_DATA;
		break;
	case MIG_REC_CKPT:
	case MIG_REC_ACK:
		min = max = 8;
		break;
	case MIG_REC_HEARTBEAT:
	case MIG_REC_BYE:
		max = 0;
		break;
	case MIG_REC_AUTH:
		min = 32;
		max = 64;
		break;
	case MIG_REC_DISCARD:
		/* one bit a page: exactly guest RAM's bitmap */
		min = max = mem_size ? (mem_size / MIG_PAGE + 63) / 64 * 8 : 8;
		break;
	case MIG_REC_REQ:
		min = max = 8;
		break;
	default:
		snprintf(why, whylen, "unknown record type %u", r->type);
		return -EINVAL;
	}
	if (r->len < min || r->len > max) {
		snprintf(why, whylen, "record %s: length %llu, expected %llu..%llu",
			 mig_rec_name(r->type), (unsigned long long)r->len,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	if ((r->type == MIG_REC_PAGES || r->type == MIG_REC_ZERO || r->type == MIG_REC_DISCARD) &&
	    !mem_size) {
		snprintf(why, whylen, "record %s before the VM's configuration",
			 mig_rec_name(r->type));
		return -EINVAL;
	}
	return 0;
}

void mig_pages_encode(uint8_t b[MIG_PAGES_HDR], uint32_t type, uint64_t off, uint64_t npages)
{
	put_le64(b, off);
	if (type == MIG_REC_ZERO) {
		put_le64(b + 8, npages);
		return;
	}
	put_le32(b + 8, (uint32_t)npages);
	put_le32(b + 12, 0);
}

int mig_pages_decode(uint32_t type, const uint8_t b[MIG_PAGES_HDR], uint64_t len,
		     uint64_t mem_size, uint64_t *off, uint64_t *npages, char *why, size_t whylen)
{
	*off = get_le64(b);
	if (type == MIG_REC_ZERO) {
		*npages = get_le64(b + 8);
	} else {
		*npages = get_le32(b + 8);
		if (get_le32(b + 12) || *npages < 1 || *npages > MIG_MAX_RUN ||
		    len != MIG_PAGES_HDR + *npages * MIG_PAGE) {
			snprintf(why, whylen, "record PAGES: %llu pages in %llu bytes",
				 (unsigned long long)*npages, (unsigned long long)len);
			return -EINVAL;
		}
	}
	if (*off % MIG_PAGE || !*npages || *npages > mem_size / MIG_PAGE ||
	    *off > mem_size - *npages * MIG_PAGE) {
		snprintf(why, whylen, "record %s: %llu pages at offset 0x%llx: outside guest RAM "
			 "(%llu bytes)", mig_rec_name(type), (unsigned long long)*npages,
			 (unsigned long long)*off, (unsigned long long)mem_size);
		return -EINVAL;
	}
	return 0;
}

void mig_go_encode(uint8_t b[MIG_GO_LEN], const struct mig_go *g)
{
	put_le32(b, g->flags);
	put_le32(b + 4, g->rounds);
	put_le64(b + 8, g->downtime_ms);
	put_le64(b + 16, g->total_ms);
	put_le64(b + 24, g->bytes);
}

int mig_go_decode(const uint8_t *b, size_t len, struct mig_go *g, char *why, size_t whylen)
{
	if (len != MIG_GO_LEN) {
		snprintf(why, whylen, "record GO: %zu bytes", len);
		return -EINVAL;
	}
	g->flags = get_le32(b);
	g->rounds = get_le32(b + 4);
	g->downtime_ms = get_le64(b + 8);
	g->total_ms = get_le64(b + 16);
	g->bytes = get_le64(b + 24);
	if (g->flags & ~(MIG_GO_RESUME | MIG_GO_POSTCOPY)) {
		snprintf(why, whylen, "record GO: unknown flags 0x%x", g->flags);
		return -EINVAL;
	}
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* With a deadline: wait until @fd takes more, at most until then. */
static int wait_writable(int fd, uint64_t deadline_ms)
{
	uint64_t now = mono_ms();
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int n;

	if (now >= deadline_ms)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)(deadline_ms - now < MIG_IDLE_MS ? deadline_ms - now : MIG_IDLE_MS));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return mono_ms() >= deadline_ms ? -ETIMEDOUT : -EAGAIN;
	return 0;
}

int mig_write_all(int fd, struct iovec *iov, int n, uint64_t deadline_ms)
{
	while (n > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | (deadline_ms ? MSG_DONTWAIT : 0));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && deadline_ms && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ret = wait_writable(fd, deadline_ms);

			if (ret)
				return ret;
			continue;
		}
		if (w < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int mig_read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mig_send(int fd, uint32_t type, const void *payload, size_t len, uint64_t deadline_ms)
{
	uint8_t h[MIG_REC_LEN];
	uint32_t crc = (uint32_t)crc32(0, payload, (uInt)len);
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};

	mig_rec_encode(h, type, crc, len);
	return mig_write_all(fd, iov, len ? 2 : 1, deadline_ms);
}

int mig_recv_rec(int fd, uint64_t mem_size, struct mig_rec *r, char *why, size_t whylen)
{
	uint8_t h[MIG_REC_LEN];
	int ret = mig_read_all(fd, h, sizeof(h));

	if (ret) {
		snprintf(why, whylen, "%s", mig_io_error(ret));
		return ret;
	}
	return mig_rec_decode(h, mem_size, r, why, whylen);
}

void mig_disk_encode(uint8_t b[MIG_DISK_HDR], const struct mig_disk *d)
{
	put_le32(b, d->disk);
	put_le32(b + 4, d->flags);
	put_le64(b + 8, d->offset);
	put_le64(b + 16, d->len);
}

int mig_disk_decode(const uint8_t b[MIG_DISK_HDR], uint64_t len, struct mig_disk *d, char *why,
		    size_t whylen)
{
	d->disk = get_le32(b);
	d->flags = get_le32(b + 4);
	d->offset = get_le64(b + 8);
	d->len = get_le64(b + 16);
	if ((d->flags & ~MIG_DISK_ZERO) || d->offset % 512 || d->len % 512 || !d->len ||
	    d->offset + d->len < d->offset ||
	    len != MIG_DISK_HDR + (d->flags & MIG_DISK_ZERO ? 0 : d->len)) {
		snprintf(why, whylen, "record DISK: flags 0x%x, %llu bytes at %llu in a %llu-byte "
			 "record", d->flags, (unsigned long long)d->len,
			 (unsigned long long)d->offset, (unsigned long long)len);
		return -EINVAL;
	}
	return 0;
}

int mig_order_check(struct mig_order *o, uint32_t type, char *why, size_t whylen)
{
	enum mig_phase ph = o->phase, next = ph;
	const char *bad = NULL;
	bool data = type == MIG_REC_PAGES || type == MIG_REC_ZERO ||
		    (type == MIG_REC_DISK && o->replication);

	if (type >= MIG_REC_READY && type != MIG_REC_DISK && type != MIG_REC_CKPT &&
	    type != MIG_REC_HEARTBEAT && type != MIG_REC_BYE && type != MIG_REC_DISCARD) {
		/* AUTH too: only in the handshake, never in the stream proper */
		bad = "from the source";
	} else if ((type == MIG_REC_DISK || type == MIG_REC_CKPT || type == MIG_REC_HEARTBEAT ||
		    type == MIG_REC_BYE) && !o->replication) {
		bad = "in a migration";
	} else {
		switch (ph) {
		case MIG_PH_START:
			if (type == MIG_REC_STATE_PRE)
				next = MIG_PH_SYNC;
			else
				bad = "before the VM's configuration";
			break;
		case MIG_PH_SYNC:
		case MIG_PH_CKPT:
			if (type == MIG_REC_STATE)
				next = ph == MIG_PH_SYNC ? MIG_PH_SYNC_STATE : MIG_PH_CKPT_STATE;
			else if (type == MIG_REC_END)
				bad = "before the VM's state";
			else if (!data)
				bad = type == MIG_REC_STATE_PRE ? "a second time" : "in the middle of "
				      "a checkpoint";
			break;
		case MIG_PH_SYNC_STATE:
		case MIG_PH_CKPT_STATE:
			if (type == MIG_REC_END)
				next = o->replication ? MIG_PH_IDLE : MIG_PH_END;
			else if (type == MIG_REC_DISCARD && ph == MIG_PH_SYNC_STATE &&
				 !o->replication)
				next = MIG_PH_END;	/* post-copy: its own records follow */
			else
				bad = "after the VM's state";
			break;
		case MIG_PH_IDLE:
			if (type == MIG_REC_CKPT)
				next = MIG_PH_CKPT;
			else if (type == MIG_REC_BYE)
				next = MIG_PH_END;
			else if (type != MIG_REC_HEARTBEAT)
				bad = "outside a checkpoint";
			break;
		case MIG_PH_END:
			bad = "after END";
			break;
		}
	}
	if (bad) {
		snprintf(why, whylen, "record %s %s", mig_rec_name(type), bad);
		return -EPROTO;
	}
	o->phase = next;
	return 0;
}

const char *mig_io_error(int err)
{
	switch (err) {
	case -EPIPE:
	case -ECONNRESET:
		return "the stream was cut (the peer went away)";
	case -EAGAIN:
		return "the peer sent or took nothing for too long";
	case -ETIMEDOUT:
		return "the migration's timeout passed";
	default:
		return strerror(-err);
	}
}
