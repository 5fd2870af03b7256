/*
 * test_packet_tcp.c - TCP bytes: Linux's SYN built byte for byte and read
 * back, the checksum against one summed by hand from RFC 9293's
 * pseudo-header, the parser's refusals (offset, options, checksum) with
 * their sentences, NAT rewrites keeping the checksum right, an ICMP error
 * quoting a segment, and the dissector's words and fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/packet.h"

static const struct endpoint alice = {IP4(10, 0, 0, 7), 40000}, web = {IP4(192, 0, 2, 1), 80};

/* Alice's SYN to the web server, as Linux 6.1 sends it. */
static size_t linux_syn(uint8_t *buf, size_t cap)
{
	struct tcp_options opt;
	struct tcp_segment seg = {.flags = TCP_SYN, .seq = 1000, .window = 64240, .opt = &opt};

	tcp_options_linux_syn(&opt, 0x01020304);
	return packet_build_tcp(buf, cap, &alice, &web, 64, 0x1111, &seg);
}

/* A full RFC 1071 sum of the pseudo-header and segment, word by word. */
static uint16_t sum_by_hand(const uint8_t *ip, size_t total)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tcp_len = total - ihl;
	uint32_t acc = 0;

	for (size_t i = 12; i < 20; i += 2)
		acc += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	acc += 6 + (uint32_t)tcp_len;
	for (size_t i = 0; i < tcp_len; i += 2) {
		uint32_t hi = ip[ihl + i], lo = i + 1 < tcp_len ? ip[ihl + i + 1] : 0;

		acc += hi << 8 | lo;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc; /* 0 when the stored checksum is right */
}

static void test_linux_syn_bytes(void **state)
{
	/* tcp_options_write: mss 1460, sackOK + TS, nop + wscale 7. */
	static const uint8_t opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2,
					 3, 4, 0,    0,	   0, 0, 1, 3,	3, 7};
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf));

	(void)state;
	assert_int_equal(len, 60);
	assert_int_equal(buf[6], 0x40); /* DF */
	assert_int_equal(buf[9], 6);
	assert_int_equal(buf[20 + 12], 10 << 4); /* data offset 40 bytes */
	assert_int_equal(buf[20 + 13], TCP_SYN);
	assert_memory_equal(buf + 40, opts, sizeof(opts));
	assert_int_equal(sum_by_hand(buf, len), 0);
}

static void test_parse_syn(void **state)
{
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf));
	struct packet_info pi;

	(void)state;
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.dport, 80);
	assert_int_equal(pi.tcp_flags, TCP_SYN);
	assert_int_equal(pi.tcp_seq, 1000);
	assert_int_equal(pi.tcp_window, 64240);
	assert_int_equal(pi.tcp_header_len, 40);
	assert_int_equal(pi.tcp_opt.seen,
			 TCP_OPT_SEEN(TCP_OPT_MSS) | TCP_OPT_SEEN(TCP_OPT_SACK_PERM) |
			     TCP_OPT_SEEN(TCP_OPT_TIMESTAMP) | TCP_OPT_SEEN(TCP_OPT_WSCALE));
	assert_int_equal(pi.tcp_opt.mss, 1460);
	assert_int_equal(pi.tcp_opt.wscale, 7);
	assert_int_equal(pi.tcp_opt.ts_val, 0x01020304);
	assert_int_equal(pi.payload_len, 0);
}

/* Data after the header; the options Linux writes without SACK. */
static void test_data_segment(void **state)
{
	struct tcp_options opt = {
	    .seen = TCP_OPT_SEEN(TCP_OPT_TIMESTAMP), .ts_val = 7, .ts_ecr = 9};
	struct tcp_segment seg = {.flags = TCP_ACK | TCP_PSH,
				  .seq = 1,
				  .ack = 2,
				  .window = 502,
				  .opt = &opt,
				  .payload = "hello",
				  .payload_len = 5};
	uint8_t buf[128];
	size_t len = packet_build_tcp(buf, sizeof(buf), &alice, &web, 64, 1, &seg);
	struct packet_info pi;

	(void)state;
	assert_int_equal(len, 20 + 32 + 5);
	assert_int_equal(buf[40], 1); /* NOP NOP before TS */
	assert_int_equal(buf[41], 1);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.payload_len, 5);
	assert_memory_equal(pi.payload, "hello", 5);
	assert_int_equal(pi.tcp_opt.ts_ecr, 9);
	assert_int_equal(sum_by_hand(buf, len), 0);
	assert_int_equal(packet_build_tcp(buf, 50, &alice, &web, 64, 1, &seg), 0);
}

