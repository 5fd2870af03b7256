/*
 * packet6_icmp.c - ICMPv6 (RFC 4443) as bytes: the parser's ICMPv6 part,
 * echo and error builders, and the dissector's words. The other half of the
 * IPv6 packet module is model/packet6.c.
 *
 * Where natsim follows Linux (net/ipv6/icmp.c) beyond the letter of RFC 4443:
 *   - an error quotes the offending packet up to the minimum MTU, 1232
 *     bytes of it after the 40-byte header and 8-byte ICMPv6 header
 *     (icmp6_send: min(len, IPV6_MIN_MTU - sizeof(ipv6hdr) - sizeof(icmp6hdr)));
 *   - an error must quote the IPv6 header and 8 bytes more to be read:
 *     icmpv6_notify pulls that much before it hands the error to UDP or
 *     TCP, which need the ports;
 *   - traffic class 0 and flow label 0. (Linux writes an automatic flow
 *     label, a hash of the flow, net.ipv6.auto_flowlabels; natsim's hosts
 *     will choose theirs deterministically: docs/ipv6.md.)
 * Neighbour discovery (types 133-137, RFC 4861) is not modelled: the parser
 * accepts and the dissector names those messages, nothing answers them.
 */
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "model/packet6.h"
#include "model/packet6_internal.h"

#define PING_TIMESTAMP_SIZE 16

bool icmp6_is_error(uint8_t type)
{
	return type < 128;
}

