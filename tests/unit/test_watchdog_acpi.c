// SPDX-License-Identifier: MIT
/*
 * The HA devices as ACPI describes them: the WDAT's bytes (checked as
 * Linux's acpi_watchdog.c and wdat_wdt.c read them), the table driving the
 * watchdog device through its own instructions, and the DSDT's pvpanic
 * device (QEMU0001, IO 0x505/1, _STA).
 */
#include "test_boot_helpers.h"
#include "boot/acpi.h"
#include "core/log.h"
#include "devices/devices.h"
#include "unit_helpers.h"

#define MS	1000000ULL

static const struct acpi_header *find_table(struct tb *t, const char *sig)
{
	const struct acpi_rsdp *r = tb_gpa(t, LAYOUT_ACPI_RSDP, sizeof(*r));
	const struct acpi_header *x = tb_gpa(t, r->xsdt_address, sizeof(*x));
	unsigned n = (x->length - sizeof(*x)) / 8;
	uint64_t gpa;

	assert_int_equal(tb_sum8(x, x->length), 0);
	for (unsigned i = 0; i < n; i++) {
		const struct acpi_header *h;

		memcpy(&gpa, (const uint8_t *)(x + 1) + 8 * i, 8);
		h = tb_gpa(t, gpa, sizeof(*h));
		if (memcmp(h->signature, sig, 4) == 0)
			return tb_gpa(t, gpa, h->length);
	}
	return NULL;
}

static const struct acpi_wdat *get_wdat(struct tb *t)
{
	assert_int_equal(acpi_write_tables(&t->mem, 2, 0), 0);
	return (const struct acpi_wdat *)find_table(t, "WDAT");
}

static void test_wdat_header(void **state)
{
	struct tb *t = tb_new(MIB(16));
	const struct acpi_wdat *w = get_wdat(t);

	(void)state;
	assert_non_null(w);
	assert_int_equal(w->h.length, 308);
	assert_int_equal(w->h.length, ACPI_WDAT_SIZE);
	assert_int_equal(w->h.revision, 1);
	assert_int_equal(tb_sum8(w, w->h.length), 0);
	assert_memory_equal(w->h.oem_id, "HUSK  ", 6);
	assert_int_equal(w->header_length, 32);
	/* acpi_watchdog.c skips a WDAT that names a PCI function or is not enabled */
	assert_int_equal(w->pci_segment, 0xff);
	assert_int_equal(w->pci_bus, 0xff);
	assert_int_equal(w->pci_device, 0xff);
	assert_int_equal(w->pci_function, 0xff);
	assert_int_equal(w->flags & ACPI_WDAT_ENABLED, ACPI_WDAT_ENABLED);
	/* wdat_wdt: a period >= 1 ms, min <= max; 1 s to 1 h; its default 30 s fits */
	assert_int_equal(w->timer_period, 100);
	assert_int_equal(w->min_count, 10);
	assert_int_equal(w->max_count, 36000);
	assert_true(w->timer_period * w->min_count <= 30000);
	assert_true(w->timer_period * w->max_count >= 30000);
	assert_int_equal(w->entries, 10);
	tb_free(t);
}

/* Every entry: a 32-bit SystemIO access inside the block, never the RTC's ports. */
static void test_wdat_entries(void **state)
{
	static const struct { uint8_t action, instr; uint16_t reg; uint32_t value, mask; } want[] = {
		{ 1, 2, WDT_REG_KICK, 1, 1 },
		{ 4, 1, WDT_REG_LEFT, 0, 0xffffffff },
		{ 5, 1, WDT_REG_COUNT, 0, 0xffffffff },
		{ 6, 3, WDT_REG_COUNT, 0, 0xffffffff },
		{ 8, 0, WDT_REG_CTL, 1, 1 },
		{ 9, 0x82, WDT_REG_CTL, 1, 1 },
		{ 10, 0, WDT_REG_CTL, 0, 1 },
		{ 11, 0x82, WDT_REG_CTL, 0, 1 },
		{ 32, 0, WDT_REG_STS, 1, 1 },
		{ 33, 0x82, WDT_REG_STS, 0, 1 },
	};
	struct tb *t = tb_new(MIB(16));
	const struct acpi_wdat *w = get_wdat(t);
	const struct acpi_wdat_entry *e = (const void *)(w + 1);

	(void)state;
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(e[i].action, want[i].action);
		assert_int_equal(e[i].instruction, want[i].instr);
		assert_int_equal(e[i].reserved, 0);
		assert_int_equal(e[i].reg.space_id, 1);		/* SystemIO */
		assert_int_equal(e[i].reg.bit_width, 32);
		assert_int_equal(e[i].reg.bit_offset, 0);
		assert_int_equal(e[i].reg.access_size, 3);	/* dword */
		assert_int_equal(e[i].reg.address, 0x620 + want[i].reg);
		assert_int_equal(e[i].value, want[i].value);
		assert_int_equal(e[i].mask, want[i].mask);
		assert_true(e[i].reg.address < 0x70 || e[i].reg.address > 0x73);
	}
	tb_free(t);
}

