/*
 * net.h - the simulated world: the engine, the seed, the packet pool, and the
 * nodes and links, with the interface abstraction they share.
 *
 * A node is a host or a router (struct node is their common head). A node has
 * interfaces; an interface has an IPv4 address and prefix and is attached to
 * at most one link. A link is a segment (point-to-point with two attachments,
 * or a LAN with many): link_transmit() delivers to the attachment whose
 * address is the next hop, after the link's latency, jitter and loss.
 *
 * The world owns every node and link created in it; net_free() frees them.
 * Names are copied. Once the world is complete (interfaces attached, NATs
 * enabled), whoever built it calls net_announce(): every node and link then
 * announces itself on the trace (TRACE_NODE, TRACE_LINK), so renderers can
 * draw the topology from the trace alone. Announcing at creation would be too
 * early: a node's description (its addresses, its NAT) is only known later.
 *
 * Map: docs/architecture.md follows one packet through this layer, from
 * "Life of a packet" step 3 (host) to step 11 (firewall).
 * node_drop_verdict() appears in "How a drop's reason becomes words".
 */
#ifndef NATSIM_MODEL_NET_H
#define NATSIM_MODEL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "model/firewall.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/verdict.h"

#define NODE_MAX_IFACES 8

struct net;
struct node;
struct link;

struct iface {
	struct node *node;
	char name[16]; /* "eth0", "wan", "lan" */
	uint32_t addr; /* host order; 0 = unnumbered */
	uint8_t prefix_len;
	/* IPv6 (docs/ipv6.md step 2): one global address or none, no
	 * link-local. The two small fields sit in prefix_len's padding; the
	 * address itself lives in the node's addrs6 (iface_addr6), so an
	 * IPv4-only interface stays 48 bytes. */
	bool has_addr6;
	uint8_t prefix6_len;
	struct link *link;   /* NULL until attached */
	int index;	     /* within its node */
	uint32_t attachment; /* within its link's attachments, once attached */
};

enum node_kind { NODE_HOST, NODE_ROUTER };

/* How a link hands a packet to a node. The node owns `p` from then on. */
struct node_ops {
	void (*receive)(struct node *n, struct iface *in, struct packet *p);
	void (*free)(struct node *n);
	/* For net_announce(): fill out->type, out->detail (written into
	 * detail[size]) and out->behind. May be NULL (type "node", no detail). */
	void (*describe)(struct node *n, struct trace_node *out, char *detail, size_t size);
};

struct router6; /* model/router6.c's own */
struct host6;	/* model/host6.c's own */

struct node {
	struct net *net;
	const struct node_ops *ops;
	enum node_kind kind;
	char *name;
	size_t n_ifaces;
	struct iface ifaces[NODE_MAX_IFACES];
	/* The node's IPv6 state (routes or gateway, sockets, its filter6),
	 * made by its kind on first need (NULL until then: none of it). Here, after the interfaces,
	 * rather than in struct router / struct host, whose own fields fill the one cache line
	 * model/prefetch.c budgets for them. */
	union {
		struct router6 *router6; /* kind NODE_ROUTER */
		struct host6 *host6;	 /* kind NODE_HOST */
	};
	/* The interfaces' IPv6 addresses by index (network order), made by
	 * the first iface_set_addr6: NULL on an IPv4-only node, which then
	 * pays 8 bytes rather than 16 per interface (bench_scale). */
	struct ip6_addr *addrs6;
};

struct net *net_new(uint64_t seed);
void net_free(struct net *net);

/* Emit TRACE_NODE for every node, then TRACE_LINK (TRACE_LINK_ADDED) for every
 * link, each in creation order. Call once, after the world is built. A LAN
 * with n > 2 attachments gives n - 1 records, each pairing its first
 * attachment (usually the router) with one other. */
void net_announce(struct net *net);

struct engine *net_engine(struct net *net);
struct trace *net_trace(struct net *net);
struct packet_pool *net_packets(struct net *net);
uint64_t net_seed(const struct net *net);
/* A fresh packet id (1, 2, 3, ... in creation order). */
uint64_t net_next_packet_id(struct net *net);
/* Cuts of any link or attachment's access so far (model/link.c stamps each
 * packet in flight with it, so an arrival with nothing cut since its
 * departure needs no look at its link), and the count after one more. */
