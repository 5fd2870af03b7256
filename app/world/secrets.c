/*
 * secrets.c - shared-secret cache and signature verdicts, with an optional
 * worker thread computing announced pairs and hinted signatures ahead of
 * time. See secrets.h for the contract and the soundness argument; the
 * comments here say why.
 */
#include "app/world/secrets.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_SIZE (2 * CRYPTO_BOX_PK_SIZE)    /* min(pk) || max(pk) */
#define SIG_INDEX_CAP (2 * SECRETS_SIG_JOBS) /* load factor <= 1/2 */
#define SIG_RANGES 64 /* the worker's stack of unseen job numbers (worker_sig_one) */
/* The worker's lead on the caller's planned pairs (worker_pair_one). */
#define PAIR_MIN_LEAD 16
#define PAIR_JUMP 256

_Static_assert((SECRETS_SIG_JOBS & (SECRETS_SIG_JOBS - 1)) == 0, "a power of two");
_Static_assert(SECRETS_SIG_JOBS < UINT16_MAX, "index entries are uint16_t");

/* A planned pair's life: PENDING until someone claims it (compare-exchange),
 * BUSY while the claimer computes, DONE once secret and rc are written. The
 * claimer alone writes them, so DONE (release/acquire) is all the
 * synchronisation there is. */
enum { PAIR_PENDING, PAIR_BUSY, PAIR_DONE };

struct planned {
	const struct crypto_identity *a; /* computed with a's private key */
	uint8_t b_pk[CRYPTO_BOX_PK_SIZE];
	uint8_t secret[CRYPTO_KEY_SIZE]; /* written by the claimer, read after DONE */
	int8_t rc;			 /* likewise */
	uint16_t serves_left;		 /* calling thread only: 2 per announcement */
	atomic_uchar state;
};

/* A signature job's life (one slot of the ring, used again and again):
 *
 *   FREE --hint--> QUEUED --worker CAS--> WORKING --> DONE --verdict used--> FREE
 *                    |                                  |
 *                    +--caller CAS (claims it)--> FREE  +--ring comes round: reused
 *
 * Who writes what, and why there is no data race:
 *  - pk, sig, len, msg, and `indexed`: the simulation thread only, and only
 *    while the slot is neither QUEUED nor WORKING (it is FREE, DONE, or it
 *    just won QUEUED -> FREE). The hint then publishes them with a release
 *    store of QUEUED; the worker reads them only after winning QUEUED ->
 *    WORKING with an acquire compare-exchange, which synchronises with that
 *    store. While the worker holds WORKING the simulation thread may read
 *    them (to compare) but never writes them: a hint finding its slot
 *    WORKING is dropped.
 *  - verdict: the worker, while it holds WORKING, published by a release
 *    store of DONE; the simulation thread reads it after an acquire load of
 *    DONE, and the same acquire orders the worker's reads of the message
 *    before any rewrite of the slot.
 *  - state: compare-exchange decides every race between the two threads
 *    (QUEUED -> WORKING for the worker, QUEUED -> FREE for the simulation);
 *    DONE -> FREE and FREE -> (rewrite) are the simulation thread's alone,
 *    as the worker touches neither FREE nor DONE slots. */
enum { SIG_FREE, SIG_QUEUED, SIG_WORKING, SIG_DONE };

struct sig_job {
	atomic_uchar state;
	bool verdict; /* the worker's, read after DONE */
	bool indexed; /* simulation thread only: sig_index points here */
	uint16_t len;
	uint8_t pk[CRYPTO_SIGN_PK_SIZE];
	uint8_t sig[CRYPTO_SIGNATURE_SIZE];
	uint8_t msg[SECRETS_SIG_MSG_MAX];
};

/* Job numbers [lo, hi) the worker has not looked at yet. */
struct sig_range {
	uint64_t lo, hi;
};

