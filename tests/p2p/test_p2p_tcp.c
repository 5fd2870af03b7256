/*
 * test_p2p_tcp.c - the agent and the coordinator over TCP (agent.h "TCP",
 * coord.h "TCP", stream.h), with a fake in-memory driver: connections as
 * a kernel would report them, not packets. A SYN crosses a fake NAT (one
 * external port per inside port, or per destination when symmetric; only
 * endpoints it has sent to may come in); two SYNs that cross make one
 * connection on both sides (simultaneous open, RFC 9293 3.5); a SYN that
 * finds no way in is dropped (retransmitted after 1 and 2 s, then
 * ETIMEDOUT) or answered with an RST (ECONNREFUSED). Bytes arrive split
 * at random. Set NATSIM_TEST_VERBOSE=1 to see the events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/agent.h"
#include "p2p/agent_speed.h"
#include "p2p/coord.h"
#include "p2p/stream.h"
#include "p2p/stun.h"

#define MS P2P_NS_PER_MS
#define S P2P_NS_PER_S
#define MAXC 64
#define QMAX 4096
/* Built a second time as test_p2p_tcp_summary (tests/CMakeLists.txt): every
 * agent then keeps the speed layer's summary of its peers' timers
 * (agent_speed.h), checked against its peers after every call. */
#ifndef TEST_AGENT_SUMMARY
#define TEST_AGENT_SUMMARY 0
#endif

static const struct p2p_endpoint COORD_EP = {.ip = 0xC0000201u, .port = 3478}; /* 192.0.2.1 */

enum nat_kind { NAT_NONE, NAT_CONE, NAT_SYMMETRIC };

struct fmap {
	struct p2p_endpoint in, ext, dest;
	struct p2p_endpoint allowed[16];
	size_t n_allowed;
};

struct fnat {
	enum nat_kind kind;
	bool rst; /* answer a SYN with no way in with an RST (else drop it) */
	uint32_t ip;
	uint16_t next_port;
	struct fmap m[32];
	size_t n;
};

/* A connection end in the fake driver: which node's, paired with which. */
struct fconn {
	bool used, open;
	uint32_t id;			   /* the agent's or coordinator's id */
	int peer_node;			   /* -1: not connected */
	uint32_t peer_id;		   /* index in the peer node's table */
	struct p2p_endpoint local, remote; /* as this node sees them */
	struct p2p_endpoint wire;	   /* our public end (after our NAT) */
};

struct node {
	struct agent *ag; /* NULL: the coordinator (node 0) */
	struct p2p_endpoint local;
	struct fnat nat;
	bool listening;
	uint64_t coord_latency;
	struct fconn c[MAXC];
	char log[64][256];
	enum agent_event_type types[64];
	size_t n_log;
};

enum qkind { Q_SYN, Q_BYTES, Q_FIN };

struct qev {
	uint64_t at, seq;
	enum qkind kind;
	int from, to; /* nodes */
	size_t slot;  /* the sender's table slot */
	unsigned tries;
	size_t len;
	uint8_t buf[P2P_STREAM_MAX_FRAME];
};

struct tnet {
	uint64_t now, seq, rng;
	struct coord *coord;
	struct node n[3]; /* 0 coordinator, 1 alice, 2 bob */
	struct qev *q;
	size_t nq;
	size_t peer_bytes, relayed;
	bool coord_down; /* its host answers every SYN with an RST */
	uint8_t last_introduce[P2P_MAX_DATAGRAM];
	size_t last_introduce_len;
};

static void fill(void *ctx, uint8_t *out, size_t len)
{
	uint64_t *s = ctx;
	for (size_t i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(*s >> 56);
	}
}

static uint64_t rnd(struct tnet *t, uint64_t n)
{
	uint8_t b[4];
	fill(&t->rng, b, 4);
	return ((uint64_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) % n;
}

/* ---- the fake NAT ---- */

static struct p2p_endpoint nat_out(struct fnat *f, struct p2p_endpoint in, struct p2p_endpoint to)
{
	if (f->kind == NAT_NONE)
		return in;
	size_t i = 0;
	while (i < f->n && !(p2p_endpoint_equal(&f->m[i].in, &in) &&
			     (f->kind == NAT_CONE || p2p_endpoint_equal(&f->m[i].dest, &to))))
		i++;
	if (i == f->n) {
		assert_true(f->n < 32);
		f->m[f->n++] = (struct fmap){
		    .in = in, .ext = {.ip = f->ip, .port = f->next_port++}, .dest = to};
	}
	bool known = false;
	for (size_t k = 0; k < f->m[i].n_allowed; k++)
		known |= p2p_endpoint_equal(&f->m[i].allowed[k], &to);
	if (!known && f->m[i].n_allowed < 16)
		f->m[i].allowed[f->m[i].n_allowed++] = to;
	return f->m[i].ext;
}

static bool nat_in(struct fnat *f, struct p2p_endpoint from, struct p2p_endpoint to,
		   struct p2p_endpoint *inside)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!p2p_endpoint_equal(&f->m[i].ext, &to))
			continue;
		for (size_t k = 0; k < f->m[i].n_allowed; k++)
			if (p2p_endpoint_equal(&f->m[i].allowed[k], &from)) {
				*inside = f->m[i].in;
				return true;
			}
	}
	return false;
}

