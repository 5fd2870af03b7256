/*
 * test_packet6.c - IPv6 packets as bytes (model/packet6.h): the builders,
 * the strict parser and each of its refusals, ICMPv6 echo and errors with
 * their quotes, TCP over IPv6, the hop limit, and the dissector's summary
 * and fields. The checksums of the reference packets below are the ones
 * tshark 4.x calls "[correct]" for the same bytes (docs/ipv6.md, "How it
 * was checked"); the parser computes them independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/packet6.h"

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

static const char stun_like[20] = "\x00\x01\x00\x00\x21\x12\xa4\x42"
				  "abcdefghijkl";

/* [2001:db8:1::5]:5000 -> [2001:db8:2::1]:3478, 20 bytes, hop limit 64. */
static size_t reference_udp(uint8_t *buf, size_t cap)
{
	struct endpoint6 src = {addr("2001:db8:1::5"), 5000}, dst = {addr("2001:db8:2::1"), 3478};

	return packet6_build_udp(buf, cap, &src, &dst, 64, 0x12345, stun_like, sizeof(stun_like));
}

/* The reference UDP packet and the port unreachable about it, byte for
 * byte as tshark -V decoded them with every checksum [correct]
 * (docs/ipv6.md, "How it was checked"). tests/fuzz/corpus/packet6/00-udp
 * and 03-port-unreach hold the same bytes. A change here is a change to
 * what goes on the wire: check it with tshark again before changing these. */
static const uint8_t want_udp[68] = {
    0x60, 0x01, 0x23, 0x45, 0x00, 0x1c, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x13, 0x88,
    0x0d, 0x96, 0x00, 0x1c, 0x57, 0x5b, 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
};
static const uint8_t want_unreach_head[48] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x01, 0x04, 0x0d, 0x88, 0x00, 0x00, 0x00, 0x00,
};

static void test_bytes_as_tshark_read_them(void **state)
{
	struct ip6_addr router = addr("2001:db8:ff::1"), to = addr("2001:db8:1::5");
	uint8_t udp[128], buf[256];
	size_t u = reference_udp(udp, sizeof(udp));

	(void)state;
	assert_int_equal(u, sizeof(want_udp));
	assert_memory_equal(udp, want_udp, sizeof(want_udp));
	assert_int_equal(packet6_build_icmp_error(buf, sizeof(buf), &router, &to, 64,
						  ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, udp,
						  u),
			 48 + u);
	assert_memory_equal(buf, want_unreach_head, 48);
	assert_memory_equal(buf + 48, want_udp, u);
}

static void test_udp_build_and_parse(void **state)
{
	uint8_t buf[256];
	struct packet6_info pi;
	char why[160] = "x", a[IP6_TEXT_SIZE];
	size_t n = reference_udp(buf, sizeof(buf));

	(void)state;
	assert_int_equal(n, 40 + 8 + 20);
	assert_int_equal(buf[0], 0x60); /* version 6, traffic class 0 */
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_OK);
	assert_string_equal(why, "");
	assert_int_equal(pi.flow_label, 0x12345);
	assert_int_equal(pi.ip_payload_len, 28);
	assert_int_equal(pi.next_header, 17);
	assert_int_equal(pi.hop_limit, 64);
	assert_string_equal(ip6_format(&pi.src, a, sizeof(a)), "2001:db8:1::5");
	assert_string_equal(ip6_format(&pi.dst, a, sizeof(a)), "2001:db8:2::1");
	assert_int_equal(pi.sport, 5000);
	assert_int_equal(pi.dport, 3478);
	assert_int_equal(pi.payload_len, 20);
	assert_memory_equal(pi.payload, stun_like, 20);
	assert_int_equal(buf[46] << 8 | buf[47], 0x575b); /* tshark: [correct] */
	/* Link padding after the payload length is ignored. */
	assert_int_equal(packet6_parse(buf, n + 10, &pi, why, sizeof(why)), PACKET_OK);
	/* A sum that computes to 0 is sent as ffff (RFC 8200 8.1; tshark: correct). */
	{
		struct endpoint6 src = {pi.src, 27363}, dst = {pi.dst, 3478};

		n = packet6_build_udp(buf, sizeof(buf), &src, &dst, 64, 0x12345, stun_like, 20);
		assert_int_equal(buf[46] << 8 | buf[47], 0xffff);
		assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_OK);
	}
	assert_int_equal(packet6_build_udp(buf, n - 1, &(struct endpoint6){0},
					   &(struct endpoint6){0}, 64, 0, stun_like, 20),
			 0);
}

