/*
 * coord.c - coordinator: STUN server, rendezvous, relay (see coord.h and
 * docs/protocol.md).
 *
 * Peers live in a pool indexed by uint32_t; two chained hash tables (by name, by
 * registered endpoint) and an LRU list ordered by last_seen make every lookup and
 * the expiry check O(1), so 100 000 registrations cost no scans. Output queues
 * are rings (ring.h) that grow when needed and keep their arrays: no malloc per
 * datagram in steady state.
 */
#include "coord.h"

#include "bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_state.h"
#include "stunsrv.h"

#define NIL UINT32_MAX
#define DEFAULT_MAX_PEERS 100000
#define DEFAULT_PEER_TIMEOUT (180 * P2P_NS_PER_S)
#define DEFAULT_SESSION_REUSE (5 * P2P_NS_PER_S)
#define DEFAULT_MAX_EVENTS 65536

/* ---- wire helpers shared with the agent ---- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

size_t coord_registration_bytes(const struct coord_registration *r, uint8_t *out)
{
	size_t n = 0, name_len = strnlen(r->name, COORD_NAME_MAX - 1);
	size_t nc = r->n_candidates > COORD_MAX_CANDIDATES ? COORD_MAX_CANDIDATES : r->n_candidates;

	memcpy(out, "natsim-register1", 16);
	out[16] = 0;
	out[17] = 1;
	n = 18;
	out[n++] = (uint8_t)name_len;
	memcpy(out + n, r->name, name_len);
	n += name_len;
	memcpy(out + n, r->sign_pk, 32);
	memcpy(out + n + 32, r->box_pk, 32);
	n += 64;
	put_be(out + n, r->timestamp_ns, 8);
	n += 8;
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < nc; i++)
		n6 += p2p_endpoint_is6(&r->candidates[i].ep);
	out[n++] = (uint8_t)(nc - n6);
	for (size_t i = 0; i < nc; i++) {
		if (p2p_endpoint_is6(&r->candidates[i].ep))
			continue;
		put_be(out + n, r->candidates[i].ep.ip, 4);
		put_be(out + n + 4, r->candidates[i].ep.port, 2);
		out[n + 6] = r->candidates[i].type;
		n += 7;
		n4++;
	}
	if (r->transport != 0)
		out[n++] = r->transport;
	if (r->mapping.kind != 0) {
		out[n++] = 'M';
		out[n++] = r->mapping.kind;
		put_be(out + n, (uint16_t)r->mapping.delta, 2);
		put_be(out + n + 2, r->mapping.last_port, 2);
		n += 4;
	}
	/* IPv6 candidates in a tail of their own, so that an IPv4-only
	 * registration signs the bytes it always did. */
	if (n6 != 0) {
		out[n++] = '6';
		out[n++] = (uint8_t)n6;
		for (size_t i = 0; i < nc; i++) {
			if (!p2p_endpoint_is6(&r->candidates[i].ep))
				continue;
			memcpy(out + n, r->candidates[i].ep.ip6, 16);
			put_be(out + n + 16, r->candidates[i].ep.port, 2);
			out[n + 18] = r->candidates[i].type;
			n += 19;
		}
	}
	(void)n4;
	return n;
}

void coord_put_mapping(struct stun_writer *w, const struct coord_mapping *m)
{
	uint8_t v[COORD_MAPPING_ATTR_LEN];

	v[0] = m->kind;
	v[1] = 0;
	put_be(v + 2, (uint16_t)m->delta, 2);
	put_be(v + 4, m->last_port, 2);
	stun_put_raw(w, STUN_ATTR_NATSIM_MAPPING, v, sizeof(v));
}

int coord_parse_mapping(const struct stun_attr *a, struct coord_mapping *out)
{
	const uint8_t *v = a->value;

	/* Kinds 1..3 (enum agent_mapping_kind); UNKNOWN is never sent. */
	if (a->len != COORD_MAPPING_ATTR_LEN || v[0] < 1 || v[0] > 3 || v[1] != 0)
		return STUN_ERR_BAD_ATTRIBUTE;
	out->kind = v[0];
	out->delta = (int16_t)get16(v + 2);
	out->last_port = get16(v + 4);
	return STUN_OK;
}

void coord_put_candidate(struct stun_writer *w, const struct coord_candidate *c)
{
	uint8_t v[COORD_CANDIDATE_ATTR_LEN6];

	/* RFC 8489 14.2's encoding (IPv6: XORed with the cookie and the
	 * transaction ID, bytes 8..19 of the header already written), then the
	 * type byte. */
	size_t n = stun_address_encode(&c->ep, w->buf + 8, v);
	v[n] = c->type;
	stun_put_raw(w, STUN_ATTR_NATSIM_CANDIDATE, v, (uint16_t)(n + 1));
}

int coord_parse_candidate(const struct stun_msg *m, const struct stun_attr *a,
			  struct coord_candidate *out)
{
	if (a->len != COORD_CANDIDATE_ATTR_LEN && a->len != COORD_CANDIDATE_ATTR_LEN6)
		return STUN_ERR_BAD_ATTRIBUTE;
	uint8_t type = a->value[a->len - 1];
	/* A predicted candidate is the receiver's own guess, never sent; a
	 * classic header has no transaction ID to XOR an IPv6 address with. */
	if (type > COORD_CAND_MAPPED || type == COORD_CAND_PREDICTED || m->classic ||
	    stun_address_decode(a->value, a->len - 1u, m->txid, &out->ep) != STUN_OK)
		return STUN_ERR_BAD_ATTRIBUTE;
	out->type = type;
	return STUN_OK;
}

const char *coord_candidate_type_name(uint8_t type)
{
	switch (type) {
	case COORD_CAND_HOST:
		return "host";
	case COORD_CAND_SRFLX:
		return "srflx";
	case COORD_CAND_PRFLX:
		return "prflx";
	case COORD_CAND_PREDICTED:
		return "predicted";
	case COORD_CAND_MAPPED:
		return "mapped";
	}
	return "?";
}

