/*
 * router.c - longest-prefix forwarding, TTL, a FORWARD chain, connection
 * tracking, and an optional NAT on one outside interface.
 *
 * The packet path follows netfilter's hook order (router.h):
 *   PREROUTING   conntrack lookup with the packet as received; DNAT when it
 *                is addressed to the NAT's public side from outside
 *   routing      longest prefix match, then ip_forward's TTL check
 *   FORWARD      the filter, with the conntrack state found above
 *   POSTROUTING  SNAT when leaving through the outside interface, then the
 *                conntrack entry is confirmed: orig = the tuple as received,
 *                reply = the final tuple inverted, as nf_conntrack_confirm()
 *                leaves it, so NAT flows print like Linux masquerade entries.
 * Hairpinned packets (RFC 4787 REQ-9) take SNAT then DNAT before routing, so
 * the DNAT's filtering sees the sender's external endpoint as the remote.
 *
 * Conntrack is kept only when something needs it: a NAT or a FORWARD chain
 * that can refuse (rules, or a policy that is not accept). Like Linux, where
 * nf_conntrack is loaded by NAT or state-matching rules, a plain core router
 * keeps no flow table, and the trace stays free of entries nobody uses.
 */
#include "model/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/node6.h"
#include "model/packet6.h"
#include "model/pcp_server.h"
#include "model/router_layout.h"
#include "model/router_xlat_internal.h"

struct route {
	uint32_t prefix;
	uint8_t len;
	struct iface *via;
	uint32_t gateway; /* 0: on-link */
};

/* One packet's way through the router. */
struct fwd {
	struct iface *in;
	struct packet *p;
	struct packet_info info;	 /* the packet as it is now */
	struct conntrack_tuple received; /* as it arrived, before any NAT */
	struct conntrack_entry *ce;	 /* NULL: new, invalid, or not tracking */
	enum conntrack_dir dir;
	enum conntrack_state state; /* conntrack_classify's, in PREROUTING */
	bool track;
	/* The NAT binding this flow goes through (the earliest deadline of
	 * the dynamic mappings that translated it; CONNTRACK_LINUX_TIMEOUT if
	 * none), and whether this packet pushed it back. */
	int64_t binding_deadline;
	bool binding_refreshed;
	bool translated; /* a NAT step rewrote it: a TCP flow takes the NAT's idle timeouts */
	/* The packet as it arrived, kept (in r->icmp) only when its TTL was
	 * <= 1: a time exceeded quotes it before any DNAT. 0: none kept. */
	size_t arrived_len;
	struct endpoint arrived_dst; /* its destination then (an echo's id as port) */
};

/* RFC 5382 REQ-4: a NAT must not answer an unsolicited SYN for at least
 * 6 s; a SYN its NAT will answer with port unreachable waits here. */
#define NAT_SYN_HOLD SIM_S(6)
struct held_syn {
	struct held_syn *next;
	struct router *r;
	engine_event_id ev;
	size_t len;
	uint8_t bytes[ICMP_ERROR_MAX_SIZE]; /* as much as an error quotes */
};

/* The router's own ICMP state, made on first use. */
struct router_icmp {
	struct icmp_limiter *limiter; /* NULL: nothing limited (out of memory) */
	uint16_t ip_id;
	uint8_t arrived[ICMP_ERROR_MAX_SIZE]; /* a snapshot: struct fwd.arrived_len */
	struct held_syn *held;		      /* SYNs awaiting their answer */
};

static void router_receive(struct node *n, struct iface *in, struct packet *p);
static void router_free(struct node *n);
static void router_describe(struct node *n, struct trace_node *out, char *detail, size_t size);
static bool router_tracks(const struct router *r);
static void unsolicited_tcp(struct router *r, struct fwd *f, struct iface *at,
			    const struct nat_result *res);
static struct packet *router_tcp_reset(struct router *r, const struct packet_info *in,
				       struct icmp_answer *answer);

static const struct node_ops router_ops = {
    .receive = router_receive,
    .free = router_free,
    .describe = router_describe,
};

struct router *router_new(struct net *net, const char *name)
{
	struct router *r = calloc(1, sizeof(*r));
	struct conntrack_config ctc;

	if (r == NULL)
		return NULL;
	if (net_add_node(net, &r->node, NODE_ROUTER, &router_ops, name) < 0) {
		free(r);
		return NULL;
	}
	/* From here the world owns the node (inert on failure, freed by net_free). */
	conntrack_config_default(&ctc);
	r->fw = firewall_new(r->node.name);
	r->ct = conntrack_new(net_engine(net), r->node.name, &ctc);
	if (r->fw == NULL || r->ct == NULL)
		return NULL;
	return r;
}

static void router_free(struct node *n)
{
	struct router *r = (struct router *)n;

	nat_free(r->nat);
	if (r->icmp != NULL) {
		icmp_limiter_free(r->icmp->limiter);
		while (r->icmp->held != NULL) {
			struct held_syn *h = r->icmp->held;

			r->icmp->held = h->next;
			engine_cancel(net_engine(r->node.net), h->ev);
			free(h);
		}
	}
	free(r->icmp);
	router6_free(r);
	conntrack_free(r->ct);
	firewall_free(r->fw);
	free(r->routes);
	free(r);
}

struct node *router_node(struct router *r)
{
	return &r->node;
}

struct router *router_from_node(struct node *n)
{
	return n != NULL && n->kind == NODE_ROUTER ? (struct router *)n : NULL;
}

struct iface *router_add_iface(struct router *r, const char *name, uint32_t addr,
			       uint8_t prefix_len)
{
	return node_add_iface(&r->node, name, addr, prefix_len);
}

