/*
 * nat.h - a NAT described along RFC 4787's axes.
 *
 * Behaviour is data, not code paths (STYLE.md): a struct nat_config says how
 * mappings are reused (mapping behaviour, REQ-1), who may come in through them
 * (filtering behaviour, REQ-8), how external ports are chosen (port
 * assignment, REQ-3/4), how long an idle mapping lives and what refreshes it
 * (REQ-5/6), and whether hairpinning works (REQ-9). The classic names are rows
 * of a preset table:
 *   full-cone            = EIM + EIF
 *   restricted-cone      = EIM + ADF
 *   port-restricted-cone = EIM + APDF
 *   symmetric            = APDM + APDF (random ports)
 *
 * The NAT answers Tailscale natlab's two questions: which outside source for
 * this outgoing packet (nat_translate_outbound), and which inside destination
 * for this incoming one (nat_translate_inbound). Choosing a translation is
 * netfilter's three steps: reuse an existing mapping for this source, pick an
 * address, pick a port.
 *
 * The NAT keeps its mapping table (internal endpoint -> external endpoint,
 * plus the remotes it has live flows to); the router that hosts it keeps the
 * per-flow conntrack entries beside it, and the two are one model
 * (docs/nat-and-conntrack.md): a translated flow's entry lives exactly as
 * long as its mapping lets it (nat_result.refreshed), and a flow's end takes
 * its remote out of the filtering state (nat_flow_closed). Mappings expire
 * exactly at their deadline in virtual time (lazy re-arm), emitting
 * TRACE_MAPPING.
 */
#ifndef NATSIM_MODEL_NAT_H
#define NATSIM_MODEL_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/packet.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/verdict.h"

enum nat_port_assignment {
	NAT_PORT_PRESERVE = 0,	 /* keep the internal port if free, else fall back to sequential */
	NAT_PORT_SEQUENTIAL = 1, /* next free port after the last one given */
	NAT_PORT_RANDOM = 2,	 /* uniformly random free port (RFC 6056 style) */
};

/* RFC 4787 REQ-2: which public address a new mapping gets when the NAT has
 * several. */
enum nat_pooling {
	NAT_POOLING_PAIRED = 0,	   /* one internal address, always the same external one (REQ-2) */
	NAT_POOLING_ARBITRARY = 1, /* any address, drawn per mapping from the NAT's stream */
};

#define NAT_MAX_PUBLIC 4

/* What a NAT does with an unsolicited inbound TCP SYN (RFC 5382 REQ-4):
 * real NATs differ, and the difference decides whether TCP simultaneous open
 * works through them. */
enum nat_tcp_unsolicited {
	NAT_TCP_SYN_DROP = 0, /* silently (a Linux router whose INPUT drops) */
	NAT_TCP_SYN_RST = 1,  /* answer with an RST (a Linux router whose INPUT
			       * accepts: its own stack has no listener there) */
	NAT_TCP_SYN_ICMP = 2, /* answer with ICMP port unreachable */
};
const char *nat_tcp_unsolicited_name(enum nat_tcp_unsolicited u); /* "drop", "rst", "icmp" */
int nat_tcp_unsolicited_parse(const char *s, enum nat_tcp_unsolicited *out);

