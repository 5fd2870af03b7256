/*
 * agent.c - the peer agent (see agent.h; wire format in docs/protocol.md).
 *
 * Structure: one handler per message type (REGISTER/CONNECT responses,
 * INTRODUCE, Binding request = connectivity or consent check, Binding
 * response, RELAY (data, and the answer to our RELAY request),
 * DATA), and per-peer timers in tick_peer(). Candidate pairs are (our socket,
 * remote candidate): an agent has one socket, so the local half of every pair
 * is config.local and the pair is named by its remote endpoint.
 */
#include "agent.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define REG_MAX_TRIES 5
#define RELAY_MAX_TRIES 5 /* RELAY requests before the relay counts as unreachable */
#define REG_RETRY_AFTER_LOSS (10 * P2P_NS_PER_S)
#define KEEPALIVE_PADDING 64 /* so stunsrv's no-amplification rule still answers */

/* Connectivity-check transactions (RFC 8445 section 14, RFC 8489 6.2.1). A
 * check is a STUN transaction: sent, then retransmitted with the same
 * transaction ID after RTO, 2 RTO, 4 RTO, ... (capped at Rm x RTO) until
 * it is answered or Rc requests have gone. With the default RTO of 100 ms
 * a pair is checked at 0, 0.1, 0.3, 0.7, 1.5, 3.1 and 4.7 s: the whole
 * punch window (5 s) is covered with 7 requests per pair, where checking
 * round robin every pacing interval sent some 250 per side for a pair that
 * never worked. The first checks of all pairs are paced, one per Ta across
 * the agent (RFC 8445 6.1.4.2, 14.2); retransmissions and triggered checks
 * (7.3.1.4, sent at once: the peer's check just opened the way) are not. */
#define CHECK_RC 7        /* RFC 8489 6.2.1 Rc */
#define CHECK_RM 16       /* RFC 8489 6.2.1 Rm: the cap on the doubling RTO */
#define CHECK_TXNS 8      /* recent transactions whose answers we still accept */
#define PEER_ALIGN 64     /* a cache line */

struct agent_pair {
	struct coord_candidate remote;
	uint64_t retx_ns;    /* next retransmission of the pair's transaction; 0: none */
	uint8_t txn;         /* ring slot of the pair's transaction (see pair_txn) */
	uint8_t tries;       /* requests sent in that transaction */
	bool waiting;        /* RFC 8445 6.1.2.6 Waiting: its first check is still to be paced */
	bool succeeded;      /* our check got an authenticated answer (RFC 8445 7.2.5.3) */
	bool heard;          /* an authenticated check from the peer arrived from here */
	bool peer_nominated; /* that check carried USE-CANDIDATE */
};

struct agent_txn {
	uint8_t txid[STUN_TXID_SIZE];
	int8_t pair; /* -1: unused */
	bool nominate;
};

struct agent_peer {
	/* First, in the one cache line a peer is aligned to (PEER_ALIGN): what
	 * settle() reads to summarise a peer and agent_tick() to tick one that
	 * is due, except while still CONNECTING (bench_scale: 800 000 peers,
	 * mostly cold). */
	bool controlling; /* lexicographically smaller name nominates */
	bool introduced;  /* keys and session known */
	bool connect_pending;     /* CONNECT to send once registered */
	bool reconnect_on_send;	  /* path lost with keepalives off: reconnect on agent_send */
	uint8_t slot;             /* index in agent.peers */
	enum agent_peer_state state;
	uint32_t n_pairs;
	/* Grown on demand up to AGENT_MAX_REMOTE_CANDIDATES: most peers have one
	 * to three candidates, and sixteen inline pairs were over half of an
	 * agent_peer (bench_scale: 800 000 of them at N = 100 000). */
	struct agent_pair *pairs;
	uint64_t retx_soonest_ns; /* min of the pairs' retx_ns (retx_refresh) */
	uint64_t next_check_ns; /* RELAYED: next background check */
	uint64_t punch_deadline_ns;
	uint64_t consent_ns;	  /* DIRECT: last authenticated answer (RFC 7675) */
	uint64_t next_consent_ns; /* DIRECT: next consent check (none with keepalives off) */
	uint64_t relay_retry_ns;  /* PUNCHING: next RELAY request; 0: not asking */
	/* The rest. */
	uint64_t connect_retry_ns; /* 0: not waiting for an introduction */
	uint64_t connect_deadline_ns;
	unsigned relay_tries;
	uint8_t relay_txid[STUN_TXID_SIZE];
	uint32_t cap_pairs;
	size_t rr;      /* next pair for a background check while relayed */
	int selected;   /* chosen pair, -1 none */
	int nominating; /* controlling: pair being nominated, -1 none */
	char name[AGENT_NAME_MAX];
	uint64_t session;
	struct crypto_session cs;
	struct stun_integrity_key check_mac; /* cs.check_key, pads hashed once */
	struct agent_txn txns[CHECK_TXNS];
	unsigned next_txn;
	uint8_t connect_txid[STUN_TXID_SIZE];
};

