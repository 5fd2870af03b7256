/*
 * verdict.h - the vocabulary of decisions: what a model decided about a
 * packet and the facts that decided it (DESIGN.md "Decide, then explain").
 *
 * It sits below model/ so that both sides of a verdict can read it: model/
 * fills verdicts (firewall_filter fills a struct fw_verdict, the NAT a struct
 * nat_result, a router, a host or a link the facts of its own drop), and
 * explain/ words them using nothing but this header, sim/ and base/. The
 * names keep their modules' prefixes (fw_, nat_, node_path_, link_drop_):
 * they name what each model decides, even though the types live here.
 *
 * A drop record carries its verdict (struct trace_verdict in sim/trace.h):
 * `kind` says which facts struct `facts` points at. Those facts structs
 * (struct node_firewall_facts, nat_facts, node_path_facts,
 * link_drop_facts) hold values only, except the strings they name, so an
 * observer that keeps a record copies them with verdict_facts_size() and the
 * strings listed there (sim/trace_log.c does).
 */
#ifndef NATSIM_SIM_VERDICT_H
#define NATSIM_SIM_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "base/endpoint.h"
#include "sim/trace.h"

/* ---- the packet a sentence names ---------------------------------------- */

enum verdict_flow_form {
	VERDICT_FLOW_NONE = 0,	 /* nothing known (a drop before parsing) */
	VERDICT_FLOW_PARSED,	 /* the parser read it: addresses, ports, TTL */
	VERDICT_FLOW_ADDRESSES,	 /* an IPv4 header, not a packet that parses */
	VERDICT_FLOW_UNREADABLE, /* not even a header: only its length */
};

/* "192.168.1.5:5000 → 192.0.2.1:3478", "[2001:db8::5]:5000 →
 * [2001:db8::1]:3478", as much of it as the bytes allow.
 *
 * The family is ip_version: 6 for IPv6 (src6, dst6 hold the addresses,
 * proto is the next header, ttl the hop limit), anything else (0 as every
 * IPv4 verdict leaves it, or 4) for IPv4 (src, dst). The two pairs share
 * their bytes, so an IPv4 verdict fills what it always did and costs 24
 * bytes more, not 40 (struct ip_addr twice); docs/ipv6.md says why. */
struct verdict_flow {
	enum verdict_flow_form form;
	uint8_t proto;
	uint8_t ttl;
	uint8_t ip_version; /* 6: IPv6; 0 or 4: IPv4 */
	union {
		struct {
			uint32_t src, dst; /* host order */
		};
		struct {
			struct ip6_addr src6, dst6; /* network order */
		};
	};
	uint16_t sport, dport;
	size_t len;		      /* UNREADABLE: the packet's length */
	uint8_t icmp_type, icmp_code; /* proto ICMP: what message it is */
	uint8_t tcp_flags;	      /* proto TCP: the segment's flags */
};

/* ---- conntrack state, as a firewall rule matches it ---------------------- */

/* What a packet is to the table, as iptables' --ctstate sees it. */
enum conntrack_state {
	CONNTRACK_NEW = 1,	   /* no entry yet, or an entry that has never seen a reply */
	CONNTRACK_ESTABLISHED = 2, /* an entry that has seen traffic both ways */
	CONNTRACK_RELATED = 4,	   /* an ICMP error about a tracked flow (Linux:
				    * nf_conntrack icmp_error_message; no entry
				    * of its own) */
	CONNTRACK_INVALID = 8,	   /* a packet conntrack cannot place: an ICMP
				    * error about no known flow, an echo reply
				    * nobody asked for */
	CONNTRACK_UNTRACKED = 16,  /* a packet conntrack leaves alone on purpose:
				    * ICMPv6 neighbour discovery and MLD
				    * (nf_conntrack_proto_icmpv6.c noct_valid_new;
				    * nft `ct state untracked`) */
};

