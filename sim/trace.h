/*
 * trace.h - the trace bus: typed records of everything that happens in a run.
 *
 * The trace is the contract between the models and everything that shows a
 * run (DESIGN.md "The trace is the contract"): renderers, the TUI, tests and
 * the JSON-lines writer read records and nothing else. Tables at any instant
 * are a fold over the records up to that instant.
 *
 * Emitting: models fill a struct trace_record on the stack and call
 * trace_emit(). Pointers inside a record (names, bytes, sentences) are borrowed
 * for the duration of the call only; an observer that keeps a record copies it
 * (struct trace_log in sim/trace_log.h does). With no observer subscribed,
 * trace_active() is false and models skip building records altogether, so an
 * unobserved run pays one predictable branch per would-be record.
 */
#ifndef NATSIM_SIM_TRACE_H
#define NATSIM_SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"    /* struct ip6_addr, struct endpoint6 (a NAT64 binding's inside) */
#include "base/endpoint.h" /* struct endpoint */

enum trace_kind {
	TRACE_NODE,      /* topology: a node exists (emitted when the world is built) */
	TRACE_LINK,      /* topology: a link exists, went down, came back */
	TRACE_PACKET,    /* a packet hop: send, tx, rx, translate, deliver, drop */
	TRACE_CONNTRACK, /* a connection-tracking entry changed */
	TRACE_MAPPING,   /* a NAT mapping changed */
	TRACE_APP,       /* an application (agent, coordinator) event or log line */
	TRACE_SCENARIO,  /* a scenario action, note or expectation verdict */
	TRACE_SOCKET,    /* a TCP socket changed state (what `ss -t` would show) */
};

enum trace_hop {
	TRACE_HOP_SEND,      /* a socket on `node` originated the packet */
	TRACE_HOP_TX,        /* left `node` through `iface` onto a link */
	TRACE_HOP_RX,        /* arrived at `node` through `iface` */
	TRACE_HOP_TRANSLATE, /* a NAT on `node` rewrote it: `before` -> `bytes` */
	TRACE_HOP_DELIVER,   /* handed to the socket bound on `node` */
	TRACE_HOP_DROP,      /* dropped on `node` for `reason`, explained by `why` */
};

/* Why a packet was dropped. Every drop carries one of these and a sentence. */
enum trace_drop_reason {
	TRACE_DROP_NONE = 0,
	TRACE_DROP_FIREWALL,      /* a firewall rule or chain policy said drop/reject */
	TRACE_DROP_NAT_FILTER,    /* NAT inbound filtering refused the remote */
	TRACE_DROP_NAT_NO_MAPPING,/* inbound to a NAT address/port with no mapping */
	TRACE_DROP_NAT_EXHAUSTED, /* no external port left to allocate */
	TRACE_DROP_HAIRPIN,       /* internal host addressed the NAT's own public side, hairpinning off */
	TRACE_DROP_NO_ROUTE,
	TRACE_DROP_TTL,           /* TTL reached zero */
	TRACE_DROP_LINK_LOSS,     /* the link's random loss */
	TRACE_DROP_LINK_DOWN,     /* the link is cut */
	TRACE_DROP_QUEUE_FULL,    /* the link's bounded queue is full */
	TRACE_DROP_MALFORMED,     /* the parser rejected the bytes */
	TRACE_DROP_NO_SOCKET,     /* no socket bound to the destination port */
	TRACE_DROP_NOT_FOR_US,    /* a host received a packet for another address */
	TRACE_DROP_ICMP_NO_FLOW,  /* an ICMP error about a flow nobody here tracks */
	TRACE_DROP_CT_INVALID,    /* conntrack marked it INVALID (a TCP segment outside the
				   * window or with flags tcp_error refuses) and a rule or
				   * the NAT dropped it for that */
	TRACE_DROP_REASON_COUNT
};

/* Stable short names ("firewall", "nat-filter", ...) for JSON and tests. */
const char *trace_drop_reason_name(enum trace_drop_reason r);
const char *trace_kind_name(enum trace_kind k);
const char *trace_hop_name(enum trace_hop h);

#define TRACE_NODE_ADDRS 8 /* interfaces a node record lists */

/* A node's IPv6 addresses (issue 18), apart from struct trace_node so that
 * every record keeps its size. */
