/*
 * router6.c - a router's IPv6 path (docs/ipv6.md step 2): longest-prefix
 * forwarding over its IPv6 routes, the hop limit, the FORWARD chain of its
 * ip6 filter (model/filter6.h), the router's own IPv6 stack, and the
 * ICMPv6 errors Linux 6.1 sends on that path.
 *
 * The order is Linux's (net/ipv6/ip6_input.c, route.c, ip6_output.c):
 *   ip6_rcv_finish     route lookup (ip6_route_input): one of our own
 *                      addresses -> ip6_input (INPUT); no route ->
 *                      ip6_null_entry, whose ip6_pkt_discard answers
 *                      destination unreachable, no route (code 0)
 *   ip6_forward        hop limit <= 1 -> time exceeded, hop limit (code 0),
 *                      sent before the FORWARD hook; then the hop limit is
 *                      decremented and NF_INET_FORWARD runs the filter
 *   ip6_finish_output2 the next hop's neighbour entry: natsim has no
 *                      neighbour discovery, so a next hop no attachment
 *                      of the link holds plays a failed resolution, which
 *                      Linux answers with address unreachable (code 3,
 *                      ndisc_error_report -> ip6_link_failure); Linux
 *                      answers after its solicitations time out (about 3
 *                      s), natsim at once
 * NAT stays IPv4's (docs/ipv6.md step 4); no IPv6 packet meets it.
 *                      (between the two, ip6_forward's MTU check: a packet
 *                      bigger than the out link's MTU is answered with
 *                      packet too big, never fragmented, RFC 8200 section 5)
 * Not modelled: redirects (ip6_forward sends one when a packet leaves by
 * the interface it came in on); link-local sources and destinations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/filter6.h"
#include "model/node6.h"
#include "model/packet6.h"
#include "model/router_layout.h"
#include "model/router_xlat_internal.h"

struct route6 {
	struct ip6_addr prefix;
	uint8_t len;
	bool has_gateway; /* false: on-link */
	struct iface *via;
	struct ip6_addr gateway;
};

struct router6 {
	struct route6 *routes; /* sorted by prefix length, longest first */
	size_t n_routes, cap_routes;
	struct filter6 *filter;
	struct router_xlat *xlat; /* NPTv6 / NAT64 (model/router_xlat.c), or NULL */
};

/* One IPv6 packet's way through the router. */
struct fwd6 {
	struct iface *in;
	struct packet *p;
	struct packet6_info info;
	bool translated; /* made by the NAT64 from an IPv4 packet: no FORWARD */
};

static void router6_output(struct router *r, struct packet *p);

/* The router's IPv6 side, made on first need (a route, a filter, NPTv6 or
 * NAT64): an IPv4-only router (every one of bench_scale's 100 000 NATs)
 * carries none. NULL if out of memory. Readers on the packet path take
 * r->node.router6 as it is; NULL there means no routes, no filter and no
 * translation, what an empty router6 means. */
static struct router6 *router6_of(struct router *r)
{
	if (r->node.router6 == NULL)
		r->node.router6 = calloc(1, sizeof(*r->node.router6));
	return r->node.router6;
}

void router6_free(struct router *r)
{
	struct router6 *r6 = r->node.router6;

	if (r6 == NULL)
		return;
	filter6_free(r6->filter);
	router_xlat_free(r6->xlat);
	free(r6->routes);
	free(r6);
}

struct router_xlat **router6_xlat_slot(struct router *r, bool make)
{
	struct router6 *r6 = make ? router6_of(r) : r->node.router6;

	return r6 != NULL ? &r6->xlat : NULL;
}

/* Made on first use: a filter with its conntrack table is a kilobyte or
 * so, and a 100 000-peer IPv4 world (bench_scale) would carry one per node
 * for nothing (330 -> 376 MiB at 20 000 peers when made with the node). */
struct filter6 *router_filter6(struct router *r)
{
	struct router6 *r6 = router6_of(r);

