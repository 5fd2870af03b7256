/*
 * test_jsonl.c - the JSON-lines writer: every kind parses back with its
 * fields, the key order is pinned by golden lines, output is byte-identical
 * across runs, and write errors are sticky and surfaced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/nat.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "viz/jsonl.h"

/* An in-memory output stream the tests can read back. */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static const char *capture_text(struct capture *c)
{
	assert_int_equal(fflush(c->f), 0);
	return c->buf;
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->buf);
}

static const struct endpoint alice_lan = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint alice_pub = {IP4(203, 0, 113, 7), 61000};
static const struct endpoint stun_srv = {IP4(192, 0, 2, 10), 3478};

static size_t build_packet(uint8_t *buf, size_t cap, const struct endpoint *src,
			   const struct endpoint *dst)
{
	size_t n = packet_build_udp(buf, cap, src, dst, 64, 1, "ping", 4);
	assert_true(n > 0);
	return n;
}

/* Write one record, parse the single line back, and return the object. */
static json_t *roundtrip(const struct trace_record *r, payload_summary_fn fn)
{
	struct capture c;
	capture_open(&c);
	struct jsonl_writer *w = jsonl_writer_new(c.f, fn);
	assert_non_null(w);
	jsonl_write_record(w, r);
	assert_int_equal(jsonl_writer_flush(w), 0);
	const char *text = capture_text(&c);
	size_t n = strlen(text);
	assert_true(n > 1);
	assert_int_equal(text[n - 1], '\n');
	assert_null(memchr(text, '\n', n - 1)); /* exactly one line */
	json_error_t err;
	json_t *o = json_loads(text, 0, &err);
	assert_non_null(o);
	assert_true(json_is_object(o));
	jsonl_writer_free(w);
	capture_close(&c);
	return o;
}

static void assert_str_field(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);
	assert_non_null(v);
	if (want == NULL) {
		assert_true(json_is_null(v));
		return;
	}
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), want);
}

static void assert_int_field(json_t *o, const char *key, long long want)
{
	json_t *v = json_object_get(o, key);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), want);
}

static void assert_bool_field(json_t *o, const char *key, bool want)
{
	json_t *v = json_object_get(o, key);
	assert_non_null(v);
	assert_true(json_is_boolean(v));
	assert_int_equal(json_is_true(v), want);
}

static void test_common_fields(void **state)
{
	(void)state;
	struct trace_record r = {.seq = 42, .time = SIM_MS(1020) + 5, .kind = TRACE_SCENARIO};
	r.u.scenario = (struct trace_scenario){TRACE_SCN_NOTE, "Bob's NAT is symmetric", 12};
	json_t *o = roundtrip(&r, NULL);
	assert_int_field(o, "seq", 42);
	assert_int_field(o, "t_ns", 1020000005);
	assert_str_field(o, "t", "1.020000s");
	assert_str_field(o, "kind", "scenario");
	assert_str_field(o, "event", "note");
	assert_str_field(o, "text", "Bob's NAT is symmetric");
	assert_int_field(o, "line", 12);
	assert_int_equal(json_object_size(o), 7);
	json_decref(o);
}

static void test_node_and_link(void **state)
{
	(void)state;
	struct trace_record r = {.seq = 0, .time = 0, .kind = TRACE_NODE};
	r.u.node = (struct trace_node){.name = "home",
				       .type = "nat",
				       .detail = "192.168.1.1 | 203.0.113.7",
				       .conntrack = true};
	json_t *o = roundtrip(&r, NULL);
	assert_str_field(o, "name", "home");
	assert_str_field(o, "type", "nat");
	assert_str_field(o, "detail", "192.168.1.1 | 203.0.113.7");
	assert_str_field(o, "behind", NULL);
	assert_true(json_is_true(json_object_get(o, "conntrack"))); /* keeps a table */
	json_decref(o);

	r.kind = TRACE_LINK;
	r.u.link = (struct trace_link){TRACE_LINK_DOWN, "home-lan", "alice",	 "eth0", "home",
				       "lan",		SIM_MS(2),  SIM_US(500), 0.1};
	o = roundtrip(&r, NULL);
	assert_str_field(o, "event", "down");
	assert_str_field(o, "name", "home-lan");
	assert_str_field(o, "a", "alice");
	assert_str_field(o, "a_iface", "eth0");
	assert_str_field(o, "b", "home");
	assert_str_field(o, "b_iface", "lan");
	assert_int_field(o, "latency_ns", 2000000);
	assert_int_field(o, "jitter_ns", 500000);
	assert_true(json_is_real(json_object_get(o, "loss")));
	assert_true(json_real_value(json_object_get(o, "loss")) == 0.1);
	json_decref(o);
}

