/*
 * sweep.h - natsim sweep's plan and tally: which values to try (--vary, the
 * cartesian product of several), which seed each trial runs with, and what
 * the trials add up to (shares with intervals, times to connect).
 *
 * Running the trials is sweep_run.h's; printing and plotting are
 * sweep_out.h's and sweep_plot.h's. Nothing here prints.
 */
#ifndef NATSIM_APP_SWEEP_H
#define NATSIM_APP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/world/stats.h"

struct scenario;

/* One --vary NAME.KEY=V1,V2,...: the flag's text split in place (owned). */
struct sweep_vary {
	char *text;	     /* owned copy of the argument, cut at '=' and ',' */
	const char *key;     /* "home.preset" */
	const char **values; /* n_values pointers into text */
	size_t n_values;
};

/* Read one --vary argument into *v (release with sweep_vary_fini). Returns 0,
 * -1 with a message in msg (no '=', an empty name or value, the seed, which
 * the trials choose), or -2 out of memory. The values are not checked here:
 * each is applied as --set NAME.KEY=VALUE would be, with its messages. */
int sweep_vary_parse(const char *arg, struct sweep_vary *v, char *msg, size_t n);
void sweep_vary_fini(struct sweep_vary *v);

/* Points of the cartesian product of n varies (1 with none; SIZE_MAX if it
 * overflows): the first --vary changes slowest, as nested loops in the
 * order given. */
size_t sweep_point_count(const struct sweep_vary *vary, size_t n);
/* Which value of vary k point p takes. */
size_t sweep_point_value(const struct sweep_vary *vary, size_t n, size_t point, size_t k);
/* "NAME.KEY=VALUE" of vary k at point p, the text --set would be given;
 * returns its length as snprintf does. */
int sweep_point_set(const struct sweep_vary *vary, size_t n, size_t point, size_t k, char *buf,
		    size_t size);

/* The seed trial t (from 0) runs with: the (t+1)-th output of splitmix64
 * seeded with `seed` (Steele, Lea and Flood 2014; base/hash.h's finaliser).
 * Nearby trials get unrelated seeds, every point of the sweep uses the same
 * seeds (a value is compared with another on the same draws), and the seed
 * does not depend on which worker runs the trial. */
uint64_t sweep_trial_seed(uint64_t seed, uint64_t trial);

/* How a trial ended for one `connect` pair, as the side that asked saw it. */
enum sweep_outcome {
	SWEEP_DIRECT = 0,
	SWEEP_RELAYED = 1,
	SWEEP_FAILED = 2, /* no path at the end of the run */
	SWEEP_OUTCOMES = 3
};
/* "direct", "relayed", "failed". */
const char *sweep_outcome_name(enum sweep_outcome o);

struct sweep_trial {
	int32_t outcome;    /* enum sweep_outcome */
	int64_t connect_ns; /* asking -> the first path the asking side saw, or -1 */
};

/* One pair at one point, over its trials. */
struct sweep_summary {
	uint64_t trials;
	uint64_t count[SWEEP_OUTCOMES];
	struct stats_share share[SWEEP_OUTCOMES]; /* 95 % Wilson intervals */
	uint64_t connected;			  /* trials with a connect time */
	int64_t median_ns;			  /* nearest-rank median of those times, or -1 */
	int64_t p90_ns;				  /* nearest-rank 90th percentile, or -1 */
};

/* Sum `trials` results spaced `stride` apart (one pair's column of a
 * point's block). Returns 0, or -1 out of memory. */
int sweep_summarize(const struct sweep_trial *first, size_t stride, uint64_t trials,
		    struct sweep_summary *out);

/* One `connect` pair of the scenario, in the runner's order (each unordered
 * pair once, as its first `connect` names it). */
struct sweep_pair {
	const char *a, *b; /* borrowed from the scenario */
};
/* The scenario's pairs into out (room for s->n_actions); returns how many. */
size_t sweep_pairs(const struct scenario *s, struct sweep_pair *out);

#endif
