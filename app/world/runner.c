/*
 * runner.c - perform a scenario's actions and check its expectations.
 */
#include "app/world/runner.h"
#include "app/world/ping6.h"
#include "app/world/traceroute6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/world/bgtraffic.h"
#include "app/world/icmpapp.h"
#include "app/world/icmpwatch.h"
#include "app/world/tcpapp.h"
#include "app/world/tcpwatch.h"
#include "base/endpoint.h"
#include "explain/explain.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "model/xlat.h"
#include "viz/text.h"

struct drop_seen {
	int64_t t;
	const char *node; /* node names live as long as the world */
	int reason;
	struct endpoint src, dst;
	uint8_t proto, icmp_type, icmp_code; /* ICMP: which message (no ports) */
	/* An IPv6 packet's flow (malloc'd; src/dst unset, as expectations name
	 * IPv4 endpoints only), or NULL: IPv4 drops stay as small as before. */
	struct verdict_flow *flow6;
};

struct data_seen {
	int64_t t;
	const char *host, *from;
	char *data;
	size_t len;
};

struct class_seen {
	int64_t t;
	const char *host;
	char classic[32];
};

/* A path change one agent reported about one peer (both sides of a pair). */
struct path_seen {
	int64_t t;
	const char *host, *peer; /* scenario names */
	enum run_step_kind kind;
	int family; /* direct: 4 or 6, the family of the path (p2p_event.family) */
};

struct runner {
	const struct scenario *s;
	struct world w;
	struct run_result *res;
	struct drop_seen *drops;
	size_t n_drops, cap_drops;
	struct data_seen *data;
	size_t n_data, cap_data;
	struct class_seen *classes;
	size_t n_classes, cap_classes;
	struct path_seen *paths;
	size_t n_paths, cap_paths;
	struct icmp_watch icmp;		  /* what ICMP reached whom (expect icmp, related) */
	struct icmp_apps *progs;	  /* ping and traceroute */
	struct ping6_apps *pings6;	  /* ping over IPv6 (NULL until the first) */
	struct traceroute6_apps *traces6; /* traceroute over IPv6 (likewise) */
	struct tcp_watch tcp;  /* sockets and TCP conntrack (expect tcp, socket, conntrack) */
	struct tcp_apps *nc;   /* the TCP servers and clients */
	struct bg_traffic *bg; /* background traffic */
	bool oom;
};

static int64_t now_of(struct runner *r)
{
	return engine_now(net_engine(r->w.net));
}

/* Grow a (pointer, count, capacity) array by one slot; NULL on OOM. */
static void *push(void *arrp, size_t *n, size_t *cap, size_t size)
{
	char **arr = arrp;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char *na = realloc(*arr, nc * size);
		if (!na)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	return memset(*arr + (*n)++ * size, 0, size);
}

static void emit_scenario(struct runner *r, enum trace_scenario_event ev, const char *text,
			  int line)
{
	struct trace *t = net_trace(r->w.net);
	if (!trace_active(t))
		return;
	struct trace_record rec = {.kind = TRACE_SCENARIO};
	rec.u.scenario.event = ev;
	rec.u.scenario.text = text;
	rec.u.scenario.line = line;
	trace_emit(t, &rec);
}

/* ---- what the runner watches ---- */

static void read_endpoints(const uint8_t *b, size_t len, struct endpoint *src, struct endpoint *dst)
{
	*src = *dst = (struct endpoint){0, 0};
	if (len < IPV4_HEADER_MIN)
		return;
	src->ip = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
	dst->ip = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
	size_t ihl = (size_t)(b[0] & 0xf) * 4;
	if ((b[9] == IPPROTO_NUM_UDP || b[9] == IPPROTO_NUM_TCP) && ihl >= IPV4_HEADER_MIN &&
	    len >= ihl + 4) {
		src->port = (uint16_t)(b[ihl] << 8 | b[ihl + 1]);
		dst->port = (uint16_t)(b[ihl + 2] << 8 | b[ihl + 3]);
	}
}

static void on_trace(const struct trace_record *rec, void *ctx)
{
	struct runner *r = ctx;
	if (icmp_watch_record(&r->icmp, rec) < 0 || tcp_watch_record(&r->tcp, rec) < 0)
		r->oom = true;
	if (rec->kind != TRACE_PACKET || rec->u.packet.hop != TRACE_HOP_DROP)
		return;
	struct drop_seen *d = push(&r->drops, &r->n_drops, &r->cap_drops, sizeof(*d));
	if (!d) {
		r->oom = true;
		return;
	}
	d->t = rec->time;
	d->node = rec->u.packet.node;
	d->reason = rec->u.packet.reason;
	if (packet_ip_version(rec->u.packet.bytes, rec->u.packet.len) == 6) {
		if (!(d->flow6 = malloc(sizeof(*d->flow6))))
			r->oom = true;
		else
			*d->flow6 = packet_flow_of_bytes(rec->u.packet.bytes, rec->u.packet.len);
		return;
	}
	read_endpoints(rec->u.packet.bytes, rec->u.packet.len, &d->src, &d->dst);
	if (rec->u.packet.len > IPV4_HEADER_MIN + 1) {
		const uint8_t *b = rec->u.packet.bytes;
		size_t ihl = (size_t)(b[0] & 0xf) * 4;
		d->proto = b[9];
		if (d->proto == IPPROTO_NUM_ICMP && ihl >= IPV4_HEADER_MIN &&
		    rec->u.packet.len >= ihl + 2) {
			d->icmp_type = b[ihl];
			d->icmp_code = b[ihl + 1];
		}
	}
}

static struct run_pair *find_pair(struct runner *r, const char *a, const char *b)
{
	for (size_t i = 0; i < r->res->n_pairs; i++) {
		struct run_pair *p = &r->res->pairs[i];
		if ((strcmp(p->a, a) == 0 && strcmp(p->b, b) == 0) ||
		    (strcmp(p->a, b) == 0 && strcmp(p->b, a) == 0))
			return p;
	}
	return NULL;
}

static enum run_step_kind step_of(enum agent_event_type type)
{
	switch (type) {
	case AGENT_EV_RELAYED:
		return RUN_STEP_RELAYED;
	case AGENT_EV_PATH_LOST:
		return RUN_STEP_LOST;
	case AGENT_EV_FAILED:
		return RUN_STEP_FAILED;
	default:
		return RUN_STEP_DIRECT;
	}
}

/* The first steps are kept, and the last one always. */
static void add_step(struct run_pair *p, int64_t t, enum run_step_kind kind)
{
	size_t i = p->n_steps < RUN_HISTORY_MAX ? p->n_steps : RUN_HISTORY_MAX - 1;
	p->steps[i] = (struct run_step){t, kind};
	p->n_steps++;
}

static void note_path_event(struct runner *r, const char *agent, const struct p2p_event *ev)
{
	struct run_pair *p = find_pair(r, agent, ev->peer);
	int64_t t = now_of(r);
	if (!p || t < p->connect_at)
		return;
	enum run_step_kind kind = step_of(ev->type);
	struct path_seen *s = push(&r->paths, &r->n_paths, &r->cap_paths, sizeof(*s));
	if (!s) {
		r->oom = true;
		return;
	}
	*s = (struct path_seen){t, strcmp(agent, p->a) == 0 ? p->a : p->b,
				strcmp(agent, p->a) == 0 ? p->b : p->a, kind,
				ev->family == P2P_FAMILY_IPV6 ? 6 : 4};
	bool direct = kind == RUN_STEP_DIRECT;
	if ((direct || kind == RUN_STEP_RELAYED) && p->connected_at == SCENARIO_UNSET)
		p->connected_at = t;
	if (direct && p->direct_at == SCENARIO_UNSET)
		p->direct_at = t;
	/* The history and the path in the words of the side that asked. */
	if (strcmp(agent, p->a) != 0)
		return;
	add_step(p, t, kind);
	if (direct) {
		snprintf(p->detail, sizeof(p->detail), "%s", ev->text);
		p->technique = ev->technique;
		p->family = ev->family == P2P_FAMILY_IPV6 ? 6 : 4;
	} else if (kind == RUN_STEP_LOST || kind == RUN_STEP_FAILED)
		snprintf(p->failure, sizeof(p->failure), "%s", ev->text);
}

