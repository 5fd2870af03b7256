/*
 * explain.h - verdicts into sentences: the one place where words are made
 * (DESIGN.md "Decide, then explain").
 *
 * A model decides and returns a verdict: a reason code and the facts that
 * decided it (firewall_filter's struct fw_verdict, the NAT's struct
 * nat_result, a node's or a link's own drop facts). The functions here
 * turn a verdict into the sentence a student reads in the timeline, `natsim
 * why`, the TUI and the trace's "why". They read nothing but the verdict, so
 * the words never depend on whether anyone watches and never disagree with
 * the decision.
 *
 * Layer: between model/ and viz/, using sim/ and base/ only (DESIGN.md): the
 * verdicts and their names are in sim/verdict.h, below model/, so that the
 * words need nothing from the models (natsim_explain links natsim_sim alone).
 *
 * Sentences that name their node first return the length of that lead
 * ("office ", "alice's "); the trace's hook (explain_attach) uses it to give
 * a drop record both sentences, `why` and `why_after_node`, so that no
 * renderer cuts one. It also makes the `conntrack -L` lines a table shows.
 */
#ifndef NATSIM_EXPLAIN_EXPLAIN_H
#define NATSIM_EXPLAIN_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h"
#include "sim/verdict.h"

/* Which rule or policy decided: "rule INPUT #2 (-p udp --dport 5000 -j DROP)
 * dropped it", "no rule in INPUT matched a new inbound flow, and the INPUT
 * policy is drop". */
void explain_firewall(const struct fw_verdict *v, char *out, size_t size);
/* The drop at `node`: "alice's firewall dropped 10.0.0.1:4000 → 10.0.0.2:53:
 * rule OUTPUT #1 (-j DROP) dropped it". Returns the lead's length. */
size_t explain_firewall_drop(const struct fw_verdict *v, const struct verdict_flow *flow,
			     const char *node, char *out, size_t size);
/* The same for a REJECT that answered (or did not answer) the sender:
 * "...: rule INPUT #1 (...) rejected it and told the sender: port
 * unreachable (icmp-port-unreachable)". `answer` NULL is ICMP_ANSWER_NONE. */
size_t explain_firewall_reject(const struct fw_verdict *v, const struct verdict_flow *flow,
			       const struct icmp_answer *answer, const char *node, char *out,
			       size_t size);
/* The rule that decided, as the trace's "rule" names it: "INPUT #2",
 * "INPUT policy". */
void explain_firewall_rule(const struct fw_verdict *v, char *out, size_t size);

/* The NAT's decision at `node`, drop or translation: "office dropped
 * 203.0.113.7:4000 → 198.51.100.9:61002: its mapping for 192.168.1.5:5000
 * only accepts replies from 192.0.2.1:3478, the one endpoint it has sent to
 * (address-and-port-dependent filtering)". Returns the lead's length. */
size_t explain_nat(const struct nat_result *res, const char *node, char *out, size_t size);
/* Who may come in through a mapping (RFC 4787 section 5): "accepts anyone
 * (endpoint-independent filtering)", "accepts 192.0.2.1 on any port
 * (address-dependent filtering)", ... */
int explain_nat_filter(enum nat_behaviour filtering, const struct endpoint *remotes, size_t n,
		       bool is_static, char *out, size_t size);

/* A port-mapping record (PCP, NAT-PMP: struct trace_pcp in m->pcp, event
 * created / renewed / deleted / refused; or the expiry of a mapping whose
 * m->origin is pcp or nat-pmp), without the node: "PCP new
 * mapping UDP 192.168.1.5:5000 → 203.0.113.7:5000 for 3600 s (asked 7200 s,
 * at most 86400 s); it admits anyone; epoch 12 s", "PCP request from
 * 192.168.1.5:5350 refused (result 2): the mapping
 * belongs to a request with another nonce, ...". (explain/pcp.c) */
int explain_port_mapping(const struct trace_mapping *m, char *out, size_t size);
/* Who an explicit mapping admits: "accepts anyone (PCP mapping)". */
int explain_explicit_filter(uint8_t origin, char *out, size_t size);

/* A router's or host's own drop (no route, TTL, hairpin off, not for us, no
 * socket, ...): "bob dropped 10.0.0.1:4000 → 10.0.0.2:6000: nothing on bob
 * listens on UDP port 6000". Returns the lead's length (0 when the node is
 * not the sentence's subject: "TTL expired at r: ..."). */
size_t explain_path(const struct node_path_facts *f, const char *node, char *out, size_t size);

/* A link that did not carry a packet (lost, cut, no neighbour, queue full):
 * "192.168.1.5:5000 → 192.0.2.1:3478 was lost on link home (loss 5%)",
 * "alice could not send ...: link home-lan is down". `node` is where the
 * record is (the sender, or the receiver for a cut in flight). Returns the
 * lead's length (0 when the node is not the subject). */
size_t explain_link(const struct link_drop_facts *f, const char *node, char *out, size_t size);

/* The packet as sentences name it: "192.168.1.5:5000 → 192.0.2.1:3478",
 * "10.0.0.1 → 10.0.0.2" (a header, not a packet that parses), "a 7-byte
 * malformed packet"; an IPv6 flow in RFC 5952 text, endpoints as
 * [addr]:port (section 6): "[2001:db8:1::5]:5000 → [2001:db8:2::1]:3478",
 * "ICMPv6 echo request 2001:db8:1::5 → 2001:db8:2::1". Room for the longest
 * is EXPLAIN_FLOW_SIZE. Returns out. */
#define EXPLAIN_FLOW_SIZE 128
char *explain_flow(const struct verdict_flow *flow, char *out, size_t size);

