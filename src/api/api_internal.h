/* SPDX-License-Identifier: MIT */
#ifndef HUSK_API_INTERNAL_H
#define HUSK_API_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

struct json_object;

struct api_server {
	struct MHD_Daemon *daemon;
	char *sock_path;
	int listen_fd;
	int start_fd;			/* eventfd: InstanceStart built the VM */
	pthread_mutex_t lock;		/* held while a request is handled */
	struct husk_vm *vm;		/* NULL before InstanceStart and after detach */
	struct mig_source *mig;		/* the last PUT /migration (migration/migrate.h) */
	bool started;			/* InstanceStart succeeded (or booted from flags) */
	bool handed_over;		/* api_wait_instance_start() took the VM */
	struct config_target t;
	uint64_t requests;		/* for GET /metrics "api_server" */
	uint64_t bad_requests;
};

/* What a request gets: a status and a JSON body (NULL: none). */
struct api_reply {
	unsigned status;
	struct json_object *body;
};

#define API_MAX_BODY (64u << 10)

/* routes.c: @s->lock is held. @body is NUL-terminated. */
void api_route(struct api_server *s, const char *method, const char *url, const char *body,
	       size_t len, struct api_reply *r);
void api_fault(struct api_reply *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A body that must be one JSON object; NULL: @r says why. */
struct json_object *api_parse_body(const char *body, size_t len, struct api_reply *r);

/* snapshot_routes.c: PUT /snapshot/create, PUT /snapshot/load. */
void api_snapshot_create(struct api_server *s, const char *body, size_t len,
			 struct api_reply *r);
void api_snapshot_load(struct api_server *s, const char *body, size_t len, struct api_reply *r);

/* migration_routes.c: PUT/GET /migration (or /replication: @replicate), PUT .../cancel. */
void api_migration_put(struct api_server *s, const char *body, size_t len, bool replicate,
		       struct api_reply *r);
void api_migration_get(struct api_server *s, bool replicate, struct api_reply *r);
void api_migration_cancel(struct api_server *s, bool replicate, struct api_reply *r);
/* A migration is active: true with a 400 in @r (for what would change the VM). */
bool api_migration_busy(struct api_server *s, struct api_reply *r);

/* views.c */
/* Firecracker's Balloon object for @bc (GET /balloon, GET /vm/config); NULL: none. */
struct json_object *api_balloon_json(const struct husk_balloon_config *bc);
/* The /balloon endpoints (balloon_routes.c); false: not one of them. */
bool api_balloon_route(struct api_server *s, const char *method, const char *url,
		       const char *body, size_t len, struct api_reply *r);
struct json_object *api_vm_config_json(const struct config_target *t);
struct json_object *api_instance_info(struct api_server *s);
/* GET /version: Firecracker's FirecrackerVersion, plus husk's own version. */
struct json_object *api_version_json(void);

#endif
