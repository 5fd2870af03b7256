/*
 * host6.c - a host's IPv6 path (docs/ipv6.md step 2): its address and
 * gateway, IPv6 UDP sockets (a port space of their own, as IPV6_V6ONLY
 * makes it), echo replies, port unreachable, ICMPv6 errors to the socket
 * whose datagram they quote, and the INPUT and OUTPUT chains of its ip6
 * filter (model/filter6.h). host.c decides the family where a packet
 * arrives and hands IPv6 here (host6_receive).
 *
 * Linux 6.1 is the model: ip6_input_finish delivers to udpv6_rcv or
 * icmpv6_rcv; __udp6_lib_rcv answers a datagram no socket takes with
 * icmpv6_send(ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH); icmpv6_rcv answers
 * echo requests (icmpv6_echo_reply) and hands errors to the protocol's
 * err_handler (icmpv6_notify -> __udp6_lib_err), which finds the socket by
 * the quoted datagram's ends. A host does not forward: a packet for an
 * address it does not hold is dropped (ip6_forward with forwarding off).
 * TCP segments go to model/host_tcp.c (tcp_v6_rcv there: a connection,
 * a listener, or an RST as tcp_v6_send_reset), and ICMPv6 errors quoting
 * a segment to its connection (tcp_v6_err).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/filter6.h"
#include "model/host_layout.h"
#include "model/node6.h"
#include "model/packet6.h"

struct host6 {
	struct filter6 *filter;
	bool has_gateway;
	struct ip6_addr gateway;
	/* IPv6 sockets, unordered (a host has a handful, as host.c's). */
	struct host_socket **socks;
	size_t n_socks, cap_socks;
	uint16_t next_port; /* where the next ephemeral search starts */
};

static uint64_t host6_output(struct host *h, struct packet *p, const struct packet6_info *info,
			     const struct ip6_addr *dst);

/* The host's IPv6 side, made on first need (a gateway, a socket, a
 * filter): an IPv4-only host (each of bench_scale's 100 000 peers) carries
 * none. NULL if out of memory. The packet path reads h->node.host6 as it
 * is; NULL there means no sockets, no gateway and no filter, what an empty
 * host6 means. The first ephemeral port comes from a stream named by the
 * host alone, so when the side is made changes no port. */
static struct host6 *host6_of(struct host *h)
{
	char stream[96];
	struct rng r;

	if (h->node.host6 != NULL)
		return h->node.host6;
	struct host6 *h6 = calloc(1, sizeof(*h6));

	if (h6 == NULL)
		return NULL;
	h->node.host6 = h6;
	/* Its own stream, so IPv6 sockets never move IPv4's port choices. */
	snprintf(stream, sizeof(stream), "host:%s:ports6", h->node.name);
	net_rng(h->node.net, stream, &r);
	h6->next_port = (uint16_t)(HOST_EPHEMERAL_LO +
				   rng_below(&r, HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1));
	return h6;
}

void host6_free(struct host *h)
{
	struct host6 *h6 = h->node.host6;

	if (h6 == NULL)
		return;
	for (size_t i = 0; i < h6->n_socks; i++)
		free(h6->socks[i]);
	free(h6->socks);
	filter6_free(h6->filter);
	free(h6);
}

int host_set_address6(struct host *h, const struct ip6_addr *addr, uint8_t prefix_len)
{
	return iface_set_addr6(host_iface(h), addr, prefix_len);
}

bool host_address6(const struct host *h, struct ip6_addr *out)
{
	const struct iface *ifc = &h->node.ifaces[0];

	if (!ifc->has_addr6)
		return false;
	*out = *iface_addr6(ifc);
	return true;
}

void host_set_gateway6(struct host *h, const struct ip6_addr *gw)
{
	struct host6 *h6 = gw != NULL ? host6_of(h) : h->node.host6;

	if (h6 == NULL)
		return;
	h6->has_gateway = gw != NULL;
	if (gw != NULL)
		h6->gateway = *gw;
}

/* Made on first use, as router_filter6 (model/router6.c says why). */
struct filter6 *host_filter6(struct host *h)
{
	struct host6 *h6 = host6_of(h);

	if (h6 != NULL && h6->filter == NULL)
		h6->filter = filter6_new(net_engine(h->node.net), h->node.name);
	return h6 != NULL ? h6->filter : NULL;
}