/* Why conntrack called a TCP segment INVALID (nf_conntrack_proto_tcp.c). */
enum conntrack_invalid {
	CONNTRACK_INVALID_NONE,	   /* not INVALID, or not TCP */
	CONNTRACK_INVALID_FLAGS,   /* tcp_error: a flag combination no TCP sends */
	CONNTRACK_INVALID_NEW,	   /* tcp_new: no entry, and this segment cannot
				    * start one (a SYN+ACK, FIN or RST nobody
				    * tracks: "invalid new") */
	CONNTRACK_INVALID_SEGMENT, /* an entry: the segment is outside its window
				    * (tcp_in_window) or fits no state of it */
};

/* ---- the firewall (model/firewall.h) ------------------------------------- */

enum fw_chain { FW_CHAIN_INPUT = 0, FW_CHAIN_OUTPUT = 1, FW_CHAIN_FORWARD = 2, FW_CHAIN_COUNT };
enum fw_action { FW_ACCEPT = 0, FW_DROP = 1, FW_REJECT = 2 };

/* The ICMP error a REJECT sends, as iptables' --reject-with names them
 * (nft: `reject with icmp type ...`); the default is port unreachable. */
enum fw_reject_with {
	FW_REJECT_PORT_UNREACHABLE = 0,
	FW_REJECT_NET_UNREACHABLE,
	FW_REJECT_HOST_UNREACHABLE,
	FW_REJECT_PROTO_UNREACHABLE,
	FW_REJECT_NET_PROHIBITED,
	FW_REJECT_HOST_PROHIBITED,
	FW_REJECT_ADMIN_PROHIBITED,
	FW_REJECT_TCP_RESET, /* not ICMP: an RST, as ipt_REJECT's nf_send_reset sends
			      * (iptables accepts it only with -p tcp; another
			      * protocol gets port unreachable here) */
	FW_REJECT_WITH_COUNT
};

/* iptables' --reject-with names ("icmp-port-unreachable", libipt_REJECT.c
 * reject_table), and the ICMP type and code each sends (RFC 792, RFC 1812
 * 5.2.7.1; tcp-reset: port unreachable, for a packet that is not TCP).
 * _parse takes the full name, iptables' short alias ("port-unreach",
 * "tcp-rst") or the name without "icmp-" ("admin-prohibited", as nft and
 * natsim's language say it); returns 0, or -1 if unknown. */
const char *fw_reject_with_name(enum fw_reject_with with);
int fw_reject_with_parse(const char *s, enum fw_reject_with *out);
void fw_reject_icmp(enum fw_reject_with with, uint8_t *type, uint8_t *code);

/* Conntrack states a rule matches (bit set of enum conntrack_state); 0 = any. */
#define FW_STATE_ANY 0u

struct fw_rule {
	enum fw_chain chain;
	uint8_t proto; /* 0 = any */
	uint32_t src;  /* prefix; src_len 0 = any */
	uint8_t src_len;
	uint32_t dst;
	uint8_t dst_len;
	/* 0 (or 4): an IPv4 rule (src, dst); 6: an ip6 rule (a filter6's,
	 * ip6tables'), whose prefixes are src6/dst6 with src_len/dst_len
	 * (0..128), and whose ICMP matches are ICMPv6's (proto 58). */
	uint8_t family;
	struct ip6_addr src6, dst6;
	uint16_t sport_lo, sport_hi; /* 0,0 = any */
	uint16_t dport_lo, dport_hi;
	bool match_icmp_type; /* proto ICMP: match this type (and code) only */
	uint8_t icmp_type;
	bool match_icmp_code;
	uint8_t icmp_code;
	/* proto TCP: match when (flags & tcp_flags_mask) == tcp_flags_match,
	 * as iptables' --tcp-flags MASK COMP; --syn is FIN,SYN,RST,ACK SYN.
	 * 0, 0 = any flags. */
	uint8_t tcp_flags_mask, tcp_flags_match;
	unsigned states; /* FW_STATE_ANY or a set of enum conntrack_state bits */
	enum fw_action action;
	enum fw_reject_with reject_with; /* FW_REJECT: the error sent */
	char comment[48];		 /* shown in verdicts and tables */
	uint64_t hits;			 /* maintained by firewall_filter */
};

