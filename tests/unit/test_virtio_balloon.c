// SPDX-License-Identifier: MIT
/*
 * virtio-balloon over virtio-mmio with a pretend driver: the config space
 * (target set by the host, actual written by the driver), inflating gives
 * the pages back to the host (they read as zero, frames outside RAM are
 * counted and ignored), the statistics queue (held, parsed, returned at the
 * interval), the set_target/interval calls' bounds, and saved state (round
 * trip byte-equal, hostile values refused).
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
#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "core/statebuf.h"
#include "pci_test_helpers.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_mmio.h"
#include "vq_driver.h"

#define QSIZE		8
#define FILL_GPA	0xa00000ull	/* pages the driver inflates */
#define FILL_PAGES	64
#define PFN_GPA		(BUF_GPA + 0x10000)

struct rig {
	struct io_bus *mmio;
	struct virtio_mmio_bus bus;
	struct virtio_balloon *b;
	struct drv *d;
};

static struct rig *rig_new(const struct husk_balloon_config *cfg)
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
	assert_int_equal(virtio_balloon_create(&env, cfg, &g->b), 0);
	return g;
}

static void rig_free(struct rig *g)
{
	virtio_balloon_destroy(g->b);
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

	for (int i = 0; i < 3000 && drv_used_idx(d) != want; i++)
		nanosleep(&ts, NULL);
	return drv_used_idx(d);
}

