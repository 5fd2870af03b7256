/*
 * agent_tcp.c - the agent over TCP (agent.h "TCP").
 *
 * The protocol is the one agent.c and agent_checks.c speak over UDP: they
 * write messages "to" an endpoint and read messages "from" one. This file
 * turns endpoints into connections and back. A message for the coordinator
 * goes down the connection to it, framed as RFC 8489 6.2.2 sends STUN over
 * TCP; a message for a peer's endpoint goes down the connection with that
 * remote end, framed by RFC 4571 as RFC 6544 does; a message arriving on a
 * connection comes "from" its remote end. Every connection leaves from
 * config.local: the port the coordinator saw is the one each punch uses.
 *
 * What is TCP's own is here: which connections to open (the coordinator,
 * then every TCP candidate of an introduced peer at once, each SYN opening
 * our NAT for the other's: RFC 5128 3.4), trying a refused one again, closing
 * those the nomination did not choose, and what a closed connection means
 * (the coordinator gone, the path lost).
 *
 * Connections are numbered from 1 and a number is never reused, so a late
 * report about an old connection cannot be taken for a new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"

#define HELD_MAX 32 /* messages waiting for their connection to open */

enum tconn_state {
	TC_FREE = 0,
	TC_CONNECTING, /* CONNECT asked, no report yet */
	TC_OPEN,
	TC_RETRY, /* the connect failed: again at retry_ns (P2P_NO_DEADLINE: given up) */
};

enum tconn_kind {
	TK_COORD,    /* ours, to the coordinator */
	TK_PUNCH,    /* ours, to a peer's candidate */
	TK_ACCEPTED, /* the listener's: the other's SYN reached us */
};

struct tconn {
	uint32_t id;
	enum tconn_state state;
	enum tconn_kind kind;
	bool simultaneous; /* the stack saw the SYNs cross */
	unsigned tries;
	uint64_t retry_ns;
	struct p2p_endpoint remote;
	struct p2p_stream rx;
};

struct agent_tcp {
	struct tconn *c;
	size_t n;
	uint32_t next_id;
	bool listening;
	struct ring aq;	  /* struct p2p_tcp_action: for the driver */
	struct ring held; /* struct p2p_datagram: waiting for a connection to open */
};

struct agent_tcp *agent_tcp_new(void)
{
	return calloc(1, sizeof(struct agent_tcp));
}

void agent_tcp_free(struct agent_tcp *t)
{
	if (t == NULL)
		return;
	free(t->c);
	ring_fini(&t->aq);
	ring_fini(&t->held);
	free(t);
}

/* ---- the connection table ---- */

static struct tconn *by_id(const struct agent_tcp *t, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->c[i].state != TC_FREE && t->c[i].id == id)
			return &t->c[i];
	return NULL;
}

/* The connection with that remote end, an open one first. */
static struct tconn *by_remote(const struct agent_tcp *t, const struct p2p_endpoint *ep)
{
	struct tconn *found = NULL;
	for (size_t i = 0; i < t->n; i++) {
		struct tconn *k = &t->c[i];
		if (k->state == TC_FREE || !p2p_endpoint_equal(&k->remote, ep))
			continue;
		if (k->state == TC_OPEN)
			return k;
		found = found ? found : k;
	}
	return found;
}

static struct tconn *conn_add(struct agent_tcp *t, enum tconn_kind kind,
			      const struct p2p_endpoint *remote)
{
	struct tconn *k = NULL;
	for (size_t i = 0; i < t->n && k == NULL; i++)
		if (t->c[i].state == TC_FREE)
			k = &t->c[i];
	if (k == NULL) {
		struct tconn *nc = realloc(t->c, (t->n + 1) * sizeof(*nc));
		if (nc == NULL)
			return NULL;
		t->c = nc;
		k = &t->c[t->n++];
	}
	memset(k, 0, sizeof(*k));
	k->id = ++t->next_id;
	k->kind = kind;
	k->remote = *remote;
	k->state = TC_OPEN; /* the caller says otherwise */
	p2p_stream_init(&k->rx, kind == TK_COORD ? P2P_FRAMING_STUN : P2P_FRAMING_RFC4571);
	return k;
}

/* ---- actions for the driver ---- */

static struct p2p_tcp_action *act(struct agent *a, enum p2p_tcp_action_type type, uint32_t conn)
{
	struct p2p_tcp_action *x = ring_push(&a->tcp->aq, sizeof(*x), NULL);
	if (x == NULL)
		return NULL;
	x->type = type;
	x->conn = conn;
	x->local = a->cfg.local;
	x->remote = (struct p2p_endpoint){.ip = 0, .port = 0};
	x->len = 0;
	return x;
}

