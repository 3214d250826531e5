/* test_topk_sketch.c - the space-saving sketch (lib/topk_sketch.c) against
 * exact counts of Zipf streams: the space-saving bounds on every entry,
 * every heavy key kept, the exact top-10 for a skewed stream; merging two
 * sketches, decay, reset, and keys longer than the copy kept. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyhash.h"
#include "topk_sketch.h"
#include "we_test.h"

#define DISTINCT 10000
#define K_BIG 1024

/* Key i is "key:<i>"; its hash is the data plane's public key hash. */
static uint64_t key_hash[DISTINCT];
static char key_name[DISTINCT][16];
static uint64_t exact[DISTINCT];
static uint64_t exact_b[DISTINCT];
static double zipf_cdf[DISTINCT];
static uint64_t mem_a[K_BIG * 10];
static uint64_t mem_b[K_BIG * 10];
static struct topk_entry top[K_BIG];

static void keys_init(void)
{
	for (unsigned i = 0; i < DISTINCT; i++) {
		int n = snprintf(key_name[i], sizeof(key_name[i]), "key:%u", i);

		key_hash[i] = keyhash(key_name[i], (size_t)n);
	}
}

/* P(rank r) proportional to 1 / r^s, r = 1..DISTINCT; key i has rank i + 1. */
static void zipf_init(double s)
{
	double acc = 0;

	for (unsigned i = 0; i < DISTINCT; i++) {
		acc += 1.0 / pow((double)(i + 1), s);
		zipf_cdf[i] = acc;
	}
	for (unsigned i = 0; i < DISTINCT; i++)
		zipf_cdf[i] /= acc;
}

static unsigned zipf_draw(uint64_t *rng)
{
	return we_test_cdf_draw(zipf_cdf, DISTINCT, rng);
}

/* n draws into the sketch and into counts[]. */
static void feed(struct topk_sketch *s, uint64_t *counts, uint64_t *rng, uint64_t n)
{
	for (uint64_t j = 0; j < n; j++) {
		unsigned i = zipf_draw(rng);

		counts[i]++;
		topk_sketch_add(s, key_hash[i], key_name[i], strlen(key_name[i]), 1);
	}
}

static int key_of(uint64_t hash)
{
	for (unsigned i = 0; i < DISTINCT; i++)
		if (key_hash[i] == hash)
			return (int)i;
	return -1;
}

/* The space-saving bounds against true counts: count - error <= true <=
 * count for every entry, every key above the sketch's minimum kept, and
 * the minimum at most `heavy` (N/K, or 2N/K after a merge). */
static void check_bounds(const struct topk_sketch *s, const uint64_t *truth, uint64_t n_items,
			 double heavy, double max_error, uint64_t seed)
{
	static uint8_t kept[DISTINCT];
	size_t got = topk_sketch_top(s, top, K_BIG);

	WE_TEST_CHECK(s->total == n_items, seed);
	WE_TEST_CHECK(got == s->used, seed);
	WE_TEST_CHECK((double)topk_sketch_min(s) <= heavy, seed);
	memset(kept, 0, sizeof(kept));
	for (size_t r = 0; r < got; r++) {
		int i = key_of(top[r].hash);

		WE_TEST_CHECK(i >= 0, seed);
		kept[i] = 1;
		WE_TEST_CHECK(top[r].count - top[r].error <= truth[i], seed);
		WE_TEST_CHECK(truth[i] <= top[r].count, seed);
		WE_TEST_CHECK((double)top[r].error <= max_error, seed);
		WE_TEST_CHECK(top[r].key_len == strlen(key_name[i]), seed);
		WE_TEST_CHECK(memcmp(top[r].key, key_name[i], top[r].key_len) == 0, seed);
		if (r > 0)
			WE_TEST_CHECK(top[r - 1].count >= top[r].count, seed);
	}
	for (unsigned i = 0; i < DISTINCT; i++) {
		if (!kept[i])
			WE_TEST_CHECK(truth[i] <= topk_sketch_min(s), seed);
		if ((double)truth[i] > heavy)
			WE_TEST_CHECK(kept[i], seed);
	}
}

