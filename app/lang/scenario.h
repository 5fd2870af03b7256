/*
 * scenario.h - the scenario language: its data model and its parser.
 *
 * A scenario file describes a small world (the internet, a coordinator, NATs,
 * hosts, links, forwards, firewall rules), a timeline of actions, and the
 * expectations a run must meet. docs/scenario.md is the language reference.
 *
 * This module only reads text into the structs below and checks that they
 * make sense (names exist and have the right kind, no duplicate names or
 * addresses, no NAT 'behind' cycle, numbers and durations in their documented
 * ranges, names and texts within what the protocol carries, UTF-8 text). It
 * depends on diag and units (the one reader of numbers and durations), and
 * takes protocol limits as constants from p2p/agent.h and model/packet.h:
 * addresses are plain uint32_t IPv4 in host byte order, times are
 * int64_t nanoseconds, names and texts are strings. The world builder and the
 * runner turn it into a simulation.
 *
 * Ownership: struct scenario owns everything reachable from it (every string
 * and array lives until scenario_free). Pointers into the arrays stay valid
 * until scenario_free; nothing is added after parsing (scenario_set_override
 * edits fields in place).
 *
 * Conventions:
 *   - "tri-state" ints: SCENARIO_UNSET (-1) = not given, 0 = off, 1 = on.
 *   - durations: int64_t ns; SCENARIO_UNSET (-1) = not given.
 *   - every element keeps the location of its first token (`loc`), and every
 *     name it mentions is a struct scenario_ref with that name's location, so
 *     the runner can say "scenarios/x.nsim:12: expectation failed: ...".
 *   - numeric codes below equal the model's enums so the builder can cast:
 *     behaviour = enum nat_behaviour, ports = enum nat_port_assignment,
 *     chain = enum fw_chain, verdict = enum fw_action, states = conntrack
 *     state bits, reason = enum trace_drop_reason.
 */
#ifndef NATSIM_APP_SCENARIO_H
#define NATSIM_APP_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/lang/diag.h"
#include "app/lang/units.h"
#include "base/addr6.h"

#define SCENARIO_UNSET (-1)
#define SCENARIO_MAX_PUBLIC 4	       /* public addresses per NAT (model's NAT_MAX_PUBLIC) */
#define SCENARIO_COORDINATOR_PORT 3478 /* STUN's port */
#define SCENARIO_MAX_ERRORS 100	       /* a parse gives up after this many errors */
#define SCENARIO_MAX_FILE (16u << 20)  /* scenario_load refuses larger files */
#define SCENARIO_NOTE_MAX 300	       /* bytes of a `note`: one line of the timeline */

/* Where something is in the file: 1-based line and column (bytes), and the
 * length of the token in bytes. line 0 = not from the file (--set). */
struct scenario_loc {
	int line;
	int col;
	int len;
};

/* A name used to refer to a node, with where it was written. name NULL =
 * absent (an optional part that was not given). */
struct scenario_ref {
	const char *name;
	struct scenario_loc loc;
};

/* RFC 4787 behaviour for mapping (REQ-1) and filtering (REQ-8). */
enum scenario_behaviour {
	SCENARIO_EI = 0,  /* endpoint-independent */
	SCENARIO_AD = 1,  /* address-dependent */
	SCENARIO_APD = 2, /* address-and-port-dependent */
};

enum scenario_ports {
	SCENARIO_PORTS_PRESERVE = 0,
	SCENARIO_PORTS_SEQUENTIAL = 1,
	SCENARIO_PORTS_RANDOM = 2,
};

/* The IPv6 side of a home router (`nat ... ipv6 PREFIX` or `router ...
 * ipv6 PREFIX`): a routed prefix for its inside, no NAT (docs/ipv6.md),
 * and the RFC 6092 firewall that guards it. */
struct scenario_v6side {
	bool present;		 /* `ipv6 PREFIX` given */
	struct ip6_addr prefix;	 /* host bits clear */
	uint8_t prefix_len;	 /* 1..128 */
	struct scenario_loc loc; /* the prefix */
	int firewall;		 /* SCENARIO_FW6_*, or SCENARIO_UNSET (rfc6092) */
	int filtering;		 /* enum scenario_behaviour, or SCENARIO_UNSET (APD) */
	int reject;		 /* tri-state: ICMPv6 adm. prohibited (default off: silent) */
	struct scenario_loc option_loc; /* the first firewall6 option, for messages */
};
#define SCENARIO_FW6_OFF 0
#define SCENARIO_FW6_RFC6092 1

