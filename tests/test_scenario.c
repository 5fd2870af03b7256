/*
 * test_scenario.c - the scenario language: every statement form, every error
 * class (exact first message, line and column), one pass for many errors,
 * action sorting, durations, --set overrides, and a mutation fuzz.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support_lang.h"

#include "app/lang/scenario.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define MS(x) ((int64_t)(x)*1000000)
#define SEC(x) ((int64_t)(x)*1000000000)

/* The classic example of docs/scenario.md. */
static const char classic[] =
    "# Two laptops, each behind a home NAT, meet through a coordinator.\n"
    "title \"Two laptops behind home NATs\"\n"
    "description \"Alice and Bob are each behind a port-restricted cone NAT.\"\n"
    "description \"They register, then punch a hole to each other.\"\n"
    "seed 42\n"
    "\n"
    "internet latency 20ms jitter 2ms loss 0%\n"
    "coordinator coord at 192.0.2.1 alternate 192.0.2.2\n"
    "\n"
    "nat home-a preset port-restricted-cone public 203.0.113.1\n"
    "nat home-b preset port-restricted-cone public 198.51.100.1\n"
    "host alice at 192.168.1.10 behind home-a\n"
    "host bob at 192.168.1.10 behind home-b   # same private address: fine\n"
    "\n"
    "at 0s register alice\n"
    "at 0s register bob\n"
    "at 1s connect alice to bob\n"
    "at 3s send alice to bob \"hello, Bob\"\n"
    "\n"
    "expect alice and bob direct by 3s\n"
    "expect data at bob from alice \"hello, Bob\" by 4s\n";

/* The first diagnostic's header line, "t.nsim:L:C: error: ...". */
static void header_of(const struct diagnostic *dg, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d:%d: %s: %s", dg->file ? dg->file : "", dg->line, dg->col,
		 dg->severity == DIAG_ERROR  ? "error"
		 : dg->severity == DIAG_NOTE ? "note"
					     : "warning",
		 dg->message);
}

/* Parse must fail, and the first diagnostic must read `want` exactly.
 * Prints the difference and returns false otherwise. */
static bool expect_error(const char *text, const char *want)
{
	struct diag *d = diag_new();
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	char got[1200] = "(parsed without error)";

	assert_true(s == NULL || diag_count_errors(d) == 0);
	if (!s) {
		assert_true(diag_count_errors(d) >= 1);
		header_of(diag_get(d, 0), got, sizeof(got));
	}
	bool ok = strcmp(got, want) == 0;
	if (!ok)
		fprintf(stderr, "input: %s\nwant: %s\ngot:  %s\n\n", text, want, got);
	scenario_free(s);
	diag_free(d);
	return ok;
}

/* The classic file: its header (title, description, seed, internet). */
static void classic_header(const struct scenario *s)
{
	assert_string_equal(s->filename, "t.nsim");
	assert_string_equal(s->title, "Two laptops behind home NATs");
	assert_string_equal(s->description,
			    "Alice and Bob are each behind a port-restricted cone NAT.\n"
			    "They register, then punch a hole to each other.");
	assert_true(s->has_seed);
	assert_int_equal(s->seed, 42);
	assert_true(s->internet.present);
	assert_int_equal(s->internet.latency_ns, MS(20));
	assert_int_equal(s->internet.jitter_ns, MS(2));
	assert_true(s->internet.loss == 0.0);
}

/* Its coordinator, NATs and hosts. */
static void classic_nodes(const struct scenario *s)
{
	const struct scenario_coordinator *c = s->coordinator;
	assert_non_null(c);
	assert_string_equal(c->name, "coord");
	assert_int_equal(c->ip, IP(192, 0, 2, 1));
	assert_int_equal(c->port, 3478);
	assert_true(c->has_alternate);
	assert_int_equal(c->alt_ip, IP(192, 0, 2, 2));
	assert_int_equal(c->alt_port, 3479);
	assert_true(c->relay);
	assert_int_equal(c->loc.line, 8);

	assert_int_equal(s->n_nats, 2);
	const struct scenario_nat *n = &s->nats[0];
	assert_string_equal(n->name, "home-a");
	assert_string_equal(n->preset, "port-restricted-cone");
	assert_false(n->has_mapping);
	assert_false(n->has_filtering);
	assert_false(n->has_ports);
	assert_false(n->has_range);
	assert_int_equal(n->timeout_ns, SCENARIO_UNSET);
	assert_int_equal(n->hairpinning, SCENARIO_UNSET);
	assert_int_equal(n->inbound_refresh, SCENARIO_UNSET);
	assert_int_equal(n->n_public, 1);
	assert_int_equal(n->public_ip[0], IP(203, 0, 113, 1));
	assert_null(n->behind.name);
	assert_int_equal(n->loc.line, 10);
	assert_int_equal(n->name_loc.col, 5);
	assert_int_equal(n->name_loc.len, 6);
	assert_ptr_equal(scenario_find_nat(s, "home-b"), &s->nats[1]);
	assert_null(scenario_find_nat(s, "alice"));

	assert_int_equal(s->n_hosts, 2);
	const struct scenario_host *h = scenario_find_host(s, "bob");
	assert_ptr_equal(h, &s->hosts[1]);
	assert_int_equal(h->ip, IP(192, 168, 1, 10));
	assert_false(h->is_public);
	assert_string_equal(h->behind.name, "home-b");
	assert_int_equal(h->behind.loc.line, 13);
	assert_int_equal(h->behind.loc.col, 33);
	assert_int_equal(h->firewall, SCENARIO_UNSET);
	assert_int_equal(h->keepalive_ns, SCENARIO_UNSET);
	assert_int_equal(h->port, SCENARIO_UNSET);
	assert_int_equal(h->host_candidates, SCENARIO_UNSET);
}

/* Its actions, expectations and source lines. */
static void classic_timeline(const struct scenario *s)
{
	assert_int_equal(s->n_actions, 4);
	assert_int_equal(s->actions[0].kind, SCENARIO_ACT_REGISTER);
	assert_string_equal(s->actions[0].host.name, "alice");
	assert_int_equal(s->actions[0].at_ns, 0);
	assert_int_equal(s->actions[0].loc.line, 15);
	assert_int_equal(s->actions[2].kind, SCENARIO_ACT_CONNECT);
	assert_string_equal(s->actions[2].peer.name, "bob");
	assert_int_equal(s->actions[2].at_ns, SEC(1));
	assert_int_equal(s->actions[3].kind, SCENARIO_ACT_SEND);
	assert_string_equal(s->actions[3].text, "hello, Bob");
	assert_int_equal(s->actions[3].text_len, 10);

	assert_int_equal(s->n_expects, 2);
	const struct scenario_expect *e = &s->expects[0];
	assert_int_equal(e->kind, SCENARIO_EXPECT_PATH);
	assert_string_equal(e->host.name, "alice");
	assert_string_equal(e->peer.name, "bob");
	assert_int_equal(e->path, SCENARIO_PATH_DIRECT);
	assert_int_equal(e->by_ns, SEC(3));
	assert_int_equal(e->loc.line, 20);
	e = &s->expects[1];
	assert_int_equal(e->kind, SCENARIO_EXPECT_DATA);
	assert_string_equal(e->host.name, "bob");
	assert_string_equal(e->peer.name, "alice");
	assert_string_equal(e->text, "hello, Bob");
	assert_int_equal(e->by_ns, SEC(4));

	size_t len;
	const char *line = scenario_source_line(s, 12, &len);
	assert_non_null(line);
	assert_int_equal(len, strlen("host alice at 192.168.1.10 behind home-a"));
	assert_memory_equal(line, "host alice at", 13);
	assert_null(scenario_source_line(s, 0, &len));
	assert_null(scenario_source_line(s, 1000, &len));
}

static void test_classic(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(classic);
	classic_header(s);
	classic_nodes(s);
	classic_timeline(s);
	scenario_free(s);
}

static const char world[] =
    "coordinator c at 192.0.2.1 port 4000 alternate 192.0.2.9 port 5000 relay off\n"
    "internet loss 0.5%\n"
    "nat isp mapping EIM filtering address-dependent ports sequential range 1024-2047 "
    "timeout 2min hairpinning on inbound-refresh off public 100.64.0.1, 100.64.0.2,100.64.0.3\n"
    "nat home preset symmetric filtering EI public 10.0.0.2 behind isp\n"
    "nat lab mapping apd filtering APDF ports random public 198.51.100.7\n"
    "host alice at 192.168.0.2 behind home firewall on keepalive 25s port 5000 "
    "host-candidates off\n"
    "host web at 203.0.113.80 public keepalive off\n"
    "host srv at 10.1.0.5 behind lab\n"
    "link alice latency 5ms jitter 1ms loss 1.5%\n"
    "link home loss 100%\n"
    "forward lab udp 8000 to srv\n"
    "forward lab udp 8001 to srv:9001\n"
    "rule alice input accept udp from 10.0.0.0/8 to 192.168.0.2 sport 1000-2000 dport 53 "
    "state new,established\n"
    "rule home forward reject\n"
    "policy alice input drop\n"
    "policy home forward accept\n";

