/*
 * test_tcp.c - model/tcp.c's state machine alone, driven segment by
 * segment as RFC 9293's figures are: two blocks, A and B, and what each
 * sends put in its own queue for the test to hand over (or lose).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/packet6.h"
#include "model/tcp.h"

#define QMAX 64

/* A segment as sent, kept (its options and bytes copied). */
struct sent {
	struct tcp_segment seg;
	struct tcp_options opt;
	uint8_t data[2048];
};

struct end {
	struct tcp_conn c;
	struct sent q[QMAX];
	size_t nq;
	struct tcp_change last; /* the last change of state */
	size_t changes, fins;
	size_t got;
};

static uint64_t end_send(void *ctx, const struct tcp_segment *seg)
{
	struct end *e = ctx;
	struct sent *s = &e->q[e->nq++];

	assert_true(e->nq <= QMAX);
	s->seg = *seg;
	if (seg->opt != NULL)
		s->opt = *seg->opt;
	s->seg.opt = seg->opt != NULL ? &s->opt : NULL;
	assert_true(seg->payload_len <= sizeof(s->data));
	if (seg->payload_len > 0)
		memcpy(s->data, seg->payload, seg->payload_len);
	s->seg.payload = s->data;
	return 1000 + e->nq;
}

static void end_changed(void *ctx, const struct tcp_change *ch)
{
	struct end *e = ctx;

	e->last = *ch;
	e->changes++;
}

static void end_data(void *ctx, const uint8_t *data, size_t len)
{
	(void)data;
	((struct end *)ctx)->got += len;
}

static void end_fin(void *ctx)
{
	((struct end *)ctx)->fins++;
}

static const struct tcp_conn_ops ops = {end_send, end_changed, end_data, end_fin};

static void end_init(struct end *e, uint32_t iss)
{
	struct tcp_config cfg;

	memset(e, 0, sizeof(*e));
	tcp_config_default(&cfg);
	assert_int_equal(tcp_conn_init(&e->c, &cfg, &ops, e, iss, iss / 2), 0);
}

/* The oldest segment `from` sent, taken off its queue, as `to` reads it. */
static struct tcp_seg_in take(struct end *from, struct sent *keep)
{
	assert_true(from->nq > 0);
	*keep = from->q[0];
	memmove(from->q, from->q + 1, (from->nq - 1) * sizeof(from->q[0]));
	from->nq--;
	keep->seg.opt = keep->seg.opt != NULL ? &keep->opt : NULL;
	keep->seg.payload = keep->data;
	return (struct tcp_seg_in){.flags = keep->seg.flags,
				   .seq = keep->seg.seq,
				   .ack = keep->seg.ack,
				   .window = keep->seg.window,
				   .opt = keep->seg.opt,
				   .data = keep->data,
				   .len = keep->seg.payload_len,
				   .packet_id = 1};
}

/* Hand `from`'s oldest segment to `to` at `now`. Returns its flags. */
static uint8_t pass(struct end *from, struct end *to, int64_t now)
{
	struct sent keep;
	struct tcp_seg_in in = take(from, &keep);

	tcp_input(&to->c, &in, now);
	return in.flags;
}

static void teardown_ends(struct end *a, struct end *b)
{
	tcp_conn_release(&a->c);
	tcp_conn_release(&b->c);
}

/* RFC 9293 figure 6: the three-way handshake. */
static void handshake(struct end *a, struct end *b)
{
	struct sent keep;
	struct tcp_seg_in syn;

	tcp_open(&a->c, 0);
	assert_int_equal(a->c.state, TCP_SYN_SENT);
	syn = take(a, &keep);
	assert_int_equal(syn.flags, TCP_SYN);
	assert_int_equal(syn.window, 64240); /* 44 segments of 1460, as Linux offers */
	assert_int_equal(tcp_listen_verdict(&syn), TCP_LISTEN_ACCEPT);
	tcp_open_passive(&b->c, &syn, 1);
	assert_int_equal(b->c.state, TCP_SYN_RECEIVED);
	assert_int_equal(b->q[0].seg.window, 65160); /* 45 x 1448, as Linux's SYN+ACK */
	assert_int_equal(pass(b, a, 2), TCP_SYN | TCP_ACK);
	assert_int_equal(a->c.state, TCP_ESTABLISHED);
	assert_int_equal(pass(a, b, 3), TCP_ACK);
	assert_int_equal(b->c.state, TCP_ESTABLISHED);
}

