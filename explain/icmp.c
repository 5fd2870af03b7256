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

#include "explain/ipv6.h" /* explain_icmp6_name */

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

/* ---- either family: the message and its addresses ------------------------ */

/* ICMP for IPv4 is protocol 1, ICMPv6 is next header 58 (RFC 4443); their
 * echo types differ (8/0 and 128/129) and so do their names. */
static bool is_icmp(const struct verdict_flow *v)
{
	return v->ip_version == 6 ? v->proto == 58 : v->proto == 1;
}

static bool is_echo_request(const struct verdict_flow *v)
{
	return v->icmp_type == (v->ip_version == 6 ? 128 : 8);
}

static bool is_echo(const struct verdict_flow *v)
{
	return is_echo_request(v) || v->icmp_type == (v->ip_version == 6 ? 129 : 0);
}

static const char *message_name(const struct verdict_flow *v, char *out, size_t size)
{
	return v->ip_version == 6 ? explain_icmp6_name(v->icmp_type, v->icmp_code, out, size)
				  : explain_icmp_name(v->icmp_type, v->icmp_code, out, size);
}

/* The source (or destination) address: RFC 5952 text for IPv6. */
static char *address_of(const struct verdict_flow *v, bool src, char *out, size_t size)
{
	if (v->ip_version == 6)
		return ip6_format(src ? &v->src6 : &v->dst6, out, size);
	return ip_format(src ? v->src : v->dst, out, size);
}

/* "10.0.0.7:5000", "[2001:db8::7]:5000" (RFC 5952 section 6). */
static char *endpoint_of(const struct verdict_flow *v, bool src, char *out, size_t size)
{
	uint16_t port = src ? v->sport : v->dport;

	if (v->ip_version == 6)
		return endpoint6_format(&(struct endpoint6){src ? v->src6 : v->dst6, port}, out,
					size);
	return endpoint_format(&(struct endpoint){src ? v->src : v->dst, port}, out, size);
}

/* "UDP 10.0.0.7:5000 → 192.0.2.1:9", "ping 10.0.0.7 → 192.0.2.1 (echo
 * request id=1)": the packet an error quotes, of either family. */
static void quoted_phrase(const struct verdict_flow *in, char *out, size_t size)
{
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], name[48];

	if (in->proto == 17) {
		snprintf(out, size, "UDP %s " ARROW " %s", endpoint_of(in, true, a, sizeof(a)),
			 endpoint_of(in, false, b, sizeof(b)));
		return;
	}
	address_of(in, true, a, sizeof(a));
	address_of(in, false, b, sizeof(b));
	if (is_icmp(in) && is_echo(in))
		snprintf(out, size, "%s %s " ARROW " %s (%s id=%u)",
			 is_echo_request(in) ? "ping" : "ping reply", a, b,
			 message_name(in, name, sizeof(name)),
			 is_echo_request(in) ? in->sport : in->dport);
	else if (is_icmp(in))
		snprintf(out, size, "%s %s " ARROW " %s", message_name(in, name, sizeof(name)), a,
			 b);
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
	bool request = is_echo_request(v);
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

/* ICMP and ICMPv6 alike: "ping A → B (...)", "port unreachable A → B about
 * alice's UDP ...". */
static void icmp_phrase(const struct explain_packet_facts *f, char *out, size_t size)
{
	const struct verdict_flow *v = &f->flow;
	char a[IP6_TEXT_SIZE], b[IP6_TEXT_SIZE], name[48], quoted[160];

	address_of(v, true, a, sizeof(a));
	address_of(v, false, b, sizeof(b));
	if (is_echo(v)) {
		echo_phrase(f, a, b, out, size);
		return;
	}
	message_name(v, name, sizeof(name));
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
	if (f->flow.form == VERDICT_FLOW_PARSED && is_icmp(&f->flow))
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
				"; not answered with ICMPv6 %s: " EXPLAIN_ICMP6_RATE_LIMIT, name);
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