static int summarise_ping(const uint8_t *payload, size_t len, char *out, size_t size)
{
	if (len == 4 && memcmp(payload, "ping", 4) == 0)
		return snprintf(out, size, "PING");
	return 0;
}

static void test_packet_send_and_drop(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = build_packet(buf, sizeof(buf), &alice_lan, &stun_srv);
	struct trace_record r = {.seq = 3, .time = SIM_MS(5), .kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){
	    .hop = TRACE_HOP_SEND, .packet_id = 7, .node = "alice", .bytes = buf, .len = n};
	json_t *o = roundtrip(&r, summarise_ping);
	assert_str_field(o, "hop", "send");
	assert_int_field(o, "id", 7);
	assert_str_field(o, "node", "alice");
	assert_str_field(o, "iface", NULL);
	assert_int_field(o, "len", (long long)n);
	assert_str_field(o, "summary",
			 "UDP 192.168.1.5:5000 \u2192 192.0.2.10:3478 len=4 ttl=64 [PING]");
	const char *hex = json_string_value(json_object_get(o, "hex"));
	assert_non_null(hex);
	assert_int_equal(strlen(hex), 2 * n);
	assert_memory_equal(hex, "4500", 4);
	assert_string_equal(hex + 2 * n - 8, "70696e67"); /* "ping" */
	assert_null(json_object_get(o, "reason"));	  /* drop-only key */
	assert_null(json_object_get(o, "before_hex"));	  /* translate-only key */
	assert_str_field(o, "why", NULL);
	assert_str_field(o, "rule", NULL);
	json_decref(o);

	r.u.packet.hop = TRACE_HOP_DROP;
	r.u.packet.iface = "wan";
	r.u.packet.reason = TRACE_DROP_FIREWALL;
	r.u.packet.why = "office's firewall dropped it";
	r.u.packet.rule = "input #2";
	o = roundtrip(&r, NULL);
	assert_str_field(o, "hop", "drop");
	assert_str_field(o, "iface", "wan");
	assert_str_field(o, "summary", "UDP 192.168.1.5:5000 \u2192 192.0.2.10:3478 len=4 ttl=64");
	assert_str_field(o, "reason", "firewall");
	assert_str_field(o, "why", "office's firewall dropped it");
	assert_str_field(o, "rule", "input #2");
	json_decref(o);
}

static void test_packet_translate(void **state)
{
	(void)state;
	uint8_t before[64], after[64];
	size_t nb = build_packet(before, sizeof(before), &alice_lan, &stun_srv);
	size_t na = build_packet(after, sizeof(after), &alice_pub, &stun_srv);
	struct trace_record r = {.seq = 4, .time = SIM_MS(6), .kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_TRANSLATE,
					   .packet_id = 7,
					   .node = "home",
					   .bytes = after,
					   .len = na,
					   .before = before,
					   .before_len = nb,
					   .map_internal = alice_lan,
					   .map_external = alice_pub};
	json_t *o = roundtrip(&r, NULL);
	assert_str_field(o, "hop", "translate");
	assert_str_field(o, "summary", "UDP 203.0.113.7:61000 \u2192 192.0.2.10:3478 len=4 ttl=64");
	assert_int_field(o, "before_len", (long long)nb);
	assert_str_field(o, "before_summary",
			 "UDP 192.168.1.5:5000 \u2192 192.0.2.10:3478 len=4 ttl=64");
	const char *bh = json_string_value(json_object_get(o, "before_hex"));
	assert_non_null(bh);
	assert_int_equal(strlen(bh), 2 * nb);
	assert_string_not_equal(bh, json_string_value(json_object_get(o, "hex")));
	assert_str_field(o, "map_internal", "192.168.1.5:5000");
	assert_str_field(o, "map_external", "203.0.113.7:61000");
	json_decref(o);
}