static void test_three_way_handshake(void **state)
{
	struct end *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	(void)state;
	end_init(a, 100);
	end_init(b, 300);
	handshake(a, b);
	assert_int_equal(a->c.snd_una, 101);
	assert_int_equal(a->c.rcv_nxt, 301);
	assert_int_equal(b->c.rcv_nxt, 101);
	/* Both SYNs had timestamps: the payload is 1460 less 12. */
	assert_true(a->c.ts_ok && b->c.ts_ok);
	assert_int_equal(a->c.mss, 1448);
	assert_int_equal(a->c.snd_wscale, 7);
	teardown_ends(a, b);
	free(a);
	free(b);
}

/* Two blocks and a finished handshake, for the tests below. */
struct pair {
	struct end a, b;
};

static int pair_setup(void **state)
{
	struct pair *p = malloc(sizeof(*p));

	if (p == NULL)
		return -1;
	end_init(&p->a, 100);
	end_init(&p->b, 300);
	handshake(&p->a, &p->b);
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	teardown_ends(&p->a, &p->b);
	free(p);
	return 0;
}

/* RFC 9293 3.10.7.1: an ACK gets <SEQ=SEG.ACK><CTL=RST>; anything else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (a SYN counts one); an RST
 * is never answered. A listener ignores an RST, resets an ACK, takes a
 * SYN, and discards SYN+FIN as Linux does. */
static void test_closed_port_and_listener(void **state)
{
	struct tcp_seg_in syn = {.flags = TCP_SYN, .seq = 1000};
	struct tcp_seg_in ack = {.flags = TCP_ACK, .seq = 5, .ack = 77, .len = 10};
	struct tcp_seg_in rst = {.flags = TCP_RST | TCP_ACK};
	struct tcp_seg_in synfin = {.flags = TCP_SYN | TCP_FIN};
	struct tcp_segment out;

	(void)state;
	assert_true(tcp_reset_for(&syn, &out));
	assert_int_equal(out.flags, TCP_RST | TCP_ACK);
	assert_int_equal(out.seq, 0);
	assert_int_equal(out.ack, 1001);
	assert_true(tcp_reset_for(&ack, &out));
	assert_int_equal(out.flags, TCP_RST);
	assert_int_equal(out.seq, 77);
	assert_false(tcp_reset_for(&rst, &out));
	assert_int_equal(tcp_listen_verdict(&rst), TCP_LISTEN_IGNORE);
	assert_int_equal(tcp_listen_verdict(&ack), TCP_LISTEN_RESET);
	assert_int_equal(tcp_listen_verdict(&syn), TCP_LISTEN_ACCEPT);
	assert_int_equal(tcp_listen_verdict(&synfin), TCP_LISTEN_IGNORE);
}

/* RFC 9293 3.10.7.3: in SYN-SENT an ACK for something we never sent gets
 * <SEQ=SEG.ACK><CTL=RST> and changes nothing; an RST with an acceptable
 * ACK refuses the connection. */
static void test_syn_sent_checks_ack(void **state)
{
	struct end a;
	struct tcp_seg_in bad = {.flags = TCP_SYN | TCP_ACK, .seq = 9, .ack = 5000};
	struct tcp_seg_in rst = {.flags = TCP_RST | TCP_ACK, .ack = 101, .packet_id = 42};

	(void)state;
	end_init(&a, 100);
	tcp_open(&a.c, 0);
	a.nq = 0;
	tcp_input(&a.c, &bad, 1);
	assert_int_equal(a.c.state, TCP_SYN_SENT);
	assert_int_equal(a.nq, 1);
	assert_int_equal(a.q[0].seg.flags, TCP_RST);
	assert_int_equal(a.q[0].seg.seq, 5000);
	tcp_input(&a.c, &rst, 2);
	assert_int_equal(a.c.state, TCP_CLOSED);
	assert_int_equal(a.last.error, ECONNREFUSED);
	assert_int_equal(a.last.cause, TCP_CAUSE_RST);
	assert_int_equal(a.last.packet_id, 42);
	tcp_conn_release(&a.c);
}

/* RFC 5961 3.2 (Linux's tcp_validate_incoming): an RST in the window but
 * not at RCV.NXT gets a challenge ACK; at RCV.NXT it resets. */
