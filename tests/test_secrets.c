/*
 * test_secrets.c - the simulator's shared-secret cache (app/world/secrets.h): one
 * computation per pair, entries dropped after their second serve, failures
 * never kept, and the worker thread's results equal to computing on the spot
 * whoever gets there first; likewise for signature verdicts, which must be
 * crypto_identity_verify's for exactly the bytes asked about, whatever was
 * hinted, however full the ring. Nothing sleeps but two bounded polls
 * (waiting for the worker to go idle, timing secrets_free): secrets_wait
 * joins the worker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app/world/secrets.h"

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
	/* Starting with nothing planned starts a worker that sleeps until
	 * secrets_wait (it could have had signatures to verify). */
	c = secrets_new();
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	lookup_ok(c, 0, 1);
	secrets_free(c);
}

/* ---- signature verdicts ---- */

/* Message k: "natsim test k" plus k bytes, up to 100, signed by ids[k % N_IDS]
 * (a valid signature), or, with junk, 64 bytes derived from k (not one). */
struct signed_msg {
	const uint8_t *pk;
	uint8_t msg[128];
	size_t len;
	uint8_t sig[CRYPTO_SIGNATURE_SIZE];
	bool valid;
};

static void make_msg(struct signed_msg *m, unsigned k, bool junk)
{
	const struct crypto_identity *id = &ids[k % N_IDS];
	int n = snprintf((char *)m->msg, sizeof(m->msg), "natsim test %u", k);
	m->len = (size_t)n + k % 100;
	for (size_t i = (size_t)n; i < m->len; i++)
		m->msg[i] = (uint8_t)(k * 31 + i);
	m->pk = id->sign_pk;
	m->valid = !junk;
	if (junk) {
		for (size_t i = 0; i < CRYPTO_SIGNATURE_SIZE; i++)
			m->sig[i] = (uint8_t)(k * 131 + i * 7 + 1);
		return;
	}
	crypto_identity_sign(id, m->msg, m->len, m->sig);
}

static void hint(struct secrets *c, const struct signed_msg *m)
{
	secrets_expect_signature(c, m->pk, m->msg, m->len, m->sig);
}

/* secrets_verify agrees with crypto_identity_verify, and with `valid`. */
static void verify_ok(struct secrets *c, const struct signed_msg *m)
{
	bool got = secrets_verify(c, m->pk, m->msg, m->len, m->sig);
	assert_int_equal(got, crypto_identity_verify(m->pk, m->msg, m->len, m->sig));
	assert_int_equal(got, m->valid);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Polls until the worker has verified `n` signatures; at most 30 s. */
static void await_worker_sigs(struct secrets *c, uint64_t n)
{
	const struct timespec tick = {0, 200000};
	double end = now_s() + 30;
	while (stats_of(c).sig_computed_worker < n && now_s() < end)
		nanosleep(&tick, NULL);
	assert_int_equal(stats_of(c).sig_computed_worker, n);
}

#define N_MSGS 40

static void test_sig_worker_verdicts(void **state)
{
	struct secrets *c = secrets_new();
	static struct signed_msg m[N_MSGS];
	(void)state;
	for (unsigned k = 0; k < N_MSGS; k++) {
		make_msg(&m[k], k, k % 8 == 7); /* some signatures are junk: verdict false */
		hint(c, &m[k]);
	}
	/* Signed by someone else than the key it claims: verdict false too. */
	struct signed_msg forged = m[0];
	forged.pk = ids[1].sign_pk;
	forged.valid = false;
	hint(c, &forged);
	assert_int_equal(stats_of(c).sig_computed_worker, 0); /* a hint computes nothing */
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	assert_int_equal(stats_of(c).sig_computed_worker, N_MSGS + 1);
	for (unsigned k = N_MSGS; k-- > 0;)
		verify_ok(c, &m[k]);
	verify_ok(c, &forged);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.sig_hints, N_MSGS + 1);
	assert_int_equal(st.sig_hints_dropped, 0);
	assert_int_equal(st.sig_verifies, N_MSGS + 1);
	assert_int_equal(st.sig_served_worker, N_MSGS + 1);
	assert_int_equal(st.sig_computed_caller, 0);
	/* A verdict is served once: asking again computes. */
	verify_ok(c, &m[3]);
	assert_int_equal(stats_of(c).sig_computed_caller, 1);
	secrets_free(c);
}

/* The worker running and the hints coming while the simulation asks: poll
 * for the worker's verdict instead of joining it. */
