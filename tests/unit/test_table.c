/* test_table.c - unit tests of the shard index (dataplane/table.c).
 *
 * The table stores no keys, so the tests craft hashes that land on chosen
 * buckets with chosen tags, and use the slot's offset as the "key": the
 * key_equal callback compares offsets. The randomized test takes its seed
 * from WE_TEST_SEED and names it on failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"
#include "we_test.h"

struct fixture {
	struct table t;
	void *mem;
};

static int fixture_make(void **state, uint32_t nbuckets, uint32_t noverflow)
{
	struct table_geometry g = { .nbuckets = nbuckets, .noverflow = noverflow };
	struct fixture *f = calloc(1, sizeof(*f));
	size_t bytes = table_memory_size(&g);

	if (f == NULL)
		return -1;
	f->mem = aligned_alloc(64, bytes);
	if (f->mem == NULL || table_init(&f->t, f->mem, bytes, &g) != 0) {
		free(f->mem);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* 2 main buckets, 3 overflow buckets: small enough to fill by hand. */
static int setup_small(void **state)
{
	return fixture_make(state, 2, 3);
}

/* 1000 main buckets (not a power of two), 40 overflow buckets. */
static int setup_medium(void **state)
{
	return fixture_make(state, 1000, 40);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->mem);
	free(f);
	return 0;
}

/* A hash that keyhash_bucket() maps to `bucket` and keyhash_tag() to `tag`. */
static uint64_t hash_for(const struct table *t, uint32_t bucket, uint16_t tag)
{
	uint64_t bits = (((uint64_t)bucket << 32) + t->nbuckets - 1) / t->nbuckets;
	uint64_t hash = (uint64_t)tag << 48 | bits << 16 | 0x123;

	assert_int_equal(keyhash_bucket(hash, t->nbuckets), bucket);
	assert_int_equal(keyhash_tag(hash), tag);
	return hash;
}

static unsigned key_compares;

/* The "key" of a slot is its offset; counts the comparisons made. */
static bool offset_equal(const void *ctx, uint64_t offset)
{
	key_compares++;
	return *(const uint64_t *)ctx == offset;
}

static uint64_t *find(const struct table *t, uint64_t hash, uint64_t offset)
{
	return table_find(t, hash, offset_equal, &offset);
}

static void insert_ok(struct table *t, uint64_t hash, uint64_t offset)
{
	assert_true(table_can_insert(t, hash));
	assert_int_equal(table_insert(t, hash, offset), 0);
	assert_true(table_check_invariants(t));
}

static void remove_ok(struct table *t, uint64_t hash, uint64_t offset)
{
	uint64_t *slot = find(t, hash, offset);

	assert_non_null(slot);
	table_remove(t, hash, slot);
	assert_null(find(t, hash, offset));
	assert_true(table_check_invariants(t));
}

/* The geometry holds the capacity at no more than 80% slot load, keeps a
 * pool of a quarter of the main buckets plus a margin, and refuses zero. */
static void test_geometry_for_capacity(void **state)
{
	struct table_geometry g;

	(void)state;
	assert_int_equal(table_geometry_for(0, &g), -EINVAL);
	assert_int_equal(table_geometry_for(UINT64_C(1) << 41, &g), -EINVAL);
	assert_int_equal(table_geometry_for(1, &g), 0);
	assert_int_equal(g.nbuckets, 1);
	for (uint64_t cap = 1000; cap <= 10000000; cap *= 10) {
		assert_int_equal(table_geometry_for(cap, &g), 0);
		assert_true(g.nbuckets * 5.6 >= (double)cap);
		assert_true((g.nbuckets - 1) * 5.6 < (double)cap);
		assert_int_equal(g.noverflow, g.nbuckets / 4 + 64);
		assert_int_equal(table_memory_size(&g), ((size_t)g.nbuckets + g.noverflow) * 64);
	}
}

