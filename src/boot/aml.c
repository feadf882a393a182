// SPDX-License-Identifier: MIT
/*
 * The AML byte-code builder (see aml.h). Encodings follow ACPI 6.5
 * section 20.2: PkgLength (20.2.4), integers and strings (20.2.3), names
 * (20.2.2), named objects (20.2.5); resource descriptors follow 6.4.
 */
#include "boot/aml.h"
#include "core/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AML_NAMESEG_LEN		4
#define AML_MAX_SEGS		255
#define AML_MAX_LOCAL		7
#define AML_MAX_ARG		6
#define AML_MAX_METHOD_ARGS	7
#define AML_METHOD_SERIALIZED	0x08

/* Resource descriptor tags (small: type << 3 | length; large: 0x80 | type). */
#define RES_IRQ_NOFLAGS		0x22
#define RES_IO			0x47
#define RES_END			0x79
#define RES_MEM32_FIXED		0x86
#define RES_EXT_IRQ		0x89
#define RES_DWORD_SPACE		0x87
#define RES_WORD_SPACE		0x88
#define RES_QWORD_SPACE		0x8a
#define RES_IO_DECODE16		0x01
#define RES_EXT_IRQ_CONSUMER	0x01
#define RES_EXT_IRQ_EDGE	0x02
#define RES_EXT_IRQ_LOW		0x04
#define RES_EXT_IRQ_SHARED	0x08
/* Address space descriptors: resource type, general and type-specific flags. */
#define RES_SPACE_MEM		0
#define RES_SPACE_IO		1
#define RES_SPACE_BUS		2
#define RES_SPACE_MIN_FIXED	0x04
#define RES_SPACE_MAX_FIXED	0x08
#define RES_SPACE_MEM_RW	0x01
#define RES_SPACE_MEM_CACHEABLE	0x02
#define RES_SPACE_IO_ENTIRE	0x03
#define RES_SPACE_MAX_LEN	46	/* a QWord descriptor */

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

int aml_finish(struct aml *a)
{
	if (!a->err && a->depth)
		aml_fail(a, -EINVAL);
	return a->err;
}

static int aml_reserve(struct aml *a, size_t n)
{
	size_t cap = a->cap ? a->cap : 256;
	uint8_t *p;

	if (a->err)
		return a->err;
	if (n > AML_PKGLEN_MAX || a->len + n > AML_PKGLEN_MAX) {
		aml_fail(a, -E2BIG);
		return a->err;
	}
	if (a->len + n <= a->cap)
		return 0;
	while (cap < a->len + n)
		cap *= 2;
	p = realloc(a->buf, cap);
	if (!p) {
		aml_fail(a, -ENOMEM);
		return a->err;
	}
	a->buf = p;
	a->cap = cap;
	return 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (aml_reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	le_put(b, v, n);
	aml_bytes(a, b, n);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * EISA ID "PNP0501": three letters of five bits each (letter - 0x40), then
 * four hex digits, stored most significant byte first.
 */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(a, -EINVAL);
			return;
		}
		v = v << 5 | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0) {
			aml_fail(a, -EINVAL);
			return;
		}
		v = v << 4 | (uint32_t)d;
	}
	v = __builtin_bswap32(v);	/* stored most significant byte first */
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, v, 4);
}

static int nameseg_char_ok(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* Parses one segment of @p (up to '.' or the end) into @seg; returns its length or -1. */
static int parse_nameseg(const char *p, char seg[AML_NAMESEG_LEN])
{
	int n = 0;

	while (p[n] && p[n] != '.') {
		if (n == AML_NAMESEG_LEN || !nameseg_char_ok(p[n], n == 0))
			return -1;
		seg[n] = p[n];
		n++;
	}
	if (n == 0)
		return -1;
	for (int i = n; i < AML_NAMESEG_LEN; i++)
		seg[i] = '_';
	return n;
}

void aml_namestring(struct aml *a, const char *path)
{
	char segs[AML_MAX_SEGS][AML_NAMESEG_LEN];
	unsigned nsegs = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	}
	for (; *p == '^'; p++)
		aml_byte(a, AML_PARENT_PREFIX);
	while (*p) {
		int n = nsegs < AML_MAX_SEGS ? parse_nameseg(p, segs[nsegs]) : -1;

		if (n < 0 || (p[n] == '.' && !p[n + 1])) {
			aml_fail(a, -EINVAL);
			return;
		}
		nsegs++;
		p += n + (p[n] == '.');
	}
	if (nsegs == 0) {
		aml_byte(a, 0x00);		/* NullName */
		return;
	}
	if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2)
		aml_bytes(a, (uint8_t[]){ AML_MULTI_NAME_PREFIX, (uint8_t)nsegs }, 2);
	aml_bytes(a, segs, nsegs * AML_NAMESEG_LEN);
}

