/*
 * test_engine.c - the discrete-event engine: ordering, cancellation, clock
 * boundaries, pool reuse and run-to-run determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/engine.h"
#include "sim/prefetch.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/trace_log.h"

/* Events record (tag, time) here as they run. */
#define REC_MAX 20000

struct recorder {
	size_t n;
	int tag[REC_MAX];
	int64_t at[REC_MAX];
};

struct tagged {
	struct recorder *rec;
	int tag;
};

static void record_fn(struct engine *e, void *arg)
{
	struct tagged *t = arg;
	assert_true(t->rec->n < REC_MAX);
	t->rec->tag[t->rec->n] = t->tag;
	t->rec->at[t->rec->n] = engine_now(e);
	t->rec->n++;
}

static int setup_engine(void **state)
{
	struct engine *e = engine_new();
	if (e == NULL)
		return -1;
	*state = e;
	return 0;
}

static int teardown_engine(void **state)
{
	engine_free(*state);
	return 0;
}

static void test_new_is_empty(void **state)
{
	struct engine *e = *state;
	assert_int_equal(engine_now(e), 0);
	assert_int_equal(engine_pending(e), 0);
	assert_int_equal(engine_next_time(e), SIM_TIME_NEVER);
	assert_false(engine_step(e));
	assert_int_equal(engine_events_run(e), 0);
	assert_int_equal(engine_run(e), 0);
	assert_non_null(engine_trace(e));
	engine_free(NULL);
}

static void test_orders_by_time(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged t[4] = {{&rec, 30}, {&rec, 10}, {&rec, 20}, {&rec, 5}};
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(engine_schedule_at(e, t[i].tag, record_fn, &t[i]), 0);
	assert_int_equal(engine_pending(e), 4);
	assert_int_equal(engine_next_time(e), 5);
	assert_int_equal(engine_run(e), 4);
	assert_int_equal(rec.n, 4);
	int want[4] = {5, 10, 20, 30};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rec.tag[i], want[i]);
		assert_int_equal(rec.at[i], want[i]);
	}
	assert_int_equal(engine_now(e), 30);
	assert_int_equal(engine_pending(e), 0);
	assert_int_equal(engine_events_run(e), 4);
}

/* Many events at one time, scheduled among others, run in scheduling order. */
static void test_ties_run_in_insertion_order(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	static struct tagged t[3000];
	memset(&rec, 0, sizeof(rec));
	for (int i = 0; i < 3000; i++) {
		t[i] = (struct tagged){&rec, i};
		/* Every third event at time 7, the others spread around it. */
		int64_t at = i % 3 == 0 ? 7 : (i * 7919) % 15;
		assert_int_not_equal(engine_schedule_at(e, at, record_fn, &t[i]), 0);
	}
	engine_run(e);
	assert_int_equal(rec.n, 3000);
	int last_tag = -1;
	for (size_t i = 0; i < rec.n; i++) {
		if (i > 0)
			assert_true(rec.at[i] >= rec.at[i - 1]);
		if (i > 0 && rec.at[i] == rec.at[i - 1])
			assert_true(rec.tag[i] > last_tag);
		last_tag = rec.tag[i];
	}
}

struct same_time_ctx {
	struct recorder *rec;
	struct tagged later;
};

static void schedule_same_time(struct engine *e, void *arg)
{
	struct same_time_ctx *c = arg;
	engine_schedule_at(e, engine_now(e), record_fn, &c->later);
}

/* An event a handler schedules for "now" runs after those already queued. */
static void test_schedule_now_from_handler_runs_last(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct same_time_ctx c = {&rec, {&rec, 99}};
	struct tagged a = {&rec, 1}, b = {&rec, 2};
	engine_schedule_at(e, 10, schedule_same_time, &c);
	engine_schedule_at(e, 10, record_fn, &a);
	engine_schedule_at(e, 10, record_fn, &b);
	engine_run(e);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.tag[0], 1);
	assert_int_equal(rec.tag[1], 2);
	assert_int_equal(rec.tag[2], 99);
	assert_int_equal(rec.at[2], 10);
}

