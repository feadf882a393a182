// SPDX-License-Identifier: MIT
/*
 * The API's endpoints (Firecracker's, and husk's GET /metrics and
 * Shutdown). Pre-boot calls edit the pending config; after InstanceStart
 * they are refused with 400, as Firecracker does.
 */
#include "api/api_internal.h"
#include "core/events.h"
#include "core/metrics.h"
#include "sandbox/limits.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_AFTER_BOOT "The requested operation is not supported after starting the microVM."
#define MSG_BEFORE_BOOT "The requested operation is not supported before starting the microVM."

void api_fault(struct api_reply *r, unsigned status, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = status;
	r->body = json_object_new_object();
	json_object_object_add(r->body, "fault_message", json_object_new_string(msg));
}

static void ok_no_content(struct api_reply *r)
{
	r->status = 204;
	r->body = NULL;
}

static void ok_json(struct api_reply *r, struct json_object *body)
{
	r->status = 200;
	r->body = body;
}

/* A body that must be one JSON object. NULL: the reply says why. */
struct json_object *api_parse_body(const char *body, size_t len, struct api_reply *r)
{
	struct json_object *o;
	char why[256];

	if (len == 0) {
		api_fault(r, 400, "a JSON body is required");
		return NULL;
	}
	o = config_parse_json(body, len, why, sizeof(why));
	if (!o) {
		api_fault(r, 400, "%s", why);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		api_fault(r, 400, "expected a JSON object");
		return NULL;
	}
	return o;
}

typedef int (*section_fn)(struct json_object *o, struct config_target *t, const char *id,
			  char *err, size_t errlen);

/* Apply @fn to a copy of the pending config; commit only if it succeeds. */
static void pre_boot_put(struct api_server *s, const char *body, size_t len, const char *id,
			 section_fn fn, struct api_reply *r)
{
	struct husk_config next;
	struct orch_options orch;
	enum log_level level;
	struct config_target t;
	struct json_object *o;
	char err[512];

	if (s->started) {
		api_fault(r, 400, MSG_AFTER_BOOT);
		return;
	}
	o = api_parse_body(body, len, r);
	if (!o)
		return;
	next = *s->t.cfg;
	orch = *s->t.orch;
	level = *s->t.log_level;
	t = (struct config_target){ .cfg = &next, .orch = &orch, .log_level = &level,
				    .arena = s->t.arena };
	if (fn(o, &t, id, err, sizeof(err)) < 0) {
		api_fault(r, 400, "%s", err);
	} else {
		*s->t.cfg = next;
		*s->t.orch = orch;
		*s->t.log_level = level;
		ok_no_content(r);
	}
	json_object_put(o);
	config_sweep(&s->t);	/* what this PUT replaced, or copied and failed */
}

static int put_boot_source(struct json_object *o, struct config_target *t, const char *id,
			   char *err, size_t errlen)
{
	(void)id;
	return config_apply_boot_source(o, t, "", err, errlen);
}

static int put_machine(struct json_object *o, struct config_target *t, const char *id,
		       char *err, size_t errlen)
{
	(void)id;
	return config_apply_machine(o, t, "", true, err, errlen);
}

static int patch_machine(struct json_object *o, struct config_target *t, const char *id,
			 char *err, size_t errlen)
{
	(void)id;
	return config_apply_machine(o, t, "", false, err, errlen);
}

static int put_drive(struct json_object *o, struct config_target *t, const char *id,
		     char *err, size_t errlen)
{
	return config_apply_drive(o, t, "", id, err, errlen);
}

static int put_net(struct json_object *o, struct config_target *t, const char *id,
		   char *err, size_t errlen)
{
	return config_apply_net(o, t, "", id, err, errlen);
}

/* PUT /logger takes effect at once: the file is opened here. */
static int put_logger(struct json_object *o, struct config_target *t, const char *id,
		      char *err, size_t errlen)
{
	int ret;

	(void)id;
	ret = config_apply_logger(o, t, "", err, errlen);
	if (ret)
		return ret;
	if (t->orch->log_file) {
		ret = log_open_file(t->orch->log_file);
		if (ret) {
			snprintf(err, errlen, "log_path %s: %s", t->orch->log_file, strerror(-ret));
			return ret;
		}
	}
	log_set_level(*t->log_level);
	log_set_show_level(t->orch->show_level);
	return 0;
}

