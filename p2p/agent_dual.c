/*
 * agent_dual.c - the agent's second address family (issue 18, docs/ipv6.md
 * step 6): a dual-stack agent has a primary socket per family, config.local
 * (IPv4) and config.local6 (IPv6), and registers over each with the
 * coordinator's address of that family (config.coordinator and
 * config.coordinator6), so that the coordinator knows both of its
 * server-reflexive endpoints under one name and introduces it with both.
 *
 * What the protocol does is unchanged (agent.c): this file holds the
 * per-family details. A pair's local half is our socket of the remote
 * candidate's family, so candidates are paired per family only, never an
 * IPv4 local with an IPv6 remote; a datagram with socket 0 leaves from the
 * socket of its destination's family (p2p.h). The hard-NAT techniques
 * (prediction, the birthday search, port mapping) stay IPv4: they exist for
 * NATs, and IPv6 has none in natsim (RFC 6092 firewalls; NPTv6 keeps ports).
 *
 * The IPv6 REGISTER is sent once the IPv4 one has been answered, never
 * beside it: the coordinator refuses a registration whose timestamp is not
 * newer than the last it accepted (a replay), and two sent together may
 * arrive in either order. It refreshes on its own timer, like the first.
 */
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"

#define DUAL_MAX_TRIES 5

struct agent_dual {
	bool registered;	   /* the coordinator answered our IPv6 REGISTER */
	bool gave_up;		   /* the first one went unanswered: CONNECTs wait no more */
	struct p2p_endpoint srflx; /* our IPv6 endpoint as the coordinator saw it */
	uint8_t txid[STUN_TXID_SIZE];
	unsigned tries;	   /* >0: waiting for an answer */
	uint64_t retry_ns; /* next retransmission or refresh; 0: not begun */
};

bool agent_is_dual(const struct agent *a)
{
	return a->dual != NULL;
}

bool agent_has_family(const struct agent *a, uint8_t family)
{
	return a->cfg.local.family == family || (a->dual != NULL && family == P2P_FAMILY_IPV6);
}

const struct p2p_endpoint *local_for(const struct agent *a, const struct p2p_endpoint *to)
{
	return a->dual != NULL && p2p_endpoint_is6(to) ? &a->cfg.local6 : &a->cfg.local;
}

bool is_local(const struct agent *a, const struct p2p_endpoint *ep)
{
	return p2p_endpoint_equal(ep, &a->cfg.local) ||
	       (a->dual != NULL && p2p_endpoint_equal(ep, &a->cfg.local6));
}

bool from_coordinator(const struct agent *a, const struct p2p_endpoint *from)
{
	return p2p_endpoint_equal(from, &a->cfg.coordinator) ||
	       (a->dual != NULL && p2p_endpoint_equal(from, &a->cfg.coordinator6));
}

int dual_new(struct agent *a)
{
	/* Both an IPv6 socket and a coordinator to register with over it, and
	 * a primary socket of the other family (UDP: TCP stays IPv4). */
	if (!p2p_endpoint_is6(&a->cfg.local6) || !p2p_endpoint_is6(&a->cfg.coordinator6) ||
	    p2p_endpoint_is6(&a->cfg.local) || a->tcp != NULL)
		return AGENT_OK;
	a->dual = calloc(1, sizeof(*a->dual));
	return a->dual != NULL ? AGENT_OK : AGENT_ERR_NOMEM;
}

void dual_free(struct agent *a)
{
	free(a->dual);
	a->dual = NULL;
}

static void begin(struct agent *a, uint64_t now)
{
	struct agent_dual *d = a->dual;

	new_txid(a, d->txid);
	d->tries = 1;
	d->retry_ns = now + a->cfg.rto_ns;
	write_register(a, now, &a->cfg.coordinator6, d->txid);
}

void dual_registered(struct agent *a, uint64_t now)
{
	if (a->dual != NULL && a->dual->retry_ns == 0)
		begin(a, now); /* the first IPv4 answer: now over IPv6 */
}

bool dual_busy(const struct agent *a)
{
	const struct agent_dual *d = a->dual;
	return d != NULL && !d->registered && !d->gave_up;
}

bool dual_input_register(struct agent *a, uint64_t now, const struct stun_msg *m)
{
	struct agent_dual *d = a->dual;
	struct p2p_endpoint mapped;
	char ep[P2P_ENDPOINT_STRLEN];
	int code = 0;
	const char *reason = "";
	size_t rlen = 0;

	if (d == NULL || d->tries == 0 || memcmp(m->txid, d->txid, STUN_TXID_SIZE) != 0)
		return false;
	d->tries = 0;
	d->retry_ns = now + a->cfg.refresh_ns;
	bool first = !d->registered && !d->gave_up;
	if (m->cls == STUN_CLASS_ERROR) {
		stun_get_error(m, &code, &reason, &rlen);
		d->gave_up = !d->registered;
		emit(a, AGENT_EV_LOG, NULL,
		     "the coordinator refused our IPv6 registration (%d %.*s): IPv4 carries on",
		     code, (int)rlen, reason);
	} else if (stun_get_xor_address(m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) == STUN_OK &&
		   p2p_endpoint_is6(&mapped)) {
		bool moved = !d->registered || !p2p_endpoint_equal(&mapped, &d->srflx);
		d->registered = true;
		d->srflx = mapped;
		if (moved)
			emit(a, AGENT_EV_LOG, NULL,
			     "registered over IPv6 too; the coordinator sees us there as %s",
			     fmt_ep(&mapped, ep));
	}
	if (first)
		send_waiting_connects(a, now);
	return true;
}