static void test_past_clamps_to_now(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged a = {&rec, 1}, b = {&rec, 2};
	engine_run_until(e, 100);
	assert_int_equal(engine_now(e), 100);
	engine_schedule_at(e, 50, record_fn, &a);
	engine_schedule_after(e, -5, record_fn, &b);
	assert_int_equal(engine_next_time(e), 100);
	engine_run(e);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.at[0], 100);
	assert_int_equal(rec.at[1], 100);
	assert_int_equal(rec.tag[0], 1);
}

static void test_schedule_after_is_relative(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged a = {&rec, 1};
	engine_run_until(e, SIM_MS(3));
	engine_schedule_after(e, SIM_US(250), record_fn, &a);
	engine_run(e);
	assert_int_equal(rec.at[0], SIM_MS(3) + SIM_US(250));
	assert_int_equal(SIM_S(2), 2000000000LL);
}

static void test_cancel(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged a = {&rec, 1}, b = {&rec, 2}, c = {&rec, 3};
	engine_event_id ia = engine_schedule_at(e, 10, record_fn, &a);
	engine_event_id ib = engine_schedule_at(e, 20, record_fn, &b);
	assert_int_equal(engine_pending(e), 2);
	assert_true(engine_cancel(e, ia));
	assert_int_equal(engine_pending(e), 1);
	assert_false(engine_cancel(e, ia)); /* double cancel */
	assert_int_equal(engine_pending(e), 1);
	assert_int_equal(engine_next_time(e), 20); /* the stale key is skipped */

	/* The new event probably reuses a's slot: a's handle must not touch it. */
	engine_event_id ic = engine_schedule_at(e, 15, record_fn, &c);
	assert_int_not_equal(ic, ia);
	assert_false(engine_cancel(e, ia));
	assert_int_equal(engine_pending(e), 2);

	engine_run(e);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.tag[0], 3);
	assert_int_equal(rec.tag[1], 2);
	assert_false(engine_cancel(e, ib)); /* already ran */
	assert_false(engine_cancel(e, ic));
	assert_false(engine_cancel(e, 0));
	assert_false(engine_cancel(e, UINT64_MAX));
	assert_int_equal(engine_pending(e), 0);
}

struct cancel_other {
	engine_event_id victim;
	bool cancelled;
};

static void cancel_other_fn(struct engine *e, void *arg)
{
	struct cancel_other *c = arg;
	c->cancelled = engine_cancel(e, c->victim);
}

static void test_cancel_from_handler(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged v = {&rec, 1};
	struct cancel_other c = {0};
	engine_schedule_at(e, 5, cancel_other_fn, &c);
	c.victim = engine_schedule_at(e, 5, record_fn, &v);
	assert_int_equal(engine_run(e), 1);
	assert_true(c.cancelled);
	assert_int_equal(rec.n, 0);
}

static void test_run_until_boundaries(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged t[3] = {{&rec, 10}, {&rec, 20}, {&rec, 30}};
	for (int i = 0; i < 3; i++)
		engine_schedule_at(e, t[i].tag, record_fn, &t[i]);
	assert_int_equal(engine_run_until(e, 20), 2); /* exactly at `until` runs */
	assert_int_equal(engine_now(e), 20);
	assert_int_equal(engine_pending(e), 1);
	assert_int_equal(engine_run_until(e, 25), 0);
	assert_int_equal(engine_now(e), 25); /* clock ends at until */
	assert_int_equal(engine_run_until(e, 5), 0);
	assert_int_equal(engine_now(e), 25); /* never backwards */
	assert_int_equal(engine_run_until(e, 29), 0);
	assert_int_equal(engine_now(e), 29);
	assert_int_equal(engine_run_until(e, 1000), 1);
	assert_int_equal(engine_now(e), 1000);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.at[2], 30);
}

