/*
 * test_scenario_tcp.c - the TCP parts of the scenario language: TCP
 * forwards, rules that match TCP and its flags (iptables' --syn and
 * --tcp-flags), the NAT's RFC 5382 options (also under --set), raw TCP
 * segments, the netcat-like server and client, and the tcp, socket and
 * conntrack expectations; every refusal names the file, line and column and
 * says what was expected.
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
#include "model/packet.h"
#include "sim/verdict.h"

#define SEC(n) ((int64_t)(n)*1000000000)

static const char world[] = "nat home preset full-cone public 203.0.113.5\n"
			    "host alice at 10.0.0.7 behind home\n"
			    "host web at 10.0.0.80 behind home\n"
			    "host bob at 198.51.100.9 public\n";

static struct scenario *parse_world(const char *more)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", world, more);
	return parse_ok(text);
}

static void test_forwards(void **state)
{
	struct scenario *s;

	(void)state;
	/* One port may be forwarded once per protocol: UDP 80 and TCP 80 are
	 * two forwards, as two iptables DNAT rules with -p udp and -p tcp. */
	s = parse_world("forward home tcp 80 to web\n"
			"forward home udp 80 to web:8080\n"
			"forward home tcp 2222 to web:22\n");
	assert_int_equal(s->n_forwards, 3);
	assert_int_equal(s->forwards[0].proto, 6);
	assert_int_equal(s->forwards[0].host_port, 80);
	assert_int_equal(s->forwards[1].proto, 17);
	assert_int_equal(s->forwards[2].port, 2222);
	assert_int_equal(s->forwards[2].host_port, 22);
	scenario_free(s);
}

static void test_rules(void **state)
{
	struct scenario *s;
	const struct scenario_rule *r;

	(void)state;
	s = parse_world("rule home forward accept tcp flags syn dport 80\n"
			"rule home forward drop tcp flags syn,ack / syn,ack\n"
			"rule home forward drop tcp flags FIN,SYN,RST,ACK/RST\n"
			"rule home forward drop tcp flags all / none\n"
			"rule bob input accept tcp sport 1000-2000\n"
			"rule bob input reject with tcp-reset tcp dport 23\n"
			"rule bob input reject with tcp-rst tcp dport 24\n"
			"rule bob input reject with port-unreachable tcp dport 25\n");
	assert_int_equal(s->n_rules, 8);
	r = &s->rules[0];
	assert_int_equal(r->proto, 6);
	/* --syn: of FIN, SYN, RST and ACK only SYN (xt_tcpudp's "--syn") */
	assert_int_equal(r->tcp_flags_mask, TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK);
	assert_int_equal(r->tcp_flags_match, TCP_SYN);
	assert_true(r->has_dport && r->dport_lo == 80 && r->dport_hi == 80);
	r = &s->rules[1];
	assert_int_equal(r->tcp_flags_mask, TCP_SYN | TCP_ACK);
	assert_int_equal(r->tcp_flags_match, TCP_SYN | TCP_ACK);
	r = &s->rules[2];
	assert_int_equal(r->tcp_flags_mask, TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK);
	assert_int_equal(r->tcp_flags_match, TCP_RST);
	r = &s->rules[3];
	assert_int_equal(r->tcp_flags_mask, 0xff);
	assert_int_equal(r->tcp_flags_match, 0);
	assert_int_equal(s->rules[4].tcp_flags_mask, 0); /* any flags */
	assert_int_equal(s->rules[4].sport_hi, 2000);
	/* iptables' --reject-with tcp-reset, and its alias tcp-rst */
	assert_int_equal(s->rules[5].reject_with, FW_REJECT_TCP_RESET);
	assert_true(s->rules[5].reject_tcp_reset);
	assert_int_equal(s->rules[6].reject_with, FW_REJECT_TCP_RESET);
	assert_true(s->rules[6].reject_tcp_reset);
	assert_false(s->rules[7].reject_tcp_reset);
	scenario_free(s);
}

