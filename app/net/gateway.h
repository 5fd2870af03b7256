/*
 * gateway.h - this machine's IPv4 default gateway, the router `natsim peer
 * --port-mapping` asks for a mapping (PCP and NAT-PMP run on its UDP port
 * 5351: RFC 6887 19.1, RFC 6886 3). Read from the kernel's routing table as
 * /proc/net/route shows it, where `ip route show default` gets it too.
 */
#ifndef NATSIM_APP_NET_GATEWAY_H
#define NATSIM_APP_NET_GATEWAY_H

#include <stdint.h>
#include <stdio.h>

/* The gateway of the default route (destination and mask 0, flags up and
 * gateway) with the smallest metric, in host order, from a table in
 * /proc/net/route's format: 0, or -1 if there is none. */
int net_default_gateway_from(FILE *table, uint32_t *gateway);

/* The same from /proc/net/route: 0, or -1 (none, or not readable). */
int net_default_gateway(uint32_t *gateway);

#endif
