// SPDX-License-Identifier: MIT
/*
 * virtio-pci + virtio-rng driven through the real io_buses the way a guest
 * driver would: config space through 0xcf8/0xcfc, the BAR through MMIO,
 * rings in guest RAM (vq_driver.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "pci_test_helpers.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtio_rng.h"
#include <time.h>
#include "vq_driver.h"

#define QSIZE		8
#define QVEC		1
#define CFGVEC		0
#define MSI_ADDR	0xfee00000u
#define OUTSIDE_RAM	0x4000000000ull

struct fixture {
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct virtio_rng *rng;
	struct drv *d;
	struct pci_device *dev;
	unsigned slot;
	uint64_t bar0;
	/* found by walking the vendor capabilities */
	uint64_t common, isr, notify;
	uint32_t notify_mult;
	int ncaps;
	unsigned msix_cap;
};

static uint64_t cmn_read(struct fixture *f, unsigned off, uint32_t len)
{
	return mmio_read(f->mmio, f->common + off, len);
}

static void cmn_write(struct fixture *f, unsigned off, uint64_t v, uint32_t len)
{
	mmio_write(f->mmio, f->common + off, v, len);
}

static uint8_t status(struct fixture *f)
{
	return (uint8_t)cmn_read(f, VIRTIO_PCI_COMMON_STATUS, 1);
}

