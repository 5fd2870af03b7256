/*
 * test_filter6.c - a node's IPv6 filter (model/filter6.h): RFC 6092 mode
 * with each of its three filterings, its reject, the stateful host, ip6
 * rules matched by prefix and ICMPv6 type and written as ip6tables-save
 * writes them, TCP through RFC 6092 mode (outbound, unsolicited inbound,
 * simultaneous open, INVALID) and conntrack before the rules, and the words
 * explain/ makes of the verdicts, and the lab's sequence through two
 * routers with the outcomes and conntrack lines a real nftables ip6
 * firewall gave (tests/lab/filter6_expected.txt, lab_filter6). Packets are built with
 * model/packet6.h and parsed with packet6_parse, as a node would hand them over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/conntrack6.h"
#include "model/filter6.h"
#include "model/packet6.h"
#include "sim/engine.h"

struct fx {
	struct engine *e;
	struct filter6 *f;
	uint8_t buf[1500];
	struct packet6_info info;
	struct fw_verdict v;
};

static int setup(void **state)
{
	struct fx *x = test_calloc(1, sizeof(*x));

	assert_non_null(x);
	x->e = engine_new();
	assert_non_null(x->e);
	x->f = filter6_new(x->e, "home");
	assert_non_null(x->f);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	filter6_free(x->f);
	engine_free(x->e);
	test_free(x);
	return 0;
}

static struct ip6_addr a6(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

#define ALICE "2001:db8:1::5"
#define BOB "2001:db8:1::6"
#define SERVER "2001:db8:2::1"
#define OTHER "2001:db8:3::9"

static const struct packet6_info *udp(struct fx *x, const char *src, uint16_t sp, const char *dst,
				      uint16_t dp)
{
	struct endpoint6 s = {a6(src), sp}, d = {a6(dst), dp};
	size_t len = packet6_build_udp(x->buf, sizeof(x->buf), &s, &d, 64, 0, "hi", 2);

	assert_int_equal(packet6_parse(x->buf, len, &x->info, NULL, 0), PACKET_OK);
	return &x->info;
}

/* Forward `info` through the filter; true if it passes. */
static bool fwd(struct fx *x, const struct packet6_info *info)
{
	return filter6_packet(x->f, FW_CHAIN_FORWARD, info, 50, &x->v);
}

static void home_rfc6092(struct fx *x, enum nat_behaviour filtering, bool reject)
{
	struct ip6_addr inside = a6("2001:db8:1::");

	assert_int_equal(filter6_make_rfc6092(x->f, &inside, 48, filtering, reject), 0);
}

/* Address-and-port-dependent (conntrack's five-tuple): only the server's
 * own endpoint answers; anything else is dropped by the policy, silently. */
static void test_rfc6092_port_dependent(void **state)
{
	struct fx *x = *state;

	home_rfc6092(x, NAT_ADDRESS_AND_PORT_DEPENDENT, false);
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	assert_int_equal(x->v.state, CONNTRACK_NEW);
	assert_int_equal(x->v.rule, 2); /* -s 2001:db8:1::/48 -j ACCEPT */
	assert_false(fwd(x, udp(x, SERVER, 9999, ALICE, 5000)));
	assert_int_equal(x->v.reason, FW_REASON_POLICY);
	assert_int_equal(x->v.action, FW_DROP);
	assert_true(fwd(x, udp(x, SERVER, 3478, ALICE, 5000)));
	assert_int_equal(x->v.state, CONNTRACK_ESTABLISHED);
	assert_int_equal(x->v.rule, 0);
	assert_null(x->v.admitted);
	/* RFC 6092 REC-14's five minutes, not conntrack's 30 s */
	assert_int_equal(conntrack6_config(filter6_conntrack(x->f))->udp_timeout, SIM_S(300));
}

/* Address-dependent: another port of the same remote address is let in,
 * and the verdict names the flow that admitted it; another address is not. */