static void test_conntrack(void **state)
{
	(void)state;
	struct trace_record r = {.seq = 9, .time = SIM_S(2), .kind = TRACE_CONNTRACK};
	r.u.ct = (struct trace_conntrack){
	    .event = TRACE_CT_NEW,
	    .node = "home",
	    .id = 3,
	    .proto = 17,
	    .orig = {IP4(192, 168, 1, 5), IP4(192, 0, 2, 10), 5000, 3478},
	    .reply = {IP4(192, 0, 2, 10), IP4(203, 0, 113, 7), 3478, 61000},
	    .expires_at = SIM_S(32),
	    .use = 1};
	json_t *o = roundtrip(&r, NULL);
	assert_str_field(o, "event", "new");
	assert_str_field(o, "node", "home");
	assert_int_field(o, "id", 3);
	assert_int_field(o, "proto", 17);
	assert_str_field(o, "line",
			 "udp      17 30 src=192.168.1.5 dst=192.0.2.10 sport=5000 dport=3478 "
			 "[UNREPLIED] src=192.0.2.10 dst=203.0.113.7 sport=3478 dport=61000 "
			 "mark=0 use=1");
	json_t *orig = json_object_get(o, "orig");
	assert_true(json_is_object(orig));
	assert_str_field(orig, "src", "192.168.1.5");
	assert_str_field(orig, "dst", "192.0.2.10");
	assert_int_field(orig, "sport", 5000);
	assert_int_field(orig, "dport", 3478);
	json_t *reply = json_object_get(o, "reply");
	assert_str_field(reply, "dst", "203.0.113.7");
	assert_int_field(reply, "dport", 61000);
	assert_bool_field(o, "seen_reply", false);
	assert_bool_field(o, "assured", false);
	assert_int_field(o, "expires_ns", SIM_S(32));
	assert_int_field(o, "mark", 0);
	assert_int_field(o, "use", 1);
	assert_str_field(o, "why", NULL);
	assert_null(json_object_get(o, "family"));
	json_decref(o);
}

/* An IPv6 entry (model/conntrack6.h) says its family and writes its
 * tuples in RFC 5952 text; ICMPv6 as ICMP (type, code, id). An IPv4 record
 * has no "family" key (test_conntrack: written as it always was). */
static void test_conntrack_ipv6(void **state)
{
	(void)state;
	struct trace_ct_tuples6 t = {{.sport = 7, .dport = 128 << 8},
				     {.sport = 7, .dport = 129 << 8}};
	struct trace_record r = {.seq = 9, .time = 0, .kind = TRACE_CONNTRACK};

	assert_int_equal(ip6_parse("2001:db8:1::5", &t.orig.src, NULL), IP6_OK);
	assert_int_equal(ip6_parse("2001:db8:2::1", &t.orig.dst, NULL), IP6_OK);
	t.reply.src = t.orig.dst;
	t.reply.dst = t.orig.src;
	r.u.ct = (struct trace_conntrack){.event = TRACE_CT_NEW,
					  .node = "home",
					  .id = 1,
					  .proto = 58,
					  .expires_at = SIM_S(30),
					  .use = 1,
					  .family = 6,
					  .tuples6 = &t};
	json_t *o = roundtrip(&r, NULL);
	assert_int_field(o, "family", 6);
	assert_str_field(o, "line",
			 "icmpv6   58 30 src=2001:db8:1::5 dst=2001:db8:2::1 type=128 code=0 id=7 "
			 "[UNREPLIED] src=2001:db8:2::1 dst=2001:db8:1::5 type=129 code=0 id=7 "
			 "mark=0 use=1");
	json_t *orig = json_object_get(o, "orig");
	assert_str_field(orig, "src", "2001:db8:1::5");
	assert_int_field(orig, "type", 128);
	assert_int_field(orig, "id", 7);
	assert_str_field(json_object_get(o, "reply"), "dst", "2001:db8:1::5");
	json_decref(o);
}