static void test_nat_options(void **state)
{
	struct scenario *s;
	struct diag *d = diag_new();
	const struct scenario_nat *n;

	(void)state;
	s = parse_world("nat strict preset symmetric tcp-established-timeout 124min "
			"tcp-transitory-timeout 10s tcp-unsolicited rst public 192.0.2.77\n");
	n = scenario_find_nat(s, "strict");
	assert_int_equal(n->tcp_established_timeout_ns, SEC(7440));
	assert_int_equal(n->tcp_transitory_timeout_ns, SEC(10));
	assert_int_equal(n->tcp_unsolicited, 1); /* NAT_TCP_SYN_RST */
	n = scenario_find_nat(s, "home");
	assert_int_equal(n->tcp_established_timeout_ns, SCENARIO_UNSET);
	assert_int_equal(n->tcp_unsolicited, SCENARIO_UNSET);
	/* The same settings from the command line. */
	assert_int_equal(scenario_set_override(s, "home.tcp-unsolicited=icmp", d), 0);
	assert_int_equal(scenario_set_override(s, "home.tcp-transitory-timeout=4min", d), 0);
	assert_int_equal(scenario_set_override(s, "home.tcp-established-timeout=121h", d), -1);
	assert_int_equal(scenario_set_override(s, "home.tcp-established-timeout=120h", d), 0);
	n = scenario_find_nat(s, "home");
	assert_int_equal(n->tcp_unsolicited, 2);
	assert_int_equal(n->tcp_transitory_timeout_ns, SEC(240));
	assert_int_equal(n->tcp_established_timeout_ns, SEC(120 * 3600));
	assert_int_equal(scenario_set_override(s, "home.tcp-unsolicited=reset", d), -1);
	assert_string_equal(diag_get(d, 1)->message,
			    "--set 'home.tcp-unsolicited=reset': expected 'drop', 'rst' or 'icmp', "
			    "found 'reset'; did you mean 'rst'?");
	diag_free(d);
	scenario_free(s);
}

static void test_raw_tcp(void **state)
{
	struct scenario *s;
	const struct scenario_action *a;

	(void)state;
	s = parse_world(
	    "at 1s raw tcp bob to home:80 flags syn\n"
	    "at 2s raw bob tcp to 203.0.113.5:80 from port 4000 flags syn,ack seq 7 ack "
	    "4294967295 window 0 payload 10\n");
	assert_int_equal(s->n_actions, 2);
	a = &s->actions[0];
	assert_int_equal(a->kind, SCENARIO_ACT_RAW);
	assert_true(a->tcp && !a->icmp);
	assert_int_equal(a->tcp_flags, TCP_SYN);
	assert_int_equal(a->src_port, 32768); /* Linux's first ephemeral port */
	assert_int_equal(a->tcp_window, 64240);
	assert_string_equal(a->dst.node.name, "home");
	assert_int_equal(a->dst.port, 80);
	a = &s->actions[1];
	assert_string_equal(a->host.name, "bob");
	assert_int_equal(a->tcp_flags, TCP_SYN | TCP_ACK);
	assert_int_equal(a->src_port, 4000);
	assert_int_equal(a->tcp_seq, 7);
	assert_int_equal(a->tcp_ack, 4294967295u);
	assert_int_equal(a->tcp_window, 0);
	assert_int_equal(a->payload_len, 10);
	scenario_free(s);
}

static void test_programs(void **state)
{
	struct scenario *s;
	const struct scenario_action *a;

	(void)state;
	s = parse_world("at 1s tcp alice to bob:80 from port 40000 send 1000 bytes close\n"
			"serve bob tcp 80 echo\n"
			"at 2s serve web tcp 22\n"
			"serve alice tcp 13 daytime\n"
			"at 3s tcp bob to home:80\n");
	assert_int_equal(s->n_actions, 5);
	assert_int_equal(s->actions[1].serve_mode, SCENARIO_SERVE_DAYTIME);
	a = &s->actions[0]; /* `serve` as a statement runs from 0 s */
	assert_int_equal(a->kind, SCENARIO_ACT_SERVE);
	assert_int_equal(a->at_ns, 0);
	assert_int_equal(a->src_port, 80);
	assert_int_equal(a->serve_mode, SCENARIO_SERVE_ECHO);
	a = &s->actions[2];
	assert_int_equal(a->kind, SCENARIO_ACT_TCP);
	assert_int_equal(a->src_port, 40000);
	assert_int_equal(a->send_bytes, 1000);
	assert_true(a->close);
	assert_int_equal(a->dst.port, 80);
	a = &s->actions[3];
	assert_int_equal(a->serve_mode, SCENARIO_SERVE_DISCARD);
	a = &s->actions[4];
	assert_int_equal(a->src_port, 0);
	assert_int_equal(a->send_bytes, 0);
	assert_false(a->close);
	assert_string_equal(scenario_action_kind_name(SCENARIO_ACT_SERVE), "serve");
	scenario_free(s);
}

