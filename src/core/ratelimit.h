/* SPDX-License-Identifier: MIT */
#ifndef HUSK_RATELIMIT_H
#define HUSK_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "husk/husk.h"

/*
 * Rate limiting with Firecracker's token buckets (husk_rate_limit): one for
 * bytes, one for operations. The device's I/O thread asks before it starts
 * a request; a "no" comes with how long to wait, and the thread arms a
 * timer for that instead of spinning. Updates (PATCH) come from the API
 * thread, hence the lock (never contended on the data path but by them).
 *
 * A request larger than a bucket goes through once that bucket is full and
 * leaves it in debt, so the long-run rate holds for any request size.
 */
struct rl_bucket {
	double budget;		/* tokens now (negative: debt) */
	double burst;		/* one_time_burst left */
	uint64_t size;		/* 0: no limit */
	uint64_t refill_ns;
	uint64_t last_ns;
};

struct rate_limiter {
	pthread_mutex_t lock;
	struct rl_bucket bw, ops;
	bool active;		/* either bucket limits (read without the lock: a hint) */
	uint64_t throttled;	/* times a request had to wait */
};

void rl_init(struct rate_limiter *rl, const struct husk_rate_limit *cfg, uint64_t now_ns);
void rl_destroy(struct rate_limiter *rl);
/* New limits (PATCH): buckets start full again, as Firecracker's do. */
void rl_update(struct rate_limiter *rl, const struct husk_rate_limit *cfg, uint64_t now_ns);
/* Take @bytes and @ops: 0, or nothing taken and the ns to wait before asking again. */
uint64_t rl_consume(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns);
/*
 * For a size known only afterwards (a received frame): rl_peek() says how
 * long until @bytes and @ops could be taken (0: now), taking nothing;
 * rl_charge() takes them whatever the budget (it may go into debt).
 */
uint64_t rl_peek(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns);
void rl_charge(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns);
static inline bool rl_active(const struct rate_limiter *rl)
{
	return __atomic_load_n(&rl->active, __ATOMIC_RELAXED);
}
/* Firecracker's ranges: refill_time and size within what the math takes. */
bool rl_valid(const struct husk_rate_limit *cfg);

#endif
