/*
 * agent_speed.c - the agent's optional speed layer (see agent_speed.h).
 * Left out of a build with -DNATSIM_AGENT_SPEED=OFF.
 */
#include "agent_speed.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"

struct agent_spares *agent_spares_new(void)
{
	return calloc(1, sizeof(struct agent_spares));
}

void agent_spares_free(struct agent_spares *s)
{
	if (s == NULL)
		return;
	free(s->datagrams.items);
	free(s->events.items);
	free(s);
}

/* ---- the summary of the peers' timers (agent_speed.h, summarize_deadlines) ----
 *
 * For each peer slot, what walking the peer would find: its next deadline
 * (`due`, peer_deadline in agent.c), which agent_next_deadline() must give
 * exactly (a timer set earlier would be an extra event), and before which
 * agent_tick() has nothing to do for it, except for the peers in `early`
 * (tick_before_due, below); and whether it has a pair waiting for its
 * paced first check (`waiting`, first_waiting in agent_checks.c). A slot
 * the agent said it changed (agent_state.h, peer_changed), or one a tick
 * visited, is `stale` until it is redone from its peer, at the next
 * agent_next_deadline() or agent_tick(): the peer is then still in cache.
 * Slots at and after `known` are peers added since (add_peer), stale too.
 * The head and the first seven deadlines share a cache line. */

#define ALL_SLOTS ((1u << AGENT_MAX_PEERS) - 1)
#define CACHE_LINE 64
_Static_assert(AGENT_MAX_PEERS <= 16, "a slot is a bit of a uint16_t");

struct agent_deadlines {
	uint16_t stale;	  /* slots to redo from their peer */
	uint16_t waiting; /* slots with a pair waiting for its paced check */
	uint16_t early;	  /* slots agent_tick() visits even before `due` */
	uint8_t known;	  /* slots [0, known) were summarized once */
	uint64_t due[AGENT_MAX_PEERS];
	/* The lookups' index (below): a tag of each peer's name, and a filter
	 * of the IDs of its check transactions, 8 peers to a line. */
	uint16_t name_tag[AGENT_MAX_PEERS];
	_Alignas(CACHE_LINE) uint64_t txn_filter[AGENT_MAX_PEERS];
};
_Static_assert(offsetof(struct agent_deadlines, due) == 8, "the head and 7 deadlines: a line");
_Static_assert(offsetof(struct agent_deadlines, txn_filter) % CACHE_LINE == 0,
	       "the first 8 peers' filters: a line");

struct agent_deadlines *deadlines_new(void)
{
	size_t size = (sizeof(struct agent_deadlines) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	struct agent_deadlines *s = aligned_alloc(CACHE_LINE, size);

	if (s != NULL)
		memset(s, 0, sizeof(*s));
	return s;
}

/* Whether agent_tick()'s tick_peer (agent.c) may act on p before
 * peer_deadline() says, so that the tick must not skip it: a relayed peer
 * with no pairs has no deadline, but its background timer moves on at each
 * tick; a punching peer asking for the relay fails at the first tick once
 * the registration is lost (registration_lost changes every peer). */
static bool tick_before_due(const struct agent *a, const struct agent_peer *p)
{
	return (p->state == AGENT_PEER_RELAYED && p->n_pairs == 0) ||
	       (p->state == AGENT_PEER_PUNCHING && p->relay_retry_ns != 0 && !a->registered);
}

static uint64_t min64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

static uint16_t bit(size_t i)
{
	return (uint16_t)(1u << i);
}

/* Slots to redo: those marked, and peers added since the last settle. */
static uint16_t stale_slots(const struct agent *a, const struct agent_deadlines *s)
{
	uint32_t in_use = (1u << a->n_peers) - 1, added = in_use & ~((1u << s->known) - 1);
	return (uint16_t)((s->stale | added) & in_use);
}

static uint16_t with_bit(uint16_t mask, size_t i, bool on)
{
	return (uint16_t)(on ? mask | bit(i) : mask & ~bit(i));
}

static void redo(const struct agent *a, struct agent_deadlines *s, size_t i)
{
	const struct agent_peer *p = a->peers[i];

	s->due[i] = peer_deadline(a, p);
	s->waiting = with_bit(s->waiting, i, first_waiting(p) >= 0);
	s->early = with_bit(s->early, i, tick_before_due(a, p));
}

static void settle(const struct agent *a, struct agent_deadlines *s)
{
	for (uint32_t st = stale_slots(a, s); st != 0; st &= st - 1)
		redo(a, s, (size_t)__builtin_ctz(st));
	s->stale = 0;
	s->known = (uint8_t)a->n_peers;
}

void deadlines_changed(const struct agent *a, const struct agent_peer *p)
{
	struct agent_deadlines *s = a->deadlines;

	if (p == NULL) {
		s->stale = ALL_SLOTS;
		return;
	}
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i] == p)
			s->stale |= bit(i);
}

