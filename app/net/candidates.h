/*
 * candidates.h - a peer's host candidates on this machine (RFC 8445
 * 5.1.1.1): the address the kernel would send to the coordinator from, then
 * every other local address, loopback left out. `natsim peer` asks it; the
 * simulator gives its hosts' addresses instead (app/world).
 */
#ifndef NATSIM_APP_NET_CANDIDATES_H
#define NATSIM_APP_NET_CANDIDATES_H

#include "p2p/agent.h"

/* Fill c->local and c->host_candidates for a socket bound to `bound`,
 * meeting the coordinator at `coord`. Bound to one address: that address is
 * the only candidate (c->local, no list). Bound to any address: the source
 * the kernel picks toward the coordinator first, then the others; none
 * left (only loopback here) sets c->disable_host_candidates rather than let
 * the agent offer c->local. */
void net_host_candidates(struct agent_config *c, const struct p2p_endpoint *bound,
			 const struct p2p_endpoint *coord);

#endif
