/*
 * test_conntrack_tcp.c - TCP connection tracking as Linux 6.1's
 * nf_conntrack_proto_tcp.c does it: the handshake, the close through
 * TIME_WAIT, simultaneous open via SYN_SENT2, an RST answering a SYN, the
 * segments tcp_error and the state table call invalid, a SYN reopening a
 * closed flow, and the `conntrack -L` lines with the state where
 * conntrack-tools prints it.
 *
 * Time moves only through engine_run_until(); nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h" /* conntrack_format_record */
#include "model/conntrack.h"
#include "model/packet.h"
#include "sim/engine.h"

#define DAYS5 (5 * 24 * 3600)

struct fx {
	struct engine *e;
	struct conntrack *ct;
	struct conntrack_entry *ent;
};

static const uint32_t client = IP4(10, 0, 0, 7), server = IP4(192, 0, 2, 1);

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	assert_non_null(f);
	f->e = engine_new();
	f->ct = conntrack_new(f->e, "fw", NULL);
	assert_non_null(f->ct);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conntrack_free(f->ct);
	engine_free(f->e);
	test_free(f);
	return 0;
}

/* A segment of the client's connection to the web server in `dir`. */
static struct packet_info seg(enum conntrack_dir dir, uint8_t flags)
{
	bool orig = dir == CONNTRACK_DIR_ORIGINAL;

	return (struct packet_info){.proto = IPPROTO_NUM_TCP,
				    .total_len = 52,
				    .src = orig ? client : server,
				    .dst = orig ? server : client,
				    .sport = orig ? 40000 : 80,
				    .dport = orig ? 80 : 40000,
				    .tcp_flags = flags,
				    /* the SYN takes the ISN; what follows it, ISN + 1 */
				    .tcp_seq = (orig ? 1000 : 5000) + ((flags & TCP_SYN) ? 0 : 1),
				    .tcp_ack = (flags & TCP_ACK) ? (orig ? 5001 : 1001) : 0,
				    .tcp_window = 502};
}

/* The segment as the table sees it: classified, its entry made if NEW, then
 * tracked. Returns what conntrack_seen_tcp said. */
static enum conntrack_tcp_verdict pass(struct fx *f, enum conntrack_dir dir, uint8_t flags)
{
	struct packet_info pi = seg(dir, flags);
	struct conntrack_tuple t, r;
	struct conntrack_entry *e;
	enum conntrack_dir d;
	enum conntrack_state st = conntrack_classify(f->ct, &pi, &e, &d);

	if (st == CONNTRACK_INVALID)
		return CONNTRACK_TCP_INVALID;
	if (e == NULL) {
		conntrack_tuple_of(&pi, &t);
		assert_true(conntrack_tuple_invert(&t, &r));
		e = conntrack_create(f->ct, &t, &r);
		assert_non_null(e);
		d = CONNTRACK_DIR_ORIGINAL;
	}
	assert_int_equal(d, dir);
	f->ent = e;
	return conntrack_seen_tcp(f->ct, e, d, &pi);
}

static const char *line(struct fx *f)
{
	static char buf[256];
	struct trace_conntrack rec;

	conntrack_entry_record(f->ct, f->ent, &rec);
	conntrack_format_record(&rec, engine_now(f->e), buf, sizeof(buf));
	return buf;
}

static void expect(struct fx *f, uint8_t state, long long secs)
{
	assert_int_equal(f->ent->tcp.state, state);
	assert_int_equal(f->ent->expires_at - engine_now(f->e), SIM_S(secs));
}

static void handshake(struct fx *f)
{
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_SYN_SENT, 120);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_SYN | TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_SYN_RECV, 60);
	assert_false(f->ent->assured);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5);
	assert_true(f->ent->assured);
}

static void test_handshake_lines(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	assert_string_equal(line(f), "tcp      6 120 SYN_SENT src=10.0.0.7 dst=192.0.2.1 "
				     "sport=40000 dport=80 [UNREPLIED] src=192.0.2.1 "
				     "dst=10.0.0.7 sport=80 dport=40000 mark=0 use=1");
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_SYN | TCP_ACK), CONNTRACK_TCP_TRACKED);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK), CONNTRACK_TCP_TRACKED);
	engine_run_until(f->e, SIM_S(1));
	assert_string_equal(line(f), "tcp      6 431999 ESTABLISHED src=10.0.0.7 dst=192.0.2.1 "
				     "sport=40000 dport=80 src=192.0.2.1 dst=10.0.0.7 sport=80 "
				     "dport=40000 [ASSURED] mark=0 use=1");
}

