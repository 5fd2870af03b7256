/*
 * agent_checks.c - the agent's connectivity checks (RFC 8445 section 7),
 * nomination (8.1) and consent freshness on the chosen path (RFC 7675).
 * The rest of the agent is in agent.c; its state in agent_state.h.
 *
 * A check is a STUN transaction (RFC 8445 section 14, RFC 8489 6.2.1): sent,
 * then retransmitted with the same transaction ID after RTO, 2 RTO, 4 RTO,
 * ... (capped at Rm x RTO) until it is answered or Rc requests have gone.
 * With the default RTO of 100 ms a pair is checked at 0, 0.1, 0.3, 0.7, 1.5,
 * 3.1 and 4.7 s: the whole punch window (5 s) is covered with 7 requests per
 * pair, where checking round robin every pacing interval sent some 250 per
 * side for a pair that never worked. The first checks of all pairs are
 * paced, one per Ta across the agent (RFC 8445 6.1.4.2, 14.2);
 * retransmissions and triggered checks (7.3.1.4, sent at once: the peer's
 * check just opened the way) are not. A hard ICMP error about a check ends
 * it at once (RFC 8489 6.2.1); see "ICMP errors" below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"

#define CHECK_RC 7  /* RFC 8489 6.2.1 Rc */
#define CHECK_RM 16 /* RFC 8489 6.2.1 Rm: the cap on the doubling RTO */

/* ---- the checklist ---- */

int find_pair_on(const struct agent_peer *p, uint16_t sock, const struct p2p_endpoint *ep)
{
	for (size_t i = 0; i < p->n_pairs; i++)
		if (p->pairs[i].sock == sock &&
		    p2p_packed_equal(&p->addrs6, &p->pairs[i].remote, ep))
			return (int)i;
	return -1;
}

int find_pair(const struct agent_peer *p, const struct p2p_endpoint *ep)
{
	return find_pair_on(p, 0, ep);
}

/* Recomputes p->retx_soonest_ns after pairs' retx_ns changed, so that the
 * agent's next deadline need not walk every peer's pairs. */
void retx_refresh(struct agent_peer *p)
{
	uint64_t t = P2P_NO_DEADLINE;

	for (size_t i = 0; i < p->n_pairs; i++)
		if (p->pairs[i].retx_ns && p->pairs[i].retx_ns < t)
			t = p->pairs[i].retx_ns;
	p->retx_soonest_ns = t;
}

int add_pair(struct agent_peer *p, const struct coord_candidate *c)
{
	return add_pair_on(p, 0, c);
}

/* The pair (sock, candidate c) (a new one Waiting), or -1 if the list is full. */
int add_pair_on(struct agent_peer *p, uint16_t sock, const struct coord_candidate *c)
{
	int i = find_pair_on(p, sock, &c->ep);
	if (i >= 0 || p->n_pairs == AGENT_MAX_REMOTE_CANDIDATES || !p2p_endpoint_has_addr(&c->ep))
		return i;
	if (p->n_pairs == p->cap_pairs) {
		uint32_t ncap = p->cap_pairs ? 2 * p->cap_pairs : 2;
		struct agent_pair *np = realloc(p->pairs, ncap * sizeof(*np));
		if (np == NULL)
			return -1; /* as if the list were full */
		p->pairs = np;
		p->cap_pairs = ncap;
	}
	struct agent_pair *pp = &p->pairs[p->n_pairs];
	memset(pp, 0, sizeof(*pp));
	if (p2p_packed_set(&p->addrs6, &pp->remote, &c->ep) < 0)
		return -1; /* as if the list were full */
	pp->remote.tag = c->type;
	pp->sock = sock;
	pp->waiting = true; /* paced in if we are punching */
	return (int)p->n_pairs++;
}

/* ---- the checklist's order (RFC 8445 6.1.2.3) ---- */

/* RFC 8445 5.1.2.2's type preferences: host 126, peer-reflexive 110,
 * server-reflexive 100. A mapped candidate (PCP / NAT-PMP) is a public
 * endpoint the router made for us, ranked between those two as the
 * coordinator lists it before srflx; a predicted one is a guess at a
 * server-reflexive port, just below. */