/* A NAT64 binding (model/nat64.h): its inside is the IPv6 endpoint. */
static void test_mapping_nat64(void **state)
{
	(void)state;
	struct trace_record r = {.seq = 1, .time = 0, .kind = TRACE_MAPPING};
	r.u.map =
	    (struct trace_mapping){.event = TRACE_MAP_CREATED,
				   .node = "home",
				   .id = 1,
				   .proto = 17,
				   .external = alice_pub,
				   .family = 6,
				   .internal6 = {{{0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5}}, 5000},
				   .expires_at = SIM_S(300)};
	struct capture c;
	capture_open(&c);
	struct jsonl_writer *w = jsonl_writer_new(c.f, NULL);
	assert_non_null(w);
	jsonl_write_record(w, &r);
	assert_int_equal(jsonl_writer_error(w), 0);
	assert_non_null(strstr(capture_text(&c), "\"internal\":\"[2001:db8:1::5]:5000\","
						 "\"external\":\"203.0.113.7:61000\""));
	jsonl_writer_free(w);
	capture_close(&c);
}

static void test_mapping_golden(void **state)
{
	(void)state;
	struct trace_record r = {.seq = 5, .time = SIM_MS(1020), .kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "home",
					 .id = 1,
					 .proto = 17,
					 .internal = alice_lan,
					 .external = alice_pub,
					 .remote = stun_srv,
					 .mapping = NAT_ENDPOINT_INDEPENDENT,
					 .filtering = NAT_ADDRESS_AND_PORT_DEPENDENT,
					 .expires_at = SIM_MS(31020)};
	struct capture c;
	capture_open(&c);
	struct jsonl_writer *w = jsonl_writer_new(c.f, NULL);
	assert_non_null(w);
	jsonl_write_record(w, &r);
	r.u.map.event = TRACE_MAP_CREATED;
	r.u.map.is_static = true;
	r.u.map.remote = (struct endpoint){0, 0};
	r.u.map.expires_at = SIM_TIME_NEVER;
	r.u.map.origin = NAT_ORIGIN_FORWARD;
	jsonl_write_record(w, &r);
	/* A PCP request's record carries the request and the verdict. */
	r.u.map.event = TRACE_MAP_REFUSED;
	r.u.map.is_static = false;
	r.u.map.origin = NAT_ORIGIN_PCP;
	r.u.map.pcp = (struct trace_pcp){.protocol = NAT_ORIGIN_PCP,
					 .decision = PCP_DECISION_NONCE_MISMATCH,
					 .result = 2,
					 .version = 2,
					 .client = {alice_lan.ip, 5350},
					 .internal_port = 5000,
					 .requested_lifetime = 600,
					 .max_lifetime = 86400,
					 .epoch = 12};
	jsonl_write_record(w, &r);
	assert_int_equal(jsonl_writer_error(w), 0);
	assert_string_equal(
	    capture_text(&c),
	    "{\"seq\":5,\"t_ns\":1020000000,\"t\":\"1.020000s\",\"kind\":\"mapping\","
	    "\"event\":\"created\",\"node\":\"home\",\"id\":1,\"proto\":17,"
	    "\"internal\":\"192.168.1.5:5000\",\"external\":\"203.0.113.7:61000\","
	    "\"remote\":\"192.0.2.10:3478\",\"mapping\":\"endpoint-independent\","
	    "\"filtering\":\"address-and-port-dependent\",\"classic\":\"port-restricted-cone\","
	    "\"static\":false,\"expires_ns\":31020000000,\"origin\":\"traffic\"}\n"
	    "{\"seq\":5,\"t_ns\":1020000000,\"t\":\"1.020000s\",\"kind\":\"mapping\","
	    "\"event\":\"created\",\"node\":\"home\",\"id\":1,\"proto\":17,"
	    "\"internal\":\"192.168.1.5:5000\",\"external\":\"203.0.113.7:61000\","
	    "\"remote\":null,\"mapping\":\"endpoint-independent\","
	    "\"filtering\":\"address-and-port-dependent\",\"classic\":\"port-restricted-cone\","
	    "\"static\":true,\"expires_ns\":null,\"origin\":\"forward\"}\n"
	    "{\"seq\":5,\"t_ns\":1020000000,\"t\":\"1.020000s\",\"kind\":\"mapping\","
	    "\"event\":\"refused\",\"node\":\"home\",\"id\":1,\"proto\":17,"
	    "\"internal\":\"192.168.1.5:5000\",\"external\":\"203.0.113.7:61000\","
	    "\"remote\":null,\"mapping\":\"endpoint-independent\","
	    "\"filtering\":\"address-and-port-dependent\",\"classic\":\"port-restricted-cone\","
	    "\"static\":false,\"expires_ns\":null,\"origin\":\"pcp\",\"request\":{"
	    "\"protocol\":\"pcp\",\"decision\":\"nonce-mismatch\",\"result\":2,\"version\":2,"
	    "\"client\":\"192.168.1.5:5350\",\"internal_port\":5000,\"suggested_port\":0,"
	    "\"requested_lifetime_s\":600,\"lifetime_s\":0,\"max_lifetime_s\":86400,"
	    "\"epoch_s\":12}}\n");
	jsonl_writer_free(w);
	capture_close(&c);
}

