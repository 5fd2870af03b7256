/*
 * test_timeline.c - the terminal timeline: golden output at each verbosity,
 * ASCII against UTF-8, colours, wrapping with a hanging indent, and the live
 * observer.
 *
 * The golden strings are literals below. To regenerate one on purpose, print
 * the rendered text (fputs(text, stderr)) in the failing test, check it by eye,
 * and paste it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/conntrack.h"
#include "model/nat.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/trace_log.h"
#include "tests/support_trace.h"
#include "viz/timeline.h"

static const struct endpoint alice_lan = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint alice_pub = {IP4(203, 0, 113, 7), 61000};
static const struct endpoint stun_srv = {IP4(192, 0, 2, 10), 3478};
static const struct endpoint bob_pub = {IP4(198, 51, 100, 9), 40000};

static void emit_app(struct test_trace *f, int64_t at, const char *node, const char *app,
		     const char *event, const char *peer, const char *text)
{
	struct trace_record r = {.kind = TRACE_APP};
	r.u.app = (struct trace_app){node, app, event, peer, text};
	test_trace_emit(f, at, &r);
}

static void emit_scenario(struct test_trace *f, int64_t at, enum trace_scenario_event ev,
			  const char *text, int line)
{
	struct trace_record r = {.kind = TRACE_SCENARIO};
	r.u.scenario = (struct trace_scenario){ev, text, line};
	test_trace_emit(f, at, &r);
}

static void emit_packet(struct test_trace *f, int64_t at, enum trace_hop hop, const char *node,
			const struct endpoint *src, const struct endpoint *dst, const char *why)
{
	uint8_t buf[64];
	size_t n = packet_build_udp(buf, sizeof(buf), src, dst, 64, 1, "ping", 4);
	assert_true(n > 0);
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){
	    .hop = hop, .packet_id = 42, .node = node, .bytes = buf, .len = n, .why = why};
	if (hop == TRACE_HOP_TRANSLATE) {
		r.u.packet.map_internal = alice_lan;
		r.u.packet.map_external = alice_pub;
	}
	if (hop == TRACE_HOP_DROP) {
		r.u.packet.reason = TRACE_DROP_NAT_FILTER;
		/* The sentence for a view that names the node, as explain/
		 * makes it: after "office " in OFFICE_WHY, "bob's " below. */
		if (why != NULL && strncmp(why, "office dropped", 14) == 0)
			r.u.packet.why_after_node = why + strlen("office ");
		else if (why != NULL && strncmp(why, "bob's ", 6) == 0)
			r.u.packet.why_after_node = why + strlen("bob's ");
	}
	test_trace_emit(f, at, &r);
}

static void emit_mapping(struct test_trace *f, int64_t at, enum trace_map_event ev,
			 int64_t expires_at)
{
	struct trace_record r = {.kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = ev,
					 .node = "home",
					 .id = 1,
					 .proto = 17,
					 .internal = alice_lan,
					 .external = alice_pub,
					 .remote = stun_srv,
					 .filtering = NAT_ADDRESS_AND_PORT_DEPENDENT,
					 .expires_at = expires_at};
	test_trace_emit(f, at, &r);
}

static void emit_ct(struct test_trace *f, int64_t at, enum trace_ct_event ev, int64_t expires_at)
{
	struct trace_record r = {.kind = TRACE_CONNTRACK};
	r.u.ct = (struct trace_conntrack){
	    .event = ev,
	    .node = "home",
	    .id = 1,
	    .proto = 17,
	    .orig = {alice_lan.ip, stun_srv.ip, alice_lan.port, stun_srv.port},
	    .reply = {stun_srv.ip, alice_pub.ip, stun_srv.port, alice_pub.port},
	    .seen_reply = ev == TRACE_CT_UPDATE,
	    .expires_at = expires_at,
	    .use = 1,
	    .why = ev == TRACE_CT_DESTROY ? "timed out" : NULL};
	test_trace_emit(f, at, &r);
}

#define OFFICE_WHY                                                                                 \
	"office dropped 203.0.113.7:61000 \u2192 198.51.100.9:40000: its mapping for "             \
	"10.1.0.9:40000 only accepts replies from 192.0.2.10:3478, the one endpoint it has "       \
	"sent to (address-and-port-dependent filtering)"

