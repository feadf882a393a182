/* SPDX-License-Identifier: MIT */
#ifndef HUSK_API_H
#define HUSK_API_H

/*
 * The API socket (--api-sock): HTTP/1.1 with JSON bodies on a unix socket,
 * Firecracker's endpoints plus husk's (docs/orchestration.md). Served by
 * libmicrohttpd's internal thread (the API thread role); requests are
 * handled one at a time.
 *
 * Before InstanceStart the API edits the pending config in @target (owned
 * by the caller, as are the strings in its arena). InstanceStart builds the
 * VM with husk_vm_create() on the API thread: an error is a 400 and the API
 * keeps serving; on success api_wait_instance_start() hands the VM to the
 * main thread, which runs it.
 */
#include <stddef.h>

#include "husk/husk.h"
#include "vmm/config_file.h"

struct api_server;

struct api_params {
	const char *sock_path;
	struct config_target target;
};

/* Creates the socket (mode 0600; never replaces a non-socket) and starts serving. */
int api_start(const struct api_params *p, struct api_server **out, char *err, size_t errlen);
/*
 * Main thread: wait for InstanceStart. 0 with *vm, or -EINTR when SIGTERM,
 * SIGINT or SIGHUP came first (they must be blocked in every thread).
 */
int api_wait_instance_start(struct api_server *s, struct husk_vm **vm);
/* The VM was built from the command line or config file: serve it. */
void api_attach_vm(struct api_server *s, struct husk_vm *vm);
/* Before husk_vm_destroy(): waits for a request using the VM to finish. */
void api_detach_vm(struct api_server *s);
/* Stops serving, removes the socket and frees @s. NULL is fine. */
void api_stop(struct api_server *s);

#endif