	if (r6 != NULL && r6->filter == NULL)
		r6->filter = filter6_new(net_engine(r->node.net), r->node.name);
	return r6 != NULL ? r6->filter : NULL;
}

/* `chain`'s verdict on f's packet. A filter that could not be made (out of
 * memory) accepts, as an empty rule set does. */
static bool router6_filter(struct router *r, enum fw_chain chain, const struct packet6_info *info,
			   size_t len, struct fw_verdict *v)
{
	/* A router whose filter nobody asked for (NULL) has nothing to
	 * decide: filter6_packet accepts for it, and no filter is made. */
	const struct router6 *r6 = r->node.router6;

	return filter6_packet(r6 != NULL ? r6->filter : NULL, chain, info, len, v);
}

int router_add_route6(struct router *r, const struct ip6_addr *prefix, uint8_t len,
		      struct iface *via, const struct ip6_addr *gateway)
{
	if (len > 128 || via == NULL || via->node != &r->node)
		return -1;
	struct router6 *r6 = router6_of(r);

	if (r6 == NULL)
		return -1;
	if (r6->n_routes == r6->cap_routes) {
		size_t ncap = r6->cap_routes ? r6->cap_routes * 2 : 8;
		struct route6 *p = realloc(r6->routes, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		r6->routes = p;
		r6->cap_routes = ncap;
	}
	/* As router_add_route: after every route at least as long, so the
	 * first match of a scan is the longest. */
	size_t at = 0;

	while (at < r6->n_routes && r6->routes[at].len >= len)
		at++;
	memmove(&r6->routes[at + 1], &r6->routes[at], (r6->n_routes - at) * sizeof(*r6->routes));
	r6->routes[at] = (struct route6){.prefix = ip6_prefix_masked(prefix, len),
					 .len = len,
					 .has_gateway = gateway != NULL,
					 .via = via};
	if (gateway != NULL)
		r6->routes[at].gateway = *gateway;
	r6->n_routes++;
	return 0;
}

/* The route for `dst`: explicit routes (longest first) against the
 * implicit connected one of each interface's IPv6 prefix, which wins a tie
 * (the kernel's lower metric), as route_lookup does for IPv4. Fills the
 * interface and the next hop. False if none matches. */
static bool route6_lookup(const struct router *r, const struct ip6_addr *dst, struct iface **via,
			  struct ip6_addr *hop)
{
	const struct router6 *r6 = r->node.router6;
	size_t n_routes = r6 != NULL ? r6->n_routes : 0;
	int best = -1;

	for (size_t i = 0; i < n_routes; i++) {
		const struct route6 *rt = &r6->routes[i];

		if (ip6_prefix_match(&rt->prefix, rt->len, dst)) {
			best = rt->len;
			*via = rt->via;
			*hop = rt->has_gateway ? rt->gateway : *dst;
			break;
		}
	}
	for (size_t i = 0; i < r->node.n_ifaces; i++) {
		const struct iface *ifc = &r->node.ifaces[i];

		if (ifc->has_addr6 && (int)ifc->prefix6_len >= best &&
		    ip6_prefix_match(iface_addr6(ifc), ifc->prefix6_len, dst)) {
			best = ifc->prefix6_len;
			*via = (struct iface *)ifc;
			*hop = *dst;
		}
	}
	return best >= 0;
}

size_t node6_describe_iface(const struct iface *ifc, char *detail, size_t used, size_t size)
{
	char a[IP6_TEXT_SIZE];
	int n;

	if (!ifc->has_addr6 || used >= size)
		return used;
	n = snprintf(detail + used, size - used, "%s%s/%u", ifc->addr != 0 ? " " : "",
		     ip6_format(iface_addr6(ifc), a, sizeof(a)), ifc->prefix6_len);
	return n < 0 ? used : used + (size_t)n;
}

/* ---- the router's own ICMPv6 --------------------------------------------- */

/* The error type/code about f's packet, decided and built, from `src` or
 * (NULL) from the address of the interface it leaves by (icmp6_send: the
 * packet's destination when it is ours, else the route back picks the
 * source). NULL if nothing is to be sent: `answer` says why. */
static struct packet *router6_error_for(struct router *r, const struct fwd6 *f,
					const struct ip6_addr *src, uint8_t type, uint8_t code,
					uint32_t param, struct icmp_answer *answer)
{
	struct iface *back = NULL;
	struct ip6_addr hop;
	struct packet *err;

	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_NEVER, .type = type, .code = code};
	if (!icmp6_may_answer(&f->info, type))
		return NULL;
	answer->kind = ICMP_ANSWER_NONE; /* no way back, or no memory: nothing sent */
	/* icmpv6_xrlim_allow looks up the route back first: none, no error. */
	if (!route6_lookup(r, &f->info.src, &back, &hop) || back->link == NULL)
		return NULL;
	if (src == NULL && back->has_addr6)
		src = iface_addr6(back);
	if (src == NULL)
		return NULL;
	*answer = icmp6_decide_error(router_icmp_limiter(r), engine_now(net_engine(r->node.net)),
				     &f->info, type, code, false);
	if (answer->kind != ICMP_ANSWER_SENT)
		return NULL;
	err = icmp6_error_packet(
	    r->node.net, f->p->data, f->p->len, src, &f->info.src, type, code, param,
	    net_flow_label6(r->node.net, src, &f->info.src, IPPROTO_NUM_ICMPV6, type, code));
	if (err == NULL)
		answer->kind = ICMP_ANSWER_NONE;
	else
		answer->packet_id = err->id;
	return err;
}

