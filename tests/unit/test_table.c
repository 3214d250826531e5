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

/* A hash whose home is `home`, whose second bucket is `second` (another
 * bucket; for a one-bucket table, the home) and whose tag is `tag`. */
static uint64_t hash_for2(const struct table *t, uint32_t home, uint32_t second, uint8_t tag)
{
	uint64_t bits = (((uint64_t)home << 32) + t->nbuckets - 1) / t->nbuckets;
	uint64_t low = 0, hash;

	if (t->nbuckets > 1) {
		uint64_t step = (second + (uint64_t)t->nbuckets - home) % t->nbuckets;

		assert_true(step >= 1);
		low = (((step - 1) << 16) + t->nbuckets - 2) / (t->nbuckets - 1);
	}
	hash = (uint64_t)tag << 56 | bits << 16 | low;
	assert_int_equal(table_home_index(t, hash), home);
	assert_int_equal(table_second_index(t, home, hash), t->nbuckets > 1 ? second : home);
	assert_int_equal(table_tag(hash), tag);
	return hash;
}

/* A hash with home `home`, tag `tag` and the next bucket as its second. */
static uint64_t hash_for(const struct table *t, uint32_t home, uint8_t tag)
{
	return hash_for2(t, home, (home + 1) % t->nbuckets, tag);
}

static unsigned key_compares;

/* The "key" of a slot is its offset; counts the comparisons made. */
static bool offset_equal(const void *ctx, uint64_t offset)
{
	key_compares++;
	return *(const uint64_t *)ctx == offset;
}

static uint32_t *find(const struct table *t, uint64_t hash, uint64_t offset)
{
	return table_find(t, hash, offset_equal, &offset);
}

static uint32_t chain_of(const struct table *t, uint64_t hash, const uint32_t *ref)
{
	return table_chain_of(t, hash, ref);
}

static void insert_ok(struct table *t, uint64_t hash, uint64_t offset)
{
	assert_true(table_can_insert(t, hash));
	assert_int_equal(table_insert(t, hash, offset), 0);
	assert_true(table_check_invariants(t));
}

static void remove_ok(struct table *t, uint64_t hash, uint64_t offset)
{
	uint32_t *ref = find(t, hash, offset);

	assert_non_null(ref);
	table_remove(t, hash, ref);
	assert_null(find(t, hash, offset));
	assert_true(table_check_invariants(t));
}

/* The geometry holds the capacity at no more than 80% slot load, keeps a
 * pool of an eighth of the main buckets plus a margin, and refuses zero
 * and more than 2^30 items. */
static void test_geometry_for_capacity(void **state)
{
	struct table_geometry g;

	(void)state;
	assert_int_equal(table_geometry_for(0, &g), -EINVAL);
	assert_int_equal(table_geometry_for((UINT64_C(1) << 30) + 1, &g), -EINVAL);
	assert_int_equal(table_geometry_for(UINT64_C(1) << 30, &g), 0);
	assert_int_equal(table_geometry_for(1, &g), 0);
	assert_int_equal(g.nbuckets, 1);
	for (uint64_t cap = 1000; cap <= 10000000; cap *= 10) {
		assert_int_equal(table_geometry_for(cap, &g), 0);
		assert_true(g.nbuckets * 9.6 >= (double)cap);
		assert_true((g.nbuckets - 1) * 9.6 < (double)cap);
		assert_int_equal(g.noverflow, g.nbuckets / 8 + 16);
		assert_int_equal(table_memory_size(&g), ((size_t)g.nbuckets + g.noverflow) * 64);
	}
	/* The index's memory per item at capacity, well under 8 bytes. */
	assert_int_equal(table_geometry_for(10000000, &g), 0);
	assert_true((double)table_memory_size(&g) / 1e7 < 7.6);
}

/* table_init refuses unaligned or short memory, an empty geometry and a
 * pool the 24-bit links cannot name. */
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
	g.noverflow = TABLE_POOL_MAX + 1;
	assert_int_equal(table_init(&t, mem, SIZE_MAX, &g), -EINVAL);
	g.noverflow = 1;
	assert_int_equal(table_init(&t, mem, 64 * 8, &g), 0);
	assert_true(table_check_invariants(&t));
	free(mem);
}

/* Inserted slots are found, absent ones are not, and a removed slot is
 * gone while the others stay; offsets up to TABLE_OFFSET_MAX round-trip. */