/* Why the firewall decided as it did. */
enum fw_reason {
	FW_REASON_RULE = 0,	/* a rule matched: fw_verdict.rule and .matched */
	FW_REASON_POLICY = 1,	/* no rule matched: the chain's policy decided */
	FW_REASON_NO_CHAIN = 2, /* the chain does not exist: dropped */
	FW_REASON_ADMITTED = 3, /* IPv6, RFC 6092 mode: no rule accepted it, but the
				 * filter's address-dependent or endpoint-
				 * independent filtering did: fw_verdict.admitted */
};

/* firewall_filter's verdict: the action and the facts that decided it. */
struct fw_verdict {
	enum fw_action action;
	enum fw_reason reason;
	enum fw_chain chain;
	int rule;			/* index within its chain, -1 = the chain policy */
	const struct fw_rule *matched;	/* the rule that decided (borrowed until the rules
					 * change), NULL when the policy did */
	enum conntrack_state state;	/* the packet's conntrack state, as judged */
	enum conntrack_invalid invalid; /* state INVALID, TCP: why (set by the caller,
					 * who holds the conntrack entry) */
	/* An IPv6 filter in RFC 6092 mode with address-dependent or
	 * endpoint-independent filtering that let a NEW inbound packet in
	 * because its inside endpoint has an outbound flow: that flow
	 * (borrowed: valid until the filter's next call). NULL otherwise,
	 * and always for IPv4. */
	const struct fw_admission *admitted;
};

/* Which outbound flow admitted an inbound packet (above). */
struct fw_admission {
	uint8_t filtering;	 /* enum nat_behaviour: NAT_ENDPOINT_INDEPENDENT or
				  * NAT_ADDRESS_DEPENDENT */
	uint32_t flow_id;	 /* the outbound flow's conntrack id */
	uint8_t proto;		 /* its protocol (17 UDP, 6 TCP) */
	struct endpoint6 inside; /* its inside endpoint (the packet's destination) */
	struct endpoint6 remote; /* where that flow goes */
};

/* "INPUT", "drop", and a rule in iptables-save's words and order
 * ("-p udp --dport 51820 -m state --state NEW -j ACCEPT", "-p icmp
 * --icmp-type 8 -j DROP", "-m state --state RELATED,ESTABLISHED -j ACCEPT",
 * "-j REJECT --reject-with icmp-port-unreachable"). */
const char *fw_chain_name(enum fw_chain chain);
const char *fw_action_name(enum fw_action action);
int fw_rule_format(const struct fw_rule *rule, char *out, size_t size);
/* An ip6 rule (family 6) is written as ip6tables-save writes it (checked
 * against ip6tables v1.8.9): "-s 2001:db8::/32 -d 2001:db8:1::5/128 -p udp
 * -m udp --dport 5000 -j ACCEPT", "-p ipv6-icmp -m icmp6 --icmpv6-type
 * 128", "-j REJECT --reject-with icmp6-adm-prohibited". */

/* ip6tables' REJECT (libip6t_REJECT.c, ip6t_REJECT.c reject_tg6): the
 * same enum, its IPv6 meanings. ADMIN_PROHIBITED is icmp6-adm-prohibited
 * (code 1), PORT_UNREACHABLE icmp6-port-unreachable (4, the default),
 * NET_UNREACHABLE icmp6-no-route (0), HOST_UNREACHABLE
 * icmp6-addr-unreachable (3), TCP_RESET tcp-reset. ip6tables has no
 * protocol unreachable nor net/host prohibited: net/host prohibited send
 * administratively prohibited, protocol unreachable port unreachable (as
 * does tcp-reset for a packet that is not TCP: RFC 4443 has no code for
 * either). The ICMPv6 type is always 1, destination unreachable.
 * _parse6 takes ip6tables' names and aliases ("icmp6-adm-prohibited",
 * "adm-prohibited", "admin-prohib", ...). */
