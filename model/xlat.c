/*
 * xlat.c - RFC 6052 addresses and RFC 7915 header translation: the headers
 * (sections 4.1 and 5.1), UDP and TCP (4.5, 5.5), and the outer ICMP
 * message's dispatch. The ICMP type and code tables and the quoted packet
 * of an error are in model/xlat_icmp.c.
 */
#include "model/xlat.h"

#include <string.h>

#include "base/bytes.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "model/xlat_internal.h"

struct ip6_addr xlat_well_known_prefix(void)
{
	struct ip6_addr p = {{0x00, 0x64, 0xff, 0x9b}};

	return p;
}

struct ip6_addr xlat_synthesize(const struct ip6_addr *prefix96, uint32_t ip4)
{
	struct ip6_addr a = *prefix96;

	put32(a.b + 12, ip4);
	return a;
}

bool xlat_embedded_ipv4(const struct ip6_addr *prefix96, const struct ip6_addr *a, uint32_t *ip4)
{
	if (!ip6_prefix_match(prefix96, 96, a))
		return false;
	*ip4 = get32(a->b + 12);
	return true;
}

/* ---- checksum arithmetic (RFC 1071, RFC 1624) ---------------------------- */

uint16_t xlat_ones_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

uint16_t xlat_sum_bytes(uint16_t acc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc = xlat_ones_add(acc, get16(p + i));
	return acc;
}

uint16_t xlat_csum_replace(uint16_t csum, uint16_t old_sum, uint16_t new_sum)
{
	/* RFC 1624 eqn. 3 over many words at once: HC' = ~(~HC + ~m + m'). */
	return (uint16_t)~xlat_ones_add(xlat_ones_add((uint16_t)~csum, (uint16_t)~old_sum),
					new_sum);
}

/* ---- headers --------------------------------------------------------------- */

void xlat_put_ipv4_header(uint8_t *h, const struct xlat_ipv4_header *f)
{
	h[0] = 0x45; /* version 4, 20 bytes: IPv4 options are never made */
	h[1] = f->tos;
	put16(h + 2, f->total_len);
	put16(h + 4, f->id);
	put16(h + 6, f->df ? 0x4000 : 0);
	h[8] = f->ttl;
	h[9] = f->proto;
	put16(h + 10, 0);
	put32(h + 12, f->src);
	put32(h + 16, f->dst);
	put16(h + 10, inet_checksum(h, IPV4_HEADER_MIN));
}

void xlat_put_ipv6_header(uint8_t *h, uint8_t tclass, uint16_t payload_len, uint8_t nh,
			  uint8_t hop_limit, const struct ip6_addr *src, const struct ip6_addr *dst)
{
	/* RFC 7915 4.1: flow label 0. */
	put32(h, 6u << 28 | (uint32_t)tclass << 20);
	put16(h + 4, payload_len);
	h[6] = nh;
	h[7] = hop_limit;
	memcpy(h + 8, src->b, 16);
	memcpy(h + 24, dst->b, 16);
}

/* RFC 7915 5.1: DF only above 1260 bytes (so that the IPv6 side, whose
 * minimum MTU is 1280, never sees fragmentation needed for less), or always
 * as RFC 6145 said and tayga still does. */
bool xlat_df(const struct xlat_6to4_options *opt, size_t total)
{
	return opt->df_always || total > 1260;
}

/* ---- IPv6 -> IPv4 ------------------------------------------------------------ */

/* UDP or TCP: the segment copied with the caller's ports; the checksum is
 * written afterwards over the IPv4 pseudo-header (packet_fill_checksums). */
static enum xlat_result transport_copy(const uint8_t *l4, size_t len, uint16_t sport,
				       uint16_t dport, uint8_t *out, size_t cap)
{
	if (len > cap)
		return XLAT_ERR_NO_ROOM;
	memcpy(out, l4, len);
	put16(out, sport);
	put16(out + 2, dport);
	return XLAT_OK;
}

