/*
 * test_runner_trace6.c - `traceroute` over IPv6 in a run (issue 18,
 * app/world/traceroute6.c): the header and hop lines Linux
 * `traceroute -6 -n` prints, an RFC 4443 "administratively prohibited" as
 * !X ending the trace, a name resolved to IPv6 when both ends have it (and
 * to IPv4 when the target has none), and a run that repeats; and `raw` to
 * an IPv6 endpoint, one IPv6 UDP datagram; `raw icmp` to an IPv6 target,
 * ICMPv6 as RFC 7915 names ICMP's types; `raw tcp` to an IPv6 target, one
 * IPv6 TCP segment; `background` over IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/lang/scenario.h"
#include "app/world/icmpapp.h"
#include "app/world/runner.h"
#include "base/addr6.h"
#include "model/packet6.h"

#define MAX_LINES 16

struct seen {
	int n;
	char lines[MAX_LINES][200]; /* traceroute's and background's app lines */
	uint8_t sent[128];	    /* the first packet alice sent */
	size_t sent_len;
};

static void observe(const struct trace_record *r, void *ctx)
{
	struct seen *s = ctx;
	if (r->kind == TRACE_APP && s->n < MAX_LINES &&
	    (strcmp(r->u.app.app, "traceroute") == 0 || strcmp(r->u.app.app, "background") == 0))
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s", r->u.app.text);
	if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
	    strcmp(r->u.packet.node, "alice") == 0 && s->sent_len == 0 &&
	    r->u.packet.len <= sizeof(s->sent)) {
		memcpy(s->sent, r->u.packet.bytes, r->u.packet.len);
		s->sent_len = r->u.packet.len;
	}
}

static const char world[] = "router home ipv6 2001:db8:1::/64\n"
			    "router office ipv6 2001:db8:2::/64 reject6 on\n"
			    "host alice at 2001:db8:1::5 behind home\n"
			    "host bob at 2001:db8:2::5 behind office\n"
			    "host web at 198.51.100.80 and 2001:db8:ff::80 public\n"
			    "host v4 at 198.51.100.81 public\n";

static void run(const char *action, struct seen *seen)
{
	char text[2048];
	struct diag *d = diag_new();
	struct run_options opt = {.until_ns = SCENARIO_UNSET, .n_observers = 1};
	struct run_result res;

	memset(seen, 0, sizeof(*seen));
	opt.observers[0].fn = observe;
	opt.observers[0].ctx = seen;
	snprintf(text, sizeof(text), "%s%s", world, action);
	struct scenario *s = scenario_parse(text, strlen(text), "t.nsim", d);
	if (s == NULL)
		diag_print(d, stderr, false);
	assert_non_null(s);
	assert_int_equal(runner_run(s, &opt, &res, d), 0);
	run_result_free(&res);
	scenario_free(s);
	diag_free(d);
}

/* Home's LAN, the internet router's transit side, then web itself, whose
 * port unreachable ends the trace (no mark). */
static void test_trace_to_public_host(void **state)
{
	struct seen s;

	(void)state;
	run("at 1s traceroute alice to 2001:db8:ff::80\n", &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.lines[0], "traceroute to 2001:db8:ff::80 (2001:db8:ff::80), 30 hops "
					"max, 80 byte packets");
	assert_string_equal(s.lines[1], " 1  2001:db8:1::1  1.000 ms  1.000 ms  1.000 ms");
	assert_string_equal(s.lines[2], " 2  3fff:0:1::1  21.000 ms  21.000 ms  21.000 ms");
	assert_string_equal(s.lines[3], " 3  2001:db8:ff::80  41.000 ms  41.000 ms  41.000 ms");
}

/* office's reject6 answers "administratively prohibited" (RFC 4443 3.1
 * code 1): traceroute marks it !X and stops there. */
