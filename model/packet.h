/*
 * packet.h - packets as real bytes: IPv4 with UDP, ICMP or TCP,
 * builders, a strict parser, checksums, in-place rewrites with incremental
 * checksum updates (RFC 1624), and a dissector.
 *
 * ICMP (RFC 792): echo request/reply and the errors (destination
 * unreachable, time exceeded, parameter problem) that quote the packet they
 * are about. The parser reads the quoted ("inner") packet too, since a NAT
 * and conntrack decide by it (RFC 5508). How ICMP fits natsim's endpoint
 * words: an echo's identifier plays the port on the side that chose it, as
 * RFC 5508 REQ-1 maps it like a port: a request has sport = id, dport = 0;
 * a reply has sport = 0, dport = id. An error has no ports of its own.
 *
 * struct packet is the unit that moves through the models: bytes plus the id
 * that follows one datagram across every hop and rewrite (so "why did packet
 * 42 die?" has an answer). Packets come from a struct packet_pool so the hot
 * path does not malloc; whoever holds a packet owns it, and passing it to
 * link_transmit() or node_receive() hands it over.
 */
#ifndef NATSIM_MODEL_PACKET_H
#define NATSIM_MODEL_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endpoint.h" /* struct endpoint, ip_format, ... */
#include "sim/verdict.h"   /* struct verdict_flow */

#define IPV4_HEADER_MIN 20
#define UDP_HEADER_SIZE 8
#define ICMP_HEADER_SIZE 8
#define TCP_HEADER_MIN 20 /* data offset 5 words, no options */
#define TCP_HEADER_MAX 60 /* data offset 15 words */
#define IPPROTO_NUM_ICMP 1
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define PACKET_MAX_SIZE 1500 /* an Ethernet MTU */
#define PACKET_DEFAULT_TTL 64

struct iface;

/* A packet's bytes are data[0 .. len), in a buffer of `cap` bytes: small
 * for what fits (a STUN check, a registration), PACKET_MAX_SIZE otherwise;
 * a world of many peers keeps many packets in flight. */
#define PACKET_SMALL_SIZE 464 /* with the header, a 512-byte block */

struct packet {
	uint64_t id;
	size_t len;
	size_t cap;	     /* PACKET_SMALL_SIZE or PACKET_MAX_SIZE */
	struct packet *next; /* free list / queue link, owned by whoever holds the packet */
	/* While a link carries the packet (model/link.c): the receiving interface,
	 * the sender's attachment, and the world's count of cuts when it left. */
	struct iface *hop_to;
	struct node *hop_node; /* hop_to's node, named to prefetch it */
	uint32_t hop_from;
	uint32_t hop_cuts;
	/* Both checksums of `data` were verified (packet_check) or written
	 * (packet_build_udp), and every change since kept them right
	 * (packet_rewrite_*, packet_decrement_ttl). False from packet_alloc:
	 * whoever writes `data` any other way leaves it false. */
	bool sums_ok;
	uint8_t data[]; /* cap bytes */
};

/* A pool of packets. Not thread-safe (the engine is single-threaded). */
struct packet_pool;
struct packet_pool *packet_pool_new(void);
/* Frees the pool and every packet it has handed out and got back. */
void packet_pool_free(struct packet_pool *pool);
/* A packet with len 0, the given id and room for `len` bytes (at most
 * PACKET_MAX_SIZE), or NULL if out of memory or len is too large. */
struct packet *packet_alloc(struct packet_pool *pool, uint64_t id, size_t len);
struct packet *packet_clone(struct packet_pool *pool, const struct packet *p);
void packet_release(struct packet_pool *pool, struct packet *p);

