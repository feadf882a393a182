// SPDX-License-Identifier: MIT
/*
 * The serial console backend: --serial stdio|none|file:PATH|pty.
 */
#include "devices/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTRL_A		0x01
#define ESCAPE_QUIT	'x'
/* how long a blocked stdio/file write may stall before output is dropped */
#define CONSOLE_WRITE_WAIT_MS	1000

static const char console_usage[] = "expected stdio, none, file:PATH or pty";

int console_parse(const char *spec, enum console_kind *kind, const char **path)
{
	const char *p = NULL;
	enum console_kind k;

	if (!spec)
		return -EINVAL;
	if (!strcmp(spec, "stdio")) {
		k = CONSOLE_STDIO;
	} else if (!strcmp(spec, "none")) {
		k = CONSOLE_NONE;
	} else if (!strcmp(spec, "pty")) {
		k = CONSOLE_PTY;
	} else if (!strncmp(spec, "file:", 5)) {
		k = CONSOLE_FILE;
		p = spec + 5;
		if (!*p)
			return -EINVAL;
		if (strlen(p) >= sizeof(((struct console *)0)->path))
			return -ENAMETOOLONG;
	} else {
		return -EINVAL;
	}
	if (kind)
		*kind = k;
	if (path)
		*path = p;
	return 0;
}

void console_init(struct console *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = CONSOLE_NONE;
	c->in_fd = -1;
	c->out_fd = -1;
	c->pty_slave_fd = -1;
}

/* Raw mode without signal keys, so Ctrl-C and friends reach the guest. */
static int console_make_raw(int fd, struct termios *saved)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	if (saved)
		*saved = t;
	cfmakeraw(&t);
	t.c_lflag &= ~ISIG;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

/* A blocking fd that can fill up (pipe, FIFO, terminal, socket); regular files cannot. */
static bool console_fd_may_block(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || (fl & O_NONBLOCK))
		return false;
	return fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
}

static int console_open_stdio(struct console *c)
{
	int ret;

	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
	c->out_blocking = console_fd_may_block(STDOUT_FILENO);
	if (!isatty(STDIN_FILENO))
		return 0;
	ret = console_make_raw(STDIN_FILENO, &c->saved);
	if (ret)
		return ret;
	c->raw = true;
	return 0;
}

/*
 * Non-blocking: a FIFO nobody reads fails at once (ENXIO) instead of hanging.
 * Not truncated yet: console_begin() empties a regular file once the VM
 * starts, so a start that fails later leaves the user's file as it was.
 */
static int console_open_file(struct console *c, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);

	if (fd < 0)
		return -errno;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->out_fd = fd;
	return 0;
}

/*
 * The master side is non-blocking: with nobody attached to the slave, the
 * pty buffer fills and further output is dropped instead of stalling a vCPU.
 */
static int console_open_pty(struct console *c)
{
	int fd, ret;

	fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (grantpt(fd) < 0 || unlockpt(fd) < 0)
		goto fail_errno;
	ret = ptsname_r(fd, c->path, sizeof(c->path));
	if (ret) {
		ret = ret > 0 ? -ret : -errno;
		goto fail;
	}
	ret = console_make_raw(fd, NULL);
	if (ret)
		goto fail;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		goto fail_errno;
	/* while husk holds the slave, a client detaching does not hang up the master */
	c->pty_slave_fd = open(c->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->pty_slave_fd < 0)
		goto fail_errno;
	c->in_fd = fd;
	c->out_fd = fd;
	return 0;

fail_errno:
	ret = -errno;
fail:
	close(fd);
	c->path[0] = '\0';
	return ret;
}

