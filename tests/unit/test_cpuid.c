// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/cpuid.h"

/* A small "supported" table shaped like KVM's answer on an Intel host. */
static struct kvm_cpuid2 *make_supported(uint32_t max_basic, bool with_brand, bool with_kvm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 32 * sizeof(c->entries[0]));
	struct kvm_cpuid_entry2 *e = c->entries;

	e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = max_basic,
		.ebx = 0x756e6547, .edx = 0x49656e69, .ecx = 0x6c65746e };	/* GenuineIntel */
	e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x806c1,
		.ebx = 0xff0000ff, .ecx = (1u << 5) | 1u, .edx = 0 };
	e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = (3u << 5) | 0x3 };
	e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0xa, .eax = 0x07300805,
		.ebx = 1, .edx = 0x603 };
	if (max_basic >= 0xb) {
		e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
			.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1, .ebx = 2, .ecx = 0x100 };
		e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1,
			.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 4, .ebx = 16, .ecx = 0x201 };
	}
	e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x80000000u, .eax = 0x80000008u };
	e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x80000001u, .ecx = 0x4 | 0x1 };
	if (with_brand) {
		const char *b = "Host CPU @ 3.00GHz";
		char buf[48] = { 0 };

		strcpy(buf, b);
		for (int i = 0; i < 3; i++) {
			struct kvm_cpuid_entry2 x = { .function = 0x80000002u + i };

			memcpy(&x.eax, buf + i * 16, 16);
			e[c->nent++] = x;
		}
	}
	if (with_kvm) {
		e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001 };
		e[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x01007afb };
	}
	return c;
}

static void test_leaf1_per_vcpu(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, true);
	struct cpuid_topology t = { .cpu_index = 3, .ncpus = 4, .tsc_deadline = true };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 1, 0);

	(void)state;
	assert_non_null(e);
	assert_int_equal(e->ebx >> 24, 3);		/* APIC ID */
	assert_int_equal((e->ebx >> 16) & 0xff, 4);	/* logical processors */
	assert_int_equal((e->ebx >> 8) & 0xff, 8);	/* CLFLUSH 64 bytes */
	assert_true(e->ecx & (1u << 31));		/* hypervisor */
	assert_false(e->ecx & (1u << 5));		/* no VMX for the guest */
	assert_true(e->ecx & (1u << 24));		/* TSC deadline */
	assert_true(e->edx & (1u << 28));		/* HTT with >1 CPU */
	assert_true(e->ecx & 1u);			/* other features kept */
	free(c);
	free(sup);
}

static void test_single_cpu_no_htt(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, true);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 1 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 1, 0);

	(void)state;
	assert_false(e->edx & (1u << 28));
	assert_false(e->ecx & (1u << 24));		/* no TSC deadline unless KVM has it */
	free(c);
	free(sup);
}

static void test_topology_leaf_b(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, true);
	struct cpuid_topology t = { .cpu_index = 2, .ncpus = 3 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);
	struct kvm_cpuid_entry2 *smt = cpuid_find(c, 0xb, 0);
	struct kvm_cpuid_entry2 *core = cpuid_find(c, 0xb, 1);
	struct kvm_cpuid_entry2 *end = cpuid_find(c, 0xb, 2);

	(void)state;
	assert_non_null(smt);
	assert_non_null(core);
	assert_non_null(end);
	assert_int_equal(smt->eax, 0);
	assert_int_equal(smt->ebx, 1);
	assert_int_equal(smt->ecx, 0x100);
	assert_int_equal(smt->edx, 2);
	assert_int_equal(core->eax, 2);		/* ceil(log2(3)) */
	assert_int_equal(core->ebx, 3);
	assert_int_equal(core->ecx, 0x201);
	assert_int_equal(core->edx, 2);
	assert_int_equal(end->ecx & 0xff00, 0);	/* invalid level ends the list */
	free(c);
	free(sup);
}

static void test_leaf4_cores(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, true);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 4 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 4, 3);

	(void)state;
	assert_int_equal(e->eax >> 26, 3);		/* 4 cores per package */
	assert_int_equal((e->eax >> 14) & 0xfff, 3);	/* L3 shared by 4 */
	assert_int_equal(e->eax & 0x1f, 3);		/* cache type kept */
	free(c);
	free(sup);
}

