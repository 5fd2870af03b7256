/*
 * stats.c - Wilson score intervals and nearest-rank percentiles for natsim
 * sweep.
 */
#include "app/world/stats.h"

#include <math.h>
#include <stdlib.h>

struct stats_share stats_wilson(uint64_t successes, uint64_t trials, double z)
{
	if (trials == 0)
		return (struct stats_share){0.0, 0.0, 1.0};
	double n = (double)trials;
	double p = (double)successes / n;
	double z2 = z * z;
	/* Centre and half width of the score interval (Newcombe 1998, eq. for
	 * method 3): (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n). */
	double denom = 1.0 + z2 / n;
	double centre = (p + z2 / (2.0 * n)) / denom;
	double half = z / denom * sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));
	struct stats_share s = {p, centre - half, centre + half};
	/* At 0 or n successes one end is exactly 0 or 1; rounding must not
	 * push it past (or leave it a hair short of) the bound. */
	if (successes == 0 || s.low < 0.0)
		s.low = 0.0;
	if (successes == trials || s.high > 1.0)
		s.high = 1.0;
	return s;
}

/* log P(X = k) for X ~ Binomial(n, p), 0 < p < 1. */
static double log_pmf(uint64_t k, uint64_t n, double p)
{
	double kk = (double)k, nn = (double)n;
	return lgamma(nn + 1.0) - lgamma(kk + 1.0) - lgamma(nn - kk + 1.0) + kk * log(p) +
	       (nn - kk) * log1p(-p);
}

void stats_binomial_range(double p, uint64_t trials, double alpha, uint64_t *low, uint64_t *high)
{
	*low = 0;
	*high = trials;
	if (p <= 0.0 || p >= 1.0) {
		*low = *high = p <= 0.0 ? 0 : trials;
		return;
	}
	/* Each tail summed from its far end, small terms first. */
	double tail = 0.0;
	for (uint64_t k = 0; k <= trials; k++) {
		tail += exp(log_pmf(k, trials, p));
		if (tail > alpha / 2) {
			*low = k;
			break;
		}
	}
	tail = 0.0;
	for (uint64_t k = trials + 1; k-- > 0;) {
		tail += exp(log_pmf(k, trials, p));
		if (tail > alpha / 2) {
			*high = k;
			break;
		}
	}
}

int64_t stats_rank_percentile(const int64_t *sorted, size_t n, double q)
{
	double rank = ceil(q * (double)n);
	size_t i = rank < 1.0 ? 0 : (size_t)rank - 1;
	return sorted[i < n ? i : n - 1];
}

static int compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void stats_sort(int64_t *values, size_t n)
{
	if (n > 1)
		qsort(values, n, sizeof(*values), compare_int64);
}
