/* test_ratelimit.c - per-source token buckets (GCRA): burst, refill, episodes,
 * separate sources, fixed memory. Time moves by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "p2p/ratelimit.h"

#define MS 1000000ull

static unsigned passes(struct ratelimit *r, uint32_t key, uint64_t now, unsigned tries)
{
	unsigned n = 0;
	for (unsigned i = 0; i < tries; i++)
		n += ratelimit_take(r, key, now) == RATELIMIT_PASS;
	return n;
}

static void test_burst_then_rate(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.burst = 5, .interval_ns = 100 * MS};
	struct ratelimit *r = ratelimit_new(&cfg);
	assert_non_null(r);
	/* A quiet source has the whole burst, then nothing. */
	assert_int_equal(passes(r, 1, 1000 * MS, 5), 5);
	assert_int_equal(ratelimit_take(r, 1, 1000 * MS), RATELIMIT_REFUSE_FIRST);
	assert_int_equal(ratelimit_take(r, 1, 1000 * MS), RATELIMIT_REFUSE);
	/* 99 ms later no token yet; at 100 ms one. */
	assert_int_equal(ratelimit_take(r, 1, 1099 * MS), RATELIMIT_REFUSE);
	assert_int_equal(ratelimit_take(r, 1, 1100 * MS), RATELIMIT_PASS);
	assert_int_equal(ratelimit_take(r, 1, 1100 * MS), RATELIMIT_REFUSE_FIRST); /* new episode */
	/* Steady 1 per interval always passes. */
	for (uint64_t t = 1200; t < 3000; t += 100)
		assert_int_equal(ratelimit_take(r, 1, t * MS), RATELIMIT_PASS);
	/* After a long silence the burst is whole again, not more. */
	assert_int_equal(passes(r, 1, 60000 * MS, 10), 5);
	/* Another source is not affected. */
	assert_int_equal(passes(r, 2, 60000 * MS, 10), 5);
	ratelimit_free(r);
}

static void test_shared_slot_is_stricter(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.burst = 3, .interval_ns = MS, .slots = 1};
	struct ratelimit *r = ratelimit_new(&cfg);
	/* One slot: every source shares it, so together they get one burst. */
	assert_int_equal(passes(r, 1, 0, 2) + passes(r, 2, 0, 2) + passes(r, 3, 0, 2), 3);
	ratelimit_free(r);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct ratelimit_config zero_burst = {.burst = 0, .interval_ns = MS};
	struct ratelimit_config zero_interval = {.burst = 1, .interval_ns = 0};
	struct ratelimit_config overflow = {.burst = UINT32_MAX, .interval_ns = UINT64_MAX / 4};
	assert_null(ratelimit_new(&zero_burst));
	assert_null(ratelimit_new(&zero_interval));
	assert_null(ratelimit_new(&overflow));
	ratelimit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_rate),
	    cmocka_unit_test(test_shared_slot_is_stricter),
	    cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
