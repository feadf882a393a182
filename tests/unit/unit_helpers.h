/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the device unit tests (header only). */
#ifndef HUSK_UNIT_HELPERS_H
#define HUSK_UNIT_HELPERS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/stop.h"
#include "devices/iobus.h"

/* Records stop requests made through a struct stop_hook. */
struct stop_rec {
	int calls;
	enum stop_reason why;
	int status;
};

static inline void record_stop(void *ctx, enum stop_reason why, int status)
{
	struct stop_rec *r = ctx;

	r->calls++;
	r->why = why;
	r->status = status;
}

static inline void pio_out(struct io_bus *bus, uint64_t port, uint32_t v, uint32_t len)
{
	uint8_t b[8];

	le_put(b, v, len);
	iobus_write(bus, port, b, len);
}

static inline uint32_t pio_in(struct io_bus *bus, uint64_t port, uint32_t len)
{
	uint8_t b[8] = { 0 };

	iobus_read(bus, port, b, len);
	return (uint32_t)le_get(b, len < 4 ? len : 4);
}

static inline void outb(struct io_bus *bus, uint64_t port, uint8_t v)
{
	pio_out(bus, port, v, 1);
}

static inline uint8_t inb(struct io_bus *bus, uint64_t port)
{
	return (uint8_t)pio_in(bus, port, 1);
}

/*
 * Capture what husk logs on stderr: stderr_capture_begin() points fd 2 at a
 * temporary file, stderr_capture_end() restores it and returns the text
 * (malloc'd, NUL-terminated).
 */
struct stderr_capture {
	int saved_fd;
	FILE *file;
};

static inline void stderr_capture_begin(struct stderr_capture *cap)
{
	fflush(stderr);
	cap->file = tmpfile();
	cap->saved_fd = dup(STDERR_FILENO);
	if (cap->file && cap->saved_fd >= 0)
		dup2(fileno(cap->file), STDERR_FILENO);
}

static inline char *stderr_capture_end(struct stderr_capture *cap)
{
	char *text;
	off_t n;
	int fd;

	fflush(stderr);
	dup2(cap->saved_fd, STDERR_FILENO);
	close(cap->saved_fd);
	if (!cap->file)
		return strdup("");
	fd = fileno(cap->file);
	n = lseek(fd, 0, SEEK_END);
	text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (text && n > 0 && pread(fd, text, (size_t)n, 0) != n)
		text[0] = '\0';
	fclose(cap->file);
	return text;
}

static inline int count_substr(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#endif
