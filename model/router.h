/*
 * router.h - a router: longest-prefix forwarding, TTL, a forward firewall, and
 * an optional NAT on one outside interface.
 *
 * Packet path through a router with a NAT on `outside` (netfilter order):
 *   receive -> (addressed to the NAT's public side? inbound NAT: filter and
 *   DNAT) -> route -> TTL -> FORWARD chain -> (leaving via outside? SNAT) ->
 *   transmit.
 * A packet from inside for the router's own public address is hairpinned when
 * the NAT allows it (SNAT then DNAT, back inside) and dropped otherwise.
 * NATs nest: a router's outside may sit behind another router's NAT (CGNAT).
 *
 * The router keeps a conntrack table (flows through it, with NATed reply
 * tuples) beside its NAT's mapping table; both show in the trace, and they
 * never disagree: a translated flow's entry is its NAT binding and takes the
 * mapping's deadline, and its end is reported to the NAT
 * (docs/nat-and-conntrack.md).
 */
#ifndef NATSIM_MODEL_ROUTER_H
#define NATSIM_MODEL_ROUTER_H

#include "base/addr6.h"
#include "model/conntrack.h"
#include "model/filter6.h"
#include "model/firewall.h"
#include "model/icmp.h"
#include "model/nat.h"
#include "model/net.h"

struct router;

/* What the router's own stack (netfilter's INPUT path) does with a packet
 * addressed to one of its own addresses that no NAT mapping takes: a home
 * router's firewall drops it; a bare Linux box accepts it, conntrack confirms
 * a flow for it, and it answers "port unreachable" since nothing listens.
 * That flow then holds the reply tuple remote -> public:port, and an inside
 * host's later flow to that remote must take another port
 * (docs/nat-and-conntrack.md). With `accept` the router also answers echo
 * requests to its own addresses.
 *
 * The router's own ICMP (model/icmp.h has the rules and Linux's rate
 * limits): time exceeded when a TTL runs out here, net unreachable when no
 * route matches, a FORWARD REJECT's error, each sent back to the source
 * from the address of the interface it leaves by; with input accept, echo
 * replies and port unreachable from the address asked. A drop record's
 * facts say what was answered (node_path_facts.answer,
 * node_firewall_facts.answer). The router's own packets are routed and
 * sent; no firewall chain or NAT step runs on them. */
enum router_input {
	ROUTER_INPUT_DROP = 0,	 /* default: a home router */
	ROUTER_INPUT_ACCEPT = 1, /* a bare Linux NAT (masquerade, no INPUT rules) */
};

struct router *router_new(struct net *net, const char *name);
struct node *router_node(struct router *r);
struct router *router_from_node(struct node *n); /* NULL if not a router */

struct iface *router_add_iface(struct router *r, const char *name, uint32_t addr,
			       uint8_t prefix_len);
/* Route `prefix/len` out of `via` to `gateway` (0 = destination is on-link).
 * Connected routes for each interface's own prefix are implicit. Returns 0/-1. */
int router_add_route(struct router *r, uint32_t prefix, uint8_t len, struct iface *via,
		     uint32_t gateway);

/* IPv6 (docs/ipv6.md step 2). An interface may be IPv6-only:
 * router_add_iface(r, name, 0, 0) then iface_set_addr6. Route `prefix/len`
 * out of `via` to `gateway` (NULL: on-link); the connected route of each
 * interface's IPv6 prefix is implicit, and wins a tie of lengths. Returns
 * 0, or -1 (len > 128, `via` not this router's, out of memory).
 *
 * An IPv6 packet takes Linux's path (model/router6.c): its own addresses
 * -> the INPUT chain of router_filter6, echo requests answered, the rest
 * as `input` says (below); else longest-prefix match (no route:
 * destination unreachable code 0), hop limit (at 1: time exceeded),
 * FORWARD (a REJECT: its ICMPv6 error), a next hop nobody on the link holds
 * (address unreachable, code 3: natsim has no neighbour discovery). ICMPv6
 * errors come from the interface they leave by, rate limited as Linux's
 * icmpv6_xrlim_allow. No NAT for IPv6. */
int router_add_route6(struct router *r, const struct ip6_addr *prefix, uint8_t len,
		      struct iface *via, const struct ip6_addr *gateway /* NULL: on-link */);
/* The router's ip6 filter (model/filter6.h), made on first use (an IPv6
 * packet, or this call); NULL only if out of memory. */
struct filter6 *router_filter6(struct router *r);

/* Put a NAT on interface `outside`. The config's public addresses default to
 * the interface's own address if none are given. Returns the NAT (owned by the
 * router) or NULL. */
struct nat *router_enable_nat(struct router *r, struct iface *outside,
			      const struct nat_config *cfg);
struct nat *router_nat(struct router *r);
struct iface *router_nat_outside(struct router *r);
struct firewall *router_firewall(struct router *r);
void router_set_input(struct router *r, enum router_input input);
enum router_input router_input(const struct router *r);
struct conntrack *router_conntrack(struct router *r);
/* The stack's ICMP sysctls (Linux's defaults until set). 0, or -1 if out
 * of memory. */
int router_set_icmp_config(struct router *r, const struct icmp_config *cfg);
void router_icmp_config(const struct router *r, struct icmp_config *out);

#endif
