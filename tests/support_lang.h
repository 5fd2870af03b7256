/*
 * support_lang.h - what the scenario language's tests share: a scenario
 * parsed from text that must have no error. Include after <cmocka.h>.
 */
#ifndef NATSIM_TESTS_SUPPORT_LANG_H
#define NATSIM_TESTS_SUPPORT_LANG_H

#include <stdio.h>
#include <string.h>

#include "app/lang/diag.h"
#include "app/lang/scenario.h"

/* `text` parsed as t.nsim; the diagnostics are printed if it has errors,
 * and the test fails. */
static inline struct scenario *parse_ok(const char *text)
{
	struct diag *d = diag_new();
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);

	if (!s || diag_count_errors(d) > 0)
		diag_print(d, stderr, false);
	assert_non_null(s);
	assert_int_equal(diag_count_errors(d), 0);
	diag_free(d);
	return s;
}

#endif
