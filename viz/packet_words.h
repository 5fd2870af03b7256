/*
 * packet_words.h - a packet named in the renderers' sentences, from its
 * bytes: explain/'s words (explain_packet) with the facts a renderer reads
 * off the bytes. An echo is "ping 10.0.0.7 → 192.0.2.1 (echo request id=1
 * seq=1)"; an ICMP error says what it is about, and whose that packet is
 * when the topology says: "port unreachable 198.51.100.1 → 10.0.0.7 about
 * alice's UDP 10.0.0.7:5000 → 192.0.2.1:9". UDP reads as before:
 * "192.168.1.5:5000 → 192.0.2.1:3478".
 *
 * Whose a quoted packet is comes from a struct packet_owners: the hosts'
 * addresses as their node records list them (a NAT's public address is
 * not a host's, so a packet quoted after translation has no owner named).
 *
 * Renderers read the trace and nothing else (DESIGN.md).
 */
#ifndef NATSIM_VIZ_PACKET_WORDS_H
#define NATSIM_VIZ_PACKET_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "explain/explain.h"
#include "model/packet.h"
#include "sim/trace.h"
#include "sim/trace_log.h"

/* Hosts by address, learnt from node records. Names are borrowed from the
 * records: keep the log (or, live, the trace's names) alive. */
struct packet_owners;
struct packet_owners *packet_owners_new(void);
void packet_owners_free(struct packet_owners *o);
/* Learn a node record's addresses if it is a host, and a TCP segment's
 * flags when it is sent; other records do nothing. Returns 0, or -1 if out
 * of memory. */
int packet_owners_learn(struct packet_owners *o, const struct trace_record *r);
/* Every node record of a log; NULL if out of memory. */
struct packet_owners *packet_owners_of_log(const struct trace_log *log);
/* The host that holds `ip`, or NULL (o NULL: nobody known). */
const char *packet_owners_find(const struct packet_owners *o, uint32_t ip);
/* The host that holds an IPv6 address (the node records' struct
 * trace_node6), or NULL; and either family's. */
const char *packet_owners_find6(const struct packet_owners *o, const struct ip6_addr *ip);
const char *packet_owners_find_addr(const struct packet_owners *o, const struct ip_addr *a);
/* The TCP flags of segment `id` as it was sent, or -1 if none was learnt
 * (for the words of a socket's change of state, explain/socket.h). */
int packet_owners_segment_flags(const struct packet_owners *o, uint64_t id);

/* The facts explain_packet words, from bytes that parse; false otherwise. */
bool packet_words_facts(const uint8_t *bytes, size_t len, const struct packet_owners *owners,
			struct explain_packet_facts *out);
/* The packet's phrase (above); bytes that do not parse give the dissector's
 * "malformed: ..." line. Returns out. */
char *packet_words(const uint8_t *bytes, size_t len, const struct packet_owners *owners, char *out,
		   size_t size);
/* A packet of either family as the renderers name its ends, from bytes
 * that parse (model/packet.h for version 4, model/packet6.h for 6). Ports
 * are UDP's and TCP's; for ICMP and ICMPv6 an echo's id plays the port as
 * the parsers say (a request's sport, a reply's dport). */
struct packet_ends {
	unsigned version; /* 4 or 6 */
	uint8_t proto;	  /* 17 UDP, 6 TCP, 1 ICMP, 58 ICMPv6, ... */
	bool icmp;	  /* ICMP for its family: 1 in IPv4, 58 in IPv6 */
	uint8_t icmp_type;
	struct ip_endpoint src, dst;
	const uint8_t *payload; /* borrowed from the bytes */
	size_t payload_len;
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
};
/* False (out untouched) when the bytes parse as neither family. */
bool packet_ends_of(const uint8_t *bytes, size_t len, struct packet_ends *out);
/* An end as a renderer writes it: "192.168.1.5:5000", "[2001:db8::5]:5000"
 * (RFC 5952 section 6), the address alone for ICMP. Returns out. */
char *packet_ends_format(const struct ip_endpoint *ep, bool icmp, char *out, size_t size);

/* Whether a translate hop used the IPv4 NAT's mapping (map_internal and
 * map_external say it): every IPv4 rewrite does; an IPv6 one (NPTv6 keeps
 * no state, RFC 6296) may carry none, and a renderer then names none
 * rather than a mapping of zeros. */
bool packet_words_translate_mapped(const struct trace_packet *p);

/* True if the bytes parse as ICMP or ICMPv6: renderers word those with packet_words
 * where they print addresses and ports for UDP. */
bool packet_words_is_icmp(const uint8_t *bytes, size_t len);

/* One end of a NAT mapping as the renderers name it: "192.168.1.5:5000",
 * or for an echo's mapping (proto 1: its id plays the port, RFC 5508
 * REQ-1) "192.168.1.5 id=22128"; the remote of an echo's (`remote`) by its
 * address alone, since an echo has no port there. Returns out. */
char *packet_words_mapping_end(const struct endpoint *ep, uint8_t proto, bool remote, char *out,
			       size_t size);

/* A NAT64 binding's inside (RFC 6146: an IPv6 endpoint):
 * "[2001:db8:1::5]:5000", or for an echo's (proto 1, its id plays the
 * port) "2001:db8:1::5 id=7". Returns out. */
char *packet_words_mapping_end6(const struct endpoint6 *ep, uint8_t proto, char *out, size_t size);
/* A mapping record's inside, of either family (sim/trace.h: family 6 is a
 * NAT64 binding's internal6). Returns out. */
char *packet_words_mapping_inside(const struct trace_mapping *m, char *out, size_t size);

/* One direction of a conntrack record's entry, of either family: the IPv4
 * tuples, or `tuples6` for an IPv6 entry (family 6). For ICMP and ICMPv6
 * sport is the echo id and dport type << 8 | code, as sim/trace.h keeps
 * them. */
void packet_words_ct_tuple(const struct trace_conntrack *c, bool reply, struct ip_endpoint *src,
			   struct ip_endpoint *dst);
/* Whether the entry is ICMP's of its family (1, or 58 for IPv6). */
bool packet_words_ct_is_icmp(const struct trace_conntrack *c);

/* What a NAT changed in an ICMP packet, appended to `out`: " source
 * 10.0.0.7 id=1 → 203.0.113.7 id=1024", " destination 203.0.113.7 →
 * 10.0.0.7" and for an error what it rewrote inside (RFC 5508 REQ-3/4):
 * "inside the error, source 203.0.113.7:5000 → 10.0.0.7:5000"; changes
 * after the first are joined by `join` (", " or " and "); " nothing" if
 * none. ICMPv6 alike, and a translation between the families (NAT64)
 * names each side in its own. False (appending nothing) unless both parse
 * as ICMP or ICMPv6. */
bool packet_words_icmp_rewrite(const uint8_t *before, size_t before_len, const uint8_t *after,
			       size_t after_len, const char *join, char *out, size_t size);

#endif
