/* table.h - the index of one shard: hash -> item offset (no DPDK).
 *
 *   table_geometry_for      table.c  bucket counts for a capacity
 *   table_memory_size       table.c  bytes of bucket memory for a geometry
 *   table_init              table.c  clear bucket memory and thread the pool
 *   table_insert            table.c  add a slot (the caller knows the key is absent)
 *   table_remove            table.c  drop a slot found by table_find
 *   table_for_each          table.c  visit every used slot (invariant checks)
 *   table_scan_step         table.c  copy the slots of the next whole chains (resumable scan)
 *   table_check_invariants  table.c  O(n) structural check
 *   table_find, table_can_insert, table_prefetch, table_ref_*, table_slot_*  inline, below
 *
 * The table stores no keys: a slot holds an 8-bit tag (hash bits 56..63,
 * never zero) and the item's arena offset in 8-byte granules (32 bits).
 * table_find compares the tags of a bucket in one vector compare and asks
 * its caller to compare the full key on a tag match only, so a lookup reads
 * one bucket line and, almost always, one item.
 *
 * Each key has two buckets: its home (keyhash_bucket) and a second one
 * (table_second_index, another bucket chosen by the hash's low 16 bits). An
 * insert goes home while the home bucket has an empty slot; when it is
 * full, to the second bucket if that has one (the home bucket counts its
 * keys living elsewhere: `spill`, so a lookup reads the second bucket only
 * when the home's spill is not zero); when both are full, to an overflow
 * bucket from a fixed pool linked behind the home bucket. The second
 * choice is what lets the buckets fill to 80 % of 12 slots with few
 * overflow buckets (about 4 % of the items live in their second bucket).
 *
 * A chain is a main bucket (its own keys and keys spilled into it) and the
 * overflow buckets behind it (its own keys only). Chains are kept packed
 * (used slots first, in chain order): an insert goes to the first empty
 * slot, a remove moves the chain's last slot into the hole and returns an
 * emptied overflow bucket to the pool. The pool buckets in use depend only
 * on how many items each chain holds now, never on the history of inserts
 * and removes.
 */
#ifndef TABLE_H
#define TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "keyhash.h"
#include "we_compiler.h"

#define TABLE_SLOTS 12
#define TABLE_SLOTS_MASK ((1u << TABLE_SLOTS) - 1)
#define TABLE_GRANULE 8u /* offsets are kept in 8-byte granules (the arena's) */
/* Largest item offset a slot holds: 2^32 granules, 32 GiB of arena. */
#define TABLE_OFFSET_MAX ((UINT64_C(1) << 32) * TABLE_GRANULE - TABLE_GRANULE)
/* Slot values (table_for_each, table_scan_step): tag << 48 | offset. */
#define TABLE_OFFSET_BITS 48
#define TABLE_OFFSET_MASK ((UINT64_C(1) << TABLE_OFFSET_BITS) - 1)
/* The meta word: overflow link in its low 24 bits, spill count above. */
#define TABLE_NEXT_BITS 24
#define TABLE_NEXT_MASK ((1u << TABLE_NEXT_BITS) - 1)
#define TABLE_POOL_MAX (TABLE_NEXT_MASK - 1) /* overflow buckets a table can have */
/* A spill count that reached this stays there: "look at the second
 * bucket", whatever the count now is (255 keys spilled from one bucket is
 * a flood, not chance). */
#define TABLE_SPILL_STUCK 255u
/* Overflow buckets one chain may hold: 12 + 4 * 12 = 60 items behind one
 * main bucket, where a keyed hash at 80% load puts 9.6 on average (a chain
 * this long by chance has odds below 1e-15). The bound keeps one bucket
 * that a flood targets from costing a lookup more than six cache lines and
 * from draining the pool that all other buckets share. */
#define TABLE_CHAIN_OVERFLOW_MAX 4
/* Most used slots one chain can hold (60): a scan step must have room for one. */
#define TABLE_CHAIN_SLOTS_MAX (TABLE_SLOTS * (1 + TABLE_CHAIN_OVERFLOW_MAX))

