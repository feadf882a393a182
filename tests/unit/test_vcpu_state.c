// SPDX-License-Identifier: MIT
/*
 * The saved state of vCPUs and of KVM's VM-wide chips (cpu/vcpu_state.c,
 * devices/kvm_chips.c): encodings that round-trip byte for byte, every
 * truncation and hostile length refused; where /dev/kvm opens, a real
 * vCPU's and VM's state read, put back and read again unchanged, and the
 * MSR order a restore needs (TSC first, TSC_DEADLINE last, never zero).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/statebuf.h"
#include "cpu/vcpu_state.h"
#include "devices/kvm_chips.h"
#include "vmm/kvm.h"

static void fill(void *p, size_t n, unsigned seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7);
}

/* A state with every part and arbitrary bytes where the encoding allows them. */
static struct vcpu_state *sample_vcpu(void)
{
	struct vcpu_state *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	st->parts = VCPU_PART_ALL;
	st->mp.mp_state = KVM_MP_STATE_HALTED;
	fill(&st->regs, sizeof(st->regs), 1);
	fill(&st->sregs.cs, sizeof(st->sregs.cs), 2);
	st->sregs.cs.padding = 0;
	st->sregs.cr0 = 0x80050033;
	st->sregs.efer = 0xd01;
	st->sregs.interrupt_bitmap[1] = 1ull << 5;
	st->sregs.gdt.base = 0x500;
	st->sregs.gdt.limit = 0x2f;
	st->xsave_len = 4096 + 64;
	fill(st->xsave, st->xsave_len, 3);
	st->xcrs.nr_xcrs = 1;
	st->xcrs.xcrs[0].value = 7;
	st->dregs.dr7 = 0x400;
	st->dregs.dr6 = 0xffff0ff0;
	fill(st->lapic.regs, sizeof(st->lapic.regs), 4);
	st->events.exception.nr = 14;
	st->events.exception.error_code = 2;
	st->events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	st->events.exception_payload = 0xdead0000;
	st->tsc_khz = 2400000;
	st->nmsrs = 3;
	st->msrs[0] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC_INDEX, .data = 12345 };
	st->msrs[1] = (struct kvm_msr_entry){ .index = 0xc0000080, .data = 0xd01 };
	st->msrs[2] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC_DEADLINE_INDEX, .data = 99999 };
	return st;
}

static void test_vcpu_encoding(void **state)
{
	struct vcpu_state *st = sample_vcpu(), *back = calloc(1, sizeof(*back));
	struct state_writer w, w2;
	struct state_reader r;

	(void)state;
	sw_init(&w);
	vcpu_state_write(st, &w);
	assert_int_equal(w.err, 0);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(vcpu_state_read(&r, back), 0);
	assert_memory_equal(&back->regs, &st->regs, sizeof(st->regs));
	assert_int_equal(back->sregs.cr0, st->sregs.cr0);
	assert_int_equal(back->sregs.interrupt_bitmap[1], st->sregs.interrupt_bitmap[1]);
	assert_int_equal(back->xsave_len, st->xsave_len);
	assert_memory_equal(back->xsave, st->xsave, st->xsave_len);
	assert_memory_equal(back->lapic.regs, st->lapic.regs, sizeof(st->lapic.regs));
	assert_int_equal(back->events.exception_payload, st->events.exception_payload);
	assert_int_equal(back->nmsrs, 3);
	assert_int_equal(back->msrs[2].data, 99999);
	sw_init(&w2);
	vcpu_state_write(back, &w2);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	/* every truncation, and a byte too many, refused */
	for (size_t n = 0; n < w.len; n += (n < 64 || w.len - n < 64) ? 1 : 97) {
		sr_init(&r, w.buf, n);
		assert_int_equal(vcpu_state_read(&r, back), -EINVAL);
	}
	sw_u8(&w, 0);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(vcpu_state_read(&r, back), -EINVAL);
	sw_release(&w);
	sw_release(&w2);
	free(st);
	free(back);
}

