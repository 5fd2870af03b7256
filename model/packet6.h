/*
 * packet6.h - IPv6 packets as real bytes (issue 18's foundations): the
 * RFC 8200 fixed header with UDP, TCP or ICMPv6 (RFC 4443) after it,
 * builders, a strict parser, checksums over the IPv6 pseudo-header, and the
 * dissector's one-line summary and fields, as model/packet.h has them for
 * IPv4. Nothing routes, translates or tracks these packets yet: docs/ipv6.md
 * says what comes next and in which order.
 *
 * What the parser accepts (model/packet6.c says why):
 *   - version 6, a payload length within the bytes received (bytes after it
 *     are link padding, ignored as for IPv4); jumbograms are not modelled;
 *   - next header UDP (17), TCP (6) or ICMPv6 (58) right after the fixed
 *     header. Extension headers (hop-by-hop, routing, fragment, destination
 *     options, AH, ESP, mobility, HIP, shim6) are refused with
 *     PACKET_ERR_IPV6_EXTENSION: natsim sends none, and a lesson about
 *     them would need them modelled, not skipped. Any other next header is
 *     PACKET_ERR_UNSUPPORTED with the view filled, as for IPv4;
 *   - UDP with its checksum, which IPv6 makes mandatory (RFC 8200 8.1). A
 *     wrong non-zero sum is refused (PACKET_ERR_UDP_CHECKSUM). A zero one
 *     ("none") parses with udp_no_checksum set, because only the receiver
 *     enforces the rule: a Linux router forwards it (ip6_forward checks no
 *     L4 sum; nf_conntrack_proto_udp.c udp_error returns early for any zero
 *     checksum, "Packet with no checksum", IPv6 too) and the receiving
 *     stack drops it, socket or not, with no port unreachable
 *     (net/ipv6/udp.c __udp6_lib_rcv: udp6_csum_zero_error, drop reason
 *     UDP_CSUM, counted in Udp6InCsumErrors). Whoever consumes the
 *     datagram checks the flag (model/host6.c, router6.c, nat64.c, xlat.c);
 *   - ICMPv6 with its checksum (also over the pseudo-header); an error
 *     (type below 128, RFC 4443 2.1) must quote an IPv6 header and 8 bytes,
 *     which hold the quoted packet's ports.
 *
 * Ports and ICMPv6 echo ids play the same parts as for IPv4 (packet.h): a
 * request's id is its sport, a reply's its dport.
 */
#ifndef NATSIM_MODEL_PACKET6_H
#define NATSIM_MODEL_PACKET6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "model/packet.h" /* enum packet_error, struct packet_field, payload_summary_fn */

#define IPV6_HEADER_SIZE 40
#define IPV6_MIN_MTU 1280	  /* RFC 8200 section 5 */
#define IPV6_DEFAULT_HOP_LIMIT 64 /* Linux net.ipv6.conf.*.hop_limit */
#define IPPROTO_NUM_ICMPV6 58
#define ICMPV6_HEADER_SIZE 8
/* An ICMPv6 error is at most the minimum MTU, as much of the offending
 * packet quoted as fits (RFC 4443 2.4(c); Linux icmp6_send). */
#define ICMPV6_ERROR_MAX_SIZE IPV6_MIN_MTU

/* The IP version in the first nibble: 4, 6, or something else (0 for no
 * bytes). What a node reads first to pick the parser. */
static inline unsigned packet_ip_version(const uint8_t *buf, size_t len)
{
	return len > 0 ? (unsigned)(buf[0] >> 4) : 0;
}

/* ICMPv6 types and codes natsim sends and reads (RFC 4443). */
enum icmp6_type {
	ICMP6_DEST_UNREACH = 1,
	ICMP6_PACKET_TOO_BIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_PARAM_PROBLEM = 4,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
};
enum icmp6_unreach_code {
	ICMP6_NO_ROUTE = 0,
	ICMP6_ADMIN_PROHIBITED = 1, /* communication with destination administratively prohibited */
	ICMP6_BEYOND_SCOPE = 2,
	ICMP6_ADDR_UNREACH = 3,
	ICMP6_PORT_UNREACH = 4,
	ICMP6_POLICY_FAIL = 5,	/* source address failed ingress/egress policy */
	ICMP6_REJECT_ROUTE = 6, /* reject route to destination */
};
#define ICMP6_EXC_HOP_LIMIT 0 /* hop limit exceeded in transit */

