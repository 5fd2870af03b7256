/*
 * timeline.h - a run told as a story for the terminal, one line per event:
 *
 *       0.000s  alice     registered with the coordinator as 203.0.113.7:61000
 *       1.020s  home      new mapping 192.168.1.5:5000 → 203.0.113.7:61000 (for 192.0.2.10:3478)
 *       1.041s  office    ✗ dropped 203.0.113.7:61000 → 198.51.100.9:40000: its mapping ...
 *
 * A time column (milliseconds), the node where it happened, then what
 * happened in words. Which records make a line depends on the verbosity:
 *   TIMELINE_QUIET    application events (not "log" lines), scenario
 *                     actions, notes and verdicts, packet drops;
 *   TIMELINE_NORMAL   + app log lines, mappings created, given a new remote,
 *                     expired or cleared, conntrack entries created and
 *                     destroyed, links going down and up, TCP sockets
 *                     changing state ("TCP 10.0.0.7:40000 → 203.0.113.5:80:
 *                     SYN-SENT → ESTABLISHED (SYN+ACK #12)");
 *   TIMELINE_VERBOSE  + every packet hop with its summary and id ("#42";
 *                     ICMP in words: "ping 10.0.0.7 → 192.0.2.1 (echo
 *                     request id=1 seq=1)", "port unreachable ... about
 *                     alice's UDP 10.0.0.7:5000 → 192.0.2.1:9"),
 *                     mapping and conntrack refreshes and state changes,
 *                     nodes and links as the world is built.
 *
 * Renderers read the trace and nothing else (DESIGN.md); output goes to the
 * FILE* the caller gives.
 *
 * Map: docs/architecture.md, "Life of a packet" step 13, shows how a drop
 * record becomes a timeline line. See also "How a drop's reason becomes
 * words today", and "-v and why: the same path, two views" for viz/why.c.
 */
#ifndef NATSIM_VIZ_TIMELINE_H
#define NATSIM_VIZ_TIMELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "model/packet.h" /* payload_summary_fn */
#include "sim/trace.h"
#include "sim/trace_log.h"
#include "viz/packet_words.h"

enum timeline_verbosity {
	TIMELINE_QUIET = 0,
	TIMELINE_NORMAL = 1,
	TIMELINE_VERBOSE = 2,
};

struct timeline_options {
	enum timeline_verbosity verbosity;
	bool ascii;		    /* "x" and "->" instead of "✗" and "→"; any other
				     * non-ASCII character becomes '?' */
	bool color;		    /* ANSI colours: drops and failures red, direct
				     * paths green, relayed yellow, notes bold */
	int width;		    /* wrap to this many columns with a hanging indent
				     * under the text column; 0 = never wrap */
	payload_summary_fn payload; /* summariser for packet lines, or NULL */
	/* Hosts by address, to say whose packet an ICMP error is about
	 * ("about alice's UDP ..."), or NULL: timeline_render_log and the
	 * observer then learn them from the node records themselves. */
	const struct packet_owners *owners;
};

/* NORMAL, UTF-8, no colour, no wrapping, no payload summariser. */
void timeline_options_default(struct timeline_options *opt);

/* Print the line(s) for one record if the verbosity selects it. `opt` NULL
 * means the defaults. Returns 1 if something was printed, 0 if the record was
 * not selected, -1 on a write error. */
int timeline_render_record(FILE *out, const struct trace_record *r,
			   const struct timeline_options *opt);

/* Sprays. Many drops at one node for one reason, from one address to
 * another on ever-new ports (a birthday search's probes, a port scan) would
 * bury the story: below TIMELINE_VERBOSE the first TIMELINE_SPRAY_SHOWN such
 * drops are shown, the rest are counted and said in one line ("and 167 more
 * ...") a second after the last, or at the end. Drops that
 * repeat the same ports (retransmissions) are never folded. A renderer that
 * tells a run from its start keeps a timeline_state for it;
 * timeline_render_log and the observer do so themselves. */
#define TIMELINE_SPRAY_SHOWN 10
struct timeline_state;
struct timeline_state *timeline_state_new(void);
void timeline_state_free(struct timeline_state *st);
/* timeline_render_record with the run's state: the lines due before r (a
 * spray's count), then r's unless a spray folds it. Same return values. */
int timeline_render_next(FILE *out, const struct trace_record *r,
			 const struct timeline_options *opt, struct timeline_state *st);
/* The counts still held, at the end of the run. 0, or -1 on a write error. */
int timeline_render_end(FILE *out, const struct timeline_options *opt, struct timeline_state *st);

/* Every record of a log in order. Returns 0, or -1 on a write error. */
int timeline_render_log(FILE *out, const struct trace_log *log, const struct timeline_options *opt);

/* Live printing: an observer that renders each record as it is emitted.
 * `out` is borrowed; `opt` is copied (NULL = defaults). Returns NULL if out
 * of memory or the bus is full. */
struct timeline_observer;
struct timeline_observer *timeline_attach(struct trace *t, FILE *out,
					  const struct timeline_options *opt);
/* Unsubscribe (the trace must still be alive) and free; NULL does nothing. */
void timeline_detach(struct timeline_observer *obs);
/* True if a write failed while observing. */
bool timeline_observer_failed(const struct timeline_observer *obs);

#endif
