/*
 * bench/engine.c - event throughput of the engine.
 *
 *	bench_engine [events]      (default 10000000)
 *
 * (a) one event rescheduling itself 1 ns later;
 * (b) 1000 events in flight, each rescheduling itself after an exponential
 *     delay of mean 1 us (a heap of realistic depth and random order);
 * (b') as (b) with the delays drawn before timing starts: the engine alone.
 * Build with -O2 (CMAKE_BUILD_TYPE=Release) to compare with the targets.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/engine.h"
#include "sim/rng.h"

#define BENCH_DEFAULT_EVENTS 10000000ULL
#define BENCH_IN_FLIGHT 1000

/* Targets set for natsim, and ns-3.37's DefaultSimulatorImpl + MapScheduler
 * on the same two workloads, for scale. */
#define TARGET_A 45.0
#define TARGET_B 24.0
#define NS3_A 11.4
#define NS3_B 5.9

/* Delays for (b'), drawn before the clock starts: a power of two, cycled. */
#define BENCH_TABLE 65536

struct bench_state {
	uint64_t left;
	struct rng rng;
	const int64_t *table;
	size_t next;
};

static void self_1ns(struct engine *e, void *arg)
{
	struct bench_state *b = arg;
	if (--b->left > 0)
		engine_schedule_after(e, 1, self_1ns, b);
}

static void self_exp(struct engine *e, void *arg)
{
	struct bench_state *b = arg;
	if (b->left == 0)
		return;
	b->left--;
	engine_schedule_after(e, (int64_t)rng_exponential(&b->rng, 1000.0), self_exp, b);
}

static void self_table(struct engine *e, void *arg)
{
	struct bench_state *b = arg;
	if (b->left == 0)
		return;
	b->left--;
	int64_t delay = b->table[b->next++ & (BENCH_TABLE - 1)];
	engine_schedule_after(e, delay, self_table, b);
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *label, uint64_t events, double secs, double target, double ns3)
{
	double rate = (double)events / secs / 1e6;
	printf("%s: %" PRIu64 " events in %.3f s = %.1f M events/s\n", label, events, secs, rate);
	printf("    target >= %.0f M/s (%s), ns-3.37 %.1f M/s (natsim %.1fx)\n", target,
	       rate >= target ? "met" : "MISSED", ns3, rate / ns3);
}

static int bench_a(uint64_t n)
{
	struct engine *e = engine_new();
	if (e == NULL)
		return -1;
	struct bench_state b = {.left = n};
	engine_schedule_after(e, 1, self_1ns, &b);
	double t0 = seconds_now();
	uint64_t ran = engine_run(e);
	double t1 = seconds_now();
	engine_free(e);
	report("engine (a) self-rescheduling 1 ns", ran, t1 - t0, TARGET_A, NS3_A);
	return 0;
}

/* (b) draws each delay with rng_exponential as it goes; (b') takes the same
 * kind of delays from a table filled beforehand, which leaves the engine's own
 * cost (rng_exponential, a ziggurat since the engine became a radix heap, is
 * about a fifth of (b)). */
static int bench_b(uint64_t n, bool predrawn)
{
	static int64_t table[BENCH_TABLE];
	struct engine *e = engine_new();
	if (e == NULL)
		return -1;
	/* The first BENCH_IN_FLIGHT events are seeded here; each later run of
	 * the handler consumes one from `left` and schedules one more. */
	struct bench_state b = {.left = n > BENCH_IN_FLIGHT ? n - BENCH_IN_FLIGHT : 0};
	b.table = table;
	rng_seed(&b.rng, 42);
	for (size_t i = 0; i < BENCH_TABLE; i++)
		table[i] = (int64_t)rng_exponential(&b.rng, 1000.0);
	engine_fn fn = predrawn ? self_table : self_exp;
	for (int i = 0; i < BENCH_IN_FLIGHT; i++)
		engine_schedule_after(e, (int64_t)rng_exponential(&b.rng, 1000.0), fn, &b);
	double t0 = seconds_now();
	uint64_t ran = engine_run(e);
	double t1 = seconds_now();
	engine_free(e);
	if (predrawn)
		report("engine (b') same, delays drawn beforehand", ran, t1 - t0, TARGET_B, NS3_B);
	else
		report("engine (b) 1000 in flight, exp(1 us)", ran, t1 - t0, TARGET_B, NS3_B);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = BENCH_DEFAULT_EVENTS;
	if (argc > 1) {
		char *end;
		n = strtoull(argv[1], &end, 10);
		if (*end != '\0' || n == 0) {
			fprintf(stderr, "usage: %s [events]\n", argv[0]);
			return 2;
		}
	}
	if (bench_a(n) != 0 || bench_b(n, false) != 0 || bench_b(n, true) != 0) {
		fprintf(stderr, "bench_engine: out of memory\n");
		return 1;
	}
	return 0;
}
