// SPDX-License-Identifier: MIT
/*
 * What the virtio devices give the orchestration layer: a pause hook each
 * (their I/O threads park while the VM is paused) and their counters in
 * the metrics (GET /metrics, --metrics), as
 *   "disk0": {"reads":..,"writes":..,"read_bytes":..,..,"engine":"io_uring"},
 *   "net0": {"rx_packets":..,"tx_packets":..,..,"engine":"io_uring"}.
 */
#include "vmm/vm.h"

#include <json-c/json.h>

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void disk_metrics(void *ctx, struct json_object *obj)
{
	struct virtio_blk *blk = ctx;
	struct virtio_blk_stats s;

	virtio_blk_stats(blk, &s);
	add_u64(obj, "reads", s.reads);
	add_u64(obj, "writes", s.writes);
	add_u64(obj, "flushes", s.flushes);
	add_u64(obj, "discards", s.discards);
	add_u64(obj, "write_zeroes", s.write_zeroes);
	add_u64(obj, "get_ids", s.get_ids);
	add_u64(obj, "read_bytes", s.read_bytes);
	add_u64(obj, "write_bytes", s.write_bytes);
	add_u64(obj, "errors", s.errors);
	add_u64(obj, "interrupts", s.interrupts);
	add_u64(obj, "polled", s.polled);
	add_u64(obj, "throttled", s.throttled);
	add_u64(obj, "uring_submissions", s.engine_submits);
	add_u64(obj, "engine_sqes", s.engine_sqes);
	add_u64(obj, "uring_completions", s.engine_completions);
	add_u64(obj, "queues", virtio_blk_queues(blk));
	json_object_object_add(obj, "engine", json_object_new_string(virtio_blk_engine_name(blk)));
}

static void net_metrics(void *ctx, struct json_object *obj)
{
	struct virtio_net *net = ctx;
	struct virtio_net_stats s;

	virtio_net_stats(net, &s);
	add_u64(obj, "rx_packets", s.rx_packets);
	add_u64(obj, "rx_bytes", s.rx_bytes);
	add_u64(obj, "tx_packets", s.tx_packets);
	add_u64(obj, "tx_bytes", s.tx_bytes);
	add_u64(obj, "rx_errors", s.rx_errors);
	add_u64(obj, "tx_errors", s.tx_errors);
	add_u64(obj, "rx_short", s.rx_short);
	add_u64(obj, "tx_dropped", s.tx_dropped);
	add_u64(obj, "ctrl_commands", s.ctrl_commands);
	add_u64(obj, "ctrl_errors", s.ctrl_errors);
	add_u64(obj, "interrupts", s.interrupts);
	add_u64(obj, "rx_throttled", s.rx_throttled);
	add_u64(obj, "tx_throttled", s.tx_throttled);
	add_u64(obj, "uring_submissions", s.engine_submits);
	add_u64(obj, "engine_sqes", s.engine_sqes);
	add_u64(obj, "uring_completions", s.engine_completions);
	add_u64(obj, "queue_pairs", virtio_net_pairs(net));
	add_u64(obj, "active_pairs", virtio_net_active_pairs(net));
	json_object_object_add(obj, "engine", json_object_new_string(virtio_net_engine_name(net)));
}

static void net_pause(void *ctx)
{
	virtio_net_pause(ctx);
}

static void net_resume(void *ctx)
{
	virtio_net_resume(ctx);
}

static void disk_pause(void *ctx)
{
	virtio_blk_pause(ctx);
}

static void disk_resume(void *ctx)
{
	virtio_blk_resume(ctx);
}

static void rng_pause(void *ctx)
{
	virtio_rng_pause(ctx);
}

static void rng_resume(void *ctx)
{
	virtio_rng_resume(ctx);
}

static void balloon_pause(void *ctx)
{
	virtio_balloon_pause(ctx);
}

static void balloon_resume(void *ctx)
{
	virtio_balloon_resume(ctx);
}

static void balloon_metrics(void *ctx, struct json_object *obj)
{
	struct virtio_balloon_counts n;
	struct husk_balloon_info info;

	virtio_balloon_counts(ctx, &n);
	virtio_balloon_info(ctx, &info);
	add_u64(obj, "target_pages", info.target_pages);
	add_u64(obj, "actual_pages", info.actual_pages);
	add_u64(obj, "inflated_pages", n.inflated_pages);
	add_u64(obj, "deflated_pages", n.deflated_pages);
	add_u64(obj, "discarded_bytes", n.discarded_bytes);
	add_u64(obj, "reported_bytes", n.reported_bytes);
	add_u64(obj, "stats_updates", n.stats_updates);
	add_u64(obj, "bad_pfns", n.bad_pfns);
}

void vm_resignal_virtio(struct husk_vm *vm)
{
	if (vm->rng)
		virtio_dev_resignal(virtio_rng_dev(vm->rng));
	if (vm->balloon)
		virtio_dev_resignal(virtio_balloon_dev(vm->balloon));
	for (unsigned i = 0; i < HUSK_MAX_DISKS; i++)
		if (vm->disks[i])
			virtio_dev_resignal(virtio_blk_dev(vm->disks[i]));
	for (unsigned i = 0; i < HUSK_MAX_NETS; i++)
		if (vm->nets[i])
			virtio_dev_resignal(virtio_net_dev(vm->nets[i]));
}

int vm_register_device_hooks(struct husk_vm *vm)
{
	int ret = 0;

	for (unsigned i = 0; i < vm->cfg.ndisks && !ret; i++) {
		vm->disk_pause[i] = (struct vm_pause_hook){
			.pause = disk_pause, .resume = disk_resume, .ctx = vm->disks[i],
		};
		ret = vm_add_pause_hook(vm, &vm->disk_pause[i]);
		if (!ret)
			ret = vm_add_metrics_callback(vm, vm->cfg.disks[i].id, disk_metrics,
						      vm->disks[i]);
	}
	for (unsigned i = 0; i < vm->cfg.nnets && !ret; i++) {
		vm->net_pause[i] = (struct vm_pause_hook){
			.pause = net_pause, .resume = net_resume, .ctx = vm->nets[i],
		};
		ret = vm_add_pause_hook(vm, &vm->net_pause[i]);
		if (!ret)
			ret = vm_add_metrics_callback(vm, vm->cfg.nets[i].id, net_metrics,
						      vm->nets[i]);
	}
	if (!ret && vm->rng) {
		vm->rng_pause = (struct vm_pause_hook){
			.pause = rng_pause, .resume = rng_resume, .ctx = vm->rng,
		};
		ret = vm_add_pause_hook(vm, &vm->rng_pause);
	}
	if (!ret && vm->balloon) {
		vm->balloon_pause = (struct vm_pause_hook){
			.pause = balloon_pause, .resume = balloon_resume, .ctx = vm->balloon,
		};
		ret = vm_add_pause_hook(vm, &vm->balloon_pause);
		if (!ret)
			ret = vm_add_metrics_callback(vm, "balloon", balloon_metrics, vm->balloon);
	}
	return ret;
}
