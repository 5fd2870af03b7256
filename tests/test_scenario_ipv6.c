/*
 * test_scenario_ipv6.c - IPv6 in the scenario language (docs/ipv6.md step
 * 5): dual-stack and IPv6-only hosts, the coordinator's IPv6 addresses, a
 * home router's IPv6 side (`nat ... ipv6 PREFIX`, `router ... ipv6 PREFIX`)
 * and its firewall options, ip6 rules, pings to IPv6 addresses; and every
 * refusal at its file:line:col with what was expected and why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support_lang.h"

#include "app/lang/scenario.h"
#include "base/addr6.h"
#include "sim/verdict.h" /* FW_REJECT_* */

static const char world[] =
    "coordinator c at 192.0.2.10 and 2001:db8:ff::10 alternate 192.0.2.11 and 2001:db8:ff::11\n"
    "nat home preset symmetric public 203.0.113.7 ipv6 2001:db8:1::/64\n"
    "router office ipv6 2001:db8:2::/56 firewall6 rfc6092 filtering6 EIF reject6 on\n"
    "host alice at 192.168.1.5 and 2001:db8:1::5 behind home\n"
    "host bob at 2001:db8:2::5 behind office\n"
    "host web at 2001:db8:ff::80 and 198.51.100.80 public\n";

static void assert_ip6(const struct ip6_addr *a, const char *text)
{
	char buf[48];

	assert_string_equal(ip6_format(a, buf, sizeof(buf)), text);
}

static void test_hosts_and_coordinator(void **state)
{
	struct scenario *s = parse_ok(world);
	const struct scenario_host *h;

	(void)state;
	h = scenario_find_host(s, "alice");
	assert_true(h->has_ip6 && scenario_host_has_ipv4(h));
	assert_int_equal(h->ip, 0xc0a80105);
	assert_ip6(&h->ip6, "2001:db8:1::5");
	assert_int_equal(h->ip6_loc.line, 4);
	assert_int_equal(h->ip6_loc.col, 31);
	h = scenario_find_host(s, "bob");
	assert_true(h->has_ip6 && !scenario_host_has_ipv4(h));
	assert_int_equal(h->ip_loc.line, 0);
	h = scenario_find_host(s, "web"); /* either order */
	assert_true(h->has_ip6 && h->ip == 0xc6336450 && h->is_public);
	assert_ip6(&h->ip6, "2001:db8:ff::80");
	assert_true(s->coordinator->has_ip6 && s->coordinator->has_alternate);
	assert_ip6(&s->coordinator->ip6, "2001:db8:ff::10");
	assert_ip6(&s->coordinator->alt_ip6, "2001:db8:ff::11");
	assert_int_equal(s->coordinator->alt_ip, 0xc000020b);
	scenario_free(s);
}

static void test_home_routers(void **state)
{
	struct scenario *s = parse_ok(world);
	const struct scenario_nat *n;

	(void)state;
	n = scenario_find_nat(s, "home");
	assert_true(n->v6.present);
	assert_ip6(&n->v6.prefix, "2001:db8:1::");
	assert_int_equal(n->v6.prefix_len, 64);
	/* Not given: the builder's defaults (rfc6092, APD, silent). */
	assert_int_equal(n->v6.firewall, SCENARIO_UNSET);
	assert_int_equal(n->v6.filtering, SCENARIO_UNSET);
	assert_int_equal(n->v6.reject, SCENARIO_UNSET);
	assert_int_equal(s->n_routers, 1);
	const struct scenario_router *r = &s->routers[0];
	assert_string_equal(r->name, "office");
	assert_int_equal(r->v6.prefix_len, 56);
	assert_int_equal(r->v6.firewall, SCENARIO_FW6_RFC6092);
	assert_int_equal(r->v6.filtering, SCENARIO_EI);
	assert_int_equal(r->v6.reject, 1);
	scenario_free(s);

	s = parse_ok(
	    "nat h preset full-cone public 203.0.113.1 ipv6 2001:db8:9::/48 firewall6 off\n"
	    "nat i preset full-cone public 203.0.113.2\n");
	assert_int_equal(s->nats[0].v6.firewall, SCENARIO_FW6_OFF);
	assert_false(s->nats[1].v6.present); /* IPv4 only, as before */
	scenario_free(s);
}

