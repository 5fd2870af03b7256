/*
 * test_hash.c - hash_mix64 is splitmix64's finaliser: checked against the
 * first outputs of Vigna's reference splitmix64 seeded with 0, and for the
 * property the hash tables rely on (neighbouring keys, unrelated low bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/hash.h"

/* splitmix64 from state 0 (prng.di.unimi.it/splitmix64.c): its outputs are
 * the finaliser applied to k times the golden-ratio increment. */
static void test_splitmix64_reference(void **state)
{
	static const uint64_t expect[] = {0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL,
					  0x06c45d188009454fULL};
	(void)state;
	for (uint64_t k = 0; k < 3; k++)
		assert_int_equal(hash_mix64((k + 1) * 0x9e3779b97f4a7c15ULL), expect[k]);
	assert_int_equal(hash_mix64(0), 0); /* a bijection that fixes 0 */
}

/* Consecutive keys (ports, addresses) spread over a small table's buckets. */
static void test_neighbours_spread(void **state)
{
	unsigned count[16] = {0};

	(void)state;
	for (uint64_t key = 0; key < 1600; key++)
		count[hash_mix64(key) & 15]++;
	for (int b = 0; b < 16; b++) {
		assert_true(count[b] > 60);
		assert_true(count[b] < 140);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_splitmix64_reference),
	    cmocka_unit_test(test_neighbours_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