/* Drop f's packet on the router's own path for `cause`, answering with
 * type/code (and nothing when type is 0). */
static void router6_drop(struct router *r, struct fwd6 *f, enum trace_drop_reason reason,
			 struct node_path_facts *why, uint8_t type, uint8_t code)
{
	struct packet *err = NULL;

	why->flow = packet6_flow_of(&f->info);
	if (type != 0)
		err = router6_error_for(r, f, NULL, type, code, why->mtu, &why->answer);
	node_drop_verdict(&r->node, f->in, f->p, reason, NODE_VERDICT_PATH, why);
	if (err != NULL)
		router6_output(r, err);
}

/* A filter chain refused f's packet. A REJECT answers with its rule's
 * ICMPv6 error (ip6t_REJECT: nf_send_unreach6 -> icmp6_send), from the
 * address asked when the packet was for the router, else from the way
 * back; a tcp-reset with an RST as if from the segment's destination
 * (nf_send_reset6), whether the segment was for the router or not. */
static void router6_refuse(struct router *r, struct fwd6 *f, const struct fw_verdict *v)
{
	struct icmp_answer answer = {.kind = ICMP_ANSWER_NONE};
	struct packet *err = NULL;
	bool own = v->chain == FW_CHAIN_INPUT;

	if (v->action == FW_REJECT && v->matched != NULL &&
	    v->matched->reject_with == FW_REJECT_TCP_RESET &&
	    f->info.next_header == IPPROTO_NUM_TCP)
		err = icmp6_reject_reset(r->node.net, &f->info, &answer);
	else if (v->action == FW_REJECT)
		err = router6_error_for(r, f, own ? &f->info.dst : NULL, ICMP6_DEST_UNREACH,
					v->matched != NULL
					    ? icmp6_reject_code(v->matched->reject_with)
					    : ICMP6_PORT_UNREACH,
					0, &answer);
	node_drop_by_firewall6(&r->node, f->in, f->p, &f->info, v, &answer);
	if (err != NULL)
		router6_output(r, err);
}

/* The router's own IPv6 packets (ip6_local_out): OUTPUT of its filter
 * (which tracks them, as conntrack sees LOCAL_OUT), routed, sent. */
