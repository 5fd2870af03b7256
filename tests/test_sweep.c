/*
 * test_sweep.c - natsim sweep's arithmetic and plan (app/world/stats.c,
 * app/world/sweep.c), its plot script (app/cli/sweep_plot.c), and that its
 * trials give the same results on one process or two (app/world/sweep_run.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/world/stats.h"
#include "app/world/sweep.h"
#include "app/world/sweep_curve.h"
#include "app/cli/sweep_out.h"
#include "app/cli/sweep_plot.h"
#include "app/world/sweep_run.h"
#include "app/lang/scenario.h"

/* Newcombe (1998), "Two-sided confidence intervals for the single
 * proportion: comparison of seven methods", Statistics in Medicine 17,
 * Table I, method 3 (the Wilson score interval), to its four decimals. */
static void test_wilson_against_newcombe(void **state)
{
	static const struct {
		uint64_t x, n;
		double low, high;
	} rows[] = {
	    {81, 263, 0.2553, 0.3662},
	    {15, 148, 0.0624, 0.1605},
	    {0, 20, 0.0000, 0.1611},
	    {1, 29, 0.0061, 0.1718},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct stats_share s = stats_wilson(rows[i].x, rows[i].n, STATS_Z95);
		assert_float_equal(s.share, (double)rows[i].x / (double)rows[i].n, 1e-12);
		assert_float_equal(s.low, rows[i].low, 0.00005);
		assert_float_equal(s.high, rows[i].high, 0.00005);
	}
}

/* All or nothing: one end is exactly the bound, the other is not (the
 * textbook interval would be [1, 1]); no trials say nothing. */
static void test_wilson_at_the_bounds(void **state)
{
	(void)state;
	struct stats_share all = stats_wilson(50, 50, STATS_Z95);
	assert_true(all.high == 1.0);
	assert_float_equal(all.low, 0.9287, 0.00005); /* 1 - 0.0713, as 0 of 50 */
	struct stats_share none = stats_wilson(0, 50, STATS_Z95);
	assert_true(none.low == 0.0);
	assert_float_equal(none.high, 1.0 - all.low, 1e-12);
	struct stats_share empty = stats_wilson(0, 0, STATS_Z95);
	assert_true(empty.low == 0.0 && empty.high == 1.0);
	/* A wider quantile, a wider interval. */
	struct stats_share half95 = stats_wilson(5, 10, STATS_Z95);
	struct stats_share half99 = stats_wilson(5, 10, 2.5758293035489);
	assert_true(half99.low < half95.low && half99.high > half95.high);
}

/* The binomial's central 99 % range, against its tails summed exactly
 * (python3: math.comb, the first k from each end whose tail passes 0.005). */
static void test_binomial_range(void **state)
{
	static const struct {
		double p;
		uint64_t n, low, high;
	} rows[] = {
	    {0.5, 1000, 459, 541},
	    {0.5, 20, 4, 16},
	    {0.2246753982085048, 1000, 191, 259},  /* P(64), K = 256 */
	    {0.6386448413069236, 1000, 599, 677},  /* P(256) */
	    {0.982949503249507, 1000, 972, 992},   /* P(1024) */
	    {0.9997092805605614, 1000, 998, 1000}, /* P(2048): the normal approximation
						      would put 998 outside */
	};
	uint64_t lo, hi;
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		stats_binomial_range(rows[i].p, rows[i].n, 0.01, &lo, &hi);
		assert_int_equal(lo, rows[i].low);
		assert_int_equal(hi, rows[i].high);
	}
	stats_binomial_range(0.0, 50, 0.01, &lo, &hi);
	assert_true(lo == 0 && hi == 0);
	stats_binomial_range(1.0, 50, 0.01, &lo, &hi);
	assert_true(lo == 50 && hi == 50);
}

