/*
 * host_tcp.c - the host's TCP sockets (host.h "TCP"): the socket table,
 * the packets, the timers and the application's events around model/tcp.c's
 * state machine.
 *
 * A segment in: the connection whose four-tuple it carries, else a listener
 * on its port (one bound to the exact address before the wildcard, as
 * Linux's __inet_lookup_listener scores), else an RST (RFC 9293 3.10.7.1)
 * and a NO_SOCKET drop that names it. Segments out go through host.c's
 * output path (firewall OUTPUT, conntrack, route, link) like every packet the
 * host sends.
 *
 * The state machine is pure; here it gets an engine timer at its deadline
 * (cancelled and set again when the deadline moves) and its events are put
 * off to an engine event at the same instant, so an application's handler
 * never runs inside a call the application made (host.h). ICMP errors about
 * a connection wait for that event too: an error the host sends itself
 * (a firewall REJECT on OUTPUT) comes back in while the segment it is about
 * is still being sent.
 *
 * A handle is freed only from that event (or by the application's close of
 * an already dead one): once it is CLOSED and no application holds it. After
 * host_tcp_close() the application hears nothing more from the connection
 * (its function is forgotten, as a closed file descriptor is).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "model/host.h"
#include "model/host_layout.h"
#include "sim/rng.h"
#include "sim/trace.h"

struct host_tcp_table {
	struct host_tcp *all;	 /* every handle not yet freed (host_tcp_free_all) */
	struct host_tcp **socks; /* listeners and connections, in creation order */
	size_t n, cap;
	struct tcp_config cfg;
	struct rng rng;	    /* "host:<name>:tcp": the secret, the first ephemeral port */
	uint64_t secret;    /* keys the ISNs and timestamp offsets (net_secret) */
	uint16_t next_port; /* where the next ephemeral search starts */
};

struct host_tcp {
	struct host *host;
	struct host_tcp *next_all, *prev_all;
	bool listener, reuse;
	bool owned;	 /* the application holds the handle */
	bool delivering; /* inside deliver(): a close must not free */
	struct endpoint local, remote;
	host_tcp_accept_fn accept_fn;
	host_tcp_fn fn;
	void *ctx;
	struct host_tcp *parent; /* a passive child's listener, until accepted */
	struct tcp_conn conn;
	/* Events waiting for deliver(), in the order they are told. */
	bool ev_accept, ev_connected, ev_peer_closed, ev_closed;
	int ev_error;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	/* An ICMP error waiting for deliver(). */
	bool icmp_pending;
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_seq;
	uint64_t icmp_id;
	engine_event_id deliver_ev, timer_ev;
	int64_t timer_at;
};

static struct engine *engine_of(const struct host *h)
{
	return net_engine(h->node.net);
}

static int64_t now_of(const struct host *h)
{
	return engine_now(engine_of(h));
}

/* ---- The table ------------------------------------------------------------ */

static struct host_tcp_table *table_of(struct host *h)
{
	char stream[96];

	if (h->tcp != NULL)
		return h->tcp;
	h->tcp = calloc(1, sizeof(*h->tcp));
	if (h->tcp == NULL)
		return NULL;
	tcp_config_default(&h->tcp->cfg);
	snprintf(stream, sizeof(stream), "host:%s:tcp", h->node.name);
	net_rng(h->node.net, stream, &h->tcp->rng);
	h->tcp->secret = rng_next(&h->tcp->rng);
	h->tcp->next_port =
	    (uint16_t)(HOST_EPHEMERAL_LO +
		       rng_below(&h->tcp->rng, HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1));
	return h->tcp;
}

static int table_add(struct host_tcp_table *t, struct host_tcp *s)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4;
		struct host_tcp **v = realloc(t->socks, ncap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->socks = v;
		t->cap = ncap;
	}
	t->socks[t->n++] = s;
	return 0;
}

/* Keeps the order (lookups and the trace must not depend on removals). */
static void table_remove(struct host_tcp_table *t, const struct host_tcp *s)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->socks[i] == s) {
			memmove(&t->socks[i], &t->socks[i + 1], (t->n - i - 1) * sizeof(*t->socks));
			t->n--;
			return;
		}
}

static bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	return a->ip == b->ip && a->port == b->port;
}

