// SPDX-License-Identifier: MIT
/* Parsing virtio-blk requests: see virtio/virtio_blk_req.h. */
#include "virtio/virtio_blk_req.h"
#include "core/bytes.h"

#include <linux/virtio_blk.h>
#include <string.h>

#define SECTOR		512ull
#define MAX_SECTORS	(UINT64_MAX / SECTOR)

/*
 * The iovecs for bytes [@from, @from + @len) of the chain's part that
 * starts at segment @first and ends before segment @end. Returns the count,
 * or -1 when they do not fit in @max.
 */
static int part_iov(const struct vq_chain *c, uint32_t first, uint32_t end, uint64_t from,
		    uint64_t len, struct iovec *iov, unsigned max)
{
	unsigned n = 0;
	uint64_t pos = 0;

	for (uint32_t i = first; i < end && len; i++) {
		const struct vq_seg *s = &c->segs[i];
		uint64_t seg_end = pos + s->len;

		if (seg_end > from) {
			uint64_t skip = from > pos ? from - pos : 0;
			uint64_t take = s->len - skip < len ? s->len - skip : len;

			if (n == max)
				return -1;
			iov[n].iov_base = s->hva + skip;
			iov[n].iov_len = take;
			n++;
			len -= take;
			from += take;
		}
		pos = seg_end;
	}
	return (int)n;
}

/* The last device-writable byte, or NULL. */
static uint8_t *status_byte(const struct vq_chain *c)
{
	const struct vq_seg *s;

	if (c->nsegs == c->nreadable)
		return NULL;
	s = &c->segs[c->nsegs - 1];
	return s->hva + s->len - 1;
}

static enum blk_req_kind done(struct blk_req *r, uint8_t status)
{
	r->status_val = status;
	if (r->status)
		*r->status = status;
	return BLK_REQ_DONE;
}

/* The largest IN data length whose used length (+ the status byte) is a u32. */
#define BLK_REQ_IN_MAX	(UINT32_MAX - 1ull)

static bool range_ok(const struct blk_disk_info *d, uint64_t sector, uint64_t nsectors)
{
	return sector <= d->sectors && nsectors <= d->sectors - sector;
}

static enum blk_req_kind parse_rw(const struct vq_chain *c, const struct blk_disk_info *d,
				  struct blk_req *r, struct iovec *iov, unsigned max_iov)
{
	bool in = r->type == VIRTIO_BLK_T_IN;
	uint64_t len = in ? c->writable_len - 1 : c->readable_len - BLK_REQ_HDR_LEN;
	int n;

	if (!in && d->readonly)
		return done(r, VIRTIO_BLK_S_IOERR);
	if (len == 0 || len % SECTOR || !range_ok(d, r->sector, len / SECTOR))
		return done(r, VIRTIO_BLK_S_IOERR);
	/*
	 * The used element's len (data + status byte) is a u32: a read of 4 GiB
	 * or more (segments may repeat the same guest pages) cannot be answered
	 * truthfully, so it is the guest's error.
	 */
	if (in && len > BLK_REQ_IN_MAX)
		return done(r, VIRTIO_BLK_S_IOERR);
	if (in)
		n = part_iov(c, c->nreadable, c->nsegs, 0, len, iov, max_iov);
	else
		n = part_iov(c, 0, c->nreadable, BLK_REQ_HDR_LEN, len, iov, max_iov);
	if (n <= 0)
		return done(r, VIRTIO_BLK_S_IOERR);
	r->iovcnt = (unsigned)n;
	r->offset = r->sector * SECTOR;
	r->len = len;
	if (in)
		r->written = (uint32_t)len + 1;
	return BLK_REQ_IO;
}

static enum blk_req_kind parse_get_id(const struct vq_chain *c, const struct blk_disk_info *d,
				      struct blk_req *r)
{
	uint8_t id[BLK_REQ_SERIAL_LEN] = { 0 };
	uint64_t len = c->writable_len - 1;

	if (len > BLK_REQ_SERIAL_LEN)
		len = BLK_REQ_SERIAL_LEN;
	if (d->serial)
		memcpy(id, d->serial, strnlen(d->serial, BLK_REQ_SERIAL_LEN));
	if (vq_chain_write(c, 0, id, (size_t)len))
		return done(r, VIRTIO_BLK_S_IOERR);
	r->written = (uint32_t)len + 1;
	return done(r, VIRTIO_BLK_S_OK);
}

/* One segment exactly (max_discard_seg = max_write_zeroes_seg = 1). */
static enum blk_req_kind parse_dwz(const struct vq_chain *c, const struct blk_disk_info *d,
				   struct blk_req *r)
{
	bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint8_t seg[BLK_REQ_DWZ_LEN];
	uint64_t sector;
	uint32_t nsec, flags, max = wz ? d->max_write_zeroes_sectors : d->max_discard_sectors;

	if (!(wz ? d->write_zeroes : d->discard))
		return done(r, VIRTIO_BLK_S_UNSUPP);
	if (d->readonly)
		return done(r, VIRTIO_BLK_S_IOERR);
	if (c->readable_len != BLK_REQ_HDR_LEN + BLK_REQ_DWZ_LEN ||
	    vq_chain_read(c, BLK_REQ_HDR_LEN, seg, sizeof(seg)))
		return done(r, VIRTIO_BLK_S_IOERR);
	sector = le_get(seg, 8);
	nsec = (uint32_t)le_get(seg + 8, 4);
	flags = (uint32_t)le_get(seg + 12, 4);
	/* Unknown flags, or unmap on a discard: unsupported (5.2.6.2). */
	if (flags & ~(uint32_t)(wz ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0))
		return done(r, VIRTIO_BLK_S_UNSUPP);
	if (nsec == 0 || nsec > max || !range_ok(d, sector, nsec))
		return done(r, VIRTIO_BLK_S_IOERR);
	r->offset = sector * SECTOR;
	r->len = (uint64_t)nsec * SECTOR;
	r->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	return BLK_REQ_IO;
}

enum blk_req_kind blk_req_parse(const struct vq_chain *c, const struct blk_disk_info *d,
				struct blk_req *r, struct iovec *iov, unsigned max_iov)
{
	uint8_t hdr[BLK_REQ_HDR_LEN];

	memset(r, 0, sizeof(*r));
	r->status = status_byte(c);
	r->written = 1;
	if (!r->status) {
		r->written = 0;
		r->type = UINT32_MAX;
		r->status_val = VIRTIO_BLK_S_IOERR;
		return BLK_REQ_NO_STATUS;
	}
	if (vq_chain_read(c, 0, hdr, sizeof(hdr)))
		return done(r, VIRTIO_BLK_S_IOERR);
	r->type = (uint32_t)le_get(hdr, 4);
	r->sector = le_get(hdr + 8, 8);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(c, d, r, iov, max_iov);
	case VIRTIO_BLK_T_FLUSH:
		return BLK_REQ_IO;
	case VIRTIO_BLK_T_GET_ID:
		return parse_get_id(c, d, r);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_dwz(c, d, r);
	}
	return done(r, VIRTIO_BLK_S_UNSUPP);
}

void blk_req_complete(struct blk_req *r, int64_t result)
{
	uint8_t st = result < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;

	if (result < 0 && r->type == VIRTIO_BLK_T_IN)
		r->written = 1;		/* nothing valid was read */
	else if (r->type == VIRTIO_BLK_T_IN && (uint64_t)result < r->len)
		r->written = (uint32_t)result + 1;	/* a short read: what arrived */
	r->status_val = st;
	if (r->status)
		*r->status = st;
}
