// SPDX-License-Identifier: MIT
/* mptable_write(): MP spec 1.4 structures, parsed back as a guest would. */
#include <errno.h>

#include "test_boot_helpers.h"
#include "boot/mptable.h"

struct parsed {
	unsigned cpus, buses, ioapics, io_ints, local_ints;
	struct mp_processor cpu[256];
	struct mp_bus bus;
	struct mp_ioapic ioapic;
	struct mp_interrupt io[16], local[2];
};

/* Finds the floating pointer as Linux does (16-byte steps in the BIOS area). */
static struct mp_floating_pointer *find_mpf(struct tb *t)
{
	uint8_t *bios = tb_gpa(t, LAYOUT_BIOS_START, LAYOUT_BIOS_END - LAYOUT_BIOS_START);

	for (size_t off = 0; off < LAYOUT_BIOS_END - LAYOUT_BIOS_START; off += 16)
		if (memcmp(bios + off, "_MP_", 4) == 0 && tb_sum8(bios + off, 16) == 0)
			return (struct mp_floating_pointer *)(bios + off);
	return NULL;
}

static void parse_entry(struct parsed *p, const uint8_t **e)
{
	switch (**e) {
	case MP_ENTRY_PROCESSOR:
		memcpy(&p->cpu[p->cpus++], *e, sizeof(struct mp_processor));
		*e += sizeof(struct mp_processor);
		return;
	case MP_ENTRY_BUS:
		memcpy(&p->bus, *e, 8);
		p->buses++;
		break;
	case MP_ENTRY_IOAPIC:
		memcpy(&p->ioapic, *e, 8);
		p->ioapics++;
		break;
	case MP_ENTRY_IO_INTERRUPT:
		assert_true(p->io_ints < 16);
		memcpy(&p->io[p->io_ints++], *e, 8);
		break;
	case MP_ENTRY_LOCAL_INTERRUPT:
		assert_true(p->local_ints < 2);
		memcpy(&p->local[p->local_ints++], *e, 8);
		break;
	default:
		fail_msg("unknown MP entry type %u", **e);
	}
	*e += 8;
}

static void parse(struct tb *t, struct parsed *p)
{
	struct mp_floating_pointer *f = find_mpf(t);
	struct mp_config_header *h;
	const uint8_t *e, *end;

	memset(p, 0, sizeof(*p));
	assert_non_null(f);
	assert_int_equal((uint8_t *)f - (uint8_t *)tb_gpa(t, LAYOUT_BIOS_START, 1), 0);
	assert_int_equal(f->length, 1);
	assert_int_equal(f->spec_rev, 4);
	assert_int_equal(f->feature[0], 0);	/* a configuration table follows */
	assert_true(f->config_table >= LAYOUT_BIOS_START && f->config_table < LAYOUT_BIOS_END);
	h = tb_gpa(t, f->config_table, sizeof(*h));
	assert_memory_equal(h->signature, "PCMP", 4);
	assert_int_equal(h->spec_rev, 4);
	assert_true(f->config_table + h->base_length <= LAYOUT_BIOS_END);
	assert_int_equal(tb_sum8(tb_gpa(t, f->config_table, h->base_length), h->base_length), 0);
	assert_int_equal(h->lapic_addr, LAYOUT_LAPIC_BASE);
	assert_int_equal(h->ext_length, 0);
	assert_int_equal(h->oem_table, 0);
	e = (const uint8_t *)(h + 1);
	end = (const uint8_t *)h + h->base_length;
	for (unsigned i = 0; i < h->entry_count; i++) {
		assert_true(e < end);
		parse_entry(p, &e);
	}
	assert_ptr_equal(e, end);
}

