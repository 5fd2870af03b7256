/*
 * test_runner_hard.c - issue 17 in a run: background traffic takes one new
 * mapping per flow in a sequential NAT, evenly spaced, said in two timeline
 * lines; a host's techniques and budgets reach its agent (port prediction
 * turns a pair direct, its window decides it), and background traffic
 * between registration and connect spoils the prediction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/lang/scenario.h"
#include "app/world/runner.h"
#include "app/world/world.h"

#define SEC(x) ((int64_t)(x)*1000000000)
#define MSEC(x) ((int64_t)(x)*1000000)
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* What the trace showed of carol's background traffic. */
struct seen {
	int sends;	       /* datagrams carol's host sent */
	int64_t send_at[64];   /* the first ones' times */
	uint16_t sport[64];    /* and their source ports */
	int mappings;	       /* mappings home made for carol */
	uint16_t external[64]; /* their public ports, in order */
	int drops;
	int app_lines; /* "background" app records */
	int64_t app_at;
	char app_text[300];
	char action[300]; /* the runner's line for the action */
};

static uint16_t udp_sport(const struct trace_packet *p)
{
	size_t ihl = (size_t)(p->bytes[0] & 15) * 4;
	return (uint16_t)(p->bytes[ihl] << 8 | p->bytes[ihl + 1]);
}

static void observe(const struct trace_record *r, void *ctx)
{
	struct seen *s = ctx;
	if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP)
		s->drops++;
	if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
	    strcmp(r->u.packet.node, "carol") == 0) {
		if (s->sends < 64) {
			s->send_at[s->sends] = r->time;
			s->sport[s->sends] = udp_sport(&r->u.packet);
		}
		s->sends++;
	}
	if (r->kind == TRACE_MAPPING && r->u.map.event == TRACE_MAP_CREATED &&
	    r->u.map.internal.ip == IP(192, 168, 1, 6) && s->mappings < 64)
		s->external[s->mappings++] = r->u.map.external.port;
	if (r->kind == TRACE_APP && strcmp(r->u.app.app, "background") == 0) {
		s->app_lines++;
		s->app_at = r->time;
		snprintf(s->app_text, sizeof(s->app_text), "%s", r->u.app.text);
	}
	if (r->kind == TRACE_SCENARIO && r->u.scenario.event == TRACE_SCN_ACTION &&
	    strstr(r->u.scenario.text, "background"))
		snprintf(s->action, sizeof(s->action), "%s", r->u.scenario.text);
}

static const char world_text[] = "coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
				 "nat home   preset symmetric ports sequential public 203.0.113.7\n"
				 "nat office preset port-restricted-cone public 198.51.100.9\n"
				 "host alice at 192.168.1.5 behind home   techniques prediction\n"
				 "host bob   at 10.0.0.7    behind office techniques prediction\n"
				 "host carol at 192.168.1.6 behind home\n"
				 "host dns   at 198.51.100.50 public\n"
				 "at 0s register alice\n"
				 "at 0s register bob\n";

/* Runs world_text + `more` with --set overrides; returns the pair's path
 * at the end (or -1 without a pair) and fills *seen. */
static int run(const char *more, const char *const *sets, struct seen *seen)
{
	char text[2048];
	struct diag *d = diag_new();
	struct run_options opt = {.until_ns = SCENARIO_UNSET, .n_observers = 1};
	struct run_result res;

	memset(seen, 0, sizeof(*seen));
	opt.observers[0].fn = observe;
	opt.observers[0].ctx = seen;
	snprintf(text, sizeof(text), "%s%s", world_text, more);
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	if (s == NULL)
		diag_print(d, stderr, false);
	assert_non_null(s);
	for (size_t i = 0; sets && sets[i]; i++)
		assert_int_equal(scenario_set_override(s, sets[i], d), 0);
	assert_int_equal(runner_run(s, &opt, &res, d), 0);
	int path = res.n_pairs ? res.pairs[0].path : -1;
	run_result_free(&res);
	scenario_free(s);
	diag_free(d);
	return path;
}

/* 5 flows a second for 10 s: 50 sockets, 200 ms apart, each from a new
 * port, each a new mapping in the sequential NAT (1024 is alice's, 1025 and
 * 1026 her measurement's), nothing dropped, two lines. */