static int put_metrics(struct json_object *o, struct config_target *t, const char *id,
		       char *err, size_t errlen)
{
	int ret;

	(void)id;
	ret = config_apply_metrics(o, t, "", err, errlen);
	if (ret)
		return ret;
	ret = metrics_check_path(t->cfg->metrics_path);
	if (ret)
		snprintf(err, errlen, "metrics_path %s: %s", t->cfg->metrics_path, strerror(-ret));
	return ret;
}

static void instance_start(struct api_server *s, struct api_reply *r)
{
	struct husk_vm *vm;
	char err[512];
	uint64_t one = 1;

	if (s->started) {
		api_fault(r, 400, MSG_AFTER_BOOT);
		return;
	}
	if (husk_vm_create(s->t.cfg, &vm, err, sizeof(err)) < 0) {
		events_emit(s->t.cfg->events, "error", err);
		api_fault(r, 400, "InstanceStart: %s", err);
		return;
	}
	s->vm = vm;
	s->started = true;
	if (write(s->start_fd, &one, sizeof(one)) < 0) {
		api_fault(r, 500, "InstanceStart: waking the main thread: %s", strerror(errno));
		return;
	}
	ok_no_content(r);
}

static void flush_metrics(struct api_server *s, struct api_reply *r)
{
	int ret;

	if (!s->t.cfg->metrics_path) {
		api_fault(r, 400, "FlushMetrics: no metrics file (PUT /metrics or --metrics first)");
		return;
	}
	ret = s->vm ? husk_vm_flush_metrics(s->vm) :
		      metrics_write_line(s->t.cfg->metrics_path, "{\"vmm\":{\"state\":\"Not started\"}}");
	if (ret)
		api_fault(r, 400, "FlushMetrics: %s: %s", s->t.cfg->metrics_path, strerror(-ret));
	else
		ok_no_content(r);
}

/* SendCtrlAltDel and Shutdown: the guest's ACPI power button (see docs). */
static void power_button(struct api_server *s, const char *what, struct api_reply *r)
{
	int ret;

	if (!s->vm || !husk_vm_is_running(s->vm)) {
		api_fault(r, 400, s->started ? "%s: the microVM is not running" :
			  MSG_BEFORE_BOOT, what);
		return;
	}
	ret = husk_vm_request_shutdown(s->vm);
	if (ret)
		api_fault(r, 400, "%s: %s", what, strerror(-ret));
	else
		ok_no_content(r);
}

static void put_actions(struct api_server *s, const char *body, size_t len, struct api_reply *r)
{
	struct json_object *o = api_parse_body(body, len, r), *v;
	const char *action;

	if (!o)
		return;
	if (!json_object_object_get_ex(o, "action_type", &v) || !json_object_is_type(v, json_type_string)) {
		api_fault(r, 400, "action_type: expected string");
	} else if (json_object_object_length(o) != 1) {
		api_fault(r, 400, "only action_type is allowed in an action");
	} else {
		action = json_object_get_string(v);
		if (strcmp(action, "InstanceStart") == 0)
			instance_start(s, r);
		else if (strcmp(action, "FlushMetrics") == 0)
			flush_metrics(s, r);
		else if (strcmp(action, "SendCtrlAltDel") == 0 || strcmp(action, "Shutdown") == 0)
			power_button(s, action, r);
		else
			api_fault(r, 400, "action_type: expected InstanceStart, SendCtrlAltDel, "
				  "FlushMetrics or Shutdown");
	}
	json_object_put(o);
}

/*
 * Firecracker's PATCH /drives/{id} (PartialDrive): drive_id, and the
 * rate_limiter to apply now; before InstanceStart it changes the config.
 * path_on_host (a hot swap) is not there yet.
 */