static void router6_output(struct router *r, struct packet *p)
{
	struct fwd6 f = {.p = p};
	struct iface *out = NULL;
	struct ip6_addr hop;
	struct fw_verdict v;

	if (packet6_parse(p->data, p->len, &f.info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(r->node.net), p);
		return;
	}
	node_trace_hop(&r->node, NULL, TRACE_HOP_SEND, p);
	if (!router6_filter(r, FW_CHAIN_OUTPUT, &f.info, p->len, &v)) {
		node_drop_by_firewall6(&r->node, NULL, p, &f.info, &v, NULL);
		return;
	}
	if (!route6_lookup(r, &f.info.dst, &out, &hop) || out->link == NULL) {
		node_drop_verdict(&r->node, NULL, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH,
				  &(struct node_path_facts){.cause = NODE_PATH_NO_IPV6_ROUTE,
							    .flow = packet6_flow_of(&f.info)});
		return;
	}
	link_transmit6(out->link, out, &hop, p);
}

/* ---- the packet path ------------------------------------------------------ */

/* An echo request to one of our addresses (icmpv6_echo_reply): the reply
 * from the address asked. Informational: never rate limited. */
static void router6_echo(struct router *r, struct fwd6 *f)
{
	struct packet *reply =
	    icmp6_echo_reply_packet(r->node.net, &f->info,
				    net_flow_label6(r->node.net, &f->info.dst, &f->info.src,
						    IPPROTO_NUM_ICMPV6, ICMP6_ECHO_REPLY, 0));

	node_trace_hop(&r->node, NULL, TRACE_HOP_DELIVER, f->p);
	packet_release(net_packets(r->node.net), f->p);
	if (reply != NULL)
		router6_output(r, reply);
}

/* For one of the router's own addresses: INPUT of its filter, then the
 * stack. It answers echo requests; other ICMPv6 (errors about its own
 * packets, replies) it consumes. Anything else meets the router's `input`
 * setting as IPv4 does: dropped (a home router), or accepted by a bare
 * Linux box whose stack has no socket there: port unreachable for UDP
 * (__udp6_lib_rcv), nothing for TCP (natsim builds no IPv6 RST yet). */
static void router6_local(struct router *r, struct fwd6 *f)
{
	struct node_path_facts why = {.cause = NODE_PATH_OWN_NO_SOCKET};
	struct fw_verdict v;

	if (!router6_filter(r, FW_CHAIN_INPUT, &f->info, f->p->len, &v)) {
		router6_refuse(r, f, &v);
		return;
	}
	if (f->info.next_header == IPPROTO_NUM_ICMPV6 && f->info.icmp_type == ICMP6_ECHO_REQUEST) {
		router6_echo(r, f);
		return;
	}
	if (f->info.next_header == IPPROTO_NUM_ICMPV6) {
		node_trace_hop(&r->node, NULL, TRACE_HOP_DELIVER, f->p);
		packet_release(net_packets(r->node.net), f->p);
		return;
	}
	if (r->input != ROUTER_INPUT_ACCEPT) {
		why.cause = NODE_PATH_OWN_ADDRESS;
		router6_drop(r, f, TRACE_DROP_NOT_FOR_US, &why, 0, 0);
		return;
	}
	if (f->info.udp_no_checksum) { /* the stack's UDP, as a host's */
		host6_udp_no_checksum(&r->node, f->in, f->p, &f->info);
		return;
	}
	if (f->info.next_header == IPPROTO_NUM_UDP) {
		struct packet *err;

		why.flow = packet6_flow_of(&f->info);
		err = router6_error_for(r, f, &f->info.dst, ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH,
					0, &why.answer);
		node_drop_verdict(&r->node, f->in, f->p, TRACE_DROP_NO_SOCKET, NODE_VERDICT_PATH,
				  &why);
		if (err != NULL)
			router6_output(r, err);
		return;
	}
	router6_drop(r, f, TRACE_DROP_NO_SOCKET, &why, 0, 0);
}

/* Route, hop limit, FORWARD, the next hop, transmit (the order at the
 * top). */
