/*
 * packet6.c - IPv6 bytes: the strict parser's header, UDP and TCP parts,
 * the UDP builder, checksums over the pseudo-header and the dissector.
 * ICMPv6's part of each is in model/packet6_icmp.c.
 *
 * Decisions beyond packet6.h:
 *   - Extension headers are refused, not skipped. Skipping them right means
 *     walking a chain whose every element can lie about its length, and
 *     natsim neither sends them nor teaches with them yet; a refusal that
 *     names the header keeps the model honest until one is needed.
 *   - The parser checks the UDP checksum at every hop, as packet_parse does
 *     for IPv4 (a router in Linux does not; its conntrack calls a wrong
 *     non-zero sum INVALID in PREROUTING, nf_conntrack_proto_udp.c
 *     udp_error "bad checksum"). A zero one it lets through, flagged
 *     (udp_no_checksum), as conntrack does ("Packet with no checksum"): a
 *     Linux router forwards such a datagram and only the receiving stack
 *     drops it (model/host6.c; tests/lab/lab_router6.sh saw it happen).
 *   - TCP's header and options are read by packet_parse_tcp (packet_tcp.c),
 *     the IPv4 code, handed a view whose sums it must not check; this file
 *     checks the checksum over the IPv6 pseudo-header.
 *   - The IPv6 header has no checksum: decrementing the hop limit changes
 *     one byte and nothing else (RFC 8200 section 3).
 */
#include "model/packet6.h"

#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "model/packet6_internal.h"

/* ---- checksums ---- */

uint16_t packet6_checksum_expected(const struct ip6_addr *src, const struct ip6_addr *dst,
				   uint8_t next_header, const uint8_t *l4, size_t len,
				   size_t sum_off)
{
	uint32_t acc = packet_sum_words(0, src->b, 16);
	uint16_t c;

	acc = packet_sum_words(acc, dst->b, 16);
	acc += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff); /* 32-bit upper-layer length */
	acc += next_header;
	acc = packet_sum_words(acc, l4, sum_off);
	acc = packet_sum_words(acc, l4 + sum_off + 2, len - sum_off - 2);
	c = (uint16_t)~packet_fold(acc);
	/* RFC 8200 8.1: a computed UDP 0 is sent as ffff (0 means "none",
	 * which IPv6 does not allow); TCP and ICMPv6 send what they compute. */
	return c == 0 && next_header == IPPROTO_NUM_UDP ? 0xffff : c;
}

struct ip6_addr packet6_src_of(const uint8_t *hdr)
{
	struct ip6_addr a;

	memcpy(a.b, hdr + 8, 16);
	return a;
}

struct ip6_addr packet6_dst_of(const uint8_t *hdr)
{
	struct ip6_addr a;

	memcpy(a.b, hdr + 24, 16);
	return a;
}

static size_t sum_offset(uint8_t next_header)
{
	switch (next_header) {
	case IPPROTO_NUM_UDP:
		return UDP_SUM_OFF;
	case IPPROTO_NUM_TCP:
		return TCP6_SUM_OFF;
	case IPPROTO_NUM_ICMPV6:
		return ICMPV6_SUM_OFF;
	default:
		return 0;
	}
}

void packet6_fill_checksums(uint8_t *buf, size_t len)
{
	struct ip6_addr src, dst;
	size_t plen, off;

	if (len < IPV6_HEADER_SIZE || (buf[0] >> 4) != 6)
		return;
	plen = get16(buf + 4);
	off = sum_offset(buf[6]);
	if (off == 0 || plen > len - IPV6_HEADER_SIZE || plen < off + 2)
		return;
	if (buf[6] == IPPROTO_NUM_TCP && plen < TCP_HEADER_MIN)
		return;
	if (buf[6] == IPPROTO_NUM_UDP) {
		/* RFC 8200 8.1: UDP's upper-layer length is its own length field. */
		size_t udp_len = get16(buf + IPV6_HEADER_SIZE + 4);

		if (udp_len < UDP_HEADER_SIZE || udp_len > plen)
			return;
		plen = udp_len;
	}
	src = packet6_src_of(buf);
	dst = packet6_dst_of(buf);
	put16(buf + IPV6_HEADER_SIZE + off,
	      packet6_checksum_expected(&src, &dst, buf[6], buf + IPV6_HEADER_SIZE, plen, off));
}