static uint32_t type_preference(uint8_t type)
{
	switch (type) {
	case COORD_CAND_HOST:
		return 126;
	case COORD_CAND_PRFLX:
		return 110;
	case COORD_CAND_MAPPED:
		return 105;
	case COORD_CAND_SRFLX:
		return 100;
	default:
		return 99;
	}
}

/* RFC 8421 section 4: a dual-stack agent prefers IPv6 but interleaves the
 * families in its checklist, so that a broken one costs one check per
 * round rather than all of its checks before the other is tried. natsim's
 * local preferences give that order: the k-th candidate (from 0) of a
 * family gets 65535 - 2k for IPv6 and 65534 - 2k for IPv4 (IPv6, IPv4,
 * IPv6, ...). With one family, 65535 - k (RFC 8445 5.1.2.1's range). */
static uint32_t local_preference(bool dual, bool v6, uint32_t k)
{
	if (!dual)
		return 65535 - k;
	return (v6 ? 65535 : 65534) - 2 * k;
}

/* RFC 8445 5.1.2.1, component 1. */
static uint32_t candidate_priority(uint32_t type_pref, uint32_t local_pref)
{
	return type_pref << 24 | local_pref << 8 | (256 - 1);
}

/* RFC 8445 6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the
 * controlling side's candidate priority, D the controlled side's. */