int router_add_route(struct router *r, uint32_t prefix, uint8_t len, struct iface *via,
		     uint32_t gateway)
{
	if (len > 32 || via == NULL || via->node != &r->node)
		return -1;
	if (r->n_routes == r->cap_routes) {
		uint32_t ncap = r->cap_routes ? r->cap_routes * 2 : 8;
		struct route *p = realloc(r->routes, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		r->routes = p;
		r->cap_routes = ncap;
	}
	/* Insert after every route at least as long: the first match of a scan
	 * is then the longest, and equal prefixes keep their order of addition. */
	size_t at = 0;

	while (at < r->n_routes && r->routes[at].len >= len)
		at++;
	memmove(&r->routes[at + 1], &r->routes[at], (r->n_routes - at) * sizeof(*r->routes));
	r->routes[at] = (struct route){prefix & prefix_mask(len), len, via, gateway};
	r->n_routes++;
	return 0;
}

/* A tuple's two ends as the NAT names them: ports for UDP; for an ICMP
 * echo the id on the side that plays its port (model/packet.h): a
 * request's source, a reply's destination. */
static void tuple_ends(const struct conntrack_tuple *t, struct endpoint *src, struct endpoint *dst)
{
	*src = (struct endpoint){t->src, t->sport};
	*dst = (struct endpoint){t->dst, t->dport};
	if (t->proto == IPPROTO_NUM_ICMP) {
		uint8_t type = (uint8_t)(t->dport >> 8);
		src->port = type == ICMP_ECHO_REQUEST ? t->sport : 0;
		dst->port = type == ICMP_ECHO_REPLY ? t->sport : 0;
	}
}

/* The conntrack destroy hook: tell the NAT which flow of which mapping
 * ended (nf_nat_cleanup_conntrack). A source-translated flow left as
 * internal -> remote and is answered at the external endpoint; a
 * destination-translated one came in at the external endpoint and is
 * answered by the internal one. A hairpinned flow is both. */
static void router_flow_gone(const struct conntrack_entry *e, void *ctx)
{
	struct router *r = ctx;
	struct endpoint os, od, ys, yd;

	if (r->nat == NULL)
		return;
	tuple_ends(&e->orig, &os, &od);
	tuple_ends(&e->reply, &ys, &yd);
	if (nat_owns_address(r->nat, yd.ip) && !nat_owns_address(r->nat, os.ip))
		nat_flow_closed(r->nat, e->orig.proto, &os, &yd, &od);
	if (nat_owns_address(r->nat, od.ip) && !nat_owns_address(r->nat, ys.ip))
		nat_flow_closed(r->nat, e->orig.proto, &ys, &od, &yd);
}

struct nat *router_enable_nat(struct router *r, struct iface *outside, const struct nat_config *cfg)
{
	struct nat_config c = *cfg;
	char stream[96];
	struct rng rng;
	struct nat *nat;

	if (outside == NULL || outside->node != &r->node)
		return NULL;
	if (c.n_public == 0) {
		c.n_public = 1;
		c.public_ip[0] = outside->addr;
	}
	snprintf(stream, sizeof(stream), "nat:%s", r->node.name);
	net_rng(r->node.net, stream, &rng);
	nat = nat_new(net_engine(r->node.net), r->node.name, &c, &rng);
	if (nat == NULL)
		return NULL;
	nat_free(r->nat);
	r->nat = nat;
	r->outside = outside;
	conntrack_set_destroy_hook(r->ct, router_flow_gone, r);
	if (r->input == ROUTER_INPUT_ACCEPT)
		nat_attach_conntrack(nat, r->ct);
	return nat;
}

void router_set_input(struct router *r, enum router_input input)
{
	r->input = input;
	/* Only an accepting INPUT path makes flows of the router's own that
	 * a mapping can clash with (nat_attach_conntrack). */
	if (r->nat != NULL)
		nat_attach_conntrack(r->nat, input == ROUTER_INPUT_ACCEPT ? r->ct : NULL);
}

enum router_input router_input(const struct router *r)
{
	return r->input;
}

struct nat *router_nat(struct router *r)
{
	return r->nat;
}

struct iface *router_nat_outside(struct router *r)
{
	return r->outside;
}

struct firewall *router_firewall(struct router *r)
{
	return r->fw;
}

struct conntrack *router_conntrack(struct router *r)
{
	return r->ct;
}

/* The route for `dst`: explicit routes (longest first) against the implicit
 * connected ones; a connected route wins a tie, as the kernel's does by its
 * lower metric. Returns false if none matches. */
static bool route_lookup(const struct router *r, uint32_t dst, struct iface **via, uint32_t *hop)
{
	int best_len = -1;

	for (size_t i = 0; i < r->n_routes; i++) {
		const struct route *rt = &r->routes[i];

		if ((dst & prefix_mask(rt->len)) == rt->prefix) {
			best_len = rt->len;
			*via = rt->via;
			*hop = rt->gateway != 0 ? rt->gateway : dst;
			break;
		}
	}
	for (size_t i = 0; i < r->node.n_ifaces; i++) {
		const struct iface *ifc = &r->node.ifaces[i];
		uint32_t mask = prefix_mask(ifc->prefix_len);

		if (ifc->addr != 0 && (int)ifc->prefix_len >= best_len &&
		    (dst & mask) == (ifc->addr & mask)) {
			best_len = ifc->prefix_len;
			*via = (struct iface *)ifc;
			*hop = dst;
		}
	}
	return best_len >= 0;
}

static void router_describe(struct node *n, struct trace_node *out, char *detail, size_t size)
{
	struct router *r = (struct router *)n;
	size_t used = 0;
	char a[16];

	out->type = "router";
	out->conntrack = router_tracks(r);
	detail[0] = '\0';
	for (size_t i = 0; i < n->n_ifaces && used < size; i++) {
		const struct iface *ifc = &n->ifaces[i];

		/* An IPv6-only interface shows its IPv6 address alone. */
		if (ifc->addr != 0 || !ifc->has_addr6)
			used += (size_t)snprintf(
			    detail + used, size - used, "%s%s %s/%u", i ? ", " : "", ifc->name,
			    ip_format(ifc->addr, a, sizeof(a)), ifc->prefix_len);
		else
			used += (size_t)snprintf(detail + used, size - used, "%s%s ", i ? ", " : "",
						 ifc->name);
		used = node6_describe_iface(ifc, detail, used, size);
	}
	if (r->nat != NULL) {
		const struct nat_config *c = nat_config(r->nat);

		out->nat = true;
		out->nat_mapping = (int)c->mapping;
		out->nat_filtering = (int)c->filtering;
		out->nat_public = c->public_ip[0];
	}
	if (r->nat != NULL && used < size) {
		const struct nat_config *c = nat_config(r->nat);

		used += (size_t)snprintf(detail + used, size - used, "; NAT %s (%s+%s) on %s %s",
					 nat_classic_name(c->mapping, c->filtering),
					 nat_behaviour_abbrev(c->mapping, false),
					 nat_behaviour_abbrev(c->filtering, true), r->outside->name,
					 ip_format(c->public_ip[0], a, sizeof(a)));
		if ((c->pcp || c->natpmp) && used < size) /* model/pcp_server.h */
			used += (size_t)snprintf(detail + used, size - used, "; %s on UDP 5351",
						 !c->natpmp ? "PCP"
						 : !c->pcp  ? "NAT-PMP"
							    : "PCP and NAT-PMP");
	}
	out->input_accept = r->input == ROUTER_INPUT_ACCEPT;
	if (r->input == ROUTER_INPUT_ACCEPT && used < size) {
		snprintf(detail + used, size - used, "; input accept");
	}
	/* Behind another router's NAT (CGNAT, double NAT): the default route's
	 * gateway NATs and we are on its inside. */
	struct iface *via = NULL;
	uint32_t hop = 0;

	if (!route_lookup(r, 0, &via, &hop) || via->link == NULL || hop == 0)
		return;
	for (size_t i = 0; i < link_attachment_count(via->link); i++) {
		struct iface *att = link_attachment(via->link, i);
		struct router *gw = router_from_node(att->node);

		if (att->addr == hop && gw != NULL && gw != r && gw->nat != NULL &&
		    gw->outside->link != via->link)
			out->behind = att->node->name;
	}
}

/* Packet path. */

static bool router_tracks(const struct router *r)
{
	return r->nat != NULL || r->input == ROUTER_INPUT_ACCEPT ||
	       firewall_rule_count(r->fw, FW_CHAIN_FORWARD) > 0 ||
	       firewall_policy(r->fw, FW_CHAIN_FORWARD) != FW_ACCEPT;
}

/* An ICMP error takes the mapping of the flow it quotes, as Linux's
 * nf_nat_icmp_reply_translation does for a RELATED packet only: what
 * conntrack found no flow for is dropped (icmp-no-flow), not translated. */
static void nat_error_step(struct router *r, struct fwd *f, bool outbound, struct nat_result *res)
{
	bool related = f->state == CONNTRACK_RELATED;

	if (outbound)
		nat_translate_error_outbound(r->nat, f->p->data, f->p->len, &f->info, related, res);
	else
		nat_translate_error_inbound(r->nat, f->p->data, f->p->len, &f->info, related, res);
}

/* The NAT refused f's packet: dropped with its reason and sentence; a TCP
 * segment from outside that no mapping admits gets what
 * tcp_unsolicited_syn says (unsolicited_tcp). */
static void nat_refused(struct router *r, struct fwd *f, bool outbound, struct iface *at,
			const struct nat_result *res)
{
	if (!outbound && f->info.proto == IPPROTO_NUM_TCP && f->in == r->outside &&
	    (res->decision == NAT_DECISION_NO_MAPPING || res->decision == NAT_DECISION_FILTERED))
		unsolicited_tcp(r, f, at, res);
	else
		node_drop_by_nat(&r->node, at, f->p, res);
}

/* Run a NAT step on f->p: `outbound` picks SNAT, else DNAT. On success emits
 * the TRANSLATE record (before and after bytes, the mapping) and refreshes
 * f->info; on refusal drops the packet with the NAT's reason and sentence. */
static bool nat_step(struct router *r, struct fwd *f, bool outbound, struct iface *at)
{
	struct trace *t = net_trace(r->node.net);
	uint8_t before[PACKET_MAX_SIZE];
	size_t before_len = f->p->len;
	struct nat_result res;

	if (trace_active(t))
		memcpy(before, f->p->data, before_len);
	if (f->info.icmp_error)
		nat_error_step(r, f, outbound, &res);
	else if (outbound)
		nat_translate_outbound(r->nat, f->p->data, f->p->len, &f->info, &res);
	else
		nat_translate_inbound(r->nat, f->p->data, f->p->len, &f->info, &res);
	if (res.verdict != NAT_VERDICT_TRANSLATED) {
		nat_refused(r, f, outbound, at, &res);
		return false;
	}
	f->translated = true;
	/* A TCP mapping has no deadline of its own: its connections keep it
	 * (nat.h), so the flow keeps conntrack's TCP timeouts. Neither has a
	 * forward or a PCP / NAT-PMP mapping: in Linux each is a DNAT rule
	 * (miniupnpd adds one per mapping), not a binding, and the flows
	 * through it keep conntrack's own timeouts. */
	if (res.mapping != NULL && res.mapping->origin == NAT_ORIGIN_TRAFFIC &&
	    res.mapping->proto != IPPROTO_NUM_TCP) {
		if (f->binding_deadline == CONNTRACK_LINUX_TIMEOUT ||
		    res.mapping->expires_at < f->binding_deadline)
			f->binding_deadline = res.mapping->expires_at;
		f->binding_refreshed |= res.refreshed;
	}
	if (trace_active(t)) {
		struct trace_record rec = {.kind = TRACE_PACKET};
		struct nat_facts facts;

		rec.u.packet.hop = TRACE_HOP_TRANSLATE;
		rec.u.packet.packet_id = f->p->id;
		rec.u.packet.node = r->node.name;
		rec.u.packet.iface = at->name;
		rec.u.packet.bytes = f->p->data;
		rec.u.packet.len = f->p->len;
		rec.u.packet.before = before;
		rec.u.packet.before_len = before_len;
		if (res.mapping != NULL) {
			rec.u.packet.map_internal = res.mapping->internal;
			rec.u.packet.map_external = res.mapping->external;
		}
		node_nat_facts(&res, &facts); /* the accept's verdict rides along */
		rec.u.packet.verdict = (struct trace_verdict){NODE_VERDICT_NAT, &facts};
		trace_emit(t, &rec);
	}
	/* The NAT rewrote what packet_check passed on arrival, sums kept right. */
	if (packet_check(f->p, &f->info, NULL, 0) != PACKET_OK) {
		node_drop_verdict(&r->node, at, f->p, TRACE_DROP_MALFORMED, NODE_VERDICT_PATH,
				  &(struct node_path_facts){.cause = NODE_PATH_NAT_UNPARSABLE});
		return false;
	}
	return true;
}

/* RFC 4787 REQ-9: an inside host addressed the NAT's public side. With
 * hairpinning, translate the source as for any outbound packet, then the
 * destination as for an inbound one, whose filtering then sees the sender's
 * external endpoint as the remote; without, drop. */
static bool hairpin(struct router *r, struct fwd *f)
{
	if (!nat_config(r->nat)->hairpinning) {
		node_drop_verdict(&r->node, f->in, f->p, TRACE_DROP_HAIRPIN, NODE_VERDICT_PATH,
				  &(struct node_path_facts){.cause = NODE_PATH_NO_HAIRPIN,
							    .flow = packet_flow_of(&f->info)});
		return false;
	}
	return nat_step(r, f, true, f->in) && nat_step(r, f, false, f->in);
}

/* nf_conntrack_confirm: the reply tuple is the packet as it leaves,
 * inverted (an echo's reply has the reply type). False if the table is
 * full (or out of memory). */
static bool create_entry(struct router *r, struct fwd *f, int64_t deadline)
{
	struct conntrack_tuple final, reply;

	conntrack_tuple_of(&f->info, &final);
	conntrack_tuple_invert(&final, &reply);
	f->ce = conntrack_create_until(r->ct, &f->received, &reply, deadline);
	f->dir = CONNTRACK_DIR_ORIGINAL;
	return f->ce != NULL;
}

/* A TCP segment moves its flow's state (nf_conntrack_tcp_packet). A flow
 * the NAT translated takes the NAT's RFC 5382 REQ-5 idle timeouts when
 * they are set, else conntrack's own per state, as a Linux NAT does; its
 * mapping lives as long as it does (nat.h). A KILLED entry (an RST before
 * any reply) is gone, and with it, if it was the last, the mapping: the
 * segment itself was translated already. */
static void confirm_tcp(struct router *r, struct fwd *f)
{
	const struct nat_config *nc = r->nat != NULL ? nat_config(r->nat) : NULL;
	struct conntrack_tcp_idle idle = {0, 0};

	if (nc != NULL && f->translated) {
		idle.established = nc->tcp_established_timeout;
		idle.transitory = nc->tcp_transitory_timeout;
	}
	conntrack_seen_tcp_idle(r->ct, f->ce, f->dir, &f->info, &idle);
	f->ce = NULL; /* possibly freed (KILLED) */
}

/* POSTROUTING's end: confirm the flow in the table (create it on its first
 * packet) and count the packet. A translated flow's entry is the NAT binding
 * (docs/nat-and-conntrack.md): it takes its mapping's deadline when it is
 * created and whenever the packet refreshed the mapping (RFC 4787 REQ-6), and
 * keeps its deadline otherwise, so it never outlives the mapping. */
static void confirm(struct router *r, struct fwd *f)
{
	int64_t deadline = f->binding_deadline;

	/* A RELATED error belongs to its flow's entry without touching it,
	 * and an INVALID packet is not tracked (nf_conntrack_inet_error,
	 * nf_conntrack_icmp_packet's valid_new). */
	if (!f->track || f->state == CONNTRACK_RELATED || f->state == CONNTRACK_INVALID)
		return;
	if (deadline != CONNTRACK_LINUX_TIMEOUT && f->ce != NULL && !f->binding_refreshed)
		deadline = f->ce->expires_at;
	if (f->ce == NULL) {
		if (!create_entry(r, f, deadline))
			return; /* a full table lets the packet pass untracked */
	}
	if (f->info.proto == IPPROTO_NUM_TCP)
		confirm_tcp(r, f);
	else
		conntrack_seen_until(r->ct, f->ce, f->dir, f->p->len, deadline);
}

/* nf_conntrack_confirm: the reply tuple is the packet as it
 * leaves, inverted (an echo's reply has the reply type). */

/* ---- the router's own ICMP ------------------------------------------------ */

static struct router_icmp *router_icmp(struct router *r)
{
	struct icmp_config cfg;
	char stream[96];
	struct rng rng;

	if (r->icmp != NULL)
		return r->icmp;
	r->icmp = calloc(1, sizeof(*r->icmp));
	if (r->icmp == NULL)
		return NULL;
	icmp_config_default(&cfg);
	snprintf(stream, sizeof(stream), "icmp:%s", r->node.name);
	net_rng(r->node.net, stream, &rng);
	r->icmp->limiter = icmp_limiter_new(&cfg, &rng);
	return r->icmp;
}

struct icmp_limiter *router_icmp_limiter(struct router *r)
{
	return router_icmp(r) != NULL ? r->icmp->limiter : NULL;
}

int router_set_icmp_config(struct router *r, const struct icmp_config *cfg)
{
	if (router_icmp(r) == NULL || r->icmp->limiter == NULL)
		return -1;
	icmp_limiter_set_config(r->icmp->limiter, cfg);
	return 0;
}

void router_icmp_config(const struct router *r, struct icmp_config *out)
{
	if (r->icmp != NULL && r->icmp->limiter != NULL)
		*out = *icmp_limiter_config(r->icmp->limiter);
	else
		icmp_config_default(out);
}

/* Keep the packet as it arrived: a time exceeded quotes it so, before any
 * DNAT (Linux quotes the translated packet and its NAT translates the
 * quote back, nf_nat_icmp_reply_translation: the same bytes). */
static void router_snapshot_arrival(struct router *r, struct fwd *f)
{
	size_t len = f->p->len < ICMP_ERROR_MAX_SIZE ? f->p->len : ICMP_ERROR_MAX_SIZE;

	if (router_icmp(r) == NULL)
		return;
	memcpy(r->icmp->arrived, f->p->data, len);
	f->arrived_len = len;
}

/* The router's own packets (Linux's ip_local_out): routed, a SEND hop,
 * out. No chain and no NAT step runs on them (router.h); conntrack sees
 * them in LOCAL_OUT: an echo reply is the reply of the flow its request
 * made, an error is RELATED to the flow it quotes (and changes nothing). */
static void router_output(struct router *r, struct packet *p)
{
	struct conntrack_entry *ce = NULL;
	enum conntrack_dir dir = CONNTRACK_DIR_ORIGINAL;
	struct packet_info info;
	struct iface *out = NULL;
	uint32_t hop = 0;

	if (packet_check(p, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(r->node.net), p);
		return;
	}
	node_trace_hop(&r->node, NULL, TRACE_HOP_SEND, p);
	if (router_tracks(r) && conntrack_classify(r->ct, &info, &ce, &dir) != CONNTRACK_RELATED &&
	    ce != NULL) {
		if (info.proto == IPPROTO_NUM_TCP)
			conntrack_seen_tcp(r->ct, ce, dir, &info);
		else
			conntrack_seen(r->ct, ce, dir, p->len);
	}
	if (!route_lookup(r, info.dst, &out, &hop) || out->link == NULL) {
		node_drop_verdict(&r->node, NULL, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH,
				  &(struct node_path_facts){.cause = NODE_PATH_NO_ROUTE,
							    .flow = packet_flow_of(&info)});
		return;
	}
	link_transmit(out->link, out, hop, p);
}

/* The error type/code about f's packet, decided and built: from `src`, or
 * (0) from the address of the interface it leaves by, as __icmp_send
 * leaves the source to the route back (RFC 1812 4.3.2.4 asks for the
 * interface the error is sent on, too). Quotes the arrival snapshot if
 * one was kept. NULL if nothing is to be sent: `answer` says why. */
static struct packet *router_error_for(struct router *r, const struct fwd *f, uint32_t src,
				       uint8_t type, uint8_t code, struct icmp_answer *answer)
{
	struct packet_info about = f->info;
	struct router_icmp *ri = router_icmp(r);
	struct iface *back = NULL;
	uint32_t hop = 0;
	struct packet *err;

	if (f->arrived_len > 0) { /* as it arrived: the tuple conntrack read then */
		about.src = f->received.src;
		about.dst = f->received.dst;
	}
	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_NEVER, .type = type, .code = code};
	if (!icmp_may_answer(&about))
		return NULL;
	answer->kind = ICMP_ANSWER_NONE; /* no way back, or no memory: nothing sent */
	if (src == 0 && route_lookup(r, about.src, &back, &hop))
		src = back->addr;
	if (src == 0 || ri == NULL)
		return NULL;
	*answer = icmp_decide_error(ri->limiter, engine_now(net_engine(r->node.net)), &about, type,
				    code, false);
	if (answer->kind != ICMP_ANSWER_SENT)
		return NULL;
	err = f->arrived_len > 0 ? icmp_error_packet(r->node.net, ri->arrived, f->arrived_len,
						     &about, src, type, code, ri->ip_id++)
				 : icmp_error_packet(r->node.net, f->p->data, f->p->len, &about,
						     src, type, code, ri->ip_id++);
	if (err == NULL)
		answer->kind = ICMP_ANSWER_NONE;
	else
		answer->packet_id = err->id;
	return err;
}

