/* test_shard_tier.c - the compressed tiers of a shard (dataplane/shard_tier.c)
 * over a real shard and a model of every key: cooled items are demoted to
 * LZ4 and then LZ4-HC, values that do not compress stay raw, a GET returns
 * exactly the bytes written from any tier and brings the item back to raw,
 * the scan hands consumers (checkpoints, region moves) the value as sent,
 * overwrites and deletes of compressed items keep the counters right, the
 * step's budget is kept, the cooling clock runs on accesses as well as on
 * time, and the shard's invariants hold after every phase (including the
 * per-tier counts). */
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
#include "temperature.h"
#include "we_test.h"

#define KEYS 2000
#define VLEN 600

static struct keyhash_secret secret;
static struct shard *sh;
static void *mem;
static uint8_t model[KEYS][VLEN];
static uint32_t model_len[KEYS];

static void key_of(unsigned i, char *k, uint8_t *len)
{
	*len = (uint8_t)snprintf(k, 32, "tier-key-%u", i);
}

/* Even keys: JSON-like text (compresses); odd keys: random bytes (does not). */
static void make_value(unsigned i, unsigned version, uint8_t *v, uint32_t *len)
{
	uint64_t r = (uint64_t)i << 20 | version;

	static const char json[] = "{\"name\":\"user\",\"id\":12345,\"tags\":[\"a\",\"b\"]} ";

	*len = VLEN - (i % 50);
	if (i % 2 == 0) {
		for (uint32_t o = 0; o < *len; o++)
			v[o] = (uint8_t)json[(o + i) % (sizeof(json) - 1)];
		v[0] = (uint8_t)('0' + version % 10);
	} else {
		for (uint32_t o = 0; o < *len; o++)
			v[o] = (uint8_t)we_test_rand(&r);
	}
}

static void put(unsigned i, unsigned version)
{
	char k[32];
	uint8_t kl;

	make_value(i, version, model[i], &model_len[i]);
	key_of(i, k, &kl);
	assert_int_equal(shard_put(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl,
				   model[i], model_len[i]),
			 WE_STATUS_OK);
}

static void get_check(unsigned i)
{
	char k[32];
	uint8_t kl;
	const uint8_t *v;
	uint32_t vl;

	key_of(i, k, &kl);
	assert_int_equal(shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl,
				   &v, &vl),
			 WE_STATUS_OK);
	assert_int_equal(vl, model_len[i]);
	assert_memory_equal(v, model[i], vl);
}

/* An empty shard in sh and mem (freed by teardown). */
static void shard_new(uint64_t capacity, uint64_t arena_bytes)
{
	shard_test_new(&sh, &mem, &secret, capacity, arena_bytes);
}

/* KEYS items, version 1, in an 8 MiB arena. */
static int setup(void **state)
{
	(void)state;
	shard_new(KEYS * 2, 8u << 20);
	for (unsigned i = 0; i < KEYS; i++)
		put(i, 1);
	return 0;
}

/* An empty 64 KiB arena that about a hundred items fill. Capacity 4096: the
 * sketch's rows have 2048 counters, so the ~100 keys written share a
 * counter in every row (which would make a new key read as used) with odds
 * below 1e-5. */
static int setup_small(void **state)
{
	(void)state;
	shard_new(4096, 64u << 10);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(sh);
	free(mem);
	return 0;
}

/* A whole pass of demotion steps. */
static int demote_all(const struct shard_demote_policy *p)
{
	struct shard_scan cur = {0};
	int total = 0;

	while (!shard_scan_done(sh, &cur)) {
		int n = shard_demote_step(sh, &cur, p);

		assert_true(n >= 0);
		total += n;
	}
	return total;
}