/* A short story with at least one record for each verbosity level. */
static void emit_story(struct test_trace *f)
{
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){.name = "home",
				       .type = "nat",
				       .detail = "192.168.1.1 | 203.0.113.7",
				       .behind = "isp",
				       .conntrack = true};
	test_trace_emit(f, 0, &r);
	emit_app(f, 0, "alice", "alice", "registered", NULL,
		 "registered with the coordinator as 203.0.113.7:61000");
	emit_scenario(f, 0, TRACE_SCN_ACTION, "alice connects to bob", 3);
	emit_packet(f, SIM_MS(1000), TRACE_HOP_SEND, "alice", &alice_lan, &stun_srv, NULL);
	emit_mapping(f, SIM_MS(1020), TRACE_MAP_CREATED, SIM_MS(31020));
	emit_ct(f, SIM_MS(1020), TRACE_CT_NEW, SIM_MS(31020));
	emit_packet(f, SIM_MS(1020), TRACE_HOP_TRANSLATE, "home", &alice_pub, &stun_srv, NULL);
	emit_ct(f, SIM_MS(1030), TRACE_CT_UPDATE, SIM_MS(31030));
	emit_mapping(f, SIM_MS(1030), TRACE_MAP_REFRESHED, SIM_MS(31030));
	emit_packet(f, SIM_MS(1041), TRACE_HOP_DROP, "office", &alice_pub, &bob_pub, OFFICE_WHY);
	emit_app(f, SIM_MS(1050), "alice", "alice", "log", "bob", "retrying bob");
	emit_app(f, SIM_MS(1061), "alice", "alice", "direct", "bob",
		 "direct to bob via 192.168.1.5:5000 \u2192 198.51.100.9:40000");
	r = (struct trace_record){.kind = TRACE_LINK};
	r.u.link = (struct trace_link){TRACE_LINK_DOWN, "home-lan", "alice", "eth0", "home",
				       "lan",		SIM_MS(1),  0,	     0};
	test_trace_emit(f, SIM_S(2), &r);
	emit_app(f, SIM_MS(2500), "server", "coordinator", "relayed", "bob", "relaying for bob");
	emit_scenario(f, SIM_MS(3500), TRACE_SCN_NOTE, "Now the link is cut.", 7);
	emit_ct(f, SIM_MS(31030), TRACE_CT_DESTROY, SIM_MS(31030));
	emit_mapping(f, SIM_MS(31030), TRACE_MAP_EXPIRED, SIM_MS(31030));
	emit_scenario(f, SIM_S(40), TRACE_SCN_EXPECT_FAIL, "alice reaches bob directly", 9);
}

static int setup(void **state)
{
	struct test_trace *f = test_trace_new();
	emit_story(f);
	assert_false(trace_log_failed(f->log));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	test_trace_free(*state);
	return 0;
}

/* Render the fixture's log with `opt` and return the text (caller frees). */
static char *render(struct test_trace *f, const struct timeline_options *opt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(timeline_render_log(out, f->log, opt), 0);
	fclose(out);
	return buf;
}

static void assert_renders(struct test_trace *f, const struct timeline_options *opt,
			   const char *want)
{
	char *got = render(f, opt);
	assert_string_equal(got, want);
	free(got);
}

#define L_REGISTERED "  0.000s  alice     registered with the coordinator as 203.0.113.7:61000\n"
#define L_ACTION "  0.000s  scenario  alice connects to bob\n"
#define L_DIRECT                                                                                   \
	"  1.061s  alice     direct to bob via 192.168.1.5:5000 \u2192 198.51.100.9:40000\n"
#define L_RELAYED "  2.500s  server    coordinator: relaying for bob\n"
#define L_NOTE "  3.500s  note      Now the link is cut.\n"
#define L_FAIL " 40.000s  expect    \u2717 alice reaches bob directly (scenario line 9)\n"
#define DROP_TEXT                                                                                  \
	"dropped 203.0.113.7:61000 \u2192 198.51.100.9:40000: its mapping for 10.1.0.9:40000 "     \
	"only accepts replies from 192.0.2.10:3478, the one endpoint it has sent to "              \
	"(address-and-port-dependent filtering)\n"

/* IPv6 conntrack records (model/conntrack6.h) name their IPv6 ends, never
 * the empty IPv4 tuple: a UDP flow and a ping. */
