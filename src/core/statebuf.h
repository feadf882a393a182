/* SPDX-License-Identifier: MIT */
#ifndef HUSK_STATEBUF_H
#define HUSK_STATEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The byte encoding of saved state (snapshots, migration streams): every
 * field written explicitly, little-endian, never a struct's raw memory, so
 * the encoding does not depend on padding or the compiler, and every field
 * is checked again on load.
 *
 * Every device that has guest-visible state provides, beside its state
 * struct:
 *   int NAME_save(struct NAME *d, struct state_writer *w);   (may take the device lock)
 *   int NAME_load(struct NAME *d, struct state_reader *r);
 * NAME_save appends the payload of the device's section (its version is
 * NAME_STATE_VERSION, framed by src/state/); NAME_load reads exactly that
 * payload from a reader bounded to the section, validates every value
 * (a saved file is hostile input) and changes the device only when all of
 * it is valid: on error it returns -EINVAL with the reason in r->why and
 * leaves the device as it was.
 *
 * Errors are sticky: after the first failure every put or get is a no-op
 * (gets return 0), so a save or load can run to its end and check once.
 */
struct state_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;		/* 0 or -ENOMEM */
};

void sw_init(struct state_writer *w);
void sw_release(struct state_writer *w);
void sw_bytes(struct state_writer *w, const void *p, size_t n);
void sw_u8(struct state_writer *w, uint8_t v);
void sw_u16(struct state_writer *w, uint16_t v);
void sw_u32(struct state_writer *w, uint32_t v);
void sw_u64(struct state_writer *w, uint64_t v);
void sw_bool(struct state_writer *w, bool v);

#define STATE_WHY_LEN 128

struct state_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;		/* 0 or -EINVAL */
	char why[STATE_WHY_LEN];	/* the first failure, e.g. "truncated at byte 12" */
};

void sr_init(struct state_reader *r, const void *p, size_t len);
/* Copies n bytes; past the end: zero-fills @out and fails ("truncated"). */
void sr_bytes(struct state_reader *r, void *out, size_t n);
uint8_t sr_u8(struct state_reader *r);
uint16_t sr_u16(struct state_reader *r);
uint32_t sr_u32(struct state_reader *r);
uint64_t sr_u64(struct state_reader *r);
/* 0 or 1; anything else fails. */
bool sr_bool(struct state_reader *r);
/* Fails the reader with a reason (kept only if it is the first failure). */
int sr_fail(struct state_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A bounded sub-reader over the next n bytes (fails @r when fewer are left). */
struct state_reader sr_sub(struct state_reader *r, size_t n);
/* r->err, or a failure when bytes are left over. */
int sr_done(struct state_reader *r);

#endif
