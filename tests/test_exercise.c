/*
 * test_exercise.c - exercises (app/lesson): reading the lesson statements and
 * their errors, variants picked per student, answers computed by running the
 * world (and changed by a variant or a --set), the answers format, marking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/lang/diag.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "app/lesson/mark.h"
#include "sim/trace.h"
#include "support_lesson.h"

static const char world[] =
    "title \"t\"\n" LESSON_WORLD "at 3s send alice to bob \"hi \\\"Bob\\\"\"\n";

static const char lesson[] =
    "instructions \"Predict.\"\n"
    "question q1 \"How do they end?\" outcome alice and bob\n"
    "question q2 \"Alice's first packet to Bob?\" drop from alice to bob\n"
    "question q3 \"Home's port for alice:5000?\" port home for alice:5000\n"
    "question q4 \"What is office?\" classify office\n"
    "question q5 \"Does Bob get it?\" arrives \"hi \\\"Bob\\\"\" at bob from alice\n"
    "hint q1 \"one\"\n"
    "hint q1 \"two\"\n"
    "teacher q1 \"note\"\n"
    "variant office.preset port-restricted-cone | symmetric\n";

static struct exercise *parse(const char *text, struct diag *d)
{
	return exercise_parse(text, strlen(text), "x.nsim", d);
}

static char *cat(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 1);
	assert_non_null(s);
	strcpy(s, a);
	strcat(s, b);
	return s;
}

static void test_parse_statements(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	char *text = cat(world, lesson);
	struct exercise *x = parse(text, d);
	assert_non_null(x);
	assert_int_equal(x->n_questions, 5);
	assert_int_equal(x->questions[0].kind, QUESTION_OUTCOME);
	assert_string_equal(x->questions[0].a, "alice");
	assert_string_equal(x->questions[0].b, "bob");
	assert_int_equal(x->questions[0].n_hints, 2);
	assert_string_equal(x->questions[0].teacher, "note");
	assert_int_equal(x->questions[2].port, 5000);
	assert_string_equal(x->questions[2].host, "alice");
	assert_string_equal(x->questions[3].node, "office");
	assert_string_equal(x->questions[4].data, "hi \"Bob\"");
	assert_int_equal(x->n_variants, 1);
	assert_int_equal(x->variants[0].n_values, 2);
	assert_string_equal(x->instructions, "Predict.");
	/* the lesson lines are blanked, the scenario's are kept, lines stay */
	assert_non_null(strstr(x->scenario_text, "host alice at"));
	assert_null(strstr(x->scenario_text, "question"));
	assert_int_equal(x->scenario_len, strlen(text));
	exercise_free(x);
	free(text);
	diag_free(d);
}

/* Each bad line gives one error at its line and column, with its words. */
static void test_parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int line, col;
		const char *words;
	} cases[] = {
	    {"question q1 \"x\" outcom alice and bob\n", 1, 17, "did you mean 'outcome'"},
	    {"question q1 x outcome alice and bob\n", 1, 13, "in double quotes"},
	    {"question q1 \"x\" outcome alice bob\n", 1, 31, "expected 'and'"},
	    {"question q1 \"x\" classify a\nquestion q1 \"y\" classify b\n", 2, 10,
	     "already defined (line 1)"},
	    {"hint q9 \"x\"\nquestion q1 \"x\" classify a\n", 1, 6, "no question 'q9'"},
	    {"question q1 \"x\" port home for alice:0\n", 1, 31, "port from 1 to 65535"},
	    {"question q1 \"x\" classify a\nvariant office.preset symmetric\n", 2, 1,
	     "at least two values"},
	    {"question q1 \"x\" classify a\nvariant office symmetric | full-cone\n", 2, 9,
	     "NAME.KEY"},
	    {"question q1 \"unclosed classify a\n", 1, 13, "no closing"},
	    {"question q/1 \"x\" classify a\n", 1, 10, "question id"},
	    {"instructions \"only words\"\n", 0, 0, "no question"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag *d = diag_new();
		struct exercise *x = parse(cases[i].text, d);
		assert_null(x);
		assert_true(diag_count_errors(d) >= 1);
		const struct diagnostic *g = diag_get(d, 0);
		if (strstr(g->message, cases[i].words) == NULL || g->line != cases[i].line ||
		    (cases[i].col && g->col != cases[i].col))
			fail_msg("case %zu: got %d:%d %s", i, g->line, g->col, g->message);
		diag_free(d);
	}
}