/* The refusals of the header and of UDP, each with its sentence. */
static void test_refusals(void **state)
{
	uint8_t buf[256], bad[256];
	struct packet6_info pi;
	char why[200];
	size_t n = reference_udp(buf, sizeof(buf));

	(void)state;
	assert_int_equal(packet6_parse(buf, 39, &pi, why, sizeof(why)), PACKET_ERR_IPV6_TRUNCATED);
	assert_non_null(strstr(why, "40-byte IPv6 header"));
	memcpy(bad, buf, n);
	bad[0] = 0x45;
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)), PACKET_ERR_IPV6_VERSION);
	assert_string_equal(why, "IP version field is 4, not 6");
	assert_int_equal(packet6_parse(buf, n - 1, &pi, why, sizeof(why)),
			 PACKET_ERR_IPV6_PAYLOAD_LENGTH);
	memcpy(bad, buf, n);
	bad[46] = bad[47] = 0; /* no UDP checksum: parses, flagged (packet6.h) */
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)), PACKET_OK);
	assert_true(pi.udp_no_checksum);
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_OK);
	assert_false(pi.udp_no_checksum);
	memcpy(bad, buf, n);
	bad[4] = 0xff; /* payload length past the bytes */
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)),
			 PACKET_ERR_IPV6_PAYLOAD_LENGTH);
	assert_true(ip6_is_unspecified(&pi.src)); /* no half-filled view */
	memcpy(bad, buf, n);
	bad[n - 1] ^= 1;
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)), PACKET_ERR_UDP_CHECKSUM);
	assert_non_null(strstr(why, "expected 0x"));
	memcpy(bad, buf, n);
	bad[45] = 7; /* UDP length 7 */
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)), PACKET_ERR_UDP_TRUNCATED);
	/* A UDP length shorter than the IPv6 payload: the checksum covers the
	 * UDP length (RFC 8200 8.1), and the rest is ignored. */
	memcpy(bad, buf, n);
	bad[45] = 27;
	bad[n - 1] ^= 0xff;
	packet6_fill_checksums(bad, n);
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)), PACKET_OK);
	assert_int_equal(pi.payload_len, 19);
	bad[44] = 1; /* UDP length 283 > 28 */
	assert_int_equal(packet6_parse(bad, n, &pi, why, sizeof(why)), PACKET_ERR_UDP_TRUNCATED);
	assert_non_null(strstr(why, "larger than the 28-byte IPv6 payload"));
}

/* Next headers natsim does not carry: extension headers by name, others
 * with the view filled for the dissector. */
static void test_next_headers(void **state)
{
	static const struct {
		uint8_t nh;
		int err;
		const char *words;
	} cases[] = {
	    {0, PACKET_ERR_IPV6_EXTENSION, "Hop-by-Hop Options extension header"},
	    {43, PACKET_ERR_IPV6_EXTENSION, "Routing"},
	    {44, PACKET_ERR_IPV6_EXTENSION, "Fragment"},
	    {60, PACKET_ERR_IPV6_EXTENSION, "Destination Options"},
	    {51, PACKET_ERR_IPV6_EXTENSION, "Authentication Header"},
	    {1, PACKET_ERR_UNSUPPORTED, "ICMP for IPv4; IPv6 carries ICMPv6 (58)"},
	    {59, PACKET_ERR_UNSUPPORTED, "No Next Header"},
	    {132, PACKET_ERR_UNSUPPORTED, "next header 132 is not modelled"},
	};
	uint8_t buf[256];
	struct packet6_info pi;
	char why[200];
	size_t n = reference_udp(buf, sizeof(buf));

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		buf[6] = cases[k].nh;
		assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), cases[k].err);
		assert_non_null(strstr(why, cases[k].words));
		assert_int_equal(pi.next_header,
				 cases[k].err == PACKET_ERR_UNSUPPORTED ? cases[k].nh : 0);
	}
}

