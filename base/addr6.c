/*
 * addr6.c - IPv6 addresses, prefixes and endpoints as text, both ways, and
 * the family-tagged address.
 *
 * Decisions beyond addr6.h:
 *   - Zone ids ("fe80::1%eth0", RFC 4007 section 11) are refused: natsim
 *     models no link-local scope (no neighbour discovery, one global
 *     address per interface), so a zone would name nothing.
 *   - "::" may stand for a single zero group when parsing (RFC 4291 section
 *     2.2 allows it; inet_pton accepts it) though RFC 5952 section 4.2.2
 *     forbids writing it: be liberal in what is read, strict in what is
 *     written.
 *   - Prefixes with bits set below the length are refused, as prefix_parse
 *     refuses them for IPv4: "2001:db8::1/32" is more often a typo (an
 *     address where a network was meant) than a wish, and masking it
 *     silently would hide the typo from the student.
 *   - Only IPv4-mapped addresses are written with a dotted quad: RFC 5952
 *     section 5 asks for the mixed form where a well-known prefix shows an
 *     IPv4 address is embedded; inet_ntop and tools built on it (ip,
 *     conntrack, Wireshark) write it for ::ffff:0:0/96 alone, and natsim
 *     prints what those tools print. (The NAT64 prefix 64:ff9b::/96 is
 *     written in hex, as `ip -6 route` shows it.)
 */
#include "base/addr6.h"

#include <stdio.h>
#include <string.h>

static const char *const error_strs[] = {
    [IP6_OK] = "ok",
    [IP6_ERR_EMPTY] = "no address given",
    [IP6_ERR_CHAR] = "a character that has no place in an IPv6 address",
    [IP6_ERR_ZONE] = "zone ids (%eth0) are not accepted: natsim does not model link-local "
		     "scope",
    [IP6_ERR_TWO_DOUBLE_COLONS] = "'::' appears more than once (it may stand for one run of "
				  "zero groups only, RFC 4291 section 2.2)",
    [IP6_ERR_TRIPLE_COLON] = "':::' is not an IPv6 address part (use '::' once)",
    [IP6_ERR_LEADING_COLON] = "a single ':' at the start (write '::' or a group)",
    [IP6_ERR_TRAILING_COLON] = "a single ':' at the end (write '::' or a group)",
    [IP6_ERR_GROUP_TOO_LONG] = "a group has more than 4 hex digits",
    [IP6_ERR_TOO_MANY_GROUPS] = "more than 8 groups of 16 bits",
    [IP6_ERR_TOO_FEW_GROUPS] = "fewer than 8 groups and no '::' to stand for the rest",
    [IP6_ERR_BAD_IPV4] = "not a dotted quad a.b.c.d (four parts 0-255, no leading zeros)",
    [IP6_ERR_IPV4_NOT_LAST] = "an embedded IPv4 address may only fill the last 32 bits",
    [IP6_ERR_PREFIX_LENGTH] = "the prefix length is not a number from 0 to 128",
    [IP6_ERR_PREFIX_LEADING_ZERO] = "the prefix length has a leading zero",
    [IP6_ERR_HOST_BITS] = "bits are set below the prefix length (an address, not a network)",
    [IP6_ERR_BRACKET] = "an IPv6 endpoint is written [address]:port",
    [IP6_ERR_PORT] = "the port is not a number from 0 to 65535",
};

const char *ip6_error_str(enum ip6_error err)
{
	if ((size_t)err >= sizeof(error_strs) / sizeof(error_strs[0]))
		return "unknown error";
	return error_strs[err];
}

/* ---- parsing ---- */

/* A parse of s[0 .. end): up to 8 groups, and where "::" stood (-1: none). */
struct scan {
	const char *s;
	size_t i, end;
	uint16_t g[8];
	int n, gap;
};

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

static enum ip6_error fail(size_t *at, size_t where, enum ip6_error err)
{
	if (at != NULL)
		*at = where;
	return err;
}