struct trace_node6 {
	struct ip6_addr addrs[TRACE_NODE_ADDRS]; /* each interface's, in the order
						  * of trace_node.addrs ("::": none) */
	uint8_t prefix_lens[TRACE_NODE_ADDRS];
};

struct trace_node {
	const char *name;
	const char *type;     /* "host", "router", "nat", "internet", ... */
	const char *detail;   /* one line: addresses and behaviour, for pictures */
	const char *behind;   /* name of the node this one sits behind, or NULL */
	bool conntrack;       /* keeps a connection-tracking table (NAT, stateful
			       * firewall): `conntrack -L` means something there */
	/* The facts `detail` shows, as values: a view that needs an address or
	 * a behaviour reads them here and never parses the line. (The JSON
	 * lines print `detail` only.) */
	size_t n_addrs;
	uint32_t addrs[TRACE_NODE_ADDRS]; /* each interface's, in order (0: none) */
	uint8_t prefix_lens[TRACE_NODE_ADDRS];
	uint32_t gateway;    /* a host's default gateway, 0 if none */
	bool firewall;	     /* a host whose stateful firewall is on */
	bool nat;	     /* a router with a NAT: the three fields below */
	int nat_mapping;     /* enum nat_behaviour (sim/verdict.h) */
	int nat_filtering;   /* enum nat_behaviour */
	uint32_t nat_public; /* its first public address */
	bool input_accept;   /* a router whose own stack accepts (input accept) */
	const struct trace_node6 *v6; /* its IPv6 addresses, or NULL: none */
};

enum trace_link_event { TRACE_LINK_ADDED, TRACE_LINK_DOWN, TRACE_LINK_UP };

struct trace_link {
	enum trace_link_event event;
	const char *name;     /* "home-lan", ... */
	const char *a, *a_iface, *b, *b_iface;
	int64_t latency_ns;
	int64_t jitter_ns;
	double loss;
};

/* The verdict a drop record (or a NAT's translate record, an accept) carries
 * (DESIGN.md "Decide, then explain"): the
 * model that decided sets `kind` (enum node_verdict_kind, sim/verdict.h) and
 * points `facts` at that kind's facts struct, values only but for the names
 * it borrows. The trace's explainer (trace_set_explainer) words it into `why`
 * before any observer sees the record; the record keeps the verdict, so a
 * renderer can read the facts instead of the words. Like every pointer in a
 * record, `facts` is borrowed for the emit: an observer that keeps the record
 * copies it (verdict_facts_size(), sim/trace_log.c). */
struct trace_verdict {
	int kind;	   /* 0: none */
	const void *facts; /* borrowed for the emit only */
};

struct trace_packet {
	enum trace_hop hop;
	uint64_t packet_id;       /* one id per datagram, kept across hops and rewrites */
	const char *node;
	const char *iface;        /* NULL when not at an interface (send, deliver) */
	const uint8_t *bytes;     /* the packet as it is at this hop (after, for translate) */
	size_t len;
	const uint8_t *before;    /* translate: the packet before the rewrite */
	size_t before_len;
	struct endpoint map_internal; /* translate: the NAT mapping used */
	struct endpoint map_external;
	enum trace_drop_reason reason; /* drop */
	const char *why;          /* drop (required) or accept decision (optional): a sentence */
	const char *why_after_node; /* drop: the same sentence for a view that already
				     * names the node ("dropped ..." for "office dropped
				     * ..."), made by explain/; NULL when the node is not
				     * the sentence's subject */
	const char *rule;         /* firewall rule that decided, e.g. "input #2", or NULL */
	struct trace_verdict verdict; /* drop, translate: what decided, as facts (above) */
};

enum trace_ct_event {
	TRACE_CT_NEW,      /* entry created, [UNREPLIED] */
	TRACE_CT_UPDATE,   /* state changed: reply seen, or became [ASSURED] */
	TRACE_CT_REFRESH,  /* timeout pushed back by traffic */
	TRACE_CT_DESTROY,  /* expired or flushed */
	TRACE_CT_RELATED,  /* an ICMP error was found RELATED to the entry (no change
			    * to it: Linux's conntrack -E prints nothing) */
};

/* UDP: ports. ICMP (as conntrack -L prints it): sport = the echo id,
 * dport = type << 8 | code. */
