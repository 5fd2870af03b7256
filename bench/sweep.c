/*
 * bench/sweep.c - natsim sweep's trials per second: issue 17's birthday
 * world, and the classic scenario, on one process and on two workers.
 *
 *	bench_sweep [trials]      (default 2000)
 *
 * Issue 17's figure: 2000 trials of the easy-against-hard birthday world at
 * 1024 probes in <= 10 s on this 2-core machine (Release). The world: alice
 * behind a symmetric NAT (random ports) opens K = 256 sockets; bob, behind a
 * port-restricted cone, sends up to 1024 probes at 100 a second to random
 * ports of alice's address; the run lasts 50 s of virtual time (the
 * expectation at 40 s, and natsim run's 10 s after it). Each trial is a
 * whole world (parse once, build and run per trial), as natsim sweep runs
 * it.
 *
 * Wall time depends on the machine's day, so the bench also runs
 * bench_engine's workload (a) (one event rescheduling itself 1 ns later) and
 * prints the times scaled to a day where (a) runs 80 M events/s, the
 * reference bench/README.md scales every figure to. Build with -O2 (Release).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli/cli.h"
#include "app/lang/scenario.h"
#include "app/world/sweep_run.h"
#include "sim/engine.h"

#define BENCH_ENGINE_EVENTS 10000000ULL
#define BENCH_ENGINE_NOMINAL 80.0 /* M events/s: bench/README.md's reference day */
#define BENCH_TARGET_S 10.0	  /* issue 17: 2000 trials in <= 10 s */

static const char birthday_world[] =
    "title \"bench: the birthday search, K = 256, n = 1024\"\n"
    "internet latency 20ms\n"
    "coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
    "nat home preset symmetric public 203.0.113.7\n"
    "nat office preset port-restricted-cone public 198.51.100.9\n"
    "host alice at 192.168.1.5 behind home techniques birthday sockets 256\n"
    "host bob at 10.0.0.7 behind office techniques birthday probes 1024\n"
    "at 0s register alice\n"
    "at 0s register bob\n"
    "at 1s connect bob to alice\n"
    "expect bob and alice direct by 40s\n";

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void self_1ns(struct engine *e, void *arg)
{
	uint64_t *left = arg;
	if (--*left > 0)
		engine_schedule_after(e, 1, self_1ns, left);
}

/* bench_engine's (a), best of three: M events/s, or -1. */
static double engine_a(void)
{
	double best = -1;
	for (int round = 0; round < 3; round++) {
		struct engine *e = engine_new();
		uint64_t left = BENCH_ENGINE_EVENTS;
		if (e == NULL)
			return -1;
		engine_schedule_after(e, 1, self_1ns, &left);
		double t0 = now_s();
		engine_run(e);
		double rate = (double)BENCH_ENGINE_EVENTS / (now_s() - t0) / 1e6;
		best = rate > best ? rate : best;
		engine_free(e);
	}
	return best;
}

/* Seconds for w's trials on `jobs` processes, or -1. */
static double timed_run(const struct sweep_work *w, unsigned jobs)
{
	struct diag *d = diag_new();
	double t0 = now_s();
	int rc = d ? sweep_run(w, jobs, d) : -1;
	double t = now_s() - t0;
	if (rc != 0 && d)
		diag_print(d, stderr, false);
	diag_free(d);
	return rc == 0 ? t : -1;
}

/* One world's trials on one and two processes; its figures printed. The
 * last argument gets the two-process time. Returns 0, or -1. */
static int bench_world(const char *label, struct scenario *s, uint64_t trials, double scale,
		       double *two_s)
{
	struct sweep_trial *one = calloc(trials, sizeof(*one));
	struct sweep_trial *two = calloc(trials, sizeof(*two));
	struct sweep_work w = {
	    .scenarios = &s, .n_points = 1, .n_pairs = 1, .trials = trials, .seed = 1};
	double t1 = -1, t2 = -1;
	if (one && two) {
		w.results = one;
		t1 = timed_run(&w, 1);
		w.results = two;
		t2 = timed_run(&w, 2);
	}
	uint64_t direct = 0;
	for (uint64_t t = 0; t2 >= 0 && t < trials; t++)
		direct += two[t].outcome == SWEEP_DIRECT;
	if (t1 >= 0 && t2 >= 0) {
		printf("%s: %llu trials, %.3f ended direct\n", label, (unsigned long long)trials,
		       (double)direct / (double)trials);
		printf("  --jobs 1  %7.2f s  %7.0f trials/s   scaled %7.2f s\n", t1,
		       (double)trials / t1, t1 * scale);
		printf("  --jobs 2  %7.2f s  %7.0f trials/s   scaled %7.2f s  (x%.2f)\n", t2,
		       (double)trials / t2, t2 * scale, t1 / t2);
		printf("  same results on one process and two: %s\n",
		       memcmp(one, two, trials * sizeof(*one)) == 0 ? "yes" : "NO");
	}
	free(one);
	free(two);
	*two_s = t2;
	return t1 >= 0 && t2 >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	uint64_t trials = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
	struct diag *d = diag_new();
	struct scenario *classic = d ? cli_load_scenario(NULL, d) : NULL;
	struct scenario *birthday =
	    d ? scenario_parse(birthday_world, strlen(birthday_world), "<bench>", d) : NULL;
	double a = engine_a();
	if (trials == 0 || classic == NULL || birthday == NULL || a <= 0) {
		if (d)
			diag_print(d, stderr, false);
		fprintf(stderr, "bench_sweep: cannot start\n");
		return 1;
	}
	/* A day where (a) is x M events/s runs everything x/80 as fast. */
	double scale = a / BENCH_ENGINE_NOMINAL, t_birthday, t_classic;
	printf("bench_sweep: bench_engine (a) today %.1f M events/s; \"scaled\" is the time at "
	       "%.0f M events/s (bench/README.md)\n\n",
	       a, BENCH_ENGINE_NOMINAL);
	int rc = bench_world("the birthday world, K = 256, 1024 probes", birthday, trials, scale,
			     &t_birthday);
	if (rc == 0)
		printf("  issue 17: %llu trials in <= %.0f s on two cores: %.2f s (scaled %.2f s), "
		       "%s\n\n",
		       (unsigned long long)trials, BENCH_TARGET_S, t_birthday, t_birthday * scale,
		       t_birthday <= BENCH_TARGET_S ? "met" : "MISSED");
	if (rc == 0)
		rc = bench_world("the classic scenario", classic, trials, scale, &t_classic);
	scenario_free(birthday);
	scenario_free(classic);
	diag_free(d);
	return rc == 0 ? 0 : 1;
}