/*
 * nat NAME (preset P | mapping B filtering B) [options] public IP[,IP...] [behind NAT]
 *
 * Presets and explicit options compose: the builder starts from its
 * defaults, applies `preset` if set, then every field whose has_* flag is
 * true. The parser guarantees a preset or both mapping and filtering.
 */
struct scenario_nat {
	const char *name;
	struct scenario_loc loc; /* the `nat` keyword */
	struct scenario_loc name_loc;
	const char *preset;	/* "full-cone", "restricted-cone", "port-restricted-cone",
				   "symmetric", or NULL */
	int mapping, filtering; /* enum scenario_behaviour, valid if has_* */
	bool has_mapping, has_filtering;
	int ports; /* enum scenario_ports, valid if has_ports */
	bool has_ports;
	bool has_range;
	uint16_t port_lo, port_hi; /* valid if has_range; lo <= hi */
	int64_t timeout_ns;	   /* mapping lifetime, or SCENARIO_UNSET */
	int hairpinning;	   /* tri-state */
	int inbound_refresh;	   /* tri-state */
	int pooling;		   /* enum nat_pooling, or SCENARIO_UNSET (paired) */
	int input;		   /* enum router_input, or SCENARIO_UNSET (drop) */
	int icmp_inner;		   /* tri-state: RFC 5508 inner translation (default on) */
	int icmp_errors;	   /* tri-state: forward ICMP errors at all (default on) */
	int64_t icmp_timeout_ns;   /* echo mappings' lifetime, or SCENARIO_UNSET */
	/* RFC 5382: SCENARIO_UNSET = Linux's per-state conntrack timeouts */
	int64_t tcp_established_timeout_ns;
	int64_t tcp_transitory_timeout_ns;
	int tcp_unsolicited; /* enum nat_tcp_unsolicited, or SCENARIO_UNSET (drop) */
	int pcp;	     /* tri-state: PCP server on UDP 5351 inside (default off) */
	int natpmp;	     /* tri-state: NAT-PMP server on UDP 5351 inside (default off) */
	size_t n_public;     /* >= 1 */
	uint32_t public_ip[SCENARIO_MAX_PUBLIC];
	struct scenario_loc public_loc[SCENARIO_MAX_PUBLIC];
	struct scenario_ref behind; /* outer NAT (CGNAT), or name NULL: on the internet */
	struct scenario_v6side v6;  /* `ipv6 PREFIX` and its firewall: the IPv6 side */
};

/* router NAME ipv6 PREFIX [firewall6 rfc6092|off] [filtering6 B] [reject6 on|off]
 *     [nat64 [PREFIX/96] public IPV4] [nptv6 OUTSIDE-PREFIX]:
 * an IPv6-only home router (no IPv4, no NAT44); hosts sit `behind` it. With
 * `nat64` its inside reaches IPv4 through a stateful NAT64 (RFC 6146; the
 * IPv4 address is the pool and the router's wan address); with `nptv6` the
 * inside prefix is seen outside as OUTSIDE-PREFIX (RFC 6296). */
struct scenario_router {
	const char *name;
	struct scenario_loc loc;
	struct scenario_loc name_loc;
	struct scenario_v6side v6;
	bool nat64;
	struct ip6_addr nat64_prefix;  /* 64:ff9b::/96 unless given */
	struct scenario_loc nat64_loc; /* the word `nat64` */
	uint32_t nat64_pool;	       /* `public`: 0 if not given */
	struct scenario_loc pool_loc;
	bool nptv6;
	struct ip6_addr nptv6_outside; /* host bits clear */
	uint8_t nptv6_len;
	struct scenario_loc nptv6_loc;
};

/* host NAME at IP [and IP6] (behind NAT | public) [options]: an IPv4
 * address, an IPv6 one, or one of each (either order). */
