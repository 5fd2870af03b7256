/*
 * test_runner_tcp.c - TCP in a run (issue 16): the netcat-like programs
 * print nc's lines, a raw segment goes out as built, and the tcp, socket and
 * conntrack expectations hold or fail on the stack's and conntrack's own
 * records, saying what was there instead.
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
#include "app/world/runner.h"
#include "model/packet.h"

struct run {
	struct scenario *s;
	struct run_result res;
	char apps[4096]; /* the programs' lines, one per line */
	size_t apps_len;
	int raw_rst; /* RST segments sent by bob (the raw one) */
};

static void observe(const struct trace_record *rec, void *ctx)
{
	struct run *r = ctx;
	if (rec->kind == TRACE_APP && rec->u.app.text != NULL && r->apps_len < sizeof(r->apps))
		r->apps_len +=
		    (size_t)snprintf(r->apps + r->apps_len, sizeof(r->apps) - r->apps_len,
				     "%s: %s\n", rec->u.app.node, rec->u.app.text);
	if (rec->kind == TRACE_PACKET && rec->u.packet.hop == TRACE_HOP_SEND &&
	    strcmp(rec->u.packet.node, "bob") == 0 && rec->u.packet.len >= 40 &&
	    rec->u.packet.bytes[9] == IPPROTO_NUM_TCP && rec->u.packet.bytes[33] == TCP_RST &&
	    rec->u.packet.bytes[20] == 0x1f && rec->u.packet.bytes[21] == 0x40) /* port 8000 */
		r->raw_rst++;
}

static void run_text(struct run *r, const char *text)
{
	struct diag *d = diag_new();
	struct run_options opt = {.until_ns = SCENARIO_UNSET, .n_observers = 1};
	memset(r, 0, sizeof(*r));
	opt.observers[0].fn = observe;
	opt.observers[0].ctx = r;
	r->s = scenario_parse(text, strlen(text), "t.nsim", d);
	if (r->s == NULL || diag_count_errors(d) > 0)
		diag_print(d, stderr, false);
	assert_non_null(r->s);
	assert_int_equal(runner_run(r->s, &opt, &r->res, d), 0);
	diag_free(d);
}

static void run_free(struct run *r)
{
	run_result_free(&r->res);
	scenario_free(r->s);
}

static const struct run_verdict *verdict_at(const struct run *r, int line)
{
	for (size_t i = 0; i < r->res.n_verdicts; i++)
		if (r->res.verdicts[i].expect->loc.line == line)
			return &r->res.verdicts[i];
	fail_msg("no expectation on line %d", line);
	return NULL;
}

static const char world[] = "internet latency 20ms\n"
			    "nat home preset port-restricted-cone public 203.0.113.7\n"
			    "host alice at 192.168.1.5 behind home\n"
			    "host bob at 198.51.100.20 public\n" /* line 4 */
			    "serve bob tcp 7 echo\n"
			    "at 1s tcp alice to bob:7 send 10 bytes\n"
			    "at 2s tcp alice to bob:9\n"
			    "at 3s raw tcp bob to 192.0.2.1:80 from port 8000 flags rst seq 5\n"
			    "expect tcp connected alice to bob:7 by 2s\n"      /* 9: holds */
			    "expect tcp refused alice to bob:9 by 3s\n"	       /* 10: holds */
			    "expect tcp connected alice to bob:9 by 3s\n"      /* 11: fails */
			    "expect tcp timeout alice to bob by 3s\n"	       /* 12: fails */
			    "expect socket bob established port 7 by 4s\n"     /* 13: holds */
			    "expect no socket alice any by 4s\n"	       /* 14: fails */
			    "expect socket bob time-wait by 4s\n"	       /* 15: fails */
			    "expect conntrack at home tcp established by 4s\n" /* 16: holds */
			    "expect no conntrack at home tcp by 4s\n"	       /* 17: fails */
			    "expect tcp connected bob to alice by 4s\n";       /* 18: fails */

