// SPDX-License-Identifier: MIT
/*
 * The API after boot, on a stand-in VM (no KVM): stand-in vCPU threads run
 * the real park point; the server is given the VM as main() does after a
 * boot from flags. Pre-boot calls are 400, PATCH /vm pauses and resumes,
 * GET /metrics and FlushMetrics report the VM, Shutdown reaches the event
 * loop's eventfd, and a detached (stopped) VM is refused, never touched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <cmocka.h>

#include "fake_vm_ioctl.h"
#include "api/api.h"
#include "api_client.h"
#include "vmm/vm.h"

#define NCPUS 2

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	(void)request, (void)arg;
	return 0;
}

struct fixture {
	char dir[64], sock[96], metrics[96];
	struct husk_config cfg;
	struct orch_options orch;
	enum log_level level;
	struct str_arena arena;
	struct api_server *api;
	struct husk_vm *vm;
	struct kvm_run runs[NCPUS];
};

static void *fake_vcpu(void *arg)
{
	struct vcpu *v = arg;

	while (!vm_stopping(v->vm)) {
		if (__atomic_load_n(&v->run->immediate_exit, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
			atomic_thread_fence(memory_order_seq_cst);
			vm_pause_point(v->vm, v);
		}
		counter_add(&v->exits->n[VCPU_EXIT_MMIO_WRITE], 1);
		usleep(100);
	}
	return NULL;
}

static void no_op(int sig)
{
	(void)sig;
}

static struct husk_vm *fake_vm(struct fixture *f)
{
	struct husk_vm *vm = calloc(1, sizeof(*vm));

	vm->cfg = f->cfg;
	vm->stop_fd = vm->rx_wake_fd = vm->metrics_fd = -1;
	assert_int_equal(vm_orch_init(vm), 0);
	vm->ncpus = NCPUS;
	vm->vcpus = calloc(NCPUS, sizeof(*vm->vcpus));
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
	return vm;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct api_params p;
	char err[256];

	signal(SIGUSR1, no_op);
	snprintf(f->dir, sizeof(f->dir), "/tmp/husk-apib-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
	snprintf(f->metrics, sizeof(f->metrics), "%s/metrics", f->dir);
	husk_config_init(&f->cfg);
	f->cfg.kernel = "/booted/from/flags";
	f->cfg.cpus = NCPUS;
	f->cfg.metrics_path = f->metrics;
	f->level = LOG_INFO;
	p = (struct api_params){
		.sock_path = f->sock,
		.target = { .cfg = &f->cfg, .orch = &f->orch, .log_level = &f->level,
			    .arena = &f->arena },
	};
	if (api_start(&p, &f->api, err, sizeof(err)) < 0)
		return -1;
	f->vm = fake_vm(f);
	api_attach_vm(f->api, f->vm);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct husk_vm *vm = f->vm;

	vm_request_stop(vm, STOP_SIGNAL, 0);
	for (unsigned i = 0; i < NCPUS; i++) {
		pthread_join(vm->vcpus[i].thread, NULL);
		free(vm->vcpus[i].exits);
	}
	api_detach_vm(f->api);
	api_stop(f->api);
	free(vm->vcpus);
	vm_orch_destroy(vm);
	free(vm);
	unlink(f->metrics);
	rmdir(f->dir);
	arena_free(&f->arena);
	free(f);
	return 0;
}

static void expect(struct fixture *f, const char *method, const char *path, const char *json,
		   int status, const char *in_body)
{
	char body[8192];
	int got = http(f->sock, method, path, json, body, sizeof(body));

	if (got != status || (in_body && !strstr(body, in_body)))
		fail_msg("%s %s %s: got %d '%s', expected %d with '%s'", method, path,
			 json ? json : "", got, body, status, in_body ? in_body : "");
}

#define AFTER "not supported after starting the microVM"

static void test_preboot_calls_refused(void **state)
{
	struct fixture *f = *state;

	expect(f, "GET", "/", NULL, 200, "\"state\":\"Running\"");
	expect(f, "PUT", "/boot-source", "{\"kernel_image_path\":\"k\"}", 400, AFTER);
	expect(f, "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}", 400, AFTER);
	expect(f, "PATCH", "/machine-config", "{\"vcpu_count\":1}", 400, AFTER);
	expect(f, "PUT", "/drives/a", "{\"drive_id\":\"a\",\"path_on_host\":\"x\"}", 400, AFTER);
	expect(f, "PUT", "/network-interfaces/e", "{\"iface_id\":\"e\",\"host_dev_name\":\"t\"}",
	       400, AFTER);
	expect(f, "PUT", "/logger", "{\"level\":\"Debug\"}", 400, AFTER);
	expect(f, "PUT", "/metrics", "{\"metrics_path\":\"/tmp/x\"}", 400, AFTER);
	expect(f, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400, AFTER);
	expect(f, "GET", "/machine-config", NULL, 200, "\"vcpu_count\":2");
	expect(f, "GET", "/vm/config", NULL, 200, "/booted/from/flags");
	assert_int_equal(f->cfg.ndisks, 0);
	assert_int_equal(f->level, LOG_INFO);
}

static void test_patch_vm(void **state)
{
	struct fixture *f = *state;

	expect(f, "PATCH", "/vm", "{\"state\":\"Paused\"}", 204, NULL);
	assert_true(husk_vm_is_paused(f->vm));
	assert_int_equal(f->vm->pause.parked, NCPUS);
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Paused\"");
	expect(f, "GET", "/metrics", NULL, 200, "\"paused\":true");
	expect(f, "PATCH", "/vm", "{\"state\":\"Paused\"}", 204, NULL);
	expect(f, "PATCH", "/vm", "{\"state\":\"Resumed\"}", 204, NULL);
	assert_false(husk_vm_is_paused(f->vm));
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Running\"");
	expect(f, "PATCH", "/vm", "{\"state\":\"Resumed\"}", 204, NULL);
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	char line[8192];
	FILE *in;

	usleep(10000);
	expect(f, "GET", "/metrics", NULL, 200, "\"exit_mmio_write\"");
	expect(f, "GET", "/metrics", NULL, 200, "\"api_server\":{\"requests\":");
	expect(f, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 204, NULL);
	expect(f, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 204, NULL);
	in = fopen(f->metrics, "r");
	assert_non_null(in);
	assert_non_null(fgets(line, sizeof(line), in));
	assert_non_null(strstr(line, "\"vcpu\":{\"exit_io_in\":"));
	assert_non_null(fgets(line, sizeof(line), in));
	assert_null(fgets(line, sizeof(line), in));
	fclose(in);
}

static void test_shutdown_reaches_event_loop(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0;

	expect(f, "PATCH", "/vm", "{\"state\":\"Paused\"}", 204, NULL);
	expect(f, "PUT", "/actions", "{\"action_type\":\"Shutdown\"}", 204, NULL);
	assert_false(husk_vm_is_paused(f->vm));	/* resumed so the guest can answer */
	assert_int_equal(read(f->vm->shutdown_fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	expect(f, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 204, NULL);
	assert_int_equal(read(f->vm->shutdown_fd, &v, sizeof(v)), sizeof(v));
}

static void test_stopped_vm_refused(void **state)
{
	struct fixture *f = *state;

	vm_request_stop(f->vm, STOP_SYSTEM_SHUTDOWN, 0);
	expect(f, "PATCH", "/vm", "{\"state\":\"Paused\"}", 400, "not running");
	expect(f, "PUT", "/actions", "{\"action_type\":\"Shutdown\"}", 400, "not running");
	api_detach_vm(f->api);
	expect(f, "GET", "/", NULL, 200, "\"state\":\"Stopped\"");
	expect(f, "PATCH", "/vm", "{\"state\":\"Resumed\"}", 400, "not running");
	expect(f, "GET", "/metrics", NULL, 200, "\"api_server\"");
	expect(f, "PUT", "/boot-source", "{\"kernel_image_path\":\"k\"}", 400, AFTER);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_preboot_calls_refused),
		T(test_patch_vm),
		T(test_metrics),
		T(test_shutdown_reaches_event_loop),
		T(test_stopped_vm_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
