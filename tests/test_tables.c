/*
 * test_tables.c - conntrack and mapping tables folded from the trace: golden
 * `conntrack -L` blocks and mapping tables at several instants, expiry
 * without a DESTROY/EXPIRED record, remotes in "who may come in", and the
 * accessors the TUI walks.
 *
 * The golden strings are literals below. To regenerate one on purpose, print
 * the rendered text in the failing test, check it by eye against the records
 * emitted in emit_story(), and paste it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/endpoint.h"
#include "model/nat.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/trace_log.h"
#include "tests/support_trace.h"
#include "viz/tables.h"

static const struct endpoint alice_lan = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint alice_pub = {IP4(203, 0, 113, 7), 61000};
static const struct endpoint stun_srv = {IP4(192, 0, 2, 10), 3478};
static const struct endpoint bob_pub = {IP4(198, 51, 100, 9), 40000};
static const struct endpoint web_lan = {IP4(192, 168, 1, 8), 80};
static const struct endpoint web_pub = {IP4(203, 0, 113, 7), 8080};

static void emit_node(struct test_trace *f, const char *name, const char *type, bool conntrack)
{
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){.name = name, .type = type, .conntrack = conntrack};
	test_trace_emit(f, 0, &r);
}

/* A flow `from` -> `to` on `node`, whose replies come back to `seen_as`. */
static void emit_ct(struct test_trace *f, int64_t at, const char *node, uint32_t id,
		    enum trace_ct_event ev, const struct endpoint *from, const struct endpoint *to,
		    const struct endpoint *seen_as, bool replied, bool assured, int64_t expires_at)
{
	struct trace_record r = {.kind = TRACE_CONNTRACK};
	r.u.ct = (struct trace_conntrack){.event = ev,
					  .node = node,
					  .id = id,
					  .proto = 17,
					  .orig = {from->ip, to->ip, from->port, to->port},
					  .reply = {to->ip, seen_as->ip, to->port, seen_as->port},
					  .seen_reply = replied,
					  .assured = assured,
					  .expires_at = expires_at,
					  .use = 1,
					  .why = ev == TRACE_CT_DESTROY ? "flushed" : NULL};
	test_trace_emit(f, at, &r);
}

static void emit_map(struct test_trace *f, int64_t at, uint32_t id, enum trace_map_event ev,
		     const struct endpoint *in, const struct endpoint *ex,
		     const struct endpoint *remote, bool is_static, int64_t expires_at)
{
	struct trace_record r = {.kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = ev,
					 .node = "home",
					 .id = id,
					 .proto = 17,
					 .internal = *in,
					 .external = *ex,
					 .mapping = NAT_ENDPOINT_INDEPENDENT,
					 .filtering = NAT_ADDRESS_AND_PORT_DEPENDENT,
					 .is_static = is_static,
					 .expires_at = expires_at};
	if (remote != NULL)
		r.u.map.remote = *remote;
	test_trace_emit(f, at, &r);
}

/* Alice behind "home" (a NAT with conntrack) talks to a STUN server, then to
 * Bob; "office" is a firewall with one flow of its own. No DESTROY record is
 * ever emitted for home's flow 1, nor an EXPIRED one for mapping 1: the fold
 * must retire them by their deadlines. "dorm" keeps a conntrack table that
 * stays empty. */