static void test_rfc6092_address_dependent(void **state)
{
	struct fx *x = *state;
	char words[256];

	home_rfc6092(x, NAT_ADDRESS_DEPENDENT, false);
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	assert_false(fwd(x, udp(x, OTHER, 3478, ALICE, 5000)));
	assert_true(fwd(x, udp(x, SERVER, 9999, ALICE, 5000)));
	assert_int_equal(x->v.reason, FW_REASON_ADMITTED);
	assert_non_null(x->v.admitted);
	assert_int_equal(x->v.admitted->filtering, NAT_ADDRESS_DEPENDENT);
	assert_int_equal(x->v.admitted->remote.port, 3478);
	assert_int_equal(x->v.admitted->flow_id, 1);
	explain_firewall(&x->v, words, sizeof(words));
	assert_string_equal(words,
			    "no rule in FORWARD accepted a new forwarded flow, but "
			    "address-dependent filtering admitted it: [2001:db8:1::5]:5000 "
			    "has an outbound UDP flow (to [2001:db8:2::1]:3478, conntrack id "
			    "1) to the same address");
	/* admitted: now tracked, so its next packet is a reply */
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 9999)));
	assert_int_equal(x->v.state, CONNTRACK_ESTABLISHED);
	/* Bob has no flow: nothing admits him */
	assert_false(fwd(x, udp(x, SERVER, 9999, BOB, 5000)));
}

static void test_rfc6092_endpoint_independent(void **state)
{
	struct fx *x = *state;

	home_rfc6092(x, NAT_ENDPOINT_INDEPENDENT, false);
	assert_false(fwd(x, udp(x, OTHER, 3478, ALICE, 5000))); /* no outbound flow yet */
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	assert_true(fwd(x, udp(x, OTHER, 3478, ALICE, 5000)));
	assert_int_equal(x->v.reason, FW_REASON_ADMITTED);
	assert_int_equal(x->v.admitted->filtering, NAT_ENDPOINT_INDEPENDENT);
	assert_false(fwd(x, udp(x, OTHER, 3478, ALICE, 5001))); /* another port of Alice's */
}

/* reject: unsolicited inbound is answered with administratively
 * prohibited (ICMPv6 type 1 code 1); the rule reads as ip6tables-save's. A
 * packet admitted by wider filtering is not counted on the reject rule. */
static void test_rfc6092_reject(void **state)
{
	struct fx *x = *state;
	uint8_t type, code;
	char text[160];

	home_rfc6092(x, NAT_ENDPOINT_INDEPENDENT, true);
	assert_false(fwd(x, udp(x, OTHER, 3478, ALICE, 5000)));
	assert_int_equal(x->v.action, FW_REJECT);
	assert_int_equal(x->v.rule, 3);
	fw_reject_icmp6(x->v.matched->reject_with, &type, &code);
	assert_int_equal(type, ICMP6_DEST_UNREACH);
	assert_int_equal(code, ICMP6_ADMIN_PROHIBITED);
	fw_rule_format(x->v.matched, text, sizeof(text));
	assert_string_equal(text, "-m comment --comment \"unsolicited inbound\" -j REJECT "
				  "--reject-with icmp6-adm-prohibited");
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	assert_true(fwd(x, udp(x, OTHER, 3478, ALICE, 5000)));
	assert_int_equal(firewall_rule(filter6_firewall(x->f), FW_CHAIN_FORWARD, 3)->hits, 1);
}

/* An ICMPv6 error about a tracked flow is RELATED and passes (RFC 6092 REC-18); one
 * about nothing is INVALID and dropped by rule 2. */
static void test_rfc6092_errors(void **state)
{
	struct fx *x = *state;
	uint8_t quoted[128];
	struct ip6_addr alice = a6(ALICE), server = a6(SERVER), router = a6("2001:db8:9::1");
	size_t qlen, len;

	home_rfc6092(x, NAT_ADDRESS_AND_PORT_DEPENDENT, false);
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	qlen = packet6_build_udp(quoted, sizeof(quoted), &(struct endpoint6){alice, 5000},
				 &(struct endpoint6){server, 3478}, 63, 0, "hi", 2);
	len = packet6_build_icmp_error(x->buf, sizeof(x->buf), &router, &alice, 64,
				       ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, quoted, qlen);
	assert_int_equal(packet6_parse(x->buf, len, &x->info, NULL, 0), PACKET_OK);
	assert_true(fwd(x, &x->info));
	assert_int_equal(x->v.state, CONNTRACK_RELATED);
	qlen = packet6_build_udp(quoted, sizeof(quoted), &(struct endpoint6){alice, 5001},
				 &(struct endpoint6){server, 3478}, 63, 0, "hi", 2);
	len = packet6_build_icmp_error(x->buf, sizeof(x->buf), &router, &alice, 64,
				       ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, quoted, qlen);
	assert_int_equal(packet6_parse(x->buf, len, &x->info, NULL, 0), PACKET_OK);
	assert_false(fwd(x, &x->info));
	assert_int_equal(x->v.state, CONNTRACK_INVALID);
	assert_int_equal(x->v.rule, 1);
}

