/*
 * test_identities.c - identities derived on two cores are the ones a loop
 * gives, and simdrive accepts them in place of its own derivation.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/world/identities.h"
#include "app/world/simdrive.h"
#include "model/host.h"
#include "p2p/agent_speed.h"

static void seeds_fill(uint8_t (*seeds)[CRYPTO_SEED_SIZE], size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < CRYPTO_SEED_SIZE; k++)
			seeds[i][k] = (uint8_t)(i * 31 + k * 7 + (i >> 8));
}

static void check_against_loop(size_t n)
{
	static uint8_t seeds[600][CRYPTO_SEED_SIZE];
	static struct crypto_identity got[600], want;
	assert_true(n <= 600);
	seeds_fill(seeds, n);
	memset(got, 0, sizeof(got));
	assert_int_equal(identities_derive(got, (const uint8_t(*)[CRYPTO_SEED_SIZE])seeds, n), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(crypto_identity_from_seed(&want, seeds[i]), CRYPTO_OK);
		assert_memory_equal(&got[i], &want, sizeof(want));
	}
	/* Nothing past n was written. */
	if (n < 600) {
		static const struct crypto_identity zero;
		assert_memory_equal(&got[n], &zero, sizeof(zero));
	}
}

/* Split across two threads (both halves, odd count). */
static void test_many_match_loop(void **state)
{
	(void)state;
	check_against_loop(599);
}

/* Too few to split, and none at all. */
static void test_few_match_loop(void **state)
{
	(void)state;
	check_against_loop(3);
	check_against_loop(0);
}

/* Started, left to the other thread while this one does something else,
 * then finished: the same keys as a loop. */
static void test_start_then_finish(void **state)
{
	(void)state;
	static uint8_t seeds[1000][CRYPTO_SEED_SIZE];
	static struct crypto_identity got[1000], want;
	seeds_fill(seeds, 1000);
	struct identities_job *job =
	    identities_start(got, (const uint8_t(*)[CRYPTO_SEED_SIZE])seeds, 1000);
	assert_non_null(job);
	volatile uint64_t busy = 0;
	for (int i = 0; i < 1000000; i++)
		busy += (uint64_t)i;
	identities_finish(job);
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(crypto_identity_from_seed(&want, seeds[i]), CRYPTO_OK);
		assert_memory_equal(&got[i], &want, sizeof(want));
	}
	identities_finish(NULL);
}

static struct sim_agent *agent_in_fresh_world(struct net **net, struct simdrive **d,
					      const struct crypto_identity *identity)
{
	*net = net_new(42);
	assert_non_null(*net);
	*d = simdrive_new(*net);
	assert_non_null(*d);
	struct host *h = host_new(*net, "alice", IP4(192, 168, 1, 10), 24, IP4(192, 168, 1, 1));
	assert_non_null(h);
	struct agent_config ac = {.name = "alice",
				  .local = {.ip = host_address(h), .port = 5000},
				  .coordinator = {.ip = IP4(192, 0, 2, 10), .port = 3478},
				  .speed = &(struct agent_speed){.identity = identity}};
	struct sim_agent *sa = simdrive_add_agent(*d, h, &ac);
	assert_non_null(sa);
	return sa;
}

/* simdrive_key_seed is the seed simdrive would use: an identity derived
 * from it ahead of time gives the agent the keys it would have had. */
static void test_simdrive_takes_identity(void **state)
{
	(void)state;
	struct net *n1, *n2;
	struct simdrive *d1, *d2;
	struct sim_agent *plain = agent_in_fresh_world(&n1, &d1, NULL);
	uint8_t seed[1][CRYPTO_SEED_SIZE];
	struct crypto_identity ahead;
	simdrive_key_seed(d1, "alice", seed[0]);
	assert_int_equal(identities_derive(&ahead, (const uint8_t(*)[CRYPTO_SEED_SIZE])seed, 1),
			 0);
	struct sim_agent *given = agent_in_fresh_world(&n2, &d2, &ahead);
	assert_memory_equal(agent_identity(sim_agent_agent(plain)),
			    agent_identity(sim_agent_agent(given)), sizeof(ahead));
	/* And a different name has a different seed. */
	uint8_t other[CRYPTO_SEED_SIZE];
	simdrive_key_seed(d1, "bob", other);
	assert_memory_not_equal(seed[0], other, sizeof(other));
	simdrive_free(d1);
	net_free(n1);
	simdrive_free(d2);
	net_free(n2);
}

/* This test is linked with --wrap=pthread_create and --wrap=calloc
 * (tests/CMakeLists.txt) so that either fails on demand. */
static bool fail_next_thread, fail_next_calloc;

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (fail_next_thread) {
		fail_next_thread = false;
		return EAGAIN;
	}
	return __real_pthread_create(t, a, fn, arg);
}

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_next_calloc) {
		fail_next_calloc = false;
		return NULL;
	}
	return __real_calloc(n, size);
}

/* No second thread to be had: identities_start still succeeds and
 * identities_finish derives everything itself, the same keys. */
static void test_no_thread_finish_does_all(void **state)
{
	(void)state;
	static uint8_t seeds[700][CRYPTO_SEED_SIZE];
	static struct crypto_identity got[700], want;
	seeds_fill(seeds, 700);
	memset(got, 0, sizeof(got));
	fail_next_thread = true;
	struct identities_job *job =
	    identities_start(got, (const uint8_t(*)[CRYPTO_SEED_SIZE])seeds, 700);
	assert_non_null(job);
	assert_false(fail_next_thread); /* it did ask for a thread */
	identities_finish(job);
	for (size_t i = 0; i < 700; i++) {
		assert_int_equal(crypto_identity_from_seed(&want, seeds[i]), CRYPTO_OK);
		assert_memory_equal(&got[i], &want, sizeof(want));
	}
}

/* Out of memory for the job: NULL, nothing started, nothing written. */
static void test_no_memory_starts_nothing(void **state)
{
	(void)state;
	static uint8_t seeds[700][CRYPTO_SEED_SIZE];
	static struct crypto_identity got[700];
	static const struct crypto_identity zero;
	seeds_fill(seeds, 700);
	memset(got, 0, sizeof(got));
	assert_int_equal(crypto_init(), CRYPTO_OK); /* libsodium's own allocations first */
	fail_next_calloc = true;
	assert_null(identities_start(got, (const uint8_t(*)[CRYPTO_SEED_SIZE])seeds, 700));
	assert_false(fail_next_calloc);
	for (size_t i = 0; i < 700; i++)
		assert_memory_equal(&got[i], &zero, sizeof(zero));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_match_loop),
	    cmocka_unit_test(test_few_match_loop),
	    cmocka_unit_test(test_start_then_finish),
	    cmocka_unit_test(test_simdrive_takes_identity),
	    cmocka_unit_test(test_no_thread_finish_does_all),
	    cmocka_unit_test(test_no_memory_starts_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