/* `chain`'s verdict; a filter that could not be made accepts. */
static bool host6_filter(struct host *h, enum fw_chain chain, const struct packet6_info *info,
			 size_t len, struct fw_verdict *v)
{
	/* A host whose filter nobody asked for (NULL) has nothing to decide:
	 * filter6_packet accepts for it, and no filter is made. */
	const struct host6 *h6 = h->node.host6;

	return filter6_packet(h6 != NULL ? h6->filter : NULL, chain, info, len, v);
}

size_t host6_describe(struct host *h, char *detail, size_t used, size_t size)
{
	struct host6 *h6 = h->node.host6;
	char a[IP6_TEXT_SIZE];
	int n;

	if (h6 == NULL || !h6->has_gateway || used >= size)
		return used;
	n = snprintf(detail + used, size - used, "%sgw6 %s", used > 0 ? " " : "",
		     ip6_format(&h6->gateway, a, sizeof(a)));
	return n < 0 ? used : used + (size_t)n;
}

/* ---- sockets ----------------------------------------------------------------- */

static bool port_bound6(const struct host6 *h6, uint16_t port)
{
	for (size_t i = 0; i < h6->n_socks; i++)
		if (h6->socks[i]->port == port)
			return true;
	return false;
}

/* The socket a datagram to addr:port goes to: exact address first, then
 * one bound to every address (udp6_lib_lookup's scoring). None on a host
 * with no IPv6 side (h6 NULL): nothing was ever bound. */
static struct host_socket *find_socket6(const struct host6 *h6, const struct ip6_addr *addr,
					uint16_t port)
{
	struct host_socket *wild = NULL;
	size_t n_socks = h6 != NULL ? h6->n_socks : 0;

	for (size_t i = 0; i < n_socks; i++) {
		struct host_socket *s = h6->socks[i];

		if (s->port == port && !s->any6 && ip6_equal(&s->addr6, addr))
			return s;
		if (s->port == port && s->any6)
			wild = s;
	}
	return wild;
}

/* Without SO_REUSEADDR, a bind overlapping another IPv6 one fails. */
static bool bind_clashes6(const struct host6 *h6, const struct ip6_addr *addr, uint16_t port)
{
	for (size_t i = 0; i < h6->n_socks; i++) {
		const struct host_socket *s = h6->socks[i];

		if (s->port == port && (s->any6 || addr == NULL || ip6_equal(&s->addr6, addr)))
			return true;
	}
	return false;
}

static uint16_t pick_ephemeral6(struct host6 *h6)
{
	const uint32_t span = HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1;

	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = h6->next_port;

		h6->next_port =
		    port == HOST_EPHEMERAL_HI ? HOST_EPHEMERAL_LO : (uint16_t)(port + 1);
		if (!port_bound6(h6, port))
			return port;
	}
	return 0;
}

static int sockets_grow(struct host6 *h6)
{
	if (h6->n_socks < h6->cap_socks)
		return 0;
	size_t ncap = h6->cap_socks ? h6->cap_socks * 2 : 4;
	struct host_socket **s = realloc(h6->socks, ncap * sizeof(*s));

	if (s == NULL)
		return -1;
	h6->socks = s;
	h6->cap_socks = ncap;
	return 0;
}