/* The connection with this four-tuple, or NULL. */
static struct host_tcp *find_conn(const struct host_tcp_table *t, const struct endpoint *local,
				  const struct endpoint *remote)
{
	for (size_t i = 0; i < t->n; i++) {
		struct host_tcp *s = t->socks[i];

		if (!s->listener && endpoint_eq(&s->local, local) &&
		    endpoint_eq(&s->remote, remote))
			return s;
	}
	return NULL;
}

/* The listener for addr:port: one on exactly that address first. */
static struct host_tcp *find_listener(const struct host_tcp_table *t, uint32_t addr, uint16_t port)
{
	struct host_tcp *wild = NULL;

	for (size_t i = 0; i < t->n; i++) {
		struct host_tcp *s = t->socks[i];

		if (!s->listener || s->local.port != port)
			continue;
		if (s->local.ip == addr)
			return s;
		if (s->local.ip == 0 && wild == NULL)
			wild = s;
	}
	return wild;
}

/* Would a socket at `local` (to `remote`, NULL for a listener) clash?
 * Linux's inet_csk_bind_conflict: the same port on an overlapping address
 * is refused unless both sockets set SO_REUSEADDR/SO_REUSEPORT; even then
 * two connections may not share a four-tuple (__inet_check_established;
 * a TIME-WAIT one included). */
static bool clashes(const struct host_tcp_table *t, const struct endpoint *local,
		    const struct endpoint *remote, bool reuse)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct host_tcp *s = t->socks[i];

		if (s->local.port != local->port ||
		    (s->local.ip != local->ip && s->local.ip != 0 && local->ip != 0))
			continue;
		if (!reuse || !s->reuse)
			return true;
		if (remote != NULL && !s->listener && endpoint_eq(&s->remote, remote))
			return true;
	}
	return false;
}

/* An ephemeral port no TCP socket of the host holds, walking on from a
 * start drawn from the host's stream (as host.c does for UDP; TCP's ports
 * are a table of their own, as in Linux). */
static uint16_t pick_port(struct host_tcp_table *t)
{
	const uint32_t span = HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1;

	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = t->next_port;
		bool used = false;

		t->next_port = port == HOST_EPHEMERAL_HI ? HOST_EPHEMERAL_LO : (uint16_t)(port + 1);
		for (size_t j = 0; j < t->n && !used; j++)
			used = t->socks[j]->local.port == port;
		if (!used)
			return port;
	}
	return 0;
}

/* ---- Trace, timer, events --------------------------------------------------- */

static void emit_socket(const struct host_tcp *s, enum tcp_state from, enum tcp_state to,
			enum tcp_cause cause, uint64_t packet_id, int error)
{
	struct trace *t = net_trace(s->host->node.net);
	struct trace_record r;

	if (!trace_active(t))
		return;
	memset(&r, 0, sizeof(r));
	r.kind = TRACE_SOCKET;
	r.u.sock = (struct trace_socket){.node = s->host->node.name,
					 .proto = IPPROTO_NUM_TCP,
					 .local = s->local,
					 .remote = s->remote,
					 .old_state = (uint8_t)from,
					 .new_state = (uint8_t)to,
					 .cause = (uint8_t)cause,
					 .packet_id = packet_id,
					 .error = error};
	trace_emit(t, &r);
}

static void timer_fired(struct engine *e, void *arg);
static void deliver(struct engine *e, void *arg);

/* Keep one engine event at the machine's deadline. */
static void rearm(struct host_tcp *s)
{
	int64_t at = s->listener ? SIM_TIME_NEVER : tcp_deadline(&s->conn);

	if (at == s->timer_at)
		return;
	engine_cancel(engine_of(s->host), s->timer_ev);
	s->timer_ev = 0;
	s->timer_at = at;
	if (at != SIM_TIME_NEVER)
		s->timer_ev = engine_schedule_at(engine_of(s->host), at, timer_fired, s);
}

static void timer_fired(struct engine *e, void *arg)
{
	struct host_tcp *s = arg;

	s->timer_ev = 0;
	s->timer_at = SIM_TIME_NEVER;
	tcp_timeout(&s->conn, engine_now(e));
	rearm(s);
}

static void want_delivery(struct host_tcp *s)
{
	if (s->deliver_ev == 0)
		s->deliver_ev = engine_schedule_after(engine_of(s->host), 0, deliver, s);
}

