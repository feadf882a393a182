/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the libFuzzer targets (header only: every fuzz_*.c is
 * its own executable). See docs/fuzzing.md.
 *
 *   struct fuzz_in   a FuzzedDataProvider-like consumer of the input bytes:
 *                    integers from the front, 0 once the input is used up
 *   fuzz_ram_*       memory of exactly N bytes: one byte before or after it
 *                    is an ASan report (poisoned) and, past the last page,
 *                    a fault (PROT_NONE guard pages) even without ASan
 *   fuzz_guest_mem   a struct guest_mem whose RAM is such a buffer
 *   fuzz_memfd       the input as a file (/proc/self/fd/N) for loaders
 *   fuzz_quiet_logs  husk's log lines to /dev/null (HUSK_FUZZ_LOG=1 keeps them)
 */
#ifndef HUSK_FUZZ_HELPERS_H
#define HUSK_FUZZ_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sanitizer/asan_interface.h>

#include "core/log.h"
#include "memory/guest_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_die(const char *what)
{
	perror(what);
	abort();
}

/* ---- input consumer -------------------------------------------------- */

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline struct fuzz_in fuzz_in_init(const uint8_t *data, size_t size)
{
	return (struct fuzz_in){ .p = data, .n = size };
}

static inline size_t fuzz_left(const struct fuzz_in *in)
{
	return in->n;
}

/* @len bytes, little-endian, from the front; missing bytes read as 0. */
static inline uint64_t fuzz_uint(struct fuzz_in *in, unsigned len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < len && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)   { return (uint8_t)fuzz_uint(in, 1); }
static inline uint16_t fuzz_u16(struct fuzz_in *in) { return (uint16_t)fuzz_uint(in, 2); }
static inline uint32_t fuzz_u32(struct fuzz_in *in) { return (uint32_t)fuzz_uint(in, 4); }
static inline uint64_t fuzz_u64(struct fuzz_in *in) { return fuzz_uint(in, 8); }
static inline bool fuzz_bool(struct fuzz_in *in)    { return fuzz_u8(in) & 1; }

/* A value in [lo, hi] (one byte of input when the range fits in one). */
static inline uint64_t fuzz_range(struct fuzz_in *in, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo, v;

	if (span == 0)
		return lo;
	v = fuzz_uint(in, span <= 0xff ? 1 : span <= 0xffff ? 2 : span <= 0xffffffffu ? 4 : 8);
	return span == UINT64_MAX ? v : lo + v % (span + 1);
}

/* One of the @n entries of @table (n > 0). */
#define fuzz_pick(in, table) \
	((table)[fuzz_range((in), 0, sizeof(table) / sizeof((table)[0]) - 1)])

/*
 * Up to @max bytes (fewer at the end of the input): a pointer into the
 * input, its length in *@len.
 */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
	const uint8_t *p = in->p;

	*len = max < in->n ? max : in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

/* What is left of the input, all of it. */
static inline const uint8_t *fuzz_rest(struct fuzz_in *in, size_t *len)
{
	return fuzz_bytes(in, in->n, len);
}

/*
 * A copy of @len bytes at @p in a malloc'd buffer of exactly @len bytes
 * (ASan catches a read past it; len 0 gives a 1-byte buffer, never NULL).
 */
static inline void *fuzz_dup(const void *p, size_t len)
{
	void *b = malloc(len ? len : 1);

	if (!b)
		fuzz_die("malloc");
	if (len)
		memcpy(b, p, len);
	return b;
}

/* The bytes as a NUL-terminated string in a buffer of exactly len + 1 bytes. */
static inline char *fuzz_strndup(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		fuzz_die("malloc");
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* ---- exactly sized memory ------------------------------------------- */

struct fuzz_ram {
	uint8_t *base;		/* @size usable bytes */
	size_t size;
	uint8_t *map;		/* the whole mapping, guard pages included */
	size_t map_len;
};

/*
 * @size bytes at @r->base, zeroed, page-aligned when @size is a multiple of
 * the page size (guest RAM always is), else 16-byte aligned and ending as
 * close to the guard page as that allows, the slack poisoned for ASan.
 */
static inline void fuzz_ram_alloc(struct fuzz_ram *r, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;

	if (body == 0)
		body = page;
	r->map_len = body + 2 * page;
	r->map = mmap(NULL, r->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (r->map == MAP_FAILED)
		fuzz_die("mmap");
	if (mprotect(r->map + page, body, PROT_READ | PROT_WRITE))
		fuzz_die("mprotect");
	r->size = size;
	r->base = r->map + page + ((body - size) & ~(size_t)15);
	/* the slack before and after (only the edges: guest RAM is big) */
	ASAN_POISON_MEMORY_REGION(r->map + page, (size_t)(r->base - (r->map + page)));
	ASAN_POISON_MEMORY_REGION(r->base + size, (size_t)(r->map + page + body - (r->base + size)));
}

static inline void fuzz_ram_free(struct fuzz_ram *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	ASAN_UNPOISON_MEMORY_REGION(r->map + page, (size_t)(r->base - (r->map + page)));
	ASAN_UNPOISON_MEMORY_REGION(r->base + r->size,
				    (size_t)(r->map + r->map_len - page - (r->base + r->size)));
	munmap(r->map, r->map_len);
	memset(r, 0, sizeof(*r));
}

/*
 * Guest RAM of exactly @size bytes (a multiple of 4 KiB; the regions
 * guest_mem_plan() gives, no memfd). Free with fuzz_ram_free(@r), never
 * guest_mem_destroy().
 */
static inline void fuzz_guest_mem(struct guest_mem *m, struct fuzz_ram *r, uint64_t size)
{
	fuzz_ram_alloc(r, size);
	guest_mem_plan(m, size);
	m->hva = r->base;
}

/* ---- files and logs --------------------------------------------------- */

/*
 * A memfd holding the @len bytes at @data, and its /proc/self/fd/N name in
 * @path; returns the fd (close it when done).
 */
static inline int fuzz_memfd(const void *data, size_t len, char *path, size_t pathlen)
{
	int fd = memfd_create("husk-fuzz", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		fuzz_die("memfd_create");
	while (done < len) {
		ssize_t w = write(fd, (const uint8_t *)data + done, len - done);

		if (w <= 0)
			fuzz_die("write memfd");
		done += (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* Call once (LLVMFuzzerInitialize): error lines for hostile input are noise. */
static inline void fuzz_quiet_logs(void)
{
	const char *keep = getenv("HUSK_FUZZ_LOG");

	if (keep && *keep == '1')
		return;
	if (log_open_file("/dev/null"))
		fuzz_die("log_open_file /dev/null");
}

#endif