static void emit_ct6(struct test_trace *f, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct trace_ct_tuples6 t = {{.sport = sport, .dport = dport},
				     {.sport = dport, .dport = sport}};
	struct trace_record r = {.kind = TRACE_CONNTRACK};

	assert_int_equal(ip6_parse("2001:db8:1::5", &t.orig.src, NULL), IP6_OK);
	assert_int_equal(ip6_parse("2001:db8:2::1", &t.orig.dst, NULL), IP6_OK);
	/* The reply mirrors the original, as conntrack6 makes it (an echo's
	 * reply keeps the id and has the reply type). */
	t.reply.src = t.orig.dst;
	t.reply.dst = t.orig.src;
	if (proto == 58)
		t.reply = (struct trace_ct_tuple6){t.orig.dst, t.orig.src, sport, 129 << 8};
	r.u.ct = (struct trace_conntrack){.event = TRACE_CT_NEW,
					  .node = "home",
					  .id = sport,
					  .proto = proto,
					  .expires_at = SIM_S(30),
					  .use = 1,
					  .family = 6,
					  .tuples6 = &t};
	test_trace_emit(f, 0, &r);
}

static void test_ipv6_conntrack(void **state)
{
	struct timeline_options opt = {.verbosity = TIMELINE_NORMAL};
	struct test_trace *f = test_trace_new();

	(void)state;
	emit_ct6(f, 17, 5000, 3478);
	emit_ct6(f, 58, 7, 128 << 8);
	assert_renders(f, &opt,
		       "  0.000s  home      conntrack: new flow [2001:db8:1::5]:5000 \u2192 "
		       "[2001:db8:2::1]:3478 [UNREPLIED], expires in 30s\n"
		       "  0.000s  home      conntrack: new flow ping 2001:db8:1::5 \u2192 "
		       "2001:db8:2::1 id=7 [UNREPLIED], expires in 30s\n");
	test_trace_free(f);
}

static void test_quiet(void **state)
{
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET};
	assert_renders(*state, &opt,
		       L_REGISTERED L_ACTION
		       "  1.041s  office    \u2717 " DROP_TEXT L_DIRECT L_RELAYED L_NOTE L_FAIL);
}

static void test_normal(void **state)
{
	struct timeline_options opt;
	timeline_options_default(&opt);
	assert_int_equal(opt.verbosity, TIMELINE_NORMAL);
	assert_renders(
	    *state, &opt,
	    L_REGISTERED L_ACTION
	    "  1.020s  home      new mapping 192.168.1.5:5000 \u2192 203.0.113.7:61000 "
	    "(for 192.0.2.10:3478)\n"
	    "  1.020s  home      conntrack: new flow 192.168.1.5:5000 \u2192 192.0.2.10:3478 "
	    "[UNREPLIED], seen outside as 203.0.113.7:61000, expires in 30s\n"
	    "  1.041s  office    \u2717 " DROP_TEXT "  1.050s  alice     retrying bob\n" L_DIRECT
	    "  2.000s  home-lan  link down: alice:eth0 \u2194 home:lan\n" L_RELAYED L_NOTE
	    " 31.030s  home      conntrack: flow 192.168.1.5:5000 \u2192 192.0.2.10:3478 "
	    "destroyed (timed out)\n"
	    " 31.030s  home      mapping 192.168.1.5:5000 \u2192 203.0.113.7:61000 "
	    "expired\n" L_FAIL);
}

static void test_verbose(void **state)
{
	struct timeline_options opt = {.verbosity = TIMELINE_VERBOSE};
	char *got = render(*state, &opt);
	/* Only the lines VERBOSE adds are spelled out; the rest is NORMAL's. */
	assert_non_null(strstr(got, "  0.000s  home      nat: 192.168.1.1 | 203.0.113.7, "
				    "behind isp\n" L_REGISTERED));
	assert_non_null(strstr(got, "  1.000s  alice     #42 sent UDP 192.168.1.5:5000 \u2192 "
				    "192.0.2.10:3478 len=4 ttl=64\n"));
	assert_non_null(strstr(got, "  1.020s  home      #42 translated by mapping "
				    "192.168.1.5:5000 \u2194 203.0.113.7:61000: UDP "
				    "203.0.113.7:61000 \u2192 192.0.2.10:3478 len=4 ttl=64\n"));
	assert_non_null(strstr(got, "  1.030s  home      conntrack: flow 192.168.1.5:5000 "
				    "\u2192 192.0.2.10:3478 now replied, expires in 30s\n"
				    "  1.030s  home      mapping 192.168.1.5:5000 \u2192 "
				    "203.0.113.7:61000 refreshed, expires in 30s\n"));
	assert_non_null(strstr(got, "  1.041s  office    \u2717 #42 " DROP_TEXT));
	/* Every record of the story makes a line at VERBOSE. */
	size_t lines = 0;
	for (const char *p = got; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, trace_log_count(((struct test_trace *)*state)->log));
	free(got);
}