static void test_app_golden(void **state)
{
	(void)state;
	struct trace_record r = {.seq = 11, .time = SIM_US(1061250), .kind = TRACE_APP};
	r.u.app =
	    (struct trace_app){"alice", "alice", "direct", "bob",
			       "direct to bob via 192.168.1.5:5000 \u2192 198.51.100.9:40000"};
	struct capture c;
	capture_open(&c);
	struct jsonl_writer *w = jsonl_writer_new(c.f, NULL);
	assert_non_null(w);
	jsonl_write_record(w, &r);
	assert_string_equal(capture_text(&c),
			    "{\"seq\":11,\"t_ns\":1061250000,\"t\":\"1.061250s\",\"kind\":\"app\","
			    "\"node\":\"alice\",\"app\":\"alice\",\"event\":\"direct\","
			    "\"peer\":\"bob\",\"text\":\"direct to bob via 192.168.1.5:5000 "
			    "\u2192 198.51.100.9:40000\"}\n");
	jsonl_writer_free(w);
	capture_close(&c);
}

/* A sentence with a byte that is not UTF-8 still makes a valid line. */
static void test_invalid_utf8(void **state)
{
	(void)state;
	struct trace_record r = {.kind = TRACE_SCENARIO};
	r.u.scenario = (struct trace_scenario){TRACE_SCN_ACTION, "caf\xe9 opens", 0};
	json_t *o = roundtrip(&r, NULL);
	assert_str_field(o, "text", "caf? opens");
	assert_str_field(o, "event", "action");
	json_decref(o);
}

/* Emit one record of every kind through a trace the writer is attached to. */
static void emit_all_kinds(struct trace *t, int64_t *clock)
{
	static uint8_t pkt[64];
	size_t n = build_packet(pkt, sizeof(pkt), &alice_lan, &stun_srv);
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){
	    .name = "alice", .type = "host", .detail = "192.168.1.5", .behind = "home"};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_LINK};
	r.u.link = (struct trace_link){TRACE_LINK_ADDED, "home-lan", "alice", "eth0", "home", "lan",
				       SIM_MS(1),	 0,	     0.0};
	trace_emit(t, &r);
	*clock = SIM_MS(1500);
	r = (struct trace_record){.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_TX,
					   .packet_id = 1,
					   .node = "alice",
					   .iface = "eth0",
					   .bytes = pkt,
					   .len = n};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_CONNTRACK};
	r.u.ct = (struct trace_conntrack){.event = TRACE_CT_DESTROY,
					  .node = "home",
					  .id = 1,
					  .proto = 17,
					  .expires_at = SIM_MS(1500),
					  .why = "timed out"};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_EXPIRED,
					 .node = "home",
					 .id = 1,
					 .internal = alice_lan,
					 .external = alice_pub,
					 .expires_at = SIM_MS(1500)};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_APP};
	r.u.app = (struct trace_app){"alice", "alice", "log", NULL, "hello"};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_SCENARIO};
	r.u.scenario = (struct trace_scenario){TRACE_SCN_EXPECT_PASS, "alice reaches bob", 4};
	trace_emit(t, &r);
}

