/*
 * rng.c - xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64
 * as its authors recommend, so that nearby seeds give unrelated states and the
 * state is never all zero.
 */
#include "sim/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

/* 64-bit FNV-1a. Not a strong hash, which is why its result goes through
 * splitmix64 with the seed before it becomes a state. */
static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; s != NULL && *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void rng_derive(struct rng *r, uint64_t seed, const char *name)
{
	/* Mix seed and name hash asymmetrically, so (seed, name) pairs whose XOR
	 * would coincide still give different streams. */
	uint64_t x = seed;
	uint64_t mixed = splitmix64(&x) ^ fnv1a64(name);
	rng_seed(r, mixed);
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* High 64 bits of a 64x64 product, in portable C (no __int128 in C11). */
static inline uint64_t mul_hi(uint64_t a, uint64_t b, uint64_t *lo)
{
	uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
	uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
	uint64_t p0 = a_lo * b_lo;
	uint64_t p1 = a_lo * b_hi;
	uint64_t p2 = a_hi * b_lo;
	uint64_t p3 = a_hi * b_hi;
	uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;
	*lo = (mid << 32) | (uint32_t)p0;
	return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

/* Lemire, "Fast Random Integer Generation in an Interval" (2019): the high
 * word of x * bound is uniform in [0, bound) once the low words that would
 * bias it, those below 2^64 mod bound, are rejected. */
uint64_t rng_below(struct rng *r, uint64_t bound)
{
	if (bound == 0)
		return 0;
	uint64_t lo;
	uint64_t hi = mul_hi(rng_next(r), bound, &lo);
	if (lo < bound) {
		uint64_t threshold = (0 - bound) % bound;
		while (lo < threshold)
			hi = mul_hi(rng_next(r), bound, &lo);
	}
	return hi;
}

double rng_double(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_exponential(struct rng *r, double mean)
{
	/* 1 - u lies in (0, 1], so the log is finite. */
	return -mean * log(1.0 - rng_double(r));
}

void rng_fill(struct rng *r, void *out, size_t len)
{
	/* Bytes are taken little-endian from each draw, so a run fills the same
	 * bytes on any host. */
	uint8_t *p = out;
	while (len > 0) {
		uint64_t v = rng_next(r);
		size_t n = len < 8 ? len : 8;
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(v >> (8 * i));
		p += n;
		len -= n;
	}
}