static uint64_t fired(struct fixture *f, unsigned v)
{
	uint64_t n = 0;

	if (read(msix_vector_eventfd(f->dev, (uint16_t)v), &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/*
 * The device works on its own I/O thread: wait (up to 2 s) for what it
 * must do, or give it 50 ms to show that it does nothing.
 */
static void nap(void)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	nanosleep(&ts, NULL);
}

static void settle(void)
{
	struct timespec ts = { .tv_nsec = 50000000 };

	nanosleep(&ts, NULL);
}

static uint16_t wait_used(struct fixture *f, uint16_t want)
{
	for (int i = 0; i < 2000 && drv_used_idx(f->d) != want; i++)
		nap();
	return drv_used_idx(f->d);
}

static uint64_t wait_fired(struct fixture *f, unsigned v)
{
	uint64_t n = 0;

	for (int i = 0; i < 2000 && !(n = fired(f, v)); i++)
		nap();
	return n;
}

static bool wait_status(struct fixture *f, uint8_t bit)
{
	for (int i = 0; i < 2000; i++) {
		if (cmn_read(f, VIRTIO_PCI_COMMON_STATUS, 1) & bit)
			return true;
		nap();
	}
	return false;
}

static void find_caps(struct fixture *f)
{
	unsigned pos = cf8_read(f->pio, f->slot, PCI_CAPABILITY_LIST, 1), hops = 0;
	uint64_t base;

	base = cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_0, 4);
	assert_int_equal(base & PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64);
	base = (base & PCI_BASE_ADDRESS_MEM_MASK) |
	       (uint64_t)cf8_read(f->pio, f->slot, PCI_BASE_ADDRESS_1, 4) << 32;
	f->bar0 = base;
	assert_int_equal(base, pci_bar_addr(f->dev, 0));
	while (pos && hops++ < 48) {
		unsigned id = cf8_read(f->pio, f->slot, pos + PCI_CAP_LIST_ID, 1);

		if (id == PCI_CAP_ID_MSIX)
			f->msix_cap = pos;
		if (id == PCI_CAP_ID_VNDR) {
			unsigned type = cf8_read(f->pio, f->slot, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
			uint64_t off = cf8_read(f->pio, f->slot, pos + VIRTIO_PCI_CAP_OFFSET, 4);

			assert_int_equal(cf8_read(f->pio, f->slot, pos + VIRTIO_PCI_CAP_BAR, 1), 0);
			assert_true(cf8_read(f->pio, f->slot, pos + VIRTIO_PCI_CAP_LEN, 1) >= 16);
			f->ncaps++;
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				f->common = base + off;
			else if (type == VIRTIO_PCI_CAP_ISR_CFG)
				f->isr = base + off;
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				f->notify = base + off;
				f->notify_mult = cf8_read(f->pio, f->slot, pos + 16, 4);
			}
		}
		pos = cf8_read(f->pio, f->slot, pos + PCI_CAP_LIST_NEXT, 1);
	}
	assert_true(f->common && f->isr && f->notify && f->msix_cap);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pci_bus_params p;
	struct virtio_env env;

	assert_non_null(f);
	f->d = drv_new(QSIZE, 0);
	assert_non_null(f->d);
	f->pio = iobus_create("pio");
	f->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(-1, &f->rt), 0);
	p = (struct pci_bus_params){
		.pio = f->pio, .mmio = f->mmio, .routing = f->rt, .vm_fd = -1, .ram_size = DRV_RAM,
	};
	assert_int_equal(pci_bus_create(&p, &f->bus), 0);
	env = (struct virtio_env){
		.mem = &f->d->mem, .kind = HUSK_VIRTIO_PCI, .pci = f->bus, .vm_fd = -1,
	};
	assert_int_equal(virtio_rng_create(&env, &f->rng), 0);
	for (f->slot = 1; f->slot < PCI_SLOTS; f->slot++)
		if (cf8_read(f->pio, f->slot, PCI_VENDOR_ID, 4) == (0x1044u << 16 | 0x1af4))
			break;
	assert_true(f->slot < PCI_SLOTS);
	f->dev = pci_bus_device(f->bus, f->slot);
	assert_non_null(f->dev);
	cf8_write(f->pio, f->slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	find_caps(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_rng_destroy(f->rng);
	pci_bus_destroy(f->bus);
	irq_routing_destroy(f->rt);
	iobus_destroy(f->pio);
	iobus_destroy(f->mmio);
	drv_free(f->d);
	free(f);
	return 0;
}

static void msix_on(struct fixture *f)
{
	uint64_t t = f->bar0 + VIRTIO_PCI_MSIX_TABLE_OFF;

	cf8_write(f->pio, f->slot, f->msix_cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	for (unsigned v = 0; v < 2; v++) {
		mmio_write(f->mmio, t + 16 * v + PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR, 4);
		mmio_write(f->mmio, t + 16 * v + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
		mmio_write(f->mmio, t + 16 * v + PCI_MSIX_ENTRY_DATA, 0x40 + v, 4);
		mmio_write(f->mmio, t + 16 * v + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	}
	assert_true(msix_enabled(f->dev));
}

/* Reset, ACKNOWLEDGE | DRIVER, VERSION_1, FEATURES_OK. */
static void negotiate(struct fixture *f)
{
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(status(f), 0);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	assert_true(cmn_read(f, VIRTIO_PCI_COMMON_DF, 4) & 1);	/* VERSION_1 */
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, 1, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	assert_true(status(f) & VIRTIO_CONFIG_S_FEATURES_OK);
}

static void queue_setup(struct fixture *f, uint64_t desc, uint16_t vec)
{
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_MSIX, vec, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), vec);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_DESCHI, desc >> 32, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL_GPA, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), (uint32_t)desc);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_DESCHI, 4), desc >> 32);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static void driver_ok(struct fixture *f)
{
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
		  VIRTIO_CONFIG_S_DRIVER_OK, 1);
}

static void kick(struct fixture *f, unsigned q)
{
	mmio_write(f->mmio, f->notify + (uint64_t)q * f->notify_mult, q, 2);
}

