/*
 * secrets.c - shared-secret cache with an optional worker thread computing
 * announced pairs ahead of time. See secrets.h for the contract and the
 * soundness argument; the comments here say why.
 */
#include "app/secrets.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_SIZE (2 * CRYPTO_BOX_PK_SIZE) /* min(pk) || max(pk) */

/* A planned pair's life: PENDING until someone claims it (compare-exchange),
 * BUSY while the claimer computes, DONE once secret and rc are written. The
 * claimer alone writes them, so DONE (release/acquire) is all the
 * synchronisation there is. */
enum { PAIR_PENDING, PAIR_BUSY, PAIR_DONE };

struct planned {
	const struct crypto_identity *a; /* computed with a's private key */
	uint8_t b_pk[CRYPTO_BOX_PK_SIZE];
	uint8_t secret[CRYPTO_KEY_SIZE]; /* written by the claimer, read after DONE */
	int8_t rc;                       /* likewise */
	uint16_t serves_left;            /* calling thread only: 2 per announcement */
	atomic_uchar state;
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
	bool started, running;
	pthread_t worker;
	atomic_bool stop;
	atomic_uint_least64_t computed_worker;
	uint64_t lookups, served_stored, computed_caller;
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

	if (st == PAIR_PENDING &&
	    atomic_compare_exchange_strong_explicit(&p->state, &st, PAIR_BUSY,
						    memory_order_acquire, memory_order_acquire)) {
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
	c->computed_caller++;
	return crypto_shared_secret(me, peer_box_pk, out);
}

static void *worker_main(void *arg)
{
	struct secrets *c = arg;

	/* n_planned and every entry's a, b_pk were written before
	 * pthread_create, which orders them before this thread. */
	for (size_t i = 0; i < c->n_planned; i++) {
		if (atomic_load_explicit(&c->stop, memory_order_relaxed))
			break;
		struct planned *p = &c->planned[i];
		unsigned char st = PAIR_PENDING;
		if (!atomic_compare_exchange_strong_explicit(&p->state, &st, PAIR_BUSY,
							     memory_order_relaxed,
							     memory_order_relaxed))
			continue; /* the caller claimed it first */
		p->rc = (int8_t)crypto_shared_secret(p->a, p->b_pk, p->secret);
		atomic_store_explicit(&p->state, PAIR_DONE, memory_order_release);
		atomic_fetch_add_explicit(&c->computed_worker, 1, memory_order_relaxed);
	}
	return NULL;
}

int secrets_start(struct secrets *c)
{
	if (c->started)
		return SECRETS_OK;
	c->started = true;
	if (c->n_planned == 0)
		return SECRETS_OK;
	/* sodium_init picks its implementations: do it here, not in two
	 * threads at once. */
	if (crypto_init() < 0)
		return SECRETS_ERR_THREAD;
	if (pthread_create(&c->worker, NULL, worker_main, c) != 0)
		return SECRETS_ERR_THREAD;
	c->running = true;
	return SECRETS_OK;
}

void secrets_wait(struct secrets *c)
{
	if (c->running)
		pthread_join(c->worker, NULL);
	c->running = false;
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
	atomic_init(&c->stop, false);
	atomic_init(&c->computed_worker, 0);
	return c;
}

void secrets_free(struct secrets *c)
{
	if (c == NULL)
		return;
	atomic_store_explicit(&c->stop, true, memory_order_relaxed);
	secrets_wait(c);
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
	};
}