/*
 * Bucket, one cache line:
 *
 *   byte 0               12      16                                          64
 *        +--+--+ .. +--+--+-------+------+------+ ........ +------+------+
 *        |t0|t1|    |t10|t11| meta | off0 | off1 |          | off10| off11|
 *        +--+--+ .. +--+--+-------+------+------+ ........ +------+------+
 *
 *   tag    u8 per slot: hash bits 56..63, never 0; 0 = empty slot
 *   meta   u32: bits 0..23 the next bucket of the chain as 1 + its index in
 *          the pool (0 = end); in the pool, the next free bucket the same
 *          way. Bits 24..31, main buckets only: spill, the keys whose home
 *          this is that live in their second bucket (TABLE_SPILL_STUCK: maybe some)
 *   off    u32 per slot: the item's arena offset / 8
 *
 * The tags and the meta word are the first 16 bytes: one SSE2 compare
 * matches all twelve tags (the meta word's lanes are masked off).
 */
struct table_bucket {
	uint8_t tag[TABLE_SLOTS];
	uint32_t meta;
	uint32_t off[TABLE_SLOTS];
};
_Static_assert(sizeof(struct table_bucket) == WE_CACHE_LINE, "a bucket is one cache line");
_Static_assert(offsetof(struct table_bucket, meta) == 12 &&
		       offsetof(struct table_bucket, off) == 16,
	       "tags and meta fill the first 16 bytes (one vector load)");

struct table_geometry {
	uint32_t nbuckets;  /* main buckets, addressed by keyhash_bucket() */
	uint32_t noverflow; /* overflow pool, after the main buckets */
};

struct table {
	struct table_bucket *buckets; /* nbuckets main, then noverflow pool */
	uint32_t nbuckets;
	uint32_t noverflow;
	uint32_t pool_head;     /* first free overflow bucket (meta link form), 0 = pool empty */
	uint32_t overflow_used; /* overflow buckets linked into chains */
	uint64_t items;         /* used slots */
};

/* Geometry holding capacity_items at about 80% slot load. Returns 0, or
 * -EINVAL for zero or a capacity above 2^30 items (whose pool would not
 * fit the 24-bit links). */
int table_geometry_for(uint64_t capacity_items, struct table_geometry *g) we_must_check;
size_t table_memory_size(const struct table_geometry *g);
/* mem: 64-byte aligned, at least table_memory_size(g) bytes; it is cleared.
 * g: at least one main bucket, at most TABLE_POOL_MAX overflow buckets.
 * Returns 0 or -EINVAL. */
int table_init(struct table *t, void *mem, size_t mem_bytes, const struct table_geometry *g)
	we_must_check;

/* Adds a slot for (hash, offset); the caller has checked the key is absent.
 * offset: a multiple of 8, at most TABLE_OFFSET_MAX. Returns 0, or -ENOSPC
 * when the home and second buckets are full and the home chain cannot grow
 * (the pool is empty or the chain already holds TABLE_CHAIN_OVERFLOW_MAX
 * overflow buckets). */
int table_insert(struct table *t, uint64_t hash, uint64_t offset) we_must_check;
/* Removes the slot `ref` (returned by table_find for the same hash). */
void table_remove(struct table *t, uint64_t hash, uint32_t *ref);

/* Calls visit(ctx, chain, slot) for every used slot, chain being the main
 * bucket whose chain holds it (the key's home or second bucket); stops and
 * returns false as soon as visit does. */
bool table_for_each(const struct table *t, bool (*visit)(void *ctx, uint32_t chain, uint64_t slot),
		    void *ctx);
