/*
 * xlat_tool.c - natsim's NPTv6 and NAT64 translations on the command line,
 * for the scripts that compare them with the real thing:
 *
 *   xlat_tool pcap OUT.pcap
 *       natsim's translated packets (UDP, ICMP echo and errors, both ways)
 *       to a LINKTYPE_RAW capture, for tshark (xlat_pcap.sh, interop);
 *   xlat_tool npt INSIDE OUTSIDE LEN ADDR...
 *       each ADDR mapped inside -> outside (one line each, or
 *       "untranslatable"), for Linux's SNPT (tests/lab/lab_nptv6.sh);
 *   xlat_tool 6to4 POOL4 HOST6 HEX / xlat_tool 4to6 POOL4 HOST6 HEX
 *       a packet translated as a stateless NAT64 such as tayga does it:
 *       HOST6 <-> POOL4, any other IPv6 address by the well-known prefix,
 *       ports and ids unchanged; DF and Identification as tayga (RFC 6145);
 *       the hop limit or TTL decremented first, as a router (and tayga)
 *       does (tests/lab/lab_nat64.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "explain/xlat.h"
#include "model/nptv6.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "model/xlat.h"

static uint32_t pool4;
static struct ip6_addr host6, wkp;

static uint32_t to4(const struct ip6_addr *a)
{
	uint32_t ip = pool4;

	(void)xlat_embedded_ipv4(&wkp, a, &ip);
	return ip;
}

static struct ip6_addr to6(uint32_t ip)
{
	return ip == pool4 ? host6 : xlat_synthesize(&wkp, ip);
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; s[0] && s[1] && n < cap; s += 2)
		sscanf(s, "%2hhx", &out[n++]);
	return n;
}

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int run_6to4(uint8_t *in, size_t n)
{
	struct packet6_info pi;
	uint8_t out[2000];
	size_t m = 0;

	if (packet6_parse(in, n, &pi, NULL, 0) != PACKET_OK)
		return fprintf(stderr, "input does not parse\n"), 1;
	packet6_decrement_hop_limit(in, n);
	pi.hop_limit--;
	struct xlat_v4_addrs o = {{to4(&pi.src), pi.sport}, {to4(&pi.dst), pi.dport}};
	struct xlat_v4_addrs i = {{to4(&pi.inner.src), pi.inner.sport},
				  {to4(&pi.inner.dst), pi.inner.dport}};
	struct xlat_6to4_options opt = {.df_always = true};
	enum xlat_result r =
	    xlat_6to4(in, n, &o, pi.icmp_error ? &i : NULL, &opt, out, sizeof(out), &m);
	if (r != XLAT_OK)
		return fprintf(stderr, "%s\n", explain_xlat_result(r)), 1;
	print_hex(out, m);
	return 0;
}

static int run_4to6(uint8_t *in, size_t n)
{
	struct packet_info pi;
	uint8_t out[2000];
	size_t m = 0;

	if (packet_parse(in, n, &pi, NULL, 0) != PACKET_OK)
		return fprintf(stderr, "input does not parse\n"), 1;
	packet_decrement_ttl(in, n);
	struct xlat_v6_addrs o = {{to6(pi.src), pi.sport}, {to6(pi.dst), pi.dport}};
	struct xlat_v6_addrs i = {{to6(pi.inner.src), pi.inner.sport},
				  {to6(pi.inner.dst), pi.inner.dport}};
	enum xlat_result r = xlat_4to6(in, n, &o, pi.icmp_error ? &i : NULL, out, sizeof(out), &m);
	if (r != XLAT_OK)
		return fprintf(stderr, "%s\n", explain_xlat_result(r)), 1;
	print_hex(out, m);
	return 0;
}

static int run_npt(int argc, char **argv)
{
	struct ip6_addr in, out;
	struct nptv6 t;

	if (argc < 5 || ip6_parse(argv[2], &in, NULL) || ip6_parse(argv[3], &out, NULL) ||
	    nptv6_init(&t, &in, &out, (uint8_t)atoi(argv[4])) != NPTV6_OK)
		return fprintf(stderr, "bad prefixes\n"), 2;
	for (int k = 5; k < argc; k++) {
		struct ip6_addr a;
		char text[IP6_TEXT_SIZE];
		if (ip6_parse(argv[k], &a, NULL))
			return fprintf(stderr, "bad address %s\n", argv[k]), 2;
		enum nptv6_result r = nptv6_map_address(&t, true, &a);
		printf("%s\n", r == NPTV6_OK		? ip6_format(&a, text, sizeof(text))
			       : r == NPTV6_NOT_MATCHED ? "not-matched"
							: "untranslatable");
	}
	return 0;
}

/* ---- pcap of natsim's translations ----------------------------------------- */

static FILE *pcap;

static void record(const uint8_t *b, size_t n)
{
	uint32_t rec[4] = {0, 0, (uint32_t)n, (uint32_t)n};

	fwrite(rec, 4, 4, pcap);
	fwrite(b, 1, n, pcap);
}

