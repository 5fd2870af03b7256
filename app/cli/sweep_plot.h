/*
 * sweep_plot.h - natsim sweep --plot and --plot-script: the sweep drawn by
 * gnuplot, driven through a pipe.
 *
 * Why gnuplot and a pipe: Debian has no C plotting API worth linking for
 * this (PLplot would be a library and its drivers for a dozen points), while
 * gnuplot (package gnuplot-nox) has SVG and PNG terminals built in, and the
 * script that drew a plot is plain text a student can read, change and rerun
 * (--plot-script). The script carries its data inline, so it needs nothing
 * else to run.
 */
#ifndef NATSIM_APP_SWEEP_PLOT_H
#define NATSIM_APP_SWEEP_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/cli/sweep_out.h"

/* An analytic curve drawn over the measured points: a gnuplot expression in
 * x (the varied value), e.g. "1-(1-256.0/64512)**x" for the chance that x
 * random probes find one of 256 open ports among 64512 (the birthday
 * search of issue 17). */
struct sweep_plot_curve {
	char title[128];
	char expr[128];
};

/* "The analytic curve where one is known": r's curve (sweep_curve.h) as
 * gnuplot draws it. Returns false (out untouched) when r has none. */
bool sweep_known_curve(const struct sweep_report *r, struct sweep_plot_curve *out);

/* Whether the x axis is numeric: one --vary whose values are all numbers
 * with the same unit after them ("0%,5%,10%", "20ms,80ms"); else categorical
 * (one tick per point). The unit, if any, goes into unit (size >= 16). */
bool sweep_plot_numeric(const struct sweep_report *r, char *unit, size_t size);

/* The gnuplot script drawing r into `output` (.svg or .png): share of trials
 * per point with its interval, one series per pair and outcome, the curve if
 * not NULL; the data inline. Returns a malloc'd string (*len its length), or
 * NULL out of memory. */
char *sweep_plot_script(const struct sweep_report *r, const char *output,
			const struct sweep_plot_curve *curve, size_t *len);

/* Before any trial runs: `output` ends in .svg or .png (png: 0 else), and
 * gnuplot can be found on PATH. Returns 0, or -1 with the reason in msg. */
int sweep_plot_check(const char *output, char *msg, size_t size);

/* Run gnuplot on the script for `output`. It draws into a temporary file
 * beside output, renamed to output only when gnuplot succeeded: a failure
 * leaves nothing, and no half-drawn file. Returns 0, or -1 with msg. */
int sweep_plot_draw(const struct sweep_report *r, const char *output,
		    const struct sweep_plot_curve *curve, char *msg, size_t size);

#endif
