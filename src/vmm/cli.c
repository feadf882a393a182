// SPDX-License-Identifier: MIT
#include "vmm/cli.h"
#include "memory/guest_mem.h"
#include "memory/layout.h"
#include "vmm/devargs.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_KERNEL = 'k',
	OPT_INITRD = 'i',
	OPT_CMDLINE = 'c',
	OPT_CPUS = 'p',
	OPT_MEMORY = 'm',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_SERIAL = 0x100,
	OPT_LOG_LEVEL,
	OPT_HUGEPAGES,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_RNG,
	OPT_NO_RNG,
	OPT_VIRTIO_TRANSPORT,
	OPT_DISK,
	OPT_WATCHDOG_ACTION,
	OPT_CONFIG,
	OPT_API_SOCK,
	OPT_LOG_FILE,
	OPT_LOG_FORMAT,
	OPT_METRICS,
	OPT_EVENTS,
	OPT_NET,
	OPT_BALLOON,
	OPT_TEST_DEVICES,
	OPT_RESTORE,
	OPT_RESTORE_MEM,
	OPT_RESUME,
	OPT_RESTORE_NET,
	OPT_RESTORE_DISK,
	OPT_CLOCK_REALTIME,
	OPT_ON_REBOOT,
	OPT_RESTORE_UFFD,
	OPT_TRACK_DIRTY,
	OPT_INCOMING,
	OPT_STANDBY,
	OPT_FAILOVER_TIMEOUT,
	OPT_MIGRATION_SECRET,
	OPT_SECCOMP,
	OPT_ID,
	OPT_CGROUP_DIR,
	OPT_NO_SECCOMP,
	OPT_FC_FIRST,			/* Firecracker's launch flags: cli_firecracker.c */
	OPT_FC_LAST = OPT_FC_FIRST + 16,
};

