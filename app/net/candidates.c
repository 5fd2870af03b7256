/*
 * candidates.c - a peer's host candidates on this machine (candidates.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/net/candidates.h"
#include "app/net/daemon.h"
#include "app/net/local6.h"
#include "app/net/sockaddr.h"

/* The address the kernel would send to the coordinator from (its source
 * address selection: the IPv4 route's preferred source, or RFC 6724's
 * rules for IPv6): our local endpoint when bound to any address (discovery
 * compares it with the mapped one to tell "no NAT"). The unspecified
 * address of to's family if there is no route. */
static struct p2p_endpoint source_towards(const struct p2p_endpoint *to)
{
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr_of(to, &ss);
	struct p2p_endpoint src = *to;
	memset(&src.ip6, 0, sizeof(src.ip6));
	int fd = net_socket_for(to, SOCK_DGRAM);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) == 0)
		net_local_endpoint(fd, &src);
	if (fd >= 0)
		close(fd);
	src.port = 0;
	return src;
}

/* RFC 8445 5.1.1.1: loopback addresses are not host candidates. A peer on
 * another machine would send its checks to its own loopback, to whatever
 * listens there; peers on this machine still meet through the
 * server-reflexive candidate the coordinator sees (127.0.0.1:port or
 * [::1]:port when the coordinator is on loopback). Only --bind names an
 * address to use as it is. An IPv6 address falls to local6.h's rules. */
static bool is_candidate(const struct p2p_endpoint *ep)
{
	if (p2p_endpoint_is6(ep))
		return net_addr6_usable(ep->ip6, 0, false) == NET_ADDR6_USABLE;
	return ep->ip != 0 && (ep->ip >> 24) != 127;
}

static void add_candidate(struct agent_config *c, const struct p2p_endpoint *ep)
{
	for (size_t i = 0; i < c->n_host_candidates; i++)
		if (p2p_endpoint_equal(&c->host_candidates[i], ep))
			return;
	if (c->n_host_candidates < AGENT_MAX_HOST_CANDIDATES && is_candidate(ep))
		c->host_candidates[c->n_host_candidates++] = *ep;
}

/* Every other address of this machine of the bound socket's family, on its
 * port. */
static void add_local_addresses(struct agent_config *c, const struct p2p_endpoint *bound)
{
	if (p2p_endpoint_is6(bound)) {
		uint8_t ips[AGENT_MAX_HOST_CANDIDATES][16];
		int n = net_local_addresses6(ips, AGENT_MAX_HOST_CANDIDATES, false);
		for (int i = 0; i < n; i++) {
			struct p2p_endpoint ep = p2p_endpoint6(ips[i], bound->port);
			add_candidate(c, &ep);
		}
		return;
	}
	uint32_t ips[AGENT_MAX_HOST_CANDIDATES];
	int n = daemon_local_addresses(ips, AGENT_MAX_HOST_CANDIDATES, false);
	for (int i = 0; i < n; i++) {
		struct p2p_endpoint ep = p2p_endpoint4(ips[i], bound->port);
		add_candidate(c, &ep);
	}
}

void net_host_candidates(struct agent_config *c, const struct p2p_endpoint *bound,
			 const struct p2p_endpoint *coord)
{
	c->local = *bound;
	if (p2p_endpoint_has_addr(bound))
		return; /* 0 host candidates: config.local is the one */
	c->local = source_towards(coord);
	c->local.port = bound->port;
	add_candidate(c, &c->local);
	add_local_addresses(c, bound);
	/* Nothing left (only loopback here): offer none rather than let the agent
	 * fall back on config.local. */
	c->disable_host_candidates = c->n_host_candidates == 0;
}

size_t net_add_host_candidates6(struct agent_config *c, const struct p2p_endpoint *bound6,
				const struct p2p_endpoint *coord6)
{
	/* A list replaces config.local as the agent's host candidates: an IPv4
	 * socket bound to one address (no list, config.local the one) goes
	 * into it first. */
	if (c->n_host_candidates == 0 && !c->disable_host_candidates &&
	    c->n_host_candidates < AGENT_MAX_HOST_CANDIDATES)
		c->host_candidates[c->n_host_candidates++] = c->local;
	size_t before = c->n_host_candidates;
	if (p2p_endpoint_has_addr(bound6)) {
		/* --bind: the one, even ::1 (as --bind 127.0.0.1 for IPv4) */
		if (c->n_host_candidates < AGENT_MAX_HOST_CANDIDATES)
			c->host_candidates[c->n_host_candidates++] = *bound6;
	} else {
		if (coord6 != NULL) {
			struct p2p_endpoint src = source_towards(coord6);
			src.port = bound6->port;
			add_candidate(c, &src);
		}
		add_local_addresses(c, bound6);
	}
	c->disable_host_candidates = c->n_host_candidates == 0;
	return c->n_host_candidates - before;
}