const char *fw_reject_with_name6(enum fw_reject_with with);
int fw_reject_with_parse6(const char *s, enum fw_reject_with *out);
void fw_reject_icmp6(enum fw_reject_with with, uint8_t *type, uint8_t *code);

/* ---- the NAT (model/nat.h) ----------------------------------------------- */

/* RFC 4787's three answers, for mapping (REQ-1) and for filtering (REQ-8). */
enum nat_behaviour {
	NAT_ENDPOINT_INDEPENDENT = 0,
	NAT_ADDRESS_DEPENDENT = 1,
	NAT_ADDRESS_AND_PORT_DEPENDENT = 2,
};

const char *nat_behaviour_name(enum nat_behaviour b);			/* "endpoint-independent" */
const char *nat_behaviour_abbrev(enum nat_behaviour b, bool filtering); /* "EIM", "APDF" */
/* The classic name of a behaviour pair ("port-restricted-cone"; "symmetric"
 * for any non-EI mapping; "custom" otherwise). */
const char *nat_classic_name(enum nat_behaviour mapping, enum nat_behaviour filtering);

/* How a NAT mapping was made: the mapping table's "how" column. */
enum nat_origin {
	NAT_ORIGIN_TRAFFIC = 0, /* an outbound packet (RFC 4787) */
	NAT_ORIGIN_FORWARD = 1, /* a static port forward */
	NAT_ORIGIN_PCP = 2,	/* a PCP MAP request (RFC 6887) */
	NAT_ORIGIN_NATPMP = 3,	/* a NAT-PMP map request (RFC 6886) */
};
const char *nat_origin_name(enum nat_origin o); /* "traffic", "forward", "pcp", "nat-pmp" */

/* What the NAT's port-mapping server (model/pcp_server.h) decided about a
 * request; struct trace_pcp carries it with the facts. */
enum pcp_decision {
	PCP_DECISION_CREATED = 0,	/* a new explicit mapping */
	PCP_DECISION_RENEWED,		/* the owner renewed its mapping */
	PCP_DECISION_DELETED,		/* the owner deleted it (lifetime 0) */
	PCP_DECISION_NOTHING_TO_DELETE, /* lifetime 0 for no mapping: success anyway */
	PCP_DECISION_ADDRESS,		/* NAT-PMP opcode 0: the public address told */
	PCP_DECISION_UNSUPP_VERSION,	/* a version this server does not speak */
	PCP_DECISION_MALFORMED,		/* short, misaligned, too long, bad fields */
	PCP_DECISION_ADDRESS_MISMATCH,	/* PCP: client address field is not the source */
	PCP_DECISION_UNSUPP_OPCODE,	/* not MAP (PCP) / not 0-2 (NAT-PMP) */
	PCP_DECISION_UNSUPP_PROTOCOL,	/* PCP: neither UDP nor TCP */
	PCP_DECISION_NONCE_MISMATCH,	/* PCP: the mapping is another nonce's */
	PCP_DECISION_NOT_OWNER,		/* a port forward or another protocol's mapping */
	PCP_DECISION_NO_RESOURCES,	/* no external port left, or no memory */
	PCP_DECISION_IGNORED,		/* not answered: a response, or too short to read */
	PCP_DECISION_UNSUPP_OPTION,	/* PCP: a mandatory option this server lacks */
	PCP_DECISION_MALFORMED_OPTION,	/* PCP: an option runs past the message */
	PCP_DECISION_NOT_AUTHORIZED,	/* policy: natsim maps no "all ports" request */
	PCP_DECISION_COUNT
};
const char *pcp_decision_name(enum pcp_decision d); /* "created", "nonce-mismatch", ... */
/* The result code a decision is answered with, in the numbering of
 * `protocol` (NAT_ORIGIN_PCP: RFC 6887 7.4; NAT_ORIGIN_NATPMP: RFC 6886
 * 3.5). One table, so the server's answer and the trace never disagree. */