void dual_tick(struct agent *a, uint64_t now)
{
	struct agent_dual *d = a->dual;

	if (d == NULL || d->retry_ns == 0 || now < d->retry_ns)
		return;
	if (d->tries == 0) {
		begin(a, now); /* refresh */
	} else if (d->tries >= DUAL_MAX_TRIES) {
		bool first = !d->registered && !d->gave_up;
		d->tries = 0;
		d->registered = false;
		d->gave_up = true;
		d->retry_ns = now + a->cfg.refresh_ns;
		emit(a, AGENT_EV_LOG, NULL,
		     "no answer to our IPv6 REGISTER: peers meet us over IPv4 only for now");
		if (first)
			send_waiting_connects(a, now);
	} else {
		/* RFC 8489 6.2.1: retransmit with doubling RTO. */
		d->retry_ns = now + (a->cfg.rto_ns << d->tries);
		d->tries++;
		write_register(a, now, &a->cfg.coordinator6, d->txid);
	}
}

uint64_t dual_deadline(const struct agent *a)
{
	return a->dual != NULL && a->dual->retry_ns != 0 ? a->dual->retry_ns : P2P_NO_DEADLINE;
}

bool dual_public_endpoint(const struct agent *a, struct p2p_endpoint *out)
{
	if (a->dual == NULL || !a->dual->registered)
		return false;
	*out = a->dual->srflx;
	return true;
}

/* ---- NAT64: IPv4 candidates at their synthesized IPv6 addresses ----
 *
 * An IPv6-only agent behind a NAT64 cannot pair a peer's IPv4 candidates:
 * it has no IPv4 socket. Through the NAT64 it can still reach them, at
 * PREFIX + IPv4 (RFC 6052 2.2, the /96 form: the address in the last 32
 * bits). RFC 8305 7.1 asks that of a client given IPv4 address literals on
 * an IPv6-only network ("The synthesized addresses are then inserted into
 * the list of addresses as if they were results from DNS queries"), and ICE
 * stacks do it with the remote candidates (pjnath, with
 * pj_sockaddr_synthesize). The candidate keeps its type, so it is checked
 * in the place the IPv4 one would have had. */

static bool has_nat64_prefix(const struct agent *a)
{
	for (size_t i = 0; i < sizeof(a->cfg.nat64_prefix); i++)
		if (a->cfg.nat64_prefix[i] != 0)
			return true;
	return false;
}

/* RFC 6052 3.1: "The Well-Known Prefix MUST NOT be used to represent
 * non-global IPv4 addresses, such as those defined in [RFC1918]" (a peer's
 * private host candidates). natsim's worlds use the documentation ranges
 * (RFC 5737) as public addresses, so only RFC 1918's are left out. */
static bool wkp_may_carry(const struct agent *a, uint32_t ip)
{
	static const uint8_t wkp[12] = {0x00, 0x64, 0xff, 0x9b};
	bool private = (ip >> 24) == 10 || (ip >> 20) == 0xac1 || (ip >> 16) == 0xc0a8;
	return !private || memcmp(a->cfg.nat64_prefix, wkp, sizeof(wkp)) != 0;
}

bool nat64_candidate(struct agent *a, const struct agent_peer *p, struct coord_candidate *c)
{
	char was[P2P_ENDPOINT_STRLEN], now[P2P_ENDPOINT_STRLEN];
	uint8_t ip6[16];

	if (p2p_endpoint_is6(&c->ep) || agent_has_family(a, P2P_FAMILY_IPV4) ||
	    !agent_has_family(a, P2P_FAMILY_IPV6) || !has_nat64_prefix(a) ||
	    !p2p_endpoint_has_addr(&c->ep) || !wkp_may_carry(a, c->ep.ip))
		return false;
	memcpy(ip6, a->cfg.nat64_prefix, 12);
	for (int k = 0; k < 4; k++)
		ip6[12 + k] = (uint8_t)(c->ep.ip >> (24 - 8 * k));
	struct p2p_endpoint synthesized = p2p_endpoint6(ip6, c->ep.port);
	emit(a, AGENT_EV_LOG, p->name,
	     "%s's %s candidate %s is IPv4 and we have IPv6 only: we check it through our NAT64 "
	     "as %s (its prefix + the IPv4 address, RFC 6052 2.2; RFC 8305 7.1)",
	     p->name, coord_candidate_type_name(c->type), fmt_ep(&c->ep, was),
	     fmt_ep(&synthesized, now));
	c->ep = synthesized;
	return true;
}
