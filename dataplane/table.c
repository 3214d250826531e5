/* table.c - the bucketised index of one shard: two choices, then chains.
 *
 * DESIGN
 * Main buckets are addressed by keyhash_bucket() (multiply-shift, so any
 * count works and the table is sized to its capacity). A key goes to its
 * home bucket while that has room, else to its second bucket, else to an
 * overflow bucket taken from a fixed pool allocated at init: nothing is
 * allocated, grown or rehashed on the request path, and when a chain is full
 * and the pool is empty an insert fails cleanly (the shard answers NO_SPACE).
 *
 * Sizing: 12 slots of 5 bytes (an 8-bit tag and a 32-bit offset) per
 * 64-byte bucket, filled to 80 % at capacity (9.6 items per bucket). With
 * one choice, occupancy would be close to Poisson(9.6), and 17 % of the
 * buckets would need an overflow bucket; filling the home bucket first and
 * the second one when the home is full puts about 4 % of the items in their
 * second bucket and leaves overflow buckets for about 7 % of the main
 * buckets when both are full (simulated over 10^6 keys). The pool is an
 * eighth of the main buckets plus a margin for small tables. Memory per
 * item at capacity: 64 x 1.125 / 9.6 = 7.5 bytes (the 7-slot, one-choice
 * table before it used 14.3).
 *
 * Chains stay packed (see table.h), which keeps pool usage a function of
 * the current contents only.
 *
 * Scans (table_scan_step) rely on one property, true of every function
 * here: an item never leaves the chain it was inserted into. table_insert
 * picks the chain (home or second) once; table_remove fills the hole with
 * the same chain's last slot; table_ref_replace rewrites a slot in place;
 * the table is never resized or rehashed. A cursor is therefore just a main
 * bucket index.
 */
#include "table.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "we_assert.h"

/* Items per main bucket at capacity, as a fraction: 12 slots * 80% = 48/5. */
#define TABLE_LOAD_NUM 48
#define TABLE_LOAD_DEN 5
#define TABLE_POOL_MARGIN 16

int table_geometry_for(uint64_t capacity_items, struct table_geometry *g)
{
	uint64_t nbuckets;
	uint64_t noverflow;

	if (capacity_items == 0 || capacity_items > (UINT64_C(1) << 30))
		return -EINVAL;
	nbuckets = (capacity_items * TABLE_LOAD_DEN + TABLE_LOAD_NUM - 1) / TABLE_LOAD_NUM;
	noverflow = nbuckets / 8 + TABLE_POOL_MARGIN;
	if (noverflow > TABLE_POOL_MAX || nbuckets + noverflow >= UINT32_MAX)
		return -EINVAL;
	g->nbuckets = (uint32_t)nbuckets;
	g->noverflow = (uint32_t)noverflow;
	return 0;
}

size_t table_memory_size(const struct table_geometry *g)
{
	return ((size_t)g->nbuckets + g->noverflow) * sizeof(struct table_bucket);
}

/* The meta link naming overflow bucket `index` (1 + its place in the pool). */
static uint32_t table_link_of(const struct table *t, uint32_t index)
{
	return index - t->nbuckets + 1;
}

static void table_set_link(struct table_bucket *b, uint32_t link)
{
	b->meta = (b->meta & ~TABLE_NEXT_MASK) | link;
}

int table_init(struct table *t, void *mem, size_t mem_bytes, const struct table_geometry *g)
{
	if (mem == NULL || (uintptr_t)mem % WE_CACHE_LINE != 0 || g->nbuckets == 0 ||
	    g->noverflow > TABLE_POOL_MAX || (uint64_t)g->nbuckets + g->noverflow >= UINT32_MAX ||
	    mem_bytes < table_memory_size(g))
		return -EINVAL;

	memset(mem, 0, table_memory_size(g));
	memset(t, 0, sizeof(*t));
	t->buckets = mem;
	t->nbuckets = g->nbuckets;
	t->noverflow = g->noverflow;
	/* Thread the pool in index order, so a fresh table hands out ascending buckets. */
	for (uint32_t i = 0; i < g->noverflow; i++)
		t->buckets[g->nbuckets + i].meta = i + 1 < g->noverflow ? i + 2 : 0;
	t->pool_head = g->noverflow > 0 ? 1 : 0;
	return 0;
}

