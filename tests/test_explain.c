/*
 * test_explain.c - every reason code of a firewall or NAT verdict, and the
 * sentence explain/ makes of it (DESIGN.md "Decide, then explain"). The
 * verdicts are written by hand, as the models fill them: the words depend
 * on the verdict and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "explain/xlat.h"

/* ---- firewall: one row per reason code (and the wordings a rule has) ---- */

static const struct fw_rule drop_5000 = {
    .chain = FW_CHAIN_INPUT, .proto = 17, .dport_lo = 5000, .action = FW_DROP};
static const struct fw_rule reject_6000 = {.chain = FW_CHAIN_INPUT,
					   .proto = 17,
					   .dport_lo = 6000,
					   .action = FW_REJECT,
					   .comment = "game server closed"};
static const struct fw_rule accept_4000 = {
    .chain = FW_CHAIN_INPUT, .proto = 17, .dport_lo = 4000, .action = FW_ACCEPT};
static const struct fw_rule established = {.chain = FW_CHAIN_INPUT,
					   .states = CONNTRACK_ESTABLISHED,
					   .action = FW_ACCEPT,
					   .comment = "replies to flows this host started"};
static const struct fw_rule related = {.chain = FW_CHAIN_INPUT,
				       .states = CONNTRACK_ESTABLISHED | CONNTRACK_RELATED,
				       .action = FW_ACCEPT};

static void test_firewall_reasons(void **state)
{
	static const struct {
		struct fw_verdict v;
		const char *sentence, *rule;
	} cases[] = {
	    {{FW_DROP, FW_REASON_RULE, FW_CHAIN_INPUT, 1, &drop_5000, CONNTRACK_NEW,
	      CONNTRACK_INVALID_NONE, NULL},
	     "rule INPUT #2 (-p udp --dport 5000 -j DROP) dropped it",
	     "INPUT #2"},
	    {{FW_REJECT, FW_REASON_RULE, FW_CHAIN_INPUT, 2, &reject_6000, CONNTRACK_NEW,
	      CONNTRACK_INVALID_NONE, NULL},
	     "rule INPUT #3 (-p udp --dport 6000 -j REJECT --reject-with icmp-port-unreachable) "
	     "rejected it: game server closed",
	     "INPUT #3"},
	    {{FW_ACCEPT, FW_REASON_RULE, FW_CHAIN_INPUT, 0, &accept_4000, CONNTRACK_NEW,
	      CONNTRACK_INVALID_NONE, NULL},
	     "rule INPUT #1 (-p udp --dport 4000 -j ACCEPT) accepted it",
	     "INPUT #1"},
	    {{FW_ACCEPT, FW_REASON_RULE, FW_CHAIN_INPUT, 0, &established, CONNTRACK_ESTABLISHED,
	      CONNTRACK_INVALID_NONE, NULL},
	     "rule INPUT #1 (-m state --state ESTABLISHED -j ACCEPT): a reply to a flow this "
	     "host started",
	     "INPUT #1"},
	    {{FW_ACCEPT, FW_REASON_RULE, FW_CHAIN_OUTPUT, 0, &established, CONNTRACK_ESTABLISHED,
	      CONNTRACK_INVALID_NONE, NULL},
	     "rule OUTPUT #1 (-m state --state ESTABLISHED -j ACCEPT): a reply to a flow the "
	     "remote side started",
	     "OUTPUT #1"},
	    {{FW_DROP, FW_REASON_POLICY, FW_CHAIN_INPUT, -1, NULL, CONNTRACK_NEW,
	      CONNTRACK_INVALID_NONE, NULL},
	     "no rule in INPUT matched a new inbound flow, and the INPUT policy is drop",
	     "INPUT policy"},
	    {{FW_ACCEPT, FW_REASON_RULE, FW_CHAIN_INPUT, 0, &related, CONNTRACK_RELATED,
	      CONNTRACK_INVALID_NONE, NULL},
	     "rule INPUT #1 (-m state --state RELATED,ESTABLISHED -j ACCEPT): an ICMP error "
	     "about a flow conntrack tracks (RELATED)",
	     "INPUT #1"},
	    {{FW_DROP, FW_REASON_POLICY, FW_CHAIN_INPUT, -1, NULL, CONNTRACK_RELATED,
	      CONNTRACK_INVALID_NONE, NULL},
	     "no rule in INPUT matched a related inbound ICMP error, and the INPUT policy is drop",
	     "INPUT policy"},
	    {{FW_DROP, FW_REASON_POLICY, FW_CHAIN_FORWARD, -1, NULL, CONNTRACK_INVALID,
	      CONNTRACK_INVALID_NONE, NULL},
	     "no rule in FORWARD matched an invalid forwarded packet, and the FORWARD policy is "
	     "drop",
	     "FORWARD policy"},
	    {{FW_ACCEPT, FW_REASON_POLICY, FW_CHAIN_OUTPUT, -1, NULL, CONNTRACK_ESTABLISHED,
	      CONNTRACK_INVALID_NONE, NULL},
	     "no rule in OUTPUT matched an established outbound flow, and the OUTPUT policy "
	     "is accept",
	     "OUTPUT policy"},
	    {{FW_REJECT, FW_REASON_POLICY, FW_CHAIN_FORWARD, -1, NULL, CONNTRACK_NEW,
	      CONNTRACK_INVALID_NONE, NULL},
	     "no rule in FORWARD matched a new forwarded flow, and the FORWARD policy is reject",
	     "FORWARD policy"},
	    {{FW_DROP, FW_REASON_NO_CHAIN, FW_CHAIN_COUNT, -1, NULL, CONNTRACK_NEW,
	      CONNTRACK_INVALID_NONE, NULL},
	     "no such chain (3)",
	     "? policy"},
	};
	char text[240];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		explain_firewall(&cases[i].v, text, sizeof(text));
		assert_string_equal(text, cases[i].sentence);
		explain_firewall_rule(&cases[i].v, text, sizeof(text));
		assert_string_equal(text, cases[i].rule);
	}
}

