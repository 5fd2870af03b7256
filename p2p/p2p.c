/*
 * p2p.c - endpoint text helpers shared by the p2p layer.
 */
#include "p2p.h"

#include <stdio.h>

char *p2p_endpoint_format(const struct p2p_endpoint *ep, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	snprintf(buf, size, "%u.%u.%u.%u:%u", (unsigned)(ep->ip >> 24),
		 (unsigned)(ep->ip >> 16) & 0xFFu, (unsigned)(ep->ip >> 8) & 0xFFu,
		 (unsigned)ep->ip & 0xFFu, (unsigned)ep->port);
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

int p2p_endpoint_parse(const char *text, struct p2p_endpoint *out)
{
	const char *p = text;
	uint32_t ip = 0;
	unsigned long v;

	if (text == NULL || out == NULL)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (parse_decimal(&p, 3, 255, &v) != 0)
			return -1;
		ip = (ip << 8) | (uint32_t)v;
		if (*p != (i < 3 ? '.' : ':'))
			return -1;
		p++;
	}
	if (parse_decimal(&p, 5, 65535, &v) != 0 || *p != '\0')
		return -1;
	out->ip = ip;
	out->port = (uint16_t)v;
	return 0;
}