static void sock_free(struct host_tcp *s)
{
	struct engine *e = engine_of(s->host);

	engine_cancel(e, s->timer_ev);
	engine_cancel(e, s->deliver_ev);
	table_remove(s->host->tcp, s);
	if (s->prev_all != NULL)
		s->prev_all->next_all = s->next_all;
	else
		s->host->tcp->all = s->next_all;
	if (s->next_all != NULL)
		s->next_all->prev_all = s->prev_all;
	tcp_conn_release(&s->conn);
	free(s->rx);
	free(s);
}

/* ---- The machine's outputs (struct tcp_conn_ops) ------------------------------ */

static uint64_t conn_send(void *ctx, const struct tcp_segment *seg)
{
	struct host_tcp *s = ctx;
	struct host *h = s->host;
	struct net *net = h->node.net;
	size_t cap = IPV4_HEADER_MIN + TCP_HEADER_MAX + seg->payload_len;
	struct packet *p;

	/* A full-sized segment fills the MTU exactly (MSS 1460 less 12 for
	 * the timestamps): a packet buffer holds no more than that. */
	p = packet_alloc(net_packets(net), net_next_packet_id(net),
			 cap < PACKET_MAX_SIZE ? cap : PACKET_MAX_SIZE);
	if (p == NULL)
		return 0;
	p->len = packet_build_tcp(p->data, p->cap, &s->local, &s->remote, PACKET_DEFAULT_TTL,
				  h->ip_id++, seg);
	p->sums_ok = true; /* the builder writes every sum */
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return 0;
	}
	return host_send_built(h, p);
}

static void conn_changed(void *ctx, const struct tcp_change *ch)
{
	struct host_tcp *s = ctx;

	emit_socket(s, ch->from, ch->to, ch->cause, ch->packet_id, ch->error);
	if (ch->to == TCP_ESTABLISHED &&
	    (ch->from == TCP_SYN_SENT || ch->from == TCP_SYN_RECEIVED)) {
		s->ev_connected = true;
		s->ev_accept = s->parent != NULL;
	}
	if (ch->to == TCP_CLOSED) {
		table_remove(s->host->tcp, s);
		s->ev_closed = true;
		s->ev_error = ch->error;
	}
	want_delivery(s);
}

static void conn_data(void *ctx, const uint8_t *data, size_t len)
{
	struct host_tcp *s = ctx;

	if (s->rx_len + len > s->rx_cap) {
		size_t ncap = s->rx_cap ? s->rx_cap : 4096;
		uint8_t *rx;

		while (ncap < s->rx_len + len)
			ncap *= 2;
		rx = realloc(s->rx, ncap);
		if (rx == NULL)
			return; /* out of memory: the bytes are lost to the application */
		s->rx = rx;
		s->rx_cap = ncap;
	}
	memcpy(s->rx + s->rx_len, data, len);
	s->rx_len += len;
	want_delivery(s);
}

static void conn_fin(void *ctx)
{
	struct host_tcp *s = ctx;

	s->ev_peer_closed = true;
	want_delivery(s);
}

static const struct tcp_conn_ops conn_ops = {
    .send = conn_send,
    .changed = conn_changed,
    .data = conn_data,
    .fin = conn_fin,
};

/* ---- Delivery --------------------------------------------------------------- */

static void tell(struct host_tcp *s, enum host_tcp_event_kind kind, const uint8_t *data, size_t len,
		 int error)
{
	struct host_tcp_event ev = {.kind = kind,
				    .data = data,
				    .len = len,
				    .error = error,
				    .simultaneous = s->conn.simultaneous};

	if (s->fn != NULL)
		s->fn(s, &ev, s->ctx);
}

/* A finished handshake goes to the listener's accept function; a listener
 * that is gone (or has none) leaves the child to be reset. */
static void hand_to_listener(struct host_tcp *s)
{
	struct host_tcp *l = s->parent;

	s->ev_accept = false;
	s->parent = NULL;
	if (l == NULL || l->accept_fn == NULL) {
		tcp_abort(&s->conn, now_of(s->host));
		return;
	}
	s->owned = true;
	l->accept_fn(l, s, l->ctx);
}

/* Tell the application what happened, in order; stop when the handle is
 * closed by a handler (its function is then gone). */