/* ---- parser ---- */

/* RFC 8200 section 4.1's extension headers, and the IANA numbers of the
 * later ones (mobility RFC 6275, HIP RFC 7401, shim6 RFC 5533). */
static const char *extension_name(uint8_t nh)
{
	switch (nh) {
	case 0:
		return "Hop-by-Hop Options";
	case 43:
		return "Routing";
	case 44:
		return "Fragment";
	case 50:
		return "Encapsulating Security Payload";
	case 51:
		return "Authentication Header";
	case 60:
		return "Destination Options";
	case 135:
		return "Mobility";
	case 139:
		return "Host Identity Protocol";
	case 140:
		return "Shim6";
	default:
		return NULL;
	}
}

static int parse_header(const uint8_t *buf, size_t len, struct packet6_info *out, char *why,
			size_t ws)
{
	uint32_t first;

	if (len < IPV6_HEADER_SIZE)
		return packet_fail(why, ws, PACKET_ERR_IPV6_TRUNCATED,
				   "only %zu bytes received, fewer than the %d-byte IPv6 header",
				   len, IPV6_HEADER_SIZE);
	if ((buf[0] >> 4) != 6)
		return packet_fail(why, ws, PACKET_ERR_IPV6_VERSION,
				   "IP version field is %u, not 6", (unsigned)(buf[0] >> 4));
	out->ip_payload_len = get16(buf + 4);
	if ((size_t)out->ip_payload_len > len - IPV6_HEADER_SIZE)
		return packet_fail(why, ws, PACKET_ERR_IPV6_PAYLOAD_LENGTH,
				   "IPv6 payload length %u is larger than the %zu bytes received "
				   "after the header",
				   out->ip_payload_len, len - IPV6_HEADER_SIZE);
	first = get32(buf);
	out->traffic_class = (uint8_t)(first >> 20);
	out->flow_label = first & 0xfffff;
	out->next_header = buf[6];
	out->hop_limit = buf[7];
	out->src = packet6_src_of(buf);
	out->dst = packet6_dst_of(buf);
	out->l4_offset = IPV6_HEADER_SIZE;
	out->payload = buf + IPV6_HEADER_SIZE;
	out->payload_len = out->ip_payload_len;
	return PACKET_OK;
}

/* RFC 768 with RFC 8200 8.1: the UDP header, its length and its checksum,
 * right or absent (0). */
static int parse_udp(const uint8_t *buf, struct packet6_info *out, bool sums, char *why, size_t ws)
{
	const uint8_t *udp = buf + out->l4_offset;
	size_t room = out->payload_len;
	uint16_t udp_len, stored, expected;

	if (room < UDP_HEADER_SIZE)
		return packet_fail(why, ws, PACKET_ERR_UDP_TRUNCATED,
				   "IPv6 payload of %zu bytes is too short for the 8-byte UDP "
				   "header",
				   room);
	udp_len = get16(udp + 4);
	if (udp_len < UDP_HEADER_SIZE)
		return packet_fail(why, ws, PACKET_ERR_UDP_TRUNCATED,
				   "UDP length %u is smaller than the 8-byte UDP header", udp_len);
	if (udp_len > room)
		return packet_fail(why, ws, PACKET_ERR_UDP_TRUNCATED,
				   "UDP length %u is larger than the %zu-byte IPv6 payload",
				   udp_len, room);
	stored = get16(udp + 6);
	/* RFC 8200 8.1 forbids a zero ("none") checksum, but only the
	 * receiver enforces it (packet6.h): the datagram parses, flagged. */
	out->udp_no_checksum = stored == 0;
	expected = sums && stored != 0
		       ? packet6_checksum_expected(&out->src, &out->dst, IPPROTO_NUM_UDP, udp,
						   udp_len, UDP_SUM_OFF)
		       : stored;
	if (stored != expected)
		return packet_fail(why, ws, PACKET_ERR_UDP_CHECKSUM,
				   "UDP checksum is wrong (0x%04x, expected 0x%04x)", stored,
				   expected);
	out->sport = get16(udp);
	out->dport = get16(udp + 2);
	out->payload = udp + UDP_HEADER_SIZE;
	out->payload_len = (size_t)udp_len - UDP_HEADER_SIZE;
	return PACKET_OK;
}

