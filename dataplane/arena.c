/* arena.c - item storage of one shard: segregated free lists, merged on free.
 *
 * DESIGN
 * The arena owns [base, base + bytes), handed in at start; it never calls
 * malloc. Blocks (items or free blocks) tile [0, bump_offset) in 8-byte
 * granules; the rest is untouched. An allocation tries, in order:
 *   1. its own size class: exact classes (one per granule count up to the
 *      largest item a datagram can carry) hand out their head in O(1); the
 *      larger classes (four per power of two) check ARENA_RANGE_PROBES blocks,
 *   2. the untouched tail (bump pointer),
 *   3. the first non-empty larger class, found in a bitmap of non-empty
 *      classes. Every block there is large enough (a free block is filed under
 *      the class its size falls in, so every class above the request's holds
 *      only larger blocks); it is split, and a remainder too small to be a
 *      free block stays with the item as "slack".
 * A failed allocation changes nothing.
 *
 * Freeing merges the block with free neighbours, so memory once used by
 * small items serves large ones later (a workload that changes its value
 * sizes does not strand memory in small classes). Boundary tags, at no cost
 * to items: byte 7 of every block, item or free, says whether the block is
 * free and whether the block before it is; a free block ends with a copy of
 * its size, so the block after it can find its start. Free lists are doubly
 * linked, so a neighbour is unlinked in O(1). Two free blocks never touch,
 * and a block freed at the edge of the untouched tail rejoins the tail.
 *
 * arena_check_invariants() walks every block from 0 to bump_offset and every
 * free list, so overlapping or lost blocks are found, not just miscounts
 * (and a compaction place that is not a block's start).
 */
#include "arena.h"

#include <errno.h>
#include <string.h>

#include "proto.h"
#include "we_assert.h"

/* Blocks examined in a larger (non-exact) class before the bump area: bounds
 * the work of one allocation. */
#define ARENA_RANGE_PROBES 4

_Static_assert(ARENA_EXACT_MAX_BYTES ==
		       ((ARENA_ITEM_HDR_BYTES + PROTO_KEY_MAX + PROTO_VALUE_MAX + 7) & ~7u),
	       "exact classes end at the largest item one datagram can carry");
_Static_assert(ARENA_EXACT_MAX_BYTES < (1u << ARENA_RANGE_LOG2_MIN) * 2,
	       "range classes start right above the exact ones");
_Static_assert(ARENA_BYTES_MAX <= (UINT64_C(1) << (ARENA_RANGE_LOG2_MAX + 1)),
	       "the largest free block fits the last class");
_Static_assert(ARENA_BLOCK_MIN - ARENA_GRANULE < 4 * ARENA_GRANULE, "slack fits two bits");

/*
 * Free block, at least ARENA_BLOCK_MIN (32) bytes:
 *
 *   0  bytes_lo  u32      size of the block, bits 0..31
 *   4  bytes_hi  24 bits  size of the block, bits 32..55
 *   7  flags     byte 7 as in struct arena_item: free = 1, prev_free = 0
 *   8  next      u64      offset of the next free block of the class, ARENA_NIL
 *  16  prev      u64      offset of the previous one, ARENA_NIL
 *      ...
 *  bytes - 8     footer   u64, the size again (found by the block after)
 *
 * may_alias: the same bytes are read as an item's header and as a free block.
 */
struct arena_free {
	uint32_t bytes_lo;
	uint32_t bytes_hi : 24;
	uint32_t tier : 2;
	uint32_t slack : 2;
	uint32_t prev_free : 1;
	uint32_t free : 1;
	uint32_t raw_only : 1;
	uint32_t dict : 1; /* an item's (arena.h); 0 in a free block */
	uint64_t next;
	uint64_t prev;
} __attribute__((may_alias));
_Static_assert(sizeof(struct arena_free) + sizeof(uint64_t) <= ARENA_BLOCK_MIN,
	       "node and footer fit the minimum block");

static inline struct arena_free *arena_free_at(const struct arena *a, uint64_t offset)
{
	return (struct arena_free *)(a->base + offset);
}

static inline uint64_t arena_free_size(const struct arena_free *f)
{
	return f->bytes_lo | (uint64_t)f->bytes_hi << 32;
}

static uint64_t arena_footer(const struct arena *a, uint64_t end)
{
	uint64_t bytes;

	memcpy(&bytes, a->base + end - sizeof(bytes), sizeof(bytes));
	return bytes;
}

