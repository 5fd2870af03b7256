/*
 * agent_hard.c - what the agent tries against hard NATs (agent.h "Hard
 * NATs"): it measures how its NAT assigns public ports, tells the peer
 * through the coordinator, and then either predicts the peer's next ports
 * or runs the birthday search on extra sockets.
 *
 * Measuring. After the first registration the agent sends three Bindings
 * from its socket: to the coordinator's primary endpoint (the answer names
 * the other address and port, RFC 5780 OTHER-ADDRESS), then to the other
 * address and port, then to the primary address at the other port. With
 * the REGISTER's, that is the public port our NAT gave to three or four
 * destinations, in order (RFC 5780 4.3 runs the same mapping test):
 *   all the same           -> SAME: endpoint-independent mapping (easy);
 *   new ones, d apart      -> SEQUENTIAL (delta d): the next destination
 *                             will get the last port + d (prediction);
 *   new ones, unrelated    -> RANDOM: only a search can find them.
 * The agent registers again with what it found (NATSIM-MAPPING); a CONNECT
 * waits for that, so the coordinator can pass it on in INTRODUCE.
 *
 * Port prediction (a SEQUENTIAL peer): the peer's own checks to us will take
 * its NAT's next ports, so we check its public address at last + d,
 * last + 2d, ... (prediction_window of them) like any other candidate. It
 * fails when other traffic behind that NAT takes those ports first.
 *
 * The birthday search (a RANDOM side): the RANDOM side opens K extra
 * sockets, each sending one check to the other's server-reflexive endpoint:
 * K mappings open in its NAT, each admitting the other's endpoint. The
 * other side sends checks to random ports of the RANDOM side's address;
 * each lands in one of the K with chance K/R (R = 64512 ports, 1024-65535),
 * so n probes find one with chance 1 - (1 - K/R)^n. The probe that lands is
 * answered and sets off a triggered check back (RFC 8445 7.3.1.4), which
 * finds the prober's NAT open towards that port: a pair, nominated as any.
 * Both RANDOM: both open sockets and probe from them; two random guesses
 * must then meet, which almost never happens within a budget.
 * Every send counts against probe_budget and is paced at probe_rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"

#define MEASURE_TRIES 3
/* Deltas up to this are taken for a NAT's step between ports; a random
 * NAT gives one this small by chance about once in 500. */
#define PREDICTABLE_DELTA 64
#define PORTS_LO 1024u /* where NATs allocate (RFC 6056's range for ours) */
#define PORTS_R 64512u /* usable ports, 1024-65535 */
/* After the last send, the opener keeps its sockets this long for answers. */
#define SEARCH_LINGER_NS (5 * P2P_NS_PER_S)
/* Probes whose answers are still recognised: two seconds' worth at 32/s. */
#define PROBES_REMEMBERED 64

enum measure_step {
	MEASURE_IDLE = 0,
	MEASURE_ASK_PRIMARY, /* Binding 0 sent: waiting for OTHER-ADDRESS */
	MEASURE_ASK_OTHERS,  /* Bindings 1 and 2 sent */
	MEASURE_REGISTERING, /* registering again with the result */
	MEASURE_DONE,
};

/* The birthday search with one peer (one at a time). */
struct hard_search {
	struct agent_peer *peer; /* NULL: none running */
	bool opener, prober;
	struct p2p_endpoint target; /* the peer's server-reflexive endpoint */
	unsigned opened;	    /* extra sockets opened so far: 1..opened */
	unsigned sent;		    /* sends so far (opens and probes): the budget */
	uint64_t next_ns;	    /* next send (P2P_NO_DEADLINE: no more) */
	uint64_t end_ns;	    /* the sockets close then */
	/* The last probes' transaction IDs: their answers are known, not noise. */
	uint8_t recent[PROBES_REMEMBERED][STUN_TXID_SIZE];
	unsigned n_recent;
};

struct agent_hard {
	enum measure_step step;
	uint8_t txid[3][STUN_TXID_SIZE];
	struct p2p_endpoint to[3];
	uint16_t port[3]; /* public ports the three Bindings got */
	bool answered[3];
	unsigned tries;
	uint64_t retry_ns;
	struct coord_mapping mine;
	struct hard_search search;
};

int hard_new(struct agent *a)
{
	if (!(a->cfg.techniques & (AGENT_TECH_PREDICTION | AGENT_TECH_BIRTHDAY)))
		return AGENT_OK;
	a->hard = calloc(1, sizeof(*a->hard));
	return a->hard ? AGENT_OK : AGENT_ERR_NOMEM;
}

