/*
 * ipv6.h - IPv6 in words (issue 18's foundations): ICMPv6 message names and
 * the line `conntrack -L -f ipv6` prints for an entry. Nothing in the trace
 * carries IPv6 yet, so these read a plain struct rather than a trace record;
 * when the trace's conntrack tuples carry struct ip_addr (docs/ipv6.md,
 * step 3), conntrack_format_record6 folds into conntrack_format_record.
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

/* One direction of an IPv6 conntrack entry. For ICMPv6, as for ICMP
 * (sim/trace.h): sport is the echo id, dport is type << 8 | code. */
struct conntrack6_tuple {
	struct ip6_addr src, dst;
	uint16_t sport, dport;
};

/* An IPv6 conntrack entry, as the words need it (the fields of struct
 * trace_conntrack, with IPv6 tuples). */
struct conntrack6_entry {
	uint8_t proto; /* 17 UDP, 6 TCP, 58 ICMPv6 */
	struct conntrack6_tuple orig, reply;
	bool seen_reply, assured;
	int64_t expires_at; /* absolute virtual time */
	uint32_t mark, use;
	uint8_t tcp_state; /* proto 6: model/conntrack.h enum conntrack_tcp_state */
};

/* One line exactly as `conntrack -L -f ipv6` prints it (without newline),
 * the addresses as inet_ntop writes them, e.g.
 *   udp      17 29 src=2001:db8::1:0:0:1 dst=2001:0:0:1::abcd sport=61000
 *   dport=3478 [UNREPLIED] src=2001:0:0:1::abcd dst=2001:db8::1:0:0:1
 *   sport=3478 dport=61000 mark=0 use=1
 * Seconds left as conntrack_format_record counts them. Returns chars
 * written like snprintf. */
int conntrack_format_record6(const struct conntrack6_entry *rec, int64_t now, char *out,
			     size_t size);

#endif
