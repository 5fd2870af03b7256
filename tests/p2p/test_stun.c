/*
 * test_stun.c - STUN codec: golden bytes, RFC 5769 vectors, decode errors,
 * round trips, classic messages, integrity, summaries, and a bounded
 * randomized robustness run (fixed seed).
 *
 * The golden arrays were written by hand from the RFC 8489 section 5 and 14
 * layouts; FINGERPRINT values were computed independently with Python's
 * zlib.crc32(msg up to the FINGERPRINT attribute) ^
 * 0x5354554E (the same method reproduces RFC 5769's c07d4c96). To regenerate one on purpose, print
 * the encoder's output in the failing test and re-check it field by field against the RFC before
 * pasting it here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libdeflate.h>
#include <sodium.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>

#include "p2p/stun.h"

#include "rfc5769.h"

static const uint8_t TXID[STUN_TXID_SIZE] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

static struct p2p_endpoint ep(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	return (struct p2p_endpoint){
	    .ip = ((uint32_t)a << 24) | ((uint32_t)b << 16) | ((uint32_t)c << 8) | d, .port = port};
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	assert_int_equal(got_len, want_len);
	for (size_t i = 0; i < want_len; i++) {
		if (got[i] != want[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, got[i], want[i]);
	}
}

/* ---- golden encodings ---- */

static void test_golden_binding_request_change(void **state)
{
	(void)state;
	static const uint8_t want[] = {
	    0x00, 0x01, 0x00, 0x08, /* Binding Request, length 8 */
	    0x21, 0x12, 0xa4, 0x42, /* magic cookie */
	    0,	  1,	2,    3,    4,	  5,	6,    7,    8, 9, 10, 11, /* transaction id */
	    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06, /* CHANGE-REQUEST ip+port */
	};
	uint8_t buf[64];
	struct stun_writer w;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_bytes(buf, (size_t)n, want, sizeof(want));
}

static void test_golden_xor_mapped_fingerprint(void **state)
{
	(void)state;
	/* The RFC 5769 transaction id and mapped address, without SOFTWARE and MI. */
	static const uint8_t txid[STUN_TXID_SIZE] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
						     0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
	static const uint8_t want[] = {
	    0x01, 0x01, 0x00, 0x14, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7,
	    0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x00, 0x20,
	    0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, /* XMA */
	    0x80, 0x28, 0x00, 0x04, 0x7d, 0x28, 0x1f, 0x59,		/* FP */
	};
	uint8_t buf[64];
	struct stun_writer w;
	struct p2p_endpoint mapped = ep(192, 0, 2, 1, 32853);

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, txid);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_bytes(buf, (size_t)n, want, sizeof(want));
}

static void test_golden_error_420(void **state)
{
	(void)state;
	static const uint8_t want[] =
	    {
		0x01, 0x11, 0x00, 0x24, 0x21, 0x12, 0xa4, 0x42, 0,    1,
		2,    3,    4,	  5,	6,    7,    8,	  9,	10,   11,
		0x00, 0x09, 0x00, 0x15, 0x00, 0x00, 0x04, 0x14, /* ERROR-CODE 4|20, 21 bytes */
		'U',  'n',  'k',  'n',	'o',  'w',  'n',  ' ',	'A',  't',
		't',  'r',  'i',  'b',	'u',  't',  'e',  0x00, 0x00, 0x00, /* padding */
		0x00, 0x0a, 0x00, 0x02, 0x00, 0x33, 0x00, 0x00, /* UNKNOWN-ATTRIBUTES 0x0033 */
	    };
	uint8_t buf[128];
	struct stun_writer w;
	uint16_t unknown = 0x0033;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_ERROR, TXID);
	stun_put_error(&w, 420, "Unknown Attribute");
	stun_put_unknown(&w, &unknown, 1);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_bytes(buf, (size_t)n, want, sizeof(want));
}

static void test_golden_classic_request(void **state)
{
	(void)state;
	static const uint8_t txid16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	static const uint8_t
	    want[] =
		{
		    0x00, 0x01, 0x00, 0x08, 0,	  1,	2,    3,    4,	5,
		    6,	  7,	8,    9,    10,	  11,	12,   13,   14, 15,
		    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, /* CHANGE-REQUEST
								       port */
		};
	uint8_t buf[64];
	struct stun_writer w;

	stun_writer_init_classic(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
				 txid16);
	stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, STUN_CHANGE_PORT);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_bytes(buf, (size_t)n, want, sizeof(want));
}

/* RFC 8489 5: M11..M7 C1 M6..M4 C0 M3..M0. */
static void test_golden_message_types(void **state)
{
	(void)state;
	static const struct {
		uint16_t method;
		enum stun_class cls;
		uint16_t type;
	} rows[] = {
	    {STUN_METHOD_BINDING, STUN_CLASS_REQUEST, 0x0001},
	    {STUN_METHOD_BINDING, STUN_CLASS_INDICATION, 0x0011},
	    {STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, 0x0101},
	    {STUN_METHOD_BINDING, STUN_CLASS_ERROR, 0x0111},
	    {STUN_METHOD_REGISTER, STUN_CLASS_REQUEST, 0x0281},
	    {STUN_METHOD_REGISTER, STUN_CLASS_SUCCESS, 0x0381},
	    {STUN_METHOD_CONNECT, STUN_CLASS_ERROR, 0x0392},
	    {STUN_METHOD_INTRODUCE, STUN_CLASS_INDICATION, 0x0293},
	    {STUN_METHOD_RELAY, STUN_CLASS_INDICATION, 0x0294},
	    {STUN_METHOD_DATA, STUN_CLASS_INDICATION, 0x0295},
	    {0xFFF, STUN_CLASS_ERROR, 0x3FFF},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t buf[32];
		struct stun_writer w;
		struct stun_msg m;

		stun_writer_init(&w, buf, sizeof(buf), rows[i].method, rows[i].cls, TXID);
		assert_int_equal(stun_writer_finish(&w), 20);
		assert_int_equal((buf[0] << 8) | buf[1], rows[i].type);
		assert_int_equal(stun_decode(buf, 20, false, &m), STUN_OK);
		assert_int_equal(m.method, rows[i].method);
		assert_int_equal(m.cls, rows[i].cls);
	}
}

