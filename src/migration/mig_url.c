// SPDX-License-Identifier: MIT
/* Migration URLs: parse, connect, listen (mig_url.h). */
#include "migration/mig_url.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

int mig_url_parse(const char *s, struct mig_url *u, char *err, size_t errlen)
{
	const char *hp, *colon;
	size_t hl;
	char *end;
	long port;

	memset(u, 0, sizeof(*u));
	if (!s || !*s) {
		snprintf(err, errlen, "migration URL: empty (expected unix:PATH or tcp:HOST:PORT)");
		return -EINVAL;
	}
	if (!strncmp(s, "unix:", 5)) {
		if (!s[5] || strlen(s + 5) >= sizeof(u->path)) {
			snprintf(err, errlen, "migration URL %s: the path must be 1..%zu bytes", s,
				 sizeof(u->path) - 1);
			return -EINVAL;
		}
		strcpy(u->path, s + 5);
		return 0;
	}
	if (strncmp(s, "tcp:", 4)) {
		snprintf(err, errlen, "migration URL %s: expected unix:PATH or tcp:HOST:PORT", s);
		return -EINVAL;
	}
	hp = s + 4;
	colon = strrchr(hp, ':');
	if (!colon || colon == hp) {
		snprintf(err, errlen, "migration URL %s: expected tcp:HOST:PORT (a host is required)",
			 s);
		return -EINVAL;
	}
	hl = (size_t)(colon - hp);
	if (hp[0] == '[') {
		if (hl < 3 || hp[hl - 1] != ']') {
			snprintf(err, errlen, "migration URL %s: expected tcp:[V6ADDR]:PORT", s);
			return -EINVAL;
		}
		hp++;
		hl -= 2;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (hl >= sizeof(u->host) || !colon[1] || *end || errno || port < 1 || port > 65535) {
		snprintf(err, errlen, "migration URL %s: the port must be 1..65535", s);
		return -EINVAL;
	}
	u->tcp = true;
	memcpy(u->host, hp, hl);
	u->host[hl] = 0;
	snprintf(u->port, sizeof(u->port), "%ld", port);
	return 0;
}

static int resolve(const struct mig_url *u, bool passive, struct addrinfo **res, char *err,
		   size_t errlen)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	int ret = getaddrinfo(u->host, u->port, &hints, res);

	if (ret) {
		snprintf(err, errlen, "migration URL tcp:%s:%s: %s", u->host, u->port,
			 gai_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

int mig_url_connect(const struct mig_url *u, unsigned timeout_s, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = timeout_s };
	struct addrinfo *res = NULL, *ai;
	int fd = -1, ret = -EINVAL;

	if (!u->tcp) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, u->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		ret = -errno;
		snprintf(err, errlen, "migration to unix:%s: %s", u->path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (resolve(u, false, &res, err, errlen))
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "migration to tcp:%s:%s: %s", u->host, u->port,
			 ret == -EINPROGRESS || ret == -EAGAIN ? "connection timed out" :
			 strerror(-ret));
	return fd >= 0 ? fd : ret;
}

int mig_url_listen(const struct mig_url *u, char *err, size_t errlen)
{
	struct addrinfo *res = NULL, *ai;
	int fd = -1, ret = -EINVAL, one = 1;

	if (!u->tcp) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct stat st;

		if (lstat(u->path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "--incoming unix:%s: exists and is not a socket",
					 u->path);
				return -EEXIST;
			}
			unlink(u->path);
		}
		strcpy(sa.sun_path, u->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			if (listen(fd, 1) == 0)
				return fd;
			ret = -errno;
			unlink(u->path);
		} else {
			ret = -errno;
		}
		snprintf(err, errlen, "--incoming unix:%s: %s", u->path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (resolve(u, true, &res, err, errlen))
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "--incoming tcp:%s:%s: %s", u->host, u->port, strerror(-ret));
	return fd >= 0 ? fd : ret;
}
