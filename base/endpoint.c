/*
 * endpoint.c - IPv4 addresses and endpoints as text, both ways.
 *
 * Decisions beyond endpoint.h:
 *   - ip_parse is strict dotted-quad: four decimal parts 0-255, no leading
 *     zeros (inet_aton would read "010" as octal 8, a trap for students).
 *   - prefix_parse rejects host bits set below the prefix ("10.0.0.1/8"):
 *     such a prefix is usually a typo, and silently masking it would hide it.
 *     A bare address is read as a /32, as iptables reads "-s 1.2.3.4".
 */
#include "base/endpoint.h"

#include <stdio.h>

char *ip_format(uint32_t ip, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16) & 0xff,
		 (unsigned)(ip >> 8) & 0xff, (unsigned)ip & 0xff);
	return buf;
}

char *endpoint_format(const struct endpoint *ep, char *buf, size_t size)
{
	uint32_t ip = ep->ip;

	snprintf(buf, size, "%u.%u.%u.%u:%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16) & 0xff,
		 (unsigned)(ip >> 8) & 0xff, (unsigned)ip & 0xff, (unsigned)ep->port);
	return buf;
}

/* A decimal number of 1-3 digits, no leading zero, at most `max`. Advances *s. */
static int parse_small_decimal(const char **s, unsigned max, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0;
	int digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits > 3 || (digits > 1 && **s == '0') || v > max)
		return -1;
	*s = p;
	*out = v;
	return 0;
}

/* Parse a dotted quad at *s, stopping at the first char after it. */
static int parse_quad(const char **s, uint32_t *out)
{
	uint32_t ip = 0;
	unsigned part;

	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (**s != '.')
				return -1;
			(*s)++;
		}
		if (parse_small_decimal(s, 255, &part) != 0)
			return -1;
		ip = (ip << 8) | part;
	}
	*out = ip;
	return 0;
}

int ip_parse(const char *s, uint32_t *out)
{
	uint32_t ip;

	if (s == NULL || parse_quad(&s, &ip) != 0 || *s != '\0')
		return -1;
	*out = ip;
	return 0;
}

int prefix_parse(const char *s, uint32_t *addr, uint8_t *len)
{
	uint32_t ip;
	unsigned bits = 32;

	if (s == NULL || parse_quad(&s, &ip) != 0)
		return -1;
	if (*s == '/') {
		s++;
		if (parse_small_decimal(&s, 32, &bits) != 0)
			return -1;
	}
	if (*s != '\0' || (ip & ~prefix_mask((uint8_t)bits)) != 0)
		return -1;
	*addr = ip;
	*len = (uint8_t)bits;
	return 0;
}