struct nat_config {
	enum nat_behaviour mapping;
	enum nat_behaviour filtering;
	enum nat_port_assignment ports;
	uint16_t port_lo, port_hi; /* range for allocated ports, default 1024-65535 */
	int64_t
	    mapping_timeout;  /* idle lifetime, default SIM_S(30); RFC 4787 REQ-5 asks >= 2 min */
	bool inbound_refresh; /* REQ-6: outbound always refreshes; inbound only if set */
	bool hairpinning;     /* REQ-9 */
	enum nat_pooling pooling; /* REQ-2, default paired */
	size_t n_public;
	uint32_t public_ip[NAT_MAX_PUBLIC];
	/* ICMP (RFC 5508). An echo request's id is mapped like a port under
	 * the mapping behaviour (REQ-1), from ids 1-65535 whatever the port
	 * range (nf_nat_l4proto_unique_tuple gives ICMP ids the whole 16 bits;
	 * natsim keeps 0 for "no mapping"); its mapping lives icmp_timeout. */
	int64_t icmp_timeout; /* default SIM_S(30), as Linux's nf_conntrack_icmp_timeout;
			       * RFC 5508 REQ-2 asks >= 60 s */
	bool icmp_inner;      /* default true: translate the packet an error quotes
			       * (REQ-3/4); false is a NAT that rewrites only the
			       * outer header, which the inside host cannot match */
	bool icmp_errors;     /* default true; false drops every ICMP error */
	/* TCP (RFC 5382). Mappings follow the mapping behaviour as for UDP
	 * (REQ-1) and are kept by the state of the connections through them:
	 * an established connection's mapping lives tcp_established_timeout
	 * idle, one in the handshake or the close (the transitory states)
	 * tcp_transitory_timeout (REQ-5). 0 for either: Linux's per-state
	 * conntrack timeouts decide (nf_conntrack_tcp_timeout_*: 5 days
	 * established, 120 s SYN_SENT and TIME_WAIT, ...), as a Linux NAT does.
	 * tcp_unsolicited_syn is what the NAT does with an inbound SYN no
	 * mapping admits (REQ-4 asks it to stay silent for >= 6 s, which lets
	 * simultaneous open work).
	 * A TCP mapping has no idle timer of its own (expires_at is
	 * SIM_TIME_NEVER): it is kept by its connections' conntrack entries,
	 * which the router times out as above, and goes with the last of
	 * them (nat_flow_closed), as a Linux NAT binding is its entry. */
	int64_t tcp_established_timeout; /* default 0 (Linux); REQ-5 asks >= 2 h 4 min */
	int64_t tcp_transitory_timeout;	 /* default 0 (Linux); REQ-5 asks >= 4 min */
	enum nat_tcp_unsolicited tcp_unsolicited_syn; /* default NAT_TCP_SYN_DROP */
	/* Port-mapping servers on UDP 5351 of the router's inside addresses
	 * (model/pcp_server.h): hosts ask for explicit mappings. Both off by
	 * default, as on a router that runs no port-mapping daemon: home
	 * routers commonly ship UPnP IGD, and PCP / NAT-PMP off or absent
	 * (OpenWrt, for one, has neither until miniupnpd is installed). */
	bool pcp;    /* RFC 6887, version 2, MAP */
	bool natpmp; /* RFC 6886, version 0 */
	/* The server's clamp on a requested lifetime, in seconds: miniupnpd's
	 * defaults (min_lifetime 120, max_lifetime 86400, upnpglobalvars.c;
	 * pcpserver.c parseCommonRequestHeader clamps into them). */
	uint32_t map_min_lifetime;
	uint32_t map_max_lifetime;
};

/* Fill the defaults (EIM + APDF, preserve, paired pooling, 30 s, no
 * hairpinning, no address; ICMP errors translated inside and out, echo
 * mappings 30 s). */
void nat_config_default(struct nat_config *cfg);
/* Apply a preset by name ("full-cone", "restricted-cone", "port-restricted-cone",
 * "symmetric"); only the behaviour fields change. Returns 0 or -1 if unknown. */
int nat_config_preset(struct nat_config *cfg, const char *name);

struct nat_preset {
	const char *name;
	enum nat_behaviour mapping;
	enum nat_behaviour filtering;
	enum nat_port_assignment ports;
	const char *summary; /* one sentence for students */
};
extern const struct nat_preset nat_presets[];
extern const size_t nat_preset_count;

const char *nat_port_assignment_name(enum nat_port_assignment p);
const char *nat_pooling_name(enum nat_pooling p);		 /* "paired", "arbitrary" */
int nat_behaviour_parse(const char *s, enum nat_behaviour *out); /* names or abbreviations */

struct nat_mapping {
	uint32_t id;
	uint8_t proto;
	struct endpoint internal;
	struct endpoint external;
	/* For address-(and-port-)dependent mapping, the remote this mapping is
	 * for (the part of the key beyond the internal endpoint). */
	struct endpoint key_remote;
	/* Every remote contacted through it, in order (the filtering state):
	 * one array, scanned by every inbound packet, so that a mapping that
	 * has talked to many peers costs a few cache lines, not a list. */
	const struct endpoint *remotes;
	size_t n_remotes;
	bool is_static; /* port forward: never expires, admits anyone */
	/* How it was made. An explicit one (pcp, nat-pmp) admits anyone, as a
	 * MAP does (RFC 6887 section 11), and lives exactly its granted
	 * lifetime: traffic through it does not extend it. */
	enum nat_origin origin;
	uint8_t nonce[12]; /* pcp: the MAP nonce that owns it (RFC 6887 11.1) */
	int64_t created_at;
	int64_t expires_at;
};

