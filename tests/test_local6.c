/*
 * test_local6.c - this machine's IPv6 host candidates (app/net/local6.c):
 * each rule of local6.h on its own address, and a table in
 * /proc/net/if_inet6's format read down to the usable addresses.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/net/local6.h"

static enum net_addr6_use use_of(const char *text, unsigned flags, bool loopback)
{
	uint8_t a[16];
	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	return net_addr6_usable(a, flags, loopback);
}

/* Each kind of address falls to its rule (local6.h), whatever the flags. */
static void test_address_kinds(void **state)
{
	(void)state;
	assert_int_equal(use_of("2001:db8::1", 0x80, false), NET_ADDR6_USABLE);
	assert_int_equal(use_of("fd00::2", 0x82, false), NET_ADDR6_USABLE); /* ULA, nodad */
	assert_int_equal(use_of("::1", 0x80, false), NET_ADDR6_LOOPBACK);
	assert_int_equal(use_of("::1", 0x80, true), NET_ADDR6_USABLE);
	assert_int_equal(use_of("fe80::fc:ff:fe00:1", 0x80, true), NET_ADDR6_LINK_LOCAL);
	assert_int_equal(use_of("febf::1", 0, false), NET_ADDR6_LINK_LOCAL);
	assert_int_equal(use_of("fec0::1", 0, false), NET_ADDR6_SITE_LOCAL);
	assert_int_equal(use_of("ff02::1", 0, false), NET_ADDR6_MULTICAST);
	assert_int_equal(use_of("::ffff:192.0.2.1", 0, false), NET_ADDR6_V4_MAPPED);
	assert_int_equal(use_of("::192.0.2.1", 0, false), NET_ADDR6_V4_COMPATIBLE);
	assert_int_equal(use_of("::", 0, false), NET_ADDR6_UNSPECIFIED);
	/* Near misses of those prefixes are ordinary addresses. */
	assert_int_equal(use_of("fe00::1", 0, false), NET_ADDR6_USABLE);
	assert_int_equal(use_of("::1:0:0:1", 0, false), NET_ADDR6_USABLE);
	assert_int_equal(use_of("::fffe:c000:201", 0, false), NET_ADDR6_USABLE);
}

/* The kernel's flags: tentative (unless optimistic, RFC 4429), DAD failed
 * and deprecated are left out. */
static void test_address_flags(void **state)
{
	(void)state;
	assert_int_equal(use_of("2001:db8::1", NET_IFA_F_TENTATIVE, false), NET_ADDR6_TENTATIVE);
	assert_int_equal(use_of("2001:db8::1", NET_IFA_F_TENTATIVE | NET_IFA_F_OPTIMISTIC, false),
			 NET_ADDR6_USABLE);
	assert_int_equal(use_of("2001:db8::1", NET_IFA_F_TENTATIVE | NET_IFA_F_DADFAILED, false),
			 NET_ADDR6_DAD_FAILED);
	assert_int_equal(use_of("2001:db8::1", NET_IFA_F_DEPRECATED | 0x80, false),
			 NET_ADDR6_DEPRECATED);
	assert_string_equal(net_addr6_use_str(NET_ADDR6_LINK_LOCAL), "link-local (fe80::/10)");
}

static bool up_unless_down0(const char *ifname, void *ctx)
{
	(void)ctx;
	return strcmp(ifname, "down0") != 0;
}

/* A table as /proc/net/if_inet6 prints it: only the global and ULA
 * addresses of interfaces that are up come out, in the table's order. */
static void test_table(void **state)
{
	static const char table[] =
	    "00000000000000000000000000000001 01 80 10 80       lo\n"
	    "20010db8000100000000000000000005 04 40 00 80     eth0\n"
	    "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n"
	    "20010db8000100000000000000000006 04 40 00 c0     eth0\n" /* tentative */
	    "20010db8000100000000000000000007 04 40 00 a0     eth0\n" /* deprecated */
	    "20010db8000200000000000000000009 05 40 00 80    down0\n"
	    "not a line\n"
	    "fd000000000000000000000000000002 06 40 00 82     eth1\n";
	uint8_t out[8][16], want[16];
	FILE *f = fmemopen((void *)table, sizeof(table) - 1, "r");

	(void)state;
	assert_non_null(f);
	size_t n = net_local_addresses6_from(f, out, 8, false, up_unless_down0, NULL);
	fclose(f);
	assert_int_equal(n, 2);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::5", want), 1);
	assert_memory_equal(out[0], want, 16);
	assert_int_equal(inet_pton(AF_INET6, "fd00::2", want), 1);
	assert_memory_equal(out[1], want, 16);

	f = fmemopen((void *)table, sizeof(table) - 1, "r");
	assert_non_null(f);
	n = net_local_addresses6_from(f, out, 1, true, NULL, NULL); /* loopback asked, max 1 */
	fclose(f);
	assert_int_equal(n, 1);
	assert_int_equal(inet_pton(AF_INET6, "::1", want), 1);
	assert_memory_equal(out[0], want, 16);
}

/* This machine's own list: whatever it holds, nothing that a rule leaves out. */
static void test_this_machine(void **state)
{
	uint8_t out[16][16];
	(void)state;
	int n = net_local_addresses6(out, 16, false);
	if (n < 0)
		skip(); /* no IPv6 here */
	for (int i = 0; i < n; i++)
		assert_int_equal(net_addr6_usable(out[i], 0, false), NET_ADDR6_USABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_address_kinds),
	    cmocka_unit_test(test_address_flags),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_this_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
