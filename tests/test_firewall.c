/*
 * test_firewall.c - rule matching, first-match order, hit counters, policy
 * fallthrough, the verdict's facts and sentences of the stateful host firewall
 * (DESIGN.md "Models") and iptables-like rule text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/firewall.h"

static int setup(void **state)
{
	struct firewall *fw = firewall_new("alice");

	if (fw == NULL)
		return -1;
	*state = fw;
	return 0;
}

static int teardown(void **state)
{
	firewall_free(*state);
	return 0;
}

/* A UDP packet as packet_parse would describe it. */
static struct packet_info udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct packet_info pi = {
	    .ihl_bytes = 20,
	    .total_len = 48,
	    .ttl = 64,
	    .proto = IPPROTO_NUM_UDP,
	    .src = src,
	    .dst = dst,
	    .sport = sport,
	    .dport = dport,
	    .l4_offset = 20,
	    .payload_len = 20,
	};
	return pi;
}

/* The verdict in words (one buffer: read it before the next call). */
static const char *why(const struct fw_verdict *v)
{
	static char text[240];

	explain_firewall(v, text, sizeof(text));
	return text;
}

static const uint32_t remote = IP4(203, 0, 113, 7);
static const uint32_t local = IP4(10, 0, 0, 2);

/* ---- matching, one rule at a time ---- */

struct match_case {
	const char *name;
	struct fw_rule rule;
	uint8_t proto;
	uint32_t src;
	uint16_t sport;
	uint16_t dport;
	enum conntrack_state state;
	bool match;
};

#define R(...)                                                                                     \
	{                                                                                          \
		.chain = FW_CHAIN_INPUT, .action = FW_DROP, __VA_ARGS__                            \
	}

