// SPDX-License-Identifier: MIT
/*
 * Saved state of the virtio layer: a virtqueue on its own, and virtio-rng
 * over virtio-mmio (the device core's registers and queue): drive, pause,
 * save, load into a fresh device over a copy of guest memory, save again
 * (byte-equal), resume and serve more; every truncation and hostile values
 * refused with the device unchanged.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "core/statebuf.h"
#include "pci_test_helpers.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_rng.h"
#include "vq_driver.h"

#define QSIZE	8

/* ---- helpers ------------------------------------------------------------- */

static void copy_ram(struct drv *to, struct drv *from)
{
	memcpy(drv_ptr(to, 0, DRV_RAM), drv_ptr(from, 0, DRV_RAM), DRV_RAM);
	to->avail_idx = from->avail_idx;
	to->size = from->size;
}

/* One device-writable 64-byte buffer per head. */
static void post(struct drv *d, uint16_t head)
{
	drv_desc(d, head, BUF_GPA + 0x1000ull * head, 64, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(d, head);
}

/* ---- virtqueue ------------------------------------------------------------- */

static void test_vq_round_trip(void **state)
{
	struct drv *a = drv_new(QSIZE, F_ALL), *b = drv_new(QSIZE, 0);
	struct state_writer w1, w2;
	struct state_reader r;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (uint16_t h = 0; h < 3; h++)
		post(a, h);
	for (int i = 0; i < 3; i++)
		assert_int_equal(drv_pop(a), 1);
	assert_int_equal(virtqueue_push(&a->vq, 0, 64), 0);
	assert_int_equal(virtqueue_push(&a->vq, 1, 64), 0);	/* head 2 in flight */
	sw_init(&w1);
	assert_int_equal(virtqueue_save(&a->vq, &w1), 0);

	virtqueue_init(&b->vq);
	copy_ram(b, a);
	sr_init(&r, w1.buf, w1.len);
	assert_int_equal(virtqueue_load(&b->vq, &b->mem, &r), 0);
	sw_init(&w2);
	assert_int_equal(virtqueue_save(&b->vq, &w2), 0);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.buf, w2.buf, w1.len);
	/* the loaded queue points into b's memory and continues */
	assert_ptr_equal(b->vq.used, drv_ptr(b, USED_GPA, 1));
	assert_int_equal(virtqueue_push(&b->vq, 2, 64), 0);
	assert_int_equal(drv_used_idx(b), 3);
	post(b, 3);
	assert_int_equal(drv_pop(b), 1);
	assert_int_equal(b->chain.head, 3);
	assert_int_equal(drv_pop(b), 0);		/* nothing popped twice */
	assert_true(b->vq.st.event_idx && b->vq.st.indirect);
	sw_release(&w1);
	sw_release(&w2);
	drv_free(a);
	drv_free(b);
}

/* Every prefix is refused and the queue left as it was. */
static void test_vq_truncated(void **state)
{
	struct drv *a = drv_new(QSIZE, F_ALL), *b = drv_new(QSIZE, 0);
	struct virtqueue before;
	struct state_writer w;
	struct state_reader r;

	(void)state;
	post(a, 0);
	assert_int_equal(drv_pop(a), 1);
	sw_init(&w);
	virtqueue_save(&a->vq, &w);
	before = b->vq;
	for (size_t n = 0; n < w.len; n++) {
		sr_init(&r, w.buf, n);
		assert_int_equal(virtqueue_load(&b->vq, &b->mem, &r), -EINVAL);
		assert_memory_equal(&b->vq, &before, sizeof(before));
	}
	sw_release(&w);
	drv_free(a);
	drv_free(b);
}

static int load_state(struct drv *d, const struct virtqueue_state *st, char *why)
{
	struct state_writer w;
	struct state_reader r;
	int ret;

	sw_init(&w);
	virtqueue_state_write(st, &w);
	sr_init(&r, w.buf, w.len);
	ret = virtqueue_load(&d->vq, &d->mem, &r);
	memcpy(why, r.why, STATE_WHY_LEN);
	sw_release(&w);
	return ret;
}

