/*
 * test_tcp_render.c - every renderer shows TCP (issue 16): a hand-written
 * story of a handshake through a NAT, told by the timeline (the sockets'
 * changes of state, the segments with their flags), why, the ladder, the
 * flow picture's DOT, the tables (sockets as ss -tan lists them) and the
 * JSON lines. The segments are real bytes from packet_build_tcp; the socket
 * records are what the stack emits (sim/trace.h struct trace_socket).
 *
 *   alice (10.0.0.7) -- r (NAT, 203.0.113.7) -- srv (192.0.2.1), srv
 *   listens on 80; alice connects from 40000 (r keeps the port); later a
 *   second connection of alice's is refused, and the first ends in
 *   TIME-WAIT.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "explain/socket.h"
#include "model/packet.h"
#include "model/tcp.h"
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

static void segment(struct test_bytes *out, uint32_t src, uint16_t sport, uint32_t dst,
		    uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct tcp_segment seg = {.flags = flags, .seq = seq, .ack = ack, .window = 64240};

	out->n = packet_build_tcp(out->b, sizeof(out->b), &(struct endpoint){src, sport},
				  &(struct endpoint){dst, dport}, 64, 0, &seg);
	assert_true(out->n > 0);
}

/* A hop; a translation is by r's mapping for alice. */
static void emit_hop(struct test_trace *f, int64_t at, enum trace_hop hop, uint64_t id,
		     const char *node, const struct test_bytes *p, const struct test_bytes *before)
{
	test_trace_hop(f, at, hop, id, node, p, before, (struct endpoint){ALICE, 40000},
		       (struct endpoint){PUB, 40000});
}

static void emit_socket(struct test_trace *f, int64_t at, const char *node, struct endpoint local,
			struct endpoint remote, enum tcp_state from, enum tcp_state to,
			enum tcp_cause cause, uint64_t packet_id, int error)
{
	struct trace_record r = {.kind = TRACE_SOCKET};
	r.u.sock = (struct trace_socket){.node = node,
					 .proto = 6,
					 .local = local,
					 .remote = remote,
					 .old_state = (uint8_t)from,
					 .new_state = (uint8_t)to,
					 .cause = (uint8_t)cause,
					 .packet_id = packet_id,
					 .error = error};
	test_trace_emit(f, at, &r);
}

/* #1 alice's SYN through r, #2 srv's SYN+ACK back: alice ESTABLISHED. */
static void tell_handshake(struct test_trace *f)
{
	struct endpoint a = {ALICE, 40000}, s = {SRV, 80};
	struct test_bytes syn, syn_out, synack, synack_in;

	segment(&syn, ALICE, 40000, SRV, 80, TCP_SYN, 1000, 0);
	syn_out = syn;
	packet_rewrite_src(syn_out.b, syn_out.n, &(struct endpoint){PUB, 40000});
	emit_hop(f, SIM_MS(1), TRACE_HOP_SEND, 1, "alice", &syn, NULL);
	emit_socket(f, SIM_MS(1), "alice", a, s, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_APP, 1, 0);
	emit_hop(f, SIM_MS(1), TRACE_HOP_TX, 1, "alice", &syn, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_RX, 1, "r", &syn, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TRANSLATE, 1, "r", &syn_out, &syn);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TX, 1, "r", &syn_out, NULL);
	emit_hop(f, SIM_MS(3), TRACE_HOP_RX, 1, "srv", &syn_out, NULL);
	emit_hop(f, SIM_MS(3), TRACE_HOP_DELIVER, 1, "srv", &syn_out, NULL);
	segment(&synack, SRV, 80, PUB, 40000, TCP_SYN | TCP_ACK, 5000, 1001);
	synack_in = synack;
	packet_rewrite_dst(synack_in.b, synack_in.n, &a);
	emit_hop(f, SIM_MS(3), TRACE_HOP_SEND, 2, "srv", &synack, NULL);
	emit_hop(f, SIM_MS(3), TRACE_HOP_TX, 2, "srv", &synack, NULL);
	emit_hop(f, SIM_MS(4), TRACE_HOP_RX, 2, "r", &synack, NULL);
	emit_hop(f, SIM_MS(4), TRACE_HOP_TRANSLATE, 2, "r", &synack_in, &synack);
	emit_hop(f, SIM_MS(4), TRACE_HOP_TX, 2, "r", &synack_in, NULL);
	emit_hop(f, SIM_MS(5), TRACE_HOP_RX, 2, "alice", &synack_in, NULL);
	emit_hop(f, SIM_MS(5), TRACE_HOP_DELIVER, 2, "alice", &synack_in, NULL);
	emit_socket(f, SIM_MS(5), "alice", a, s, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_CAUSE_SEGMENT,
		    2, 0);
}

