/*
 * link_layout.h - struct link, private to model/. model/link.c owns it and
 * is the only file that changes it; model/prefetch.c reads its layout to ask
 * the CPU for a link's fields before a packet is sent on it, and pins what
 * it relies on with _Static_asserts. Nothing outside model/ includes this.
 */
#ifndef NATSIM_MODEL_LINK_LAYOUT_H
#define NATSIM_MODEL_LINK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/net.h"
#include "sim/rng.h"

struct attachment; /* the rest is model/link.c's own */
struct sender;
struct access;
struct addr_slot;
struct lane;

struct link {
	struct net *net;
	char *name;
	struct link_config cfg;
	bool up;
	struct rng rng; /* "link:<name>": loss and jitter */
	size_t n_att, cap_att;
	struct attachment *att; /* per attachment, in attachment order: */
	struct sender *tx;
	struct access *access;
	/* address -> first attachment holding it */
	struct addr_slot *by_addr;
	size_t addr_slots;
	bool ordered;	      /* lanes keep pairs in order (see the top) */
	int64_t order_floor;  /* a new lane's last arrival */
	int64_t max_arrival;  /* latest arrival of any packet launched */
	uint32_t link_cut_at; /* net_cut_count at the link's own last cut, 0: never */
	/* (from, to) -> lane, made on first use; NULL marks a free slot */
	struct lane **lanes;
	size_t n_lanes, lane_slots;
	/* While link_transmit6 sends: its IPv6 next hop, which link_transmit
	 * looks up only once the IPv4 lookup of next hop 0 has failed. IPv6
	 * shares IPv4's send this way, so that what that send calls keeps one
	 * caller and stays inlined (a shared tail with two callers was not,
	 * and cost IPv4 178 instructions a datagram in bench_flow, a wrapper
	 * with the family as a parameter 18; this costs none). NULL otherwise. */
	const struct ip6_addr *next_hop6;
};

#endif
