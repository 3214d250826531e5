/* test_shard.c - unit tests of the shard (dataplane/shard.c): GET, PUT,
 * DELETE over the index and the arena, checked against a reference model.
 *
 * Randomized tests take their seed from WE_TEST_SEED and name it on failure.
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
#include "proto.h"
#include "shard.h"
#include "table.h"
#include "we_test.h"

/* Key buffers are this large even for short keys: GCC 12 at -O3 cannot see
 * that keyhash() reads only the key's length and warns (-Warray-bounds) about
 * XXH3's paths for longer keys. */
#define KEY_BUF 256

struct fixture {
	struct shard *s;
	void *mem;
};

/* The bucket/tag secret of every shard in these tests: fixed, so bucket
 * layouts repeat from run to run. */
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
	assert_true(shard_check_invariants(f->s));
	return f;
}

static void fixture_free(struct fixture *f)
{
	free(f->mem);
	free(f->s);
	free(f);
}

static int setup_default(void **state)
{
	*state = fixture_new(4096, 16u << 20);
	return 0;
}

static int teardown(void **state)
{
	fixture_free(*state);
	return 0;
}

static enum we_status put(struct shard *s, const void *key, size_t key_len, const void *value,
			  uint32_t value_len)
{
	return shard_put(s, shard_hash(s, (const uint8_t *)key, (uint8_t)key_len), key, (uint8_t)key_len, value, value_len);
}

static enum we_status get(struct shard *s, const void *key, size_t key_len, const uint8_t **value,
			  uint32_t *value_len)
{
	return shard_get(s, shard_hash(s, (const uint8_t *)key, (uint8_t)key_len), key, (uint8_t)key_len, value, value_len);
}

static enum we_status del(struct shard *s, const void *key, size_t key_len)
{
	return shard_delete(s, shard_hash(s, (const uint8_t *)key, (uint8_t)key_len), key, (uint8_t)key_len);
}

/* GET answers exactly `value` for key. */
static void check_value(struct shard *s, const void *key, size_t key_len, const void *value,
			 uint32_t value_len)
{
	const uint8_t *v = NULL;
	uint32_t n = UINT32_MAX;

	assert_int_equal(get(s, key, key_len, &v, &n), WE_STATUS_OK);
	assert_int_equal(n, value_len);
	if (value_len > 0)
		assert_memory_equal(v, value, value_len);
}

static void check_missing(struct shard *s, const void *key, size_t key_len)
{
	const uint8_t *v;
	uint32_t n;

	assert_int_equal(get(s, key, key_len, &v, &n), WE_STATUS_NOT_FOUND);
}

static struct shard_counters counters(const struct shard *s)
{
	struct shard_counters c;

	shard_read_counters(s, &c);
	return c;
}

/* shard_init and shard_memory_size refuse configs they cannot build. */
static void test_init_rejects_bad_config(void **state)
{
	struct shard_config zero_cap = { .capacity_items = 0, .arena_bytes = 4096,
					 .hash_secret = &test_secret };
	struct shard_config zero_arena = { .capacity_items = 10, .arena_bytes = 0,
					   .hash_secret = &test_secret };
	struct shard_config no_secret = { .capacity_items = 10, .arena_bytes = 4096 };
	struct shard_config ok = { .capacity_items = 10, .arena_bytes = 4096,
				   .hash_secret = &test_secret };
	size_t bytes = shard_memory_size(&ok);
	uint8_t *mem = aligned_alloc(64, bytes + 64);
	struct shard *s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);

	(void)state;
	assert_int_equal(shard_memory_size(&zero_cap), 0);
	assert_int_equal(shard_memory_size(&zero_arena), 0);
	assert_int_equal(shard_init(s, mem, bytes, &zero_cap), -EINVAL);
	assert_int_equal(shard_init(s, mem, bytes, &no_secret), -EINVAL);
	assert_int_equal(shard_init(s, mem, bytes - 64, &ok), -EINVAL);
	assert_int_equal(shard_init(s, mem + 8, bytes, &ok), -EINVAL);
	assert_int_equal(shard_init(s, mem, bytes, &ok), 0);
	assert_true(shard_check_invariants(s));
	free(mem);
	free(s);
}

