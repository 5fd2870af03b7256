/*
 * conntrack_layout.h - struct conntrack, private to model/. model/conntrack.c
 * owns it and is the only file that changes it; model/prefetch.c reads its
 * layout to ask the CPU for the table's buckets before a packet arrives, and
 * pins what it relies on with _Static_asserts. Nothing outside model/
 * includes this.
 */
#ifndef NATSIM_MODEL_CONNTRACK_LAYOUT_H
#define NATSIM_MODEL_CONNTRACK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "model/conntrack.h"
#include "sim/engine.h"

struct ct_hnode; /* the rest is model/conntrack.c's own */
struct ct_node;

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

#endif