uint32_t net_cut_count(const struct net *net);
uint32_t net_count_cut(struct net *net);
/* The flow label a node's stack writes on an IPv6 packet it originates,
 * as Linux's ip6_make_flowlabel does with net.ipv6.auto_flowlabels on (the
 * default): a hash of the flow (addresses, next header, ports; an ICMPv6
 * message's type and code as its ports), with the world's seed in place of
 * the kernel's per-boot secret so runs stay reproducible, and bit 19 set
 * (IPV6_FLOWLABEL_STATELESS_FLAG, net.ipv6.flowlabel_state_ranges on). */
uint32_t net_flow_label6(const struct net *net, const struct ip6_addr *src,
			 const struct ip6_addr *dst, uint8_t proto, uint16_t sport, uint16_t dport);
/* Derive a named random stream from the world's seed (see sim/rng.h). */
void net_rng(const struct net *net, const char *name, struct rng *out);

struct node *net_find_node(struct net *net, const char *name);
size_t net_node_count(const struct net *net);
struct node *net_node_at(struct net *net, size_t i);
struct link *net_find_link(struct net *net, const char *name);

/* For node implementations: register a node the caller allocated (the world
 * takes ownership and frees it through ops->free). Returns 0 or -1. */
int net_add_node(struct net *net, struct node *n, enum node_kind kind, const struct node_ops *ops,
		 const char *name);
/* Add an interface to a node. Returns it, or NULL if the node is full. */
struct iface *node_add_iface(struct node *n, const char *name, uint32_t addr, uint8_t prefix_len);
struct iface *node_find_iface(struct node *n, const char *name);
/* The interface holding `addr`, or NULL. */
struct iface *node_iface_by_addr(struct node *n, uint32_t addr);
/* Give an interface its IPv6 address (one per interface; no link-local:
 * docs/ipv6.md). 0, or -1 if it has one already, prefix_len > 128, or the
 * address is :: (it names no interface). Call before or after attaching. */
int iface_set_addr6(struct iface *ifc, const struct ip6_addr *addr, uint8_t prefix_len);
/* The interface's IPv6 address, or NULL if it has none (!has_addr6). */
const struct ip6_addr *iface_addr6(const struct iface *ifc);
/* The interface holding IPv6 `addr`, or NULL. */
struct iface *node_iface_by_addr6(struct node *n, const struct ip6_addr *addr);

/* The verdicts a drop record carries (enum node_verdict_kind and the facts
 * structs: node_firewall_facts, nat_facts, node_path_facts,
 * link_drop_facts) are in sim/verdict.h, where explain/ reads them. */

/* Emit a drop record for `p` carrying the verdict that dropped it, and
 * release the packet; the trace's explainer words it (explain/). `facts` is
 * borrowed for the call. */
void node_drop_verdict(struct node *n, struct iface *at, struct packet *p,
		       enum trace_drop_reason reason, enum node_verdict_kind kind,
		       const void *facts);
/* A firewall refused `p`: node_drop_verdict() with the firewall's verdict,
 * which the trace words ("bob's firewall dropped A → B: ...", rule "INPUT
 * #2"). */
void node_drop_by_firewall(struct node *n, struct iface *at, struct packet *p,
			   const struct packet_info *info, const struct fw_verdict *v);
/* The same, saying what the node answered (a REJECT's ICMP error, sent or
 * not: node_firewall_facts.answer). answer NULL: nothing to answer. */
void node_drop_by_firewall_answered(struct node *n, struct iface *at, struct packet *p,
				    const struct packet_info *info, const struct fw_verdict *v,
				    const struct icmp_answer *answer);
/* The same for an IPv6 packet its filter6 refused (model/filter6.h). */
void node_drop_by_firewall6(struct node *n, struct iface *at, struct packet *p,
			    const struct packet6_info *info, const struct fw_verdict *v,
			    const struct icmp_answer *answer);
/* The NAT refused `p`: node_drop_verdict() with its result, the remotes it
 * names copied into the record (struct nat_facts). */
void node_drop_by_nat(struct node *n, struct iface *at, struct packet *p,
		      const struct nat_result *res);
/* The NAT's result as a record keeps it: values, the remotes copied (for a
 * translate record's verdict as for a drop's). */
