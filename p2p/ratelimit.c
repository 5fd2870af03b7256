/*
 * ratelimit.c - per-source token buckets as GCRA (see ratelimit.h).
 *
 * A bucket holding `burst` tokens that refills one per T is the same test as:
 * "the next token is due at tat; allow if tat - (burst - 1) * T <= now, and then
 * push tat to max(tat, now) + T". A quiet source has tat <= now, so it has the
 * whole burst; a source sending faster than 1/T pushes tat ahead of now until
 * the burst is used up.
 */
#include "ratelimit.h"

#include <stdlib.h>

#define DEFAULT_SLOTS 4096

struct ratelimit_slot {
	uint64_t tat;  /* theoretical arrival time of the next token */
	bool refusing; /* refused since the last pass: later refusals are not "first" */
};

struct ratelimit {
	struct ratelimit_config cfg;
	uint64_t tolerance; /* (burst - 1) * interval: how far tat may run ahead of now */
	size_t mask;
	struct ratelimit_slot slot[];
};

struct ratelimit *ratelimit_new(const struct ratelimit_config *cfg)
{
	size_t n = 1;

	if (cfg->burst == 0 || cfg->interval_ns == 0 ||
	    (uint64_t)(cfg->burst - 1) > UINT64_MAX / cfg->interval_ns / 2)
		return NULL;
	while (n < (cfg->slots ? cfg->slots : DEFAULT_SLOTS) && n < ((size_t)1 << 24))
		n *= 2;
	struct ratelimit *r = calloc(1, sizeof(*r) + n * sizeof(r->slot[0]));
	if (r == NULL)
		return NULL;
	r->cfg = *cfg;
	r->tolerance = (uint64_t)(cfg->burst - 1) * cfg->interval_ns;
	r->mask = n - 1;
	return r;
}

void ratelimit_free(struct ratelimit *r)
{
	free(r);
}

static size_t slot_of(const struct ratelimit *r, uint32_t key)
{
	uint64_t k = key;

	k ^= k >> 33; /* murmur3's finaliser: neighbouring addresses land far apart */
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return (size_t)k & r->mask;
}

enum ratelimit_verdict ratelimit_take(struct ratelimit *r, uint32_t key, uint64_t now_ns)
{
	struct ratelimit_slot *s = &r->slot[slot_of(r, key)];
	uint64_t tat = s->tat > now_ns ? s->tat : now_ns;

	if (tat - now_ns > r->tolerance) {
		bool first = !s->refusing;
		s->refusing = true;
		return first ? RATELIMIT_REFUSE_FIRST : RATELIMIT_REFUSE;
	}
	s->tat = tat + r->cfg.interval_ns;
	s->refusing = false;
	return RATELIMIT_PASS;
}
