/*
 * tables.h - per-node conntrack and NAT mapping tables at any instant, as a
 * fold over the trace (DESIGN.md "The trace is the contract").
 *
 * tables_fold() replays the records of a log up to an instant; the result is
 * a plain read-only view (nodes, their flows, their mappings) that the
 * renderers below print and the TUI can walk. Folding and rendering are
 * separate so a caller can fold once and show many things.
 *
 * Folding rules, per node, entries keyed by the record's id:
 *   conntrack: NEW adds (at the end: creation order), UPDATE and REFRESH
 *              replace the entry's state in place, DESTROY removes,
 *              RELATED (an ICMP error about the entry) changes nothing;
 *   mappings:  CREATED adds with its remote, REMOTE_ADDED appends a remote,
 *              REFRESHED moves the expiry, EXPIRED and CLEARED remove;
 *   sockets:   keyed by (local, remote): a change to a state other than
 *              CLOSED adds or updates, CLOSED removes.
 * An entry whose deadline is <= the instant is gone even if its DESTROY or
 * EXPIRED record comes later or never (a run stopped before the timer fired).
 *
 * Strings in the view (node names, destroy reasons) are borrowed from the
 * log: free the tables before the log.
 */
#ifndef NATSIM_VIZ_TABLES_H
#define NATSIM_VIZ_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/trace.h"
#include "sim/trace_log.h"

/* A connection-tracking entry: its latest record, and when it was created. */
struct tables_flow {
	struct trace_conntrack rec; /* rec.event is the last change seen */
	int64_t created_at;
};

struct tables_mapping {
	uint32_t id;
	uint8_t proto;
	struct endpoint internal;
	struct endpoint external;
	const struct endpoint *remotes; /* every remote contacted, in order */
	size_t n_remotes;
	int mapping;   /* enum nat_behaviour */
	int filtering; /* enum nat_behaviour */
	bool is_static;
	uint8_t origin; /* enum nat_origin: how it was made */
	int64_t created_at;
	int64_t expires_at; /* SIM_TIME_NEVER for static */
	/* A NAT64 binding (sim/trace.h: family 6): its inside is the IPv6
	 * endpoint internal6, `internal` is then 0.0.0.0:0. 0 for IPv4. */
	uint8_t family;
	struct endpoint6 internal6;
};

/* A TCP socket: its latest TRACE_SOCKET record, and since when it is in
 * that state. */
struct tables_socket {
	struct trace_socket rec;
	int64_t since;
};

struct tables_node {
	const char *name;
	bool tracks; /* keeps a conntrack table (its node record says so), or
		      * has had conntrack records by the instant */
	bool nats;   /* has had mapping records by the instant */
	int mapping; /* the NAT's behaviour as of its latest mapping record */
	int filtering;
	size_t n_flows;
	const struct tables_flow *flows; /* creation order */
	size_t n_mappings;
	const struct tables_mapping *mappings; /* creation order */
	size_t n_sockets;
	const struct tables_socket *sockets; /* TCP, open at the instant, in order of birth */
};

struct tables;

/* Fold the records with time <= at. Returns NULL if out of memory. */
struct tables *tables_fold(const struct trace_log *log, int64_t at);
void tables_free(struct tables *t);

/* The instant folded to. */
int64_t tables_time(const struct tables *t);
/* Nodes named by any record up to the instant, in order of first appearance. */
size_t tables_node_count(const struct tables *t);
const struct tables_node *tables_node_at(const struct tables *t, size_t i);
/* The node called `name`, or NULL. */
const struct tables_node *tables_node_find(const struct tables *t, const char *name);

/* For `node` (NULL = every node that keeps a conntrack table: each NAT and
 * stateful firewall, even while its table is empty): a header line
 * ("── office: conntrack ──", "== office: conntrack ==" with ascii), the
 * entries exactly as `conntrack -L` prints them at the instant, in creation
 * order, and its closing "N flow entries have been shown." line, which goes
 * to `err` as conntrack writes it to stderr (err NULL or == out: all to out).
 * A node with no flows gets its header and footer too; an unknown name prints
 * nothing. Returns 0, or -1 on a write error. */
int tables_render_conntrack(FILE *out, FILE *err, const struct tables *t, const char *node,
			    bool ascii);

/* A mapping's row in words, each in a buffer of `size`: its internal and
 * external ends ("192.168.1.5:5000"; an echo's "192.168.1.5 id=22128",
 * its id playing the port, RFC 5508 REQ-1) and who may come in
 * (explain_nat_filter; an echo's by address alone, "accepts echo replies
 * from 198.51.100.20 (...)", since a reply comes from no port). */
void tables_mapping_words(const struct tables_mapping *m, char *in, char *ex, char *who,
			  size_t size);

/* For `node` (NULL = every node with a NAT): a header line naming the NAT's
 * behaviour ("── home: mappings (EIM + APDF, port-restricted-cone) ──"), an aligned
 * table: internal, external, who may come in (explain_nat_filter with the
 * remotes and the mapping's filtering), state ("active" or "static"), time
 * left ("28s", "-" for static). Returns 0, or -1 on a write error. */
int tables_render_mappings(FILE *out, const struct tables *t, const char *node, bool ascii);

/* For `node` (NULL = every node with a TCP socket open at the instant): a
 * header ("── alice: TCP sockets ──") and the sockets as `ss -tan` lists
 * them, less its queue columns, which the trace does not carry: ss's state
 * names (ESTAB, SYN-SENT, TIME-WAIT, LISTEN, ...), local and peer
 * ("0.0.0.0:*" for a listener's peer). Prints nothing when no node has one.
 * Returns 0, or -1 on a write error. */
int tables_render_sockets(FILE *out, const struct tables *t, const char *node, bool ascii);
/* ss's name for a TCP state (misc/ss.c sstate_name: "ESTAB", "SYN-RECV",
 * "TIME-WAIT", ...), from model/tcp.h's enum tcp_state. */
const char *tables_ss_state_name(uint8_t state);
/* Whether any node has a TCP socket open at the instant. */
bool tables_has_sockets(const struct tables *t);

#endif