struct trace_ct_tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* An IPv6 entry's two directions (model/conntrack6.h), the same fields as
 * struct trace_ct_tuple with IPv6 addresses. */
struct trace_ct_tuple6 {
	struct ip6_addr src, dst; /* network order */
	uint16_t sport, dport;
};
struct trace_ct_tuples6 {
	struct trace_ct_tuple6 orig, reply;
};

struct trace_conntrack {
	enum trace_ct_event event;
	const char *node;
	uint32_t id;              /* unique per node */
	uint8_t proto;            /* 17 = UDP */
	struct trace_ct_tuple orig;
	struct trace_ct_tuple reply;
	bool seen_reply;          /* false prints [UNREPLIED] */
	bool assured;             /* prints [ASSURED] */
	int64_t expires_at;       /* absolute virtual time */
	uint32_t mark;
	uint32_t use;
	uint8_t tcp_state;        /* proto 6: model/conntrack.h enum conntrack_tcp_state */
	const char *why;          /* destroy: "timed out", "flushed (reboot)" */
	/* The entry's family: 0 for IPv4 (orig, reply above; every IPv4
	 * record leaves it 0, so IPv4 records and their readers are as they
	 * were), 6 for an IPv6 entry of a node's separate IPv6 table, whose
	 * tuples are in `tuples6` (borrowed for the emit, like every pointer
	 * in a record; orig and reply are then zero). */
	uint8_t family;
	const struct trace_ct_tuples6 *tuples6;
};

enum trace_map_event {
	TRACE_MAP_CREATED,
	TRACE_MAP_REFRESHED,
	TRACE_MAP_REMOTE_ADDED, /* a new remote endpoint was contacted through it */
	TRACE_MAP_EXPIRED,
	TRACE_MAP_CLEARED,      /* NAT rebooted or behaviour changed */
	TRACE_MAP_REMOTE_REMOVED, /* the flow to a remote ended (its conntrack entry died) */
	/* A port-mapping request (PCP, NAT-PMP: model/pcp_server.h) to the
	 * NAT's server; the record's `pcp` holds the request and the verdict. */
	TRACE_MAP_RENEWED, /* an explicit mapping's lifetime renewed by its owner */
	TRACE_MAP_DELETED, /* deleted by its owner (requested lifetime 0) */
	TRACE_MAP_REFUSED, /* the request was refused: no mapping changed */
};

/* A port-mapping request's facts (model/pcp_server.h), carried by the
 * mapping record it caused: who asked for what, and the server's verdict,
 * which explain/ words. Plain numbers: the enums are in sim/verdict.h. */
struct trace_pcp {
	uint8_t protocol;	 /* enum nat_origin: NAT_ORIGIN_PCP or _NATPMP; 0: no request */
	uint8_t decision;	 /* enum pcp_decision */
	uint8_t result;		 /* the result code answered, in the protocol's numbering */
	uint8_t version;	 /* the request's version byte */
	struct endpoint client;	 /* who asked */
	uint16_t internal_port;	 /* the port asked about */
	uint16_t suggested_port; /* 0: none */
	uint32_t requested_lifetime;
	uint32_t lifetime;     /* granted (after the server's clamp) */
	uint32_t max_lifetime; /* the server's clamp */
	uint32_t epoch;	       /* seconds since the NAT's mapping table started */
};

struct trace_mapping {
	enum trace_map_event event;
	const char *node;
	uint32_t id;              /* unique per node */
	uint8_t proto;
	struct endpoint internal;
	struct endpoint external;
	struct endpoint remote;   /* created / remote-added / remote-removed: the remote */
	int mapping;              /* enum nat_behaviour of the NAT (model/nat.h) */
	int filtering;            /* enum nat_behaviour */
	bool is_static;           /* a port forward */
	int64_t expires_at;       /* SIM_TIME_NEVER for static */
	uint8_t origin;           /* how it was made: enum nat_origin (sim/verdict.h) */
	struct trace_pcp pcp;     /* origin pcp / nat-pmp: the request that changed it */
	/* A NAT64 binding (model/nat64.h, RFC 6146): family 6, its inside is
	 * the IPv6 endpoint internal6 and `internal` stays 0.0.0.0:0. 0 for
	 * every IPv4 NAT's mapping. */
	uint8_t family;
	struct endpoint6 internal6;
};

