/*
 * test_scenario_icmp.c - the ICMP parts of the scenario language: rules that
 * match ICMP and reject with a chosen error, the states related and invalid,
 * the NAT's RFC 5508 options, ping / traceroute / raw icmp actions, and the
 * icmp and related expectations; every refusal names the file, line and
 * column and says what was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support_lang.h"

#include "app/lang/scenario.h"
#include "base/endpoint.h"

#define SEC(n) ((int64_t)(n)*1000000000)

static const char world[] = "coordinator c at 192.0.2.1\n"
			    "nat home preset symmetric public 203.0.113.5\n"
			    "host alice at 10.0.0.7 behind home\n"
			    "host bob at 198.51.100.9 public\n";

static void test_rules(void **state)
{
	char text[1024];
	struct scenario *s;
	const struct scenario_rule *r;

	(void)state;
	snprintf(text, sizeof(text),
		 "%srule bob input reject with admin-prohibited icmp type echo-request\n"
		 "rule bob input accept state established,related\n"
		 "rule bob input drop icmp type port-unreachable state invalid\n"
		 "rule bob input reject udp dport 9\n"
		 "rule bob input accept icmp type 42 code 7\n",
		 world);
	s = parse_ok(text);
	assert_int_equal(s->n_rules, 5);
	r = &s->rules[0];
	assert_int_equal(r->proto, 1);
	assert_true(r->has_icmp_type && r->icmp_type == 8);
	assert_true(r->has_icmp_code && r->icmp_code == 0);
	assert_int_equal(r->reject_with, 6); /* FW_REJECT_ADMIN_PROHIBITED */
	assert_int_equal(s->rules[1].states, SCENARIO_STATE_ESTABLISHED | SCENARIO_STATE_RELATED);
	r = &s->rules[2];
	assert_true(r->icmp_type == 3 && r->icmp_code == 3);
	assert_int_equal(r->states, SCENARIO_STATE_INVALID);
	assert_int_equal(s->rules[3].reject_with, SCENARIO_UNSET); /* port-unreachable */
	r = &s->rules[4];
	assert_true(r->icmp_type == 42 && r->has_icmp_code && r->icmp_code == 7);
	scenario_free(s);
}

static void test_nat_options(void **state)
{
	char text[512];
	struct scenario *s;
	struct diag *d = diag_new();

	(void)state;
	snprintf(text, sizeof(text),
		 "nat n preset full-cone icmp-inner off icmp-errors on icmp-timeout 60s "
		 "public 2.2.2.2\nnat m preset full-cone public 3.3.3.3\n");
	s = parse_ok(text);
	assert_int_equal(s->nats[0].icmp_inner, 0);
	assert_int_equal(s->nats[0].icmp_errors, 1);
	assert_int_equal(s->nats[0].icmp_timeout_ns, SEC(60));
	assert_int_equal(s->nats[1].icmp_inner, SCENARIO_UNSET);
	assert_int_equal(s->nats[1].icmp_timeout_ns, SCENARIO_UNSET);
	assert_int_equal(scenario_set_override(s, "m.icmp-errors=off", d), 0);
	assert_int_equal(s->nats[1].icmp_errors, 0);
	assert_int_equal(scenario_set_override(s, "m.icmp-timeout=2min", d), 0);
	assert_int_equal(s->nats[1].icmp_timeout_ns, SEC(120));
	diag_free(d);
	scenario_free(s);
}