static void test_rst_must_hit_rcv_nxt(void **state)
{
	struct pair *p = *state;
	struct tcp_seg_in near = {.flags = TCP_RST, .seq = p->a.c.rcv_nxt + 10};
	struct tcp_seg_in exact = {.flags = TCP_RST, .seq = p->a.c.rcv_nxt};

	tcp_input(&p->a.c, &near, 10);
	assert_int_equal(p->a.c.state, TCP_ESTABLISHED);
	assert_int_equal(p->a.nq, 1);
	assert_int_equal(p->a.q[0].seg.flags, TCP_ACK);
	tcp_input(&p->a.c, &exact, 11);
	assert_int_equal(p->a.c.state, TCP_CLOSED);
	assert_int_equal(p->a.last.error, ECONNRESET);
}

/* Bytes one way, one MSS a segment, an ACK for each; the RTT samples
 * (2 ns in this test's time) give RTO = SRTT + max(4 RTTVAR, 200 ms),
 * Linux's floor. */
static void test_data_and_rto(void **state)
{
	struct pair *p = *state;
	static uint8_t data[4000];

	assert_int_equal(tcp_send(&p->a.c, data, sizeof(data), 10), sizeof(data));
	assert_int_equal(p->a.nq, 3); /* 1448 + 1448 + 1104 */
	assert_int_equal(p->a.q[0].seg.payload_len, 1448);
	assert_int_equal(p->a.q[2].seg.flags, TCP_ACK | TCP_PSH);
	/* The handshake timed the SYN already (2 ns here): 200 ms on. */
	assert_int_equal(tcp_deadline(&p->a.c), 10 + 2 + SIM_MS(200));
	for (int i = 0; i < 3; i++)
		pass(&p->a, &p->b, 11);
	assert_int_equal(p->b.got, 4000);
	assert_int_equal(p->b.nq, 3);
	for (int i = 0; i < 3; i++)
		pass(&p->b, &p->a, 12);
	assert_int_equal(p->a.c.snd_una, p->a.c.snd_max);
	assert_int_equal(p->a.c.buf_len, 0);
	assert_int_equal(tcp_deadline(&p->a.c), SIM_TIME_NEVER);
	assert_int_equal(p->a.c.srtt, 2);
	assert_int_equal(p->a.c.rto, 2 + SIM_MS(200));
}

/* A lost segment: the one after it is dropped by the receiver (no
 * out-of-order queue) with a duplicate ACK; the timeout resends from
 * SND.UNA and the rest follows as ACKs return. */
static void test_loss_and_retransmission(void **state)
{
	struct pair *p = *state;
	static uint8_t data[2896];
	struct sent lost;
	int64_t rto;

	tcp_send(&p->a.c, data, sizeof(data), 10);
	take(&p->a, &lost);
	pass(&p->a, &p->b, 11);
	assert_int_equal(p->b.got, 0);
	assert_int_equal(p->b.q[0].seg.ack, p->b.c.rcv_nxt); /* the duplicate ACK */
	pass(&p->b, &p->a, 12);
	rto = tcp_deadline(&p->a.c);
	assert_int_equal(rto, 10 + p->a.c.rto);
	tcp_timeout(&p->a.c, rto);
	assert_int_equal(p->a.nq, 1);
	assert_int_equal(p->a.q[0].seg.seq, lost.seg.seq);
	assert_int_equal(tcp_deadline(&p->a.c), rto + 2 * (rto - 10)); /* backed off */
	pass(&p->a, &p->b, rto + 1);
	pass(&p->b, &p->a, rto + 2);
	pass(&p->a, &p->b, rto + 3); /* the second one again, now in order */
	assert_int_equal(p->b.got, 2896);
}

/* Simultaneous close (RFC 9293 figure 13): FIN-WAIT-1 -> CLOSING ->
 * TIME-WAIT on both sides, then CLOSED after 60 s. */