/* RFC 9293 3.1 over IPv6: packet_parse_tcp reads the header and options;
 * the checksum is summed here over the IPv6 pseudo-header. */
static int parse_tcp(const uint8_t *buf, struct packet6_info *out, bool sums, char *why, size_t ws)
{
	struct packet_info v4 = {.l4_offset = out->l4_offset, .payload_len = out->payload_len};
	const uint8_t *tcp = buf + out->l4_offset;
	int err = packet_parse_tcp(buf, &v4, false, why, ws);

	if (err != PACKET_OK)
		return err;
	if (sums) {
		uint16_t stored = get16(tcp + TCP6_SUM_OFF);
		uint16_t expected = packet6_checksum_expected(&out->src, &out->dst, IPPROTO_NUM_TCP,
							      tcp, out->payload_len, TCP6_SUM_OFF);

		if (stored != expected)
			return packet_fail(why, ws, PACKET_ERR_TCP_CHECKSUM,
					   "TCP checksum is wrong (0x%04x, expected 0x%04x)",
					   stored, expected);
	}
	out->sport = v4.sport;
	out->dport = v4.dport;
	out->tcp_seq = v4.tcp_seq;
	out->tcp_ack = v4.tcp_ack;
	out->tcp_flags = v4.tcp_flags;
	out->tcp_header_len = v4.tcp_header_len;
	out->tcp_window = v4.tcp_window;
	out->tcp_opt = v4.tcp_opt;
	out->payload = v4.payload;
	out->payload_len = v4.payload_len;
	return PACKET_OK;
}

/* A next header natsim does not carry: an extension header is refused by
 * name; anything else leaves `out` filled for the dissector. */
static int refuse_next_header(const struct packet6_info *out, char *why, size_t ws)
{
	const char *ext = extension_name(out->next_header);

	if (ext != NULL)
		return packet_fail(why, ws, PACKET_ERR_IPV6_EXTENSION,
				   "next header %u is the %s extension header; IPv6 extension "
				   "headers are not modelled",
				   out->next_header, ext);
	if (out->next_header == IPPROTO_NUM_ICMP)
		return packet_fail(why, ws, PACKET_ERR_UNSUPPORTED,
				   "next header 1 is ICMP for IPv4; IPv6 carries ICMPv6 (58)");
	if (out->next_header == 59)
		return packet_fail(why, ws, PACKET_ERR_UNSUPPORTED,
				   "next header 59 (No Next Header): nothing follows the IPv6 "
				   "header, which natsim does not model");
	return packet_fail(why, ws, PACKET_ERR_UNSUPPORTED,
			   "next header %u is not modelled; only UDP (17), TCP (6) and ICMPv6 "
			   "(58) are",
			   out->next_header);
}

int packet6_parse(const uint8_t *buf, size_t len, struct packet6_info *out, char *why,
		  size_t why_size)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (why != NULL && why_size > 0)
		why[0] = '\0';
	err = parse_header(buf, len, out, why, why_size);
	if (err != PACKET_OK) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	switch (out->next_header) {
	case IPPROTO_NUM_UDP:
		err = parse_udp(buf, out, true, why, why_size);
		break;
	case IPPROTO_NUM_TCP:
		err = parse_tcp(buf, out, true, why, why_size);
		break;
	case IPPROTO_NUM_ICMPV6:
		err = packet6_parse_icmp(buf, out, true, why, why_size);
		break;
	default:
		err = refuse_next_header(out, why, why_size);
		if (err == PACKET_ERR_UNSUPPORTED)
			return err; /* `out` stays filled: the dissector names it */
	}
	if (err != PACKET_OK)
		memset(out, 0, sizeof(*out)); /* no half-filled view */
	return err;
}

/* ---- builders ---- */