static const struct match_case match_cases[] = {
    {"empty rule matches all", R(), 17, IP4(203, 0, 113, 7), 4000, 5000, CONNTRACK_NEW, true},
    {"proto udp", R(.proto = 17), 17, IP4(203, 0, 113, 7), 4000, 5000, CONNTRACK_NEW, true},
    {"proto tcp vs udp", R(.proto = 6), 17, IP4(203, 0, 113, 7), 4000, 5000, CONNTRACK_NEW, false},
    {"src /8 in", R(.src = IP4(203, 0, 0, 0), .src_len = 8), 17, IP4(203, 9, 9, 9), 1, 2,
     CONNTRACK_NEW, true},
    {"src /8 out", R(.src = IP4(203, 0, 0, 0), .src_len = 8), 17, IP4(204, 0, 0, 0), 1, 2,
     CONNTRACK_NEW, false},
    {"src /32 exact", R(.src = IP4(203, 0, 113, 7), .src_len = 32), 17, IP4(203, 0, 113, 7), 1, 2,
     CONNTRACK_NEW, true},
    {"src /32 neighbour", R(.src = IP4(203, 0, 113, 7), .src_len = 32), 17, IP4(203, 0, 113, 6), 1,
     2, CONNTRACK_NEW, false},
    {"src /0 any", R(.src = IP4(1, 2, 3, 4), .src_len = 0), 17, IP4(9, 9, 9, 9), 1, 2,
     CONNTRACK_NEW, true},
    {"dst /24 in", R(.dst = IP4(10, 0, 0, 0), .dst_len = 24), 17, IP4(9, 9, 9, 9), 1, 2,
     CONNTRACK_NEW, true},
    {"dst /24 out", R(.dst = IP4(10, 0, 1, 0), .dst_len = 24), 17, IP4(9, 9, 9, 9), 1, 2,
     CONNTRACK_NEW, false},
    {"dport single", R(.dport_lo = 5000, .dport_hi = 5000), 17, remote, 1, 5000, CONNTRACK_NEW,
     true},
    {"dport single, lo only", R(.dport_lo = 5000), 17, remote, 1, 5000, CONNTRACK_NEW, true},
    {"dport single miss", R(.dport_lo = 5000, .dport_hi = 5000), 17, remote, 1, 5001, CONNTRACK_NEW,
     false},
    {"dport range low edge", R(.dport_lo = 5000, .dport_hi = 5010), 17, remote, 1, 5000,
     CONNTRACK_NEW, true},
    {"dport range high edge", R(.dport_lo = 5000, .dport_hi = 5010), 17, remote, 1, 5010,
     CONNTRACK_NEW, true},
    {"dport range above", R(.dport_lo = 5000, .dport_hi = 5010), 17, remote, 1, 5011, CONNTRACK_NEW,
     false},
    {"dport range below", R(.dport_lo = 5000, .dport_hi = 5010), 17, remote, 1, 4999, CONNTRACK_NEW,
     false},
    {"sport range", R(.sport_lo = 3478, .sport_hi = 3479), 17, remote, 3479, 1, CONNTRACK_NEW,
     true},
    {"sport range miss", R(.sport_lo = 3478, .sport_hi = 3479), 17, remote, 3480, 1, CONNTRACK_NEW,
     false},
    {"ports never match ICMP", R(.dport_lo = 0, .dport_hi = 65535), 1, remote, 0, 0, CONNTRACK_NEW,
     false},
    {"no ports matches ICMP", R(.src_len = 0), 1, remote, 0, 0, CONNTRACK_NEW, true},
    {"state NEW, new", R(.states = CONNTRACK_NEW), 17, remote, 1, 2, CONNTRACK_NEW, true},
    {"state NEW, established", R(.states = CONNTRACK_NEW), 17, remote, 1, 2, CONNTRACK_ESTABLISHED,
     false},
    {"state EST, established", R(.states = CONNTRACK_ESTABLISHED), 17, remote, 1, 2,
     CONNTRACK_ESTABLISHED, true},
    {"state EST, new", R(.states = CONNTRACK_ESTABLISHED), 17, remote, 1, 2, CONNTRACK_NEW, false},
    {"state both", R(.states = CONNTRACK_NEW | CONNTRACK_ESTABLISHED), 17, remote, 1, 2,
     CONNTRACK_ESTABLISHED, true},
    {"all conditions",
     R(.proto = 17, .src = IP4(203, 0, 113, 0), .src_len = 24, .dst = IP4(10, 0, 0, 2),
       .dst_len = 32, .sport_lo = 4000, .sport_hi = 4000, .dport_lo = 5000, .dport_hi = 5010,
       .states = CONNTRACK_NEW),
     17, remote, 4000, 5005, CONNTRACK_NEW, true},
    {"all but one condition",
     R(.proto = 17, .src = IP4(203, 0, 113, 0), .src_len = 24, .dst = IP4(10, 0, 0, 2),
       .dst_len = 32, .sport_lo = 4000, .sport_hi = 4000, .dport_lo = 5000, .dport_hi = 5010,
       .states = CONNTRACK_NEW),
     17, remote, 4001, 5005, CONNTRACK_NEW, false},
};

static void test_match_table(void **state)
{
	struct firewall *fw = *state;

	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		struct packet_info pi = udp(c->src, c->sport, local, c->dport);
		struct fw_verdict v;

		pi.proto = c->proto;
		firewall_clear(fw);
		assert_int_equal(firewall_append(fw, &c->rule), 0);
		print_message("case %s\n", c->name);
		firewall_filter(fw, FW_CHAIN_INPUT, &pi, c->state, &v);
		/* The policy is accept and the rule drops: the action tells which decided. */
		assert_int_equal(v.action, c->match ? FW_DROP : FW_ACCEPT);
		assert_int_equal(v.rule, c->match ? 0 : -1);
		assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 0)->hits, c->match ? 1 : 0);
	}
}

/* ---- order, counters, chains ---- */

