/* test_arena.c - unit tests of the item arena (dataplane/arena.c).
 *
 * Each test builds its own arena over aligned_alloc memory. The randomized
 * test takes its seed from WE_TEST_SEED and names it on failure.
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

#include "arena.h"
#include "proto.h"
#include "we_test.h"

struct fixture {
	struct arena a;
	void *mem;
	uint64_t bytes;
};

static int fixture_make(void **state, uint64_t bytes)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->bytes = bytes;
	f->mem = aligned_alloc(64, bytes);
	if (f->mem == NULL || arena_init(&f->a, f->mem, bytes) != 0) {
		free(f->mem);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_64k(void **state)
{
	return fixture_make(state, 64 * 1024);
}

static int setup_64m(void **state)
{
	return fixture_make(state, 64u * 1024 * 1024);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->mem);
	free(f);
	return 0;
}

static uint64_t alloc_ok(struct arena *a, uint8_t key_len, uint32_t value_len)
{
	uint64_t off = ARENA_NIL;

	assert_int_equal(arena_alloc_item(a, key_len, value_len, value_len, &off), 0);
	assert_int_equal(off % ARENA_GRANULE, 0);
	return off;
}

/* Bytes of value that make an item of exactly `block` bytes with a 1-byte key. */
static uint32_t value_for_block(uint64_t block)
{
	return (uint32_t)(block - ARENA_ITEM_HDR_BYTES - 1);
}

/* Fills the untouched tail exactly with items of `block` bytes (the arena
 * size is a multiple of it in these tests); returns how many. */
static uint64_t fill_tail(struct arena *a, uint64_t block)
{
	uint64_t n = 0;
	uint64_t off;

	uint32_t value_len = value_for_block(block);

	while (arena_untouched_bytes(a) >= block) {
		assert_int_equal(arena_alloc_item(a, 1, value_len, value_len, &off), 0);
		n++;
	}
	assert_int_equal(arena_untouched_bytes(a), 0);
	return n;
}

/* A new item's header carries its lengths, the raw tier and temperature 0,
 * and the accounting moves exactly one rounded block from untouched
 * to used. */
static void test_alloc_fills_header_and_accounts(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t off = alloc_ok(a, 16, 41);
	struct arena_item *it = arena_item_at(a, off);

	assert_int_equal(it->key_len, 16);
	assert_int_equal(it->value_len, 41);
	assert_int_equal(it->stored_len, 41);
	assert_int_equal(it->tier, TIER_EVENT_HORIZON);
	assert_int_equal(it->temperature, 0);
	assert_int_equal(it->slack, 0);
	assert_int_equal(arena_item_block_bytes(it), 72); /* 8 + 16 + 41 = 65 -> 72 */
	assert_ptr_equal(arena_item_value(it), arena_item_key(it) + 16);
	assert_int_equal(a->used_bytes, 72);
	assert_int_equal(a->free_bytes, 0);
	assert_int_equal(arena_untouched_bytes(a), f->bytes - 72);
	assert_true(arena_check_invariants(a, 1, 72));
	/* Wrong live totals must be reported. */
	assert_false(arena_check_invariants(a, 1, 64));
	assert_false(arena_check_invariants(a, 2, 72));
}

/* The smallest and the largest items a datagram can carry fit, and an empty
 * key with an empty value still takes a full minimum block. */
static void test_alloc_extreme_sizes(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t small = alloc_ok(a, 0, 0);
	uint64_t big = alloc_ok(a, PROTO_KEY_MAX, PROTO_VALUE_MAX);

	assert_int_equal(arena_item_block_bytes(arena_item_at(a, small)), ARENA_BLOCK_MIN);
	assert_int_equal(arena_item_block_bytes(arena_item_at(a, big)), ARENA_EXACT_MAX_BYTES);
	assert_true(arena_check_invariants(a, 2, ARENA_BLOCK_MIN + ARENA_EXACT_MAX_BYTES));
}

/* A freed block between used ones is reused by the next item of the same
 * block size, before the untouched tail is touched. */
