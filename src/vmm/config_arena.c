// SPDX-License-Identifier: MIT
/*
 * The string arena of the config file and the API (config_file.h): the
 * strings struct husk_config points to, and the sweep that frees those no
 * config or orch option points to any more.
 */
#include "vmm/config_file.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	char data[];
};

char *arena_strdup(struct str_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	struct arena_chunk *c = malloc(sizeof(*c) + n);

	if (!c)
		return NULL;
	memcpy(c->data, s, n);
	c->size = sizeof(*c) + n;
	c->next = a->head;
	a->head = c;
	return c->data;
}

void arena_free(struct str_arena *a)
{
	while (a->head) {
		struct arena_chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

size_t arena_bytes(const struct str_arena *a)
{
	size_t n = 0;

	for (const struct arena_chunk *c = a->head; c; c = c->next)
		n += c->size;
	return n;
}

/* Every string field of the config and the orch options (some not the arena's). */
static size_t live_strings(const struct config_target *t, const char **out)
{
	const struct husk_config *cfg = t->cfg;
	size_t n = 0;

	out[n++] = cfg->kernel;
	out[n++] = cfg->initrd;
	out[n++] = cfg->cmdline;
	out[n++] = cfg->serial;
	out[n++] = cfg->metrics_path;
	for (unsigned i = 0; i < HUSK_MAX_DISKS; i++) {
		out[n++] = cfg->disks[i].id;
		out[n++] = cfg->disks[i].path;
		out[n++] = cfg->disks[i].serial;
	}
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++) {
		out[n++] = cfg->nets[i].id;
		out[n++] = cfg->nets[i].tap;
	}
	out[n++] = t->orch->api_sock;
	out[n++] = t->orch->log_file;
	out[n++] = t->orch->events_path;
	return n;
}

#define LIVE_MAX (5 + 3 * HUSK_MAX_DISKS + 2 * HUSK_MAX_NETS + 3)

void config_sweep(struct config_target *t)
{
	const char *live[LIVE_MAX];
	size_t n = live_strings(t, live);
	struct arena_chunk **pp = &t->arena->head;

	while (*pp) {
		struct arena_chunk *c = *pp;
		bool used = false;

		for (size_t i = 0; i < n && !used; i++)
			used = live[i] == c->data;
		if (used) {
			pp = &c->next;
		} else {
			*pp = c->next;
			free(c);
		}
	}
}
