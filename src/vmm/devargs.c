// SPDX-License-Identifier: MIT
/* "key=value,..." device options: see vmm/devargs.h. */
#include "vmm/devargs.h"
#include "net/mac.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISK_KEYS "path, ro (or readonly), direct, id, serial, queues, engine, poll_us"
#define NET_KEYS "tap, fd, id, mac, queues, mtu, engine"
#define BALLOON_KEYS "amount_mib, deflate_on_oom, stats_polling_interval_s, free_page_reporting"
#define NET_MTU_MIN 68
#define NET_MTU_MAX 65535

static int bad(char *err, size_t errlen, const char *flag, const char *orig, const char *what)
{
	snprintf(err, errlen, "%s %s: %s", flag, orig, what);
	return -EINVAL;
}

static int parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int parse_engine(const char *v, enum husk_blk_engine *out)
{
	if (!strcmp(v, "auto"))
		*out = HUSK_BLK_ENGINE_AUTO;
	else if (!strcmp(v, "uring") || !strcmp(v, "io_uring"))
		*out = HUSK_BLK_ENGINE_URING;
	else if (!strcmp(v, "sync"))
		*out = HUSK_BLK_ENGINE_SYNC;
	else
		return -EINVAL;
	return 0;
}

/* Only decimal digits: strtoul() alone also takes " 2", "+2" and "-2". */
static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int disk_key(struct husk_disk_config *d, const char *k, char *v, char *why, size_t n)
{
	char *end;
	unsigned long q;

	if (!strcmp(k, "path")) {
		d->path = v;
	} else if (!strcmp(k, "ro") || !strcmp(k, "readonly") || !strcmp(k, "direct")) {
		if (parse_onoff(v, k[0] == 'r' ? &d->readonly : &d->direct))
			return snprintf(why, n, "%s=%s: expected on or off", k, v), -EINVAL;
	} else if (!strcmp(k, "id")) {
		if (!valid_id(v))
			return snprintf(why, n, "id=%s: expected 1 to 32 letters, digits, - or _", v),
			       -EINVAL;
		d->id = v;
	} else if (!strcmp(k, "serial")) {
		if (strlen(v) > 20)
			return snprintf(why, n, "serial=%s: at most 20 bytes", v), -EINVAL;
		d->serial = v;
	} else if (!strcmp(k, "queues")) {
		errno = 0;
		q = strtoul(v, &end, 10);
		if (!all_digits(v) || *end || errno || q < 1 || q > HUSK_MAX_QUEUES)
			return snprintf(why, n, "queues=%s: expected 1 to %u", v, HUSK_MAX_QUEUES),
			       -EINVAL;
		d->queues = (unsigned)q;
	} else if (!strcmp(k, "engine")) {
		if (parse_engine(v, &d->engine))
			return snprintf(why, n, "engine=%s: expected auto, uring or sync", v), -EINVAL;
	} else if (!strcmp(k, "poll_us")) {
		errno = 0;
		q = strtoul(v, &end, 10);
		if (!all_digits(v) || *end || errno || q > HUSK_DISK_POLL_US_MAX)
			return snprintf(why, n, "poll_us=%s: expected 0 to %u", v,
					HUSK_DISK_POLL_US_MAX), -EINVAL;
		d->poll_us = (unsigned)q;
		d->poll_set = true;
	} else {
		return snprintf(why, n, "unknown key '%s' (expected %s)", k, DISK_KEYS), -EINVAL;
	}
	return 0;
}

int devargs_parse_disk(const char *flag, char *arg, struct husk_disk_config *d,
		       char *err, size_t errlen)
{
	char *orig = strdup(arg), *p = arg, why[160];
	int ret = 0;

	if (!orig)
		return bad(err, errlen, flag, arg, strerror(ENOMEM));
	memset(d, 0, sizeof(*d));
	while (p && *p && !ret) {
		char *next = strchr(p, ','), *eq;

		if (next)
			*next++ = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p) {
			snprintf(why, sizeof(why), "'%s': expected key=value (keys: %s)", p, DISK_KEYS);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		ret = disk_key(d, p, eq + 1, why, sizeof(why));
		p = next;
	}
	if (!ret && (!d->path || !*d->path)) {
		snprintf(why, sizeof(why), "path=FILE is required");
		ret = -EINVAL;
	}
	if (ret)
		bad(err, errlen, flag, orig, why);
	free(orig);
	return ret;
}