static void test_close_through_time_wait(void **state)
{
	struct fx *f = *state;

	handshake(f);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_FIN | TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_FIN_WAIT, 120);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_CLOSE_WAIT, 60);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_FIN | TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_LAST_ACK, 30);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_TIME_WAIT, 120);
	assert_memory_equal(line(f), "tcp      6 120 TIME_WAIT src=", 29);
	engine_run_until(f->e, SIM_S(120) - 1);
	assert_int_equal(conntrack_count(f->ct), 1);
	engine_run_until(f->e, SIM_S(120));
	assert_int_equal(conntrack_count(f->ct), 0);
}

/* RFC 9293 3.5 figure 8 through the middle: both SYNs cross. */
static void test_simultaneous_open(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_SYN), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_SYN_SENT2, 120);
	assert_memory_equal(line(f), "tcp      6 120 SYN_SENT2 src=", 29);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN | TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_SYN_RECV, 60);
	/* The other SYN/ACK: retransmission-like, ignored (timeout kept). */
	engine_run_until(f->e, SIM_S(1));
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_SYN | TCP_ACK), CONNTRACK_TCP_IGNORED);
	expect(f, CONNTRACK_TCP_SYN_RECV, 59);
	/* The table would keep SYN_RECV for this ACK; simultaneous open ends it. */
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5);
	assert_true(f->ent->assured);
}

static void test_rst_answering_syn_kills(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_RST | TCP_ACK), CONNTRACK_TCP_KILLED);
	assert_int_equal(conntrack_count(f->ct), 0);
}

static void test_rst_established_closes(void **state)
{
	struct fx *f = *state;

	handshake(f);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_RST), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_CLOSE, 10);
}

static void test_invalid_segments(void **state)
{
	struct fx *f = *state;
	struct packet_info pi = seg(CONNTRACK_DIR_ORIGINAL, TCP_SYN | TCP_FIN);
	struct conntrack_entry *e;
	enum conntrack_dir d;

	assert_false(conntrack_tcp_flags_valid(TCP_SYN | TCP_FIN));
	assert_false(conntrack_tcp_flags_valid(0));
	assert_true(conntrack_tcp_flags_valid(TCP_ACK | TCP_PSH | TCP_ECE | TCP_CWR));
	assert_int_equal(conntrack_classify(f->ct, &pi, &e, &d), CONNTRACK_INVALID);
	/* tcp_new: a FIN or a SYN/ACK cannot start a flow... */
	pi = seg(CONNTRACK_DIR_ORIGINAL, TCP_FIN | TCP_ACK);
	assert_int_equal(conntrack_classify(f->ct, &pi, &e, &d), CONNTRACK_INVALID);
	pi = seg(CONNTRACK_DIR_ORIGINAL, TCP_SYN | TCP_ACK);
	assert_int_equal(conntrack_classify(f->ct, &pi, &e, &d), CONNTRACK_INVALID);
	assert_int_equal(conntrack_tcp_invalid_cause(e, &pi), CONNTRACK_INVALID_NEW);
	assert_int_equal(conntrack_tcp_invalid_cause(
			     e, &(struct packet_info){.proto = 6, .tcp_flags = TCP_SYN | TCP_FIN}),
			 CONNTRACK_INVALID_FLAGS);
	/* ...and a client in SYN_SENT cannot ACK what it has not been sent. */
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	pi = seg(CONNTRACK_DIR_ORIGINAL, TCP_ACK);
	assert_int_equal(conntrack_classify(f->ct, &pi, &e, &d), CONNTRACK_INVALID);
	assert_int_equal(conntrack_tcp_invalid_cause(e, &pi), CONNTRACK_INVALID_SEGMENT);
	assert_int_equal(conntrack_seen_tcp(f->ct, f->ent, CONNTRACK_DIR_ORIGINAL, &pi),
			 CONNTRACK_TCP_INVALID);
	assert_int_equal(conntrack_seen_tcp(f->ct, f->ent, CONNTRACK_DIR_ORIGINAL,
					    &(struct packet_info){.tcp_flags = TCP_SYN | TCP_RST}),
			 CONNTRACK_TCP_INVALID);
	expect(f, CONNTRACK_TCP_SYN_SENT, 120);
}