/* Size of any block: free ones store it, items derive it from their header. */
static uint64_t arena_block_size(const struct arena *a, uint64_t offset)
{
	const struct arena_free *f = arena_free_at(a, offset);

	if (f->free)
		return arena_free_size(f);
	return arena_item_block_bytes(arena_item_at(a, offset));
}

/* Size class of a free block of `bytes` (a multiple of 8, >= ARENA_BLOCK_MIN). */
static unsigned arena_class(uint64_t bytes)
{
	if (bytes <= ARENA_EXACT_MAX_BYTES)
		return (unsigned)((bytes - ARENA_BLOCK_MIN) / ARENA_GRANULE);

	unsigned msb = 63 - (unsigned)__builtin_clzll(bytes);
	unsigned quarter = (unsigned)(bytes >> (msb - 2)) & 3;

	return ARENA_EXACT_CLASSES + (msb - ARENA_RANGE_LOG2_MIN) * 4 + quarter;
}

static void arena_class_mark(struct arena *a, unsigned c)
{
	if (a->free_head[c] == ARENA_NIL)
		a->nonempty[c / 64] &= ~(UINT64_C(1) << (c % 64));
	else
		a->nonempty[c / 64] |= UINT64_C(1) << (c % 64);
}

/* First non-empty class strictly above c, or ARENA_CLASSES. */
static unsigned arena_class_next_nonempty(const struct arena *a, unsigned c)
{
	for (unsigned from = c + 1; from < ARENA_CLASSES; from = (from / 64 + 1) * 64) {
		uint64_t word = a->nonempty[from / 64] & (~UINT64_C(0) << (from % 64));

		if (word != 0)
			return (from / 64) * 64 + (unsigned)__builtin_ctzll(word);
	}
	return ARENA_CLASSES;
}

/* Sets the prev_free bit of the block starting at `offset`, if there is one. */
static void arena_set_prev_free(struct arena *a, uint64_t offset, bool prev_free)
{
	if (offset < a->bump_offset)
		arena_free_at(a, offset)->prev_free = prev_free;
}

/* Writes a free block at offset and files it under its class (at the head). */
static void arena_push_free(struct arena *a, uint64_t offset, uint64_t bytes)
{
	unsigned c = arena_class(bytes);
	struct arena_free *f = arena_free_at(a, offset);

	WE_ASSERT(bytes >= ARENA_BLOCK_MIN);
	WE_ASSERT(offset + bytes <= a->bump_offset);
	memset(f, 0, sizeof(*f));
	f->bytes_lo = (uint32_t)bytes;
	f->bytes_hi = (uint32_t)(bytes >> 32);
	f->free = 1;
	f->next = a->free_head[c];
	f->prev = ARENA_NIL;
	memcpy(a->base + offset + bytes - sizeof(bytes), &bytes, sizeof(bytes));
	if (f->next != ARENA_NIL)
		arena_free_at(a, f->next)->prev = offset;
	a->free_head[c] = offset;
	a->free_bytes += bytes;
	a->free_large_bytes += bytes >= ARENA_LARGE_BLOCK ? bytes : 0;
	a->free_blocks++;
	arena_class_mark(a, c);
}

/* Takes the free block at offset off its list; returns its size. */
static uint64_t arena_unlink_free(struct arena *a, uint64_t offset)
{
	struct arena_free *f = arena_free_at(a, offset);
	uint64_t bytes = arena_free_size(f);
	unsigned c = arena_class(bytes);

	WE_ASSERT(f->free);
	if (f->prev == ARENA_NIL)
		a->free_head[c] = f->next;
	else
		arena_free_at(a, f->prev)->next = f->next;
	if (f->next != ARENA_NIL)
		arena_free_at(a, f->next)->prev = f->prev;
	f->free = 0;
	a->free_bytes -= bytes;
	a->free_large_bytes -= bytes >= ARENA_LARGE_BLOCK ? bytes : 0;
	a->free_blocks--;
	arena_class_mark(a, c);
	return bytes;
}

/* First block of class c, among ARENA_RANGE_PROBES, of at least `need`
 * bytes; ARENA_NIL when none. */
static uint64_t arena_probe_class(const struct arena *a, unsigned c, uint64_t need)
{
	uint64_t offset = a->free_head[c];

	for (unsigned probe = 0; probe < ARENA_RANGE_PROBES && offset != ARENA_NIL; probe++) {
		if (arena_free_size(arena_free_at(a, offset)) >= need)
			return offset;
		offset = arena_free_at(a, offset)->next;
	}
	return ARENA_NIL;
}

