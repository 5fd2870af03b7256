/*
 * gateway.c - the default gateway from /proc/net/route.
 *
 * The table (net/ipv4/fib_trie.c, fib_route_seq_show) has a header line,
 * then one line per route: Iface, Destination, Gateway, Flags, RefCnt, Use,
 * Metric, Mask, MTU, Window, IRTT. Destination, Gateway and Mask are the
 * __be32 values printed with %08X as the machine reads them, so they come
 * back in network order by strtoul and go to host order by ntohl; Flags is
 * hexadecimal too (RTF_UP 0x1, RTF_GATEWAY 0x2, include/uapi/linux/route.h).
 */
#include "app/net/gateway.h"

#include <arpa/inet.h>
#include <stdlib.h>

#define ROUTE_UP 0x0001u      /* RTF_UP */
#define ROUTE_GATEWAY 0x0002u /* RTF_GATEWAY */

int net_default_gateway_from(FILE *table, uint32_t *gateway)
{
	char line[512], iface[64];
	unsigned long dest, gw, flags, metric, mask;
	unsigned long best_metric = (unsigned long)-1;
	int found = -1;

	if (fgets(line, sizeof(line), table) == NULL) /* the header */
		return -1;
	while (fgets(line, sizeof(line), table) != NULL) {
		if (sscanf(line, "%63s %lx %lx %lx %*d %*d %lu %lx", iface, &dest, &gw, &flags,
			   &metric, &mask) != 6)
			continue;
		if (dest != 0 || mask != 0 ||
		    (flags & (ROUTE_UP | ROUTE_GATEWAY)) != (ROUTE_UP | ROUTE_GATEWAY))
			continue;
		if (found < 0 || metric < best_metric) {
			*gateway = ntohl((uint32_t)gw);
			best_metric = metric;
			found = 0;
		}
	}
	return found;
}

int net_default_gateway(uint32_t *gateway)
{
	FILE *f = fopen("/proc/net/route", "r");
	int rc;

	if (f == NULL)
		return -1;
	rc = net_default_gateway_from(f, gateway);
	fclose(f);
	return rc;
}
