// SPDX-License-Identifier: MIT
/* husk: one KVM virtual machine per process. */
#include "husk/husk.h"
#include "core/log.h"
#include "vmm/cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	struct cli_options opts;
	struct husk_vm *vm;
	char err[512];
	int status;

	if (cli_parse(argc, argv, &opts, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		cli_free(&opts);
		return HUSK_EXIT_CONFIG;
	}
	if (opts.action == CLI_HELP) {
		cli_print_help(stdout);
		return 0;
	}
	if (opts.action == CLI_VERSION) {
		printf("husk %s\n", HUSK_VERSION);
		return 0;
	}
	log_set_level(opts.log_level);
	setup_signals();
	if (husk_vm_create(&opts.cfg, &vm, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		cli_free(&opts);
		return HUSK_EXIT_CONFIG;
	}
	fatal_signal_vm = vm;
	status = husk_vm_run(vm);
	fatal_signal_vm = NULL;
	husk_vm_destroy(vm);
	cli_free(&opts);
	return status;
}
