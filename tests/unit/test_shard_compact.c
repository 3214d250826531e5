/* test_shard_compact.c - compaction of a shard's arena (dataplane/shard_compact.c)
 * against a model of every key: an arena fragmented by deletes and tier
 * moves gets its free memory back in large blocks, every item reads back
 * exactly with its tier, the moves stop (a finite number of them), and
 * PUTs and DELETEs between steps keep the walk on block starts (the arena's
 * invariants check it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "keyhash.h"
#include "shard.h"
#include "shard_test_util.h"
#include "we_test.h"

#define KEYS 4000
#define VLEN_MAX 1200

static struct keyhash_secret secret;
static struct shard *sh;
static void *mem;
static uint8_t model[KEYS][VLEN_MAX];
static uint32_t model_len[KEYS]; /* 0: absent */

static uint64_t key_hash(unsigned i, char *k, uint8_t *kl)
{
	*kl = (uint8_t)snprintf(k, 32, "compact-%u", i);
	return shard_hash(sh, (const uint8_t *)k, *kl);
}

/* Text for even keys (compresses), random bytes for odd ones. */
static enum we_status put(unsigned i, uint32_t len, uint64_t *rng)
{
	static const char text[] = "the quick brown fox jumps over the lazy dog; ";
	uint8_t v[VLEN_MAX];
	char k[32];
	uint8_t kl;
	uint64_t h = key_hash(i, k, &kl);
	enum we_status st;

	for (uint32_t o = 0; o < len; o++)
		v[o] = i % 2 == 0 ? (uint8_t)text[(o + i) % (sizeof(text) - 1)]
				  : (uint8_t)we_test_rand(rng);
	st = shard_put(sh, h, (const uint8_t *)k, kl, v, len);
	if (st == WE_STATUS_OK) {
		memcpy(model[i], v, len);
		model_len[i] = len;
	}
	return st;
}

static void del(unsigned i)
{
	char k[32];
	uint8_t kl;
	uint64_t h = key_hash(i, k, &kl);

	assert_int_equal(shard_delete(sh, h, (const uint8_t *)k, kl),
			 model_len[i] != 0 ? WE_STATUS_OK : WE_STATUS_NOT_FOUND);
	model_len[i] = 0;
}

static void check_all(void)
{
	for (unsigned i = 0; i < KEYS; i++) {
		char k[32];
		uint8_t kl;
		uint64_t h = key_hash(i, k, &kl);
		const uint8_t *v;
		uint32_t vl;
		enum we_status st = shard_get(sh, h, (const uint8_t *)k, kl, &v, &vl);

		if (model_len[i] == 0) {
			assert_int_equal(st, WE_STATUS_NOT_FOUND);
			continue;
		}
		assert_int_equal(st, WE_STATUS_OK);
		assert_int_equal(vl, model_len[i]);
		assert_memory_equal(v, model[i], vl);
	}
	assert_true(shard_check_invariants(sh));
}

static uint64_t room(void)
{
	struct shard_counters c;

	shard_read_counters(sh, &c);
	return c.arena_free_large_bytes + c.arena_untouched_bytes;
}

static int setup(void **state)
{
	(void)state;
	shard_test_new(&sh, &mem, &secret, KEYS * 2, 2u << 20);
	shard_set_promote_level(sh, 255); /* a GET leaves a compressed item compressed */
	memset(model_len, 0, sizeof(model_len));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(sh);
	free(mem);
	return 0;
}

/* Steps until a whole run of steps moves nothing; returns the items moved.
 * The bound on the steps is the test that the moves stop. */
static unsigned compact_until_still(void)
{
	unsigned total = 0, still = 0;

	for (unsigned step = 0; step < 100000 && still < 64; step++) {
		unsigned n = shard_compact_step(sh, 64, 8);

		assert_true(shard_check_invariants(sh)); /* the walk's place too */
		total += n;
		still = n == 0 ? still + 1 : 0;
	}
	assert_int_equal(still, 64);
	return total;
}

