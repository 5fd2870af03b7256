/*
 * nat_layout.h - struct nat and its indexes' hashes, private to model/.
 * model/nat.c owns them and is the only file that changes them;
 * model/prefetch.c reads the layout and the hashes to ask the CPU for a
 * packet's buckets and mappings before it arrives, and pins what it relies
 * on with _Static_asserts. Nothing outside model/ includes this.
 */
#ifndef NATSIM_MODEL_NAT_LAYOUT_H
#define NATSIM_MODEL_NAT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "model/nat.h"
#include "sim/engine.h"
#include "sim/rng.h"

struct nat_node; /* the rest is model/nat.c's own */

#define NAT_MIN_BUCKETS 8 /* doubles as it fills */

struct nat {
	/* First: the indexes. They start in the struct itself (a home NAT
	 * holds a few mappings), so a lookup fetches no separate array until
	 * they grow. */
	struct nat_node **by_key, **by_ext;
	size_t n_buckets; /* a power of two, shared by both indexes */
	struct nat_node *inline_key[NAT_MIN_BUCKETS], *inline_ext[NAT_MIN_BUCKETS];
	struct engine *engine;
	const char *node_name;
	struct nat_config cfg;
	struct rng rng;
	size_t count;
	uint32_t next_id;
	uint16_t seq_next[NAT_MAX_PUBLIC];	/* sequential cursor per public address */
	uint16_t seq_next_icmp[NAT_MAX_PUBLIC]; /* the same for echo ids */
	struct nat_node *head, *tail;
	const struct conntrack *ct; /* the router's, for nat_used_tuple; may be NULL */
	size_t n_clash;		    /* live mappings with clash set */
	size_t n_explicit;	    /* live explicit mappings (PCP, NAT-PMP) */
	int64_t epoch_start;	    /* when the mapping state began (nat_epoch) */
};

/* The indexes' hashes: by internal endpoint and the part of the remote the
 * mapping key holds (by_key), and by external endpoint (by_ext). */
static inline uint64_t nat_ep_bits(const struct endpoint *ep)
{
	return ((uint64_t)ep->ip << 16) | ep->port;
}

static inline size_t nat_key_hash(const struct nat *nat, uint8_t proto,
				  const struct endpoint *internal,
				  const struct endpoint *key_remote)
{
	uint64_t h = hash_mix64(nat_ep_bits(internal) ^ ((uint64_t)proto << 56));
	return (size_t)(hash_mix64(h ^ nat_ep_bits(key_remote)) & (nat->n_buckets - 1));
}

static inline size_t nat_ext_hash(const struct nat *nat, uint8_t proto,
				  const struct endpoint *external)
{
	return (size_t)(hash_mix64(nat_ep_bits(external) ^ ((uint64_t)proto << 56)) &
			(nat->n_buckets - 1));
}

#endif
