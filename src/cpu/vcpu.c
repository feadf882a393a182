// SPDX-License-Identifier: MIT
/* vCPU threads: KVM_RUN loop and exit dispatch. */
#include "cpu/vcpu.h"
#include "core/log.h"
#include "cpu/cpuid.h"
#include "sandbox/seccomp.h"
#include "vmm/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VCPU_KICK_SIGNAL SIGUSR1
#define CACHE_LINE 64

/* Firecracker's names where it has them (exit_io_in ... failures). */
const char *const vcpu_exit_names[VCPU_EXIT_KINDS] = {
	[VCPU_EXIT_IO_IN] = "exit_io_in",	[VCPU_EXIT_IO_OUT] = "exit_io_out",
	[VCPU_EXIT_MMIO_READ] = "exit_mmio_read", [VCPU_EXIT_MMIO_WRITE] = "exit_mmio_write",
	[VCPU_EXIT_HLT] = "exit_hlt",		[VCPU_EXIT_INTR] = "exit_intr",
	[VCPU_EXIT_IRQ_WINDOW] = "exit_irq_window", [VCPU_EXIT_SHUTDOWN] = "exit_shutdown",
	[VCPU_EXIT_SYSTEM_EVENT] = "exit_system_event", [VCPU_EXIT_FAILURE] = "failures",
	[VCPU_EXIT_OTHER] = "exit_other",
};

static void vcpu_count_exit(struct vcpu *v, enum vcpu_exit_kind kind)
{
	atomic_fetch_add_explicit(&v->exits->n[kind], 1, memory_order_relaxed);
}

static int vcpu_alloc_stats(struct vcpu *v)
{
	size_t size = (sizeof(*v->exits) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;

	v->exits = aligned_alloc(CACHE_LINE, size);
	if (!v->exits)
		return -ENOMEM;
	memset(v->exits, 0, size);
	return 0;
}

int vcpu_create(struct vcpu *v, struct husk_vm *vm, unsigned index, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->index = index;
	if (vcpu_alloc_stats(v)) {
		v->fd = -1;
		snprintf(err, errlen, "vCPU %u: %s", index, strerror(ENOMEM));
		return -ENOMEM;
	}
	v->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		snprintf(err, errlen, "vCPU %u: KVM_CREATE_VCPU: %s", index, strerror(errno));
		return -errno;
	}
	v->run_size = (size_t)vm->kvm.vcpu_mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		snprintf(err, errlen, "vCPU %u: mmap kvm_run: %s", index, strerror(errno));
		return -errno;
	}
	return 0;
}

static int vcpu_set_cpuid(struct vcpu *v)
{
	struct cpuid_topology topo = {
		.cpu_index = v->index,
		.ncpus = v->vm->ncpus,
		.tsc_deadline = v->vm->kvm.tsc_deadline,
	};
	struct kvm_cpuid2 *c;
	int ret = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);

	topo.tsc_khz = ret > 0 ? (uint32_t)ret : 0;
	ret = 0;
	c = cpuid_build(v->vm->kvm.supported, &topo);

	if (!c)
		return -ENOMEM;
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

int vcpu_configure(struct vcpu *v, const struct boot_entry *entry, char *err, size_t errlen)
{
	const char *what = "KVM_SET_CPUID2";
	int ret = vcpu_set_cpuid(v);

	if (!ret) {
		what = "KVM_SET_MSRS";
		ret = msrs_set_boot(v->fd, v->vm);
	}
	if (!ret) {
		what = "KVM_SET_LAPIC";
		ret = lapic_set_lint(v->fd);
	}
	if (!ret && v->index == 0) {	/* APs wait for INIT/SIPI in the kernel */
		what = "boot registers";
		ret = regs_set_boot(v->fd, entry);
	}
	if (ret)
		snprintf(err, errlen, "vCPU %u: %s: %s", v->index, what, strerror(-ret));
	return ret;
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t size = run->io.size;

	/* data_offset and count come from KVM, bounded by the run page */
	if (run->io.data_offset + (uint64_t)size * run->io.count > v->run_size)
		return;
	vcpu_count_exit(v, run->io.direction == KVM_EXIT_IO_OUT ? VCPU_EXIT_IO_OUT : VCPU_EXIT_IO_IN);
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			iobus_write(v->vm->pio, run->io.port, data, size);
		else
			iobus_read(v->vm->pio, run->io.port, data, size);
	}
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len;

	vcpu_count_exit(v, run->mmio.is_write ? VCPU_EXIT_MMIO_WRITE : VCPU_EXIT_MMIO_READ);
	if (len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		iobus_write(v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		iobus_read(v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static void vcpu_fail(struct vcpu *v, const char *what)
{
	pr_err("vCPU %u: %s", v->index, what);
	vcpu_count_exit(v, VCPU_EXIT_FAILURE);
	regs_dump(v->fd, v->index);
	vm_request_stop(v->vm, STOP_ERROR, HUSK_EXIT_VMM_ERROR);
}

static void vcpu_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg), "KVM internal error, suberror %u%s", run->internal.suberror,
		     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		     " (instruction emulation failed)" : "");
	for (uint32_t i = 0; i < run->internal.ndata && i < 4 && n > 0 &&
	     (size_t)n < sizeof(msg); i++)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " data[%u]=%llx", i,
			      (unsigned long long)run->internal.data[i]);
	vcpu_fail(v, msg);
}