static void test_actions(void **state)
{
	char text[1024];
	struct scenario *s;
	const struct scenario_action *a;

	(void)state;
	snprintf(text, sizeof(text),
		 "%sat 1s ping alice to bob\n"
		 "at 2s ping alice to 192.0.2.1 count 2 interval 200ms size 100 ttl 3\n"
		 "at 3s traceroute alice to c max-hops 5\n"
		 "at 4s raw icmp bob to home type port-unreachable about home:40000 to bob:9\n"
		 "at 5s raw icmp bob to alice type echo-request id 7 seq 9 ttl 9 checksum bad\n",
		 world);
	s = parse_ok(text);
	a = &s->actions[0];
	assert_int_equal(a->kind, SCENARIO_ACT_PING);
	assert_string_equal(a->dst.node.name, "bob");
	assert_true(a->count == 4 && a->interval_ns == SEC(1) && a->size == 56 && a->ttl == 64);
	a = &s->actions[1];
	assert_int_equal(a->dst.ip, IP4(192, 0, 2, 1));
	assert_true(a->count == 2 && a->interval_ns == SEC(1) / 5 && a->size == 100 && a->ttl == 3);
	a = &s->actions[2];
	assert_int_equal(a->kind, SCENARIO_ACT_TRACEROUTE);
	assert_int_equal(a->max_hops, 5);
	a = &s->actions[3];
	assert_true(a->kind == SCENARIO_ACT_RAW && a->icmp && a->has_about);
	assert_true(a->icmp_type == 3 && a->icmp_code == 3);
	assert_string_equal(a->about_src.node.name, "home");
	assert_int_equal(a->about_dst.port, 9);
	a = &s->actions[4];
	assert_true(a->icmp_type == 8 && a->icmp_id == 7 && a->icmp_seq == 9 && a->ttl == 9);
	assert_true(a->bad_checksum && !a->has_about);
	assert_string_equal(scenario_action_kind_name(SCENARIO_ACT_TRACEROUTE), "traceroute");
	scenario_free(s);
}

static void test_expects(void **state)
{
	char text[1024];
	struct scenario *s;
	const struct scenario_expect *e;

	(void)state;
	snprintf(text, sizeof(text),
		 "%sexpect icmp echo-reply at alice from bob by 3s\n"
		 "expect no icmp echo-request at alice\n"
		 "expect icmp destination-unreachable at alice from 192.0.2.1\n"
		 "expect related at home\n"
		 "expect drop at home reason icmp-no-flow\n",
		 world);
	s = parse_ok(text);
	e = &s->expects[0];
	assert_int_equal(e->kind, SCENARIO_EXPECT_ICMP);
	assert_true(e->icmp_type == 0 && e->icmp_code == 0);
	assert_string_equal(e->icmp_name, "echo-reply");
	assert_string_equal(e->host.name, "alice");
	assert_true(e->has_from && strcmp(e->from.node.name, "bob") == 0);
	assert_int_equal(e->by_ns, SEC(3));
	assert_int_equal(s->expects[1].kind, SCENARIO_EXPECT_NO_ICMP);
	e = &s->expects[2];
	assert_true(e->icmp_type == 3 && e->icmp_code == -1);
	assert_int_equal(e->from.ip, IP4(192, 0, 2, 1));
	assert_int_equal(s->expects[3].kind, SCENARIO_EXPECT_RELATED);
	assert_string_equal(s->expects[3].node.name, "home");
	assert_string_equal(scenario_reason_name(s->expects[4].reason), "icmp-no-flow");
	assert_string_equal(scenario_expect_kind_name(SCENARIO_EXPECT_NO_ICMP), "no icmp");
	scenario_free(s);
}