static const struct option long_options[] = {
	{ "kernel",    required_argument, NULL, OPT_KERNEL },
	{ "initrd",    required_argument, NULL, OPT_INITRD },
	{ "cmdline",   required_argument, NULL, OPT_CMDLINE },
	{ "cpus",      required_argument, NULL, OPT_CPUS },
	{ "memory",    required_argument, NULL, OPT_MEMORY },
	{ "hugepages", no_argument,       NULL, OPT_HUGEPAGES },
	{ "serial",    required_argument, NULL, OPT_SERIAL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "rng",       no_argument,       NULL, OPT_RNG },
	{ "balloon",   required_argument, NULL, OPT_BALLOON },
	{ "no-rng",    no_argument,       NULL, OPT_NO_RNG },
	{ "virtio-transport", required_argument, NULL, OPT_VIRTIO_TRANSPORT },
	{ "disk",      required_argument, NULL, OPT_DISK },
	{ "watchdog-action", required_argument, NULL, OPT_WATCHDOG_ACTION },
	{ "config",    required_argument, NULL, OPT_CONFIG },
	{ "api-sock",  required_argument, NULL, OPT_API_SOCK },
	{ "log-file",  required_argument, NULL, OPT_LOG_FILE },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "metrics",   required_argument, NULL, OPT_METRICS },
	{ "events",    required_argument, NULL, OPT_EVENTS },
	{ "net",       required_argument, NULL, OPT_NET },
	{ "test-devices", no_argument,    NULL, OPT_TEST_DEVICES },
	{ "restore",   required_argument, NULL, OPT_RESTORE },
	{ "restore-mem", required_argument, NULL, OPT_RESTORE_MEM },
	{ "resume",    no_argument,       NULL, OPT_RESUME },
	{ "restore-net", required_argument, NULL, OPT_RESTORE_NET },
	{ "restore-disk", required_argument, NULL, OPT_RESTORE_DISK },
	{ "clock-realtime", no_argument,  NULL, OPT_CLOCK_REALTIME },
	{ "on-reboot", required_argument, NULL, OPT_ON_REBOOT },
	{ "restore-uffd", required_argument, NULL, OPT_RESTORE_UFFD },
	{ "track-dirty-pages", no_argument, NULL, OPT_TRACK_DIRTY },
	{ "incoming",  required_argument, NULL, OPT_INCOMING },
	{ "standby",   no_argument,       NULL, OPT_STANDBY },
	{ "migration-secret", required_argument, NULL, OPT_MIGRATION_SECRET },
	{ "failover-timeout", required_argument, NULL, OPT_FAILOVER_TIMEOUT },
	{ "seccomp",   required_argument, NULL, OPT_SECCOMP },
	{ "id",        required_argument, NULL, OPT_ID },
	{ "cgroup-dir", required_argument, NULL, OPT_CGROUP_DIR },
	{ "no-seccomp", no_argument,      NULL, OPT_NO_SECCOMP },
	{ "config-file", required_argument, NULL, OPT_CONFIG },	/* Firecracker's --config */
	{ "log-path",  required_argument, NULL, OPT_LOG_FILE },	/* Firecracker's --log-file */
	{ "no-api",    no_argument,       NULL, OPT_FC_FIRST + CLI_FC_NO_API },
	{ "level",     required_argument, NULL, OPT_FC_FIRST + CLI_FC_LEVEL },
	{ "show-level", no_argument,      NULL, OPT_FC_FIRST + CLI_FC_SHOW_LEVEL },
	{ "show-log-origin", no_argument, NULL, OPT_FC_FIRST + CLI_FC_SHOW_ORIGIN },
	{ "boot-timer", no_argument,      NULL, OPT_FC_FIRST + CLI_FC_BOOT_TIMER },
	{ "metadata",  required_argument, NULL, OPT_FC_FIRST + CLI_FC_METADATA },
	{ "http-api-max-payload-size", required_argument, NULL,
	  OPT_FC_FIRST + CLI_FC_MAX_PAYLOAD },
	{ "seccomp-filter", required_argument, NULL, OPT_FC_FIRST + CLI_FC_SECCOMP_FILTER },
	{ "help",      no_argument,       NULL, OPT_HELP },
	{ "version",   no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void cli_print_help(FILE *out)
{
	fprintf(out,
		"usage: husk --kernel IMAGE [options]\n"
		"       husk --config vm.json [options]\n"
		"       husk --api-sock PATH [options]   (configure and start through the API)\n"
		"       husk --restore SNAPSHOT --restore-mem MEM [--resume] [options]\n"
		"       husk --incoming unix:PATH|tcp:HOST:PORT [options]   (a live migration's destination)\n"
		"\n"
		"Boot a KVM virtual machine from a Linux bzImage or an ELF kernel (PVH or 64-bit).\n"
		"\n"
		"  --kernel IMAGE       kernel to boot (bzImage, or ELF vmlinux with or without a PVH note)\n"
		"  --initrd FILE        initial ramdisk\n"
		"  --cmdline \"ARGS\"     kernel command line\n"
		"  --cpus N             vCPUs, 1 to %u (default %u)\n"
		"  --memory SIZE        guest RAM with K, M, G or T suffix, 8M to 1T (default 256M)\n"
		"  --hugepages          back guest RAM with reserved 2 MiB huge pages\n"
		"  --serial KIND        console: stdio (default), none, file:PATH or pty\n"
		"  --log-level LEVEL    error, warn, info (default) or debug\n"
		"  --track-dirty-pages  track the pages the guest and husk write, for Diff\n"
		"                       snapshots (machine-config track_dirty_pages)\n"
		"  --on-reboot exit|restart  a guest reboot ends husk (exit, the default) or\n"
		"                       builds the VM again in this process (restart: kernel\n"
		"                       reloaded, devices reset, same console)\n"
		"  --shutdown-timeout S on SIGTERM, press the guest's ACPI power button and wait up\n"
		"                       to S seconds for it to power off before stopping it (default %u;\n"
		"                       0 stops at once; SIGINT, SIGHUP or a second SIGTERM never wait)\n"
		"  --rng, --no-rng      a virtio-rng PCI device feeding the guest from getrandom(),\n"
		"                       at most 1 MiB/s (default on)\n"
		"  --balloon amount_mib=N[,deflate_on_oom=on][,stats_polling_interval_s=N]\n"
		"            [,free_page_reporting=on]\n"
		"                       a virtio-balloon: the guest gives N MiB back to the host;\n"
		"                       statistics every N s; free pages reported go back too\n"
		"  --disk path=FILE[,ro=on][,direct=on][,id=NAME][,serial=STR][,queues=N]\n"
		"         [,engine=auto|uring|sync][,poll_us=N]\n"
		"                       a virtio-blk disk on a raw image (repeatable, up to %u);\n"
		"                       queues default to one per vCPU, engine to io_uring;\n"
		"                       an idle queue polls its ring poll_us (default 32, 0: off)\n"
		"  --net tap=NAME|fd=N[,mac=MAC][,queues=N][,mtu=N][,id=NAME][,engine=E]\n"
		"                       a virtio-net NIC on a tap (created if missing) or on an\n"
		"                       open tap fd (repeatable, up to %u); queues = queue pairs\n"
		"                       (1 to %u); the default MAC is stable per tap name and index;\n"
		"                       engine auto (io_uring, else readv/writev), uring or sync\n"
		"  --virtio-transport T pci (default) or mmio (virtio-mmio v2, announced to the\n"
		"                       guest on its command line; at most 8 devices)\n"
		"  --watchdog-action A  when the guest's watchdog (ACPI WDAT, Linux wdat_wdt) fires:\n"
		"                       reset (default), poweroff or none (log and event only)\n"
		"  --config FILE        a JSON config (Firecracker's schema and a \"husk\" object);\n"
		"                       flags given with it override it\n"
		"  --api-sock PATH      serve the HTTP API on a unix socket (mode 0600); without a\n"
		"                       kernel, wait for PUT /actions InstanceStart\n"
		"  --log-file PATH      append log lines to PATH instead of stderr\n"
		"  --log-format FMT     text (default) or json (one object per line)\n"
		"  --metrics PATH       append JSON metrics to PATH every 60 s and on FlushMetrics\n"
		"  --events PATH        lifecycle events as JSON lines to a file or FIFO\n"
		"  --test-devices       the test ports: debug-exit (0xf4: a guest write of V ends\n"
		"                       husk with status V & 0xff) and test-MSI (0x448); off by\n"
		"                       default, for test guests only\n"
		"  --restore SNAPSHOT   build the VM from a snapshot's state file (PUT /snapshot/create)\n"
		"                       instead of a kernel; its configuration comes from the file\n"
		"  --restore-mem MEM    the snapshot's memory file (required with --restore)\n"
		"  --restore-uffd SOCK  instead: pages come from the page-fault handler serving\n"
		"                       on the unix socket SOCK (Firecracker's Uffd backend;\n"
		"                       husk-uffd is one)\n"
		"  --resume             run the restored VM at once (else it stays Paused until\n"
		"                       PATCH /vm {\"state\":\"Resumed\"} on --api-sock)\n"
		"  --restore-net ID=TAP the restored NIC ID (net0, ...) on another tap (clones)\n"
		"  --restore-disk ID=PATH[,ro=on|off]\n"
		"                       the restored disk ID (disk0, ...) on another image of the\n"
		"                       same size, or read-only (clones)\n"
		"  --clock-realtime     advance the restored guest's kvm-clock by the time since\n"
		"                       the snapshot (default: no time passed for the guest)\n"
		"  --serial, with --restore: where the restored guest's console goes\n"
		"  --incoming URL       wait for one live migration (PUT /migration on the source)\n"
		"                       on unix:PATH or tcp:HOST:PORT, then run the VM it brings;\n"
		"                       --restore-net, --restore-disk and --serial apply to it\n"
		"  --standby            with --incoming: a replica (PUT /replication on the primary);\n"
		"                       runs the VM from the last checkpoint when the primary is gone\n"
		"  --failover-timeout MS  the primary silent this long is gone (default 1000)\n"
		"  --migration-secret FILE  authenticate migration and replication peers with\n"
		"                       this shared secret (16-4096 bytes; both hosts give it)\n"
		"  --seccomp MODE       kill (default): a thread's forbidden system call ends husk\n"
		"                       (status 148); log: allowed and logged by the kernel; off\n"
		"  --no-seccomp         no seccomp filters (as --seccomp off)\n"
		"  --id ID              the instance's name in GET / (default anonymous-instance)\n"
		"  --cgroup-dir DIR     the cgroup husk may limit itself in (PATCH /vm/limits;\n"
		"                       husk-jailer passes it)\n"
		"  --help               this text\n"
		"  --version            husk's version\n"
		"\n"
		"On a stdio console, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n"
		"Exit status: 0 guest reset, powered off or halted, or husk stopped by a signal;\n"
		"1 usage or configuration error; 2 KVM or VMM error; 148 a forbidden system call\n"
		"(seccomp); with --test-devices, a guest write of V to the debug-exit port 0xf4\n"
		"exits with V & 0xff.\n",
		HUSK_MAX_CPUS, HUSK_DEFAULT_CPUS, HUSK_DEFAULT_SHUTDOWN_TIMEOUT, HUSK_MAX_DISKS,
		HUSK_MAX_NETS, HUSK_MAX_QUEUES);
}

/* The argument as typed, quoted when blanks would hide in it: --cpus ' 2'. */
static void quote_arg(const char *arg, char *buf, size_t len)
{
	if (!*arg || strpbrk(arg, " \t\n\r\v\f"))
		snprintf(buf, len, "'%s'", arg);
	else
		snprintf(buf, len, "%s", arg);
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

static int parse_unsigned(const char *flag, const char *arg, unsigned min, unsigned max,
			  unsigned *out, char *err, size_t errlen)
{
	unsigned long v;

	errno = 0;
	v = all_digits(arg) ? strtoul(arg, NULL, 10) : 0;
	if (!all_digits(arg) || errno || v < min || v > max) {
		char q[64];

		quote_arg(arg, q, sizeof(q));
		snprintf(err, errlen, "%s %s: expected a number from %u to %u", flag, q, min, max);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

/* Digits and at most one K, M, G or T (any case): not "512MB", " 2G", "+1G". */
static bool size_syntax(const char *arg)
{
	size_t n = strlen(arg);
	char last = n ? arg[n - 1] : '\0';
	char digits[32];

	if (n == 0 || n >= sizeof(digits))
		return n >= sizeof(digits) && all_digits(arg);	/* long: overflow, said below */
	memcpy(digits, arg, n + 1);
	if (strchr("KkMmGgTt", last))
		digits[n - 1] = '\0';
	return all_digits(digits);
}

static int parse_memory(const char *arg, uint64_t *out, char *err, size_t errlen)
{
	if (!size_syntax(arg) || parse_size(arg, out) < 0) {
		char q[64];

		quote_arg(arg, q, sizeof(q));
		snprintf(err, errlen, "--memory %s: expected a number with an optional K, M, G "
			 "or T suffix, such as 256M or 2G", q);
		return -EINVAL;
	}
	/* checked here too, to say it with the user's own words */
	if (*out < LAYOUT_MIN_MEMORY || *out > LAYOUT_MAX_MEMORY) {
		snprintf(err, errlen, "--memory %s: must be between 8M and 1T", arg);
		return -EINVAL;
	}
	if (*out % 4096) {
		snprintf(err, errlen, "--memory %s: must be a multiple of 4K", arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_disk(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	char *copy;
	int ret;

	if (o->cfg.ndisks >= HUSK_MAX_DISKS) {
		snprintf(err, errlen, "--disk %s: at most %u disks", arg, HUSK_MAX_DISKS);
		return -EINVAL;
	}
	copy = strdup(arg);
	if (!copy) {
		snprintf(err, errlen, "--disk %s: %s", arg, strerror(ENOMEM));
		return -ENOMEM;
	}
	o->owned[o->nowned++] = copy;
	ret = devargs_parse_disk("--disk", copy, &o->cfg.disks[o->cfg.ndisks], err, errlen);
	if (!ret)
		o->cfg.ndisks++;
	return ret;
}

static int parse_watchdog_action(const char *arg, enum husk_watchdog_action *out,
				 char *err, size_t errlen)
{
	static const char *const names[] = {
		[HUSK_WATCHDOG_RESET] = "reset",
		[HUSK_WATCHDOG_POWEROFF] = "poweroff",
		[HUSK_WATCHDOG_NONE] = "none",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i]) == 0) {
			*out = (enum husk_watchdog_action)i;
			return 0;
		}
	}
	snprintf(err, errlen, "--watchdog-action %s: expected reset, poweroff or none", arg);
	return -EINVAL;
}

static int parse_net(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	char *copy;
	int ret;

	if (o->cfg.nnets >= HUSK_MAX_NETS) {
		snprintf(err, errlen, "--net %s: at most %u NICs", arg, HUSK_MAX_NETS);
		return -EINVAL;
	}
	copy = strdup(arg);
	if (!copy) {
		snprintf(err, errlen, "--net %s: %s", arg, strerror(ENOMEM));
		return -ENOMEM;
	}
	o->owned[o->nowned++] = copy;
	ret = devargs_parse_net("--net", copy, &o->cfg.nets[o->cfg.nnets], err, errlen);
	if (!ret)
		o->cfg.nnets++;
	return ret;
}

static int parse_balloon(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	char *copy = strdup(arg);
	int ret;

	if (!copy) {
		snprintf(err, errlen, "--balloon %s: %s", arg, strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = devargs_parse_balloon("--balloon", copy, &o->cfg.balloon, err, errlen);
	free(copy);
	return ret;
}

/* --restore-net ID=TAP / --restore-disk ID=PATH[,ro=on|off]: split a copy in place. */
static int parse_override(const char *flag, const char *arg, bool disk, struct cli_options *o,
			  struct cli_override *ov, char *err, size_t errlen)
{
	char *copy = strdup(arg), *eq, *ro;

	if (!copy) {
		snprintf(err, errlen, "%s %s: %s", flag, arg, strerror(ENOMEM));
		return -ENOMEM;
	}
	o->owned[o->nowned++] = copy;
	eq = strchr(copy, '=');
	if (!eq || eq == copy || !eq[1]) {
		snprintf(err, errlen, "%s %s: expected ID=%s", flag, arg,
			 disk ? "PATH[,ro=on|off]" : "TAP");
		return -EINVAL;
	}
	*eq = 0;
	*ov = (struct cli_override){ .id = copy, .value = eq + 1, .readonly = -1 };
	if (!disk)
		return 0;
	ro = strstr(eq + 1, ",ro=");
	if (!ro && !strncmp(eq + 1, "ro=", 3))
		ro = eq;
	if (!ro)
		return 0;
	if (!strcmp(ro + 4, "on") || !strcmp(ro + 4, "off")) {
		ov->readonly = ro[5] == 'n';
		*ro = 0;
		if (ro == eq)
			ov->value = NULL;
		return 0;
	}
	snprintf(err, errlen, "%s %s: ro=%s: expected on or off", flag, arg, ro + 4);
	return -EINVAL;
}

static int parse_restore_dev(int opt, const char *arg, struct cli_options *o, char *err,
			     size_t errlen)
{
	bool net = opt == OPT_RESTORE_NET;
	const char *flag = net ? "--restore-net" : "--restore-disk";
	unsigned *n = net ? &o->nrestore_nets : &o->nrestore_disks;
	unsigned max = net ? HUSK_MAX_NETS : HUSK_MAX_DISKS;
	int ret;

	if (*n >= max) {
		snprintf(err, errlen, "%s %s: at most %u", flag, arg, max);
		return -EINVAL;
	}
	ret = parse_override(flag, arg, !net, o,
			     net ? &o->restore_nets[*n] : &o->restore_disks[*n], err, errlen);
	if (!ret)
		(*n)++;
	return ret;
}

static int parse_one(int opt, const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	switch (opt) {
	case OPT_KERNEL:    o->cfg.kernel = arg; return 0;
	case OPT_INITRD:    o->cfg.initrd = arg; return 0;
	case OPT_CMDLINE:   o->cfg.cmdline = arg; return 0;
	case OPT_SERIAL:    o->cfg.serial = arg; o->serial_set = true; return 0;
	case OPT_HUGEPAGES: o->cfg.hugepages = true; return 0;
	case OPT_TRACK_DIRTY: o->cfg.track_dirty = true; return 0;
	case OPT_RNG:       o->cfg.rng = true; return 0;
	case OPT_NO_RNG:    o->cfg.rng = false; return 0;
	case OPT_TEST_DEVICES: o->cfg.test_devices = true; return 0;
	case OPT_RESTORE:   o->restore_path = arg; return 0;
	case OPT_INCOMING:  o->incoming = arg; return 0;
	case OPT_STANDBY:   o->standby = true; return 0;
	case OPT_MIGRATION_SECRET: o->orch.migration_secret = arg; return 0;
	case OPT_FAILOVER_TIMEOUT:
		return parse_unsigned("--failover-timeout", arg, 50, 3600000, &o->failover_ms, err,
				      errlen);
	case OPT_RESTORE_MEM: o->restore_mem = arg; return 0;
	case OPT_RESTORE_UFFD: o->restore_uffd = arg; return 0;
	case OPT_RESUME:    o->resume = true; return 0;
	case OPT_CLOCK_REALTIME: o->clock_realtime = true; return 0;
	case OPT_NO_SECCOMP: o->seccomp = SANDBOX_OFF; return 0;
	case OPT_CGROUP_DIR: o->orch.cgroup_dir = arg; return 0;
	case OPT_ID:
		if (strlen(arg) >= 1 && strlen(arg) <= 64 &&
		    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
		    strlen(arg)) {
			o->orch.instance_id = arg;
			return 0;
		}
		snprintf(err, errlen, "--id %s: 1 to 64 letters, digits and '-'", arg);
		return -EINVAL;
	case OPT_SECCOMP:
		if (sandbox_parse_mode(arg, &o->seccomp) == 0)
			return 0;
		snprintf(err, errlen, "--seccomp %s: expected kill, log or off", arg);
		return -EINVAL;
	case OPT_ON_REBOOT:
		if (!strcmp(arg, "exit") || !strcmp(arg, "restart")) {
			o->reboot_restart = arg[0] == 'r';
			return 0;
		}
		snprintf(err, errlen, "--on-reboot %s: expected exit or restart", arg);
		return -EINVAL;
	case OPT_RESTORE_NET:
	case OPT_RESTORE_DISK:
		return parse_restore_dev(opt, arg, o, err, errlen);
	case OPT_HELP:      o->action = CLI_HELP; return 0;
	case OPT_VERSION:   o->action = CLI_VERSION; return 0;
	case OPT_CONFIG:    return 0;	/* applied before the other flags */
	case OPT_API_SOCK:  o->orch.api_sock = arg; return 0;
	case OPT_LOG_FILE:  o->orch.log_file = arg; return 0;
	case OPT_METRICS:   o->cfg.metrics_path = arg; return 0;
	case OPT_EVENTS:    o->orch.events_path = arg; return 0;
	case OPT_LOG_FORMAT:
		if (log_parse_format(arg, &o->orch.log_format) == 0)
			return 0;
		snprintf(err, errlen, "--log-format %s: expected text or json", arg);
		return -EINVAL;
	case OPT_CPUS:
		return parse_unsigned("--cpus", arg, 1, HUSK_MAX_CPUS, &o->cfg.cpus, err, errlen);
	case OPT_SHUTDOWN_TIMEOUT:
		return parse_unsigned("--shutdown-timeout", arg, 0, HUSK_MAX_SHUTDOWN_TIMEOUT,
				      &o->cfg.shutdown_timeout, err, errlen);
	case OPT_MEMORY:    return parse_memory(arg, &o->cfg.memory, err, errlen);
	case OPT_DISK:      return parse_disk(arg, o, err, errlen);
	case OPT_NET:       return parse_net(arg, o, err, errlen);
	case OPT_BALLOON:   return parse_balloon(arg, o, err, errlen);
	case OPT_VIRTIO_TRANSPORT:
		if (!strcmp(arg, "pci") || !strcmp(arg, "mmio")) {
			o->cfg.transport = arg[0] == 'p' ? HUSK_VIRTIO_PCI : HUSK_VIRTIO_MMIO;
			return 0;
		}
		snprintf(err, errlen, "--virtio-transport %s: expected pci or mmio", arg);
		return -EINVAL;
	case OPT_WATCHDOG_ACTION:
		return parse_watchdog_action(arg, &o->cfg.watchdog_action, err, errlen);
	case OPT_LOG_LEVEL:
		if (log_parse_level(arg, &o->log_level) == 0)
			return 0;
		snprintf(err, errlen, "--log-level %s: expected error, warn, info or debug", arg);
		return -EINVAL;
	}
	if (opt >= OPT_FC_FIRST && opt <= OPT_FC_LAST)
		return cli_firecracker_flag(opt - OPT_FC_FIRST, arg, o, err, errlen);
	return -EINVAL;
}

static void bad_option(int argc, char **argv, char *err, size_t errlen)
{
	const char *arg = optind - 1 < argc ? argv[optind - 1] : "?";

	if (optopt && strchr("kicpm", optopt) == NULL && optopt < 0x100)
		snprintf(err, errlen, "unknown option -%c (see husk --help)", optopt);
	else if (optopt)
		snprintf(err, errlen, "%s needs a value (see husk --help)", arg);
	else
		snprintf(err, errlen, "unknown option %s (see husk --help)", arg);
}

void cli_free(struct cli_options *o)
{
	while (o->nowned)
		free(o->owned[--o->nowned]);
}

/* The last --config FILE or --config=FILE before a "--", or NULL. */
static const char *find_config(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "--config-file")) &&
		    i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (strncmp(argv[i], "--config-file=", 14) == 0)
			path = argv[i] + 14;
	}
	return path;
}

static int load_config(struct cli_options *o, char *err, size_t errlen)
{
	struct config_target t = {
		.cfg = &o->cfg, .orch = &o->orch, .log_level = &o->log_level, .arena = &o->arena,
	};

	return config_file_load(o->config_path, &t, err, errlen);
}

void cli_options_free(struct cli_options *o)
{
	cli_free(o);
	arena_free(&o->arena);
}

/* --restore: the snapshot holds the VM's configuration; only process settings go with it. */
static int check_restore(const struct cli_options *o, char *err, size_t errlen)
{
	const char *clash = o->cfg.kernel ? "--kernel" : o->cfg.initrd ? "--initrd" :
			    o->cfg.ndisks ? "--disk" : o->cfg.nnets ? "--net" :
			    o->cfg.balloon.enabled ? "--balloon" :
			    o->config_path ? "--config" : NULL;

	if ((o->standby || o->failover_ms) && !o->incoming) {
		snprintf(err, errlen, "%s: only with --incoming URL",
			 o->standby ? "--standby" : "--failover-timeout");
		return -EINVAL;
	}
	if (o->failover_ms && !o->standby) {
		snprintf(err, errlen, "--failover-timeout: only with --standby");
		return -EINVAL;
	}
	if (o->incoming) {
		const char *no = o->restore_path ? "--restore" : o->restore_mem ? "--restore-mem" :
				 o->restore_uffd ? "--restore-uffd" : o->resume ? "--resume" :
				 o->clock_realtime ? "--clock-realtime" : clash;

		if (no) {
			snprintf(err, errlen, "--incoming %s: the stream brings the VM and its "
				 "configuration; %s cannot be given with it", o->incoming, no);
			return -EINVAL;
		}
		return 0;
	}
	if (!o->restore_path) {
		const char *only = o->restore_mem ? "--restore-mem" : o->resume ? "--resume" :
				   o->restore_uffd ? "--restore-uffd" :
				   o->nrestore_nets ? "--restore-net" :
				   o->nrestore_disks ? "--restore-disk" :
				   o->clock_realtime ? "--clock-realtime" : NULL;

		if (only) {
			snprintf(err, errlen, "%s: only with --restore SNAPSHOT%s", only,
				 o->nrestore_nets || o->nrestore_disks ? " or --incoming URL" : "");
			return -EINVAL;
		}
		return 0;
	}
	if (!o->restore_mem == !o->restore_uffd) {
		snprintf(err, errlen, "--restore %s: %s", o->restore_path, o->restore_mem ?
			 "give --restore-mem or --restore-uffd, not both" :
			 "--restore-mem MEM (its memory file) is required");
		return -EINVAL;
	}
	if (clash) {
		snprintf(err, errlen, "--restore %s: the snapshot holds the VM's configuration; "
			 "%s cannot be given with it", o->restore_path, clash);
		return -EINVAL;
	}
	if (!o->resume && !o->orch.api_sock) {
		snprintf(err, errlen, "--restore %s: the VM would stay paused with nothing to "
			 "resume it: give --resume, or --api-sock PATH", o->restore_path);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	int opt, ret;

	husk_config_init(&o->cfg);
	o->log_level = LOG_INFO;
	o->action = CLI_RUN;
	o->seccomp = sandbox_default_mode();
	o->config_path = find_config(argc, argv);
	if (o->config_path && load_config(o, err, errlen) < 0)
		return -EINVAL;
	optind = 0;	/* glibc: full reinitialisation, so cli_parse can be called again */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":k:i:c:p:m:hV", long_options, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			bad_option(argc, argv, err, errlen);
			return -EINVAL;
		}
		ret = parse_one(opt, optarg, o, err, errlen);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see husk --help)", argv[optind]);
		return -EINVAL;
	}
	ret = check_restore(o, err, errlen);
	if (!ret)
		ret = cli_firecracker_check(o, err, errlen);
	if (ret)
		return ret;
	/* the file was meant to name the kernel: say where it is missing */
	if (o->action == CLI_RUN && o->config_path && !o->cfg.kernel && !o->orch.api_sock) {
		snprintf(err, errlen, "--config %s: boot-source.kernel_image_path is required",
			 o->config_path);
		return -EINVAL;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	int ret;

	memset(o, 0, sizeof(*o));
	ret = parse_args(argc, argv, o, err, errlen);
	if (ret)
		cli_options_free(o);	/* an error leaves nothing allocated */
	return ret;
}