void packet6_header(uint8_t *buf, uint32_t flow_label, uint16_t payload_len, uint8_t next_header,
		    uint8_t hop_limit, const struct ip6_addr *src, const struct ip6_addr *dst)
{
	put32(buf, (uint32_t)6 << 28 | (flow_label & 0xfffff)); /* traffic class 0 */
	put16(buf + 4, payload_len);
	buf[6] = next_header;
	buf[7] = hop_limit;
	memcpy(buf + 8, src->b, 16);
	memcpy(buf + 24, dst->b, 16);
}

size_t packet6_build_udp(uint8_t *buf, size_t cap, const struct endpoint6 *src,
			 const struct endpoint6 *dst, uint8_t hop_limit, uint32_t flow_label,
			 const void *payload, size_t payload_len)
{
	size_t total = IPV6_HEADER_SIZE + UDP_HEADER_SIZE + payload_len;
	uint8_t *udp = buf + IPV6_HEADER_SIZE;

	if (payload_len > 0xffff - UDP_HEADER_SIZE || total > cap)
		return 0;
	packet6_header(buf, flow_label, (uint16_t)(UDP_HEADER_SIZE + payload_len), IPPROTO_NUM_UDP,
		       hop_limit, &src->ip, &dst->ip);
	put16(udp, src->port);
	put16(udp + 2, dst->port);
	put16(udp + 4, (uint16_t)(UDP_HEADER_SIZE + payload_len));
	put16(udp + 6, 0);
	if (payload_len > 0)
		memcpy(udp + UDP_HEADER_SIZE, payload, payload_len);
	packet6_fill_checksums(buf, total);
	return total;
}

size_t packet6_build_tcp(uint8_t *buf, size_t cap, const struct endpoint6 *src,
			 const struct endpoint6 *dst, uint8_t hop_limit, uint32_t flow_label,
			 const struct tcp_segment *seg)
{
	size_t tcp_len;

	if (seg->payload_len > 0xffff - TCP_HEADER_MAX || cap < IPV6_HEADER_SIZE)
		return 0;
	tcp_len = packet_tcp_write(buf + IPV6_HEADER_SIZE, cap - IPV6_HEADER_SIZE, src->port,
				   dst->port, seg);
	if (tcp_len == 0)
		return 0;
	packet6_header(buf, flow_label, (uint16_t)tcp_len, IPPROTO_NUM_TCP, hop_limit, &src->ip,
		       &dst->ip);
	packet6_fill_checksums(buf, IPV6_HEADER_SIZE + tcp_len);
	return IPV6_HEADER_SIZE + tcp_len;
}

void packet6_set_flow_label(uint8_t *buf, size_t len, uint32_t label)
{
	if (len < IPV6_HEADER_SIZE)
		return;
	buf[1] = (uint8_t)((buf[1] & 0xf0) | ((label >> 16) & 0x0f));
	buf[2] = (uint8_t)(label >> 8);
	buf[3] = (uint8_t)label;
}

uint8_t packet6_decrement_hop_limit(uint8_t *buf, size_t len)
{
	if (len < IPV6_HEADER_SIZE || buf[7] == 0)
		return 0;
	return --buf[7];
}

/* ---- dissector ---- */

struct verdict_flow packet6_flow_of(const struct packet6_info *info)
{
	return (struct verdict_flow){
	    .form = VERDICT_FLOW_PARSED,
	    .ip_version = 6,
	    .proto = info->next_header,
	    .ttl = info->hop_limit,
	    .src6 = info->src,
	    .dst6 = info->dst,
	    .sport = info->sport,
	    .dport = info->dport,
	    .len = IPV6_HEADER_SIZE + (size_t)info->ip_payload_len,
	    .icmp_type = info->icmp_type,
	    .icmp_code = info->icmp_code,
	    .tcp_flags = info->next_header == IPPROTO_NUM_TCP ? info->tcp_flags : 0};
}

struct verdict_flow packet6_flow_of_bytes(const uint8_t *buf, size_t len)
{
	struct packet6_info info;

