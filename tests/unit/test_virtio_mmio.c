// SPDX-License-Identifier: MIT
/*
 * virtio-mmio v2 + virtio-rng driven through the MMIO io_bus the way a
 * guest driver would (rings in guest RAM, vq_driver.h), plus the command
 * line announcement.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "pci_test_helpers.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_rng.h"
#include "vq_driver.h"

#define QSIZE	8

struct fixture {
	struct io_bus *mmio;
	struct virtio_mmio_bus bus;
	struct virtio_rng *rng;
	struct drv *d;
	uint64_t base;
};

static uint32_t rd(struct fixture *f, unsigned off)
{
	return (uint32_t)mmio_read(f->mmio, f->base + off, 4);
}

static void wr(struct fixture *f, unsigned off, uint32_t v)
{
	mmio_write(f->mmio, f->base + off, v, 4);
}

static void nap(void)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	nanosleep(&ts, NULL);
}

static uint16_t wait_used(struct fixture *f, uint16_t want)
{
	for (int i = 0; i < 2000 && drv_used_idx(f->d) != want; i++)
		nap();
	return drv_used_idx(f->d);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_env env;

	assert_non_null(f);
	f->d = drv_new(QSIZE, 0);
	assert_non_null(f->d);
	f->mmio = iobus_create("mmio");
	f->bus = (struct virtio_mmio_bus){ .mmio = f->mmio, .vm_fd = -1 };
	env = (struct virtio_env){
		.mem = &f->d->mem, .kind = HUSK_VIRTIO_MMIO, .mmio = &f->bus, .vm_fd = -1,
	};
	assert_int_equal(virtio_rng_create(&env, &f->rng), 0);
	f->base = VIRTIO_MMIO_BASE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_rng_destroy(f->rng);
	iobus_destroy(f->mmio);
	drv_free(f->d);
	free(f);
	return 0;
}

static void bring_up(struct fixture *f)
{
	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_true(rd(f, VIRTIO_MMIO_DEVICE_FEATURES) & 1);	/* VERSION_1 */
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_DESC_LOW), DESC_GPA);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void test_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), 4);	/* entropy source */
	assert_int_equal(rd(f, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(rd(f, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	/* odd widths and misaligned accesses read 0 and are ignored */
	assert_int_equal(mmio_read(f->mmio, f->base + VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	assert_int_equal(mmio_read(f->mmio, f->base + 1, 4), 0);
	/* a queue that does not exist */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 3);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_request_and_interrupt(void **state)
{
	struct fixture *f = *state;
	uint64_t n = 0;
	uint32_t id, len;

	bring_up(f);
	drv_desc(f->d, 0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(wait_used(f, 1), 1);
	drv_used_elem(f->d, 0, &id, &len);
	assert_int_equal(len, 64);
	for (int i = 0; i < 2000 && !(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS) & 1); i++)
		nap();
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	/* the edge went to the irqfd (KVM_IRQFD turns it into a GSI pulse) */
	assert_int_equal(read(virtio_mmio_irqfd(virtio_rng_dev(f->rng)->tr_priv), &n, 8), 8);
	assert_int_equal(n, 1);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* a notify for a queue that does not exist changes nothing */
	drv_desc(f->d, 1, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 1);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(wait_used(f, 2), 2);
}

static void test_bad_ring_needs_reset(void **state)
{
	struct fixture *f = *state;

	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 6);		/* not a power of two: refused */
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x40);	/* far outside RAM */
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0);
}

static void test_cmdline(void **state)
{
	char buf[256] = "console=ttyS0";

	(void)state;
	assert_int_equal(virtio_mmio_cmdline(2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "console=ttyS0 virtio_mmio.device=4K@0xf0000000:5 "
			    "virtio_mmio.device=4K@0xf0001000:6");
	buf[0] = '\0';
	assert_int_equal(virtio_mmio_cmdline(1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "virtio_mmio.device=4K@0xf0000000:5");
	assert_int_equal(virtio_mmio_cmdline(VIRTIO_MMIO_MAX_DEVICES + 1, buf, sizeof(buf)),
			 -E2BIG);
	buf[0] = '\0';
	assert_int_equal(virtio_mmio_cmdline(2, buf, 40), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_and_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ring_needs_reset, setup, teardown),
		cmocka_unit_test(test_cmdline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
