/*
 * sweep_out.h - a finished sweep as text, CSV or JSON (natsim sweep
 * --format), and what the printers and the plot share.
 */
#ifndef NATSIM_APP_SWEEP_OUT_H
#define NATSIM_APP_SWEEP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app/world/sweep.h"
#include "app/world/sweep_curve.h"

/* Everything a printer or the plot needs; all borrowed. */
struct sweep_report {
	const char *scenario; /* the FILE as given ("classic", a path) */
	const char *title;    /* the scenario's title, or its file name */
	uint64_t seed, trials;
	const struct sweep_vary *vary;
	size_t n_vary;
	size_t n_points;
	const struct sweep_pair *pairs;
	size_t n_pairs;
	const struct sweep_summary *summaries; /* [point][pair] */
	const struct sweep_trial *results;     /* [point][trial][pair] */
	/* The analytic curve the sweep is set against (sweep_curve.h), and
	 * each point's comparison for its pair; NULL both: none. */
	const struct sweep_curve *curve;
	const struct sweep_curve_point *curve_points; /* [point] */
	const char *plan; /* a bundled sweep's flags, said under the title; or NULL */
};

/* "home.preset=full-cone, alice.keepalive=off", or "(as written)" with no
 * --vary: point p's values for a label. */
void sweep_point_label(const struct sweep_report *r, size_t point, const char *sep, char *buf,
		       size_t size);

/* Each returns 0, or -1 if writing failed. With a curve, text adds a
 * table of the curve's value and 99 % range beside the measured direct
 * share, csv four columns (curve_p, curve_low, curve_high, curve_fits; empty
 * on the rows of other pairs), json a "curve" object at the top and in the
 * curve's pair of each point. */
int sweep_print_text(FILE *f, const struct sweep_report *r, bool ascii);
/* One row per point and pair; the header names the varied keys first. */
int sweep_print_csv(FILE *f, const struct sweep_report *r);
int sweep_print_json(FILE *f, const struct sweep_report *r);
/* Every trial, one CSV row per point, trial and pair: the varied values,
 * trial, seed (natsim run --seed SEED with the values as --set runs that
 * trial again), a, b, outcome, connect_ms (empty if none). */
int sweep_print_trials(FILE *f, const struct sweep_report *r);

#endif
