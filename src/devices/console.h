/* SPDX-License-Identifier: MIT */
#ifndef HUSK_CONSOLE_H
#define HUSK_CONSOLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

/*
 * Where the guest's serial console goes: --serial stdio|none|file:PATH|pty.
 * stdio puts a terminal stdin into raw mode; console_restore() puts it back
 * and is safe to call more than once and from a fatal-signal handler.
 */
enum console_kind { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE, CONSOLE_PTY };

struct console {
	enum console_kind kind;
	int in_fd;		/* -1 when there is no input */
	int out_fd;		/* -1 when output is discarded */
	bool raw;		/* saved termios must be restored */
	struct termios saved;
	char path[256];		/* file path or pty name */
	bool escape_pending;	/* saw Ctrl-A */
	int pty_slave_fd;	/* held open so the master never sees a hang-up */
	atomic_bool stalled;	/* output blocked past the wait: drop until writable */
	bool out_blocking;	/* out_fd is a blocking pipe/tty: poll before writing */
};

/* A closed console: kind none, every fd -1. Before console_open() or console_close(). */
void console_init(struct console *c);
/* Validate a --serial value without opening anything. */
int console_parse(const char *spec, enum console_kind *kind, const char **path);
/* Open the backend. On error fills @err ("--serial file:/x: Permission denied"). */
int console_open(struct console *c, const char *spec, char *err, size_t errlen);
/* The VM starts: a file: console is emptied now (not at open, see console.c). */
int console_begin(struct console *c);
/*
 * A rebooted VM goes on on the same console (husk_vm_restart): a file: is
 * kept, a terminal is made raw again after console_restore().
 */
int console_resume(struct console *c);
void console_restore(struct console *c);
void console_close(struct console *c);

/*
 * Write guest output (from vCPU threads). It never blocks for long: output
 * that cannot be written within a second is dropped, and while the reader
 * stays stalled further output is dropped at once, so a reader that stops
 * reading can slow the guest's console but never wedge a vCPU or husk.
 */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/*
 * Filter bytes read from in_fd: Ctrl-A x requests quit (returns 1),
 * Ctrl-A Ctrl-A passes one Ctrl-A, Ctrl-A followed by anything else passes
 * both bytes. Writes the bytes for the guest to @out (at most @n) and
 * stores their count in @outn. Returns 0, or 1 when quit was requested.
 */
int console_filter_input(struct console *c, const uint8_t *in, size_t n,
			 uint8_t *out, size_t *outn);

#endif