static uint64_t pair_priority_of(uint32_t local, uint32_t remote, bool controlling)
{
	uint32_t g = controlling ? local : remote, d = controlling ? remote : local;
	uint64_t lo = g < d ? g : d, hi = g < d ? d : g;
	return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

/* A fresh checklist, in the order the coordinator listed the candidates,
 * sorted by pair priority (stable: equal pairs keep that order). The
 * local half is our host candidate of the remote's family, the first of
 * it; the remote's priority is computed as the peer computes its own (the
 * same rules, its list's order), since NATSIM-CANDIDATE carries none. With
 * one family this is the listed order: hosts, mapped, srflx. */
void order_checklist(const struct agent *a, struct agent_peer *p)
{
	uint64_t prio[AGENT_MAX_REMOTE_CANDIDATES];
	uint32_t seen[2] = {0, 0};
	bool both = false;

	for (size_t i = 1; i < p->n_pairs; i++)
		both = both || p->pairs[i].remote.family != p->pairs[0].remote.family;
	for (size_t i = 0; i < p->n_pairs; i++) {
		const struct agent_pair *pp = &p->pairs[i];
		bool v6 = pp->remote.family == P2P_FAMILY_IPV6;
		uint32_t remote = candidate_priority(type_preference(pair_type(pp)),
						     local_preference(both, v6, seen[v6]++));
		uint32_t local = candidate_priority(126, local_preference(agent_is_dual(a), v6, 0));
		prio[i] = pair_priority_of(local, remote, p->controlling);
	}
	for (size_t i = 1; i < p->n_pairs; i++) { /* insertion sort: at most 96 */
		struct agent_pair x = p->pairs[i];
		uint64_t px = prio[i];
		size_t j = i;
		for (; j > 0 && prio[j - 1] < px; j--) {
			p->pairs[j] = p->pairs[j - 1];
			prio[j] = prio[j - 1];
		}
		p->pairs[j] = x;
		prio[j] = px;
	}
}

void reset_txns(struct agent_peer *p)
{
	for (size_t i = 0; i < CHECK_TXNS; i++)
		p->txns[i].pair = -1;
}

/* ---- sending checks ---- */

static void put_role(struct stun_writer *w, const struct agent_peer *p)
{
	/* Roles are fixed by name order, so the tie-breaker never decides. */
	stun_put_u64(w, p->controlling ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED,
		     p->session);
}

/* Writes a check request with this transaction ID from `sock` to `to`. */
static void write_request(struct agent *a, struct agent_peer *p, uint16_t sock,
			  const struct p2p_endpoint *to, const uint8_t txid[STUN_TXID_SIZE],
			  bool nominate)
{
	char user[2 * AGENT_NAME_MAX + 2];
	struct stun_writer w;
	struct p2p_datagram *d = dq_push_on(a, sock, to);

	if (d == NULL)
		return;
	/* RFC 8445 7.2.2: USERNAME is "receiver:sender". Both names are
	 * shorter than AGENT_NAME_MAX. */
	size_t pn = strlen(p->name), an = strlen(a->name);
	memcpy(user, p->name, pn);
	user[pn] = ':';
	memcpy(user + pn + 1, a->name, an + 1);
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, txid);
	stun_put_string(&w, STUN_ATTR_USERNAME, user);
	put_role(&w, p);
	if (nominate)
		stun_put_raw(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	stun_put_integrity_sha256_key(&w, &p->check_mac);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

/* Writes one request of transaction t (a first send or a retransmission). */
static void write_check(struct agent *a, struct agent_peer *p, const struct agent_txn *t)
{
	const struct agent_pair *pp = &p->pairs[t->pair];
	const struct p2p_endpoint remote = pair_remote(p, pp);
	write_request(a, p, pp->sock, &remote, t->txid, t->nominate);
}

/* A probe's answer is not awaited: the peer's triggered check (RFC 8445
 * 7.3.1.4), which the probe's arrival sets off, is what makes a pair. */
void write_probe(struct agent *a, struct agent_peer *p, uint16_t sock,
		 const struct p2p_endpoint *to, uint8_t txid[STUN_TXID_SIZE])
{
	new_txid(a, txid);
	write_request(a, p, sock, to, txid, false);
}

/* RTO before the request after the n-th (n >= 1): doubling (RFC 8489
 * 6.2.1), capped at Rm x the first so that the last requests still fall
 * inside the punch window instead of seconds after it. */
static uint64_t check_rto(const struct agent *a, unsigned n)
{
	uint64_t rto = a->cfg.check_rto_ns, cap = CHECK_RM * rto;

	for (unsigned k = 1; k < n && rto < cap; k++)
		rto *= 2;
	return rto < cap ? rto : cap;
}

/* The pair's transaction, or NULL once a newer one took its ring slot (the
 * pair's own newer transactions move pp->txn along, so it is another pair's). */
static struct agent_txn *pair_txn(struct agent_peer *p, int pair)
{
	struct agent_txn *t = &p->txns[p->pairs[pair].txn];
	return t->pair == pair ? t : NULL;
}

/* Starts a check transaction on `pair`. `retransmit`: with RFC 8489
 * retransmissions (checks while punching, triggered checks, nomination);
 * without, one request whose retry is the next one due anyway (consent
 * checks, background checks while relayed). */
static void send_check(struct agent *a, struct agent_peer *p, int pair, bool nominate, uint64_t now,
		       bool retransmit)
{
	struct agent_pair *pp = &p->pairs[pair];
	unsigned slot = p->next_txn++ % CHECK_TXNS;
	struct agent_txn *t = &p->txns[slot];

	new_txid(a, t->txid);
	t->pair = (int8_t)pair;
	txn_made(a, p);
	t->nominate = nominate;
	pp->waiting = false;
	pp->failed = pp->soft_noted = false; /* a new check: its own fate */
	pp->txn = (uint8_t)slot;
	pp->tries = 1;
	pp->retx_ns = retransmit ? now + check_rto(a, 1) : 0;
	retx_refresh(p);
	write_check(a, p, t);
}

/* RFC 8445 7.3.1.4: a check from the peer on this pair (or its nomination)
 * asks for a check of ours at once: the peer's request has just opened its
 * NAT towards us. A transaction already running on the pair, with the same
 * USE-CANDIDATE, is retransmitted now with its schedule restarted rather
 * than replaced (the same request either way, and the peer's retransmissions
 * then cost no ring slots); one sent less than Ta ago is left to arrive. */
static void trigger_check(struct agent *a, struct agent_peer *p, int pair, uint64_t now)
{
	struct agent_pair *pp = &p->pairs[pair];
	struct agent_txn *t = pair_txn(p, pair);
	bool nominate = p->nominating == pair;

	if (pp->retx_ns && t != NULL && t->nominate == nominate) {
		if (now + check_rto(a, pp->tries) < pp->retx_ns + a->cfg.pacing_ns)
			return;
		pp->tries = 1;
		pp->retx_ns = now + check_rto(a, 1);
		retx_refresh(p);
		write_check(a, p, t);
		return;
	}
	send_check(a, p, pair, nominate, now, true);
}

void check_pair_now(struct agent *a, struct agent_peer *p, int pair, uint64_t now)
{
	if (!p->pairs[pair].succeeded || p->nominating == pair)
		trigger_check(a, p, pair, now);
	peer_changed(a, p);
}

/* Retransmissions that are due (RFC 8489 6.2.1); after Rc requests and a
 * last RTO without an answer the transaction has failed, and so has the
 * pair until the peer's checks or the background probing revive it. */
void tick_retransmissions(struct agent *a, struct agent_peer *p, uint64_t now)
{
	for (size_t i = 0; i < p->n_pairs; i++) {
		struct agent_pair *pp = &p->pairs[i];
		if (pp->retx_ns == 0 || now < pp->retx_ns)
			continue;
		struct agent_txn *t = pair_txn(p, (int)i);
		if (t == NULL || pp->tries >= CHECK_RC) {
			pp->retx_ns = 0;
			continue;
		}
		pp->tries++;
		pp->retx_ns = now + check_rto(a, pp->tries);
		write_check(a, p, t);
	}
	retx_refresh(p);
}

/* The first waiting pair of a punching peer, in candidate order (the
 * coordinator lists host candidates first, as ICE's priorities would). */
int first_waiting(const struct agent_peer *p)
{
	if (p->state != AGENT_PEER_PUNCHING)
		return -1;
	for (size_t i = 0; i < p->n_pairs; i++)
		if (p->pairs[i].waiting)
			return (int)i;
	return -1;
}

bool has_waiting_pair(const struct agent *a)
{
	for (size_t i = 0; i < a->n_peers; i++)
		if (first_waiting(a->peers[i]) >= 0)
			return true;
	return false;
}

/* RFC 8445 6.1.4.2: every Ta, the next punching peer (round robin) starts a
 * check on its first waiting pair. */
void tick_pacing(struct agent *a, uint64_t now)
{
	if (now < a->pace_ns)
		return;
	for (size_t k = 0; k < AGENT_MAX_PEERS; k++) {
		size_t slot = (a->pace_rr + k) % AGENT_MAX_PEERS;
		struct agent_peer *p =
		    slot < a->n_peers && peer_may_wait(a, slot) ? a->peers[slot] : NULL;
		int i = p != NULL ? first_waiting(p) : -1;
		if (i < 0)
			continue;
		send_check(a, p, i, p->nominating == i, now, true);
		peer_changed(a, p);
		a->pace_rr = slot + 1;
		a->pace_ns = now + a->cfg.pacing_ns;
		return;
	}
}

/* While relayed: one check every background interval, the nomination first,
 * else round robin over the pairs (RFC 8445 leaves a failed checklist
 * alone; we keep looking because NATs change: relay-upgrade.nsim). */
void send_background_check(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (p->n_pairs == 0)
		return;
	if (p->nominating >= 0) {
		send_check(a, p, p->nominating, true, now, false);
		return;
	}
	send_check(a, p, (int)(p->rr++ % p->n_pairs), false, now, false);
}

/* ---- nomination (RFC 8445 8.1) ---- */

/* RFC 7675 5.1: the time until the next consent check, drawn uniformly from
 * 0.8 to 1.2 times the base period (5 s: checks 4 to 6 s apart), so that
 * agents started together do not check in step. The draw comes from the
 * injected random source, like every other, so a run stays reproducible. */
static uint64_t consent_interval(struct agent *a)
{
	uint8_t r[2];
	a->cfg.random.fill(a->cfg.random.ctx, r, sizeof(r));
	uint64_t u = (uint64_t)r[0] << 8 | r[1]; /* 0 .. 65535 */
	uint64_t base = a->cfg.consent_check_ns, span = base * 2 / 5;
	/* base * (0.8 + 0.4 * u / 65536), in integers that cannot overflow */
	return base * 4 / 5 + span / 65536 * u + span % 65536 * u / 65536;
}

static void emit_selected(struct agent *a, struct agent_peer *p, bool upgrade)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	const struct agent_pair *pp = &p->pairs[p->selected];
	const struct p2p_endpoint remote = pair_remote(p, pp);
	bool text = text_wanted(a);
	/* Over TCP, which connection: "direct to bob over TCP via simultaneous open ..." */
	const char *how = a->tcp && text	      ? agent_tcp_path_words(a, &remote)
			  : p2p_endpoint_is6(&remote) ? "over IPv6 via"
						      : "via";
	const struct p2p_endpoint *local = local_for(a, &remote);
	/* Which technique beyond ICE's checks found it (agent_hard.c), if any. */
	unsigned tech = hard_pair_technique(a, p, pp);
	char sock[40] = "";
	if (text && pp->sock != 0)
		snprintf(sock, sizeof(sock), "our extra socket %u", pp->sock);
	struct p2p_event *e = emit(
	    a, upgrade ? AGENT_EV_UPGRADED : AGENT_EV_DIRECT, p->name, "%s %s %s %s -> %s (%s%s%s)",
	    upgrade ? "upgraded from relay to direct path to" : "direct to", p->name, how,
	    !text      ? ""
	    : pp->sock ? sock
		       : fmt_ep(local, l),
	    text ? fmt_ep(&remote, r) : "", coord_candidate_type_name(pair_type(pp)),
	    tech ? ", found by " : "", agent_technique_words(tech));
	if (e) {
		e->technique = tech;
		e->family = remote.family;
		e->local = *local;
		if (pp->sock != 0)
			e->local.port = 0; /* an extra socket's: the driver knows it */
		e->remote = remote;
	}
}

static void select_pair(struct agent *a, struct agent_peer *p, int pair, uint64_t now)
{
	bool upgrade = p->state == AGENT_PEER_RELAYED;

	p->selected = pair;
	p->nominating = -1;
	p->state = AGENT_PEER_DIRECT;
	/* RFC 8445 8.1.2: checking ends with the nomination. */
	for (size_t i = 0; i < p->n_pairs; i++) {
		p->pairs[i].retx_ns = 0;
		p->pairs[i].waiting = false;
	}
	p->retx_soonest_ns = P2P_NO_DEADLINE;
	p->relay_retry_ns = 0;
	/* The nominated pair was just answered: consent is fresh (RFC 7675 5.1). */
	p->consent_ns = now;
	p->next_consent_ns = now + consent_interval(a);
	emit_selected(a, p, upgrade);
	hard_path_chosen(a, p, now); /* the birthday search with p, if any, is over */
}

/* After any change to a pair: nominate (controlling) or follow (controlled). */
static void evaluate_pair(struct agent *a, struct agent_peer *p, int i, uint64_t now)
{
	struct agent_pair *pp = &p->pairs[i];

	if (p->state != AGENT_PEER_PUNCHING && p->state != AGENT_PEER_RELAYED)
		return;
	if (p->controlling) {
		/* Works both ways: our check was answered and the peer's got
		 * through. Nominate now (RFC 8445 8.1.1), not at a pacing slot. */
		if (pp->succeeded && pp->heard && p->nominating < 0) {
			p->nominating = i;
			trigger_check(a, p, i, now);
		} else if (pp->heard && !pp->succeeded) {
			trigger_check(a, p, i, now); /* RFC 8445 7.3.1.4 */
		}
	} else if (pp->peer_nominated && pp->succeeded) {
		select_pair(a, p, i, now); /* RFC 8445 7.3.1.5 */
	} else if (pp->heard && !pp->succeeded) {
		trigger_check(a, p, i, now); /* RFC 8445 7.3.1.4 */
	}
}

/* ---- receiving checks and answers ---- */

static struct agent_peer *peer_from_username(struct agent *a, const struct stun_msg *m)
{
	char user[2 * AGENT_NAME_MAX + 2];
	size_t n = strlen(a->name);

	if (stun_get_string(m, STUN_ATTR_USERNAME, user, sizeof(user)) != STUN_OK ||
	    strncmp(user, a->name, n) != 0 || user[n] != ':')
		return NULL;
	return find_peer(a, user + n + 1);
}

static void answer_check(struct agent *a, struct agent_peer *p, const struct p2p_endpoint *from,
			 const struct stun_msg *m)
{
	struct stun_writer w;
	struct p2p_datagram *d = dq_push_on(a, a->in_sock, from); /* from where it arrived */

	if (d == NULL)
		return;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS,
			 m->txid);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	stun_put_integrity_sha256_key(&w, &p->check_mac);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

/* A Binding request from the peer: a connectivity check (RFC 8445 7.3). */
int on_check(struct agent *a, uint64_t now, const struct p2p_endpoint *from, const uint8_t *buf,
	     size_t len, const struct stun_msg *m)
{
	struct agent_peer *p = peer_from_username(a, m);
	char ep[P2P_ENDPOINT_STRLEN];

	if (p == NULL || !p->introduced)
		return AGENT_ERR_UNKNOWN_PEER;
	if (stun_check_integrity_sha256_key(m, buf, len, &p->check_mac) != STUN_OK)
		return AGENT_ERR_UNAUTHENTICATED; /* RFC 8489 9.1.3: silently discard */
	peer_changed(a, p);
	answer_check(a, p, from, m);
	int i = find_pair_on(p, a->in_sock, from);
	if (i < 0) {
		/* RFC 8445 7.3.1.3: a peer-reflexive candidate, learned from the check. */
		struct coord_candidate c = {*from, COORD_CAND_PRFLX};
		if ((i = add_pair_on(p, a->in_sock, &c)) < 0)
			return AGENT_OK;
		emit(a, AGENT_EV_LOG, p->name,
		     "learned peer-reflexive candidate %s for %s from its check (RFC 8445 7.3.1.3)",
		     fmt_ep(from, ep), p->name);
	}
	p->pairs[i].heard = true;
	if (stun_find(m, STUN_ATTR_USE_CANDIDATE) != NULL)
		p->pairs[i].peer_nominated = true;
	evaluate_pair(a, p, i, now); /* triggers our check if ours has not succeeded */
	return AGENT_OK;
}

struct agent_txn *peer_txn(struct agent_peer *p, const uint8_t txid[STUN_TXID_SIZE])
{
	if (!p->introduced)
		return NULL;
	for (size_t j = 0; j < CHECK_TXNS; j++) {
		struct agent_txn *t = &p->txns[j];
		if (memcmp(t->txid, txid, STUN_TXID_SIZE) == 0 && t->pair >= 0 &&
		    (size_t)t->pair < p->n_pairs)
			return t;
	}
	return NULL;
}

/* The check transaction with this ID, and its peer; NULL if none. */
static struct agent_txn *find_txn(struct agent *a, const uint8_t txid[STUN_TXID_SIZE],
				  struct agent_peer **peer)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		return deadlines_find_txn(a, txid, peer); /* the speed layer's index */
#endif
	for (size_t k = 0; k < a->n_peers; k++) {
		struct agent_txn *t = peer_txn(a->peers[k], txid);
		if (t != NULL) {
			*peer = a->peers[k];
			return t;
		}
	}
	return NULL;
}

