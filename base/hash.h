/*
 * hash.h - the one integer mixer natsim's hash tables and seeded streams use.
 *
 * hash_mix64() is the finaliser of splitmix64 (Steele, Lea and Flood, 2014;
 * the constants are Vigna's, prng.di.unimi.it): a bijection on 64 bits where
 * every input bit flips each output bit with probability close to 1/2, so
 * neighbouring addresses and ports land in unrelated buckets and a table can
 * take the low bits. It is not a cryptographic hash. p2p/ stands alone and
 * keeps its own (murmur3's) in p2p/coord.c and p2p/ratelimit.c.
 */
#ifndef NATSIM_BASE_HASH_H
#define NATSIM_BASE_HASH_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif
