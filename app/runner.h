/*
 * runner.h - runs a scenario: builds its world, performs its timed actions,
 * watches what the agents and the models report, and checks its expectations.
 *
 * The runner observes the trace (drops) and the agents' events (paths, data,
 * NAT classes); it never reaches into a renderer. Verdicts are written to the
 * trace as TRACE_SCENARIO records, so every renderer can show them.
 */
#ifndef NATSIM_APP_RUNNER_H
#define NATSIM_APP_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/diag.h"
#include "app/scenario.h"
#include "app/world.h"
#include "sim/trace.h"

/* A run ends this long after the last action or deadline, unless --until. */
#define RUNNER_TAIL SIM_S(10)

struct run_options {
	bool has_seed;          /* else the scenario's seed, else 1 */
	uint64_t seed;
	int64_t until_ns;       /* SCENARIO_UNSET: last action/deadline + RUNNER_TAIL */
	/* Observers attached before the world announces itself (a timeline,
	 * a JSON-lines writer, a trace log); up to 4. */
	size_t n_observers;
	struct {
		trace_observer_fn fn;
		void *ctx;
	} observers[4];
	/* Called every simulated second with the virtual time and the end (for
	 * progress on a terminal); may be NULL. */
	void (*progress)(int64_t now, int64_t end, void *ctx);
	void *progress_ctx;
};

/* How one `connect` pair fared. */
struct run_pair {
	const char *a, *b;      /* scenario names */
	int64_t connect_at;     /* when a asked for b */
	int path;               /* enum scenario_path at the end of the run */
	int64_t connected_at;   /* first direct or relayed, or SCENARIO_UNSET */
	int64_t direct_at;      /* first direct (including an upgrade), or SCENARIO_UNSET */
	char detail[256];       /* the chosen pair, in words */
};

struct run_verdict {
	const struct scenario_expect *expect;
	bool passed;
	int64_t checked_at;
	char text[200];         /* what was expected, in words */
	char why[300];          /* for a failure: what happened instead */
};

struct run_result {
	uint64_t seed;
	int64_t ended_at;
	uint64_t events;        /* engine events run */
	size_t n_pairs;
	struct run_pair *pairs;
	size_t n_verdicts;
	struct run_verdict *verdicts;
	size_t n_failed;
};

/* Run `s`. Returns 0 and fills *out (free with run_result_free), or -1 with
 * diagnostics in `d` (the world could not be built, or memory ran out). */
int runner_run(const struct scenario *s, const struct run_options *opt, struct run_result *out,
	       struct diag *d);
void run_result_free(struct run_result *r);

#endif