static void test_ascii(void **state)
{
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET, .ascii = true};
	char *got = render(*state, &opt);
	for (const char *p = got; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(got, "  1.041s  office    x dropped 203.0.113.7:61000 -> "
				    "198.51.100.9:40000: its mapping"));
	assert_non_null(strstr(got, "  1.061s  alice     direct to bob via 192.168.1.5:5000 -> "
				    "198.51.100.9:40000\n"));
	assert_non_null(strstr(got, " 40.000s  expect    x alice reaches bob"));
	free(got);

	/* A character with no look-alike becomes '?', one per character. */
	struct trace_record r = {.time = SIM_MS(5), .kind = TRACE_SCENARIO};
	r.u.scenario = (struct trace_scenario){TRACE_SCN_ACTION, "caf\u00e9 \u2713 \u2014 ok", 0};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(timeline_render_record(out, &r, &opt), 1);
	fclose(out);
	assert_string_equal(buf, "  0.005s  scenario  caf? ok - ok\n");
	free(buf);
}

static void test_color(void **state)
{
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET, .color = true};
	char *got = render(*state, &opt);
	assert_non_null(strstr(got, "  1.041s  office    \033[31m\u2717 dropped "));
	assert_non_null(strstr(got, "(address-and-port-dependent filtering)\033[0m\n"));
	assert_non_null(strstr(got, "  1.061s  alice     \033[32mdirect to bob via "));
	assert_non_null(strstr(got, "  2.500s  server    \033[33mcoordinator: relaying for "
				    "bob\033[0m\n"));
	assert_non_null(strstr(got, "  3.500s  note      \033[1mNow the link is cut.\033[0m\n"));
	/* plain lines stay plain */
	assert_non_null(strstr(got, L_REGISTERED));
	free(got);
	/* and nothing is coloured unless asked */
	opt.color = false;
	got = render(*state, &opt);
	assert_null(strchr(got, '\033'));
	free(got);
}

static void test_wrap(void **state)
{
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET, .width = 60};
	char *got = render(*state, &opt);
	assert_non_null(strstr(got, "  1.041s  office    \u2717 dropped 203.0.113.7:61000 \u2192\n"
				    "                    198.51.100.9:40000: its mapping for\n"
				    "                    10.1.0.9:40000 only accepts replies from\n"
				    "                    192.0.2.10:3478, the one endpoint it has\n"
				    "                    sent to (address-and-port-dependent\n"
				    "                    filtering)\n"));
	/* no line is wider than asked (counting characters, not bytes) */
	size_t cols = 0;
	for (const char *p = got; *p != '\0'; p++) {
		if (*p == '\n') {
			assert_true(cols <= 60);
			cols = 0;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			cols++;
		}
	}
	free(got);

	/* colour codes are closed at the end of every physical line */
	opt.color = true;
	got = render(*state, &opt);
	assert_non_null(strstr(got, "  1.041s  office    \033[31m\u2717 dropped 203.0.113.7:61000 "
				    "\u2192\033[0m\n                    \033[31m198.51.100.9"));
	free(got);
}

static void test_record_selection(void **state)
{
	(void)state;
	struct trace_record r = {.time = SIM_S(1), .kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_REFRESHED,
					 .node = "home",
					 .internal = alice_lan,
					 .external = alice_pub,
					 .expires_at = SIM_MS(30500)};
	struct timeline_options opt = {.verbosity = TIMELINE_NORMAL};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(timeline_render_record(out, &r, &opt), 0);
	opt.verbosity = TIMELINE_VERBOSE;
	assert_int_equal(timeline_render_record(out, &r, &opt), 1);
	r.u.map.event = TRACE_MAP_REMOTE_ADDED;
	r.u.map.remote = bob_pub;
	assert_int_equal(timeline_render_record(out, &r, NULL), 1); /* NULL: NORMAL */
	r.u.map.event = TRACE_MAP_CREATED;
	r.u.map.is_static = true;
	assert_int_equal(timeline_render_record(out, &r, NULL), 1);
	fclose(out);
	assert_string_equal(buf, "  1.000s  home      mapping 192.168.1.5:5000 \u2192 "
				 "203.0.113.7:61000 refreshed, expires in 30s\n"
				 "  1.000s  home      mapping 192.168.1.5:5000 \u2192 "
				 "203.0.113.7:61000 now also used for 198.51.100.9:40000\n"
				 "  1.000s  home      port forward 203.0.113.7:61000 \u2192 "
				 "192.168.1.5:5000\n");
	free(buf);
}