static void stop_fn(struct engine *e, void *arg)
{
	(void)arg;
	engine_stop(e);
}

static void test_stop(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged a = {&rec, 1}, b = {&rec, 2};
	engine_schedule_at(e, 10, stop_fn, NULL);
	engine_schedule_at(e, 10, record_fn, &a);
	engine_schedule_at(e, 40, stop_fn, NULL);
	engine_schedule_at(e, 50, record_fn, &b);
	assert_int_equal(engine_run(e), 1);
	assert_int_equal(engine_now(e), 10);
	assert_int_equal(engine_pending(e), 3);
	/* Stopped inside run_until: the clock stays at the stopping event. */
	assert_int_equal(engine_run_until(e, 45), 2);
	assert_int_equal(engine_now(e), 40);
	/* A stop requested outside a run does not stick to the next one. */
	engine_stop(e);
	assert_int_equal(engine_run(e), 1);
	assert_int_equal(rec.n, 2);
	assert_int_equal(engine_now(e), 50);
}

struct resched {
	uint64_t left;
	size_t max_pending;
};

static void resched_fn(struct engine *e, void *arg)
{
	struct resched *r = arg;
	if (engine_pending(e) > r->max_pending)
		r->max_pending = engine_pending(e);
	if (--r->left > 0)
		assert_int_not_equal(engine_schedule_after(e, 1, resched_fn, r), 0);
}

/* A self-rescheduling event keeps exactly one event in flight. */
static void test_pool_reuse(void **state)
{
	struct engine *e = *state;
	struct resched r = {100000, 0};
	engine_schedule_after(e, 1, resched_fn, &r);
	assert_int_equal(engine_run(e), 100000);
	assert_int_equal(r.max_pending, 0); /* the running event is not pending */
	assert_int_equal(engine_pending(e), 0);
	assert_int_equal(engine_now(e), 100000);
	assert_int_equal(engine_events_run(e), 100000);
}

/* Random times with many ties, a random third cancelled, through pool and
 * heap growth and compaction: the events that run are exactly the survivors,
 * in (time, scheduling order). */
static void test_random_against_reference(void **state)
{
	struct engine *e = *state;
	enum { N = 15000 };
	static struct recorder rec;
	static struct tagged t[N];
	static engine_event_id ids[N];
	static bool cancelled[N];
	static int64_t when[N];
	memset(&rec, 0, sizeof(rec));
	struct rng r;
	rng_seed(&r, 7);
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		t[i] = (struct tagged){&rec, i};
		when[i] = (int64_t)rng_below(&r, 500);
		ids[i] = engine_schedule_at(e, when[i], record_fn, &t[i]);
		assert_int_not_equal(ids[i], 0);
		cancelled[i] = false;
		live++;
		if (i > 0 && rng_below(&r, 3) == 0) {
			int victim = (int)rng_below(&r, (uint64_t)i);
			assert_int_equal(engine_cancel(e, ids[victim]), !cancelled[victim]);
			live -= !cancelled[victim];
			cancelled[victim] = true;
		}
	}
	assert_int_equal(engine_pending(e), live);
	engine_run(e);
	assert_int_equal(rec.n, live);
	for (size_t i = 0; i < rec.n; i++) {
		assert_false(cancelled[rec.tag[i]]);
		assert_int_equal(rec.at[i], when[rec.tag[i]]);
		if (i > 0)
			assert_true(rec.at[i] > rec.at[i - 1] ||
				    (rec.at[i] == rec.at[i - 1] && rec.tag[i] > rec.tag[i - 1]));
	}
}

/* Cancel and re-arm one long timer many times (the pattern the header warns
 * against): stale keys pile up and must be compacted away, not leak order. */
