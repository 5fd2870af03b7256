/*
 * test_matrix_techniques.c - `natsim matrix --techniques` (app/cli/cmd_matrix.c):
 * the techniques against hard NATs turn the pairs they are for from relayed
 * into direct, and the matrix names the technique.
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
#include "p2p/agent.h"

enum { FIREWALL = 1, FULL_CONE = 2, PORT_RESTRICTED = 4, SYMMETRIC = 5, SYM_SEQ = 6 };

static void cell(int a, int b, unsigned techniques, struct matrix_cell *out)
{
	struct matrix_setup setup = {.techniques = techniques};
	struct diag *d = diag_new();
	assert_int_equal(matrix_run_pair(a, b, &setup, 1, out, d), 0);
	diag_free(d);
}

static void test_parse_techniques(void **state)
{
	unsigned bits;
	(void)state;
	assert_int_equal(matrix_parse_techniques("all", &bits), 0);
	assert_int_equal(bits, SCENARIO_TECH_ALL);
	assert_int_equal(matrix_parse_techniques("none", &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(matrix_parse_techniques("birthday,prediction", &bits), 0);
	assert_int_equal(bits, SCENARIO_TECH_BIRTHDAY | SCENARIO_TECH_PREDICTION);
	assert_int_equal(matrix_parse_techniques("port-mapping", &bits), 0);
	assert_int_equal(bits, SCENARIO_TECH_PORT_MAPPING);
	assert_int_equal(matrix_parse_techniques("birthday,", &bits), -1);
	assert_int_equal(matrix_parse_techniques("birth", &bits), -1);
	assert_int_equal(matrix_parse_techniques("", &bits), -1);
}

/* The technique the agent named for the path (p2p_event.technique). */
static void test_technique_of(void **state)
{
	(void)state;
	assert_string_equal(matrix_technique_name(AGENT_TECH_BIRTHDAY), "birthday");
	assert_string_equal(matrix_technique_name(AGENT_TECH_PREDICTION), "prediction");
	assert_string_equal(matrix_technique_name(AGENT_TECH_PORT_MAPPING), "port-mapping");
	assert_string_equal(matrix_technique_name(0), "");
}

/* Both hosts get the techniques; the two hard kinds are symmetric NATs. */
static void test_scenario_text(void **state)
{
	char text[1024];
	struct matrix_setup setup = {.techniques = SCENARIO_TECH_ALL};
	(void)state;
	matrix_scenario_text(SYM_SEQ, 7, &setup, text, sizeof(text));
	assert_non_null(strstr(text, "nat alice-nat preset symmetric ports sequential public"));
	assert_non_null(strstr(text, "nat bob-nat preset symmetric pcp on public"));
	assert_non_null(
	    strstr(text, "behind alice-nat techniques prediction,birthday,port-mapping\n"));
	assert_non_null(
	    strstr(text, "behind bob-nat techniques prediction,birthday,port-mapping\n"));
	matrix_scenario_text(FIREWALL, FULL_CONE, NULL, text, sizeof(text));
	assert_null(strstr(text, "techniques"));
}

/* Symmetric (random ports) against a port-restricted cone: relayed without
 * techniques, direct with the birthday search, which the matrix names, and
 * the time to the direct path. Prediction alone does nothing for it. */
static void test_birthday_turns_direct(void **state)
{
	struct matrix_cell before, after, predicted;
	(void)state;
	cell(PORT_RESTRICTED, SYMMETRIC, 0, &before);
	assert_int_equal(before.outcome, SCENARIO_PATH_RELAYED);
	assert_int_equal(before.direct_ns, -1);
	cell(PORT_RESTRICTED, SYMMETRIC, SCENARIO_TECH_BIRTHDAY, &after);
	assert_int_equal(after.outcome, SCENARIO_PATH_DIRECT);
	assert_string_equal(after.technique, "birthday");
	/* K = 256 sockets at 100 a second before the first probe: > 2.5 s. */
	assert_true(after.direct_ns > 2500000000LL && after.direct_ns < 30000000000LL);
	cell(PORT_RESTRICTED, SYMMETRIC, SCENARIO_TECH_PREDICTION, &predicted);
	assert_int_equal(predicted.outcome, SCENARIO_PATH_RELAYED);
}

/* A symmetric NAT that hands out ports in order: prediction turns it
 * direct, within the punching deadline. */
static void test_prediction_turns_direct(void **state)
{
	struct matrix_cell before, after;
	(void)state;
	cell(PORT_RESTRICTED, SYM_SEQ, 0, &before);
	assert_int_equal(before.outcome, SCENARIO_PATH_RELAYED);
	cell(PORT_RESTRICTED, SYM_SEQ, SCENARIO_TECH_PREDICTION, &after);
	assert_int_equal(after.outcome, SCENARIO_PATH_DIRECT);
	assert_string_equal(after.technique, "prediction");
	assert_true(after.direct_ns > 0 && after.direct_ns < 5000000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_techniques),
	    cmocka_unit_test(test_technique_of),
	    cmocka_unit_test(test_scenario_text),
	    cmocka_unit_test(test_birthday_turns_direct),
	    cmocka_unit_test(test_prediction_turns_direct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
