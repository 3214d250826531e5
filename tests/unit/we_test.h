/* we_test.h - helpers shared by the unit tests: the seed of a randomized
 * test, a small deterministic generator, and a check that names the seed.
 *
 * Header only (static inline), so each test binary stays one .c file. The
 * blaster's tests reach it through include_directories('..').
 */
#ifndef WE_TEST_H
#define WE_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The seed of a randomized test: WE_TEST_SEED (decimal, or hex with 0x) if
 * set and not empty, else `fallback`: a fixed number, or the clock for a test
 * that wants a new sequence each run. It is printed before the test runs, so
 * a failing run's log names the seed that reproduces it. */
static inline uint64_t we_test_seed(const char *test, uint64_t fallback)
{
	const char *s = getenv("WE_TEST_SEED");
	uint64_t seed = s != NULL && s[0] != '\0' ? strtoull(s, NULL, 0) : fallback;

	fprintf(stderr, "%s: seed %" PRIu64 " (set WE_TEST_SEED to change)\n", test, seed);
	return seed;
}

/* For tests that draw from random(): seeds it with we_test_seed(), whose
 * fallback is the clock, so each run without WE_TEST_SEED tries new cases. */
static inline uint64_t we_test_seed_random(const char *test)
{
	uint64_t seed = we_test_seed(test, (uint64_t)time(NULL));

	srandom((unsigned)seed);
	return seed;
}

/* splitmix64 (Steele, Lea and Flood): fast, and every state gives a
 * well-mixed sequence, so consecutive seeds are fine. */
static inline uint64_t we_test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A Zipf draw by inverse transform: cdf[0..n) ascending to 1 (cdf[i] = the
 * share of ranks 1..i+1); returns the index (rank - 1) of a uniform draw. */
static inline unsigned we_test_cdf_draw(const double *cdf, unsigned n, uint64_t *rng)
{
	double u = (double)(we_test_rand(rng) >> 11) * 0x1p-53;
	unsigned lo = 0, hi = n - 1;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Fails the test when `cond` is false, naming the check and the seed. Only
 * for files that include <cmocka.h> (it expands to fail_msg). */
#define WE_TEST_CHECK(cond, seed)                                                        \
	do {                                                                             \
		if (!(cond))                                                             \
			fail_msg("%s failed (WE_TEST_SEED=%" PRIu64 ")", #cond, (seed)); \
	} while (0)

#endif
