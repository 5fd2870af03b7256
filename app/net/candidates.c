/*
 * candidates.c - a peer's host candidates on this machine (candidates.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/net/candidates.h"
#include "app/net/daemon.h"

/* The address the kernel would send to the coordinator from: our local
 * endpoint when bound to any address (discovery compares it with the mapped
 * one to tell "no NAT"). */
static uint32_t source_towards(const struct p2p_endpoint *to)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	uint32_t ip = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(to->ip);
	sin.sin_port = htons(to->port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		ip = ntohl(sin.sin_addr.s_addr);
	if (fd >= 0)
		close(fd);
	return ip;
}

/* RFC 8445 5.1.1.1: loopback addresses are not host candidates. A peer on
 * another machine would send its checks to its own loopback, to whatever
 * listens there; peers on this machine still meet through the
 * server-reflexive candidate the coordinator sees (127.0.0.1:port when the
 * coordinator is on loopback). Only --bind names an address to use as it is. */
static bool is_loopback(uint32_t ip)
{
	return (ip >> 24) == 127;
}

void net_host_candidates(struct agent_config *c, const struct p2p_endpoint *bound,
			 const struct p2p_endpoint *coord)
{
	uint32_t ips[AGENT_MAX_HOST_CANDIDATES];
	c->local = *bound;
	if (bound->ip != 0)
		return; /* 0 host candidates: config.local is the one */
	c->local.ip = source_towards(coord);
	if (c->local.ip != 0 && !is_loopback(c->local.ip))
		c->host_candidates[c->n_host_candidates++] = c->local;
	int n = daemon_local_addresses(ips, AGENT_MAX_HOST_CANDIDATES, false);
	for (int i = 0; i < n && c->n_host_candidates < AGENT_MAX_HOST_CANDIDATES; i++)
		if (ips[i] != c->local.ip && !is_loopback(ips[i]))
			c->host_candidates[c->n_host_candidates++] =
			    (struct p2p_endpoint){.ip = ips[i], .port = bound->port};
	/* Nothing left (only loopback here): offer none rather than let the agent
	 * fall back on config.local. */
	c->disable_host_candidates = c->n_host_candidates == 0;
}