static void test_demote_read_promote(void **state)
{
	struct shard_demote_policy p = {.warm_below = 3, .cold_below = 1, .max_chains = 64,
					.max_input_bytes = 1u << 20};
	struct shard_tier_counters t;
	struct shard_counters c0, c1;
	unsigned even = KEYS / 2;
	int deep;

	(void)state;
	shard_read_counters(sh, &c0);
	/* Nothing is cool yet: nothing moves. */
	assert_int_equal(demote_all(&p), 0);
	/* 100 ticks later every item has cooled to 0. */
	shard_set_tick(sh, 100);
	assert_int_equal(demote_all(&p), (int)even);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_PHOTON_SPHERE], even);
	assert_int_equal(t.items[TIER_EVENT_HORIZON], KEYS - even);
	assert_int_equal(t.left_raw, KEYS - even);
	assert_true(t.stored_bytes[TIER_PHOTON_SPHERE] * 4 < t.value_bytes[TIER_PHOTON_SPHERE]);
	shard_read_counters(sh, &c1);
	assert_true(c1.arena_used_bytes < c0.arena_used_bytes);
	assert_true(shard_check_invariants(sh));
	/* A second pass takes the LZ4 items down to LZ4-HC (but those LZ4-HC
	 * would make larger: they stay), and does not try the values that did
	 * not compress again (marked raw_only). */
	deep = demote_all(&p);
	shard_read_tiers(sh, &t);
	assert_true(deep > (int)even / 2);
	assert_int_equal(t.items[TIER_DEEP_CACHE], deep);
	assert_int_equal(t.items[TIER_PHOTON_SPHERE], even - (unsigned)deep);
	assert_int_equal(t.demotions[TIER_DEEP_CACHE], deep);
	assert_int_equal(t.left_raw, KEYS - even);
	assert_true(shard_check_invariants(sh));
	/* A write clears the mark: key 1 written again is tried once more. */
	put(1, 2);
	shard_set_tick(sh, 200);
	assert_int_equal(demote_all(&p), 0);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.left_raw, KEYS - even + 1);
	/* Every GET returns the exact bytes; a hit makes the item raw again. */
	for (unsigned i = 0; i < KEYS; i++)
		get_check(i);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.hits[TIER_DEEP_CACHE], deep);
	assert_int_equal(t.hits[TIER_PHOTON_SPHERE], even - (unsigned)deep);
	assert_int_equal(t.promotions, even);
	assert_int_equal(t.items[TIER_EVENT_HORIZON], KEYS);
	for (unsigned i = 0; i < KEYS; i++)
		get_check(i); /* raw now */
	assert_true(shard_check_invariants(sh));
}

/* The scan gives consumers the value as sent, from any tier. */
static void test_scan_values(void **state)
{
	struct shard_demote_policy p = {.warm_below = 3, .cold_below = 1, .max_chains = 64,
					.max_input_bytes = 1u << 20};
	struct shard_scan_item items[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = {0};
	unsigned seen = 0, compressed = 0;

	(void)state;
	shard_set_tick(sh, 100);
	demote_all(&p);
	while (!shard_scan_done(sh, &cur)) {
		int n = shard_scan_step(sh, &cur, items, SHARD_SCAN_ITEMS_MIN, 4);

		for (int i = 0; i < n; i++) {
			char name[64];
			unsigned k;
			const uint8_t *v = shard_scan_value(sh, &items[i]);

			memcpy(name, items[i].key, items[i].key_len); /* not terminated */
			name[items[i].key_len] = '\0';
			assert_int_equal(sscanf(name, "tier-key-%u", &k), 1);
			assert_non_null(v);
			assert_int_equal(items[i].value_len, model_len[k]);
			assert_memory_equal(v, model[k], model_len[k]);
			compressed += items[i].tier != TIER_EVENT_HORIZON;
			seen++;
		}
	}
	assert_int_equal(seen, KEYS);
	assert_int_equal(compressed, KEYS / 2);
}

/* Overwrites and deletes of compressed items; the hot ones stay raw. */
static void test_overwrite_delete_and_warmth(void **state)
{
	struct shard_demote_policy p = {.warm_below = 3, .cold_below = 1, .max_chains = 64,
					.max_input_bytes = 1u << 20};
	struct shard_tier_counters t;
	char k[32];
	uint8_t kl;

	(void)state;
	shard_set_tick(sh, 100);
	demote_all(&p);
	for (unsigned i = 0; i < KEYS; i += 4)
		put(i, 2); /* compressed -> raw, new value */
	for (unsigned i = 2; i < KEYS; i += 4) {
		key_of(i, k, &kl);
		assert_int_equal(shard_delete(sh, shard_hash(sh, (const uint8_t *)k, kl),
					      (const uint8_t *)k, kl),
				 WE_STATUS_OK);
		model_len[i] = 0;
	}
	assert_true(shard_check_invariants(sh));
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_PHOTON_SPHERE], 0);
	assert_int_equal(t.items[TIER_EVENT_HORIZON] + t.items[TIER_DEEP_CACHE], KEYS - KEYS / 4);
	/* An overwrite keeps the key's warmth: these were cold, one write
	 * leaves them below warm_below, so the next pass demotes them again
	 * (and the next GET brings them back). */
	assert_int_equal(demote_all(&p), KEYS / 4);
	for (unsigned i = 0; i < KEYS; i++)
		if (model_len[i] != 0)
			get_check(i);
}