/* An unplanned secret, served once so far. */
struct held {
	uint8_t key[KEY_SIZE];
	uint8_t secret[CRYPTO_KEY_SIZE];
	bool used;
};

struct secrets {
	/* Planned pairs in announcement order, and an open-addressing index of
	 * them (position + 1, 0 empty). Both fixed once the worker starts. */
	struct planned *planned;
	size_t n_planned, cap_planned;
	uint32_t *index;
	size_t index_cap;
	/* Unplanned secrets: open addressing, linear probing, backward-shift
	 * deletion (no tombstones, so a table of short-lived entries stays
	 * short to probe). */
	struct held *held;
	size_t n_held, cap_held;
	/* Signature jobs: job number n lives in slot n % SECRETS_SIG_JOBS.
	 * sig_next (the next job number) and sig_index (open addressing by
	 * signature hash, slot + 1, 0 empty, backward-shift deletion) belong to
	 * the simulation thread; sig_head is sig_next published for the
	 * worker. The worker's own: sig_seen (numbers below it are in sig_todo
	 * or were looked at) and sig_todo, a stack of ranges of numbers not yet
	 * looked at, newest on top (worker_sig_one says why). */
	struct sig_job *sig_jobs;
	uint16_t *sig_index;
	uint64_t sig_next, sig_seen;
	struct sig_range sig_todo[SIG_RANGES];
	size_t n_sig_todo;
	atomic_uint_least64_t sig_head;
	bool started, running;
	pthread_t worker;
	/* The worker sleeps on `wake` when it has nothing to do; `sleeping`
	 * tells the simulation thread to signal it (see worker_idle). */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stop, finish, sleeping;
	/* One more than the highest planned position served so far: the
	 * caller's frontier, and whether the caller ever found the worker in
	 * the middle of the pair it wanted: hints for worker_pair_one. */
	size_t pair_frontier;
	atomic_size_t pair_frontier_hint;
	atomic_bool pair_caught_up;
	atomic_uint_least64_t computed_worker, sig_computed_worker;
	uint64_t lookups, served_stored, computed_caller;
	uint64_t sig_hints, sig_hints_dropped, sig_verifies, sig_served_worker, sig_computed_caller;
};

static void pair_key(const uint8_t x[CRYPTO_BOX_PK_SIZE], const uint8_t y[CRYPTO_BOX_PK_SIZE],
		     uint8_t key[KEY_SIZE])
{
	bool x_first = memcmp(x, y, CRYPTO_BOX_PK_SIZE) <= 0;
	memcpy(key, x_first ? x : y, CRYPTO_BOX_PK_SIZE);
	memcpy(key + CRYPTO_BOX_PK_SIZE, x_first ? y : x, CRYPTO_BOX_PK_SIZE);
}

/* Public keys are uniformly distributed bytes: a word of each, mixed, is
 * enough (equality always compares the whole key). */
static size_t key_hash(const uint8_t key[KEY_SIZE])
{
	uint64_t lo, hi;
	memcpy(&lo, key, sizeof(lo));
	memcpy(&hi, key + CRYPTO_BOX_PK_SIZE, sizeof(hi));
	uint64_t h = lo ^ (hi * 0x9E3779B97F4A7C15ull);
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 29;
	return (size_t)h;
}

/* ---- planned pairs (index built before the worker starts) ---- */

static void planned_key(const struct planned *p, uint8_t key[KEY_SIZE])
{
	pair_key(p->a->box_pk, p->b_pk, key);
}

/* The index slot holding `key`, or the empty slot where it would go. */
static size_t index_slot(const struct secrets *c, const uint8_t key[KEY_SIZE])
{
	size_t mask = c->index_cap - 1;
	uint8_t k[KEY_SIZE];
	for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask) {
		if (c->index[i] == 0)
			return i;
		planned_key(&c->planned[c->index[i] - 1], k);
		if (memcmp(k, key, KEY_SIZE) == 0)
			return i;
	}
}

