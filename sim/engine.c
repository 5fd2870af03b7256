/*
 * engine.c - the discrete-event engine.
 *
 * Events live in a pool of slots that grows by doubling; free slots form a
 * singly linked list threaded through their `id` field. Each slot has a cold
 * part {fn, arg, id}, touched when the event is scheduled and when it runs,
 * and a hot node {time, next, prev}, which is all the queue walks.
 *
 * The queue is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) with
 * 64-way digits. A radix heap needs monotone keys: nothing is ever inserted
 * below `last`, the time it was last advanced to. That holds here because the
 * engine clamps every schedule to now and never lets `last` pass now (see
 * queue_ready). A time t >= last is kept at level l, the 6-bit digit where t
 * first differs from `last` counting from the top (level 0 if only the lowest
 * digit differs, or none), in bucket d = t's digit l. Level 0 bucket d thus
 * holds exactly the events at one time. The earliest events are in the lowest
 * non-empty bucket of the lowest non-empty level, found by two ctz on bitmaps;
 * above level 0 that bucket is redistributed first: `last` advances to its
 * smallest time and each of its events moves to a lower level. An event moves
 * at most 10 times, about 1.2 times on average on workload (b) of
 * bench/engine.c (a binary radix heap, one bucket per bit, moved each event
 * 5.3 times and was 20% slower there). Scheduling is O(1): an xor, a clz and
 * a list append.
 *
 * Ties: the radix key is the time alone, and buckets are FIFO lists that are
 * only appended to and redistributed in order. Events of equal time always
 * sit in the same bucket (it is a function of the time and `last`), entered
 * it in scheduling order and move together in that order, so they run
 * strictly in (time, insertion sequence) order.
 *
 * Lists are circular and doubly linked through the nodes, with one head node
 * per bucket, so cancelling unlinks the event and frees its slot at once: no
 * stale keys and no compaction, and the queue's memory is the pool's (plus
 * 11 KB of bucket heads). Redistribution relinks nodes and never allocates,
 * so running events cannot fail.
 *
 * An event's id (its public handle) packs its insertion sequence and slot:
 *
 *	id = (seq << ENGINE_SLOT_BITS) | slot,   seq = 1, 2, 3, ...
 *
 * so a handle is never 0 and never reused: a stale handle cannot cancel a
 * later event that happens to reuse the slot. Limits of the packing: at most
 * 2^24 - 1 (16.7 M) events in flight at once, and 2^40 (1.1e12) events
 * scheduled over the engine's lifetime. Past either, scheduling returns 0 as
 * if out of memory.
 *
 * Measured with bench/engine.c (Release, one core) against the 4-ary heap of
 * 16-byte {time, seq << 24 | slot} keys this replaces: (a) 85-90 vs 128 M
 * events/s (both far above the 45 target), (b') engine alone 38-39 vs 22.3.
 */
#include "sim/engine.h"

#include <stdlib.h>

#include "sim/trace.h"

#define ENGINE_SLOT_BITS 24
#define ENGINE_MAX_SLOTS ((uint32_t)1 << ENGINE_SLOT_BITS)
#define ENGINE_SLOT_MASK ((uint64_t)ENGINE_MAX_SLOTS - 1)
#define ENGINE_MAX_SEQ (((uint64_t)1 << (64 - ENGINE_SLOT_BITS)) - 1)
/* End of the free list. Never a slot index. */
#define ENGINE_NO_SLOT ((uint32_t)ENGINE_SLOT_MASK)
#define ENGINE_INITIAL_SLOTS 64
/* The radix heap splits times into digits of ENGINE_RADIX_BITS bits: 64
 * buckets per level (one bitmap word), 11 levels cover the 63 bits of a time. */
#define ENGINE_RADIX_BITS 6
#define ENGINE_DIGITS (1u << ENGINE_RADIX_BITS)
#define ENGINE_LEVELS ((63 + ENGINE_RADIX_BITS - 1) / ENGINE_RADIX_BITS)

/* Bucket (l, d)'s list head is node l * ENGINE_DIGITS + d; event slot s is
 * node ENGINE_SENTINELS + s. */
#define ENGINE_SENTINELS (ENGINE_LEVELS * ENGINE_DIGITS)

/* The part of an event the queue walks, or a bucket's list head. Lists are
 * circular and doubly linked through a head (sentinel) node, so appending
 * and unlinking take no branches. */
struct engine_node {
	/* An event's time; for a head, a lower bound on its bucket's times
	 * (INT64_MAX when empty): exact unless an event was cancelled out of
	 * it, which only lowers it (still a valid pivot, see queue_advance). */
	int64_t time;
	uint32_t next;
	uint32_t prev;
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

	/* ENGINE_SENTINELS heads, then one node per slot. */
	struct engine_node *nodes;
	struct engine_slot *slots;
	uint32_t n_slots;
	uint32_t free_head;
	bool stopped;

	/* The radix heap: `last` is the time it was last advanced to (<= now);
	 * bit d of digits[l] says whether bucket (l, d) holds any event and bit
	 * l of `levels` whether digits[l] is non-zero. */
	int64_t last;
	uint32_t levels;
	uint64_t digits[ENGINE_LEVELS];

