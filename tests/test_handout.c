/*
 * test_handout.c - the printable sheet (app/lesson/handout.h): the student's
 * page has the questions, their choices, blanks and the world as inline SVG,
 * and nothing that gives an answer away; the teacher's page adds the
 * computed answers, hints, variants and notes; every text is HTML-escaped.
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
#include "support_lesson.h"
#include "app/lesson/handout.h"

static const char exercise_text[] =
    "title \"Punch <1> & more\"\n"
    LESSON_WORLD
    "instructions \"Alice & Bob <predict>.\"\n"
    "question q1 \"Do <b>they</b> talk?\" outcome alice and bob\n"
    "question q2 \"Alice's first packet to Bob?\" drop from alice to bob\n"
    "question q3 \"Home's port for alice:5000?\" port home for alice:5000\n"
    "hint q1 \"Think of <script>alert(1)</script>\"\n"
    "teacher q1 \"Ask \\\"who\\\" sent first.\"\n"
    "teacher \"Twenty minutes & no more.\"\n"
    "variant office.preset port-restricted-cone | symmetric\n";

struct fixture {
	struct diag *d;
	struct exercise *x;
	struct exercise_run run;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->d = diag_new();
	f->x = exercise_parse(exercise_text, strlen(exercise_text), "x.nsim", f->d);
	assert_non_null(f->x);
	struct exercise_options o = {0}; /* the reference world */
	if (exercise_run(f->x, &o, &f->run, f->d) != 0) {
		diag_print(f->d, stderr, false);
		fail_msg("exercise_run failed");
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	exercise_run_free(&f->run);
	exercise_free(f->x);
	diag_free(f->d);
	free(f);
	return 0;
}

static char *sheet(struct fixture *f, bool teacher)
{
	char *text = NULL, err[256] = "";
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	assert_non_null(mem);
	int rc = handout_write(mem, f->x, &f->run, teacher, err, sizeof(err));
	assert_int_equal(fclose(mem), 0);
	if (rc != 0)
		fail_msg("handout_write: %s", err);
	return text;
}

static void contains(const char *page, const char *needle)
{
	if (strstr(page, needle) == NULL)
		fail_msg("missing: %s", needle);
}

static void lacks(const char *page, const char *needle)
{
	if (strstr(page, needle) != NULL)
		fail_msg("unexpected: %s", needle);
}

/* Names and addresses, and nothing about how the NATs behave. */
static void test_world_picture(void **state)
{
	struct fixture *f = *state;
	char err[256];
	char *svg = handout_world_svg(f->run.scenario, err, sizeof(err));
	assert_non_null(svg);
	assert_memory_equal(svg, "<svg", 4);
	contains(svg, "</svg>");
	static const char *const seen[] = {"alice",	   "bob",	  "home",     "office",
					   "coord",	   "192.168.1.5", "10.0.0.7", "203.0.113.7",
					   "198.51.100.9", "192.0.2.10"};
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		contains(svg, seen[i]);
	lacks(svg, "cone");
	lacks(svg, "symmetric");
	lacks(svg, "direct");
	free(svg);
}

static void test_student_sheet(void **state)
{
	char *page = sheet(*state, false);
	contains(page, "<!DOCTYPE html>");
	contains(page, "<svg");
	contains(page, "@page { size: A4");
	contains(page, "break-inside: avoid");
	contains(page, "<h1>Punch &lt;1&gt; &amp; more</h1>");
	contains(page, "Alice &amp; Bob &lt;predict&gt;.");
	contains(page, "q1. Do &lt;b&gt;they&lt;/b&gt; talk?");
	contains(page, "q2. Alice&#39;s first packet to Bob?");
	contains(page, "<span class=\"box\"></span>relayed");
	contains(page, "<span class=\"box\"></span>nat-filter");
	contains(page, "Port: <span class=\"blank\"></span>");
	/* no answer, hint, variant or note */
	lacks(page, "class=\"key\"");
	lacks(page, "office nat-filter");
	lacks(page, "cone");
	lacks(page, "symmetric");
	lacks(page, "alert(1)");
	lacks(page, "Twenty minutes");
	lacks(page, "sent first");
	lacks(page, "<script");
	free(page);
}

static void test_teacher_sheet(void **state)
{
	char *page = sheet(*state, true);
	contains(page, "<svg");
	contains(page, "<b>Teacher's sheet</b>");
	contains(page, "<span class=\"answer\">direct</span> (outcome)");
	contains(page, "<span class=\"answer\">office nat-filter</span> (drop)");
	contains(page, "<span class=\"answer\">5000</span> (port)");
	contains(page, "Think of &lt;script&gt;alert(1)&lt;/script&gt;");
	lacks(page, "<script");
	contains(page, "Ask &quot;who&quot; sent first.");
	contains(page, "Twenty minutes &amp; no more.");
	contains(page, "<td>office.preset</td><td class=\"answer\">port-restricted-cone</td>"
		       "<td>port-restricted-cone | symmetric</td>");
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_world_picture),
	    cmocka_unit_test(test_student_sheet),
	    cmocka_unit_test(test_teacher_sheet),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