/* P(n) = 1 - (1 - K/R)^n, and a point's 99 % range around it. */
static void test_birthday_curve(void **state)
{
	struct sweep_curve c = {SWEEP_CURVE_BIRTHDAY, 0, "bob", "alice", 256, SWEEP_BIRTHDAY_RANGE};
	(void)state;
	assert_int_equal(SWEEP_BIRTHDAY_RANGE, 65535 - 1024 + 1);
	assert_float_equal(sweep_curve_value(&c, 256), 0.6386448413069236, 1e-12);
	assert_float_equal(sweep_curve_value(&c, 2048), 0.9997092805605614, 1e-12);
	assert_float_equal(sweep_curve_value(&c, 1), 256.0 / 64512, 1e-15);
	assert_true(sweep_curve_value(&c, 0) == 0.0);
	c.open_ports = 128;
	assert_float_equal(sweep_curve_value(&c, 256), 1 - 0.6014324329876258, 1e-12);
	c.open_ports = 256;
	/* The +1 of the hard side's own socket: about 1/(e K), at n near R/K. */
	assert_float_equal(sweep_curve_plus_one(&c), 0.00144, 0.00002);
	struct sweep_curve none = {0};
	assert_true(sweep_curve_value(&none, 256) == 0.0);
}

static const char birthday_world[] = "coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
				     "nat home preset symmetric public 203.0.113.7\n"
				     "nat office preset port-restricted-cone public 198.51.100.9\n"
				     "host alice at 192.168.1.5 behind home\n"
				     "host bob at 10.0.0.7 behind office\n"
				     "at 0s register alice\n"
				     "at 0s register bob\n"
				     "at 1s connect bob to alice\n";

/* The birthday world, both sides searching, alice (hard) with `sockets`. */
static struct scenario *birthday_scenario(int sockets, struct diag *d)
{
	struct scenario *s = scenario_parse(birthday_world, strlen(birthday_world), "<t>", d);
	assert_non_null(s);
	for (size_t i = 0; i < s->n_hosts; i++)
		s->hosts[i].techniques = SCENARIO_TECH_BIRTHDAY;
	s->hosts[0].sockets = sockets;
	return s;
}

/* Whether the curve applies, and what is missing when it does not. */
static bool curve_of(struct scenario *s, const char *vary_arg, struct sweep_curve *c, char *why)
{
	struct sweep_vary v;
	char msg[256];
	assert_int_equal(sweep_vary_parse(vary_arg, &v, msg, sizeof(msg)), 0);
	bool found = sweep_curve_find(s, &v, 1, c, why, 256);
	sweep_vary_fini(&v);
	return found;
}

static void test_curve_find(void **state)
{
	struct diag *d = diag_new();
	struct scenario *s = birthday_scenario(128, d);
	struct sweep_curve c;
	char why[256];
	(void)state;
	assert_true(curve_of(s, "bob.probes=64,256", &c, why));
	assert_int_equal(c.kind, SWEEP_CURVE_BIRTHDAY);
	assert_string_equal(c.prober, "bob");
	assert_string_equal(c.hard, "alice");
	assert_int_equal(c.open_ports, 128);
	assert_int_equal(c.port_range, 64512);
	assert_int_equal(c.pair, 0);
	s->hosts[0].sockets = SCENARIO_UNSET; /* the agent's default K */
	assert_true(curve_of(s, "bob.probes=64", &c, why));
	assert_int_equal(c.open_ports, 256);
	/* Not a probe budget; the hard side's; not a host. */
	assert_false(curve_of(s, "office.preset=symmetric", &c, why));
	assert_non_null(strstr(why, "HOST.probes"));
	assert_false(curve_of(s, "alice.probes=64", &c, why));
	assert_non_null(strstr(why, "bob behind one NAT that gives each destination a new"));
	assert_false(curve_of(s, "carol.probes=64", &c, why));
	assert_non_null(strstr(why, "'carol' to be a host"));
	/* The hard side not searching; its NAT keeping ports in order. */
	s->hosts[0].techniques = SCENARIO_UNSET;
	assert_false(curve_of(s, "bob.probes=64", &c, why));
	assert_non_null(strstr(why, "alice to run the birthday search"));
	s->hosts[0].techniques = SCENARIO_TECH_ALL;
	assert_true(curve_of(s, "bob.probes=64", &c, why));
	assert_int_equal(scenario_set_override(s, "office.preset=symmetric", d), 0);
	assert_false(curve_of(s, "bob.probes=64", &c, why)); /* both hard */
	assert_non_null(strstr(why, "bob public or behind one NAT that keeps one port"));
	assert_int_equal(scenario_set_override(s, "office.preset=full-cone", d), 0);
	assert_int_equal(scenario_set_override(s, "home.ports=sequential", d), 0);
	assert_false(curve_of(s, "bob.probes=64", &c, why));
	assert_non_null(strstr(why, "new random port"));
	scenario_free(s);
	/* Two pairs of bob's: which would the curve be about? */
	char two[sizeof(birthday_world) + 80];
	snprintf(two, sizeof(two),
		 "%shost carol at 198.51.100.77 public\nat 2s connect bob to carol\n",
		 birthday_world);
	s = scenario_parse(two, strlen(two), "<t>", d);
	assert_non_null(s);
	for (size_t i = 0; i < s->n_hosts; i++)
		s->hosts[i].techniques = SCENARIO_TECH_BIRTHDAY;
	assert_false(curve_of(s, "bob.probes=64", &c, why));
	assert_non_null(strstr(why, "bob in exactly one `connect` pair"));
	scenario_free(s);
	diag_free(d);
}

