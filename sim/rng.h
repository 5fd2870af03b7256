/*
 * rng.h - seeded pseudo-random streams (xoshiro256**, seeded by splitmix64).
 *
 * Every consumer of randomness takes its own named stream derived from the
 * run's seed and a name ("link:home-isp", "nat:office:ports"), so adding a host
 * does not change what any other element draws (DESIGN.md). Streams are plain
 * values: embed them, copy them, no allocation.
 */
#ifndef NATSIM_SIM_RNG_H
#define NATSIM_SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seed a stream directly. */
void rng_seed(struct rng *r, uint64_t seed);
/* Seed a stream from the run seed and a name: the same (seed, name) always
 * gives the same stream; different names give independent streams. */
void rng_derive(struct rng *r, uint64_t seed, const char *name);

uint64_t rng_next(struct rng *r);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double rng_double(struct rng *r);
/* Exponentially distributed with the given mean (>= 0). */
double rng_exponential(struct rng *r, double mean);
/* Fill bytes. */
void rng_fill(struct rng *r, void *out, size_t len);

#endif