static void on_agent(struct sim_agent *sa, const struct p2p_event *ev, void *ctx)
{
	struct runner *r = ctx;
	const char *name = sim_agent_name(sa);
	switch (ev->type) {
	case AGENT_EV_DIRECT:
	case AGENT_EV_UPGRADED:
	case AGENT_EV_RELAYED:
	case AGENT_EV_PATH_LOST:
		note_path_event(r, name, ev);
		break;
	case AGENT_EV_FAILED:
		if (ev->peer[0]) /* not the agent's own registration */
			note_path_event(r, name, ev);
		break;
	case AGENT_EV_DATA_RECEIVED: {
		struct data_seen *d = push(&r->data, &r->n_data, &r->cap_data, sizeof(*d));
		struct world_host *from = world_find_host(&r->w, ev->peer);
		if (!d || !(d->data = malloc(ev->data_len + 1))) {
			r->oom = true;
			return;
		}
		d->t = now_of(r);
		d->host = world_find_host(&r->w, name)->spec->name;
		d->from = from ? from->spec->name : "";
		memcpy(d->data, ev->data, ev->data_len);
		d->data[ev->data_len] = 0;
		d->len = ev->data_len;
		break;
	}
	case AGENT_EV_NAT_CLASSIFIED: {
		struct class_seen *c =
		    push(&r->classes, &r->n_classes, &r->cap_classes, sizeof(*c));
		if (!c) {
			r->oom = true;
			return;
		}
		c->t = now_of(r);
		c->host = world_find_host(&r->w, name)->spec->name;
		snprintf(c->classic, sizeof(c->classic), "%s",
			 ev->nat.classic_name ? ev->nat.classic_name : "unknown");
		break;
	}
	default:
		break;
	}
}

/* ---- actions ---- */

static struct agent *agent_of(struct runner *r, const char *host)
{
	struct world_host *wh = world_find_host(&r->w, host);
	return wh && wh->agent ? sim_agent_agent(wh->agent) : NULL;
}

static void flush_agent(struct runner *r, const char *host)
{
	struct world_host *wh = world_find_host(&r->w, host);
	if (wh && wh->agent)
		sim_agent_flush(wh->agent);
}

/* The address a scenario endpoint names: a literal, or a node's address. */
static uint32_t endpoint_ip(struct runner *r, const struct scenario_endpoint *ep)
{
	if (!ep->node.name)
		return ep->ip;
	const struct scenario_host *h = scenario_find_host(r->s, ep->node.name);
	const struct scenario_nat *n = scenario_find_nat(r->s, ep->node.name);
	if (h)
		return h->ip;
	if (n)
		return n->public_ip[0];
	if (r->s->coordinator && strcmp(r->s->coordinator->name, ep->node.name) == 0)
		return r->s->coordinator->ip;
	for (size_t i = 0; i < r->s->n_routers; i++) /* a NAT64 home: its pool address */
		if (strcmp(r->s->routers[i].name, ep->node.name) == 0)
			return r->s->routers[i].nat64_pool;
	return 0;
}

static void act_set_nat(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct world_nat *wn = world_find_nat(&r->w, a->target.name);
	struct nat *nat = router_nat(wn->router);
	struct nat_config cfg = *nat_config(nat);
	if (a->preset)
		nat_config_preset(&cfg, a->preset);
	if (a->has_mapping)
		cfg.mapping = (enum nat_behaviour)a->mapping;
	if (a->has_filtering)
		cfg.filtering = (enum nat_behaviour)a->filtering;
	nat_reconfigure(nat, &cfg);
	conntrack_flush(router_conntrack(wn->router), "flushed (NAT reconfigured)");
	snprintf(msg, n, "%s now behaves as %s (%s + %s); its mappings are gone", a->target.name,
		 nat_classic_name(cfg.mapping, cfg.filtering),
		 nat_behaviour_abbrev(cfg.mapping, false),
		 nat_behaviour_abbrev(cfg.filtering, true));
}

/* The name a target was written with, or its address. */
static const char *target_name(const struct scenario_endpoint *ep, uint32_t ip, char *buf, size_t n)
{
	if (ep->node.name)
		return ep->node.name;
	return ip_format(ip, buf, n);
}

/* The IPv6 address a ping goes to, if it goes over IPv6: a literal IPv6
 * address, or a name both ends have IPv6 for. A name resolves as ping's
 * getaddrinfo orders it (RFC 6724 section 6, rule 2: a destination whose
 * scope the source has, IPv6 first in the default policy table) when the
 * pinging host has an IPv6 address. */
static bool ping6_target(struct runner *r, const struct scenario_action *a, struct ip6_addr *out)
{
	const struct scenario_host *from = scenario_find_host(r->s, a->host.name);
	const struct scenario_host *h =
	    a->dst.node.name ? scenario_find_host(r->s, a->dst.node.name) : NULL;
	const struct scenario_coordinator *c = r->s->coordinator;

	if (a->dst.is6)
		return *out = a->dst.ip6, true;
	if (!from || !from->has_ip6 || !a->dst.node.name)
		return false;
	if (h && h->has_ip6)
		return *out = h->ip6, true;
	if (c && c->has_ip6 && strcmp(c->name, a->dst.node.name) == 0)
		return *out = c->ip6, true;
	return false;
}

static void act_ping6(struct runner *r, const struct scenario_action *a, const struct ip6_addr *dst,
		      char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct ping_options o = {a->count, a->interval_ns, a->size, a->ttl};
	char ip[48];

	if (!r->pings6)
		r->pings6 = ping6_apps_new(r->w.net);
	if (!r->pings6 || ping6_start(r->pings6, wh->host, dst, &o) < 0)
		r->oom = true;
	snprintf(msg, n, "%s pings %s over IPv6 (%d echo request%s)", a->host.name,
		 a->dst.node.name ? a->dst.node.name : ip6_format(dst, ip, sizeof(ip)), a->count,
		 a->count == 1 ? "" : "s");
}

static void act_ping(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct ip6_addr dst6;
	if (ping6_target(r, a, &dst6)) {
		act_ping6(r, a, &dst6, msg, n);
		return;
	}
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	uint32_t dst = endpoint_ip(r, &a->dst);
	struct ping_options o = {a->count, a->interval_ns, a->size, a->ttl};
	char ip[16];
	const char *name = target_name(&a->dst, dst, ip, sizeof(ip));

	if (icmp_ping_start(r->progs, wh->host, dst, name, &o) < 0)
		r->oom = true;
	snprintf(msg, n, "%s pings %s (%d echo request%s)", a->host.name, name, a->count,
		 a->count == 1 ? "" : "s");
}

/* Over IPv6 when ping would go over IPv6 (ping6_target): traceroute's
 * getaddrinfo orders a name the same way. */
static void act_traceroute6(struct runner *r, const struct scenario_action *a,
			    const struct ip6_addr *dst, char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	char ip[48];
	const char *name = a->dst.node.name ? a->dst.node.name : ip6_format(dst, ip, sizeof(ip));

	if (!r->traces6)
		r->traces6 = traceroute6_apps_new(r->w.net);
	if (!r->traces6 || traceroute6_start(r->traces6, wh->host, dst, name, a->max_hops) < 0)
		snprintf(msg, n, "%s cannot start traceroute: out of memory", a->host.name);
	else
		snprintf(msg, n, "%s runs traceroute to %s over IPv6", a->host.name, name);
}

static void act_traceroute(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct ip6_addr dst6;
	if (ping6_target(r, a, &dst6)) {
		act_traceroute6(r, a, &dst6, msg, n);
		return;
	}
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	uint32_t dst = endpoint_ip(r, &a->dst);
	char ip[16];
	const char *name = target_name(&a->dst, dst, ip, sizeof(ip));

	if (icmp_traceroute_start(r->progs, wh->host, dst, name, a->max_hops) < 0)
		snprintf(msg, n, "%s cannot start traceroute: out of memory", a->host.name);
	else
		snprintf(msg, n, "%s runs traceroute to %s", a->host.name, name);
}