static void test_many_cancels(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged a = {&rec, 1}, b = {&rec, 2};
	engine_schedule_at(e, SIM_S(5), record_fn, &b);
	engine_event_id id = 0;
	for (int i = 0; i < 200000; i++) {
		engine_cancel(e, id);
		id = engine_schedule_at(e, SIM_S(1) + i, record_fn, &a);
		assert_int_not_equal(id, 0);
	}
	assert_int_equal(engine_pending(e), 2);
	assert_int_equal(engine_next_time(e), SIM_S(1) + 199999);
	engine_run(e);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.tag[0], 1);
	assert_int_equal(rec.tag[1], 2);
}

/* Many live events and many more stale keys: compaction keeps heap order. */
static void test_compaction_keeps_order(void **state)
{
	struct engine *e = *state;
	enum { LIVE = 3000, CHURN = 50000 };
	static struct recorder rec;
	static struct tagged t[LIVE + 1];
	memset(&rec, 0, sizeof(rec));
	struct rng r;
	rng_seed(&r, 11);
	for (int i = 0; i < LIVE; i++) {
		t[i] = (struct tagged){&rec, i};
		engine_schedule_at(e, (int64_t)rng_below(&r, 100000), record_fn, &t[i]);
	}
	t[LIVE] = (struct tagged){&rec, LIVE};
	engine_event_id churn = 0;
	for (int i = 0; i < CHURN; i++) {
		engine_cancel(e, churn);
		churn = engine_schedule_at(e, (int64_t)rng_below(&r, 100000), record_fn, &t[LIVE]);
	}
	assert_int_equal(engine_pending(e), LIVE + 1);
	engine_run(e);
	assert_int_equal(rec.n, LIVE + 1);
	for (size_t i = 1; i < rec.n; i++)
		assert_true(rec.at[i] >= rec.at[i - 1]);
}

/* engine_next_time only looks: an event scheduled afterwards for an earlier
 * time still runs first, and so does one scheduled after run_until stopped
 * short of the next event. */
static void test_next_time_does_not_advance(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged t[5] = {{&rec, 0}, {&rec, 1}, {&rec, 2}, {&rec, 3}, {&rec, 4}};
	engine_schedule_at(e, 100000, record_fn, &t[0]);
	engine_schedule_at(e, 200, record_fn, &t[1]);
	assert_int_equal(engine_next_time(e), 200);
	engine_schedule_at(e, 150, record_fn, &t[2]);
	assert_int_equal(engine_next_time(e), 150);
	assert_int_equal(engine_run_until(e, 199), 1);
	assert_int_equal(engine_now(e), 199);
	engine_schedule_at(e, 199, record_fn, &t[3]);
	assert_int_equal(engine_next_time(e), 199);
	assert_int_equal(engine_run_until(e, 5000), 2);
	/* The next event is far off; stop short of it, then schedule before it. */
	assert_int_equal(engine_next_time(e), 100000);
	engine_schedule_at(e, 7000, record_fn, &t[4]);
	assert_int_equal(engine_run(e), 2);
	int want[5] = {2, 3, 1, 4, 0};
	int64_t at[5] = {150, 199, 200, 7000, 100000};
	assert_int_equal(rec.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rec.tag[i], want[i]);
		assert_int_equal(rec.at[i], at[i]);
	}
}

/* Cancelling the earliest event of a far bucket, then running up to a time
 * between it and the next: nothing runs and later schedules still order. */
static void test_cancel_then_run_until(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	struct tagged a = {&rec, 1}, b = {&rec, 2}, c = {&rec, 3};
	engine_event_id ia = engine_schedule_at(e, 300, record_fn, &a);
	engine_schedule_at(e, 1000, record_fn, &b);
	assert_true(engine_cancel(e, ia));
	assert_int_equal(engine_next_time(e), 1000);
	assert_int_equal(engine_run_until(e, 500), 0);
	assert_int_equal(engine_now(e), 500);
	engine_schedule_at(e, 400, record_fn, &c); /* clamped to 500 */
	assert_int_equal(engine_next_time(e), 500);
	assert_int_equal(engine_run(e), 2);
	assert_int_equal(rec.tag[0], 3);
	assert_int_equal(rec.at[0], 500);
	assert_int_equal(rec.tag[1], 2);
	assert_int_equal(rec.at[1], 1000);
}