/* ---- RFC 5769 vectors ---- */

static void test_rfc5769_ipv4_response(void **state)
{
	(void)state;
	struct stun_msg m;
	struct p2p_endpoint mapped;
	char sw[32];

	assert_true(stun_is_message(RFC5769_V4, sizeof(RFC5769_V4)));
	assert_int_equal(stun_decode(RFC5769_V4, sizeof(RFC5769_V4), false, &m), STUN_OK);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
	assert_false(m.classic);
	assert_true(m.has_fingerprint);
	assert_int_equal(m.n_attrs, 4);
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), STUN_OK);
	assert_int_equal(mapped.ip, ep(192, 0, 2, 1, 0).ip);
	assert_int_equal(mapped.port, 32853);
	assert_int_equal(stun_get_string(&m, STUN_ATTR_SOFTWARE, sw, sizeof(sw)), STUN_OK);
	assert_string_equal(sw, "test vector");
	assert_int_equal(stun_find(&m, STUN_ATTR_FINGERPRINT)->offset, 72);
}

static void test_rfc5769_ipv6_response(void **state)
{
	(void)state;
	struct stun_msg m;
	struct p2p_endpoint mapped;
	char text[160];

	/* The getter reads RFC 5769 2.3's 2001:db8:1234:5678:11:2233:4455:6677
	 * port 32853 (family 0x02, XORed with the cookie and the txid). */
	assert_int_equal(stun_decode(RFC5769_V6, sizeof(RFC5769_V6), false, &m), STUN_OK);
	assert_true(m.has_fingerprint);
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
					 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), STUN_OK);
	assert_int_equal(mapped.family, P2P_FAMILY_IPV6);
	assert_memory_equal(mapped.ip6, want, 16);
	assert_int_equal(mapped.port, 32853);
	/* Read unXORed, the same bytes are some other address: the XOR matters. */
	assert_int_equal(stun_get_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), STUN_OK);
	assert_memory_not_equal(mapped.ip6, want, 16);
	/* Written back with the same transaction ID: the vector's bytes. */
	uint8_t buf[128];
	struct stun_writer w;
	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, m.txid);
	stun_put_xor_address(
	    &w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    &(struct p2p_endpoint){.ip6 = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00,
					   0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77},
				   .port = 32853,
				   .family = P2P_FAMILY_IPV6});
	assert_true(stun_writer_finish(&w) > 0);
	assert_memory_equal(buf + 20, RFC5769_V6 + 36, 24); /* type, length, 20-byte value */
	/* The one-line summary writes it as RFC 5952 text in brackets. */
	assert_true(stun_summary(RFC5769_V6, sizeof(RFC5769_V6), text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "xor-mapped=[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
}

/* Every address attribute carries either family (RFC 8489 14.1): MAPPED,
 * XOR-MAPPED, OTHER-ADDRESS and RESPONSE-ORIGIN, IPv6 beside IPv4. */
static void test_address_attributes_both_families(void **state)
{
	(void)state;
	static const uint16_t types[] = {STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_XOR_MAPPED_ADDRESS,
					 STUN_ATTR_OTHER_ADDRESS, STUN_ATTR_RESPONSE_ORIGIN};
	struct p2p_endpoint v6, v4 = ep(203, 0, 113, 7, 61000), got;
	uint8_t buf[256], txid[STUN_TXID_SIZE];
	struct stun_writer w;
	struct stun_msg m;

	assert_int_equal(p2p_endpoint_parse("[2001:db8::7]:4000", &v6), 0);
	memset(txid, 0x5a, sizeof(txid));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		bool xored = types[i] == STUN_ATTR_XOR_MAPPED_ADDRESS;
		for (int fam = 0; fam < 2; fam++) {
			const struct p2p_endpoint *e = fam ? &v6 : &v4;
			stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
					 STUN_CLASS_SUCCESS, txid);
			(xored ? stun_put_xor_address : stun_put_address)(&w, types[i], e);
			int n = stun_writer_finish(&w);
			assert_int_equal(n, 20 + 4 + (fam ? 20 : 8));
			assert_int_equal(buf[25], fam ? 0x02 : 0x01); /* the family byte */
			assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
			assert_int_equal(
			    (xored ? stun_get_xor_address : stun_get_address)(&m, types[i], &got),
			    STUN_OK);
			assert_true(p2p_endpoint_equal(&got, e));
		}
	}
}

/* A family byte and a length that disagree, or an unknown family, are
 * refused; so is the IPv6 XOR form where RFC 3489 had no transaction ID to
 * XOR with. */
