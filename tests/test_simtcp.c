/*
 * test_simtcp.c - the p2p agents and the coordinator over the simulated
 * hosts' TCP stacks (app/world/simtcp.c, `connect A to B over tcp`): TCP
 * hole punching by simultaneous open through two cone NATs, the relay when
 * NATs answer a stray SYN with an RST or map symmetrically, and the
 * language's refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/lang/scenario.h"
#include "app/world/runner.h"
#include "app/world/simtcp.h"

/* Bob's link is slow, so Alice's SYN reaches Bob's NAT before Bob's own
 * SYN has left it: that NAT sees a stray SYN first. With 200 ms every retry
 * of a refused connect is still too early (scenarios/tcp-punch-rst.nsim). */
#define TCP_WORLD(home, office, nat_opts, bob_ms)                                                  \
	"seed 1\n"                                                                                 \
	"internet latency 20ms\n"                                                                  \
	"coordinator coord at 192.0.2.10\n"                                                        \
	"nat home preset " home " " nat_opts " public 203.0.113.7\n"                               \
	"nat office preset " office " " nat_opts " public 198.51.100.9\n"                          \
	"host alice at 192.168.1.5 behind home\n"                                                  \
	"host bob at 10.0.0.7 behind office\n"                                                     \
	"link bob latency " bob_ms "ms\n"                                                          \
	"at 0s register alice\n"                                                                   \
	"at 0s register bob\n"                                                                     \
	"at 1s connect alice to bob over tcp\n"                                                    \
	"at 7s send alice to bob \"over tcp\"\n"                                                   \
	"expect data at bob from alice \"over tcp\" by 8s\n"

struct run {
	struct scenario *s;
	struct run_result res;
};

static void run_text(struct run *r, const char *text)
{
	struct diag *d = diag_new();
	struct run_options opt = {.until_ns = SCENARIO_UNSET};
	r->s = scenario_parse(text, strlen(text), "t.nsim", d);
	if (r->s == NULL || diag_count_errors(d) > 0)
		diag_print(d, stderr, false);
	assert_non_null(r->s);
	assert_int_equal(runner_run(r->s, &opt, &r->res, d), 0);
	diag_free(d);
	assert_int_equal(r->res.n_pairs, 1);
	assert_int_equal(r->res.n_failed, 0); /* the data arrives either way */
}

static void run_free(struct run *r)
{
	run_result_free(&r->res);
	scenario_free(r->s);
}

static void test_cone_nats_punch_direct(void **state)
{
	struct run r;
	(void)state;
	run_text(&r, TCP_WORLD("port-restricted-cone", "port-restricted-cone", "", "100"));
	assert_int_equal(r.res.pairs[0].path, SCENARIO_PATH_DIRECT);
	assert_non_null(strstr(r.res.pairs[0].detail, "TCP"));
	/* The punch leaves from the port the coordinator saw (5000 kept by the
	 * cones): the chosen connection runs between the two public ends. */
	assert_non_null(strstr(r.res.pairs[0].detail, "198.51.100.9:5000"));
	/* Alice's first SYN died at office; bob's reached her in SYN-SENT:
	 * her side of it was a simultaneous open, and her outcome says so. */
	assert_non_null(strstr(r.res.pairs[0].detail, "via simultaneous open"));
	run_free(&r);
}

static void test_rst_nats_spoil_the_punch(void **state)
{
	struct run r;
	(void)state;
	run_text(&r, TCP_WORLD("port-restricted-cone", "port-restricted-cone",
			       "tcp-unsolicited rst", "200"));
	assert_int_equal(r.res.pairs[0].path, SCENARIO_PATH_RELAYED);
	assert_int_equal(r.res.pairs[0].direct_at, SCENARIO_UNSET);
	run_free(&r);
}

static void test_symmetric_nat_relays(void **state)
{
	struct run r;
	(void)state;
	run_text(&r, TCP_WORLD("port-restricted-cone", "symmetric", "", "100"));
	assert_int_equal(r.res.pairs[0].path, SCENARIO_PATH_RELAYED);
	run_free(&r);
}

static int parse_errors(const char *text)
{
	struct diag *d = diag_new();
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	int n = (int)diag_count_errors(d);
	scenario_free(s);
	diag_free(d);
	return n;
}

#define TWO_HOSTS                                                                                  \
	"coordinator coord at 192.0.2.10\n"                                                        \
	"host alice at 198.51.100.5 public\n"                                                      \
	"host bob at 198.51.100.6 public\n"                                                        \
	"host carol at 198.51.100.7 public\n"

static void test_language(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	const char ok[] = TWO_HOSTS "at 1s connect alice to bob over tcp\n"
				    "at 1s connect carol to bob over tcp\n";
	struct scenario *s = scenario_parse(ok, sizeof(ok) - 1, "t.nsim", d);
	assert_int_equal(diag_count_errors(d), 0);
	assert_true(s->actions[0].tcp);
	assert_true(scenario_host_speaks_tcp(s, "alice"));
	assert_true(scenario_host_speaks_tcp(s, "bob"));
	scenario_free(s);
	diag_free(d);

	assert_int_equal(parse_errors(TWO_HOSTS "at 1s connect alice to bob over udp\n"), 1);
	/* One agent, one transport. */
	assert_int_equal(parse_errors(TWO_HOSTS "at 1s connect alice to bob over tcp\n"
						"at 1s connect carol to bob\n"),
			 1);
	assert_int_equal(parse_errors(TWO_HOSTS "at 1s connect alice to bob over tcp\n"
						"at 1s classify alice\n"),
			 1);
	assert_int_equal(parse_errors(TWO_HOSTS "at 1s connect alice to bob\n"
						"at 1s classify alice\n"),
			 0);
}

static void test_close_reasons(void **state)
{
	(void)state;
	assert_int_equal(simtcp_close_reason(0), P2P_TCP_CLOSED_BY_PEER);
	assert_int_equal(simtcp_close_reason(ECONNREFUSED), P2P_TCP_REFUSED);
	assert_int_equal(simtcp_close_reason(ECONNRESET), P2P_TCP_RESET);
	assert_int_equal(simtcp_close_reason(ETIMEDOUT), P2P_TCP_TIMED_OUT);
	assert_int_equal(simtcp_close_reason(EHOSTUNREACH), P2P_TCP_UNREACHABLE);
	assert_int_equal(simtcp_close_reason(ENETUNREACH), P2P_TCP_UNREACHABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cone_nats_punch_direct),
	    cmocka_unit_test(test_rst_nats_spoil_the_punch),
	    cmocka_unit_test(test_symmetric_nat_relays),
	    cmocka_unit_test(test_language),
	    cmocka_unit_test(test_close_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