	struct trace trace;
};

/* Index of the highest set bit of x != 0. */
static inline unsigned msb64(uint64_t x)
{
#if defined(__GNUC__)
	return 63u - (unsigned)__builtin_clzll(x);
#else
	unsigned n = 0;
	while (x >>= 1)
		n++;
	return n;
#endif
}

/* Index of the lowest set bit of x != 0. */
static inline unsigned lsb64(uint64_t x)
{
#if defined(__GNUC__)
	return (unsigned)__builtin_ctzll(x);
#else
	unsigned n = 0;
	while (!(x & 1)) {
		x >>= 1;
		n++;
	}
	return n;
#endif
}

/* The level of a time t >= last: the digit at which they first differ, from
 * the top (0 if they differ at most in the lowest digit, or are equal). */
static inline unsigned level_of(int64_t last, int64_t t)
{
	uint64_t x = ((uint64_t)t ^ (uint64_t)last) | 1;
	return msb64(x) / ENGINE_RADIX_BITS;
}

/* Digit l of time t: its bucket within level l. */
static inline unsigned digit_of(int64_t t, unsigned l)
{
	return (unsigned)((uint64_t)t >> (l * ENGINE_RADIX_BITS)) & (ENGINE_DIGITS - 1);
}

static inline uint32_t head_of(unsigned l, unsigned d)
{
	return l * ENGINE_DIGITS + d;
}

/* Append node n, whose time is set, at the tail of bucket (l, d). */
static inline void bucket_append(struct engine *e, unsigned l, unsigned d, uint32_t n)
{
	struct engine_node *nd = e->nodes;
	uint32_t h = head_of(l, d);
	uint32_t tail = nd[h].prev;
	nd[n].next = h;
	nd[n].prev = tail;
	nd[tail].next = n;
	nd[h].prev = n;
	if (nd[n].time < nd[h].time)
		nd[h].time = nd[n].time;
	e->digits[l] |= (uint64_t)1 << d;
	e->levels |= (uint32_t)1 << l;
}

/* Queue node n, whose time (>= last) is set. */
static inline void queue_insert(struct engine *e, uint32_t n)
{
	int64_t t = e->nodes[n].time;
	unsigned l = level_of(e->last, t);
	bucket_append(e, l, digit_of(t, l), n);
}

/* Make bucket (l, d) an empty list and clear it in the bitmaps. */
static inline void bucket_clear(struct engine *e, unsigned l, unsigned d)
{
	uint32_t h = head_of(l, d);
	e->nodes[h] = (struct engine_node){INT64_MAX, h, h};
	e->digits[l] &= ~((uint64_t)1 << d);
	if (e->digits[l] == 0)
		e->levels &= ~((uint32_t)1 << l);
}

/* Remove node n from bucket (l, d), where it is queued. */
static inline void bucket_unlink(struct engine *e, unsigned l, unsigned d, uint32_t n)
{
	struct engine_node *nd = e->nodes;
	nd[nd[n].prev].next = nd[n].next;
	nd[nd[n].next].prev = nd[n].prev;
	if (nd[head_of(l, d)].next == head_of(l, d))
		bucket_clear(e, l, d);
}

/* Advance `last` to pivot m and move every event of bucket (l, d), l >= 1,
 * to its place relative to m. Levels below l are empty, so the bucket holds
 * the earliest events. m must be <= its times and lie in its range (a time it
 * held): then all of them agree with m down to digit l, so each moves to a
 * level below l, while every other bucket stays valid since m agrees with the
 * old `last` above digit l and in digits above. Moving in list order keeps
 * equal times in scheduling order. */
static void queue_advance(struct engine *e, unsigned l, unsigned d, int64_t m)
{
	uint32_t h = head_of(l, d);
	uint32_t n = e->nodes[h].next;
	bucket_clear(e, l, d);
	e->last = m;
	while (n != h) {
		uint32_t next = e->nodes[n].next;
		queue_insert(e, n);
		n = next;
	}
}

/* Make the earliest pending event the first of bucket (0, last's lowest
 * digit) if its time is <= until. Returns false if the queue is empty or the
 * earliest time is later. Only advances `last` to times <= until: the caller
 * then either runs an event at a time >= last or (engine_run_until) moves the
 * clock to until, so last <= now holds and every later schedule (clamped to
 * now) is >= last, as a radix heap requires. */
static bool queue_ready(struct engine *e, int64_t until)
{
	while (e->digits[0] == 0) {
		if (e->levels == 0)
			return false;
		unsigned l = lsb64(e->levels);
		unsigned d = lsb64(e->digits[l]);
		int64_t m = e->nodes[head_of(l, d)].time;
		if (m > until)
			return false; /* a lower bound on the earliest time */
		queue_advance(e, l, d, m);
	}
	/* Level 0: bucket d holds exactly the events at last's time with its
	 * lowest digit replaced by d. */
	int64_t t = (e->last & ~(int64_t)(ENGINE_DIGITS - 1)) | lsb64(e->digits[0]);
	if (t > until)
		return false;
	e->last = t;
	return true;
}