static void vcpu_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, STOP_SYSTEM_SHUTDOWN, HUSK_EXIT_OK);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(v->vm, STOP_SYSTEM_RESET, HUSK_EXIT_OK);
		break;
	default:
		vcpu_fail(v, "KVM system event (crash)");
		break;
	}
}

/* Returns false when the vCPU loop must end. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	char msg[64];

	switch (v->run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		vcpu_count_exit(v, VCPU_EXIT_INTR);
		return true;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		vcpu_count_exit(v, VCPU_EXIT_IRQ_WINDOW);
		return true;
	case KVM_EXIT_HLT:
		vcpu_count_exit(v, VCPU_EXIT_HLT);
		vm_request_stop(v->vm, STOP_HALT, HUSK_EXIT_OK);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_count_exit(v, VCPU_EXIT_SHUTDOWN);
		vm_request_stop(v->vm, STOP_TRIPLE_FAULT, HUSK_EXIT_OK);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_count_exit(v, VCPU_EXIT_SYSTEM_EVENT);
		vcpu_system_event(v);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_internal_error(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "KVM entry failed, reason 0x%llx",
			 (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
		vcpu_fail(v, msg);
		return false;
	default:
		vcpu_count_exit(v, VCPU_EXIT_OTHER);
		snprintf(msg, sizeof(msg), "unexpected KVM exit reason %u", v->run->exit_reason);
		vcpu_fail(v, msg);
		return false;
	}
}

/*
 * Halt probe: the event loop kicks every vCPU periodically; a vCPU that is
 * halted with interrupts disabled can never run again (nothing but NMI/INIT
 * would wake it, and husk sends neither), so when all are, the guest halted.
 */
static void vcpu_answer_probe(struct vcpu *v)
{
	unsigned gen = atomic_load(&v->probe_gen);
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	bool dead = false;

	if (gen == atomic_load(&v->probe_done))
		return;
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0) {
		if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED)
			dead = true;	/* an AP nobody started */
		else if (mp.mp_state == KVM_MP_STATE_HALTED &&
			 ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
			dead = !(regs.rflags & (1u << 9));
	}
	atomic_store(&v->probe_dead, dead);
	atomic_store(&v->probe_done, gen);
	vm_halt_probe_answered(v->vm, gen);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	if (sandbox_enter(v->sandbox, SANDBOX_VCPU) < 0) {
		vcpu_fail(v, "cannot enter its seccomp filter");
		return NULL;
	}
	while (!vm_stopping(v->vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				char msg[64];

				snprintf(msg, sizeof(msg), "KVM_RUN: %s", strerror(errno));
				vcpu_fail(v, msg);
				break;
			}
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
			/* order the clear before re-reading the stop flag: a kick after it re-arms */
			atomic_thread_fence(memory_order_seq_cst);
			vcpu_count_exit(v, VCPU_EXIT_INTR);
			vcpu_answer_probe(v);
			vm_pause_point(v->vm, v);	/* parks here while the VM is paused */
			continue;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN */
}

int vcpu_start(struct vcpu *v)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns EINTR */
	ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (ret)
		return -ret;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->thread_started || !v->run)
		return;
	/* read by KVM at KVM_RUN entry and by the vCPU thread: not a plain store */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (v->thread_started)
		pthread_join(v->thread, NULL);
	v->thread_started = false;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v->exits);
	v->exits = NULL;
	v->run = NULL;
	v->fd = -1;
}
