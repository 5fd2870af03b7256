/*
 * agent.c - the peer agent (see agent.h; wire format in docs/protocol.md).
 *
 * Read it in the order of a connection: registration with the coordinator,
 * CONNECT and INTRODUCE (which give the candidates and the session keys),
 * then the connectivity checks, nomination and consent freshness, which are
 * in agent_checks.c, the relay fallback (agent_relay.c); back here, data,
 * and the driver interface (NAT discovery is in agent_discovery.c): input (one handler per message
 * type), the timers (agent_tick, agent_next_deadline) and the output queues. The agent's state is
 * in agent_state.h.
 *
 * agent_speed.h is an optional layer for simulators that run 100 000
 * agents; the few places that ask it something say so, and with none
 * installed they do what a plain agent does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"

#define REG_MAX_TRIES 5
#define REG_RETRY_AFTER_LOSS (10 * P2P_NS_PER_S)
#define KEEPALIVE_PADDING 64 /* so stunsrv's no-amplification rule still answers */

/* ---- small helpers ---- */

const char *fmt_ep(const struct p2p_endpoint *ep, char buf[P2P_ENDPOINT_STRLEN])
{
	return p2p_endpoint_format(ep, buf, P2P_ENDPOINT_STRLEN);
}

/* Where drained queues leave their arrays (agent_speed.h); NULL: each
 * queue keeps its own. */
static struct ring_spare *spare_datagrams(const struct agent *a)
{
	return a->speed.spares ? &a->speed.spares->datagrams : NULL;
}

static struct ring_spare *spare_events(const struct agent *a)
{
	return a->speed.spares ? &a->speed.spares->events : NULL;
}

/* Slot for a datagram to send from our socket, or NULL (out of memory). */
struct p2p_datagram *dq_push(struct agent *a, const struct p2p_endpoint *to)
{
	return dq_push_on(a, 0, to);
}

/* The same from socket `sock` (0: ours; k > 0: an extra socket, agent.h). */
struct p2p_datagram *dq_push_on(struct agent *a, uint16_t sock, const struct p2p_endpoint *to)
{
	struct p2p_datagram *d = ring_push(&a->dq, sizeof(*d), spare_datagrams(a));
	if (d == NULL)
		return NULL;
	d->from = *local_for(a, to); /* socket 0: ours of the destination's family */
	if (sock != 0)
		d->from.port = 0; /* the driver's choice (agent.h "Extra sockets") */
	d->to = *to;
	d->socket = sock;
	d->len = 0;
	return d;
}

/* Finishes a message written into a pushed slot; drops the slot on error. */
void dq_commit(struct agent *a, struct p2p_datagram *d, struct stun_writer *w)
{
	int n = stun_writer_finish(w);
	if (n > 0)
		d->len = (size_t)n;
	else
		ring_unpush(&a->dq);
}

/* Whether the next event's text will be read (agent_speed.h; without it,
 * always): callers that build pieces of it first ask too. */
bool text_wanted(const struct agent *a)
{
	return a->speed.event_text_wanted == NULL || a->speed.event_text_wanted(a->speed.text_ctx);
}

struct p2p_event *emit(struct agent *a, enum agent_event_type type, const char *peer,
		       const char *fmt, ...)
{
	struct p2p_event *e = ring_push(&a->eq, sizeof(*e), spare_events(a));
	va_list ap;
	if (e == NULL)
		return NULL;
	e->type = type;
	snprintf(e->peer, sizeof(e->peer), "%s", peer ? peer : "");
	e->local = e->remote = (struct p2p_endpoint){.ip = 0, .port = 0};
	e->technique = 0;
	e->family = P2P_FAMILY_IPV4;
	e->data_len = 0;
	memset(&e->nat, 0, sizeof(e->nat));
	e->text[0] = '\0';
	if (text_wanted(a)) {
		va_start(ap, fmt);
		vsnprintf(e->text, sizeof(e->text), fmt, ap);
		va_end(ap);
	}
	return e;
}

void new_txid(struct agent *a, uint8_t txid[STUN_TXID_SIZE])
{
	a->cfg.random.fill(a->cfg.random.ctx, txid, STUN_TXID_SIZE);
}

struct agent_peer *find_peer(const struct agent *a, const char *name)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		return deadlines_find_peer(a, name); /* the speed layer's index */
#endif
	for (size_t i = 0; i < a->n_peers; i++)
		if (strcmp(a->peers[i]->name, name) == 0)
			return a->peers[i];
	return NULL;
}

/* Peers are never removed: slots [0, n_peers) are all in use. */
static struct agent_peer *add_peer(struct agent *a, const char *name)
{
	if (a->n_peers == AGENT_MAX_PEERS)
		return NULL;
	if (a->n_peers == a->cap_peers) {
		size_t cap = a->cap_peers ? 2 * a->cap_peers : 2;
		struct agent_peer **np = realloc(a->peers, cap * sizeof(*np));
		if (np == NULL)
			return NULL;
		a->peers = np;
		a->cap_peers = cap;
	}
	struct agent_peer *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	a->peers[a->n_peers++] = p;
	p->retx_soonest_ns = P2P_NO_DEADLINE;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->selected = p->nominating = -1;
	p->controlling = strcmp(a->name, name) < 0;
	reset_txns(p);
	peer_added(a);
	return p;
}

/* ---- lifecycle ---- */

/* The speed layer's summary of the peers' timers, if asked for
 * (agent_speed.h); a build without the layer runs the plain walks. */
static int install_deadlines(struct agent *a)
{
#if NATSIM_AGENT_SPEED
	if (a->speed.summarize_deadlines && (a->deadlines = deadlines_new()) == NULL)
		return AGENT_ERR_NOMEM;
#endif
	(void)a;
	return AGENT_OK;
}

