/* test_shard_archive.c - the stubs of the disk tier (dataplane/shard_tier.c)
 * over a real shard and a model of every key: picked cold items (raw, LZ4,
 * LZ4-HC) become 16-byte stubs on commit and free their memory, a GET of a
 * stub answers SHARD_STATUS_ARCHIVED with the ref and the value's length, a
 * restore brings back exactly the bytes written; a commit or restore that
 * comes after an overwrite or delete changes nothing; a full arena keeps the
 * stub; PUT, DELETE, demotion, shard_compress_all, eviction and the scan
 * treat stubs right; the counters of tier 3 add up; and a random model test
 * mixes all of it with every GET checked and the invariants at the end;
 * values compressed against the shard's dictionary archive and restore in
 * their own codecs. The archive file is the test's memory: the shard does
 * no I/O. */
#include <errno.h>
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
#define VLEN_MAX 1024

static struct keyhash_secret secret;
static struct shard *sh;
static void *mem;
static uint8_t model[KEYS][VLEN_MAX];
static uint32_t model_len[KEYS];

/* A picked item, copied out (a pick's pointers die with the next commit).
 * version: the test's own count of the key's writes when it was picked
 * (the random model's; the shard keeps none). */
struct picked {
	unsigned key;
	uint64_t hash, version;
	uint32_t value_len, stored_len;
	uint8_t codec;
	uint8_t stored[VLEN_MAX];
};

static struct picked picks[KEYS];

static const struct shard_demote_policy demote = {.warm_below = 3, .cold_below = 1,
						  .max_chains = 64, .max_input_bytes = 1u << 20};
static const struct shard_archive_policy archive_cold = {.archive_below = 1, .max_chains = 64,
							 .max_stored_bytes = 1u << 20};

static void key_of(unsigned i, char *k, uint8_t *len)
{
	*len = (uint8_t)snprintf(k, 32, "arch-key-%u", i);
}

static unsigned key_index(const uint8_t *key, uint8_t len)
{
	char name[64];
	unsigned k;

	memcpy(name, key, len); /* not terminated */
	name[len] = '\0';
	assert_int_equal(sscanf(name, "arch-key-%u", &k), 1);
	return k;
}

static uint64_t hash_of(unsigned i)
{
	char k[32];
	uint8_t kl;

	key_of(i, k, &kl);
	return shard_hash(sh, (const uint8_t *)k, kl);
}

/* Even versions of even keys: JSON-like text (compresses); the rest random
 * bytes (does not). len 0: the default length. */
static void make_value(unsigned i, unsigned version, uint32_t len, uint8_t *v, uint32_t *out)
{
	static const char json[] = "{\"name\":\"user\",\"id\":12345,\"tags\":[\"a\",\"b\"]} ";
	uint64_t r = (uint64_t)i << 20 | version;

	*out = len != 0 ? len : 600 - (i % 50);
	if (i % 2 == 0 && version % 2 == 0) {
		for (uint32_t o = 0; o < *out; o++)
			v[o] = (uint8_t)json[(o + i) % (sizeof(json) - 1)];
		/* the version in the first bytes: no two writes of a key store
		 * the same bytes (the random model tells writes apart so) */
		for (uint32_t o = 0; o < 4 && o < *out; o++)
			v[o] = (uint8_t)(version >> (8 * o));
	} else {
		for (uint32_t o = 0; o < *out; o++)
			v[o] = (uint8_t)we_test_rand(&r);
	}
}

static enum we_status put_len(unsigned i, unsigned version, uint32_t len)
{
	char k[32];
	uint8_t kl;
	uint8_t v[VLEN_MAX];
	uint32_t vl;
	enum we_status st;

	make_value(i, version, len, v, &vl);
	key_of(i, k, &kl);
	st = shard_put(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl, v, vl);
	if (st == WE_STATUS_OK) {
		memcpy(model[i], v, vl);
		model_len[i] = vl;
	}
	return st;
}

static void put(unsigned i, unsigned version)
{
	assert_int_equal(put_len(i, version, 0), WE_STATUS_OK);
}

static enum we_status get(unsigned i, const uint8_t **v, uint32_t *vl)
{
	char k[32];
	uint8_t kl;

	key_of(i, k, &kl);
	return shard_get(sh, shard_hash(sh, (const uint8_t *)k, kl), (const uint8_t *)k, kl, v, vl);
}

static void get_check(unsigned i)
{
	const uint8_t *v;
	uint32_t vl;

	assert_int_equal(get(i, &v, &vl), WE_STATUS_OK);
	assert_int_equal(vl, model_len[i]);
	assert_memory_equal(v, model[i], vl);
}

/* The ref the test's "archive file" gives key i's record. */
static struct shard_archive_ref ref_of(unsigned i, uint32_t bytes)
{
	return (struct shard_archive_ref){.offset = (uint64_t)i << 12, .bytes = bytes,
					  .check = i * 2654435761u};
}

static void get_archived(unsigned i, const struct shard_archive_ref *ref)
{
	struct shard_archive_ref got;
	const uint8_t *v;
	uint32_t vl;

	assert_int_equal(get(i, &v, &vl), SHARD_STATUS_ARCHIVED);
	assert_int_equal(vl, model_len[i]);
	memcpy(&got, v, sizeof(got));
	assert_memory_equal(&got, ref, sizeof(got));
}

