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

#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "app/world/world.h"
#include "sim/trace.h"

/* A run ends this long after the last action or deadline, unless --until. */
#define RUNNER_TAIL SIM_S(10)

struct run_options {
	bool has_seed; /* else the scenario's seed, else 1 */
	uint64_t seed;
	int64_t until_ns; /* SCENARIO_UNSET: last action/deadline + RUNNER_TAIL */
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

/* One change of a pair's path, as an agent reported it. */
enum run_step_kind {
	RUN_STEP_DIRECT,  /* direct, or upgraded from the relay */
	RUN_STEP_RELAYED, /* the coordinator agreed to relay */
	RUN_STEP_LOST,	  /* consent expired on the direct path (RFC 7675) */
	RUN_STEP_FAILED,  /* no path, and no relay */
};

struct run_step {
	int64_t at;
	enum run_step_kind kind;
};

/* A pair's history keeps its first RUN_HISTORY_MAX - 1 steps and its last. */
#define RUN_HISTORY_MAX 8

/* How one `connect` pair fared, as the side that asked (a) saw it. */
struct run_pair {
	const char *a, *b;    /* scenario names */
	int64_t connect_at;   /* when a asked for b */
	int path;	      /* enum scenario_path at the end of the run */
	int64_t connected_at; /* first direct or relayed, or SCENARIO_UNSET */
	int64_t direct_at;    /* first direct (including an upgrade), or SCENARIO_UNSET */
	char detail[256];     /* the chosen pair, in words */
	unsigned technique;   /* the agent_technique bit that found it (p2p_event); 0: none */
	uint8_t family;	      /* the direct path's address family (p2p_event): 4, 6, 0 none */
	char failure[256];    /* the last failure or loss, in words */
	size_t n_steps;	      /* steps seen; more than RUN_HISTORY_MAX: some left out */
	struct run_step steps[RUN_HISTORY_MAX];
};

/* "direct", "relayed", "lost", "failed": a step in words. */
const char *run_step_name(enum run_step_kind kind);
/* How the pair ended, in words: its last step's name, or "unconnected". */
const char *run_pair_end_name(const struct run_pair *p);

struct run_verdict {
	const struct scenario_expect *expect;
	bool passed;
	int64_t checked_at;
	char text[200]; /* what was expected, in words */
	char why[300];	/* for a failure: what happened instead */
};

struct run_result {
	uint64_t seed;
	int64_t ended_at;
	uint64_t events; /* engine events run */
	size_t n_pairs;
	struct run_pair *pairs;
	size_t n_verdicts;
	struct run_verdict *verdicts;
	size_t n_failed;
};

/* When a run of `s` ends without --until: its last action (and what that
 * starts: a ping's echoes, a TCP transfer) or expectation, plus RUNNER_TAIL. */
int64_t runner_default_end(const struct scenario *s);

/* Run `s`. Returns 0 and fills *out (free with run_result_free), or -1 with
 * diagnostics in `d` (the world could not be built, or memory ran out). */
int runner_run(const struct scenario *s, const struct run_options *opt, struct run_result *out,
	       struct diag *d);
void run_result_free(struct run_result *r);

#endif