static void patch_drive(struct api_server *s, const char *id, const char *body, size_t len,
			struct api_reply *r)
{
	struct json_object *o = api_parse_body(body, len, r), *v;
	struct husk_rate_limit rate;
	char err[256], idbuf[CONFIG_ID_BUF];
	unsigned i;

	if (!o)
		return;
	if (!json_object_object_get_ex(o, "drive_id", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), id)) {
		api_fault(r, 400, "drive_id: expected \"%s\", the id in the path", id);
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "drive_id") && strcmp(key, "rate_limiter")) {
			api_fault(r, 400, "%s: %s", key, strcmp(key, "path_on_host") ?
				  "unknown key" : "swapping a drive's file is not supported yet");
			goto out;
		}
		(void)val;
	}
	for (i = 0; i < s->t.cfg->ndisks && strcmp(config_disk_id(s->t.cfg, i, idbuf), id); i++)
		;
	if (i == s->t.cfg->ndisks) {
		api_fault(r, 400, "drives/%s: no such drive", id);
	} else if (!json_object_object_get_ex(o, "rate_limiter", &v)) {
		ok_no_content(r);	/* nothing to change */
	} else if (config_parse_rate_limiter(v, "rate_limiter", &rate, err, sizeof(err))) {
		api_fault(r, 400, "%s", err);
	} else {
		s->t.cfg->disks[i].rate = rate;
		if (s->vm)
			husk_vm_set_disk_rate(s->vm, i, &rate);
		ok_no_content(r);
	}
out:
	json_object_put(o);
}

/*
 * Firecracker's PATCH /network-interfaces/{id} (PartialNetworkInterface):
 * iface_id, and rx_rate_limiter and/or tx_rate_limiter to apply now.
 */
static void patch_net(struct api_server *s, const char *id, const char *body, size_t len,
		      struct api_reply *r)
{
	struct json_object *o = api_parse_body(body, len, r), *v;
	struct husk_rate_limit rates[2];
	char err[256], idbuf[CONFIG_ID_BUF];
	static const char *const keys[2] = { "rx_rate_limiter", "tx_rate_limiter" };
	unsigned i;

	if (!o)
		return;
	if (!json_object_object_get_ex(o, "iface_id", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), id)) {
		api_fault(r, 400, "iface_id: expected \"%s\", the id in the path", id);
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "iface_id") && strcmp(key, keys[0]) && strcmp(key, keys[1])) {
			api_fault(r, 400, "%s: unknown key", key);
			goto out;
		}
	}
	for (i = 0; i < s->t.cfg->nnets && strcmp(config_net_id(s->t.cfg, i, idbuf), id); i++)
		;
	if (i == s->t.cfg->nnets) {
		api_fault(r, 400, "network-interfaces/%s: no such interface", id);
		goto out;
	}
	rates[0] = s->t.cfg->nets[i].rx_rate;
	rates[1] = s->t.cfg->nets[i].tx_rate;
	for (int k = 0; k < 2; k++)
		if (json_object_object_get_ex(o, keys[k], &v) &&
		    config_parse_rate_limiter(v, keys[k], &rates[k], err, sizeof(err))) {
			api_fault(r, 400, "%s", err);
			goto out;
		}
	s->t.cfg->nets[i].rx_rate = rates[0];
	s->t.cfg->nets[i].tx_rate = rates[1];
	if (s->vm)
		husk_vm_set_net_rates(s->vm, i, &rates[0], &rates[1]);
	ok_no_content(r);
out:
	json_object_put(o);
}

static bool have_cgroup(struct api_server *s, struct api_reply *r)
{
	if (s->t.orch->cgroup_dir)
		return true;
	api_fault(r, 400, "/vm/limits: husk runs in no cgroup of its own (husk-jailer --cgroup ... "
		  "gives it one)");
	return false;
}

