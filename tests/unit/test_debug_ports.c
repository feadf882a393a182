// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <cmocka.h>

#include "core/log.h"
#include "devices/devices.h"
#include "memory/layout.h"
#include "unit_helpers.h"
#include "fake_vm_ioctl.h"

/*
 * KVM_SIGNAL_MSI on a fake VM fd is recorded here (this ioctl() takes the
 * place of libc's for husk_core).
 */
static struct kvm_msi msi_log[16];
static int msi_log_n;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	if (request == KVM_SIGNAL_MSI && msi_log_n < 16)
		msi_log[msi_log_n++] = *(const struct kvm_msi *)arg;
	return request == KVM_SIGNAL_MSI ? 1 : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct fixture {
	struct io_bus *bus;
	struct stop_rec rec;
	struct stop_hook hook;
	struct debug_ports *d;
};

static struct fixture *make(int vm_fd, uint64_t start_ns)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bus = iobus_create("pio");
	f->hook = (struct stop_hook){ .request = record_stop, .ctx = &f->rec };
	f->d = debug_ports_create(f->bus, &f->hook, vm_fd, start_ns, DEBUG_PORTS_TEST);
	assert_non_null(f->d);
	msi_log_n = 0;
	return f;
}

static void destroy(struct fixture *f)
{
	debug_ports_destroy(f->d);
	iobus_destroy(f->bus);
	free(f);
}

static void test_exit_status_masking(void **state)
{
	struct fixture *f = make(-1, mono_ns());

	(void)state;
	pio_out(f->bus, PORT_DEBUG_EXIT, 0x12345601, 4);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.why, STOP_DEBUG_EXIT);
	assert_int_equal(f->rec.status, 0x01);
	pio_out(f->bus, PORT_DEBUG_EXIT, 0xff, 1);
	assert_int_equal(f->rec.status, 255);
	pio_out(f->bus, PORT_DEBUG_EXIT, 0x0100, 2);
	assert_int_equal(f->rec.status, 0);
	pio_out(f->bus, PORT_DEBUG_EXIT + 3, 0x2a, 1);	/* any byte of the port */
	assert_int_equal(f->rec.status, 0x2a);
	assert_int_equal(f->rec.calls, 4);
	/* reads return 0 at any width */
	assert_int_equal(pio_in(f->bus, PORT_DEBUG_EXIT, 4), 0);
	assert_int_equal(pio_in(f->bus, PORT_DEBUG_EXIT + 2, 2), 0);
	assert_int_equal(f->rec.calls, 4);
	destroy(f);
}

static void test_boot_marker_once(void **state)
{
	struct fixture *f = make(-1, mono_ns() - 5000000);	/* started 5 ms ago */
	struct stderr_capture cap;
	unsigned long ms, frac;
	const char *p;
	char *text;

	(void)state;
	stderr_capture_begin(&cap);
	pio_out(f->bus, PORT_BOOT_MARKER, BOOT_MARKER_MAGIC, 1);
	pio_out(f->bus, PORT_BOOT_MARKER, BOOT_MARKER_MAGIC, 1);
	pio_out(f->bus, PORT_BOOT_MARKER, 7, 4);
	text = stderr_capture_end(&cap);
	assert_int_equal(count_substr(text, "husk: guest boot marker after "), 1);
	p = strstr(text, "after ");
	assert_int_equal(sscanf(p, "after %lu.%lu ms", &ms, &frac), 2);
	assert_true(ms >= 5);
	assert_true(ms < 60000);
	assert_non_null(strstr(p, "."));
	assert_int_equal(strspn(strchr(p, '.') + 1, "0123456789"), 3);
	assert_int_equal(f->rec.calls, 0);
	assert_int_equal(pio_in(f->bus, PORT_BOOT_MARKER, 4), 0);
	free(text);
	destroy(f);
}