/* The hosts of the world above, with their options. */
static void world_hosts_read(const struct scenario *s)
{
	const struct scenario_host *alice = scenario_find_host(s, "alice");
	assert_int_equal(alice->firewall, 1);
	assert_int_equal(alice->keepalive_ns, SEC(25));
	assert_int_equal(alice->port, 5000);
	assert_int_equal(alice->host_candidates, 0);
	const struct scenario_host *web = scenario_find_host(s, "web");
	assert_true(web->is_public);
	assert_int_equal(web->keepalive_ns, 0);

	assert_int_equal(s->n_links, 2);
	assert_string_equal(s->links[0].node.name, "alice");
	assert_int_equal(s->links[0].latency_ns, MS(5));
	assert_int_equal(s->links[0].jitter_ns, MS(1));
	assert_true(s->links[0].loss > 0.01499 && s->links[0].loss < 0.01501);
	assert_int_equal(s->links[1].latency_ns, SCENARIO_UNSET);
	assert_true(s->links[1].loss == 1.0);

	assert_int_equal(s->n_forwards, 2);
	assert_string_equal(s->forwards[0].nat.name, "lab");
	assert_int_equal(s->forwards[0].proto, 17);
	assert_int_equal(s->forwards[0].port, 8000);
	assert_string_equal(s->forwards[0].host.name, "srv");
	assert_int_equal(s->forwards[0].host_port, 8000);
	assert_int_equal(s->forwards[1].host_port, 9001);

	assert_int_equal(s->n_rules, 2);
	const struct scenario_rule *r = &s->rules[0];
	assert_int_equal(r->chain, SCENARIO_CHAIN_INPUT);
	assert_int_equal(r->verdict, SCENARIO_ACCEPT);
	assert_int_equal(r->proto, 17);
	assert_true(r->has_src && r->src == IP(10, 0, 0, 0) && r->src_len == 8);
	assert_true(r->has_dst && r->dst == IP(192, 168, 0, 2) && r->dst_len == 32);
	assert_true(r->has_sport && r->sport_lo == 1000 && r->sport_hi == 2000);
	assert_true(r->has_dport && r->dport_lo == 53 && r->dport_hi == 53);
	assert_int_equal(r->states, SCENARIO_STATE_NEW | SCENARIO_STATE_ESTABLISHED);
	r = &s->rules[1];
	assert_int_equal(r->chain, SCENARIO_CHAIN_FORWARD);
	assert_int_equal(r->verdict, SCENARIO_REJECT);
	assert_int_equal(r->proto, 0);
	assert_false(r->has_src || r->has_dst || r->has_sport || r->has_dport);
	assert_int_equal(r->states, 0);

	assert_int_equal(s->n_policies, 2);
	assert_int_equal(s->policies[0].verdict, SCENARIO_DROP);
	assert_int_equal(s->policies[1].chain, SCENARIO_CHAIN_FORWARD);
	assert_int_equal(s->policies[1].verdict, SCENARIO_ACCEPT);
}

static void test_world_forms(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(world);
	const struct scenario_coordinator *c = s->coordinator;

	assert_int_equal(c->port, 4000);
	assert_int_equal(c->alt_ip, IP(192, 0, 2, 9));
	assert_int_equal(c->alt_port, 5000);
	assert_false(c->relay);
	assert_true(s->internet.present);
	assert_int_equal(s->internet.latency_ns, SCENARIO_UNSET);
	assert_int_equal(s->internet.jitter_ns, SCENARIO_UNSET);
	assert_true(s->internet.loss > 0.00499 && s->internet.loss < 0.00501);
	assert_false(s->has_seed);
	assert_null(s->title);
	assert_null(s->description);

	const struct scenario_nat *isp = scenario_find_nat(s, "isp");
	assert_null(isp->preset);
	assert_true(isp->has_mapping && isp->mapping == SCENARIO_EI);
	assert_true(isp->has_filtering && isp->filtering == SCENARIO_AD);
	assert_true(isp->has_ports && isp->ports == SCENARIO_PORTS_SEQUENTIAL);
	assert_true(isp->has_range);
	assert_int_equal(isp->port_lo, 1024);
	assert_int_equal(isp->port_hi, 2047);
	assert_int_equal(isp->timeout_ns, SEC(120));
	assert_int_equal(isp->hairpinning, 1);
	assert_int_equal(isp->inbound_refresh, 0);
	assert_int_equal(isp->n_public, 3);
	assert_int_equal(isp->public_ip[2], IP(100, 64, 0, 3));

	const struct scenario_nat *home = scenario_find_nat(s, "home");
	assert_string_equal(home->preset, "symmetric");
	assert_false(home->has_mapping);
	assert_true(home->has_filtering && home->filtering == SCENARIO_EI);
	assert_string_equal(home->behind.name, "isp");
	const struct scenario_nat *lab = scenario_find_nat(s, "lab");
	assert_int_equal(lab->mapping, SCENARIO_APD);
	assert_int_equal(lab->filtering, SCENARIO_APD);
	assert_int_equal(lab->ports, SCENARIO_PORTS_RANDOM);

	world_hosts_read(s);
	scenario_free(s);
}

static const char actions_text[] =
    "coordinator c at 192.0.2.1\n"
    "nat home preset full-cone public 203.0.113.1\n"
    "host a at 10.0.0.1 behind home\n"
    "host b at 198.51.100.2 public\n"
    "at 5s note \"say \\\"hi\\\"\\\\ \\nnow\"\n"
    "at 1.5s register a\n"
    "at 2s connect a to b\n"
    "at 2s send b to a \"x\"\n"
    "at 100ms classify a\n"
    "at 3s keepalive a 10s\n"
    "at 3s keepalive a off\n"
    "at 4s cut link a\n"
    "at 4500ms restore link home\n"
    "at 1min reboot home\n"
    "at 61s set home preset symmetric\n"
    "at 62s set home mapping EI filtering APD\n"
    "at 0s raw b from 4000 to home:5000 \"ping\"\n"
    "at 0s raw b from 4001 to 192.0.2.1:3478 \"\"\n"
    "expect a and b relayed\n"
    "expect drop at home reason nat-filter from b:4000 to 203.0.113.1:5000 by 1s\n"
    "expect drop at c from 1.2.3.4 to a\n"
    "expect no drop at a reason firewall by 2s\n"
    "expect mapping at home for a:5000 external-port 5000 by 3s\n"
    "expect mapping at home\n"
    "expect classify a as port-restricted-cone by 10s\n"
    "expect data at a \"x\"\n"
    "expect b and a unconnected\n";

/* The expectations of actions_text, each kind with its fields. */
static void expects_read(const struct scenario *s)
{
	assert_int_equal(s->n_expects, 9);
	const struct scenario_expect *e = &s->expects[0];
	assert_int_equal(e->path, SCENARIO_PATH_RELAYED);
	assert_int_equal(e->by_ns, SCENARIO_UNSET);
	e = &s->expects[1];
	assert_int_equal(e->kind, SCENARIO_EXPECT_DROP);
	assert_string_equal(e->node.name, "home");
	assert_int_equal(e->reason, 2); /* TRACE_DROP_NAT_FILTER */
	assert_string_equal(scenario_reason_name(e->reason), "nat-filter");
	assert_true(e->has_from && e->has_to);
	assert_string_equal(e->from.node.name, "b");
	assert_int_equal(e->from.port, 4000);
	assert_int_equal(e->to.ip, IP(203, 0, 113, 1));
	assert_int_equal(e->by_ns, SEC(1));
	e = &s->expects[2];
	assert_int_equal(e->reason, SCENARIO_REASON_ANY);
	assert_int_equal(e->from.port, SCENARIO_UNSET);
	assert_string_equal(e->to.node.name, "a");
	e = &s->expects[3];
	assert_int_equal(e->kind, SCENARIO_EXPECT_NO_DROP);
	assert_int_equal(e->reason, 1); /* TRACE_DROP_FIREWALL */
	e = &s->expects[4];
	assert_int_equal(e->kind, SCENARIO_EXPECT_MAPPING);
	assert_string_equal(e->host.name, "a");
	assert_int_equal(e->host_port, 5000);
	assert_int_equal(e->external_port, 5000);
	e = &s->expects[5];
	assert_null(e->host.name);
	assert_int_equal(e->host_port, SCENARIO_UNSET);
	assert_int_equal(e->external_port, SCENARIO_UNSET);
	e = &s->expects[6];
	assert_int_equal(e->kind, SCENARIO_EXPECT_CLASSIFY);
	assert_int_equal(e->nat_class, SCENARIO_CLASS_PORT_RESTRICTED_CONE);
	assert_string_equal(e->class_name, "port-restricted-cone");
	e = &s->expects[7];
	assert_int_equal(e->kind, SCENARIO_EXPECT_DATA);
	assert_null(e->peer.name);
	assert_string_equal(e->text, "x");
	assert_int_equal(s->expects[8].path, SCENARIO_PATH_UNCONNECTED);
	assert_string_equal(scenario_expect_kind_name(SCENARIO_EXPECT_NO_DROP), "no drop");
}

static void test_actions_and_expects(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(actions_text);
	/* Sorted by time; equal times keep file order. */
	static const struct {
		int64_t at;
		enum scenario_action_kind kind;
		int line;
	} want[] = {
	    {0, SCENARIO_ACT_RAW, 17},
	    {0, SCENARIO_ACT_RAW, 18},
	    {MS(100), SCENARIO_ACT_CLASSIFY, 9},
	    {MS(1500), SCENARIO_ACT_REGISTER, 6},
	    {SEC(2), SCENARIO_ACT_CONNECT, 7},
	    {SEC(2), SCENARIO_ACT_SEND, 8},
	    {SEC(3), SCENARIO_ACT_KEEPALIVE, 10},
	    {SEC(3), SCENARIO_ACT_KEEPALIVE, 11},
	    {SEC(4), SCENARIO_ACT_CUT_LINK, 12},
	    {MS(4500), SCENARIO_ACT_RESTORE_LINK, 13},
	    {SEC(5), SCENARIO_ACT_NOTE, 5},
	    {SEC(60), SCENARIO_ACT_REBOOT, 14},
	    {SEC(61), SCENARIO_ACT_SET, 15},
	    {SEC(62), SCENARIO_ACT_SET, 16},
	};
	assert_int_equal(s->n_actions, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < s->n_actions; i++) {
		assert_int_equal(s->actions[i].at_ns, want[i].at);
		assert_int_equal(s->actions[i].kind, want[i].kind);
		assert_int_equal(s->actions[i].loc.line, want[i].line);
	}
	const struct scenario_action *a = &s->actions[0];
	assert_string_equal(a->host.name, "b");
	assert_int_equal(a->src_port, 4000);
	assert_string_equal(a->dst.node.name, "home");
	assert_int_equal(a->dst.port, 5000);
	assert_string_equal(a->text, "ping");
	a = &s->actions[1];
	assert_null(a->dst.node.name);
	assert_int_equal(a->dst.ip, IP(192, 0, 2, 1));
	assert_int_equal(a->dst.port, 3478);
	assert_int_equal(a->text_len, 0);
	assert_int_equal(s->actions[6].keepalive_ns, SEC(10));
	assert_int_equal(s->actions[7].keepalive_ns, 0);
	assert_string_equal(s->actions[8].target.name, "a");
	assert_string_equal(s->actions[9].target.name, "home");
	assert_string_equal(s->actions[10].text, "say \"hi\"\\ \nnow");
	assert_int_equal(s->actions[10].kind_loc.col, 7);
	assert_string_equal(s->actions[12].preset, "symmetric");
	assert_false(s->actions[12].has_mapping);
	assert_null(s->actions[13].preset);
	assert_true(s->actions[13].has_mapping && s->actions[13].mapping == SCENARIO_EI);
	assert_true(s->actions[13].has_filtering && s->actions[13].filtering == SCENARIO_APD);
	assert_string_equal(scenario_action_kind_name(s->actions[8].kind), "cut link");

	expects_read(s);
	scenario_free(s);
}

