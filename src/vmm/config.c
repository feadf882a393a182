// SPDX-License-Identifier: MIT
#include "husk/husk.h"

#include <string.h>

void husk_config_init(struct husk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = "";
	cfg->cpus = HUSK_DEFAULT_CPUS;
	cfg->memory = HUSK_DEFAULT_MEMORY;
	cfg->serial = "stdio";
	cfg->shutdown_timeout = HUSK_DEFAULT_SHUTDOWN_TIMEOUT;
	cfg->rng = true;
}