/* The exact earliest time queued, without advancing `last`. */
static int64_t queue_peek(const struct engine *e)
{
	if (e->levels == 0)
		return SIM_TIME_NEVER;
	unsigned l = lsb64(e->levels);
	unsigned d = lsb64(e->digits[l]);
	if (l == 0)
		return (e->last & ~(int64_t)(ENGINE_DIGITS - 1)) | d;
	int64_t m = INT64_MAX;
	uint32_t h = head_of(l, d);
	for (uint32_t n = e->nodes[h].next; n != h; n = e->nodes[n].next)
		if (e->nodes[n].time < m)
			m = e->nodes[n].time;
	return m;
}

static bool pool_grow(struct engine *e)
{
	/* Index ENGINE_NO_SLOT itself is never a slot: it ends the free list. */
	if (e->n_slots >= ENGINE_NO_SLOT)
		return false;
	uint32_t n = e->n_slots * 2 < ENGINE_NO_SLOT ? e->n_slots * 2 : ENGINE_NO_SLOT;
	struct engine_slot *s = realloc(e->slots, (size_t)n * sizeof(*s));
	if (s == NULL)
		return false;
	e->slots = s;
	struct engine_node *nd = realloc(e->nodes, (ENGINE_SENTINELS + (size_t)n) * sizeof(*nd));
	if (nd == NULL)
		return false; /* slots grew but n_slots did not: harmless */
	e->nodes = nd;
	/* Thread the new slots onto the free list, lowest index first. */
	for (uint32_t i = e->n_slots; i < n; i++)
		s[i].id = i + 1 < n ? i + 1 : ENGINE_NO_SLOT;
	e->free_head = e->n_slots;
	e->n_slots = n;
	return true;
}

struct engine *engine_new(void)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->slots = malloc(ENGINE_INITIAL_SLOTS * sizeof(*e->slots));
	e->nodes = malloc((ENGINE_SENTINELS + ENGINE_INITIAL_SLOTS) * sizeof(*e->nodes));
	if (e->slots == NULL || e->nodes == NULL) {
		engine_free(e);
		return NULL;
	}
	for (uint32_t i = 0; i < ENGINE_INITIAL_SLOTS; i++)
		e->slots[i].id = i + 1 < ENGINE_INITIAL_SLOTS ? i + 1 : ENGINE_NO_SLOT;
	e->n_slots = ENGINE_INITIAL_SLOTS;
	e->free_head = 0;
	for (unsigned l = 0; l < ENGINE_LEVELS; l++)
		for (unsigned d = 0; d < ENGINE_DIGITS; d++)
			bucket_clear(e, l, d);
	e->next_seq = 1;
	trace_init(&e->trace, &e->now);
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	free(e->slots);
	free(e->nodes);
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
	if (e->next_seq > ENGINE_MAX_SEQ)
		return 0;
	if (at < e->now)
		at = e->now;
	uint32_t slot = e->free_head;
	struct engine_slot *s = &e->slots[slot];
	uint64_t id = (e->next_seq++ << ENGINE_SLOT_BITS) | slot;
	e->free_head = (uint32_t)s->id;
	s->fn = fn;
	s->arg = arg;
	s->id = id;
	e->pending++;
	e->nodes[ENGINE_SENTINELS + slot].time = at;
	queue_insert(e, ENGINE_SENTINELS + slot);
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

static void slot_release(struct engine *e, uint32_t slot)
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
	/* A live event is queued in the bucket of its time (the running event
	 * is not live: its slot was released before its handler ran). */
	uint32_t n = ENGINE_SENTINELS + (uint32_t)slot;
	unsigned l = level_of(e->last, e->nodes[n].time);
	bucket_unlink(e, l, digit_of(e->nodes[n].time, l), n);
	slot_release(e, (uint32_t)slot);
	return true;
}

/* Run the event queue_ready made ready. */
static void run_first(struct engine *e)
{
	unsigned d = digit_of(e->last, 0);
	uint32_t n = e->nodes[head_of(0, d)].next;
	uint32_t slot = n - ENGINE_SENTINELS;
	engine_fn fn = e->slots[slot].fn;
	void *arg = e->slots[slot].arg;
	bucket_unlink(e, 0, d, n);
	e->now = e->last;
	/* Free the slot before the call so the handler can reuse it. */
	slot_release(e, slot);
	e->events_run++;
	fn(e, arg);
}

bool engine_step(struct engine *e)
{
	if (!queue_ready(e, SIM_TIME_NEVER))
		return false;
	run_first(e);
	return true;
}

uint64_t engine_run_until(struct engine *e, int64_t until)
{
	uint64_t n = 0;
	e->stopped = false;
	while (!e->stopped && queue_ready(e, until)) {
		run_first(e);
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
	/* Look without advancing: `last` may not pass now (see queue_ready). */
	return queue_peek(e);
}

uint64_t engine_events_run(const struct engine *e)
{
	return e->events_run;
}
