/*
 * test_runner.c - what a run reports about each pair: the end state, the
 * history on the way, and path expectations that speak of either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/world/runner.h"
#include "app/lang/scenario.h"

#define SEC(x) ((int64_t)(x)*1000000000)

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
}

static void run_free(struct run *r)
{
	run_result_free(&r->res);
	scenario_free(r->s);
}

static const struct run_verdict *verdict_at(const struct run *r, int line)
{
	for (size_t i = 0; i < r->res.n_verdicts; i++)
		if (r->res.verdicts[i].expect->loc.line == line)
			return &r->res.verdicts[i];
	fail_msg("no expectation on line %d", line);
	return NULL;
}

/* Two symmetric NATs and a coordinator without a relay (issue 12 item 1):
 * punching fails, the relay is refused, and the run says so. */
static const char relay_off[] =
    "coordinator coord at 192.0.2.10 alternate 192.0.2.11 relay off\n"
    "nat home   preset symmetric public 203.0.113.7\n"
    "nat office preset symmetric public 198.51.100.9\n"
    "host alice at 192.168.1.5 behind home\n"
    "host bob   at 10.0.0.7    behind office\n"
    "at 0s register alice\n"
    "at 0s register bob\n"
    "at 1s connect alice to bob\n"
    "at 8s send bob to alice \"anyone?\"\n"
    "expect alice and bob relayed by 7s\n"		 /* line 10: fails */
    "expect alice and bob unconnected by 7s\n"		 /* line 11 */
    "expect alice and bob end unconnected\n"		 /* line 12 */
    "expect data at alice from bob \"anyone?\" by 9s\n"; /* line 13: fails */

static void test_relay_off_is_failed(void **state)
{
	(void)state;
	struct run r;
	run_text(&r, relay_off);
	assert_int_equal(r.res.n_pairs, 1);
	const struct run_pair *p = &r.res.pairs[0];
	assert_int_equal(p->path, SCENARIO_PATH_UNCONNECTED);
	assert_int_equal(p->n_steps, 1);
	assert_int_equal(p->steps[0].kind, RUN_STEP_FAILED);
	assert_string_equal(run_pair_end_name(p), "failed");
	assert_int_equal(p->connected_at, SCENARIO_UNSET);
	assert_non_null(strstr(p->failure, "refuses to relay (403"));
	assert_false(verdict_at(&r, 10)->passed);
	assert_non_null(strstr(verdict_at(&r, 10)->why, "failed at"));
	assert_true(verdict_at(&r, 11)->passed);
	assert_true(verdict_at(&r, 12)->passed);
	assert_false(verdict_at(&r, 13)->passed);
	assert_int_equal(r.res.n_failed, 2);
	run_free(&r);
}

/* keepalive.nsim's first pair, alone: direct, lost when consent runs out
 * (no keepalives, so no consent checks), relayed once alice has something
 * to send. `direct by 3s` speaks of the history, `end` of the end. */
static const char idle_pair[] =
    "coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
    "nat home   preset port-restricted-cone public 203.0.113.7  timeout 30s\n"
    "nat office preset port-restricted-cone public 198.51.100.9 timeout 30s\n"
    "host alice at 192.168.1.5 behind home   keepalive off\n"
    "host bob   at 10.0.0.7    behind office keepalive off\n"
    "at 0s register alice\n"
    "at 0s register bob\n"
    "at 1s connect alice to bob\n"
    "at 50s send alice to bob \"still there?\"\n"
    "expect alice and bob direct by 3s\n"     /* line 10 */
    "expect alice and bob direct\n"	      /* line 11: reached, by the end */
    "expect alice and bob end direct\n"	      /* line 12: fails */
    "expect alice and bob ends relayed\n"     /* line 13 */
    "expect bob and alice end unconnected\n"; /* line 14 */

static void test_history_and_end(void **state)
{
	(void)state;
	struct run r;
	run_text(&r, idle_pair);
	const struct run_pair *p = &r.res.pairs[0];
	assert_int_equal(p->n_steps, 3);
	assert_int_equal(p->steps[0].kind, RUN_STEP_DIRECT);
	assert_int_equal(p->steps[1].kind, RUN_STEP_LOST);
	assert_int_equal(p->steps[2].kind, RUN_STEP_RELAYED);
	/* RFC 7675: consent runs out 30 s after the last answer (~1.1 s). */
	assert_true(p->steps[1].at > p->steps[0].at + SEC(29));
	assert_true(p->steps[1].at <= p->steps[0].at + SEC(30));
	assert_true(p->steps[2].at > SEC(50)); /* quiet until there was something to send */
	assert_string_equal(run_pair_end_name(p), "relayed");
	assert_int_equal(p->path, SCENARIO_PATH_RELAYED);
	assert_non_null(strstr(p->failure, "consent expired"));
	assert_true(verdict_at(&r, 10)->passed);
	assert_true(verdict_at(&r, 11)->passed);
	const struct run_verdict *v = verdict_at(&r, 12);
	assert_false(v->passed);
	assert_string_equal(v->text, "alice and bob end direct");
	assert_non_null(strstr(v->why, "ends relayed (direct at"));
	assert_non_null(strstr(v->why, "lost at"));
	assert_true(verdict_at(&r, 13)->passed);
	assert_true(verdict_at(&r, 14)->passed);
	run_free(&r);
}

/* A NAT drops the path (issue 12 item 4): at 10 s office turns symmetric,
 * so alice's consent checks reach no mapping and bob's come from a port
 * alice's NAT does not know. Both agents notice when consent runs out, and
 * fall back to the relay; the history shows it. */
static const char nat_drops_path[] =
    "coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
    "nat home   preset port-restricted-cone public 203.0.113.7\n"
    "nat office preset port-restricted-cone public 198.51.100.9\n"
    "host alice at 192.168.1.5 behind home\n"
    "host bob   at 10.0.0.7    behind office\n"
    "at 0s register alice\n"
    "at 0s register bob\n"
    "at 1s connect alice to bob\n"
    "at 10s set office preset symmetric\n"
    "at 60s send alice to bob \"via the relay\"\n"
    "expect alice and bob direct by 5s\n"			/* line 11 */
    "expect alice and bob direct by 30s\n"			/* line 12: was direct; history */
    "expect alice and bob end relayed\n"			/* line 13 */
    "expect data at bob from alice \"via the relay\" by 61s\n"; /* line 14 */

static void test_nat_drops_path(void **state)
{
	(void)state;
	struct run r;
	run_text(&r, nat_drops_path);
	const struct run_pair *p = &r.res.pairs[0];
	assert_true(p->n_steps >= 3);
	assert_int_equal(p->steps[0].kind, RUN_STEP_DIRECT);
	assert_int_equal(p->steps[1].kind, RUN_STEP_LOST);
	/* The last answer came at most 6 s before the change at 10 s. */
	assert_true(p->steps[1].at >= SEC(34));
	assert_true(p->steps[1].at <= SEC(40));
	assert_string_equal(run_pair_end_name(p), "relayed");
	for (int line = 11; line <= 14; line++)
		assert_true(verdict_at(&r, line)->passed);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relay_off_is_failed),
	    cmocka_unit_test(test_history_and_end),
	    cmocka_unit_test(test_nat_drops_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
