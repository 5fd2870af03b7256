/*
 * packet6_internal.h - what model/packet6.c shares with model/packet6_icmp.c,
 * the two files of the IPv6 packet module. Not for other modules.
 */
#ifndef NATSIM_MODEL_PACKET6_INTERNAL_H
#define NATSIM_MODEL_PACKET6_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/packet6.h"
#include "model/packet_internal.h"

#define ICMPV6_SUM_OFF 2
#define UDP_SUM_OFF 6
#define TCP6_SUM_OFF 16

/* The fixed header (RFC 8200 section 3) with every field but the lengths. */
void packet6_header(uint8_t *buf, uint32_t flow_label, uint16_t payload_len, uint8_t next_header,
		    uint8_t hop_limit, const struct ip6_addr *src, const struct ip6_addr *dst);
/* The addresses at offsets 8 and 24 of an IPv6 header. */
struct ip6_addr packet6_src_of(const uint8_t *hdr);
struct ip6_addr packet6_dst_of(const uint8_t *hdr);

/* RFC 4443: the ICMPv6 message at out->l4_offset (out->payload_len bytes),
 * its checksum if `sums`, and for an error the packet it quotes. */
int packet6_parse_icmp(const uint8_t *buf, struct packet6_info *out, bool sums, char *why,
		       size_t ws);
/* The dissector's words and fields for ICMPv6. */
void packet6_icmp_summary(const struct packet6_info *pi, const char *arrow, char *out, size_t size,
			  size_t *pos);
void packet6_icmp_fields(struct field_list *fl, const uint8_t *buf, size_t ip_end);

#endif