static void test_first_match_wins(void **state)
{
	struct firewall *fw = *state;
	struct fw_rule allow = {
	    .chain = FW_CHAIN_INPUT, .proto = 17, .dport_lo = 5000, .action = FW_ACCEPT};
	struct fw_rule deny = {.chain = FW_CHAIN_INPUT, .proto = 17, .action = FW_DROP};
	struct packet_info to5000 = udp(remote, 4000, local, 5000);
	struct packet_info to6000 = udp(remote, 4000, local, 6000);
	struct fw_verdict v;

	assert_int_equal(firewall_append(fw, &allow), 0);
	assert_int_equal(firewall_append(fw, &deny), 1);
	for (int i = 0; i < 3; i++) {
		firewall_filter(fw, FW_CHAIN_INPUT, &to5000, CONNTRACK_NEW, &v);
		assert_int_equal(v.action, FW_ACCEPT);
		assert_int_equal(v.rule, 0);
	}
	firewall_filter(fw, FW_CHAIN_INPUT, &to6000, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.rule, 1);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 0)->hits, 3);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 1)->hits, 1);

	/* The same rules in the other order: the broad drop shadows the allow. */
	firewall_clear(fw);
	firewall_append(fw, &deny);
	firewall_append(fw, &allow);
	firewall_filter(fw, FW_CHAIN_INPUT, &to5000, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.rule, 0);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 0)->hits, 1);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 1)->hits, 0);
}

static void test_chains_are_separate(void **state)
{
	struct firewall *fw = *state;
	struct fw_rule deny_out = {.chain = FW_CHAIN_OUTPUT, .action = FW_DROP};
	struct packet_info pi = udp(local, 5000, remote, 4000);
	struct fw_verdict v;

	assert_int_equal(firewall_append(fw, &deny_out), 0);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_OUTPUT), 1);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_INPUT), 0);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_FORWARD), 0);
	firewall_filter(fw, FW_CHAIN_FORWARD, &pi, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_ACCEPT);
	assert_string_equal(why(&v), "no rule in FORWARD matched a new forwarded flow, and the "
				     "FORWARD policy is accept");
	firewall_filter(fw, FW_CHAIN_OUTPUT, &pi, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_string_equal(why(&v), "rule OUTPUT #1 (-j DROP) dropped it");
}

static void test_append_and_clear(void **state)
{
	struct firewall *fw = *state;
	struct fw_rule r = {.chain = FW_CHAIN_FORWARD, .action = FW_DROP, .hits = 99};
	struct fw_rule bad = {.chain = FW_CHAIN_COUNT};

	/* Growth past any initial capacity; hits start at zero whatever the caller said. */
	for (int i = 0; i < 100; i++) {
		r.dport_lo = (uint16_t)(i + 1);
		assert_int_equal(firewall_append(fw, &r), i);
	}
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_FORWARD), 100);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_FORWARD, 99)->dport_lo, 100);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_FORWARD, 42)->hits, 0);
	assert_null(firewall_rule(fw, FW_CHAIN_FORWARD, 100));
	assert_null(firewall_rule(fw, FW_CHAIN_COUNT, 0));
	assert_int_equal(firewall_append(fw, &bad), -1);

	firewall_set_policy(fw, FW_CHAIN_FORWARD, FW_REJECT);
	firewall_clear(fw);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_FORWARD), 0);
	assert_int_equal(firewall_policy(fw, FW_CHAIN_FORWARD), FW_REJECT);
	assert_int_equal(firewall_policy(fw, FW_CHAIN_INPUT), FW_ACCEPT);
}

/* ---- sentences ---- */