static void set_defaults(struct agent_config *c)
{
	if (!c->pacing_ns)
		c->pacing_ns = 20 * P2P_NS_PER_MS;
	if (!c->punch_timeout_ns)
		c->punch_timeout_ns = 5 * P2P_NS_PER_S;
	if (!c->background_pacing_ns)
		c->background_pacing_ns = P2P_NS_PER_S;
	if (!c->keepalive_ns)
		c->keepalive_ns = 25 * P2P_NS_PER_S;
	if (!c->refresh_ns)
		c->refresh_ns = 60 * P2P_NS_PER_S;
	if (!c->consent_check_ns)
		c->consent_check_ns = 5 * P2P_NS_PER_S; /* RFC 7675 5.1 */
	if (!c->consent_expiry_ns)
		c->consent_expiry_ns = 30 * P2P_NS_PER_S; /* RFC 7675 5.1 */
	if (!c->rto_ns)
		c->rto_ns = 500 * P2P_NS_PER_MS;
	if (!c->check_rto_ns)
		c->check_rto_ns = 100 * P2P_NS_PER_MS;
	if (!c->tcp_retry_ns)
		c->tcp_retry_ns = 250 * P2P_NS_PER_MS;
	if (!c->tcp_connect_tries)
		c->tcp_connect_tries = 8;
	if (!c->prediction_window)
		c->prediction_window = 8;
	if (!c->birthday_sockets)
		c->birthday_sockets = 256; /* Tailscale's "How NAT traversal works" */
	if (c->birthday_sockets > AGENT_MAX_SOCKETS)
		c->birthday_sockets = AGENT_MAX_SOCKETS;
	if (!c->probe_rate)
		c->probe_rate = 100;
	if (!c->probe_budget)
		c->probe_budget = 2048;
	if (c->gateway.ip != 0 && !c->gateway.port)
		c->gateway.port = 5351; /* RFC 6887 19.1, RFC 6886 3 */
	if (!c->mapping_lifetime_s)
		c->mapping_lifetime_s = 7200;
}

/* The host candidates we advertise, in our copy of the config (struct
 * agent): the ones it lists; with none listed, our sockets' addresses;
 * none at all when it disables them. */
static void advertised_hosts(struct agent *a)
{
	struct agent_config *c = &a->cfg;

	if (c->disable_host_candidates) {
		c->n_host_candidates = 0;
	} else if (c->n_host_candidates == 0) {
		c->host_candidates[c->n_host_candidates++] = c->local;
		if (agent_is_dual(a))
			c->host_candidates[c->n_host_candidates++] = c->local6;
	}
}

struct agent *agent_new(const struct agent_config *cfg)
{
	uint8_t seed[CRYPTO_SEED_SIZE];
	struct agent *a;

	if (cfg->name == NULL || cfg->name[0] == '\0' || strlen(cfg->name) >= AGENT_NAME_MAX ||
	    cfg->random.fill == NULL || cfg->n_host_candidates > AGENT_MAX_HOST_CANDIDATES ||
	    crypto_init() < 0)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->cfg = *cfg;
	set_defaults(&a->cfg);
	if (cfg->transport == AGENT_TRANSPORT_TCP && (a->tcp = agent_tcp_new()) == NULL) {
		free(a);
		return NULL;
	}
	/* The techniques for hard NATs are UDP ones (agent.h "Hard NATs"). */
	if (a->tcp == NULL &&
	    (portmap_new(a) != AGENT_OK || hard_new(a) != AGENT_OK || dual_new(a) != AGENT_OK)) {
		portmap_free(a);
		hard_free(a);
		free(a);
		return NULL;
	}
	snprintf(a->name, sizeof(a->name), "%s", cfg->name);
	a->cfg.name = a->name;
	if (cfg->speed != NULL)
		a->speed = *cfg->speed;
	a->cfg.speed = NULL; /* copied into a->speed */
	if (install_deadlines(a) < 0) {
		free(a);
		return NULL;
	}
	if (a->speed.identity != NULL) {
		a->id = *a->speed.identity; /* derived ahead of time (agent_speed.h) */
		a->speed.identity = NULL;   /* borrowed for agent_new only */
	} else {
		if (cfg->key_seed)
			memcpy(seed, cfg->key_seed, sizeof(seed));
		else
			cfg->random.fill(cfg->random.ctx, seed, sizeof(seed));
		crypto_identity_from_seed(&a->id, seed);
	}
	advertised_hosts(a);
	return a;
}

void agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	discovery_free(a->disc);
	agent_tcp_free(a->tcp);
	portmap_free(a);
	hard_free(a);
	dual_free(a);
	for (size_t i = 0; i < a->n_peers; i++) {
		free(a->peers[i]->pairs);
		p2p_addr6_table_free(&a->peers[i]->addrs6);
		free(a->peers[i]);
	}
	free(a->peers);
	ring_fini(&a->dq);
	ring_fini(&a->eq);
	free(a->deadlines);
	free(a);
}

void agent_set_keepalive(struct agent *a, uint64_t interval_ns)
{
	a->cfg.keepalive_ns = interval_ns;
	peers_changed(a); /* a direct peer's deadline depends on it */
}

/* ---- registration ---- */