static void test_rules(void **state)
{
	char text[2048];
	struct scenario *s;
	const struct scenario_rule *r;

	(void)state;
	snprintf(text, sizeof(text),
		 "%srule office forward accept from 2001:db8::/32 icmpv6 type echo-request\n"
		 "rule bob input drop ip6 udp dport 9\n"
		 "rule alice input drop udp dport 9\n"
		 "rule alice input accept icmpv6 type packet-too-big\n"
		 "rule home forward drop to 2001:db8:1::5 tcp dport 22\n"
		 "rule bob input reject ip6 udp with admin-prohibited\n"
		 "rule bob input reject ip6 udp with icmp6-addr-unreachable\n"
		 "rule bob input reject ip6 tcp with tcp-reset\n"
		 "rule bob input reject ip6 udp with no-route\n",
		 world);
	s = parse_ok(text);
	assert_int_equal(s->n_rules, 9);
	/* ip6tables' --reject-with words, with or without "icmp6-", and nft's. */
	assert_int_equal(s->rules[5].reject_with, FW_REJECT_ADMIN_PROHIBITED);
	assert_int_equal(s->rules[6].reject_with, FW_REJECT_HOST_UNREACHABLE);
	assert_true(s->rules[7].reject_with == FW_REJECT_TCP_RESET && s->rules[7].reject_tcp_reset);
	assert_int_equal(s->rules[8].reject_with, FW_REJECT_NET_UNREACHABLE);
	r = &s->rules[0];
	assert_int_equal(r->family, 6);
	assert_int_equal(r->proto, 58);
	/* ip6tables' echo-request matches any code (libxt_icmp.h: 128, 0-255). */
	assert_true(r->has_icmp_type && r->icmp_type == 128 && !r->has_icmp_code);
	assert_true(r->has_src && r->src_len == 32);
	assert_ip6(&r->src6, "2001:db8::");
	assert_int_equal(s->rules[1].family, 6); /* `ip6` alone */
	assert_int_equal(s->rules[1].proto, 17);
	assert_int_equal(s->rules[2].family, 4); /* no IPv6 word: IPv4, as always */
	assert_true(s->rules[3].icmp_type == 2 && s->rules[3].proto == 58);
	assert_false(s->rules[3].has_icmp_code);
	r = &s->rules[4];
	assert_true(r->family == 6 && r->has_dst && r->dst_len == 128);
	assert_ip6(&r->dst6, "2001:db8:1::5");
	scenario_free(s);
}

static void test_ping6(void **state)
{
	char text[2048];
	struct scenario *s;

	(void)state;
	snprintf(text, sizeof(text),
		 "%sat 1s ping alice to 2001:db8:2::5 count 2\nat 2s ping bob to alice\n", world);
	s = parse_ok(text);
	assert_true(s->actions[0].dst.is6);
	assert_ip6(&s->actions[0].dst.ip6, "2001:db8:2::5");
	assert_int_equal(s->actions[0].count, 2);
	assert_false(s->actions[1].dst.is6); /* a name: resolved at run time */
	assert_string_equal(s->actions[1].dst.node.name, "alice");
	scenario_free(s);
}

