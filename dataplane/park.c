/* park.c - the park table: a FIFO ring of answers waiting for durability.
 *
 * DESIGN: one table per worker, touched only by that worker (no atomics).
 * The worker adds an answer when it executes a strong write and releases
 * answers from its service step when storage reports a new durable LSN.
 * Because a worker's LSNs grow with every record it logs, the answers are
 * parked in LSN order and a release only ever takes a prefix: O(released),
 * no search. See park.h for the entry layout.
 */
#include "park.h"

#include <errno.h>
#include <string.h>

#include "we_assert.h"

int park_table_init(struct park_table *t, struct park_entry *mem, uint32_t capacity)
{
	if (mem == NULL || capacity < 2 || (capacity & (capacity - 1)) != 0)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->entries = mem;
	t->mask = capacity - 1;
	return 0;
}

void park_add(struct park_table *t, const struct park_entry *e)
{
	WE_ASSERT(!park_full(t));
	WE_ASSERT(e->lsn >= t->last_lsn);
	t->entries[t->tail & t->mask] = *e;
	t->tail++;
	t->last_lsn = e->lsn;
}

unsigned park_release(struct park_table *t, uint64_t durable_lsn, struct park_entry *out,
		      unsigned max)
{
	unsigned n = 0;

	while (n < max && t->head != t->tail) {
		const struct park_entry *e = &t->entries[t->head & t->mask];

		if (e->lsn > durable_lsn)
			break;
		out[n++] = *e;
		t->head++;
	}
	return n;
}

unsigned park_fail_all(struct park_table *t, uint8_t status, struct park_entry *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && t->head != t->tail) {
		out[n] = t->entries[t->head & t->mask];
		out[n].status = status;
		n++;
		t->head++;
	}
	return n;
}

void park_return(struct park_table *t, unsigned n)
{
	WE_ASSERT(n <= t->mask + 1 - park_count(t));
	t->head -= n;
}

bool park_same_datagram(const struct park_entry *a, const struct park_entry *b)
{
	return a->echo == b->echo && a->udp.src_ip_be == b->udp.src_ip_be &&
	       a->udp.src_port == b->udp.src_port && a->udp.dst_port == b->udp.dst_port &&
	       a->udp.dst_ip_be == b->udp.dst_ip_be &&
	       memcmp(a->udp.src_mac, b->udp.src_mac, 6) == 0;
}
