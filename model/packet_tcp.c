/*
 * packet_tcp.c - TCP (RFC 9293) as bytes: the parser's TCP part with its
 * options walk, the checksum over the IPv4 pseudo-header, the builder that
 * writes options as Linux does, the port rewrite a NAT makes, and the
 * dissector's words. The other files of the packet module are
 * model/packet.c and model/packet_icmp.c (model/packet_internal.h).
 *
 * Where natsim is stricter than Linux, on purpose: Linux's
 * tcp_parse_options() stops reading at an option whose length is below 2 or
 * runs past the header, and skips a known option of the wrong size, yet
 * accepts the segment. natsim refuses such a segment with a sentence saying
 * which option is wrong (the issue asks that bad options be dropped with a
 * reason; Wireshark flags the same bytes as malformed). Everything Linux
 * does refuse (a data offset below 5 words or beyond the segment, a wrong
 * checksum: tcp_v4_rcv) natsim refuses too.
 */
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "model/packet.h"
#include "model/packet_internal.h"

#define TCP_SUM_OFF 16

/* RFC 9293 3.2 and RFC 7323: the one size each known option may have (SACK:
 * 2 plus 8 per block, 1 to 4 blocks, RFC 2018 3). */
#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_BLOCK 8

/* Linux's defaults for a SYN over Ethernet (tcp_syn_options,
 * tcp_select_initial_window with tcp_rmem[2] = 6 MB). */
#define LINUX_SYN_MSS 1460
#define LINUX_SYN_WSCALE 7

void tcp_options_linux_syn(struct tcp_options *out, uint32_t ts_val)
{
	memset(out, 0, sizeof(*out));
	out->seen = TCP_OPT_SEEN(TCP_OPT_MSS) | TCP_OPT_SEEN(TCP_OPT_SACK_PERM) |
		    TCP_OPT_SEEN(TCP_OPT_TIMESTAMP) | TCP_OPT_SEEN(TCP_OPT_WSCALE);
	out->mss = LINUX_SYN_MSS;
	out->wscale = LINUX_SYN_WSCALE;
	out->ts_val = ts_val;
}

const char *tcp_flags_format(uint8_t flags, char *out, size_t size)
{
	static const char *const names[8] = {"FIN", "SYN", "RST", "PSH",
					     "ACK", "URG", "ECE", "CWR"};
	size_t pos = 0;

	if (size > 0)
		out[0] = '\0';
	for (int i = 0; i < 8; i++) {
		if (flags & (1u << i))
			packet_append(out, size, &pos, "%s%s", pos > 0 ? ", " : "", names[i]);
	}
	if (pos == 0)
		packet_append(out, size, &pos, "<none>");
	return out;
}

/* ---- checksum ---- */

uint16_t packet_tcp_checksum_expected(uint32_t src, uint32_t dst, const uint8_t *tcp,
				      size_t tcp_len)
{
	uint32_t acc = 0;

	acc += src >> 16;
	acc += src & 0xffff;
	acc += dst >> 16;
	acc += dst & 0xffff;
	acc += IPPROTO_NUM_TCP;
	acc += (uint32_t)tcp_len;
	acc = packet_sum_words(acc, tcp, TCP_SUM_OFF);
	acc = packet_sum_words(acc, tcp + TCP_SUM_OFF + 2, tcp_len - TCP_SUM_OFF - 2);
	return (uint16_t)~packet_fold(acc);
}

/* ---- parser ---- */

static const char *option_name(uint8_t kind)
{
	switch (kind) {
	case TCP_OPT_MSS:
		return "MSS";
	case TCP_OPT_WSCALE:
		return "window scale";
	case TCP_OPT_SACK_PERM:
		return "SACK permitted";
	case TCP_OPT_SACK:
		return "SACK";
	case TCP_OPT_TIMESTAMP:
		return "timestamps";
	default:
		return NULL;
	}
}