struct agent {
	/* First, together: what every input, tick and agent_next_deadline()
	 * read, so that an agent woken from cold costs a few cache lines
	 * (bench_scale: 100 000 agents). */
	struct discovery *disc;
	struct ring dq; /* struct p2p_datagram: to send */
	struct ring eq; /* struct p2p_event: to report */
	bool reg_wanted, registered, have_srflx;
	/* A summary of each peer, so that an input for one peer, and
	 * agent_next_deadline(), need not touch the others (the peers are
	 * cold: bench_scale has 800 000 of them). A peer whose bit is set in
	 * `stale` was touched since its summary was computed; every public
	 * entry point that may touch peers ends with settle(), so between
	 * calls nothing is stale. */
	uint16_t stale;
	uint16_t waiting;     /* peers with a pair waiting to be paced */
	uint16_t tick_always; /* peers agent_tick() must visit even before due[] */
	size_t n_peers;
	uint64_t reg_retry_ns; /* next REGISTER retransmission or refresh */
	uint64_t coord_ka_ns;
	/* RFC 8445 6.1.4.2: one new (Waiting -> In-Progress) check per Ta for the
	 * whole agent, the punching peers served round robin. */
	uint64_t pace_ns; /* earliest time for the next paced check */
	size_t pace_rr;   /* peer slot to serve first */
	/* Allocated by add_peer(), in order, never freed before the agent: at
	 * ~900 bytes each, sixteen inline peers were most of an agent's memory
	 * while most agents know a few (bench_scale: 100 000 agents). */
	struct agent_peer *peers[AGENT_MAX_PEERS];
	uint64_t due[AGENT_MAX_PEERS]; /* peer_deadline() */
	uint32_t name_hash[AGENT_MAX_PEERS];
	uint64_t txn_bloom[AGENT_MAX_PEERS]; /* bit txid_bit() of every check txid held */
	/* The rest. */
	struct agent_config cfg;
	char name[AGENT_NAME_MAX];
	size_t n_hosts;
	struct p2p_endpoint hosts[AGENT_MAX_HOST_CANDIDATES];
	/* registration with the coordinator */
	struct p2p_endpoint srflx;
	uint8_t reg_txid[STUN_TXID_SIZE];
	unsigned reg_tries; /* >0: waiting for an answer */
	uint64_t last_ts;
	uint8_t ka_txid[STUN_TXID_SIZE];
	struct crypto_identity id;
};

static void settle(struct agent *a);
static int on_relay_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			     const struct stun_msg *m);
static void reconnect(struct agent *a, struct agent_peer *p, uint64_t now);

/* ---- small helpers ---- */

static const char *fmt_ep(const struct p2p_endpoint *ep, char buf[P2P_ENDPOINT_STRLEN])
{
	return p2p_endpoint_format(ep, buf, P2P_ENDPOINT_STRLEN);
}

/* The queues (p2p/ring.h) start at two and are given up whenever the
 * driver drains them (it does after every call): at ~1.5 KiB an item, rings
 * kept between calls were a third of an idle agent's memory (bench_scale,
 * 100 000 agents). A drained ring's array is kept for the next burst of
 * whichever agent the thread runs next, one per kind and thread: malloc and
 * free of a few KiB per burst, too large for glibc's per-thread cache, were
 * 4% of a large simulation. (Thread-local, so agents on other threads never
 * share one; the array a thread holds at its exit is not freed, like any
 * per-thread cache of an allocator.) */
static _Thread_local struct ring_spare spare_dq, spare_eq;

/* Slot for a datagram to send from our socket, or NULL (out of memory). */
static struct p2p_datagram *dq_push(struct agent *a, const struct p2p_endpoint *to)
{
	struct p2p_datagram *d = ring_push(&a->dq, sizeof(*d), &spare_dq);
	if (d == NULL)
		return NULL;
	d->from = a->cfg.local;
	d->to = *to;
	d->len = 0;
	return d;
}

/* Finishes a message written into a pushed slot; drops the slot on error. */
static void dq_commit(struct agent *a, struct p2p_datagram *d, struct stun_writer *w)
{
	int n = stun_writer_finish(w);
	if (n > 0)
		d->len = (size_t)n;
	else
		ring_unpush(&a->dq);
}

/* Whether the next event's text will be read (agent_config.event_text):
 * callers that build pieces of it first ask too. */
static bool text_wanted(const struct agent *a)
{
	const struct agent_event_text *t = &a->cfg.event_text;
	return t->wanted == NULL || t->wanted(t->ctx);
}