/* PUT then GET returns the value; a second PUT replaces it (and its memory
 * is reclaimed); DELETE removes it and a second DELETE finds nothing. */
static void test_put_get_overwrite_delete(void **state)
{
	struct fixture *f = *state;
	struct shard *s = f->s;
	struct shard_counters c;

	check_missing(s, "alpha", 5);
	assert_int_equal(put(s, "alpha", 5, "one", 3), WE_STATUS_OK);
	check_value(s, "alpha", 5, "one", 3);
	c = counters(s);
	assert_int_equal(c.items, 1);
	assert_int_equal(c.arena_used_bytes, arena_item_bytes(5, 3));

	assert_int_equal(put(s, "alpha", 5, "a much longer value", 19), WE_STATUS_OK);
	check_value(s, "alpha", 5, "a much longer value", 19);
	c = counters(s);
	assert_int_equal(c.items, 1);
	assert_int_equal(c.arena_used_bytes, arena_item_bytes(5, 19));
	assert_true(shard_check_invariants(s));

	assert_int_equal(put(s, "beta", 4, "", 0), WE_STATUS_OK);
	check_value(s, "beta", 4, "", 0);
	assert_int_equal(del(s, "alpha", 5), WE_STATUS_OK);
	check_missing(s, "alpha", 5);
	assert_int_equal(del(s, "alpha", 5), WE_STATUS_NOT_FOUND);
	check_value(s, "beta", 4, "", 0);
	assert_int_equal(counters(s).items, 1);
	assert_true(shard_check_invariants(s));
}

/* Keys are compared in full, length included: a key is not confused with
 * its prefix, and keys of length 1 and 250 (the protocol's limits) work. */
static void test_key_lengths(void **state)
{
	struct fixture *f = *state;
	struct shard *s = f->s;
	uint8_t long_key[PROTO_KEY_MAX];
	uint8_t long_key2[PROTO_KEY_MAX];

	memset(long_key, 'k', sizeof(long_key));
	memcpy(long_key2, long_key, sizeof(long_key2));
	long_key2[PROTO_KEY_MAX - 1] = 'j';
	assert_int_equal(put(s, "a", 1, "1", 1), WE_STATUS_OK);
	assert_int_equal(put(s, "ab", 2, "2", 1), WE_STATUS_OK);
	assert_int_equal(put(s, long_key, PROTO_KEY_MAX, "L", 1), WE_STATUS_OK);
	assert_int_equal(put(s, long_key2, PROTO_KEY_MAX, "M", 1), WE_STATUS_OK);
	assert_int_equal(put(s, long_key, PROTO_KEY_MAX - 1, "S", 1), WE_STATUS_OK);
	check_value(s, "a", 1, "1", 1);
	check_value(s, "ab", 2, "2", 1);
	check_value(s, long_key, PROTO_KEY_MAX, "L", 1);
	check_value(s, long_key2, PROTO_KEY_MAX, "M", 1);
	check_value(s, long_key, PROTO_KEY_MAX - 1, "S", 1);
	check_missing(s, "b", 1);
	assert_int_equal(counters(s).items, 5);
	assert_true(shard_check_invariants(s));
}

/* The tag (a 5-item shard has one main bucket): equal for two keys means
 * they meet in one bucket, tag equal. */
static uint32_t tag_of(const char *key, size_t len)
{
	return table_tag(keyhash_local(&test_secret, key, len));
}

/* Two real keys that share bucket and tag are kept apart by the full key
 * comparison, through PUT, GET and DELETE. */
