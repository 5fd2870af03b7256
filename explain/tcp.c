/*
 * tcp.c - TCP in the NAT's, conntrack's and a router's sentences (issue 16):
 * a segment conntrack marks INVALID, an unsolicited SYN the NAT stays silent
 * about or answers (RFC 5382 REQ-4), a mapping's filtering for a segment.
 * explain.c calls these for the TCP cases of its verdicts.
 */
#include "explain/explain.h"

#include <stdio.h>
#include <string.h>

#include "base/endpoint.h"

size_t explain_tcp_ct_invalid(const struct node_path_facts *f, const char *node, char *out,
			      size_t size)
{
	char flow[64];

	/* nf_nat_ipv4_fn returns NF_ACCEPT for a packet without a conntrack
	 * entry: no DNAT, so it is the router's own, and INPUT drops it. */
	snprintf(out, size,
		 "%s dropped %s: conntrack marks it INVALID (it fits no connection %s tracks), "
		 "and Linux's NAT only translates segments conntrack tracks, so it is for %s "
		 "itself, which does not accept it",
		 node, explain_flow(&f->flow, flow, sizeof(flow)), node, node);
	return strlen(node) + 1;
}

const char *explain_tcp_flags(uint8_t flags, char *out, size_t size)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {{0x02, "SYN"}, {0x01, "FIN"}, {0x04, "RST"}, {0x08, "PSH"},
		     {0x10, "ACK"}, {0x20, "URG"}, {0x40, "ECE"}, {0x80, "CWR"}};
	size_t used = 0;

	if (size == 0)
		return out;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		int w =
		    snprintf(out + used, size - used, "%s%s", used > 0 ? "+" : "", names[i].name);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
	if (used == 0)
		snprintf(out, size, "segment without flags");
	return out;
}

int explain_tcp_nat_answer(const struct nat_facts *f, const char *node, char *out, size_t size)
{
	const struct nat_result *r = &f->result;
	bool syn = (r->tcp_flags & 0x16) == 0x02; /* SYN, neither ACK nor RST */

	if (size > 0)
		out[0] = '\0';
	if (r->proto != 6 || r->verdict != NAT_VERDICT_DROP ||
	    (r->decision != NAT_DECISION_NO_MAPPING && r->decision != NAT_DECISION_FILTERED))
		return 0;
	if (f->answer.kind == ICMP_ANSWER_TCP_RST)
		/* tcp_v4_send_reset from the router's own stack */
		return snprintf(out, size,
				"; %s answered with a TCP RST (#%llu), as a Linux router whose own "
				"stack has no listener there does",
				node, (unsigned long long)f->answer.packet_id);
	if (f->tcp_syn_held)
		return snprintf(
		    out, size,
		    "; %s waits 6 s before answering (RFC 5382 REQ-4): port unreachable "
		    "then, unless a SYN for this connection goes out first",
		    node);
	if (syn)
		return snprintf(out, size,
				"; %s stays silent, as RFC 5382 REQ-4 lets a NAT do with an "
				"unsolicited SYN",
				node);
	return 0;
}
