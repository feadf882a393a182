/* SPDX-License-Identifier: MIT */
/*
 * Save/load checks shared by the device state tests (header only; include
 * after <cmocka.h>). A device is seen through two callbacks on a void *:
 * state_check_round_trip() saves one device, loads the bytes into another,
 * saves that again and wants the same bytes, then tries every truncation
 * and one trailing byte, each refused with the device left as it was;
 * state_check_refused() patches the saved bytes and wants a refusal whose
 * reason contains a given text, the device again unchanged.
 */
#ifndef HUSK_STATE_TEST_HELPERS_H
#define HUSK_STATE_TEST_HELPERS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/statebuf.h"

struct state_ops {
	int (*save)(void *dev, struct state_writer *w);
	int (*load)(void *dev, struct state_reader *r);
};

/* Wrappers with the void * shape for a device NAME with NAME_save / NAME_load. */
#define STATE_OPS(name, type)								\
	static int name##_save_v(void *d, struct state_writer *w)			\
	{										\
		return name##_save((type *)d, w);					\
	}										\
	static int name##_load_v(void *d, struct state_reader *r)			\
	{										\
		return name##_load((type *)d, r);					\
	}										\
	static const struct state_ops name##_state_ops = { name##_save_v, name##_load_v }

/* The device's saved bytes now (the caller releases @w). */
static inline void state_snap(const struct state_ops *ops, void *dev, struct state_writer *w)
{
	sw_init(w);
	assert_int_equal(ops->save(dev, w), 0);
}

static inline void state_assert_same(const struct state_writer *a, const struct state_writer *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->buf, b->buf, a->len);
}

/* A load of @buf/@len that must fail and leave @dev as @before says. */
static inline void state_load_fails(const struct state_ops *ops, void *dev, const void *buf,
				    size_t len, const struct state_writer *before,
				    struct state_reader *r)
{
	struct state_writer after;

	sr_init(r, buf, len);
	assert_int_equal(ops->load(dev, r), -EINVAL);
	assert_int_equal(r->err, -EINVAL);
	assert_true(r->why[0] != '\0');
	state_snap(ops, dev, &after);
	state_assert_same(&after, before);
	sw_release(&after);
}

/*
 * Save @src into @saved (the caller releases it), load into @dst, save
 * @dst: byte-equal. Then every truncation and a trailing byte: refused,
 * @dst unchanged.
 */
static inline void state_check_round_trip(const struct state_ops *ops, void *src, void *dst,
					  struct state_writer *saved)
{
	struct state_writer again;
	struct state_reader r;
	uint8_t *longer;

	state_snap(ops, src, saved);
	sr_init(&r, saved->buf, saved->len);
	assert_int_equal(ops->load(dst, &r), 0);
	state_snap(ops, dst, &again);
	state_assert_same(saved, &again);
	for (size_t n = 0; n < saved->len; n++)
		state_load_fails(ops, dst, saved->buf, n, &again, &r);
	longer = calloc(1, saved->len + 1);
	assert_non_null(longer);
	if (saved->len)
		memcpy(longer, saved->buf, saved->len);
	state_load_fails(ops, dst, longer, saved->len + 1, &again, &r);
	assert_non_null(strstr(r.why, "left over"));
	free(longer);
	sw_release(&again);
}

/*
 * @saved with the @n-byte little-endian @value at @off: refused with a
 * reason containing @why, @dev unchanged.
 */
static inline void state_check_refused(const struct state_ops *ops, void *dev,
				       const struct state_writer *saved, size_t off, unsigned n,
				       uint64_t value, const char *why)
{
	struct state_writer before;
	struct state_reader r;
	uint8_t *bad = malloc(saved->len);

	assert_non_null(bad);
	assert_true(off + n <= saved->len);
	memcpy(bad, saved->buf, saved->len);
	le_put(bad + off, value, n);
	state_snap(ops, dev, &before);
	state_load_fails(ops, dev, bad, saved->len, &before, &r);
	if (!strstr(r.why, why))
		fail_msg("refused for \"%s\", wanted \"%s\"", r.why, why);
	sw_release(&before);
	free(bad);
}

#endif
