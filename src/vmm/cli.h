/* SPDX-License-Identifier: MIT */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "husk/husk.h"
#include "core/log.h"

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION };

struct cli_options {
	struct husk_config cfg;
	enum log_level log_level;
	enum cli_action action;
	char *owned[HUSK_MAX_DISKS + HUSK_MAX_NETS];	/* copies the config points into */
	unsigned nowned;
};

/*
 * Parse argv into @opts (husk_config defaults first). Returns 0, or
 * -EINVAL with one line in @err naming the flag. Pointers in @opts point
 * into argv.
 */
int cli_parse(int argc, char **argv, struct cli_options *opts, char *err, size_t errlen);
void cli_print_help(FILE *out);
/* Free what cli_parse() copied (the config's device strings point into it). */
void cli_free(struct cli_options *opts);

#endif