enum xlat_result xlat_6to4(const uint8_t *in, size_t in_len, const struct xlat_v4_addrs *outer,
			   const struct xlat_v4_addrs *inner, const struct xlat_6to4_options *opt,
			   uint8_t *out, size_t cap, size_t *out_len)
{
	struct packet6_info pi;
	size_t l4_len = 0;
	enum xlat_result r;

	if (packet6_parse(in, in_len, &pi, NULL, 0) != PACKET_OK ||
	    pi.udp_no_checksum) /* refused, as by nat64_translate_6to4 */
		return XLAT_ERR_MALFORMED;
	if (cap < IPV4_HEADER_MIN)
		return XLAT_ERR_NO_ROOM;
	uint8_t *l4 = out + IPV4_HEADER_MIN;
	size_t room = cap - IPV4_HEADER_MIN;
	if (pi.next_header == IPPROTO_NUM_UDP || pi.next_header == IPPROTO_NUM_TCP) {
		l4_len = pi.ip_payload_len;
		r = transport_copy(in + IPV6_HEADER_SIZE, l4_len, outer->src.port, outer->dst.port,
				   l4, room);
	} else if (pi.next_header == IPPROTO_NUM_ICMPV6) {
		r = xlat_icmp6_to_icmp(in, &pi, outer, inner, opt, l4, room, &l4_len);
	} else {
		r = XLAT_ERR_PROTOCOL;
	}
	if (r != XLAT_OK)
		return r;
	size_t total = IPV4_HEADER_MIN + l4_len;
	bool df = xlat_df(opt, total);
	struct xlat_ipv4_header h = {
	    .tos = pi.traffic_class, /* RFC 7915 5.1: all 8 bits copied */
	    .total_len = (uint16_t)total,
	    .id = opt->df_always ? 0 : opt->ip_id,
	    .df = df,
	    .ttl = pi.hop_limit,
	    .proto = pi.next_header == IPPROTO_NUM_ICMPV6 ? IPPROTO_NUM_ICMP : pi.next_header,
	    .src = outer->src.ip,
	    .dst = outer->dst.ip,
	};
	xlat_put_ipv4_header(out, &h);
	packet_fill_checksums(out, total);
	*out_len = total;
	return XLAT_OK;
}

/* ---- IPv4 -> IPv6 ------------------------------------------------------------ */

enum xlat_result xlat_4to6(const uint8_t *in, size_t in_len, const struct xlat_v6_addrs *outer,
			   const struct xlat_v6_addrs *inner, uint8_t *out, size_t cap,
			   size_t *out_len)
{
	struct packet_info pi;
	size_t l4_len = 0;
	enum xlat_result r;

	if (packet_parse(in, in_len, &pi, NULL, 0) != PACKET_OK)
		return XLAT_ERR_MALFORMED;
	if (cap < IPV6_HEADER_SIZE)
		return XLAT_ERR_NO_ROOM;
	uint8_t *l4 = out + IPV6_HEADER_SIZE;
	size_t room = cap - IPV6_HEADER_SIZE;
	if (pi.proto == IPPROTO_NUM_UDP || pi.proto == IPPROTO_NUM_TCP) {
		l4_len = (size_t)pi.total_len - pi.ihl_bytes;
		r = transport_copy(in + pi.ihl_bytes, l4_len, outer->src.port, outer->dst.port, l4,
				   room);
	} else if (pi.proto == IPPROTO_NUM_ICMP) {
		r = xlat_icmp_to_icmp6(in, &pi, outer, inner, l4, room, &l4_len);
	} else {
		r = XLAT_ERR_PROTOCOL;
	}
	if (r != XLAT_OK)
		return r;
	uint8_t nh = pi.proto == IPPROTO_NUM_ICMP ? IPPROTO_NUM_ICMPV6 : pi.proto;
	/* RFC 7915 4.1: traffic class from TOS, hop limit from TTL. */
	xlat_put_ipv6_header(out, pi.tos, (uint16_t)l4_len, nh, pi.ttl, &outer->src.ip,
			     &outer->dst.ip);
	/* Every checksum afresh: UDP's now covers the IPv6 pseudo-header, and is
	 * computed even where IPv4 sent none (RFC 7915 4.5). */
	packet6_fill_checksums(out, IPV6_HEADER_SIZE + l4_len);
	*out_len = IPV6_HEADER_SIZE + l4_len;
	return XLAT_OK;
}
