/*
 * tcp.c - TCP in the NAT's, conntrack's and a router's sentences (issue 16):
 * a segment conntrack marks INVALID, an unsolicited SYN the NAT stays silent
 * about or answers (RFC 5382 REQ-4), a mapping's filtering for a segment.
 * explain.c calls these for the TCP cases of its verdicts.
 */
#include "explain/explain.h"
#include "explain/socket.h" /* explain_tcp_flags */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/endpoint.h"

/* tcp_error's tcp_valid_flags[]: the combinations a TCP sends (PSH, ECE
 * and CWR aside); explain/ keeps its own copy, linking nothing of model/. */
static bool tcp_flags_sent_by_tcp(uint8_t flags)
{
	switch (flags & 0x37) { /* less PSH, ECE, CWR */
	case 0x02:		/* SYN */
	case 0x22:		/* SYN+URG */
	case 0x12:		/* SYN+ACK */
	case 0x04:		/* RST */
	case 0x14:		/* RST+ACK */
	case 0x11:		/* FIN+ACK */
	case 0x31:		/* FIN+ACK+URG */
	case 0x10:		/* ACK */
	case 0x30:		/* ACK+URG */
		return true;
	default:
		return false;
	}
}

int explain_tcp_invalid(const struct verdict_flow *flow, enum conntrack_invalid why, char *out,
			size_t size)
{
	char flags[48];

	if (size > 0)
		out[0] = '\0';
	if (flow->proto != 6 || flow->form != VERDICT_FLOW_PARSED)
		return 0;
	explain_tcp_flags(flow->tcp_flags, flags, sizeof(flags));
	if (why == CONNTRACK_INVALID_FLAGS || !tcp_flags_sent_by_tcp(flow->tcp_flags))
		return snprintf(out, size,
				"; conntrack marks it INVALID: %s is a combination of flags no TCP "
				"sends (tcp_error)",
				flags);
	/* nf_conntrack_proto_tcp.c tcp_new: from NONE only a SYN (or an ACK,
	 * picked up mid-stream) starts an entry; anything else is "invalid new". */
	if (why == CONNTRACK_INVALID_NEW)
		return snprintf(out, size,
				"; conntrack marks it INVALID: it tracks no connection of this "
				"flow, and a %s cannot start one (tcp_new)",
				flags);
	return snprintf(out, size,
			"; conntrack marks it INVALID: the segment is outside the window it "
			"tracks for its connection, or fits no state of it (tcp_in_window)");
}

size_t explain_tcp_ct_invalid(const struct node_path_facts *f, const char *node, char *out,
			      size_t size)
{
	char flow[EXPLAIN_FLOW_SIZE];
	int used;

	/* nf_nat_ipv4_fn returns NF_ACCEPT for a packet without a conntrack
	 * entry: no DNAT, so it is the router's own, and INPUT drops it. */
	used = snprintf(out, size,
			"%s dropped %s: Linux's NAT only translates segments conntrack tracks, so "
			"it is for %s itself, which does not accept it",
			node, explain_flow(&f->flow, flow, sizeof(flow)), node);
	if (used > 0 && (size_t)used < size)
		explain_tcp_invalid(&f->flow, f->invalid, out + used, size - (size_t)used);
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
