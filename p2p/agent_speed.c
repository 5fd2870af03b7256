/*
 * agent_speed.c - the agent's optional speed layer (see agent_speed.h).
 * Left out of a build with -DNATSIM_AGENT_SPEED=OFF.
 */
#include "agent_speed.h"

#include <stdlib.h>

#include "agent_state.h"

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