/* The ICMP message a `raw icmp` action writes, as bytes. */
static size_t raw_icmp_bytes(struct runner *r, const struct scenario_action *a, uint8_t *buf,
			     size_t cap)
{
	uint32_t src = world_find_host(&r->w, a->host.name)->spec->ip;
	uint32_t dst = endpoint_ip(r, &a->dst);
	uint8_t quoted[IPV4_HEADER_MIN + UDP_HEADER_SIZE];
	size_t len;

	if (!a->has_about) {
		len = packet_build_icmp_echo(buf, cap, src, dst, (uint8_t)a->ttl, 0,
					     ICMP_ECHO_REQUEST, (uint16_t)a->icmp_id,
					     (uint16_t)a->icmp_seq, NULL, 0);
		if (len > 0) { /* any type: the echo is only the frame */
			buf[IPV4_HEADER_MIN] = (uint8_t)a->icmp_type;
			buf[IPV4_HEADER_MIN + 1] = (uint8_t)a->icmp_code;
			packet_fill_checksums(buf, len);
		}
	} else {
		struct endpoint qs = {endpoint_ip(r, &a->about_src), (uint16_t)a->about_src.port};
		struct endpoint qd = {endpoint_ip(r, &a->about_dst), (uint16_t)a->about_dst.port};

		packet_build_udp(quoted, sizeof(quoted), &qs, &qd, PACKET_DEFAULT_TTL, 0, NULL, 0);
		len = packet_build_icmp_error(buf, cap, src, dst, (uint8_t)a->ttl, 0,
					      (uint8_t)a->icmp_type, (uint8_t)a->icmp_code, quoted,
					      sizeof(quoted));
	}
	if (len > 0 && a->bad_checksum)
		buf[IPV4_HEADER_MIN + 2] ^= 0x5a; /* the ICMP checksum, no longer right */
	return len;
}

/* An endpoint's IPv6 address: a literal, or a host's or the coordinator's
 * own. False if it has none. */
static bool endpoint_ip6(struct runner *r, const struct scenario_endpoint *e, struct ip6_addr *out)
{
	const struct scenario_host *h =
	    e->node.name ? scenario_find_host(r->s, e->node.name) : NULL;
	const struct scenario_coordinator *c = r->s->coordinator;

	if (e->is6)
		return *out = e->ip6, true;
	if (h && h->has_ip6)
		return *out = h->ip6, true;
	if (e->node.name && c && c->has_ip6 && strcmp(c->name, e->node.name) == 0)
		return *out = c->ip6, true;
	return false;
}

/* Bytes 4-7 of a raw ICMPv6 error: packet too big's MTU, the least IPv6
 * allows (RFC 8200 section 5); protocol unreachable's pointer at the next
 * header field, 6, as RFC 7915 4.2 sets it; else 0. */
static uint32_t raw_icmp6_param(uint8_t type, uint8_t code)
{
	if (type == ICMP6_PACKET_TOO_BIG)
		return IPV6_MIN_MTU;
	return type == ICMP6_PARAM_PROBLEM && code == 1 ? 6 : 0;
}

/* `raw icmp` to an IPv6 target: the message ICMPv4's type and code become
 * as RFC 7915 4.2 translates them (xlat_icmp_type_4to6: echo-request 128,
 * port-unreachable 1/4, host-unreachable 1/0, admin-prohibited 1/1,
 * time-exceeded 3, fragmentation needed packet too big), an error quoting
 * an IPv6 UDP header `about` SRC to DST (RFC 4443 2.4(c) wants as much as
 * fits: natsim quotes the 48 bytes that name the flow). 0 if none. */
static size_t raw_icmp6_bytes(struct runner *r, const struct scenario_action *a,
			      const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	const struct ip6_addr *src = &world_find_host(&r->w, a->host.name)->spec->ip6;
	uint8_t quoted[IPV6_HEADER_SIZE + UDP_HEADER_SIZE], t6, c6;
	struct endpoint6 qs = {.port = (uint16_t)a->about_src.port};
	struct endpoint6 qd = {.port = (uint16_t)a->about_dst.port};
	size_t len;

	if (!xlat_icmp_type_4to6((uint8_t)a->icmp_type, (uint8_t)a->icmp_code, &t6, &c6))
		return 0;
	if (!a->has_about || !icmp6_is_error(t6)) {
		len =
		    packet6_build_icmp_echo(buf, cap, src, dst, (uint8_t)a->ttl, ICMP6_ECHO_REQUEST,
					    (uint16_t)a->icmp_id, (uint16_t)a->icmp_seq, NULL, 0);
		if (len > 0) { /* any type: the echo is only the frame */
			buf[IPV6_HEADER_SIZE] = t6;
			buf[IPV6_HEADER_SIZE + 1] = c6;
			packet6_fill_checksums(buf, len);
		}
	} else {
		if (!endpoint_ip6(r, &a->about_src, &qs.ip) ||
		    !endpoint_ip6(r, &a->about_dst, &qd.ip))
			return 0;
		packet6_build_udp(quoted, sizeof(quoted), &qs, &qd, IPV6_DEFAULT_HOP_LIMIT, 0, NULL,
				  0);
		len = packet6_build_icmp_error(buf, cap, src, dst, (uint8_t)a->ttl, t6, c6,
					       raw_icmp6_param(t6, c6), quoted, sizeof(quoted));
	}
	if (len > 0 && a->bad_checksum)
		buf[IPV6_HEADER_SIZE + 2] ^= 0x5a; /* the ICMPv6 checksum, no longer right */
	return len;
}

static void act_raw_icmp6(struct runner *r, const struct scenario_action *a,
			  const struct ip6_addr *dst, char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len = raw_icmp6_bytes(r, a, dst, buf, sizeof(buf));
	char what[48], ip[48];
	const char *name = a->dst.node.name ? a->dst.node.name : ip6_format(dst, ip, sizeof(ip));

	if (len == 0) {
		snprintf(msg, n,
			 "%s cannot send that ICMP message over IPv6: it has no ICMPv6 "
			 "counterpart (RFC 7915 4.2), or what it quotes has no IPv6 address",
			 a->host.name);
		return;
	}
	icmp6_describe(buf[IPV6_HEADER_SIZE], buf[IPV6_HEADER_SIZE + 1], what, sizeof(what));
	host_send_raw(wh->host, buf, len);
	snprintf(msg, n, "%s sends a raw ICMPv6 %s to %s%s", a->host.name, what, name,
		 a->bad_checksum ? " with a wrong checksum" : "");
}

static void act_raw_icmp(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct ip6_addr dst6;
	if (ping6_target(r, a, &dst6)) { /* the family as ping picks it */
		act_raw_icmp6(r, a, &dst6, msg, n);
		return;
	}
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len = raw_icmp_bytes(r, a, buf, sizeof(buf));
	char what[48], ip[16];

	icmp_describe((uint8_t)a->icmp_type, (uint8_t)a->icmp_code, what, sizeof(what));
	host_send_raw(wh->host, buf, len);
	snprintf(msg, n, "%s sends a raw ICMP %s to %s%s", a->host.name, what,
		 target_name(&a->dst, endpoint_ip(r, &a->dst), ip, sizeof(ip)),
		 a->bad_checksum ? " with a wrong checksum" : "");
}

/* `raw` over IPv6: one UDP datagram from the host's IPv6 address, hop
 * limit 64 (Linux's net.ipv6.conf.all.hop_limit default), flow label 0. */
static void act_raw6(struct runner *r, const struct scenario_action *a, const struct ip6_addr *to,
		     char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct endpoint6 src = {wh->spec->ip6, a->src_port};
	struct endpoint6 dst = {*to, (uint16_t)a->dst.port};
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len = packet6_build_udp(buf, sizeof(buf), &src, &dst, PACKET_DEFAULT_TTL, 0, a->text,
				       a->text_len);
	char d[64];

	endpoint6_format(&dst, d, sizeof(d));
	if (len == 0) {
		snprintf(msg, n, "%s cannot send a raw datagram that large", a->host.name);
		return;
	}
	host_send_raw(wh->host, buf, len);
	snprintf(msg, n, "%s sends a raw UDP datagram from port %u to %s", a->host.name,
		 a->src_port, d);
}

static void act_raw(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct ip6_addr dst6;
	if (ping6_target(r, a, &dst6)) { /* the family as ping picks it */
		act_raw6(r, a, &dst6, msg, n);
		return;
	}
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct endpoint src = {wh->spec->ip, a->src_port};
	struct endpoint dst = {endpoint_ip(r, &a->dst), (uint16_t)a->dst.port};
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len = packet_build_udp(buf, sizeof(buf), &src, &dst, PACKET_DEFAULT_TTL, 0, a->text,
				      a->text_len);
	char d[32];
	endpoint_format(&dst, d, sizeof(d));
	if (len == 0) {
		snprintf(msg, n, "%s cannot send a raw datagram that large", a->host.name);
		return;
	}
	host_send_raw(wh->host, buf, len);
	snprintf(msg, n, "%s sends a raw UDP datagram from port %u to %s", a->host.name,
		 a->src_port, d);
}

