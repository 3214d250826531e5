/* test_hist_log2.c - power-of-two histograms (lib/hist_log2.c): the bucket
 * edges, merging two writers' histograms, quantile estimates and the
 * conversion of bucket bounds to seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist_log2.h"
#include "we_test.h"

/* Bucket i starts at 2^i; 0 and 1 share bucket 0; the top bucket takes
 * everything above its start. */
static void test_bucket_edges(void **state)
{
	(void)state;
	assert_int_equal(hist_log2_bucket(0), 0);
	assert_int_equal(hist_log2_bucket(1), 0);
	assert_int_equal(hist_log2_bucket(2), 1);
	assert_int_equal(hist_log2_bucket(3), 1);
	assert_int_equal(hist_log2_bucket(4), 2);
	for (unsigned i = 1; i < HIST_LOG2_BUCKETS; i++) {
		uint64_t lo = (uint64_t)1 << i;

		assert_int_equal(hist_log2_bucket(lo), i);
		assert_int_equal(hist_log2_bucket(lo - 1), i - 1);
		assert_int_equal(hist_log2_bucket(lo * 2 - 1), i);
		assert_true(lo * 2 - 1 < hist_log2_upper(i));
		assert_true(lo >= hist_log2_upper(i - 1));
	}
	assert_int_equal(hist_log2_bucket((uint64_t)1 << 50), HIST_LOG2_BUCKETS - 1);
	assert_int_equal(hist_log2_bucket(UINT64_MAX), HIST_LOG2_BUCKETS - 1);
}

/* Recording counts one value in its bucket and adds it to the sum. */
static void test_record_count_sum(void **state)
{
	struct hist_log2 h = {0};

	(void)state;
	assert_int_equal(hist_log2_count(&h), 0);
	hist_log2_record(&h, 5);
	hist_log2_record(&h, 6);
	hist_log2_record(&h, 1000);
	assert_int_equal(hist_log2_count(&h), 3);
	assert_int_equal(h.sum, 1011);
	assert_int_equal(h.counts[2], 2);
	assert_int_equal(h.counts[9], 1);
}

/* Two workers' histograms merged equal the histogram of all their values
 * recorded in one (random values, seeded). */
static void test_merge_equals_union(void **state)
{
	struct hist_log2 a = {0}, b = {0}, all = {0}, m = {0};
	uint64_t seed = we_test_seed("merge_equals_union", 42), x = seed | 1;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint64_t v;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v = x >> (x % 64); /* spread over every magnitude */
		hist_log2_record(i % 3 == 0 ? &a : &b, v);
		hist_log2_record(&all, v);
	}
	hist_log2_merge(&m, &a);
	hist_log2_merge(&m, &b);
	assert_memory_equal(&m, &all, sizeof(m));
	assert_int_equal(hist_log2_count(&m), 10000);
}

/* A quantile is the upper bound of the bucket where its rank falls. */
static void test_quantiles(void **state)
{
	struct hist_log2 h = {0}, copy;

	(void)state;
	assert_int_equal(hist_log2_quantile(&h, 0.5), 0);
	for (int i = 0; i < 90; i++)
		hist_log2_record(&h, 100);   /* bucket 6: [64, 128) */
	for (int i = 0; i < 9; i++)
		hist_log2_record(&h, 3000);  /* bucket 11: [2048, 4096) */
	hist_log2_record(&h, 1u << 20);      /* bucket 20 */
	assert_int_equal(hist_log2_quantile(&h, 0.0), 128);
	assert_int_equal(hist_log2_quantile(&h, 0.5), 128);
	assert_int_equal(hist_log2_quantile(&h, 0.9), 128);
	assert_int_equal(hist_log2_quantile(&h, 0.95), 4096);
	assert_int_equal(hist_log2_quantile(&h, 0.99), 4096);
	assert_int_equal(hist_log2_quantile(&h, 1.0), 1u << 21);
	assert_int_equal(hist_log2_quantile(&h, 7.0), 1u << 21);
	hist_log2_load(&h, &copy);
	assert_memory_equal(&copy, &h, sizeof(h));
}

/* Bounds in seconds: 2^(i+1) cycles of a clock of hz. */
static void test_upper_seconds(void **state)
{
	(void)state;
	assert_true(hist_log2_upper_s(9, 1024) == 1.0);
	assert_true(hist_log2_upper_s(0, 2) == 1.0);
	assert_true(hist_log2_upper_s(29, 1000000000) > 1.07 &&
		    hist_log2_upper_s(29, 1000000000) < 1.08);
	assert_true(hist_log2_upper_s(3, 0) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_record_count_sum),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_upper_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
