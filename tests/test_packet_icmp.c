/*
 * test_packet_icmp.c - ICMP bytes: echo and error builders checked against
 * the parser and against sums recomputed from scratch, the parser's ICMP
 * refusals, the rewrites a NAT makes (the echo id as a port, RFC 5508's
 * inner header) keeping every checksum right, and the dissector's words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/packet.h"

static const uint32_t alice = IP4(10, 0, 0, 7), bob = IP4(192, 0, 2, 1),
		      office = IP4(203, 0, 113, 5);

/* A UDP datagram alice:5000 -> bob:9 of `n` payload bytes. */
static size_t udp_datagram(uint8_t *buf, size_t cap, size_t n)
{
	uint8_t payload[1400];
	struct endpoint s = {alice, 5000}, d = {bob, 9};

	for (size_t i = 0; i < n; i++)
		payload[i] = (uint8_t)(i * 7);
	return packet_build_udp(buf, cap, &s, &d, 64, 0x4242, payload, n);
}

/* Bob's port unreachable about that datagram. */
static size_t port_unreachable(uint8_t *buf, size_t cap, size_t n)
{
	uint8_t dgram[1500];
	size_t len = udp_datagram(dgram, sizeof(dgram), n);

	return packet_build_icmp_error(buf, cap, bob, alice, 64, 7, ICMP_DEST_UNREACH,
				       ICMP_PORT_UNREACH, dgram, len);
}

/* The quoted datagram, when quoted whole, parses on its own with its UDP
 * checksum verified: the inner rewrite kept it right. */
static void assert_inner_parses(const uint8_t *buf, const struct packet_info *pi)
{
	struct packet_info in;

	assert_int_equal(pi->inner.len, pi->inner.total_len);
	assert_int_equal(packet_parse(buf + pi->inner.offset, pi->inner.len, &in, NULL, 0),
			 PACKET_OK);
}

static void test_echo_request(void **state)
{
	uint8_t buf[128];
	struct packet_info pi;
	size_t len;

	(void)state;
	len = packet_build_icmp_echo(buf, sizeof(buf), alice, bob, 64, 1, ICMP_ECHO_REQUEST, 0x1234,
				     3, NULL, 56);
	assert_int_equal(len, 84); /* ping's default: 56 bytes, 84 on the wire */
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.proto, IPPROTO_NUM_ICMP);
	assert_int_equal(pi.icmp_type, ICMP_ECHO_REQUEST);
	assert_int_equal(pi.icmp_id, 0x1234);
	assert_int_equal(pi.icmp_seq, 3);
	assert_int_equal(pi.sport, 0x1234); /* the id plays the requester's port */
	assert_int_equal(pi.dport, 0);
	assert_false(pi.icmp_error);
	assert_int_equal(buf[6] & 0x40, 0x40); /* ping sets DF */
	assert_int_equal(pi.payload[0], 0);    /* the timestamp (none here) */
	assert_int_equal(pi.payload[16], 0x10);
	assert_int_equal(pi.payload[55], 0x37);
	len = packet_build_icmp_echo(buf, sizeof(buf), bob, alice, 64, 1, ICMP_ECHO_REPLY, 0x1234,
				     3, "hi", 2);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.sport, 0);
	assert_int_equal(pi.dport, 0x1234);
	assert_int_equal(buf[6] & 0x40, 0); /* the kernel's reply does not */
	assert_int_equal(
	    packet_build_icmp_echo(buf, 20, alice, bob, 64, 1, ICMP_ECHO_REQUEST, 1, 1, NULL, 0),
	    0);
	assert_int_equal(packet_build_icmp_echo(buf, sizeof(buf), alice, bob, 64, 1,
						ICMP_DEST_UNREACH, 1, 1, NULL, 0),
			 0);
}

static void test_error_quotes_like_linux(void **state)
{
	uint8_t buf[1500];
	struct packet_info pi;
	size_t len;

	(void)state;
	len = port_unreachable(buf, sizeof(buf), 20);
	assert_int_equal(len, 20 + 8 + 20 + 8 + 20); /* the whole datagram */
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_true(pi.icmp_error);
	assert_int_equal(buf[1], 0xc0); /* TOS: internetwork control, as icmp_send() */
	assert_int_equal(buf[6] & 0x40, 0);
	assert_int_equal(pi.inner.proto, IPPROTO_NUM_UDP);
	assert_int_equal(pi.inner.src, alice);
	assert_int_equal(pi.inner.dst, bob);
	assert_int_equal(pi.inner.sport, 5000);
	assert_int_equal(pi.inner.dport, 9);
	assert_true(pi.inner.ip_sum_ok);
	assert_int_equal(pi.sport, 0);
	assert_inner_parses(buf, &pi);
	/* A big datagram is cut so the error is at most 576 bytes. */
	len = port_unreachable(buf, sizeof(buf), 1200);
	assert_int_equal(len, ICMP_ERROR_MAX_SIZE);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.total_len, 20 + 8 + 1200);
	assert_int_equal(pi.inner.len, 576 - 28);
	assert_int_equal(
	    packet_build_icmp_error(buf, sizeof(buf), bob, alice, 64, 7, 3, 3, buf, 10), 0);
}