static void test_same_bucket_and_tag(void **state)
{
	struct fixture *f = fixture_new(5, 1u << 16);
	struct shard *s = f->s;
	uint32_t *seen = calloc(1u << 8, sizeof(*seen)); /* tag -> 1 + candidate */
	char k1[KEY_BUF], k2[KEY_BUF];
	uint32_t a = 0, b = 0;
	int l1, l2;

	(void)state;
	assert_non_null(seen);
	for (uint32_t i = 0; i < (1u << 20) && b == 0; i++) {
		char key[KEY_BUF];
		int len = snprintf(key, sizeof(key), "c%u", i);
		uint32_t slot = tag_of(key, (size_t)len);

		if (seen[slot] != 0) {
			a = seen[slot] - 1;
			b = i;
		} else {
			seen[slot] = i + 1;
		}
	}
	free(seen);
	assert_true(b != 0);
	l1 = snprintf(k1, sizeof(k1), "c%u", a);
	l2 = snprintf(k2, sizeof(k2), "c%u", b);
	assert_int_equal(tag_of(k1, (size_t)l1), tag_of(k2, (size_t)l2));

	assert_int_equal(put(s, k1, (size_t)l1, "first", 5), WE_STATUS_OK);
	check_missing(s, k2, (size_t)l2);
	assert_int_equal(put(s, k2, (size_t)l2, "second", 6), WE_STATUS_OK);
	check_value(s, k1, (size_t)l1, "first", 5);
	check_value(s, k2, (size_t)l2, "second", 6);
	assert_int_equal(put(s, k2, (size_t)l2, "third", 5), WE_STATUS_OK);
	check_value(s, k1, (size_t)l1, "first", 5);
	assert_int_equal(del(s, k1, (size_t)l1), WE_STATUS_OK);
	check_missing(s, k1, (size_t)l1);
	check_value(s, k2, (size_t)l2, "third", 5);
	assert_true(shard_check_invariants(s));
	fixture_free(f);
}

/* A key that is a prefix of another, sharing its bucket and tag, is still a
 * different key: the comparison includes the length, in both directions. */
static void test_prefix_key_same_bucket_and_tag(void **state)
{
	struct fixture *f = fixture_new(5, 1u << 16);
	struct shard *s = f->s;
	char shorter[KEY_BUF], longer[KEY_BUF];
	size_t ls = 0, ll = 0;

	(void)state;
	for (uint32_t i = 0; i < (1u << 20) && ll == 0; i++) {
		ls = (size_t)snprintf(shorter, sizeof(shorter), "p%u", i);
		for (char d = 'a'; d <= 'z' && ll == 0; d++) {
			memcpy(longer, shorter, ls);
			longer[ls] = d;
			if (tag_of(shorter, ls) == tag_of(longer, ls + 1))
				ll = ls + 1;
		}
	}
	assert_true(ll != 0);

	assert_int_equal(put(s, longer, ll, "long", 4), WE_STATUS_OK);
	check_missing(s, shorter, ls);
	assert_int_equal(put(s, shorter, ls, "short", 5), WE_STATUS_OK);
	check_value(s, longer, ll, "long", 4);
	check_value(s, shorter, ls, "short", 5);
	assert_int_equal(del(s, longer, ll), WE_STATUS_OK);
	check_missing(s, longer, ll);
	check_value(s, shorter, ls, "short", 5);
	assert_int_equal(put(s, longer, ll, "again", 5), WE_STATUS_OK);
	check_value(s, longer, ll, "again", 5);
	check_value(s, shorter, ls, "short", 5);
	assert_int_equal(counters(s).items, 2);
	assert_true(shard_check_invariants(s));
	fixture_free(f);
}

static void fill_value(uint8_t *buf, uint32_t len, uint64_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((seed >> (i % 8 * 8)) + i / 8);
}

/* Values of every size from 0 to past the exact size classes are stored and
 * read back exactly, both as new keys and as overwrites of one key; large
 * values up to the arena's limit work and one byte more is refused. */
