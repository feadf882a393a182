/* SPDX-License-Identifier: MIT */
/*
 * A test's stand-in for KVM: include once, then define
 *
 *	static int fake_vm_ioctl(unsigned long request, void *arg);
 *
 * This header defines ioctl() (taking the place of libc's for husk_core):
 * calls on FAKE_VM_FD go to the test's fake_vm_ioctl(), every other fd to
 * the kernel. Devices under test get FAKE_VM_FD as their VM fd, so tests see
 * each KVM call (KVM_IRQ_LINE edges, KVM_SIGNAL_MSI, routing tables, ...).
 */
#ifndef HUSK_FAKE_VM_IOCTL_H
#define HUSK_FAKE_VM_IOCTL_H

#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAKE_VM_FD	1000

static int fake_vm_ioctl(unsigned long request, void *arg);

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd == FAKE_VM_FD)
		return fake_vm_ioctl(request, arg);
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

#endif