static void test_insert_find_remove(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;

	for (uint32_t i = 0; i < 500; i++)
		insert_ok(t, hash_for(t, i * 2, (uint8_t)(i % 255 + 1)), 8 * (1000 + i));
	assert_int_equal(t->items, 500);
	for (uint32_t i = 0; i < 500; i++) {
		assert_non_null(find(t, hash_for(t, i * 2, (uint8_t)(i % 255 + 1)), 8 * (1000 + i)));
		assert_null(find(t, hash_for(t, i * 2 + 1, (uint8_t)(i % 255 + 1)), 8 * (1000 + i)));
		assert_null(find(t, hash_for(t, i * 2, (uint8_t)((i + 1) % 255 + 1)), 8 * (1000 + i)));
	}
	for (uint32_t i = 0; i < 500; i += 2)
		remove_ok(t, hash_for(t, i * 2, (uint8_t)(i % 255 + 1)), 8 * (1000 + i));
	for (uint32_t i = 0; i < 500; i++) {
		uint32_t *ref = find(t, hash_for(t, i * 2, (uint8_t)(i % 255 + 1)), 8 * (1000 + i));

		if (i % 2 == 0)
			assert_null(ref);
		else
			assert_int_equal(table_ref_offset(ref), 8 * (1000 + i));
	}
	assert_int_equal(t->items, 250);
	insert_ok(t, hash_for(t, 1, 9), TABLE_OFFSET_MAX);
	assert_int_equal(table_ref_offset(find(t, hash_for(t, 1, 9), TABLE_OFFSET_MAX)),
			 TABLE_OFFSET_MAX);
	table_ref_replace(find(t, hash_for(t, 1, 9), TABLE_OFFSET_MAX), 64);
	assert_non_null(find(t, hash_for(t, 1, 9), 64));
}

/* The full key is compared only on a tag match: with equal tags in one
 * bucket the comparison tells the entries apart, and an entry with a unique
 * tag costs exactly one comparison. */
static void test_tag_collisions(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t same = hash_for(t, 7, 0xbe);
	uint64_t other = hash_for(t, 7, 0x12);

	for (uint64_t off = 8; off <= 40; off += 8)
		insert_ok(t, same, off);
	insert_ok(t, other, 800);
	for (uint64_t off = 8; off <= 40; off += 8) {
		uint32_t *ref = find(t, same, off);

		assert_non_null(ref);
		assert_int_equal(table_ref_offset(ref), off);
	}
	key_compares = 0;
	assert_non_null(find(t, other, 800));
	assert_int_equal(key_compares, 1);
	key_compares = 0;
	assert_null(find(t, same, 48)); /* five candidates compared, none is it */
	assert_int_equal(key_compares, 5);
	remove_ok(t, same, 24);
	for (uint64_t off = 8; off <= 40; off += 8)
		if (off != 24)
			assert_non_null(find(t, same, off));
	assert_non_null(find(t, other, 800));
}

/* A full home sends the next key to its second bucket and counts it in the
 * home's spill; a lookup reads the second bucket only while the home's
 * spill is not zero; when both are full the home chains an overflow
 * bucket; removing the spilled key brings the spill back to zero. */
static void test_second_choice(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t h = hash_for2(t, 7, 300, 0x33), h8 = hash_for2(t, 8, 300, 0x33);
	uint64_t own300 = hash_for2(t, 300, 301, 0x44);
	uint64_t off = 8;

	for (unsigned i = 0; i < TABLE_SLOTS; i++, off += 8)
		insert_ok(t, h, off);
	assert_int_equal(table_spill(&t->buckets[7]), 0);
	assert_int_equal(table_bucket_used(&t->buckets[300]), 0);
	/* A miss at a home with no spill compares the home's tags only. */
	key_compares = 0;
	assert_null(find(t, h8, 8000));
	assert_int_equal(key_compares, 0);
	insert_ok(t, h, off); /* the 13th: to bucket 300 */
	assert_int_equal(table_spill(&t->buckets[7]), 1);
	assert_int_equal(table_bucket_used(&t->buckets[300]), 1);
	assert_int_equal(chain_of(t, h, find(t, h, off)), 300);
	assert_int_equal(t->overflow_used, 0);
	/* A miss at home 7 now compares all 13 candidates (same tag). */
	key_compares = 0;
	assert_null(find(t, h, 8000));
	assert_int_equal(key_compares, TABLE_SLOTS + 1);
	/* Bucket 300 fills with its own keys; the next key of home 7 chains. */
	for (unsigned i = 0; i < TABLE_SLOTS - 1; i++)
		insert_ok(t, own300, 80000 + 8 * i);
	insert_ok(t, h, off + 8);
	assert_int_equal(t->overflow_used, 1);
	assert_int_equal(chain_of(t, h, find(t, h, off + 8)), 7);
	assert_int_equal(table_spill(&t->buckets[7]), 1);
	/* All of home 7's keys, wherever they live, are found. */
	for (uint64_t o = 8; o <= off + 8; o += 8)
		assert_non_null(find(t, h, o));
	remove_ok(t, h, off); /* the spilled one */
	assert_int_equal(table_spill(&t->buckets[7]), 0);
	assert_int_equal(table_bucket_used(&t->buckets[300]), TABLE_SLOTS - 1);
	remove_ok(t, h, 8); /* from the home: the overflow key moves up */
	assert_int_equal(t->overflow_used, 0);
	assert_int_equal(chain_of(t, h, find(t, h, off + 8)), 7);
	for (unsigned i = 0; i < TABLE_SLOTS - 1; i++)
		assert_non_null(find(t, own300, 80000 + 8 * i));
}

