// SPDX-License-Identifier: MIT
/* The snapshot state file: framing, checksum, atomic writes (snapfile.h). */
#include "state/snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* zlib's crc32 takes a uInt length: feed it in bounded pieces. */
static uint32_t snap_crc(const uint8_t *p, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)crc;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int snap_tag_valid(const char *tag)
{
	size_t n = strlen(tag);

	if (n < 1 || n > SNAP_TAG_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = tag[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

void snap_builder_init(struct snap_builder *b)
{
	uint8_t hdr[SNAP_HEADER_LEN] = { 0 };

	memset(b, 0, sizeof(*b));
	sw_init(&b->w);
	memcpy(hdr, SNAP_MAGIC, 8);
	put_le(hdr + 8, SNAP_FORMAT_VERSION, 4);
	strncpy((char *)hdr + 24, HUSK_VERSION, 16);
	sw_bytes(&b->w, hdr, sizeof(hdr));	/* length and count: at the finish */
}

void snap_builder_release(struct snap_builder *b)
{
	sw_release(&b->w);
	memset(b, 0, sizeof(*b));
}

/* The tags added so far, for the duplicate check (few sections: linear is fine). */
static int snap_builder_has(const struct snap_builder *b, const char *tag)
{
	size_t off = SNAP_HEADER_LEN, n = strlen(tag);

	for (uint32_t i = 0; i < b->nsections; i++) {
		uint8_t tl = b->w.buf[off];

		if (tl == n && !memcmp(b->w.buf + off + 1, tag, n))
			return 1;
		off += 1 + tl + 4;
		off += 8 + (size_t)get_le(b->w.buf + off, 8);
	}
	return 0;
}

void snap_builder_add(struct snap_builder *b, const char *tag, uint32_t version,
		      const void *payload, size_t len)
{
	if (b->err || (b->err = b->w.err))
		return;
	if (!snap_tag_valid(tag) || snap_builder_has(b, tag) || b->nsections == SNAP_MAX_SECTIONS) {
		b->err = -EINVAL;
		return;
	}
	sw_u8(&b->w, (uint8_t)strlen(tag));
	sw_bytes(&b->w, tag, strlen(tag));
	sw_u32(&b->w, version);
	sw_u64(&b->w, len);
	sw_bytes(&b->w, payload, len);
	b->err = b->w.err;
	if (!b->err)
		b->nsections++;
}

int snap_builder_finish(struct snap_builder *b, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (!b->err)
		sw_u32(&b->w, 0);	/* room for the checksum */
	if (b->err || (b->err = b->w.err))
		return b->err;
	if (b->w.len > SNAP_MAX_FILE)
		return -EFBIG;
	put_le(b->w.buf + 16, b->w.len, 8);
	put_le(b->w.buf + 40, b->nsections, 4);
	put_le(b->w.buf + b->w.len - 4, snap_crc(b->w.buf, b->w.len - 4), 4);
	*out = b->w.buf;
	*outlen = b->w.len;
	sw_init(&b->w);		/* the buffer is the caller's now */
	return 0;
}

static int why_fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Magic, version, length, checksum, flags: before a single section is looked at. */
static int snap_check_header(const uint8_t *buf, size_t len, char *why, size_t whylen)
{
	uint64_t flen;
	uint32_t v;

	if (len < SNAP_MIN_LEN)
		return why_fail(why, whylen, "truncated: %zu bytes, a snapshot has at least %u",
				len, SNAP_MIN_LEN);
	if (memcmp(buf, SNAP_MAGIC, 8))
		return why_fail(why, whylen, "not a husk snapshot (bad magic)");
	v = (uint32_t)get_le(buf + 8, 4);
	if (v != SNAP_FORMAT_VERSION)
		return why_fail(why, whylen, "format version %u, this husk reads version %u",
				v, SNAP_FORMAT_VERSION);
	flen = get_le(buf + 16, 8);
	if (flen > len)
		return why_fail(why, whylen, "truncated: %zu of the %llu bytes it should have",
				len, (unsigned long long)flen);
	if (flen < len)
		return why_fail(why, whylen, "%llu bytes of trailing garbage after byte %llu",
				(unsigned long long)(len - flen), (unsigned long long)flen);
	if (get_le(buf + len - 4, 4) != snap_crc(buf, len - 4))
		return why_fail(why, whylen, "checksum mismatch (the file is corrupt)");
	if (get_le(buf + 12, 4))
		return why_fail(why, whylen, "unknown flags 0x%x",
				(unsigned)get_le(buf + 12, 4));
	return 0;
}

/* One section's frame at r's position; the caller checks duplicates. */
static int snap_parse_section(struct state_reader *r, unsigned i, struct snap_section *s,
			      char *why, size_t whylen)
{
	size_t at = r->off;
	uint8_t tl = sr_u8(r);
	uint64_t len;

	if (r->err)
		return why_fail(why, whylen, "section %u: truncated at byte %zu", i, at);
	if (tl < 1 || tl > SNAP_TAG_MAX)
		return why_fail(why, whylen, "section %u at byte %zu: tag length %u (1..%u)", i,
				at, tl, SNAP_TAG_MAX);
	sr_bytes(r, s->tag, tl);
	s->tag[tl] = '\0';
	if (r->err)
		return why_fail(why, whylen, "section %u: truncated at byte %zu", i, at);
	if (strlen(s->tag) != tl || !snap_tag_valid(s->tag))
		return why_fail(why, whylen, "section %u at byte %zu: the tag is not [a-z0-9_.-]",
				i, at);
	s->version = sr_u32(r);
	len = sr_u64(r);
	if (r->err)
		return why_fail(why, whylen, "section \"%s\": truncated at byte %zu", s->tag, at);
	if (len > r->len - r->off)
		return why_fail(why, whylen,
				"section \"%s\": %llu bytes at byte %zu, only %zu are left",
				s->tag, (unsigned long long)len, r->off, r->len - r->off);
	s->off = r->off;
	s->len = (size_t)len;
	r->off += s->len;
	return 0;
}

int snap_parse(uint8_t *buf, size_t len, struct snap_file *f, char *why, size_t whylen)
{
	struct state_reader r;
	uint32_t n;
	int ret;

	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->len = len;
	ret = snap_check_header(buf, len, why, whylen);
	if (ret)
		return ret;
	memcpy(f->husk_version, buf + 24, 16);
	f->husk_version[16] = '\0';
	n = (uint32_t)get_le(buf + 40, 4);
	if (n > SNAP_MAX_SECTIONS)
		return why_fail(why, whylen, "%u sections, at most %u", n, SNAP_MAX_SECTIONS);
	f->sections = calloc(n ? n : 1, sizeof(*f->sections));
	if (!f->sections) {
		why_fail(why, whylen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	sr_init(&r, buf, len - 4);
	r.off = SNAP_HEADER_LEN;
	for (uint32_t i = 0; i < n; i++) {
		struct snap_section *s = &f->sections[i];

		ret = snap_parse_section(&r, i, s, why, whylen);
		if (ret)
			return ret;
		if (snap_find(f, s->tag))
			return why_fail(why, whylen, "section \"%s\" appears twice", s->tag);
		f->nsections++;
	}
	if (r.off != r.len)
		return why_fail(why, whylen, "%zu bytes of garbage after the last section, at byte %zu",
				r.len - r.off, r.off);
	return 0;
}

int snap_read_file(const char *path, struct snap_file *f, char *err, size_t errlen)
{
	char why[SNAP_WHY_LEN];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, ret;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "snapshot %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > SNAP_MAX_FILE) {
		snprintf(err, errlen, "snapshot %s: %lld bytes, a state file has at most %u",
			 path, (long long)st.st_size, SNAP_MAX_FILE);
		close(fd);
		return -EFBIG;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(ENOMEM));
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "snapshot %s: reading: %s", path,
				 n < 0 ? strerror(-ret) : "the file shrank");
			free(buf);
			close(fd);
			return ret;
		}
		got += (size_t)n;
	}
	close(fd);
	ret = snap_parse(buf, got, f, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "snapshot %s: %s", path, why);
		snap_file_free(f);
	}
	return ret;
}