/* An answer to one of our checks (RFC 8445 7.2.5). */
int on_check_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		      const uint8_t *buf, size_t len, const struct stun_msg *m)
{
	struct agent_peer *p;
	struct agent_txn *t = find_txn(a, m->txid, &p);

	if (t == NULL) /* an answer to a probe is expected, and needs nothing */
		return hard_probe_answered(a, m->txid) ? AGENT_OK : AGENT_ERR_MALFORMED;
	if (stun_check_integrity_sha256_key(m, buf, len, &p->check_mac) != STUN_OK)
		return AGENT_ERR_UNAUTHENTICATED;
	peer_changed(a, p);
	/* RFC 8445 7.2.5.2.1: the answer must come from where we sent, to where
	 * we sent from. */
	if (!p2p_packed_equal(&p->addrs6, &p->pairs[t->pair].remote, from) ||
	    a->in_sock != p->pairs[t->pair].sock || m->cls != STUN_CLASS_SUCCESS)
		return AGENT_OK;
	int pair = t->pair;
	/* RFC 7675 5.1: only an answer to our own request on the chosen pair
	 * renews consent - the peer's checks and data do not show that it
	 * still wants ours. */
	if (pair == p->selected)
		p->consent_ns = now;
	p->pairs[pair].succeeded = true;
	if (pair_txn(p, pair) == t)
		p->pairs[pair].retx_ns = 0; /* answered: no more retransmissions */
	retx_refresh(p);
	t->pair = -1;
	if (t->nominate && p->controlling && p->state != AGENT_PEER_DIRECT)
		select_pair(a, p, pair, now);
	else
		evaluate_pair(a, p, pair, now);
	return AGENT_OK;
}

