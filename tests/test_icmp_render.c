/*
 * test_icmp_render.c - every renderer shows ICMP (issue 15): a hand-written
 * story of a ping and of a port unreachable that a NAT translates back
 * (RFC 5508), with a conntrack entry for the echo and a RELATED record, told
 * by the timeline, the tables, why, the ladder, the flow picture's DOT and
 * the JSON lines. The packets are real bytes from packet_build_icmp_echo /
 * packet_build_icmp_error.
 *
 *   alice (10.0.0.7) -- r (NAT, 203.0.113.7) -- srv (192.0.2.1)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/packet.h"
#include "sim/engine.h"
#include "tests/support_trace.h"
#include "viz/dot.h"
#include "viz/jsonl.h"
#include "viz/ladder.h"
#include "viz/tables.h"
#include "viz/timeline.h"
#include "viz/why.h"

#define A "\u2192"
#define ALICE IP4(10, 0, 0, 7)
#define PUB IP4(203, 0, 113, 7)
#define SRV IP4(192, 0, 2, 1)

/* The port unreachable srv sends about alice's datagram as it arrived
 * (from r's public side), and the same after r translated it back. */
static void build_error(struct test_bytes *outside, struct test_bytes *inside)
{
	uint8_t udp[128];
	size_t n = packet_build_udp(udp, sizeof(udp), &(struct endpoint){PUB, 61000},
				    &(struct endpoint){SRV, 9}, 63, 7, "hello", 5);
	assert_true(n > 0);
	outside->n = packet_build_icmp_error(outside->b, sizeof(outside->b), SRV, PUB, 64, 1,
					     ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, udp, n);
	assert_true(outside->n > 0);
	*inside = *outside;
	packet_rewrite_dst(inside->b, inside->n, &(struct endpoint){ALICE, 0});
	packet_rewrite_inner_src(inside->b, inside->n, &(struct endpoint){ALICE, 5000});
	assert_int_equal(packet_parse(inside->b, inside->n, &(struct packet_info){0}, NULL, 0), 0);
}

/* A hop; a translation is by r's mapping for alice. */
static void emit_hop(struct test_trace *f, int64_t at, enum trace_hop hop, uint64_t id,
		     const char *node, const struct test_bytes *p, const struct test_bytes *before)
{
	test_trace_hop(f, at, hop, id, node, p, before, (struct endpoint){ALICE, 5000},
		       (struct endpoint){PUB, 61000});
}

/* r's entry for alice's ping (sim/trace.h: sport = id, dport = type << 8 |
 * code), then an error found RELATED to it. */
static void emit_ct(struct test_trace *f, int64_t at, enum trace_ct_event ev, uint32_t id)
{
	struct trace_record r = {.kind = TRACE_CONNTRACK};
	r.u.ct = (struct trace_conntrack){.event = ev,
					  .node = "r",
					  .id = id,
					  .proto = 1,
					  .orig = {ALICE, SRV, 1, 8 << 8},
					  .reply = {SRV, PUB, 1024, 0},
					  .expires_at = at + SIM_S(30),
					  .use = 1};
	test_trace_emit(f, at, &r);
}

/* r's new mapping for alice's ping: id 1 outside as 1024. */
static void emit_echo_mapping(struct test_trace *f, int64_t at)
{
	struct trace_record r = {.kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "r",
					 .id = 1,
					 .proto = 1,
					 .internal = {ALICE, 1},
					 .external = {PUB, 1024},
					 .remote = {SRV, 0},
					 .expires_at = at + SIM_S(30)};
	test_trace_emit(f, at, &r);
}

/* The whole story: #1 the ping from alice to srv (r maps id 1 to 1024), #2
 * the port unreachable srv sends about alice's UDP, translated back by r. */
