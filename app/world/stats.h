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

/* The central interval of a binomial count: if each of `trials` trials
 * succeeds with probability p (0 <= p <= 1), independently, the count lands
 * in [*low, *high] with probability at least 1 - alpha, and below *low or
 * above *high with at most alpha/2 each: *low is the smallest k with
 * P(X <= k) > alpha/2, *high the largest with P(X >= k) > alpha/2. Exact
 * (the binomial's own tails, summed in log space), not the normal
 * approximation, which is wrong where a sweep compares most often: near 0
 * and 1 (at p = 0.9997 and 1000 trials, 2 failures have probability 3.3 %,
 * yet p +- 2.58 sd puts 998 outside). */
void stats_binomial_range(double p, uint64_t trials, double alpha, uint64_t *low, uint64_t *high);

/* The q-th percentile (0 < q <= 1) of n values sorted in ascending order, by
 * the nearest-rank method: the value at rank ceil(q * n), 1-based. It is
 * always one of the measured values (a time some trial really took), and
 * q = 0.5 gives the lower middle of an even count. n must be > 0. */
int64_t stats_rank_percentile(const int64_t *sorted, size_t n, double q);

/* Sort n values in ascending order (qsort, for stats_rank_percentile). */
void stats_sort(int64_t *values, size_t n);

#endif
