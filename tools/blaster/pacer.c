/* pacer.c - open-loop pacing: the intended send time of each request.
 *
 * DESIGN: an open-loop generator decides when requests are due from the rate
 * alone, never from when answers come back. Each request carries its intended
 * time, and latency is measured from it (blaster.c), so when the target (or
 * the blaster itself) stalls, the requests that should have left meanwhile
 * are not silently postponed: they leave late and their wait counts. That is
 * the "coordinated omission" correction (Gil Tene): a closed loop or a paced
 * loop that measures from the actual send time hides exactly the stalls one
 * wants to see.
 *
 * Constant arrivals compute the i-th time as start + i * period from scratch,
 * so rounding never accumulates. Poisson arrivals add exponential gaps,
 * -ln(1 - u) * period, in double precision (53 bits of ns: 104 days).
 */
#include "pacer.h"

#include <errno.h>
#include <math.h>

int pacer_init(struct pacer *p, enum pacer_arrival arrival, double rate_per_s, uint64_t seed)
{
	if (!(rate_per_s > 0.0) || !(rate_per_s <= 1e10))
		return -EINVAL;
	p->arrival = arrival;
	p->rate_per_s = rate_per_s;
	p->period_ns = 1e9 / rate_per_s;
	rng_seed(&p->rng, seed, 2);
	pacer_start(p, 0);
	return 0;
}

void pacer_start(struct pacer *p, uint64_t start_ns)
{
	p->start_ns = start_ns;
	p->taken = 0;
	p->next_offset_ns = 0.0;
}

uint64_t pacer_next_ns(const struct pacer *p)
{
	return p->start_ns + (uint64_t)p->next_offset_ns;
}

static void pacer_advance(struct pacer *p)
{
	p->taken++;
	if (p->arrival == PACER_CONSTANT)
		p->next_offset_ns = (double)p->taken * p->period_ns;
	else
		p->next_offset_ns += -log1p(-rng_uniform01(&p->rng)) * p->period_ns;
}

unsigned pacer_take(struct pacer *p, uint64_t now_ns, unsigned max, uint64_t *intended_ns)
{
	unsigned n = 0;

	while (n < max) {
		uint64_t next = pacer_next_ns(p);

		if (next > now_ns)
			break;
		intended_ns[n++] = next;
		pacer_advance(p);
	}
	return n;
}

uint64_t pacer_backlog(const struct pacer *p, uint64_t now_ns)
{
	uint64_t next = pacer_next_ns(p);

	if (next > now_ns)
		return 0;
	if (p->arrival == PACER_CONSTANT) {
		uint64_t due = (uint64_t)((double)(now_ns - p->start_ns) / p->period_ns) + 1;

		return due > p->taken ? due - p->taken : 1;
	}
	return 1 + (uint64_t)((double)(now_ns - next) / p->period_ns);
}

uint64_t pacer_skip(struct pacer *p, uint64_t now_ns)
{
	uint64_t skipped = 0;

	if (pacer_next_ns(p) > now_ns)
		return 0;
	if (p->arrival == PACER_CONSTANT) {
		/* Jump close by arithmetic, then step over rounding. */
		uint64_t due = (uint64_t)((double)(now_ns - p->start_ns) / p->period_ns);

		if (due > p->taken + 1) {
			skipped = due - 1 - p->taken;
			p->taken = due - 1;
			p->next_offset_ns = (double)p->taken * p->period_ns;
		}
	}
	while (pacer_next_ns(p) <= now_ns && skipped < (1ull << 26)) {
		pacer_advance(p);
		skipped++;
	}
	if (pacer_next_ns(p) <= now_ns)
		skipped += pacer_backlog(p, now_ns);
	return skipped;
}
