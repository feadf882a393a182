// SPDX-License-Identifier: MIT
/*
 * Firecracker's balloon endpoints: PUT /balloon (before boot), PATCH
 * /balloon {"amount_mib"} and PATCH /balloon/statistics
 * {"stats_polling_interval_s"} (before boot: the config; after: the running
 * device), GET /balloon and GET /balloon/statistics.
 */
#include "api/api_internal.h"
#include "vmm/config_file.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#define MSG_NO_BALLOON	"No balloon device configured."
#define MSG_NO_STATS	"Balloon statistics were not enabled when the device was configured."

static const char *const stat_names[HUSK_BALLOON_NTAGS] = {
	"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
	"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures",
	"oom_kill", "alloc_stall", "async_scan", "direct_scan", "async_reclaim",
	"direct_reclaim",
};

static void reply(struct api_reply *r, unsigned status, struct json_object *body)
{
	r->status = status;
	r->body = body;
}

static void put_balloon(struct api_server *s, const char *body, size_t len, struct api_reply *r)
{
	struct husk_balloon_config bc;
	struct json_object *o;
	char err[256];

	if (s->started) {
		api_fault(r, 400, "The requested operation is not supported after starting the microVM.");
		return;
	}
	o = api_parse_body(body, len, r);
	if (!o)
		return;
	if (config_parse_balloon(o, "", &bc, err, sizeof(err)))
		api_fault(r, 400, "%s", err);
	else if ((uint64_t)bc.amount_mib << 20 > s->t.cfg->memory)
		api_fault(r, 400, "amount_mib: %u MiB is more than the VM's %llu MiB of RAM",
			  bc.amount_mib, (unsigned long long)(s->t.cfg->memory >> 20));
	else
		s->t.cfg->balloon = bc, reply(r, 204, NULL);
	json_object_put(o);
}

/* PATCH /balloon (@stats false) or /balloon/statistics. */
static void patch_balloon(struct api_server *s, bool stats, const char *body, size_t len,
			  struct api_reply *r)
{
	struct husk_balloon_config *bc = &s->t.cfg->balloon;
	const char *key = stats ? "stats_polling_interval_s" : "amount_mib";
	struct json_object *o;
	char err[256];
	uint32_t v;
	int ret = 0;

	if (!bc->enabled) {
		api_fault(r, 400, MSG_NO_BALLOON);
		return;
	}
	o = api_parse_body(body, len, r);
	if (!o)
		return;
	if (config_parse_balloon_patch(o, key, &v, err, sizeof(err))) {
		api_fault(r, 400, "%s", err);
		goto out;
	}
	if (stats && !bc->stats_interval_s) {
		api_fault(r, 400, "%s Statistics cannot be turned on after boot.", MSG_NO_STATS);
		goto out;
	}
	if (stats && !v) {
		api_fault(r, 400, "stats_polling_interval_s: statistics cannot be turned off "
			  "(the guest was offered the statistics queue); expected 1 to %u",
			  HUSK_BALLOON_STATS_MAX_INTERVAL);
		goto out;
	}
	if (!stats && (uint64_t)v << 20 > s->t.cfg->memory) {
		api_fault(r, 400, "amount_mib: %u MiB is more than the VM's %llu MiB of RAM", v,
			  (unsigned long long)(s->t.cfg->memory >> 20));
		goto out;
	}
	if (s->vm)
		ret = stats ? husk_vm_balloon_set_stats_interval(s->vm, v) :
			      husk_vm_balloon_set_target(s->vm, v);
	if (ret) {
		api_fault(r, 400, "%s: %s", key, strerror(-ret));
		goto out;
	}
	if (stats)
		bc->stats_interval_s = v;
	else
		bc->amount_mib = v;
	reply(r, 204, NULL);
out:
	json_object_put(o);
}

static void get_balloon(struct api_server *s, struct api_reply *r)
{
	if (!s->t.cfg->balloon.enabled)
		api_fault(r, 400, MSG_NO_BALLOON);
	else
		reply(r, 200, api_balloon_json(&s->t.cfg->balloon));
}

static void get_stats(struct api_server *s, struct api_reply *r)
{
	const struct husk_balloon_config *bc = &s->t.cfg->balloon;
	struct husk_balloon_info in = { 0 };
	struct json_object *o;

	if (!bc->enabled) {
		api_fault(r, 400, MSG_NO_BALLOON);
		return;
	}
	if (!bc->stats_interval_s) {
		api_fault(r, 400, MSG_NO_STATS);
		return;
	}
	if (!s->vm || husk_vm_balloon_info(s->vm, &in))
		in.target_pages = bc->amount_mib << 8;	/* not started: the target only */
	o = json_object_new_object();
	json_object_object_add(o, "target_pages", json_object_new_int64(in.target_pages));
	json_object_object_add(o, "actual_pages", json_object_new_int64(in.actual_pages));
	json_object_object_add(o, "target_mib", json_object_new_int64(in.target_pages >> 8));
	json_object_object_add(o, "actual_mib", json_object_new_int64(in.actual_pages >> 8));
	for (unsigned i = 0; i < HUSK_BALLOON_NTAGS; i++)
		if (in.stats_has & (1u << i))
			json_object_object_add(o, stat_names[i],
					       json_object_new_int64((int64_t)in.stats[i]));
	reply(r, 200, o);
}

bool api_balloon_route(struct api_server *s, const char *method, const char *url,
		       const char *body, size_t len, struct api_reply *r)
{
	bool stats;

	if (strcmp(url, "/balloon") != 0 && strcmp(url, "/balloon/statistics") != 0)
		return false;
	stats = url[8] == '/';
	if (!strcmp(method, "GET"))
		stats ? get_stats(s, r) : get_balloon(s, r);
	else if (!strcmp(method, "PATCH"))
		patch_balloon(s, stats, body, len, r);
	else if (!strcmp(method, "PUT") && !stats)
		put_balloon(s, body, len, r);
	else
		return false;
	return true;
}