static void test_admin_prohibited_ends_with_x(void **state)
{
	struct seen s;

	(void)state;
	run("at 1s traceroute alice to bob max-hops 5\n", &s);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.lines[0],
			    "traceroute to bob (2001:db8:2::5), 5 hops max, 80 byte packets");
	assert_string_equal(s.lines[3], " 3  3fff:0:2::2  41.000 ms  41.000 ms  41.000 ms");
	assert_string_equal(s.lines[4],
			    " 4  3fff:0:2::2  41.000 ms !X  41.000 ms !X  41.000 ms !X");
}

/* No route (code 0) is !N, address unreachable (3) !H, each ending the
 * trace; a port unreachable from a router (office's ip6 reject) ends it
 * with no mark, the destination taken as reached - as Linux traceroute
 * -6 -n printed against Linux routers (tests/lab/lab_router6.sh). */
static void test_unreachable_marks(void **state)
{
	struct seen s;

	(void)state;
	run("at 1s traceroute alice to 2001:db8:9::1 max-hops 5\n", &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.lines[2],
			    " 2  3fff:0:1::1  21.000 ms !N  21.000 ms !N  21.000 ms !N");
	run("at 1s traceroute alice to 2001:db8:ff::81 max-hops 5\n", &s); /* nobody holds it */
	assert_int_equal(s.n, 4);
	assert_string_equal(s.lines[3],
			    " 3  3fff:0:1::1  21.000 ms !H  21.000 ms !H  21.000 ms !H");
	run("rule office forward reject ip6\nat 1s traceroute alice to bob max-hops 5\n", &s);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.lines[4], " 4  3fff:0:2::2  41.000 ms  41.000 ms  41.000 ms");
}

/* An on-link address nobody holds: alice's own stack answers address
 * unreachable from alice's address (ndisc_error_report -> ip6_link_failure
 * -> icmpv6_send), so hop 1 is alice, marked !H, as Linux traceroute -6 -n
 * printed in tests/lab/lab_router6.sh (natsim answers at once, Linux after
 * ND's ~3 s). */
static void test_on_link_nobody_is_h_from_self(void **state)
{
	struct seen s;

	(void)state;
	run("at 1s traceroute alice to 2001:db8:1::99 max-hops 5\n", &s);
	assert_int_equal(s.n, 3); /* the header, hop 1, the result line again */
	assert_string_equal(s.lines[1], " 1  2001:db8:1::5  0.000 ms !H  0.000 ms !H  0.000 ms !H");
	assert_string_equal(s.lines[2], s.lines[1]);
}

/* traceroute 2.1.2's parse_icmp_res, both families: the mark and whether
 * the probe ends the trace. */
static void test_icmp_res_table(void **state)
{
	static const struct {
		int family;
		uint8_t type, code;
		uint32_t info;
		const char *mark;
		bool final;
	} cases[] = {
	    {6, 1, 0, 0, " !N", true},	   {6, 1, 1, 0, " !X", true},
	    {6, 1, 2, 0, " !H", true},	   {6, 1, 3, 0, " !H", true},
	    {6, 1, 4, 0, "", true},	   {6, 1, 5, 0, " !<5>", true},
	    {6, 1, 6, 0, " !<6>", true},   {6, 2, 0, 1280, " !F-1280", true},
	    {6, 3, 0, 0, "", false},	   {6, 3, 1, 0, " !<3-1>", true},
	    {6, 4, 0, 0, " !<4-0>", true}, {4, 3, 0, 0, " !N", true},
	    {4, 3, 1, 0, " !H", true},	   {4, 3, 2, 0, " !P", true},
	    {4, 3, 3, 0, "", true},	   {4, 3, 4, 1400, " !F-1400", true},
	    {4, 3, 5, 0, " !S", true},	   {4, 3, 6, 0, " !N", true},
	    {4, 3, 7, 0, " !H", true},	   {4, 3, 9, 0, " !X", true},
	    {4, 3, 13, 0, " !X", true},	   {4, 3, 14, 0, " !V", true},
	    {4, 3, 15, 0, " !C", true},	   {4, 3, 16, 0, " !<16>", true},
	    {4, 11, 0, 0, "", false},	   {4, 12, 0, 0, " !<12-0>", true},
	};
	char mark[24];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(traceroute_icmp_res(cases[i].family, cases[i].type, cases[i].code,
						     cases[i].info, mark, sizeof(mark)),
				 cases[i].final);
		assert_string_equal(mark, cases[i].mark);
	}
}