static void test_free_then_same_size_reuses_block(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 8, 48); /* 64 bytes */
	uint64_t bump;

	alloc_ok(a, 8, 48); /* keeps x off the tail */
	bump = a->bump_offset;
	arena_free_item(a, x);
	assert_int_equal(a->free_bytes, 64);
	assert_int_equal(a->free_blocks, 1);
	assert_int_equal(a->used_bytes, 64);
	assert_true(arena_check_invariants(a, 1, 64));
	assert_int_equal(alloc_ok(a, 2, 54), x); /* same block size, other shape */
	assert_int_equal(a->bump_offset, bump);
	assert_int_equal(a->free_bytes, 0);
	assert_true(arena_check_invariants(a, 2, 128));
}

/* Freed neighbours merge into one block, whichever is freed first, and the
 * merged block serves a larger item. */
static void test_free_merges_neighbours(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 1, value_for_block(64));
	uint64_t y = alloc_ok(a, 1, value_for_block(96));
	uint64_t z = alloc_ok(a, 1, value_for_block(64));
	uint64_t keep = alloc_ok(a, 1, value_for_block(96)); /* keeps z off the tail */
	uint64_t n = fill_tail(a, 64);                       /* so the merged block is used */
	uint64_t rest = 96 + n * 64;                         /* bytes of keep and the fill */

	arena_free_item(a, x);
	arena_free_item(a, z);
	assert_int_equal(a->free_blocks, 2);
	assert_true(arena_item_at(a, y)->prev_free);
	assert_true(arena_item_at(a, keep)->prev_free);
	assert_true(arena_check_invariants(a, n + 2, rest + 96));
	arena_free_item(a, y); /* merges backwards with x and forwards with z */
	assert_int_equal(a->free_blocks, 1);
	assert_int_equal(a->free_bytes, 224);
	assert_true(arena_check_invariants(a, n + 1, rest));
	assert_int_equal(alloc_ok(a, 1, value_for_block(200)), x);
	assert_int_equal(a->free_bytes, 0);
	assert_int_equal(arena_item_at(a, x)->slack, 3); /* 24 left: too small for a free block */
	assert_false(arena_item_at(a, keep)->prev_free);
	assert_true(arena_check_invariants(a, n + 2, rest + 224));
}

/* A block freed at the edge of the untouched tail rejoins it, together with
 * a free block before it; freeing everything leaves a pristine arena. */
static void test_free_at_tail_rejoins_tail(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 1, value_for_block(64));
	uint64_t y = alloc_ok(a, 1, value_for_block(64));
	uint64_t z = alloc_ok(a, 1, value_for_block(64));

	arena_free_item(a, z);
	assert_int_equal(a->bump_offset, z);
	assert_int_equal(a->free_bytes, 0);
	arena_free_item(a, x);
	assert_int_equal(a->free_bytes, 64);
	arena_free_item(a, y);
	assert_int_equal(a->bump_offset, 0);
	assert_int_equal(a->free_bytes, 0);
	assert_int_equal(a->free_blocks, 0);
	assert_int_equal(arena_untouched_bytes(a), f->bytes);
	assert_true(arena_check_invariants(a, 0, 0));
}

/* With the tail used up, a small item is split off a larger free block; the
 * remainder becomes a free block of its own class and serves the next item. */
static void test_split_larger_block(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t big = alloc_ok(a, 1, value_for_block(1024));
	uint64_t n = fill_tail(a, 64);
	uint64_t first;
	uint64_t second;

	arena_free_item(a, big);
	first = alloc_ok(a, 1, value_for_block(128));
	assert_int_equal(first, big);
	assert_int_equal(a->free_bytes, 1024 - 128);
	second = alloc_ok(a, 1, value_for_block(256));
	assert_int_equal(second, big + 128);
	assert_int_equal(a->free_bytes, 1024 - 128 - 256);
	assert_true(arena_check_invariants(a, n + 2, n * 64 + 128 + 256));
}

/* A split that would leave less than a minimum block keeps the rest as slack
 * in the item; the whole block comes back on free. */
