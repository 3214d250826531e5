/* inflight.c - the table of outstanding requests.
 *
 * DESIGN: sequence numbers are handed out in order and each takes the ring
 * slot seq & mask. Completion marks a slot DONE out of order; the ring's tail
 * then skips over DONE slots, freeing them. A slot is reused only once the
 * tail has passed it. When the ring is full and its tail is still PENDING
 * (typically a request that was lost and waits for its timeout), the tail
 * entries are copied to the aside FIFO and their slots freed: a lost request
 * costs 32 bytes aside, instead of stalling the blaster for a whole timeout.
 * Aside entries stay in seq order (they leave the ring from its tail), so
 * lookup there is a binary search and the oldest is at the front. Only when
 * the aside FIFO is full too does the table run out of room; then sending
 * waits (in open loop the requests keep their intended times, so the wait is
 * measured).
 *
 * With 16-bit opaques (memcached), all outstanding seqs must differ in their
 * low 16 bits: room is also bounded by the id space, and an answer's id is
 * turned back into the one outstanding seq it can name.
 */
#include "inflight.h"

#include <errno.h>
#include <stdlib.h>

#include "we_assert.h"

int inflight_init(struct inflight *t, uint32_t capacity, uint32_t aside_capacity,
		  uint32_t opaque_mask, uint32_t first_seq)
{
	if (capacity < 2 || capacity > INFLIGHT_CAPACITY_MAX || (capacity & (capacity - 1)) ||
	    capacity - 1 > opaque_mask || aside_capacity < 1 ||
	    (aside_capacity & (aside_capacity - 1)) || aside_capacity > INFLIGHT_CAPACITY_MAX)
		return -EINVAL;
	t->e = calloc(capacity, sizeof(*t->e));
	t->aside = calloc(aside_capacity, sizeof(*t->aside));
	if (t->e == NULL || t->aside == NULL) {
		inflight_fini(t);
		return -ENOMEM;
	}
	t->mask = capacity - 1;
	t->aside_mask = aside_capacity - 1;
	t->opaque_mask = opaque_mask;
	t->head = t->tail = first_seq;
	t->aside_head = t->aside_tail = 0;
	t->outstanding = 0;
	return 0;
}

void inflight_fini(struct inflight *t)
{
	free(t->e);
	free(t->aside);
	t->e = NULL;
	t->aside = NULL;
}

static uint32_t inflight_aside_count(const struct inflight *t)
{
	return t->aside_head - t->aside_tail;
}

static struct inflight_entry *inflight_aside_at(const struct inflight *t, uint32_t i)
{
	return &t->aside[(t->aside_tail + i) & t->aside_mask];
}

static bool inflight_is_aside(const struct inflight *t, const struct inflight_entry *e)
{
	return e >= t->aside && e <= t->aside + t->aside_mask;
}

/* Free DONE slots at the ring's tail. */
static void inflight_ring_advance(struct inflight *t)
{
	while (t->tail != t->head) {
		struct inflight_entry *tail = &t->e[t->tail & t->mask];

		if (tail->state != INFLIGHT_DONE)
			break;
		tail->state = INFLIGHT_FREE;
		t->tail++;
	}
}

static void inflight_aside_advance(struct inflight *t)
{
	while (inflight_aside_count(t) && inflight_aside_at(t, 0)->state == INFLIGHT_DONE) {
		inflight_aside_at(t, 0)->state = INFLIGHT_FREE;
		t->aside_tail++;
	}
}

/* The ring is full: move its (PENDING) tail aside, then free the DONE slots
 * behind it, until a slot is free or the aside FIFO is full. Usually one
 * move frees everything up to the requests still genuinely in flight. */
static void inflight_compact(struct inflight *t)
{
	while (t->head - t->tail > t->mask && inflight_aside_count(t) <= t->aside_mask) {
		struct inflight_entry *tail = &t->e[t->tail & t->mask];

		WE_ASSERT(tail->state == INFLIGHT_PENDING);
		*inflight_aside_at(t, inflight_aside_count(t)) = *tail;
		t->aside_head++;
		tail->state = INFLIGHT_FREE;
		t->tail++;
		inflight_ring_advance(t);
	}
}

uint32_t inflight_room(struct inflight *t)
{
	uint32_t room, id_room;
	struct inflight_entry *oldest;

	if (t->head - t->tail > t->mask)
		inflight_compact(t);
	room = t->mask + 1 - (t->head - t->tail);
	oldest = inflight_oldest(t);
	if (oldest && t->opaque_mask != UINT32_MAX) {
		uint32_t span = t->head - oldest->seq;

		id_room = span > t->opaque_mask ? 0 : t->opaque_mask + 1 - span;
		if (id_room < room)
			room = id_room;
	}
	return room;
}

struct inflight_entry *inflight_alloc(struct inflight *t)
{
	struct inflight_entry *e;
	struct inflight_entry *oldest = inflight_oldest(t);

	if (t->head - t->tail > t->mask)
		return NULL;
	if (oldest && t->head - oldest->seq > t->opaque_mask)
		return NULL; /* the new id would name an outstanding request */
	e = &t->e[t->head & t->mask];
	WE_ASSERT(e->state == INFLIGHT_FREE);
	e->seq = t->head++;
	e->state = INFLIGHT_PENDING;
	e->vflags = 0;
	e->sent = 0;
	t->outstanding++;
	return e;
}

/* Binary search of the aside FIFO, which is in seq order. */
static struct inflight_entry *inflight_aside_find(struct inflight *t, uint32_t seq)
{
	uint32_t lo = 0, hi = inflight_aside_count(t);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct inflight_entry *e = inflight_aside_at(t, mid);
		int32_t d = (int32_t)(e->seq - seq);

		if (d == 0)
			return e->state == INFLIGHT_PENDING ? e : NULL;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct inflight_entry *inflight_by_seq(struct inflight *t, uint32_t seq)
{
	struct inflight_entry *e = &t->e[seq & t->mask];

	if (e->state == INFLIGHT_PENDING && e->seq == seq)
		return e;
	if (inflight_aside_count(t) == 0)
		return NULL;
	return inflight_aside_find(t, seq);
}

struct inflight_entry *inflight_find(struct inflight *t, uint32_t opaque)
{
	uint32_t last = t->head - 1;

	if (opaque > t->opaque_mask)
		return NULL;
	/* All outstanding seqs lie in (head - opaque space, head): the one
	 * with these low bits is the newest seq <= head - 1 that has them. */
	return inflight_by_seq(t, last - ((last - opaque) & t->opaque_mask));
}

void inflight_complete(struct inflight *t, struct inflight_entry *e)
{
	WE_ASSERT(e->state == INFLIGHT_PENDING);
	WE_ASSERT(t->outstanding > 0);
	e->state = INFLIGHT_DONE;
	t->outstanding--;
	if (inflight_is_aside(t, e))
		inflight_aside_advance(t);
	else
		inflight_ring_advance(t);
}

struct inflight_entry *inflight_oldest(struct inflight *t)
{
	struct inflight_entry *e;

	if (inflight_aside_count(t)) {
		e = inflight_aside_at(t, 0);
		WE_ASSERT(e->state == INFLIGHT_PENDING);
		return e;
	}
	if (t->tail == t->head)
		return NULL;
	e = &t->e[t->tail & t->mask];
	WE_ASSERT(e->state == INFLIGHT_PENDING);
	return e;
}
