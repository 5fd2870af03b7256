/*
 * test_why.c - one packet's story (viz/why) on classic.nsim, seed 1: packet
 * #13 is Alice's first probe to Bob's public endpoint, dropped by office's
 * address-and-port-dependent filtering; #40 is her message, delivered to bob.
 * (#12 is the network unreachable the internet's router answers her probe
 * to Bob's private address with.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support.h"

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/world/runner.h"
#include "app/world/simdrive.h"
#include "sim/engine.h"
#include "sim/trace_log.h"
#include "viz/why.h"

static int setup(void **state)
{
	*state = test_run_scenario("../scenarios/classic.nsim", 1, SCENARIO_UNSET);
	return 0;
}

static int teardown(void **state)
{
	trace_log_free(*state);
	return 0;
}

struct text {
	char *s;
	size_t len;
};

/* The story in t->s (the caller frees it); returns why_render's result. */
static int tell(const struct trace_log *log, uint64_t id, bool ascii, struct text *t)
{
	FILE *f = open_memstream(&t->s, &t->len);
	assert_non_null(f);
	int rc = why_render(f, log, id, simdrive_payload_summary, ascii);
	assert_int_equal(fclose(f), 0);
	return rc;
}

static void test_dropped_probe(void **state)
{
	struct text t;
	assert_int_equal(tell(*state, 13, false, &t), 0);
	char *s = t.s;
	assert_non_null(strstr(s, "Packet #13: UDP 192.168.1.5:5000 → 198.51.100.9:5000"));
	assert_non_null(strstr(s, "sent by alice from 192.168.1.5:5000 to 198.51.100.9:5000"));
	assert_non_null(strstr(s, "left alice through eth0 onto link home-lan towards home"));
	assert_non_null(strstr(s, "arrived at home on lan"));
	assert_non_null(strstr(s, "home translated source 192.168.1.5:5000 → 203.0.113.7:5000 "
				  "using its mapping 192.168.1.5:5000 ↔ 203.0.113.7:5000"));
	assert_non_null(strstr(s, "forwarded: left internet through if2"));
	assert_non_null(strstr(s, "office dropped 203.0.113.7:5000 → 198.51.100.9:5000"));
	assert_non_null(strstr(s, "address-and-port-dependent filtering"));
	assert_non_null(strstr(s, "Fate: dropped at office (nat-filter)"));
	/* hops come in order: sent, translated, dropped */
	size_t sent = (size_t)(strstr(s, "sent by") - s);
	size_t translated = (size_t)(strstr(s, "translated") - s);
	size_t fate = (size_t)(strstr(s, "Fate:") - s);
	assert_true(sent < translated && translated < fate);
	free(s);
}

static void test_delivered(void **state)
{
	struct text t;
	assert_int_equal(tell(*state, 40, false, &t), 0);
	char *s = t.s;
	assert_non_null(strstr(s, "delivered to the socket on bob bound to 10.0.0.7:5000"));
	assert_non_null(
	    strstr(s, "office translated destination 198.51.100.9:5000 → 10.0.0.7:5000"));
	assert_non_null(strstr(s, "Fate: delivered to bob"));
	free(s);
}

static void test_ascii(void **state)
{
	struct text t;
	assert_int_equal(tell(*state, 13, true, &t), 0);
	char *s = t.s;
	for (const char *p = s; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(s, "192.168.1.5:5000 -> 203.0.113.7:5000"));
	free(s);
}

/* A router's own ICMP, told from the real models: what the error is and
 * which packet it is about. */
static void test_icmp_error(void **state)
{
	struct text t;
	assert_int_equal(tell(*state, 12, false, &t), 0);
	char *s = t.s;
	assert_non_null(
	    strstr(s, "Packet #12: ICMP 203.0.113.1 → 203.0.113.7 network unreachable"));
	assert_non_null(strstr(s, "sent by internet: network unreachable 203.0.113.1 → 203.0.113.7 "
				  "about UDP 203.0.113.7:5000 → 10.0.0.7:5000"));
	assert_non_null(strstr(s, "arrived at home on wan (network unreachable"));
	free(s);
	/* the drop it answers says so */
	assert_int_equal(tell(*state, 11, false, &t), 0);
	assert_non_null(strstr(t.s, "; answered with network unreachable (#12)"));
	free(t.s);
}

static void test_unknown_id_and_range(void **state)
{
	struct text t;
	assert_int_equal(tell(*state, 99999, false, &t), WHY_NO_SUCH_PACKET);
	char *s = t.s;
	assert_string_equal(s, "");
	free(s);
	uint64_t lo = 0, hi = 0;
	assert_true(why_packet_range(*state, &lo, &hi));
	assert_int_equal(lo, 1);
	assert_true(hi >= 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dropped_probe),
	    cmocka_unit_test(test_delivered),
	    cmocka_unit_test(test_ascii),
	    cmocka_unit_test(test_icmp_error),
	    cmocka_unit_test(test_unknown_id_and_range),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