/* Negotiate @feat (low word) and run queue @q on the driver's rings. */
static void rig_up(struct rig *g, uint32_t feat, unsigned q)
{
	uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	wr(g, VIRTIO_MMIO_STATUS, s);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES, feat);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(g, VIRTIO_MMIO_STATUS, s |= VIRTIO_CONFIG_S_FEATURES_OK);
	wr(g, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(g, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(g, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(g, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(g, VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(g, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(g, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

static const struct husk_balloon_config cfg8 = { .enabled = true, .amount_mib = 8 };

static void test_config_space(void **state)
{
	struct rig *g = rig_new(&cfg8);
	struct husk_balloon_info in;
	uint8_t gen;

	(void)state;
	/* offered: no statistics, reporting or deflate-on-oom unless asked */
	wr(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(g, VIRTIO_MMIO_DEVICE_FEATURES) &
			 ((1u << VIRTIO_BALLOON_F_STATS_VQ) | (1u << VIRTIO_BALLOON_F_REPORTING) |
			  (1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM) |
			  (1u << VIRTIO_BALLOON_F_MUST_TELL_HOST)), 0);
	assert_int_equal(rd(g, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	assert_int_equal(rd(g, VIRTIO_MMIO_CONFIG), 8 << 8);		/* num_pages */
	assert_int_equal(rd(g, VIRTIO_MMIO_CONFIG + 4), 0);		/* actual */
	wr(g, VIRTIO_MMIO_CONFIG + 4, 1234);
	wr(g, VIRTIO_MMIO_CONFIG, 99);					/* not the driver's */
	assert_int_equal(rd(g, VIRTIO_MMIO_CONFIG), 8 << 8);
	virtio_balloon_info(g->b, &in);
	assert_int_equal(in.actual_pages, 1234);
	assert_int_equal(in.target_pages, 8 << 8);
	/* a new target is visible and bumps the config generation */
	gen = (uint8_t)rd(g, VIRTIO_MMIO_CONFIG_GENERATION);
	assert_int_equal(virtio_balloon_set_target(g->b, 100), 0);
	assert_int_equal(rd(g, VIRTIO_MMIO_CONFIG), 100);
	assert_int_not_equal((uint8_t)rd(g, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	/* more than RAM is refused; the interval cannot be set without statistics */
	assert_int_equal(virtio_balloon_set_target(g->b, (DRV_RAM >> 12) + 1), -EINVAL);
	assert_int_equal(virtio_balloon_set_stats_interval(g->b, 5), -EPERM);
	rig_free(g);
}

static void test_create_bounds(void **state)
{
	struct husk_balloon_config c = { .enabled = true, .amount_mib = (DRV_RAM >> 20) + 1 };
	struct virtio_balloon *b = NULL;
	struct drv *d = drv_new(QSIZE, 0);
	struct io_bus *mmio = iobus_create("mmio");
	struct virtio_mmio_bus bus = { .mmio = mmio, .vm_fd = -1 };
	struct virtio_env env = {
		.mem = &d->mem, .kind = HUSK_VIRTIO_MMIO, .mmio = &bus, .vm_fd = -1,
	};

	(void)state;
	assert_int_equal(virtio_balloon_create(&env, &c, &b), -EINVAL);
	assert_null(b);
	c.amount_mib = 1;
	c.stats_interval_s = HUSK_BALLOON_STATS_MAX_INTERVAL + 1;
	assert_int_equal(virtio_balloon_create(&env, &c, &b), -EINVAL);
	iobus_destroy(mmio);
	drv_free(d);
}

/* The driver fills FILL_PAGES pages, then inflates them (and one frame beyond RAM). */
static void test_inflate_discards(void **state)
{
	struct rig *g = rig_new(&cfg8);
	struct virtio_balloon_counts n;
	uint8_t *pfns = drv_ptr(g->d, PFN_GPA, 4 * (FILL_PAGES + 1));
	uint8_t *fill = drv_ptr(g->d, FILL_GPA, FILL_PAGES * 4096ull);
	uint32_t id, len;

	(void)state;
	memset(fill, 0xab, FILL_PAGES * 4096ull);
	/* every other run reversed: the device coalesces only what is consecutive */
	for (uint32_t i = 0; i < FILL_PAGES; i++) {
		uint32_t pfn = (uint32_t)(FILL_GPA >> 12) + (i < 32 ? i : FILL_PAGES - 1 - (i - 32));

		pfn = htole32(pfn);
		memcpy(pfns + 4 * i, &pfn, 4);
	}
	memcpy(pfns + 4 * FILL_PAGES, &(uint32_t){ htole32(0x7fffffff) }, 4);
	rig_up(g, 0, 0);
	drv_desc(g->d, 0, PFN_GPA, 4 * (FILL_PAGES + 1), 0, 0);
	drv_publish(g->d, 0);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(wait_used(g->d, 1), 1);
	drv_used_elem(g->d, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	for (uint64_t i = 0; i < FILL_PAGES * 4096ull; i++)
		if (fill[i])
			fail_msg("byte %llu of the inflated pages is %#x, not 0",
				 (unsigned long long)i, fill[i]);
	virtio_balloon_counts(g->b, &n);
	assert_int_equal(n.inflated_pages, FILL_PAGES + 1);
	assert_int_equal(n.bad_pfns, 1);
	assert_int_equal(n.discarded_bytes, FILL_PAGES * 4096ull);
	/* the page after them was not touched */
	fill[FILL_PAGES * 4096ull] = 0;
	assert_int_equal(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	rig_free(g);
}

/*
 * A hostile inflate chain of 100000 frame numbers (the same frame): the
 * device reads 4096 of them, counts the rest as bad, and answers at once.
 */
static void test_inflate_chain_capped(void **state)
{
	struct rig *g = rig_new(&cfg8);
	struct virtio_balloon_counts n;
	const uint32_t nr = 100000;
	uint8_t *pfns = drv_ptr(g->d, PFN_GPA, 4ull * nr);
	uint32_t pfn = htole32((uint32_t)(FILL_GPA >> 12));

	(void)state;
	for (uint32_t i = 0; i < nr; i++)
		memcpy(pfns + 4ull * i, &pfn, 4);
	rig_up(g, 0, 0);
	drv_desc(g->d, 0, PFN_GPA, 4 * nr, 0, 0);
	drv_publish(g->d, 0);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(wait_used(g->d, 1), 1);
	virtio_balloon_counts(g->b, &n);
	assert_int_equal(n.inflated_pages, 4096);
	assert_int_equal(n.bad_pfns, nr - 4096);
	rig_free(g);
}

static void put_stat(uint8_t *p, uint16_t tag, uint64_t v)
{
	tag = htole16(tag);
	v = htole64(v);
	memcpy(p, &tag, 2);
	memcpy(p + 2, &v, 8);
}

/* Statistics queue (index 2): held, parsed, returned at the interval; saved. */
static void test_stats_and_state(void **state)
{
	struct husk_balloon_config c = cfg8;
	struct state_writer w1, w2;
	struct state_reader r;
	struct husk_balloon_info in;
	uint8_t *buf;
	struct rig *g, *h;

	(void)state;
	c.stats_interval_s = 1;
	g = rig_new(&c);
	buf = drv_ptr(g->d, BUF_GPA, 40);
	put_stat(buf, VIRTIO_BALLOON_S_MEMFREE, 5u << 20);
	put_stat(buf + 10, VIRTIO_BALLOON_S_MEMTOT, 16u << 20);
	put_stat(buf + 20, 200, 7);		/* unknown tag: ignored */
	put_stat(buf + 30, VIRTIO_BALLOON_S_MINFLT, 42);
	rig_up(g, 1u << VIRTIO_BALLOON_F_STATS_VQ, 2);
	drv_desc(g->d, 0, BUF_GPA, 40, 0, 0);
	drv_publish(g->d, 0);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	for (int i = 0; i < 1000; i++) {
		virtio_balloon_info(g->b, &in);
		if (in.stats_has)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	assert_int_equal(in.stats_has, (1u << VIRTIO_BALLOON_S_MEMFREE) |
			 (1u << VIRTIO_BALLOON_S_MEMTOT) | (1u << VIRTIO_BALLOON_S_MINFLT));
	assert_int_equal(in.stats[VIRTIO_BALLOON_S_MEMTOT], 16u << 20);
	assert_int_equal(in.stats[VIRTIO_BALLOON_S_MINFLT], 42);
	assert_int_equal(drv_used_idx(g->d), 0);		/* held */
	/* the interval returns it: a request for fresh statistics */
	assert_int_equal(wait_used(g->d, 1), 1);
	/* the driver posts it again; the device holds it; pause puts it back */
	drv_publish(g->d, 0);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	assert_int_equal(virtio_balloon_set_stats_interval(g->b, 0), -EINVAL);
	assert_int_equal(virtio_balloon_set_stats_interval(g->b, 3600), 0);
	assert_int_equal(virtio_balloon_set_target(g->b, 77), 0);
	wr(g, VIRTIO_MMIO_CONFIG + 4, 77);
	virtio_balloon_pause(g->b);
	sw_init(&w1);
	assert_int_equal(virtio_balloon_save(g->b, &w1), 0);
	/*
	 * into a fresh device of a paused VM over a copy of RAM: the same state
	 * again (the start at load may take the statistics buffer: it goes back)
	 */
	h = rig_new(&c);
	memcpy(drv_ptr(h->d, 0, DRV_RAM), drv_ptr(g->d, 0, DRV_RAM), DRV_RAM);
	virtio_balloon_pause(h->b);
	sr_init(&r, w1.buf, w1.len);
	assert_int_equal(virtio_balloon_load(h->b, &r), 0);
	virtio_balloon_info(h->b, &in);
	assert_int_equal(in.target_pages, 77);
	assert_int_equal(in.actual_pages, 77);
	assert_int_equal(in.stats_interval_s, 3600);
	assert_int_equal(in.stats[VIRTIO_BALLOON_S_MINFLT], 42);
	sw_init(&w2);
	assert_int_equal(virtio_balloon_save(h->b, &w2), 0);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.buf, w2.buf, w1.len);
	/* a running device refuses to save */
	virtio_balloon_resume(h->b);
	sw_release(&w2);
	sw_init(&w2);
	assert_int_equal(virtio_balloon_save(h->b, &w2), -EBUSY);
	sw_release(&w2);
	rig_free(h);
	/* hostile: the target beyond RAM, an interval out of range, unknown tags, short */
	for (int k = 0; k < 4; k++) {
		size_t tail = 8 + 8 + 8 * HUSK_BALLOON_NTAGS;	/* from the target on */
		uint8_t *p;
		uint32_t v;

		h = rig_new(&c);
		sw_init(&w2);
		sw_bytes(&w2, w1.buf, w1.len);
		p = w2.buf + w1.len - tail;
		if (k == 0)
			v = htole32((uint32_t)(DRV_RAM >> 12) + 1), memcpy(p, &v, 4);
		else if (k == 1)
			v = htole32(3601), memcpy(p + 8, &v, 4);
		else if (k == 2)
			v = htole32(1u << 20), memcpy(p + 12, &v, 4);
		sr_init(&r, w2.buf, k == 3 ? w2.len - 1 : w2.len);
		assert_int_not_equal(virtio_balloon_load(h->b, &r), 0);
		virtio_balloon_info(h->b, &in);
		assert_int_equal(in.target_pages, 8 << 8);	/* unchanged */
		sw_release(&w2);
		rig_free(h);
	}
	sw_release(&w1);
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_inflate_discards),
		cmocka_unit_test(test_inflate_chain_capped),
		cmocka_unit_test(test_stats_and_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
