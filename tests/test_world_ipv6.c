/*
 * test_world_ipv6.c - worlds with IPv6 (app/world/world6.c, docs/ipv6.md
 * step 5): a dual-stack home and an IPv6-only one get their transit
 * addresses, inside addresses and routes, hosts their IPv6 addresses; and
 * `natsim matrix --family` writes the worlds it would run (6: IPv6-only
 * homes with RFC 6092 firewalls filtering as the NAT kind; dual: both).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support_lang.h"

#include "app/cli/matrix.h"
#include "app/world/world.h"
#include "base/addr6.h"
#include "model/filter6.h"
#include "model/firewall.h"

static const char dual[] = "coordinator c at 192.0.2.10 and 2001:db8:ff::10\n"
			   "nat home preset symmetric public 203.0.113.7 ipv6 2001:db8:1::/64\n"
			   "router office ipv6 2001:db8:2::/64 reject6 on\n"
			   "host alice at 192.168.1.5 and 2001:db8:1::5 behind home\n"
			   "host bob at 2001:db8:2::5 behind office firewall on\n"
			   "host web at 198.51.100.80 and 2001:db8:ff::80 public\n"
			   "rule office forward accept ip6 icmpv6 type echo-request\n";

static void assert_addr6(const struct iface *ifc, const char *text, uint8_t len)
{
	char buf[48];

	assert_true(ifc->has_addr6);
	assert_string_equal(ip6_format(iface_addr6(ifc), buf, sizeof(buf)), text);
	assert_int_equal(ifc->prefix6_len, len);
}

static void test_dual_stack_world(void **state)
{
	struct scenario *s = parse_ok(dual);
	struct diag *d = diag_new();
	struct world w;
	struct ip6_addr a;
	char buf[48];

	(void)state;
	assert_int_equal(world_build(&w, s, 1, d), 0);
	/* The NAT keeps its IPv4 sides and gains IPv6 on both: transit link 1. */
	struct world_nat *home = world_find_nat(&w, "home");
	assert_int_equal(home->wan->addr, 0xcb007107);
	assert_addr6(home->wan, "3fff:0:1::2", 64);
	assert_addr6(home->lan, "2001:db8:1::1", 64);
	assert_addr6(link_attachment(home->uplink, 0), "3fff:0:1::1", 64);
	/* The IPv6-only router: transit link 2, no IPv4 at all. */
	struct world_router *office = world_find_router(&w, "office");
	assert_non_null(office);
	assert_int_equal(office->wan->addr, 0);
	assert_addr6(office->wan, "3fff:0:2::2", 64);
	assert_addr6(office->lan, "2001:db8:2::1", 64);
	/* Hosts: alice dual, bob IPv6 only (an agent: the coordinator has IPv6),
	 * web public /128. */
	assert_true(host_address6(world_find_host(&w, "alice")->host, &a));
	assert_string_equal(ip6_format(&a, buf, sizeof(buf)), "2001:db8:1::5");
	assert_int_equal(host_iface(world_find_host(&w, "alice")->host)->addr, 0xc0a80105);
	struct world_host *bob = world_find_host(&w, "bob");
	assert_int_equal(host_iface(bob->host)->addr, 0);
	assert_addr6(host_iface(bob->host), "2001:db8:2::5", 64);
	assert_non_null(bob->agent);
	assert_true(bob->fw6);
	assert_addr6(host_iface(world_find_host(&w, "web")->host), "2001:db8:ff::80", 128);
	assert_addr6(host_iface(w.coord_host), "2001:db8:ff::10", 128);
	/* The ip6 rule went to the router's ip6 table, after RFC 6092's own
	 * but before its closing REJECT (reject6 on), where it can match. */
	struct firewall *fw = filter6_firewall(router_filter6(office->router));
	size_t n = firewall_rule_count(fw, FW_CHAIN_FORWARD);
	assert_true(n >= 2);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_FORWARD, n - 1)->action, FW_REJECT);
	const struct fw_rule *mine = firewall_rule(fw, FW_CHAIN_FORWARD, n - 2);
	assert_int_equal(mine->family, 6);
	assert_int_equal(mine->proto, 58);
	assert_true(mine->match_icmp_type && mine->icmp_type == 128);
	assert_int_equal(mine->action, FW_ACCEPT);
	/* home rejects nothing (reject6 off): its table ends with the inside's
	 * outbound accept, and the FORWARD policy drops the rest. */
	fw = filter6_firewall(router_filter6(home->router));
	n = firewall_rule_count(fw, FW_CHAIN_FORWARD);
	assert_int_equal(firewall_rule(fw, FW_CHAIN_FORWARD, n - 1)->action, FW_ACCEPT);
	assert_int_equal(firewall_policy(fw, FW_CHAIN_FORWARD), FW_DROP);
	world_free(&w);
	diag_free(d);
	scenario_free(s);
}