static void router6_forward(struct router *r, struct fwd6 *f)
{
	struct node_path_facts why = {.cause = NODE_PATH_NO_IPV6_ROUTE};
	struct iface *out = NULL;
	struct ip6_addr hop;
	struct fw_verdict v;

	if (!route6_lookup(r, &f->info.dst, &out, &hop) || out->link == NULL) {
		router6_drop(r, f, TRACE_DROP_NO_ROUTE, &why, ICMP6_DEST_UNREACH, ICMP6_NO_ROUTE);
		return;
	}
	/* RFC 8200 section 3 ("decremented by 1 by each node that forwards
	 * the packet ... discarded if Hop Limit was decremented to zero");
	 * ip6_forward checks hop_limit <= 1 before the FORWARD hook. */
	if (f->info.hop_limit <= 1) {
		why.cause = NODE_PATH_HOP_LIMIT;
		router6_drop(r, f, TRACE_DROP_TTL, &why, ICMP6_TIME_EXCEEDED, ICMP6_EXC_HOP_LIMIT);
		return;
	}
	/* ip6_forward: a packet bigger than the out link's MTU (at least
	 * 1280) is answered with packet too big carrying that MTU, which no
	 * rate limit holds back (PMTU discovery, RFC 8201). */
	if (IPV6_HEADER_SIZE + (size_t)f->info.ip_payload_len > link_mtu6(out->link)) {
		why.cause = NODE_PATH_PACKET_TOO_BIG;
		why.mtu = link_mtu6(out->link);
		router6_drop(r, f, TRACE_DROP_NO_ROUTE, &why, ICMP6_PACKET_TOO_BIG, 0);
		return;
	}
	f->info.hop_limit = packet6_decrement_hop_limit(f->p->data, f->p->len);
	/* A packet the NAT64 translated skips FORWARD: Jool steals the packet
	 * in PREROUTING and sends its translation with dst_output, so no
	 * ip6tables filter sees it (Jool issue #41: "Jool intercepts and
	 * steals packets before iptables filters"); its own filtering (RFC
	 * 6146 3.5.1, model/nat64.h) decided. Filtered here, the reply to a
	 * flow whose request left as IPv4 would be INVALID to conntrack. */
	if (!f->translated && !router6_filter(r, FW_CHAIN_FORWARD, &f->info, f->p->len, &v)) {
		router6_refuse(r, f, &v);
		return;
	}
	if (!link_has_neighbour6(out->link, out, &hop)) {
		why.cause = NODE_PATH_NO_NEIGHBOUR6;
		why.addr6 = hop;
		router6_drop(r, f, TRACE_DROP_NO_ROUTE, &why, ICMP6_DEST_UNREACH,
			     ICMP6_ADDR_UNREACH);
		return;
	}
	/* POSTROUTING: SNPT (model/router_xlat.h). */
	if (r->node.router6 != NULL && r->node.router6->xlat != NULL &&
	    router_xlat_postrouting6(r, r->node.router6->xlat, out, f->p))
		return;
	link_transmit6(out->link, out, &hop, f->p);
}

static void receive6(struct router *r, struct iface *in, struct packet *p, bool translated);

void router6_receive(struct router *r, struct iface *in, struct packet *p)
{
	receive6(r, in, p, false);
}

void router6_receive_translated(struct router *r, struct iface *in, struct packet *p)
{
	receive6(r, in, p, true);
}

static void receive6(struct router *r, struct iface *in, struct packet *p, bool translated)
{
	struct fwd6 f = {.in = in, .p = p, .translated = translated};
	char why[200];

	if (packet6_parse(p->data, p->len, &f.info, why, sizeof(why)) != PACKET_OK) {
		node_drop_verdict(
		    &r->node, in, p, TRACE_DROP_MALFORMED, NODE_VERDICT_PATH,
		    &(struct node_path_facts){.cause = NODE_PATH_MALFORMED, .detail = why});
		return;
	}
	/* PREROUTING: DNPT, NAT64 (model/router_xlat.h). */
	if (r->node.router6 != NULL && r->node.router6->xlat != NULL &&
	    router_xlat_prerouting6(r, r->node.router6->xlat, in, p, &f.info))
		return;
	if (node_iface_by_addr6(&r->node, &f.info.dst) != NULL)
		router6_local(r, &f);
	else
		router6_forward(r, &f);
}
