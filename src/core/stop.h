/* SPDX-License-Identifier: MIT */
#ifndef HUSK_STOP_H
#define HUSK_STOP_H

/*
 * Why a VM stops. Devices and vCPU threads ask for a stop through a
 * struct stop_hook (a callback), so devices never need struct vm and stay
 * unit-testable. The first request wins; later ones are ignored.
 */
enum stop_reason {
	STOP_NONE = 0,
	STOP_DEBUG_EXIT,	/* guest wrote the debug-exit port: status = v & 0xff */
	STOP_RESET_I8042,	/* guest pulsed reset through the i8042 (0xfe to port 0x64) */
	STOP_TRIPLE_FAULT,	/* KVM_EXIT_SHUTDOWN */
	STOP_SYSTEM_RESET,	/* KVM_EXIT_SYSTEM_EVENT reset */
	STOP_SYSTEM_SHUTDOWN,	/* KVM_EXIT_SYSTEM_EVENT shutdown, ACPI power off */
	STOP_HALT,		/* every vCPU halted with interrupts disabled */
	STOP_SIGNAL,		/* SIGTERM / SIGINT */
	STOP_CONSOLE_ESCAPE,	/* Ctrl-A x typed on the console */
	STOP_ERROR,		/* KVM or VMM error: status 2 */
	STOP_WATCHDOG_RESET,	/* the guest watchdog fired, --watchdog-action reset */
	STOP_WATCHDOG_POWEROFF,	/* the guest watchdog fired, --watchdog-action poweroff */
	STOP_MIGRATED,		/* a live migration handed the VM to its destination */
};

struct stop_hook {
	void (*request)(void *ctx, enum stop_reason why, int exit_status);
	void *ctx;
};

static inline void stop_hook_request(const struct stop_hook *h, enum stop_reason why, int status)
{
	if (h && h->request)
		h->request(h->ctx, why, status);
}

const char *stop_reason_str(enum stop_reason why);

#endif
