// SPDX-License-Identifier: MIT
/*
 * The API server before InstanceStart, over a real unix socket: the
 * Firecracker pre-boot flow, a table of bad requests (each a 4xx with a
 * fault_message), hostile clients (garbage, huge headers, half requests,
 * disconnects), and the socket's own rules (0600, never replacing a file,
 * removed on stop). No KVM needed: InstanceStart fails on the kernel path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/api.h"
#include "api_client.h"

struct fixture {
	char dir[64];
	char sock[96];
	struct husk_config cfg;
	struct orch_options orch;
	enum log_level level;
	struct str_arena arena;
	struct api_server *api;
};

static struct api_params params(struct fixture *f)
{
	return (struct api_params){
		.sock_path = f->sock,
		.target = { .cfg = &f->cfg, .orch = &f->orch, .log_level = &f->level,
			    .arena = &f->arena },
	};
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct api_params p;
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/husk-api-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
	husk_config_init(&f->cfg);
	f->cfg.serial = "none";
	f->level = LOG_INFO;
	p = params(f);
	if (api_start(&p, &f->api, err, sizeof(err)) < 0) {
		fprintf(stderr, "api_start: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	api_stop(f->api);
	arena_free(&f->arena);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void expect(struct fixture *f, const char *method, const char *path, const char *json,
		   int status, const char *in_body)
{
	char body[8192];
	int got = http(f->sock, method, path, json, body, sizeof(body));

	if (got != status || (in_body && !strstr(body, in_body)))
		fail_msg("%s %s %s: got %d '%s', expected %d with '%s'", method, path,
			 json ? json : "", got, body, status, in_body ? in_body : "");
}

static void test_socket_mode(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

/*
 * Pre-boot PUTs in a loop, good ones replacing the value before and bad ones
 * that copy a string before they fail: the arena holds only what the config
 * points to now (it once grew by every PUT's strings, 60 MB for 1000 PUTs).
 */
static void test_preboot_puts_bounded(void **state)
{
	struct fixture *f = *state;
	enum { PATH_LEN = 3500, ROUNDS = 300 };	/* the client sends at most 4K */
	char *path = malloc(PATH_LEN + 1), *body = malloc(PATH_LEN + 256);

	assert_non_null(path);
	assert_non_null(body);
	memset(path, 'k', PATH_LEN);
	path[0] = '/';
	path[PATH_LEN] = '\0';
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(body, PATH_LEN + 256, "{\"kernel_image_path\":\"%s\",\"boot_args\":\"r%d\"}",
			 path, i);
		expect(f, "PUT", "/boot-source", body, 204, NULL);
		snprintf(body, PATH_LEN + 256, "{\"kernel_image_path\":\"%s\",\"nope\":1}", path);
		expect(f, "PUT", "/boot-source", body, 400, "nope: unknown key");
		snprintf(body, PATH_LEN + 256, "{\"drive_id\":\"d\",\"path_on_host\":\"%s\"}", path);
		expect(f, "PUT", "/drives/d", body, 204, NULL);
		snprintf(body, PATH_LEN + 256, "{\"drive_id\":\"e\",\"path_on_host\":\"%s\","
			 "\"size\":1}", path);
		expect(f, "PUT", "/drives/e", body, 400, "size: unknown key");
	}
	/* live: the kernel path, its boot_args, the drive's id and path */
	if (arena_bytes(&f->arena) > 2 * PATH_LEN + 1024)
		fail_msg("the arena holds %zu bytes after %d rounds", arena_bytes(&f->arena), ROUNDS);
	assert_int_equal(f->cfg.ndisks, 1);
	assert_string_equal(f->cfg.kernel, path);
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Not started\"");
	free(path);
	free(body);
}

