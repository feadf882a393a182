/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SNAPCONFIG_H
#define HUSK_SNAPCONFIG_H

/*
 * Two sections every snapshot starts with:
 *
 * "config" (SNAP_CONFIG_VERSION): enough to build the same VM again with
 * the VM builder: vCPUs, memory, huge pages, transport, rng, test devices,
 * watchdog action, shutdown timeout, the serial console spec, every disk
 * and NIC with its options. Strings: u32 length then bytes (no NUL). The
 * kernel, initrd and command line are recorded for GET /vm/config only:
 * a restore does not load them (guest RAM comes from the memory file).
 * Not recorded (process-wide, given to the restoring husk): --metrics,
 * --events, --api-sock, logging.
 *
 * "host" (SNAP_HOST_VERSION): the CPU the snapshot was taken on: CPUID
 * vendor, family and model, and a CRC-32 of KVM_GET_SUPPORTED_CPUID. A
 * restore on another CPU model or KVM is refused (its guest would see
 * CPUID change under it).
 */
#include <stddef.h>
#include <stdint.h>

#include "husk/husk.h"
#include "core/statebuf.h"
#include "vmm/config_file.h"

#define SNAP_CONFIG_VERSION	4	/* 2: track_dirty after hugepages; 3: rate limits; 4: balloon */
#define SNAP_HOST_VERSION	1
#define SNAP_STR_MAX		4096

struct kvm_cpuid2;

/* 0, or -EINVAL with @err (e.g. a NIC handed over as fd=N cannot be restored). */
int snap_config_save(const struct husk_config *cfg, struct state_writer *w, char *err,
		     size_t errlen);
/*
 * Decode into @cfg (husk_config_init() first, then the saved values);
 * strings are copied into @arena. 0, or -EINVAL with r->why.
 */
int snap_config_load(struct state_reader *r, struct husk_config *cfg, struct str_arena *arena);

struct snap_host {
	char vendor[13];
	uint32_t family;
	uint32_t model;
	uint32_t cpuid_crc;	/* of KVM_GET_SUPPORTED_CPUID's entries */
};

/* This host, with @supported from struct kvm (NULL: opens /dev/kvm itself). */
int snap_host_get(const struct kvm_cpuid2 *supported, struct snap_host *h, char *err,
		  size_t errlen);
void snap_host_save(const struct snap_host *h, struct state_writer *w);
int snap_host_load(struct state_reader *r, struct snap_host *h);
/* 0 when @saved matches @here; else -EINVAL with one line in @err. */
int snap_host_check(const struct snap_host *saved, const struct snap_host *here, char *err,
		    size_t errlen);

#endif