static void emit_story(struct test_trace *f)
{
	const struct endpoint any = {0, 0};
	emit_node(f, "alice", "host", false);
	emit_node(f, "home", "nat", true);
	emit_node(f, "office", "router", true);
	emit_node(f, "dorm", "router", true); /* a firewall nothing ever crosses */
	emit_map(f, 0, 2, TRACE_MAP_CREATED, &web_lan, &web_pub, &any, true, SIM_TIME_NEVER);
	emit_ct(f, SIM_S(1), "home", 1, TRACE_CT_NEW, &alice_lan, &stun_srv, &alice_pub, false,
		false, SIM_S(31));
	emit_map(f, SIM_S(1), 1, TRACE_MAP_CREATED, &alice_lan, &alice_pub, &stun_srv, false,
		 SIM_S(31));
	emit_ct(f, SIM_MS(1200), "home", 1, TRACE_CT_UPDATE, &alice_lan, &stun_srv, &alice_pub,
		true, false, SIM_MS(31200));
	emit_ct(f, SIM_S(2), "office", 7, TRACE_CT_NEW, &bob_pub, &alice_pub, &bob_pub, false,
		false, SIM_S(32));
	emit_map(f, SIM_S(2), 1, TRACE_MAP_REMOTE_ADDED, &alice_lan, &alice_pub, &bob_pub, false,
		 SIM_S(32));
	emit_ct(f, SIM_S(2), "home", 2, TRACE_CT_NEW, &alice_lan, &bob_pub, &alice_pub, false,
		false, SIM_S(32));
	emit_ct(f, SIM_S(3), "home", 2, TRACE_CT_UPDATE, &alice_lan, &bob_pub, &alice_pub, true,
		true, SIM_S(123));
	emit_ct(f, SIM_S(5), "home", 3, TRACE_CT_NEW, &web_lan, &stun_srv, &web_pub, false, false,
		SIM_S(35));
	emit_ct(f, SIM_S(6), "home", 3, TRACE_CT_DESTROY, &web_lan, &stun_srv, &web_pub, false,
		false, SIM_S(6));
	struct trace_record r = {.kind = TRACE_APP};
	r.u.app = (struct trace_app){"server", "coordinator", "registered", "alice", NULL};
	test_trace_emit(f, SIM_S(7), &r);
	emit_ct(f, SIM_S(50), "home", 2, TRACE_CT_REFRESH, &alice_lan, &bob_pub, &alice_pub, true,
		true, SIM_S(170));
}

static int setup(void **state)
{
	struct test_trace *f = test_trace_new();
	emit_story(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	test_trace_free(*state);
	return 0;
}

enum which { CONNTRACK, MAPPINGS };

/* Fold at `at`, render one table for `node`, return the text. */
static char *render(struct test_trace *f, int64_t at, enum which which, const char *node,
		    bool ascii)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	struct tables *t = tables_fold(f->log, at);
	assert_non_null(t);
	assert_int_equal(tables_time(t), at);
	int rc = which == CONNTRACK ? tables_render_conntrack(out, NULL, t, node, ascii)
				    : tables_render_mappings(out, t, node, ascii);
	assert_int_equal(rc, 0);
	tables_free(t);
	fclose(out);
	return buf;
}

static void assert_renders(struct test_trace *f, int64_t at, enum which which, const char *node,
			   bool ascii, const char *want)
{
	char *got = render(f, at, which, node, ascii);
	assert_string_equal(got, want);
	free(got);
}

#define FOOTER(n) "conntrack v1.4.7 (conntrack-tools): " #n " flow entries have been shown.\n"

static void test_conntrack_before_expiry(void **state)
{
	assert_renders(
	    *state, SIM_S(10), CONNTRACK, NULL, false,
	    "\u2500\u2500 home: conntrack \u2500\u2500\n"
	    "udp      17 22 src=192.168.1.5 dst=192.0.2.10 sport=5000 dport=3478 "
	    "src=192.0.2.10 dst=203.0.113.7 sport=3478 dport=61000 mark=0 use=1\n"
	    "udp      17 113 src=192.168.1.5 dst=198.51.100.9 sport=5000 dport=40000 "
	    "src=198.51.100.9 dst=203.0.113.7 sport=40000 dport=61000 [ASSURED] "
	    "mark=0 use=1\n" FOOTER(
		2) "\n"
		   "\u2500\u2500 office: conntrack \u2500\u2500\n"
		   "udp      17 22 src=198.51.100.9 dst=203.0.113.7 sport=40000 dport=61000 "
		   "[UNREPLIED] src=203.0.113.7 dst=198.51.100.9 sport=61000 dport=40000 "
		   "mark=0 use=1\n" FOOTER(1) "\n"
					      "\u2500\u2500 dorm: conntrack \u2500\u2500\n" FOOTER(
						  0));
}

/* An empty table is shown (conntrack -L prints "0 flow entries"), and each
 * closing count goes to the second stream as conntrack writes it to stderr. */
