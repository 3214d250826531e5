/* table.c - the bucketised index of one shard: chains of 64-byte buckets.
 *
 * DESIGN
 * Main buckets are addressed by keyhash_bucket() (multiply-shift, so any
 * count works and the table is sized to its capacity). A full bucket chains
 * to overflow buckets taken from a fixed pool allocated at init: nothing is
 * allocated, grown or rehashed on the request path, and when a chain is full
 * and the pool is empty an insert fails cleanly (the shard answers NO_SPACE).
 *
 * Sizing: at the target load of 80% (5.6 items per 7-slot bucket), bucket
 * occupancy is close to Poisson(5.6), and P(X >= 8) = 0.20: a fifth of the
 * main buckets need one overflow bucket at full capacity (two or more:
 * P(X >= 15) < 0.001). The pool is therefore a quarter of the main buckets
 * plus a fixed margin for small tables. Memory per item at capacity is
 * 64 * 1.25 / 5.6 = 14.3 bytes; 7.6% of the items then sit in an overflow
 * bucket (one more line to read). A pool of an eighth would run out at about
 * 88% of the nominal capacity.
 *
 * Chains stay packed (see table.h), which keeps misses short and makes pool
 * usage a function of the current contents only.
 *
 * Scans (table_scan_step) rely on one property, true of every function
 * here: an item never leaves the chain of its main bucket. table_insert
 * appends to the chain of keyhash_bucket(hash); table_remove fills the hole
 * with the same chain's last slot; table_slot_replace rewrites a slot in
 * place; overflow buckets change owner only while empty; the table is never
 * resized or rehashed. A cursor is therefore just a main bucket index.
 */
#include "table.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "we_assert.h"

/* Items per main bucket at capacity, as a fraction: 7 slots * 80% = 28/5. */
#define TABLE_LOAD_NUM 28
#define TABLE_LOAD_DEN 5
#define TABLE_POOL_MARGIN 64

int table_geometry_for(uint64_t capacity_items, struct table_geometry *g)
{
	uint64_t nbuckets;
	uint64_t noverflow;

	if (capacity_items == 0 || capacity_items > (UINT64_C(1) << 40))
		return -EINVAL;
	nbuckets = (capacity_items * TABLE_LOAD_DEN + TABLE_LOAD_NUM - 1) / TABLE_LOAD_NUM;
	noverflow = nbuckets / 4 + TABLE_POOL_MARGIN;
	/* Bucket indices, main and overflow, are u32; TABLE_OWNER_FREE is reserved. */
	if (nbuckets + noverflow >= UINT32_MAX)
		return -EINVAL;
	g->nbuckets = (uint32_t)nbuckets;
	g->noverflow = (uint32_t)noverflow;
	return 0;
}

size_t table_memory_size(const struct table_geometry *g)
{
	return ((size_t)g->nbuckets + g->noverflow) * sizeof(struct table_bucket);
}

int table_init(struct table *t, void *mem, size_t mem_bytes, const struct table_geometry *g)
{
	if (mem == NULL || (uintptr_t)mem % WE_CACHE_LINE != 0 || g->nbuckets == 0 ||
	    (uint64_t)g->nbuckets + g->noverflow >= UINT32_MAX || mem_bytes < table_memory_size(g))
		return -EINVAL;

	memset(mem, 0, table_memory_size(g));
	memset(t, 0, sizeof(*t));
	t->buckets = mem;
	t->nbuckets = g->nbuckets;
	t->noverflow = g->noverflow;
	/* Thread the pool in index order, so a fresh table hands out ascending buckets. */
	for (uint32_t i = 0; i < g->noverflow; i++) {
		struct table_bucket *b = &t->buckets[g->nbuckets + i];

		b->next = i + 1 < g->noverflow ? g->nbuckets + i + 1 : 0;
		b->owner = TABLE_OWNER_FREE;
	}
	t->pool_head = g->noverflow > 0 ? g->nbuckets : 0;
	return 0;
}

static uint32_t table_bucket_index(const struct table *t, const struct table_bucket *b)
{
	return (uint32_t)(b - t->buckets);
}

/* Used slots of a bucket; chains are packed, so they are the first ones. */
static unsigned table_bucket_used(const struct table_bucket *b)
{
	unsigned n = 0;

	while (n < TABLE_SLOTS && b->slot[n] != 0)
		n++;
	return n;
}

