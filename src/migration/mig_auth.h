/* SPDX-License-Identifier: MIT */
#ifndef HUSK_MIG_AUTH_H
#define HUSK_MIG_AUTH_H

/*
 * Peer authentication of a migration or replication stream with a shared
 * secret (--migration-secret FILE on both hosts; docs/migration.md): a
 * mutual challenge-response right after the hello, HMAC-SHA256 (OpenSSL's
 * libcrypto) over both sides' random nonces, so neither side proves
 * anything a recorded exchange could replay:
 *
 *   source -> destination  AUTH  nonce_s (32 bytes)
 *   destination -> source  AUTH  nonce_d, HMAC(secret, "husk-mig dst" nonce_s nonce_d)
 *   source -> destination  AUTH  HMAC(secret, "husk-mig src" nonce_d nonce_s)
 *
 * It authenticates the peer; it does not encrypt the stream or protect
 * its records against a man in the middle (use a tunnel for that).
 */
#include <stddef.h>
#include <stdint.h>

#define MIG_NONCE_LEN		32
#define MIG_MAC_LEN		32
#define MIG_SECRET_MIN		16
#define MIG_SECRET_MAX		4096

struct mig_secret {
	size_t len;
	uint8_t key[MIG_SECRET_MAX];
};

/* Read the secret from @path (16..4096 bytes, a trailing newline dropped). */
int mig_secret_load(const char *path, struct mig_secret *s, char *err, size_t errlen);
void mig_secret_wipe(struct mig_secret *s);

/* The source's half on @fd (after its hello); -EACCES with @err when the peer failed it. */
int mig_auth_client(int fd, const struct mig_secret *s, char *err, size_t errlen);
/* The destination's half (after reading the hello). */
int mig_auth_server(int fd, const struct mig_secret *s, char *err, size_t errlen);

/* HMAC-SHA256(secret, @role || @a || @b), both MIG_NONCE_LEN bytes (the tests). */
void mig_auth_mac(const struct mig_secret *s, const char *role, const uint8_t *a,
		  const uint8_t *b, uint8_t out[MIG_MAC_LEN]);

#endif
