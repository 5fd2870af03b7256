/*
 * host.c - an end host: one interface, a default gateway, UDP sockets, and an
 * optional stateful firewall with its connection tracking.
 *
 * Connection tracking runs only while the firewall is on. That is Linux's
 * behaviour too: nf_conntrack is loaded by the first ruleset that matches on
 * state (iptables -m state / nft ct state), and a host without one keeps no
 * flow table. Turning the firewall on mid-flow therefore sees the next reply
 * of an old flow as NEW, exactly as a freshly loaded nf_conntrack would.
 *
 * Within the firewall path an entry is created only once the packet has been
 * accepted, like netfilter's "confirm" at the end of the hooks: a dropped
 * packet leaves no entry behind.
 */
#include "model/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/host_layout.h"
#include "model/node6.h"
#include "model/packet6.h"
#include "model/router.h"

/* A host's ICMP state, made on first use (host_layout.h). */
struct host_icmp {
	struct icmp_limiter *limiter; /* NULL until an answer needs it */
	host_icmp_fn fn;	      /* the raw ICMP listener */
	void *ctx;
};

static void host_receive(struct node *n, struct iface *in, struct packet *p);
static void host_free(struct node *n);
static void host_describe(struct node *n, struct trace_node *out, char *detail, size_t size);

static const struct node_ops host_ops = {
    .receive = host_receive,
    .free = host_free,
    .describe = host_describe,
};

struct host *host_new(struct net *net, const char *name, uint32_t addr, uint8_t prefix_len,
		      uint32_t gateway)
{
	struct host *h = calloc(1, sizeof(*h));
	struct conntrack_config ctc;
	struct rng r;
	char stream[96];

	if (h == NULL)
		return NULL;
	if (net_add_node(net, &h->node, NODE_HOST, &host_ops, name) < 0) {
		free(h);
		return NULL;
	}
	/* From here the world owns the node: on failure it stays registered,
	 * inert, and net_free() frees it. */
	conntrack_config_default(&ctc);
	h->fw = firewall_new(h->node.name);
	h->ct = conntrack_new(net_engine(net), h->node.name, &ctc);
	if (h->fw == NULL || h->ct == NULL ||
	    node_add_iface(&h->node, "eth0", addr, prefix_len) == NULL)
		return NULL;
	firewall_make_stateful_host(h->fw);
	h->gateway = gateway;
	snprintf(stream, sizeof(stream), "host:%s:ports", name);
	net_rng(net, stream, &r);
	h->next_port = (uint16_t)(HOST_EPHEMERAL_LO +
				  rng_below(&r, HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1));
	return h;
}

static void host_free(struct node *n)
{
	struct host *h = (struct host *)n;

	for (size_t i = 0; i < h->n_socks; i++)
		free(h->socks[i]);
	free(h->socks);
	host_tcp_free_all(h);
	host6_free(h);
	if (h->icmp != NULL)
		icmp_limiter_free(h->icmp->limiter);
	free(h->icmp);
	conntrack_free(h->ct);
	firewall_free(h->fw);
	free(h);
}

struct node *host_node(struct host *h)
{
	return &h->node;
}

struct host *host_from_node(struct node *n)
{
	return n != NULL && n->kind == NODE_HOST ? (struct host *)n : NULL;
}

struct iface *host_iface(struct host *h)
{
	return &h->node.ifaces[0];
}

uint32_t host_address(const struct host *h)
{
	return h->node.ifaces[0].addr;
}

void host_set_gateway(struct host *h, uint32_t gateway)
{
	h->gateway = gateway;
}

struct iface *host_add_address(struct host *h, uint32_t addr, uint8_t prefix_len)
{
	char name[16];

	if (addr == 0 || node_iface_by_addr(&h->node, addr) != NULL)
		return NULL;
	snprintf(name, sizeof(name), "eth%zu", h->node.n_ifaces);
	return node_add_iface(&h->node, name, addr, prefix_len);
}

