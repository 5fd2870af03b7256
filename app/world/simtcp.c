/*
 * simtcp.c - one p2p object's TCP connections on a simulated host. See
 * simtcp.h for the contract.
 *
 * Each connection the object names is a struct stconn, allocated on its own
 * so that the pointer the stack calls back with stays valid while the table
 * grows. An entry lives until the object has been told the connection is
 * over (or has closed it itself); the socket goes back to the stack then.
 */
#include "app/world/simtcp.h"

#include <errno.h>
#include <stdlib.h>

#include "model/net.h"

struct stconn {
	struct simtcp *t;
	uint32_t id;
	struct host_tcp *s;
	engine_event_id ev; /* a connect the stack refused at once, reported here */
};

struct simtcp {
	struct host *host;
	const struct simtcp_ops *ops;
	void *obj, *ctx;
	struct stconn **conns;
	size_t n, cap;
	struct host_tcp **listeners;
	size_t n_listeners;
};

static struct engine *engine_of(const struct simtcp *t)
{
	return net_engine(host_node(t->host)->net);
}

static uint64_t now_of(const struct simtcp *t)
{
	return (uint64_t)engine_now(engine_of(t));
}

static struct p2p_endpoint to_p2p(struct endpoint ep)
{
	return (struct p2p_endpoint){.ip = ep.ip, .port = ep.port};
}

enum p2p_tcp_close simtcp_close_reason(int err)
{
	switch (err) {
	case 0:
		return P2P_TCP_CLOSED_BY_PEER;
	case ECONNREFUSED:
		return P2P_TCP_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return P2P_TCP_RESET;
	case ETIMEDOUT:
		return P2P_TCP_TIMED_OUT;
	default: /* EHOSTUNREACH, ENETUNREACH, EPROTO, ...: an ICMP error */
		return P2P_TCP_UNREACHABLE;
	}
}

struct simtcp *simtcp_new(struct host *h, const struct simtcp_ops *ops, void *obj, void *ctx)
{
	struct simtcp *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->host = h;
	t->ops = ops;
	t->obj = obj;
	t->ctx = ctx;
	return t;
}

/* ---- the table ---- */

static struct stconn *conn_new(struct simtcp *t, uint32_t id)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 8;
		struct stconn **nc = realloc(t->conns, ncap * sizeof(*nc));
		if (!nc)
			return NULL;
		t->conns = nc;
		t->cap = ncap;
	}
	struct stconn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->t = t;
	c->id = id;
	t->conns[t->n++] = c;
	return c;
}

static struct stconn *conn_find(const struct simtcp *t, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->conns[i]->id == id)
			return t->conns[i];
	return NULL;
}

/* Forgets the entry; the socket, if any, is closed (FIN) and the stack's. */
static void conn_drop(struct simtcp *t, struct stconn *c)
{
	if (c->s)
		host_tcp_close(c->s);
	if (c->ev)
		engine_cancel(engine_of(t), c->ev);
	for (size_t i = 0; i < t->n; i++)
		if (t->conns[i] == c) {
			t->conns[i] = t->conns[--t->n]; /* order is never looked at */
			break;
		}
	free(c);
}

void simtcp_close_all(struct simtcp *t)
{
	if (!t)
		return;
	while (t->n > 0)
		conn_drop(t, t->conns[t->n - 1]);
	for (size_t i = 0; i < t->n_listeners; i++)
		host_tcp_close(t->listeners[i]);
	t->n_listeners = 0;
}

void simtcp_free(struct simtcp *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->conns[i]->ev)
			engine_cancel(engine_of(t), t->conns[i]->ev);
		if (t->conns[i]->s)
			host_tcp_set_fn(t->conns[i]->s, NULL, NULL);
		free(t->conns[i]);
	}
	free(t->conns);
	free(t->listeners);
	free(t);
}

/* ---- what the stack reports ---- */