/* Drop f's packet on the router's own path, answering with type/code. */
static void router_drop_answered(struct router *r, struct fwd *f, enum trace_drop_reason reason,
				 enum node_path_cause cause, uint8_t type, uint8_t code)
{
	struct node_path_facts why = {.cause = cause, .flow = packet_flow_of(&f->info)};
	struct packet *err = router_error_for(r, f, 0, type, code, &why.answer);

	node_drop_verdict(&r->node, f->in, f->p, reason, NODE_VERDICT_PATH, &why);
	if (err != NULL)
		router_output(r, err);
}

/* FORWARD refused f's packet; a REJECT answers with its rule's error
 * (ipt_REJECT: nf_send_unreach -> icmp_send), quoting the packet as the
 * chain saw it. */
/* nf_conntrack_in runs in PREROUTING, before FORWARD: a segment of a TCP
 * flow conntrack already tracks has moved the flow's state even when FORWARD
 * then drops it (a new flow's unconfirmed entry dies with its packet). A
 * flow whose reply tuple is not its original inverted is a NAT binding and
 * keeps the NAT's idle timeouts. */
static void track_refused_tcp(struct router *r, struct fwd *f)
{
	if (!f->track || f->ce == NULL || f->info.proto != IPPROTO_NUM_TCP ||
	    f->state == CONNTRACK_INVALID || f->state == CONNTRACK_RELATED)
		return;
	f->translated = conntrack_entry_translated(f->ce);
	confirm_tcp(r, f);
}