/* Times across the whole int64 range, up to SIM_TIME_NEVER, order correctly. */
static void test_extreme_times(void **state)
{
	struct engine *e = *state;
	static struct recorder rec;
	memset(&rec, 0, sizeof(rec));
	static const int64_t times[] = {
	    SIM_TIME_NEVER,	    0, (int64_t)1 << 62, SIM_TIME_NEVER - 1, SIM_TIME_NEVER, 63, 64,
	    ((int64_t)1 << 62) - 1, 1};
	enum { N = sizeof(times) / sizeof(times[0]) };
	struct tagged t[N];
	for (int i = 0; i < N; i++) {
		t[i] = (struct tagged){&rec, i};
		assert_int_not_equal(engine_schedule_at(e, times[i], record_fn, &t[i]), 0);
	}
	assert_int_equal(engine_run(e), N);
	int want[N] = {1, 8, 5, 6, 7, 2, 3, 0, 4};
	for (int i = 0; i < N; i++) {
		assert_int_equal(rec.tag[i], want[i]);
		assert_int_equal(rec.at[i], times[want[i]]);
	}
	/* The clock now sits at SIM_TIME_NEVER: delays saturate. */
	struct tagged late = {&rec, 99};
	assert_int_not_equal(engine_schedule_after(e, SIM_S(1), record_fn, &late), 0);
	assert_int_equal(engine_next_time(e), SIM_TIME_NEVER);
	assert_int_equal(engine_run(e), 1);
}

/* A randomised check of every operation against a reference: a table of the
 * pending events. Each event that runs must be the pending one with the
 * smallest (time, scheduling order); handlers schedule follow-ups at delays
 * from 0 to 2^40 ns (every level of the queue) and cancel other events. */
enum { MODEL_MAX = 40000 };

struct model {
	struct engine *e;
	struct rng rng;
	int n;			 /* events scheduled so far (= next tag) */
	int64_t time[MODEL_MAX]; /* expected run time */
	engine_event_id id[MODEL_MAX];
	char state[MODEL_MAX];	/* 'p'ending, 'r'an, 'c'ancelled */
	int pending[MODEL_MAX]; /* tags of pending events, unordered */
	int n_pending;
	int ran;
};

static struct model model;

/* The pending event that must run next, or -1 (index into pending[]). */
static int model_first(const struct model *m)
{
	int best = -1;
	for (int i = 0; i < m->n_pending; i++) {
		int t = m->pending[i];
		if (best < 0 || m->time[t] < m->time[m->pending[best]] ||
		    (m->time[t] == m->time[m->pending[best]] && t < m->pending[best]))
			best = i;
	}
	return best;
}

static void model_fn(struct engine *e, void *arg);

static int64_t model_delay(struct rng *r)
{
	switch (rng_below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return (int64_t)rng_below(r, 4);
	case 2:
		return (int64_t)rng_below(r, (uint64_t)1 << rng_below(r, 41));
	case 3:
		return -(int64_t)rng_below(r, 100); /* clamped to now */
	default:
		return (int64_t)rng_below(r, 2000);
	}
}

static void model_schedule(struct model *m)
{
	if (m->n >= MODEL_MAX)
		return;
	int tag = m->n++;
	int64_t delay = model_delay(&m->rng);
	int64_t now = engine_now(m->e);
	m->time[tag] = delay < 0 ? now : now + delay;
	m->state[tag] = 'p';
	m->pending[m->n_pending++] = tag;
	m->id[tag] = engine_schedule_after(m->e, delay, model_fn, (void *)(intptr_t)tag);
	assert_int_not_equal(m->id[tag], 0);
}

static void model_drop(struct model *m, int tag, char how)
{
	for (int i = 0; i < m->n_pending; i++)
		if (m->pending[i] == tag) {
			m->pending[i] = m->pending[--m->n_pending];
			m->state[tag] = how;
			return;
		}
	fail();
}