static void shard_new(uint64_t capacity, uint64_t arena_bytes)
{
	shard_test_new(&sh, &mem, &secret, capacity, arena_bytes);
}

/* KEYS items, version 1 (none compresses), in an 8 MiB arena. */
static int setup(void **state)
{
	(void)state;
	shard_new(KEYS * 2, 8u << 20);
	for (unsigned i = 0; i < KEYS; i++)
		put(i, i % 2 == 0 ? 2 : 1); /* even keys compress */
	return 0;
}

/* An empty 64 KiB arena that about a hundred items fill. */
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

static void copy_pick(const struct shard_archive_pick *p, struct picked *o)
{
	o->key = key_index(p->key, p->key_len);
	o->hash = p->hash;
	o->version = 0;
	o->value_len = p->value_len;
	o->stored_len = p->stored_len;
	o->codec = p->codec;
	assert_true(p->stored_len <= VLEN_MAX);
	memcpy(o->stored, p->stored, p->stored_len);
	assert_int_equal(p->hash, hash_of(o->key));
}

/* A whole pass of archive steps; the picks copied into picks[]. */
static unsigned pick_all(const struct shard_archive_policy *p)
{
	struct shard_archive_pick out[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = {0};
	unsigned n = 0;

	while (!shard_scan_done(sh, &cur)) {
		int got = shard_archive_step(sh, &cur, p, out, SHARD_SCAN_ITEMS_MIN);

		assert_true(got >= 0);
		for (int i = 0; i < got; i++) {
			assert_true(n < KEYS);
			copy_pick(&out[i], &picks[n++]);
		}
	}
	return n;
}

static bool commit(const struct picked *p)
{
	char k[32];
	uint8_t kl;
	struct shard_archive_ref ref = ref_of(p->key, p->stored_len);

	key_of(p->key, k, &kl);
	return shard_archive_commit(sh, p->hash, (const uint8_t *)k, kl, p->codec, p->stored,
				    p->stored_len, &ref);
}

static enum shard_restore restore(const struct picked *p, bool force)
{
	char k[32];
	uint8_t kl;
	struct shard_archive_ref ref = ref_of(p->key, p->stored_len);

	key_of(p->key, k, &kl);
	return shard_archive_restore(sh, p->hash, (const uint8_t *)k, kl, &ref, p->codec, p->stored,
				     p->stored_len, force);
}

/* The tier key i is stored in now (a whole scan), or -1 when absent. */
static int tier_of(unsigned i)
{
	struct shard_scan_item it;
	char k[32];
	uint8_t kl;

	key_of(i, k, &kl);
	return shard_test_scan_find(sh, k, kl, &it) ? (int)it.tier : -1;
}

/* The codec key i's item stores its value in now (value_codec.h), or -1
 * when absent. */
static int codec_of(unsigned i)
{
	struct shard_scan_item it;
	char k[32];
	uint8_t kl;

	key_of(i, k, &kl);
	if (!shard_test_scan_find(sh, k, kl, &it))
		return -1;
	return value_codec_of(it.tier, it.dict);
}

/* Raw, LZ4 and LZ4-HC items cooled to 0: a first demotion pass takes the
 * even keys to LZ4, a second one half the index on to LZ4-HC. */
static void three_codecs(void)
{
	struct shard_scan cur = {0};
	struct shard_tier_counters t;

	shard_set_tick(sh, 100);
	while (!shard_scan_done(sh, &cur))
		assert_true(shard_demote_step(sh, &cur, &demote) >= 0);
	cur.bucket = 0;
	while (cur.bucket < shard_scan_buckets(sh) / 2)
		assert_true(shard_demote_step(sh, &cur, &demote) >= 0);
	shard_read_tiers(sh, &t);
	assert_true(t.items[TIER_EVENT_HORIZON] > 0 && t.items[TIER_PHOTON_SPHERE] > 0 &&
		    t.items[TIER_DEEP_CACHE] > 0);
}

/* pick -> commit -> GET answers ARCHIVED, memory freed; restore -> GET exact. */
static void test_commit_get_restore(void **state)
{
	struct shard_tier_counters t0, t;
	struct shard_counters c0, c1;
	uint64_t stored[3] = {0}, picked[3] = {0}, value_bytes = 0, stub_bytes = 0;
	unsigned n;

	(void)state;
	three_codecs();
	shard_read_tiers(sh, &t0);
	shard_read_counters(sh, &c0);
	n = pick_all(&archive_cold);
	assert_int_equal(n, KEYS); /* all cold, all ~600 bytes */
	for (unsigned i = 0; i < n; i++) {
		assert_true(picks[i].codec <= TIER_DEEP_CACHE);
		picked[picks[i].codec]++;
		stored[picks[i].codec] += picks[i].stored_len;
		assert_int_equal(picks[i].value_len, model_len[picks[i].key]);
		if (picks[i].codec == TIER_EVENT_HORIZON) /* the value as written */
			assert_memory_equal(picks[i].stored, model[picks[i].key], picks[i].value_len);
	}
	for (unsigned c = 0; c < 3; c++) {
		assert_int_equal(picked[c], t0.items[c]);
		assert_int_equal(stored[c], t0.stored_bytes[c]);
	}
	for (unsigned i = 0; i < n; i++) {
		assert_true(commit(&picks[i]));
		value_bytes += picks[i].value_len;
		stub_bytes += picks[i].stored_len;
	}
	shard_read_counters(sh, &c1);
	assert_true(c1.arena_used_bytes * 4 < c0.arena_used_bytes);
	assert_int_equal(c1.items, KEYS);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_SINGULARITY], KEYS);
	assert_int_equal(t.items[TIER_EVENT_HORIZON] + t.items[TIER_PHOTON_SPHERE] +
				 t.items[TIER_DEEP_CACHE],
			 0);
	assert_int_equal(t.stored_bytes[TIER_SINGULARITY], stub_bytes);
	assert_int_equal(t.value_bytes[TIER_SINGULARITY], value_bytes);
	assert_int_equal(t.demotions[TIER_SINGULARITY], KEYS);
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < n; i++) {
		struct shard_archive_ref ref = ref_of(picks[i].key, picks[i].stored_len);

		get_archived(picks[i].key, &ref);
		assert_false(commit(&picks[i])); /* already archived */
	}
	shard_read_tiers(sh, &t);
	assert_int_equal(t.hits[TIER_SINGULARITY], KEYS);
	assert_int_equal(t.demotions[TIER_SINGULARITY], KEYS);
	/* Nothing left to pick: stubs are not candidates. */
	assert_int_equal(pick_all(&archive_cold), 0);
	/* Back from the "file", in the codec each was picked in. */
	shard_set_promote_level(sh, TEMP_LEVEL_MAX); /* GETs leave compressed items compressed */
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(restore(&picks[i], true), SHARD_RESTORED);
	assert_int_equal(restore(&picks[0], true), SHARD_RESTORE_STALE); /* not a stub now */
	shard_read_tiers(sh, &t);
	assert_int_equal(t.unarchived, KEYS);
	assert_int_equal(t.items[TIER_SINGULARITY], 0);
	assert_int_equal(t.stored_bytes[TIER_SINGULARITY], 0);
	assert_int_equal(t.value_bytes[TIER_SINGULARITY], 0);
	for (unsigned c = 0; c < 3; c++) {
		assert_int_equal(t.items[c], t0.items[c]);
		assert_int_equal(t.stored_bytes[c], t0.stored_bytes[c]);
	}
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < KEYS; i++)
		get_check(i);
}

