/*
 * packet_internal.h - what model/packet.c shares with model/packet_icmp.c
 * and model/packet_tcp.c, the files of the packet module: checksum arithmetic, the parser's
 * sentence helper and the dissector's writers. Not for other modules.
 */
#ifndef NATSIM_MODEL_PACKET_INTERNAL_H
#define NATSIM_MODEL_PACKET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/packet.h"

/* RFC 1071 arithmetic: a running one's-complement sum of big-endian words,
 * and its fold to 16 bits (not complemented). */
uint32_t packet_sum_words(uint32_t acc, const uint8_t *p, size_t len);
uint16_t packet_fold(uint32_t acc);
uint16_t packet_ip_checksum_expected(const uint8_t *hdr, size_t ihl);
uint16_t packet_udp_checksum_expected(uint32_t src, uint32_t dst, const uint8_t *udp,
				      uint16_t udp_len);
const char *packet_proto_name(uint8_t proto); /* "UDP", "ICMP", "TCP" or NULL */

/* Record a sentence in `why` (if given) and return `err`. */
int packet_fail(char *why, size_t why_size, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* snprintf that appends at out[*pos], keeping *pos the would-be length. */
void packet_append(char *out, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct field_list {
	struct packet_field *out;
	size_t max, n;
};
void packet_field(struct field_list *fl, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void packet_checksum_field(struct field_list *fl, const char *name, uint16_t stored,
			   uint16_t expected);

/* ---- packet_icmp.c ---- */

/* RFC 792: the ICMP message at out->l4_offset (out->payload_len bytes), and
 * for an error the packet it quotes. */
int packet_parse_icmp(const uint8_t *buf, struct packet_info *out, bool sums, char *why, size_t ws);
/* The checksum an ICMP message of `len` bytes should carry. */
uint16_t packet_icmp_checksum_expected(const uint8_t *icmp, size_t len);
/* An echo's id where it plays the port rewritten (ip_off 12: source side,
 * 16: destination side), the ICMP checksum adjusted. */
void packet_rewrite_echo_id(uint8_t *buf, size_t len, size_t ihl, size_t ip_off, uint16_t id);
/* The dissector's words and fields for a parsed ICMP packet. */
void packet_icmp_summary(const uint8_t *buf, const struct packet_info *pi, const char *arrow,
			 char *out, size_t size, size_t *pos);
void packet_icmp_fields(struct field_list *fl, const uint8_t *buf, size_t ihl, size_t ip_end);

/* ---- packet_tcp.c ---- */

/* RFC 9293 3.1: the TCP header at out->l4_offset (out->payload_len bytes),
 * its options and, if `sums`, its checksum. */
int packet_parse_tcp(const uint8_t *buf, struct packet_info *out, bool sums, char *why, size_t ws);
/* The checksum a TCP segment of `tcp_len` bytes should carry (pseudo-header
 * with protocol 6 and the TCP length, RFC 9293 3.1). */
uint16_t packet_tcp_checksum_expected(uint32_t src, uint32_t dst, const uint8_t *tcp,
				      size_t tcp_len);
/* The port at tcp_off (0 = source, 2 = destination) rewritten and the TCP
 * checksum adjusted for it and for the address old_ip -> new_ip; only the
 * port when the checksum lies beyond `len` (an ICMP error's quote). */
void packet_rewrite_tcp(uint8_t *tcp, size_t len, size_t tcp_off, uint32_t old_ip, uint32_t new_ip,
			uint16_t port);
/* Write a TCP header (options as Linux's tcp_options_write orders them),
 * its checksum 0, and the payload at tcp; returns the bytes written, or 0
 * if they exceed cap. packet_build_tcp and packet6_build_tcp wrap it. */
size_t packet_tcp_write(uint8_t *tcp, size_t cap, uint16_t sport, uint16_t dport,
			const struct tcp_segment *seg);
/* The dissector's words and fields for a parsed TCP segment. */
void packet_tcp_summary(const struct packet_info *pi, const char *arrow, char *out, size_t size,
			size_t *pos);
/* The TCP fields of the segment at tcp (room bytes to the end of the IP
 * payload), for IPv4 and IPv6 alike: expected_sum is what the checksum
 * should be over the family's pseudo-header. */
void packet_tcp_fields(struct field_list *fl, const uint8_t *tcp, size_t room,
		       uint16_t expected_sum);

#endif