static void model_cancel_some(struct model *m)
{
	if (m->n == 0)
		return;
	int tag = (int)rng_below(&m->rng, (uint64_t)m->n);
	bool was_pending = m->state[tag] == 'p';
	assert_int_equal(engine_cancel(m->e, m->id[tag]), was_pending);
	if (was_pending)
		model_drop(m, tag, 'c');
}

static void model_fn(struct engine *e, void *arg)
{
	struct model *m = &model;
	int tag = (int)(intptr_t)arg;
	int first = model_first(m);
	assert_true(first >= 0);
	assert_int_equal(tag, m->pending[first]);
	assert_int_equal(engine_now(e), m->time[tag]);
	model_drop(m, tag, 'r');
	m->ran++;
	assert_int_equal(engine_pending(e), (size_t)m->n_pending);
	uint64_t what = rng_below(&m->rng, 10);
	if (what < 6)
		model_schedule(m);
	if (what == 0)
		model_schedule(m);
	if (what == 1)
		model_cancel_some(m);
}

static void model_check_next(struct model *m)
{
	int first = model_first(m);
	int64_t want = first < 0 ? SIM_TIME_NEVER : m->time[m->pending[first]];
	assert_int_equal(engine_next_time(m->e), want);
	assert_int_equal(engine_pending(m->e), (size_t)m->n_pending);
}

static void test_random_operations_against_model(void **state)
{
	struct model *m = &model;
	memset(m, 0, sizeof(*m));
	m->e = *state;
	rng_seed(&m->rng, 2718);
	while (m->n < MODEL_MAX - 100) {
		uint64_t op = rng_below(&m->rng, 20);
		if (op < 8) {
			model_schedule(m);
		} else if (op < 10) {
			model_cancel_some(m);
		} else if (op < 14) {
			int before = m->ran;
			bool any = m->n_pending > 0;
			assert_int_equal(engine_step(m->e), any);
			assert_int_equal(m->ran, before + any);
		} else if (op < 18) {
			int64_t until = engine_now(m->e) + model_delay(&m->rng);
			int64_t before_now = engine_now(m->e);
			int before = m->ran;
			uint64_t n = engine_run_until(m->e, until);
			assert_int_equal(n, (uint64_t)(m->ran - before));
			assert_int_equal(engine_now(m->e), until > before_now ? until : before_now);
			int first = model_first(m);
			assert_true(first < 0 || m->time[m->pending[first]] > until);
		}
		model_check_next(m);
	}
	engine_run(m->e);
	assert_int_equal(m->n_pending, 0);
	assert_int_equal(engine_pending(m->e), 0);
	assert_true(m->ran > 10000);
}

static void emit_fn(struct engine *e, void *arg)
{
	(void)arg;
	struct trace_record r = {.kind = TRACE_SCENARIO};
	r.u.scenario.text = "hello";
	trace_emit(engine_trace(e), &r);
}

static void test_trace_is_stamped_with_engine_time(void **state)
{
	struct engine *e = *state;
	struct trace_log *log = trace_log_new();
	assert_non_null(log);
	assert_int_equal(trace_log_attach(log, engine_trace(e)), 0);
	engine_schedule_at(e, 1234, emit_fn, NULL);
	engine_schedule_at(e, 5678, emit_fn, NULL);
	engine_run(e);
	assert_int_equal(trace_log_count(log), 2);
	assert_int_equal(trace_log_get(log, 0)->time, 1234);
	assert_int_equal(trace_log_get(log, 1)->time, 5678);
	assert_int_equal(trace_log_get(log, 1)->seq, 1);
	trace_log_free(log);
}

/* A workload of actors that emit a record and re-arm at random delays. */
struct actor {
	struct rng rng;
	int id;
	int fired;
};

