// SPDX-License-Identifier: MIT
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;

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

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/*
	 * One fprintf per line so lines from several threads never interleave.
	 * On a terminal, end lines with CR LF: the console may have put it in
	 * raw mode (no output processing), where a bare LF would staircase.
	 */
	fprintf(stderr, "husk: %s%s%s", level == LOG_WARN ? "warning: " : "", line,
		isatty(STDERR_FILENO) ? "\r\n" : "\n");
}
