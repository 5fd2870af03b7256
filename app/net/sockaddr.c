/*
 * sockaddr.c - p2p endpoints to and from socket addresses (sockaddr.h).
 */
#include "app/net/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

int net_socket_family(const struct p2p_endpoint *ep)
{
	return p2p_endpoint_is6(ep) ? AF_INET6 : AF_INET;
}

socklen_t net_sockaddr_of(const struct p2p_endpoint *ep, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (p2p_endpoint_is6(ep)) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ep->ip6, 16);
		sin6->sin6_port = htons(ep->port);
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ep->ip);
	sin->sin_port = htons(ep->port);
	return sizeof(*sin);
}

struct p2p_endpoint net_endpoint_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		return p2p_endpoint6(sin6->sin6_addr.s6_addr, ntohs(sin6->sin6_port));
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		return p2p_endpoint4(ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port));
	}
	return p2p_endpoint4(0, 0);
}

int net_local_endpoint(int fd, struct p2p_endpoint *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	*out = net_endpoint_of((struct sockaddr *)&ss);
	return 0;
}

int net_socket_for(const struct p2p_endpoint *ep, int type)
{
	int fd = socket(net_socket_family(ep), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1;
	if (fd < 0 || !p2p_endpoint_is6(ep))
		return fd;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
