/* shard_compact.c - compaction of a shard's arena (see shard.h).
 *
 * DESIGN: the walk goes block after block from the arena's place (boundary
 * tags give every block's size). An item touching a free block moves into a hole
 * elsewhere that is smaller than what its leaving frees (its block merged
 * with the free neighbours), or into the free block just before it (the
 * item slides left and the free bytes gather behind it), never into the
 * free block just after it (a slide right gains nothing). Moves do not undo
 * each other: a move to a hole elsewhere makes the sum of the squares of
 * the free blocks' sizes grow (a hole of h bytes, h < p + b + n and both
 * multiples of 8, filled by an item of b bytes beside free blocks of p and
 * n bytes: the sum grows by at least 2pn + 16b), and a slide left keeps it
 * (or makes it grow) while the item's offset falls.
 */
#include <string.h>

#include "shard_internal.h"

unsigned shard_compact_step(struct shard *s, unsigned max_blocks, unsigned max_moves)
{
	struct arena *a = &s->arena;
	unsigned moved = 0;

	for (unsigned n = 0; n < max_blocks && moved < max_moves; n++) {
		uint64_t off = a->walk, bytes, around, to, hash;
		uint32_t *slot;
		struct arena_item *it, *dst;
		bool is_free;

		if (off >= a->bump_offset) {
			a->walk = 0; /* start over */
			if (a->bump_offset == 0)
				break;
			continue;
		}
		bytes = arena_block_at(a, off, &is_free);
		it = arena_item_at(a, off);
		if (is_free || (around = arena_free_around(a, off)) == 0 ||
		    arena_alloc_item_in_hole(a, (uint8_t)it->key_len, it->value_len, it->stored_len,
					     bytes + around, off + bytes, &to) != 0) {
			a->walk = off + bytes;
			continue;
		}
		/* The new block may be the free one just before: it then ends
		 * at or before off, and the copy does not overlap. */
		dst = arena_item_at(a, to);
		dst->temperature = it->temperature;
		dst->tier = it->tier;
		dst->raw_only = it->raw_only;
		dst->dict = it->dict;
		memcpy(dst->data, it->data, (size_t)it->key_len + it->stored_len);
		slot = shard_slot_of(s, it, &hash);
		table_ref_replace(slot, to);
		/* a->walk is off: the free moves it to the start of the free
		 * block the old one merges into, which the next turn passes. */
		arena_free_item(a, off);
		moved++;
		s->compact_moves++;
	}
	return moved;
}
