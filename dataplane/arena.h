/* arena.h - item storage of one shard, carved from memory handed in (no DPDK).
 *
 *   arena_init              arena.c  take over [mem, mem + bytes)
 *   arena_alloc_item        arena.c  a block for one item, header filled in
 *   arena_reuse_item        arena.c  fit new value lengths into an item's block
 *   arena_shrink_item       arena.c  a smaller stored value in place, the rest freed
 *   arena_free_item         arena.c  give an item's block back (merging neighbours)
 *   arena_alloc_item_in_hole arena.c  a block for an item from a free hole only (compaction)
 *   arena_free_around       arena.c  free bytes touching an item's block
 *   arena_block_at          arena.c  size of the block at an offset, and whether free
 *   arena_check_invariants  arena.c  O(n) walk of every block and free list
 *   arena_item_at, arena_item_key, arena_item_value, ...  inline, below
 *
 * Items are addressed by their byte offset from the arena's base, so the
 * index stores 48-bit offsets instead of pointers and the arena could be
 * mapped elsewhere (a checkpoint, a region move) without rewriting the index.
 *
 * Blocks are multiples of 8 bytes (one granule) and tile [0, bump_offset)
 * without gaps; beyond bump_offset the arena is untouched. Free blocks sit on
 * segregated lists, one per size class: an exact class per granule count up
 * to the largest item a datagram can carry, then four classes per power of
 * two. A freed block merges with free neighbours (boundary tags, see
 * arena.c), so memory freed by small items serves large ones later.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

/* Where an item's value lives; the policy that moves items belongs to the
 * tiers (the specification's event horizon cache), the arena only records it. */
enum item_tier {
	TIER_EVENT_HORIZON = 0, /* hot: value stored raw */
	TIER_PHOTON_SPHERE = 1, /* warm: value LZ4-compressed */
	TIER_DEEP_CACHE = 2,    /* cold: value LZ4-HC-compressed */
	TIER_SINGULARITY = 3,   /* archived on disk; the item keeps key and location */
};

/*
 * Item header, 8 bytes, little-endian bit fields (lowest bits first):
 *
 *   byte 0       2        4    5             7      8
 *        +-------+--------+----+-------------+------+
 *        |value_ |stored_ |key |temperature  |flag  |
 *        |len 16 |len 16  |len |    (16)     |bits  |
 *        +-------+--------+----+-------------+------+
 *   8    key[key_len], then value[stored_len], then padding to 8 bytes
 *
 *   value_len   length of the value as the client sent it (< 64 KiB: a
 *               value arrives in one datagram, and the largest UDP payload
 *               is below 64 KiB)
 *   stored_len  bytes of value actually stored: value_len while raw, the
 *               compressed size in the compressed tiers, a stub's reference
 *               in the disk tier
 *   key_len     0..255 (the protocol allows 1..250)
 *   temperature access temperature kept by the tiers (temperature.h)
 *   byte 7      bits 0-1 tier (enum item_tier)
 *               bits 2-3 slack: granules the block has beyond what the item
 *                        needs (a split remainder too small to be free)
 *               bit 4    prev_free: the block just before is free (arena only)
 *               bit 5    free: 0 in an item, 1 in a free block (arena only)
 *               bit 6    raw_only: the tiers found the value does not compress
 *                        (set by demotion; any write clears it, as it
 *                        clears the whole header)
 *               bit 7    dict: a compressed value was compressed against the
 *                        shard's dictionary (tier_codec.h); 0 in the other tiers
 *
 * No LSN: nothing needs one per item. Recovery replays the log in order
 * after a checkpoint's start, a checkpoint records the LSN a value is current
 * at (the worker's at the scan), and the disk tier checks a written record
 * against the item's bytes. Eight bytes fewer per item (docs/storage.md).
 *
 * Byte 7 has the same declaration in struct arena_free (arena.c), so the
 * arena can tell an item from a free block by looking at either.
 */