static void test_address_attribute_bad_family(void **state)
{
	(void)state;
	uint8_t buf[128], txid16[16] = {0};
	struct stun_writer w;
	struct stun_msg m;
	struct p2p_endpoint got, v6;

	assert_int_equal(p2p_endpoint_parse("[::1]:9", &v6), 0);
	uint8_t wrong[20] = {0, 0x01, 0, 9}; /* IPv4 family, IPv6 length */
	uint8_t unknown[8] = {0, 0x03, 0, 9};
	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, txid16);
	stun_put_raw(&w, STUN_ATTR_MAPPED_ADDRESS, wrong, sizeof(wrong));
	stun_put_raw(&w, STUN_ATTR_OTHER_ADDRESS, unknown, sizeof(unknown));
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_int_equal(stun_get_address(&m, STUN_ATTR_MAPPED_ADDRESS, &got),
			 STUN_ERR_BAD_ATTRIBUTE);
	assert_int_equal(stun_get_address(&m, STUN_ATTR_OTHER_ADDRESS, &got),
			 STUN_ERR_BAD_ATTRIBUTE);
	stun_writer_init_classic(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS,
				 txid16);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &v6);
	assert_int_equal(stun_writer_finish(&w), STUN_ERR_BAD_ATTRIBUTE);
}

static void test_rfc5769_request(void **state)
{
	(void)state;
	struct stun_msg m;
	uint32_t prio;
	uint64_t tie;
	char user[32];

	assert_int_equal(stun_decode(RFC5769_REQ, sizeof(RFC5769_REQ), false, &m), STUN_OK);
	assert_int_equal(m.cls, STUN_CLASS_REQUEST);
	assert_int_equal(m.n_attrs, 6);
	assert_int_equal(stun_get_u32(&m, STUN_ATTR_PRIORITY, &prio), STUN_OK);
	assert_int_equal(prio, 0x6e0001ff);
	assert_int_equal(stun_get_u64(&m, STUN_ATTR_ICE_CONTROLLED, &tie), STUN_OK);
	assert_true(tie == 0x932ff9b151263b36ull);
	assert_int_equal(stun_get_string(&m, STUN_ATTR_USERNAME, user, sizeof(user)), STUN_OK);
	assert_string_equal(user, "evtj:h6vY");
}

/* ---- decode errors ---- */

/* A valid 28-byte Binding request with one 4-byte attribute, to corrupt. */
static size_t base_request(uint8_t *buf, size_t cap)
{
	struct stun_writer w;

	stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, 0);
	return (size_t)stun_writer_finish(&w);
}

static void test_decode_errors(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct stun_msg m;
	size_t n = base_request(buf, sizeof(buf));

	assert_int_equal(n, 28);
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_OK);
	/* TRUNCATED: shorter than the header; shorter than the length field. */
	assert_int_equal(stun_decode(buf, 19, false, &m), STUN_ERR_TRUNCATED);
	assert_int_equal(stun_decode(buf, 24, false, &m), STUN_ERR_TRUNCATED);
	assert_int_equal(stun_decode(NULL, 0, false, &m), STUN_ERR_TRUNCATED);
	/* NOT_STUN: top two bits. */
	buf[0] = 0x40;
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_ERR_NOT_STUN);
	buf[0] = 0x00;
	/* BAD_LENGTH: not a multiple of 4; trailing bytes; attribute overruns. */
	buf[3] = 6;
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_ERR_BAD_LENGTH);
	buf[3] = 8;
	assert_int_equal(stun_decode(buf, n + 4, false, &m), STUN_ERR_BAD_LENGTH);
	buf[23] = 8;
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_ERR_BAD_LENGTH);
	buf[23] = 5; /* 5 pads to 8: overruns too */
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_ERR_BAD_LENGTH);
	buf[23] = 4;
	/* BAD_COOKIE: no cookie, classic not allowed (but allowed: classic). */
	buf[4] ^= 0xFF;
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_ERR_BAD_COOKIE);
	assert_int_equal(stun_decode(buf, n, true, &m), STUN_OK);
	assert_true(m.classic);
	buf[4] ^= 0xFF;
	assert_int_equal(stun_decode(buf, n, false, &m), STUN_OK);
}

static void test_decode_too_many_attrs(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct stun_writer w;
	struct stun_msg m;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	for (int i = 0; i < STUN_MAX_ATTRS; i++)
		stun_put_raw(&w, STUN_ATTR_PADDING, NULL, 0);
	int n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_int_equal(m.n_attrs, STUN_MAX_ATTRS);
	stun_put_raw(&w, STUN_ATTR_PADDING, NULL, 0);
	n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_ERR_TOO_MANY_ATTRS);
}

static void test_decode_fingerprint_errors(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct stun_writer w;
	struct stun_msg m;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_string(&w, STUN_ATTR_SOFTWARE, "natsim");
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_true(m.has_fingerprint);
	/* Wrong CRC. */
	buf[n - 1] ^= 1;
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_ERR_BAD_FINGERPRINT);
	buf[n - 1] ^= 1;
	/* A covered byte changed. */
	buf[25] ^= 0x20;
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_ERR_BAD_FINGERPRINT);
	buf[25] ^= 0x20;
	/* FINGERPRINT not last. */
	stun_put_string(&w, STUN_ATTR_SOFTWARE, "x");
	n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_ERR_BAD_FINGERPRINT);
	/* BAD_ATTRIBUTE: a FINGERPRINT of the wrong size. */
	uint8_t eight[8] = {0};
	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_raw(&w, STUN_ATTR_FINGERPRINT, eight, sizeof(eight));
	n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_ERR_BAD_ATTRIBUTE);
}