/* A commit for a key overwritten or deleted since its pick is refused, and
 * one for a key compressed since (the record no longer holds what the item
 * stores: picked again, it commits in its new codec); a restore after an
 * overwrite, a delete or with another ref is STALE. */
static struct picked first[KEYS], fin[KEYS];

static void test_stale(void **state)
{
	struct shard_tier_counters t;
	struct shard_archive_ref ref;
	struct picked *p0, *p1, *p2;
	char k[32];
	uint8_t kl;
	unsigned n, m, refused = 0;

	(void)state;
	shard_set_tick(sh, 100);
	n = pick_all(&archive_cold);
	assert_int_equal(n, KEYS);
	p0 = &picks[0];
	p1 = &picks[1];
	put(p0->key, 3);
	key_of(p1->key, k, &kl);
	assert_int_equal(shard_delete(sh, p1->hash, (const uint8_t *)k, kl), WE_STATUS_OK);
	assert_false(commit(p0));
	assert_false(commit(p1));
	get_check(p0->key);
	/* The demotion pass compresses the even keys meanwhile: their raw
	 * picks are refused, the others' commit. */
	shard_set_tick(sh, 200);
	assert_true(shard_compress_all(sh, false) > 0);
	memcpy(first, picks, sizeof(first));
	for (unsigned i = 2; i < n; i++) {
		bool raw = tier_of(first[i].key) == TIER_EVENT_HORIZON;

		assert_int_equal(first[i].codec, TIER_EVENT_HORIZON);
		assert_int_equal(commit(&first[i]), raw);
		fin[i] = first[i];
		refused += !raw;
	}
	assert_true(refused > 0 && refused < n - 2);
	assert_true(shard_check_invariants(sh));
	/* Picked again (with the overwritten p0, left alone), they commit. */
	m = pick_all(&archive_cold);
	assert_int_equal(m, refused + 1);
	for (unsigned j = 0; j < m; j++) {
		if (picks[j].key == first[0].key)
			continue;
		assert_int_equal(picks[j].codec, TIER_PHOTON_SPHERE);
		assert_true(commit(&picks[j]));
		for (unsigned i = 2; i < n; i++)
			if (fin[i].key == picks[j].key)
				fin[i] = picks[j];
	}
	assert_true(shard_check_invariants(sh));
	/* A restore after an overwrite, after a delete, with another ref. */
	p2 = &fin[2];
	put(p2->key, 5);
	assert_int_equal(restore(p2, true), SHARD_RESTORE_STALE);
	get_check(p2->key);
	key_of(fin[3].key, k, &kl);
	assert_int_equal(shard_delete(sh, fin[3].hash, (const uint8_t *)k, kl), WE_STATUS_OK);
	assert_int_equal(restore(&fin[3], true), SHARD_RESTORE_STALE);
	ref = ref_of(fin[4].key, fin[4].stored_len + 1);
	key_of(fin[4].key, k, &kl);
	assert_int_equal(shard_archive_restore(sh, fin[4].hash, (const uint8_t *)k, kl, &ref,
					       fin[4].codec, fin[4].stored, fin[4].stored_len,
					       true),
			 SHARD_RESTORE_STALE);
	/* Bytes that cannot be the item's: the stub stays. */
	ref = ref_of(fin[4].key, fin[4].stored_len);
	assert_int_equal(shard_archive_restore(sh, fin[4].hash, (const uint8_t *)k, kl, &ref,
					       TIER_EVENT_HORIZON, fin[4].stored,
					       fin[4].stored_len - 1, true),
			 SHARD_RESTORE_STALE);
	assert_int_equal(shard_archive_restore(sh, fin[4].hash, (const uint8_t *)k, kl, &ref,
					       TIER_SINGULARITY, fin[4].stored, 16, true),
			 SHARD_RESTORE_STALE);
	get_archived(fin[4].key, &ref);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_SINGULARITY], KEYS - 4);
	assert_int_equal(t.unarchived, 0);
	for (unsigned i = 4; i < n; i++)
		assert_int_equal(restore(&fin[i], false), SHARD_RESTORED);
	for (unsigned i = 0; i < KEYS; i++)
		if (i != first[1].key && i != fin[3].key)
			get_check(i);
	assert_true(shard_check_invariants(sh));
}

