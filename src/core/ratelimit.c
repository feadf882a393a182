// SPDX-License-Identifier: MIT
/* Token-bucket rate limiters: see core/ratelimit.h. */
#include "core/ratelimit.h"

#include <string.h>

#define RL_MAX_SIZE	(1ULL << 50)	/* tokens: far above any rate, exact in a double */
#define RL_MAX_REFILL_MS (3600ULL * 1000)
/*
 * The longest single wait handed out: a guest's huge request on a slow
 * bucket can owe years; the thread wakes hourly and asks again instead
 * (and a double that large would not convert to a uint64_t).
 */
#define RL_MAX_WAIT_NS	(3600.0 * 1e9)

static void bucket_set(struct rl_bucket *b, const struct husk_token_bucket *t, uint64_t now)
{
	memset(b, 0, sizeof(*b));
	if (!t->size || !t->refill_ms)
		return;
	b->size = t->size;
	b->refill_ns = t->refill_ms * 1000000ULL;
	b->budget = (double)t->size;
	b->burst = (double)t->one_time_burst;
	b->last_ns = now;
}

static void refill(struct rl_bucket *b, uint64_t now)
{
	if (!b->size || now <= b->last_ns)
		return;
	b->budget += (double)(now - b->last_ns) * (double)b->size / (double)b->refill_ns;
	if (b->budget > (double)b->size)
		b->budget = (double)b->size;
	b->last_ns = now;
}

/* 0 when @n can be taken now, else the ns until it can. */
static uint64_t wait_for(const struct rl_bucket *b, uint64_t n)
{
	double need = (double)n - b->burst, wait;

	if (!b->size || need <= 0)
		return 0;
	if (need > (double)b->size)
		need = (double)b->size;	/* a full bucket lets a big one through */
	if (b->budget >= need)
		return 0;
	wait = (need - b->budget) * (double)b->refill_ns / (double)b->size;
	return (uint64_t)(wait < RL_MAX_WAIT_NS ? wait : RL_MAX_WAIT_NS) + 1;
}

static void take(struct rl_bucket *b, uint64_t n)
{
	double from_burst;

	if (!b->size)
		return;
	from_burst = b->burst < (double)n ? b->burst : (double)n;
	b->burst -= from_burst;
	b->budget -= (double)n - from_burst;
}

static bool limits(const struct husk_rate_limit *c)
{
	return (c->bandwidth.size && c->bandwidth.refill_ms) || (c->ops.size && c->ops.refill_ms);
}

void rl_init(struct rate_limiter *rl, const struct husk_rate_limit *cfg, uint64_t now_ns)
{
	memset(rl, 0, sizeof(*rl));
	pthread_mutex_init(&rl->lock, NULL);
	bucket_set(&rl->bw, &cfg->bandwidth, now_ns);
	bucket_set(&rl->ops, &cfg->ops, now_ns);
	rl->active = limits(cfg);
}

void rl_destroy(struct rate_limiter *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

void rl_update(struct rate_limiter *rl, const struct husk_rate_limit *cfg, uint64_t now_ns)
{
	pthread_mutex_lock(&rl->lock);
	bucket_set(&rl->bw, &cfg->bandwidth, now_ns);
	bucket_set(&rl->ops, &cfg->ops, now_ns);
	__atomic_store_n(&rl->active, limits(cfg), __ATOMIC_RELAXED);
	pthread_mutex_unlock(&rl->lock);
}

/* Refill both buckets, then: 0 (taken when @consume), or the ns to wait. Lock held. */
static uint64_t ask(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns,
		    bool consume)
{
	uint64_t wb, wo;

	refill(&rl->bw, now_ns);
	refill(&rl->ops, now_ns);
	wb = wait_for(&rl->bw, bytes);
	wo = wait_for(&rl->ops, ops);
	if (wb || wo) {
		rl->throttled++;
		return wb > wo ? wb : wo;
	}
	if (consume) {
		take(&rl->bw, bytes);
		take(&rl->ops, ops);
	}
	return 0;
}

uint64_t rl_consume(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns)
{
	uint64_t wait;

	pthread_mutex_lock(&rl->lock);
	wait = ask(rl, bytes, ops, now_ns, true);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

uint64_t rl_peek(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns)
{
	uint64_t wait;

	pthread_mutex_lock(&rl->lock);
	wait = ask(rl, bytes, ops, now_ns, false);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

void rl_charge(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns)
{
	pthread_mutex_lock(&rl->lock);
	refill(&rl->bw, now_ns);
	refill(&rl->ops, now_ns);
	take(&rl->bw, bytes);
	take(&rl->ops, ops);
	pthread_mutex_unlock(&rl->lock);
}

bool rl_valid(const struct husk_rate_limit *cfg)
{
	const struct husk_token_bucket *t[2] = { &cfg->bandwidth, &cfg->ops };

	for (int i = 0; i < 2; i++)
		if (t[i]->size > RL_MAX_SIZE || t[i]->one_time_burst > RL_MAX_SIZE ||
		    t[i]->refill_ms > RL_MAX_REFILL_MS)
			return false;
	return true;
}
