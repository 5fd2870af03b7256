/*
 * engine.c - the discrete-event engine.
 *
 * Events live in a pool of slots {fn, arg, id} that grows by doubling; free
 * slots form a singly linked list threaded through their `id` field.
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
 * bench/engine.c. Scheduling is O(1): an xor, a clz and an append.
 *
 * A bucket is an array of 16-byte entries {time, id}, not a linked list: with
 * hundreds of thousands of events in flight (bench/scale.c), walking a list
 * through the slots was one dependent cache miss per event moved, while an
 * array is read and written in order. A running engine allocates only when
 * redistribution finds a destination full; if that fails, the moves made so
 * far are undone, the queue is as it was, and the run stops
 * (engine_out_of_memory() says why).
 *
 * Ties: the radix key is the time alone, and buckets are FIFO arrays that are
 * only appended to and redistributed in order. Events of equal time always
 * sit in the same bucket (it is a function of the time and `last`), entered
 * it in scheduling order and move together in that order, so they run
 * strictly in (time, insertion sequence) order.
 *
 * Cancelling is lazy: it frees the slot at once, and the entry, whose id no
 * longer matches any slot, is skipped when it reaches the front. Stale
 * entries are counted; once they outnumber the live ones (plus slack) every
 * bucket is compacted in place, so memory stays within about twice the live
 * events and the work is amortised O(1) per cancel.
 *
 * An event's id (its public handle) packs its insertion sequence and slot:
 *
 *	id = (seq << ENGINE_SLOT_BITS) | slot,   seq = 1, 2, 3, ...
 *
 * so a handle is never 0 and never reused: a stale handle cannot cancel a
 * later event that happens to reuse the slot, and a stale entry can never be
 * taken for the live event in its old slot. Limits of the packing: at most
 * 2^24 - 1 (16.7 M) events in flight at once, and 2^40 (1.1e12) events
 * scheduled over the engine's lifetime. Past either, scheduling returns 0 as
 * if out of memory.
 */
#include "sim/engine.h"

#include <stdlib.h>

#include "sim/prefetch.h"
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
#define ENGINE_BUCKETS (ENGINE_LEVELS * ENGINE_DIGITS)
/* Smallest array a bucket gets, and the capacity above which an emptied
 * bucket gives its array back (a level-0 bucket is emptied every time step,
 * an upper one rarely and may have held a large share of the queue). */
#define ENGINE_BUCKET_MIN 16
#define ENGINE_BUCKET_KEEP 4096
/* The prefetch pipeline (speed only; compiled out with NATSIM_PREFETCH=OFF,
 * sim/prefetch.h). Handlers that may have a prefetcher, and how many events
 * ahead it is first called (engine_set_prefetcher). */
#define ENGINE_MAX_PREFETCHERS 4
#define ENGINE_PREFETCH_STAGES 4
/* Below this many pending events the world is small enough to stay in
 * cache, and prefetching costs more than it saves (bench_engine (b), 1000
 * events in flight: 30 M events/s without, 26 with). */
#define ENGINE_PREFETCH_MIN_PENDING 16384
/* What is fetched of an upcoming event's argument: its first four lines
 * (the commonest argument, a packet in flight, is a header and a STUN
 * message of a hundred-odd bytes). */
#define ENGINE_PREFETCH_ARG_BYTES (4 * PREFETCH_LINE)
/* Stale entries tolerated beyond the number of live events. */
#define ENGINE_STALE_SLACK 1024

struct engine_entry {
	int64_t time;
	uint64_t id;
};

/* Entries [head, len) are queued; head > 0 only at level 0, which is
 * consumed from the front. `min` is the smallest time among them
 * (INT64_MAX when empty), stale entries included. */
struct engine_bucket {
	struct engine_entry *v;
	uint32_t head, len, cap;
	int64_t min;
};

struct engine_slot {
	engine_fn fn;
	void *arg;
	/* Live: the id of the event it holds. Free: index of the next free slot. */
	uint64_t id;
};

/* A handler's prefetcher (engine_set_prefetcher). */
struct engine_prefetcher {
	engine_fn fn;
	void (*prefetch)(const void *arg, int ahead);
};

struct engine {
	int64_t now;
	uint64_t next_seq;
	uint64_t events_run;
	size_t pending; /* live events */
	size_t stale;	/* entries of cancelled events still in buckets */

	struct engine_slot *slots;
	uint32_t n_slots;
	uint32_t free_head;
	bool stopped;
	bool out_of_memory;