static void test_preboot_flow(void **state)
{
	struct fixture *f = *state;

	expect(f, "GET", "/", NULL, 200, "\"state\":\"Not started\"");
	expect(f, "PUT", "/boot-source", "{\"kernel_image_path\":\"/nonexistent/vmlinux\","
	       "\"boot_args\":\"console=ttyS0\"}", 204, NULL);
	expect(f, "PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":128}", 204, NULL);
	expect(f, "PATCH", "/machine-config", "{\"huge_pages\":\"2M\"}", 204, NULL);
	expect(f, "GET", "/machine-config", NULL, 200, "\"vcpu_count\":2,\"mem_size_mib\":128");
	expect(f, "PUT", "/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r.img\","
	       "\"is_root_device\":true,\"is_read_only\":false}", 204, NULL);
	expect(f, "PUT", "/network-interfaces/eth0", "{\"iface_id\":\"eth0\","
	       "\"host_dev_name\":\"tap0\",\"guest_mac\":\"06:00:00:00:00:01\"}", 204, NULL);
	expect(f, "PUT", "/metrics", "{\"metrics_path\":\"/dev/null\"}", 204, NULL);
	expect(f, "GET", "/vm/config", NULL, 200, "\"path_on_host\":\"/r.img\"");
	expect(f, "GET", "/vm/config", NULL, 200, "\"host_dev_name\":\"tap0\"");
	assert_string_equal(f->cfg.kernel, "/nonexistent/vmlinux");
	assert_int_equal(f->cfg.cpus, 2);
	assert_true(f->cfg.hugepages);
	assert_int_equal(f->cfg.ndisks, 1);
	assert_int_equal(f->cfg.nnets, 1);
	/* InstanceStart fails on the kernel: a 400 naming it, and husk keeps serving */
	expect(f, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400,
	       "--kernel /nonexistent/vmlinux: No such file or directory");
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Not started\"");
	expect(f, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 204, NULL);
	expect(f, "GET", "/metrics", NULL, 200, "\"api_server\"");
}

static const struct bad_request {
	const char *method, *path, *body;
	int status;
	const char *message;
} bad_requests[] = {
	{ "GET", "/nope", NULL, 400, "Invalid request method and/or path: GET /nope." },
	{ "DELETE", "/drives/a", NULL, 400, "Invalid request method and/or path" },
	{ "PUT", "/boot-source", NULL, 400, "a JSON body is required" },
	{ "PUT", "/boot-source", "{", 400, "invalid JSON: unexpected end of input" },
	{ "PUT", "/boot-source", "nope", 400, "invalid JSON at byte" },
	{ "PUT", "/boot-source", "[1]", 400, "expected a JSON object" },
	{ "PUT", "/boot-source", "{}", 400, "kernel_image_path: required" },
	{ "PUT", "/boot-source", "{\"kernel_image_path\":5}", 400, "kernel_image_path: expected string" },
	{ "PUT", "/machine-config", "{\"vcpu_count\":2}", 400, "mem_size_mib: required" },
	{ "PUT", "/machine-config", "{\"vcpu_count\":999,\"mem_size_mib\":64}", 400,
	  "vcpu_count: expected an integer from 1 to 254" },
	{ "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64,\"track_dirty_pages\":\"y\"}",
	  400, "track_dirty_pages: expected boolean" },
	{ "PUT", "/drives/a", "{\"drive_id\":\"b\",\"path_on_host\":\"x\"}", 400,
	  "drive_id: 'b' does not match the id 'a' in the path" },
	{ "PUT", "/drives/a", "{\"drive_id\":\"a\"}", 400, "path_on_host: required" },
	{ "PUT", "/drives/", "{\"drive_id\":\"a\",\"path_on_host\":\"x\"}", 400, "Invalid request" },
	{ "PUT", "/drives/a/b", "{\"drive_id\":\"a\",\"path_on_host\":\"x\"}", 400, "Invalid request" },
	{ "PATCH", "/drives/a", "{\"drive_id\":\"a\",\"path_on_host\":\"x\"}", 400, "not supported yet" },
	{ "PUT", "/network-interfaces/e", "{\"iface_id\":\"e\",\"host_dev_name\":1}", 400,
	  "host_dev_name: expected string" },
	{ "PUT", "/logger", "{\"level\":\"Loud\"}", 400, "level: expected Error, Warning" },
	{ "PUT", "/logger", "{\"log_path\":\"/nonexistent/dir/log\"}", 400,
	  "log_path /nonexistent/dir/log: No such file or directory" },
	{ "PUT", "/metrics", "{\"metrics_path\":\"/nonexistent/dir/m\"}", 400,
	  "metrics_path /nonexistent/dir/m: No such file or directory" },
	{ "PUT", "/actions", "{}", 400, "action_type: expected string" },
	{ "PUT", "/actions", "{\"action_type\":\"Reboot\"}", 400, "action_type: expected InstanceStart" },
	{ "PUT", "/actions", "{\"action_type\":\"InstanceStart\",\"x\":1}", 400,
	  "only action_type is allowed" },
	{ "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 400,
	  "not supported before starting the microVM" },
	{ "PUT", "/actions", "{\"action_type\":\"Shutdown\"}", 400,
	  "not supported before starting the microVM" },
	{ "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 400, "no metrics file" },
	{ "PATCH", "/vm", "{\"state\":\"Paused\"}", 400, "not supported before starting the microVM" },
	{ "PATCH", "/vm", "{\"state\":\"Frozen\"}", 400, "state: expected \\\"Paused\\\" or \\\"Resumed\\\"" },
	{ "PATCH", "/vm", "{\"state\":1}", 400, "state: expected string" },
};

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	struct husk_config before = f->cfg;

	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		const struct bad_request *b = &bad_requests[i];

		expect(f, b->method, b->path, b->body, b->status, b->message);
		expect(f, b->method, b->path, b->body, b->status, "\"fault_message\"");
	}
	/* nothing above changed the pending config */
	assert_int_equal(f->cfg.ndisks, before.ndisks);
	assert_int_equal(f->cfg.cpus, before.cpus);
	assert_null(f->cfg.kernel);
	expect(f, "GET", "/", NULL, 200, "Not started");
}