static void test_icmp_echo(void **state)
{
	struct ip6_addr a = addr("2001:db8:1::5"), b = addr("2001:db8:2::1");
	uint8_t buf[256];
	struct packet6_info pi;
	char why[160];
	size_t n = packet6_build_icmp_echo(buf, sizeof(buf), &a, &b, 64, ICMP6_ECHO_REQUEST, 7, 1,
					   NULL, 56);

	(void)state;
	assert_int_equal(n, 40 + 8 + 56);
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_OK);
	assert_int_equal(pi.icmp_type, ICMP6_ECHO_REQUEST);
	assert_int_equal(pi.icmp_id, 7);
	assert_int_equal(pi.icmp_seq, 1);
	assert_int_equal(pi.sport, 7); /* a request's id plays its source port */
	assert_int_equal(pi.dport, 0);
	assert_false(pi.icmp_error);
	assert_int_equal(pi.payload[16], 16);		  /* ping's pattern after the timestamp */
	assert_int_equal(buf[42] << 8 | buf[43], 0x652f); /* tshark: [correct] */
	n = packet6_build_icmp_echo(buf, sizeof(buf), &b, &a, 64, ICMP6_ECHO_REPLY, 7, 1, "hi", 2);
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_OK);
	assert_int_equal(pi.dport, 7);
	/* The pseudo-header counts: the same message to another address fails. */
	buf[39] ^= 1;
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_ERR_ICMPV6_CHECKSUM);
	assert_int_equal(packet6_parse(buf, 47, &pi, why, sizeof(why)),
			 PACKET_ERR_IPV6_PAYLOAD_LENGTH);
	buf[5] = 7; /* payload length 7: too short for the ICMPv6 header */
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_ERR_ICMPV6_TRUNCATED);
	assert_int_equal(packet6_build_icmp_echo(buf, sizeof(buf), &a, &b, 64, 3, 7, 1, NULL, 0),
			 0);
}

/* An error about `offending` of `type`/`code`, parsed. */
static size_t error_about(uint8_t *buf, size_t cap, const uint8_t *offending, size_t len,
			  uint8_t type, uint8_t code, uint32_t param, struct packet6_info *pi)
{
	struct ip6_addr router = addr("2001:db8:ff::1"), to = addr("2001:db8:1::5");
	char why[200];
	size_t n =
	    packet6_build_icmp_error(buf, cap, &router, &to, 64, type, code, param, offending, len);

	assert_true(n > 0);
	assert_int_equal(packet6_parse(buf, n, pi, why, sizeof(why)), PACKET_OK);
	assert_true(pi->icmp_error);
	assert_int_equal(pi->icmp_type, type);
	assert_int_equal(pi->icmp_code, code);
	return n;
}

static void test_icmp_errors(void **state)
{
	uint8_t udp[256], buf[1600];
	struct packet6_info pi;
	char a[IP6_TEXT_SIZE];
	size_t u = reference_udp(udp, sizeof(udp)), n;

	(void)state;
	n = error_about(buf, sizeof(buf), udp, u + 6, ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0,
			&pi);
	assert_int_equal(n, 40 + 8 + u); /* the padding is not quoted */
	assert_int_equal(pi.inner.next_header, 17);
	assert_int_equal(pi.inner.sport, 5000);
	assert_int_equal(pi.inner.dport, 3478);
	assert_string_equal(ip6_format(&pi.inner.dst, a, sizeof(a)), "2001:db8:2::1");
	assert_int_equal(pi.inner.offset, 48);
	error_about(buf, sizeof(buf), udp, u, ICMP6_DEST_UNREACH, ICMP6_ADMIN_PROHIBITED, 0, &pi);
	error_about(buf, sizeof(buf), udp, u, ICMP6_DEST_UNREACH, ICMP6_ADDR_UNREACH, 0, &pi);
	error_about(buf, sizeof(buf), udp, u, ICMP6_TIME_EXCEEDED, ICMP6_EXC_HOP_LIMIT, 0, &pi);
	assert_int_equal(pi.icmp_param, 0);
	error_about(buf, sizeof(buf), udp, u, ICMP6_PACKET_TOO_BIG, 0, 1280, &pi);
	assert_int_equal(pi.icmp_param, 1280);
	assert_int_equal(packet6_build_icmp_error(buf, sizeof(buf), &pi.src, &pi.dst, 64,
						  ICMP6_ECHO_REQUEST, 0, 0, udp, u),
			 0);
	assert_int_equal(
	    packet6_build_icmp_error(buf, sizeof(buf), &pi.src, &pi.dst, 64, 1, 4, 0, udp, 39), 0);
}