/* A TCP segment from src:sp to dst:dp as x->info (no options, a 64 KiB
 * window): what the filter is handed once parsed. */
static const struct packet6_info *tcp(struct fx *x, const char *src, uint16_t sp, const char *dst,
				      uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack)
{
	memset(&x->info, 0, sizeof(x->info));
	x->info.next_header = IPPROTO_NUM_TCP;
	x->info.hop_limit = 64;
	x->info.src = a6(src);
	x->info.dst = a6(dst);
	x->info.sport = sp;
	x->info.dport = dp;
	x->info.tcp_flags = flags;
	x->info.tcp_header_len = 20;
	x->info.tcp_seq = seq;
	x->info.tcp_ack = ack;
	x->info.tcp_window = 65535;
	return &x->info;
}

/* RFC 6092 mode for TCP (3.3.1): the inside's SYN goes out (NEW, from the
 * inside prefix), the answers come back (ESTABLISHED, REC-31), an
 * unsolicited SYN from outside is dropped by the policy at once (REC-34's
 * answer after 6 s is not modelled: docs/ipv6.md "Known differences"), a
 * segment conntrack calls INVALID by the INVALID rule, with its cause. */
static void test_rfc6092_tcp(void **state)
{
	struct fx *x = *state;
	struct verdict_flow flow;
	char words[200];

	home_rfc6092(x, NAT_ADDRESS_AND_PORT_DEPENDENT, false);
	assert_true(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_SYN, 100, 0)));
	assert_int_equal(x->v.state, CONNTRACK_NEW);
	assert_int_equal(x->v.rule, 2);
	assert_true(fwd(x, tcp(x, SERVER, 443, ALICE, 40000, TCP_SYN | TCP_ACK, 900, 101)));
	assert_int_equal(x->v.state, CONNTRACK_ESTABLISHED);
	assert_true(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_ACK, 101, 901)));
	/* unsolicited: a SYN from outside to any inside port */
	assert_false(fwd(x, tcp(x, SERVER, 443, ALICE, 40001, TCP_SYN, 5, 0)));
	assert_int_equal(x->v.state, CONNTRACK_NEW);
	assert_int_equal(x->v.reason, FW_REASON_POLICY);
	/* a SYN/ACK nobody asked for: INVALID, dropped by rule 1 */
	assert_false(fwd(x, tcp(x, SERVER, 443, ALICE, 40002, TCP_SYN | TCP_ACK, 5, 7)));
	assert_int_equal(x->v.state, CONNTRACK_INVALID);
	assert_int_equal(x->v.invalid, CONNTRACK_INVALID_NEW);
	assert_int_equal(x->v.rule, 1); /* -m state --state INVALID -j DROP */
	flow = packet6_flow_of(&x->info);
	explain_tcp_invalid(&flow, x->v.invalid, words, sizeof(words));
	assert_string_equal(words, "; conntrack marks it INVALID: it tracks no connection of this "
				   "flow, and a SYN+ACK cannot start one (tcp_new)");
	assert_int_equal(conntrack6_count(filter6_conntrack(x->f)), 1);
}

/* Endpoint-independent filtering for TCP too (RFC 6092 REC-33): once
 * alice's port 40000 has an outbound connection, a SYN from anyone to it
 * is admitted, and its answer is ESTABLISHED; a SYN to another port is
 * not, nor a segment that is not a SYN. An ICMPv6 packet too big about the
 * connection is RELATED (REC-36). */