static struct p2p_event *emit(struct agent *a, enum agent_event_type type, const char *peer,
			      const char *fmt, ...)
{
	struct p2p_event *e = ring_push(&a->eq, sizeof(*e), &spare_eq);
	va_list ap;
	if (e == NULL)
		return NULL;
	e->type = type;
	snprintf(e->peer, sizeof(e->peer), "%s", peer ? peer : "");
	e->local = e->remote = (struct p2p_endpoint){0, 0};
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

static void new_txid(struct agent *a, uint8_t txid[STUN_TXID_SIZE])
{
	a->cfg.random.fill(a->cfg.random.ctx, txid, STUN_TXID_SIZE);
}

/* FNV-1a: names are short and chosen by people, not adversaries (a
 * collision only costs a strcmp). */
static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

/* The peer was (or may have been) changed: its summary must be redone. */
static void touch(struct agent *a, const struct agent_peer *p)
{
	a->stale |= (uint16_t)(1u << p->slot);
}

/* Every peer may have changed. */
static void touch_all(struct agent *a)
{
	a->stale = (uint16_t)((1u << a->n_peers) - 1);
}

static int find_slot(const struct agent *a, const char *name)
{
	uint32_t h = name_hash(name);
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->name_hash[i] == h && strcmp(a->peers[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/* A peer to act on, marked touched. */
static struct agent_peer *find_peer(struct agent *a, const char *name)
{
	int i = find_slot(a, name);
	if (i < 0)
		return NULL;
	touch(a, a->peers[i]);
	return a->peers[i];
}

/* Transaction IDs are random: any six bits of one will do. */
static unsigned txid_bit(const uint8_t txid[STUN_TXID_SIZE])
{
	return txid[0] & 63u;
}

/* Redo the peer's filter after its transaction IDs changed. */
static void txns_changed(struct agent *a, const struct agent_peer *p)
{
	uint64_t bloom = 0;
	for (size_t i = 0; i < CHECK_TXNS; i++)
		if (p->txns[i].pair >= 0)
			bloom |= (uint64_t)1 << txid_bit(p->txns[i].txid);
	a->txn_bloom[p->slot] = bloom;
}

static void reset_txns(struct agent *a, struct agent_peer *p)
{
	for (size_t i = 0; i < CHECK_TXNS; i++)
		p->txns[i].pair = -1;
	txns_changed(a, p);
}

/* A zeroed peer starting on a cache line (see struct agent_peer). */
static struct agent_peer *peer_alloc(void)
{
	size_t size = (sizeof(struct agent_peer) + PEER_ALIGN - 1) / PEER_ALIGN * PEER_ALIGN;
	struct agent_peer *p = aligned_alloc(PEER_ALIGN, size);

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	return p;
}

/* Peers are never removed: slots [0, n_peers) are all in use. */
static struct agent_peer *add_peer(struct agent *a, const char *name)
{
	if (a->n_peers == AGENT_MAX_PEERS)
		return NULL;
	struct agent_peer *p = peer_alloc();
	if (p == NULL)
		return NULL;
	p->slot = (uint8_t)a->n_peers;
	a->peers[a->n_peers++] = p;
	p->retx_soonest_ns = P2P_NO_DEADLINE;
	snprintf(p->name, sizeof(p->name), "%s", name);
	a->name_hash[p->slot] = name_hash(p->name);
	p->selected = p->nominating = -1;
	p->controlling = strcmp(a->name, name) < 0;
	reset_txns(a, p);
	touch(a, p);
	return p;
}

static int find_pair(const struct agent_peer *p, const struct p2p_endpoint *ep)
{
	for (size_t i = 0; i < p->n_pairs; i++)
		if (p2p_endpoint_equal(&p->pairs[i].remote.ep, ep))
			return (int)i;
	return -1;
}

/* Recomputes p->retx_soonest_ns after pairs' retx_ns changed (called where
 * they change, while the pairs are in cache), so agent_next_deadline() need
 * not walk every peer's pairs. */
static void retx_refresh(struct agent_peer *p)
{
	uint64_t t = P2P_NO_DEADLINE;

	for (size_t i = 0; i < p->n_pairs; i++)
		if (p->pairs[i].retx_ns && p->pairs[i].retx_ns < t)
			t = p->pairs[i].retx_ns;
	p->retx_soonest_ns = t;
}

static int add_pair(struct agent_peer *p, const struct coord_candidate *c)
{
	int i = find_pair(p, &c->ep);
	if (i >= 0 || p->n_pairs == AGENT_MAX_REMOTE_CANDIDATES || c->ep.ip == 0)
		return i;
	if (p->n_pairs == p->cap_pairs) {
		uint32_t ncap = p->cap_pairs ? 2 * p->cap_pairs : 2;
		struct agent_pair *np = realloc(p->pairs, ncap * sizeof(*np));
		if (np == NULL)
			return -1; /* as if the list were full */
		p->pairs = np;
		p->cap_pairs = ncap;
	}
	memset(&p->pairs[p->n_pairs], 0, sizeof(p->pairs[0]));
	p->pairs[p->n_pairs].remote = *c;
	p->pairs[p->n_pairs].waiting = true; /* paced in if we are punching */
	return (int)p->n_pairs++;
}

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

/* ---- lifecycle ---- */

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
	snprintf(a->name, sizeof(a->name), "%s", cfg->name);
	a->cfg.name = a->name;
	if (cfg->identity) {
		a->id = *cfg->identity;
	} else {
		if (cfg->key_seed)
			memcpy(seed, cfg->key_seed, sizeof(seed));
		else
			cfg->random.fill(cfg->random.ctx, seed, sizeof(seed));
		crypto_identity_from_seed(&a->id, seed);
	}
	if (!cfg->disable_host_candidates) {
		a->n_hosts = cfg->n_host_candidates ? cfg->n_host_candidates : 1;
		for (size_t i = 0; i < a->n_hosts; i++)
			a->hosts[i] = cfg->n_host_candidates ? cfg->host_candidates[i] : cfg->local;
	}
	return a;
}

void agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	discovery_free(a->disc);
	for (size_t i = 0; i < a->n_peers; i++) {
		free(a->peers[i]->pairs);
		free(a->peers[i]);
	}
	ring_fini(&a->dq);
	ring_fini(&a->eq);
	free(a);
}

void agent_set_keepalive(struct agent *a, uint64_t interval_ns)
{
	a->cfg.keepalive_ns = interval_ns;
	touch_all(a); /* every peer's liveness deadlines move */
	settle(a);
}

/* ---- registration ---- */

static void send_register(struct agent *a, uint64_t now)
{
	struct coord_registration r;
	uint8_t bytes[COORD_REG_BYTES_MAX], sig[CRYPTO_SIGNATURE_SIZE];
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, &a->cfg.coordinator);

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
	r.n_candidates = a->n_hosts;
	for (size_t i = 0; i < a->n_hosts; i++)
		r.candidates[i] = (struct coord_candidate){a->hosts[i], COORD_CAND_HOST};
	size_t n = coord_registration_bytes(&r, bytes);
	crypto_identity_sign(&a->id, bytes, n, sig);
	if (a->cfg.sign_hint.signed_registration != NULL)
		a->cfg.sign_hint.signed_registration(a->cfg.sign_hint.ctx, r.sign_pk, bytes, n, sig);

	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_REGISTER, STUN_CLASS_REQUEST,
			 a->reg_txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, a->name);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGN_KEY, r.sign_pk, 32);
	stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, r.box_pk, 32);
	for (size_t i = 0; i < r.n_candidates; i++)
		coord_put_candidate(&w, &r.candidates[i]);
	stun_put_u64(&w, STUN_ATTR_NATSIM_TIMESTAMP, r.timestamp_ns);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGNATURE, sig, sizeof(sig));
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