/* The same registration, signed anew, over either family (agent_dual.c). */
void write_register(struct agent *a, uint64_t now, const struct p2p_endpoint *to,
		    const uint8_t txid[STUN_TXID_SIZE])
{
	struct coord_registration r;
	uint8_t bytes[COORD_REG_BYTES_MAX], sig[CRYPTO_SIGNATURE_SIZE];
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, to);

	if (d == NULL)
		return;
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", a->name);
	memcpy(r.sign_pk, a->id.sign_pk, 32);
	memcpy(r.box_pk, a->id.box_pk, 32);
	/* Strictly increasing, or the coordinator takes it for a replay. */
	r.timestamp_ns = now + a->cfg.clock_offset_ns;
	if (r.timestamp_ns <= a->last_ts)
		r.timestamp_ns = a->last_ts + 1;
	a->last_ts = r.timestamp_ns;
	r.n_candidates = a->cfg.n_host_candidates;
	for (size_t i = 0; i < r.n_candidates; i++)
		r.candidates[i] =
		    (struct coord_candidate){a->cfg.host_candidates[i], COORD_CAND_HOST};
	r.n_candidates += portmap_candidates(a, r.candidates + r.n_candidates,
					     COORD_MAX_CANDIDATES - r.n_candidates);
	r.transport = a->tcp ? COORD_TRANSPORT_TCP : 0; /* our listener's port: TCP candidates */
	hard_put_mapping(a, &r.mapping);
	size_t n = coord_registration_bytes(&r, bytes);
	crypto_identity_sign(&a->id, bytes, n, sig);
	if (a->speed.signed_registration != NULL) /* agent_speed.h */
		a->speed.signed_registration(a->speed.sign_ctx, r.sign_pk, bytes, n, sig);

	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_REGISTER, STUN_CLASS_REQUEST,
			 txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, a->name);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGN_KEY, r.sign_pk, 32);
	stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, r.box_pk, 32);
	if (r.transport != 0)
		stun_put_raw(&w, STUN_ATTR_NATSIM_TRANSPORT, &r.transport, 1);
	for (size_t i = 0; i < r.n_candidates; i++)
		coord_put_candidate(&w, &r.candidates[i]);
	if (r.mapping.kind != 0)
		coord_put_mapping(&w, &r.mapping);
	stun_put_u64(&w, STUN_ATTR_NATSIM_TIMESTAMP, r.timestamp_ns);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGNATURE, sig, sizeof(sig));
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

static void send_register(struct agent *a, uint64_t now)
{
	write_register(a, now, &a->cfg.coordinator, a->reg_txid);
}

/* Start a REGISTER transaction (first registration, refresh, or re-register). */
static void begin_register(struct agent *a, uint64_t now)
{
	new_txid(a, a->reg_txid);
	a->reg_tries = 1;
	/* RFC 8489 6.2.2: over TCP a request is sent once and fails after Ti. */
	a->reg_retry_ns = now + (a->tcp ? STUN_TI_NS : a->cfg.rto_ns);
	send_register(a, now);
}

int agent_register(struct agent *a, uint64_t now_ns)
{
	a->reg_wanted = true;
	begin_register(a, now_ns);
	portmap_start(a, now_ns);
	return AGENT_OK;
}

void register_again(struct agent *a, uint64_t now)
{
	if (a->reg_wanted)
		begin_register(a,
			       now); /* a REGISTER in flight is superseded: its answer is stale */
}

bool registration_settled(const struct agent *a)
{
	return a->registered && !portmap_busy(a) && !hard_busy(a) && !dual_busy(a);
}

static void send_connect(struct agent *a, struct agent_peer *p, uint64_t now);

void send_waiting_connects(struct agent *a, uint64_t now)
{
	if (!registration_settled(a))
		return;
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i]->connect_pending) {
			send_connect(a, a->peers[i], now);
			peer_changed(a, a->peers[i]);
		}
}

void fail_peer(struct agent *a, struct agent_peer *p, const char *why)
{
	p->state = AGENT_PEER_FAILED;
	p->connect_retry_ns = 0;
	p->relay_retry_ns = 0;
	p->connect_pending = false;
	emit(a, AGENT_EV_FAILED, p->name, "cannot reach %s: %s", p->name, why);
}

void registration_lost(struct agent *a, uint64_t now, const char *why)
{
	char ep[P2P_ENDPOINT_STRLEN];

	a->registered = false;
	a->reg_tries = 0;
	/* Try again soon, not at the next refresh: the coordinator (or our
	 * link to it) may be back in seconds, and peers wait on us. */
	a->reg_retry_ns = now + (a->cfg.refresh_ns < REG_RETRY_AFTER_LOSS ? a->cfg.refresh_ns
									  : REG_RETRY_AFTER_LOSS);
	emit(a, AGENT_EV_FAILED, NULL, "coordinator %s: %s", fmt_ep(&a->cfg.coordinator, ep), why);
	peers_changed(a);
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i]->state == AGENT_PEER_CONNECTING)
			fail_peer(a, a->peers[i], "the coordinator does not answer");
}

static void emit_candidates(struct agent *a)
{
	char list[200] = "", ep[P2P_ENDPOINT_STRLEN];
	size_t n = 0;

	for (size_t i = 0; i < a->cfg.n_host_candidates && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%shost %s", n ? ", " : "",
				      fmt_ep(&a->cfg.host_candidates[i], ep));
	if (n < sizeof(list))
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%ssrflx %s", n ? ", " : "",
				      fmt_ep(&a->srflx, ep));
	struct coord_candidate mapped[COORD_MAX_CANDIDATES];
	size_t nm = portmap_candidates(a, mapped, COORD_MAX_CANDIDATES);
	for (size_t i = 0; i < nm && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, ", mapped %s",
				      fmt_ep(&mapped[i].ep, ep));
	emit(a, AGENT_EV_CANDIDATES_GATHERED, NULL, "candidates: %s", list);
}

