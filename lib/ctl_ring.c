/* ctl_ring.c - the per-worker control ring (see ctl_ring.h).
 *
 * DESIGN: cell i of position p is empty for p when seq == p and full when
 * seq == p + 1; the consumer frees it for position p + capacity. A producer
 * that loads the tail, finds its cell empty and wins the compare-and-swap
 * owns the cell; it writes the message and stores seq with release order, so
 * the consumer, loading seq with acquire order, sees the whole message. A
 * producer that finds the cell still full (seq < p) sees a full ring. Nothing
 * here blocks or allocates; a stalled producer between its claim and its
 * publish holds back later messages (the consumer stops at the unpublished
 * cell), never loses them.
 */
#include "ctl_ring.h"

#include <errno.h>
#include <string.h>

int ctl_ring_init(struct ctl_ring *r, void *mem, uint32_t capacity)
{
	if (mem == NULL || capacity < 2 || (capacity & (capacity - 1)) != 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->cells = mem;
	r->mask = capacity - 1;
	for (uint32_t i = 0; i < capacity; i++) {
		atomic_init(&r->cells[i].seq, i);
		memset(&r->cells[i].msg, 0, sizeof(r->cells[i].msg));
	}
	atomic_init(&r->tail, 0);
	atomic_init(&r->refused, 0);
	return 0;
}

int ctl_ring_post(struct ctl_ring *r, const struct ctl_msg *m)
{
	uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (;;) {
		struct ctl_cell *c = &r->cells[pos & r->mask];
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);

		if (seq == pos) {
			if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				c->msg = *m;
				atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
				return 0;
			}
			/* pos was reloaded by the failed exchange */
		} else if (seq < pos) {
			atomic_fetch_add_explicit(&r->refused, 1, memory_order_relaxed);
			return -EAGAIN;
		} else {
			pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
		}
	}
}

unsigned ctl_ring_take(struct ctl_ring *r, struct ctl_msg *out, unsigned max)
{
	unsigned n = 0;

	while (n < max) {
		struct ctl_cell *c = &r->cells[r->head & r->mask];

		if (atomic_load_explicit(&c->seq, memory_order_acquire) != r->head + 1)
			break;
		out[n++] = c->msg;
		atomic_store_explicit(&c->seq, r->head + r->mask + 1, memory_order_release);
		r->head++;
	}
	return n;
}