/* Why the parser refused bytes. */
enum packet_error {
	PACKET_OK = 0,
	PACKET_ERR_TRUNCATED = -1,    /* shorter than an IPv4 header */
	PACKET_ERR_VERSION = -2,      /* version field is not 4 */
	PACKET_ERR_IHL = -3,	      /* header length < 5 words or beyond the buffer */
	PACKET_ERR_TOTAL_LENGTH = -4, /* total length < header length or > buffer */
	PACKET_ERR_IP_CHECKSUM = -5,
	PACKET_ERR_FRAGMENT = -6,      /* fragments are not modelled */
	PACKET_ERR_UDP_TRUNCATED = -7, /* UDP header or its length field beyond the IP payload */
	PACKET_ERR_UDP_CHECKSUM = -8,
	PACKET_ERR_UNSUPPORTED = -9,	 /* a protocol the models do not carry yet */
	PACKET_ERR_ICMP_TRUNCATED = -10, /* shorter than the 8-byte ICMP header */
	PACKET_ERR_ICMP_CHECKSUM = -11,
	PACKET_ERR_ICMP_INNER = -12,	/* an error whose quoted packet is not an IPv4
					 * header and 8 bytes (RFC 792) */
	PACKET_ERR_TCP_TRUNCATED = -13, /* shorter than the 20-byte TCP header */
	PACKET_ERR_TCP_OFFSET = -14,	/* data offset < 5 words or beyond the IP payload */
	PACKET_ERR_TCP_OPTION = -15,	/* an option whose length is wrong or runs past
					 * the header */
	PACKET_ERR_TCP_CHECKSUM = -16,
	/* IPv6 (model/packet6.h); UDP's and TCP's own errors above serve both. */
	PACKET_ERR_IPV6_TRUNCATED = -17,      /* shorter than the 40-byte IPv6 header */
	PACKET_ERR_IPV6_VERSION = -18,	      /* version field is not 6 */
	PACKET_ERR_IPV6_PAYLOAD_LENGTH = -19, /* payload length beyond the bytes received */
	PACKET_ERR_IPV6_EXTENSION = -20,      /* an extension header: not modelled */
	PACKET_ERR_UDP6_ZERO_CHECKSUM = -21,  /* UDP over IPv6 without a checksum (RFC 8200 8.1):
					       * unused since a zero sum parses (packet6.h);
					       * kept so the numbers after it stay */
	PACKET_ERR_ICMPV6_TRUNCATED = -22,    /* shorter than the 8-byte ICMPv6 header */
	PACKET_ERR_ICMPV6_CHECKSUM = -23,
	PACKET_ERR_ICMPV6_INNER = -24, /* an error whose quote is not an IPv6 header and 8 bytes */
};

/* TCP header flags (RFC 9293 3.1, RFC 3168 for ECE and CWR), as the byte at
 * offset 13 holds them. */
enum tcp_flag {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
	TCP_ECE = 0x40,
	TCP_CWR = 0x80,
};

/* TCP option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
enum tcp_option_kind {
	TCP_OPT_EOL = 0,
	TCP_OPT_NOP = 1,
	TCP_OPT_MSS = 2,
	TCP_OPT_WSCALE = 3,
	TCP_OPT_SACK_PERM = 4,
	TCP_OPT_SACK = 5,
	TCP_OPT_TIMESTAMP = 8,
};

/* The options a segment carries, as far as natsim reads them: `seen` has
 * bit (1 << kind) for each known kind met (TCP_OPT_SEEN(kind)); others are
 * walked over by their length. */
#define TCP_OPT_SEEN(kind) (1u << (kind))
struct tcp_options {
	uint16_t seen;
	uint16_t mss;
	uint8_t wscale; /* the shift as sent; Linux caps its use at 14 (RFC 7323 2.3) */
	uint8_t sack_blocks;
	uint32_t ts_val, ts_ecr;
};
/* The options Linux 6.1 puts on a SYN (tcp_syn_options): MSS 1460 (an
 * Ethernet MTU less 40), SACK permitted, timestamps (ts_val given, ecr 0),
 * window scale 7 (the shift tcp_select_initial_window picks for the default
 * 6 MB tcp_rmem maximum). */
void tcp_options_linux_syn(struct tcp_options *out, uint32_t ts_val);
/* "[SYN, ACK]"-style flag names, as Wireshark lists them (FIN, SYN, RST,
 * PSH, ACK, URG, ECE, CWR); "<none>" for no flags. Returns out. */
const char *tcp_flags_format(uint8_t flags, char *out, size_t size);

/* ICMP types and codes natsim sends and reads (RFC 792, RFC 1812 5.2.7.1). */
enum icmp_type {
	ICMP_ECHO_REPLY = 0,
	ICMP_DEST_UNREACH = 3,
	ICMP_SOURCE_QUENCH = 4,
	ICMP_REDIRECT = 5,
	ICMP_ECHO_REQUEST = 8,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PARAMETER_PROBLEM = 12,
};
enum icmp_unreach_code {
	ICMP_NET_UNREACH = 0,
	ICMP_HOST_UNREACH = 1,
	ICMP_PROT_UNREACH = 2,
	ICMP_PORT_UNREACH = 3,
	ICMP_NET_PROHIBITED = 9,
	ICMP_HOST_PROHIBITED = 10,
	ICMP_ADMIN_PROHIBITED = 13, /* communication administratively prohibited */
};
#define ICMP_EXC_TTL 0 /* time exceeded in transit */

/* True for the types that report an error about another packet (and so
 * quote it); never answered with another error (RFC 1122 3.2.2). */
bool icmp_is_error(uint8_t type);
/* "echo request", "port unreachable", "time exceeded", ... for a type and
 * code; "type 42 code 0" for ones without a name. Writes into out. */
