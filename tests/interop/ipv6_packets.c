/*
 * ipv6_packets.c - writes one of each IPv6 packet model/packet6.h builds to
 * a pcap (LINKTYPE_IPV6), for ipv6_pcap.sh to read with tshark, and with a
 * second argument the same packets one per file: the seeds in
 * tests/fuzz/corpus/packet6 (regenerate them with
 * `ipv6_packets f.pcap tests/fuzz/corpus/packet6`).
 * Usage: ipv6_packets OUT.pcap [SEED_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/packet6.h"

#define LINKTYPE_IPV6 229

static FILE *pcap;
static const char *seed_dir;
static int n_packets;

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	if (ip6_parse(s, &a, NULL) != IP6_OK)
		abort();
	return a;
}

/* One pcap record (host byte order, as the global header says), and a seed. */
static void emit(const uint8_t *b, size_t n, const char *name)
{
	uint32_t rec[4] = {0, 0, (uint32_t)n, (uint32_t)n};
	char path[512];
	FILE *f;

	if (n == 0)
		abort(); /* a builder refused: nothing to check */
	fwrite(rec, 4, 4, pcap);
	fwrite(b, 1, n, pcap);
	if (seed_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%02d-%s", seed_dir, n_packets++, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b, 1, n, f) != n)
		abort();
	fclose(f);
}

/* A SYN with MSS 1440, by hand: there is no IPv6 TCP builder yet. */
static void emit_tcp_syn(const struct ip6_addr *src, const struct ip6_addr *dst)
{
	uint8_t t[64] = {0}, *tcp = t + IPV6_HEADER_SIZE;

	t[0] = 0x60, t[5] = 24, t[6] = IPPROTO_NUM_TCP, t[7] = 64;
	memcpy(t + 8, src->b, 16);
	memcpy(t + 24, dst->b, 16);
	tcp[0] = 0x9c, tcp[1] = 0x40, tcp[3] = 80, tcp[7] = 1; /* 40000 -> 80, seq 1 */
	tcp[12] = 6 << 4, tcp[13] = TCP_SYN, tcp[14] = 0xfa, tcp[15] = 0xf0;
	tcp[20] = TCP_OPT_MSS, tcp[21] = 4, tcp[22] = 0x05, tcp[23] = 0xa0;
	packet6_fill_checksums(t, sizeof(t));
	emit(t, sizeof(t), "tcp-syn");
}

static void emit_errors(const uint8_t *about, size_t len, const struct ip6_addr *to)
{
	static const struct {
		uint8_t type, code;
		const char *name;
	} errors[] = {{ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, "port-unreach"},
		      {ICMP6_DEST_UNREACH, ICMP6_ADMIN_PROHIBITED, "admin-prohibited"},
		      {ICMP6_DEST_UNREACH, ICMP6_ADDR_UNREACH, "addr-unreach"},
		      {ICMP6_TIME_EXCEEDED, ICMP6_EXC_HOP_LIMIT, "hop-limit"}};
	struct ip6_addr router = addr("2001:db8:ff::1");
	uint8_t b[1600];

	for (size_t k = 0; k < sizeof(errors) / sizeof(errors[0]); k++)
		emit(b,
		     packet6_build_icmp_error(b, sizeof(b), &router, to, 64, errors[k].type,
					      errors[k].code, 0, about, len),
		     errors[k].name);
}

int main(int argc, char **argv)
{
	static const char stun_like[20] = "\x00\x01\x00\x00\x21\x12\xa4\x42"
					  "abcdefghijkl";
	static uint8_t pay[1452], u[1600], big[1600], b[1600];
	uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, LINKTYPE_IPV6};
	struct endpoint6 src = {addr("2001:db8:1::5"), 5000}, dst = {addr("2001:db8:2::1"), 3478};
	struct ip6_addr router = addr("2001:db8:ff::1");
	size_t un, bn;

	if (argc < 2 || (pcap = fopen(argv[1], "wb")) == NULL)
		return 2;
	seed_dir = argc > 2 ? argv[2] : NULL;
	fwrite(header, 4, 6, pcap);
	un = packet6_build_udp(u, sizeof(u), &src, &dst, 64, 0x12345, stun_like, 20);
	emit(u, un, "udp");
	emit(b, packet6_build_icmp_echo(b, sizeof(b), &src.ip, &dst.ip, 64, 128, 7, 1, NULL, 56),
	     "echo-request");
	emit(b, packet6_build_icmp_echo(b, sizeof(b), &dst.ip, &src.ip, 64, 129, 7, 1, NULL, 56),
	     "echo-reply");
	emit_errors(u, un, &src.ip);
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)i;
	bn = packet6_build_udp(big, sizeof(big), &src, &dst, 64, 0, pay, sizeof(pay));
	emit(big, bn, "udp-1500");
	emit(b, packet6_build_icmp_error(b, sizeof(b), &router, &src.ip, 64, 2, 0, 1280, big, bn),
	     "packet-too-big");
	emit_tcp_syn(&src.ip, &dst.ip);
	src.port = 27363; /* its sum computes to 0 and is sent as ffff */
	emit(b, packet6_build_udp(b, sizeof(b), &src, &dst, 64, 0, stun_like, 20), "udp-sum-ffff");
	return fclose(pcap) == 0 ? 0 : 1;
}
