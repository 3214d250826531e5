/* test_shard_scan.c - unit tests of the shard's resumable scan
 * (shard_scan_step in dataplane/shard.c, over table_scan_step).
 *
 * The scan's promise: between steps, any PUT and DELETE may run; an item
 * present at the start and never deleted is visited exactly once, a deleted
 * one is not visited after its DELETE, and no key is visited twice. The
 * tests check it against a model indexed by key id (independent of the
 * shard's hashing). Randomized tests take their seed from WE_TEST_SEED and
 * name it on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "keyhash.h"
#include "shard.h"
#include "temperature.h"
#include "table.h"
#include "we_test.h"

/* The seed when WE_TEST_SEED is unset. */
#define SEED_FALLBACK 0x5ca9
/* Key buffers are this large even for short keys (GCC 12 -Warray-bounds on
 * XXH3's paths for longer keys, see test_shard.c). */
#define KEY_BUF 256
#define VALUE_MAX 3000

struct fixture {
	struct shard *s;
	void *mem;
};

static struct keyhash_secret test_secret;

static struct fixture *fixture_new(uint64_t capacity_items, uint64_t arena_bytes)
{
	struct shard_config cfg = { .capacity_items = capacity_items, .arena_bytes = arena_bytes,
				    .hash_secret = &test_secret };
	struct fixture *f = calloc(1, sizeof(*f));
	size_t bytes = shard_memory_size(&cfg);

	assert_non_null(f);
	assert_true(bytes > 0);
	f->s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	f->mem = aligned_alloc(64, bytes);
	assert_non_null(f->s);
	assert_non_null(f->mem);
	assert_int_equal(shard_init(f->s, f->mem, bytes, &cfg), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	free(f->mem);
	free(f->s);
	free(f);
}

/* Key id k: its 4 bytes, then 0..36 more, so lengths vary and keys differ. */
static uint8_t key_of(uint32_t k, uint8_t *key)
{
	uint8_t len = (uint8_t)(4 + k % 37);

	memcpy(key, &k, 4);
	for (uint8_t i = 4; i < len; i++)
		key[i] = (uint8_t)(k * 31 + i);
	return len;
}

/* The key id of a scanned item, after checking its key bytes. */
static uint32_t key_id(const struct shard_scan_item *it, uint64_t seed)
{
	uint8_t key[KEY_BUF];
	uint32_t k;

	WE_TEST_CHECK(it->key_len >= 4, seed);
	memcpy(&k, it->key, 4);
	WE_TEST_CHECK(key_of(k, key) == it->key_len && memcmp(key, it->key, it->key_len) == 0,
		      seed);
	return k;
}

static void fill_value(uint8_t *buf, uint32_t len, uint64_t tag)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((tag >> (i % 8 * 8)) + i / 8);
}

/* The chain the scan visits key id k in (its home or second bucket). */
static uint32_t chain_of(const struct shard *s, uint32_t k)
{
	uint8_t key[KEY_BUF];
	uint8_t len = key_of(k, key);

	return shard_scan_chain_of(s, shard_hash(s, key, len), key, len);
}

/* What the model knows of key id k. */
struct entry {
	uint32_t version; /* 0: absent; else the LSN of its PUT */
	uint32_t value_len;
};

/* PUT of key k with a fresh version and a random length (mostly small, so
 * overwrites often fit in place; sometimes large, so they move the item). */
static enum we_status model_put(struct shard *s, struct entry *e, uint32_t k, uint32_t version,
				uint64_t *rng, uint8_t *buf)
{
	uint8_t key[KEY_BUF];
	uint8_t len = key_of(k, key);
	uint32_t n = we_test_rand(rng) % 4 != 0 ? (uint32_t)(we_test_rand(rng) % 48)
						 : (uint32_t)(we_test_rand(rng) % (VALUE_MAX + 1));
	enum we_status st;

	fill_value(buf, n, (uint64_t)k << 32 | version);
	st = shard_put(s, shard_hash(s, key, len), key, len, buf, n);
	if (st == WE_STATUS_OK) {
		e->version = version;
		e->value_len = n;
	}
	return st;
}

/* A scanned item agrees with the model entry of its key: same bytes (the
 * PUT that wrote it: values differ per version), same lengths, raw tier,
 * and a temperature a
 * few overwrites can give (the PUTs also run the cooling clock, so it may
 * have cooled below the new-item level). */