static void test_layout_tolerance(void **state)
{
	(void)state;
	/* CRLF, tabs, trailing comments, no final newline, empty file. */
	struct scenario *s = parse_ok("title \"a # not a comment\"\r\n"
				      "\t# only a comment\r\n"
				      "   \r\n"
				      "host\tx  at 1.2.3.4\tpublic# comment\r\n"
				      "seed 18446744073709551615");
	assert_string_equal(s->title, "a # not a comment");
	assert_int_equal(s->hosts[0].ip, IP(1, 2, 3, 4));
	assert_int_equal(s->seed, UINT64_MAX);
	scenario_free(s);
	s = parse_ok("");
	assert_int_equal(s->n_hosts, 0);
	assert_null(s->coordinator);
	scenario_free(s);
	/* NULL file name. */
	struct diag *d = diag_new();
	assert_null(scenario_parse("x", 1, NULL, d));
	assert_string_equal(diag_get(d, 0)->file, "<input>");
	diag_free(d);
}

static void test_coordinator_is_a_node(void **state)
{
	(void)state;
	struct scenario *s = parse_ok("coordinator c at 192.0.2.1\n"
				      "link c latency 1ms\n"
				      "rule c input drop udp dport 9\n"
				      "policy c output accept\n"
				      "at 1s cut link c\n"
				      "expect no drop at c reason no-socket\n");
	assert_string_equal(s->links[0].node.name, "c");
	assert_string_equal(s->rules[0].node.name, "c");
	assert_string_equal(s->policies[0].node.name, "c");
	assert_string_equal(s->actions[0].target.name, "c");
	assert_int_equal(s->expects[0].reason, 12); /* TRACE_DROP_NO_SOCKET */
	scenario_free(s);
}

/* The scenario shipped in the repository parses cleanly. */
static void test_repository_classic(void **state)
{
	(void)state;
#ifdef NATSIM_SOURCE_SCENARIOS
	struct diag *d = diag_new();
	struct scenario *s = scenario_load(NATSIM_SOURCE_SCENARIOS "/classic.nsim", d);

	if (!s)
		diag_print(d, stderr, false);
	assert_non_null(s);
	assert_int_equal(diag_count(d), 0);
	assert_non_null(s->coordinator);
	assert_true(s->n_expects > 0);
	scenario_free(s);
	diag_free(d);
#else
	skip();
#endif
}

static void test_warning_does_not_fail(void **state)
{
	(void)state;
	const char text[] = "host a at 10.0.0.1 public\nrule a input drop from 10.1.2.3/16\n";
	struct diag *d = diag_new();
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	char got[400];

	assert_non_null(s);
	assert_int_equal(diag_count_errors(d), 0);
	assert_int_equal(diag_count_warnings(d), 1);
	header_of(diag_get(d, 0), got, sizeof(got));
	assert_string_equal(got, "t.nsim:2:24: warning: the prefix has bits set past /16; it "
				 "means 10.1.0.0/16");
	assert_int_equal(s->rules[0].src, IP(10, 1, 0, 0));
	scenario_free(s);
	diag_free(d);
}

