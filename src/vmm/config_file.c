// SPDX-License-Identifier: MIT
/* The JSON config (Firecracker's schema plus "husk"), parsed with json-c. */
#include "vmm/config_file.h"
#include "memory/layout.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CONFIG_FILE_MAX (1u << 20)	/* a config is a few hundred bytes */
#define ID_MAX 64

/* ---- errors that name the key path ------------------------------------ */

__attribute__((format(printf, 5, 6)))
static int key_error(char *err, size_t errlen, const char *path, const char *key,
		     const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s%s%s: %s", path, *path && *key ? "." : "", key, msg);
	return -EINVAL;
}

static int want_type(struct json_object *v, enum json_type type, const char *what,
		     const char *path, const char *key, char *err, size_t errlen)
{
	if (json_object_is_type(v, type))
		return 0;
	return key_error(err, errlen, path, key, "expected %s", what);
}

static int get_string(struct json_object *v, struct config_target *t, const char *path,
		      const char *key, const char **out, char *err, size_t errlen)
{
	char *s;

	if (want_type(v, json_type_string, "string", path, key, err, errlen))
		return -EINVAL;
	s = arena_strdup(t->arena, json_object_get_string(v));
	if (!s)
		return key_error(err, errlen, path, key, "%s", strerror(ENOMEM));
	*out = s;
	return 0;
}

