/*
 * test_icmp.c - a stack's ICMP rules (model/icmp.h): what may be answered
 * (RFC 1122 3.2.2), which echo requests are answered, and Linux 6.1's rate
 * limits in virtual time: 6 errors at once then one a second per
 * destination, 50 at once for the whole host, echo replies not limited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/icmp.h"

#define A IP4(192, 0, 2, 1)
#define B IP4(198, 51, 100, 7)
#define PORT_UNREACH ICMP_DEST_UNREACH, ICMP_PORT_UNREACH

static struct icmp_limiter *new_limiter(uint64_t seed)
{
	struct icmp_config cfg;
	struct rng r;

	icmp_config_default(&cfg);
	rng_derive(&r, seed, "icmp:test");
	struct icmp_limiter *lim = icmp_limiter_new(&cfg, &r);

	assert_non_null(lim);
	return lim;
}

/* How many of n errors to dst at `now` the limiter lets out. */
static int allowed(struct icmp_limiter *lim, int64_t now, uint32_t dst, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += icmp_limiter_allow(lim, now, dst, PORT_UNREACH, false);
	return k;
}

static void test_defaults_are_linux(void **state)
{
	struct icmp_config cfg;

	(void)state;
	icmp_config_default(&cfg);
	assert_int_equal(cfg.ratelimit, SIM_MS(1000));
	assert_int_equal(cfg.ratemask, 0x1818);
	assert_int_equal(cfg.msgs_per_sec, 1000);
	assert_int_equal(cfg.msgs_burst, 50);
	assert_false(cfg.echo_ignore_all);
}

static void test_burst_of_six_then_one_a_second(void **state)
{
	struct icmp_limiter *lim = new_limiter(1);

	(void)state;
	assert_int_equal(allowed(lim, SIM_S(10), A, 10), 6);
	/* Half a second banks half a token: nothing. */
	assert_int_equal(allowed(lim, SIM_S(10) + SIM_MS(500), A, 3), 0);
	/* A second after the burst: one, and only one. */
	assert_int_equal(allowed(lim, SIM_S(11), A, 3), 1);
	assert_int_equal(allowed(lim, SIM_S(12), A, 3), 1);
	/* Another destination has its own full bucket. */
	assert_int_equal(allowed(lim, SIM_S(12), B, 10), 6);
	/* Idle six seconds: full again. */
	assert_int_equal(allowed(lim, SIM_S(18), A, 10), 6);
	icmp_limiter_free(lim);
}

/* The global bucket: 50 credits, each message taking 0, 1 or 2 of them
 * (icmp_global_consume), drawn from the limiter's stream: replay the same
 * draws to know how many pass. */
static int expected_global_burst(uint64_t seed)
{
	struct rng r;
	int64_t credit = 50;
	int n = 0;

	rng_derive(&r, seed, "icmp:test");
	while (credit > 0) {
		credit -= (int64_t)rng_below(&r, 3);
		n++;
	}
	return n;
}

static void test_global_burst_of_fifty(void **state)
{
	struct icmp_limiter *lim = new_limiter(7);
	int sent = 0, expected = expected_global_burst(7);

	(void)state;
	/* 200 destinations, one error each, all at one instant. */
	for (uint32_t i = 0; i < 200; i++)
		sent +=
		    icmp_limiter_allow(lim, SIM_S(5), IP4(10, 1, 0, 0) + i, PORT_UNREACH, false);
	assert_int_equal(sent, expected);
	assert_in_range(sent, 30, 80); /* one credit on average */
	/* Less than HZ/50 later: still empty. */
	assert_false(
	    icmp_limiter_allow(lim, SIM_S(5) + SIM_MS(10), IP4(10, 2, 0, 0), PORT_UNREACH, false));
	/* 20 ms later the bucket refills with 1000/s x 20 ms = 20 credits. */
	assert_true(
	    icmp_limiter_allow(lim, SIM_S(5) + SIM_MS(20), IP4(10, 2, 0, 1), PORT_UNREACH, false));
	icmp_limiter_free(lim);
}

/* A destination's own limit refusing does not spend global credit (the
 * 6.1.113 order: check global, then the peer, then consume). */