static void tell_story(struct test_trace *f)
{
	struct endpoint a = {ALICE, 40000}, s = {SRV, 80}, any = {0, 0};

	test_trace_node(f, "alice", "host", ALICE, false);
	test_trace_node(f, "r", "router", PUB, true);
	test_trace_node(f, "srv", "host", SRV, false);
	test_trace_link(f, "lan", "alice", "r");
	test_trace_link(f, "wan", "r", "srv");
	emit_socket(f, 0, "srv", (struct endpoint){0, 80}, any, TCP_CLOSED, TCP_LISTEN,
		    TCP_CAUSE_APP, 0, 0);
	tell_handshake(f);
	/* a second try, to a port nobody serves: refused (no packet shown) */
	emit_socket(f, SIM_S(1), "alice", (struct endpoint){ALICE, 40001},
		    (struct endpoint){SRV, 81}, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_APP, 0, 0);
	emit_socket(f, SIM_S(1) + SIM_MS(4), "alice", (struct endpoint){ALICE, 40001},
		    (struct endpoint){SRV, 81}, TCP_SYN_SENT, TCP_CLOSED, TCP_CAUSE_RST, 9,
		    ECONNREFUSED);
	/* the first one closes, alice's side waits in TIME-WAIT */
	emit_socket(f, SIM_S(2), "alice", a, s, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_APP, 0,
		    0);
	emit_socket(f, SIM_S(2) + SIM_MS(8), "alice", a, s, TCP_FIN_WAIT_1, TCP_TIME_WAIT,
		    TCP_CAUSE_SEGMENT, 0, 0);
	emit_socket(f, SIM_S(62) + SIM_MS(8), "alice", a, s, TCP_TIME_WAIT, TCP_CLOSED,
		    TCP_CAUSE_TIME_WAIT, 0, 0);
}

static struct test_trace *story(void)
{
	struct test_trace *f = test_trace_new();
	tell_story(f);
	return f;
}

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

/* explain/ keeps RFC 9293's names itself (it sits below model/): the same
 * as model/tcp.c's. */
static void test_state_names(void **state)
{
	char f[40];

	(void)state;
	for (int s = 0; s < TCP_STATE_COUNT; s++)
		assert_string_equal(explain_tcp_state_name((uint8_t)s),
				    tcp_state_name((enum tcp_state)s));
	assert_string_equal(explain_tcp_state_name(TCP_STATE_COUNT), "?");
	for (int c = 0; c < TCP_CAUSE_COUNT; c++)
		assert_string_equal(explain_tcp_cause_name((uint8_t)c),
				    tcp_cause_name((enum tcp_cause)c));
	assert_string_equal(explain_tcp_cause_name(TCP_CAUSE_COUNT), "?");
	assert_string_equal(explain_tcp_flags(TCP_SYN | TCP_ACK, f, sizeof(f)), "SYN+ACK");
	assert_string_equal(explain_tcp_flags(TCP_FIN | TCP_ACK, f, sizeof(f)), "FIN+ACK");
	assert_string_equal(explain_tcp_flags(TCP_RST | TCP_ACK, f, sizeof(f)), "RST+ACK");
	assert_string_equal(explain_tcp_flags(0, f, sizeof(f)), "none");
	assert_string_equal(explain_errno_words(ECONNREFUSED), "Connection refused");
	assert_string_equal(explain_errno_words(ETIMEDOUT), "Connection timed out");
}

