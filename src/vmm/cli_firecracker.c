// SPDX-License-Identifier: MIT
/*
 * Firecracker's launch flags, so that its clients (firecracker-go-sdk,
 * firectl, firecracker-containerd, Kata) can start husk as they start
 * Firecracker. Each does what Firecracker's does where husk can, and is
 * refused with one line where it cannot (docs/firecracker.md).
 */
#include "vmm/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_BODY_MIN	1024u
#define API_BODY_MAX	(16u << 20)

static int parse_payload(const char *arg, size_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < API_BODY_MIN || v > API_BODY_MAX) {
		snprintf(err, errlen, "--http-api-max-payload-size %s: expected %u to %u bytes", arg,
			 API_BODY_MIN, API_BODY_MAX);
		return -EINVAL;
	}
	*out = (size_t)v;
	return 0;
}

int cli_firecracker_flag(enum cli_fc_flag flag, const char *arg, struct cli_options *o,
			 char *err, size_t errlen)
{
	switch (flag) {
	case CLI_FC_NO_API:
		o->no_api = true;
		return 0;
	case CLI_FC_LEVEL:
		if (config_parse_fc_level(arg, &o->log_level) == 0)
			return 0;
		snprintf(err, errlen, "--level %s: expected Error, Warning, Info, Debug, Trace or Off",
			 arg);
		return -EINVAL;
	case CLI_FC_SHOW_LEVEL:
		o->orch.show_level = true;
		return 0;
	case CLI_FC_SHOW_ORIGIN:
		o->orch.show_origin = true;	/* accepted, as logger.show_log_origin */
		return 0;
	case CLI_FC_BOOT_TIMER:
		return 0;	/* husk always logs the guest's boot marker (docs/firecracker.md) */
	case CLI_FC_METADATA:
		snprintf(err, errlen, "--metadata %s: MMDS (the metadata service) is not supported yet",
			 arg);
		return -EINVAL;
	case CLI_FC_MAX_PAYLOAD:
		return parse_payload(arg, &o->orch.api_max_body, err, errlen);
	case CLI_FC_SECCOMP_FILTER:
		snprintf(err, errlen, "--seccomp-filter %s: a filter file is not supported; husk installs "
			 "its own filter per thread role (--seccomp kill|log|off, --no-seccomp)", arg);
		return -EINVAL;
	}
	return -EINVAL;
}

int cli_firecracker_check(struct cli_options *o, char *err, size_t errlen)
{
	if (!o->no_api)
		return 0;
	if (!o->config_path) {
		snprintf(err, errlen, "--no-api: the VM must come from --config-file (or --config)");
		return -EINVAL;
	}
	o->orch.api_sock = NULL;	/* as Firecracker: --api-sock is then ignored */
	return 0;
}
