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
 *
 * IPv6 sockets (host_tcp_listen6, host_tcp_connect6) share the table, the
 * machine and the ephemeral ports; their ends are in `v6` (one pointer on
 * every socket, so an IPv4 one keeps its 16 bytes of endpoints), their
 * `local`/`remote` hold the ports only. They behave as IPV6_V6ONLY: an
 * IPv4 segment never reaches one, and an IPv6 listener does not clash
 * with an IPv4 one on its port. Segments go through host6.c's paths (its
 * ip6 filter in and out), an RST answers a closed port as
 * tcp_v6_send_reset, ICMPv6 errors reach the connection as tcp_v6_err.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "model/host.h"
#include "model/host_layout.h"
#include "model/node6.h"
#include "model/packet6.h"
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

/* An IPv6 socket's two ends (a listener's remote is [::]:0, its local
 * address :: when bound to every address). */
struct host_tcp6 {
	struct endpoint6 local, remote;
};

struct host_tcp {
	struct host *host;
	struct host_tcp *next_all, *prev_all;
	bool listener, reuse;
	bool owned;		       /* the application holds the handle */
	bool delivering;	       /* inside deliver(): a close must not free */
	struct endpoint local, remote; /* IPv6: the ports only (0.0.0.0) */
	struct host_tcp6 *v6;	       /* NULL: an IPv4 socket */
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
	bool icmp6; /* the error is ICMPv6 */
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

		if (!s->listener && s->v6 == NULL && endpoint_eq(&s->local, local) &&
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

		if (!s->listener || s->local.port != port || s->v6 != NULL)
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

		if (s->local.port != local->port || s->v6 != NULL ||
		    (s->local.ip != local->ip && s->local.ip != 0 && local->ip != 0))
			continue;
		if (!reuse || !s->reuse)
			return true;
		if (remote != NULL && !s->listener && endpoint_eq(&s->remote, remote))
			return true;
	}
	return false;
}

static bool endpoint6_eq(const struct endpoint6 *a, const struct endpoint6 *b)
{
	return a->port == b->port && ip6_equal(&a->ip, &b->ip);
}

static struct host_tcp *find_conn6(const struct host_tcp_table *t, const struct endpoint6 *local,
				   const struct endpoint6 *remote)
{
	for (size_t i = 0; i < t->n; i++) {
		struct host_tcp *s = t->socks[i];

		if (!s->listener && s->v6 != NULL && endpoint6_eq(&s->v6->local, local) &&
		    endpoint6_eq(&s->v6->remote, remote))
			return s;
	}
	return NULL;
}

/* As find_listener: the exact address first (inet6_lookup_listener). */
static struct host_tcp *find_listener6(const struct host_tcp_table *t, const struct ip6_addr *addr,
				       uint16_t port)
{
	struct host_tcp *wild = NULL;

	for (size_t i = 0; i < t->n; i++) {
		struct host_tcp *s = t->socks[i];

		if (!s->listener || s->local.port != port || s->v6 == NULL)
			continue;
		if (ip6_equal(&s->v6->local.ip, addr))
			return s;
		if (ip6_is_unspecified(&s->v6->local.ip) && wild == NULL)
			wild = s;
	}
	return wild;
}

/* clashes() among IPv6 sockets: with IPV6_V6ONLY an IPv4 socket on the
 * port is no clash (inet_rcv_saddr_equal -> ipv6_rcv_saddr_equal). */
static bool clashes6(const struct host_tcp_table *t, const struct endpoint6 *local,
		     const struct endpoint6 *remote, bool reuse)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct host_tcp *s = t->socks[i];

		if (s->local.port != local->port || s->v6 == NULL ||
		    (!ip6_equal(&s->v6->local.ip, &local->ip) &&
		     !ip6_is_unspecified(&s->v6->local.ip) && !ip6_is_unspecified(&local->ip)))
			continue;
		if (!reuse || !s->reuse)
			return true;
		if (remote != NULL && !s->listener && endpoint6_eq(&s->v6->remote, remote))
			return true;
	}
	return false;
}

/* An ephemeral port no TCP socket of the host holds, walking on from a
 * start drawn from the host's stream (as host.c does for UDP; TCP's ports
 * are a table of their own, as in Linux, one for both families as
 * Linux's bind hash is). */
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
	struct trace_socket6 v6;
	struct trace_record r;

	if (!trace_active(t))
		return;
	memset(&r, 0, sizeof(r));
	if (s->v6 != NULL)
		v6 = (struct trace_socket6){.local = s->v6->local, .remote = s->v6->remote};
	r.kind = TRACE_SOCKET;
	r.u.sock = (struct trace_socket){.node = s->host->node.name,
					 .proto = IPPROTO_NUM_TCP,
					 .local = s->local,
					 .remote = s->remote,
					 .old_state = (uint8_t)from,
					 .new_state = (uint8_t)to,
					 .cause = (uint8_t)cause,
					 .packet_id = packet_id,
					 .error = error,
					 .v6 = s->v6 != NULL ? &v6 : NULL};
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
	free(s->v6);
	free(s);
}