/* A CONNECT from config.local, after the listener on it is asked for: the
 * listening socket must hold the port before the connecting ones share it. */
static void open_conn(struct agent *a, struct tconn *k)
{
	if (!a->tcp->listening && act(a, P2P_TCP_LISTEN, 0) != NULL)
		a->tcp->listening = true;
	struct p2p_tcp_action *x = act(a, P2P_TCP_CONNECT, k->id);
	if (x != NULL)
		x->remote = k->remote;
	k->state = TC_CONNECTING;
	k->tries++;
}

static void drop_held(struct agent *a, const struct p2p_endpoint *to, bool send)
{
	struct agent_tcp *t = a->tcp;
	size_t n = t->held.len;

	for (size_t i = 0; i < n; i++) {
		struct p2p_datagram d =
		    *(const struct p2p_datagram *)ring_front(&t->held, sizeof(d));
		ring_pop_front(&t->held, NULL);
		if (!p2p_endpoint_equal(&d.to, to)) {
			struct p2p_datagram *back = ring_push(&t->held, sizeof(d), NULL);
			if (back != NULL)
				*back = d;
		} else if (send) {
			struct tconn *k = by_remote(t, to);
			struct p2p_tcp_action *x = k ? act(a, P2P_TCP_SEND, k->id) : NULL;
			if (x != NULL) {
				x->remote = *to;
				x->len = p2p_stream_frame(k->rx.framing, d.buf, d.len, x->buf,
							  sizeof(x->buf));
			}
		}
	}
}

static void close_conn(struct agent *a, struct tconn *k)
{
	if (k->state == TC_OPEN || k->state == TC_CONNECTING)
		act(a, P2P_TCP_CLOSE, k->id);
	k->state = TC_FREE;
	if (by_remote(a->tcp, &k->remote) == NULL)
		drop_held(a, &k->remote, false);
}

/* Every message the protocol wrote goes down its connection; one for the
 * coordinator opens the connection to it if there is none. A message for a
 * connection still opening waits for it; one for a peer's endpoint with no
 * connection is dropped, as a datagram the network lost (the checks try
 * again, and each connection that opens triggers them). */
static void route(struct agent *a)
{
	struct agent_tcp *t = a->tcp;
	const struct p2p_datagram *d;

	while ((d = ring_front(&a->dq, sizeof(*d))) != NULL) {
		struct tconn *k = by_remote(t, &d->to);
		bool coord = p2p_endpoint_equal(&d->to, &a->cfg.coordinator);
		if (coord && (k == NULL || k->state == TC_RETRY)) {
			if (k == NULL)
				k = conn_add(t, TK_COORD, &d->to);
			if (k != NULL)
				open_conn(a, k);
		}
		if (k != NULL && k->state == TC_OPEN) {
			struct p2p_tcp_action *x = act(a, P2P_TCP_SEND, k->id);
			if (x != NULL) {
				x->remote = k->remote;
				x->len = p2p_stream_frame(k->rx.framing, d->buf, d->len, x->buf,
							  sizeof(x->buf));
			}
		} else if (k != NULL && k->state == TC_CONNECTING) {
			if (t->held.len >= HELD_MAX)
				ring_pop_front(&t->held,
					       NULL); /* the oldest: a retransmission follows */
			struct p2p_datagram *h = ring_push(&t->held, sizeof(*h), NULL);
			if (h != NULL)
				*h = *d;
		}
		ring_pop_front(&a->dq, NULL);
	}
}

bool agent_pop_tcp(struct agent *a, struct p2p_tcp_action *out)
{
	if (a->tcp == NULL)
		return false;
	route(a);
	const struct p2p_tcp_action *x = ring_front(&a->tcp->aq, sizeof(*x));
	if (x == NULL)
		return false;
	out->type = x->type;
	out->conn = x->conn;
	out->local = x->local;
	out->remote = x->remote;
	out->len = x->len;
	memcpy(out->buf, x->buf, x->len);
	ring_pop_front(&a->tcp->aq, NULL);
	return true;
}

/* ---- punching: which connections to open and keep ---- */

/* Whether the chosen pair of a direct peer runs over k. */
static struct agent_peer *path_over(const struct agent *a, const struct tconn *k)
{
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		if (p->state == AGENT_PEER_DIRECT && p->selected >= 0 &&
		    p2p_packed_equal(&p->addrs6, &p->pairs[p->selected].remote, &k->remote))
			return p;
	}
	return NULL;
}

/* While punching, before the deadline: a connection to every TCP candidate
 * (host and server-reflexive: a peer-reflexive one was learned from a
 * connection already open), opened at once, a failed one again at its
 * retry time. */
