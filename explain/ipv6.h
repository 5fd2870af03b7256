/*
 * ipv6.h - IPv6 in words (issue 18): ICMPv6 message names. (The line
 * `conntrack -L -f ipv6` prints for an entry is conntrack_format_record's,
 * which reads a TRACE_CONNTRACK record of either family: docs/ipv6.md
 * step 3.)
 */
#ifndef NATSIM_EXPLAIN_IPV6_H
#define NATSIM_EXPLAIN_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"

/* An ICMPv6 message's name as RFC 4443 (and RFC 4861 for neighbour
 * discovery) calls it, in the short form ip6tables' --reject-with and ping
 * print: "port unreachable", "administratively prohibited", "packet too
 * big", "hop limit exceeded"; "ICMPv6 type 200 code 0" for one without a
 * name. Returns out. (model/packet6_icmp.c keeps the dissector's own
 * table: explain/ links nothing of model/.) */
const char *explain_icmp6_name(uint8_t type, uint8_t code, char *out, size_t size);
/* RFC 4443 2.1: types 0-127 report an error about a packet. */
bool explain_icmp6_is_error(uint8_t type);

/* The `conntrack -L -f ipv6` line of an IPv6 entry is
 * conntrack_format_record's (explain/explain.h), for a record of family 6:
 *   udp      17 29 src=2001:db8::1:0:0:1 dst=2001:0:0:1::abcd sport=61000
 *   dport=3478 [UNREPLIED] src=2001:0:0:1::abcd dst=2001:db8::1:0:0:1
 *   sport=3478 dport=61000 mark=0 use=1
 * the addresses as inet_ntop writes them. */

/* Linux's ICMPv6 rate limit in words (icmpv6_xrlim_allow, model/icmp.c's
 * limiter), for the sentences that say an error was not sent. */
#define EXPLAIN_ICMP6_RATE_LIMIT                                                                   \
	"Linux's ICMPv6 rate limit (6 at once per destination, then one per "                      \
	"net.ipv6.icmp.ratelimit, 100 ms)"

#endif