/* Fill with items of mixed sizes, delete two in three and compress half of
 * the text: the free memory is in pieces. Compaction gives it back in
 * large blocks; values, tiers and counters stay. */
static void test_fragmented_arena(void **state)
{
	const struct shard_demote_policy demote = {.warm_below = 255, .max_chains = 64,
						   .max_input_bytes = 1u << 20};
	struct shard_tier_counters t0, t1;
	struct shard_counters c0, c1;
	struct shard_scan cur = {0};
	uint64_t rng = 7, room0, room1;
	unsigned moved, filled = 0;

	(void)state;
	for (unsigned i = 0; i < KEYS; i++)
		if (put(i, 40 + (uint32_t)(we_test_rand(&rng) % 1000), &rng) == WE_STATUS_OK)
			filled++;
	assert_true(filled > KEYS / 2);
	for (unsigned i = 0; i < KEYS; i++)
		if (i % 3 != 0)
			del(i);
	while (cur.bucket < shard_scan_buckets(sh) / 2)
		assert_true(shard_demote_step(sh, &cur, &demote) >= 0);
	check_all();
	shard_read_tiers(sh, &t0);
	shard_read_counters(sh, &c0);
	room0 = room();
	assert_true(t0.items[TIER_PHOTON_SPHERE] > 0);
	assert_true(c0.arena_free_bytes - c0.arena_free_large_bytes > c0.arena_bytes / 4);

	moved = compact_until_still();
	shard_read_tiers(sh, &t1);
	shard_read_counters(sh, &c1);
	room1 = room();
	print_message("moved %u items; room %llu -> %llu of %llu; free blocks %llu\n", moved,
		      (unsigned long long)room0, (unsigned long long)room1,
		      (unsigned long long)c1.arena_bytes, (unsigned long long)c1.arena_free_bytes);
	assert_true(moved > 0);
	assert_int_equal(c1.compact_moves - c0.compact_moves, moved);
	assert_memory_equal(&t0, &t1, sizeof(t0)); /* tiers, bytes, hits: all kept */
	assert_int_equal(c1.items, c0.items);
	/* the same items; only their slack (under a minimum block) may differ */
	assert_true(c1.arena_used_bytes <= c0.arena_used_bytes + 24ull * moved &&
		    c0.arena_used_bytes <= c1.arena_used_bytes + 24ull * moved);
	/* most of what was in pieces is in large blocks now */
	assert_true(room1 > room0 + (c0.arena_free_bytes - c0.arena_free_large_bytes) / 2);
	check_all();
	/* and the room takes new items */
	for (unsigned i = 1; i < KEYS; i += 3)
		if (model_len[i] == 0)
			(void)put(i, 900, &rng);
	check_all();
}

/* PUTs, overwrites and DELETEs between steps (the walk's place merged away
 * or reused): every step leaves the invariants true and every value right. */
static void test_mutations_between_steps(void **state)
{
	uint64_t rng = 11;

	(void)state;
	for (unsigned round = 0; round < 3000; round++) {
		unsigned i = (unsigned)(we_test_rand(&rng) % KEYS);

		if (we_test_rand(&rng) % 3 == 0)
			del(i);
		else
			(void)put(i, 24 + (uint32_t)(we_test_rand(&rng) % 1100), &rng);
		(void)shard_compact_step(sh, 1 + (unsigned)(we_test_rand(&rng) % 16),
					 1 + (unsigned)(we_test_rand(&rng) % 4));
		assert_true(shard_check_invariants(sh));
	}
	check_all();
	(void)compact_until_still();
	check_all();
}

/* An empty arena, and one without holes: nothing to do. */
static void test_nothing_to_move(void **state)
{
	uint64_t rng = 3;

	(void)state;
	assert_int_equal(shard_compact_step(sh, 64, 8), 0);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(put(i, 100, &rng), WE_STATUS_OK);
	assert_int_equal(compact_until_still(), 0);
	check_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fragmented_arena, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutations_between_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_move, setup, teardown),
	};

	return shard_test_run_both(tests, sizeof(tests) / sizeof(tests[0]));
}
