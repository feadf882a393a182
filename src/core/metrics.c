// SPDX-License-Identifier: MIT
#include "core/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int metrics_add_counters(struct metrics_registry *r, const char *name, struct dev_counters *c)
{
	if (r->n == METRICS_MAX_SOURCES)
		return -ENOSPC;
	r->src[r->n++] = (struct metrics_source){ .name = name, .counters = c };
	return 0;
}

int metrics_add_callback(struct metrics_registry *r, const char *name,
			 void (*append)(void *ctx, struct json_object *obj), void *ctx)
{
	if (r->n == METRICS_MAX_SOURCES)
		return -ENOSPC;
	r->src[r->n++] = (struct metrics_source){ .name = name, .append = append, .ctx = ctx };
	return 0;
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

struct json_object *dev_counters_json(struct dev_counters *c)
{
	struct json_object *o = json_object_new_object();

	add_u64(o, "requests", counter_get(&c->requests));
	add_u64(o, "read_bytes", counter_get(&c->read_bytes));
	add_u64(o, "write_bytes", counter_get(&c->write_bytes));
	add_u64(o, "errors", counter_get(&c->errors));
	add_u64(o, "interrupts", counter_get(&c->interrupts));
	add_u64(o, "uring_submissions", counter_get(&c->uring_submissions));
	add_u64(o, "uring_completions", counter_get(&c->uring_completions));
	return o;
}

void metrics_append_sources(const struct metrics_registry *r, struct json_object *obj)
{
	for (unsigned i = 0; i < r->n; i++) {
		const struct metrics_source *s = &r->src[i];
		struct json_object *o;

		if (s->counters) {
			json_object_object_add(obj, s->name, dev_counters_json(s->counters));
			continue;
		}
		o = json_object_new_object();
		s->append(s->ctx, o);
		json_object_object_add(obj, s->name, o);
	}
}

int metrics_open(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
}

int metrics_check_path(const char *path)
{
	struct stat st;
	int fd;

	/* a FIFO is not opened: closing it again would hand its reader an EOF */
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return access(path, W_OK) == 0 ? 0 : -errno;
	fd = metrics_open(path);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int metrics_write_fd(int fd, const char *line)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 1);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, line, n);
	buf[n] = '\n';
	if (write(fd, buf, n + 1) != (ssize_t)(n + 1))
		ret = -EIO;
	free(buf);
	return ret;
}

int metrics_write_line(const char *path, const char *line)
{
	int fd = metrics_open(path), ret;

	if (fd < 0)
		return -errno;
	ret = metrics_write_fd(fd, line);
	close(fd);
	return ret;
}
