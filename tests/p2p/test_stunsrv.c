/*
 * test_stunsrv.c - the stateless Binding server: source selection by
 * CHANGE-REQUEST, RESPONSE-PORT, classic answers, the bounded-amplification
 * rule (every well-formed request answered, at most STUNSRV_MAX_RATIO times its
 * size), 420 answers and what is not ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "p2p/stunsrv.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static const struct p2p_endpoint PRIMARY = {.ip = IP(192, 0, 2, 1), .port = 3478};
static const struct p2p_endpoint ALT = {.ip = IP(192, 0, 2, 2), .port = 3479};
static const struct p2p_endpoint CLIENT = {.ip = IP(203, 0, 113, 7), .port = 61000};
static const uint8_t TXID[STUN_TXID_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static struct stunsrv_config config(bool alternate, bool rfc3489_attrs)
{
	return (struct stunsrv_config){
	    .primary = PRIMARY,
	    .has_alternate = alternate,
	    .alternate = ALT,
	    .rfc3489_attrs = rfc3489_attrs,
	    .software = "natsim test",
	};
}

/* A Binding request padded (PADDING) to exactly `size` bytes when size allows. */
struct request {
	uint32_t change;
	bool has_change;
	uint16_t response_port;
	uint16_t extra_attr; /* 0: none */
	size_t size;
};

static size_t build(const struct request *r, uint8_t *buf, size_t cap)
{
	struct stun_writer w;
	static const uint8_t zeros[2048]; /* PADDING up to 1600 bytes */

	stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, TXID);
	if (r->has_change)
		stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, r->change);
	if (r->response_port != 0)
		stun_put_u32(&w, STUN_ATTR_RESPONSE_PORT, (uint32_t)r->response_port << 16);
	if (r->extra_attr != 0)
		stun_put_raw(&w, r->extra_attr, zeros, 4);
	if (r->size >= w.len + 4)
		stun_put_raw(&w, STUN_ATTR_PADDING, zeros, (uint16_t)(r->size - w.len - 4));
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	return (size_t)n;
}

static void decode_answer(const struct p2p_datagram *out, bool classic, struct stun_msg *m)
{
	assert_int_equal(stun_decode(out->buf, out->len, classic, m), STUN_OK);
	assert_int_equal(m->method, STUN_METHOD_BINDING);
}

static void test_change_request_selects_source(void **state)
{
	(void)state;
	static const struct {
		struct p2p_endpoint local;
		uint32_t change;
		struct p2p_endpoint want_from;
		struct p2p_endpoint want_other;
	} rows[] = {
	    {{.ip = IP(192, 0, 2, 1), .port = 3478},
	     0,
	     {.ip = IP(192, 0, 2, 1), .port = 3478},
	     {.ip = IP(192, 0, 2, 2), .port = 3479}},
	    {{.ip = IP(192, 0, 2, 1), .port = 3478},
	     STUN_CHANGE_IP,
	     {.ip = IP(192, 0, 2, 2), .port = 3478},
	     {.ip = IP(192, 0, 2, 2), .port = 3479}},
	    {{.ip = IP(192, 0, 2, 1), .port = 3478},
	     STUN_CHANGE_PORT,
	     {.ip = IP(192, 0, 2, 1), .port = 3479},
	     {.ip = IP(192, 0, 2, 2), .port = 3479}},
	    {{.ip = IP(192, 0, 2, 1), .port = 3478},
	     STUN_CHANGE_IP | STUN_CHANGE_PORT,
	     {.ip = IP(192, 0, 2, 2), .port = 3479},
	     {.ip = IP(192, 0, 2, 2), .port = 3479}},
	    {{.ip = IP(192, 0, 2, 2), .port = 3478},
	     STUN_CHANGE_IP,
	     {.ip = IP(192, 0, 2, 1), .port = 3478},
	     {.ip = IP(192, 0, 2, 1), .port = 3479}},
	    {{.ip = IP(192, 0, 2, 2), .port = 3479},
	     STUN_CHANGE_PORT,
	     {.ip = IP(192, 0, 2, 2), .port = 3478},
	     {.ip = IP(192, 0, 2, 1), .port = 3478}},
	    {{.ip = IP(192, 0, 2, 1), .port = 3479},
	     STUN_CHANGE_IP | STUN_CHANGE_PORT,
	     {.ip = IP(192, 0, 2, 2), .port = 3478},
	     {.ip = IP(192, 0, 2, 2), .port = 3478}},
	};
	struct stunsrv_config cfg = config(true, false);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t req[256];
		struct request r = {.change = rows[i].change, .has_change = true, .size = 100};
		size_t n = build(&r, req, sizeof(req));
		struct p2p_datagram out;
		struct stun_msg m;
		struct p2p_endpoint got;

		assert_int_equal(stunsrv_answer(&cfg, &rows[i].local, &CLIENT, req, n, &out),
				 STUNSRV_ANSWERED);
		assert_true(p2p_endpoint_equal(&out.from, &rows[i].want_from));
		assert_true(p2p_endpoint_equal(&out.to, &CLIENT));
		assert_true(out.len <= n);
		decode_answer(&out, false, &m);
		assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
		assert_memory_equal(m.txid, TXID, STUN_TXID_SIZE);
		assert_true(m.has_fingerprint);
		assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &got),
				 STUN_OK);
		assert_true(p2p_endpoint_equal(&got, &CLIENT));
		assert_int_equal(stun_get_address(&m, STUN_ATTR_RESPONSE_ORIGIN, &got), STUN_OK);
		assert_true(p2p_endpoint_equal(&got, &rows[i].want_from));
		assert_int_equal(stun_get_address(&m, STUN_ATTR_OTHER_ADDRESS, &got), STUN_OK);
		assert_true(p2p_endpoint_equal(&got, &rows[i].want_other));
		assert_null(stun_find(&m, STUN_ATTR_MAPPED_ADDRESS));
	}
}

