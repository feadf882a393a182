/* SPDX-License-Identifier: MIT */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "husk/husk.h"
#include "core/log.h"
#include "sandbox/seccomp.h"
#include "vmm/config_file.h"

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION };

struct cli_options {
	struct husk_config cfg;
	enum log_level log_level;
	enum cli_action action;
	char *owned[2 * (HUSK_MAX_DISKS + HUSK_MAX_NETS)];	/* copies the config points into */
	unsigned nowned;
	const char *config_path;	/* --config: applied first, flags override it */
	struct orch_options orch;	/* --api-sock, --log-file, --log-format, --events */
	struct str_arena arena;		/* the config file's strings, a snapshot's */
	const char *restore_path;	/* --restore: a snapshot's state file */
	const char *restore_mem;	/* --restore-mem: its memory file */
	const char *restore_uffd;	/* --restore-uffd: a page-fault handler's socket */
	const char *incoming;		/* --incoming URL: a live migration's destination */
	bool standby;			/* --standby: a replica, failover at the end */
	unsigned failover_ms;		/* --failover-timeout MS (0: the default) */
	bool resume;			/* --resume: run the restored VM at once */
	bool serial_set;		/* --serial given (a restore then uses it) */
	bool clock_realtime;		/* --clock-realtime */
	bool reboot_restart;		/* --on-reboot restart */
	enum sandbox_mode seccomp;	/* --seccomp, --no-seccomp */
	bool no_api;			/* --no-api (Firecracker's): no API socket */
	/* --restore-net ID=TAP, --restore-disk ID=PATH[,ro=on|off] */
	struct cli_override {
		const char *id;
		const char *value;	/* the tap, or the image (NULL: the saved one) */
		int readonly;		/* -1: as saved */
	} restore_nets[HUSK_MAX_NETS], restore_disks[HUSK_MAX_DISKS];
	unsigned nrestore_nets, nrestore_disks;
};

/*
 * Firecracker's launch flags that husk has no flag of its own for
 * (cli_firecracker.c): --no-api, --level, --show-level, --show-log-origin,
 * --boot-timer, --metadata, --http-api-max-payload-size, --seccomp-filter.
 * (--config-file and --log-path are aliases of --config and --log-file.)
 */
enum cli_fc_flag {
	CLI_FC_NO_API, CLI_FC_LEVEL, CLI_FC_SHOW_LEVEL, CLI_FC_SHOW_ORIGIN, CLI_FC_BOOT_TIMER,
	CLI_FC_METADATA, CLI_FC_MAX_PAYLOAD, CLI_FC_SECCOMP_FILTER,
};
int cli_firecracker_flag(enum cli_fc_flag flag, const char *arg, struct cli_options *o,
			 char *err, size_t errlen);
/* After all flags: what they say together (--no-api needs a config file). */
int cli_firecracker_check(struct cli_options *o, char *err, size_t errlen);

/*
 * Parse argv into @opts (husk_config defaults first). Returns 0, or
 * -EINVAL with one line in @err naming the flag (and nothing left allocated:
 * cli_options_free() is then a no-op). Pointers in @opts point into argv.
 */
int cli_parse(int argc, char **argv, struct cli_options *opts, char *err, size_t errlen);
void cli_print_help(FILE *out);
/* Free the --disk/--net copies cli_parse() made (cli_options_free() calls it). */
void cli_free(struct cli_options *opts);
/* Free everything cli_parse() allocated: device option copies, the config file's strings. */
void cli_options_free(struct cli_options *opts);

#endif