struct scenario_host {
	const char *name;
	struct scenario_loc loc;
	struct scenario_loc name_loc;
	uint32_t ip; /* 0 and ip_loc.line 0 when the host has no IPv4 */
	struct scenario_loc ip_loc;
	bool has_ip6;
	struct ip6_addr ip6;
	struct scenario_loc ip6_loc;
	bool is_public; /* exactly one of is_public and behind.name */
	struct scenario_ref behind;
	int firewall;	      /* tri-state */
	int64_t keepalive_ns; /* SCENARIO_UNSET, 0 = off, or the interval */
	int port;	      /* the agent's UDP port, or SCENARIO_UNSET */
	int host_candidates;  /* tri-state */
	/* Techniques against hard NATs (p2p/agent.h, "Hard NATs"): SCENARIO_TECH_*
	 * bits, or SCENARIO_UNSET (none). The budgets: SCENARIO_UNSET = the
	 * agent's default. */
	int techniques;
	int probe_rate;		     /* probes a second, 1..10000 */
	int probes;		     /* probes per introduction, 1..65535 */
	int sockets;		     /* the birthday search's extra sockets, 1..1024 */
	int prediction_window;	     /* predicted ports probed, 1..64 */
	int64_t mapping_lifetime_ns; /* port mapping's lifetime asked for, 120s..24h */
};

/* A host has IPv4 unless it was given an IPv6 address alone (0.0.0.0/8 is
 * never a node's address, so 0 means none). */
static inline bool scenario_host_has_ipv4(const struct scenario_host *h)
{
	return h->ip != 0;
}

/* `techniques LIST`: bits equal to p2p/agent.h's enum agent_technique. */
#define SCENARIO_TECH_PREDICTION 1
#define SCENARIO_TECH_BIRTHDAY 2
#define SCENARIO_TECH_PORT_MAPPING 4
#define SCENARIO_TECH_ALL 7
/* The ranges of the host's hard-NAT budgets (docs/scenario.md). */
#define SCENARIO_PROBE_RATE_MAX 10000
#define SCENARIO_PROBES_MAX 65535
#define SCENARIO_SOCKETS_MAX 1024 /* AGENT_MAX_SOCKETS */
#define SCENARIO_PREDICTION_WINDOW_MAX 64

/* coordinator NAME at IP [and IP6] [port N] [alternate IP [and IP6] [port N]]
 * [relay on|off]: an IPv4 address always (the agent speaks IPv4), an IPv6
 * one beside it; the alternate has the same families as the primary. */
struct scenario_coordinator {
	const char *name;
	struct scenario_loc loc;
	struct scenario_loc name_loc;
	uint32_t ip;
	struct scenario_loc ip_loc;
	bool has_ip6;
	struct ip6_addr ip6;
	struct scenario_loc ip6_loc;
	uint16_t port;	    /* default SCENARIO_COORDINATOR_PORT */
	bool has_alternate; /* RFC 5780 alternate address */
	uint32_t alt_ip;
	struct scenario_loc alt_loc;
	struct ip6_addr alt_ip6; /* valid if has_ip6 and has_alternate */
	struct scenario_loc alt6_loc;
	uint16_t alt_port; /* default port + 1 */
	bool relay;	   /* default true */
};

/* internet latency DUR [jitter DUR] [loss P%] (any subset, at least one) */
struct scenario_internet {
	bool present;
	struct scenario_loc loc;
	int64_t latency_ns; /* SCENARIO_UNSET if not given */
	int64_t jitter_ns;  /* SCENARIO_UNSET if not given */
	double loss;	    /* probability 0..1, or SCENARIO_UNSET */
};

/* link NODE latency DUR [jitter DUR] [loss P%]: the link from NODE (a host,
 * a NAT or the coordinator) to its upstream. Also the name `cut link` /
 * `restore link` use. */
struct scenario_link {
	struct scenario_loc loc;
	struct scenario_ref node;
	int64_t latency_ns, jitter_ns; /* SCENARIO_UNSET if not given */
	double loss;		       /* probability 0..1, or SCENARIO_UNSET */
};

