/*
 * xlat_icmp.c - ICMP <-> ICMPv6 for the translator (RFC 7915 4.2-4.3 and
 * 5.2-5.3): the type and code tables, the MTU adjustment, and the packet
 * an error quotes, translated with its own addresses and its transport
 * checksum adjusted for what changed (the quote may be cut short).
 */
#include <string.h>

#include "base/bytes.h"
#include "model/xlat_internal.h"

enum {
	ICMP_FRAG_NEEDED = 4,	  /* destination unreachable, fragmentation needed */
	ICMP_PROTO_POINTER = 6,	  /* RFC 7915 4.2: the IPv6 next header field */
	IPV6_IPV4_HEADER_GAP = 20 /* 40 - 20: what every MTU is adjusted by */
};

/* RFC 7915 5.2: ICMPv6 -> ICMP. False where the RFC says to drop (MLD,
 * neighbour discovery, unknown codes). */
static bool map_6to4(uint8_t type, uint8_t code, uint8_t *t4, uint8_t *c4)
{
	*c4 = 0;
	switch (type) {
	case ICMP6_ECHO_REQUEST:
		return *t4 = ICMP_ECHO_REQUEST, true;
	case ICMP6_ECHO_REPLY:
		return *t4 = ICMP_ECHO_REPLY, true;
	case ICMP6_DEST_UNREACH:
		*t4 = ICMP_DEST_UNREACH;
		if (code == ICMP6_NO_ROUTE || code == ICMP6_BEYOND_SCOPE ||
		    code == ICMP6_ADDR_UNREACH)
			return *c4 = ICMP_HOST_UNREACH, true;
		if (code == ICMP6_ADMIN_PROHIBITED)
			return *c4 = ICMP_HOST_PROHIBITED, true;
		if (code == ICMP6_PORT_UNREACH)
			return *c4 = ICMP_PORT_UNREACH, true;
		return false;
	case ICMP6_PACKET_TOO_BIG:
		*t4 = ICMP_DEST_UNREACH;
		return *c4 = ICMP_FRAG_NEEDED, true;
	case ICMP6_TIME_EXCEEDED:
		*t4 = ICMP_TIME_EXCEEDED;
		return *c4 = code, true;
	case ICMP6_PARAM_PROBLEM:
		/* Code 0, erroneous header field: parameter problem, its pointer
		 * by figure 6 (pointer_6to4); code 1, unrecognized next header:
		 * protocol unreachable; code 2, unrecognized option: drop. */
		if (code == 0)
			return *t4 = ICMP_PARAMETER_PROBLEM, true;
		*t4 = ICMP_DEST_UNREACH;
		return *c4 = ICMP_PROT_UNREACH, code == 1;
	}
	return false;
}

/* RFC 7915 4.2: ICMP -> ICMPv6 (destination unreachable's codes). */
static bool map_unreach_4to6(uint8_t code, uint8_t *t6, uint8_t *c6)
{
	*t6 = ICMP6_DEST_UNREACH;
	switch (code) {
	case 0:
	case 1:
	case 5:
	case 6:
	case 7:
	case 8:
	case 11:
	case 12:
		return *c6 = ICMP6_NO_ROUTE, true;
	case 9:
	case 10:
	case 13:
	case 15:
		return *c6 = ICMP6_ADMIN_PROHIBITED, true;
	case ICMP_PORT_UNREACH:
		return *c6 = ICMP6_PORT_UNREACH, true;
	case ICMP_PROT_UNREACH:
		*t6 = ICMP6_PARAM_PROBLEM;
		return *c6 = 1, true;
	case ICMP_FRAG_NEEDED:
		*t6 = ICMP6_PACKET_TOO_BIG;
		return *c6 = 0, true;
	}
	return false; /* 14 (host precedence violation) and unknown codes: drop */
}

static bool map_4to6(uint8_t type, uint8_t code, uint8_t *t6, uint8_t *c6)
{
	*c6 = 0;
	switch (type) {
	case ICMP_ECHO_REQUEST:
		return *t6 = ICMP6_ECHO_REQUEST, true;
	case ICMP_ECHO_REPLY:
		return *t6 = ICMP6_ECHO_REPLY, true;
	case ICMP_DEST_UNREACH:
		return map_unreach_4to6(code, t6, c6);
	case ICMP_TIME_EXCEEDED:
		*t6 = ICMP6_TIME_EXCEEDED;
		return *c6 = code, true;
	case ICMP_PARAMETER_PROBLEM:
		/* Code 0, pointer indicates the error, and 2, bad length: code
		 * 0, its pointer by figure 3 (pointer_4to6); code 1, missing a
		 * required option, and others: drop. */
		*t6 = ICMP6_PARAM_PROBLEM;
		return code == 0 || code == 2;
	}
	return false; /* redirect, source quench, timestamps, ... */
}