/* Whether the slots not stale say what their peers say. */
static bool slots_agree(const struct agent *a, const struct agent_deadlines *s)
{
	uint16_t stale = stale_slots(a, s);

	for (size_t i = 0; i < a->n_peers; i++) {
		const struct agent_peer *p = a->peers[i];
		if (stale & bit(i))
			continue;
		if (s->due[i] != peer_deadline(a, p) ||
		    ((s->waiting & bit(i)) != 0) != (first_waiting(p) >= 0) ||
		    ((s->early & bit(i)) != 0) != tick_before_due(a, p))
			return false;
	}
	return true;
}

/* The peers' part of agent_next_deadline() from the summary, the stale
 * slots read from their peers. */
static uint64_t summary_deadline(const struct agent *a, const struct agent_deadlines *s)
{
	uint16_t stale = stale_slots(a, s), waiting = s->waiting & ~stale;
	uint64_t t = P2P_NO_DEADLINE;

	for (size_t i = 0; i < a->n_peers; i++) {
		bool redo = (stale & bit(i)) != 0;
		t = min64(t, redo ? peer_deadline(a, a->peers[i]) : s->due[i]);
		if (redo && first_waiting(a->peers[i]) >= 0)
			waiting |= bit(i);
	}
	return t > a->pace_ns && waiting != 0 ? a->pace_ns : t;
}

static bool lookups_agree(const struct agent *a, const struct agent_deadlines *s);

bool agent_deadlines_agree(const struct agent *a)
{
	const struct agent_deadlines *s = a->deadlines;

	return s == NULL ||
	       (slots_agree(a, s) && summary_deadline(a, s) == peers_deadline(a, P2P_NO_DEADLINE) &&
		lookups_agree(a, s));
}

uint64_t deadlines_next(const struct agent *a, uint64_t t)
{
	struct agent_deadlines *s = a->deadlines;
	uint64_t own = t;

	assert(agent_deadlines_agree(a));
	settle(a, s);
	for (size_t i = 0; i < a->n_peers; i++)
		t = min64(t, s->due[i]);
	if (t > a->pace_ns && s->waiting != 0)
		t = a->pace_ns;
	assert(t == peers_deadline(a, own));
	(void)own;
	return t;
}

/* The tick visits every stale slot (its summary is not known), and marks
 * what it visits stale (it may change it). */
bool deadlines_may_be_due(const struct agent *a, size_t slot, uint64_t now)
{
	struct agent_deadlines *s = a->deadlines;

	assert(slot > 0 || agent_deadlines_agree(a));
	if (!((stale_slots(a, s) | s->early) & bit(slot)) && s->due[slot] > now)
		return false;
	s->stale |= bit(slot);
	return true;
}

bool deadlines_may_wait(const struct agent *a, size_t slot)
{
	const struct agent_deadlines *s = a->deadlines;

	return ((stale_slots(a, s) | s->waiting) & bit(slot)) != 0;
}