static int index_grow(struct secrets *c)
{
	size_t ncap = c->index_cap ? 2 * c->index_cap : 64;
	uint32_t *ni = calloc(ncap, sizeof(*ni));
	if (ni == NULL)
		return SECRETS_ERR_NOMEM;
	free(c->index);
	c->index = ni;
	c->index_cap = ncap;
	uint8_t k[KEY_SIZE];
	for (size_t p = 0; p < c->n_planned; p++) {
		planned_key(&c->planned[p], k);
		c->index[index_slot(c, k)] = (uint32_t)(p + 1);
	}
	return SECRETS_OK;
}

static struct planned *planned_find(const struct secrets *c, const uint8_t key[KEY_SIZE])
{
	if (c->index_cap == 0)
		return NULL;
	uint32_t at = c->index[index_slot(c, key)];
	return at ? &c->planned[at - 1] : NULL;
}

int secrets_expect(struct secrets *c, const struct crypto_identity *a,
		   const uint8_t b_box_pk[CRYPTO_BOX_PK_SIZE])
{
	uint8_t key[KEY_SIZE];

	if (c->started)
		return SECRETS_ERR_STARTED;
	pair_key(a->box_pk, b_box_pk, key);
	struct planned *p = planned_find(c, key);
	if (p != NULL) {
		p->serves_left = p->serves_left <= UINT16_MAX - 2 ? p->serves_left + 2 : UINT16_MAX;
		return SECRETS_OK;
	}
	if (c->n_planned >= UINT32_MAX - 1)
		return SECRETS_ERR_NOMEM;
	if (2 * (c->n_planned + 1) > c->index_cap && index_grow(c) < 0)
		return SECRETS_ERR_NOMEM;
	if (c->n_planned == c->cap_planned) {
		size_t ncap = c->cap_planned ? 2 * c->cap_planned : 64;
		/* No thread exists yet: moving the atomics with realloc is safe. */
		struct planned *np = realloc(c->planned, ncap * sizeof(*np));
		if (np == NULL)
			return SECRETS_ERR_NOMEM;
		c->planned = np;
		c->cap_planned = ncap;
	}
	p = &c->planned[c->n_planned];
	memset(p, 0, sizeof(*p));
	p->a = a;
	memcpy(p->b_pk, b_box_pk, CRYPTO_BOX_PK_SIZE);
	p->serves_left = 2;
	atomic_init(&p->state, PAIR_PENDING);
	c->index[index_slot(c, key)] = (uint32_t)(++c->n_planned);
	return SECRETS_OK;
}

/* One serve of a planned pair. The caller never waits: it takes the worker's
 * result, or claims the pair and computes it, or, when the worker is in the
 * middle of this very pair, computes a private copy. The bytes are the same
 * in all three cases (secrets.h); only the counters differ. */
static int planned_serve(struct secrets *c, struct planned *p, const struct crypto_identity *me,
			 const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
			 uint8_t out[CRYPTO_KEY_SIZE])
{
	unsigned char st = atomic_load_explicit(&p->state, memory_order_acquire);
	size_t at = (size_t)(p - c->planned);

	if (at >= c->pair_frontier) {
		c->pair_frontier = at + 1;
		atomic_store_explicit(&c->pair_frontier_hint, at + 1, memory_order_relaxed);
	}
	if (st == PAIR_PENDING &&
	    atomic_compare_exchange_strong_explicit(&p->state, &st, PAIR_BUSY, memory_order_acquire,
						    memory_order_acquire)) {
		p->rc = (int8_t)crypto_shared_secret(me, peer_box_pk, p->secret);
		c->computed_caller++;
		atomic_store_explicit(&p->state, PAIR_DONE, memory_order_release);
		memcpy(out, p->secret, CRYPTO_KEY_SIZE);
		return p->rc;
	}
	if (st == PAIR_DONE) {
		c->served_stored++;
		memcpy(out, p->secret, CRYPTO_KEY_SIZE);
		return p->rc;
	}
	/* BUSY: the worker is on it right now. */
	atomic_store_explicit(&c->pair_caught_up, true, memory_order_relaxed);
	c->computed_caller++;
	return crypto_shared_secret(me, peer_box_pk, out);
}

