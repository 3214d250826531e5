/* archive_space.c - segments of a worker's archive file: where batches go,
 * live bytes, reclaiming the dead ones (see archive_space.h). */
#include "archive_space.h"

#include <stdlib.h>

#include "we_assert.h"

struct archive_space *archive_space_create(uint64_t limit)
{
	struct archive_space *sp;
	uint32_t shift = ARCHIVE_SPACE_SEGMENT_SHIFT_MIN;

	if (limit == 0)
		limit = (uint64_t)ARCHIVE_SPACE_SEGMENTS_MAX << shift;
	while ((limit >> shift) > ARCHIVE_SPACE_SEGMENTS_MAX)
		shift++;
	if ((limit >> shift) == 0)
		return NULL;
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return NULL;
	sp->limit = limit;
	sp->shift = shift;
	sp->segments = (uint32_t)(limit >> shift);
	sp->open = ARCHIVE_SPACE_NONE;
	sp->seg = calloc(sp->segments, sizeof(*sp->seg));
	sp->free_stack = calloc(sp->segments, sizeof(*sp->free_stack));
	if (sp->seg == NULL || sp->free_stack == NULL) {
		archive_space_destroy(sp);
		return NULL;
	}
	sp->st.segment_bytes = 1u << shift;
	sp->st.segments = sp->segments;
	return sp;
}

void archive_space_destroy(struct archive_space *sp)
{
	if (sp == NULL)
		return;
	free(sp->seg);
	free(sp->free_stack);
	free(sp);
}

static uint32_t segment_bytes(const struct archive_space *sp)
{
	return 1u << sp->shift;
}

uint32_t archive_space_room(struct archive_space *sp, uint32_t keep)
{
	uint32_t i;

	if (sp->open != ARCHIVE_SPACE_NONE) {
		if (sp->open_fill < segment_bytes(sp))
			return segment_bytes(sp) - sp->open_fill;
		/* Filled to its last byte: a 0 here would stall its user for
		 * good (nothing else closes it). */
		archive_space_close_open(sp);
	}
	if (archive_space_free_segments(sp) <= keep)
		return 0;
	if (sp->n_free != 0) {
		i = sp->free_stack[--sp->n_free];
		sp->st.reopened++;
	} else if (sp->untouched < sp->segments) {
		i = sp->untouched++;
	} else {
		return 0;
	}
	WE_ASSERT(sp->seg[i].state == ARCHIVE_SEGMENT_FREE && sp->seg[i].live == 0);
	sp->seg[i].state = ARCHIVE_SEGMENT_OPEN;
	sp->open = i;
	sp->open_fill = 0;
	return segment_bytes(sp);
}

uint64_t archive_space_take(struct archive_space *sp, uint32_t bytes)
{
	uint64_t offset;

	WE_ASSERT(sp->open != ARCHIVE_SPACE_NONE && bytes <= segment_bytes(sp) - sp->open_fill);
	offset = ((uint64_t)sp->open << sp->shift) + sp->open_fill;
	sp->open_fill += bytes;
	WE_ASSERT(sp->seg[sp->open].inflight < UINT16_MAX);
	sp->seg[sp->open].inflight++;
	sp->st.batches++;
	sp->st.batch_bytes += bytes;
	return offset;
}

static void note_if_empty(struct archive_space *sp, uint32_t i)
{
	const struct archive_segment *g = &sp->seg[i];

	if (g->state == ARCHIVE_SEGMENT_CLOSED && g->live == 0 && g->inflight == 0)
		sp->maybe_empty++;
}

void archive_space_close_open(struct archive_space *sp)
{
	uint32_t i = sp->open;

	if (i == ARCHIVE_SPACE_NONE)
		return;
	sp->seg[i].state = ARCHIVE_SEGMENT_CLOSED;
	sp->open = ARCHIVE_SPACE_NONE;
	note_if_empty(sp, i);
}

