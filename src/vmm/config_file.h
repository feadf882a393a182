/* SPDX-License-Identifier: MIT */
#ifndef HUSK_CONFIG_FILE_H
#define HUSK_CONFIG_FILE_H

/*
 * The JSON configuration: `husk --config vm.json` and the API's PUT bodies.
 * Firecracker's config-file schema (boot-source, drives, machine-config,
 * network-interfaces, logger, metrics, and null for what husk lacks) plus a
 * "husk" object for husk's own settings. Every error names the key path:
 * "drives[1].path_on_host: expected string".
 */
#include <stdbool.h>
#include <stddef.h>

#include "husk/husk.h"
#include "core/log.h"

struct json_object;

/*
 * Strings handed to struct husk_config are not owned by it: the config file
 * and API copy theirs into an arena that lives as long as the VM.
 */
struct str_arena {
	struct arena_chunk *head;
};

char *arena_strdup(struct str_arena *a, const char *s);
void arena_free(struct str_arena *a);
/* Bytes the arena holds (its strings and their headers). */
size_t arena_bytes(const struct str_arena *a);

/* What the config can say beyond struct husk_config (process-wide settings). */
struct orch_options {
	const char *api_sock;		/* --api-sock */
	const char *log_file;		/* --log-file, logger.log_path */
	const char *events_path;	/* --events, husk.events */
	const char *migration_secret;	/* --migration-secret: a migration's shared secret */
	const char *instance_id;	/* --id (Firecracker's; husk-jailer passes it): GET / */
	const char *cgroup_dir;		/* --cgroup-dir: its own cgroup, for PATCH /vm/limits */
	size_t api_max_body;		/* --http-api-max-payload-size; 0: the default */
	enum log_format log_format;	/* --log-format, husk.log_format */
	bool show_level;		/* logger.show_level */
	bool show_origin;		/* logger.show_log_origin (accepted, no effect) */
};

/* Where parsed values go. */
struct config_target {
	struct husk_config *cfg;
	struct orch_options *orch;
	enum log_level *log_level;
	struct str_arena *arena;
};

/*
 * Free every string of @t's arena that neither @t's config nor its orch
 * options point to: what a PUT replaced, and all a failed PUT copied. Call
 * it after each pre-boot edit, never while a VM built from @t may run.
 */
void config_sweep(struct config_target *t);

/* Read @path, parse it and apply it on top of what @t holds. */
int config_file_load(const char *path, struct config_target *t, char *err, size_t errlen);
/* Apply a parsed config-file document (the top-level object). */
int config_apply_document(struct json_object *root, struct config_target *t,
			  char *err, size_t errlen);

/*
 * One section each, shared with the API. @path prefixes key names in
 * errors ("" for an API body). @id, when not NULL, is the id from the URL,
 * which must match the body's drive_id / iface_id. @replace (machine-config
 * PUT) resets the section to its defaults first and requires its keys.
 */
int config_apply_boot_source(struct json_object *o, struct config_target *t, const char *path,
			     char *err, size_t errlen);
int config_apply_machine(struct json_object *o, struct config_target *t, const char *path,
			 bool replace, char *err, size_t errlen);
int config_apply_drive(struct json_object *o, struct config_target *t, const char *path,
		       const char *id, char *err, size_t errlen);
int config_apply_net(struct json_object *o, struct config_target *t, const char *path,
		     const char *id, char *err, size_t errlen);
int config_apply_logger(struct json_object *o, struct config_target *t, const char *path,
			char *err, size_t errlen);
int config_apply_metrics(struct json_object *o, struct config_target *t, const char *path,
			 char *err, size_t errlen);
/*
 * Balloon: a whole Balloon object (config file "balloon", PUT /balloon;
 * amount_mib and deflate_on_oom required, free_page_hinting only false), or
 * a PATCH body holding just the key @want ("amount_mib" or
 * "stats_polling_interval_s").
 */
int config_parse_balloon(struct json_object *o, const char *path, struct husk_balloon_config *bc,
			 char *err, size_t errlen);
int config_parse_balloon_patch(struct json_object *o, const char *want, uint32_t *out,
			       char *err, size_t errlen);
/* Firecracker's log level names (any case): Error, Warning, Info, Debug, Trace, Off. */
int config_parse_fc_level(const char *s, enum log_level *out);
int config_apply_husk(struct json_object *o, struct config_target *t, const char *path,
		      char *err, size_t errlen);

/*
 * The id of disk / NIC @i: its own, or the default the VM gives one without
 * (diskN, netN), formatted into @buf. Command-line devices may have no id.
 */
#define CONFIG_ID_BUF 16
/* Firecracker's RateLimiter object (NULL: no limit) into @out; -EINVAL with @err. */
int config_parse_rate_limiter(struct json_object *o, const char *path,
			      struct husk_rate_limit *out, char *err, size_t errlen);
/* The limits as a RateLimiter object (GET /vm/config). */
struct json_object *config_rate_limiter_json(const struct husk_rate_limit *rl);
bool config_rate_limited(const struct husk_rate_limit *rl);

const char *config_disk_id(const struct husk_config *cfg, unsigned i, char buf[CONFIG_ID_BUF]);
const char *config_net_id(const struct husk_config *cfg, unsigned i, char buf[CONFIG_ID_BUF]);

/* Parse one JSON document (all of @text); NULL with the reason in @why. */
struct json_object *config_parse_json(const char *text, size_t len, char *why, size_t whylen);
/* machine-config as GET /machine-config shows it (a new reference). */
struct json_object *config_machine_to_json(const struct husk_config *cfg);

#endif