/* The object hears that c is over, and c is forgotten. */
static void report_closed(struct stconn *c, enum p2p_tcp_close why)
{
	struct simtcp *t = c->t;
	uint32_t id = c->id;
	conn_drop(t, c);
	t->ops->closed(t->obj, now_of(t), id, why);
	t->ops->flush(t->ctx);
}

static void conn_event(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct stconn *c = ctx;
	struct simtcp *t = c->t;
	struct p2p_endpoint local = to_p2p(host_tcp_local(s));
	struct p2p_endpoint remote = to_p2p(host_tcp_remote(s));

	switch (ev->kind) {
	case HOST_TCP_CONNECTED:
		if (t->ops->connected)
			t->ops->connected(t->obj, now_of(t), c->id, &local, &remote,
					  ev->simultaneous);
		break;
	case HOST_TCP_DATA:
		t->ops->input(t->obj, now_of(t), c->id, ev->data, ev->len);
		break;
	case HOST_TCP_PEER_CLOSED: /* the object closes its side at once */
		report_closed(c, P2P_TCP_CLOSED_BY_PEER);
		return;
	case HOST_TCP_CLOSED:
		report_closed(c, simtcp_close_reason(ev->error));
		return;
	}
	t->ops->flush(t->ctx);
}

static void refused_now(struct engine *e, void *arg)
{
	struct stconn *c = arg;
	(void)e;
	c->ev = 0;
	report_closed(c, P2P_TCP_UNREACHABLE);
}

static void accepted(struct host_tcp *listener, struct host_tcp *s, void *ctx)
{
	struct simtcp *t = ctx;
	struct p2p_endpoint local = to_p2p(host_tcp_local(s));
	struct p2p_endpoint remote = to_p2p(host_tcp_remote(s));
	(void)listener;

	uint32_t id = t->ops->accepted(t->obj, now_of(t), &local, &remote);
	struct stconn *c = id ? conn_new(t, id) : NULL;
	if (!c) {
		host_tcp_close(s);
	} else {
		c->s = s;
		host_tcp_set_fn(s, conn_event, c);
	}
	t->ops->flush(t->ctx);
}

/* ---- what the object asks ---- */

int simtcp_listen(struct simtcp *t, uint32_t ip, uint16_t port)
{
	struct host_tcp **nl = realloc(t->listeners, (t->n_listeners + 1) * sizeof(*nl));
	if (!nl)
		return -1;
	t->listeners = nl;
	struct host_tcp *l = host_tcp_listen(t->host, ip, port, true, accepted, t);
	if (!l)
		return -1;
	t->listeners[t->n_listeners++] = l;
	return 0;
}

static int do_connect(struct simtcp *t, const struct p2p_tcp_action *a)
{
	struct stconn *c = conn_new(t, a->conn);
	if (!c)
		return -1;
	struct endpoint local = {a->local.ip, a->local.port};
	struct endpoint remote = {a->remote.ip, a->remote.port};
	c->s = host_tcp_connect(t->host, &local, &remote, true, conn_event, c);
	if (!c->s) /* connect(2) failed at once: EADDRINUSE, EADDRNOTAVAIL */
		c->ev = engine_schedule_at(engine_of(t), engine_now(engine_of(t)), refused_now, c);
	return 0;
}

int simtcp_do(struct simtcp *t, const struct p2p_tcp_action *a)
{
	struct stconn *c;

	switch (a->type) {
	case P2P_TCP_LISTEN:
		return simtcp_listen(t, a->local.ip, a->local.port);
	case P2P_TCP_CONNECT:
		return do_connect(t, a);
	case P2P_TCP_SEND:
		c = conn_find(t, a->conn);
		if (!c || !c->s)
			return -1;
		/* A short write (a full send buffer) loses the rest of the frame; the
		 * p2p messages are a few hundred bytes, far below tcp_config's buffer. */
		return host_tcp_send(c->s, a->buf, a->len) == a->len ? 0 : -1;
	case P2P_TCP_CLOSE:
		c = conn_find(t, a->conn);
		if (!c)
			return -1;
		conn_drop(t, c);
		return 0;
	}
	return -1;
}