/*
 * Resumable scan, one whole chain at a time. *cursor is the main bucket whose
 * chain comes next: 0 to start, t->nbuckets once every chain was visited.
 * A step copies the used slots of chains *cursor, *cursor + 1, ... into
 * slots_out (in chain order, as slot values) and moves *cursor past each
 * chain it copied. It stops after max_chains chains (empty ones count: they
 * bound the work), at the end, or before a chain whose slots do not fit in
 * what is left of max_slots: a chain is never split, so max_slots must be at
 * least TABLE_CHAIN_SLOTS_MAX (one chain always fits). Returns the number of
 * slots copied (0 with *cursor moved: only empty chains; 0 at the end, where
 * *cursor stays t->nbuckets), or -EINVAL, changing nothing, when max_slots
 * is below TABLE_CHAIN_SLOTS_MAX, max_chains is 0 or *cursor is past
 * t->nbuckets. slots_out beyond the returned count may have been written.
 *
 * Mutations between steps: an item stays in the chain it was inserted into
 * for its whole life (insert picks the chain once; table_ref_replace and
 * table_remove never move a slot to another chain; nothing rehashes), and a
 * step copies whole chains. So a slot present when the scan starts and not
 * removed is copied exactly once; a removed slot is not copied after its
 * removal; a slot inserted between steps is copied when its chain is at or
 * after *cursor, and not otherwise; a chain is copied once per scan, so no
 * item is copied twice.
 */
int table_scan_step(const struct table *t, uint32_t *cursor, uint64_t *slots_out,
		    unsigned max_slots, unsigned max_chains) we_must_check;

/* Chains packed and well linked, pool intact, counts agree. (Spill counts
 * need the keys: shard_check_invariants checks them.) */
bool table_check_invariants(const struct table *t);

/* ---- tags, slot values, references --------------------------------------- */

static inline uint8_t table_tag(uint64_t hash)
{
	uint8_t tag = (uint8_t)(hash >> 56);

	return tag ? tag : 1;
}

static inline uint64_t table_slot_make(uint8_t tag, uint64_t offset)
{
	return (uint64_t)tag << TABLE_OFFSET_BITS | offset;
}

static inline uint8_t table_slot_tag(uint64_t slot)
{
	return (uint8_t)(slot >> TABLE_OFFSET_BITS);
}

static inline uint64_t table_slot_offset(uint64_t slot)
{
	return slot & TABLE_OFFSET_MASK;
}

/* A reference (table_find's answer) is the slot's offset word in its bucket. */
static inline uint64_t table_ref_offset(const uint32_t *ref)
{
	return (uint64_t)*ref * TABLE_GRANULE;
}

/* Points an existing slot at another offset; the tag stays. */
static inline void table_ref_replace(uint32_t *ref, uint64_t offset)
{
	*ref = (uint32_t)(offset / TABLE_GRANULE);
}

/* ---- buckets --------------------------------------------------------------- */

static inline uint32_t table_home_index(const struct table *t, uint64_t hash)
{
	return keyhash_bucket(hash, t->nbuckets);
}

/* The key's second bucket: home + 1 + (hash bits 0..15 scaled to
 * nbuckets - 1), wrapped, so never the home itself (a one-bucket table has
 * no second bucket: the home is answered). */
static inline uint32_t table_second_index(const struct table *t, uint32_t home, uint64_t hash)
{
	uint32_t step = 1 + (uint32_t)(((hash & 0xffff) * (uint64_t)(t->nbuckets - 1)) >> 16);
	uint64_t q = (uint64_t)home + step;

	if (t->nbuckets < 2)
		return home;
	return (uint32_t)(q >= t->nbuckets ? q - t->nbuckets : q);
}

static inline struct table_bucket *table_main_bucket(const struct table *t, uint64_t hash)
{
	return &t->buckets[table_home_index(t, hash)];
}

static inline unsigned table_spill(const struct table_bucket *b)
{
	return b->meta >> TABLE_NEXT_BITS;
}

/* The chain's next bucket, or NULL at its end. */
static inline struct table_bucket *table_next_bucket(const struct table *t,
						     const struct table_bucket *b)
{
	uint32_t link = b->meta & TABLE_NEXT_MASK;

	return link != 0 ? &t->buckets[t->nbuckets + link - 1] : NULL;
}

