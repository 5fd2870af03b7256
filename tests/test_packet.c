/*
 * test_packet.c - packet bytes: builder against a hand-checked hexdump,
 * every parser error, truncation and random-byte robustness (run under ASan
 * with -DNATSIM_SANITIZE=ON), incremental checksums against full ones and
 * the dissector's golden strings (the address parsers: tests/base/).
 *
 * Golden strings are literals here on purpose: if the dissector's output
 * changes, the diff of this file is the review.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/packet.h"

/* The reference packet: 192.168.1.5:5000 -> 192.0.2.1:3478, TTL 64,
 * IP id 0x1234, payload "hello". */
static const struct endpoint ref_src = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint ref_dst = {IP4(192, 0, 2, 1), 3478};

/*
 * Checksums by hand (RFC 1071: add 16-bit words, fold the carries, invert).
 * IP header words, checksum field as 0:
 *   4500 + 0021 + 1234 + 4000 + 4011 + 0000 + c0a8 + 0105 + c000 + 0201
 *   = 0x25b14 -> 0x5b14 + 0x2 = 0x5b16 -> ~ = 0xa4e9
 * UDP: pseudo-header c0a8 0105 c000 0201 0011 000d, then
 *   1388 0d96 000d 0000 6865 6c6c 6f00
 *   = 0x2e8c8 -> 0xe8c8 + 0x2 = 0xe8ca -> ~ = 0x1735
 */
static const uint8_t ref_bytes[33] = {
    0x45, 0x00, 0x00, 0x21, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xa4, 0xe9, /* IPv4 */
    0xc0, 0xa8, 0x01, 0x05, 0xc0, 0x00, 0x02, 0x01, 0x13, 0x88, 0x0d, 0x96,
    0x00, 0x0d, 0x17, 0x35, /* UDP */
    'h',  'e',	'l',  'l',  'o',
};

static size_t build_ref(uint8_t *buf, size_t cap)
{
	return packet_build_udp(buf, cap, &ref_src, &ref_dst, 64, 0x1234, "hello", 5);
}

