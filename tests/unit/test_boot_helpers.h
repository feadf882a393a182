/* SPDX-License-Identifier: MIT */
#ifndef HUSK_TEST_BOOT_HELPERS_H
#define HUSK_TEST_BOOT_HELPERS_H

/*
 * Helpers shared by the boot loader tests (header-only: every test_*.c is
 * its own executable): temporary input files, guest memory, and a
 * cmocka-friendly way to check error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/boot.h"
#include "memory/guest_mem.h"
#include "memory/layout.h"

#define TB_MAX_FILES 8

struct tb {
	struct guest_mem mem;
	char files[TB_MAX_FILES][64];	/* /proc/self/fd/N of unlinked files */
	int fds[TB_MAX_FILES];
	unsigned nfiles;
	char err[512];
	struct boot_entry entry;
};

static inline struct tb *tb_new(uint64_t mem_size)
{
	struct tb *t = calloc(1, sizeof(*t));
	char err[256];

	assert_non_null(t);
	assert_int_equal(guest_mem_init(&t->mem, mem_size, false, err, sizeof(err)), 0);
	return t;
}

static inline void tb_free(struct tb *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nfiles; i++)
		close(t->fds[i]);
	guest_mem_destroy(&t->mem);
	free(t);
}

/*
 * A temporary file holding @len bytes of @data, then @extra zero bytes
 * (sparse). It is unlinked at once and named by /proc/self/fd/N, so a
 * failing test leaves nothing behind in /tmp.
 */
static inline const char *tb_file_ext(struct tb *t, const void *data, size_t len, uint64_t extra)
{
	char tmpl[] = "/tmp/husk-boot-test-XXXXXX";
	int fd;

	assert_true(t->nfiles < TB_MAX_FILES);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	if (extra)
		assert_int_equal(ftruncate(fd, (off_t)(len + extra)), 0);
	t->fds[t->nfiles] = fd;
	snprintf(t->files[t->nfiles], sizeof(t->files[0]), "/proc/self/fd/%d", fd);
	return t->files[t->nfiles++];
}

/* Closes the file tb_file*() made last (for loops that make many). */
static inline void tb_drop_last_file(struct tb *t)
{
	assert_true(t->nfiles > 0);
	close(t->fds[--t->nfiles]);
}

static inline const char *tb_file(struct tb *t, const void *data, size_t len)
{
	return tb_file_ext(t, data, len, 0);
}

static inline int tb_boot(struct tb *t, const char *kernel, const char *initrd,
			  const char *cmdline, unsigned ncpus)
{
	struct boot_request req = {
		.kernel = kernel, .initrd = initrd, .cmdline = cmdline, .ncpus = ncpus,
	};
	int ret;

	memset(t->err, 0x5a, sizeof(t->err));
	t->err[sizeof(t->err) - 1] = '\0';
	ret = boot_load(&t->mem, &req, &t->entry, t->err, sizeof(t->err));
	if (ret == 0)
		assert_string_equal(t->err, "");
	else
		assert_true(strlen(t->err) > 0 && strchr(t->err, '\n') == NULL);
	return ret;
}

static inline void *tb_gpa(struct tb *t, uint64_t gpa, uint64_t len)
{
	void *p = gpa_to_hva(&t->mem, gpa, len);

	assert_non_null(p);
	return p;
}

/* Asserts that @s is exactly the printf-formatted text. */
__attribute__((format(printf, 2, 3)))
static inline void tb_assert_msg(const char *s, const char *fmt, ...)
{
	char want[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	assert_string_equal(s, want);
}

static inline void tb_assert_contains(const char *s, const char *needle)
{
	if (!strstr(s, needle))
		fail_msg("\"%s\" does not contain \"%s\"", s, needle);
}

static inline void tb_assert_starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static inline uint8_t tb_sum8(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += b[i];
	return s;
}

/* Fills @buf with a position-dependent pattern (so misplaced copies show). */
static inline void tb_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* The boot GDT entries every successful load writes. */
static inline void tb_assert_gdt(struct tb *t, enum boot_entry_mode mode)
{
	uint64_t *gdt = tb_gpa(t, LAYOUT_BOOT_GDT, 6 * 8);

	assert_int_equal(t->entry.gdt_base, LAYOUT_BOOT_GDT);
	assert_true(t->entry.gdt_limit >= 5 * 8 - 1);
	assert_int_equal(t->entry.cs, 0x10);
	assert_int_equal(t->entry.ds, 0x18);
	assert_int_equal(t->entry.tr, 0x20);
	assert_int_equal(t->entry.rsp, LAYOUT_BOOT_STACK);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);
	assert_int_equal(gdt[2], mode == BOOT_ENTRY_LINUX64 ? 0x00af9b000000ffffULL
							    : 0x00cf9b000000ffffULL);
	assert_int_equal(gdt[3], 0x00cf93000000ffffULL);
	assert_int_equal(gdt[4], 0x00008b0000000067ULL);
}

#endif
