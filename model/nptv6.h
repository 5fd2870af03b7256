/*
 * nptv6.h - IPv6-to-IPv6 Network Prefix Translation (RFC 6296), stateless
 * and checksum-neutral: an inside prefix and an outside prefix of the same
 * length; an outgoing packet's source prefix is rewritten inside -> outside
 * and an incoming packet's destination prefix outside -> inside, and one
 * 16-bit word below the prefix is adjusted so that the one's-complement sum
 * of the address does not change (RFC 6296 section 3.1-3.2). UDP, TCP and
 * ICMPv6 checksums, which cover the address through the pseudo-header, stay
 * right without being touched. No port changes, no state: the same inside
 * address always maps to the same outside one, which is the lesson.
 *
 * Which word (RFC 6296 3.4, 3.5 - section numbers not checked against the
 * text - as Linux's xt_NPT.c ip6t_npt_map_pfx):
 *   - prefixes of /48 or shorter: bits 48..63, the subnet ID;
 *   - longer prefixes (/49../64): the first of the interface identifier's
 *     four words (bits 64..79, 80..95, 96..111, 112..127) that is not
 *     0xffff.
 * The adjusted word is written 0x0000 where the sum gives 0xffff, the two
 * zeros of one's-complement (RFC 6296 3.4, csum "mangled 0" in Linux).
 *
 * What cannot be translated (NPTV6_UNTRANSLATABLE), since 0xffff and 0x0000
 * are the same one's-complement number and both would map to one address:
 *   - /48 or shorter: a subnet ID of 0xffff (RFC 6296 3.4, not checked
 *     against the text; the RFC's section 3.6 example is). Linux's xt_NPT
 *     differs: it translates such an address anyway (to the same outside
 *     address as subnet 0x0000); natsim follows the RFC and drops it;
 *   - longer prefixes: an interface identifier whose four words are all
 *     0xffff (RFC 6296 3.7, as erratum 8757 quotes it: an IID of all-ones
 *     is a reserved anycast identifier, and a datagram found with "an IID
 *     of all-zeros" "MUST be dropped, and an ICMPv6 Parameter Problem error
 *     SHOULD be generated"; the erratum, "Reported", not verified, says the
 *     zeros should be ones. natsim drops all-ones, not all-zeros: see
 *     docs/ipv6.md "Known differences". Linux agrees:
 *     ip6t_npt_map_pfx returns false and the target answers ICMPv6
 *     parameter problem, code 0, pointing at the address, and drops the
 *     packet).
 *
 * As Linux (ip6t_snpt_tg / ip6t_dnpt_tg since 3.x, "rewrite dst addr of
 * bounced packet"), an ICMPv6 error's quoted packet is translated too: the
 * quoted destination on the way out, the quoted source on the way in, so
 * the host that gets the error recognises its own packet. That change is
 * checksum-neutral as well.
 */
#ifndef NATSIM_MODEL_NPTV6_H
#define NATSIM_MODEL_NPTV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"

/* Linux (xt_NPT.c ip6t_npt_checkentry) refuses prefixes longer than /64;
 * RFC 6296 maps prefixes up to /64 (the interface identifier is never part
 * of the prefix). */
#define NPTV6_MAX_PREFIX_LEN 64

enum nptv6_result {
	NPTV6_OK = 0,
	NPTV6_NOT_MATCHED = 1,	     /* the address is not in the prefix: left alone */
	NPTV6_UNTRANSLATABLE = -1,   /* the word to adjust is 0xffff (above): drop */
	NPTV6_ERR_LENGTH = -2,	     /* a prefix length of 0 or over 64 */
	NPTV6_ERR_HOST_BITS = -3,    /* a prefix with bits set below its length */
	NPTV6_ERR_NOT_A_PACKET = -4, /* bytes too short for an IPv6 header */
};

/* A translator: its two prefixes and the precomputed adjustment each way. */
struct nptv6 {
	struct ip6_addr inside, outside;
	uint8_t len;
	uint16_t adjust_out; /* one's-complement sum(inside) - sum(outside) */
	uint16_t adjust_in;  /* sum(outside) - sum(inside) */
};

/* Configure: both prefixes of length `len` (1..64), no host bits set.
 * Returns NPTV6_OK or NPTV6_ERR_LENGTH / NPTV6_ERR_HOST_BITS. */
enum nptv6_result nptv6_init(struct nptv6 *t, const struct ip6_addr *inside,
			     const struct ip6_addr *outside, uint8_t len);

/* Map one address in place: inside -> outside (`outbound`) or back. Returns
 * NPTV6_OK, NPTV6_NOT_MATCHED (address outside the from-prefix, left alone)
 * or NPTV6_UNTRANSLATABLE (left alone). */
enum nptv6_result nptv6_map_address(const struct nptv6 *t, bool outbound, struct ip6_addr *a);

/* Translate an IPv6 packet in place, as SNPT on the way out (its source,
 * and an ICMPv6 error's quoted destination) and DNPT on the way in (its
 * destination, and an error's quoted source). Returns NPTV6_OK,
 * NPTV6_NOT_MATCHED (not in the prefix: untouched), NPTV6_UNTRANSLATABLE
 * (untouched: drop it) or NPTV6_ERR_NOT_A_PACKET. No checksum changes. */
enum nptv6_result nptv6_translate_outbound(const struct nptv6 *t, uint8_t *buf, size_t len);
enum nptv6_result nptv6_translate_inbound(const struct nptv6 *t, uint8_t *buf, size_t len);

/* Where in the IPv6 header the address that could not be translated is
 * (8: source, 24: destination): the pointer of the ICMPv6 parameter
 * problem (code 0) Linux answers with. */
size_t nptv6_untranslatable_pointer(bool outbound);

#endif
