/* inflight.c - the table of outstanding requests.
 *
 * DESIGN: sequence numbers are handed out in order and each takes the slot
 * seq & mask. Completion marks a slot DONE out of order; the tail then skips
 * over DONE slots, freeing them. A slot is reused only once the tail has
 * passed it, so the ring is full when head - tail == capacity even if most
 * requests in between are done: one lost answer holds its slot until it
 * times out. The blaster sizes the ring for rate x timeout (or the window),
 * so that only a burst of losses longer than the timeout can fill it, and a
 * full ring delays sending rather than dropping anything (in open loop the
 * delayed requests keep their intended times, so the wait is measured).
 */
#include "inflight.h"

#include <errno.h>
#include <stdlib.h>

#include "we_assert.h"

int inflight_init(struct inflight *t, uint32_t capacity, uint32_t first_seq)
{
	if (capacity < 2 || capacity > INFLIGHT_CAPACITY_MAX || (capacity & (capacity - 1)))
		return -EINVAL;
	t->e = calloc(capacity, sizeof(*t->e));
	if (t->e == NULL)
		return -ENOMEM;
	t->mask = capacity - 1;
	t->head = first_seq;
	t->tail = first_seq;
	t->outstanding = 0;
	return 0;
}

void inflight_fini(struct inflight *t)
{
	free(t->e);
	t->e = NULL;
}

struct inflight_entry *inflight_alloc(struct inflight *t)
{
	struct inflight_entry *e;

	if (inflight_room(t) == 0)
		return NULL;
	e = &t->e[t->head & t->mask];
	WE_ASSERT(e->state == INFLIGHT_FREE);
	e->seq = t->head++;
	e->state = INFLIGHT_PENDING;
	e->vflags = 0;
	e->sent = 0;
	t->outstanding++;
	return e;
}

struct inflight_entry *inflight_find(struct inflight *t, uint32_t opaque, uint32_t opaque_mask)
{
	struct inflight_entry *e = &t->e[opaque & t->mask];

	/* The ring must be no larger than the opaque space, or two outstanding
	 * requests could share an opaque. */
	WE_ASSERT(t->mask <= opaque_mask);
	if (e->state != INFLIGHT_PENDING || (e->seq & opaque_mask) != opaque)
		return NULL;
	return e;
}

struct inflight_entry *inflight_by_seq(struct inflight *t, uint32_t seq)
{
	return inflight_find(t, seq, UINT32_MAX);
}

void inflight_complete(struct inflight *t, struct inflight_entry *e)
{
	WE_ASSERT(e->state == INFLIGHT_PENDING);
	WE_ASSERT(t->outstanding > 0);
	e->state = INFLIGHT_DONE;
	t->outstanding--;
	while (t->tail != t->head) {
		struct inflight_entry *tail = &t->e[t->tail & t->mask];

		if (tail->state != INFLIGHT_DONE)
			break;
		tail->state = INFLIGHT_FREE;
		t->tail++;
	}
}

struct inflight_entry *inflight_oldest(struct inflight *t)
{
	struct inflight_entry *e;

	if (t->tail == t->head)
		return NULL;
	e = &t->e[t->tail & t->mask];
	WE_ASSERT(e->state == INFLIGHT_PENDING);
	return e;
}
