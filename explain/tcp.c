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