/* A full arena: the restore finds no block and the item stays a stub (no
 * eviction, even in a cache); a cold stub is not restored without force;
 * once room is freed it comes back. */
static void test_restore_no_room(void **state)
{
	struct shard_archive_ref ref;
	unsigned n = 0, picked, next;
	char k0[32];
	uint8_t kl0;

	(void)state;
	shard_set_track_reads(sh, true);
	while (put_len(n, 1, 0) == WE_STATUS_OK)
		n++;
	shard_set_tick(sh, 100);
	picked = pick_all(&archive_cold);
	assert_int_equal(picked, n);
	for (unsigned i = 0; i < 10; i++)
		assert_true(commit(&picks[i]));
	/* Fill the room the stubs freed, down to the smallest block. */
	next = n;
	for (unsigned len = 600; len > 0; len /= 2)
		while (put_len(next, 1, len) == WE_STATUS_OK)
			next++;
	assert_true(next > n);
	shard_set_evict_on_put(sh, true);
	ref = ref_of(picks[0].key, picks[0].stored_len);
	assert_int_equal(restore(&picks[0], true), SHARD_RESTORE_NO_ROOM);
	get_archived(picks[0].key, &ref); /* warms it */
	shard_set_promote_level(sh, TEMP_LEVEL_MAX);
	assert_int_equal(restore(&picks[0], false), SHARD_RESTORE_COLD);
	assert_int_equal(restore(&picks[0], true), SHARD_RESTORE_NO_ROOM);
	assert_true(shard_check_invariants(sh));
	/* An item whose block is at least as large deleted: room for it
	 * (keys differ in length: compare whole items, not values). */
	key_of(picks[0].key, k0, &kl0);
	for (unsigned i = 10;; i++) {
		char k[32];
		uint8_t kl;

		assert_true(i < picked);
		key_of(picks[i].key, k, &kl);
		if (arena_item_bytes(kl, picks[i].stored_len) <
		    arena_item_bytes(kl0, picks[0].stored_len))
			continue;
		assert_int_equal(shard_delete(sh, picks[i].hash, (const uint8_t *)k, kl),
				 WE_STATUS_OK);
		break;
	}
	assert_int_equal(restore(&picks[0], false), SHARD_RESTORE_COLD);
	assert_int_equal(restore(&picks[0], true), SHARD_RESTORED);
	get_check(picks[0].key);
	shard_set_promote_level(sh, 0);
	for (unsigned i = 1; i < 10; i++) {
		ref = ref_of(picks[i].key, picks[i].stored_len);
		get_archived(picks[i].key, &ref);
	}
	assert_true(shard_check_invariants(sh));
}

/* A PUT over a stub replaces it (in its block when the value fits, else in
 * a new one); a DELETE frees it. */
static void test_put_delete_stub(void **state)
{
	struct shard_tier_counters t;
	const uint8_t *v;
	uint32_t vl;
	char k[32];
	uint8_t kl;
	unsigned n;

	(void)state;
	shard_set_tick(sh, 100);
	n = pick_all(&archive_cold);
	for (unsigned i = 0; i < n; i++)
		assert_true(commit(&picks[i]));
	put(0, 7);                         /* a new block */
	assert_int_equal(put_len(1, 7, 20), WE_STATUS_OK); /* the stub's block */
	assert_int_equal(put_len(2, 7, 3), WE_STATUS_OK);  /* smaller than a stub */
	key_of(3, k, &kl);
	assert_int_equal(shard_delete(sh, hash_of(3), (const uint8_t *)k, kl), WE_STATUS_OK);
	assert_int_equal(get(3, &v, &vl), WE_STATUS_NOT_FOUND);
	assert_int_equal(shard_delete(sh, hash_of(3), (const uint8_t *)k, kl), WE_STATUS_NOT_FOUND);
	for (unsigned i = 0; i < 3; i++)
		get_check(i);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_SINGULARITY], KEYS - 4);
	assert_int_equal(t.items[TIER_EVENT_HORIZON], 3);
	assert_true(shard_check_invariants(sh));
}

