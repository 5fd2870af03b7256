/*
 * engine.c - the discrete-event engine.
 *
 * Events live in a pool of slots {fn, arg, id} that grows by doubling; free
 * slots form a singly linked list threaded through their `id` field. The queue
 * is a 4-ary min-heap of 16-byte keys {time, id}: a node's four children fill
 * one cache line's worth, and the tree is half as deep as a binary heap.
 *
 * An event's id packs its insertion sequence and its slot:
 *
 *	id = (seq << ENGINE_SLOT_BITS) | slot,   seq = 1, 2, 3, ...
 *
 * which gives three things at once. Comparing ids of equal-time keys compares
 * insertion sequences, so ties run strictly in scheduling order. The id is the
 * public handle: it is never 0 (seq starts at 1) and never reused, so a stale
 * handle cannot cancel a later event that happens to reuse the slot. And a key
 * is live exactly when its slot still holds its id, so cancelling is O(1): the
 * slot is freed at once and its stale key is dropped when it reaches the top,
 * or by a compaction once stale keys outnumber live ones.
 *
 * Limits of the packing: at most 2^24 - 1 (16.7 M) events in flight at once, and
 * 2^40 (1.1e12) events scheduled over the engine's lifetime - about six hours
 * of scheduling at 50 M events/s. Past either, scheduling returns 0 as if out
 * of memory. A 24-byte key {time, seq, slot} would lift both limits, but it
 * measured slower on bench/engine.c: (a) about 60 vs 125 M events/s, (b) about
 * 18 vs 19.5. Aligning each family of children to a cache line, an 8-ary heap
 * and Floyd's bottom-up sift were also measured and gained nothing.
 */
#include "sim/engine.h"

#include <stdlib.h>

#include "sim/trace.h"

#define ENGINE_SLOT_BITS 24
#define ENGINE_MAX_SLOTS ((uint32_t)1 << ENGINE_SLOT_BITS)
#define ENGINE_SLOT_MASK ((uint64_t)ENGINE_MAX_SLOTS - 1)
#define ENGINE_MAX_SEQ (((uint64_t)1 << (64 - ENGINE_SLOT_BITS)) - 1)
/* End of the free list. Any value below ENGINE_MAX_SLOTS is never a live id. */
#define ENGINE_NO_SLOT ENGINE_SLOT_MASK
#define ENGINE_INITIAL_SLOTS 64
/* Compact the heap when stale keys outnumber live ones and there are this many. */
#define ENGINE_COMPACT_MIN 1024

struct engine_key {
	int64_t time;
	uint64_t id;
};

struct engine_slot {
	engine_fn fn;
	void *arg;
	/* Live: the id of the event it holds. Free: index of the next free slot. */
	uint64_t id;
};

struct engine {
	int64_t now;
	uint64_t next_seq;
	uint64_t events_run;
	size_t pending;

	struct engine_slot *slots;
	uint32_t n_slots;
	uint64_t free_head;

	struct engine_key *heap;
	size_t heap_len;
	size_t heap_cap;
	/* The top key belongs to the event now running and is removed lazily: if
	 * the handler schedules, the new key replaces it with one sift-down
	 * instead of a pop and a push (the common case of a self-rearming timer). */
	bool top_dead;
	bool stopped;

	struct trace trace;
};

static inline bool key_less(const struct engine_key *a, const struct engine_key *b)
{
#ifdef __SIZEOF_INT128__
	/* One 128-bit comparison compiles to cmp/sbb feeding a conditional move.
	 * The heap's comparisons are unpredictable by nature, and the branchy
	 * form below measured 30% slower on workload (b) of bench/engine.c.
	 * Key times are never negative (clamped to now >= 0), so unsigned works. */
	unsigned __int128 ka = ((unsigned __int128)(uint64_t)a->time << 64) | a->id;
	unsigned __int128 kb = ((unsigned __int128)(uint64_t)b->time << 64) | b->id;
	return ka < kb;
#else
	return a->time < b->time || (a->time == b->time && a->id < b->id);
#endif
}

static inline bool key_live(const struct engine *e, const struct engine_key *k)
{
	return e->slots[k->id & ENGINE_SLOT_MASK].id == k->id;
}

