/*
 * test_endpoint.c - IPv4 addresses and endpoints as text: formatting, and
 * the strict parsers, one table each. Linked against base/ alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/endpoint.h"

static void test_ip_format(void **state)
{
	char b[32];
	struct endpoint ep = {IP4(255, 255, 255, 255), 65535};

	(void)state;
	assert_string_equal(ip_format(IP4(192, 0, 2, 1), b, sizeof(b)), "192.0.2.1");
	assert_string_equal(ip_format(0, b, sizeof(b)), "0.0.0.0");
	assert_string_equal(endpoint_format(&ep, b, sizeof(b)), "255.255.255.255:65535");
	assert_string_equal(ip_format(IP4(10, 0, 0, 1), b, 5), "10.0");
}

static void test_ip_parse_table(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint32_t ip;
	} cases[] = {
	    {"0.0.0.0", 0, 0},
	    {"192.168.1.5", 0, IP4(192, 168, 1, 5)},
	    {"255.255.255.255", 0, 0xffffffffu},
	    {"10.0.0.1", 0, IP4(10, 0, 0, 1)},
	    {"1.2.3", -1, 0},
	    {"1.2.3.4.5", -1, 0},
	    {"256.1.1.1", -1, 0},
	    {"1.2.3.4 ", -1, 0},
	    {" 1.2.3.4", -1, 0},
	    {"1.2.3.", -1, 0},
	    {".1.2.3", -1, 0},
	    {"1..2.3", -1, 0},
	    {"01.2.3.4", -1, 0},
	    {"1.2.3.1000", -1, 0},
	    {"1.2.3.-4", -1, 0},
	    {"+1.2.3.4", -1, 0},
	    {"1.2.3.4/8", -1, 0},
	    {"0x1.2.3.4", -1, 0},
	    {"", -1, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t ip = 0x5a5a5a5a;

		print_message("ip_parse(\"%s\")\n", cases[i].s);
		assert_int_equal(ip_parse(cases[i].s, &ip), cases[i].ret);
		assert_int_equal(ip, cases[i].ret == 0 ? cases[i].ip : 0x5a5a5a5a);
	}
}

static void test_prefix_parse_table(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint32_t addr;
		uint8_t len;
	} cases[] = {
	    {"10.0.0.0/8", 0, IP4(10, 0, 0, 0), 8},
	    {"0.0.0.0/0", 0, 0, 0},
	    {"192.168.1.5/32", 0, IP4(192, 168, 1, 5), 32},
	    {"192.168.1.5", 0, IP4(192, 168, 1, 5), 32}, /* bare: a /32, as iptables */
	    {"100.64.0.0/10", 0, IP4(100, 64, 0, 0), 10},
	    {"1.2.3.4/33", -1, 0, 0},
	    {"10.0.0.1/8", -1, 0, 0}, /* host bits set: rejected, not masked */
	    {"1.0.0.0/0", -1, 0, 0},
	    {"10.0.0.0/", -1, 0, 0},
	    {"10.0.0.0/08", -1, 0, 0},
	    {"10.0.0.0/8/8", -1, 0, 0},
	    {"10.0.0/8", -1, 0, 0},
	    {"/8", -1, 0, 0},
	    {"10.0.0.0/-1", -1, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t addr = 0x5a5a5a5a;
		uint8_t len = 99;

		print_message("prefix_parse(\"%s\")\n", cases[i].s);
		assert_int_equal(prefix_parse(cases[i].s, &addr, &len), cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(addr, cases[i].addr);
			assert_int_equal(len, cases[i].len);
		} else {
			assert_int_equal(addr, 0x5a5a5a5a);
			assert_int_equal(len, 99);
		}
	}
	assert_int_equal(prefix_mask(0), 0);
	assert_int_equal(prefix_mask(8), 0xff000000u);
	assert_int_equal(prefix_mask(32), 0xffffffffu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip_format),
	    cmocka_unit_test(test_ip_parse_table),
	    cmocka_unit_test(test_prefix_parse_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