static void test_expects(void **state)
{
	struct scenario *s;
	const struct scenario_expect *e;

	(void)state;
	s = parse_world("expect tcp connected alice to bob:80 by 2s\n"
			"expect tcp refused bob to home:81\n"
			"expect tcp timeout bob to 203.0.113.5\n"
			"expect tcp reset alice to bob:80\n"
			"expect socket alice time-wait port 40000 by 10s\n"
			"expect no socket alice TIME_WAIT by 70s\n"
			"expect socket bob any\n"
			"expect conntrack at home tcp established by 2s\n"
			"expect no conntrack at home tcp by 30s\n"
			"expect conntrack at home tcp SYN_SENT2\n"
			"expect drop at home reason ct-invalid\n");
	assert_int_equal(s->n_expects, 11);
	e = &s->expects[0];
	assert_int_equal(e->kind, SCENARIO_EXPECT_TCP);
	assert_int_equal(e->tcp_outcome, SCENARIO_TCP_CONNECTED);
	assert_string_equal(e->host.name, "alice");
	assert_true(e->has_to && strcmp(e->to.node.name, "bob") == 0 && e->to.port == 80);
	assert_int_equal(e->by_ns, SEC(2));
	assert_int_equal(s->expects[1].tcp_outcome, SCENARIO_TCP_REFUSED);
	e = &s->expects[2];
	assert_int_equal(e->tcp_outcome, SCENARIO_TCP_TIMEOUT);
	assert_int_equal(e->to.ip, IP4(203, 0, 113, 5));
	assert_int_equal(e->to.port, SCENARIO_UNSET);
	assert_int_equal(s->expects[3].tcp_outcome, SCENARIO_TCP_RESET);
	e = &s->expects[4];
	assert_int_equal(e->kind, SCENARIO_EXPECT_SOCKET);
	assert_string_equal(scenario_tcp_state_name(e->tcp_state), "time-wait");
	assert_int_equal(e->port, 40000);
	e = &s->expects[5];
	assert_int_equal(e->kind, SCENARIO_EXPECT_NO_SOCKET);
	assert_string_equal(scenario_tcp_state_name(e->tcp_state), "time-wait");
	assert_int_equal(e->port, SCENARIO_UNSET);
	assert_int_equal(s->expects[6].tcp_state, -1);
	e = &s->expects[7];
	assert_int_equal(e->kind, SCENARIO_EXPECT_CONNTRACK);
	assert_string_equal(scenario_ct_state_name(e->ct_state), "established");
	assert_int_equal(s->expects[8].kind, SCENARIO_EXPECT_NO_CONNTRACK);
	assert_int_equal(s->expects[8].ct_state, -1);
	assert_string_equal(scenario_ct_state_name(s->expects[9].ct_state), "syn-sent2");
	assert_string_equal(scenario_reason_name(s->expects[10].reason), "ct-invalid");
	assert_string_equal(scenario_tcp_outcome_name(SCENARIO_TCP_TIMEOUT), "timeout");
	assert_string_equal(scenario_expect_kind_name(SCENARIO_EXPECT_NO_CONNTRACK),
			    "no conntrack");
	scenario_free(s);
}