/* The segment a `raw tcp` action writes: no options, `payload` zeros. */
static struct tcp_segment raw_tcp_segment(const struct scenario_action *a)
{
	static const uint8_t zeros[PACKET_MAX_SIZE];

	return (struct tcp_segment){.flags = a->tcp_flags,
				    .seq = a->tcp_seq,
				    .ack = a->tcp_ack,
				    .window = a->tcp_window,
				    .payload = zeros,
				    .payload_len = (size_t)a->payload_len};
}

/* Send a `raw tcp` segment built into buf (len 0: it could not be built)
 * and say so, `to` the destination as text. */
static void send_raw_segment(struct world_host *wh, const struct scenario_action *a,
			     const uint8_t *buf, size_t len, const char *to, char *msg, size_t n)
{
	char flags[48];

	if (len == 0) {
		snprintf(msg, n, "%s cannot build that TCP segment", a->host.name);
		return;
	}
	tcp_flags_format(a->tcp_flags, flags, sizeof(flags));
	host_send_raw(wh->host, buf, len);
	snprintf(msg, n, "%s sends a raw TCP segment [%s] from port %u to %s", a->host.name, flags,
		 a->src_port, to);
}

/* `raw tcp` over IPv6: the segment from the host's IPv6 address, hop limit
 * 64, flow label 0 (packet6_build_tcp), as `raw` sends UDP. */
static void act_raw_tcp6(struct runner *r, const struct scenario_action *a,
			 const struct ip6_addr *to, char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct endpoint6 src = {wh->spec->ip6, a->src_port};
	struct endpoint6 dst = {*to, (uint16_t)a->dst.port};
	struct tcp_segment seg = raw_tcp_segment(a);
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len =
	    packet6_build_tcp(buf, sizeof(buf), &src, &dst, IPV6_DEFAULT_HOP_LIMIT, 0, &seg);
	char d[64];

	endpoint6_format(&dst, d, sizeof(d));
	send_raw_segment(wh, a, buf, len, d, msg, n);
}

/* `raw tcp`: one segment of the teacher's making (packet_build_tcp). */
static void act_raw_tcp(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct ip6_addr dst6;
	if (ping6_target(r, a, &dst6)) { /* the family as ping picks it */
		act_raw_tcp6(r, a, &dst6, msg, n);
		return;
	}
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct endpoint src = {wh->spec->ip, a->src_port};
	struct endpoint dst = {endpoint_ip(r, &a->dst), (uint16_t)a->dst.port};
	struct tcp_segment seg = raw_tcp_segment(a);
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len = packet_build_tcp(buf, sizeof(buf), &src, &dst, PACKET_DEFAULT_TTL, 0, &seg);
	char d[32];

	endpoint_format(&dst, d, sizeof(d));
	send_raw_segment(wh, a, buf, len, d, msg, n);
}

/* `tcp` over IPv6: nc to an IPv6 literal, or to a name both ends have
 * IPv6 for (ping6_target). */
static void act_tcp6(struct runner *r, const struct scenario_action *a, struct host *h,
		     const struct endpoint6 *dst, char *msg, size_t n)
{
	struct tcp_client_options o = {a->src_port, (uint32_t)a->send_bytes, a->close};
	char ip[IP6_TEXT_SIZE], to[ENDPOINT6_TEXT_SIZE + 80], from[32] = "";
	const char *name =
	    a->dst.node.name ? a->dst.node.name : ip6_format(&dst->ip, ip, sizeof(ip));

	if (tcp_client_start6(r->nc, h, dst, name, &o) < 0)
		r->oom = true;
	if (a->dst.node.name)
		snprintf(to, sizeof(to), "%s:%u", name, dst->port);
	else
		endpoint6_format(dst, to, sizeof(to));
	if (a->src_port)
		snprintf(from, sizeof(from), " from port %u", a->src_port);
	snprintf(msg, n, "%s opens a TCP connection to %s over IPv6%s", a->host.name, to, from);
}

/* `tcp` and `serve`: netcat on a host (tcpapp.h). */
static void act_tcp(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	char ip[16], from[32] = "";

	if (a->kind == SCENARIO_ACT_SERVE) {
		if (tcp_serve_start(r->nc, wh->host, a->src_port,
				    (enum tcp_serve_mode)a->serve_mode) < 0)
			r->oom = true;
		static const char *const modes[] = {"discard", "echo", "daytime"};
		snprintf(msg, n, "%s serves TCP port %u (%s)", a->host.name, a->src_port,
			 modes[a->serve_mode]);
		return;
	}
	struct tcp_client_options o = {a->src_port, (uint32_t)a->send_bytes, a->close};
	struct endpoint6 dst6 = {.port = (uint16_t)a->dst.port};
	if (ping6_target(r, a, &dst6.ip)) { /* the family as ping picks it */
		act_tcp6(r, a, wh->host, &dst6, msg, n);
		return;
	}
	struct endpoint dst = {endpoint_ip(r, &a->dst), (uint16_t)a->dst.port};
	const char *name = target_name(&a->dst, dst.ip, ip, sizeof(ip));
	if (tcp_client_start(r->nc, wh->host, &dst, name, &o) < 0)
		r->oom = true;
	if (a->src_port)
		snprintf(from, sizeof(from), " from port %u", a->src_port);
	snprintf(msg, n, "%s opens a TCP connection to %s:%u%s", a->host.name, name, dst.port,
		 from);
}

/* The scenario's host (or the coordinator's) holding `ip`, or NULL. */
static struct host *host_at(struct runner *r, uint32_t ip)
{
	const struct scenario_coordinator *c = r->s->coordinator;
	for (size_t i = 0; i < r->s->n_hosts; i++)
		if (r->s->hosts[i].ip == ip && r->s->hosts[i].is_public)
			return r->w.hosts[i].host;
	if (c && (c->ip == ip || (c->has_alternate && c->alt_ip == ip)))
		return r->w.coord_host;
	return NULL;
}

/* The scenario's host holding IPv6 address `ip`, or NULL. */
static struct host *host_at6(struct runner *r, const struct ip6_addr *ip)
{
	for (size_t i = 0; i < r->s->n_hosts; i++)
		if (r->s->hosts[i].has_ip6 && ip6_equal(&r->s->hosts[i].ip6, ip))
			return r->w.hosts[i].host;
	return NULL;
}

static void act_background6(struct runner *r, const struct scenario_action *a,
			    const struct ip6_addr *to, char *msg, size_t n)
{
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct endpoint6 dst = {*to, (uint16_t)a->dst.port};
	struct bg_options o = {a->rate, a->duration_ns, a->size};
	char d[64];

	endpoint6_format(&dst, d, sizeof(d));
	if (bg_traffic_start6(r->bg, wh->host, &dst, d, host_at6(r, to), &o) < 0)
		r->oom = true;
	snprintf(msg, n, "%s starts background traffic: %d new flow%s a second to %s for %.9g s",
		 a->host.name, a->rate, a->rate == 1 ? "" : "s", d, a->duration_ns / 1e9);
}

/* `background`: other programs on the host open new flows (bgtraffic.h),
 * over IPv6 when ping would go over IPv6. */
static void act_background(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	struct ip6_addr dst6;
	if (ping6_target(r, a, &dst6)) {
		act_background6(r, a, &dst6, msg, n);
		return;
	}
	struct world_host *wh = world_find_host(&r->w, a->host.name);
	struct endpoint dst = {endpoint_ip(r, &a->dst), (uint16_t)a->dst.port};
	struct bg_options o = {a->rate, a->duration_ns, a->size};
	char d[32];

	endpoint_format(&dst, d, sizeof(d));
	if (bg_traffic_start(r->bg, wh->host, &dst, d, host_at(r, dst.ip), &o) < 0)
		r->oom = true;
	snprintf(msg, n, "%s starts background traffic: %d new flow%s a second to %s for %.9g s",
		 a->host.name, a->rate, a->rate == 1 ? "" : "s", d, a->duration_ns / 1e9);
}

