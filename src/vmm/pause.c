// SPDX-License-Identifier: MIT
/*
 * Pause / resume (PATCH /vm). Pausing asks every vCPU to park: the kick
 * makes KVM_RUN return EINTR, the vCPU thread tells KVM that the guest is
 * being stopped (KVM_KVMCLOCK_CTRL: the guest's soft-lockup watchdog then
 * forgives the time jump kvm-clock will show) and waits on a condition
 * variable. With every vCPU parked, the devices' pause hooks stop their
 * queues. Interrupts raised meanwhile stay pending in KVM's irqchip and are
 * delivered on resume; nothing is dropped.
 */
#include "vmm/vm.h"
#include "core/log.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define PARK_WAIT_MS 5000	/* a vCPU stuck in a device handler longer is a bug */

int vm_add_pause_hook(struct husk_vm *vm, struct vm_pause_hook *hook)
{
	struct vm_pause *p = &vm->pause;

	if (p->nhooks == VM_MAX_PAUSE_HOOKS)
		return -ENOSPC;
	pthread_mutex_lock(&p->lock);
	p->hooks[p->nhooks++] = hook;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void vm_pause_point(struct husk_vm *vm, struct vcpu *v)
{
	struct vm_pause *p = &vm->pause;
	unsigned pct = atomic_load(&p->throttle_pct);

	if (pct && !atomic_load(&p->requested)) {
		struct timespec t = { .tv_nsec = (long)pct * 100000L };	/* pct% of 10 ms */

		nanosleep(&t, NULL);
	}
	if (!atomic_load(&p->requested))
		return;
	/* EINVAL: the guest has not enabled kvm-clock; nothing to tell it */
	if (ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
		pr_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %s", v->index, strerror(errno));
	pthread_mutex_lock(&p->lock);
	p->parked++;
	pthread_cond_broadcast(&p->cond);
	while (atomic_load(&p->requested) && !vm_stopping(vm))
		pthread_cond_wait(&p->cond, &p->lock);
	p->parked--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void vm_pause_wake(struct husk_vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

static void deadline_after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* With p->lock held: wait until @want vCPUs are parked. */
static int wait_parked(struct husk_vm *vm, unsigned want)
{
	struct vm_pause *p = &vm->pause;
	struct timespec deadline;

	deadline_after_ms(&deadline, PARK_WAIT_MS);
	while (p->parked != want && !vm_stopping(vm)) {
		if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == ETIMEDOUT)
			return -ETIMEDOUT;
	}
	return vm_stopping(vm) ? -EBUSY : 0;
}

int husk_vm_pause(struct husk_vm *vm)
{
	struct vm_pause *p = &vm->pause;
	int ret;

	pthread_mutex_lock(&p->lock);
	if (!atomic_load(&vm->running) || vm_stopping(vm)) {
		pthread_mutex_unlock(&p->lock);
		return -EBUSY;
	}
	if (p->paused) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	/* vCPUs still leaving the previous pause must not count as parked */
	ret = wait_parked(vm, 0);
	if (!ret) {
		atomic_store(&p->requested, true);
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_kick(&vm->vcpus[i]);
		ret = wait_parked(vm, vm->ncpus);
	}
	if (ret) {
		atomic_store(&p->requested, false);
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		return ret;
	}
	for (unsigned i = 0; i < p->nhooks; i++)
		if (p->hooks[i]->pause)
			p->hooks[i]->pause(p->hooks[i]->ctx);
	p->paused = true;
	pthread_mutex_unlock(&p->lock);
	vm_event(vm, "paused", NULL);
	return 0;
}

int husk_vm_resume(struct husk_vm *vm)
{
	struct vm_pause *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	if (!p->paused) {
		pthread_mutex_unlock(&p->lock);
		return atomic_load(&vm->running) && !vm_stopping(vm) ? 0 : -EBUSY;
	}
	/* devices first: a vCPU's first notify after resume must be served */
	for (unsigned i = p->nhooks; i-- > 0;)
		if (p->hooks[i]->resume)
			p->hooks[i]->resume(p->hooks[i]->ctx);
	p->paused = false;
	atomic_store(&p->requested, false);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	vm_event(vm, "resumed", NULL);
	return 0;
}

bool husk_vm_is_paused(struct husk_vm *vm)
{
	bool paused;

	pthread_mutex_lock(&vm->pause.lock);
	paused = vm->pause.paused;
	pthread_mutex_unlock(&vm->pause.lock);
	return paused;
}

int vm_start_paused(struct husk_vm *vm)
{
	struct vm_pause *p = &vm->pause;

	if (atomic_load(&vm->running))
		return -EBUSY;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->requested, true);
	/* each vCPU's first KVM_RUN returns EINTR at once and parks */
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].run)
			__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < p->nhooks; i++)
		if (p->hooks[i]->pause)
			p->hooks[i]->pause(p->hooks[i]->ctx);
	p->paused = true;
	pthread_mutex_unlock(&p->lock);
	return 0;
}
