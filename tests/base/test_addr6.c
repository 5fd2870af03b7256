/*
 * test_addr6.c - IPv6 addresses as text (RFC 4291 section 2.2 in, RFC 5952
 * out), every refusal with its reason and offset, prefixes and their
 * matching, endpoints, the family-tagged address, and the inet_ntop text
 * checked against the C library's own inet_ntop. Linked against base/ alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "base/addr6.h"

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;
	size_t at = 99;

	assert_int_equal(ip6_parse(s, &a, &at), IP6_OK);
	return a;
}

/* The text parses to the bytes inet_pton gives, and formats back as `out`. */
static void check_round_trip(const char *in, const char *out)
{
	struct ip6_addr a = addr(in), lib;
	char buf[IP6_TEXT_SIZE];

	assert_int_equal(inet_pton(AF_INET6, in, lib.b), 1);
	assert_memory_equal(a.b, lib.b, 16);
	assert_string_equal(ip6_format(&a, buf, sizeof(buf)), out);
}

/* RFC 4291 section 2.2's three forms, and RFC 5952's examples. */
static void test_rfc_examples(void **state)
{
	(void)state;
	/* RFC 4291 2.2 (1) and (2). */
	check_round_trip("2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a");
	check_round_trip("FF01:0:0:0:0:0:0:101", "ff01::101");
	check_round_trip("0:0:0:0:0:0:0:1", "::1");
	check_round_trip("0:0:0:0:0:0:0:0", "::");
	/* RFC 4291 2.2 (3): the mixed form. */
	check_round_trip("0:0:0:0:0:FFFF:129.144.52.38", "::ffff:129.144.52.38");
	check_round_trip("::13.1.68.3", "::d01:4403");
	/* RFC 5952 section 2 variants of one address, and section 4. */
	check_round_trip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	check_round_trip("2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	check_round_trip("2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1");
	check_round_trip("2001:db8:0:0:1::1", "2001:db8::1:0:0:1");
	check_round_trip("2001:db8::aaaa:0:0:1", "2001:db8::aaaa:0:0:1");
	check_round_trip("2001:0db8::0001", "2001:db8::1");		  /* 4.1 leading zeros */
	check_round_trip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* 4.2.2 one group */
	check_round_trip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");	  /* 4.2.3 longest */
	check_round_trip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");	  /* 4.2.3 first tie */
	check_round_trip("2001:DB8::ABCD", "2001:db8::abcd");		  /* 4.3 lowercase */
	check_round_trip("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"); /* "::" for one group in */
	check_round_trip("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8");
	check_round_trip("1::", "1::");
}

/* Every refusal: the reason, and where. */
static void test_refusals(void **state)
{
	static const struct {
		const char *s;
		enum ip6_error err;
		size_t at;
	} cases[] = {
	    {"", IP6_ERR_EMPTY, 0},
	    {"2001:db8::1::2", IP6_ERR_TWO_DOUBLE_COLONS, 11},
	    {":::", IP6_ERR_TRIPLE_COLON, 0},
	    {"1:::2", IP6_ERR_TRIPLE_COLON, 1},
	    {"2001:db8:12345::1", IP6_ERR_GROUP_TOO_LONG, 9},
	    {"1:2:3:4:5:6:7:8:9", IP6_ERR_TOO_MANY_GROUPS, 16},
	    {"1:2:3:4:5:6:7:8::", IP6_ERR_TOO_MANY_GROUPS, 15},
	    {"1:2:3::4:5:6:7:8", IP6_ERR_TOO_MANY_GROUPS, 15},
	    {"1:2:3:4:5:6:7", IP6_ERR_TOO_FEW_GROUPS, 13},
	    {"fe80::1%eth0", IP6_ERR_ZONE, 7},
	    {"2001:db8::1:", IP6_ERR_TRAILING_COLON, 11},
	    {":1::", IP6_ERR_LEADING_COLON, 0},
	    {"2001:db8::g", IP6_ERR_CHAR, 10},
	    {"2001:db8:: 1", IP6_ERR_CHAR, 10},
	    {"::1.2.3", IP6_ERR_BAD_IPV4, 2},
	    {"::1.2.3.04", IP6_ERR_BAD_IPV4, 2},
	    {"::1.2.3.4:5", IP6_ERR_IPV4_NOT_LAST, 2},
	    {"1:2:3:4:5:6:7:1.2.3.4", IP6_ERR_TOO_MANY_GROUPS, 14},
	    {"192.0.2.1", IP6_ERR_TOO_FEW_GROUPS, 9},
	};
	struct ip6_addr keep = addr("2001:db8::7"), a = keep;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t at = 999;

		print_message("%s\n", cases[k].s);
		assert_int_equal(ip6_parse(cases[k].s, &a, &at), cases[k].err);
		assert_int_equal(at, cases[k].at);
		assert_memory_equal(a.b, keep.b, 16); /* untouched */
		assert_true(strlen(ip6_error_str(cases[k].err)) > 10);
	}
	assert_int_equal(ip6_parse(NULL, &a, NULL), IP6_ERR_EMPTY);
	assert_non_null(strstr(ip6_error_str(IP6_ERR_ZONE), "link-local"));
}