/* table_init refuses unaligned or short memory and an empty geometry. */
static void test_init_rejects_bad_arguments(void **state)
{
	struct table_geometry g = { .nbuckets = 4, .noverflow = 1 };
	struct table t;
	uint8_t *mem = aligned_alloc(64, 64 * 8);

	(void)state;
	assert_non_null(mem);
	assert_int_equal(table_init(&t, mem + 8, 64 * 7, &g), -EINVAL);
	assert_int_equal(table_init(&t, mem, 64 * 4, &g), -EINVAL);
	g.nbuckets = 0;
	assert_int_equal(table_init(&t, mem, 64 * 8, &g), -EINVAL);
	g.nbuckets = 4;
	assert_int_equal(table_init(&t, mem, 64 * 8, &g), 0);
	assert_true(table_check_invariants(&t));
	free(mem);
}

/* Inserted slots are found in their own bucket, absent ones are not, and a
 * removed slot is gone while the others stay. */
static void test_insert_find_remove(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;

	for (uint32_t i = 0; i < 500; i++)
		insert_ok(t, hash_for(t, i * 2, (uint16_t)(i + 1)), 1000 + i);
	assert_int_equal(t->items, 500);
	for (uint32_t i = 0; i < 500; i++) {
		assert_non_null(find(t, hash_for(t, i * 2, (uint16_t)(i + 1)), 1000 + i));
		assert_null(find(t, hash_for(t, i * 2 + 1, (uint16_t)(i + 1)), 1000 + i));
		assert_null(find(t, hash_for(t, i * 2, (uint16_t)(i + 2)), 1000 + i));
	}
	for (uint32_t i = 0; i < 500; i += 2)
		remove_ok(t, hash_for(t, i * 2, (uint16_t)(i + 1)), 1000 + i);
	for (uint32_t i = 0; i < 500; i++) {
		uint64_t *slot = find(t, hash_for(t, i * 2, (uint16_t)(i + 1)), 1000 + i);

		if (i % 2 == 0)
			assert_null(slot);
		else
			assert_int_equal(table_slot_offset(*slot), 1000 + i);
	}
	assert_int_equal(t->items, 250);
}

/* The full key is compared only on a tag match: with equal tags in one
 * bucket the comparison tells the entries apart, and an entry with a unique
 * tag costs exactly one comparison. */
static void test_tag_collisions(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t same = hash_for(t, 7, 0xbeef);
	uint64_t other = hash_for(t, 7, 0x1234);

	for (uint64_t off = 1; off <= 5; off++)
		insert_ok(t, same, off);
	insert_ok(t, other, 99);
	for (uint64_t off = 1; off <= 5; off++) {
		uint64_t *slot = find(t, same, off);

		assert_non_null(slot);
		assert_int_equal(table_slot_offset(*slot), off);
		assert_int_equal(table_slot_tag(*slot), 0xbeef);
	}
	key_compares = 0;
	assert_non_null(find(t, other, 99));
	assert_int_equal(key_compares, 1);
	key_compares = 0;
	assert_null(find(t, same, 6)); /* five candidates compared, none is it */
	assert_int_equal(key_compares, 5);
	remove_ok(t, same, 3);
	for (uint64_t off = 1; off <= 5; off++)
		if (off != 3)
			assert_non_null(find(t, same, off));
	assert_non_null(find(t, other, 99));
}

/* A bucket takes overflow buckets from the pool as it fills, its chain stays
 * searchable, and removals give the emptied overflow buckets back. */
static void test_overflow_chain_grows_and_shrinks(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t h = hash_for(t, 999, 0x77);

	for (uint64_t off = 1; off <= 3 * TABLE_SLOTS + 2; off++)
		insert_ok(t, h, off);
	assert_int_equal(t->overflow_used, 3);
	for (uint64_t off = 1; off <= 3 * TABLE_SLOTS + 2; off++)
		assert_non_null(find(t, h, off));
	/* Removing from the main bucket pulls the chain's tail forward. */
	for (uint64_t off = 1; off <= 2; off++)
		remove_ok(t, h, off);
	assert_int_equal(t->overflow_used, 2);
	for (uint64_t off = 3; off <= 3 * TABLE_SLOTS + 2; off++)
		assert_non_null(find(t, h, off));
	for (uint64_t off = 3; off <= 3 * TABLE_SLOTS + 2; off++)
		remove_ok(t, h, off);
	assert_int_equal(t->overflow_used, 0);
	assert_int_equal(t->items, 0);
}

