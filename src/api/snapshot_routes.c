// SPDX-License-Identifier: MIT
/*
 * PUT /snapshot/create and PUT /snapshot/load (Firecracker's fields and
 * semantics; state/snapshot.h does the work). Every refusal is a 400 with
 * one fault_message; a failed load leaves the husk as fresh as it was.
 */
#include "api/api_internal.h"
#include "core/events.h"
#include "state/snapshot.h"
#include "vmm/vm.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The string at @key (NULL: absent); false with the reply set when not a string. */
static bool get_string(struct json_object *o, const char *key, const char **out,
		       struct api_reply *r)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v)) {
		api_fault(r, 400, "%s: expected a non-empty string", key);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

static bool get_bool(struct json_object *o, const char *key, bool *out, struct api_reply *r)
{
	struct json_object *v;

	*out = false;
	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		api_fault(r, 400, "%s: expected a boolean", key);
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

/* Every key of @o is one of @keys (NULL-terminated). */
static bool only_keys(struct json_object *o, const char *const *keys, const char *where,
		      struct api_reply *r)
{
	json_object_object_foreach(o, key, val) {
		unsigned i;

		(void)val;
		for (i = 0; keys[i] && strcmp(keys[i], key); i++)
			;
		if (!keys[i]) {
			api_fault(r, 400, "%s%s: unknown key", where, key);
			return false;
		}
	}
	return true;
}

void api_snapshot_create(struct api_server *s, const char *body, size_t len,
			 struct api_reply *r)
{
	static const char *const keys[] = { "snapshot_type", "snapshot_path", "mem_file_path",
					    NULL };
	const char *type, *path, *mem;
	struct json_object *o;
	char err[512];

	o = api_parse_body(body, len, r);
	if (!o)
		return;
	if (!only_keys(o, keys, "", r) || !get_string(o, "snapshot_type", &type, r) ||
	    !get_string(o, "snapshot_path", &path, r) || !get_string(o, "mem_file_path", &mem, r))
		goto out;
	if (type && strcmp(type, "Full") && strcmp(type, "Diff")) {
		api_fault(r, 400, "snapshot_type: expected \"Full\" or \"Diff\"");
	} else if (!path || !mem) {
		api_fault(r, 400, "%s: required", !path ? "snapshot_path" : "mem_file_path");
	} else if (!s->vm || !husk_vm_is_running(s->vm)) {
		api_fault(r, 400, s->started ? "the microVM is not running" :
			  "The requested operation is not supported before starting the microVM.");
	} else if (vm_snapshot_save(s->vm, path, mem, type && !strcmp(type, "Diff"), err,
				    sizeof(err)) < 0) {
		api_fault(r, 400, "CreateSnapshot: %s", err);
	} else {
		r->status = 204;
		r->body = NULL;
	}
out:
	json_object_put(o);
}

/* Nothing configured but the logger and metrics: Firecracker's "fresh" process. */
static bool fresh(const struct husk_config *cfg)
{
	return !cfg->kernel && !cfg->initrd && !cfg->ndisks && !cfg->nnets &&
	       cfg->cpus == HUSK_DEFAULT_CPUS && cfg->memory == HUSK_DEFAULT_MEMORY;
}

/* mem_backend (or the deprecated mem_file_path): the File backend's path. */
static bool load_mem_path(struct json_object *o, const char **mem, bool *uffd,
			  struct api_reply *r)
{
	static const char *const keys[] = { "backend_type", "backend_path", NULL };
	struct json_object *b;
	const char *type, *old;

	*uffd = false;
	if (!get_string(o, "mem_file_path", &old, r))
		return false;
	if (!json_object_object_get_ex(o, "mem_backend", &b)) {
		if (!old)
			api_fault(r, 400, "mem_backend: required (or the deprecated mem_file_path)");
		*mem = old;
		return old != NULL;
	}
	if (old) {
		api_fault(r, 400, "mem_backend and mem_file_path: give only one");
		return false;
	}
	if (!json_object_is_type(b, json_type_object)) {
		api_fault(r, 400, "mem_backend: expected an object");
		return false;
	}
	if (!only_keys(b, keys, "mem_backend.", r) || !get_string(b, "backend_type", &type, r) ||
	    !get_string(b, "backend_path", mem, r))
		return false;
	if (!type || !*mem) {
		api_fault(r, 400, "mem_backend.%s: required", !type ? "backend_type" : "backend_path");
		return false;
	}
	*uffd = !strcmp(type, "Uffd");
	if (!*uffd && strcmp(type, "File")) {
		api_fault(r, 400, "mem_backend.backend_type: expected \"File\" or \"Uffd\"");
		return false;
	}
	return true;
}

/* The fields husk takes but cannot honour yet: refused unless they ask for nothing. */
static bool load_unsupported(struct json_object *o, struct api_reply *r)
{
	struct json_object *v;
	const char *hp;

	if (json_object_object_get_ex(o, "vsock_override", &v)) {
		api_fault(r, 400, "vsock_override: husk has no vsock device");
		return false;
	}
	if (!get_string(o, "huge_pages", &hp, r))
		return false;
	if (hp && strcmp(hp, "Snapshot")) {
		api_fault(r, 400, "huge_pages %s: not supported yet (only \"Snapshot\")", hp);
		return false;
	}
	return true;
}

/* The array at @key (absent: length 0); false with the reply set when not one. */
static bool get_array(struct json_object *o, const char *key, unsigned max,
		      struct json_object **out, struct api_reply *r)
{
	*out = NULL;
	if (!json_object_object_get_ex(o, key, out))
		return true;
	if (!json_object_is_type(*out, json_type_array)) {
		api_fault(r, 400, "%s: expected an array", key);
		return false;
	}
	if (json_object_array_length(*out) > max) {
		api_fault(r, 400, "%s: at most %u entries", key, max);
		return false;
	}
	return true;
}

/* A string at @key kept past the request (the restored config points at it). */
static bool keep_string(struct api_server *s, struct json_object *o, const char *where,
			const char *key, bool required, const char **out, struct api_reply *r)
{
	const char *v;

	if (!get_string(o, key, &v, r))
		return false;
	if (!v) {
		*out = NULL;
		if (required)
			api_fault(r, 400, "%s.%s: required", where, key);
		return !required;
	}
	*out = arena_strdup(s->t.arena, v);
	if (!*out)
		api_fault(r, 500, "%s", strerror(ENOMEM));
	return *out != NULL;
}

/*
 * network_overrides [{iface_id, host_dev_name}] (Firecracker's) and
 * drive_overrides [{drive_id, path_on_host, is_read_only}] (husk's),
 * clock_realtime, track_dirty_pages (or enable_diff_snapshots).
 */
static bool load_overrides(struct api_server *s, struct json_object *o,
			   struct snap_restore_opts *opts, struct api_reply *r)
{
	static const char *const nkeys[] = { "iface_id", "host_dev_name", NULL };
	static const char *const dkeys[] = { "drive_id", "path_on_host", "is_read_only", NULL };
	struct json_object *nets, *drives;
	char where[48];

	bool track, diff;

	memset(opts, 0, sizeof(*opts));
	if (!get_bool(o, "track_dirty_pages", &track, r) ||
	    !get_bool(o, "enable_diff_snapshots", &diff, r))	/* its older name */
		return false;
	opts->track_dirty = track || diff;
	if (!get_bool(o, "clock_realtime", &opts->clock_realtime, r) ||
	    !get_array(o, "network_overrides", HUSK_MAX_NETS, &nets, r) ||
	    !get_array(o, "drive_overrides", HUSK_MAX_DISKS, &drives, r))
		return false;
	for (size_t i = 0; nets && i < json_object_array_length(nets); i++) {
		struct json_object *e = json_object_array_get_idx(nets, i);
		struct snap_net_override *n = &opts->nets[opts->nnets++];

		snprintf(where, sizeof(where), "network_overrides[%zu]", i);
		if (!json_object_is_type(e, json_type_object)) {
			api_fault(r, 400, "%s: expected an object", where);
			return false;
		}
		strcat(where, ".");
		if (!only_keys(e, nkeys, where, r))
			return false;
		where[strlen(where) - 1] = 0;
		if (!keep_string(s, e, where, "iface_id", true, &n->iface_id, r) ||
		    !keep_string(s, e, where, "host_dev_name", true, &n->host_dev_name, r))
			return false;
	}
	for (size_t i = 0; drives && i < json_object_array_length(drives); i++) {
		struct json_object *e = json_object_array_get_idx(drives, i);
		struct snap_drive_override *d = &opts->drives[opts->ndrives++];
		struct json_object *ro;

		snprintf(where, sizeof(where), "drive_overrides[%zu]", i);
		if (!json_object_is_type(e, json_type_object)) {
			api_fault(r, 400, "%s: expected an object", where);
			return false;
		}
		strcat(where, ".");
		if (!only_keys(e, dkeys, where, r))
			return false;
		where[strlen(where) - 1] = 0;
		if (!keep_string(s, e, where, "drive_id", true, &d->drive_id, r) ||
		    !keep_string(s, e, where, "path_on_host", false, &d->path, r))
			return false;
		d->readonly = -1;
		if (json_object_object_get_ex(e, "is_read_only", &ro)) {
			if (!json_object_is_type(ro, json_type_boolean)) {
				api_fault(r, 400, "%s.is_read_only: expected a boolean", where);
				return false;
			}
			d->readonly = json_object_get_boolean(ro);
		}
	}
	return true;
}

void api_snapshot_load(struct api_server *s, const char *body, size_t len, struct api_reply *r)
{
	static const char *const keys[] = {
		"snapshot_path", "mem_backend", "mem_file_path", "resume_vm", "track_dirty_pages",
		"enable_diff_snapshots", "network_overrides", "vsock_override", "clock_realtime",
		"huge_pages", "drive_overrides", NULL,
	};
	const char *path, *mem = NULL;
	struct snap_restore_opts *opts = NULL;
	struct husk_config cfg;
	struct husk_vm *vm;
	struct json_object *o;
	char err[768];
	uint64_t one = 1;
	bool resume, uffd;

	o = api_parse_body(body, len, r);
	if (!o)
		return;
	if (!only_keys(o, keys, "", r) || !get_string(o, "snapshot_path", &path, r) ||
	    !get_bool(o, "resume_vm", &resume, r) || !load_unsupported(o, r))
		goto out;
	if (!path) {
		api_fault(r, 400, "snapshot_path: required");
		goto out;
	}
	if (!load_mem_path(o, &mem, &uffd, r))
		goto out;
	opts = malloc(sizeof(*opts));
	if (!opts) {
		api_fault(r, 500, "%s", strerror(ENOMEM));
		goto out;
	}
	if (!load_overrides(s, o, opts, r)) {
		config_sweep(&s->t);
		goto out;
	}
	opts->uffd_sock = uffd ? mem : NULL;
	opts->sandbox = s->t.cfg->sandbox;
	if (s->started || !fresh(s->t.cfg)) {
		api_fault(r, 400, "LoadSnapshot: only on a fresh husk (nothing configured but the "
			  "logger and metrics, not started)");
		goto out;
	}
	if (vm_snapshot_restore(path, mem, opts, s->t.arena, &cfg, &vm, err, sizeof(err)) < 0) {
		events_emit(s->t.cfg->events, "error", err);
		api_fault(r, 400, "LoadSnapshot: %s", err);
		config_sweep(&s->t);	/* the strings the failed load copied */
		goto out;
	}
	/* process-wide settings stay the restoring husk's */
	cfg.events = s->t.cfg->events;
	cfg.sandbox = s->t.cfg->sandbox;
	cfg.metrics_path = s->t.cfg->metrics_path;
	vm->cfg.events = cfg.events;
	vm->cfg.metrics_path = cfg.metrics_path;
	if (!resume)
		vm_start_paused(vm);
	*s->t.cfg = cfg;
	s->vm = vm;
	s->started = true;
	if (write(s->start_fd, &one, sizeof(one)) < 0) {
		api_fault(r, 500, "LoadSnapshot: waking the main thread: %s", strerror(errno));
		goto out;
	}
	r->status = 204;
	r->body = NULL;
out:
	free(opts);
	json_object_put(o);
}
