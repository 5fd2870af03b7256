/*
 * packet_icmp.c - ICMP (RFC 792) as bytes: the parser's ICMP part, echo and
 * error builders, the rewrites a NAT makes inside an error (RFC 5508), and
 * the dissector's words for ICMP. The other half of the packet module is
 * model/packet.c; what they share is in model/packet_internal.h.
 *
 * Where natsim follows Linux rather than the letter of RFC 792:
 *   - an error quotes as much of the offending datagram as fits in 576
 *     bytes (icmp_send(), RFC 1812 4.3.2.3), not only the header and 8 bytes;
 *   - an error goes out with TOS 0xc0 (precedence "internetwork control",
 *     icmp_send()) and without DF; ping's echo request carries DF, the
 *     kernel's echo reply does not (icmp sockets use IP_PMTUDISC_DONT);
 *   - the quoted IPv4 header's checksum is read but never enforced: neither
 *     icmp_unreach() nor conntrack's icmp_error_message() checks it.
 */
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "model/packet.h"
#include "model/packet_internal.h"

#define ICMP_ERROR_TOS 0xc0 /* IPTOS_PREC_INTERNETCONTROL */
#define IP_FLAG_DF 0x4000
#define PING_TIMESTAMP_SIZE 16 /* ping writes a struct timeval first */

bool icmp_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM;
}

