// SPDX-License-Identifier: MIT
/* JSON views for GET / and GET /vm/config, in Firecracker's shapes. */
#include "api/api_internal.h"

#include <json-c/json.h>
#include <stdio.h>

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *boot_source_json(const struct husk_config *cfg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "kernel_image_path", str_or_null(cfg->kernel));
	json_object_object_add(o, "initrd_path", str_or_null(cfg->initrd));
	json_object_object_add(o, "boot_args", str_or_null(cfg->cmdline));
	return o;
}

static struct json_object *drives_json(const struct husk_config *cfg)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; i < cfg->ndisks; i++) {
		const struct husk_disk_config *d = &cfg->disks[i];
		struct json_object *o = json_object_new_object();

		char id[CONFIG_ID_BUF];

		json_object_object_add(o, "drive_id", str_or_null(config_disk_id(cfg, i, id)));
		json_object_object_add(o, "path_on_host", str_or_null(d->path));
		json_object_object_add(o, "is_root_device", json_object_new_boolean(d->root));
		json_object_object_add(o, "is_read_only", json_object_new_boolean(d->readonly));
		json_object_object_add(o, "cache_type", json_object_new_string("Unsafe"));
		json_object_object_add(o, "io_engine", json_object_new_string(
			d->engine == HUSK_BLK_ENGINE_SYNC ? "Sync" : "Async"));
		json_object_object_add(o, "rate_limiter", config_rate_limited(&d->rate) ?
				       config_rate_limiter_json(&d->rate) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *nets_json(const struct husk_config *cfg)
{
	struct json_object *a = json_object_new_array();
	char mac[18];

	for (unsigned i = 0; i < cfg->nnets; i++) {
		const struct husk_net_config *n = &cfg->nets[i];
		struct json_object *o = json_object_new_object();

		char id[CONFIG_ID_BUF];

		json_object_object_add(o, "iface_id", str_or_null(config_net_id(cfg, i, id)));
		json_object_object_add(o, "host_dev_name", str_or_null(n->tap));
		if (n->mac_set) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
				 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
			json_object_object_add(o, "guest_mac", json_object_new_string(mac));
		}
		json_object_object_add(o, "rx_rate_limiter", config_rate_limited(&n->rx_rate) ?
				       config_rate_limiter_json(&n->rx_rate) : NULL);
		json_object_object_add(o, "tx_rate_limiter", config_rate_limited(&n->tx_rate) ?
				       config_rate_limiter_json(&n->tx_rate) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *logger_json(const struct config_target *t)
{
	static const char *const names[] = { "Error", "Warning", "Info", "Debug" };
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "log_path", str_or_null(t->orch->log_file));
	json_object_object_add(o, "level", json_object_new_string(names[*t->log_level]));
	json_object_object_add(o, "show_level", json_object_new_boolean(t->orch->show_level));
	json_object_object_add(o, "show_log_origin", json_object_new_boolean(t->orch->show_origin));
	return o;
}

static struct json_object *husk_json(const struct husk_config *cfg, const struct orch_options *orch)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "serial", str_or_null(cfg->serial));
	json_object_object_add(o, "rng", json_object_new_boolean(cfg->rng));
	json_object_object_add(o, "shutdown_timeout", json_object_new_int64(cfg->shutdown_timeout));
	json_object_object_add(o, "virtio_transport", json_object_new_string(
		cfg->transport == HUSK_VIRTIO_MMIO ? "mmio" : "pci"));
	json_object_object_add(o, "log_format", json_object_new_string(
		orch->log_format == LOG_FORMAT_JSON ? "json" : "text"));
	if (orch->events_path)
		json_object_object_add(o, "events", json_object_new_string(orch->events_path));
	return o;
}

struct json_object *api_balloon_json(const struct husk_balloon_config *bc)
{
	struct json_object *o;

	if (!bc->enabled)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "amount_mib", json_object_new_int64(bc->amount_mib));
	json_object_object_add(o, "deflate_on_oom", json_object_new_boolean(bc->deflate_on_oom));
	json_object_object_add(o, "stats_polling_interval_s",
			       json_object_new_int64(bc->stats_interval_s));
	json_object_object_add(o, "free_page_reporting",
			       json_object_new_boolean(bc->free_page_reporting));
	json_object_object_add(o, "free_page_hinting", json_object_new_boolean(false));
	return o;
}

struct json_object *api_vm_config_json(const struct config_target *t)
{
	const struct husk_config *cfg = t->cfg;
	struct json_object *o = json_object_new_object(), *m = NULL;

	json_object_object_add(o, "boot-source", boot_source_json(cfg));
	json_object_object_add(o, "drives", drives_json(cfg));
	json_object_object_add(o, "machine-config", config_machine_to_json(cfg));
	json_object_object_add(o, "network-interfaces", nets_json(cfg));
	json_object_object_add(o, "logger", logger_json(t));
	if (cfg->metrics_path) {
		m = json_object_new_object();
		json_object_object_add(m, "metrics_path", json_object_new_string(cfg->metrics_path));
	}
	json_object_object_add(o, "metrics", m);
	json_object_object_add(o, "husk", husk_json(cfg, t->orch));
	json_object_object_add(o, "balloon", api_balloon_json(&cfg->balloon));
	return o;
}

static const char *instance_state(struct api_server *s)
{
	if (!s->started)
		return "Not started";
	/* between InstanceStart and husk_vm_run(), briefly, this says Stopped too */
	if (!s->vm || !husk_vm_is_running(s->vm))
		return "Stopped";
	return husk_vm_is_paused(s->vm) ? "Paused" : "Running";
}

struct json_object *api_version_json(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "firecracker_version", json_object_new_string(HUSK_FC_API_VERSION));
	json_object_object_add(o, "husk_version", json_object_new_string(HUSK_VERSION));
	return o;
}

struct json_object *api_instance_info(struct api_server *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(s->t.orch->instance_id ?
							       s->t.orch->instance_id :
							       "anonymous-instance"));
	json_object_object_add(o, "state", json_object_new_string(instance_state(s)));
	json_object_object_add(o, "vmm_version", json_object_new_string(HUSK_VERSION));
	json_object_object_add(o, "app_name", json_object_new_string("husk"));
	return o;
}