/* Each refusal: the line after `world`, and the first diagnostic exactly. */
static const struct {
	const char *line, *want;
} refusals[] = {
    {"forward home sctp 80 to web\n",
     "t.nsim:5:14: error: expected 'udp' or 'tcp' after the NAT's name, found 'sctp'; did you "
     "mean 'tcp'?"},
    {"forward home tcp 80 to web\nforward home tcp 80 to web:81\n",
     "t.nsim:6:18: error: TCP port 80 of 'home' is already forwarded"},
    {"rule bob input drop flags syn\n",
     "t.nsim:5:21: error: 'flags' match TCP segments: write 'tcp' before them"},
    {"rule bob input drop tcp flags rst\n",
     "t.nsim:5:31: error: 'flags' takes 'syn' (a connection's first segment, iptables' --syn) "
     "or MASK / SET, e.g. 'flags syn,ack / syn,ack' (of SYN and ACK both are set)"},
    {"rule bob input drop tcp flags syn / syn,ack\n",
     "t.nsim:5:31: error: every flag after '/' must be among those examined before it, or the "
     "rule never matches"},
    {"rule bob input drop tcp flags syn/ack/rst\n",
     "t.nsim:5:38: error: only one '/' splits the flags examined from those that must be set"},
    {"rule bob input drop tcp flags syn,fyn / syn\n",
     "t.nsim:5:35: error: expected a TCP flag (fin, syn, rst, psh, ack, urg, ece, cwr, all or "
     "none), found 'fyn'"},
    {"rule bob input drop tcp flags none / none\n",
     "t.nsim:5:31: error: the flags before '/' say which are examined; name at least one"},
    {"rule bob input reject with tcp-reset udp\n",
     "t.nsim:5:23: error: a TCP reset answers TCP segments: write 'tcp' in this rule"},
    {"rule bob input reject with tcp-reset\n",
     "t.nsim:5:23: error: a TCP reset answers TCP segments: write 'tcp' in this rule"},
    {"rule bob input drop tcp udp\n",
     "t.nsim:5:25: error: a rule matches one protocol: 'udp', 'tcp' or 'icmp'"},
    {"nat n preset full-cone tcp-unsolicited reject public 2.2.2.2\n",
     "t.nsim:5:40: error: expected 'drop', 'rst' or 'icmp', found 'reject'"},
    {"nat n preset full-cone tcp-transitory-timeout 500ms public 2.2.2.2\n",
     "t.nsim:5:47: error: '500ms' is out of range: a TCP timeout is from 1s to 120h"},
    {"at 1s raw tcp bob to home:80\n",
     "t.nsim:5:7: error: 'raw tcp' needs 'flags F' (syn, syn,ack, rst, ack, ...): a segment "
     "always says which flags it carries"},
    {"at 1s raw tcp bob to home flags syn\n",
     "t.nsim:5:22: error: expected an endpoint like 192.0.2.1:3478 or alice:5000, found 'home' "
     "(the port is missing)"},
    {"at 1s raw tcp bob to home:80 flags syn/ack\n",
     "t.nsim:5:39: error: a segment's flags are a list like syn,ack (no '/')"},
    {"at 1s raw tcp bob to home:80 flags syn seq 4294967296\n",
     "t.nsim:5:44: error: a sequence number '4294967296' is out of range (0-4294967295)"},
    {"at 1s tcp alice to bob:0\n",
     "t.nsim:5:20: error: port 0 cannot be connected to; a server listens on a port 1-65535"},
    {"at 1s tcp alice to bob:80 send 10\n",
     "t.nsim:5:34: error: expected 'bytes' after the number, but the line ends here"},
    {"at 1s tcp alice to bob:80 send 300000 bytes\n",
     "t.nsim:5:32: error: the number of bytes after 'send' must be a whole number from 1 to "
     "262144, found '300000'"},
    {"at 1s tcp alice to bob:80 from 4000\n",
     "t.nsim:5:32: error: expected 'port' after 'from', found '4000'"},
    {"at 1s tcp alice to carol:80\n",
     "t.nsim:5:20: error: unknown node 'carol'; the nodes are alice, bob, home, web"},
    {"serve bob udp 80\n", "t.nsim:5:11: error: expected 'tcp' after the host name, found 'udp'"},
    {"serve bob tcp 0\n",
     "t.nsim:5:15: error: port 0 cannot be a server's port: it means 'any free port'; a "
     "server's port is 1-65535"},
    {"serve bob tcp 80 chargen\n",
     "t.nsim:5:18: error: expected 'echo', 'discard' or 'daytime', found 'chargen'"},
    {"expect tcp accepted alice to bob:80\n",
     "t.nsim:5:12: error: expected 'connected', 'refused', 'timeout', 'reset' or 'unreachable', "
     "found "
     "'accepted'"},
    {"expect socket alice time_wiat\n",
     "t.nsim:5:21: error: expected a socket state (listen, syn-sent, syn-received, "
     "established, fin-wait-1, fin-wait-2, close-wait, closing, last-ack, time-wait or any), "
     "found 'time_wiat'; did you mean 'time-wait'?"},
    {"expect conntrack at home udp\n",
     "t.nsim:5:26: error: expected 'tcp' after the node name, found 'udp'"},
    {"expect conntrack at home tcp syn-received\n",
     "t.nsim:5:30: error: expected a conntrack TCP state (syn-sent, syn-recv, established, "
     "fin-wait, close-wait, last-ack, time-wait, close, syn-sent2 or any), found "
     "'syn-received'"},
    {"expect socket alice closed\n",
     "t.nsim:5:21: error: a closed socket is no longer there to find: write 'expect no socket "
     "alice [port P]'"},
    {"expect socket carol listen\n",
     "t.nsim:5:15: error: unknown host 'carol'; the hosts are alice, bob, web"},
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
	    cmocka_unit_test(test_forwards),	cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_nat_options), cmocka_unit_test(test_raw_tcp),
	    cmocka_unit_test(test_programs),	cmocka_unit_test(test_expects),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