static void table_put_slot(struct table_bucket *b, unsigned i, uint8_t tag, uint64_t offset)
{
	b->tag[i] = tag;
	b->off[i] = (uint32_t)(offset / TABLE_GRANULE);
}

int table_insert(struct table *t, uint64_t hash, uint64_t offset)
{
	uint32_t home = table_home_index(t, hash);
	struct table_bucket *h = &t->buckets[home];
	struct table_bucket *b, *next;
	unsigned overflow = 0;

	WE_ASSERT(offset <= TABLE_OFFSET_MAX && offset % TABLE_GRANULE == 0);
	if (!table_bucket_full(h)) {
		table_put_slot(h, table_bucket_used(h), table_tag(hash), offset);
		t->items++;
		return 0;
	}
	b = &t->buckets[table_second_index(t, home, hash)];
	if (b != h && !table_bucket_full(b)) {
		table_put_slot(b, table_bucket_used(b), table_tag(hash), offset);
		if (table_spill(h) < TABLE_SPILL_STUCK)
			h->meta += 1u << TABLE_NEXT_BITS;
		t->items++;
		return 0;
	}
	b = h;
	while ((next = table_next_bucket(t, b)) != NULL) {
		b = next;
		overflow++;
	}
	if (table_bucket_full(b)) {
		uint32_t link = t->pool_head;

		if (link == 0 || overflow >= TABLE_CHAIN_OVERFLOW_MAX)
			return -ENOSPC;
		next = &t->buckets[t->nbuckets + link - 1];
		t->pool_head = next->meta & TABLE_NEXT_MASK;
		next->meta = 0;
		table_set_link(b, link);
		t->overflow_used++;
		b = next;
	}
	table_put_slot(b, table_bucket_used(b), table_tag(hash), offset);
	t->items++;
	return 0;
}

void table_remove(struct table *t, uint64_t hash, uint32_t *ref)
{
	uint32_t home = table_home_index(t, hash);
	struct table_bucket *holder =
		(struct table_bucket *)((uintptr_t)ref & ~(uintptr_t)(WE_CACHE_LINE - 1));
	uint32_t holder_index = (uint32_t)(holder - t->buckets);
	struct table_bucket *b, *prev = NULL, *next;
	unsigned hole = (unsigned)(ref - holder->off), last;

	WE_ASSERT(holder_index < t->nbuckets + t->noverflow && hole < TABLE_SLOTS &&
		  holder->tag[hole] != 0);
	if (holder_index < t->nbuckets && holder_index != home) {
		/* A key living in its second bucket: that bucket heads its chain. */
		struct table_bucket *h = &t->buckets[home];

		WE_ASSERT(holder_index == table_second_index(t, home, hash) && table_spill(h) > 0);
		if (table_spill(h) < TABLE_SPILL_STUCK)
			h->meta -= 1u << TABLE_NEXT_BITS;
		b = holder;
	} else {
		b = &t->buckets[home];
	}
	/* Fill the hole with the chain's last slot, keeping the chain packed. */
	while ((next = table_next_bucket(t, b)) != NULL) {
		prev = b;
		b = next;
	}
	last = table_bucket_used(b);
	WE_ASSERT(last > 0);
	last--;
	holder->tag[hole] = b->tag[last];
	holder->off[hole] = b->off[last];
	b->tag[last] = 0;
	b->off[last] = 0;
	t->items--;

	if (last == 0 && prev != NULL) {
		table_set_link(prev, 0);
		b->meta = t->pool_head;
		t->pool_head = table_link_of(t, (uint32_t)(b - t->buckets));
		t->overflow_used--;
	}
}

static uint64_t table_slot_at(const struct table_bucket *b, unsigned i)
{
	return table_slot_make(b->tag[i], (uint64_t)b->off[i] * TABLE_GRANULE);
}

bool table_for_each(const struct table *t, bool (*visit)(void *ctx, uint32_t chain, uint64_t slot),
		    void *ctx)
{
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (const struct table_bucket *b = &t->buckets[i]; b != NULL;
		     b = table_next_bucket(t, b))
			for (unsigned s = 0; s < TABLE_SLOTS && b->tag[s] != 0; s++)
				if (!visit(ctx, i, table_slot_at(b, s)))
					return false;
	return true;
}

