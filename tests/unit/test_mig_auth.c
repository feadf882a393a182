// SPDX-License-Identifier: MIT
/*
 * Peer authentication of a migration stream (migration/mig_auth.c): both
 * halves over a socketpair with the same secret succeed; with different
 * secrets the source says the destination does not know it and neither
 * goes on; secret files too short, too long, missing, or a directory are
 * refused; the MAC is HMAC-SHA256 over role || nonce || nonce (checked
 * against Python's hmac).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "migration/mig_auth.h"

struct side {
	int fd;
	struct mig_secret s;
	int ret;
	char err[256];
};

static void *server(void *arg)
{
	struct side *d = arg;

	d->ret = mig_auth_server(d->fd, &d->s, d->err, sizeof(d->err));
	if (d->ret) {
		/* as the destination does: tell the source why */
		size_t n = strlen(d->err);
		uint8_t h[16] = { 7 };

		h[8] = (uint8_t)n;
		/* the source may be gone already */
		if (send(d->fd, h, 16, MSG_NOSIGNAL) == 16)
			send(d->fd, d->err, n, MSG_NOSIGNAL);
		shutdown(d->fd, SHUT_WR);
	}
	return NULL;
}

static void run(const char *ka, const char *kb, struct side *c, struct side *sv)
{
	pthread_t t;
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	memset(c, 0, sizeof(*c));
	memset(sv, 0, sizeof(*sv));
	c->fd = sp[0];
	sv->fd = sp[1];
	c->s.len = strlen(ka);
	memcpy(c->s.key, ka, c->s.len);
	sv->s.len = strlen(kb);
	memcpy(sv->s.key, kb, sv->s.len);
	assert_int_equal(pthread_create(&t, NULL, server, sv), 0);
	c->ret = mig_auth_client(c->fd, &c->s, c->err, sizeof(c->err));
	if (c->ret)
		shutdown(c->fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(sp[0]);
	close(sp[1]);
}

static void test_handshake(void **state)
{
	struct side c, s;

	(void)state;
	run("correct horse battery staple", "correct horse battery staple", &c, &s);
	assert_int_equal(c.ret, 0);
	assert_int_equal(s.ret, 0);
	/* the destination does not know it: the source says so */
	run("correct horse battery staple", "another secret of 22 b", &c, &s);
	assert_int_equal(c.ret, -EACCES);
	assert_non_null(strstr(c.err, "the destination does not know the secret"));
	assert_int_not_equal(s.ret, 0);
}

static void test_mac(void **state)
{
	/* HMAC-SHA256("0123456789abcdef", "husk-mig src" || 32 x 0x00 || 32 x 0x01), by Python's hmac */
	static const uint8_t want[MIG_MAC_LEN] = {
		0x42, 0xb1, 0x8e, 0x08, 0x68, 0xa6, 0x3b, 0xe2, 0x45, 0x97, 0xee, 0x5b, 0xf1, 0x33,
		0x07, 0x2b, 0xbf, 0x02, 0x82, 0x26, 0x4b, 0x37, 0x9b, 0xe1, 0x2b, 0x97, 0x09, 0xbe,
		0xb9, 0xa4, 0x58, 0x93,
	};
	struct mig_secret s = { .len = 16 };
	uint8_t a[MIG_NONCE_LEN] = { 0 }, b[MIG_NONCE_LEN], out[MIG_MAC_LEN], dst[MIG_MAC_LEN];

	(void)state;
	memcpy(s.key, "0123456789abcdef", 16);
	memset(b, 1, sizeof(b));
	mig_auth_mac(&s, "husk-mig src", a, b, out);
	assert_memory_equal(out, want, MIG_MAC_LEN);
	/* the roles differ: one side's answer is never the other's */
	mig_auth_mac(&s, "husk-mig dst", a, b, dst);
	assert_memory_not_equal(out, dst, MIG_MAC_LEN);
}

static void test_secret_files(void **state)
{
	char dir[] = "/tmp/husk-auth.XXXXXX", path[64], err[256];
	struct mig_secret s;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	f = fopen(path, "w");
	fputs("0123456789abcdef\n", f);
	fclose(f);
	assert_int_equal(mig_secret_load(path, &s, err, sizeof(err)), 0);
	assert_int_equal(s.len, 16);	/* the newline is not part of it */
	f = fopen(path, "w");
	fputs("short\n", f);
	fclose(f);
	assert_int_equal(mig_secret_load(path, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "16 to 4096 bytes expected"));
	f = fopen(path, "w");
	for (int i = 0; i < 5000; i++)
		fputc('x', f);
	fclose(f);
	assert_int_equal(mig_secret_load(path, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_secret_load(dir, &s, err, sizeof(err)), -EINVAL);
	unlink(path);
	assert_int_equal(mig_secret_load(path, &s, err, sizeof(err)), -ENOENT);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_secret_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