static int on_register_response(struct agent *a, uint64_t now, const struct stun_msg *m)
{
	struct p2p_endpoint mapped;
	char ep[P2P_ENDPOINT_STRLEN], why[120];
	int code = 0;
	const char *reason = "";
	size_t rlen = 0;

	if (a->reg_tries == 0 || memcmp(m->txid, a->reg_txid, STUN_TXID_SIZE) != 0)
		return AGENT_ERR_MALFORMED; /* stale or not ours */
	a->reg_tries = 0;
	if (m->cls == STUN_CLASS_ERROR) {
		stun_get_error(m, &code, &reason, &rlen);
		snprintf(why, sizeof(why), "registration refused (%d %.*s)", code, (int)rlen,
			 reason);
		registration_lost(a, now, why);
		return AGENT_OK;
	}
	if (stun_get_xor_address(m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) != STUN_OK)
		return AGENT_ERR_MALFORMED;
	bool first = !a->registered,
	     moved = !a->have_srflx || !p2p_endpoint_equal(&mapped, &a->srflx);
	a->registered = a->have_srflx = true;
	a->srflx = mapped;
	a->reg_retry_ns = now + a->cfg.refresh_ns;
	if (a->coord_ka_ns == 0 || first)
		a->coord_ka_ns = now + a->cfg.keepalive_ns;
	if (first)
		emit(a, AGENT_EV_REGISTERED, NULL,
		     "registered with the coordinator as %s; it sees us as %s", a->name,
		     fmt_ep(&mapped, ep));
	if (moved)
		emit_candidates(a);
	hard_registered(a, now); /* measure our NAT, if a technique wants to know */
	dual_registered(a, now); /* and register over IPv6 too, if we have it */
	peers_changed(a);
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		/* Our public endpoint moved (the NAT rebooted or changed its
		 * behaviour): a peer we only reach through the relay still
		 * probes the old one. Ask to be introduced again so that both
		 * sides probe what is true now. */
		bool stale = moved && !first && p->state == AGENT_PEER_RELAYED;
		/* Back after losing the coordinator: try again the peers that
		 * failed meanwhile. */
		bool retry = first && p->state == AGENT_PEER_FAILED;
		if (!registration_settled(a)) /* measuring or asking the router first */
			p->connect_pending = p->connect_pending || stale || retry;
		else if (p->connect_pending || stale || retry)
			send_connect(a, p, now);
	}
	return AGENT_OK;
}

/* ---- CONNECT ---- */

static void send_connect(struct agent *a, struct agent_peer *p, uint64_t now)
{
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, &a->cfg.coordinator);

	p->connect_pending = false;
	/* Over TCP sent once (RFC 8489 6.2.2): only the deadline remains. */
	p->connect_retry_ns = a->tcp ? p->connect_deadline_ns : now + 2 * a->cfg.rto_ns;
	if (d == NULL)
		return;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_CONNECT, STUN_CLASS_REQUEST,
			 p->connect_txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, p->name);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

/* Ask for an introduction: now if registered, else once registration answers. */
static void request_introduction(struct agent *a, struct agent_peer *p, uint64_t now)
{
	p->state = AGENT_PEER_CONNECTING;
	p->reconnect_on_send = false;
	p->connect_deadline_ns = now + a->cfg.punch_timeout_ns;
	new_txid(a, p->connect_txid);
	if (registration_settled(a)) {
		send_connect(a, p, now);
	} else {
		p->connect_pending = true;
		p->connect_retry_ns = 0;
		if (!a->reg_wanted)
			agent_register(a, now);
	}
}

int agent_connect(struct agent *a, uint64_t now_ns, const char *peer_name)
{
	struct agent_peer *p;

	if (peer_name == NULL || peer_name[0] == '\0' || strlen(peer_name) >= AGENT_NAME_MAX ||
	    strcmp(peer_name, a->name) == 0)
		return AGENT_ERR_INVALID;
	p = find_peer(a, peer_name);
	if (p == NULL && (p = add_peer(a, peer_name)) == NULL)
		return AGENT_ERR_TOO_MANY;
	if (p->state == AGENT_PEER_DIRECT || p->state == AGENT_PEER_PUNCHING)
		return AGENT_OK; /* already on it */
	request_introduction(a, p, now_ns);
	peer_changed(a, p);
	return AGENT_OK;
}

static int on_connect_response(struct agent *a, const struct stun_msg *m)
{
	int code = 0;
	const char *reason = "";
	size_t rlen = 0;
	char why[120];

	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		if (memcmp(p->connect_txid, m->txid, STUN_TXID_SIZE) != 0)
			continue;
		if (m->cls == STUN_CLASS_ERROR && p->state == AGENT_PEER_CONNECTING) {
			stun_get_error(m, &code, &reason, &rlen);
			snprintf(why, sizeof(why),
				 "the coordinator refused to introduce us (%d %.*s)", code,
				 (int)rlen, reason);
			fail_peer(a, p, why);
			peer_changed(a, p);
		}
		return AGENT_OK; /* success: the INTRODUCE carries what we need */
	}
	return AGENT_ERR_MALFORMED;
}

/* ---- INTRODUCE ---- */

