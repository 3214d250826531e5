/* test_hist.c - the latency histogram reports percentiles within 1% of the
 * exact (sorted) values over 1 ns .. 100 s, merges losslessly, and keeps
 * count, min, max and mean exact. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "hist.h"
#include "rng.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank on sorted data: the smallest value with >= pct% at or below. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n - 1e-9);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void assert_close(uint64_t got, uint64_t want)
{
	double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;

	if (err > 0.01)
		fail_msg("got %llu, want %llu (error %.4f)", (unsigned long long)got,
			 (unsigned long long)want, err);
}

/* Every bucket's width is within 1/64 of its low bound, buckets tile the
 * range without gaps, and every value lands in the bucket that holds it. */
static void test_hist_buckets(void **state)
{
	(void)state;
	for (unsigned b = 0; b + 1 < HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_low(b), w = hist_bucket_width(b);

		assert_int_equal(lo + w, hist_bucket_low(b + 1));
		assert_int_equal(hist_bucket_of(lo), b);
		assert_int_equal(hist_bucket_of(lo + w - 1), b);
		if (lo >= 128)
			assert_true(w * 64 <= lo);
	}
	assert_int_equal(hist_bucket_of(0), 0);
	assert_int_equal(hist_bucket_of(1), 1);
	assert_int_equal(hist_bucket_of(100000000000ull), hist_bucket_of(100000000000ull));
	assert_true(hist_bucket_of(100000000000ull) < HIST_BUCKETS - 1); /* 100 s fits */
	assert_int_equal(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
}

/* Random data over many orders of magnitude: p50..p99.9 and max against
 * the sorted exact values. */
static void test_hist_percentiles_random(void **state)
{
	static const double pcts[] = {1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
	const size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v));
	struct hist *h = malloc(sizeof(*h));
	struct rng r;
	struct hist_summary s;
	uint64_t seed = blaster_test_seed("test_hist_percentiles_random");
	double sum = 0;

	(void)state;
	assert_non_null(v);
	assert_non_null(h);
	for (int round = 0; round < 3; round++) {
		rng_seed(&r, seed + round, 5);
		hist_reset(h);
		sum = 0;
		for (size_t i = 0; i < n; i++) {
			/* Log-uniform over 1 ns .. 100 s, plus a few exact small ones. */
			double e = rng_uniform01(&r) * log(1e11);
			uint64_t x = round == 2 ? rng_below(&r, 300) : (uint64_t)exp(e);

			v[i] = x;
			sum += (double)x;
			hist_record(h, x);
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		for (size_t p = 0; p < sizeof(pcts) / sizeof(pcts[0]); p++)
			assert_close(hist_percentile(h, pcts[p]), exact_percentile(v, n, pcts[p]));
		hist_summarize(h, &s);
		assert_int_equal(s.count, n);
		assert_int_equal(s.min, v[0]);
		assert_int_equal(s.max, v[n - 1]);
		assert_true(fabs(s.mean - sum / (double)n) <= 1e-6 * (sum / (double)n));
		assert_close(s.p999, exact_percentile(v, n, 99.9));
	}
	free(v);
	free(h);
}

/* Small counts: nearest rank is exact for a handful of values. */
static void test_hist_small(void **state)
{
	struct hist *h = malloc(sizeof(*h));

	(void)state;
	hist_reset(h);
	assert_int_equal(hist_percentile(h, 50), 0);
	for (uint64_t x = 1; x <= 10; x++)
		hist_record(h, x * 10);
	assert_int_equal(hist_percentile(h, 50), 50);
	assert_int_equal(hist_percentile(h, 90), 90);
	assert_int_equal(hist_percentile(h, 91), 100);
	assert_int_equal(hist_percentile(h, 100), 100);
	assert_int_equal(hist_percentile(h, 0.1), 10);
	hist_reset(h);
	hist_record(h, 123456789);
	/* One value: every percentile is that value (clamped to min/max). */
	assert_int_equal(hist_percentile(h, 50), 123456789);
	assert_int_equal(hist_percentile(h, 99.9), 123456789);
	free(h);
}

/* Merging two histograms equals recording everything in one. */
static void test_hist_merge(void **state)
{
	struct hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
	struct rng r;

	(void)state;
	hist_reset(a);
	hist_reset(b);
	hist_reset(all);
	rng_seed(&r, blaster_test_seed("test_hist_merge"), 6);
	for (int i = 0; i < 50000; i++) {
		uint64_t x = rng_below(&r, 5000000);

		hist_record(i & 1 ? a : b, x);
		hist_record(all, x);
	}
	hist_record(a, 1ull << 40); /* clamped, still counted */
	hist_record(all, 1ull << 40);
	hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_int_equal(a->clamped, 1);
	assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
	assert_int_equal(hist_percentile(a, 100), 1ull << 40);
	free(a);
	free(b);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_percentiles_random),
		cmocka_unit_test(test_hist_small),
		cmocka_unit_test(test_hist_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