/* GET /vm/limits: the VM process's own CPU and memory limits (sandbox/limits.h). */
static void get_limits(struct api_server *s, struct api_reply *r)
{
	struct json_object *o;
	struct husk_limits l;
	char err[256];

	if (!have_cgroup(s, r))
		return;
	if (limits_get(s->t.orch->cgroup_dir, &l, err, sizeof(err))) {
		api_fault(r, 400, "/vm/limits: %s", err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "cpu_percent",
			       l.cpu_percent ? json_object_new_int64(l.cpu_percent) : NULL);
	json_object_object_add(o, "memory_mib",
			       l.memory_mib ? json_object_new_int64((int64_t)l.memory_mib) : NULL);
	ok_json(r, o);
}

/*
 * PATCH /vm/limits {"cpu_percent": N|null, "memory_mib": N|null}: a key
 * given is set (0 or null: no limit of husk's own), one left out stays.
 */
static void patch_limits(struct api_server *s, const char *body, size_t len, struct api_reply *r)
{
	struct json_object *o = api_parse_body(body, len, r);
	struct husk_limits l = { 0 };
	int set[2] = { 0, 0 };
	char err[256];

	if (!o)
		return;
	if (!have_cgroup(s, r))
		goto out;
	json_object_object_foreach(o, key, v) {
		bool cpu = !strcmp(key, "cpu_percent");
		int64_t n = 0;

		if (!cpu && strcmp(key, "memory_mib")) {
			api_fault(r, 400, "%s: unknown key", key);
			goto out;
		}
		if (v && !json_object_is_type(v, json_type_int)) {
			api_fault(r, 400, "%s: expected an integer or null", key);
			goto out;
		}
		n = v ? json_object_get_int64(v) : 0;
		if (n < 0 || (uint64_t)n > (cpu ? LIMITS_CPU_PCT_MAX : LIMITS_MEM_MIB_MAX)) {
			api_fault(r, 400, "%s: expected 0 to %u, or null", key,
				  cpu ? LIMITS_CPU_PCT_MAX : LIMITS_MEM_MIB_MAX);
			goto out;
		}
		if (!cpu && n && (uint64_t)n << 20 < s->t.cfg->memory + (64ULL << 20)) {
			/* guest RAM is charged to the cgroup: below it the VM is OOM-killed */
			api_fault(r, 400, "memory_mib: %lld is less than the guest's RAM (%llu MiB) "
				  "and 64 MiB for husk itself", (long long)n,
				  (unsigned long long)(s->t.cfg->memory >> 20));
			goto out;
		}
		if (cpu)
			l.cpu_percent = (uint32_t)n, set[0] = 1;
		else
			l.memory_mib = (uint64_t)n, set[1] = 1;
	}
	if (limits_set(s->t.orch->cgroup_dir, &l, set[0], set[1], err, sizeof(err)))
		api_fault(r, 400, "/vm/limits: %s", err);
	else
		ok_no_content(r);
out:
	json_object_put(o);
}

static void patch_vm(struct api_server *s, const char *body, size_t len, struct api_reply *r)
{
	struct json_object *o = api_parse_body(body, len, r), *v;
	const char *state;
	int ret;

	if (!o)
		return;
	if (!json_object_object_get_ex(o, "state", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_object_length(o) != 1) {
		api_fault(r, 400, "state: expected string (and no other key)");
		goto out;
	}
	state = json_object_get_string(v);
	if (strcmp(state, "Paused") != 0 && strcmp(state, "Resumed") != 0) {
		api_fault(r, 400, "state: expected \"Paused\" or \"Resumed\"");
		goto out;
	}
	if (!s->vm || !husk_vm_is_running(s->vm)) {
		api_fault(r, 400, s->started ? "the microVM is not running" : MSG_BEFORE_BOOT);
		goto out;
	}
	ret = state[0] == 'P' ? husk_vm_pause(s->vm) : husk_vm_resume(s->vm);
	if (ret)
		api_fault(r, 400, "%s: %s", state, strerror(-ret));
	else
		ok_no_content(r);
out:
	json_object_put(o);
}

static void get_metrics(struct api_server *s, struct api_reply *r)
{
	struct json_object *o, *api;
	char *text;

	if (s->vm) {
		text = husk_vm_metrics_json(s->vm);
		o = text ? json_tokener_parse(text) : NULL;
		free(text);
	} else {
		o = json_object_new_object();
	}
	if (!o) {
		api_fault(r, 500, "metrics: %s", strerror(ENOMEM));
		return;
	}
	api = json_object_new_object();
	json_object_object_add(api, "requests", json_object_new_uint64(s->requests));
	json_object_object_add(api, "bad_requests", json_object_new_uint64(s->bad_requests));
	json_object_object_add(o, "api_server", api);
	ok_json(r, o);
}

/* "/drives/ID" -> "ID" when @url starts with @prefix and ID has no '/'. */
static const char *path_id(const char *url, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(url, prefix, n) != 0 || url[n] == '\0' || strchr(url + n, '/'))
		return NULL;
	return url + n;
}

static bool is(const char *method, const char *url, const char *m, const char *u)
{
	return strcmp(method, m) == 0 && strcmp(url, u) == 0;
}

void api_route(struct api_server *s, const char *method, const char *url, const char *body,
	       size_t len, struct api_reply *r)
{
	const char *id;

	if (is(method, url, "GET", "/"))
		ok_json(r, api_instance_info(s));
	else if (is(method, url, "GET", "/version"))
		ok_json(r, api_version_json());
	else if (is(method, url, "PUT", "/boot-source"))
		pre_boot_put(s, body, len, NULL, put_boot_source, r);
	else if (is(method, url, "PUT", "/machine-config"))
		pre_boot_put(s, body, len, NULL, put_machine, r);
	else if (is(method, url, "PATCH", "/machine-config"))
		pre_boot_put(s, body, len, NULL, patch_machine, r);
	else if (is(method, url, "GET", "/machine-config"))
		ok_json(r, config_machine_to_json(s->t.cfg));
	else if (strcmp(method, "PUT") == 0 && (id = path_id(url, "/drives/")))
		pre_boot_put(s, body, len, id, put_drive, r);
	else if (strcmp(method, "PUT") == 0 && (id = path_id(url, "/network-interfaces/")))
		pre_boot_put(s, body, len, id, put_net, r);
	else if (is(method, url, "PUT", "/logger"))
		pre_boot_put(s, body, len, NULL, put_logger, r);
	else if (is(method, url, "PUT", "/metrics"))
		pre_boot_put(s, body, len, NULL, put_metrics, r);
	else if (is(method, url, "GET", "/metrics"))
		get_metrics(s, r);
	else if (is(method, url, "PUT", "/actions"))
		put_actions(s, body, len, r);
	else if (is(method, url, "PATCH", "/vm")) {
		if (!api_migration_busy(s, r))
			patch_vm(s, body, len, r);
	} else if (is(method, url, "PUT", "/snapshot/create")) {
		if (!api_migration_busy(s, r))
			api_snapshot_create(s, body, len, r);
	} else if (is(method, url, "PUT", "/migration") || is(method, url, "PUT", "/replication"))
		api_migration_put(s, body, len, url[1] == 'r', r);
	else if (is(method, url, "GET", "/migration") || is(method, url, "GET", "/replication"))
		api_migration_get(s, url[1] == 'r', r);
	else if (is(method, url, "PUT", "/migration/cancel") ||
		 is(method, url, "PUT", "/replication/cancel"))
		api_migration_cancel(s, url[1] == 'r', r);
	else if (is(method, url, "PUT", "/snapshot/load"))
		api_snapshot_load(s, body, len, r);
	else if (is(method, url, "GET", "/vm/limits"))
		get_limits(s, r);
	else if (is(method, url, "PATCH", "/vm/limits"))
		patch_limits(s, body, len, r);
	else if (is(method, url, "GET", "/vm/config"))
		ok_json(r, api_vm_config_json(&s->t));
	else if (strcmp(method, "PATCH") == 0 && (id = path_id(url, "/drives/")))
		patch_drive(s, id, body, len, r);
	else if (strcmp(method, "PATCH") == 0 && (id = path_id(url, "/network-interfaces/")))
		patch_net(s, id, body, len, r);
	else if (api_balloon_route(s, method, url, body, len, r))
		;
	else
		api_fault(r, 400, "Invalid request method and/or path: %s %s.", method, url);
}