/* RFC 4443 2.1: types 0-127 are errors, 128-255 informational. */
bool icmp6_is_error(uint8_t type);
/* "echo request", "port unreachable", "packet too big", "hop limit
 * exceeded", ...; "type 200 code 0" for ones without a name. Writes into
 * out, returns it. (explain/ keeps its own words: explain_icmp6_name.) */
const char *icmp6_describe(uint8_t type, uint8_t code, char *out, size_t size);

/* The packet an ICMPv6 error quotes, as far as it was quoted. */
struct packet6_inner {
	size_t offset; /* where its IPv6 header starts in the outer buffer */
	size_t len;    /* bytes quoted (at least the header and 8) */
	uint8_t next_header;
	uint8_t hop_limit;
	uint16_t payload_len; /* its own (more than was quoted when cut) */
	struct ip6_addr src, dst;
	uint16_t sport, dport; /* UDP or TCP ports; an inner echo's id as above */
	uint32_t tcp_seq;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
};

/* A parsed view into a buffer (pointers borrow the buffer). */
struct packet6_info {
	uint8_t traffic_class;
	uint32_t flow_label;	 /* 20 bits */
	uint16_t ip_payload_len; /* the header's payload length field */
	uint8_t next_header;
	uint8_t hop_limit;
	struct ip6_addr src, dst;
	uint16_t sport, dport;	/* UDP, TCP: ports; ICMPv6 echo: the id */
	bool udp_no_checksum;	/* UDP: its checksum is 0, which only a receiver refuses */
	size_t l4_offset;	/* IPV6_HEADER_SIZE: no extension headers */
	const uint8_t *payload; /* UDP, TCP payload; ICMPv6: the bytes after its 8-byte header */
	size_t payload_len;
	/* ICMPv6 only. */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo */
	uint32_t icmp_param;	    /* bytes 4-7: packet too big's MTU, parameter
				     * problem's pointer, 0 ("unused") otherwise */
	bool icmp_error;	    /* `inner` is the packet it quotes */
	struct packet6_inner inner;
	/* TCP only. */
	uint8_t tcp_flags;
	uint8_t tcp_header_len;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_window;
	struct tcp_options tcp_opt;
};

/* Parse strictly (the top of this file); every length is checked against
 * `len` before it is read. Returns PACKET_OK or a negative enum
 * packet_error with, if why != NULL, a sentence in why[why_size]. On
 * PACKET_ERR_UNSUPPORTED `out` holds the header's fields (ports 0); on any
 * other error it is zeroed. */
int packet6_parse(const uint8_t *buf, size_t len, struct packet6_info *out, char *why,
		  size_t why_size);

/* Build IPv6+UDP into buf (traffic class 0, the given flow label's low 20
 * bits). Returns the total length, or 0 if cap is too small or the payload
 * does not fit a 16-bit payload length. */
size_t packet6_build_udp(uint8_t *buf, size_t cap, const struct endpoint6 *src,
			 const struct endpoint6 *dst, uint8_t hop_limit, uint32_t flow_label,
			 const void *payload, size_t payload_len);
/* Build IPv6+TCP into buf: the segment's header, options (written as
 * packet_build_tcp writes them, Linux's order) and payload, every sum
 * filled. Returns the total length, or 0 if cap is too small. */
size_t packet6_build_tcp(uint8_t *buf, size_t cap, const struct endpoint6 *src,
			 const struct endpoint6 *dst, uint8_t hop_limit, uint32_t flow_label,
			 const struct tcp_segment *seg);