/* ---- ICMP errors about our checks (RFC 8445 7.2.5.2.2, RFC 8489 6.2.1) ----
 *
 * "A STUN transaction over UDP ... is also considered failed if there has
 * been a hard ICMP error" (RFC 8489 6.2.1); "if a Binding request generates
 * a hard ICMP error, the agent SHOULD set the state of the candidate pair to
 * Failed" (RFC 8445 7.2.5.2.2, where processing ICMP errors is optional,
 * since they "can be used as a method for Denial-of-Service attacks"). So
 * a port unreachable from the peer's host says at once what 7 unanswered
 * requests would say after 4.7 s: nobody listens there. Soft errors
 * (network or host unreachable, time exceeded: RFC 1122 3.2.2.1) say the
 * way may come back, and change nothing. What real agents do is in
 * docs/protocol.md: most never see the error at all.
 *
 * Only an error about a check still waiting for its answer counts; the
 * transaction stays in the ring, so an authenticated answer that arrives
 * after all (the error was forged, or stale) still makes the pair work,
 * and a check from the peer on the pair starts a new check (7.3.1.4). */

static bool every_pair_failed(const struct agent_peer *p)
{
	for (size_t i = 0; i < p->n_pairs; i++)
		if (!p->pairs[i].failed)
			return false;
	return p->n_pairs > 0;
}