/* forward NAT (udp|tcp) PORT to HOST[:PORT] */
struct scenario_forward {
	struct scenario_loc loc;
	struct scenario_ref nat;
	uint8_t proto; /* 17 (UDP) or 6 (TCP) */
	uint16_t port; /* external port */
	struct scenario_loc port_loc;
	struct scenario_ref host;
	uint16_t host_port; /* = port when not given */
};

enum scenario_chain {
	SCENARIO_CHAIN_INPUT = 0,
	SCENARIO_CHAIN_OUTPUT = 1,
	SCENARIO_CHAIN_FORWARD = 2,
};

enum scenario_verdict {
	SCENARIO_ACCEPT = 0,
	SCENARIO_DROP = 1,
	SCENARIO_REJECT = 2,
};

#define SCENARIO_STATE_NEW 1u
#define SCENARIO_STATE_ESTABLISHED 2u
#define SCENARIO_STATE_RELATED 4u
#define SCENARIO_STATE_INVALID 8u

/* An ICMP message as the language names it ("port-unreachable"): its type
 * and code (code -1: any code of the type). */
struct scenario_icmp_word {
	const char *name;
	int type, code;
};
extern const struct scenario_icmp_word scenario_icmp_words[];
extern const size_t scenario_icmp_word_count;
/* The name of a type and code ("port-unreachable"), or NULL. */
const char *scenario_icmp_name(int type, int code);

/* NODE: a host, a NAT or the coordinator.
 * rule NODE CHAIN VERDICT [with ERROR] [udp | tcp [flags F] | icmp [type T] [code C]]
 *      [from PREFIX] [to PREFIX] [sport N[-M]] [dport N[-M]] [state S] */
struct scenario_rule {
	struct scenario_loc loc;
	struct scenario_ref node;
	int chain;     /* enum scenario_chain */
	int verdict;   /* enum scenario_verdict */
	uint8_t proto; /* 0 = any, 17 = udp, 6 = tcp, 1 = icmp */
	bool has_icmp_type, has_icmp_code;
	uint8_t icmp_type, icmp_code;
	/* tcp: iptables' --tcp-flags MASK COMP (TCP_FIN, ... of model/packet.h);
	 * 0, 0 = any flags. `flags syn` is --syn: FIN,SYN,RST,ACK / SYN. */
	uint8_t tcp_flags_mask, tcp_flags_match;
	int reject_with;       /* enum fw_reject_with, or SCENARIO_UNSET (port-unreachable) */
	bool reject_tcp_reset; /* `with tcp-reset` (iptables': TCP rules only) */
	bool has_src, has_dst;
	uint32_t src, dst; /* prefixes (host bits cleared) */
	uint8_t src_len, dst_len;
	/* family 6 (an ip6 rule: `ip6`, an IPv6 prefix or `icmpv6`): src6/dst6
	 * with src_len/dst_len instead of src/dst; 4 otherwise. proto 58 = icmpv6. */
	uint8_t family;
	struct ip6_addr src6, dst6;
	bool has_sport, has_dport;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	unsigned states; /* 0 = any, else SCENARIO_STATE_* bits */
};

/* policy NODE CHAIN (accept|drop) */
struct scenario_policy {
	struct scenario_loc loc;
	struct scenario_ref node;
	int chain;   /* enum scenario_chain */
	int verdict; /* SCENARIO_ACCEPT or SCENARIO_DROP */
};

/* An address and port. Written as a.b.c.d:port or name:port (a node's
 * address: a host's, a coordinator's primary, a NAT's first public one). */
struct scenario_endpoint {
	struct scenario_loc loc;
	struct scenario_ref node; /* name NULL: a literal address in `ip` (or `ip6`) */
	uint32_t ip;
	bool is6; /* a literal IPv6 address ([addr]:port, or addr alone where no port
		     is wanted), in ip6 */
	struct ip6_addr ip6;
	int port; /* 0-65535, or SCENARIO_UNSET (expect filters only) */
};