static void tell_pending(struct host_tcp *s)
{
	if (s->ev_connected && s->owned && s->fn != NULL) {
		s->ev_connected = false;
		tell(s, HOST_TCP_CONNECTED, NULL, 0, 0);
	}
	while (s->rx_len > 0 && s->owned && s->fn != NULL && !s->ev_connected) {
		uint8_t *rx = s->rx;
		size_t len = s->rx_len;

		s->rx = NULL;
		s->rx_len = s->rx_cap = 0;
		tell(s, HOST_TCP_DATA, rx, len, 0);
		free(rx);
	}
	if (s->ev_peer_closed && s->owned && s->fn != NULL && s->rx_len == 0 && !s->ev_connected) {
		s->ev_peer_closed = false;
		tell(s, HOST_TCP_PEER_CLOSED, NULL, 0, 0);
	}
	if (s->ev_closed && s->owned && s->fn != NULL && s->rx_len == 0 && !s->ev_peer_closed &&
	    !s->ev_connected) {
		s->ev_closed = false;
		tell(s, HOST_TCP_CLOSED, NULL, 0, s->ev_error);
	}
}

static void deliver(struct engine *e, void *arg)
{
	struct host_tcp *s = arg;

	s->deliver_ev = 0;
	s->delivering = true;
	if (s->icmp_pending) {
		s->icmp_pending = false;
		tcp_icmp_error(&s->conn, s->icmp_type, s->icmp_code, s->icmp_seq, s->icmp_id,
			       engine_now(e));
	}
	if (s->ev_accept && s->conn.state != TCP_CLOSED)
		hand_to_listener(s);
	tell_pending(s);
	s->delivering = false;
	rearm(s);
	if (s->conn.state == TCP_CLOSED && !s->owned)
		sock_free(s);
}

/* ---- The application's calls ------------------------------------------------- */

/* A keyed hash standing in for the kernel's siphash (splitmix64's
 * finalizer, base/hash.h, over the key and the words). */
static uint64_t keyed_hash(uint64_t key, uint64_t a, uint64_t b)
{
	return hash_mix64(key ^ (a * 0x9e3779b97f4a7c15u) ^ (b + 0xbf58476d1ce4e5b9u));
}

/* RFC 6528 as Linux's secure_tcp_seq: a keyed hash of the four-tuple plus
 * a clock of 64 ns ticks, so that a later connection on the same tuple
 * starts beyond an earlier one (what lets a SYN reuse a TIME-WAIT tuple). */
static uint32_t initial_sequence(const struct host *h, const struct endpoint *local,
				 const struct endpoint *remote)
{
	uint64_t tuple = (uint64_t)local->port << 16 | remote->port;

	return (uint32_t)keyed_hash(h->tcp->secret, (uint64_t)local->ip << 32 | remote->ip, tuple) +
	       (uint32_t)(now_of(h) >> 6);
}

/* secure_tcp_ts_off: one timestamp offset per pair of addresses, so the
 * TSvals between two hosts keep rising from one connection to the next. */
static uint32_t timestamp_offset(const struct host *h, const struct endpoint *local,
				 const struct endpoint *remote)
{
	return (uint32_t)keyed_hash(h->tcp->secret, (uint64_t)local->ip << 32 | remote->ip, 1);
}

/* A new handle, its ISN given (a TIME-WAIT's successor) or 0: computed. */
static struct host_tcp *sock_new(struct host *h, const struct endpoint *local,
				 const struct endpoint *remote, bool reuse, uint32_t isn)
{
	struct host_tcp_table *t = table_of(h);
	struct host_tcp *s = t != NULL ? calloc(1, sizeof(*s)) : NULL;
	uint32_t iss, ts_off;

	if (s == NULL)
		return NULL;
	s->host = h;
	s->local = *local;
	s->remote = *remote;
	s->reuse = reuse;
	s->timer_at = SIM_TIME_NEVER;
	iss = isn != 0 ? isn : initial_sequence(h, local, remote);
	ts_off = timestamp_offset(h, local, remote);
	if (tcp_conn_init(&s->conn, &t->cfg, &conn_ops, s, iss, ts_off) < 0 ||
	    table_add(t, s) < 0) {
		tcp_conn_release(&s->conn);
		free(s);
		return NULL;
	}
	s->next_all = t->all;
	if (t->all != NULL)
		t->all->prev_all = s;
	t->all = s;
	return s;
}