/* Encode @st with one field made hostile; the read must refuse it, naming it. */
static void refuse_vcpu(struct vcpu_state *st, const char *why)
{
	struct vcpu_state *back = calloc(1, sizeof(*back));
	struct state_writer w;
	struct state_reader r;

	sw_init(&w);
	vcpu_state_write(st, &w);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(vcpu_state_read(&r, back), -EINVAL);
	if (!strstr(r.why, why))
		fail_msg("'%s' does not say '%s'", r.why, why);
	sw_release(&w);
	free(back);
}

/* Lengths a hostile file may claim: patched into a valid encoding. */
static void test_vcpu_hostile(void **state)
{
	struct vcpu_state *st = sample_vcpu();
	uint32_t huge = 0x7fffffff;
	struct state_writer w;
	struct state_reader r;
	size_t off;

	(void)state;
	st->parts |= 1u << 9;
	refuse_vcpu(st, "unknown state parts");
	st->parts = VCPU_PART_ALL;
	st->mp.mp_state = 77;
	refuse_vcpu(st, "MP state 77");
	st->mp.mp_state = 0;
	st->tsc_khz = 0;
	refuse_vcpu(st, "TSC rate of 0");
	st->tsc_khz = 1;
	/* the XSAVE length, the XCR count and the MSR count, each made huge */
	sw_init(&w);
	vcpu_state_write(st, &w);
	off = 4 + 4 + 18 * 8 + 8 * 23 + 2 * 10 + 7 * 8 + 4 * 8;	/* parts, mp, regs, sregs */
	memcpy(w.buf + off, &huge, 4);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(vcpu_state_read(&r, st), -EINVAL);
	assert_non_null(strstr(r.why, "XSAVE area of"));
	sw_release(&w);
	free(st);
	st = sample_vcpu();
	sw_init(&w);
	vcpu_state_write(st, &w);
	memcpy(w.buf + w.len - 3 * 12 - 4, &huge, 4);		/* nmsrs */
	sr_init(&r, w.buf, w.len);
	assert_int_equal(vcpu_state_read(&r, st), -EINVAL);
	assert_non_null(strstr(r.why, "MSRs, at most"));
	sw_release(&w);
	free(st);
}

static void test_chips_encoding(void **state)
{
	struct kvm_chips_state st, back;
	struct state_writer w, w2;
	struct state_reader r;

	(void)state;
	memset(&st, 0, sizeof(st));
	fill(&st.pic[0], sizeof(st.pic[0]), 5);
	fill(&st.pic[1], sizeof(st.pic[1]), 6);
	st.ioapic.base_address = 0xfec00000;
	st.ioapic.id = 2;
	for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		st.ioapic.redirtbl[i].bits = 0x10000 | i;
	st.pit.channels[0].count = 0x10000;
	st.pit.channels[0].mode = 2;
	st.pit.channels[2].gate = 1;
	st.pit.channels[1].count_load_time = -5;
	st.pit.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	st.clock.clock = 123456789;
	st.clock.flags = KVM_CLOCK_REALTIME;
	st.clock.realtime = 42;
	sw_init(&w);
	kvm_chips_write(&st, &w);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(kvm_chips_read(&r, &back), 0);
	assert_memory_equal(&back.pic, &st.pic, sizeof(st.pic));
	assert_int_equal(back.ioapic.redirtbl[23].bits, 0x10017);
	assert_int_equal(back.pit.channels[1].count_load_time, -5);
	assert_int_equal(back.clock.clock, 123456789);
	sw_init(&w2);
	kvm_chips_write(&back, &w2);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	for (size_t n = 0; n < w.len; n++) {
		sr_init(&r, w.buf, n);
		assert_int_equal(kvm_chips_read(&r, &back), -EINVAL);
	}
	sw_release(&w);
	sw_release(&w2);
	/* a PIT count past 65536 and unknown PIT flags */
	st.pit.channels[1].count = 0x10001;
	sw_init(&w);
	kvm_chips_write(&st, &w);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(kvm_chips_read(&r, &back), -EINVAL);
	assert_non_null(strstr(r.why, "PIT channel 1: count"));
	sw_release(&w);
	st.pit.channels[1].count = 1;
	st.pit.flags = 0x80;
	sw_init(&w);
	kvm_chips_write(&st, &w);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(kvm_chips_read(&r, &back), -EINVAL);
	assert_non_null(strstr(r.why, "unknown flags"));
	sw_release(&w);
}