static void test_split_small_remainder_is_slack(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 1, value_for_block(88));
	uint64_t pad = alloc_ok(a, 1, value_for_block(40)); /* the rest is a multiple of 64 */
	uint64_t n = fill_tail(a, 64);
	uint64_t y;
	struct arena_item *it;

	assert_int_equal(pad, 88);
	arena_free_item(a, x);
	y = alloc_ok(a, 1, value_for_block(64));
	it = arena_item_at(a, y);
	assert_int_equal(y, x);
	assert_int_equal(it->slack, 3);
	assert_int_equal(arena_item_block_bytes(it), 88);
	assert_int_equal(a->free_bytes, 0);
	assert_true(arena_check_invariants(a, n + 2, n * 64 + 40 + 88));
	arena_free_item(a, y);
	assert_int_equal(a->free_bytes, 88);
	assert_true(arena_check_invariants(a, n + 1, n * 64 + 40));
	/* The 88-byte block serves an 88-byte item again, without slack. */
	assert_int_equal(alloc_ok(a, 1, value_for_block(88)), x);
	assert_int_equal(arena_item_at(a, x)->slack, 0);
}

/* Items larger than the exact classes are reused through their range class,
 * splitting off what they do not need. */
static void test_large_items_reuse_range_class(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 10, 60000);
	uint64_t block = arena_item_block_bytes(arena_item_at(a, x));
	uint64_t bump;
	uint64_t y;

	alloc_ok(a, 10, 10); /* keeps x away from the tail */
	bump = a->bump_offset;
	arena_free_item(a, x);
	y = alloc_ok(a, 10, 59000); /* same quarter-power-of-two class */
	assert_int_equal(y, x);
	assert_int_equal(a->bump_offset, bump);
	assert_int_equal(a->free_bytes, block - arena_item_block_bytes(arena_item_at(a, y)));
	assert_true(arena_check_invariants(a, 2, a->used_bytes));
	y = alloc_ok(a, 1, ARENA_VALUE_MAX);
	assert_int_equal(arena_item_at(a, y)->value_len, ARENA_VALUE_MAX);
}

/* An item's block takes new value lengths in place when they fit with less
 * than a minimum block to spare (the rest becomes slack); otherwise nothing
 * changes. The flag saying the block before is free survives. */
static void test_reuse_item_in_place(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t before = alloc_ok(a, 1, value_for_block(64));
	uint64_t x = alloc_ok(a, 1, value_for_block(64));
	struct arena_item *it = arena_item_at(a, x);
	struct arena_item saved;

	alloc_ok(a, 1, 10); /* keeps x off the tail */
	arena_free_item(a, before);
	assert_true(it->prev_free);
	it->temperature = 77;

	assert_true(arena_reuse_item(a, x, 48, 48)); /* 57 -> 64 bytes: exact */
	assert_int_equal(it->value_len, 48);
	assert_int_equal(it->stored_len, 48);
	assert_int_equal(it->slack, 0);
	assert_int_equal(it->temperature, 0); /* a new header */
	assert_true(it->prev_free);
	assert_true(arena_reuse_item(a, x, 38, 28)); /* 37 -> 40 bytes: 3 granules spare */
	assert_int_equal(it->value_len, 38);
	assert_int_equal(it->stored_len, 28);
	assert_int_equal(it->slack, 3);
	assert_int_equal(arena_item_block_bytes(it), 64);
	assert_true(arena_check_invariants(a, 2, 64 + 32));

	saved = *it;
	assert_false(arena_reuse_item(a, x, 10, 10)); /* 32 bytes spare: worth a new block */
	assert_false(arena_reuse_item(a, x, 56, 56)); /* 65 bytes: too large */
	assert_memory_equal(&saved, it, sizeof(saved));
	arena_free_item(a, x);
	assert_int_equal(a->free_bytes, 128);
	assert_true(arena_check_invariants(a, 1, 32));
}

/* A smaller stored value in place: the end of the block is freed when a
 * minimum block fits there (merged with a free block after it), kept as
 * slack otherwise; header fields other than stored_len and slack stay, and
 * the accounting and boundary tags stay right. */
