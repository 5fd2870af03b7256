/*
 * nat64.c - RFC 6146's stateful NAT64 for UDP and ICMP, in the order of its
 * section 3.5 (binding lookup and creation for IPv6 -> IPv4, the filter for
 * IPv4 -> IPv6, ICMP queries by their identifier, ICMP errors by the packet
 * they quote); the packets are rewritten by model/xlat.c.
 */
#include "model/nat64.h"

#include <stdlib.h>
#include <string.h>

#include "model/packet.h"
#include "model/packet6.h"
#include "sim/engine.h" /* SIM_S, SIM_TIME_NEVER */

struct nat64 {
	struct nat64_config cfg;
	struct trace *trace;
	const char *node;
	struct nat64_binding *b;
	size_t n, cap;
	uint32_t next_id;
	size_t next_pool; /* the pool address the next new IPv6 address gets */
	uint16_t next_ip_id;
};

/* RFC 6146 4: TCP_EST at least 2 hours 4 minutes and TCP_TRANS at
 * least 4 minutes (RFC 5382 REQ-5's figures); natsim
 * takes the minimums as defaults (Jool's constants.h: TCP_EST 2 h,
 * TCP_TRANS 4 min). */
#define TCP_EST_MIN SIM_S(2 * 3600 + 4 * 60)
#define TCP_TRANS_MIN SIM_S(4 * 60)

void nat64_config_default(struct nat64_config *cfg, uint32_t pool_address)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prefix = xlat_well_known_prefix();
	cfg->pool[0] = pool_address;
	cfg->n_pool = 1;
	cfg->port_lo = 1024;
	cfg->port_hi = 65535;
	cfg->filtering = NAT_ENDPOINT_INDEPENDENT;
	cfg->udp_timeout = SIM_S(300); /* RFC 6146 4: UDP_DEFAULT */
	cfg->icmp_timeout = SIM_S(60); /* RFC 6146 4: ICMP_DEFAULT */
	cfg->tcp_est_timeout = TCP_EST_MIN;
	cfg->tcp_trans_timeout = TCP_TRANS_MIN;
	cfg->first_ip_id = 1;
}

