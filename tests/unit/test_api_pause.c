// SPDX-License-Identifier: MIT
/*
 * Pause / resume, events and metrics on a VM without KVM: stand-in vCPU
 * threads run the real park point (vm_pause_point) the way vcpu_thread()
 * does after KVM_RUN returns EINTR, and the fake ioctl records
 * KVM_KVMCLOCK_CTRL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "fake_vm_ioctl.h"
#include "vmm/vm.h"

#define NCPUS 3

static atomic_int kvmclock_ctrl_calls;
static atomic_int other_ioctls;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	(void)arg;
	if (request == KVM_KVMCLOCK_CTRL)
		atomic_fetch_add(&kvmclock_ctrl_calls, 1);
	else
		atomic_fetch_add(&other_ioctls, 1);
	return 0;
}

struct fixture {
	struct husk_vm *vm;
	struct kvm_run runs[NCPUS];
	atomic_uint_fast64_t spins[NCPUS];	/* "guest progress" while running */
	char events_path[64];
	struct husk_events *events;
	int hook_log[8];
	int nhook;
	struct vm_pause_hook hook;
};

static struct fixture *current;

/* What vcpu_thread() does, with KVM_RUN replaced by a short spin. */
static void *fake_vcpu(void *arg)
{
	struct vcpu *v = arg;
	unsigned i = v->index;

	while (!vm_stopping(v->vm)) {
		counter_add(&current->spins[i], 1);
		if (__atomic_load_n(&v->run->immediate_exit, __ATOMIC_ACQUIRE)) {	/* "KVM_RUN returned EINTR" */
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
			atomic_thread_fence(memory_order_seq_cst);
			vm_pause_point(v->vm, v);
		}
		counter_add(&v->exits->n[VCPU_EXIT_IO_OUT], 1);
		usleep(100);
	}
	return NULL;
}

static void hook_pause(void *ctx)
{
	struct fixture *f = ctx;

	/* every vCPU is parked when devices are paused */
	assert_int_equal(f->vm->pause.parked, NCPUS);
	f->hook_log[f->nhook++ % 8] = 'P';
}

static void hook_resume(void *ctx)
{
	struct fixture *f = ctx;

	f->hook_log[f->nhook++ % 8] = 'R';
}

static void no_op(int sig)
{
	(void)sig;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct husk_vm *vm = calloc(1, sizeof(*vm));
	char err[256];

	signal(SIGUSR1, no_op);
	current = f;
	snprintf(f->events_path, sizeof(f->events_path), "/tmp/husk-events-%d", getpid());
	unlink(f->events_path);
	if (events_open(f->events_path, &f->events, err, sizeof(err)) < 0)
		return -1;
	vm->cfg.events = f->events;
	vm->stop_fd = vm->rx_wake_fd = vm->metrics_fd = -1;
	if (vm_orch_init(vm) < 0)
		return -1;
	vm->ncpus = NCPUS;
	vm->vcpus = calloc(NCPUS, sizeof(*vm->vcpus));
	f->hook = (struct vm_pause_hook){ .pause = hook_pause, .resume = hook_resume, .ctx = f };
	assert_int_equal(vm_add_pause_hook(vm, &f->hook), 0);
	for (unsigned i = 0; i < NCPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->index = i;
		v->fd = FAKE_VM_FD;
		v->run = &f->runs[i];
		v->exits = aligned_alloc(64, 128);
		memset(v->exits, 0, 128);
		pthread_create(&v->thread, NULL, fake_vcpu, v);
		v->thread_started = true;
	}
	atomic_store(&vm->running, true);
	f->vm = vm;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct husk_vm *vm = f->vm;

	atomic_store(&vm->stop_reason, STOP_SIGNAL);
	vm_pause_wake(vm);
	for (unsigned i = 0; i < NCPUS; i++) {
		pthread_join(vm->vcpus[i].thread, NULL);
		free(vm->vcpus[i].exits);
	}
	free(vm->vcpus);
	vm_orch_destroy(vm);
	free(vm);
	events_close(f->events);
	unlink(f->events_path);
	free(f);
	return 0;
}

static uint64_t total_spins(struct fixture *f)
{
	uint64_t n = 0;

	for (int i = 0; i < NCPUS; i++)
		n += counter_get(&f->spins[i]);
	return n;
}

static void test_pause_parks_every_vcpu(void **state)
{
	struct fixture *f = *state;
	uint64_t before, during;

	atomic_store(&kvmclock_ctrl_calls, 0);
	usleep(20000);
	assert_false(husk_vm_is_paused(f->vm));
	assert_int_equal(husk_vm_pause(f->vm), 0);
	assert_true(husk_vm_is_paused(f->vm));
	assert_int_equal(atomic_load(&kvmclock_ctrl_calls), NCPUS);
	before = total_spins(f);
	usleep(50000);
	during = total_spins(f);
	assert_int_equal(before, during);	/* nothing runs while paused */
	assert_int_equal(husk_vm_pause(f->vm), 0);	/* again: no-op */
	assert_int_equal(atomic_load(&kvmclock_ctrl_calls), NCPUS);
	assert_int_equal(husk_vm_resume(f->vm), 0);
	assert_false(husk_vm_is_paused(f->vm));
	usleep(50000);
	assert_true(total_spins(f) > during);	/* and runs again */
	assert_int_equal(f->nhook, 2);
	assert_int_equal(f->hook_log[0], 'P');
	assert_int_equal(f->hook_log[1], 'R');
	assert_int_equal(husk_vm_resume(f->vm), 0);	/* not paused: no-op */
}