/* Each refusal: the line after `world`, and the first diagnostic exactly. */
static const struct {
	const char *line, *want;
} refusals[] = {
    {"rule bob input drop state old\n",
     "t.nsim:5:27: error: expected a state: 'new', 'established', 'related' or 'invalid', "
     "found 'old'"},
    {"rule bob input drop type echo-request\n",
     "t.nsim:5:21: error: 'type' and 'code' match ICMP messages: write 'icmp' before them"},
    {"rule bob input drop icmp dport 9\n",
     "t.nsim:5:26: error: ICMP has no ports; match its 'type' and 'code' instead"},
    {"rule bob input drop udp icmp\n",
     "t.nsim:5:25: error: a rule matches one protocol: 'udp', 'tcp' or 'icmp'"},
    {"rule bob input drop with admin-prohibited\n",
     "t.nsim:5:21: error: 'with' says which ICMP error a 'reject' sends; this rule does not "
     "reject"},
    {"rule bob input drop icmp type 256\n",
     "t.nsim:5:31: error: an ICMP type '256' is out of range (0-255)"},
    {"rule bob input drop icmp type echo\n",
     "t.nsim:5:31: error: expected an ICMP type after 'type': a number 0-255 or one of "
     "echo-reply, echo-request, destination-unreachable, net-unreachable, host-unreachable, "
     "proto-unreachable, port-unreachable, net-prohibited, host-prohibited, admin-prohibited, "
     "time-exceeded, parameter-problem, found 'echo'"},
    {"rule bob input reject with admin-forbidden\n",
     "t.nsim:5:28: error: expected the error a reject sends after 'with' (one of "
     "port-unreachable, net-unreachable, host-unreachable, proto-unreachable, net-prohibited, "
     "host-prohibited, admin-prohibited, tcp-reset), found 'admin-forbidden'"},
    {"at 1s ping alice to bob:80\n",
     "t.nsim:5:21: error: ICMP has no ports: write the address or name alone"},
    {"at 1s ping alice to carol\n",
     "t.nsim:5:21: error: unknown node 'carol'; the nodes are alice, bob, c, home"},
    {"at 1s ping alice to bob count 0\n",
     "t.nsim:5:31: error: the number of pings after 'count' must be a whole number from 1 "
     "to 1000, found '0'"},
    {"at 1s ping alice to bob interval 1ms\n",
     "t.nsim:5:34: error: '1ms' is out of range: a ping interval is from 10ms to 1h"},
    {"at 1s traceroute alice to bob max-hops 65\n",
     "t.nsim:5:40: error: the number of hops after 'max-hops' must be a whole number from 1 "
     "to 64, found '65'"},
    {"at 1s raw icmp bob to alice code 3\n",
     "t.nsim:5:7: error: 'raw icmp' needs 'type T' (echo-request, port-unreachable, ... or a "
     "number)"},
    {"at 1s raw icmp bob to alice type echo-request about bob:1 to alice:2\n",
     "t.nsim:5:47: error: 'about' gives the packet an ICMP error quotes; this type is not an "
     "error"},
    {"expect icmp echo-reply at carol\n",
     "t.nsim:5:27: error: unknown host 'carol'; the hosts are alice, bob"},
    {"expect icmp echo-reply at alice from bob:5000\n",
     "t.nsim:5:38: error: ICMP has no ports: write the address or name alone"},
    {"expect related at carol\n",
     "t.nsim:5:19: error: unknown node 'carol'; the nodes are alice, bob, c, home"},
    {"nat n preset full-cone icmp-inner maybe public 2.2.2.2\n",
     "t.nsim:5:35: error: expected 'on' or 'off', found 'maybe'"},
};

static void test_refusals(void **state)
{
	char text[1024], got[512];
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct diag *d = diag_new();
		struct scenario *s;
		const struct diagnostic *dg;

		snprintf(text, sizeof(text), "%s%s", world, refusals[i].line);
		s = scenario_parse(text, strlen(text), "t.nsim", d);
		assert_null(s);
		dg = diag_get(d, 0);
		snprintf(got, sizeof(got), "%s:%d:%d: error: %s", dg->file, dg->line, dg->col,
			 dg->message);
		if (strcmp(got, refusals[i].want) != 0) {
			print_message("line: %s  want: %s\n  got: %s\n", refusals[i].line,
				      refusals[i].want, got);
			failed++;
		}
		diag_free(d);
	}
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules),    cmocka_unit_test(test_nat_options),
	    cmocka_unit_test(test_actions),  cmocka_unit_test(test_expects),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