/* One Zipf stream of n items through a sketch of k: the bounds hold. */
static void run_zipf(double s, uint64_t n, uint32_t k, uint64_t seed)
{
	struct topk_sketch sk;
	uint64_t rng = seed;

	zipf_init(s);
	memset(exact, 0, sizeof(exact));
	assert_int_equal(topk_sketch_init(&sk, mem_a, sizeof(mem_a), k), 0);
	feed(&sk, exact, &rng, n);
	assert_int_equal(sk.used, k);
	check_bounds(&sk, exact, n, (double)n / k, (double)n / k, seed);
}

static void test_zipf_099(void **state)
{
	uint64_t seed = we_test_seed("zipf_099", 20261203);

	(void)state;
	run_zipf(0.99, 100000, 64, seed);
	run_zipf(0.99, 300000, 256, seed + 1);
	run_zipf(0.99, 300000, 1024, seed + 2);
}

/* s = 1.2, 10^6 items: the sketch's top-10 is the exact top-10, in order. */
static void test_zipf_12_top10(void **state)
{
	uint64_t seed = we_test_seed("zipf_12", 1202);
	struct topk_sketch sk;
	unsigned order[10];
	uint64_t rng = seed;

	(void)state;
	run_zipf(1.2, 200000, 64, seed + 7);

	zipf_init(1.2);
	memset(exact, 0, sizeof(exact));
	assert_int_equal(topk_sketch_init(&sk, mem_a, sizeof(mem_a), 128), 0);
	feed(&sk, exact, &rng, 1000000);
	check_bounds(&sk, exact, 1000000, 1000000.0 / 128, 1000000.0 / 128, seed);
	/* The exact top-10 by selection (ties broken by the smaller key). */
	for (unsigned r = 0; r < 10; r++) {
		unsigned best = DISTINCT;

		for (unsigned i = 0; i < DISTINCT; i++) {
			int taken = 0;

			for (unsigned q = 0; q < r; q++)
				taken |= order[q] == i;
			if (!taken && (best == DISTINCT || exact[i] > exact[best]))
				best = i;
		}
		order[r] = best;
	}
	assert_int_equal(topk_sketch_top(&sk, top, 10), 10);
	for (unsigned r = 0; r < 10; r++)
		WE_TEST_CHECK(top[r].hash == key_hash[order[r]], seed);
}

/* Two workers' sketches merged: the bounds hold for the union's counts,
 * with error <= N/K and every key above 2N/K kept; also when the two K
 * differ, and a merge of sketches that never evicted is exact. */
