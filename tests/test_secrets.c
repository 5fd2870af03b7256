/*
 * test_secrets.c - the simulator's shared-secret cache (app/secrets.h): one
 * computation per pair, entries dropped after their second serve, failures
 * never kept, and the worker thread's results equal to computing on the spot
 * whoever gets there first. Nothing sleeps: secrets_wait joins the worker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/secrets.h"

#define N_IDS 64

static struct crypto_identity ids[N_IDS];

static int make_ids(void **state)
{
	uint8_t seed[CRYPTO_SEED_SIZE];
	(void)state;
	for (size_t i = 0; i < N_IDS; i++) {
		memset(seed, (int)i + 1, sizeof(seed));
		seed[0] = 0xA5;
		if (crypto_identity_from_seed(&ids[i], seed) != CRYPTO_OK)
			return -1;
	}
	return 0;
}

static struct secrets_stats stats_of(const struct secrets *c)
{
	struct secrets_stats st;
	secrets_get_stats(c, &st);
	return st;
}

/* Looks up i's secret with j through the cache and checks it against
 * crypto_shared_secret computed on the spot. */
static void lookup_ok(struct secrets *c, size_t i, size_t j)
{
	uint8_t got[CRYPTO_KEY_SIZE], want[CRYPTO_KEY_SIZE];
	assert_int_equal(secrets_lookup(c, &ids[i], ids[j].box_pk, got), CRYPTO_OK);
	assert_int_equal(crypto_shared_secret(&ids[i], ids[j].box_pk, want), CRYPTO_OK);
	assert_memory_equal(got, want, sizeof(got));
}

/* The pairs bench_scale plans, on N_IDS peers: i with i+1 .. i+4. */
static size_t expect_ring(struct secrets *c)
{
	size_t n = 0;
	for (size_t i = 0; i < N_IDS; i++)
		for (size_t d = 1; d <= 4; d++, n++)
			assert_int_equal(secrets_expect(c, &ids[i], ids[(i + d) % N_IDS].box_pk),
					 SECRETS_OK);
	return n;
}

static void test_both_sides_compute_once(void **state)
{
	struct secrets *c = secrets_new();
	uint8_t ab[CRYPTO_KEY_SIZE], ba[CRYPTO_KEY_SIZE];
	(void)state;
	assert_non_null(c);
	assert_int_equal(secrets_lookup(c, &ids[0], ids[1].box_pk, ab), CRYPTO_OK);
	assert_int_equal(secrets_lookup(c, &ids[1], ids[0].box_pk, ba), CRYPTO_OK);
	assert_memory_equal(ab, ba, sizeof(ab));
	lookup_ok(c, 2, 3); /* and the value is crypto_shared_secret's */
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.computed_caller, 2);
	assert_int_equal(st.served_stored, 1);
	assert_int_equal(st.computed_worker, 0);
	assert_int_equal(st.held, 1); /* {2, 3} waits for 3's side */
	secrets_free(c);
}

static void test_dropped_after_two_serves(void **state)
{
	struct secrets *c = secrets_new();
	(void)state;
	lookup_ok(c, 4, 5);
	assert_int_equal(stats_of(c).held, 1);
	lookup_ok(c, 5, 4);
	assert_int_equal(stats_of(c).held, 0);
	/* A third request (a later session) computes again. */
	lookup_ok(c, 4, 5);
	assert_int_equal(stats_of(c).computed_caller, 2);
	assert_int_equal(stats_of(c).held, 1);
	lookup_ok(c, 5, 4);
	assert_int_equal(stats_of(c).computed_caller, 2);
	/* Many pairs at once, second sides in another order: the table grows,
	 * deletions shift entries back, and every answer stays right. */
	for (size_t i = 0; i < N_IDS; i++)
		for (size_t j = i + 1; j < N_IDS; j++)
			lookup_ok(c, i, j);
	size_t pairs = N_IDS * (N_IDS - 1) / 2;
	assert_int_equal(stats_of(c).held, pairs);
	for (size_t j = N_IDS; j-- > 0;)
		for (size_t i = 0; i < j; i++)
			lookup_ok(c, j, i);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.computed_caller, 2 + pairs);
	assert_int_equal(st.served_stored, 2 + pairs);
	secrets_free(c);
}

static void test_low_order_key_not_kept(void **state)
{
	struct secrets *c = secrets_new();
	uint8_t zero[CRYPTO_BOX_PK_SIZE] = {0}, out[CRYPTO_KEY_SIZE];
	(void)state;
	assert_int_equal(secrets_expect(c, &ids[7], zero), SECRETS_OK);
	for (int k = 0; k < 4; k++) /* twice planned, then twice unplanned */
		assert_int_equal(secrets_lookup(c, &ids[7], zero, out), CRYPTO_ERR_KEY);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.computed_caller, 3); /* planned: once; unplanned: every time */
	secrets_free(c);
}