static void test_error_strings(void **state)
{
	(void)state;
	for (int e = STUN_OK; e >= STUN_ERR_INTEGRITY; e--) {
		assert_non_null(stun_error_str(e));
		assert_true(strlen(stun_error_str(e)) > 5);
	}
	assert_string_equal(stun_error_str(-99), "unknown error");
}

/* ---- writer limits ---- */

static void test_writer_no_space(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct stun_writer w;
	struct p2p_endpoint e = ep(1, 2, 3, 4, 5);

	stun_writer_init(&w, buf, 19, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	assert_int_equal(stun_writer_finish(&w), STUN_ERR_NO_SPACE);
	stun_writer_init(&w, buf, 31, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_address(&w, STUN_ATTR_MAPPED_ADDRESS, &e); /* needs 32 */
	stun_put_u32(&w, STUN_ATTR_PRIORITY, 1);	    /* would fit, but sticky */
	assert_int_equal(stun_writer_finish(&w), STUN_ERR_NO_SPACE);
	assert_int_equal(w.len, 20);
	stun_writer_init(&w, buf, 32, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_address(&w, STUN_ATTR_MAPPED_ADDRESS, &e);
	assert_int_equal(stun_writer_finish(&w), 32);
	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_ERROR, TXID);
	stun_put_error(&w, 200, "not an error class");
	assert_int_equal(stun_writer_finish(&w), STUN_ERR_BAD_ATTRIBUTE);
}

/* ---- round trips ---- */

static void test_roundtrip_all_types(void **state)
{
	(void)state;
	static const uint16_t types[] = {
	    STUN_ATTR_MAPPED_ADDRESS,	STUN_ATTR_RESPONSE_ADDRESS,   STUN_ATTR_CHANGE_REQUEST,
	    STUN_ATTR_SOURCE_ADDRESS,	STUN_ATTR_CHANGED_ADDRESS,    STUN_ATTR_USERNAME,
	    STUN_ATTR_ERROR_CODE,	STUN_ATTR_UNKNOWN_ATTRIBUTES, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    STUN_ATTR_PRIORITY,		STUN_ATTR_USE_CANDIDATE,      STUN_ATTR_PADDING,
	    STUN_ATTR_RESPONSE_PORT,	STUN_ATTR_SOFTWARE,	      STUN_ATTR_ICE_CONTROLLED,
	    STUN_ATTR_ICE_CONTROLLING,	STUN_ATTR_RESPONSE_ORIGIN,    STUN_ATTR_OTHER_ADDRESS,
	    STUN_ATTR_NATSIM_NAME,	STUN_ATTR_NATSIM_SIGN_KEY,    STUN_ATTR_NATSIM_BOX_KEY,
	    STUN_ATTR_NATSIM_CANDIDATE, STUN_ATTR_NATSIM_TIMESTAMP,   STUN_ATTR_NATSIM_SIGNATURE,
	    STUN_ATTR_NATSIM_PAYLOAD,	STUN_ATTR_NATSIM_PEER,	      STUN_ATTR_NATSIM_SESSION,
	};
	size_t nt = sizeof(types) / sizeof(types[0]);
	uint8_t buf[1400], value[64];
	struct stun_writer w;
	struct stun_msg m;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_INTRODUCE, STUN_CLASS_INDICATION, TXID);
	for (size_t i = 0; i < nt; i++) {
		for (size_t j = 0; j < sizeof(value); j++)
			value[j] = (uint8_t)(i * 31 + j);
		stun_put_raw(&w, types[i], value, (uint16_t)(i % 40)); /* every padding case */
	}
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_int_equal(m.n_attrs, nt);
	for (size_t i = 0; i < nt; i++) {
		const struct stun_attr *a = stun_find(&m, types[i]);
		assert_non_null(a);
		assert_int_equal(a->len, i % 40);
		for (size_t j = 0; j < a->len; j++)
			assert_int_equal(a->value[j], (uint8_t)(i * 31 + j));
		assert_string_not_equal(stun_attr_name(types[i]), "UNKNOWN");
	}
}

static const struct p2p_endpoint TYPED_A = {.ip = 0xCB007107, .port = 61000}; /* 203.0.113.7 */
static const struct p2p_endpoint TYPED_B = {.ip = 0, .port = 0};
static const struct p2p_endpoint TYPED_C = {.ip = 0xFFFFFFFF, .port = 65535};

/* One message carrying every typed attribute the writer has. */
static void build_typed(uint8_t *buf, size_t cap, struct stun_msg *m)
{
	struct stun_writer w;
	uint16_t unknown[3] = {0x0031, 0x0032, 0x7FFF};

	stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_ERROR, TXID);
	stun_put_address(&w, STUN_ATTR_MAPPED_ADDRESS, &TYPED_A);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &TYPED_A);
	stun_put_address(&w, STUN_ATTR_OTHER_ADDRESS, &TYPED_B);
	stun_put_xor_address(&w, STUN_ATTR_NATSIM_CANDIDATE, &TYPED_C);
	stun_put_u32(&w, STUN_ATTR_PRIORITY, 0xDEADBEEF);
	stun_put_u64(&w, STUN_ATTR_NATSIM_TIMESTAMP, 0x0123456789ABCDEFull);
	stun_put_error(&w, 699, "x");
	stun_put_unknown(&w, unknown, 3);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, "alice");
	stun_put_string(&w, STUN_ATTR_SOFTWARE, "");
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	assert_int_equal(stun_decode(buf, (size_t)n, false, m), STUN_OK);
}