uint8_t pcp_decision_result(enum pcp_decision d, enum nat_origin protocol);
/* Success answers (created, renewed, deleted, nothing to delete, address). */
bool pcp_decision_succeeded(enum pcp_decision d);

enum nat_verdict {
	NAT_VERDICT_TRANSLATED = 0, /* rewritten in place */
	NAT_VERDICT_DROP = 1,	    /* see reason and decision */
};

/* What decided a packet's fate at the NAT (RFC 4787 section in brackets). */
enum nat_decision {
	NAT_DECISION_MAPPING_CREATED = 0, /* outbound: a new mapping was made (REQ-1..4) */
	NAT_DECISION_MAPPING_REUSED,	  /* outbound: the source's mapping was reused (REQ-1) */
	NAT_DECISION_ADMITTED,		  /* inbound: filtering let the remote in (REQ-8) */
	NAT_DECISION_NOT_UDP,		  /* dropped: neither UDP nor ICMP this NAT translates
					   * (echo requests out, replies in, errors) */
	NAT_DECISION_NO_MAPPING,	  /* dropped: inbound to a port no mapping uses */
	NAT_DECISION_FILTERED,		  /* dropped: filtering refused the remote (REQ-8) */
	NAT_DECISION_PORTS_EXHAUSTED,	  /* dropped: no external port left (REQ-3/4) */
	NAT_DECISION_NO_MEMORY,		  /* dropped: no memory for a new mapping */
	NAT_DECISION_RELATED,		  /* an ICMP error translated by the mapping of the
					   * flow it quotes (RFC 5508 REQ-3/4) */
	NAT_DECISION_ICMP_NO_FLOW,	  /* dropped: an ICMP error quoting a packet of no
					   * mapping this NAT holds */
	NAT_DECISION_ICMP_ERRORS_OFF,	  /* dropped: this NAT drops ICMP errors (option) */
	NAT_DECISION_COUNT
};

struct nat_mapping; /* model/nat.h */

/* The NAT's verdict: what it decided and the facts that decided it, filled
 * on every call whether or not anyone watches the trace. */
struct nat_result {
	enum nat_verdict verdict;
	enum nat_decision decision;
	enum trace_drop_reason reason; /* a drop's reason in the trace; NONE otherwise */
	uint8_t proto;
	struct endpoint src, dst;     /* the packet as it reached the NAT */
	struct endpoint remote;	      /* the far side: dst outbound, src inbound */
	enum nat_behaviour behaviour; /* the axis that decided: mapping outbound,
				       * filtering inbound */
	struct endpoint internal;     /* the mapping's (or the static forward's), if any */
	struct endpoint external;     /* the mapping's; the one asked for on NO_MAPPING */
	/* Inbound: the remotes the mapping has sent to, who filtering lets in
	 * (borrowed: valid until the next NAT call). */
	const struct endpoint *allowed;
	size_t n_allowed;
	bool is_static;			   /* the mapping is a port forward: it admits anyone */
	uint32_t public_ip;		   /* PORTS_EXHAUSTED: the address searched ... */
	uint16_t port_lo, port_hi;	   /* ... and its port range */
	const struct nat_mapping *mapping; /* the mapping used (valid until the next NAT call) */
	bool created;			   /* outbound: a new mapping was made */
	bool refreshed; /* the mapping's lifetime was pushed back (REQ-6): its flow's
			   conntrack entry follows it (docs/nat-and-conntrack.md) */
	/* ICMP errors (RFC 5508): the quoted packet's endpoint the NAT
	 * rewrote, before and after; inner_translated is false when the NAT
	 * left the inside alone (the `icmp-inner off` failure). */
	bool icmp_error;
	uint8_t icmp_type, icmp_code; /* any ICMP message, error or echo */
	uint8_t tcp_flags;	      /* TCP: the segment's flags (enum tcp_flag bits) */
	uint8_t inner_proto;	      /* the quoted packet's protocol (UDP, or an ICMP echo) */
	bool inner_translated;
	struct endpoint inner_before, inner_after;
};

/* ---- what a drop record carries ------------------------------------------ */