static void write_6to4(const uint8_t *in, size_t n, const struct xlat_v4_addrs *o,
		       const struct xlat_v4_addrs *i)
{
	uint8_t out[2000];
	size_t m = 0;
	struct xlat_6to4_options opt = {.ip_id = 0x4242};

	if (xlat_6to4(in, n, o, i, &opt, out, sizeof(out), &m) == XLAT_OK)
		record(out, m);
}

static void write_4to6(const uint8_t *in, size_t n, const struct xlat_v6_addrs *o,
		       const struct xlat_v6_addrs *i)
{
	uint8_t out[2000];
	size_t m = 0;

	if (xlat_4to6(in, n, o, i, out, sizeof(out), &m) == XLAT_OK)
		record(out, m);
}

#define SERVER4 0xcb00710a /* 203.0.113.10 */
#define NAT4 0xc6336401	   /* 198.51.100.1 */

/* An IPv4 server's port unreachable about a datagram from the NAT64. */
static void port_unreachable(const struct xlat_v4_addrs *o, const struct xlat_v6_addrs *to_h,
			     const struct xlat_v6_addrs *f)
{
	uint8_t a[200], e[600];
	size_t n = packet_build_udp(a, sizeof(a), &o->src, &o->dst, 60, 9, "data", 4);

	write_4to6(e,
		   packet_build_icmp_error(e, sizeof(e), SERVER4, NAT4, 64, 2, ICMP_DEST_UNREACH,
					   ICMP_PORT_UNREACH, a, n),
		   to_h, f);
}

/* A router on the IPv6 side reports on a reply: time exceeded, and packet
 * too big for a 1448-byte one. */
static void router_errors(const struct xlat_v6_addrs *fb, const struct xlat_v4_addrs *back)
{
	uint8_t a[1600], e[1400], zeros[1400] = {0};
	struct ip6_addr r6;
	struct xlat_v4_addrs o = {{NAT4, 0}, {SERVER4, 0}};

	ip6_parse("2001:db8:ff::1", &r6, NULL);
	size_t n = packet6_build_udp(a, sizeof(a), &fb->src, &fb->dst, 1, 0, "abc", 3);
	write_6to4(e,
		   packet6_build_icmp_error(e, sizeof(e), &r6, &fb->src.ip, 64, ICMP6_TIME_EXCEEDED,
					    0, 0, a, n),
		   &o, back);
	n = packet6_build_udp(a, sizeof(a), &fb->src, &fb->dst, 60, 0, zeros, sizeof(zeros));
	write_6to4(e,
		   packet6_build_icmp_error(e, sizeof(e), &r6, &fb->src.ip, 64,
					    ICMP6_PACKET_TOO_BIG, 0, 1280, a, n),
		   &o, back);
}

/* [2001:db8:1::5]:5000 <-> 203.0.113.10:3478 through 198.51.100.1:40000. */
static int run_pcap(const char *path)
{
	uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101 /* LINKTYPE_RAW */};
	uint8_t a[200];
	struct ip6_addr s = xlat_synthesize(&wkp, SERVER4);
	struct endpoint6 h6 = {host6, 5000}, s6 = {s, 3478};
	struct xlat_v4_addrs o = {{NAT4, 40000}, {SERVER4, 3478}}, back = {o.dst, o.src};
	struct xlat_v6_addrs f = {h6, s6}, fb = {s6, h6}, to_h = {{s, 0}, {host6, 0}};
	struct xlat_v4_addrs ping = {{NAT4, 7}, {SERVER4, 0}};
	struct xlat_v6_addrs pong = {{s, 0}, {host6, 7}};

	if (!(pcap = fopen(path, "wb")))
		return perror(path), 1;
	fwrite(hdr, 4, 6, pcap);
	write_6to4(a, packet6_build_udp(a, sizeof(a), &h6, &s6, 63, 0, "hello", 5), &o, NULL);
	write_4to6(a, packet_build_udp(a, sizeof(a), &back.src, &back.dst, 50, 1, "yo", 2), &fb,
		   NULL);
	port_unreachable(&o, &to_h, &f);
	write_6to4(a,
		   packet6_build_icmp_echo(a, sizeof(a), &host6, &s, 63, ICMP6_ECHO_REQUEST, 7, 1,
					   NULL, 24),
		   &ping, NULL);
	write_4to6(a,
		   packet_build_icmp_echo(a, sizeof(a), SERVER4, NAT4, 60, 3, ICMP_ECHO_REPLY, 7, 1,
					  NULL, 24),
		   &pong, NULL);
	router_errors(&fb, &back);
	return fclose(pcap) != 0;
}

int main(int argc, char **argv)
{
	uint8_t in[2000];

	wkp = xlat_well_known_prefix();
	ip6_parse("2001:db8:1::5", &host6, NULL);
	if (argc >= 3 && !strcmp(argv[1], "pcap"))
		return run_pcap(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "npt"))
		return run_npt(argc, argv);
	if (argc < 5 || ip_parse(argv[2], &pool4) || ip6_parse(argv[3], &host6, NULL))
		return fprintf(stderr, "usage: see the top of xlat_tool.c\n"), 2;
	size_t n = unhex(argv[4], in, sizeof(in));
	if (!strcmp(argv[1], "6to4"))
		return run_6to4(in, n);
	if (!strcmp(argv[1], "4to6"))
		return run_4to6(in, n);
	return 2;
}
