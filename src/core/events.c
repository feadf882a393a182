// SPDX-License-Identifier: MIT
/* Lifecycle events as JSON lines on a file or FIFO (see events.h). */
#include "core/events.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct husk_events {
	int fd;
	pthread_mutex_t lock;		/* one line at a time */
	unsigned long dropped;
};

static int open_sink(const char *path)
{
	struct stat st;

	/*
	 * husk's own stdout/stderr: share the open file, so that events and
	 * log lines written to the same file never overwrite each other
	 * (reopening /proc/self/fd/N would start a second file offset).
	 */
	if (strcmp(path, "/dev/stdout") == 0)
		return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (strcmp(path, "/dev/stderr") == 0)
		return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);

	/* a FIFO: O_RDWR never waits for a reader and never gets ENXIO */
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
}

int events_open(const char *path, struct husk_events **out, char *err, size_t errlen)
{
	struct husk_events *ev = calloc(1, sizeof(*ev));

	*out = NULL;
	if (!ev) {
		snprintf(err, errlen, "--events %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	ev->fd = open_sink(path);
	if (ev->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "--events %s: %s", path, strerror(e));
		free(ev);
		return -e;
	}
	pthread_mutex_init(&ev->lock, NULL);
	*out = ev;
	return 0;
}

void events_close(struct husk_events *ev)
{
	if (!ev)
		return;
	close(ev->fd);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

static void events_write(struct husk_events *ev, struct json_object *o)
{
	struct timespec ts;
	const char *s;
	char *line;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "timestamp_us",
			       json_object_new_int64((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	line = malloc(n + 2);
	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		pthread_mutex_lock(&ev->lock);
		/* under PIPE_BUF a FIFO write is all or nothing */
		if (write(ev->fd, line, n + 1) != (ssize_t)(n + 1))
			ev->dropped++;
		pthread_mutex_unlock(&ev->lock);
		free(line);
	}
	json_object_put(o);
}

void events_emit(struct husk_events *ev, const char *event, const char *detail)
{
	struct json_object *o;

	if (!ev)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(event));
	if (detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	events_write(ev, o);
}

void events_emit_shutdown(struct husk_events *ev, const char *reason, int exit_status)
{
	struct json_object *o;

	if (!ev)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("shutdown"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "exit_status", json_object_new_int(exit_status));
	events_write(ev, o);
}

void events_emit_numbers(struct husk_events *ev, const char *event, const char *const *keys,
			 const int64_t *vals, unsigned n)
{
	struct json_object *o;

	if (!ev)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(event));
	for (unsigned i = 0; i < n; i++)
		json_object_object_add(o, keys[i], json_object_new_int64(vals[i]));
	events_write(ev, o);
}

static void hook_emit(void *ctx, const char *event, const char *detail)
{
	events_emit(ctx, event, detail);
}

struct event_hook events_hook(struct husk_events *ev)
{
	return (struct event_hook){ .emit = hook_emit, .ctx = ev };
}