/* enum nat_behaviour (and its names), enum nat_verdict, enum nat_decision
 * and struct nat_result, the NAT's verdict, are in sim/verdict.h. */

struct nat;

/* `node_name` is borrowed. `rng` is the NAT's own stream (copied). The
 * config must name at least one public address. Returns NULL on OOM or a bad
 * config. */
struct nat *nat_new(struct engine *e, const char *node_name, const struct nat_config *cfg,
		    const struct rng *rng);
void nat_free(struct nat *nat);
const struct nat_config *nat_config(const struct nat *nat);

/* A packet from inside to outside: find or make the mapping for its source
 * (and, per the mapping behaviour, its destination), record the destination
 * as a contacted remote, refresh (REQ-6), rewrite the source. UDP, TCP (RFC
 * 5382 REQ-1: the same mapping behaviour; which segments may reach the NAT
 * is conntrack's call, made by the router), and ICMP echo requests by their
 * id (RFC 5508 REQ-1); anything else is dropped NAT_DECISION_NOT_UDP. */
void nat_translate_outbound(struct nat *nat, uint8_t *buf, size_t len,
			    const struct packet_info *info, struct nat_result *out);

/* A packet arriving for one of the NAT's public addresses: find the mapping
 * for its destination, apply the filtering behaviour against the remotes
 * contacted through it, rewrite the destination. An echo reply finds its
 * request's mapping by id; an echo request has no mapping (RFC 5508: it is
 * for the NAT itself) and is dropped NAT_DECISION_NO_MAPPING. A drop's verdict holds the
 * mapping and the remotes it lets in, which explain/ words ("its mapping for
 * 192.168.1.5:5000 only accepts replies from 192.0.2.1:3478, the one endpoint
 * it has sent to (address-and-port-dependent filtering)"). */
void nat_translate_inbound(struct nat *nat, uint8_t *buf, size_t len,
			   const struct packet_info *info, struct nat_result *out);

/* ICMP errors (RFC 5508), as nf_nat_icmp_reply_translation does: the
 * mapping is the one of the flow the error quotes, and the NAT rewrites the
 * outer header and, with icmp_inner, the quoted packet, fixing every
 * checksum (REQ-3/4). `related`: conntrack found that flow (Linux translates
 * only RELATED errors); false drops it as icmp-no-flow. Filtering does not
 * apply: an error about a flow the NAT has may come from anyone on its path
 * (a router's time exceeded). Neither refreshes a mapping.
 *   inbound:  the quoted packet left through the mapping, so its SOURCE is
 *             the external endpoint: rewrite the outer destination and the
 *             quoted source back to the internal endpoint;
 *   outbound: an inside host answers a flow that came in, so the quoted
 *             DESTINATION is the internal endpoint: rewrite the outer source
 *             and the quoted destination to the external one.
 * Drops: NAT_DECISION_ICMP_ERRORS_OFF (icmp_errors false),
 * NAT_DECISION_ICMP_NO_FLOW (no mapping holds the quoted flow).
 * nat_translate_outbound/inbound hand errors to these, as related. */
void nat_translate_error_outbound(struct nat *nat, uint8_t *buf, size_t len,
				  const struct packet_info *info, bool related,
				  struct nat_result *out);
void nat_translate_error_inbound(struct nat *nat, uint8_t *buf, size_t len,
				 const struct packet_info *info, bool related,
				 struct nat_result *out);

/* A flow translated by the mapping internal <-> external ended (its
 * conntrack entry died): `remote` no longer decides who may come in through
 * it (TRACE_MAP_REMOTE_REMOVED), as in Linux, where the conntrack entry is
 * the only filtering state. A dynamic TCP mapping left with no remote is
 * gone with it (TRACE_MAP_EXPIRED). Does nothing if no such mapping holds
 * `remote`.
 * The router calls it from its conntrack destroy hook. */
void nat_flow_closed(struct nat *nat, uint8_t proto, const struct endpoint *internal,
		     const struct endpoint *external, const struct endpoint *remote);

/* Would nat_translate_inbound() let this packet in? Changes nothing. */
bool nat_admits(const struct nat *nat, const struct packet_info *info);