int console_open(struct console *c, const char *spec, char *err, size_t errlen)
{
	enum console_kind kind;
	const char *path;
	int ret;

	console_init(c);
	ret = console_parse(spec, &kind, &path);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "--serial %s: %s", spec ? spec : "",
				 ret == -EINVAL ? console_usage : strerror(-ret));
		return ret;
	}
	c->kind = kind;
	switch (kind) {
	case CONSOLE_STDIO:
		ret = console_open_stdio(c);
		break;
	case CONSOLE_FILE:
		ret = console_open_file(c, path);
		break;
	case CONSOLE_PTY:
		ret = console_open_pty(c);
		break;
	case CONSOLE_NONE:
		ret = 0;
		break;
	}
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "--serial %s: %s", spec, strerror(-ret));
		console_init(c);
	}
	return ret;
}

/*
 * Async-signal-safe and idempotent: only tcsetattr() on a saved copy and a
 * flag, so a fatal-signal handler may call it after (or instead of) the
 * normal path.
 */
void console_restore(struct console *c)
{
	if (!c || !c->raw)
		return;
	c->raw = false;
	tcsetattr(c->in_fd, TCSANOW, &c->saved);
}

int console_begin(struct console *c)
{
	struct stat st;

	if (c->kind != CONSOLE_FILE || c->out_fd < 0)
		return 0;
	if (fstat(c->out_fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && ftruncate(c->out_fd, 0) < 0)
		return -errno;
	return 0;
}

int console_resume(struct console *c)
{
	int ret;

	if (c->kind != CONSOLE_STDIO || c->raw || c->in_fd < 0 || !isatty(c->in_fd))
		return 0;
	ret = console_make_raw(c->in_fd, &c->saved);
	if (!ret)
		c->raw = true;
	return ret;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	console_restore(c);
	if (c->kind == CONSOLE_FILE && c->out_fd >= 0)
		close(c->out_fd);
	else if (c->kind == CONSOLE_PTY && c->out_fd >= 0)
		close(c->out_fd);
	if (c->pty_slave_fd >= 0)
		close(c->pty_slave_fd);
	c->pty_slave_fd = -1;
	c->in_fd = -1;
	c->out_fd = -1;
	c->kind = CONSOLE_NONE;
}

/*
 * Wait until @fd takes output; false when it stays full for @wait_ms. A
 * kick (EINTR) ends the wait early, so a stopping VM is never held here.
 */
static bool console_wait_writable(int fd, int wait_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int ret = poll(&pfd, 1, wait_ms);

	return ret > 0 && !(pfd.revents & (POLLERR | POLLNVAL));
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	if (!c || c->out_fd < 0)
		return;
	while (len) {
		int wait_ms = atomic_load(&c->stalled) ? 0 : CONSOLE_WRITE_WAIT_MS;
		ssize_t n;

		/* a blocking pipe or terminal: never write into a full one */
		if (c->out_blocking && !console_wait_writable(c->out_fd, wait_ms))
			goto stalled;
		n = write(c->out_fd, buf, len);
		if (n > 0) {
			atomic_store(&c->stalled, false);
			buf += n;
			len -= (size_t)n;
			continue;
		}
		/* non-blocking file: (a full FIFO) wait as above; a pty nobody reads: drop */
		if (n < 0 && errno == EAGAIN && c->kind == CONSOLE_FILE &&
		    console_wait_writable(c->out_fd, wait_ms))
			continue;
		goto stalled;
	}
	return;
stalled:
	atomic_store(&c->stalled, true);
}

/*
 * A Ctrl-A goes to the guest at once (so the output never exceeds the
 * input, even when the escape spans two reads); what follows decides the
 * rest: 'x' requests quit (the VM stops, so the guest never acts on that
 * Ctrl-A), a second Ctrl-A is swallowed (one Ctrl-A sent in all), anything
 * else passes too.
 */
int console_filter_input(struct console *c, const uint8_t *in, size_t n,
			 uint8_t *out, size_t *outn)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];

		if (c->escape_pending) {
			c->escape_pending = false;
			if (b == ESCAPE_QUIT) {
				*outn = o;
				return 1;
			}
			if (b == CTRL_A)
				continue;
		} else if (b == CTRL_A) {
			c->escape_pending = true;
		}
		out[o++] = b;
	}
	*outn = o;
	return 0;
}