static void test_conntrack_empty_and_footer_stream(void **state)
{
	struct test_trace *f = *state;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
	assert_non_null(out);
	assert_non_null(err);
	struct tables *t = tables_fold(f->log, SIM_S(40));
	assert_non_null(t);
	assert_int_equal(tables_render_conntrack(out, err, t, NULL, true), 0);
	tables_free(t);
	fclose(out);
	fclose(err);
	assert_string_equal(obuf, "== home: conntrack ==\n"
				  "udp      17 83 src=192.168.1.5 dst=198.51.100.9 sport=5000 "
				  "dport=40000 src=198.51.100.9 dst=203.0.113.7 sport=40000 "
				  "dport=61000 [ASSURED] mark=0 use=1\n"
				  "\n== office: conntrack ==\n"
				  "\n== dorm: conntrack ==\n");
	assert_string_equal(ebuf, FOOTER(1) FOOTER(0) FOOTER(0));
	free(obuf);
	free(ebuf);
}

/* Past 31.2 s home's first flow is gone although no DESTROY was recorded;
 * the assured flow lives on; office's flow timed out too. */
static void test_conntrack_after_expiry(void **state)
{
	assert_renders(*state, SIM_S(40), CONNTRACK, "home", true,
		       "== home: conntrack ==\n"
		       "udp      17 83 src=192.168.1.5 dst=198.51.100.9 sport=5000 dport=40000 "
		       "src=198.51.100.9 dst=203.0.113.7 sport=40000 dport=61000 [ASSURED] "
		       "mark=0 use=1\n" FOOTER(1));
	assert_renders(*state, SIM_S(40), CONNTRACK, "office", true,
		       "== office: conntrack ==\n" FOOTER(0));
	/* the boundary: an entry is gone at the very instant of its deadline */
	char *got = render(*state, SIM_MS(31200) - 1, CONNTRACK, "home", true);
	assert_non_null(strstr(got, "udp      17 1 src=192.168.1.5 dst=192.0.2.10 "));
	free(got);
	got = render(*state, SIM_MS(31200), CONNTRACK, "home", true);
	assert_null(strstr(got, "dst=192.0.2.10"));
	free(got);
	/* a refresh after the instant is not applied; at 60 s it is */
	assert_renders(*state, SIM_S(60), CONNTRACK, "home", true,
		       "== home: conntrack ==\n"
		       "udp      17 110 src=192.168.1.5 dst=198.51.100.9 sport=5000 dport=40000 "
		       "src=198.51.100.9 dst=203.0.113.7 sport=40000 dport=61000 [ASSURED] "
		       "mark=0 use=1\n" FOOTER(1));
}

/* Flow 3 was created and destroyed by records: at 5.5 s it shows
 * [UNREPLIED] after flows 1 and 2 (creation order), at 6 s it is gone. */
static void test_conntrack_destroy_record(void **state)
{
	char *got = render(*state, SIM_MS(5500), CONNTRACK, "home", false);
	const char *one = strstr(got, "dst=192.0.2.10 sport=5000");
	const char *two = strstr(got, "dst=198.51.100.9 sport=5000");
	const char *three = strstr(got, "udp      17 30 src=192.168.1.8 dst=192.0.2.10 sport=80 "
					"dport=3478 [UNREPLIED] src=192.0.2.10 dst=203.0.113.7 "
					"sport=3478 dport=8080 mark=0 use=1\n");
	assert_non_null(one);
	assert_non_null(two);
	assert_non_null(three);
	assert_true(one < two && two < three);
	assert_non_null(strstr(got, FOOTER(3)));
	free(got);
	got = render(*state, SIM_S(6), CONNTRACK, "home", false);
	assert_null(strstr(got, "192.168.1.8"));
	assert_non_null(strstr(got, FOOTER(2)));
	free(got);
}

/* An IPv6 flow of the node's IPv6 table (family 6, tuples copied by the
 * log: the record's own are gone after the emit) beside an IPv4 flow that
 * has the same id: both listed, as `conntrack -L` without -f lists both
 * families (conntrack-tools 1.4.7, checked in a namespace); the IPv6 line is
 * what `conntrack -L -f ipv6` prints; each is destroyed by its own family's
 * record. */
