/*
 * test_gateway.c - the default gateway read from /proc/net/route's format
 * (app/net/gateway.c), on tables written here as the kernel prints them
 * (fib_route_seq_show: the addresses as the machine reads the __be32).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "app/net/gateway.h"

#define HEADER                                                                                     \
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

/* A route line for a.b.c.d as the kernel prints the __be32, added to the
 * table t (1024 bytes). */
static void route(char *t, const char *dev, const char *dest, const char *gw, unsigned flags,
		  unsigned metric, const char *mask)
{
	struct in_addr d, g, m;
	size_t n = strlen(t);
	assert_int_equal(inet_pton(AF_INET, dest, &d), 1);
	assert_int_equal(inet_pton(AF_INET, gw, &g), 1);
	assert_int_equal(inet_pton(AF_INET, mask, &m), 1);
	snprintf(t + n, 1024 - n, "%s\t%08X\t%08X\t%04X\t0\t0\t%u\t%08X\t0\t0\t0\n", dev, d.s_addr,
		 g.s_addr, flags, metric, m.s_addr);
}

static int gateway_of(const char *table, uint32_t *gw)
{
	FILE *f = fmemopen((void *)table, strlen(table), "r");
	assert_non_null(f);
	int rc = net_default_gateway_from(f, gw);
	fclose(f);
	return rc;
}

static void test_default_route(void **state)
{
	(void)state;
	char t[1024] = HEADER;
	uint32_t gw = 0;

	route(t, "eth0", "192.168.1.0", "0.0.0.0", 0x1, 0, "255.255.255.0");
	route(t, "eth0", "0.0.0.0", "192.168.1.1", 0x3, 100, "0.0.0.0");
	assert_int_equal(gateway_of(t, &gw), 0);
	assert_int_equal(gw, 0xC0A80101u);
}

static void test_smallest_metric_wins(void **state)
{
	(void)state;
	char t[1024] = HEADER;
	uint32_t gw = 0;

	route(t, "wlan0", "0.0.0.0", "10.0.0.1", 0x3, 600, "0.0.0.0");
	route(t, "eth0", "0.0.0.0", "172.31.1.1", 0x3, 100, "0.0.0.0");
	assert_int_equal(gateway_of(t, &gw), 0);
	assert_int_equal(gw, 0xAC1F0101u);
}

static void test_no_default_route(void **state)
{
	(void)state;
	char t[1024] = HEADER;
	uint32_t gw = 0;

	/* On-link only, a host route through a gateway, and a default route
	 * that is down: none of them is the default gateway. */
	route(t, "eth0", "10.1.0.0", "0.0.0.0", 0x1, 0, "255.255.0.0");
	route(t, "eth0", "10.2.0.0", "10.1.0.1", 0x3, 0, "255.255.0.0");
	route(t, "eth0", "0.0.0.0", "10.1.0.1", 0x2, 0, "0.0.0.0");
	assert_int_equal(gateway_of(t, &gw), -1);
	assert_int_equal(gateway_of("", &gw), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_route),
	    cmocka_unit_test(test_smallest_metric_wins),
	    cmocka_unit_test(test_no_default_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
