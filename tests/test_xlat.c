/*
 * test_xlat.c - RFC 7915 translation and RFC 6052 addresses (model/xlat.h):
 * UDP and ICMP echo both ways with every header field checked and every
 * checksum verified by the strict parsers (which sum afresh), ICMP errors
 * both ways with their quoted packets translated and the quoted transport
 * checksum right for the new pseudo-header, the MTU adjustments, and the
 * types with no counterpart. The same translations are compared byte for
 * byte with tayga's in tests/lab/lab_nat64.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "explain/xlat.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "model/xlat.h"

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

#define V4_HOST 0xcb00710a /* 203.0.113.10, an IPv4-only server */
#define POOL 0xc6336401	   /* 198.51.100.1, the NAT64's IPv4 address */
static const struct xlat_6to4_options rfc7915 = {.ip_id = 0x1234, .df_always = false};

/* The IPv6 host's view: [2001:db8:1::5]:5000 -> [64:ff9b::203.0.113.10]:3478. */
static struct xlat_v6_addrs v6_flow(void)
{
	struct ip6_addr wkp = xlat_well_known_prefix();
	struct xlat_v6_addrs f = {{addr("2001:db8:1::5"), 5000},
				  {xlat_synthesize(&wkp, V4_HOST), 3478}};

	return f;
}

/* The same flow on the IPv4 side: 198.51.100.1:40000 -> 203.0.113.10:3478. */
static const struct xlat_v4_addrs v4_flow = {{POOL, 40000}, {V4_HOST, 3478}};
static const struct xlat_v4_addrs v4_back = {{V4_HOST, 3478}, {POOL, 40000}};

static void test_rfc6052_addresses(void **state)
{
	(void)state;
	struct ip6_addr wkp = xlat_well_known_prefix(), a;
	char text[IP6_TEXT_SIZE];
	uint32_t ip4 = 0;

	/* RFC 6052 2.4's example for 192.0.2.33 with the /96 well-known prefix. */
	a = xlat_synthesize(&wkp, 0xc0000221);
	assert_string_equal(ip6_format(&a, text, sizeof(text)), "64:ff9b::c000:221");
	assert_true(xlat_embedded_ipv4(&wkp, &a, &ip4));
	assert_int_equal(ip4, 0xc0000221);
	a = addr("64:ff9b:1::c000:221"); /* RFC 8215's local-use prefix: not this one */
	assert_false(xlat_embedded_ipv4(&wkp, &a, &ip4));
}