static void test_rfc6092_tcp_endpoint_independent(void **state)
{
	struct fx *x = *state;
	char words[256];
	uint8_t quoted[128];
	struct ip6_addr alice = a6(ALICE), server = a6(SERVER), router = a6("2001:db8:9::1");
	size_t qlen, len;

	home_rfc6092(x, NAT_ENDPOINT_INDEPENDENT, false);
	assert_true(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_SYN, 100, 0)));
	assert_true(fwd(x, tcp(x, OTHER, 5555, ALICE, 40000, TCP_SYN, 1, 0)));
	assert_int_equal(x->v.reason, FW_REASON_ADMITTED);
	explain_firewall(&x->v, words, sizeof(words));
	assert_string_equal(words,
			    "no rule in FORWARD accepted a new forwarded flow, but "
			    "endpoint-independent filtering admitted it: [2001:db8:1::5]:40000 "
			    "has an outbound TCP flow (to [2001:db8:2::1]:443, conntrack id 1)");
	assert_true(fwd(x, tcp(x, ALICE, 40000, OTHER, 5555, TCP_SYN | TCP_ACK, 100, 2)));
	assert_int_equal(x->v.state, CONNTRACK_ESTABLISHED);
	assert_false(fwd(x, tcp(x, OTHER, 5555, ALICE, 40001, TCP_SYN, 1, 0)));
	assert_false(fwd(x, tcp(x, OTHER, 5556, ALICE, 40000, TCP_ACK, 1, 1)));
	/* a UDP datagram quoted, made TCP: the quote's first 8 bytes are ports
	 * and the sequence number, all conntrack reads */
	qlen = packet6_build_udp(quoted, sizeof(quoted), &(struct endpoint6){alice, 40000},
				 &(struct endpoint6){server, 443}, 63, 0, "hi", 2);
	quoted[6] = IPPROTO_NUM_TCP;
	len = packet6_build_icmp_error(x->buf, sizeof(x->buf), &router, &alice, 64,
				       ICMP6_PACKET_TOO_BIG, 0, 1280, quoted, qlen);
	assert_int_equal(packet6_parse(x->buf, len, &x->info, NULL, 0), PACKET_OK);
	assert_true(fwd(x, &x->info));
	assert_int_equal(x->v.state, CONNTRACK_RELATED);
}

/* Simultaneous open (RFC 6092 REC-31 MUST support it): the inside's SYN goes
 * out first, so the outside's SYN that crosses it is the reply direction
 * of a tracked flow (SYN_SENT2) and passes; the flow completes
 * ESTABLISHED [ASSURED]. */
static void test_rfc6092_tcp_simultaneous_open(void **state)
{
	struct fx *x = *state;
	struct conntrack6_entry *e;
	enum conntrack_dir dir;

	home_rfc6092(x, NAT_ADDRESS_AND_PORT_DEPENDENT, false);
	assert_true(fwd(x, tcp(x, ALICE, 40010, SERVER, 40011, TCP_SYN, 7000, 0)));
	assert_true(fwd(x, tcp(x, SERVER, 40011, ALICE, 40010, TCP_SYN, 9000, 0)));
	assert_int_equal(x->v.state, CONNTRACK_ESTABLISHED);
	assert_true(fwd(x, tcp(x, ALICE, 40010, SERVER, 40011, TCP_SYN | TCP_ACK, 7000, 9001)));
	assert_true(fwd(x, tcp(x, SERVER, 40011, ALICE, 40010, TCP_ACK, 9001, 7001)));
	conntrack6_classify(filter6_conntrack(x->f), &x->info, &e, &dir);
	assert_non_null(e);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_ESTABLISHED);
	assert_true(e->assured);
}

/* nf_conntrack_in runs before the filter table: a segment the rules drop
 * still moves its tracked flow (here an outbound RST a rule refuses closes
 * the flow), and a SYN reopening a closed flow is NEW to the rules. */
static void test_tcp_state_moves_before_rules(void **state)
{
	struct fx *x = *state;
	struct fw_rule no_rst = {.chain = FW_CHAIN_FORWARD,
				 .family = 6,
				 .proto = IPPROTO_NUM_TCP,
				 .tcp_flags_mask = TCP_RST,
				 .tcp_flags_match = TCP_RST,
				 .action = FW_DROP};
	struct conntrack6_entry *e;
	enum conntrack_dir dir;

	assert_int_equal(filter6_make_stateful_host(x->f), 0);
	assert_int_equal(firewall_append(filter6_firewall(x->f), &no_rst), 0);
	assert_true(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_SYN, 100, 0)));
	assert_true(fwd(x, tcp(x, SERVER, 443, ALICE, 40000, TCP_SYN | TCP_ACK, 900, 101)));
	assert_true(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_ACK, 101, 901)));
	assert_false(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_RST | TCP_ACK, 101, 901)));
	conntrack6_classify(filter6_conntrack(x->f), &x->info, &e, &dir);
	assert_non_null(e);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_CLOSE);
	assert_true(fwd(x, tcp(x, ALICE, 40000, SERVER, 443, TCP_SYN, 5000, 0)));
	assert_int_equal(x->v.state, CONNTRACK_NEW);
	assert_int_equal(conntrack6_count(filter6_conntrack(x->f)), 1);
}