static void router_refuse(struct router *r, struct fwd *f, const struct fw_verdict *v)
{
	struct icmp_answer answer = {.kind = ICMP_ANSWER_NONE};
	struct packet *err = NULL;
	bool reset = v->action == FW_REJECT && v->matched != NULL &&
		     v->matched->reject_with == FW_REJECT_TCP_RESET &&
		     f->info.proto == IPPROTO_NUM_TCP;

	track_refused_tcp(r, f);

	if (reset) {
		/* ipt_REJECT's nf_send_reset: an RST as if from the segment's
		 * destination; after a DNAT, from the address the sender asked
		 * (Linux's NAT translates the RST, attached to the flow, back). */
		struct packet_info asked = f->info;

		if (f->in == r->outside) {
			asked.dst = f->arrived_dst.ip;
			asked.dport = f->arrived_dst.port;
		}
		err = router_tcp_reset(r, &asked, &answer);
	} else if (v->action == FW_REJECT)
		err =
		    router_error_for(r, f, 0, ICMP_DEST_UNREACH,
				     v->matched != NULL ? icmp_reject_code(v->matched->reject_with)
							: ICMP_PORT_UNREACH,
				     &answer);
	/* FORWARD saw the packet after DNAT, and so does the quote; Linux's
	 * error is RELATED to the flow and its NAT translates the quote back
	 * on the way out (nf_nat_ipv4_fn -> nf_nat_icmp_reply_translation), so
	 * the sender never sees the inside address. */
	if (err != NULL && !reset && f->in == r->outside &&
	    (f->info.dst != f->arrived_dst.ip || f->info.dport != f->arrived_dst.port))
		packet_rewrite_inner_dst(err->data, err->len, &f->arrived_dst);
	node_drop_by_firewall_answered(&r->node, f->in, f->p, &f->info, v, &answer);
	if (err != NULL)
		router_output(r, err);
}