enum scenario_action_kind {
	SCENARIO_ACT_REGISTER,	   /* host */
	SCENARIO_ACT_CONNECT,	   /* host, peer */
	SCENARIO_ACT_SEND,	   /* host, peer, text */
	SCENARIO_ACT_CLASSIFY,	   /* host */
	SCENARIO_ACT_KEEPALIVE,	   /* host, keepalive_ns (0 = off) */
	SCENARIO_ACT_CUT_LINK,	   /* target (the link of a host, NAT or the coordinator) */
	SCENARIO_ACT_RESTORE_LINK, /* target */
	SCENARIO_ACT_REBOOT,	   /* target (NAT) */
	SCENARIO_ACT_SET,	   /* target (NAT), preset and/or mapping/filtering */
	SCENARIO_ACT_RAW,	   /* host, src_port, dst, text */
	SCENARIO_ACT_NOTE,	   /* text */
	SCENARIO_ACT_PING,	   /* host, dst (no port), count, interval_ns, size, ttl */
	SCENARIO_ACT_TRACEROUTE,   /* host, dst (no port), max_hops */
	SCENARIO_ACT_TCP,	   /* host, dst, src_port (0: ephemeral), send_bytes, close */
	SCENARIO_ACT_SERVE,	   /* host, src_port (the port it listens on), serve_mode */
	SCENARIO_ACT_BACKGROUND,   /* host, dst, rate, duration_ns, size */
	SCENARIO_ACT_COUNT
};

/* at TIME ACTION. Only the fields named beside the kind are meaningful. */
struct scenario_action {
	int64_t at_ns;
	enum scenario_action_kind kind;
	struct scenario_loc loc;      /* the `at` keyword */
	struct scenario_loc kind_loc; /* the action keyword */
	struct scenario_ref host;
	struct scenario_ref peer;
	struct scenario_ref target;
	const char *text; /* NUL-terminated; text_len excludes the NUL */
	size_t text_len;
	int64_t keepalive_ns;
	const char *preset;		 /* set: or NULL */
	bool has_mapping, has_filtering; /* set */
	int mapping, filtering;		 /* set: enum scenario_behaviour */
	uint16_t src_port;		 /* raw */
	struct scenario_endpoint dst;	 /* raw, ping, traceroute */
	int count;			 /* ping: echo requests (default 4) */
	int64_t interval_ns;		 /* ping: between them (default 1 s) */
	int size;			 /* ping: payload bytes (default 56); background */
	int ttl;			 /* ping, raw icmp: (default 64) */
	int max_hops;			 /* traceroute (default 30) */
	/* raw icmp HOST to DST type T [code C] [id N] [seq N] [ttl N]
	 *   [about SRC:PORT to DST:PORT] [checksum bad] */
	bool icmp;
	int icmp_type, icmp_code;
	int icmp_id, icmp_seq;
	bool has_about; /* an error quoting a UDP datagram about_src -> about_dst */
	struct scenario_endpoint about_src, about_dst;
	bool bad_checksum;
	/* raw tcp HOST to DST:PORT [from port P] flags F[,F...] [seq N] [ack N]
	 *   [window N] [payload N]: `tcp` set, src_port (default 32768);
	 * connect HOST to PEER over tcp: `tcp` set (both agents speak TCP) */
	bool tcp;
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_window;
	int payload_len;
	/* tcp HOST to DST:PORT [from port P] [send N bytes] [close]: */
	int send_bytes; /* 0: nothing */
	bool close;	/* close once connected (and the bytes are sent) */
	/* serve HOST tcp PORT [echo|discard|daytime]: */
	int serve_mode; /* enum scenario_serve_mode */
	/* background HOST to DST:PORT rate N/s [for DUR] [size N]: N new UDP
	 * flows a second (each a fresh socket, one datagram of `size` bytes)
	 * for duration_ns; size as ping's (default 16). */
	int rate;
	int64_t duration_ns;
};

/* Background traffic's bounds (docs/scenario.md). */
#define SCENARIO_BACKGROUND_RATE_MAX 1000
#define SCENARIO_BACKGROUND_FLOWS_MAX 100000
#define SCENARIO_BACKGROUND_SIZE 16		      /* default datagram size */
#define SCENARIO_BACKGROUND_FOR (60 * UNITS_NS_PER_S) /* default duration */
/* How many flows `background ... rate N/s for DUR` opens: one at each
 * k/N s, k = 0, 1, ..., while k/N s < DUR. */