static void punch(struct agent *a, struct agent_peer *p, uint64_t now)
{
	for (size_t i = 0; i < p->n_pairs; i++) {
		const struct coord_candidate c = pair_candidate(p, &p->pairs[i]);
		struct tconn *k = by_remote(a->tcp, &c.ep);
		if (c.type == COORD_CAND_PRFLX)
			continue;
		if (now >= p->punch_deadline_ns) { /* no new connects after it */
			if (k != NULL && k->state == TC_RETRY)
				k->retry_ns = P2P_NO_DEADLINE;
			continue;
		}
		if (k == NULL && (k = conn_add(a->tcp, TK_PUNCH, &c.ep)) != NULL)
			open_conn(a, k);
		else if (k != NULL && k->state == TC_RETRY && now >= k->retry_ns)
			open_conn(a, k);
	}
}

/* Once the peer no longer punches: direct, the connections the nomination
 * did not choose close (RFC 8445 8.3: the other pairs stop); otherwise the
 * connects still pending stop and failed ones are forgotten (a new
 * introduction starts afresh). Open ones stay while relayed: a check that
 * gets through on one can still upgrade the path. */
static void settle(struct agent *a, struct agent_peer *p)
{
	bool direct = p->state == AGENT_PEER_DIRECT && p->selected >= 0;
	const struct p2p_endpoint path =
	    direct ? pair_remote(p, &p->pairs[p->selected]) : (struct p2p_endpoint){.ip = 0};
	const struct p2p_endpoint *chosen = direct ? &path : NULL;
	for (size_t i = 0; i < p->n_pairs; i++) {
		const struct p2p_endpoint remote = pair_remote(p, &p->pairs[i]);
		struct tconn *k = by_remote(a->tcp, &remote);
		if (k == NULL || k->kind == TK_COORD ||
		    (chosen && p2p_endpoint_equal(chosen, &k->remote)))
			continue;
		if (chosen != NULL || k->state != TC_OPEN)
			close_conn(a, k);
	}
}

static void sync_peers(struct agent *a, uint64_t now)
{
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		if (p->state == AGENT_PEER_PUNCHING)
			punch(a, p, now);
		else if (p->introduced)
			settle(a, p);
	}
}

void agent_tcp_tick(struct agent *a, uint64_t now)
{
	sync_peers(a, now);
	/* A retry still due now serves no pair of a punching peer (a new
	 * introduction replaced the candidates): forget it, or its deadline
	 * would stay in the past. */
	for (size_t i = 0; i < a->tcp->n; i++)
		if (a->tcp->c[i].state == TC_RETRY && a->tcp->c[i].retry_ns <= now)
			a->tcp->c[i].state = TC_FREE;
}

uint64_t agent_tcp_deadline(const struct agent *a)
{
	uint64_t t = P2P_NO_DEADLINE;
	for (size_t i = 0; i < a->tcp->n; i++)
		if (a->tcp->c[i].state == TC_RETRY && a->tcp->c[i].retry_ns < t)
			t = a->tcp->c[i].retry_ns;
	return t;
}

/* The words for a direct path over the connection to `remote`. */
const char *agent_tcp_path_words(const struct agent *a, const struct p2p_endpoint *remote)
{
	const struct tconn *k = by_remote(a->tcp, remote);
	if (k == NULL)
		return "over TCP";
	if (k->kind == TK_ACCEPTED)
		return "over TCP via its connect, which our listener accepted";
	return k->simultaneous ? "over TCP via simultaneous open" : "over TCP via our connect";
}

/* ---- what the driver reports ---- */

/* The checks on the pairs this connection serves, now that it carries them
 * (RFC 8445 7.3.1.4 triggers a check when the way opens; here the way is
 * the connection). */
static void connection_ready(struct agent *a, struct tconn *k, uint64_t now)
{
	/* A connect of ours to that end waiting to be tried again is moot now
	 * (the other's SYN got through first, to our listener). */
	for (size_t i = 0; i < a->tcp->n; i++)
		if (a->tcp->c[i].state == TC_RETRY &&
		    p2p_endpoint_equal(&a->tcp->c[i].remote, &k->remote))
			a->tcp->c[i].state = TC_FREE;
	drop_held(a, &k->remote, true);
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		int pair = find_pair(p, &k->remote);
		if (pair >= 0 &&
		    (p->state == AGENT_PEER_PUNCHING || p->state == AGENT_PEER_RELAYED))
			check_pair_now(a, p, pair, now);
	}
}