/* ---- unplanned secrets ---- */

static size_t held_slot(const struct secrets *c, const uint8_t key[KEY_SIZE])
{
	size_t mask = c->cap_held - 1;
	for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask)
		if (!c->held[i].used || memcmp(c->held[i].key, key, KEY_SIZE) == 0)
			return i;
}

static int held_grow(struct secrets *c)
{
	size_t ncap = c->cap_held ? 2 * c->cap_held : 16;
	struct held *nh = calloc(ncap, sizeof(*nh)), *old = c->held;
	size_t ocap = c->cap_held;
	if (nh == NULL)
		return SECRETS_ERR_NOMEM;
	c->held = nh;
	c->cap_held = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			c->held[held_slot(c, old[i].key)] = old[i];
	free(old);
	return SECRETS_OK;
}

/* Backward-shift deletion: pull later entries of the probe run into the
 * hole when their home slot allows it, so lookups never need tombstones. */
static void held_remove(struct secrets *c, size_t hole)
{
	size_t mask = c->cap_held - 1;
	for (size_t j = (hole + 1) & mask; c->held[j].used; j = (j + 1) & mask) {
		size_t home = key_hash(c->held[j].key) & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			c->held[hole] = c->held[j];
			hole = j;
		}
	}
	c->held[hole].used = false;
	c->n_held--;
}

static int held_serve(struct secrets *c, const uint8_t key[KEY_SIZE],
		      const struct crypto_identity *me,
		      const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE], uint8_t out[CRYPTO_KEY_SIZE])
{
	if (c->n_held > 0) {
		size_t i = held_slot(c, key);
		if (c->held[i].used) {
			/* The second serve: both sides had it, let it go. */
			memcpy(out, c->held[i].secret, CRYPTO_KEY_SIZE);
			held_remove(c, i);
			c->served_stored++;
			return CRYPTO_OK;
		}
	}
	int rc = crypto_shared_secret(me, peer_box_pk, out);
	c->computed_caller++;
	if (rc != CRYPTO_OK)
		return rc; /* a refusal is never kept */
	if (2 * (c->n_held + 1) > c->cap_held && held_grow(c) < 0)
		return rc; /* keeping it is only an optimisation */
	struct held *h = &c->held[held_slot(c, key)];
	memcpy(h->key, key, KEY_SIZE);
	memcpy(h->secret, out, CRYPTO_KEY_SIZE);
	h->used = true;
	c->n_held++;
	return rc;
}

/* ---- signature jobs ---- */

/* A signature is uniformly distributed bytes (R is a point derived from a
 * hash): a word of it, mixed, is enough; equality compares everything. */
static size_t sig_hash(const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	uint64_t h;
	memcpy(&h, sig, sizeof(h));
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDull;
	h ^= h >> 29;
	return (size_t)h;
}

static bool job_is(const struct sig_job *j, const uint8_t pk[CRYPTO_SIGN_PK_SIZE],
		   const uint8_t *msg, size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	return j->len == len && memcmp(j->sig, sig, CRYPTO_SIGNATURE_SIZE) == 0 &&
	       memcmp(j->pk, pk, CRYPTO_SIGN_PK_SIZE) == 0 && memcmp(j->msg, msg, len) == 0;
}

/* The index position of the job for exactly these bytes, or SIZE_MAX. */
static size_t sig_find(const struct secrets *c, const uint8_t pk[CRYPTO_SIGN_PK_SIZE],
		       const uint8_t *msg, size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	const size_t mask = SIG_INDEX_CAP - 1;
	for (size_t i = sig_hash(sig) & mask; c->sig_index[i] != 0; i = (i + 1) & mask)
		if (job_is(&c->sig_jobs[c->sig_index[i] - 1], pk, msg, len, sig))
			return i;
	return SIZE_MAX;
}