struct arena_item {
	uint64_t value_len : 16;
	uint64_t stored_len : 16;
	uint64_t key_len : 8;
	uint64_t temperature : 16;
	uint64_t tier : 2;
	uint64_t slack : 2;
	uint64_t prev_free : 1;
	uint64_t free : 1;
	uint64_t raw_only : 1;
	uint64_t dict : 1;
	uint8_t data[]; /* key, then value */
};
_Static_assert(sizeof(struct arena_item) == 8, "item header is 8 bytes");

#define ARENA_GRANULE 8u
#define ARENA_ITEM_HDR_BYTES 8u
#define ARENA_VALUE_MAX ((1u << 16) - 1) /* value_len and stored_len are 16 bits */
/* The index keeps offsets as 32-bit numbers of 8-byte granules (table.h):
 * an arena is at most 32 GiB. */
#define ARENA_BYTES_MAX (UINT64_C(1) << 35)
/* Smallest block: a free block must hold its list node and its footer. */
#define ARENA_BLOCK_MIN 32u
/* Largest block in an exact class: the largest item one datagram can carry
 * (header + 250-byte key + PROTO_VALUE_MAX, rounded), checked in arena.c. */
#define ARENA_EXACT_MAX_BYTES 1704u
#define ARENA_EXACT_CLASSES ((ARENA_EXACT_MAX_BYTES - ARENA_BLOCK_MIN) / ARENA_GRANULE + 1)
/* Above the exact classes: four classes per power of two, from 2^10 (the
 * first two hold nothing: their sizes are exact) to the largest free block,
 * the whole arena (below 2^48). */
#define ARENA_RANGE_LOG2_MIN 10
#define ARENA_RANGE_LOG2_MAX 47
#define ARENA_RANGE_CLASSES ((ARENA_RANGE_LOG2_MAX - ARENA_RANGE_LOG2_MIN + 1) * 4)
#define ARENA_CLASSES (ARENA_EXACT_CLASSES + ARENA_RANGE_CLASSES)
#define ARENA_CLASS_WORDS ((ARENA_CLASSES + 63) / 64)
#define ARENA_NIL UINT64_MAX /* end of a free list */
/* Free blocks at least this large hold a few of the largest items one
 * datagram carries: free memory in them (free_large_bytes) is room a burst
 * of PUTs can use, unlike the same bytes in pieces between items. */
#define ARENA_LARGE_BLOCK 2048u

struct arena {
	uint8_t *base;
	uint64_t bytes;       /* size of the arena, a multiple of 8 */
	uint64_t bump_offset; /* start of the never-used tail */
	uint64_t used_bytes;  /* blocks held by live items, slack included */
	uint64_t free_bytes;  /* blocks on the free lists */
	uint64_t free_large_bytes; /* of them, in blocks of ARENA_LARGE_BLOCK or more */
	uint64_t free_blocks; /* blocks on the free lists */
	uint64_t items;       /* live items */
	uint64_t walk;        /* compaction's place: a block's start, or bump_offset
			       * (the walk starts over); a free that merges the block
			       * starting there moves it to the merged block's start,
			       * a tail that grows back below it to the tail's start */
	uint64_t nonempty[ARENA_CLASS_WORDS]; /* bit c: free_head[c] != ARENA_NIL */
	uint64_t free_head[ARENA_CLASSES];    /* offset of the first free block */
};

/* mem: 8-byte aligned; bytes: rounded down to 8, at most ARENA_BYTES_MAX.
 * Returns 0 or -EINVAL. */
int arena_init(struct arena *a, void *mem, uint64_t bytes) we_must_check;

/* Bytes of the block an item of this shape needs (header, key, stored value,
 * rounded up to the granule, at least ARENA_BLOCK_MIN). */