static bool option_size_ok(uint8_t kind, size_t olen)
{
	switch (kind) {
	case TCP_OPT_MSS:
		return olen == TCPOLEN_MSS;
	case TCP_OPT_WSCALE:
		return olen == TCPOLEN_WSCALE;
	case TCP_OPT_SACK_PERM:
		return olen == TCPOLEN_SACK_PERM;
	case TCP_OPT_TIMESTAMP:
		return olen == TCPOLEN_TIMESTAMP;
	case TCP_OPT_SACK:
		return olen >= TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK &&
		       olen <= TCPOLEN_SACK_BASE + 4 * TCPOLEN_SACK_BLOCK &&
		       (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK == 0;
	default:
		return true; /* an unknown kind is walked over by its length */
	}
}

/* A known option of the right size, recorded. */
static void option_record(const uint8_t *o, size_t olen, struct tcp_options *out)
{
	out->seen |= (uint16_t)TCP_OPT_SEEN(o[0]);
	switch (o[0]) {
	case TCP_OPT_MSS:
		out->mss = get16(o + 2);
		break;
	case TCP_OPT_WSCALE:
		out->wscale = o[2];
		break;
	case TCP_OPT_TIMESTAMP:
		out->ts_val = get32(o + 2);
		out->ts_ecr = get32(o + 6);
		break;
	case TCP_OPT_SACK:
		out->sack_blocks = (uint8_t)((olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLOCK);
		break;
	default:
		break;
	}
}

/* RFC 9293 3.2: options run from byte 20 to the data offset; EOL ends them
 * (the rest is padding), NOP is one byte, every other kind has a length
 * byte counting itself and the kind. */
static int parse_options(const uint8_t *o, size_t n, struct tcp_options *out, char *why, size_t ws)
{
	size_t i = 0;

	while (i < n && o[i] != TCP_OPT_EOL) {
		uint8_t kind = o[i];
		const char *name = option_name(kind);
		size_t olen;

		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return packet_fail(why, ws, PACKET_ERR_TCP_OPTION,
					   "TCP option kind %u at header byte %zu has no room for "
					   "its length byte",
					   kind, TCP_HEADER_MIN + i);
		olen = o[i + 1];
		if (olen < 2)
			return packet_fail(why, ws, PACKET_ERR_TCP_OPTION,
					   "TCP option kind %u at header byte %zu has length %zu, "
					   "below the minimum of 2",
					   kind, TCP_HEADER_MIN + i, olen);
		if (olen > n - i)
			return packet_fail(why, ws, PACKET_ERR_TCP_OPTION,
					   "TCP option kind %u at header byte %zu has length %zu, "
					   "running past the %zu-byte header",
					   kind, TCP_HEADER_MIN + i, olen, TCP_HEADER_MIN + n);
		if (!option_size_ok(kind, olen))
			return packet_fail(why, ws, PACKET_ERR_TCP_OPTION,
					   "TCP %s option at header byte %zu has length %zu, not "
					   "the size its RFC fixes",
					   name, TCP_HEADER_MIN + i, olen);
		if (name != NULL)
			option_record(o + i, olen, out);
		i += olen;
	}
	return PACKET_OK;
}

int packet_parse_tcp(const uint8_t *buf, struct packet_info *out, bool sums, char *why, size_t ws)
{
	const uint8_t *tcp = buf + out->l4_offset;
	size_t room = out->payload_len, hlen;
	int err;

	if (room < TCP_HEADER_MIN)
		return packet_fail(
		    why, ws, PACKET_ERR_TCP_TRUNCATED,
		    "IP payload of %zu bytes is too short for the 20-byte TCP header", room);
	hlen = (size_t)(tcp[12] >> 4) * 4;
	if (hlen < TCP_HEADER_MIN)
		return packet_fail(why, ws, PACKET_ERR_TCP_OFFSET,
				   "TCP data offset is %zu words (%zu bytes), below the minimum "
				   "of 5 words (20 bytes)",
				   hlen / 4, hlen);
	if (hlen > room)
		return packet_fail(why, ws, PACKET_ERR_TCP_OFFSET,
				   "TCP data offset %zu bytes is larger than the %zu-byte IP "
				   "payload",
				   hlen, room);
	if (sums) {
		uint16_t stored = get16(tcp + TCP_SUM_OFF);
		uint16_t expected = packet_tcp_checksum_expected(out->src, out->dst, tcp, room);

		if (stored != expected)
			return packet_fail(why, ws, PACKET_ERR_TCP_CHECKSUM,
					   "TCP checksum is wrong (0x%04x, expected 0x%04x)",
					   stored, expected);
	}
	err = parse_options(tcp + TCP_HEADER_MIN, hlen - TCP_HEADER_MIN, &out->tcp_opt, why, ws);
	if (err != PACKET_OK)
		return err;
	out->sport = get16(tcp);
	out->dport = get16(tcp + 2);
	out->tcp_seq = get32(tcp + 4);
	out->tcp_ack = get32(tcp + 8);
	out->tcp_flags = tcp[13];
	out->tcp_header_len = (uint8_t)hlen;
	out->tcp_window = get16(tcp + 14);
	out->payload = tcp + hlen;
	out->payload_len = room - hlen;
	return PACKET_OK;
}

/* ---- builder ---- */

/* Linux's tcp_options_write order: MSS; timestamps, led by SACK permitted
 * when both are on (else by two NOPs); SACK permitted alone after two NOPs;
 * window scale after one NOP. Every option ends on a 4-byte boundary. SACK
 * blocks are not written (natsim sends none yet). */
static size_t write_options(uint8_t *o, const struct tcp_options *opt)
{
	size_t n = 0;
	bool ts = opt->seen & TCP_OPT_SEEN(TCP_OPT_TIMESTAMP);
	bool sack = opt->seen & TCP_OPT_SEEN(TCP_OPT_SACK_PERM);

	if (opt->seen & TCP_OPT_SEEN(TCP_OPT_MSS)) {
		o[n++] = TCP_OPT_MSS;
		o[n++] = TCPOLEN_MSS;
		put16(o + n, opt->mss);
		n += 2;
	}
	if (ts) {
		o[n++] = sack ? TCP_OPT_SACK_PERM : TCP_OPT_NOP;
		o[n++] = sack ? TCPOLEN_SACK_PERM : TCP_OPT_NOP;
		o[n++] = TCP_OPT_TIMESTAMP;
		o[n++] = TCPOLEN_TIMESTAMP;
		put32(o + n, opt->ts_val);
		put32(o + n + 4, opt->ts_ecr);
		n += 8;
	} else if (sack) {
		o[n++] = TCP_OPT_NOP;
		o[n++] = TCP_OPT_NOP;
		o[n++] = TCP_OPT_SACK_PERM;
		o[n++] = TCPOLEN_SACK_PERM;
	}
	if (opt->seen & TCP_OPT_SEEN(TCP_OPT_WSCALE)) {
		o[n++] = TCP_OPT_NOP;
		o[n++] = TCP_OPT_WSCALE;
		o[n++] = TCPOLEN_WSCALE;
		o[n++] = opt->wscale;
	}
	return n;
}

size_t packet_tcp_write(uint8_t *tcp, size_t cap, uint16_t sport, uint16_t dport,
			const struct tcp_segment *seg)
{
	uint8_t opts[TCP_HEADER_MAX - TCP_HEADER_MIN];
	size_t olen = seg->opt != NULL ? write_options(opts, seg->opt) : 0;
	size_t hlen = TCP_HEADER_MIN + olen;

	if (hlen + seg->payload_len > cap)
		return 0;
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seg->seq);
	put32(tcp + 8, seg->ack);
	tcp[12] = (uint8_t)((hlen / 4) << 4);
	tcp[13] = seg->flags;
	put16(tcp + 14, seg->window);
	put32(tcp + 16, 0); /* checksum, urgent pointer */
	memcpy(tcp + TCP_HEADER_MIN, opts, olen);
	if (seg->payload_len > 0)
		memcpy(tcp + hlen, seg->payload, seg->payload_len);
	return hlen + seg->payload_len;
}

size_t packet_build_tcp(uint8_t *buf, size_t cap, const struct endpoint *src,
			const struct endpoint *dst, uint8_t ttl, uint16_t ip_id,
			const struct tcp_segment *seg)
{
	size_t tcp_len, total;

	if (seg->payload_len > 0xffff - IPV4_HEADER_MIN - TCP_HEADER_MAX || cap < IPV4_HEADER_MIN)
		return 0;
	tcp_len = packet_tcp_write(buf + IPV4_HEADER_MIN, cap - IPV4_HEADER_MIN, src->port,
				   dst->port, seg);
	if (tcp_len == 0)
		return 0;
	total = IPV4_HEADER_MIN + tcp_len;
	buf[0] = 0x45;
	buf[1] = 0;
	put16(buf + 2, (uint16_t)total);
	put16(buf + 4, ip_id);
	put16(buf + 6, 0x4000); /* DF: Linux does path MTU discovery on TCP */
	buf[8] = ttl;
	buf[9] = IPPROTO_NUM_TCP;
	put16(buf + 10, 0);
	put32(buf + 12, src->ip);
	put32(buf + 16, dst->ip);
	packet_fill_checksums(buf, total);
	return total;
}

/* ---- rewrite ---- */

void packet_rewrite_tcp(uint8_t *tcp, size_t len, size_t tcp_off, uint32_t old_ip, uint32_t new_ip,
			uint16_t port)
{
	uint16_t old_port = get16(tcp + tcp_off), sum;

	put16(tcp + tcp_off, port);
	/* nf_nat_proto.c tcp_manip_pkt: an ICMP error may quote only the
	 * first 8 bytes, and then the checksum is not there to fix. */
	if (len < TCP_SUM_OFF + 2)
		return;
	sum = get16(tcp + TCP_SUM_OFF);
	sum = checksum_adjust32(sum, old_ip, new_ip);
	sum = checksum_adjust16(sum, old_port, port);
	put16(tcp + TCP_SUM_OFF, sum);
}

/* ---- dissector ---- */

void packet_tcp_summary(const struct packet_info *pi, const char *arrow, char *out, size_t size,
			size_t *pos)
{
	struct endpoint s = {pi->src, pi->sport}, d = {pi->dst, pi->dport};
	char a[24], b[24], flags[48];

	packet_append(out, size, pos, "TCP %s %s %s [%s] seq=%u", endpoint_format(&s, a, sizeof(a)),
		      arrow, endpoint_format(&d, b, sizeof(b)),
		      tcp_flags_format(pi->tcp_flags, flags, sizeof(flags)), pi->tcp_seq);
	if (pi->tcp_flags & TCP_ACK)
		packet_append(out, size, pos, " ack=%u", pi->tcp_ack);
	packet_append(out, size, pos, " win=%u len=%zu ttl=%u", pi->tcp_window, pi->payload_len,
		      pi->ttl);
}

/* tcpdump's words for the options ("mss 1460,sackOK,TS val 1 ecr 0,nop,
 * wscale 7"), as far as they can be walked. */
static void options_words(const uint8_t *o, size_t n, char *out, size_t size)
{
	size_t i = 0, pos = 0;

	out[0] = '\0';
	while (i < n) {
		uint8_t kind = o[i];
		size_t olen = kind == TCP_OPT_EOL || kind == TCP_OPT_NOP ? 1 : 0;
		const char *sep = pos > 0 ? "," : "";

		if (olen == 0 && (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i)) {
			packet_append(out, size, &pos, "%s[bad opt]", sep);
			return;
		}
		olen = olen ? olen : o[i + 1];
		if (kind == TCP_OPT_EOL) {
			packet_append(out, size, &pos, "%seol", sep);
			return;
		} else if (kind == TCP_OPT_NOP)
			packet_append(out, size, &pos, "%snop", sep);
		else if (kind == TCP_OPT_MSS && olen == TCPOLEN_MSS)
			packet_append(out, size, &pos, "%smss %u", sep, get16(o + i + 2));
		else if (kind == TCP_OPT_WSCALE && olen == TCPOLEN_WSCALE)
			packet_append(out, size, &pos, "%swscale %u", sep, o[i + 2]);
		else if (kind == TCP_OPT_SACK_PERM && olen == TCPOLEN_SACK_PERM)
			packet_append(out, size, &pos, "%ssackOK", sep);
		else if (kind == TCP_OPT_TIMESTAMP && olen == TCPOLEN_TIMESTAMP)
			packet_append(out, size, &pos, "%sTS val %u ecr %u", sep, get32(o + i + 2),
				      get32(o + i + 6));
		else
			packet_append(out, size, &pos, "%sopt-%u:%zu", sep, kind, olen);
		i += olen;
	}
}

void packet_tcp_fields(struct field_list *fl, const uint8_t *tcp, size_t room,
		       uint16_t expected_sum)
{
	size_t hlen = (size_t)(tcp[12] >> 4) * 4;
	char words[64];

	packet_field(fl, "tcp.sport", "%u", get16(tcp));
	packet_field(fl, "tcp.dport", "%u", get16(tcp + 2));
	packet_field(fl, "tcp.seq", "%u", get32(tcp + 4));
	packet_field(fl, "tcp.ack", "%u", get32(tcp + 8));
	packet_field(fl, "tcp.hdr_len", "%zu bytes (%zu words)", hlen, hlen / 4);
	packet_field(fl, "tcp.flags", "0x%03x [%s]", (unsigned)(get16(tcp + 12) & 0x01ff),
		     tcp_flags_format(tcp[13], words, sizeof(words)));
	packet_field(fl, "tcp.window", "%u", get16(tcp + 14));
	if (hlen >= TCP_HEADER_MIN && hlen <= room)
		packet_checksum_field(fl, "tcp.checksum", get16(tcp + TCP_SUM_OFF), expected_sum);
	else
		packet_field(fl, "tcp.checksum", "0x%04x [unverified]", get16(tcp + TCP_SUM_OFF));
	packet_field(fl, "tcp.urgent", "%u", get16(tcp + 18));
	if (hlen < TCP_HEADER_MIN || hlen > room)
		return;
	if (hlen > TCP_HEADER_MIN) {
		options_words(tcp + TCP_HEADER_MIN, hlen - TCP_HEADER_MIN, words, sizeof(words));
		packet_field(fl, "tcp.options", "%s", words);
	}
	packet_field(fl, "payload.len", "%zu", room - hlen);
}