const char *nat64_verdict_name(enum nat64_verdict v)
{
	static const char *const names[] = {
	    [NAT64_TRANSLATED] = "translated",
	    [NAT64_DROP_NOT_OURS] = "not-ours",
	    [NAT64_DROP_NO_BINDING] = "no-binding",
	    [NAT64_DROP_FILTERED] = "filtered",
	    [NAT64_DROP_EXHAUSTED] = "exhausted",
	    [NAT64_DROP_UNSUPPORTED] = "unsupported",
	    [NAT64_DROP_TCP_NO_SESSION] = "tcp-no-session",
	    [NAT64_DROP_UNTRANSLATABLE] = "untranslatable",
	    [NAT64_DROP_MALFORMED] = "malformed",
	};
	return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

struct nat64 *nat64_new(const struct nat64_config *cfg, struct trace *trace, const char *node)
{
	/* RFC 6146 4: a UDP lifetime of at least UDP_MIN, 2 minutes (Jool's
	 * global.c refuses less, validate_timeout with UDP_MIN). */
	if (cfg->n_pool == 0 || cfg->n_pool > NAT64_MAX_POOL || cfg->port_lo == 0 ||
	    cfg->port_lo > cfg->port_hi || cfg->udp_timeout < SIM_S(120) ||
	    cfg->icmp_timeout <= 0 || cfg->tcp_est_timeout < TCP_EST_MIN ||
	    cfg->tcp_trans_timeout < TCP_TRANS_MIN)
		return NULL;
	struct nat64 *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->cfg = *cfg;
	n->trace = trace;
	n->node = node;
	n->next_id = 1;
	n->next_ip_id = cfg->first_ip_id;
	return n;
}

void nat64_free(struct nat64 *n)
{
	if (n == NULL)
		return;
	free(n->b);
	free(n);
}

const struct nat64_config *nat64_config(const struct nat64 *n)
{
	return &n->cfg;
}

bool nat64_owns_ipv4(const struct nat64 *n, uint32_t ip)
{
	for (size_t i = 0; i < n->cfg.n_pool; i++)
		if (n->cfg.pool[i] == ip)
			return true;
	return false;
}

size_t nat64_count(const struct nat64 *n)
{
	return n->n;
}

const struct nat64_binding *nat64_binding_at(const struct nat64 *n, size_t i)
{
	return i < n->n ? &n->b[i] : NULL;
}

/* ---- the trace ------------------------------------------------------------- */

static void emit(struct nat64 *n, const struct nat64_binding *b, enum trace_map_event ev,
		 uint32_t remote)
{
	if (n->trace == NULL || !trace_active(n->trace))
		return;
	struct trace_record r;
	memset(&r, 0, sizeof(r));
	r.kind = TRACE_MAPPING;
	r.u.map = (struct trace_mapping){
	    .event = ev,
	    .node = n->node,
	    .id = b->id,
	    .proto = b->proto,
	    .external = b->external,
	    .remote = {remote, 0},
	    .mapping = NAT_ENDPOINT_INDEPENDENT, /* RFC 6146 3.5.1 */
	    .filtering = (int)n->cfg.filtering,
	    .expires_at = b->expires_at,
	    .origin = NAT_ORIGIN_TRAFFIC,
	    .family = 6,
	    .internal6 = b->internal,
	};
	trace_emit(n->trace, &r);
}

/* ---- lifetimes ------------------------------------------------------------- */

int64_t nat64_next_deadline(const struct nat64 *n)
{
	int64_t t = SIM_TIME_NEVER;

	for (size_t i = 0; i < n->n; i++)
		if (n->b[i].expires_at < t)
			t = n->b[i].expires_at;
	return t;
}

void nat64_expire(struct nat64 *n, int64_t now)
{
	size_t keep = 0;

	for (size_t i = 0; i < n->n; i++) {
		if (n->b[i].expires_at <= now)
			emit(n, &n->b[i], TRACE_MAP_EXPIRED, 0);
		else
			n->b[keep++] = n->b[i];
	}
	n->n = keep;
}

/* A new binding's lifetime; a TCP one starts in V6 INIT, TCP_TRANS. */
static int64_t lifetime(const struct nat64 *n, uint8_t proto)
{
	if (proto == IPPROTO_NUM_TCP)
		return n->cfg.tcp_trans_timeout;
	return proto == IPPROTO_NUM_ICMP ? n->cfg.icmp_timeout : n->cfg.udp_timeout;
}

/* ---- the binding table (BIB) ----------------------------------------------- */

static struct nat64_binding *by_internal(struct nat64 *n, uint8_t proto, const struct ip6_addr *ip,
					 uint16_t port)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->b[i].proto == proto && n->b[i].internal.port == port &&
		    ip6_equal(&n->b[i].internal.ip, ip))
			return &n->b[i];
	return NULL;
}

static struct nat64_binding *by_external(struct nat64 *n, uint8_t proto, uint32_t ip, uint16_t port)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->b[i].proto == proto && n->b[i].external.ip == ip &&
		    n->b[i].external.port == port)
			return &n->b[i];
	return NULL;
}

/* RFC 4787 REQ-2, paired pooling: an IPv6 address that has a binding keeps
 * its IPv4 address; a new one takes the next pool address in turn. */
static uint32_t pool_address_for(struct nat64 *n, const struct ip6_addr *ip)
{
	for (size_t i = 0; i < n->n; i++)
		if (ip6_equal(&n->b[i].internal.ip, ip))
			return n->b[i].external.ip;
	return n->cfg.pool[n->next_pool++ % n->cfg.n_pool];
}

/* The internal port if it is free on that address, else the next free one
 * from port_lo up; 0 when none is. */
static uint16_t free_port(struct nat64 *n, uint8_t proto, uint32_t ip, uint16_t wanted)
{
	if (wanted >= n->cfg.port_lo && wanted <= n->cfg.port_hi &&
	    !by_external(n, proto, ip, wanted))
		return wanted;
	for (uint32_t p = n->cfg.port_lo; p <= n->cfg.port_hi; p++)
		if (!by_external(n, proto, ip, (uint16_t)p))
			return (uint16_t)p;
	return 0;
}

static struct nat64_binding *create(struct nat64 *n, uint8_t proto, const struct ip6_addr *ip,
				    uint16_t port, int64_t now)
{
	uint32_t ip4 = pool_address_for(n, ip);
	uint16_t ext = free_port(n, proto, ip4, port);
	if (ext == 0)
		return NULL;
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;
		struct nat64_binding *b = realloc(n->b, cap * sizeof(*b));
		if (b == NULL)
			return NULL;
		n->b = b;
		n->cap = cap;
	}
	struct nat64_binding *b = &n->b[n->n++];
	*b = (struct nat64_binding){.id = n->next_id++,
				    .proto = proto,
				    .internal = {*ip, port},
				    .external = {ip4, ext},
				    .expires_at = now + lifetime(n, proto),
				    .tcp_state = proto == IPPROTO_NUM_TCP ? NAT64_TCP_V6_INIT
									  : NAT64_TCP_CLOSED};
	emit(n, b, TRACE_MAP_CREATED, 0);
	return b;
}