const char *coord_event_name(enum coord_event_type t)
{
	static const char *const names[] = {"registered", "refreshed", "refused", "introduced",
					    "relayed",	  "expired",   "dropped"};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

const char *coord_refusal_name(enum coord_refusal r)
{
	static const char *const names[] = {"none",	      "malformed",    "bad-signature",
					    "replay",	      "name-taken",   "full",
					    "not-registered", "unknown-peer", "no-session",
					    "relay-off",      "not-allowed",  "rate-limited"};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* ---- hashing, pool, LRU ---- */

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static uint32_t hash_ep(const struct p2p_endpoint *ep)
{
	uint64_t k = ((uint64_t)ep->ip << 16) | ep->port;
	if (p2p_endpoint_is6(ep)) { /* the 16 bytes folded, FNV-1a, then the same finaliser */
		k = 14695981039346656037ull ^ ep->port;
		for (int i = 0; i < 16; i++)
			k = (k ^ ep->ip6[i]) * 1099511628211ull;
	}
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull; /* murmur3 finaliser */
	k ^= k >> 33;
	return (uint32_t)k;
}

static uint32_t find_by_name(const struct coord *c, const char *name)
{
	for (uint32_t i = c->by_name[hash_name(name) & c->mask]; i != NIL;
	     i = c->peers[i].name_next)
		if (strcmp(c->peers[i].reg.name, name) == 0)
			return i;
	return NIL;
}

/* A UDP registration is known by its source endpoint (over either family:
 * a dual-stack peer's other one is its alt srflx); a TCP one by its
 * connection too (the same numbers may be a UDP and a TCP mapping). */
static uint32_t find_by_ep(const struct coord *c, const struct p2p_endpoint *ep, uint32_t conn)
{
	uint32_t h = hash_ep(ep) & c->mask;

	for (uint32_t i = c->by_ep[h]; i != NIL; i = c->peers[i].ep_next)
		if (p2p_endpoint_equal(&c->peers[i].srflx, ep) && c->peers[i].conn == conn)
			return i;
	for (uint32_t i = c->by_alt != NULL && conn == 0 ? c->by_alt[h] : NIL; i != NIL;
	     i = c->peers[i].alt->next)
		if (p2p_endpoint_equal(&c->peers[i].alt->srflx, ep))
			return i;
	return NIL;
}

static void unlink_chain(struct coord *c, uint32_t *head, uint32_t idx, bool by_name)
{
	for (uint32_t *p = head; *p != NIL;) {
		struct coord_peer *q = &c->peers[*p];
		uint32_t *next = by_name ? &q->name_next : &q->ep_next;
		if (*p == idx) {
			*p = *next;
			return;
		}
		p = next;
	}
}

static void ep_insert(struct coord *c, uint32_t idx)
{
	uint32_t *b = &c->by_ep[hash_ep(&c->peers[idx].srflx) & c->mask];
	c->peers[idx].ep_next = *b;
	*b = idx;
}

static void ep_remove(struct coord *c, uint32_t idx)
{
	unlink_chain(c, &c->by_ep[hash_ep(&c->peers[idx].srflx) & c->mask], idx, false);
}

/* The peer's registration over its second family leaves by_alt. */
static void alt_remove(struct coord *c, uint32_t idx)
{
	struct coord_peer *p = &c->peers[idx];

	if (!p->has_alt)
		return;
	for (uint32_t *q = &c->by_alt[hash_ep(&p->alt->srflx) & c->mask]; *q != NIL;
	     q = &c->peers[*q].alt->next)
		if (*q == idx) {
			*q = p->alt->next;
			break;
		}
	p->has_alt = false;
}

static void lru_unlink(struct coord *c, uint32_t i)
{
	struct coord_peer *p = &c->peers[i];
	if (p->lru_prev != NIL)
		c->peers[p->lru_prev].lru_next = p->lru_next;
	else
		c->lru_head = p->lru_next;
	if (p->lru_next != NIL)
		c->peers[p->lru_next].lru_prev = p->lru_prev;
	else
		c->lru_tail = p->lru_prev;
}

static void lru_append(struct coord *c, uint32_t i)
{
	struct coord_peer *p = &c->peers[i];
	p->lru_next = NIL;
	p->lru_prev = c->lru_tail;
	if (c->lru_tail != NIL)
		c->peers[c->lru_tail].lru_next = i;
	else
		c->lru_head = i;
	c->lru_tail = i;
}

/* Any datagram from a registered endpoint proves the peer alive. */
static void touch(struct coord *c, uint32_t i, uint64_t now)
{
	c->peers[i].last_seen_ns = now;
	lru_unlink(c, i);
	lru_append(c, i);
}

static uint32_t peer_alloc(struct coord *c)
{
	if (c->free_head != NIL) {
		uint32_t i = c->free_head;
		c->free_head = c->peers[i].name_next;
		return i;
	}
	if (c->n_used == c->n_alloc) {
		uint32_t n = c->n_alloc ? c->n_alloc * 2 : 64;
		if (n > c->cfg.max_peers)
			n = (uint32_t)c->cfg.max_peers;
		struct coord_peer *np = realloc(c->peers, (size_t)n * sizeof(*np));
		if (np == NULL)
			return NIL;
		c->peers = np;
		c->n_alloc = n;
	}
	c->peers[c->n_used].gen = 0;
	c->peers[c->n_used].addrs6 = (struct p2p_addr6_table){NULL};
	c->peers[c->n_used].alt = NULL;
	return c->n_used++;
}

static void peer_remove(struct coord *c, uint32_t i)
{
	struct coord_peer *p = &c->peers[i];
	unlink_chain(c, &c->by_name[hash_name(p->reg.name) & c->mask], i, true);
	ep_remove(c, i);
	alt_remove(c, i);
	lru_unlink(c, i);
	coord_tcp_bind(c, i, 0);
	p->live = false;
	p->gen++;
	p->name_next = c->free_head;
	c->free_head = i;
	c->counters.peers--;
}

/* ---- output queues ---- */

/* A slot at the tail of the datagram queue, or of the TCP queue for a
 * message down connection `conn` (0: a datagram), or NULL (counted as
 * dropped). The handlers fill it the same way either way. */
static struct p2p_datagram *dq_push(struct coord *c, uint32_t conn)
{
	struct p2p_datagram *d = NULL;
	c->pushed_tcp = conn != 0;
	if (conn == 0) {
		d = ring_push(&c->dq, sizeof(*d), NULL);
	} else {
		struct coord_tcp_out *o = ring_push(&c->tq, sizeof(*o), NULL);
		if (o != NULL) {
			o->conn = conn;
			o->close = false;
			d = &o->d;
		}
	}
	if (d == NULL)
		c->counters.dropped++;
	return d;
}

/* Takes back the slot the last dq_push gave. */
static void dq_unpush(struct coord *c)
{
	ring_unpush(c->pushed_tcp ? &c->tq : &c->dq);
}

static struct coord_event *emit(struct coord *c, enum coord_event_type type, const char *name,
				const struct p2p_endpoint *from)
{
	struct coord_event *e = NULL;
	if (c->eq.len < c->cfg.max_events)
		e = ring_push(&c->eq, sizeof(*e), NULL);
	if (e == NULL) {
		c->counters.events_dropped++;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->type = type;
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	if (from)
		e->from = *from;
	return e;
}

static void refuse(struct coord *c, enum coord_refusal why, const char *name,
		   const struct p2p_endpoint *from, const char *detail)
{
	char ep[P2P_ENDPOINT_STRLEN];
	struct coord_event *e = emit(c, COORD_EV_REFUSED, name, from);

	c->counters.refused++;
	if (e == NULL)
		return;
	e->refusal = why;
	snprintf(e->text, sizeof(e->text), "refused %s from %s: %s", name && *name ? name : "?",
		 p2p_endpoint_format(from, ep, sizeof(ep)), detail);
}

/* Error response, trimmed so it is never larger than the request (no
 * amplification for unauthenticated senders); not sent at all if even the bare
 * ERROR-CODE would be larger. */
static void reply_error(struct coord *c, const struct p2p_endpoint *local,
			const struct p2p_endpoint *from, const struct stun_msg *req, size_t req_len,
			int code, const char *reason)
{
	if (req->cls != STUN_CLASS_REQUEST)
		return; /* RFC 8489 6.3: indications get no response */
	struct p2p_datagram *d = dq_push(c, c->in_conn);
	if (d == NULL)
		return;
	for (int pass = 0; pass < 2; pass++) {
		struct stun_writer w;
		stun_writer_init(&w, d->buf, sizeof(d->buf), req->method, STUN_CLASS_ERROR,
				 req->txid);
		stun_put_error(&w, code, pass == 0 ? reason : "");
		int n = stun_writer_finish(&w);
		if (n > 0 && (size_t)n <= req_len) {
			d->from = *local;
			d->to = *from;
			d->len = (size_t)n;
			return;
		}
	}
	dq_unpush(c);
}

/* ---- lifecycle ---- */

struct coord *coord_new(const struct coord_config *cfg)
{
	struct coord *c;
	size_t nb = 16;

	if (crypto_init() < 0 || cfg->random.fill == NULL)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	if (c->cfg.max_peers == 0)
		c->cfg.max_peers = DEFAULT_MAX_PEERS;
	if (c->cfg.max_peers > COORD_MAX_PEERS)
		c->cfg.max_peers = COORD_MAX_PEERS;
	if (c->cfg.peer_timeout_ns == 0)
		c->cfg.peer_timeout_ns = DEFAULT_PEER_TIMEOUT;
	if (c->cfg.session_reuse_ns == 0)
		c->cfg.session_reuse_ns = DEFAULT_SESSION_REUSE;
	if (c->cfg.max_events == 0)
		c->cfg.max_events = DEFAULT_MAX_EVENTS;
	while (nb < c->cfg.max_peers && nb < (1u << 20))
		nb *= 2;
	c->mask = (uint32_t)nb - 1;
	c->by_name = malloc(nb * sizeof(uint32_t));
	c->by_ep = malloc(nb * sizeof(uint32_t));
	if (c->by_name == NULL || c->by_ep == NULL) {
		coord_free(c);
		return NULL;
	}
	memset(c->by_name, 0xff, nb * sizeof(uint32_t));
	memset(c->by_ep, 0xff, nb * sizeof(uint32_t));
	c->free_head = c->lru_head = c->lru_tail = NIL;
	c->srv.primary = cfg->primary;
	c->srv.has_alternate = cfg->has_alternate;
	c->srv.alternate = cfg->alternate;
	c->srv.rfc3489_attrs = cfg->rfc3489_attrs;
	c->srv.software = cfg->software;
	struct ratelimit_config bl = {
	    .burst = cfg->binding_burst ? cfg->binding_burst : COORD_BINDING_BURST,
	    .interval_ns =
		cfg->binding_interval_ns ? cfg->binding_interval_ns : COORD_BINDING_INTERVAL};
	struct ratelimit_config ll = {
	    .burst = COORD_LOG_BURST, .interval_ns = COORD_LOG_INTERVAL, .slots = 1};
	c->binding_limit = ratelimit_new(&bl);
	c->log_limit = ratelimit_new(&ll);
	if (c->binding_limit == NULL || c->log_limit == NULL) {
		coord_free(c);
		return NULL;
	}
	return c;
}

void coord_free(struct coord *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->n_used; i++) {
		p2p_addr6_table_free(&c->peers[i].addrs6);
		free(c->peers[i].alt);
	}
	free(c->peers);
	free(c->by_name);
	free(c->by_ep);
	free(c->by_alt);
	ring_fini(&c->dq);
	ring_fini(&c->eq);
	ring_fini(&c->tq);
	free(c->conns);
	ratelimit_free(c->binding_limit);
	ratelimit_free(c->log_limit);
	free(c);
}

/* ---- REGISTER ---- */

static int parse_registration(const struct stun_msg *m, struct coord_registration *r,
			      const uint8_t **sig)
{
	const struct stun_attr *name = stun_find(m, STUN_ATTR_NATSIM_NAME);
	const struct stun_attr *spk = stun_find(m, STUN_ATTR_NATSIM_SIGN_KEY);
	const struct stun_attr *bpk = stun_find(m, STUN_ATTR_NATSIM_BOX_KEY);
	const struct stun_attr *s = stun_find(m, STUN_ATTR_NATSIM_SIGNATURE);

	memset(r, 0, sizeof(*r));
	if (name == NULL || name->len == 0 || name->len >= COORD_NAME_MAX ||
	    memchr(name->value, 0, name->len) != NULL || spk == NULL || spk->len != 32 ||
	    bpk == NULL || bpk->len != 32 || s == NULL || s->len != CRYPTO_SIGNATURE_SIZE ||
	    stun_get_u64(m, STUN_ATTR_NATSIM_TIMESTAMP, &r->timestamp_ns) != STUN_OK)
		return -1;
	memcpy(r->name, name->value, name->len);
	memcpy(r->sign_pk, spk->value, 32);
	memcpy(r->box_pk, bpk->value, 32);
	*sig = s->value;
	const struct stun_attr *t = stun_find(m, STUN_ATTR_NATSIM_TRANSPORT);
	if (t != NULL && (t->len != 1 || t->value[0] != COORD_TRANSPORT_TCP))
		return -1;
	r->transport = t != NULL ? COORD_TRANSPORT_TCP : 0;
	const struct stun_attr *mp = stun_find(m, STUN_ATTR_NATSIM_MAPPING);
	if (mp != NULL && coord_parse_mapping(mp, &r->mapping) != STUN_OK)
		return -1;
	for (size_t i = 0; i < m->n_attrs; i++) {
		if (m->attrs[i].type != STUN_ATTR_NATSIM_CANDIDATE)
			continue;
		if (r->n_candidates == COORD_MAX_CANDIDATES ||
		    coord_parse_candidate(m, &m->attrs[i], &r->candidates[r->n_candidates]) != 0)
			return -1;
		r->n_candidates++;
	}
	return 0;
}

static void reply_register_ok(struct coord *c, const struct p2p_endpoint *local,
			      const struct p2p_endpoint *from, const struct stun_msg *req)
{
	struct p2p_datagram *d = dq_push(c, c->in_conn);
	struct stun_writer w;

	if (d == NULL)
		return;
	/* The observed endpoint is the peer's server-reflexive candidate (RFC 8489). */
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_REGISTER, STUN_CLASS_SUCCESS,
			 req->txid);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	if (n < 0) {
		dq_unpush(c);
		return;
	}
	d->from = *local;
	d->to = *from;
	d->len = (size_t)n;
}

/* Existing live name: same key and a newer timestamp refresh it. */
static int refresh_peer(struct coord *c, uint32_t i, const struct coord_registration *r,
			const struct p2p_endpoint *from)
{
	struct coord_peer *p = &c->peers[i];

	if (memcmp(p->reg.sign_pk, r->sign_pk, 32) != 0) {
		refuse(c, COORD_REFUSE_NAME_TAKEN, r->name, from,
		       "name is registered with another key");
		return 403;
	}
	if (r->timestamp_ns <= p->reg.timestamp_ns) {
		refuse(c, COORD_REFUSE_REPLAY, r->name, from,
		       "timestamp not newer than the last registration (replay?)");
		return 403;
	}
	return 0;
}

static void evict_endpoint_owner(struct coord *c, uint32_t keep, const struct p2p_endpoint *ep)
{
	uint32_t j = find_by_ep(c, ep, c->in_conn);
	if (j == NIL || j == keep)
		return;
	/* A NAT handed this public endpoint to someone else: the old owner is gone. */
	struct coord_event *e = emit(c, COORD_EV_EXPIRED, c->peers[j].reg.name, ep);
	if (e)
		snprintf(e->text, sizeof(e->text), "%s expired: its endpoint now belongs to %s",
			 c->peers[j].reg.name, c->peers[keep == NIL ? j : keep].reg.name);
	c->counters.expired++;
	peer_remove(c, j);
}

/* A registration over the other family than the one the peer first
 * registered over (UDP only): a dual-stack peer's second endpoint. */
static bool other_family(const struct coord_peer *p, const struct p2p_endpoint *from, uint32_t conn)
{
	return conn == 0 && p->conn == 0 && from->family != p->srflx.family;
}

static int store_alt(struct coord *c, uint32_t i, const struct p2p_endpoint *local,
		     const struct p2p_endpoint *from)
{
	struct coord_peer *p = &c->peers[i];
	size_t nb = (size_t)c->mask + 1;

	if (c->by_alt == NULL) {
		if ((c->by_alt = malloc(nb * sizeof(uint32_t))) == NULL)
			return -1;
		memset(c->by_alt, 0xff, nb * sizeof(uint32_t));
	}
	if (p->alt == NULL && (p->alt = malloc(sizeof(*p->alt))) == NULL)
		return -1;
	p->alt->via = *local;
	if (p->has_alt && p2p_endpoint_equal(&p->alt->srflx, from))
		return 0;
	alt_remove(c, i);
	evict_endpoint_owner(c, i, from);
	p->alt->srflx = *from;
	p->has_alt = true;
	uint32_t *b = &c->by_alt[hash_ep(from) & c->mask];
	p->alt->next = *b;
	*b = i;
	return 0;
}

/* Keeps r as peer p's registration (coord_state.h: its candidates packed,
 * IPv6 addresses in p's table). A candidate whose address the table has no
 * memory for is left out, as one past COORD_MAX_CANDIDATES would be. */
static void keep_registration(struct coord_peer *p, const struct coord_registration *r)
{
	struct coord_kept_registration *k = &p->reg;

	memcpy(k->name, r->name, sizeof(k->name));
	k->transport = r->transport;
	memcpy(k->sign_pk, r->sign_pk, sizeof(k->sign_pk));
	memcpy(k->box_pk, r->box_pk, sizeof(k->box_pk));
	k->mapping = r->mapping;
	k->timestamp_ns = r->timestamp_ns;
	k->n_candidates = 0;
	p2p_addr6_table_clear(&p->addrs6);
	for (size_t i = 0; i < r->n_candidates; i++) {
		struct p2p_packed_ep *pc = &k->candidates[k->n_candidates];
		if (p2p_packed_set(&p->addrs6, pc, &r->candidates[i].ep) == 0) {
			pc->tag = r->candidates[i].type;
			k->n_candidates++;
		}
	}
}

/* A name not registered yet: a new peer in slot i. */
static void new_peer(struct coord *c, uint32_t i, const struct coord_registration *r,
		     const struct p2p_endpoint *local, const struct p2p_endpoint *from)
{
	struct coord_peer *p = &c->peers[i];
	uint32_t gen = p->gen;
	struct p2p_addr6_table addrs6 = p->addrs6; /* the slot's, kept for reuse */
	struct coord_alt *alt = p->alt;

	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->addrs6 = addrs6;
	p->alt = alt;
	p->live = true;
	keep_registration(p, r);
	p->srflx = *from;
	p->via = *local;
	uint32_t *b = &c->by_name[hash_name(r->name) & c->mask];
	p->name_next = *b;
	*b = i;
	evict_endpoint_owner(c, i, from);
	ep_insert(c, i);
	p->lru_prev = p->lru_next = NIL;
	lru_append(c, i);
	c->counters.peers++;
}

/* A refresh over the family the peer registered over first. */
static void refresh_same_family(struct coord *c, uint32_t i, const struct coord_registration *r,
				const struct p2p_endpoint *local, const struct p2p_endpoint *from)
{
	struct coord_peer *p = &c->peers[i];

	if (!p2p_endpoint_equal(&p->srflx, from) || p->conn != c->in_conn) {
		/* NAT rebinding or a move: re-key the endpoint table. */
		ep_remove(c, i);
		evict_endpoint_owner(c, i, from);
		p->srflx = *from;
		ep_insert(c, i);
	}
	keep_registration(p, r);
	p->via = *local;
}

static int store_registration(struct coord *c, uint64_t now, const struct coord_registration *r,
			      const struct p2p_endpoint *local, const struct p2p_endpoint *from)
{
	uint32_t i = find_by_name(c, r->name);
	bool fresh = i == NIL;
	char ep[P2P_ENDPOINT_STRLEN];

	if (fresh) {
		if (c->counters.peers >= c->cfg.max_peers || (i = peer_alloc(c)) == NIL) {
			refuse(c, COORD_REFUSE_FULL, r->name, from, "coordinator is full");
			return 508;
		}
		new_peer(c, i, r, local, from);
	} else if (other_family(&c->peers[i], from, c->in_conn)) {
		if (store_alt(c, i, local, from) != 0) {
			refuse(c, COORD_REFUSE_FULL, r->name, from, "coordinator is full");
			return 508;
		}
		keep_registration(&c->peers[i], r);
	} else {
		refresh_same_family(c, i, r, local, from);
	}
	coord_tcp_bind(c, i, c->in_conn);
	touch(c, i, now);
	struct coord_event *e =
	    emit(c, fresh ? COORD_EV_REGISTERED : COORD_EV_REFRESHED, r->name, from);
	if (fresh)
		c->counters.registered++;
	else
		c->counters.refreshed++;
	size_t mapped = 0;
	for (size_t k = 0; k < r->n_candidates; k++)
		mapped += r->candidates[k].type == COORD_CAND_MAPPED;
	size_t hosts = r->n_candidates - mapped;
	if (e)
		snprintf(e->text, sizeof(e->text), "%s %s from %s with %zu host candidate%s%s",
			 r->name, fresh ? "registered" : "refreshed its registration",
			 p2p_endpoint_format(from, ep, sizeof(ep)), hosts, hosts == 1 ? "" : "s",
			 mapped ? " and a mapped one (its router's, by PCP or NAT-PMP)" : "");
	return 0;
}

static int handle_register(struct coord *c, uint64_t now, const struct p2p_endpoint *local,
			   const struct p2p_endpoint *from, const uint8_t *buf, size_t len,
			   const struct stun_msg *m)
{
	struct coord_registration r;
	const uint8_t *sig;
	uint8_t bytes[COORD_REG_BYTES_MAX];
	int code;

	(void)buf;
	if (m->cls != STUN_CLASS_REQUEST)
		return COORD_ERR_IGNORED;
	/* Candidates for the transport the registration arrives on, and only
	 * those: the srflx candidate we add is that transport's mapping. */
	if (parse_registration(m, &r, &sig) != 0 || (r.transport != 0) != (c->in_conn != 0)) {
		refuse(c, COORD_REFUSE_MALFORMED, NULL, from, "REGISTER attributes malformed");
		reply_error(c, local, from, m, len, 400, "Bad Request");
		return COORD_ERR_MALFORMED;
	}
	/* Cheap checks before the (expensive) signature verification. */
	if (c->cfg.allow && !c->cfg.allow(c->cfg.allow_ctx, r.name, r.sign_pk)) {
		refuse(c, COORD_REFUSE_NOT_ALLOWED, r.name, from, "key not on the allow-list");
		reply_error(c, local, from, m, len, 403, "Forbidden");
		return COORD_ERR_REFUSED;
	}
	uint32_t i = find_by_name(c, r.name);
	if (i != NIL && (code = refresh_peer(c, i, &r, from)) != 0) {
		reply_error(c, local, from, m, len, code, "Forbidden");
		return COORD_ERR_REFUSED;
	}
	size_t n = coord_registration_bytes(&r, bytes);
	bool valid = c->cfg.verify ? c->cfg.verify(c->cfg.verify_ctx, r.sign_pk, bytes, n, sig)
				   : crypto_identity_verify(r.sign_pk, bytes, n, sig);
	if (!valid) {
		refuse(c, COORD_REFUSE_BAD_SIGNATURE, r.name, from, "signature does not verify");
		reply_error(c, local, from, m, len, 401, "Unauthorized");
		return COORD_ERR_REFUSED;
	}
	if ((code = store_registration(c, now, &r, local, from)) != 0) {
		reply_error(c, local, from, m, len, code, "Full");
		return COORD_ERR_REFUSED;
	}
	reply_register_ok(c, local, from, m);
	return COORD_OK;
}

/* ---- CONNECT ---- */

static uint64_t session_for(struct coord *c, uint64_t now, uint32_t a, uint32_t b)
{
	struct coord_peer *pa = &c->peers[a], *pb = &c->peers[b];
	uint8_t rnd[8];
	uint64_t id = 0;

	for (unsigned k = 0; k < COORD_SESSIONS_PER_PEER; k++) {
		struct coord_session *s = &pa->sessions[k];
		if (s->id != 0 && s->other == b && s->other_gen == pb->gen &&
		    now - s->created_ns < c->cfg.session_reuse_ns)
			return s->id;
	}
	while (id == 0) {
		c->cfg.random.fill(c->cfg.random.ctx, rnd, sizeof(rnd));
		for (int k = 0; k < 8; k++)
			id = (id << 8) | rnd[k];
	}
	/* Bounded per-peer state: a ring of links, the oldest replaced. */
	pa->sessions[pa->next_session++ % COORD_SESSIONS_PER_PEER] =
	    (struct coord_session){id, now, b, pb->gen};
	pb->sessions[pb->next_session++ % COORD_SESSIONS_PER_PEER] =
	    (struct coord_session){id, now, a, pa->gen};
	return id;
}

static bool has_session(const struct coord *c, uint32_t a, uint32_t b, uint64_t id)
{
	const struct coord_peer *pa = &c->peers[a];
	for (unsigned k = 0; k < COORD_SESSIONS_PER_PEER; k++)
		if (pa->sessions[k].id == id && id != 0 && pa->sessions[k].other == b &&
		    pa->sessions[k].other_gen == c->peers[b].gen)
			return true;
	return false;
}

/* INTRODUCE to `to`: everything it needs to reach `other` (docs/protocol.md). */
static void send_introduce(struct coord *c, uint32_t to, uint32_t other, uint64_t session)
{
	const struct coord_peer *pt = &c->peers[to], *po = &c->peers[other];
	struct p2p_datagram *d = dq_push(c, pt->conn);
	struct stun_writer w;
	uint8_t txid[STUN_TXID_SIZE];

	if (d == NULL)
		return;
	c->cfg.random.fill(c->cfg.random.ctx, txid, sizeof(txid));
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_INTRODUCE, STUN_CLASS_INDICATION,
			 txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, po->reg.name);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGN_KEY, po->reg.sign_pk, 32);
	stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, po->reg.box_pk, 32);
	if (po->conn != 0) /* its candidates are TCP ones; absent, UDP (as always) */
		stun_put_raw(&w, STUN_ATTR_NATSIM_TRANSPORT, &po->reg.transport, 1);
	for (size_t k = 0; k < po->reg.n_candidates; k++) {
		const struct p2p_packed_ep *pc = &po->reg.candidates[k];
		struct coord_candidate cand = {p2p_packed_get(&po->addrs6, pc), pc->tag};
		coord_put_candidate(&w, &cand);
	}
	struct coord_candidate srflx = {po->srflx, COORD_CAND_SRFLX};
	coord_put_candidate(&w, &srflx);
	if (po->has_alt) { /* both families' server-reflexive endpoints */
		srflx.ep = po->alt->srflx;
		coord_put_candidate(&w, &srflx);
	}
	if (po->reg.mapping.kind != 0) /* passed on as it came, like the candidates */
		coord_put_mapping(&w, &po->reg.mapping);
	stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, session);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &pt->srflx);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	if (n < 0) {
		dq_unpush(c);
		return;
	}
	d->from = pt->via;
	d->to = pt->srflx;
	d->len = (size_t)n;
}