/* With the pool used up, a full chain refuses an insert with -ENOSPC and the
 * table is unchanged; a removal in that chain makes room again, and an
 * overflow bucket given back serves another chain. */
static void test_full_chain_and_pool_is_no_space(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t h0 = hash_for(t, 0, 0x10);
	uint64_t h1 = hash_for(t, 1, 0x20);
	size_t bytes = table_memory_size(&(struct table_geometry){ 2, 3 });
	uint8_t *mem_before = malloc(bytes);
	struct table t_before;
	uint64_t off;

	assert_non_null(mem_before);
	for (off = 1; off <= 3 * TABLE_SLOTS; off++)
		insert_ok(t, h0, off); /* main bucket 0 and two pool buckets */
	for (; off <= 5 * TABLE_SLOTS; off++)
		insert_ok(t, h1, off); /* main bucket 1 and the last pool bucket */
	assert_int_equal(t->overflow_used, 3);
	assert_int_equal(t->pool_head, 0);

	memcpy(mem_before, f->mem, bytes);
	t_before = *t;
	assert_false(table_can_insert(t, h0));
	assert_false(table_can_insert(t, h1));
	assert_int_equal(table_insert(t, h0, 1000), -ENOSPC);
	assert_int_equal(table_insert(t, h1, 1001), -ENOSPC);
	assert_memory_equal(mem_before, f->mem, bytes);
	assert_memory_equal(&t_before, t, sizeof(t_before));

	remove_ok(t, h1, 3 * TABLE_SLOTS + 4); /* a hole in bucket 1's main bucket */
	assert_false(table_can_insert(t, h0));
	insert_ok(t, h1, 1001);
	assert_non_null(find(t, h1, 1001));

	/* Emptying bucket 1's overflow bucket returns it to the pool, for bucket 0. */
	for (uint64_t i = 0; i < TABLE_SLOTS; i++) {
		uint64_t *last = &t->buckets[t->buckets[1].next].slot[TABLE_SLOTS - 1 - i];

		remove_ok(t, h1, table_slot_offset(*last));
	}
	assert_int_equal(t->overflow_used, 2);
	insert_ok(t, h0, 1000);
	assert_int_equal(t->overflow_used, 3);
	for (off = 1; off <= 3 * TABLE_SLOTS; off++)
		assert_non_null(find(t, h0, off));
	assert_non_null(find(t, h0, 1000));
	assert_int_equal(t->items, 3 * TABLE_SLOTS + 1 + TABLE_SLOTS);
	free(mem_before);
}

/* The invariant check notices a broken chain: a hole before a used slot
 * (chains must stay packed) and an overflow bucket claimed by two chains. */
static void test_check_detects_damage(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t h0 = hash_for(t, 0, 0x10);
	uint64_t saved;

	for (uint64_t off = 1; off <= TABLE_SLOTS + 1; off++)
		insert_ok(t, h0, off);
	saved = t->buckets[0].slot[2];
	t->buckets[0].slot[2] = 0;
	assert_false(table_check_invariants(t));
	t->buckets[0].slot[2] = saved;
	assert_true(table_check_invariants(t));
	t->buckets[1].next = t->buckets[0].next;
	assert_false(table_check_invariants(t));
	t->buckets[1].next = 0;
	assert_true(table_check_invariants(t));
}

/* The seed when WE_TEST_SEED is unset. */
#define SEED_FALLBACK 0x7ab1e

/* Random inserts, lookups and removes over few buckets and few tags (so
 * chains, tag collisions and a full pool are common) agree with a plain
 * array model, and the structure stays valid after every operation. */