/* Demotion and recovery's compress_all never touch a stub. */
static void test_demote_leaves_stubs(void **state)
{
	struct shard_tier_counters t0, t;
	unsigned n;

	(void)state;
	shard_set_tick(sh, 100);
	n = pick_all(&archive_cold);
	for (unsigned i = 0; i < n; i += 2)
		assert_true(commit(&picks[i]));
	shard_read_tiers(sh, &t0);
	shard_set_tick(sh, 200);
	for (int pass = 0; pass < 2; pass++) {
		struct shard_scan cur = {0};

		while (!shard_scan_done(sh, &cur))
			assert_true(shard_demote_step(sh, &cur, &demote) >= 0);
	}
	(void)shard_compress_all(sh, true);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_SINGULARITY], t0.items[TIER_SINGULARITY]);
	assert_int_equal(t.stored_bytes[TIER_SINGULARITY], t0.stored_bytes[TIER_SINGULARITY]);
	assert_true(t.items[TIER_DEEP_CACHE] > 0);
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < n; i++) {
		struct shard_archive_ref ref = ref_of(picks[i].key, picks[i].stored_len);

		if (i % 2 == 0)
			get_archived(picks[i].key, &ref);
		else
			get_check(picks[i].key);
	}
}

/* A cache: PUTs that find no room evict stubs like any item, and so does
 * demotion's evict_below; what is left reads back right. */
static void test_evict_stubs(void **state)
{
	struct shard_demote_policy evict = {.evict_below = 1, .max_chains = 64,
					    .max_input_bytes = 1u << 20};
	struct shard_tier_counters t0, t;
	static uint32_t ref_bytes[KEYS];
	unsigned n = 0, picked, puts_done = 0, refused = 0;

	(void)state;
	shard_set_track_reads(sh, true);
	while (put_len(n, 1, 0) == WE_STATUS_OK)
		n++;
	/* A cache from here on: its stubs are shrunk in place (evicting one
	 * gives the item's whole block back). */
	shard_set_evict_on_put(sh, true);
	shard_set_tick(sh, 100);
	picked = pick_all(&archive_cold);
	for (unsigned i = 0; i < picked; i++) {
		assert_true(commit(&picks[i]));
		ref_bytes[picks[i].key] = picks[i].stored_len;
	}
	shard_read_tiers(sh, &t0);
	assert_int_equal(t0.items[TIER_SINGULARITY], n);
	/* 16 evictions may not free one block large enough (values differ in
	 * length): a cache may refuse a PUT, rarely (its key then reads as
	 * absent below). */
	for (unsigned i = n; i < 3 * n && i < KEYS; i++)
		for (int r = 0; r < 3; r++) {
			const uint8_t *v;
			uint32_t vl;
			enum we_status st;

			(void)get(i, &v, &vl); /* asked for: admitted */
			if (r != 2)
				continue;
			puts_done++;
			st = put_len(i, 1, 0);
			if (st != WE_STATUS_OK) {
				assert_int_equal(st, WE_STATUS_NO_SPACE);
				refused++;
			}
		}
	/* 0-5 of 218 in 100 runs (the hash secret differs per run): under 5 % */
	print_message("    %u of %u PUTs refused\n", refused, puts_done);
	assert_true(refused * 20 <= puts_done);
	shard_read_tiers(sh, &t);
	assert_true(t.evictions > 0);
	assert_true(t.items[TIER_SINGULARITY] < t0.items[TIER_SINGULARITY]);
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < 3 * n && i < KEYS; i++) {
		const uint8_t *v;
		uint32_t vl;
		enum we_status st = get(i, &v, &vl);

		if (st == SHARD_STATUS_ARCHIVED) {
			struct shard_archive_ref ref = ref_of(i, ref_bytes[i]);

			assert_true(i < n);
			get_archived(i, &ref);
		} else if (st == WE_STATUS_OK) {
			assert_int_equal(vl, model_len[i]);
			assert_memory_equal(v, model[i], vl);
		} else {
			assert_int_equal(st, WE_STATUS_NOT_FOUND);
		}
	}
	shard_set_tick(sh, 300);
	{
		struct shard_scan cur = {0};

		while (!shard_scan_done(sh, &cur))
			assert_true(shard_demote_step(sh, &cur, &evict) >= 0);
	}
	shard_read_tiers(sh, &t);
	assert_int_equal(t.items[TIER_SINGULARITY], 0);
	assert_true(shard_check_invariants(sh));
}

/* The scan reports a stub as tier 3 with its ref as the stored bytes;
 * shard_scan_value has no value for it. */