/* Start a REGISTER transaction (first registration, refresh, or re-register). */
static void begin_register(struct agent *a, uint64_t now)
{
	new_txid(a, a->reg_txid);
	a->reg_tries = 1;
	a->reg_retry_ns = now + a->cfg.rto_ns;
	send_register(a, now);
}

int agent_register(struct agent *a, uint64_t now_ns)
{
	a->reg_wanted = true;
	begin_register(a, now_ns);
	return AGENT_OK;
}

static void fail_peer(struct agent *a, struct agent_peer *p, const char *why)
{
	p->state = AGENT_PEER_FAILED;
	p->connect_retry_ns = 0;
	p->relay_retry_ns = 0;
	p->connect_pending = false;
	emit(a, AGENT_EV_FAILED, p->name, "cannot reach %s: %s", p->name, why);
}

static void registration_lost(struct agent *a, uint64_t now, const char *why)
{
	char ep[P2P_ENDPOINT_STRLEN];

	a->registered = false;
	a->reg_tries = 0;
	/* Try again soon, not at the next refresh: the coordinator (or our
	 * link to it) may be back in seconds, and peers wait on us. */
	a->reg_retry_ns = now + (a->cfg.refresh_ns < REG_RETRY_AFTER_LOSS ? a->cfg.refresh_ns
									   : REG_RETRY_AFTER_LOSS);
	emit(a, AGENT_EV_FAILED, NULL, "coordinator %s: %s", fmt_ep(&a->cfg.coordinator, ep), why);
	touch_all(a);
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i]->state == AGENT_PEER_CONNECTING)
			fail_peer(a, a->peers[i], "the coordinator does not answer");
}

static void send_connect(struct agent *a, struct agent_peer *p, uint64_t now);

static void emit_candidates(struct agent *a)
{
	char list[200] = "", ep[P2P_ENDPOINT_STRLEN];
	size_t n = 0;

	for (size_t i = 0; i < a->n_hosts && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%shost %s", n ? ", " : "",
				      fmt_ep(&a->hosts[i], ep));
	if (n < sizeof(list))
		snprintf(list + n, sizeof(list) - n, "%ssrflx %s", n ? ", " : "",
			 fmt_ep(&a->srflx, ep));
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
		snprintf(why, sizeof(why), "registration refused (%d %.*s)", code, (int)rlen, reason);
		registration_lost(a, now, why);
		return AGENT_OK;
	}
	if (stun_get_xor_address(m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) != STUN_OK)
		return AGENT_ERR_MALFORMED;
	bool first = !a->registered, moved = !a->have_srflx || !p2p_endpoint_equal(&mapped, &a->srflx);
	a->registered = a->have_srflx = true;
	a->srflx = mapped;
	a->reg_retry_ns = now + a->cfg.refresh_ns;
	if (a->coord_ka_ns == 0 || first)
		a->coord_ka_ns = now + a->cfg.keepalive_ns;
	if (first)
		emit(a, AGENT_EV_REGISTERED, NULL, "registered with the coordinator as %s; it sees us as %s",
		     a->name, fmt_ep(&mapped, ep));
	if (moved)
		emit_candidates(a);
	touch_all(a);
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
		if (p->connect_pending || stale || retry)
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
	p->connect_retry_ns = now + 2 * a->cfg.rto_ns;
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
	if (a->registered) {
		send_connect(a, p, now);
	} else {
		p->connect_pending = true;
		p->connect_retry_ns = 0;
		if (!a->reg_wanted)
			agent_register(a, now);
	}
}

static int connect_peer(struct agent *a, uint64_t now_ns, const char *peer_name)
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
	return AGENT_OK;
}