uint64_t scenario_background_flows(int rate, int64_t duration_ns);

/* What a `serve` program does with the bytes it receives. */
enum scenario_serve_mode {
	SCENARIO_SERVE_DISCARD = 0, /* read and forget (RFC 863's discard service) */
	SCENARIO_SERVE_ECHO = 1,    /* send them back (RFC 862's echo service) */
	SCENARIO_SERVE_DAYTIME = 2, /* send the time and close first (RFC 867) */
};

enum scenario_expect_kind {
	SCENARIO_EXPECT_PATH,	      /* host, peer, path */
	SCENARIO_EXPECT_DROP,	      /* node, reason, from?, to? */
	SCENARIO_EXPECT_NO_DROP,      /* node, reason */
	SCENARIO_EXPECT_MAPPING,      /* node (NAT), host? (+host_port), external_port */
	SCENARIO_EXPECT_CLASSIFY,     /* host, nat_class / class_name */
	SCENARIO_EXPECT_DATA,	      /* host (receiver), peer? (sender), text */
	SCENARIO_EXPECT_NO_MAPPING,   /* as MAPPING: no such mapping at the time */
	SCENARIO_EXPECT_ICMP,	      /* host, icmp_type/icmp_code, from? */
	SCENARIO_EXPECT_NO_ICMP,      /* as ICMP: no such message reached the host */
	SCENARIO_EXPECT_RELATED,      /* node: an ICMP error there was RELATED to a flow */
	SCENARIO_EXPECT_TCP,	      /* host, to (endpoint), tcp_outcome */
	SCENARIO_EXPECT_SOCKET,	      /* host, tcp_state, port? (local port) */
	SCENARIO_EXPECT_NO_SOCKET,    /* as SOCKET: no such socket at the time */
	SCENARIO_EXPECT_CONNTRACK,    /* node, ct_state (-1: any TCP entry) */
	SCENARIO_EXPECT_NO_CONNTRACK, /* as CONNTRACK: no such entry at the time */
	SCENARIO_EXPECT_COUNT
};

enum scenario_path {
	SCENARIO_PATH_DIRECT = 0,
	SCENARIO_PATH_RELAYED = 1,
	SCENARIO_PATH_UNCONNECTED = 2,
};

enum scenario_nat_class {
	SCENARIO_CLASS_OPEN = 0,
	SCENARIO_CLASS_FIREWALL,
	SCENARIO_CLASS_FULL_CONE,
	SCENARIO_CLASS_RESTRICTED_CONE,
	SCENARIO_CLASS_PORT_RESTRICTED_CONE,
	SCENARIO_CLASS_SYMMETRIC,
};

/* Drop reasons: the numbers of enum trace_drop_reason; 0 = any reason. */
#define SCENARIO_REASON_ANY 0

struct scenario_expect {
	enum scenario_expect_kind kind;
	struct scenario_loc loc; /* the `expect` keyword */
	int64_t by_ns;		 /* deadline, or SCENARIO_UNSET: at the end of the run */
	struct scenario_ref host;
	struct scenario_ref peer;
	struct scenario_ref node;
	int path;    /* enum scenario_path */
	bool at_end; /* path: `end PATH`, the state the run ends in (by_ns unset) */
	int family;  /* path direct: `over ipv4|ipv6` (4, 6), 0 = either */
	int reason;  /* trace_drop_reason number, SCENARIO_REASON_ANY */
	bool has_from, has_to;
	struct scenario_endpoint from, to;
	int host_port;		/* mapping: SCENARIO_UNSET or the internal port */
	int external_port;	/* mapping: SCENARIO_UNSET or the port */
	int nat_class;		/* enum scenario_nat_class */
	const char *class_name; /* "open", "full-cone", ... (as discovery names them) */
	const char *text;
	size_t text_len;
	int icmp_type, icmp_code; /* icmp: code -1 = any */
	const char *icmp_name;	  /* icmp: as written ("port-unreachable") */
	int tcp_outcome;	  /* tcp: enum scenario_tcp_outcome */
	int tcp_state;		  /* socket: enum tcp_state (model/tcp.h), -1 any */
	int ct_state;		  /* conntrack: enum conntrack_tcp_state, -1 any */
	int port;		  /* socket: the local port, or SCENARIO_UNSET */
};

