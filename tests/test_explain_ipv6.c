/*
 * test_explain_ipv6.c - IPv6 in words (explain/ipv6.h): ICMPv6 names, and
 * conntrack -L -f ipv6 lines compared with lines the real tool printed.
 *
 * The expected lines were captured from conntrack-tools v1.4.7 on Linux
 * 6.18, as root in a fresh network namespace (unshare -n) with an ip6
 * nftables chain matching `ct state new` so that conntrack tracks: UDP over
 * ::1, UDP between 2001:db8:0:1::10 and ::1 answered, UDP from
 * 2001:db8::1:0:0:1 to 2001:0:0:1::abcd (zero runs that tie, and that
 * differ), `ping -6 -c1 ::1`, and a TCP connection over ::1 with data.
 * The entries below hold the same facts; the text must come out the same.
 * The lines are kept in tests/lab/conntrack6_expected.txt, and the lab
 * test lab_conntrack6 captures them afresh and compares (ids and timeouts
 * aside).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h" /* conntrack_format_record */
#include "explain/ipv6.h"
#include "sim/engine.h" /* SIM_S */

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

/* An IPv6 entry as the trace carries it: a record of family 6 and the
 * tuples it points at. */
struct entry6 {
	struct trace_conntrack rec;
	struct trace_ct_tuples6 t;
};

/* A UDP entry from (a, sp) to (b, dp), answered by b unchanged (no NAT). */
static void udp_entry(struct entry6 *e, const char *a, uint16_t sp, const char *b, uint16_t dp)
{
	memset(e, 0, sizeof(*e));
	e->rec = (struct trace_conntrack){
	    .proto = 17, .expires_at = SIM_S(29), .use = 1, .family = 6, .tuples6 = &e->t};
	e->t.orig = (struct trace_ct_tuple6){addr(a), addr(b), sp, dp};
	e->t.reply = (struct trace_ct_tuple6){addr(b), addr(a), dp, sp};
}

/* True when `line` is one of the lines the real tool printed
 * (tests/lab/conntrack6_expected.txt, which lab_conntrack6.sh checks
 * against conntrack -L -f ipv6 again). */
static bool captured(const char *line)
{
	FILE *f = fopen(NATSIM_CONNTRACK6_EXPECTED, "r");
	char buf[400];
	bool found = false;

	assert_non_null(f);
	while (!found && fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		found = strcmp(buf, line) == 0;
	}
	fclose(f);
	return found;
}

static void check_line(const struct entry6 *e, const char *want)
{
	char buf[400];

	assert_true(captured(want));
	assert_int_equal(conntrack_format_record(&e->rec, 0, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_udp_lines(void **state)
{
	struct entry6 e;

	(void)state;
	udp_entry(&e, "::1", 40000, "::1", 3478);
	check_line(&e, "udp      17 29 src=::1 dst=::1 sport=40000 dport=3478 [UNREPLIED] src=::1 "
		       "dst=::1 sport=3478 dport=40000 mark=0 use=1");
	udp_entry(&e, "2001:db8:0:1::10", 40001, "::1", 5000);
	e.rec.seen_reply = true;
	check_line(&e, "udp      17 29 src=2001:db8:0:1::10 dst=::1 sport=40001 dport=5000 src=::1 "
		       "dst=2001:db8:0:1::10 sport=5000 dport=40001 mark=0 use=1");
	udp_entry(&e, "2001:db8:0:0:1:0:0:1", 61000, "2001:0:0:1:0:0:0:abcd", 3478);
	check_line(&e, "udp      17 29 src=2001:db8::1:0:0:1 dst=2001:0:0:1::abcd sport=61000 "
		       "dport=3478 [UNREPLIED] src=2001:0:0:1::abcd dst=2001:db8::1:0:0:1 "
		       "sport=3478 dport=61000 mark=0 use=1");
}

static void test_icmpv6_and_tcp_lines(void **state)
{
	struct entry6 e;

	(void)state;
	udp_entry(&e, "::1", 0, "::1", 0);
	e.rec.proto = 58;
	e.rec.seen_reply = true;
	e.t.orig = (struct trace_ct_tuple6){addr("::1"), addr("::1"), 25778, 128 << 8};
	e.t.reply = (struct trace_ct_tuple6){addr("::1"), addr("::1"), 25778, 129 << 8};
	check_line(&e, "icmpv6   58 29 src=::1 dst=::1 type=128 code=0 id=25778 src=::1 dst=::1 "
		       "type=129 code=0 id=25778 mark=0 use=1");
	udp_entry(&e, "::1", 40002, "::1", 8080);
	e.rec.proto = 6;
	e.rec.tcp_state = 3; /* ESTABLISHED */
	e.rec.seen_reply = e.rec.assured = true;
	e.rec.expires_at = SIM_S(431999);
	check_line(&e, "tcp      6 431999 ESTABLISHED src=::1 dst=::1 sport=40002 dport=8080 "
		       "src=::1 dst=::1 sport=8080 dport=40002 [ASSURED] mark=0 use=1");
}

/* inet_ntop's legacy quad for ::a.b.c.d, as conntrack prints it, and the
 * IPv4-mapped form. */
static void test_addresses_as_inet_ntop(void **state)
{
	struct entry6 e;
	char buf[300];
	int full;

	(void)state;
	udp_entry(&e, "::c000:201", 1, "::ffff:c000:201", 2);
	conntrack_format_record(&e.rec, SIM_S(30), buf, sizeof(buf));
	assert_string_equal(buf,
			    "udp      17 0 src=::192.0.2.1 dst=::ffff:192.0.2.1 sport=1 dport=2 "
			    "[UNREPLIED] src=::ffff:192.0.2.1 dst=::192.0.2.1 sport=2 dport=1 "
			    "mark=0 use=1");
	full = conntrack_format_record(&e.rec, 0, buf, sizeof(buf));
	assert_int_equal(conntrack_format_record(&e.rec, 0, buf, 10), full); /* truncated */
	assert_string_equal(buf, "udp      ");
}

static void test_icmp6_names(void **state)
{
	static const struct {
		uint8_t type, code;
		const char *name;
	} cases[] = {
	    {1, 0, "no route to destination"},
	    {1, 1, "administratively prohibited"},
	    {1, 3, "address unreachable"},
	    {1, 4, "port unreachable"},
	    {1, 9, "destination unreachable (code 9)"},
	    {2, 0, "packet too big"},
	    {3, 0, "hop limit exceeded"},
	    {3, 1, "fragment reassembly time exceeded"},
	    {4, 1, "parameter problem"},
	    {128, 0, "echo request"},
	    {129, 0, "echo reply"},
	    {135, 0, "neighbor solicitation"},
	    {130, 0, "ICMPv6 type 130 code 0"},
	    {200, 0, "ICMPv6 type 200 code 0"},
	};
	char buf[64];

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		assert_string_equal(
		    explain_icmp6_name(cases[k].type, cases[k].code, buf, sizeof(buf)),
		    cases[k].name);
	assert_true(explain_icmp6_is_error(1));
	assert_true(explain_icmp6_is_error(127));
	assert_false(explain_icmp6_is_error(128));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp_lines),
	    cmocka_unit_test(test_icmpv6_and_tcp_lines),
	    cmocka_unit_test(test_addresses_as_inet_ntop),
	    cmocka_unit_test(test_icmp6_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
