/*
 * node6.h - between the IPv4 node files and their IPv6 halves, private to
 * model/: router.c and host.c decide the family once, where a packet
 * arrives (the IPv4 parser's refusal, docs/ipv6.md step 1), and hand an
 * IPv6 packet to router6.c or host6.c; each kind makes its IPv6 state
 * (struct node's router6 / host6) on first need, NULL until then, and
 * frees it with the node. Nothing outside
 * model/ includes this.
 */
#ifndef NATSIM_MODEL_NODE6_H
#define NATSIM_MODEL_NODE6_H

#include <stddef.h>

#include "model/host.h"
#include "model/icmp.h"
#include "model/net.h"
#include "model/packet6.h"
#include "model/router.h"

/* router6.c */
void router6_free(struct router *r);
/* An IPv6 packet arrived on `in`: the router owns it from here. */
void router6_receive(struct router *r, struct iface *in, struct packet *p);
/* The same for an IPv6 packet the router's NAT64 made from an IPv4 one: it
 * is routed but no ip6 FORWARD rule sees it (model/router_xlat.h). */
void router6_receive_translated(struct router *r, struct iface *in, struct packet *p);
/* Append ", lan 2001:db8:1::1/64"-style text for interfaces with an IPv6
 * address: writes the text for interface i's IPv6 address (" addr/len", or
 * "addr/len" alone for an IPv6-only one) at detail + used. Returns the
 * new `used`. */
size_t node6_describe_iface(const struct iface *ifc, char *detail, size_t used, size_t size);

/* router.c: the router's ICMP limiter (made on first use; NULL if out of
 * memory: nothing is then limited), shared by both families. */
struct icmp_limiter *router_icmp_limiter(struct router *r);

/* host6.c */
void host6_free(struct host *h);
void host6_receive(struct host *h, struct iface *in, struct packet *p);
/* Raw IPv6 bytes the host sends (host_send_raw): routed by the host's IPv6
 * route. Returns the packet id, or 0 if dropped here. */
uint64_t host6_send_raw(struct host *h, struct packet *p);
/* Would the host route a packet to dst (on-link or via its IPv6 gateway)? */
bool host6_has_route(const struct host *h, const struct ip6_addr *dst);
/* The host's IPv6 gateway in words (", IPv6 gw 2001:db8:1::1"), if any. */
size_t host6_describe(struct host *h, char *detail, size_t used, size_t size);
/* Close an IPv6 socket (host_udp_close on a socket of family 6). */
void host6_udp_close(struct host_socket *s);
/* Drop a UDP datagram with checksum 0 that reached n's own stack (a host,
 * or a router's INPUT): what __udp6_lib_rcv does (host6.c says more). */
void host6_udp_no_checksum(struct node *n, struct iface *in, struct packet *p,
			   const struct packet6_info *info);

/* host.c: the host's ICMP limiter, shared by both families (NULL: none). */
struct icmp_limiter *host_icmp_limiter(struct host *h);

#endif
