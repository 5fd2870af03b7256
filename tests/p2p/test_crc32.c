/*
 * test_crc32.c - the CRC-32 behind STUN's FINGERPRINT (RFC 8489 section
 * 14.7), which p2p/stun.c takes from libdeflate (libdeflate_crc32):
 *  - the CRC-32/ISO-HDLC check value, "123456789" -> 0xCBF43926;
 *  - libdeflate against the bit-at-a-time definition (reflected polynomial
 *    0xEDB88320, initial value and final XOR 0xFFFFFFFF) at every length up
 *    to 300 and every alignment, whole and in pieces: below 16 bytes and
 *    above, libdeflate takes different paths (tables, then PCLMULQDQ);
 *  - the FINGERPRINTs of RFC 5769's sample messages, recomputed from the
 *    bytes before them, and stun_put_fingerprint() writing the same value
 *    into a copy whose FINGERPRINT was cleared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libdeflate.h>

#include "p2p/stun.h"

#include "rfc5769.h"

#define MAX_LEN 300
#define MAX_OFFSET 15

/* The definition, one bit at a time: slow and obviously right. */
static uint32_t reference_crc(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* A fixed sequence (xorshift64), so a failure repeats. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_check_value(void **state)
{
	(void)state;
	static const uint8_t check[] = "123456789";

	assert_int_equal(libdeflate_crc32(0, check, 9), 0xCBF43926u);
	assert_int_equal(reference_crc(0, check, 9), 0xCBF43926u);
	/* In two pieces, and an empty piece leaves the CRC as it was. */
	uint32_t c = libdeflate_crc32(0, check, 4);
	assert_int_equal(libdeflate_crc32(c, check + 4, 5), 0xCBF43926u);
	assert_int_equal(libdeflate_crc32(0x12345678u, check, 0), 0x12345678u);
}

/* Every length 0 .. MAX_LEN (STUN messages are 20 to about 250 bytes) at
 * every offset 0 .. MAX_OFFSET, whole and cut in two at a random point. */
static void test_against_definition(void **state)
{
	(void)state;
	static uint8_t buf[MAX_OFFSET + MAX_LEN];
	uint64_t s = 0x9E3779B97F4A7C15u;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(next_random(&s) >> 56);
	for (size_t off = 0; off <= MAX_OFFSET; off++) {
		for (size_t len = 0; len <= MAX_LEN; len++) {
			const uint8_t *p = buf + off;
			uint32_t want = reference_crc(0, p, len);
			size_t cut = (size_t)(next_random(&s) % (len + 1));

			assert_int_equal(libdeflate_crc32(0, p, len), want);
			uint32_t c = libdeflate_crc32(0, p, cut);
			assert_int_equal(libdeflate_crc32(c, p + cut, len - cut), want);
		}
	}
}

/* RFC 5769's FINGERPRINTs, from the bytes before the attribute (RFC 8489
 * 14.7), and the codec's own writer and reader agreeing with them. */
static void check_rfc5769(const uint8_t *msg, size_t len, uint32_t fingerprint)
{
	uint8_t copy[128];
	struct stun_msg m;

	assert_int_equal(get32(msg + len - 4), fingerprint);
	assert_int_equal(libdeflate_crc32(0, msg, len - 8) ^ STUN_FINGERPRINT_XOR, fingerprint);
	assert_int_equal(stun_decode(msg, len, false, &m), STUN_OK);
	assert_true(m.has_fingerprint);

	/* The writer, continuing after the attributes already in a copy whose
	 * FINGERPRINT was cleared. */
	assert_true(len <= sizeof(copy));
	memcpy(copy, msg, len);
	memset(copy + len - 8, 0, 8);
	struct stun_writer w = {.buf = copy, .cap = sizeof(copy), .len = len - 8, .err = STUN_OK};
	stun_put_fingerprint(&w);
	assert_int_equal(stun_writer_finish(&w), (int)len);
	assert_memory_equal(copy, msg, len);

	/* One flipped bit anywhere before it, and the reader refuses. */
	for (size_t i = STUN_HEADER_SIZE; i < len - 8; i++) {
		memcpy(copy, msg, len);
		copy[i] ^= 0x10;
		int rc = stun_decode(copy, len, false, &m);
		assert_true(rc != STUN_OK || !m.has_fingerprint);
	}
}

static void test_rfc5769_fingerprints(void **state)
{
	(void)state;
	check_rfc5769(RFC5769_REQ, sizeof(RFC5769_REQ), 0xe57a3bcfu);
	check_rfc5769(RFC5769_V4, sizeof(RFC5769_V4), 0xc07d4c96u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_against_definition),
	    cmocka_unit_test(test_rfc5769_fingerprints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