static void test_garbage(void **state)
{
	struct fixture *f = *state;
	static const char *const junk[] = {
		"\x01\x02\x03\xff\xfe garbage\r\n\r\n",
		"GET\r\n\r\n",
		"PUT /boot-source HTTP/9.9\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
		"PUT /actions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	};
	char reply[4096];

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int fd = connect_to(f->sock), status;

		send_all(fd, junk[i], strlen(junk[i]));
		shutdown(fd, SHUT_WR);
		status = read_reply(fd, reply, sizeof(reply));
		close(fd);
		/*
		 * an error status (4xx; 505 for an HTTP version libmicrohttpd does
		 * not speak), or the connection closed: never a 2xx, never a hang
		 */
		if (status != 0 && (status < 400 || (status > 499 && status != 505)))
			fail_msg("junk %zu: status %d", i, status);
		expect(f, "GET", "/", NULL, 200, "Not started");
	}
}

static void test_huge_headers_and_body(void **state)
{
	struct fixture *f = *state;
	size_t n = 256 * 1024;
	char *req = malloc(n + 256), reply[4096];
	int fd, status;

	/* one 256 KiB header */
	strcpy(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + strlen(req), 'a', n);
	strcpy(req + strlen("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ") + n, "\r\n\r\n");
	fd = connect_to(f->sock);
	send_all(fd, req, strlen(req));
	status = read_reply(fd, reply, sizeof(reply));
	close(fd);
	if (status != 0 && (status < 400 || status > 499))
		fail_msg("huge header: status %d", status);
	expect(f, "GET", "/", NULL, 200, "Not started");

	/* a 256 KiB body */
	snprintf(req, 256, "PUT /boot-source HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: %zu\r\n\r\n", n);
	fd = connect_to(f->sock);
	send_all(fd, req, strlen(req));
	memset(req, ' ', n);
	send_all(fd, req, n);
	status = read_reply(fd, reply, sizeof(reply));
	close(fd);
	assert_int_equal(status, 413);
	assert_non_null(strstr(reply, "fault_message"));
	free(req);
	expect(f, "GET", "/", NULL, 200, "Not started");
}