void host_enable_firewall(struct host *h, bool on)
{
	h->fw_on = on;
}

bool host_firewall_enabled(const struct host *h)
{
	return h->fw_on;
}

struct firewall *host_firewall(struct host *h)
{
	return h->fw;
}

struct conntrack *host_conntrack(struct host *h)
{
	return h->ct;
}

/* The node that answers for `addr` on `ifc`'s link, or NULL. */
static struct node *neighbour(struct iface *ifc, uint32_t addr)
{
	if (ifc->link == NULL)
		return NULL;
	for (size_t i = 0; i < link_attachment_count(ifc->link); i++) {
		struct iface *a = link_attachment(ifc->link, i);

		if (a->addr == addr && a != ifc)
			return a->node;
	}
	return NULL;
}

static void host_describe(struct node *n, struct trace_node *out, char *detail, size_t size)
{
	struct host *h = (struct host *)n;
	struct iface *ifc = host_iface(h);
	struct node *gw = neighbour(ifc, h->gateway);
	struct router *r = router_from_node(gw);
	size_t used = 0;
	char a[16];

	out->type = "host";
	out->conntrack = h->fw_on;
	out->gateway = h->gateway;
	out->firewall = h->fw_on;
	detail[0] = '\0';
	for (size_t i = 0; i < n->n_ifaces && used < size; i++) {
		const struct iface *ifc = &n->ifaces[i];

		/* An IPv6-only interface shows its IPv6 address alone. */
		if (ifc->addr != 0 || !ifc->has_addr6)
			used +=
			    (size_t)snprintf(detail + used, size - used, "%s%s/%u", i ? ", " : "",
					     ip_format(ifc->addr, a, sizeof(a)), ifc->prefix_len);
		else if (i > 0 && used < size)
			used += (size_t)snprintf(detail + used, size - used, ", ");
		used = node6_describe_iface(ifc, detail, used, size);
	}
	if (used < size && h->gateway != 0)
		used += (size_t)snprintf(detail + used, size - used, " gw %s",
					 ip_format(h->gateway, a, sizeof(a)));
	else if (used < size && ifc->addr != 0)
		used += (size_t)snprintf(detail + used, size - used, ", no gateway");
	used = host6_describe(h, detail, used, size);
	if (used < size)
		snprintf(detail + used, size - used, ", firewall %s", h->fw_on ? "on" : "off");
	/* Behind a NAT when the gateway NATs and we are on its inside. */
	if (r != NULL && router_nat(r) != NULL && router_nat_outside(r)->link != ifc->link)
		out->behind = gw->name;
}

/* Sockets. */

static bool port_bound(const struct host *h, uint16_t port)
{
	for (size_t i = 0; i < h->n_socks; i++)
		if (h->socks[i]->port == port)
			return true;
	return false;
}

/* The socket a datagram to addr:port goes to: one bound to exactly that
 * address first, else one bound to every address (as Linux's UDP lookup
 * scores an exact local address above the wildcard). */
static struct host_socket *find_socket(const struct host *h, uint32_t addr, uint16_t port)
{
	struct host_socket *wild = NULL;

	for (size_t i = 0; i < h->n_socks; i++) {
		struct host_socket *s = h->socks[i];

		if (s->port == port && s->addr == addr)
			return s;
		if (s->port == port && s->addr == 0)
			wild = s;
	}
	return wild;
}

/* Would binding addr:port clash? Without SO_REUSEADDR, Linux refuses a bind
 * that overlaps an existing one: same port, and same address or either the
 * wildcard. */
static bool bind_clashes(const struct host *h, uint32_t addr, uint16_t port)
{
	for (size_t i = 0; i < h->n_socks; i++) {
		const struct host_socket *s = h->socks[i];

		if (s->port == port && (s->addr == addr || s->addr == 0 || addr == 0))
			return true;
	}
	return false;
}

/* Linux picks ephemeral ports from a hash of the destination (RFC 6056
 * alg. 3); natsim walks sequentially from a start drawn from the host's own
 * stream, which keeps runs reproducible and ports unsurprising to read. */