/* Build IPv6+ICMPv6 echo (ICMP6_ECHO_REQUEST or ICMP6_ECHO_REPLY); a NULL
 * payload is ping's pattern as for IPv4 (zeros for the timestamp, then byte
 * i holds i). Returns the total length, or 0. */
size_t packet6_build_icmp_echo(uint8_t *buf, size_t cap, const struct ip6_addr *src,
			       const struct ip6_addr *dst, uint8_t hop_limit, uint8_t type,
			       uint16_t id, uint16_t seq, const void *payload, size_t payload_len);
/* Build an ICMPv6 error of type/code from src to dst, bytes 4-7 `param`
 * (the MTU for packet too big, the pointer for parameter problem, else 0),
 * quoting `offending` (from its IPv6 header, without link padding) as far
 * as the whole message fits in ICMPV6_ERROR_MAX_SIZE. Returns the total
 * length, or 0 if cap is too small, type is not an error, or `offending` is
 * shorter than an IPv6 header. */
size_t packet6_build_icmp_error(uint8_t *buf, size_t cap, const struct ip6_addr *src,
				const struct ip6_addr *dst, uint8_t hop_limit, uint8_t type,
				uint8_t code, uint32_t param, const uint8_t *offending,
				size_t offending_len);

/* The checksum an upper-layer message of `len` bytes should carry (RFC 8200
 * 8.1: the pseudo-header of source, destination, 32-bit length, zeros and
 * next header, then the message with its checksum field at `sum_off`
 * counted as zero; len >= sum_off + 2). UDP's computed 0 is returned as
 * 0xffff, as it is sent. */
uint16_t packet6_checksum_expected(const struct ip6_addr *src, const struct ip6_addr *dst,
				   uint8_t next_header, const uint8_t *l4, size_t len,
				   size_t sum_off);
/* Write the UDP, TCP or ICMPv6 checksum of an IPv6 packet afresh (the
 * builders and tests use it). Bytes too short or of another protocol are left
 * alone. */
void packet6_fill_checksums(uint8_t *buf, size_t len);
/* Write the 20-bit flow label (no checksum covers it: the pseudo-header
 * holds addresses, length and next header only). Bytes shorter than the
 * header are left alone. */
void packet6_set_flow_label(uint8_t *buf, size_t len, uint32_t label);
/* Decrement the hop limit (no header checksum in IPv6: nothing else
 * changes). Returns the new hop limit; 0 stays 0. */
uint8_t packet6_decrement_hop_limit(uint8_t *buf, size_t len);

/* "UDP [2001:db8::1]:5000 → [2001:db8::2]:3478 len=20 hlim=64 [STUN ...]",
 * "ICMPv6 2001:db8::ff → 2001:db8::1 port unreachable hlim=64 [UDP
 * [2001:db8::1]:5000 → [2001:db8::2]:9]"; "malformed: <reason>" for
 * bytes the parser refuses. As packet_summary: returns chars written like
 * snprintf, never reads past len, `ascii` picks "->". */
int packet6_summary(const uint8_t *buf, size_t len, payload_summary_fn payload, bool ascii,
		    char *out, size_t size);
/* Every field within the bytes, Wireshark's names ("ipv6.src",
 * "ipv6.hlim", "udp.checksum", "icmpv6.mtu"), the parser's verdict first
 * when it is not "ok". Returns the number filled (at most max). */
size_t packet6_fields(const uint8_t *buf, size_t len, struct packet_field *out, size_t max);
/* The packet as a verdict names it (sim/verdict.h, ip_version 6): from a
 * parse, or from whatever the bytes allow (a packet that does not parse
 * still names its addresses if it has a 40-byte header), as packet_flow_of
 * and packet_flow_of_bytes do for IPv4. */
struct verdict_flow packet6_flow_of(const struct packet6_info *info);
struct verdict_flow packet6_flow_of_bytes(const uint8_t *buf, size_t len);
/* "[2001:db8::1]:5000 → [2001:db8::2]:3478"; addresses only for ICMPv6. */
char *packet6_flow_format(const struct packet6_info *info, bool ascii, char *out, size_t size);

#endif
