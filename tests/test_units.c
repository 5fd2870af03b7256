/*
 * test_units.c - the one reader of durations and counts (app/lang/units.h): what
 * it accepts, what it refuses and the sentence it gives, ranges and zero
 * words, and that a formatted duration reads back. test_scenario.c covers
 * the duration forms through scenario_parse_duration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/lang/units.h"

static void test_counts(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t max;
		int rc;
		uint64_t v;
	} table[] = {
	    {"0", 10, UNITS_OK, 0},
	    {"10", 10, UNITS_OK, 10},
	    {"11", 10, UNITS_TOO_BIG, 0},
	    {"18446744073709551615", UINT64_MAX, UNITS_OK, UINT64_MAX},
	    {"18446744073709551616", UINT64_MAX, UNITS_TOO_BIG, 0},
	    {"99999999999999999999", 1u << 24, UNITS_TOO_BIG, 0},
	    {"007", 10, UNITS_OK, 7}, /* decimal, never octal */
	    {"", 10, UNITS_SYNTAX, 0},
	    {"-1", 10, UNITS_SYNTAX, 0},
	    {"+1", 10, UNITS_SYNTAX, 0},
	    {" 1", 10, UNITS_SYNTAX, 0},
	    {"1 ", 10, UNITS_SYNTAX, 0},
	    {"0x10", 100, UNITS_SYNTAX, 0},
	    {"1e3", 10000, UNITS_SYNTAX, 0},
	    {"1.0", 10, UNITS_SYNTAX, 0},
	    {"nan", 10, UNITS_SYNTAX, 0},
	    {"9", 5, UNITS_TOO_BIG, 0},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint64_t v = 42;
		int rc = units_parse_count(table[i].s, strlen(table[i].s), table[i].max, &v);
		if (rc != table[i].rc)
			fprintf(stderr, "count '%s': rc %d, want %d\n", table[i].s, rc,
				table[i].rc);
		assert_int_equal(rc, table[i].rc);
		assert_true(v == (rc == UNITS_OK ? table[i].v : 42));
	}
}

static void test_count_messages(void **state)
{
	(void)state;
	char msg[UNITS_MSG_SIZE];
	uint64_t v;

	assert_int_equal(
	    units_read_count("a number of peers", "0", 1, 1, 100, &v, msg, sizeof(msg)),
	    UNITS_OUT_OF_RANGE);
	assert_string_equal(msg, "a number of peers '0' is out of range (1-100)");
	assert_int_equal(units_read_count("a seed", "x\x1b[2J", 5, 0, 9, &v, msg, sizeof(msg)),
			 UNITS_SYNTAX);
	assert_string_equal(msg, "expected a seed (a whole number), found 'x?[2J'");
	assert_int_equal(units_read_count("a port", "65535", 5, 0, 65535, &v, msg, sizeof(msg)),
			 UNITS_OK);
	assert_int_equal(v, 65535);
}