static void test_sig_live_worker(void **state)
{
	struct secrets *c = secrets_new();
	struct signed_msg m;
	(void)state;
	assert_int_equal(secrets_start(c), SECRETS_OK);
	for (unsigned k = 0; k < 4; k++) {
		make_msg(&m, 100 + k, k == 2);
		hint(c, &m);
		await_worker_sigs(c, k + 1); /* woke from its sleep for this one */
		verify_ok(c, &m);
		assert_int_equal(stats_of(c).sig_served_worker, k + 1);
	}
	assert_int_equal(stats_of(c).sig_computed_caller, 0);
	secrets_free(c);
}

/* The same hint, then a question about other bytes: a changed message,
 * length, key or signature is never answered from the job. */
static void test_sig_tampered_computed_inline(void **state)
{
	struct secrets *c = secrets_new();
	struct signed_msg m, t;
	(void)state;
	make_msg(&m, 7, false);
	hint(c, &m);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	assert_int_equal(stats_of(c).sig_computed_worker, 1);

	t = m, t.msg[t.len - 1] ^= 1, t.valid = false;
	verify_ok(c, &t);
	t = m, t.len--, t.valid = false;
	verify_ok(c, &t);
	t = m, t.pk = ids[8].sign_pk, t.valid = false;
	verify_ok(c, &t);
	t = m, t.sig[63] ^= 0x10, t.valid = false;
	verify_ok(c, &t);
	t = m, t.sig[0] ^= 1, t.valid = false; /* the index's hash changes too */
	verify_ok(c, &t);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.sig_computed_caller, 5);
	assert_int_equal(st.sig_served_worker, 0);
	/* The job itself is still there for the real question. */
	verify_ok(c, &m);
	assert_int_equal(stats_of(c).sig_served_worker, 1);
	secrets_free(c);
}

/* Hints nobody can use queue nothing. */
static void test_sig_hints_dropped(void **state)
{
	struct secrets *c = secrets_new();
	static uint8_t big[SECRETS_SIG_MSG_MAX + 1];
	uint8_t sig[CRYPTO_SIGNATURE_SIZE];
	struct signed_msg m;
	(void)state;
	crypto_identity_sign(&ids[2], big, sizeof(big), sig);
	secrets_expect_signature(c, ids[2].sign_pk, big, sizeof(big), sig);
	make_msg(&m, 9, false);
	hint(c, &m);
	hint(c, &m); /* already queued */
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.sig_hints, 3);
	assert_int_equal(st.sig_hints_dropped, 2);
	assert_true(secrets_verify(c, ids[2].sign_pk, big, sizeof(big), sig));
	big[0] = 1;
	assert_false(secrets_verify(c, ids[2].sign_pk, big, sizeof(big), sig));
	verify_ok(c, &m);
	verify_ok(c, &m); /* the job went with the first answer */
	assert_int_equal(stats_of(c).sig_computed_caller, 4);
	secrets_free(c);
}

/* No worker: a hinted job is claimed and computed on the spot; with the
 * worker started afterwards, it skips the claimed job. */
static void test_sig_claimed_before_worker(void **state)
{
	struct secrets *c = secrets_new();
	struct signed_msg m[3];
	(void)state;
	for (unsigned k = 0; k < 3; k++) {
		make_msg(&m[k], 20 + k, false);
		hint(c, &m[k]);
	}
	verify_ok(c, &m[1]);
	assert_int_equal(stats_of(c).sig_computed_caller, 1);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	assert_int_equal(stats_of(c).sig_computed_worker, 2);
	verify_ok(c, &m[0]);
	verify_ok(c, &m[2]);
	verify_ok(c, &m[1]);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.sig_served_worker, 2);
	assert_int_equal(st.sig_computed_caller, 2);
	/* Never started: every job is computed on demand, once. */
	secrets_free(c);
	c = secrets_new();
	hint(c, &m[0]);
	verify_ok(c, &m[0]);
	verify_ok(c, &m[2]); /* never hinted */
	assert_int_equal(stats_of(c).sig_computed_caller, 2);
	assert_int_equal(stats_of(c).sig_served_worker, 0);
	secrets_free(c);
}

#define OVERFLOW (SECRETS_SIG_JOBS + 100)

/* Message k of the overflow tests: valid for a sample, junk (cheap) else. */
static void overflow_msg(struct signed_msg *m, unsigned k)
{
	make_msg(m, k, !(k < 10 || k % 97 == 0 || k >= OVERFLOW - 10));
}

static void overflow_check(struct secrets *c)
{
	struct signed_msg m;
	for (unsigned k = 0; k < OVERFLOW; k++) {
		overflow_msg(&m, k);
		if (m.valid || k % 13 == 0)
			verify_ok(c, &m);
	}
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.sig_hints, OVERFLOW);
	assert_int_equal(st.sig_served_worker + st.sig_computed_caller, st.sig_verifies);
}