/* A step stops at its budget, between chains: at most the chain it was in
 * when the budget ran out goes over it. */
static void test_budget(void **state)
{
	struct shard_demote_policy p = {.warm_below = 3, .cold_below = 1, .max_chains = 1u << 20,
					.max_input_bytes = 1};
	struct shard_scan cur = {0};

	(void)state;
	shard_set_tick(sh, 100);
	/* the budget is spent by the first try: one chain a step */
	for (int s = 0; s < 50 && !shard_scan_done(sh, &cur); s++)
		assert_true(shard_demote_step(sh, &cur, &p) <= (int)SHARD_SCAN_ITEMS_MIN);
	assert_false(shard_scan_done(sh, &cur));
	assert_true(shard_check_invariants(sh));
}

/* Eviction (a cache): items cooler than evict_below are deleted, the
 * warmer ones stay, and the counters and invariants agree. */
/* The level of key i now, read through the scan and cooled to the clock. */
static unsigned level_of(unsigned i)
{
	struct shard_scan_item it;
	char k[32];
	uint8_t kl;

	key_of(i, k, &kl);
	if (!shard_test_scan_find(sh, k, kl, &it))
		fail_msg("key %u not found by the scan", i);
	return temperature_read(it.temperature, shard_tick(sh));
}

/* The cooling clock also runs on accesses: SHARD_COOL_ACCESSES_PER_ITEM
 * per item held make a tick, so after that many GETs of one key (tiers on)
 * an untouched item reads a level lower and the read key is hot; with reads
 * not tracked, GETs neither warm nor cool anything. The time part still
 * cools on its own. */
static void test_access_clock(void **state)
{
	unsigned cold0, hot0;
	uint32_t ticks = SHARD_COOL_ACCESSES_PER_ITEM * KEYS;

	(void)state;
	shard_set_tick(sh, 10);
	cold0 = level_of(1);
	hot0 = level_of(0);
	for (uint32_t n = 0; n < ticks; n++)
		get_check(0); /* reads not tracked yet */
	assert_int_equal(level_of(1), cold0);
	assert_int_equal(level_of(0), hot0);
	shard_set_track_reads(sh, true);
	for (uint32_t n = 0; n < 2 * ticks + 1; n++)
		get_check(0);
	/* two access ticks at least (the first may have been partly counted by the PUTs) */
	assert_true(level_of(1) + 2 <= cold0 || level_of(1) == 0);
	assert_true(level_of(0) > TEMP_LEVEL_NEW + 20);
	/* time alone: 3 ticks more cool by 3 */
	cold0 = level_of(2);
	shard_set_tick(sh, 13);
	assert_true(level_of(2) + 3 <= cold0 || level_of(2) == 0);
}

static void test_evict(void **state)
{
	struct shard_demote_policy p = {.evict_below = 3, .max_chains = 64,
					.max_input_bytes = 1u << 20};
	struct shard_tier_counters t;
	struct shard_counters c;
	char k[32];
	uint8_t kl;

	(void)state;
	shard_set_tick(sh, 100); /* every item cooled to 0 ... */
	for (unsigned i = 0; i < KEYS; i += 10) /* ... but these, written 4 times now */
		for (unsigned v = 3; v < 7; v++)
			put(i, v);
	demote_all(&p);
	shard_read_tiers(sh, &t);
	shard_read_counters(sh, &c);
	assert_int_equal(t.evictions, KEYS - KEYS / 10);
	assert_int_equal(c.items, KEYS / 10);
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < KEYS; i++) {
		const uint8_t *v;
		uint32_t vl;

		if (i % 10 == 0) {
			get_check(i);
			continue;
		}
		key_of(i, k, &kl);
		assert_int_equal(shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl),
					   (const uint8_t *)k, kl, &v, &vl),
				 WE_STATUS_NOT_FOUND);
	}
}

