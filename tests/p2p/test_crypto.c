/* test_crypto.c - identities, signatures, sealed sessions, replay window. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/crypto.h"

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static void make_pair(struct crypto_identity *a, struct crypto_identity *b)
{
	uint8_t sa[32], sb[32];
	memset(sa, 0x11, sizeof(sa));
	memset(sb, 0x22, sizeof(sb));
	assert_int_equal(crypto_identity_from_seed(a, sa), CRYPTO_OK);
	assert_int_equal(crypto_identity_from_seed(b, sb), CRYPTO_OK);
}

static void test_identity_deterministic(void **state)
{
	struct crypto_identity a, a2, b;
	uint8_t s[32];
	(void)state;
	make_pair(&a, &b);
	memset(s, 0x11, sizeof(s));
	crypto_identity_from_seed(&a2, s);
	assert_memory_equal(&a, &a2, sizeof(a));
	assert_memory_not_equal(a.sign_pk, b.sign_pk, 32);
	/* The two key pairs come from different derived seeds. */
	assert_memory_not_equal(a.sign_pk, a.box_pk, 32);
}

static void test_sign_verify_tamper(void **state)
{
	struct crypto_identity a, b;
	uint8_t msg[40] = "register alice 10.0.0.1:5000", sig[64];
	(void)state;
	make_pair(&a, &b);
	crypto_identity_sign(&a, msg, sizeof(msg), sig);
	assert_true(crypto_identity_verify(a.sign_pk, msg, sizeof(msg), sig));
	assert_false(crypto_identity_verify(b.sign_pk, msg, sizeof(msg), sig));
	msg[3] ^= 1;
	assert_false(crypto_identity_verify(a.sign_pk, msg, sizeof(msg), sig));
	msg[3] ^= 1;
	sig[10] ^= 0x80;
	assert_false(crypto_identity_verify(a.sign_pk, msg, sizeof(msg), sig));
}

static void sessions(struct crypto_session *sa, struct crypto_session *sb, uint64_t id)
{
	struct crypto_identity a, b;
	make_pair(&a, &b);
	assert_int_equal(crypto_session_init(sa, &a, b.box_pk, id), CRYPTO_OK);
	assert_int_equal(crypto_session_init(sb, &b, a.box_pk, id), CRYPTO_OK);
}

static void test_round_trip_both_ways(void **state)
{
	struct crypto_session sa, sb;
	const uint8_t hello[] = "hello bob, this is alice";
	uint8_t sealed[128], sealed2[128], out[128];
	(void)state;
	sessions(&sa, &sb, 42);
	assert_memory_equal(sa.check_key, sb.check_key, 32);
	assert_memory_equal(sa.data_key, sb.data_key, 32);
	int n = crypto_seal(&sa, hello, sizeof(hello), sealed, sizeof(sealed));
	assert_int_equal(n, sizeof(hello) + CRYPTO_SEAL_OVERHEAD);
	assert_false(contains(sealed, (size_t)n, "alice"));
	assert_int_equal(crypto_open(&sb, sealed, (size_t)n, out, sizeof(out)), sizeof(hello));
	assert_memory_equal(out, hello, sizeof(hello));
	/* Same plaintext again: new counter, new nonce, different bytes. */
	int n2 = crypto_seal(&sa, hello, sizeof(hello), sealed2, sizeof(sealed2));
	assert_int_equal(n2, n);
	assert_memory_not_equal(sealed, sealed2, (size_t)n);
	/* The other direction uses the other nonce prefix. */
	n = crypto_seal(&sb, hello, sizeof(hello), sealed, sizeof(sealed));
	assert_memory_not_equal(sealed + 8, sealed2 + 8, (size_t)n - 8);
	assert_int_equal(crypto_open(&sa, sealed, (size_t)n, out, sizeof(out)), sizeof(hello));
	/* Our own message does not open with our own session (direction matters). */
	n = crypto_seal(&sa, hello, sizeof(hello), sealed, sizeof(sealed));
	assert_int_equal(crypto_open(&sa, sealed, (size_t)n, out, sizeof(out)), CRYPTO_ERR_FORGED);
}

static void test_tamper_and_wrong_session(void **state)
{
	struct crypto_session sa, sb, other_a, other_b;
	const uint8_t msg[] = "payload";
	uint8_t sealed[64], out[64];
	(void)state;
	sessions(&sa, &sb, 1);
	sessions(&other_a, &other_b, 2);
	int n = crypto_seal(&sa, msg, sizeof(msg), sealed, sizeof(sealed));
	assert_int_equal(crypto_open(&other_b, sealed, (size_t)n, out, sizeof(out)),
			 CRYPTO_ERR_FORGED);
	for (int i = 0; i < n; i++) {
		sealed[i] ^= 0x01;
		assert_true(crypto_open(&sb, sealed, (size_t)n, out, sizeof(out)) < 0);
		sealed[i] ^= 0x01;
	}
	assert_int_equal(crypto_open(&sb, sealed, 5, out, sizeof(out)), CRYPTO_ERR_SHORT);
	assert_int_equal(crypto_open(&sb, sealed, (size_t)n, out, sizeof(out)), sizeof(msg));
	assert_int_equal(crypto_seal(&sa, msg, sizeof(msg), sealed, 10), CRYPTO_ERR_SPACE);
}

