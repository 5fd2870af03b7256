/*
 * xlat_internal.h - what model/xlat.c shares with model/xlat_icmp.c, the two
 * files of the translation module. Not for other modules.
 */
#ifndef NATSIM_MODEL_XLAT_INTERNAL_H
#define NATSIM_MODEL_XLAT_INTERNAL_H

#include "model/packet.h"
#include "model/packet6.h"
#include "model/xlat.h"

/* One's-complement arithmetic on 16-bit words. */
uint16_t xlat_ones_add(uint16_t a, uint16_t b);
/* acc plus the big-endian words of p[len] (len even). */
uint16_t xlat_sum_bytes(uint16_t acc, const uint8_t *p, size_t len);
/* A checksum after words summing to old_sum were replaced by words summing
 * to new_sum (RFC 1624 eqn. 3). */
uint16_t xlat_csum_replace(uint16_t csum, uint16_t old_sum, uint16_t new_sum);

struct xlat_ipv4_header {
	uint8_t tos, ttl, proto;
	uint16_t total_len, id;
	bool df;
	uint32_t src, dst; /* host order */
};
/* A 20-byte IPv4 header with its checksum. */
void xlat_put_ipv4_header(uint8_t *h, const struct xlat_ipv4_header *f);
void xlat_put_ipv6_header(uint8_t *h, uint8_t tclass, uint16_t payload_len, uint8_t nh,
			  uint8_t hop_limit, const struct ip6_addr *src,
			  const struct ip6_addr *dst);
bool xlat_df(const struct xlat_6to4_options *opt, size_t total);

/* The ICMP(v6) message at in's layer 4, translated into out[cap]; *len its
 * length (no checksum yet: the caller sums the whole packet). */
enum xlat_result xlat_icmp6_to_icmp(const uint8_t *in, const struct packet6_info *pi,
				    const struct xlat_v4_addrs *outer,
				    const struct xlat_v4_addrs *inner,
				    const struct xlat_6to4_options *opt, uint8_t *out, size_t cap,
				    size_t *len);
enum xlat_result xlat_icmp_to_icmp6(const uint8_t *in, const struct packet_info *pi,
				    const struct xlat_v6_addrs *outer,
				    const struct xlat_v6_addrs *inner, uint8_t *out, size_t cap,
				    size_t *len);

#endif