static void test_worker_computes_planned(void **state)
{
	struct secrets *c = secrets_new();
	(void)state;
	size_t n = expect_ring(c);
	assert_int_equal(stats_of(c).planned, n);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	assert_int_equal(secrets_expect(c, &ids[0], ids[9].box_pk), SECRETS_ERR_STARTED);
	secrets_wait(c);
	assert_int_equal(stats_of(c).computed_worker, n);
	for (size_t i = 0; i < N_IDS; i++)
		for (size_t d = 1; d <= 4; d++) {
			lookup_ok(c, i, (i + d) % N_IDS);
			lookup_ok(c, (i + d) % N_IDS, i);
		}
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.computed_caller, 0);
	assert_int_equal(st.served_stored, 2 * n);
	assert_int_equal(st.held, 0);
	/* Both serves used: the next session of a pair is an ordinary entry. */
	lookup_ok(c, 0, 1);
	assert_int_equal(stats_of(c).computed_caller, 1);
	assert_int_equal(stats_of(c).held, 1);
	secrets_free(c);
}

static void test_caller_claims_before_worker(void **state)
{
	struct secrets *c = secrets_new();
	(void)state;
	size_t n = expect_ring(c);
	/* Before the worker exists, and from the side that did not announce. */
	lookup_ok(c, 13, 10);
	assert_int_equal(stats_of(c).computed_caller, 1);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	assert_int_equal(stats_of(c).computed_worker, n - 1); /* it skipped the claimed pair */
	lookup_ok(c, 10, 13);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.computed_caller, 1);
	assert_int_equal(st.served_stored, 1);
	secrets_free(c);
}

/* The real situation: lookups while the worker runs. Whoever gets each pair
 * first, every answer is crypto_shared_secret's. */
static void test_racing_worker_same_results(void **state)
{
	struct secrets *c = secrets_new();
	(void)state;
	size_t n = expect_ring(c);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	for (size_t i = N_IDS; i-- > 0;) /* against the worker's order */
		for (size_t d = 1; d <= 4; d++) {
			lookup_ok(c, (i + d) % N_IDS, i);
			lookup_ok(c, i, (i + d) % N_IDS);
		}
	secrets_wait(c);
	struct secrets_stats st = stats_of(c);
	assert_true(st.computed_worker + st.computed_caller >= n);
	assert_int_equal(st.lookups, 2 * n);
	assert_int_equal(st.held, 0);
	secrets_free(c);
}

static void test_announced_twice(void **state)
{
	struct secrets *c = secrets_new();
	(void)state;
	assert_int_equal(secrets_expect(c, &ids[1], ids[2].box_pk), SECRETS_OK);
	assert_int_equal(secrets_expect(c, &ids[2], ids[1].box_pk), SECRETS_OK);
	assert_int_equal(stats_of(c).planned, 1);
	for (int k = 0; k < 4; k++)
		lookup_ok(c, 1 + (size_t)(k & 1), 2 - (size_t)(k & 1));
	assert_int_equal(stats_of(c).computed_caller, 1);
	assert_int_equal(stats_of(c).held, 0);
	lookup_ok(c, 1, 2);
	assert_int_equal(stats_of(c).computed_caller, 2);
	secrets_free(c);
}

/* The run ends early: free stops and joins a worker with most of its list
 * still ahead (ASan and TSan builds check the rest). */
static void test_free_while_worker_runs(void **state)
{
	struct secrets *c = secrets_new();
	(void)state;
	for (size_t i = 0; i < N_IDS; i++)
		for (size_t j = i + 1; j < N_IDS; j++)
			assert_int_equal(secrets_expect(c, &ids[i], ids[j].box_pk), SECRETS_OK);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	assert_int_equal(secrets_start(c), SECRETS_OK); /* once only */
	lookup_ok(c, 0, 1);
	secrets_free(c);
	secrets_free(NULL);
	/* Starting with nothing planned starts nothing. */
	c = secrets_new();
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	lookup_ok(c, 0, 1);
	secrets_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_sides_compute_once),
		cmocka_unit_test(test_dropped_after_two_serves),
		cmocka_unit_test(test_low_order_key_not_kept),
		cmocka_unit_test(test_worker_computes_planned),
		cmocka_unit_test(test_caller_claims_before_worker),
		cmocka_unit_test(test_racing_worker_same_results),
		cmocka_unit_test(test_announced_twice),
		cmocka_unit_test(test_free_while_worker_runs),
	};
	return cmocka_run_group_tests(tests, make_ids, NULL);
}