/* A port-mapping request's records are worded by explain/pcp.c, at the
 * normal level: a refusal says why; an explicit mapping's expiry says its
 * lifetime ran out. */
static void test_port_mapping_records(void **state)
{
	(void)state;
	struct trace_record r = {.time = SIM_S(2), .kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_REFUSED,
					 .node = "home",
					 .proto = 17,
					 .internal = alice_lan,
					 .origin = NAT_ORIGIN_PCP,
					 .pcp = {.protocol = NAT_ORIGIN_PCP,
						 .decision = PCP_DECISION_NONCE_MISMATCH,
						 .result = 2,
						 .client = {alice_lan.ip, 5350},
						 .internal_port = 5000}};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(timeline_render_record(out, &r, NULL), 1);
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_EXPIRED,
					 .node = "home",
					 .proto = 17,
					 .internal = alice_lan,
					 .external = alice_pub,
					 .origin = NAT_ORIGIN_NATPMP};
	assert_int_equal(timeline_render_record(out, &r, NULL), 1);
	fclose(out);
	assert_string_equal(buf, "  2.000s  home      PCP request from 192.168.1.5:5350 refused "
				 "(result 2): the mapping belongs to a request with another "
				 "nonce, and only its owner may renew or delete it (RFC 6887 "
				 "section 11.3)\n"
				 "  2.000s  home      NAT-PMP mapping UDP 192.168.1.5:5000 \u2192 "
				 "203.0.113.7:61000 expired: the lifetime it was granted ran out "
				 "with no renewal\n");
	free(buf);
}

static void test_write_error(void **state)
{
	struct test_trace *f = *state;
	FILE *out = fopen("/dev/full", "w");
	assert_non_null(out);
	setvbuf(out, NULL, _IONBF, 0);
	assert_int_equal(timeline_render_log(out, f->log, NULL), -1);
	fclose(out);
}

/* The sentence without its node is the record's to give (why_after_node,
 * made by explain/), never guessed from the words. */
static void test_drop_lead_from_record(void **state)
{
	struct endpoint a = {IP4(10, 0, 0, 1), 1}, b = {IP4(10, 0, 0, 2), 2};
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET};
	struct test_trace *f = test_trace_new();

	(void)state;
	/* Marked: the timeline leaves "bob's " out. */
	emit_packet(f, SIM_MS(1), TRACE_HOP_DROP, "bob", &a, &b, "bob's firewall dropped it");
	/* Starts with the node's name but is not about it: kept whole. */
	emit_packet(f, SIM_MS(2), TRACE_HOP_DROP, "office", &a, &b, "office hours are over");
	char *got = render(f, &opt);
	assert_non_null(strstr(got, "  0.001s  bob       \u2717 firewall dropped it\n"));
	assert_non_null(strstr(got, "  0.002s  office    \u2717 office hours are over\n"));
	free(got);
	test_trace_free(f);
}

static void test_live_observer(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	struct test_trace f = {0};
	trace_init(&f.trace, &f.clock);
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET, .ascii = true};
	struct timeline_observer *obs = timeline_attach(&f.trace, out, &opt);
	assert_non_null(obs);
	emit_scenario(&f, SIM_MS(1500), TRACE_SCN_EXPECT_PASS, "bob hears alice", 2);
	emit_app(&f, SIM_MS(1600), "bob", "bob", "log", NULL, "quiet hides this");
	assert_false(timeline_observer_failed(obs));
	timeline_detach(obs);
	assert_int_equal(f.trace.n_observers, 0);
	emit_scenario(&f, SIM_S(2), TRACE_SCN_NOTE, "after detach", 0);
	fclose(out);
	assert_string_equal(buf, "  1.500s  expect    ok bob hears alice\n");
	free(buf);
	timeline_detach(NULL);
}

/* A flow's first packet reads as one "new flow" line, not also as "refreshed"
 * at the same instant: the model tells the creating packet by its NEW record
 * alone. The next packet, even at the same instant, refreshes. */
