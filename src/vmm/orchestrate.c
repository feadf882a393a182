// SPDX-License-Identifier: MIT
/* What the API thread may ask of a running VM: metrics, events, shutdown. */
#include "vmm/vm.h"
#include "core/log.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static void vm_event_hook(void *ctx, const char *event, const char *detail)
{
	struct husk_vm *vm = ctx;

	events_emit(vm->cfg.events, event, detail);
}

int vm_orch_init(struct husk_vm *vm)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);	/* for the park deadline */
	pthread_cond_init(&vm->pause.cond, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&vm->pause.requested, false);
	atomic_init(&vm->running, false);
	vm->event_hook = (struct event_hook){ .emit = vm_event_hook, .ctx = vm };
	vm->shutdown_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vm->shutdown_fd < 0 ? -errno : 0;
}

void vm_orch_destroy(struct husk_vm *vm)
{
	if (vm->shutdown_fd >= 0)
		close(vm->shutdown_fd);
	vm->shutdown_fd = -1;
	pthread_cond_destroy(&vm->pause.cond);
	pthread_mutex_destroy(&vm->pause.lock);
}

void vm_event(struct husk_vm *vm, const char *event, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (!fmt) {
		event_hook_emit(&vm->event_hook, event, NULL);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	event_hook_emit(&vm->event_hook, event, detail);
}

int vm_add_metrics(struct husk_vm *vm, const char *name, struct dev_counters *c)
{
	return metrics_add_counters(&vm->metrics, name, c);
}

int vm_add_metrics_callback(struct husk_vm *vm, const char *name,
			    void (*append)(void *ctx, struct json_object *obj), void *ctx)
{
	return metrics_add_callback(&vm->metrics, name, append, ctx);
}

bool husk_vm_is_running(struct husk_vm *vm)
{
	return atomic_load(&vm->running) && !vm_stopping(vm);
}

int husk_vm_request_shutdown(struct husk_vm *vm)
{
	uint64_t one = 1;

	if (!husk_vm_is_running(vm))
		return -EBUSY;
	/* a paused guest could not answer its power button */
	husk_vm_resume(vm);
	if (write(vm->shutdown_fd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* "vcpu": sums over vCPUs (Firecracker's object), "vcpus": one object each. */
static void append_vcpus(struct husk_vm *vm, struct json_object *root)
{
	struct json_object *sum = json_object_new_object(), *each = json_object_new_array();
	uint64_t total[VCPU_EXIT_KINDS] = { 0 };

	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct json_object *o = json_object_new_object();

		for (int k = 0; k < VCPU_EXIT_KINDS; k++) {
			uint64_t n = vm->vcpus[i].exits ?
				counter_get(&vm->vcpus[i].exits->n[k]) : 0;

			total[k] += n;
			json_object_object_add(o, vcpu_exit_names[k], json_object_new_uint64(n));
		}
		json_object_array_add(each, o);
	}
	for (int k = 0; k < VCPU_EXIT_KINDS; k++)
		json_object_object_add(sum, vcpu_exit_names[k], json_object_new_uint64(total[k]));
	json_object_object_add(root, "vcpu", sum);
	json_object_object_add(root, "vcpus", each);
}

char *husk_vm_metrics_json(struct husk_vm *vm)
{
	struct json_object *root = json_object_new_object(), *vmm = json_object_new_object();
	char *out;

	json_object_object_add(root, "utc_timestamp_ms", json_object_new_uint64(realtime_ms()));
	json_object_object_add(vmm, "uptime_ms",
			       json_object_new_uint64((monotonic_ns() - vm->start_ns) / 1000000));
	json_object_object_add(vmm, "paused", json_object_new_boolean(husk_vm_is_paused(vm)));
	json_object_object_add(root, "vmm", vmm);
	append_vcpus(vm, root);
	metrics_append_sources(&vm->metrics, root);
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

int husk_vm_flush_metrics(struct husk_vm *vm)
{
	char *line;
	int ret;

	if (!vm->cfg.metrics_path)
		return -ENOENT;
	line = husk_vm_metrics_json(vm);
	if (!line)
		return -ENOMEM;
	/* a VM built by vm_alloc holds its sink open; one made otherwise (tests) opens it now */
	ret = vm->metrics_fd >= 0 ? metrics_write_fd(vm->metrics_fd, line) :
				    metrics_write_line(vm->cfg.metrics_path, line);
	free(line);
	return ret;
}

int husk_vm_set_disk_rate(struct husk_vm *vm, unsigned disk, const struct husk_rate_limit *rate)
{
	if (disk >= HUSK_MAX_DISKS || !vm->disks[disk])
		return -ENODEV;
	vm->cfg.disks[disk].rate = *rate;
	virtio_blk_set_rate_limit(vm->disks[disk], rate);
	return 0;
}

int husk_vm_balloon_set_target(struct husk_vm *vm, uint32_t amount_mib)
{
	int ret;

	if (!vm->balloon)
		return -ENODEV;
	if (amount_mib > UINT32_MAX >> 8)
		return -EINVAL;
	ret = virtio_balloon_set_target(vm->balloon, amount_mib << 8);
	if (!ret)
		vm->cfg.balloon.amount_mib = amount_mib;
	return ret;
}

int husk_vm_balloon_set_stats_interval(struct husk_vm *vm, uint32_t seconds)
{
	int ret;

	if (!vm->balloon)
		return -ENODEV;
	ret = virtio_balloon_set_stats_interval(vm->balloon, seconds);
	if (!ret)
		vm->cfg.balloon.stats_interval_s = seconds;
	return ret;
}

int husk_vm_balloon_info(struct husk_vm *vm, struct husk_balloon_info *out)
{
	if (!vm->balloon)
		return -ENODEV;
	virtio_balloon_info(vm->balloon, out);
	return 0;
}

int husk_vm_set_net_rates(struct husk_vm *vm, unsigned nic, const struct husk_rate_limit *rx,
			  const struct husk_rate_limit *tx)
{
	if (nic >= HUSK_MAX_NETS || !vm->nets[nic])
		return -ENODEV;
	vm->cfg.nets[nic].rx_rate = *rx;
	vm->cfg.nets[nic].tx_rate = *tx;
	virtio_net_set_rate_limits(vm->nets[nic], rx, tx);
	return 0;
}
