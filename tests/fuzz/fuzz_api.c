// SPDX-License-Identifier: MIT
/*
 * The API's routes (api/routes.c, views.c) without the HTTP server: a
 * sequence of requests straight into api_route(), as server.c makes them
 * (the body NUL-terminated, in a buffer of exactly its size). Each request:
 *   byte     route (the table below); bit 7 set: the VM counts as started
 *   byte     id length, then the id (for /drives/ID, /network-interfaces/ID)
 *   u16      body length, then the body
 * After each request the GET views run on what the config became.
 * Before boot, PUT /logger and PUT /metrics (they open files at the path
 * in the body) and the InstanceStart and FlushMetrics actions (a real VM, a
 * file write) are not sent: the parsers behind the first two are
 * fuzz_config_file's.
 */
#include <json-c/json.h>

#include "api/api_internal.h"
#include "vmm/config_file.h"
#include "fuzz_helpers.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

struct route {
	const char *method, *url;	/* url ending in '/': an id follows */
};

static const struct route routes[] = {
	{ "PUT", "/boot-source" }, { "PUT", "/machine-config" }, { "PATCH", "/machine-config" },
	{ "PUT", "/drives/" }, { "PUT", "/network-interfaces/" }, { "PUT", "/actions" },
	{ "PATCH", "/vm" }, { "PATCH", "/drives/" }, { "PUT", "/logger" }, { "PUT", "/metrics" },
	{ "GET", "/" }, { "GET", "/machine-config" }, { "GET", "/vm/config" }, { "GET", "/metrics" },
	{ "DELETE", "/" }, { "PUT", "/drives" }, { "PUT", "/balloon" }, { "PATCH", "/balloon" },
	{ "PATCH", "/balloon/statistics" }, { "GET", "/balloon" }, { "GET", "/balloon/statistics" },
};

/* Would this request do more than parse and store, before boot? */
static bool unsafe(const struct route *rt, const char *body, size_t len)
{
	struct json_object *o, *v;
	const char *a;
	bool bad = false;

	if (strcmp(rt->method, "PUT") == 0 &&
	    (strcmp(rt->url, "/logger") == 0 || strcmp(rt->url, "/metrics") == 0))
		return true;
	if (strcmp(rt->url, "/actions") != 0)
		return false;
	o = config_parse_json(body, len, (char[64]){0}, 64);
	if (o && json_object_object_get_ex(o, "action_type", &v) &&
	    json_object_is_type(v, json_type_string)) {
		a = json_object_get_string(v);
		bad = strcmp(a, "InstanceStart") == 0 || strcmp(a, "FlushMetrics") == 0;
	}
	json_object_put(o);
	return bad;
}

static void check_reply(struct api_reply *r)
{
	struct json_object *msg;

	if (r->status < 200 || r->status > 599)
		__builtin_trap();
	if (r->status >= 400 && (!r->body || !json_object_object_get_ex(r->body, "fault_message", &msg)))
		__builtin_trap();
	if (r->body)
		(void)json_object_to_json_string(r->body);
	json_object_put(r->body);
}

static void views(struct api_server *s)
{
	static const char *urls[] = { "/", "/machine-config", "/vm/config", "/metrics" };

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct api_reply r = {0};

		api_route(s, "GET", urls[i], "", 0, &r);
		if (r.status != 200)
			__builtin_trap();
		check_reply(&r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in_init(data, size);
	struct husk_config cfg;
	struct orch_options orch = {0};
	enum log_level level = LOG_INFO;
	struct str_arena arena = {0};
	struct api_server s = {
		.listen_fd = -1, .start_fd = -1,
		.t = { .cfg = &cfg, .orch = &orch, .log_level = &level, .arena = &arena },
	};

	husk_config_init(&cfg);
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in);
		const struct route *rt = &routes[(op & 0x7f) % (sizeof(routes) / sizeof(routes[0]))];
		size_t idlen, blen, ulen = strlen(rt->url);
		const uint8_t *id = fuzz_bytes(&in, fuzz_u8(&in), &idlen);
		const uint8_t *b = fuzz_bytes(&in, fuzz_u16(&in), &blen);
		char *url = malloc(ulen + (rt->url[ulen - 1] == '/' ? idlen : 0) + 1);
		char *body = fuzz_strndup(b, blen);
		struct api_reply r = {0};

		if (!url)
			fuzz_die("malloc");
		memcpy(url, rt->url, ulen);
		if (rt->url[ulen - 1] == '/') {
			memcpy(url + ulen, id, idlen);
			ulen += idlen;
		}
		url[ulen] = '\0';
		if (strlen(url) == ulen) {	/* no NUL in the id: MHD gives none */
			s.started = op & 0x80;
			if (s.started || !unsafe(rt, body, blen)) {
				api_route(&s, rt->method, url, body, blen, &r);
				check_reply(&r);
				views(&s);
			}
		}
		free(url);
		free(body);
	}
	arena_free(&arena);
	return 0;
}