static void test_programs_and_expectations(void **state)
{
	struct run r;

	(void)state;
	run_text(&r, world);
	/* nc's own words (netcat.c; Debian's report_sock) */
	assert_non_null(strstr(r.apps, "bob: Listening on 0.0.0.0 7\n"));
	assert_non_null(strstr(
	    r.apps, "alice: Connection to bob (198.51.100.20) 7 port [tcp/echo] succeeded!\n"));
	assert_non_null(strstr(r.apps, "bob: Connection received on 203.0.113.7 "));
	assert_non_null(strstr(r.apps, "alice: connect to bob (198.51.100.20) port 9 (tcp) failed: "
				       "Connection refused\n"));
	assert_int_equal(r.raw_rst, 1);
	assert_true(verdict_at(&r, 9)->passed);
	assert_true(verdict_at(&r, 10)->passed);
	const struct run_verdict *v = verdict_at(&r, 11);
	assert_false(v->passed);
	assert_string_equal(v->text, "alice connects to bob:9 over TCP by 3.000 s");
	assert_non_null(strstr(v->why, "failed at 2.041 s: Connection refused"));
	v = verdict_at(&r, 12);
	assert_false(v->passed);
	assert_non_null(strstr(v->why, "alice made 2 attempts; the first from 192.168.1.5:"));
	assert_true(verdict_at(&r, 13)->passed);
	v = verdict_at(&r, 14);
	assert_false(v->passed);
	assert_non_null(strstr(v->why, "ESTABLISHED 192.168.1.5:"));
	v = verdict_at(&r, 15);
	assert_false(v->passed);
	assert_string_equal(v->text, "a TCP socket of bob in TIME-WAIT by 4.000 s");
	/* a listener has no peer to show (ss -tan: "0.0.0.0:*") */
	assert_non_null(strstr(v->why, "bob has 2 TCP sockets, 0 as asked; one: LISTEN 0.0.0.0:7"));
	assert_null(strstr(v->why, "0.0.0.0:0"));
	assert_true(verdict_at(&r, 16)->passed);
	v = verdict_at(&r, 17);
	assert_false(v->passed);
	assert_non_null(strstr(v->why, "home tracks 1 TCP connection, 1 as asked; the first: "
				       "ESTABLISHED 192.168.1.5:"));
	v = verdict_at(&r, 18);
	assert_false(v->passed);
	assert_string_equal(v->why, "bob made no TCP connection there");
	assert_int_equal(r.res.n_failed, 6);
	run_free(&r);
}

/* iptables' REJECT --reject-with tcp-reset: the connect is refused at once
 * although a server listens behind the firewall. */
static const char reset[] = "host alice at 203.0.113.50 public\n"
			    "host srv at 198.51.100.10 public\n"
			    "serve srv tcp 23\n"
			    "rule srv input reject with tcp-reset tcp dport 23\n"
			    "at 1s tcp alice to srv:23\n"
			    "expect tcp refused alice to srv:23 by 2s\n"    /* 6: holds */
			    "expect tcp connected alice to srv:23 by 2s\n"; /* 7: fails */

static void test_reject_with_tcp_reset(void **state)
{
	struct run r;

	(void)state;
	run_text(&r, reset);
	assert_non_null(strstr(r.apps,
			       "alice: connect to srv (198.51.100.10) port 23 (tcp) failed: "
			       "Connection refused\n"));
	assert_true(verdict_at(&r, 6)->passed);
	assert_false(verdict_at(&r, 7)->passed);
	run_free(&r);
}

/* An ICMP error in SYN-SENT ends the connect (tcp_v4_err): admin
 * prohibited is EHOSTUNREACH, "No route to host", and `unreachable`. */
static const char admin[] = "host alice at 203.0.113.50 public\n"
			    "host srv at 198.51.100.10 public\n"
			    "serve srv tcp 23\n"
			    "rule srv input reject with admin-prohibited tcp dport 23\n"
			    "at 1s tcp alice to srv:23\n"
			    "expect tcp unreachable alice to srv:23 by 2s\n" /* 6: holds */
			    "expect tcp refused alice to srv:23 by 2s\n";    /* 7: fails */

static void test_icmp_error_is_unreachable(void **state)
{
	struct run r;

	(void)state;
	run_text(&r, admin);
	assert_non_null(strstr(r.apps,
			       "alice: connect to srv (198.51.100.10) port 23 (tcp) failed: "
			       "No route to host\n"));
	assert_true(verdict_at(&r, 6)->passed);
	assert_string_equal(verdict_at(&r, 6)->text,
			    "alice cannot reach srv:23 over TCP by 2.000 s");
	assert_false(verdict_at(&r, 7)->passed);
	assert_non_null(strstr(verdict_at(&r, 7)->why, "No route to host"));
	run_free(&r);
}

/* `close` is nc -N's shutdown(SHUT_WR): the echo of the bytes still comes
 * back, no RST answers it, and the client, which sent the first FIN, ends in
 * TIME-WAIT while the server's socket is gone (close(2) instead would have
 * aborted on the echoed data, RST and all). */
static const char half_close[] = "host alice at 203.0.113.50 public\n"
				 "host srv at 198.51.100.10 public\n"
				 "serve srv tcp 7 echo\n"
				 "at 1s tcp alice to srv:7 send 100 bytes close\n"
				 "expect socket alice time-wait by 2s\n"     /* 5: holds */
				 "expect no socket srv established by 2s\n"; /* 6: holds */

static void test_close_is_shutdown(void **state)
{
	struct run r;

	(void)state;
	run_text(&r, half_close);
	assert_true(verdict_at(&r, 5)->passed);
	assert_true(verdict_at(&r, 6)->passed);
	assert_int_equal(r.res.n_failed, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_programs_and_expectations),
	    cmocka_unit_test(test_reject_with_tcp_reset),
	    cmocka_unit_test(test_icmp_error_is_unreachable),
	    cmocka_unit_test(test_close_is_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
