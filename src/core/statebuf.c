// SPDX-License-Identifier: MIT
/* The byte encoding of saved state: see statebuf.h. */
#include "core/statebuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_init(struct state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void sw_release(struct state_writer *w)
{
	free(w->buf);
	sw_init(w);
}

void sw_bytes(struct state_writer *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	if (n > SIZE_MAX / 2 - w->len) {
		w->err = -ENOMEM;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *nb;

		while (cap < w->len + n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void sw_le(struct state_writer *w, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sw_bytes(w, b, n);
}

void sw_u8(struct state_writer *w, uint8_t v) { sw_le(w, v, 1); }
void sw_u16(struct state_writer *w, uint16_t v) { sw_le(w, v, 2); }
void sw_u32(struct state_writer *w, uint32_t v) { sw_le(w, v, 4); }
void sw_u64(struct state_writer *w, uint64_t v) { sw_le(w, v, 8); }
void sw_bool(struct state_writer *w, bool v) { sw_le(w, v ? 1 : 0, 1); }

void sr_init(struct state_reader *r, const void *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = p ? len : 0;
}

int sr_fail(struct state_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->err) {
		r->err = -EINVAL;
		va_start(ap, fmt);
		vsnprintf(r->why, sizeof(r->why), fmt, ap);
		va_end(ap);
	}
	return r->err;
}

void sr_bytes(struct state_reader *r, void *out, size_t n)
{
	if (!r->err && n > r->len - r->off)
		sr_fail(r, "truncated: %zu bytes wanted at byte %zu of %zu", n, r->off, r->len);
	if (r->err) {
		if (n)
			memset(out, 0, n);
		return;
	}
	if (n)
		memcpy(out, r->p + r->off, n);
	r->off += n;
}

static uint64_t sr_le(struct state_reader *r, unsigned n)
{
	uint8_t b[8];
	uint64_t v = 0;

	sr_bytes(r, b, n);
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t sr_u8(struct state_reader *r) { return (uint8_t)sr_le(r, 1); }
uint16_t sr_u16(struct state_reader *r) { return (uint16_t)sr_le(r, 2); }
uint32_t sr_u32(struct state_reader *r) { return (uint32_t)sr_le(r, 4); }
uint64_t sr_u64(struct state_reader *r) { return sr_le(r, 8); }

bool sr_bool(struct state_reader *r)
{
	size_t at = r->off;
	uint8_t v = sr_u8(r);

	if (v > 1)
		sr_fail(r, "byte %zu: %u is not a boolean", at, v);
	return v == 1;
}

struct state_reader sr_sub(struct state_reader *r, size_t n)
{
	struct state_reader sub;

	if (!r->err && n > r->len - r->off)
		sr_fail(r, "truncated: a %zu-byte part at byte %zu of %zu", n, r->off, r->len);
	if (r->err) {
		sr_init(&sub, NULL, 0);
		sr_fail(&sub, "%s", r->why);
		return sub;
	}
	sr_init(&sub, r->p + r->off, n);
	r->off += n;
	return sub;
}

int sr_done(struct state_reader *r)
{
	if (!r->err && r->off != r->len)
		sr_fail(r, "%zu bytes left over after byte %zu", r->len - r->off, r->off);
	return r->err;
}