static void test_vq_hostile(void **state)
{
	struct drv *d = drv_new(QSIZE, 0);
	struct virtqueue_state good = d->vq.st, bad;
	struct virtqueue before = d->vq;
	char why[STATE_WHY_LEN];

	(void)state;
	bad = good, bad.size = 6;
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	bad = good, bad.used_gpa = DRV_RAM - 8;			/* runs past RAM */
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	assert_non_null(strstr(why, "not guest RAM"));
	bad = good, bad.desc_gpa = 0x4000000000ull;
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	bad = good, bad.avail_gpa = AVAIL_GPA + 1;		/* misaligned */
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	bad = good, bad.last_avail_idx = 100, bad.used_idx = 90;	/* 10 in flight of 8 */
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	assert_non_null(strstr(why, "in flight"));
	bad = good, bad.used_idx = 1;				/* used ahead of avail */
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	memset(&bad, 0, sizeof(bad));
	bad.size = 8;						/* not ready, but set */
	assert_int_equal(load_state(d, &bad, why), -EINVAL);
	assert_memory_equal(&d->vq, &before, sizeof(before));
	bad = good, bad.last_avail_idx = bad.used_idx = 0xfffe;	/* wraps: fine */
	assert_int_equal(load_state(d, &bad, why), 0);
	drv_free(d);
}

/* ---- virtio-rng over virtio-mmio --------------------------------------------- */

struct rig {
	struct io_bus *mmio;
	struct virtio_mmio_bus bus;
	struct virtio_rng *rng;
	struct drv *d;
};

static struct rig *rig_new(void)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct virtio_env env;

	assert_non_null(g);
	g->d = drv_new(QSIZE, 0);
	assert_non_null(g->d);
	g->mmio = iobus_create("mmio");
	g->bus = (struct virtio_mmio_bus){ .mmio = g->mmio, .vm_fd = -1 };
	env = (struct virtio_env){
		.mem = &g->d->mem, .kind = HUSK_VIRTIO_MMIO, .mmio = &g->bus, .vm_fd = -1,
	};
	assert_int_equal(virtio_rng_create(&env, &g->rng), 0);
	return g;
}

static void rig_free(struct rig *g)
{
	virtio_rng_destroy(g->rng);
	iobus_destroy(g->mmio);
	drv_free(g->d);
	free(g);
}

static void wr(struct rig *g, unsigned off, uint32_t v)
{
	mmio_write(g->mmio, VIRTIO_MMIO_BASE + off, v, 4);
}

static uint32_t rd(struct rig *g, unsigned off)
{
	return (uint32_t)mmio_read(g->mmio, VIRTIO_MMIO_BASE + off, 4);
}

static uint16_t wait_used(struct drv *d, uint16_t want)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	for (int i = 0; i < 2000 && drv_used_idx(d) != want; i++)
		nanosleep(&ts, NULL);
	return drv_used_idx(d);
}