struct host_tcp *host_tcp_listen(struct host *h, uint32_t addr, uint16_t port, bool reuse,
				 host_tcp_accept_fn fn, void *ctx)
{
	struct host_tcp_table *t = table_of(h);
	struct endpoint local = {addr, port}, none = {0, 0};
	struct host_tcp *s;

	if (t == NULL || port == 0 || (addr != 0 && node_iface_by_addr(&h->node, addr) == NULL))
		return NULL;
	if (clashes(t, &local, NULL, reuse))
		return NULL; /* EADDRINUSE */
	s = sock_new(h, &local, &none, reuse, 0);
	if (s == NULL)
		return NULL;
	s->listener = true;
	s->owned = true;
	s->accept_fn = fn;
	s->ctx = ctx;
	s->conn.state = TCP_LISTEN;
	emit_socket(s, TCP_CLOSED, TCP_LISTEN, TCP_CAUSE_APP, 0, 0);
	return s;
}

/* Would the host route a packet from `src` to `dst`: on the link of the
 * interface holding `src`, or through a gateway (host.c's next_hop)? */
static bool has_route(const struct host *h, uint32_t src, uint32_t dst)
{
	const struct iface *ifc = node_iface_by_addr((struct node *)&h->node, src);
	uint32_t mask;

	if (ifc == NULL)
		ifc = &h->node.ifaces[0];
	mask = prefix_mask(ifc->prefix_len);
	return (dst & mask) == (ifc->addr & mask) || h->gateway != 0;
}

/* No route: Linux's connect fails before any SYN (ip_route_connect,
 * ENETUNREACH: nc says "Network is unreachable"). The handle is the
 * application's, CLOSED, told so by the deferred event. */
static void unroutable(struct host_tcp *s)
{
	table_remove(s->host->tcp, s);
	emit_socket(s, TCP_CLOSED, TCP_CLOSED, TCP_CAUSE_APP, 0, ENETUNREACH);
	s->ev_closed = true;
	s->ev_error = ENETUNREACH;
	want_delivery(s);
}

struct host_tcp *host_tcp_connect(struct host *h, const struct endpoint *local,
				  const struct endpoint *to, bool reuse, host_tcp_fn fn, void *ctx)
{
	struct host_tcp_table *t = table_of(h);
	struct endpoint from = {host_address(h), 0};
	struct host_tcp *s;

	if (t == NULL)
		return NULL;
	if (local != NULL && local->ip != 0) {
		if (node_iface_by_addr(&h->node, local->ip) == NULL)
			return NULL; /* EADDRNOTAVAIL */
		from.ip = local->ip;
	}
	from.port = local != NULL && local->port != 0 ? local->port : pick_port(t);
	if (from.port == 0 || clashes(t, &from, to, reuse))
		return NULL;
	s = sock_new(h, &from, to, reuse, 0);
	if (s == NULL)
		return NULL;
	s->owned = true;
	s->fn = fn;
	s->ctx = ctx;
	if (!has_route(h, from.ip, to->ip)) {
		unroutable(s);
		return s;
	}
	tcp_open(&s->conn, now_of(h));
	rearm(s);
	return s;
}

void host_tcp_set_fn(struct host_tcp *s, host_tcp_fn fn, void *ctx)
{
	s->fn = fn;
	s->ctx = ctx;
	if (s->ev_connected || s->rx_len > 0 || s->ev_peer_closed || s->ev_closed)
		want_delivery(s);
}

size_t host_tcp_send(struct host_tcp *s, const void *data, size_t len)
{
	size_t n;

	if (s->listener)
		return 0;
	n = tcp_send(&s->conn, data, len, now_of(s->host));
	rearm(s);
	return n;
}

/* The listener's children not yet accepted are reset, as Linux's
 * inet_csk_listen_stop does with its accept queue. */
static void listener_close(struct host_tcp *l)
{
	struct host_tcp_table *t = l->host->tcp;

	for (size_t i = 0; i < t->n; i++)
		if (t->socks[i]->parent == l) {
			struct host_tcp *c = t->socks[i];

			c->parent = NULL;
			c->ev_accept = false;
			tcp_abort(&c->conn, now_of(l->host));
			i--; /* the abort took it out of the table */
		}
	emit_socket(l, TCP_LISTEN, TCP_CLOSED, TCP_CAUSE_APP, 0, 0);
	sock_free(l);
}