static void test_merge(void **state)
{
	uint64_t seed = we_test_seed("merge", 77);
	struct topk_sketch a, b;
	uint64_t rng_a = seed, rng_b = seed ^ 0x5555;
	const uint64_t na = 150000, nb = 100000, n = na + nb;

	(void)state;
	zipf_init(0.99);
	memset(exact, 0, sizeof(exact));
	memset(exact_b, 0, sizeof(exact_b));
	assert_int_equal(topk_sketch_init(&a, mem_a, sizeof(mem_a), 128), 0);
	assert_int_equal(topk_sketch_init(&b, mem_b, sizeof(mem_b), 128), 0);
	feed(&a, exact, &rng_a, na);
	feed(&b, exact_b, &rng_b, nb);
	for (unsigned i = 0; i < DISTINCT; i++)
		exact[i] += exact_b[i];
	topk_sketch_merge(&a, &b);
	check_bounds(&a, exact, n, 2.0 * n / 128, (double)n / 128, seed);

	/* K 64 into which a K 512 merges. */
	rng_a = seed + 1;
	rng_b = seed + 2;
	memset(exact, 0, sizeof(exact));
	memset(exact_b, 0, sizeof(exact_b));
	assert_int_equal(topk_sketch_init(&a, mem_a, sizeof(mem_a), 64), 0);
	assert_int_equal(topk_sketch_init(&b, mem_b, sizeof(mem_b), 512), 0);
	feed(&a, exact, &rng_a, na);
	feed(&b, exact_b, &rng_b, nb);
	for (unsigned i = 0; i < DISTINCT; i++)
		exact[i] += exact_b[i];
	topk_sketch_merge(&a, &b);
	assert_int_equal(a.used, 64);
	check_bounds(&a, exact, n, 2.0 * na / 64 + 2.0 * nb / 512, (double)na / 64 + (double)nb / 512,
		     seed);

	/* Never evicted: exact, errors 0. */
	assert_int_equal(topk_sketch_init(&a, mem_a, sizeof(mem_a), 16), 0);
	assert_int_equal(topk_sketch_init(&b, mem_b, sizeof(mem_b), 16), 0);
	for (uint64_t k = 0; k < 6; k++) {
		topk_sketch_add(&a, k, NULL, 0, k + 1);
		topk_sketch_add(&b, k + 3, NULL, 0, 10);
	}
	topk_sketch_merge(&a, &b);
	assert_int_equal(a.used, 9);
	assert_int_equal(a.total, 21 + 60);
	assert_int_equal(topk_sketch_top(&a, top, 16), 9);
	for (unsigned r = 0; r < 9; r++) {
		uint64_t k = top[r].hash;
		uint64_t want = (k < 6 ? k + 1 : 0) + (k >= 3 ? 10 : 0);

		assert_int_equal(top[r].count, want);
		assert_int_equal(top[r].error, 0);
	}
	assert_int_equal(top[0].hash, 5);
}

/* Decay halves counts, errors and the total, rounding up; the order stays
 * and adding goes on as before. */
static void test_decay(void **state)
{
	uint64_t seed = we_test_seed("decay", 3);
	struct topk_sketch s;
	static struct topk_entry before[K_BIG];
	uint64_t rng = seed;
	size_t n;

	(void)state;
	assert_int_equal(topk_sketch_init(&s, mem_a, sizeof(mem_a), 8), 0);
	topk_sketch_add(&s, 1, "a", 1, 7);
	topk_sketch_add(&s, 2, "b", 1, 4);
	topk_sketch_add(&s, 3, "c", 1, 1);
	topk_sketch_decay(&s);
	assert_int_equal(topk_sketch_top(&s, top, 8), 3);
	assert_int_equal(top[0].count, 4);
	assert_int_equal(top[1].count, 2);
	assert_int_equal(top[2].count, 1);
	assert_int_equal(s.total, 6);
	topk_sketch_add(&s, 3, "c", 1, 5);
	assert_int_equal(topk_sketch_top(&s, top, 1), 1);
	assert_int_equal(top[0].hash, 3);
	assert_int_equal(top[0].count, 6);

	/* A Zipf stream: same order after decay, bounds against the halved
	 * truth up to the rounding. */
	zipf_init(0.99);
	memset(exact, 0, sizeof(exact));
	assert_int_equal(topk_sketch_init(&s, mem_a, sizeof(mem_a), 64), 0);
	feed(&s, exact, &rng, 50000);
	n = topk_sketch_top(&s, before, K_BIG);
	topk_sketch_decay(&s);
	assert_int_equal(topk_sketch_top(&s, top, K_BIG), n);
	for (size_t r = 0; r < n; r++) {
		int i = key_of(top[r].hash);
		size_t q = 0;

		while (before[q].hash != top[r].hash)
			q++;
		WE_TEST_CHECK(top[r].count == (before[q].count + 1) / 2, seed);
		WE_TEST_CHECK(top[r].error == (before[q].error + 1) / 2, seed);
		if (r > 0)
			WE_TEST_CHECK(top[r - 1].count >= top[r].count, seed);
		WE_TEST_CHECK((double)top[r].count >= exact[i] / 2.0, seed);
		WE_TEST_CHECK((double)(top[r].count - top[r].error) <= exact[i] / 2.0 + 1, seed);
	}
	feed(&s, exact, &rng, 1000);
	assert_int_equal(s.total, 25000 + 1000);
}