static void test_roundtrip_addresses(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct stun_msg m;
	struct p2p_endpoint got;

	build_typed(buf, sizeof(buf), &m);
	assert_int_equal(stun_get_address(&m, STUN_ATTR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &TYPED_A));
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &TYPED_A));
	assert_int_equal(stun_get_address(&m, STUN_ATTR_OTHER_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &TYPED_B));
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_NATSIM_CANDIDATE, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &TYPED_C));
	/* XOR really is applied: the plain getter sees something else. */
	assert_int_equal(stun_get_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_false(p2p_endpoint_equal(&got, &TYPED_A));
	assert_int_equal(stun_get_address(&m, STUN_ATTR_PRIORITY, &got), STUN_ERR_BAD_ATTRIBUTE);
	assert_int_equal(stun_get_address(&m, STUN_ATTR_CHANGED_ADDRESS, &got), STUN_ERR_NOT_FOUND);
}

static void test_roundtrip_values(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct stun_msg m;
	uint32_t u32;
	uint64_t u64;
	int code;
	const char *reason;
	size_t rlen;
	char s[4];

	build_typed(buf, sizeof(buf), &m);
	assert_int_equal(stun_get_u32(&m, STUN_ATTR_PRIORITY, &u32), STUN_OK);
	assert_int_equal(u32, 0xDEADBEEF);
	assert_int_equal(stun_get_u64(&m, STUN_ATTR_NATSIM_TIMESTAMP, &u64), STUN_OK);
	assert_true(u64 == 0x0123456789ABCDEFull);
	assert_int_equal(stun_get_u32(&m, STUN_ATTR_NATSIM_TIMESTAMP, &u32),
			 STUN_ERR_BAD_ATTRIBUTE);
	assert_int_equal(stun_get_u64(&m, STUN_ATTR_PRIORITY, &u64), STUN_ERR_BAD_ATTRIBUTE);
	assert_int_equal(stun_get_u32(&m, STUN_ATTR_USE_CANDIDATE, &u32), STUN_ERR_NOT_FOUND);
	assert_int_equal(stun_get_error(&m, &code, &reason, &rlen), STUN_OK);
	assert_int_equal(code, 699);
	assert_int_equal(rlen, 1);
	assert_memory_equal(reason, "x", 1);
	const struct stun_attr *ua = stun_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES);
	assert_non_null(ua);
	assert_int_equal(ua->len, 6);
	assert_int_equal((ua->value[4] << 8) | ua->value[5], 0x7FFF);
	assert_int_equal(stun_get_string(&m, STUN_ATTR_NATSIM_NAME, s, sizeof(s)), STUN_OK);
	assert_string_equal(s, "ali"); /* truncated to size-1 */
	assert_int_equal(stun_get_string(&m, STUN_ATTR_SOFTWARE, s, sizeof(s)), STUN_OK);
	assert_string_equal(s, "");
	assert_int_equal(stun_get_string(&m, STUN_ATTR_USERNAME, s, sizeof(s)), STUN_ERR_NOT_FOUND);
}

static void test_bad_error_code_attribute(void **state)
{
	(void)state;
	uint8_t buf[64], v[4] = {0, 0, 2, 0}; /* class 2 is not an error */
	struct stun_writer w;
	struct stun_msg m;
	int code;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_ERROR, TXID);
	stun_put_raw(&w, STUN_ATTR_ERROR_CODE, v, 4);
	int n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_int_equal(stun_get_error(&m, &code, NULL, NULL), STUN_ERR_BAD_ATTRIBUTE);
	assert_int_equal(stun_get_error(&(struct stun_msg){0}, &code, NULL, NULL),
			 STUN_ERR_NOT_FOUND);
}

/* ---- classic ---- */

static void test_classic_decode(void **state)
{
	(void)state;
	static const uint8_t txid16[16] = {0xa0, 0xa1, 0xa2, 0xa3, 4,  5,  6,  7,
					   8,	 9,    10,   11,   12, 13, 14, 15};
	uint8_t buf[64];
	struct stun_writer w;
	struct stun_msg m;
	struct p2p_endpoint a = ep(198, 51, 100, 9, 3478), got;

	stun_writer_init_classic(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS,
				 txid16);
	assert_true(w.classic);
	stun_put_address(&w, STUN_ATTR_MAPPED_ADDRESS, &a);
	stun_put_address(&w, STUN_ATTR_CHANGED_ADDRESS, &a);
	int n = stun_writer_finish(&w);
	assert_int_equal(n, 44);
	assert_false(stun_is_message(buf, (size_t)n)); /* no cookie */
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_ERR_BAD_COOKIE);
	assert_int_equal(stun_decode(buf, (size_t)n, true, &m), STUN_OK);
	assert_true(m.classic);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
	assert_memory_equal(m.classic_txid_head, txid16, 4);
	assert_memory_equal(m.txid, txid16 + 4, 12);
	assert_int_equal(stun_get_address(&m, STUN_ATTR_CHANGED_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &a));
}

/* ---- integrity ---- */

static const uint8_t KEY[] = "a key of some length, not 32 bytes";

static int build_signed(uint8_t *buf, size_t cap, bool fingerprint)
{
	struct stun_writer w;

	stun_writer_init(&w, buf, cap, STUN_METHOD_REGISTER, STUN_CLASS_REQUEST, TXID);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, "alice");
	stun_put_u64(&w, STUN_ATTR_NATSIM_TIMESTAMP, 42);
	stun_put_integrity_sha256(&w, KEY, sizeof(KEY) - 1);
	if (fingerprint)
		stun_put_fingerprint(&w);
	return stun_writer_finish(&w);
}