/* Copies the used slots of main bucket i's chain to out, at most room of
 * them; returns how many, or room + 1 when the chain has more. */
static unsigned table_copy_chain(const struct table *t, uint32_t i, uint64_t *out, unsigned room)
{
	unsigned n = 0;

	for (const struct table_bucket *b = &t->buckets[i]; b != NULL; b = table_next_bucket(t, b))
		for (unsigned s = 0; s < TABLE_SLOTS && b->tag[s] != 0; s++) {
			if (n == room)
				return room + 1;
			out[n++] = table_slot_at(b, s);
		}
	return n;
}

int table_scan_step(const struct table *t, uint32_t *cursor, uint64_t *slots_out,
		    unsigned max_slots, unsigned max_chains)
{
	unsigned n = 0;

	if (*cursor > t->nbuckets || max_slots < TABLE_CHAIN_SLOTS_MAX || max_chains == 0)
		return -EINVAL;
	if (max_slots > INT_MAX)
		max_slots = INT_MAX; /* the count is returned as an int */
	for (unsigned c = 0; c < max_chains && *cursor < t->nbuckets; c++) {
		unsigned got = table_copy_chain(t, *cursor, slots_out + n, max_slots - n);

		if (got > max_slots - n)
			break; /* does not fit: the next step starts with it */
		n += got;
		(*cursor)++;
	}
	return (int)n;
}

/* Packed: no used slot after an empty one; an empty slot's offset is 0. */
static bool table_bucket_packed(const struct table_bucket *b, unsigned *used)
{
	bool hole_seen = false;

	*used = 0;
	for (unsigned s = 0; s < TABLE_SLOTS; s++) {
		if (b->tag[s] == 0) {
			hole_seen = true;
			if (b->off[s] != 0)
				return false;
			continue;
		}
		if (hole_seen)
			return false;
		(*used)++;
	}
	return true;
}

static bool table_link_valid(const struct table *t, uint32_t link)
{
	return link >= 1 && link <= t->noverflow;
}

/* Checks the chain of main bucket i; adds its items and overflow buckets. */
static bool table_check_chain(const struct table *t, uint32_t i, uint64_t *items,
			      uint64_t *overflow)
{
	const struct table_bucket *b = &t->buckets[i];
	uint32_t length = 0;
	unsigned used;

	for (;;) {
		uint32_t link = b->meta & TABLE_NEXT_MASK;

		if (!table_bucket_packed(b, &used))
			return false;
		*items += used;
		if (link == 0)
			return true;
		/* A hole before a next bucket breaks packing; so does a long chain or a cycle. */
		if (used != TABLE_SLOTS || !table_link_valid(t, link) ||
		    ++length > TABLE_CHAIN_OVERFLOW_MAX)
			return false;
		b = &t->buckets[t->nbuckets + link - 1];
		if (b->tag[0] == 0 || table_spill(b) != 0)
			return false;
		(*overflow)++;
	}
}

static bool table_check_pool(const struct table *t)
{
	uint64_t free_buckets = 0;

	for (uint32_t link = t->pool_head; link != 0;) {
		const struct table_bucket *b;

		if (!table_link_valid(t, link) || ++free_buckets > t->noverflow)
			return false;
		b = &t->buckets[t->nbuckets + link - 1];
		for (unsigned s = 0; s < TABLE_SLOTS; s++)
			if (b->tag[s] != 0 || b->off[s] != 0)
				return false;
		if (b->meta > TABLE_NEXT_MASK)
			return false;
		link = b->meta;
	}
	/* Every overflow bucket is in the pool or in exactly one chain: the
	 * chains' count (table_check_chain) equals overflow_used, and these two
	 * add up to the pool's size. */
	return free_buckets + t->overflow_used == t->noverflow;
}

bool table_check_invariants(const struct table *t)
{
	uint64_t items = 0;
	uint64_t overflow = 0;

	if (t->nbuckets == 0 || (uintptr_t)t->buckets % WE_CACHE_LINE != 0)
		return false;
	for (uint32_t i = 0; i < t->nbuckets; i++)
		if (!table_check_chain(t, i, &items, &overflow))
			return false;
	return items == t->items && overflow == t->overflow_used && table_check_pool(t);
}