struct trace_app {
	const char *node;         /* host the application runs on */
	const char *app;          /* "agent alice", "coordinator" */
	const char *event;        /* "registered", "direct", "relayed", "log", ... */
	const char *peer;         /* the other peer concerned, or NULL */
	const char *text;         /* a sentence for a student */
};

enum trace_scenario_event {
	TRACE_SCN_ACTION,
	TRACE_SCN_NOTE,
	TRACE_SCN_EXPECT_PASS,
	TRACE_SCN_EXPECT_FAIL,
};

struct trace_scenario {
	enum trace_scenario_event event;
	const char *text;
	int line;                 /* scenario file line, or 0 */
};

/* An IPv6 socket's ends (RFC 5952 when shown: [2001:db8::1]:80). */
struct trace_socket6 {
	struct endpoint6 local, remote; /* remote [::]:0 for a listener */
};

/* A TCP socket on `node` moved from one RFC 9293 state to another
 * (model/tcp.h enum tcp_state), and why: the segment or timer that moved it
 * (enum tcp_cause). A listener's birth is LISTEN from CLOSED; a connection
 * freed after TIME_WAIT or an abort ends in CLOSED. */
struct trace_socket {
	const char *node;
	uint8_t proto;		  /* 6 = TCP */
	struct endpoint local;	  /* the socket's own endpoint */
	struct endpoint remote;	  /* 0.0.0.0:0 for a listener */
	uint8_t old_state;	  /* enum tcp_state */
	uint8_t new_state;	  /* enum tcp_state */
	uint8_t cause;		  /* enum tcp_cause (model/tcp.h) */
	uint64_t packet_id;	  /* the segment that moved it (received or sent), or 0 */
	int error;		  /* an errno the application is told (ECONNREFUSED,
				   * ETIMEDOUT, EHOSTUNREACH, ...), or 0 */
	/* An IPv6 socket's ends (borrowed for the emit, as every pointer in a
	 * record), NULL for IPv4; local and remote then hold the ports only. */
	const struct trace_socket6 *v6;
};

struct trace_record {
	uint64_t seq;             /* 0, 1, 2, ... in emission order */
	int64_t time;             /* virtual ns */
	enum trace_kind kind;
	union {
		struct trace_node node;
		struct trace_link link;
		struct trace_packet packet;
		struct trace_conntrack ct;
		struct trace_mapping map;
		struct trace_app app;
		struct trace_scenario scenario;
		struct trace_socket sock;
	} u;
};

typedef void (*trace_observer_fn)(const struct trace_record *r, void *ctx);
/* Words for a record that carries a verdict and no sentence: writes them into
 * buf[size] and points the record's why (and rule) into it. */
typedef void (*trace_explain_fn)(struct trace_record *r, char *buf, size_t size);

#define TRACE_MAX_OBSERVERS 8

struct trace {
	const int64_t *clock;     /* the engine's now */
	uint64_t next_seq;
	size_t n_observers;
	struct {
		trace_observer_fn fn;
		void *ctx;
	} observers[TRACE_MAX_OBSERVERS];
	trace_explain_fn explain; /* NULL: verdicts stay unworded */
};

void trace_init(struct trace *t, const int64_t *clock);

/* Subscribe; returns 0, or -1 if TRACE_MAX_OBSERVERS are already subscribed. */
int trace_subscribe(struct trace *t, trace_observer_fn fn, void *ctx);
void trace_unsubscribe(struct trace *t, trace_observer_fn fn, void *ctx);

/* The one explainer (explain_attach() in explain/ installs it): sim/ sits
 * below the words, so it calls them through this hook. */
void trace_set_explainer(struct trace *t, trace_explain_fn fn);

/* Do two socket records name the same socket: the same family and the
 * same local and remote ends (what the tables and the TUI key sockets by)? */
bool trace_socket_same(const struct trace_socket *a, const struct trace_socket *b);

static inline bool trace_active(const struct trace *t)
{
	return t != NULL && t->n_observers != 0;
}

/* Stamp `r` with the next sequence number and the current time, and hand it
 * to every observer in subscription order. */
void trace_emit(struct trace *t, struct trace_record *r);

#endif
