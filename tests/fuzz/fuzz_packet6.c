/*
 * fuzz_packet6.c - libFuzzer target: the IPv6 packet parser
 * (model/packet6.c) and, on the same bytes read as text, the IPv6 address
 * parsers (base/addr6.c).
 *
 * Any bytes are an IPv6 packet arriving at a node. Parsing, the summary
 * (with the STUN summariser, as the timeline will use it) and the field
 * dissector must never read outside the buffer, and every refusal has a
 * sentence. A packet the parser accepts must keep its payload inside the
 * buffer, still parse after a hop (hop limit decremented: no checksum to
 * fix), and a UDP one with traffic class 0 must come back byte for byte
 * from packet6_build_udp fed with what was parsed: the checksum the builder
 * writes is the only non-zero one the parser accepts. A zero one parses
 * flagged (udp_no_checksum: routers forward it, receivers drop it); the
 * same bytes with the builder's checksum written in then parse unflagged.
 *
 * As text: an address that parses formats to text that parses to the same
 * address; a refusal points inside the text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/packet6.h"
#include "p2p/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dissect(const uint8_t *buf, size_t len)
{
	struct packet_field fields[40];
	char out[512];

	(void)packet6_summary(buf, len, stun_summary, false, out, sizeof(out));
	(void)packet6_summary(buf, len, NULL, true, out, 16);
	(void)packet6_fields(buf, len, fields, 40);
	(void)packet6_fields(buf, len, fields, 3);
}

/* One hop: the hop limit down by one, the rest unchanged. */
static void forward(const uint8_t *data, size_t size, const struct packet6_info *before)
{
	struct packet6_info after;
	uint8_t *copy = malloc(size);

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	(void)packet6_decrement_hop_limit(copy, size);
	if (packet6_parse(copy, size, &after, NULL, 0) != PACKET_OK)
		abort();
	if (after.hop_limit != (before->hop_limit ? before->hop_limit - 1 : 0) ||
	    after.sport != before->sport || after.dport != before->dport)
		abort();
	free(copy);
}

/* A UDP packet rebuilt from its parse is the same bytes. */
static void rebuild_udp(const uint8_t *data, const struct packet6_info *pi)
{
	struct endpoint6 s = {pi->src, pi->sport}, d = {pi->dst, pi->dport};
	size_t want = IPV6_HEADER_SIZE + pi->ip_payload_len;
	uint8_t *buf;

	if (pi->next_header != IPPROTO_NUM_UDP || pi->traffic_class != 0 ||
	    pi->payload_len + UDP_HEADER_SIZE != pi->ip_payload_len)
		return;
	buf = malloc(want);
	if (buf == NULL)
		return;
	if (packet6_build_udp(buf, want, &s, &d, pi->hop_limit, pi->flow_label, pi->payload,
			      pi->payload_len) != want)
		abort();
	if (pi->udp_no_checksum) { /* the only bytes that may differ: the sum */
		struct packet6_info summed;

		if (packet6_parse(buf, want, &summed, NULL, 0) != PACKET_OK ||
		    summed.udp_no_checksum)
			abort();
		buf[IPV6_HEADER_SIZE + 6] = buf[IPV6_HEADER_SIZE + 7] = 0;
	}
	if (memcmp(buf, data, want) != 0)
		abort();
	free(buf);
}

static void check_packet(const uint8_t *data, size_t size)
{
	struct packet6_info info;
	char why[256] = "", flow[160];
	int rc;

	dissect(data, size);
	rc = packet6_parse(data, size, &info, why, sizeof(why));
	if (rc != PACKET_OK) {
		if (why[0] == '\0')
			abort(); /* every refusal has a reason */
		return;
	}
	(void)packet6_flow_format(&info, false, flow, sizeof(flow));
	if (info.payload_len > 0 &&
	    (info.payload < data || info.payload + info.payload_len > data + size))
		abort();
	if (info.icmp_error && info.inner.offset + info.inner.len > size)
		abort();
	if (info.udp_no_checksum !=
	    (info.next_header == IPPROTO_NUM_UDP && data[info.l4_offset + 6] == 0 &&
	     data[info.l4_offset + 7] == 0))
		abort();
	forward(data, size, &info);
	rebuild_udp(data, &info);
}

static void check_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), text[IP6_TEXT_SIZE];
	struct ip6_addr a, b;
	struct endpoint6 ep;
	uint8_t len;
	size_t at = 0, n;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);
	if (ip6_parse(s, &a, &at) == IP6_OK) {
		if (ip6_parse(ip6_format(&a, text, sizeof(text)), &b, NULL) != IP6_OK ||
		    !ip6_equal(&a, &b))
			abort();
		if (ip6_parse(ip6_format_as_inet_ntop(&a, text, sizeof(text)), &b, NULL) !=
			IP6_OK ||
		    !ip6_equal(&a, &b))
			abort();
	} else if (at > n) {
		abort();
	}
	if (ip6_prefix_parse(s, &a, &len, &at) == IP6_OK &&
	    (len > 128 || !ip6_prefix_match(&a, len, &a)))
		abort();
	else if (at > n)
		abort();
	if (endpoint6_parse(s, &ep, &at) != IP6_OK && at > n)
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_packet(data, size);
	if (size <= 80)
		check_text(data, size);
	return 0;
}