/* ---- the lookups' index: which peer a name or a check's answer is for ----
 *
 * find_peer (agent.c) compares a name with every peer's, and find_txn
 * (agent_checks.c) an answer's transaction ID with every peer's checks in
 * flight: with thousands of agents of 8 peers, those peers are cold, and
 * these walks were the last-level cache misses the timers' summary left
 * (bench/README.md, "Issue 13"). Here each slot keeps a 16-bit tag of its
 * peer's name (set once: add_peer, peer_added) and a 64-bit Bloom filter
 * of the IDs of the peer's transactions that may still be answered (redone
 * from the peer's ring whenever send_check makes one: txn_made), so that a
 * lookup reads one or two lines of the summary and then only the peers
 * that may match. A filter never leaves out an ID its peer could match
 * (a ring slot is used again only by send_check, and an answered or reset
 * one only drops out), so the lookups find exactly what the walks find,
 * in the same slot order; a false match costs one peer's visit. */

static uint16_t name_tag(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)name; *c != 0; c++)
		h = (h ^ *c) * 16777619u;
	return (uint16_t)(h ^ (h >> 16));
}

/* Three bits of 64 for a transaction ID (random: 96 bits from the agent's
 * random source), mixed all the same so that no test source's pattern
 * makes every filter collide. */
static uint64_t txid_bits(const uint8_t txid[STUN_TXID_SIZE])
{
	uint64_t lo, h;
	uint32_t hi;

	memcpy(&lo, txid, sizeof(lo));
	memcpy(&hi, txid + sizeof(lo), sizeof(hi));
	h = (lo ^ ((uint64_t)hi << 29)) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 31;
	return (1ull << (h >> 58)) | (1ull << ((h >> 52) & 63)) | (1ull << ((h >> 46) & 63));
}

/* The IDs of p's transactions that find_txn may still match. */
static uint64_t txn_filter(const struct agent_peer *p)
{
	uint64_t f = 0;

	for (size_t j = 0; j < CHECK_TXNS; j++)
		if (p->txns[j].pair >= 0)
			f |= txid_bits(p->txns[j].txid);
	return f;
}

void deadlines_peer_added(const struct agent *a, size_t slot)
{
	struct agent_deadlines *s = a->deadlines;

	s->name_tag[slot] = name_tag(a->peers[slot]->name);
	s->txn_filter[slot] = txn_filter(a->peers[slot]);
}

void deadlines_txn_made(const struct agent *a, const struct agent_peer *p)
{
	struct agent_deadlines *s = a->deadlines;

	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i] == p)
			s->txn_filter[i] = txn_filter(p);
}

/* Whether each peer's tag is its name's, and its filter holds every ID
 * find_txn could match. */
static bool lookups_agree(const struct agent *a, const struct agent_deadlines *s)
{
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct agent_peer *p = a->peers[i];
		uint64_t f = txn_filter(p);
		if (s->name_tag[i] != name_tag(p->name) || (f & ~s->txn_filter[i]) != 0)
			return false;
	}
	return true;
}

struct agent_peer *deadlines_find_peer(const struct agent *a, const char *name)
{
	const struct agent_deadlines *s = a->deadlines;
	uint16_t tag = name_tag(name);

	assert(lookups_agree(a, s));
	for (size_t i = 0; i < a->n_peers; i++)
		if (s->name_tag[i] == tag && strcmp(a->peers[i]->name, name) == 0)
			return a->peers[i];
	return NULL;
}

struct agent_txn *deadlines_find_txn(const struct agent *a, const uint8_t txid[STUN_TXID_SIZE],
				     struct agent_peer **peer)
{
	const struct agent_deadlines *s = a->deadlines;
	uint64_t bits = txid_bits(txid);

	assert(lookups_agree(a, s));
	for (size_t i = 0; i < a->n_peers; i++) {
		struct agent_txn *t;
		if ((s->txn_filter[i] & bits) == bits &&
		    (t = peer_txn(a->peers[i], txid)) != NULL) {
			*peer = a->peers[i];
			return t;
		}
	}
	return NULL;
}