static void rig_up(struct rig *g)
{
	uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	wr(g, VIRTIO_MMIO_STATUS, s);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(g, VIRTIO_MMIO_STATUS, s |= VIRTIO_CONFIG_S_FEATURES_OK);
	wr(g, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(g, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(g, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(g, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(g, VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(g, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(g, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

static void rng_request(struct rig *g, uint16_t head)
{
	post(g->d, head);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* A running rng with two requests served, paused and saved into @w. */
static struct rig *rng_saved(struct state_writer *w)
{
	struct rig *g = rig_new();

	rig_up(g);
	rng_request(g, 0);
	rng_request(g, 1);
	assert_int_equal(wait_used(g->d, 2), 2);
	wr(g, VIRTIO_MMIO_QUEUE_SEL, 5);	/* a register the save must keep */
	virtio_rng_pause(g->rng);
	sw_init(w);
	assert_int_equal(virtio_rng_save(g->rng, w), 0);
	return g;
}

static void test_rng_mmio_round_trip(void **state)
{
	struct state_writer w1, w2, busy;
	struct state_reader r;
	struct rig *a, *b;

	(void)state;
	a = rng_saved(&w1);
	b = rig_new();
	copy_ram(b->d, a->d);
	sr_init(&r, w1.buf, w1.len);
	assert_int_equal(virtio_rng_load(b->rng, &r), 0);
	assert_true(rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(rd(b, VIRTIO_MMIO_QUEUE_SEL), 0);	/* write-only: reads 0 */
	virtio_rng_pause(b->rng);
	sw_init(&w2);
	assert_int_equal(virtio_rng_save(b->rng, &w2), 0);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.buf, w2.buf, w1.len);
	virtio_rng_resume(b->rng);
	/* the loaded device serves the queue from where it was */
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(b, VIRTIO_MMIO_QUEUE_READY), 1);
	rng_request(b, 2);
	assert_int_equal(wait_used(b->d, 3), 3);
	{
		uint32_t id, len;

		drv_used_elem(b->d, 2, &id, &len);
		assert_int_equal(id, 2);
		assert_int_equal(len, 64);
	}
	/* a running device refuses to save */
	sw_init(&busy);
	assert_int_equal(virtio_rng_save(b->rng, &busy), -EBUSY);
	sw_release(&busy);
	sw_release(&w1);
	sw_release(&w2);
	rig_free(a);
	rig_free(b);
}

static void test_rng_truncated(void **state)
{
	struct state_writer w, fresh;
	struct state_reader r;
	struct rig *a, *b;

	(void)state;
	a = rng_saved(&w);
	b = rig_new();
	copy_ram(b->d, a->d);
	sw_init(&fresh);
	assert_int_equal(virtio_rng_save(b->rng, &fresh), 0);	/* never started: no pause */
	for (size_t n = 0; n < w.len; n++) {
		struct state_writer now;

		sr_init(&r, w.buf, n);
		assert_int_equal(virtio_rng_load(b->rng, &r), -EINVAL);
		sw_init(&now);
		assert_int_equal(virtio_rng_save(b->rng, &now), 0);
		assert_int_equal(now.len, fresh.len);
		assert_memory_equal(now.buf, fresh.buf, now.len);
		sw_release(&now);
	}
	assert_int_equal(rd(b, VIRTIO_MMIO_STATUS), 0);
	sw_release(&fresh);
	sw_release(&w);
	rig_free(a);
	rig_free(b);
}

/* Byte offsets in the rng section (virtio_dev_save's layout). */
#define OFF_FEATURES	4
#define OFF_STATUS	(4 + 8 + 4 + 4 + 2 + 2)
#define OFF_ISR		(OFF_STATUS + 2)
#define OFF_Q0		(OFF_STATUS + 5)
#define OFF_Q0_SIZE	(OFF_Q0 + 24)
#define OFF_Q0_VQ	(OFF_Q0 + 24 + 2 + 2 + 1)

static void expect_refused(struct state_writer *w, size_t off, const void *val, size_t n,
			   const char *what)
{
	struct state_reader r;
	struct rig *b = rig_new();
	uint8_t *copy = malloc(w->len);

	memcpy(copy, w->buf, w->len);
	memcpy(copy + off, val, n);
	sr_init(&r, copy, w->len);
	assert_int_equal(virtio_rng_load(b->rng, &r), -EINVAL);
	if (!strstr(r.why, what))
		fail_msg("refused for \"%s\", expected \"%s\"", r.why, what);
	assert_int_equal(rd(b, VIRTIO_MMIO_STATUS), 0);
	free(copy);
	rig_free(b);
}

static void test_rng_hostile(void **state)
{
	struct state_writer w;
	struct rig *a;
	uint8_t feat[8] = { 0, 0, 0, 0, 1, 0, 0, 0x80 };	/* VERSION_1 + bit 63 */
	uint8_t b8;
	uint16_t sz = htole16(6);
	uint64_t gpa = htole64(0x4000000000ull);

	(void)state;
	a = rng_saved(&w);
	expect_refused(&w, OFF_FEATURES, feat, 8, "offered");
	b8 = 0x40;
	expect_refused(&w, OFF_STATUS, &b8, 1, "status");
	b8 = 0x10;
	expect_refused(&w, OFF_ISR, &b8, 1, "interrupt status");
	expect_refused(&w, OFF_Q0_SIZE, &sz, 2, "size");
	expect_refused(&w, OFF_Q0, &gpa, 8, "registers");		/* regs != ring */
	expect_refused(&w, OFF_Q0_VQ, &gpa, 8, "not guest RAM");
	{
		uint64_t both = htole64(0x4000000000ull);
		struct state_writer w2 = w;
		uint8_t *c = malloc(w.len);

		/* registers and ring agree, but outside RAM */
		memcpy(c, w.buf, w.len);
		memcpy(c + OFF_Q0, &both, 8);
		w2.buf = c;
		expect_refused(&w2, OFF_Q0_VQ, &both, 8, "not guest RAM");
		free(c);
	}
	sw_release(&w);
	rig_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vq_round_trip),
		cmocka_unit_test(test_vq_truncated),
		cmocka_unit_test(test_vq_hostile),
		cmocka_unit_test(test_rng_mmio_round_trip),
		cmocka_unit_test(test_rng_truncated),
		cmocka_unit_test(test_rng_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
