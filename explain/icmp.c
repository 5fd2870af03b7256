/*
 * icmp.c - ICMP in words: what a message is called, a packet named with what
 * it is about, and what the sender of a dropped packet was told.
 *
 * Names follow RFC 792 and RFC 1812 5.2.7.1 (the codes a router sends), in
 * the short forms iptables' --reject-with and a student's ping/traceroute
 * print: "port unreachable", "time exceeded". An echo is "ping": that is the
 * program that sends it and the word a student knows.
 */
#include "explain/explain.h"
#include "explain/ipv6.h"

#include <stdio.h>

#define ARROW "\u2192"

static const char *unreachable_name(uint8_t code)
{
	/* RFC 792 codes 0-5, RFC 1122 3.2.2.1 codes 6-12, RFC 1812 5.2.7.1 13-15;
	 * the same words as the dissector's icmp_describe (model/packet_icmp.c). */
	static const char *const names[] = {
	    [0] = "network unreachable",
	    [1] = "host unreachable",
	    [2] = "protocol unreachable",
	    [3] = "port unreachable",
	    [4] = "fragmentation needed",
	    [5] = "source route failed",
	    [6] = "destination network unknown",
	    [7] = "destination host unknown",
	    [9] = "network administratively prohibited",
	    [10] = "host administratively prohibited",
	    [13] = "communication administratively prohibited",
	};
	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

const char *explain_icmp_name(uint8_t type, uint8_t code, char *out, size_t size)
{
	const char *name = NULL;

	switch (type) {
	case 0:
		name = "echo reply";
		break;
	case 3:
		name = unreachable_name(code);
		break;
	case 4:
		name = "source quench";
		break;
	case 5:
		name = "redirect";
		break;
	case 8:
		name = "echo request";
		break;
	case 11: /* RFC 792: 0 = TTL exceeded in transit, 1 = reassembly */
		name = code == 0   ? "time exceeded"
		       : code == 1 ? "fragment reassembly time exceeded"
				   : NULL;
		break;
	case 12:
		name = "parameter problem";
		break;
	default:
		break;
	}
	if (name != NULL)
		snprintf(out, size, "%s", name);
	else if (type == 3)
		snprintf(out, size, "destination unreachable (code %u)", code);
	else
		snprintf(out, size, "ICMP type %u code %u", type, code);
	return out;
}

bool explain_icmp_is_error(uint8_t type)
{
	/* RFC 1122 3.2.2: the types that report an error about a datagram. */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* "UDP 10.0.0.7:5000 → 192.0.2.1:9", "ping 10.0.0.7 → 192.0.2.1 (echo
 * request id=1)": the packet an error quotes. */
static void quoted_phrase(const struct verdict_flow *in, char *out, size_t size)
{
	char a[24], b[24], name[48];

	if (in->proto == 17) {
		snprintf(out, size, "UDP %s " ARROW " %s",
			 endpoint_format(&(struct endpoint){in->src, in->sport}, a, sizeof(a)),
			 endpoint_format(&(struct endpoint){in->dst, in->dport}, b, sizeof(b)));
		return;
	}
	ip_format(in->src, a, sizeof(a));
	ip_format(in->dst, b, sizeof(b));
	if (in->proto == 1 && (in->icmp_type == 8 || in->icmp_type == 0))
		snprintf(out, size, "%s %s " ARROW " %s (%s id=%u)",
			 in->icmp_type == 8 ? "ping" : "ping reply", a, b,
			 explain_icmp_name(in->icmp_type, 0, name, sizeof(name)),
			 in->icmp_type == 8 ? in->sport : in->dport);
	else if (in->proto == 1)
		snprintf(out, size, "%s %s " ARROW " %s",
			 explain_icmp_name(in->icmp_type, in->icmp_code, name, sizeof(name)), a, b);
	else
		snprintf(out, size, "protocol %u %s " ARROW " %s", in->proto, a, b);
}

/* An echo: "ping A → B (echo request id=1 seq=1)". The id plays the port on
 * the side that chose it (model/packet.h): a request's sport, a reply's
 * dport. */
static void echo_phrase(const struct explain_packet_facts *f, const char *a, const char *b,
			char *out, size_t size)
{
	const struct verdict_flow *v = &f->flow;
	bool request = v->icmp_type == 8;
	int n = snprintf(out, size, "%s %s " ARROW " %s (echo %s id=%u",
			 request ? "ping" : "ping reply", a, b, request ? "request" : "reply",
			 request ? v->sport : v->dport);

	if (n < 0 || (size_t)n >= size)
		return;
	if (f->has_seq)
		n += snprintf(out + n, size - (size_t)n, " seq=%u", f->seq);
	if ((size_t)n < size)
		snprintf(out + n, size - (size_t)n, ")");
}

static void icmp_phrase(const struct explain_packet_facts *f, char *out, size_t size)
{
	const struct verdict_flow *v = &f->flow;
	char a[16], b[16], name[48], quoted[96];

	ip_format(v->src, a, sizeof(a));
	ip_format(v->dst, b, sizeof(b));
	if (v->icmp_type == 8 || v->icmp_type == 0) {
		echo_phrase(f, a, b, out, size);
		return;
	}
	explain_icmp_name(v->icmp_type, v->icmp_code, name, sizeof(name));
	if (!f->has_inner) {
		snprintf(out, size, "%s %s " ARROW " %s", name, a, b);
		return;
	}
	quoted_phrase(&f->inner, quoted, sizeof(quoted));
	snprintf(out, size, "%s %s " ARROW " %s about %s%s%s", name, a, b,
		 f->inner_owner != NULL ? f->inner_owner : "", f->inner_owner != NULL ? "'s " : "",
		 quoted);
}

char *explain_packet(const struct explain_packet_facts *f, char *out, size_t size)
{
	if (f->flow.form == VERDICT_FLOW_PARSED && f->flow.proto == 1)
		icmp_phrase(f, out, size);
	else
		explain_flow(&f->flow, out, size);
	return out;
}

/* explain_icmp_answer for an IPv6 packet: ICMPv6's names and rules (RFC
 * 4443 2.4(e); Linux icmpv6_xrlim_allow for the rate limit). */
static int icmp6_answer(const struct icmp_answer *a, const struct verdict_flow *flow, char *out,
			size_t size)
{
	char name[48];
	bool about_error =
	    flow->proto == 58 && flow->form == VERDICT_FLOW_PARSED && flow->icmp_type < 128;

	explain_icmp6_name(a->type, a->code, name, sizeof(name));
	switch (a->kind) {
	case ICMP_ANSWER_SENT:
		if (a->packet_id != 0)
			return snprintf(out, size, "; answered with ICMPv6 %s (#%llu)", name,
					(unsigned long long)a->packet_id);
		return snprintf(out, size, "; answered with ICMPv6 %s", name);
	case ICMP_ANSWER_RATE_LIMITED:
		return snprintf(out, size,
				"; not answered with ICMPv6 %s: Linux's ICMPv6 rate limit (6 at "
				"once per destination, then one per net.ipv6.icmp.ratelimit of 1 "
				"s, shortened for a route of a shorter prefix)",
				name);
	case ICMP_ANSWER_NEVER:
		if (about_error)
			return snprintf(out, size,
					"; never answered: an ICMPv6 error is never answered with "
					"another (RFC 4443 2.4(e))");
		return snprintf(out, size,
				"; never answered: no ICMPv6 error is sent about a packet to a "
				"multicast address, nor to a source that is :: or multicast (RFC "
				"4443 2.4(e))");
	case ICMP_ANSWER_TCP_RST:
		return snprintf(out, size, "; answered with a TCP RST");
	case ICMP_ANSWER_NONE:
		break;
	}
	if (size > 0)
		out[0] = '\0';
	return 0;
}

int explain_icmp_answer(const struct icmp_answer *a, const struct verdict_flow *flow, char *out,
			size_t size)
{
	char name[48];
	bool about_error = flow != NULL && flow->proto == 1 && flow->form == VERDICT_FLOW_PARSED &&
			   explain_icmp_is_error(flow->icmp_type);

	if (flow != NULL && flow->ip_version == 6)
		return icmp6_answer(a, flow, out, size);
	explain_icmp_name(a->type, a->code, name, sizeof(name));
	switch (a->kind) {
	case ICMP_ANSWER_SENT:
		if (a->packet_id != 0)
			return snprintf(out, size, "; answered with %s (#%llu)", name,
					(unsigned long long)a->packet_id);
		return snprintf(out, size, "; answered with %s", name);
	case ICMP_ANSWER_RATE_LIMITED:
		/* Linux icmpv4_xrlim_allow: inet_peer_xrlim_allow's bucket per
		 * destination (XRLIM_BURST_FACTOR 6, icmp_ratelimit 1000 ms). */
		return snprintf(out, size,
				"; not answered with %s: Linux's ICMP rate limit (6 at once, then "
				"1 per second per destination)",
				name);
	case ICMP_ANSWER_NEVER:
		if (about_error)
			return snprintf(out, size,
					"; never answered: an ICMP error is never answered with "
					"another (RFC 1122 3.2.2)");
		return snprintf(out, size,
				"; never answered: no ICMP error is sent about a broadcast, a "
				"multicast or a fragment that is not the first (RFC 1122 "
				"3.2.2)");
	case ICMP_ANSWER_TCP_RST:
		/* RFC 9293 3.10.7.1: a segment to a port nobody listens on
		 * is answered with a reset, not with ICMP. */
		if (a->packet_id != 0)
			return snprintf(out, size, "; answered with a TCP RST (#%llu)",
					(unsigned long long)a->packet_id);
		return snprintf(out, size, "; answered with a TCP RST");
	case ICMP_ANSWER_NONE:
		break;
	}
	if (size > 0)
		out[0] = '\0';
	return 0;
}