/* nf_conntrack_tcp_loose = 1: an ACK mid-stream is picked up as
 * ESTABLISHED, held 5 minutes until a reply is seen. */
static void test_pickup_mid_stream(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_ESTABLISHED, 300);
	assert_false(f->ent->assured);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_ACK), CONNTRACK_TCP_TRACKED);
	assert_false(f->ent->assured); /* the reply itself: SEEN_REPLY comes after */
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5);
	assert_true(f->ent->assured);
}

static void test_syn_reopens_time_wait(void **state)
{
	struct fx *f = *state;

	handshake(f);
	pass(f, CONNTRACK_DIR_ORIGINAL, TCP_FIN | TCP_ACK);
	pass(f, CONNTRACK_DIR_REPLY, TCP_FIN | TCP_ACK);
	pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK);
	expect(f, CONNTRACK_TCP_TIME_WAIT, 120);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_REOPEN);
	assert_int_equal(conntrack_count(f->ct), 0);
	/* Looked up again, the SYN starts a new flow. */
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_SYN_SENT, 120);
}

/* A SYN in ESTABLISHED is ignored: neither state nor timeout moves. */
static void test_syn_in_established_ignored(void **state)
{
	struct fx *f = *state;

	handshake(f);
	engine_run_until(f->e, SIM_S(10));
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_IGNORED);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5 - 10);
}

/* ---- tcp_in_window ---------------------------------------------------------- */

/* A segment of the connection with its own numbers: `len` bytes of data,
 * window `win`. Classified first: INVALID stops there, as in
 * nf_conntrack_in. */
static enum conntrack_tcp_verdict pass_seq(struct fx *f, enum conntrack_dir dir, uint8_t flags,
					   uint32_t seq, uint32_t ack, size_t len)
{
	struct packet_info pi = seg(dir, flags);
	struct conntrack_entry *e;
	enum conntrack_dir d;

	pi.tcp_seq = seq;
	pi.tcp_ack = ack;
	pi.payload_len = len;
	if (conntrack_classify(f->ct, &pi, &e, &d) == CONNTRACK_INVALID) {
		/* conntrack_seen_tcp agrees, and changes nothing */
		if (f->ent != NULL && e == f->ent) {
			struct conntrack_tcp before = f->ent->tcp;
			assert_int_equal(conntrack_seen_tcp(f->ct, f->ent, d, &pi),
					 CONNTRACK_TCP_INVALID);
			assert_memory_equal(&before, &f->ent->tcp, sizeof(before));
		}
		return CONNTRACK_TCP_INVALID;
	}
	assert_ptr_equal(e, f->ent);
	return conntrack_seen_tcp(f->ct, e, d, &pi);
}

/* I: data beyond what the receiver's window allows is INVALID ("SEQ is over
 * upper bound"); III: an ACK for data never sent is INVALID ("ACK is over
 * upper bound"). Neither moves the flow. */
static void test_window_upper_bounds(void **state)
{
	struct fx *f = *state;

	handshake(f);
	/* The server offered a 502-byte window. */
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, 1001 + 100000, 5001, 10),
			 CONNTRACK_TCP_INVALID);
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, 1001, 5001 + 5000, 0),
			 CONNTRACK_TCP_INVALID);
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, 1001, 5001, 100),
			 CONNTRACK_TCP_TRACKED);
	assert_int_equal(f->ent->tcp.seen[CONNTRACK_DIR_ORIGINAL].td_end, 1101);
}

/* II: a retransmission of data acknowledged long ago is ignored: it passes,
 * but neither state nor timeout moves. */
static void test_window_old_data_ignored(void **state)
{
	struct fx *f = *state;

	handshake(f);
	for (uint32_t seq = 1001; seq < 1001 + 4000; seq += 400) {
		assert_int_equal(pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, seq, 5001, 400),
				 CONNTRACK_TCP_TRACKED);
		assert_int_equal(pass_seq(f, CONNTRACK_DIR_REPLY, TCP_ACK, 5001, seq + 400, 0),
				 CONNTRACK_TCP_TRACKED);
	}
	engine_run_until(f->e, SIM_S(10));
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, 1001, 5001, 400),
			 CONNTRACK_TCP_IGNORED);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5 - 10);
}

