// SPDX-License-Identifier: MIT
/*
 * Firecracker's Balloon object in the config file ("balloon") and the API
 * (PUT /balloon before boot; PATCH /balloon {"amount_mib"} and PATCH
 * /balloon/statistics {"stats_polling_interval_s"} after it).
 */
#include "vmm/config_file.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int bl_error(char *err, size_t errlen, const char *path, const char *key, const char *what)
{
	snprintf(err, errlen, "%s%s%s: %s", path, *path ? "." : "", key, what);
	return -EINVAL;
}

static int get_uint(struct json_object *v, const char *path, const char *key, uint32_t max,
		    uint32_t *out, char *err, size_t errlen)
{
	int64_t n;
	char what[64];

	if (!json_object_is_type(v, json_type_int))
		return bl_error(err, errlen, path, key, "expected an integer");
	n = json_object_get_int64(v);
	if (n < 0 || n > max) {
		snprintf(what, sizeof(what), "expected 0 to %u", max);
		return bl_error(err, errlen, path, key, what);
	}
	*out = (uint32_t)n;
	return 0;
}

int config_parse_balloon(struct json_object *o, const char *path, struct husk_balloon_config *bc,
			 char *err, size_t errlen)
{
	bool amount = false, oom = false;

	memset(bc, 0, sizeof(*bc));
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "%s%sexpected an object (a Balloon)", path, *path ? ": " : "");
		return -EINVAL;
	}
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "amount_mib")) {
			if (get_uint(v, path, key, UINT32_MAX >> 8, &bc->amount_mib, err, errlen))
				return -EINVAL;
			amount = true;
		} else if (!strcmp(key, "stats_polling_interval_s")) {
			if (get_uint(v, path, key, HUSK_BALLOON_STATS_MAX_INTERVAL,
				     &bc->stats_interval_s, err, errlen))
				return -EINVAL;
		} else if (!strcmp(key, "deflate_on_oom") || !strcmp(key, "free_page_reporting") ||
			   !strcmp(key, "free_page_hinting")) {
			if (!json_object_is_type(v, json_type_boolean))
				return bl_error(err, errlen, path, key, "expected true or false");
			if (key[0] == 'd') {
				bc->deflate_on_oom = json_object_get_boolean(v);
				oom = true;
			} else if (!strcmp(key, "free_page_reporting")) {
				bc->free_page_reporting = json_object_get_boolean(v);
			} else if (json_object_get_boolean(v)) {
				return bl_error(err, errlen, path, key,
						"free page hinting is not supported (free_page_reporting is)");
			}
		} else {
			return bl_error(err, errlen, path, key, "unknown key");
		}
	}
	if (!amount)
		return bl_error(err, errlen, path, "amount_mib", "required");
	if (!oom)
		return bl_error(err, errlen, path, "deflate_on_oom", "required");
	bc->enabled = true;
	return 0;
}

int config_parse_balloon_patch(struct json_object *o, const char *want, uint32_t *out,
			       char *err, size_t errlen)
{
	bool seen = false;
	uint32_t max = want[0] == 'a' ? UINT32_MAX >> 8 : HUSK_BALLOON_STATS_MAX_INTERVAL;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "expected an object with %s", want);
		return -EINVAL;
	}
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, want) != 0)
			return bl_error(err, errlen, "", key, "unknown key");
		if (get_uint(v, "", key, max, out, err, errlen))
			return -EINVAL;
		seen = true;
	}
	if (!seen)
		return bl_error(err, errlen, "", want, "required");
	return 0;
}