/* Each line after `world`, and the first error it must give. */
static const struct {
	const char *line, *want;
} refusals[] = {
    {"host x at 2001:db8::1::2 public\n",
     "t.nsim:7:22: error: '2001:db8::1::2' is not an IPv6 address: '::' appears more than once "
     "(it may stand for one run of zero groups only, RFC 4291 section 2.2)"},
    {"host x at ::: public\n",
     "t.nsim:7:11: error: ':::' is not an IPv6 address: ':::' is not an IPv6 address part "
     "(use '::' once)"},
    {"host x at fe80::1%eth0 public\n",
     "t.nsim:7:18: error: 'fe80::1%eth0' is not an IPv6 address: zone ids (%eth0) are not "
     "accepted: natsim does not model link-local scope"},
    {"router r ipv6 2001:db8:7::/129\n",
     "t.nsim:7:28: error: '2001:db8:7::/129' is not an IPv6 prefix like 2001:db8:1::/64: the "
     "prefix length is not a number from 0 to 128"},
    {"router r ipv6 2001:db8:7::1/64\n",
     "t.nsim:7:15: error: '2001:db8:7::1/64' is not an IPv6 prefix like 2001:db8:1::/64: bits "
     "are set below the prefix length (an address, not a network)"},
    {"router r ipv6 2001:db8:7::\n",
     "t.nsim:7:15: error: expected an IPv6 prefix like 2001:db8:1::/64 after 'ipv6', found "
     "'2001:db8:7::' (the /length is missing): the router routes the prefix to its inside"},
    {"router r ipv6 2001:db8:7::/127\n",
     "t.nsim:7:15: error: a home's prefix is /1 to /126 (a home gets a /48 to /64 from its "
     "ISP, RFC 6177): the inside needs an address for the router and one for each host"},
    {"router r firewall6 off\n",
     "t.nsim:7:8: error: router 'r' needs its inside's IPv6 prefix, e.g. 'ipv6 "
     "2001:db8:1::/64' (a home router with IPv4 is a 'nat')"},
    {"router r ipv6 2001:db8:7::/64 firewall6 off reject6 on\n",
     "t.nsim:7:31: error: 'filtering6' and 'reject6' shape the RFC 6092 firewall, and this "
     "line turns it off ('firewall6 off')"},
    {"router r ipv6 2001:db8:7::/64 firewall6 stateful\n",
     "t.nsim:7:41: error: expected 'rfc6092' or 'off', found 'stateful'"},
    {"nat n preset symmetric public 203.0.113.9 filtering6 APDF\n",
     "t.nsim:7:43: error: the IPv6 firewall options need an IPv6 side: give nat 'n' a prefix "
     "with 'ipv6 2001:db8:1::/64'"},
    {"nat n preset symmetric public 2001:db8::9\n",
     "t.nsim:7:31: error: '2001:db8::9' is an IPv6 address, and only an IPv4 address like "
     "192.0.2.1 has a meaning here"},
    {"host x at 2001:db8:ff::5 and 2001:db8:ff::6 public\n",
     "t.nsim:7:30: error: 'and' joins an IPv4 address and an IPv6 one (a node has one of "
     "each at most), and both here are IPv6"},
    {"host x at fe80::5 public\n",
     "t.nsim:7:11: error: fe80::5 cannot be a node's address: fe80::/10 is link-local, and "
     "natsim does not model link-local scope (docs/ipv6.md): give a global address"},
    {"host x at ff02::1 public\n",
     "t.nsim:7:11: error: ff02::1 cannot be a node's address: ff00::/8 is for multicast "
     "groups (RFC 4291 section 2.7), not interfaces"},
    {"rule alice input drop from 10.0.0.0/8 to 2001:db8::/32\n",
     "t.nsim:7:39: error: a rule is IPv4 or IPv6, not both: iptables and ip6tables hold "
     "separate rule sets (this rule has an IPv4 prefix and an IPv6 prefix); write two rules"},
    {"rule alice input drop icmp ip6\n",
     "t.nsim:7:28: error: a rule is IPv4 or IPv6, not both: iptables and ip6tables hold "
     "separate rule sets (this rule has 'icmp' and 'ip6'); write two rules"},
    {"rule alice input drop icmpv6 udp\n",
     "t.nsim:7:30: error: a rule matches one protocol: 'udp', 'tcp', 'icmp' or 'icmpv6'"},
    {"rule alice input reject ip6 udp with icmp-port-unreachable\n",
     "t.nsim:7:33: error: 'icmp-port-unreachable' is not an error an ip6 'reject' sends; "
     "expected one of port-unreachable, no-route, addr-unreachable, admin-prohibited, "
     "tcp-reset (ip6tables' --reject-with)"},
    {"rule alice input reject udp with no-route\n",
     "t.nsim:7:29: error: 'no-route' is an ip6 'reject' error; an IPv4 rule's are "
     "port-unreachable, net-unreachable, host-unreachable, proto-unreachable, "
     "net-prohibited, host-prohibited, admin-prohibited, tcp-reset (iptables' "
     "--reject-with)"},
    {"rule alice input reject ip6 udp with host-prohibited\n",
     "t.nsim:7:33: error: 'host-prohibited' is not an error an ip6 'reject' sends; "
     "expected one of port-unreachable, no-route, addr-unreachable, admin-prohibited, "
     "tcp-reset (ip6tables' --reject-with)"},
    {"rule alice input drop from 2001:db8::1/64\n",
     "t.nsim:7:28: error: '2001:db8::1/64' is not an IPv6 prefix like 2001:db8:1::/64: bits "
     "are set below the prefix length (an address, not a network)"},
    {"at 1s ping alice to [2001:db8:2::5]:80\n",
     "t.nsim:7:21: error: ICMP has no ports: write the address or name alone"},
    {"at 1s tcp alice to 2001:db8:2::5:80\n",
     "t.nsim:7:20: error: expected an endpoint like [2001:db8::1]:5000, found "
     "'2001:db8:2::5:80': an IPv6 address with a port is written in brackets (RFC 5952 "
     "section 6)"},
    {"coordinator d at 2001:db8:ff::99\n",
     "t.nsim:7:1: error: a scenario has only one coordinator, and 'c' is already defined"},
};

