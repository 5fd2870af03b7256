/*
 * test_scenario_hard.c - issue 17 in the scenario language: a host's
 * techniques against hard NATs and their budgets (in the file and with
 * --set), and the `background` action; each bad form with its first error,
 * line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support_lang.h"

#include "app/lang/scenario.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define SEC(x) ((int64_t)(x)*1000000000)

/* A world the lines under test are added to (lines 1-4). */
#define WORLD                                                                                      \
	"coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"                                   \
	"nat home preset symmetric ports sequential public 203.0.113.7\n"                          \
	"host carol at 192.168.1.6 behind home\n"                                                  \
	"host dns at 198.51.100.50 public\n"

/* The parse fails and its first error reads `want` ("L:C: message"). */
static void expect_error(const char *text, const char *want)
{
	struct diag *d = diag_new();
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	char got[800] = "(parsed without error)";

	for (size_t i = 0; s == NULL && i < diag_count(d); i++) {
		const struct diagnostic *dg = diag_get(d, i);
		if (dg->severity != DIAG_ERROR)
			continue; /* a warning the checks add on the way */
		snprintf(got, sizeof(got), "%d:%d: %s", dg->line, dg->col, dg->message);
		break;
	}
	if (strcmp(got, want) != 0)
		fprintf(stderr, "input: %s\nwant: %s\ngot:  %s\n", text, want, got);
	assert_string_equal(got, want);
	scenario_free(s);
	diag_free(d);
}

static void test_host_options(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(
	    WORLD
	    "host alice at 192.168.1.5 behind home techniques prediction, birthday "
	    "probe-rate 50/s probes 300 sockets 64 prediction-window 4 mapping-lifetime 10min\n"
	    "host bob at 198.51.100.20 public techniques all\n"
	    "host eve at 198.51.100.21 public techniques port-mapping\n"
	    "host nic at 198.51.100.22 public techniques none\n"
	    "host joe at 198.51.100.23 public techniques birthday+port-mapping, prediction\n");
	const struct scenario_host *a = scenario_find_host(s, "alice");
	assert_int_equal(a->techniques, SCENARIO_TECH_PREDICTION | SCENARIO_TECH_BIRTHDAY);
	assert_int_equal(a->probe_rate, 50);
	assert_int_equal(a->probes, 300);
	assert_int_equal(a->sockets, 64);
	assert_int_equal(a->prediction_window, 4);
	assert_int_equal(a->mapping_lifetime_ns, SEC(600));
	assert_int_equal(scenario_find_host(s, "bob")->techniques, SCENARIO_TECH_ALL);
	assert_int_equal(scenario_find_host(s, "eve")->techniques, SCENARIO_TECH_PORT_MAPPING);
	assert_int_equal(scenario_find_host(s, "nic")->techniques, 0);
	assert_int_equal(scenario_find_host(s, "joe")->techniques, SCENARIO_TECH_ALL);
	/* Not given: unset, so the agent's defaults apply. */
	const struct scenario_host *c = scenario_find_host(s, "carol");
	assert_int_equal(c->techniques, SCENARIO_UNSET);
	assert_int_equal(c->probe_rate, SCENARIO_UNSET);
	assert_int_equal(c->probes, SCENARIO_UNSET);
	assert_int_equal(c->sockets, SCENARIO_UNSET);
	assert_int_equal(c->prediction_window, SCENARIO_UNSET);
	assert_int_equal(c->mapping_lifetime_ns, SCENARIO_UNSET);
	scenario_free(s);
	/* The bounds themselves are accepted. */
	s = parse_ok(WORLD "host x at 198.51.100.9 public probe-rate 1/s probes 1 sockets 1 "
			   "prediction-window 1 mapping-lifetime 120s\n"
			   "host y at 198.51.100.8 public probe-rate 10000/s probes 65535 "
			   "sockets 1024 prediction-window 64 mapping-lifetime 24h\n");
	assert_int_equal(scenario_find_host(s, "x")->probe_rate, 1);
	assert_int_equal(scenario_find_host(s, "y")->probe_rate, 10000);
	assert_int_equal(scenario_find_host(s, "y")->sockets, 1024);
	assert_int_equal(scenario_find_host(s, "y")->mapping_lifetime_ns, SEC(86400));
	scenario_free(s);
}

/* "host h at 198.51.100.9 public " is 30 bytes: an option starts at col 31. */
#define H "host h at 198.51.100.9 public "