/* ---- the queue ---- */

static struct qev *q_add(struct tnet *t, uint64_t at, enum qkind kind, int from, int to,
			 size_t slot)
{
	assert_true(t->nq < QMAX);
	size_t i = t->nq++;
	while (i > 0 && t->q[i - 1].at > at) { /* stable: same time keeps its order */
		t->q[i] = t->q[i - 1];
		i--;
	}
	struct qev *e = &t->q[i];
	memset(e, 0, offsetof(struct qev, buf));
	*e = (struct qev){
	    .at = at, .seq = t->seq++, .kind = kind, .from = from, .to = to, .slot = slot};
	return e;
}

static uint64_t latency(const struct tnet *t, int a, int b)
{
	return a == 0 ? t->n[b].coord_latency : b == 0 ? t->n[a].coord_latency : 20 * MS;
}

static int node_of(const struct tnet *t, const struct p2p_endpoint *pub)
{
	if (p2p_endpoint_equal(pub, &COORD_EP))
		return 0;
	for (int i = 1; i < 3; i++)
		if (t->n[i].nat.kind == NAT_NONE ? pub->ip == t->n[i].local.ip
						 : pub->ip == t->n[i].nat.ip)
			return i;
	return -1;
}

/* ---- the fake driver ---- */

static size_t slot_alloc(struct node *n)
{
	for (size_t i = 0; i < MAXC; i++)
		if (!n->c[i].used) {
			memset(&n->c[i], 0, sizeof(n->c[i]));
			n->c[i].used = true;
			n->c[i].peer_node = -1;
			return i;
		}
	fail_msg("out of connection slots");
	return 0;
}

static struct fconn *slot_by_id(struct node *n, uint32_t id, size_t *slot)
{
	for (size_t i = 0; i < MAXC; i++)
		if (n->c[i].used && n->c[i].id == id) {
			*slot = i;
			return &n->c[i];
		}
	return NULL;
}

static void tell_closed(struct tnet *t, int node, size_t slot, enum p2p_tcp_close why)
{
	struct fconn *c = &t->n[node].c[slot];
	c->used = false;
	if (node == 0)
		coord_tcp_closed(t->coord, t->now, c->id, why);
	else
		agent_tcp_closed(t->n[node].ag, t->now, c->id, why);
}

static void pair_up(struct tnet *t, int a, size_t sa, int b, size_t sb)
{
	t->n[a].c[sa].open = t->n[b].c[sb].open = true;
	t->n[a].c[sa].peer_node = b;
	t->n[a].c[sa].peer_id = (uint32_t)sb;
	t->n[b].c[sb].peer_node = a;
	t->n[b].c[sb].peer_id = (uint32_t)sa;
}

static void send_bytes(struct tnet *t, int node, const struct p2p_tcp_action *x)
{
	size_t slot;
	struct fconn *c = slot_by_id(&t->n[node], x->conn, &slot);
	if (c == NULL || !c->open || c->peer_node < 0)
		return;
	if (node != 0 && c->peer_node != 0)
		t->peer_bytes += x->len;
	for (size_t off = 0; off < x->len;) {
		size_t chunk = 1 + (size_t)rnd(t, 40);
		if (chunk > x->len - off)
			chunk = x->len - off;
		struct qev *e = q_add(t, t->now + latency(t, node, c->peer_node), Q_BYTES, node,
				      c->peer_node, c->peer_id);
		memcpy(e->buf, x->buf + off, chunk);
		e->len = chunk;
		off += chunk;
	}
}

static void close_conn(struct tnet *t, int node, uint32_t id)
{
	size_t slot;
	struct fconn *c = slot_by_id(&t->n[node], id, &slot);
	if (c == NULL)
		return;
	if (c->open && c->peer_node >= 0)
		q_add(t, t->now + latency(t, node, c->peer_node), Q_FIN, node, c->peer_node,
		      c->peer_id);
	c->used = false;
}