static void test_firewall_drop(void **state)
{
	struct fw_verdict v = {FW_REJECT,    FW_REASON_RULE, FW_CHAIN_OUTPUT,	     0,
			       &reject_6000, CONNTRACK_NEW,  CONNTRACK_INVALID_NONE, NULL};
	struct verdict_flow flow = {.form = VERDICT_FLOW_PARSED,
				    .proto = 17,
				    .src = IP4(10, 0, 0, 1),
				    .dst = IP4(10, 0, 0, 2),
				    .sport = 4000,
				    .dport = 6000};
	char text[320];

	(void)state;
	assert_int_equal(explain_firewall_drop(&v, &flow, "alice", text, sizeof(text)),
			 strlen("alice's "));
	assert_string_equal(text, "alice's firewall rejected 10.0.0.1:4000 \u2192 10.0.0.2:6000: "
				  "rule OUTPUT #1 (-p udp --dport 6000 -j REJECT --reject-with "
				  "icmp-port-unreachable) rejected it: "
				  "game server closed");
}

/* ---- NAT: one row per decision ------------------------------------------ */

static const struct endpoint inside = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint outside = {IP4(198, 51, 100, 9), 61002};
static const struct endpoint stun = {IP4(192, 0, 2, 1), 3478};
static const struct endpoint stranger = {IP4(203, 0, 113, 7), 4000};
static const struct endpoint sent_to[] = {{IP4(192, 0, 2, 1), 3478},
					  {IP4(192, 0, 2, 1), 3479},
					  {IP4(192, 0, 2, 2), 3478},
					  {IP4(192, 0, 2, 3), 3478},
					  {IP4(192, 0, 2, 4), 3478}};

/* A drop of the stranger's packet to the mapping's outside endpoint. */
static struct nat_result inbound(enum nat_decision d, enum nat_behaviour filtering, size_t n)
{
	return (struct nat_result){.verdict = d == NAT_DECISION_ADMITTED ? NAT_VERDICT_TRANSLATED
									 : NAT_VERDICT_DROP,
				   .decision = d,
				   .proto = 17,
				   .src = stranger,
				   .dst = outside,
				   .remote = stranger,
				   .behaviour = filtering,
				   .internal = inside,
				   .external = outside,
				   .allowed = sent_to,
				   .n_allowed = n};
}