static void actor_fn(struct engine *e, void *arg)
{
	struct actor *a = arg;
	char text[64];
	snprintf(text, sizeof(text), "actor %d fired %d", a->id, a->fired++);
	struct trace_record r = {.kind = TRACE_SCENARIO};
	r.u.scenario.event = TRACE_SCN_NOTE;
	r.u.scenario.text = text;
	r.u.scenario.line = a->id;
	trace_emit(engine_trace(e), &r);
	/* Coarse delays so that many events share a time: ties must be stable. */
	int64_t delay = (int64_t)rng_below(&a->rng, 5) * SIM_US(1);
	if (a->fired < 200)
		engine_schedule_after(e, delay, actor_fn, a);
}

static uint64_t run_workload(uint64_t seed)
{
	enum { ACTORS = 50 };
	struct actor actors[ACTORS];
	struct engine *e = engine_new();
	struct trace_log *log = trace_log_new();
	assert_non_null(e);
	assert_non_null(log);
	assert_int_equal(trace_log_attach(log, engine_trace(e)), 0);
	for (int i = 0; i < ACTORS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "actor:%d", i);
		rng_derive(&actors[i].rng, seed, name);
		actors[i].id = i;
		actors[i].fired = 0;
		engine_schedule_at(e, (int64_t)rng_below(&actors[i].rng, 3), actor_fn, &actors[i]);
	}
	engine_run(e);
	assert_int_equal(trace_log_count(log), ACTORS * 200);
	assert_false(trace_log_failed(log));
	uint64_t h = trace_log_hash(log);
	trace_log_free(log);
	engine_free(e);
	return h;
}

/* Linked with -Wl,--wrap=realloc (tests/CMakeLists.txt): while
 * reallocs_allowed is >= 0, that many more reallocs succeed, then they fail. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static long reallocs_allowed = -1;

void *__wrap_realloc(void *p, size_t n)
{
	if (reallocs_allowed == 0)
		return NULL;
	if (reallocs_allowed > 0)
		reallocs_allowed--;
	return __real_realloc(p, n);
}

/* Events beyond the lowest 64 ns are redistributed before they run, into
 * buckets that need memory. If that memory is refused part way, the run
 * stops without running or losing anything and says why; the next run
 * carries on in order. */
static void test_out_of_memory_while_reordering(void **state)
{
	struct engine *e = *state;
	enum { N = 100 };
	static struct recorder rec;
	static struct tagged t[N];
	memset(&rec, 0, sizeof(rec));
	for (int i = 0; i < N; i++) {
		t[i] = (struct tagged){&rec, i};
		assert_int_not_equal(engine_schedule_at(e, 64 + i, record_fn, &t[i]), 0);
	}
	reallocs_allowed = 3; /* a few destinations grow, then one cannot */
	assert_int_equal(engine_run(e), 0);
	assert_true(engine_out_of_memory(e));
	assert_int_equal(engine_pending(e), N);
	/* run_until does not move the clock past what is still queued. */
	reallocs_allowed = 0;
	assert_int_equal(engine_run_until(e, 1000), 0);
	reallocs_allowed = -1;
	assert_true(engine_out_of_memory(e));
	assert_int_equal(engine_now(e), 0);
	assert_int_equal(engine_next_time(e), 64);
	assert_int_equal(engine_run(e), N);
	assert_false(engine_out_of_memory(e));
	assert_int_equal(rec.n, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rec.tag[i], i);
		assert_int_equal(rec.at[i], 64 + i);
	}
}

/* A prefetcher sees an upcoming live event of its handler at most four
 * times, ahead 4, 3, 2 and 1 in that order, before it runs (events in the
 * engine's current 64 ns window, as here); never a cancelled one; and the
 * events run as they would without it. The engine prefetches only with
 * many events pending (a world too big for the caches): 20 000 fillers
 * wait at 1 s, and with them gone it stops. Built with NATSIM_PREFETCH=OFF,
 * it never calls a prefetcher, and the events run just the same. */
static void filler_fn(struct engine *e, void *arg)
{
	(void)e;
	(void)arg;
}

static struct {
	int tag[64], ahead[64];
	size_t n;
} seen;

