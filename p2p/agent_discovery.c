/*
 * agent_discovery.c - NAT discovery on the agent's socket (agent_classify):
 * RFC 5780's tests run by discovery.c against the coordinator, whose
 * datagrams go out through the agent's queue and whose result becomes an
 * AGENT_EV_NAT_CLASSIFIED event.
 */
#include <string.h>

#include "agent_state.h"

void discovery_drain(struct agent *a)
{
	struct discovery_result r;
	struct p2p_datagram *d;
	char ep[P2P_ENDPOINT_STRLEN];

	while ((d = dq_push(a, &a->cfg.coordinator)) != NULL) {
		if (!discovery_pop_datagram(a->disc, d)) {
			ring_unpush(&a->dq);
			break;
		}
		d->from = a->cfg.local; /* our socket: whatever discovery says */
		d->socket = 0;
	}
	if (!discovery_result(a->disc, &r))
		return;
	struct p2p_event *e;
	/* RFC 3489's classes (RFC 5780 section 4.3 keeps them as names only) call
	 * every NAT whose mapping is not endpoint-independent "symmetric": say so,
	 * since RFC 4787's mapping name beside it may be address-dependent. */
	bool rfc3489_symmetric = r.ok && strcmp(r.classic_name, "symmetric") == 0;
	if (r.ok)
		e = emit(a, AGENT_EV_NAT_CLASSIFIED, NULL,
			 "NAT: %s (%smapping %s, filtering %s), public endpoint %s", r.classic_name,
			 rfc3489_symmetric ? "as RFC 3489 calls every mapping that is not "
					     "endpoint-independent; "
					   : "",
			 discovery_behaviour_name(r.mapping), discovery_behaviour_name(r.filtering),
			 fmt_ep(&r.mapped, ep));
	else
		e = emit(a, AGENT_EV_NAT_CLASSIFIED, NULL, "NAT discovery failed: %s",
			 r.error ? r.error : "unknown reason");
	if (e)
		e->nat = r;
	discovery_free(a->disc);
	a->disc = NULL;
}

int agent_classify(struct agent *a, uint64_t now_ns)
{
	struct discovery_config dc = {
	    .local = a->cfg.local,
	    .server = a->cfg.coordinator,
	    .random = a->cfg.random,
	};

	if (a->tcp != NULL)
		return AGENT_ERR_INVALID; /* RFC 5780 discovery is over UDP */
	if (a->disc != NULL)
		return AGENT_ERR_BUSY;
	a->disc = discovery_new(&dc);
	if (a->disc == NULL)
		return AGENT_ERR_NOMEM;
	discovery_start(a->disc, now_ns);
	discovery_drain(a);
	return AGENT_OK;
}