static void start_punching(struct agent *a, struct agent_peer *p, uint64_t now)
{
	char list[180] = "", ep[P2P_ENDPOINT_STRLEN];
	size_t n = 0;
	bool text = text_wanted(a);

	p->state = AGENT_PEER_PUNCHING;
	p->connect_retry_ns = 0;
	p->connect_pending = false;
	p->reconnect_on_send = false;
	p->checks_failed = false;
	p->selected = p->nominating = -1;
	p->punch_deadline_ns = now + a->cfg.punch_timeout_ns;
	p->relay_retry_ns = 0;
	p->rr = 0;
	/* A fresh checklist (RFC 8445 6.1.2.6): every pair Waiting for its paced
	 * first check; what an earlier round learned may no longer hold (path
	 * lost, NAT rebooted). */
	for (size_t i = 0; i < p->n_pairs; i++) {
		struct agent_pair *pp = &p->pairs[i];
		pp->waiting = true;
		pp->succeeded = pp->heard = pp->peer_nominated = pp->failed = false;
		pp->retx_ns = 0;
	}
	retx_refresh(p);
	if (a->pace_ns < now)
		a->pace_ns = now;
	for (size_t i = 0; i < p->n_pairs && n < sizeof(list) && text; i++) {
		const struct coord_candidate c = pair_candidate(p, &p->pairs[i]);
		if (c.type == COORD_CAND_PREDICTED && p->predicted_lo != 0) {
			/* The predicted ports as one range, said once. */
			if (c.ep.port == p->predicted_lo)
				n += (size_t)snprintf(list + n, sizeof(list) - n,
						      "%spredicted %s-%u", i ? ", " : "",
						      fmt_ep(&c.ep, ep), p->predicted_hi);
			continue;
		}
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s %s", i ? ", " : "",
				      coord_candidate_type_name(c.type), fmt_ep(&c.ep, ep));
	}
	emit(a, AGENT_EV_PUNCHING, p->name, "punching to %s (%s): %u candidate%s: %s", p->name,
	     p->controlling ? "we nominate" : "it nominates", (unsigned)p->n_pairs,
	     p->n_pairs == 1 ? "" : "s", list);
}

static int parse_introduce(const struct stun_msg *m, char *name, const uint8_t **box_pk,
			   uint64_t *session)
{
	const struct stun_attr *bpk = stun_find(m, STUN_ATTR_NATSIM_BOX_KEY);

	if (stun_get_string(m, STUN_ATTR_NATSIM_PEER, name, AGENT_NAME_MAX) != STUN_OK ||
	    name[0] == '\0' || bpk == NULL || bpk->len != CRYPTO_BOX_PK_SIZE ||
	    stun_get_u64(m, STUN_ATTR_NATSIM_SESSION, session) != STUN_OK)
		return AGENT_ERR_MALFORMED;
	*box_pk = bpk->value;
	return AGENT_OK;
}

/* p->cs for `session` with the holder of box_pk. The shared secret comes from
 * the configured source (agent.h) when there is one. A refused key leaves
 * p->cs as it was. */
static int session_keys(struct agent *a, struct agent_peer *p, const uint8_t *box_pk,
			uint64_t session)
{
	const struct agent_speed *s = &a->speed;
	uint8_t secret[CRYPTO_KEY_SIZE];
	int rc = s->shared_secret ? s->shared_secret(s->secret_ctx, &a->id, box_pk, secret)
				  : crypto_shared_secret(&a->id, box_pk, secret);

	if (rc == CRYPTO_OK)
		rc = crypto_session_init_from_secret(&p->cs, &a->id, box_pk, secret, session);
	return rc;
}

static int on_introduce(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			const struct stun_msg *m)
{
	char name[AGENT_NAME_MAX];
	const uint8_t *box_pk;
	uint64_t session;
	struct agent_peer *p;

	/* Only the coordinator introduces. */
	if (!from_coordinator(a, from) || parse_introduce(m, name, &box_pk, &session) != AGENT_OK ||
	    strcmp(name, a->name) == 0)
		return AGENT_ERR_MALFORMED;
	p = find_peer(a, name);
	if (p == NULL && (p = add_peer(a, name)) == NULL)
		return AGENT_ERR_TOO_MANY;
	peer_changed(a, p);
	bool same = p->introduced && p->session == session;
	if (!same) {
		if (session_keys(a, p, box_pk, session) != CRYPTO_OK)
			return AGENT_ERR_MALFORMED;
		stun_integrity_key_init(&p->check_mac, p->cs.check_key, sizeof(p->cs.check_key));
		p->introduced = true;
		p->session = session;
		p->n_pairs = 0;
		p2p_addr6_table_clear(&p->addrs6);
		p->retx_soonest_ns = P2P_NO_DEADLINE;
		reset_txns(p);
	}
	/* Candidates of our transport only: a UDP peer's are no use over TCP
	 * (nor the other way round); then only the relay joins us. */
	bool usable = (stun_find(m, STUN_ATTR_NATSIM_TRANSPORT) != NULL) == (a->tcp != NULL);
	for (size_t i = 0; i < m->n_attrs && usable; i++) {
		struct coord_candidate c;
		/* Pairs per family: a candidate of a family we have no socket
		 * of has no local half (RFC 8445 6.1.2.2), unless our NAT64
		 * reaches it (an IPv4 one at its IPv6 address). */
		if (m->attrs[i].type == STUN_ATTR_NATSIM_CANDIDATE &&
		    coord_parse_candidate(m, &m->attrs[i], &c) == STUN_OK &&
		    (agent_has_family(a, c.ep.family) || nat64_candidate(a, p, &c)) &&
		    !is_local(a, &c.ep))
			add_pair(p, &c);
	}
	if (!same)
		order_checklist(a, p); /* RFC 8445 6.1.2.3 with RFC 8421's preferences */
	hard_introduced(a, p, m, now); /* predicted candidates, the birthday search */
	if (p->state == AGENT_PEER_RELAYED)
		p->next_check_ns = now; /* fresh candidates: probe them in the background now */
	else if (!same || p->state == AGENT_PEER_CONNECTING || p->state == AGENT_PEER_FAILED)
		start_punching(a, p, now);
	return AGENT_OK;
}