/* A cache (evict on PUT, admission on): a small shard filled to the brim.
 * New keys written once displace items written once and never read (the
 * newest writes get in); once every held item has been read, a new key seen
 * only once is declined (answered OK, not stored, counted), while a key
 * asked for several times (GET misses) is admitted and displaces the
 * coldest sampled item; every item left reads back exactly; the invariants
 * hold. */
static void test_put_eviction_and_admission(void **state)
{
	struct shard_tier_counters t;
	struct shard_counters sc;
	const uint8_t *v;
	uint32_t vl;
	char k[32];
	uint8_t kl;
	unsigned n = 0, held;

	(void)state;
	shard_set_track_reads(sh, true);
	shard_set_evict_on_put(sh, true);
	/* Fill: PUT until the shard holds no more (the first eviction). */
	for (;; n++) {
		put(n, 1);
		shard_read_tiers(sh, &t);
		if (t.rejected != 0 || t.evictions != 0)
			break;
	}
	/* 64 KiB of ~580-byte items: about a hundred, then the first eviction:
	 * the new key and the unread victim were used as often */
	assert_true(n > 80 && n < 120);
	assert_true(t.evictions >= 1);
	assert_int_equal(t.rejected, 0);
	get_check(n);
	/* Every held key read twice: now each was used more than a new key. */
	for (unsigned i = 0; i <= n; i++) {
		key_of(i, k, &kl);
		for (unsigned r = 0; r < 2; r++)
			(void)shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k,
					kl, &v, &vl);
	}
	n++;
	shard_read_counters(sh, &sc);
	held = (unsigned)sc.items;
	shard_read_tiers(sh, &t);
	put(n, 1); /* declined */
	shard_read_tiers(sh, &t);
	assert_int_equal(t.rejected, 1);
	shard_read_counters(sh, &sc);
	assert_int_equal(sc.items, held);
	key_of(n, k, &kl);
	assert_int_equal(shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k,
				   kl, &v, &vl),
			 WE_STATUS_NOT_FOUND);
	/* Key n + 1 asked for four times before its PUT: admitted. */
	key_of(n + 1, k, &kl);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl),
					   (const uint8_t *)k, kl, &v, &vl),
				 WE_STATUS_NOT_FOUND);
	{
		uint64_t ev0 = t.evictions;

		put(n + 1, 1);
		get_check(n + 1);
		shard_read_tiers(sh, &t);
		assert_true(t.evictions >= ev0 + 1);
		assert_int_equal(t.rejected, 1);
		shard_read_counters(sh, &sc);
		assert_true(sc.items <= held && sc.items + (t.evictions - ev0) == held + 1);
	}
	assert_true(shard_check_invariants(sh));
	/* Every key still held reads back exactly. */
	for (unsigned i = 0; i < n; i++) {
		key_of(i, k, &kl);
		if (shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl, &v,
			      &vl) == WE_STATUS_OK) {
			assert_int_equal(vl, model_len[i]);
			assert_memory_equal(v, model[i], vl);
		}
	}
}

/* Recovery's passes: every raw item that compresses goes to LZ4 at once,
 * however warm, then (deep) every LZ4 item to LZ4-HC; the values that do
 * not compress stay raw; every GET is exact. */
static void test_compress_all(void **state)
{
	struct shard_tier_counters t;
	uint64_t deep;

	(void)state;
	for (unsigned i = 0; i < 50; i++)
		get_check(0); /* warm: still compressed */
	assert_int_equal(shard_compress_all(sh, false), KEYS / 2);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_PHOTON_SPHERE], KEYS / 2);
	assert_int_equal(t.items[TIER_EVENT_HORIZON], KEYS - KEYS / 2);
	assert_int_equal(shard_compress_all(sh, false), 0); /* nothing left to do */
	assert_true(shard_check_invariants(sh));
	/* deep: the LZ4 items go on to LZ4-HC (those it would not make larger) */
	deep = shard_compress_all(sh, true);
	assert_true(deep > KEYS / 4);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_DEEP_CACHE], deep);
	assert_int_equal(t.items[TIER_PHOTON_SPHERE], KEYS / 2 - deep);
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < KEYS; i++)
		get_check(i);
}