static bool item_agrees(const struct shard_scan_item *it, uint32_t k, const struct entry *e,
			uint8_t *buf)
{
	if (e->version == 0 || it->value_len != e->value_len || it->stored_len != e->value_len ||
	    it->tier != TIER_EVENT_HORIZON ||
	    temperature_level(it->temperature) > TEMP_LEVEL_NEW + 32)
		return false;
	fill_value(buf, e->value_len, (uint64_t)k << 32 | e->version);
	return memcmp(it->value, buf, e->value_len) == 0;
}

/* An empty shard: steps find nothing, the cursor moves by the chain budget,
 * ends at shard_scan_buckets() (the index's main buckets) and stays there. */
static void test_scan_empty_shard(void **state)
{
	struct fixture *f = fixture_new(4096, 1u << 20);
	struct shard_scan_item out[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = { 0 };
	struct table_geometry g;
	unsigned steps = 0;

	(void)state;
	assert_int_equal(table_geometry_for(4096, &g), 0);
	assert_int_equal(shard_scan_buckets(f->s), g.nbuckets);
	assert_false(shard_scan_done(f->s, &cur));
	while (!shard_scan_done(f->s, &cur)) {
		assert_int_equal(shard_scan_step(f->s, &cur, out, SHARD_SCAN_ITEMS_MIN, 64), 0);
		steps++;
	}
	assert_int_equal(steps, (g.nbuckets + 63) / 64);
	assert_int_equal(cur.bucket, g.nbuckets);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(shard_scan_step(f->s, &cur, out, SHARD_SCAN_ITEMS_MIN, 1), 0);
		assert_int_equal(cur.bucket, g.nbuckets);
		assert_true(shard_scan_done(f->s, &cur));
	}
	fixture_free(f);
}

/* A full scan of a shard filled to its capacity (so some chains run into
 * overflow buckets) returns exactly its items, each once, with key, value,
 * lengths and LSN as written, and the cursor only moves forward. */
static void test_scan_full_equals_contents(void **state)
{
	enum { KEYS = 2000 };
	struct fixture *f = fixture_new(KEYS, 16u << 20);
	struct shard *s = f->s;
	uint64_t seed = we_test_seed(__func__, SEED_FALLBACK);
	uint64_t rng = seed;
	struct entry *model = calloc(KEYS, sizeof(*model));
	unsigned *seen = calloc(KEYS, sizeof(*seen));
	uint8_t *buf = malloc(VALUE_MAX + 1);
	struct shard_scan_item out[64];
	struct shard_scan cur = { 0 };
	struct shard_counters c;
	uint64_t visited = 0;

	(void)state;
	assert_non_null(model);
	assert_non_null(seen);
	assert_non_null(buf);
	for (uint32_t k = 0; k < KEYS; k++)
		WE_TEST_CHECK(model_put(s, &model[k], k, k + 1, &rng, buf) == WE_STATUS_OK, seed);
	shard_read_counters(s, &c);
	WE_TEST_CHECK(c.items == KEYS && c.overflow_buckets_used > 0, seed);

	while (!shard_scan_done(s, &cur)) {
		uint32_t from = cur.bucket;
		int n = shard_scan_step(s, &cur, out, 64, 8);

		WE_TEST_CHECK(n >= 0 && n <= 64, seed);
		WE_TEST_CHECK(cur.bucket > from && cur.bucket - from <= 8, seed);
		WE_TEST_CHECK(cur.bucket <= shard_scan_buckets(s), seed);
		for (int i = 0; i < n; i++) {
			uint32_t k = key_id(&out[i], seed);

			WE_TEST_CHECK(k < KEYS && seen[k]++ == 0, seed);
			WE_TEST_CHECK(item_agrees(&out[i], k, &model[k], buf), seed);
			WE_TEST_CHECK(chain_of(s, k) >= from && chain_of(s, k) < cur.bucket, seed);
		}
		visited += (uint64_t)n;
	}
	WE_TEST_CHECK(visited == KEYS, seed);
	for (uint32_t k = 0; k < KEYS; k++)
		WE_TEST_CHECK(seen[k] == 1, seed);
	WE_TEST_CHECK(shard_check_invariants(s), seed); /* a scan changes nothing */
	free(buf);
	free(seen);
	free(model);
	fixture_free(f);
}