static void test_peer_refusal_spends_no_global_credit(void **state)
{
	struct icmp_limiter *lim = new_limiter(7);
	int sent = 0;

	(void)state;
	assert_int_equal(allowed(lim, SIM_S(5), A, 1000), 6);
	for (uint32_t i = 0; i < 200; i++)
		sent +=
		    icmp_limiter_allow(lim, SIM_S(5), IP4(10, 1, 0, 0) + i, PORT_UNREACH, false);
	/* The six to A took their draws first: replay them. */
	struct rng r;
	int64_t credit = 50;
	int n = 0;

	rng_derive(&r, 7, "icmp:test");
	for (int i = 0; i < 6; i++)
		credit -= (int64_t)rng_below(&r, 3);
	while (credit > 0) {
		credit -= (int64_t)rng_below(&r, 3);
		n++;
	}
	assert_int_equal(sent, n);
	icmp_limiter_free(lim);
}

static void test_echo_not_limited(void **state)
{
	struct icmp_limiter *lim = new_limiter(3);
	int k = 0;

	(void)state;
	for (int i = 0; i < 1000; i++)
		k += icmp_limiter_allow(lim, SIM_S(1), A, ICMP_ECHO_REPLY, 0, false);
	assert_int_equal(k, 1000);
	/* Nor fragmentation needed (PMTU discovery). */
	for (int i = 0; i < 100; i++)
		k += icmp_limiter_allow(lim, SIM_S(1), A, ICMP_DEST_UNREACH, 4, false);
	assert_int_equal(k, 1100);
	/* ... and they spent nothing: a port unreachable still gets 6. */
	assert_int_equal(allowed(lim, SIM_S(1), A, 10), 6);
	icmp_limiter_free(lim);
}

static void test_loopback_has_no_peer_limit(void **state)
{
	struct icmp_limiter *lim = new_limiter(3);
	int k = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		k += icmp_limiter_allow(lim, SIM_S(1), A, PORT_UNREACH, true);
	assert_int_equal(k, 20);
	assert_int_equal(icmp_limiter_peers(lim), 0);
	icmp_limiter_free(lim);
}

static void test_ratemask_and_ratelimit_are_sysctls(void **state)
{
	struct icmp_limiter *lim = new_limiter(3);
	struct icmp_config cfg = *icmp_limiter_config(lim);

	(void)state;
	cfg.ratemask = 0; /* nothing limited */
	icmp_limiter_set_config(lim, &cfg);
	assert_int_equal(allowed(lim, SIM_S(1), A, 30), 30);
	cfg.ratemask = 0x1818;
	cfg.ratelimit = SIM_MS(100); /* 6 at once, then one per 100 ms */
	icmp_limiter_set_config(lim, &cfg);
	assert_int_equal(allowed(lim, SIM_S(2), B, 10), 6);
	assert_int_equal(allowed(lim, SIM_S(2) + SIM_MS(100), B, 10), 1);
	icmp_limiter_free(lim);
}

/* Many destinations come and go; idle ones are forgotten, not kept. */
static void test_idle_destinations_are_forgotten(void **state)
{
	struct icmp_limiter *lim = new_limiter(3);

	(void)state;
	for (int64_t t = 0; t < 100; t++)
		for (uint32_t i = 0; i < 5; i++)
			icmp_limiter_allow(lim, SIM_S(10 * t), IP4(10, 3, (uint8_t)t, (uint8_t)i),
					   PORT_UNREACH, false);
	assert_in_range(icmp_limiter_peers(lim), 1, 40);
	icmp_limiter_free(lim);
}

/* ---- what may be answered ------------------------------------------------ */

static struct packet_info udp_from(uint32_t src, uint32_t dst)
{
	return (struct packet_info){.proto = IPPROTO_NUM_UDP, .src = src, .dst = dst};
}

static void test_may_answer_udp(void **state)
{
	struct packet_info ok = udp_from(A, B);

	(void)state;
	assert_true(icmp_may_answer(&ok));
	const uint32_t no_src[] = {0, IP4(127, 0, 0, 1), IP4(224, 0, 0, 5), IP4(240, 0, 0, 1),
				   IP4(255, 255, 255, 255)};
	for (size_t i = 0; i < sizeof(no_src) / sizeof(no_src[0]); i++) {
		struct packet_info bad = udp_from(no_src[i], B);

		assert_false(icmp_may_answer(&bad));
	}
	struct packet_info bcast = udp_from(A, IP4(255, 255, 255, 255));
	struct packet_info mcast = udp_from(A, IP4(239, 1, 2, 3));

	assert_false(icmp_may_answer(&bcast));
	assert_false(icmp_may_answer(&mcast));
}