static void test_random_against_model(void **state)
{
	enum { KEYS = 200, OPS = 100000 };
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t seed = we_test_seed(__func__, SEED_FALLBACK);
	uint64_t rng = seed;
	uint64_t hash[KEYS];
	bool present[KEYS] = { false };
	uint64_t items = 0, refused = 0;

	for (unsigned k = 0; k < KEYS; k++)
		hash[k] = hash_for(t, (uint32_t)(we_test_rand(&rng) % t->nbuckets),
				   (uint16_t)(1 + we_test_rand(&rng) % 4));
	for (unsigned op = 0; op < OPS; op++) {
		unsigned k = (unsigned)(we_test_rand(&rng) % KEYS);
		uint64_t offset = 8 * (k + 1); /* the key's identity */
		uint64_t *slot = find(t, hash[k], offset);

		WE_TEST_CHECK((slot != NULL) == present[k], seed);
		if (present[k] && we_test_rand(&rng) % 100 < 45) {
			table_remove(t, hash[k], slot);
			present[k] = false;
			items--;
		} else if (!present[k]) {
			bool room = table_can_insert(t, hash[k]);
			int rc = table_insert(t, hash[k], offset);

			WE_TEST_CHECK(rc == (room ? 0 : -ENOSPC), seed);
			present[k] = rc == 0;
			items += rc == 0;
			refused += rc != 0;
		}
		WE_TEST_CHECK(t->items == items, seed);
		WE_TEST_CHECK(table_check_invariants(t), seed);
	}
	for (unsigned k = 0; k < KEYS; k++)
		WE_TEST_CHECK((find(t, hash[k], 8 * (k + 1)) != NULL) == present[k], seed);
	/* 200 keys over 16 main buckets of 7 and a pool of 8: it must fill up. */
	WE_TEST_CHECK(refused > 0, seed);
}

static int setup_tiny(void **state)
{
	return fixture_make(state, 16, 8);
}

/* An empty table: every step copies nothing and moves the cursor by its
 * chain budget; at the end the cursor stays there. */
static void test_scan_empty_table(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX];
	uint32_t cursor = 0;

	for (uint32_t expect = 300; expect < t->nbuckets; expect += 300) {
		assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 300), 0);
		assert_int_equal(cursor, expect);
	}
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 300), 0);
	assert_int_equal(cursor, t->nbuckets);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 1), 0);
		assert_int_equal(cursor, t->nbuckets);
	}
}

/* The budgets: a slot budget below the longest chain, a chain budget of 0
 * and a cursor past the end are refused without change; a chain is never
 * split (a step stops before the chain that does not fit, the next step
 * starts with it); a full 35-slot chain fits a 35-slot budget alone. */
static void test_scan_budget(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX + 8];
	uint32_t cursor;
	uint64_t off;

	for (off = 1; off <= 3; off++)
		insert_ok(t, hash_for(t, 4, 0x44), off);
	for (; off <= 3 + TABLE_CHAIN_SLOTS_MAX; off++)
		insert_ok(t, hash_for(t, 5, 0x55), off);
	assert_int_equal(table_insert(t, hash_for(t, 5, 0x55), 999), -ENOSPC); /* chain full */
	insert_ok(t, hash_for(t, 6, 0x66), off);

	cursor = 4;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX - 1, 10), -EINVAL);
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 0), -EINVAL);
	assert_int_equal(cursor, 4);
	cursor = t->nbuckets + 1;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 1), -EINVAL);
	assert_int_equal(cursor, t->nbuckets + 1);

	/* 3 slots, then 35 do not fit in the 32 left: stop before bucket 5. */
	cursor = 4;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 10), 3);
	assert_int_equal(cursor, 5);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(table_slot_offset(slots[i]), i + 1);
	/* The full chain alone, in chain order. */
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 10),
			 TABLE_CHAIN_SLOTS_MAX);
	assert_int_equal(cursor, 6);
	for (unsigned i = 0; i < TABLE_CHAIN_SLOTS_MAX; i++) {
		assert_int_equal(table_slot_offset(slots[i]), 4 + i);
		assert_int_equal(table_slot_tag(slots[i]), 0x55);
	}
	/* Exactly enough room for two chains, not for the third. */
	cursor = 4;
	assert_int_equal(table_scan_step(t, &cursor, slots, 3 + TABLE_CHAIN_SLOTS_MAX, 10),
			 3 + TABLE_CHAIN_SLOTS_MAX);
	assert_int_equal(cursor, 6);
	/* The chain budget counts empty chains: 10 chains from 6 reach 16. */
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 10), 1);
	assert_int_equal(cursor, 16);
	assert_int_equal(table_slot_offset(slots[0]), off);
	assert_true(table_check_invariants(t));
}

