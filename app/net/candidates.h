/*
 * candidates.h - a peer's host candidates on this machine (RFC 8445
 * 5.1.1.1): the address the kernel would send to the coordinator from, then
 * every other local address of the socket's family, loopback left out (and
 * for IPv6 what app/net/local6.h leaves out). `natsim peer` asks it; the
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

/* A dual-stack peer's IPv6 socket beside its IPv4 one (net_host_candidates
 * first): appends its host candidates to c->host_candidates. Bound to one
 * address: that one. Bound to any: the source the kernel picks toward the
 * coordinator's IPv6 endpoint coord6 (NULL: none known), then every other
 * address local6.h keeps (global and unique local; no link-local,
 * loopback, tentative or deprecated one). An IPv4 socket bound to one
 * address (no list yet) is put in the list first, since a list replaces
 * config.local. Returns how many IPv6 candidates it added. */
size_t net_add_host_candidates6(struct agent_config *c, const struct p2p_endpoint *bound6,
				const struct p2p_endpoint *coord6);

#endif