static uint16_t pick_ephemeral(struct host *h)
{
	const uint32_t span = HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1;

	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = h->next_port;

		h->next_port = port == HOST_EPHEMERAL_HI ? HOST_EPHEMERAL_LO : (uint16_t)(port + 1);
		if (!port_bound(h, port))
			return port;
	}
	return 0;
}

struct host_socket *host_udp_bind(struct host *h, uint16_t port, host_recv_fn fn, void *ctx)
{
	return host_udp_bind_addr(h, 0, port, fn, ctx);
}

struct host_socket *host_udp_bind_addr(struct host *h, uint32_t addr, uint16_t port,
				       host_recv_fn fn, void *ctx)
{
	if (addr != 0 && node_iface_by_addr(&h->node, addr) == NULL)
		return NULL; /* EADDRNOTAVAIL */
	if (port == 0)
		port = pick_ephemeral(h);
	if (port == 0 || bind_clashes(h, addr, port))
		return NULL;
	if (h->n_socks == h->cap_socks) {
		size_t ncap = h->cap_socks ? h->cap_socks * 2 : 4;
		struct host_socket **s = realloc(h->socks, ncap * sizeof(*s));

		if (s == NULL)
			return NULL;
		h->socks = s;
		h->cap_socks = (uint32_t)ncap;
	}
	struct host_socket *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->host = h;
	s->addr = addr;
	s->port = port;
	s->fn = fn;
	s->ctx = ctx;
	h->socks[h->n_socks++] = s;
	return s;
}

void host_udp_close(struct host_socket *s)
{
	if (s == NULL)
		return;
	if (s->is6) {
		host6_udp_close(s);
		return;
	}
	struct host *h = s->host;

	for (size_t i = 0; i < h->n_socks; i++)
		if (h->socks[i] == s) {
			h->socks[i] = h->socks[--h->n_socks];
			break;
		}
	free(s);
}

struct endpoint host_socket_local(const struct host_socket *s)
{
	struct endpoint ep = {s->addr != 0 ? s->addr : host_address(s->host), s->port};

	return ep;
}

struct host *host_socket_host(const struct host_socket *s)
{
	return s->host;
}

/* Packet path. */

static uint64_t host_output(struct host *h, struct packet *p, const struct packet_info *info,
			    uint32_t src, uint32_t dst);
static void host_refuse(struct host *h, struct iface *at, struct packet *p,
			const struct packet_info *info, const struct fw_verdict *v);

/* Count an accepted packet on its flow. A TCP segment moves the flow's TCP
 * state; a reopening SYN (host_filter took it out before the rules) that
 * still meets REOPEN is tracked again on a new entry. */
static void host_track(struct host *h, struct conntrack_entry *ce, enum conntrack_dir dir,
		       const struct packet *p, const struct packet_info *info)
{
	struct conntrack_tuple t, rt;

	if (info->proto != IPPROTO_NUM_TCP) {
		conntrack_seen(h->ct, ce, dir, p->len);
		return;
	}
	if (conntrack_seen_tcp(h->ct, ce, dir, info) != CONNTRACK_TCP_REOPEN)
		return;
	conntrack_tuple_of(info, &t);
	conntrack_tuple_invert(&t, &rt);
	ce = conntrack_create(h->ct, &t, &rt);
	if (ce != NULL)
		conntrack_seen_tcp(h->ct, ce, CONNTRACK_DIR_ORIGINAL, info);
}

/* Run `chain` over a parsed packet with its conntrack state; on accept,
 * confirm the flow (create it if new) and count the packet. Returns false,
 * having dropped `p`, if the firewall refused it. */