void aml_local(struct aml *a, unsigned n)
{
	if (n > AML_MAX_LOCAL)
		aml_fail(a, -EINVAL);
	else
		aml_byte(a, (uint8_t)(AML_LOCAL0 + n));
}

void aml_arg(struct aml *a, unsigned n)
{
	if (n > AML_MAX_ARG)
		aml_fail(a, -EINVAL);
	else
		aml_byte(a, (uint8_t)(AML_ARG0 + n));
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_namestring(a, name);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_string(struct aml *a, const char *name, const char *s)
{
	aml_name(a, name);
	aml_string(a, s);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisaid(a, id);
}

/*
 * A value in PkgLength form: one byte for values below 64, else a lead
 * byte (bits 7-6: count of following bytes, bits 3-0: the low nibble) and
 * 1-3 bytes holding the rest, least significant first.
 */
static size_t pkglen_raw(uint32_t v, uint8_t out[4])
{
	size_t extra;

	if (v < 0x40) {
		out[0] = (uint8_t)v;
		return 1;
	}
	if (v >= 1u << 28)
		return 0;
	extra = v < 1u << 12 ? 1 : v < 1u << 20 ? 2 : 3;
	out[0] = (uint8_t)(extra << 6 | (v & 0x0f));
	for (size_t i = 1; i <= extra; i++)
		out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
	return extra + 1;
}

size_t aml_pkglen_encode(size_t len, uint8_t out[4])
{
	for (size_t n = 1; n <= 4; n++) {
		if (len > AML_PKGLEN_MAX - n)
			return 0;
		if (pkglen_raw((uint32_t)(len + n), out) == n)
			return n;
	}
	return 0;
}

static void aml_open(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		aml_fail(a, -E2BIG);
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
	uint8_t enc[4];
	size_t start, body, n;

	if (a->err)
		return;
	if (a->depth == 0) {
		aml_fail(a, -EINVAL);
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start;
	n = aml_pkglen_encode(body, enc);
	if (n == 0) {
		aml_fail(a, -E2BIG);
		return;
	}
	if (aml_reserve(a, n))
		return;
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, enc, n);
	a->len += n;
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	aml_byte(a, AML_BUFFER);
	aml_open(a);
	aml_integer(a, n);
	aml_bytes(a, p, n);
	aml_end(a);
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE);
	aml_open(a);
	aml_namestring(a, path);
}