/* More hints than slots, none looked up: the oldest are overwritten, and
 * every verdict is still right, from the job or computed. */
static void test_sig_ring_overflow(void **state)
{
	struct secrets *c = secrets_new();
	struct signed_msg m;
	(void)state;
	for (unsigned k = 0; k < OVERFLOW; k++) {
		overflow_msg(&m, k);
		hint(c, &m);
	}
	assert_int_equal(stats_of(c).sig_hints_dropped, 0); /* no worker: no slot busy */
	overflow_check(c);
	assert_int_equal(stats_of(c).sig_served_worker, 0);
	secrets_free(c);

	/* The same with the worker, which starts on the newest jobs it can
	 * find and skips the overwritten ones. */
	c = secrets_new();
	for (unsigned k = 0; k < OVERFLOW; k++) {
		overflow_msg(&m, k);
		hint(c, &m);
	}
	assert_int_equal(secrets_start(c), SECRETS_OK);
	secrets_wait(c);
	assert_int_equal(stats_of(c).sig_computed_worker, SECRETS_SIG_JOBS);
	overflow_check(c);
	struct secrets_stats st = stats_of(c);
	assert_true(st.sig_served_worker > 0);
	assert_true(st.sig_computed_caller >= 10); /* the first ten were overwritten */
	secrets_free(c);

	/* And while the worker runs: hints overrun it, some slots are busy. */
	c = secrets_new();
	assert_int_equal(secrets_start(c), SECRETS_OK);
	for (unsigned k = 0; k < OVERFLOW; k++) {
		overflow_msg(&m, k);
		hint(c, &m);
	}
	overflow_check(c);
	secrets_free(c);
}

/* Hints, planned pairs and questions at once, the question a few hints
 * behind (as the coordinator is): every answer is the right one, whoever
 * computed it (the ThreadSanitizer build checks the hand-overs). */
static void test_sig_racing_worker(void **state)
{
	struct secrets *c = secrets_new();
	static struct signed_msg m[N_MSGS * 4];
	const size_t n = sizeof(m) / sizeof(m[0]), lag = 3;
	(void)state;
	expect_ring(c);
	for (unsigned k = 0; k < n; k++)
		make_msg(&m[k], 300 + k, k % 5 == 4);
	assert_int_equal(secrets_start(c), SECRETS_OK);
	for (size_t k = 0; k < n + lag; k++) {
		if (k < n)
			hint(c, &m[k]);
		if (k >= lag)
			verify_ok(c, &m[k - lag]);
		if (k < N_IDS)
			lookup_ok(c, (k + 1) % N_IDS, k);
	}
	secrets_wait(c);
	struct secrets_stats st = stats_of(c);
	assert_int_equal(st.sig_verifies, n);
	assert_int_equal(st.sig_served_worker + st.sig_computed_caller, n);
	assert_true(st.sig_served_worker <= st.sig_computed_worker);
	secrets_free(c);
}

/* secrets_free returns at once whether the worker sleeps or has a long list
 * ahead: it finishes the job in hand only. */
static void test_sig_free_promptly(void **state)
{
	struct secrets *c = secrets_new();
	struct signed_msg m;
	(void)state;
	/* Idle: it verified the one job, and sleeps. */
	assert_int_equal(secrets_start(c), SECRETS_OK);
	make_msg(&m, 1, false);
	hint(c, &m);
	await_worker_sigs(c, 1);
	double t0 = now_s();
	secrets_free(c);
	assert_true(now_s() - t0 < 2.0);

	/* Busy: thousands of jobs queued (valid ones: each costs a full
	 * verification). */
	c = secrets_new();
	for (unsigned k = 0; k < 2000; k++) {
		make_msg(&m, k, false);
		hint(c, &m);
	}
	assert_int_equal(secrets_start(c), SECRETS_OK);
	t0 = now_s();
	secrets_free(c);
	assert_true(now_s() - t0 < 2.0);
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
		cmocka_unit_test(test_sig_worker_verdicts),
		cmocka_unit_test(test_sig_live_worker),
		cmocka_unit_test(test_sig_tampered_computed_inline),
		cmocka_unit_test(test_sig_hints_dropped),
		cmocka_unit_test(test_sig_claimed_before_worker),
		cmocka_unit_test(test_sig_ring_overflow),
		cmocka_unit_test(test_sig_racing_worker),
		cmocka_unit_test(test_sig_free_promptly),
	};
	return cmocka_run_group_tests(tests, make_ids, NULL);
}
