/*
 * engine.h - the discrete-event engine: a virtual clock and an event queue.
 *
 * Time is int64_t nanoseconds of virtual time, starting at 0. Events run in
 * (time, insertion sequence) order: two events at the same time run in the
 * order they were scheduled, so a run is a pure function of its input and seed
 * (DESIGN.md "The engine").
 *
 * Events live in a pool, so scheduling does not malloc per event once the
 * pool has grown to the number of events in flight. The queue is a radix heap
 * with 64-way digits rather than a binary heap: event times never go below
 * the clock (past times are clamped to now), and for such monotone keys a
 * radix heap finds the next event with two bit scans and moves each event
 * about once (sim/engine.c explains why ties keep insertion order). Cancelling
 * unlinks the event at once.
 *
 * Long-lived timers that move (a NAT mapping refreshed by every packet) should
 * not be cancelled and rescheduled on every refresh: schedule once, and when
 * the event fires compare the real deadline with engine_now() and re-arm if it
 * moved (lazy re-arm).
 *
 * Map: docs/architecture.md follows one packet through the code. Its step 5,
 * "Engine", shows a packet's arrival running as an event here; step 12,
 * "Trace", shows the bus the engine owns. The prefetch pipeline
 * (engine_set_prefetcher, sim/prefetch.h, model/prefetch.c) is marked there
 * as speed machinery that a first reading may skip.
 */
#ifndef NATSIM_SIM_ENGINE_H
#define NATSIM_SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_NS(x) ((int64_t)(x))
#define SIM_US(x) ((int64_t)(x)*1000)
#define SIM_MS(x) ((int64_t)(x)*1000000)
#define SIM_S(x) ((int64_t)(x)*1000000000)
#define SIM_TIME_NEVER INT64_MAX

struct engine;
struct trace;

/* An event handler. `arg` is what was given to engine_schedule_*. */
typedef void (*engine_fn)(struct engine *e, void *arg);

/* Handle of a scheduled event; 0 is never a valid handle. A handle stays safe
 * to cancel after its event ran or was cancelled (cancel then does nothing). */
typedef uint64_t engine_event_id;

/* A new engine at time 0 with an empty queue and its own trace bus.
 * Returns NULL if out of memory. */
struct engine *engine_new(void);
void engine_free(struct engine *e);

int64_t engine_now(const struct engine *e);
/* The engine's trace bus (owned by the engine). */
struct trace *engine_trace(struct engine *e);

/* Schedule fn(e, arg) at absolute time `at` (clamped to now if in the past).
 * Returns the event's handle, or 0 if out of memory. */
engine_event_id engine_schedule_at(struct engine *e, int64_t at, engine_fn fn, void *arg);
/* Schedule after `delay` ns from now (delay < 0 is treated as 0). */
engine_event_id engine_schedule_after(struct engine *e, int64_t delay, engine_fn fn, void *arg);
/* Cancel a pending event. Returns true if it was pending. */
bool engine_cancel(struct engine *e, engine_event_id id);
/* Optional, for speed only: a handler may ask the CPU, ahead of time, for
 * the memory it will touch. For an upcoming event of `fn`, the engine calls
 * prefetch(arg, 4) four events before it runs (the first lines of `arg`
 * were fetched a round earlier), then prefetch(arg, 3), (arg, 2) and (arg, 1),
 * each a round after the call before, so each stage may read what the stage
 * before asked for. It must change nothing: only reads and the hints of
 * sim/prefetch.h. At most a few handlers; false if there is no room. Built
 * with NATSIM_PREFETCH=OFF the engine never calls a prefetcher (the models
 * register none: model/prefetch.h). */
bool engine_set_prefetcher(struct engine *e, engine_fn fn,
			   void (*prefetch)(const void *arg, int ahead));

/* Run the next event, advancing the clock to its time. Returns false if the
 * queue was empty. */
bool engine_step(struct engine *e);
/* Run every event with time <= until, then set the clock to `until` (unless
 * stopped, or out of memory: engine_out_of_memory). Returns the number of
 * events run. */
uint64_t engine_run_until(struct engine *e, int64_t until);
/* Run until the queue is empty or engine_stop() is called. */
uint64_t engine_run(struct engine *e);
/* Ask engine_run / engine_run_until to return after the current event. */
void engine_stop(struct engine *e);

/* Number of pending (not cancelled) events, and the time of the next one
 * (SIM_TIME_NEVER if none). */
size_t engine_pending(const struct engine *e);
int64_t engine_next_time(struct engine *e);
/* Total events run since creation. */
uint64_t engine_events_run(const struct engine *e);
/* True if the last engine_step, engine_run or engine_run_until stopped
 * because the queue could not grow while reordering itself: every event is
 * still queued and a later run carries on. (Scheduling reports its own
 * failures by returning 0.) */
bool engine_out_of_memory(const struct engine *e);

#endif
