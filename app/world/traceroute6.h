/*
 * traceroute6.h - `traceroute HOST to 2001:db8::1` in a simulated world:
 * Linux `traceroute -6 -n` by its default UDP method, as icmpapp.h's IPv4
 * traceroute (three probes a hop from a socket each, to port 33434 and up,
 * -w 5, -m 30), with the hop limit in place of the TTL and the errors read
 * from each probe socket's IPv6 error queue (host_udp_set_error6_fn).
 *
 * What it prints goes to the trace as TRACE_APP records of app "traceroute"
 * on the host, as the IPv4 one's do.
 */
#ifndef NATSIM_APP_WORLD_TRACEROUTE6_H
#define NATSIM_APP_WORLD_TRACEROUTE6_H

#include "base/addr6.h"
#include "model/host.h"
#include "model/net.h"

/* The IPv6 traceroutes of one run; freed with every one (ended or not). */
struct traceroute6_apps;
struct traceroute6_apps *traceroute6_apps_new(struct net *net);
void traceroute6_apps_free(struct traceroute6_apps *apps);

/* Start `traceroute -6 -n -m max_hops dst` on h now; `dst_name` names the
 * target in the header (borrowed for the call). Returns 0, or -1 if out of
 * memory. It runs at most icmp_traceroute_duration(max_hops). */
int traceroute6_start(struct traceroute6_apps *apps, struct host *h, const struct ip6_addr *dst,
		      const char *dst_name, int max_hops);

#endif