static void test_socket_words(void **state)
{
	struct trace_socket s = {.node = "alice",
				 .proto = 6,
				 .local = {ALICE, 40000},
				 .remote = {SRV, 80},
				 .old_state = TCP_SYN_SENT,
				 .new_state = TCP_ESTABLISHED,
				 .cause = TCP_CAUSE_SEGMENT,
				 .packet_id = 12};
	char out[256];

	(void)state;
	explain_socket(&s, TCP_SYN | TCP_ACK, 1, out, sizeof(out));
	assert_string_equal(out, "alice's TCP 10.0.0.7:40000 " A " 192.0.2.1:80: SYN-SENT " A
				 " ESTABLISHED (SYN+ACK #12)");
	s.new_state = TCP_CLOSED;
	s.cause = TCP_CAUSE_RETRIES;
	s.error = ETIMEDOUT;
	explain_socket(&s, -1, 0, out, sizeof(out));
	assert_string_equal(out, "TCP 10.0.0.7:40000 " A " 192.0.2.1:80: SYN-SENT " A
				 " CLOSED (its retransmissions ran out); the application is "
				 "told ETIMEDOUT (Connection timed out)");
	s = (struct trace_socket){
	    .node = "srv", .proto = 6, .local = {0, 80}, .cause = 0, .new_state = TCP_LISTEN};
	explain_socket(&s, -1, 1, out, sizeof(out));
	assert_string_equal(out, "srv's TCP listener *:80: CLOSED " A " LISTEN (listen())");
	s.old_state = TCP_LISTEN;
	s.new_state = TCP_CLOSED;
	explain_socket(&s, -1, 0, out, sizeof(out));
	assert_string_equal(out, "TCP listener *:80: LISTEN " A " CLOSED (close())");
	s = (struct trace_socket){.node = "alice",
				  .proto = 6,
				  .local = {ALICE, 40000},
				  .remote = {SRV, 80},
				  .old_state = TCP_ESTABLISHED,
				  .new_state = TCP_CLOSED};
	explain_socket(&s, -1, 0, out, sizeof(out));
	assert_string_equal(out, "TCP 10.0.0.7:40000 " A " 192.0.2.1:80: ESTABLISHED " A
				 " CLOSED (abort: RST sent, the connection forgotten)");
	s = (struct trace_socket){
	    .node = "srv", .proto = 6, .local = {0, 80}, .cause = 0, .new_state = TCP_LISTEN};
	/* a short buffer is cut, never overrun */
	assert_true(explain_socket(&s, -1, 1, out, 10) <= 9);
	assert_int_equal(strlen(out), 9);
}

/* An IPv6 socket in RFC 5952 form (section 6: [addr]:port), as ss prints
 * it; a listener on every address is [::]:80, an ICMPv6 error says so. Two
 * records of the same ends are the same socket, an IPv4 one of the same
 * ports is not. */
static void test_socket_words6(void **state)
{
	struct trace_socket6 v6 = {
	    .local = {{{0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5}}, 40000},
	    .remote = {{{0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x80}}, 80}};
	struct trace_socket s = {.node = "alice",
				 .proto = 6,
				 .local = {0, 40000},
				 .remote = {0, 80},
				 .old_state = TCP_SYN_SENT,
				 .new_state = TCP_CLOSED,
				 .cause = TCP_CAUSE_ICMP,
				 .packet_id = 3,
				 .error = ECONNREFUSED,
				 .v6 = &v6};
	struct trace_socket four;
	struct trace_socket6 any = {.local = {.port = 80}};
	char out[256];

	(void)state;
	explain_socket(&s, -1, 1, out, sizeof(out));
	assert_string_equal(out, "alice's TCP [2001:db8:1::5]:40000 " A " [2001:db8:ff::80]:80: "
				 "SYN-SENT " A " CLOSED (an ICMPv6 error #3); the application is "
				 "told ECONNREFUSED (Connection refused)");
	four = s;
	four.v6 = NULL;
	assert_true(trace_socket_same(&s, &s));
	assert_false(trace_socket_same(&s, &four));
	s = (struct trace_socket){
	    .node = "srv", .proto = 6, .local = {0, 80}, .new_state = TCP_LISTEN, .v6 = &any};
	explain_socket(&s, -1, 0, out, sizeof(out));
	assert_string_equal(out, "TCP listener [::]:80: CLOSED " A " LISTEN (listen())");
}

static void test_timeline(void **state)
{
	struct test_trace *f = story();
	struct timeline_options opt;
	struct capture c;

	(void)state;
	timeline_options_default(&opt);
	assert_int_equal(timeline_render_log(capture_open(&c), f->log, &opt), 0);
	char *text = capture_close(&c);
	assert_non_null(
	    strstr(text, "srv       TCP listener *:80: CLOSED " A " LISTEN (listen())"));
	assert_non_null(strstr(text, "alice     TCP 10.0.0.7:40000 " A " 192.0.2.1:80: CLOSED " A
				     " SYN-SENT (connect(): SYN sent)"));
	assert_non_null(strstr(text, "TCP 10.0.0.7:40000 " A " 192.0.2.1:80: SYN-SENT " A
				     " ESTABLISHED (SYN+ACK #2)"));
	assert_non_null(strstr(text, "SYN-SENT " A " CLOSED (RST #9); the application is told "
				     "ECONNREFUSED (Connection refused)"));
	assert_non_null(strstr(text, "TIME-WAIT " A " CLOSED (TIME-WAIT's 2MSL ran out: the "
				     "socket is freed)"));
	assert_null(strstr(text, "#1 sent")); /* hops only when verbose */
	free(text);
	opt.verbosity = TIMELINE_VERBOSE;
	assert_int_equal(timeline_render_log(capture_open(&c), f->log, &opt), 0);
	text = capture_close(&c);
	assert_non_null(strstr(text, "#1 sent TCP 10.0.0.7:40000 " A " 192.0.2.1:80 [SYN] seq=1000 "
				     "win=64240 len=0 ttl=64"));
	assert_non_null(strstr(text, "#2 delivered TCP 192.0.2.1:80 " A " 10.0.0.7:40000 [SYN, "
				     "ACK] seq=5000 ack=1001"));
	free(text);
	opt.verbosity = TIMELINE_QUIET;
	assert_int_equal(timeline_render_log(capture_open(&c), f->log, &opt), 0);
	text = capture_close(&c);
	assert_null(strstr(text, "LISTEN"));
	free(text);
	test_trace_free(f);
}

