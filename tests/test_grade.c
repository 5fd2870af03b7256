/*
 * test_grade.c - build tasks (app/lesson): reading a key and its errors,
 * grading submissions by running them (right, wrong, broken, not fitting
 * the key), the structural checks, and how changed lines are counted.
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
#include "app/lesson/grade.h"
#include "app/lesson/key.h"

/* The world handed out: Bob's firewall admits nothing yet. */
static const char base[] = "title \"t\"\n"
			   "seed 1\n"
			   "internet latency 20ms\n"
			   "nat office preset port-restricted-cone public 198.51.100.9\n"
			   "host carol at 10.0.0.5 behind office\n"
			   "host bob at 203.0.113.20 public firewall on\n"
			   "host eve at 192.0.2.66 public\n"
			   "at 1s raw carol from 4000 to bob:7000 \"office\"\n"
			   "at 2s raw eve from 4000 to bob:7000 \"outside\" # a comment\n";

static const char right_rule[] = "rule bob input accept udp from 198.51.100.9/32 dport 7000\n";
static const char open_rule[] = "rule bob input accept udp dport 7000\n";

static const char key_text[] =
    "# a key\n"
    "base \"base.nsim\"\n"
    "seed 1\n"
    "task \"Let only the office in.\"\n"
    "task \"One rule.\"\n"
    "check office \"The office gets in\" points 2 drop at bob reason no-socket from office\n"
    "check eve \"Eve stays out\" points 3 drop at bob reason firewall from eve to bob:7000\n"
    "check one \"One rule\" rules at bob exactly 1\n"
    "check small \"Small\" changed at-most 1 lines\n";

static struct key *parse_key(const char *text, struct diag *d)
{
	return key_parse(text, strlen(text), "k.key", d);
}

/* The key with its base given as text (key_load_base reads a file). */
static struct key *the_key(void)
{
	struct diag *d = diag_new();
	struct key *k = parse_key(key_text, d);
	assert_non_null(k);
	assert_int_equal(diag_count_errors(d), 0);
	diag_free(d);
	k->base_text = strdup(base);
	k->base_len = strlen(base);
	k->base_file = strdup("base.nsim");
	return k;
}

static char *with(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 1);
	assert_non_null(s);
	strcpy(s, a);
	strcat(s, b);
	return s;
}

static void grade_str(const struct key *k, const char *text, struct grade *g)
{
	assert_int_equal(grade_text(k, "s.nsim", text, strlen(text), g), 0);
}

static void test_key_statements(void **state)
{
	(void)state;
	struct key *k = the_key();
	assert_string_equal(k->task, "Let only the office in.\nOne rule.");
	assert_true(k->has_seed);
	assert_int_equal(k->seed, 1);
	assert_string_equal(k->base_path, "base.nsim");
	assert_int_equal(k->n_checks, 4);
	assert_int_equal(k->total, 7);
	const struct key_check *c = &k->checks[0];
	assert_string_equal(c->id, "office");
	assert_string_equal(c->text, "The office gets in");
	assert_int_equal(c->points, 2);
	assert_int_equal(c->kind, KEY_CHECK_EXPECT);
	assert_string_equal(c->condition, "drop at bob reason no-socket from office");
	assert_int_equal(c->line, 6);
	assert_int_equal(c->cond_col, 44);
	assert_int_equal(k->checks[2].kind, KEY_CHECK_RULES);
	assert_string_equal(k->checks[2].node, "bob");
	assert_int_equal(k->checks[2].cmp, KEY_EXACTLY);
	assert_int_equal(k->checks[2].limit, 1);
	assert_int_equal(k->checks[3].kind, KEY_CHECK_CHANGED);
	assert_int_equal(k->checks[3].limit, 1);
	assert_int_equal(k->checks[3].points, 1);
	key_free(k);
}

/* One bad line, and the error it must give at line:col. */
static void expect_key_error(const char *text, int line, int col, const char *words)
{
	struct diag *d = diag_new();
	struct key *k = parse_key(text, d);
	assert_null(k);
	assert_true(diag_count_errors(d) >= 1);
	const struct diagnostic *dg = diag_get(d, 0);
	if (strstr(dg->message, words) == NULL || dg->line != line || dg->col != col)
		fail_msg("%s: got %d:%d %s", text, dg->line, dg->col, dg->message);
	diag_free(d);
}