/* A filter whose rules ask for no state tracks nothing (Linux loads
 * conntrack for the first ct state rule): TCP and UDP pass as NEW, no
 * entry is made; a stateful rule appended turns tracking on. */
static void test_tracking_only_with_state_rules(void **state)
{
	struct fx *x = *state;
	struct fw_rule established = {.chain = FW_CHAIN_INPUT,
				      .family = 6,
				      .states = CONNTRACK_ESTABLISHED,
				      .action = FW_ACCEPT};

	udp(x, ALICE, 40000, SERVER, 443);
	x->info.next_header = 6;
	assert_true(fwd(x, &x->info));
	assert_int_equal(x->v.state, CONNTRACK_NEW);
	assert_int_equal(x->v.invalid, CONNTRACK_INVALID_NONE);
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	assert_int_equal(conntrack6_count(filter6_conntrack(x->f)), 0);
	assert_int_equal(firewall_append(filter6_firewall(x->f), &established), 0);
	assert_true(fwd(x, udp(x, ALICE, 5000, SERVER, 3478)));
	assert_int_equal(conntrack6_count(filter6_conntrack(x->f)), 1);
}

static void test_stateful_host(void **state)
{
	struct fx *x = *state;

	assert_int_equal(filter6_make_stateful_host(x->f), 0);
	assert_false(
	    filter6_packet(x->f, FW_CHAIN_INPUT, udp(x, SERVER, 3478, ALICE, 5000), 50, &x->v));
	assert_int_equal(x->v.reason, FW_REASON_POLICY);
	assert_true(
	    filter6_packet(x->f, FW_CHAIN_OUTPUT, udp(x, ALICE, 5000, SERVER, 3478), 50, &x->v));
	assert_true(
	    filter6_packet(x->f, FW_CHAIN_INPUT, udp(x, SERVER, 3478, ALICE, 5000), 50, &x->v));
	assert_int_equal(x->v.state, CONNTRACK_ESTABLISHED);
	assert_int_equal(x->v.rule, 0);
}

/* ip6 rules: by source prefix and destination port, by ICMPv6 type; an
 * IPv4 rule (family 0) never matches an IPv6 packet. */
static void test_rules_by_prefix_and_icmpv6_type(void **state)
{
	struct fx *x = *state;
	struct firewall *fw = filter6_firewall(x->f);
	struct fw_rule from_server = {.chain = FW_CHAIN_INPUT,
				      .family = 6,
				      .proto = 17,
				      .src6 = a6("2001:db8:2::"),
				      .src_len = 48,
				      .dport_lo = 5000,
				      .action = FW_ACCEPT};
	struct fw_rule no_ping = {.chain = FW_CHAIN_INPUT,
				  .family = 6,
				  .proto = 58,
				  .match_icmp_type = true,
				  .icmp_type = 128,
				  .action = FW_DROP};
	struct fw_rule v4_any = {.chain = FW_CHAIN_INPUT, .action = FW_ACCEPT};
	struct ip6_addr alice = a6(ALICE), server = a6(SERVER);
	size_t len;

	firewall_set_policy(fw, FW_CHAIN_INPUT, FW_DROP);
	assert_int_equal(firewall_append(fw, &v4_any), 0);
	assert_int_equal(firewall_append(fw, &from_server), 1);
	assert_int_equal(firewall_append(fw, &no_ping), 2);
	assert_true(
	    filter6_packet(x->f, FW_CHAIN_INPUT, udp(x, SERVER, 1, ALICE, 5000), 50, &x->v));
	assert_int_equal(x->v.rule, 1);
	assert_false(
	    filter6_packet(x->f, FW_CHAIN_INPUT, udp(x, OTHER, 1, ALICE, 5000), 50, &x->v));
	assert_int_equal(x->v.reason, FW_REASON_POLICY);
	len = packet6_build_icmp_echo(x->buf, sizeof(x->buf), &server, &alice, 64,
				      ICMP6_ECHO_REQUEST, 9, 1, NULL, 8);
	assert_int_equal(packet6_parse(x->buf, len, &x->info, NULL, 0), PACKET_OK);
	assert_false(filter6_packet(x->f, FW_CHAIN_INPUT, &x->info, len, &x->v));
	assert_int_equal(x->v.rule, 2);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_INPUT, 0)->hits, 0);
}