struct host_socket *host_udp_bind6(struct host *h, const struct ip6_addr *addr, uint16_t port,
				   host_recv6_fn fn, void *ctx)
{
	struct host6 *h6;
	struct host_socket *s;

	if (addr != NULL && node_iface_by_addr6(&h->node, addr) == NULL)
		return NULL; /* EADDRNOTAVAIL */
	h6 = host6_of(h);
	if (h6 == NULL)
		return NULL;
	if (port == 0)
		port = pick_ephemeral6(h6);
	if (port == 0 || bind_clashes6(h6, addr, port) || sockets_grow(h6) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	*s = (struct host_socket){
	    .host = h, .port = port, .ctx = ctx, .is6 = true, .any6 = addr == NULL, .fn6 = fn};
	if (addr != NULL)
		s->addr6 = *addr;
	h6->socks[h6->n_socks++] = s;
	return s;
}

void host6_udp_close(struct host_socket *s)
{
	struct host6 *h6 = s->host->node.host6;

	for (size_t i = 0; i < h6->n_socks; i++)
		if (h6->socks[i] == s) {
			h6->socks[i] = h6->socks[--h6->n_socks];
			break;
		}
	free(s);
}

bool host_socket_is6(const struct host_socket *s)
{
	return s->is6;
}

struct endpoint6 host_socket_local6(const struct host_socket *s)
{
	struct endpoint6 ep = {.port = s->port};

	if (!s->is6)
		return ep;
	if (!s->any6)
		ep.ip = s->addr6;
	else
		host_address6(s->host, &ep.ip);
	return ep;
}

void host_udp_set_error6_fn(struct host_socket *s, host_error6_fn fn)
{
	s->err6_fn = fn;
}

uint64_t host_udp_sendto6(struct host_socket *s, const struct endpoint6 *to, const void *payload,
			  size_t len)
{
	return host_udp_sendto6_hop_limit(s, to, payload, len, IPV6_DEFAULT_HOP_LIMIT);
}

uint64_t host_udp_sendto6_hop_limit(struct host_socket *s, const struct endpoint6 *to,
				    const void *payload, size_t len, uint8_t hop_limit)
{
	struct host *h = s->host;
	struct net *net = h->node.net;
	struct endpoint6 from = host_socket_local6(s);
	struct packet6_info info;
	struct packet *p;

	if (!s->is6 || ip6_is_unspecified(&from.ip) ||
	    len > PACKET_MAX_SIZE - IPV6_HEADER_SIZE - UDP_HEADER_SIZE)
		return 0;
	p = packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV6_HEADER_SIZE + UDP_HEADER_SIZE + len);
	if (p == NULL)
		return 0;
	p->len = packet6_build_udp(
	    p->data, p->cap, &from, to, hop_limit,
	    net_flow_label6(net, &from.ip, &to->ip, IPPROTO_NUM_UDP, from.port, to->port), payload,
	    len);
	p->sums_ok = true;
	if (p->len == 0 || packet6_parse(p->data, p->len, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(net), p);
		return 0;
	}
	return host6_output(h, p, &info, &to->ip);
}

uint64_t host_send_echo6(struct host *h, const struct ip6_addr *dst, uint16_t id, uint16_t seq,
			 uint8_t hop_limit, size_t payload_len)
{
	struct net *net = h->node.net;
	struct packet6_info info;
	struct ip6_addr src;
	struct packet *p;

	if (!host_address6(h, &src) ||
	    payload_len > PACKET_MAX_SIZE - IPV6_HEADER_SIZE - ICMPV6_HEADER_SIZE)
		return 0;
	p = packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE + payload_len);
	if (p == NULL)
		return 0;
	p->len = packet6_build_icmp_echo(p->data, p->cap, &src, dst, hop_limit, ICMP6_ECHO_REQUEST,
					 id, seq, NULL, payload_len);
	packet6_set_flow_label(
	    p->data, p->len,
	    net_flow_label6(net, &src, dst, IPPROTO_NUM_ICMPV6, ICMP6_ECHO_REQUEST, 0));
	p->sums_ok = true;
	if (p->len == 0 || packet6_parse(p->data, p->len, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(net), p);
		return 0;
	}
	return host6_output(h, p, &info, dst);
}

/* ---- the way out ------------------------------------------------------------- */

/* The next hop for `dst` from eth0: on-link within its IPv6 prefix, else
 * the IPv6 gateway; false if neither. */
static bool next_hop6(const struct host *h, const struct ip6_addr *dst, struct ip6_addr *hop)
{
	const struct iface *ifc = &h->node.ifaces[0];
	const struct host6 *h6 = h->node.host6;

	if (ifc->has_addr6 && ip6_prefix_match(iface_addr6(ifc), ifc->prefix6_len, dst)) {
		*hop = *dst;
		return true;
	}
	if (h6 == NULL || !h6->has_gateway)
		return false;
	*hop = h6->gateway;
	return true;
}

bool host6_has_route(const struct host *h, const struct ip6_addr *dst)
{
	struct ip6_addr hop;

	return next_hop6(h, dst, &hop);
}

static void host6_refuse(struct host *h, struct iface *at, struct packet *p,
			 const struct packet6_info *info, const struct fw_verdict *v);
static void host6_no_neighbour(struct host *h, struct iface *ifc, struct packet *p,
			       const struct packet6_info *info, const struct ip6_addr *hop);

/* Route, OUTPUT, transmit a packet this host originates. `info` NULL: raw
 * bytes that do not parse, which skip the filter. Returns the id, or 0. */