void snap_file_free(struct snap_file *f)
{
	free(f->buf);
	free(f->sections);
	memset(f, 0, sizeof(*f));
}

const struct snap_section *snap_find(const struct snap_file *f, const char *tag)
{
	for (unsigned i = 0; i < f->nsections; i++)
		if (!strcmp(f->sections[i].tag, tag))
			return &f->sections[i];
	return NULL;
}

struct state_reader snap_section_reader(const struct snap_file *f, const struct snap_section *s)
{
	struct state_reader r;

	sr_init(&r, f->buf + s->off, s->len);
	return r;
}

static bool page_set(const uint64_t *only, size_t pg)
{
	return only[pg / 64] & (1ull << (pg % 64));
}

/*
 * Write @len bytes at @p to @fd. @sparse: all-zero 4 KiB blocks are left as
 * holes. @only (with @sparse): just the pages whose bit is set, each written
 * even when zero (a Diff: a hole means "not changed"), runs of them at once.
 */
static int write_all(int fd, const uint8_t *p, size_t len, int sparse, const uint64_t *only)
{
	const size_t blk = 4096;
	static const uint8_t zero[4096];

	if (sparse && ftruncate(fd, (off_t)len) < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < blk ? len - off : blk;
		ssize_t w;

		if (only) {
			if (!page_set(only, off / blk)) {
				off += n;
				continue;
			}
			while (off + n < len && page_set(only, (off + n) / blk))
				n += len - off - n < blk ? len - off - n : blk;
		} else if (sparse && !memcmp(p + off, zero, n)) {
			off += n;
			continue;
		}
		w = pwrite(fd, p + off, sparse ? n : len - off, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (size_t)w;
	}
	return 0;
}

/* A Diff needs holes where pages did not change: does this file system keep them? */
static int check_holes(int fd, size_t len, const uint64_t *only)
{
	for (size_t pg = 0; pg * 4096 < len; pg++) {
		off_t at;

		if (page_set(only, pg))
			continue;
		at = lseek(fd, (off_t)(pg * 4096), SEEK_HOLE);
		return at == (off_t)(pg * 4096) ? 0 : -EOPNOTSUPP;
	}
	return 0;	/* every page changed: no hole needed */
}

int snap_write_temp(const char *path, const char *what, const void *buf, size_t len,
		    int sparse, const uint64_t *only, char **tmp, char *err, size_t errlen)
{
	size_t n = strlen(path) + 16;
	char *t = malloc(n);
	int fd, ret;

	*tmp = NULL;
	if (!t) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(ENOMEM));
		return -ENOMEM;
	}
	snprintf(t, n, "%s.tmp.XXXXXX", path);
	fd = mkostemp(t, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-ret));
		free(t);
		return ret;
	}
	ret = write_all(fd, buf, len, sparse, only);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (!ret && only && check_holes(fd, len, only)) {
		ret = -EOPNOTSUPP;
		snprintf(err, errlen, "%s %s: its file system keeps no holes, which a Diff's "
			 "unchanged pages are (use tmpfs, ext4 or xfs)", what, path);
	} else if (ret) {
		snprintf(err, errlen, "%s %s: writing: %s", what, path, strerror(-ret));
	}
	if (close(fd) < 0 && !ret) {
		ret = -errno;
		snprintf(err, errlen, "%s %s: writing: %s", what, path, strerror(-ret));
	}
	if (ret) {
		unlink(t);
		free(t);
		return ret;
	}
	*tmp = t;
	return 0;
}

int snap_commit(const char *tmp, const char *path, const char *what, char *err, size_t errlen)
{
	char *dir = strdup(path);
	int ret = 0, dfd;

	if (rename(tmp, path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-ret));
		unlink(tmp);
		free(dir);
		return ret;
	}
	/* the rename itself must survive a crash */
	dfd = dir ? open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
}

int snap_write_atomic(const char *path, const char *what, const void *buf, size_t len,
		      int sparse, char *err, size_t errlen)
{
	char *tmp;
	int ret = snap_write_temp(path, what, buf, len, sparse, NULL, &tmp, err, errlen);

	if (!ret)
		ret = snap_commit(tmp, path, what, err, errlen);
	free(tmp);
	return ret;
}
