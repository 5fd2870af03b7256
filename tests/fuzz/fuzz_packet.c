/*
 * fuzz_packet.c - libFuzzer target: the packet parser (model/packet.c).
 *
 * Any bytes are a packet arriving at a node. Parsing, the summary (with the
 * STUN summariser, as the timeline uses it) and the field dissector must
 * never read outside the buffer. A
 * packet the parser accepts is then translated as a NAT translates it (both
 * endpoints rewritten, TTL decremented, checksums adjusted incrementally per
 * RFC 1624): it must still parse, with the new endpoints.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/packet.h"
#include "p2p/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dissect(const uint8_t *buf, size_t len)
{
	struct packet_field fields[32];
	char out[512];

	(void)packet_summary(buf, len, stun_summary, false, out, sizeof(out));
	(void)packet_summary(buf, len, NULL, true, out, 16);
	(void)packet_fields(buf, len, fields, 32);
	(void)packet_fields(buf, len, fields, 3);
}

/* Translate an accepted packet as a NAT would; it must stay acceptable. */
static void translate(uint8_t *buf, size_t len, const struct packet_info *before)
{
	static const struct endpoint src = {0xCB007107u, 61000}, dst = {0xC0A80105u, 5000};
	struct packet_info after;
	char why[256];

	packet_rewrite_src(buf, len, &src);
	packet_rewrite_dst(buf, len, &dst);
	if (before->ttl > 1)
		(void)packet_decrement_ttl(buf, len);
	int rc = packet_parse(buf, len, &after, why, sizeof(why));
	if (rc != PACKET_OK || after.src != src.ip || after.dst != dst.ip)
		abort();
	if ((before->proto == IPPROTO_NUM_UDP || before->proto == IPPROTO_NUM_TCP) &&
	    (after.sport != src.port || after.dport != dst.port))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet_info info;
	char why[256] = "", flow[128];

	dissect(data, size);
	if (packet_parse(data, size, &info, why, sizeof(why)) != PACKET_OK) {
		if (why[0] == '\0')
			abort(); /* every refusal has a reason */
		return 0;
	}
	(void)packet_flow_format(&info, false, flow, sizeof(flow));
	if (info.payload_len > 0 &&
	    (info.payload < data || info.payload + info.payload_len > data + size))
		abort();
	uint8_t *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	translate(copy, size, &info);
	free(copy);
	return 0;
}