static void test_key_errors(void **state)
{
	(void)state;
	expect_key_error("chekc a \"t\" drop at bob\n", 1, 1, "did you mean 'check'");
	expect_key_error("check a \"t\" drop at bob\ncheck a \"u\" drop at bob\n", 2, 7,
			 "a second check 'a'");
	expect_key_error("check 1a \"t\" drop at bob\n", 1, 7, "the check's id");
	expect_key_error("check a t drop at bob\n", 1, 9, "double quotes");
	expect_key_error("check a \"t drop at bob\n", 1, 9, "no closing quote");
	expect_key_error("check a \"t\" points 0 drop at bob\n", 1, 20, "from 1 to 100");
	expect_key_error("check a \"t\" points x drop at bob\n", 1, 20, "from 1 to 100");
	expect_key_error("check a \"t\"\n", 1, 12, "expected the check's condition");
	expect_key_error("check a \"t\" dorp at bob\n", 1, 13, "a condition is an expectation");
	expect_key_error("check a \"t\" rules at bob most 1\n", 1, 26, "at-most, at-least");
	expect_key_error("check a \"t\" changed at-most 1\n", 1, 30, "the word lines");
	expect_key_error("check a \"t\" changed at-most 1 lines\n", 1, 13, "base FILE");
	expect_key_error("seed -1\ncheck a \"t\" drop at bob\n", 1, 6, "seed must be");
	expect_key_error("task \"a\" b\ncheck a \"t\" drop at bob\n", 1, 10, "unexpected text");
	expect_key_error("expect drop at bob\n", 1, 1, "a key has no expect lines");
	expect_key_error("# nothing\n", 0, 0, "no check");
}

static void test_right_submission(void **state)
{
	(void)state;
	struct key *k = the_key();
	char *text = with(base, right_rule);
	struct grade g;
	grade_str(k, text, &g);
	assert_int_equal(g.status, GRADE_GRADED);
	assert_int_equal(g.score, 7);
	assert_int_equal(g.total, 7);
	for (size_t i = 0; i < k->n_checks; i++) {
		assert_true(g.checks[i].passed);
		assert_string_equal(g.checks[i].why, "");
	}
	grade_fini(&g);
	free(text);
	key_free(k);
}

/* A rule that lets everyone in: Eve's check fails, with what happened instead. */
static void test_wrong_submission(void **state)
{
	(void)state;
	struct key *k = the_key();
	char *text = with(base, open_rule);
	struct grade g;
	grade_str(k, text, &g);
	assert_int_equal(g.status, GRADE_GRADED);
	assert_int_equal(g.score, 4);
	assert_true(g.checks[0].passed);
	assert_false(g.checks[1].passed);
	assert_non_null(strstr(g.checks[1].why, "expected a drop at bob for reason firewall"));
	assert_non_null(strstr(g.checks[1].why, "but no matching drop at bob"));
	grade_fini(&g);
	free(text);
	/* The handout itself: nobody gets in, so the office's check fails. */
	grade_str(k, base, &g);
	assert_false(g.checks[0].passed);
	assert_true(g.checks[1].passed);
	assert_false(g.checks[2].passed);
	assert_string_equal(g.checks[2].why, "bob has 0 rules, the task asks for exactly 1");
	assert_true(g.checks[3].passed);
	grade_fini(&g);
	key_free(k);
}

static void test_structural_checks(void **state)
{
	(void)state;
	struct key *k = the_key();
	char *two = with(base, "rule bob input accept udp from 198.51.100.9/32 dport 7000\n"
			       "rule bob input drop udp dport 7001\n");
	struct grade g;
	grade_str(k, two, &g);
	assert_false(g.checks[2].passed);
	assert_string_equal(g.checks[2].why, "bob has 2 rules, the task asks for exactly 1");
	assert_false(g.checks[3].passed);
	assert_string_equal(g.checks[3].why,
			    "2 lines differ from the world handed out, the task allows at most 1");
	assert_int_equal(g.score, 5);
	grade_fini(&g);
	free(two);
	key_free(k);
}

static void test_broken_submission(void **state)
{
	(void)state;
	struct key *k = the_key();
	char *text = with(base, "rule bob inptu accept udp dport 7000\n");
	struct grade g;
	grade_str(k, text, &g);
	assert_int_equal(g.status, GRADE_BROKEN);
	assert_int_equal(g.score, 0);
	assert_non_null(strstr(g.error, "s.nsim:10:10: "));
	assert_non_null(strstr(g.error, "'inptu'"));
	for (size_t i = 0; i < k->n_checks; i++) {
		assert_false(g.checks[i].passed);
		assert_non_null(strstr(g.checks[i].why, "the submission is broken"));
	}
	grade_fini(&g);
	free(text);
	/* A file that cannot be read is broken too, and so is a world the
	 * runner cannot build; neither is an error of the grading. */
	assert_int_equal(grade_file(k, "/nonexistent/s.nsim", &g), 0);
	assert_int_equal(g.status, GRADE_BROKEN);
	assert_non_null(strstr(g.error, "cannot read"));
	grade_fini(&g);
	key_free(k);
}