/* A bucket whose second bucket is full takes overflow buckets from the
 * pool as it fills, its chain stays searchable, and removals give the
 * emptied overflow buckets back. */
static void test_overflow_chain_grows_and_shrinks(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t h = hash_for2(t, 999, 500, 0x77), own500 = hash_for2(t, 500, 7, 0x50);
	const uint64_t n = 3 * TABLE_SLOTS + 2;

	for (unsigned i = 0; i < TABLE_SLOTS; i++)
		insert_ok(t, own500, 8000 + 8 * i);
	for (uint64_t off = 1; off <= n; off++)
		insert_ok(t, h, 8 * off);
	assert_int_equal(t->overflow_used, 3);
	assert_int_equal(table_spill(&t->buckets[999]), 0);
	for (uint64_t off = 1; off <= n; off++)
		assert_non_null(find(t, h, 8 * off));
	/* Removing from the main bucket pulls the chain's tail forward. */
	for (uint64_t off = 1; off <= 2; off++)
		remove_ok(t, h, 8 * off);
	assert_int_equal(t->overflow_used, 2);
	for (uint64_t off = 3; off <= n; off++)
		assert_non_null(find(t, h, 8 * off));
	for (uint64_t off = 3; off <= n; off++)
		remove_ok(t, h, 8 * off);
	assert_int_equal(t->overflow_used, 0);
	assert_int_equal(t->items, TABLE_SLOTS);
}

/* With the pool used up, a full chain refuses an insert with -ENOSPC and the
 * table is unchanged; a removal makes room again, and an overflow bucket
 * given back serves another chain. Two main buckets: each is the other's
 * second bucket. */
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
	/* bucket 0, then bucket 1 (spilled), then two pool buckets */
	for (off = 1; off <= 4 * TABLE_SLOTS; off++)
		insert_ok(t, h0, 8 * off);
	assert_int_equal(table_spill(&t->buckets[0]), TABLE_SLOTS);
	for (; off <= 5 * TABLE_SLOTS; off++)
		insert_ok(t, h1, 8 * off); /* both main buckets full: the last pool bucket */
	assert_int_equal(t->overflow_used, 3);
	assert_int_equal(t->pool_head, 0);

	memcpy(mem_before, f->mem, bytes);
	t_before = *t;
	assert_false(table_can_insert(t, h0));
	assert_false(table_can_insert(t, h1));
	assert_int_equal(table_insert(t, h0, 8000), -ENOSPC);
	assert_int_equal(table_insert(t, h1, 8008), -ENOSPC);
	assert_memory_equal(mem_before, f->mem, bytes);
	assert_memory_equal(&t_before, t, sizeof(t_before));

	/* Removing a spilled key: chain 1 fills the hole with its last slot. */
	remove_ok(t, h0, 8 * (TABLE_SLOTS + 1));
	assert_int_equal(table_spill(&t->buckets[0]), TABLE_SLOTS - 1);
	assert_false(table_can_insert(t, h0));
	assert_true(table_can_insert(t, h1));
	insert_ok(t, h1, 8008);
	assert_int_equal(chain_of(t, h1, find(t, h1, 8008)), 1);
	assert_false(table_can_insert(t, h0));

	/* Emptying bucket 1's overflow bucket returns it to the pool: bucket 1
	 * takes a spilled key of home 0 again, and then the pool serves home 1. */
	for (off = 4 * TABLE_SLOTS + 1; off <= 5 * TABLE_SLOTS; off++)
		remove_ok(t, h1, 8 * off);
	remove_ok(t, h1, 8008);
	assert_int_equal(t->overflow_used, 2);
	insert_ok(t, h0, 8000);
	assert_int_equal(chain_of(t, h0, find(t, h0, 8000)), 1);
	assert_int_equal(table_spill(&t->buckets[0]), TABLE_SLOTS);
	insert_ok(t, h1, 8016);
	assert_int_equal(t->overflow_used, 3);
	assert_int_equal(chain_of(t, h1, find(t, h1, 8016)), 1);
	for (off = 1; off <= 4 * TABLE_SLOTS; off++)
		if (off != TABLE_SLOTS + 1)
			assert_non_null(find(t, h0, 8 * off));
	assert_non_null(find(t, h0, 8000));
	assert_int_equal(t->items, 4 * TABLE_SLOTS + 1);
	free(mem_before);
}

