// SPDX-License-Identifier: MIT
/*
 * The API socket: a unix socket husk creates itself (mode 0600), served by
 * libmicrohttpd's internal polling thread. libmicrohttpd bounds what a
 * client can make husk hold: header memory per connection, the number of
 * connections, and an idle timeout for half-sent requests; bodies are
 * capped here at API_MAX_BODY.
 */
#include "api/api_internal.h"
#include "migration/migrate.h"
#include "core/log.h"
#include "sandbox/seccomp.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define API_MAX_CONNECTIONS	32
#define API_IDLE_TIMEOUT_S	10
#define API_CONN_MEMORY		(32u << 10)	/* headers; larger: 431 */

/* One request's body as it arrives. */
struct api_request {
	char *body;
	size_t len;
	bool too_large;
};

/* An existing path: a socket nobody listens on is stale and replaced. */
static int check_existing(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "--api-sock %s: %s", path,
						       strerror(errno)), -errno);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "--api-sock %s: exists and is not a socket; not replacing it",
			 path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(addr.sun_path, path, strlen(path));
	live = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "--api-sock %s: another process is serving on it", path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0) {
		snprintf(err, errlen, "--api-sock %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The socket appears at @path only once it listens: bound under a temporary
 * name, then renamed into place. A client that waits for the file and
 * connects at once (the go-sdk does) is never refused in between.
 */
static int bind_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, ret, n;

	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s.%d.tmp", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path)) {
		/* room for the temporary name's ".PID.tmp" too */
		snprintf(err, errlen, "--api-sock %s: longer than %zu bytes", path,
			 sizeof(addr.sun_path) - 1 - ((size_t)n - strlen(path)));
		return -ENAMETOOLONG;
	}
	ret = check_existing(path, err, errlen);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	/* no thread runs yet: the umask change cannot race anything */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (ret < 0 || chmod(addr.sun_path, 0600) < 0 || listen(fd, 16) < 0 ||
	    rename(addr.sun_path, path) < 0)
		goto fail;
	return fd;
fail:
	ret = -errno;
	snprintf(err, errlen, "--api-sock %s: %s", path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(addr.sun_path);
	}
	return ret;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct api_reply *r)
{
	const char *text = r->body ? json_object_to_json_string_ext(r->body,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "";
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	json_object_put(r->body);
	if (!resp)
		return MHD_NO;
	if (r->status != 204)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The body limit: --http-api-max-payload-size, else API_MAX_BODY. */
static size_t max_body(const struct api_server *s)
{
	return s->t.orch->api_max_body ? s->t.orch->api_max_body : API_MAX_BODY;
}

static void take_body(struct api_request *req, const char *data, size_t n, size_t max)
{
	char *grown;

	if (req->too_large || req->len + n > max) {
		req->too_large = true;
		return;
	}
	grown = realloc(req->body, req->len + n + 1);
	if (!grown) {
		req->too_large = true;
		return;
	}
	memcpy(grown + req->len, data, n);
	req->body = grown;
	req->len += n;
	req->body[req->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct api_server *s = cls;
	struct api_request *req = *con_cls;
	struct api_reply r = { 0 };

	sandbox_note_role(SANDBOX_API);	/* the filter came with the thread: see start_daemon() */

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		*con_cls = req;
		return req ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		take_body(req, upload, *upload_size, max_body(s));
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->lock);
	s->requests++;
	if (req->too_large)
		api_fault(&r, 413, "request body larger than %zu bytes", max_body(s));
	else
		api_route(s, method, url, req->body ? req->body : "", req->len, &r);
	if (r.status >= 400)
		s->bad_requests++;
	pthread_mutex_unlock(&s->lock);
	pr_debug("api: %s %s -> %u", method, url, r.status);
	return send_reply(c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (req)
		free(req->body);
	free(req);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	pr_debug("api: %s", msg);
}

static void *daemon_starter(void *arg)
{
	struct api_server *s = arg;

	s->daemon = NULL;
	if (sandbox_enter(s->t.cfg->sandbox, SANDBOX_API) < 0)
		return (void *)1;
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				     MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				     MHD_OPTION_END);
	return NULL;
}

/*
 * libmicrohttpd starts its own thread, where husk cannot run code first:
 * start it from a short-lived thread that has entered the API role, so the
 * HTTP thread inherits that filter before it reads a byte.
 */
static int start_daemon(struct api_server *s)
{
	pthread_t t;
	void *res;
	int ret;

	if (!s->t.cfg->sandbox)
		return daemon_starter(s) ? -EPERM : 0;
	ret = pthread_create(&t, NULL, daemon_starter, s);
	if (ret)
		return -ret;
	pthread_join(t, &res);
	return res ? -EPERM : 0;
}

int api_start(const struct api_params *p, struct api_server **out, char *err, size_t errlen)
{
	struct api_server *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s || !(s->sock_path = strdup(p->sock_path))) {
		free(s);
		snprintf(err, errlen, "--api-sock %s: %s", p->sock_path, strerror(ENOMEM));
		return -ENOMEM;
	}
	s->t = p->target;
	pthread_mutex_init(&s->lock, NULL);
	s->start_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->listen_fd = s->start_fd < 0 ? -errno : bind_socket(p->sock_path, err, errlen);
	if (s->listen_fd < 0) {
		int ret = s->listen_fd;

		if (s->start_fd < 0)
			snprintf(err, errlen, "--api-sock: eventfd: %s", strerror(-ret));
		s->listen_fd = -1;
		s->daemon = NULL;
		api_stop(s);
		return ret;
	}
	ret = start_daemon(s);
	if (ret || !s->daemon) {
		snprintf(err, errlen, "--api-sock %s: cannot start the HTTP server%s", p->sock_path,
			 ret ? " (its seccomp filter)" : "");
		api_stop(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

int api_wait_instance_start(struct api_server *s, struct husk_vm **vm)
{
	struct pollfd fds[2] = { { .fd = s->start_fd, .events = POLLIN } };
	sigset_t set;
	int ret = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	fds[1].fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	fds[1].events = POLLIN;
	if (fds[1].fd < 0)
		return -errno;
	pr_info("waiting for the API on %s (PUT /actions InstanceStart)", s->sock_path);
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(fds[1].fd, &si, sizeof(si)) == sizeof(si))
				pr_info("received %s before InstanceStart, exiting",
					strsignal((int)si.ssi_signo));
			ret = -EINTR;
			break;
		}
		if (fds[0].revents & POLLIN)
			break;
	}
	close(fds[1].fd);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	*vm = s->vm;
	s->handed_over = true;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void api_attach_vm(struct api_server *s, struct husk_vm *vm)
{
	pthread_mutex_lock(&s->lock);
	s->vm = vm;
	s->started = true;
	s->handed_over = true;
	pthread_mutex_unlock(&s->lock);
}

void api_detach_vm(struct api_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	/* a migration thread uses the VM: it ends (cancelled if need be) first */
	mig_source_destroy(s->mig);
	s->mig = NULL;
	s->vm = NULL;
	pthread_mutex_unlock(&s->lock);
}

void api_stop(struct api_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);	/* joins its thread, closes the listen fd */
	else if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->listen_fd >= 0)
		unlink(s->sock_path);
	if (s->start_fd >= 0)
		close(s->start_fd);
	/* a VM InstanceStart built that main never took (a signal came first) */
	if (s->vm && !s->handed_over)
		husk_vm_destroy(s->vm);
	pthread_mutex_destroy(&s->lock);
	free(s->sock_path);
	free(s);
}