/* The dotted quad at sc->i, up to the next ':' or the end: the last 32 bits. */
static enum ip6_error scan_quad(struct scan *sc, size_t *at)
{
	size_t start = sc->i, stop = start;
	char quad[16];
	uint32_t v4;

	while (stop < sc->end && sc->s[stop] != ':')
		stop++;
	if (stop < sc->end)
		return fail(at, start, IP6_ERR_IPV4_NOT_LAST);
	if (stop - start >= sizeof(quad))
		return fail(at, start, IP6_ERR_BAD_IPV4);
	memcpy(quad, sc->s + start, stop - start);
	quad[stop - start] = '\0';
	if (ip_parse(quad, &v4) != 0)
		return fail(at, start, IP6_ERR_BAD_IPV4);
	if (sc->n + 2 > (sc->gap >= 0 ? 7 : 8))
		return fail(at, start, IP6_ERR_TOO_MANY_GROUPS);
	sc->g[sc->n++] = (uint16_t)(v4 >> 16);
	sc->g[sc->n++] = (uint16_t)v4;
	sc->i = stop;
	return IP6_OK;
}

/* One group (1-4 hex digits) or the final dotted quad at sc->i. */
static enum ip6_error scan_group(struct scan *sc, size_t *at)
{
	size_t start = sc->i, j = start;
	unsigned v = 0;

	while (j < sc->end && hex_value(sc->s[j]) >= 0) {
		v = (v << 4 | (unsigned)hex_value(sc->s[j])) & 0xfffff;
		j++;
	}
	if (j < sc->end && sc->s[j] == '.')
		return scan_quad(sc, at);
	if (j == start)
		return fail(at, start, IP6_ERR_CHAR);
	if (j - start > 4)
		return fail(at, start, IP6_ERR_GROUP_TOO_LONG);
	if (sc->n >= (sc->gap >= 0 ? 7 : 8))
		return fail(at, start, IP6_ERR_TOO_MANY_GROUPS);
	sc->g[sc->n++] = (uint16_t)v;
	sc->i = j;
	return IP6_OK;
}

/* "::" at sc->i: once only, never ":::", and not after 8 groups. */
static enum ip6_error scan_gap(struct scan *sc, size_t *at)
{
	if (sc->i + 2 < sc->end && sc->s[sc->i + 2] == ':')
		return fail(at, sc->i, IP6_ERR_TRIPLE_COLON);
	if (sc->gap >= 0)
		return fail(at, sc->i, IP6_ERR_TWO_DOUBLE_COLONS);
	if (sc->n >= 8)
		return fail(at, sc->i, IP6_ERR_TOO_MANY_GROUPS);
	sc->gap = sc->n;
	sc->i += 2;
	return IP6_OK;
}

/* What follows a group: the end, "::", ':' and another group, or an error. */
static enum ip6_error scan_separator(struct scan *sc, size_t *at, bool *done)
{
	const char *s = sc->s;

	*done = sc->i >= sc->end;
	if (*done)
		return IP6_OK;
	if (s[sc->i] != ':')
		return fail(at, sc->i, IP6_ERR_CHAR);
	if (sc->i + 1 < sc->end && s[sc->i + 1] == ':') {
		enum ip6_error err = scan_gap(sc, at);

		*done = err == IP6_OK && sc->i >= sc->end;
		return err;
	}
	if (sc->i + 1 >= sc->end)
		return fail(at, sc->i, IP6_ERR_TRAILING_COLON);
	sc->i++;
	return IP6_OK;
}

static void expand(const struct scan *sc, struct ip6_addr *out)
{
	uint16_t g[8] = {0};
	int tail = sc->gap >= 0 ? sc->n - sc->gap : 0;

	for (int k = 0; k < sc->n - tail; k++)
		g[k] = sc->g[k];
	for (int k = 0; k < tail; k++)
		g[8 - tail + k] = sc->g[sc->gap + k];
	for (int k = 0; k < 8; k++) {
		out->b[2 * k] = (uint8_t)(g[k] >> 8);
		out->b[2 * k + 1] = (uint8_t)g[k];
	}
}