static bool host_filter(struct host *h, enum fw_chain chain, struct iface *at, struct packet *p,
			const struct packet_info *info)
{
	struct conntrack_tuple t, rt;
	enum conntrack_dir dir = CONNTRACK_DIR_ORIGINAL;
	struct conntrack_entry *ce;
	enum conntrack_state state;
	struct fw_verdict v;

	if (!h->fw_on)
		return true;
	state = conntrack_classify(h->ct, info, &ce, &dir);
	/* A SYN reopening a closed TCP flow: nf_conntrack_in kills the old
	 * entry and looks the segment up again (NF_REPEAT), so the rules
	 * see it NEW, as the router does in PREROUTING. */
	if (ce != NULL && info->proto == IPPROTO_NUM_TCP && conntrack_tcp_reopens(ce, dir, info)) {
		conntrack_destroy(h->ct, ce, "reopened by a new SYN");
		state = conntrack_classify(h->ct, info, &ce, &dir);
	}
	firewall_filter(h->fw, chain, info, state, &v);
	if (state == CONNTRACK_INVALID)
		v.invalid = conntrack_tcp_invalid_cause(ce, info);
	if (v.action != FW_ACCEPT) {
		/* nf_conntrack_in ran first (PREROUTING / LOCAL_OUT): a tracked
		 * TCP flow's state moves even when the rules drop the segment. */
		if (ce != NULL && info->proto == IPPROTO_NUM_TCP && state != CONNTRACK_INVALID &&
		    state != CONNTRACK_RELATED)
			host_track(h, ce, dir, p, info);
		host_refuse(h, at, p, info, &v);
		return false;
	}
	/* A RELATED error has no entry of its own and leaves its flow's alone
	 * (nf_conntrack_inet_error); an INVALID packet is not tracked. */
	if (state == CONNTRACK_RELATED || state == CONNTRACK_INVALID)
		return true;
	if (ce == NULL) {
		conntrack_tuple_of(info, &t);
		conntrack_tuple_invert(&t, &rt);
		ce = conntrack_create(h->ct, &t, &rt);
		dir = CONNTRACK_DIR_ORIGINAL;
	}
	/* A full table refuses to track, as Linux's does ("table full,
	 * dropping packet"); natsim lets the packet pass untracked. */
	if (ce != NULL)
		host_track(h, ce, dir, p, info);
	return true;
}

/* The next hop for `dst` leaving through `ifc`: on-link, or the gateway.
 * 0 = no route. */
static uint32_t next_hop(const struct host *h, const struct iface *ifc, uint32_t dst)
{
	uint32_t mask = prefix_mask(ifc->prefix_len);

	if ((dst & mask) == (ifc->addr & mask))
		return dst;
	return h->gateway;
}

/* Route, filter and transmit a packet this host originates. `info` is NULL
 * for raw bytes that do not parse: those skip the firewall and go by the
 * destination in their header. Returns the packet id, or 0 if dropped here. */
static uint64_t host_output(struct host *h, struct packet *p, const struct packet_info *info,
			    uint32_t src, uint32_t dst)
{
	/* Out through the interface holding the source address (host.h). */
	struct iface *ifc = node_iface_by_addr(&h->node, src);
	uint64_t id = p->id;

	if (ifc == NULL)
		ifc = host_iface(h);
	uint32_t hop = next_hop(h, ifc, dst);

	node_trace_hop(&h->node, NULL, TRACE_HOP_SEND, p);
	if (hop == 0) {
		struct node_path_facts why = {.cause = NODE_PATH_HOST_NO_ROUTE,
					      .dst = dst,
					      .addr = ifc->addr,
					      .prefix_len = ifc->prefix_len};

		node_drop_verdict(&h->node, ifc, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH, &why);
		return 0;
	}
	if (ifc->link == NULL) {
		struct node_path_facts why = {
		    .cause = NODE_PATH_HOST_UNATTACHED, .dst = dst, .iface = ifc->name};

		node_drop_verdict(&h->node, ifc, p, TRACE_DROP_NO_ROUTE, NODE_VERDICT_PATH, &why);
		return 0;
	}
	if (info != NULL && !host_filter(h, FW_CHAIN_OUTPUT, ifc, p, info))
		return 0;
	link_transmit(ifc->link, ifc, hop, p);
	return id;
}

