// SPDX-License-Identifier: MIT
/* The AML builder: encodings checked byte for byte against ACPI 6.5 ch. 20. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boot/aml.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void assert_aml(struct aml *a, const uint8_t *want, size_t n)
{
	assert_int_equal(aml_finish(a), 0);
	assert_int_equal(a->len, n);
	assert_memory_equal(a->buf, want, n);
}

/* Decodes a PkgLength; returns the value and sets *n to its size. */
static uint32_t pkglen_decode(const uint8_t *p, size_t *n)
{
	size_t follow = p[0] >> 6;
	uint32_t v;

	*n = follow + 1;
	if (!follow)
		return p[0] & 0x3f;
	assert_int_equal(p[0] & 0x30, 0);	/* bits 5:4 are zero in the long forms */
	v = p[0] & 0x0f;
	for (size_t i = 1; i <= follow; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static void check_pkglen(size_t body, size_t want_n, const uint8_t *want)
{
	uint8_t enc[4];
	size_t n = aml_pkglen_encode(body, enc), dn;

	assert_int_equal(n, want_n);
	assert_memory_equal(enc, want, n);
	assert_int_equal(pkglen_decode(enc, &dn), body + n);
	assert_int_equal(dn, n);
}

static void test_pkglen_boundaries(void **state)
{
	uint8_t enc[4];

	(void)state;
	check_pkglen(0, 1, (uint8_t[]){ 0x01 });
	check_pkglen(62, 1, (uint8_t[]){ 63 });			/* total 63: one byte */
	check_pkglen(63, 2, (uint8_t[]){ 0x41, 0x04 });		/* total 64 needs two: 65 */
	check_pkglen(4093, 2, (uint8_t[]){ 0x4f, 0xff });	/* total 4095 */
	check_pkglen(4094, 3, (uint8_t[]){ 0x81, 0x00, 0x01 });	/* 4096 needs three: 4097 */
	check_pkglen((1u << 20) - 4, 3, (uint8_t[]){ 0x8f, 0xff, 0xff });
	check_pkglen((1u << 20) - 3, 4, (uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 });
	check_pkglen((1u << 28) - 5, 4, (uint8_t[]){ 0xcf, 0xff, 0xff, 0xff });
	assert_int_equal(aml_pkglen_encode((1u << 28) - 4, enc), 0);
	assert_int_equal(aml_pkglen_encode(SIZE_MAX, enc), 0);
	/* every length round-trips, with the shortest encoding */
	for (size_t body = 0; body < 70000; body++) {
		size_t n = aml_pkglen_encode(body, enc), dn;

		assert_int_equal(pkglen_decode(enc, &dn), body + n);
		assert_int_equal(n, body + 1 < 64 ? 1 : body + 2 < 4096 ? 2 : 3);
	}
}

/* aml_end() inserts the PkgLength in front of the body, whatever its size. */
static void test_pkglen_inserted(void **state)
{
	static const size_t sizes[] = { 0, 58, 59, 60, 4000, 4091, 4092, 5000 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct aml a;
		size_t n, body = 4 + sizes[i];	/* "ABCD" + bytes */
		uint32_t v;

		aml_init(&a);
		aml_scope_begin(&a, "ABCD");
		for (size_t j = 0; j < sizes[i]; j++)
			aml_byte(&a, (uint8_t)j);
		aml_end(&a);
		assert_int_equal(aml_finish(&a), 0);
		assert_int_equal(a.buf[0], AML_SCOPE);
		v = pkglen_decode(a.buf + 1, &n);
		assert_int_equal(v, body + n);
		assert_int_equal(a.len, 1 + n + body);
		assert_memory_equal(a.buf + 1 + n, "ABCD", 4);
		for (size_t j = 0; j < sizes[i]; j++)
			assert_int_equal(a.buf[1 + n + 4 + j], (uint8_t)j);
		aml_free(&a);
	}
}

static void check_integer(uint64_t v, const uint8_t *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_integer(&a, v);
	assert_aml(&a, want, n);
	aml_free(&a);
}

static void test_integers(void **state)
{
	(void)state;
	check_integer(0, BYTES(AML_ZERO));
	check_integer(1, BYTES(AML_ONE));
	check_integer(2, BYTES(0x0a, 0x02));
	check_integer(0xff, BYTES(0x0a, 0xff));
	check_integer(0x100, BYTES(0x0b, 0x00, 0x01));
	check_integer(0xffff, BYTES(0x0b, 0xff, 0xff));
	check_integer(0x10000, BYTES(0x0c, 0x00, 0x00, 0x01, 0x00));
	check_integer(0xfee00000, BYTES(0x0c, 0x00, 0x00, 0xe0, 0xfe));
	check_integer(0x100000000ull, BYTES(0x0e, 0, 0, 0, 0, 1, 0, 0, 0));
	check_integer(UINT64_MAX, BYTES(0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
}

static void check_name(const char *path, const uint8_t *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_namestring(&a, path);
	assert_aml(&a, want, n);
	aml_free(&a);
}

static void check_bad_name(const char *path)
{
	struct aml a;

	aml_init(&a);
	aml_namestring(&a, path);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

static void test_names(void **state)
{
	(void)state;
	check_name("_HID", BYTES('_', 'H', 'I', 'D'));
	check_name("RTC", BYTES('R', 'T', 'C', '_'));
	check_name("\\_SB.PWRB", BYTES(0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B'));
	check_name("\\_SB.PCI0.ISA", BYTES(0x5c, 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
					   'I', 'S', 'A', '_'));
	check_name("^^PWRB", BYTES(0x5e, 0x5e, 'P', 'W', 'R', 'B'));
	check_name("\\", BYTES(0x5c, 0x00));
	check_name("", BYTES(0x00));
	check_bad_name("pwrb");
	check_bad_name("TOOLONG");
	check_bad_name("1ABC");
	check_bad_name("A..B");
	check_bad_name("A.");
	check_bad_name(".A");
	check_bad_name("A-B");
}

static void check_eisaid(const char *id, const uint8_t *want, size_t n)
{
	struct aml a;

	aml_init(&a);
	aml_eisaid(&a, id);
	if (!want) {
		assert_int_equal(aml_finish(&a), -EINVAL);
	} else {
		assert_aml(&a, want, n);
	}
	aml_free(&a);
}

static void test_eisaid_and_strings(void **state)
{
	struct aml a;

	(void)state;
	check_eisaid("PNP0501", BYTES(0x0c, 0x41, 0xd0, 0x05, 0x01));	/* 0x0105d041 */
	check_eisaid("PNP0C0C", BYTES(0x0c, 0x41, 0xd0, 0x0c, 0x0c));
	check_eisaid("PNP0B00", BYTES(0x0c, 0x41, 0xd0, 0x0b, 0x00));
	check_eisaid("ACP0007", BYTES(0x0c, 0x04, 0x70, 0x00, 0x07));
	check_eisaid("pnp0501", NULL, 0);
	check_eisaid("PNP050", NULL, 0);
	check_eisaid("PNP05011", NULL, 0);
	check_eisaid("PNP05G1", NULL, 0);
	aml_init(&a);
	aml_name_string(&a, "_HID", "ACPI0013");
	assert_aml(&a, BYTES(0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1',
			     '3', 0x00));
	aml_free(&a);
}

static void test_named_objects(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_name(&a, "_S5");
	aml_package_begin(&a, 2);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_end(&a);
	assert_aml(&a, BYTES(0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00));
	aml_free(&a);

	aml_init(&a);
	aml_method_begin(&a, "_EVT", 1, 1);
	aml_byte(&a, AML_STORE);
	aml_arg(&a, 0);
	aml_local(&a, 7);
	aml_end(&a);
	assert_aml(&a, BYTES(0x14, 0x09, '_', 'E', 'V', 'T', 0x09, 0x70, 0x68, 0x67));
	aml_free(&a);

	aml_init(&a);
	aml_device_begin(&a, "GED");
	aml_opregion(&a, "GDRG", AML_SPACE_SYSTEM_IO, 0x608, 1);
	aml_field_begin(&a, "GDRG", AML_FIELD_BYTE_ACC);
	aml_field_unit(&a, "GDAT", 8);
	aml_field_unit(&a, "WIDE", 100);
	aml_end(&a);
	aml_end(&a);
	assert_aml(&a, BYTES(0x5b, 0x82, 0x23, 'G', 'E', 'D', '_',
			     0x5b, 0x80, 'G', 'D', 'R', 'G', 0x01, 0x0b, 0x08, 0x06, 0x01,
			     0x5b, 0x81, 0x11, 'G', 'D', 'R', 'G', 0x01,
			     'G', 'D', 'A', 'T', 0x08, 'W', 'I', 'D', 'E', 0x44, 0x06));
	aml_free(&a);
}

static void test_resources(void **state)
{
	struct aml_res r = { .len = 0 };
	struct aml a;

	(void)state;
	aml_res_io(&r, 0x3f8, 8);
	aml_res_irq(&r, 4);
	aml_res_ext_irq(&r, 9, 0);
	aml_res_ext_irq(&r, 0x12345, AML_IRQ_EDGE | AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED);
	aml_res_mem32(&r, 0xfed00000, 0x1000, 1);
	aml_init(&a);
	aml_name_resources(&a, "_CRS", &r);
	assert_aml(&a, BYTES(0x08, '_', 'C', 'R', 'S', 0x11, 0x2e, 0x0a, 0x2b,
			     0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
			     0x22, 0x10, 0x00,
			     0x89, 0x06, 0x00, 0x01, 0x01, 0x09, 0x00, 0x00, 0x00,
			     0x89, 0x06, 0x00, 0x0f, 0x01, 0x45, 0x23, 0x01, 0x00,
			     0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0, 0xfe, 0x00, 0x10, 0x00, 0x00,
			     0x79, 0x00));
	aml_free(&a);

	/* an ISA IRQ above 15 cannot be an IRQ descriptor */
	r = (struct aml_res){ .len = 0 };
	aml_res_irq(&r, 16);
	aml_init(&a);
	aml_name_resources(&a, "_CRS", &r);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	/* a template that overflows fails instead of writing past the end */
	r = (struct aml_res){ .len = 0 };
	for (int i = 0; i < 100; i++)
		aml_res_io(&r, 0x100, 1);
	assert_int_equal(r.err, -E2BIG);
	assert_true(r.len <= AML_RES_MAX - 2);
}

/* The bridge window descriptors, byte for byte as iasl assembles them. */
static void test_address_spaces(void **state)
{
	struct aml_res r = { .len = 0 };
	struct aml a;

	(void)state;
	/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xff, 0, 0x100) */
	aml_res_word_bus(&r, 0, 0xff);
	/* WordIO (..., EntireRange, 0, 0xc000, 0xffff, 0, 0x4000) */
	aml_res_word_io(&r, 0xc000, 0xffff);
	/* DWordMemory (..., NonCacheable, ReadWrite, 0, 0xc0000000, 0xdfffffff, 0, 0x20000000) */
	aml_res_dword_mem(&r, 0xc0000000, 0xdfffffff, 0);
	/* QWordMemory (..., Cacheable, ReadWrite, 0, 0x1000000000, 0x1fffffffff, 0, 0x1000000000) */
	aml_res_qword_mem(&r, 0x1000000000ULL, 0x1fffffffffULL, 1);
	aml_init(&a);
	aml_name_resources(&a, "_CRS", &r);
	assert_aml(&a, BYTES(0x08, '_', 'C', 'R', 'S', 0x11, 0x4e, 0x06, 0x0a, 0x6a,
			     0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
			     0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
			     0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
			     0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0x00, 0x00, 0x00, 0x40,
			     0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
			     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
			     0xff, 0xff, 0xff, 0xdf, 0x00, 0x00, 0x00, 0x00,
			     0x00, 0x00, 0x00, 0x20,
			     0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
			     0, 0, 0, 0, 0, 0, 0, 0,
			     0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
			     0xff, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x00, 0x00,
			     0, 0, 0, 0, 0, 0, 0, 0,
			     0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
			     0x79, 0x00));
	aml_free(&a);

	/* an empty range is refused */
	r = (struct aml_res){ .len = 0 };
	aml_res_word_bus(&r, 1, 0);
	assert_int_equal(r.err, -EINVAL);
}

static void test_errors_are_sticky(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a);
	aml_end(&a);				/* nothing open */
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_integer(&a, 5);			/* ignored after an error */
	assert_int_equal(a.len, 0);
	aml_free(&a);

	aml_init(&a);
	aml_scope_begin(&a, "\\_SB");
	assert_int_equal(aml_finish(&a), -EINVAL);	/* still open */
	aml_free(&a);

	aml_init(&a);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_if_begin(&a);
	assert_int_equal(aml_finish(&a), -E2BIG);
	aml_free(&a);

	aml_init(&a);
	aml_local(&a, 8);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_arg(&a, 7);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_method_begin(&a, "M000", 8, 0);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_string(&a, "caf\xc3\xa9");		/* AML strings are ASCII */
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglen_boundaries),
		cmocka_unit_test(test_pkglen_inserted),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_eisaid_and_strings),
		cmocka_unit_test(test_named_objects),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_address_spaces),
		cmocka_unit_test(test_errors_are_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
