/*
 * p2p.c - endpoint text helpers shared by the p2p layer (p2p has no base/:
 * its own small IPv6 formatter and parser, RFC 5952 out, RFC 4291 2.2 in).
 */
#include "p2p.h"

#include <stdio.h>

bool p2p_endpoint_has_addr(const struct p2p_endpoint *ep)
{
	if (!p2p_endpoint_is6(ep))
		return ep->ip != 0;
	for (int i = 0; i < 16; i++)
		if (ep->ip6[i] != 0)
			return true;
	return false;
}

bool p2p_endpoint_same_addr(const struct p2p_endpoint *a, const struct p2p_endpoint *b)
{
	struct p2p_endpoint x = *a;

	x.port = b->port;
	return p2p_endpoint_equal(&x, b);
}

/* RFC 5952 section 4.2.2-4.2.3: the longest run of two or more zero groups,
 * the first of equal runs, becomes "::". Returns its start, -1 for none. */
static int longest_zero_run(const uint16_t g[8], int *len)
{
	int best = -1, best_len = 1;

	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	*len = best_len;
	return best;
}

static void format_addr6(const uint8_t a[16], char *buf, size_t size)
{
	uint16_t g[8];
	int run_len, run, n = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	/* RFC 5952 section 5: an IPv4-mapped address in mixed notation, as
	 * inet_ntop writes it. */
	if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
		snprintf(buf, size, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	run = longest_zero_run(g, &run_len);
	for (int i = 0; i < 8 && (size_t)n < size; i++) {
		if (i == run) {
			n += snprintf(buf + n, size - (size_t)n, "::");
			i += run_len - 1;
			continue;
		}
		/* RFC 5952 4.1 and 4.3: no leading zeros, lower case. */
		n += snprintf(buf + n, size - (size_t)n, "%s%x",
			      i > 0 && i != run + run_len ? ":" : "", (unsigned)g[i]);
	}
}

char *p2p_addr_format(const struct p2p_endpoint *ep, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (p2p_endpoint_is6(ep))
		format_addr6(ep->ip6, buf, size);
	else
		snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(ep->ip >> 24),
			 (unsigned)(ep->ip >> 16) & 0xFFu, (unsigned)(ep->ip >> 8) & 0xFFu,
			 (unsigned)ep->ip & 0xFFu);
	return buf;
}

char *p2p_endpoint_format(const struct p2p_endpoint *ep, char *buf, size_t size)
{
	char addr[P2P_ENDPOINT_STRLEN];

	if (size == 0)
		return buf;
	p2p_addr_format(ep, addr, sizeof(addr));
	/* RFC 5952 section 6: an IPv6 address beside a port is bracketed. */
	if (p2p_endpoint_is6(ep))
		snprintf(buf, size, "[%s]:%u", addr, (unsigned)ep->port);
	else
		snprintf(buf, size, "%s:%u", addr, (unsigned)ep->port);
	return buf;
}

/* Reads 1 to `max_digits` decimal digits no larger than `limit`; advances *p.
 * A leading zero ("001") is refused: inet_aton and many tools read it as octal,
 * so "192.168.001.010" means different addresses to different programs. */
static int parse_decimal(const char **p, unsigned max_digits, unsigned long limit,
			 unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;
	unsigned n = 0;

	while (*s >= '0' && *s <= '9' && n < max_digits) {
		v = v * 10 + (unsigned long)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || v > limit || (*s >= '0' && *s <= '9') || (n > 1 && **p == '0'))
		return -1;
	*p = s;
	*out = v;
	return 0;
}

/* "a.b.c.d" up to `end` (':' for an IPv4 endpoint, '\0' or ']' for the last
 * 32 bits of an IPv6 address); *p is left on `end`. */
static int parse_quad(const char **p, char end, uint32_t *out)
{
	uint32_t ip = 0;
	unsigned long v;

	for (int i = 0; i < 4; i++) {
		if (parse_decimal(p, 3, 255, &v) != 0)
			return -1;
		ip = (ip << 8) | (uint32_t)v;
		if (**p != (i < 3 ? '.' : end))
			return -1;
		if (i < 3)
			(*p)++;
	}
	*out = ip;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One group of 1-4 hex digits, or a dotted quad (two groups) where `room`
 * leaves space for it; the quad must end the address. Returns groups
 * written (1 or 2), or -1. */
static int parse_group(const char **p, uint16_t *g, int room)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	while (n < 5 && hex_value(s[n]) >= 0)
		v = v << 4 | (unsigned)hex_value(s[n++]);
	if (s[n] == '.' && room >= 2) {
		uint32_t q;
		if (parse_quad(p, ']', &q) != 0)
			return -1;
		g[0] = (uint16_t)(q >> 16);
		g[1] = (uint16_t)q;
		return 2;
	}
	if (n == 0 || n > 4)
		return -1;
	*g = (uint16_t)v;
	*p = s + n;
	return 1;
}

