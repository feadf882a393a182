// SPDX-License-Identifier: MIT
/*
 * Firecracker's RateLimiter objects in the config file and the API
 * ({"bandwidth": TokenBucket, "ops": TokenBucket}; a TokenBucket is
 * {"size", "one_time_burst", "refill_time"}), and PATCH /drives/{id}.
 */
#include "vmm/config_file.h"
#include "core/ratelimit.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static int rl_error(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	return -EINVAL;
}

static int bucket(struct json_object *o, const char *path, struct husk_token_bucket *b,
		  char *err, size_t errlen)
{
	bool have_size = false, have_refill = false;
	char where[192];

	memset(b, 0, sizeof(*b));
	if (!o)
		return 0;	/* null: no limit */
	if (!json_object_is_type(o, json_type_object))
		return rl_error(err, errlen, path, "expected an object (a TokenBucket)");
	json_object_object_foreach(o, key, v) {
		uint64_t *dst;
		int64_t n;

		snprintf(where, sizeof(where), "%s.%s", path, key);
		if (!strcmp(key, "size"))
			dst = &b->size, have_size = true;
		else if (!strcmp(key, "one_time_burst"))
			dst = &b->one_time_burst;
		else if (!strcmp(key, "refill_time"))
			dst = &b->refill_ms, have_refill = true;
		else
			return rl_error(err, errlen, where, "unknown key");
		if (!v && dst == &b->one_time_burst)
			continue;
		if (!v || !json_object_is_type(v, json_type_int))
			return rl_error(err, errlen, where, "expected an integer");
		errno = 0;
		n = json_object_get_int64(v);
		if (n < 0 || errno)
			return rl_error(err, errlen, where, "expected an integer >= 0");
		*dst = (uint64_t)n;
	}
	if (!have_size || !have_refill)
		return rl_error(err, errlen, path, have_size ? "refill_time is required" :
							    "size is required");
	return 0;
}

int config_parse_rate_limiter(struct json_object *o, const char *path,
			      struct husk_rate_limit *out, char *err, size_t errlen)
{
	struct husk_rate_limit rl = { 0 };
	char where[160];

	if (o && !json_object_is_type(o, json_type_object))
		return rl_error(err, errlen, path, "expected an object (a RateLimiter) or null");
	if (o) {
		json_object_object_foreach(o, key, v) {
			snprintf(where, sizeof(where), "%s.%s", path, key);
			if (!strcmp(key, "bandwidth")) {
				if (bucket(v, where, &rl.bandwidth, err, errlen))
					return -EINVAL;
			} else if (!strcmp(key, "ops")) {
				if (bucket(v, where, &rl.ops, err, errlen))
					return -EINVAL;
			} else {
				return rl_error(err, errlen, where, "unknown key");
			}
		}
	}
	if (!rl_valid(&rl))
		return rl_error(err, errlen, path, "a size or burst above 2^50, or a refill_time "
				"above an hour");
	*out = rl;
	return 0;
}

struct json_object *config_rate_limiter_json(const struct husk_rate_limit *rl)
{
	const struct husk_token_bucket *b[2] = { &rl->bandwidth, &rl->ops };
	static const char *const names[2] = { "bandwidth", "ops" };
	struct json_object *o = json_object_new_object();

	for (int i = 0; i < 2; i++) {
		struct json_object *t;

		if (!b[i]->size || !b[i]->refill_ms)
			continue;
		t = json_object_new_object();
		json_object_object_add(t, "size", json_object_new_int64((int64_t)b[i]->size));
		if (b[i]->one_time_burst)
			json_object_object_add(t, "one_time_burst",
					       json_object_new_int64((int64_t)b[i]->one_time_burst));
		json_object_object_add(t, "refill_time",
				       json_object_new_int64((int64_t)b[i]->refill_ms));
		json_object_object_add(o, names[i], t);
	}
	return o;
}

bool config_rate_limited(const struct husk_rate_limit *rl)
{
	return (rl->bandwidth.size && rl->bandwidth.refill_ms) || (rl->ops.size && rl->ops.refill_ms);
}
