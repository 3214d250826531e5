/* zipf.h - Zipf(theta) key ranks over N keys, exact, O(1) per draw, no tables.
 *
 * zipf_draw() returns rank r in [0, n) with probability
 *   p(r) = (1 / (r + 1)^theta) / zeta(n, theta),  zeta(n, theta) = sum_{k=1..n} k^-theta
 * so rank 0 is the most popular key. theta = 0 is uniform. See zipf.c.
 */
#ifndef BLASTER_ZIPF_H
#define BLASTER_ZIPF_H

#include <stdint.h>

#include "rng.h"
#include "we_compiler.h"

/* Above this the tail ranks fall below double precision (h(k) vanishes next to
 * H), so the squeeze could no longer be argued; nobody benchmarks with more. */
#define ZIPF_THETA_MAX 3.0

struct zipf {
	uint64_t n;
	double theta;
	double h_x1;      /* H(1.5) - h(1): lower end of the inverted hat's area */
	double h_n;       /* H(n + 0.5): upper end */
	double squeeze;   /* accept at once when k - x <= squeeze (see zipf.c) */
};

/* n >= 1, 0 <= theta <= ZIPF_THETA_MAX. Returns 0 or -EINVAL. */
int zipf_init(struct zipf *z, uint64_t n, double theta) we_must_check;

uint64_t zipf_draw(const struct zipf *z, struct rng *r);

/* zeta(n, theta) by direct summation (O(n)); for tests and reports. */
double zipf_zeta(uint64_t n, double theta);

#endif