/* Which facts struct a struct trace_verdict points at. Drop records carry
 * every kind; translate records carry the NAT's (an accept, not worded). */
enum node_verdict_kind {
	NODE_VERDICT_FIREWALL = 1, /* facts: struct node_firewall_facts */
	NODE_VERDICT_NAT = 2,	   /* facts: struct nat_facts */
	NODE_VERDICT_PATH = 3,	   /* facts: struct node_path_facts */
	NODE_VERDICT_LINK = 4,	   /* facts: struct link_drop_facts */
	NODE_VERDICT_KIND_COUNT
};

/* A firewall refused the packet. */
/* Whether a node's stack answered a packet with an ICMP error (a REJECT, a
 * port nobody listens on, a TTL run out, no route), and if not, why not. */
enum icmp_answer_kind {
	ICMP_ANSWER_NONE = 0,	  /* nothing to answer (a silent drop) */
	ICMP_ANSWER_SENT,	  /* sent: type, code and packet_id */
	ICMP_ANSWER_RATE_LIMITED, /* not sent: Linux's icmp_ratelimit / icmp_msgs_per_sec */
	ICMP_ANSWER_NEVER,	  /* not sent: never about an ICMP error, a broadcast
				   * or a fragment (RFC 1122 3.2.2) */
	ICMP_ANSWER_TCP_RST,	  /* a TCP RST was sent instead (RFC 9293 3.10.7.1: a
				   * segment to a port nobody listens on): packet_id */
};

struct icmp_answer {
	enum icmp_answer_kind kind;
	uint8_t type, code;
	uint64_t packet_id; /* SENT: the error's packet id */
};

struct node_firewall_facts {
	struct fw_verdict verdict; /* .matched is NULL: the rule is `rule` */
	struct icmp_answer answer; /* REJECT: what the sender was told */
	struct fw_rule rule;	   /* the rule that decided (FW_REASON_RULE) */
	struct verdict_flow flow;  /* the packet the firewall judged */
};

/* Remotes of a refusing mapping a drop record keeps (the sentence names
 * three and counts the rest; n_allowed stays the true count). */
#define NAT_FACTS_ALLOWED 16

/* The NAT's verdict on a drop record (it refused the packet) or a translate
 * record (it let the packet through): its result, the remotes copied in. */
struct nat_facts {
	struct nat_result result; /* .allowed and .mapping are NULL: see allowed[] */
	struct endpoint allowed[NAT_FACTS_ALLOWED];
	/* A TCP segment no mapping admitted (RFC 5382 REQ-4): what the
	 * router answered (ICMP_ANSWER_TCP_RST, or ICMP_ANSWER_NONE), or that
	 * it holds a port unreachable back 6 s (tcp_syn_held). */
	struct icmp_answer answer;
	bool tcp_syn_held;
};

/* ---- the translators (model/xlat.h, model/nat64.h, model/nptv6.h) ------- */

/* Why an RFC 7915 translation (model/xlat.h) did or did not happen. */
enum xlat_result {
	XLAT_OK = 0,
	XLAT_ERR_MALFORMED = -1,	   /* the input does not parse */
	XLAT_ERR_PROTOCOL = -2,		   /* neither UDP, TCP nor ICMP(v6) */
	XLAT_ERR_ICMP_UNTRANSLATABLE = -3, /* no counterpart (RFC 7915: drop silently) */
	XLAT_ERR_NO_ROOM = -4,		   /* the output buffer is too small */
	XLAT_ERR_PARAM_POINTER = -5,	   /* a parameter problem whose pointer has no
					    * counterpart (RFC 7915 4.2 figure 3, 5.2
					    * figure 6: "n/a" or not listed): drop */
};