	if (packet6_parse(buf, len, &info, NULL, 0) == PACKET_OK)
		return packet6_flow_of(&info);
	if (len >= IPV6_HEADER_SIZE)
		return (struct verdict_flow){.form = VERDICT_FLOW_ADDRESSES,
					     .ip_version = 6,
					     .proto = buf[6],
					     .ttl = buf[7],
					     .src6 = packet6_src_of(buf),
					     .dst6 = packet6_dst_of(buf),
					     .len = len};
	return (struct verdict_flow){.form = VERDICT_FLOW_UNREADABLE, .ip_version = 6, .len = len};
}

char *packet6_flow_format(const struct packet6_info *info, bool ascii, char *out, size_t size)
{
	struct endpoint6 s = {info->src, info->sport}, d = {info->dst, info->dport};
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE];
	const char *arrow = ascii ? "->" : "\xe2\x86\x92";

	if (info->next_header == IPPROTO_NUM_ICMPV6)
		snprintf(out, size, "%s %s %s", ip6_format(&info->src, a, sizeof(a)), arrow,
			 ip6_format(&info->dst, b, sizeof(b)));
	else
		snprintf(out, size, "%s %s %s", endpoint6_format(&s, a, sizeof(a)), arrow,
			 endpoint6_format(&d, b, sizeof(b)));
	return out;
}

static void tcp_summary(const struct packet6_info *pi, const char *flow, char *out, size_t size,
			size_t *pos)
{
	char flags[48];

	packet_append(out, size, pos, "TCP %s [%s] seq=%u", flow,
		      tcp_flags_format(pi->tcp_flags, flags, sizeof(flags)), pi->tcp_seq);
	if (pi->tcp_flags & TCP_ACK)
		packet_append(out, size, pos, " ack=%u", pi->tcp_ack);
	packet_append(out, size, pos, " win=%u len=%zu hlim=%u", pi->tcp_window, pi->payload_len,
		      pi->hop_limit);
}

int packet6_summary(const uint8_t *buf, size_t len, payload_summary_fn payload, bool ascii,
		    char *out, size_t size)
{
	struct packet6_info pi;
	char flow[2 * ENDPOINT6_TEXT_SIZE + 8], sub[256];
	const char *arrow = ascii ? "->" : "\xe2\x86\x92";
	size_t pos = 0;
	int err = packet6_parse(buf, len, &pi, NULL, 0);

	if (size > 0)
		out[0] = '\0';
	if (err != PACKET_OK && err != PACKET_ERR_UNSUPPORTED) {
		packet_append(out, size, &pos, "malformed: %s", packet_error_str(err));
		return (int)pos;
	}
	packet6_flow_format(&pi, ascii, flow, sizeof(flow));
	if (err == PACKET_ERR_UNSUPPORTED) {
		char a[IP6_TEXT_SIZE], b[IP6_TEXT_SIZE];

		packet_append(out, size, &pos, "next header %u %s %s %s len=%zu hlim=%u",
			      pi.next_header, ip6_format(&pi.src, a, sizeof(a)), arrow,
			      ip6_format(&pi.dst, b, sizeof(b)), pi.payload_len, pi.hop_limit);
	} else if (pi.next_header == IPPROTO_NUM_ICMPV6) {
		packet6_icmp_summary(&pi, arrow, out, size, &pos);
	} else if (pi.next_header == IPPROTO_NUM_TCP) {
		tcp_summary(&pi, flow, out, size, &pos);
	} else {
		packet_append(out, size, &pos, "UDP %s len=%zu hlim=%u", flow, pi.payload_len,
			      pi.hop_limit);
		if (payload != NULL) {
			int n = payload(pi.payload, pi.payload_len, sub, sizeof(sub));

			if (n > 0) {
				sub[sizeof(sub) - 1] = '\0';
				packet_append(out, size, &pos, " [%s]", sub);
			}
		}
	}
	return (int)pos;
}