void host_tcp_close(struct host_tcp *s)
{
	if (s == NULL || !s->owned)
		return;
	if (s->listener) {
		listener_close(s);
		return;
	}
	s->owned = false;
	s->fn = NULL;
	tcp_close(&s->conn, now_of(s->host));
	rearm(s);
	if (s->conn.state == TCP_CLOSED && !s->delivering)
		want_delivery(s); /* freed there, never inside the call */
}

void host_tcp_shutdown(struct host_tcp *s)
{
	if (s == NULL || !s->owned || s->listener)
		return;
	tcp_shutdown(&s->conn, now_of(s->host));
	rearm(s);
}

void host_tcp_abort(struct host_tcp *s)
{
	if (s == NULL || !s->owned)
		return;
	if (s->listener) {
		listener_close(s);
		return;
	}
	s->owned = false;
	s->fn = NULL;
	tcp_abort(&s->conn, now_of(s->host));
	rearm(s);
	want_delivery(s);
}

enum tcp_state host_tcp_state(const struct host_tcp *s)
{
	return s->conn.state;
}

struct endpoint host_tcp_local(const struct host_tcp *s)
{
	return s->local;
}

struct endpoint host_tcp_remote(const struct host_tcp *s)
{
	return s->remote;
}

struct host *host_tcp_host(const struct host_tcp *s)
{
	return s->host;
}

int host_set_tcp_config(struct host *h, const struct tcp_config *cfg)
{
	struct host_tcp_table *t = table_of(h);

	if (t == NULL)
		return -1;
	t->cfg = *cfg;
	return 0;
}

void host_tcp_config(const struct host *h, struct tcp_config *out)
{
	if (h->tcp != NULL)
		*out = h->tcp->cfg;
	else
		tcp_config_default(out);
}

/* ---- Segments in (host.c's INPUT path hands them over) ---------------------- */

static void seg_of(const struct packet_info *info, uint64_t id, struct tcp_seg_in *out)
{
	*out = (struct tcp_seg_in){.flags = info->tcp_flags,
				   .seq = info->tcp_seq,
				   .ack = info->tcp_ack,
				   .window = info->tcp_window,
				   .opt = &info->tcp_opt,
				   .data = info->payload,
				   .len = info->payload_len,
				   .packet_id = id};
}

/* The RST answering a segment that belongs to nobody (RFC 9293 3.10.7.1,
 * as Linux's tcp_v4_send_reset: no options), built and not yet sent; NULL
 * for an RST, which is never answered. */
static struct packet *reset_packet(struct host *h, const struct packet_info *info,
				   const struct tcp_seg_in *seg)
{
	struct net *net = h->node.net;
	struct endpoint from = {info->dst, info->dport}, to = {info->src, info->sport};
	struct tcp_segment rst;
	struct packet *r;

	if (!tcp_reset_for(seg, &rst))
		return NULL;
	r = packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV4_HEADER_MIN + TCP_HEADER_MIN);
	if (r == NULL)
		return NULL;
	r->len =
	    packet_build_tcp(r->data, r->cap, &from, &to, PACKET_DEFAULT_TTL, h->ip_id++, &rst);
	r->sums_ok = true; /* the builder writes every sum */
	return r;
}

/* Nobody has the port: the RST, and a NO_SOCKET drop naming it. */
static void no_socket(struct host *h, struct iface *in, struct packet *p,
		      const struct packet_info *info, const struct tcp_seg_in *seg)
{
	struct node_path_facts why = {.cause = NODE_PATH_NO_SOCKET, .flow = packet_flow_of(info)};
	struct packet *r = reset_packet(h, info, seg);

	if (r != NULL)
		why.answer = (struct icmp_answer){.kind = ICMP_ANSWER_TCP_RST, .packet_id = r->id};
	node_drop_verdict(&h->node, in, p, TRACE_DROP_NO_SOCKET, NODE_VERDICT_PATH, &why);
	if (r != NULL)
		host_send_built(h, r);
}

/* A listener's SYN makes a child in SYN-RECEIVED; an ACK gets an RST
 * (RFC 9293 3.10.7.2); anything else is ignored. */