static void sig_index_add(struct secrets *c, size_t slot)
{
	const size_t mask = SIG_INDEX_CAP - 1;
	size_t i = sig_hash(c->sig_jobs[slot].sig) & mask;
	while (c->sig_index[i] != 0)
		i = (i + 1) & mask;
	c->sig_index[i] = (uint16_t)(slot + 1);
	c->sig_jobs[slot].indexed = true;
}

/* Backward-shift deletion, as held_remove. */
static void sig_index_remove_at(struct secrets *c, size_t hole)
{
	const size_t mask = SIG_INDEX_CAP - 1;
	c->sig_jobs[c->sig_index[hole] - 1].indexed = false;
	for (size_t j = (hole + 1) & mask; c->sig_index[j] != 0; j = (j + 1) & mask) {
		size_t home = sig_hash(c->sig_jobs[c->sig_index[j] - 1].sig) & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			c->sig_index[hole] = c->sig_index[j];
			hole = j;
		}
	}
	c->sig_index[hole] = 0;
}

static void sig_index_remove(struct secrets *c, size_t slot)
{
	const size_t mask = SIG_INDEX_CAP - 1;
	size_t i = sig_hash(c->sig_jobs[slot].sig) & mask;
	while (c->sig_index[i] != slot + 1)
		i = (i + 1) & mask;
	sig_index_remove_at(c, i);
}

/* Makes `slot` the simulation thread's to rewrite: false if the worker is in
 * the middle of it. A job still QUEUED is taken back (the compare-exchange
 * keeps the worker off it), a DONE one nobody asked for is forgotten. */
static bool sig_reclaim(struct secrets *c, size_t slot)
{
	struct sig_job *j = &c->sig_jobs[slot];
	unsigned char st = atomic_load_explicit(&j->state, memory_order_acquire);

	if (st == SIG_QUEUED &&
	    atomic_compare_exchange_strong_explicit(&j->state, &st, SIG_FREE, memory_order_acquire,
						    memory_order_acquire))
		st = SIG_FREE;
	if (st == SIG_WORKING)
		return false;
	/* FREE or DONE (the acquire above ordered the worker's reads of the
	 * old message before our writes). */
	if (j->indexed)
		sig_index_remove(c, slot);
	return true;
}