/* Keys longer than TOPK_KEY_MAX: the first 32 bytes and the real length
 * are kept; two keys alike in those 32 bytes stay apart by hash. */
static void test_long_keys(void **state)
{
	struct topk_sketch s;
	char k1[48], k2[48];

	(void)state;
	memset(k1, 'x', sizeof(k1));
	memcpy(k2, k1, sizeof(k2));
	k2[40] = 'y';
	assert_int_equal(topk_sketch_init(&s, mem_a, sizeof(mem_a), 4), 0);
	for (int i = 0; i < 3; i++)
		topk_sketch_add(&s, keyhash(k1, sizeof(k1)), k1, sizeof(k1), 1);
	topk_sketch_add(&s, keyhash(k2, sizeof(k2)), k2, sizeof(k2), 1);
	topk_sketch_add(&s, keyhash("z", 1), "z", 1, 1);
	assert_int_equal(topk_sketch_top(&s, top, 4), 3);
	assert_int_equal(top[0].count, 3);
	assert_int_equal(top[0].key_len, 48);
	assert_memory_equal(top[0].key, k1, TOPK_KEY_MAX);
	assert_int_equal(top[1].count, 1);
	assert_int_equal(top[1].key_len, 48);
	assert_true(top[0].hash != top[1].hash);
	assert_int_equal(top[2].key_len, 1);
	assert_int_equal(top[2].key[0], 'z');
	assert_int_equal(top[2].key[1], 0);
}

/* Sizes and arguments; reset empties; top of n < used is the full
 * listing's prefix. */
static void test_init_reset_top(void **state)
{
	struct topk_sketch s;
	static struct topk_entry all[K_BIG];

	(void)state;
	assert_int_equal(topk_sketch_mem_size(0), 0);
	assert_int_equal(topk_sketch_mem_size(TOPK_K_MAX + 1), 0);
	assert_true(topk_sketch_mem_size(K_BIG) <= sizeof(mem_a));
	assert_int_equal(topk_sketch_init(&s, mem_a, 100, 64), -EINVAL);
	assert_int_equal(topk_sketch_init(&s, (uint8_t *)mem_a + 1, sizeof(mem_a) - 1, 64), -EINVAL);
	assert_int_equal(topk_sketch_init(&s, NULL, sizeof(mem_a), 64), -EINVAL);
	assert_int_equal(topk_sketch_init(&s, mem_a, sizeof(mem_a), 32), 0);
	assert_int_equal(topk_sketch_min(&s), 0);
	for (uint64_t i = 0; i < 5000; i++)
		topk_sketch_add(&s, i % 97, NULL, 0, 1 + i % 5);
	assert_int_equal(s.used, 32);
	assert_true(topk_sketch_min(&s) > 0);
	assert_int_equal(topk_sketch_top(&s, all, K_BIG), 32);
	for (size_t n = 0; n <= 32; n++) {
		assert_int_equal(topk_sketch_top(&s, top, n), n);
		assert_memory_equal(top, all, n * sizeof(top[0]));
	}
	topk_sketch_reset(&s);
	assert_int_equal(s.used, 0);
	assert_int_equal(s.total, 0);
	assert_int_equal(topk_sketch_top(&s, top, 8), 0);
	topk_sketch_add(&s, 42, "q", 1, 2);
	assert_int_equal(topk_sketch_top(&s, top, 8), 1);
	assert_int_equal(top[0].count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_reset_top),
		cmocka_unit_test(test_long_keys),
		cmocka_unit_test(test_zipf_099),
		cmocka_unit_test(test_zipf_12_top10),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_decay),
	};

	keys_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