static void test_settings(void **state)
{
	(void)state;
	static const struct units_setting set = {
	    .what = "a keepalive interval",
	    .min_ns = 100 * UNITS_NS_PER_MS,
	    .max_ns = UNITS_NS_PER_H,
	    .zero_word = "0",
	    .zero_word2 = "off",
	    .zero_means = "no keepalives",
	};
	static const struct {
		const char *s;
		int rc;
		int64_t ns;
		const char *msg;
	} table[] = {
	    {"off", UNITS_OK, 0, NULL},
	    {"0", UNITS_OK, 0, NULL},
	    {"100ms", UNITS_OK, 100 * UNITS_NS_PER_MS, NULL},
	    {"1h", UNITS_OK, UNITS_NS_PER_H, NULL},
	    {"60min", UNITS_OK, UNITS_NS_PER_H, NULL},
	    {"0s", UNITS_OUT_OF_RANGE, 0,
	     "'0s' is out of range: a keepalive interval is from 100ms to 1h, or '0' for no "
	     "keepalives"},
	    {"99999999ns", UNITS_OUT_OF_RANGE, 0,
	     "'99999999ns' is out of range: a keepalive interval is from 100ms to 1h, or '0' for "
	     "no keepalives"},
	    {"3600000000001ns", UNITS_OUT_OF_RANGE, 0,
	     "'3600000000001ns' is out of range: a keepalive interval is from 100ms to 1h, or '0' "
	     "for no keepalives"},
	    {"nan", UNITS_SYNTAX, 0, "expected a duration like 25s or '0', found 'nan'"},
	    {"5", UNITS_NO_UNIT, 0, "expected a duration with a unit (ms, s, min), found '5'"},
	    {"0.5ns", UNITS_TOO_FINE, 0,
	     "duration '0.5ns' is not a whole number of nanoseconds, the finest step of natsim's "
	     "clock"},
	    {"9999999999999999999999h", UNITS_TOO_BIG, 0,
	     "duration '9999999999999999999999h' is too long"},
	    {"2m", UNITS_BAD_UNIT, 0,
	     "unknown unit 'm' in '2m'; the units are ns, us, ms, s, min and h (minutes are "
	     "'min')"},
	    {"1.5sec", UNITS_BAD_UNIT, 0,
	     "unknown unit 'sec' in '1.5sec'; the units are ns, us, ms, s, min and h"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char msg[UNITS_MSG_SIZE] = "";
		int64_t ns = -42;
		int rc =
		    units_read_setting(&set, table[i].s, strlen(table[i].s), &ns, msg, sizeof(msg));
		if (rc != table[i].rc)
			fprintf(stderr, "setting '%s': rc %d, want %d (%s)\n", table[i].s, rc,
				table[i].rc, msg);
		assert_int_equal(rc, table[i].rc);
		if (rc == UNITS_OK)
			assert_int_equal(ns, table[i].ns);
		else
			assert_string_equal(msg, table[i].msg);
		assert_true(rc == UNITS_OK || ns == -42);
	}
}

/* A duration formatted for a message reads back as itself. */
static void test_format_round_trip(void **state)
{
	(void)state;
	static const int64_t values[] = {
	    0,
	    1,
	    999,
	    1000,
	    1500,
	    UNITS_NS_PER_MS,
	    1500 * UNITS_NS_PER_MS,
	    UNITS_NS_PER_S,
	    90 * UNITS_NS_PER_S,
	    UNITS_NS_PER_MIN,
	    UNITS_NS_PER_H,
	    24 * UNITS_NS_PER_H,
	    INT64_MAX,
	};
	static const char *const want[] = {
	    "0s",
	    "1ns",
	    "999ns",
	    "1us",
	    "1500ns",
	    "1ms",
	    "1500ms",
	    "1s",
	    "90s",
	    "1min",
	    "1h",
	    "24h",
	    "9223372036854775807ns",
	};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[32];
		int64_t back = -1;
		units_format_duration(values[i], buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
		assert_int_equal(units_parse_duration(buf, strlen(buf), &back), UNITS_OK);
		assert_int_equal(back, values[i]);
	}
}

/* Lengths are honoured: the reader never looks past len, so a word inside a
 * line needs no NUL. */
static void test_not_nul_terminated(void **state)
{
	(void)state;
	int64_t ns;
	uint64_t v;

	assert_int_equal(units_parse_duration("20msXYZ", 4, &ns), UNITS_OK);
	assert_int_equal(ns, 20 * UNITS_NS_PER_MS);
	assert_int_equal(units_parse_count("123abc", 3, 1000, &v), UNITS_OK);
	assert_int_equal(v, 123);
	assert_int_equal(units_parse_duration(NULL, 0, &ns), UNITS_SYNTAX);
	assert_int_equal(units_parse_count(NULL, 0, 1, &v), UNITS_SYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_count_messages),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_not_nul_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