/* The invariant check notices a broken chain: a hole before a used slot
 * (chains must stay packed) and an overflow bucket claimed by two chains. */
static void test_check_detects_damage(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t h0 = hash_for(t, 0, 0x10);
	uint8_t saved;

	for (uint64_t off = 1; off <= 2 * TABLE_SLOTS + 1; off++)
		insert_ok(t, h0, 8 * off); /* bucket 0, bucket 1, one overflow bucket */
	saved = t->buckets[0].tag[2];
	t->buckets[0].tag[2] = 0;
	assert_false(table_check_invariants(t));
	t->buckets[0].tag[2] = saved;
	assert_true(table_check_invariants(t));
	t->buckets[1].meta |= t->buckets[0].meta & TABLE_NEXT_MASK;
	assert_false(table_check_invariants(t));
	t->buckets[1].meta &= ~TABLE_NEXT_MASK;
	assert_true(table_check_invariants(t));
}

/* The seed when WE_TEST_SEED is unset. */
#define SEED_FALLBACK 0x7ab1e

/* A random home, second bucket and one of four tags (so tag collisions
 * are common). */
static uint64_t random_hash(const struct table *t, uint64_t *rng)
{
	uint32_t home = (uint32_t)(we_test_rand(rng) % t->nbuckets);
	uint32_t second = (uint32_t)((home + 1 + we_test_rand(rng) % (t->nbuckets - 1)) %
				     t->nbuckets);

	return hash_for2(t, home, second, (uint8_t)(1 + we_test_rand(rng) % 4));
}

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
		hash[k] = random_hash(t, &rng);
	for (unsigned op = 0; op < OPS; op++) {
		unsigned k = (unsigned)(we_test_rand(&rng) % KEYS);
		uint64_t offset = 8 * (k + 1); /* the key's identity */
		uint32_t *slot = find(t, hash[k], offset);

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
	/* 200 keys over 144 slots: it must fill up. */
	WE_TEST_CHECK(refused > 0, seed);
}

/* 8 main buckets of 12 and a pool of 4: 144 slots for 200 keys. */
static int setup_tiny(void **state)
{
	return fixture_make(state, 8, 4);
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
 * starts with it); a full 60-slot chain fits a 60-slot budget alone. */