/* An IPv4-only scenario builds no IPv6 anywhere. */
static void test_ipv4_world_has_no_ipv6(void **state)
{
	struct scenario *s = parse_ok("nat home preset symmetric public 203.0.113.7\n"
				      "host alice at 192.168.1.5 behind home\n");
	struct diag *d = diag_new();
	struct world w;

	(void)state;
	assert_int_equal(world_build(&w, s, 1, d), 0);
	assert_false(world_find_nat(&w, "home")->wan->has_addr6);
	assert_false(host_iface(world_find_host(&w, "alice")->host)->has_addr6);
	assert_int_equal(w.n_transit, 0);
	world_free(&w);
	diag_free(d);
	scenario_free(s);
}

/* The world part of a matrix pair's text (before its actions). */
static struct scenario *matrix_world(int a, int b, int family)
{
	struct matrix_setup setup = {.family = family};
	char text[2048];

	matrix_scenario_text(a, b, &setup, text, sizeof(text));
	*strstr(text, "at 0s") = '\0';
	return parse_ok(text);
}

static void test_matrix_families(void **state)
{
	struct scenario *s;
	char four[2048], none[2048];
	struct matrix_setup v4 = {.family = MATRIX_FAMILY_4};
	int f;

	(void)state;
	/* --family 4 is the matrix as it always was. */
	matrix_scenario_text(2, 5, &v4, four, sizeof(four));
	matrix_scenario_text(2, 5, NULL, none, sizeof(none));
	assert_string_equal(four, none);
	assert_null(strstr(four, "2001:"));
	/* 6: full-cone x symmetric become EIF and APDF routers, IPv6 hosts. */
	s = matrix_world(2, 5, MATRIX_FAMILY_6);
	assert_int_equal(s->n_nats, 0);
	assert_int_equal(s->n_routers, 2);
	assert_int_equal(s->routers[0].v6.filtering, SCENARIO_EI);
	assert_int_equal(s->routers[1].v6.filtering, SCENARIO_APD);
	assert_true(s->hosts[0].has_ip6 && !scenario_host_has_ipv4(&s->hosts[0]));
	scenario_free(s);
	/* dual: the NAT for IPv4 and the firewall for IPv6; open hosts too. */
	s = matrix_world(3, 0, MATRIX_FAMILY_DUAL);
	assert_int_equal(s->n_nats, 1);
	assert_true(s->nats[0].v6.present);
	assert_int_equal(s->nats[0].v6.filtering, SCENARIO_AD);
	assert_true(s->hosts[0].has_ip6 && scenario_host_has_ipv4(&s->hosts[0]));
	assert_true(s->hosts[1].has_ip6 && s->hosts[1].is_public);
	scenario_free(s);
	assert_int_equal(matrix_parse_family("dual", &f), 0);
	assert_int_equal(f, MATRIX_FAMILY_DUAL);
	assert_int_equal(matrix_parse_family("6", &f), 0);
	assert_int_equal(f, MATRIX_FAMILY_6);
	assert_int_equal(matrix_parse_family("ipv6", &f), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dual_stack_world),
	    cmocka_unit_test(test_ipv4_world_has_no_ipv6),
	    cmocka_unit_test(test_matrix_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