static void test_variant_pick(void **state)
{
	(void)state;
	struct variant v = {.setting = "office.preset", .values = {"a", "b", "c"}, .n_values = 3};
	size_t seen[3] = {0};
	assert_int_equal(exercise_variant_pick(&v, NULL), 0);
	assert_int_equal(exercise_variant_pick(&v, ""), 0);
	for (int i = 0; i < 300; i++) {
		char id[16];
		snprintf(id, sizeof(id), "s%d", i);
		size_t p = exercise_variant_pick(&v, id);
		assert_true(p < 3);
		assert_int_equal(p,
				 exercise_variant_pick(&v, id)); /* the same id, the same world */
		seen[p]++;
	}
	for (int k = 0; k < 3; k++) /* neighbours scatter over every value */
		assert_true(seen[k] > 60);
}

static void run_ok(const struct exercise *x, const struct exercise_options *o,
		   struct exercise_run *r)
{
	struct diag *d = diag_new();
	if (exercise_run(x, o, r, d) != 0) {
		diag_print(d, stderr, false);
		fail_msg("exercise_run failed");
	}
	diag_free(d);
}

/* The answers are read off the run, and a variant or --set changes them. */
static void test_answers_computed(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	char *text = cat(world, lesson);
	struct exercise *x = parse(text, d);
	assert_non_null(x);
	struct exercise_options o = {0};
	struct exercise_run r;
	run_ok(x, &o, &r);
	assert_string_equal(r.answers[0].text, "direct");
	assert_string_equal(r.answers[1].text, "office nat-filter");
	assert_true(r.answers[1].packet > 0);
	assert_string_equal(r.answers[2].text, "5000");
	assert_string_equal(r.answers[3].text, "port-restricted-cone");
	assert_string_equal(r.answers[4].text, "yes");
	exercise_run_free(&r);

	/* a student whose variant makes office symmetric: relayed */
	for (int i = 0;; i++) {
		char id[16];
		snprintf(id, sizeof(id), "s%d", i);
		if (exercise_variant_pick(&x->variants[0], id) != 1)
			continue;
		o.student = id;
		run_ok(x, &o, &r);
		assert_string_equal(r.answers[0].text, "relayed");
		assert_string_equal(r.answers[3].text, "symmetric");
		exercise_run_free(&r);
		break;
	}

	/* --set after the variants: sequential ports, nothing gets through */
	const char *sets[] = {"home.ports=sequential", "internet.loss=100%"};
	struct exercise_options o2 = {.sets = sets, .n_sets = 2};
	run_ok(x, &o2, &r);
	assert_string_equal(r.answers[0].text, "unconnected");
	assert_string_equal(r.answers[2].text, "1024");
	assert_string_equal(r.answers[4].text, "no");
	exercise_run_free(&r);
	exercise_free(x);
	free(text);
	diag_free(d);
}

static void test_names_checked(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	char *text = cat(world, "question q1 \"x\" classify offce\n");
	struct exercise *x = parse(text, d);
	assert_non_null(x);
	struct exercise_options o = {0};
	struct exercise_run r;
	assert_int_equal(exercise_run(x, &o, &r, d), -1);
	assert_non_null(strstr(diag_get(d, 0)->message, "no NAT 'offce'"));
	assert_int_equal(diag_get(d, 0)->line, 14);
	exercise_run_free(&r);
	exercise_free(x);
	free(text);
	diag_free(d);
}