/* RFC 4443 2.4(c): as much as fits in 1280 bytes, and no more. */
static void test_icmp_error_quote_limit(void **state)
{
	struct endpoint6 src = {addr("2001:db8:1::5"), 5000}, dst = {addr("2001:db8:2::1"), 9};
	static uint8_t big[1500], buf[1600], payload[1452];
	struct packet6_info pi;
	size_t u = packet6_build_udp(big, sizeof(big), &src, &dst, 64, 0, payload, sizeof(payload));
	size_t n;

	(void)state;
	assert_int_equal(u, 1500);
	n = error_about(buf, sizeof(buf), big, u, ICMP6_PACKET_TOO_BIG, 0, 1280, &pi);
	assert_int_equal(n, 1280);
	assert_int_equal(pi.inner.len, 1232);
	assert_int_equal(pi.inner.payload_len, 1460); /* its own, beyond the quote */
	assert_memory_equal(buf + 48, big, 1232);
}

static void test_icmp_error_refusals(void **state)
{
	uint8_t udp[256], buf[512];
	struct packet6_info pi;
	char why[200];
	size_t u = reference_udp(udp, sizeof(udp));
	size_t n = error_about(buf, sizeof(buf), udp, u, 1, 4, 0, &pi);

	(void)state;
	buf[4] = 0;
	buf[5] = 8 + 47; /* quote 47 bytes: the header and 7 */
	packet6_fill_checksums(buf, n);
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_ERR_ICMPV6_INNER);
	assert_non_null(strstr(why, "port unreachable quotes 47 bytes"));
	buf[5] = 8 + 39;
	packet6_fill_checksums(buf, n);
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_ERR_ICMPV6_INNER);
	assert_non_null(strstr(why, "too few for the IPv6 header"));
	buf[5] = 8 + 48;
	buf[48] = 0x45;
	packet6_fill_checksums(buf, n);
	assert_int_equal(packet6_parse(buf, n, &pi, why, sizeof(why)), PACKET_ERR_ICMPV6_INNER);
	assert_non_null(strstr(why, "is not IPv6 (version 4)"));
}

/* A SYN with an MSS option over IPv6, written by hand: TCP's reading is the
 * IPv4 code's, its checksum this module's. */
static void test_tcp(void **state)
{
	struct ip6_addr a = addr("2001:db8:1::5"), b = addr("2001:db8:2::1");
	uint8_t buf[128] = {0};
	struct packet6_info pi;
	char why[160], out[200];
	uint8_t *tcp = buf + 40;

	(void)state;
	memcpy(buf + 8, a.b, 16);
	memcpy(buf + 24, b.b, 16);
	buf[0] = 0x60;
	buf[5] = 24;
	buf[6] = 6;
	buf[7] = 64;
	tcp[0] = 0x9c, tcp[1] = 0x40; /* 40000 */
	tcp[3] = 80;
	tcp[7] = 1;	  /* seq 1 */
	tcp[12] = 6 << 4; /* 24 bytes */
	tcp[13] = TCP_SYN;
	tcp[14] = 0xfa, tcp[15] = 0xf0;				  /* window 64240 */
	tcp[20] = 2, tcp[21] = 4, tcp[22] = 0x05, tcp[23] = 0xa0; /* MSS 1440 */
	packet6_fill_checksums(buf, 64);
	assert_int_equal(packet6_parse(buf, 64, &pi, why, sizeof(why)), PACKET_OK);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.dport, 80);
	assert_int_equal(pi.tcp_flags, TCP_SYN);
	assert_int_equal(pi.tcp_opt.mss, 1440);
	assert_int_equal(tcp[16] << 8 | tcp[17], 0xa53d); /* tshark: [correct] */
	assert_int_equal(pi.payload_len, 0);
	packet6_summary(buf, 64, NULL, true, out, sizeof(out));
	assert_string_equal(out, "TCP [2001:db8:1::5]:40000 -> [2001:db8:2::1]:80 [SYN] seq=1 "
				 "win=64240 len=0 hlim=64");
	tcp[16] ^= 0x10;
	assert_int_equal(packet6_parse(buf, 64, &pi, why, sizeof(why)), PACKET_ERR_TCP_CHECKSUM);
	tcp[12] = 4 << 4;
	assert_int_equal(packet6_parse(buf, 64, &pi, why, sizeof(why)), PACKET_ERR_TCP_OFFSET);
}