static void test_prefixes(void **state)
{
	struct ip6_addr a;
	uint8_t len = 7;
	size_t at = 0;
	char buf[IP6_TEXT_SIZE];

	(void)state;
	assert_int_equal(ip6_prefix_parse("2001:db8::/32", &a, &len, &at), IP6_OK);
	assert_int_equal(len, 32);
	assert_string_equal(ip6_format(&a, buf, sizeof(buf)), "2001:db8::");
	assert_int_equal(ip6_prefix_parse("::/0", &a, &len, &at), IP6_OK);
	assert_int_equal(len, 0);
	assert_int_equal(ip6_prefix_parse("2001:db8::1", &a, &len, &at), IP6_OK);
	assert_int_equal(len, 128);
	assert_int_equal(ip6_prefix_parse("2001:db8::1/128", &a, &len, &at), IP6_OK);
	assert_int_equal(ip6_prefix_parse("2001:db8::/129", &a, &len, &at), IP6_ERR_PREFIX_LENGTH);
	assert_int_equal(at, 11);
	assert_int_equal(ip6_prefix_parse("2001:db8::/032", &a, &len, &at),
			 IP6_ERR_PREFIX_LEADING_ZERO);
	assert_int_equal(ip6_prefix_parse("2001:db8::/", &a, &len, &at), IP6_ERR_PREFIX_LENGTH);
	assert_int_equal(ip6_prefix_parse("2001:db8::/3x", &a, &len, &at), IP6_ERR_PREFIX_LENGTH);
	assert_int_equal(ip6_prefix_parse("2001:db8::1/32", &a, &len, &at), IP6_ERR_HOST_BITS);
	assert_int_equal(ip6_prefix_parse("2001:db9::/31", &a, &len, &at), IP6_ERR_HOST_BITS);
	assert_int_equal(ip6_prefix_parse("2001:db8::1::/32", &a, &len, &at),
			 IP6_ERR_TWO_DOUBLE_COLONS);
	assert_int_equal(ip6_prefix_parse("fe80::%eth0/64", &a, &len, &at), IP6_ERR_ZONE);
	assert_int_equal(len, 128); /* untouched by every refusal */
}