/* Place `k` into the hole at `i`, moving smaller children up. */
static void heap_sift_down(struct engine_key *heap, size_t len, size_t i, struct engine_key k)
{
	for (;;) {
		size_t c = 4 * i + 1;
		if (c >= len)
			break;
		size_t m = c;
		if (c + 4 <= len) {
			/* Full family: a min-of-4 tournament, selects rather than jumps. */
			size_t m1 = key_less(&heap[c + 1], &heap[c]) ? c + 1 : c;
			size_t m2 = key_less(&heap[c + 3], &heap[c + 2]) ? c + 3 : c + 2;
			m = key_less(&heap[m2], &heap[m1]) ? m2 : m1;
		} else {
			for (size_t j = c + 1; j < len; j++)
				if (key_less(&heap[j], &heap[m]))
					m = j;
		}
		if (!key_less(&heap[m], &k))
			break;
		heap[i] = heap[m];
		i = m;
	}
	heap[i] = k;
}

static void heap_sift_up(struct engine_key *heap, size_t i, struct engine_key k)
{
	while (i > 0) {
		size_t p = (i - 1) / 4;
		if (!key_less(&k, &heap[p]))
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = k;
}

static void heap_pop(struct engine *e)
{
	e->heap_len--;
	if (e->heap_len > 0)
		heap_sift_down(e->heap, e->heap_len, 0, e->heap[e->heap_len]);
}

/* Finish the deferred removal of the running event's key, if still due. */
static inline void heap_settle(struct engine *e)
{
	if (e->top_dead) {
		e->top_dead = false;
		heap_pop(e);
	}
}

/* Drop stale keys and rebuild the heap. Order is unchanged: it is a total order
 * on keys, not on positions. Only called with no deferred top. */
static void heap_compact(struct engine *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->heap_len; i++)
		if (key_live(e, &e->heap[i]))
			e->heap[n++] = e->heap[i];
	e->heap_len = n;
	for (size_t i = n / 4 + 1; i-- > 0;)
		if (i < n)
			heap_sift_down(e->heap, n, i, e->heap[i]);
}

static bool heap_reserve(struct engine *e)
{
	if (e->heap_len < e->heap_cap)
		return true;
	if (!e->top_dead && e->heap_len >= ENGINE_COMPACT_MIN && e->heap_len > 2 * e->pending) {
		heap_compact(e);
		if (e->heap_len < e->heap_cap)
			return true;
	}
	size_t cap = e->heap_cap * 2;
	struct engine_key *h = realloc(e->heap, cap * sizeof(*h));
	if (h == NULL)
		return false;
	e->heap = h;
	e->heap_cap = cap;
	return true;
}

static bool pool_grow(struct engine *e)
{
	/* Index ENGINE_NO_SLOT itself is never a slot: it ends the free list. */
	if (e->n_slots >= ENGINE_NO_SLOT)
		return false;
	uint32_t n = e->n_slots * 2 < ENGINE_NO_SLOT ? e->n_slots * 2 : (uint32_t)ENGINE_NO_SLOT;
	struct engine_slot *s = realloc(e->slots, (size_t)n * sizeof(*s));
	if (s == NULL)
		return false;
	/* Thread the new slots onto the free list, lowest index first. */
	for (uint32_t i = e->n_slots; i < n; i++)
		s[i].id = i + 1 < n ? i + 1 : ENGINE_NO_SLOT;
	e->free_head = e->n_slots;
	e->slots = s;
	e->n_slots = n;
	return true;
}

struct engine *engine_new(void)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->slots = malloc(ENGINE_INITIAL_SLOTS * sizeof(*e->slots));
	e->heap = malloc(ENGINE_INITIAL_SLOTS * sizeof(*e->heap));
	if (e->slots == NULL || e->heap == NULL) {
		engine_free(e);
		return NULL;
	}
	for (uint32_t i = 0; i < ENGINE_INITIAL_SLOTS; i++)
		e->slots[i].id = i + 1 < ENGINE_INITIAL_SLOTS ? i + 1 : ENGINE_NO_SLOT;
	e->n_slots = ENGINE_INITIAL_SLOTS;
	e->free_head = 0;
	e->heap_cap = ENGINE_INITIAL_SLOTS;
	e->next_seq = 1;
	trace_init(&e->trace, &e->now);
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	free(e->slots);
	free(e->heap);
	free(e);
}