static void test_refusals(void **state)
{
	uint8_t buf[256], dgram[64];
	struct packet_info pi;
	char why[200];
	size_t len;

	(void)state;
	len = port_unreachable(buf, sizeof(buf), 4);
	buf[30] ^= 0xff; /* inside the ICMP message: its checksum no longer holds */
	assert_int_equal(packet_parse(buf, len, &pi, why, sizeof(why)), PACKET_ERR_ICMP_CHECKSUM);
	assert_non_null(strstr(why, "ICMP checksum is wrong"));
	/* Only 4 bytes beyond the quoted header: RFC 792 asks for 8. */
	len = udp_datagram(dgram, sizeof(dgram), 0);
	len = packet_build_icmp_error(buf, sizeof(buf), bob, alice, 64, 7, 3, 3, dgram, 24);
	assert_int_equal(packet_parse(buf, len, &pi, why, sizeof(why)), PACKET_ERR_ICMP_INNER);
	assert_non_null(strstr(why, "port unreachable quotes 24 bytes"));
	/* Shorter than an ICMP header: an IP total length that stops early. */
	len = packet_build_icmp_echo(buf, sizeof(buf), alice, bob, 64, 1, 8, 1, 1, NULL, 0);
	buf[3] = 24;
	packet_fill_checksums(buf, 24);
	assert_int_equal(packet_parse(buf, 24, &pi, why, sizeof(why)), PACKET_ERR_ICMP_TRUNCATED);
	/* A quoted header that is not IPv4. */
	len = port_unreachable(buf, sizeof(buf), 4);
	buf[28] = 0x65;
	packet_fill_checksums(buf, len);
	assert_int_equal(packet_parse(buf, len, &pi, why, sizeof(why)), PACKET_ERR_ICMP_INNER);
	assert_non_null(strstr(why, "not IPv4"));
}

/* A bad quoted IPv4 checksum is shown, not refused (Linux delivers it). */
static void test_bad_inner_checksum_is_read(void **state)
{
	uint8_t buf[256];
	struct packet_info pi;
	struct packet_field f[40];
	size_t len = port_unreachable(buf, sizeof(buf), 4), n;
	bool seen = false;

	(void)state;
	buf[28 + 10] ^= 0x01;
	packet_fill_checksums(buf, len);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_false(pi.inner.ip_sum_ok);
	n = packet_fields(buf, len, f, 40);
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, "inner.ip.checksum") == 0)
			seen = strstr(f[i].value, "wrong") != NULL;
	assert_true(seen);
}

static void test_echo_id_rewrites(void **state)
{
	uint8_t buf[128];
	struct packet_info pi;
	struct endpoint pub = {office, 40000}, back = {alice, 0x1234};
	size_t len;

	(void)state;
	len = packet_build_icmp_echo(buf, sizeof(buf), alice, bob, 64, 1, ICMP_ECHO_REQUEST, 0x1234,
				     1, NULL, 56);
	packet_rewrite_src(buf, len, &pub);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.src, office);
	assert_int_equal(pi.icmp_id, 40000);
	/* The reply's destination side carries the id back. */
	len = packet_build_icmp_echo(buf, sizeof(buf), bob, office, 64, 1, ICMP_ECHO_REPLY, 40000,
				     1, NULL, 56);
	packet_rewrite_dst(buf, len, &back);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.dst, alice);
	assert_int_equal(pi.icmp_id, 0x1234);
	/* A reply's source side has no id to change: only the address moves. */
	packet_rewrite_src(buf, len, &pub);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.icmp_id, 0x1234);
	assert_int_equal(pi.src, office);
}

/* RFC 5508 REQ-3/4: a port unreachable arriving at the NAT's public side is
 * rewritten outside and inside, every checksum still right. */