/* The session table's remote side, as filtering needs it: the IPv4
 * addresses the binding has sent to (ADF), the oldest forgotten first. */
static void note_remote(struct nat64 *n, struct nat64_binding *b, uint32_t remote)
{
	for (size_t i = 0; i < b->n_remotes; i++)
		if (b->remotes[i] == remote)
			return;
	if (b->n_remotes == NAT64_MAX_REMOTES) {
		memmove(b->remotes, b->remotes + 1, (NAT64_MAX_REMOTES - 1) * sizeof(uint32_t));
		b->n_remotes--;
	}
	b->remotes[b->n_remotes++] = remote;
	emit(n, b, TRACE_MAP_REMOTE_ADDED, remote);
}

static bool filter_admits(const struct nat64 *n, const struct nat64_binding *b, uint32_t src)
{
	if (n->cfg.filtering == NAT_ENDPOINT_INDEPENDENT)
		return true;
	for (size_t i = 0; i < b->n_remotes; i++)
		if (b->remotes[i] == src)
			return true;
	return false;
}

static bool same_endpoint(struct endpoint a, struct endpoint b)
{
	return a.ip == b.ip && a.port == b.port;
}

/* ---- TCP's state machine (RFC 6146 3.5.2.2) ------------------------------ */

const char *nat64_tcp_state_name(enum nat64_tcp_state s)
{
	static const char *const names[] = {
	    [NAT64_TCP_CLOSED] = "CLOSED",
	    [NAT64_TCP_V6_INIT] = "V6 INIT",
	    [NAT64_TCP_V4_INIT] = "V4 INIT",
	    [NAT64_TCP_ESTABLISHED] = "ESTABLISHED",
	    [NAT64_TCP_V4_FIN_RCV] = "V4 FIN RCV",
	    [NAT64_TCP_V6_FIN_RCV] = "V6 FIN RCV",
	    [NAT64_TCP_V4_FIN_V6_FIN_RCV] = "V4 FIN + V6 FIN RCV",
	    [NAT64_TCP_TRANS] = "TRANS",
	};
	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

enum tcp_timer { TIMER_KEEP, TIMER_EST, TIMER_TRANS };

/* The FIN states: the other side's FIN closes both halves (TCP_TRANS);
 * anything else keeps the session at TCP_EST. */
static enum tcp_timer tcp_fin_rcv(struct nat64_binding *b, bool fin_closes)
{
	if (!fin_closes)
		return TIMER_EST;
	b->tcp_state = NAT64_TCP_V4_FIN_V6_FIN_RCV;
	return TIMER_TRANS;
}

/* A segment with `flags` through an existing session, from the IPv6 side
 * (from6) or the IPv4 side: its state moves as 3.5.2.2 says (the same
 * walk as Jool's filtering_and_updating.c, tcp_*_state) and the lifetime
 * it sets. An RST in a FIN state changes nothing (RFC 6146; Jool's
 * handle-rst-during-fin-rcv, off by default, would). */
static enum tcp_timer tcp_step(struct nat64_binding *b, bool from6, uint8_t flags)
{
	bool syn = flags & TCP_SYN, fin = flags & TCP_FIN, rst = flags & TCP_RST;

	switch (b->tcp_state) {
	case NAT64_TCP_V6_INIT:
		if (syn && !from6)
			b->tcp_state = NAT64_TCP_ESTABLISHED;
		return !syn ? TIMER_KEEP : from6 ? TIMER_TRANS : TIMER_EST;
	case NAT64_TCP_V4_INIT:
		if (!(syn && from6))
			return TIMER_KEEP;
		b->tcp_state = NAT64_TCP_ESTABLISHED;
		return TIMER_EST;
	case NAT64_TCP_ESTABLISHED:
		if (fin)
			b->tcp_state = from6 ? NAT64_TCP_V6_FIN_RCV : NAT64_TCP_V4_FIN_RCV;
		else if (rst)
			b->tcp_state = NAT64_TCP_TRANS;
		return fin ? TIMER_KEEP : rst ? TIMER_TRANS : TIMER_EST;
	case NAT64_TCP_V4_FIN_RCV:
		return tcp_fin_rcv(b, fin && from6);
	case NAT64_TCP_V6_FIN_RCV:
		return tcp_fin_rcv(b, fin && !from6);
	case NAT64_TCP_TRANS:
		if (rst)
			return TIMER_KEEP;
		b->tcp_state = NAT64_TCP_ESTABLISHED;
		return TIMER_EST;
	default: /* CLOSED (a binding is made in V6 INIT), V4 FIN + V6 FIN RCV */
		return TIMER_KEEP;
	}
}

/* tcp_step, then the lifetime it asks for from `now`. */
static void tcp_update(const struct nat64 *n, struct nat64_binding *b, bool from6, uint8_t flags,
		       int64_t now)
{
	switch (tcp_step(b, from6, flags)) {
	case TIMER_EST:
		b->expires_at = now + n->cfg.tcp_est_timeout;
		break;
	case TIMER_TRANS:
		b->expires_at = now + n->cfg.tcp_trans_timeout;
		break;
	case TIMER_KEEP:
		break;
	}
}

/* ---- translation ------------------------------------------------------------- */

static struct nat64_result verdict(enum nat64_verdict v)
{
	return (struct nat64_result){.verdict = v};
}

/* The result of handing the packet to RFC 7915 (model/xlat.c). */
static struct nat64_result translated(struct nat64_result r, const struct nat64_binding *b,
				      enum xlat_result x)
{
	r.binding = *b;
	if (x != XLAT_OK) {
		r.verdict = NAT64_DROP_UNTRANSLATABLE;
		r.xlat = x;
	}
	return r;
}

/* RFC 6146 3.5.1 (UDP) and 3.5.3 (ICMP queries, the identifier as the
 * port): find the source's binding or make one, refresh it, remember the
 * remote, translate. */
static struct nat64_result outbound_query(struct nat64 *n, int64_t now,
					  const struct packet6_info *pi, uint32_t dst4,
					  const uint8_t *in, size_t len, uint8_t *out, size_t cap,
					  size_t *out_len)
{
	uint8_t proto = pi->next_header == IPPROTO_NUM_ICMPV6 ? IPPROTO_NUM_ICMP : pi->next_header;
	struct nat64_result r = {.verdict = NAT64_TRANSLATED};
	struct nat64_binding *b = by_internal(n, proto, &pi->src, pi->sport);

	if (b == NULL) {
		if ((b = create(n, proto, &pi->src, pi->sport, now)) == NULL)
			return verdict(NAT64_DROP_EXHAUSTED);
		r.created = true;
	}
	b->expires_at = now + lifetime(n, proto);
	note_remote(n, b, dst4);
	struct xlat_v4_addrs o = {b->external, {dst4, pi->dport}};
	struct xlat_6to4_options opt = {.ip_id = n->next_ip_id++};
	return translated(r, b, xlat_6to4(in, len, &o, NULL, &opt, out, cap, out_len));
}

/* RFC 6146 3.5.2, its IPv6 half: an IPv6 SYN with no session makes the
 * binding (EIM, as UDP's) in V6 INIT; any other segment with none is
 * dropped silently (3.5.2.2, CLOSED); one with a session
 * walks its state. */
static struct nat64_result outbound_tcp(struct nat64 *n, int64_t now, const struct packet6_info *pi,
					uint32_t dst4, const uint8_t *in, size_t len, uint8_t *out,
					size_t cap, size_t *out_len)
{
	struct nat64_result r = {.verdict = NAT64_TRANSLATED};
	struct nat64_binding *b = by_internal(n, IPPROTO_NUM_TCP, &pi->src, pi->sport);

	struct endpoint remote = {dst4, pi->dport};
	bool syn = pi->tcp_flags & TCP_SYN;

	if (b == NULL) {
		if (!syn)
			return verdict(NAT64_DROP_TCP_NO_SESSION);
		if ((b = create(n, IPPROTO_NUM_TCP, &pi->src, pi->sport, now)) == NULL)
			return verdict(NAT64_DROP_EXHAUSTED);
		b->tcp_remote = remote;
		r.created = true;
	} else if (same_endpoint(b->tcp_remote, remote)) {
		tcp_update(n, b, true, pi->tcp_flags, now);
	} else if (syn) { /* a new connection from the same port: the session's */
		b->tcp_state = NAT64_TCP_V6_INIT;
		b->tcp_remote = remote;
		b->expires_at = now + n->cfg.tcp_trans_timeout;
	}
	note_remote(n, b, dst4);
	struct xlat_v4_addrs o = {b->external, {dst4, pi->dport}};
	struct xlat_6to4_options opt = {.ip_id = n->next_ip_id++};
	return translated(r, b, xlat_6to4(in, len, &o, NULL, &opt, out, cap, out_len));
}

/* An ICMPv6 error from the IPv6 side about a packet that came in: the
 * quote's destination is a binding's inside. It leaves from the binding's
 * IPv4 address, the only one of the error's path the IPv4 side can know. */
static struct nat64_result outbound_error(struct nat64 *n, const struct packet6_info *pi,
					  uint32_t dst4, const uint8_t *in, size_t len,
					  uint8_t *out, size_t cap, size_t *out_len)
{
	const struct packet6_inner *q = &pi->inner;
	uint8_t proto = q->next_header == IPPROTO_NUM_ICMPV6 ? IPPROTO_NUM_ICMP : q->next_header;
	uint32_t from4;

	if (!xlat_embedded_ipv4(&n->cfg.prefix, &q->src, &from4))
		return verdict(NAT64_DROP_NOT_OURS);
	struct nat64_binding *b = by_internal(n, proto, &q->dst, q->dport);
	if (b == NULL)
		return verdict(NAT64_DROP_NO_BINDING);
	struct xlat_v4_addrs o = {{b->external.ip, 0}, {dst4, 0}};
	struct xlat_v4_addrs i = {{from4, q->sport}, b->external};
	struct xlat_6to4_options opt = {.ip_id = n->next_ip_id++};
	struct nat64_result r = {.verdict = NAT64_TRANSLATED};
	return translated(r, b, xlat_6to4(in, len, &o, &i, &opt, out, cap, out_len));
}

struct nat64_result nat64_translate_6to4(struct nat64 *n, int64_t now, const uint8_t *in,
					 size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct packet6_info pi;
	uint32_t dst4;

	nat64_expire(n, now);
	/* A zero UDP checksum parses (model/packet6.h) but stays refused here,
	 * as before it parsed: what Jool does with one is not checked. */
	if (packet6_parse(in, len, &pi, NULL, 0) != PACKET_OK || pi.udp_no_checksum)
		return verdict(NAT64_DROP_MALFORMED);
	if (!xlat_embedded_ipv4(&n->cfg.prefix, &pi.dst, &dst4))
		return verdict(NAT64_DROP_NOT_OURS);
	bool icmp = pi.next_header == IPPROTO_NUM_ICMPV6;
	if (icmp && pi.icmp_error)
		return outbound_error(n, &pi, dst4, in, len, out, cap, out_len);
	if (pi.next_header == IPPROTO_NUM_UDP || (icmp && pi.icmp_type == ICMP6_ECHO_REQUEST))
		return outbound_query(n, now, &pi, dst4, in, len, out, cap, out_len);
	if (pi.next_header == IPPROTO_NUM_TCP)
		return outbound_tcp(n, now, &pi, dst4, in, len, out, cap, out_len);
	if (icmp && pi.icmp_type != ICMP6_ECHO_REPLY) /* neighbour discovery, MLD */
		return (struct nat64_result){.verdict = NAT64_DROP_UNTRANSLATABLE,
					     .xlat = XLAT_ERR_ICMP_UNTRANSLATABLE};
	/* An IPv6 host's echo reply to a ping from the IPv4 side, which would
	 * need a static binding. */
	return verdict(NAT64_DROP_UNSUPPORTED);
}

/* RFC 6146 3.5.1 and 3.5.3, their IPv4 halves: an IPv4 packet to a pool
 * address needs the binding that holds its address and port (or echo
 * reply's id) and, with ADF, a remote the binding has sent to. */
static struct nat64_result inbound_query(struct nat64 *n, int64_t now, const struct packet_info *pi,
					 const uint8_t *in, size_t len, uint8_t *out, size_t cap,
					 size_t *out_len)
{
	struct nat64_binding *b = by_external(n, pi->proto, pi->dst, pi->dport);
	if (b == NULL)
		return verdict(NAT64_DROP_NO_BINDING);
	struct nat64_result r = {.verdict = NAT64_DROP_FILTERED, .binding = *b};
	if (!filter_admits(n, b, pi->src))
		return r;
	b->expires_at = now + lifetime(n, pi->proto);
	r.verdict = NAT64_TRANSLATED;
	struct xlat_v6_addrs o = {{xlat_synthesize(&n->cfg.prefix, pi->src), pi->sport},
				  b->internal};
	return translated(r, b, xlat_4to6(in, len, &o, NULL, out, cap, out_len));
}

/* RFC 6146 3.5.2, its IPv4 half: a segment needs a binding and (ADF) a
 * remote it has sent to; only one from the session's remote moves the
 * session. A SYN from another transport address is an IPv4-initiated
 * connection, dropped whatever the
 * filtering (3.5.2.2, CLOSED: the policy of silently dropping externally
 * initiated TCP connections; nat64.h says why). */
static struct nat64_result inbound_tcp(struct nat64 *n, int64_t now, const struct packet_info *pi,
				       const uint8_t *in, size_t len, uint8_t *out, size_t cap,
				       size_t *out_len)
{
	struct nat64_binding *b = by_external(n, IPPROTO_NUM_TCP, pi->dst, pi->dport);
	if (b == NULL)
		return verdict(NAT64_DROP_TCP_NO_SESSION);
	bool ours = same_endpoint(b->tcp_remote, ((struct endpoint){pi->src, pi->sport}));
	struct nat64_result r = {.verdict = NAT64_DROP_FILTERED, .binding = *b};
	if ((pi->tcp_flags & TCP_SYN) && !ours)
		r.verdict = NAT64_DROP_TCP_NO_SESSION;
	if (r.verdict == NAT64_DROP_TCP_NO_SESSION || !filter_admits(n, b, pi->src))
		return r;
	if (ours)
		tcp_update(n, b, false, pi->tcp_flags, now);
	r.verdict = NAT64_TRANSLATED;
	struct xlat_v6_addrs o = {{xlat_synthesize(&n->cfg.prefix, pi->src), pi->sport},
				  b->internal};
	return translated(r, b, xlat_4to6(in, len, &o, NULL, out, cap, out_len));
}

/* An ICMP error from the IPv4 side about a packet that went out: the
 * quote's source is a binding's outside. Errors are not filtered: a router
 * on the path, not the remote, may send them (conntrack calls them RELATED). */
static struct nat64_result inbound_error(struct nat64 *n, const struct packet_info *pi,
					 const uint8_t *in, size_t len, uint8_t *out, size_t cap,
					 size_t *out_len)
{
	const struct packet_inner *q = &pi->inner;
	struct nat64_binding *b = by_external(n, q->proto, q->src, q->sport);
	if (b == NULL)
		return verdict(NAT64_DROP_NO_BINDING);
	struct xlat_v6_addrs o = {{xlat_synthesize(&n->cfg.prefix, pi->src), 0},
				  {b->internal.ip, 0}};
	struct xlat_v6_addrs i = {b->internal, {xlat_synthesize(&n->cfg.prefix, q->dst), q->dport}};
	struct nat64_result r = {.verdict = NAT64_TRANSLATED};
	return translated(r, b, xlat_4to6(in, len, &o, &i, out, cap, out_len));
}

struct nat64_result nat64_translate_4to6(struct nat64 *n, int64_t now, const uint8_t *in,
					 size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct packet_info pi;

	nat64_expire(n, now);
	if (packet_parse(in, len, &pi, NULL, 0) != PACKET_OK)
		return verdict(NAT64_DROP_MALFORMED);
	if (!nat64_owns_ipv4(n, pi.dst))
		return verdict(NAT64_DROP_NOT_OURS);
	bool icmp = pi.proto == IPPROTO_NUM_ICMP;
	if (icmp && pi.icmp_error)
		return inbound_error(n, &pi, in, len, out, cap, out_len);
	if (pi.proto == IPPROTO_NUM_UDP || (icmp && pi.icmp_type == ICMP_ECHO_REPLY))
		return inbound_query(n, now, &pi, in, len, out, cap, out_len);
	if (pi.proto == IPPROTO_NUM_TCP)
		return inbound_tcp(n, now, &pi, in, len, out, cap, out_len);
	if (icmp && pi.icmp_type != ICMP_ECHO_REQUEST)
		return (struct nat64_result){.verdict = NAT64_DROP_UNTRANSLATABLE,
					     .xlat = XLAT_ERR_ICMP_UNTRANSLATABLE};
	/* A ping to the pool address (no binding takes pings from outside; a
	 * static one would). */
	return verdict(NAT64_DROP_UNSUPPORTED);
}