static void test_background_flows(void **state)
{
	(void)state;
	struct seen s;
	run("at 1s background carol to dns:53 rate 5/s for 10s\n", NULL, &s);
	assert_int_equal(s.sends, 50);
	assert_int_equal(s.mappings, 50);
	for (int k = 0; k < 50; k++) {
		assert_int_equal(s.send_at[k], SEC(1) + k * MSEC(200));
		assert_int_equal(s.external[k], 1027 + k);
		if (k > 0)
			assert_int_equal(s.sport[k], s.sport[0] + k);
	}
	assert_int_equal(s.drops, 0);
	assert_string_equal(s.action, "carol starts background traffic: 5 new flows a second "
				      "to 198.51.100.50:53 for 10 s");
	assert_int_equal(s.app_lines, 1);
	assert_int_equal(s.app_at, SEC(1) + 49 * MSEC(200));
	char want[200];
	snprintf(want, sizeof(want),
		 "ends after 50 new flows to 198.51.100.50:53, the first from port %u, the last "
		 "from port %u",
		 s.sport[0], s.sport[0] + 49);
	assert_string_equal(s.app_text, want);
	/* Rates that do not divide a second: flow k at k/3 s, exactly. */
	run("at 1s background carol to coord:9 rate 3/s for 2s size 100\n", NULL, &s);
	assert_int_equal(s.sends, 6);
	assert_int_equal(s.send_at[1], SEC(1) + 333333333);
	assert_int_equal(s.send_at[5], SEC(1) + 1666666666);
	assert_int_equal(s.drops, 0);
}

/* The host options reach the agent: prediction turns the pair direct, and
 * without it (or with a window too small for the port a probe to Bob's
 * host candidate used up) it stays relayed. */
static void test_techniques_reach_the_agent(void **state)
{
	(void)state;
	static const char *const none[] = {"alice.techniques=none", "bob.techniques=none", NULL};
	static const char *const small[] = {"bob.prediction-window=1", NULL};
	struct seen s;
	const char *connect = "at 1s connect alice to bob\n";
	assert_int_equal(run(connect, NULL, &s), SCENARIO_PATH_DIRECT);
	assert_int_equal(run(connect, none, &s), SCENARIO_PATH_RELAYED);
	assert_int_equal(run(connect, small, &s), SCENARIO_PATH_RELAYED);
}

/* Other traffic behind alice's NAT between registration and connect takes
 * the ports prediction counted on. */
static void test_background_spoils_prediction(void **state)
{
	(void)state;
	struct seen s;
	assert_int_equal(run("at 1s background carol to dns:53 rate 20/s for 2s\n"
			     "at 2s connect alice to bob\n",
			     NULL, &s),
			 SCENARIO_PATH_RELAYED);
	assert_int_equal(s.mappings, 40);
}

/* What world_hard_nat_config puts in the agent's config. */
static void test_agent_config(void **state)
{
	(void)state;
	struct scenario_host h = {.techniques = SCENARIO_TECH_ALL,
				  .probe_rate = 20,
				  .probes = 99,
				  .sockets = 16,
				  .prediction_window = 3,
				  .mapping_lifetime_ns = SEC(600)};
	struct agent_config ac = {0};
	world_hard_nat_config(&h, IP(192, 168, 1, 1), &ac);
	assert_int_equal(ac.techniques, AGENT_TECH_ALL);
	assert_int_equal(ac.probe_rate, 20);
	assert_int_equal(ac.probe_budget, 99);
	assert_int_equal(ac.birthday_sockets, 16);
	assert_int_equal(ac.prediction_window, 3);
	assert_int_equal(ac.mapping_lifetime_s, 600);
	assert_int_equal(ac.gateway.ip, IP(192, 168, 1, 1));
	assert_int_equal(ac.gateway.port, 0);
	/* Nothing given: all 0, the agent's defaults; no router to ask. */
	struct scenario_host unset = {.techniques = SCENARIO_UNSET,
				      .probe_rate = SCENARIO_UNSET,
				      .probes = SCENARIO_UNSET,
				      .sockets = SCENARIO_UNSET,
				      .prediction_window = SCENARIO_UNSET,
				      .mapping_lifetime_ns = SCENARIO_UNSET};
	struct agent_config zero = {0}, got = {0};
	world_hard_nat_config(&unset, IP(192, 168, 1, 1), &got);
	assert_memory_equal(&got, &zero, sizeof(got));
	/* Prediction alone asks no router. */
	h.techniques = SCENARIO_TECH_PREDICTION;
	got = zero;
	world_hard_nat_config(&h, IP(192, 168, 1, 1), &got);
	assert_int_equal(got.gateway.ip, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_background_flows),
	    cmocka_unit_test(test_techniques_reach_the_agent),
	    cmocka_unit_test(test_background_spoils_prediction),
	    cmocka_unit_test(test_agent_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