static void test_answers_format(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	char *text = cat(world, lesson);
	struct exercise *x = parse(text, d);
	struct given g[5];
	const char ok[] =
	    "# mine\nq1 = Direct \nhint q1\nq2=office   nat-filter\n\nq3 = 5000 # sure\n";
	assert_int_equal(mark_read_answers(x, ok, strlen(ok), "a.txt", g, d), 0);
	assert_true(g[0].answered);
	assert_string_equal(g[0].text, "Direct");
	assert_int_equal(g[0].hints_used, 1);
	assert_false(g[3].answered);
	static const struct {
		const char *text;
		int line;
		const char *words;
	} bad[] = {
	    {"q9 = direct\n", 1, "no question 'q9'"},
	    {"q1 direct\n", 1, "expected 'ID = ANSWER'"},
	    {"q1 = direct\nq1 = relayed\n", 2, "already answered on line 1"},
	    {"hint q1\nhint q1\nhint q1\n", 3, "no more hints"},
	    {"q1 =\n", 1, "expected an answer"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_clear(d);
		assert_int_not_equal(
		    mark_read_answers(x, bad[i].text, strlen(bad[i].text), "a.txt", g, d), 0);
		const struct diagnostic *e = diag_get(d, 0);
		if (strstr(e->message, bad[i].words) == NULL || e->line != bad[i].line)
			fail_msg("bad %zu: got %d %s", i, e->line, e->message);
		assert_string_equal(e->file, "a.txt");
	}
	/* a NUL byte inside a line is refused, not taken for its end */
	diag_clear(d);
	const char nul[] = "q1 = dir\0ect\n";
	assert_int_equal(mark_read_answers(x, nul, sizeof(nul) - 1, "a.txt", g, d), 1);
	assert_non_null(strstr(diag_get(d, 0)->message, "NUL byte"));
	exercise_free(x);
	free(text);
	diag_free(d);
}

static void test_marking(void **state)
{
	(void)state;
	/* the reasons a drop question offers are the trace's own names */
	for (const char *const *c = question_choices(QUESTION_DROP); *c; c++) {
		bool known = false;
		for (int r = 0; r < TRACE_DROP_REASON_COUNT; r++)
			known |= strcmp(trace_drop_reason_name((enum trace_drop_reason)r), *c) == 0;
		if (!known)
			fail_msg("drop choice '%s' is no reason of sim/trace.c", *c);
	}
	/* two hints: each costs a third (3 of 10 points) */
	assert_int_equal(mark_points(2, 0), 10);
	assert_int_equal(mark_points(2, 1), 7);
	assert_int_equal(mark_points(2, 2), 4);
	assert_int_equal(mark_points(0, 0), 10);
	struct question drop = {.kind = QUESTION_DROP}, port = {.kind = QUESTION_PORT};
	assert_true(answer_matches(&drop, "office nat-filter", "  Office   NAT-Filter "));
	assert_false(answer_matches(&drop, "office nat-filter", "office"));
	assert_false(answer_matches(&drop, "office nat-filter", "home nat-filter"));
	assert_true(answer_matches(&port, "5000", "05000"));
	assert_false(answer_matches(&port, "5000", "5001"));
	assert_false(answer_matches(&port, "none", "0"));
	assert_false(answer_matches(&port, "5000", "5000x"));
}

/* Questions about a moment and about when: their answers, their errors. */
static void test_moments(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	char *text =
	    cat(world, "question m1 \"m\" mapping home for alice:5000 at 2s\n"
		       "question m2 \"t\" timeout home for alice:5000 at 2s within 1s\n"
		       "question m3 \"c\" conntrack office from bob:5000 to alice at 2s\n"
		       "question m4 \"w\" when alice and bob direct\n"
		       "question m5 \"c\" conntrack home from alice:5000 to coord:3478 at 500ms\n"
		       "question m6 \"m\" mapping office for bob:6000 at 2s\n");
	struct exercise *x = parse(text, d);
	assert_non_null(x);
	assert_int_equal(x->questions[1].tolerance_ns, 1000000000LL);
	assert_int_equal(x->questions[3].tolerance_ns, 100000000LL); /* the default */
	struct exercise_options o = {0};
	struct exercise_run r;
	run_ok(x, &o, &r);
	assert_string_equal(r.answers[0].text, "yes");
	/* a 30 s mapping refreshed by the consent checks: most of it left */
	double left = atof(r.answers[1].text);
	assert_true(left > 25 && left <= 30);
	assert_string_equal(r.answers[2].text, "replied");
	double when = atof(r.answers[3].text);
	assert_true(when > 1.0 && when < 2.0);
	assert_string_equal(r.answers[4].text,
			    "replied");		      /* answered; not 2 s old: not yet assured */
	assert_string_equal(r.answers[5].text, "no"); /* nothing on port 6000 */
	/* numbers are marked within the tolerance, words as words */
	char near[32];
	snprintf(near, sizeof(near), "%.3fs", left + 0.9);
	assert_true(answer_matches(&x->questions[1], r.answers[1].text, near));
	snprintf(near, sizeof(near), "%.3f", left + 1.2);
	assert_false(answer_matches(&x->questions[1], r.answers[1].text, near));
	assert_false(answer_matches(&x->questions[3], r.answers[3].text, "never"));
	exercise_run_free(&r);
	exercise_free(x);
	free(text);

	static const struct {
		const char *text;
		const char *words;
	} bad[] = {
	    {"question q \"x\" mapping home for alice:5000 at 2\n", "with a unit"},
	    {"question q \"x\" timeout home for alice:5000 at 2s within\n", "a tolerance"},
	    {"question q \"x\" when alice and bob sideways\n", "direct or relayed"},
	    {"question q \"x\" conntrack home from alice:5000 to coord:0 at 1s\n", "port from 1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_clear(d);
		assert_null(parse(bad[i].text, d));
		if (strstr(diag_get(d, 0)->message, bad[i].words) == NULL)
			fail_msg("bad %zu: %s", i, diag_get(d, 0)->message);
	}
	diag_free(d);
}

/* A mapping's deadline moves with every outbound packet, also the one that
 * adds a remote (its record is "remote-added", not "refreshed"). */
static void test_timeout_follows_new_remote(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	const char *text = "title \"t\"\n"
			   "coordinator coord at 192.0.2.10\n"
			   "nat home preset port-restricted-cone public 203.0.113.7\n"
			   "host alice at 192.168.1.5 behind home\n"
			   "host bob at 198.51.100.10 public\n"
			   "at 1s raw alice from 4000 to bob:7001 \"a\"\n"
			   "at 5s raw alice from 4000 to bob:7002 \"b\"\n"
			   "question t1 \"left?\" timeout home for alice:4000 at 6s within 100ms\n";
	struct exercise *x = parse(text, d);
	assert_non_null(x);
	struct exercise_options o = {0};
	struct exercise_run r;
	run_ok(x, &o, &r);
	assert_string_equal(r.answers[0].text, "29"); /* 5 s + 30 s - 6 s, not 1 s + 30 s - 6 s */
	exercise_run_free(&r);
	exercise_free(x);
	diag_free(d);
}

/* axes: RFC 4787's two words, written any of the usual ways; a variant the
 * teacher shows is marked so. */
static void test_axes_and_shown_variants(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	char *text = cat(world, "question a1 \"axes?\" axes office\n"
				"variant office.preset port-restricted-cone | symmetric shown\n"
				"variant home.ports preserve | sequential\n");
	struct exercise *x = parse(text, d);
	assert_non_null(x);
	assert_true(x->variants[0].shown);
	assert_int_equal(x->variants[0].n_values, 2);
	assert_false(x->variants[1].shown);
	struct exercise_options o = {0};
	struct exercise_run r;
	run_ok(x, &o, &r);
	assert_string_equal(r.answers[0].text, "EIM APDF");
	assert_true(answer_matches(&x->questions[0], "EIM APDF", "eim+apdf"));
	assert_true(answer_matches(&x->questions[0], "EIM APDF", " EIM, APDF "));
	assert_false(answer_matches(&x->questions[0], "EIM APDF", "APDF EIM"));
	exercise_run_free(&r);
	const char *sets[] = {"office.mapping=AD"};
	struct exercise_options o2 = {.sets = sets, .n_sets = 1};
	run_ok(x, &o2, &r);
	assert_string_equal(r.answers[0].text, "ADM APDF");
	exercise_run_free(&r);
	exercise_free(x);
	free(text);
	diag_clear(d);
	/* "shown" alone is not a value list */
	assert_null(parse("question a \"x\" axes home\nvariant home.preset symmetric shown\n", d));
	assert_non_null(strstr(diag_get(d, 0)->message, "at least two values"));
	diag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_statements),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_variant_pick),
	    cmocka_unit_test(test_answers_computed),
	    cmocka_unit_test(test_names_checked),
	    cmocka_unit_test(test_answers_format),
	    cmocka_unit_test(test_marking),
	    cmocka_unit_test(test_moments),
	    cmocka_unit_test(test_timeout_follows_new_remote),
	    cmocka_unit_test(test_axes_and_shown_variants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