uint64_t host_udp_sendto(struct host_socket *s, const struct endpoint *to, const void *payload,
			 size_t len)
{
	return host_udp_sendto_ttl(s, to, payload, len, PACKET_DEFAULT_TTL);
}

uint64_t host_udp_sendto_ttl(struct host_socket *s, const struct endpoint *to, const void *payload,
			     size_t len, uint8_t ttl)
{
	struct host *h = s->host;
	struct net *net = h->node.net;
	struct endpoint from = host_socket_local(s);
	struct packet_info info;
	struct packet *p;

	if (len > PACKET_MAX_SIZE - IPV4_HEADER_MIN - UDP_HEADER_SIZE)
		return 0;
	p = packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV4_HEADER_MIN + UDP_HEADER_SIZE + len);
	if (p == NULL)
		return 0;
	p->len = packet_build_udp(p->data, p->cap, &from, to, ttl, h->ip_id++, payload, len);
	p->sums_ok = true; /* packet_build_udp writes both sums */
	if (p->len == 0 || packet_check(p, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(net), p);
		return 0;
	}
	return host_output(h, p, &info, from.ip, to->ip);
}

uint64_t host_send_raw(struct host *h, const uint8_t *bytes, size_t len)
{
	struct net *net = h->node.net;
	struct packet_info info;
	struct packet *p;
	bool v6 = packet_ip_version(bytes, len) == 6;

	/* Without a header there is no destination to send to. */
	if (len < (v6 ? IPV6_HEADER_SIZE : IPV4_HEADER_MIN) || len > PACKET_MAX_SIZE)
		return 0;
	p = packet_alloc(net_packets(net), net_next_packet_id(net), len);
	if (p == NULL)
		return 0;
	memcpy(p->data, bytes, len);
	p->len = len;
	if (v6)
		return host6_send_raw(h, p);
	/* Like a raw socket with IP_HDRINCL: the bytes go out as given. Ones
	 * that parse pass the OUTPUT chain; others go by their header's dst. */
	if (packet_parse(p->data, p->len, &info, NULL, 0) == PACKET_OK)
		return host_output(h, p, &info, info.src, info.dst);
	return host_output(h, p, NULL, IP4(bytes[12], bytes[13], bytes[14], bytes[15]),
			   IP4(bytes[16], bytes[17], bytes[18], bytes[19]));
}

/* ---- ICMP: what the stack answers (model/icmp.h has the rules) ---------- */

void host_udp_set_error_fn(struct host_socket *s, host_error_fn fn)
{
	s->err_fn = fn;
}

static struct host_icmp *host_icmp(struct host *h)
{
	if (h->icmp == NULL)
		h->icmp = calloc(1, sizeof(*h->icmp));
	return h->icmp;
}

void host_set_icmp_listener(struct host *h, host_icmp_fn fn, void *ctx)
{
	if (host_icmp(h) == NULL)
		return;
	h->icmp->fn = fn;
	h->icmp->ctx = ctx;
}

/* The host's ICMP limiter, made on first use with Linux's defaults and
 * draws of its own ("icmp:<name>"). NULL if out of memory: nothing is then
 * limited. */
static struct icmp_limiter *host_limiter(struct host *h)
{
	struct icmp_config cfg;
	char stream[96];
	struct rng r;

	if (host_icmp(h) == NULL)
		return NULL;
	if (h->icmp->limiter == NULL) {
		icmp_config_default(&cfg);
		snprintf(stream, sizeof(stream), "icmp:%s", h->node.name);
		net_rng(h->node.net, stream, &r);
		h->icmp->limiter = icmp_limiter_new(&cfg, &r);
	}
	return h->icmp->limiter;
}

struct icmp_limiter *host_icmp_limiter(struct host *h)
{
	return host_limiter(h);
}

int host_set_icmp_config(struct host *h, const struct icmp_config *cfg)
{
	struct icmp_limiter *lim = host_limiter(h);

	if (lim == NULL)
		return -1;
	icmp_limiter_set_config(lim, cfg);
	return 0;
}

