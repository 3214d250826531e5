/* shard.c - one lcore's key-value shard: GET / PUT / DELETE over table + arena.
 *
 * DESIGN
 * The shard's memory, handed in once, holds the table's buckets (first, so
 * their 64-byte alignment is the memory's) and then the arena. struct shard
 * itself only holds the two descriptors and a counter, so a test can build
 * several shards side by side.
 *
 * An overwrite whose new value fits the old item's block (within the slack
 * a block may carry) is written in place: it cannot fail, and it avoids the
 * allocation and the free, whose merge with free neighbours reads another
 * cache line. Any other PUT allocates a new item, writes key and value, then
 * switches the index slot and frees the old item. A PUT that finds no room
 * (index chain full and pool empty or chain at its bound, or arena full) therefore returns NO_SPACE
 * with the old value intact. The checks that can fail come before anything
 * changes: a refused PUT changes only the put_no_space counter. GET's value
 * pointer is valid until the next PUT or DELETE.
 *
 * The caller hashes each key once with shard_hash() (the keyed local hash,
 * keyhash.h: a flood crafted against the public hash spreads like any other
 * keys) and passes the hash; in verify builds every operation checks that
 * the hash matches the key. A chain holds at most TABLE_CHAIN_OVERFLOW_MAX
 * overflow buckets, so even a flood that found the secret could not make one
 * lookup long or drain the pool: its PUTs get NO_SPACE.
 * Bursts prefetch in two stages (shard_prefetch_bucket for all requests,
 * then shard_prefetch_item for all, or shard_prefetch_burst for both in one
 * call), then execute, so that the bucket line and the item line are both in
 * cache when a request executes.
 *
 * A scan step takes one chain at a time from table_scan_step into a
 * 35-slot buffer and turns its slots into items; a chain that does not fit
 * in what is left of the caller's array is dropped and stays under the
 * cursor, to be read again by the next step (table.h says why whole chains
 * make the scan survive mutations).
 */
#include "shard.h"
#include "shard_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "keyhash.h"
#include "table.h"
#include "temperature.h"
#include "we_assert.h"

/* Evictions a PUT may make to find room (shard_set_evict_on_put). */
#define SHARD_EVICT_TRIES 16


static size_t shard_round_line(uint64_t n)
{
	return (size_t)((n + WE_CACHE_LINE - 1) & ~(uint64_t)(WE_CACHE_LINE - 1));
}

_Static_assert(ARENA_BYTES_MAX - ARENA_GRANULE <= TABLE_OFFSET_MAX && ARENA_GRANULE == TABLE_GRANULE,
	       "every item offset of an arena fits an index slot");

static bool shard_config_valid(const struct shard_config *cfg, struct table_geometry *g)
{
	return cfg->hash_secret != NULL && table_geometry_for(cfg->capacity_items, g) == 0 &&
	       cfg->arena_bytes >= ARENA_BLOCK_MIN && cfg->arena_bytes <= ARENA_BYTES_MAX;
}

size_t shard_sizeof(void)
{
	return sizeof(struct shard);
}

size_t shard_memory_size(const struct shard_config *cfg)
{
	struct table_geometry g;

	if (!shard_config_valid(cfg, &g))
		return 0;
	return shard_round_line(table_memory_size(&g)) + shard_round_line(cfg->arena_bytes) +
	       shard_round_line(freq_sketch_bytes(cfg->capacity_items));
}

int shard_init(struct shard *s, void *mem, size_t mem_bytes, const struct shard_config *cfg)
{
	struct table_geometry g;
	size_t table_bytes;
	int rc;

	if (!shard_config_valid(cfg, &g) || mem == NULL || (uintptr_t)mem % WE_CACHE_LINE != 0 ||
	    mem_bytes < shard_memory_size(cfg))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->secret = cfg->hash_secret;
	s->rng = 0x9e3779b97f4a7c15ull; /* any nonzero state */
	s->accesses_left = SHARD_COOL_ACCESSES_PER_ITEM * SHARD_COOL_ITEMS_MIN;
	table_bytes = shard_round_line(table_memory_size(&g));
	rc = table_init(&s->table, mem, table_bytes, &g);
	if (rc == 0)
		rc = freq_sketch_init(&s->freq,
				      (uint8_t *)mem + table_bytes + shard_round_line(cfg->arena_bytes),
				      freq_sketch_bytes(cfg->capacity_items), cfg->capacity_items);
	if (rc != 0)
		return rc;
	return arena_init(&s->arena, (uint8_t *)mem + table_bytes, cfg->arena_bytes);
}