/* Eve renamed: the key's check naming her does not fit; the others count. */
static void test_key_does_not_fit(void **state)
{
	(void)state;
	struct key *k = the_key();
	char *text = with("title \"t\"\n"
			  "seed 1\n"
			  "internet latency 20ms\n"
			  "nat office preset port-restricted-cone public 198.51.100.9\n"
			  "host carol at 10.0.0.5 behind office\n"
			  "host bob at 203.0.113.20 public firewall on\n"
			  "host eva at 192.0.2.66 public\n"
			  "at 1s raw carol from 4000 to bob:7000 \"office\"\n",
			  right_rule);
	struct grade g;
	grade_str(k, text, &g);
	assert_int_equal(g.status, GRADE_MISFIT);
	assert_true(g.checks[0].passed);
	assert_false(g.checks[1].passed);
	assert_false(g.checks[1].fits);
	/* pointing at 'eve' in the key's line 7 */
	assert_non_null(strstr(g.checks[1].why, "the key does not fit this submission: k.key:7:"));
	assert_non_null(strstr(g.checks[1].why, "'eve'"));
	int col = atoi(strstr(g.checks[1].why, "k.key:7:") + 8);
	assert_memory_equal(strstr(key_text, "check eve") + col - 1, "eve to", 6);
	assert_true(g.checks[2].passed);
	assert_int_equal(g.score, 2 + 1);
	grade_fini(&g);
	free(text);
	/* The same check against the base: it fits there. */
	struct diag *d = diag_new();
	assert_int_equal(key_fits_base(k, d), 0);
	diag_free(d);
	key_free(k);
}

static void test_key_must_fit_its_base(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	struct key *k = parse_key("base \"b.nsim\"\n"
				  "check a \"t\" drop at bob\n"
				  "check b \"u\" drop at mallory\n"
				  "check c \"v\" rules at nobody at-most 1\n",
				  d);
	assert_non_null(k);
	k->base_text = strdup(base);
	k->base_len = strlen(base);
	assert_int_equal(key_fits_base(k, d), 2);
	assert_non_null(strstr(diag_get(d, 0)->message, "check 'b' does not fit"));
	assert_non_null(strstr(diag_get(d, 0)->message, "'mallory'"));
	assert_non_null(strstr(diag_get(d, 1)->message, "check 'c' does not fit"));
	key_free(k);
	diag_free(d);
}

/* The student's own expectations are run but do not count. */
static void test_own_expectations_ignored(void **state)
{
	(void)state;
	struct key *k = the_key();
	char *a = with(base, right_rule);
	char *text = with(a, "expect drop at carol\n");
	struct grade g;
	grade_str(k, text, &g);
	assert_int_equal(g.score, 6); /* small fails: 2 lines added, nothing else */
	assert_false(g.checks[3].passed);
	grade_fini(&g);
	free(text);
	free(a);
	key_free(k);
}

static void test_lines_changed(void **state)
{
	(void)state;
	const char *b = "a 1\n# c\n\nb   2\nc 3\n";
	assert_int_equal(grade_lines_changed(b, strlen(b), b, strlen(b)), 0);
	/* comments, blank lines and blanks do not count */
	const char *same = "a 1 # note\n\tb 2\n\n\nc 3";
	assert_int_equal(grade_lines_changed(b, strlen(b), same, strlen(same)), 0);
	/* blanks inside quotes do */
	const char *q1 = "x \"a  b\"\n", *q2 = "x \"a b\"\n";
	assert_int_equal(grade_lines_changed(q1, strlen(q1), q2, strlen(q2)), 1);
	const char *edit = "a 1\nb 9\nc 3\n", *add = "a 1\nb 2\nnew\nc 3\n", *del = "a 1\nc 3\n";
	assert_int_equal(grade_lines_changed(b, strlen(b), edit, strlen(edit)), 1);
	assert_int_equal(grade_lines_changed(b, strlen(b), add, strlen(add)), 1);
	assert_int_equal(grade_lines_changed(b, strlen(b), del, strlen(del)), 1);
	const char *swap = "c 3\nb 2\na 1\n";
	assert_int_equal(grade_lines_changed(b, strlen(b), swap, strlen(swap)), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_statements),
	    cmocka_unit_test(test_key_errors),
	    cmocka_unit_test(test_right_submission),
	    cmocka_unit_test(test_wrong_submission),
	    cmocka_unit_test(test_structural_checks),
	    cmocka_unit_test(test_broken_submission),
	    cmocka_unit_test(test_key_does_not_fit),
	    cmocka_unit_test(test_key_must_fit_its_base),
	    cmocka_unit_test(test_own_expectations_ignored),
	    cmocka_unit_test(test_lines_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
