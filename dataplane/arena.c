/* arena.c - item storage of one shard: segregated free lists over one block.
 *
 * DESIGN
 * The arena owns [base, base + bytes), handed in at start; it never calls
 * malloc. Items are carved in 8-byte granules. A freed block goes on the LIFO
 * list of its size class: one class per granule count up to the largest item
 * a datagram can carry (so the common sizes are reused exactly, in O(1)),
 * then four classes per power of two. An allocation tries, in order:
 *   1. its own class (exact classes: the head fits; larger classes: the
 *      first fitting block among the first ARENA_RANGE_PROBES),
 *   2. the never-used tail of the arena (bump pointer),
 *   3. the smallest non-empty larger class (found in a bitmap of non-empty
 *      classes), whose block is split; a remainder of one granule is too
 *      small to be a free block and stays with the item as "slack".
 * A failed allocation changes nothing.
 *
 * Blocks are not coalesced: an item's header does not know its neighbours,
 * and boundary tags would cost every item 8 bytes. A workload that shifts
 * from small to large items can therefore strand memory in small classes;
 * the tiers' eviction (later) is the answer to a full arena, and the counters
 * report used, free-listed and never-used bytes separately so this shows.
 *
 * A free block starts with struct arena_free (next offset, size, magic);
 * arena_check_invariants() walks every list and checks each block.
 */
#include "arena.h"

#include <errno.h>
#include <string.h>

#include "proto.h"
#include "we_assert.h"

#define ARENA_FREE_MAGIC 0xf8eeb10cu
/* Blocks examined in a larger (non-exact) class before falling back to the
 * bump area: bounds the work of one allocation. */
#define ARENA_RANGE_PROBES 4

_Static_assert(ARENA_EXACT_MAX_BYTES ==
		       ((ARENA_ITEM_HDR_BYTES + PROTO_KEY_MAX + PROTO_VALUE_MAX + 7) & ~7u),
	       "exact classes end at the largest item one datagram can carry");
_Static_assert(ARENA_EXACT_MAX_BYTES < (1u << ARENA_RANGE_LOG2_MIN) * 2,
	       "range classes start right above the exact ones");
_Static_assert(ARENA_ITEM_HDR_BYTES + 255 + ARENA_VALUE_MAX + 2 * ARENA_GRANULE <
		       (UINT64_C(1) << (ARENA_RANGE_LOG2_MAX + 1)),
	       "the largest block fits the last class");

/* Free block, 16 bytes (ARENA_BLOCK_MIN), at the start of the block:
 *   0  next   u64  offset of the next block of the class, ARENA_NIL at the end
 *   8  bytes  u32  size of the block (every block is below 2^25 bytes)
 *  12  magic  u32  ARENA_FREE_MAGIC
 */
struct arena_free {
	uint64_t next;
	uint32_t bytes;
	uint32_t magic;
};
_Static_assert(sizeof(struct arena_free) == ARENA_BLOCK_MIN, "free node fills the minimum block");
_Static_assert(ARENA_ITEM_HDR_BYTES >= ARENA_BLOCK_MIN, "every item block can become a free block");

static inline struct arena_free *arena_free_at(const struct arena *a, uint64_t offset)
{
	return (struct arena_free *)(a->base + offset);
}