static void test_replay_window(void **state)
{
	struct crypto_session sa, sb;
	uint8_t sealed[100][40], out[40];
	int n = 0;
	(void)state;
	sessions(&sa, &sb, 7);
	for (int i = 0; i < 100; i++)
		n = crypto_seal(&sa, (const uint8_t *)"x", 1, sealed[i], sizeof(sealed[i]));
	/* Out of order inside the window is fine; duplicates are not. */
	assert_int_equal(crypto_open(&sb, sealed[10], (size_t)n, out, sizeof(out)), 1);
	assert_int_equal(crypto_open(&sb, sealed[5], (size_t)n, out, sizeof(out)), 1);
	assert_int_equal(crypto_open(&sb, sealed[10], (size_t)n, out, sizeof(out)),
			 CRYPTO_ERR_REPLAY);
	assert_int_equal(crypto_open(&sb, sealed[5], (size_t)n, out, sizeof(out)),
			 CRYPTO_ERR_REPLAY);
	assert_int_equal(crypto_open(&sb, sealed[99], (size_t)n, out, sizeof(out)), 1);
	/* 99 - 30 = 69 >= 64: fell behind the window. */
	assert_int_equal(crypto_open(&sb, sealed[30], (size_t)n, out, sizeof(out)),
			 CRYPTO_ERR_REPLAY);
	assert_int_equal(crypto_open(&sb, sealed[40], (size_t)n, out, sizeof(out)), 1);
	assert_int_equal(crypto_open(&sb, sealed[40], (size_t)n, out, sizeof(out)),
			 CRYPTO_ERR_REPLAY);
	/* A forgery with a far-ahead counter must not move the window. */
	uint8_t forged[40];
	memcpy(forged, sealed[50], (size_t)n);
	memset(forged, 0x7f, 8);
	assert_int_equal(crypto_open(&sb, forged, (size_t)n, out, sizeof(out)), CRYPTO_ERR_FORGED);
	assert_int_equal(crypto_open(&sb, sealed[50], (size_t)n, out, sizeof(out)), 1);
	assert_string_equal(crypto_error_str(CRYPTO_ERR_REPLAY),
			    "counter already received or too old (replay)");
}

static void hex_to(uint8_t *out, const char *hex)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void test_shared_secret_symmetric(void **state)
{
	struct crypto_identity a, b;
	uint8_t ab[CRYPTO_KEY_SIZE], ba[CRYPTO_KEY_SIZE];
	(void)state;
	make_pair(&a, &b);
	assert_int_equal(crypto_shared_secret(&a, b.box_pk, ab), CRYPTO_OK);
	assert_int_equal(crypto_shared_secret(&b, a.box_pk, ba), CRYPTO_OK);
	assert_memory_equal(ab, ba, sizeof(ab));
}

/* The split must not move a bit: the expected keys were computed by the
 * one-step crypto_session_init before crypto_shared_secret existed. */
static void test_session_from_secret_same_keys(void **state)
{
	struct crypto_identity a, b;
	struct crypto_session one, two;
	uint8_t secret[CRYPTO_KEY_SIZE], want[32];
	(void)state;
	make_pair(&a, &b);
	assert_int_equal(crypto_session_init(&one, &a, b.box_pk, 42), CRYPTO_OK);
	assert_int_equal(crypto_shared_secret(&a, b.box_pk, secret), CRYPTO_OK);
	assert_int_equal(crypto_session_init_from_secret(&two, &a, b.box_pk, secret, 42), CRYPTO_OK);
	assert_memory_equal(&one, &two, sizeof(one));
	hex_to(want, "11b8c1d8a9bf223e321f77f753fcf8e05705ea71d87350a5fde4ecd9f22c5dab");
	assert_memory_equal(one.data_key, want, 32);
	hex_to(want, "6fd5e354a549578e37dfb53997688a0332a23ee0d0a2e2f5760a940f1626a620");
	assert_memory_equal(one.check_key, want, 32);
	/* The other side, from the secret it computes itself, agrees. */
	assert_int_equal(crypto_shared_secret(&b, a.box_pk, secret), CRYPTO_OK);
	assert_int_equal(crypto_session_init_from_secret(&two, &b, a.box_pk, secret, 42), CRYPTO_OK);
	assert_memory_equal(one.data_key, two.data_key, 32);
	assert_memory_equal(one.my_prefix, two.peer_prefix, 16);
}

static void test_low_order_key_refused(void **state)
{
	struct crypto_identity a, b;
	struct crypto_session s;
	uint8_t zero[CRYPTO_BOX_PK_SIZE] = {0}, secret[CRYPTO_KEY_SIZE];
	(void)state;
	make_pair(&a, &b);
	memset(secret, 0xAA, sizeof(secret));
	assert_int_equal(crypto_shared_secret(&a, zero, secret), CRYPTO_ERR_KEY);
	assert_memory_equal(secret, zero, sizeof(secret)); /* nothing usable left behind */
	assert_int_equal(crypto_session_init(&s, &a, zero, 7), CRYPTO_ERR_KEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_deterministic),
		cmocka_unit_test(test_sign_verify_tamper),
		cmocka_unit_test(test_round_trip_both_ways),
		cmocka_unit_test(test_tamper_and_wrong_session),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_shared_secret_symmetric),
		cmocka_unit_test(test_session_from_secret_same_keys),
		cmocka_unit_test(test_low_order_key_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