void hard_free(struct agent *a)
{
	free(a->hard);
	a->hard = NULL;
}

/* ---- measuring our NAT ---- */

static void send_binding(struct agent *a, int k)
{
	struct agent_hard *h = a->hard;
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, &h->to[k]);

	if (d == NULL)
		return;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			 h->txid[k]);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

void hard_registered(struct agent *a, uint64_t now)
{
	struct agent_hard *h = a->hard;

	if (h == NULL)
		return;
	if (h->step == MEASURE_REGISTERING) { /* the coordinator has our mapping now */
		h->step = MEASURE_DONE;
		send_waiting_connects(a, now);
		return;
	}
	if (h->step != MEASURE_IDLE)
		return;
	h->step = MEASURE_ASK_PRIMARY;
	h->to[0] = a->cfg.coordinator;
	h->port[0] = a->srflx.port; /* the REGISTER's answer, until Binding 0's */
	new_txid(a, h->txid[0]);
	h->tries = 1;
	h->retry_ns = now + a->cfg.rto_ns;
	send_binding(a, 0);
}

bool hard_busy(const struct agent *a)
{
	const struct agent_hard *h = a->hard;
	return h != NULL && h->step > MEASURE_IDLE && h->step < MEASURE_DONE;
}

/* The kind of NAT three public ports show, in the order their destinations
 * were first sent to: p0 (the coordinator), p1 (its other address and
 * port), p2 (its primary address at the other port). */
static enum agent_mapping_kind classify_ports(const uint16_t p[3], uint16_t local_port,
					      int16_t *delta, uint16_t *last)
{
	uint16_t seq[3] = {p[0], p[1], 0};
	size_t n = 2;
	*delta = 0;
	*last = p[0];
	if (p[1] == p[0] && p[2] == p[0])
		return AGENT_MAPPING_SAME;
	/* An address-dependent NAT reuses p0 for the primary address. */
	if (p[2] != p[0] && p[2] != p[1])
		seq[n++] = p[2];
	*last = seq[n - 1];
	int d1 = (int)seq[1] - seq[0], d2 = n == 3 ? (int)seq[2] - seq[1] : d1;
	bool small = d2 != 0 && d2 >= -PREDICTABLE_DELTA && d2 <= PREDICTABLE_DELTA;
	/* The first mapping may have kept our own port (port preservation);
	 * only the later ones then show the NAT's step. */
	bool steady = d1 == d2 || (n == 3 && seq[0] == local_port);
	if (small && steady) {
		*delta = (int16_t)d2;
		return AGENT_MAPPING_SEQUENTIAL;
	}
	return AGENT_MAPPING_RANDOM;
}

static void measured(struct agent *a, uint64_t now, enum agent_mapping_kind kind, const char *why)
{
	struct agent_hard *h = a->hard;

	h->mine.kind = (uint8_t)kind;
	if (kind == AGENT_MAPPING_UNKNOWN) {
		emit(a, AGENT_EV_TECHNIQUE, NULL,
		     "cannot tell how our NAT assigns ports (%s): no port prediction or birthday "
		     "search",
		     why);
		h->step = MEASURE_DONE;
		send_waiting_connects(a, now);
		return;
	}
	if (kind == AGENT_MAPPING_SAME)
		emit(a, AGENT_EV_TECHNIQUE, NULL,
		     "our NAT keeps public port %u for every destination (endpoint-independent "
		     "mapping): the peer can reach us where the coordinator sees us",
		     h->port[0]);
	else if (kind == AGENT_MAPPING_SEQUENTIAL)
		emit(a, AGENT_EV_TECHNIQUE, NULL,
		     "our NAT gives each new destination a new port, %d apart (%u, %u, %u): the "
		     "next will be %u, and the peer can predict it",
		     h->mine.delta, h->port[0], h->port[1], h->port[2],
		     (unsigned)(uint16_t)(h->mine.last_port + h->mine.delta));
	else
		emit(a, AGENT_EV_TECHNIQUE, NULL,
		     "our NAT gives each new destination a new port at random (%u, %u, %u): "
		     "nobody can predict the next",
		     h->port[0], h->port[1], h->port[2]);
	h->step = MEASURE_REGISTERING;
	register_again(a, now); /* NATSIM-MAPPING: hard_put_mapping */
}