/* ---- The machine's outputs (struct tcp_conn_ops) ------------------------------ */

/* An IPv6 segment, out through host6.c's path (ip6 filter OUTPUT). The
 * flow label is the flow's, as for the host's UDP. */
static uint64_t send6(struct host *h, const struct endpoint6 *from, const struct endpoint6 *to,
		      const struct tcp_segment *seg)
{
	struct net *net = h->node.net;
	size_t cap = IPV6_HEADER_SIZE + TCP_HEADER_MAX + seg->payload_len;
	struct packet *p = packet_alloc(net_packets(net), net_next_packet_id(net),
					cap < PACKET_MAX_SIZE ? cap : PACKET_MAX_SIZE);

	if (p == NULL)
		return 0;
	p->len = packet6_build_tcp(
	    p->data, p->cap, from, to, IPV6_DEFAULT_HOP_LIMIT,
	    net_flow_label6(net, &from->ip, &to->ip, IPPROTO_NUM_TCP, from->port, to->port), seg);
	p->sums_ok = true; /* the builder writes every sum */
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return 0;
	}
	return host6_send_raw(h, p);
}

static uint64_t conn_send(void *ctx, const struct tcp_segment *seg)
{
	struct host_tcp *s = ctx;
	struct host *h = s->host;
	struct net *net = h->node.net;
	size_t cap = IPV4_HEADER_MIN + TCP_HEADER_MAX + seg->payload_len;
	struct packet *p;

	if (s->v6 != NULL)
		return send6(h, &s->v6->local, &s->v6->remote, seg);
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
		if (s->icmp6)
			tcp_icmp6_error(&s->conn, s->icmp_type, s->icmp_code, s->icmp_seq,
					s->icmp_id, engine_now(e));
		else
			tcp_icmp_error(&s->conn, s->icmp_type, s->icmp_code, s->icmp_seq,
				       s->icmp_id, engine_now(e));
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

/* A segment's or a socket's two ends as this host sees them. */
struct tcp_ends {
	struct endpoint local, remote; /* IPv6: the ports only */
	const struct host_tcp6 *v6;    /* NULL: IPv4 */
};

static uint64_t word_of6(const struct ip6_addr *a)
{
	uint64_t hi = 0, lo = 0;

	for (int i = 0; i < 8; i++) {
		hi = hi << 8 | a->b[i];
		lo = lo << 8 | a->b[8 + i];
	}
	return hash_mix64(hi ^ hash_mix64(lo));
}

/* The pair of addresses as one word the keyed hash takes: IPv4's as it
 * always was; IPv6's folded (secure_tcpv6_seq hashes all 32 bytes). */
static uint64_t addrs_word(const struct tcp_ends *e)
{
	if (e->v6 == NULL)
		return (uint64_t)e->local.ip << 32 | e->remote.ip;
	return word_of6(&e->v6->local.ip) ^ (word_of6(&e->v6->remote.ip) * 3);
}

/* RFC 6528 as Linux's secure_tcp_seq: a keyed hash of the four-tuple plus
 * a clock of 64 ns ticks, so that a later connection on the same tuple
 * starts beyond an earlier one (what lets a SYN reuse a TIME-WAIT tuple). */
static uint32_t initial_sequence(const struct host *h, const struct tcp_ends *e)
{
	uint64_t tuple = (uint64_t)e->local.port << 16 | e->remote.port;

	return (uint32_t)keyed_hash(h->tcp->secret, addrs_word(e), tuple) +
	       (uint32_t)(now_of(h) >> 6);
}

/* secure_tcp_ts_off: one timestamp offset per pair of addresses, so the
 * TSvals between two hosts keep rising from one connection to the next. */
static uint32_t timestamp_offset(const struct host *h, const struct tcp_ends *e)
{
	return (uint32_t)keyed_hash(h->tcp->secret, addrs_word(e), 1);
}

/* The machine's config for a socket of e's family: over IPv6 the MSS is
 * 20 bytes less (tcp_v6_connect: the IPv6 header's 40 bytes, not 20). */
static struct tcp_config config_for(const struct host_tcp_table *t, const struct tcp_ends *e)
{
	struct tcp_config cfg = t->cfg;

	if (e->v6 != NULL)
		cfg.mss = (uint16_t)(cfg.mss - (IPV6_HEADER_SIZE - IPV4_HEADER_MIN));
	return cfg;
}

static void link_all(struct host_tcp_table *t, struct host_tcp *s)
{
	s->next_all = t->all;
	if (t->all != NULL)
		t->all->prev_all = s;
	t->all = s;
}

/* A new handle, its ISN given (a TIME-WAIT's successor) or 0: computed. */
static struct host_tcp *sock_new(struct host *h, const struct tcp_ends *e, bool reuse, uint32_t isn)
{
	struct host_tcp_table *t = table_of(h);
	struct host_tcp *s = t != NULL ? calloc(1, sizeof(*s)) : NULL;
	struct tcp_config cfg;
	uint32_t iss, ts_off;

	if (s == NULL)
		return NULL;
	s->host = h;
	s->local = e->local;
	s->remote = e->remote;
	s->reuse = reuse;
	s->timer_at = SIM_TIME_NEVER;
	if (e->v6 != NULL && (s->v6 = malloc(sizeof(*s->v6))) != NULL)
		*s->v6 = *e->v6;
	iss = isn != 0 ? isn : initial_sequence(h, e);
	ts_off = timestamp_offset(h, e);
	cfg = config_for(t, e);
	if ((e->v6 != NULL && s->v6 == NULL) ||
	    tcp_conn_init(&s->conn, &cfg, &conn_ops, s, iss, ts_off) < 0 || table_add(t, s) < 0) {
		tcp_conn_release(&s->conn);
		free(s->v6);
		free(s);
		return NULL;
	}
	link_all(t, s);
	return s;
}

/* A listener on e's local end, once the caller has checked the address. */
static struct host_tcp *listen_on(struct host *h, const struct tcp_ends *e, bool reuse,
				  host_tcp_accept_fn fn, void *ctx)
{
	struct host_tcp *s = sock_new(h, e, reuse, 0);

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

struct host_tcp *host_tcp_listen(struct host *h, uint32_t addr, uint16_t port, bool reuse,
				 host_tcp_accept_fn fn, void *ctx)
{
	struct host_tcp_table *t = table_of(h);
	struct tcp_ends e = {.local = {addr, port}, .remote = {0, 0}};

	if (t == NULL || port == 0 || (addr != 0 && node_iface_by_addr(&h->node, addr) == NULL))
		return NULL;
	if (clashes(t, &e.local, NULL, reuse))
		return NULL; /* EADDRINUSE */
	return listen_on(h, &e, reuse, fn, ctx);
}

struct host_tcp *host_tcp_listen6(struct host *h, const struct ip6_addr *addr, uint16_t port,
				  bool reuse, host_tcp_accept_fn fn, void *ctx)
{
	struct host_tcp_table *t = table_of(h);
	struct host_tcp6 v6 = {.local = {.port = port}};
	struct tcp_ends e = {.local = {0, port}, .v6 = &v6};

	if (t == NULL || port == 0 || (addr != NULL && node_iface_by_addr6(&h->node, addr) == NULL))
		return NULL;
	if (addr != NULL)
		v6.local.ip = *addr;
	if (clashes6(t, &v6.local, NULL, reuse))
		return NULL; /* EADDRINUSE */
	return listen_on(h, &e, reuse, fn, ctx);
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

/* The connection made for e (its ends checked by the caller): the SYN
 * now, or, with no route, CLOSED and told ENETUNREACH. */
static struct host_tcp *connect_from(struct host *h, const struct tcp_ends *e, bool routed,
				     bool reuse, host_tcp_fn fn, void *ctx)
{
	struct host_tcp *s = sock_new(h, e, reuse, 0);

	if (s == NULL)
		return NULL;
	s->owned = true;
	s->fn = fn;
	s->ctx = ctx;
	if (!routed) {
		unroutable(s);
		return s;
	}
	tcp_open(&s->conn, now_of(h));
	rearm(s);
	return s;
}

struct host_tcp *host_tcp_connect(struct host *h, const struct endpoint *local,
				  const struct endpoint *to, bool reuse, host_tcp_fn fn, void *ctx)
{
	struct host_tcp_table *t = table_of(h);
	struct tcp_ends e = {.local = {host_address(h), 0}, .remote = *to};

	if (t == NULL)
		return NULL;
	if (local != NULL && local->ip != 0) {
		if (node_iface_by_addr(&h->node, local->ip) == NULL)
			return NULL; /* EADDRNOTAVAIL */
		e.local.ip = local->ip;
	}
	e.local.port = local != NULL && local->port != 0 ? local->port : pick_port(t);
	if (e.local.port == 0 || clashes(t, &e.local, to, reuse))
		return NULL;
	return connect_from(h, &e, has_route(h, e.local.ip, to->ip), reuse, fn, ctx);
}

struct host_tcp *host_tcp_connect6(struct host *h, const struct endpoint6 *local,
				   const struct endpoint6 *to, bool reuse, host_tcp_fn fn,
				   void *ctx)
{
	struct host_tcp_table *t = table_of(h);
	struct host_tcp6 v6 = {.remote = *to};
	struct tcp_ends e = {.remote = {0, to->port}, .v6 = &v6};

	if (t == NULL || !host_address6(h, &v6.local.ip))
		return NULL; /* no IPv6 address: EADDRNOTAVAIL */
	if (local != NULL && !ip6_is_unspecified(&local->ip)) {
		if (node_iface_by_addr6(&h->node, &local->ip) == NULL)
			return NULL; /* EADDRNOTAVAIL */
		v6.local.ip = local->ip;
	}
	v6.local.port = local != NULL && local->port != 0 ? local->port : pick_port(t);
	e.local.port = v6.local.port;
	if (v6.local.port == 0 || clashes6(t, &v6.local, to, reuse))
		return NULL;
	return connect_from(h, &e, host6_has_route(h, &to->ip), reuse, fn, ctx);
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

bool host_tcp_is6(const struct host_tcp *s)
{
	return s->v6 != NULL;
}

struct endpoint6 host_tcp_local6(const struct host_tcp *s)
{
	return s->v6 != NULL ? s->v6->local : (struct endpoint6){.port = s->local.port};
}

struct endpoint6 host_tcp_remote6(const struct host_tcp *s)
{
	return s->v6 != NULL ? s->v6->remote : (struct endpoint6){.port = s->remote.port};
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

/* ---- Segments in (host.c's and host6.c's INPUT paths hand them over) ------- */

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

static void seg_of6(const struct packet6_info *info, uint64_t id, struct tcp_seg_in *out)
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
 * for an RST, which is never answered. IPv6 answers from tcp_v6_send_reset,
 * also without options (its tsecr is 0), hop limit 64. */
static struct packet *reset_packet(struct host *h, const struct tcp_ends *e,
				   const struct tcp_seg_in *seg)
{
	struct net *net = h->node.net;
	struct tcp_segment rst;
	struct packet *r;
	const struct endpoint6 *from6 = e->v6 != NULL ? &e->v6->local : NULL;
	const struct endpoint6 *to6 = e->v6 != NULL ? &e->v6->remote : NULL;

	if (!tcp_reset_for(seg, &rst))
		return NULL;
	r = packet_alloc(net_packets(net), net_next_packet_id(net),
			 (e->v6 != NULL ? IPV6_HEADER_SIZE : IPV4_HEADER_MIN) + TCP_HEADER_MIN);
	if (r == NULL)
		return NULL;
	if (e->v6 != NULL)
		r->len = packet6_build_tcp(r->data, r->cap, from6, to6, IPV6_DEFAULT_HOP_LIMIT,
					   net_flow_label6(net, &from6->ip, &to6->ip,
							   IPPROTO_NUM_TCP, from6->port, to6->port),
					   &rst);
	else
		r->len = packet_build_tcp(r->data, r->cap, &e->local, &e->remote,
					  PACKET_DEFAULT_TTL, h->ip_id++, &rst);
	r->sums_ok = true; /* the builder writes every sum */
	return r;
}

/* Send a packet the stack built, by its family's output path. */
static void send_built(struct host *h, const struct tcp_ends *e, struct packet *p)
{
	if (e->v6 != NULL)
		host6_send_raw(h, p);
	else
		host_send_built(h, p);
}

/* Nobody has the port: the RST, and a NO_SOCKET drop naming it. */
static void no_socket(struct host *h, struct iface *in, struct packet *p,
		      const struct verdict_flow *flow, const struct tcp_ends *e,
		      const struct tcp_seg_in *seg)
{
	struct node_path_facts why = {.cause = NODE_PATH_NO_SOCKET, .flow = *flow};
	struct packet *r = reset_packet(h, e, seg);

	if (r != NULL)
		why.answer = (struct icmp_answer){.kind = ICMP_ANSWER_TCP_RST, .packet_id = r->id};
	node_drop_verdict(&h->node, in, p, TRACE_DROP_NO_SOCKET, NODE_VERDICT_PATH, &why);
	if (r != NULL)
		send_built(h, e, r);
}

/* A listener's SYN makes a child in SYN-RECEIVED; an ACK gets an RST
 * (RFC 9293 3.10.7.2); anything else is ignored. */
static void listener_input(struct host_tcp *l, const struct tcp_ends *e,
			   const struct tcp_seg_in *seg, uint32_t isn)
{
	enum tcp_listen_action act = tcp_listen_verdict(seg);
	struct packet *r;
	struct host_tcp *c;

	if (act == TCP_LISTEN_RESET) {
		r = reset_packet(l->host, e, seg);
		if (r != NULL)
			send_built(l->host, e, r);
	}
	if (act != TCP_LISTEN_ACCEPT)
		return;
	c = sock_new(l->host, e, l->reuse, isn);
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

/* The segment to its connection s, or to listener l (a TIME-WAIT s giving
 * way to a SYN first); false if neither takes it. */
static bool dispatch(struct host *h, struct packet *p, struct host_tcp *s, struct host_tcp *l,
		     const struct tcp_ends *e, const struct tcp_seg_in *seg)
{
	uint32_t isn = 0;

	if (s != NULL && l != NULL && (isn = time_wait_yields(s, seg)) != 0) {
		tcp_time_wait_yield(&s->conn, seg, now_of(h));
		rearm(s);
		s = NULL;
	}
	if (s == NULL && l == NULL)
		return false;
	node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
	if (s != NULL) {
		tcp_input(&s->conn, seg, now_of(h));
		rearm(s);
	} else {
		listener_input(l, e, seg, isn);
	}
	packet_release(net_packets(h->node.net), p);
	return true;
}

void host_tcp_receive(struct host *h, struct iface *in, struct packet *p,
		      const struct packet_info *info)
{
	struct tcp_ends e = {.local = {info->dst, info->dport}, .remote = {info->src, info->sport}};
	struct host_tcp *s = h->tcp != NULL ? find_conn(h->tcp, &e.local, &e.remote) : NULL;
	struct host_tcp *l = h->tcp != NULL ? find_listener(h->tcp, info->dst, info->dport) : NULL;
	struct tcp_seg_in seg;

	seg_of(info, p->id, &seg);
	if (!dispatch(h, p, s, l, &e, &seg)) {
		struct verdict_flow flow = packet_flow_of(info);

		no_socket(h, in, p, &flow, &e, &seg);
	}
}

void host_tcp_receive6(struct host *h, struct iface *in, struct packet *p,
		       const struct packet6_info *info)
{
	struct host_tcp6 v6 = {.local = {info->dst, info->dport},
			       .remote = {info->src, info->sport}};
	struct tcp_ends e = {.local = {0, info->dport}, .remote = {0, info->sport}, .v6 = &v6};
	struct host_tcp *s = h->tcp != NULL ? find_conn6(h->tcp, &v6.local, &v6.remote) : NULL;
	struct host_tcp *l =
	    h->tcp != NULL ? find_listener6(h->tcp, &info->dst, info->dport) : NULL;
	struct tcp_seg_in seg;

	seg_of6(info, p->id, &seg);
	if (!dispatch(h, p, s, l, &e, &seg)) {
		struct verdict_flow flow = packet6_flow_of(info);

		no_socket(h, in, p, &flow, &e, &seg);
	}
}

static void icmp_pending(struct host_tcp *s, bool v6, uint8_t type, uint8_t code, uint32_t seq,
			 uint64_t packet_id)
{
	s->icmp_pending = true;
	s->icmp6 = v6;
	s->icmp_type = type;
	s->icmp_code = code;
	s->icmp_seq = seq;
	s->icmp_id = packet_id;
	want_delivery(s);
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
	if (s != NULL)
		icmp_pending(s, false, info->icmp_type, info->icmp_code, q->tcp_seq, packet_id);
}

/* The same for ICMPv6 (icmpv6_notify -> tcp_v6_err). */
void host_tcp_icmp_error6(struct host *h, const struct packet6_info *info, uint64_t packet_id)
{
	const struct packet6_inner *q = &info->inner;
	struct endpoint6 local = {q->src, q->sport}, remote = {q->dst, q->dport};
	struct host_tcp *s;

	if (h->tcp == NULL || !info->icmp_error || q->next_header != IPPROTO_NUM_TCP)
		return;
	s = find_conn6(h->tcp, &local, &remote);
	if (s != NULL)
		icmp_pending(s, true, info->icmp_type, info->icmp_code, q->tcp_seq, packet_id);
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
		free(s->v6);
		free(s);
	}
	free(h->tcp->socks);
	free(h->tcp);
	h->tcp = NULL;
}