void archive_space_batch_done(struct archive_space *sp, uint64_t offset)
{
	uint32_t i = archive_space_segment_of(sp, offset);

	WE_ASSERT(i < sp->segments && sp->seg[i].inflight != 0);
	sp->seg[i].inflight--;
	note_if_empty(sp, i);
}

void archive_space_add(struct archive_space *sp, uint64_t offset, uint32_t bytes)
{
	uint32_t i = archive_space_segment_of(sp, offset);

	WE_ASSERT(i < sp->segments && sp->seg[i].state != ARCHIVE_SEGMENT_FREE);
	sp->seg[i].live += bytes;
	sp->st.live_bytes += bytes;
}

void archive_space_release(struct archive_space *sp, uint64_t offset, uint32_t bytes)
{
	uint32_t i = archive_space_segment_of(sp, offset);

	WE_ASSERT(i < sp->segments && sp->seg[i].live >= bytes);
	sp->seg[i].live -= bytes;
	sp->st.live_bytes -= bytes;
	if (sp->seg[i].live == 0)
		note_if_empty(sp, i);
}

static bool busy_in(const struct archive_space *sp, uint32_t i, const uint64_t *busy,
		    unsigned n_busy)
{
	for (unsigned k = 0; k < n_busy; k++)
		if (archive_space_segment_of(sp, busy[k]) == i)
			return true;
	return false;
}

uint32_t archive_space_reclaim(struct archive_space *sp, const uint64_t *busy, unsigned n_busy)
{
	uint32_t freed = 0;
	bool kept = false;

	if (sp->maybe_empty == 0)
		return 0;
	for (uint32_t i = 0; i < sp->untouched; i++) {
		struct archive_segment *g = &sp->seg[i];

		if (g->state != ARCHIVE_SEGMENT_CLOSED || g->live != 0 || g->inflight != 0)
			continue;
		if (busy_in(sp, i, busy, n_busy)) {
			kept = true; /* a GET still reads it: a later reclaim */
			continue;
		}
		g->state = ARCHIVE_SEGMENT_FREE;
		g->cleaning = 0;
		sp->free_stack[sp->n_free++] = i;
		freed++;
	}
	sp->maybe_empty = kept ? 1 : 0;
	sp->st.reclaimed += freed;
	return freed;
}

uint32_t archive_space_victim(const struct archive_space *sp, unsigned max_live_pct)
{
	uint64_t limit = (uint64_t)segment_bytes(sp) * max_live_pct / 100;
	uint32_t best = ARCHIVE_SPACE_NONE;

	for (uint32_t i = 0; i < sp->untouched; i++) {
		const struct archive_segment *g = &sp->seg[i];

		if (g->state != ARCHIVE_SEGMENT_CLOSED || g->cleaning || g->inflight != 0 ||
		    g->live == 0 || g->live > limit)
			continue;
		if (best == ARCHIVE_SPACE_NONE || g->live < sp->seg[best].live)
			best = i;
	}
	return best;
}

void archive_space_stats_get(const struct archive_space *sp, struct archive_space_stats *out)
{
	*out = sp->st;
	out->segments_free = sp->n_free;
	out->segments_used = sp->untouched - sp->n_free;
}

#define ARCHIVE_SPACE_STATS_FIELDS(X)                                                   \
	X(segment_bytes) X(segments) X(segments_used) X(segments_free) X(live_bytes)    \
	X(reclaimed) X(reopened) X(batches) X(batch_bytes)

void archive_space_publish(struct archive_space *sp)
{
	struct archive_space_stats now;

	archive_space_stats_get(sp, &now);
#define STORE(f) __atomic_store_n(&sp->published.f, now.f, __ATOMIC_RELAXED);
	ARCHIVE_SPACE_STATS_FIELDS(STORE)
#undef STORE
}

void archive_space_published(const struct archive_space *sp, struct archive_space_stats *out)
{
#define LOAD(f) out->f = __atomic_load_n(&sp->published.f, __ATOMIC_RELAXED);
	ARCHIVE_SPACE_STATS_FIELDS(LOAD)
#undef LOAD
}