/* The RST the router's own stack answers a segment with when no socket
 * wants it (tcp_v4_send_reset, RFC 9293 3.10.7.1): from the address it was
 * sent to; <SEQ=SEG.ACK><CTL=RST> if it carried an ACK, else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never for an RST. NULL if
 * none is sent; `answer` says what was. */
static struct packet *router_tcp_reset(struct router *r, const struct packet_info *in,
				       struct icmp_answer *answer)
{
	struct router_icmp *ri = router_icmp(r);
	struct endpoint from = {in->dst, in->dport}, to = {in->src, in->sport};
	struct tcp_segment seg = {.flags = TCP_RST};
	struct packet *p;

	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_NONE};
	if ((in->tcp_flags & TCP_RST) || ri == NULL)
		return NULL;
	if (in->tcp_flags & TCP_ACK) {
		seg.seq = in->tcp_ack;
	} else {
		seg.flags |= TCP_ACK;
		seg.ack = in->tcp_seq + (uint32_t)in->payload_len +
			  ((in->tcp_flags & TCP_SYN) ? 1u : 0u) +
			  ((in->tcp_flags & TCP_FIN) ? 1u : 0u);
	}
	p = packet_alloc(net_packets(r->node.net), net_next_packet_id(r->node.net),
			 IPV4_HEADER_MIN + TCP_HEADER_MIN);
	if (p == NULL)
		return NULL;
	p->len =
	    packet_build_tcp(p->data, p->cap, &from, &to, PACKET_DEFAULT_TTL, ri->ip_id++, &seg);
	if (p->len == 0) {
		packet_release(net_packets(r->node.net), p);
		return NULL;
	}
	p->sums_ok = true;
	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_TCP_RST, .packet_id = p->id};
	return p;
}

