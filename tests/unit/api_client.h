/* SPDX-License-Identifier: MIT */
/* A minimal HTTP/1.1 client on a unix socket, for the API tests. */
#ifndef HUSK_API_CLIENT_H
#define HUSK_API_CLIENT_H

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;		/* the server may close early on garbage: fine */
		buf += w;
		n -= (size_t)w;
	}
}

/* Read until the server closes; returns the HTTP status (0: none). */
static int read_reply(int fd, char *out, size_t outlen)
{
	size_t len = 0;
	ssize_t n;
	int status = 0;

	while (len + 1 < outlen && (n = recv(fd, out + len, outlen - len - 1, 0)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	sscanf(out, "HTTP/1.%*d %d", &status);
	return status;
}

/* One request on its own connection; returns the status, the body in @body. */
static int http(const char *sock, const char *method, const char *path, const char *json,
		char *body, size_t bodylen)
{
	char req[4096], reply[16384], *start;
	int fd = connect_to(sock), status;

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", method, path,
		 json ? strlen(json) : 0, json ? json : "");
	send_all(fd, req, strlen(req));
	status = read_reply(fd, reply, sizeof(reply));
	close(fd);
	start = strstr(reply, "\r\n\r\n");
	snprintf(body, bodylen, "%s", start ? start + 4 : "");
	return status;
}

#endif
