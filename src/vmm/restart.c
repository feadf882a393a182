// SPDX-License-Identifier: MIT
/*
 * Fast restart: a guest reboot (--on-reboot restart) builds the VM again in
 * the same process, with the same configuration, on the same console,
 * instead of ending husk. The new VM is built by the VM builder from
 * nothing: fresh guest RAM, devices and vCPUs in their power-on state, the
 * kernel and initrd loaded again (a VM restored from a snapshot reboots
 * into the kernel its configuration names). A guest that reboots more than
 * VM_RESTART_BURST times within VM_RESTART_WINDOW_S seconds is stopped
 * instead: a boot loop is a failure, not a service.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool vm_stop_is_reboot(const struct husk_vm *vm)
{
	if (vm->shutdown_asked)
		return false;	/* asked to stop: a reboot is as good as a power-off */
	switch ((enum stop_reason)atomic_load(&((struct husk_vm *)vm)->stop_reason)) {
	case STOP_RESET_I8042:
	case STOP_TRIPLE_FAULT:
	case STOP_SYSTEM_RESET:
	case STOP_WATCHDOG_RESET:
		return true;
	default:
		return false;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool vm_restart_allowed(struct vm_restarts *r, char *why, size_t whylen)
{
	double t = now_s();

	if (r->count == 0 || t - r->window_start > VM_RESTART_WINDOW_S) {
		r->window_start = t;
		r->in_window = 0;
	}
	if (r->in_window >= VM_RESTART_BURST) {
		snprintf(why, whylen, "the guest rebooted %u times within %d s: a boot loop, "
			 "not restarting it again", r->in_window + 1, VM_RESTART_WINDOW_S);
		return false;
	}
	r->in_window++;
	r->count++;
	return true;
}

int husk_vm_restart(struct husk_vm **vmp, char *err, size_t errlen)
{
	struct husk_vm *old = *vmp;
	struct husk_config cfg = old->cfg;
	struct console con = old->console;

	if (!cfg.kernel) {
		snprintf(err, errlen, "reboot: the VM's configuration names no kernel to boot");
		return -EINVAL;
	}
	cfg.restore = false;	/* a restored VM reboots into its kernel */
	console_init(&old->console);	/* the new VM's: not closed with the old one */
	husk_vm_destroy(old);
	*vmp = NULL;
	return vm_create_adopting(&cfg, &con, vmp, err, errlen);
}