/* An echo request to one of the router's addresses (icmp_echo): the reply
 * from the address asked, the request delivered to the stack. The reply is
 * the request's entry's reply: Linux's passes conntrack at LOCAL_OUT
 * (nf_conntrack_in, reply direction), which clears [UNREPLIED]; the lab
 * shows it (tests/lab/lab_icmp.sh, ping-in-accept). */
static void router_echo(struct router *r, struct fwd *f)
{
	struct router_icmp *ri = router_icmp(r);
	struct packet *reply = NULL;
	size_t reply_len;

	if (ri != NULL && (ri->limiter == NULL ||
			   icmp_limiter_allow(ri->limiter, engine_now(net_engine(r->node.net)),
					      f->info.src, ICMP_ECHO_REPLY, 0, false)))
		reply = icmp_echo_reply_packet(r->node.net, &f->info, ri->ip_id++);
	node_trace_hop(&r->node, NULL, TRACE_HOP_DELIVER, f->p);
	packet_release(net_packets(r->node.net), f->p);
	if (reply == NULL)
		return;
	reply_len = reply->len;
	router_output(r, reply);
	if (f->ce != NULL)
		conntrack_seen(r->ct, f->ce, CONNTRACK_DIR_REPLY, reply_len);
}

/* ---- TCP segments no mapping admits (RFC 5382 REQ-4) ------------------- */

static void held_syn_unlink(struct router *r, struct held_syn *h)
{
	struct held_syn **pp = &r->icmp->held;

	while (*pp != NULL && *pp != h)
		pp = &(*pp)->next;
	if (*pp != NULL)
		*pp = h->next;
}

/* Six seconds on: if an outbound SYN for the connection was translated
 * meanwhile (an entry whose reply is this SYN: a simultaneous open), REQ-4
 * says drop silently; else port unreachable, from the address it was sent
 * to, quoting it. */
static void held_syn_fired(struct engine *e, void *arg)
{
	struct held_syn *h = arg;
	struct router *r = h->r;
	struct fwd f = {.in = r->outside, .binding_deadline = CONNTRACK_LINUX_TIMEOUT};
	struct conntrack_tuple t;
	struct icmp_answer answer;
	struct packet *err = NULL;

	(void)e;
	held_syn_unlink(r, h);
	f.p = packet_alloc(net_packets(r->node.net), net_next_packet_id(r->node.net), h->len);
	if (f.p != NULL) {
		memcpy(f.p->data, h->bytes, h->len);
		f.p->len = h->len;
		if (packet_check(f.p, &f.info, NULL, 0) == PACKET_OK) {
			conntrack_tuple_of(&f.info, &t);
			if (conntrack_lookup(r->ct, &t, NULL) == NULL)
				err = router_error_for(r, &f, f.info.dst, ICMP_DEST_UNREACH,
						       ICMP_PORT_UNREACH, &answer);
		}
		packet_release(net_packets(r->node.net), f.p);
	}
	free(h);
	if (err != NULL)
		router_output(r, err);
}

/* Keep f's SYN for held_syn_fired. False if it cannot be kept. */
static bool hold_syn(struct router *r, const struct fwd *f)
{
	struct router_icmp *ri = router_icmp(r);
	struct held_syn *h = ri != NULL ? calloc(1, sizeof(*h)) : NULL;

	if (h == NULL)
		return false;
	h->r = r;
	h->len = f->p->len < sizeof(h->bytes) ? f->p->len : sizeof(h->bytes);
	memcpy(h->bytes, f->p->data, h->len);
	h->ev = engine_schedule_at(net_engine(r->node.net),
				   engine_now(net_engine(r->node.net)) + NAT_SYN_HOLD,
				   held_syn_fired, h);
	if (h->ev == 0) {
		free(h);
		return false;
	}
	h->next = ri->held;
	ri->held = h;
	return true;
}