static void check_table(unsigned ncpus)
{
	struct tb *t = tb_new(MIB(16));
	struct parsed *p = malloc(sizeof(*p));

	assert_int_equal(mptable_write(&t->mem, ncpus), 0);
	parse(t, p);
	assert_int_equal(p->cpus, ncpus);
	for (unsigned i = 0; i < ncpus; i++) {
		assert_int_equal(p->cpu[i].apic_id, i);
		assert_int_equal(p->cpu[i].flags, MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0));
		assert_int_equal(p->cpu[i].apic_version, 0x14);
	}
	assert_int_equal(p->buses, 1);
	assert_int_equal(p->bus.bus_id, 0);
	assert_memory_equal(p->bus.bus_type, "ISA   ", 6);
	assert_int_equal(p->ioapics, 1);
	assert_int_equal(p->ioapic.apic_id, ncpus);
	assert_int_equal(p->ioapic.version, 0x11);
	assert_int_equal(p->ioapic.flags, MP_IOAPIC_ENABLED);
	assert_int_equal(p->ioapic.addr, LAYOUT_IOAPIC_BASE);
	/* ISA IRQs 0, 1, 3..15; IRQ 0 on pin 2, the rest identity-mapped */
	assert_int_equal(p->io_ints, 15);
	for (unsigned i = 0; i < 15; i++) {
		const struct mp_interrupt *io = &p->io[i];
		unsigned irq = i < 2 ? i : i + 1;

		assert_int_equal(io->irq_type, MP_INT);
		assert_int_equal(io->src_bus, 0);
		assert_int_equal(io->src_irq, irq);
		assert_int_equal(io->dst_apic, ncpus);
		assert_int_equal(io->dst_pin, irq == 0 ? 2 : irq);
	}
	assert_int_equal(p->local_ints, 2);
	assert_int_equal(p->local[0].irq_type, MP_EXTINT);
	assert_int_equal(p->local[0].dst_pin, 0);
	assert_int_equal(p->local[0].dst_apic, 0xff);
	assert_int_equal(p->local[1].irq_type, MP_NMI);
	assert_int_equal(p->local[1].dst_pin, 1);
	assert_int_equal(p->local[1].dst_apic, 0xff);
	free(p);
	tb_free(t);
}

static void test_one_cpu(void **state)
{
	(void)state;
	check_table(1);
}

static void test_four_cpus(void **state)
{
	(void)state;
	check_table(4);
}

static void test_254_cpus_fit_the_bios_area(void **state)
{
	(void)state;
	check_table(254);
}

static void test_rewrite_with_fewer_cpus(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct parsed *p = malloc(sizeof(*p));

	(void)state;
	assert_int_equal(mptable_write(&t->mem, 200), 0);
	assert_int_equal(mptable_write(&t->mem, 2), 0);
	parse(t, p);
	assert_int_equal(p->cpus, 2);
	assert_int_equal(p->ioapic.apic_id, 2);
	free(p);
	tb_free(t);
}

static void test_bad_cpu_counts(void **state)
{
	struct tb *t = tb_new(MIB(16));
	uint8_t *bios = tb_gpa(t, LAYOUT_BIOS_START, 16);

	(void)state;
	assert_int_equal(mptable_write(&t->mem, 0), -EINVAL);
	assert_int_equal(mptable_write(&t->mem, 255), -EINVAL);
	assert_int_equal(mptable_write(&t->mem, 100000), -EINVAL);
	assert_int_equal(bios[0], 0);		/* nothing written */
	tb_free(t);
}

static void test_no_ram_for_the_table(void **state)
{
	struct tb *t = tb_new(KIB(512));

	(void)state;
	assert_int_equal(mptable_write(&t->mem, 1), -ENOMEM);
	tb_free(t);
}

static void test_checksums_detect_corruption(void **state)
{
	struct tb *t = tb_new(MIB(16));
	struct mp_floating_pointer *f;
	struct mp_config_header *h;

	(void)state;
	assert_int_equal(mptable_write(&t->mem, 2), 0);
	f = find_mpf(t);
	assert_non_null(f);
	h = tb_gpa(t, f->config_table, sizeof(*h));
	assert_int_equal(tb_sum8(h, h->base_length), 0);
	((uint8_t *)h)[sizeof(*h)]++;		/* first processor entry */
	assert_int_not_equal(tb_sum8(h, h->base_length), 0);
	f->spec_rev++;
	assert_null(find_mpf(t));
	tb_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),
		cmocka_unit_test(test_four_cpus),
		cmocka_unit_test(test_254_cpus_fit_the_bios_area),
		cmocka_unit_test(test_rewrite_with_fewer_cpus),
		cmocka_unit_test(test_bad_cpu_counts),
		cmocka_unit_test(test_no_ram_for_the_table),
		cmocka_unit_test(test_checksums_detect_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