static void tell_story(struct test_trace *f)
{
	struct test_bytes ping, ping_out, outside, inside;

	test_trace_node(f, "alice", "host", ALICE, false);
	test_trace_node(f, "r", "router", PUB, true);
	test_trace_node(f, "srv", "host", SRV, false);
	test_trace_link(f, "lan", "alice", "r");
	test_trace_link(f, "wan", "r", "srv");
	ping.n = packet_build_icmp_echo(ping.b, sizeof(ping.b), ALICE, SRV, 64, 3,
					ICMP_ECHO_REQUEST, 1, 1, NULL, 56);
	assert_true(ping.n > 0);
	ping_out = ping;
	packet_rewrite_src(ping_out.b, ping_out.n, &(struct endpoint){PUB, 1024});
	emit_hop(f, SIM_MS(1), TRACE_HOP_SEND, 1, "alice", &ping, NULL);
	emit_hop(f, SIM_MS(1), TRACE_HOP_TX, 1, "alice", &ping, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_RX, 1, "r", &ping, NULL);
	emit_echo_mapping(f, SIM_MS(2));
	emit_ct(f, SIM_MS(2), TRACE_CT_NEW, 5);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TRANSLATE, 1, "r", &ping_out, &ping);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TX, 1, "r", &ping_out, NULL);
	emit_hop(f, SIM_MS(3), TRACE_HOP_RX, 1, "srv", &ping_out, NULL);
	build_error(&outside, &inside);
	emit_hop(f, SIM_MS(10), TRACE_HOP_SEND, 2, "srv", &outside, NULL);
	emit_hop(f, SIM_MS(10), TRACE_HOP_TX, 2, "srv", &outside, NULL);
	emit_hop(f, SIM_MS(11), TRACE_HOP_RX, 2, "r", &outside, NULL);
	emit_ct(f, SIM_MS(11), TRACE_CT_RELATED, 5);
	emit_ct(f, SIM_MS(11), TRACE_CT_RELATED, 99); /* an entry nobody made */
	emit_hop(f, SIM_MS(11), TRACE_HOP_TRANSLATE, 2, "r", &inside, &outside);
	emit_hop(f, SIM_MS(11), TRACE_HOP_TX, 2, "r", &inside, NULL);
	emit_hop(f, SIM_MS(12), TRACE_HOP_RX, 2, "alice", &inside, NULL);
	emit_hop(f, SIM_MS(12), TRACE_HOP_DELIVER, 2, "alice", &inside, NULL);
}

static struct test_trace *story(void)
{
	struct test_trace *f = test_trace_new();
	tell_story(f);
	return f;
}

/* What a renderer wrote to a FILE*, as a string to free. */
struct capture {
	char *text;
	size_t size;
	FILE *f;
};

static FILE *capture_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->size);
	assert_non_null(c->f);
	return c->f;
}

static char *capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->text;
}

static void test_timeline(void **state)
{
	struct test_trace *f = story();
	struct timeline_options opt;
	struct capture c;

	(void)state;
	timeline_options_default(&opt);
	opt.verbosity = TIMELINE_VERBOSE;
	assert_int_equal(timeline_render_log(capture_open(&c), f->log, &opt), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "#1 sent ping 10.0.0.7 " A " 192.0.2.1 (echo request id=1 "
				     "seq=1) ttl=64"));
	assert_non_null(strstr(text, "#2 sent port unreachable 192.0.2.1 " A " 203.0.113.7 about "
				     "UDP 203.0.113.7:61000 " A " 192.0.2.1:9 ttl=64"));
	/* after r translated it, the error is about alice's own datagram */
	assert_non_null(strstr(text, "#2 delivered port unreachable 192.0.2.1 " A " 10.0.0.7 about "
				     "alice's UDP 10.0.0.7:5000 " A " 192.0.2.1:9"));
	assert_non_null(strstr(text, "conntrack: new flow ping 10.0.0.7 " A " 192.0.2.1 id=1 "
				     "[UNREPLIED], seen outside as 203.0.113.7 id=1024"));
	assert_non_null(strstr(text, "flow ping 10.0.0.7 " A " 192.0.2.1 id=1: an ICMP error about "
				     "it is RELATED"));
	free(text);
	/* RELATED is shown at the normal verbosity, hops are not */
	opt.verbosity = TIMELINE_NORMAL;
	assert_int_equal(timeline_render_log(capture_open(&c), f->log, &opt), 0);
	text = capture_close(&c);
	assert_non_null(strstr(text, "is RELATED"));
	assert_null(strstr(text, "#1 sent"));
	free(text);
	test_trace_free(f);
}

/* An echo's mapping: ids, not ports, and the remote without one. */
static void test_timeline_echo_mapping(void **state)
{
	struct trace_record r = {.kind = TRACE_MAPPING, .time = SIM_S(1)};
	struct timeline_options opt;
	struct capture c;

	(void)state;
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "r",
					 .proto = 1,
					 .internal = {ALICE, 1},
					 .external = {PUB, 1024},
					 .remote = {SRV, 0},
					 .expires_at = SIM_S(31)};
	timeline_options_default(&opt);
	assert_int_equal(timeline_render_record(capture_open(&c), &r, &opt), 1);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "new mapping 10.0.0.7 id=1 " A " 203.0.113.7 id=1024 (for "
				     "192.0.2.1)"));
	free(text);
}

/* Live, the observer learns whose addresses they are from the node records
 * as they pass. */
static void test_timeline_observer(void **state)
{
	struct test_trace *f = test_trace_new();
	struct timeline_options opt;
	struct capture c;

	(void)state;
	timeline_options_default(&opt);
	opt.verbosity = TIMELINE_VERBOSE;
	struct timeline_observer *obs = timeline_attach(&f->trace, capture_open(&c), &opt);
	assert_non_null(obs);
	tell_story(f);
	assert_false(timeline_observer_failed(obs));
	timeline_detach(obs);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "#2 delivered port unreachable 192.0.2.1 " A " 10.0.0.7 about "
				     "alice's UDP 10.0.0.7:5000"));
	free(text);
	test_trace_free(f);
}