/* The actions that speak to a host's agent; false for the others. */
static bool act_on_agent(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	uint64_t now = (uint64_t)now_of(r);
	const char *h = a->host.name, *p = a->peer.name;
	switch (a->kind) {
	case SCENARIO_ACT_REGISTER:
		agent_register(agent_of(r, h), now);
		snprintf(msg, n, "%s registers with the coordinator", h);
		return true;
	case SCENARIO_ACT_CONNECT:
		agent_connect(agent_of(r, h), now, p);
		snprintf(msg, n, "%s asks the coordinator to connect it to %s", h, p);
		return true;
	case SCENARIO_ACT_SEND: {
		int rc = agent_send(agent_of(r, h), now, p, (const uint8_t *)a->text, a->text_len);
		snprintf(msg, n,
			 rc == 0 ? "%s sends \"%s\" to %s" : "%s cannot send \"%s\" to %s: %s", h,
			 a->text, p, agent_error_str(rc));
		return true;
	}
	case SCENARIO_ACT_CLASSIFY:
		agent_classify(agent_of(r, h), now);
		snprintf(msg, n,
			 "%s runs NAT behaviour discovery (RFC 5780) against the coordinator", h);
		return true;
	case SCENARIO_ACT_KEEPALIVE:
		agent_set_keepalive(agent_of(r, h), (uint64_t)a->keepalive_ns);
		if (a->keepalive_ns)
			snprintf(msg, n, "%s sends keepalives every %.3g s", h,
				 a->keepalive_ns / 1e9);
		else
			snprintf(msg, n, "%s stops sending keepalives", h);
		return true;
	default:
		return false;
	}
}

/* Perform one action; `msg` gets what happened, for the trace. */
static void act(struct runner *r, const struct scenario_action *a, char *msg, size_t n)
{
	const char *t = a->target.name;
	if (act_on_agent(r, a, msg, n)) {
		flush_agent(r, a->host.name);
		return;
	}
	switch (a->kind) {
	case SCENARIO_ACT_CUT_LINK:
	case SCENARIO_ACT_RESTORE_LINK: {
		bool up = a->kind == SCENARIO_ACT_RESTORE_LINK;
		world_set_link_up(&r->w, t, up);
		snprintf(msg, n, up ? "%s's link is restored" : "%s's link is cut", t);
		break;
	}
	case SCENARIO_ACT_REBOOT: {
		struct world_nat *wn = world_find_nat(&r->w, t);
		nat_reboot(router_nat(wn->router));
		conntrack_flush(router_conntrack(wn->router), "flushed (reboot)");
		snprintf(msg, n, "%s reboots: its mappings and connection tracking are gone", t);
		break;
	}
	case SCENARIO_ACT_SET:
		act_set_nat(r, a, msg, n);
		break;
	case SCENARIO_ACT_RAW:
		if (a->icmp)
			act_raw_icmp(r, a, msg, n);
		else if (a->tcp)
			act_raw_tcp(r, a, msg, n);
		else
			act_raw(r, a, msg, n);
		break;
	case SCENARIO_ACT_TCP:
	case SCENARIO_ACT_SERVE:
		act_tcp(r, a, msg, n);
		break;
	case SCENARIO_ACT_PING:
		act_ping(r, a, msg, n);
		break;
	case SCENARIO_ACT_TRACEROUTE:
		act_traceroute(r, a, msg, n);
		break;
	case SCENARIO_ACT_BACKGROUND:
		act_background(r, a, msg, n);
		break;
	default: /* note */
		snprintf(msg, n, "%s", a->text ? a->text : "");
		break;
	}
	if (a->host.name)
		flush_agent(r, a->host.name);
}

struct scheduled {
	struct runner *r;
	const struct scenario_action *action;
	const struct scenario_expect *expect;
	size_t verdict;
};

static void action_fired(struct engine *e, void *arg)
{
	struct scheduled *sch = arg;
	char msg[400];
	(void)e;
	act(sch->r, sch->action, msg, sizeof(msg));
	emit_scenario(sch->r,
		      sch->action->kind == SCENARIO_ACT_NOTE ? TRACE_SCN_NOTE : TRACE_SCN_ACTION,
		      msg, sch->action->loc.line);
}

/* ---- expectations ---- */

static void fmt_time(int64_t ns, char *out, size_t n)
{
	char secs[TEXT_SECONDS_SIZE];
	snprintf(out, n, "%s s", text_seconds(ns, secs, sizeof(secs)));
}

static bool endpoint_matches(struct runner *r, const struct scenario_endpoint *want,
			     const struct endpoint *got)
{
	if (endpoint_ip(r, want) != got->ip)
		return false;
	return want->port == SCENARIO_UNSET || want->port == got->port;
}

static bool drop_matches(struct runner *r, const struct scenario_expect *x,
			 const struct drop_seen *d)
{
	if (x->reason != SCENARIO_REASON_ANY && d->reason != x->reason)
		return false;
	if (d->flow6) /* the checker lets no IPv6 endpoint into an expectation */
		return !x->has_from && !x->has_to;
	if (x->has_from && !endpoint_matches(r, &x->from, &d->src))
		return false;
	return !x->has_to || endpoint_matches(r, &x->to, &d->dst);
}

/* "the first at 1.083 s: 203.0.113.7:5000 → 198.51.100.9:5000 (nat-filter)",
 * or for ICMP, which has no ports, "...: ICMP port unreachable 192.0.2.20 →
 * 203.0.113.7 (icmp-no-flow)". */
static void drop_words(const struct drop_seen *d, char *out, size_t n)
{
	char t[32], src[24], dst[24], what[48];
	fmt_time(d->t, t, sizeof(t));
	if (d->flow6) {
		char flow[EXPLAIN_FLOW_SIZE];
		snprintf(out, n, "the first at %s: %s (%s)", t,
			 explain_flow(d->flow6, flow, sizeof(flow)),
			 scenario_reason_name(d->reason));
		return;
	}
	if (d->proto == IPPROTO_NUM_ICMP) {
		snprintf(out, n, "the first at %s: ICMP %s %s \u2192 %s (%s)", t,
			 icmp_describe(d->icmp_type, d->icmp_code, what, sizeof(what)),
			 ip_format(d->src.ip, src, sizeof(src)),
			 ip_format(d->dst.ip, dst, sizeof(dst)), scenario_reason_name(d->reason));
		return;
	}
	endpoint_format(&d->src, src, sizeof(src));
	endpoint_format(&d->dst, dst, sizeof(dst));
	snprintf(out, n, "the first at %s: %s \u2192 %s (%s)", t, src, dst,
		 scenario_reason_name(d->reason));
}

/* `expect drop` holds when a drop at the node matches, `expect no drop` when
 * none does. A failure shows what was there: the first offending drop, or
 * (nothing matched) the first of the node's other drops. */
static bool check_drops(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	const struct drop_seen *first = NULL, *other = NULL;
	size_t k = 0, others = 0;
	char what[224] = "";
	for (size_t i = 0; i < r->n_drops; i++) {
		const struct drop_seen *d = &r->drops[i];
		if (strcmp(d->node, x->node.name) != 0)
			continue;
		bool match = drop_matches(r, x, d);
		k += match;
		others += !match;
		if (match && first == NULL)
			first = d;
		if (!match && other == NULL)
			other = d;
	}
	bool held = (k > 0) == (x->kind == SCENARIO_EXPECT_DROP);
	if (held || k > 0) {
		if (first != NULL)
			drop_words(first, what, sizeof(what));
		snprintf(why, n, "%zu matching drop%s at %s%s%s", k, k == 1 ? "" : "s",
			 x->node.name, first ? ", " : "", what);
	} else if (other != NULL) {
		drop_words(other, what, sizeof(what));
		snprintf(why, n, "no matching drop at %s; it dropped %zu other packet%s, %s",
			 x->node.name, others, others == 1 ? "" : "s", what);
	} else {
		snprintf(why, n, "no matching drop at %s; it dropped nothing", x->node.name);
	}
	return held;
}

static int path_of(enum agent_peer_state st)
{
	return st == AGENT_PEER_DIRECT	  ? SCENARIO_PATH_DIRECT
	       : st == AGENT_PEER_RELAYED ? SCENARIO_PATH_RELAYED
					  : SCENARIO_PATH_UNCONNECTED;
}

/* "direct at 1.145 s, lost at 31.145 s": what host saw of its path to peer,
 * the last `room` steps at most. */