static void test_nat_decisions(void **state)
{
	struct nat_result created = {.decision = NAT_DECISION_MAPPING_CREATED,
				     .src = inside,
				     .dst = stun,
				     .remote = stun,
				     .behaviour = NAT_ENDPOINT_INDEPENDENT,
				     .internal = inside,
				     .external = outside};
	struct nat_result reused = created, not_udp = created, exhausted = created;
	struct nat_result no_memory = created, no_mapping, admitted;
	struct {
		const struct nat_result *res;
		const char *sentence;
	} cases[] = {
	    {&created, "office made a new mapping 192.168.1.5:5000 \u2192 198.51.100.9:61002 for "
		       "192.0.2.1:3478 (endpoint-independent mapping)"},
	    {&reused, "office reused its mapping 192.168.1.5:5000 \u2192 198.51.100.9:61002 for "
		      "192.0.2.1:3478 (endpoint-independent mapping)"},
	    {&admitted, "office let 203.0.113.7:4000 in through its mapping for "
			"192.168.1.5:5000, which accepts anyone (endpoint-independent "
			"filtering)"},
	    {&not_udp, "office dropped 192.168.1.5 \u2192 192.0.2.1: this NAT translates UDP, "
		       "TCP, ICMP echoes and ICMP errors only, and this is protocol 47"},
	    {&no_mapping, "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: no mapping "
			  "uses port 61002, so there is nobody inside to deliver it to"},
	    {&exhausted, "office dropped 192.168.1.5:5000 \u2192 192.0.2.1:3478: every port from "
			 "40000 to 40007 on 198.51.100.9 is taken by another mapping, so there "
			 "is no external port left for a new one"},
	    {&no_memory, "office dropped 192.168.1.5:5000 \u2192 192.0.2.1:3478: the NAT ran out "
			 "of memory for a new mapping"},
	};
	char text[320];

	(void)state;
	reused.decision = NAT_DECISION_MAPPING_REUSED;
	admitted = inbound(NAT_DECISION_ADMITTED, NAT_ENDPOINT_INDEPENDENT, 0);
	not_udp.verdict = NAT_VERDICT_DROP;
	not_udp.decision = NAT_DECISION_NOT_UDP;
	not_udp.proto = 47; /* GRE: TCP is translated (issue 16) */
	no_mapping = inbound(NAT_DECISION_NO_MAPPING, NAT_ENDPOINT_INDEPENDENT, 0);
	exhausted.verdict = NAT_VERDICT_DROP;
	exhausted.decision = NAT_DECISION_PORTS_EXHAUSTED;
	exhausted.public_ip = outside.ip;
	exhausted.port_lo = 40000;
	exhausted.port_hi = 40007;
	no_memory.verdict = NAT_VERDICT_DROP;
	no_memory.decision = NAT_DECISION_NO_MEMORY;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(explain_nat(cases[i].res, "office", text, sizeof(text)),
				 strlen("office "));
		assert_string_equal(text, cases[i].sentence);
	}
}

/* Filtering refusals: the remotes the mapping has sent to, as RFC 4787
 * section 5's two dependent behaviours compare them. */
static void test_nat_filtered(void **state)
{
	static const struct {
		enum nat_behaviour filtering;
		size_t n;
		const char *rest;
	} cases[] = {
	    {NAT_ADDRESS_AND_PORT_DEPENDENT, 1,
	     "only accepts replies from 192.0.2.1:3478, the one endpoint it has sent to "
	     "(address-and-port-dependent filtering)"},
	    {NAT_ADDRESS_AND_PORT_DEPENDENT, 5,
	     "only accepts replies from 192.0.2.1:3478, 192.0.2.1:3479, 192.0.2.2:3478 and 2 "
	     "more, the endpoints it has sent to (address-and-port-dependent filtering)"},
	    {NAT_ADDRESS_DEPENDENT, 2,
	     "only accepts packets from 192.0.2.1 (any port), the one address it has sent to "
	     "(address-dependent filtering)"},
	    {NAT_ADDRESS_DEPENDENT, 3,
	     "only accepts packets from 192.0.2.1 and 192.0.2.2 (any port), the addresses it "
	     "has sent to (address-dependent filtering)"},
	};
	const char *lead = "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: its "
			   "mapping for 192.168.1.5:5000 ";
	char text[320], want[320];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nat_result res =
		    inbound(NAT_DECISION_FILTERED, cases[i].filtering, cases[i].n);

		explain_nat(&res, "office", text, sizeof(text));
		snprintf(want, sizeof(want), "%s%s", lead, cases[i].rest);
		assert_string_equal(text, want);
	}
}

static void test_nat_filter_words(void **state)
{
	static const struct {
		enum nat_behaviour filtering;
		size_t n;
		bool is_static;
		const char *text;
	} cases[] = {
	    {NAT_ENDPOINT_INDEPENDENT, 1, false, "accepts anyone (endpoint-independent filtering)"},
	    {NAT_ADDRESS_DEPENDENT, 2, false,
	     "accepts 192.0.2.1 on any port (address-dependent filtering)"},
	    {NAT_ADDRESS_DEPENDENT, 3, false,
	     "accepts 192.0.2.1 and 192.0.2.2 on any port (address-dependent filtering)"},
	    {NAT_ADDRESS_AND_PORT_DEPENDENT, 1, false,
	     "accepts 192.0.2.1:3478 (address-and-port-dependent filtering)"},
	    {NAT_ADDRESS_AND_PORT_DEPENDENT, 3, false,
	     "accepts 192.0.2.1:3478, 192.0.2.1:3479 and 192.0.2.2:3478 "
	     "(address-and-port-dependent filtering)"},
	    {NAT_ADDRESS_AND_PORT_DEPENDENT, 0, false,
	     "accepts nobody yet (address-and-port-dependent filtering)"},
	    {NAT_ADDRESS_AND_PORT_DEPENDENT, 0, true, "accepts anyone (port forward)"},
	};
	char text[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		explain_nat_filter(cases[i].filtering, sent_to, cases[i].n, cases[i].is_static,
				   text, sizeof(text));
		assert_string_equal(text, cases[i].text);
	}
}