static void test_shrink_item_in_place(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 8, 1008); /* 8 + 8 + 1008 -> 1024 bytes */
	uint64_t y = alloc_ok(a, 8, 1008);
	uint64_t z = alloc_ok(a, 8, 108);   /* 124 -> 128 */
	struct arena_item *it = arena_item_at(a, x);

	(void)z;
	it->temperature = 5;
	it->tier = TIER_PHOTON_SPHERE;
	arena_shrink_item(a, x, 408); /* 424 bytes: 600 freed */
	assert_int_equal(it->stored_len, 408);
	assert_int_equal(it->value_len, 1008);
	assert_int_equal(it->temperature, 5);
	assert_int_equal(it->tier, TIER_PHOTON_SPHERE);
	assert_int_equal(arena_item_block_bytes(it), 424);
	assert_int_equal(a->free_bytes, 600);
	assert_int_equal(a->items, 3);
	assert_true(arena_item_at(a, y)->prev_free);
	assert_true(arena_check_invariants(a, 3, 424 + 1024 + 128));
	/* 8 + 8 + 392 = 408 of 424: 16 bytes (2 granules) of slack */
	arena_shrink_item(a, x, 392);
	assert_int_equal(arena_item_block_bytes(it), 424);
	assert_int_equal(it->slack, 2);
	assert_true(arena_check_invariants(a, 3, 424 + 1024 + 128));
	/* y shrinks next to the free block before it: its freed end stands alone */
	arena_shrink_item(a, y, 18); /* 34 -> 40 bytes, 984 freed */
	assert_int_equal(a->free_bytes, 600 + 984);
	assert_true(arena_check_invariants(a, 3, 424 + 40 + 128));
	/* freeing y now merges the three into one block */
	arena_free_item(a, y);
	assert_int_equal(a->free_blocks, 1);
	assert_true(arena_check_invariants(a, 2, 424 + 128));
}

/* When the tail and every fitting free block are used up, allocation fails
 * with -ENOSPC and changes nothing. Freeing every other item leaves holes
 * too small for a larger item; freeing the rest merges everything back into
 * the tail, which then takes one item as large as the arena allows. */
static void test_exhaustion_and_refill(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t n = fill_tail(a, 64);
	uint64_t off = 12345;
	struct arena before = *a;
	uint32_t whole = value_for_block(f->bytes);

	assert_int_equal(n, f->bytes / 64);
	assert_int_equal(arena_alloc_item(a, 1, value_for_block(64), value_for_block(64), &off),
			 -ENOSPC);
	assert_int_equal(off, 12345);
	assert_memory_equal(&before, a, sizeof(before));
	for (uint64_t i = 0; i < n; i += 2)
		arena_free_item(a, i * 64);
	assert_int_equal(a->free_bytes, f->bytes / 2);
	assert_true(arena_check_invariants(a, n / 2, f->bytes / 2));
	assert_int_equal(arena_alloc_item(a, 1, value_for_block(72), value_for_block(72), &off),
			 -ENOSPC);
	for (uint64_t i = 1; i < n; i += 2)
		arena_free_item(a, i * 64);
	assert_int_equal(a->used_bytes, 0);
	assert_int_equal(a->free_bytes, 0);
	assert_int_equal(arena_untouched_bytes(a), f->bytes);
	assert_true(arena_check_invariants(a, 0, 0));
	assert_int_equal(arena_alloc_item(a, 1, whole, whole, &off), 0);
	assert_int_equal(off, 0);
	assert_true(arena_check_invariants(a, 1, f->bytes));
	arena_free_item(a, off);
	assert_int_equal(fill_tail(a, 64), n);
}

/* The free-list check notices a live item written over a free block. */
static void test_check_detects_corrupt_free_block(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 1, 55); /* 64 bytes */

	alloc_ok(a, 1, 55);
	arena_free_item(a, x);
	assert_true(arena_check_invariants(a, 1, 64));
	memset(a->base + x, 0x5a, 16);
	assert_false(arena_check_invariants(a, 1, 64));
}

/* arena_init refuses memory it cannot use. */
static void test_init_rejects_bad_memory(void **state)
{
	struct fixture *f = *state;
	struct arena a;

	assert_int_equal(arena_init(&a, NULL, 4096), -EINVAL);
	assert_int_equal(arena_init(&a, (uint8_t *)f->mem + 4, 4096), -EINVAL);
	assert_int_equal(arena_init(&a, f->mem, ARENA_BYTES_MAX + 8), -EINVAL);
	assert_int_equal(arena_init(&a, f->mem, 4099), 0);
	assert_int_equal(a.bytes, 4096);
}

/* The seed when WE_TEST_SEED is unset. */
#define SEED_FALLBACK 0x5eed0a7e

struct live_item {
	uint64_t offset;
	uint64_t fill; /* pattern seed of key and value bytes */
};