/* Budgets: fewer than SHARD_SCAN_ITEMS_MIN items, no chain, or a cursor past
 * the end are refused, changing nothing. A chain filled to its bound (keys
 * of one home bucket, found because the test knows the secret hash, put
 * into a three-bucket shard until their second buckets are full too and
 * the home chain holds 60) comes whole in one step of 60, alone: a step
 * never splits a chain. */
static void test_scan_budget(void **state)
{
	const unsigned chain_max = TABLE_CHAIN_SLOTS_MAX;
	struct fixture *f = fixture_new(20, 16u << 20);
	struct shard *s = f->s;
	struct shard_scan_item out[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = { 0 };
	uint32_t target = UINT32_MAX, stored = 0;
	bool target_seen = false, full = false;

	(void)state;
	assert_int_equal(chain_max, SHARD_SCAN_ITEMS_MIN);
	assert_int_equal(shard_scan_buckets(s), 3);
	/* Keys of one home until the home chain refuses one (NO_SPACE). */
	for (uint32_t i = 0; !full && i < 100000u; i++) {
		char key[KEY_BUF];
		int len = snprintf(key, sizeof(key), "chain:%u", i);
		uint64_t hash = shard_hash(s, (const uint8_t *)key, (uint8_t)len);
		uint32_t bucket = keyhash_bucket(hash, shard_scan_buckets(s));
		enum we_status st;

		if (target == UINT32_MAX)
			target = bucket;
		if (bucket != target)
			continue;
		st = shard_put(s, hash, (const uint8_t *)key, (uint8_t)len, (const uint8_t *)"v", 1);
		assert_true(st == WE_STATUS_OK || st == WE_STATUS_NO_SPACE);
		full = st == WE_STATUS_NO_SPACE;
		stored += st == WE_STATUS_OK;
	}
	/* the home chain (60) and both other buckets (12 each, spilled) */
	assert_true(full);
	assert_int_equal(stored, chain_max + 2 * TABLE_SLOTS);
	assert_true(shard_check_invariants(s));

	assert_int_equal(shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN - 1, 10), -EINVAL);
	assert_int_equal(shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN, 0), -EINVAL);
	assert_int_equal(cur.bucket, 0);
	cur.bucket = shard_scan_buckets(s) + 1;
	assert_int_equal(shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN, 1), -EINVAL);
	assert_int_equal(cur.bucket, shard_scan_buckets(s) + 1);

	/* Steps of 60 items and many chains: the full chain is a step of its own. */
	cur.bucket = 0;
	while (!shard_scan_done(s, &cur)) {
		uint32_t from = cur.bucket;
		int n = shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN, 1000);

		assert_true(n >= 0 && n <= (int)SHARD_SCAN_ITEMS_MIN);
		assert_true(cur.bucket > from);
		if (from <= target && target < cur.bucket) {
			assert_int_equal(from, target);
			assert_int_equal(n, chain_max);
			for (int i = 0; i < n; i++)
				assert_memory_equal(out[i].key, "chain:", 6);
			target_seen = true;
		}
	}
	assert_true(target_seen);
	assert_int_equal(shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN, 1000), 0);
	assert_int_equal(cur.bucket, shard_scan_buckets(s));
	fixture_free(f);
}

/* Random PUTs (new keys, overwrites of the same and of another size, so in
 * place and moved), DELETEs and re-inserts between small steps, on a shard
 * near its capacity (chains grow into overflow buckets and give them back).
 * In every scan: a visited key is present and holds the value of its latest
 * PUT; it is present since the start or was inserted while its chain was
 * still ahead of the cursor; no key is visited twice; and every key present
 * at the start and never deleted (or inserted ahead of the cursor and kept)
 * is visited. */