/* The fixed header; len >= 40 is known. */
static void header_fields(struct field_list *fl, const uint8_t *buf)
{
	uint32_t first = get32(buf);
	struct ip6_addr s = packet6_src_of(buf), d = packet6_dst_of(buf);
	char a[IP6_TEXT_SIZE];
	const char *name = packet_proto_name(buf[6]);

	if (buf[6] == IPPROTO_NUM_ICMPV6)
		name = "ICMPv6";
	else if (buf[6] == IPPROTO_NUM_ICMP)
		name = "ICMP for IPv4";
	else if (name == NULL)
		name = extension_name(buf[6]);
	packet_field(fl, "ipv6.version", "%u", (unsigned)(first >> 28));
	packet_field(fl, "ipv6.tclass", "0x%02x", (unsigned)(first >> 20) & 0xff);
	packet_field(fl, "ipv6.flow", "0x%05x", (unsigned)(first & 0xfffff));
	packet_field(fl, "ipv6.plen", "%u", get16(buf + 4));
	packet_field(fl, "ipv6.nxt", "%u%s%s%s", buf[6], name ? " (" : "", name ? name : "",
		     name ? ")" : "");
	packet_field(fl, "ipv6.hlim", "%u", buf[7]);
	packet_field(fl, "ipv6.src", "%s", ip6_format(&s, a, sizeof(a)));
	packet_field(fl, "ipv6.dst", "%s", ip6_format(&d, a, sizeof(a)));
}

static void udp_fields(struct field_list *fl, const uint8_t *buf, size_t ip_end)
{
	const uint8_t *udp = buf + IPV6_HEADER_SIZE;
	uint16_t udp_len = get16(udp + 4), stored = get16(udp + 6);
	struct ip6_addr s = packet6_src_of(buf), d = packet6_dst_of(buf);
	bool len_ok = udp_len >= UDP_HEADER_SIZE && udp_len <= ip_end - IPV6_HEADER_SIZE;

	packet_field(fl, "udp.sport", "%u", get16(udp));
	packet_field(fl, "udp.dport", "%u", get16(udp + 2));
	packet_field(fl, "udp.len", "%u", udp_len);
	if (stored == 0)
		packet_field(fl, "udp.checksum", "0x0000 [missing: IPv6 requires one]");
	else if (!len_ok)
		packet_field(fl, "udp.checksum", "0x%04x [unverified]", stored);
	else
		packet_checksum_field(
		    fl, "udp.checksum", stored,
		    packet6_checksum_expected(&s, &d, IPPROTO_NUM_UDP, udp, udp_len, UDP_SUM_OFF));
	if (len_ok)
		packet_field(fl, "payload.len", "%u", (unsigned)(udp_len - UDP_HEADER_SIZE));
}

/* TCP's fields as IPv4's dissector gives them, the checksum over the IPv6
 * pseudo-header (RFC 8200 8.1). */
static void tcp6_fields(struct field_list *fl, const uint8_t *buf, size_t ip_end)
{
	const uint8_t *tcp = buf + IPV6_HEADER_SIZE;
	size_t room = ip_end - IPV6_HEADER_SIZE;
	struct ip6_addr s = packet6_src_of(buf), d = packet6_dst_of(buf);

	packet_tcp_fields(
	    fl, tcp, room,
	    packet6_checksum_expected(&s, &d, IPPROTO_NUM_TCP, tcp, room, TCP6_SUM_OFF));
}

/* Every field within the bytes, even of a malformed packet. */
size_t packet6_fields(const uint8_t *buf, size_t len, struct packet_field *out, size_t max)
{
	struct field_list fl = {out, max, 0};
	struct packet6_info pi;
	size_t ip_end, room;
	int err = packet6_parse(buf, len, &pi, NULL, 0);

	if (err != PACKET_OK)
		packet_field(&fl, "error", "%s", packet_error_str(err));
	if (len < IPV6_HEADER_SIZE)
		return fl.n;
	header_fields(&fl, buf);
	ip_end = IPV6_HEADER_SIZE + (size_t)get16(buf + 4);
	if (ip_end > len)
		ip_end = len;
	room = ip_end - IPV6_HEADER_SIZE;
	if (buf[6] == IPPROTO_NUM_UDP && room >= UDP_HEADER_SIZE)
		udp_fields(&fl, buf, ip_end);
	if (buf[6] == IPPROTO_NUM_TCP && room >= TCP_HEADER_MIN)
		tcp6_fields(&fl, buf, ip_end);
	if (buf[6] == IPPROTO_NUM_ICMPV6 && room >= ICMPV6_HEADER_SIZE)
		packet6_icmp_fields(&fl, buf, ip_end);
	return fl.n;
}