static void test_integrity_verify(void **state)
{
	(void)state;
	uint8_t buf[256], copy[256], mac[32];
	struct stun_msg m;
	int n = build_signed(buf, sizeof(buf), true);

	assert_true(n > 0);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_int_equal(stun_check_integrity_sha256(&m, buf, (size_t)n, KEY, sizeof(KEY) - 1),
			 STUN_OK);
	assert_int_equal(stun_check_integrity_sha256(&m, buf, (size_t)n, KEY, sizeof(KEY) - 2),
			 STUN_ERR_INTEGRITY);
	/* Independent check of RFC 8489 14.6: HMAC over the message up to MI with the
	 * length field covering MI but not the FINGERPRINT after it. */
	const struct stun_attr *mi = stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
	assert_non_null(mi);
	assert_int_equal(mi->len, 32);
	memcpy(copy, buf, mi->offset);
	size_t covered = mi->offset + 36 - 20;
	copy[2] = (uint8_t)(covered >> 8);
	copy[3] = (uint8_t)covered;
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, KEY, sizeof(KEY) - 1);
	crypto_auth_hmacsha256_update(&st, copy, mi->offset);
	crypto_auth_hmacsha256_final(&st, mac);
	assert_memory_equal(mac, mi->value, 32);
}

static void test_integrity_tamper(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct stun_msg m;
	int n = build_signed(buf, sizeof(buf), false);

	for (int i = 0; i < n; i++) {
		if (i == 2 || i == 3)
			continue; /* the length field: tampering it fails decoding instead */
		buf[i] ^= 0x01;
		int err = stun_decode(buf, (size_t)n, true, &m);
		if (err == STUN_OK)
			err = stun_check_integrity_sha256(&m, buf, (size_t)n, KEY, sizeof(KEY) - 1);
		assert_int_not_equal(err, STUN_OK);
		buf[i] ^= 0x01;
	}
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_int_equal(stun_check_integrity_sha256(&m, buf, (size_t)n, KEY, sizeof(KEY) - 1),
			 STUN_OK);
	struct stun_msg none = {0};
	assert_int_equal(stun_check_integrity_sha256(&none, buf, (size_t)n, KEY, 1),
			 STUN_ERR_NOT_FOUND);
}

/* RFC 8489 14.6: attributes after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT are ignored. */
static void test_attributes_after_integrity_ignored(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct stun_writer w;
	struct stun_msg m;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	stun_put_integrity_sha256(&w, KEY, 4);
	stun_put_string(&w, STUN_ATTR_SOFTWARE, "smuggled");
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	assert_int_equal(stun_decode(buf, (size_t)n, false, &m), STUN_OK);
	assert_null(stun_find(&m, STUN_ATTR_SOFTWARE));
	assert_non_null(stun_find(&m, STUN_ATTR_FINGERPRINT));
	assert_int_equal(m.n_attrs, 2);
}

/* ---- names, summary, endpoints ---- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(stun_method_name(STUN_METHOD_BINDING), "Binding");
	assert_string_equal(stun_method_name(STUN_METHOD_REGISTER), "Register");
	assert_string_equal(stun_method_name(STUN_METHOD_CONNECT), "Connect");
	assert_string_equal(stun_method_name(STUN_METHOD_INTRODUCE), "Introduce");
	assert_string_equal(stun_method_name(STUN_METHOD_RELAY), "Relay");
	assert_string_equal(stun_method_name(STUN_METHOD_DATA), "Data");
	assert_string_equal(stun_class_name(STUN_CLASS_SUCCESS), "Success");
	assert_string_equal(stun_class_name(STUN_CLASS_ERROR), "Error");
	assert_string_equal(stun_attr_name(STUN_ATTR_XOR_MAPPED_ADDRESS), "XOR-MAPPED-ADDRESS");
	assert_string_equal(stun_attr_name(0x1234), "UNKNOWN");
}

static void test_summary(void **state)
{
	(void)state;
	uint8_t buf[128];
	char out[160];
	struct stun_writer w;
	struct p2p_endpoint a = ep(203, 0, 113, 7, 61000);
	static const uint8_t tx[STUN_TXID_SIZE] = {0x1a, 0x2b, 0x3c, 0x4d};

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, tx);
	stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	int n = stun_writer_finish(&w);
	int r = stun_summary(buf, (size_t)n, out, sizeof(out));
	assert_string_equal(out, "STUN Binding Request tx=1a2b3c4d change=ip+port");
	assert_int_equal(r, (int)strlen(out));

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, tx);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
	n = stun_writer_finish(&w);
	stun_summary(buf, (size_t)n, out, sizeof(out));
	assert_string_equal(out, "STUN Binding Success tx=1a2b3c4d xor-mapped=203.0.113.7:61000");

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_CONNECT, STUN_CLASS_ERROR, tx);
	stun_put_error(&w, 404, "No such peer");
	n = stun_writer_finish(&w);
	stun_summary(buf, (size_t)n, out, sizeof(out));
	assert_string_equal(out, "STUN Connect Error tx=1a2b3c4d error=404 No such peer");

	/* Truncated output: still NUL-terminated, returns what was written. */
	r = stun_summary(buf, (size_t)n, out, 10);
	assert_int_equal(r, 9);
	assert_string_equal(out, "STUN Conn");
	assert_true(stun_summary(buf, 5, out, sizeof(out)) < 0);
	assert_true(stun_summary(buf, (size_t)n, out, 0) < 0);
}