/* "203.0.113.7:4000 answered" or "203.0.113.1 reported 10.0.0.7:4000" */
static const char *who_said(const struct p2p_icmp_error *err, char *buf, size_t size)
{
	char r[P2P_ENDPOINT_STRLEN], by[P2P_ENDPOINT_STRLEN];

	fmt_ep(&err->remote, r);
	if (p2p_endpoint_same_addr(&err->reporter, &err->remote))
		snprintf(buf, size, "%s answered", r);
	else
		snprintf(buf, size, "%s reported %s",
			 p2p_addr_format(&err->reporter, by, sizeof(by)), r);
	return buf;
}

static void pair_failed(struct agent *a, struct agent_peer *p, int i, uint64_t now,
			const struct p2p_icmp_error *err)
{
	struct agent_pair *pp = &p->pairs[i];
	const struct p2p_endpoint remote = pair_remote(p, pp);
	char who[2 * P2P_ENDPOINT_STRLEN + 16], what[48];
	bool text = text_wanted(a);

	pp->failed = true;
	pp->retx_ns = 0; /* the transaction has failed: no more requests */
	pp->waiting = false;
	retx_refresh(p);
	struct p2p_event *e =
	    emit(a, AGENT_EV_PAIR_FAILED, p->name,
		 "%s %s, so %s's %s candidate there is dead: no more checks to it (a hard ICMP "
		 "error fails the check, RFC 8489 6.2.1, RFC 8445 7.2.5.2.2)",
		 text ? who_said(err, who, sizeof(who)) : "",
		 text ? p2p_icmp_error_words(err, what, sizeof(what)) : "", p->name,
		 coord_candidate_type_name(pair_type(pp)));
	if (e) {
		e->local = *local_for(a, &remote);
		e->remote = remote;
	}
	if (p->state != AGENT_PEER_PUNCHING || !every_pair_failed(p) || now >= p->punch_deadline_ns)
		return;
	/* Nothing left to wait for: ask for the relay now (agent.c,
	 * tick_relay_request, at the next agent_tick). The relay keeps probing
	 * in the background, so a candidate learned later (RFC 8863: a
	 * peer-reflexive one) can still make the path direct. */
	p->punch_deadline_ns = now;
	p->checks_failed = true;
	emit(a, AGENT_EV_LOG, p->name,
	     "every candidate of %s has failed with a hard ICMP error: asking for the relay now, "
	     "not at the punch deadline",
	     p->name);
}

