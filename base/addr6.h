/*
 * addr6.h - IPv6 addresses, prefixes and endpoints, and the family-tagged
 * address and endpoint that dual-stack code will carry (issue 18;
 * docs/ipv6.md says what uses them and what is still to come).
 *
 * An IPv6 address is 16 bytes in network byte order, as on the wire and in
 * struct in6_addr: 2001:db8::1 is {0x20, 0x01, 0x0d, 0xb8, 0, ..., 0, 1}.
 * (IPv4 addresses stay uint32_t in host order: base/endpoint.h.)
 *
 * Text, both ways:
 *   - parsing reads RFC 4291 section 2.2's three forms: eight groups
 *     (2001:db8:0:0:8:800:200c:417a), "::" for one or more zero groups
 *     (2001:db8::8:800:200c:417a), and an embedded dotted quad in the last
 *     32 bits (::ffff:192.0.2.1), and refuses anything else with a reason
 *     and the offset of the character at fault (enum ip6_error);
 *   - formatting writes RFC 5952 (section 4: lowercase, no leading zeros,
 *     the longest run of two or more zero groups as "::", the first on a
 *     tie; section 5: IPv4-mapped addresses as ::ffff:a.b.c.d; section 6:
 *     an endpoint as [addr]:port).
 */
#ifndef NATSIM_BASE_ADDR6_H
#define NATSIM_BASE_ADDR6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endpoint.h"

/* An IPv6 address, network byte order. */
struct ip6_addr {
	uint8_t b[16];
};

/* An IPv6 transport endpoint (address and UDP/TCP port, port in host order). */
struct endpoint6 {
	struct ip6_addr ip;
	uint16_t port;
};

/* Room for any address as text (INET6_ADDRSTRLEN: 45 and the NUL), and for
 * an endpoint "[...]:65535". */
#define IP6_TEXT_SIZE 46
#define ENDPOINT6_TEXT_SIZE 54

/* Why text is not an IPv6 address or prefix; ip6_error_str words it. */
enum ip6_error {
	IP6_OK = 0,
	IP6_ERR_EMPTY,		   /* nothing to read */
	IP6_ERR_CHAR,		   /* a character that has no place in an address */
	IP6_ERR_ZONE,		   /* "fe80::1%eth0": zone ids are not accepted */
	IP6_ERR_TWO_DOUBLE_COLONS, /* "2001:db8::1::2": "::" may appear once */
	IP6_ERR_TRIPLE_COLON,	   /* ":::" */
	IP6_ERR_LEADING_COLON,	   /* ":1::" - a lone colon at the start */
	IP6_ERR_TRAILING_COLON,	   /* "1::2:" - a lone colon at the end */
	IP6_ERR_GROUP_TOO_LONG,	   /* more than 4 hex digits in a group */
	IP6_ERR_TOO_MANY_GROUPS,   /* over 8 groups (or 8 and "::") */
	IP6_ERR_TOO_FEW_GROUPS,	   /* under 8 groups and no "::" */
	IP6_ERR_BAD_IPV4,      /* a dotted quad, alone or as the last 32 bits, that is not one */
	IP6_ERR_IPV4_NOT_LAST, /* a dotted quad anywhere but the last 32 bits */
	IP6_ERR_PREFIX_LENGTH, /* "/" not followed by 0..128 */
	IP6_ERR_PREFIX_LEADING_ZERO, /* "/032" */
	IP6_ERR_HOST_BITS,	     /* "2001:db8::1/32": bits set below the prefix */
	IP6_ERR_BRACKET,	     /* an endpoint not written "[addr]:port" */
	IP6_ERR_PORT,		     /* an endpoint's port not 0..65535 in decimal */
};

/* A short phrase for the error: "'::' appears more than once". */
const char *ip6_error_str(enum ip6_error err);

/* Parse a whole string as an address. Returns IP6_OK, or the error with
 * *out untouched and, if at != NULL, *at the offset of the character at
 * fault (for file:line:col). */
