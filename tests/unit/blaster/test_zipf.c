/* test_zipf.c - the Zipf sampler draws each rank with the probability the
 * formula p(k) = (1/k^theta) / zeta(N, theta) gives, for every theta we
 * support, and stays cheap and in range for ten million keys. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "zipf.h"

#define N_SMALL 20
#define DRAWS 2000000

/* Pearson's chi-square of observed counts against the exact Zipf law, and the
 * largest relative error over ranks expecting at least 10000 draws. */
static void zipf_check_law(double theta, uint64_t seed)
{
	struct zipf z;
	struct rng r;
	uint64_t count[N_SMALL] = {0};
	double zeta = zipf_zeta(N_SMALL, theta), chi2 = 0, max_rel = 0;

	assert_int_equal(zipf_init(&z, N_SMALL, theta), 0);
	rng_seed(&r, seed, 7);
	for (int i = 0; i < DRAWS; i++) {
		uint64_t k = zipf_draw(&z, &r);

		assert_true(k < N_SMALL);
		count[k]++;
	}
	for (int k = 0; k < N_SMALL; k++) {
		double expect = DRAWS * pow(k + 1, -theta) / zeta;
		double d = (double)count[k] - expect;

		chi2 += d * d / expect;
		if (expect >= 10000 && fabs(d) / expect > max_rel)
			max_rel = fabs(d) / expect;
	}
	/* 19 degrees of freedom: P(chi2 > 64) ~ 1e-6 for a correct sampler. */
	if (chi2 >= 64.0 || max_rel >= 0.03)
		fail_msg("theta %.2f: chi2 %.1f, max relative error %.4f", theta, chi2, max_rel);
}

/* Exact law at theta 0 (uniform), 0.5, 0.99 (the usual benchmark), 1 and
 * above 1, where approximate generators are known to drift. */
static void test_zipf_matches_formula(void **state)
{
	static const double thetas[] = {0.0, 0.5, 0.9, 0.99, 1.0, 1.2, 2.0};
	uint64_t seed = blaster_test_seed("test_zipf_matches_formula");

	(void)state;
	for (size_t i = 0; i < sizeof(thetas) / sizeof(thetas[0]); i++)
		zipf_check_law(thetas[i], seed + i);
}

/* The same seed gives the same sequence; another seed a different one. */
static void test_zipf_deterministic(void **state)
{
	struct zipf z;
	struct rng a, b, c;
	int same = 0;

	(void)state;
	assert_int_equal(zipf_init(&z, 1000, 0.99), 0);
	rng_seed(&a, 42, 1);
	rng_seed(&b, 42, 1);
	rng_seed(&c, 43, 1);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = zipf_draw(&z, &a);

		assert_int_equal(x, zipf_draw(&z, &b));
		same += x == zipf_draw(&z, &c);
	}
	assert_true(same < 500);
}

/* Ten million keys: setup is O(1), draws stay in range, and the hottest key
 * gets its share 1/zeta(N, theta). */
static void test_zipf_large_n(void **state)
{
	const uint64_t n = 10000000;
	const int draws = 400000;
	struct zipf z;
	struct rng r;
	uint64_t hot = 0, last_half = 0;
	double p0, sd;

	(void)state;
	assert_int_equal(zipf_init(&z, n, 0.99), 0);
	rng_seed(&r, blaster_test_seed("test_zipf_large_n"), 3);
	for (int i = 0; i < draws; i++) {
		uint64_t k = zipf_draw(&z, &r);

		assert_true(k < n);
		hot += k == 0;
		last_half += k >= n / 2;
	}
	p0 = 1.0 / zipf_zeta(n, 0.99);
	sd = sqrt(draws * p0 * (1 - p0));
	assert_true(fabs((double)hot - draws * p0) < 6 * sd);
	/* The tail is reached: about 3% of draws land in the upper half. */
	assert_true(last_half > 0);
}

/* Out-of-range parameters are refused; N = 1 always answers rank 0. */
static void test_zipf_edges(void **state)
{
	struct zipf z;
	struct rng r;

	(void)state;
	assert_int_equal(zipf_init(&z, 0, 0.5), -22);
	assert_int_equal(zipf_init(&z, 10, -0.1), -22);
	assert_int_equal(zipf_init(&z, 10, ZIPF_THETA_MAX + 0.1), -22);
	assert_int_equal(zipf_init(&z, 10, NAN), -22);
	assert_int_equal(zipf_init(&z, 1, 0.99), 0);
	rng_seed(&r, 1, 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(zipf_draw(&z, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zipf_matches_formula),
		cmocka_unit_test(test_zipf_deterministic),
		cmocka_unit_test(test_zipf_large_n),
		cmocka_unit_test(test_zipf_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