static inline uint64_t arena_item_bytes(uint32_t key_len, uint32_t stored_len)
{
	uint64_t n = ARENA_ITEM_HDR_BYTES + (uint64_t)key_len + stored_len;

	n = (n + ARENA_GRANULE - 1) & ~(uint64_t)(ARENA_GRANULE - 1);
	return n < ARENA_BLOCK_MIN ? ARENA_BLOCK_MIN : n;
}

/* Allocates a block for an item and fills its header (lengths, tier
 * TIER_EVENT_HORIZON, temperature 0); the caller writes key and value.
 * Returns 0 and the item's offset, or -ENOSPC (nothing changed).
 * stored_len <= value_len <= ARENA_VALUE_MAX. */
int arena_alloc_item(struct arena *a, uint8_t key_len, uint32_t value_len, uint32_t stored_len,
		     uint64_t *offset) we_must_check;
/* Re-shapes the live item at offset for new value lengths (same key) when
 * its block holds them with less than ARENA_BLOCK_MIN to spare, so that an
 * overwrite of a similar size needs no allocation. Resets the header as
 * arena_alloc_item does; returns false, changing nothing, when it does not
 * fit. */
bool arena_reuse_item(struct arena *a, uint64_t offset, uint32_t value_len, uint32_t stored_len)
	we_must_check;
/* Makes the live item at offset store stored_len (< its stored_len) bytes
 * of value in place (key, value_len, tier and the rest of the header stay;
 * the caller writes the new bytes): the end of its block becomes a free
 * block of its own (merged with a free block after it) when a minimum block
 * fits there, slack otherwise. Needs no free memory: how a full arena
 * compresses an item. */
void arena_shrink_item(struct arena *a, uint64_t offset, uint32_t stored_len);
/* Returns the item's block, merged with free neighbours, to a free list (or
 * to the untouched tail when it ends there). */
void arena_free_item(struct arena *a, uint64_t offset);

/* As arena_alloc_item, but only from a free block (never the untouched
 * tail) smaller than max_hole bytes and not at offset not_at: how
 * compaction moves an item out of a place where its block would merge free
 * neighbours (max_hole: what the merge gives; not_at: the free block right
 * after it, which the item would only slide into) into a hole, so that the
 * largest free blocks grow. -ENOSPC, nothing changed, when no such hole is
 * found (a few probes per class). */
int arena_alloc_item_in_hole(struct arena *a, uint8_t key_len, uint32_t value_len,
			     uint32_t stored_len, uint64_t max_hole, uint64_t not_at,
			     uint64_t *offset) we_must_check;
/* Bytes of the free blocks just before and just after the live item at offset. */
uint64_t arena_free_around(const struct arena *a, uint64_t offset);
/* Size of the block at offset (< bump_offset, the start of a block), and
 * whether it is free: a walk of the arena, block after block. */
uint64_t arena_block_at(const struct arena *a, uint64_t offset, bool *is_free);

/* Walks every block from 0 to bump_offset (sizes tile the area, boundary
 * tags agree, no two free blocks touch) and every free list (links, classes,
 * counts), and checks the accounting. live_items, live_bytes: what the
 * caller's walk of its index found (items, sum of arena_item_block_bytes). */
bool arena_check_invariants(const struct arena *a, uint64_t live_items, uint64_t live_bytes);

static inline struct arena_item *arena_item_at(const struct arena *a, uint64_t offset)
{
	return (struct arena_item *)(a->base + offset);
}

static inline uint8_t *arena_item_key(struct arena_item *it)
{
	return it->data;
}

static inline uint8_t *arena_item_value(struct arena_item *it)
{
	return it->data + it->key_len;
}

/* Bytes of the block the item holds (what freeing it gives back). */
static inline uint64_t arena_item_block_bytes(const struct arena_item *it)
{
	return arena_item_bytes(it->key_len, it->stored_len) + it->slack * ARENA_GRANULE;
}

/* Bytes not handed out (the bump area; a freed block at its edge rejoins it). */
static inline uint64_t arena_untouched_bytes(const struct arena *a)
{
	return a->bytes - a->bump_offset;
}

#endif
