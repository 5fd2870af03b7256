/*
 * router_xlat.h - NPTv6 (model/nptv6.h) and NAT64 (model/nat64.h) on a
 * router (docs/ipv6.md step 8), where Linux runs them:
 *   - NPTv6 on one outside interface, as ip6tables' DNPT in mangle
 *     PREROUTING (`-i outside`: an arriving packet's destination, before the
 *     route is chosen) and SNPT in mangle POSTROUTING (`-o outside`: a
 *     leaving packet's source, after the FORWARD chain has seen the inside
 *     address). An untranslatable address (nptv6.h) is dropped; Linux also
 *     answers ICMPv6 parameter problem, which natsim does not send yet.
 *   - NAT64 as a translator on the router: an IPv6 packet for the prefix
 *     (64:ff9b::/96) is translated where it arrives and continues as the
 *     IPv4 packet it became, through the router's IPv4 path (route, TTL,
 *     FORWARD, out); an IPv4 packet for a pool address - one of the
 *     router's own addresses - is translated and continues through the IPv6
 *     path. The hop limit is decremented once, in the family the packet
 *     leaves in, as by one router (tayga on a TUN device sees it decremented
 *     by the kernel on the way in and out as well as by itself: it is a
 *     host behind the router there, not the router).
 * Each translation is a TRACE_HOP_TRANSLATE record (the bytes before and
 * after), NAT64's bindings TRACE_MAPPING records (model/nat64.h), and
 * each refusal a drop whose words explain/ makes (NODE_PATH_XLAT).
 */
#ifndef NATSIM_MODEL_ROUTER_XLAT_H
#define NATSIM_MODEL_ROUTER_XLAT_H

#include "model/nat64.h"
#include "model/nptv6.h"
#include "model/router.h"

/* NPTv6 between inside_prefix and outside_prefix (len 1..64) on `outside`
 * (one of r's interfaces). 0, or -1: bad prefixes (nptv6_init), an
 * interface not r's, one already enabled, or out of memory. */
int router_enable_nptv6(struct router *r, struct iface *outside,
			const struct ip6_addr *inside_prefix, const struct ip6_addr *outside_prefix,
			uint8_t len);

/* A NAT64 on r. cfg NULL: nat64_config_default with `outside`'s IPv4
 * address as the pool. Every pool address must be one of r's own IPv4
 * addresses and not its NAT's. Returns the NAT64 (owned by the router), or
 * NULL. */
struct nat64 *router_enable_nat64(struct router *r, struct iface *outside,
				  const struct nat64_config *cfg);
struct nat64 *router_nat64(struct router *r);

#endif
