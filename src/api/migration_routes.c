// SPDX-License-Identifier: MIT
/*
 * PUT /migration, GET /migration, PUT /migration/cancel (husk's; the
 * work is migration/migrate.h). One migration at a time; while one is
 * active, what would change the VM under it (PATCH /vm, snapshots) is a 400.
 */
#include "api/api_internal.h"
#include "migration/migrate.h"
#include "vmm/vm.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define MIG_DEFAULT_DOWNTIME_MS	300	/* QEMU's default limit */
#define MIG_DEFAULT_TIMEOUT_S	3600

/* An integer at @key in [min, max] (absent: *out unchanged). */
static bool get_uint(struct json_object *o, const char *key, unsigned min, unsigned max,
		     unsigned *out, struct api_reply *r)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < min || n > max) {
		api_fault(r, 400, "%s: expected an integer %u..%u", key, min, max);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

void api_migration_put(struct api_server *s, const char *body, size_t len, struct api_reply *r)
{
	struct mig_params p = { .downtime_ms = MIG_DEFAULT_DOWNTIME_MS,
				.timeout_s = MIG_DEFAULT_TIMEOUT_S };
	struct json_object *o = api_parse_body(body, len, r), *v;
	char err[512];

	if (!o)
		return;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "destination_url") && strcmp(key, "downtime_ms") &&
		    strcmp(key, "timeout_s") && strcmp(key, "mode")) {
			api_fault(r, 400, "%s: unknown key", key);
			goto out;
		}
	}
	if (!json_object_object_get_ex(o, "destination_url", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		api_fault(r, 400, "destination_url: required (unix:PATH or tcp:HOST:PORT)");
		goto out;
	}
	p.url = json_object_get_string(v);
	if (!get_uint(o, "downtime_ms", 1, 60000, &p.downtime_ms, r) ||
	    !get_uint(o, "timeout_s", 1, 7 * 24 * 3600, &p.timeout_s, r))
		goto out;
	if (json_object_object_get_ex(o, "mode", &v)) {
		const char *mode = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(mode, "precopy") && strcmp(mode, "postcopy"))) {
			api_fault(r, 400, "mode: expected \"precopy\" or \"postcopy\"");
			goto out;
		}
		if (!strcmp(mode, "postcopy")) {
			api_fault(r, 400, "mode postcopy: not supported yet (docs/migration.md); "
				  "use precopy");
			goto out;
		}
	}
	if (!s->vm || !husk_vm_is_running(s->vm)) {
		api_fault(r, 400, s->started ? "the microVM is not running" :
			  "The requested operation is not supported before starting the microVM.");
		goto out;
	}
	if (mig_source_active(s->mig)) {
		api_fault(r, 400, "a migration is already in progress (PUT /migration/cancel)");
		goto out;
	}
	mig_source_destroy(s->mig);	/* the last one's thread has ended */
	s->mig = NULL;
	if (mig_source_start(s->vm, &p, &s->mig, err, sizeof(err)) < 0) {
		api_fault(r, 400, "Migration: %s", err);
		goto out;
	}
	r->status = 204;
out:
	json_object_put(o);
}

void api_migration_get(struct api_server *s, struct api_reply *r)
{
	struct json_object *o = json_object_new_object();
	struct mig_status st = { 0 };

	if (s->mig)
		mig_source_status(s->mig, &st);
	json_object_object_add(o, "state", json_object_new_string(mig_state_name(st.state)));
	if (s->mig) {
		json_object_object_add(o, "destination_url", json_object_new_string(st.url));
		json_object_object_add(o, "rounds", json_object_new_int64(st.rounds));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
		json_object_object_add(o, "total_ms", json_object_new_int64((int64_t)st.total_ms));
		json_object_object_add(o, "dirty_pages_rate",
				       json_object_new_int64((int64_t)st.dirty_pages_rate));
		json_object_object_add(o, "remaining_bytes",
				       json_object_new_int64((int64_t)st.remaining_bytes));
		json_object_object_add(o, "expected_downtime_ms",
				       json_object_new_int64((int64_t)st.expected_downtime_ms));
		json_object_object_add(o, "throttle_percent", json_object_new_int64(st.throttle_pct));
		if (st.state == MIG_COMPLETED)
			json_object_object_add(o, "downtime_ms",
					       json_object_new_int64((int64_t)st.downtime_ms));
		if (st.error[0])
			json_object_object_add(o, "error", json_object_new_string(st.error));
	}
	r->status = 200;
	r->body = o;
}

void api_migration_cancel(struct api_server *s, struct api_reply *r)
{
	if (!mig_source_active(s->mig)) {
		api_fault(r, 400, "no migration is in progress");
		return;
	}
	mig_source_cancel(s->mig);
	r->status = 204;
}

bool api_migration_busy(struct api_server *s, struct api_reply *r)
{
	if (!mig_source_active(s->mig))
		return false;
	api_fault(r, 400, "a migration is in progress: the VM stays as it is until it ends "
		  "(PUT /migration/cancel)");
	return true;
}