/* Why a router's NPTv6 or NAT64 refused a packet (NODE_PATH_XLAT). */
enum xlat_refusal {
	XLAT_REFUSED_NPT_FFFF = 0,   /* NPTv6: the word RFC 6296 3.4-3.5 adjusts
				      * would be 0xffff */
	XLAT_REFUSED_NO_BINDING,     /* NAT64: no binding for that pool address and
				      * port (RFC 6146 3.5.1) */
	XLAT_REFUSED_FILTERED,	     /* NAT64, ADF: the binding never sent there */
	XLAT_REFUSED_EXHAUSTED,	     /* NAT64: no pool port for a new binding */
	XLAT_REFUSED_UNSUPPORTED,    /* NAT64: a query from the IPv4 side */
	XLAT_REFUSED_UNTRANSLATABLE, /* NAT64: RFC 7915 said no (node_path_facts
				      * .xlat_result says why) */
	XLAT_REFUSED_MALFORMED,	     /* NAT64: the packet does not parse */
	XLAT_REFUSED_NOT_OURS,	     /* NAT64: an ICMPv6 error quoting a packet
				      * that did not come from the prefix */
	XLAT_REFUSED_NO_MEMORY,	     /* no memory for the translated packet */
	XLAT_REFUSED_TCP_NO_SESSION, /* NAT64: TCP with no session, not an IPv6 SYN
				      * (RFC 6146 3.5.2.2) */
	XLAT_REFUSAL_COUNT
};

/* Why a router or a host dropped a packet on its own path (not by its
 * firewall's or its NAT's verdict). */
enum node_path_cause {
	NODE_PATH_MALFORMED,	      /* the parser refused it: detail is its reason */
	NODE_PATH_NO_ROUTE,	      /* router: no table entry and no default route */
	NODE_PATH_TTL,		      /* router: TTL would reach 0 (RFC 1812 5.3.1) */
	NODE_PATH_NO_HAIRPIN,	      /* router: an inside host sent to the NAT's public side
				       * and hairpinning is off (RFC 4787 REQ-9) */
	NODE_PATH_NAT_UNPARSABLE,     /* router: its NAT produced bytes that do not parse */
	NODE_PATH_OWN_NO_SOCKET,      /* router with input accept: nothing listens there */
	NODE_PATH_OWN_ADDRESS,	      /* router with input drop: addressed to the router */
	NODE_PATH_HOST_NO_ROUTE,      /* host: dst off-link and no gateway */
	NODE_PATH_HOST_UNATTACHED,    /* host: its interface is on no link */
	NODE_PATH_NOT_FOR_US,	      /* host: addressed to another address */
	NODE_PATH_NO_SOCKET,	      /* host: nothing listens on the port */
	NODE_PATH_CT_INVALID,	      /* router: a TCP segment conntrack marked INVALID,
				       * addressed to the NAT's public side: no DNAT
				       * without an entry, and INPUT drops it */
	NODE_PATH_NO_IPV6_ROUTE,      /* router: no IPv6 route matches (Linux's
				       * ip6_null_entry: ip6_pkt_discard) */
	NODE_PATH_NO_IPV6_ADDRESS,    /* host: an IPv6 packet, and the host has no IPv6
				       * address */
	NODE_PATH_HOP_LIMIT,	      /* router: IPv6 hop limit would reach 0 (RFC 8200
				       * section 3, ip6_forward) */
	NODE_PATH_PACKET_TOO_BIG,     /* router: an IPv6 packet bigger than the out
				       * link's MTU (`mtu`): IPv6 routers never
				       * fragment (RFC 8200 section 5) */
	NODE_PATH_NO_NEIGHBOUR6,      /* router: the IPv6 next hop (addr6) is on no
				       * attachment of the out link: address
				       * unreachable (natsim has no neighbour
				       * discovery; Linux answers so when it fails) */
	NODE_PATH_XLAT,		      /* router: its NPTv6 or NAT64 refused it
				       * (model/router_xlat.h); xlat says why */
	NODE_PATH_UDP6_CSUM_ZERO,     /* host, or a router's own stack: UDP over IPv6
				       * with checksum 0, which RFC 8200 8.1 forbids
				       * (Linux __udp6_lib_rcv: udp6_csum_zero_error);
				       * routers forward it */
	NODE_PATH_HOST_NO_NEIGHBOUR6, /* host: the IPv6 next hop of its own packet
				       * (addr6: the destination on-link, or the
				       * gateway) is on no attachment of its link:
				       * Linux's neighbour entry fails and the host
				       * reports address unreachable to itself
				       * (ndisc_error_report -> ip6_link_failure) */
	NODE_PATH_COUNT
};