static void note_prefetch(const void *arg, int ahead)
{
	const struct tagged *t = arg;
	assert_true(seen.n < 64);
	seen.tag[seen.n] = t->tag;
	seen.ahead[seen.n] = ahead;
	seen.n++;
}

static void test_prefetcher_stages(void **state)
{
	struct engine *e = *state;
	enum { N = 8 };
	static struct recorder rec;
	static struct tagged t[N];
	engine_event_id ids[N];
	memset(&rec, 0, sizeof(rec));
	memset(&seen, 0, sizeof(seen));
	assert_true(engine_set_prefetcher(e, record_fn, note_prefetch));
	for (int i = 0; i < 20000; i++)
		assert_int_not_equal(engine_schedule_at(e, SIM_S(1), filler_fn, NULL), 0);
	for (int i = 0; i < N; i++) {
		t[i] = (struct tagged){&rec, i};
		ids[i] = engine_schedule_at(e, i + 1, record_fn, &t[i]);
	}
	assert_true(engine_cancel(e, ids[5]));
	engine_run_until(e, 100);
	assert_int_equal(rec.n, N - 1);
	for (size_t i = 0; i < rec.n; i++)
		assert_int_equal(rec.tag[i], (int)i + (i >= 5));
	for (int tag = 0; tag < N; tag++) {
		int last = 5, calls = 0;
		for (size_t k = 0; k < seen.n; k++) {
			if (seen.tag[k] != tag)
				continue;
			assert_true(seen.ahead[k] < last); /* 4, then 3, 2, 1 */
			last = seen.ahead[k];
			calls++;
		}
		if (tag == 5 || !PREFETCH_ENABLED)
			assert_int_equal(calls, 0); /* cancelled, or compiled out */
		else if (tag == 3)
			assert_int_equal(calls, 3); /* fourth to run: 3 ahead when the first ran */
		else if (tag == 4)
			assert_int_equal(calls, 4); /* fifth: every stage (after it the
						     * cancelled one's stale entry holds a place) */
	}
	/* With few events pending, no prefetching. */
	engine_run(e);
	seen.n = 0;
	for (int i = 0; i < N; i++)
		engine_schedule_after(e, i + 1, record_fn, &t[i]);
	engine_run(e);
	assert_int_equal(seen.n, 0);
}

static void test_determinism(void **state)
{
	(void)state;
	uint64_t h1 = run_workload(42);
	uint64_t h2 = run_workload(42);
	uint64_t h3 = run_workload(43);
	assert_int_equal(h1, h2);
	assert_int_not_equal(h1, h3);
}

#define ENGINE_TEST(f) cmocka_unit_test_setup_teardown(f, setup_engine, teardown_engine)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    ENGINE_TEST(test_new_is_empty),
	    ENGINE_TEST(test_orders_by_time),
	    ENGINE_TEST(test_ties_run_in_insertion_order),
	    ENGINE_TEST(test_schedule_now_from_handler_runs_last),
	    ENGINE_TEST(test_past_clamps_to_now),
	    ENGINE_TEST(test_schedule_after_is_relative),
	    ENGINE_TEST(test_cancel),
	    ENGINE_TEST(test_cancel_from_handler),
	    ENGINE_TEST(test_run_until_boundaries),
	    ENGINE_TEST(test_stop),
	    ENGINE_TEST(test_pool_reuse),
	    ENGINE_TEST(test_random_against_reference),
	    ENGINE_TEST(test_many_cancels),
	    ENGINE_TEST(test_compaction_keeps_order),
	    ENGINE_TEST(test_next_time_does_not_advance),
	    ENGINE_TEST(test_cancel_then_run_until),
	    ENGINE_TEST(test_extreme_times),
	    ENGINE_TEST(test_random_operations_against_model),
	    ENGINE_TEST(test_trace_is_stamped_with_engine_time),
	    ENGINE_TEST(test_out_of_memory_while_reordering),
	    ENGINE_TEST(test_prefetcher_stages),
	    cmocka_unit_test(test_determinism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