static void test_udp_6to4(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow();
	uint8_t in[200], out[200];
	size_t n = packet6_build_udp(in, sizeof(in), &f.src, &f.dst, 63, 0xabcde, "hello", 5),
	       m = 0;
	in[0] = (uint8_t)(in[0] | 0x0b); /* traffic class 0xb8 (EF), flow label kept */
	in[1] = (uint8_t)(in[1] | 0x80);
	packet6_fill_checksums(in, n);
	struct packet_info pi;

	assert_int_equal(xlat_6to4(in, n, &v4_flow, NULL, &rfc7915, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(m, n - 20);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK); /* sums right */
	assert_int_equal(pi.src, POOL);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.dst, V4_HOST);
	assert_int_equal(pi.dport, 3478);
	assert_int_equal(pi.ttl, 63);
	assert_int_equal(pi.tos, 0xb8);
	assert_int_equal(pi.ip_id, 0x1234);
	assert_int_equal(get16(out + 6), 0); /* 45 bytes: no DF (RFC 7915 5.1) */
	assert_memory_equal(pi.payload, "hello", 5);
	/* tayga's (RFC 6145's) choice: DF set, Identification 0. */
	struct xlat_6to4_options tayga = {.ip_id = 0x1234, .df_always = true};
	assert_int_equal(xlat_6to4(in, n, &v4_flow, NULL, &tayga, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(get16(out + 4), 0);
	assert_int_equal(get16(out + 6), 0x4000);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK);
}

static void test_udp_4to6(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow(), back = {f.dst, f.src};
	uint8_t in[200], out[200];
	size_t n = packet_build_udp(in, sizeof(in), &v4_back.src, &v4_back.dst, 50, 7, "yo", 2), m;
	in[1] = 0x28;		       /* TOS */
	put16(in + 26, 0);	       /* no UDP checksum, which IPv4 allows */
	packet_fill_checksums(in, 20); /* the header's only */
	put16(in + 26, 0);
	struct packet6_info pi;

	assert_int_equal(xlat_4to6(in, n, &back, NULL, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(m, n + 20);
	/* packet6_parse refuses a zero UDP checksum and checks a wrong one. */
	assert_int_equal(packet6_parse(out, m, &pi, NULL, 0), PACKET_OK);
	assert_true(ip6_equal(&pi.src, &f.dst.ip));
	assert_true(ip6_equal(&pi.dst, &f.src.ip));
	assert_int_equal(pi.sport, 3478);
	assert_int_equal(pi.dport, 5000);
	assert_int_equal(pi.hop_limit, 50);
	assert_int_equal(pi.traffic_class, 0x28);
	assert_int_equal(pi.flow_label, 0);
	assert_memory_equal(pi.payload, "yo", 2);
}

static void test_echo_both_ways(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow();
	struct xlat_v4_addrs out4 = {{POOL, 777}, {V4_HOST, 0}};
	uint8_t in[200], out[200], back[200];
	size_t n = packet6_build_icmp_echo(in, sizeof(in), &f.src.ip, &f.dst.ip, 64,
					   ICMP6_ECHO_REQUEST, 42, 3, NULL, 24),
	       m, k;
	struct packet_info pi;
	struct packet6_info p6;

	assert_int_equal(xlat_6to4(in, n, &out4, NULL, &rfc7915, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.proto, IPPROTO_NUM_ICMP);
	assert_int_equal(pi.icmp_type, ICMP_ECHO_REQUEST);
	assert_int_equal(pi.icmp_id, 777);
	assert_int_equal(pi.icmp_seq, 3);
	assert_memory_equal(out + 28, in + 48, 24);
	/* The reply comes back with the pool's id as its destination side. */
	size_t r = packet_build_icmp_echo(back, sizeof(back), V4_HOST, POOL, 60, 1, ICMP_ECHO_REPLY,
					  777, 3, pi.payload, pi.payload_len);
	struct xlat_v6_addrs to6 = {{f.dst.ip, 0}, {f.src.ip, 42}};
	assert_int_equal(xlat_4to6(back, r, &to6, NULL, out, sizeof(out), &k), XLAT_OK);
	assert_int_equal(packet6_parse(out, k, &p6, NULL, 0), PACKET_OK);
	assert_int_equal(p6.icmp_type, ICMP6_ECHO_REPLY);
	assert_int_equal(p6.icmp_id, 42);
	assert_int_equal(p6.hop_limit, 60);
	assert_memory_equal(out + 48, in + 48, 24);
}

/* The quoted IPv6 UDP segment's checksum is right for its own pseudo-header. */
static void assert_quoted_udp6_sum_right(const uint8_t *buf, const struct packet6_info *pi)
{
	const uint8_t *q = buf + pi->inner.offset, *udp = q + IPV6_HEADER_SIZE;
	uint16_t want = packet6_checksum_expected(&pi->inner.src, &pi->inner.dst, IPPROTO_NUM_UDP,
						  udp, get16(udp + 4), 6);
	assert_int_equal(get16(udp + 6), want);
}

static void test_port_unreachable_4to6(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow();
	uint8_t orig[200], err[600], out[1400];
	size_t n =
	    packet_build_udp(orig, sizeof(orig), &v4_flow.src, &v4_flow.dst, 60, 9, "data", 4);
	size_t e = packet_build_icmp_error(err, sizeof(err), V4_HOST, POOL, 64, 0,
					   ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, orig, n),
	       m;
	struct xlat_v6_addrs outer = {{f.dst.ip, 0}, {f.src.ip, 0}};
	struct packet6_info pi;

	assert_int_equal(xlat_4to6(err, e, &outer, &f, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(packet6_parse(out, m, &pi, NULL, 0), PACKET_OK); /* ICMPv6 sum */
	assert_int_equal(pi.icmp_type, ICMP6_DEST_UNREACH);
	assert_int_equal(pi.icmp_code, ICMP6_PORT_UNREACH);
	assert_true(ip6_equal(&pi.inner.src, &f.src.ip));
	assert_true(ip6_equal(&pi.inner.dst, &f.dst.ip));
	assert_int_equal(pi.inner.sport, 5000);
	assert_int_equal(pi.inner.dport, 3478);
	assert_int_equal(pi.inner.hop_limit, 60);
	assert_int_equal(pi.inner.payload_len, 12);
	assert_quoted_udp6_sum_right(out, &pi);
}

static void test_time_exceeded_6to4(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow(), came_in = {f.dst, f.src};
	struct ip6_addr router = addr("2001:db8:ff::1");
	uint8_t orig[200], err[600], out[600], copy[600];
	size_t n =
	    packet6_build_udp(orig, sizeof(orig), &came_in.src, &came_in.dst, 1, 0, "abc", 3);
	size_t e = packet6_build_icmp_error(err, sizeof(err), &router, &came_in.src.ip, 64,
					    ICMP6_TIME_EXCEEDED, ICMP6_EXC_HOP_LIMIT, 0, orig, n),
	       m;
	struct xlat_v4_addrs outer = {{POOL, 0}, {V4_HOST, 0}};
	struct packet_info pi;

	assert_int_equal(xlat_6to4(err, e, &outer, &v4_back, &rfc7915, out, sizeof(out), &m),
			 XLAT_OK);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK); /* ICMP sum */
	assert_int_equal(pi.icmp_type, ICMP_TIME_EXCEEDED);
	assert_int_equal(pi.icmp_code, ICMP_EXC_TTL);
	assert_int_equal(pi.inner.src, V4_HOST);
	assert_int_equal(pi.inner.dst, POOL);
	assert_int_equal(pi.inner.sport, 3478);
	assert_int_equal(pi.inner.dport, 40000);
	assert_int_equal(pi.inner.total_len, 31);
	assert_true(pi.inner.ip_sum_ok);
	/* The quoted UDP checksum, adjusted incrementally, equals a fresh one. */
	size_t q = pi.inner.offset;
	memcpy(copy, out + q, m - q);
	packet_fill_checksums(copy, m - q);
	assert_memory_equal(copy + 26, out + q + 26, 2);
}

static void test_mtu_adjusted(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow(), came_in = {f.dst, f.src};
	struct ip6_addr router = addr("2001:db8:ff::1");
	uint8_t big[1500], err[1400], out[1400], zeros[1452] = {0};
	size_t n = packet6_build_udp(big, sizeof(big), &came_in.src, &came_in.dst, 60, 0, zeros,
				     sizeof(zeros)),
	       m;
	struct xlat_v4_addrs outer = {{POOL, 0}, {V4_HOST, 0}};
	struct packet_info pi;

	size_t e = packet6_build_icmp_error(err, sizeof(err), &router, &came_in.src.ip, 64,
					    ICMP6_PACKET_TOO_BIG, 0, 1280, big, n);
	assert_int_equal(xlat_6to4(err, e, &outer, &v4_back, &rfc7915, out, sizeof(out), &m),
			 XLAT_OK);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(pi.icmp_code, 4); /* fragmentation needed */
	assert_int_equal(get16(out + 20 + 6), 1260);
	/* IPv4 -> IPv6: + 20, or RFC 1191's plateau below the quote's length + 20
	 * when the router sent 0. */
	uint8_t b4[1600], e4[700], zeros4[1472] = {0};
	struct endpoint s = {POOL, 40000}, d = {V4_HOST, 3478};
	size_t n4 = packet_build_udp(b4, sizeof(b4), &s, &d, 60, 1, zeros4, sizeof(zeros4));
	size_t e4n = packet_build_icmp_error(e4, sizeof(e4), 0x0a000001, POOL, 64, 0,
					     ICMP_DEST_UNREACH, 4, b4, n4);
	struct xlat_v6_addrs o6 = {{addr("64:ff9b::a00:1"), 0}, {f.src.ip, 0}};
	struct packet6_info p6;
	put16(e4 + 20 + 6, 1400);
	packet_fill_checksums(e4, e4n);
	assert_int_equal(xlat_4to6(e4, e4n, &o6, &f, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(packet6_parse(out, m, &p6, NULL, 0), PACKET_OK);
	assert_int_equal(p6.icmp_type, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(p6.icmp_param, 1420);
	put16(e4 + 20 + 6, 0);
	packet_fill_checksums(e4, e4n);
	assert_int_equal(xlat_4to6(e4, e4n, &o6, &f, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(packet6_parse(out, m, &p6, NULL, 0), PACKET_OK);
	assert_int_equal(p6.icmp_param, 1492 + 20);
}

/* A quoted ICMP echo: its checksum moves from no pseudo-header to one. */
static void test_quoted_echo_4to6(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow();
	uint8_t orig[200], err[600], out[600];
	size_t n = packet_build_icmp_echo(orig, sizeof(orig), POOL, V4_HOST, 1, 5,
					  ICMP_ECHO_REQUEST, 777, 1, NULL, 16);
	size_t e = packet_build_icmp_error(err, sizeof(err), 0x0a000001, POOL, 64, 0,
					   ICMP_TIME_EXCEEDED, 0, orig, n),
	       m;
	struct xlat_v6_addrs outer = {{addr("64:ff9b::a00:1"), 0}, {f.src.ip, 0}};
	struct xlat_v6_addrs inner = {{f.src.ip, 42}, {f.dst.ip, 0}};
	struct packet6_info pi;

	assert_int_equal(xlat_4to6(err, e, &outer, &inner, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(packet6_parse(out, m, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.icmp_type, ICMP6_TIME_EXCEEDED);
	assert_int_equal(pi.inner.next_header, IPPROTO_NUM_ICMPV6);
	assert_int_equal(pi.inner.icmp_type, ICMP6_ECHO_REQUEST);
	assert_int_equal(pi.inner.icmp_id, 42);
	const uint8_t *icmp = out + pi.inner.offset + IPV6_HEADER_SIZE;
	size_t ilen = pi.inner.payload_len;
	assert_int_equal(get16(icmp + 2),
			 packet6_checksum_expected(&pi.inner.src, &pi.inner.dst, IPPROTO_NUM_ICMPV6,
						   icmp, ilen, 2));
}

/* And the other way: a quoted ICMPv6 echo's checksum loses its pseudo-header. */
static void test_quoted_echo_6to4(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow();
	struct ip6_addr router = addr("2001:db8:ff::1");
	uint8_t orig[200], err[600], out[600], copy[600];
	size_t n = packet6_build_icmp_echo(orig, sizeof(orig), &f.dst.ip, &f.src.ip, 1,
					   ICMP6_ECHO_REQUEST, 42, 1, NULL, 16);
	size_t e = packet6_build_icmp_error(err, sizeof(err), &router, &f.dst.ip, 64,
					    ICMP6_TIME_EXCEEDED, 0, 0, orig, n),
	       m;
	struct xlat_v4_addrs outer = {{POOL, 0}, {V4_HOST, 0}};
	struct xlat_v4_addrs inner = {{V4_HOST, 777}, {POOL, 0}};
	struct packet_info pi;

	assert_int_equal(xlat_6to4(err, e, &outer, &inner, &rfc7915, out, sizeof(out), &m),
			 XLAT_OK);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.proto, IPPROTO_NUM_ICMP);
	assert_int_equal(pi.inner.icmp_type, ICMP_ECHO_REQUEST);
	assert_int_equal(pi.inner.icmp_id, 777);
	size_t q = pi.inner.offset;
	memcpy(copy, out + q, m - q);
	packet_fill_checksums(copy, m - q);
	assert_memory_equal(copy + 22, out + q + 22, 2);
}

/* RFC 7915 4.2 figure 3, row by row, as the RFC prints it: an IPv4
 * header field's octets and the ICMPv6 pointer for it (-1: "n/a"). */
static const struct {
	int first, last, v6;
} figure3[] = {
    {0, 0, 0},	  /* Version/IHL -> Version/Traffic Class */
    {1, 1, 1},	  /* Type Of Service -> Traffic Class/Flow Label */
    {2, 3, 4},	  /* Total Length -> Payload Length */
    {4, 5, -1},	  /* Identification */
    {6, 7, -1},	  /* Flags/Fragment Offset */
    {8, 8, 7},	  /* Time to Live -> Hop Limit */
    {9, 9, 6},	  /* Protocol -> Next Header */
    {10, 11, -1}, /* Header Checksum */
    {12, 15, 8},  /* Source Address */
    {16, 19, 24}, /* Destination Address */
    {20, 255, -1} /* not listed (options, or past the header): dropped */
};

/* An ICMPv4 parameter problem (type 12, `code`, pointer p4) about a
 * datagram that went out, translated to IPv6 into out; the result. */
static enum xlat_result param_problem_4to6(uint8_t code, uint8_t p4, uint8_t *out, size_t cap,
					   size_t *m)
{
	struct xlat_v6_addrs f = v6_flow();
	struct xlat_v6_addrs outer = {{f.dst.ip, 0}, {f.src.ip, 0}};
	uint8_t orig[200], err[600];
	size_t n =
	    packet_build_udp(orig, sizeof(orig), &v4_flow.src, &v4_flow.dst, 60, 9, "data", 4);
	size_t e = packet_build_icmp_error(err, sizeof(err), V4_HOST, POOL, 64, 0,
					   ICMP_PARAMETER_PROBLEM, code, orig, n);
	err[20 + 4] = p4;
	packet_fill_checksums(err, e);
	return xlat_4to6(err, e, &outer, &f, out, cap, m);
}

static void test_param_problem_4to6(void **state)
{
	(void)state;
	uint8_t out[1400];
	size_t m;
	struct packet6_info pi;

	for (size_t row = 0; row < sizeof(figure3) / sizeof(figure3[0]); row++) {
		for (int p4 = figure3[row].first; p4 <= figure3[row].last; p4++) {
			for (uint8_t code = 0; code <= 2; code += 2) { /* 0 and bad length */
				enum xlat_result r =
				    param_problem_4to6(code, (uint8_t)p4, out, sizeof(out), &m);
				if (figure3[row].v6 < 0) {
					assert_int_equal(r, XLAT_ERR_PARAM_POINTER);
					continue;
				}
				assert_int_equal(r, XLAT_OK);
				assert_int_equal(packet6_parse(out, m, &pi, NULL, 0), PACKET_OK);
				assert_int_equal(pi.icmp_type, ICMP6_PARAM_PROBLEM);
				assert_int_equal(pi.icmp_code, 0); /* erroneous header field */
				assert_int_equal(pi.icmp_param, figure3[row].v6);
				assert_int_equal(pi.inner.sport, 5000);
				assert_quoted_udp6_sum_right(out, &pi);
			}
		}
	}
	/* Code 1, missing a required option, and unknown codes: dropped. */
	assert_int_equal(param_problem_4to6(1, 0, out, sizeof(out), &m),
			 XLAT_ERR_ICMP_UNTRANSLATABLE);
	assert_int_equal(param_problem_4to6(3, 0, out, sizeof(out), &m),
			 XLAT_ERR_ICMP_UNTRANSLATABLE);
}

/* RFC 7915 5.2 figure 6, row by row: an IPv6 header field's octets and the
 * ICMPv4 pointer for it (-1: "n/a"). */
static const struct {
	int first, last, v4;
} figure6[] = {
    {0, 0, 0},	  /* Version/Traffic Class -> Version/IHL, Type Of Service */
    {1, 1, 1},	  /* Traffic Class/Flow Label -> Type Of Service */
    {2, 3, -1},	  /* Flow Label */
    {4, 5, 2},	  /* Payload Length -> Total Length */
    {6, 6, 9},	  /* Next Header -> Protocol */
    {7, 7, 8},	  /* Hop Limit -> Time to Live */
    {8, 23, 12},  /* Source Address */
    {24, 39, 16}, /* Destination Address */
    {40, 41, -1}, /* not listed: dropped */
};

/* An ICMPv6 parameter problem (type 4, `code`, pointer p6) about a datagram
 * that came in, translated to IPv4 into out; the result. */
static enum xlat_result param_problem_6to4(uint8_t code, uint32_t p6, uint8_t *out, size_t cap,
					   size_t *m)
{
	struct xlat_v6_addrs f = v6_flow(), came_in = {f.dst, f.src};
	struct ip6_addr router = addr("2001:db8:ff::1");
	struct xlat_v4_addrs outer = {{POOL, 0}, {V4_HOST, 0}};
	uint8_t orig[200], err[600];
	size_t n =
	    packet6_build_udp(orig, sizeof(orig), &came_in.src, &came_in.dst, 9, 0, "abc", 3);
	size_t e = packet6_build_icmp_error(err, sizeof(err), &router, &came_in.src.ip, 64,
					    ICMP6_PARAM_PROBLEM, code, p6, orig, n);
	return xlat_6to4(err, e, &outer, &v4_back, &rfc7915, out, cap, m);
}

static void test_param_problem_6to4(void **state)
{
	(void)state;
	uint8_t out[600];
	size_t m;
	struct packet_info pi;

	for (size_t row = 0; row < sizeof(figure6) / sizeof(figure6[0]); row++) {
		for (int p6 = figure6[row].first; p6 <= figure6[row].last; p6++) {
			enum xlat_result r =
			    param_problem_6to4(0, (uint32_t)p6, out, sizeof(out), &m);
			if (figure6[row].v4 < 0) {
				assert_int_equal(r, XLAT_ERR_PARAM_POINTER);
				continue;
			}
			assert_int_equal(r, XLAT_OK);
			assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK);
			assert_int_equal(pi.icmp_type, ICMP_PARAMETER_PROBLEM);
			assert_int_equal(pi.icmp_code, 0);
			assert_int_equal(out[20 + 4], figure6[row].v4); /* RFC 792's pointer */
			assert_int_equal(get16(out + 20 + 6), 0);	/* unused */
			assert_int_equal(out[20 + 5], 0);
			assert_int_equal(pi.inner.sport, 3478);
			assert_true(pi.inner.ip_sum_ok);
		}
	}
	assert_int_equal(param_problem_6to4(0, 0x10000, out, sizeof(out), &m),
			 XLAT_ERR_PARAM_POINTER);
	/* Code 1, unrecognized next header: protocol unreachable, no pointer. */
	assert_int_equal(param_problem_6to4(1, 6, out, sizeof(out), &m), XLAT_OK);
	assert_int_equal(packet_parse(out, m, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(pi.icmp_code, ICMP_PROT_UNREACH);
	assert_int_equal(get32(out + 20 + 4), 0);
	/* Code 2, unrecognized IPv6 option: dropped. */
	assert_int_equal(param_problem_6to4(2, 40, out, sizeof(out), &m),
			 XLAT_ERR_ICMP_UNTRANSLATABLE);
}

static void test_untranslatable(void **state)
{
	(void)state;
	struct xlat_v6_addrs f = v6_flow();
	uint8_t in[200], out[200];
	size_t m, n = packet6_build_icmp_echo(in, sizeof(in), &f.src.ip, &f.dst.ip, 255,
					      ICMP6_ECHO_REQUEST, 1, 1, NULL, 0);
	in[40] = 135; /* neighbour solicitation: RFC 7915 5.2 drops it */
	packet6_fill_checksums(in, n);
	assert_int_equal(xlat_6to4(in, n, &v4_flow, NULL, &rfc7915, out, sizeof(out), &m),
			 XLAT_ERR_ICMP_UNTRANSLATABLE);
	n = packet_build_icmp_echo(in, sizeof(in), POOL, V4_HOST, 64, 1, ICMP_ECHO_REQUEST, 1, 1,
				   NULL, 12);
	in[20] = 13; /* timestamp: no ICMPv6 counterpart (RFC 7915 4.2) */
	packet_fill_checksums(in, n);
	struct xlat_v6_addrs back = {f.dst, f.src};
	assert_int_equal(xlat_4to6(in, n, &back, NULL, out, sizeof(out), &m),
			 XLAT_ERR_ICMP_UNTRANSLATABLE);
	/* Not a packet, and no room. */
	in[0] = 0x45;
	assert_int_equal(xlat_6to4(in, 10, &v4_flow, NULL, &rfc7915, out, sizeof(out), &m),
			 XLAT_ERR_MALFORMED);
	n = packet6_build_udp(in, sizeof(in), &f.src, &f.dst, 64, 0, "hello", 5);
	assert_int_equal(xlat_6to4(in, n, &v4_flow, NULL, &rfc7915, out, 30, &m), XLAT_ERR_NO_ROOM);
	assert_string_equal(explain_xlat_result(XLAT_ERR_PROTOCOL),
			    "neither UDP, TCP nor ICMP: not translated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6052_addresses),
	    cmocka_unit_test(test_udp_6to4),
	    cmocka_unit_test(test_udp_4to6),
	    cmocka_unit_test(test_echo_both_ways),
	    cmocka_unit_test(test_port_unreachable_4to6),
	    cmocka_unit_test(test_time_exceeded_6to4),
	    cmocka_unit_test(test_mtu_adjusted),
	    cmocka_unit_test(test_quoted_echo_4to6),
	    cmocka_unit_test(test_quoted_echo_6to4),
	    cmocka_unit_test(test_param_problem_4to6),
	    cmocka_unit_test(test_param_problem_6to4),
	    cmocka_unit_test(test_untranslatable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
