/*
 * test_explain_icmp.c - ICMP in words (explain/icmp.c and the drops that
 * answer with an error): message names, a packet named with what it is
 * about, and what the sender of a dropped packet was told. The facts are
 * written by hand, as the models fill them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"

#define A "\u2192"

static void test_names(void **state)
{
	static const struct {
		uint8_t type, code;
		const char *name;
	} cases[] = {
	    {0, 0, "echo reply"},
	    {8, 0, "echo request"},
	    {3, 0, "network unreachable"},
	    {3, 1, "host unreachable"},
	    {3, 3, "port unreachable"},
	    {3, 13, "communication administratively prohibited"},
	    {3, 8, "destination unreachable (code 8)"},
	    {11, 0, "time exceeded"},
	    {12, 0, "parameter problem"},
	    {42, 7, "ICMP type 42 code 7"},
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
		    explain_icmp_name(cases[i].type, cases[i].code, text, sizeof(text)),
		    cases[i].name);
	assert_true(explain_icmp_is_error(3) && explain_icmp_is_error(11));
	assert_false(explain_icmp_is_error(8) || explain_icmp_is_error(0));
}

/* An echo request names its id on the source side (sport), a reply on the
 * destination side (dport), as model/packet.h says. */
static const struct verdict_flow ping = {.form = VERDICT_FLOW_PARSED,
					 .proto = 1,
					 .src = IP4(10, 0, 0, 7),
					 .dst = IP4(192, 0, 2, 1),
					 .sport = 1,
					 .icmp_type = 8};
static const struct verdict_flow pong = {.form = VERDICT_FLOW_PARSED,
					 .proto = 1,
					 .src = IP4(192, 0, 2, 1),
					 .dst = IP4(10, 0, 0, 7),
					 .dport = 1,
					 .icmp_type = 0};
static const struct verdict_flow unreach = {.form = VERDICT_FLOW_PARSED,
					    .proto = 1,
					    .src = IP4(198, 51, 100, 1),
					    .dst = IP4(10, 0, 0, 7),
					    .icmp_type = 3,
					    .icmp_code = 3};
static const struct verdict_flow quoted_udp = {.form = VERDICT_FLOW_PARSED,
					       .proto = 17,
					       .src = IP4(10, 0, 0, 7),
					       .dst = IP4(192, 0, 2, 1),
					       .sport = 5000,
					       .dport = 9};

static void test_packet_phrases(void **state)
{
	struct explain_packet_facts f = {.flow = ping, .has_seq = true, .seq = 3};
	char text[200];

	(void)state;
	assert_string_equal(explain_packet(&f, text, sizeof(text)),
			    "ping 10.0.0.7 " A " 192.0.2.1 (echo request id=1 seq=3)");
	f.flow = pong;
	assert_string_equal(explain_packet(&f, text, sizeof(text)),
			    "ping reply 192.0.2.1 " A " 10.0.0.7 (echo reply id=1 seq=3)");
	f = (struct explain_packet_facts){
	    .flow = unreach, .has_inner = true, .inner = quoted_udp, .inner_owner = "alice"};
	assert_string_equal(explain_packet(&f, text, sizeof(text)),
			    "port unreachable 198.51.100.1 " A " 10.0.0.7 about alice's UDP "
			    "10.0.0.7:5000 " A " 192.0.2.1:9");
	f.inner_owner = NULL;
	f.inner = ping;
	f.flow.icmp_type = 11;
	f.flow.icmp_code = 0;
	assert_string_equal(explain_packet(&f, text, sizeof(text)),
			    "time exceeded 198.51.100.1 " A " 10.0.0.7 about ping 10.0.0.7 " A
			    " 192.0.2.1 (echo request id=1)");
	f = (struct explain_packet_facts){.flow = quoted_udp};
	assert_string_equal(explain_packet(&f, text, sizeof(text)),
			    "10.0.0.7:5000 " A " 192.0.2.1:9");
	/* explain_flow, which every drop sentence uses, names the message */
	assert_string_equal(explain_flow(&unreach, text, sizeof(text)),
			    "port unreachable 198.51.100.1 " A " 10.0.0.7");
}

/* A drop the stack answered, or did not and why (RFC 1122 3.2.2, Linux's
 * rate limit). */
