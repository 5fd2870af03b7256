/*
 * explain_internal.h - what explain/explain.c shares with the other files
 * of explain/ (explain/ipv6.c). Not for other modules.
 */
#ifndef NATSIM_EXPLAIN_INTERNAL_H
#define NATSIM_EXPLAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h" /* struct trace_ct_tuple6 */

/* A conntrack -L line with its two tuples already written ("src=... dst=...
 * sport=... dport=..."), whatever their family: the rest of the line is the
 * same for IPv4 and IPv6. */
struct explain_ct_line {
	uint8_t proto;
	const char *orig, *reply;
	bool seen_reply, assured;
	int64_t expires_at;
	uint32_t mark, use;
	uint8_t tcp_state;
};
/* "src=2001:db8::1 dst=2001:db8::2 sport=1 dport=2" (ICMPv6: "type=128
 * code=0 id=7"), addresses as inet_ntop writes them (explain/ipv6.c). */
int ct_format_tuple6(uint8_t proto, const struct trace_ct_tuple6 *t, char *out, size_t size);
/* The whole line as conntrack_format_record's contract says. */
int explain_ct_line(const struct explain_ct_line *l, int64_t now, char *out, size_t size);

#endif