/* RFC 7915 4.2 figure 3: an ICMPv4 parameter problem's pointer (an octet of
 * the IPv4 header) as ICMPv6's (an octet of the IPv6 header), -1 where the
 * figure says "n/a" (Identification, flags and fragment offset, header
 * checksum). Pointers past the 20-byte header (options) are not listed:
 * dropped too. Jool's icmp4_to_icmp6_param_prob (src/mod/common/rfc7915/
 * 4to6.c) holds the same table. */
static int pointer_4to6(uint8_t p4)
{
	static const int8_t figure3[IPV4_HEADER_MIN] = {
	    0,	1,  4,	4,  /* version/IHL, type of service, total length */
	    -1, -1, -1, -1, /* identification, flags/fragment offset */
	    7,	6,  -1, -1, /* time to live, protocol, header checksum */
	    8,	8,  8,	8,  /* source address */
	    24, 24, 24, 24, /* destination address */
	};
	return p4 < IPV4_HEADER_MIN ? figure3[p4] : -1;
}

/* RFC 7915 5.2 figure 6: an ICMPv6 parameter problem's pointer as ICMPv4's,
 * -1 for the flow label's last two octets ("n/a") and for pointers past
 * the 40-byte header (not listed), as Jool's icmp6_to_icmp4_param_prob_ptr
 * (src/mod/common/rfc7915/6to4.c) does. */
static int pointer_6to4(uint32_t p6)
{
	static const int8_t figure6[8] = {
	    0,	1,  /* version/traffic class, traffic class/flow label */
	    -1, -1, /* flow label */
	    2,	2,  /* payload length -> total length */
	    9,	8,  /* next header -> protocol, hop limit -> time to live */
	};
	if (p6 < 8)
		return figure6[p6];
	if (p6 < 24)
		return 12;			/* source address */
	return p6 < IPV6_HEADER_SIZE ? 16 : -1; /* destination address */
}

/* RFC 1191 section 7's plateaus: the likely path MTU when an IPv4 router
 * that predates RFC 1191 sent 0, the greatest plateau below the quoted
 * packet's length (RFC 7915 4.2). */
static uint16_t plateau_below(uint16_t total_len)
{
	static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002,
					    1492,  1006,  508,	296,  68};

	for (size_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++)
		if (plateaus[i] < total_len)
			return plateaus[i];
	return 68;
}

/* An echo's id: a request's is its source side, a reply's its destination
 * side (model/packet.h). */
static uint16_t echo_id(bool request, const struct endpoint *s, const struct endpoint *d)
{
	return request ? s->port : d->port;
}

static uint16_t echo6_id(bool request, const struct endpoint6 *s, const struct endpoint6 *d)
{
	return request ? s->port : d->port;
}

/* The translated message's first 8 bytes: type t, code c, the checksum 0
 * (the caller sums the whole packet). A query (echo) is copied whole with
 * its id; an error's bytes 4-7 and quote are the caller's. XLAT_OK, or no
 * room. */
static enum xlat_result put_icmp_start(const uint8_t *icmp, size_t icmp_len, bool error, uint8_t t,
				       uint8_t c, uint16_t id, uint8_t *out, size_t cap,
				       size_t *len)
{
	if (cap < icmp_len || cap < ICMP_HEADER_SIZE)
		return XLAT_ERR_NO_ROOM;
	memcpy(out, icmp, ICMP_HEADER_SIZE);
	out[0] = t;
	out[1] = c;
	put16(out + 2, 0);
	if (!error) {
		memcpy(out + ICMP_HEADER_SIZE, icmp + ICMP_HEADER_SIZE,
		       icmp_len - ICMP_HEADER_SIZE);
		put16(out + 4, id);
		*len = icmp_len;
	}
	return XLAT_OK;
}

/* The ICMPv6 pseudo-header's length and next header words (RFC 8200 8.1),
 * which ICMP for IPv4 does not have. */
