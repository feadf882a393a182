// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "devices/console.h"
#include "unit_helpers.h"

static int filter(struct console *c, const char *in, size_t n, char *out, size_t *outn)
{
	return console_filter_input(c, (const uint8_t *)in, n, (uint8_t *)out, outn);
}

static void test_parse(void **state)
{
	enum console_kind kind;
	const char *path = "unset";
	char longpath[400];

	(void)state;
	assert_int_equal(console_parse("stdio", &kind, &path), 0);
	assert_int_equal(kind, CONSOLE_STDIO);
	assert_null(path);
	assert_int_equal(console_parse("none", &kind, &path), 0);
	assert_int_equal(kind, CONSOLE_NONE);
	assert_int_equal(console_parse("pty", &kind, &path), 0);
	assert_int_equal(kind, CONSOLE_PTY);
	assert_int_equal(console_parse("file:/tmp/x.log", &kind, &path), 0);
	assert_int_equal(kind, CONSOLE_FILE);
	assert_string_equal(path, "/tmp/x.log");
	assert_int_equal(console_parse("file:rel:colon", &kind, &path), 0);
	assert_string_equal(path, "rel:colon");

	assert_int_equal(console_parse("foo", &kind, &path), -EINVAL);
	assert_int_equal(console_parse("", &kind, &path), -EINVAL);
	assert_int_equal(console_parse("file:", &kind, &path), -EINVAL);
	assert_int_equal(console_parse("file", &kind, &path), -EINVAL);
	assert_int_equal(console_parse("stdio ", &kind, &path), -EINVAL);
	assert_int_equal(console_parse("STDIO", &kind, &path), -EINVAL);
	assert_int_equal(console_parse(NULL, &kind, &path), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	memcpy(longpath, "file:", 5);
	assert_int_equal(console_parse(longpath, &kind, &path), -ENAMETOOLONG);
}

static void test_open_errors(void **state)
{
	struct console c;
	char err[256];

	(void)state;
	assert_int_equal(console_open(&c, "foo", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--serial foo: expected stdio, none, file:PATH or pty");
	assert_int_equal(console_open(&c, "file:", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--serial file:: expected stdio, none, file:PATH or pty");
	assert_int_equal(console_open(&c, "file:/nonexistent/x", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "--serial file:/nonexistent/x: No such file or directory");
	assert_int_equal(c.in_fd, -1);
	assert_int_equal(c.out_fd, -1);
	/* a tiny error buffer is truncated, not overrun */
	assert_int_equal(console_open(&c, "foo", err, 8), -EINVAL);
	assert_string_equal(err, "--seria");
}

static void test_file_backend(void **state)
{
	char dir[] = "/tmp/husk-console-XXXXXX", path[128], spec[160], buf[64] = { 0 };
	struct console c;
	struct stat st;
	char err[256];
	mode_t old_umask;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/serial.log", dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	old_umask = umask(022);
	assert_int_equal(console_open(&c, spec, err, sizeof(err)), 0);
	umask(old_umask);
	assert_int_equal(c.kind, CONSOLE_FILE);
	assert_int_equal(c.in_fd, -1);
	assert_true(c.out_fd > 2);
	assert_false(c.raw);
	assert_true(fcntl(c.out_fd, F_GETFD) & FD_CLOEXEC);
	console_write(&c, (const uint8_t *)"hello\n", 6);
	console_write(&c, (const uint8_t *)"world", 5);
	console_close(&c);
	console_close(&c);	/* idempotent */

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "hello\nworld");
	close(fd);

	/* reopening an existing file truncates it once the VM starts */
	assert_int_equal(console_open(&c, spec, err, sizeof(err)), 0);
	assert_int_equal(console_begin(&c), 0);
	console_write(&c, (const uint8_t *)"x", 1);
	console_close(&c);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1);
	unlink(path);
	rmdir(dir);
}

static void test_none_backend(void **state)
{
	struct console c;
	char err[64];

	(void)state;
	assert_int_equal(console_open(&c, "none", err, sizeof(err)), 0);
	assert_int_equal(c.kind, CONSOLE_NONE);
	assert_int_equal(c.in_fd, -1);
	assert_int_equal(c.out_fd, -1);
	console_write(&c, (const uint8_t *)"dropped", 7);
	console_restore(&c);
	console_close(&c);
}

static void test_pty_backend(void **state)
{
	struct console c;
	char err[128], buf[16] = { 0 };
	struct pollfd pfd;
	int slave;

	(void)state;
	assert_int_equal(console_open(&c, "pty", err, sizeof(err)), 0);
	assert_int_equal(c.kind, CONSOLE_PTY);
	assert_true(c.in_fd >= 0);
	assert_int_equal(c.in_fd, c.out_fd);
	assert_int_equal(strncmp(c.path, "/dev/pts/", 9), 0);
	slave = open(c.path, O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);

	/* guest output reaches the slave unchanged (raw: no \n -> \r\n) */
	console_write(&c, (const uint8_t *)"a\nb\r", 4);
	pfd = (struct pollfd){ .fd = slave, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(read(slave, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "a\nb\r", 4);
	/* what is typed on the slave comes out of the master as is, no echo */
	assert_int_equal(write(slave, "x\r\x03", 3), 3);
	pfd = (struct pollfd){ .fd = c.in_fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(c.in_fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "x\r\x03", 3);
	pfd = (struct pollfd){ .fd = slave, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 50), 0);
	close(slave);

	/* with nobody reading, output is dropped instead of blocking */
	for (int i = 0; i < 4096; i++)
		console_write(&c, (const uint8_t *)"0123456789abcdef", 16);
	console_close(&c);
}

static void test_stdio_raw_and_restore(void **state)
{
	struct console c;
	struct termios before, during, after;
	char err[64], name[64];
	int master, saved_stdin, slave;

	(void)state;
	/* give the test a terminal as stdin: the slave of a fresh pty */
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(ptsname_r(master, name, sizeof(name)), 0);
	slave = open(name, O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	saved_stdin = dup(STDIN_FILENO);
	assert_int_equal(dup2(slave, STDIN_FILENO), STDIN_FILENO);
	assert_int_equal(tcgetattr(STDIN_FILENO, &before), 0);
	assert_true(before.c_lflag & ICANON);

	assert_int_equal(console_open(&c, "stdio", err, sizeof(err)), 0);
	assert_int_equal(c.in_fd, 0);
	assert_int_equal(c.out_fd, 1);
	assert_true(c.raw);
	assert_int_equal(tcgetattr(STDIN_FILENO, &during), 0);
	assert_false(during.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
	assert_false(during.c_iflag & (ICRNL | IXON));

	console_restore(&c);
	console_restore(&c);	/* idempotent */
	assert_false(c.raw);
	assert_int_equal(tcgetattr(STDIN_FILENO, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_iflag, before.c_iflag);
	assert_int_equal(after.c_oflag, before.c_oflag);
	console_close(&c);	/* never closes 0 and 1 */
	assert_true(fcntl(STDIN_FILENO, F_GETFD) >= 0);
	assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0);

	/* stdin that is not a terminal is used as is */
	assert_int_equal(dup2(saved_stdin, STDIN_FILENO), STDIN_FILENO);
	close(saved_stdin);
	close(slave);
	close(master);
	saved_stdin = dup(STDIN_FILENO);
	slave = open("/dev/null", O_RDONLY);
	dup2(slave, STDIN_FILENO);
	assert_int_equal(console_open(&c, "stdio", err, sizeof(err)), 0);
	assert_false(c.raw);
	console_close(&c);
	dup2(saved_stdin, STDIN_FILENO);
	close(saved_stdin);
	close(slave);
}

static void test_escape_filter(void **state)
{
	struct console c = { .in_fd = -1, .out_fd = -1 };
	char out[32];
	size_t n;

	(void)state;
	/* plain bytes pass */
	assert_int_equal(filter(&c, "abc", 3, out, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "abc", 3);
	/* Ctrl-A x quits; nothing after it goes to the guest */
	assert_int_equal(filter(&c, "ab\x01xcd", 6, out, &n), 1);
	assert_true(n <= 3);
	assert_memory_equal(out, "ab", 2);
	assert_false(c.escape_pending);
	/* Ctrl-A Ctrl-A sends one Ctrl-A */
	assert_int_equal(filter(&c, "\x01\x01z", 3, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x01z", 2);
	assert_false(c.escape_pending);
	/* three Ctrl-As: one for the pair, the third starts a new escape */
	assert_int_equal(filter(&c, "\x01\x01\x01", 3, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x01\x01", 2);
	assert_true(c.escape_pending);
	assert_int_equal(filter(&c, "\x01", 1, out, &n), 0);
	assert_int_equal(n, 0);
	assert_false(c.escape_pending);
	/* Ctrl-A and anything else passes both */
	assert_int_equal(filter(&c, "\x01" "b", 2, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x01" "b", 2);
	/* 'X' is not 'x' */
	assert_int_equal(filter(&c, "\x01X", 2, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x01X", 2);
}

/* Output never exceeds input: @out needs only @n bytes. */
static void test_escape_output_bounded(void **state)
{
	struct console c = { .in_fd = -1, .out_fd = -1 };
	uint8_t in[64], out[65];
	size_t n;
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand_r(&seed) % 8);

		for (size_t i = 0; i < len; i++) {
			unsigned r = (unsigned)rand_r(&seed) % 4;

			in[i] = r == 0 ? 0x01 : r == 1 ? 'y' : (uint8_t)rand_r(&seed);
			if (in[i] == 'x')
				in[i] = 'w';
		}
		out[len] = 0xee;	/* canary one past the input length */
		assert_int_equal(console_filter_input(&c, in, len, out, &n), 0);
		assert_true(n <= len);
		assert_int_equal(out[len], 0xee);
	}
}

static void test_escape_across_calls(void **state)
{
	struct console c = { .in_fd = -1, .out_fd = -1 };
	char out[8];
	size_t n = 99;

	(void)state;
	/* one keystroke per read, as on a terminal */
	assert_int_equal(filter(&c, "\x01", 1, out, &n), 0);
	assert_true(c.escape_pending);
	assert_int_equal(filter(&c, "x", 1, out, &n), 1);
	assert_int_equal(n, 0);
	assert_false(c.escape_pending);

	/* Ctrl-A Ctrl-A split across reads: one Ctrl-A in all */
	assert_int_equal(filter(&c, "q\x01", 2, out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "q\x01", 2);
	assert_int_equal(filter(&c, "\x01", 1, out, &n), 0);
	assert_int_equal(n, 0);
	assert_false(c.escape_pending);

	/* Ctrl-A then an ordinary key in the next read: both reach the guest */
	assert_int_equal(filter(&c, "\x01", 1, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(filter(&c, "e", 1, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'e');

	/* an empty read keeps the pending state */
	assert_int_equal(filter(&c, "\x01", 1, out, &n), 0);
	assert_int_equal(filter(&c, "", 0, out, &n), 0);
	assert_int_equal(n, 0);
	assert_true(c.escape_pending);
	assert_int_equal(filter(&c, "xyz", 3, out, &n), 1);
	assert_int_equal(n, 0);
}

/*
 * An existing file: console is emptied only when the VM starts
 * (console_begin), so a start that fails after the console was opened
 * leaves the user's file as it was.
 */
static void test_file_emptied_at_begin(void **state)
{
	char dir[] = "/tmp/husk-console-XXXXXX", path[128], spec[160], buf[64] = { 0 };
	struct console c;
	struct stat st;
	char err[256];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/serial.log", dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, "old console output\n", 19), 19);
	close(fd);
	/* opened, then the start fails: the file is untouched */
	assert_int_equal(console_open(&c, spec, err, sizeof(err)), 0);
	console_close(&c);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 19);
	/* opened and started: emptied, then the new output from offset 0 */
	assert_int_equal(console_open(&c, spec, err, sizeof(err)), 0);
	assert_int_equal(console_begin(&c), 0);
	console_write(&c, (const uint8_t *)"new", 3);
	console_close(&c);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "new");
	close(fd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_file_emptied_at_begin),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_file_backend),
		cmocka_unit_test(test_none_backend),
		cmocka_unit_test(test_pty_backend),
		cmocka_unit_test(test_stdio_raw_and_restore),
		cmocka_unit_test(test_escape_filter),
		cmocka_unit_test(test_escape_output_bounded),
		cmocka_unit_test(test_escape_across_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