static void history_words(struct runner *r, const char *host, const char *peer, char *out, size_t n)
{
	size_t len = 0, total = 0, shown = 0;
	for (size_t i = 0; i < r->n_paths; i++)
		total += strcmp(r->paths[i].host, host) == 0 && strcmp(r->paths[i].peer, peer) == 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->n_paths && len < n; i++) {
		const struct path_seen *s = &r->paths[i];
		if (strcmp(s->host, host) != 0 || strcmp(s->peer, peer) != 0 || total - shown++ > 6)
			continue;
		char secs[TEXT_SECONDS_SIZE];
		len += (size_t)snprintf(out + len, n - len, "%s%s at %s s",
					len	    ? ", "
					: total > 6 ? "..., "
						    : "",
					run_step_name(s->kind),
					text_seconds(s->t, secs, sizeof(secs)));
	}
}

/* `expect A and B direct|relayed [by T]`: the path was reached at some
 * moment up to T (the end of the run without `by`); `unconnected [by T]`:
 * not connected at T. `expect A and B end PATH`: the state the run ends in.
 * Always as A's agent sees its path to B. */
/* `direct over ipv6`: the family of the host's last direct path to the
 * peer, as its DIRECT event said (any family when the expectation names
 * none). */
static int last_direct_family(const struct runner *r, const struct scenario_expect *x)
{
	int last = 0;
	for (size_t i = 0; i < r->n_paths; i++) {
		const struct path_seen *s = &r->paths[i];
		if (s->kind == RUN_STEP_DIRECT && strcmp(s->host, x->host.name) == 0 &&
		    strcmp(s->peer, x->peer.name) == 0)
			last = s->family;
	}
	return last;
}

static bool family_holds(const struct runner *r, const struct scenario_expect *x)
{
	return x->family == 0 || last_direct_family(r, x) == x->family;
}

static bool check_path(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	enum agent_peer_state st = agent_peer_state(agent_of(r, x->host.name), x->peer.name);
	bool ok = path_of(st) == x->path && family_holds(r, x);
	if (!x->at_end && x->path != SCENARIO_PATH_UNCONNECTED) {
		enum run_step_kind want =
		    x->path == SCENARIO_PATH_DIRECT ? RUN_STEP_DIRECT : RUN_STEP_RELAYED;
		ok = false;
		for (size_t i = 0; i < r->n_paths; i++) {
			const struct path_seen *s = &r->paths[i];
			ok |= s->kind == want && strcmp(s->host, x->host.name) == 0 &&
			      strcmp(s->peer, x->peer.name) == 0 &&
			      (x->family == 0 || s->family == x->family);
		}
	}
	char hist[200];
	history_words(r, x->host.name, x->peer.name, hist, sizeof(hist));
	if (st == AGENT_PEER_NONE)
		snprintf(why, n, "%s never asked for a path to %s", x->host.name, x->peer.name);
	else
		snprintf(why, n, "%s's path to %s %s %s%s (%s)", x->host.name, x->peer.name,
			 x->at_end ? "ends" : "is", agent_peer_state_name(st),
			 x->family == 0			 ? ""
			 : last_direct_family(r, x) == 6 ? ", last over IPv6"
			 : last_direct_family(r, x) == 4 ? ", last over IPv4"
							 : "",
			 hist[0] ? hist : "it was never direct or relayed");
	return ok;
}

/* What `expect [no] mapping` found: the NAT's mappings counted, and the
 * first few of those a failure is about, listed to show what was there. */
enum { MAPPING_LISTED = 3 };

struct mapping_query {
	uint32_t ip;
	int port, external_port;
	bool list_matches; /* list the matching mappings, else every one */
	size_t matches, total;
	struct endpoint listed[MAPPING_LISTED][2]; /* internal, external */
	size_t n_listed;
};

static bool mapping_visit(const struct nat_mapping *m, void *ctx)
{
	struct mapping_query *q = ctx;
	bool match = (!q->ip || m->internal.ip == q->ip) &&
		     (q->port == SCENARIO_UNSET || m->internal.port == q->port) &&
		     (q->external_port == SCENARIO_UNSET || m->external.port == q->external_port);
	q->total++;
	q->matches += match;
	if ((match || !q->list_matches) && q->n_listed < MAPPING_LISTED) {
		q->listed[q->n_listed][0] = m->internal;
		q->listed[q->n_listed][1] = m->external;
		q->n_listed++;
	}
	return true;
}

/* ": 192.168.1.5:5000 ↔ 203.0.113.7:61000, ... and 2 more" after `why`. */
static void mapping_list(const struct mapping_query *q, size_t of, char *why, size_t n)
{
	size_t used = strlen(why);
	for (size_t i = 0; i < q->n_listed && used < n; i++) {
		char in[24], ex[24];
		endpoint_format(&q->listed[i][0], in, sizeof(in));
		endpoint_format(&q->listed[i][1], ex, sizeof(ex));
		used += (size_t)snprintf(why + used, n - used, "%s%s \u2194 %s", i ? ", " : ": ",
					 in, ex);
	}
	if (of > q->n_listed && used < n)
		snprintf(why + used, n - used, " and %zu more", of - q->n_listed);
}

/* `expect mapping` holds when some mapping matches, `expect no mapping` when
 * none does; a failure lists what was there (or the offending mappings). */
static bool check_mapping(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	struct world_nat *wn = world_find_nat(&r->w, x->node.name);
	bool none = x->kind == SCENARIO_EXPECT_NO_MAPPING;
	struct mapping_query q = {
	    .port = x->host_port, .external_port = x->external_port, .list_matches = none};
	if (x->host.name)
		q.ip = world_find_host(&r->w, x->host.name)->spec->ip;
	nat_foreach_mapping(router_nat(wn->router), mapping_visit, &q);
	bool held = none ? q.matches == 0 : q.matches > 0;
	if (q.total == 0)
		snprintf(why, n, "%s has no mappings", x->node.name);
	else if (q.matches == 0)
		snprintf(why, n, "%s has %zu mapping%s, none of them as asked", x->node.name,
			 q.total, q.total == 1 ? "" : "s");
	else
		snprintf(why, n, "%s has %zu mapping%s, %zu of them as asked", x->node.name,
			 q.total, q.total == 1 ? "" : "s", q.matches);
	if (!held)
		mapping_list(&q, none ? q.matches : q.total, why, n);
	return held;
}

static bool check_classify(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	const char *last = NULL;
	for (size_t i = 0; i < r->n_classes; i++) {
		if (strcmp(r->classes[i].host, x->host.name) != 0)
			continue;
		last = r->classes[i].classic;
		if (strcmp(last, x->class_name) == 0)
			return true;
	}
	if (last)
		snprintf(why, n, "%s classified its NAT as %s", x->host.name, last);
	else
		snprintf(why, n, "%s never finished classifying its NAT", x->host.name);
	return false;
}

static bool check_data(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	size_t got = 0;
	const struct data_seen *first = NULL;
	for (size_t i = 0; i < r->n_data; i++) {
		const struct data_seen *d = &r->data[i];
		if (strcmp(d->host, x->host.name) != 0)
			continue;
		got++;
		first = first ? first : d;
		if (x->peer.name && strcmp(d->from, x->peer.name) != 0)
			continue;
		if (d->len == x->text_len && memcmp(d->data, x->text, d->len) == 0)
			return true;
	}
	if (got == 0)
		snprintf(why, n, "%s received nothing", x->host.name);
	else
		snprintf(
		    why, n,
		    "%s received %zu message%s, none of them this one; the first: \"%.*s\" from %s",
		    x->host.name, got, got == 1 ? "" : "s",
		    (int)(first->len > 80 ? 80 : first->len), first->data, first->from);
	return false;
}

