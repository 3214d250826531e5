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
 *   table_find, table_can_insert, table_prefetch, table_slot_*  inline, below
 *
 * The table stores no keys: a slot holds a 16-bit tag (hash bits 48..63,
 * never zero) and the 48-bit arena offset of the item. table_find compares
 * tags and asks its caller to compare the full key on a tag match only, so a
 * lookup reads one bucket line and, almost always, one item.
 *
 * Each main bucket heads a chain: when its 7 slots are full, an overflow
 * bucket from a fixed pool is linked behind it. Chains are kept packed (used
 * slots first, in chain order): an insert goes to the first empty slot, a
 * remove moves the chain's last slot into the hole and returns an emptied
 * overflow bucket to the pool. So a lookup stops at the first empty slot, and
 * the pool buckets in use depend only on how many items each bucket holds now,
 * never on the history of inserts and removes.
 */
#ifndef TABLE_H
#define TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhash.h"
#include "we_compiler.h"

#define TABLE_SLOTS 7
#define TABLE_OFFSET_BITS 48
#define TABLE_OFFSET_MASK ((UINT64_C(1) << TABLE_OFFSET_BITS) - 1)
#define TABLE_OWNER_FREE UINT32_MAX /* owner of an overflow bucket in the pool */
/* Overflow buckets one chain may hold: 7 + 4 * 7 = 35 items behind one main
 * bucket, where a keyed hash at 80% load puts 5.6 on average (a chain this
 * long by chance has odds below 1e-15). The bound keeps one bucket that a
 * flood targets from costing a lookup more than five cache lines and from
 * draining the pool that all other buckets share. */
#define TABLE_CHAIN_OVERFLOW_MAX 4
/* Most used slots one chain can hold (35): a scan step must have room for one. */
#define TABLE_CHAIN_SLOTS_MAX (TABLE_SLOTS * (1 + TABLE_CHAIN_OVERFLOW_MAX))

/*
 * Bucket, one cache line:
 *
 *   byte 0                                             56      60      64
 *        +------+------+------+------+------+------+------+------+-------+
 *        |slot 0|slot 1|slot 2|slot 3|slot 4|slot 5|slot 6| next | owner |
 *        +------+------+------+------+------+------+------+------+-------+
 *
 *   slot   u64: tag in bits 48..63, item offset in bits 0..47; 0 = empty
 *          (a used slot is never 0 because a tag is never 0)
 *   next   u32: index (in the bucket array) of the next bucket of the chain,
 *          0 = end; in the pool, the next free overflow bucket. Bucket 0 is
 *          a main bucket, so 0 never names an overflow bucket.
 *   owner  u32: overflow buckets only: the main bucket whose chain holds it,
 *          TABLE_OWNER_FREE while in the pool; 0 in main buckets
 */
struct table_bucket {
	uint64_t slot[TABLE_SLOTS];
	uint32_t next;
	uint32_t owner;
};
_Static_assert(sizeof(struct table_bucket) == WE_CACHE_LINE, "a bucket is one cache line");

struct table_geometry {
	uint32_t nbuckets;  /* main buckets, addressed by keyhash_bucket() */
	uint32_t noverflow; /* overflow pool, after the main buckets */
};

struct table {
	struct table_bucket *buckets; /* nbuckets main, then noverflow pool */
	uint32_t nbuckets;
	uint32_t noverflow;
	uint32_t pool_head;     /* first free overflow bucket, 0 = pool empty */
	uint32_t overflow_used; /* overflow buckets linked into chains */
	uint64_t items;         /* used slots */
};

/* Geometry holding capacity_items at about 80% slot load. Returns 0, or
 * -EINVAL for zero or a capacity whose bucket count does not fit 32 bits. */
int table_geometry_for(uint64_t capacity_items, struct table_geometry *g) we_must_check;
size_t table_memory_size(const struct table_geometry *g);
/* mem: 64-byte aligned, at least table_memory_size(g) bytes; it is cleared.
 * g: at least one main bucket. Returns 0 or -EINVAL. */
int table_init(struct table *t, void *mem, size_t mem_bytes, const struct table_geometry *g)
	we_must_check;

/* Adds a slot for (hash, offset); the caller has checked the key is absent.
 * Returns 0, or -ENOSPC when the chain is full and the pool is empty or the
 * chain already holds TABLE_CHAIN_OVERFLOW_MAX overflow buckets. */
int table_insert(struct table *t, uint64_t hash, uint64_t offset) we_must_check;
/* Removes `slot` (returned by table_find for the same hash). */
void table_remove(struct table *t, uint64_t hash, uint64_t *slot);

/* Calls visit(ctx, main bucket index, slot) for every used slot; stops and
 * returns false as soon as visit does. */