/* A live device with queue 0 set up (MSI-X on if @msix). */
static void bring_up(struct fixture *f, bool msix)
{
	if (msix)
		msix_on(f);
	negotiate(f);
	queue_setup(f, DESC_GPA, QVEC);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	cmn_write(f, VIRTIO_PCI_COMMON_MSIX, CFGVEC, 2);
	driver_ok(f);
	assert_int_equal(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	settle();	/* the I/O thread's first look at the (empty) ring is over */
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cf8_read(f->pio, f->slot, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cf8_read(f->pio, f->slot, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_true(cf8_read(f->pio, f->slot, PCI_SUBSYSTEM_ID, 2) >= 0x40);
	assert_int_equal(f->ncaps, 3);	/* common, isr, notify: rng has no device config */
	assert_int_equal(f->notify_mult, VIRTIO_PCI_NOTIFY_MULT);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
}

static void test_request_msix(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = drv_ptr(f->d, BUF_GPA, 64);
	uint32_t id, len;

	bring_up(f, true);
	memset(buf, 0, 64);
	fired(f, QVEC);
	drv_desc(f->d, 0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);
	assert_int_equal(wait_used(f, 1), 1);
	drv_used_elem(f->d, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 64);
	assert_false(all_zero(buf, 64));
	assert_int_equal(wait_fired(f, QVEC), 1);
	assert_int_equal(fired(f, CFGVEC), 0);

	/* a big buffer is filled up to the per-chain cap */
	drv_desc(f->d, 1, BUF_GPA, 1u << 20, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 1);
	kick(f, 0);
	assert_int_equal(wait_used(f, 2), 2);
	drv_used_elem(f->d, 1, &id, &len);
	assert_int_equal(id, 1);
	assert_int_equal(len, 64 * 1024);

	/* a readable-only chain gets 0 bytes */
	drv_desc(f->d, 2, BUF_GPA, 16, 0, 0);
	drv_publish(f->d, 2);
	kick(f, 0);
	assert_int_equal(wait_used(f, 3), 3);
	drv_used_elem(f->d, 2, &id, &len);
	assert_int_equal(len, 0);
}

static void test_request_intx(void **state)
{
	struct fixture *f = *state;
	uint32_t id, len;

	bring_up(f, false);
	assert_int_equal(mmio_read(f->mmio, f->isr, 1), 0);
	drv_desc(f->d, 0, BUF_GPA, 32, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);
	assert_int_equal(wait_used(f, 1), 1);
	drv_used_elem(f->d, 0, &id, &len);
	assert_int_equal(len, 32);
	for (int i = 0; i < 2000 && !(cf8_read(f->pio, f->slot, PCI_STATUS, 2) &
				      PCI_STATUS_INTERRUPT); i++)
		nap();
	assert_true(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(mmio_read(f->mmio, f->isr, 1), 1);	/* queue interrupt */
	assert_int_equal(mmio_read(f->mmio, f->isr, 1), 0);	/* read clears */
	assert_false(cf8_read(f->pio, f->slot, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}

static void test_posted_before_driver_ok(void **state)
{
	struct fixture *f = *state;
	uint32_t id, len;

	msix_on(f);
	negotiate(f);
	queue_setup(f, DESC_GPA, QVEC);
	drv_desc(f->d, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);					/* before DRIVER_OK: ignored */
	settle();
	assert_int_equal(drv_used_idx(f->d), 0);
	driver_ok(f);					/* ... and served now */
	assert_int_equal(wait_used(f, 1), 1);
	drv_used_elem(f->d, 0, &id, &len);
	assert_int_equal(len, 16);
}

/*
 * virtio 1.2, 3.1.1: queues are set up before DRIVER_OK (only RING_RESET,
 * not offered, allows one later). The device's I/O thread runs from
 * DRIVER_OK on and reads its queue without a lock, so a queue configured
 * under it would race with it: the late enable is refused.
 */
static void test_queue_enable_after_driver_ok(void **state)
{
	struct fixture *f = *state;

	msix_on(f);
	negotiate(f);
	driver_ok(f);			/* the I/O thread starts with no queue */
	settle();
	queue_setup(f, DESC_GPA, QVEC);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	drv_desc(f->d, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);
	settle();
	assert_int_equal(drv_used_idx(f->d), 0);
	/* after a reset, in the right order, the buffer still in the ring is served */
	bring_up(f, true);
	assert_int_equal(wait_used(f, 1), 1);
}

/* DRIVER_OK without FEATURES_OK (3.1.1 step 5 skipped): features unchecked, not started. */
static void test_driver_ok_without_features_ok(void **state)
{
	struct fixture *f = *state;

	msix_on(f);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, 1, 4);
	queue_setup(f, DESC_GPA, QVEC);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_true(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET);
	drv_desc(f->d, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);
	settle();
	assert_int_equal(drv_used_idx(f->d), 0);
	/* the features stay as they were: the device never ran with them */
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, 0xffffffff, 4);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_GF, 4), 0);
}

static void test_ring_outside_ram(void **state)
{
	struct fixture *f = *state;

	msix_on(f);
	negotiate(f);
	cmn_write(f, VIRTIO_PCI_COMMON_MSIX, CFGVEC, 2);
	queue_setup(f, OUTSIDE_RAM, QVEC);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* misaligned rings too, after a reset */
	negotiate(f);
	assert_int_equal(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	queue_setup(f, DESC_GPA + 2, QVEC);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_broken_chain_needs_reset(void **state)
{
	struct fixture *f = *state;

	bring_up(f, true);
	fired(f, CFGVEC);
	drv_desc(f->d, 0, OUTSIDE_RAM, 64, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);
	assert_true(wait_status(f, VIRTIO_CONFIG_S_NEEDS_RESET));
	assert_int_equal(drv_used_idx(f->d), 0);
	assert_int_equal(wait_fired(f, CFGVEC), 1);	/* config change interrupt */
}

static void test_queue_size_checks(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, 7, 2);	/* not a power of two */
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, 512, 2);	/* over the maximum */
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, 0, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	/* a queue that does not exist reads 0 and ignores writes */
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SELECT, 5, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

static void test_features(void **state)
{
	struct fixture *f = *state;

	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_DF, 4), 0);
	cmn_write(f, VIRTIO_PCI_COMMON_DFSELECT, 0xffffffff, 4);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_DF, 4), 0);
	/* a driver without VERSION_1 (legacy) is refused */
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		  VIRTIO_CONFIG_S_DRIVER, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	assert_int_equal(status(f) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* features not offered are refused */
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, 1 | 2, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_FEATURES_OK, 1);
	assert_int_equal(status(f) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* driver feature select out of range: writes ignored, reads 0 */
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 9, 4);
	cmn_write(f, VIRTIO_PCI_COMMON_GF, 0xffffffff, 4);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_GF, 4), 0);
	/* odd widths and offsets are ignored */
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 4);
	mmio_write(f->mmio, f->bar0 + 0x0f00, 0xffffffff, 4);
	assert_int_equal(mmio_read(f->mmio, f->bar0 + 0x0f00, 4), 0);
}