static void test_scan_with_mutations(void **state)
{
	enum { CAPACITY = 1500, KEYS = 2200, SCANS = 200 };
	struct fixture *f = fixture_new(CAPACITY, 32u << 20);
	struct shard *s = f->s;
	uint64_t seed = we_test_seed(__func__, SEED_FALLBACK);
	uint64_t rng = seed;
	struct entry *model = calloc(KEYS, sizeof(*model));
	bool *must = calloc(KEYS, sizeof(*must));
	unsigned *seen = calloc(KEYS, sizeof(*seen));
	uint8_t *buf = malloc(VALUE_MAX + 1);
	struct shard_scan_item out[SHARD_SCAN_ITEMS_MIN + 24];
	uint32_t version = 0;
	uint64_t moved = 0, deletes = 0, pool_returns = 0, steps = 0, overflow_peak = 0;

	(void)state;
	assert_non_null(model);
	assert_non_null(must);
	assert_non_null(seen);
	assert_non_null(buf);
	for (uint32_t k = 0; k < CAPACITY; k++)
		(void)model_put(s, &model[k], k, ++version, &rng, buf);

	for (unsigned scan = 0; scan < SCANS; scan++) {
		struct shard_scan cur = { 0 };

		for (uint32_t k = 0; k < KEYS; k++) {
			must[k] = model[k].version != 0;
			seen[k] = 0;
		}
		while (!shard_scan_done(s, &cur)) {
			uint32_t from = cur.bucket;
			unsigned max = SHARD_SCAN_ITEMS_MIN + (unsigned)(we_test_rand(&rng) % 24);
			unsigned chains = 1 + (unsigned)(we_test_rand(&rng) % 6);
			int n = shard_scan_step(s, &cur, out, max, chains);

			WE_TEST_CHECK(n >= 0 && (unsigned)n <= max, seed);
			WE_TEST_CHECK(cur.bucket > from && cur.bucket - from <= chains, seed);
			for (int i = 0; i < n; i++) {
				uint32_t k = key_id(&out[i], seed);
				uint32_t b;

				WE_TEST_CHECK(k < KEYS && must[k] && seen[k]++ == 0, seed);
				WE_TEST_CHECK(item_agrees(&out[i], k, &model[k], buf), seed);
				b = chain_of(s, k);
				WE_TEST_CHECK(b >= from && b < cur.bucket, seed);
			}
			/* Mutations before the next step (the items above are now stale). */
			for (unsigned op = we_test_rand(&rng) % 8; op > 0; op--) {
				uint32_t k = (uint32_t)(we_test_rand(&rng) % KEYS);
				struct entry *e = &model[k];
				struct shard_counters before, after;

				shard_read_counters(s, &before);
				if (e->version != 0 && we_test_rand(&rng) % 2 == 0) {
					uint8_t key[KEY_BUF];
					uint8_t len = key_of(k, key);

					WE_TEST_CHECK(shard_delete(s, shard_hash(s, key, len), key,
								   len) == WE_STATUS_OK,
						      seed);
					e->version = 0;
					must[k] = false;
					seen[k] = 0; /* inserted again, it is a new slot */
					deletes++;
				} else {
					bool was = e->version != 0;
					uint32_t old_len = e->value_len;
					enum we_status st = model_put(s, e, k, ++version, &rng, buf);

					WE_TEST_CHECK(st == WE_STATUS_OK ||
							      (st == WE_STATUS_NO_SPACE && !was),
						      seed);
					if (st == WE_STATUS_OK && !was)
						must[k] = chain_of(s, k) >= cur.bucket;
					moved += was && e->value_len / 64 != old_len / 64;
				}
				shard_read_counters(s, &after);
				pool_returns += after.overflow_buckets_used < before.overflow_buckets_used;
				if (after.overflow_buckets_used > overflow_peak)
					overflow_peak = after.overflow_buckets_used;
			}
			if (++steps % 32 == 0)
				WE_TEST_CHECK(shard_check_invariants(s), seed);
		}
		for (uint32_t k = 0; k < KEYS; k++)
			WE_TEST_CHECK(!must[k] || seen[k] == 1, seed);
		WE_TEST_CHECK(shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN, 1) == 0 &&
				      shard_scan_done(s, &cur),
			      seed);
	}
	print_message("    %" PRIu64 " steps, %" PRIu64 " deletes, %" PRIu64
		      " resized overwrites, %" PRIu64 " overflow buckets given back (peak %" PRIu64
		      ")\n",
		      steps, deletes, moved, pool_returns, overflow_peak);
	WE_TEST_CHECK(moved > 0 && deletes > 0 && pool_returns > 0, seed);
	WE_TEST_CHECK(shard_check_invariants(s), seed);
	free(buf);
	free(seen);
	free(must);
	free(model);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_empty_shard),
		cmocka_unit_test(test_scan_full_equals_contents),
		cmocka_unit_test(test_scan_budget),
		cmocka_unit_test(test_scan_with_mutations),
	};

	keyhash_secret_from_seed(&test_secret, 0x5eed);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
