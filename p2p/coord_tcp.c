/*
 * coord_tcp.c - the coordinator over TCP (see coord.h "TCP").
 *
 * The messages are the ones coord.c handles for datagrams; this file only
 * turns connections into "where a message came from" and back. A message
 * from connection k is handled with c->in_conn = k, so its answer goes down
 * k (coord.c dq_push), and a peer that registers over k is known by k.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_state.h"

static struct coord_conn *conn_of(struct coord *c, uint32_t id)
{
	return id >= 1 && id <= c->n_conns && c->conns[id - 1].open ? &c->conns[id - 1] : NULL;
}

/* A slot neither open nor waiting for its CLOSE to be popped (an id is not
 * reused while an action may still name it). */
static uint32_t conn_alloc(struct coord *c)
{
	for (uint32_t i = 0; i < c->n_conns; i++)
		if (!c->conns[i].open && !c->conns[i].closing)
			return i + 1;
	uint32_t n = c->n_conns ? c->n_conns * 2 : 16;
	struct coord_conn *nc = realloc(c->conns, (size_t)n * sizeof(*nc));
	if (nc == NULL)
		return 0;
	memset(nc + c->n_conns, 0, (size_t)(n - c->n_conns) * sizeof(*nc));
	c->conns = nc;
	uint32_t id = c->n_conns + 1;
	c->n_conns = n;
	return id;
}

uint32_t coord_tcp_accepted(struct coord *c, uint64_t now_ns, const struct p2p_endpoint *local,
			    const struct p2p_endpoint *remote)
{
	(void)now_ns;
	uint32_t id = conn_alloc(c);
	if (id == 0)
		return 0;
	struct coord_conn *k = &c->conns[id - 1];
	k->open = true;
	k->closing = false;
	k->peer = NIL;
	k->local = *local;
	k->remote = *remote;
	p2p_stream_init(&k->rx, P2P_FRAMING_STUN);
	return id;
}

void coord_tcp_bind(struct coord *c, uint32_t i, uint32_t conn)
{
	uint32_t old = c->peers[i].conn;

	if (old >= 1 && old <= c->n_conns && c->conns[old - 1].peer == i)
		c->conns[old - 1].peer = NIL;
	c->peers[i].conn = conn;
	if (conn >= 1 && conn <= c->n_conns)
		c->conns[conn - 1].peer = i;
}

/* The connection is gone (or going): so is the registration made over it,
 * since nothing can reach that peer any more. */
static void conn_end(struct coord *c, uint32_t id, const char *why)
{
	struct coord_conn *k = &c->conns[id - 1];
	char text[160];

	k->open = false;
	if (k->peer != NIL) {
		snprintf(text, sizeof(text), "its TCP connection to the coordinator %s", why);
		coord_forget_peer(c, k->peer, text);
	}
	k->peer = NIL;
}

int coord_tcp_input(struct coord *c, uint64_t now_ns, uint32_t conn, const uint8_t *buf, size_t len)
{
	struct coord_conn *k = conn_of(c, conn);
	const uint8_t *msg;
	size_t msg_len;
	enum p2p_stream_result r;
	size_t total = len;

	if (k == NULL)
		return COORD_ERR_INVALID;
	while ((r = p2p_stream_next(&k->rx, &buf, &len, &msg, &msg_len)) == P2P_STREAM_MESSAGE) {
		/* k stays valid: handlers never open or close connections. */
		c->in_conn = conn;
		coord_dispatch(c, now_ns, &k->local, &k->remote, msg, msg_len);
		c->in_conn = 0;
	}
	if (r == P2P_STREAM_GARBAGE) {
		struct coord_tcp_out *o = ring_push(&c->tq, sizeof(*o), NULL);
		coord_drop_event(
		    c, now_ns, &k->remote, total,
		    "bytes on a TCP connection that are not STUN messages; closing it");
		k->closing = o != NULL;
		if (o != NULL) {
			o->conn = conn;
			o->close = true;
			o->d.len = 0;
		}
		conn_end(c, conn, "carried bytes that are not STUN");
		return COORD_ERR_MALFORMED;
	}
	return COORD_OK;
}

void coord_tcp_closed(struct coord *c, uint64_t now_ns, uint32_t conn, enum p2p_tcp_close why)
{
	(void)now_ns;
	if (conn_of(c, conn) != NULL)
		conn_end(c, conn, p2p_tcp_close_name(why));
}

bool coord_pop_tcp(struct coord *c, struct p2p_tcp_action *out)
{
	const struct coord_tcp_out *o;

	while ((o = ring_front(&c->tq, sizeof(*o))) != NULL) {
		struct coord_conn *k = &c->conns[o->conn - 1];
		bool live = k->open || (k->closing && !o->close);
		if (o->close && k->closing) {
			k->closing = false; /* the id may be reused now */
			memset(out, 0, sizeof(*out) - sizeof(out->buf));
			out->type = P2P_TCP_CLOSE;
			out->conn = o->conn;
			ring_pop_front(&c->tq, NULL);
			return true;
		}
		if (live) {
			out->type = P2P_TCP_SEND;
			out->conn = o->conn;
			out->local = k->local;
			out->remote = k->remote;
			/* RFC 8489 6.2.2: over TCP a STUN message is sent as it is. */
			out->len = p2p_stream_frame(P2P_FRAMING_STUN, o->d.buf, o->d.len, out->buf,
						    sizeof(out->buf));
			ring_pop_front(&c->tq, NULL);
			if (out->len > 0)
				return true;
			continue;
		}
		ring_pop_front(&c->tq, NULL); /* for a connection that has closed since */
	}
	return false;
}
