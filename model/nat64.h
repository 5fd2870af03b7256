/*
 * nat64.h - a stateful NAT64 (RFC 6146) for UDP, TCP and ICMP: IPv6 hosts reach
 * IPv4 servers at 64:ff9b::a.b.c.d (RFC 6052, model/xlat.h), each IPv6
 * flow bound to an IPv4 transport address from the NAT64's pool, and the
 * packets translated by RFC 7915 (model/xlat.h).
 *
 * The binding table (RFC 6146's BIB, 3.1): (protocol, IPv6 address, port
 * or ICMP id) -> (IPv4 pool address, port or id), with the IPv4 addresses
 * the binding has sent to (the session table's remote side, for filtering).
 *   - Mapping is endpoint-independent (RFC 4787 REQ-1): one binding per
 *     IPv6 source, whatever the remote. Bindings are made in RFC 6146 3.5.1
 *     (UDP), 3.5.2 (TCP) and 3.5.3 (ICMP queries), as Jool reads it; that the text asks
 *     for REQ-1 there, and its sub-section 3.5.1.1, are not checked.
 *   - Pooling is paired (RFC 4787 REQ-2): every binding of one IPv6
 *     address uses the same IPv4 address (the first binding's, chosen in
 *     turn from the pool).
 *   - Ports are preserved when free, else the next free one upwards from
 *     port_lo, deterministic (RFC 6146 leaves the choice to RFC 4787 REQ-3/4).
 *   - Filtering is endpoint-independent or address-dependent (RFC 6146
 *     3.5.1's IPv4 half; Jool's docs find the choice "scattered at RFC
 *     6146", summed up at the end of its 1.2.3; RFC 4787 REQ-8's terms):
 *     with ADF an IPv4 packet is let in only from an address the binding
 *     has sent to.
 *   - Lifetimes (RFC 6146 section 4's constants): UDP 5 minutes
 *     (UDP_DEFAULT; at least UDP_MIN, 2 minutes), ICMP queries 60 s
 *     (ICMP_DEFAULT); a packet either way through a binding refreshes it
 *     (3.5.1, 3.5.3).
 *   - ICMP errors (RFC 6146 3.4: the tuple comes from the quoted packet):
 *     translated with the binding their quote belongs to; they make no
 *     binding and are not filtered (a router, not the remote, may send
 *     them). An ICMPv6 error from any IPv6 address (a router on the IPv6
 *     side) leaves with the binding's IPv4 address as its source (RFC 6146
 *     3.6, computing the outgoing tuple; its wording not checked), since
 *     the router has none the IPv4 side could answer.
 *   - TCP (RFC 6146 3.5.2): an IPv6 SYN makes the binding (EIM, as UDP's),
 *     and the session walks 3.5.2.2's states (enum nat64_tcp_state) with
 *     section 4's lifetimes: TCP_TRANS (4 min) while opening, closing or
 *     after an RST, TCP_EST (2 h 4 min, the RFC's minimum; Jool's
 *     constants.h uses 2 h) once both SYNs passed. natsim keeps one session
 *     per binding (its state and remote in the binding): an IPv6 SYN to
 *     another remote from the same source port moves the session there,
 *     and other segments to or from another remote pass (ADF permitting)
 *     without moving it. A connection begun from the IPv4 side is
 *     dropped: 3.5.2.2's CLOSED state lets a NAT64 whose security policy asks
 *     it silently drop externally initiated TCP connections (Jool's
 *     drop-externally-initiated-tcp), the simplest true choice, for EIF and
 *     ADF alike; the 6-second storing of the V4 SYN for a simultaneous open,
 *     and the ICMP port unreachable after it, are not modelled, nor is the
 *     probe 3.5.2.2 allows when an ESTABLISHED session expires.
 *   - Hairpinning (3.8) and fragments are not modelled.
 *
 * Why a table of its own rather than model/nat.c's: the NAT's mappings are
 * keyed and reported by IPv4 endpoints (struct endpoint) everywhere - its
 * hash, its conntrack coupling, PCP, the trace renderers - and docs/ipv6.md
 * keeps the NAT IPv4-only; widening it would touch every IPv4 path this
 * session must leave byte-identical. The behaviours it shares (EIM, paired
 * pooling, EIF/ADF) are the same RFC 4787 words, and the records are the
 * same TRACE_MAPPING records (family 6, the inside in internal6).
 *
 * Time is given by the caller (sans-I/O, as p2p/): bindings whose lifetime
 * ran out are removed by nat64_expire, which a router calls at
 * nat64_next_deadline from an engine event (model/router_xlat.c), so a
 * binding is gone, with its TRACE_MAP_EXPIRED record, at exactly its
 * expiry; a lookup never finds an expired binding either way.
 */
#ifndef NATSIM_MODEL_NAT64_H
#define NATSIM_MODEL_NAT64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "model/xlat.h"
#include "sim/trace.h"
#include "sim/verdict.h" /* enum nat_behaviour */

#define NAT64_MAX_POOL 4
#define NAT64_MAX_REMOTES 8 /* per binding, for ADF; the oldest is forgotten first */