static void test_hop_limit(void **state)
{
	uint8_t buf[256];
	struct packet6_info pi;
	size_t n = reference_udp(buf, sizeof(buf));

	(void)state;
	assert_int_equal(packet6_decrement_hop_limit(buf, n), 63);
	assert_int_equal(packet6_parse(buf, n, &pi, NULL, 0), PACKET_OK); /* no sum to fix */
	assert_int_equal(pi.hop_limit, 63);
	buf[7] = 0;
	assert_int_equal(packet6_decrement_hop_limit(buf, n), 0);
	assert_int_equal(buf[7], 0);
	assert_int_equal(packet6_decrement_hop_limit(buf, 39), 0);
}

static int fake_stun(const uint8_t *p, size_t len, char *out, size_t size)
{
	(void)p;
	return snprintf(out, size, "STUN %zu", len);
}

static void test_summary(void **state)
{
	uint8_t udp[256], buf[512];
	struct packet6_info pi;
	char out[256];
	size_t u = reference_udp(udp, sizeof(udp)), n;

	(void)state;
	packet6_summary(udp, u, fake_stun, false, out, sizeof(out));
	assert_string_equal(out,
			    "UDP [2001:db8:1::5]:5000 \xe2\x86\x92 [2001:db8:2::1]:3478 len=20 "
			    "hlim=64 [STUN 20]");
	n = error_about(buf, sizeof(buf), udp, u, 1, 4, 0, &pi);
	packet6_summary(buf, n, NULL, true, out, sizeof(out));
	assert_string_equal(out, "ICMPv6 2001:db8:ff::1 -> 2001:db8:1::5 port unreachable hlim=64 "
				 "[UDP [2001:db8:1::5]:5000 -> [2001:db8:2::1]:3478]");
	n = error_about(buf, sizeof(buf), udp, u, 2, 0, 1400, &pi);
	packet6_summary(buf, n, NULL, true, out, sizeof(out));
	assert_non_null(strstr(out, "packet too big mtu=1400 hlim=64 [UDP"));
	n = packet6_build_icmp_echo(buf, sizeof(buf), &pi.src, &pi.dst, 64, 128, 9, 3, NULL, 56);
	packet6_summary(buf, n, NULL, true, out, sizeof(out));
	assert_string_equal(out, "ICMPv6 2001:db8:ff::1 -> 2001:db8:1::5 echo request id=9 seq=3 "
				 "len=56 hlim=64");
	udp[6] = 59;
	packet6_summary(udp, u, NULL, true, out, sizeof(out));
	assert_string_equal(out, "next header 59 2001:db8:1::5 -> 2001:db8:2::1 len=28 hlim=64");
	udp[6] = 44;
	packet6_summary(udp, u, NULL, true, out, sizeof(out));
	assert_string_equal(out, "malformed: IPv6 extension header");
	assert_int_equal(packet6_summary(udp, u, NULL, true, out, 5), 32);
	assert_string_equal(out, "malf");
}

/* The named field's value, or fail. */
static const char *field(const struct packet_field *f, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(f[k].name, name) == 0)
			return f[k].value;
	fail_msg("no field %s", name);
	return NULL;
}