static void ask_others(struct agent *a, uint64_t now, const struct p2p_endpoint *other)
{
	struct agent_hard *h = a->hard;

	h->to[1] = *other;
	h->to[2] = (struct p2p_endpoint){.ip = a->cfg.coordinator.ip, .port = other->port};
	for (int k = 1; k < 3; k++) {
		new_txid(a, h->txid[k]);
		send_binding(a, k); /* in order: a sequential NAT numbers them so */
	}
	h->step = MEASURE_ASK_OTHERS;
	h->tries = 1;
	h->retry_ns = now + a->cfg.rto_ns;
}

bool hard_input_binding(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			const struct stun_msg *m)
{
	struct agent_hard *h = a->hard;
	struct p2p_endpoint mapped, other;
	int k;
	(void)from;

	if (h == NULL || (h->step != MEASURE_ASK_PRIMARY && h->step != MEASURE_ASK_OTHERS))
		return false;
	for (k = 0; k < 3; k++)
		if (memcmp(m->txid, h->txid[k], STUN_TXID_SIZE) == 0)
			break;
	if (k == 3 || (h->step == MEASURE_ASK_PRIMARY) != (k == 0) ||
	    m->cls != STUN_CLASS_SUCCESS ||
	    stun_get_xor_address(m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) != STUN_OK)
		return k < 3; /* ours, but stale or an error: nothing learned */
	h->port[k] = mapped.port;
	h->answered[k] = true;
	if (k == 0) {
		if (stun_get_address(m, STUN_ATTR_OTHER_ADDRESS, &other) != STUN_OK)
			measured(a, now, AGENT_MAPPING_UNKNOWN,
				 "the coordinator has no second address to compare with");
		else
			ask_others(a, now, &other);
		return true;
	}
	if (h->answered[1] && h->answered[2]) {
		enum agent_mapping_kind kind =
		    classify_ports(h->port, a->cfg.local.port, &h->mine.delta, &h->mine.last_port);
		measured(a, now, kind, "");
	}
	return true;
}

static void tick_measure(struct agent *a, uint64_t now)
{
	struct agent_hard *h = a->hard;

	if ((h->step != MEASURE_ASK_PRIMARY && h->step != MEASURE_ASK_OTHERS) || now < h->retry_ns)
		return;
	if (h->tries >= MEASURE_TRIES) {
		measured(a, now, AGENT_MAPPING_UNKNOWN, "the coordinator did not answer");
		return;
	}
	/* RFC 8489 6.2.1: the same request again, after a doubled RTO. A lost
	 * Binding 1 sent again after Binding 2 may upset a sequential NAT's
	 * order; the measurement then says RANDOM, which is safe. */
	h->retry_ns = now + (a->cfg.rto_ns << h->tries);
	h->tries++;
	for (int k = 0; k < 3; k++)
		if (!h->answered[k] && (k == 0) == (h->step == MEASURE_ASK_PRIMARY))
			send_binding(a, k);
}

void hard_put_mapping(const struct agent *a, struct coord_mapping *out)
{
	const struct agent_hard *h = a->hard;
	if (h != NULL && h->step >= MEASURE_REGISTERING)
		*out = h->mine;
	else
		memset(out, 0, sizeof(*out));
}

enum agent_mapping_kind agent_mapping(const struct agent *a, int16_t *delta)
{
	struct coord_mapping m;
	hard_put_mapping(a, &m);
	if (delta)
		*delta = m.delta;
	return (enum agent_mapping_kind)m.kind;
}

/* ---- after an introduction ---- */

/* The peer's IPv4 server-reflexive endpoint, as INTRODUCE says it (the
 * coordinator always sends one; the checklist may hold it as the host
 * candidate it equals, for a peer with no NAT). IPv4's: the techniques
 * are for NATs, and IPv6 has none here (agent_dual.c). */
static bool peer_srflx(const struct stun_msg *m, struct p2p_endpoint *out)
{
	for (size_t i = 0; i < m->n_attrs; i++) {
		struct coord_candidate c;
		if (m->attrs[i].type == STUN_ATTR_NATSIM_CANDIDATE &&
		    coord_parse_candidate(m, &m->attrs[i], &c) == STUN_OK &&
		    c.type == COORD_CAND_SRFLX && !p2p_endpoint_is6(&c.ep)) {
			*out = c.ep;
			return true;
		}
	}
	return false;
}