/* Bit i set: slot i's tag is `tag` (tag 0: slot i is empty). */
static inline uint32_t table_tag_mask(const struct table_bucket *b, uint8_t tag)
{
#ifdef __SSE2__
	__m128i v = _mm_load_si128((const __m128i *)(const void *)b);

	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)tag))) &
	       TABLE_SLOTS_MASK;
#else
	uint32_t m = 0;

	for (unsigned i = 0; i < TABLE_SLOTS; i++)
		m |= (uint32_t)(b->tag[i] == tag) << i;
	return m;
#endif
}

/* Used slots of a bucket; chains are packed, so they are the first ones. */
static inline unsigned table_bucket_used(const struct table_bucket *b)
{
	return (unsigned)__builtin_popcount(~table_tag_mask(b, 0) & TABLE_SLOTS_MASK);
}

static inline bool table_bucket_full(const struct table_bucket *b)
{
	return b->tag[TABLE_SLOTS - 1] != 0;
}

/* Whether table_insert would succeed for hash: room in the home or second
 * bucket, or in the home chain's last bucket (chains are packed), or a
 * bucket left in the pool and the chain below its bound. */
static inline bool table_can_insert(const struct table *t, uint64_t hash)
{
	uint32_t home = table_home_index(t, hash);
	const struct table_bucket *b = &t->buckets[home];
	const struct table_bucket *next;
	unsigned overflow = 0;

	if (!table_bucket_full(b) ||
	    !table_bucket_full(&t->buckets[table_second_index(t, home, hash)]))
		return true;
	while ((next = table_next_bucket(t, b)) != NULL) {
		b = next;
		overflow++;
	}
	return !table_bucket_full(b) ||
	       (t->pool_head != 0 && overflow < TABLE_CHAIN_OVERFLOW_MAX);
}

/* The main bucket whose chain holds ref (for an overflow bucket: the home). */
static inline uint32_t table_chain_of(const struct table *t, uint64_t hash, const uint32_t *ref)
{
	uint32_t index = (uint32_t)(((uintptr_t)ref - (uintptr_t)t->buckets) / WE_CACHE_LINE);

	return index < t->nbuckets ? index : table_home_index(t, hash);
}

static inline void table_prefetch(const struct table *t, uint64_t hash)
{
	we_prefetch(table_main_bucket(t, hash));
}

/* The slot in b whose tag matches and whose key equals, or NULL. */
static inline __attribute__((always_inline)) uint32_t *
table_find_in(struct table_bucket *b, uint8_t tag,
	      bool (*key_equal)(const void *ctx, uint64_t offset), const void *ctx)
{
	for (uint32_t m = table_tag_mask(b, tag); m != 0; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctz(m);

		if (key_equal(ctx, (uint64_t)b->off[i] * TABLE_GRANULE))
			return &b->off[i];
	}
	return NULL;
}

/* Reference to the slot holding the key, or NULL. key_equal(ctx, offset)
 * compares the full key of the item at offset; it runs only on a tag
 * match. Looks in the home bucket, then (when the home's spill says so) the
 * second bucket, then the home's overflow buckets. Always inlined so that a
 * caller's static key_equal is inlined too. */
static inline __attribute__((always_inline)) uint32_t *
table_find(const struct table *t, uint64_t hash,
	   bool (*key_equal)(const void *ctx, uint64_t offset), const void *ctx)
{
	uint8_t tag = table_tag(hash);
	uint32_t home = table_home_index(t, hash);
	struct table_bucket *b = &t->buckets[home];
	uint32_t *ref = table_find_in(b, tag, key_equal, ctx);

	if (we_likely(ref != NULL))
		return ref;
	if (table_spill(b) != 0) {
		ref = table_find_in(&t->buckets[table_second_index(t, home, hash)], tag, key_equal,
				    ctx);
		if (ref != NULL)
			return ref;
	}
	while ((b = table_next_bucket(t, b)) != NULL)
		if ((ref = table_find_in(b, tag, key_equal, ctx)) != NULL)
			return ref;
	return NULL;
}

#endif