static void test_prefix_match(void **state)
{
	struct ip6_addr net = addr("2001:db8:ab00::"), x = addr("2001:db8:abcd::1");
	char buf[IP6_TEXT_SIZE];

	(void)state;
	assert_true(ip6_prefix_match(&net, 24, &x));
	assert_true(ip6_prefix_match(&net, 40, &x));
	assert_false(ip6_prefix_match(&net, 41, &x)); /* ab00 vs abcd: bit 41 differs */
	assert_true(ip6_prefix_match(&net, 0, &x));
	assert_true(ip6_prefix_match(&x, 128, &x));
	assert_false(ip6_prefix_match(&net, 128, &x));
	x = ip6_prefix_masked(&x, 36);
	assert_string_equal(ip6_format(&x, buf, sizeof(buf)), "2001:db8:a000::");
	x = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	x = ip6_prefix_masked(&x, 127);
	assert_string_equal(ip6_format(&x, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
}

static void test_mapped_and_endpoints(void **state)
{
	struct ip6_addr m = ip6_v4_mapped(IP4(192, 0, 2, 1));
	struct endpoint6 ep = {addr("2001:db8::1"), 443}, back;
	char buf[ENDPOINT6_TEXT_SIZE];
	size_t at = 0;

	(void)state;
	assert_true(ip6_is_v4_mapped(&m));
	assert_int_equal(ip6_v4_of_mapped(&m), IP4(192, 0, 2, 1));
	assert_string_equal(ip6_format(&m, buf, sizeof(buf)), "::ffff:192.0.2.1");
	m = addr("::ffff:0:0");
	assert_string_equal(ip6_format(&m, buf, sizeof(buf)), "::ffff:0.0.0.0");
	assert_string_equal(endpoint6_format(&ep, buf, sizeof(buf)), "[2001:db8::1]:443");
	assert_int_equal(endpoint6_parse("[2001:db8::1]:443", &back, &at), IP6_OK);
	assert_true(ip6_equal(&back.ip, &ep.ip));
	assert_int_equal(back.port, 443);
	assert_int_equal(endpoint6_parse("2001:db8::1:443", &back, &at), IP6_ERR_BRACKET);
	assert_int_equal(endpoint6_parse("[2001:db8::1]443", &back, &at), IP6_ERR_BRACKET);
	assert_int_equal(at, 13);
	assert_int_equal(endpoint6_parse("[2001:db8::1]:65536", &back, &at), IP6_ERR_PORT);
	assert_int_equal(endpoint6_parse("[2001:db8::1]:0443", &back, &at), IP6_ERR_PORT);
	assert_int_equal(endpoint6_parse("[2001:db8::1::2]:1", &back, &at),
			 IP6_ERR_TWO_DOUBLE_COLONS);
	assert_int_equal(at, 12); /* counted from the '[' */
	assert_int_equal(endpoint6_format(&ep, buf, 6) - buf, 0);
	assert_string_equal(buf, "[2001");
}

static void test_either_family(void **state)
{
	struct ip_addr a, b;
	struct ip_endpoint ep;
	char buf[ENDPOINT6_TEXT_SIZE];
	size_t at = 0;

	(void)state;
	assert_int_equal(ip_addr_parse("192.0.2.1", &a, &at), IP6_OK);
	assert_int_equal(a.family, IP_FAMILY_V4);
	assert_int_equal(ip_addr_parse("::ffff:192.0.2.1", &b, &at), IP6_OK);
	assert_int_equal(b.family, IP_FAMILY_V6);
	assert_false(ip_addr_equal(&a, &b)); /* the family is part of the address */
	assert_int_equal(ip_addr_parse("192.0.2.300", &a, &at), IP6_ERR_BAD_IPV4);
	ep = (struct ip_endpoint){ip_addr_v4(IP4(192, 0, 2, 1)), 3478};
	assert_string_equal(ip_endpoint_format(&ep, buf, sizeof(buf)), "192.0.2.1:3478");
	ep.addr = b;
	assert_string_equal(ip_endpoint_format(&ep, buf, sizeof(buf)), "[::ffff:192.0.2.1]:3478");
	a = (struct ip_addr){.family = IP_FAMILY_NONE};
	assert_string_equal(ip_addr_format(&a, buf, sizeof(buf)), "none");
}

/* ip6_format_as_inet_ntop writes what the C library's inet_ntop writes (the
 * text conntrack-tools prints), for the corner cases and for addresses built
 * of zero and non-zero groups in every pattern. */
static void test_inet_ntop_agrees(void **state)
{
	static const uint16_t values[] = {0, 1, 0xffff, 0x0102};
	char ours[IP6_TEXT_SIZE], lib[INET6_ADDRSTRLEN];
	struct ip6_addr a;

	(void)state;
	for (unsigned pattern = 0; pattern < (1u << 16); pattern++) {
		for (int k = 0; k < 8; k++) {
			uint16_t g = values[(pattern >> (2 * k)) & 3];

			a.b[2 * k] = (uint8_t)(g >> 8);
			a.b[2 * k + 1] = (uint8_t)g;
		}
		assert_non_null(inet_ntop(AF_INET6, a.b, lib, sizeof(lib)));
		ip6_format_as_inet_ntop(&a, ours, sizeof(ours));
		if (strcmp(ours, lib) != 0)
			fail_msg("pattern %u: ours %s, inet_ntop %s", pattern, ours, lib);
		/* RFC 5952 differs only for IPv4-compatible ::a.b.c.d. */
		ip6_format(&a, ours, sizeof(ours));
		if (strcmp(ours, lib) != 0 && strncmp(lib, "::", 2) != 0)
			fail_msg("pattern %u: RFC 5952 %s, inet_ntop %s", pattern, ours, lib);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_examples),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_prefix_match),
	    cmocka_unit_test(test_mapped_and_endpoints),
	    cmocka_unit_test(test_either_family),
	    cmocka_unit_test(test_inet_ntop_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
