/* test_entropy.c - entropy, normalised entropy and imbalance of count
 * vectors (lib/entropy.c) against hand-computed values, and the entropy
 * estimated from a top-K plus the rest's mass. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "entropy.h"
#include "topk_sketch.h"

#define EPS 1e-9

static void near(double got, double want)
{
	if (got < want - EPS || got > want + EPS)
		fail_msg("got %.12f, want %.12f", got, want);
}

/* Uniform over 4 bins: 2 bits, normalised 1, max/mean 1. */
static void test_uniform(void **state)
{
	const uint64_t c[4] = {5, 5, 5, 5};
	const uint64_t c8[8] = {3, 3, 3, 3, 3, 3, 3, 3};

	(void)state;
	near(entropy_bits(c, 4), 2.0);
	near(entropy_normalised(c, 4), 1.0);
	near(entropy_imbalance(c, 4), 1.0);
	near(entropy_bits(c8, 8), 3.0);
	near(entropy_normalised(c8, 8), 1.0);
}

/* All load in one of 4 bins: 0 bits, normalised 0 (zero bins count in n),
 * max/mean = 7 / (7/4) = 4. A vector of one bin is trivially even. */
static void test_single_bin(void **state)
{
	const uint64_t c[4] = {0, 7, 0, 0};
	const uint64_t one[1] = {9};

	(void)state;
	near(entropy_bits(c, 4), 0.0);
	near(entropy_normalised(c, 4), 0.0);
	near(entropy_imbalance(c, 4), 4.0);
	near(entropy_bits(one, 1), 0.0);
	near(entropy_normalised(one, 1), 1.0);
	near(entropy_imbalance(one, 1), 1.0);
}

/* 3:1 over two bins: H = -(3/4 log2 3/4 + 1/4 log2 1/4) = 2 - (3/4) log2 3
 * = 0.811278124459..., normalised the same (log2 2 = 1), max/mean 1.5. With
 * two more empty bins the normaliser is log2 4 = 2 and max/mean 3. */
static void test_two_bins_3_1(void **state)
{
	const uint64_t c[2] = {3, 1};
	const uint64_t c4[4] = {0, 30, 0, 10};
	const double h = 0.811278124459133;

	(void)state;
	near(entropy_bits(c, 2), h);
	near(entropy_normalised(c, 2), h);
	near(entropy_imbalance(c, 2), 1.5);
	near(entropy_bits(c4, 4), h);
	near(entropy_normalised(c4, 4), h / 2);
	near(entropy_imbalance(c4, 4), 3.0);
}

/* No counts: H 0, and nothing to be uneven about (1, 1). */
static void test_empty(void **state)
{
	const uint64_t z[3] = {0, 0, 0};

	(void)state;
	near(entropy_bits(z, 3), 0.0);
	near(entropy_normalised(z, 3), 1.0);
	near(entropy_imbalance(z, 3), 1.0);
	near(entropy_bits(NULL, 0), 0.0);
	near(entropy_normalised(NULL, 0), 1.0);
	near(entropy_imbalance(NULL, 0), 1.0);
}

/* Top {4, 4} of 16 with the rest at most 2 each: the rest is 4 bins of 2,
 * so p = 1/4, 1/4, 1/8 x 4 and H = 1 + 1.5 = 2.5. With rest_max 0 the rest
 * is one bin of 8: H = 1 + 1/2 = 1.5. A complete top is plain entropy. */
static void test_of_topk(void **state)
{
	const uint64_t top[2] = {4, 4};
	const uint64_t all[3] = {4, 4, 8};

	(void)state;
	near(entropy_of_topk(top, 2, 16, 2), 2.5);
	near(entropy_of_topk(top, 2, 16, 0), 1.5);
	near(entropy_of_topk(all, 3, 16, 2), entropy_bits(all, 3));
	near(entropy_of_topk(top, 2, 0, 2), 0.0);
	/* The rest does not divide evenly: 7 over ceil(7/2) = 4 bins of 7/4. */
	near(entropy_of_topk(top, 2, 15, 2),
	     -2 * (4.0 / 15) * log2(4.0 / 15) - 4 * (1.75 / 15) * log2(1.75 / 15));
}

/* A sketch that never evicted has exact counts: its entropy is that of the
 * counts. Once it evicts, the estimate stays below log2 of the keys seen. */
static void test_of_sketch(void **state)
{
	static uint64_t mem[2048];
	struct topk_sketch s;
	uint64_t c[10];

	(void)state;
	assert_int_equal(topk_sketch_init(&s, mem, sizeof(mem), 16), 0);
	near(entropy_of_sketch(&s), 0.0);
	for (uint64_t k = 0; k < 10; k++) {
		c[k] = k + 1;
		topk_sketch_add(&s, k, NULL, 0, c[k]);
	}
	near(entropy_of_sketch(&s), entropy_bits(c, 10));

	assert_int_equal(topk_sketch_init(&s, mem, sizeof(mem), 4), 0);
	for (uint64_t i = 0; i < 1000; i++)
		topk_sketch_add(&s, i % 50, NULL, 0, 1);
	assert_true(entropy_of_sketch(&s) > 0.0);
	assert_true(entropy_of_sketch(&s) <= log2(50.0) + EPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_single_bin),
		cmocka_unit_test(test_two_bins_3_1),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_of_topk),
		cmocka_unit_test(test_of_sketch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