static void test_scan_stubs(void **state)
{
	struct shard_scan_item items[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = {0};
	unsigned seen = 0, stubs = 0, n;
	static struct shard_archive_ref refs[KEYS];
	static bool stubbed[KEYS];

	(void)state;
	shard_set_tick(sh, 100);
	n = pick_all(&archive_cold);
	for (unsigned i = 0; i < n; i += 3) {
		assert_true(commit(&picks[i]));
		refs[picks[i].key] = ref_of(picks[i].key, picks[i].stored_len);
		stubbed[picks[i].key] = true;
	}
	while (!shard_scan_done(sh, &cur)) {
		int got = shard_scan_step(sh, &cur, items, SHARD_SCAN_ITEMS_MIN, 4);

		assert_true(got >= 0);
		for (int i = 0; i < got; i++) {
			unsigned k = key_index(items[i].key, items[i].key_len);
			struct shard_archive_ref ref;

			assert_int_equal(items[i].value_len, model_len[k]);
			if (stubbed[k]) {
				assert_int_equal(items[i].tier, TIER_SINGULARITY);
				assert_int_equal(items[i].stored_len, 16);
				assert_null(shard_scan_value(sh, &items[i]));
				assert_true(shard_scan_archive_ref(&items[i], &ref));
				assert_memory_equal(&ref, &refs[k], sizeof(ref));
				assert_memory_equal(items[i].value, &refs[k], sizeof(ref));
				stubs++;
			} else {
				assert_int_not_equal(items[i].tier, TIER_SINGULARITY);
				assert_false(shard_scan_archive_ref(&items[i], &ref));
				assert_memory_equal(shard_scan_value(sh, &items[i]), model[k],
						    model_len[k]);
			}
			seen++;
		}
	}
	assert_int_equal(seen, KEYS);
	assert_int_equal(stubs, (KEYS + 2) / 3);
}

/* Bad arguments change nothing. */
static void test_einval(void **state)
{
	struct shard_archive_pick out[SHARD_SCAN_ITEMS_MIN];
	struct shard_archive_policy p = archive_cold;
	struct shard_scan cur = {0};

	(void)state;
	assert_int_equal(shard_archive_step(sh, &cur, &p, out, SHARD_SCAN_ITEMS_MIN - 1), -EINVAL);
	p.max_chains = 0;
	assert_int_equal(shard_archive_step(sh, &cur, &p, out, SHARD_SCAN_ITEMS_MIN), -EINVAL);
	p.max_chains = 1;
	cur.bucket = shard_scan_buckets(sh) + 1;
	assert_int_equal(shard_archive_step(sh, &cur, &p, out, SHARD_SCAN_ITEMS_MIN), -EINVAL);
	/* A min_saved_bytes above any saving picks nothing; a budget of one
	 * byte takes one chain a step. */
	shard_set_tick(sh, 100);
	cur.bucket = 0;
	p.max_chains = 1u << 20;
	p.min_saved_bytes = 4096;
	assert_int_equal(shard_archive_step(sh, &cur, &p, out, SHARD_SCAN_ITEMS_MIN), 0);
	assert_true(shard_scan_done(sh, &cur));
	cur.bucket = 0;
	p.min_saved_bytes = 0;
	p.max_stored_bytes = 1;
	for (int step = 0; step < 3; step++) {
		int got = shard_archive_step(sh, &cur, &p, out, SHARD_SCAN_ITEMS_MIN);

		/* one chain with picks, and the empty ones before it */
		assert_true(got > 0 && got <= (int)SHARD_SCAN_ITEMS_MIN);
		for (int i = 1; i < got; i++)
			assert_int_equal(keyhash_bucket(out[i].hash, shard_scan_buckets(sh)),
					 keyhash_bucket(out[0].hash, shard_scan_buckets(sh)));
	}
	assert_false(shard_scan_done(sh, &cur));
}

/*
 * The random model test: a small arena (PUTs and restores meet NO_SPACE),
 * keys that come and go, demotion steps, pick steps whose picks are
 * committed later (some overwritten or deleted meanwhile), restores of
 * current and of stale refs; every GET checked against the model.
 */
#define RKEYS 400
#define RPENDING 64

enum rstate { R_ABSENT, R_PRESENT, R_ARCHIVED };

struct rkey {
	enum rstate state;
	uint64_t version; /* writes of the key so far (the value depends on it) */
	struct shard_archive_ref ref; /* R_ARCHIVED */
	struct picked rec;            /* R_ARCHIVED: the record "on disk" */
};

static struct rkey rk[RKEYS];
static struct picked pending[RPENDING];
static unsigned npending;
static uint64_t next_version = 1, next_offset = 1;

static void r_get_check(unsigned i)
{
	const uint8_t *v;
	uint32_t vl;
	enum we_status st = get(i, &v, &vl);

	switch (rk[i].state) {
	case R_ABSENT:
		assert_int_equal(st, WE_STATUS_NOT_FOUND);
		break;
	case R_PRESENT:
		assert_int_equal(st, WE_STATUS_OK);
		assert_int_equal(vl, model_len[i]);
		assert_memory_equal(v, model[i], vl);
		break;
	case R_ARCHIVED:
		assert_int_equal(st, SHARD_STATUS_ARCHIVED);
		assert_int_equal(vl, model_len[i]);
		assert_memory_equal(v, &rk[i].ref, sizeof(rk[i].ref));
		break;
	}
}

static void r_put(unsigned i, uint64_t *rng)
{
	uint32_t len = 1 + (uint32_t)(we_test_rand(rng) % 900);
	uint64_t version = next_version++;
	enum we_status st = put_len(i, (unsigned)version, len);

	if (st == WE_STATUS_OK) {
		rk[i].state = R_PRESENT;
		rk[i].version = version;
	} else {
		assert_int_equal(st, WE_STATUS_NO_SPACE); /* the old one stays */
	}
}

static void r_delete(unsigned i)
{
	char k[32];
	uint8_t kl;

	key_of(i, k, &kl);
	assert_int_equal(shard_delete(sh, hash_of(i), (const uint8_t *)k, kl),
			 rk[i].state == R_ABSENT ? WE_STATUS_NOT_FOUND : WE_STATUS_OK);
	rk[i].state = R_ABSENT;
}

static void r_pick(struct shard_scan *cur, uint64_t *rng)
{
	struct shard_archive_pick out[2 * SHARD_SCAN_ITEMS_MIN];
	struct shard_archive_policy p = {.archive_below = (uint8_t)(we_test_rand(rng) % 8),
					 .min_saved_bytes = (uint32_t)(we_test_rand(rng) % 300),
					 .max_chains = 1 + (uint32_t)(we_test_rand(rng) % 16),
					 .max_stored_bytes = 1 + (uint32_t)(we_test_rand(rng) % 8192)};
	int got;

	if (shard_scan_done(sh, cur))
		cur->bucket = 0;
	got = shard_archive_step(sh, cur, &p, out, 2 * SHARD_SCAN_ITEMS_MIN);
	assert_true(got >= 0);
	for (int i = 0; i < got; i++) {
		struct picked tmp;

		copy_pick(&out[i], &tmp);
		assert_int_equal(rk[tmp.key].state, R_PRESENT);
		if (tmp.codec == TIER_EVENT_HORIZON) /* the value as last written */
			assert_memory_equal(tmp.stored, model[tmp.key], model_len[tmp.key]);
		tmp.version = rk[tmp.key].version;
		assert_true(tmp.stored_len > 16 && tmp.stored_len <= model_len[tmp.key]);
		if (npending < RPENDING)
			pending[npending++] = tmp;
	}
}

static void r_commit(uint64_t *rng)
{
	unsigned j = (unsigned)(we_test_rand(rng) % npending);
	struct picked *p = &pending[j];
	struct rkey *m = &rk[p->key];
	/* Taken when the item stores the record's bytes: the same write (values
	 * differ per write) and the same codec (demotion or a GET's promotion
	 * may have moved it since). */
	bool want = m->state == R_PRESENT && m->version == p->version && codec_of(p->key) == p->codec;
	struct shard_archive_ref ref = {.offset = next_offset++, .bytes = p->stored_len,
					.check = (uint32_t)we_test_rand(rng)};
	char k[32];
	uint8_t kl;

	key_of(p->key, k, &kl);
	assert_int_equal(shard_archive_commit(sh, p->hash, (const uint8_t *)k, kl, p->codec,
					      p->stored, p->stored_len, &ref),
			 want);
	if (want) {
		m->state = R_ARCHIVED;
		m->ref = ref;
		m->rec = *p;
	}
	pending[j] = pending[--npending];
}

static void r_restore(unsigned i, uint64_t *rng)
{
	struct rkey *m = &rk[i];
	char k[32];
	uint8_t kl;
	enum shard_restore r;

	key_of(i, k, &kl);
	if (m->rec.value_len == 0)
		return; /* never archived */
	r = shard_archive_restore(sh, m->rec.hash, (const uint8_t *)k, kl, &m->ref, m->rec.codec,
				  m->rec.stored, m->rec.stored_len, we_test_rand(rng) % 2 == 0);
	if (m->state != R_ARCHIVED) {
		assert_int_equal(r, SHARD_RESTORE_STALE); /* an old record of the key */
		return;
	}
	if (r == SHARD_RESTORED)
		m->state = R_PRESENT; /* model[i] still holds its value */
	else
		assert_true(r == SHARD_RESTORE_NO_ROOM || r == SHARD_RESTORE_COLD);
}

static void test_random_model(void **state)
{
	struct shard_tier_counters t;
	struct shard_counters c;
	struct shard_scan pick_cur = {0}, demote_cur = {0};
	uint64_t rng = 0x5eed;
	uint64_t archived = 0, present = 0, disk_bytes = 0;
	uint32_t tick = 0;

	(void)state;
	/* The model starts empty (the group may run this test twice). */
	memset(rk, 0, sizeof(rk));
	npending = 0;
	shard_new(RKEYS * 2, 96u << 10);
	shard_set_track_reads(sh, true);
	shard_set_promote_level(sh, 2);
	for (unsigned op = 0; op < 40000; op++) {
		unsigned i = (unsigned)(we_test_rand(&rng) % RKEYS);
		unsigned what = (unsigned)(we_test_rand(&rng) % 100);

		if (what < 25)
			r_put(i, &rng);
		else if (what < 55)
			r_get_check(i);
		else if (what < 60)
			r_delete(i);
		else if (what < 72)
			r_pick(&pick_cur, &rng);
		else if (what < 84 && npending > 0)
			r_commit(&rng);
		else if (what < 94)
			r_restore(i, &rng);
		else if (what < 97) {
			if (shard_scan_done(sh, &demote_cur))
				demote_cur.bucket = 0;
			assert_true(shard_demote_step(sh, &demote_cur, &demote) >= 0);
		} else {
			shard_set_tick(sh, ++tick);
		}
		if (op % 4096 == 0)
			assert_true(shard_check_invariants(sh));
	}
	assert_true(shard_check_invariants(sh));
	for (unsigned i = 0; i < RKEYS; i++) {
		r_get_check(i);
		present += rk[i].state == R_PRESENT;
		if (rk[i].state == R_ARCHIVED) {
			archived++;
			disk_bytes += rk[i].ref.bytes;
		}
	}
	shard_read_tiers(sh, &t);
	shard_read_counters(sh, &c);
	assert_true(archived > 0 && t.unarchived > 0);
	assert_int_equal(t.items[TIER_SINGULARITY], archived);
	assert_int_equal(t.stored_bytes[TIER_SINGULARITY], disk_bytes);
	assert_int_equal(c.items, archived + present);
	assert_true(t.demotions[TIER_SINGULARITY] >= archived);
	assert_true(shard_check_invariants(sh));
}

/* A ~600-byte value of common words: compresses about twice alone, more
 * against a dictionary of such values (written into the model). */
static void put_words(unsigned i)
{
	static const char *words[] = {"the ", "time ", "of ", "people ", "water ", "and ",
				      "over the hill ", "every day ", "sound ", "number "};
	uint64_t r = 0x77 + i;
	uint8_t v[VLEN_MAX];
	uint32_t vl = 600 - (i % 50), o = 0;
	char k[32];
	uint8_t kl;

	while (o < vl) {
		const char *w = words[we_test_rand(&r) % 10];

		for (size_t j = 0; w[j] != 0 && o < vl; j++)
			v[o++] = (uint8_t)w[j];
		if (o < vl && we_test_rand(&r) % 4 == 0)
			v[o++] = (uint8_t)('a' + we_test_rand(&r) % 26); /* not only repeats */
	}
	key_of(i, k, &kl);
	assert_int_equal(shard_put(sh, hash_of(i), (const uint8_t *)k, kl, v, vl), WE_STATUS_OK);
	memcpy(model[i], v, vl);
	model_len[i] = vl;
}

/* With a dictionary: the first values compressed alone fill it, the rest
 * compress against it; picks carry the dictionary codecs (LZ4 and LZ4-HC),
 * commit, and restore to exactly the bytes written; a shard without that
 * dictionary refuses to restore such bytes. */
static void test_dict_codecs(void **state)
{
	struct tier_dict *d = tier_dict_create();
	struct shard_tier_counters t;
	struct shard_scan cur = {0};
	unsigned n, with_dict[3] = {0}, alone = 0, one = KEYS;

	(void)state;
	assert_non_null(d);
	shard_set_dict(sh, d);
	for (unsigned i = 0; i < KEYS; i++)
		put_words(i);
	shard_read_tiers(sh, &t);
	assert_int_equal(t.dict_bytes, 0); /* not built before anything compressed */
	shard_set_tick(sh, 100);
	assert_true(shard_compress_all(sh, false) > 0);
	assert_non_null(shard_dict_view(sh));
	shard_read_tiers(sh, &t);
	assert_int_equal(t.dict_bytes, VALUE_DICT_BYTES);
	/* The second half of the index on to LZ4-HC, against the dictionary's
	 * end (the first holds the values compressed before it was built). */
	shard_set_tick(sh, 200);
	cur.bucket = shard_scan_buckets(sh) / 2;
	while (!shard_scan_done(sh, &cur))
		assert_true(shard_demote_step(sh, &cur, &demote) >= 0);
	n = pick_all(&archive_cold);
	assert_true(n > KEYS * 9 / 10); /* not those too small to be worth a stub */
	for (unsigned i = 0; i < n; i++) {
		if (picks[i].codec & VALUE_CODEC_DICT) {
			with_dict[picks[i].codec & ~VALUE_CODEC_DICT]++;
			one = i;
		} else {
			alone += picks[i].codec != VALUE_CODEC_RAW;
		}
		assert_true(commit(&picks[i]));
	}
	assert_true(with_dict[TIER_PHOTON_SPHERE] > 0 && with_dict[TIER_DEEP_CACHE] > 0);
	assert_true(alone > 0 && alone < KEYS / 4); /* the ones that filled the dictionary */
	for (unsigned i = 0; i < n; i++) {
		struct shard_archive_ref ref = ref_of(picks[i].key, picks[i].stored_len);

		get_archived(picks[i].key, &ref);
	}
	shard_set_dict(sh, NULL);
	assert_int_equal(restore(&picks[one], true), SHARD_RESTORE_STALE);
	shard_set_dict(sh, d);
	shard_set_promote_level(sh, TEMP_LEVEL_MAX); /* GETs leave them compressed */
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(restore(&picks[i], true), SHARD_RESTORED);
	for (unsigned i = 0; i < KEYS; i++)
		get_check(i);
	assert_true(shard_check_invariants(sh));
	/* GETs that promote decode them too. */
	shard_set_promote_level(sh, 0);
	for (unsigned i = 0; i < KEYS; i++)
		get_check(i);
	shard_set_dict(sh, NULL); /* the shard is freed next, unread */
	tier_dict_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_get_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_no_room, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_put_delete_stub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demote_leaves_stubs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_stubs, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_scan_stubs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_einval, setup, teardown),
		cmocka_unit_test_teardown(test_random_model, teardown),
		cmocka_unit_test_setup_teardown(test_dict_codecs, setup, teardown),
	};
	/* Again with a dictionary on every shard: the tests whose expectations
	 * do not depend on how small the values compress (against a
	 * dictionary this file's values shrink too far to be worth archiving). */
	const struct CMUnitTest with_dict[] = {
		cmocka_unit_test_setup_teardown(test_restore_no_room, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_put_delete_stub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demote_leaves_stubs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_stubs, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_einval, setup, teardown),
		cmocka_unit_test_teardown(test_random_model, teardown),
	};
	int failed = cmocka_run_group_tests_name("alone", tests, NULL, NULL);

	shard_test_use_dict = true;
	failed += cmocka_run_group_tests_name("with a tier dictionary", with_dict, NULL, NULL);
	tier_dict_destroy(shard_test_dict);
	return failed;
}