/* `expect [no] icmp MESSAGE at HOST [from X]`. A failure says what came. */
static bool check_icmp(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	const struct icmp_arrival *first, *other;
	uint32_t from = x->has_from ? endpoint_ip(r, &x->from) : 0;
	size_t k = icmp_watch_arrivals(&r->icmp, x->host.name, x->icmp_type, x->icmp_code, from,
				       &first, &other);
	bool held = (k > 0) == (x->kind == SCENARIO_EXPECT_ICMP);
	const struct icmp_arrival *shown = first ? first : other;
	char t[32] = "", ip[16] = "", what[48] = "";

	if (shown != NULL) {
		fmt_time(shown->t, t, sizeof(t));
		ip_format(shown->src, ip, sizeof(ip));
		icmp_describe(shown->type, shown->code, what, sizeof(what));
	}
	if (k > 0)
		snprintf(why, n,
			 "%zu matching ICMP message%s reached %s, the first at %s: %s from %s", k,
			 k == 1 ? "" : "s", x->host.name, t, what, ip);
	else if (other != NULL)
		snprintf(why, n,
			 "no matching ICMP message reached %s; the first other one at %s: %s "
			 "from %s",
			 x->host.name, t, what, ip);
	else
		snprintf(why, n, "no ICMP message reached %s", x->host.name);
	return held;
}

static bool check_related(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	int64_t at = 0;
	size_t k = icmp_watch_related(&r->icmp, x->node.name, &at);
	char t[32];

	fmt_time(at, t, sizeof(t));
	if (k == 0)
		snprintf(why, n, "no ICMP error at %s was RELATED to a flow it tracks",
			 x->node.name);
	else
		snprintf(why, n, "%zu ICMP error%s RELATED at %s, the first at %s", k,
			 k == 1 ? " was" : "s were", x->node.name, t);
	return k > 0;
}

/* `expect tcp ... to X`: X's addresses of each family (a connection over
 * either counts: the client picked the family as ping does). */
static bool check_tcp(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	struct tcp_watch_target to = {0};
	const struct scenario_host *h;
	const struct scenario_coordinator *c = r->s->coordinator;

	if (x->has_to && x->to.is6) {
		to.has6 = true;
		to.ip6 = x->to.ip6;
	} else if (x->has_to) {
		to.ip = endpoint_ip(r, &x->to);
		h = x->to.node.name ? scenario_find_host(r->s, x->to.node.name) : NULL;
		if (h != NULL && h->has_ip6)
			to.has6 = true, to.ip6 = h->ip6;
		if (c && c->has_ip6 && x->to.node.name && strcmp(c->name, x->to.node.name) == 0)
			to.has6 = true, to.ip6 = c->ip6;
	}
	return tcp_watch_check(&r->tcp, x, &to, why, n);
}

static bool check(struct runner *r, const struct scenario_expect *x, char *why, size_t n)
{
	switch (x->kind) {
	case SCENARIO_EXPECT_PATH:
		return check_path(r, x, why, n);
	case SCENARIO_EXPECT_DROP:
	case SCENARIO_EXPECT_NO_DROP:
		return check_drops(r, x, why, n);
	case SCENARIO_EXPECT_MAPPING:
	case SCENARIO_EXPECT_NO_MAPPING:
		return check_mapping(r, x, why, n);
	case SCENARIO_EXPECT_CLASSIFY:
		return check_classify(r, x, why, n);
	case SCENARIO_EXPECT_DATA:
		return check_data(r, x, why, n);
	case SCENARIO_EXPECT_ICMP:
	case SCENARIO_EXPECT_NO_ICMP:
		return check_icmp(r, x, why, n);
	case SCENARIO_EXPECT_RELATED:
		return check_related(r, x, why, n);
	case SCENARIO_EXPECT_TCP:
	case SCENARIO_EXPECT_SOCKET:
	case SCENARIO_EXPECT_NO_SOCKET:
	case SCENARIO_EXPECT_CONNTRACK:
	case SCENARIO_EXPECT_NO_CONNTRACK:
		return check_tcp(r, x, why, n);
	case SCENARIO_EXPECT_COUNT:
		break;
	}
	snprintf(why, n, "unknown expectation");
	return false;
}

/* " from alice:5000", " to 203.0.113.7" - as the scenario wrote it. */
static void endpoint_words(const struct scenario_endpoint *ep, const char *lead, char *out,
			   size_t n)
{
	char ip[16], port[8] = "";
	if (ep->port != SCENARIO_UNSET)
		snprintf(port, sizeof(port), ":%d", ep->port);
	snprintf(out, n, "%s%s%s", lead, ep->node.name ? ep->node.name : ip_format(ep->ip, ip, 16),
		 port);
}

/* `expect [no] icmp` and `expect related` in the language's own words. */
static void describe_icmp(const struct scenario_expect *x, const char *by, char *out, size_t n)
{
	char from[64] = "";
	if (x->kind == SCENARIO_EXPECT_RELATED) {
		snprintf(out, n, "an ICMP error is RELATED at %s%s", x->node.name, by);
		return;
	}
	if (x->has_from)
		endpoint_words(&x->from, " from ", from, sizeof(from));
	snprintf(out, n, "%s %s reaches %s%s%s",
		 x->kind == SCENARIO_EXPECT_ICMP ? "an ICMP" : "no ICMP", x->icmp_name,
		 x->host.name, from, by);
}

/* `expect [no] drop` in the language's own words. */
static void describe_drop(const struct scenario_expect *x, const char *by, char *out, size_t n)
{
	char from[64] = "", to[64] = "";
	if (x->has_from)
		endpoint_words(&x->from, " from ", from, sizeof(from));
	if (x->has_to)
		endpoint_words(&x->to, " to ", to, sizeof(to));
	snprintf(out, n, "%s at %s%s%s%s%s%s",
		 x->kind == SCENARIO_EXPECT_DROP ? "a drop" : "no drop", x->node.name,
		 x->reason ? " for reason " : "", x->reason ? scenario_reason_name(x->reason) : "",
		 from, to, by);
}

/* `expect [no] mapping`: every clause the line gave, the host's port and
 * the public one too. */
static void describe_mapping(const struct scenario_expect *x, const char *by, char *out, size_t n)
{
	char port[16] = "", ext[32] = "";
	if (x->host.name && x->host_port != SCENARIO_UNSET)
		snprintf(port, sizeof(port), ":%d", x->host_port);
	if (x->external_port != SCENARIO_UNSET)
		snprintf(ext, sizeof(ext), " external-port %d", x->external_port);
	snprintf(out, n, "%s at %s%s%s%s%s%s",
		 x->kind == SCENARIO_EXPECT_MAPPING ? "a mapping" : "no mapping", x->node.name,
		 x->host.name ? " for " : "", x->host.name ? x->host.name : "", port, ext, by);
}

/* What an expectation asks, in the language's own words. */
static void describe(const struct scenario_expect *x, char *out, size_t n)
{
	char by[48] = "";
	if (x->by_ns >= 0) {
		char t[32];
		fmt_time(x->by_ns, t, sizeof(t));
		snprintf(by, sizeof(by), " by %s", t);
	}
	switch (x->kind) {
	case SCENARIO_EXPECT_PATH:
		snprintf(out, n, "%s and %s %s%s%s%s", x->host.name, x->peer.name,
			 x->at_end ? "end " : "", scenario_path_name(x->path),
			 x->family == 6	  ? " over IPv6"
			 : x->family == 4 ? " over IPv4"
					  : "",
			 by);
		break;
	case SCENARIO_EXPECT_DROP:
	case SCENARIO_EXPECT_NO_DROP:
		describe_drop(x, by, out, n);
		break;
	case SCENARIO_EXPECT_MAPPING:
	case SCENARIO_EXPECT_NO_MAPPING:
		describe_mapping(x, by, out, n);
		break;
	case SCENARIO_EXPECT_CLASSIFY:
		snprintf(out, n, "%s classifies its NAT as %s%s", x->host.name, x->class_name, by);
		break;
	case SCENARIO_EXPECT_DATA:
		snprintf(out, n, "\"%s\" arrives at %s%s%s%s", x->text, x->host.name,
			 x->peer.name ? " from " : "", x->peer.name ? x->peer.name : "", by);
		break;
	case SCENARIO_EXPECT_ICMP:
	case SCENARIO_EXPECT_NO_ICMP:
	case SCENARIO_EXPECT_RELATED:
		describe_icmp(x, by, out, n);
		break;
	case SCENARIO_EXPECT_TCP:
	case SCENARIO_EXPECT_SOCKET:
	case SCENARIO_EXPECT_NO_SOCKET:
	case SCENARIO_EXPECT_CONNTRACK:
	case SCENARIO_EXPECT_NO_CONNTRACK:
		tcp_watch_describe(x, by, out, n);
		break;
	default:
		snprintf(out, n, "?");
	}
}