static void test_inner_rewrite_keeps_sums(void **state)
{
	uint8_t buf[256];
	struct packet_info pi;
	struct endpoint ext = {office, 61000}, in = {alice, 5000}, lan = {alice, 0};
	size_t len = port_unreachable(buf, sizeof(buf), 12);

	(void)state;
	packet_rewrite_inner_src(buf, len, &ext); /* as it went out, translated */
	packet_rewrite_dst(buf, len, &(struct endpoint){office, 0});
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.src, office);
	assert_int_equal(pi.inner.sport, 61000);
	assert_true(pi.inner.ip_sum_ok);
	assert_inner_parses(buf, &pi);
	/* ... and back, as the NAT delivers it inside. */
	packet_rewrite_dst(buf, len, &lan);
	packet_rewrite_inner_src(buf, len, &in);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.dst, alice);
	assert_int_equal(pi.inner.src, alice);
	assert_int_equal(pi.inner.sport, 5000);
	assert_inner_parses(buf, &pi);
	packet_rewrite_inner_dst(buf, len, &(struct endpoint){bob, 4000});
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.dport, 4000);
	assert_inner_parses(buf, &pi);
}

/* An error about an echo request: the inner id moves like a port. */
static void test_inner_echo_rewrite(void **state)
{
	uint8_t req[128], buf[256];
	struct packet_info pi;
	size_t n = packet_build_icmp_echo(req, sizeof(req), alice, bob, 1, 1, ICMP_ECHO_REQUEST, 77,
					  1, NULL, 56),
	       len;

	(void)state;
	len = packet_build_icmp_error(buf, sizeof(buf), IP4(10, 0, 0, 1), alice, 64, 1,
				      ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, req, n);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.proto, IPPROTO_NUM_ICMP);
	assert_int_equal(pi.inner.icmp_type, ICMP_ECHO_REQUEST);
	assert_int_equal(pi.inner.sport, 77);
	packet_rewrite_inner_src(buf, len, &(struct endpoint){office, 900});
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.icmp_id, 900);
	assert_inner_parses(buf, &pi);
}

static const char *field_value(const struct packet_field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	return "(absent)";
}

static void test_summary_and_fields(void **state)
{
	uint8_t buf[256], err2[512];
	char out[200];
	struct packet_field f[40];
	size_t len, n, n2;

	(void)state;
	len = packet_build_icmp_echo(buf, sizeof(buf), alice, bob, 64, 1, ICMP_ECHO_REQUEST, 1, 2,
				     NULL, 56);
	packet_summary(buf, len, NULL, true, out, sizeof(out));
	assert_string_equal(out,
			    "ICMP 10.0.0.7 -> 192.0.2.1 echo request id=1 seq=2 len=56 ttl=64");
	len = port_unreachable(buf, sizeof(buf), 4);
	packet_summary(buf, len, NULL, true, out, sizeof(out));
	assert_string_equal(out, "ICMP 192.0.2.1 -> 10.0.0.7 port unreachable ttl=64 [UDP "
				 "10.0.0.7:5000 -> 192.0.2.1:9]");
	/* An error about an error: parsed, named, never to be answered. */
	n2 = packet_build_icmp_error(err2, sizeof(err2), alice, bob, 64, 1, ICMP_DEST_UNREACH,
				     ICMP_ADMIN_PROHIBITED, buf, len);
	packet_summary(err2, n2, NULL, true, out, sizeof(out));
	assert_string_equal(out, "ICMP 10.0.0.7 -> 192.0.2.1 communication administratively "
				 "prohibited ttl=64 [ICMP 192.0.2.1 -> 10.0.0.7 port unreachable]");
	assert_true(icmp_is_error(ICMP_TIME_EXCEEDED));
	assert_false(icmp_is_error(ICMP_ECHO_REQUEST));
	icmp_describe(42, 1, out, sizeof(out));
	assert_string_equal(out, "type 42 code 1");
	n = packet_fields(buf, len, f, 40);
	assert_string_equal(field_value(f, n, "icmp.type"), "3");
	assert_string_equal(field_value(f, n, "icmp.code"), "3 (port unreachable)");
	assert_non_null(strstr(field_value(f, n, "icmp.checksum"), "[correct]"));
	assert_string_equal(field_value(f, n, "inner.udp.dport"), "9");
	assert_string_equal(f[n - 1].name, "inner.udp.checksum");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_request),
	    cmocka_unit_test(test_error_quotes_like_linux),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_bad_inner_checksum_is_read),
	    cmocka_unit_test(test_echo_id_rewrites),
	    cmocka_unit_test(test_inner_rewrite_keeps_sums),
	    cmocka_unit_test(test_inner_echo_rewrite),
	    cmocka_unit_test(test_summary_and_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