/* The rules in ip6tables-save's words, as ip6tables v1.8.9 printed them. */
static void test_rule_words_as_ip6tables_save(void **state)
{
	static const struct {
		struct fw_rule rule;
		const char *text;
	} cases[] = {
	    {{.family = 6,
	      .proto = 17,
	      .dport_lo = 5000,
	      .src_len = 32,
	      .dst_len = 128,
	      .action = FW_ACCEPT},
	     "-s 2001:db8::/32 -d 2001:db8:1::5/128 -p udp -m udp --dport 5000 -j ACCEPT"},
	    {{.family = 6,
	      .proto = 58,
	      .match_icmp_type = true,
	      .icmp_type = 128,
	      .action = FW_ACCEPT},
	     "-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"},
	    {{.family = 6,
	      .proto = 58,
	      .match_icmp_type = true,
	      .icmp_type = 1,
	      .match_icmp_code = true,
	      .icmp_code = 4,
	      .action = FW_ACCEPT},
	     "-p ipv6-icmp -m icmp6 --icmpv6-type 1/4 -j ACCEPT"},
	    {{.family = 6,
	      .states = CONNTRACK_ESTABLISHED | CONNTRACK_RELATED,
	      .action = FW_ACCEPT},
	     "-m state --state RELATED,ESTABLISHED -j ACCEPT"},
	    {{.family = 6, .states = CONNTRACK_UNTRACKED, .action = FW_ACCEPT},
	     "-m state --state UNTRACKED -j ACCEPT"},
	    {{.family = 6, .action = FW_REJECT}, "-j REJECT --reject-with icmp6-port-unreachable"},
	    {{.family = 6, .proto = 6, .action = FW_REJECT, .reject_with = FW_REJECT_TCP_RESET},
	     "-p tcp -j REJECT --reject-with tcp-reset"},
	};
	char text[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fw_rule r = cases[i].rule;

		if (i == 0) {
			r.src6 = a6("2001:db8::");
			r.dst6 = a6(ALICE);
		}
		assert_int_equal(fw_rule_format(&r, text, sizeof(text)), strlen(cases[i].text));
		assert_string_equal(text, cases[i].text);
	}
}

static void test_reject_names6(void **state)
{
	enum fw_reject_with w;
	uint8_t type, code;

	(void)state;
	assert_int_equal(fw_reject_with_parse6("icmp6-adm-prohibited", &w), 0);
	assert_int_equal(w, FW_REJECT_ADMIN_PROHIBITED);
	assert_int_equal(fw_reject_with_parse6("adm-prohibited", &w), 0);
	assert_int_equal(w, FW_REJECT_ADMIN_PROHIBITED);
	assert_int_equal(fw_reject_with_parse6("icmp6-addr-unreachable", &w), 0);
	fw_reject_icmp6(w, &type, &code);
	assert_int_equal(code, ICMP6_ADDR_UNREACH);
	assert_int_equal(fw_reject_with_parse6("icmp-port-unreachable", &w), -1); /* IPv4's */
	fw_reject_icmp6(FW_REJECT_PORT_UNREACHABLE, &type, &code);
	assert_int_equal(type, 1);
	assert_int_equal(code, ICMP6_PORT_UNREACH);
	assert_string_equal(fw_reject_with_name6(FW_REJECT_NET_UNREACHABLE), "icmp6-no-route");
}

/* ---- the lab's sequence (tests/lab/lab_filter6.sh) ------------------------ */

/* True when `line` is one of filter6_expected.txt's lines, the timeout of a
 * conntrack line (its third field) compared as a placeholder, as the lab
 * compares it. */