const char *icmp_describe(uint8_t type, uint8_t code, char *out, size_t size);
/* The quoted part of an error: an IPv4 header and as much of the datagram
 * as fits in 576 bytes, as Linux's icmp_send() quotes (RFC 1812 4.3.2.3;
 * RFC 792's minimum is the header and 8 bytes). */
#define ICMP_ERROR_MAX_SIZE 576

/* A sentence: "IPv4 header checksum is wrong (0x1234, expected 0xabcd)" is
 * produced by packet_parse's `why`; this gives the short form. */
const char *packet_error_str(enum packet_error err);

/* The packet an ICMP error quotes, as far as it was quoted. */
struct packet_inner {
	size_t offset; /* where its IPv4 header starts in the outer buffer */
	size_t len;    /* bytes quoted (header + at least 8) */
	uint8_t ihl_bytes;
	uint8_t proto;
	uint8_t ttl;
	uint16_t total_len;	      /* its own total length (more than len when cut) */
	uint32_t src, dst;	      /* host order */
	uint16_t sport, dport;	      /* UDP or TCP ports; an inner echo's id as for the outer */
	uint32_t tcp_seq;	      /* an inner TCP segment's sequence number (in its 8 bytes) */
	uint8_t icmp_type, icmp_code; /* an inner ICMP message */
	uint16_t icmp_id;
	bool ip_sum_ok; /* its header checksum is right: Linux does not check
			 * it (icmp_unreach, nf_conntrack icmp_error_message),
			 * so nor do the models; the dissector shows it */
};

/* A parsed view into a buffer (pointers borrow the buffer). */
struct packet_info {
	uint8_t ihl_bytes;
	uint8_t tos;
	uint16_t total_len;
	uint16_t ip_id;
	uint8_t ttl;
	uint8_t proto;
	uint32_t src; /* host order */
	uint32_t dst;
	uint16_t sport; /* UDP, TCP: ports; ICMP echo: the id (see the top), host order */
	uint16_t dport;
	size_t l4_offset;
	const uint8_t *payload; /* UDP, TCP payload; ICMP: the bytes after the 8-byte header */
	size_t payload_len;
	/* ICMP only. */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo */
	bool icmp_error;	    /* an error: `inner` is the packet it quotes */
	struct packet_inner inner;
	/* TCP only. */
	uint8_t tcp_flags;	/* enum tcp_flag bits */
	uint8_t tcp_header_len; /* data offset in bytes, 20..60 */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_window; /* as sent, before any scaling */
	struct tcp_options tcp_opt;
};

/* Parse strictly: every length checked against `len` before it is read; a UDP
 * checksum of 0 means "none" (RFC 768); a TCP header's options are walked
 * with every length checked (model/packet_tcp.c says where that is stricter
 * than Linux). On error returns a negative enum
 * packet_error and, if why != NULL, a sentence in why[why_size]. `inner`
 * is written only for an ICMP packet and the tcp_* fields only for TCP:
 * for another protocol they keep whatever they held (read them only when
 * icmp_error says so, or proto is TCP). */
int packet_parse(const uint8_t *buf, size_t len, struct packet_info *out, char *why,
		 size_t why_size);
/* packet_parse of p's bytes, except that sums already known right
 * (p->sums_ok: built here, or verified and rewritten since only in ways that
 * keep them right) are not summed again at every hop; sums found right are
 * remembered. Every length is still checked. Same result, same sentence. */
int packet_check(struct packet *p, struct packet_info *out, char *why, size_t why_size);

/* Build IPv4+UDP into buf. Returns the total length, or 0 if cap is too small. */
size_t packet_build_udp(uint8_t *buf, size_t cap, const struct endpoint *src,
			const struct endpoint *dst, uint8_t ttl, uint16_t ip_id,
			const void *payload, size_t payload_len);

/* Build IPv4+TCP into buf: a segment of `flags` with the given sequence and
 * acknowledgment numbers and window, options `opt` (NULL: none) written in
 * the order and padding Linux's tcp_options_write uses, then `payload_len`
 * bytes; DF set, TOS 0, as Linux sends. Returns the total length, or 0 if cap
 * is too small. */
struct tcp_segment {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t window;
	const struct tcp_options *opt;
	const void *payload;
	size_t payload_len;
};
size_t packet_build_tcp(uint8_t *buf, size_t cap, const struct endpoint *src,
			const struct endpoint *dst, uint8_t ttl, uint16_t ip_id,
			const struct tcp_segment *seg);

/* Build IPv4+ICMP echo (type ICMP_ECHO_REQUEST or ICMP_ECHO_REPLY) with
 * `payload_len` bytes of payload (NULL: Linux ping's pattern, bytes 0x10,
 * 0x11, ... after a 16-byte timestamp, zeros here). Returns the total length, or
 * 0 if cap is too small. */