static void test_every_value_size(void **state)
{
	struct fixture *f = fixture_new(8192, 64u << 20);
	struct shard *s = f->s;
	enum { SMALL_MAX = 4096 };
	uint8_t *buf = malloc(ARENA_VALUE_MAX + 1u);
	const uint32_t large[] = { 4096, 32768, ARENA_VALUE_MAX };
	char key[KEY_BUF];

	(void)state;
	assert_non_null(buf);
	for (uint32_t n = 0; n <= SMALL_MAX; n++) {
		int len = snprintf(key, sizeof(key), "size-%u", n);

		fill_value(buf, n, n);
		assert_int_equal(put(s, key, (size_t)len, buf, n), WE_STATUS_OK);
		assert_int_equal(put(s, "same", 4, buf, n), WE_STATUS_OK);
		check_value(s, "same", 4, buf, n);
		if (n % 512 == 0)
			assert_true(shard_check_invariants(s));
	}
	for (uint32_t n = 0; n <= SMALL_MAX; n++) {
		int len = snprintf(key, sizeof(key), "size-%u", n);

		fill_value(buf, n, n);
		check_value(s, key, (size_t)len, buf, n);
	}
	for (unsigned i = 0; i < WE_ARRAY_SIZE(large); i++) {
		fill_value(buf, large[i], large[i]);
		assert_int_equal(put(s, "large", 5, buf, large[i]), WE_STATUS_OK);
		check_value(s, "large", 5, buf, large[i]);
	}
	assert_int_equal(put(s, "large", 5, buf, ARENA_VALUE_MAX + 1u), WE_STATUS_VALUE_TOO_LARGE);
	check_value(s, "large", 5, buf, ARENA_VALUE_MAX);
	assert_true(shard_check_invariants(s));
	free(buf);
	fixture_free(f);
}

/* When the arena is full, a PUT that needs a new block is refused with
 * NO_SPACE, counted, and the old value stays readable; an overwrite that fits
 * the old block still succeeds; deleting neighbours makes room again. */
static void test_arena_full_keeps_old_value(void **state)
{
	struct fixture *f = fixture_new(1000, 56 * 100);
	struct shard *s = f->s;
	uint8_t value[64], bigger[40];
	char key[KEY_BUF];
	unsigned n;

	(void)state;
	memset(value, 'v', sizeof(value));
	memset(bigger, 'B', sizeof(bigger));
	/* 16-byte keys and 32-byte values: 56-byte items, 100 of them fit. */
	for (n = 0;; n++) {
		snprintf(key, sizeof(key), "key-%011u", n);
		if (put(s, key, 16, value, 32) != WE_STATUS_OK)
			break;
	}
	assert_int_equal(n, 100);
	assert_int_equal(counters(s).put_no_space, 1);
	assert_int_equal(counters(s).arena_untouched_bytes, 0);
	snprintf(key, sizeof(key), "key-%011u", 7);
	assert_int_equal(put(s, key, 16, bigger, sizeof(bigger)), WE_STATUS_NO_SPACE);
	check_value(s, key, 16, value, 32);
	assert_int_equal(counters(s).put_no_space, 2);
	assert_int_equal(put(s, key, 16, "shorter value", 13), WE_STATUS_OK);
	check_value(s, key, 16, "shorter value", 13);
	assert_true(shard_check_invariants(s));

	/* Items 20 and 21 are neighbours: deleted, they merge into 128 bytes. */
	snprintf(key, sizeof(key), "key-%011u", 20);
	assert_int_equal(del(s, key, 16), WE_STATUS_OK);
	snprintf(key, sizeof(key), "key-%011u", 21);
	assert_int_equal(del(s, key, 16), WE_STATUS_OK);
	snprintf(key, sizeof(key), "key-%011u", 7);
	assert_int_equal(put(s, key, 16, bigger, sizeof(bigger)), WE_STATUS_OK);
	check_value(s, key, 16, bigger, sizeof(bigger));
	assert_int_equal(counters(s).put_no_space, 2);
	assert_true(shard_check_invariants(s));
	fixture_free(f);
}

/* Tiers off: a PUT that finds no block, while the free memory in pieces
 * would hold its item, compacts the arena and is stored; every other item
 * keeps its value. With less free memory than the item it is NO_SPACE. */