int table_insert(struct table *t, uint64_t hash, uint64_t offset)
{
	uint32_t main_index = keyhash_bucket(hash, t->nbuckets);
	struct table_bucket *b = &t->buckets[main_index];
	struct table_bucket *next;
	unsigned used, overflow = 0;

	WE_ASSERT(offset <= TABLE_OFFSET_MASK);
	while ((next = table_next_bucket(t, b)) != NULL) {
		b = next;
		overflow++;
	}
	used = table_bucket_used(b);
	if (used == TABLE_SLOTS) {
		uint32_t fresh = t->pool_head;

		if (fresh == 0 || overflow >= TABLE_CHAIN_OVERFLOW_MAX)
			return -ENOSPC;
		next = &t->buckets[fresh];
		WE_ASSERT(next->owner == TABLE_OWNER_FREE);
		t->pool_head = next->next;
		next->next = 0;
		next->owner = main_index;
		b->next = fresh;
		t->overflow_used++;
		b = next;
		used = 0;
	}
	b->slot[used] = table_slot_make(keyhash_tag(hash), offset);
	t->items++;
	return 0;
}

void table_remove(struct table *t, uint64_t hash, uint64_t *slot)
{
	struct table_bucket *prev = NULL;
	struct table_bucket *b = table_main_bucket(t, hash);
	struct table_bucket *next;
	bool slot_in_chain = false;
	unsigned last;

	for (;;) {
		slot_in_chain |= slot >= &b->slot[0] && slot < &b->slot[TABLE_SLOTS];
		next = table_next_bucket(t, b);
		if (next == NULL)
			break;
		prev = b;
		b = next;
	}
	WE_ASSERT(slot_in_chain);
	WE_ASSERT(*slot != 0);

	/* Fill the hole with the chain's last slot, keeping the chain packed. */
	last = table_bucket_used(b);
	WE_ASSERT(last > 0);
	last--;
	*slot = b->slot[last];
	b->slot[last] = 0;
	t->items--;

	if (last == 0 && prev != NULL) {
		uint32_t index = table_bucket_index(t, b);

		prev->next = 0;
		b->owner = TABLE_OWNER_FREE;
		b->next = t->pool_head;
		t->pool_head = index;
		t->overflow_used--;
	}
}

bool table_for_each(const struct table *t, bool (*visit)(void *ctx, uint32_t bucket, uint64_t slot),
		    void *ctx)
{
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		const struct table_bucket *b = &t->buckets[i];

		for (; b != NULL; b = table_next_bucket(t, b))
			for (unsigned s = 0; s < TABLE_SLOTS && b->slot[s] != 0; s++)
				if (!visit(ctx, i, b->slot[s]))
					return false;
	}
	return true;
}

/* Copies the used slots of main bucket i's chain to out, at most room of
 * them; returns how many, or room + 1 when the chain has more. */
static unsigned table_copy_chain(const struct table *t, uint32_t i, uint64_t *out, unsigned room)
{
	unsigned n = 0;

	for (const struct table_bucket *b = &t->buckets[i]; b != NULL; b = table_next_bucket(t, b))
		for (unsigned s = 0; s < TABLE_SLOTS && b->slot[s] != 0; s++) {
			if (n == room)
				return room + 1;
			out[n++] = b->slot[s];
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

static bool table_is_overflow(const struct table *t, uint32_t index)
{
	return index >= t->nbuckets && index - t->nbuckets < t->noverflow;
}

/* Checks the chain of main bucket i; adds its items and overflow buckets. */
static bool table_check_chain(const struct table *t, uint32_t i, uint64_t *items,
			      uint64_t *overflow)
{
	const struct table_bucket *b = &t->buckets[i];
	bool hole_seen = false;
	uint32_t length = 0;

	if (b->owner != 0)
		return false;
	for (;;) {
		for (unsigned s = 0; s < TABLE_SLOTS; s++) {
			if (b->slot[s] == 0) {
				hole_seen = true;
				continue;
			}
			if (hole_seen || table_slot_tag(b->slot[s]) == 0)
				return false; /* not packed, or a slot without a tag */
			(*items)++;
		}
		if (b->next == 0)
			return true;
		/* A hole before a next bucket also breaks packing; so does a cycle. */
		if (hole_seen || !table_is_overflow(t, b->next) || ++length > t->noverflow)
			return false;
		b = &t->buckets[b->next];
		if (b->owner != i || b->slot[0] == 0)
			return false;
		(*overflow)++;
	}
}

static bool table_check_pool(const struct table *t)
{
	uint64_t free_buckets = 0;

	for (uint32_t index = t->pool_head; index != 0; index = t->buckets[index].next) {
		const struct table_bucket *b = &t->buckets[index];

		if (!table_is_overflow(t, index) || b->owner != TABLE_OWNER_FREE)
			return false;
		for (unsigned s = 0; s < TABLE_SLOTS; s++)
			if (b->slot[s] != 0)
				return false;
		if (++free_buckets > t->noverflow)
			return false;
	}
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