static int handle_connect(struct coord *c, uint64_t now, const struct p2p_endpoint *local,
			  const struct p2p_endpoint *from, size_t len, const struct stun_msg *m)
{
	char target[COORD_NAME_MAX];
	uint32_t a = find_by_ep(c, from, c->in_conn), b;

	if (m->cls != STUN_CLASS_REQUEST)
		return COORD_ERR_IGNORED;
	if (a == NIL) {
		refuse(c, COORD_REFUSE_NOT_REGISTERED, NULL, from, "CONNECT before REGISTER");
		reply_error(c, local, from, m, len, 403, "Not registered");
		return COORD_ERR_REFUSED;
	}
	touch(c, a, now);
	if (stun_get_string(m, STUN_ATTR_NATSIM_PEER, target, sizeof(target)) != STUN_OK ||
	    (b = find_by_name(c, target)) == NIL || b == a) {
		refuse(c, COORD_REFUSE_UNKNOWN_PEER, c->peers[a].reg.name, from,
		       "asked for a peer that is not registered");
		reply_error(c, local, from, m, len, 404, "Unknown peer");
		return COORD_ERR_REFUSED;
	}
	uint64_t session = session_for(c, now, a, b);
	/* Only the two peers concerned hear of it: never a broadcast. */
	send_introduce(c, a, b, session);
	send_introduce(c, b, a, session);
	struct p2p_datagram *d = dq_push(c, c->in_conn);
	if (d != NULL) {
		struct stun_writer w;
		stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_CONNECT,
				 STUN_CLASS_SUCCESS, m->txid);
		int n = stun_writer_finish(&w);
		d->from = *local;
		d->to = *from;
		d->len = n > 0 ? (size_t)n : 0;
		if (n <= 0)
			dq_unpush(c);
	}
	c->counters.introduced++;
	struct coord_event *e = emit(c, COORD_EV_INTRODUCED, c->peers[a].reg.name, from);
	if (e) {
		snprintf(e->peer, sizeof(e->peer), "%s", target);
		e->session = session;
		snprintf(e->text, sizeof(e->text),
			 "introduced %s and %s to each other (session %016llx)",
			 c->peers[a].reg.name, target, (unsigned long long)session);
	}
	return COORD_OK;
}

