/*
 * router_layout.h - struct router, private to model/. model/router.c owns it
 * and is the only file that changes it; model/prefetch.c reads its layout to
 * ask the CPU for a router's tables before a packet arrives, and pins what it
 * relies on with _Static_asserts. Nothing outside model/ includes this.
 */
#ifndef NATSIM_MODEL_ROUTER_LAYOUT_H
#define NATSIM_MODEL_ROUTER_LAYOUT_H

#include <stddef.h>

#include "model/net.h"
#include "model/router.h"

struct route;	    /* model/router.c's own */
struct router_icmp; /* model/router.c's own: made on first use */

struct router {
	struct node node;	       /* first: router_from_node() casts */
	struct route *routes;	       /* sorted by prefix length, longest first */
	uint32_t n_routes, cap_routes; /* 32 bits: the own fields fit a line (prefetch.c) */
	struct firewall *fw;
	struct conntrack *ct;
	struct nat *nat;
	struct iface *outside;
	enum router_input input;
	struct router_icmp *icmp; /* its ICMP limiter, ids and a TTL-expiry snapshot */
};

#endif