/* ---- the table drives the device, as wdat_wdt runs an action ------------ */

struct rig {
	struct tb *t;
	const struct acpi_wdat *w;
	struct io_bus *bus;
	struct watchdog *dev;
	uint64_t now;
	struct stop_rec stops;
	struct stop_hook hook;
};

static uint64_t rig_clock(void *ctx)
{
	return ((struct rig *)ctx)->now;
}

static uint32_t gas_read(struct rig *r, const struct acpi_gas *g)
{
	return pio_in(r->bus, g->address, 1u << (g->access_size - 1));
}

static void gas_write(struct rig *r, const struct acpi_gas *g, uint32_t v)
{
	pio_out(r->bus, g->address, v, 1u << (g->access_size - 1));
}

/* The instruction semantics of the WDAT spec (and wdat_wdt_run_action). */
static int run_action(struct rig *r, uint8_t action, uint32_t param, uint32_t *ret)
{
	const struct acpi_wdat_entry *e = (const void *)(r->w + 1);
	int found = 0;

	for (uint32_t i = 0; i < r->w->entries; i++, e++) {
		uint8_t op = e->instruction & ~ACPI_WDAT_PRESERVE_REGISTER;
		uint32_t x, shift = e->reg.bit_offset, keep = 0;

		if (e->action != action)
			continue;
		found = 1;
		if (e->instruction & ACPI_WDAT_PRESERVE_REGISTER)
			keep = gas_read(r, &e->reg) & ~(e->mask << shift);
		switch (op) {
		case ACPI_WDAT_READ_VALUE:
			*ret = ((gas_read(r, &e->reg) >> shift) & e->mask) == e->value;
			break;
		case ACPI_WDAT_READ_COUNTDOWN:
			*ret = (gas_read(r, &e->reg) >> shift) & e->mask;
			break;
		case ACPI_WDAT_WRITE_VALUE:
			x = (e->value & e->mask) << shift;
			gas_write(r, &e->reg, x | keep);
			break;
		case ACPI_WDAT_WRITE_COUNTDOWN:
			x = (param & e->mask) << shift;
			gas_write(r, &e->reg, x | keep);
			break;
		default:
			fail_msg("unknown instruction %u", op);
		}
	}
	return found ? 0 : -1;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct watchdog_params p = { .action = WATCHDOG_ACTION_RESET, .clock = rig_clock };

	r->t = tb_new(MIB(16));
	r->w = get_wdat(r->t);
	r->bus = iobus_create("pio");
	r->now = 5000 * MS;
	r->hook = (struct stop_hook){ .request = record_stop, .ctx = &r->stops };
	p.clock_ctx = r;
	p.stop = &r->hook;
	assert_int_equal(watchdog_create(r->bus, &p, &r->dev), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	watchdog_destroy(r->dev);
	iobus_destroy(r->bus);
	tb_free(r->t);
	free(r);
}

static void test_wdat_drives_device(void **state)
{
	struct rig *r = rig_new();
	uint32_t v = 99, period;

	(void)state;
	period = r->w->timer_period;
	/* probe: boot status, running state, set timeout (30 s default) */
	assert_int_equal(run_action(r, ACPI_WDAT_GET_STATUS, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(run_action(r, ACPI_WDAT_SET_STATUS, 0, NULL), 0);
	assert_int_equal(run_action(r, ACPI_WDAT_GET_RUNNING_STATE, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(run_action(r, ACPI_WDAT_GET_STOPPED_STATE, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(run_action(r, ACPI_WDAT_SET_COUNTDOWN, 5000 / period, NULL), 0);
	assert_int_equal(run_action(r, ACPI_WDAT_GET_COUNTDOWN, 0, &v), 0);
	assert_int_equal(v, 50);
	/* open: start */
	assert_int_equal(run_action(r, ACPI_WDAT_SET_RUNNING_STATE, 0, NULL), 0);
	assert_int_equal(run_action(r, ACPI_WDAT_GET_RUNNING_STATE, 0, &v), 0);
	assert_int_equal(v, 1);
	/* pings hold it off */
	for (int i = 0; i < 10; i++) {
		r->now += 4000 * MS;
		assert_int_equal(watchdog_poll(r->dev), 0);
		assert_int_equal(run_action(r, ACPI_WDAT_RESET, 0, NULL), 0);
	}
	r->now += 2000 * MS;
	assert_int_equal(run_action(r, ACPI_WDAT_GET_CURRENT_COUNTDOWN, 0, &v), 0);
	assert_int_equal(v, 30);			/* 3 s left */
	/* magic close: stop; then nothing fires */
	assert_int_equal(run_action(r, ACPI_WDAT_SET_STOPPED_STATE, 0, NULL), 0);
	assert_int_equal(run_action(r, ACPI_WDAT_GET_STOPPED_STATE, 0, &v), 0);
	assert_int_equal(v, 1);
	r->now += 60000 * MS;
	assert_int_equal(watchdog_poll(r->dev), 0);
	/* open again, write once, close without 'V': it fires after 5 s */
	assert_int_equal(run_action(r, ACPI_WDAT_SET_RUNNING_STATE, 0, NULL), 0);
	assert_int_equal(run_action(r, ACPI_WDAT_RESET, 0, NULL), 0);
	r->now += 4999 * MS;
	assert_int_equal(watchdog_poll(r->dev), 0);
	r->now += 1 * MS;
	assert_int_equal(watchdog_poll(r->dev), 1);
	assert_int_equal(r->stops.why, STOP_WATCHDOG_RESET);
	/* the next boot would see the status: fired */
	assert_int_equal(run_action(r, ACPI_WDAT_GET_STATUS, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(run_action(r, ACPI_WDAT_SET_STATUS, 0, NULL), 0);
	assert_int_equal(run_action(r, ACPI_WDAT_GET_STATUS, 0, &v), 0);
	assert_int_equal(v, 0);
	/* no reboot/shutdown actions: the host decides (--watchdog-action) */
	assert_int_equal(run_action(r, 17, 0, NULL), -1);
	rig_free(r);
}

/* ---- pvpanic in the DSDT ------------------------------------------------ */

static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

#define AML_AT(aml, n, ...) \
	find_bytes(aml, n, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_dsdt_pvpanic(void **state)
{
	struct tb *t = tb_new(MIB(16));
	const struct acpi_fadt *f;
	const struct acpi_header *d;
	const uint8_t *aml, *dev;
	size_t n;

	(void)state;
	assert_int_equal(acpi_write_tables(&t->mem, 1, 0), 0);
	f = (const struct acpi_fadt *)find_table(t, "FACP");
	assert_non_null(f);
	d = tb_gpa(t, f->x_dsdt, sizeof(*d));
	d = tb_gpa(t, f->x_dsdt, d->length);
	assert_int_equal(tb_sum8(d, d->length), 0);
	aml = (const uint8_t *)(d + 1);
	n = d->length - sizeof(*d);
	/* Device (PEVT) { Name (_HID, "QEMU0001") ... */
	dev = AML_AT(aml, n, 'P', 'E', 'V', 'T', 0x08, '_', 'H', 'I', 'D', 0x0d,
		     'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00);
	assert_non_null(dev);
	n -= (size_t)(dev - aml);
	/* Name (_CRS, ResourceTemplate () { IO (Decode16, 0x505, 0x505, 1, 1) }) */
	assert_non_null(AML_AT(dev, n, 0x08, '_', 'C', 'R', 'S', 0x11));
	assert_non_null(AML_AT(dev, n, 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01, 0x79));
	/* Name (_STA, 0x0F) */
	assert_non_null(AML_AT(dev, n, 0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f));
	tb_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wdat_header),
		cmocka_unit_test(test_wdat_entries),
		cmocka_unit_test(test_wdat_drives_device),
		cmocka_unit_test(test_dsdt_pvpanic),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
