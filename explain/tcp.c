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