static void test_msi(void **state)
{
	struct fixture *f = make(FAKE_VM_FD, mono_ns());

	(void)state;
	pio_out(f->bus, PORT_TEST_MSI, (3 << 8) | 0x41, 4);
	assert_int_equal(msi_log_n, 1);
	assert_int_equal(msi_log[0].address_lo, 0xfee03000);
	assert_int_equal(msi_log[0].address_hi, 0);
	assert_int_equal(msi_log[0].data, 0x41);
	assert_int_equal(msi_log[0].flags, 0);
	/* hostile values: the upper bits are ignored, dest is one byte */
	pio_out(f->bus, PORT_TEST_MSI, 0xffffffff, 4);
	assert_int_equal(msi_log_n, 2);
	assert_int_equal(msi_log[1].address_lo, 0xfeeff000);
	assert_int_equal(msi_log[1].data, 0xff);
	/* a byte write is a vector for APIC 0 */
	pio_out(f->bus, PORT_TEST_MSI, 0x30, 1);
	assert_int_equal(msi_log_n, 3);
	assert_int_equal(msi_log[2].address_lo, 0xfee00000);
	assert_int_equal(msi_log[2].data, 0x30);
	assert_int_equal(f->rec.calls, 0);
	destroy(f);
}

static void test_no_vm_fd(void **state)
{
	struct fixture *f = make(-1, mono_ns());

	(void)state;
	pio_out(f->bus, PORT_TEST_MSI, 0x0141, 4);
	assert_int_equal(msi_log_n, 0);		/* recorded, not sent */
	destroy(f);
}

static void test_ports_claimed(void **state)
{
	struct fixture *f = make(-1, mono_ns());
	struct debug_ports *again;

	(void)state;
	assert_true(iobus_read(f->bus, PORT_DEBUG_EXIT, (uint8_t[4]){ 0 }, 4));
	assert_true(iobus_read(f->bus, PORT_BOOT_MARKER, (uint8_t[4]){ 0 }, 4));
	assert_true(iobus_read(f->bus, PORT_TEST_MSI, (uint8_t[4]){ 0 }, 4));
	assert_false(iobus_read(f->bus, PORT_DEBUG_EXIT + 4, (uint8_t[1]){ 0 }, 1));
	/* a second set conflicts and leaves the first one registered */
	again = debug_ports_create(f->bus, &f->hook, -1, 0, DEBUG_PORTS_TEST);
	assert_null(again);
	assert_int_equal(errno, EEXIST);
	pio_out(f->bus, PORT_DEBUG_EXIT, 3, 1);
	assert_int_equal(f->rec.status, 3);
	/* destroy unregisters all three ports: a new set fits again */
	debug_ports_destroy(f->d);
	assert_false(iobus_read(f->bus, PORT_DEBUG_EXIT, (uint8_t[4]){ 0 }, 4));
	assert_false(iobus_read(f->bus, PORT_BOOT_MARKER, (uint8_t[4]){ 0 }, 4));
	assert_false(iobus_read(f->bus, PORT_TEST_MSI, (uint8_t[4]){ 0 }, 4));
	f->d = debug_ports_create(f->bus, &f->hook, -1, 0, DEBUG_PORTS_TEST);
	assert_non_null(f->d);
	destroy(f);
}

/*
 * Without --test-devices only the boot marker is there: a write to 0xf4
 * stops nothing (the guest cannot choose husk's exit status) and a write
 * to 0xf4/0x448 reaches no handler (so no MSI can be sent through it).
 */
static void test_test_ports_off_by_default(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	(void)state;
	f->bus = iobus_create("pio");
	f->hook = (struct stop_hook){ .request = record_stop, .ctx = &f->rec };
	f->d = debug_ports_create(f->bus, &f->hook, -1, mono_ns(), 0);
	assert_non_null(f->d);
	msi_log_n = 0;
	assert_false(iobus_read(f->bus, PORT_DEBUG_EXIT, (uint8_t[4]){ 0 }, 4));
	assert_false(iobus_read(f->bus, PORT_TEST_MSI, (uint8_t[4]){ 0 }, 4));
	assert_true(iobus_read(f->bus, PORT_BOOT_MARKER, (uint8_t[4]){ 0 }, 4));
	pio_out(f->bus, PORT_DEBUG_EXIT, 7, 1);
	pio_out(f->bus, PORT_TEST_MSI, 0x0030, 4);
	assert_int_equal(f->rec.calls, 0);
	/* the ports are free: a later set with the test devices takes them */
	debug_ports_destroy(f->d);
	f->d = debug_ports_create(f->bus, &f->hook, -1, 0, DEBUG_PORTS_TEST);
	assert_non_null(f->d);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_masking),
		cmocka_unit_test(test_boot_marker_once),
		cmocka_unit_test(test_msi),
		cmocka_unit_test(test_no_vm_fd),
		cmocka_unit_test(test_ports_claimed),
		cmocka_unit_test(test_test_ports_off_by_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