static void agent_action(struct tnet *t, int node, const struct p2p_tcp_action *x)
{
	struct node *n = &t->n[node];

	switch (x->type) {
	case P2P_TCP_LISTEN:
		assert_true(p2p_endpoint_equal(&x->local, &n->local));
		n->listening = true;
		break;
	case P2P_TCP_CONNECT: {
		assert_true(n->listening); /* the port is held before it connects out */
		assert_true(p2p_endpoint_equal(&x->local, &n->local));
		size_t s = slot_alloc(n);
		n->c[s].id = x->conn;
		n->c[s].local = x->local;
		n->c[s].remote = x->remote;
		n->c[s].wire = nat_out(&n->nat, x->local, x->remote);
		int to = node_of(t, &x->remote);
		if (to >= 0)
			q_add(t, t->now + latency(t, node, to), Q_SYN, node, to, s)->tries = 1;
		break;
	}
	case P2P_TCP_SEND:
		send_bytes(t, node, x);
		break;
	case P2P_TCP_CLOSE:
		close_conn(t, node, x->conn);
		break;
	}
}

static void coord_action(struct tnet *t, const struct p2p_tcp_action *x)
{
	struct stun_msg m;

	if (x->type == P2P_TCP_SEND && stun_decode(x->buf, x->len, false, &m) == STUN_OK &&
	    m.method == STUN_METHOD_INTRODUCE) {
		memcpy(t->last_introduce, x->buf, x->len);
		t->last_introduce_len = x->len;
	}
	if (x->type == P2P_TCP_SEND)
		send_bytes(t, 0, x);
	else if (x->type == P2P_TCP_CLOSE)
		close_conn(t, 0, x->conn);
}

static void drain(struct tnet *t)
{
	static struct p2p_tcp_action x;
	static struct p2p_event e;
	struct coord_event ce;
	bool more = true;

	while (more) {
		more = false;
		for (int i = 1; i < 3; i++) {
			while (agent_pop_tcp(t->n[i].ag, &x))
				agent_action(t, i, &x), more = true;
			while (agent_pop_event(t->n[i].ag, &e)) {
				struct node *n = &t->n[i];
				if (getenv("NATSIM_TEST_VERBOSE"))
					printf("%8.3f %s: %s\n", t->now / 1e9,
					       i == 1 ? "alice" : "bob", e.text);
				if (n->n_log < 64) {
					n->types[n->n_log] = e.type;
					snprintf(n->log[n->n_log++], 256, "%s", e.text);
				}
			}
#if TEST_AGENT_SUMMARY
			assert_true(agent_deadlines_agree(t->n[i].ag));
#endif
		}
		while (coord_pop_tcp(t->coord, &x))
			coord_action(t, &x), more = true;
		while (coord_pop_event(t->coord, &ce)) {
			t->relayed += ce.type == COORD_EV_RELAYED;
			if (getenv("NATSIM_TEST_VERBOSE"))
				printf("%8.3f coord: %s\n", t->now / 1e9, ce.text);
		}
	}
}

/* A SYN from node e->from's slot reaches node e->to. */
static void syn_arrives(struct tnet *t, const struct qev *e)
{
	struct fconn *src = &t->n[e->from].c[e->slot];
	struct node *dst = &t->n[e->to];
	struct p2p_endpoint inside;

	if (!src->used || src->open)
		return; /* closed meanwhile, or already open by the other's SYN */
	if (e->to == 0 && t->coord_down) {
		tell_closed(t, e->from, e->slot, P2P_TCP_REFUSED);
		return;
	}
	if (e->to == 0) {
		size_t s = slot_alloc(dst);
		dst->c[s].id = coord_tcp_accepted(t->coord, t->now, &COORD_EP, &src->wire);
		assert_true(dst->c[s].id > 0);
		dst->c[s].local = COORD_EP;
		dst->c[s].remote = src->wire;
		pair_up(t, e->from, e->slot, 0, s);
		agent_tcp_connected(t->n[e->from].ag, t->now, src->id, &src->local, &src->remote,
				    false);
		return;
	}
	bool in = dst->nat.kind == NAT_NONE ? p2p_endpoint_equal(&src->remote, &dst->local)
					    : nat_in(&dst->nat, src->wire, src->remote, &inside);
	if (dst->nat.kind == NAT_NONE)
		inside = dst->local;
	if (!in && (dst->nat.rst || e->tries >= 3)) {
		tell_closed(t, e->from, e->slot,
			    dst->nat.rst ? P2P_TCP_REFUSED : P2P_TCP_TIMED_OUT);
		return;
	}
	if (!in) { /* Linux retransmits a SYN after 1 s, then 2 s (tcp_syn_retries) */
		nat_out(&t->n[e->from].nat, src->local, src->remote);
		struct qev *r =
		    q_add(t, t->now + (S << (e->tries - 1)), Q_SYN, e->from, e->to, e->slot);
		r->tries = e->tries + 1;
		return;
	}
	for (size_t i = 0; i < MAXC; i++) { /* our SYN crossed theirs: simultaneous open */
		struct fconn *c = &dst->c[i];
		if (c->used && !c->open && p2p_endpoint_equal(&c->local, &inside) &&
		    p2p_endpoint_equal(&c->remote, &src->wire)) {
			pair_up(t, e->from, e->slot, e->to, i);
			agent_tcp_connected(t->n[e->from].ag, t->now, src->id, &src->local,
					    &src->remote, true);
			agent_tcp_connected(dst->ag, t->now, c->id, &c->local, &c->remote, true);
			return;
		}
	}
	if (!dst->listening) {
		tell_closed(t, e->from, e->slot, P2P_TCP_REFUSED);
		return;
	}
	size_t s = slot_alloc(dst);
	dst->c[s].local = inside;
	dst->c[s].remote = src->wire;
	dst->c[s].id = agent_tcp_accepted(dst->ag, t->now, &inside, &src->wire);
	assert_true(dst->c[s].id > 0);
	pair_up(t, e->from, e->slot, e->to, s);
	agent_tcp_connected(t->n[e->from].ag, t->now, src->id, &src->local, &src->remote, false);
}

