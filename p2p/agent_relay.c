/*
 * agent_relay.c - the agent's fallback to the relay (agent.h: "nothing works
 * by the punch deadline"): ask the coordinator whether it will relay, and go
 * RELAYED (or FAILED) by its answer. The background probing that may still
 * upgrade the path to direct is the checklist's, in agent_checks.c.
 */
#include <stdio.h>
#include <string.h>

#include "agent_state.h"

#define RELAY_MAX_TRIES 5 /* RELAY requests before the relay counts as unreachable */

/* RELAY request: "will you relay between us and this peer, in this
 * session?" Asked when punching found no path and before the agent says it
 * is relayed, because a coordinator may run without a relay: an outcome is
 * what happened, not what was tried. A TURN client likewise allocates before
 * it relies on a relay (RFC 8656 section 7.2). */
static void send_relay_request(struct agent *a, struct agent_peer *p)
{
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, &a->cfg.coordinator);

	if (d == NULL)
		return;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_RELAY, STUN_CLASS_REQUEST,
			 p->relay_txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, p->name);
	stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, p->session);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

/* Past the punch deadline: ask for the relay, and retransmit the request as
 * a STUN transaction (RFC 8489 6.2.1) until it is answered. Pairs still being
 * checked carry on meanwhile: a late answer still makes the path direct. */
void tick_relay_request(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (!a->registered) {
		fail_peer(a, p, "no direct path and the relay is unreachable");
	} else if (p->relay_retry_ns == 0) {
		new_txid(a, p->relay_txid);
		p->relay_tries = 1;
		p->relay_retry_ns =
		    now + (a->tcp ? STUN_TI_NS : a->cfg.rto_ns); /* RFC 8489 6.2.2 */
		send_relay_request(a, p);
	} else if (now >= p->relay_retry_ns && (p->relay_tries >= RELAY_MAX_TRIES || a->tcp)) {
		fail_peer(a, p,
			  "no direct path, and the coordinator does not answer about the relay");
	} else if (now >= p->relay_retry_ns) {
		p->relay_retry_ns = now + (a->cfg.rto_ns << p->relay_tries);
		p->relay_tries++;
		send_relay_request(a, p);
	}
}

static void go_relayed(struct agent *a, struct agent_peer *p, uint64_t now)
{
	p->state = AGENT_PEER_RELAYED;
	p->relay_retry_ns = 0;
	if (p->checks_failed)
		emit(
		    a, AGENT_EV_RELAYED, p->name,
		    "no direct path to %s: every candidate failed with a hard ICMP error; relaying "
		    "through the coordinator and still probing in the background",
		    p->name);
	else
		emit(a, AGENT_EV_RELAYED, p->name,
		     "no direct path to %s after %llu ms of punching; relaying through the "
		     "coordinator and still probing in the background",
		     p->name, (unsigned long long)(a->cfg.punch_timeout_ns / P2P_NS_PER_MS));
	p->next_check_ns = now + a->cfg.background_pacing_ns;
	for (size_t i = 0; i < p->n_pairs; i++)
		p->pairs[i].waiting = false; /* the background probing has them */
}

/* The coordinator's answer to a RELAY request: relayed, or failed. */
int on_relay_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		      const struct stun_msg *m)
{
	int code = 0;
	const char *reason = "";
	size_t rlen = 0;
	char why[120];

	if (!from_coordinator(a, from))
		return AGENT_ERR_MALFORMED;
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		if (p->relay_retry_ns == 0 || memcmp(p->relay_txid, m->txid, STUN_TXID_SIZE) != 0)
			continue;
		peer_changed(a, p);
		if (p->state != AGENT_PEER_PUNCHING) {
			p->relay_retry_ns = 0;
		} else if (m->cls == STUN_CLASS_SUCCESS) {
			go_relayed(a, p, now);
		} else {
			stun_get_error(m, &code, &reason, &rlen);
			snprintf(why, sizeof(why),
				 "no direct path, and the coordinator refuses to relay (%d %.*s)",
				 code, (int)rlen, reason);
			fail_peer(a, p, why);
		}
		return AGENT_OK;
	}
	return AGENT_ERR_MALFORMED;
}