/* The free block at offset becomes need bytes in use; a remainder large
 * enough to be a block stays free, a smaller one is the taker's slack. */
static void arena_take_free(struct arena *a, uint64_t offset, uint64_t need, unsigned *slack)
{
	uint64_t got = arena_unlink_free(a, offset);

	WE_ASSERT(got >= need);
	*slack = 0;
	if (got - need >= ARENA_BLOCK_MIN) {
		/* The block after keeps prev_free: the remainder is now before it. */
		arena_push_free(a, offset + need, got - need);
	} else {
		*slack = (unsigned)((got - need) / ARENA_GRANULE);
		arena_set_prev_free(a, offset + got, false);
	}
}

/* Finds a block for `need` bytes and marks it used: returns its offset
 * (ARENA_NIL: none) and in *slack the granules it has beyond need. */
static uint64_t arena_take_block(struct arena *a, uint64_t need, unsigned *slack)
{
	unsigned c = arena_class(need);
	uint64_t offset = arena_probe_class(a, c, need);

	*slack = 0;
	if (offset == ARENA_NIL && a->bytes - a->bump_offset >= need) {
		/* The block before the tail is never free: nothing to flag. */
		offset = a->bump_offset;
		a->bump_offset += need;
		return offset;
	}
	if (offset == ARENA_NIL) {
		unsigned larger = arena_class_next_nonempty(a, c);

		if (larger == ARENA_CLASSES)
			return ARENA_NIL;
		offset = a->free_head[larger];
	}
	arena_take_free(a, offset, need, slack);
	return offset;
}

int arena_init(struct arena *a, void *mem, uint64_t bytes)
{
	if (mem == NULL || ((uintptr_t)mem % ARENA_GRANULE) != 0 || bytes > ARENA_BYTES_MAX)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->base = mem;
	a->bytes = bytes & ~(uint64_t)(ARENA_GRANULE - 1);
	for (unsigned c = 0; c < ARENA_CLASSES; c++)
		a->free_head[c] = ARENA_NIL;
	return 0;
}

/* The header of an item in the block just taken at off, counted in use. */
static void arena_item_init(struct arena *a, uint64_t off, uint8_t key_len, uint32_t value_len,
			    uint32_t stored_len, uint64_t need, unsigned slack)
{
	/* Free blocks never touch, so the block before a taken one is in use. */
	struct arena_item *it = arena_item_at(a, off);

	memset(it, 0, sizeof(*it));
	it->value_len = value_len;
	it->key_len = key_len;
	it->stored_len = stored_len;
	it->tier = TIER_EVENT_HORIZON;
	it->slack = slack;
	/* The header describes exactly the block handed out; freeing relies on it. */
	WE_ASSERT(arena_item_block_bytes(it) == need + slack * ARENA_GRANULE);
	a->used_bytes += need + slack * ARENA_GRANULE;
	a->items++;
}

int arena_alloc_item(struct arena *a, uint8_t key_len, uint32_t value_len, uint32_t stored_len,
		     uint64_t *offset)
{
	uint64_t need = arena_item_bytes(key_len, stored_len);
	unsigned slack;
	uint64_t off;

	WE_ASSERT(value_len <= ARENA_VALUE_MAX);
	WE_ASSERT(stored_len <= value_len);
	off = arena_take_block(a, need, &slack);
	if (off == ARENA_NIL)
		return -ENOSPC;
	arena_item_init(a, off, key_len, value_len, stored_len, need, slack);
	*offset = off;
	return 0;
}

/* Probes per class for a hole: bounds the work of one move. */
#define ARENA_HOLE_PROBES 4

/* Smallest size a free block of class c can have. */
static uint64_t arena_class_min(unsigned c)
{
	unsigned r, msb;

	if (c < ARENA_EXACT_CLASSES)
		return ARENA_BLOCK_MIN + (uint64_t)c * ARENA_GRANULE;
	r = c - ARENA_EXACT_CLASSES;
	msb = ARENA_RANGE_LOG2_MIN + r / 4;
	return (uint64_t)(4 + r % 4) << (msb - 2);
}

/* A free block of need..max_hole - 1 bytes, other than the one at not_at:
 * the smallest classes first (a hole filled exactly is one hole fewer), a
 * few probes each. ARENA_NIL when none. */