/* How a TCP connection attempt ended, as the program that made it saw it. */
enum scenario_tcp_outcome {
	SCENARIO_TCP_CONNECTED = 0, /* the handshake finished (ESTABLISHED) */
	SCENARIO_TCP_REFUSED,	    /* an RST answered the SYN: ECONNREFUSED */
	SCENARIO_TCP_TIMEOUT,	    /* the SYNs went unanswered: ETIMEDOUT */
	SCENARIO_TCP_RESET,	    /* an RST ended an established one: ECONNRESET */
	SCENARIO_TCP_UNREACHABLE,   /* an ICMP error ended the handshake: EHOSTUNREACH,
				     * ENETUNREACH, ... (a port unreachable is
				     * ECONNREFUSED: REFUSED, as Linux reports it) */
	SCENARIO_TCP_OUTCOME_COUNT
};
/* The words of the language for TCP: "connected", ...; "SYN-SENT", ...
 * (RFC 9293, indexed by enum tcp_state); "ESTABLISHED", "TIME_WAIT", ...
 * (conntrack -L, indexed by enum conntrack_tcp_state). NULL when out of
 * range. */
const char *scenario_tcp_outcome_name(int outcome);
const char *scenario_tcp_state_name(int state);
const char *scenario_ct_state_name(int state);

struct scenario_priv;

struct scenario {
	const char *filename;	 /* as given to the parser */
	const char *title;	 /* NULL if none */
	const char *description; /* description lines joined with '\n', or NULL */
	bool has_seed;
	uint64_t seed;
	struct scenario_internet internet;
	struct scenario_coordinator *coordinator; /* NULL if none */

	struct scenario_nat *nats;
	size_t n_nats;
	struct scenario_router *routers; /* IPv6-only home routers */
	size_t n_routers;
	struct scenario_host *hosts;
	size_t n_hosts;
	struct scenario_link *links;
	size_t n_links;
	struct scenario_forward *forwards;
	size_t n_forwards;
	struct scenario_rule *rules; /* in file order (which is chain order per node) */
	size_t n_rules;
	struct scenario_policy *policies;
	size_t n_policies;
	struct scenario_action *actions; /* sorted by at_ns; ties keep file order */
	size_t n_actions;
	struct scenario_expect *expects; /* in file order */
	size_t n_expects;

	struct scenario_priv *priv; /* memory and the source text */
};

/* Parse and check `text` (len bytes; NUL bytes are errors, not terminators).
 * `filename` labels diagnostics ("<input>" if NULL). Every problem found is
 * added to `diags` (which must not be NULL). Returns the scenario, or NULL if
 * there was any error (diags then holds at least one) or memory ran out.
 * Warnings alone do not fail the parse. */
struct scenario *scenario_parse(const char *text, size_t len, const char *filename,
				struct diag *diags);

/* Read a file and parse it. An unreadable file gives one diagnostic
 * "cannot read FILE: <strerror>". */
struct scenario *scenario_load(const char *path, struct diag *diags);

void scenario_free(struct scenario *s);

/* The text of source line `line` (1-based), without its newline, for
 * diagnostics at run time; NULL if there is no such line. */
const char *scenario_source_line(const struct scenario *s, int line, size_t *len);

/* Add a diagnostic pointing at `loc` in this scenario's file (with the source
 * line and caret). For the runner: "expectation failed: ...". */