/* One run of every kind through an attached writer; returns the text. */
static char *run_attached(void)
{
	struct capture c;
	int64_t clock = 0;
	struct trace t;
	trace_init(&t, &clock);
	capture_open(&c);
	struct jsonl_writer *w = jsonl_writer_new(c.f, NULL);
	assert_non_null(w);
	assert_int_equal(jsonl_writer_attach(w, &t), 0);
	assert_int_equal(jsonl_writer_attach(w, &t), -1); /* one trace per writer */
	emit_all_kinds(&t, &clock);
	assert_int_equal(jsonl_writer_flush(w), 0);
	jsonl_writer_free(w);
	assert_int_equal(t.n_observers, 0); /* free unsubscribed */
	trace_emit(&t, &(struct trace_record){.kind = TRACE_SCENARIO});
	fclose(c.f);
	return c.buf;
}

static void test_attached_deterministic(void **state)
{
	(void)state;
	char *a = run_attached();
	char *b = run_attached();
	assert_string_equal(a, b);
	/* seven lines, seq 0..6 in order, each one valid JSON */
	const char *kinds[] = {"node", "link", "packet", "conntrack", "mapping", "app", "scenario"};
	char *save = NULL;
	int i = 0;
	for (char *line = strtok_r(a, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), i++) {
		assert_true(i < 7);
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		assert_non_null(o);
		assert_int_field(o, "seq", i);
		assert_str_field(o, "kind", kinds[i]);
		json_decref(o);
	}
	assert_int_equal(i, 7);
	free(a);
	free(b);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(jsonl_ct_event_name(TRACE_CT_REFRESH), "refresh");
	assert_string_equal(jsonl_ct_event_name((enum trace_ct_event)99), "?");
	assert_string_equal(jsonl_map_event_name(TRACE_MAP_REMOTE_ADDED), "remote-added");
	assert_string_equal(jsonl_map_event_name(TRACE_MAP_CLEARED), "cleared");
	assert_string_equal(jsonl_map_event_name(TRACE_MAP_REMOTE_REMOVED), "remote-removed");
	assert_string_equal(jsonl_link_event_name(TRACE_LINK_UP), "up");
	assert_string_equal(jsonl_scenario_event_name(TRACE_SCN_EXPECT_FAIL), "expect-fail");
}

static void write_some(struct jsonl_writer *w, int n)
{
	struct trace_record r = {.kind = TRACE_SCENARIO};
	r.u.scenario = (struct trace_scenario){TRACE_SCN_NOTE, "filling the disk", 1};
	for (int i = 0; i < n; i++) {
		r.seq = (uint64_t)i;
		jsonl_write_record(w, &r);
	}
}

/* A full disk: buffered, the failure shows at flush; it is sticky. */
static void test_dev_full_buffered(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	assert_non_null(f);
	struct jsonl_writer *w = jsonl_writer_new(f, NULL);
	assert_non_null(w);
	write_some(w, 3);
	assert_int_equal(jsonl_writer_flush(w), -ENOSPC);
	assert_int_equal(jsonl_writer_error(w), -ENOSPC);
	write_some(w, 1);
	assert_int_equal(jsonl_writer_error(w), -ENOSPC);
	jsonl_writer_free(w);
	fclose(f);
}

/* Unbuffered, the very first record fails, and later ones are not tried. */
static void test_dev_full_unbuffered(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	struct jsonl_writer *w = jsonl_writer_new(f, NULL);
	assert_non_null(w);
	assert_int_equal(jsonl_writer_error(w), 0);
	write_some(w, 1);
	assert_int_equal(jsonl_writer_error(w), -ENOSPC);
	clearerr(f); /* even if the stream forgets, the writer remembers */
	write_some(w, 2);
	assert_int_equal(jsonl_writer_error(w), -ENOSPC);
	jsonl_writer_free(w);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_common_fields),
	    cmocka_unit_test(test_node_and_link),
	    cmocka_unit_test(test_packet_send_and_drop),
	    cmocka_unit_test(test_packet_translate),
	    cmocka_unit_test(test_conntrack),
	    cmocka_unit_test(test_conntrack_ipv6),
	    cmocka_unit_test(test_mapping_golden),
	    cmocka_unit_test(test_mapping_nat64),
	    cmocka_unit_test(test_app_golden),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_attached_deterministic),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_dev_full_buffered),
	    cmocka_unit_test(test_dev_full_unbuffered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