struct tcp_case {
	const char *name;
	size_t off; /* into the TCP header */
	uint8_t val[4];
	size_t n;
	int err;
	const char *why;
};

/* Each case edits Linux's SYN (options at TCP bytes 20..39) and fixes the
 * checksum, so only the edit is wrong. */
static const struct tcp_case tcp_cases[] = {
    {"offset small", 12, {4 << 4}, 1, PACKET_ERR_TCP_OFFSET, "4 words (16 bytes), below"},
    {"offset big", 12, {15 << 4}, 1, PACKET_ERR_TCP_OFFSET, "60 bytes is larger than the 40"},
    {"opt len 0", 20, {2, 0}, 2, PACKET_ERR_TCP_OPTION, "kind 2 at header byte 20 has length 0"},
    {"opt past end", 36, {1, 1, 30, 9}, 4, PACKET_ERR_TCP_OPTION, "running past the 40-byte"},
    {"opt no length", 36, {1, 1, 1, 30}, 4, PACKET_ERR_TCP_OPTION, "no room for its length"},
    {"mss size", 20, {2, 3, 1, 1}, 4, PACKET_ERR_TCP_OPTION, "MSS option at header byte 20"},
    {"ws size", 36, {3, 2, 7, 1}, 4, PACKET_ERR_TCP_OPTION, "window scale option at"},
};

static void test_parse_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tcp_cases) / sizeof(tcp_cases[0]); i++) {
		const struct tcp_case *c = &tcp_cases[i];
		uint8_t buf[128];
		size_t len = linux_syn(buf, sizeof(buf));
		struct packet_info pi;
		char why[200];

		print_message("case %s\n", c->name);
		memcpy(buf + 20 + c->off, c->val, c->n);
		packet_fill_checksums(buf, len);
		assert_int_equal(packet_parse(buf, len, &pi, why, sizeof(why)), c->err);
		assert_non_null(strstr(why, c->why));
		assert_int_equal(pi.total_len, 0);
	}
}

static void test_eol_ends_options(void **state)
{
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf));
	struct packet_info pi;

	(void)state;
	buf[20 + 36] = TCP_OPT_EOL;
	buf[20 + 37] = 0xff; /* padding after EOL is not read */
	packet_fill_checksums(buf, len);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_false(pi.tcp_opt.seen & TCP_OPT_SEEN(TCP_OPT_WSCALE));
}

static void test_checksum_and_truncation(void **state)
{
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf));
	struct packet_info pi;
	char why[200];

	(void)state;
	buf[20 + 4] ^= 1; /* the sequence number, under the TCP checksum only */
	assert_int_equal(packet_parse(buf, len, &pi, why, sizeof(why)), PACKET_ERR_TCP_CHECKSUM);
	assert_non_null(strstr(why, "TCP checksum is wrong"));
	assert_string_equal(packet_error_str(PACKET_ERR_TCP_CHECKSUM), "bad TCP checksum");
	/* Shorter IP lengths: every one refused, none read past. */
	for (size_t total = 20; total < 60; total++) {
		len = linux_syn(buf, sizeof(buf));
		buf[2] = 0;
		buf[3] = (uint8_t)total;
		packet_fill_checksums(buf, total);
		assert_int_not_equal(packet_parse(buf, total, &pi, NULL, 0), PACKET_OK);
	}
}

/* A NAT's rewrites adjust the checksum as a full recomputation would. */
static void test_rewrites_keep_checksum(void **state)
{
	const struct endpoint pub = {IP4(203, 0, 113, 5), 61000}, inside = {IP4(10, 0, 0, 9), 8080};
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf));
	struct packet_info pi;

	(void)state;
	packet_rewrite_src(buf, len, &pub);
	packet_rewrite_dst(buf, len, &inside);
	assert_int_equal(sum_by_hand(buf, len), 0);
	assert_int_equal(packet_parse(buf, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.sport, 61000);
	assert_int_equal(pi.dport, 8080);
	assert_int_equal(pi.src, pub.ip);
}

