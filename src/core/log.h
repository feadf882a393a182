/* SPDX-License-Identifier: MIT */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

#include <stdbool.h>

/*
 * Logging: one line per message on stderr, prefixed "husk: ".
 * The level is process-wide (set once from --log-level before any thread
 * starts); it is the only mutable global in husk and is read-only afterwards.
 */
enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_parse_level(const char *s, enum log_level *out);
/*
 * Where and how lines go (--log-file, --log-format, logger.show_level):
 * set from the main thread before the VM runs, or from the API thread
 * before InstanceStart. log_open_file() appends to @path (0600 if created);
 * returns 0 or -errno and leaves the old output in place on error.
 */
int log_open_file(const char *path);
void log_set_format(enum log_format format);
int log_parse_format(const char *s, enum log_format *out);
void log_set_show_level(bool show);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * One preformatted line straight to the log's fd with write(2): for a
 * signal handler (no formatting, no locks, no allocation).
 */
void log_write_raw(const char *line, unsigned long len);

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
