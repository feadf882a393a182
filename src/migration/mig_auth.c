// SPDX-License-Identifier: MIT
/* Shared-secret peer authentication of a migration stream (mig_auth.h). */
#include "migration/mig_auth.h"
#include "migration/mig_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int mig_secret_load(const char *path, struct mig_secret *s, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (fd < 0) {
		snprintf(err, errlen, "--migration-secret %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "--migration-secret %s: not a regular file", path);
		return -EINVAL;
	}
	n = read(fd, s->key, sizeof(s->key));
	close(fd);
	if (n > 0 && s->key[n - 1] == '\n')
		n--;
	if (n < MIG_SECRET_MIN || st.st_size > (off_t)sizeof(s->key)) {
		mig_secret_wipe(s);
		snprintf(err, errlen, "--migration-secret %s: %d to %d bytes expected", path,
			 MIG_SECRET_MIN, MIG_SECRET_MAX);
		return -EINVAL;
	}
	s->len = (size_t)n;
	/*
	 * OpenSSL reads its configuration and sets up its digests on first use:
	 * do that here, on the thread that loads the secret, because the
	 * migration thread's seccomp filter opens no files.
	 */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_DIGESTS, NULL) ||
	    !EVP_sha256()) {
		mig_secret_wipe(s);
		snprintf(err, errlen, "--migration-secret %s: OpenSSL: cannot set up SHA-256", path);
		return -EIO;
	}
	{
		uint8_t mac[32];
		unsigned int len = sizeof(mac);

		HMAC(EVP_sha256(), s->key, (int)s->len, (const uint8_t *)"", 0, mac, &len);
	}
	return 0;
}

void mig_secret_wipe(struct mig_secret *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

void mig_auth_mac(const struct mig_secret *s, const char *role, const uint8_t *a,
		  const uint8_t *b, uint8_t out[MIG_MAC_LEN])
{
	uint8_t msg[16 + 2 * MIG_NONCE_LEN];
	unsigned int len = MIG_MAC_LEN;
	size_t rl = strlen(role);

	memcpy(msg, role, rl);
	memcpy(msg + rl, a, MIG_NONCE_LEN);
	memcpy(msg + rl + MIG_NONCE_LEN, b, MIG_NONCE_LEN);
	HMAC(EVP_sha256(), s->key, (int)s->len, msg, rl + 2 * MIG_NONCE_LEN, out, &len);
}

static int nonce(uint8_t n[MIG_NONCE_LEN])
{
	return getrandom(n, MIG_NONCE_LEN, 0) == MIG_NONCE_LEN ? 0 : -EIO;
}

/* An AUTH record of exactly @len bytes into @buf (or the peer's ERROR). */
static int recv_auth(int fd, uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct mig_rec r;
	char why[256];
	int ret = mig_recv_rec(fd, 0, &r, why, sizeof(why));

	if (!ret && r.type == MIG_REC_ERROR && r.len < sizeof(why)) {
		ret = mig_read_all(fd, why, r.len);
		why[ret ? 0 : r.len] = 0;
		for (char *c = why; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		snprintf(err, errlen, "authentication: the peer refused: %s", why);
		return -EACCES;
	}
	if (!ret && (r.type != MIG_REC_AUTH || r.len != len)) {
		snprintf(err, errlen, "authentication: record %s of %llu bytes", mig_rec_name(r.type),
			 (unsigned long long)r.len);
		return -EPROTO;
	}
	if (ret) {
		snprintf(err, errlen, "authentication: %s", why);
		return ret;
	}
	ret = mig_read_all(fd, buf, len);
	if (ret) {
		snprintf(err, errlen, "authentication: %s", mig_io_error(ret));
		return ret;
	}
	return 0;
}

static int send_auth(int fd, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	int ret = mig_send(fd, MIG_REC_AUTH, buf, len, 0);

	if (ret)
		snprintf(err, errlen, "authentication: %s", mig_io_error(ret));
	return ret;
}

int mig_auth_client(int fd, const struct mig_secret *s, char *err, size_t errlen)
{
	uint8_t ns[MIG_NONCE_LEN], got[MIG_NONCE_LEN + MIG_MAC_LEN], mac[MIG_MAC_LEN];
	int ret = nonce(ns);

	if (ret) {
		snprintf(err, errlen, "authentication: getrandom: %s", strerror(-ret));
		return ret;
	}
	if ((ret = send_auth(fd, ns, sizeof(ns), err, errlen)) ||
	    (ret = recv_auth(fd, got, sizeof(got), err, errlen)))
		return ret;
	mig_auth_mac(s, "husk-mig dst", ns, got, mac);
	if (CRYPTO_memcmp(mac, got + MIG_NONCE_LEN, MIG_MAC_LEN)) {
		static const char why[] = "authentication failed: the peers' secrets differ";

		/* the destination learns why before the stream closes */
		mig_send(fd, MIG_REC_ERROR, why, sizeof(why) - 1, 0);
		snprintf(err, errlen, "authentication failed: the destination does not know "
			 "the secret");
		return -EACCES;
	}
	mig_auth_mac(s, "husk-mig src", got, ns, mac);
	return send_auth(fd, mac, sizeof(mac), err, errlen);
}

int mig_auth_server(int fd, const struct mig_secret *s, char *err, size_t errlen)
{
	uint8_t ns[MIG_NONCE_LEN], out[MIG_NONCE_LEN + MIG_MAC_LEN], mac[MIG_MAC_LEN],
		got[MIG_MAC_LEN];
	int ret = recv_auth(fd, ns, sizeof(ns), err, errlen);

	if (ret)
		return ret;
	ret = nonce(out);
	if (ret) {
		snprintf(err, errlen, "authentication: getrandom: %s", strerror(-ret));
		return ret;
	}
	mig_auth_mac(s, "husk-mig dst", ns, out, out + MIG_NONCE_LEN);
	if ((ret = send_auth(fd, out, sizeof(out), err, errlen)) ||
	    (ret = recv_auth(fd, got, sizeof(got), err, errlen)))
		return ret;
	mig_auth_mac(s, "husk-mig src", out, ns, mac);
	if (CRYPTO_memcmp(mac, got, MIG_MAC_LEN)) {
		snprintf(err, errlen, "authentication failed: the source does not know the secret");
		return -EACCES;
	}
	return 0;
}