/* A RELATED record changes no entry, and makes none (Linux's
 * icmp_error_message only attaches the packet to the entry it finds). */
static void test_tables_ignore_related(void **state)
{
	struct test_trace *f = story();
	struct tables *t = tables_fold(f->log, SIM_S(1));
	struct capture c;

	(void)state;
	assert_non_null(t);
	const struct tables_node *r = tables_node_find(t, "r");
	assert_non_null(r);
	assert_int_equal(r->n_flows, 1);
	assert_int_equal(r->flows[0].rec.event, TRACE_CT_NEW);
	assert_int_equal(r->flows[0].rec.id, 5);
	assert_int_equal(tables_render_conntrack(capture_open(&c), NULL, t, "r", false), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "\nicmp     1 30 src=10.0.0.7 dst=192.0.2.1 "));
	assert_non_null(strstr(text, "1 flow entries have been shown."));
	free(text);
	tables_free(t);
	test_trace_free(f);
}

/* An echo's mapping in the table: ids, and who may answer by address
 * (a reply comes from no port). */
static void test_tables_echo_mapping(void **state)
{
	struct test_trace *f = test_trace_new();
	struct trace_record r = {.kind = TRACE_MAPPING};
	struct capture c;

	(void)state;
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "r",
					 .id = 1,
					 .proto = 1,
					 .internal = {ALICE, 1},
					 .external = {PUB, 1024},
					 .remote = {SRV, 0},
					 .filtering = NAT_ADDRESS_AND_PORT_DEPENDENT,
					 .expires_at = SIM_S(31)};
	test_trace_emit(f, SIM_S(1), &r);
	struct tables *t = tables_fold(f->log, SIM_S(2));

	assert_non_null(t);
	assert_int_equal(tables_render_mappings(capture_open(&c), t, "r", false), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text,
			       "10.0.0.7 id=1  203.0.113.7 id=1024  accepts echo replies from "
			       "192.0.2.1 (address-and-port-dependent filtering)"));
	assert_null(strstr(text, ":0"));
	free(text);
	/* the same words for the picture's table (viz/dot.c) */
	char in[64], ex[64], who[128];

	tables_mapping_words(&tables_node_find(t, "r")->mappings[0], in, ex, who, sizeof(in));
	assert_string_equal(ex, "203.0.113.7 id=1024");
	tables_free(t);
	test_trace_free(f);
}

static void test_why(void **state)
{
	struct test_trace *f = story();
	struct capture c;

	(void)state;
	assert_int_equal(why_render(capture_open(&c), f->log, 2, NULL, false), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "sent by srv: port unreachable 192.0.2.1 " A " 203.0.113.7 "
				     "about UDP 203.0.113.7:61000 " A " 192.0.2.1:9"));
	assert_non_null(strstr(text,
			       "r translated destination 203.0.113.7 " A " 10.0.0.7 and inside "
			       "the error, source 203.0.113.7:61000 " A " 10.0.0.7:5000 using "
			       "its mapping"));
	assert_non_null(strstr(text, "r found it RELATED to its conntrack entry 10.0.0.7 " A
				     " 192.0.2.1 id=1 (an ICMP error about that flow; the entry is "
				     "unchanged)"));
	assert_non_null(strstr(text,
			       "delivered to alice: port unreachable 192.0.2.1 " A " 10.0.0.7 "
			       "about alice's UDP 10.0.0.7:5000"));
	free(text);
	assert_int_equal(why_render(capture_open(&c), f->log, 1, NULL, false), 0);
	text = capture_close(&c);
	assert_non_null(
	    strstr(text, "r translated source 10.0.0.7 id=1 " A " 203.0.113.7 id=1024"));
	assert_non_null(strstr(text, "r created a mapping 10.0.0.7 id=1 " A " 203.0.113.7 id=1024 "
				     "for it (to 192.0.2.1)"));
	free(text);
	test_trace_free(f);
}

static const struct ladder_row *row_of(const struct ladder_view *v, uint64_t id,
				       enum ladder_row_kind kind, size_t nth)
{
	for (size_t i = 0; i < v->n_rows; i++)
		if (v->rows[i].packet_id == id && v->rows[i].kind == kind && nth-- == 0)
			return &v->rows[i];
	fail_msg("no row %zu of kind %d for #%llu", nth, (int)kind, (unsigned long long)id);
	return NULL;
}

