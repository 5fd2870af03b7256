/*
 * test_world_nat64.c - a home router's NAT64 and NPTv6 in the language
 * (`router NAME ipv6 P nat64 [PREFIX/96] public IPV4`, `nptv6 OUTSIDE`) and
 * in the world (docs/ipv6.md step 8): what is read, each refusal at its
 * file:line:col, and what world6.c wires (the pool address on the wan, the
 * NAT64 with its prefix, an IPv6-only host's agent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support_lang.h"

#include "app/world/world.h"
#include "base/addr6.h"
#include "model/router_xlat.h"

static const char world[] =
    "coordinator c at 192.0.2.10\n"
    "router home ipv6 2001:db8:1::/64 nat64 public 203.0.113.7\n"
    "router npt ipv6 fd01:203:405::/48 nptv6 2001:db8:5::/48\n"
    "router own ipv6 2001:db8:2::/64 nat64 64:ff9b:1::/96 public 203.0.113.8\n"
    "host alice at 2001:db8:1::5 behind home\n"
    "host web at 198.51.100.80 public\n";

static void assert_ip6(const struct ip6_addr *a, const char *text)
{
	char buf[48];

	assert_string_equal(ip6_format(a, buf, sizeof(buf)), text);
}

static void test_read(void **state)
{
	struct scenario *s = parse_ok(world);

	(void)state;
	assert_int_equal(s->n_routers, 3);
	const struct scenario_router *home = &s->routers[0], *npt = &s->routers[1];
	assert_true(home->nat64 && !home->nptv6);
	assert_ip6(&home->nat64_prefix, "64:ff9b::"); /* RFC 6052 2.1 by default */
	assert_int_equal(home->nat64_pool, 0xcb007107);
	assert_int_equal(home->nat64_loc.line, 2);
	assert_int_equal(home->nat64_loc.col, 34);
	assert_true(npt->nptv6 && !npt->nat64);
	assert_ip6(&npt->nptv6_outside, "2001:db8:5::");
	assert_int_equal(npt->nptv6_len, 48);
	assert_ip6(&s->routers[2].nat64_prefix, "64:ff9b:1::");
	/* alice's agent reaches the IPv4-only coordinator through the NAT64. */
	assert_ptr_equal(scenario_host_nat64(s, &s->hosts[0]), home);
	assert_true(scenario_host_has_agent6(s, &s->hosts[0]));
	assert_false(scenario_host_has_agent6(s, &s->hosts[1])); /* web: IPv4 */
	scenario_free(s);
}

static const struct {
	const char *line, *want;
} refusals[] = {
    {"router r ipv6 2001:db8:7::/64 nat64 64:ff9b::/64 public 203.0.113.9\n",
     "t.nsim:7:37: error: a NAT64 prefix is a /96 here (RFC 6052 2.2 allows /32 to /96, and "
     "natsim embeds the IPv4 address in the last 32 bits, as the /96 does): e.g. "
     "64:ff9b::/96, the well-known prefix"},
    {"router r ipv6 2001:db8:7::/64 nat64\n",
     "t.nsim:7:31: error: router 'r''s NAT64 needs its pool's IPv4 address, e.g. 'nat64 "
     "public 203.0.113.7' (the IPv4 source its inside's flows leave with)"},
    {"router r ipv6 2001:db8:7::/64 public 203.0.113.9\n",
     "t.nsim:7:38: error: a router's public IPv4 address is its NAT64's pool: write 'nat64 "
     "public ...' (an IPv4 home router is a 'nat')"},
    {"router r ipv6 2001:db8:7::/64 nat64 public 203.0.113.9,203.0.113.10\n",
     "t.nsim:7:55: error: a NAT64 here has one public address (the router's wan address, "
     "its pool of one)"},
    {"router r ipv6 2001:db8:7::/64 nptv6 2001:db8:8::/48\n",
     "t.nsim:7:37: error: NPTv6 maps a prefix onto one of the same length (RFC 6296 3.7 "
     "leaves other lengths out): the inside is a /64, this is a /48"},
    {"router r ipv6 2001:db8:7::/64 nptv6 2001:db8:7::/64\n",
     "t.nsim:7:37: error: the outside prefix is the inside one: NPTv6 would translate "
     "nothing"},
    {"router r ipv6 2001:db8:7::/64 nptv6 2001:db8:8::1/64\n",
     "t.nsim:7:37: error: '2001:db8:8::1/64' is not an IPv6 prefix like 2001:db8:1::/64: "
     "bits are set below the prefix length (an address, not a network)"},
    {"router r ipv6 2001:db8:7::/64\nhost x at 2001:db8:7::5 behind r\nat 1s register x\n",
     "t.nsim:9:16: error: host 'x' has no IPv4 address, and its agent reaches the "
     "coordinator over IPv6 only if the coordinator has an IPv6 address or the host sits "
     "behind a router with 'nat64'"},
    {"at 1s connect web to alice over tcp\n",
     "t.nsim:7:22: error: host 'alice' has no IPv4 address, and the agent over TCP speaks IPv4 "
     "only for now (the agent's IPv6 is docs/ipv6.md step 6)"},
    {"at 1s classify alice\n",
     "t.nsim:7:16: error: host 'alice' has no IPv4 address, and NAT behaviour discovery "
     "speaks IPv4 only for now (the agent's IPv6 is docs/ipv6.md step 6)"},
};