void host_icmp_config(const struct host *h, struct icmp_config *out)
{
	if (h->icmp != NULL && h->icmp->limiter != NULL)
		*out = *icmp_limiter_config(h->icmp->limiter);
	else
		icmp_config_default(out);
}

static int64_t host_now(const struct host *h)
{
	return engine_now(net_engine(h->node.net));
}

/* Send a packet the stack built (an answer, an echo request, a TCP segment). */
uint64_t host_send_built(struct host *h, struct packet *p)
{
	struct packet_info info;

	if (packet_check(p, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(h->node.net), p);
		return 0;
	}
	return host_output(h, p, &info, info.src, info.dst);
}

uint64_t host_send_echo(struct host *h, uint32_t dst, uint16_t id, uint16_t seq, uint8_t ttl,
			size_t payload_len)
{
	struct net *net = h->node.net;
	struct packet *p;

	if (payload_len > PACKET_MAX_SIZE - IPV4_HEADER_MIN - ICMP_HEADER_SIZE)
		return 0;
	p = packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV4_HEADER_MIN + ICMP_HEADER_SIZE + payload_len);
	if (p == NULL)
		return 0;
	p->len = packet_build_icmp_echo(p->data, p->cap, host_address(h), dst, ttl, h->ip_id++,
					ICMP_ECHO_REQUEST, id, seq, NULL, payload_len);
	p->sums_ok = true; /* the builder writes every sum */
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return 0;
	}
	return host_send_built(h, p);
}

/* The error the stack decided to send about `about` (p's bytes), from
 * `src`: built, its id in the answer; NULL (and no answer) if none. */
static struct packet *host_error_for(struct host *h, const struct packet *p,
				     const struct packet_info *about, uint32_t src,
				     struct icmp_answer *answer)
{
	struct packet *err;

	if (answer->kind != ICMP_ANSWER_SENT)
		return NULL;
	err = icmp_error_packet(h->node.net, p->data, p->len, about, src, answer->type,
				answer->code, h->ip_id++);
	if (err == NULL)
		answer->kind = ICMP_ANSWER_NONE;
	else
		answer->packet_id = err->id;
	return err;
}

/* An error a host sends itself goes out and back in through lo: OUTPUT,
 * then INPUT and the stack, at once (Linux: nf_send_unreach's icmp_send
 * routes it to the local address). */
static void host_loopback(struct host *h, struct packet *p)
{
	struct packet_info info;

	if (packet_check(p, &info, NULL, 0) != PACKET_OK) {
		packet_release(net_packets(h->node.net), p);
		return;
	}
	node_trace_hop(&h->node, NULL, TRACE_HOP_SEND, p);
	struct iface *lo = node_iface_by_addr(&h->node, info.dst);

	if (lo == NULL)
		lo = host_iface(h);
	if (!host_filter(h, FW_CHAIN_OUTPUT, lo, p, &info))
		return;
	host_receive(&h->node, lo, p);
}

/* REJECT --reject-with tcp-reset (ipt_REJECT's nf_send_reset): an RST
 * from the segment's destination, <SEQ=SEG.ACK> for a segment with an ACK,
 * else <ACK=SEG.SEQ+SEG.LEN> with ACK set; never for an RST. Not an ICMP
 * error, so no ICMP rate limit. */