/* A full arena still compresses: with no block free for a compressed
 * copy, the value is compressed in place and the block shrunk; every key
 * then reads back exactly and the freed room takes more items. */
static void test_compress_when_full(void **state)
{
	struct shard_counters sc;
	struct shard_tier_counters t;
	unsigned n = 0, held;
	char k[32];
	uint8_t kl;

	(void)state;
	/* even keys only (they compress), until the arena refuses one */
	for (;; n += 2) {
		make_value(n, 1, model[n], &model_len[n]);
		key_of(n, k, &kl);
		if (shard_put(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl,
			      model[n], model_len[n]) != WE_STATUS_OK)
			break;
	}
	shard_read_counters(sh, &sc);
	held = (unsigned)sc.items;
	assert_true(sc.arena_free_bytes + sc.arena_untouched_bytes < 700);
	assert_int_equal(shard_compress_all(sh, false), held);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_PHOTON_SPHERE], held);
	assert_true(shard_check_invariants(sh));
	shard_read_counters(sh, &sc);
	assert_true(sc.arena_free_bytes + sc.arena_untouched_bytes > (64u << 10) / 2);
	shard_set_promote_level(sh, TEMP_LEVEL_MAX); /* reads leave them compressed */
	for (unsigned i = 0; i < n; i += 2)
		get_check(i);
	put(n, 1); /* the one refused before fits now */
	get_check(n);
}

/* The budget kept at the moment of a write (shard_set_make_room): PUTs of
 * compressible values into a full arena compress cold items and succeed,
 * three times what the arena holds raw, overwrites included; every value
 * reads back exactly. Incompressible values still end in NO_SPACE (the
 * steps are bounded), and with the room steps off a full arena refuses. */
static void test_make_room_on_put(void **state)
{
	const struct shard_demote_policy pressure = {
		.warm_below = TEMP_LEVEL_NEW + 5,
		.cold_below = TEMP_LEVEL_NEW + 1,
		.max_chains = 32,
		.max_input_bytes = 8 * 1024,
	};
	struct shard_tier_counters t;
	struct shard_counters sc;
	unsigned n, odd;
	char k[32];
	uint8_t kl;

	(void)state;
	shard_set_make_room(sh, &pressure);
	shard_set_promote_level(sh, TEMP_LEVEL_MAX); /* reads leave them compressed */
	/* 64 KiB holds about a hundred raw values of ~600 bytes */
	for (n = 0; n < 600; n += 2)
		put(n, 1);
	for (n = 0; n < 600; n += 6)
		put(n, 2); /* overwrites, some of compressed items */
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_EVENT_HORIZON] + t.items[TIER_PHOTON_SPHERE] +
				 t.items[TIER_DEEP_CACHE], 300);
	assert_true(t.items[TIER_PHOTON_SPHERE] + t.items[TIER_DEEP_CACHE] > 200);
	assert_true(shard_check_invariants(sh));
	for (n = 0; n < 600; n += 2)
		get_check(n);
	/* random values: the room left runs out, and NO_SPACE says so */
	for (odd = 1; odd < KEYS; odd += 2) {
		make_value(odd, 1, model[odd], &model_len[odd]);
		key_of(odd, k, &kl);
		if (shard_put(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl,
			      model[odd], model_len[odd]) != WE_STATUS_OK)
			break;
	}
	assert_true(odd < KEYS);
	shard_read_counters(sh, &sc);
	assert_int_equal(sc.put_no_space, 1);
	assert_true(shard_check_invariants(sh));
	for (n = 0; n < 600; n += 2)
		get_check(n);
	/* off: a compressible value that does not fit raw is refused */
	shard_set_make_room(sh, NULL);
	for (n = 1000; n < 1100; n += 2) {
		make_value(n, 1, model[n], &model_len[n]);
		key_of(n, k, &kl);
		if (shard_put(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl,
			      model[n], model_len[n]) != WE_STATUS_OK)
			break;
	}
	assert_true(n < 1100);
	shard_read_counters(sh, &sc);
	assert_int_equal(sc.put_no_space, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_demote_read_promote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overwrite_delete_and_warmth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_when_full, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_put_eviction_and_admission, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_make_room_on_put, setup_small, teardown),
	};

	return shard_test_run_both(tests, sizeof(tests) / sizeof(tests[0]));
}
