// SPDX-License-Identifier: MIT
/*
 * The guest is another CPU: a driver thread and a device thread share one
 * queue. The driver publishes request chains (8 readable bytes holding a
 * sequence number, 8 writable bytes) and reclaims them from the used ring;
 * the device pops, answers seq + 1 and pushes. Checks every answer, and
 * (under -fsanitize=thread) the ordering of ring accesses.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "vq_driver.h"

#define SMP_QSIZE	64
#define SMP_PAIRS	(SMP_QSIZE / 2)	/* chain k uses descriptors 2k, 2k + 1 */
#define SMP_REQUESTS	200000u

struct smp {
	struct drv *d;
	unsigned int device_errors;
	unsigned int driver_errors;
};

static uint64_t pair_buf(unsigned int k)
{
	return BUF_GPA + 64ull * k;
}

static void *device_thread(void *arg)
{
	struct smp *t = arg;
	struct vq_seg segs[4];
	struct vq_chain chain;
	uint64_t v;
	unsigned int done = 0;
	int r;

	vq_chain_init(&chain, segs, 4);
	while (done < SMP_REQUESTS) {
		r = virtqueue_pop(&t->d->vq, &chain);
		if (r == 0) {
			sched_yield();
			continue;
		}
		if (r < 0 || vq_chain_read(&chain, 0, &v, 8) ||
		    vq_chain_writable_len(&chain) != 8) {
			__atomic_store_n(&t->device_errors, 1, __ATOMIC_RELAXED);
			break;
		}
		v++;
		vq_chain_write(&chain, 0, &v, 8);
		virtqueue_push(&t->d->vq, chain.head, 8);
		done++;
	}
	return NULL;
}

static void driver_submit(struct drv *d, unsigned int k, uint64_t seq)
{
	memcpy(drv_ptr(d, pair_buf(k), 8), &seq, 8);
	drv_desc(d, 2 * k, pair_buf(k), 8, VIRTQ_DESC_F_NEXT, (uint16_t)(2 * k + 1));
	drv_desc(d, 2 * k + 1, pair_buf(k) + 32, 8, VIRTQ_DESC_F_WRITE, 0);
	drv_publish(d, (uint16_t)(2 * k));	/* release store of avail->idx */
}

static void run_driver(struct smp *t)
{
	struct drv *d = t->d;
	uint64_t expect[SMP_PAIRS];
	uint16_t free_pairs[SMP_PAIRS], used_seen = 0, used;
	unsigned int nfree = SMP_PAIRS, completed = 0;
	uint64_t seq = 1000;
	uint32_t id, len;
	uint64_t got;

	for (unsigned int k = 0; k < SMP_PAIRS; k++)
		free_pairs[k] = (uint16_t)k;
	while (completed < SMP_REQUESTS && !__atomic_load_n(&t->device_errors, __ATOMIC_RELAXED)) {
		while (nfree && seq < 1000 + SMP_REQUESTS) {
			unsigned int k = free_pairs[--nfree];

			expect[k] = seq + 1;
			driver_submit(d, k, seq++);
		}
		used = le16toh(__atomic_load_n((uint16_t *)(void *)drv_ptr(d, USED_GPA + 2, 2),
					       __ATOMIC_ACQUIRE));
		if (used == used_seen)
			sched_yield();
		for (; used_seen != used; used_seen++) {
			drv_used_elem(d, used_seen, &id, &len);
			memcpy(&got, drv_ptr(d, pair_buf(id / 2) + 32, 8), 8);
			if (id % 2 || id >= SMP_QSIZE || len != 8 || got != expect[id / 2])
				t->driver_errors++;
			free_pairs[nfree++] = (uint16_t)(id / 2);
			completed++;
		}
	}
}

static void test_driver_and_device_threads(void **state)
{
	struct smp t = { 0 };
	pthread_t dev;

	(void)state;
	t.d = drv_new(SMP_QSIZE, F_EVENT_IDX);
	assert_non_null(t.d);
	assert_int_equal(pthread_create(&dev, NULL, device_thread, &t), 0);
	run_driver(&t);
	assert_int_equal(pthread_join(dev, NULL), 0);
	assert_int_equal(t.device_errors, 0);
	assert_int_equal(t.driver_errors, 0);
	assert_false(t.d->vq.st.broken);
	assert_int_equal(t.d->vq.st.last_avail_idx, (uint16_t)SMP_REQUESTS);
	assert_int_equal(t.d->vq.st.used_idx, (uint16_t)SMP_REQUESTS);
	drv_free(t.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_and_device_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