int agent_connect(struct agent *a, uint64_t now_ns, const char *peer_name)
{
	int rc = connect_peer(a, now_ns, peer_name);
	settle(a);
	return rc;
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
		touch(a, p);
		if (m->cls == STUN_CLASS_ERROR && p->state == AGENT_PEER_CONNECTING) {
			stun_get_error(m, &code, &reason, &rlen);
			snprintf(why, sizeof(why), "the coordinator refused to introduce us (%d %.*s)",
				 code, (int)rlen, reason);
			fail_peer(a, p, why);
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
		pp->succeeded = pp->heard = pp->peer_nominated = false;
		pp->retx_ns = 0;
	}
	retx_refresh(p);
	if (a->pace_ns < now)
		a->pace_ns = now;
	for (size_t i = 0; i < p->n_pairs && n < sizeof(list) && text; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s %s", i ? ", " : "",
				      coord_candidate_type_name(p->pairs[i].remote.type),
				      fmt_ep(&p->pairs[i].remote.ep, ep));
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
	const struct agent_secrets *src = &a->cfg.secrets;
	uint8_t secret[CRYPTO_KEY_SIZE];
	int rc = src->shared_secret ? src->shared_secret(src->ctx, &a->id, box_pk, secret)
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
	if (!p2p_endpoint_equal(from, &a->cfg.coordinator) ||
	    parse_introduce(m, name, &box_pk, &session) != AGENT_OK || strcmp(name, a->name) == 0)
		return AGENT_ERR_MALFORMED;
	p = find_peer(a, name);
	if (p == NULL && (p = add_peer(a, name)) == NULL)
		return AGENT_ERR_TOO_MANY;
	bool same = p->introduced && p->session == session;
	if (!same) {
		if (session_keys(a, p, box_pk, session) != CRYPTO_OK)
			return AGENT_ERR_MALFORMED;
		stun_integrity_key_init(&p->check_mac, p->cs.check_key, sizeof(p->cs.check_key));
		p->introduced = true;
		p->session = session;
		p->n_pairs = 0;
		p->retx_soonest_ns = P2P_NO_DEADLINE;
		reset_txns(a, p);
	}
	for (size_t i = 0; i < m->n_attrs; i++) {
		struct coord_candidate c;
		if (m->attrs[i].type == STUN_ATTR_NATSIM_CANDIDATE &&
		    coord_parse_candidate(&m->attrs[i], &c) == STUN_OK &&
		    !p2p_endpoint_equal(&c.ep, &a->cfg.local))
			add_pair(p, &c);
	}
	if (p->state == AGENT_PEER_RELAYED)
		p->next_check_ns = now; /* fresh candidates: probe them in the background now */
	else if (!same || p->state == AGENT_PEER_CONNECTING || p->state == AGENT_PEER_FAILED)
		start_punching(a, p, now);
	return AGENT_OK;
}

/* ---- connectivity checks (RFC 8445 7.2) ---- */

static void put_role(struct stun_writer *w, const struct agent_peer *p)
{
	/* Roles are fixed by name order, so the tie-breaker never decides. */
	stun_put_u64(w, p->controlling ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED,
		     p->session);
}

/* Writes one request of transaction t (a first send or a retransmission). */
static void write_check(struct agent *a, struct agent_peer *p, const struct agent_txn *t)
{
	char user[2 * AGENT_NAME_MAX + 2];
	struct stun_writer w;
	struct p2p_datagram *d = dq_push(a, &p->pairs[t->pair].remote.ep);

	if (d == NULL)
		return;
	/* RFC 8445 7.2.2: USERNAME is "receiver:sender". Both names are
	 * shorter than AGENT_NAME_MAX. */
	size_t pn = strlen(p->name), an = strlen(a->name);
	memcpy(user, p->name, pn);
	user[pn] = ':';
	memcpy(user + pn + 1, a->name, an + 1);
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			 t->txid);
	stun_put_string(&w, STUN_ATTR_USERNAME, user);
	put_role(&w, p);
	if (t->nominate)
		stun_put_raw(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	stun_put_integrity_sha256_key(&w, &p->check_mac);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
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
 * without, one request whose retry is the next one due anyway (keepalives,
 * idle probes, background checks while relayed). */
static void send_check(struct agent *a, struct agent_peer *p, int pair, bool nominate,
		       uint64_t now, bool retransmit)
{
	struct agent_pair *pp = &p->pairs[pair];
	unsigned slot = p->next_txn++ % CHECK_TXNS;
	struct agent_txn *t = &p->txns[slot];

	new_txid(a, t->txid);
	t->pair = (int8_t)pair;
	t->nominate = nominate;
	txns_changed(a, p);
	pp->waiting = false;
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

/* Retransmissions that are due (RFC 8489 6.2.1); after Rc requests and a
 * last RTO without an answer the transaction has failed, and so has the
 * pair until the peer's checks or the background probing revive it. */
static void tick_retransmissions(struct agent *a, struct agent_peer *p, uint64_t now)
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
static int first_waiting(const struct agent_peer *p)
{
	if (p->state != AGENT_PEER_PUNCHING)
		return -1;
	for (size_t i = 0; i < p->n_pairs; i++)
		if (p->pairs[i].waiting)
			return (int)i;
	return -1;
}

#ifndef NDEBUG
static bool any_waiting(const struct agent *a)
{
	for (size_t i = 0; i < a->n_peers; i++)
		if (first_waiting(a->peers[i]) >= 0)
			return true;
	return false;
}
#endif

/* RFC 8445 6.1.4.2: every Ta, the next punching peer (round robin) starts a
 * check on its first waiting pair. */
static void tick_pacing(struct agent *a, uint64_t now)
{
	if (now < a->pace_ns)
		return;
	for (size_t k = 0; k < AGENT_MAX_PEERS; k++) {
		size_t slot = (a->pace_rr + k) % AGENT_MAX_PEERS;
		/* A peer summarised since it was last touched has a pair
		 * waiting only if its summary says so. */
		uint16_t bit = (uint16_t)(1u << slot);
		if (!(a->stale & bit) && !(a->waiting & bit))
			continue;
		struct agent_peer *p = a->peers[slot];
		int i = p != NULL ? first_waiting(p) : -1;
		if (i < 0)
			continue;
		touch(a, p);
		send_check(a, p, i, p->nominating == i, now, true);
		a->pace_rr = slot + 1;
		a->pace_ns = now + a->cfg.pacing_ns;
		return;
	}
}

/* While relayed: one check every background interval, the nomination first,
 * else round robin over the pairs (RFC 8445 leaves a failed checklist
 * alone; we keep looking because NATs change: relay-upgrade.nsim). */
static void send_background_check(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (p->n_pairs == 0)
		return;
	if (p->nominating >= 0) {
		send_check(a, p, p->nominating, true, now, false);
		return;
	}
	send_check(a, p, (int)(p->rr++ % p->n_pairs), false, now, false);
}

static void select_pair(struct agent *a, struct agent_peer *p, int pair, uint64_t now)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	const struct agent_pair *pp = &p->pairs[pair];
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
	bool text = text_wanted(a);
	struct p2p_event *e = emit(a, upgrade ? AGENT_EV_UPGRADED : AGENT_EV_DIRECT, p->name,
				   "%s %s via %s -> %s (%s)",
				   upgrade ? "upgraded from relay to direct path to" : "direct to",
				   p->name, text ? fmt_ep(&a->cfg.local, l) : "",
				   text ? fmt_ep(&pp->remote.ep, r) : "",
				   coord_candidate_type_name(pp->remote.type));
	if (e) {
		e->local = a->cfg.local;
		e->remote = pp->remote.ep;
	}
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
	struct p2p_datagram *d = dq_push(a, from);

	if (d == NULL)
		return;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS,
			 m->txid);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	stun_put_integrity_sha256_key(&w, &p->check_mac);
	stun_put_fingerprint(&w);
	dq_commit(a, d, &w);
}