/* ---- a router's or host's own path: one row per cause ------------------ */

/* 10.0.0.5:4000 -> 10.0.1.2:53, TTL 1, as a parse gives it. */
#define UDP_FLOW                                                                                   \
	{                                                                                          \
		.form = VERDICT_FLOW_PARSED, .proto = 17, .ttl = 1, .src = IP4(10, 0, 0, 5),       \
		.dst = IP4(10, 0, 1, 2), .sport = 4000, .dport = 53                                \
	}

/* [2001:db8:1::5]:4000 -> [2001:db8:2::1]:53, hop limit 64, as
 * packet6_flow_of gives it. */
#define ADDR6(last, net)                                                                           \
	{                                                                                          \
		.b = { 0x20, 0x01, 0x0d, 0xb8, 0, net, 0, 0, 0, 0, 0, 0, 0, 0, 0, last }           \
	}
#define UDP6_FLOW                                                                                  \
	{                                                                                          \
		.form = VERDICT_FLOW_PARSED, .ip_version = 6, .proto = 17, .ttl = 64,              \
		.src6 = ADDR6(5, 1), .dst6 = ADDR6(1, 2), .sport = 4000, .dport = 53               \
	}

static void test_path_causes(void **state)
{
	static const struct {
		struct node_path_facts f;
		size_t lead;
		const char *sentence;
	} cases[] = {
	    {{.cause = NODE_PATH_MALFORMED, .detail = "the IPv4 header checksum is wrong"},
	     2,
	     "r dropped a malformed packet: the IPv4 header checksum is wrong"},
	    {{.cause = NODE_PATH_NO_ROUTE, .flow = UDP_FLOW},
	     2,
	     "r dropped 10.0.0.5:4000 \u2192 10.0.1.2:53: no route to 10.0.1.2 (no entry in its "
	     "table matches, and it has no default route)"},
	    {{.cause = NODE_PATH_TTL, .flow = UDP_FLOW},
	     0,
	     "TTL expired at r: 10.0.0.5:4000 \u2192 10.0.1.2:53 arrived with TTL 1, and a router "
	     "may not forward a packet whose TTL would reach 0"},
	    {{.cause = NODE_PATH_NO_HAIRPIN, .flow = UDP_FLOW},
	     2,
	     "r does not hairpin: 10.0.0.5:4000 sent to its own public address 10.0.1.2:53, "
	     "which this NAT only translates for packets arriving from outside"},
	    {{.cause = NODE_PATH_NAT_UNPARSABLE},
	     4,
	     "r's NAT produced a packet that does not parse"},
	    {{.cause = NODE_PATH_OWN_NO_SOCKET, .flow = UDP_FLOW},
	     2,
	     "r accepted 10.0.0.5:4000 \u2192 10.0.1.2:53 into its own stack (input accept, as a "
	     "bare Linux box does) and conntrack now tracks it, but nothing listens on port 53, "
	     "and no port unreachable was sent back"},
	    {{.cause = NODE_PATH_OWN_ADDRESS, .flow = UDP_FLOW},
	     2,
	     "r dropped 10.0.0.5:4000 \u2192 10.0.1.2:53: 10.0.1.2 is r's own address, and "
	     "routers do not run services here"},
	    {{.cause = NODE_PATH_HOST_NO_ROUTE,
	      .dst = IP4(8, 8, 8, 8),
	      .addr = IP4(10, 0, 0, 5),
	      .prefix_len = 24},
	     2,
	     "r has no route to 8.8.8.8: it is not on 10.0.0.0/24 and r has no default gateway"},
	    {{.cause = NODE_PATH_HOST_UNATTACHED, .dst = IP4(8, 8, 8, 8), .iface = "eth0"},
	     2,
	     "r cannot reach 8.8.8.8: its eth0 is not attached to any link"},
	    {{.cause = NODE_PATH_NOT_FOR_US, .flow = UDP_FLOW, .addr = IP4(10, 0, 1, 9)},
	     2,
	     "r dropped 10.0.0.5:4000 \u2192 10.0.1.2:53: it is addressed to 10.0.1.2, and r is "
	     "10.0.1.9"},
	    {{.cause = NODE_PATH_NO_SOCKET, .flow = UDP_FLOW},
	     2,
	     "r dropped 10.0.0.5:4000 \u2192 10.0.1.2:53: nothing on r listens on UDP port 53"},
	    {{.cause = NODE_PATH_CT_INVALID, .flow = UDP_FLOW},
	     2,
	     "r dropped 10.0.0.5:4000 \u2192 10.0.1.2:53: Linux's NAT only translates segments "
	     "conntrack tracks, so it is for r itself, which does not accept it"},
	    {{.cause = NODE_PATH_NO_IPV6_ROUTE, .flow = UDP6_FLOW},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: no IPv6 route to "
	     "2001:db8:2::1 (no entry in its IPv6 table matches, and it has no default route)"},
	    {{.cause = NODE_PATH_NO_IPV6_ADDRESS, .flow = UDP6_FLOW},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: r has no IPv6 address"},
	    {{.cause = NODE_PATH_HOP_LIMIT, .flow = UDP6_FLOW},
	     0,
	     "hop limit exceeded at r: [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53 arrived "
	     "with hop limit 64, and a router may not forward a packet whose hop limit would "
	     "reach 0"},
	    {{.cause = NODE_PATH_PACKET_TOO_BIG,
	      .flow = {.form = VERDICT_FLOW_PARSED,
		       .ip_version = 6,
		       .proto = 17,
		       .src6 = ADDR6(5, 1),
		       .dst6 = ADDR6(1, 2),
		       .sport = 4000,
		       .dport = 53,
		       .len = 1400},
	      .mtu = 1280},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: at 1400 bytes it is "
	     "bigger than the 1280-byte MTU of the link it routes to, and an IPv6 router never "
	     "fragments"},
	    {{.cause = NODE_PATH_NO_NEIGHBOUR6, .flow = UDP6_FLOW, .addr6 = ADDR6(9, 2)},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: its next hop "
	     "2001:db8:2::9 is on no attachment of the link it routes to, so no neighbour would "
	     "answer for it"},
	    {{.cause = NODE_PATH_XLAT, .flow = UDP6_FLOW, .xlat = XLAT_REFUSED_NO_BINDING},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: its NAT64 holds no "
	     "binding for that pool address and port (RFC 6146 3.5.1)"},
	    {{.cause = NODE_PATH_UDP6_CSUM_ZERO, .flow = UDP6_FLOW},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: its UDP checksum is 0 "
	     "(none), which IPv6 does not allow (RFC 8200 section 8.1); routers forward such a "
	     "datagram, the receiver drops it without an answer"},
	    {{.cause = NODE_PATH_HOST_NO_NEIGHBOUR6, .flow = UDP6_FLOW, .addr6 = ADDR6(9, 2)},
	     2,
	     "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: nobody on its link holds "
	     "2001:db8:2::9, so its neighbour solicitations would go unanswered and its own stack "
	     "reports the failure to itself"},
	};
	char text[400];

	(void)state;
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), NODE_PATH_COUNT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(explain_path(&cases[i].f, "r", text, sizeof(text)), cases[i].lead);
		assert_string_equal(text, cases[i].sentence);
	}
}