static void emit_ct6(struct test_trace *f, int64_t at, enum trace_ct_event ev, bool replied)
{
	struct trace_ct_tuples6 t = {{.sport = 5000, .dport = 3478},
				     {.sport = 3478, .dport = 5000}};
	struct trace_record r = {.kind = TRACE_CONNTRACK};

	assert_int_equal(ip6_parse("2001:db8:1::5", &t.orig.src, NULL), IP6_OK);
	assert_int_equal(ip6_parse("2001:db8:2::1", &t.orig.dst, NULL), IP6_OK);
	t.reply.src = t.orig.dst;
	t.reply.dst = t.orig.src;
	r.u.ct = (struct trace_conntrack){.event = ev,
					  .node = "fw6",
					  .id = 1,
					  .proto = 17,
					  .seen_reply = replied,
					  .expires_at = at + SIM_S(30),
					  .use = 1,
					  .family = 6,
					  .tuples6 = &t};
	test_trace_emit(f, at, &r);
	memset(&t, 0xee, sizeof(t)); /* the log must hold its own copy */
}

static void test_conntrack_ipv6_entries(void **state)
{
	struct test_trace *f = test_trace_new();

	(void)state;
	emit_node(f, "fw6", "router", true);
	emit_ct(f, 0, "fw6", 1, TRACE_CT_NEW, &alice_lan, &stun_srv, &alice_lan, false, false,
		SIM_S(30));
	emit_ct6(f, 0, TRACE_CT_NEW, false);
	emit_ct6(f, SIM_S(1), TRACE_CT_UPDATE, true);
	assert_renders(
	    f, SIM_S(1), CONNTRACK, "fw6", true,
	    "== fw6: conntrack ==\n"
	    "udp      17 29 src=192.168.1.5 dst=192.0.2.10 sport=5000 dport=3478 "
	    "[UNREPLIED] src=192.0.2.10 dst=192.168.1.5 sport=3478 dport=5000 mark=0 "
	    "use=1\n"
	    "udp      17 30 src=2001:db8:1::5 dst=2001:db8:2::1 sport=5000 dport=3478 "
	    "src=2001:db8:2::1 dst=2001:db8:1::5 sport=3478 dport=5000 mark=0 use=1\n" FOOTER(2));
	emit_ct6(f, SIM_S(2), TRACE_CT_DESTROY, true);
	char *got = render(f, SIM_S(2), CONNTRACK, "fw6", true);
	assert_null(strstr(got, "2001:db8"));
	assert_non_null(strstr(got, "src=192.168.1.5"));
	free(got);
	test_trace_free(f);
}

/* Columns are padded to their widest cell (the long runs of blanks below are
 * that padding, split to fit the page), two spaces apart, none trailing. */
static void test_mappings_before_remote_added(void **state)
{
	assert_renders(*state, SIM_MS(1500), MAPPINGS, NULL, false,
		       "\u2500\u2500 home: mappings (EIM + APDF, port-restricted-cone) "
		       "\u2500\u2500\n"
		       "internal          external           who may come in"
		       "                                               "
		       "  state   time left\n"
		       "192.168.1.8:80    203.0.113.7:8080   accepts anyone (port forward)"
		       "                                 "
		       "  static  -\n"
		       "192.168.1.5:5000  203.0.113.7:61000  accepts 192.0.2.10:3478 "
		       "(address-and-port-dependent filtering)  active  30s\n");
}

static void test_mappings_remote_added(void **state)
{
	assert_renders(*state, SIM_S(10), MAPPINGS, "home", true,
		       "== home: mappings (EIM + APDF, port-restricted-cone) ==\n"
		       "internal          external           who may come in"
		       "                                   "
		       "                                   "
		       "  state   time left\n"
		       "192.168.1.8:80    203.0.113.7:8080   accepts anyone (port forward)"
		       "                                                        "
		       "  static  -\n"
		       "192.168.1.5:5000  203.0.113.7:61000  accepts 192.0.2.10:3478 and "
		       "198.51.100.9:40000 (address-and-port-dependent filtering)  active  22s\n");
}

/* Past 32 s mapping 1 is gone without an EXPIRED record; the forward stays. */
static void test_mappings_after_expiry(void **state)
{
	assert_renders(*state, SIM_S(40), MAPPINGS, NULL, true,
		       "== home: mappings (EIM + APDF, port-restricted-cone) ==\n"
		       "internal        external          who may come in                state"
		       "   time left\n"
		       "192.168.1.8:80  203.0.113.7:8080  accepts anyone (port forward)  static"
		       "  -\n");
	/* a node without a NAT, asked for by name, says so */
	assert_renders(*state, SIM_S(40), MAPPINGS, "alice", true,
		       "== alice: mappings ==\n(no mappings)\n");
	/* an unknown node prints nothing */
	assert_renders(*state, SIM_S(40), MAPPINGS, "nobody", true, "");
}