static void test_pause_resume_repeatedly(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 50; i++) {
		assert_int_equal(husk_vm_pause(f->vm), 0);
		assert_int_equal(f->vm->pause.parked, NCPUS);
		assert_int_equal(husk_vm_resume(f->vm), 0);
	}
	assert_int_equal(f->nhook, 100);
}

static void test_stop_wakes_parked_vcpus(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(husk_vm_pause(f->vm), 0);
	/* teardown stops the VM: the parked threads must see it and exit (join) */
	atomic_store(&f->vm->stop_reason, STOP_SIGNAL);
	vm_pause_wake(f->vm);
	for (unsigned i = 0; i < NCPUS; i++) {
		pthread_join(f->vm->vcpus[i].thread, NULL);
		pthread_create(&f->vm->vcpus[i].thread, NULL, fake_vcpu, &f->vm->vcpus[i]);
	}
	assert_int_equal(husk_vm_pause(f->vm), -EBUSY);	/* stopping: refused */
}

static void test_not_running_refused(void **state)
{
	struct fixture *f = *state;

	atomic_store(&f->vm->running, false);
	assert_int_equal(husk_vm_pause(f->vm), -EBUSY);
	assert_int_equal(husk_vm_request_shutdown(f->vm), -EBUSY);
	atomic_store(&f->vm->running, true);
}

static void test_events_in_order(void **state)
{
	struct fixture *f = *state;
	char line[512];
	const char *want[] = { "paused", "resumed", "guest-panic" };
	FILE *in;
	int n = 0;

	assert_int_equal(husk_vm_pause(f->vm), 0);
	assert_int_equal(husk_vm_resume(f->vm), 0);
	event_hook_emit(&f->vm->event_hook, "guest-panic", "pvpanic: \"oops\"");
	in = fopen(f->events_path, "r");
	assert_non_null(in);
	while (fgets(line, sizeof(line), in)) {
		struct json_object *o = json_tokener_parse(line), *v;

		assert_non_null(o);	/* every line is one JSON object */
		assert_true(n < 3);
		assert_true(json_object_object_get_ex(o, "event", &v));
		assert_string_equal(json_object_get_string(v), want[n]);
		assert_true(json_object_object_get_ex(o, "timestamp_us", &v));
		if (n == 2) {
			assert_true(json_object_object_get_ex(o, "detail", &v));
			assert_string_equal(json_object_get_string(v), "pvpanic: \"oops\"");
		}
		json_object_put(o);
		n++;
	}
	fclose(in);
	assert_int_equal(n, 3);
	events_emit_shutdown(f->events, "guest powered off", 0);
}

static void test_metrics_json(void **state)
{
	struct fixture *f = *state;
	struct dev_counters blk = { 0 };
	struct json_object *o, *vcpu, *v, *dev;
	char path[64];
	char *text;
	FILE *in;
	char line[4096];

	counter_add(&blk.requests, 7);
	counter_add(&blk.read_bytes, 4096);
	assert_int_equal(vm_add_metrics(f->vm, "block_rootfs", &blk), 0);
	for (int i = 0; i < 5000; i++) {	/* let every stand-in vCPU count an exit */
		bool all = true;

		for (int c = 0; c < NCPUS; c++)
			all = all && counter_get(&f->vm->vcpus[c].exits->n[VCPU_EXIT_IO_OUT]) > 0;
		if (all)
			break;
		usleep(1000);
	}
	assert_int_equal(husk_vm_pause(f->vm), 0);	/* stable counts */
	text = husk_vm_metrics_json(f->vm);
	assert_non_null(text);
	o = json_tokener_parse(text);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "vcpu", &vcpu));
	assert_true(json_object_object_get_ex(vcpu, "exit_io_out", &v));
	{
		uint64_t sum = 0;

		for (int i = 0; i < NCPUS; i++)
			sum += counter_get(&f->vm->vcpus[i].exits->n[VCPU_EXIT_IO_OUT]);
		assert_true(sum > 0);
		assert_int_equal(json_object_get_uint64(v), sum);
	}
	assert_true(json_object_object_get_ex(o, "vcpus", &v));
	assert_int_equal(json_object_array_length(v), NCPUS);
	assert_true(json_object_object_get_ex(o, "block_rootfs", &dev));
	assert_true(json_object_object_get_ex(dev, "requests", &v));
	assert_int_equal(json_object_get_uint64(v), 7);
	assert_true(json_object_object_get_ex(o, "utc_timestamp_ms", &v));
	json_object_put(o);
	free(text);

	/* FlushMetrics appends one line per flush */
	assert_int_equal(husk_vm_flush_metrics(f->vm), -ENOENT);
	snprintf(path, sizeof(path), "/tmp/husk-metrics-%d", getpid());
	unlink(path);
	f->vm->cfg.metrics_path = path;
	assert_int_equal(husk_vm_flush_metrics(f->vm), 0);
	assert_int_equal(husk_vm_flush_metrics(f->vm), 0);
	in = fopen(path, "r");
	assert_non_null(in);
	for (int i = 0; i < 2; i++) {
		assert_non_null(fgets(line, sizeof(line), in));
		o = json_tokener_parse(line);
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "block_rootfs", &v));
		json_object_put(o);
	}
	assert_null(fgets(line, sizeof(line), in));
	fclose(in);
	unlink(path);
	assert_int_equal(husk_vm_resume(f->vm), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pause_parks_every_vcpu),
		T(test_pause_resume_repeatedly),
		T(test_stop_wakes_parked_vcpus),
		T(test_not_running_refused),
		T(test_events_in_order),
		T(test_metrics_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