/* Live, the observer learns each segment's flags as it is sent. */
static void test_timeline_observer(void **state)
{
	struct test_trace *f = test_trace_new();
	struct timeline_options opt;
	struct capture c;

	(void)state;
	timeline_options_default(&opt);
	struct timeline_observer *obs = timeline_attach(&f->trace, capture_open(&c), &opt);
	assert_non_null(obs);
	tell_story(f);
	assert_false(timeline_observer_failed(obs));
	timeline_detach(obs);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "ESTABLISHED (SYN+ACK #2)"));
	free(text);
	test_trace_free(f);
}

static void test_why(void **state)
{
	struct test_trace *f = story();
	struct capture c;

	(void)state;
	assert_int_equal(why_render(capture_open(&c), f->log, 2, NULL, false), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "alice's TCP 10.0.0.7:40000 " A " 192.0.2.1:80: SYN-SENT " A
				     " ESTABLISHED (SYN+ACK #2)"));
	free(text);
	test_trace_free(f);
}

static void emit_ct(struct test_trace *f, int64_t at, enum trace_ct_event event, uint8_t state,
		    bool replied, bool assured)
{
	struct trace_record r = {.kind = TRACE_CONNTRACK};
	r.u.ct = (struct trace_conntrack){.event = event,
					  .node = "r",
					  .id = 1,
					  .proto = 6,
					  .orig = {ALICE, SRV, 40000, 80},
					  .reply = {SRV, PUB, 80, 40000},
					  .seen_reply = replied,
					  .assured = assured,
					  .expires_at = at + SIM_S(120),
					  .use = 1,
					  .tcp_state = state};
	test_trace_emit(f, at, &r);
}

/* A TCP entry's updates name the state the segment moved it to, as
 * conntrack -E does (1 SYN_SENT, 4 FIN_WAIT: model/conntrack.h), in the
 * timeline and in why's story of the segment that moved it. */
static void test_conntrack_states(void **state)
{
	struct test_trace *f = test_trace_new();
	struct test_bytes syn;
	struct capture c;
	struct timeline_options opt = {.verbosity = TIMELINE_VERBOSE};

	(void)state;
	test_trace_node(f, "alice", "host", ALICE, false);
	test_trace_node(f, "r", "router", PUB, true);
	segment(&syn, ALICE, 40000, SRV, 80, TCP_SYN, 1000, 0);
	emit_hop(f, SIM_MS(1), TRACE_HOP_SEND, 1, "alice", &syn, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_RX, 1, "r", &syn, NULL);
	emit_ct(f, SIM_MS(2), TRACE_CT_NEW, 0, false, false);
	emit_ct(f, SIM_MS(2), TRACE_CT_UPDATE, 1, false, false);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TX, 1, "r", &syn, NULL);
	emit_ct(f, SIM_S(1), TRACE_CT_UPDATE, 4, true, true);
	assert_int_equal(timeline_render_log(capture_open(&c), f->log, &opt), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "conntrack: flow 10.0.0.7:40000 " A
				     " 192.0.2.1:80 now SYN_SENT [UNREPLIED], expires in 120s"));
	assert_non_null(strstr(text, " now FIN_WAIT [ASSURED], expires in 120s"));
	free(text);
	assert_int_equal(why_render(capture_open(&c), f->log, 1, NULL, false), 0);
	text = capture_close(&c);
	assert_non_null(strstr(text, "r's conntrack entry 10.0.0.7:40000 " A
				     " 192.0.2.1:80: now SYN_SENT [UNREPLIED]"));
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

