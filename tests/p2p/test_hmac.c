/*
 * test_hmac.c - p2p/hmac against RFC 4231's vectors and against libsodium,
 * with the CPU's SHA extensions (when it has them) and with the portable
 * code, whole and in pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "p2p/hmac.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; hex[0] && hex[1] && n < cap; hex += 2) {
		unsigned v;
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void mac_of(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
		   uint8_t mac[HMAC_SHA256_SIZE])
{
	struct hmac_sha256_key k;
	struct hmac_sha256 c;
	hmac_sha256_key_init(&k, key, key_len);
	hmac_sha256_start(&c, &k);
	hmac_sha256_update(&c, msg, len);
	hmac_sha256_final(&c, &k, mac);
}

/* RFC 4231 section 4: test cases 1, 2, 3, 4, 6 and 7 (5 is truncated). */
static void check_rfc4231(void)
{
	static const struct {
		const char *key, *data, *mac;
	} v[] = {
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	     "dddddddddddddddddd",
	     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	    {"0102030405060708090a0b0c0d0e0f10111213141516171819",
	     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	     "cdcdcdcdcdcdcdcdcd",
	     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaa",
	     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
	     "617368204b6579204669727374",
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaa",
	     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d"
	     "73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174"
	     "612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e"
	     "6720757365642062792074686520484d414320616c676f726974686d2e",
	     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[200], data[200], want[32], got[32];
		size_t kl = unhex(v[i].key, key, sizeof(key));
		size_t dl = unhex(v[i].data, data, sizeof(data));
		unhex(v[i].mac, want, sizeof(want));
		mac_of(key, kl, data, dl, got);
		assert_memory_equal(got, want, sizeof(want));
	}
}

/* Random keys and messages of every awkward length, whole and split at a
 * random point, against libsodium; and the plain digest too. */
static void check_against_libsodium(void)
{
	static const size_t key_lens[] = {0, 1, 20, 32, 55, 63, 64, 65, 100, 200};
	uint8_t key[200], msg[300], want[32], got[32];

	for (size_t ki = 0; ki < sizeof(key_lens) / sizeof(key_lens[0]); ki++) {
		for (size_t len = 0; len <= sizeof(msg); len += (len < 130 ? 1 : 17)) {
			size_t kl = key_lens[ki];
			randombytes_buf(key, kl);
			randombytes_buf(msg, len);
			crypto_auth_hmacsha256_state st;
			crypto_auth_hmacsha256_init(&st, key, kl);
			crypto_auth_hmacsha256_update(&st, msg, len);
			crypto_auth_hmacsha256_final(&st, want);
			mac_of(key, kl, msg, len, got);
			assert_memory_equal(got, want, 32);

			struct hmac_sha256_key k;
			struct hmac_sha256 c;
			size_t cut = len ? randombytes_uniform((uint32_t)len + 1) : 0;
			hmac_sha256_key_init(&k, key, kl);
			hmac_sha256_start(&c, &k);
			hmac_sha256_update(&c, msg, cut);
			hmac_sha256_update(&c, msg + cut, len - cut);
			hmac_sha256_final(&c, &k, got);
			assert_memory_equal(got, want, 32);

			crypto_hash_sha256(want, msg, len);
			hmac_sha256_digest(msg, len, got);
			assert_memory_equal(got, want, 32);
		}
	}
}

static void test_vectors_and_libsodium_portable(void **state)
{
	(void)state;
	assert_false(hmac_sha256_use_extensions(false));
	check_rfc4231();
	check_against_libsodium();
	hmac_sha256_use_extensions(true);
}

/* With the SHA extensions if this CPU has them (the same checks again
 * otherwise: the portable code is then what everything uses). */
static void test_vectors_and_libsodium_extensions(void **state)
{
	(void)state;
	bool on = hmac_sha256_use_extensions(true);
	print_message("SHA extensions: %s\n", on ? "in use" : "not on this CPU");
	check_rfc4231();
	check_against_libsodium();
}

/* Many blocks at once (the extensions' loop over blocks). */
static void test_long_message(void **state)
{
	(void)state;
	static uint8_t msg[10000];
	uint8_t want[32], got[32], key[32];
	randombytes_buf(msg, sizeof(msg));
	randombytes_buf(key, sizeof(key));
	crypto_auth_hmacsha256(want, msg, sizeof(msg), key);
	for (int ext = 0; ext < 2; ext++) {
		hmac_sha256_use_extensions(ext);
		mac_of(key, sizeof(key), msg, sizeof(msg), got);
		assert_memory_equal(got, want, 32);
	}
	hmac_sha256_use_extensions(true);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_and_libsodium_portable),
	    cmocka_unit_test(test_vectors_and_libsodium_extensions),
	    cmocka_unit_test(test_long_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