int agent_tcp_connected(struct agent *a, uint64_t now_ns, uint32_t conn,
			const struct p2p_endpoint *local, const struct p2p_endpoint *remote,
			bool simultaneous)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	struct tconn *k = a->tcp ? by_id(a->tcp, conn) : NULL;

	if (k == NULL || k->state != TC_CONNECTING)
		return AGENT_ERR_INVALID;
	k->state = TC_OPEN;
	k->simultaneous = simultaneous;
	if (k->kind == TK_PUNCH)
		emit(a, AGENT_EV_LOG, NULL, "TCP connection %s -> %s open (%s)", fmt_ep(local, l),
		     fmt_ep(remote, r),
		     simultaneous ? "simultaneous open: our SYN and theirs crossed"
				  : "our connect");
	connection_ready(a, k, now_ns);
	sync_peers(a, now_ns);
	return AGENT_OK;
}

uint32_t agent_tcp_accepted(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *local,
			    const struct p2p_endpoint *remote)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	struct tconn *k = a->tcp ? conn_add(a->tcp, TK_ACCEPTED, remote) : NULL;

	if (k == NULL)
		return 0;
	emit(a, AGENT_EV_LOG, NULL,
	     "TCP connection %s -> %s accepted: its SYN reached our listener", fmt_ep(remote, r),
	     fmt_ep(local, l));
	connection_ready(a, k, now_ns);
	sync_peers(a, now_ns);
	return k->id;
}

/* What losing k means: the coordinator, or the chosen path to a peer. */
static void conn_lost(struct agent *a, struct tconn *k, uint64_t now, const char *why)
{
	char text[160];
	struct agent_peer *p = path_over(a, k);

	snprintf(text, sizeof(text), "our TCP connection to it %s", why);
	/* Registered or registering, the coordinator is gone: what a UDP agent
	 * learns only when REGISTER goes unanswered, TCP says at once. */
	if (k->kind == TK_COORD && (a->registered || a->reg_tries > 0))
		registration_lost(a, now, text);
	else if (p != NULL)
		path_closed(a, p, now, why);
}

int agent_tcp_input(struct agent *a, uint64_t now_ns, uint32_t conn, const uint8_t *buf, size_t len)
{
	struct tconn *k = a->tcp ? by_id(a->tcp, conn) : NULL;
	struct p2p_endpoint from;
	const uint8_t *msg;
	size_t n;
	enum p2p_stream_result r;
	struct stun_msg m;

	if (k == NULL || k->state != TC_OPEN)
		return AGENT_ERR_INVALID;
	from = k->remote;
	/* Connections change only in sync_peers and route, after the loop: k stays. */
	while ((r = p2p_stream_next(&k->rx, &buf, &len, &msg, &n)) == P2P_STREAM_MESSAGE) {
		if (stun_decode(msg, n, false, &m) != STUN_OK) {
			r = P2P_STREAM_GARBAGE; /* framed, but not a message: the stream is not ours
						 */
			break;
		}
		input_message(a, now_ns, &from, msg, n);
	}
	if (r == P2P_STREAM_GARBAGE) {
		char ep[P2P_ENDPOINT_STRLEN];
		emit(a, AGENT_EV_LOG, NULL,
		     "closed the TCP connection with %s: its bytes are not %s framed messages",
		     fmt_ep(&from, ep), k->kind == TK_COORD ? "STUN (RFC 8489 6.2.2)" : "RFC 4571");
		struct tconn gone = *k;
		close_conn(a, k);
		conn_lost(a, &gone, now_ns, "carried bytes that are not messages");
	}
	sync_peers(a, now_ns);
	return r == P2P_STREAM_GARBAGE ? AGENT_ERR_MALFORMED : AGENT_OK;
}

/* A connect that failed is tried again while the peer punches (an RST
 * from a NAT that refuses a stray SYN says nothing about the next one, once
 * our own SYN has opened the way: RFC 5128 3.4); an open one that closed
 * is lost. */
void agent_tcp_closed(struct agent *a, uint64_t now_ns, uint32_t conn, enum p2p_tcp_close why)
{
	char r[P2P_ENDPOINT_STRLEN];
	struct tconn *k = a->tcp ? by_id(a->tcp, conn) : NULL;

	if (k == NULL)
		return;
	if (k->state == TC_CONNECTING && k->kind == TK_PUNCH) {
		bool again = k->tries < a->cfg.tcp_connect_tries;
		k->state = TC_RETRY;
		k->retry_ns = again ? now_ns + a->cfg.tcp_retry_ns : P2P_NO_DEADLINE;
		drop_held(a, &k->remote, false);
		emit(a, AGENT_EV_LOG, NULL, "TCP connect to %s %s (try %u of %u)%s",
		     fmt_ep(&k->remote, r), p2p_tcp_close_name(why), k->tries,
		     a->cfg.tcp_connect_tries, again ? "; trying again" : "; giving up on it");
	} else {
		struct tconn gone = *k;
		k->state = TC_FREE;
		drop_held(a, &gone.remote, false);
		conn_lost(a, &gone, now_ns, p2p_tcp_close_name(why));
	}
	sync_peers(a, now_ns);
}