size_t packet_build_icmp_echo(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t ttl,
			      uint16_t ip_id, uint8_t type, uint16_t id, uint16_t seq,
			      const void *payload, size_t payload_len);
/* Build an ICMP error of `type`/`code` from src to dst quoting `offending`
 * (its IPv4 header and as much as fits in ICMP_ERROR_MAX_SIZE), bytes 4-7 of
 * the ICMP header zero ("unused", RFC 792). Returns the
 * total length, or 0 if cap is too small or `offending` is shorter than an
 * IPv4 header. */
size_t packet_build_icmp_error(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t ttl,
			       uint16_t ip_id, uint8_t type, uint8_t code, const uint8_t *offending,
			       size_t offending_len);

/* The Internet checksum (RFC 1071) of a buffer, folded and complemented. */
uint16_t inet_checksum(const void *data, size_t len);
/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing m -> m'. */
uint16_t checksum_adjust16(uint16_t sum, uint16_t old_word, uint16_t new_word);
uint16_t checksum_adjust32(uint16_t sum, uint32_t old_val, uint32_t new_val);
/* Recompute both checksums from scratch (used by builders and tests). */
void packet_fill_checksums(uint8_t *buf, size_t len);

/* In-place rewrites of a parsed, valid packet, updating the checksums
 * incrementally as a NAT does. UDP, TCP: address and port. ICMP echo: the address,
 * and the id where it plays that side's port (a request's source, a reply's
 * destination; `to->port` is ignored on the other side). ICMP error: the
 * outer address only (the ICMP checksum does not cover the IP header). */
void packet_rewrite_src(uint8_t *buf, size_t len, const struct endpoint *to);
void packet_rewrite_dst(uint8_t *buf, size_t len, const struct endpoint *to);
/* RFC 5508 REQ-3/4: rewrite the source or destination of the packet an ICMP
 * error quotes (address and UDP or TCP port, or an inner echo's id as above),
 * fixing the inner IPv4 header checksum, the inner UDP (or ICMP) checksum
 * where it was sent, an inner TCP checksum where it was quoted, and the outer ICMP checksum, as
 * nf_nat_icmp_reply_translation() does. Does nothing to bytes that are not a parsed ICMP error. */
void packet_rewrite_inner_src(uint8_t *buf, size_t len, const struct endpoint *to);
void packet_rewrite_inner_dst(uint8_t *buf, size_t len, const struct endpoint *to);
/* Decrement TTL with an incremental checksum update. Returns the new TTL. */
uint8_t packet_decrement_ttl(uint8_t *buf, size_t len);

/* Dissector. A payload summariser may be supplied by the caller (app/ hands in
 * the STUN summariser; the models know nothing of STUN). It returns the number
 * of chars written, or <= 0 to fall back to "len=N". */
typedef int (*payload_summary_fn)(const uint8_t *payload, size_t len, char *out, size_t size);

/* The dissector reads both families: bytes whose version nibble is 6 are
 * IPv6's (packet6_summary, packet6_fields in model/packet6.h), so every
 * renderer shows an IPv6 packet as one; the parser above stays IPv4's.
 *
 * "UDP 192.168.1.5:5000 → 192.0.2.1:3478 len=20 ttl=64 [STUN Binding Request ...]".
 * Returns chars written (like snprintf, truncated to size). Never reads past len;
 * malformed bytes give "malformed: <reason>". `ascii` picks "->" over "→". */
int packet_summary(const uint8_t *buf, size_t len, payload_summary_fn payload, bool ascii,
		   char *out, size_t size);

struct packet_field {
	char name[32];	/* "ip.src", "ip.ttl", "udp.dport", "udp.checksum" */
	char value[64]; /* "192.168.1.5", "64", "0x1c46 [correct]" */
};
/* Fill up to max fields; returns the number filled. */
size_t packet_fields(const uint8_t *buf, size_t len, struct packet_field *out, size_t max);

/* The packet as a verdict names it (sim/verdict.h): from a parse, or from
 * whatever the bytes allow (a malformed packet still names its addresses if
 * it has a header). _of_bytes reads IPv6 bytes as IPv6 (packet6_flow_of_bytes). */
struct verdict_flow packet_flow_of(const struct packet_info *info);
struct verdict_flow packet_flow_of_bytes(const uint8_t *buf, size_t len);
/* "192.168.1.5:5000 → 192.0.2.1:3478" for a parsed packet (the arrow as in
 * packet_summary). Returns out. */
char *packet_flow_format(const struct packet_info *info, bool ascii, char *out, size_t size);

#endif