/* Every refusal of NPTv6 and NAT64 has words of its own (the model returns
 * only the code), and an untranslatable packet says RFC 7915's reason. */
static void test_xlat_refusals(void **state)
{
	const char *seen[XLAT_REFUSAL_COUNT];
	char text[400];

	(void)state;
	for (int i = 0; i < XLAT_REFUSAL_COUNT; i++) {
		seen[i] = explain_xlat_refusal((enum xlat_refusal)i, XLAT_ERR_PROTOCOL);
		assert_string_not_equal(seen[i], "?");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	assert_string_equal(explain_xlat_refusal(XLAT_REFUSED_UNTRANSLATABLE, XLAT_ERR_PROTOCOL),
			    "neither UDP, TCP nor ICMP: not translated");
	for (int r = XLAT_OK; r >= XLAT_ERR_PARAM_POINTER; r--)
		assert_string_not_equal(explain_xlat_result((enum xlat_result)r), "?");
	struct node_path_facts f = {.cause = NODE_PATH_XLAT,
				    .flow = UDP6_FLOW,
				    .xlat = XLAT_REFUSED_UNTRANSLATABLE,
				    .xlat_result = XLAT_ERR_PARAM_POINTER};
	assert_int_equal(explain_path(&f, "r", text, sizeof(text)), 2);
	assert_string_equal(text, "r dropped [2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53: a "
				  "parameter problem whose pointer names a header field with no "
				  "counterpart in the other family (RFC 7915 4.2 figure 3, 5.2 "
				  "figure 6: dropped silently)");
	f.xlat = XLAT_REFUSED_NPT_FFFF;
	explain_path(&f, "r", text, sizeof(text));
	assert_non_null(strstr(text, ": NPTv6 cannot translate its address: the word RFC 6296 "
				     "adjusts is ffff"));
}

/* IPv6 flows in RFC 5952 text (sections 4 and 6), every form, the longest
 * within EXPLAIN_FLOW_SIZE; an unattached host names the IPv6 destination. */
static void test_flow6(void **state)
{
	struct verdict_flow f = UDP6_FLOW;
	struct node_path_facts unattached = {
	    .cause = NODE_PATH_HOST_UNATTACHED, .flow = UDP6_FLOW, .iface = "eth0"};
	char text[EXPLAIN_FLOW_SIZE], sentence[400];

	(void)state;
	assert_string_equal(explain_flow(&f, text, sizeof(text)),
			    "[2001:db8:1::5]:4000 \u2192 [2001:db8:2::1]:53");
	f.proto = 58;
	f.icmp_type = 128;
	assert_string_equal(explain_flow(&f, text, sizeof(text)),
			    "ICMPv6 echo request 2001:db8:1::5 \u2192 2001:db8:2::1");
	f.form = VERDICT_FLOW_ADDRESSES;
	assert_string_equal(explain_flow(&f, text, sizeof(text)),
			    "2001:db8:1::5 \u2192 2001:db8:2::1");
	f.form = VERDICT_FLOW_UNREADABLE;
	f.len = 30;
	assert_string_equal(explain_flow(&f, text, sizeof(text)), "a 30-byte malformed packet");
	f = (struct verdict_flow)UDP6_FLOW;
	memset(f.src6.b, 0xab, 16); /* no zero group: the longest text there is */
	memset(f.dst6.b, 0xcd, 16);
	f.sport = f.dport = 65535;
	assert_string_equal(explain_flow(&f, text, sizeof(text)),
			    "[abab:abab:abab:abab:abab:abab:abab:abab]:65535 \u2192 "
			    "[cdcd:cdcd:cdcd:cdcd:cdcd:cdcd:cdcd:cdcd]:65535");
	explain_path(&unattached, "r", sentence, sizeof(sentence));
	assert_string_equal(sentence,
			    "r cannot reach 2001:db8:2::1: its eth0 is not attached to any link");
}

/* A TCP segment a host has no socket for is named as TCP, not UDP. */
static void test_no_socket_names_tcp(void **state)
{
	struct node_path_facts f = {.cause = NODE_PATH_NO_SOCKET, .flow = UDP_FLOW};
	char text[400];

	(void)state;
	f.flow.proto = 6;
	f.flow.dport = 80;
	explain_path(&f, "r", text, sizeof(text));
	assert_string_equal(
	    text, "r dropped 10.0.0.5:4000 \u2192 10.0.1.2:80: nothing on r listens on TCP "
		  "port 80");
}

/* ---- a link's own drops: one row per cause ------------------------------ */

static void test_link_causes(void **state)
{
	static const struct {
		struct link_drop_facts f;
		size_t lead;
		const char *sentence;
	} cases[] = {
	    {{.cause = LINK_DROP_NOT_ATTACHED, .flow = UDP_FLOW, .link = "lan", .iface = "eth1"},
	     2,
	     "a could not send 10.0.0.5:4000 \u2192 10.0.1.2:53: eth1 is not attached to link lan"},
	    {{.cause = LINK_DROP_LINK_DOWN, .flow = UDP_FLOW, .link = "lan"},
	     2,
	     "a could not send 10.0.0.5:4000 \u2192 10.0.1.2:53: link lan is down"},
	    {{.cause = LINK_DROP_ACCESS_DOWN, .flow = UDP_FLOW, .link = "lan"},
	     2,
	     "a could not send 10.0.0.5:4000 \u2192 10.0.1.2:53: its access to link lan is down"},
	    {{.cause = LINK_DROP_NO_NEIGHBOUR,
	      .flow = UDP_FLOW,
	      .link = "lan",
	      .next_hop = IP4(10, 0, 0, 9)},
	     2,
	     "a could not send 10.0.0.5:4000 \u2192 10.0.1.2:53: nobody on link lan has address "
	     "10.0.0.9"},
	    {{.cause = LINK_DROP_QUEUE_FULL,
	      .flow = UDP_FLOW,
	      .link = "lan",
	      .queue_limit = 64,
	      .rate_bps = 1000000},
	     2,
	     "a dropped 10.0.0.5:4000 \u2192 10.0.1.2:53: its queue on link lan is full (64 "
	     "packets wait behind the one being sent at 1000000 bit/s)"},
	    {{.cause = LINK_DROP_NO_MEMORY, .link = "lan"},
	     0,
	     "the simulator ran out of memory for packets in flight"},
	    {{.cause = LINK_DROP_PEER_DOWN, .flow = UDP_FLOW, .link = "lan", .peer = "b"},
	     0,
	     "10.0.0.5:4000 \u2192 10.0.1.2:53 never reached b: its access to link lan is down"},
	    {{.cause = LINK_DROP_LOSS, .flow = UDP_FLOW, .link = "lan", .peer = "b", .loss = 0.25},
	     0,
	     "10.0.0.5:4000 \u2192 10.0.1.2:53 was lost on link lan (loss 25%)"},
	    {{.cause = LINK_DROP_LOSS_ACCESS,
	      .flow = UDP_FLOW,
	      .link = "lan",
	      .peer = "b",
	      .loss = 0.5},
	     0,
	     "10.0.0.5:4000 \u2192 10.0.1.2:53 was lost on link lan (loss 50%, counting the "
	     "access of a and b)"},
	    {{.cause = LINK_DROP_CUT_IN_FLIGHT, .flow = UDP_FLOW, .link = "lan", .peer = "b"},
	     0,
	     "10.0.0.5:4000 \u2192 10.0.1.2:53 never reached b: link lan went down while it was "
	     "in flight"},
	    {{.cause = LINK_DROP_ACCESS_CUT_IN_FLIGHT,
	      .flow = UDP_FLOW,
	      .link = "lan",
	      .peer = "b",
	      .cut_by = "c"},
	     0,
	     "10.0.0.5:4000 \u2192 10.0.1.2:53 never reached b: c's access to link lan went down "
	     "while it was in flight"},
	};
	char text[400];

	(void)state;
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), LINK_DROP_CAUSE_COUNT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(explain_link(&cases[i].f, "a", text, sizeof(text)), cases[i].lead);
		assert_string_equal(text, cases[i].sentence);
	}
}