/* ---- RELAY ---- */

/* Forward a checked RELAY indication from peer a to peer b, through the
 * address b registered from, with the payload untouched: it is sealed end
 * to end and the coordinator cannot read it. */
static int forward_relay(struct coord *c, uint32_t a, uint32_t b, const struct p2p_endpoint *from,
			 const struct stun_msg *m, uint64_t session, const char *target)
{
	const struct stun_attr *pl = stun_find(m, STUN_ATTR_NATSIM_PAYLOAD);
	struct p2p_datagram *d = dq_push(c, c->peers[b].conn);
	if (d == NULL)
		return COORD_ERR_NOMEM;
	struct stun_writer w;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_RELAY, STUN_CLASS_INDICATION,
			 m->txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, c->peers[a].reg.name);
	stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, session);
	stun_put_raw(&w, STUN_ATTR_NATSIM_PAYLOAD, pl->value, pl->len); /* opaque: sealed */
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	if (n < 0) {
		/* A datagram of any size is read (PADDING makes large ones), but what
		 * we forward must fit P2P_MAX_DATAGRAM: say so rather than vanish. */
		dq_unpush(c);
		refuse(c, COORD_REFUSE_MALFORMED, c->peers[a].reg.name, from,
		       "RELAY payload too large to forward in one datagram");
		return COORD_ERR_REFUSED;
	}
	/* The relay works per family: to b over the family the data came in on
	 * when b registered over it too, else over b's other one (the
	 * coordinator joins an IPv6-only peer to an IPv4-only one). */
	const struct coord_peer *pb = &c->peers[b];
	bool alt = pb->has_alt && pb->alt->srflx.family == from->family;
	d->from = alt ? pb->alt->via : pb->via;
	d->to = alt ? pb->alt->srflx : pb->srflx;
	d->len = (size_t)n;
	c->counters.relayed++;
	c->counters.relayed_bytes += pl->len;
	struct coord_event *e = emit(c, COORD_EV_RELAYED, c->peers[a].reg.name, from);
	if (e) {
		snprintf(e->peer, sizeof(e->peer), "%s", target);
		e->session = session;
		e->bytes = pl->len;
		snprintf(e->text, sizeof(e->text), "relayed %u sealed bytes from %s to %s",
			 (unsigned)pl->len, c->peers[a].reg.name, target);
	}
	return COORD_OK;
}