/* Byte i of a live item's key and value: a cheap function of its seed. */
static uint8_t pattern_byte(uint64_t fill, uint32_t i)
{
	return (uint8_t)((fill >> (i % 8 * 8)) + i / 8);
}

static void pattern_write(struct arena *a, const struct live_item *l)
{
	struct arena_item *it = arena_item_at(a, l->offset);
	uint32_t n = it->key_len + it->stored_len;

	for (uint32_t i = 0; i < n; i++)
		it->data[i] = pattern_byte(l->fill, i);
}

static bool pattern_intact(struct arena *a, const struct live_item *l)
{
	struct arena_item *it = arena_item_at(a, l->offset);
	uint32_t n = it->key_len + it->stored_len;

	for (uint32_t i = 0; i < n; i++)
		if (it->data[i] != pattern_byte(l->fill, i))
			return false;
	return true;
}

/* Random allocations and frees of mixed sizes: no live item is ever
 * overwritten by another item or by a free-list node, and the accounting
 * adds up after every batch. */
static void test_random_alloc_free_keeps_items_intact(void **state)
{
	enum { LIVE_MAX = 4000, OPS = 200000 };
	struct fixture *f = *state;
	struct arena *a = &f->a;
	struct live_item *live = calloc(LIVE_MAX, sizeof(*live));
	uint64_t seed = we_test_seed(__func__, SEED_FALLBACK);
	uint64_t rng = seed;
	unsigned nlive = 0;
	uint64_t no_space = 0;

	assert_non_null(live);
	for (unsigned op = 0; op < OPS; op++) {
		uint64_t r = we_test_rand(&rng);

		if (nlive > 0 && (nlive == LIVE_MAX || r % 100 < 45)) {
			unsigned victim = (unsigned)(we_test_rand(&rng) % nlive);

			WE_TEST_CHECK(pattern_intact(a, &live[victim]), seed);
			arena_free_item(a, live[victim].offset);
			live[victim] = live[--nlive];
		} else {
			uint32_t klen = 1 + (uint32_t)(we_test_rand(&rng) % 250);
			uint64_t vmax = we_test_rand(&rng) % 100 < 95 ? 200 : ARENA_VALUE_MAX + 1u;
			uint32_t vlen = (uint32_t)(we_test_rand(&rng) % vmax);
			struct live_item l = { .fill = we_test_rand(&rng) };

			if (arena_alloc_item(a, (uint8_t)klen, vlen, vlen, &l.offset) != 0) {
				no_space++;
				continue;
			}
			pattern_write(a, &l);
			live[nlive++] = l;
		}
		if (op % 20000 == 0 || op == OPS - 1) {
			uint64_t bytes = 0;

			for (unsigned i = 0; i < nlive; i++) {
				WE_TEST_CHECK(pattern_intact(a, &live[i]), seed);
				bytes += arena_item_block_bytes(arena_item_at(a, live[i].offset));
			}
			WE_TEST_CHECK(arena_check_invariants(a, nlive, bytes), seed);
		}
	}
	/* 64 MiB is far more than 4000 live items need: a refusal is a bug. */
	WE_TEST_CHECK(no_space == 0, seed);
	while (nlive > 0)
		arena_free_item(a, live[--nlive].offset);
	WE_TEST_CHECK(a->used_bytes == 0, seed);
	WE_TEST_CHECK(arena_check_invariants(a, 0, 0), seed);
	free(live);
}

/* Compaction's allocation takes only a free hole smaller than its bound and
 * not at not_at, never the untouched tail; free_around and block_at see the
 * neighbours; a free that merges the block at the walk's place moves the
 * place to the merged block's start. */