static void test_path_answers(void **state)
{
	struct node_path_facts f = {.cause = NODE_PATH_NO_SOCKET, .flow = quoted_udp};
	char text[400];

	(void)state;
	f.flow.src = IP4(203, 0, 113, 7);
	f.answer = (struct icmp_answer){ICMP_ANSWER_SENT, 3, 3, 42};
	assert_int_equal(explain_path(&f, "bob", text, sizeof(text)), 4);
	assert_string_equal(text, "bob dropped 203.0.113.7:5000 " A " 192.0.2.1:9: nothing on bob "
				  "listens on UDP port 9; answered with port unreachable (#42)");
	f.answer.kind = ICMP_ANSWER_RATE_LIMITED;
	explain_path(&f, "bob", text, sizeof(text));
	assert_non_null(strstr(text, "port 9; not answered with port unreachable: Linux's ICMP "
				     "rate limit (6 at once, then 1 per second per destination)"));
	f = (struct node_path_facts){.cause = NODE_PATH_TTL, .flow = unreach};
	f.flow.ttl = 1;
	f.answer.kind = ICMP_ANSWER_NEVER;
	assert_int_equal(explain_path(&f, "r", text, sizeof(text)), 0);
	assert_string_equal(text,
			    "TTL expired at r: port unreachable 198.51.100.1 " A
			    " 10.0.0.7 arrived with TTL 1, and a router may not forward a "
			    "packet whose TTL would reach 0; never answered: an ICMP error is "
			    "never answered with another (RFC 1122 3.2.2)");
	f.answer = (struct icmp_answer){ICMP_ANSWER_SENT, 11, 0, 7};
	f.flow = ping;
	explain_path(&f, "r", text, sizeof(text));
	assert_non_null(strstr(text, "reach 0; answered with time exceeded (#7)"));
	f.answer.kind = ICMP_ANSWER_NONE;
	explain_path(&f, "r", text, sizeof(text));
	assert_null(strstr(text, "answered"));
	/* a ping to the NAT's own public address from inside: no ':0' */
	f = (struct node_path_facts){.cause = NODE_PATH_NO_HAIRPIN, .flow = ping};
	explain_path(&f, "r", text, sizeof(text));
	assert_string_equal(text, "r does not hairpin: ping 10.0.0.7 " A " 192.0.2.1 (echo request "
				  "id=1) is for its own public address 192.0.2.1, which this NAT "
				  "only translates for packets arriving from outside");
}

static const struct fw_rule reject_9 = {
    .chain = FW_CHAIN_INPUT, .proto = 17, .dport_lo = 9, .action = FW_REJECT};

static void test_reject_answers(void **state)
{
	struct fw_verdict v = {FW_REJECT, FW_REASON_RULE, FW_CHAIN_INPUT,	  0,
			       &reject_9, CONNTRACK_NEW,  CONNTRACK_INVALID_NONE, NULL};
	struct icmp_answer a = {ICMP_ANSWER_SENT, 3, 3, 0};
	char text[400];

	(void)state;
	assert_int_equal(explain_firewall_reject(&v, &quoted_udp, &a, "bob", text, sizeof(text)),
			 strlen("bob's "));
	/* (the rule's own text is fw_rule_format's, whatever it prints) */
	assert_non_null(strstr(text,
			       "bob's firewall rejected 10.0.0.7:5000 " A " 192.0.2.1:9: rule "
			       "INPUT #1 (-p udp --dport 9 -j REJECT"));
	assert_non_null(strstr(text, ") rejected it, and told the sender: port unreachable "
				     "(icmp-port-unreachable)"));
	assert_int_equal(text[strlen(text) - 1], ')');
	a = (struct icmp_answer){ICMP_ANSWER_SENT, 3, 13, 12};
	explain_firewall_reject(&v, &quoted_udp, &a, "bob", text, sizeof(text));
	assert_non_null(strstr(text, "told the sender: communication administratively "
				     "prohibited (icmp-admin-prohibited), #12"));
	a.kind = ICMP_ANSWER_NEVER;
	explain_firewall_reject(&v, &unreach, &a, "bob", text, sizeof(text));
	assert_non_null(strstr(text, "told the sender nothing: an ICMP error is never answered "
				     "with another (RFC 1122 3.2.2)"));
	a.kind = ICMP_ANSWER_RATE_LIMITED;
	explain_firewall_reject(&v, &quoted_udp, &a, "bob", text, sizeof(text));
	assert_non_null(strstr(text, "but did not tell the sender (communication administratively "
				     "prohibited): Linux's ICMP rate limit"));
	/* a DROP tells nobody anything, whatever the facts say */
	v.action = FW_DROP;
	a.kind = ICMP_ANSWER_SENT;
	explain_firewall_reject(&v, &quoted_udp, &a, "bob", text, sizeof(text));
	assert_null(strstr(text, "told"));
}

