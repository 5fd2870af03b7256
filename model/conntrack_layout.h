/*
 * conntrack_layout.h - the table's structs and its hash, private to model/.
 * model/conntrack.c owns them and is the only file that changes them;
 * model/prefetch.c reads their layout and the hash to ask the CPU for a
 * packet's bucket and entry before it arrives, and pins what it relies on
 * with _Static_asserts. Nothing outside model/ includes this.
 */
#ifndef NATSIM_MODEL_CONNTRACK_LAYOUT_H
#define NATSIM_MODEL_CONNTRACK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "model/conntrack.h"
#include "sim/engine.h"

struct ct_node;

/* One direction of an entry in the hash table (netfilter's
 * nf_conntrack_tuple_hash). */
struct ct_hnode {
	struct ct_hnode *next;
	struct ct_node *owner;
	enum conntrack_dir dir;
};

/* The hash nodes come first and the entry, whose tuples open it, right
 * after them: a lookup reads a hash node and then its entry's tuples, and
 * this way both sit in the first 84 bytes of the node (a line or two next
 * to each other) rather than 160 bytes apart behind the entry's TCP state,
 * which a UDP lookup never reads. */
struct ct_node {
	struct ct_hnode hn[2];
	struct conntrack_entry e;
	struct ct_node *prev, *next; /* creation order */
	engine_event_id timer;
	struct conntrack *ct;
};

/* Inline: a home router holds a handful of flows; doubles as it fills. */
#define CT_MIN_BUCKETS 16

struct conntrack {
	/* First, together: what every lookup reads. A small table's buckets
	 * live here too (`inline_buckets`), so a home router's lookup costs no
	 * separate array to fetch; a grown one is allocated. */
	struct ct_hnode **buckets;
	size_t n_buckets; /* a power of two */
	struct ct_hnode *inline_buckets[CT_MIN_BUCKETS];
	struct engine *engine;
	const char *node_name;
	struct conntrack_config cfg;
	size_t count;
	uint32_t next_id;
	struct ct_node *head, *tail;
	conntrack_destroy_fn on_destroy;
	void *on_destroy_ctx;
};

/* The bucket of tuple `t` in `ct`'s hash table. */
static inline size_t ct_hash(const struct conntrack *ct, const struct conntrack_tuple *t)
{
	uint64_t a = ((uint64_t)t->src << 32) | t->dst;
	uint64_t b = ((uint64_t)t->proto << 32) | ((uint64_t)t->sport << 16) | t->dport;

	return (size_t)(hash_mix64(a ^ hash_mix64(b)) & (ct->n_buckets - 1));
}

#endif