/* One row per error class: the text, and the exact first diagnostic. */
static const struct {
	const char *text;
	const char *want;
} errors[] = {
    /* lexical */
    {"cordinator coord at 192.0.2.1\n",
     "t.nsim:1:1: error: unknown keyword 'cordinator'; did you mean 'coordinator'?"},
    {"frobnicate x\n",
     "t.nsim:1:1: error: unknown keyword 'frobnicate'; a line starts with one of title, "
     "description, seed, internet, coordinator, nat, router, host, link, forward, rule, policy, "
     "at, "
     "expect, serve"},
    {"\"title\"\n",
     "t.nsim:1:1: error: expected a keyword at the start of the line (title, "
     "description, seed, internet, coordinator, nat, router, host, link, forward, rule, "
     "policy, at, expect, serve), found a string"},
    {"title \"abc\n", "t.nsim:1:7: error: unterminated string: missing the closing '\"'"},
    {"title \"abc\\\n", "t.nsim:1:7: error: unterminated string: missing the closing '\"'"},
    {"title \"a\\tb\"\n", "t.nsim:1:9: error: unknown escape '\\t' in a string; write \\\" for "
			  "a quote, \\\\ for a backslash or \\n for a new line"},
    {"title \"a\x01\"\n", "t.nsim:1:9: error: control character (byte 0x01) in a string"},
    {"seed 1\x7f\n", "t.nsim:1:7: error: unexpected control character (byte 0x7f)"},
    /* values */
    {"internet latency 20\n",
     "t.nsim:1:18: error: expected a duration with a unit (ms, s, min), found '20'"},
    {"internet latency 20sec\n",
     "t.nsim:1:18: error: unknown unit 'sec' in '20sec'; the units are ns, us, ms, s, min and "
     "h"},
    {"internet latency fast\n",
     "t.nsim:1:18: error: expected a duration like 20ms, 1.5s or 2min, found 'fast'"},
    {"internet latency\n",
     "t.nsim:1:17: error: expected a duration after 'latency', but the line ends here"},
    {"internet latency 99999999999999min\n",
     "t.nsim:1:18: error: duration '99999999999999min' is too long"},
    {"internet loss 1\n", "t.nsim:1:15: error: expected a percentage like 1% or 0.5%, found '1'"},
    {"internet loss 101%\n",
     "t.nsim:1:15: error: '101%' is out of range: a loss is between 0% and 100%"},
    {"internet jiter 2ms\n",
     "t.nsim:1:10: error: unknown option 'jiter' in the 'internet' statement; did you mean "
     "'jitter'?"},
    {"internet\n", "t.nsim:1:9: error: 'internet' needs at least one of latency, jitter or loss"},
    {"internet latency 1ms latency 2ms\n",
     "t.nsim:1:22: error: 'latency' is given twice in this statement"},
    {"seed 18446744073709551616\n",
     "t.nsim:1:6: error: a seed '18446744073709551616' is out of range "
     "(0-18446744073709551615)"},
    {"seed -1\n", "t.nsim:1:6: error: expected a seed (a whole number), found '-1'"},
    {"seed 1 2\n", "t.nsim:1:8: error: unexpected '2' after the end of the 'seed' statement"},
    {"host a at 1.2.3 public\n",
     "t.nsim:1:11: error: expected an IPv4 address like 192.0.2.1, found '1.2.3'"},
    {"host a at 1.2.3.4 public port 65536\n",
     "t.nsim:1:31: error: a port '65536' is out of range (0-65535)"},
    {"host 9lives at 1.2.3.4 public\n",
     "t.nsim:1:6: error: '9lives' is not a valid name: a name starts with a letter and "
     "continues with letters, digits, '-' or '_'"},
    {"host a 1.2.3.4 public\n",
     "t.nsim:1:8: error: expected 'at' after the host's name, found '1.2.3.4'"},
    {"host a ta 1.2.3.4 public\n",
     "t.nsim:1:8: error: expected 'at' after the host's name, found 'ta'; did you mean 'at'?"},
    {"host a at 1.2.3.4 firewall yes public\n",
     "t.nsim:1:28: error: expected 'on' or 'off', found 'yes'"},
    {"host a at 1.2.3.4 public keepalive 0s\n",
     "t.nsim:1:36: error: '0s' is out of range: a keepalive interval is from 100ms to 1h, or "
     "'off' for no keepalives"},
    {"nat n preset full-cones public 1.2.3.4\n",
     "t.nsim:1:14: error: expected a preset: full-cone, restricted-cone, "
     "port-restricted-cone or symmetric, found 'full-cones'; did you mean 'full-cone'?"},
    {"nat n mapping EIF filtering EIF public 1.2.3.4\n",
     "t.nsim:1:15: error: 'EIF' is a filtering behaviour; for mapping write EI, EIM or "
     "endpoint-independent"},
    {"nat n mapping EI filtering sometimes public 1.2.3.4\n",
     "t.nsim:1:28: error: expected a filtering behaviour: endpoint-independent, "
     "address-dependent or address-and-port-dependent (or EI, AD, APD), found 'sometimes'"},
    {"nat n preset symmetric ports rand public 1.2.3.4\n",
     "t.nsim:1:30: error: expected 'preserve', 'sequential' or 'random', found 'rand'; did you "
     "mean 'random'?"},
    {"nat n preset symmetric range 2000-1000 public 1.2.3.4\n",
     "t.nsim:1:30: error: port range '2000-1000' is backwards: the first port must be the "
     "lower one"},
    {"nat n mapping EI public 1.2.3.4\n",
     "t.nsim:1:5: error: nat 'n' needs a preset (full-cone, restricted-cone, "
     "port-restricted-cone, symmetric) or both 'mapping' and 'filtering'"},
    {"nat n preset full-cone\n",
     "t.nsim:1:5: error: nat 'n' needs a public address, e.g. 'public 203.0.113.1'"},
    {"nat n preset full-cone public 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5\n",
     "t.nsim:1:63: error: a NAT has at most 4 public addresses"},
    {"nat n preset full-cone public 1.1.1.1,\n",
     "t.nsim:1:39: error: expected a public IPv4 address, but the line ends here"},
    {"coordinator c at 192.0.2.1 alternate 192.0.2.1\n",
     "t.nsim:1:38: error: the alternate address must differ from the primary one: behaviour "
     "discovery (RFC 5780) needs two addresses"},
    {"coordinator c at 192.0.2.1 port 65535 alternate 192.0.2.2\n",
     "t.nsim:1:49: error: the alternate port would be port + 1 = 65536; give one with "
     "'alternate IP port N'"},
    {"coordinator c at 192.0.2.1\ncoordinator d at 192.0.2.2\n",
     "t.nsim:2:1: error: a scenario has only one coordinator, and 'c' is already defined"},
    {"title \"a\"\ntitle \"b\"\n", "t.nsim:2:1: error: 'title' is given twice"},
    {"forward n sctp 80 to a\n",
     "t.nsim:1:11: error: expected 'udp' or 'tcp' after the NAT's name, found 'sctp'; did you "
     "mean 'tcp'?"},
    {"rule a input drop sport 10-\n",
     "t.nsim:1:25: error: expected a port (a whole number), found ''"},
    {"rule a input drop from 10.0.0.0/33\n",
     "t.nsim:1:24: error: a prefix length '33' is out of range (0-32)"},
    {"rule a input drop state old\n",
     "t.nsim:1:25: error: expected a state: 'new', 'established', 'related' or 'invalid', "
     "found 'old'"},
    {"rule a inptu drop\n",
     "t.nsim:1:8: error: expected a chain: 'input', 'output' or 'forward', found 'inptu'; did "
     "you mean 'input'?"},
    {"policy a input reject\n",
     "t.nsim:1:16: error: a policy is 'accept' or 'drop' ('reject' is for rules)"},
    {"at 1 register a\n",
     "t.nsim:1:4: error: expected a duration with a unit (ms, s, min), found '1'"},
    {"at 1s regster a\n", "t.nsim:1:7: error: unknown action 'regster'; did you mean "
			  "'register'?"},
    {"at 1s\n", "t.nsim:1:6: error: expected an action after the time, but the line ends "
		"here"},
    {"at 1s send a to b hello\n",
     "t.nsim:1:19: error: expected the quoted text to send, found 'hello'"},
    {"at 1s raw a from 5 to 1.2.3.4 \"x\"\n",
     "t.nsim:1:23: error: expected an endpoint like 192.0.2.1:3478 or alice:5000, found "
     "'1.2.3.4' (the port is missing)"},
    {"at 1s raw a from 5 to 1.2.3:9 \"x\"\n", "t.nsim:1:23: error: '1.2.3' is not an IPv4 address"},
    {"at 1s raw a from 5 to 1.2.3.4:9 hex \"02 0g\"\n",
     "t.nsim:1:37: error: expected pairs of hex digits (0-9, a-f) in the payload, found 'g'"},
    {"at 1s raw a from 5 to 1.2.3.4:9 hex \"020\"\n",
     "t.nsim:1:37: error: expected pairs of hex digits (0-9, a-f) in the payload, found ' '"},
    {"at 1s cut a\n", "t.nsim:1:11: error: expected 'link' after 'cut', found 'a'"},
    {"at 1s set n\n",
     "t.nsim:1:12: error: 'set' needs 'preset P' or 'mapping B' and/or 'filtering B'"},
    {"expect mapings at n\n",
     "t.nsim:1:8: error: unknown expectation 'mapings'; did you mean 'mapping'?"},
    {"expect a and b drect\n",
     "t.nsim:1:16: error: expected 'direct', 'relayed' or 'unconnected', found 'drect'; did "
     "you mean 'direct'?"},
    {"expect no dorp at n\n", "t.nsim:1:11: error: expected 'drop' or 'mapping' after 'no', found "
			      "'dorp'; did you mean 'drop'?"},
    {"expect drop at n reason nat-filtr\n",
     "t.nsim:1:25: error: expected a drop reason: firewall, nat-filter, nat-no-mapping, "
     "nat-exhausted, hairpin, no-route, ttl, link-loss, link-down, queue-full, malformed, "
     "no-socket, not-for-us, icmp-no-flow or ct-invalid, found 'nat-filtr'; did you mean "
     "'nat-filter'?"},
    {"expect no drop at n from a\n",
     "t.nsim:1:21: error: unknown option 'from' in the 'expect' statement; expected one of "
     "reason, by"},
    {"expect classify a as cone\n",
     "t.nsim:1:22: error: expected a class: open, firewall, full-cone, restricted-cone, "
     "port-restricted-cone or symmetric, found 'cone'"},
    {"expect data at a\n", "t.nsim:1:17: error: expected the quoted text expected (or 'from "
			   "HOST'), but the line ends here"},
    {"expect a and b direct by soon\n",
     "t.nsim:1:26: error: expected a duration like 20ms, 1.5s or 2min, found 'soon'"},
    /* semantic */
    {"host a at 1.1.1.1 public\nnat a preset full-cone public 2.2.2.2\n",
     "t.nsim:2:5: error: 'a' is already defined as a host"},
    {"host alice at 10.0.0.1 behind hom\nnat home preset full-cone public 2.2.2.2\n",
     "t.nsim:1:31: error: unknown NAT 'hom'; did you mean 'home'?"},
    {"nat home preset full-cone public 2.2.2.2\nhost b at 1.1.1.1 public\n"
     "host alice at 10.0.0.1 behind b\n",
     "t.nsim:3:31: error: 'b' is a host, not a NAT"},
    {"host a at 1.1.1.1 behind nowhere\n",
     "t.nsim:1:26: error: unknown NAT 'nowhere': the scenario defines no NATs"},
    {"nat x preset full-cone public 2.2.2.2\nnat y preset full-cone public 2.2.2.3\n"
     "host a at 1.1.1.1 behind z\n",
     "t.nsim:3:26: error: unknown NAT 'z'; the NATs are x, y"},
    {"nat a preset full-cone public 10.0.0.1 behind b\n"
     "nat b preset full-cone public 10.0.0.2 behind c\n"
     "nat c preset full-cone public 10.0.0.3 behind a\n",
     "t.nsim:3:47: error: the NATs are behind each other in a cycle: 'a' -> 'b' -> 'c' -> 'a'"},
    {"nat a preset full-cone public 10.0.0.1 behind a\n",
     "t.nsim:1:47: error: nat 'a' cannot be behind itself"},
    {"nat n preset full-cone public 2.2.2.2\nhost a at 10.0.0.1 behind n\n"
     "host b at 10.0.0.1 behind n\n",
     "t.nsim:3:11: error: address 10.0.0.1 is already used by host 'a' behind 'n'"},
    {"coordinator c at 192.0.2.1\nhost a at 192.0.2.1 public\n",
     "t.nsim:2:11: error: address 192.0.2.1 is already used by coordinator 'c' on the "
     "internet"},
    {"host a at 1.1.1.1 public behind n\n",
     "t.nsim:1:26: error: a host is either 'public' or 'behind' a NAT, not both"},
    {"host a at 1.1.1.1\n",
     "t.nsim:1:6: error: host 'a' needs 'behind NATNAME' or 'public' to say where it is"},
    {"host a at 1.1.1.1 public\nat 0s register a\n",
     "t.nsim:2:7: error: 'register' needs a coordinator, but the scenario has none"},
    {"coordinator c at 192.0.2.1\nhost alice at 1.1.1.1 public\nat 0s connect alice to alcie\n",
     "t.nsim:3:24: error: unknown host 'alcie'; did you mean 'alice'?"},
    {"coordinator c at 192.0.2.1\nhost a at 1.1.1.1 public\nat 0s connect a to a\n",
     "t.nsim:3:20: error: 'a' cannot connect to itself"},
    {"host a at 1.1.1.1 public\nat 0s reboot a\n", "t.nsim:2:14: error: 'a' is a host, not a NAT"},
    {"host a at 1.1.1.1 public\nat 0s cut link b\n",
     "t.nsim:2:16: error: unknown node 'b'; the nodes are a"},
    {"nat n preset full-cone public 2.2.2.2\nhost a at 1.1.1.1 public\nforward n udp 80 to a\n",
     "t.nsim:3:21: error: host 'a' is not behind NAT 'n', so 'n' cannot forward to it"},
    {"nat n preset full-cone public 2.2.2.2\nhost a at 10.0.0.1 behind n\n"
     "forward n udp 80 to a\nforward n udp 80 to a:81\n",
     "t.nsim:4:15: error: UDP port 80 of 'n' is already forwarded"},
    {"host a at 1.1.1.1 public\nlink a loss 1%\nlink a loss 2%\n",
     "t.nsim:3:6: error: the link of 'a' is already set"},
    {"host a at 1.1.1.1 public\nexpect drop at q\n",
     "t.nsim:2:16: error: unknown node 'q'; the nodes are a"},
    {"host a at 1.1.1.1 public\nexpect a and a direct\n",
     "t.nsim:2:14: error: 'a' cannot be connected to itself"},
    {"host a at 1.1.1.1 public\nexpect mapping at a\n",
     "t.nsim:2:19: error: 'a' is a host, not a NAT"},
};

/* `expect A and B end PATH` (or `ends`): the state the run ends in. */
static void test_expect_end(void **state)
{
	(void)state;
	struct scenario *s = parse_ok("host a at 1.1.1.1 public\nhost b at 1.1.1.2 public\n"
				      "expect a and b end direct\n"
				      "expect a and b ends unconnected\n"
				      "expect a and b relayed by 5s\n");
	assert_int_equal(s->n_expects, 3);
	assert_true(s->expects[0].at_end);
	assert_int_equal(s->expects[0].path, SCENARIO_PATH_DIRECT);
	assert_int_equal(s->expects[0].by_ns, SCENARIO_UNSET);
	assert_true(s->expects[1].at_end);
	assert_int_equal(s->expects[1].path, SCENARIO_PATH_UNCONNECTED);
	assert_false(s->expects[2].at_end);
	assert_int_equal(s->expects[2].by_ns, SEC(5));
	scenario_free(s);
	assert_true(
	    expect_error("host a at 1.1.1.1 public\nhost b at 1.1.1.2 public\n"
			 "expect a and b end direct by 5s\n",
			 "t.nsim:3:27: error: 'end direct' is about the end of the run, so it "
			 "takes nothing after it (for a deadline write 'expect a and b direct "
			 "by TIME')"));
	assert_true(
	    expect_error("host a at 1.1.1.1 public\nhost b at 1.1.1.2 public\n"
			 "expect a and b end soon\n",
			 "t.nsim:3:20: error: expected 'direct', 'relayed' or 'unconnected', "
			 "found 'soon'"));
}

static void test_error_classes(void **state)
{
	(void)state;
	size_t bad = 0;

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		bad += !expect_error(errors[i].text, errors[i].want);
	assert_int_equal(bad, 0);
}

static void test_notes_follow_errors(void **state)
{
	(void)state;
	const char text[] = "host a at 1.1.1.1 public\n"
			    "host a at 1.1.1.2 public\n";
	struct diag *d = diag_new();
	char got[300];

	assert_null(scenario_parse(text, strlen(text), "t.nsim", d));
	assert_int_equal(diag_count(d), 2);
	header_of(diag_get(d, 1), got, sizeof(got));
	assert_string_equal(got, "t.nsim:1:6: note: 'a' is first defined here");
	diag_free(d);
}

