/*
 * stun6_pcap.c - natsim's STUN over UDP/IPv6 in a capture, for
 * wireshark6.sh to read with tshark and docs/wireshark/natsim.lua (issue 18
 * step 7): a REGISTER from [2001:db8:1::5]:5000 to the coordinator at
 * [2001:db8:2::1]:3478 carrying an IPv6 host candidate and an IPv4 one, and
 * the coordinator's INTRODUCE back with bob's IPv6 server-reflexive
 * candidate. The messages come from p2p/stun.h's writer, the packets from
 * model/packet6.h's builder (its UDP checksum over the IPv6 pseudo-header);
 * the IPv6 candidate is the 9-byte one's layout with family 0x02 (RFC 8489
 * 14.2: the address XORed with the cookie and the transaction ID, 21 bytes
 * with the type byte: docs/protocol.md).
 * Usage: stun6_pcap OUT.pcap
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model/packet6.h"
#include "p2p/stun.h"

static FILE *pcap;

/* One pcap record (host byte order, as the global header says). */
static void record(const uint8_t *b, size_t n, uint32_t sec)
{
	uint32_t rec[4] = {sec, 0, (uint32_t)n, (uint32_t)n};

	fwrite(rec, 4, 4, pcap);
	fwrite(b, 1, n, pcap);
}

static struct ip6_addr addr6(const char *text)
{
	struct ip6_addr a;

	if (ip6_parse(text, &a, NULL) != IP6_OK)
		memset(&a, 0, sizeof(a));
	return a;
}

/* NATSIM-CANDIDATE of family 0x02: the writer's header (bytes 8..19 the
 * transaction ID) is written first, as stun_put_xor_address6 reads it. */
static void candidate6(struct stun_writer *w, const char *ip, uint16_t port, uint8_t type)
{
	static const uint8_t cookie[4] = {0x21, 0x12, 0xa4, 0x42};
	struct ip6_addr a = addr6(ip);
	uint8_t v[21];

	v[0] = 0;
	v[1] = 0x02;
	v[2] = (uint8_t)((port ^ 0x2112) >> 8);
	v[3] = (uint8_t)(port ^ 0x2112);
	for (int i = 0; i < 16; i++)
		v[4 + i] = a.b[i] ^ (i < 4 ? cookie[i] : w->buf[8 + i - 4]);
	v[20] = type;
	stun_put_raw(w, STUN_ATTR_NATSIM_CANDIDATE, v, sizeof(v));
}

/* The IPv4 one, as coord_put_candidate writes it. */
static void candidate4(struct stun_writer *w, uint32_t ip, uint16_t port, uint8_t type)
{
	uint32_t x = ip ^ 0x2112a442u;
	uint8_t v[9] = {0,
			0x01,
			(uint8_t)((port ^ 0x2112) >> 8),
			(uint8_t)(port ^ 0x2112),
			(uint8_t)(x >> 24),
			(uint8_t)(x >> 16),
			(uint8_t)(x >> 8),
			(uint8_t)x,
			type};

	stun_put_raw(w, STUN_ATTR_NATSIM_CANDIDATE, v, sizeof(v));
}

static int udp6(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		const uint8_t *msg, int len, uint32_t sec)
{
	struct endpoint6 s = {addr6(src), sport}, d = {addr6(dst), dport};
	uint8_t pkt[1500];
	size_t n;

	if (len <= 0)
		return -1;
	n = packet6_build_udp(pkt, sizeof(pkt), &s, &d, 64, 0x54321, msg, (size_t)len);
	if (n == 0)
		return -1;
	record(pkt, n, sec);
	return 0;
}

int main(int argc, char **argv)
{
	/* magic, version 2.4, zone, sigfigs, snaplen, LINKTYPE_RAW (101) */
	uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101};
	uint8_t msg[512], txid[STUN_TXID_SIZE];
	struct stun_writer w;
	int rc = 0;

	if (argc < 2 || (pcap = fopen(argv[1], "wb")) == NULL)
		return 2;
	fwrite(header, 4, 6, pcap);
	for (int i = 0; i < STUN_TXID_SIZE; i++)
		txid[i] = (uint8_t)(0x90 + 7 * i);
	stun_writer_init(&w, msg, sizeof(msg), STUN_METHOD_REGISTER, STUN_CLASS_REQUEST, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, "alice");
	candidate6(&w, "2001:db8:1::5", 5000, 0);
	candidate4(&w, 0xc0a80105u, 5000, 0); /* 192.168.1.5 */
	rc |= udp6("2001:db8:1::5", 5000, "2001:db8:2::1", 3478, msg, stun_writer_finish(&w), 1);
	txid[0] ^= 0xff;
	stun_writer_init(&w, msg, sizeof(msg), STUN_METHOD_INTRODUCE, STUN_CLASS_INDICATION, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, "bob");
	candidate6(&w, "2001:db8:3::9", 6000, 1);
	rc |= udp6("2001:db8:2::1", 3478, "2001:db8:1::5", 5000, msg, stun_writer_finish(&w), 2);
	return fclose(pcap) == 0 && rc == 0 ? 0 : 1;
}
