// SPDX-License-Identifier: MIT
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
/* output settings: changed only before the VM runs (see log.h) */
static atomic_int out_fd = STDERR_FILENO;
static atomic_int out_format = LOG_FORMAT_TEXT;
static atomic_bool show_level;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

bool log_enabled(enum log_level level)
{
	return level <= current_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

void log_set_format(enum log_format format)
{
	atomic_store(&out_format, (int)format);
}

void log_set_show_level(bool show)
{
	atomic_store(&show_level, show);
}

/*
 * Another thread may be writing to the current log fd right now, so it is
 * never closed under it: the first file gets an fd of its own, a later one
 * (PUT /logger again) is put behind the same fd number with dup3(), which
 * swaps the open file atomically. A writer lands in the old file or the
 * new one, never in an fd reused by something else, and nothing leaks.
 */
int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	int old, ret = 0;

	if (fd < 0)
		return -errno;
	old = atomic_load(&out_fd);
	if (old <= STDERR_FILENO) {
		atomic_store(&out_fd, fd);
		return 0;
	}
	if (dup3(fd, old, O_CLOEXEC) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

void log_write_raw(const char *line, unsigned long len)
{
	ssize_t n = write(atomic_load(&out_fd), line, len);

	(void)n;	/* nothing to do about a lost line from a dying thread */
}

static int format_json(char *out, size_t outlen, enum log_level level, const char *msg, int fd)
{
	struct json_object *o = json_object_new_object();
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "timestamp_us",
			       json_object_new_int64((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	json_object_object_add(o, "level", json_object_new_string(level_names[level]));
	json_object_object_add(o, "message", json_object_new_string(msg));
	n = snprintf(out, outlen, "%s%s",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE),
		     isatty(fd) ? "\r\n" : "\n");	/* CR LF: see format_text() */
	json_object_put(o);
	return n;
}

static int format_text(char *out, size_t outlen, enum log_level level, const char *msg, int fd)
{
	const char *prefix = level == LOG_WARN ? "warning: " : "";
	char lvl[16] = "";

	if (atomic_load(&show_level)) {
		snprintf(lvl, sizeof(lvl), "[%s] ", level_names[level]);
		prefix = "";
	}
	/*
	 * On a terminal, end lines with CR LF: the console may have put it in
	 * raw mode (no output processing), where a bare LF would staircase.
	 */
	return snprintf(out, outlen, "husk: %s%s%s%s", lvl, prefix, msg,
			isatty(fd) ? "\r\n" : "\n");
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024], line[2304];
	int fd = atomic_load(&out_fd);
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (atomic_load(&out_format) == LOG_FORMAT_JSON)
		n = format_json(line, sizeof(line), level, msg, fd);
	else
		n = format_text(line, sizeof(line), level, msg, fd);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) {	/* cut, but still one whole line */
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* one write per line so lines from several threads never interleave */
	if (write(fd, line, (size_t)n) < 0)
		return;
}