/* ---- ICMP ----------------------------------------------------------------- */

/* An ICMP message's name, as RFC 792 and RFC 1812 5.2.7.1 call it: "echo
 * request", "port unreachable", "time exceeded", ...; "ICMP type 42 code 7"
 * for one without a name. Returns out. (The dissector in model/packet.c
 * keeps its own table: explain/ links nothing of model/.) */
const char *explain_icmp_name(uint8_t type, uint8_t code, char *out, size_t size);
/* True for the types that report an error about another packet (RFC 1122
 * 3.2.2's list: destination unreachable, source quench, redirect, time
 * exceeded, parameter problem). */
bool explain_icmp_is_error(uint8_t type);

/* A packet as a sentence names it, with what a renderer read of its bytes:
 * an ICMP error's quoted packet and whose it is, an echo's sequence number. */
struct explain_packet_facts {
	struct verdict_flow flow;
	bool has_seq; /* an echo: its sequence number */
	uint16_t seq;
	bool has_inner; /* an ICMP error: the packet it quotes */
	struct verdict_flow inner;
	const char *inner_owner; /* the host that sent the quoted packet, or NULL */
};

/* "192.168.1.5:5000 → 192.0.2.1:3478" for UDP (as explain_flow); for ICMP
 * what the message is first: "ping 10.0.0.7 → 192.0.2.1 (echo request id=1
 * seq=1)", "ping reply 192.0.2.1 → 10.0.0.7 (echo reply id=1 seq=1)", "port
 * unreachable 198.51.100.1 → 10.0.0.7 about alice's UDP 10.0.0.7:5000 →
 * 192.0.2.1:9". ICMPv6 (flow.ip_version 6, proto 58) reads the same, its
 * addresses in RFC 5952 text: "ping 2001:db8:1::5 → 2001:db8:2::1 (echo
 * request id=1 seq=1)", "port unreachable 2001:db8:2::1 → 2001:db8:1::5
 * about alice's UDP [2001:db8:1::5]:5000 → [2001:db8:2::1]:9". Returns out. */
char *explain_packet(const struct explain_packet_facts *f, char *out, size_t size);

/* What the sender of a dropped packet was told, appended to a drop sentence
 * by explain_path and explain_firewall_drop: "; answered with port
 * unreachable (#42)", "; not answered: Linux's ICMP rate limit (...)",
 * "; never answered: an ICMP error is never answered with another (RFC 1122
 * 3.2.2)"; nothing for ICMP_ANSWER_NONE. `flow` is the dropped packet.
 * Returns chars written like snprintf. */
int explain_icmp_answer(const struct icmp_answer *a, const struct verdict_flow *flow, char *out,
			size_t size);

/* ---- TCP (explain/tcp.c) ------------------------------------------------- */

/* NODE_PATH_CT_INVALID: "home dropped 192.0.2.1:80 → 203.0.113.7:40000:
 * conntrack marks it INVALID ..., and Linux's NAT only translates segments
 * conntrack tracks, so ...". Returns the lead's length. */
size_t explain_tcp_ct_invalid(const struct node_path_facts *f, const char *node, char *out,
			      size_t size);

/* Why conntrack marked a TCP segment INVALID, appended to a sentence:
 * "; conntrack marks it INVALID: SYN+FIN is a combination of flags no TCP
 * sends (tcp_error)", "...: it tracks no connection of this flow, and a
 * SYN+ACK cannot start one (tcp_new)", or "...: the segment is outside the
 * window it tracks for its connection, or fits no state of it
 * (tcp_in_window)", as `why` says. Nothing for another protocol. Returns
 * chars written like snprintf. */
int explain_tcp_invalid(const struct verdict_flow *flow, enum conntrack_invalid why, char *out,
			size_t size);
/* What a NAT router did about a TCP segment its NAT refused (no mapping,
 * or filtered), appended to explain_nat's sentence: "; home answered with
 * a TCP RST (#42), ...", "; home waits 6 s before answering (RFC 5382
 * REQ-4): ...", "; home stays silent, as RFC 5382 REQ-4 lets ..."; nothing
 * for another verdict. Returns chars written like snprintf. */
int explain_tcp_nat_answer(const struct nat_facts *f, const char *node, char *out, size_t size);

/* ---- conntrack -L ------------------------------------------------------- */

/* One line exactly as `conntrack -L` prints it (without newline), e.g.
 *   udp      17 28 src=10.0.0.2 dst=203.0.113.10 sport=27769 dport=3478 [UNREPLIED]
 * src=203.0.113.10 dst=203.0.113.1 sport=3478 dport=27769 mark=0 use=1 from a trace record, so
 * renderers folding the trace and the live table print identical lines. Seconds left =
 * ceil((expires_at - now) / 1 s), at least 0. Returns chars written like snprintf. */
int conntrack_format_record(const struct trace_conntrack *rec, int64_t now, char *out, size_t size);
/* A TCP entry's state after a change, as conntrack -E names it, with the
 * flags conntrack -L prints: "SYN_SENT [UNREPLIED]", "SYN_RECV",
 * "ESTABLISHED [ASSURED]", "FIN_WAIT [ASSURED]". Returns chars written like
 * snprintf. */
int conntrack_format_tcp_state(const struct trace_conntrack *rec, char *out, size_t size);
/* The closing line: "conntrack v1.4.7 (conntrack-tools): N flow entries have been shown." */
int conntrack_format_footer(size_t n, char *out, size_t size);

/* Word, through the trace's hook, every drop record a model emits with a
 * verdict and no sentence (node_drop_verdict in model/net.h). Whoever builds
 * a network and watches its trace calls this once. */
void explain_attach(struct trace *t);

#endif