static void test_put_compacts_fragmented_arena(void **state)
{
	struct fixture *f = fixture_new(1000, 56 * 100);
	struct shard *s = f->s;
	uint8_t value[32], big[200];
	char key[KEY_BUF];

	(void)state;
	memset(big, 'L', sizeof(big));
	for (unsigned n = 0; n < 100; n++) {
		snprintf(key, sizeof(key), "key-%011u", n);
		memset(value, 'a' + n % 26, sizeof(value));
		assert_int_equal(put(s, key, 16, value, 32), WE_STATUS_OK);
	}
	/* every other item goes: 50 holes of 56 bytes, none touching another */
	for (unsigned n = 0; n < 100; n += 2) {
		snprintf(key, sizeof(key), "key-%011u", n);
		assert_int_equal(del(s, key, 16), WE_STATUS_OK);
	}
	assert_int_equal(counters(s).arena_free_bytes, 50 * 56);
	assert_true(put(s, "big-one-value-01", 16, big, sizeof(big)) == WE_STATUS_OK);
	check_value(s, "big-one-value-01", 16, big, sizeof(big));
	for (unsigned n = 1; n < 100; n += 2) {
		snprintf(key, sizeof(key), "key-%011u", n);
		memset(value, 'a' + n % 26, sizeof(value));
		check_value(s, key, 16, value, 32);
	}
	assert_int_equal(counters(s).put_no_space, 0);
	assert_true(counters(s).compact_moves > 0);
	assert_true(shard_check_invariants(s));
	/* 2800 - 224 bytes left: a 3000-byte item does not fit however packed */
	{
		uint8_t huge[3000];

		memset(huge, 'H', sizeof(huge));
		assert_int_equal(put(s, "huge-one-value-1", 16, huge, sizeof(huge)),
				 WE_STATUS_NO_SPACE);
	}
	assert_int_equal(counters(s).put_no_space, 1);
	assert_true(shard_check_invariants(s));
	fixture_free(f);
}

/* When the index is full (random keys beyond its capacity), a new key is
 * refused with NO_SPACE and nothing changes, while existing keys can still
 * be overwritten and read. */
static void test_index_full_keeps_old_values(void **state)
{
	struct fixture *f = fixture_new(100, 1u << 20);
	struct shard *s = f->s;
	char key[KEY_BUF];
	unsigned n;
	struct shard_counters before;

	(void)state;
	for (n = 0;; n++) {
		snprintf(key, sizeof(key), "idx-%u", n);
		if (put(s, key, strlen(key), key, (uint32_t)strlen(key)) != WE_STATUS_OK)
			break;
	}
	/* The pool's fixed margin makes a small table hold more than capacity. */
	assert_true(n >= 100);
	before = counters(s);
	assert_int_equal(put(s, key, strlen(key), "x", 1), WE_STATUS_NO_SPACE);
	check_missing(s, key, strlen(key));
	assert_int_equal(counters(s).arena_used_bytes, before.arena_used_bytes);
	assert_int_equal(counters(s).arena_free_bytes, before.arena_free_bytes);
	assert_int_equal(counters(s).put_no_space, before.put_no_space + 1);
	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "idx-%u", i);
		assert_int_equal(put(s, key, strlen(key), "new", 3), WE_STATUS_OK);
		check_value(s, key, strlen(key), "new", 3);
	}
	assert_true(shard_check_invariants(s));
	fixture_free(f);
}

/* The seed when WE_TEST_SEED is unset. */
#define SEED_FALLBACK 0x5a4d

/* A shard filled to capacity_items with 16-byte keys and 32-byte values
 * (arena sized for exactly that: 56-byte items) refuses nothing, and costs
 * at most 24 bytes per item beyond key and value, index included (8 of
 * header, 14.3 of index at its 80 % load, the shard's own struct). */
static void test_capacity_and_overhead(void **state)
{
	enum { CAP = 200000 };
	struct fixture *f = fixture_new(CAP, (uint64_t)CAP * 56);
	struct shard *s = f->s;
	uint8_t key[16], value[32];
	uint64_t rng = we_test_seed(__func__, SEED_FALLBACK);
	struct shard_counters c;
	double overhead;

	(void)state;
	memset(value, 'v', sizeof(value));
	for (uint32_t i = 0; i < CAP; i++) {
		uint64_t r = we_test_rand(&rng);

		memcpy(key, &r, 8);
		memcpy(key + 8, &i, 4);
		memset(key + 12, 'k', 4);
		assert_int_equal(put(s, key, 16, value, 32), WE_STATUS_OK);
	}
	c = counters(s);
	assert_int_equal(c.items, CAP);
	assert_int_equal(c.arena_untouched_bytes, 0);
	overhead = (double)(c.index_bytes + c.arena_bytes + shard_sizeof()) / CAP - 48;
	print_message("    %u items: %.1f bytes/item beyond key and value, %" PRIu64
		      " overflow buckets\n", CAP, overhead, c.overflow_buckets_used);
	assert_true(overhead <= 24.0);
	assert_true(shard_check_invariants(s));
	fixture_free(f);
}