static int handle_relay(struct coord *c, uint64_t now, const struct p2p_endpoint *from,
			const struct stun_msg *m)
{
	char target[COORD_NAME_MAX];
	uint64_t session;
	const struct stun_attr *pl = stun_find(m, STUN_ATTR_NATSIM_PAYLOAD);
	uint32_t a = find_by_ep(c, from, c->in_conn), b;

	if (a == NIL) {
		refuse(c, COORD_REFUSE_NOT_REGISTERED, NULL, from,
		       "RELAY from an unregistered endpoint");
		return COORD_ERR_REFUSED; /* an indication: no reply at all */
	}
	touch(c, a, now);
	if (c->cfg.disable_relay) {
		refuse(c, COORD_REFUSE_RELAY_OFF, c->peers[a].reg.name, from,
		       "RELAY refused: this coordinator runs without a relay");
		return COORD_ERR_REFUSED;
	}
	if (pl == NULL || stun_get_u64(m, STUN_ATTR_NATSIM_SESSION, &session) != STUN_OK ||
	    stun_get_string(m, STUN_ATTR_NATSIM_PEER, target, sizeof(target)) != STUN_OK) {
		refuse(c, COORD_REFUSE_MALFORMED, c->peers[a].reg.name, from, "RELAY malformed");
		return COORD_ERR_MALFORMED;
	}
	if ((b = find_by_name(c, target)) == NIL) {
		refuse(c, COORD_REFUSE_UNKNOWN_PEER, c->peers[a].reg.name, from,
		       "RELAY to a peer that is not registered");
		return COORD_ERR_REFUSED;
	}
	if (!has_session(c, a, b, session)) {
		refuse(c, COORD_REFUSE_NO_SESSION, c->peers[a].reg.name, from,
		       "RELAY between peers that were not introduced");
		return COORD_ERR_REFUSED;
	}
	return forward_relay(c, a, b, from, m, session, target);
}

