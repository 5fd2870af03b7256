/*
 * ladder.h - a packet-flow (sequence) diagram of a run, for the terminal:
 *
 *          alice home internet coord office bob
 *  0.000s    ├───▶│      │      │     │     │  #1 192.168.1.5:5000 → 192.0.2.10:3478 …
 *  0.000s    │    ◆      │      │     │     │  #1 home rewrites source 192.168.1.5:5000 → …
 *  0.000s    │    ├─────▶│      │     │     │  #1 203.0.113.7:5000 → 192.0.2.10:3478 …
 *  1.083s    │    │      │      │     ✗     │  #12 ✗ office dropped 203.0.113.7:5000 → …
 *
 * One lane per node that a shown hop touches; lanes are ordered from the
 * topology records: the branches behind NATs on the left and on the right
 * (hosts outermost, their NATs inside), the internet's routers and the
 * coordinator's host in the middle. One row per event, in the order of the
 * trace: a hop from node A (TX) to node B (RX) is an arrow A→B with the time
 * it left, the packet id and a one-line summary of the packet as it was on
 * that link; a NAT's rewrite is a ◆ on its lane with the endpoint that
 * changed (before → after); a drop is a ✗ on the lane where it happened (or
 * at the end of the arrow, for a packet lost on a link) with the model's
 * sentence; scenario notes are full-width rules. Deliveries to a socket and
 * sends are implied by the arrows and take no row.
 *
 * The diagram fits `width` columns: lanes narrow down to three columns, names
 * that do not fit are staggered over two header lines or cut with "…",
 * summaries are cut with "…" and drop sentences wrap under the text column.
 *
 * Renderers read the trace and nothing else (DESIGN.md); output goes to the
 * FILE* the caller gives.
 */
#ifndef NATSIM_VIZ_LADDER_H
#define NATSIM_VIZ_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model/packet.h" /* payload_summary_fn */
#include "sim/trace_log.h"

struct ladder_options {
	int64_t from_ns, to_ns;	    /* time window; to_ns < 0: to the end */
	const char *node;	    /* only hops at this node, or NULL */
	const char *pair_a;	    /* only packets between these two hosts' addresses */
	const char *pair_b;	    /* (either direction, before or after translation), or NULL */
	bool ascii;		    /* "|", "->", "x", "*" instead of box drawing */
	int width;		    /* columns to fit, 0 = 100 */
	payload_summary_fn payload; /* summariser for the packet summaries, or NULL */
};

/* Everything, UTF-8, 100 columns, no payload summariser. */
void ladder_options_default(struct ladder_options *o);

/* Render the diagram of `log` (NULL `opt` means the defaults). A window or a
 * filter that selects nothing prints one line saying so. Returns 0, or -1 on
 * a write error (or if out of memory). */
int ladder_render(FILE *out, const struct trace_log *log, const struct ladder_options *opt);

/* The diagram as data, for other drawings of it (natsim flow's picture,
 * the TUI): the lanes left to right and the rows in order, each row's text
 * in UTF-8 (the same text the terminal diagram shows). */
enum ladder_row_kind {
	LADDER_ARROW,	/* a hop from lane `from` to lane `to` (to < 0: nobody known) */
	LADDER_REWRITE, /* a NAT rewrote the packet on lane `from` */
	LADDER_DROP,	/* the packet died on lane `from` */
	LADDER_NOTE,	/* a scenario note: from = to = -1 */
};

struct ladder_row {
	enum ladder_row_kind kind;
	int64_t time;
	uint64_t packet_id;
	int from, to; /* lane indices */
	bool crossed; /* an arrow whose packet was lost on the way (ends in ✗) */
	bool wraps;   /* the text is a sentence worth wrapping rather than cutting */
	char *text;
	/* An ICMP arrow: what the message is ("echo request", "port
	 * unreachable"), for a drawing's arrow label; "" otherwise. */
	char icmp[48];
	bool icmp_error; /* that message reports an error about another packet */
	/* A TCP arrow: its flags as Wireshark brackets them ("[SYN,ACK]"), for
	 * a drawing's arrow label; "" otherwise. */
	char tcp[40];
};

struct ladder_view {
	size_t n_lanes;
	const char **lanes; /* node names, borrowed from the log */
	size_t n_rows;
	struct ladder_row *rows;
	size_t n_packet_rows; /* rows other than notes */
};

/* Build the view (free with ladder_view_free; the log must outlive it).
 * NULL if out of memory. */
struct ladder_view *ladder_view_build(const struct trace_log *log,
				      const struct ladder_options *opt);
void ladder_view_free(struct ladder_view *v);

/* Whether the topology records of `log` name a node called `name` (so that a
 * caller can reject a --ladder-node or --ladder-pair naming nothing). */
bool ladder_node_known(const struct trace_log *log, const char *name);

#endif
