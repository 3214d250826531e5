/* test_access_sample.c - the worker's sampled region load and hot keys
 * (dataplane/access_sample.c): the sampling rate, region counts, the
 * pending array's bound, the published top and its decay, on and off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "access_sample.h"
#include "keyhash.h"

static struct access_sampler *new_sampler(uint32_t every, uint64_t window_ns)
{
	struct access_sampler *s = malloc(sizeof(*s));

	assert_non_null(s);
	assert_int_equal(access_sample_init(s, every, window_ns, 0), 0);
	return s;
}

static void free_sampler(struct access_sampler *s)
{
	access_sample_free(s);
	free(s);
}

/* note() one key, with its real public hash. */
static void note_key(struct access_sampler *s, const char *key)
{
	size_t n = strlen(key);

	access_sample_note(s, keyhash(key, n), (const uint8_t *)key, (uint8_t)n);
}

/* 1 of every n: 1000 requests at n = 4 give exactly 250 samples, counted
 * in the region of their key; the drain empties the pending array. */
static void test_rate_and_regions(void **state)
{
	struct access_sampler *s = new_sampler(4, 0);
	uint32_t r = keyhash_region(keyhash("alpha", 5));
	uint64_t total = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		note_key(s, "alpha");
		if (s->n_pending == ACCESS_PENDING_MAX)
			access_sample_drain(s);
	}
	access_sample_drain(s);
	assert_int_equal(s->n_pending, 0);
	assert_int_equal(s->sampled, 250);
	assert_int_equal(access_sample_region(s, r), 250);
	for (uint32_t i = 0; i < WE_REGIONS; i++)
		total += access_sample_region(s, i);
	assert_int_equal(total, 250);
	assert_int_equal(s->dropped, 0);
	free_sampler(s);
}

/* A full pending array drops (and counts) samples instead of growing. */
static void test_pending_bound(void **state)
{
	struct access_sampler *s = new_sampler(1, 0);

	(void)state;
	for (int i = 0; i < ACCESS_PENDING_MAX + 10; i++)
		note_key(s, "k");
	assert_int_equal(s->n_pending, ACCESS_PENDING_MAX);
	assert_int_equal(s->dropped, 10);
	access_sample_drain(s);
	assert_int_equal(s->sampled, ACCESS_PENDING_MAX);
	free_sampler(s);
}

/* Off (0) samples nothing; turning it on later starts at once. */
static void test_off_and_on(void **state)
{
	struct access_sampler *s = new_sampler(0, 0);

	(void)state;
	for (int i = 0; i < 100000; i++)
		note_key(s, "k");
	assert_int_equal(s->n_pending, 0);
	access_sample_set_every(s, 2);
	for (int i = 0; i < 10; i++)
		note_key(s, "k");
	assert_int_equal(s->n_pending, 5);
	free_sampler(s);
}

/* The published top lists keys by count; the hottest first, with its
 * first bytes and real length; a long key keeps TOPK_KEY_MAX bytes. */
static void test_publish_order(void **state)
{
	struct access_sampler *s = new_sampler(1, 0);
	const char *keys[] = {"cold", "warm", "hot", "a-key-longer-than-thirty-two-bytes-in-all"};
	struct topk_entry out[ACCESS_PUBLISH_TOP];
	uint64_t sampled;
	size_t n;

	(void)state;
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < (k + 1) * 10; i++) {
			note_key(s, keys[k]);
			access_sample_drain(s);
		}
	access_sample_publish(s, 1);
	n = access_sample_read(s, out, ACCESS_PUBLISH_TOP, &sampled);
	assert_int_equal(n, 4);
	assert_int_equal(sampled, 100);
	assert_int_equal(out[0].count, 40);
	assert_int_equal(out[0].key_len, strlen(keys[3]));
	assert_memory_equal(out[0].key, keys[3], TOPK_KEY_MAX);
	assert_int_equal(out[1].count, 30);
	assert_memory_equal(out[1].key, "hot", 3);
	assert_int_equal(out[3].count, 10);
	assert_memory_equal(out[3].key, "cold", 4);
	/* max bounds the copy */
	assert_int_equal(access_sample_read(s, out, 2, &sampled), 2);
	free_sampler(s);
}

/* A window that passed halves the counts before publishing. */
static void test_decay(void **state)
{
	struct access_sampler *s = new_sampler(1, 1000);
	struct topk_entry out[ACCESS_PUBLISH_TOP];
	uint64_t sampled;

	(void)state;
	for (int i = 0; i < 40; i++) {
		note_key(s, "hot");
		access_sample_drain(s);
	}
	access_sample_publish(s, 500); /* within the window: as counted */
	assert_int_equal(access_sample_read(s, out, 1, &sampled), 1);
	assert_int_equal(out[0].count, 40);
	access_sample_publish(s, 1500); /* one window later: halved */
	assert_int_equal(access_sample_read(s, out, 1, &sampled), 1);
	assert_int_equal(out[0].count, 20);
	assert_int_equal(sampled, 20);
	/* the region counter is cumulative: no decay */
	assert_int_equal(access_sample_region(s, keyhash_region(keyhash("hot", 3))), 40);
	free_sampler(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_and_regions),
		cmocka_unit_test(test_pending_bound),
		cmocka_unit_test(test_off_and_on),
		cmocka_unit_test(test_publish_order),
		cmocka_unit_test(test_decay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
