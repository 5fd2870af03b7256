/*
 * ping6.h - `ping` over IPv6 in a simulated world (`ping alice to
 * 2001:db8:2::5`): ping -6's echo requests (RFC 4443 4.1), one per
 * interval, from the host's IPv6 address. The requests and the replies show
 * in the trace as every packet does; ping's own lines ("64 bytes from")
 * wait for the host's ICMPv6 listener (docs/ipv6.md step 7).
 */
#ifndef NATSIM_APP_WORLD_PING6_H
#define NATSIM_APP_WORLD_PING6_H

#include "app/world/icmpapp.h"
#include "base/addr6.h"
#include "model/host.h"
#include "model/net.h"

/* The IPv6 pings of one run; freed with every ping (ended or not). */
struct ping6_apps;
struct ping6_apps *ping6_apps_new(struct net *net);
void ping6_apps_free(struct ping6_apps *apps);

/* Start pinging dst from h now with o's count, interval, size and hop
 * limit (o->ttl). Returns 0, or -1 if out of memory. */
int ping6_start(struct ping6_apps *apps, struct host *h, const struct ip6_addr *dst,
		const struct ping_options *o);

#endif