static void test_alloc_in_hole_and_walk(void **state)
{
	struct fixture *f = *state;
	struct arena *a = &f->a;
	uint64_t x = alloc_ok(a, 1, value_for_block(64));
	uint64_t h1 = alloc_ok(a, 1, value_for_block(96));
	uint64_t b = alloc_ok(a, 1, value_for_block(64));
	uint64_t h2 = alloc_ok(a, 1, value_for_block(160));
	uint64_t c = alloc_ok(a, 1, value_for_block(64));
	uint64_t keep = alloc_ok(a, 1, value_for_block(96));
	uint64_t untouched, off = ARENA_NIL;
	uint32_t v64 = value_for_block(64), v100 = value_for_block(104);
	bool is_free;

	arena_free_item(a, h1);
	arena_free_item(a, h2);
	untouched = arena_untouched_bytes(a);
	/* holes of 96 and 160: none under 96, the tail never */
	assert_int_equal(arena_alloc_item_in_hole(a, 1, v64, v64, 96, ARENA_NIL, &off), -ENOSPC);
	/* 104 bytes: only the 160-byte hole, which not_at excludes */
	assert_int_equal(arena_alloc_item_in_hole(a, 1, v100, v100, 4096, h2, &off), -ENOSPC);
	assert_int_equal(a->free_blocks, 2);
	assert_int_equal(arena_untouched_bytes(a), untouched);
	assert_int_equal(arena_free_around(a, b), 96 + 160);
	assert_int_equal(arena_free_around(a, x), 96);
	assert_int_equal(arena_free_around(a, keep), 0);
	/* under 97: the 96-byte hole, split (32 left free) */
	assert_int_equal(arena_alloc_item_in_hole(a, 1, v64, v64, 97, ARENA_NIL, &off), 0);
	assert_int_equal(off, h1);
	assert_int_equal(arena_item_at(a, off)->value_len, v64);
	assert_int_equal(arena_untouched_bytes(a), untouched);
	assert_int_equal(arena_block_at(a, h1 + 64, &is_free), 32);
	assert_true(is_free);
	assert_int_equal(arena_block_at(a, b, &is_free), 64);
	assert_false(is_free);
	assert_true(arena_check_invariants(a, 5, 64 * 4 + 96));
	/* the walk's place follows merges */
	a->walk = h2;
	arena_free_item(a, c); /* merges into h2's block, which starts where it did */
	assert_int_equal(a->walk, h2);
	assert_true(arena_check_invariants(a, 4, 64 * 3 + 96));
	arena_free_item(a, b); /* the 32 left of h1, b, h2 and c: one block */
	assert_int_equal(a->walk, h1 + 64);
	assert_int_equal(arena_block_at(a, h1 + 64, &is_free), 32 + 64 + 160 + 64);
	assert_true(arena_check_invariants(a, 3, 64 * 2 + 96));
	a->walk = keep;
	arena_free_item(a, keep); /* rejoins the tail with the block before it */
	assert_int_equal(a->walk, a->bump_offset);
	assert_true(arena_check_invariants(a, 2, 64 * 2));
	/* at the tail's start, the place stays there as the tail shrinks:
	 * blocks cut from the tail later begin where it is */
	{
		uint64_t t1 = alloc_ok(a, 1, value_for_block(64));

		a->walk = a->bump_offset;
		arena_free_item(a, t1);
		assert_int_equal(a->walk, t1);
		assert_int_equal(alloc_ok(a, 1, value_for_block(128)), t1);
		assert_true(arena_check_invariants(a, 3, 64 * 2 + 128));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define ARENA_TEST(name, setup) cmocka_unit_test_setup_teardown(name, setup, teardown)
		ARENA_TEST(test_alloc_fills_header_and_accounts, setup_64k),
		ARENA_TEST(test_alloc_extreme_sizes, setup_64k),
		ARENA_TEST(test_free_then_same_size_reuses_block, setup_64k),
		ARENA_TEST(test_free_merges_neighbours, setup_64k),
		ARENA_TEST(test_free_at_tail_rejoins_tail, setup_64k),
		ARENA_TEST(test_split_larger_block, setup_64k),
		ARENA_TEST(test_split_small_remainder_is_slack, setup_64k),
		ARENA_TEST(test_large_items_reuse_range_class, setup_64m),
		ARENA_TEST(test_reuse_item_in_place, setup_64k),
		ARENA_TEST(test_shrink_item_in_place, setup_64k),
		ARENA_TEST(test_exhaustion_and_refill, setup_64k),
		ARENA_TEST(test_check_detects_corrupt_free_block, setup_64k),
		ARENA_TEST(test_init_rejects_bad_memory, setup_64k),
		ARENA_TEST(test_random_alloc_free_keeps_items_intact, setup_64m),
		ARENA_TEST(test_alloc_in_hole_and_walk, setup_64k),
#undef ARENA_TEST
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