static void test_many_errors_one_pass(void **state)
{
	(void)state;
	const char text[] = "host a at 1.1.1.1 public\n"
			    "hots b at 1.1.1.2 public\n" /* 2:1 */
			    "host c at 1.1.1 public\n"	 /* 3:11 */
			    "\n"
			    "at 1 register a\n"			  /* 5:4 */
			    "host d at 1.1.1.4 public extra 1\n"; /* 6:26 */
	struct diag *d = diag_new();

	assert_null(scenario_parse(text, strlen(text), "t.nsim", d));
	assert_int_equal(diag_count_errors(d), 4);
	static const int lines[] = {2, 3, 5, 6}, cols[] = {1, 11, 4, 26};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(diag_get(d, i)->line, lines[i]);
		assert_int_equal(diag_get(d, i)->col, cols[i]);
	}
	diag_free(d);

	/* Parse and check errors come out in file order. */
	const char mixed[] = "host a at 10.0.0.1 behind nope\n" /* check error, line 1 */
			     "seed x\n";			/* parse error, line 2 */
	d = diag_new();
	assert_null(scenario_parse(mixed, strlen(mixed), "t.nsim", d));
	assert_int_equal(diag_count_errors(d), 2);
	assert_int_equal(diag_get(d, 0)->line, 1);
	assert_int_equal(diag_get(d, 1)->line, 2);
	diag_free(d);
}

static void test_too_many_errors(void **state)
{
	(void)state;
	size_t n = 1000;
	char *text = malloc(n * 8 + 1);
	struct diag *d = diag_new();

	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		memcpy(text + i * 8, "bogus 1\n", 8);
	text[n * 8] = '\0';
	assert_null(scenario_parse(text, n * 8, "t.nsim", d));
	assert_int_equal(diag_count_errors(d), SCENARIO_MAX_ERRORS);
	const struct diagnostic *last = diag_get(d, diag_count(d) - 1);
	assert_int_equal(last->severity, DIAG_NOTE);
	assert_string_equal(last->message, "too many errors in t.nsim; only the first 100 are "
					   "shown");
	free(text);
	diag_free(d);
}

/* Durations as the language reads them, and what it says of each. */
static const struct {
	const char *s;
	int rc;
	int64_t ns;
} duration_table[] = {
    {"0s", SCENARIO_DURATION_OK, 0},
    {"20ms", SCENARIO_DURATION_OK, 20000000},
    {"1.5s", SCENARIO_DURATION_OK, 1500000000},
    {"2min", SCENARIO_DURATION_OK, 120000000000},
    {"0.5min", SCENARIO_DURATION_OK, 30000000000},
    {"250us", SCENARIO_DURATION_OK, 250000},
    {"10ns", SCENARIO_DURATION_OK, 10},
    {"1.5ns", SCENARIO_DURATION_TOO_FINE, 0},
    {"0.5ns", SCENARIO_DURATION_TOO_FINE, 0},
    {"0.1ns", SCENARIO_DURATION_TOO_FINE, 0},
    {"1.000000000000000000000001s", SCENARIO_DURATION_TOO_FINE, 0},
    {"1.000000000000000000000000s", SCENARIO_DURATION_OK, 1000000000},
    {"0.0000001ms", SCENARIO_DURATION_TOO_FINE, 0},
    {"1.5us", SCENARIO_DURATION_OK, 1500},
    {"2h", SCENARIO_DURATION_OK, 7200000000000},
    {"0.25h", SCENARIO_DURATION_OK, 900000000000},
    {"0.0000000000001h", SCENARIO_DURATION_TOO_FINE, 0},
    {"0.000000000001h", SCENARIO_DURATION_TOO_FINE, 0},
    {"0.0000000000025h", SCENARIO_DURATION_OK, 9},
    {"2562047h", SCENARIO_DURATION_OK, 9223369200000000000},
    {"2562048h", SCENARIO_DURATION_RANGE, 0},
    {"0x1p3s", SCENARIO_DURATION_SYNTAX, 0},
    {"0x10", SCENARIO_DURATION_SYNTAX, 0},
    {"1e3ms", SCENARIO_DURATION_SYNTAX, 0},
    {"nan", SCENARIO_DURATION_SYNTAX, 0},
    {"inf", SCENARIO_DURATION_SYNTAX, 0},
    {"nans", SCENARIO_DURATION_SYNTAX, 0},
    {" 1s", SCENARIO_DURATION_SYNTAX, 0},
    {"2m", SCENARIO_DURATION_BAD_UNIT, 0},
    {"0.000000001s", SCENARIO_DURATION_OK, 1},
    {"1.0000000019s", SCENARIO_DURATION_TOO_FINE, 0},
    {"1.000000001s", SCENARIO_DURATION_OK, 1000000001},
    {"0.001ms", SCENARIO_DURATION_OK, 1000},
    {"9223372036854775807ns", SCENARIO_DURATION_OK, INT64_MAX},
    {"9223372036854775808ns", SCENARIO_DURATION_RANGE, 0},
    {"9223372036s", SCENARIO_DURATION_OK, 9223372036000000000},
    {"9223372037s", SCENARIO_DURATION_RANGE, 0},
    {"153722867min", SCENARIO_DURATION_OK, 9223372020000000000},
    {"153722868min", SCENARIO_DURATION_RANGE, 0},
    {"99999999999999999999999s", SCENARIO_DURATION_RANGE, 0},
    {"5", SCENARIO_DURATION_NO_UNIT, 0},
    {"1.5", SCENARIO_DURATION_NO_UNIT, 0},
    {"5sec", SCENARIO_DURATION_BAD_UNIT, 0},
    {"5S", SCENARIO_DURATION_BAD_UNIT, 0},
    {"5 s", SCENARIO_DURATION_SYNTAX, 0},
    {"5ms5", SCENARIO_DURATION_SYNTAX, 0},
    {"", SCENARIO_DURATION_SYNTAX, 0},
    {"s", SCENARIO_DURATION_SYNTAX, 0},
    {"-1s", SCENARIO_DURATION_SYNTAX, 0},
    {"+1s", SCENARIO_DURATION_SYNTAX, 0},
    {".5s", SCENARIO_DURATION_SYNTAX, 0},
    {"1.s", SCENARIO_DURATION_SYNTAX, 0},
};

static void test_durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(duration_table) / sizeof(duration_table[0]); i++) {
		int64_t ns = -42;
		int rc = scenario_parse_duration(duration_table[i].s, &ns);

		if (rc != duration_table[i].rc)
			fprintf(stderr, "duration '%s': rc %d, want %d\n", duration_table[i].s, rc,
				duration_table[i].rc);
		assert_int_equal(rc, duration_table[i].rc);
		assert_int_equal(ns, rc == SCENARIO_DURATION_OK ? duration_table[i].ns : -42);
	}
	int64_t ns;
	assert_int_equal(scenario_parse_duration(NULL, &ns), SCENARIO_DURATION_SYNTAX);
}

/* --set values refused, with the words that refuse them. */
static const struct {
	const char *arg;
	const char *want;
} override_refusals[] = {
    {"isp", "--set 'isp': expected NAME.KEY=VALUE (e.g. home.preset=symmetric)"},
    {"isp=1", "--set 'isp=1': expected NAME.KEY=VALUE (e.g. home.preset=symmetric) or "
	      "seed=N"},
    {"isp.mapin=EI", "--set 'isp.mapin=EI': unknown key 'mapin' for NAT 'isp'; did you "
		     "mean 'mapping'? (the keys are preset, mapping, filtering, ports, "
		     "timeout, hairpinning, inbound-refresh, pooling, input, forwards, icmp-inner, "
		     "icmp-errors, icmp-timeout, tcp-established-timeout, tcp-transitory-timeout, "
		     "tcp-unsolicited, pcp, nat-pmp, firewall6, filtering6, reject6)"},
    {"isp.firewall6=off", "--set 'isp.firewall6=off': NAT 'isp' has no IPv6 side to change: "
			  "its line gives no 'ipv6 PREFIX'"},
    {"isp.pcp=yes", "--set 'isp.pcp=yes': expected 'on' or 'off', found 'yes'"},
    {"isp.forwards=on", "--set 'isp.forwards=on': expected 'off', found 'on'"},
    {"isp.pooling=pair", "--set 'isp.pooling=pair': expected 'paired' or 'arbitrary', "
			 "found 'pair'; did you mean 'paired'?"},
    {"isp.preset=cone", "--set 'isp.preset=cone': expected a preset: full-cone, "
			"restricted-cone, port-restricted-cone or symmetric, found "
			"'cone'"},
    {"isp.timeout=0s", "--set 'isp.timeout=0s': '0s' is out of range: a mapping timeout "
		       "is from 1s to 24h"},
    {"isp.timeout=nan", "--set 'isp.timeout=nan': expected a duration like 20ms, 1.5s or "
			"2min, found 'nan'"},
    {"alice.keepalive=1ns", "--set 'alice.keepalive=1ns': '1ns' is out of range: a "
			    "keepalive interval is from 100ms to 1h, or 'off' for no "
			    "keepalives"},
    {"alice.keepalive=1us", "--set 'alice.keepalive=1us': '1us' is out of range: a "
			    "keepalive interval is from 100ms to 1h, or 'off' for no "
			    "keepalives"},
    {"alice.keepalive=0x1p3s", "--set 'alice.keepalive=0x1p3s': expected a duration like "
			       "20ms, 1.5s or 2min, found '0x1p3s'"},
    {"internet.latency=11s", "--set 'internet.latency=11s': '11s' is out of range: a "
			     "latency is from 0s to 10s"},
    {"internet.jitter=0.5ns", "--set 'internet.jitter=0.5ns': duration '0.5ns' is not a "
			      "whole number of nanoseconds, the finest step of natsim's "
			      "clock"},
    {"seed=0x10", "--set 'seed=0x10': expected a seed (a whole number), found '0x10'"},
    {"isp.timeout=30", "--set 'isp.timeout=30': expected a duration with a unit (ms, s, "
		       "min), found '30'"},
    {"alice.keepalive=never", "--set 'alice.keepalive=never': expected a duration like "
			      "25s or 'off', found 'never'"},
    {"alice.firewall=", "--set 'alice.firewall=': expected 'on' or 'off', found ''"},
    {"alice.port=1", "--set 'alice.port=1': unknown key 'port' for host 'alice' (the "
		     "keys are firewall, keepalive, host-candidates, techniques, probe-rate, "
		     "probes, sockets, prediction-window, mapping-lifetime)"},
    {"internet.los=1%", "--set 'internet.los=1%': unknown key 'los' for 'internet'; did "
			"you mean 'loss'? (the keys are latency, jitter, loss)"},
    {"internet.loss=200%", "--set 'internet.loss=200%': '200%' is out of range: a loss "
			   "is between 0% and 100%"},
    {"alcie.firewall=on", "--set 'alcie.firewall=on': no NAT or host is named 'alcie'; "
			  "did you mean 'alice'?"},
    {"zzz.firewall=on", "--set 'zzz.firewall=on': no NAT or host is named 'zzz' "
			"(expected NAME.KEY=VALUE with the name of a NAT or host, "
			"'internet', or seed=N)"},
    {"c.port=1", "--set 'c.port=1': the coordinator 'c' has no settings --set can "
		 "change"},
    {"seed=x", "--set 'seed=x': expected a seed (a whole number), found 'x'"},
};