/* Parse s[0 .. end) as an address. */
static enum ip6_error parse_range(const char *s, size_t end, struct ip6_addr *out, size_t *at)
{
	struct scan sc = {.s = s, .end = end, .gap = -1};
	const char *zone = memchr(s, '%', end);
	enum ip6_error err = IP6_OK;
	bool done = false;

	if (end == 0)
		return fail(at, 0, IP6_ERR_EMPTY);
	if (zone != NULL)
		return fail(at, (size_t)(zone - s), IP6_ERR_ZONE);
	if (s[0] == ':' && (end < 2 || s[1] != ':'))
		return fail(at, 0, IP6_ERR_LEADING_COLON);
	if (s[0] == ':') {
		err = scan_gap(&sc, at);
		done = sc.i >= end;
	}
	while (err == IP6_OK && !done) {
		err = scan_group(&sc, at);
		if (err == IP6_OK)
			err = scan_separator(&sc, at, &done);
	}
	if (err != IP6_OK)
		return err;
	if (sc.gap < 0 && sc.n < 8)
		return fail(at, end, IP6_ERR_TOO_FEW_GROUPS);
	expand(&sc, out);
	return IP6_OK;
}

enum ip6_error ip6_parse(const char *s, struct ip6_addr *out, size_t *at)
{
	if (s == NULL)
		return fail(at, 0, IP6_ERR_EMPTY);
	return parse_range(s, strlen(s), out, at);
}

/* A decimal of 1..digits digits at most max, no leading zero: the length
 * of the number, or 0 with *why set. */
static size_t parse_decimal(const char *s, unsigned max, size_t digits, unsigned *out,
			    enum ip6_error bad, enum ip6_error *why)
{
	size_t n = 0;
	unsigned long v = 0;

	while (s[n] >= '0' && s[n] <= '9' && n <= digits) {
		v = v * 10 + (unsigned long)(s[n] - '0');
		n++;
	}
	*why = bad;
	if (n == 0 || n > digits || s[n] != '\0' || v > max)
		return 0;
	if (n > 1 && s[0] == '0') {
		*why = bad == IP6_ERR_PREFIX_LENGTH ? IP6_ERR_PREFIX_LEADING_ZERO : bad;
		return 0;
	}
	*out = (unsigned)v;
	return n;
}

enum ip6_error ip6_prefix_parse(const char *s, struct ip6_addr *addr, uint8_t *len, size_t *at)
{
	const char *slash;
	struct ip6_addr a, masked;
	unsigned bits = 128;
	enum ip6_error err;

	if (s == NULL)
		return fail(at, 0, IP6_ERR_EMPTY);
	slash = strchr(s, '/');
	err = parse_range(s, slash ? (size_t)(slash - s) : strlen(s), &a, at);
	if (err != IP6_OK)
		return err;
	if (slash != NULL &&
	    parse_decimal(slash + 1, 128, 3, &bits, IP6_ERR_PREFIX_LENGTH, &err) == 0)
		return fail(at, (size_t)(slash - s) + 1, err);
	masked = ip6_prefix_masked(&a, (uint8_t)bits);
	if (!ip6_equal(&masked, &a))
		return fail(at, 0, IP6_ERR_HOST_BITS);
	*addr = a;
	*len = (uint8_t)bits;
	return IP6_OK;
}

enum ip6_error endpoint6_parse(const char *s, struct endpoint6 *out, size_t *at)
{
	const char *close;
	struct ip6_addr a;
	unsigned port;
	enum ip6_error err;