static void test_response_port(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(true, false);
	uint8_t req[256];
	struct request r = {.response_port = 5555, .size = 100};
	size_t n = build(&r, req, sizeof(req));
	struct p2p_datagram out;

	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_int_equal(out.to.ip, CLIENT.ip);
	assert_int_equal(out.to.port, 5555);
	assert_true(p2p_endpoint_equal(&out.from, &PRIMARY));
}

static size_t classic_request(uint8_t *buf, size_t cap, uint32_t change)
{
	static const uint8_t txid16[16] = {0xaa, 0xbb, 0xcc, 0xdd, 1, 2,  3,  4,
					   5,	 6,    7,    8,	   9, 10, 11, 12};
	struct stun_writer w;

	stun_writer_init_classic(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, txid16);
	stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, change);
	return (size_t)stun_writer_finish(&w);
}

static void test_classic_answer(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(true, true);
	uint8_t req[64];
	size_t n = classic_request(req, sizeof(req), STUN_CHANGE_PORT);
	struct p2p_datagram out;
	struct stun_msg m;
	struct p2p_endpoint got;
	const struct p2p_endpoint want_from = {.ip = PRIMARY.ip, .port = ALT.port};

	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_true(p2p_endpoint_equal(&out.from, &want_from));
	decode_answer(&out, true, &m);
	assert_true(m.classic);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
	assert_memory_equal(m.classic_txid_head, req + 4, 4);
	assert_memory_equal(m.txid, req + 8, 12);
	/* RFC 3489 11.2.1 attributes, not RFC 8489's. */
	assert_int_equal(stun_get_address(&m, STUN_ATTR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &CLIENT));
	assert_int_equal(stun_get_address(&m, STUN_ATTR_SOURCE_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &want_from));
	assert_int_equal(stun_get_address(&m, STUN_ATTR_CHANGED_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &ALT));
	assert_null(stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS));
	assert_null(stun_find(&m, STUN_ATTR_FINGERPRINT));
	assert_non_null(stun_find(&m, STUN_ATTR_SOFTWARE));
	/* Without --classic too: the 28-byte request of Debian's `stun` client
	 * gets its full 72-byte answer (the ratio allows 112). */
	cfg = config(true, false);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	decode_answer(&out, true, &m);
	assert_int_equal(stun_get_address(&m, STUN_ATTR_CHANGED_ADDRESS, &got), STUN_OK);
	assert_true(out.len <= STUNSRV_MAX_RATIO * n);
}