static uint16_t icmp6_pseudo_sum(uint16_t sum, uint16_t upper_len)
{
	return xlat_ones_add(xlat_ones_add(sum, upper_len), IPPROTO_NUM_ICMPV6);
}

/* ---- the quoted packet, IPv6 -> IPv4 -------------------------------------- */

/* The quoted segment's ports (or echo's type and id) and transport checksum,
 * adjusted for the new addresses and ports. old/new_sum hold the
 * addresses' sums on entry. */
static enum xlat_result quoted_l4_6to4(uint8_t *l4, size_t body, uint8_t nh, uint16_t upper_len,
				       const struct xlat_v4_addrs *a, uint16_t old_sum,
				       uint16_t new_sum)
{
	size_t sum_off = nh == IPPROTO_NUM_UDP ? 6 : nh == IPPROTO_NUM_TCP ? 16 : 2;
	if (nh == IPPROTO_NUM_ICMPV6) {
		bool req = l4[0] == ICMP6_ECHO_REQUEST;
		if (l4[0] != ICMP6_ECHO_REQUEST && l4[0] != ICMP6_ECHO_REPLY)
			return XLAT_ERR_ICMP_UNTRANSLATABLE; /* errors are not sent about errors */
		old_sum = icmp6_pseudo_sum(xlat_sum_bytes(old_sum, l4, 2), upper_len);
		old_sum = xlat_sum_bytes(old_sum, l4 + 4, 2);
		l4[0] = req ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
		put16(l4 + 4, echo_id(req, &a->src, &a->dst));
		new_sum = xlat_sum_bytes(xlat_sum_bytes(new_sum, l4, 2), l4 + 4, 2);
	} else {
		old_sum = xlat_sum_bytes(old_sum, l4, 4);
		put16(l4, a->src.port);
		put16(l4 + 2, a->dst.port);
		new_sum = xlat_sum_bytes(new_sum, l4, 4);
	}
	if (body >= sum_off + 2) {
		uint16_t s = xlat_csum_replace(get16(l4 + sum_off), old_sum, new_sum);
		put16(l4 + sum_off, nh == IPPROTO_NUM_UDP && s == 0 ? 0xffff : s);
	}
	return XLAT_OK;
}

static enum xlat_result quoted_6to4(const uint8_t *q, const struct packet6_inner *info,
				    const struct xlat_v4_addrs *a,
				    const struct xlat_6to4_options *opt, uint8_t *out, size_t cap,
				    size_t *n)
{
	uint8_t nh = info->next_header;
	if (nh != IPPROTO_NUM_UDP && nh != IPPROTO_NUM_TCP && nh != IPPROTO_NUM_ICMPV6)
		return XLAT_ERR_PROTOCOL;
	size_t body = info->len - IPV6_HEADER_SIZE;
	if (cap < IPV4_HEADER_MIN + body)
		return XLAT_ERR_NO_ROOM;
	uint8_t *l4 = out + IPV4_HEADER_MIN;
	memcpy(l4, q + IPV6_HEADER_SIZE, body);
	uint8_t v4[8];
	put32(v4, a->src.ip);
	put32(v4 + 4, a->dst.ip);
	uint16_t old_sum = xlat_sum_bytes(xlat_sum_bytes(0, info->src.b, 16), info->dst.b, 16);
	/* ICMP for IPv4 has no pseudo-header: its checksum loses the addresses. */
	uint16_t new_sum = nh == IPPROTO_NUM_ICMPV6 ? 0 : xlat_sum_bytes(0, v4, 8);
	enum xlat_result r = quoted_l4_6to4(l4, body, nh, info->payload_len, a, old_sum, new_sum);
	if (r != XLAT_OK)
		return r;
	size_t total = IPV4_HEADER_MIN + (size_t)info->payload_len; /* its own, uncut */
	struct xlat_ipv4_header h = {
	    .tos = (uint8_t)((q[0] & 0x0f) << 4 | q[1] >> 4),
	    .total_len = (uint16_t)total,
	    .id = 0, /* the original IPv4 Identification did not survive into IPv6 */
	    .df = xlat_df(opt, total),
	    .ttl = info->hop_limit,
	    .proto = nh == IPPROTO_NUM_ICMPV6 ? IPPROTO_NUM_ICMP : nh,
	    .src = a->src.ip,
	    .dst = a->dst.ip,
	};
	xlat_put_ipv4_header(out, &h);
	*n = IPV4_HEADER_MIN + body;
	return XLAT_OK;
}