/* Unacknowledged data caps ESTABLISHED at 5 minutes
 * (nf_conntrack_tcp_timeout_unacknowledged); the ACK for it lifts it. */
static void test_unacknowledged_data_timeout(void **state)
{
	struct fx *f = *state;

	handshake(f);
	pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK | TCP_PSH, 1001, 5001, 200);
	expect(f, CONNTRACK_TCP_ESTABLISHED, 300);
	pass_seq(f, CONNTRACK_DIR_REPLY, TCP_ACK, 5001, 1201, 0);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5);
}

/* The same ACK segment three times more: retransmissions, 5 minutes. */
static void test_retransmissions_timeout(void **state)
{
	struct fx *f = *state;

	handshake(f);
	for (int i = 0; i < 3; i++) {
		expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5);
		pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, 1001, 5001, 0);
	}
	expect(f, CONNTRACK_TCP_ESTABLISHED, 300);
}

/* A retransmitted SYN does not renew SYN_SENT's timeout. */
static void test_syn_retransmit_keeps_timeout(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	engine_run_until(f->e, SIM_S(3));
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_SYN_SENT, 117);
}

/* An RST whose sequence lies before what the other side acknowledged is
 * INVALID ("invalid rst"); one at it closes. */
static void test_invalid_rst(void **state)
{
	struct fx *f = *state;

	handshake(f);
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_REPLY, TCP_RST, 4000, 0, 0),
			 CONNTRACK_TCP_INVALID);
	expect(f, CONNTRACK_TCP_ESTABLISHED, DAYS5);
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_REPLY, TCP_RST, 5001, 0, 0),
			 CONNTRACK_TCP_TRACKED);
	expect(f, CONNTRACK_TCP_CLOSE, 10);
}

/* A flow picked up mid-stream is liberal (tcp_new sets BE_LIBERAL both
 * ways): what the checks would refuse passes. */
static void test_pickup_is_liberal(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK), CONNTRACK_TCP_TRACKED);
	assert_int_equal(pass_seq(f, CONNTRACK_DIR_ORIGINAL, TCP_ACK, 1001 + 900000, 5001, 10),
			 CONNTRACK_TCP_TRACKED);
}

/* What `conntrack -E` would print: each record's event and the state it
 * carries. */
struct events {
	int n;
	enum trace_ct_event ev[8];
	uint8_t state[8];
};

static void on_record(const struct trace_record *r, void *ctx)
{
	struct events *e = ctx;

	if (r->kind == TRACE_CONNTRACK && e->n < 8) {
		e->ev[e->n] = r->u.ct.event;
		e->state[e->n++] = r->u.ct.tcp_state;
	}
}

/* Linux's NEW event already says SYN_SENT (nf_conntrack_tcp_packet sets the
 * state before the entry is confirmed); the SYN that made it moves nothing
 * more. A first segment tcp_new refuses makes no event at all. */
static void test_new_event_carries_state(void **state)
{
	struct fx *f = *state;
	struct events ev = {0};

	assert_int_equal(trace_subscribe(engine_trace(f->e), on_record, &ev), 0);
	assert_int_equal(pass(f, CONNTRACK_DIR_ORIGINAL, TCP_SYN), CONNTRACK_TCP_TRACKED);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.ev[0], TRACE_CT_NEW);
	assert_int_equal(ev.state[0], CONNTRACK_TCP_SYN_SENT);
	assert_int_equal(pass(f, CONNTRACK_DIR_REPLY, TCP_SYN | TCP_ACK), CONNTRACK_TCP_TRACKED);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[1], TRACE_CT_UPDATE);
	assert_int_equal(ev.state[1], CONNTRACK_TCP_SYN_RECV);
	trace_unsubscribe(engine_trace(f->e), on_record, &ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_event_carries_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_through_time_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_answering_syn_kills, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_established_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pickup_mid_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_reopens_time_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_in_established_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_upper_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_old_data_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unacknowledged_data_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retransmissions_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_retransmit_keeps_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_rst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pickup_is_liberal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
