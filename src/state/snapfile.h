/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SNAPFILE_H
#define HUSK_SNAPFILE_H

/*
 * The snapshot state file: husk's own format (docs/snapshot.md). All
 * integers little-endian:
 *
 *   0   8  magic "HUSKSNAP"
 *   8   4  format version (SNAP_FORMAT_VERSION)
 *   12  4  flags (0; anything else is refused)
 *   16  8  file length: every byte, the checksum included
 *   24 16  the husk version that wrote it, ASCII, NUL-padded
 *   40  4  section count
 *   44     sections, back to back, each:
 *            u8 tag length (1..SNAP_TAG_MAX), tag ([a-z0-9_.-]),
 *            u32 section version, u64 payload length, payload
 *   L-4 4  CRC-32 (zlib's) of bytes 0 .. L-4
 *
 * The reader checks magic, version, length and checksum before anything
 * else, then frames the sections: duplicate tags, lengths past the end and
 * bytes after the last section are refused. Which tags must be present
 * (and that no other is) is the assembly's business (state/snapshot.c).
 * Guest RAM is not in this file: it goes to a separate memory file.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/statebuf.h"

#define SNAP_MAGIC		"HUSKSNAP"
#define SNAP_FORMAT_VERSION	1
#define SNAP_HEADER_LEN		44
#define SNAP_MIN_LEN		(SNAP_HEADER_LEN + 4)
#define SNAP_TAG_MAX		31
#define SNAP_MAX_SECTIONS	1024
#define SNAP_MAX_FILE		(64u << 20)	/* device state only: RAM is elsewhere */
#define SNAP_WHY_LEN		256

struct snap_section {
	char tag[SNAP_TAG_MAX + 1];
	uint32_t version;
	size_t off;		/* of the payload in the file */
	size_t len;
};

struct snap_file {
	uint8_t *buf;		/* the whole file (owned) */
	size_t len;
	char husk_version[17];
	unsigned nsections;
	struct snap_section *sections;
};

/* Building a file: sections appended in order, then written at once. */
struct snap_builder {
	struct state_writer w;
	uint32_t nsections;
	int err;		/* sticky: 0, -ENOMEM, -EINVAL (a bad tag) */
};

void snap_builder_init(struct snap_builder *b);
void snap_builder_release(struct snap_builder *b);
/* Appends a section; @tag must be a valid tag and not yet used (else b->err). */
void snap_builder_add(struct snap_builder *b, const char *tag, uint32_t version,
		      const void *payload, size_t len);
/* Finish (count, length, checksum) into a buffer the caller frees: 0 or -errno. */
int snap_builder_finish(struct snap_builder *b, uint8_t **out, size_t *outlen);

/*
 * Parse a whole file held in @buf (taken over: freed by snap_file_free()
 * also on failure). 0, or -EINVAL with one reason in @why.
 */
int snap_parse(uint8_t *buf, size_t len, struct snap_file *f, char *why, size_t whylen);
/* Read @path (at most SNAP_MAX_FILE bytes) and parse it; @err: "snapshot PATH: ...". */
int snap_read_file(const char *path, struct snap_file *f, char *err, size_t errlen);
void snap_file_free(struct snap_file *f);

const struct snap_section *snap_find(const struct snap_file *f, const char *tag);
/* A reader bounded to the section's payload. */
struct state_reader snap_section_reader(const struct snap_file *f, const struct snap_section *s);
/* [a-z0-9_.-], 1..SNAP_TAG_MAX characters. */
int snap_tag_valid(const char *tag);

/*
 * Write @len bytes to @path atomically: a temp file in the same directory,
 * fsync, rename, fsync of the directory. Never a half-written file at
 * @path; on failure no temp file is left. @sparse: all-zero 4 KiB blocks
 * are left as holes (guest RAM). @what names the file in @err.
 */
int snap_write_atomic(const char *path, const char *what, const void *buf, size_t len,
		      int sparse, char *err, size_t errlen);
/*
 * The same, but renamed only by snap_commit(): *tmp gets the temp path
 * (malloc'd). @only (with @sparse, else NULL): write just the 4 KiB pages
 * whose bit is set, zero ones too, and leave the rest as holes (a Diff
 * memory file); a file system that keeps no holes is -EOPNOTSUPP.
 */
int snap_write_temp(const char *path, const char *what, const void *buf, size_t len,
		    int sparse, const uint64_t *only, char **tmp, char *err, size_t errlen);
/* Rename @tmp over @path and fsync the directory; on failure @tmp is removed. */
int snap_commit(const char *tmp, const char *path, const char *what, char *err, size_t errlen);

#endif