static void test_fields(void **state)
{
	uint8_t udp[256], buf[512];
	struct packet6_info pi;
	struct packet_field f[40];
	size_t u = reference_udp(udp, sizeof(udp)), n, k;

	(void)state;
	k = packet6_fields(udp, u, f, 40);
	assert_string_equal(field(f, k, "ipv6.version"), "6");
	assert_string_equal(field(f, k, "ipv6.flow"), "0x12345");
	assert_string_equal(field(f, k, "ipv6.plen"), "28");
	assert_string_equal(field(f, k, "ipv6.nxt"), "17 (UDP)");
	assert_string_equal(field(f, k, "ipv6.src"), "2001:db8:1::5");
	assert_string_equal(field(f, k, "udp.checksum"), "0x575b [correct]");
	udp[47] ^= 1;
	k = packet6_fields(udp, u, f, 40);
	assert_string_equal(f[0].name, "error");
	assert_string_equal(f[0].value, "bad UDP checksum");
	assert_string_equal(field(f, k, "udp.checksum"), "0x575a [wrong, expected 0x575b]");
	udp[46] = udp[47] = 0;
	k = packet6_fields(udp, u, f, 40);
	assert_string_equal(field(f, k, "udp.checksum"), "0x0000 [missing: IPv6 requires one]");
	u = reference_udp(udp, sizeof(udp));
	n = error_about(buf, sizeof(buf), udp, u, 2, 0, 1280, &pi);
	k = packet6_fields(buf, n, f, 40);
	assert_string_equal(field(f, k, "ipv6.nxt"), "58 (ICMPv6)");
	assert_string_equal(field(f, k, "icmpv6.code"), "0 (packet too big)");
	assert_string_equal(field(f, k, "icmpv6.mtu"), "1280");
	assert_non_null(strstr(field(f, k, "icmpv6.checksum"), "[correct]"));
	assert_string_equal(field(f, k, "inner.udp.dport"), "3478");
	assert_int_equal(packet6_fields(buf, n, f, 3), 3);
	assert_int_equal(packet6_fields(buf, 20, f, 40), 1); /* only the error */
}

static void test_error_strings(void **state)
{
	(void)state;
	for (int e = PACKET_ERR_IPV6_TRUNCATED; e >= PACKET_ERR_ICMPV6_INNER; e--) {
		const char *s = packet_error_str((enum packet_error)e);

		assert_string_not_equal(s, "unknown error");
		for (int f = e + 1; f <= PACKET_ERR_TRUNCATED; f++)
			assert_string_not_equal(s, packet_error_str((enum packet_error)f));
	}
}

/* Every prefix of every kind of packet, in a heap block of exactly its
 * length (ASan sees a read past it), is parsed, summarised and dissected,
 * and refused with a sentence unless it is the whole packet. */
static void test_every_truncation(void **state)
{
	uint8_t pk[4][600];
	size_t len[4];
	struct packet6_info pi;
	struct packet_field f[40];
	char why[200], out[300];

	(void)state;
	len[0] = reference_udp(pk[0], sizeof(pk[0]));
	len[1] = error_about(pk[1], sizeof(pk[1]), pk[0], len[0], 1, 4, 0, &pi);
	len[2] =
	    packet6_build_icmp_echo(pk[2], sizeof(pk[2]), &pi.src, &pi.dst, 64, 128, 1, 1, NULL, 8);
	len[3] = error_about(pk[3], sizeof(pk[3]), pk[2], len[2], 3, 0, 0, &pi);
	for (int k = 0; k < 4; k++) {
		for (size_t n = 0; n <= len[k]; n++) {
			uint8_t *b = malloc(n ? n : 1);
			int rc;

			memcpy(b, pk[k], n);
			why[0] = '\0';
			rc = packet6_parse(b, n, &pi, why, sizeof(why));
			assert_int_equal(rc == PACKET_OK, n == len[k]);
			assert_true(rc == PACKET_OK || why[0] != '\0');
			packet6_summary(b, n, NULL, true, out, sizeof(out));
			packet6_fields(b, n, f, 40);
			free(b);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bytes_as_tshark_read_them),
	    cmocka_unit_test(test_udp_build_and_parse),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_next_headers),
	    cmocka_unit_test(test_icmp_echo),
	    cmocka_unit_test(test_icmp_errors),
	    cmocka_unit_test(test_icmp_error_quote_limit),
	    cmocka_unit_test(test_icmp_error_refusals),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_hop_limit),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_error_strings),
	    cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
