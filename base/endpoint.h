/*
 * endpoint.h - IPv4 addresses and transport endpoints, the vocabulary every
 * layer above base/ shares (DESIGN.md "Layers"): the trace records them, the
 * models route and translate them, the renderers and the scenario language
 * print and read them.
 *
 * Addresses are uint32_t in host byte order (192.0.2.1 is 0xC0000201); the
 * packet codec (model/packet.c) converts at the wire. p2p/ keeps its own
 * struct p2p_endpoint: it stands alone and uses nothing of ours.
 */
#ifndef NATSIM_BASE_ENDPOINT_H
#define NATSIM_BASE_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

/* An IPv4 transport endpoint (address and UDP/TCP port), host byte order. */
struct endpoint {
	uint32_t ip;
	uint16_t port;
};

/* 192.0.2.1 written as IP4(192, 0, 2, 1). */
#define IP4(a, b, c, d)                                                                            \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* Formatting, snprintf-style (truncated to size); each returns buf. */
char *ip_format(uint32_t ip, char *buf, size_t size);			  /* "a.b.c.d" */
char *endpoint_format(const struct endpoint *ep, char *buf, size_t size); /* "a.b.c.d:p" */

/* Parsing: strict dotted quads (four decimal parts 0-255, no leading zeros).
 * Return 0, or -1 with the outputs untouched. */
int ip_parse(const char *s, uint32_t *out);
/* "10.0.0.0/8"; a bare address is a /32; host bits below the prefix refused. */
int prefix_parse(const char *s, uint32_t *addr, uint8_t *len);

/* The netmask of a prefix length 0-32 (24 gives 255.255.255.0). */
static inline uint32_t prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : (uint32_t)0xffffffffu << (32 - len);
}

#endif
