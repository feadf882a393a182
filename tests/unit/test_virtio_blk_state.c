// SPDX-License-Identifier: MIT
/*
 * virtio-blk over virtio-pci, saved and loaded: requests, pause (which
 * completes what is in flight), save, load into a fresh device on the same
 * image over a copy of guest memory, save again (byte-equal), resume, more
 * requests; truncations and a different disk refused, the device unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "block/block.h"
#include "block_test_helpers.h"
#include "core/statebuf.h"
#include "devices/pci.h"
#include "devices/pci_layout.h"
#include "pci_test_helpers.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"
#include "vq_driver.h"

#define QSIZE	16
#define HDR_GPA	0x900000ull
#define ST_GPA	0x9f0000ull

struct rig {
	struct io_bus *pio, *mmio;
	struct irq_routing *rt;
	struct pci_bus *bus;
	struct virtio_blk *blk;
	struct drv *d;
	uint64_t bar0;
};

static struct rig *rig_new(const char *path, uint64_t ram)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct husk_disk_config cfg = { .path = path, .queues = 1, .engine = HUSK_BLK_ENGINE_SYNC };
	struct pci_bus_params p;
	struct virtio_env env;
	struct blk_image img;
	char err[256];
	unsigned slot;

	assert_non_null(g);
	g->d = drv_new_ram(ram, QSIZE, 0);
	assert_non_null(g->d);
	g->pio = iobus_create("pio");
	g->mmio = iobus_create("mmio");
	assert_int_equal(irq_routing_create(-1, &g->rt), 0);
	p = (struct pci_bus_params){
		.pio = g->pio, .mmio = g->mmio, .routing = g->rt, .vm_fd = -1, .ram_size = ram,
	};
	assert_int_equal(pci_bus_create(&p, &g->bus), 0);
	env = (struct virtio_env){ .mem = &g->d->mem, .kind = HUSK_VIRTIO_PCI, .pci = g->bus,
				   .vm_fd = -1 };
	assert_int_equal(blk_image_open(&cfg, &img, err, sizeof(err)), 0);
	assert_int_equal(virtio_blk_create(&env, &cfg, &img, 1, &g->blk, err, sizeof(err)), 0);
	for (slot = 1; slot < PCI_SLOTS; slot++)
		if (cf8_read(g->pio, slot, PCI_VENDOR_ID, 4) == (0x1042u << 16 | 0x1af4))
			break;
	assert_true(slot < PCI_SLOTS);
	cf8_write(g->pio, slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	g->bar0 = pci_bar_addr(pci_bus_device(g->bus, slot), 0);
	return g;
}

static void rig_free(struct rig *g)
{
	virtio_blk_destroy(g->blk);
	pci_bus_destroy(g->bus);
	irq_routing_destroy(g->rt);
	iobus_destroy(g->pio);
	iobus_destroy(g->mmio);
	drv_free(g->d);
	free(g);
}

static void cw(struct rig *g, unsigned off, uint64_t v, uint32_t len)
{
	mmio_write(g->mmio, g->bar0 + VIRTIO_PCI_COMMON_OFF + off, v, len);
}

static uint64_t cr(struct rig *g, unsigned off, uint32_t len)
{
	return mmio_read(g->mmio, g->bar0 + VIRTIO_PCI_COMMON_OFF + off, len);
}

static void rig_up(struct rig *g)
{
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	cw(g, VIRTIO_PCI_COMMON_STATUS, s, 1);
	cw(g, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	cw(g, VIRTIO_PCI_COMMON_GF, 1, 4);
	cw(g, VIRTIO_PCI_COMMON_STATUS, s |= VIRTIO_CONFIG_S_FEATURES_OK, 1);
	cw(g, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	cw(g, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	cw(g, VIRTIO_PCI_COMMON_Q_DESCLO, DESC_GPA, 4);
	cw(g, VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL_GPA, 4);
	cw(g, VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA, 4);
	cw(g, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	cw(g, VIRTIO_PCI_COMMON_STATUS, s | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_int_equal(cr(g, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

static uint16_t wait_used(struct drv *d, uint16_t want)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	for (int i = 0; i < 3000 && drv_used_idx(d) != want; i++)
		nanosleep(&ts, NULL);
	return drv_used_idx(d);
}

/* Request @slot (3 descriptors from 3 * slot): IN or OUT of sector @sector. */
static void request(struct rig *g, unsigned slot, uint32_t type, uint64_t sector)
{
	struct drv *d = g->d;
	uint16_t h = (uint16_t)(3 * slot);
	struct virtio_blk_outhdr hdr = { .type = htole32(type), .sector = htole64(sector) };
	uint64_t hdr_gpa = HDR_GPA + 16ull * slot, buf = BUF_GPA + 512ull * slot;

	memcpy(drv_ptr(d, hdr_gpa, 16), &hdr, 16);
	*drv_ptr(d, ST_GPA + slot, 1) = 0xff;
	drv_desc(d, h, hdr_gpa, 16, VIRTQ_DESC_F_NEXT, h + 1);
	drv_desc(d, h + 1, buf, 512, VIRTQ_DESC_F_NEXT |
		 (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0), h + 2);
	drv_desc(d, h + 2, ST_GPA + slot, 1, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(d, h);
	mmio_write(g->mmio, g->bar0 + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
}

/* virtio_dev_save's layout: 29 bytes of device, then queue 0's 29 bytes of registers */
#define OFF_Q0_LAST_AVAIL	(29 + 29 + 24 + 2)

struct paths {
	char dir[64], img[128], other[160];
};

static void mk(struct paths *p)
{
	assert_int_equal(bt_mkdir(p->dir, sizeof(p->dir)), 0);
	assert_int_equal(bt_mkfile(p->dir, "disk.img", 1 << 20, 0600, p->img, sizeof(p->img)), 0);
	assert_int_equal(bt_mkfile(p->dir, "other.img", 2 << 20, 0600, p->other,
				   sizeof(p->other)), 0);
}

/* A running disk that wrote sectors 0 and 1, paused and saved. */
static struct rig *saved(const struct paths *p, struct state_writer *w)
{
	struct rig *g = rig_new(p->img, DRV_RAM);

	rig_up(g);
	memset(drv_ptr(g->d, BUF_GPA, 512), 0xa5, 512);
	memset(drv_ptr(g->d, BUF_GPA + 512, 512), 0x5a, 512);
	request(g, 0, VIRTIO_BLK_T_OUT, 0);
	request(g, 1, VIRTIO_BLK_T_OUT, 1);
	assert_int_equal(wait_used(g->d, 2), 2);
	virtio_blk_pause(g->blk);
	sw_init(w);
	assert_int_equal(virtio_blk_save(g->blk, w), 0);
	return g;
}

static void test_blk_round_trip(void **state)
{
	struct state_writer w1, w2, busy;
	struct state_reader r;
	struct paths p;
	struct rig *a, *b;
	uint32_t id, len;
	uint16_t avail_idx;
	uint8_t *ram;

	(void)state;
	mk(&p);
	a = saved(&p, &w1);
	ram = malloc(DRV_RAM);
	assert_non_null(ram);
	memcpy(ram, drv_ptr(a->d, 0, DRV_RAM), DRV_RAM);
	avail_idx = a->d->avail_idx;
	rig_free(a);		/* the image is locked by the device that has it open */
	b = rig_new(p.img, DRV_RAM);
	memcpy(drv_ptr(b->d, 0, DRV_RAM), ram, DRV_RAM);
	free(ram);
	b->d->avail_idx = avail_idx;
	sr_init(&r, w1.buf, w1.len);
	assert_int_equal(virtio_blk_load(b->blk, &r), 0);
	assert_true(cr(b, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	virtio_blk_pause(b->blk);
	sw_init(&w2);
	assert_int_equal(virtio_blk_save(b->blk, &w2), 0);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.buf, w2.buf, w1.len);
	virtio_blk_resume(b->blk);
	/* read sector 1 back through the loaded device: used idx goes on from 2 */
	memset(drv_ptr(b->d, BUF_GPA + 1024, 512), 0, 512);
	request(b, 2, VIRTIO_BLK_T_IN, 1);
	assert_int_equal(wait_used(b->d, 3), 3);
	drv_used_elem(b->d, 2, &id, &len);
	assert_int_equal(id, 6);
	assert_int_equal(*drv_ptr(b->d, ST_GPA + 2, 1), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(drv_ptr(b->d, BUF_GPA + 1024, 512)[i], 0x5a);
	sw_init(&busy);
	assert_int_equal(virtio_blk_save(b->blk, &busy), -EBUSY);	/* not paused */
	sw_release(&busy);
	sw_release(&w1);
	sw_release(&w2);
	rig_free(b);
	bt_rmdir(p.dir);
}

static void test_blk_refused(void **state)
{
	struct state_writer w, fresh, now;
	struct state_reader r;
	struct paths p;
	struct rig *a, *b, *c;

	(void)state;
	mk(&p);
	a = saved(&p, &w);
	rig_free(a);
	b = rig_new(p.img, DRV_RAM);
	sw_init(&fresh);
	assert_int_equal(virtio_blk_save(b->blk, &fresh), 0);
	for (size_t n = 0; n < w.len; n++) {
		sr_init(&r, w.buf, n);
		assert_int_equal(virtio_blk_load(b->blk, &r), -EINVAL);
		sw_init(&now);
		assert_int_equal(virtio_blk_save(b->blk, &now), 0);
		assert_memory_equal(now.buf, fresh.buf, now.len);
		sw_release(&now);
	}
	/* a disk of another size */
	c = rig_new(p.other, DRV_RAM);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(virtio_blk_load(c->blk, &r), -EINVAL);
	assert_non_null(strstr(r.why, "geometry"));
	rig_free(c);
	rig_free(b);
	/* a request in flight in the saved queue (last_avail_idx one ahead) */
	c = rig_new(p.img, DRV_RAM);
	w.buf[OFF_Q0_LAST_AVAIL]++;
	sr_init(&r, w.buf, w.len);
	assert_int_equal(virtio_blk_load(c->blk, &r), -EINVAL);
	assert_non_null(strstr(r.why, "in flight"));
	assert_int_equal(cr(c, VIRTIO_PCI_COMMON_STATUS, 1), 0);
	rig_free(c);
	sw_release(&fresh);
	sw_release(&w);
	bt_rmdir(p.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_round_trip),
		cmocka_unit_test(test_blk_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