static void test_expired_and_cleared_records(void **state)
{
	struct test_trace *f = *state;
	const struct endpoint any = {0, 0};
	emit_map(f, SIM_S(60), 1, TRACE_MAP_CREATED, &alice_lan, &alice_pub, &bob_pub, false,
		 SIM_S(90));
	emit_map(f, SIM_S(61), 3, TRACE_MAP_CREATED, &web_lan, &alice_pub, &stun_srv, false,
		 SIM_S(91));
	emit_map(f, SIM_S(62), 1, TRACE_MAP_REFRESHED, &alice_lan, &alice_pub, &any, false,
		 SIM_S(92));
	emit_map(f, SIM_S(70), 3, TRACE_MAP_EXPIRED, &web_lan, &alice_pub, &any, false, SIM_S(70));
	emit_map(f, SIM_S(80), 2, TRACE_MAP_CLEARED, &web_lan, &web_pub, &any, true,
		 SIM_TIME_NEVER);

	struct tables *t = tables_fold(f->log, SIM_S(65));
	assert_non_null(t);
	const struct tables_node *home = tables_node_find(t, "home");
	assert_non_null(home);
	assert_int_equal(home->n_mappings, 3);
	assert_int_equal(home->mappings[1].id, 1);
	/* a reused id starts afresh: only the new remote, the refreshed deadline */
	assert_int_equal(home->mappings[1].n_remotes, 1);
	assert_int_equal(home->mappings[1].remotes[0].ip, bob_pub.ip);
	assert_int_equal(home->mappings[1].expires_at, SIM_S(92));
	assert_int_equal(home->mappings[1].created_at, SIM_S(60));
	tables_free(t);

	t = tables_fold(f->log, SIM_S(80));
	assert_non_null(t);
	home = tables_node_find(t, "home");
	assert_int_equal(home->n_mappings, 1); /* 3 expired, static 2 cleared */
	assert_int_equal(home->mappings[0].id, 1);
	tables_free(t);
}

/* A flow that ended takes its remote out of "who may come in"
 * (TRACE_MAP_REMOTE_REMOVED), at that instant and not before. */
static void test_remote_removed_record(void **state)
{
	struct test_trace *f = *state;
	emit_map(f, SIM_S(10), 1, TRACE_MAP_REMOTE_REMOVED, &alice_lan, &alice_pub, &stun_srv,
		 false, SIM_S(32));

	struct tables *t = tables_fold(f->log, SIM_S(9));
	assert_non_null(t);
	const struct tables_node *home = tables_node_find(t, "home");
	assert_int_equal(home->mappings[1].n_remotes, 2);
	tables_free(t);
	t = tables_fold(f->log, SIM_S(10));
	assert_non_null(t);
	home = tables_node_find(t, "home");
	assert_int_equal(home->mappings[1].id, 1);
	assert_int_equal(home->mappings[1].n_remotes, 1);
	assert_int_equal(home->mappings[1].remotes[0].ip, bob_pub.ip);
	assert_int_equal(home->mappings[1].remotes[0].port, bob_pub.port);
	tables_free(t);
}

/* A port-mapping request's records (model/pcp_server.h): created shows
 * the mapping with its origin and "accepts anyone"; renewed moves its
 * deadline; refused changes nothing; deleted takes it away. */
static void emit_pcp(struct test_trace *f, int64_t at, enum trace_map_event ev, int64_t expires)
{
	static const struct endpoint game_lan = {IP4(192, 168, 1, 9), 7777};
	static const struct endpoint game_pub = {IP4(203, 0, 113, 7), 7777};
	struct trace_record r = {.kind = TRACE_MAPPING};

	r.u.map = (struct trace_mapping){.event = ev,
					 .node = "home",
					 .id = 9,
					 .proto = 17,
					 .internal = game_lan,
					 .external = game_pub,
					 .mapping = NAT_ENDPOINT_INDEPENDENT,
					 .filtering = NAT_ADDRESS_AND_PORT_DEPENDENT,
					 .expires_at = expires,
					 .origin = NAT_ORIGIN_PCP,
					 .pcp = {.protocol = NAT_ORIGIN_PCP}};
	test_trace_emit(f, at, &r);
}