/* A name: IPv6 when both ends have it, IPv4 (60-byte packets) otherwise. */
static void test_family_by_name(void **state)
{
	struct seen s;

	(void)state;
	run("at 1s traceroute alice to web max-hops 2\n", &s);
	assert_string_equal(s.lines[0],
			    "traceroute to web (2001:db8:ff::80), 2 hops max, 80 byte packets");
	run("at 1s traceroute web to v4 max-hops 2\n", &s);
	assert_string_equal(s.lines[0],
			    "traceroute to v4 (198.51.100.81), 2 hops max, 60 byte packets");
}

/* Unanswered probes are stars, one hop per 5 s wait, up to max-hops. */
static void test_silent_hops_are_stars(void **state)
{
	struct seen s, again;

	(void)state;
	run("rule office forward drop ip6\nat 1s traceroute alice to bob max-hops 5\n", &s);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.lines[5], " 5  * * *");
	run("rule office forward drop ip6\nat 1s traceroute alice to bob max-hops 5\n", &again);
	assert_memory_equal(&s, &again, sizeof(s));
}

/* `raw` to an IPv6 endpoint: one IPv6 UDP datagram from alice's IPv6
 * address, hop limit 64, the payload as written, a checksum packet6_parse
 * accepts. */
static void test_raw_datagram_over_ipv6(void **state)
{
	struct seen s;
	struct packet6_info info;
	char why[128], a[48];

	(void)state;
	run("at 1s raw alice from 4000 to [2001:db8:ff::80]:53 \"hello\"\n", &s);
	assert_int_equal(s.sent_len, 40 + 8 + 5);
	assert_int_equal(s.sent[0] >> 4, 6);
	assert_int_equal(s.sent[6], 17); /* next header: UDP */
	assert_int_equal(s.sent[7], 64);
	assert_true(packet6_parse(s.sent, s.sent_len, &info, why, sizeof(why)) >= 0);
	assert_string_equal(ip6_format(&info.src, a, sizeof(a)), "2001:db8:1::5");
	assert_string_equal(ip6_format(&info.dst, a, sizeof(a)), "2001:db8:ff::80");
	assert_int_equal(s.sent[40] << 8 | s.sent[41], 4000);
	assert_int_equal(s.sent[42] << 8 | s.sent[43], 53);
	assert_memory_equal(s.sent + 48, "hello", 5);
}

/* `raw icmp` to an IPv6 target: ICMPv6, the type and code RFC 7915 4.2
 * makes of ICMP's (echo-request 128, port-unreachable 1/4, admin-prohibited
 * 1/1), an error quoting an IPv6 UDP header `about` its ends, a checksum
 * packet6_parse accepts unless `checksum bad`. */
