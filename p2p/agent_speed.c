/*
 * agent_speed.c - the agent's optional speed layer (see agent_speed.h).
 * Left out of a build with -DNATSIM_AGENT_SPEED=OFF.
 */
#include "agent_speed.h"

#include <stdlib.h>

#include "agent_state.h"

void agent_prefetch(const struct agent *a)
{
#if defined(__GNUC__)
	/* What every input and tick reads first: the configuration and the
	 * hooks, the queues and registration state, the peer table. */
	const char *base = (const char *)a;
	__builtin_prefetch(base);
	__builtin_prefetch(base + offsetof(struct agent, dq));
	__builtin_prefetch(base + offsetof(struct agent, reg_wanted));
	__builtin_prefetch(base + offsetof(struct agent, peers));
#else
	(void)a;
#endif
}

struct agent_spares *agent_spares_new(void)
{
	return calloc(1, sizeof(struct agent_spares));
}

void agent_spares_free(struct agent_spares *s)
{
	if (s == NULL)
		return;
	free(s->datagrams.items);
	free(s->events.items);
	free(s);
}