void node_nat_facts(const struct nat_result *res, struct nat_facts *out);

/* Emit a packet-hop record (no ownership change). */
void node_trace_hop(struct node *n, struct iface *at, enum trace_hop hop, const struct packet *p);

/* Links. */
struct link_config {
	int64_t latency;    /* one way, ns */
	int64_t jitter;	    /* uniform extra delay in [0, jitter], ns; order preserved */
	double loss;	    /* probability a packet is lost, 0..1 */
	uint64_t rate_bps;  /* 0 = unlimited (no queue) */
	size_t queue_limit; /* packets waiting per sender when rate-limited, default 64 */
	/* The largest IPv6 packet the link carries, in bytes (default 1500;
	 * 0 reads as 1500, below 1280 as 1280: RFC 8200 section 5). Only an
	 * IPv6 router reads it: it answers a bigger packet with packet too
	 * big instead of forwarding it (IPv6 routers never fragment). IPv4
	 * and the hosts' own packets are not checked (docs/ipv6.md). */
	uint32_t mtu;
};
void link_config_default(struct link_config *cfg);

/* A link named `name` (unique in the world) with the given behaviour, attached
 * to no interface yet. */
struct link *link_new(struct net *net, const char *name, const struct link_config *cfg);
/* Attach an interface (a link takes any number). Returns 0, or -1 if already
 * attached or out of memory. */
int link_attach(struct link *l, struct iface *ifc);
/* Send `p` from `from` to the attachment whose address is `next_hop`. Takes
 * ownership. A packet with no such attachment, lost, or refused by a full
 * queue or a cut link is dropped with a record at the sending node. */
void link_transmit(struct link *l, struct iface *from, uint32_t next_hop, struct packet *p);
/* As link_transmit, the next hop named by its IPv6 address. natsim has no
 * neighbour discovery (RFC 4861, docs/ipv6.md): the interface holding the
 * address on the link answers for it, as one whose NA had been received. */
void link_transmit6(struct link *l, struct iface *from, const struct ip6_addr *next_hop,
		    struct packet *p);
/* Is there an attachment on `from`'s link, other than `from`, holding IPv6
 * `addr`? What a router asks before forwarding, where Linux's neighbour
 * resolution would fail (address unreachable, model/router6.c). */
bool link_has_neighbour6(const struct link *l, const struct iface *from,
			 const struct ip6_addr *addr);
/* Cut (down) and restore (up). A cut link drops what it is given and what is
 * in flight when it arrives. */
void link_set_up(struct link *l, bool up);
bool link_is_up(const struct link *l);
const char *link_name(const struct link *l);
const struct link_config *link_get_config(const struct link *l);
/* The link's IPv6 MTU as a router applies it (link_config.mtu). */
uint32_t link_mtu6(const struct link *l);
void link_set_config(struct link *l, const struct link_config *cfg);
/* Number of attached interfaces, and the i-th in attachment order. */
size_t link_attachment_count(const struct link *l);
struct iface *link_attachment(const struct link *l, size_t i);
/* One attachment's own access to a LAN (a host's Wi-Fi): latency and jitter
 * added, and loss combined, for every packet to or from it (they replace
 * earlier values for that attachment). Returns 0, or -1 if `ifc` is not
 * attached or a value is out of range. */
int link_attachment_configure(struct link *l, struct iface *ifc, int64_t latency, int64_t jitter,
			      double loss);
/* Cut or restore one attachment's access; the rest of the LAN works on.
 * Packets to or from it are dropped (LINK_DOWN), in flight ones on arrival.
 * Emits TRACE_LINK down/up paired with the first attachment, as
 * net_announce() pairs a LAN. Returns 0, or -1 if `ifc` is not attached. */
int link_attachment_set_up(struct link *l, struct iface *ifc, bool up);
bool link_attachment_is_up(const struct link *l, const struct iface *ifc);

/* For net.c only: the world's link registry. link_new() registers the link
 * (net_add_link, 0 or -1); net_free() calls link_free(), which drops nothing
 * on the trace and returns in-flight packets to the pool; net_announce()
 * calls link_announce(). */
int net_add_link(struct net *net, struct link *l);
void link_free(struct link *l);
void link_announce(struct link *l);

#endif