static void wake_worker(struct secrets *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

void secrets_expect_signature(struct secrets *c, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
			      const uint8_t *msg, size_t len,
			      const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	size_t slot = (size_t)(c->sig_next & (SECRETS_SIG_JOBS - 1));

	c->sig_hints++;
	if (len > SECRETS_SIG_MSG_MAX || sig_find(c, sign_pk, msg, len, sig) != SIZE_MAX ||
	    !sig_reclaim(c, slot)) {
		c->sig_hints_dropped++; /* the next hint tries the same slot */
		return;
	}
	struct sig_job *j = &c->sig_jobs[slot];
	memcpy(j->pk, sign_pk, CRYPTO_SIGN_PK_SIZE);
	memcpy(j->sig, sig, CRYPTO_SIGNATURE_SIZE);
	memcpy(j->msg, msg, len);
	j->len = (uint16_t)len;
	sig_index_add(c, slot);
	atomic_store_explicit(&j->state, SIG_QUEUED, memory_order_release);
	/* sequentially consistent, with the load of `sleeping` after it: see
	 * worker_idle for the other half. */
	atomic_store(&c->sig_head, ++c->sig_next);
	if (atomic_load(&c->sleeping))
		wake_worker(c);
}

bool secrets_verify(struct secrets *c, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
		    const uint8_t *msg, size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	size_t at = len <= SECRETS_SIG_MSG_MAX ? sig_find(c, sign_pk, msg, len, sig) : SIZE_MAX;

	c->sig_verifies++;
	if (at != SIZE_MAX) {
		struct sig_job *j = &c->sig_jobs[c->sig_index[at] - 1];
		sig_index_remove_at(c, at); /* its verdict is used now, one way or another */
		unsigned char st = atomic_load_explicit(&j->state, memory_order_acquire);
		if (st == SIG_QUEUED &&
		    atomic_compare_exchange_strong_explicit(
			&j->state, &st, SIG_FREE, memory_order_acquire, memory_order_acquire)) {
			/* Claimed: the worker will skip it; computed below. */
		} else if (st == SIG_DONE) {
			bool verdict = j->verdict;
			atomic_store_explicit(&j->state, SIG_FREE, memory_order_relaxed);
			c->sig_served_worker++;
			return verdict;
		}
		/* WORKING: the worker's copy will go unused (the slot is DONE,
		 * unindexed, when the ring comes round). */
	}
	c->sig_computed_caller++;
	return crypto_identity_verify(sign_pk, msg, len, sig);
}

/* ---- the worker ---- */

/* Verifies the newest queued job; false if there was none.
 *
 * Why newest first: the coordinator asks for verdicts in about the order the
 * agents signed, a fixed delay after each, and claims (or, if the worker is
 * in the middle of it, recomputes) any job not finished by then. Oldest
 * first, a worker that falls behind during a burst of registrations ends up
 * working on exactly the job asked for next, every time: both threads
 * compute it. Newest first, it works where it has the most time, and leaves
 * the oldest to the simulation thread, which claims them without waste.
 *
 * New numbers are pushed as one range on top of sig_todo (merged with the
 * top range if that was not started), and taken from the top range's upper
 * end, so every number is looked at once. Numbers more than a ring behind
 * the head were overwritten: the ranges under them are dropped, and so is
 * the bottom range when the stack is full (oldest: least likely to be
 * finished in time anyway). A slot rewritten since its number came up may
 * hold a newer job: verifying that one early is just as right. */
static bool worker_sig_one(struct secrets *c)
{
	uint64_t head = atomic_load_explicit(&c->sig_head, memory_order_acquire);
	struct sig_range *todo = c->sig_todo;

	if (head > c->sig_seen) {
		if (c->n_sig_todo > 0 && todo[c->n_sig_todo - 1].hi == c->sig_seen) {
			todo[c->n_sig_todo - 1].hi = head;
		} else {
			if (c->n_sig_todo == SIG_RANGES)
				memmove(todo, todo + 1, --c->n_sig_todo * sizeof(*todo));
			todo[c->n_sig_todo++] = (struct sig_range){c->sig_seen, head};
		}
		c->sig_seen = head;
	}
	while (c->n_sig_todo > 0) {
		struct sig_range *r = &todo[c->n_sig_todo - 1];
		uint64_t n = --r->hi;
		if (r->hi == r->lo)
			c->n_sig_todo--;
		if (head - n > SECRETS_SIG_JOBS) {
			c->n_sig_todo = 0; /* this one and all below: overwritten */
			break;
		}
		struct sig_job *j = &c->sig_jobs[n & (SECRETS_SIG_JOBS - 1)];
		unsigned char st = SIG_QUEUED;
		if (!atomic_compare_exchange_strong_explicit(
			&j->state, &st, SIG_WORKING, memory_order_acquire, memory_order_relaxed))
			continue; /* claimed by the caller, or not a job */
		j->verdict = crypto_identity_verify(j->pk, j->msg, j->len, j->sig);
		atomic_store_explicit(&j->state, SIG_DONE, memory_order_release);
		atomic_fetch_add_explicit(&c->sig_computed_worker, 1, memory_order_relaxed);
		return true;
	}
	return false;
}

/* Computes planned pair *next if the caller has not claimed it; false once
 * every pair has been through.
 *
 * A worker that falls behind the caller (the signatures come first) would,
 * in announcement order, start each pair just as the caller asks for it, and
 * both would compute it, again and again. So once the caller has found the
 * worker in the middle of the pair it wanted, the worker keeps at least
 * PAIR_MIN_LEAD pairs ahead of the caller's frontier, jumping PAIR_JUMP
 * ahead of it when it comes closer and leaving the pairs in between to the
 * caller: when the caller is faster, computing some of them itself is
 * unavoidable, computing them twice is not. Both hints are relaxed: a stale
 * value only moves a jump. Pairs looked up roughly in announcement order (as
 * secrets_expect asks) gain; others lose only speed. */
static bool worker_pair_one(struct secrets *c, size_t *next)
{
	if (atomic_load_explicit(&c->pair_caught_up, memory_order_relaxed)) {
		size_t frontier =
		    atomic_load_explicit(&c->pair_frontier_hint, memory_order_relaxed);
		if (*next < frontier + PAIR_MIN_LEAD)
			*next = frontier + PAIR_JUMP;
	}
	/* n_planned and every entry's a, b_pk were written before
	 * pthread_create, which orders them before this thread. */
	if (*next >= c->n_planned)
		return false;
	struct planned *p = &c->planned[(*next)++];
	unsigned char st = PAIR_PENDING;
	if (!atomic_compare_exchange_strong_explicit(&p->state, &st, PAIR_BUSY,
						     memory_order_relaxed, memory_order_relaxed))
		return true; /* the caller claimed it first */
	p->rc = (int8_t)crypto_shared_secret(p->a, p->b_pk, p->secret);
	atomic_store_explicit(&p->state, PAIR_DONE, memory_order_release);
	atomic_fetch_add_explicit(&c->computed_worker, 1, memory_order_relaxed);
	return true;
}

static bool worker_has_news(struct secrets *c)
{
	return atomic_load(&c->stop) || atomic_load(&c->finish) ||
	       atomic_load(&c->sig_head) != c->sig_seen;
}

/* Sleeps until a hint, secrets_wait or secrets_free. The lost-wakeup
 * argument: the worker stores sleeping = true then loads sig_head; a hint
 * stores sig_head then loads sleeping; all four sequentially consistent, so
 * at least one of the two sees the other's store. If the worker sees the new
 * head it does not sleep; else the hint sees `sleeping` and signals under
 * the mutex, and the worker re-checks under that same mutex before each
 * wait: either it checks after the signaller unlocked (and sees the head the
 * signaller stored before locking) or it is already waiting and is woken.
 * stop and finish are set, then signalled, the same way. */
static void worker_idle(struct secrets *c)
{
	atomic_store(&c->sleeping, true);
	if (!worker_has_news(c)) {
		pthread_mutex_lock(&c->lock);
		while (!worker_has_news(c))
			pthread_cond_wait(&c->wake, &c->lock);
		pthread_mutex_unlock(&c->lock);
	}
	atomic_store(&c->sleeping, false);
}

/* Signatures first (the coordinator wants them within milliseconds of
 * virtual time), pairs in between, sleep when there is neither. */
static void *worker_main(void *arg)
{
	struct secrets *c = arg;
	size_t next_pair = 0;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		/* Read before looking for work: once finish is seen, every
		 * hint made before secrets_wait is visible below. */
		bool finishing = atomic_load(&c->finish);
		if (worker_sig_one(c) || worker_pair_one(c, &next_pair))
			continue;
		if (finishing)
			break;
		worker_idle(c);
	}
	return NULL;
}