static void test_bounded_amplification(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(true, false);

	for (size_t size = 20; size <= 1600; size++) {
		uint8_t req[1700];
		struct request r = {.size = size - size % 4};
		size_t n = build(&r, req, sizeof(req));
		struct p2p_datagram out;

		if (size % 4 != 0)
			req[n++] = 0; /* not a multiple of 4: not STUN over UDP */
		enum stunsrv_result res = stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out);
		assert_int_equal(n, size - size % 4 + (size % 4 != 0));
		if (size % 4 != 0) {
			assert_int_equal(res, STUNSRV_IGNORED);
			continue;
		}
		/* Every well-formed request is answered, in full (80 bytes: XOR-MAPPED,
		 * OTHER, ORIGIN 12 each, SOFTWARE 16, FINGERPRINT 8), within the ratio;
		 * a request larger than an MTU (PADDING, RFC 5780 7.6) too. */
		assert_int_equal(res, STUNSRV_ANSWERED);
		assert_true(out.len <= STUNSRV_MAX_RATIO * n);
		assert_int_equal(out.len, 80);
		struct stun_msg m;
		decode_answer(&out, false, &m);
		assert_non_null(stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS));
		assert_true(m.has_fingerprint);
	}
	/* A bare 20-byte request (turnutils_stunclient) is the worst case: 4x. */
	uint8_t req[64];
	struct request r = {.size = 0};
	size_t n = build(&r, req, sizeof(req));
	struct p2p_datagram out;
	struct stun_msg m;
	assert_int_equal(n, 20);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_int_equal(out.len, STUNSRV_MAX_RATIO * n);
	/* With RFC 3489 attributes as well the same request would need 116 bytes:
	 * priority keeps XOR-MAPPED, OTHER, ORIGIN, then MAPPED and CHANGED. */
	cfg = config(true, true);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_int_equal(out.len, 80);
	decode_answer(&out, false, &m);
	assert_int_equal(m.n_attrs, 5);
	assert_non_null(stun_find(&m, STUN_ATTR_MAPPED_ADDRESS));
	assert_non_null(stun_find(&m, STUN_ATTR_CHANGED_ADDRESS));
	assert_null(stun_find(&m, STUN_ATTR_SOURCE_ADDRESS));
	/* A larger request gets all of them. */
	r.size = 40;
	n = build(&r, req, sizeof(req));
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	decode_answer(&out, false, &m);
	assert_non_null(stun_find(&m, STUN_ATTR_SOURCE_ADDRESS));
	assert_non_null(stun_find(&m, STUN_ATTR_SOFTWARE));
	assert_true(m.has_fingerprint);
}

static void test_unknown_attribute_420(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(true, false);
	uint8_t req[256];
	struct request r = {.extra_attr = 0x0033, .size = 100};
	size_t n = build(&r, req, sizeof(req));
	struct p2p_datagram out;
	struct stun_msg m;
	int code;

	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_true(out.len <= n);
	decode_answer(&out, false, &m);
	assert_int_equal(m.cls, STUN_CLASS_ERROR);
	assert_int_equal(stun_get_error(&m, &code, NULL, NULL), STUN_OK);
	assert_int_equal(code, 420);
	const struct stun_attr *u = stun_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES);
	assert_non_null(u);
	assert_int_equal(u->len, 2);
	assert_int_equal((u->value[0] << 8) | u->value[1], 0x0033);
	/* The smallest such request (28 bytes) still gets the whole 420. */
	r.size = 0;
	n = build(&r, req, sizeof(req));
	assert_int_equal(n, 28);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_true(out.len <= STUNSRV_MAX_RATIO * n);
	decode_answer(&out, false, &m);
	assert_int_equal(stun_get_error(&m, &code, NULL, NULL), STUN_OK);
	assert_int_equal(code, 420);
	/* Comprehension-optional unknowns are ignored (RFC 8489 6.3.1.1). */
	r = (struct request){.extra_attr = 0xC0FF, .size = 100};
	n = build(&r, req, sizeof(req));
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	decode_answer(&out, false, &m);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
}

