/* topk_sketch.c - space-saving over a min-heap with a hash index (see
 * topk_sketch.h). */
#include "topk_sketch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "we_assert.h"

#define TOPK_EMPTY UINT32_MAX

/* Index slots: a power of two >= 2k, so the load stays <= 1/2. */
static uint32_t index_slots(uint32_t k)
{
	uint32_t n = 2;

	while (n < 2 * k)
		n <<= 1;
	return n;
}

size_t topk_sketch_mem_size(uint32_t k)
{
	if (k == 0 || k > TOPK_K_MAX)
		return 0;
	return (size_t)k * sizeof(struct topk_entry) + (size_t)k * sizeof(uint32_t) +
	       (size_t)index_slots(k) * sizeof(uint32_t);
}

int topk_sketch_init(struct topk_sketch *s, void *mem, size_t len, uint32_t k)
{
	size_t need = topk_sketch_mem_size(k);
	uint8_t *p = mem;

	if (need == 0 || mem == NULL || len < need || ((uintptr_t)mem & 7) != 0)
		return -EINVAL;
	s->heap = (struct topk_entry *)p;
	s->slot_of = (uint32_t *)(p + (size_t)k * sizeof(struct topk_entry));
	s->index = s->slot_of + k;
	s->mask = index_slots(k) - 1;
	s->k = k;
	topk_sketch_reset(s);
	return 0;
}

void topk_sketch_reset(struct topk_sketch *s)
{
	memset(s->index, 0xff, ((size_t)s->mask + 1) * sizeof(uint32_t));
	s->used = 0;
	s->total = 0;
}

/* The home slot of a hash: mixed, since callers' hashes may be weak in the
 * low bits (tests use small integers). */
static uint32_t home(const struct topk_sketch *s, uint64_t hash)
{
	hash ^= hash >> 33;
	hash *= 0xff51afd7ed558ccdull;
	hash ^= hash >> 33;
	return (uint32_t)hash & s->mask;
}

/* The heap position of hash, or TOPK_EMPTY. */
static uint32_t find(const struct topk_sketch *s, uint64_t hash)
{
	for (uint32_t i = home(s, hash);; i = (i + 1) & s->mask) {
		uint32_t pos = s->index[i];

		if (pos == TOPK_EMPTY || s->heap[pos].hash == hash)
			return pos;
	}
}

static void index_insert(struct topk_sketch *s, uint64_t hash, uint32_t pos)
{
	uint32_t i = home(s, hash);

	while (s->index[i] != TOPK_EMPTY)
		i = (i + 1) & s->mask;
	s->index[i] = pos;
	s->slot_of[pos] = i;
}

/* Linear probing deletion by backward shift: no tombstones, so probes stay
 * short however many evictions there are. */