static void test_bad_notify(void **state)
{
	struct fixture *f = *state;

	bring_up(f, true);
	drv_desc(f->d, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 5);						/* no such queue */
	mmio_write(f->mmio, f->notify + 2, 0, 2);		/* misaligned */
	mmio_write(f->mmio, f->notify, 0, 1);			/* byte write */
	mmio_write(f->mmio, f->bar0 + VIRTIO_PCI_BAR_SIZE - 8, 0, 8);
	settle();
	assert_int_equal(drv_used_idx(f->d), 0);
	kick(f, 0);
	assert_int_equal(wait_used(f, 1), 1);
}

static void test_reset_clears_queues(void **state)
{
	struct fixture *f = *state;

	bring_up(f, true);
	cmn_write(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(status(f), 0);
	cmn_write(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cmn_write(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(cmn_read(f, VIRTIO_PCI_COMMON_GF, 4), 0);
	/* a notify after reset does nothing; a second bring-up works */
	drv_desc(f->d, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(f->d, 0);
	kick(f, 0);
	settle();
	assert_int_equal(drv_used_idx(f->d), 0);
	assert_int_equal(drv_configure(f->d, QSIZE, 0), 0);
	bring_up(f, true);
	drv_publish(f->d, 0);
	kick(f, 0);
	assert_int_equal(wait_used(f, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posted_before_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_chain_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_size_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_clears_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_enable_after_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_without_features_ok, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