/* What the bytes allow: a parse, a header, or only a length. */
static void test_flow_forms(void **state)
{
	struct verdict_flow header = {
	    .form = VERDICT_FLOW_ADDRESSES, .src = IP4(10, 0, 0, 5), .dst = IP4(10, 0, 1, 2)};
	struct verdict_flow nothing = {.form = VERDICT_FLOW_UNREADABLE, .len = 7};
	char text[96];

	(void)state;
	assert_string_equal(explain_flow(&header, text, sizeof(text)), "10.0.0.5 \u2192 10.0.1.2");
	assert_string_equal(explain_flow(&nothing, text, sizeof(text)),
			    "a 7-byte malformed packet");
}

/* ---- the trace's hook: the record keeps its verdict and gets its words --- */

struct seen {
	int kind;
	enum link_drop_cause cause;
	char why[400], after_node[400];
};

static void remember(const struct trace_record *r, void *ctx)
{
	struct seen *s = ctx;
	const struct link_drop_facts *f = r->u.packet.verdict.facts;

	s->kind = r->u.packet.verdict.kind;
	s->cause = f != NULL && s->kind == NODE_VERDICT_LINK ? f->cause : LINK_DROP_CAUSE_COUNT;
	snprintf(s->why, sizeof(s->why), "%s", r->u.packet.why ? r->u.packet.why : "");
	snprintf(s->after_node, sizeof(s->after_node), "%s",
		 r->u.packet.why_after_node ? r->u.packet.why_after_node : "");
}