static void test_simultaneous_close(void **state)
{
	struct pair *p = *state;

	tcp_close(&p->a.c, 10);
	tcp_close(&p->b.c, 10);
	assert_int_equal(p->a.c.state, TCP_FIN_WAIT_1);
	assert_int_equal(p->a.last.packet_id, 1000 + p->a.nq); /* the FIN's id */
	pass(&p->a, &p->b, 11);
	pass(&p->b, &p->a, 11);
	assert_int_equal(p->a.c.state, TCP_CLOSING);
	assert_int_equal(p->b.c.state, TCP_CLOSING);
	pass(&p->a, &p->b, 12);
	pass(&p->b, &p->a, 12);
	assert_int_equal(p->a.c.state, TCP_TIME_WAIT);
	assert_int_equal(p->b.c.state, TCP_TIME_WAIT);
	assert_int_equal(tcp_deadline(&p->a.c), 12 + SIM_S(60));
	tcp_timeout(&p->a.c, 12 + SIM_S(60));
	assert_int_equal(p->a.c.state, TCP_CLOSED);
	assert_int_equal(p->a.last.cause, TCP_CAUSE_TIME_WAIT);
}

/* Data after our close: RFC 1122 4.2.2.13's RST (Linux: TCPAbortOnData). */
static void test_data_after_close_resets(void **state)
{
	struct pair *p = *state;
	static uint8_t data[10];

	tcp_close(&p->a.c, 10);
	pass(&p->a, &p->b, 11); /* the FIN */
	pass(&p->b, &p->a, 12); /* its ACK: FIN-WAIT-2 */
	assert_int_equal(p->a.c.state, TCP_FIN_WAIT_2);
	tcp_send(&p->b.c, data, sizeof(data), 13);
	pass(&p->b, &p->a, 14);
	assert_int_equal(p->a.c.state, TCP_CLOSED);
	assert_int_equal(p->a.q[p->a.nq - 1].seg.flags, TCP_RST);
}

/* Run `e`'s timer until it closes; returns the time it did. */
static int64_t run_out(struct end *e, int64_t *before)
{
	int64_t at = 0;

	for (int i = 0; i < 100 && e->c.state != TCP_CLOSED; i++) {
		*before = at;
		at = tcp_deadline(&e->c);
		assert_true(at != SIM_TIME_NEVER);
		tcp_timeout(&e->c, at);
	}
	assert_int_equal(e->c.state, TCP_CLOSED);
	return at;
}

/* Nothing acknowledged: tcp_retries2 = 15 gives up once 924.6 s have passed
 * since the first transmission (tcp_model_timeout from TCP_RTO_MIN: 1023 x
 * 200 ms + 6 x 120 s). A host-unreachable heard meanwhile was remembered,
 * not acted on, and is the error reported (tcp_write_err: sk_err_soft). */
static void test_retries2_and_soft_error(void **state)
{
	struct pair *p = *state;
	static uint8_t data[100];
	int64_t before, closed;

	tcp_send(&p->a.c, data, sizeof(data), 10);
	tcp_icmp_error(&p->a.c, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, p->a.c.snd_una, 5, 20);
	assert_int_equal(p->a.c.state, TCP_ESTABLISHED);
	closed = run_out(&p->a, &before);
	assert_true(closed - 10 >= SIM_MS(924600));
	assert_true(before - 10 < SIM_MS(924600));
	assert_int_equal(p->a.last.cause, TCP_CAUSE_RETRIES);
	assert_int_equal(p->a.last.error, EHOSTUNREACH);
}

/* A listener's child whose SYN+ACK is never answered: five more SYN+ACKs
 * (1, 2, 4, 8, 16 s apart, tcp_synack_retries), then it is dropped
 * silently at 63 s. A retransmitted SYN meanwhile gets the SYN+ACK again. */
static void test_half_open_child_gives_up(void **state)
{
	struct end a, b;
	struct sent keep;
	struct tcp_seg_in syn;
	int64_t before;

	(void)state;
	end_init(&a, 100);
	end_init(&b, 300);
	tcp_open(&a.c, 0);
	syn = take(&a, &keep);
	tcp_open_passive(&b.c, &syn, 0);
	b.nq = 0;
	tcp_input(&b.c, &syn, 1);
	assert_int_equal(b.nq, 1);
	assert_int_equal(b.q[0].seg.flags, TCP_SYN | TCP_ACK);
	b.nq = 0;
	assert_int_equal(run_out(&b, &before), SIM_S(63));
	assert_int_equal(b.nq, 5);
	assert_int_equal(b.last.cause, TCP_CAUSE_RETRIES);
	assert_int_equal(b.last.error, 0);
	teardown_ends(&a, &b);
}

/* RFC 9293 figure 8 by hand: the SYNs cross, each end answers with its SYN
 * and an ACK, the SYN+ACKs cross, both ESTABLISHED. */
