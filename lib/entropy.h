/* entropy.h - how evenly load spreads over bins: Shannon entropy, its
 * normalised form and max/mean (no DPDK).
 *
 *   entropy_bits         entropy.c   H = -sum p_i log2 p_i of a count vector
 *   entropy_normalised   entropy.c   H / log2(n) over all n bins, in 0..1
 *   entropy_imbalance    entropy.c   max / mean over all n bins, >= 1
 *   entropy_of_topk      entropy.c   H estimated from top counts plus the rest's mass
 *   entropy_of_sketch    entropy.c   the same from a topk_sketch
 *
 * Bins are e.g. regions or workers (counts of requests each), or keys.
 * Zero counts contribute nothing to H (p log p -> 0).
 *
 * The normaliser is log2 of the number of bins n, zero bins included: an idle
 * worker or a region nobody asks for IS the imbalance to show. Normalising
 * by the non-zero bins would call "all load on 1 of 8 workers" perfectly even
 * (and be 0/0). So 1 means uniform over all n bins, 0 means all in one bin.
 * Degenerate inputs (n <= 1, or no counts at all) have nothing to be uneven
 * about and answer 1 (normalised) and 1 (imbalance); H is then 0.
 */
#ifndef ENTROPY_H
#define ENTROPY_H

#include <stddef.h>
#include <stdint.h>

struct topk_sketch;

double entropy_bits(const uint64_t *counts, size_t n);
double entropy_normalised(const uint64_t *counts, size_t n);
double entropy_imbalance(const uint64_t *counts, size_t n);

/* The entropy of a distribution of which only the largest weights are known:
 * top[0..n) (any order), out of total. The rest, R = total - sum(top), is
 * assumed spread evenly over ceil(R / rest_max) keys, rest_max being the
 * most any other key can have (for space-saving: the sketch's minimum).
 * That is the fewest keys R can be, so the rest's share is a lower estimate
 * of its entropy; the true H is >= the estimate when the top is exact. With
 * rest_max 0 (nothing else can be large) R is counted as one bin. */
double entropy_of_topk(const uint64_t *top, size_t n, uint64_t total, uint64_t rest_max);

/* entropy_of_topk of a sketch: top = each entry's guaranteed part
 * (count - error), total = the sketch's total, rest_max = its minimum count.
 * The overestimated parts (the errors) thus go to the rest. */
double entropy_of_sketch(const struct topk_sketch *s);

#endif
