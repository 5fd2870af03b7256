/*
 * sweep_run.h - run every trial of a sweep, on one process or several.
 *
 * With more than one job the trials are shared among forked worker
 * processes, each sending its results back over a pipe: a world is built and
 * run in one process only, so nothing of the simulator (its engine, its
 * identities and secrets worker thread, any static) is shared by two runs at
 * once. Each trial's result lands at its own place in the results, so the
 * outcome is the same bytes whatever the number of jobs and whichever worker
 * finished first.
 */
#ifndef NATSIM_APP_SWEEP_RUN_H
#define NATSIM_APP_SWEEP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "app/world/sweep.h"

struct scenario;
struct diag;

struct sweep_work {
	struct scenario *const *scenarios; /* one per point: --set and its values applied */
	size_t n_points;
	size_t n_pairs; /* each scenario's `connect` pairs (sweep_pairs) */
	uint64_t trials;
	uint64_t seed;	  /* the trials' seeds derive from it (sweep_trial_seed) */
	int64_t until_ns; /* every trial ends then; 0: where natsim run would end it */
	/* Filled: n_points * trials * n_pairs, [point][trial][pair]. */
	struct sweep_trial *results;
	/* Called in this process after each trial's result arrives (may be NULL). */
	void (*progress)(uint64_t done, uint64_t total, void *ctx);
	void *progress_ctx;
};

enum sweep_run_error {
	SWEEP_RUN_WORLD = -1,	 /* a world could not be built: diagnostics in d */
	SWEEP_RUN_INTERNAL = -2, /* a worker failed, memory ran out: said in d */
};

/* Run w's trials on `jobs` processes (1: this one only). Returns 0 or an
 * enum sweep_run_error with diagnostics in d. */
int sweep_run(const struct sweep_work *w, unsigned jobs, struct diag *d);

#endif
