// SPDX-License-Identifier: MIT
/*
 * PUT /migration, GET /migration, PUT /migration/cancel, and the same for
 * /replication (husk's; the work is migration/migrate.h). One at a time;
 * while one is active, what would change the VM under it (PATCH /vm,
 * snapshots) is a 400.
 */
#include "api/api_internal.h"
#include "migration/migrate.h"
#include "vmm/vm.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define MIG_DEFAULT_DOWNTIME_MS	300	/* QEMU's default limit */
#define MIG_DEFAULT_TIMEOUT_S	3600
#define REPL_DEFAULT_INTERVAL_MS	100

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

void api_migration_put(struct api_server *s, const char *body, size_t len, bool replicate,
		       struct api_reply *r)
{
	struct mig_params p = { .downtime_ms = MIG_DEFAULT_DOWNTIME_MS,
				.timeout_s = MIG_DEFAULT_TIMEOUT_S, .replicate = replicate,
				.interval_ms = REPL_DEFAULT_INTERVAL_MS };
	struct json_object *o = api_parse_body(body, len, r), *v;
	char err[512];

	if (!o)
		return;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "destination_url") &&
		    (replicate ? strcmp(key, "interval_ms") :
		     strcmp(key, "downtime_ms") && strcmp(key, "timeout_s") && strcmp(key, "mode"))) {
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
	p.secret_path = s->t.orch->migration_secret;
	if (!get_uint(o, "downtime_ms", 1, 60000, &p.downtime_ms, r) ||
	    !get_uint(o, "timeout_s", 1, 7 * 24 * 3600, &p.timeout_s, r) ||
	    !get_uint(o, "interval_ms", 10, 60000, &p.interval_ms, r))
		goto out;
	if (replicate)
		p.timeout_s = 7 * 24 * 3600;	/* the first sync's limit; checkpoints have none */
	if (json_object_object_get_ex(o, "mode", &v)) {
		const char *mode = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(mode, "precopy") && strcmp(mode, "postcopy"))) {
			api_fault(r, 400, "mode: expected \"precopy\" or \"postcopy\"");
			goto out;
		}
		p.postcopy = !strcmp(mode, "postcopy");
	}
	if (!s->vm || !husk_vm_is_running(s->vm)) {
		api_fault(r, 400, s->started ? "the microVM is not running" :
			  "The requested operation is not supported before starting the microVM.");
		goto out;
	}
	if (mig_source_active(s->mig)) {
		api_fault(r, 400, "%s is already in progress (PUT /%s/cancel)",
			  mig_source_replicating(s->mig) ? "replication" : "a migration",
			  mig_source_replicating(s->mig) ? "replication" : "migration");
		goto out;
	}
	mig_source_destroy(s->mig);	/* the last one's thread has ended */
	s->mig = NULL;
	if (mig_source_start(s->vm, &p, &s->mig, err, sizeof(err)) < 0) {
		api_fault(r, 400, "%s: %s", replicate ? "Replication" : "Migration", err);
		goto out;
	}
	r->status = 204;
out:
	json_object_put(o);
}

void api_migration_get(struct api_server *s, bool replicate, struct api_reply *r)
{
	struct json_object *o = json_object_new_object();
	struct mig_status st = { 0 };
	bool mine = s->mig && mig_source_replicating(s->mig) == replicate;

	if (mine)
		mig_source_status(s->mig, &st);
	json_object_object_add(o, "state", json_object_new_string(mig_state_name(st.state)));
	if (mine && replicate) {
		json_object_object_add(o, "destination_url", json_object_new_string(st.url));
		json_object_object_add(o, "epoch", json_object_new_int64((int64_t)st.epoch));
		json_object_object_add(o, "last_pause_ms",
				       json_object_new_int64((int64_t)st.ckpt_pause_ms));
		json_object_object_add(o, "last_checkpoint_ms",
				       json_object_new_int64((int64_t)st.ckpt_ms));
		json_object_object_add(o, "last_checkpoint_bytes",
				       json_object_new_int64((int64_t)st.ckpt_bytes));
		json_object_object_add(o, "first_sync_pause_ms",
				       json_object_new_int64((int64_t)st.downtime_ms));
		json_object_object_add(o, "disk_bytes", json_object_new_int64((int64_t)st.disk_bytes));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
		json_object_object_add(o, "total_ms", json_object_new_int64((int64_t)st.total_ms));
		if (st.error[0])
			json_object_object_add(o, "error", json_object_new_string(st.error));
	} else if (mine) {
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

void api_migration_cancel(struct api_server *s, bool replicate, struct api_reply *r)
{
	if (!mig_source_active(s->mig) || mig_source_replicating(s->mig) != replicate) {
		api_fault(r, 400, "no %s is in progress", replicate ? "replication" : "migration");
		return;
	}
	mig_source_cancel(s->mig);
	r->status = 204;
}

bool api_migration_busy(struct api_server *s, struct api_reply *r)
{
	if (!mig_source_active(s->mig))
		return false;
	if (mig_source_replicating(s->mig))
		api_fault(r, 400, "the VM is being replicated: it stays as it is until that ends "
			  "(PUT /replication/cancel)");
	else
		api_fault(r, 400, "a migration is in progress: the VM stays as it is until it ends "
			  "(PUT /migration/cancel)");
	return true;
}