static void soft_error(struct agent *a, struct agent_peer *p, int i,
		       const struct p2p_icmp_error *err)
{
	char who[2 * P2P_ENDPOINT_STRLEN + 16], what[48];

	if (p->pairs[i].soft_noted)
		return; /* once per check: each retransmission may draw one */
	p->pairs[i].soft_noted = true;
	emit(a, AGENT_EV_LOG, p->name,
	     "%s %s: a soft ICMP error (RFC 1122 3.2.2.1: the way may come back), so the check "
	     "to %s carries on",
	     who_said(err, who, sizeof(who)), p2p_icmp_error_words(err, what, sizeof(what)),
	     p->name);
}

int on_icmp_error(struct agent *a, struct agent_peer *p, uint64_t now,
		  const struct p2p_icmp_error *err)
{
	int i = p->introduced ? find_pair(p, &err->remote) : -1;

	/* Checks only: while punching or relayed. On the chosen path consent
	 * is left to its own timer (RFC 7675 5.1). */
	if (i < 0 || pair_txn(p, i) == NULL ||
	    (p->state != AGENT_PEER_PUNCHING && p->state != AGENT_PEER_RELAYED))
		return AGENT_ERR_UNKNOWN_PEER;
	if (!p2p_icmp_error_hard(err))
		soft_error(a, p, i, err);
	else if (!p->pairs[i].failed)
		pair_failed(a, p, i, now, err);
	return AGENT_OK;
}