/* A real VM and vCPU: get, set, get again gives the same state. */
static void test_kvm_round_trip(void **state)
{
	struct kvm k = { .sys_fd = -1, .vm_fd = -1 };
	struct vcpu_state *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct kvm_chips_state ca, cb;
	struct vcpu_state_caps caps;
	const char *what;
	char err[256];
	int fd, deadline = -1, tsc = -1;

	(void)state;
	if (access("/dev/kvm", R_OK | W_OK) || kvm_open(&k, err, sizeof(err))) {
		free(a);
		free(b);
		kvm_close(&k);
		skip();
	}
	assert_int_equal(kvm_create_vm(&k, err, sizeof(err)), 0);
	fd = ioctl(k.vm_fd, KVM_CREATE_VCPU, 0UL);
	assert_true(fd >= 0);
	vcpu_state_caps_probe(k.vm_fd, &caps);
	if (vcpu_state_get(fd, &caps, k.msr_list, a, &what))
		fail_msg("get: %s: %s", what, strerror(errno));
	assert_true(a->nmsrs > 0);
	for (uint32_t i = 0; i < a->nmsrs; i++) {
		if (a->msrs[i].index == MSR_IA32_TSC_INDEX)
			tsc = (int)i;
		if (a->msrs[i].index == MSR_IA32_TSC_DEADLINE_INDEX)
			deadline = (int)i;
	}
	if (tsc >= 0)
		assert_int_equal(tsc, 0);
	if (deadline >= 0) {
		assert_int_equal(deadline, (int)a->nmsrs - 1);
		assert_true(a->msrs[deadline].data != 0);	/* a zero one is saved as the TSC */
	}
	if (vcpu_state_set(fd, &caps, a, &what))
		fail_msg("set: %s", what);
	assert_int_equal(vcpu_state_get(fd, &caps, k.msr_list, b, &what), 0);
	assert_memory_equal(&b->regs, &a->regs, sizeof(a->regs));
	assert_int_equal(b->sregs.cr0, a->sregs.cr0);
	assert_int_equal(b->sregs.cs.selector, a->sregs.cs.selector);
	assert_memory_equal(b->lapic.regs + 0x20, a->lapic.regs + 0x20, 4);	/* APIC ID */
	assert_int_equal(b->nmsrs, a->nmsrs);
	assert_int_equal(b->mp.mp_state, a->mp.mp_state);
	/* a state with a part this KVM lacks is refused before any ioctl */
	a->parts |= ~caps.parts & VCPU_PART_ALL;
	if (a->parts != caps.parts) {
		assert_int_equal(vcpu_state_set(fd, &caps, a, &what), -EOPNOTSUPP);
	}
	/* the VM-wide chips */
	assert_int_equal(kvm_chips_get(k.vm_fd, &ca, &what), 0);
	assert_int_equal(kvm_chips_set(k.vm_fd, &ca, false, &what), 0);
	assert_int_equal(kvm_chips_get(k.vm_fd, &cb, &what), 0);
	assert_memory_equal(&cb.pic, &ca.pic, sizeof(ca.pic));
	assert_int_equal(cb.ioapic.id, ca.ioapic.id);
	assert_true(cb.clock.clock >= ca.clock.clock);
	close(fd);
	kvm_close(&k);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_encoding),
		cmocka_unit_test(test_vcpu_hostile),
		cmocka_unit_test(test_chips_encoding),
		cmocka_unit_test(test_kvm_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