static void add_predicted(struct agent *a, struct agent_peer *p, const struct p2p_endpoint *srflx)
{
	const struct coord_mapping *m = &p->mapping;
	char ep[P2P_ENDPOINT_STRLEN];
	unsigned added = 0;
	int first = 0, last = 0;

	for (unsigned k = 1; k <= a->cfg.prediction_window; k++) {
		int port = m->last_port + (int)k * m->delta;
		if (port < (int)PORTS_LO || port > 65535)
			break;
		struct coord_candidate c = {{.ip = srflx->ip, .port = (uint16_t)port},
					    COORD_CAND_PREDICTED};
		if (add_pair(p, &c) < 0)
			break; /* the checklist is full */
		if (added++ == 0)
			first = port;
		last = port;
	}
	if (added == 0)
		return;
	p->predicted_lo = (uint16_t)(first < last ? first : last);
	p->predicted_hi = (uint16_t)(first < last ? last : first);
	struct p2p_endpoint lo = {.ip = srflx->ip, .port = p->predicted_lo};
	emit(a, AGENT_EV_TECHNIQUE, p->name,
	     "port prediction: %s's NAT gives ports %d apart and gave %u last, so its checks to "
	     "us will leave from the next ones: we check %s to %u as well (%u predicted)",
	     p->name, m->delta, m->last_port, fmt_ep(&lo, ep), p->predicted_hi, added);
}

/* Says once how the prediction for each peer ended, when it did: a path
 * on a predicted port, or the relay without one. */
static void tick_predictions(struct agent *a)
{
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		if (p->predicted_lo == 0 ||
		    (p->state != AGENT_PEER_RELAYED && p->state != AGENT_PEER_DIRECT &&
		     p->state != AGENT_PEER_FAILED))
			continue;
		bool hit = p->state == AGENT_PEER_DIRECT && p->selected >= 0 &&
			   pair_type(&p->pairs[p->selected]) == COORD_CAND_PREDICTED;
		if (!hit)
			emit(a, AGENT_EV_TECHNIQUE, p->name,
			     "port prediction for %s found nothing: none of ports %u-%u answered. "
			     "Its "
			     "NAT gave its checks other ports: other traffic behind that NAT took "
			     "the "
			     "predicted ones first, or its NAT does not count up after all",
			     p->name, p->predicted_lo, p->predicted_hi);
		p->predicted_lo = p->predicted_hi = 0;
	}
}

/* 1 - (1 - K/R)^n: the chance that n random probes find one of K ports. */
static double birthday_chance(unsigned k, unsigned n)
{
	double miss = 1.0, q = 1.0 - (double)k / PORTS_R;
	for (unsigned i = 0; i < n; i++)
		miss *= q;
	return 1.0 - miss;
}

static uint64_t send_interval(const struct agent *a)
{
	return P2P_NS_PER_S / a->cfg.probe_rate;
}

static void start_search(struct agent *a, struct agent_peer *p, uint64_t now, bool opener,
			 bool prober, const struct p2p_endpoint *target)
{
	struct hard_search *s = &a->hard->search;
	unsigned k = a->cfg.birthday_sockets, budget = a->cfg.probe_budget;
	char ep[P2P_ENDPOINT_STRLEN];
	uint64_t iv = send_interval(a);

	if (s->peer != NULL) {
		emit(a, AGENT_EV_TECHNIQUE, p->name,
		     "no birthday search with %s: one with %s is still running", p->name,
		     s->peer->name);
		return;
	}
	*s = (struct hard_search){.peer = p, .opener = opener, .prober = prober, .target = *target};
	/* A prober alone waits while the other side opens its K sockets at
	 * the same rate (both run the defaults, or the same settings). */
	s->next_ns = opener ? now : now + (uint64_t)k * iv;
	s->end_ns = s->next_ns + (uint64_t)budget * iv + SEARCH_LINGER_NS;
	if (opener)
		emit(a, AGENT_EV_TECHNIQUE, p->name,
		     "birthday search with %s: our NAT gives every destination a random port, so "
		     "we open %u sockets, each sending once to %s (one mapping each), %u a second",
		     p->name, k < budget ? k : budget, fmt_ep(target, ep), a->cfg.probe_rate);
	if (prober && opener)
		emit(a, AGENT_EV_TECHNIQUE, p->name,
		     "birthday search with %s: its NAT gives random ports too; then we send checks "
		     "from our sockets to random ports of %u.%u.%u.%u, %u a second, up to %u sends "
		     "in all. Each of its open mappings admits only the endpoint it was opened "
		     "towards, which our probes leave from new ports of our NAT: two guesses must "
		     "meet, and rarely do",
		     p->name, target->ip >> 24, target->ip >> 16 & 255, target->ip >> 8 & 255,
		     target->ip & 255, a->cfg.probe_rate, budget);
	else if (prober)
		emit(a, AGENT_EV_TECHNIQUE, p->name,
		     "birthday search with %s: its NAT gives random ports; while it opens its "
		     "sockets we wait, then we send checks to random ports of %u.%u.%u.%u, %u a "
		     "second, up to %u: each finds one of its %u open mappings with chance %u/%u "
		     "(%.2f %% for all %u)",
		     p->name, target->ip >> 24, target->ip >> 16 & 255, target->ip >> 8 & 255,
		     target->ip & 255, a->cfg.probe_rate, budget, k, k, PORTS_R,
		     100 * birthday_chance(k, budget), budget);
}