	/* The radix heap: `last` is the time it was last advanced to (<= now);
	 * bit d of digits[l] says whether bucket (l, d) holds any entry and bit
	 * l of `levels` whether digits[l] is non-zero. */
	int64_t last;
	uint32_t levels;
	uint64_t digits[ENGINE_LEVELS];
	struct engine_bucket buckets[ENGINE_BUCKETS];
	struct engine_prefetcher prefetchers[ENGINE_MAX_PREFETCHERS];
	size_t n_prefetchers;

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

/* Index into buckets[] of the bucket a time t >= last belongs in. */
static inline unsigned bucket_of(int64_t last, int64_t t)
{
	unsigned l = level_of(last, t);
	return l * ENGINE_DIGITS + digit_of(t, l);
}

static inline bool entry_is_live(const struct engine *e, uint64_t id)
{
	return e->slots[id & ENGINE_SLOT_MASK].id == id;
}

/* Grows bucket b's array so that one more entry fits. */
static bool bucket_grow(struct engine_bucket *b)
{
	uint32_t cap = b->cap ? b->cap * 2 : ENGINE_BUCKET_MIN;
	if (cap <= b->cap)
		return false;
	struct engine_entry *v = realloc(b->v, (size_t)cap * sizeof(*v));
	if (v == NULL)
		return false;
	b->v = v;
	b->cap = cap;
	return true;
}

/* Append {t, id} to bucket i, which has room. */
static inline void bucket_push(struct engine *e, unsigned i, int64_t t, uint64_t id)
{
	struct engine_bucket *b = &e->buckets[i];
	b->v[b->len++] = (struct engine_entry){t, id};
	if (t < b->min)
		b->min = t;
	unsigned l = i / ENGINE_DIGITS;
	e->digits[l] |= (uint64_t)1 << (i % ENGINE_DIGITS);
	e->levels |= (uint32_t)1 << l;
}

/* Empty bucket i and clear it in the bitmaps. */
static void bucket_clear(struct engine *e, unsigned i)
{
	struct engine_bucket *b = &e->buckets[i];
	unsigned l = i / ENGINE_DIGITS;
	b->head = b->len = 0;
	b->min = INT64_MAX;
	if (b->cap > ENGINE_BUCKET_KEEP) {
		free(b->v);
		b->v = NULL;
		b->cap = 0;
	}
	e->digits[l] &= ~((uint64_t)1 << (i % ENGINE_DIGITS));
	if (e->digits[l] == 0)
		e->levels &= ~((uint32_t)1 << l);
}

/* Undo the first `moved` moves of queue_advance: they were appended, so
 * they are the last entries of their destinations, which lost nothing else.
 * Only on a failed allocation. */
static void queue_unmove(struct engine *e, struct engine_bucket *src, uint32_t moved, int64_t m)
{
	for (uint32_t k = moved; k-- > src->head;)
		e->buckets[bucket_of(m, src->v[k].time)].len--;
	for (uint32_t k = src->head; k < moved; k++) {
		unsigned to = bucket_of(m, src->v[k].time);
		struct engine_bucket *b = &e->buckets[to];
		if (b->len == b->head) {
			bucket_clear(e, to);
			continue;
		}
		b->min = INT64_MAX;
		for (uint32_t j = b->head; j < b->len; j++)
			if (b->v[j].time < b->min)
				b->min = b->v[j].time;
	}
}

/* Advance `last` to pivot m and move every entry of bucket i = (l, d),
 * l >= 1, to its place relative to m. Levels below l are empty, so the bucket
 * holds the earliest events. m must be <= its times and lie in its range (a
 * time it held): then all of them agree with m down to digit l, so each moves
 * to a level below l, while every other bucket stays valid since m agrees
 * with the old `last` above digit l and in digits above. Moving in array
 * order keeps equal times in scheduling order. Returns false, with the queue
 * as it was, if a destination cannot grow. */
static bool queue_advance(struct engine *e, unsigned i, int64_t m)
{
	struct engine_bucket *src = &e->buckets[i];

	for (uint32_t k = src->head; k < src->len; k++) {
		int64_t t = src->v[k].time;
		unsigned to = bucket_of(m, t);
		if (e->buckets[to].len == e->buckets[to].cap && !bucket_grow(&e->buckets[to])) {
			queue_unmove(e, src, k, m);
			e->out_of_memory = true;
			return false;
		}
		bucket_push(e, to, t, src->v[k].id);
	}
	e->last = m;
	bucket_clear(e, i);
	return true;
}

/* Drop every stale entry, keeping the order of the others. */
static void queue_compact(struct engine *e)
{
	for (unsigned i = 0; i < ENGINE_BUCKETS; i++) {
		struct engine_bucket *b = &e->buckets[i];
		uint32_t kept = 0;

		if (b->len == 0)
			continue;
		b->min = INT64_MAX;
		for (uint32_t k = b->head; k < b->len; k++) {
			if (!entry_is_live(e, b->v[k].id))
				continue;
			if (b->v[k].time < b->min)
				b->min = b->v[k].time;
			b->v[kept++] = b->v[k];
		}
		b->head = 0;
		b->len = kept;
		if (kept == 0)
			bucket_clear(e, i);
	}
	e->stale = 0;
}

/* Make the earliest live event the front entry of bucket (0, last's lowest
 * digit) if its time is <= until. Returns false if there is none, or (the run
 * then stops) if memory ran out. Only advances `last` to times <= until: the
 * caller then either runs an event at a time >= last or (engine_run_until)
 * moves the clock to until, so last <= now holds and every later schedule
 * (clamped to now) is >= last, as a radix heap requires. With no live event
 * at all, `last` stays: engine_step() does not move the clock. */
static bool queue_ready(struct engine *e, int64_t until)
{
	if (e->pending == 0) {
		if (e->stale > 0)
			queue_compact(e);
		return false;
	}
	for (;;) {
		while (e->digits[0] == 0) {
			if (e->levels == 0)
				return false;
			unsigned l = lsb64(e->levels);
			unsigned i = l * ENGINE_DIGITS + lsb64(e->digits[l]);
			int64_t m = e->buckets[i].min;
			if (m > until || !queue_advance(e, i, m))
				return false; /* m is the earliest time queued */
		}
		/* Level 0: bucket d holds exactly the entries at last's time with
		 * its lowest digit replaced by d. */
		unsigned d = lsb64(e->digits[0]);
		int64_t t = (e->last & ~(int64_t)(ENGINE_DIGITS - 1)) | d;
		if (t > until)
			return false;
		e->last = t;
		struct engine_bucket *b = &e->buckets[d];
		while (b->head < b->len && !entry_is_live(e, b->v[b->head].id)) {
			b->head++;
			e->stale--;
		}
		if (b->head < b->len)
			return true;
		bucket_clear(e, d);
	}
}

/* The exact earliest live time, without advancing `last`: buckets in
 * (level, digit) order hold ever later times, so the first bucket with a
 * live entry holds it. */
static int64_t queue_peek(const struct engine *e)
{
	for (uint32_t levels = e->levels; levels != 0; levels &= levels - 1) {
		unsigned l = lsb64(levels);
		for (uint64_t digits = e->digits[l]; digits != 0; digits &= digits - 1) {
			const struct engine_bucket *b =
			    &e->buckets[l * ENGINE_DIGITS + lsb64(digits)];
			int64_t m = INT64_MAX;
			for (uint32_t k = b->head; k < b->len; k++)
				if (b->v[k].time < m && entry_is_live(e, b->v[k].id))
					m = b->v[k].time;
			if (m != INT64_MAX)
				return m;
		}
	}
	return SIM_TIME_NEVER;
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
	if (e->slots == NULL) {
		free(e);
		return NULL;
	}
	for (uint32_t i = 0; i < ENGINE_INITIAL_SLOTS; i++)
		e->slots[i].id = i + 1 < ENGINE_INITIAL_SLOTS ? i + 1 : ENGINE_NO_SLOT;
	e->n_slots = ENGINE_INITIAL_SLOTS;
	e->free_head = 0;
	for (unsigned i = 0; i < ENGINE_BUCKETS; i++)
		e->buckets[i].min = INT64_MAX;
	e->next_seq = 1;
	trace_init(&e->trace, &e->now);
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (unsigned i = 0; i < ENGINE_BUCKETS; i++)
		free(e->buckets[i].v);
	free(e->slots);
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
	unsigned i = bucket_of(e->last, at);
	struct engine_bucket *b = &e->buckets[i];
	if (b->len == b->cap && !bucket_grow(b))
		return 0;
	uint32_t slot = e->free_head;
	struct engine_slot *s = &e->slots[slot];
	uint64_t id = (e->next_seq++ << ENGINE_SLOT_BITS) | slot;
	e->free_head = (uint32_t)s->id;
	s->fn = fn;
	s->arg = arg;
	s->id = id;
	e->pending++;
	bucket_push(e, i, at, id);
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
	/* A live event has an entry in some bucket (the running event is not
	 * live: its slot was released before its handler ran). */
	slot_release(e, (uint32_t)slot);
	e->stale++;
	if (e->stale > e->pending + ENGINE_STALE_SLACK)
		queue_compact(e);
	return true;
}

/* Up to n ids of the events that run next unless something earlier is
 * scheduled meanwhile (rare: links have latency): the level-0 entries from
 * the current time on. Stale ones included; this is only a guess. (Looking
 * into the upper levels too, sorting their first entries, measured no
 * faster on bench_scale.) */
static size_t queue_upcoming(const struct engine *e, uint64_t *ids, size_t n)
{
	size_t got = 0;
	uint64_t digits = e->digits[0] & (~(uint64_t)0 << digit_of(e->last, 0));

	for (; digits != 0 && got < n; digits &= digits - 1) {
		const struct engine_bucket *b = &e->buckets[lsb64(digits)];
		for (uint32_t k = b->head; k < b->len && got < n; k++)
			ids[got++] = b->v[k].id;
	}
	return got;
}

/* fn's entry among the prefetchers, or NULL. */
static inline struct engine_prefetcher *prefetcher_of(const struct engine *e, engine_fn fn)
{
	for (size_t i = 0; i < e->n_prefetchers; i++)
		if (e->prefetchers[i].fn == fn)
			return (struct engine_prefetcher *)&e->prefetchers[i];
	return NULL;
}

/* With hundreds of thousands of events in flight, an event's slot, the
 * object its handler works on and what that object leads to are cold:
 * fetch them while the handlers before it run, as a pipeline in which each
 * stage reads only what the stage before fetched a round earlier: the slot
 * of the event six ahead; four lines of the argument of the one five
 * ahead (the commonest, a packet in flight, is a header and a STUN message
 * of a hundred-odd bytes); then the handler's own prefetcher, if it has
 * one, for the events four, three, two and one ahead
 * (engine_set_prefetcher).
 * bench_scale 100000: 41 s with one line of the next argument, 36 s with
 * four lines, less with the models' prefetcher (model/prefetch.c). */
static inline void prefetch_upcoming(const struct engine *e)
{
	uint64_t ids[ENGINE_PREFETCH_STAGES + 2];
	size_t n = queue_upcoming(e, ids, ENGINE_PREFETCH_STAGES + 2);

	if (n > ENGINE_PREFETCH_STAGES + 1)
		prefetch_line(&e->slots[ids[ENGINE_PREFETCH_STAGES + 1] & ENGINE_SLOT_MASK]);
	if (n > ENGINE_PREFETCH_STAGES)
		prefetch_span(e->slots[ids[ENGINE_PREFETCH_STAGES] & ENGINE_SLOT_MASK].arg, 0,
			      ENGINE_PREFETCH_ARG_BYTES);
	for (size_t k = ENGINE_PREFETCH_STAGES; k-- > 0 && e->n_prefetchers > 0;) {
		if (n <= k)
			continue;
		const struct engine_slot *s = &e->slots[ids[k] & ENGINE_SLOT_MASK];
		/* Only a live event: a cancelled one's slot may hold another
		 * event, or none, and its old argument may be gone. */
		if (s->id != ids[k])
			continue;
		const struct engine_prefetcher *pf = prefetcher_of(e, s->fn);
		if (pf != NULL)
			pf->prefetch(s->arg, (int)k + 1);
	}
}

bool engine_set_prefetcher(struct engine *e, engine_fn fn,
			   void (*prefetch)(const void *arg, int ahead))
{
	struct engine_prefetcher *pf = prefetcher_of(e, fn);

	if (pf != NULL) {
		pf->prefetch = prefetch;
		return true;
	}
	if (e->n_prefetchers == ENGINE_MAX_PREFETCHERS)
		return false;
	e->prefetchers[e->n_prefetchers++] = (struct engine_prefetcher){fn, prefetch};
	return true;
}

/* Run the event queue_ready made ready. */
static void run_first(struct engine *e)
{
	unsigned d = digit_of(e->last, 0);
	struct engine_bucket *b = &e->buckets[d];
	uint64_t id = b->v[b->head++].id;
	if (b->head == b->len)
		bucket_clear(e, d);
	if (PREFETCH_ENABLED && e->pending >= ENGINE_PREFETCH_MIN_PENDING)
		prefetch_upcoming(e); /* speed only: sim/prefetch.h */
	uint32_t slot = (uint32_t)(id & ENGINE_SLOT_MASK);
	engine_fn fn = e->slots[slot].fn;
	void *arg = e->slots[slot].arg;
	e->now = e->last;
	/* Free the slot before the call so the handler can reuse it. */
	slot_release(e, slot);
	e->events_run++;
	fn(e, arg);
}

bool engine_step(struct engine *e)
{
	e->out_of_memory = false;
	if (!queue_ready(e, SIM_TIME_NEVER))
		return false;
	run_first(e);
	return true;
}

uint64_t engine_run_until(struct engine *e, int64_t until)
{
	e->out_of_memory = false;
	uint64_t n = 0;
	e->stopped = false;
	while (!e->stopped && queue_ready(e, until)) {
		run_first(e);
		n++;
	}
	/* Out of memory, events up to `until` are still queued: the clock
	 * must not pass them. */
	if (!e->stopped && !e->out_of_memory && until > e->now)
		e->now = until;
	e->stopped = false;
	return n;
}

uint64_t engine_run(struct engine *e)
{
	e->out_of_memory = false;
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

bool engine_out_of_memory(const struct engine *e)
{
	return e->out_of_memory;
}
