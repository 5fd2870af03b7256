/*
 * test_matrix_tcp.c - `natsim matrix --transport tcp` (app/cli/cmd_matrix.c):
 * the pairs are run over TCP, and what the NATs do with an unsolicited SYN
 * decides which pairs connect directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/cli/matrix.h"
#include "app/lang/scenario.h"

enum { OPEN = 0, FIREWALL = 1, PORT_RESTRICTED = 4, SYMMETRIC = 5 };

static void cell(int a, int b, const struct matrix_setup *setup, struct matrix_cell *out)
{
	struct diag *d = diag_new();
	assert_int_equal(matrix_run_pair(a, b, setup, 1, out, d), 0);
	diag_free(d);
}

static int outcome(int a, int b, const struct matrix_setup *setup)
{
	struct matrix_cell c;
	cell(a, b, setup, &c);
	return c.outcome;
}

static void test_scenario_text(void **state)
{
	char text[1024];
	struct matrix_setup tcp = {.tcp = true, .tcp_unsolicited = "rst"};
	(void)state;
	matrix_scenario_text(PORT_RESTRICTED, SYMMETRIC, &tcp, text, sizeof(text));
	assert_non_null(strstr(text, "connect alice to bob over tcp"));
	assert_non_null(strstr(text, "preset symmetric tcp-unsolicited rst public"));
	matrix_scenario_text(PORT_RESTRICTED, SYMMETRIC, NULL, text, sizeof(text));
	assert_null(strstr(text, "tcp"));
}

/* Two port-restricted cones: a silent NAT lets the second SYN in at once;
 * one that answers the first with an RST refuses it, and only a later try
 * of the agents' gets through. */
static void test_unsolicited_answer_decides(void **state)
{
	struct matrix_setup drop = {.tcp = true}, rst = {.tcp = true, .tcp_unsolicited = "rst"};
	struct matrix_cell at_drop, at_rst;
	(void)state;
	assert_int_equal(outcome(PORT_RESTRICTED, PORT_RESTRICTED, NULL), SCENARIO_PATH_DIRECT);
	assert_int_equal(outcome(PORT_RESTRICTED, PORT_RESTRICTED, &drop), SCENARIO_PATH_DIRECT);
	cell(PORT_RESTRICTED, PORT_RESTRICTED, &drop, &at_drop);
	cell(PORT_RESTRICTED, PORT_RESTRICTED, &rst, &at_rst);
	assert_true(at_drop.connect_ns >= 0);
	assert_true(at_rst.connect_ns < 0 || at_rst.connect_ns > at_drop.connect_ns);
	/* What needs no punch does not care. */
	assert_int_equal(outcome(OPEN, PORT_RESTRICTED, &rst), SCENARIO_PATH_DIRECT);
	assert_int_equal(outcome(FIREWALL, SYMMETRIC, &drop), SCENARIO_PATH_RELAYED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scenario_text),
	    cmocka_unit_test(test_unsolicited_answer_decides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