void hard_introduced(struct agent *a, struct agent_peer *p, const struct stun_msg *m, uint64_t now)
{
	const struct stun_attr *attr = stun_find(m, STUN_ATTR_NATSIM_MAPPING);
	struct p2p_endpoint srflx;

	memset(&p->mapping, 0, sizeof(p->mapping));
	if (attr != NULL && coord_parse_mapping(attr, &p->mapping) != STUN_OK)
		memset(&p->mapping, 0, sizeof(p->mapping)); /* a mapping we cannot read: none */
	if (a->hard == NULL || !peer_srflx(m, &srflx))
		return;
	if ((a->cfg.techniques & AGENT_TECH_PREDICTION) &&
	    p->mapping.kind == AGENT_MAPPING_SEQUENTIAL)
		add_predicted(a, p, &srflx);
	if (!(a->cfg.techniques & AGENT_TECH_BIRTHDAY) || a->hard->search.peer == p)
		return;
	bool opener = a->hard->mine.kind == AGENT_MAPPING_RANDOM;
	bool prober = p->mapping.kind == AGENT_MAPPING_RANDOM;
	if (opener || prober)
		start_search(a, p, now, opener, prober, &srflx);
}

/* ---- the birthday search, send by send ---- */

static uint16_t random_port(struct agent *a)
{
	uint8_t r[2];
	unsigned v;
	do { /* uniform over 1024-65535: draws below are thrown away */
		a->cfg.random.fill(a->cfg.random.ctx, r, sizeof(r));
		v = (unsigned)r[0] << 8 | r[1];
	} while (v < PORTS_LO);
	return (uint16_t)v;
}

static void end_search(struct agent *a, const char *how)
{
	struct hard_search *s = &a->hard->search;
	emit(a, AGENT_EV_TECHNIQUE, s->peer->name,
	     "birthday search with %s ended after %u sends: %s", s->peer->name, s->sent, how);
	s->peer = NULL;
}

static void send_one(struct agent *a, struct hard_search *s)
{
	unsigned k = a->cfg.birthday_sockets;

	if (s->opener && s->opened < k) {
		s->opened++;
		write_probe(a, s->peer, (uint16_t)s->opened, &s->target,
			    s->recent[s->n_recent++ % PROBES_REMEMBERED]);
	} else if (s->prober) {
		struct p2p_endpoint to = {.ip = s->target.ip, .port = random_port(a)};
		/* Both random: from our open sockets in turn, else our own. */
		uint16_t sock = s->opener ? (uint16_t)(1 + s->sent % s->opened) : 0;
		write_probe(a, s->peer, sock, &to, s->recent[s->n_recent++ % PROBES_REMEMBERED]);
	} else {
		s->next_ns = P2P_NO_DEADLINE; /* opened all: the other side probes */
		return;
	}
	s->sent++;
	s->next_ns =
	    s->sent < a->cfg.probe_budget ? s->next_ns + send_interval(a) : P2P_NO_DEADLINE;
}

static void tick_search(struct agent *a, uint64_t now)
{
	struct hard_search *s = &a->hard->search;
	char how[96];

	if (s->peer == NULL)
		return;
	if (s->peer->state == AGENT_PEER_DIRECT) {
		end_search(a, "a direct path is chosen");
		return;
	}
	if (s->peer->state == AGENT_PEER_FAILED || now >= s->end_ns) {
		/* 1-(1-K/R)^n is the chance against one hard side; two guessing
		 * sides must meet, which has no such simple form. */
		snprintf(how, sizeof(how),
			 "no probe found an open mapping (the chance was %.2f %%)",
			 100 * birthday_chance(a->cfg.birthday_sockets, s->sent));
		end_search(a, s->opener && s->prober
				  ? "no probe met an open mapping: both sides guessed, and two "
				    "guesses rarely meet"
			      : s->prober ? how
					  : "the other side found none of our mappings");
		return;
	}
	if (now >= s->next_ns) /* one at a time: never faster than probe_rate */
		send_one(a, s);
}