/* ---- coordinator keepalive (a padded Binding) ---- */

static void send_coord_keepalive(struct agent *a)
{
	static const uint8_t pad[KEEPALIVE_PADDING];
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, &a->cfg.coordinator);

	if (d == NULL)
		return;
	new_txid(a, a->ka_txid);
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			 a->ka_txid);
	/* RFC 5780 PADDING: makes the request as large as the answer. */
	stun_put_raw(&w, STUN_ATTR_PADDING, pad, sizeof(pad));
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

static int on_coord_binding(struct agent *a, uint64_t now, const struct stun_msg *m)
{
	struct p2p_endpoint mapped;
	char o[P2P_ENDPOINT_STRLEN], n[P2P_ENDPOINT_STRLEN];

	if (stun_get_xor_address(m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) != STUN_OK)
		return AGENT_ERR_MALFORMED;
	if (a->registered && !p2p_endpoint_equal(&mapped, &a->srflx) && a->reg_tries == 0) {
		/* Our NAT gave us a new public endpoint: tell the coordinator. */
		emit(a, AGENT_EV_LOG, NULL,
		     "our public endpoint moved from %s to %s; re-registering",
		     fmt_ep(&a->srflx, o), fmt_ep(&mapped, n));
		begin_register(a, now);
	}
	return AGENT_OK;
}

/* ---- data ---- */

static int deliver(struct agent *a, struct agent_peer *p, const struct stun_msg *m, bool relayed)
{
	const struct stun_attr *pl = stun_find(m, STUN_ATTR_NATSIM_PAYLOAD);
	uint8_t plain[P2P_MAX_DATAGRAM];
	uint64_t session;

	if (pl == NULL || stun_get_u64(m, STUN_ATTR_NATSIM_SESSION, &session) != STUN_OK ||
	    session != p->session || !p->introduced)
		return AGENT_ERR_UNKNOWN_PEER;
	int n = crypto_open(&p->cs, pl->value, pl->len, plain, sizeof(plain));
	if (n < 0 || n > AGENT_MAX_DATA)
		return AGENT_ERR_UNAUTHENTICATED;
	struct p2p_event *e = emit(a, AGENT_EV_DATA_RECEIVED, p->name, "%d bytes from %s (%s)", n,
				   p->name, relayed ? "through the relay" : "direct");
	if (e) {
		memcpy(e->data, plain, (size_t)n);
		e->data_len = (size_t)n;
	}
	return AGENT_OK;
}

static int on_data(struct agent *a, const struct p2p_endpoint *from, const struct stun_msg *m,
		   bool relayed)
{
	char name[AGENT_NAME_MAX];
	struct agent_peer *p;

	if (m->cls != STUN_CLASS_INDICATION || (relayed && !from_coordinator(a, from)) ||
	    stun_get_string(m, STUN_ATTR_NATSIM_PEER, name, sizeof(name)) != STUN_OK ||
	    (p = find_peer(a, name)) == NULL)
		return AGENT_ERR_UNKNOWN_PEER;
	return deliver(a, p, m, relayed);
}

int agent_send(struct agent *a, uint64_t now_ns, const char *peer_name, const uint8_t *data,
	       size_t len)
{
	struct agent_peer *p = find_peer(a, peer_name);
	uint8_t sealed[AGENT_MAX_DATA + CRYPTO_SEAL_OVERHEAD], txid[STUN_TXID_SIZE];
	struct stun_writer w;

	if (len > AGENT_MAX_DATA)
		return AGENT_ERR_INVALID;
	if (p == NULL)
		return AGENT_ERR_UNKNOWN_PEER;
	if (!p->introduced || p->state == AGENT_PEER_FAILED)
		return AGENT_ERR_NOT_CONNECTED;
	if (p->reconnect_on_send) {
		/* The path was lost while we kept nothing alive: this message
		 * goes through the relay, and we look for a path again. */
		reconnect(a, p, now_ns);
		peer_changed(a, p);
	}
	int n = crypto_seal(&p->cs, data, len, sealed, sizeof(sealed));
	if (n < 0)
		return AGENT_ERR_INVALID;
	bool direct = p->state == AGENT_PEER_DIRECT && p->selected >= 0;
	struct p2p_endpoint to =
	    direct ? pair_remote(p, &p->pairs[p->selected]) : a->cfg.coordinator;
	struct p2p_datagram *d = dq_push_on(a, direct ? p->pairs[p->selected].sock : 0, &to);
	if (d == NULL)
		return AGENT_ERR_NOMEM;
	new_txid(a, txid);
	stun_writer_init(&w, d->buf, sizeof(d->buf), direct ? STUN_METHOD_DATA : STUN_METHOD_RELAY,
			 STUN_CLASS_INDICATION, txid);
	/* DATA names the sender; RELAY names the receiver (the coordinator swaps it). */
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, direct ? a->name : p->name);
	stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, p->session);
	stun_put_raw(&w, STUN_ATTR_NATSIM_PAYLOAD, sealed, (uint16_t)n);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
	return AGENT_OK;
}

/* ---- driver interface ---- */

int agent_input(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *from,
		const uint8_t *buf, size_t len)
{
	if (a->tcp != NULL)
		return AGENT_ERR_INVALID; /* no UDP socket: agent_tcp_input */
	if (a->portmap != NULL && p2p_endpoint_equal(from, &a->cfg.gateway) &&
	    portmap_input(a, now_ns, from, buf, len))
		return AGENT_OK; /* the router's PCP / NAT-PMP answer */
	return input_message(a, now_ns, from, buf, len);
}

