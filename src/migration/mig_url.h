/* SPDX-License-Identifier: MIT */
#ifndef HUSK_MIG_URL_H
#define HUSK_MIG_URL_H

/*
 * Where a migration goes: "unix:PATH" (a unix stream socket) or
 * "tcp:HOST:PORT" ("tcp:[V6ADDR]:PORT" for a literal IPv6 address). The
 * destination binds exactly there and nowhere else; HOST must be given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

struct mig_url {
	bool tcp;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256];
	char port[8];
};

int mig_url_parse(const char *s, struct mig_url *u, char *err, size_t errlen);
/* A connected stream socket, or -errno (@timeout_s bounds the connect). */
int mig_url_connect(const struct mig_url *u, unsigned timeout_s, char *err, size_t errlen);
/*
 * A listening socket. unix: a stale socket at PATH is replaced, anything
 * else there is refused; the caller unlinks PATH when done.
 */
int mig_url_listen(const struct mig_url *u, char *err, size_t errlen);

#endif
