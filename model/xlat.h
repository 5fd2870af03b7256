/*
 * xlat.h - IP/ICMP translation between IPv6 and IPv4 (RFC 7915, "SIIT"),
 * and IPv4-embedded IPv6 addresses (RFC 6052): the stateless half of NAT64,
 * as pure functions on packet bytes. model/nat64.h decides which addresses
 * and ports a flow gets; this module rewrites the packet for them.
 *
 * Addresses (RFC 6052): with a /96 prefix, such as the well-known prefix
 * 64:ff9b::/96 (section 2.1), the IPv4 address is the last 32 bits
 * (section 2.2, the /96 row of figure 1): 192.0.2.33 is 64:ff9b::c000:221.
 * Only /96 prefixes are modelled (the other lengths skip the u octet).
 *
 * What a translation does (RFC 7915 section 4: IPv4 -> IPv6, section 5:
 * IPv6 -> IPv4):
 *   - the header: TTL <-> hop limit copied (the router decremented it
 *     before, as it does for any packet it forwards), TOS <-> traffic
 *     class copied, flow label 0, protocol 1 <-> next header 58, the
 *     lengths recomputed (a 20-byte IPv4 header for a 40-byte IPv6 one);
 *     IPv4 options are dropped; no fragments (natsim sends none, and the
 *     IPv4 parser refuses them);
 *   - DF and Identification (RFC 7915 5.1): DF set only when the IPv4
 *     packet is over 1260 bytes, the Identification the caller's; or, as
 *     RFC 6145 and tayga do, DF always set and Identification 0
 *     (`df_always`), which the lab test uses to compare bytes with tayga;
 *   - UDP, TCP: the ports the caller gives, the checksum recomputed since
 *     the pseudo-headers differ (RFC 7915 4.5, 5.5). A zero IPv4 UDP
 *     checksum (none) becomes a computed one: IPv6 requires it;
 *   - ICMP <-> ICMPv6 (RFC 7915 4.2, 5.2): echo request 8 <-> 128, echo
 *     reply 0 <-> 129 (the id is the caller's port); destination
 *     unreachable codes by the tables there (port unreachable 3 <-> 4,
 *     host/net unreachable -> no route 0, no route/beyond scope/address
 *     unreachable -> host unreachable 1, prohibited 9/10/13 <-> 1/10),
 *     protocol unreachable <-> parameter problem code 1 (pointer 6), time
 *     exceeded 11 <-> 3, fragmentation needed <-> packet too big with the
 *     MTU adjusted by 20 (and RFC 1191's plateaus when an IPv4 router sent
 *     0), parameter problem 12 (codes 0 and 2) <-> 4 (code 0) with the
 *     pointer moved to the same field of the other header (RFC 7915 4.2
 *     figure 3, 5.2 figure 6; a field with no counterpart, such as the
 *     Identification or the flow label: XLAT_ERR_PARAM_POINTER, dropped).
 *     The checksum is recomputed: ICMPv6's covers a pseudo-header, ICMP's
 *     does not. Everything else (neighbour discovery, MLD, redirects,
 *     source quench, timestamps, a missing option, an unrecognized IPv6
 *     option) has no translation here: XLAT_ERR_ICMP_UNTRANSLATABLE, which
 *     RFC 7915 says to drop silently;
 *   - an ICMP error's quoted packet is translated too (RFC 7915 4.3, 5.3),
 *     with the addresses the caller gives for it (it went the other way),
 *     its own lengths from its own header, and its transport checksum
 *     adjusted incrementally (it may be cut short, so it cannot be summed
 *     afresh). An ICMPv6 error is cut to 1280 bytes (RFC 4443 2.4(c)).
 */
#ifndef NATSIM_MODEL_XLAT_H
#define NATSIM_MODEL_XLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "base/endpoint.h"
#include "sim/verdict.h" /* enum xlat_result */

/* RFC 6052 2.1: 64:ff9b::/96. */
struct ip6_addr xlat_well_known_prefix(void);
/* RFC 6052 2.2, /96: the prefix's first 96 bits, then the IPv4 address. */
struct ip6_addr xlat_synthesize(const struct ip6_addr *prefix96, uint32_t ip4);
/* True, with *ip4 (host order), when `a` lies in the /96 prefix. */
bool xlat_embedded_ipv4(const struct ip6_addr *prefix96, const struct ip6_addr *a, uint32_t *ip4);

/* enum xlat_result (XLAT_OK, or why not) is in sim/verdict.h, where
 * explain/ reads it (explain/xlat.h words it). */

/* What the translated packet carries: addresses and ports (or an echo's id,
 * as model/packet.h has it: a request's id is its source port, a reply's
 * its destination port). For an error, `inner` is for its quoted packet. */
struct xlat_v4_addrs {
	struct endpoint src, dst;
};
struct xlat_v6_addrs {
	struct endpoint6 src, dst;
};

struct xlat_6to4_options {
	uint16_t ip_id; /* RFC 7915 5.1: the translator's Identification */
	bool df_always; /* RFC 6145 / tayga: DF set, Identification 0 */
};

/* Translate the IPv6 packet in[in_len] (it must parse: packet6_parse) into
 * an IPv4 one in out[cap]; *out_len its length. `inner` is needed only for
 * an ICMPv6 error (NULL otherwise). Returns XLAT_OK or an error above. */
enum xlat_result xlat_6to4(const uint8_t *in, size_t in_len, const struct xlat_v4_addrs *outer,
			   const struct xlat_v4_addrs *inner, const struct xlat_6to4_options *opt,
			   uint8_t *out, size_t cap, size_t *out_len);
/* Translate the IPv4 packet in[in_len] (it must parse: packet_parse) into an
 * IPv6 one, as above. */
enum xlat_result xlat_4to6(const uint8_t *in, size_t in_len, const struct xlat_v6_addrs *outer,
			   const struct xlat_v6_addrs *inner, uint8_t *out, size_t cap,
			   size_t *out_len);
/* The ICMPv6 type and code RFC 7915 4.2 translates ICMP type/code into
 * (echo 8 -> 128, port unreachable 3/3 -> 1/4, ...), as xlat_4to6 writes
 * them; false if it has none (dropped). `raw icmp` to an IPv6 target
 * names its message so (app/world/runner.c). */
bool xlat_icmp_type_4to6(uint8_t type, uint8_t code, uint8_t *t6, uint8_t *c6);

#endif