static void test_simultaneous_open(void **state)
{
	struct end a, b;

	(void)state;
	end_init(&a, 100);
	end_init(&b, 300);
	tcp_open(&a.c, 0);
	tcp_open(&b.c, 0);
	pass(&a, &b, 1);
	pass(&b, &a, 1);
	assert_int_equal(a.c.state, TCP_SYN_RECEIVED);
	assert_int_equal(b.c.state, TCP_SYN_RECEIVED);
	assert_int_equal(pass(&a, &b, 2), TCP_SYN | TCP_ACK);
	assert_int_equal(pass(&b, &a, 2), TCP_SYN | TCP_ACK);
	assert_int_equal(a.c.state, TCP_ESTABLISHED);
	assert_int_equal(b.c.state, TCP_ESTABLISHED);
	teardown_ends(&a, &b);
}

/* tcp_v4_err: an error quoting a sequence we never sent is ignored; in
 * SYN-SENT a port unreachable ends the connect with ECONNREFUSED. */
static void test_icmp_in_syn_sent(void **state)
{
	struct end a;

	(void)state;
	end_init(&a, 100);
	tcp_open(&a.c, 0);
	tcp_icmp_error(&a.c, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 5000, 7, 1);
	assert_int_equal(a.c.state, TCP_SYN_SENT);
	tcp_icmp_error(&a.c, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 100, 7, 1);
	assert_int_equal(a.c.state, TCP_CLOSED);
	assert_int_equal(a.last.error, ECONNREFUSED);
	assert_int_equal(a.last.cause, TCP_CAUSE_ICMP);
	assert_int_equal(a.last.packet_id, 7);
	tcp_conn_release(&a.c);
}

/* tcp_v6_err: packet too big is ignored (natsim does no path MTU
 * discovery), an unknown error type is EPROTO and, as every error in
 * SYN-SENT, ends the connect; administratively prohibited is EACCES. */
static void test_icmp6_in_syn_sent(void **state)
{
	struct end a;

	(void)state;
	end_init(&a, 100);
	tcp_open(&a.c, 0);
	tcp_icmp6_error(&a.c, ICMP6_PACKET_TOO_BIG, 0, 100, 7, 1);
	assert_int_equal(a.c.state, TCP_SYN_SENT);
	tcp_icmp6_error(&a.c, ICMP6_DEST_UNREACH, ICMP6_ADMIN_PROHIBITED, 100, 8, 1);
	assert_int_equal(a.c.state, TCP_CLOSED);
	assert_int_equal(a.last.error, EACCES);
	assert_int_equal(a.last.packet_id, 8);
	tcp_conn_release(&a.c);
	end_init(&a, 100);
	tcp_open(&a.c, 0);
	tcp_icmp6_error(&a.c, 100 /* an error type nobody defined */, 0, 100, 9, 1);
	assert_int_equal(a.last.error, EPROTO);
	tcp_conn_release(&a.c);
}

/* Once synchronized an ICMPv6 error is only remembered (sk_err_soft). A
 * listener's half-open child is dropped silently by a fatal error quoting
 * its SYN+ACK (port unreachable), kept by a soft one (address
 * unreachable): tcp_req_err with icmpv6_err_convert's `fatal`. */
static void test_icmp6_soft_and_request(void **state)
{
	struct pair *p = *state;
	struct end a, b;
	struct sent keep;
	struct tcp_seg_in syn;

	tcp_icmp6_error(&p->a.c, ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, p->a.c.snd_una, 5, 20);
	assert_int_equal(p->a.c.state, TCP_ESTABLISHED);
	assert_int_equal(p->a.c.soft_error, ECONNREFUSED);
	end_init(&a, 100);
	end_init(&b, 300);
	tcp_open(&a.c, 0);
	syn = take(&a, &keep);
	tcp_open_passive(&b.c, &syn, 0);
	tcp_icmp6_error(&b.c, ICMP6_DEST_UNREACH, ICMP6_ADDR_UNREACH, 300, 6, 1);
	assert_int_equal(b.c.state, TCP_SYN_RECEIVED);
	tcp_icmp6_error(&b.c, ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 300, 6, 1);
	assert_int_equal(b.c.state, TCP_CLOSED);
	assert_int_equal(b.last.error, 0);
	teardown_ends(&a, &b);
}