static int first_error_is(const char *line, const char *want)
{
	char text[2048], got[1024] = "";
	struct diag *d = diag_new();
	struct scenario *s;
	int bad = 0;

	snprintf(text, sizeof(text), "%s%s", world, line);
	s = scenario_parse(text, strlen(text), "t.nsim", d);
	assert_null(s);
	for (size_t k = 0; k < diag_count(d); k++) {
		const struct diagnostic *dg = diag_get(d, k);
		if (dg->severity != DIAG_ERROR)
			continue;
		snprintf(got, sizeof(got), "%s:%d:%d: error: %s", dg->file, dg->line, dg->col,
			 dg->message);
		break;
	}
	if (strcmp(got, want) != 0) {
		print_message("line: %s  want: %s\n  got: %s\n", line, want, got);
		bad = 1;
	}
	diag_free(d);
	return bad;
}

static void test_refusals(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		failed += first_error_is(refusals[i].line, refusals[i].want);
	assert_int_equal(failed, 0);
}

/* The NAT64 home: its pool address on the wan, beside its IPv6 transit
 * address; the NAT64 with the line's prefix and pool; the NPTv6 home has
 * no IPv4; alice has an agent though she has no IPv4. */
static void test_world(void **state)
{
	struct scenario *s = parse_ok(world);
	struct diag *d = diag_new();
	struct world w;

	(void)state;
	assert_int_equal(world_build(&w, s, 1, d), 0);
	struct world_router *home = world_find_router(&w, "home");
	assert_int_equal(home->wan->addr, 0xcb007107);
	assert_int_equal(home->wan->prefix_len, 32);
	assert_true(home->wan->has_addr6);
	struct nat64 *n = router_nat64(home->router);
	assert_non_null(n);
	assert_int_equal(nat64_config(n)->n_pool, 1);
	assert_int_equal(nat64_config(n)->pool[0], 0xcb007107);
	assert_ip6(&nat64_config(n)->prefix, "64:ff9b::");
	/* The internet's side of the uplink: the gateway of 203.0.113.0/24. */
	assert_int_equal(link_attachment(home->uplink, 0)->addr, 0xcb007101);
	assert_ip6(&nat64_config(router_nat64(world_find_router(&w, "own")->router))->prefix,
		   "64:ff9b:1::");
	struct world_router *npt = world_find_router(&w, "npt");
	assert_int_equal(npt->wan->addr, 0);
	assert_null(router_nat64(npt->router));
	assert_non_null(world_find_host(&w, "alice")->agent);
	world_free(&w);
	diag_free(d);
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_world),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