static void test_first_packet_only_creates(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	struct engine *e = engine_new();
	assert_non_null(e);
	struct conntrack_config cfg;
	conntrack_config_default(&cfg);
	struct conntrack *ct = conntrack_new(e, "alice", &cfg);
	assert_non_null(ct);
	struct timeline_options opt = {.verbosity = TIMELINE_VERBOSE, .ascii = true};
	struct timeline_observer *obs = timeline_attach(engine_trace(e), out, &opt);
	assert_non_null(obs);

	struct conntrack_tuple orig = {.proto = IPPROTO_NUM_UDP,
				       .src = alice_lan.ip,
				       .dst = stun_srv.ip,
				       .sport = alice_lan.port,
				       .dport = stun_srv.port};
	struct conntrack_tuple reply;
	conntrack_tuple_invert(&orig, &reply);
	/* What a host's firewall does for the packet that finds no entry. */
	struct conntrack_entry *ent = conntrack_create(ct, &orig, &reply);
	assert_non_null(ent);
	conntrack_seen(ct, ent, CONNTRACK_DIR_ORIGINAL, 48);
	fflush(out);
	assert_string_equal(buf, "  0.000s  alice     conntrack: new flow 192.168.1.5:5000 -> "
				 "192.0.2.10:3478 [UNREPLIED], expires in 30s\n");
	conntrack_seen(ct, ent, CONNTRACK_DIR_ORIGINAL, 48);

	timeline_detach(obs);
	fclose(out);
	assert_string_equal(buf, "  0.000s  alice     conntrack: new flow 192.168.1.5:5000 -> "
				 "192.0.2.10:3478 [UNREPLIED], expires in 30s\n"
				 "  0.000s  alice     conntrack: flow 192.168.1.5:5000 -> "
				 "192.0.2.10:3478 refreshed, expires in 30s\n");
	free(buf);
	conntrack_free(ct);
	engine_free(e);
}

/* Sprays (timeline.h): 30 drops at one node on ever-new ports show the
 * first TIMELINE_SPRAY_SHOWN and one count a second after the last; 30
 * retransmissions on the same ports all show; -v shows every drop. */
static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_spray_folded(void **state)
{
	(void)state;
	struct test_trace *f = test_trace_new();
	for (int i = 0; i < 30; i++) { /* a birthday search's probes */
		struct endpoint dst = {alice_pub.ip, (uint16_t)(2000 + 7 * i)};
		emit_packet(f, SIM_MS(1000 + 10 * i), TRACE_HOP_DROP, "home", &bob_pub, &dst,
			    "probe");
	}
	for (int i = 0; i < 30; i++) /* a check retransmitted */
		emit_packet(f, SIM_MS(3000 + 10 * i), TRACE_HOP_DROP, "office", &alice_pub,
			    &bob_pub, "again");
	emit_scenario(f, SIM_S(9), TRACE_SCN_NOTE, "later", 0);
	struct timeline_options opt = {.verbosity = TIMELINE_QUIET, .ascii = true};
	char *got = render(f, &opt);
	assert_int_equal(count_lines(got, "probe"), TIMELINE_SPRAY_SHOWN);
	assert_int_equal(count_lines(got, "again"), 30);
	assert_non_null(strstr(
	    got, "  2.290s  home      x and 20 more dropped for the same reason (nat-filter), "
		 "198.51.100.9:40000 to 203.0.113.7 on ever-new destination "
		 "ports (2070 to 2203) from 1.100s to 1.290s; -v shows each\n"));
	/* In time order: the count comes before the retransmissions at 3 s. */
	assert_true(strstr(got, "and 20 more") < strstr(got, "again"));
	free(got);
	opt.verbosity = TIMELINE_VERBOSE;
	got = render(f, &opt);
	assert_int_equal(count_lines(got, "probe"), 30);
	assert_null(strstr(got, "more dropped"));
	free(got);
	test_trace_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_quiet, setup, teardown),
	    cmocka_unit_test(test_ipv6_conntrack),
	    cmocka_unit_test_setup_teardown(test_normal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verbose, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ascii, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_color, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
	    cmocka_unit_test(test_record_selection),
	    cmocka_unit_test(test_port_mapping_records),
	    cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
	    cmocka_unit_test(test_live_observer),
	    cmocka_unit_test(test_first_packet_only_creates),
	    cmocka_unit_test(test_drop_lead_from_record),
	    cmocka_unit_test(test_spray_folded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