/* Key id k of the random test: 4..32 bytes mostly, up to 250 for one in ten;
 * the first four bytes are k, so keys are distinct. */
static uint8_t model_key(uint32_t k, uint8_t *key)
{
	uint64_t mix = k * 0x9e3779b97f4a7c15ull;
	uint8_t len = (uint8_t)(mix % 10 == 0 ? 4 + (mix >> 8) % 247 : 4 + (mix >> 8) % 29);

	memcpy(key, &k, 4);
	for (uint8_t i = 4; i < len; i++)
		key[i] = (uint8_t)(mix >> (i % 8 * 8)) ^ i;
	return len;
}

static uint32_t model_value_len(uint64_t *rng)
{
	uint64_t r = we_test_rand(rng) % 100;

	if (r < 70)
		return (uint32_t)(we_test_rand(rng) % 65);
	if (r < 95)
		return (uint32_t)(we_test_rand(rng) % 513);
	return (uint32_t)(we_test_rand(rng) % (PROTO_VALUE_MAX + 1));
}

struct model_entry {
	uint32_t version; /* 0: absent */
	uint32_t value_len;
};

struct model_run {
	uint64_t seed;
	uint32_t keys;
	uint32_t ops;
	uint64_t arena_bytes;
	bool no_space_allowed;
	uint64_t no_space; /* refusals seen */
};

/* GET of key k agrees with the model entry. */
static bool model_agrees(struct shard *s, uint32_t k, const struct model_entry *e, uint8_t *buf)
{
	uint8_t key[256];
	uint8_t len = model_key(k, key);
	const uint8_t *v;
	uint32_t n;
	enum we_status st = get(s, key, len, &v, &n);

	if (e->version == 0)
		return st == WE_STATUS_NOT_FOUND;
	fill_value(buf, e->value_len, (uint64_t)k << 32 | e->version);
	return st == WE_STATUS_OK && n == e->value_len && memcmp(v, buf, n) == 0;
}

/* Runs random PUT/GET/DELETE against an array model (indexed by key id,
 * independent of the shard's hashing) and checks the invariants every 50000
 * operations and at the end. */
static void model_run(struct fixture *f, struct model_entry *model, struct model_run *run)
{
	struct shard *s = f->s;
	uint64_t seed = run->seed, rng = run->seed;
	uint8_t *buf = malloc(PROTO_VALUE_MAX + 1);
	uint8_t key[256];
	uint32_t version = 0;
	uint64_t live = 0;

	assert_non_null(buf);
	for (uint32_t op = 0; op < run->ops; op++) {
		uint32_t k = (uint32_t)(we_test_rand(&rng) % run->keys);
		uint64_t r = we_test_rand(&rng) % 100;
		struct model_entry *e = &model[k];
		uint8_t len = model_key(k, key);

		if (r < 45) {
			uint32_t n = model_value_len(&rng);
			enum we_status st;

			fill_value(buf, n, (uint64_t)k << 32 | ++version);
			st = put(s, key, len, buf, n);
			if (st == WE_STATUS_NO_SPACE && run->no_space_allowed) {
				run->no_space++;
			} else {
				WE_TEST_CHECK(st == WE_STATUS_OK, seed);
				live += e->version == 0;
				e->version = version;
				e->value_len = n;
			}
		} else if (r < 80) {
			WE_TEST_CHECK(model_agrees(s, k, e, buf), seed);
		} else {
			enum we_status st = del(s, key, len);

			WE_TEST_CHECK(st == (e->version ? WE_STATUS_OK : WE_STATUS_NOT_FOUND),
				      seed);
			live -= e->version != 0;
			e->version = 0;
		}
		if (op % 50000 == 0) {
			WE_TEST_CHECK(shard_check_invariants(s), seed);
			WE_TEST_CHECK(counters(s).items == live, seed);
		}
	}
	for (uint32_t k = 0; k < run->keys; k++)
		WE_TEST_CHECK(model_agrees(s, k, &model[k], buf), seed);
	WE_TEST_CHECK(shard_check_invariants(s), seed);
	WE_TEST_CHECK(counters(s).put_no_space == run->no_space, seed);
	free(buf);
}