static int on_check(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		    const uint8_t *buf, size_t len, const struct stun_msg *m)
{
	struct agent_peer *p = peer_from_username(a, m);
	char ep[P2P_ENDPOINT_STRLEN];

	if (p == NULL || !p->introduced)
		return AGENT_ERR_UNKNOWN_PEER;
	if (stun_check_integrity_sha256_key(m, buf, len, &p->check_mac) != STUN_OK)
		return AGENT_ERR_UNAUTHENTICATED; /* RFC 8489 9.1.3: silently discard */
	answer_check(a, p, from, m);
	int i = find_pair(p, from);
	if (i < 0) {
		/* RFC 8445 7.3.1.3: a peer-reflexive candidate, learned from the check. */
		struct coord_candidate c = {*from, COORD_CAND_PRFLX};
		if ((i = add_pair(p, &c)) < 0)
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

static int on_check_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			     const uint8_t *buf, size_t len, const struct stun_msg *m)
{
	uint64_t bit = (uint64_t)1 << txid_bit(m->txid);

	for (size_t k = 0; k < a->n_peers; k++) {
		struct agent_peer *p = a->peers[k];
		if (!(a->txn_bloom[k] & bit) || !p->introduced)
			continue;
		for (size_t j = 0; j < CHECK_TXNS; j++) {
			struct agent_txn *t = &p->txns[j];
			if (memcmp(t->txid, m->txid, STUN_TXID_SIZE) != 0 || t->pair < 0 ||
			    (size_t)t->pair >= p->n_pairs)
				continue;
			if (stun_check_integrity_sha256_key(m, buf, len, &p->check_mac) != STUN_OK)
				return AGENT_ERR_UNAUTHENTICATED;
			/* RFC 8445 7.2.5.2.1: the answer must come from where we sent. */
			if (!p2p_endpoint_equal(from, &p->pairs[t->pair].remote.ep) ||
			    m->cls != STUN_CLASS_SUCCESS)
				return AGENT_OK;
			int pair = t->pair;
			touch(a, p);
			/* RFC 7675 5.1: only an answer to our own request on the
			 * chosen pair renews consent - the peer's checks and data
			 * do not show that it still wants ours. */
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
	}
	return AGENT_ERR_MALFORMED;
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
		emit(a, AGENT_EV_LOG, NULL, "our public endpoint moved from %s to %s; re-registering",
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

	if (m->cls != STUN_CLASS_INDICATION ||
	    (relayed && !p2p_endpoint_equal(from, &a->cfg.coordinator)) ||
	    stun_get_string(m, STUN_ATTR_NATSIM_PEER, name, sizeof(name)) != STUN_OK ||
	    (p = find_peer(a, name)) == NULL)
		return AGENT_ERR_UNKNOWN_PEER;
	return deliver(a, p, m, relayed);
}

int agent_send(struct agent *a, uint64_t now_ns, const char *peer_name, const uint8_t *data,
	       size_t len)
{
	/* Sealing moves no deadline: the peer is not touched (but see below). */
	int slot = find_slot(a, peer_name);
	struct agent_peer *p = slot < 0 ? NULL : a->peers[slot];
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
		touch(a, p);
		reconnect(a, p, now_ns);
		settle(a);
	}
	int n = crypto_seal(&p->cs, data, len, sealed, sizeof(sealed));
	if (n < 0)
		return AGENT_ERR_INVALID;
	bool direct = p->state == AGENT_PEER_DIRECT && p->selected >= 0;
	struct p2p_datagram *d =
		dq_push(a, direct ? &p->pairs[p->selected].remote.ep : &a->cfg.coordinator);
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

/* ---- discovery ---- */

static void discovery_drain(struct agent *a)
{
	struct discovery_result r;
	struct p2p_datagram *d;
	char ep[P2P_ENDPOINT_STRLEN];

	while ((d = dq_push(a, &a->cfg.coordinator)) != NULL) {
		if (!discovery_pop_datagram(a->disc, d)) {
			ring_unpush(&a->dq);
			break;
		}
		d->from = a->cfg.local; /* one socket: whatever discovery says */
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

	if (a->disc != NULL)
		return AGENT_ERR_BUSY;
	a->disc = discovery_new(&dc);
	if (a->disc == NULL)
		return AGENT_ERR_NOMEM;
	discovery_start(a->disc, now_ns);
	discovery_drain(a);
	return AGENT_OK;
}

/* ---- driver interface ---- */

static int input(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *from,
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
		if (m.cls == STUN_CLASS_SUCCESS && memcmp(m.txid, a->ka_txid, STUN_TXID_SIZE) == 0 &&
		    p2p_endpoint_equal(from, &a->cfg.coordinator))
			return on_coord_binding(a, now_ns, &m);
		if (m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR)
			return on_check_response(a, now_ns, from, buf, len, &m);
		return AGENT_OK; /* Binding indication: a bare keepalive */
	case STUN_METHOD_REGISTER:
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

int agent_input(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *from,
		const uint8_t *buf, size_t len)
{
	int rc = input(a, now_ns, from, buf, len);
	settle(a);
	return rc;
}

/* After a lost path. Our own mappings may be gone too: re-register first,
 * then CONNECT; a fresh INTRODUCE restarts punching on both sides. */
static void reconnect(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (a->reg_tries == 0)
		begin_register(a, now);
	request_introduction(a, p, now);
}

static void path_lost(struct agent *a, struct agent_peer *p, uint64_t now)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	const struct agent_pair *pp = &p->pairs[p->selected];

	bool quiet = a->cfg.keepalive_ns == 0;
	struct p2p_event *e = emit(a, AGENT_EV_PATH_LOST, p->name,
				   "no answer on the path to %s via %s -> %s for %llu s: consent "
				   "expired (RFC 7675); %s",
				   p->name, fmt_ep(&a->cfg.local, l), fmt_ep(&pp->remote.ep, r),
				   (unsigned long long)((now - p->consent_ns) / P2P_NS_PER_S),
				   quiet ? "we send no keepalives, so we ask for a new path only "
					   "when there is something to send"
					 : "asking the coordinator to introduce us again");
	if (e) {
		e->local = a->cfg.local;
		e->remote = pp->remote.ep;
	}
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

/* RFC 7675 consent freshness on the chosen path. A consent check (an
 * authenticated Binding request, sent once: a lost one is covered by the
 * next) goes out every 4 to 6 s; only an answer renews consent, and 30 s
 * without one means the peer, or a NAT between us, no longer takes our
 * packets: the path is lost. The checks are the path's keepalives too (RFC
 * 7675 section 4): they keep both NATs' mappings open. With keepalives off
 * the agent sends none, so consent runs out 30 s after the last answer. */
static void tick_direct(struct agent *a, struct agent_peer *p, uint64_t now)
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

/* ---- relay fallback ---- */

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
static void tick_relay_request(struct agent *a, struct agent_peer *p, uint64_t now)
{
	if (!a->registered) {
		fail_peer(a, p, "no direct path and the relay is unreachable");
	} else if (p->relay_retry_ns == 0) {
		new_txid(a, p->relay_txid);
		p->relay_tries = 1;
		p->relay_retry_ns = now + a->cfg.rto_ns;
		send_relay_request(a, p);
	} else if (now >= p->relay_retry_ns && p->relay_tries >= RELAY_MAX_TRIES) {
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
	emit(a, AGENT_EV_RELAYED, p->name,
	     "no direct path to %s after %llu ms of punching; relaying through the coordinator "
	     "and still probing in the background",
	     p->name, (unsigned long long)(a->cfg.punch_timeout_ns / P2P_NS_PER_MS));
	p->next_check_ns = now + a->cfg.background_pacing_ns;
	for (size_t i = 0; i < p->n_pairs; i++)
		p->pairs[i].waiting = false; /* the background probing has them */
}

/* The coordinator's answer to a RELAY request: relayed, or failed. */
static int on_relay_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			     const struct stun_msg *m)
{
	int code = 0;
	const char *reason = "";
	size_t rlen = 0;
	char why[120];

	if (!p2p_endpoint_equal(from, &a->cfg.coordinator))
		return AGENT_ERR_MALFORMED;
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_peer *p = a->peers[i];
		if (p->relay_retry_ns == 0 || memcmp(p->relay_txid, m->txid, STUN_TXID_SIZE) != 0)
			continue;
		touch(a, p);
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
		if (p->state == AGENT_PEER_PUNCHING)
			tick_retransmissions(a, p, now);
		break;
	case AGENT_PEER_RELAYED:
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
		} else if (a->reg_tries >= REG_MAX_TRIES) {
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

void agent_tick(struct agent *a, uint64_t now_ns)
{
	if (a->disc != NULL) {
		discovery_tick(a->disc, now_ns);
		discovery_drain(a);
	}
	tick_registration(a, now_ns);
	for (size_t i = 0; i < a->n_peers; i++) {
		/* Nothing of a peer's own is due before its deadline; the one
		 * exception, a relayed peer with no pairs, is never skipped. */
		uint16_t bit = (uint16_t)(1u << i);
		if (a->due[i] > now_ns && !(a->stale & bit) && !(a->tick_always & bit))
			continue;
		a->stale |= bit;
		tick_peer(a, a->peers[i], now_ns);
	}
	tick_pacing(a, now_ns);
	settle(a);
}

static uint64_t min64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

static uint64_t retransmission_deadline(const struct agent_peer *p)
{
	return p->retx_soonest_ns;
}

/* The peer's own timers; the paced first checks are the agent's (pace_ns). */
static uint64_t peer_deadline(const struct agent *a, const struct agent_peer *p)
{
	uint64_t expiry = p->consent_ns + a->cfg.consent_expiry_ns;

	switch (p->state) {
	case AGENT_PEER_CONNECTING:
		return p->connect_retry_ns ? min64(p->connect_retry_ns, p->connect_deadline_ns)
					   : P2P_NO_DEADLINE;
	case AGENT_PEER_PUNCHING:
		return min64(retransmission_deadline(p),
			     p->relay_retry_ns ? p->relay_retry_ns : p->punch_deadline_ns);
	case AGENT_PEER_RELAYED:
		return min64(retransmission_deadline(p),
			     p->n_pairs ? p->next_check_ns : P2P_NO_DEADLINE);
	case AGENT_PEER_DIRECT:
		return a->cfg.keepalive_ns ? min64(p->next_consent_ns, expiry) : expiry;
	default:
		return P2P_NO_DEADLINE;
	}
}

/* Redo the summaries of the peers touched (agent.stale), while they are
 * still in cache. */
static void settle(struct agent *a)
{
	for (uint32_t st = a->stale; st != 0; st &= st - 1) {
		unsigned i = (unsigned)__builtin_ctz(st);
		const struct agent_peer *p = a->peers[i];
		uint16_t bit = (uint16_t)(1u << i);
		a->due[i] = peer_deadline(a, p);
		a->waiting = (uint16_t)(first_waiting(p) >= 0 ? a->waiting | bit : a->waiting & ~bit);
		bool always = p->state == AGENT_PEER_RELAYED && p->n_pairs == 0;
		a->tick_always = (uint16_t)(always ? a->tick_always | bit : a->tick_always & ~bit);
	}
	a->stale = 0;
}

#ifndef NDEBUG
/* agent_next_deadline() from the peers themselves, not their summaries. */
static uint64_t deadline_from_peers(const struct agent *a, uint64_t t)
{
	for (size_t i = 0; i < a->n_peers; i++)
		t = min64(t, peer_deadline(a, a->peers[i]));
	if (t > a->pace_ns && any_waiting(a))
		t = a->pace_ns;
	return t;
}
#endif

uint64_t agent_next_deadline(const struct agent *a)
{
	uint64_t t = P2P_NO_DEADLINE, own;

	if (a->disc != NULL)
		t = discovery_next_deadline(a->disc);
	if (a->reg_wanted)
		t = min64(t, a->reg_retry_ns);
	if (a->registered && a->cfg.keepalive_ns && a->coord_ka_ns)
		t = min64(t, a->coord_ka_ns);
	own = t;
	for (size_t i = 0; i < a->n_peers; i++)
		t = min64(t, a->due[i]);
	if (t > a->pace_ns && a->waiting)
		t = a->pace_ns;
	/* Debug builds (the sanitizer run of the suite) check every answer. */
	assert(a->stale == 0 && t == deadline_from_peers(a, own));
	(void)own;
	return t;
}

void agent_prefetch(const struct agent *a)
{
#if defined(__GNUC__)
	/* The first lines of what every call reads (struct agent's head), and
	 * of the summaries and configuration: eight peers' worth of each. */
	const char *base = (const char *)a;
	__builtin_prefetch(base);
	__builtin_prefetch(base + 64);
	__builtin_prefetch(base + offsetof(struct agent, peers));
	__builtin_prefetch(base + offsetof(struct agent, due));
	__builtin_prefetch(base + offsetof(struct agent, name_hash));
	__builtin_prefetch(base + offsetof(struct agent, txn_bloom));
	__builtin_prefetch(base + offsetof(struct agent, cfg));
#else
	(void)a;
#endif
}

bool agent_pop_datagram(struct agent *a, struct p2p_datagram *out)
{
	const struct p2p_datagram *d = ring_front(&a->dq, sizeof(*d));
	if (d == NULL)
		return false;
	out->from = d->from;
	out->to = d->to;
	out->len = d->len;
	memcpy(out->buf, d->buf, d->len); /* the bytes written, not the whole buffer */
	ring_pop_front(&a->dq, &spare_dq);
	return true;
}

bool agent_pop_event(struct agent *a, struct p2p_event *out)
{
	const struct p2p_event *e = ring_front(&a->eq, sizeof(*e));
	if (e == NULL)
		return false;
	*out = *e;
	ring_pop_front(&a->eq, &spare_eq);
	return true;
}

/* ---- getters and names ---- */

enum agent_peer_state agent_peer_state(const struct agent *a, const char *peer_name)
{
	int i = find_slot(a, peer_name);
	return i < 0 ? AGENT_PEER_NONE : a->peers[i]->state;
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
	static const char *const names[] = {"registered", "candidates", "punching", "direct",
					    "relayed",    "upgraded",   "path-lost", "failed",
					    "data",       "nat-classified", "log"};
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
	case AGENT_OK: return "ok";
	case AGENT_ERR_NOMEM: return "out of memory";
	case AGENT_ERR_INVALID: return "invalid argument";
	case AGENT_ERR_MALFORMED: return "not a message this agent understands";
	case AGENT_ERR_UNAUTHENTICATED: return "integrity check or seal did not verify";
	case AGENT_ERR_UNKNOWN_PEER: return "unknown peer or session";
	case AGENT_ERR_NOT_CONNECTED: return "not introduced to that peer yet";
	case AGENT_ERR_TOO_MANY: return "too many peers";
	case AGENT_ERR_BUSY: return "NAT discovery already running";
	}
	return "unknown agent error";
}