static void test_ladder_and_picture(void **state)
{
	struct test_trace *f = story();
	struct ladder_options opt;
	struct capture c;

	(void)state;
	ladder_options_default(&opt);
	opt.width = 220;
	struct ladder_view *v = ladder_view_build(f->log, &opt);
	assert_non_null(v);
	const struct ladder_row *syn = row_of(v, 1, LADDER_ARROW, 0);
	assert_string_equal(syn->tcp, "[SYN]");
	assert_string_equal(syn->icmp, "");
	/* numbers relative to each direction's SYN, as Wireshark shows them */
	assert_string_equal(syn->text, "#1 10.0.0.7:40000 " A " 192.0.2.1:80 [SYN] seq=0 len=0");
	const struct ladder_row *synack = row_of(v, 2, LADDER_ARROW, 1);
	assert_string_equal(synack->tcp, "[SYN,ACK]");
	assert_string_equal(synack->text,
			    "#2 192.0.2.1:80 " A " 10.0.0.7:40000 [SYN,ACK] seq=0 ack=1 len=0");
	ladder_view_free(v);
	assert_int_equal(dot_flow_write(capture_open(&c), f->log, &opt), 0);
	char *text = capture_close(&c);
	assert_non_null(strstr(text, "xlabel=\"#1 [SYN]\""));
	assert_non_null(strstr(text, "xlabel=\"#2 [SYN,ACK]\""));
	free(text);
	test_trace_free(f);
}

static void test_socket_table(void **state)
{
	struct test_trace *f = story();
	struct capture c;

	(void)state;
	struct tables *t = tables_fold(f->log, SIM_S(10));
	assert_non_null(t);
	assert_true(tables_has_sockets(t));
	assert_int_equal(tables_node_find(t, "alice")->n_sockets, 1); /* the refused one is gone */
	assert_int_equal(tables_render_sockets(capture_open(&c), t, NULL, false), 0);
	char *text = capture_close(&c);
	/* in the order the nodes appeared, as the other tables */
	assert_string_equal(text, "\u2500\u2500 alice: TCP sockets \u2500\u2500\n"
				  "State       Local Address:Port    Peer Address:Port\n"
				  "TIME-WAIT   10.0.0.7:40000        192.0.2.1:80\n"
				  "\n"
				  "\u2500\u2500 srv: TCP sockets \u2500\u2500\n"
				  "State       Local Address:Port    Peer Address:Port\n"
				  "LISTEN      0.0.0.0:80            0.0.0.0:*\n");
	free(text);
	tables_free(t);
	/* at 1.5 s alice's first connection is ESTABLISHED; after 62 s it is freed */
	t = tables_fold(f->log, SIM_MS(1500));
	assert_int_equal(tables_node_find(t, "alice")->sockets[0].rec.new_state, TCP_ESTABLISHED);
	tables_free(t);
	t = tables_fold(f->log, SIM_S(63));
	assert_int_equal(tables_node_find(t, "alice")->n_sockets, 0);
	assert_int_equal(tables_render_sockets(capture_open(&c), t, "alice", false), 0);
	text = capture_close(&c);
	assert_non_null(strstr(text, "alice: TCP sockets"));
	free(text);
	tables_free(t);
	test_trace_free(f);
}

/* The JSON lines say each change with RFC 9293's names, its cause and the
 * segment and errno behind it. */
static void test_jsonl_sockets(void **state)
{
	struct test_trace *f = story();
	struct capture c;
	int sockets = 0, refused = 0;

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
		if (strcmp(json_string_value(json_object_get(o, "kind")), "socket") == 0) {
			sockets++;
			if (json_integer_value(json_object_get(o, "error")) == ECONNREFUSED) {
				refused++;
				assert_string_equal(json_string_value(json_object_get(o, "from")),
						    "SYN-SENT");
				assert_string_equal(json_string_value(json_object_get(o, "to")),
						    "CLOSED");
				assert_string_equal(json_string_value(json_object_get(o, "cause")),
						    "reset");
				assert_int_equal(
				    json_integer_value(json_object_get(o, "packet_id")), 9);
			}
		}
		json_decref(o);
	}
	assert_int_equal(sockets, 8);
	assert_int_equal(refused, 1);
	free(text);
	test_trace_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names),	       cmocka_unit_test(test_socket_words),
	    cmocka_unit_test(test_socket_words6),      cmocka_unit_test(test_timeline),
	    cmocka_unit_test(test_timeline_observer),  cmocka_unit_test(test_why),
	    cmocka_unit_test(test_ladder_and_picture), cmocka_unit_test(test_socket_table),
	    cmocka_unit_test(test_jsonl_sockets),      cmocka_unit_test(test_conntrack_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