static void test_raw_icmp_over_ipv6(void **state)
{
	struct seen s;
	struct packet6_info info;
	char a[48];

	(void)state;
	run("at 1s raw icmp alice to web type echo-request id 7 seq 2 ttl 9\n", &s);
	assert_int_equal(packet6_parse(s.sent, s.sent_len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.next_header, IPPROTO_NUM_ICMPV6);
	assert_int_equal(info.icmp_type, ICMP6_ECHO_REQUEST);
	assert_int_equal(info.icmp_id, 7);
	assert_int_equal(info.icmp_seq, 2);
	assert_int_equal(info.hop_limit, 9);
	assert_string_equal(ip6_format(&info.dst, a, sizeof(a)), "2001:db8:ff::80");
	run("at 1s raw icmp alice to 2001:db8:2::5 type port-unreachable about "
	    "[2001:db8:2::5]:53 to bob:4000\n",
	    &s);
	assert_int_equal(packet6_parse(s.sent, s.sent_len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.icmp_type, ICMP6_DEST_UNREACH);
	assert_int_equal(info.icmp_code, ICMP6_PORT_UNREACH);
	assert_true(info.icmp_error);
	assert_int_equal(info.inner.next_header, IPPROTO_NUM_UDP);
	assert_int_equal(info.inner.sport, 53);
	assert_int_equal(info.inner.dport, 4000);
	assert_string_equal(ip6_format(&info.inner.dst, a, sizeof(a)), "2001:db8:2::5");
	run("at 1s raw icmp alice to bob type admin-prohibited about bob:1 to alice:2 "
	    "checksum bad\n",
	    &s);
	assert_int_equal(packet6_parse(s.sent, s.sent_len, &info, NULL, 0),
			 PACKET_ERR_ICMPV6_CHECKSUM);
	s.sent[42] ^= 0x5a;
	assert_int_equal(packet6_parse(s.sent, s.sent_len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.icmp_code, ICMP6_ADMIN_PROHIBITED);
	run("at 1s raw icmp alice to web type 5\n", &s); /* redirect: RFC 7915 has none */
	assert_int_equal(s.sent_len, 0);
}

/* `raw tcp` to an IPv6 target: one IPv6 TCP segment as written (flags,
 * ports, seq, ack, window, zeros for payload), a checksum packet6_parse
 * accepts, hop limit 64. */
static void test_raw_tcp_over_ipv6(void **state)
{
	struct seen s;
	struct packet6_info info;
	char a[48];

	(void)state;
	run("at 1s raw tcp alice to web:443 flags syn,ack from port 4000 seq 5 ack 9 window 512 "
	    "payload 3\n",
	    &s);
	assert_int_equal(packet6_parse(s.sent, s.sent_len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.next_header, IPPROTO_NUM_TCP);
	assert_int_equal(info.hop_limit, 64);
	assert_int_equal(info.sport, 4000);
	assert_int_equal(info.dport, 443);
	assert_int_equal(info.tcp_flags, TCP_SYN | TCP_ACK);
	assert_int_equal(info.tcp_seq, 5);
	assert_int_equal(info.tcp_ack, 9);
	assert_int_equal(info.tcp_window, 512);
	assert_int_equal(info.payload_len, 3);
	assert_string_equal(ip6_format(&info.src, a, sizeof(a)), "2001:db8:1::5");
	assert_string_equal(ip6_format(&info.dst, a, sizeof(a)), "2001:db8:ff::80");
}

/* `background` to an IPv6 endpoint: its flows are IPv6 UDP datagrams, and
 * web listens on the port (no port unreachable ends a flow). */
static void test_background_over_ipv6(void **state)
{
	struct seen s;
	static const char want[] = "ends after 4 new flows to [2001:db8:ff::80]:53, the first";

	(void)state;
	run("at 1s background alice to [2001:db8:ff::80]:53 rate 2/s for 2s size 10\n", &s);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.lines[0], want, strlen(want));
	assert_int_equal(s.sent_len, 40 + 8 + 10);
	assert_int_equal(s.sent[0] >> 4, 6);
	assert_int_equal(s.sent[42] << 8 | s.sent[43], 53);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_to_public_host),
	    cmocka_unit_test(test_admin_prohibited_ends_with_x),
	    cmocka_unit_test(test_unreachable_marks),
	    cmocka_unit_test(test_on_link_nobody_is_h_from_self),
	    cmocka_unit_test(test_icmp_res_table),
	    cmocka_unit_test(test_family_by_name),
	    cmocka_unit_test(test_silent_hops_are_stars),
	    cmocka_unit_test(test_raw_datagram_over_ipv6),
	    cmocka_unit_test(test_raw_icmp_over_ipv6),
	    cmocka_unit_test(test_raw_tcp_over_ipv6),
	    cmocka_unit_test(test_background_over_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