static void deliver(struct tnet *t, const struct qev *e)
{
	struct fconn *c = &t->n[e->to].c[e->slot];

	if (e->kind == Q_SYN) {
		syn_arrives(t, e);
	} else if (!c->used || !c->open) {
		return;
	} else if (e->kind == Q_FIN) {
		tell_closed(t, e->to, e->slot, P2P_TCP_CLOSED_BY_PEER);
	} else if (e->to == 0) {
		coord_tcp_input(t->coord, t->now, c->id, e->buf, e->len);
	} else {
		agent_tcp_input(t->n[e->to].ag, t->now, c->id, e->buf, e->len);
	}
}

static uint64_t next_time(const struct tnet *t)
{
	uint64_t n = t->nq ? t->q[0].at : P2P_NO_DEADLINE;
	for (int i = 1; i < 3; i++) {
		uint64_t d = agent_next_deadline(t->n[i].ag);
		n = d < n ? d : n;
	}
	uint64_t d = coord_next_deadline(t->coord);
	return d < n ? d : n;
}

static void run_until(struct tnet *t, uint64_t until)
{
	for (;;) {
		drain(t);
		uint64_t next = next_time(t);
		if (next > until)
			break;
		if (next > t->now)
			t->now = next;
		while (t->nq && t->q[0].at <= t->now) {
			struct qev e = t->q[0];
			memmove(t->q, t->q + 1, --t->nq * sizeof(*t->q));
			deliver(t, &e);
			drain(t);
		}
		for (int i = 1; i < 3; i++)
			if (agent_next_deadline(t->n[i].ag) <= t->now)
				agent_tick(t->n[i].ag, t->now);
		if (coord_next_deadline(t->coord) <= t->now)
			coord_tick(t->coord, t->now);
	}
	t->now = until;
}

/* ---- set-up ---- */

static struct tnet *net_new(enum nat_kind ka, enum nat_kind kb, bool rst_b, bool relay_off)
{
	struct tnet *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->q = calloc(QMAX, sizeof(*t->q));
	t->rng = 42;
	struct coord_config cc = {
	    .primary = COORD_EP, .disable_relay = relay_off, .random = {fill, &t->rng}};
	t->coord = coord_new(&cc);
	assert_non_null(t->coord);
	const char *names[] = {NULL, "alice", "bob"};
	const uint32_t priv[] = {0, 0x0A000007u, 0x0A000109u},
		       pub[] = {0, 0xCB007107u, 0xC6336409u};
	const struct agent_speed summary = {.summarize_deadlines = TEST_AGENT_SUMMARY};
	for (int i = 1; i < 3; i++) {
		uint8_t seed[32] = {(uint8_t)i};
		struct node *n = &t->n[i];
		n->local = (struct p2p_endpoint){.ip = priv[i], .port = 40000};
		n->nat = (struct fnat){.kind = i == 1 ? ka : kb,
				       .rst = i == 2 && rst_b,
				       .ip = pub[i],
				       .next_port = 61000};
		if (n->nat.kind == NAT_NONE)
			n->local.ip = pub[i];
		n->coord_latency = 30 * MS;
		struct agent_config ac = {.name = names[i],
					  .local = n->local,
					  .coordinator = COORD_EP,
					  .key_seed = seed,
					  .random = {fill, &t->rng},
					  .transport = AGENT_TRANSPORT_TCP,
					  .speed = &summary};
		n->ag = agent_new(&ac);
		assert_non_null(n->ag);
	}
	return t;
}