static void test_record_keeps_verdict(void **state)
{
	struct link_drop_facts f = {.cause = LINK_DROP_LINK_DOWN, .flow = UDP_FLOW, .link = "lan"};
	struct trace_record r = {.kind = TRACE_PACKET};
	struct seen seen = {0};
	struct trace t;

	(void)state;
	trace_init(&t, NULL);
	explain_attach(&t);
	assert_int_equal(trace_subscribe(&t, remember, &seen), 0);
	r.u.packet.hop = TRACE_HOP_DROP;
	r.u.packet.node = "alice";
	r.u.packet.reason = TRACE_DROP_LINK_DOWN;
	r.u.packet.verdict = (struct trace_verdict){NODE_VERDICT_LINK, &f};
	trace_emit(&t, &r);
	assert_int_equal(seen.kind, NODE_VERDICT_LINK);
	assert_int_equal(seen.cause, LINK_DROP_LINK_DOWN);
	assert_string_equal(
	    seen.why, "alice could not send 10.0.0.5:4000 \u2192 10.0.1.2:53: link lan is down");
	assert_string_equal(seen.after_node,
			    "could not send 10.0.0.5:4000 \u2192 10.0.1.2:53: link lan is down");

	/* An accept (a NAT's translation) keeps its verdict and gets no words:
	 * its record has none to carry. */
	struct nat_facts nat = {.result = {.verdict = NAT_VERDICT_TRANSLATED,
					   .decision = NAT_DECISION_MAPPING_CREATED}};
	r = (struct trace_record){.kind = TRACE_PACKET};
	r.u.packet.hop = TRACE_HOP_TRANSLATE;
	r.u.packet.node = "home";
	r.u.packet.verdict = (struct trace_verdict){NODE_VERDICT_NAT, &nat};
	trace_emit(&t, &r);
	assert_int_equal(seen.kind, NODE_VERDICT_NAT);
	assert_string_equal(seen.why, "");
}

/* An error from the stun server about the flow inside -> stun, which left
 * as outside -> stun: as nat_translate_error_inbound fills it. */