static void verdict(struct runner *r, const struct scenario_expect *x, struct run_verdict *v)
{
	v->expect = x;
	v->checked_at = now_of(r);
	describe(x, v->text, sizeof(v->text));
	v->passed = check(r, x, v->why, sizeof(v->why));
	if (!v->passed)
		r->res->n_failed++;
	char line[600];
	snprintf(line, sizeof(line), "%s: %s%s%s", v->passed ? "holds" : "FAILS", v->text,
		 v->passed ? "" : " - ", v->passed ? "" : v->why);
	emit_scenario(r, v->passed ? TRACE_SCN_EXPECT_PASS : TRACE_SCN_EXPECT_FAIL, line,
		      x->loc.line);
}

static void expect_fired(struct engine *e, void *arg)
{
	struct scheduled *sch = arg;
	(void)e;
	verdict(sch->r, sch->expect, &sch->r->res->verdicts[sch->verdict]);
}

/* ---- the run ---- */

static int add_pairs(struct runner *r)
{
	const struct scenario *s = r->s;
	r->res->pairs = calloc(s->n_actions ? s->n_actions : 1, sizeof(*r->res->pairs));
	if (!r->res->pairs)
		return -1;
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		if (a->kind != SCENARIO_ACT_CONNECT || find_pair(r, a->host.name, a->peer.name))
			continue;
		struct run_pair *p = &r->res->pairs[r->res->n_pairs++];
		p->a = a->host.name;
		p->b = a->peer.name;
		p->connect_at = a->at_ns;
		p->connected_at = p->direct_at = SCENARIO_UNSET;
		p->path = SCENARIO_PATH_UNCONNECTED;
	}
	return 0;
}

/* A TCP client may wait this long for its handshake: Linux's SYN
 * retransmissions (1, 2, 4, ... 32 s, tcp_syn_retries 6) give up at 127 s,
 * and the connection's close may then take a TIME_WAIT of 60 s. */
#define RUNNER_TCP_BUSY SIM_S(130)

int64_t runner_default_end(const struct scenario *s)
{
	int64_t last = 0;
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		int64_t busy = 0; /* how long a program it starts may run */
		if (a->kind == SCENARIO_ACT_PING)
			busy = icmp_ping_duration(
			    &(struct ping_options){a->count, a->interval_ns, a->size, a->ttl});
		if (a->kind == SCENARIO_ACT_TRACEROUTE)
			busy = icmp_traceroute_duration(a->max_hops);
		if (a->kind == SCENARIO_ACT_TCP)
			busy = RUNNER_TCP_BUSY;
		if (a->kind == SCENARIO_ACT_BACKGROUND)
			busy = bg_traffic_duration(
			    &(struct bg_options){a->rate, a->duration_ns, a->size});
		if (a->at_ns + busy > last)
			last = a->at_ns + busy;
	}
	for (size_t i = 0; i < s->n_expects; i++)
		if (s->expects[i].by_ns > last)
			last = s->expects[i].by_ns;
	return last + RUNNER_TAIL;
}

/* One engine event per action and per deadline, in file order for ties. */
static struct scheduled *schedule_all(struct runner *r, int64_t end)
{
	const struct scenario *s = r->s;
	struct engine *e = net_engine(r->w.net);
	size_t n = s->n_actions + s->n_expects;
	struct scheduled *sch = calloc(n ? n : 1, sizeof(*sch));
	if (!sch)
		return NULL;
	for (size_t i = 0; i < s->n_actions; i++) {
		sch[i] = (struct scheduled){.r = r, .action = &s->actions[i]};
		if (s->actions[i].at_ns <= end)
			engine_schedule_at(e, s->actions[i].at_ns, action_fired, &sch[i]);
	}
	for (size_t i = 0; i < s->n_expects; i++) {
		struct scheduled *x = &sch[s->n_actions + i];
		*x = (struct scheduled){.r = r, .expect = &s->expects[i], .verdict = i};
		if (s->expects[i].by_ns >= 0 && s->expects[i].by_ns <= end)
			engine_schedule_at(e, s->expects[i].by_ns, expect_fired, x);
	}
	return sch;
}

static void run_engine(struct runner *r, const struct run_options *opt, int64_t end)
{
	struct engine *e = net_engine(r->w.net);
	for (int64_t t = SIM_S(1); engine_now(e) < end; t += SIM_S(1)) {
		engine_run_until(e, t < end ? t : end);
		if (engine_out_of_memory(e)) {
			r->oom = true; /* the clock stays where the queue stopped */
			return;
		}
		if (opt->progress)
			opt->progress(engine_now(e), end, opt->progress_ctx);
	}
}

static void finish(struct runner *r, struct scheduled *sch)
{
	const struct scenario *s = r->s;
	/* Expectations without a deadline, and those whose deadline lies past
	 * an --until that ended the run early, are checked now. */
	for (size_t i = 0; i < s->n_expects; i++)
		if (r->res->verdicts[i].expect == NULL)
			verdict(r, &s->expects[i], &r->res->verdicts[i]);
	for (size_t i = 0; i < r->res->n_pairs; i++) {
		struct run_pair *p = &r->res->pairs[i];
		p->path = path_of(agent_peer_state(agent_of(r, p->a), p->b));
	}
	(void)sch;
}

static void runner_fini(struct runner *r)
{
	for (size_t i = 0; i < r->n_data; i++)
		free(r->data[i].data);
	free(r->data);
	for (size_t i = 0; i < r->n_drops; i++)
		free(r->drops[i].flow6);
	free(r->drops);
	free(r->classes);
	free(r->paths);
	icmp_watch_free(&r->icmp);
	icmp_apps_free(r->progs);
	ping6_apps_free(r->pings6);
	traceroute6_apps_free(r->traces6);
	tcp_watch_free(&r->tcp);
	tcp_apps_free(r->nc);
	bg_traffic_free(r->bg);
	world_free(&r->w);
}

int runner_run(const struct scenario *s, const struct run_options *opt, struct run_result *out,
	       struct diag *d)
{
	struct runner r = {.s = s, .res = out};
	memset(out, 0, sizeof(*out));
	out->seed = opt->has_seed ? opt->seed : s->has_seed ? s->seed : 1;
	if (world_build(&r.w, s, out->seed, d) < 0)
		return -1;
	r.progs = icmp_apps_new(r.w.net);
	r.nc = tcp_apps_new(r.w.net);
	r.bg = bg_traffic_new(r.w.net);
	struct trace *t = net_trace(r.w.net);
	int rc = trace_subscribe(t, on_trace, &r);
	for (size_t i = 0; rc == 0 && i < opt->n_observers; i++)
		rc = trace_subscribe(t, opt->observers[i].fn, opt->observers[i].ctx);
	simdrive_set_hooks(r.w.drive, on_agent, NULL, &r);
	out->verdicts = calloc(s->n_expects ? s->n_expects : 1, sizeof(*out->verdicts));
	int64_t end = opt->until_ns >= 0 ? opt->until_ns : runner_default_end(s);
	struct scheduled *sch = NULL;
	if (rc == 0 && r.progs && r.nc && r.bg && out->verdicts && add_pairs(&r) == 0)
		sch = schedule_all(&r, end);
	if (!sch) {
		diag_add(d, DIAG_ERROR, &(struct diag_span){.file = s->filename}, "out of memory");
		runner_fini(&r);
		run_result_free(out);
		return -1;
	}
	out->n_verdicts = s->n_expects;
	world_announce(&r.w);
	run_engine(&r, opt, end);
	finish(&r, sch);
	out->ended_at = engine_now(net_engine(r.w.net));
	out->events = engine_events_run(net_engine(r.w.net));
	bool oom = r.oom;
	runner_fini(&r);
	free(sch);
	if (oom) {
		diag_add(d, DIAG_ERROR, &(struct diag_span){.file = s->filename},
			 "out of memory while recording the run");
		run_result_free(out);
		return -1;
	}
	return 0;
}

const char *run_step_name(enum run_step_kind kind)
{
	static const char *const names[] = {"direct", "relayed", "lost", "failed"};
	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *run_pair_end_name(const struct run_pair *p)
{
	if (p->n_steps == 0)
		return "unconnected";
	return run_step_name(
	    p->steps[p->n_steps < RUN_HISTORY_MAX ? p->n_steps - 1 : RUN_HISTORY_MAX - 1].kind);
}

void run_result_free(struct run_result *r)
{
	free(r->pairs);
	free(r->verdicts);
	memset(r, 0, sizeof(*r));
}