uint64_t shard_hash(const struct shard *s, const uint8_t *key, uint8_t key_len)
{
	return keyhash_local(s->secret, key, key_len);
}

const struct keyhash_secret *shard_hash_secret(const struct shard *s)
{
	return s->secret;
}

void shard_prefetch_bucket(const struct shard *s, uint64_t hash)
{
	table_prefetch(&s->table, hash);
}

/* Prefetches the first item whose tag matches in the home bucket (and the
 * next line when the item does not start a line: items are 8-byte aligned,
 * so a small one may straddle two). When the home bucket has no match,
 * prefetches the bucket the lookup reads next instead: the second bucket
 * when keys spilled from this one, else the next bucket of the chain. */
static inline __attribute__((always_inline)) void shard_prefetch_item_inline(const struct shard *s,
										uint64_t hash)
{
	const struct table *t = &s->table;
	uint32_t home = table_home_index(t, hash);
	const struct table_bucket *b = &t->buckets[home];
	uint32_t m = table_tag_mask(b, table_tag(hash));

	if (m != 0) {
		const uint8_t *p =
			s->arena.base + (uint64_t)b->off[__builtin_ctz(m)] * TABLE_GRANULE;

		we_prefetch(p);
		if ((uintptr_t)p % WE_CACHE_LINE != 0)
			we_prefetch(p + WE_CACHE_LINE - 1);
	} else if (table_spill(b) != 0) {
		we_prefetch(&t->buckets[table_second_index(t, home, hash)]);
	} else if (table_next_bucket(t, b) != NULL) {
		we_prefetch(table_next_bucket(t, b));
	}
}

void shard_prefetch_item(const struct shard *s, uint64_t hash)
{
	shard_prefetch_item_inline(s, hash);
}

void shard_prefetch_burst(const struct shard *s, const uint64_t *hashes, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		table_prefetch(&s->table, hashes[i]);
	for (unsigned i = 0; i < n; i++)
		shard_prefetch_item_inline(s, hashes[i]);
}

enum we_status shard_get(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			 const uint8_t **value, uint32_t *value_len)
{
	uint32_t *slot = shard_find(s, hash, key, key_len);
	struct arena_item *it;

	if (we_unlikely(s->evict_on_put))
		freq_sketch_add(&s->freq, hash); /* admission: misses count too */
	if (slot == NULL)
		return WE_STATUS_NOT_FOUND;
	it = arena_item_at(&s->arena, table_ref_offset(slot));
	if (s->track_reads) {
		shard_count_access(s);
		it->temperature = temperature_touch((uint16_t)it->temperature, s->tick, shard_draw(s));
	}
	if (we_unlikely(it->tier != TIER_EVENT_HORIZON)) /* compressed, or a stub */
		return shard_get_compressed(s, slot, it, value, value_len);
	s->tiers.hits[TIER_EVENT_HORIZON]++;
	*value = arena_item_value(it);
	*value_len = it->value_len;
	return WE_STATUS_OK;
}

enum we_status shard_put(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			 const uint8_t *value, uint32_t value_len)
{
	uint32_t *slot;
	uint64_t offset;
	struct arena_item *it;
	uint16_t temperature;
	bool compacting = true; /* until a compaction step moves nothing */

