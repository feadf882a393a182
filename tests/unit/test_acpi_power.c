// SPDX-License-Identifier: MIT
/* The ACPI power devices: sleep control / reset registers and the GED. */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "memory/layout.h"
#include "unit_helpers.h"
#include "fake_vm_ioctl.h"

/* KVM_IRQ_LINE on a fake VM fd is recorded here (replaces libc's ioctl). */
static struct kvm_irq_level irq_log[16];
static int irq_log_n;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	if (request == KVM_IRQ_LINE && irq_log_n < 16)
		irq_log[irq_log_n++] = *(const struct kvm_irq_level *)arg;
	return 0;
}

struct fixture {
	struct io_bus *bus;
	struct stop_rec rec;
	struct stop_hook hook;
	struct acpi_pm *pm;
	struct irq_line irq;
	struct acpi_ged *ged;
};

static struct fixture *make(int vm_fd)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bus = iobus_create("pio");
	f->hook = (struct stop_hook){ .request = record_stop, .ctx = &f->rec };
	f->pm = acpi_pm_create(f->bus, &f->hook);
	f->irq = (struct irq_line){ .vm_fd = vm_fd, .gsi = ACPI_GED_GSI };
	f->ged = acpi_ged_create(f->bus, &f->irq);
	assert_non_null(f->pm);
	assert_non_null(f->ged);
	irq_log_n = 0;
	return f;
}

static void destroy(struct fixture *f)
{
	acpi_ged_destroy(f->ged);
	acpi_pm_destroy(f->pm);
	iobus_destroy(f->bus);
	free(f);
}

static uint8_t sleep_value(unsigned typ, int enable)
{
	return (uint8_t)(typ << ACPI_SLP_TYP_SHIFT | (enable ? ACPI_SLP_EN : 0));
}

static void test_s5_powers_off(void **state)
{
	struct fixture *f = make(-1);

	(void)state;
	/* Linux's order: clear WAK_STS in the status register, then sleep */
	outb(f->bus, PORT_ACPI_SLEEP_STS, 0x80);
	assert_int_equal(f->rec.calls, 0);
	outb(f->bus, PORT_ACPI_SLEEP_CTL, sleep_value(ACPI_S5_SLP_TYP, 1));
	assert_int_equal(sleep_value(ACPI_S5_SLP_TYP, 1), 0x34);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.why, STOP_SYSTEM_SHUTDOWN);
	assert_int_equal(f->rec.status, 0);
	/* other bits (reserved, WAK) do not matter */
	outb(f->bus, PORT_ACPI_SLEEP_CTL, sleep_value(ACPI_S5_SLP_TYP, 1) | 0xc3);
	assert_int_equal(f->rec.calls, 2);
	destroy(f);
}

static void test_other_sleep_values_ignored(void **state)
{
	struct fixture *f = make(-1);

	(void)state;
	outb(f->bus, PORT_ACPI_SLEEP_CTL, sleep_value(ACPI_S5_SLP_TYP, 0));	/* no SLP_EN */
	for (unsigned typ = 0; typ < 8; typ++)
		if (typ != ACPI_S5_SLP_TYP)
			outb(f->bus, PORT_ACPI_SLEEP_CTL, sleep_value(typ, 1));
	outb(f->bus, PORT_ACPI_SLEEP_CTL, 0);
	outb(f->bus, PORT_ACPI_RESET + 1, sleep_value(ACPI_S5_SLP_TYP, 1));	/* not ours */
	assert_int_equal(f->rec.calls, 0);
	/* the registers read as zero */
	assert_int_equal(inb(f->bus, PORT_ACPI_SLEEP_CTL), 0);
	assert_int_equal(inb(f->bus, PORT_ACPI_SLEEP_STS), 0);
	assert_int_equal(inb(f->bus, PORT_ACPI_RESET), 0);
	destroy(f);
}