static const char *unreach_name(uint8_t code)
{
	static const char *const names[] = {
	    [ICMP_NET_UNREACH] = "network unreachable",
	    [ICMP_HOST_UNREACH] = "host unreachable",
	    [ICMP_PROT_UNREACH] = "protocol unreachable",
	    [ICMP_PORT_UNREACH] = "port unreachable",
	    [4] = "fragmentation needed",
	    [5] = "source route failed",
	    [ICMP_NET_PROHIBITED] = "network administratively prohibited",
	    [ICMP_HOST_PROHIBITED] = "host administratively prohibited",
	    [ICMP_ADMIN_PROHIBITED] = "communication administratively prohibited",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

const char *icmp_describe(uint8_t type, uint8_t code, char *out, size_t size)
{
	const char *name = NULL;

	switch (type) {
	case ICMP_ECHO_REPLY:
		name = code == 0 ? "echo reply" : NULL;
		break;
	case ICMP_ECHO_REQUEST:
		name = code == 0 ? "echo request" : NULL;
		break;
	case ICMP_DEST_UNREACH:
		name = unreach_name(code);
		break;
	case ICMP_TIME_EXCEEDED:
		name = code == ICMP_EXC_TTL ? "time exceeded"
		       : code == 1	    ? "fragment reassembly time exceeded"
					    : NULL;
		break;
	case ICMP_PARAMETER_PROBLEM:
		name = "parameter problem";
		break;
	case ICMP_SOURCE_QUENCH:
		name = "source quench";
		break;
	case ICMP_REDIRECT:
		name = "redirect";
		break;
	default:
		break;
	}
	if (name != NULL)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "type %u code %u", type, code);
	return out;
}

uint16_t packet_icmp_checksum_expected(const uint8_t *icmp, size_t len)
{
	uint32_t acc = packet_sum_words(0, icmp, 2);

	acc = packet_sum_words(acc, icmp + 4, len - 4);
	return (uint16_t)~packet_fold(acc);
}

/* ---- parser ---- */

/* An echo's id plays the port of the side that chose it (packet.h). */
static void echo_ports(uint8_t type, uint16_t id, uint16_t *sport, uint16_t *dport)
{
	*sport = type == ICMP_ECHO_REQUEST ? id : 0;
	*dport = type == ICMP_ECHO_REPLY ? id : 0;
}

/* The packet an error quotes: an IPv4 header and 8 bytes beyond it at the
 * least (RFC 792), read as far as it was quoted. */
static int parse_inner(const uint8_t *buf, struct packet_info *out, char *why, size_t ws)
{
	struct packet_inner *r = &out->inner;
	size_t off = out->l4_offset + ICMP_HEADER_SIZE, room = out->payload_len, ihl;
	const uint8_t *in = buf + off;
	char name[48];

	icmp_describe(out->icmp_type, out->icmp_code, name, sizeof(name));
	if (room < IPV4_HEADER_MIN)
		return packet_fail(why, ws, PACKET_ERR_ICMP_INNER,
				   "the ICMP %s quotes %zu bytes, too few for the IPv4 header of "
				   "the packet it is about",
				   name, room);
	if ((in[0] >> 4) != 4)
		return packet_fail(why, ws, PACKET_ERR_ICMP_INNER,
				   "the packet the ICMP %s quotes is not IPv4 (version %u)", name,
				   (unsigned)(in[0] >> 4));
	ihl = (size_t)(in[0] & 0x0f) * 4;
	if (ihl < IPV4_HEADER_MIN || ihl + 8 > room)
		return packet_fail(why, ws, PACKET_ERR_ICMP_INNER,
				   "the ICMP %s quotes %zu bytes of a packet whose header is %zu "
				   "bytes; RFC 792 asks for the header and 8 bytes more",
				   name, room, ihl);
	r->offset = off;
	r->len = room;
	r->ihl_bytes = (uint8_t)ihl;
	r->proto = in[9];
	r->ttl = in[8];
	r->total_len = get16(in + 2);
	r->src = get32(in + 12);
	r->dst = get32(in + 16);
	r->ip_sum_ok = packet_ip_checksum_expected(in, ihl) == get16(in + 10);
	if (r->proto == IPPROTO_NUM_UDP || r->proto == IPPROTO_NUM_TCP) {
		/* The 8 bytes RFC 792 guarantees hold both ports, and for TCP
		 * the sequence number (what tcp_v4_err checks). */
		r->sport = get16(in + ihl);
		r->dport = get16(in + ihl + 2);
		if (r->proto == IPPROTO_NUM_TCP)
			r->tcp_seq = get32(in + ihl + 4);
	} else if (r->proto == IPPROTO_NUM_ICMP) {
		r->icmp_type = in[ihl];
		r->icmp_code = in[ihl + 1];
		r->icmp_id = get16(in + ihl + 4);
		echo_ports(r->icmp_type, r->icmp_id, &r->sport, &r->dport);
	}
	return PACKET_OK;
}

int packet_parse_icmp(const uint8_t *buf, struct packet_info *out, bool sums, char *why, size_t ws)
{
	const uint8_t *icmp = buf + out->l4_offset;
	size_t room = out->payload_len;

	if (room < ICMP_HEADER_SIZE)
		return packet_fail(
		    why, ws, PACKET_ERR_ICMP_TRUNCATED,
		    "IP payload of %zu bytes is too short for the 8-byte ICMP header", room);
	if (sums) {
		uint16_t stored = get16(icmp + 2), expected;

		expected = packet_icmp_checksum_expected(icmp, room);
		if (stored != expected)
			return packet_fail(why, ws, PACKET_ERR_ICMP_CHECKSUM,
					   "ICMP checksum is wrong (0x%04x, expected 0x%04x)",
					   stored, expected);
	}
	out->icmp_type = icmp[0];
	out->icmp_code = icmp[1];
	out->payload = icmp + ICMP_HEADER_SIZE;
	out->payload_len = room - ICMP_HEADER_SIZE;
	if (out->icmp_type == ICMP_ECHO_REQUEST || out->icmp_type == ICMP_ECHO_REPLY) {
		out->icmp_id = get16(icmp + 4);
		out->icmp_seq = get16(icmp + 6);
		echo_ports(out->icmp_type, out->icmp_id, &out->sport, &out->dport);
		return PACKET_OK;
	}
	out->icmp_error = icmp_is_error(out->icmp_type);
	return out->icmp_error ? parse_inner(buf, out, why, ws) : PACKET_OK;
}

/* ---- builders ---- */

static void ip_header(uint8_t *buf, size_t total, uint8_t tos, uint16_t ip_id, uint16_t frag,
		      uint8_t ttl, uint32_t src, uint32_t dst)
{
	buf[0] = 0x45;
	buf[1] = tos;
	put16(buf + 2, (uint16_t)total);
	put16(buf + 4, ip_id);
	put16(buf + 6, frag);
	buf[8] = ttl;
	buf[9] = IPPROTO_NUM_ICMP;
	put16(buf + 10, 0);
	put32(buf + 12, src);
	put32(buf + 16, dst);
	put16(buf + 10, packet_ip_checksum_expected(buf, IPV4_HEADER_MIN));
}

static void icmp_sum(uint8_t *icmp, size_t len)
{
	put16(icmp + 2, 0);
	put16(icmp + 2, packet_icmp_checksum_expected(icmp, len));
}

size_t packet_build_icmp_echo(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t ttl,
			      uint16_t ip_id, uint8_t type, uint16_t id, uint16_t seq,
			      const void *payload, size_t payload_len)
{
	size_t total = IPV4_HEADER_MIN + ICMP_HEADER_SIZE + payload_len;
	uint8_t *icmp = buf + IPV4_HEADER_MIN;

	if (payload_len > 0xffff - IPV4_HEADER_MIN - ICMP_HEADER_SIZE || total > cap ||
	    (type != ICMP_ECHO_REQUEST && type != ICMP_ECHO_REPLY))
		return 0;
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	if (payload != NULL)
		memcpy(icmp + ICMP_HEADER_SIZE, payload, payload_len);
	else /* iputils ping: a timestamp, then byte i holds i */
		for (size_t i = 0; i < payload_len; i++)
			icmp[ICMP_HEADER_SIZE + i] = i < PING_TIMESTAMP_SIZE ? 0 : (uint8_t)i;
	icmp_sum(icmp, ICMP_HEADER_SIZE + payload_len);
	ip_header(buf, total, 0, ip_id, type == ICMP_ECHO_REQUEST ? IP_FLAG_DF : 0, ttl, src, dst);
	return total;
}

size_t packet_build_icmp_error(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t ttl,
			       uint16_t ip_id, uint8_t type, uint8_t code, const uint8_t *offending,
			       size_t offending_len)
{
	size_t quote = offending_len, total;
	uint8_t *icmp = buf + IPV4_HEADER_MIN;

	if (offending_len < IPV4_HEADER_MIN)
		return 0;
	if (get16(offending + 2) >= IPV4_HEADER_MIN && get16(offending + 2) < quote)
		quote = get16(offending + 2); /* the datagram, not link padding */
	if (quote > ICMP_ERROR_MAX_SIZE - IPV4_HEADER_MIN - ICMP_HEADER_SIZE)
		quote = ICMP_ERROR_MAX_SIZE - IPV4_HEADER_MIN - ICMP_HEADER_SIZE;
	total = IPV4_HEADER_MIN + ICMP_HEADER_SIZE + quote;
	if (total > cap)
		return 0;
	icmp[0] = type;
	icmp[1] = code;
	put32(icmp + 4, 0); /* unused (RFC 792) */
	memcpy(icmp + ICMP_HEADER_SIZE, offending, quote);
	icmp_sum(icmp, ICMP_HEADER_SIZE + quote);
	ip_header(buf, total, ICMP_ERROR_TOS, ip_id, 0, ttl, src, dst);
	return total;
}

/* ---- rewrites ---- */

void packet_rewrite_echo_id(uint8_t *buf, size_t len, size_t ihl, size_t ip_off, uint16_t id)
{
	uint8_t *icmp = buf + ihl;
	uint8_t type;

	if (ihl + ICMP_HEADER_SIZE > len)
		return;
	type = icmp[0];
	if (!(type == ICMP_ECHO_REQUEST && ip_off == 12) &&
	    !(type == ICMP_ECHO_REPLY && ip_off == 16))
		return; /* the other side's id is not a port: it stays */
	put16(icmp + 2, checksum_adjust16(get16(icmp + 2), get16(icmp + 4), id));
	put16(icmp + 4, id);
}

/* Rewrite the quoted packet's address at ip_off (12 or 16) and its port (or
 * echo id) on that side, keeping its own sums right as a NAT does
 * (nf_nat_ipv4_manip_pkt on the inner header), then sum the outer ICMP
 * message afresh (nf_nat_icmp_reply_translation does the same). */
static void rewrite_inner(uint8_t *buf, size_t len, size_t ip_off, const struct endpoint *to)
{
	struct packet_info pi;
	uint8_t *in, *l4;
	uint32_t old_ip;

	if (packet_parse(buf, len, &pi, NULL, 0) != PACKET_OK || !pi.icmp_error)
		return;
	in = buf + pi.inner.offset;
	l4 = in + pi.inner.ihl_bytes;
	old_ip = get32(in + ip_off);
	put16(in + 10, checksum_adjust32(get16(in + 10), old_ip, to->ip));
	put32(in + ip_off, to->ip);
	if (pi.inner.proto == IPPROTO_NUM_UDP) {
		size_t port_off = ip_off == 12 ? 0 : 2;
		uint16_t old_port = get16(l4 + port_off), sum = get16(l4 + 6);

		put16(l4 + port_off, to->port);
		if (sum != 0) {
			sum = checksum_adjust32(sum, old_ip, to->ip);
			sum = checksum_adjust16(sum, old_port, to->port);
			put16(l4 + 6, sum == 0 ? 0xffff : sum);
		}
	} else if (pi.inner.proto == IPPROTO_NUM_TCP) {
		packet_rewrite_tcp(l4, pi.inner.len - pi.inner.ihl_bytes, ip_off == 12 ? 0 : 2,
				   old_ip, to->ip, to->port);
	} else if (pi.inner.proto == IPPROTO_NUM_ICMP) {
		packet_rewrite_echo_id(in, pi.inner.len, pi.inner.ihl_bytes, ip_off, to->port);
	}
	icmp_sum(buf + pi.l4_offset, (size_t)pi.total_len - pi.l4_offset);
}

void packet_rewrite_inner_src(uint8_t *buf, size_t len, const struct endpoint *to)
{
	rewrite_inner(buf, len, 12, to);
}

void packet_rewrite_inner_dst(uint8_t *buf, size_t len, const struct endpoint *to)
{
	rewrite_inner(buf, len, 16, to);
}

/* ---- dissector ---- */

static void inner_summary(const struct packet_inner *r, const char *arrow, char *out, size_t size,
			  size_t *pos)
{
	struct endpoint s = {r->src, r->sport}, d = {r->dst, r->dport};
	char a[24], b[24], what[48];

	if (r->proto == IPPROTO_NUM_UDP || r->proto == IPPROTO_NUM_TCP) {
		packet_append(
		    out, size, pos, " [%s %s %s %s]", r->proto == IPPROTO_NUM_UDP ? "UDP" : "TCP",
		    endpoint_format(&s, a, sizeof(a)), arrow, endpoint_format(&d, b, sizeof(b)));
		return;
	}
	ip_format(r->src, a, sizeof(a));
	ip_format(r->dst, b, sizeof(b));
	if (r->proto == IPPROTO_NUM_ICMP)
		packet_append(out, size, pos, " [ICMP %s %s %s %s]", a, arrow, b,
			      icmp_describe(r->icmp_type, r->icmp_code, what, sizeof(what)));
	else
		packet_append(out, size, pos, " [proto %u %s %s %s]", r->proto, a, arrow, b);
}

void packet_icmp_summary(const uint8_t *buf, const struct packet_info *pi, const char *arrow,
			 char *out, size_t size, size_t *pos)
{
	char a[16], b[16], what[48];

	(void)buf;
	packet_append(out, size, pos, "ICMP %s %s %s %s", ip_format(pi->src, a, sizeof(a)), arrow,
		      ip_format(pi->dst, b, sizeof(b)),
		      icmp_describe(pi->icmp_type, pi->icmp_code, what, sizeof(what)));
	if (pi->icmp_type == ICMP_ECHO_REQUEST || pi->icmp_type == ICMP_ECHO_REPLY)
		packet_append(out, size, pos, " id=%u seq=%u len=%zu", pi->icmp_id, pi->icmp_seq,
			      pi->payload_len);
	packet_append(out, size, pos, " ttl=%u", pi->ttl);
	if (pi->icmp_error)
		inner_summary(&pi->inner, arrow, out, size, pos);
}

static void inner_fields(struct field_list *fl, const uint8_t *in, size_t quoted)
{
	size_t ihl = (size_t)(in[0] & 0x0f) * 4;
	char a[16];

	packet_field(fl, "inner.ip.ttl", "%u", in[8]);
	packet_field(fl, "inner.ip.proto", "%u", in[9]);
	if (ihl >= IPV4_HEADER_MIN && ihl <= quoted)
		packet_checksum_field(fl, "inner.ip.checksum", get16(in + 10),
				      packet_ip_checksum_expected(in, ihl));
	packet_field(fl, "inner.ip.src", "%s", ip_format(get32(in + 12), a, sizeof(a)));
	packet_field(fl, "inner.ip.dst", "%s", ip_format(get32(in + 16), a, sizeof(a)));
	if (ihl < IPV4_HEADER_MIN || ihl + 8 > quoted)
		return;
	if (in[9] == IPPROTO_NUM_UDP) {
		packet_field(fl, "inner.udp.sport", "%u", get16(in + ihl));
		packet_field(fl, "inner.udp.dport", "%u", get16(in + ihl + 2));
		packet_field(fl, "inner.udp.checksum", "0x%04x [unverified: quoted]",
			     get16(in + ihl + 6));
	} else if (in[9] == IPPROTO_NUM_TCP) {
		packet_field(fl, "inner.tcp.sport", "%u", get16(in + ihl));
		packet_field(fl, "inner.tcp.dport", "%u", get16(in + ihl + 2));
		packet_field(fl, "inner.tcp.seq", "%u", get32(in + ihl + 4));
	} else if (in[9] == IPPROTO_NUM_ICMP) {
		packet_field(fl, "inner.icmp.type", "%u", in[ihl]);
		packet_field(fl, "inner.icmp.id", "%u", get16(in + ihl + 4));
	}
}

void packet_icmp_fields(struct field_list *fl, const uint8_t *buf, size_t ihl, size_t ip_end)
{
	const uint8_t *icmp = buf + ihl;
	size_t len = ip_end - ihl;
	char what[48];

	packet_field(fl, "icmp.type", "%u", icmp[0]);
	packet_field(fl, "icmp.code", "%u (%s)", icmp[1],
		     icmp_describe(icmp[0], icmp[1], what, sizeof(what)));
	packet_checksum_field(fl, "icmp.checksum", get16(icmp + 2),
			      packet_icmp_checksum_expected(icmp, len));
	if (icmp[0] == ICMP_ECHO_REQUEST || icmp[0] == ICMP_ECHO_REPLY) {
		packet_field(fl, "icmp.id", "%u", get16(icmp + 4));
		packet_field(fl, "icmp.seq", "%u", get16(icmp + 6));
		packet_field(fl, "payload.len", "%zu", len - ICMP_HEADER_SIZE);
	} else if (icmp_is_error(icmp[0]) && len >= ICMP_HEADER_SIZE + IPV4_HEADER_MIN) {
		inner_fields(fl, icmp + ICMP_HEADER_SIZE, len - ICMP_HEADER_SIZE);
	}
}