int64_t engine_now(const struct engine *e)
{
	return e->now;
}

struct trace *engine_trace(struct engine *e)
{
	return &e->trace;
}

engine_event_id engine_schedule_at(struct engine *e, int64_t at, engine_fn fn, void *arg)
{
	if (e->free_head == ENGINE_NO_SLOT && !pool_grow(e))
		return 0;
	if (!heap_reserve(e) || e->next_seq > ENGINE_MAX_SEQ)
		return 0;
	if (at < e->now)
		at = e->now;
	uint64_t slot = e->free_head;
	struct engine_slot *s = &e->slots[slot];
	uint64_t id = (e->next_seq++ << ENGINE_SLOT_BITS) | slot;
	e->free_head = s->id;
	s->fn = fn;
	s->arg = arg;
	s->id = id;
	e->pending++;

	struct engine_key k = {at, id};
	if (e->top_dead) {
		/* Reuse the running event's place at the top: one sift-down. */
		e->top_dead = false;
		heap_sift_down(e->heap, e->heap_len, 0, k);
	} else {
		heap_sift_up(e->heap, e->heap_len++, k);
	}
	return id;
}

engine_event_id engine_schedule_after(struct engine *e, int64_t delay, engine_fn fn, void *arg)
{
	if (delay < 0)
		delay = 0;
	/* Saturate rather than overflow: the clock may sit at SIM_TIME_NEVER after
	 * engine_run_until(e, SIM_TIME_NEVER). */
	int64_t at = delay > SIM_TIME_NEVER - e->now ? SIM_TIME_NEVER : e->now + delay;
	return engine_schedule_at(e, at, fn, arg);
}

static void slot_release(struct engine *e, uint64_t slot)
{
	e->slots[slot].id = e->free_head;
	e->free_head = slot;
	e->pending--;
}

bool engine_cancel(struct engine *e, engine_event_id id)
{
	uint64_t slot = id & ENGINE_SLOT_MASK;
	if (id == 0 || slot >= e->n_slots || e->slots[slot].id != id)
		return false;
	slot_release(e, slot);
	return true;
}

/* Drop stale keys from the top; returns the live top or NULL. */
static struct engine_key *heap_peek(struct engine *e)
{
	heap_settle(e);
	while (e->heap_len > 0) {
		if (key_live(e, &e->heap[0]))
			return &e->heap[0];
		heap_pop(e);
	}
	return NULL;
}

/* Run the event whose live key is at the top of the heap. */
static void run_top(struct engine *e, const struct engine_key *k)
{
	uint64_t slot = k->id & ENGINE_SLOT_MASK;
	engine_fn fn = e->slots[slot].fn;
	void *arg = e->slots[slot].arg;
	e->now = k->time;
	/* Free the slot before the call so the handler can reuse it. */
	slot_release(e, slot);
	e->top_dead = true;
	e->events_run++;
	fn(e, arg);
}

bool engine_step(struct engine *e)
{
	struct engine_key *k = heap_peek(e);
	if (k == NULL)
		return false;
	run_top(e, k);
	return true;
}

uint64_t engine_run_until(struct engine *e, int64_t until)
{
	uint64_t n = 0;
	e->stopped = false;
	while (!e->stopped) {
		struct engine_key *k = heap_peek(e);
		if (k == NULL || k->time > until)
			break;
		run_top(e, k);
		n++;
	}
	if (!e->stopped && until > e->now)
		e->now = until;
	e->stopped = false;
	return n;
}

uint64_t engine_run(struct engine *e)
{
	uint64_t n = 0;
	e->stopped = false;
	while (!e->stopped && engine_step(e))
		n++;
	e->stopped = false;
	return n;
}

void engine_stop(struct engine *e)
{
	e->stopped = true;
}

size_t engine_pending(const struct engine *e)
{
	return e->pending;
}

int64_t engine_next_time(struct engine *e)
{
	struct engine_key *k = heap_peek(e);
	return k == NULL ? SIM_TIME_NEVER : k->time;
}

uint64_t engine_events_run(const struct engine *e)
{
	return e->events_run;
}