static void test_reset(void **state)
{
	struct fixture *f = make(-1);

	(void)state;
	for (unsigned v = 0; v < 256; v++)
		if (v != ACPI_RESET_VALUE)
			outb(f->bus, PORT_ACPI_RESET, (uint8_t)v);
	assert_int_equal(f->rec.calls, 0);
	outb(f->bus, PORT_ACPI_RESET, ACPI_RESET_VALUE);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.why, STOP_SYSTEM_RESET);
	assert_int_equal(f->rec.status, 0);
	destroy(f);
}

static void test_ports_claimed(void **state)
{
	struct fixture *f = make(-1);
	struct irq_line irq = { .vm_fd = -1, .gsi = ACPI_GED_GSI };

	(void)state;
	assert_null(acpi_pm_create(f->bus, &f->hook));
	assert_int_equal(errno, EEXIST);
	assert_null(acpi_ged_create(f->bus, &irq));
	assert_int_equal(errno, EEXIST);
	assert_null(acpi_ged_create(f->bus, NULL));
	assert_int_equal(errno, EINVAL);
	acpi_pm_destroy(f->pm);
	acpi_ged_destroy(f->ged);
	assert_false(iobus_read(f->bus, PORT_ACPI_SLEEP_CTL, (uint8_t[1]){ 0 }, 1));
	assert_false(iobus_read(f->bus, PORT_ACPI_RESET, (uint8_t[1]){ 0 }, 1));
	assert_false(iobus_read(f->bus, PORT_ACPI_GED, (uint8_t[1]){ 0 }, 1));
	f->pm = acpi_pm_create(f->bus, &f->hook);
	f->ged = acpi_ged_create(f->bus, &f->irq);
	assert_non_null(f->pm);
	assert_non_null(f->ged);
	destroy(f);
}

static void test_ged_power_button(void **state)
{
	struct fixture *f = make(-1);

	(void)state;
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(inb(f->bus, PORT_ACPI_GED), 0);
	assert_int_equal(acpi_power_button(f->ged), 0);
	assert_int_equal(acpi_ged_pending(f->ged), ACPI_GED_EVT_PWRBTN);
	assert_int_equal(f->irq.level, 1);
	/* writes do not clear the event */
	outb(f->bus, PORT_ACPI_GED, 0xff);
	assert_int_equal(acpi_ged_pending(f->ged), ACPI_GED_EVT_PWRBTN);
	/* the guest's _EVT read returns the bits, clears them, lowers the line */
	assert_int_equal(inb(f->bus, PORT_ACPI_GED), ACPI_GED_EVT_PWRBTN);
	assert_int_equal(acpi_ged_pending(f->ged), 0);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(inb(f->bus, PORT_ACPI_GED), 0);
	/* two presses before the guest looks are one event */
	acpi_power_button(f->ged);
	acpi_power_button(f->ged);
	assert_int_equal(pio_in(f->bus, PORT_ACPI_GED, 1), ACPI_GED_EVT_PWRBTN);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(f->rec.calls, 0);		/* the button never stops the VM */
	assert_int_equal(acpi_power_button(NULL), -EINVAL);
	destroy(f);
}

static void test_ged_irq_line(void **state)
{
	struct fixture *f = make(FAKE_VM_FD);

	(void)state;
	assert_int_equal(acpi_power_button(f->ged), 0);
	assert_int_equal(irq_log_n, 1);
	assert_int_equal(irq_log[0].irq, ACPI_GED_GSI);
	assert_int_equal(irq_log[0].level, 1);
	assert_int_equal(inb(f->bus, PORT_ACPI_GED), ACPI_GED_EVT_PWRBTN);
	assert_int_equal(irq_log_n, 2);
	assert_int_equal(irq_log[1].irq, ACPI_GED_GSI);
	assert_int_equal(irq_log[1].level, 0);
	/* a read with nothing pending leaves the line alone */
	assert_int_equal(inb(f->bus, PORT_ACPI_GED), 0);
	assert_int_equal(irq_log_n, 2);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s5_powers_off),
		cmocka_unit_test(test_other_sleep_values_ignored),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_ports_claimed),
		cmocka_unit_test(test_ged_power_button),
		cmocka_unit_test(test_ged_irq_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