/* A point against the curve: P(n) from the point's own budget, and the
 * measured direct count inside or outside the 99 % range. */
static void test_curve_compare(void **state)
{
	struct diag *d = diag_new();
	struct scenario *s = birthday_scenario(256, d);
	struct sweep_curve c;
	struct sweep_curve_point cp;
	struct sweep_summary m = {.trials = 1000};
	char why[256];
	(void)state;
	assert_true(curve_of(s, "bob.probes=256", &c, why));
	s->hosts[1].probes = 256;
	m.count[SWEEP_DIRECT] = 599;
	sweep_curve_compare(&c, s, 0, &m, &cp);
	assert_true(cp.x == 256);
	assert_int_equal(cp.limit, SWEEP_CURVE_HOLDS);
	assert_float_equal(cp.expected, 0.6386448413069236, 1e-12);
	assert_float_equal(cp.low, 0.599, 1e-12);
	assert_float_equal(cp.high, 0.677, 1e-12);
	assert_true(cp.fits);
	m.count[SWEEP_DIRECT] = 598; /* one short */
	sweep_curve_compare(&c, s, 0, &m, &cp);
	assert_false(cp.fits);
	m.count[SWEEP_DIRECT] = 678;
	sweep_curve_compare(&c, s, 0, &m, &cp);
	assert_false(cp.fits);
	/* The world's run (no expectation: the last action, 1 s, + 10 s) ends
	 * before 256 + 2048 probes at 100 a second; --until 30 s does not. */
	s->hosts[1].probes = 2048;
	sweep_curve_compare(&c, s, 0, &m, &cp);
	assert_int_equal(cp.limit, SWEEP_CURVE_RUN_ENDS);
	assert_float_equal(cp.last_probe_s, 1 + 23.03 + 0.5, 1e-9);
	sweep_curve_compare(&c, s, 30000000000LL, &m, &cp);
	assert_int_equal(cp.limit, SWEEP_CURVE_HOLDS);
	/* ...unless the mappings time out first (home's 20 s). */
	assert_int_equal(scenario_set_override(s, "home.timeout=20s", d), 0);
	sweep_curve_compare(&c, s, 30000000000LL, &m, &cp);
	assert_int_equal(cp.limit, SWEEP_CURVE_MAPPINGS_EXPIRE);
	scenario_free(s);
	diag_free(d);
}