/* The NAT refused a TCP segment from outside: what nat_config's
 * tcp_unsolicited_syn says. drop: silence (RFC 5382 REQ-4a, a security
 * policy). rst: an RST from the address asked, as a Linux router whose own
 * stack takes what no DNAT claimed and has no listener (tcp_v4_send_reset:
 * any segment but an RST). icmp: for a SYN, port unreachable after 6 s
 * (REQ-4). The drop record says which. */
static void unsolicited_tcp(struct router *r, struct fwd *f, struct iface *at,
			    const struct nat_result *res)
{
	bool syn = (f->info.tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	struct packet *rst = NULL;
	struct nat_facts facts;

	node_nat_facts(res, &facts);
	facts.answer = (struct icmp_answer){.kind = ICMP_ANSWER_NONE};
	switch (nat_config(r->nat)->tcp_unsolicited_syn) {
	case NAT_TCP_SYN_RST:
		rst = router_tcp_reset(r, &f->info, &facts.answer);
		break;
	case NAT_TCP_SYN_ICMP:
		facts.tcp_syn_held = syn && hold_syn(r, f);
		break;
	case NAT_TCP_SYN_DROP:
		break;
	}
	node_drop_verdict(&r->node, at, f->p, res->reason, NODE_VERDICT_NAT, &facts);
	if (rst != NULL)
		router_output(r, rst);
}

/* A TCP segment conntrack marked INVALID has no entry, and Linux's NAT
 * translates only packets with one (nf_nat_ipv4_fn: no conntrack, NF_ACCEPT):
 * it passes untranslated, inside address and all, unless a FORWARD rule
 * (`state invalid drop`) stops it. */
static bool untracked_tcp(const struct fwd *f)
{
	return f->info.proto == IPPROTO_NUM_TCP && f->state == CONNTRACK_INVALID;
}

/* Routing, TTL, FORWARD, SNAT, transmit. */
static void forward(struct router *r, struct fwd *f)
{
	struct iface *out = NULL;
	uint32_t hop = 0;
	struct fw_verdict v;

	/* No route: net unreachable (ip_route_input_slow -> ip_error). */
	if (!route_lookup(r, f->info.dst, &out, &hop) || out->link == NULL) {
		router_drop_answered(r, f, TRACE_DROP_NO_ROUTE, NODE_PATH_NO_ROUTE,
				     ICMP_DEST_UNREACH, ICMP_NET_UNREACH);
		return;
	}
	/* RFC 791 / RFC 1812 5.3.1: a router must not forward a datagram whose
	 * TTL would reach zero; it sends time exceeded (ip_forward). */
	if (f->info.ttl <= 1) {
		router_drop_answered(r, f, TRACE_DROP_TTL, NODE_PATH_TTL, ICMP_TIME_EXCEEDED,
				     ICMP_EXC_TTL);
		return;
	}
	f->info.ttl = packet_decrement_ttl(f->p->data, f->p->len);
	firewall_filter(r->fw, FW_CHAIN_FORWARD, &f->info, f->state, &v);
	if (f->state == CONNTRACK_INVALID)
		v.invalid = conntrack_tcp_invalid_cause(f->ce, &f->info);
	if (v.action != FW_ACCEPT) {
		router_refuse(r, f, &v);
		return;
	}
	if (r->nat != NULL && out == r->outside && f->in != r->outside && !untracked_tcp(f) &&
	    !nat_step(r, f, true, out))
		return;
	confirm(r, f);
	link_transmit(out->link, out, hop, f->p);
}

/* The NAT's port-mapping server (model/pcp_server.h) listens on UDP 5351
 * of the router's inside addresses: the request is delivered to it and its
 * answer leaves from the address and port asked, as a daemon's reply on a
 * bound socket would (miniupnpd's). */
static void serve_port_mapping(struct router *r, struct fwd *f)
{
	struct endpoint client = {f->info.src, f->info.sport};
	struct endpoint server = {f->info.dst, f->info.dport};
	struct router_icmp *ri = router_icmp(r);
	struct pcp_answer answer;
	struct packet *reply = NULL;

	f->binding_deadline = CONNTRACK_LINUX_TIMEOUT;
	confirm(r, f);
	node_trace_hop(&r->node, f->in, TRACE_HOP_DELIVER, f->p);
	pcp_server_answer(r->nat, &client, f->info.payload, f->info.payload_len, &answer);
	packet_release(net_packets(r->node.net), f->p);
	if (answer.len > 0 && ri != NULL)
		reply = packet_alloc(net_packets(r->node.net), net_next_packet_id(r->node.net),
				     IPV4_HEADER_MIN + UDP_HEADER_SIZE + answer.len);
	if (reply == NULL)
		return;
	reply->len = packet_build_udp(reply->data, reply->cap, &server, &client, PACKET_DEFAULT_TTL,
				      ri->ip_id++, answer.buf, answer.len);
	reply->sums_ok = true;
	router_output(r, reply);
}

/* The router's own INPUT path (with `input accept`, or from a NAT's inside,
 * which always reaches it): conntrack confirms the
 * flow as any local flow (Linux timeouts, no NAT); the stack answers echo
 * requests, and since nothing listens on any port, UDP with port
 * unreachable from the address asked (__udp4_lib_rcv; router.h). */
static void local_input(struct router *r, struct fwd *f)
{
	struct node_path_facts why = {.cause = NODE_PATH_OWN_NO_SOCKET,
				      .flow = packet_flow_of(&f->info),
				      .inside = r->nat != NULL && f->in != r->outside};
	struct packet *err = NULL;
	struct icmp_config cfg;

	if (why.inside && pcp_server_takes(r->nat, &f->info)) {
		serve_port_mapping(r, f);
		return;
	}
	f->binding_deadline = CONNTRACK_LINUX_TIMEOUT;
	confirm(r, f);
	router_icmp_config(r, &cfg);
	if (icmp_answers_echo(&cfg, &f->info)) {
		router_echo(r, f);
		return;
	}
	if (f->info.proto == IPPROTO_NUM_UDP)
		err = router_error_for(r, f, f->info.dst, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
				       &why.answer);
	else if (f->info.proto == IPPROTO_NUM_TCP)
		err = router_tcp_reset(r, &f->info, &why.answer);
	else if (f->info.proto == IPPROTO_NUM_ICMP && f->info.icmp_error)
		why.answer.kind = ICMP_ANSWER_NEVER; /* RFC 1122 3.2.2 */
	node_drop_verdict(&r->node, f->in, f->p, TRACE_DROP_NO_SOCKET, NODE_VERDICT_PATH, &why);
	if (err != NULL)
		router_output(r, err);
}

/* A flow of the router's own stack: neither side is translated and its reply
 * comes from one of our addresses. */
static bool local_flow(struct router *r, const struct conntrack_entry *ce)
{
	return ce != NULL && ce->orig.dst == ce->reply.src &&
	       node_iface_by_addr(&r->node, ce->reply.src) != NULL;
}

/* PREROUTING for a packet from outside to the NAT's public side: a flow the
 * router's own stack already tracks stays its own (Linux does no NAT for a
 * confirmed flow without a binding); otherwise DNAT through a mapping, and
 * what no mapping takes goes to INPUT, where the `input` setting decides. */
static bool inbound(struct router *r, struct fwd *f)
{
	/* An error about a flow of the router's own goes to its stack; any
	 * other takes the NAT's error translation, which refuses one that
	 * conntrack placed nowhere (RFC 5508, nf_nat_icmp_reply_translation). */
	if (f->info.icmp_error) {
		if (f->state == CONNTRACK_RELATED && local_flow(r, f->ce)) {
			local_input(r, f);
			return false;
		}
		return nat_step(r, f, false, f->in);
	}
	if (r->input == ROUTER_INPUT_ACCEPT &&
	    (local_flow(r, f->ce) || !nat_admits(r->nat, &f->info) || untracked_tcp(f))) {
		local_input(r, f);
		return false;
	}
	/* No DNAT without an entry (untracked_tcp): addressed to the router
	 * itself, it meets INPUT, which drops it. */
	if (untracked_tcp(f)) {
		node_drop_verdict(&r->node, f->in, f->p, TRACE_DROP_CT_INVALID, NODE_VERDICT_PATH,
				  &(struct node_path_facts){
				      .cause = NODE_PATH_CT_INVALID,
				      .flow = packet_flow_of(&f->info),
				      .invalid = conntrack_tcp_invalid_cause(f->ce, &f->info)});
		return false;
	}
	return nat_step(r, f, false, f->in);
}

static void router_receive(struct node *n, struct iface *in, struct packet *p)
{
	struct router *r = (struct router *)n;
	struct fwd f = {.in = in,
			.p = p,
			.dir = CONNTRACK_DIR_ORIGINAL,
			.binding_deadline = CONNTRACK_LINUX_TIMEOUT};
	char why[200];

	/* The family is decided once, here at the packet's entry, where the
	 * IPv4 parser refuses anything but version 4: an IPv6 packet leaves
	 * IPv4's path on that refusal, so IPv4's own path tests nothing more
	 * (bench_flow measured a check ahead of it at 2-3%). */
	if (packet_check(p, &f.info, why, sizeof(why)) != PACKET_OK) {
		if (packet_ip_version(p->data, p->len) == 6) {
			router6_receive(r, in, p);
			return;
		}
		node_drop_verdict(
		    n, in, p, TRACE_DROP_MALFORMED, NODE_VERDICT_PATH,
		    &(struct node_path_facts){.cause = NODE_PATH_MALFORMED, .detail = why});
		return;
	}
	if (f.info.ttl <= 1) /* a time exceeded quotes it as it arrived */
		router_snapshot_arrival(r, &f);
	f.track = router_tracks(r);
	conntrack_tuple_of(&f.info, &f.received);
	f.arrived_dst = (struct endpoint){f.info.dst, f.info.dport};
	f.state = f.track ? conntrack_classify(r->ct, &f.info, &f.ce, &f.dir) : CONNTRACK_NEW;
	/* nf_conntrack_tcp_packet: a SYN reopening a closed flow kills its
	 * entry and the segment is looked up again (NF_REPEAT), here, before
	 * any NAT could reuse the old entry's binding. */
	if (f.ce != NULL && f.info.proto == IPPROTO_NUM_TCP &&
	    conntrack_tcp_reopens(f.ce, f.dir, &f.info)) {
		conntrack_destroy(r->ct, f.ce, "reopened by a new SYN");
		f.state = conntrack_classify(r->ct, &f.info, &f.ce, &f.dir);
	}
	if (r->nat != NULL && nat_owns_address(r->nat, f.info.dst)) {
		if (in == r->outside ? !inbound(r, &f) : !hairpin(r, &f))
			return;
	} else if (node_iface_by_addr(n, f.info.dst) != NULL) {
		if (n->router6 != NULL && router_xlat_receive4(r, in, p)) /* NAT64's pool */
			return;
		/* `input` is about the outside. A NAT router's stack takes what
		 * its inside sends to its own addresses, as every home router's
		 * LAN zone does (OpenWrt's default lan zone: input ACCEPT): a
		 * laptop can ping its gateway. */
		if (r->input == ROUTER_INPUT_ACCEPT || (r->nat != NULL && in != r->outside)) {
			local_input(r, &f);
			return;
		}
		node_drop_verdict(n, in, p, TRACE_DROP_NOT_FOR_US, NODE_VERDICT_PATH,
				  &(struct node_path_facts){.cause = NODE_PATH_OWN_ADDRESS,
							    .flow = packet_flow_of(&f.info)});
		return;
	}
	forward(r, &f);
}