static void test_host_option_errors(void **state)
{
	(void)state;
	expect_error(H "techniques pcp\n", "1:42: 'pcp' is a protocol, not a technique: write "
					   "'port-mapping' (the agent asks its router with PCP, "
					   "else NAT-PMP)");
	expect_error(H "techniques brithday\n",
		     "1:42: expected a technique: prediction, birthday, port-mapping, all or "
		     "none, found 'brithday'; did you mean 'birthday'?");
	expect_error(H "techniques all, birthday\n",
		     "1:47: 'all' and 'none' stand alone: write 'techniques all' or a list of "
		     "techniques");
	expect_error(H "techniques birthday,none\n",
		     "1:51: 'all' and 'none' stand alone: write 'techniques none' or a list of "
		     "techniques");
	expect_error(H "techniques birthday, birthday\n",
		     "1:52: 'birthday' is given twice in the list");
	expect_error(H "techniques prediction+\n",
		     "1:42: expected a technique: prediction, birthday, port-mapping, all or "
		     "none, found ''");
	expect_error(H "techniques birthday+all\n",
		     "1:42: 'all' and 'none' stand alone: write 'techniques all' or a list of "
		     "techniques");
	expect_error(H "techniques prediction,\n",
		     "1:53: expected a technique (prediction, birthday, port-mapping, all or "
		     "none), but the line ends here");
	expect_error(H "probe-rate 100\n",
		     "1:42: expected a probe rate like 100/s (a whole number, then /s), found "
		     "'100'");
	expect_error(H "probe-rate 0/s\n",
		     "1:42: a probe rate '0/s' is out of range (1/s-10000/s)");
	expect_error(H "probe-rate 10001/s\n",
		     "1:42: a probe rate '10001/s' is out of range (1/s-10000/s)");
	expect_error(H "probes 0\n", "1:38: a number of probes '0' is out of range (1-65535)");
	expect_error(H "probes 65536\n",
		     "1:38: a number of probes '65536' is out of range (1-65535)");
	expect_error(H "sockets 1025\n",
		     "1:39: a number of sockets '1025' is out of range (1-1024)");
	expect_error(H "prediction-window 65\n",
		     "1:49: a prediction window '65' is out of range (1-64)");
	expect_error(H "prediction-window many\n",
		     "1:49: expected a prediction window (a whole number), found 'many'");
	expect_error(H "mapping-lifetime 60s\n",
		     "1:48: '60s' is out of range: a mapping lifetime is from 2min to 24h");
	expect_error(H "mapping-lifetime 2\n",
		     "1:48: expected a duration with a unit (ms, s, min), found '2'");
	expect_error(H "sockets 8 sockets 9\n", "1:41: 'sockets' is given twice in this statement");
}

