/*
 * test_rng.c - seeded random streams: the generator against an independent
 * reference, derived streams, and the distributions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/rng.h"

/* Reference splitmix64 and xoshiro256**, written out as in Vigna's reference
 * C code (prng.di.unimi.it), independently of sim/rng.c. */
static uint64_t ref_splitmix_state;

static uint64_t ref_splitmix64(void)
{
	uint64_t z = (ref_splitmix_state += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

static uint64_t ref_s[4];

static uint64_t ref_rotl(const uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t ref_next(void)
{
	const uint64_t result = ref_rotl(ref_s[1] * 5, 7) * 9;
	const uint64_t t = ref_s[1] << 17;
	ref_s[2] ^= ref_s[0];
	ref_s[3] ^= ref_s[1];
	ref_s[1] ^= ref_s[2];
	ref_s[0] ^= ref_s[3];
	ref_s[2] ^= t;
	ref_s[3] = ref_rotl(ref_s[3], 45);
	return result;
}

static void ref_seed(uint64_t seed)
{
	ref_splitmix_state = seed;
	for (int i = 0; i < 4; i++)
		ref_s[i] = ref_splitmix64();
}

/* The published first outputs of splitmix64 from state 0. */
static void test_seed_is_splitmix64(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 0);
	assert_int_equal(r.s[0], 0xe220a8397b1dcdafULL);
	assert_int_equal(r.s[1], 0x6e789e6aa1b965f4ULL);
	assert_int_equal(r.s[2], 0x06c45d188009454fULL);
	assert_int_equal(r.s[3], 0xf88bb8a8724c81ecULL);
}

static void test_matches_reference(void **state)
{
	(void)state;
	const uint64_t seeds[] = {0, 1, 42, 0xdeadbeefcafef00dULL, UINT64_MAX};
	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		struct rng r;
		rng_seed(&r, seeds[k]);
		ref_seed(seeds[k]);
		for (int i = 0; i < 1000; i++)
			assert_int_equal(rng_next(&r), ref_next());
	}
}

static void test_derive(void **state)
{
	(void)state;
	struct rng a, b, c, d, e;
	rng_derive(&a, 42, "link:home-isp");
	rng_derive(&b, 42, "link:home-isp");
	rng_derive(&c, 42, "link:home-isq");
	rng_derive(&d, 43, "link:home-isp");
	rng_derive(&e, 42, "");
	assert_memory_equal(a.s, b.s, sizeof(a.s));
	uint64_t va = rng_next(&a);
	assert_int_equal(va, rng_next(&b));
	uint64_t vc = rng_next(&c), vd = rng_next(&d), ve = rng_next(&e);
	assert_int_not_equal(va, vc);
	assert_int_not_equal(va, vd);
	assert_int_not_equal(va, ve);
	assert_int_not_equal(vc, vd);
	/* Derived streams are copies-by-value: copying one forks it. */
	struct rng f = a;
	assert_int_equal(rng_next(&f), rng_next(&a));
}

static void test_below_bounds(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 5);
	assert_int_equal(rng_below(&r, 0), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rng_below(&r, 1), 0);
	const uint64_t bounds[] = {2, 3, 7, 10, 1000, 65536, (1ULL << 32) + 1, (1ULL << 63) + 1,
				   UINT64_MAX};
	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++)
		for (int i = 0; i < 10000; i++)
			assert_true(rng_below(&r, bounds[k]) < bounds[k]);
}

/* Chi-square over 10 buckets, 1e6 draws, fixed seed. 27.88 is the 0.999
 * quantile of chi-square with 9 degrees of freedom. */
static void test_below_uniform(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 2024);
	enum { BUCKETS = 10, DRAWS = 1000000 };
	long count[BUCKETS] = {0};
	for (int i = 0; i < DRAWS; i++)
		count[rng_below(&r, BUCKETS)]++;
	double expect = (double)DRAWS / BUCKETS, chi2 = 0;
	for (int i = 0; i < BUCKETS; i++)
		chi2 += ((double)count[i] - expect) * ((double)count[i] - expect) / expect;
	assert_true(chi2 < 27.88);
}

/* With bound = 3 * 2^62, `next % bound` would put half the draws below 2^62;
 * an unbiased draw puts a third there. */