static void index_remove(struct topk_sketch *s, uint32_t i)
{
	uint32_t j = i;

	s->index[i] = TOPK_EMPTY;
	for (;;) {
		uint32_t pos;

		j = (j + 1) & s->mask;
		pos = s->index[j];
		if (pos == TOPK_EMPTY)
			return;
		/* The entry at j may fill the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (((j - home(s, s->heap[pos].hash)) & s->mask) >= ((j - i) & s->mask)) {
			s->index[i] = pos;
			s->slot_of[pos] = i;
			s->index[j] = TOPK_EMPTY;
			i = j;
		}
	}
}

static void swap(struct topk_sketch *s, uint32_t a, uint32_t b)
{
	struct topk_entry e = s->heap[a];
	uint32_t slot = s->slot_of[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = e;
	s->slot_of[a] = s->slot_of[b];
	s->slot_of[b] = slot;
	s->index[s->slot_of[a]] = a;
	s->index[s->slot_of[b]] = b;
}

static void sift_up(struct topk_sketch *s, uint32_t i)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (s->heap[parent].count <= s->heap[i].count)
			return;
		swap(s, i, parent);
		i = parent;
	}
}

static void sift_down(struct topk_sketch *s, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->used && s->heap[l].count < s->heap[m].count)
			m = l;
		if (r < s->used && s->heap[r].count < s->heap[m].count)
			m = r;
		if (m == i)
			return;
		swap(s, i, m);
		i = m;
	}
}

static void name_entry(struct topk_entry *e, uint64_t hash, const void *key, size_t key_len)
{
	size_t n = key_len < TOPK_KEY_MAX ? key_len : TOPK_KEY_MAX;

	e->hash = hash;
	e->key_len = key_len > UINT32_MAX ? UINT32_MAX : (uint32_t)key_len;
	if (n > 0)
		memcpy(e->key, key, n);
	memset(e->key + n, 0, TOPK_KEY_MAX - n);
}

/* Puts a key that is not kept into the sketch with the given count and
 * error: a new entry while there is room, else in place of the minimum. */
static void place(struct topk_sketch *s, const struct topk_entry *src, uint64_t count,
		  uint64_t error)
{
	uint32_t pos;

	if (s->used < s->k) {
		pos = s->used++;
	} else {
		pos = 0;
		index_remove(s, s->slot_of[0]);
	}
	s->heap[pos] = *src;
	s->heap[pos].count = count;
	s->heap[pos].error = error;
	index_insert(s, src->hash, pos);
	if (pos == 0)
		sift_down(s, 0);
	else
		sift_up(s, pos);
}

void topk_sketch_add(struct topk_sketch *s, uint64_t hash, const void *key,
		     size_t key_len, uint64_t w)
{
	uint32_t pos = find(s, hash);

	s->total += w;
	if (pos != TOPK_EMPTY) {
		s->heap[pos].count += w;
		sift_down(s, pos);
		return;
	}
	{
		struct topk_entry e;
		/* Full: the new key inherits the minimum as its possible
		 * overcount (it may have been that evicted key's weight). */
		uint64_t m = topk_sketch_min(s);

		name_entry(&e, hash, key, key_len);
		place(s, &e, m + w, m);
	}
}

uint64_t topk_sketch_min(const struct topk_sketch *s)
{
	return s->used == s->k ? s->heap[0].count : 0;
}

/* The listing order: count descending, then error ascending, then hash. */
static int before(const struct topk_entry *a, const struct topk_entry *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	if (a->error != b->error)
		return a->error < b->error;
	return a->hash < b->hash;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct topk_entry *a = pa, *b = pb;

	return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

size_t topk_sketch_top(const struct topk_sketch *s, struct topk_entry *out, size_t n)
{
	if (n >= s->used) {
		memcpy(out, s->heap, (size_t)s->used * sizeof(*out));
		qsort(out, s->used, sizeof(*out), cmp_entry);
		return s->used;
	}
	/* Fewer wanted than kept, and no scratch: select each next one, O(nK). */
	for (size_t r = 0; r < n; r++) {
		const struct topk_entry *best = NULL;

		for (uint32_t i = 0; i < s->used; i++) {
			const struct topk_entry *e = &s->heap[i];

			if (r > 0 && !before(&out[r - 1], e))
				continue;
			if (best == NULL || before(e, best))
				best = e;
		}
		out[r] = *best;
	}
	return n;
}

/* Each side's counts cover its own stream; a key the other side did not
 * keep may still have had up to that side's minimum there, so it is
 * charged that minimum in count and in error. Every combined entry is then
 * >= min_into + min_from, and a key neither kept has true <= that sum, so
 * the K largest keep the space-saving invariant. */
void topk_sketch_merge(struct topk_sketch *into, const struct topk_sketch *from)
{
	uint64_t min_into = topk_sketch_min(into), min_from = topk_sketch_min(from);

	WE_ASSERT(into != from);
	for (uint32_t i = 0; i < into->used; i++) {
		struct topk_entry *e = &into->heap[i];
		uint32_t pos = find(from, e->hash);

		if (pos != TOPK_EMPTY) {
			e->count += from->heap[pos].count;
			e->error += from->heap[pos].error;
		} else {
			e->count += min_from;
			e->error += min_from;
		}
	}
	for (uint32_t i = into->used / 2; i-- > 0;)
		sift_down(into, i);
	for (uint32_t i = 0; i < from->used; i++) {
		const struct topk_entry *e = &from->heap[i];
		uint64_t count = e->count + min_into;

		/* Kept by both: added above. If that combined entry has been
		 * evicted meanwhile, its count (>= this one) was <= the
		 * minimum, which only grows, so the next test skips it. */
		if (find(into, e->hash) != TOPK_EMPTY)
			continue;
		if (into->used == into->k && count <= into->heap[0].count)
			continue;
		place(into, e, count, e->error + min_into);
	}
	into->total += from->total;
}

static uint64_t half_up(uint64_t v)
{
	return v / 2 + (v & 1);
}

void topk_sketch_decay(struct topk_sketch *s)
{
	/* Monotone, so the heap order stays. */
	for (uint32_t i = 0; i < s->used; i++) {
		s->heap[i].count = half_up(s->heap[i].count);
		s->heap[i].error = half_up(s->heap[i].error);
	}
	s->total = half_up(s->total);
}
