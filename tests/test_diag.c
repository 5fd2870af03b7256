/*
 * test_diag.c - diagnostics: gcc-style rendering, counting, sorting and
 * "did you mean" suggestions.
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

/* Render a diag list to a string (caller frees). */
static char *render(const struct diag *d, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(diag_print(d, f, color), 0);
	fclose(f);
	return buf;
}

static const char *const line3 = "cordinator coord at 192.0.2.1";

static void add_span(struct diag *d, enum diag_severity sev, int line, int col, int len,
		     const char *src, const char *msg)
{
	struct diag_span at = {"scenarios/x.nsim", line, col, len, src, src ? strlen(src) : 0};

	assert_int_equal(diag_add(d, sev, &at, "%s", msg), 0);
}

static void test_render_one_error(void **state)
{
	(void)state;
	struct diag *d = diag_new();

	add_span(d, DIAG_ERROR, 3, 1, 10, line3,
		 "unknown keyword 'cordinator'; did you mean 'coordinator'?");
	char *out = render(d, false);
	assert_string_equal(out,
			    "scenarios/x.nsim:3:1: error: unknown keyword 'cordinator'; did you "
			    "mean 'coordinator'?\n"
			    "    3 | cordinator coord at 192.0.2.1\n"
			    "      | ^~~~~~~~~~\n");
	free(out);
	assert_int_equal(diag_count_errors(d), 1);
	assert_int_equal(diag_count_warnings(d), 0);
	assert_int_equal(diag_count(d), 1);
	const struct diagnostic *dg = diag_get(d, 0);
	assert_non_null(dg);
	assert_int_equal(dg->line, 3);
	assert_int_equal(dg->col, 1);
	assert_int_equal(dg->len, 10);
	assert_string_equal(dg->file, "scenarios/x.nsim");
	assert_string_equal(dg->src, line3);
	assert_null(diag_get(d, 1));
	diag_free(d);
}

static void test_caret_mid_line(void **state)
{
	(void)state;
	struct diag *d = diag_new();

	/* The shorthand: a one-column caret. */
	assert_int_equal(diag_error(d, "x.nsim", 12, 21, line3, strlen(line3), "bad %s", "ip"), 0);
	char *out = render(d, false);
	assert_string_equal(out, "x.nsim:12:21: error: bad ip\n"
				 "   12 | cordinator coord at 192.0.2.1\n"
				 "      |                     ^\n");
	free(out);
	diag_free(d);
}

static void test_multiple_and_severities(void **state)
{
	(void)state;
	struct diag *d = diag_new();

	add_span(d, DIAG_ERROR, 1, 12, 5, "host alice at 1.2.3.4 public", "first");
	add_span(d, DIAG_WARNING, 2, 6, 3, "rule a input drop", "second");
	add_span(d, DIAG_NOTE, 1, 6, 5, "host alice at 1.2.3.4 public", "third");
	assert_int_equal(diag_add(d, DIAG_ERROR, NULL, "no location %d", 4), 0);
	assert_int_equal(diag_count_errors(d), 2);
	assert_int_equal(diag_count_warnings(d), 1);
	assert_int_equal(diag_count(d), 4);
	char *out = render(d, false);
	assert_string_equal(out, "scenarios/x.nsim:1:12: error: first\n"
				 "    1 | host alice at 1.2.3.4 public\n"
				 "      |            ^~~~~\n"
				 "scenarios/x.nsim:2:6: warning: second\n"
				 "    2 | rule a input drop\n"
				 "      |      ^~~\n"
				 "scenarios/x.nsim:1:6: note: third\n"
				 "    1 | host alice at 1.2.3.4 public\n"
				 "      |      ^~~~~\n"
				 "error: no location 4\n");
	free(out);
	diag_clear(d);
	assert_int_equal(diag_count(d), 0);
	assert_int_equal(diag_count_errors(d), 0);
	diag_free(d);
	diag_free(NULL);
}

static void test_color(void **state)
{
	(void)state;
	struct diag *d = diag_new();

	add_span(d, DIAG_ERROR, 3, 1, 10, line3, "oops");
	char *out = render(d, true);
	assert_string_equal(out,
			    "\033[01mscenarios/x.nsim:3:1:\033[m \033[01;31merror:\033[m oops\n"
			    "    3 | cordinator coord at 192.0.2.1\n"
			    "      | \033[01;31m^~~~~~~~~~\033[m\n");
	free(out);
	diag_free(d);
}

static void test_tabs_controls_and_end_of_line(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	const char src[] = "\thost\x01x at";

	/* "at" is at byte 8 (col 9); the tab expands to 8 columns. */
	add_span(d, DIAG_ERROR, 7, 9, 2, src, "tab");
	/* Just past the end: where something is missing. */
	add_span(d, DIAG_ERROR, 7, 11, 1, src, "end");
	char *out = render(d, false);
	assert_string_equal(out, "scenarios/x.nsim:7:9: error: tab\n"
				 "    7 |         host?x at\n"
				 "      |                ^~\n"
				 "scenarios/x.nsim:7:11: error: end\n"
				 "    7 |         host?x at\n"
				 "      |                  ^\n");
	free(out);
	diag_free(d);
}

static void test_utf8_counts_one_column(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	const char src[] = "note \"M\xc3\xbcller\" x \xff y";

	/* 'x' is byte 15 (col 16), displayed 15th (the u-umlaut is one column). */
	add_span(d, DIAG_ERROR, 1, 16, 1, src, "u");
	add_span(d, DIAG_ERROR, 1, 18, 1, src, "bad byte");
	char *out = render(d, false);
	assert_string_equal(out, "scenarios/x.nsim:1:16: error: u\n"
				 "    1 | note \"M\xc3\xbcller\" x ? y\n"
				 "      |               ^\n"
				 "scenarios/x.nsim:1:18: error: bad byte\n"
				 "    1 | note \"M\xc3\xbcller\" x ? y\n"
				 "      |                 ^\n");
	free(out);
	diag_free(d);
}