/* An ip6 rule's REJECT: ICMPv6's names, ip6tables' --reject-with name,
 * ICMPv6's rate limit and RFC 4443's never; IPv4 words nowhere. */
static void test_reject_answers6(void **state)
{
	struct fw_rule rule = reject_9;
	struct fw_verdict v = {FW_REJECT, FW_REASON_RULE, FW_CHAIN_INPUT,	  0,
			       &rule,	  CONNTRACK_NEW,  CONNTRACK_INVALID_NONE, NULL};
	struct verdict_flow flow = {
	    .form = VERDICT_FLOW_PARSED, .ip_version = 6, .proto = 17, .sport = 5000, .dport = 9};
	struct icmp_answer a = {ICMP_ANSWER_SENT, 1, 1, 4};
	char text[500];

	(void)state;
	rule.family = 6;
	explain_firewall_reject(&v, &flow, &a, "web", text, sizeof(text));
	assert_non_null(strstr(text, "told the sender: ICMPv6 administratively prohibited "
				     "(icmp6-adm-prohibited), #4"));
	a = (struct icmp_answer){ICMP_ANSWER_SENT, 1, 3, 0};
	explain_firewall_reject(&v, &flow, &a, "web", text, sizeof(text));
	assert_non_null(strstr(text, "(icmp6-addr-unreachable)"));
	assert_null(strstr(text, "#0"));
	a.kind = ICMP_ANSWER_RATE_LIMITED;
	explain_firewall_reject(&v, &flow, &a, "web", text, sizeof(text));
	assert_non_null(strstr(text, "but did not tell the sender (ICMPv6 address unreachable): "
				     "Linux's ICMPv6 rate limit (6 at once per destination"));
	a.kind = ICMP_ANSWER_NEVER;
	explain_firewall_reject(&v, &flow, &a, "web", text, sizeof(text));
	assert_non_null(strstr(text, "told the sender nothing (RFC 4443 2.4(e)"));
	assert_null(strstr(text, "RFC 1122"));
}

/* The trace's hook words a REJECT's answer from the drop record's facts. */
static void remember_why(const struct trace_record *r, void *ctx)
{
	snprintf(ctx, 400, "%s", r->u.packet.why != NULL ? r->u.packet.why : "(none)");
}

static void test_hook_words_the_answer(void **state)
{
	int64_t now = 0;
	struct trace t;
	char seen[400] = "";
	struct node_firewall_facts f = {
	    .verdict = {FW_REJECT, FW_REASON_RULE, FW_CHAIN_INPUT, 0, NULL, CONNTRACK_NEW},
	    .answer = {ICMP_ANSWER_SENT, 3, 3, 5},
	    .rule = reject_9,
	    .flow = quoted_udp};
	struct trace_record r = {.kind = TRACE_PACKET};

	(void)state;
	trace_init(&t, &now);
	explain_attach(&t);
	assert_int_equal(trace_subscribe(&t, remember_why, seen), 0);
	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_DROP,
					   .node = "bob",
					   .reason = TRACE_DROP_FIREWALL,
					   .verdict = {NODE_VERDICT_FIREWALL, &f}};
	trace_emit(&t, &r);
	assert_non_null(strstr(seen, "rejected it, and told the sender: port unreachable "
				     "(icmp-port-unreachable), #5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),	    cmocka_unit_test(test_packet_phrases),
	    cmocka_unit_test(test_path_answers),    cmocka_unit_test(test_reject_answers),
	    cmocka_unit_test(test_reject_answers6), cmocka_unit_test(test_hook_words_the_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