static void net_free(struct tnet *t)
{
	for (int i = 1; i < 3; i++)
		agent_free(t->n[i].ag);
	coord_free(t->coord);
	free(t->q);
	free(t);
}

static bool logged(const struct node *n, enum agent_event_type type, const char *words)
{
	for (size_t i = 0; i < n->n_log; i++)
		if (n->types[i] == type && strstr(n->log[i], words) != NULL)
			return true;
	return false;
}

/* Both register, then alice asks for bob at 1 s. */
static void register_and_connect(struct tnet *t, uint64_t until)
{
	assert_int_equal(agent_register(t->n[1].ag, 0), AGENT_OK);
	assert_int_equal(agent_register(t->n[2].ag, 0), AGENT_OK);
	run_until(t, S);
	assert_int_equal(agent_connect(t->n[1].ag, S, "bob"), AGENT_OK);
	run_until(t, until);
}

static void send_and_receive(struct tnet *t)
{
	static const uint8_t hello[] = "hello over tcp";
	assert_int_equal(agent_send(t->n[1].ag, t->now, "bob", hello, sizeof(hello)), AGENT_OK);
	run_until(t, t->now + S);
	assert_true(logged(&t->n[2], AGENT_EV_DATA_RECEIVED, ""));
}

/* ---- framing ---- */

static size_t two_messages(uint8_t *out, size_t cap)
{
	uint8_t txid[STUN_TXID_SIZE] = {1, 2, 3};
	struct stun_writer w;
	stun_writer_init(&w, out, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, "alice");
	int a = stun_writer_finish(&w);
	stun_writer_init(&w, out + a, cap - (size_t)a, STUN_METHOD_CONNECT, STUN_CLASS_REQUEST,
			 txid);
	stun_put_fingerprint(&w);
	int b = stun_writer_finish(&w);
	assert_true(a > 0 && b > 0);
	return (size_t)a + (size_t)b;
}

/* Feeds `len` bytes in pieces of `step` (0: random sizes); returns the
 * messages, concatenated, in out. */
static size_t feed(struct p2p_stream *s, const uint8_t *in, size_t len, size_t step, uint8_t *out,
		   size_t *n_msgs)
{
	uint64_t r = 7;
	size_t got = 0;
	*n_msgs = 0;
	while (len > 0) {
		uint8_t b;
		fill(&r, &b, 1);
		size_t piece = step ? step : 1 + (size_t)(b % 13);
		piece = piece > len ? len : piece;
		const uint8_t *p = in;
		size_t left = piece, n;
		const uint8_t *msg;
		enum p2p_stream_result res;
		while ((res = p2p_stream_next(s, &p, &left, &msg, &n)) == P2P_STREAM_MESSAGE) {
			memcpy(out + got, msg, n);
			got += n;
			++*n_msgs;
		}
		assert_int_equal(res, P2P_STREAM_NEED_MORE);
		assert_int_equal(left, 0);
		in += piece;
		len -= piece;
	}
	return got;
}

static void test_stun_framing_any_split(void **state)
{
	(void)state;
	uint8_t msgs[512], out[512];
	size_t len = two_messages(msgs, sizeof(msgs)), n;
	for (size_t step = 0; step <= len; step++) {
		struct p2p_stream s;
		p2p_stream_init(&s, P2P_FRAMING_STUN);
		assert_int_equal(feed(&s, msgs, len, step, out, &n), len);
		assert_int_equal(n, 2);
		assert_memory_equal(out, msgs, len);
	}
}

static void test_rfc4571_framing_any_split(void **state)
{
	(void)state;
	uint8_t msgs[512], framed[600], out[512];
	size_t len = two_messages(msgs, sizeof(msgs)), first = 28, n; /* 20 + "alice" padded */
	size_t f = p2p_stream_frame(P2P_FRAMING_RFC4571, msgs, first, framed, sizeof(framed));
	assert_int_equal(f, first + 2);
	assert_int_equal(framed[0] << 8 | framed[1], first); /* RFC 4571: 16-bit length */
	f += p2p_stream_frame(P2P_FRAMING_RFC4571, msgs + first, len - first, framed + f,
			      sizeof(framed) - f);
	for (size_t step = 0; step <= f; step++) {
		struct p2p_stream s;
		p2p_stream_init(&s, P2P_FRAMING_RFC4571);
		assert_int_equal(feed(&s, framed, f, step, out, &n), len);
		assert_int_equal(n, 2);
		assert_memory_equal(out, msgs, len);
	}
}