struct node_path_facts {
	enum node_path_cause cause;
	struct verdict_flow flow;	/* the packet, where it was parsed */
	uint32_t dst;			/* HOST_*: the destination asked for */
	uint32_t addr;			/* HOST_NO_ROUTE: the interface's; NOT_FOR_US: the host's */
	uint8_t prefix_len;		/* HOST_NO_ROUTE: the interface's */
	struct ip6_addr addr6;		/* IPv6 (flow.ip_version 6): HOST_NO_ROUTE,
					 * NOT_FOR_US as addr (the interface's);
					 * *NO_NEIGHBOUR6: the next hop */
	const char *iface;		/* HOST_UNATTACHED: the interface */
	const char *detail;		/* MALFORMED: the parser's reason */
	uint32_t mtu;			/* PACKET_TOO_BIG: the out link's MTU */
	struct icmp_answer answer;	/* NO_SOCKET, TTL, NO_ROUTE, OWN_NO_SOCKET: the
					 * error the stack sent back, if any */
	enum conntrack_invalid invalid; /* CT_INVALID: why conntrack refused it */
	bool inside;			/* OWN_NO_SOCKET: it came from the NAT's inside,
					 * whose packets always reach the router's own
					 * stack (not `input accept`) */
	enum xlat_refusal xlat;		/* XLAT: which translator refused, and why */
	enum xlat_result xlat_result;	/* XLAT_REFUSED_UNTRANSLATABLE: RFC 7915's no */
};

/* Why a link did not carry a packet (model/link.c). */
enum link_drop_cause {
	LINK_DROP_NOT_ATTACHED,		/* the sender's interface is not on the link */
	LINK_DROP_LINK_DOWN,		/* the link is cut, at sending */
	LINK_DROP_ACCESS_DOWN,		/* the sender's own access to the link is cut */
	LINK_DROP_NO_NEIGHBOUR,		/* nobody on the link holds the next-hop address */
	LINK_DROP_QUEUE_FULL,		/* a rate-limited link's queue is full */
	LINK_DROP_NO_MEMORY,		/* no room for one more packet in flight */
	LINK_DROP_PEER_DOWN,		/* the receiver's access is cut, at sending */
	LINK_DROP_LOSS,			/* the link's random loss */
	LINK_DROP_LOSS_ACCESS,		/* the same, counting the ends' own access loss */
	LINK_DROP_CUT_IN_FLIGHT,	/* the link went down while the packet flew */
	LINK_DROP_ACCESS_CUT_IN_FLIGHT, /* an end's access went down while it flew */
	LINK_DROP_CAUSE_COUNT
};

struct link_drop_facts {
	enum link_drop_cause cause;
	struct verdict_flow flow;
	const char *link;	   /* the link's name */
	const char *iface;	   /* NOT_ATTACHED: the sender's interface */
	const char *peer;	   /* the receiving node (PEER_DOWN, LOSS*, *IN_FLIGHT) */
	const char *cut_by;	   /* ACCESS_CUT_IN_FLIGHT: the node whose access went down */
	uint32_t next_hop;	   /* NO_NEIGHBOUR: the address nobody holds */
	struct ip6_addr next_hop6; /* NO_NEIGHBOUR of an IPv6 packet (flow.ip_version 6) */
	double loss;		   /* LOSS*: the probability, 0..1 */
	size_t queue_limit;	   /* QUEUE_FULL */
	uint64_t rate_bps;	   /* QUEUE_FULL */
};

/* How many bytes the facts of `kind` take (0 for an unknown kind), for an
 * observer that copies a record's verdict. */
size_t verdict_facts_size(int kind);

#endif