static void without_timeout(const char *in, char *out, size_t size)
{
	const char *p = in;

	for (int field = 0; field < 2 && *p != '\0'; field++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	if (*in >= 'a' && *in <= 'z' && *p >= '0' && *p <= '9')
		snprintf(out, size, "%.*sT%s", (int)(p - in), in, p + strspn(p, "0123456789"));
	else
		snprintf(out, size, "%s", in);
}

static bool captured(const char *line)
{
	FILE *f = fopen(NATSIM_FILTER6_EXPECTED, "r");
	char buf[400], want[400], got[400];
	bool found = false;

	assert_non_null(f);
	without_timeout(line, got, sizeof(got));
	while (!found && fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		without_timeout(buf, want, sizeof(want));
		found = buf[0] != '#' && strcmp(want, got) == 0;
	}
	fclose(f);
	return found;
}

/* Two sites behind two routers whose filters are the lab's nftables rule
 * set (RFC 6092 mode, address-and-port-dependent, silent) with Linux's
 * own UDP timeouts, as the lab's routers have them. */
struct two_sites {
	struct fx *x;
	struct filter6 *r2;
};

static bool crosses(struct two_sites *s, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		    bool a_to_b)
{
	struct filter6 *first = a_to_b ? s->x->f : s->r2, *second = a_to_b ? s->r2 : s->x->f;

	return filter6_packet(first, FW_CHAIN_FORWARD, udp(s->x, src, sp, dst, dp), 50, &s->x->v) &&
	       filter6_packet(second, FW_CHAIN_FORWARD, &s->x->info, 50, &s->x->v);
}

static void expect_step(const char *what, bool passed)
{
	char line[160];

	snprintf(line, sizeof(line), "%s: %s", what, passed ? "passed" : "dropped");
	assert_true(captured(line));
}

/* A step with two outcomes (b's, then a's), as the lab prints them. */
static void expect_step2(const char *what, bool b_passed, bool a_passed)
{
	char line[160];

	snprintf(line, sizeof(line), "%s: %s/%s", what, b_passed ? "passed" : "dropped",
		 a_passed ? "passed" : "dropped");
	assert_true(captured(line));
}

static bool same_line_captured(const struct conntrack6_entry *e, void *ctx)
{
	struct two_sites *s = ctx;
	struct trace_conntrack rec;
	struct trace_ct_tuples6 t;
	char line[320];

	conntrack6_entry_record(filter6_conntrack(s->x->f), e, &rec, &t);
	conntrack_format_record(&rec, engine_now(s->x->e), line, sizeof(line));
	assert_true(captured(line));
	return true;
}

/* A TCP connection of the lab's: side 0 is a's (behind r1), side 1 b's
 * (behind r2, or r2 itself when `to_r2`: only r1 forwards it). */
struct lab_conn {
	const char *addr[2];
	uint16_t port[2];
	uint32_t next[2];
	bool to_r2;
};

/* Side `who` sends a segment, with its next sequence number and the
 * other's as ACK, through the filters on its way; true if it arrives. */
static bool lab_segment(struct two_sites *s, struct lab_conn *c, int who, uint8_t flags, size_t len)
{
	struct filter6 *path[2] = {who == 0 ? s->x->f : s->r2, who == 0 ? s->r2 : s->x->f};
	bool passed = true;

	tcp(s->x, c->addr[who], c->port[who], c->addr[!who], c->port[!who], flags, c->next[who],
	    (flags & TCP_ACK) ? c->next[!who] : 0);
	s->x->info.payload_len = len;
	c->next[who] += (uint32_t)len + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
	for (int i = 0; i < 2 && passed; i++)
		if (!c->to_r2 || path[i] == s->x->f)
			passed =
			    filter6_packet(path[i], FW_CHAIN_FORWARD, &s->x->info, 60, &s->x->v);
	return passed;
}

/* Steps 6-8 of the lab, segment by segment as its kernels sent them. */
static void lab_tcp_steps(struct two_sites *s)
{
	struct lab_conn syn = {{ALICE, "2001:db8:2::5"}, {8000, 7100}, {1, 500}, false},
			out = {{ALICE, "2001:db8:ff::2"}, {8001, 8002}, {1000, 5000}, true},
			so = {{ALICE, "2001:db8:2::5"}, {8003, 8004}, {7000, 9000}, false};
	bool a, b;

	expect_step("6. b:7100 -> a:8000 TCP SYN unsolicited", lab_segment(s, &syn, 1, TCP_SYN, 0));
	a = lab_segment(s, &out, 0, TCP_SYN, 0) && lab_segment(s, &out, 1, TCP_SYN | TCP_ACK, 0) &&
	    lab_segment(s, &out, 0, TCP_ACK, 0) && lab_segment(s, &out, 0, TCP_PSH | TCP_ACK, 1) &&
	    lab_segment(s, &out, 1, TCP_FIN | TCP_ACK, 0) && lab_segment(s, &out, 0, TCP_ACK, 0) &&
	    lab_segment(s, &out, 0, TCP_FIN | TCP_ACK, 0) && lab_segment(s, &out, 1, TCP_ACK, 0);
	expect_step("7. a:8001 -> [2001:db8:ff::2]:8002 TCP connection", a);
	assert_false(lab_segment(s, &so, 0, TCP_SYN, 0)); /* out at r1, dropped at r2 */
	b = lab_segment(s, &so, 1, TCP_SYN, 0);
	so.next[0]--; /* a answers b's SYN with its own SYN again, and an ACK */
	a = b && lab_segment(s, &so, 0, TCP_SYN | TCP_ACK, 0) && lab_segment(s, &so, 1, TCP_ACK, 0);
	a = a && lab_segment(s, &so, 0, TCP_PSH | TCP_ACK, 1) &&
	    lab_segment(s, &so, 1, TCP_PSH | TCP_ACK, 1) &&
	    lab_segment(s, &so, 0, TCP_FIN | TCP_ACK, 0) &&
	    lab_segment(s, &so, 1, TCP_FIN | TCP_ACK, 0) && lab_segment(s, &so, 0, TCP_ACK, 0) &&
	    lab_segment(s, &so, 1, TCP_ACK, 0);
	expect_step2("8. a:8003 <-> b:8004 TCP simultaneous open", a, a);
}

static void test_lab_sequence(void **state)
{
	struct fx *x = *state;
	struct two_sites s = {.x = x, .r2 = filter6_new(x->e, "r2")};
	struct conntrack_config linux_cfg;
	struct ip6_addr site2 = a6("2001:db8:2::"), r2 = a6("2001:db8:ff::2"), a = a6(ALICE);
	uint8_t quoted[128];
	size_t qlen, len;

	assert_non_null(s.r2);
	conntrack_config_default(&linux_cfg);
	home_rfc6092(x, NAT_ADDRESS_AND_PORT_DEPENDENT, false);
	assert_int_equal(
	    filter6_make_rfc6092(s.r2, &site2, 64, NAT_ADDRESS_AND_PORT_DEPENDENT, false), 0);
	conntrack6_set_config(filter6_conntrack(x->f), &linux_cfg);
	conntrack6_set_config(filter6_conntrack(s.r2), &linux_cfg);
	expect_step("1. b:7000 -> a:5000 unsolicited",
		    crosses(&s, "2001:db8:2::5", 7000, ALICE, 5000, false));
	expect_step("2. b:6000 -> a:5000 first probe",
		    crosses(&s, "2001:db8:2::5", 6000, ALICE, 5000, false));
	expect_step("3. a:5000 -> b:6000 probe",
		    crosses(&s, ALICE, 5000, "2001:db8:2::5", 6000, true));
	expect_step("4. b:6000 -> a:5000 probe",
		    crosses(&s, "2001:db8:2::5", 6000, ALICE, 5000, false));
	/* r2's own stack answers port 9 (its INPUT is not filtered) */
	assert_true(fwd(x, udp(x, ALICE, 5001, "2001:db8:ff::2", 9)));
	qlen = packet6_build_udp(quoted, sizeof(quoted), &(struct endpoint6){a, 5001},
				 &(struct endpoint6){r2, 9}, 63, 0, "hi", 2);
	len = packet6_build_icmp_error(x->buf, sizeof(x->buf), &r2, &a, 64, ICMP6_DEST_UNREACH,
				       ICMP6_PORT_UNREACH, 0, quoted, qlen);
	assert_int_equal(packet6_parse(x->buf, len, &x->info, NULL, 0), PACKET_OK);
	expect_step("5. port unreachable from r2 about a:5001 -> [2001:db8:ff::2]:9",
		    fwd(x, &x->info));
	lab_tcp_steps(&s);
	assert_int_equal(conntrack6_count(filter6_conntrack(x->f)), 4);
	conntrack6_foreach(filter6_conntrack(x->f), same_line_captured, &s);
	filter6_free(s.r2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rfc6092_port_dependent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_address_dependent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_endpoint_independent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_reject, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_tcp_simultaneous_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc6092_tcp_endpoint_independent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_state_moves_before_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tracking_only_with_state_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stateful_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_by_prefix_and_icmpv6_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lab_sequence, setup, teardown),
	    cmocka_unit_test(test_rule_words_as_ip6tables_save),
	    cmocka_unit_test(test_reject_names6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
