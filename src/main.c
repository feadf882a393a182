// SPDX-License-Identifier: MIT
/* husk: one KVM virtual machine per process. */
#include "husk/husk.h"
#include "api/api.h"
#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "migration/migrate.h"
#include "sandbox/seccomp.h"
#include "state/snapshot.h"
#include "vmm/cli.h"
#include "vmm/vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The one VM of this process, for the fatal-signal handler only: a handler
 * cannot be passed context, and it must put the terminal back before dying.
 */
static struct husk_vm *fatal_signal_vm;

static void fatal_signal(int sig)
{
	husk_vm_restore_terminal(fatal_signal_vm);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup_signals(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT };
	struct sigaction sa = { .sa_handler = fatal_signal };
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* termination signals are read from a signalfd by the event loop */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* --log-file, --log-format, logger.show_level: before any thread starts. */
static int setup_logging(const struct cli_options *o)
{
	log_set_level(o->log_level);
	log_set_format(o->orch.log_format);
	log_set_show_level(o->orch.show_level);
	if (o->orch.log_file) {
		int ret = log_open_file(o->orch.log_file);

		if (ret) {
			pr_err("--log-file %s: %s", o->orch.log_file, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * Creates the --metrics file up front (so a bad path is a config error);
 * *created says whether it was new, so a failed start can remove it again.
 */
static int check_metrics(const struct husk_config *cfg, bool *created)
{
	struct stat st;
	int ret;

	*created = cfg->metrics_path && stat(cfg->metrics_path, &st) < 0 && errno == ENOENT;
	ret = cfg->metrics_path ? metrics_check_path(cfg->metrics_path) : 0;

	if (ret)
		pr_err("--metrics %s: %s", cfg->metrics_path, strerror(-ret));
	return ret;
}

/*
 * --incoming: wait for a migration stream and build its VM. 1 when a
 * termination signal came first (exit 0, nothing was built).
 */
static int incoming_vm(struct cli_options *o, const struct snap_restore_opts *opts,
		       struct husk_config *cfg, struct husk_vm **vm, struct mig_postcopy **pc,
		       char *err, size_t errlen)
{
	static const char *const keys[] = { "downtime_ms", "total_ms", "bytes", "rounds" };
	static const char *const fkeys[] = { "epoch", "since_checkpoint_ms" };
	struct mig_incoming_opts in = { .standby = o->standby,
					.failover_ms = o->failover_ms ? o->failover_ms : 1000,
					.secret_path = o->orch.migration_secret };
	struct mig_result res;
	int64_t vals[4];
	sigset_t set;
	int sfd, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	ret = mig_incoming(o->incoming, opts, &in, sfd, &o->arena, cfg, vm, &res, err, errlen);
	if (sfd >= 0)
		close(sfd);
	if (ret == 2)
		pr_info("standby: the primary ended replication; nothing to take over");
	if (ret)
		return ret > 0 ? 1 : ret;
	if (res.failover) {
		vals[0] = (int64_t)res.epoch;
		vals[1] = (int64_t)res.since_ms;
		events_emit_numbers(o->cfg.events, "failover", fkeys, vals, 2);
		return 0;
	}
	vals[0] = (int64_t)res.downtime_ms;
	vals[1] = (int64_t)res.total_ms;
	vals[2] = (int64_t)res.bytes;
	vals[3] = res.rounds;
	events_emit_numbers(o->cfg.events, "migration-completed", keys, vals, 4);
	*pc = res.postcopy;	/* pages still coming: freed once the VM has stopped */
	if (!res.resume)
		vm_start_paused(*vm);
	return 0;
}

/*
 * --restore or --incoming: the VM from a snapshot or a migration stream;
 * the process-wide settings stay the flags'. 1: stopped by a signal first.
 */
static int restore_vm(struct cli_options *o, struct husk_vm **vm, struct mig_postcopy **pc)
{
	struct snap_restore_opts *opts = calloc(1, sizeof(*opts));
	struct husk_config cfg;
	char err[768];
	int ret;

	if (!opts) {
		pr_err("%s: %s", o->incoming ? o->incoming : o->restore_path, strerror(ENOMEM));
		return -1;
	}
	opts->serial = o->serial_set ? o->cfg.serial : NULL;
	opts->uffd_sock = o->restore_uffd;
	opts->clock_realtime = o->clock_realtime;
	opts->sandbox = o->cfg.sandbox;
	for (unsigned i = 0; i < o->nrestore_nets; i++)
		opts->nets[opts->nnets++] = (struct snap_net_override){
			.iface_id = o->restore_nets[i].id, .host_dev_name = o->restore_nets[i].value,
		};
	for (unsigned i = 0; i < o->nrestore_disks; i++)
		opts->drives[opts->ndrives++] = (struct snap_drive_override){
			.drive_id = o->restore_disks[i].id, .path = o->restore_disks[i].value,
			.readonly = o->restore_disks[i].readonly,
		};
	if (o->incoming)
		ret = incoming_vm(o, opts, &cfg, vm, pc, err, sizeof(err));
	else
		ret = vm_snapshot_restore(o->restore_path, o->restore_mem, opts, &o->arena, &cfg,
					  vm, err, sizeof(err));
	free(opts);
	if (ret > 0)
		return 1;
	if (ret < 0) {
		pr_err("%s", err);
		events_emit(o->cfg.events, "error", err);
		return -1;
	}
	cfg.events = (*vm)->cfg.events = o->cfg.events;
	cfg.sandbox = (*vm)->cfg.sandbox = o->cfg.sandbox;
	cfg.metrics_path = (*vm)->cfg.metrics_path = o->cfg.metrics_path;
	o->cfg = cfg;
	if (!o->resume && !o->incoming)
		vm_start_paused(*vm);
	return 0;
}

/*
 * Build the VM: from the flags and config file at once, or, with
 * --api-sock and no kernel, when the API says InstanceStart.
 * Returns 0 with *vm, 1 for "exit 0" (a signal before InstanceStart), or
 * -1 with the error already logged.
 */
static int build_vm(struct cli_options *o, struct api_server **api, struct husk_vm **vm,
		    struct mig_postcopy **pc)
{
	struct api_params p = {
		.sock_path = o->orch.api_sock,
		.target = { .cfg = &o->cfg, .orch = &o->orch, .log_level = &o->log_level,
			    .arena = &o->arena },
	};
	bool restored = o->restore_path || o->incoming;
	char err[512];
	int ret;

	/* a restored VM exists before its socket does: no client sees it half-built */
	if (restored && (ret = restore_vm(o, vm, pc)) != 0)
		return ret < 0 ? -1 : 1;
	if (o->orch.api_sock && api_start(&p, api, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		husk_vm_destroy(*vm);
		*vm = NULL;
		return -1;
	}
	if (*api && !o->cfg.kernel && !restored)
		return api_wait_instance_start(*api, vm) < 0 ? 1 : 0;
	if (restored) {
		if (*api)
			api_attach_vm(*api, *vm);
		return 0;
	}
	if (husk_vm_create(&o->cfg, vm, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		events_emit(o->cfg.events, "error", err);
		return -1;
	}
	if (*api)
		api_attach_vm(*api, *vm);
	return 0;
}

/* Run the VM; with --on-reboot restart, build it again after each guest reboot. */
static int run_vm(struct cli_options *o, struct api_server *api, struct husk_vm **vm,
		  struct mig_postcopy **pc)
{
	struct vm_restarts restarts = { 0 };
	char err[512];
	int status;

	for (;;) {
		fatal_signal_vm = *vm;
		status = husk_vm_run(*vm);
		fatal_signal_vm = NULL;
		if (!o->reboot_restart || !vm_stop_is_reboot(*vm))
			return status;
		if (!vm_restart_allowed(&restarts, err, sizeof(err))) {
			pr_err("%s", err);
			events_emit(o->cfg.events, "error", err);
			return HUSK_EXIT_VMM_ERROR;
		}
		api_detach_vm(api);
		pr_info("restarting the VM (--on-reboot restart, restart %u)", restarts.count);
		events_emit(o->cfg.events, "restarted", NULL);
		postcopy_dest_free(*pc);	/* the old VM's pages thread */
		*pc = NULL;
		if (husk_vm_restart(vm, err, sizeof(err)) < 0) {
			pr_err("reboot: %s", err);
			events_emit(o->cfg.events, "error", err);
			return HUSK_EXIT_VMM_ERROR;
		}
		if (api)
			api_attach_vm(api, *vm);
	}
}

static int run(struct cli_options *o)
{
	struct api_server *api = NULL;
	struct mig_postcopy *pc = NULL;
	struct husk_vm *vm = NULL;
	struct husk_sandbox sb;
	char err[256];
	int status, ret;

	setup_signals();
	/* before any thread: each one enters its role's filter as it starts */
	if (sandbox_init(&sb, o->seccomp, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		return HUSK_EXIT_CONFIG;
	}
	o->cfg.sandbox = &sb;
	ret = build_vm(o, &api, &vm, &pc);
	if (ret) {
		api_stop(api);
		sandbox_free(&sb);
		return ret > 0 ? HUSK_EXIT_OK : HUSK_EXIT_CONFIG;
	}
	/* the main thread's own: what it still does is run, restart and tear down */
	ret = sandbox_enter(&sb, SANDBOX_MAIN);
	if (ret < 0) {
		pr_err("seccomp: the main thread cannot enter its filter: %s", strerror(-ret));
		vm_request_stop(vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
	}
	status = run_vm(o, api, &vm, &pc);
	api_detach_vm(api);
	postcopy_dest_free(pc);	/* before its VM goes */
	husk_vm_destroy(vm);
	api_stop(api);
	sandbox_free(&sb);
	return status;
}

static void remove_if_empty(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		unlink(path);
}

int main(int argc, char **argv)
{
	struct husk_events *events = NULL;
	struct cli_options opts;
	bool metrics_created = false;
	char err[512];
	int status = HUSK_EXIT_CONFIG;

	if (cli_parse(argc, argv, &opts, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		cli_options_free(&opts);
		return HUSK_EXIT_CONFIG;
	}
	if (opts.action == CLI_HELP) {
		cli_print_help(stdout);
		status = 0;
	} else if (opts.action == CLI_VERSION) {
		/* Kata reads the second word of the first line as Firecracker's version */
		printf("Firecracker-API v%s (husk %s)\nhusk %s\n", HUSK_FC_API_VERSION, HUSK_VERSION,
		       HUSK_VERSION);
		status = 0;
	} else if (setup_logging(&opts) == 0 && check_metrics(&opts.cfg, &metrics_created) == 0) {
		if (opts.orch.events_path &&
		    events_open(opts.orch.events_path, &events, err, sizeof(err)) < 0)
			pr_err("%s", err);
		else {
			opts.cfg.events = events;
			status = run(&opts);
		}
		/* no VM was made: leave no empty metrics file of ours behind */
		if (status == HUSK_EXIT_CONFIG && metrics_created)
			remove_if_empty(opts.cfg.metrics_path);
	}
	events_close(events);
	cli_options_free(&opts);
	return status;
}
