// SPDX-License-Identifier: MIT
/*
 * PUT /snapshot/create and PUT /snapshot/load over a real API socket: every
 * bad field is a 400 with one fault_message, nothing is left behind (no
 * file, no VM: the husk stays "Not started" and keeps serving). No KVM
 * needed: every request here is refused before a VM would be built.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct api_params p;
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/husk-apisnap-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
	husk_config_init(&f->cfg);
	f->cfg.serial = "none";
	f->level = LOG_INFO;
	p = (struct api_params){
		.sock_path = f->sock,
		.target = { .cfg = &f->cfg, .orch = &f->orch, .log_level = &f->level,
			    .arena = &f->arena },
	};
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
	char path[128];

	api_stop(f->api);
	arena_free(&f->arena);
	snprintf(path, sizeof(path), "%s/garbage.snap", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vm.mem", f->dir);
	unlink(path);
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
	if (status >= 400 && !strstr(body, "\"fault_message\""))
		fail_msg("%s %s: no fault_message in '%s'", method, path, body);
}

/* Only the socket (and the files a test made itself) are in the directory. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_create_bad_input(void **state)
{
	static const struct { const char *body, *why; } bad[] = {
		{ "", "a JSON body is required" },
		{ "[]", "expected a JSON object" },
		{ "{\"snapshot_path\":\"/tmp/x\"}", "mem_file_path: required" },
		{ "{\"mem_file_path\":\"/tmp/x\"}", "snapshot_path: required" },
		{ "{\"snapshot_path\":1,\"mem_file_path\":\"/m\"}", "snapshot_path: expected" },
		{ "{\"snapshot_path\":\"\",\"mem_file_path\":\"/m\"}", "snapshot_path: expected" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"snapshot_type\":\"Diff\"}",
		  "not supported before starting the microVM" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"snapshot_type\":\"Half\"}",
		  "snapshot_type: expected \\\"Full\\\" or \\\"Diff\\\"" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"version\":\"1\"}",
		  "version: unknown key" },
		/* well-formed, but nothing runs yet */
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"snapshot_type\":\"Full\"}",
		  "not supported before starting the microVM" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(f, "PUT", "/snapshot/create", bad[i].body, 400, bad[i].why);
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Not started\"");
	assert_int_equal(entries(f->dir), 1);
}

static void test_load_bad_input(void **state)
{
	struct fixture *f = *state;
	char body[512], garbage[128], mem[128];
	const struct { const char *body, *why; } bad[] = {
		{ "", "a JSON body is required" },
		{ "{\"snapshot_path\":\"/s\"", "" },
		{ "{}", "snapshot_path: required" },
		{ "{\"snapshot_path\":7}", "snapshot_path: expected a non-empty string" },
		{ "{\"snapshot_path\":\"/s\"}", "mem_backend: required" },
		{ "{\"snapshot_path\":\"/s\",\"mem_backend\":[]}", "mem_backend: expected an object" },
		{ "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_path\":\"/m\"}}",
		  "mem_backend.backend_type: required" },
		{ "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"File\"}}",
		  "mem_backend.backend_path: required" },
		{ "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"Uffd\","
		  "\"backend_path\":\"/u\"}}", "LoadSnapshot: snapshot /s: No such file" },
		{ "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"Disk\","
		  "\"backend_path\":\"/u\"}}", "expected \\\"File\\\" or \\\"Uffd\\\"" },
		{ "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"File\","
		  "\"backend_path\":\"/m\",\"x\":1}}", "mem_backend.x: unknown key" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"mem_backend\":"
		  "{\"backend_type\":\"File\",\"backend_path\":\"/m\"}}", "give only one" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"resume_vm\":\"yes\"}",
		  "resume_vm: expected a boolean" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"track_dirty_pages\":0}",
		  "track_dirty_pages: expected a boolean" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"clock_realtime\":1}",
		  "clock_realtime: expected a boolean" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"network_overrides\":"
		  "[{\"iface_id\":\"n\"}]}", "network_overrides[0].host_dev_name: required" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"network_overrides\":"
		  "[{\"iface_id\":\"n\",\"host_dev_name\":\"t\",\"mac\":1}]}",
		  "network_overrides[0].mac: unknown key" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"network_overrides\":[1]}",
		  "network_overrides[0]: expected an object" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"drive_overrides\":"
		  "[{\"path_on_host\":\"/x\"}]}", "drive_overrides[0].drive_id: required" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"drive_overrides\":"
		  "[{\"drive_id\":\"d\",\"is_read_only\":\"no\"}]}",
		  "drive_overrides[0].is_read_only: expected a boolean" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"drive_overrides\":"
		  "[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}]}",
		  "drive_overrides: at most 16 entries" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"network_overrides\":{}}",
		  "network_overrides: expected an array" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"vsock_override\":"
		  "{\"uds_path\":\"/v\"}}", "no vsock device" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"huge_pages\":\"2M\"}",
		  "huge_pages 2M: not supported yet" },
		{ "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\",\"speed\":1}",
		  "speed: unknown key" },
		{ "{\"snapshot_path\":\"/nonexistent/vm.snap\",\"mem_backend\":{\"backend_type\":"
		  "\"File\",\"backend_path\":\"/m\"},\"resume_vm\":true,\"track_dirty_pages\":false,"
		  "\"network_overrides\":[],\"huge_pages\":\"Snapshot\"}",
		  "LoadSnapshot: snapshot /nonexistent/vm.snap: No such file or directory" },
	};
	FILE *fp;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(f, "PUT", "/snapshot/load", bad[i].body, 400, bad[i].why);
	/* a file that is not a snapshot */
	snprintf(garbage, sizeof(garbage), "%s/garbage.snap", f->dir);
	snprintf(mem, sizeof(mem), "%s/vm.mem", f->dir);
	fp = fopen(garbage, "w");
	fputs("HUSKSNAP but not really a snapshot, just some text", fp);
	fclose(fp);
	snprintf(body, sizeof(body), "{\"snapshot_path\":\"%s\",\"mem_backend\":"
		 "{\"backend_type\":\"File\",\"backend_path\":\"%s\"}}", garbage, mem);
	expect(f, "PUT", "/snapshot/load", body, 400, "format version");
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Not started\"");
	/* not fresh any more: refused before the file is read */
	expect(f, "PUT", "/boot-source", "{\"kernel_image_path\":\"/k\"}", 204, NULL);
	expect(f, "PUT", "/snapshot/load", body, 400, "only on a fresh husk");
	assert_int_equal(entries(f->dir), 2);	/* the socket and garbage.snap */
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Not started\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
