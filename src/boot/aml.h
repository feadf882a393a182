/* SPDX-License-Identifier: MIT */
#ifndef HUSK_BOOT_AML_H
#define HUSK_BOOT_AML_H

/*
 * A small ACPI Machine Language (AML) byte-code builder (ACPI 6.5 chapter
 * 20, "ACPI Machine Language Specification"). husk emits its DSDT with it
 * instead of compiling ASL with iasl: nothing is needed at build time, and
 * the tables can depend on the VM (CPU count, devices present).
 *
 * Bytes are appended to a growing buffer. Objects that carry a PkgLength
 * (Scope, Device, Method, If, Package, Field) are opened with *_begin() and
 * closed with aml_end(); the PkgLength is inserted when the object is
 * closed and its size is known. Errors are sticky: the first one (-ENOMEM,
 * -EINVAL for a bad name, -E2BIG, unbalanced begin/end) is kept in a->err
 * and later calls do nothing, so a caller checks once, in aml_finish().
 *
 * Names are ASL-style paths: "\\_SB.COM1", "^PWRB", "_HID", "GED"; a
 * segment shorter than four characters is padded with '_'.
 */
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH		16
#define AML_PKGLEN_MAX		0x0fffffffu	/* 28 bits */

/* Opcodes (a two-byte ExtOp is AML_EXT_PREFIX, then the second byte). */
#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_METHOD		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_PREFIX		0x5b
#define AML_ROOT_CHAR		0x5c
#define AML_PARENT_PREFIX	0x5e
#define AML_LOCAL0		0x60
#define AML_ARG0		0x68
#define AML_STORE		0x70
#define AML_AND			0x7b
#define AML_NOTIFY		0x86
#define AML_LEQUAL		0x93
#define AML_IF			0xa0
#define AML_RETURN		0xa4
#define AML_ONES		0xff
#define AML_EXT_OPREGION	0x80
#define AML_EXT_FIELD		0x81
#define AML_EXT_DEVICE		0x82

/* OperationRegion spaces and Field flags. */
#define AML_SPACE_SYSTEM_MEMORY	0x00
#define AML_SPACE_SYSTEM_IO	0x01
#define AML_FIELD_BYTE_ACC	0x01
#define AML_FIELD_NO_LOCK	0x00
#define AML_FIELD_PRESERVE	0x00

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;			/* first error, 0 while all is well */
	unsigned depth;
	size_t open[AML_MAX_DEPTH];	/* where each open object's body starts */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
/* Returns a->err, or -EINVAL if an object is still open. */
int aml_finish(struct aml *a);

/* Raw bytes and terms. */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_integer(struct aml *a, uint64_t v);	/* Zero/One/Byte/Word/DWord/QWord */
void aml_string(struct aml *a, const char *s);	/* ASCII, NUL-terminated */
void aml_eisaid(struct aml *a, const char *id);	/* "PNP0501" as a DWord */
void aml_namestring(struct aml *a, const char *path);
void aml_local(struct aml *a, unsigned n);	/* Local0..Local7 */
void aml_arg(struct aml *a, unsigned n);	/* Arg0..Arg6 */

/* Name (NAME, ...): the data object follows (aml_integer, aml_string, ...). */
void aml_name(struct aml *a, const char *name);
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
void aml_name_string(struct aml *a, const char *name, const char *s);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);

/* Buffer (n) { bytes } (a complete object: its size is known). */
void aml_buffer(struct aml *a, const void *p, size_t n);

/* Objects closed by aml_end(). */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *name);
void aml_method_begin(struct aml *a, const char *name, unsigned nargs, int serialized);
void aml_if_begin(struct aml *a);		/* the predicate comes first */
void aml_package_begin(struct aml *a, unsigned nelems);
void aml_field_begin(struct aml *a, const char *region, uint8_t flags);
void aml_end(struct aml *a);

/* Inside a Field: a named field of @bits bits. */
void aml_field_unit(struct aml *a, const char *name, uint32_t bits);
/* OperationRegion (NAME, space, offset, len). */
void aml_opregion(struct aml *a, const char *name, uint8_t space, uint64_t offset, uint64_t len);

/*
 * PkgLength encoding of @len bytes of content (the encoding's own bytes are
 * counted in the value, as the spec requires): writes 1-4 bytes into @out
 * and returns how many, or 0 if it cannot be encoded (over 2^28 - 1).
 */
size_t aml_pkglen_encode(size_t len, uint8_t out[4]);

/* Resource templates (ACPI 6.5 section 6.4), for _CRS and friends. */
#define AML_RES_MAX		256

struct aml_res {
	uint8_t b[AML_RES_MAX];
	size_t len;
	int err;
};

#define AML_IRQ_EDGE		0x01	/* ExtendedInterrupt flags */
#define AML_IRQ_ACTIVE_LOW	0x02
#define AML_IRQ_SHARED		0x04

void aml_res_io(struct aml_res *r, uint16_t base, uint8_t len);	/* IO (Decode16) */
void aml_res_irq(struct aml_res *r, unsigned irq);	/* IRQNoFlags: ISA edge high */
void aml_res_mem32(struct aml_res *r, uint32_t base, uint32_t len, int writable);
void aml_res_ext_irq(struct aml_res *r, uint32_t gsi, unsigned flags);
/*
 * Address space descriptors (6.4.3.5) for [@min, @max], as a bridge's
 * windows are described: ResourceProducer, PosDecode, MinFixed, MaxFixed,
 * granularity and translation 0. WordBusNumber, WordIO (EntireRange),
 * DWordMemory and QWordMemory (ReadWrite; @cacheable: Cacheable, else
 * NonCacheable). @min > @max fails with -EINVAL.
 */
void aml_res_word_bus(struct aml_res *r, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml_res *r, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml_res *r, uint32_t min, uint32_t max, int cacheable);
void aml_res_qword_mem(struct aml_res *r, uint64_t min, uint64_t max, int cacheable);
/* Name (NAME, ResourceTemplate () { ... }): appends the end tag. */
void aml_name_resources(struct aml *a, const char *name, struct aml_res *r);

#endif
