/* pacer.h - when requests are due: open-loop pacing and closed-loop window
 * (no DPDK, no clock: time is a parameter, so tests drive it by hand).
 *
 *   pacer_*         open loop: the intended send time of every request at a
 *                   fixed rate, constant or Poisson (exponential gaps)
 *   pacer_window_*  closed loop: at most `max` requests outstanding
 */
#ifndef BLASTER_PACER_H
#define BLASTER_PACER_H

#include <stdint.h>

#include "rng.h"
#include "we_assert.h"
#include "we_compiler.h"

enum pacer_arrival {
	PACER_CONSTANT = 0, /* one request every 1/rate seconds */
	PACER_POISSON,      /* exponential gaps of mean 1/rate: a Poisson process */
};

struct pacer {
	enum pacer_arrival arrival;
	double rate_per_s;
	double period_ns;
	uint64_t start_ns;
	uint64_t taken;        /* requests handed out since pacer_start */
	double next_offset_ns; /* intended time of the next one, from start_ns */
	struct rng rng;
};

/* rate_per_s > 0. Returns 0 or -EINVAL. */
int pacer_init(struct pacer *p, enum pacer_arrival arrival, double rate_per_s,
	       uint64_t seed) we_must_check;
/* The first request is due at start_ns. */
void pacer_start(struct pacer *p, uint64_t start_ns);
uint64_t pacer_next_ns(const struct pacer *p);
/* Hand out up to max requests due at or before now_ns, writing their intended
 * send times (non-decreasing) to intended_ns[]; returns how many. */
unsigned pacer_take(struct pacer *p, uint64_t now_ns, unsigned max, uint64_t *intended_ns);
/* Requests due by now_ns and not taken (exact for constant arrivals, the
 * expected number for Poisson). */
uint64_t pacer_backlog(const struct pacer *p, uint64_t now_ns);
/* Skip every request due by now_ns and return how many there were: exact
 * (Poisson gaps are drawn, up to 2^26 of them, then estimated). For counting
 * what an open loop never sent. */
uint64_t pacer_skip(struct pacer *p, uint64_t now_ns);

struct pacer_window {
	uint32_t max;
	uint32_t outstanding;
};

static inline void pacer_window_init(struct pacer_window *w, uint32_t max)
{
	w->max = max;
	w->outstanding = 0;
}

static inline uint32_t pacer_window_room(const struct pacer_window *w)
{
	return w->outstanding < w->max ? w->max - w->outstanding : 0;
}

static inline void pacer_window_acquire(struct pacer_window *w, uint32_t n)
{
	WE_ASSERT(n <= pacer_window_room(w));
	w->outstanding += n;
}

static inline void pacer_window_release(struct pacer_window *w, uint32_t n)
{
	WE_ASSERT(n <= w->outstanding);
	w->outstanding -= n;
}

#endif