/* RELAY request: an agent whose punching failed asks whether we will relay
 * for this session before it says it is relayed (docs/protocol.md). The
 * answer is an empty success, or an error: 403 when we run without a relay
 * or the two were never introduced, 404 for an unknown peer. */
static int handle_relay_request(struct coord *c, uint64_t now, const struct p2p_endpoint *local,
				const struct p2p_endpoint *from, size_t len,
				const struct stun_msg *m)
{
	char target[COORD_NAME_MAX];
	uint64_t session;
	uint32_t a = find_by_ep(c, from, c->in_conn), b = NIL;
	enum coord_refusal why = COORD_REFUSE_NONE;

	if (a == NIL)
		why = COORD_REFUSE_NOT_REGISTERED;
	else if (c->cfg.disable_relay)
		why = COORD_REFUSE_RELAY_OFF;
	else if (stun_get_u64(m, STUN_ATTR_NATSIM_SESSION, &session) != STUN_OK ||
		 stun_get_string(m, STUN_ATTR_NATSIM_PEER, target, sizeof(target)) != STUN_OK ||
		 (b = find_by_name(c, target)) == NIL)
		why = COORD_REFUSE_UNKNOWN_PEER;
	else if (!has_session(c, a, b, session))
		why = COORD_REFUSE_NO_SESSION;
	if (a != NIL)
		touch(c, a, now);
	if (why != COORD_REFUSE_NONE) {
		refuse(c, why, a != NIL ? c->peers[a].reg.name : NULL, from,
		       why == COORD_REFUSE_RELAY_OFF
			   ? "RELAY refused: this coordinator runs without a relay"
			   : "RELAY request refused");
		reply_error(c, local, from, m, len, why == COORD_REFUSE_UNKNOWN_PEER ? 404 : 403,
			    why == COORD_REFUSE_RELAY_OFF ? "Relay off" : "Forbidden");
		return COORD_ERR_REFUSED;
	}
	struct p2p_datagram *d = dq_push(c, c->in_conn);
	if (d == NULL)
		return COORD_ERR_NOMEM;
	struct stun_writer w;
	stun_writer_init(&w, d->buf, sizeof(d->buf), STUN_METHOD_RELAY, STUN_CLASS_SUCCESS,
			 m->txid);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	if (n <= 0) {
		dq_unpush(c);
		return COORD_ERR_MALFORMED;
	}
	d->from = *local;
	d->to = *from;
	d->len = (size_t)n;
	return COORD_OK;
}