bool table_for_each(const struct table *t, bool (*visit)(void *ctx, uint32_t bucket, uint64_t slot),
		    void *ctx);
/*
 * Resumable scan, one whole chain at a time. *cursor is the main bucket whose
 * chain comes next: 0 to start, t->nbuckets once every chain was visited.
 * A step copies the used slots of chains *cursor, *cursor + 1, ... into
 * slots_out (in chain order) and moves *cursor past each chain it copied. It
 * stops after max_chains chains (empty ones count: they bound the work), at
 * the end, or before a chain whose slots do not fit in what is left of
 * max_slots: a chain is never split, so max_slots must be at least
 * TABLE_CHAIN_SLOTS_MAX (one chain always fits). Returns the number of slots
 * copied (0 with *cursor moved: only empty chains; 0 at the end, where
 * *cursor stays t->nbuckets), or -EINVAL, changing nothing, when max_slots
 * is below TABLE_CHAIN_SLOTS_MAX, max_chains is 0 or *cursor is past
 * t->nbuckets. slots_out beyond the returned count may have been written.
 *
 * Mutations between steps: an item stays in the chain of its main bucket for
 * its whole life (insert, table_slot_replace and table_remove never move a
 * slot to another chain; nothing rehashes), and a step copies whole chains.
 * So a slot present when the scan starts and not removed is copied exactly
 * once; a removed slot is not copied after its removal; a slot inserted
 * between steps is copied when its main bucket is at or after *cursor, and
 * not otherwise; a chain is copied once per scan, so no item is copied twice.
 */
int table_scan_step(const struct table *t, uint32_t *cursor, uint64_t *slots_out,
		    unsigned max_slots, unsigned max_chains) we_must_check;

/* Chains packed and well linked, owners right, pool intact, counts agree. */
bool table_check_invariants(const struct table *t);

static inline uint64_t table_slot_make(uint16_t tag, uint64_t offset)
{
	return (uint64_t)tag << TABLE_OFFSET_BITS | offset;
}

static inline uint16_t table_slot_tag(uint64_t slot)
{
	return (uint16_t)(slot >> TABLE_OFFSET_BITS);
}

static inline uint64_t table_slot_offset(uint64_t slot)
{
	return slot & TABLE_OFFSET_MASK;
}

/* Points an existing slot at another offset; the tag stays. */
static inline void table_slot_replace(uint64_t *slot, uint64_t offset)
{
	*slot = (*slot & ~TABLE_OFFSET_MASK) | offset;
}

static inline struct table_bucket *table_main_bucket(const struct table *t, uint64_t hash)
{
	return &t->buckets[keyhash_bucket(hash, t->nbuckets)];
}

/* The chain's next bucket, or NULL at its end. */
static inline struct table_bucket *table_next_bucket(const struct table *t,
						     const struct table_bucket *b)
{
	return b->next != 0 ? &t->buckets[b->next] : NULL;
}

/* Whether table_insert would succeed for hash: room left in the chain's last
 * bucket (chains are packed), or a bucket left in the pool and the chain
 * below its bound. */
static inline bool table_can_insert(const struct table *t, uint64_t hash)
{
	const struct table_bucket *b = table_main_bucket(t, hash);
	const struct table_bucket *next;
	unsigned overflow = 0;

	while ((next = table_next_bucket(t, b)) != NULL) {
		b = next;
		overflow++;
	}
	return b->slot[TABLE_SLOTS - 1] == 0 ||
	       (t->pool_head != 0 && overflow < TABLE_CHAIN_OVERFLOW_MAX);
}

static inline void table_prefetch(const struct table *t, uint64_t hash)
{
	we_prefetch(table_main_bucket(t, hash));
}

/* Slot holding the key, or NULL. key_equal(ctx, offset) compares the full key
 * of the item at offset; it runs only on a tag match. Always inlined so that a
 * caller's static key_equal is inlined too. */
static inline __attribute__((always_inline)) uint64_t *
table_find(const struct table *t, uint64_t hash,
	   bool (*key_equal)(const void *ctx, uint64_t offset), const void *ctx)
{
	uint64_t tag_bits = (uint64_t)keyhash_tag(hash) << TABLE_OFFSET_BITS;
	struct table_bucket *b = table_main_bucket(t, hash);

	do {
		for (unsigned i = 0; i < TABLE_SLOTS; i++) {
			uint64_t slot = b->slot[i];

			if (slot == 0)
				return NULL; /* chains are packed: nothing further */
			if ((slot & ~TABLE_OFFSET_MASK) == tag_bits &&
			    key_equal(ctx, slot & TABLE_OFFSET_MASK))
				return &b->slot[i];
		}
		b = table_next_bucket(t, b);
	} while (b != NULL);
	return NULL;
}

#endif