static void test_ladder(void **state)
{
	struct test_trace *f = story();
	struct ladder_options opt;

	(void)state;
	ladder_options_default(&opt);
	opt.width = 220;
	struct ladder_view *v = ladder_view_build(f->log, &opt);
	assert_non_null(v);
	const struct ladder_row *ping = row_of(v, 1, LADDER_ARROW, 0);
	assert_string_equal(ping->icmp, "echo request");
	assert_false(ping->icmp_error);
	assert_non_null(strstr(ping->text, "#1 ping 10.0.0.7 " A " 192.0.2.1 (echo request id=1"));
	const struct ladder_row *err = row_of(v, 2, LADDER_ARROW, 1);
	assert_string_equal(err->icmp, "port unreachable");
	assert_true(err->icmp_error);
	assert_string_equal(err->text, "#2 port unreachable 192.0.2.1 " A " 10.0.0.7 about alice's "
				       "UDP 10.0.0.7:5000 " A " 192.0.2.1:9");
	assert_string_equal(row_of(v, 2, LADDER_REWRITE, 0)->text,
			    "#2 r rewrites destination 203.0.113.7 " A
			    " 10.0.0.7, inside the error, "
			    "source 203.0.113.7:61000 " A " 10.0.0.7:5000");
	ladder_view_free(v);
	/* the pair filter keeps an error about the pair's flow, even where
	 * only the packet it quotes names alice (before r translated it) */
	opt.pair_a = "alice";
	opt.pair_b = "srv";
	opt.node = "srv";
	v = ladder_view_build(f->log, &opt);
	assert_non_null(v);
	assert_string_equal(row_of(v, 2, LADDER_ARROW, 0)->icmp, "port unreachable");
	ladder_view_free(v);
	test_trace_free(f);
}

/* natsim flow's picture: ICMP arrows labelled with the message, errors
 * dashed. */
static void test_flow_picture(void **state)
{
	struct test_trace *f = story();
	struct ladder_options opt;
	struct capture c;

	(void)state;
	ladder_options_default(&opt);
	assert_int_equal(dot_flow_write(capture_open(&c), f->log, &opt), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "xlabel=\"#1 echo request\""));
	assert_non_null(strstr(text, "xlabel=\"#2 port unreachable\""));
	assert_non_null(strstr(text, "dashed"));
	free(text);
	test_trace_free(f);
}

static void hex_to_bytes(const char *hex, struct test_bytes *out)
{
	out->n = strlen(hex) / 2;
	assert_true(out->n <= sizeof(out->b));
	for (size_t i = 0; i < out->n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out->b[i] = (uint8_t)v;
	}
}

/* Each ICMP packet record's bytes come back from its hex and dissect to its
 * summary; ICMP conntrack tuples carry type, code and id. */
static void check_json_record(json_t *o, int *packets, int *related)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	if (strcmp(kind, "packet") == 0) {
		struct test_bytes b;
		char sum[512];
		hex_to_bytes(json_string_value(json_object_get(o, "hex")), &b);
		packet_summary(b.b, b.n, NULL, false, sum, sizeof(sum));
		assert_string_equal(sum, json_string_value(json_object_get(o, "summary")));
		assert_non_null(strstr(sum, "ICMP "));
		(*packets)++;
	} else if (strcmp(kind, "conntrack") == 0) {
		json_t *orig = json_object_get(o, "orig");
		assert_int_equal(json_integer_value(json_object_get(orig, "type")), 8);
		assert_int_equal(json_integer_value(json_object_get(orig, "code")), 0);
		assert_int_equal(json_integer_value(json_object_get(orig, "id")), 1);
		assert_null(json_object_get(orig, "sport"));
		*related += strcmp(json_string_value(json_object_get(o, "event")), "related") == 0;
	}
}

static void test_jsonl_round_trip(void **state)
{
	struct test_trace *f = story();
	struct capture c;
	int packets = 0, related = 0;

	(void)state;
	struct jsonl_writer *w = jsonl_writer_new(capture_open(&c), NULL);
	assert_non_null(w);
	for (size_t i = 0; i < trace_log_count(f->log); i++)
		jsonl_write_record(w, trace_log_get(f->log, i));
	assert_int_equal(jsonl_writer_flush(w), 0);
	jsonl_writer_free(w);
	char *text = capture_close(&c);
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		assert_non_null(o);
		check_json_record(o, &packets, &related);
		json_decref(o);
	}
	assert_int_equal(packets, 13);
	assert_int_equal(related, 2);
	free(text);
	test_trace_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeline),
	    cmocka_unit_test(test_timeline_echo_mapping),
	    cmocka_unit_test(test_timeline_observer),
	    cmocka_unit_test(test_tables_ignore_related),
	    cmocka_unit_test(test_tables_echo_mapping),
	    cmocka_unit_test(test_why),
	    cmocka_unit_test(test_ladder),
	    cmocka_unit_test(test_flow_picture),
	    cmocka_unit_test(test_jsonl_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
