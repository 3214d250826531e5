/* fetch_table.c - GETs waiting for a value the disk tier holds. */
#include "fetch_table.h"

#include <string.h>

#include "we_assert.h"

void fetch_table_init(struct fetch_table *t)
{
	memset(t, 0, sizeof(*t));
	/* Lowest tickets on top: a quiet worker keeps using the same cells. */
	for (uint32_t i = 0; i < FETCH_TABLE_CAP; i++)
		t->free_stack[i] = (uint16_t)(FETCH_TABLE_CAP - 1 - i);
	t->n_free = FETCH_TABLE_CAP;
}

int fetch_add(struct fetch_table *t, const struct fetch_entry *e)
{
	uint16_t ticket;

	if (t->n_free == 0)
		return -1;
	ticket = t->free_stack[--t->n_free];
	t->cells[ticket] = *e;
	WE_ASSERT(fetch_queued(t) < FETCH_TABLE_CAP);
	t->queue[t->q_tail++ % FETCH_TABLE_CAP] = ticket;
	return ticket;
}

int fetch_next_queued(struct fetch_table *t)
{
	if (t->q_head == t->q_tail)
		return -1;
	return t->queue[t->q_head++ % FETCH_TABLE_CAP];
}

void fetch_requeue(struct fetch_table *t, uint16_t ticket)
{
	WE_ASSERT(fetch_queued(t) < FETCH_TABLE_CAP);
	t->queue[--t->q_head % FETCH_TABLE_CAP] = ticket;
}

void fetch_finish(struct fetch_table *t, uint16_t ticket)
{
	WE_ASSERT(ticket < FETCH_TABLE_CAP && t->n_free < FETCH_TABLE_CAP);
	t->free_stack[t->n_free++] = ticket;
}

unsigned fetch_refs_in_use(const struct fetch_table *t, uint64_t *offsets)
{
	bool free_cell[FETCH_TABLE_CAP] = {false};
	unsigned n = 0;

	for (uint32_t i = 0; i < t->n_free; i++)
		free_cell[t->free_stack[i]] = true;
	for (uint32_t i = 0; i < FETCH_TABLE_CAP; i++)
		if (!free_cell[i])
			offsets[n++] = t->cells[i].ref.offset;
	return n;
}