static void test_scan_budget(void **state)
{
	struct fixture *f = *state;
	struct table *t = &f->t;
	uint64_t slots[TABLE_SLOTS + TABLE_CHAIN_SLOTS_MAX];
	uint64_t h5 = hash_for2(t, 5, 4, 0x55);
	uint32_t cursor;
	uint64_t off;

	/* Chain 4: 3 keys of its own and 9 of home 5 spilled into it; chain 5:
	 * 12 in the main bucket and 48 in four overflow buckets. */
	for (off = 1; off <= 3; off++)
		insert_ok(t, hash_for2(t, 4, 9, 0x44), 8 * off);
	for (; off <= 3 + TABLE_SLOTS + 9 + 4 * TABLE_SLOTS; off++)
		insert_ok(t, h5, 8 * off);
	assert_int_equal(table_insert(t, h5, 8 * 999), -ENOSPC); /* chain full */
	insert_ok(t, hash_for(t, 6, 0x66), 8 * off);

	cursor = 4;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX - 1, 10), -EINVAL);
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 0), -EINVAL);
	assert_int_equal(cursor, 4);
	cursor = t->nbuckets + 1;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 1), -EINVAL);
	assert_int_equal(cursor, t->nbuckets + 1);

	/* 12 slots, then 60 do not fit in the 48 left: stop before bucket 5. */
	cursor = 4;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 10), TABLE_SLOTS);
	assert_int_equal(cursor, 5);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(table_slot_offset(slots[i]), 8 * (i + 1));
	for (unsigned i = 3; i < TABLE_SLOTS; i++) {
		assert_int_equal(table_slot_offset(slots[i]), 8 * (TABLE_SLOTS + 1 + i));
		assert_int_equal(table_slot_tag(slots[i]), 0x55);
	}
	/* The full chain alone, in chain order. */
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 10),
			 TABLE_CHAIN_SLOTS_MAX);
	assert_int_equal(cursor, 6);
	for (unsigned i = 0; i < TABLE_CHAIN_SLOTS_MAX; i++) {
		uint64_t want = i < TABLE_SLOTS ? 4 + i : 4 + 9 + i;

		assert_int_equal(table_slot_offset(slots[i]), 8 * want);
		assert_int_equal(table_slot_tag(slots[i]), 0x55);
	}
	/* Exactly enough room for two chains, not for the third. */
	cursor = 4;
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_SLOTS + TABLE_CHAIN_SLOTS_MAX, 10),
			 TABLE_SLOTS + TABLE_CHAIN_SLOTS_MAX);
	assert_int_equal(cursor, 6);
	/* The chain budget counts empty chains: 10 chains from 6 reach 16. */
	assert_int_equal(table_scan_step(t, &cursor, slots, TABLE_CHAIN_SLOTS_MAX, 10), 1);
	assert_int_equal(cursor, 16);
	assert_int_equal(table_slot_offset(slots[0]), 8 * off);
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
		hash[k] = random_hash(t, &rng);
	for (unsigned scan = 0; scan < SCANS; scan++) {
		bool must[KEYS];  /* must be copied before the scan ends */
		unsigned seen[KEYS] = { 0 };
		uint32_t chain[KEYS]; /* the chain holding each present key */
		uint32_t cursor = 0;

		memcpy(must, present, sizeof(must));
		for (unsigned k = 0; k < KEYS; k++)
			if (present[k])
				chain[k] = chain_of(t, hash[k], find(t, hash[k], 8 * (k + 1)));
		while (cursor < t->nbuckets) {
			uint32_t from = cursor;
			unsigned max_slots = TABLE_CHAIN_SLOTS_MAX + (unsigned)(we_test_rand(&rng) % 16);
			unsigned max_chains = 1 + (unsigned)(we_test_rand(&rng) % 8);
			int n = table_scan_step(t, &cursor, slots, max_slots, max_chains);

			WE_TEST_CHECK(n >= 0 && (unsigned)n <= max_slots, seed);
			WE_TEST_CHECK(cursor > from && cursor - from <= max_chains, seed);
			for (int i = 0; i < n; i++) {
				unsigned k = (unsigned)(table_slot_offset(slots[i]) / 8 - 1);

				WE_TEST_CHECK(k < KEYS && present[k] && must[k] && seen[k] == 0, seed);
				WE_TEST_CHECK(chain[k] >= from && chain[k] < cursor, seed);
				seen[k]++;
			}
			/* A few mutations before the next step. */
			for (unsigned op = we_test_rand(&rng) % 6; op > 0; op--) {
				unsigned k = (unsigned)(we_test_rand(&rng) % KEYS);
				uint64_t offset = 8 * (k + 1);
				uint32_t *slot = find(t, hash[k], offset);
				uint32_t overflow = t->overflow_used;

				if (slot != NULL) {
					table_remove(t, hash[k], slot);
					present[k] = false;
					must[k] = false;
					/* a new slot for k may be copied again: it may
					 * go to its other chain, ahead of the cursor */
					seen[k] = 0;
					pool_returns += t->overflow_used < overflow;
				} else if (table_insert(t, hash[k], offset) == 0) {
					present[k] = true;
					chain[k] = chain_of(t, hash[k], find(t, hash[k], offset));
					must[k] = chain[k] >= cursor;
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
		cmocka_unit_test_setup_teardown(test_second_choice, setup_medium, teardown),
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