static void test_stateful_host(void **state)
{
	struct firewall *fw = *state;
	struct packet_info in = udp(remote, 4000, local, 5000);
	struct packet_info out = udp(local, 5000, remote, 4000);
	struct fw_verdict v;
	char text[120];

	/* Rules already present are replaced. */
	firewall_append(fw, &(struct fw_rule){.chain = FW_CHAIN_OUTPUT, .action = FW_DROP});
	firewall_make_stateful_host(fw);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_INPUT), 1);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_OUTPUT), 0);
	assert_int_equal(firewall_rule_count(fw, FW_CHAIN_FORWARD), 0);
	assert_int_equal(firewall_policy(fw, FW_CHAIN_INPUT), FW_DROP);
	assert_int_equal(firewall_policy(fw, FW_CHAIN_OUTPUT), FW_ACCEPT);
	assert_int_equal(firewall_policy(fw, FW_CHAIN_FORWARD), FW_ACCEPT);
	fw_rule_format(firewall_rule(fw, FW_CHAIN_INPUT, 0), text, sizeof(text));
	assert_string_equal(text, "-m state --state RELATED,ESTABLISHED -j ACCEPT "
				  "/* replies to flows this host started */");

	firewall_filter(fw, FW_CHAIN_INPUT, &in, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.rule, -1);
	assert_string_equal(why(&v), "no rule in INPUT matched a new inbound flow, and the INPUT "
				     "policy is drop");

	firewall_filter(fw, FW_CHAIN_INPUT, &in, CONNTRACK_ESTABLISHED, &v);
	assert_int_equal(v.action, FW_ACCEPT);
	assert_int_equal(v.rule, 0);
	assert_string_equal(why(&v), "rule INPUT #1 (-m state --state RELATED,ESTABLISHED -j "
				     "ACCEPT): a reply to a flow this host started");

	firewall_filter(fw, FW_CHAIN_OUTPUT, &out, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_ACCEPT);
	assert_int_equal(v.rule, -1);
	assert_string_equal(why(&v), "no rule in OUTPUT matched a new outbound flow, and the "
				     "OUTPUT policy is accept");

	firewall_filter(fw, FW_CHAIN_OUTPUT, &out, CONNTRACK_ESTABLISHED, &v);
	assert_string_equal(why(&v), "no rule in OUTPUT matched an established outbound flow, and "
				     "the OUTPUT policy is accept");
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 0)->hits, 1);
}

static void test_drop_and_reject_sentences(void **state)
{
	struct firewall *fw = *state;
	struct fw_rule ok = {
	    .chain = FW_CHAIN_INPUT, .proto = 17, .dport_lo = 4000, .action = FW_ACCEPT};
	struct fw_rule drop = {.chain = FW_CHAIN_INPUT,
			       .proto = 17,
			       .dport_lo = 5000,
			       .dport_hi = 5000,
			       .action = FW_DROP};
	struct fw_rule reject = {.chain = FW_CHAIN_INPUT,
				 .proto = 17,
				 .dport_lo = 6000,
				 .action = FW_REJECT,
				 .comment = "game server closed"};
	struct fw_verdict v;

	firewall_append(fw, &ok);
	firewall_append(fw, &drop);
	firewall_append(fw, &reject);

	firewall_filter(fw, FW_CHAIN_INPUT, &(struct packet_info){0}, CONNTRACK_NEW, &v);
	assert_int_equal(v.rule, -1);

	struct packet_info p = udp(remote, 1, local, 4000);
	firewall_filter(fw, FW_CHAIN_INPUT, &p, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_ACCEPT);
	assert_string_equal(why(&v), "rule INPUT #1 (-p udp --dport 4000 -j ACCEPT) accepted it");

	p.dport = 5000;
	firewall_filter(fw, FW_CHAIN_INPUT, &p, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.rule, 1);
	assert_string_equal(why(&v), "rule INPUT #2 (-p udp --dport 5000 -j DROP) dropped it");

	p.dport = 6000;
	firewall_filter(fw, FW_CHAIN_INPUT, &p, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_REJECT);
	assert_int_equal(v.rule, 2);
	assert_string_equal(why(&v), "rule INPUT #3 (-p udp --dport 6000 -j REJECT --reject-with "
				     "icmp-port-unreachable) rejected it: "
				     "game server closed");

	firewall_set_policy(fw, FW_CHAIN_INPUT, FW_REJECT);
	p.dport = 7000;
	firewall_filter(fw, FW_CHAIN_INPUT, &p, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_REJECT);
	assert_string_equal(why(&v), "no rule in INPUT matched a new inbound flow, and the INPUT "
				     "policy is reject");
}