int scenario_report(const struct scenario *s, struct diag *d, enum diag_severity sev,
		    const struct scenario_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The statuses of app/lang/units.h's duration reader, under the names this
 * header has always used. */
enum scenario_duration_status {
	SCENARIO_DURATION_OK = UNITS_OK,
	SCENARIO_DURATION_SYNTAX = UNITS_SYNTAX,     /* not a number (sign, letters, 0x1p3...) */
	SCENARIO_DURATION_NO_UNIT = UNITS_NO_UNIT,   /* a bare number: "5" */
	SCENARIO_DURATION_BAD_UNIT = UNITS_BAD_UNIT, /* "5sec" */
	SCENARIO_DURATION_RANGE = UNITS_TOO_BIG,     /* does not fit int64_t nanoseconds */
	SCENARIO_DURATION_TOO_FINE = UNITS_TOO_FINE, /* not whole nanoseconds: "0.5ns" */
};

/* Parse a duration with a unit: "20ms", "1.5s", "2min", "250us", "10ns",
 * "1h" (units_parse_duration). Returns SCENARIO_DURATION_OK and sets *ns,
 * or a negative status (and leaves *ns alone). */
int scenario_parse_duration(const char *s, int64_t *ns);

/* The range of every duration setting of the language (docs/scenario.md,
 * "Ranges and limits"), for the command-line flags that take the same values. A time
 * (`at`, `by`, --until, --at, --from, --to) is 0 to SCENARIO_MAX_TIME_NS. */
#define SCENARIO_MAX_TIME_NS (24 * UNITS_NS_PER_H)
#define SCENARIO_KEEPALIVE_MIN_NS (100 * UNITS_NS_PER_MS) /* also natsim peer --keepalive */
#define SCENARIO_KEEPALIVE_MAX_NS UNITS_NS_PER_H
extern const struct units_setting scenario_time_setting;	     /* at, by */
extern const struct units_setting scenario_keepalive_setting;	     /* keepalive */
extern const struct units_setting scenario_latency_setting;	     /* latency */
extern const struct units_setting scenario_jitter_setting;	     /* jitter */
extern const struct units_setting scenario_nat_timeout_setting;	     /* nat ... timeout */
extern const struct units_setting scenario_ping_interval_setting;    /* ping ... interval */
extern const struct units_setting scenario_tcp_timeout_setting;	     /* nat ... tcp-*-timeout */
extern const struct units_setting scenario_mapping_lifetime_setting; /* host mapping-lifetime */
extern const struct units_setting scenario_background_for_setting;   /* background ... for */

/* Apply a command-line override "NAME.KEY=VALUE" (--set), e.g.
 * "home.preset=symmetric", "alice.keepalive=off", "internet.loss=2%",
 * "seed=7". NAT keys: preset (clears explicit mapping/filtering), mapping,
 * filtering, ports, timeout, hairpinning, inbound-refresh. Host keys:
 * firewall, keepalive, host-candidates, techniques, probe-rate, probes,
 * sockets, prediction-window, mapping-lifetime. internet.latency, internet.jitter,
 * internet.loss; seed. Returns 0, or -1 with a diagnostic naming the flag
 * text and what was expected. */
int scenario_set_override(struct scenario *s, const char *name_dot_key_eq_value,
			  struct diag *diags);

/* The router with a NAT64 the host sits behind, or NULL. */
const struct scenario_router *scenario_host_nat64(const struct scenario *s,
						  const struct scenario_host *h);
/* An IPv6-only host whose agent reaches the coordinator over IPv6: the
 * coordinator has an IPv6 address, or the host sits behind a NAT64, in
 * whose prefix the world gives it the coordinator's IPv4 address (DNS64,
 * RFC 6147). */
bool scenario_host_has_agent6(const struct scenario *s, const struct scenario_host *h);

/* Lookups by name; NULL if none. */
const struct scenario_host *scenario_find_host(const struct scenario *s, const char *name);
const struct scenario_nat *scenario_find_nat(const struct scenario *s, const char *name);

/* The behaviour of a preset ("symmetric" -> APD, APD). Returns 0, or -1 if
 * the name is not a preset. */
int scenario_preset_behaviour(const char *preset, int *mapping, int *filtering);

/* Names for printing (the spelling the language uses). */
const char *scenario_action_kind_name(enum scenario_action_kind kind); /* "cut link" */
const char *scenario_expect_kind_name(enum scenario_expect_kind kind); /* "no drop" */
const char *scenario_behaviour_name(int behaviour);		       /* "address-dependent" */
const char *scenario_reason_name(int reason);			       /* "nat-filter", "any" */
const char *scenario_path_name(int path);			       /* "relayed" */

/* True if a `connect ... over tcp` names host `name`: its agent speaks TCP. */
bool scenario_host_speaks_tcp(const struct scenario *s, const char *name);

#endif