static void test_sort_keeps_notes(void **state)
{
	(void)state;
	struct diag *d = diag_new();

	add_span(d, DIAG_ERROR, 1, 1, 1, NULL, "stays first (before `from`)");
	add_span(d, DIAG_ERROR, 9, 1, 1, NULL, "line 9");
	add_span(d, DIAG_NOTE, 2, 1, 1, NULL, "note of line 9");
	assert_int_equal(diag_add(d, DIAG_NOTE, NULL, "no line"), 0);
	add_span(d, DIAG_ERROR, 4, 5, 1, NULL, "line 4 col 5");
	add_span(d, DIAG_ERROR, 4, 2, 1, NULL, "line 4 col 2");
	add_span(d, DIAG_ERROR, 4, 2, 1, NULL, "line 4 col 2 again");
	diag_sort(d, 1);
	const char *want[] = {
	    "stays first (before `from`)",
	    "line 4 col 2",
	    "line 4 col 2 again",
	    "line 4 col 5",
	    "line 9",
	    "note of line 9",
	    "no line",
	};
	assert_int_equal(diag_count(d), 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(diag_get(d, i)->message, want[i]);
	diag_free(d);
}

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(diag_distance("coordinator", "coordinator"), 0);
	assert_int_equal(diag_distance("cordinator", "coordinator"), 1);   /* deletion */
	assert_int_equal(diag_distance("coordinatorr", "coordinator"), 1); /* insertion */
	assert_int_equal(diag_distance("coordinatxr", "coordinator"), 1);  /* substitution */
	assert_int_equal(diag_distance("nta", "nat"), 1);		   /* transposition */
	assert_int_equal(diag_distance("ab", "ba"), 1);
	assert_int_equal(diag_distance("hsot", "host"), 1);
	assert_int_equal(diag_distance("ohst", "host"), 1);
	assert_int_equal(diag_distance("NAT", "nat"), 0); /* case-insensitive */
	assert_int_equal(diag_distance("kitten", "sitting"), 3);
	assert_int_equal(diag_distance("", "abc"), 3);
	assert_int_equal(diag_distance("abc", ""), 3);
	assert_int_equal(diag_distance("ca", "abc"), 3); /* restricted: no edit after a swap */
}

static void test_suggest(void **state)
{
	(void)state;
	static const char *const kws[] = {"title",	 "seed", "nat", "host",
					  "coordinator", "at",	 NULL,	"expect"};
	const size_t n = sizeof(kws) / sizeof(kws[0]);

	assert_string_equal(diag_suggest("cordinator", kws, n), "coordinator");
	assert_string_equal(diag_suggest("cooridnator", kws, n), "coordinator"); /* swap */
	assert_string_equal(diag_suggest("hots", kws, n), "host");
	assert_string_equal(diag_suggest("exepct", kws, n), "expect");
	assert_string_equal(diag_suggest("Host", kws, n), "host"); /* case only */
	assert_string_equal(diag_suggest("tilte", kws, n), "title");
	assert_string_equal(diag_suggest("tite", kws, n), "title"); /* distance 1 */
	assert_string_equal(diag_suggest("ttle", kws, n), "title");
	assert_string_equal(diag_suggest("nta", kws, n), "nat"); /* short: 1 allowed */
	assert_null(diag_suggest("nxx", kws, n));		 /* short: 2 is too far */
	assert_null(diag_suggest("x", kws, n));			 /* no 1-letter guesses */
	assert_null(diag_suggest("host", kws, n));		 /* exact is no typo */
	assert_null(diag_suggest("banana", kws, n));
	assert_null(diag_suggest("", kws, n));
	assert_null(diag_suggest("coordinator", kws, 0));
	/* Ties go to the earlier candidate. */
	static const char *const ties[] = {"bat", "cat"};
	assert_string_equal(diag_suggest("at", ties, 2), "bat");
	/* Very long words are never typos of ours. */
	char longw[100];
	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	assert_null(diag_suggest(longw, kws, n));
}

static void test_long_source_line_is_truncated(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	size_t len = DIAG_MAX_SRC * 2;
	char *src = malloc(len);

	assert_non_null(src);
	memset(src, 'a', len);
	struct diag_span at = {"f", 1, (int)len - 2, 1, src, len};
	assert_int_equal(diag_add(d, DIAG_ERROR, &at, "far"), 0);
	assert_int_equal(diag_get(d, 0)->src_len, DIAG_MAX_SRC);
	char *out = render(d, false);
	/* The excerpt is shown, the caret (beyond it) is not. */
	assert_non_null(strstr(out, "f:1:8190: error: far\n    1 | aaaa"));
	assert_null(strchr(out, '^'));
	free(out);
	free(src);
	diag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_one_error),
	    cmocka_unit_test(test_caret_mid_line),
	    cmocka_unit_test(test_multiple_and_severities),
	    cmocka_unit_test(test_color),
	    cmocka_unit_test(test_tabs_controls_and_end_of_line),
	    cmocka_unit_test(test_utf8_counts_one_column),
	    cmocka_unit_test(test_sort_keeps_notes),
	    cmocka_unit_test(test_distance),
	    cmocka_unit_test(test_suggest),
	    cmocka_unit_test(test_long_source_line_is_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