/* One handler per message type; from a datagram, or a connection (agent_tcp.c). */
int input_message(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *from,
		  const uint8_t *buf, size_t len)
{
	struct stun_msg m;

	/* While discovery runs it sees everything first (discovery.h contract). */
	if (a->disc != NULL && discovery_input(a->disc, now_ns, from, buf, len)) {
		discovery_drain(a);
		return AGENT_OK;
	}
	if (stun_decode(buf, len, false, &m) != STUN_OK)
		return AGENT_ERR_MALFORMED;
	switch (m.method) {
	case STUN_METHOD_BINDING:
		if (m.cls == STUN_CLASS_REQUEST)
			return on_check(a, now_ns, from, buf, len, &m);
		if (m.cls == STUN_CLASS_SUCCESS &&
		    memcmp(m.txid, a->ka_txid, STUN_TXID_SIZE) == 0 &&
		    p2p_endpoint_equal(from, &a->cfg.coordinator))
			return on_coord_binding(a, now_ns, &m);
		if (a->hard != NULL && hard_input_binding(a, now_ns, from, &m))
			return AGENT_OK; /* measuring our NAT */
		if (m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR)
			return on_check_response(a, now_ns, from, buf, len, &m);
		return AGENT_OK; /* Binding indication: a bare keepalive */
	case STUN_METHOD_REGISTER:
		if ((m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR) &&
		    dual_input_register(a, now_ns, &m))
			return AGENT_OK; /* our IPv6 registration's answer */
		if (m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR)
			return on_register_response(a, now_ns, &m);
		break;
	case STUN_METHOD_CONNECT:
		if (m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR)
			return on_connect_response(a, &m);
		break;
	case STUN_METHOD_INTRODUCE:
		return on_introduce(a, now_ns, from, &m);
	case STUN_METHOD_RELAY:
		if (m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR)
			return on_relay_response(a, now_ns, from, &m);
		return on_data(a, from, &m, true);
	case STUN_METHOD_DATA:
		return on_data(a, from, &m, false);
	}
	return AGENT_ERR_MALFORMED;
}

/* An ICMP error about one of our datagrams: what it means for the checks
 * is in agent_checks.c (on_icmp_error). */
int agent_handle_icmp_error(struct agent *a, uint64_t now_ns, const struct p2p_icmp_error *err)
{
	int rc = AGENT_ERR_UNKNOWN_PEER;

	/* Our socket of the error's family: its port, and its address unless
	 * bound to any (0). */
	const struct p2p_endpoint *ours = local_for(a, &err->local);
	if (a->tcp != NULL || err->local.family != ours->family || err->local.port != ours->port ||
	    (p2p_endpoint_has_addr(ours) && !p2p_endpoint_same_addr(&err->local, ours)))
		return AGENT_ERR_INVALID;
	if (a->portmap != NULL && portmap_icmp_error(a, now_ns, err))
		return AGENT_OK; /* the router runs no PCP / NAT-PMP server */
	for (size_t i = 0; i < a->n_peers; i++)
		if (on_icmp_error(a, a->peers[i], now_ns, err) == AGENT_OK) {
			peer_changed(a, a->peers[i]);
			rc = AGENT_OK;
		}
	return rc;
}

/* After a lost path. Our own mappings may be gone too: re-register first,
 * then CONNECT; a fresh INTRODUCE restarts punching on both sides. */
void reconnect(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (a->reg_tries == 0)
		begin_register(a, now);
	request_introduction(a, p, now);
}

static void tick_peer(struct agent *a, struct agent_peer *p, uint64_t now)
{
	switch (p->state) {
	case AGENT_PEER_CONNECTING:
		if (p->connect_retry_ns && now >= p->connect_deadline_ns) {
			fail_peer(a, p, "the coordinator sent no introduction");
		} else if (p->connect_retry_ns && now >= p->connect_retry_ns) {
			send_connect(a, p, now);
		}
		break;
	case AGENT_PEER_PUNCHING:
		if (now >= p->punch_deadline_ns)
			tick_relay_request(a, p, now);
		if (p->state == AGENT_PEER_PUNCHING && now >= p->retx_soonest_ns)
			tick_retransmissions(a, p, now);
		break;
	case AGENT_PEER_RELAYED:
		if (now >= p->retx_soonest_ns)
			tick_retransmissions(a, p, now);
		if (now >= p->next_check_ns) {
			send_background_check(a, p, now);
			p->next_check_ns = now + a->cfg.background_pacing_ns;
		}
		break;
	case AGENT_PEER_DIRECT:
		tick_direct(a, p, now);
		break;
	default:
		break;
	}
}

static void tick_registration(struct agent *a, uint64_t now)
{
	if (a->reg_wanted && now >= a->reg_retry_ns) {
		if (a->reg_tries == 0) {
			begin_register(a, now); /* refresh */
		} else if (a->reg_tries >= REG_MAX_TRIES || a->tcp != NULL) {
			registration_lost(a, now, "no answer to REGISTER");
		} else {
			/* RFC 8489 6.2.1: retransmit with doubling RTO. */
			a->reg_retry_ns = now + (a->cfg.rto_ns << a->reg_tries);
			a->reg_tries++;
			send_register(a, now);
		}
	}
	if (a->registered && a->cfg.keepalive_ns && a->coord_ka_ns && now >= a->coord_ka_ns) {
		send_coord_keepalive(a);
		a->coord_ka_ns = now + a->cfg.keepalive_ns;
	}
}

/* Every timer that has come: NAT discovery's, registration's, each peer's
 * (a peer with nothing due does nothing; the speed layer's summary may
 * know that without looking), then the paced first checks. */