/* An independent checksum, written the slow obvious way. */
static uint16_t naive_checksum(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void fix_ip_checksum(uint8_t *buf)
{
	size_t ihl = (size_t)(buf[0] & 0x0f) * 4;

	buf[10] = buf[11] = 0;
	uint16_t c = naive_checksum(buf, ihl);
	buf[10] = (uint8_t)(c >> 8);
	buf[11] = (uint8_t)c;
}

/* The UDP checksum a correct sender would put in the field (RFC 768). */
static uint16_t naive_udp_checksum(const uint8_t *buf)
{
	size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
	size_t ulen = ((size_t)buf[ihl + 4] << 8) | buf[ihl + 5];
	uint8_t tmp[12 + 2000];
	uint16_t c;

	memcpy(tmp, buf + 12, 8);
	tmp[8] = 0;
	tmp[9] = IPPROTO_NUM_UDP;
	tmp[10] = (uint8_t)(ulen >> 8);
	tmp[11] = (uint8_t)ulen;
	memcpy(tmp + 12, buf + ihl, ulen);
	tmp[12 + 6] = tmp[12 + 7] = 0;
	c = naive_checksum(tmp, 12 + ulen);
	return c == 0 ? 0xffff : c;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* ---- builder and checksums ---- */

static void test_build_matches_hexdump(void **state)
{
	uint8_t buf[64];

	(void)state;
	assert_int_equal(build_ref(buf, sizeof(buf)), sizeof(ref_bytes));
	assert_memory_equal(buf, ref_bytes, sizeof(ref_bytes));
	/* The independent reference agrees with the hand arithmetic. */
	assert_int_equal(naive_checksum(ref_bytes, 20), 0); /* a correct header sums to ~0 */
	assert_int_equal(naive_udp_checksum(ref_bytes), 0x1735);
	assert_int_equal(inet_checksum(ref_bytes, 20), 0);
}

static void test_build_capacity(void **state)
{
	uint8_t buf[64];

	(void)state;
	assert_int_equal(packet_build_udp(buf, 32, &ref_src, &ref_dst, 64, 1, "hello", 5), 0);
	assert_int_equal(packet_build_udp(buf, 33, &ref_src, &ref_dst, 64, 1, "hello", 5), 33);
	assert_int_equal(packet_build_udp(buf, 28, &ref_src, &ref_dst, 64, 1, NULL, 0), 28);
	/* A payload that cannot fit the 16-bit total length is refused. */
	assert_int_equal(packet_build_udp(buf, SIZE_MAX, &ref_src, &ref_dst, 64, 1, "x", 65508), 0);
}

static void test_rfc1071_example(void **state)
{
	/* RFC 1071 section 3: these bytes sum to 0xddf2; the checksum is its
	 * complement. */
	static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	static const uint8_t odd[] = {0x01, 0x02, 0x03};

	(void)state;
	assert_int_equal(inet_checksum(data, sizeof(data)), 0x220d);
	/* An odd byte is padded with zero: 0x0102 + 0x0300 = 0x0402. */
	assert_int_equal(inet_checksum(odd, sizeof(odd)), (uint16_t)~0x0402);
	assert_int_equal(inet_checksum(data, 0), 0xffff);
}

static void test_rfc1624_example(void **state)
{
	(void)state;
	/* RFC 1624 section 4: HC = 0xdd2f, a field 0x5555 -> 0x3285. Eqn. 3
	 * gives 0x0000, the value a full recomputation gives (eqn. 2 would
	 * give 0xffff, the -0 the RFC warns about). */
	assert_int_equal(checksum_adjust16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* 32-bit form equals two 16-bit steps. */
	assert_int_equal(
	    checksum_adjust32(0xa4e9, 0xc0a80105, 0x0a000002),
	    checksum_adjust16(checksum_adjust16(0xa4e9, 0xc0a8, 0x0a00), 0x0105, 0x0002));
	/* No change, no change. */
	assert_int_equal(checksum_adjust16(0x1234, 0xbeef, 0xbeef), 0x1234);
}

static void test_fill_checksums(void **state)
{
	uint8_t buf[64];

	(void)state;
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[10] = buf[11] = buf[26] = buf[27] = 0x55;
	packet_fill_checksums(buf, sizeof(ref_bytes));
	assert_memory_equal(buf, ref_bytes, sizeof(ref_bytes));
	/* Too short to hold a header: left alone, no read past len. */
	packet_fill_checksums(buf, 10);
}

/* ---- parser ---- */

static void test_parse_valid(void **state)
{
	struct packet_info pi;
	char why[160] = "x";

	(void)state;
	assert_int_equal(packet_parse(ref_bytes, sizeof(ref_bytes), &pi, why, sizeof(why)),
			 PACKET_OK);
	assert_string_equal(why, "");
	assert_int_equal(pi.ihl_bytes, 20);
	assert_int_equal(pi.tos, 0);
	assert_int_equal(pi.total_len, 33);
	assert_int_equal(pi.ip_id, 0x1234);
	assert_int_equal(pi.ttl, 64);
	assert_int_equal(pi.proto, IPPROTO_NUM_UDP);
	assert_int_equal(pi.src, IP4(192, 168, 1, 5));
	assert_int_equal(pi.dst, IP4(192, 0, 2, 1));
	assert_int_equal(pi.sport, 5000);
	assert_int_equal(pi.dport, 3478);
	assert_int_equal(pi.l4_offset, 20);
	assert_ptr_equal(pi.payload, ref_bytes + 28);
	assert_int_equal(pi.payload_len, 5);
}

static void test_parse_lenient_where_rfcs_are(void **state)
{
	uint8_t buf[64];
	struct packet_info pi;

	(void)state;
	/* UDP checksum 0: "no checksum" (RFC 768). */
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[26] = buf[27] = 0;
	assert_int_equal(packet_parse(buf, sizeof(ref_bytes), &pi, NULL, 0), PACKET_OK);
	/* Link padding after the total length is ignored. */
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	memset(buf + 33, 0xee, 7);
	assert_int_equal(packet_parse(buf, 40, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.payload_len, 5);
	/* A UDP length shorter than the IP payload: the rest is not payload. */
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[25] = 10; /* UDP length 10: 2 bytes of payload */
	buf[26] = buf[27] = 0;
	assert_int_equal(packet_parse(buf, sizeof(ref_bytes), &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.payload_len, 2);
	/* IP options (IHL 6) move the UDP header. */
	uint8_t opt[37];
	memcpy(opt, ref_bytes, 20);
	opt[0] = 0x46;
	opt[3] = 37;
	memset(opt + 20, 0x01, 4); /* four NOP options (RFC 791) */
	memcpy(opt + 24, ref_bytes + 20, 13);
	fix_ip_checksum(opt);
	assert_int_equal(packet_parse(opt, sizeof(opt), &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.l4_offset, 24);
	assert_int_equal(pi.sport, 5000);
}

struct parse_case {
	const char *name;
	size_t off; /* bytes to overwrite at off */
	size_t n;
	uint8_t val[2];
	size_t len;  /* bytes handed to the parser; 0 = all 33 */
	bool fix_ip; /* recompute the IP checksum after the change */
	int err;
	const char *why1, *why2; /* must both appear in the sentence */
};

static const struct parse_case parse_cases[] = {
    {"short", 0, 0, {0}, 12, false, PACKET_ERR_TRUNCATED, "only 12 bytes", "20-byte"},
    {"version", 0, 1, {0x65}, 0, false, PACKET_ERR_VERSION, "version field is 6", "not 4"},
    {"ihl small", 0, 1, {0x44}, 0, false, PACKET_ERR_IHL, "4 words (16 bytes)", "5 words"},
    {"ihl big", 0, 1, {0x4f}, 0, false, PACKET_ERR_IHL, "length 60", "33 bytes received"},
    {"total big",
     2,
     2,
     {0, 60},
     0,
     true,
     PACKET_ERR_TOTAL_LENGTH,
     "total length 60 is larger",
     "33 bytes received"},
    {"total small",
     2,
     2,
     {0, 16},
     0,
     true,
     PACKET_ERR_TOTAL_LENGTH,
     "total length 16 is smaller",
     "20-byte header"},
    {"ip checksum", 11, 1, {0xe8}, 0, false, PACKET_ERR_IP_CHECKSUM, "0xa4e8", "expected 0xa4e9"},
    {"more frags", 6, 2, {0x20, 0}, 0, true, PACKET_ERR_FRAGMENT, "flag set", "offset 0 bytes"},
    {"frag offset",
     6,
     2,
     {0x00, 0xb9},
     0,
     true,
     PACKET_ERR_FRAGMENT,
     "flag clear",
     "offset 1480 bytes"},
    {"udp no room",
     2,
     2,
     {0, 25},
     25,
     true,
     PACKET_ERR_UDP_TRUNCATED,
     "payload of 5 bytes",
     "8-byte UDP header"},
    {"udp len small", 24, 2, {0, 7}, 0, false, PACKET_ERR_UDP_TRUNCATED, "UDP length 7", "8-byte"},
    {"udp len big",
     24,
     2,
     {0, 40},
     0,
     false,
     PACKET_ERR_UDP_TRUNCATED,
     "UDP length 40",
     "13-byte IP payload"},
    {"udp checksum",
     26,
     2,
     {0x17, 0x36},
     0,
     false,
     PACKET_ERR_UDP_CHECKSUM,
     "(0x1736",
     "expected 0x1735)"},
    {"icmp", 9, 1, {1}, 0, true, PACKET_ERR_ICMP_CHECKSUM, "ICMP checksum is wrong", "expected"},
    {"tcp",
     9,
     1,
     {6},
     0,
     true,
     PACKET_ERR_TCP_TRUNCATED,
     "payload of 13 bytes",
     "20-byte TCP header"},
    {"gre",
     9,
     1,
     {47},
     0,
     true,
     PACKET_ERR_UNSUPPORTED,
     "protocol 47 is",
     "only UDP (17), TCP (6) and ICMP (1)"},
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t buf[64];
		struct packet_info pi;
		char why[200];
		size_t len = c->len ? c->len : sizeof(ref_bytes);

		memcpy(buf, ref_bytes, sizeof(ref_bytes));
		memcpy(buf + c->off, c->val, c->n);
		if (c->fix_ip)
			fix_ip_checksum(buf);
		print_message("case %s\n", c->name);
		assert_int_equal(packet_parse(buf, len, &pi, why, sizeof(why)), c->err);
		assert_non_null(strstr(why, c->why1));
		assert_non_null(strstr(why, c->why2));
		/* Without a why buffer the verdict is the same. */
		assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), c->err);
		if (c->err == PACKET_ERR_UNSUPPORTED) {
			/* The IP view is filled; the payload is the IP payload. */
			assert_int_equal(pi.proto, c->val[0]);
			assert_int_equal(pi.src, ref_src.ip);
			assert_int_equal(pi.sport, 0);
			assert_int_equal(pi.payload_len, 13);
		} else {
			assert_int_equal(pi.total_len, 0);
		}
	}
}

static void test_parse_exact_sentences(void **state)
{
	uint8_t buf[64];
	struct packet_info pi;
	char why[200];

	(void)state;
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[3] = 60;
	fix_ip_checksum(buf);
	packet_parse(buf, sizeof(ref_bytes), &pi, why, sizeof(why));
	assert_string_equal(why, "IPv4 total length 60 is larger than the 33 bytes received");
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[11] ^= 1;
	packet_parse(buf, sizeof(ref_bytes), &pi, why, sizeof(why));
	assert_string_equal(why, "IPv4 header checksum is wrong (0xa4e8, expected 0xa4e9)");
	/* A small why buffer is truncated, still terminated. */
	packet_parse(buf, sizeof(ref_bytes), &pi, why, 10);
	assert_string_equal(why, "IPv4 head");
}

static void test_error_strings(void **state)
{
	(void)state;
	assert_string_equal(packet_error_str(PACKET_OK), "ok");
	for (int e = PACKET_ERR_TRUNCATED; e >= PACKET_ERR_ICMP_INNER; e--) {
		const char *s = packet_error_str((enum packet_error)e);

		assert_string_not_equal(s, "unknown error");
		for (int f = e + 1; f <= PACKET_ERR_TRUNCATED; f++)
			assert_string_not_equal(s, packet_error_str((enum packet_error)f));
	}
	assert_string_equal(packet_error_str((enum packet_error) - 42), "unknown error");
	assert_string_equal(packet_error_str((enum packet_error)3), "unknown error");
}

/* Parse, summarise and dissect bytes held in a heap block of exactly len
 * bytes, so that ASan reports any read past the end. */
static int summarise_payload(const uint8_t *p, size_t len, char *out, size_t size)
{
	(void)p;
	return snprintf(out, size, "%zu payload bytes", len);
}

static int poke_exact(const uint8_t *bytes, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct packet_info pi;
	struct packet_field fields[24];
	char why[200], sum[256];
	int err;

	assert_non_null(copy);
	memcpy(copy, bytes, len);
	err = packet_parse(copy, len, &pi, why, sizeof(why));
	if (err == PACKET_OK) {
		/* Whatever the parser accepts lies inside what it was given. */
		assert_true(pi.payload >= copy && pi.payload + pi.payload_len <= copy + len);
		assert_true(pi.total_len <= len);
		assert_true(pi.ihl_bytes >= 20);
		assert_true(pi.l4_offset + 8 + pi.payload_len <= pi.total_len);
	} else {
		assert_true(err < 0 && err >= PACKET_ERR_ICMP_INNER);
		assert_true(why[0] != '\0');
	}
	packet_summary(copy, len, summarise_payload, false, sum, sizeof(sum));
	assert_true(sum[0] != '\0');
	packet_fields(copy, len, fields, 24);
	free(copy);
	return err;
}

static void test_truncations(void **state)
{
	uint8_t opt[41];

	(void)state;
	for (size_t len = 0; len < sizeof(ref_bytes); len++)
		assert_int_not_equal(poke_exact(ref_bytes, len), PACKET_OK);
	assert_int_equal(poke_exact(ref_bytes, sizeof(ref_bytes)), PACKET_OK);
	/* With 8 bytes of options, so IHL and UDP offsets are not the usual. */
	memcpy(opt, ref_bytes, 20);
	opt[0] = 0x47;
	opt[3] = sizeof(opt);
	memset(opt + 20, 0x01, 8);
	memcpy(opt + 28, ref_bytes + 20, 13);
	fix_ip_checksum(opt);
	for (size_t len = 0; len < sizeof(opt); len++)
		assert_int_not_equal(poke_exact(opt, len), PACKET_OK);
	assert_int_equal(poke_exact(opt, sizeof(opt)), PACKET_OK);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void test_random_bytes(void **state)
{
	uint64_t seed = 0x6e617473696d2121ull; /* fixed: a failure reproduces */
	uint8_t buf[96];
	size_t ok = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		size_t len = xorshift(&seed) % sizeof(buf);

		if (i % 2 == 0) {
			/* Pure noise, half of it wearing a plausible first byte. */
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)xorshift(&seed);
			if (len > 0 && i % 4 == 0)
				buf[0] = 0x45;
		} else {
			/* A valid packet with a few bytes flipped and a random length. */
			memcpy(buf, ref_bytes, sizeof(ref_bytes));
			memset(buf + sizeof(ref_bytes), 0, sizeof(buf) - sizeof(ref_bytes));
			for (int k = (int)(xorshift(&seed) % 3); k >= 0; k--)
				buf[xorshift(&seed) % 40] ^= (uint8_t)(1u << (xorshift(&seed) % 8));
		}
		if (poke_exact(buf, len) == PACKET_OK)
			ok++;
	}
	/* Not a bound on quality, a check that the mutations reach the end. */
	assert_true(ok > 0);
}

/* ---- rewrites ---- */

static void assert_checksums_fresh(const uint8_t *buf, size_t len)
{
	uint8_t fresh[PACKET_MAX_SIZE];

	memcpy(fresh, buf, len);
	packet_fill_checksums(fresh, len);
	assert_int_equal(rd16(buf + 10), rd16(fresh + 10));
	assert_int_equal(rd16(buf + 26), rd16(fresh + 26));
	assert_int_equal(rd16(buf + 26), naive_udp_checksum(buf));
	assert_int_equal(naive_checksum(buf, 20), 0);
	assert_int_equal(packet_parse(buf, len, &(struct packet_info){0}, NULL, 0), PACKET_OK);
}

static const struct endpoint rewrite_table[] = {
    {IP4(0, 0, 0, 0), 0},	   {IP4(255, 255, 255, 255), 65535}, {IP4(203, 0, 113, 7), 4000},
    {IP4(198, 51, 100, 9), 61002}, {IP4(10, 0, 0, 2), 27769},	     {IP4(100, 64, 0, 1), 1},
    {IP4(192, 168, 1, 5), 5000},   {IP4(127, 0, 0, 1), 65534},	     {IP4(0, 0, 255, 255), 0xffff},
    {IP4(255, 255, 0, 0), 0x8000}, {IP4(1, 2, 3, 4), 0x0102},	     {IP4(172, 16, 254, 1), 12345},
};

static void test_rewrite_table(void **state)
{
	const size_t n = sizeof(rewrite_table) / sizeof(rewrite_table[0]);
	uint8_t buf[64];
	size_t len = build_ref(buf, sizeof(buf));

	(void)state;
	/* Each rewrite starts from the previous one's bytes, as along a path
	 * of NATs, so errors would accumulate. */
	for (size_t i = 0; i < n; i++) {
		packet_rewrite_src(buf, len, &rewrite_table[i]);
		assert_checksums_fresh(buf, len);
		packet_rewrite_dst(buf, len, &rewrite_table[n - 1 - i]);
		assert_checksums_fresh(buf, len);
		struct packet_info pi;
		packet_parse(buf, len, &pi, NULL, 0);
		assert_int_equal(pi.src, rewrite_table[i].ip);
		assert_int_equal(pi.sport, rewrite_table[i].port);
		assert_int_equal(pi.dst, rewrite_table[n - 1 - i].ip);
		assert_int_equal(pi.dport, rewrite_table[n - 1 - i].port);
	}
	/* Back to the start: byte-identical to a fresh build. */
	packet_rewrite_src(buf, len, &ref_src);
	packet_rewrite_dst(buf, len, &ref_dst);
	assert_memory_equal(buf, ref_bytes, sizeof(ref_bytes));
}

/* Every port, in both directions. The UDP sum is linear in a port, so one
 * port in each sweep makes it fold to 0, which must be sent as 0xffff
 * (RFC 768); the next rewrite then starts from 0xffff and must still come out
 * as a full recomputation does. */
static void test_rewrite_every_port(void **state)
{
	uint8_t buf[64];
	size_t len = build_ref(buf, sizeof(buf));
	int zeros[2] = {0, 0};

	(void)state;
	for (int dir = 0; dir < 2; dir++) {
		for (uint32_t port = 0; port <= 0xffff; port++) {
			struct endpoint to = {IP4(203, 0, 113, 7), (uint16_t)port};

			if (dir == 0)
				packet_rewrite_src(buf, len, &to);
			else
				packet_rewrite_dst(buf, len, &to);
			assert_checksums_fresh(buf, len);
			if (rd16(buf + 26) == 0xffff)
				zeros[dir]++;
		}
	}
	assert_true(zeros[0] >= 1);
	assert_true(zeros[1] >= 1);
}

static void test_rewrite_no_udp_checksum(void **state)
{
	uint8_t buf[64];
	size_t len = build_ref(buf, sizeof(buf));
	struct endpoint to = {IP4(203, 0, 113, 7), 4000};

	(void)state;
	buf[26] = buf[27] = 0;
	packet_rewrite_src(buf, len, &to);
	packet_rewrite_dst(buf, len, &to);
	assert_int_equal(rd16(buf + 26), 0); /* none before, none invented */
	assert_int_equal(naive_checksum(buf, 20), 0);
	assert_int_equal(rd16(buf + 20), 4000);
	assert_int_equal(rd16(buf + 22), 4000);
	/* Too short to rewrite: untouched, and nothing read past len. */
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	packet_rewrite_src(buf, 19, &to);
	assert_memory_equal(buf, ref_bytes, sizeof(ref_bytes));
}

static void test_decrement_ttl(void **state)
{
	uint8_t buf[64];
	size_t len = build_ref(buf, sizeof(buf));

	(void)state;
	for (int ttl = 63; ttl >= 0; ttl--) {
		assert_int_equal(packet_decrement_ttl(buf, len), ttl);
		assert_int_equal(buf[8], ttl);
		assert_checksums_fresh(buf, len);
	}
	/* At 0 it stays 0: the router drops it. */
	assert_int_equal(packet_decrement_ttl(buf, len), 0);
	assert_int_equal(buf[8], 0);
	assert_checksums_fresh(buf, len);
	assert_int_equal(packet_decrement_ttl(buf, 10), 0);
	/* TTL 255 exercises the high byte of the word. */
	len = packet_build_udp(buf, sizeof(buf), &ref_src, &ref_dst, 255, 0xffff, "", 0);
	assert_int_equal(packet_decrement_ttl(buf, len), 254);
	assert_checksums_fresh(buf, len);
}

/* ---- dissector ---- */

static int say_hello(const uint8_t *p, size_t len, char *out, size_t size)
{
	return snprintf(out, size, "%.*s", (int)len, (const char *)p);
}

static int decline(const uint8_t *p, size_t len, char *out, size_t size)
{
	(void)p;
	(void)len;
	(void)out;
	(void)size;
	return 0;
}

static void test_summary(void **state)
{
	char out[256];
	uint8_t buf[64];

	(void)state;
	int n = packet_summary(ref_bytes, sizeof(ref_bytes), NULL, false, out, sizeof(out));

	assert_string_equal(out, "UDP 192.168.1.5:5000 \xe2\x86\x92 192.0.2.1:3478 len=5 ttl=64");
	assert_int_equal(n, strlen(out));
	packet_summary(ref_bytes, sizeof(ref_bytes), NULL, true, out, sizeof(out));
	assert_string_equal(out, "UDP 192.168.1.5:5000 -> 192.0.2.1:3478 len=5 ttl=64");
	packet_summary(ref_bytes, sizeof(ref_bytes), say_hello, true, out, sizeof(out));
	assert_string_equal(out, "UDP 192.168.1.5:5000 -> 192.0.2.1:3478 len=5 ttl=64 [hello]");
	packet_summary(ref_bytes, sizeof(ref_bytes), decline, true, out, sizeof(out));
	assert_string_equal(out, "UDP 192.168.1.5:5000 -> 192.0.2.1:3478 len=5 ttl=64");

	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[11] ^= 1;
	packet_summary(buf, sizeof(ref_bytes), NULL, false, out, sizeof(out));
	assert_string_equal(out, "malformed: bad IPv4 header checksum");
	packet_summary(buf, 3, NULL, false, out, sizeof(out));
	assert_string_equal(out, "malformed: truncated IPv4 header");

	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[9] = IPPROTO_NUM_ICMP;
	fix_ip_checksum(buf);
	packet_summary(buf, sizeof(ref_bytes), say_hello, false, out, sizeof(out));
	assert_string_equal(out, "malformed: bad ICMP checksum"); /* ICMP is parsed now */
	buf[9] = 99;
	fix_ip_checksum(buf);
	packet_summary(buf, sizeof(ref_bytes), NULL, true, out, sizeof(out));
	assert_string_equal(out, "proto 99 192.168.1.5 -> 192.0.2.1 len=13 ttl=64");
}

static void test_summary_truncates_like_snprintf(void **state)
{
	char out[12];
	const char *full = "UDP 192.168.1.5:5000 -> 192.0.2.1:3478 len=5 ttl=64 [hello]";

	(void)state;
	assert_int_equal(
	    packet_summary(ref_bytes, sizeof(ref_bytes), say_hello, true, out, sizeof(out)),
	    strlen(full));
	assert_string_equal(out, "UDP 192.168");
	assert_int_equal(packet_summary(ref_bytes, sizeof(ref_bytes), say_hello, true, NULL, 0),
			 strlen(full));
}

static void assert_fields(const struct packet_field *f, size_t n, const char *const *want,
			  size_t n_want)
{
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		char line[sizeof(f->name) + sizeof(f->value) + 2];

		snprintf(line, sizeof(line), "%.31s=%.63s", f[i].name, f[i].value);
		assert_string_equal(line, want[i]);
	}
}

static void test_fields(void **state)
{
	static const char *const want[] = {
	    "ip.version=4",	   "ip.ihl=5 (20 bytes)",
	    "ip.tos=0x00",	   "ip.len=33",
	    "ip.id=0x1234 (4660)", "ip.flags=0x2 [DF]",
	    "ip.frag_offset=0",	   "ip.ttl=64",
	    "ip.proto=17 (UDP)",   "ip.checksum=0xa4e9 [correct]",
	    "ip.src=192.168.1.5",  "ip.dst=192.0.2.1",
	    "udp.sport=5000",	   "udp.dport=3478",
	    "udp.len=13",	   "udp.checksum=0x1735 [correct]",
	    "payload.len=5",
	};
	struct packet_field f[32];

	(void)state;
	assert_fields(f, packet_fields(ref_bytes, sizeof(ref_bytes), f, 32), want,
		      sizeof(want) / sizeof(want[0]));
	/* max is respected */
	assert_int_equal(packet_fields(ref_bytes, sizeof(ref_bytes), f, 3), 3);
	assert_string_equal(f[2].name, "ip.tos");
}

static void test_fields_malformed(void **state)
{
	static const char *const want[] = {
	    "error=bad IPv4 header checksum",
	    "ip.version=4",
	    "ip.ihl=5 (20 bytes)",
	    "ip.tos=0x00",
	    "ip.len=33",
	    "ip.id=0x1234 (4660)",
	    "ip.flags=0x3 [DF MF]",
	    "ip.frag_offset=0",
	    "ip.ttl=64",
	    "ip.proto=17 (UDP)",
	    "ip.checksum=0xa4e9 [wrong, expected 0x84e9]",
	    "ip.src=192.168.1.5",
	    "ip.dst=192.0.2.1",
	    "udp.sport=5000",
	    "udp.dport=3478",
	    "udp.len=13",
	    "udp.checksum=0x1734 [wrong, expected 0x1735]",
	    "payload.len=5",
	};
	static const char *const want_short[] = {"error=truncated IPv4 header"};
	struct packet_field f[32];
	uint8_t buf[64];

	(void)state;
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[6] = 0x60; /* MF as well as DF */
	buf[27] = 0x34;
	assert_fields(f, packet_fields(buf, sizeof(ref_bytes), f, 32), want,
		      sizeof(want) / sizeof(want[0]));
	assert_fields(f, packet_fields(buf, 19, f, 32), want_short, 1);
	/* No UDP checksum: shown as none. */
	memcpy(buf, ref_bytes, sizeof(ref_bytes));
	buf[26] = buf[27] = 0;
	size_t n = packet_fields(buf, sizeof(ref_bytes), f, 32);
	assert_string_equal(f[n - 2].value, "0x0000 [none]");
}

/* packet_check: packet_parse's verdict and sentence, summing only what is
 * not already known right, remembering what it found right. */
static void test_check_remembers_sums(void **state)
{
	struct packet_pool *pool = packet_pool_new();
	struct packet_info pi;
	char why[160];
	const struct endpoint nat_out = {IP4(203, 0, 113, 7), 40000};

	(void)state;
	assert_non_null(pool);
	struct packet *p = packet_alloc(pool, 1, sizeof(ref_bytes));
	assert_non_null(p);
	assert_false(p->sums_ok);
	memcpy(p->data, ref_bytes, sizeof(ref_bytes));
	p->len = sizeof(ref_bytes);
	p->data[27] ^= 0x40; /* a wrong UDP sum, as a raw send may carry */
	assert_int_equal(packet_check(p, &pi, why, sizeof(why)), PACKET_ERR_UDP_CHECKSUM);
	assert_non_null(strstr(why, "UDP checksum is wrong"));
	assert_false(p->sums_ok);
	p->data[27] ^= 0x40;
	assert_int_equal(packet_check(p, &pi, why, sizeof(why)), PACKET_OK);
	assert_true(p->sums_ok);
	/* A rewrite keeps them right: the next hop need not sum again, and
	 * what it skips would indeed have passed. */
	packet_rewrite_src(p->data, p->len, &nat_out);
	packet_decrement_ttl(p->data, p->len);
	assert_int_equal(packet_check(p, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(packet_parse(p->data, p->len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.sport, 40000);
	struct packet *c = packet_clone(pool, p);
	assert_non_null(c);
	assert_true(c->sums_ok);
	/* Skipping the sums gives packet_parse's view, field for field. */
	struct packet_info strict;
	/* (A UDP view leaves the ICMP error and TCP parts as they were.) */
	memset(&strict, 0, sizeof(strict));
	memset(&pi, 0, sizeof(pi));
	assert_int_equal(packet_parse(c->data, c->len, &strict, NULL, 0), PACKET_OK);
	assert_int_equal(packet_check(c, &pi, NULL, 0), PACKET_OK);
	assert_memory_equal(&strict, &pi, sizeof(pi));
	/* A wrong sum goes unnoticed only while the promise holds... */
	c->data[27] ^= 0x40;
	assert_int_equal(packet_check(c, &pi, NULL, 0), PACKET_OK);
	/* ...and is found once nothing vouches for the bytes. */
	c->sums_ok = false;
	assert_int_equal(packet_check(c, &pi, why, sizeof(why)), PACKET_ERR_UDP_CHECKSUM);
	c->data[27] ^= 0x40;
	/* Lengths are still checked when the sums are skipped, at every length. */
	for (size_t len = 0; len < sizeof(ref_bytes); len++) {
		c->len = len;
		c->sums_ok = true;
		assert_int_not_equal(packet_check(c, &pi, NULL, 0), PACKET_OK);
		assert_false(c->sums_ok);
	}
	c->len = sizeof(ref_bytes);
	c->sums_ok = true;
	c->data[9] = 47; /* GRE: refused as packet_parse refuses it */
	assert_int_equal(packet_check(c, &pi, NULL, 0), PACKET_ERR_UNSUPPORTED);
	packet_release(pool, c);
	packet_release(pool, p);
	/* A recycled packet starts unknown. */
	p = packet_alloc(pool, 2, sizeof(ref_bytes));
	assert_false(p->sums_ok);
	packet_release(pool, p);
	packet_pool_free(pool);
}

/* ---- pool ---- */

static void test_pool(void **state)
{
	struct packet_pool *pool = packet_pool_new();
	struct packet *held[300];

	(void)state;
	assert_non_null(pool);
	/* More than one chunk's worth, all distinct. */
	for (size_t i = 0; i < 300; i++) {
		held[i] = packet_alloc(pool, i + 1, PACKET_MAX_SIZE);
		assert_non_null(held[i]);
		assert_int_equal(held[i]->id, i + 1);
		assert_int_equal(held[i]->len, 0);
		assert_null(held[i]->next);
		held[i]->len = build_ref(held[i]->data, PACKET_MAX_SIZE);
		held[i]->data[4] = (uint8_t)i;
	}
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(held[i]->data[4], (uint8_t)i);
	/* Released packets come back before the pool grows. */
	packet_release(pool, held[7]);
	struct packet *again = packet_alloc(pool, 1000, PACKET_MAX_SIZE);
	assert_ptr_equal(again, held[7]);
	assert_int_equal(again->id, 1000);
	assert_int_equal(again->len, 0);
	/* A clone is a copy with the same id. */
	struct packet *c = packet_clone(pool, held[8]);
	assert_non_null(c);
	assert_ptr_not_equal(c, held[8]);
	assert_int_equal(c->id, 9);
	assert_int_equal(c->len, sizeof(ref_bytes));
	assert_memory_equal(c->data, held[8]->data, c->len);
	packet_release(pool, NULL);
	for (size_t i = 0; i < 150; i++)
		packet_release(pool, held[i]);
	/* Freeing the pool frees outstanding packets too (LeakSanitizer checks). */
	packet_pool_free(pool);
	packet_pool_free(NULL);
}

/* Two sizes of buffer: the smallest that holds what is asked for, reused
 * within its size; nothing larger than PACKET_MAX_SIZE. Writing a whole
 * buffer is fine (AddressSanitizer would flag a byte past it). */
static void test_pool_sizes(void **state)
{
	struct packet_pool *pool = packet_pool_new();
	(void)state;
	assert_non_null(pool);
	struct packet *small = packet_alloc(pool, 1, 100);
	struct packet *edge = packet_alloc(pool, 2, PACKET_SMALL_SIZE);
	struct packet *large = packet_alloc(pool, 3, PACKET_SMALL_SIZE + 1);
	struct packet *full = packet_alloc(pool, 4, PACKET_MAX_SIZE);
	assert_non_null(small);
	assert_non_null(edge);
	assert_non_null(large);
	assert_non_null(full);
	assert_int_equal(small->cap, PACKET_SMALL_SIZE);
	assert_int_equal(edge->cap, PACKET_SMALL_SIZE);
	assert_int_equal(large->cap, PACKET_MAX_SIZE);
	assert_int_equal(full->cap, PACKET_MAX_SIZE);
	assert_null(packet_alloc(pool, 5, PACKET_MAX_SIZE + 1));
	memset(small->data, 0xab, small->cap);
	memset(full->data, 0xcd, full->cap);
	/* A clone is as small as its bytes allow. */
	small->len = 60;
	struct packet *c = packet_clone(pool, small);
	assert_non_null(c);
	assert_int_equal(c->cap, PACKET_SMALL_SIZE);
	assert_memory_equal(c->data, small->data, 60);
	full->len = PACKET_MAX_SIZE;
	struct packet *c2 = packet_clone(pool, full);
	assert_non_null(c2);
	assert_int_equal(c2->cap, PACKET_MAX_SIZE);
	assert_memory_equal(c2->data, full->data, PACKET_MAX_SIZE);
	/* Released buffers return to their own size. */
	packet_release(pool, small);
	packet_release(pool, large);
	assert_ptr_equal(packet_alloc(pool, 6, 20), small);
	assert_ptr_equal(packet_alloc(pool, 7, 1000), large);
	packet_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_matches_hexdump),
	    cmocka_unit_test(test_build_capacity),
	    cmocka_unit_test(test_rfc1071_example),
	    cmocka_unit_test(test_rfc1624_example),
	    cmocka_unit_test(test_fill_checksums),
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_lenient_where_rfcs_are),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_exact_sentences),
	    cmocka_unit_test(test_error_strings),
	    cmocka_unit_test(test_truncations),
	    cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_rewrite_table),
	    cmocka_unit_test(test_rewrite_every_port),
	    cmocka_unit_test(test_rewrite_no_udp_checksum),
	    cmocka_unit_test(test_decrement_ttl),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_summary_truncates_like_snprintf),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_fields_malformed),
	    cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_check_remembers_sums),
	    cmocka_unit_test(test_pool_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