/* ---- consent freshness (RFC 7675) ---- */

static void lose_path(struct agent *a, struct agent_peer *p, uint64_t now, bool quiet);

static void path_lost(struct agent *a, struct agent_peer *p, uint64_t now)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	const struct agent_pair *pp = &p->pairs[p->selected];
	const struct p2p_endpoint remote = pair_remote(p, pp);

	bool quiet = a->cfg.keepalive_ns == 0;
	struct p2p_event *e = emit(a, AGENT_EV_PATH_LOST, p->name,
				   "no answer on the path to %s via %s -> %s for %llu s: consent "
				   "expired (RFC 7675); %s",
				   p->name, fmt_ep(local_for(a, &remote), l), fmt_ep(&remote, r),
				   (unsigned long long)((now - p->consent_ns) / P2P_NS_PER_S),
				   quiet ? "we send no keepalives, so we ask for a new path only "
					   "when there is something to send"
					 : "asking the coordinator to introduce us again");
	if (e) {
		e->local = *local_for(a, &remote);
		e->remote = remote;
	}
	lose_path(a, p, now, quiet);
}

void path_closed(struct agent *a, struct agent_peer *p, uint64_t now, const char *why)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	const struct agent_pair *pp = &p->pairs[p->selected];
	const struct p2p_endpoint remote = pair_remote(p, pp);
	struct p2p_event *e =
	    emit(a, AGENT_EV_PATH_LOST, p->name,
		 "the path to %s via %s -> %s is gone: %s; asking the "
		 "coordinator to introduce us again",
		 p->name, fmt_ep(local_for(a, &remote), l), fmt_ep(&remote, r), why);
	if (e) {
		e->local = *local_for(a, &remote);
		e->remote = remote;
	}
	lose_path(a, p, now, false);
	peer_changed(a, p);
}

static void lose_path(struct agent *a, struct agent_peer *p, uint64_t now, bool quiet)
{
	p->selected = -1;
	if (quiet) {
		/* An agent that keeps nothing alive sends nothing by itself:
		 * reconnecting now would itself be a keepalive. */
		p->state = AGENT_PEER_CONNECTING;
		p->connect_retry_ns = 0;
		p->reconnect_on_send = true;
		return;
	}
	reconnect(a, p, now);
}

/* A consent check (an authenticated Binding request, sent once: a lost one
 * is covered by the next) goes out every 4 to 6 s; only an answer renews
 * consent, and 30 s without one means the peer, or a NAT between us, no
 * longer takes our packets: the path is lost. The checks are the path's
 * keepalives too (RFC 7675 section 4): they keep both NATs' mappings open.
 * With keepalives off the agent sends none, so consent runs out 30 s after
 * the last answer. */
void tick_direct(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (now >= p->consent_ns + a->cfg.consent_expiry_ns) {
		path_lost(a, p, now);
		return;
	}
	if (a->cfg.keepalive_ns && now >= p->next_consent_ns) {
		send_check(a, p, p->selected, false, now, false);
		p->next_consent_ns = now + consent_interval(a);
	}
}