/* ---- driver interface ---- */

/* Counts a datagram we do not answer and, while the log budget lasts, says so
 * in an event (reason NULL: count only): a flood is counted in full but logged
 * as a sample. */
static void drop(struct coord *c, uint64_t now, enum coord_event_type type, enum coord_refusal why,
		 const struct p2p_endpoint *from, size_t len, const char *reason)
{
	char ep[P2P_ENDPOINT_STRLEN], more[48] = "";

	c->counters.dropped++;
	if (type == COORD_EV_REFUSED)
		c->counters.refused++;
	if (reason == NULL)
		return; /* a repeat the caller only counts (rate-limited) */
	if (ratelimit_take(c->log_limit, 0, now) != RATELIMIT_PASS) {
		c->unlogged++;
		return;
	}
	struct coord_event *e = emit(c, type, NULL, from);
	if (e == NULL)
		return;
	e->refusal = why;
	if (c->unlogged > 0)
		snprintf(more, sizeof(more), " (and %llu more not logged)",
			 (unsigned long long)c->unlogged);
	c->unlogged = 0;
	snprintf(e->text, sizeof(e->text), "%s a %zu-byte datagram from %s: %s%s",
		 type == COORD_EV_REFUSED ? "refused" : "dropped", len,
		 p2p_endpoint_format(from, ep, sizeof(ep)), reason, more);
}

/* The rate limit's key: an IPv4 address, or an IPv6 source's /64 folded
 * (one host commonly holds a whole /64, RFC 4291 2.5.4 and RFC 7421, and
 * picks any address in it: limiting per address would limit nothing). */
static uint32_t source_key(const struct p2p_endpoint *from)
{
	uint32_t k = from->ip;

	if (p2p_endpoint_is6(from)) {
		k = 2166136261u;
		for (int i = 0; i < 8; i++)
			k = (k ^ from->ip6[i]) * 16777619u;
	}
	return k;
}

