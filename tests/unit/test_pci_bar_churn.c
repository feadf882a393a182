// SPDX-License-Identifier: MIT
/*
 * A guest that keeps mapping and unmapping BARs (toggling COMMAND.MEM/IO or
 * rewriting a BAR, through 0xcf8/0xcfc or ECAM) must not grow husk's heap:
 * every remap replaces the I/O bus's range table, and the old tables have
 * to be reclaimed while vCPU threads keep dispatching.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/irq_routing.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "pci_test_helpers.h"

#define CHURN_VENDOR	0x1af4
#define CHURN_DEVICE	0x10ff
#define BAR0_SIZE	0x1000
#define IO_BAR_SIZE	32
#define BAR0_ALT	(PCI_MMIO32_BASE + 0x200000)
/* iobus.c's IO_RETIRED_MAX: past it an update waits for lookups to drain */
#define RETIRED_BOUND	16

/* A device with a 4 KiB memory BAR0 and a 32-port I/O BAR1; reads return 0xa0 + BAR. */
struct churn_dev {
	struct pci_device pci;
	atomic_long reads;
};

static void cd_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			uint32_t len)
{
	struct churn_dev *d = dev->priv;

	(void)offset;
	atomic_fetch_add(&d->reads, 1);
	memset(data, 0xa0 + (int)bar, len);
}

static const struct pci_device_ops cd_ops = { .bar_read = cd_bar_read };

struct fixture {
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct churn_dev dev;
	unsigned slot;
	uint64_t bar0;
	uint64_t bar1;
};

static int setup(void **state)
{
	static const struct pci_device_id id = {
		.vendor = CHURN_VENDOR, .device = CHURN_DEVICE, .class_code = 0xff0000,
	};
	struct fixture *f = calloc(1, sizeof(*f));
	struct pci_bus_params p;

	assert_non_null(f);
	f->pio = iobus_create("pio");
	f->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(-1, &f->rt), 0);
	p = (struct pci_bus_params){
		.pio = f->pio, .mmio = f->mmio, .routing = f->rt, .vm_fd = -1,
		.ram_size = GIB(2),
	};
	assert_int_equal(pci_bus_create(&p, &f->bus), 0);
	pci_device_init(&f->dev.pci, "churn", &id, &cd_ops, &f->dev);
	assert_int_equal(pci_device_add_bar(&f->dev.pci, 0, PCI_BAR_MEM32, BAR0_SIZE, false), 0);
	assert_int_equal(pci_device_add_bar(&f->dev.pci, 1, PCI_BAR_IO, IO_BAR_SIZE, false), 0);
	assert_int_equal(pci_register_device(f->bus, &f->dev.pci), 0);
	f->slot = (unsigned)f->dev.pci.slot;
	f->bar0 = cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_0, 4) & ~0xfu;
	f->bar1 = cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_1, 4) & ~0x3u;
	assert_int_equal(f->bar0, PCI_MMIO32_BASE);
	assert_true(f->bar1 != 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_bus_destroy(f->bus);
	pci_device_release(&f->dev.pci);
	irq_routing_destroy(f->rt);
	iobus_destroy(f->pio);
	iobus_destroy(f->mmio);
	free(f);
	return 0;
}

static const uint16_t decode_all = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;

/* Toggle round @i: decode on or off, through 0xcfc or ECAM, sometimes moving BAR0. */
static void churn_round(struct fixture *f, unsigned long i)
{
	uint16_t cmd = (i & 1) ? 0 : decode_all;

	if (i % 16 == 2) {	/* decode on: move BAR0 between two places */
		uint32_t where = (uint32_t)((i / 16) & 1 ? BAR0_ALT : f->bar0);

		ecam_write(f->mmio, f->slot, PCI_BASE_ADDRESS_0, where, 4);
	}
	if (i & 2)
		ecam_write(f->mmio, f->slot, PCI_COMMAND, cmd, 2);
	else
		cf8_write(f->pio, f->slot, PCI_COMMAND, cmd, 2);
}

static uint64_t bar0_now(struct fixture *f)
{
	return ecam_read(f->mmio, f->slot, PCI_BASE_ADDRESS_0, 4) & ~0xfu;
}

static void test_million_toggles_heap_flat(void **state)
{
	enum { ROUNDS = 1000000, WARMUP = 1000 };
	struct fixture *f = *state;
	struct mallinfo2 before, after;
	unsigned long i;

	for (i = 0; i < WARMUP; i++)
		churn_round(f, i);
	before = mallinfo2();
	for (; i < WARMUP + ROUNDS; i++) {
		bool on = !(i & 1);
		uint64_t bar0;

		churn_round(f, i);
		/* dispatch follows every toggle */
		bar0 = bar0_now(f);
		assert_int_equal(mmio_read(f->mmio, bar0 + 8, 4), on ? 0xa0a0a0a0 : 0xffffffff);
		if (i % 64 == 0)
			assert_int_equal(pio_in(f->pio, f->bar1 + 4, 2), on ? 0xa1a1 : 0xffff);
	}
	after = mallinfo2();
	/* a leak of one table per toggle is ~100 bytes x 1e6; allow 1 MiB of noise */
	assert_true(after.uordblks < before.uordblks + (1u << 20));
	/* with no lookup in flight, every replaced table is freed at once */
	assert_int_equal(iobus_retired_tables(f->mmio), 0);
	assert_int_equal(iobus_retired_tables(f->pio), 0);
	assert_true(atomic_load(&f->dev.reads) >= ROUNDS / 2);
}

/* vCPU-like threads dispatch to the device and to ECAM while one thread toggles. */
struct race {
	struct fixture *f;
	atomic_bool stop;
	atomic_long bad;
	atomic_long lookups;
};

static void *dispatch_thread(void *arg)
{
	struct race *r = arg;
	struct fixture *f = r->f;

	while (!atomic_load(&r->stop)) {
		uint32_t m = (uint32_t)mmio_read(f->mmio, f->bar0 + 0x10, 4);
		uint32_t a = (uint32_t)mmio_read(f->mmio, BAR0_ALT + 0x10, 4);
		uint32_t io = pio_in(f->pio, f->bar1, 1);
		uint32_t id = (uint32_t)ecam_read(f->mmio, f->slot, PCI_VENDOR_ID, 2);

		if ((m != 0xa0a0a0a0 && m != 0xffffffff) || (a != 0xa0a0a0a0 && a != 0xffffffff) ||
		    (io != 0xa1 && io != 0xff) || id != CHURN_VENDOR)
			atomic_fetch_add(&r->bad, 1);
		atomic_fetch_add(&r->lookups, 1);
	}
	return NULL;
}

static void test_toggles_while_dispatching(void **state)
{
	enum { THREADS = 3, ROUNDS = 100000 };
	struct fixture *f = *state;
	struct race r = { .f = f };
	pthread_t th[THREADS];
	struct mallinfo2 before, after;

	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, dispatch_thread, &r), 0);
	before = mallinfo2();
	for (unsigned long i = 0; i < ROUNDS; i++)
		churn_round(f, i);
	after = mallinfo2();
	atomic_store(&r.stop, true);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(atomic_load(&r.lookups) > 0);
	assert_true(after.uordblks < before.uordblks + (1u << 20));
	assert_true(iobus_retired_tables(f->mmio) <= RETIRED_BOUND);
	assert_true(iobus_retired_tables(f->pio) <= RETIRED_BOUND);
	/* and dispatch still works once it is over */
	churn_round(f, 0);
	assert_int_equal(mmio_read(f->mmio, bar0_now(f), 4), 0xa0a0a0a0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_million_toggles_heap_flat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_toggles_while_dispatching, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