/* Every key --set takes, applied to the world above. */
static void overrides_apply(struct scenario *s, struct diag *d)
{
	struct scenario_nat *isp = (struct scenario_nat *)scenario_find_nat(s, "isp");
	struct scenario_host *alice = (struct scenario_host *)scenario_find_host(s, "alice");

	assert_int_equal(scenario_set_override(s, "isp.preset=full-cone", d), 0);
	assert_string_equal(isp->preset, "full-cone");
	assert_false(isp->has_mapping);
	assert_false(isp->has_filtering);
	assert_int_equal(scenario_set_override(s, "isp.mapping=address-dependent", d), 0);
	assert_true(isp->has_mapping && isp->mapping == SCENARIO_AD);
	assert_int_equal(scenario_set_override(s, "isp.filtering=APDF", d), 0);
	assert_true(isp->has_filtering && isp->filtering == SCENARIO_APD);
	assert_int_equal(scenario_set_override(s, "isp.ports=random", d), 0);
	assert_int_equal(isp->ports, SCENARIO_PORTS_RANDOM);
	assert_int_equal(scenario_set_override(s, "isp.timeout=45s", d), 0);
	assert_int_equal(isp->timeout_ns, SEC(45));
	assert_int_equal(scenario_set_override(s, "isp.hairpinning=off", d), 0);
	assert_int_equal(isp->hairpinning, 0);
	assert_int_equal(scenario_set_override(s, "isp.inbound-refresh=on", d), 0);
	assert_int_equal(isp->inbound_refresh, 1);
	assert_int_equal(scenario_set_override(s, "isp.pooling=arbitrary", d), 0);
	assert_int_equal(isp->pooling, 1);
	assert_int_equal(scenario_set_override(s, "isp.input=accept", d), 0);
	assert_int_equal(isp->input, 1);
	/* The port-mapping servers (issue 17), off unless asked for. */
	assert_int_equal(isp->pcp, SCENARIO_UNSET);
	assert_int_equal(scenario_set_override(s, "isp.pcp=on", d), 0);
	assert_int_equal(isp->pcp, 1);
	assert_int_equal(scenario_set_override(s, "isp.nat-pmp=off", d), 0);
	assert_int_equal(isp->natpmp, 0);
	/* forwards=off takes away that NAT's forwards, and only those. */
	size_t forwards = s->n_forwards;
	assert_int_equal(scenario_set_override(s, "isp.forwards=off", d), 0);
	assert_int_equal(s->n_forwards, forwards);
	assert_int_equal(scenario_set_override(s, "lab.forwards=off", d), 0);
	assert_int_equal(s->n_forwards, forwards - 2);
	assert_int_equal(scenario_set_override(s, "alice.firewall=off", d), 0);
	assert_int_equal(alice->firewall, 0);
	assert_int_equal(scenario_set_override(s, "alice.keepalive=off", d), 0);
	assert_int_equal(alice->keepalive_ns, 0);
	assert_int_equal(scenario_set_override(s, "alice.keepalive=1.5s", d), 0);
	assert_int_equal(alice->keepalive_ns, MS(1500));
	assert_int_equal(scenario_set_override(s, "alice.host-candidates=on", d), 0);
	assert_int_equal(alice->host_candidates, 1);
	assert_int_equal(scenario_set_override(s, "internet.latency=30ms", d), 0);
	assert_int_equal(s->internet.latency_ns, MS(30));
	assert_int_equal(scenario_set_override(s, "internet.jitter=1ms", d), 0);
	assert_int_equal(s->internet.jitter_ns, MS(1));
	assert_int_equal(scenario_set_override(s, "internet.loss=2%", d), 0);
	assert_true(s->internet.loss > 0.0199 && s->internet.loss < 0.0201);
	assert_int_equal(scenario_set_override(s, "seed=7", d), 0);
	assert_true(s->has_seed);
	assert_int_equal(s->seed, 7);
	assert_int_equal(diag_count(d), 0);
}

static void test_overrides(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(world);
	struct diag *d = diag_new();
	const struct scenario_nat *isp = scenario_find_nat(s, "isp");
	const struct scenario_host *alice = scenario_find_host(s, "alice");

	overrides_apply(s, d);
	for (size_t i = 0; i < sizeof(override_refusals) / sizeof(override_refusals[0]); i++) {
		diag_clear(d);
		assert_int_equal(scenario_set_override(s, override_refusals[i].arg, d), -1);
		assert_int_equal(diag_count_errors(d), 1);
		const struct diagnostic *dg = diag_get(d, 0);
		assert_null(dg->file);
		assert_int_equal(dg->line, 0);
		assert_string_equal(dg->message, override_refusals[i].want);
	}
	/* Failed overrides change nothing. */
	assert_int_equal(isp->timeout_ns, SEC(45));
	assert_int_equal(alice->keepalive_ns, MS(1500));
	assert_int_equal(alice->firewall, 0);
	diag_free(d);
	scenario_free(s);
}

/* `pcp on|off`, `nat-pmp on|off` on a NAT line (model/pcp_server.h). */
static void test_nat_port_mapping_servers(void **state)
{
	(void)state;
	struct scenario *s = parse_ok("nat home preset full-cone public 203.0.113.7 pcp on "
				      "nat-pmp off\n"
				      "nat office preset symmetric public 198.51.100.9\n");
	const struct scenario_nat *home = scenario_find_nat(s, "home");
	const struct scenario_nat *office = scenario_find_nat(s, "office");
	struct scenario *r =
	    parse_ok("host a at 10.0.0.1 public\n"
		     "at 1s raw a from 5000 to 10.0.0.254:5351 hex \"0201 00Ff\"\n");

	/* A raw datagram's payload in hex: what no text can spell. */
	assert_int_equal(r->actions[0].text_len, 4);
	assert_memory_equal(r->actions[0].text, "\x02\x01\x00\xff", 4);
	scenario_free(r);
	assert_int_equal(home->pcp, 1);
	assert_int_equal(home->natpmp, 0);
	assert_int_equal(office->pcp, SCENARIO_UNSET);
	assert_int_equal(office->natpmp, SCENARIO_UNSET);
	scenario_free(s);
}

static void test_load(void **state)
{
	(void)state;
	char path[] = "/tmp/test_scenario_XXXXXX";
	int fd = mkstemp(path);
	struct diag *d = diag_new();

	assert_true(fd >= 0);
	assert_int_equal(write(fd, classic, strlen(classic)), (ssize_t)strlen(classic));
	close(fd);
	struct scenario *s = scenario_load(path, d);
	assert_non_null(s);
	assert_string_equal(s->filename, path);
	assert_int_equal(s->n_hosts, 2);

	/* The runner reports against the file, with the line and a caret. */
	assert_int_equal(scenario_report(s, d, DIAG_ERROR, &s->expects[0].loc,
					 "expectation failed: %s", "alice and bob are relayed"),
			 0);
	const struct diagnostic *dg = diag_get(d, 0);
	assert_int_equal(dg->line, 20);
	assert_string_equal(dg->src, "expect alice and bob direct by 3s");
	assert_string_equal(dg->message, "expectation failed: alice and bob are relayed");
	scenario_free(s);
	unlink(path);

	diag_clear(d);
	assert_null(scenario_load("/nonexistent/x.nsim", d));
	assert_int_equal(diag_count_errors(d), 1);
	assert_string_equal(diag_get(d, 0)->message,
			    "cannot read /nonexistent/x.nsim: No such file or directory");
	diag_clear(d);
	assert_null(scenario_load("/", d));
	assert_string_equal(diag_get(d, 0)->message, "cannot read /: Is a directory");
	diag_free(d);
}

static void test_names(void **state)
{
	(void)state;
	int m, f;

	assert_int_equal(scenario_preset_behaviour("restricted-cone", &m, &f), 0);
	assert_int_equal(m, SCENARIO_EI);
	assert_int_equal(f, SCENARIO_AD);
	assert_int_equal(scenario_preset_behaviour("symmetric", &m, &f), 0);
	assert_int_equal(m, SCENARIO_APD);
	assert_int_equal(scenario_preset_behaviour("cone", &m, &f), -1);
	assert_int_equal(scenario_preset_behaviour(NULL, &m, &f), -1);
	assert_string_equal(scenario_behaviour_name(SCENARIO_AD), "address-dependent");
	assert_string_equal(scenario_behaviour_name(7), "?");
	assert_string_equal(scenario_reason_name(13), "not-for-us");
	assert_string_equal(scenario_reason_name(0), "any");
	assert_string_equal(scenario_path_name(SCENARIO_PATH_RELAYED), "relayed");
	assert_string_equal(scenario_action_kind_name(SCENARIO_ACT_RAW), "raw");
	scenario_free(NULL);
}

/* --- mutation fuzz: the parser never crashes, hangs or reads out of bounds,
 * and a failed parse always says why. */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: fixed seed, same run every time. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32) % n;
}

static const char fuzz_bytes[] = " \t\n\r\"\\#,:.-%/0123456789msnatx\x00\xff\xc3\x80";