	shard_count_access(s);
	if (we_unlikely(s->evict_on_put))
		freq_sketch_add(&s->freq, hash);
	temperature = temperature_make(TEMP_LEVEL_NEW, (uint8_t)s->tick);
	if (value_len > ARENA_VALUE_MAX)
		return WE_STATUS_VALUE_TOO_LARGE;
	slot = shard_find(s, hash, key, key_len);
	offset = slot != NULL ? table_ref_offset(slot) : 0;
	if (slot != NULL) {
		/* An overwrite keeps the key's warmth (a hot key stays hot). */
		it = arena_item_at(&s->arena, offset);
		temperature = temperature_touch((uint16_t)it->temperature, s->tick, shard_draw(s));
		shard_tier_account(s, it, -1);
		if (arena_reuse_item(&s->arena, offset, value_len, value_len)) {
			/* Same block, new value: nothing to allocate, free or re-index. */
			it->temperature = temperature;
			memcpy(arena_item_value(it), value, value_len);
			shard_tier_account(s, it, +1);
			return WE_STATUS_OK;
		}
		shard_tier_account(s, it, +1); /* unchanged until replaced below */
	}
	for (unsigned tries = 0, room_steps = 0;;) {
		struct arena_item *victim;
		bool indexable = slot != NULL || table_can_insert(&s->table, hash);

		if (indexable && arena_alloc_item(&s->arena, key_len, value_len, value_len, &offset) == 0)
			break;
		/* Room is made first: compaction, and demotion with the tiers
		 * on. Both may move the item being overwritten: its slot is
		 * looked up again. */
		if (indexable && room_steps < SHARD_ROOM_STEPS &&
		    shard_make_room_step(s, arena_item_bytes(key_len, value_len), &compacting)) {
			room_steps++;
			if (slot != NULL)
				slot = shard_find(s, hash, key, key_len);
			continue;
		}
		/* A cache makes room: the coldest sampled item goes, then
		 * again. The key being written may be the one evicted: its
		 * slot is looked up again after each eviction. */
		if (!s->evict_on_put || tries == SHARD_EVICT_TRIES ||
		    (victim = shard_evict_pick(s, arena_item_bytes(key_len, value_len))) == NULL) {
			s->put_no_space++;
			return WE_STATUS_NO_SPACE;
		}
		/* A new key displaces nothing used more often than itself. */
		if (slot == NULL && tries == 0 && !shard_admit(s, hash, victim)) {
			s->tiers.rejected++;
			return WE_STATUS_OK;
		}
		shard_evict_item(s, victim);
		tries++;
		slot = shard_find(s, hash, key, key_len);
	}

	it = arena_item_at(&s->arena, offset);
	it->temperature = temperature;
	memcpy(arena_item_key(it), key, key_len);
	memcpy(arena_item_value(it), value, value_len);
	shard_tier_account(s, it, +1);

	if (slot != NULL) {
		uint64_t old = table_ref_offset(slot);

		shard_tier_account(s, arena_item_at(&s->arena, old), -1);
		table_ref_replace(slot, offset);
		arena_free_item(&s->arena, old);
	} else {
		int rc = table_insert(&s->table, hash, offset);

		WE_ASSERT(rc == 0); /* table_can_insert said so */
	}
	return WE_STATUS_OK;
}

enum we_status shard_delete(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len)
{
	uint32_t *slot = shard_find(s, hash, key, key_len);
	uint64_t offset;

	if (slot == NULL)
		return WE_STATUS_NOT_FOUND;
	offset = table_ref_offset(slot);
	shard_tier_account(s, arena_item_at(&s->arena, offset), -1);
	table_remove(&s->table, hash, slot);
	arena_free_item(&s->arena, offset);
	return WE_STATUS_OK;
}

_Static_assert(SHARD_SCAN_ITEMS_MIN == TABLE_CHAIN_SLOTS_MAX,
	       "a scan step must hold the longest chain");

int shard_scan_step(const struct shard *s, struct shard_scan *cur, struct shard_scan_item *out,
		    unsigned max_items, unsigned max_chains)
{
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX];
	unsigned n = 0;

	if (max_items < SHARD_SCAN_ITEMS_MIN || max_chains == 0 || cur->bucket > s->table.nbuckets)
		return -EINVAL;
	if (max_items > INT_MAX)
		max_items = INT_MAX; /* the count is returned as an int */
	for (unsigned c = 0; c < max_chains && cur->bucket < s->table.nbuckets; c++) {
		uint32_t next = cur->bucket;
		int got = table_scan_step(&s->table, &next, slots, TABLE_CHAIN_SLOTS_MAX, 1);

		WE_ASSERT(got >= 0 && next == cur->bucket + 1); /* one chain always fits */
		if ((unsigned)got > max_items - n)
			break; /* the next step starts with this chain */
		for (int i = 0; i < got; i++) {
			struct arena_item *it = arena_item_at(&s->arena, table_slot_offset(slots[i]));
			struct shard_scan_item *o = &out[n++];

			WE_VERIFY(!it->free);
			o->key = arena_item_key(it);
			o->value = arena_item_value(it);
			o->stored_len = it->stored_len;
			o->value_len = it->value_len;
			o->temperature = (uint16_t)it->temperature;
			o->key_len = (uint8_t)it->key_len;
			o->tier = (uint8_t)it->tier;
			o->dict = (uint8_t)it->dict;
		}
		cur->bucket = next;
	}
	return (int)n;
}

uint32_t shard_scan_buckets(const struct shard *s)
{
	return s->table.nbuckets;
}

