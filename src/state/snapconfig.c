// SPDX-License-Identifier: MIT
/* The "config" and "host" sections of a snapshot (snapconfig.h). */
#include "state/snapconfig.h"
#include "vmm/kvm.h"
#include "core/ratelimit.h"

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define STR_NULL 0xffffffffu

static void put_str(struct state_writer *w, const char *s)
{
	if (!s) {
		sw_u32(w, STR_NULL);
		return;
	}
	sw_u32(w, (uint32_t)strlen(s));
	sw_bytes(w, s, strlen(s));
}

/* A string (or NULL) copied into @arena; fails @r on a bad length or NUL. */
static const char *get_str(struct state_reader *r, struct str_arena *arena, const char *what)
{
	char buf[SNAP_STR_MAX + 1];
	size_t at = r->off;
	uint32_t n = sr_u32(r);
	const char *s;

	if (r->err || n == STR_NULL)
		return NULL;
	if (n > SNAP_STR_MAX) {
		sr_fail(r, "%s: a %u-byte string at byte %zu (at most %u)", what, n, at,
			SNAP_STR_MAX);
		return NULL;
	}
	sr_bytes(r, buf, n);
	buf[n] = '\0';
	if (r->err)
		return NULL;
	if (strlen(buf) != n) {
		sr_fail(r, "%s: a NUL inside the string at byte %zu", what, at);
		return NULL;
	}
	s = arena_strdup(arena, buf);
	if (!s)
		sr_fail(r, "%s: %s", what, strerror(ENOMEM));
	return s;
}

static void put_rate(struct state_writer *w, const struct husk_rate_limit *rl)
{
	const struct husk_token_bucket *b[2] = { &rl->bandwidth, &rl->ops };

	for (int i = 0; i < 2; i++) {
		sw_u64(w, b[i]->size);
		sw_u64(w, b[i]->one_time_burst);
		sw_u64(w, b[i]->refill_ms);
	}
}

int snap_config_save(const struct husk_config *cfg, struct state_writer *w, char *err,
		     size_t errlen)
{
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if (!cfg->nets[i].tap) {
			snprintf(err, errlen, "--net fd=%d: a handed-over tap fd cannot be "
				 "restored in another process; use tap=NAME", cfg->nets[i].fd);
			return -EINVAL;
		}
	}
	sw_u32(w, cfg->cpus);
	sw_u64(w, cfg->memory);
	sw_bool(w, cfg->hugepages);
	sw_bool(w, cfg->track_dirty);
	sw_u8(w, (uint8_t)cfg->transport);
	sw_bool(w, cfg->rng);
	sw_bool(w, cfg->test_devices);
	sw_u8(w, (uint8_t)cfg->watchdog_action);
	sw_u32(w, cfg->shutdown_timeout);
	put_str(w, cfg->serial);
	put_str(w, cfg->kernel);
	put_str(w, cfg->initrd);
	put_str(w, cfg->cmdline);
	sw_u8(w, (uint8_t)cfg->ndisks);
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		const struct husk_disk_config *d = &cfg->disks[i];

		put_str(w, d->path);
		put_str(w, d->id);
		put_str(w, d->serial);
		sw_bool(w, d->readonly);
		sw_bool(w, d->direct);
		sw_u32(w, d->queues);
		sw_u8(w, (uint8_t)d->engine);
		sw_u32(w, d->poll_us);
		sw_bool(w, d->poll_set);
	}
	sw_u8(w, (uint8_t)cfg->nnets);
	for (unsigned i = 0; i < cfg->nnets; i++) {
		const struct husk_net_config *n = &cfg->nets[i];

		put_str(w, n->tap);
		put_str(w, n->id);
		sw_bytes(w, n->mac, sizeof(n->mac));
		sw_bool(w, n->mac_set);
		sw_u32(w, n->queues);
		sw_u32(w, n->mtu);
		sw_u8(w, (uint8_t)n->engine);
	}
	/* the rate limits (version 3) */
	for (unsigned i = 0; i < cfg->ndisks; i++)
		put_rate(w, &cfg->disks[i].rate);
	for (unsigned i = 0; i < cfg->nnets; i++) {
		put_rate(w, &cfg->nets[i].rx_rate);
		put_rate(w, &cfg->nets[i].tx_rate);
	}
	/* the balloon (version 4) */
	sw_bool(w, cfg->balloon.enabled);
	sw_u32(w, cfg->balloon.amount_mib);
	sw_bool(w, cfg->balloon.deflate_on_oom);
	sw_u32(w, cfg->balloon.stats_interval_s);
	sw_bool(w, cfg->balloon.free_page_reporting);
	if (w->err)
		snprintf(err, errlen, "config: %s", strerror(-w->err));
	return w->err;
}