static enum p2p_stream_result feed_all(enum p2p_framing fr, const uint8_t *in, size_t len)
{
	struct p2p_stream s;
	const uint8_t *msg;
	size_t n;
	enum p2p_stream_result r;
	p2p_stream_init(&s, fr);
	while ((r = p2p_stream_next(&s, &in, &len, &msg, &n)) == P2P_STREAM_MESSAGE)
		;
	/* broken for good: more bytes do not revive it */
	if (r == P2P_STREAM_GARBAGE) {
		static const uint8_t ok[2] = {0, 0};
		const uint8_t *p = ok;
		size_t l = 2;
		assert_int_equal(p2p_stream_next(&s, &p, &l, &msg, &n), P2P_STREAM_GARBAGE);
	}
	return r;
}

static void test_framing_refuses_garbage(void **state)
{
	(void)state;
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t no_cookie[] = {0, 1, 0, 0, 1, 2, 3, 4};
	static const uint8_t odd_len[] = {0, 1, 0, 3, 0x21, 0x12, 0xA4, 0x42};
	static const uint8_t huge[] = {0, 1, 0xFF, 0xFC, 0x21, 0x12, 0xA4, 0x42};
	static const uint8_t empty_frame[] = {0, 0};
	static const uint8_t big_frame[] = {0xFF, 0xFF};
	assert_int_equal(feed_all(P2P_FRAMING_STUN, http, sizeof(http)), P2P_STREAM_GARBAGE);
	assert_int_equal(feed_all(P2P_FRAMING_STUN, no_cookie, 5), P2P_STREAM_GARBAGE);
	assert_int_equal(feed_all(P2P_FRAMING_STUN, odd_len, 8), P2P_STREAM_GARBAGE);
	assert_int_equal(feed_all(P2P_FRAMING_STUN, huge, 8), P2P_STREAM_GARBAGE);
	assert_int_equal(feed_all(P2P_FRAMING_RFC4571, empty_frame, 2), P2P_STREAM_GARBAGE);
	assert_int_equal(feed_all(P2P_FRAMING_RFC4571, big_frame, 2), P2P_STREAM_GARBAGE);
	assert_int_equal(feed_all(P2P_FRAMING_STUN, odd_len, 3), P2P_STREAM_NEED_MORE);
}

/* ---- the coordinator and the agents over TCP ---- */

static void test_register_over_tcp(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);
	struct p2p_endpoint seen, mine;
	char want[P2P_ENDPOINT_STRLEN];

	assert_int_equal(agent_register(t->n[1].ag, 0), AGENT_OK);
	run_until(t, S);
	/* The coordinator's answer: the connection's remote end, our TCP mapping. */
	assert_true(coord_lookup(t->coord, "alice", &seen));
	assert_true(seen.ip == t->n[1].nat.ip && seen.port == 61000);
	assert_true(agent_public_endpoint(t->n[1].ag, &mine));
	assert_true(p2p_endpoint_equal(&mine, &seen));
	p2p_endpoint_format(&seen, want, sizeof(want));
	assert_true(logged(&t->n[1], AGENT_EV_REGISTERED, want));
	assert_true(t->n[1].listening);
	net_free(t);
}

static void test_introduction_carries_tcp_candidates(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);
	struct stun_msg m;
	uint8_t transport = 0;
	bool host = false, srflx = false;

	register_and_connect(t, S + 100 * MS);
	assert_true(t->last_introduce_len > 0);
	assert_int_equal(stun_decode(t->last_introduce, t->last_introduce_len, false, &m), STUN_OK);
	const struct stun_attr *tr = stun_find(&m, STUN_ATTR_NATSIM_TRANSPORT);
	assert_non_null(tr);
	transport = tr->value[0];
	assert_int_equal(transport, COORD_TRANSPORT_TCP);
	for (size_t i = 0; i < m.n_attrs; i++) {
		struct coord_candidate c;
		if (m.attrs[i].type != STUN_ATTR_NATSIM_CANDIDATE)
			continue;
		assert_int_equal(coord_parse_candidate(&m, &m.attrs[i], &c), STUN_OK);
		host |= c.type == COORD_CAND_HOST && c.ep.port == 40000;
		srflx |= c.type == COORD_CAND_SRFLX && c.ep.port == 61000;
	}
	assert_true(host && srflx);
	net_free(t);
}

static void test_direct_by_simultaneous_open(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);

	register_and_connect(t, 4 * S);
	assert_int_equal(agent_peer_state(t->n[1].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(t->n[2].ag, "alice"), AGENT_PEER_DIRECT);
	assert_true(logged(&t->n[1], AGENT_EV_DIRECT, "over TCP via simultaneous open"));
	assert_true(logged(&t->n[2], AGENT_EV_DIRECT, "over TCP via simultaneous open"));
	size_t before = t->peer_bytes;
	send_and_receive(t);
	assert_true(t->peer_bytes > before); /* DATA went down the punched connection */
	assert_int_equal(t->relayed, 0);
	net_free(t);
}