/* ---- the verdict's facts ---- */

/* Every field is filled by the one decision function, with nobody watching
 * (a firewall has no trace at all): the rule or the policy that decided,
 * the chain, the state the packet was judged in. */
static void test_verdict_facts(void **state)
{
	struct firewall *fw = *state;
	struct fw_rule drop = {
	    .chain = FW_CHAIN_FORWARD, .proto = 17, .dport_lo = 5000, .action = FW_DROP};
	struct packet_info p = udp(remote, 1, local, 5000);
	struct fw_verdict v;

	assert_int_equal(firewall_append(fw, &drop), 0);
	firewall_filter(fw, FW_CHAIN_FORWARD, &p, CONNTRACK_ESTABLISHED, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.reason, FW_REASON_RULE);
	assert_int_equal(v.chain, FW_CHAIN_FORWARD);
	assert_int_equal(v.rule, 0);
	assert_ptr_equal(v.matched, firewall_rule(fw, FW_CHAIN_FORWARD, 0));
	assert_int_equal(v.state, CONNTRACK_ESTABLISHED);

	p.dport = 6000;
	firewall_set_policy(fw, FW_CHAIN_FORWARD, FW_REJECT);
	firewall_filter(fw, FW_CHAIN_FORWARD, &p, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_REJECT);
	assert_int_equal(v.reason, FW_REASON_POLICY);
	assert_int_equal(v.chain, FW_CHAIN_FORWARD);
	assert_int_equal(v.rule, -1);
	assert_null(v.matched);
	assert_int_equal(v.state, CONNTRACK_NEW);

	firewall_filter(fw, FW_CHAIN_COUNT, &p, CONNTRACK_NEW, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.reason, FW_REASON_NO_CHAIN);
	assert_null(v.matched);
}

/* ---- formatting ---- */

static void test_rule_format(void **state)
{
	static const struct {
		struct fw_rule rule;
		const char *text;
	} cases[] = {
	    {{.action = FW_ACCEPT}, "-j ACCEPT"},
	    {{.action = FW_DROP, .proto = 17, .dport_lo = 5000, .dport_hi = 5000},
	     "-p udp --dport 5000 -j DROP"},
	    {{.action = FW_ACCEPT,
	      .proto = 17,
	      .src = IP4(10, 0, 0, 0),
	      .src_len = 8,
	      .dport_lo = 5000,
	      .dport_hi = 5010,
	      .states = CONNTRACK_NEW},
	     "-p udp -s 10.0.0.0/8 --dport 5000:5010 -m state --state NEW -j ACCEPT"},
	    {{.action = FW_REJECT,
	      .proto = 6,
	      .dst = IP4(192, 0, 2, 1),
	      .dst_len = 32,
	      .sport_lo = 1024,
	      .sport_hi = 65535},
	     "-p tcp -d 192.0.2.1/32 -m tcp --sport 1024:65535 -j REJECT --reject-with "
	     "icmp-port-unreachable"},
	    /* libxt_tcp.c tcp_save: -m tcp, the ports, --tcp-flags MASK COMP
	     * (--syn is saved so); REJECT with an RST. */
	    {{.action = FW_DROP,
	      .proto = 6,
	      .dport_lo = 80,
	      .tcp_flags_mask = TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK,
	      .tcp_flags_match = TCP_SYN},
	     "-p tcp -m tcp --dport 80 --tcp-flags FIN,SYN,RST,ACK SYN -j DROP"},
	    {{.action = FW_REJECT, .proto = 6, .dport_lo = 22, .reject_with = FW_REJECT_TCP_RESET},
	     "-p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset"},
	    {{.action = FW_DROP, .proto = 6, .tcp_flags_mask = 0x3f, .tcp_flags_match = 0},
	     "-p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP"},
	    {{.action = FW_DROP, .proto = 6, .states = CONNTRACK_INVALID},
	     "-p tcp -m state --state INVALID -j DROP"},
	    {{.action = FW_DROP, .proto = 1, .states = CONNTRACK_NEW | CONNTRACK_ESTABLISHED},
	     "-p icmp -m state --state NEW,ESTABLISHED -j DROP"},
	    {{.action = FW_DROP, .proto = 47, .comment = "no GRE"}, "-p 47 -j DROP /* no GRE */"},
	    {{.action = FW_ACCEPT, .proto = 17, .dport_lo = 51820, .states = CONNTRACK_NEW},
	     "-p udp --dport 51820 -m state --state NEW -j ACCEPT"},
	};
	char out[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = fw_rule_format(&cases[i].rule, out, sizeof(out));

		assert_string_equal(out, cases[i].text);
		assert_int_equal(n, strlen(cases[i].text));
	}
	/* Truncates like snprintf. */
	assert_int_equal(fw_rule_format(&cases[1].rule, out, 5), strlen(cases[1].text));
	assert_string_equal(out, "-p u");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(fw_chain_name(FW_CHAIN_INPUT), "INPUT");
	assert_string_equal(fw_chain_name(FW_CHAIN_OUTPUT), "OUTPUT");
	assert_string_equal(fw_chain_name(FW_CHAIN_FORWARD), "FORWARD");
	assert_string_equal(fw_action_name(FW_ACCEPT), "accept");
	assert_string_equal(fw_action_name(FW_DROP), "drop");
	assert_string_equal(fw_action_name(FW_REJECT), "reject");
}