static void test_below_unbiased_large_bound(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 99);
	const uint64_t bound = 3ULL << 62;
	int low = 0, n = 300000;
	for (int i = 0; i < n; i++)
		low += rng_below(&r, bound) < (1ULL << 62);
	double frac = (double)low / n;
	assert_true(frac > 0.33 && frac < 0.337);
}

static void test_double_range(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 3);
	double sum = 0;
	for (int i = 0; i < 1000000; i++) {
		double d = rng_double(&r);
		assert_true(d >= 0.0 && d < 1.0);
		sum += d;
	}
	double mean = sum / 1e6;
	assert_true(mean > 0.499 && mean < 0.501);
}

static void test_exponential_mean(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 17);
	double sum = 0;
	for (int i = 0; i < 1000000; i++) {
		double x = rng_exponential(&r, 1000.0);
		assert_true(x >= 0.0);
		sum += x;
	}
	double mean = sum / 1e6;
	assert_true(mean > 980.0 && mean < 1020.0);
	assert_true(rng_exponential(&r, 0.0) == 0.0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The shape of rng_exponential against the exponential CDF F(x) = 1 - e^-x,
 * 1e6 draws with a fixed seed: the Kolmogorov-Smirnov statistic, a chi-square
 * over 64 equiprobable bins, and the far tail the ziggurat draws separately
 * (x >= R = 7.697, probability e^-R). */
static void test_exponential_distribution(void **state)
{
	(void)state;
	enum { DRAWS = 1000000, BINS = 64 };
	static double x[DRAWS];
	struct rng r;
	rng_seed(&r, 31337);
	long bins[BINS] = {0}, tail = 0;
	double tail_excess = 0;
	for (int i = 0; i < DRAWS; i++) {
		x[i] = rng_exponential(&r, 1.0);
		assert_true(x[i] >= 0.0 && isfinite(x[i]));
		/* Bin k of equal probability 1/BINS holds F(x) in [k, k+1) / BINS. */
		int k = (int)(-expm1(-x[i]) * BINS);
		bins[k < BINS ? k : BINS - 1]++;
		if (x[i] >= 7.69711747013104972) {
			tail++;
			tail_excess += x[i] - 7.69711747013104972;
		}
	}
	double expect = (double)DRAWS / BINS, chi2 = 0;
	for (int k = 0; k < BINS; k++)
		chi2 += ((double)bins[k] - expect) * ((double)bins[k] - expect) / expect;
	assert_true(chi2 < 110.0); /* 0.999 quantile of chi-square, 63 dof: 103.4 */

	qsort(x, DRAWS, sizeof(x[0]), cmp_double);
	double d = 0;
	for (int i = 0; i < DRAWS; i++) {
		double f = -expm1(-x[i]);
		double lo = f - (double)i / DRAWS, hi = (double)(i + 1) / DRAWS - f;
		d = fmax(d, fmax(lo, hi));
	}
	assert_true(d < 1.95 / sqrt((double)DRAWS)); /* KS, alpha = 0.001 */

	/* e^-R * 1e6 = 453.6, sd 21.3: within 5 sd. Beyond R the excess is
	 * again exponential of mean 1 (sd of the mean about 0.047). */
	assert_true(tail > 347 && tail < 560);
	assert_true(fabs(tail_excess / (double)tail - 1.0) < 0.25);
}

/* Fill takes each draw's bytes little-endian, the tail from one more draw. */
static void test_fill(void **state)
{
	(void)state;
	struct rng a, b;
	rng_seed(&a, 8);
	rng_seed(&b, 8);
	uint8_t buf[19];
	memset(buf, 0, sizeof(buf));
	rng_fill(&a, buf, sizeof(buf));
	for (size_t off = 0; off < sizeof(buf); off += 8) {
		uint64_t v = rng_next(&b);
		for (size_t i = 0; i < 8 && off + i < sizeof(buf); i++)
			assert_int_equal(buf[off + i], (uint8_t)(v >> (8 * i)));
	}
	assert_int_equal(rng_next(&a), rng_next(&b));
	rng_fill(&a, buf, 0);
	assert_int_equal(rng_next(&a), rng_next(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_is_splitmix64),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_below_bounds),
		cmocka_unit_test(test_below_uniform),
		cmocka_unit_test(test_below_unbiased_large_bound),
		cmocka_unit_test(test_double_range),
		cmocka_unit_test(test_exponential_mean),
		cmocka_unit_test(test_exponential_distribution),
		cmocka_unit_test(test_fill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