static const char *unreach_name(uint8_t code)
{
	static const char *const names[] = {
	    [ICMP6_NO_ROUTE] = "no route to destination",
	    [ICMP6_ADMIN_PROHIBITED] = "administratively prohibited",
	    [ICMP6_BEYOND_SCOPE] = "beyond scope of source address",
	    [ICMP6_ADDR_UNREACH] = "address unreachable",
	    [ICMP6_PORT_UNREACH] = "port unreachable",
	    [ICMP6_POLICY_FAIL] = "source address failed ingress/egress policy",
	    [ICMP6_REJECT_ROUTE] = "reject route to destination",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

static const char *info_name(uint8_t type, uint8_t code)
{
	static const char *const names[] = {
	    "echo request",
	    "echo reply",
	    "multicast listener query",
	    "multicast listener report",
	    "multicast listener done",
	    "router solicitation",
	    "router advertisement",
	    "neighbor solicitation",
	    "neighbor advertisement",
	    "redirect",
	};

	if (code != 0 || type < 128 || type - 128 >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[type - 128];
}

const char *icmp6_describe(uint8_t type, uint8_t code, char *out, size_t size)
{
	const char *name = NULL;

	switch (type) {
	case ICMP6_DEST_UNREACH:
		name = unreach_name(code);
		break;
	case ICMP6_PACKET_TOO_BIG:
		name = code == 0 ? "packet too big" : NULL;
		break;
	case ICMP6_TIME_EXCEEDED:
		name = code == ICMP6_EXC_HOP_LIMIT ? "hop limit exceeded"
		       : code == 1		   ? "fragment reassembly time exceeded"
						   : NULL;
		break;
	case ICMP6_PARAM_PROBLEM:
		name = code <= 2 ? "parameter problem" : NULL;
		break;
	default:
		name = info_name(type, code);
		break;
	}
	if (name != NULL)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "type %u code %u", type, code);
	return out;
}

/* ---- parser ---- */

static void echo_ports(uint8_t type, uint16_t id, uint16_t *sport, uint16_t *dport)
{
	*sport = type == ICMP6_ECHO_REQUEST ? id : 0;
	*dport = type == ICMP6_ECHO_REPLY ? id : 0;
}

/* The ports (or echo id) in the 8 bytes after the quoted header. */
static void inner_l4(struct packet6_inner *r, const uint8_t *l4)
{
	if (r->next_header == IPPROTO_NUM_UDP || r->next_header == IPPROTO_NUM_TCP) {
		r->sport = get16(l4);
		r->dport = get16(l4 + 2);
		if (r->next_header == IPPROTO_NUM_TCP)
			r->tcp_seq = get32(l4 + 4);
	} else if (r->next_header == IPPROTO_NUM_ICMPV6) {
		r->icmp_type = l4[0];
		r->icmp_code = l4[1];
		r->icmp_id = get16(l4 + 4);
		if (r->icmp_type == ICMP6_ECHO_REQUEST || r->icmp_type == ICMP6_ECHO_REPLY)
			echo_ports(r->icmp_type, r->icmp_id, &r->sport, &r->dport);
	}
}

/* The packet an error quotes: an IPv6 header and 8 bytes beyond it. */
static int parse_inner(const uint8_t *buf, struct packet6_info *out, char *why, size_t ws)
{
	struct packet6_inner *r = &out->inner;
	size_t off = out->l4_offset + ICMPV6_HEADER_SIZE, room = out->payload_len;
	const uint8_t *in = buf + off;
	char name[64];

	icmp6_describe(out->icmp_type, out->icmp_code, name, sizeof(name));
	if (room < IPV6_HEADER_SIZE)
		return packet_fail(why, ws, PACKET_ERR_ICMPV6_INNER,
				   "the ICMPv6 %s quotes %zu bytes, too few for the IPv6 header of "
				   "the packet it is about",
				   name, room);
	if ((in[0] >> 4) != 6)
		return packet_fail(why, ws, PACKET_ERR_ICMPV6_INNER,
				   "the packet the ICMPv6 %s quotes is not IPv6 (version %u)", name,
				   (unsigned)(in[0] >> 4));
	if (room < IPV6_HEADER_SIZE + 8)
		return packet_fail(
		    why, ws, PACKET_ERR_ICMPV6_INNER,
		    "the ICMPv6 %s quotes %zu bytes; the IPv6 header and 8 bytes "
		    "more (its ports) are needed, as Linux's icmpv6_notify needs them",
		    name, room);
	r->offset = off;
	r->len = room;
	r->payload_len = get16(in + 4);
	r->next_header = in[6];
	r->hop_limit = in[7];
	r->src = packet6_src_of(in);
	r->dst = packet6_dst_of(in);
	inner_l4(r, in + IPV6_HEADER_SIZE);
	return PACKET_OK;
}

int packet6_parse_icmp(const uint8_t *buf, struct packet6_info *out, bool sums, char *why,
		       size_t ws)
{
	const uint8_t *icmp = buf + out->l4_offset;
	size_t room = out->payload_len;

	if (room < ICMPV6_HEADER_SIZE)
		return packet_fail(why, ws, PACKET_ERR_ICMPV6_TRUNCATED,
				   "IPv6 payload of %zu bytes is too short for the 8-byte ICMPv6 "
				   "header",
				   room);
	if (sums) {
		uint16_t stored = get16(icmp + ICMPV6_SUM_OFF);
		uint16_t expected = packet6_checksum_expected(
		    &out->src, &out->dst, IPPROTO_NUM_ICMPV6, icmp, room, ICMPV6_SUM_OFF);

		if (stored != expected)
			return packet_fail(why, ws, PACKET_ERR_ICMPV6_CHECKSUM,
					   "ICMPv6 checksum is wrong (0x%04x, expected 0x%04x)",
					   stored, expected);
	}
	out->icmp_type = icmp[0];
	out->icmp_code = icmp[1];
	out->payload = icmp + ICMPV6_HEADER_SIZE;
	out->payload_len = room - ICMPV6_HEADER_SIZE;
	if (out->icmp_type == ICMP6_ECHO_REQUEST || out->icmp_type == ICMP6_ECHO_REPLY) {
		out->icmp_id = get16(icmp + 4);
		out->icmp_seq = get16(icmp + 6);
		echo_ports(out->icmp_type, out->icmp_id, &out->sport, &out->dport);
		return PACKET_OK;
	}
	out->icmp_error = icmp6_is_error(out->icmp_type);
	if (!out->icmp_error)
		return PACKET_OK;
	out->icmp_param = get32(icmp + 4);
	return parse_inner(buf, out, why, ws);
}

/* ---- builders ---- */

static void icmp_sum(uint8_t *buf, size_t icmp_len)
{
	struct ip6_addr s = packet6_src_of(buf), d = packet6_dst_of(buf);
	uint8_t *icmp = buf + IPV6_HEADER_SIZE;

	put16(icmp + ICMPV6_SUM_OFF, packet6_checksum_expected(&s, &d, IPPROTO_NUM_ICMPV6, icmp,
							       icmp_len, ICMPV6_SUM_OFF));
}

size_t packet6_build_icmp_echo(uint8_t *buf, size_t cap, const struct ip6_addr *src,
			       const struct ip6_addr *dst, uint8_t hop_limit, uint8_t type,
			       uint16_t id, uint16_t seq, const void *payload, size_t payload_len)
{
	size_t total = IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE + payload_len;
	uint8_t *icmp = buf + IPV6_HEADER_SIZE;

	if (payload_len > 0xffff - ICMPV6_HEADER_SIZE || total > cap ||
	    (type != ICMP6_ECHO_REQUEST && type != ICMP6_ECHO_REPLY))
		return 0;
	packet6_header(buf, 0, (uint16_t)(ICMPV6_HEADER_SIZE + payload_len), IPPROTO_NUM_ICMPV6,
		       hop_limit, src, dst);
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	if (payload != NULL)
		memcpy(icmp + ICMPV6_HEADER_SIZE, payload, payload_len);
	else /* ping's pattern: a timestamp, then byte i holds i */
		for (size_t i = 0; i < payload_len; i++)
			icmp[ICMPV6_HEADER_SIZE + i] = i < PING_TIMESTAMP_SIZE ? 0 : (uint8_t)i;
	icmp_sum(buf, ICMPV6_HEADER_SIZE + payload_len);
	return total;
}

size_t packet6_build_icmp_error(uint8_t *buf, size_t cap, const struct ip6_addr *src,
				const struct ip6_addr *dst, uint8_t hop_limit, uint8_t type,
				uint8_t code, uint32_t param, const uint8_t *offending,
				size_t offending_len)
{
	const size_t room = ICMPV6_ERROR_MAX_SIZE - IPV6_HEADER_SIZE - ICMPV6_HEADER_SIZE;
	size_t quote = offending_len, total;
	uint8_t *icmp = buf + IPV6_HEADER_SIZE;

	if (offending_len < IPV6_HEADER_SIZE || !icmp6_is_error(type))
		return 0;
	if (IPV6_HEADER_SIZE + (size_t)get16(offending + 4) < quote)
		quote = IPV6_HEADER_SIZE + get16(offending + 4); /* not the link padding */
	if (quote > room)
		quote = room;
	total = IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE + quote;
	if (total > cap)
		return 0;
	packet6_header(buf, 0, (uint16_t)(ICMPV6_HEADER_SIZE + quote), IPPROTO_NUM_ICMPV6,
		       hop_limit, src, dst);
	icmp[0] = type;
	icmp[1] = code;
	put32(icmp + 4, param);
	memmove(icmp + ICMPV6_HEADER_SIZE, offending, quote);
	icmp_sum(buf, ICMPV6_HEADER_SIZE + quote);
	return total;
}

/* ---- dissector ---- */

static void inner_summary(const struct packet6_inner *r, const char *arrow, char *out, size_t size,
			  size_t *pos)
{
	struct endpoint6 s = {r->src, r->sport}, d = {r->dst, r->dport};
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], what[64];

	if (r->next_header == IPPROTO_NUM_UDP || r->next_header == IPPROTO_NUM_TCP) {
		packet_append(out, size, pos, " [%s %s %s %s]",
			      r->next_header == IPPROTO_NUM_UDP ? "UDP" : "TCP",
			      endpoint6_format(&s, a, sizeof(a)), arrow,
			      endpoint6_format(&d, b, sizeof(b)));
		return;
	}
	ip6_format(&r->src, a, sizeof(a));
	ip6_format(&r->dst, b, sizeof(b));
	if (r->next_header == IPPROTO_NUM_ICMPV6)
		packet_append(out, size, pos, " [ICMPv6 %s %s %s %s]", a, arrow, b,
			      icmp6_describe(r->icmp_type, r->icmp_code, what, sizeof(what)));
	else
		packet_append(out, size, pos, " [next header %u %s %s %s]", r->next_header, a,
			      arrow, b);
}

void packet6_icmp_summary(const struct packet6_info *pi, const char *arrow, char *out, size_t size,
			  size_t *pos)
{
	char a[IP6_TEXT_SIZE], b[IP6_TEXT_SIZE], what[64];

	packet_append(out, size, pos, "ICMPv6 %s %s %s %s", ip6_format(&pi->src, a, sizeof(a)),
		      arrow, ip6_format(&pi->dst, b, sizeof(b)),
		      icmp6_describe(pi->icmp_type, pi->icmp_code, what, sizeof(what)));
	if (pi->icmp_type == ICMP6_ECHO_REQUEST || pi->icmp_type == ICMP6_ECHO_REPLY)
		packet_append(out, size, pos, " id=%u seq=%u len=%zu", pi->icmp_id, pi->icmp_seq,
			      pi->payload_len);
	if (pi->icmp_type == ICMP6_PACKET_TOO_BIG)
		packet_append(out, size, pos, " mtu=%u", pi->icmp_param);
	packet_append(out, size, pos, " hlim=%u", pi->hop_limit);
	if (pi->icmp_error)
		inner_summary(&pi->inner, arrow, out, size, pos);
}

static void inner_fields(struct field_list *fl, const uint8_t *in, size_t quoted)
{
	struct ip6_addr s = packet6_src_of(in), d = packet6_dst_of(in);
	const uint8_t *l4 = in + IPV6_HEADER_SIZE;
	char a[IP6_TEXT_SIZE];

	packet_field(fl, "inner.ipv6.plen", "%u", get16(in + 4));
	packet_field(fl, "inner.ipv6.nxt", "%u", in[6]);
	packet_field(fl, "inner.ipv6.hlim", "%u", in[7]);
	packet_field(fl, "inner.ipv6.src", "%s", ip6_format(&s, a, sizeof(a)));
	packet_field(fl, "inner.ipv6.dst", "%s", ip6_format(&d, a, sizeof(a)));
	if (quoted < IPV6_HEADER_SIZE + 8)
		return;
	if (in[6] == IPPROTO_NUM_UDP || in[6] == IPPROTO_NUM_TCP) {
		const char *p = in[6] == IPPROTO_NUM_UDP ? "udp" : "tcp";
		char name[32];

		snprintf(name, sizeof(name), "inner.%s.sport", p);
		packet_field(fl, name, "%u", get16(l4));
		snprintf(name, sizeof(name), "inner.%s.dport", p);
		packet_field(fl, name, "%u", get16(l4 + 2));
	} else if (in[6] == IPPROTO_NUM_ICMPV6) {
		packet_field(fl, "inner.icmpv6.type", "%u", l4[0]);
		packet_field(fl, "inner.icmpv6.id", "%u", get16(l4 + 4));
	}
}

void packet6_icmp_fields(struct field_list *fl, const uint8_t *buf, size_t ip_end)
{
	const uint8_t *icmp = buf + IPV6_HEADER_SIZE;
	size_t len = ip_end - IPV6_HEADER_SIZE;
	struct ip6_addr s = packet6_src_of(buf), d = packet6_dst_of(buf);
	char what[64];

	packet_field(fl, "icmpv6.type", "%u", icmp[0]);
	packet_field(fl, "icmpv6.code", "%u (%s)", icmp[1],
		     icmp6_describe(icmp[0], icmp[1], what, sizeof(what)));
	packet_checksum_field(
	    fl, "icmpv6.checksum", get16(icmp + ICMPV6_SUM_OFF),
	    packet6_checksum_expected(&s, &d, IPPROTO_NUM_ICMPV6, icmp, len, ICMPV6_SUM_OFF));
	if (icmp[0] == ICMP6_ECHO_REQUEST || icmp[0] == ICMP6_ECHO_REPLY) {
		packet_field(fl, "icmpv6.id", "%u", get16(icmp + 4));
		packet_field(fl, "icmpv6.seq", "%u", get16(icmp + 6));
		packet_field(fl, "payload.len", "%zu", len - ICMPV6_HEADER_SIZE);
		return;
	}
	if (icmp[0] == ICMP6_PACKET_TOO_BIG)
		packet_field(fl, "icmpv6.mtu", "%u", get32(icmp + 4));
	if (icmp[0] == ICMP6_PARAM_PROBLEM)
		packet_field(fl, "icmpv6.pointer", "%u", get32(icmp + 4));
	if (icmp6_is_error(icmp[0]) && len >= ICMPV6_HEADER_SIZE + IPV6_HEADER_SIZE)
		inner_fields(fl, icmp + ICMPV6_HEADER_SIZE, len - ICMPV6_HEADER_SIZE);
}