/* True if `ip` is one of the NAT's public addresses. */
bool nat_owns_address(const struct nat *nat, uint32_t ip);

/* The conntrack table of the router whose own stack accepts unsolicited
 * packets (`input accept`): its flows can hold a reply tuple a mapping would
 * need, and a new flow that would clash with one gets another port, as
 * nf_nat_core.c get_unique_tuple does. NULL (the default) for a router that
 * drops them: then no such flow exists and nothing needs checking. */
struct conntrack;
void nat_attach_conntrack(struct nat *nat, const struct conntrack *ct);

/* A static port forward: external port on the first public address -> internal. */
int nat_add_forward(struct nat *nat, uint8_t proto, uint16_t external_port,
		    const struct endpoint *internal);

/* Emit a TRACE_MAP_CREATED ("static") record for every port forward. The
 * world calls it once with the topology (net_announce), since forwards are
 * added before any trace observer is attached. */
void nat_announce(struct nat *nat);

/* Reboot: every dynamic mapping is cleared (TRACE_MAP_CLEARED), explicit
 * ones too, and the epoch starts again; forwards stay. */
void nat_reboot(struct nat *nat);
/* Change behaviour (a what-if): clears dynamic mappings like a reboot. The
 * public addresses in `cfg` replace the old ones. Returns 0 or -1. */
int nat_reconfigure(struct nat *nat, const struct nat_config *cfg);

/* ---- explicit mappings (PCP, NAT-PMP: model/pcp_server.h) ---------------- */

/* A request for an explicit mapping, already read and clamped by the server. */
struct nat_map_request {
	enum nat_origin origin; /* NAT_ORIGIN_PCP or NAT_ORIGIN_NATPMP */
	uint8_t proto;		/* UDP or TCP */
	struct endpoint internal;
	uint16_t suggested_port; /* 0: none */
	uint32_t suggested_ip;	 /* 0: none */
	uint32_t lifetime;	 /* seconds; 0 deletes */
	uint8_t nonce[12];	 /* pcp; zeros for nat-pmp */
};

/* Create, renew or delete the explicit mapping for req->internal:
 *   none yet           -> CREATED: an external port by the NAT's port
 *                         assignment, the suggested one when it is free
 *                         (RFC 6887 11.3; RFC 6886 3.3);
 *   the host's implicit mapping (made by its traffic)
 *                      -> CREATED by adopting it: it keeps its external port
 *   its own (same protocol and, for PCP, nonce)
 *                      -> RENEWED, or DELETED with lifetime 0;
 *   another nonce's    -> NONCE_MISMATCH (RFC 6887 11.3: NOT_AUTHORIZED);
 *   a port forward, or the other protocol's mapping -> NOT_OWNER;
 *   lifetime 0 and nothing explicit -> NOTHING_TO_DELETE (a success);
 *   no port left       -> NO_RESOURCES.
 * Emits one TRACE_MAPPING (created, renewed, deleted or refused) carrying
 * `facts` with the decision and the granted lifetime filled in. *out: the
 * mapping (created, renewed), else NULL; valid until the next NAT call. */
enum pcp_decision nat_map_explicit(struct nat *nat, const struct nat_map_request *req,
				   const struct trace_pcp *facts, const struct nat_mapping **out);

/* A request the server refused before any mapping was looked at (version,
 * malformed, ...): a TRACE_MAP_REFUSED record for it. */
void nat_map_refused(struct nat *nat, uint8_t proto, const struct trace_pcp *facts);

/* Seconds since the NAT's mapping state began: since nat_new, or the last
 * nat_reboot / nat_reconfigure, which lose every dynamic mapping (the
 * PCP / NAT-PMP epoch, RFC 6887 8.5, RFC 6886 3.6). */
uint32_t nat_epoch(const struct nat *nat);

/* The engine-side name of the NAT's node, for the records its server
 * makes. */
const char *nat_node_name(const struct nat *nat);

size_t nat_mapping_count(const struct nat *nat);
void nat_foreach_mapping(const struct nat *nat, bool (*fn)(const struct nat_mapping *m, void *ctx),
			 void *ctx);
/* Find the mapping that owns an external endpoint, or NULL. */
const struct nat_mapping *nat_mapping_by_external(const struct nat *nat, uint8_t proto,
						  const struct endpoint *external);

#endif