/* ---- ICMP: type and code, related and invalid, reject-with ---- */

static struct packet_info icmp(uint32_t src, uint32_t dst, uint8_t type, uint8_t code)
{
	struct packet_info p = {.proto = IPPROTO_NUM_ICMP, .src = src, .dst = dst};

	p.icmp_type = type;
	p.icmp_code = code;
	p.icmp_error = icmp_is_error(type);
	return p;
}

static void test_icmp_type_and_code(void **state)
{
	struct firewall *fw = *state;
	struct packet_info ping = icmp(remote, local, ICMP_ECHO_REQUEST, 0);
	struct packet_info pong = icmp(remote, local, ICMP_ECHO_REPLY, 0);
	struct packet_info port = icmp(remote, local, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	struct packet_info host = icmp(remote, local, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
	struct packet_info u = udp(remote, 8, local, 0);
	struct fw_verdict v;

	firewall_append(fw, &(struct fw_rule){.chain = FW_CHAIN_INPUT,
					      .proto = IPPROTO_NUM_ICMP,
					      .match_icmp_type = true,
					      .icmp_type = ICMP_ECHO_REQUEST,
					      .action = FW_DROP});
	firewall_append(fw, &(struct fw_rule){.chain = FW_CHAIN_INPUT,
					      .match_icmp_type = true,
					      .icmp_type = ICMP_DEST_UNREACH,
					      .match_icmp_code = true,
					      .icmp_code = ICMP_PORT_UNREACH,
					      .action = FW_REJECT});
	firewall_filter(fw, FW_CHAIN_INPUT, &ping, CONNTRACK_NEW, &v);
	assert_int_equal(v.rule, 0);
	firewall_filter(fw, FW_CHAIN_INPUT, &pong, CONNTRACK_ESTABLISHED, &v);
	assert_int_equal(v.reason, FW_REASON_POLICY);
	firewall_filter(fw, FW_CHAIN_INPUT, &port, CONNTRACK_RELATED, &v);
	assert_int_equal(v.rule, 1);
	firewall_filter(fw, FW_CHAIN_INPUT, &host, CONNTRACK_RELATED, &v);
	assert_int_equal(v.reason, FW_REASON_POLICY); /* another code */
	/* A type condition never matches a packet that is not ICMP, even one
	 * whose port equals the type. */
	firewall_filter(fw, FW_CHAIN_INPUT, &u, CONNTRACK_NEW, &v);
	assert_int_equal(v.reason, FW_REASON_POLICY);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 0)->hits, 1);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 1)->hits, 1);
}