/* Bob's NAT answers a stray SYN with an RST, and alice's SYN arrives before
 * bob hears of her: refused, tried again; meanwhile bob's SYN comes through
 * the hole alice's made, to her listener. */
static void test_refused_connect_then_accepted(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, true, false);
	t->n[1].coord_latency = 10 * MS;
	t->n[2].coord_latency = 200 * MS;

	register_and_connect(t, 4 * S);
	assert_true(logged(&t->n[1], AGENT_EV_LOG, "refused (an RST answered the SYN)"));
	assert_int_equal(agent_peer_state(t->n[1].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(t->n[2].ag, "alice"), AGENT_PEER_DIRECT);
	assert_true(logged(&t->n[1], AGENT_EV_DIRECT, "accepted"));
	send_and_receive(t);
	assert_int_equal(t->relayed, 0);
	net_free(t);
}

static void test_symmetric_nats_relayed(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_SYMMETRIC, NAT_SYMMETRIC, false, false);

	register_and_connect(t, 10 * S);
	assert_true(logged(&t->n[1], AGENT_EV_LOG, "timed out"));
	assert_int_equal(agent_peer_state(t->n[1].ag, "bob"), AGENT_PEER_RELAYED);
	assert_int_equal(agent_peer_state(t->n[2].ag, "alice"), AGENT_PEER_RELAYED);
	send_and_receive(t);
	assert_true(t->relayed > 0);
	net_free(t);
}

static void test_refused_everywhere_without_relay_fails(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_SYMMETRIC, NAT_SYMMETRIC, true, true);

	register_and_connect(t, 10 * S);
	assert_true(logged(&t->n[1], AGENT_EV_LOG, "refused"));
	assert_true(logged(&t->n[2], AGENT_EV_LOG, "timed out"));
	assert_int_equal(agent_peer_state(t->n[1].ag, "bob"), AGENT_PEER_FAILED);
	assert_true(logged(&t->n[1], AGENT_EV_FAILED, "bob"));
	net_free(t);
}

/* The coordinator's connection from alice: slot in node 0's table. */
static uint32_t coord_conn_of(struct tnet *t, int node)
{
	for (size_t i = 0; i < MAXC; i++)
		if (t->n[0].c[i].used && t->n[0].c[i].peer_node == node)
			return t->n[0].c[i].id;
	fail_msg("no connection");
	return 0;
}

static void test_garbage_to_coordinator_closes(void **state)
{
	(void)state;
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);

	assert_int_equal(agent_register(t->n[1].ag, 0), AGENT_OK);
	run_until(t, S);
	assert_true(coord_lookup(t->coord, "alice", NULL));
	uint32_t id = coord_conn_of(t, 1);
	assert_int_equal(coord_tcp_input(t->coord, t->now, id, http, sizeof(http) - 1),
			 COORD_ERR_MALFORMED);
	assert_int_equal(coord_tcp_input(t->coord, t->now, id, http, 4), COORD_ERR_INVALID);
	assert_false(coord_lookup(t->coord, "alice", NULL)); /* nothing reaches her now */
	run_until(t, 2 * S);
	assert_true(logged(&t->n[1], AGENT_EV_FAILED, "closed by the other end"));
	run_until(t, 13 * S); /* she registers again, on a new connection */
	assert_true(coord_lookup(t->coord, "alice", NULL));
	net_free(t);
}

/* RFC 8489 6.2.2: no REGISTER is sent again over TCP; a refused connection
 * to the coordinator says at once that it is not there, and the agent tries
 * again later on a new one. */
static void test_coordinator_refused_then_back(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);

	t->coord_down = true;
	assert_int_equal(agent_register(t->n[1].ag, 0), AGENT_OK);
	run_until(t, S);
	assert_true(logged(&t->n[1], AGENT_EV_FAILED, "refused (an RST answered the SYN)"));
	t->coord_down = false;
	run_until(t, 12 * S);
	assert_true(logged(&t->n[1], AGENT_EV_REGISTERED, "203.0.113.7:"));
	assert_int_equal(coord_counters(t->coord)->refreshed, 0); /* one REGISTER, not resent */
	net_free(t);
}