static struct nat_result error_in(enum nat_decision d, bool inner)
{
	struct nat_result r = {.verdict = d == NAT_DECISION_RELATED ? NAT_VERDICT_TRANSLATED
								    : NAT_VERDICT_DROP,
			       .decision = d,
			       .proto = 1,
			       .src = {stun.ip, 0},
			       .dst = {outside.ip, 0},
			       .remote = stun,
			       .internal = inside,
			       .external = outside,
			       .icmp_error = true,
			       .icmp_type = 3,
			       .icmp_code = 3,
			       .inner_proto = 17,
			       .inner_translated = inner,
			       .inner_before = outside,
			       .inner_after = inner ? inside : outside};
	return r;
}

/* RFC 5508 in words: errors translated (both ways, with and without the
 * inner header), refused, and echoes mapped by id. */
static void test_nat_icmp_words(void **state)
{
	struct nat_result related = error_in(NAT_DECISION_RELATED, true);
	struct nat_result outer_only = error_in(NAT_DECISION_RELATED, false);
	struct nat_result no_flow = error_in(NAT_DECISION_ICMP_NO_FLOW, false);
	struct nat_result off = error_in(NAT_DECISION_ICMP_ERRORS_OFF, false);
	struct nat_result out = related, echo = {0}, reply, ping_out = {0};
	struct {
		const struct nat_result *res;
		const char *sentence;
	} cases[] = {
	    {&related, "office passed the ICMP port unreachable from 192.0.2.1 on to 192.168.1.5 "
		       "and rewrote the UDP header inside the error back to 192.168.1.5:5000"},
	    {&outer_only, "office passed the ICMP port unreachable from 192.0.2.1 on to "
			  "192.168.1.5 but left the UDP header inside the error as "
			  "198.51.100.9:61002 (it does not translate the packet an error "
			  "quotes), so the inside host cannot match it to its own"},
	    {&out, "office sent the ICMP port unreachable from 192.168.1.5 out as 198.51.100.9 "
		   "and rewrote the UDP header inside the error to 198.51.100.9:61002"},
	    {&no_flow, "office dropped the ICMP port unreachable 192.0.2.1 \u2192 198.51.100.9: "
		       "it is about 198.51.100.9:61002 \u2192 192.0.2.1:3478, a flow this NAT has "
		       "no mapping for, so there is nobody to give it to"},
	    {&off, "office dropped the ICMP port unreachable 192.0.2.1 \u2192 198.51.100.9: this "
		   "NAT drops every ICMP error (icmp-errors off), so the sender of "
		   "198.51.100.9:61002 \u2192 192.0.2.1:3478 never learns what became of it"},
	    {&echo, "office made a new mapping 192.168.1.5 id 77 \u2192 198.51.100.9 id 1024 for "
		    "pings to 192.0.2.1 (address-and-port-dependent mapping)"},
	    {&reply, "office let the echo reply from 192.0.2.1 in through its mapping for "
		     "192.168.1.5 id 77"},
	    {&ping_out,
	     "office dropped 192.168.1.5 \u2192 192.0.2.1: this NAT translates UDP, TCP, ICMP "
	     "echoes and ICMP errors only, and an ICMP echo reply leaving from inside "
	     "belongs to no flow it translates"},
	};
	char text[400];

	(void)state;
	/* Going out: a server inside answers stun's datagram to its forward. */
	out.src = (struct endpoint){inside.ip, 0};
	out.dst = (struct endpoint){stun.ip, 0};
	out.inner_before = inside;
	out.inner_after = outside;
	echo = (struct nat_result){.decision = NAT_DECISION_MAPPING_CREATED,
				   .proto = 1,
				   .remote = {stun.ip, 0},
				   .behaviour = NAT_ADDRESS_AND_PORT_DEPENDENT,
				   .internal = {inside.ip, 77},
				   .external = {outside.ip, 1024}};
	reply = echo;
	reply.decision = NAT_DECISION_ADMITTED;
	ping_out = (struct nat_result){.verdict = NAT_VERDICT_DROP,
				       .decision = NAT_DECISION_NOT_UDP,
				       .proto = 1,
				       .src = {inside.ip, 0},
				       .dst = {stun.ip, 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		explain_nat(cases[i].res, "office", text, sizeof(text));
		assert_string_equal(text, cases[i].sentence);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_firewall_reasons),	 cmocka_unit_test(test_firewall_drop),
	    cmocka_unit_test(test_nat_decisions),	 cmocka_unit_test(test_nat_icmp_words),
	    cmocka_unit_test(test_nat_filtered),	 cmocka_unit_test(test_nat_filter_words),
	    cmocka_unit_test(test_path_causes),		 cmocka_unit_test(test_flow6),
	    cmocka_unit_test(test_xlat_refusals),	 cmocka_unit_test(test_no_socket_names_tcp),
	    cmocka_unit_test(test_link_causes),		 cmocka_unit_test(test_flow_forms),
	    cmocka_unit_test(test_record_keeps_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
