/*
 * ratelimit.h - per-source token buckets for a server that answers strangers,
 * sans-I/O: the time comes in as an argument, nothing reads a clock.
 *
 * Each source address has a bucket of `burst` tokens that refills at one token
 * per `interval_ns`; an answer costs one token, and a source whose bucket is
 * empty is refused until a token is back. Implemented as GCRA (the "virtual
 * scheduling" form of a token bucket, ITU-T I.371): each slot keeps only the
 * theoretical arrival time of the next token, one uint64_t, no floats.
 *
 * Memory is fixed at creation: addresses are hashed into `slots` slots, and
 * sources that share a slot share its bucket. Strangers therefore cannot make
 * the table grow, and a collision can only make a limit stricter, never looser.
 */
#ifndef NATSIM_P2P_RATELIMIT_H
#define NATSIM_P2P_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit_config {
	uint32_t burst;	      /* tokens a quiet source starts with (>= 1) */
	uint64_t interval_ns; /* one token comes back every interval_ns (> 0) */
	size_t slots;	      /* rounded up to a power of two; 0: 4096 */
};

enum ratelimit_verdict {
	RATELIMIT_PASS = 0,	/* a token was taken: answer */
	RATELIMIT_REFUSE_FIRST, /* refused, and the first refusal since this source was
				   last allowed: the one worth a log line */
	RATELIMIT_REFUSE,	/* refused again */
};

struct ratelimit;

/* NULL on allocation failure or a config out of range. */
struct ratelimit *ratelimit_new(const struct ratelimit_config *cfg);
void ratelimit_free(struct ratelimit *r);

/* Takes a token for `key` (an IPv4 address, host order) at `now_ns`. Time must
 * not go backwards between calls. */
enum ratelimit_verdict ratelimit_take(struct ratelimit *r, uint32_t key, uint64_t now_ns);

#endif