static void listener_input(struct host_tcp *l, const struct packet_info *info,
			   const struct tcp_seg_in *seg, uint32_t isn)
{
	struct endpoint local = {info->dst, info->dport}, remote = {info->src, info->sport};
	enum tcp_listen_action act = tcp_listen_verdict(seg);
	struct packet *r;
	struct host_tcp *c;

	if (act == TCP_LISTEN_RESET) {
		r = reset_packet(l->host, info, seg);
		if (r != NULL)
			host_send_built(l->host, r);
	}
	if (act != TCP_LISTEN_ACCEPT)
		return;
	c = sock_new(l->host, &local, &remote, l->reuse, isn);
	if (c == NULL)
		return; /* out of memory: the SYN is lost, the peer retries */
	c->parent = l;
	tcp_open_passive(&c->conn, seg, now_of(l->host));
	rearm(c);
}

/* A TIME-WAIT connection gives way to a new SYN when a listener can take
 * it and the SYN is newer, as Linux's tcp_timewait_state_process decides
 * (TCP_TW_SYN): not refused by PAWS (with timestamps on both sides, a TSval
 * more than 1 behind the last one seen is refused: tcp_paws_reject), and
 * either its sequence beyond RCV.NXT or its TSval beyond the last. The new
 * connection's ISN is then the old SND.NXT + 65537 (tcp_tw_isn). Returns
 * that ISN, or 0: no. */
static uint32_t time_wait_yields(const struct host_tcp *s, const struct tcp_seg_in *seg)
{
	const struct tcp_conn *c = &s->conn;
	bool ts =
	    c->ts_ok && seg->opt != NULL && (seg->opt->seen & TCP_OPT_SEEN(TCP_OPT_TIMESTAMP));
	int32_t behind = ts ? (int32_t)(c->ts_recent - seg->opt->ts_val) : 0;
	bool newer = (int32_t)(seg->seq - c->rcv_nxt) > 0 || (ts && behind < 0);
	uint32_t isn = c->snd_nxt + 65535 + 2;

	if (c->state != TCP_TIME_WAIT || (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    behind > 1 || !newer)
		return 0;
	return isn != 0 ? isn : 1;
}

void host_tcp_receive(struct host *h, struct iface *in, struct packet *p,
		      const struct packet_info *info)
{
	struct endpoint local = {info->dst, info->dport}, remote = {info->src, info->sport};
	struct host_tcp *s = h->tcp != NULL ? find_conn(h->tcp, &local, &remote) : NULL;
	struct host_tcp *l = h->tcp != NULL ? find_listener(h->tcp, info->dst, info->dport) : NULL;
	struct tcp_seg_in seg;
	uint32_t isn = 0;

	seg_of(info, p->id, &seg);
	if (s != NULL && l != NULL && (isn = time_wait_yields(s, &seg)) != 0) {
		tcp_time_wait_yield(&s->conn, &seg, now_of(h));
		rearm(s);
		s = NULL;
	}
	if (s == NULL && l == NULL) {
		no_socket(h, in, p, info, &seg);
		return;
	}
	node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
	if (s != NULL) {
		tcp_input(&s->conn, &seg, now_of(h));
		rearm(s);
	} else {
		listener_input(l, info, &seg, isn);
	}
	packet_release(net_packets(h->node.net), p);
}

/* An ICMP error quoting one of our segments: the connection with the quoted
 * four-tuple takes it at its next delivery (the file's comment says why). */
void host_tcp_icmp_error(struct host *h, const struct packet_info *info, uint64_t packet_id)
{
	const struct packet_inner *q = &info->inner;
	struct endpoint local = {q->src, q->sport}, remote = {q->dst, q->dport};
	struct host_tcp *s;

	if (h->tcp == NULL || !info->icmp_error || q->proto != IPPROTO_NUM_TCP)
		return;
	s = find_conn(h->tcp, &local, &remote);
	if (s == NULL)
		return;
	s->icmp_pending = true;
	s->icmp_type = info->icmp_type;
	s->icmp_code = info->icmp_code;
	s->icmp_seq = q->tcp_seq;
	s->icmp_id = packet_id;
	want_delivery(s);
}

void host_tcp_free_all(struct host *h)
{
	if (h->tcp == NULL)
		return;
	/* The engine may be gone already: free without touching it. */
	for (struct host_tcp *s = h->tcp->all, *next; s != NULL; s = next) {
		next = s->next_all;
		tcp_conn_release(&s->conn);
		free(s->rx);
		free(s);
	}
	free(h->tcp->socks);
	free(h->tcp);
	h->tcp = NULL;
}
