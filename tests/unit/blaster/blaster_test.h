/* blaster_test.h - small helpers shared by the blaster's unit tests. */
#ifndef BLASTER_TEST_H
#define BLASTER_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The seed of a randomized test: WE_TEST_SEED if set, else a fixed one. It
 * is printed before the test runs, so a failing run's log names it. */
static inline uint64_t blaster_test_seed(const char *test)
{
	const char *s = getenv("WE_TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 20240601;

	fprintf(stderr, "%s: seed %llu (set WE_TEST_SEED to change)\n", test,
		(unsigned long long)seed);
	return seed;
}

#endif
