/* test_endpoint6.c - packed endpoints (p2p/endpoint6.h): an IPv4 endpoint
 * packs whole with no table made; IPv6 ones name their address in the
 * table, each address once; what is packed unpacks to the same endpoint and
 * compares equal to it, and to nothing else; a cleared table starts over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "p2p/endpoint6.h"

static struct p2p_endpoint ep(const char *text)
{
	struct p2p_endpoint e;
	assert_int_equal(p2p_endpoint_parse(text, &e), 0);
	return e;
}

static void assert_round_trip(const struct p2p_addr6_table *t, const struct p2p_packed_ep *pe,
			      const struct p2p_endpoint *want)
{
	struct p2p_endpoint got = p2p_packed_get(t, pe);
	assert_true(p2p_endpoint_equal(&got, want));
	assert_true(p2p_packed_equal(t, pe, want));
}

/* IPv4 costs no table: an IPv4-only owner allocates nothing. */
static void test_ipv4_needs_no_table(void **state)
{
	(void)state;
	struct p2p_addr6_table t = {0};
	struct p2p_packed_ep pe;
	const struct p2p_endpoint a = ep("198.51.100.7:5000");

	assert_int_equal(sizeof(pe), 8);
	assert_int_equal(p2p_packed_set(&t, &pe, &a), 0);
	assert_null(t.b);
	assert_int_equal(pe.ip, a.ip);
	assert_round_trip(&t, &pe, &a);
	struct p2p_endpoint other_port = ep("198.51.100.7:5001");
	struct p2p_endpoint other_ip = ep("198.51.100.8:5000");
	assert_false(p2p_packed_equal(&t, &pe, &other_port));
	assert_false(p2p_packed_equal(&t, &pe, &other_ip));
}

/* Mixed families in any order: each IPv6 address stored once, every
 * endpoint back as it was, an IPv4 one never equal to an IPv6 one. */
static void test_ipv6_interned_in_order(void **state)
{
	(void)state;
	const char *texts[] = {"[2001:db8:1::5]:5000",	    "203.0.113.5:5000",
			       "[2001:db8:2::7]:6000",	    "[2001:db8:1::5]:5001",
			       "[::ffff:203.0.113.5]:5000", "[2001:db8:3::9]:7000"};
	enum { N = sizeof(texts) / sizeof(texts[0]) };
	struct p2p_addr6_table t = {0};
	struct p2p_packed_ep pe[N];
	struct p2p_endpoint e[N];

	for (size_t i = 0; i < N; i++) {
		e[i] = ep(texts[i]);
		assert_int_equal(p2p_packed_set(&t, &pe[i], &e[i]), 0);
	}
	assert_non_null(t.b);
	assert_int_equal(pe[0].ip, pe[3].ip); /* one address, two ports */
	assert_int_not_equal(pe[0].ip, pe[2].ip);
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++)
			assert_int_equal(p2p_packed_equal(&t, &pe[i], &e[j]), i == j);
	for (size_t i = 0; i < N; i++)
		assert_round_trip(&t, &pe[i], &e[i]);
	p2p_addr6_table_free(&t);
	assert_null(t.b);
}

/* A cleared table keeps its memory and numbers addresses from the start. */
static void test_clear_starts_over(void **state)
{
	(void)state;
	struct p2p_addr6_table t = {0};
	struct p2p_packed_ep first, again;
	const struct p2p_endpoint a = ep("[2001:db8:1::5]:5000");
	const struct p2p_endpoint b = ep("[2001:db8:2::7]:5000");

	assert_int_equal(p2p_packed_set(&t, &first, &a), 0);
	assert_int_equal(p2p_packed_set(&t, &first, &b), 0);
	assert_int_equal(first.ip, 1);
	p2p_addr6_table_clear(&t);
	assert_int_equal(p2p_packed_set(&t, &again, &b), 0);
	assert_int_equal(again.ip, 0);
	assert_round_trip(&t, &again, &b);
	p2p_addr6_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_needs_no_table),
	    cmocka_unit_test(test_ipv6_interned_in_order),
	    cmocka_unit_test(test_clear_starts_over),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