static void test_error_about_error_never_answered(void **state)
{
	struct packet_info err = {.proto = IPPROTO_NUM_ICMP,
				  .src = A,
				  .dst = B,
				  .icmp_type = ICMP_DEST_UNREACH,
				  .icmp_code = ICMP_PORT_UNREACH,
				  .icmp_error = true};
	struct packet_info echo = {
	    .proto = IPPROTO_NUM_ICMP, .src = A, .dst = B, .icmp_type = ICMP_ECHO_REQUEST};
	struct packet_info unknown = echo;
	struct icmp_limiter *lim = new_limiter(3);
	struct icmp_answer a;

	(void)state;
	unknown.icmp_type = 42;
	assert_false(icmp_may_answer(&err));
	assert_true(icmp_may_answer(&echo));
	assert_false(icmp_may_answer(&unknown));
	a = icmp_decide_error(lim, SIM_S(1), &err, ICMP_DEST_UNREACH, ICMP_ADMIN_PROHIBITED, false);
	assert_int_equal(a.kind, ICMP_ANSWER_NEVER);
	assert_int_equal(icmp_limiter_peers(lim), 0); /* decided before any limit */
	for (int i = 0; i < 6; i++)
		assert_int_equal(icmp_decide_error(lim, SIM_S(1), &echo, PORT_UNREACH, false).kind,
				 ICMP_ANSWER_SENT);
	a = icmp_decide_error(lim, SIM_S(1), &echo, PORT_UNREACH, false);
	assert_int_equal(a.kind, ICMP_ANSWER_RATE_LIMITED);
	assert_int_equal(a.type, ICMP_DEST_UNREACH);
	assert_int_equal(a.code, ICMP_PORT_UNREACH);
	icmp_limiter_free(lim);
}

static void test_answers_echo(void **state)
{
	struct icmp_config cfg;
	struct packet_info req = {
	    .proto = IPPROTO_NUM_ICMP, .src = A, .dst = B, .icmp_type = ICMP_ECHO_REQUEST};
	struct packet_info reply = req, bcast = req;

	(void)state;
	icmp_config_default(&cfg);
	reply.icmp_type = ICMP_ECHO_REPLY;
	bcast.dst = IP4(255, 255, 255, 255);
	assert_true(icmp_answers_echo(&cfg, &req));
	assert_false(icmp_answers_echo(&cfg, &reply));
	assert_false(icmp_answers_echo(&cfg, &bcast));
	cfg.echo_ignore_all = true;
	assert_false(icmp_answers_echo(&cfg, &req));
}

static void test_reject_codes(void **state)
{
	(void)state;
	assert_int_equal(icmp_reject_code(FW_REJECT_PORT_UNREACHABLE), ICMP_PORT_UNREACH);
	assert_int_equal(icmp_reject_code(FW_REJECT_NET_UNREACHABLE), ICMP_NET_UNREACH);
	assert_int_equal(icmp_reject_code(FW_REJECT_HOST_UNREACHABLE), ICMP_HOST_UNREACH);
	assert_int_equal(icmp_reject_code(FW_REJECT_PROTO_UNREACHABLE), ICMP_PROT_UNREACH);
	assert_int_equal(icmp_reject_code(FW_REJECT_NET_PROHIBITED), ICMP_NET_PROHIBITED);
	assert_int_equal(icmp_reject_code(FW_REJECT_HOST_PROHIBITED), ICMP_HOST_PROHIBITED);
	assert_int_equal(icmp_reject_code(FW_REJECT_ADMIN_PROHIBITED), ICMP_ADMIN_PROHIBITED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_are_linux),
	    cmocka_unit_test(test_burst_of_six_then_one_a_second),
	    cmocka_unit_test(test_global_burst_of_fifty),
	    cmocka_unit_test(test_peer_refusal_spends_no_global_credit),
	    cmocka_unit_test(test_echo_not_limited),
	    cmocka_unit_test(test_loopback_has_no_peer_limit),
	    cmocka_unit_test(test_ratemask_and_ratelimit_are_sysctls),
	    cmocka_unit_test(test_idle_destinations_are_forgotten),
	    cmocka_unit_test(test_may_answer_udp),
	    cmocka_unit_test(test_error_about_error_never_answered),
	    cmocka_unit_test(test_answers_echo),
	    cmocka_unit_test(test_reject_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
