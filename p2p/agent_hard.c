/*
 * agent_hard.c - what the agent tries against hard NATs (agent.h "Hard
 * NATs"): measuring how its NAT assigns ports, port prediction and the
 * birthday search, on the agent's extra sockets.
 */
#include "agent_state.h"

int agent_input_socket(struct agent *a, uint64_t now_ns, uint16_t socket,
		       const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	if (socket == 0)
		return agent_input(a, now_ns, from, buf, len);
	return AGENT_ERR_INVALID;
}

bool agent_socket_wanted(const struct agent *a, uint16_t socket)
{
	(void)a;
	return socket == 0;
}

enum agent_mapping_kind agent_mapping(const struct agent *a, int16_t *delta)
{
	(void)a;
	if (delta)
		*delta = 0;
	return AGENT_MAPPING_UNKNOWN;
}

const char *agent_technique_name(unsigned technique_bit)
{
	switch (technique_bit) {
	case AGENT_TECH_PREDICTION:
		return "prediction";
	case AGENT_TECH_BIRTHDAY:
		return "birthday";
	case AGENT_TECH_PORT_MAPPING:
		return "port-mapping";
	}
	return "?";
}

const char *agent_mapping_kind_name(enum agent_mapping_kind k)
{
	switch (k) {
	case AGENT_MAPPING_UNKNOWN:
		return "unknown";
	case AGENT_MAPPING_SAME:
		return "same port";
	case AGENT_MAPPING_SEQUENTIAL:
		return "sequential";
	case AGENT_MAPPING_RANDOM:
		return "random";
	}
	return "?";
}