/* One million random operations agree with the model; afterwards deleting
 * every key returns all arena memory, and the shard can be filled again. */
static void test_random_against_model(void **state)
{
	struct model_run run = {
		.seed = we_test_seed(__func__, SEED_FALLBACK),
		.keys = 20000, .ops = 1000000, .arena_bytes = 32u << 20,
	};
	struct fixture *f = fixture_new(run.keys, run.arena_bytes);
	struct model_entry *model = calloc(run.keys, sizeof(*model));
	uint64_t seed = run.seed;
	uint8_t key[256];
	struct shard_counters c;

	(void)state;
	assert_non_null(model);
	model_run(f, model, &run);

	for (uint32_t k = 0; k < run.keys; k++) {
		uint8_t len = model_key(k, key);
		enum we_status expected = model[k].version ? WE_STATUS_OK : WE_STATUS_NOT_FOUND;

		WE_TEST_CHECK(del(f->s, key, len) == expected, seed);
		model[k].version = 0;
	}
	c = counters(f->s);
	WE_TEST_CHECK(c.items == 0, seed);
	WE_TEST_CHECK(c.arena_used_bytes == 0, seed);
	WE_TEST_CHECK(c.arena_free_bytes == 0, seed); /* everything merged back into the tail */
	WE_TEST_CHECK(c.arena_untouched_bytes == c.arena_bytes, seed);
	WE_TEST_CHECK(c.overflow_buckets_used == 0, seed);
	WE_TEST_CHECK(shard_check_invariants(f->s), seed);

	run.seed = seed + 1;
	run.ops = 100000;
	model_run(f, model, &run);
	free(model);
	fixture_free(f);
}

/* With an arena too small for the working set, some PUTs are refused; every
 * refused PUT leaves the old value, and the shard stays consistent. */
static void test_random_with_tight_arena(void **state)
{
	struct model_run run = {
		.seed = we_test_seed(__func__, SEED_FALLBACK),
		.keys = 4000, .ops = 200000, .arena_bytes = 256u << 10,
		.no_space_allowed = true,
	};
	struct fixture *f = fixture_new(run.keys, run.arena_bytes);
	struct model_entry *model = calloc(run.keys, sizeof(*model));

	(void)state;
	assert_non_null(model);
	model_run(f, model, &run);
	WE_TEST_CHECK(run.no_space > 0, run.seed);
	free(model);
	fixture_free(f);
}

/* Hash flooding (the hardening issue): keys chosen because their PUBLIC
 * hash (the one clients steer with, seed 0) lands in one bucket of a 100k
 * table are spread by the shard's secret hash like any other keys: no chain
 * grows long, no PUT is refused, and the overflow pool stays near its
 * normal use. Before the keyed hash, 31,703 such keys took every overflow
 * bucket. */
static void test_public_hash_flood_spreads(void **state)
{
	struct fixture *f = fixture_new(100000, 64u << 20);
	struct fixture *ref = fixture_new(100000, 64u << 20);
	struct table_geometry g;
	uint32_t target = UINT32_MAX, found = 0;
	struct shard_counters c, cr;

	(void)state;
	assert_int_equal(table_geometry_for(100000, &g), 0);
	for (uint32_t i = 0; found < 600 && i < 40000000u; i++) {
		char key[KEY_BUF];
		int len = snprintf(key, sizeof(key), "flood:%u", i);
		uint32_t bucket = keyhash_bucket(keyhash(key, (size_t)len), g.nbuckets);

		if (target == UINT32_MAX)
			target = bucket;
		if (bucket != target)
			continue;
		found++;
		assert_int_equal(put(f->s, key, (size_t)len, "v", 1), WE_STATUS_OK);
		len = snprintf(key, sizeof(key), "plain:%u", found);
		assert_int_equal(put(ref->s, key, (size_t)len, "v", 1), WE_STATUS_OK);
	}
	assert_int_equal(found, 600);
	c = counters(f->s);
	cr = counters(ref->s);
	assert_int_equal(c.items, 600);
	assert_int_equal(c.put_no_space, 0);
	/* 600 keys in ~18k buckets: as few overflow buckets as for the same
	 * number of ordinary keys (a concentrated flood would take 600 / 7 = 85
	 * of them). */
	assert_true(c.overflow_buckets_used <= cr.overflow_buckets_used + 8);
	assert_true(shard_check_invariants(f->s));
	fixture_free(f);
	fixture_free(ref);
}