struct nat64_config {
	struct ip6_addr prefix; /* a /96: the well-known prefix by default */
	uint32_t pool[NAT64_MAX_POOL];
	size_t n_pool;
	uint16_t port_lo, port_hi;    /* 1024-65535 */
	enum nat_behaviour filtering; /* NAT_ENDPOINT_INDEPENDENT or NAT_ADDRESS_DEPENDENT */
	int64_t udp_timeout;	      /* ns, RFC 6146 4 UDP_DEFAULT: 5 min */
	int64_t icmp_timeout;	      /* ns, RFC 6146 4 ICMP_DEFAULT: 60 s */
	int64_t tcp_est_timeout;      /* ns, RFC 6146 4 TCP_EST: 2 h 4 min */
	int64_t tcp_trans_timeout;    /* ns, RFC 6146 4 TCP_TRANS: 4 min */
	/* RFC 7915 5.1's Identification comes from a counter that starts here
	 * (deterministic: natsim's traces are a function of the seed). */
	uint16_t first_ip_id;
};

/* The defaults above with one pool address. */
void nat64_config_default(struct nat64_config *cfg, uint32_t pool_address);

enum nat64_verdict {
	NAT64_TRANSLATED = 0,
	NAT64_DROP_NOT_OURS,	   /* IPv6 not to the prefix / IPv4 not to a pool address */
	NAT64_DROP_NO_BINDING,	   /* IPv4 to a pool address and port no binding holds */
	NAT64_DROP_FILTERED,	   /* ADF: from an address the binding never sent to */
	NAT64_DROP_EXHAUSTED,	   /* no pool port left */
	NAT64_DROP_UNSUPPORTED,	   /* other protocols, pings from the IPv4 side */
	NAT64_DROP_TCP_NO_SESSION, /* TCP with no session that is not an IPv6 SYN */
	NAT64_DROP_UNTRANSLATABLE, /* RFC 7915 has no translation (xlat says why) */
	NAT64_DROP_MALFORMED,	   /* the packet does not parse */
};
const char *nat64_verdict_name(enum nat64_verdict v); /* "filtered", ... */

/* RFC 6146 3.5.2.2's TCP session states. */
enum nat64_tcp_state {
	NAT64_TCP_CLOSED = 0,
	NAT64_TCP_V6_INIT,
	NAT64_TCP_V4_INIT, /* never entered: natsim drops IPv4-initiated SYNs */
	NAT64_TCP_ESTABLISHED,
	NAT64_TCP_V4_FIN_RCV,
	NAT64_TCP_V6_FIN_RCV,
	NAT64_TCP_V4_FIN_V6_FIN_RCV,
	NAT64_TCP_TRANS,
};
const char *nat64_tcp_state_name(enum nat64_tcp_state s); /* "V6 INIT", ... */

/* A binding as the table holds it. */
struct nat64_binding {
	uint32_t id; /* unique per NAT64, from 1 */
	uint8_t proto;
	struct endpoint6 internal;
	struct endpoint external;
	int64_t expires_at;
	uint32_t remotes[NAT64_MAX_REMOTES]; /* IPv4 addresses it has sent to */
	size_t n_remotes;
	enum nat64_tcp_state tcp_state; /* TCP bindings: their session's */
	struct endpoint tcp_remote;	/* and its IPv4 remote transport address */
};

/* What a translation did, for the caller's trace and words. */
struct nat64_result {
	enum nat64_verdict verdict;
	enum xlat_result xlat;	      /* NAT64_DROP_UNTRANSLATABLE: why */
	bool created;		      /* the packet made its binding */
	struct nat64_binding binding; /* the binding used (copied), when one was */
};

struct nat64;

/* `trace` may be NULL; `node` names the records' node (borrowed for the
 * NAT64's life). Returns NULL on bad config (no pool, a bad port range, a
 * UDP lifetime under RFC 6146's UDP_MIN of 2 minutes, no ICMP lifetime, a
 * TCP_EST under 2 h 4 min or a TCP_TRANS under 4 min) or
 * out of memory. */
struct nat64 *nat64_new(const struct nat64_config *cfg, struct trace *trace, const char *node);
void nat64_free(struct nat64 *n);
const struct nat64_config *nat64_config(const struct nat64 *n);

/* An IPv6 packet towards the prefix, IPv6 -> IPv4: out[cap] gets the IPv4
 * packet (*out_len). */
struct nat64_result nat64_translate_6to4(struct nat64 *n, int64_t now, const uint8_t *in,
					 size_t len, uint8_t *out, size_t cap, size_t *out_len);
/* An IPv4 packet to a pool address, IPv4 -> IPv6. */
struct nat64_result nat64_translate_4to6(struct nat64 *n, int64_t now, const uint8_t *in,
					 size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Is this IPv4 address one of the pool's (a router's question: is this
 * packet for the NAT64)? */
bool nat64_owns_ipv4(const struct nat64 *n, uint32_t ip);

/* Bindings, for tables and tests. */
size_t nat64_count(const struct nat64 *n);
const struct nat64_binding *nat64_binding_at(const struct nat64 *n, size_t i);

/* The earliest expiry (INT64_MAX: none), and removing what has expired by
 * `now` (one TRACE_MAP_EXPIRED record each). */
int64_t nat64_next_deadline(const struct nat64 *n);
void nat64_expire(struct nat64 *n, int64_t now);

#endif