static void test_endpoint_text(void **state)
{
	(void)state;
	static const char *const bad[] = {"",
					  "1.2.3.4",
					  "1.2.3:5",
					  "1.2.3.4:",
					  "256.1.1.1:1",
					  "1.2.3.4:65536",
					  "1.2.3.4:5x",
					  "a.b.c.d:1",
					  "1..3.4:5",
					  " 1.2.3.4:5",
					  "1.2.3.4:123456",
					  "0001.2.3.4:5",
					  "192.168.001.005:1",
					  "1.2.3.04:5",
					  "1.2.3.4:05"};
	struct p2p_endpoint e;
	char s[P2P_ENDPOINT_STRLEN];

	assert_int_equal(p2p_endpoint_parse("203.0.113.7:61000", &e), 0);
	assert_true(
	    p2p_endpoint_equal(&e, &(struct p2p_endpoint){.ip = 0xCB007107, .port = 61000}));
	assert_string_equal(p2p_endpoint_format(&e, s, sizeof(s)), "203.0.113.7:61000");
	e = (struct p2p_endpoint){.ip = 0xFFFFFFFF, .port = 65535};
	assert_string_equal(p2p_endpoint_format(&e, s, sizeof(s)), "255.255.255.255:65535");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(p2p_endpoint_parse(bad[i], &e), -1);
}

/* IPv6 endpoints read in any RFC 4291 2.2 form and written in RFC 5952's:
 * the longest zero run (the first of equals) as "::", never one group,
 * lower case, no leading zeros, brackets before the port. */