void aml_device_begin(struct aml *a, const char *name)
{
	aml_bytes(a, (uint8_t[]){ AML_EXT_PREFIX, AML_EXT_DEVICE }, 2);
	aml_open(a);
	aml_namestring(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned nargs, int serialized)
{
	if (nargs > AML_MAX_METHOD_ARGS)
		aml_fail(a, -EINVAL);
	aml_byte(a, AML_METHOD);
	aml_open(a);
	aml_namestring(a, name);
	aml_byte(a, (uint8_t)(nargs | (serialized ? AML_METHOD_SERIALIZED : 0)));
}

void aml_if_begin(struct aml *a)
{
	aml_byte(a, AML_IF);
	aml_open(a);
}

void aml_package_begin(struct aml *a, unsigned nelems)
{
	if (nelems > 0xff)
		aml_fail(a, -E2BIG);
	aml_byte(a, AML_PACKAGE);
	aml_open(a);
	aml_byte(a, (uint8_t)nelems);
}

void aml_field_begin(struct aml *a, const char *region, uint8_t flags)
{
	aml_bytes(a, (uint8_t[]){ AML_EXT_PREFIX, AML_EXT_FIELD }, 2);
	aml_open(a);
	aml_namestring(a, region);
	aml_byte(a, flags);
}

void aml_field_unit(struct aml *a, const char *name, uint32_t bits)
{
	char seg[AML_NAMESEG_LEN];
	uint8_t enc[4];
	size_t n;

	if (parse_nameseg(name, seg) < 0 || strchr(name, '.') || !(n = pkglen_raw(bits, enc))) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_bytes(a, seg, sizeof(seg));
	aml_bytes(a, enc, n);
}

void aml_opregion(struct aml *a, const char *name, uint8_t space, uint64_t offset, uint64_t len)
{
	aml_bytes(a, (uint8_t[]){ AML_EXT_PREFIX, AML_EXT_OPREGION }, 2);
	aml_namestring(a, name);
	aml_byte(a, space);
	aml_integer(a, offset);
	aml_integer(a, len);
}

/* Resource templates */

static void res_put(struct aml_res *r, const uint8_t *b, size_t n)
{
	if (r->err)
		return;
	if (r->len + n > sizeof(r->b) - 2) {	/* keep room for the end tag */
		r->err = -E2BIG;
		return;
	}
	memcpy(r->b + r->len, b, n);
	r->len += n;
}

void aml_res_io(struct aml_res *r, uint16_t base, uint8_t len)
{
	uint8_t d[8] = {
		RES_IO, RES_IO_DECODE16,
		(uint8_t)base, (uint8_t)(base >> 8),	/* minimum */
		(uint8_t)base, (uint8_t)(base >> 8),	/* maximum */
		1, len,					/* alignment, length */
	};

	res_put(r, d, sizeof(d));
}

void aml_res_irq(struct aml_res *r, unsigned irq)
{
	uint16_t mask = (uint16_t)(1u << irq);
	uint8_t d[3] = { RES_IRQ_NOFLAGS, (uint8_t)mask, (uint8_t)(mask >> 8) };

	if (irq > 15) {
		r->err = -EINVAL;
		return;
	}
	res_put(r, d, sizeof(d));
}

void aml_res_mem32(struct aml_res *r, uint32_t base, uint32_t len, int writable)
{
	uint8_t d[12] = { RES_MEM32_FIXED, 9, 0, writable ? 1 : 0 };

	le_put(d + 4, base, 4);
	le_put(d + 8, len, 4);
	res_put(r, d, sizeof(d));
}

void aml_res_ext_irq(struct aml_res *r, uint32_t gsi, unsigned flags)
{
	uint8_t d[9] = { RES_EXT_IRQ, 6, 0, RES_EXT_IRQ_CONSUMER, 1 };

	if (flags & AML_IRQ_EDGE)
		d[3] |= RES_EXT_IRQ_EDGE;
	if (flags & AML_IRQ_ACTIVE_LOW)
		d[3] |= RES_EXT_IRQ_LOW;
	if (flags & AML_IRQ_SHARED)
		d[3] |= RES_EXT_IRQ_SHARED;
	le_put(d + 5, gsi, 4);
	res_put(r, d, sizeof(d));
}

/*
 * Word (@width 2), DWord (4) or QWord (8) address space descriptor: tag,
 * length, resource type, general flags, type-specific flags, then
 * granularity, minimum, maximum, translation offset and length, each
 * @width bytes.
 */
static void res_space(struct aml_res *r, uint8_t tag, unsigned width, uint8_t type,
		      uint8_t tflags, uint64_t min, uint64_t max)
{
	uint64_t f[5] = { 0, min, max, 0, max - min + 1 };
	uint8_t d[RES_SPACE_MAX_LEN] = {
		tag, (uint8_t)(3 + 5 * width), 0, type,
		RES_SPACE_MIN_FIXED | RES_SPACE_MAX_FIXED, tflags,
	};
	uint8_t *p = d + 6;

	if (min > max) {
		r->err = -EINVAL;
		return;
	}
	for (unsigned i = 0; i < 5; i++)
		for (unsigned b = 0; b < width; b++)
			*p++ = (uint8_t)(f[i] >> (8 * b));
	res_put(r, d, (size_t)(p - d));
}

void aml_res_word_bus(struct aml_res *r, uint16_t min, uint16_t max)
{
	res_space(r, RES_WORD_SPACE, 2, RES_SPACE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml_res *r, uint16_t min, uint16_t max)
{
	res_space(r, RES_WORD_SPACE, 2, RES_SPACE_IO, RES_SPACE_IO_ENTIRE, min, max);
}

void aml_res_dword_mem(struct aml_res *r, uint32_t min, uint32_t max, int cacheable)
{
	res_space(r, RES_DWORD_SPACE, 4, RES_SPACE_MEM,
		  RES_SPACE_MEM_RW | (cacheable ? RES_SPACE_MEM_CACHEABLE : 0), min, max);
}

void aml_res_qword_mem(struct aml_res *r, uint64_t min, uint64_t max, int cacheable)
{
	res_space(r, RES_QWORD_SPACE, 8, RES_SPACE_MEM,
		  RES_SPACE_MEM_RW | (cacheable ? RES_SPACE_MEM_CACHEABLE : 0), min, max);
}

void aml_name_resources(struct aml *a, const char *name, struct aml_res *r)
{
	uint8_t end[2] = { RES_END, 0 };	/* checksum 0: "correct" */

	if (r->err) {
		aml_fail(a, r->err);
		return;
	}
	memcpy(r->b + r->len, end, sizeof(end));
	aml_name(a, name);
	aml_buffer(a, r->b, r->len + sizeof(end));
}