static void test_rank_percentiles(void **state)
{
	int64_t v[] = {7, 3, 10, 1, 9, 2, 8, 4, 6, 5};
	(void)state;
	stats_sort(v, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(v[i], i + 1);
	assert_int_equal(stats_rank_percentile(v, 10, 0.5), 5); /* rank ceil(5) */
	assert_int_equal(stats_rank_percentile(v, 10, 0.9), 9); /* rank ceil(9) */
	assert_int_equal(stats_rank_percentile(v, 9, 0.5), 5);	/* rank ceil(4.5) */
	assert_int_equal(stats_rank_percentile(v, 9, 0.9), 9);	/* rank ceil(8.1) */
	assert_int_equal(stats_rank_percentile(v, 1, 0.9), 1);
	assert_int_equal(stats_rank_percentile(v, 10, 1.0), 10);
}

/* The trials' seeds are splitmix64's outputs: Vigna's splitmix64.c seeded
 * with 1234567 starts 6457827717110365317, 3203168211198807973,
 * 9817491932198370423. */
static void test_trial_seeds(void **state)
{
	(void)state;
	assert_true(sweep_trial_seed(1234567, 0) == 6457827717110365317ULL);
	assert_true(sweep_trial_seed(1234567, 1) == 3203168211198807973ULL);
	assert_true(sweep_trial_seed(1234567, 2) == 9817491932198370423ULL);
	/* Another base seed, other seeds; no two trials alike. */
	assert_true(sweep_trial_seed(1, 0) != sweep_trial_seed(2, 0));
	uint64_t seen[1000];
	for (uint64_t t = 0; t < 1000; t++) {
		seen[t] = sweep_trial_seed(1, t);
		for (uint64_t u = 0; u < t; u++)
			assert_true(seen[u] != seen[t]);
	}
}

static void test_vary_parse(void **state)
{
	struct sweep_vary v;
	char msg[256];
	(void)state;
	assert_int_equal(sweep_vary_parse("home.preset=full-cone,symmetric", &v, msg, sizeof(msg)),
			 0);
	assert_string_equal(v.key, "home.preset");
	assert_int_equal(v.n_values, 2);
	assert_string_equal(v.values[0], "full-cone");
	assert_string_equal(v.values[1], "symmetric");
	sweep_vary_fini(&v);
	assert_int_equal(sweep_vary_parse("home.preset", &v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "expected NAME.KEY=V1,V2"));
	assert_int_equal(sweep_vary_parse("home.preset=a,,b", &v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "empty value"));
	assert_int_equal(sweep_vary_parse("home.preset=a,", &v, msg, sizeof(msg)), -1);
	assert_int_equal(sweep_vary_parse("=a", &v, msg, sizeof(msg)), -1);
	assert_int_equal(sweep_vary_parse("seed=1,2", &v, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "seed cannot be varied"));
}

/* Two varies: 2 x 3 points, the first changing slowest. */
static void test_cartesian_product(void **state)
{
	struct sweep_vary v[2];
	char msg[256], set[64];
	(void)state;
	assert_int_equal(sweep_vary_parse("a.k=x,y", &v[0], msg, sizeof(msg)), 0);
	assert_int_equal(sweep_vary_parse("b.k=1,2,3", &v[1], msg, sizeof(msg)), 0);
	assert_int_equal(sweep_point_count(v, 2), 6);
	assert_int_equal(sweep_point_count(v, 0), 1);
	struct sweep_vary many[70];
	for (size_t k = 0; k < 70; k++)
		many[k] = v[0]; /* 2^70 points: more than a size_t counts */
	assert_true(sweep_point_count(many, 70) == SIZE_MAX);
	static const char *const want[6][2] = {{"a.k=x", "b.k=1"}, {"a.k=x", "b.k=2"},
					       {"a.k=x", "b.k=3"}, {"a.k=y", "b.k=1"},
					       {"a.k=y", "b.k=2"}, {"a.k=y", "b.k=3"}};
	for (size_t p = 0; p < 6; p++)
		for (size_t k = 0; k < 2; k++) {
			sweep_point_set(v, 2, p, k, set, sizeof(set));
			assert_string_equal(set, want[p][k]);
		}
	sweep_vary_fini(&v[0]);
	sweep_vary_fini(&v[1]);
}

/* One pair's column out of [trial][pair] results. */
static void test_summarize(void **state)
{
	struct sweep_trial r[5][2] = {
	    {{SWEEP_DIRECT, 300}, {SWEEP_FAILED, -1}}, {{SWEEP_RELAYED, 5000}, {SWEEP_FAILED, -1}},
	    {{SWEEP_DIRECT, 100}, {SWEEP_FAILED, -1}}, {{SWEEP_FAILED, -1}, {SWEEP_FAILED, -1}},
	    {{SWEEP_DIRECT, 200}, {SWEEP_DIRECT, 50}},
	};
	struct sweep_summary s;
	(void)state;
	assert_int_equal(sweep_summarize(&r[0][0], 2, 5, &s), 0);
	assert_int_equal(s.count[SWEEP_DIRECT], 3);
	assert_int_equal(s.count[SWEEP_RELAYED], 1);
	assert_int_equal(s.count[SWEEP_FAILED], 1);
	assert_int_equal(s.connected, 4);
	assert_int_equal(s.median_ns, 200); /* of 100 200 300 5000: rank 2 */
	assert_int_equal(s.p90_ns, 5000);   /* rank ceil(3.6) = 4 */
	assert_float_equal(s.share[SWEEP_DIRECT].share, 0.6, 1e-12);
	assert_int_equal(sweep_summarize(&r[0][1], 2, 5, &s), 0);
	assert_int_equal(s.count[SWEEP_FAILED], 4);
	assert_int_equal(s.median_ns, 50);
	/* None connected: no times. */
	assert_int_equal(sweep_summarize(&r[3][0], 2, 1, &s), 0);
	assert_int_equal(s.median_ns, -1);
	assert_int_equal(s.p90_ns, -1);
}

/* A report of one pair over the given varies, every point 0.5 direct. */
struct report_fixture {
	struct sweep_vary vary[2];
	struct sweep_pair pair;
	struct sweep_summary summaries[4];
	struct sweep_report r;
};

static void report_init(struct report_fixture *x, const char *const *varies, size_t n)
{
	char msg[256];
	memset(x, 0, sizeof(*x));
	for (size_t k = 0; k < n; k++)
		assert_int_equal(sweep_vary_parse(varies[k], &x->vary[k], msg, sizeof(msg)), 0);
	x->pair = (struct sweep_pair){"alice", "bob"};
	const struct sweep_trial half[2] = {{SWEEP_DIRECT, 10}, {SWEEP_FAILED, -1}};
	for (size_t p = 0; p < 4; p++)
		assert_int_equal(sweep_summarize(half, 1, 2, &x->summaries[p]), 0);
	x->r = (struct sweep_report){.scenario = "t.nsim",
				     .title = "it's a test",
				     .seed = 1,
				     .trials = 2,
				     .vary = x->vary,
				     .n_vary = n,
				     .n_points = sweep_point_count(x->vary, n),
				     .pairs = &x->pair,
				     .n_pairs = 1,
				     .summaries = x->summaries};
	assert_true(x->r.n_points <= 4);
}

static void report_fini(struct report_fixture *x)
{
	for (size_t k = 0; k < 2; k++)
		sweep_vary_fini(&x->vary[k]);
}

static char *script_of(const struct sweep_report *r, const struct sweep_plot_curve *curve)
{
	size_t len;
	char *s = sweep_plot_script(r, "out.svg", curve, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

/* Numbers with one unit: a numeric axis at the values, the unit in the label. */
static void test_plot_numeric_axis(void **state)
{
	struct report_fixture x;
	const char *varies[] = {"internet.loss=0%,10%,30%"};
	char unit[16];
	(void)state;
	report_init(&x, varies, 1);
	assert_true(sweep_plot_numeric(&x.r, unit, sizeof(unit)));
	assert_string_equal(unit, "%");
	char *s = script_of(&x.r, NULL);
	assert_non_null(strstr(s, "set terminal svg"));
	assert_non_null(strstr(s, "set output 'out.svg'"));
	assert_non_null(strstr(s, "set title 'it''s a test'")); /* gnuplot's quote in quotes */
	assert_non_null(strstr(s, "set xlabel 'internet.loss (%)'"));
	assert_non_null(strstr(s, "\n30 \"30%\" 0.500000 "));
	assert_null(strstr(s, "set xtics"));
	assert_non_null(strstr(s, "using 1:3:4:5 with yerrorlines title 'alice-bob direct'"));
	free(s);
	/* A curve, where one is known, is drawn over the points. */
	struct sweep_plot_curve curve = {"1-(1-K/R)^n", "1-(1-256.0/64512)**x"};
	s = script_of(&x.r, &curve);
	assert_non_null(strstr(s, "1-(1-256.0/64512)**x with lines"));
	free(s);
	assert_false(sweep_known_curve(&x.r, &curve)); /* the report has none */
	/* The birthday curve of a report, with its K. */
	struct sweep_curve birthday = {SWEEP_CURVE_BIRTHDAY, 0, "bob", "alice", 128, 64512};
	x.r.curve = &birthday;
	assert_true(sweep_known_curve(&x.r, &curve));
	assert_string_equal(curve.expr, "1-(1-128.0/64512)**x");
	assert_non_null(strstr(curve.title, "K = 128"));
	report_fini(&x);
}

/* Under a curve, values that double: a log-2 axis and the key below. */
static void test_plot_curve_axis(void **state)
{
	struct report_fixture x;
	const char *doubling[] = {"bob.probes=16,64,256"};
	const char *from_zero[] = {"bob.probes=0,64,256"};
	struct sweep_plot_curve curve = {"c", "1-(1-256.0/64512)**x"};
	(void)state;
	report_init(&x, doubling, 1);
	char *s = script_of(&x.r, &curve);
	assert_non_null(strstr(s, "set logscale x 2\n"));
	assert_non_null(strstr(s, "set key below\n"));
	free(s);
	s = script_of(&x.r, NULL); /* no curve: the axis as ever */
	assert_null(strstr(s, "logscale"));
	free(s);
	report_fini(&x);
	report_init(&x, from_zero, 1); /* 0 has no logarithm */
	s = script_of(&x.r, &curve);
	assert_null(strstr(s, "logscale"));
	assert_non_null(strstr(s, "set key below\n"));
	free(s);
	report_fini(&x);
}

/* Words, mixed units or two varies: one named tick per point ('%' doubled:
 * a tic label is a format). */
static void test_plot_categorical_axis(void **state)
{
	struct report_fixture x;
	const char *words[] = {"home.preset=full-cone,symmetric"};
	const char *mixed[] = {"internet.latency=20ms,1s"};
	const char *words_like_numbers[] = {"a.k=1,inf"};
	const char *two[] = {"home.preset=full-cone,symmetric", "internet.loss=0%,5%"};
	char unit[16];
	(void)state;
	report_init(&x, words, 1);
	assert_false(sweep_plot_numeric(&x.r, unit, sizeof(unit)));
	char *s = script_of(&x.r, NULL);
	assert_non_null(strstr(s, "set xtics rotate by -20 ('full-cone' 0, 'symmetric' 1)"));
	assert_non_null(strstr(s, "with yerrorbars"));
	free(s);
	report_fini(&x);
	report_init(&x, mixed, 1);
	assert_false(sweep_plot_numeric(&x.r, unit, sizeof(unit)));
	report_fini(&x);
	report_init(&x, words_like_numbers, 1);
	assert_false(sweep_plot_numeric(&x.r, unit, sizeof(unit)));
	report_fini(&x);
	report_init(&x, two, 2);
	assert_false(sweep_plot_numeric(&x.r, unit, sizeof(unit)));
	s = script_of(&x.r, NULL);
	assert_non_null(strstr(s, "'symmetric, 5%%' 3)"));
	assert_non_null(strstr(s, "set xlabel 'home.preset, internet.loss'"));
	free(s);
	report_fini(&x);
}

typedef int (*printer)(FILE *, const struct sweep_report *);
static int print_text_utf8(FILE *f, const struct sweep_report *r)
{
	return sweep_print_text(f, r, false);
}

static char *printed(printer print, const struct sweep_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(print(f, r), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* With a curve each printer shows P(n), its range and whether the share
 * fits, for the curve's pair. */
static void test_print_with_curve(void **state)
{
	struct report_fixture x;
	const char *varies[] = {"bob.probes=64,256"};
	struct sweep_curve c = {SWEEP_CURVE_BIRTHDAY, 0, "bob", "alice", 256, 64512};
	const struct sweep_curve_point points[2] = {
	    {64, 0.2247, 0.191, 0.259, false, SWEEP_CURVE_HOLDS, 4.1},
	    {256, 0.6386, 0.599, 0.677, true, SWEEP_CURVE_RUN_ENDS, 6.0}};
	(void)state;
	report_init(&x, varies, 1);
	x.pair = (struct sweep_pair){"bob", "alice"};
	char *s = printed(sweep_print_csv, &x.r);
	assert_null(strstr(s, "curve_p")); /* no curve, no columns */
	free(s);
	x.r.curve = &c;
	x.r.curve_points = points;
	s = printed(sweep_print_csv, &x.r);
	assert_non_null(strstr(s, ",connect_p90_ms,curve_p,curve_low,curve_high,curve_fits\n"));
	assert_non_null(strstr(s, ",0.2247,0.1910,0.2590,no\n256,bob,alice,2,"));
	assert_non_null(strstr(s, ",0.6386,0.5990,0.6770,run-ends\n"));
	free(s);
	s = printed(print_text_utf8, &x.r);
	assert_non_null(strstr(s, "P(n) = 1 - (1 - K/R)^n"));
	assert_non_null(strstr(s, "K = 256 mappings open among the R = 64512 ports"));
	assert_non_null(strstr(s, "64          bob ↔ alice   0.500   0.225  [0.191, 0.259]    NO"));
	assert_non_null(
	    strstr(s, "256         bob ↔ alice   0.500   0.639  [0.599, 0.677]    -\n"));
	assert_non_null(
	    strstr(s, "- at 256: the run ends before the last probe would leave (about 6.0 s)"));
	free(s);
	s = printed(sweep_print_json, &x.r);
	assert_non_null(strstr(s, "\"name\": \"birthday\""));
	assert_non_null(strstr(s, "\"K\": 256"));
	assert_non_null(strstr(s, "\"fits\": \"no\""));
	free(s);
	report_fini(&x);
}

static const char lossy_world[] = "coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
				  "internet latency 20ms loss 30%\n"
				  "nat home preset port-restricted-cone public 203.0.113.7\n"
				  "nat office preset port-restricted-cone public 198.51.100.9\n"
				  "host alice at 192.168.1.5 behind home\n"
				  "host bob at 10.0.0.7 behind office\n"
				  "at 0s register alice\n"
				  "at 0s register bob\n"
				  "at 1s connect alice to bob\n";

static void run_with_jobs(struct scenario *const *points, unsigned jobs,
			  struct sweep_trial *results)
{
	struct diag *d = diag_new();
	struct sweep_work w = {.scenarios = points,
			       .n_points = 2,
			       .n_pairs = 1,
			       .trials = 10,
			       .seed = 7,
			       .results = results};
	assert_int_equal(sweep_run(&w, jobs, d), 0);
	diag_free(d);
}

/* The same trials on one process and on two workers: the same results,
 * each where it belongs; a lossy world gives different outcomes to
 * different trials (the seeds differ), a lossless one connects every time. */
static void test_jobs_do_not_change_results(void **state)
{
	struct diag *d = diag_new();
	struct scenario *points[2];
	struct sweep_trial one[20], two[20];
	(void)state;
	for (int p = 0; p < 2; p++) {
		points[p] = scenario_parse(lossy_world, strlen(lossy_world), "<test>", d);
		assert_non_null(points[p]);
	}
	assert_int_equal(scenario_set_override(points[0], "internet.loss=0%", d), 0);
	struct sweep_pair pairs[9];
	assert_int_equal(sweep_pairs(points[0], pairs), 1);
	assert_string_equal(pairs[0].a, "alice");
	memset(one, 0xa5, sizeof(one));
	memset(two, 0x5a, sizeof(two));
	run_with_jobs(points, 1, one);
	run_with_jobs(points, 2, two);
	assert_memory_equal(one, two, sizeof(one));
	bool all_same = true;
	for (int t = 0; t < 10; t++) {
		assert_int_equal(one[t].outcome, SWEEP_DIRECT);
		assert_true(one[t].connect_ns > 0);
		all_same &= one[10 + t].outcome == one[10].outcome &&
			    one[10 + t].connect_ns == one[10].connect_ns;
	}
	assert_false(all_same);
	scenario_free(points[0]);
	scenario_free(points[1]);
	diag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wilson_against_newcombe),
	    cmocka_unit_test(test_wilson_at_the_bounds),
	    cmocka_unit_test(test_binomial_range),
	    cmocka_unit_test(test_birthday_curve),
	    cmocka_unit_test(test_curve_find),
	    cmocka_unit_test(test_curve_compare),
	    cmocka_unit_test(test_rank_percentiles),
	    cmocka_unit_test(test_trial_seeds),
	    cmocka_unit_test(test_vary_parse),
	    cmocka_unit_test(test_cartesian_product),
	    cmocka_unit_test(test_summarize),
	    cmocka_unit_test(test_plot_numeric_axis),
	    cmocka_unit_test(test_plot_curve_axis),
	    cmocka_unit_test(test_plot_categorical_axis),
	    cmocka_unit_test(test_print_with_curve),
	    cmocka_unit_test(test_jobs_do_not_change_results),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