static void test_no_alternate(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(false, false);
	uint8_t req[256];
	struct request r = {.has_change = true, .change = STUN_CHANGE_IP, .size = 100};
	size_t n = build(&r, req, sizeof(req));
	struct p2p_datagram out;
	struct stun_msg m;
	int code;

	/* RFC 5780 6.1: change requested, no alternate address: 420 naming CHANGE-REQUEST. */
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	decode_answer(&out, false, &m);
	assert_int_equal(stun_get_error(&m, &code, NULL, NULL), STUN_OK);
	assert_int_equal(code, 420);
	const struct stun_attr *u = stun_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES);
	assert_non_null(u);
	assert_int_equal((u->value[0] << 8) | u->value[1], STUN_ATTR_CHANGE_REQUEST);
	/* No change asked: a normal answer, without OTHER-ADDRESS. */
	r.change = 0;
	n = build(&r, req, sizeof(req));
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, req, n, &out), STUNSRV_ANSWERED);
	assert_true(p2p_endpoint_equal(&out.from, &PRIMARY));
	decode_answer(&out, false, &m);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
	assert_null(stun_find(&m, STUN_ATTR_OTHER_ADDRESS));
	assert_non_null(stun_find(&m, STUN_ATTR_RESPONSE_ORIGIN));
}

static void test_not_ours(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(true, true);
	uint8_t buf[64];
	struct stun_writer w;
	struct p2p_datagram out;

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_REGISTER, STUN_CLASS_REQUEST, TXID);
	int n = stun_writer_finish(&w);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, buf, (size_t)n, &out),
			 STUNSRV_NOT_BINDING);
	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, TXID);
	n = stun_writer_finish(&w);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, buf, (size_t)n, &out),
			 STUNSRV_NOT_BINDING);
	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_INDICATION, TXID);
	n = stun_writer_finish(&w);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, buf, (size_t)n, &out),
			 STUNSRV_NOT_BINDING);
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, buf, sizeof(buf), &out),
			 STUNSRV_IGNORED);
	assert_int_equal(stunsrv_answer(&cfg, &PRIMARY, &CLIENT, buf, 3, &out), STUNSRV_IGNORED);
}

/* A Binding on an IPv6 local endpoint of a server whose alternate is IPv4:
 * answered in IPv6 (XOR-MAPPED-ADDRESS and RESPONSE-ORIGIN of family 0x02)
 * without OTHER-ADDRESS, as a server without an alternate answers, and so
 * a CHANGE-REQUEST there is an unknown attribute (420, RFC 5780 6.1). */
static void test_ipv6_local_has_no_alternate(void **state)
{
	(void)state;
	struct stunsrv_config cfg = config(true, false);
	struct p2p_endpoint local6, client6, got;
	struct p2p_datagram out;
	struct stun_msg m;
	uint8_t buf[256];

	assert_int_equal(p2p_endpoint_parse("[2001:db8:ff::1]:3478", &local6), 0);
	assert_int_equal(p2p_endpoint_parse("[2001:db8:1::5]:61000", &client6), 0);
	size_t n = build(&(struct request){.size = 200}, buf, sizeof(buf));
	assert_int_equal(stunsrv_answer(&cfg, &local6, &client6, buf, n, &out), STUNSRV_ANSWERED);
	assert_true(p2p_endpoint_equal(&out.from, &local6));
	assert_true(p2p_endpoint_equal(&out.to, &client6));
	assert_int_equal(stun_decode(out.buf, out.len, false, &m), STUN_OK);
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &client6));
	assert_int_equal(stun_get_address(&m, STUN_ATTR_RESPONSE_ORIGIN, &got), STUN_OK);
	assert_true(p2p_endpoint_equal(&got, &local6));
	assert_null(stun_find(&m, STUN_ATTR_OTHER_ADDRESS));
	n = build(&(struct request){.has_change = true, .change = STUN_CHANGE_IP, .size = 200}, buf,
		  sizeof(buf));
	assert_int_equal(stunsrv_answer(&cfg, &local6, &client6, buf, n, &out), STUNSRV_ANSWERED);
	assert_int_equal(stun_decode(out.buf, out.len, false, &m), STUN_OK);
	assert_int_equal(m.cls, STUN_CLASS_ERROR);
	assert_true(p2p_endpoint_equal(&out.from, &local6)); /* never moved to IPv4 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_change_request_selects_source),
	    cmocka_unit_test(test_response_port),
	    cmocka_unit_test(test_classic_answer),
	    cmocka_unit_test(test_bounded_amplification),
	    cmocka_unit_test(test_unknown_attribute_420),
	    cmocka_unit_test(test_no_alternate),
	    cmocka_unit_test(test_not_ours),
	    cmocka_unit_test(test_ipv6_local_has_no_alternate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