/* An orphan in FIN-WAIT-2 whose peer never closes is gone after
 * tcp_fin_timeout (60 s); the peer stays in CLOSE-WAIT. */
static void test_fin_wait_2_times_out(void **state)
{
	struct pair *p = *state;

	tcp_close(&p->a.c, 10);
	pass(&p->a, &p->b, 11);
	pass(&p->b, &p->a, 12);
	assert_int_equal(p->a.c.state, TCP_FIN_WAIT_2);
	assert_int_equal(p->b.c.state, TCP_CLOSE_WAIT);
	assert_int_equal(tcp_deadline(&p->a.c), 12 + SIM_S(60));
	tcp_timeout(&p->a.c, 12 + SIM_S(60) - 1);
	assert_int_equal(p->a.c.state, TCP_FIN_WAIT_2);
	tcp_timeout(&p->a.c, 12 + SIM_S(60));
	assert_int_equal(p->a.c.state, TCP_CLOSED);
	assert_int_equal(p->a.last.cause, TCP_CAUSE_TIME_WAIT);
}

/* After the peer's FIN, an RST carrying the FIN's sequence resets
 * (tcp_reset_check); in CLOSE-WAIT the application is told EPIPE. */
static void test_rst_after_fin(void **state)
{
	struct pair *p = *state;
	struct tcp_seg_in rst = {.flags = TCP_RST};

	tcp_close(&p->b.c, 10);
	pass(&p->b, &p->a, 11);
	assert_int_equal(p->a.c.state, TCP_CLOSE_WAIT);
	assert_int_equal(p->a.fins, 1);
	rst.seq = p->a.c.rcv_nxt - 1;
	tcp_input(&p->a.c, &rst, 12);
	assert_int_equal(p->a.c.state, TCP_CLOSED);
	assert_int_equal(p->a.last.error, EPIPE);
}

/* The first of six segments lost: the next five each draw an ACK for the
 * hole. The first of those also updates the window (its scaled field
 * replaces the SYN+ACK's unscaled one), so it is no duplicate (RFC 5681 2,
 * Linux's FLAG_WIN_UPDATE); the third duplicate sends the lost segment
 * again at once (RFC 5681 3.2) with the rest after it; the next does not
 * (RFC 6582: once a window). */
static void test_fast_retransmit(void **state)
{
	struct pair *p = *state;
	static uint8_t data[6 * 1448];
	struct sent lost;

	tcp_send(&p->a.c, data, sizeof(data), 10);
	assert_int_equal(p->a.nq, 6);
	take(&p->a, &lost);
	for (int i = 0; i < 5; i++)
		pass(&p->a, &p->b, 11);
	assert_int_equal(p->b.got, 0);
	assert_int_equal(p->b.nq, 5);
	for (int i = 0; i < 3; i++)
		pass(&p->b, &p->a, 12);
	assert_int_equal(p->a.nq, 0);
	pass(&p->b, &p->a, 12); /* the third duplicate */
	assert_int_equal(p->a.nq, 6);
	assert_int_equal(p->a.q[0].seg.seq, lost.seg.seq);
	pass(&p->b, &p->a, 12); /* the fourth */
	assert_int_equal(p->a.nq, 6);
	for (int i = 0; i < 6; i++)
		pass(&p->a, &p->b, 13);
	assert_int_equal(p->b.got, sizeof(data));
}

/* A test that starts from a finished handshake. */
#define PAIR(test) cmocka_unit_test_setup_teardown(test, pair_setup, pair_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_way_handshake),
	    cmocka_unit_test(test_closed_port_and_listener),
	    cmocka_unit_test(test_syn_sent_checks_ack),
	    cmocka_unit_test(test_half_open_child_gives_up),
	    cmocka_unit_test(test_simultaneous_open),
	    cmocka_unit_test(test_icmp_in_syn_sent),
	    cmocka_unit_test(test_icmp6_in_syn_sent),
	    PAIR(test_rst_must_hit_rcv_nxt),
	    PAIR(test_rst_after_fin),
	    PAIR(test_data_and_rto),
	    PAIR(test_loss_and_retransmission),
	    PAIR(test_fast_retransmit),
	    PAIR(test_simultaneous_close),
	    PAIR(test_data_after_close_resets),
	    PAIR(test_fin_wait_2_times_out),
	    PAIR(test_retries2_and_soft_error),
	    PAIR(test_icmp6_soft_and_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
