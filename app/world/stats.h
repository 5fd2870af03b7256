/*
 * stats.h - the little statistics natsim sweep reports: a share of trials
 * with its Wilson score interval, and percentiles of measured times.
 *
 * Pure functions of their arguments: no allocation, no state, nothing printed.
 */
#ifndef NATSIM_APP_STATS_H
#define NATSIM_APP_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The normal quantile for a two-sided 95 % interval (qnorm(0.975)). */
#define STATS_Z95 1.959963984540054

struct stats_share {
	double share;	  /* successes / trials; 0 with no trials */
	double low, high; /* the interval, within [0, 1]; [0, 1] with no trials */
};

/* `successes` out of `trials` with the Wilson score interval for quantile z
 * (STATS_Z95 for 95 %): Wilson (1927), "Probable inference, the law of
 * succession, and statistical inference", JASA 22; Newcombe (1998) method 3.
 * Unlike the textbook p +- z*sqrt(p(1-p)/n) it never leaves [0, 1] and does
 * not collapse to a zero-width interval at 0 or n successes, which a sweep
 * meets all the time (a NAT that never lets a pair through). */
struct stats_share stats_wilson(uint64_t successes, uint64_t trials, double z);

/* The q-th percentile (0 < q <= 1) of n values sorted in ascending order, by
 * the nearest-rank method: the value at rank ceil(q * n), 1-based. It is
 * always one of the measured values (a time some trial really took), and
 * q = 0.5 gives the lower middle of an even count. n must be > 0. */
int64_t stats_rank_percentile(const int64_t *sorted, size_t n, double q);

/* Sort n values in ascending order (qsort, for stats_rank_percentile). */
void stats_sort(int64_t *values, size_t n);

#endif