static int get_rate(struct state_reader *r, struct husk_rate_limit *rl)
{
	struct husk_token_bucket *b[2] = { &rl->bandwidth, &rl->ops };

	for (int i = 0; i < 2; i++) {
		b[i]->size = sr_u64(r);
		b[i]->one_time_burst = sr_u64(r);
		b[i]->refill_ms = sr_u64(r);
	}
	if (!r->err && !rl_valid(rl))
		return sr_fail(r, "a rate limit out of range");
	return r->err;
}

static int load_disk(struct state_reader *r, struct husk_disk_config *d, struct str_arena *a)
{
	d->path = get_str(r, a, "disk path");
	d->id = get_str(r, a, "disk id");
	d->serial = get_str(r, a, "disk serial");
	d->readonly = sr_bool(r);
	d->direct = sr_bool(r);
	d->queues = sr_u32(r);
	d->engine = (enum husk_blk_engine)sr_u8(r);
	d->poll_us = sr_u32(r);
	d->poll_set = sr_bool(r);
	if (r->err)
		return r->err;
	if (!d->path)
		return sr_fail(r, "a disk without a path");
	if (d->queues > HUSK_MAX_QUEUES || (unsigned)d->engine > HUSK_BLK_ENGINE_SYNC ||
	    d->poll_us > HUSK_DISK_POLL_US_MAX)
		return sr_fail(r, "disk %s: queues %u, engine %u, poll_us %u out of range",
			       d->path, d->queues, (unsigned)d->engine, d->poll_us);
	return 0;
}

static int load_net(struct state_reader *r, struct husk_net_config *n, struct str_arena *a)
{
	n->tap = get_str(r, a, "net tap");
	n->id = get_str(r, a, "net id");
	n->fd = -1;
	sr_bytes(r, n->mac, sizeof(n->mac));
	n->mac_set = sr_bool(r);
	n->queues = sr_u32(r);
	n->mtu = sr_u32(r);
	n->engine = (enum husk_net_engine)sr_u8(r);
	if (r->err)
		return r->err;
	if (!n->tap)
		return sr_fail(r, "a NIC without a tap name");
	if (n->queues > HUSK_MAX_QUEUES || (unsigned)n->engine > HUSK_NET_ENGINE_SYNC ||
	    n->mtu > 65535)
		return sr_fail(r, "net %s: queues %u, engine %u, mtu %u out of range", n->tap,
			       n->queues, (unsigned)n->engine, n->mtu);
	return 0;
}

int snap_config_load(struct state_reader *r, struct husk_config *cfg, struct str_arena *arena)
{
	struct husk_config c;
	uint8_t transport, action;

	husk_config_init(&c);
	c.cpus = sr_u32(r);
	c.memory = sr_u64(r);
	c.hugepages = sr_bool(r);
	c.track_dirty = sr_bool(r);
	transport = sr_u8(r);
	c.rng = sr_bool(r);
	c.test_devices = sr_bool(r);
	action = sr_u8(r);
	c.shutdown_timeout = sr_u32(r);
	c.serial = get_str(r, arena, "serial");
	c.kernel = get_str(r, arena, "kernel");
	c.initrd = get_str(r, arena, "initrd");
	c.cmdline = get_str(r, arena, "cmdline");
	c.ndisks = sr_u8(r);
	if (r->err)
		return r->err;
	if (c.cpus < 1 || c.cpus > HUSK_MAX_CPUS)
		return sr_fail(r, "%u vCPUs (1..%u)", c.cpus, HUSK_MAX_CPUS);
	if (transport > HUSK_VIRTIO_MMIO || action > HUSK_WATCHDOG_NONE ||
	    c.shutdown_timeout > HUSK_MAX_SHUTDOWN_TIMEOUT)
		return sr_fail(r, "transport %u, watchdog action %u, shutdown timeout %u out of range",
			       transport, action, c.shutdown_timeout);
	c.transport = (enum husk_virtio_transport)transport;
	c.watchdog_action = (enum husk_watchdog_action)action;
	if (!c.serial || !c.cmdline)
		return sr_fail(r, "no serial console spec or command line");
	if (c.ndisks > HUSK_MAX_DISKS)
		return sr_fail(r, "%u disks (at most %u)", c.ndisks, HUSK_MAX_DISKS);
	for (unsigned i = 0; i < c.ndisks; i++)
		if (load_disk(r, &c.disks[i], arena))
			return r->err;
	c.nnets = sr_u8(r);
	if (!r->err && c.nnets > HUSK_MAX_NETS)
		return sr_fail(r, "%u NICs (at most %u)", c.nnets, HUSK_MAX_NETS);
	for (unsigned i = 0; i < c.nnets && !r->err; i++)
		if (load_net(r, &c.nets[i], arena))
			return r->err;
	for (unsigned i = 0; i < c.ndisks && !r->err; i++)
		if (get_rate(r, &c.disks[i].rate))
			return r->err;
	for (unsigned i = 0; i < c.nnets && !r->err; i++)
		if (get_rate(r, &c.nets[i].rx_rate) || get_rate(r, &c.nets[i].tx_rate))
			return r->err;
	c.balloon.enabled = sr_bool(r);
	c.balloon.amount_mib = sr_u32(r);
	c.balloon.deflate_on_oom = sr_bool(r);
	c.balloon.stats_interval_s = sr_u32(r);
	c.balloon.free_page_reporting = sr_bool(r);
	if (!r->err && c.balloon.enabled &&
	    ((uint64_t)c.balloon.amount_mib << 20 > c.memory ||
	     c.balloon.stats_interval_s > HUSK_BALLOON_STATS_MAX_INTERVAL))
		return sr_fail(r, "a balloon of %u MiB, statistics every %u s, in %llu MiB of RAM",
			       c.balloon.amount_mib, c.balloon.stats_interval_s,
			       (unsigned long long)(c.memory >> 20));
	if (!c.balloon.enabled)
		memset(&c.balloon, 0, sizeof(c.balloon));
	if (sr_done(r))
		return r->err;
	*cfg = c;
	return 0;
}

