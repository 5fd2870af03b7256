/*
 * test_candidates.c - a peer's host candidates on this machine
 * (app/net/candidates.c): one bound address is the only candidate; bound to
 * any address, every local address but loopback, all on the bound port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/net/candidates.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static void test_bound_address_is_the_candidate(void **state)
{
	struct agent_config c = {0};
	struct p2p_endpoint bound = {.ip = IP4(10, 1, 2, 3), .port = 5000},
			    coord = {.ip = IP4(192, 0, 2, 10), .port = 3478};

	(void)state;
	net_host_candidates(&c, &bound, &coord);
	assert_int_equal(c.local.ip, bound.ip);
	assert_int_equal(c.local.port, 5000);
	assert_int_equal(c.n_host_candidates, 0);
	assert_false(c.disable_host_candidates);
}

/* RFC 8445 5.1.1.1: never a loopback address, whatever this machine has;
 * with nothing else, no candidates at all rather than config.local. */
static void test_any_address_leaves_out_loopback(void **state)
{
	struct agent_config c = {0};
	struct p2p_endpoint bound = {.ip = 0, .port = 5000},
			    coord = {.ip = IP4(127, 0, 0, 1), .port = 3478};

	(void)state;
	net_host_candidates(&c, &bound, &coord);
	assert_int_equal(c.local.ip, IP4(127, 0, 0, 1)); /* the source toward it */
	for (size_t i = 0; i < c.n_host_candidates; i++) {
		assert_int_not_equal(c.host_candidates[i].ip >> 24, 127);
		assert_int_equal(c.host_candidates[i].port, 5000);
	}
	assert_true(c.disable_host_candidates == (c.n_host_candidates == 0));
}

/* A dual-stack peer bound to one address per family: both are in the list
 * (a list replaces config.local, so the IPv4 one goes in first), IPv6 after. */
static void test_dual_bound_addresses(void **state)
{
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
	struct agent_config c = {0};
	struct p2p_endpoint bound = {.ip = IP4(10, 1, 2, 3), .port = 5000},
			    coord = {.ip = IP4(192, 0, 2, 10), .port = 3478};
	struct p2p_endpoint bound6 = p2p_endpoint6(a6, 5000);

	(void)state;
	net_host_candidates(&c, &bound, &coord);
	assert_int_equal(net_add_host_candidates6(&c, &bound6, NULL), 1);
	assert_int_equal(c.n_host_candidates, 2);
	assert_true(p2p_endpoint_equal(&c.host_candidates[0], &bound));
	assert_true(p2p_endpoint_equal(&c.host_candidates[1], &bound6));
	assert_false(c.disable_host_candidates);
}

/* Bound to any IPv4 address with none to offer (disable_host_candidates),
 * an IPv6 socket's address is still offered, and the flag cleared. */
static void test_ipv6_candidate_when_ipv4_has_none(void **state)
{
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
	struct agent_config c = {.disable_host_candidates = true};
	struct p2p_endpoint bound6 = p2p_endpoint6(a6, 4000);

	(void)state;
	c.local = (struct p2p_endpoint){.ip = IP4(127, 0, 0, 1), .port = 4000};
	assert_int_equal(net_add_host_candidates6(&c, &bound6, NULL), 1);
	assert_int_equal(c.n_host_candidates, 1);
	assert_true(p2p_endpoint_equal(&c.host_candidates[0], &bound6));
	assert_false(c.disable_host_candidates);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_address_is_the_candidate),
	    cmocka_unit_test(test_any_address_leaves_out_loopback),
	    cmocka_unit_test(test_dual_bound_addresses),
	    cmocka_unit_test(test_ipv6_candidate_when_ipv4_has_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
