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
