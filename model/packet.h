/*
 * packet.h - packets as real bytes: IPv4 + UDP (laid out for ICMP and TCP to
 * follow), builders, a strict parser, checksums, in-place rewrites with
 * incremental checksum updates (RFC 1624), and a dissector.
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
	size_t cap; /* PACKET_SMALL_SIZE or PACKET_MAX_SIZE */
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
	PACKET_ERR_TRUNCATED = -1,     /* shorter than an IPv4 header */
	PACKET_ERR_VERSION = -2,       /* version field is not 4 */
	PACKET_ERR_IHL = -3,           /* header length < 5 words or beyond the buffer */
	PACKET_ERR_TOTAL_LENGTH = -4,  /* total length < header length or > buffer */
	PACKET_ERR_IP_CHECKSUM = -5,
	PACKET_ERR_FRAGMENT = -6,      /* fragments are not modelled */
	PACKET_ERR_UDP_TRUNCATED = -7, /* UDP header or its length field beyond the IP payload */
	PACKET_ERR_UDP_CHECKSUM = -8,
	PACKET_ERR_UNSUPPORTED = -9,   /* a protocol the models do not carry yet */
};

/* A sentence: "IPv4 header checksum is wrong (0x1234, expected 0xabcd)" is
 * produced by packet_parse's `why`; this gives the short form. */
const char *packet_error_str(enum packet_error err);

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
	uint16_t sport; /* UDP/TCP only, host order */
	uint16_t dport;
	size_t l4_offset;
	const uint8_t *payload; /* UDP payload */
	size_t payload_len;
};

/* Parse strictly: every length checked against `len` before it is read; a UDP
 * checksum of 0 means "none" (RFC 768). On error returns a negative enum
 * packet_error and, if why != NULL, a sentence in why[why_size]. */
int packet_parse(const uint8_t *buf, size_t len, struct packet_info *out, char *why,
		 size_t why_size);
/* packet_parse of p's bytes, except that sums already known right
 * (p->sums_ok: built here, or verified and rewritten since only in ways that
 * keep them right) are not summed again at every hop; sums found right are
 * remembered. Every length is still checked. Same result, same sentence. */
int packet_check(struct packet *p, struct packet_info *out, char *why, size_t why_size);

/* Build IPv4+UDP into buf. Returns the total length, or 0 if cap is too small. */
size_t packet_build_udp(uint8_t *buf, size_t cap, const struct endpoint *src,
			const struct endpoint *dst, uint8_t ttl, uint16_t ip_id, const void *payload,
			size_t payload_len);

/* The Internet checksum (RFC 1071) of a buffer, folded and complemented. */
uint16_t inet_checksum(const void *data, size_t len);
/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing m -> m'. */
uint16_t checksum_adjust16(uint16_t sum, uint16_t old_word, uint16_t new_word);
uint16_t checksum_adjust32(uint16_t sum, uint32_t old_val, uint32_t new_val);
/* Recompute both checksums from scratch (used by builders and tests). */
void packet_fill_checksums(uint8_t *buf, size_t len);

/* In-place rewrites of a parsed, valid UDP packet, updating the IP and UDP
 * checksums incrementally as a NAT does. */
void packet_rewrite_src(uint8_t *buf, size_t len, const struct endpoint *to);
void packet_rewrite_dst(uint8_t *buf, size_t len, const struct endpoint *to);
/* Decrement TTL with an incremental checksum update. Returns the new TTL. */
uint8_t packet_decrement_ttl(uint8_t *buf, size_t len);

/* Dissector. A payload summariser may be supplied by the caller (app/ hands in
 * the STUN summariser; the models know nothing of STUN). It returns the number
 * of chars written, or <= 0 to fall back to "len=N". */
typedef int (*payload_summary_fn)(const uint8_t *payload, size_t len, char *out, size_t size);

/* "UDP 192.168.1.5:5000 → 192.0.2.1:3478 len=20 ttl=64 [STUN Binding Request ...]".
 * Returns chars written (like snprintf, truncated to size). Never reads past len;
 * malformed bytes give "malformed: <reason>". `ascii` picks "->" over "→". */
int packet_summary(const uint8_t *buf, size_t len, payload_summary_fn payload, bool ascii,
		   char *out, size_t size);

struct packet_field {
	char name[32];   /* "ip.src", "ip.ttl", "udp.dport", "udp.checksum" */
	char value[64];  /* "192.168.1.5", "64", "0x1c46 [correct]" */
};
/* Fill up to max fields; returns the number filled. */
size_t packet_fields(const uint8_t *buf, size_t len, struct packet_field *out, size_t max);

/* The packet as a verdict names it (sim/verdict.h): from a parse, or from
 * whatever the bytes allow (a malformed packet still names its addresses if
 * it has a header). */
struct verdict_flow packet_flow_of(const struct packet_info *info);
struct verdict_flow packet_flow_of_bytes(const uint8_t *buf, size_t len);
/* "192.168.1.5:5000 → 192.0.2.1:3478" for a parsed packet (the arrow as in
 * packet_summary). Returns out. */
char *packet_flow_format(const struct packet_info *info, bool ascii, char *out, size_t size);

#endif
