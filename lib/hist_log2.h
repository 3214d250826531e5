/* hist_log2.h - a histogram of uint64 values in power-of-two buckets (no DPDK).
 *
 *   hist_log2_bucket     inline        the bucket of a value: one bit scan
 *   hist_log2_record     inline        count one value (bucket, sum)
 *   hist_log2_count      hist_log2.c   how many values were recorded
 *   hist_log2_merge      hist_log2.c   add one histogram into another
 *   hist_log2_load       hist_log2.c   copy one another thread is writing (relaxed loads)
 *   hist_log2_quantile   hist_log2.c   the upper bound of the bucket holding quantile q
 *   hist_log2_upper      hist_log2.c   bucket i's upper bound (exclusive), in value units
 *
 * Bucket i holds the values v with floor(log2(v)) == i, i.e. [2^i, 2^(i+1));
 * 0 and 1 both go to bucket 0, and everything from 2^(HIST_LOG2_BUCKETS-1)
 * up to the last one. A worker records the TSC cycles of each loop
 * iteration that found work: one bit scan and one increment. Histograms of
 * several workers merge by adding buckets, which gives exactly the
 * histogram of the union of their values. A quantile is only known to the
 * bucket's precision (a factor of two); hist_log2_quantile answers the
 * bucket's upper bound, an estimate that never understates.
 */
#ifndef HIST_LOG2_H
#define HIST_LOG2_H

#include <stdint.h>

/* 48 buckets: the last starts at 2^47 TSC cycles, over 13 hours at 3 GHz. */
#define HIST_LOG2_BUCKETS 48

struct hist_log2 {
	uint64_t counts[HIST_LOG2_BUCKETS];
	uint64_t sum; /* of the recorded values (wraps after 2^64) */
};

static inline unsigned hist_log2_bucket(uint64_t v)
{
	unsigned i = 63u - (unsigned)__builtin_clzll(v | 1u);

	return i < HIST_LOG2_BUCKETS ? i : HIST_LOG2_BUCKETS - 1;
}

static inline void hist_log2_record(struct hist_log2 *h, uint64_t v)
{
	h->counts[hist_log2_bucket(v)]++;
	h->sum += v;
}

uint64_t hist_log2_count(const struct hist_log2 *h);
/* into += from, bucket by bucket (and the sums). */
void hist_log2_merge(struct hist_log2 *into, const struct hist_log2 *from);
/* *out = *h field by field with relaxed atomic loads: safe while h's one
 * writer records into it (each field is whole; the whole may mix two
 * moments, which is fine for a histogram). */
void hist_log2_load(const struct hist_log2 *h, struct hist_log2 *out);
/* The exclusive upper bound of bucket i: 2^(i+1). (The last bucket also
 * holds larger values; its bound is still given as 2^HIST_LOG2_BUCKETS.) */
uint64_t hist_log2_upper(unsigned i);
/* The upper bound of the bucket that holds the q-quantile (0 <= q <= 1) of
 * the recorded values: at least a fraction q of them are below it. 0 for
 * an empty histogram. */
uint64_t hist_log2_quantile(const struct hist_log2 *h, double q);
/* Bucket i's upper bound in seconds, for values in cycles of a clock of hz. */
double hist_log2_upper_s(unsigned i, uint64_t hz);

#endif
