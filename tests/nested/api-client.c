// SPDX-License-Identifier: MIT
/*
 * api-client SOCKET METHOD PATH [BODY]: one HTTP/1.1 request on a unix
 * socket; prints the status code, a space and the body on one line; exit
 * status 0 for a 2xx, 1 otherwise. The nested harness's outer VM has only
 * busybox (no curl, no unix-socket nc), so its API cases use this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path))
		return -1;
	memcpy(addr.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char reply[65536];
	const char *body = argc > 4 ? argv[4] : "";
	char head[1024], *text;
	size_t len = 0;
	ssize_t n;
	int fd, status = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: api-client SOCKET METHOD PATH [BODY]\n");
		return 2;
	}
	fd = connect_unix(argv[1]);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", argv[2], argv[3],
		 strlen(body));
	if (send_all(fd, head, strlen(head)) || send_all(fd, body, strlen(body))) {
		perror("send");
		return 1;
	}
	while (len + 1 < sizeof(reply) && (n = recv(fd, reply + len, sizeof(reply) - len - 1, 0)) > 0)
		len += (size_t)n;
	reply[len] = '\0';
	close(fd);
	sscanf(reply, "HTTP/1.%*d %d", &status);
	text = strstr(reply, "\r\n\r\n");
	printf("%d %s\n", status, text ? text + 4 : "");
	return status >= 200 && status < 300 ? 0 : 1;
}