static uint64_t host6_output(struct host *h, struct packet *p, const struct packet6_info *info,
			     const struct ip6_addr *dst)
{
	struct iface *ifc = host_iface(h);
	struct node_path_facts why = {.flow = info != NULL ? packet6_flow_of(info)
							   : packet6_flow_of_bytes(p->data, p->len),
				      .iface = ifc->name};
	struct ip6_addr hop;
	struct fw_verdict v;
	uint64_t id = p->id;

	node_trace_hop(&h->node, NULL, TRACE_HOP_SEND, p);
	if (!next_hop6(h, dst, &hop)) {
		why.cause = ifc->has_addr6 ? NODE_PATH_HOST_NO_ROUTE : NODE_PATH_NO_IPV6_ROUTE;
		if (ifc->has_addr6) /* else :: as before, the interface's empty slot */
			why.addr6 = *iface_addr6(ifc);
		why.prefix_len = ifc->prefix6_len;
		node_drop_verdict(&h->node, ifc, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH, &why);
		return 0;
	}
	if (ifc->link == NULL) {
		why.cause = NODE_PATH_HOST_UNATTACHED;
		node_drop_verdict(&h->node, ifc, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH, &why);
		return 0;
	}
	if (info != NULL && !host6_filter(h, FW_CHAIN_OUTPUT, info, p->len, &v)) {
		host6_refuse(h, ifc, p, info, &v);
		return 0;
	}
	if (info != NULL && !link_has_neighbour6(ifc->link, ifc, &hop)) {
		host6_no_neighbour(h, ifc, p, info, &hop);
		return id; /* the send succeeded: Linux queues it while it resolves */
	}
	link_transmit6(ifc->link, ifc, &hop, p);
	return id;
}

uint64_t host6_send_raw(struct host *h, struct packet *p)
{
	struct packet6_info info;
	struct ip6_addr dst;

	/* As a raw socket with IPV6_HDRINCL: bytes that parse pass OUTPUT,
	 * others go by their header's destination. */
	if (packet6_parse(p->data, p->len, &info, NULL, 0) == PACKET_OK)
		return host6_output(h, p, &info, &info.dst);
	memcpy(dst.b, p->data + 24, sizeof(dst.b));
	return host6_output(h, p, NULL, &dst);
}

/* Send a packet the stack built (an answer). */
static void host6_send_built(struct host *h, struct packet *p)
{
	struct packet6_info info;

	if (packet6_parse(p->data, p->len, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(h->node.net), p);
		return;
	}
	host6_output(h, p, &info, &info.dst);
}

/* ---- ICMPv6 answers ----------------------------------------------------------- */

static int64_t host6_now(const struct host *h)
{
	return engine_now(net_engine(h->node.net));
}

/* The error type/code about `about` (p's bytes) from `src`, decided (rate
 * limit over the route back: `loopback` for an error to ourselves) and
 * built. NULL if none: `answer` says why. */
static struct packet *host6_error_for(struct host *h, const struct packet *p,
				      const struct packet6_info *about, const struct ip6_addr *src,
				      uint8_t type, uint8_t code, bool loopback,
				      struct icmp_answer *answer)
{
	struct ip6_addr hop;
	struct packet *err;

	if (!loopback && !next_hop6(h, &about->src, &hop)) {
		*answer = (struct icmp_answer){
		    .kind = icmp6_may_answer(about, type) ? ICMP_ANSWER_NONE : ICMP_ANSWER_NEVER,
		    .type = type,
		    .code = code};
		return NULL; /* icmpv6_xrlim_allow: no route back, nothing sent */
	}
	*answer =
	    icmp6_decide_error(host_icmp_limiter(h), host6_now(h), about, type, code, loopback);
	if (answer->kind != ICMP_ANSWER_SENT)
		return NULL;
	err = icmp6_error_packet(
	    h->node.net, p->data, p->len, src, &about->src, type, code, 0,
	    net_flow_label6(h->node.net, src, &about->src, IPPROTO_NUM_ICMPV6, type, code));
	if (err == NULL)
		answer->kind = ICMP_ANSWER_NONE;
	else
		answer->packet_id = err->id;
	return err;
}

/* An error the host sends itself (a REJECT on OUTPUT) goes out and back
 * in through lo: OUTPUT, then the IPv6 input path, at once. */