void agent_tick(struct agent *a, uint64_t now_ns)
{
	if (a->disc != NULL) {
		discovery_tick(a->disc, now_ns);
		discovery_drain(a);
	}
	tick_registration(a, now_ns);
	dual_tick(a, now_ns);
	if (a->portmap != NULL)
		portmap_tick(a, now_ns);
	if (a->hard != NULL)
		hard_tick(a, now_ns);
	for (size_t i = 0; i < a->n_peers; i++)
		if (peer_may_be_due(a, i, now_ns))
			tick_peer(a, a->peers[i], now_ns);
	tick_pacing(a, now_ns);
	if (a->tcp != NULL)
		agent_tcp_tick(a, now_ns);
}

static uint64_t min64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

/* The peer's own timers; the paced first checks are the agent's (pace_ns). */
uint64_t peer_deadline(const struct agent *a, const struct agent_peer *p)
{
	uint64_t expiry = p->consent_ns + a->cfg.consent_expiry_ns;

	switch (p->state) {
	case AGENT_PEER_CONNECTING:
		return p->connect_retry_ns ? min64(p->connect_retry_ns, p->connect_deadline_ns)
					   : P2P_NO_DEADLINE;
	case AGENT_PEER_PUNCHING:
		return min64(p->retx_soonest_ns,
			     p->relay_retry_ns ? p->relay_retry_ns : p->punch_deadline_ns);
	case AGENT_PEER_RELAYED:
		return min64(p->retx_soonest_ns, p->n_pairs ? p->next_check_ns : P2P_NO_DEADLINE);
	case AGENT_PEER_DIRECT:
		return a->cfg.keepalive_ns ? min64(p->next_consent_ns, expiry) : expiry;
	default:
		return P2P_NO_DEADLINE;
	}
}

uint64_t agent_next_deadline(const struct agent *a)
{
	uint64_t t = P2P_NO_DEADLINE;

	if (a->disc != NULL)
		t = discovery_next_deadline(a->disc);
	if (a->reg_wanted)
		t = min64(t, a->reg_retry_ns);
	if (a->registered && a->cfg.keepalive_ns && a->coord_ka_ns)
		t = min64(t, a->coord_ka_ns);
	if (a->tcp != NULL)
		t = min64(t, agent_tcp_deadline(a));
	/* The techniques' timers, for an agent that uses any (most do not). */
	if (a->portmap != NULL)
		t = min64(t, portmap_deadline(a));
	if (a->hard != NULL)
		t = min64(t, hard_deadline(a));
	if (a->dual != NULL)
		t = min64(t, dual_deadline(a));
	/* The speed layer's summary, if any, gives the same without the walk. */
	return peers_next_deadline(a, t);
}

uint64_t peers_deadline(const struct agent *a, uint64_t t)
{
	for (size_t i = 0; i < a->n_peers; i++)
		t = min64(t, peer_deadline(a, a->peers[i]));
	if (t > a->pace_ns && has_waiting_pair(a))
		t = a->pace_ns;
	return t;
}

bool agent_pop_datagram(struct agent *a, struct p2p_datagram *out)
{
	const struct p2p_datagram *d = a->tcp ? NULL : ring_front(&a->dq, sizeof(*d));
	if (d == NULL)
		return false;
	out->from = d->from;
	out->to = d->to;
	out->socket = d->socket;
	out->len = d->len;
	memcpy(out->buf, d->buf, d->len); /* the bytes written, not the whole buffer */
	ring_pop_front(&a->dq, spare_datagrams(a));
	return true;
}

bool agent_pop_event(struct agent *a, struct p2p_event *out)
{
	const struct p2p_event *e = ring_front(&a->eq, sizeof(*e));
	if (e == NULL)
		return false;
	*out = *e;
	ring_pop_front(&a->eq, spare_events(a));
	return true;
}

/* ---- getters and names ---- */

enum agent_peer_state agent_peer_state(const struct agent *a, const char *peer_name)
{
	const struct agent_peer *p = find_peer(a, peer_name);
	return p == NULL ? AGENT_PEER_NONE : p->state;
}

bool agent_public_endpoint(const struct agent *a, struct p2p_endpoint *out)
{
	if (a->have_srflx && out)
		*out = a->srflx;
	return a->have_srflx;
}

const struct crypto_identity *agent_identity(const struct agent *a)
{
	return &a->id;
}

const char *agent_event_name(enum agent_event_type t)
{
	static const char *const names[] = {
	    "registered", "candidates",	 "punching", "direct", "relayed",
	    "upgraded",	  "path-lost",	 "failed",   "data",   "nat-classified",
	    "log",	  "pair-failed", "technique"};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

const char *agent_peer_state_name(enum agent_peer_state s)
{
	static const char *const names[] = {"none",   "connecting", "punching",
					    "direct", "relayed",    "failed"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *agent_error_str(int err)
{
	switch (err) {
	case AGENT_OK:
		return "ok";
	case AGENT_ERR_NOMEM:
		return "out of memory";
	case AGENT_ERR_INVALID:
		return "invalid argument";
	case AGENT_ERR_MALFORMED:
		return "not a message this agent understands";
	case AGENT_ERR_UNAUTHENTICATED:
		return "integrity check or seal did not verify";
	case AGENT_ERR_UNKNOWN_PEER:
		return "unknown peer or session";
	case AGENT_ERR_NOT_CONNECTED:
		return "not introduced to that peer yet";
	case AGENT_ERR_TOO_MANY:
		return "too many peers";
	case AGENT_ERR_BUSY:
		return "NAT discovery already running";
	}
	return "unknown agent error";
}
