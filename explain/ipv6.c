/*
 * ipv6.c - IPv6 in words: ICMPv6 names and the tuples of conntrack -L -f
 * ipv6 lines (conntrack_format_record writes the rest, for both families).
 *
 * The conntrack line was checked against the real tool: conntrack-tools
 * v1.4.7 on Linux 6.18 (in a network namespace, UDP flows over ::1 and over
 * addresses whose zero runs tie and differ, and a ping -6), whose lines
 * tests/test_explain_ipv6.c expects verbatim. libnetfilter_conntrack's
 * __snprintf_address_ipv6 writes the addresses with inet_ntop(AF_INET6),
 * hence ip6_format_as_inet_ntop; and __snprintf_proto writes an ICMPv6
 * tuple as "type=%u code=%u id=%u", as for ICMP.
 */
#include "explain/ipv6.h"

#include <stdio.h>

#include "explain/explain_internal.h"

static const char *unreachable_name(uint8_t code)
{
	/* RFC 4443 3.1 codes 0-6, in the words ip6tables' --reject-with uses
	 * where it has one ("icmp6-adm-prohibited", "icmp6-addr-unreachable",
	 * "icmp6-port-unreachable", "icmp6-no-route"). */
	static const char *const names[] = {
	    [0] = "no route to destination",
	    [1] = "administratively prohibited",
	    [2] = "beyond scope of source address",
	    [3] = "address unreachable",
	    [4] = "port unreachable",
	    [5] = "source address failed ingress/egress policy",
	    [6] = "reject route to destination",
	};
	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

/* RFC 4443 4.1-4.2 and RFC 4861 4.1-4.5 (not modelled: named only). */
static const char *informational_name(uint8_t type)
{
	static const char *const names[] = {
	    [0] = "echo request",
	    [1] = "echo reply",
	    [5] = "router solicitation",
	    [6] = "router advertisement",
	    [7] = "neighbor solicitation",
	    [8] = "neighbor advertisement",
	    [9] = "redirect",
	};
	if (type < 128 || type - 128 >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[type - 128];
}

const char *explain_icmp6_name(uint8_t type, uint8_t code, char *out, size_t size)
{
	const char *name = NULL;

	if (type == 1)
		name = unreachable_name(code);
	else if (type == 2 && code == 0)
		name = "packet too big";
	else if (type == 3) /* RFC 4443 3.3: 0 = hop limit exceeded in transit */
		name = code == 0   ? "hop limit exceeded"
		       : code == 1 ? "fragment reassembly time exceeded"
				   : NULL;
	else if (type == 4)
		name = "parameter problem";
	else if (code == 0)
		name = informational_name(type);
	if (name != NULL)
		snprintf(out, size, "%s", name);
	else if (type == 1)
		snprintf(out, size, "destination unreachable (code %u)", code);
	else
		snprintf(out, size, "ICMPv6 type %u code %u", type, code);
	return out;
}

bool explain_icmp6_is_error(uint8_t type)
{
	return type < 128;
}

int ct_format_tuple6(uint8_t proto, const struct trace_ct_tuple6 *t, char *out, size_t size)
{
	char src[IP6_TEXT_SIZE], dst[IP6_TEXT_SIZE];

	ip6_format_as_inet_ntop(&t->src, src, sizeof(src));
	ip6_format_as_inet_ntop(&t->dst, dst, sizeof(dst));
	if (proto == 58 /* ICMPv6 */)
		return snprintf(out, size, "src=%s dst=%s type=%u code=%u id=%u", src, dst,
				(unsigned)(t->dport >> 8), (unsigned)(t->dport & 0xff), t->sport);
	return snprintf(out, size, "src=%s dst=%s sport=%u dport=%u", src, dst, t->sport, t->dport);
}