/* RFC 4291 2.2 text up to ']'; *p is left on it. */
static int parse_addr6(const char **p, uint8_t out[16])
{
	uint16_t g[8] = {0};
	int n = 0, gap = -1;
	const char *s = *p;

	if (s[0] == ':' && s[1] == ':') {
		gap = 0;
		s += 2;
	}
	while (*s != ']') {
		int k = n < 8 ? parse_group(&s, &g[n], 8 - n) : -1;
		if (k < 0)
			return -1;
		n += k;
		if (*s == ']')
			break;
		if (*s != ':' || k == 2)
			return -1;
		s++;
		if (*s == ':') {
			if (gap >= 0)
				return -1; /* "::" twice */
			gap = n;
			s++;
		} else if (*s == ']')
			return -1; /* a trailing single ':' */
	}
	if (gap < 0 ? n != 8 : n > 7)
		return -1;
	for (int i = 0, j = 0; i < 8; i++) {
		bool zero = gap >= 0 && i >= gap && i < gap + 8 - n;
		uint16_t v = zero ? 0 : g[j++];
		out[2 * i] = (uint8_t)(v >> 8);
		out[2 * i + 1] = (uint8_t)v;
	}
	*p = s;
	return 0;
}

int p2p_endpoint_parse(const char *text, struct p2p_endpoint *out)
{
	const char *p = text;
	struct p2p_endpoint ep = {0};
	unsigned long v;

	if (text == NULL || out == NULL)
		return -1;
	if (*p == '[') {
		p++;
		if (parse_addr6(&p, ep.ip6) != 0 || p[1] != ':')
			return -1;
		ep.family = P2P_FAMILY_IPV6;
		p += 2;
	} else {
		if (parse_quad(&p, ':', &ep.ip) != 0)
			return -1;
		p++;
	}
	if (parse_decimal(&p, 5, 65535, &v) != 0 || *p != '\0')
		return -1;
	ep.port = (uint16_t)v;
	*out = ep;
	return 0;
}

/* Destination unreachable codes 0..15 that Linux reports as fatal
 * (icmp_err_convert[].fatal, net/ipv4/icmp.c): 2, 3, 6-10, 13-15. */
#define HARD_UNREACH_CODES 0xE7CCu

bool p2p_icmp_error_is_hard(uint8_t type, uint8_t code)
{
	if (type == P2P_ICMP_DEST_UNREACH)
		return code < 16 && (HARD_UNREACH_CODES >> code & 1u);
	/* __udp4_lib_err: a parameter problem is EPROTO, hard; time
	 * exceeded is EHOSTUNREACH, soft. */
	return type == P2P_ICMP_PARAMETER_PROBLEM;
}

const char *p2p_icmp_error_name(uint8_t type, uint8_t code, char *buf, size_t size)
{
	static const char *const unreach[16] = {
	    "network unreachable",
	    "host unreachable",
	    "protocol unreachable",
	    "port unreachable",
	    "fragmentation needed",
	    "source route failed",
	    "destination network unknown",
	    "destination host unknown",
	    "source host isolated",
	    "network administratively prohibited",
	    "host administratively prohibited",
	    "network unreachable for TOS",
	    "host unreachable for TOS",
	    "communication administratively prohibited",
	    "host precedence violation",
	    "precedence cutoff in effect",
	};
	const char *name = NULL;

	if (type == P2P_ICMP_DEST_UNREACH && code < 16)
		name = unreach[code];
	else if (type == P2P_ICMP_TIME_EXCEEDED)
		name = code == 0 ? "time exceeded in transit" : "fragment reassembly time exceeded";
	else if (type == P2P_ICMP_PARAMETER_PROBLEM)
		name = "parameter problem";
	if (name != NULL)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "ICMP type %u code %u", (unsigned)type, (unsigned)code);
	return buf;
}

/* tab_unreach's fatal column (net/ipv6/icmp.c), codes 0-6: 1, 4, 5, 6 hard. */
#define HARD_UNREACH6_CODES 0x72u

bool p2p_icmp6_error_is_hard(uint8_t type, uint8_t code)
{
	/* icmpv6_err_convert: an unreachable code past the table is fatal. */
	if (type == P2P_ICMP6_DEST_UNREACH)
		return code > 6 || (HARD_UNREACH6_CODES >> code & 1u);
	return type == P2P_ICMP6_PARAMETER_PROBLEM;
}

const char *p2p_icmp6_error_name(uint8_t type, uint8_t code, char *buf, size_t size)
{
	static const char *const unreach[7] = {
	    "no route to destination",
	    "communication administratively prohibited",
	    "beyond scope of source address",
	    "address unreachable",
	    "port unreachable",
	    "source address failed ingress/egress policy",
	    "reject route to destination",
	};
	const char *name = NULL;

	if (type == P2P_ICMP6_DEST_UNREACH && code < 7)
		name = unreach[code];
	else if (type == P2P_ICMP6_PACKET_TOO_BIG)
		name = "packet too big";
	else if (type == P2P_ICMP6_TIME_EXCEEDED)
		name = code == 0 ? "hop limit exceeded in transit"
				 : "fragment reassembly time exceeded";
	else if (type == P2P_ICMP6_PARAMETER_PROBLEM)
		name = "parameter problem";
	if (name != NULL)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "ICMPv6 type %u code %u", (unsigned)type, (unsigned)code);
	return buf;
}

bool p2p_icmp_error_hard(const struct p2p_icmp_error *err)
{
	return p2p_endpoint_is6(&err->local) ? p2p_icmp6_error_is_hard(err->type, err->code)
					     : p2p_icmp_error_is_hard(err->type, err->code);
}

const char *p2p_icmp_error_words(const struct p2p_icmp_error *err, char *buf, size_t size)
{
	return p2p_endpoint_is6(&err->local) ? p2p_icmp6_error_name(err->type, err->code, buf, size)
					     : p2p_icmp_error_name(err->type, err->code, buf, size);
}
