/*
 * sockaddr.h - p2p endpoints of either family (p2p/p2p.h) to and from the
 * kernel's socket addresses: struct sockaddr_in for IPv4 (host order in p2p,
 * network order in the kernel's), struct sockaddr_in6 for IPv6 (network
 * order in both). Every socket of app/net goes through these two, so the
 * family is decided in one place.
 */
#ifndef NATSIM_APP_NET_SOCKADDR_H
#define NATSIM_APP_NET_SOCKADDR_H

#include <sys/socket.h>

#include "p2p/p2p.h"

/* AF_INET or AF_INET6, by ep's family. */
int net_socket_family(const struct p2p_endpoint *ep);

/* ep as a socket address in *out; returns its length for bind, connect,
 * sendto. The IPv6 one has flow label 0 (the kernel's automatic flow label
 * applies, net.ipv6.auto_flowlabels) and scope id 0 (no link-local). */
socklen_t net_sockaddr_of(const struct p2p_endpoint *ep, struct sockaddr_storage *out);

/* A socket address the kernel filled (recvfrom, getsockname, accept, the
 * error queue) as an endpoint. An IPv4-mapped IPv6 address never comes:
 * every IPv6 socket here is IPV6_V6ONLY. Another family gives 0.0.0.0:0. */
struct p2p_endpoint net_endpoint_of(const struct sockaddr *sa);

/* The endpoint socket fd is bound to (getsockname). 0, or -1 with errno. */
int net_local_endpoint(int fd, struct p2p_endpoint *out);

/* A UDP or TCP socket of ep's family (SOCK_NONBLOCK | SOCK_CLOEXEC
 * added to type), IPV6_V6ONLY for IPv6 so that it never sees IPv4 (Linux's
 * default, net.ipv6.bindv6only = 0, would let [::] take IPv4 too, as
 * ::ffff:a.b.c.d, and clash with the IPv4 socket on the same port). -1 with
 * errno. */
int net_socket_for(const struct p2p_endpoint *ep, int type);

#endif