	if (s == NULL || *s == '\0')
		return fail(at, 0, IP6_ERR_EMPTY);
	if (s[0] != '[')
		return fail(at, 0, IP6_ERR_BRACKET);
	close = strchr(s, ']');
	if (close == NULL)
		return fail(at, strlen(s), IP6_ERR_BRACKET);
	err = parse_range(s + 1, (size_t)(close - s - 1), &a, at);
	if (err != IP6_OK) {
		if (at != NULL)
			*at += 1;
		return err;
	}
	if (close[1] != ':')
		return fail(at, (size_t)(close - s) + 1, IP6_ERR_BRACKET);
	if (parse_decimal(close + 2, 65535, 5, &port, IP6_ERR_PORT, &err) == 0)
		return fail(at, (size_t)(close - s) + 2, err);
	out->ip = a;
	out->port = (uint16_t)port;
	return IP6_OK;
}

/* ---- formatting ---- */

static void groups_of(const struct ip6_addr *a, uint16_t g[8])
{
	for (int k = 0; k < 8; k++)
		g[k] = (uint16_t)(a->b[2 * k] << 8 | a->b[2 * k + 1]);
}

/* The longest run of two or more zero groups, the first on a tie (RFC 5952
 * section 4.2.3); *base -1 when there is none. */
static void longest_zero_run(const uint16_t g[8], int *base, int *len)
{
	*base = -1;
	*len = 0;
	for (int k = 0; k < 8;) {
		int run = 0;

		while (k + run < 8 && g[k + run] == 0)
			run++;
		if (run >= 2 && run > *len) {
			*base = k;
			*len = run;
		}
		k += run > 0 ? run : 1;
	}
}

/* RFC 5952 section 4, with the last 32 bits as a dotted quad when `quad`. */
static char *write_groups(const struct ip6_addr *a, bool quad, char *buf, size_t size)
{
	uint16_t g[8];
	int base, len, last = quad ? 6 : 8;
	size_t pos = 0;

#define APPEND(...)                                                                                \
	do {                                                                                       \
		int n_ = snprintf(buf + pos, pos < size ? size - pos : 0, __VA_ARGS__);            \
		pos += n_ > 0 ? (size_t)n_ : 0;                                                    \
	} while (0)
	if (size > 0)
		buf[0] = '\0';
	groups_of(a, g);
	longest_zero_run(g, &base, &len);
	/* With a quad, groups 6 and 7 are never in the run: an IPv4-mapped
	 * address has ffff in group 5, an inet_ntop compatible one a non-zero
	 * group 6. */
	for (int k = 0; k < last; k++) {
		if (base >= 0 && k >= base && k < base + len) {
			if (k == base)
				APPEND(":");
			continue;
		}
		APPEND("%s%x", k > 0 ? ":" : "", g[k]);
	}
	if (base >= 0 && base + len == last)
		APPEND(":");
	if (quad)
		APPEND("%s%u.%u.%u.%u", base >= 0 && base + len == last ? "" : ":", a->b[12],
		       a->b[13], a->b[14], a->b[15]);
#undef APPEND
	return buf;
}

