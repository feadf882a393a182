// SPDX-License-Identifier: MIT
/*
 * vm_start_paused() (vmm/pause.c), for a VM loaded from a snapshot without
 * resume_vm: the vCPUs park before their first instruction, the VM reads as
 * Paused, the devices' pause hooks ran, and husk_vm_resume() lets them run.
 * Stand-in vCPU threads do what vcpu_thread() does around KVM_RUN (as in
 * test_api_pause.c); no KVM needed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_vm_ioctl.h"
#include "vmm/vm.h"

#define NCPUS 2

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	(void)request;
	(void)arg;
	return 0;
}

static atomic_uint guest_steps[NCPUS];	/* "instructions" run in KVM_RUN */

static void *fake_vcpu(void *arg)
{
	struct vcpu *v = arg;

	while (!vm_stopping(v->vm)) {
		if (__atomic_load_n(&v->run->immediate_exit, __ATOMIC_ACQUIRE)) {
			/* KVM_RUN returns EINTR at once: no guest instruction ran */
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
			atomic_thread_fence(memory_order_seq_cst);
			vm_pause_point(v->vm, v);
			continue;
		}
		atomic_fetch_add(&guest_steps[v->index], 1);
		usleep(100);
	}
	return NULL;
}

static char hook_log[8];
static unsigned nhook;

static void hook_pause(void *ctx) { (void)ctx; hook_log[nhook++ % 8] = 'P'; }
static void hook_resume(void *ctx) { (void)ctx; hook_log[nhook++ % 8] = 'R'; }

static void test_start_paused(void **state)
{
	struct husk_vm *vm = calloc(1, sizeof(*vm));
	struct kvm_run runs[NCPUS];
	struct vm_pause_hook hook = { .pause = hook_pause, .resume = hook_resume };

	(void)state;
	memset(runs, 0, sizeof(runs));
	vm->stop_fd = vm->rx_wake_fd = vm->metrics_fd = -1;
	assert_int_equal(vm_orch_init(vm), 0);
	vm->ncpus = NCPUS;
	vm->vcpus = calloc(NCPUS, sizeof(*vm->vcpus));
	assert_int_equal(vm_add_pause_hook(vm, &hook), 0);
	for (unsigned i = 0; i < NCPUS; i++) {
		vm->vcpus[i] = (struct vcpu){ .vm = vm, .index = i, .fd = FAKE_VM_FD,
					      .run = &runs[i] };
	}
	assert_int_equal(vm_start_paused(vm), 0);
	assert_true(husk_vm_is_paused(vm));
	assert_int_equal(nhook, 1);
	assert_int_equal(hook_log[0], 'P');
	atomic_store(&vm->running, true);
	for (unsigned i = 0; i < NCPUS; i++)
		pthread_create(&vm->vcpus[i].thread, NULL, fake_vcpu, &vm->vcpus[i]);
	for (int t = 0; t < 500 && vm->pause.parked != NCPUS; t++)
		usleep(1000);
	assert_int_equal(vm->pause.parked, NCPUS);
	usleep(20000);
	for (unsigned i = 0; i < NCPUS; i++)
		assert_int_equal(atomic_load(&guest_steps[i]), 0);	/* not one instruction */
	assert_int_equal(husk_vm_pause(vm), 0);	/* already paused: no-op */
	assert_int_equal(nhook, 1);
	assert_int_equal(vm_start_paused(vm), -EBUSY);	/* only before running */
	assert_int_equal(husk_vm_resume(vm), 0);
	assert_false(husk_vm_is_paused(vm));
	assert_int_equal(hook_log[1], 'R');
	for (int t = 0; t < 500 && (!atomic_load(&guest_steps[0]) || !atomic_load(&guest_steps[1]));
	     t++)
		usleep(1000);
	for (unsigned i = 0; i < NCPUS; i++)
		assert_true(atomic_load(&guest_steps[i]) > 0);
	atomic_store(&vm->stop_reason, STOP_SIGNAL);
	vm_pause_wake(vm);
	for (unsigned i = 0; i < NCPUS; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	free(vm->vcpus);
	vm_orch_destroy(vm);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_paused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