static void test_pcp_records(void **state)
{
	struct test_trace *f = *state;

	emit_pcp(f, SIM_S(41), TRACE_MAP_CREATED, SIM_S(161));
	emit_pcp(f, SIM_S(42), TRACE_MAP_REFUSED, SIM_TIME_NEVER);
	emit_pcp(f, SIM_S(43), TRACE_MAP_RENEWED, SIM_S(283));
	emit_pcp(f, SIM_S(50), TRACE_MAP_DELETED, SIM_S(283));
	assert_renders(f, SIM_S(43), MAPPINGS, NULL, true,
		       "== home: mappings (EIM + APDF, port-restricted-cone) ==\n"
		       "internal          external          who may come in                state"
		       "   time left\n"
		       "192.168.1.8:80    203.0.113.7:8080  accepts anyone (port forward)  static"
		       "  -\n"
		       "192.168.1.9:7777  203.0.113.7:7777  accepts anyone (PCP mapping)   pcp  "
		       "   240s\n");
	struct tables *t = tables_fold(f->log, SIM_S(50));
	assert_non_null(t);
	assert_int_equal(tables_node_find(t, "home")->n_mappings, 1);
	tables_free(t);
}

static void test_accessors(void **state)
{
	struct test_trace *f = *state;
	struct tables *t = tables_fold(f->log, SIM_S(10));
	assert_non_null(t);
	/* nodes in order of first appearance, from any record kind */
	assert_int_equal(tables_node_count(t), 5);
	const char *names[] = {"alice", "home", "office", "dorm", "server"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(tables_node_at(t, i)->name, names[i]);
	assert_null(tables_node_at(t, 5));
	assert_null(tables_node_find(t, "bob"));

	const struct tables_node *home = tables_node_find(t, "home");
	assert_true(home->tracks);
	assert_true(home->nats);
	assert_int_equal(home->mapping, NAT_ENDPOINT_INDEPENDENT);
	assert_int_equal(home->filtering, NAT_ADDRESS_AND_PORT_DEPENDENT);
	assert_int_equal(home->n_flows, 2);
	assert_int_equal(home->flows[0].rec.id, 1);
	assert_int_equal(home->flows[0].rec.event, TRACE_CT_UPDATE);
	assert_int_equal(home->flows[0].created_at, SIM_S(1));
	assert_true(home->flows[1].rec.assured);
	assert_int_equal(home->n_mappings, 2);
	assert_true(home->mappings[0].is_static);
	assert_int_equal(home->mappings[0].n_remotes, 0);
	assert_int_equal(home->mappings[1].n_remotes, 2);
	assert_int_equal(home->mappings[1].remotes[1].port, bob_pub.port);

	const struct tables_node *alice = tables_node_find(t, "alice");
	assert_false(alice->tracks);
	assert_false(alice->nats);
	assert_int_equal(alice->n_flows, 0);
	assert_true(tables_node_find(t, "office")->tracks);
	assert_false(tables_node_find(t, "office")->nats);
	/* dorm's node record says it keeps a table: it tracks with no flows */
	assert_true(tables_node_find(t, "dorm")->tracks);
	assert_int_equal(tables_node_find(t, "dorm")->n_flows, 0);
	tables_free(t);

	/* before the first record: nothing known yet */
	t = tables_fold(f->log, -1);
	assert_non_null(t);
	assert_int_equal(tables_node_count(t), 0);
	tables_free(t);
	tables_free(NULL);
}

static void test_write_error(void **state)
{
	struct test_trace *f = *state;
	FILE *out = fopen("/dev/full", "w");
	assert_non_null(out);
	setvbuf(out, NULL, _IONBF, 0);
	struct tables *t = tables_fold(f->log, SIM_S(10));
	assert_non_null(t);
	assert_int_equal(tables_render_conntrack(out, NULL, t, NULL, false), -1);
	assert_int_equal(tables_render_mappings(out, t, NULL, false), -1);
	tables_free(t);
	fclose(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_conntrack_before_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conntrack_after_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conntrack_destroy_record, setup, teardown),
	    cmocka_unit_test(test_conntrack_ipv6_entries),
	    cmocka_unit_test_setup_teardown(test_conntrack_empty_and_footer_stream, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_mappings_before_remote_added, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mappings_remote_added, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mappings_after_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expired_and_cleared_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remote_removed_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcp_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accessors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