static uint64_t arena_find_hole(const struct arena *a, uint64_t need, uint64_t max_hole,
				uint64_t not_at)
{
	for (unsigned c = arena_class(need); c < ARENA_CLASSES && arena_class_min(c) < max_hole;
	     c = arena_class_next_nonempty(a, c)) {
		uint64_t off = a->free_head[c];

		for (unsigned probe = 0; probe < ARENA_HOLE_PROBES && off != ARENA_NIL; probe++) {
			uint64_t bytes = arena_free_size(arena_free_at(a, off));

			if (bytes >= need && bytes < max_hole && off != not_at)
				return off;
			off = arena_free_at(a, off)->next;
		}
	}
	return ARENA_NIL;
}

int arena_alloc_item_in_hole(struct arena *a, uint8_t key_len, uint32_t value_len,
			     uint32_t stored_len, uint64_t max_hole, uint64_t not_at,
			     uint64_t *offset)
{
	uint64_t need = arena_item_bytes(key_len, stored_len);
	uint64_t off = arena_find_hole(a, need, max_hole, not_at);
	unsigned slack;

	WE_ASSERT(stored_len <= value_len && value_len <= ARENA_VALUE_MAX);
	if (off == ARENA_NIL)
		return -ENOSPC;
	arena_take_free(a, off, need, &slack);
	arena_item_init(a, off, key_len, value_len, stored_len, need, slack);
	*offset = off;
	return 0;
}

uint64_t arena_free_around(const struct arena *a, uint64_t offset)
{
	const struct arena_item *it = arena_item_at(a, offset);
	uint64_t end = offset + arena_item_block_bytes(it), bytes = 0;

	if (it->prev_free)
		bytes += arena_footer(a, offset);
	if (end < a->bump_offset && arena_free_at(a, end)->free)
		bytes += arena_free_size(arena_free_at(a, end));
	return bytes;
}

uint64_t arena_block_at(const struct arena *a, uint64_t offset, bool *is_free)
{
	*is_free = arena_free_at(a, offset)->free;
	return arena_block_size(a, offset);
}

bool arena_reuse_item(struct arena *a, uint64_t offset, uint32_t value_len, uint32_t stored_len)
{
	struct arena_item *it = arena_item_at(a, offset);
	uint64_t block = arena_item_block_bytes(it);
	uint64_t need = arena_item_bytes(it->key_len, stored_len);
	unsigned key_len = it->key_len;
	bool prev_free = it->prev_free;

	WE_ASSERT(value_len <= ARENA_VALUE_MAX);
	WE_ASSERT(stored_len <= value_len);
	WE_ASSERT(!it->free);
	if (need > block || block - need >= ARENA_BLOCK_MIN)
		return false;
	memset(it, 0, sizeof(*it));
	it->value_len = value_len;
	it->key_len = key_len;
	it->stored_len = stored_len;
	it->tier = TIER_EVENT_HORIZON;
	it->slack = (block - need) / ARENA_GRANULE;
	it->prev_free = prev_free; /* the neighbours did not change */
	WE_ASSERT(arena_item_block_bytes(it) == block);
	return true;
}

void arena_shrink_item(struct arena *a, uint64_t offset, uint32_t stored_len)
{
	struct arena_item *it = arena_item_at(a, offset), *tail;
	uint64_t block = arena_item_block_bytes(it);
	uint64_t need = arena_item_bytes(it->key_len, stored_len);
	uint64_t rest = block - need;

	WE_ASSERT(!it->free);
	WE_ASSERT(stored_len < it->stored_len && need <= block);
	it->stored_len = stored_len;
	if (rest < ARENA_BLOCK_MIN) {
		it->slack = rest / ARENA_GRANULE;
		return;
	}
	it->slack = 0;
	/* The rest as an item of its own (no key, a value filling it, the
	 * block before in use), then freed like any item: merged with a free
	 * block after it, or given back to the tail. */
	tail = arena_item_at(a, offset + need);
	memset(tail, 0, sizeof(*tail));
	tail->stored_len = (uint32_t)(rest - ARENA_ITEM_HDR_BYTES);
	tail->value_len = tail->stored_len;
	WE_ASSERT(arena_item_block_bytes(tail) == rest);
	a->items++; /* arena_free_item counts one out */
	arena_free_item(a, offset + need);
}