static size_t mutate_once(char *buf, size_t len, size_t cap)
{
	size_t at = len ? rnd((uint32_t)len) : 0;

	switch (rnd(5)) {
	case 0: /* replace a byte */
		if (len)
			buf[at] = rnd(3) ? fuzz_bytes[rnd(sizeof(fuzz_bytes) - 1)] : (char)rnd(256);
		return len;
	case 1: /* insert a byte */
		if (len + 1 > cap)
			return len;
		memmove(buf + at + 1, buf + at, len - at);
		buf[at] = fuzz_bytes[rnd(sizeof(fuzz_bytes) - 1)];
		return len + 1;
	case 2: /* delete a run */ {
		size_t n = 1 + rnd(8);
		if (at + n > len)
			n = len - at;
		memmove(buf + at, buf + at + n, len - at - n);
		return len - n;
	}
	case 3: /* duplicate the line around `at` */ {
		size_t start = at, end = at;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		while (end < len && buf[end] != '\n')
			end++;
		if (end < len)
			end++;
		size_t n = end - start;
		if (len + n > cap)
			return len;
		memmove(buf + end + n, buf + end, len - end);
		memcpy(buf + end, buf + start, n);
		return len + n;
	}
	default: /* swap two bytes */
		if (len) {
			size_t b = rnd((uint32_t)len);
			char t = buf[at];
			buf[at] = buf[b];
			buf[b] = t;
		}
		return len;
	}
}

/* A valid scenario using every statement: the world above plus a timeline. */
static const char fuzz_timeline[] =
    "title \"fuzz \\\"base\\\"\"\n"
    "description \"x\"\n"
    "seed 1\n"
    "at 0s register alice\n"
    "at 1.5s connect alice to web\n"
    "at 2s send web to alice \"hi\\n\"\n"
    "at 0.5s classify alice\n"
    "at 3s keepalive alice off\n"
    "at 4s cut link home\n"
    "at 5s restore link alice\n"
    "at 6s reboot isp\n"
    "at 7s set lab preset full-cone mapping AD\n"
    "at 8s raw web from 9 to lab:8000 \"x\"\n"
    "at 9s note \"n\"\n"
    "expect alice and web direct by 2s\n"
    "expect drop at lab reason nat-filter from web:9 to 198.51.100.7:8000\n"
    "expect no drop at home\n"
    "expect mapping at home for alice:5000 external-port 5000\n"
    "expect classify alice as symmetric by 1min\n"
    "expect data at alice from web \"hi\\n\"\n";

static void test_mutation_fuzz(void **state)
{
	(void)state;
	const size_t base_len = strlen(world) + strlen(fuzz_timeline);
	const size_t cap = base_len * 3;
	char *base = malloc(base_len + 1);
	size_t failures = 0;

	assert_non_null(base);
	memcpy(base, world, strlen(world));
	memcpy(base + strlen(world), fuzz_timeline, strlen(fuzz_timeline) + 1);
	scenario_free(parse_ok(base));
	FILE *null = fopen("/dev/null", "w");
	assert_non_null(null);
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int iter = 0; iter < 20000; iter++) {
		/* An exact-size heap buffer so ASan catches any read past the end. */
		char *buf = malloc(cap);
		assert_non_null(buf);
		memcpy(buf, base, base_len);
		size_t len = base_len;
		for (uint32_t k = 0, n = 1 + rnd(6); k < n; k++)
			len = mutate_once(buf, len, cap);
		char *exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, buf, len);
		free(buf);

		struct diag *d = diag_new();
		struct scenario *s = scenario_parse(exact, len, "fuzz.nsim", d);
		if (s) {
			assert_int_equal(diag_count_errors(d), 0);
			/* Overrides on a mutated world never crash either. */
			scenario_set_override(s, "home-a.preset=symmetric", d);
			scenario_set_override(s, "alice.keepalive=off", d);
		} else {
			assert_true(diag_count_errors(d) >= 1);
			failures++;
		}
		/* Rendering never crashes, whatever bytes the lines hold. */
		if (iter % 8 == 0)
			diag_print(d, null, iter % 16 == 0);
		scenario_free(s);
		diag_free(d);
		free(exact);
	}
	/* Most mutations break something; some do not. */
	assert_true(failures > 1000 && failures < 20000);
	fclose(null);
	free(base);
}

static void test_fuzz_extremes(void **state)
{
	(void)state;
	/* A huge line, a huge word, NULs only, an unterminated string to the end. */
	size_t n = 1 << 20;
	char *buf = malloc(n);
	struct diag *d = diag_new();

	assert_non_null(buf);
	memset(buf, 'a', n);
	assert_null(scenario_parse(buf, n, "big", d));
	assert_int_equal(diag_count_errors(d), 1);
	diag_clear(d);
	memset(buf, 0, n);
	assert_null(scenario_parse(buf, n, "nul", d));
	diag_clear(d);
	memcpy(buf, "title \"", 7);
	memset(buf + 7, 'x', n - 7);
	assert_null(scenario_parse(buf, n, "str", d));
	diag_clear(d);
	for (size_t i = 0; i < n; i++)
		buf[i] = (i % 2) ? ',' : ' ';
	memcpy(buf, "nat n preset full-cone public 1.2.3.4", 37);
	assert_null(scenario_parse(buf, n, "commas", d));
	diag_clear(d);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(0x80 + i % 0x80);
	assert_null(scenario_parse(buf, n, "high", d));
	FILE *null = fopen("/dev/null", "w");
	diag_print(d, null, true);
	fclose(null);
	free(buf);
	diag_free(d);
}

/* Issue 12 items 15, 18 and 19: inputs that passed the parser and then
 * broke a run (or meant something other than they seemed). Each must be
 * refused with the exact first message at the exact line:col. */
#define A16 "aaaaaaaaaaaaaaaa"
#define NAME64 A16 A16 A16 A16
static const struct {
	const char *text;
	const char *want;
} bad_inputs[] = {
    /* #15: every duration setting has a range */
    {"host a at 1.2.3.4 public keepalive 1ns\n",
     "t.nsim:1:36: error: '1ns' is out of range: a keepalive interval is from 100ms to 1h, or "
     "'off' for no keepalives"},
    {"coordinator c at 192.0.2.1\nhost a at 1.2.3.4 public\nat 1s keepalive a 1us\n",
     "t.nsim:3:19: error: '1us' is out of range: a keepalive interval is from 100ms to 1h, or "
     "'off' for no keepalives"},
    {"internet latency 11s\n",
     "t.nsim:1:18: error: '11s' is out of range: a latency is from 0s to 10s"},
    {"internet jitter 10001ms\n",
     "t.nsim:1:17: error: '10001ms' is out of range: a jitter is from 0s to 10s"},
    {"host a at 1.2.3.4 public\nlink a latency 20s\n",
     "t.nsim:2:16: error: '20s' is out of range: a latency is from 0s to 10s"},
    {"nat n preset full-cone public 2.2.2.2 timeout 500ms\n",
     "t.nsim:1:47: error: '500ms' is out of range: a mapping timeout is from 1s to 24h"},
    {"nat n preset full-cone public 2.2.2.2 timeout 25h\n",
     "t.nsim:1:47: error: '25h' is out of range: a mapping timeout is from 1s to 24h"},
    {"at 25h note \"x\"\n", "t.nsim:1:4: error: '25h' is out of range: a time is from 0s to 24h"},
    {"expect a and b direct by 1441min\n",
     "t.nsim:1:26: error: '1441min' is out of range: a time is from 0s to 24h"},
    /* #17: one duration reader, strict about its form */
    {"at 0x1p3s note \"x\"\n",
     "t.nsim:1:4: error: expected a duration like 20ms, 1.5s or 2min, found '0x1p3s'"},
    {"at nan note \"x\"\n",
     "t.nsim:1:4: error: expected a duration like 20ms, 1.5s or 2min, found 'nan'"},
    {"internet latency 1e3ms\n",
     "t.nsim:1:18: error: expected a duration like 20ms, 1.5s or 2min, found '1e3ms'"},
    {"at 2m note \"x\"\n", "t.nsim:1:4: error: unknown unit 'm' in '2m'; the units are ns, us, "
			   "ms, s, min and h (minutes are 'min')"},
    /* #18: protocol limits (texts: test_protocol_limits) */
    {"host " NAME64 " at 1.2.3.4 public\n",
     "t.nsim:1:6: error: the name '" A16 A16 A16 "...' is 64 bytes long; a name is at most 63 "
     "bytes, the longest a peer can register with the coordinator"},
    {"nat " NAME64 " preset full-cone public 2.2.2.2\n",
     "t.nsim:1:5: error: the name '" A16 A16 A16 "...' is 64 bytes long; a name is at most 63 "
     "bytes, the longest a peer can register with the coordinator"},
    /* #19: questionable input */
    {"nat n preset full-cone public 2.2.2.2\nhost a at 192.168.001.005 behind n\n",
     "t.nsim:2:11: error: '192.168.001.005' has a part with a leading zero, which some tools "
     "read as octal; write 192.168.1.5"},
    {"rule a input drop from 010.0.0.0/8\n",
     "t.nsim:1:24: error: '010.0.0.0' has a part with a leading zero, which some tools read as "
     "octal; write 10.0.0.0"},
    {"at 1s raw a from 5 to 010.0.0.1:9 \"x\"\n",
     "t.nsim:1:23: error: '010.0.0.1' has a part with a leading zero, which some tools read as "
     "octal; write 10.0.0.1"},
    {"host a at 0.0.0.0 public\n",
     "t.nsim:1:11: error: 0.0.0.0 cannot be a node's address: 0.0.0.0/8 means 'this network' "
     "(RFC 1122 section 3.2.1.3)"},
    {"host a at 255.255.255.255 public\n",
     "t.nsim:1:11: error: 255.255.255.255 cannot be a node's address: it is the limited "
     "broadcast address (RFC 919)"},
    {"host a at 224.0.0.1 public\n",
     "t.nsim:1:11: error: 224.0.0.1 cannot be a node's address: 224.0.0.0/4 is for multicast "
     "groups (RFC 5771), not interfaces"},
    {"host a at 127.0.0.1 public\n",
     "t.nsim:1:11: error: 127.0.0.1 cannot be a node's address: 127.0.0.0/8 is loopback, which "
     "never leaves a host (RFC 1122 section 3.2.1.3)"},
    {"host a at 240.0.0.1 public\n",
     "t.nsim:1:11: error: 240.0.0.1 cannot be a node's address: 240.0.0.0/4 is reserved (RFC "
     "1112 section 4)"},
    {"nat n preset full-cone public 2.2.2.2,239.1.1.1\n",
     "t.nsim:1:39: error: 239.1.1.1 cannot be a node's address: 224.0.0.0/4 is for multicast "
     "groups (RFC 5771), not interfaces"},
    {"coordinator c at 0.1.2.3\n",
     "t.nsim:1:18: error: 0.1.2.3 cannot be a node's address: 0.0.0.0/8 means 'this network' "
     "(RFC 1122 section 3.2.1.3)"},
    {"coordinator c at 192.0.2.1 alternate 255.255.255.255\n",
     "t.nsim:1:38: error: 255.255.255.255 cannot be a node's address: it is the limited "
     "broadcast address (RFC 919)"},
    {"coordinator c at 192.0.2.1 port 0\n",
     "t.nsim:1:33: error: port 0 cannot be a coordinator's port: it means 'any free port'; a "
     "coordinator's port is 1-65535"},
    {"coordinator c at 192.0.2.1 alternate 192.0.2.2 port 0\n",
     "t.nsim:1:53: error: port 0 cannot be a coordinator's port: it means 'any free port'; a "
     "coordinator's port is 1-65535"},
    {"host a at 1.2.3.4 public port 0\n",
     "t.nsim:1:31: error: port 0 cannot be an agent's port: it means 'any free port'; an "
     "agent's port is 1-65535"},
    {"forward n udp 0 to a\n",
     "t.nsim:1:15: error: port 0 cannot be a forwarded port: it means 'any free port'; a "
     "forwarded port is 1-65535"},
    {"forward n udp 80 to a:0\n",
     "t.nsim:1:21: error: port 0 cannot be a forward's target: the host listens on a port "
     "1-65535"},
    {"at 0.1ns note \"x\"\n", "t.nsim:1:4: error: duration '0.1ns' is not a whole number of "
			      "nanoseconds, the finest step of natsim's clock"},
    {"at 1.0000000001s note \"x\"\n",
     "t.nsim:1:4: error: duration '1.0000000001s' is not a whole number of nanoseconds, the "
     "finest step of natsim's clock"},
    {"title \"caf\xe9\"\n",
     "t.nsim:1:11: error: invalid UTF-8 (byte 0xe9); a scenario file is UTF-8 text"},
    {"seed 1 # \xff\n", "t.nsim:1:10: error: invalid UTF-8 (byte 0xff); a scenario file is "
			"UTF-8 text"},
    {"host a\xff at 1.2.3.4 public\n",
     "t.nsim:1:7: error: invalid UTF-8 (byte 0xff); a scenario file is UTF-8 text"},
    {"title \"\xc0\xaf\"\n", /* an overlong '/' */
     "t.nsim:1:8: error: invalid UTF-8 (byte 0xc0); a scenario file is UTF-8 text"},
    {"title \"\xed\xa0\x80\"\n", /* a UTF-16 surrogate */
     "t.nsim:1:8: error: invalid UTF-8 (byte 0xed); a scenario file is UTF-8 text"},
    {"title \"\xf4\x90\x80\x80\"\n", /* past U+10FFFF */
     "t.nsim:1:8: error: invalid UTF-8 (byte 0xf4); a scenario file is UTF-8 text"},
    {"title \"\xe2\x82\"\n", /* cut short */
     "t.nsim:1:8: error: invalid UTF-8 (byte 0xe2); a scenario file is UTF-8 text"},
    {"title \"a\xc2\x9b"
     "31m\"\n", /* CSI: a terminal command */
     "t.nsim:1:9: error: control character U+009B"},
};