/* A decimal number in [min, max]; 0 or -EINVAL. */
static int parse_range(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	if (!all_digits(v) || *end || errno || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static int net_key(struct husk_net_config *nc, const char *k, char *v, char *why, size_t n)
{
	unsigned long x;
	int ret;

	if (!strcmp(k, "tap")) {
		if (!*v || strlen(v) >= 16)
			return snprintf(why, n, "tap=%s: expected a name of 1 to 15 bytes", v),
			       -EINVAL;
		nc->tap = v;
	} else if (!strcmp(k, "fd")) {
		if (parse_range(v, 0, 1u << 30, &x))
			return snprintf(why, n, "fd=%s: expected an open file descriptor number", v),
			       -EINVAL;
		nc->fd = (int)x;
	} else if (!strcmp(k, "id")) {
		if (!valid_id(v))
			return snprintf(why, n, "id=%s: expected 1 to 32 letters, digits, - or _", v),
			       -EINVAL;
		nc->id = v;
	} else if (!strcmp(k, "mac")) {
		ret = net_parse_mac(v, nc->mac);
		if (ret == -EADDRNOTAVAIL)
			return snprintf(why, n, "mac=%s: a multicast or all-zero address", v),
			       -EINVAL;
		if (ret)
			return snprintf(why, n, "mac=%s: expected xx:xx:xx:xx:xx:xx", v), -EINVAL;
		nc->mac_set = true;
	} else if (!strcmp(k, "queues")) {
		if (parse_range(v, 1, HUSK_MAX_QUEUES, &x))
			return snprintf(why, n, "queues=%s: expected 1 to %u", v, HUSK_MAX_QUEUES),
			       -EINVAL;
		nc->queues = (unsigned)x;
	} else if (!strcmp(k, "mtu")) {
		if (parse_range(v, NET_MTU_MIN, NET_MTU_MAX, &x))
			return snprintf(why, n, "mtu=%s: expected %u to %u", v, NET_MTU_MIN,
					NET_MTU_MAX), -EINVAL;
		nc->mtu = (unsigned)x;
	} else if (!strcmp(k, "engine")) {
		enum husk_blk_engine e;

		if (parse_engine(v, &e))
			return snprintf(why, n, "engine=%s: expected auto, uring or sync", v), -EINVAL;
		nc->engine = e == HUSK_BLK_ENGINE_URING ? HUSK_NET_ENGINE_URING :
			     e == HUSK_BLK_ENGINE_SYNC ? HUSK_NET_ENGINE_SYNC : HUSK_NET_ENGINE_AUTO;
	} else {
		return snprintf(why, n, "unknown key '%s' (expected %s)", k, NET_KEYS), -EINVAL;
	}
	return 0;
}

static int net_check(const struct husk_net_config *nc, char *why, size_t n)
{
	if (!nc->tap && nc->fd < 0)
		return snprintf(why, n, "tap=NAME or fd=N is required"), -EINVAL;
	if (nc->fd >= 0 && nc->queues > 1)
		return snprintf(why, n, "fd=N serves one queue pair, not queues=%u", nc->queues),
		       -EINVAL;
	return 0;
}

int devargs_parse_net(const char *flag, char *arg, struct husk_net_config *nc,
		      char *err, size_t errlen)
{
	char *orig = strdup(arg), *p = arg, why[160];
	int ret = 0;

	if (!orig)
		return bad(err, errlen, flag, arg, strerror(ENOMEM));
	memset(nc, 0, sizeof(*nc));
	nc->fd = -1;
	while (p && *p && !ret) {
		char *next = strchr(p, ','), *eq;

		if (next)
			*next++ = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p) {
			snprintf(why, sizeof(why), "'%s': expected key=value (keys: %s)", p, NET_KEYS);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		ret = net_key(nc, p, eq + 1, why, sizeof(why));
		p = next;
	}
	if (!ret)
		ret = net_check(nc, why, sizeof(why));
	if (ret)
		bad(err, errlen, flag, orig, why);
	free(orig);
	return ret;
}

static int balloon_key(struct husk_balloon_config *bc, const char *k, const char *v, char *why,
		       size_t n)
{
	unsigned long x;

	if (!strcmp(k, "amount_mib")) {
		if (parse_range(v, 0, UINT32_MAX >> 8, &x))
			return snprintf(why, n, "amount_mib=%s: expected a size in MiB", v), -EINVAL;
		bc->amount_mib = (uint32_t)x;
	} else if (!strcmp(k, "stats_polling_interval_s")) {
		if (parse_range(v, 0, HUSK_BALLOON_STATS_MAX_INTERVAL, &x))
			return snprintf(why, n, "stats_polling_interval_s=%s: expected 0 to %u", v,
					HUSK_BALLOON_STATS_MAX_INTERVAL), -EINVAL;
		bc->stats_interval_s = (uint32_t)x;
	} else if (!strcmp(k, "deflate_on_oom") || !strcmp(k, "free_page_reporting")) {
		bool *b = k[0] == 'd' ? &bc->deflate_on_oom : &bc->free_page_reporting;

		if (parse_onoff(v, b))
			return snprintf(why, n, "%s=%s: expected on or off", k, v), -EINVAL;
	} else {
		return snprintf(why, n, "unknown key '%s' (keys: %s)", k, BALLOON_KEYS), -EINVAL;
	}
	return 0;
}

int devargs_parse_balloon(const char *flag, char *arg, struct husk_balloon_config *bc,
			  char *err, size_t errlen)
{
	char *orig = strdup(arg), *p = arg, why[160];
	bool amount = false;
	int ret = 0;

	if (!orig)
		return bad(err, errlen, flag, arg, strerror(ENOMEM));
	memset(bc, 0, sizeof(*bc));
	while (p && *p && !ret) {
		char *next = strchr(p, ','), *eq;

		if (next)
			*next++ = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p) {
			snprintf(why, sizeof(why), "'%s': expected key=value (keys: %s)", p,
				 BALLOON_KEYS);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		amount |= !strcmp(p, "amount_mib");
		ret = balloon_key(bc, p, eq + 1, why, sizeof(why));
		p = next;
	}
	if (!ret && !amount) {
		snprintf(why, sizeof(why), "amount_mib= is required");
		ret = -EINVAL;
	}
	if (ret)
		bad(err, errlen, flag, orig, why);
	else
		bc->enabled = true;
	free(orig);
	return ret;
}