static void test_host_overrides(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(WORLD);
	struct diag *d = diag_new();
	const struct scenario_host *c = scenario_find_host(s, "carol");
	static const char *const good[] = {
	    "carol.techniques=prediction, port-mapping",
	    "carol.probe-rate=20/s",
	    "carol.probes=500",
	    "carol.sockets=32",
	    "carol.prediction-window=16",
	    "carol.mapping-lifetime=1h",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(scenario_set_override(s, good[i], d), 0);
	assert_int_equal(c->techniques, SCENARIO_TECH_PREDICTION | SCENARIO_TECH_PORT_MAPPING);
	assert_int_equal(c->probe_rate, 20);
	assert_int_equal(c->probes, 500);
	assert_int_equal(c->sockets, 32);
	assert_int_equal(c->prediction_window, 16);
	assert_int_equal(c->mapping_lifetime_ns, SEC(3600));
	assert_int_equal(scenario_set_override(s, "carol.techniques=all", d), 0);
	assert_int_equal(c->techniques, SCENARIO_TECH_ALL);
	assert_int_equal(scenario_set_override(s, "carol.techniques=none", d), 0);
	assert_int_equal(c->techniques, 0);
	/* '+' joins names where commas separate values (natsim sweep --vary). */
	assert_int_equal(scenario_set_override(s, "carol.techniques=prediction+birthday", d), 0);
	assert_int_equal(c->techniques, SCENARIO_TECH_PREDICTION | SCENARIO_TECH_BIRTHDAY);
	assert_int_equal(scenario_set_override(s, "carol.techniques=none", d), 0);
	static const struct {
		const char *arg, *want;
	} bad[] = {
	    {"carol.techniques=pcp", "--set 'carol.techniques=pcp': 'pcp' is a protocol, not a "
				     "technique: write 'port-mapping' (the agent asks its router "
				     "with PCP, else NAT-PMP)"},
	    {"carol.techniques=birthday prediction",
	     "--set 'carol.techniques=birthday prediction': expected a comma between "
	     "techniques, found 'prediction'"},
	    {"carol.techniques=", "--set 'carol.techniques=': expected a technique: prediction, "
				  "birthday, port-mapping, all or none, found ''"},
	    {"carol.techniques=none,all", "--set 'carol.techniques=none,all': 'all' and 'none' "
					  "stand alone: write 'techniques all' or a list of "
					  "techniques"},
	    {"carol.probe-rate=5", "--set 'carol.probe-rate=5': expected a probe rate like "
				   "100/s (a whole number, then /s), found '5'"},
	    {"carol.sockets=0", "--set 'carol.sockets=0': a number of sockets '0' is out of "
				"range (1-1024)"},
	    {"carol.mapping-lifetime=2d", "--set 'carol.mapping-lifetime=2d': unknown unit 'd' "
					  "in '2d'; the units are ns, us, ms, s, min and h"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_clear(d);
		assert_int_equal(scenario_set_override(s, bad[i].arg, d), -1);
		assert_string_equal(diag_get(d, 0)->message, bad[i].want);
	}
	assert_int_equal(c->techniques, 0); /* a refused override changes nothing */
	diag_free(d);
	scenario_free(s);
}

static void test_background(void **state)
{
	(void)state;
	struct scenario *s =
	    parse_ok(WORLD "at 2s background carol to 198.51.100.50:53 rate 5/s\n"
			   "at 3s background carol to dns:53 rate 1000/s for 100s size 0\n"
			   "at 4s background carol to coord:9 size 1472 for 1.5s rate 2/s\n");
	assert_int_equal(s->n_actions, 3);
	const struct scenario_action *a = &s->actions[0];
	assert_int_equal(a->kind, SCENARIO_ACT_BACKGROUND);
	assert_string_equal(a->host.name, "carol");
	assert_null(a->dst.node.name);
	assert_int_equal(a->dst.ip, IP(198, 51, 100, 50));
	assert_int_equal(a->dst.port, 53);
	assert_int_equal(a->rate, 5);
	assert_int_equal(a->duration_ns, SEC(60)); /* the defaults */
	assert_int_equal(a->size, 16);
	assert_string_equal(s->actions[1].dst.node.name, "dns");
	assert_int_equal(s->actions[1].rate, 1000);
	assert_int_equal(s->actions[1].duration_ns, SEC(100));
	assert_int_equal(s->actions[1].size, 0);
	assert_int_equal(s->actions[2].duration_ns, SEC(3) / 2);
	assert_int_equal(s->actions[2].size, 1472);
	assert_string_equal(scenario_action_kind_name(a->kind), "background");
	scenario_free(s);
	/* Flows start at k/rate s while that is before the end. */
	assert_int_equal(scenario_background_flows(5, SEC(60)), 300);
	assert_int_equal(scenario_background_flows(3, SEC(1)), 3);
	assert_int_equal(scenario_background_flows(2, SEC(3) / 2), 3);
	assert_int_equal(scenario_background_flows(5, SEC(1) / 10), 1);
}

/* "at 1s background carol to " is 26 bytes: the endpoint is at col 27. */
#define B "at 1s background carol to "

static void test_background_errors(void **state)
{
	(void)state;
	expect_error(WORLD B "dns:53\n", "5:7: 'background' needs 'rate N/s': how many new flows "
					 "a second");
	expect_error(WORLD B "dns rate 5/s\n",
		     "5:27: expected an endpoint like 192.0.2.1:3478 or alice:5000, found 'dns' "
		     "(the port is missing)");
	expect_error(WORLD B "dns:0 rate 5/s\n",
		     "5:27: port 0 cannot be sent to; background traffic goes to a port 1-65535");
	expect_error(WORLD B "dns:53 rate 5\n",
		     "5:39: expected a rate like 100/s (a whole number, then /s), found '5'");
	expect_error(WORLD B "dns:53 rate 1001/s\n", "5:39: a rate '1001/s' is out of range "
						     "(1/s-1000/s)");
	expect_error(WORLD B "dns:53 rate 0/s\n",
		     "5:39: a rate '0/s' is out of range (1/s-1000/s)");
	expect_error(WORLD B "dns:53 rate 5/s for 0s\n",
		     "5:47: '0s' is out of range: a background traffic's duration is from 1ms to "
		     "24h");
	expect_error(WORLD B "dns:53 rate 5/s for 10\n",
		     "5:47: expected a duration with a unit (ms, s, min), found '10'");
	expect_error(WORLD B "dns:53 rate 5/s size 1473\n",
		     "5:48: the datagram size after 'size' must be a whole number from 0 to 1472, "
		     "found '1473'");
	expect_error(WORLD B "dns:53 rate 1000/s for 101s\n",
		     "5:46: this is 101000 flows (the rate times the duration); background "
		     "traffic is at most 100000 flows, e.g. 1000/s for 100s");
	expect_error(WORLD B "dns:53 rate 5/s rate 6/s\n",
		     "5:43: 'rate' is given twice in this statement");
	expect_error(WORLD B "dns:53 rate 5/s every 1s\n",
		     "5:43: unknown option 'every' in the 'background' statement; expected one of "
		     "rate, for, size");
	expect_error(WORLD "at 1s background dns from 1 to dns:53 rate 5/s\n",
		     "5:22: expected 'to' after the host name, found 'from'");
}

/* Background traffic needs a server to go to: a public host or the
 * coordinator, by name or address. */
static void test_background_targets(void **state)
{
	(void)state;
	struct scenario *s = parse_ok(WORLD B "192.0.2.11:53 rate 1/s\n" B "coord:53 rate 1/s\n" B
					      "198.51.100.50:9 rate 1/s\n");
	scenario_free(s);
	/* Not the coordinator's own ports (3478, 3479 on either address). */
	expect_error(WORLD B "coord:3478 rate 5/s\n",
		     "5:27: port 3478 is where the coordinator listens: it would refuse every "
		     "datagram as a bad message, one timeline line each; send to another of its "
		     "ports (e.g. coord:53)");
	expect_error(WORLD B "192.0.2.11:3479 rate 5/s\n",
		     "5:27: port 3479 is where the coordinator listens: it would refuse every "
		     "datagram as a bad message, one timeline line each; send to another of its "
		     "ports (e.g. coord:53)");
	expect_error(
	    WORLD B "home:53 rate 5/s\n",
	    "5:27: background traffic goes to a public host or the coordinator, which take "
	    "it in; 'home' is a NAT");
	expect_error(
	    WORLD "host alice at 192.168.1.5 behind home\n" B "alice:53 rate 5/s\n",
	    "6:27: background traffic goes to a public host or the coordinator, which take "
	    "it in; 'alice' is behind a NAT");
	expect_error(
	    WORLD B "198.51.100.51:53 rate 5/s\n",
	    "5:27: no public host or coordinator has the address 198.51.100.51: background "
	    "traffic needs a server to go to (e.g. 'host dns at 198.51.100.51 public')");
	expect_error(WORLD B "dsn:53 rate 5/s\n", "5:27: unknown node 'dsn'; did you mean 'dns'?");
	expect_error(WORLD "at 1s background carl to dns:53 rate 5/s\n",
		     "5:18: unknown host 'carl'; did you mean 'carol'?");
}

/* The warnings of a file that parses: the diagnostics' "L:C: message". */
static void expect_warnings(const char *text, const char *const *want, size_t n)
{
	struct diag *d = diag_new();
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	size_t got = 0;

	assert_non_null(s);
	for (size_t i = 0; i < diag_count(d); i++) {
		const struct diagnostic *dg = diag_get(d, i);
		char line[600];
		if (dg->severity != DIAG_WARNING)
			continue;
		snprintf(line, sizeof(line), "%d:%d: %s", dg->line, dg->col, dg->message);
		assert_true(got < n);
		assert_string_equal(line, want[got]);
		got++;
	}
	assert_int_equal(got, n);
	scenario_free(s);
	diag_free(d);
}

/* Settings that would do nothing are said so, and the file still runs. */
static void test_hard_settings_that_do_nothing(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "5:6: host 'x' sets budgets for techniques it does not use; add 'techniques "
	    "prediction' (or birthday, port-mapping, all)",
	    "6:6: host 'y' speaks TCP (a 'connect ... over tcp' names it): its techniques are "
	    "UDP ones and do nothing",
	    "7:6: host 'w' is public: no NAT of its own to ask for a mapping (its requests meet "
	    "the internet's router, which answers port unreachable)",
	};
	expect_warnings(WORLD "host x at 198.51.100.8 public probes 9\n"
			      "host y at 198.51.100.7 public techniques prediction\n"
			      "host w at 198.51.100.6 public techniques all\n"
			      "at 1s connect y to dns over tcp\n",
			want, 3);
	/* The same hosts used as meant: nothing to say. */
	expect_warnings(WORLD "host x at 192.168.1.8 behind home techniques all probes 9\n"
			      "host y at 198.51.100.7 public techniques prediction,birthday\n"
			      "at 1s connect y to x\n",
			NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_options),
	    cmocka_unit_test(test_host_option_errors),
	    cmocka_unit_test(test_host_overrides),
	    cmocka_unit_test(test_background),
	    cmocka_unit_test(test_background_errors),
	    cmocka_unit_test(test_background_targets),
	    cmocka_unit_test(test_hard_settings_that_do_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