static uint32_t cpuid_crc(const struct kvm_cpuid2 *c)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	/* field by field: the entries' padding is not part of the identity */
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint32_t v[7] = { e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx };
		uint8_t b[28];

		/*
		 * Not the identity either: the APIC ID of the host CPU that ran
		 * the ioctl, which some KVMs (kvm_pvm here) leave in the table
		 * (leaf 1 EBX[31:24], leaf 0xb / 0x1f EDX, leaf 0x8000001e EAX).
		 */
		if (e->function == 1)
			v[4] &= 0x00ffffffu;
		else if (e->function == 0xb || e->function == 0x1f)
			v[6] = 0;
		else if (e->function == 0x8000001e)
			v[3] = 0;

		for (unsigned j = 0; j < 28; j++)
			b[j] = (uint8_t)(v[j / 4] >> (8 * (j % 4)));
		crc = crc32(crc, b, sizeof(b));
	}
	return (uint32_t)crc;
}

int snap_host_get(const struct kvm_cpuid2 *supported, struct snap_host *h, char *err,
		  size_t errlen)
{
	unsigned a, b, c, d, fam, model;
	struct kvm k = { .sys_fd = -1, .vm_fd = -1 };
	int ret;

	memset(h, 0, sizeof(*h));
	__cpuid(0, a, b, c, d);
	memcpy(h->vendor, &b, 4);
	memcpy(h->vendor + 4, &d, 4);
	memcpy(h->vendor + 8, &c, 4);
	__cpuid(1, a, b, c, d);
	fam = (a >> 8) & 0xf;
	model = (a >> 4) & 0xf;
	if (fam == 0xf)
		fam += (a >> 20) & 0xff;
	if (fam >= 6)
		model |= ((a >> 16) & 0xf) << 4;
	h->family = fam;
	h->model = model;
	if (!supported) {
		ret = kvm_open(&k, err, errlen);
		if (ret) {
			kvm_close(&k);
			return ret;
		}
		supported = k.supported;
	}
	h->cpuid_crc = supported ? cpuid_crc(supported) : 0;
	kvm_close(&k);
	return 0;
}

void snap_host_save(const struct snap_host *h, struct state_writer *w)
{
	sw_bytes(w, h->vendor, 12);
	sw_u32(w, h->family);
	sw_u32(w, h->model);
	sw_u32(w, h->cpuid_crc);
}

int snap_host_load(struct state_reader *r, struct snap_host *h)
{
	memset(h, 0, sizeof(*h));
	sr_bytes(r, h->vendor, 12);
	h->family = sr_u32(r);
	h->model = sr_u32(r);
	h->cpuid_crc = sr_u32(r);
	if (!r->err && strnlen(h->vendor, 12) != 12)
		return sr_fail(r, "the CPU vendor is not 12 characters");
	return sr_done(r);
}

int snap_host_check(const struct snap_host *saved, const struct snap_host *here, char *err,
		    size_t errlen)
{
	if (strcmp(saved->vendor, here->vendor) || saved->family != here->family ||
	    saved->model != here->model) {
		snprintf(err, errlen, "taken on a %s family %u model %u CPU, this host has %s "
			 "family %u model %u", saved->vendor, saved->family, saved->model,
			 here->vendor, here->family, here->model);
		return -EINVAL;
	}
	if (saved->cpuid_crc != here->cpuid_crc) {
		snprintf(err, errlen, "taken where KVM offered other CPUID features (CRC 0x%08x, "
			 "here 0x%08x): another host kernel or CPU", saved->cpuid_crc,
			 here->cpuid_crc);
		return -EINVAL;
	}
	return 0;
}