bool shard_scan_done(const struct shard *s, const struct shard_scan *cur)
{
	return cur->bucket >= s->table.nbuckets;
}

uint32_t shard_scan_chain_of(const struct shard *s, uint64_t hash, const uint8_t *key,
			     uint8_t key_len)
{
	const uint32_t *ref = shard_find((struct shard *)s, hash, key, key_len);

	return ref != NULL ? table_chain_of(&s->table, hash, ref) : UINT32_MAX;
}

void shard_read_counters(const struct shard *s, struct shard_counters *out)
{
	out->items = s->table.items;
	out->arena_used_bytes = s->arena.used_bytes;
	out->arena_free_bytes = s->arena.free_bytes;
	out->arena_free_large_bytes = s->arena.free_large_bytes;
	out->arena_untouched_bytes = arena_untouched_bytes(&s->arena);
	out->arena_bytes = s->arena.bytes;
	out->index_bytes = table_memory_size(&(struct table_geometry){
		.nbuckets = s->table.nbuckets, .noverflow = s->table.noverflow });
	out->overflow_buckets_used = s->table.overflow_used;
	out->put_no_space = s->put_no_space;
	out->compact_moves = s->compact_moves;
}

/* State of shard_check_invariants' walk over the index. */
struct shard_check {
	struct shard *s;
	uint64_t items;
	uint64_t bytes;
	uint64_t tier_items[4];
	uint32_t *spilled; /* per main bucket: its keys found in their second bucket */
};

/* One slot: it points at a whole item inside the used arena, the item's key
 * hashes back to this chain (its home or second bucket) and tag, and a
 * lookup of that key finds this very slot (so no key is indexed twice). */
static bool shard_check_slot(void *ctx, uint32_t chain, uint64_t slot)
{
	struct shard_check *c = ctx;
	const struct arena *a = &c->s->arena;
	uint64_t offset = table_slot_offset(slot);
	struct arena_item *it;
	uint64_t hash;
	uint32_t *found, home;

	if (offset % ARENA_GRANULE != 0 || offset + ARENA_ITEM_HDR_BYTES > a->bump_offset)
		return false;
	it = arena_item_at(a, offset);
	if (offset + arena_item_block_bytes(it) > a->bump_offset)
		return false;
	/* Raw: stored as sent; compressed: smaller; a stub: one ref, and
	 * smaller too (only an item storing more is stubbed). */
	if (it->stored_len > it->value_len ||
	    (it->dict && it->tier != TIER_PHOTON_SPHERE && it->tier != TIER_DEEP_CACHE) ||
	    (it->tier == TIER_EVENT_HORIZON) != (it->stored_len == it->value_len) ||
	    (it->tier == TIER_SINGULARITY && it->stored_len != SHARD_STUB_BYTES))
		return false;
	hash = keyhash_local(c->s->secret, arena_item_key(it), it->key_len);
	home = table_home_index(&c->s->table, hash);
	if (table_tag(hash) != table_slot_tag(slot))
		return false;
	if (chain != home) {
		if (chain != table_second_index(&c->s->table, home, hash))
			return false;
		c->spilled[home]++;
	}
	found = shard_find(c->s, hash, arena_item_key(it), (uint8_t)it->key_len);
	if (found == NULL || table_ref_offset(found) != offset)
		return false;
	c->items++;
	c->bytes += arena_item_block_bytes(it);
	c->tier_items[it->tier]++;
	return true;
}

bool shard_check_invariants(const struct shard *s)
{
	/* The walk only reads; shard_find takes a mutable shard for PUT's sake. */
	struct shard_check c = { .s = (struct shard *)s };
	bool ok;

	if (!table_check_invariants(&s->table))
		return false;
	c.spilled = calloc(s->table.nbuckets, sizeof(*c.spilled));
	if (c.spilled == NULL)
		return false;
	ok = table_for_each(&s->table, shard_check_slot, &c);
	/* Each home's spill count is its keys in their second bucket (or stuck). */
	for (uint32_t i = 0; ok && i < s->table.nbuckets; i++) {
		unsigned spill = table_spill(&s->table.buckets[i]);

		ok = spill == TABLE_SPILL_STUCK || spill == c.spilled[i];
	}
	free(c.spilled);
	if (!ok)
		return false;
	for (unsigned t = 0; t < 4; t++)
		if (c.tier_items[t] != s->tiers.items[t])
			return false;
	return c.items == s->table.items && arena_check_invariants(&s->arena, c.items, c.bytes);
}