static void test_endpoint_text6(void **state)
{
	(void)state;
	static const char *const rows[][2] = {
	    {"[2001:db8::1]:3478", "[2001:db8::1]:3478"},
	    {"[2001:0DB8:0000:0000:0000:0000:0000:0001]:1", "[2001:db8::1]:1"},
	    {"[::]:0", "[::]:0"},
	    {"[::1]:5", "[::1]:5"},
	    {"[1::]:5", "[1::]:5"},
	    {"[2001:db8:0:1:1:1:1:1]:5", "[2001:db8:0:1:1:1:1:1]:5"}, /* 4.2.2: one 0 stays */
	    {"[2001:0:0:1:0:0:0:1]:5", "[2001:0:0:1::1]:5"},	      /* 4.2.3: the longest */
	    {"[2001:db8:0:0:1:0:0:1]:5", "[2001:db8::1:0:0:1]:5"},    /* 4.2.3: the first */
	    {"[::ffff:c000:201]:5", "[::ffff:192.0.2.1]:5"},	      /* section 5 */
	    {"[1:2:3:4:5:6:7:8]:65535", "[1:2:3:4:5:6:7:8]:65535"},
	};
	static const char *const bad[] = {"[2001:db8::1]",
					  "2001:db8::1:5",
					  "[2001:db8::1::2]:5",
					  "[:::]:5",
					  "[1:2:3:4:5:6:7:8:9]:5",
					  "[1:2:3:4:5:6:7]:5",
					  "[12345::]:5",
					  "[fe80::1%eth0]:5",
					  "[1:]:5",
					  "[:1]:5",
					  "[1.2.3.4::]:5",
					  "[::1]:",
					  "[::1]5",
					  "[::g]:5",
					  "[1::2:3:4:5:6:7:8]:5"};
	struct p2p_endpoint e;
	char s[P2P_ENDPOINT_STRLEN];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(p2p_endpoint_parse(rows[i][0], &e), 0);
		assert_int_equal(e.family, P2P_FAMILY_IPV6);
		assert_string_equal(p2p_endpoint_format(&e, s, sizeof(s)), rows[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(p2p_endpoint_parse(bad[i], &e), -1);
	/* The longest text fills the buffer exactly. */
	assert_int_equal(p2p_endpoint_parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", &e),
			 0);
	assert_int_equal(strlen(p2p_endpoint_format(&e, s, sizeof(s))) + 1, P2P_ENDPOINT_STRLEN);
}

/* The formatter agrees with the C library's inet_ntop, and the parser with
 * inet_pton, on addresses with zero runs of every length and place (glibc
 * writes ::a.b.c.d forms for addresses starting with 80 zero bits, which
 * p2p never writes: those are left out). */
static void test_endpoint_text6_libc(void **state)
{
	(void)state;
	char mine[P2P_ENDPOINT_STRLEN], libc[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
	struct p2p_endpoint e = {.family = P2P_FAMILY_IPV6}, back;

	for (unsigned pattern = 0; pattern < 256; pattern++) {
		for (int g = 0; g < 8; g++) {
			e.ip6[2 * g] = pattern >> g & 1 ? (uint8_t)(g * 16) : 0;
			e.ip6[2 * g + 1] = pattern >> g & 1 ? (uint8_t)(g + 1) : 0;
		}
		if ((pattern & 0x1f) == 0)
			continue;
		assert_non_null(inet_ntop(AF_INET6, e.ip6, libc, sizeof(libc)));
		assert_string_equal(p2p_addr_format(&e, mine, sizeof(mine)), libc);
		snprintf(text, sizeof(text), "[%s]:1", libc);
		assert_int_equal(p2p_endpoint_parse(text, &back), 0);
		assert_memory_equal(back.ip6, e.ip6, 16);
	}
}

/* ---- randomized robustness (bounded, fixed seed) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Runs everything that reads a message; returns how many decodes succeeded. */
static int exercise(const uint8_t *buf, size_t len)
{
	int decoded = 0;
	struct stun_msg m;
	char out[96];
	struct p2p_endpoint e;
	uint32_t u32;
	uint64_t u64;
	int code;
	const char *reason;
	size_t rlen;

	(void)stun_is_message(buf, len);
	(void)stun_summary(buf, len, out, sizeof(out));
	for (int classic = 0; classic < 2; classic++) {
		if (stun_decode(buf, len, classic, &m) != STUN_OK)
			continue;
		decoded++;
		assert_true(m.n_attrs <= STUN_MAX_ATTRS);
		for (size_t i = 0; i < m.n_attrs; i++) {
			const struct stun_attr *a = &m.attrs[i];
			assert_true(a->value >= buf && a->value + a->len <= buf + len);
			(void)stun_get_address(&m, a->type, &e);
			(void)stun_get_xor_address(&m, a->type, &e);
			(void)stun_get_u32(&m, a->type, &u32);
			(void)stun_get_u64(&m, a->type, &u64);
			(void)stun_get_string(&m, a->type, out, sizeof(out));
		}
		(void)stun_get_error(&m, &code, &reason, &rlen);
		(void)stun_check_integrity_sha256(&m, buf, len, KEY, 8);
	}
	return decoded;
}

/* Makes a trailing FINGERPRINT right again, so mutations reach the attribute getters. */
static void refresh_fingerprint(uint8_t *buf, size_t len)
{
	if (len < 28 || buf[len - 8] != 0x80 || buf[len - 7] != 0x28)
		return;
	uint32_t crc = libdeflate_crc32(0, buf, len - 8) ^ STUN_FINGERPRINT_XOR;
	for (int i = 0; i < 4; i++)
		buf[len - 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

static size_t seed_message(uint8_t *buf, size_t cap, unsigned which)
{
	switch (which % 4) {
	case 0:
		memcpy(buf, RFC5769_V4, sizeof(RFC5769_V4));
		return sizeof(RFC5769_V4);
	case 1:
		memcpy(buf, RFC5769_REQ, sizeof(RFC5769_REQ));
		return sizeof(RFC5769_REQ);
	case 2:
		return (size_t)build_signed(buf, cap, true);
	default: {
		struct stun_writer w;
		uint16_t u[2] = {0x0033, 0x0044};
		stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_ERROR, TXID);
		stun_put_error(&w, 420, "Unknown Attribute");
		stun_put_unknown(&w, u, 2);
		stun_put_address(&w, STUN_ATTR_OTHER_ADDRESS,
				 &(struct p2p_endpoint){.ip = 1, .port = 2});
		return (size_t)stun_writer_finish(&w);
	}
	}
}

static void test_random_robustness(void **state)
{
	(void)state;
	uint8_t buf[256];
	const int rounds = 200000;
	int decoded = 0;

	for (int i = 0; i < rounds; i++) {
		size_t len;
		if (i % 2 == 0) {
			/* Random bytes, often with a plausible header so decoding goes deep. */
			len = rnd() % 140;
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)rnd();
			if (len >= 20 && (i % 4) == 0) {
				buf[0] &= 0x3F;
				buf[2] = 0;
				buf[3] = (uint8_t)((len - 20) & ~3u);
				buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
				len = 20 + buf[3];
			}
		} else {
			/* A valid message with 1 to 4 bytes mutated, maybe resized. */
			len = seed_message(buf, sizeof(buf), rnd());
			for (unsigned k = 1 + rnd() % 4; k > 0; k--)
				buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			if (rnd() % 2 == 0)
				refresh_fingerprint(buf, len);
			if (rnd() % 8 == 0)
				len = rnd() % (len + 1);
		}
		decoded += exercise(buf, len);
	}
	/* The run is only worth something if many inputs decode and reach the getters. */
	assert_true(decoded > rounds / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_binding_request_change),
	    cmocka_unit_test(test_golden_xor_mapped_fingerprint),
	    cmocka_unit_test(test_golden_error_420),
	    cmocka_unit_test(test_golden_classic_request),
	    cmocka_unit_test(test_golden_message_types),
	    cmocka_unit_test(test_rfc5769_ipv4_response),
	    cmocka_unit_test(test_rfc5769_ipv6_response),
	    cmocka_unit_test(test_address_attributes_both_families),
	    cmocka_unit_test(test_address_attribute_bad_family),
	    cmocka_unit_test(test_rfc5769_request),
	    cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_decode_too_many_attrs),
	    cmocka_unit_test(test_decode_fingerprint_errors),
	    cmocka_unit_test(test_error_strings),
	    cmocka_unit_test(test_writer_no_space),
	    cmocka_unit_test(test_roundtrip_all_types),
	    cmocka_unit_test(test_roundtrip_addresses),
	    cmocka_unit_test(test_roundtrip_values),
	    cmocka_unit_test(test_bad_error_code_attribute),
	    cmocka_unit_test(test_classic_decode),
	    cmocka_unit_test(test_integrity_verify),
	    cmocka_unit_test(test_integrity_tamper),
	    cmocka_unit_test(test_attributes_after_integrity_ignored),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_endpoint_text),
	    cmocka_unit_test(test_endpoint_text6),
	    cmocka_unit_test(test_endpoint_text6_libc),
	    cmocka_unit_test(test_random_robustness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