static void host6_loopback(struct host *h, struct packet *p)
{
	struct packet6_info info;
	struct fw_verdict v;

	if (packet6_parse(p->data, p->len, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(h->node.net), p);
		return;
	}
	node_trace_hop(&h->node, NULL, TRACE_HOP_SEND, p);
	if (!host6_filter(h, FW_CHAIN_OUTPUT, &info, p->len, &v)) {
		node_drop_by_firewall6(&h->node, host_iface(h), p, &info, &v, NULL);
		return;
	}
	host6_receive(h, host_iface(h), p);
}

/* Nobody on the link holds the next hop `hop`: Linux's neighbour entry
 * fails (3 solicitations, RetransTimer 1 s) and ndisc_error_report ->
 * ip6_link_failure -> icmpv6_send(ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH)
 * quotes the packet to its sender, this host itself: from its own address
 * (icmp6_send routes back to the quoted source), through lo, never rate
 * limited (icmpv6_xrlim_allow passes loopback). It reaches the socket
 * (tcp_v6_err: EHOSTUNREACH; __udp6_lib_err), and traceroute prints !H.
 * natsim has no neighbour discovery and answers at once, as its routers do
 * (router6.c, NODE_PATH_NO_NEIGHBOUR6; docs/ipv6.md says so). Raw bytes
 * that do not parse (no `info`) are left to the link's own drop. */
static void host6_no_neighbour(struct host *h, struct iface *ifc, struct packet *p,
			       const struct packet6_info *info, const struct ip6_addr *hop)
{
	struct node_path_facts why = {
	    .cause = NODE_PATH_HOST_NO_NEIGHBOUR6, .flow = packet6_flow_of(info), .addr6 = *hop};
	struct packet *err = host6_error_for(h, p, info, &info->src, ICMP6_DEST_UNREACH,
					     ICMP6_ADDR_UNREACH, true, &why.answer);

	node_drop_verdict(&h->node, ifc, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH, &why);
	if (err != NULL)
		host6_loopback(h, err);
}

/* The filter refused p. A REJECT answers with its rule's error
 * (nf_send_unreach6 -> icmp6_send), from the address the packet was for,
 * or with an RST for tcp-reset; on OUTPUT, to ourselves through lo. */
static void host6_refuse(struct host *h, struct iface *at, struct packet *p,
			 const struct packet6_info *info, const struct fw_verdict *v)
{
	bool output = v->chain == FW_CHAIN_OUTPUT;
	struct icmp_answer answer = {.kind = ICMP_ANSWER_NONE};
	struct packet *err = NULL;

	if (v->action == FW_REJECT && v->matched != NULL &&
	    v->matched->reject_with == FW_REJECT_TCP_RESET && info->next_header == IPPROTO_NUM_TCP)
		err = icmp6_reject_reset(h->node.net, info, &answer);
	else if (v->action == FW_REJECT)
		err = host6_error_for(
		    h, p, info, output ? &info->src : &info->dst, ICMP6_DEST_UNREACH,
		    v->matched != NULL ? icmp6_reject_code(v->matched->reject_with)
				       : ICMP6_PORT_UNREACH,
		    output, &answer);
	node_drop_by_firewall6(&h->node, at, p, info, v, &answer);
	if (err != NULL && output)
		host6_loopback(h, err);
	else if (err != NULL)
		host6_send_built(h, err);
}

/* ---- the way in --------------------------------------------------------------- */

/* Nothing listens: port unreachable for UDP (__udp6_lib_rcv); TCP has
 * its own answer (host_tcp_receive6), other protocols none. */
static void host6_no_socket(struct host *h, struct iface *in, struct packet *p,
			    const struct packet6_info *info)
{
	struct node_path_facts why = {.cause = NODE_PATH_NO_SOCKET, .flow = packet6_flow_of(info)};
	struct packet *err = NULL;

	if (info->next_header == IPPROTO_NUM_UDP)
		err = host6_error_for(h, p, info, &info->dst, ICMP6_DEST_UNREACH,
				      ICMP6_PORT_UNREACH, false, &why.answer);
	node_drop_verdict(&h->node, in, p, TRACE_DROP_NO_SOCKET, NODE_VERDICT_PATH, &why);
	if (err != NULL)
		host6_send_built(h, err);
}

/* ICMPv6 for this host (icmpv6_rcv): echo requests answered (never rate
 * limited: informational); an error goes to the socket whose datagram it
 * quotes (icmpv6_notify -> __udp6_lib_err); the rest is consumed. */