static struct packet *host_reject_reset(struct host *h, const struct packet_info *info,
					struct icmp_answer *answer)
{
	struct endpoint from = {info->dst, info->dport}, to = {info->src, info->sport};
	struct tcp_segment rst = {.flags = TCP_RST};
	struct packet *r;

	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_NONE};
	if (info->tcp_flags & TCP_RST)
		return NULL;
	if (info->tcp_flags & TCP_ACK) {
		rst.seq = info->tcp_ack;
	} else {
		rst.flags |= TCP_ACK;
		rst.ack = info->tcp_seq + (uint32_t)info->payload_len +
			  ((info->tcp_flags & TCP_SYN) ? 1u : 0u) +
			  ((info->tcp_flags & TCP_FIN) ? 1u : 0u);
	}
	r = packet_alloc(net_packets(h->node.net), net_next_packet_id(h->node.net),
			 IPV4_HEADER_MIN + TCP_HEADER_MIN);
	if (r == NULL)
		return NULL;
	r->len =
	    packet_build_tcp(r->data, r->cap, &from, &to, PACKET_DEFAULT_TTL, h->ip_id++, &rst);
	r->sums_ok = true;
	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_TCP_RST, .packet_id = r->id};
	return r;
}

/* The firewall refused p. A REJECT answers with its rule's error, as
 * iptables' REJECT does through nf_send_unreach -> icmp_send, so the
 * rules of __icmp_send and its rate limits apply; on OUTPUT the error is
 * the host's to itself, through lo (no per-destination limit there). */
static void host_refuse(struct host *h, struct iface *at, struct packet *p,
			const struct packet_info *info, const struct fw_verdict *v)
{
	bool output = v->chain == FW_CHAIN_OUTPUT;
	uint8_t code =
	    v->matched != NULL ? icmp_reject_code(v->matched->reject_with) : ICMP_PORT_UNREACH;
	struct icmp_answer answer = {.kind = ICMP_ANSWER_NONE};
	struct packet *err = NULL;

	if (v->action == FW_REJECT && v->matched != NULL &&
	    v->matched->reject_with == FW_REJECT_TCP_RESET && info->proto == IPPROTO_NUM_TCP) {
		err = host_reject_reset(h, info, &answer);
	} else if (v->action == FW_REJECT) {
		answer = icmp_decide_error(host_limiter(h), host_now(h), info, ICMP_DEST_UNREACH,
					   code, output);
		/* From the address the packet was for (RTCF_LOCAL); on OUTPUT
		 * the route back to our own source picks that source. */
		err = host_error_for(h, p, info, output ? info->src : info->dst, &answer);
	}
	node_drop_by_firewall_answered(&h->node, at, p, info, v, &answer);
	if (err != NULL && output)
		host_loopback(h, err);
	else if (err != NULL)
		host_send_built(h, err);
}

/* No socket on the port: Linux's __udp4_lib_rcv answers port unreachable
 * (icmp_send, so RFC 1122's rules and the rate limits apply). */
static void host_no_socket(struct host *h, struct iface *in, struct packet *p,
			   const struct packet_info *info)
{
	struct node_path_facts why = {.cause = NODE_PATH_NO_SOCKET, .flow = packet_flow_of(info)};
	struct packet *err = NULL;

	if (info->proto == IPPROTO_NUM_UDP) {
		why.answer = icmp_decide_error(host_limiter(h), host_now(h), info,
					       ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, false);
		err = host_error_for(h, p, info, info->dst, &why.answer);
	}
	node_drop_verdict(&h->node, in, p, TRACE_DROP_NO_SOCKET, NODE_VERDICT_PATH, &why);
	if (err != NULL)
		host_send_built(h, err);
}

/* icmp_echo: the reply carries the request's id, sequence and data. */
static void host_echo(struct host *h, struct packet *p, const struct packet_info *info)
{
	struct icmp_limiter *lim = host_limiter(h);
	struct packet *reply = NULL;

	/* icmp_reply: limited only if icmp_ratemask has bit 0 (not by default). */
	if (lim == NULL ||
	    icmp_limiter_allow(lim, host_now(h), info->src, ICMP_ECHO_REPLY, 0, false))
		reply = icmp_echo_reply_packet(h->node.net, info, h->ip_id++);
	node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
	packet_release(net_packets(h->node.net), p);
	if (reply != NULL)
		host_send_built(h, reply);
}

/* An ICMP error goes to the socket whose datagram it quotes (__udp4_lib_err
 * looks the socket up by the quoted source, its local end). */