/* Random inserts and removes between small scan steps, over few buckets (so
 * chains grow into the pool and give buckets back): every slot present at
 * the start and never removed is copied exactly once; a copied slot is
 * present, in a chain the step covered, and either present since the start
 * or inserted while its chain was still ahead of the cursor; nothing is
 * copied twice; one inserted ahead of the cursor and kept is copied. */
static void test_scan_random_with_mutations(void **state)
{
	enum { KEYS = 200, SCANS = 300 };
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t seed = we_test_seed(__func__, SEED_FALLBACK);
	uint64_t rng = seed;
	uint64_t hash[KEYS];
	bool present[KEYS] = { false };
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX + 16];
	uint64_t pool_returns = 0;

	for (unsigned k = 0; k < KEYS; k++)
		hash[k] = hash_for(t, (uint32_t)(we_test_rand(&rng) % t->nbuckets),
				   (uint16_t)(1 + we_test_rand(&rng) % 4));
	for (unsigned scan = 0; scan < SCANS; scan++) {
		bool must[KEYS];  /* must be copied before the scan ends */
		unsigned seen[KEYS] = { 0 };
		uint32_t cursor = 0;

		memcpy(must, present, sizeof(must));
		while (cursor < t->nbuckets) {
			uint32_t from = cursor;
			unsigned max_slots = TABLE_CHAIN_SLOTS_MAX + (unsigned)(we_test_rand(&rng) % 16);
			unsigned max_chains = 1 + (unsigned)(we_test_rand(&rng) % 8);
			int n = table_scan_step(t, &cursor, slots, max_slots, max_chains);

			WE_TEST_CHECK(n >= 0 && (unsigned)n <= max_slots, seed);
			WE_TEST_CHECK(cursor > from && cursor - from <= max_chains, seed);
			for (int i = 0; i < n; i++) {
				unsigned k = (unsigned)(table_slot_offset(slots[i]) / 8 - 1);
				uint32_t b = keyhash_bucket(hash[k], t->nbuckets);

				WE_TEST_CHECK(k < KEYS && present[k] && must[k] && seen[k] == 0, seed);
				WE_TEST_CHECK(b >= from && b < cursor, seed);
				seen[k]++;
			}
			/* A few mutations before the next step. */
			for (unsigned op = we_test_rand(&rng) % 6; op > 0; op--) {
				unsigned k = (unsigned)(we_test_rand(&rng) % KEYS);
				uint64_t offset = 8 * (k + 1);
				uint64_t *slot = find(t, hash[k], offset);
				uint32_t overflow = t->overflow_used;

				if (slot != NULL) {
					table_remove(t, hash[k], slot);
					present[k] = false;
					must[k] = false;
					pool_returns += t->overflow_used < overflow;
				} else if (table_insert(t, hash[k], offset) == 0) {
					present[k] = true;
					must[k] = keyhash_bucket(hash[k], t->nbuckets) >= cursor;
				}
			}
			WE_TEST_CHECK(table_check_invariants(t), seed);
		}
		for (unsigned k = 0; k < KEYS; k++)
			WE_TEST_CHECK(!must[k] || seen[k] == 1, seed);
		WE_TEST_CHECK(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 1) == 0 &&
				      cursor == t->nbuckets,
			      seed);
	}
	WE_TEST_CHECK(pool_returns > 0, seed); /* chains did give buckets back mid-scan */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_for_capacity),
		cmocka_unit_test(test_init_rejects_bad_arguments),
		cmocka_unit_test_setup_teardown(test_insert_find_remove, setup_medium, teardown),
		cmocka_unit_test_setup_teardown(test_tag_collisions, setup_medium, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_chain_grows_and_shrinks, setup_medium,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_chain_and_pool_is_no_space, setup_small,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_detects_damage, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_random_against_model, setup_tiny, teardown),
		cmocka_unit_test_setup_teardown(test_scan_empty_table, setup_medium, teardown),
		cmocka_unit_test_setup_teardown(test_scan_budget, setup_medium, teardown),
		cmocka_unit_test_setup_teardown(test_scan_random_with_mutations, setup_tiny,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