static int get_bool(struct json_object *v, const char *path, const char *key, bool *out,
		    char *err, size_t errlen)
{
	if (want_type(v, json_type_boolean, "boolean", path, key, err, errlen))
		return -EINVAL;
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_uint(struct json_object *v, const char *path, const char *key, uint64_t min,
		    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return key_error(err, errlen, path, key, "expected an integer");
	errno = 0;
	n = json_object_get_int64(v);
	if (n < 0 || errno || (uint64_t)n < min || (uint64_t)n > max)
		return key_error(err, errlen, path, key, "expected an integer from %llu to %llu",
				 (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

/* A string that must be one of @names (NULL-terminated); returns its index. */
static int get_enum(struct json_object *v, const char *path, const char *key,
		    const char *const *names, const char *expected, int *out, char *err,
		    size_t errlen)
{
	if (want_type(v, json_type_string, "string", path, key, err, errlen))
		return -EINVAL;
	for (int i = 0; names[i]; i++) {
		if (strcmp(json_object_get_string(v), names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return key_error(err, errlen, path, key, "expected %s", expected);
}

/* Accepted only as null (or absent): something husk does not do yet. */
static int null_only(struct json_object *v, const char *path, const char *key, char *err,
		     size_t errlen)
{
	if (!v)
		return 0;
	return key_error(err, errlen, path, key, "not supported yet (only null is accepted)");
}

static int want_object(struct json_object *o, const char *path, char *err, size_t errlen)
{
	if (json_object_is_type(o, json_type_object))
		return 0;
	snprintf(err, errlen, "%s%sexpected an object", path, *path ? ": " : "");
	return -EINVAL;
}

static int require(struct json_object *o, const char *key, const char *path, char *err,
		   size_t errlen)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v) && v)
		return 0;
	return key_error(err, errlen, path, key, "required");
}

static int check_id(const char *id, const char *path, const char *key, char *err,
		    size_t errlen)
{
	size_t n = strlen(id);

	if (n == 0 || n > ID_MAX)
		return key_error(err, errlen, path, key, "expected 1 to %d characters", ID_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!(c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return key_error(err, errlen, path, key,
					 "only letters, digits, '_' and '-' are allowed");
	}
	return 0;
}

/* ---- boot-source ------------------------------------------------------- */

int config_apply_boot_source(struct json_object *o, struct config_target *t, const char *path,
			     char *err, size_t errlen)
{
	struct husk_config *cfg = t->cfg;
	int ret;

	if (want_object(o, path, err, errlen) || require(o, "kernel_image_path", path, err, errlen))
		return -EINVAL;
	/* the section replaces the previous one: what it leaves out is gone (Firecracker) */
	cfg->initrd = NULL;
	cfg->cmdline = "";
	json_object_object_foreach(o, key, v) {
		if (!v && strcmp(key, "kernel_image_path") != 0)
			continue;	/* null: absent */
		if (strcmp(key, "kernel_image_path") == 0)
			ret = get_string(v, t, path, key, &cfg->kernel, err, errlen);
		else if (strcmp(key, "initrd_path") == 0)
			ret = get_string(v, t, path, key, &cfg->initrd, err, errlen);
		else if (strcmp(key, "boot_args") == 0)
			ret = get_string(v, t, path, key, &cfg->cmdline, err, errlen);
		else
			ret = key_error(err, errlen, path, key, "unknown key");
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- machine-config ---------------------------------------------------- */

static int machine_key(struct json_object *v, const char *key, struct husk_config *cfg,
		       const char *path, char *err, size_t errlen)
{
	static const char *const huge[] = { "None", "2M", NULL };
	uint64_t n;
	bool b;
	int i;

	if (strcmp(key, "vcpu_count") == 0) {
		if (get_uint(v, path, key, 1, HUSK_MAX_CPUS, &n, err, errlen))
			return -EINVAL;
		cfg->cpus = (unsigned)n;
	} else if (strcmp(key, "mem_size_mib") == 0) {
		if (get_uint(v, path, key, LAYOUT_MIN_MEMORY >> 20, LAYOUT_MAX_MEMORY >> 20, &n,
			     err, errlen))
			return -EINVAL;
		cfg->memory = n << 20;
	} else if (strcmp(key, "smt") == 0) {
		if (get_bool(v, path, key, &b, err, errlen))
			return -EINVAL;
		if (b)
			return key_error(err, errlen, path, key, "true is not supported (husk "
					 "presents one thread per core)");
	} else if (strcmp(key, "track_dirty_pages") == 0) {
		if (get_bool(v, path, key, &b, err, errlen))
			return -EINVAL;
		cfg->track_dirty = b;
	} else if (strcmp(key, "huge_pages") == 0) {
		if (get_enum(v, path, key, huge, "\"None\" or \"2M\"", &i, err, errlen))
			return -EINVAL;
		cfg->hugepages = i == 1;
	} else if (strcmp(key, "cpu_template") == 0) {
		return null_only(v, path, key, err, errlen);
	} else {
		return key_error(err, errlen, path, key, "unknown key");
	}
	return 0;
}

int config_apply_machine(struct json_object *o, struct config_target *t, const char *path,
			 bool replace, char *err, size_t errlen)
{
	struct husk_config *cfg = t->cfg, next = *t->cfg;

	if (want_object(o, path, err, errlen))
		return -EINVAL;
	if (replace) {
		if (require(o, "vcpu_count", path, err, errlen) ||
		    require(o, "mem_size_mib", path, err, errlen))
			return -EINVAL;
		next.hugepages = false;
		next.track_dirty = false;
	}
	/* all or nothing: a bad key leaves the config as it was */
	json_object_object_foreach(o, key, v) {
		if (v && machine_key(v, key, &next, path, err, errlen))
			return -EINVAL;
		if (!v && strcmp(key, "cpu_template") != 0)
			return key_error(err, errlen, path, key, "expected a value, not null");
	}
	cfg->cpus = next.cpus;
	cfg->memory = next.memory;
	cfg->hugepages = next.hugepages;
	cfg->track_dirty = next.track_dirty;
	return 0;
}

struct json_object *config_machine_to_json(const struct husk_config *cfg)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "vcpu_count", json_object_new_int64(cfg->cpus));
	json_object_object_add(m, "mem_size_mib", json_object_new_int64((int64_t)(cfg->memory >> 20)));
	json_object_object_add(m, "smt", json_object_new_boolean(false));
	json_object_object_add(m, "track_dirty_pages", json_object_new_boolean(cfg->track_dirty));
	json_object_object_add(m, "huge_pages", json_object_new_string(cfg->hugepages ? "2M" : "None"));
	return m;
}

/* ---- drives ------------------------------------------------------------ */

const char *config_disk_id(const struct husk_config *cfg, unsigned i, char buf[CONFIG_ID_BUF])
{
	if (cfg->disks[i].id)
		return cfg->disks[i].id;
	snprintf(buf, CONFIG_ID_BUF, "disk%u", i);
	return buf;
}

const char *config_net_id(const struct husk_config *cfg, unsigned i, char buf[CONFIG_ID_BUF])
{
	if (cfg->nets[i].id)
		return cfg->nets[i].id;
	snprintf(buf, CONFIG_ID_BUF, "net%u", i);
	return buf;
}

static int drive_key(struct json_object *v, const char *key, struct husk_disk_config *d,
		     struct config_target *t, const char *path, char *err, size_t errlen)
{
	static const char *const cache[] = { "Unsafe", "Writeback", NULL };
	static const char *const engine[] = { "Sync", "Async", NULL };
	int i;

	if (strcmp(key, "drive_id") == 0)
		return get_string(v, t, path, key, &d->id, err, errlen);
	if (strcmp(key, "path_on_host") == 0)
		return get_string(v, t, path, key, &d->path, err, errlen);
	if (strcmp(key, "is_read_only") == 0)
		return get_bool(v, path, key, &d->readonly, err, errlen);
	if (strcmp(key, "is_root_device") == 0)
		return get_bool(v, path, key, &d->root, err, errlen);
	if (strcmp(key, "cache_type") == 0)	/* both: buffered I/O, flushes honoured */
		return get_enum(v, path, key, cache, "\"Unsafe\" or \"Writeback\"", &i, err, errlen);
	if (strcmp(key, "io_engine") == 0) {
		if (get_enum(v, path, key, engine, "\"Sync\" or \"Async\"", &i, err, errlen))
			return -EINVAL;
		d->engine = i == 0 ? HUSK_BLK_ENGINE_SYNC : HUSK_BLK_ENGINE_URING;
		return 0;
	}
	if (strcmp(key, "rate_limiter") == 0) {
		char where[160];

		snprintf(where, sizeof(where), "%s%s%s", path, *path ? "." : "", key);
		return config_parse_rate_limiter(v, where, &d->rate, err, errlen);
	}
	if (strcmp(key, "partuuid") == 0 || strcmp(key, "socket") == 0)
		return null_only(v, path, key, err, errlen);
	return key_error(err, errlen, path, key, "unknown key");
}

/* Firecracker's PUT /drives/{id}: replace the drive with that id, or add one. */
int config_apply_drive(struct json_object *o, struct config_target *t, const char *path,
		       const char *id, char *err, size_t errlen)
{
	struct husk_config *cfg = t->cfg;
	struct husk_disk_config d = { 0 };
	char idbuf[CONFIG_ID_BUF];
	unsigned i;

	if (want_object(o, path, err, errlen) || require(o, "drive_id", path, err, errlen) ||
	    require(o, "path_on_host", path, err, errlen))
		return -EINVAL;
	json_object_object_foreach(o, key, v) {
		if (!v && strcmp(key, "drive_id") != 0 && strcmp(key, "path_on_host") != 0) {
			if (null_only(v, path, key, err, errlen))
				return -EINVAL;
			continue;
		}
		if (drive_key(v, key, &d, t, path, err, errlen))
			return -EINVAL;
	}
	if (check_id(d.id, path, "drive_id", err, errlen))
		return -EINVAL;
	if (id && strcmp(id, d.id) != 0)
		return key_error(err, errlen, path, "drive_id", "'%s' does not match the id '%s' in the path",
				 d.id, id);
	/* a command-line disk without an id is diskN, as the VM will name it */
	for (i = 0; i < cfg->ndisks && strcmp(config_disk_id(cfg, i, idbuf), d.id) != 0; i++)
		;
	if (i == HUSK_MAX_DISKS)
		return key_error(err, errlen, path, "drive_id", "at most %d drives", HUSK_MAX_DISKS);
	for (unsigned k = 0; d.root && k < cfg->ndisks; k++)
		if (k != i && cfg->disks[k].root)
			return key_error(err, errlen, path, "is_root_device",
					 "drive '%s' is the root device already",
					 config_disk_id(cfg, k, idbuf));
	cfg->disks[i] = d;
	if (i == cfg->ndisks)
		cfg->ndisks++;
	/* Firecracker's root drive is /dev/vda whatever its order: it goes first */
	if (d.root && i > 0) {
		memmove(&cfg->disks[1], &cfg->disks[0], i * sizeof(cfg->disks[0]));
		cfg->disks[0] = d;
	}
	return 0;
}

/* ---- network-interfaces ------------------------------------------------ */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return mac[0] & 1 ? -EINVAL : 0;	/* a multicast address cannot be a NIC's */
}

static int net_key(struct json_object *v, const char *key, struct husk_net_config *n,
		   struct config_target *t, const char *path, char *err, size_t errlen)
{
	const char *mac;

	if (strcmp(key, "iface_id") == 0)
		return get_string(v, t, path, key, &n->id, err, errlen);
	if (strcmp(key, "host_dev_name") == 0)
		return get_string(v, t, path, key, &n->tap, err, errlen);
	if (strcmp(key, "guest_mac") == 0) {
		if (get_string(v, t, path, key, &mac, err, errlen))
			return -EINVAL;
		if (parse_mac(mac, n->mac))
			return key_error(err, errlen, path, key,
					 "expected a unicast MAC such as \"06:00:ac:10:00:02\"");
		n->mac_set = true;
		return 0;
	}
	if (strcmp(key, "rx_rate_limiter") == 0 || strcmp(key, "tx_rate_limiter") == 0) {
		char where[160];

		snprintf(where, sizeof(where), "%s%s%s", path, *path ? "." : "", key);
		return config_parse_rate_limiter(v, where, key[0] == 'r' ? &n->rx_rate : &n->tx_rate,
						 err, errlen);
	}
	return key_error(err, errlen, path, key, "unknown key");
}

int config_apply_net(struct json_object *o, struct config_target *t, const char *path,
		     const char *id, char *err, size_t errlen)
{
	struct husk_config *cfg = t->cfg;
	struct husk_net_config n = { .fd = -1 };
	char idbuf[CONFIG_ID_BUF];
	unsigned i;

	if (want_object(o, path, err, errlen) || require(o, "iface_id", path, err, errlen) ||
	    require(o, "host_dev_name", path, err, errlen))
		return -EINVAL;
	json_object_object_foreach(o, key, v) {
		if (!v && strcmp(key, "iface_id") != 0 && strcmp(key, "host_dev_name") != 0)
			continue;
		if (net_key(v, key, &n, t, path, err, errlen))
			return -EINVAL;
	}
	if (check_id(n.id, path, "iface_id", err, errlen))
		return -EINVAL;
	if (!*n.tap || strlen(n.tap) >= 16)
		return key_error(err, errlen, path, "host_dev_name", "expected 1 to 15 characters");
	if (id && strcmp(id, n.id) != 0)
		return key_error(err, errlen, path, "iface_id", "'%s' does not match the id '%s' in the path",
				 n.id, id);
	for (i = 0; i < cfg->nnets && strcmp(config_net_id(cfg, i, idbuf), n.id) != 0; i++)
		;
	if (i == HUSK_MAX_NETS)
		return key_error(err, errlen, path, "iface_id", "at most %d interfaces", HUSK_MAX_NETS);
	cfg->nets[i] = n;
	if (i == cfg->nnets)
		cfg->nnets++;
	return 0;
}

/* ---- logger, metrics --------------------------------------------------- */

/* Firecracker's names (any case); Trace is debug, Off keeps errors only. */
int config_parse_fc_level(const char *s, enum log_level *out)
{
	static const struct { const char *name; enum log_level level; } map[] = {
		{ "error", LOG_ERROR }, { "warning", LOG_WARN }, { "warn", LOG_WARN },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { "trace", LOG_DEBUG },
		{ "off", LOG_ERROR },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcasecmp(s, map[i].name) == 0) {
			*out = map[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

int config_apply_logger(struct json_object *o, struct config_target *t, const char *path,
			char *err, size_t errlen)
{
	struct orch_options next = *t->orch;
	enum log_level level = *t->log_level;
	const char *s;
	int ret;

	if (want_object(o, path, err, errlen))
		return -EINVAL;
	json_object_object_foreach(o, key, v) {
		if (!v)
			continue;
		if (strcmp(key, "log_path") == 0) {
			ret = get_string(v, t, path, key, &next.log_file, err, errlen);
		} else if (strcmp(key, "level") == 0) {
			ret = get_string(v, t, path, key, &s, err, errlen);
			if (!ret && config_parse_fc_level(s, &level))
				ret = key_error(err, errlen, path, key, "expected Error, Warning, "
						"Info, Debug, Trace or Off");
		} else if (strcmp(key, "show_level") == 0) {
			ret = get_bool(v, path, key, &next.show_level, err, errlen);
		} else if (strcmp(key, "show_log_origin") == 0) {
			ret = get_bool(v, path, key, &next.show_origin, err, errlen);
		} else if (strcmp(key, "module") == 0) {
			ret = null_only(v, path, key, err, errlen);
		} else {
			ret = key_error(err, errlen, path, key, "unknown key");
		}
		if (ret)
			return ret;
	}
	*t->orch = next;
	*t->log_level = level;
	return 0;
}

int config_apply_metrics(struct json_object *o, struct config_target *t, const char *path,
			 char *err, size_t errlen)
{
	if (want_object(o, path, err, errlen) || require(o, "metrics_path", path, err, errlen))
		return -EINVAL;
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "metrics_path") != 0)
			return key_error(err, errlen, path, key, "unknown key");
		if (get_string(v, t, path, key, &t->cfg->metrics_path, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* ---- husk's own keys --------------------------------------------------- */

static int husk_key(struct json_object *v, const char *key, struct config_target *t,
		    const char *path, char *err, size_t errlen)
{
	static const char *const transport[] = { "pci", "mmio", NULL };
	static const char *const format[] = { "text", "json", NULL };
	struct husk_config *cfg = t->cfg;
	uint64_t n;
	int i;

	if (strcmp(key, "serial") == 0)
		return get_string(v, t, path, key, &cfg->serial, err, errlen);
	if (strcmp(key, "rng") == 0)
		return get_bool(v, path, key, &cfg->rng, err, errlen);
	if (strcmp(key, "test_devices") == 0)
		return get_bool(v, path, key, &cfg->test_devices, err, errlen);
	if (strcmp(key, "events") == 0)
		return get_string(v, t, path, key, &t->orch->events_path, err, errlen);
	if (strcmp(key, "shutdown_timeout") == 0) {
		if (get_uint(v, path, key, 0, HUSK_MAX_SHUTDOWN_TIMEOUT, &n, err, errlen))
			return -EINVAL;
		cfg->shutdown_timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "virtio_transport") == 0) {
		if (get_enum(v, path, key, transport, "\"pci\" or \"mmio\"", &i, err, errlen))
			return -EINVAL;
		cfg->transport = i == 0 ? HUSK_VIRTIO_PCI : HUSK_VIRTIO_MMIO;
		return 0;
	}
	if (strcmp(key, "log_format") == 0) {
		if (get_enum(v, path, key, format, "\"text\" or \"json\"", &i, err, errlen))
			return -EINVAL;
		t->orch->log_format = i == 0 ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
		return 0;
	}
	return key_error(err, errlen, path, key, "unknown key");
}

int config_apply_husk(struct json_object *o, struct config_target *t, const char *path,
		      char *err, size_t errlen)
{
	if (want_object(o, path, err, errlen))
		return -EINVAL;
	json_object_object_foreach(o, key, v) {
		if (!v)
			return key_error(err, errlen, path, key, "expected a value, not null");
		if (husk_key(v, key, t, path, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* ---- the whole document ------------------------------------------------ */

static int apply_array(struct json_object *a, struct config_target *t, const char *name,
		       int (*one)(struct json_object *, struct config_target *, const char *,
				  const char *, char *, size_t),
		       char *err, size_t errlen)
{
	char path[64];

	if (want_type(a, json_type_array, "array", "", name, err, errlen))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		snprintf(path, sizeof(path), "%s[%zu]", name, i);
		if (one(json_object_array_get_idx(a, i), t, path, NULL, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* Sections husk has no device for yet: null, or an error. "entropy" is virtio-rng. */
static int apply_other(struct json_object *v, const char *key, struct config_target *t,
		       char *err, size_t errlen)
{
	static const char *const later[] = {
		"cpu-config", "vsock", "mmds-config", NULL,
	};

	if (strcmp(key, "balloon") == 0)
		return v ? config_parse_balloon(v, "balloon", &t->cfg->balloon, err, errlen) : 0;
	if (strcmp(key, "entropy") == 0) {
		if (!v)
			return 0;
		if (want_object(v, "entropy", err, errlen))
			return -EINVAL;
		json_object_object_foreach(v, k, val) {
			if (strcmp(k, "rate_limiter") != 0)
				return key_error(err, errlen, "entropy", k, "unknown key");
			if (null_only(val, "entropy", k, err, errlen))
				return -EINVAL;
		}
		t->cfg->rng = true;
		return 0;
	}
	for (int i = 0; later[i]; i++)
		if (strcmp(key, later[i]) == 0)
			return null_only(v, "", key, err, errlen);
	return key_error(err, errlen, "", key, "unknown key");
}

static int apply_section(struct json_object *v, const char *key, struct config_target *t,
			 char *err, size_t errlen)
{
	if (!v && strcmp(key, "boot-source") != 0)
		return 0;	/* null: absent */
	if (strcmp(key, "boot-source") == 0)
		return v ? config_apply_boot_source(v, t, key, err, errlen) :
			   key_error(err, errlen, "", key, "expected an object");
	if (strcmp(key, "machine-config") == 0)
		return config_apply_machine(v, t, key, false, err, errlen);
	if (strcmp(key, "drives") == 0)
		return apply_array(v, t, key, config_apply_drive, err, errlen);
	if (strcmp(key, "network-interfaces") == 0)
		return apply_array(v, t, key, config_apply_net, err, errlen);
	if (strcmp(key, "logger") == 0)
		return config_apply_logger(v, t, key, err, errlen);
	if (strcmp(key, "metrics") == 0)
		return config_apply_metrics(v, t, key, err, errlen);
	if (strcmp(key, "husk") == 0)
		return config_apply_husk(v, t, key, err, errlen);
	return apply_other(v, key, t, err, errlen);
}

/* Errors echo keys and values: keep the message one printable line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int config_apply_document(struct json_object *root, struct config_target *t, char *err,
			  size_t errlen)
{
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "expected a JSON object at the top level");
		return -EINVAL;
	}
	json_object_object_foreach(root, key, v) {
		if (apply_section(v, key, t, err, errlen)) {
			if (errlen)
				one_line(err);
			return -EINVAL;
		}
	}
	return 0;
}

static char *read_whole(const char *path, size_t *len, int *error)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	struct stat st;

	if (!f) {
		*error = errno;
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		*error = EISDIR;	/* fread() would say EIO */
		fclose(f);
		return NULL;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	n = buf ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
	*error = !buf ? ENOMEM : ferror(f) ? EIO : n > CONFIG_FILE_MAX ? EFBIG : 0;
	fclose(f);
	if (*error) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Whether text[0..len) is JSON whitespace only (no NUL needed after it). */
static bool only_blanks(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			return false;
	return true;
}

struct json_object *config_parse_json(const char *text, size_t len, char *why, size_t whylen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	enum json_tokener_error e;

	if (!tok) {
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue)
		snprintf(why, whylen, "invalid JSON: unexpected end of input");
	else if (e != json_tokener_success)
		snprintf(why, whylen, "invalid JSON at byte %zu: %s", json_tokener_get_parse_end(tok),
			 json_tokener_error_desc(e));
	else if (!only_blanks(text + json_tokener_get_parse_end(tok),
			      len - json_tokener_get_parse_end(tok)))
		snprintf(why, whylen, "invalid JSON: text after the end of the document");
	else
		e = json_tokener_success, why[0] = '\0';
	if (why[0]) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

int config_file_load(const char *path, struct config_target *t, char *err, size_t errlen)
{
	struct json_object *root;
	char why[256], msg[384];
	size_t len = 0;
	int error, ret;
	char *text = read_whole(path, &len, &error);

	if (!text) {
		snprintf(err, errlen, "--config %s: %s", path, strerror(error));
		return -error;
	}
	root = config_parse_json(text, len, why, sizeof(why));
	free(text);
	if (!root) {
		snprintf(err, errlen, "--config %s: %s", path, why);
		return -EINVAL;
	}
	ret = config_apply_document(root, t, msg, sizeof(msg));
	json_object_put(root);
	if (ret)
		snprintf(err, errlen, "--config %s: %s", path, msg);
	return ret;
}