/* What the checks say once the whole file is read. */
static const struct {
	const char *line, *want;
} check_refusals[] = {
    {"host x at 2001:db8:9::5 behind home\n",
     "t.nsim:7:11: error: 2001:db8:9::5 is not in 2001:db8:1::/64, the prefix of 'home' it "
     "sits behind"},
    {"host x at 10.0.0.5 behind office\n",
     "t.nsim:7:11: error: 'office' is an IPv6-only router (no IPv4, no NAT), so a host behind "
     "it has an IPv6 address alone"},
    {"nat plain preset symmetric public 203.0.113.99\nhost x at 2001:db8:1::9 behind plain\n",
     "t.nsim:8:11: error: 'plain' has no IPv6 side, so nothing behind it has IPv6: give it "
     "one with 'ipv6 2001:db8:1::/64'"},
    {"host x at 2001:db8:1::5 behind home\n",
     "t.nsim:7:11: error: address 2001:db8:1::5 is already used by 'alice'"},
    {"router r2 ipv6 2001:db8:1:0:8000::/65\n",
     "t.nsim:7:16: error: this prefix overlaps another home's: the internet could not tell "
     "which home an address is in"},
    {"at 1s classify bob\n",
     "t.nsim:7:16: error: host 'bob' has no IPv4 address, and NAT behaviour discovery speaks "
     "IPv4 only for now (the agent's IPv6 is docs/ipv6.md step 6)"},
    {"nat inner preset symmetric public 192.168.1.9 behind home ipv6 2001:db8:5::/64\n",
     "t.nsim:7:64: error: an IPv6 prefix for a NAT behind another NAT is not modelled: the "
     "internet routes a home's prefix to a router on it"},
    {"rule bob input drop udp dport 9\n",
     "t.nsim:7:6: error: 'bob' has no IPv4, so this IPv4 rule would filter nothing: write "
     "'ip6' in it for its IPv6 firewall"},
    {"nat plain preset symmetric public 203.0.113.99\nrule plain forward drop ip6\n",
     "t.nsim:8:6: error: this is an ip6 rule, and 'plain' has no IPv6 to filter"},
    {"at 1s ping bob to 192.0.2.10\n",
     "t.nsim:7:19: error: 'bob' and 'this address' share no address family: a ping goes over "
     "IPv4 or IPv6, and needs an address of that family at both ends"},
    {"host v4 at 198.51.100.7 public\nat 1s ping v4 to 2001:db8:2::5\n",
     "t.nsim:8:12: error: host 'v4' has no IPv6 address to ping from"},
    {"expect drop at home from [2001:db8:2::5]:80\n",
     "t.nsim:7:26: error: an expectation about an IPv6 endpoint is not modelled yet: expect "
     "without 'from'/'to'"},
    {"expect drop at home from bob\n",
     "t.nsim:7:26: error: host 'bob' has no IPv4 address, and an expectation's endpoint is "
     "IPv4 only for now (the agent's IPv6 is docs/ipv6.md step 6)"},
    {"host v4 at 198.51.100.7 public\nat 1s tcp v4 to [2001:db8:2::5]:80\n",
     "t.nsim:8:11: error: host 'v4' has no IPv6 address to connect from"},
    {"at 1s tcp bob to 192.0.2.10:80\n",
     "t.nsim:7:18: error: 'bob' and 'this address' share no address family: a TCP connection "
     "goes over IPv4 or IPv6, and needs an address of that family at both ends"},
    {"host v4 at 198.51.100.7 public\nat 1s raw v4 from 1 to [2001:db8:2::5]:5 \"x\"\n",
     "t.nsim:8:11: error: host 'v4' has no IPv6 address to send UDP from"},
    {"host v4 at 198.51.100.7 public\nat 1s background v4 to [2001:db8:2::5]:53 rate 1/s\n",
     "t.nsim:8:18: error: host 'v4' has no IPv6 address to send UDP from"},
    {"host v4 at 198.51.100.7 public\nat 1s raw icmp v4 to 2001:db8:2::5 type echo-request\n",
     "t.nsim:8:16: error: host 'v4' has no IPv6 address to send ICMPv6 from"},
    {"at 1s raw icmp bob to 192.0.2.10 type echo-request\n",
     "t.nsim:7:16: error: host 'bob' has no IPv4 address, and this action speaks IPv4 only "
     "for now (the agent's IPv6 is docs/ipv6.md step 6)"},
    {"at 1s raw icmp alice to bob type port-unreachable about 192.0.2.10:1 to bob:2\n",
     "t.nsim:7:57: error: a raw ICMPv6 error quotes an IPv6 datagram: 'this address' has no "
     "IPv6 address"},
    {"at 1s raw icmp alice to 198.51.100.80 type port-unreachable about [2001:db8::1]:1 to "
     "web:2\n",
     "t.nsim:7:67: error: a raw ICMP error to an IPv4 target quotes an IPv4 datagram, not "
     "this IPv6 address"},
    {"host v4 at 198.51.100.7 public\nat 1s raw tcp v4 to [2001:db8:2::5]:80 flags syn\n",
     "t.nsim:8:15: error: host 'v4' has no IPv6 address to send TCP from"},
    {"at 1s background alice to [2001:db8:9::9]:53 rate 1/s\n",
     "t.nsim:7:27: error: no host has this IPv6 address: background traffic needs a server to "
     "go to"},
    {"at 1s traceroute bob to 192.0.2.10\n",
     "t.nsim:7:25: error: 'bob' and 'this address' share no address family: a traceroute goes "
     "over IPv4 or IPv6, and needs an address of that family at both ends"},
    {"host v4 at 198.51.100.7 public\nat 1s traceroute v4 to 2001:db8:2::5\n",
     "t.nsim:8:18: error: host 'v4' has no IPv6 address to traceroute from"},
    {"policy office forward accept\n",
     "t.nsim:7:8: error: a policy sets the IPv4 firewall's, and 'office' has no IPv4; its "
     "IPv6 firewall is set with 'firewall6' and ip6 rules"},
};

static int first_error_is(const char *line, const char *want)
{
	char text[2048], got[1024];
	struct diag *d = diag_new();
	struct scenario *s;
	const struct diagnostic *dg;
	int bad = 0;

	snprintf(text, sizeof(text), "%s%s", world, line);
	s = scenario_parse(text, strlen(text), "t.nsim", d);
	assert_null(s);
	for (size_t k = 0; k < diag_count(d); k++) {
		dg = diag_get(d, k);
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
	for (size_t i = 0; i < sizeof(check_refusals) / sizeof(check_refusals[0]); i++)
		failed += first_error_is(check_refusals[i].line, check_refusals[i].want);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts_and_coordinator),
	    cmocka_unit_test(test_home_routers),
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_ping6),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
