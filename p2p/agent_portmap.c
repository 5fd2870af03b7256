/*
 * agent_portmap.c - the agent asks its router for a mapping (PCP, RFC 6887;
 * NAT-PMP, RFC 6886) and offers it as a candidate (agent.h "Hard NATs").
 * Not built yet: the agent asks nothing, and there is nothing to release.
 */
#include "agent_state.h"

int portmap_new(struct agent *a)
{
	(void)a;
	return AGENT_OK;
}

void portmap_free(struct agent *a)
{
	(void)a;
}

void portmap_start(struct agent *a, uint64_t now)
{
	(void)a, (void)now;
}

bool portmap_busy(const struct agent *a)
{
	(void)a;
	return false;
}

bool portmap_input(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		   const uint8_t *buf, size_t len)
{
	(void)a, (void)now, (void)from, (void)buf, (void)len;
	return false;
}

bool portmap_icmp_error(struct agent *a, uint64_t now, const struct p2p_icmp_error *err)
{
	(void)a, (void)now, (void)err;
	return false;
}

void portmap_tick(struct agent *a, uint64_t now)
{
	(void)a, (void)now;
}

uint64_t portmap_deadline(const struct agent *a)
{
	(void)a;
	return P2P_NO_DEADLINE;
}

size_t portmap_candidates(const struct agent *a, struct coord_candidate *out, size_t max)
{
	(void)a, (void)out, (void)max;
	return 0;
}

void agent_release_mappings(struct agent *a, uint64_t now_ns)
{
	(void)a, (void)now_ns;
}
