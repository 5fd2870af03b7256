/*
 * agent_portmap.c - the agent asks its router for a mapping (PCP, RFC 6887;
 * NAT-PMP, RFC 6886) and offers it as a candidate (agent.h "Hard NATs").
 * Not built yet: the agent asks nothing, and there is nothing to release.
 */
#include "agent_state.h"

void agent_release_mappings(struct agent *a, uint64_t now_ns)
{
	(void)a, (void)now_ns;
}