/* The stateful host lets an error about its own flow in (RELATED) and
 * keeps out what conntrack could not place (INVALID). */
static void test_stateful_host_related_invalid(void **state)
{
	struct firewall *fw = *state;
	struct packet_info err = icmp(remote, local, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	struct packet_info pong = icmp(remote, local, ICMP_ECHO_REPLY, 0);
	struct fw_verdict v;

	firewall_make_stateful_host(fw);
	firewall_filter(fw, FW_CHAIN_INPUT, &err, CONNTRACK_RELATED, &v);
	assert_int_equal(v.action, FW_ACCEPT);
	assert_int_equal(v.state, CONNTRACK_RELATED);
	firewall_filter(fw, FW_CHAIN_INPUT, &err, CONNTRACK_INVALID, &v);
	assert_int_equal(v.action, FW_DROP);
	firewall_filter(fw, FW_CHAIN_INPUT, &pong, CONNTRACK_INVALID, &v);
	assert_int_equal(v.action, FW_DROP);
	assert_int_equal(v.reason, FW_REASON_POLICY);
}

static void test_icmp_rule_format(void **state)
{
	(void)state;
	static const struct {
		struct fw_rule rule;
		const char *text;
	} cases[] = {
	    {{.proto = IPPROTO_NUM_ICMP,
	      .match_icmp_type = true,
	      .icmp_type = 8,
	      .action = FW_ACCEPT},
	     "-p icmp --icmp-type 8 -j ACCEPT"},
	    {{.proto = IPPROTO_NUM_ICMP,
	      .match_icmp_type = true,
	      .icmp_type = 8,
	      .match_icmp_code = true,
	      .action = FW_DROP},
	     "-p icmp --icmp-type 8/0 -j DROP"},
	    {{.states = CONNTRACK_ESTABLISHED | CONNTRACK_RELATED, .action = FW_ACCEPT},
	     "-m state --state RELATED,ESTABLISHED -j ACCEPT"},
	    {{.states = CONNTRACK_INVALID | CONNTRACK_NEW, .action = FW_DROP},
	     "-m state --state INVALID,NEW -j DROP"},
	    {{.proto = IPPROTO_NUM_UDP,
	      .dport_lo = 53,
	      .action = FW_REJECT,
	      .reject_with = FW_REJECT_ADMIN_PROHIBITED},
	     "-p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited"},
	};
	char text[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fw_rule_format(&cases[i].rule, text, sizeof(text));
		assert_string_equal(text, cases[i].text);
	}
}

static void test_reject_with(void **state)
{
	(void)state;
	static const struct {
		enum fw_reject_with with;
		const char *name, *alias, *word;
		uint8_t code;
	} cases[] = {
	    {FW_REJECT_PORT_UNREACHABLE, "icmp-port-unreachable", "port-unreach",
	     "port-unreachable", ICMP_PORT_UNREACH},
	    {FW_REJECT_NET_UNREACHABLE, "icmp-net-unreachable", "net-unreach", "net-unreachable",
	     ICMP_NET_UNREACH},
	    {FW_REJECT_HOST_UNREACHABLE, "icmp-host-unreachable", "host-unreach",
	     "host-unreachable", ICMP_HOST_UNREACH},
	    {FW_REJECT_PROTO_UNREACHABLE, "icmp-proto-unreachable", "proto-unreach",
	     "proto-unreachable", ICMP_PROT_UNREACH},
	    {FW_REJECT_NET_PROHIBITED, "icmp-net-prohibited", "net-prohib", "net-prohibited",
	     ICMP_NET_PROHIBITED},
	    {FW_REJECT_HOST_PROHIBITED, "icmp-host-prohibited", "host-prohib", "host-prohibited",
	     ICMP_HOST_PROHIBITED},
	    {FW_REJECT_ADMIN_PROHIBITED, "icmp-admin-prohibited", "admin-prohib",
	     "admin-prohibited", ICMP_ADMIN_PROHIBITED},
	    /* an RST; a packet that is not TCP gets port unreachable */
	    {FW_REJECT_TCP_RESET, "tcp-reset", "tcp-rst", "tcp-reset", ICMP_PORT_UNREACH},
	};
	enum fw_reject_with got;
	uint8_t type, code;

	assert_int_equal(sizeof(cases) / sizeof(cases[0]), FW_REJECT_WITH_COUNT);
	for (size_t i = 0; i < FW_REJECT_WITH_COUNT; i++) {
		assert_string_equal(fw_reject_with_name(cases[i].with), cases[i].name);
		const char *spellings[] = {cases[i].name, cases[i].alias, cases[i].word};
		for (size_t j = 0; j < 3; j++) {
			got = (enum fw_reject_with) - 1;
			assert_int_equal(fw_reject_with_parse(spellings[j], &got), 0);
			assert_int_equal(got, cases[i].with);
		}
		fw_reject_icmp(cases[i].with, &type, &code);
		assert_int_equal(type, ICMP_DEST_UNREACH);
		assert_int_equal(code, cases[i].code);
	}
	assert_int_equal(fw_reject_with_parse("reset", &got), -1);
	assert_int_equal(fw_reject_with_parse("", &got), -1);
	assert_int_equal(fw_reject_with_parse(NULL, &got), -1);
}

/* xt_tcp.c: (flags & mask) == comp, TCP only: --syn takes a SYN, not a
 * SYN/ACK nor an ACK, and never UDP. */
static void test_tcp_flags_match(void **state)
{
	struct firewall *fw = *state;
	struct fw_rule syn = {.chain = FW_CHAIN_INPUT,
			      .proto = 0,
			      .tcp_flags_mask = TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK,
			      .tcp_flags_match = TCP_SYN,
			      .action = FW_DROP};
	struct packet_info seg = udp(remote, 4000, local, 80);
	struct fw_verdict v;

	(void)state;
	assert_int_equal(firewall_append(fw, &syn), 0);
	firewall_filter(fw, FW_CHAIN_INPUT, &seg, CONNTRACK_NEW, &v);
	assert_int_equal(v.reason, FW_REASON_POLICY);
	seg.proto = IPPROTO_NUM_TCP;
	seg.tcp_flags = TCP_SYN;
	firewall_filter(fw, FW_CHAIN_INPUT, &seg, CONNTRACK_NEW, &v);
	assert_int_equal(v.reason, FW_REASON_RULE);
	assert_int_equal(v.action, FW_DROP);
	seg.tcp_flags = TCP_SYN | TCP_ACK;
	firewall_filter(fw, FW_CHAIN_INPUT, &seg, CONNTRACK_NEW, &v);
	assert_int_equal(v.reason, FW_REASON_POLICY);
	seg.tcp_flags = TCP_SYN | TCP_PSH; /* PSH is outside the mask */
	firewall_filter(fw, FW_CHAIN_INPUT, &seg, CONNTRACK_NEW, &v);
	assert_int_equal(v.reason, FW_REASON_RULE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_match_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_match_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chains_are_separate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_and_clear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stateful_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_and_reject_sentences, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verdict_facts, setup, teardown),
	    cmocka_unit_test(test_rule_format),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_icmp_type_and_code, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stateful_host_related_invalid, setup, teardown),
	    cmocka_unit_test(test_icmp_rule_format),
	    cmocka_unit_test(test_reject_with),
	    cmocka_unit_test_setup_teardown(test_tcp_flags_match, setup, teardown),
	};

	firewall_free(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