enum ip6_error ip6_parse(const char *s, struct ip6_addr *out, size_t *at);
/* "2001:db8::/32"; a bare address is a /128; the length is decimal 0..128
 * without leading zeros; bits set below the prefix are refused, as
 * prefix_parse refuses them for IPv4 (a typo that masking would hide). */
enum ip6_error ip6_prefix_parse(const char *s, struct ip6_addr *addr, uint8_t *len, size_t *at);
/* "[2001:db8::1]:3478" (RFC 5952 section 6); the port decimal 0..65535
 * without leading zeros. */
enum ip6_error endpoint6_parse(const char *s, struct endpoint6 *out, size_t *at);

/* RFC 5952 text, snprintf-style (truncated to size); each returns buf. */
char *ip6_format(const struct ip6_addr *a, char *buf, size_t size);
/* "[2001:db8::1]:3478" */
char *endpoint6_format(const struct endpoint6 *ep, char *buf, size_t size);
/* The text glibc's inet_ntop(AF_INET6) writes, which conntrack-tools
 * prints: RFC 5952 but for one legacy rule, an address whose first 96 bits
 * are zero and whose group 7 is not is written as a deprecated
 * IPv4-compatible one, ::a.b.c.d (glibc resolv/inet_ntop.c inet_ntop6). */
char *ip6_format_as_inet_ntop(const struct ip6_addr *a, char *buf, size_t size);

/* Comparisons and prefixes. */
bool ip6_equal(const struct ip6_addr *a, const struct ip6_addr *b);
int ip6_compare(const struct ip6_addr *a, const struct ip6_addr *b); /* memcmp order */
bool ip6_is_unspecified(const struct ip6_addr *a);		     /* :: */
/* `a` with every bit below the first `len` (0..128) cleared. */
struct ip6_addr ip6_prefix_masked(const struct ip6_addr *a, uint8_t len);
/* True when the first `len` bits of `a` equal those of `prefix`: the test a
 * longest-prefix-match routing table makes for each entry (it then keeps the
 * matching entry of the greatest len). len 0 matches everything. */
bool ip6_prefix_match(const struct ip6_addr *prefix, uint8_t len, const struct ip6_addr *a);

/* IPv4-mapped addresses, ::ffff:0:0/96 (RFC 4291 section 2.5.5.2). */
bool ip6_is_v4_mapped(const struct ip6_addr *a);
struct ip6_addr ip6_v4_mapped(uint32_t ip4);	     /* 192.0.2.1 -> ::ffff:192.0.2.1 */
uint32_t ip6_v4_of_mapped(const struct ip6_addr *a); /* the low 32 bits, host order */

/* ---- either family: what dual-stack code carries ------------------------ */

enum ip_family {
	IP_FAMILY_NONE = 0, /* no address (a host without IPv6) */
	IP_FAMILY_V4 = 4,
	IP_FAMILY_V6 = 6,
};

/* An address of either family; the union member `family` names is the one
 * that holds. An IPv4-mapped IPv6 address stays IPv6: which family a packet
 * travels in is a fact of the packet, not of its numbers. */
struct ip_addr {
	enum ip_family family;
	union {
		uint32_t v4; /* host order, as base/endpoint.h */
		struct ip6_addr v6;
	} u;
};

/* A transport endpoint of either family. */
struct ip_endpoint {
	struct ip_addr addr;
	uint16_t port;
};

struct ip_addr ip_addr_v4(uint32_t ip);
struct ip_addr ip_addr_v6(const struct ip6_addr *ip);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* IPv4 if the text has no ':' (base/endpoint.h's strict dotted quad, whose
 * refusal is IP6_ERR_BAD_IPV4 at 0), else IPv6. */
enum ip6_error ip_addr_parse(const char *s, struct ip_addr *out, size_t *at);
/* "192.0.2.1", "2001:db8::1", "none" for IP_FAMILY_NONE. Returns buf. */
char *ip_addr_format(const struct ip_addr *a, char *buf, size_t size);
/* "192.0.2.1:3478", "[2001:db8::1]:3478". Returns buf. */
char *ip_endpoint_format(const struct ip_endpoint *ep, char *buf, size_t size);

#endif