static void host6_icmp_input(struct host *h, struct packet *p, const struct packet6_info *info)
{
	const struct packet6_inner *q = &info->inner;
	struct host_socket *s = NULL;

	if (info->icmp_type == ICMP6_ECHO_REQUEST) {
		struct packet *reply = icmp6_echo_reply_packet(
		    h->node.net, info,
		    net_flow_label6(h->node.net, &info->dst, &info->src, IPPROTO_NUM_ICMPV6,
				    ICMP6_ECHO_REPLY, 0));

		node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
		packet_release(net_packets(h->node.net), p);
		if (reply != NULL)
			host6_send_built(h, reply);
		return;
	}
	if (info->icmp_error && q->next_header == IPPROTO_NUM_UDP)
		s = find_socket6(h->node.host6, &q->src, q->sport);
	node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
	if (s != NULL && s->err6_fn != NULL) {
		struct host_icmp6_error err = {.reporter = info->src,
					       .local = {q->src, q->sport},
					       .remote = {q->dst, q->dport},
					       .type = info->icmp_type,
					       .code = info->icmp_code,
					       .param = info->icmp_param};

		s->err6_fn(s, &err, s->ctx);
	}
	host_tcp_icmp_error6(h, info, p->id);
	packet_release(net_packets(h->node.net), p);
}

/* UDP with checksum 0, past INPUT (conntrack tracks it: udp_error lets it
 * through): __udp6_lib_rcv drops it whether or not a socket listens,
 * before any port unreachable (udp6_csum_zero_error, drop reason UDP_CSUM,
 * Udp6InCsumErrors; tests/lab/lab_router6.sh saw it). A socket with
 * UDP_NO_CHECK6_RX would take it: natsim has no such option. */
void host6_udp_no_checksum(struct node *n, struct iface *in, struct packet *p,
			   const struct packet6_info *info)
{
	node_drop_verdict(n, in, p, TRACE_DROP_MALFORMED, NODE_VERDICT_PATH,
			  &(struct node_path_facts){.cause = NODE_PATH_UDP6_CSUM_ZERO,
						    .flow = packet6_flow_of(info)});
}

/* Not ours: a host does not forward (ip6_forward, forwarding off). */
static void host6_not_ours(struct host *h, struct iface *in, struct packet *p,
			   const struct packet6_info *info)
{
	struct node_path_facts why = {.cause = NODE_PATH_NO_IPV6_ADDRESS,
				      .flow = packet6_flow_of(info)};

	if (host_address6(h, &why.addr6))
		why.cause = NODE_PATH_NOT_FOR_US;
	node_drop_verdict(&h->node, in, p, TRACE_DROP_NOT_FOR_US, NODE_VERDICT_PATH, &why);
}

void host6_receive(struct host *h, struct iface *in, struct packet *p)
{
	struct packet6_info info;
	struct host_socket *s;
	struct fw_verdict v;
	char why[200];

	if (packet6_parse(p->data, p->len, &info, why, sizeof(why)) != PACKET_OK) {
		node_drop_verdict(
		    &h->node, in, p, TRACE_DROP_MALFORMED, NODE_VERDICT_PATH,
		    &(struct node_path_facts){.cause = NODE_PATH_MALFORMED, .detail = why});
		return;
	}
	if (node_iface_by_addr6(&h->node, &info.dst) == NULL) {
		host6_not_ours(h, in, p, &info);
		return;
	}
	if (!host6_filter(h, FW_CHAIN_INPUT, &info, p->len, &v)) {
		host6_refuse(h, in, p, &info, &v);
		return;
	}
	if (info.next_header == IPPROTO_NUM_ICMPV6) {
		host6_icmp_input(h, p, &info);
		return;
	}
	if (info.next_header == IPPROTO_NUM_TCP) {
		host_tcp_receive6(h, in, p, &info);
		return;
	}
	if (info.udp_no_checksum) {
		host6_udp_no_checksum(&h->node, in, p, &info);
		return;
	}
	s = info.next_header == IPPROTO_NUM_UDP ? find_socket6(h->node.host6, &info.dst, info.dport)
						: NULL;
	if (s == NULL) {
		host6_no_socket(h, in, p, &info);
		return;
	}
	struct endpoint6 from = {info.src, info.sport}, to = {info.dst, info.dport};

	node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
	/* The callback may send, bind or close: nothing of `s` after it. */
	if (s->fn6 != NULL)
		s->fn6(s, &from, &to, info.payload, info.payload_len, s->ctx);
	packet_release(net_packets(h->node.net), p);
}