static void test_half_requests_and_disconnects(void **state)
{
	struct fixture *f = *state;
	static const char *const halves[] = {
		"GET / HT",
		"PUT /boot-source HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"kern",
		"PUT /boot-source HTTP/1.1\r\nHost: x\r\n",
	};
	int open_fds[3];

	/* left open: the others are still served */
	for (int i = 0; i < 3; i++) {
		open_fds[i] = connect_to(f->sock);
		send_all(open_fds[i], halves[i], strlen(halves[i]));
	}
	expect(f, "GET", "/", NULL, 200, "Not started");
	/* and dropped mid-way */
	for (int i = 0; i < 3; i++)
		close(open_fds[i]);
	for (int i = 0; i < 3; i++) {
		int fd = connect_to(f->sock);

		send_all(fd, halves[i], strlen(halves[i]));
		close(fd);
	}
	expect(f, "GET", "/", NULL, 200, "Not started");
	assert_null(f->cfg.kernel);	/* half a body never applied */
}

static void test_keepalive_pipeline(void **state)
{
	struct fixture *f = *state;
	const char *two = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /machine-config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char reply[8192];
	int fd = connect_to(f->sock);

	send_all(fd, two, strlen(two));
	assert_int_equal(read_reply(fd, reply, sizeof(reply)), 200);
	assert_non_null(strstr(reply, "Not started"));
	assert_non_null(strstr(reply, "mem_size_mib"));
	close(fd);
}

static void test_refuses_non_socket(void **state)
{
	struct fixture f2 = { 0 };
	struct api_params p;
	struct api_server *api = NULL;
	char err[256] = "";
	struct stat st;
	FILE *file;

	(void)state;
	snprintf(f2.sock, sizeof(f2.sock), "/tmp/husk-api-file-%d", getpid());
	file = fopen(f2.sock, "w");
	assert_non_null(file);
	fputs("precious", file);
	fclose(file);
	husk_config_init(&f2.cfg);
	p = params(&f2);
	assert_int_not_equal(api_start(&p, &api, err, sizeof(err)), 0);
	assert_null(api);
	assert_non_null(strstr(err, "exists and is not a socket"));
	assert_int_equal(stat(f2.sock, &st), 0);
	assert_int_equal(st.st_size, 8);	/* untouched */
	unlink(f2.sock);
}

static void test_live_socket_refused_stale_replaced(void **state)
{
	struct fixture *f = *state;
	struct api_server *api = NULL;
	struct api_params p = params(f);
	char err[256] = "";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char stale[100];
	int fd;

	assert_int_not_equal(api_start(&p, &api, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "another process is serving on it"));
	expect(f, "GET", "/", NULL, 200, "Not started");	/* the first is unharmed */

	/* a socket file nobody listens on (a crashed husk) is replaced */
	snprintf(stale, sizeof(stale), "%s/stale.sock", f->dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(addr.sun_path, stale, sizeof(addr.sun_path) - 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	p.sock_path = stale;
	assert_int_equal(api_start(&p, &api, err, sizeof(err)), 0);
	api_stop(api);
	assert_int_not_equal(access(stale, F_OK), 0);	/* removed on stop */
}

static void test_removed_on_stop(void **state)
{
	struct fixture *f = *state;

	api_stop(f->api);
	f->api = NULL;
	assert_int_not_equal(access(f->sock, F_OK), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_socket_mode),
		T(test_preboot_flow),
		T(test_preboot_puts_bounded),
		T(test_bad_requests),
		T(test_garbage),
		T(test_huge_headers_and_body),
		T(test_half_requests_and_disconnects),
		T(test_keepalive_pipeline),
		cmocka_unit_test(test_refuses_non_socket),
		T(test_live_socket_refused_stale_replaced),
		T(test_removed_on_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