void arena_free_item(struct arena *a, uint64_t offset)
{
	struct arena_item *it = arena_item_at(a, offset);
	uint64_t bytes = arena_item_block_bytes(it);
	uint64_t start = offset;
	uint64_t end = offset + bytes;

	WE_ASSERT(offset % ARENA_GRANULE == 0);
	WE_ASSERT(end <= a->bump_offset);
	WE_ASSERT(!it->free);
	WE_ASSERT(a->used_bytes >= bytes);
	WE_ASSERT(a->items > 0);
	a->used_bytes -= bytes;
	a->items--;

	if (it->prev_free) {
		uint64_t prev_bytes = arena_footer(a, offset);

		WE_ASSERT(prev_bytes <= offset);
		start = offset - prev_bytes;
		prev_bytes = arena_unlink_free(a, start);
		WE_ASSERT(start + prev_bytes == offset); /* footer and header agree */
	}
	if (end < a->bump_offset && arena_free_at(a, end)->free)
		end += arena_unlink_free(a, end);
	if (a->walk > start && a->walk < end)
		a->walk = start; /* its block was merged: where it now starts */

	if (end == a->bump_offset) {
		a->bump_offset = start; /* the tail grows back */
		if (a->walk > start)
			a->walk = start; /* at the tail's start: new blocks begin there */
		return;
	}
	arena_push_free(a, start, end - start);
	arena_set_prev_free(a, end, true);
}

static bool arena_check_lists(const struct arena *a)
{
	uint64_t blocks = 0;
	uint64_t bytes = 0, large = 0;

	for (unsigned c = 0; c < ARENA_CLASSES; c++) {
		uint64_t prev = ARENA_NIL;
		bool marked = (a->nonempty[c / 64] >> (c % 64)) & 1;

		if (marked != (a->free_head[c] != ARENA_NIL))
			return false;
		uint64_t off;

		for (off = a->free_head[c]; off != ARENA_NIL; off = arena_free_at(a, off)->next) {
			const struct arena_free *f;

			/* The block walk vouched for free blocks; a link elsewhere is bad. */
			if (off >= a->bump_offset || off % ARENA_GRANULE != 0)
				return false;
			f = arena_free_at(a, off);
			if (!f->free || f->prev != prev || arena_class(arena_free_size(f)) != c)
				return false;
			if (++blocks > a->free_blocks)
				return false; /* a cycle, or a block on two lists */
			bytes += arena_free_size(f);
			large += arena_free_size(f) >= ARENA_LARGE_BLOCK ? arena_free_size(f) : 0;
			prev = off;
		}
	}
	for (unsigned c = ARENA_CLASSES; c < ARENA_CLASS_WORDS * 64; c++)
		if ((a->nonempty[c / 64] >> (c % 64)) & 1)
			return false;
	return blocks == a->free_blocks && bytes == a->free_bytes && large == a->free_large_bytes;
}

bool arena_check_invariants(const struct arena *a, uint64_t live_items, uint64_t live_bytes)
{
	uint64_t items = 0, item_bytes = 0, free_blocks = 0, free_bytes = 0;
	bool prev_free = false, walk_found = a->walk == a->bump_offset;
	uint64_t off = 0;

	if (a->bytes % ARENA_GRANULE != 0 || a->bump_offset > a->bytes ||
	    a->bump_offset % ARENA_GRANULE != 0)
		return false;
	while (off < a->bump_offset) {
		const struct arena_free *f = arena_free_at(a, off);
		uint64_t size = arena_block_size(a, off);

		if (f->prev_free != prev_free || size < ARENA_BLOCK_MIN ||
		    size % ARENA_GRANULE != 0 || size > a->bump_offset - off)
			return false;
		if (f->free) {
			if (prev_free || f->tier != 0 || f->slack != 0 || f->raw_only != 0 ||
			    f->dict != 0)
				return false; /* two free blocks touch, or a stray bit */
			if (arena_footer(a, off + size) != size)
				return false;
			free_blocks++;
			free_bytes += size;
		} else {
			items++;
			item_bytes += size;
		}
		walk_found |= off == a->walk;
		prev_free = f->free;
		off += size;
	}
	if (prev_free || !walk_found)
		return false; /* a free block at the tail's edge should have rejoined it */
	return items == live_items && item_bytes == live_bytes && items == a->items &&
	       item_bytes == a->used_bytes && free_blocks == a->free_blocks &&
	       free_bytes == a->free_bytes && arena_check_lists(a);
}