enum xlat_result xlat_icmp6_to_icmp(const uint8_t *in, const struct packet6_info *pi,
				    const struct xlat_v4_addrs *outer,
				    const struct xlat_v4_addrs *inner,
				    const struct xlat_6to4_options *opt, uint8_t *out, size_t cap,
				    size_t *len)
{
	const uint8_t *icmp = in + IPV6_HEADER_SIZE;
	size_t icmp_len = pi->ip_payload_len, n = 0;
	uint8_t t, c;

	if (!map_6to4(pi->icmp_type, pi->icmp_code, &t, &c))
		return XLAT_ERR_ICMP_UNTRANSLATABLE;
	enum xlat_result r = put_icmp_start(
	    icmp, icmp_len, pi->icmp_error, t, c,
	    echo_id(t == ICMP_ECHO_REQUEST, &outer->src, &outer->dst), out, cap, len);
	if (r != XLAT_OK || !pi->icmp_error)
		return r;
	if (!inner)
		return XLAT_ERR_MALFORMED;
	put32(out + 4, 0);
	if (c == ICMP_FRAG_NEEDED && t == ICMP_DEST_UNREACH) {
		/* RFC 7915 5.2: MTU - 20 (also bounded by the links' MTUs, which
		 * the node that calls this knows and may lower further). */
		uint32_t mtu = pi->icmp_param > IPV6_IPV4_HEADER_GAP ? pi->icmp_param - 20 : 0;
		put16(out + 6, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
	} else if (t == ICMP_PARAMETER_PROBLEM) {
		int p4 = pointer_6to4(pi->icmp_param);
		if (p4 < 0)
			return XLAT_ERR_PARAM_POINTER;
		out[4] = (uint8_t)p4; /* RFC 792: the pointer is byte 4, 5-7 unused */
	}
	r = quoted_6to4(in + pi->inner.offset, &pi->inner, inner, opt, out + ICMP_HEADER_SIZE,
			cap - ICMP_HEADER_SIZE, &n);
	*len = ICMP_HEADER_SIZE + n;
	return r;
}

/* ---- the quoted packet, IPv4 -> IPv6 -------------------------------------- */

static enum xlat_result quoted_l4_4to6(uint8_t *l4, size_t body, uint8_t proto, uint16_t upper_len,
				       const struct xlat_v6_addrs *a, uint16_t old_sum,
				       uint16_t new_sum)
{
	size_t sum_off = proto == IPPROTO_NUM_UDP ? 6 : proto == IPPROTO_NUM_TCP ? 16 : 2;
	if (proto == IPPROTO_NUM_ICMP) {
		bool req = l4[0] == ICMP_ECHO_REQUEST;
		if (l4[0] != ICMP_ECHO_REQUEST && l4[0] != ICMP_ECHO_REPLY)
			return XLAT_ERR_ICMP_UNTRANSLATABLE;
		old_sum = xlat_sum_bytes(xlat_sum_bytes(old_sum, l4, 2), l4 + 4, 2);
		l4[0] = req ? ICMP6_ECHO_REQUEST : ICMP6_ECHO_REPLY;
		put16(l4 + 4, echo6_id(req, &a->src, &a->dst));
		new_sum = icmp6_pseudo_sum(xlat_sum_bytes(new_sum, l4, 2), upper_len);
		new_sum = xlat_sum_bytes(new_sum, l4 + 4, 2);
	} else {
		old_sum = xlat_sum_bytes(old_sum, l4, 4);
		put16(l4, a->src.port);
		put16(l4 + 2, a->dst.port);
		new_sum = xlat_sum_bytes(new_sum, l4, 4);
	}
	/* A quoted UDP datagram sent without a checksum keeps none: the rest of
	 * it, which a checksum would cover, may not have been quoted. */
	if (body >= sum_off + 2 && !(proto == IPPROTO_NUM_UDP && get16(l4 + 6) == 0)) {
		uint16_t s = xlat_csum_replace(get16(l4 + sum_off), old_sum, new_sum);
		put16(l4 + sum_off, proto == IPPROTO_NUM_UDP && s == 0 ? 0xffff : s);
	}
	return XLAT_OK;
}

static enum xlat_result quoted_4to6(const uint8_t *q, const struct packet_inner *info,
				    const struct xlat_v6_addrs *a, uint8_t *out, size_t cap,
				    size_t *n)
{
	uint8_t p = info->proto;
	if (p != IPPROTO_NUM_UDP && p != IPPROTO_NUM_TCP && p != IPPROTO_NUM_ICMP)
		return XLAT_ERR_PROTOCOL;
	size_t body = info->len - info->ihl_bytes;
	if (cap < IPV6_HEADER_SIZE + body)
		return XLAT_ERR_NO_ROOM;
	uint8_t *l4 = out + IPV6_HEADER_SIZE;
	memcpy(l4, q + info->ihl_bytes, body);
	uint8_t v4[8];
	put32(v4, info->src);
	put32(v4 + 4, info->dst);
	uint16_t upper = (uint16_t)(info->total_len - info->ihl_bytes);
	uint16_t new_sum = xlat_sum_bytes(xlat_sum_bytes(0, a->src.ip.b, 16), a->dst.ip.b, 16);
	uint16_t old_sum = p == IPPROTO_NUM_ICMP ? 0 : xlat_sum_bytes(0, v4, 8); /* as above */
	enum xlat_result r = quoted_l4_4to6(l4, body, p, upper, a, old_sum, new_sum);
	if (r != XLAT_OK)
		return r;
	xlat_put_ipv6_header(out, q[1], upper, p == IPPROTO_NUM_ICMP ? IPPROTO_NUM_ICMPV6 : p,
			     info->ttl, &a->src.ip, &a->dst.ip);
	*n = IPV6_HEADER_SIZE + body;
	return XLAT_OK;
}

/* Bytes 4-7 of the ICMPv6 error: packet too big's MTU (RFC 7915 4.2: +20,
 * or a plateau when the router sent 0), parameter problem's pointer
 * (protocol unreachable's: the next header field; a parameter problem's:
 * figure 3). False: a pointer with no counterpart. */
static bool param_4to6(const uint8_t *icmp, const struct packet_info *pi, uint8_t t6,
		       uint32_t *param)
{
	*param = 0;
	if (t6 == ICMP6_PARAM_PROBLEM && pi->icmp_type == ICMP_DEST_UNREACH) {
		*param = ICMP_PROTO_POINTER;
	} else if (t6 == ICMP6_PARAM_PROBLEM) {
		int p6 = pointer_4to6(icmp[4]);
		*param = (uint32_t)p6;
		return p6 >= 0;
	} else if (t6 == ICMP6_PACKET_TOO_BIG) {
		uint16_t mtu4 = get16(icmp + 6);
		*param = (uint32_t)(mtu4 ? mtu4 : plateau_below(pi->inner.total_len)) +
			 IPV6_IPV4_HEADER_GAP;
	}
	return true;
}

enum xlat_result xlat_icmp_to_icmp6(const uint8_t *in, const struct packet_info *pi,
				    const struct xlat_v6_addrs *outer,
				    const struct xlat_v6_addrs *inner, uint8_t *out, size_t cap,
				    size_t *len)
{
	const uint8_t *icmp = in + pi->ihl_bytes;
	size_t icmp_len = (size_t)pi->total_len - pi->ihl_bytes, n = 0;
	uint8_t t, c;

	uint32_t param;

	if (!map_4to6(pi->icmp_type, pi->icmp_code, &t, &c))
		return XLAT_ERR_ICMP_UNTRANSLATABLE;
	enum xlat_result r = put_icmp_start(
	    icmp, icmp_len, pi->icmp_error, t, c,
	    echo6_id(t == ICMP6_ECHO_REQUEST, &outer->src, &outer->dst), out, cap, len);
	if (r != XLAT_OK || !pi->icmp_error)
		return r;
	if (!inner)
		return XLAT_ERR_MALFORMED;
	if (!param_4to6(icmp, pi, t, &param))
		return XLAT_ERR_PARAM_POINTER;
	put32(out + 4, param);
	r = quoted_4to6(in + pi->inner.offset, &pi->inner, inner, out + ICMP_HEADER_SIZE,
			cap - ICMP_HEADER_SIZE, &n);
	/* RFC 4443 2.4(c): an ICMPv6 error fits in the minimum MTU. */
	size_t most = ICMPV6_ERROR_MAX_SIZE - IPV6_HEADER_SIZE;
	*len = ICMP_HEADER_SIZE + n > most ? most : ICMP_HEADER_SIZE + n;
	return r;
}

bool xlat_icmp_type_4to6(uint8_t type, uint8_t code, uint8_t *t6, uint8_t *c6)
{
	return map_4to6(type, code, t6, c6);
}