int secrets_start(struct secrets *c)
{
	if (c->started)
		return SECRETS_OK;
	c->started = true;
	/* sodium_init picks its implementations: do it here, not in two
	 * threads at once. */
	if (crypto_init() < 0)
		return SECRETS_ERR_THREAD;
	/* The worker starts at the oldest job that can be queued. */
	c->sig_seen = c->sig_next > SECRETS_SIG_JOBS ? c->sig_next - SECRETS_SIG_JOBS : 0;
	if (pthread_create(&c->worker, NULL, worker_main, c) != 0)
		return SECRETS_ERR_THREAD;
	c->running = true;
	return SECRETS_OK;
}

/* Sets `flag` and wakes the worker if it sleeps (worker_idle). */
static void tell_worker(struct secrets *c, atomic_bool *flag)
{
	atomic_store(flag, true);
	wake_worker(c);
}

void secrets_wait(struct secrets *c)
{
	if (!c->running)
		return;
	tell_worker(c, &c->finish);
	pthread_join(c->worker, NULL);
	c->running = false;
}

/* ---- the whole ---- */

int secrets_lookup(struct secrets *c, const struct crypto_identity *me,
		   const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE], uint8_t out[CRYPTO_KEY_SIZE])
{
	uint8_t key[KEY_SIZE];

	c->lookups++;
	pair_key(me->box_pk, peer_box_pk, key);
	struct planned *p = planned_find(c, key);
	if (p != NULL && p->serves_left > 0) {
		p->serves_left--;
		return planned_serve(c, p, me, peer_box_pk, out);
	}
	return held_serve(c, key, me, peer_box_pk, out);
}