static void test_bad_inputs(void **state)
{
	(void)state;
	size_t bad = 0;

	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++)
		bad += !expect_error(bad_inputs[i].text, bad_inputs[i].want);
	assert_int_equal(bad, 0);
}

/* A statement with one value `v` (printf %s) in it parses, or fails. */
static bool parses_with(const char *fmt, const char *v)
{
	char text[512];
	struct diag *d = diag_new();

	snprintf(text, sizeof(text), fmt, v);
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	bool ok = s != NULL;
	scenario_free(s);
	diag_free(d);
	return ok;
}

/* Every duration setting accepts its documented bounds (docs/scenario.md,
 * "Ranges and limits") and refuses one nanosecond past them, in the file and in
 * --set alike. */
static void test_setting_ranges(void **state)
{
	(void)state;
	static const struct {
		const struct units_setting *set;
		int64_t min_ns, max_ns; /* as documented */
		const char *fmt;
		const char *set_key; /* the same setting through --set, or NULL */
	} table[] = {
	    {&scenario_keepalive_setting, MS(100), SEC(3600),
	     "host a at 1.2.3.4 public keepalive %s\n", "alice.keepalive"},
	    {&scenario_keepalive_setting, MS(100), SEC(3600),
	     "coordinator c at 192.0.2.1\nhost a at 1.2.3.4 public\nat 1s keepalive a %s\n", NULL},
	    {&scenario_latency_setting, 0, SEC(10), "internet latency %s\n", "internet.latency"},
	    {&scenario_latency_setting, 0, SEC(10), "host a at 1.2.3.4 public\nlink a latency %s\n",
	     NULL},
	    {&scenario_jitter_setting, 0, SEC(10), "internet jitter %s\n", "internet.jitter"},
	    {&scenario_nat_timeout_setting, SEC(1), SEC(86400),
	     "nat n preset full-cone public 2.2.2.2 timeout %s\n", "isp.timeout"},
	    {&scenario_time_setting, 0, SEC(86400), "at %s note \"x\"\n", NULL},
	    {&scenario_time_setting, 0, SEC(86400),
	     "host a at 1.1.1.1 public\nhost b at 1.1.1.2 public\nexpect a and b direct by %s\n",
	     NULL},
	};
	struct scenario *w = parse_ok(world);
	struct diag *d = diag_new();
	char v[64], arg[128];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char *key = table[i].set_key;
		assert_int_equal(table[i].set->min_ns, table[i].min_ns);
		assert_int_equal(table[i].set->max_ns, table[i].max_ns);
		for (int k = 0; k < 4; k++) {
			/* the bounds pass, one nanosecond past them fails */
			int64_t ns = k == 0   ? table[i].min_ns
				     : k == 1 ? table[i].max_ns
				     : k == 2 ? table[i].max_ns + 1
					      : table[i].min_ns - 1;
			bool ok = k < 2;
			if (ns < 0)
				continue;
			if (ok)
				units_format_duration(ns, v, sizeof(v));
			else
				snprintf(v, sizeof(v), "%lldns", (long long)ns);
			assert_true(parses_with(table[i].fmt, v) == ok);
			snprintf(arg, sizeof(arg), "%s=%s", key ? key : "", v);
			assert_true(!key || (scenario_set_override(w, arg, d) == 0) == ok);
		}
	}
	assert_true(parses_with("host a at 1.2.3.4 public keepalive %s\n", "off"));
	assert_int_equal(SCENARIO_MAX_TIME_NS, SEC(86400));
	diag_free(d);
	scenario_free(w);
}

/* Texts are checked against what the protocol can carry: a `send` (and so an
 * `expect data`) against AGENT_MAX_DATA, a `raw` payload against one UDP
 * datagram in a 1500-byte packet. Escapes count as the bytes they stand for. */
static void test_protocol_limits(void **state)
{
	(void)state;
	static const char world_text[] = "coordinator c at 192.0.2.1\nhost a at 1.1.1.1 public\n"
					 "host b at 1.1.1.2 public\n";
	static const struct {
		const char *head;
		size_t max;
		const char *unit; /* what one byte of text is written as */
		const char *want;
	} table[] = {
	    {"at 1s send a to b \"", 1200, "x",
	     "t.nsim:4:19: error: the text is 1201 bytes long; a message between peers is at most "
	     "1200 bytes"},
	    {"at 1s send a to b \"", 1200, "\\n",
	     "t.nsim:4:19: error: the text is 1201 bytes long; a message between peers is at most "
	     "1200 bytes"},
	    {"at 1s raw a from 5 to 1.1.1.2:9 \"", 1472, "x",
	     "t.nsim:4:33: error: the text is 1473 bytes long; a raw datagram's payload is at most "
	     "1472 bytes"},
	    {"at 1s note \"", 300, "z",
	     "t.nsim:4:12: error: the text is 301 bytes long; a note (one line of the timeline) "
	     "is at most 300 bytes"},
	    {"expect data at b \"", 1200, "y",
	     "t.nsim:4:18: error: the text is 1201 bytes long; a message between peers is at most "
	     "1200 bytes"},
	};
	size_t cap = 8192;
	char *text = malloc(cap);

	assert_non_null(text);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		for (size_t n = table[i].max; n <= table[i].max + 1; n++) {
			size_t used =
			    (size_t)snprintf(text, cap, "%s%s", world_text, table[i].head);
			for (size_t k = 0; k < n; k++)
				used +=
				    (size_t)snprintf(text + used, cap - used, "%s", table[i].unit);
			snprintf(text + used, cap - used, "\"\n");
			if (n == table[i].max) {
				struct scenario *s = parse_ok(text);
				scenario_free(s);
			} else {
				assert_true(expect_error(text, table[i].want));
			}
		}
	}
	free(text);
	/* A name of 63 bytes, the longest allowed, is fine. */
	struct scenario *s = parse_ok("host " A16 A16 A16 "aaaaaaaaaaaaaaa at 1.2.3.4 public\n");
	assert_int_equal(strlen(s->hosts[0].name), 63);
	scenario_free(s);
}

/* Valid UTF-8 in strings and comments stays welcome. */
static void test_utf8_text(void **state)
{
	(void)state;
	struct scenario *s =
	    parse_ok("title \"caf\xc3\xa9 \xe2\x86\x94 na\xc3\xafve \xf0\x9f\x98\x80\"\n"
		     "# \xe2\x9c\x93 comment\n");
	assert_string_equal(s->title, "caf\xc3\xa9 \xe2\x86\x94 na\xc3\xafve \xf0\x9f\x98\x80");
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classic),
	    cmocka_unit_test(test_world_forms),
	    cmocka_unit_test(test_actions_and_expects),
	    cmocka_unit_test(test_expect_end),
	    cmocka_unit_test(test_layout_tolerance),
	    cmocka_unit_test(test_coordinator_is_a_node),
	    cmocka_unit_test(test_repository_classic),
	    cmocka_unit_test(test_warning_does_not_fail),
	    cmocka_unit_test(test_error_classes),
	    cmocka_unit_test(test_notes_follow_errors),
	    cmocka_unit_test(test_many_errors_one_pass),
	    cmocka_unit_test(test_too_many_errors),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_nat_port_mapping_servers),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_mutation_fuzz),
	    cmocka_unit_test(test_fuzz_extremes),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_setting_ranges),
	    cmocka_unit_test(test_protocol_limits),
	    cmocka_unit_test(test_utf8_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