static void test_garbage_on_the_path_closes_it(void **state)
{
	(void)state;
	static const uint8_t junk[] = {0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF};
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);
	struct p2p_tcp_action x;

	register_and_connect(t, 4 * S);
	assert_int_equal(agent_peer_state(t->n[2].ag, "alice"), AGENT_PEER_DIRECT);
	uint32_t path = 0;
	for (size_t i = 0; i < MAXC; i++)
		if (t->n[2].c[i].used && t->n[2].c[i].open && t->n[2].c[i].peer_node == 1)
			path = t->n[2].c[i].id;
	assert_true(path != 0);
	assert_int_equal(agent_tcp_input(t->n[2].ag, t->now, path, junk, sizeof(junk)),
			 AGENT_ERR_MALFORMED);
	assert_true(agent_pop_tcp(t->n[2].ag, &x));
	assert_int_equal(x.type, P2P_TCP_CLOSE);
	assert_int_equal(x.conn, path);
	agent_action(t, 2, &x);
	run_until(t, 10 * S);
	assert_true(logged(&t->n[2], AGENT_EV_LOG, "not RFC 4571"));
	assert_true(logged(&t->n[2], AGENT_EV_PATH_LOST, "bytes that are not messages"));
	assert_true(logged(&t->n[1], AGENT_EV_PATH_LOST, "closed by the other end"));
	/* introduced again, and a new connection punched */
	assert_int_equal(agent_peer_state(t->n[1].ag, "bob"), AGENT_PEER_DIRECT);
	send_and_receive(t);
	net_free(t);
}

/* The UDP calls refuse a TCP agent, and the TCP ones give a UDP agent nothing. */
static void test_transports_kept_apart(void **state)
{
	(void)state;
	struct tnet *t = net_new(NAT_CONE, NAT_CONE, false, false);
	uint8_t seed[32] = {9}, b[4] = {0};
	uint64_t r = 1;
	struct agent_config uc = {.name = "carol",
				  .local = {.ip = 0x0A000002u, .port = 5000},
				  .coordinator = COORD_EP,
				  .key_seed = seed,
				  .random = {fill, &r}};
	struct agent *udp = agent_new(&uc);
	struct p2p_tcp_action x;
	struct p2p_datagram d;

	assert_int_equal(agent_input(t->n[1].ag, 0, &COORD_EP, b, 4), AGENT_ERR_INVALID);
	assert_int_equal(agent_classify(t->n[1].ag, 0), AGENT_ERR_INVALID);
	assert_int_equal(agent_register(t->n[1].ag, 0), AGENT_OK);
	assert_false(agent_pop_datagram(t->n[1].ag, &d));
	assert_int_equal(agent_register(udp, 0), AGENT_OK);
	assert_false(agent_pop_tcp(udp, &x));
	assert_true(agent_pop_datagram(udp, &d));
	assert_null(
	    stun_decode(d.buf, d.len, false, &(struct stun_msg){0}) == STUN_OK ? NULL : "not STUN");
	assert_int_equal(agent_tcp_input(udp, 0, 1, b, 4), AGENT_ERR_INVALID);
	agent_free(udp);
	net_free(t);
}

/* A UDP registration signs the bytes it always did; a TCP one also signs its
 * transport, and the coordinator takes it only over TCP. */
static void test_registration_signs_its_transport(void **state)
{
	(void)state;
	struct coord_registration r = {.name = "alice", .timestamp_ns = 5, .n_candidates = 1};
	uint8_t udp[COORD_REG_BYTES_MAX], tcp[COORD_REG_BYTES_MAX];
	size_t nu = coord_registration_bytes(&r, udp);
	assert_int_equal(nu, 18 + 1 + 5 + 64 + 8 + 1 + 7);
	r.transport = COORD_TRANSPORT_TCP;
	size_t nt = coord_registration_bytes(&r, tcp);
	assert_int_equal(nt, nu + 1);
	assert_memory_equal(udp, tcp, nu);
	assert_int_equal(tcp[nu], 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stun_framing_any_split),
	    cmocka_unit_test(test_rfc4571_framing_any_split),
	    cmocka_unit_test(test_framing_refuses_garbage),
	    cmocka_unit_test(test_register_over_tcp),
	    cmocka_unit_test(test_introduction_carries_tcp_candidates),
	    cmocka_unit_test(test_direct_by_simultaneous_open),
	    cmocka_unit_test(test_refused_connect_then_accepted),
	    cmocka_unit_test(test_symmetric_nats_relayed),
	    cmocka_unit_test(test_refused_everywhere_without_relay_fails),
	    cmocka_unit_test(test_garbage_to_coordinator_closes),
	    cmocka_unit_test(test_coordinator_refused_then_back),
	    cmocka_unit_test(test_garbage_on_the_path_closes_it),
	    cmocka_unit_test(test_transports_kept_apart),
	    cmocka_unit_test(test_registration_signs_its_transport),
	};
	if (getenv("NATSIM_TEST_FILTER"))
		cmocka_set_test_filter(getenv("NATSIM_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