/* One chain holds at most TABLE_CHAIN_OVERFLOW_MAX overflow buckets: keys
 * that do collide in the secret hash (found here because the test knows its
 * secret), in a three-bucket shard, fill their home bucket, then the other
 * two buckets (their second choices), then the home chain to 12 * (1 +
 * max) items, then get NO_SPACE while the pool still serves other keys. */
static void test_chain_bound(void **state)
{
	struct fixture *f = fixture_new(20, 64u << 20);
	struct table_geometry g;
	const unsigned chain_max = TABLE_SLOTS * (1 + TABLE_CHAIN_OVERFLOW_MAX);
	uint32_t target = UINT32_MAX, stored = 0, refused = 0;

	(void)state;
	assert_int_equal(table_geometry_for(20, &g), 0);
	assert_int_equal(g.nbuckets, 3);
	for (uint32_t i = 0; stored + refused < chain_max + 2 * TABLE_SLOTS + 5 && i < 4000000u;
	     i++) {
		char key[KEY_BUF];
		int len = snprintf(key, sizeof(key), "chain:%u", i);
		uint32_t bucket = keyhash_bucket(keyhash_local(&test_secret, key, (size_t)len),
						 g.nbuckets);
		enum we_status st;

		if (target == UINT32_MAX)
			target = bucket;
		if (bucket != target)
			continue;
		st = put(f->s, key, (size_t)len, "v", 1);
		if (st == WE_STATUS_OK)
			stored++;
		else if (st == WE_STATUS_NO_SPACE)
			refused++;
		else
			fail_msg("unexpected status %d", st);
	}
	assert_int_equal(stored, chain_max + 2 * TABLE_SLOTS);
	assert_int_equal(refused, 5);
	assert_int_equal(counters(f->s).overflow_buckets_used, TABLE_CHAIN_OVERFLOW_MAX);
	assert_true(shard_check_invariants(f->s));
	/* A key of another home: its home and second bucket are full, its own
	 * chain takes a pool bucket. */
	for (uint32_t i = 0;; i++) {
		char key[KEY_BUF];
		int len = snprintf(key, sizeof(key), "another:%u", i);

		if (keyhash_bucket(keyhash_local(&test_secret, key, (size_t)len), g.nbuckets) ==
		    target)
			continue;
		assert_int_equal(put(f->s, key, (size_t)len, "v", 1), WE_STATUS_OK);
		break;
	}
	assert_int_equal(counters(f->s).overflow_buckets_used, TABLE_CHAIN_OVERFLOW_MAX + 1);
	assert_true(shard_check_invariants(f->s));
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_config),
		cmocka_unit_test_setup_teardown(test_put_get_overwrite_delete, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_key_lengths, setup_default, teardown),
		cmocka_unit_test(test_same_bucket_and_tag),
		cmocka_unit_test(test_prefix_key_same_bucket_and_tag),
		cmocka_unit_test(test_every_value_size),
		cmocka_unit_test(test_arena_full_keeps_old_value),
		cmocka_unit_test(test_index_full_keeps_old_values),
		cmocka_unit_test(test_put_compacts_fragmented_arena),
		cmocka_unit_test(test_capacity_and_overhead),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_random_with_tight_arena),
		cmocka_unit_test(test_public_hash_flood_spreads),
		cmocka_unit_test(test_chain_bound),
	};

	keyhash_secret_from_seed(&test_secret, 0x5eed);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