/* Size class of a block of `bytes` (a multiple of 8, >= ARENA_BLOCK_MIN). */
static unsigned arena_class(uint64_t bytes)
{
	if (bytes <= ARENA_EXACT_MAX_BYTES)
		return (unsigned)((bytes - ARENA_BLOCK_MIN) / ARENA_GRANULE);

	unsigned msb = 63 - (unsigned)__builtin_clzll(bytes);
	unsigned quarter = (unsigned)(bytes >> (msb - 2)) & 3;

	WE_ASSERT(msb <= ARENA_RANGE_LOG2_MAX);
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

static void arena_push_free(struct arena *a, uint64_t offset, uint64_t bytes)
{
	unsigned c = arena_class(bytes);
	struct arena_free *f = arena_free_at(a, offset);

	WE_ASSERT(bytes >= ARENA_BLOCK_MIN);
	WE_ASSERT(offset + bytes <= a->bump_offset);
	f->next = a->free_head[c];
	f->bytes = (uint32_t)bytes;
	f->magic = ARENA_FREE_MAGIC;
	a->free_head[c] = offset;
	a->free_bytes += bytes;
	arena_class_mark(a, c);
}

/* Unlinks the block at `offset` whose predecessor in class c is `prev`
 * (ARENA_NIL: it is the head); returns its size. */
static uint64_t arena_unlink_free(struct arena *a, unsigned c, uint64_t prev, uint64_t offset)
{
	struct arena_free *f = arena_free_at(a, offset);

	WE_ASSERT(f->magic == ARENA_FREE_MAGIC);
	if (prev == ARENA_NIL)
		a->free_head[c] = f->next;
	else
		arena_free_at(a, prev)->next = f->next;
	f->magic = 0;
	a->free_bytes -= f->bytes;
	arena_class_mark(a, c);
	return f->bytes;
}

/* Takes a free block of at least `need` bytes from class c (which holds only
 * blocks >= need, or is the request's own class); ARENA_NIL when none fits. */
static uint64_t arena_take_from_class(struct arena *a, unsigned c, uint64_t need, uint64_t *got)
{
	uint64_t prev = ARENA_NIL;
	uint64_t offset = a->free_head[c];

	for (unsigned probe = 0; probe < ARENA_RANGE_PROBES && offset != ARENA_NIL; probe++) {
		if (arena_free_at(a, offset)->bytes >= need) {
			*got = arena_unlink_free(a, c, prev, offset);
			return offset;
		}
		prev = offset;
		offset = arena_free_at(a, offset)->next;
	}
	return ARENA_NIL;
}

/* Finds a block for `need` bytes; returns its offset (ARENA_NIL: none) and in
 * *slack whether it keeps one extra granule. */
static uint64_t arena_find_block(struct arena *a, uint64_t need, unsigned *slack)
{
	unsigned c = arena_class(need);
	uint64_t offset;
	uint64_t got = 0;

	*slack = 0;
	offset = arena_take_from_class(a, c, need, &got);
	if (offset == ARENA_NIL && a->bytes - a->bump_offset >= need) {
		offset = a->bump_offset;
		a->bump_offset += need;
		return offset;
	}
	if (offset == ARENA_NIL) {
		unsigned larger = arena_class_next_nonempty(a, c);

		if (larger == ARENA_CLASSES)
			return ARENA_NIL;
		offset = arena_take_from_class(a, larger, need, &got);
		WE_ASSERT(offset != ARENA_NIL); /* every block of a larger class fits */
	}
	WE_ASSERT(got >= need);
	/* Remainders are multiples of 8: 0, one granule (kept as slack), or a
	 * free block of its own. */
	if (got - need >= ARENA_BLOCK_MIN)
		arena_push_free(a, offset + need, got - need);
	else if (got > need)
		*slack = 1;
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

int arena_alloc_item(struct arena *a, uint8_t key_len, uint32_t value_len, uint32_t stored_len,
		     uint64_t *offset)
{
	uint64_t need = arena_item_bytes(key_len, stored_len);
	unsigned slack;
	uint64_t off;
	struct arena_item *it;

	WE_ASSERT(value_len <= ARENA_VALUE_MAX);
	WE_ASSERT(stored_len <= value_len);
	off = arena_find_block(a, need, &slack);
	if (off == ARENA_NIL)
		return -ENOSPC;

	it = arena_item_at(a, off);
	it->value_len = value_len;
	it->key_len = key_len;
	it->stored_len = stored_len;
	it->tier = TIER_EVENT_HORIZON;
	it->slack = slack;
	it->reserved = 0;
	it->temperature = 0;
	it->lsn = 0;
	/* The header describes exactly the block handed out; freeing relies on it. */
	WE_ASSERT(arena_item_block_bytes(it) == need + slack * ARENA_GRANULE);
	a->used_bytes += need + slack * ARENA_GRANULE;
	a->items++;
	*offset = off;
	return 0;
}

void arena_free_item(struct arena *a, uint64_t offset)
{
	struct arena_item *it = arena_item_at(a, offset);
	uint64_t bytes = arena_item_block_bytes(it);

	WE_ASSERT(offset % ARENA_GRANULE == 0);
	WE_ASSERT(offset + bytes <= a->bump_offset);
	WE_ASSERT(a->used_bytes >= bytes);
	WE_ASSERT(a->items > 0);
	a->used_bytes -= bytes;
	a->items--;
	arena_push_free(a, offset, bytes);
}

static bool arena_check_class(const struct arena *a, unsigned c, uint64_t *bytes_sum)
{
	uint64_t offset = a->free_head[c];
	uint64_t steps = 0;
	bool marked = (a->nonempty[c / 64] >> (c % 64)) & 1;

	if (marked != (offset != ARENA_NIL))
		return false;
	for (; offset != ARENA_NIL; offset = arena_free_at(a, offset)->next) {
		const struct arena_free *f = arena_free_at(a, offset);

		if (offset % ARENA_GRANULE != 0 || offset >= a->bump_offset)
			return false;
		if (f->magic != ARENA_FREE_MAGIC || f->bytes < ARENA_BLOCK_MIN ||
		    f->bytes % ARENA_GRANULE != 0 || offset + f->bytes > a->bump_offset)
			return false;
		if (arena_class(f->bytes) != c)
			return false;
		/* A cycle would walk past every granule of the arena. */
		if (++steps > a->bump_offset / ARENA_BLOCK_MIN)
			return false;
		*bytes_sum += f->bytes;
	}
	return true;
}

bool arena_check_invariants(const struct arena *a, uint64_t live_items, uint64_t live_bytes)
{
	uint64_t free_sum = 0;

	if (a->bytes % ARENA_GRANULE != 0 || a->bump_offset > a->bytes ||
	    a->bump_offset % ARENA_GRANULE != 0)
		return false;
	for (unsigned c = 0; c < ARENA_CLASSES; c++)
		if (!arena_check_class(a, c, &free_sum))
			return false;
	for (unsigned c = ARENA_CLASSES; c < ARENA_CLASS_WORDS * 64; c++)
		if ((a->nonempty[c / 64] >> (c % 64)) & 1)
			return false;
	return free_sum == a->free_bytes && live_bytes == a->used_bytes &&
	       live_items == a->items && a->used_bytes + a->free_bytes == a->bump_offset;
}