static void test_pmu_hidden_svm_cleared(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, true);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 1 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);
	struct kvm_cpuid_entry2 *pmu = cpuid_find(c, 0xa, 0);
	struct kvm_cpuid_entry2 *ext = cpuid_find(c, 0x80000001u, 0);

	(void)state;
	assert_int_equal(pmu->eax | pmu->ebx | pmu->ecx | pmu->edx, 0);
	assert_int_equal(ext->ecx, 0x1);
	free(c);
	free(sup);
}

static void test_kvm_signature_added(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, false);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 1 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0x40000000, 0);
	char sig[13] = { 0 };

	(void)state;
	assert_non_null(e);
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_memory_equal(sig, "KVMKVMKVM\0\0\0", 12);
	assert_true(e->eax >= 0x40000001);
	assert_non_null(cpuid_find(c, 0x40000001, 0));
	free(c);
	free(sup);
}

/* The TSC and APIC bus rates in the hypervisor timing leaf; none when the rate is unknown. */
static void test_timing_leaf(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, false);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 1, .tsc_khz = 2445430 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t), *none;
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0x40000010, 0);

	(void)state;
	assert_non_null(e);
	assert_int_equal(e->eax, 2445430);
	assert_int_equal(e->ebx, 1000000);
	assert_int_equal(cpuid_find(c, 0x40000000, 0)->eax, 0x40000010);
	t.tsc_khz = 0;
	none = cpuid_build(sup, &t);
	assert_null(cpuid_find(none, 0x40000010, 0));
	assert_int_equal(cpuid_find(none, 0x40000000, 0)->eax, 0x40000001);
	free(none);
	free(c);
	free(sup);
}

static void test_kvm_features_kept(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0xd, true, true);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 1 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);

	(void)state;
	assert_int_equal(cpuid_find(c, 0x40000001, 0)->eax, 0x01007afb);	/* kvm-clock etc. */
	free(c);
	free(sup);
}

static void brand_of(struct kvm_cpuid2 *c, char out[49])
{
	memset(out, 0, 49);
	for (int i = 0; i < 3; i++)
		memcpy(out + i * 16, &cpuid_find(c, 0x80000002u + i, 0)->eax, 16);
}

static void test_brand(void **state)
{
	struct kvm_cpuid2 *host = make_supported(0xd, true, true);
	struct kvm_cpuid2 *bare = make_supported(0xd, false, true);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 1 };
	struct kvm_cpuid2 *a = cpuid_build(host, &t), *b = cpuid_build(bare, &t);
	char brand[49];

	(void)state;
	brand_of(a, brand);
	assert_string_equal(brand, "Host CPU @ 3.00GHz");
	brand_of(b, brand);
	assert_string_equal(brand, CPUID_BRAND_DEFAULT);
	assert_true(cpuid_find(b, 0x80000000u, 0)->eax >= 0x80000004u);
	free(a);
	free(b);
	free(host);
	free(bare);
}

static void test_no_leaf_b_when_max_basic_low(void **state)
{
	struct kvm_cpuid2 *sup = make_supported(0x7, true, true);
	struct cpuid_topology t = { .cpu_index = 0, .ncpus = 2 };
	struct kvm_cpuid2 *c = cpuid_build(sup, &t);

	(void)state;
	assert_null(cpuid_find(c, 0xb, 0));
	free(c);
	free(sup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf1_per_vcpu),
		cmocka_unit_test(test_single_cpu_no_htt),
		cmocka_unit_test(test_topology_leaf_b),
		cmocka_unit_test(test_leaf4_cores),
		cmocka_unit_test(test_pmu_hidden_svm_cleared),
		cmocka_unit_test(test_kvm_signature_added),
		cmocka_unit_test(test_timing_leaf),
		cmocka_unit_test(test_kvm_features_kept),
		cmocka_unit_test(test_brand),
		cmocka_unit_test(test_no_leaf_b_when_max_basic_low),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