struct secrets *secrets_new(void)
{
	struct secrets *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	bool have_lock = pthread_mutex_init(&c->lock, NULL) == 0;
	bool have_wake = have_lock && pthread_cond_init(&c->wake, NULL) == 0;
	c->sig_jobs = malloc(SECRETS_SIG_JOBS * sizeof(*c->sig_jobs));
	c->sig_index = calloc(SIG_INDEX_CAP, sizeof(*c->sig_index));
	if (!have_wake || c->sig_jobs == NULL || c->sig_index == NULL)
		goto fail;
	for (size_t i = 0; i < SECRETS_SIG_JOBS; i++) {
		atomic_init(&c->sig_jobs[i].state, SIG_FREE);
		c->sig_jobs[i].indexed = false;
	}
	atomic_init(&c->sig_head, 0);
	atomic_init(&c->stop, false);
	atomic_init(&c->finish, false);
	atomic_init(&c->sleeping, false);
	atomic_init(&c->pair_frontier_hint, 0);
	atomic_init(&c->pair_caught_up, false);
	atomic_init(&c->computed_worker, 0);
	atomic_init(&c->sig_computed_worker, 0);
	return c;
fail:
	if (have_wake)
		pthread_cond_destroy(&c->wake);
	if (have_lock)
		pthread_mutex_destroy(&c->lock);
	free(c->sig_jobs);
	free(c->sig_index);
	free(c);
	return NULL;
}

void secrets_free(struct secrets *c)
{
	if (c == NULL)
		return;
	if (c->running) {
		tell_worker(c, &c->stop);
		pthread_join(c->worker, NULL);
		c->running = false;
	}
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->sig_jobs);
	free(c->sig_index);
	free(c->planned);
	free(c->index);
	free(c->held);
	free(c);
}

void secrets_get_stats(const struct secrets *c, struct secrets_stats *out)
{
	*out = (struct secrets_stats){
	    .lookups = c->lookups,
	    .served_stored = c->served_stored,
	    .computed_caller = c->computed_caller,
	    .computed_worker = atomic_load_explicit(&c->computed_worker, memory_order_relaxed),
	    .planned = c->n_planned,
	    .held = c->n_held,
	    .sig_hints = c->sig_hints,
	    .sig_hints_dropped = c->sig_hints_dropped,
	    .sig_verifies = c->sig_verifies,
	    .sig_served_worker = c->sig_served_worker,
	    .sig_computed_caller = c->sig_computed_caller,
	    .sig_computed_worker =
		atomic_load_explicit(&c->sig_computed_worker, memory_order_relaxed),
	};
}