static void test_icmp_error_quotes_tcp(void **state)
{
	const struct endpoint pub = {IP4(203, 0, 113, 5), 61000};
	uint8_t syn[128], err[256];
	size_t n = linux_syn(syn, sizeof(syn)), len;
	struct packet_info pi, in;
	char text[200];

	(void)state;
	len = packet_build_icmp_error(err, sizeof(err), web.ip, alice.ip, 64, 3, ICMP_DEST_UNREACH,
				      ICMP_PORT_UNREACH, syn, n);
	assert_int_equal(packet_parse(err, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.inner.proto, IPPROTO_NUM_TCP);
	assert_int_equal(pi.inner.sport, 40000);
	assert_int_equal(pi.inner.dport, 80);
	assert_int_equal(pi.inner.tcp_seq, 1000);
	packet_summary(err, len, NULL, true, text, sizeof(text));
	assert_non_null(strstr(text, "[TCP 10.0.0.7:40000 -> 192.0.2.1:80]"));
	/* RFC 5508 REQ-3 on the quoted segment: its checksum stays right. */
	packet_rewrite_inner_src(err, len, &pub);
	assert_int_equal(packet_parse(err, len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(packet_parse(err + pi.inner.offset, pi.inner.len, &in, NULL, 0),
			 PACKET_OK);
	assert_int_equal(in.sport, 61000);
}

static void test_summary(void **state)
{
	struct tcp_segment seg = {
	    .flags = TCP_SYN | TCP_ACK, .seq = 5, .ack = 1001, .window = 65160};
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf));
	char text[200], flags[64];

	(void)state;
	packet_summary(buf, len, NULL, false, text, sizeof(text));
	assert_string_equal(text, "TCP 10.0.0.7:40000 \xe2\x86\x92 192.0.2.1:80 [SYN] seq=1000 "
				  "win=64240 len=0 ttl=64");
	len = packet_build_tcp(buf, sizeof(buf), &web, &alice, 64, 0, &seg);
	packet_summary(buf, len, NULL, true, text, sizeof(text));
	assert_string_equal(text, "TCP 192.0.2.1:80 -> 10.0.0.7:40000 [SYN, ACK] seq=5 ack=1001 "
				  "win=65160 len=0 ttl=64");
	assert_string_equal(tcp_flags_format(0, flags, sizeof(flags)), "<none>");
	assert_string_equal(tcp_flags_format(0xff, flags, sizeof(flags)),
			    "FIN, SYN, RST, PSH, ACK, URG, ECE, CWR");
}

static const char *field(const struct packet_field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	}
	return NULL;
}

static void test_fields(void **state)
{
	struct packet_field f[48];
	uint8_t buf[128];
	size_t len = linux_syn(buf, sizeof(buf)), n;

	(void)state;
	n = packet_fields(buf, len, f, 48);
	assert_string_equal(field(f, n, "tcp.sport"), "40000");
	assert_string_equal(field(f, n, "tcp.flags"), "0x002 [SYN]");
	assert_string_equal(field(f, n, "tcp.hdr_len"), "40 bytes (10 words)");
	assert_string_equal(field(f, n, "tcp.options"),
			    "mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7");
	assert_non_null(strstr(field(f, n, "tcp.checksum"), "[correct]"));
	buf[20 + 16] ^= 0xff;
	n = packet_fields(buf, len, f, 48);
	assert_string_equal(field(f, n, "error"), "bad TCP checksum");
	assert_non_null(strstr(field(f, n, "tcp.checksum"), "[wrong, expected"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linux_syn_bytes),
	    cmocka_unit_test(test_parse_syn),
	    cmocka_unit_test(test_data_segment),
	    cmocka_unit_test(test_parse_refusals),
	    cmocka_unit_test(test_eol_ends_options),
	    cmocka_unit_test(test_checksum_and_truncation),
	    cmocka_unit_test(test_rewrites_keep_checksum),
	    cmocka_unit_test(test_icmp_error_quotes_tcp),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
