/*
 * test_crc32.c - p2p/crc32 against zlib's crc32() and the CRC-32/ISO-HDLC
 * check value, with PCLMULQDQ (when the CPU has it) and with the portable
 * code: every length up to 1100 at every alignment, and chained in pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "p2p/crc32.h"

#define MAX_LEN 1100
#define MAX_OFFSET 15

/* A fixed sequence (xorshift64), so a failure repeats. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(uint8_t *buf, size_t len, uint64_t *s)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(next_random(s) >> 56);
}

static uint32_t zlib_crc(uint32_t crc, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

static void check_value(void)
{
	static const uint8_t check[] = "123456789";
	static const uint8_t longer[] = "123456789012345678901234567890123456789";

	assert_int_equal(crc32_ieee(0, check, 9), 0xCBF43926u);
	assert_int_equal(crc32_ieee(0, NULL, 0), 0);
	assert_int_equal(crc32_ieee(0x12345678, check, 0), 0x12345678);
	/* The same bytes inside a longer buffer, reached in pieces: the second
	 * piece is long enough for PCLMULQDQ. */
	uint32_t c = crc32_ieee(0, longer, 9);
	assert_int_equal(c, 0xCBF43926u);
	assert_int_equal(crc32_ieee(c, longer + 9, 30), zlib_crc(0, longer, 39));
}

/* Every length 0 .. MAX_LEN at every offset 0 .. MAX_OFFSET into a buffer,
 * from zero and from a random starting CRC. */
static void check_every_length_and_offset(void)
{
	static uint8_t buf[MAX_OFFSET + MAX_LEN];
	uint64_t s = 0x9E3779B97F4A7C15u;

	fill(buf, sizeof(buf), &s);
	for (size_t off = 0; off <= MAX_OFFSET; off++) {
		for (size_t len = 0; len <= MAX_LEN; len++) {
			const uint8_t *p = buf + off;
			uint32_t start = (uint32_t)next_random(&s);

			assert_int_equal(crc32_ieee(0, p, len), zlib_crc(0, p, len));
			assert_int_equal(crc32_ieee(start, p, len), zlib_crc(start, p, len));
		}
	}
}

/* Messages cut at random points into up to five pieces, fed one after the
 * other: the CRC is that of the whole. */
static void check_chained_pieces(void)
{
	static uint8_t buf[MAX_OFFSET + MAX_LEN];
	uint64_t s = 0xD1B54A32D192ED03u;

	for (int round = 0; round < 20000; round++) {
		size_t off = next_random(&s) % (MAX_OFFSET + 1);
		size_t len = next_random(&s) % (MAX_LEN + 1);
		const uint8_t *p = buf + off;

		fill(buf, off + len, &s);
		uint32_t want = zlib_crc(0, p, len), got = 0;
		size_t done = 0;
		int pieces = 1 + (int)(next_random(&s) % 5);
		for (int i = 1; i < pieces && done < len; i++) {
			size_t take = next_random(&s) % (len - done + 1);
			got = crc32_ieee(got, p + done, take);
			done += take;
		}
		got = crc32_ieee(got, p + done, len - done);
		assert_int_equal(got, want);
	}
}

/* Long runs of one byte value (all-zero and all-ones data). */
static void check_constant_data(void)
{
	static uint8_t buf[4096];

	for (int v = 0; v < 256; v += 255) {
		memset(buf, v, sizeof(buf));
		for (size_t len = 0; len <= sizeof(buf); len += 61)
			assert_int_equal(crc32_ieee(0, buf, len), zlib_crc(0, buf, len));
	}
}

static void check_all(void)
{
	check_value();
	check_every_length_and_offset();
	check_chained_pieces();
	check_constant_data();
}

static void test_portable(void **state)
{
	(void)state;
	assert_false(crc32_use_pclmul(false));
	assert_false(crc32_pclmul());
	check_all();
	crc32_use_pclmul(true);
}

/* With PCLMULQDQ if this CPU has it (the same checks again otherwise: the
 * portable code is then what everything uses). */
static void test_pclmul(void **state)
{
	(void)state;
	bool on = crc32_use_pclmul(true);
	print_message("PCLMULQDQ: %s\n", on ? "in use" : "not on this CPU");
	assert_int_equal(crc32_pclmul(), on);
	check_all();
}

/* One message, longer than the buffers above, split between the two
 * implementations: each continues the other's CRC. */
static void test_paths_continue_each_other(void **state)
{
	(void)state;
	static uint8_t msg[100000];
	uint64_t s = 42;

	fill(msg, sizeof(msg), &s);
	uint32_t want = zlib_crc(0, msg, sizeof(msg));
	for (int first = 0; first < 2; first++) {
		crc32_use_pclmul(first);
		uint32_t c = crc32_ieee(0, msg, 33333);
		crc32_use_pclmul(!first);
		c = crc32_ieee(c, msg + 33333, sizeof(msg) - 33333);
		assert_int_equal(c, want);
	}
	crc32_use_pclmul(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_portable),
	    cmocka_unit_test(test_pclmul),
	    cmocka_unit_test(test_paths_continue_each_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