static int handle_binding(struct coord *c, uint64_t now, const struct p2p_endpoint *local,
			  const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	uint32_t i = find_by_ep(c, from, c->in_conn);

	if (i != NIL) {
		touch(c, i, now); /* a peer's keepalive to us: registered peers are not limited */
	} else {
		enum ratelimit_verdict v = ratelimit_take(c->binding_limit, source_key(from), now);
		if (v != RATELIMIT_PASS) {
			/* Logged once per episode; later ones only counted. */
			c->counters.rate_limited++;
			drop(c, now, COORD_EV_REFUSED, COORD_REFUSE_RATE_LIMITED, from, len,
			     v == RATELIMIT_REFUSE_FIRST
				 ? "Binding requests from this address are over the rate limit "
				   "(later ones are counted, not logged, until it recovers)"
				 : NULL);
			return COORD_ERR_REFUSED;
		}
	}
	struct p2p_datagram *d = dq_push(c, c->in_conn);
	if (d == NULL)
		return COORD_ERR_NOMEM;
	if (stunsrv_answer(&c->srv, local, from, buf, len, d) != STUNSRV_ANSWERED) {
		dq_unpush(c);
		drop(c, now, COORD_EV_DROPPED, COORD_REFUSE_MALFORMED, from, len,
		     "a malformed Binding request");
		return COORD_ERR_IGNORED;
	}
	c->counters.bindings++;
	return COORD_OK;
}

int coord_input(struct coord *c, uint64_t now_ns, const struct p2p_endpoint *local,
		const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	c->in_conn = 0; /* a datagram */
	return coord_dispatch(c, now_ns, local, from, buf, len);
}

/* One message, from a datagram or a TCP connection (c->in_conn). */
int coord_dispatch(struct coord *c, uint64_t now_ns, const struct p2p_endpoint *local,
		   const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	struct stun_msg m;

	int err = stun_decode(buf, len, true, &m);
	if (err != STUN_OK) {
		drop(c, now_ns, COORD_EV_DROPPED, COORD_REFUSE_MALFORMED, from, len,
		     stun_error_str(err));
		return COORD_ERR_MALFORMED;
	}
	if (m.method == STUN_METHOD_BINDING && m.cls == STUN_CLASS_REQUEST)
		return handle_binding(c, now_ns, local, from, buf, len);
	if (m.classic) {
		/* natsim's own methods always carry the cookie */
		drop(c, now_ns, COORD_EV_DROPPED, COORD_REFUSE_NONE, from, len,
		     "an RFC 3489 message that is not a Binding request");
		return COORD_ERR_IGNORED;
	}
	switch (m.method) {
	case STUN_METHOD_REGISTER:
		return handle_register(c, now_ns, local, from, buf, len, &m);
	case STUN_METHOD_CONNECT:
		return handle_connect(c, now_ns, local, from, len, &m);
	case STUN_METHOD_RELAY:
		if (m.cls == STUN_CLASS_INDICATION)
			return handle_relay(c, now_ns, from, &m);
		if (m.cls == STUN_CLASS_REQUEST)
			return handle_relay_request(c, now_ns, local, from, len, &m);
		break;
	}
	if (m.method == STUN_METHOD_BINDING)
		c->counters.dropped++; /* answers and indications (keepalives): nothing to do */
	else
		drop(c, now_ns, COORD_EV_DROPPED, COORD_REFUSE_NONE, from, len,
		     "not a message the coordinator serves");
	return COORD_ERR_IGNORED;
}

void coord_tick(struct coord *c, uint64_t now_ns)
{
	char ep[P2P_ENDPOINT_STRLEN];

	while (c->lru_head != NIL) {
		uint32_t i = c->lru_head;
		struct coord_peer *p = &c->peers[i];
		if (p->last_seen_ns + c->cfg.peer_timeout_ns > now_ns)
			break;
		struct coord_event *e = emit(c, COORD_EV_EXPIRED, p->reg.name, &p->srflx);
		if (e)
			snprintf(e->text, sizeof(e->text), "%s at %s expired: silent for %llu s",
				 p->reg.name, p2p_endpoint_format(&p->srflx, ep, sizeof(ep)),
				 (unsigned long long)((now_ns - p->last_seen_ns) / P2P_NS_PER_S));
		c->counters.expired++;
		peer_remove(c, i);
	}
}

/* A registration ends for a reason other than silence (coord_tcp.c: its
 * connection closed). */
void coord_forget_peer(struct coord *c, uint32_t i, const char *why)
{
	struct coord_peer *p = &c->peers[i];
	struct coord_event *e = emit(c, COORD_EV_EXPIRED, p->reg.name, &p->srflx);

	if (e)
		snprintf(e->text, sizeof(e->text), "%s expired: %s", p->reg.name, why);
	c->counters.expired++;
	peer_remove(c, i);
}

void coord_drop_event(struct coord *c, uint64_t now, const struct p2p_endpoint *from, size_t len,
		      const char *reason)
{
	drop(c, now, COORD_EV_DROPPED, COORD_REFUSE_MALFORMED, from, len, reason);
}

uint64_t coord_next_deadline(const struct coord *c)
{
	if (c->lru_head == NIL)
		return P2P_NO_DEADLINE;
	return c->peers[c->lru_head].last_seen_ns + c->cfg.peer_timeout_ns;
}

bool coord_pop_datagram(struct coord *c, struct p2p_datagram *out)
{
	const struct p2p_datagram *d = ring_front(&c->dq, sizeof(*d));
	if (d == NULL)
		return false;
	out->from = d->from;
	out->to = d->to;
	out->socket = 0;
	out->len = d->len;
	memcpy(out->buf, d->buf, d->len);
	ring_pop_front(&c->dq, NULL);
	return true;
}

bool coord_pop_event(struct coord *c, struct coord_event *out)
{
	const struct coord_event *e = ring_front(&c->eq, sizeof(*e));
	if (e == NULL)
		return false;
	*out = *e;
	ring_pop_front(&c->eq, NULL);
	return true;
}

const struct coord_counters *coord_counters(const struct coord *c)
{
	return &c->counters;
}

bool coord_lookup(const struct coord *c, const char *name, struct p2p_endpoint *srflx)
{
	uint32_t i = find_by_name(c, name);
	if (i == NIL)
		return false;
	if (srflx)
		*srflx = c->peers[i].srflx;
	return true;
}
