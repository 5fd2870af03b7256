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
	assert_int_equal(tcp_listen_verdict(&syn), TCP_LISTEN_ACCEPT);
	tcp_open_passive(&b->c, &syn, 1);
	assert_int_equal(b->c.state, TCP_SYN_RECEIVED);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_way_handshake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