static struct host_socket *socket_of_error(const struct host *h, const struct packet_info *info)
{
	const struct packet_inner *q = &info->inner;

	if (!info->icmp_error || q->proto != IPPROTO_NUM_UDP)
		return NULL;
	return find_socket(h, q->src, q->sport);
}

/* ICMP for this host: a raw socket (the listener) sees it first
 * (raw_local_deliver), then icmp_rcv takes it: echo requests are answered,
 * errors go to their socket's error queue. An error no socket sent (a raw
 * datagram's, or one a NAT left untranslated) and a reply nobody waits for
 * are still the stack's: icmp_rcv consumes them (counted in InErrors for an
 * error __udp4_lib_err finds no socket for), so they are delivered, not
 * dropped, and nobody is told. */
static void host_icmp_input(struct host *h, struct packet *p, const struct packet_info *info)
{
	bool listened = h->icmp != NULL && h->icmp->fn != NULL;
	struct icmp_config cfg;
	struct host_socket *s;

	if (listened)
		h->icmp->fn(h, info, h->icmp->ctx);
	s = socket_of_error(h, info); /* after: the listener may close sockets */
	host_icmp_config(h, &cfg);
	if (icmp_answers_echo(&cfg, info)) {
		host_echo(h, p, info);
		return;
	}
	node_trace_hop(&h->node, NULL, TRACE_HOP_DELIVER, p);
	if (s != NULL && s->err_fn != NULL) {
		const struct packet_inner *q = &info->inner;
		struct host_icmp_error err = {.reporter = info->src,
					      .local = {q->src, q->sport},
					      .remote = {q->dst, q->dport},
					      .type = info->icmp_type,
					      .code = info->icmp_code};

		s->err_fn(s, &err, s->ctx);
	}
	host_tcp_icmp_error(h, info, p->id);
	packet_release(net_packets(h->node.net), p);
}

static void host_receive(struct node *n, struct iface *in, struct packet *p)
{
	struct host *h = (struct host *)n;
	struct packet_info info;
	struct host_socket *s;
	char why[200];

	/* The family, decided once at the packet's entry, on the IPv4 parser's
	 * refusal (as router_receive does). */
	if (packet_check(p, &info, why, sizeof(why)) != PACKET_OK) {
		if (packet_ip_version(p->data, p->len) == 6) {
			host6_receive(h, in, p);
			return;
		}
		node_drop_verdict(
		    n, in, p, TRACE_DROP_MALFORMED, NODE_VERDICT_PATH,
		    &(struct node_path_facts){.cause = NODE_PATH_MALFORMED, .detail = why});
		return;
	}
	if (node_iface_by_addr(n, info.dst) == NULL) {
		node_drop_verdict(n, in, p, TRACE_DROP_NOT_FOR_US, NODE_VERDICT_PATH,
				  &(struct node_path_facts){.cause = NODE_PATH_NOT_FOR_US,
							    .flow = packet_flow_of(&info),
							    .addr = host_address(h)});
		return;
	}
	if (!host_filter(h, FW_CHAIN_INPUT, in, p, &info))
		return;
	if (info.proto == IPPROTO_NUM_ICMP) {
		host_icmp_input(h, p, &info);
		return;
	}
	if (info.proto == IPPROTO_NUM_TCP) {
		host_tcp_receive(h, in, p, &info);
		return;
	}
	s = info.proto == IPPROTO_NUM_UDP ? find_socket(h, info.dst, info.dport) : NULL;
	if (s == NULL) {
		host_no_socket(h, in, p, &info);
		return;
	}
	struct endpoint from = {info.src, info.sport}, to = {info.dst, info.dport};

	node_trace_hop(n, NULL, TRACE_HOP_DELIVER, p);
	/* The callback may send, bind or close this socket: nothing of `s` is
	 * used after it. The payload it borrows lives until the release. */
	if (s->fn != NULL)
		s->fn(s, &from, &to, info.payload, info.payload_len, s->ctx);
	packet_release(net_packets(n->net), p);
}