bool ip6_is_v4_mapped(const struct ip6_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

char *ip6_format(const struct ip6_addr *a, char *buf, size_t size)
{
	return write_groups(a, ip6_is_v4_mapped(a), buf, size);
}

char *ip6_format_as_inet_ntop(const struct ip6_addr *a, char *buf, size_t size)
{
	static const uint8_t zero[12] = {0};
	/* inet_ntop6: the quad when the best zero run is groups 0-5 (group 6
	 * is not zero), or groups 0-4 followed by ffff. */
	bool compat = memcmp(a->b, zero, 12) == 0 && (a->b[12] != 0 || a->b[13] != 0);

	return write_groups(a, compat || ip6_is_v4_mapped(a), buf, size);
}

char *endpoint6_format(const struct endpoint6 *ep, char *buf, size_t size)
{
	char ip[IP6_TEXT_SIZE];

	snprintf(buf, size, "[%s]:%u", ip6_format(&ep->ip, ip, sizeof(ip)), (unsigned)ep->port);
	return buf;
}

/* ---- comparisons and prefixes ---- */

bool ip6_equal(const struct ip6_addr *a, const struct ip6_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

int ip6_compare(const struct ip6_addr *a, const struct ip6_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

bool ip6_is_unspecified(const struct ip6_addr *a)
{
	static const struct ip6_addr zero;

	return ip6_equal(a, &zero);
}

struct ip6_addr ip6_prefix_masked(const struct ip6_addr *a, uint8_t len)
{
	struct ip6_addr m = *a;

	if (len > 128)
		len = 128;
	for (int k = 0; k < 16; k++) {
		int keep = (int)len - 8 * k; /* bits of byte k inside the prefix */

		if (keep <= 0)
			m.b[k] = 0;
		else if (keep < 8)
			m.b[k] &= (uint8_t)(0xff << (8 - keep));
	}
	return m;
}

bool ip6_prefix_match(const struct ip6_addr *prefix, uint8_t len, const struct ip6_addr *a)
{
	struct ip6_addr p = ip6_prefix_masked(prefix, len), x = ip6_prefix_masked(a, len);

	return ip6_equal(&p, &x);
}

struct ip6_addr ip6_v4_mapped(uint32_t ip4)
{
	struct ip6_addr a = {{0}};

	a.b[10] = a.b[11] = 0xff;
	a.b[12] = (uint8_t)(ip4 >> 24);
	a.b[13] = (uint8_t)(ip4 >> 16);
	a.b[14] = (uint8_t)(ip4 >> 8);
	a.b[15] = (uint8_t)ip4;
	return a;
}

uint32_t ip6_v4_of_mapped(const struct ip6_addr *a)
{
	return IP4(a->b[12], a->b[13], a->b[14], a->b[15]);
}

/* ---- either family ---- */

struct ip_addr ip_addr_v4(uint32_t ip)
{
	return (struct ip_addr){.family = IP_FAMILY_V4, .u.v4 = ip};
}

struct ip_addr ip_addr_v6(const struct ip6_addr *ip)
{
	return (struct ip_addr){.family = IP_FAMILY_V6, .u.v6 = *ip};
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == IP_FAMILY_V4)
		return a->u.v4 == b->u.v4;
	return a->family == IP_FAMILY_NONE || ip6_equal(&a->u.v6, &b->u.v6);
}

enum ip6_error ip_addr_parse(const char *s, struct ip_addr *out, size_t *at)
{
	struct ip6_addr a6;
	uint32_t a4;
	enum ip6_error err;

	if (s == NULL || *s == '\0')
		return fail(at, 0, IP6_ERR_EMPTY);
	if (strchr(s, ':') == NULL) {
		if (ip_parse(s, &a4) != 0)
			return fail(at, 0, IP6_ERR_BAD_IPV4);
		*out = ip_addr_v4(a4);
		return IP6_OK;
	}
	err = ip6_parse(s, &a6, at);
	if (err == IP6_OK)
		*out = ip_addr_v6(&a6);
	return err;
}

char *ip_addr_format(const struct ip_addr *a, char *buf, size_t size)
{
	if (a->family == IP_FAMILY_V4)
		return ip_format(a->u.v4, buf, size);
	if (a->family == IP_FAMILY_V6)
		return ip6_format(&a->u.v6, buf, size);
	snprintf(buf, size, "none");
	return buf;
}

char *ip_endpoint_format(const struct ip_endpoint *ep, char *buf, size_t size)
{
	char ip[IP6_TEXT_SIZE];

	if (ep->addr.family == IP_FAMILY_V6)
		snprintf(buf, size, "[%s]:%u", ip6_format(&ep->addr.u.v6, ip, sizeof(ip)),
			 (unsigned)ep->port);
	else
		snprintf(buf, size, "%s:%u", ip_addr_format(&ep->addr, ip, sizeof(ip)),
			 (unsigned)ep->port);
	return buf;
}
