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

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_parse_level(const char *s, enum log_level *out);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