bool hard_probe_answered(const struct agent *a, const uint8_t txid[STUN_TXID_SIZE])
{
	const struct hard_search *s = a->hard != NULL ? &a->hard->search : NULL;
	unsigned n = s == NULL			       ? 0
		     : s->n_recent < PROBES_REMEMBERED ? s->n_recent
						       : PROBES_REMEMBERED;
	for (unsigned i = 0; i < n; i++)
		if (memcmp(s->recent[i], txid, STUN_TXID_SIZE) == 0)
			return true;
	return false;
}

void hard_path_chosen(struct agent *a, struct agent_peer *p, uint64_t now)
{
	(void)now;
	if (a->hard != NULL && a->hard->search.peer == p)
		end_search(a, "a direct path is chosen");
}

void hard_tick(struct agent *a, uint64_t now)
{
	if (a->hard == NULL)
		return;
	tick_measure(a, now);
	tick_predictions(a);
	tick_search(a, now);
}

uint64_t hard_deadline(const struct agent *a)
{
	const struct agent_hard *h = a->hard;
	uint64_t t = P2P_NO_DEADLINE;

	if (h == NULL)
		return t;
	if (h->step == MEASURE_ASK_PRIMARY || h->step == MEASURE_ASK_OTHERS)
		t = h->retry_ns;
	if (h->search.peer != NULL) {
		if (h->search.next_ns < t)
			t = h->search.next_ns;
		if (h->search.end_ns < t)
			t = h->search.end_ns;
	}
	return t;
}

/* ---- extra sockets ---- */

bool agent_socket_wanted(const struct agent *a, uint16_t socket)
{
	const struct agent_hard *h = a->hard;

	if (socket == 0)
		return true;
	if (h == NULL || socket > AGENT_MAX_SOCKETS)
		return false;
	if (h->search.peer != NULL && h->search.opener && socket <= h->search.opened)
		return true;
	for (size_t i = 0; i < a->n_peers; i++) { /* a chosen path on it */
		const struct agent_peer *p = a->peers[i];
		if (p->state == AGENT_PEER_DIRECT && p->selected >= 0 &&
		    p->pairs[p->selected].sock == socket)
			return true;
	}
	return false;
}

int agent_input_socket(struct agent *a, uint64_t now_ns, uint16_t socket,
		       const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	if (socket == 0)
		return agent_input(a, now_ns, from, buf, len);
	if (a->tcp != NULL || !agent_socket_wanted(a, socket))
		return AGENT_ERR_INVALID;
	a->in_sock = socket;
	int rc = input_message(a, now_ns, from, buf, len);
	a->in_sock = 0;
	return rc;
}

unsigned hard_pair_technique(const struct agent *a, const struct agent_peer *p,
			     const struct agent_pair *pp)
{
	if (pair_type(pp) == COORD_CAND_PREDICTED)
		return AGENT_TECH_PREDICTION;
	if (pp->sock != 0)
		return AGENT_TECH_BIRTHDAY;
	if (pair_type(pp) == COORD_CAND_MAPPED)
		return AGENT_TECH_PORT_MAPPING;
	const struct p2p_endpoint remote = pair_remote(p, pp);
	/* A peer-reflexive pair at a candidate the router mapped for the peer
	 * is its mapping's, whoever opened it. */
	for (size_t i = 0; i < p->n_pairs; i++)
		if (pair_type(&p->pairs[i]) == COORD_CAND_MAPPED &&
		    p2p_packed_equal(&p->addrs6, &p->pairs[i].remote, &remote))
			return AGENT_TECH_PORT_MAPPING;
	/* The prober's side: a peer-reflexive port at the searched address. */
	if (a->hard != NULL && a->hard->search.peer == p && a->hard->search.prober &&
	    pair_type(pp) == COORD_CAND_PRFLX &&
	    p2p_endpoint_same_addr(&remote, &a->hard->search.target))
		return AGENT_TECH_BIRTHDAY;
	return 0;
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

const char *agent_technique_words(unsigned technique_bit)
{
	switch (technique_bit) {
	case 0:
		return "";
	case AGENT_TECH_PREDICTION:
		return "port prediction";
	case AGENT_TECH_BIRTHDAY:
		return "the birthday search";
	case AGENT_TECH_PORT_MAPPING:
		return "port mapping";
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
